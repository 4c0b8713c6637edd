# Observability: /api/health/ for load balancers (200, and 503 with
# PostgreSQL stopped), request ids (nginx's or the client's, in the answer,
# the logs and a 5xx body), the log lines' fields, and error reports to a
# Sentry-compatible service (a fake one on loopback): a forced 500 and a
# job that gives up, with their ids, rate limited, never holding up the
# answer.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use DandiTest;
use FakeSentry;

my $sentry = FakeSentry->start;
# own_pg: it stops PostgreSQL (the run's shared cluster must stay up).
# One worker: the rate limit is per process.
my $t = DandiTest->new(s3 => 1, workers => 1, own_pg => 1, env => {
	DANDI_SENTRY_DSN => $sentry->dsn('publickey0123', 3),
	DANDI_SENTRY_ENVIRONMENT => 'test',
	DANDI_REQUEST_LOG => 'all',
});
my $alice = $t->user('alice', first => 'Alice');
my ($alice_id) = map { $_->[0] } $t->psql("SELECT id FROM users WHERE username = 'alice'");

sub h { my ($r, $n) = @_; my $v = $r->{headers}{ lc $n }; return ref $v ? join(', ', @$v) : $v }

# The API's log lines since the last call (JSON each, as parsed).
my $seen = 0;
sub new_log_lines {
	open(my $f, '<:raw', $t->dir . '/api.log') or return ();
	my @l = <$f>;
	my @new = @l[$seen .. $#l];
	$seen = @l;
	return map { decode_json($_) } @new;
}

# --- health ------------------------------------------------------------------------
my $r = $t->get('/api/health/');
is($r->{status}, 200, 'health: 200');
is_deeply($r->{json}, { status => 'ok', database => 'ok' }, '... database ok');
is(h($r, 'Cache-Control'), 'no-store', '... never cached');
ok(!defined h($r, 'ETag'), '... and no ETag (no 304 for a health check)');
like(h($r, 'Content-Type'), qr{^application/json}, '... JSON');
is($t->request('HEAD', '/api/health/')->{status}, 200, 'HEAD health: 200');
$r = $t->get('/api/health/?deep=1');
is($r->{status}, 200, 'deep health: 200');
is_deeply($r->{json}, { status => 'ok', database => 'ok', s3 => 'ok' }, '... database and S3 ok');

$t->stop_pg;
my $t0 = time;
$r = $t->get('/api/health/');
my $took = time - $t0;
is($r->{status}, 503, 'PostgreSQL stopped: health 503');
is($r->{json}{status}, 'unavailable', '... JSON status unavailable');
is($r->{json}{database}, 'unavailable', '... the database named');
is($r->{json}{request_id}, h($r, 'X-Request-Id'), '... with the request id');
is(h($r, 'Cache-Control'), 'no-store', '... never cached');
cmp_ok($took, '<', 2, '... and fast');
$t->start_pg;
my $back;
for (1 .. 50) {
	$back = $t->get('/api/health/');
	last if $back->{status} == 200;
	sleep 0.1;
}
is($back->{status}, 200, 'PostgreSQL started again: health 200');

# A bucket that is not there: deep health 503, plain health still 200.
{
	my $bucket = $t->env->{DANDI_S3_BUCKET};
	$t->stop_api;
	local $t->env->{DANDI_S3_BUCKET} = "$bucket-missing";
	$t->start_api;
	$r = $t->get('/api/health/?deep=1');
	is($r->{status}, 503, 'a missing bucket: deep health 503');
	is_deeply([ @{ $r->{json} }{qw(status database s3)} ], [ 'unavailable', 'ok', 'unavailable' ], '... S3 named');
	is($t->get('/api/health/')->{status}, 200, '... plain health 200');
	$t->stop_api;
}
$t->start_api;
is(scalar @{ $sentry->events }, 0, 'no error report for the 503s (health tells those)');

# --- request ids -------------------------------------------------------------------
new_log_lines();
$r = $t->get('/api/info/');
my $rid = h($r, 'X-Request-Id');
like($rid // '', qr/^[0-9a-f]{32}$/, "nginx's \$request_id when the client sends none");
$r = $t->get('/api/info/', headers => { 'X-Request-Id' => 'lb-abc.123_x' });
is(h($r, 'X-Request-Id'), 'lb-abc.123_x', "a sane client id is kept");
$r = $t->get('/api/info/', headers => { 'X-Request-Id' => 'no spaces allowed' });
like(h($r, 'X-Request-Id'), qr/^[0-9a-f]{32}$/, 'an insane one is replaced');
$r = $t->get('/api/info/', headers => { 'X-Request-Id' => 'x' x 65 });
like(h($r, 'X-Request-Id'), qr/^[0-9a-f]{32}$/, 'so is one of 65 characters');
$r = $t->get('/api/dandisets/999999/versions/draft/', headers => { 'X-Request-Id' => 'rid-404' });
is(h($r, 'X-Request-Id'), 'rid-404', 'errors carry it too');
ok(!exists $r->{json}{request_id}, "... a 4xx body stays the original's");
$r = $t->get('/no/such/api/path/', headers => { 'X-Request-Id' => 'rid-nginx' });
my @access = grep { $_->{level} eq 'access' } new_log_lines();
is_deeply([ map { $_->{request_id} } @access ], [ $rid, 'lb-abc.123_x', (map { $_->{request_id} } @access[2, 3]), 'rid-404' ],
    'the access lines name each request id');
like($access[2]{request_id}, qr/^[0-9a-f]{32}$/, '... the replaced ones as answered');
is($access[0]{route}, '/api/info/', 'the access line names the route');
is($access[4]{route}, '/api/dandisets/*/versions/*/', '... with its captures as *');
# A page from the page cache (nginx sends the file) still names its id.
my $ds = $t->post('/api/dandisets/', { name => 'Cached', metadata => {} }, token => $alice)->{json}{identifier};
$t->get("/api/dandisets/$ds/versions/draft/assets/");
$r = $t->get("/api/dandisets/$ds/versions/draft/assets/", headers => { 'X-Request-Id' => 'rid-cached' });
is(h($r, 'X-Dandi-Page-Cache'), 'hit', 'a page cache hit');
is(h($r, 'X-Request-Id'), 'rid-cached', '... answers its request id');
# nginx's own answers carry it too (here a request head over 20,000 bytes).
$r = $t->get('/api/info/', headers => { 'X-Request-Id' => 'rid-431', 'X-Pad' => 'a' x 25000 });
is_deeply([ $r->{status}, h($r, 'X-Request-Id') ], [ 431, 'rid-431' ], "nginx's own 431 answers the request id");
# nginx's access log names the request id too.
my $nginx_log = do { local (@ARGV, $/) = ($t->dir . '/nginx/access.log'); <> };
like($nginx_log, qr/ rid-cached \d/, "nginx's access log names the request id");

# --- the log lines' fields ---------------------------------------------------------
new_log_lines();
$r = $t->get('/api/users/me/', token => $alice, headers => { 'X-Request-Id' => 'rid-me' });
my ($line) = grep { $_->{level} eq 'access' } new_log_lines();
is_deeply([ @$line{qw(level method uri status request_id route user user_id)} ],
    [ 'access', 'GET', '/api/users/me/', 200, 'rid-me', '/api/users/me/', 'alice', $alice_id ],
    'an access line: level, method, URI, status, request id, route, user and user id');
like($line->{ts}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, '... the time');
like($line->{ms}, qr/^\d+(\.\d+)?$/, '... the milliseconds');
is($line->{bytes}, length $r->{body}, '... the bytes');
is($line->{prog}, 'dandi-api', '... the program');

# --- a forced 500 reaches the fake Sentry --------------------------------------------
# Honestly forced: the test's own database refuses the insert of one name.
$t->psql(<<'SQL');
CREATE FUNCTION t_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.name = 'Boom' THEN
		RAISE EXCEPTION 'refused by the test''s trigger';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER t_refuse_boom BEFORE INSERT ON versions FOR EACH ROW EXECUTE FUNCTION t_refuse_boom();
SQL
$sentry->clear;
new_log_lines();
$r = $t->post('/api/dandisets/', { name => 'Boom', metadata => {} }, token => $alice);
is($r->{status}, 500, 'a forced 500');
$rid = h($r, 'X-Request-Id');
like($rid, qr/^[0-9a-f]{32}$/, '... with its X-Request-Id');
is_deeply($r->{json}, { detail => 'Internal server error.', request_id => $rid },
    '... and the request id in the JSON body');
my $events = $sentry->wait_events(1);
is(scalar @$events, 1, 'the fake Sentry got one event');
my ($req) = @{ $sentry->requests };
is($req->{path}, '/api/3/envelope/', "... at the project's envelope endpoint");
like($req->{auth}, qr/^Sentry sentry_version=7, sentry_key=publickey0123, sentry_client=dandi-archive-c\/\S+$/,
    '... with X-Sentry-Auth');
is($req->{content_type}, 'application/x-sentry-envelope', '... as an envelope');
my $ev = $events->[0];
is($req->{envelope}{header}{event_id}, $ev->{event_id}, "... whose header names the event");
like($ev->{event_id}, qr/^[0-9a-f]{32}$/, 'event_id: 32 hex digits');
is($ev->{tags}{request_id}, $rid, "the event's request id is the answer's");
is($ev->{tags}{route}, '/api/dandisets/', '... its route pattern');
is($ev->{tags}{status}, '500', '... its status');
is($ev->{transaction}, 'POST /api/dandisets/', '... its transaction');
is($ev->{user}{id}, $alice_id, '... the user by id');
is($ev->{environment}, 'test', '... the environment');
like($ev->{release}, qr/^dandi-archive-c@\d+\.\d+\.\d+/, '... the release');
is($ev->{platform}, 'c', '... platform c');
is($ev->{level}, 'error', '... level error');
like($ev->{message}{formatted}, qr{^500 on POST /api/dandisets/: sql error P0001: .*refused by the test's trigger},
    '... the message: status, route and the error logged');
ok((grep { $_->{message} =~ /refused by the test's trigger/ } @{ $ev->{breadcrumbs}{values} }),
    "... the request's logged errors as breadcrumbs");
unlike($req->{body}, qr/\Q$alice\E/, '... never the token');
unlike($req->{body}, qr/"Boom"|metadata/, '... nor the body');
# The worker logs the report's fate when Sentry has answered: after the event arrived.
my @lines = new_log_lines();
for (1 .. 100) {
	last if grep { ($_->{msg} // '') =~ /^error report / } @lines;
	sleep 0.05;
	push @lines, new_log_lines();
}
my ($err) = grep { $_->{level} eq 'error' && $_->{msg} =~ /P0001/ } @lines;
is($err->{request_id}, $rid, "the error's log line names the request id");
is($err->{route}, '/api/dandisets/', '... and the route');
ok((grep { $_->{level} eq 'info' && $_->{msg} =~ /^error report $ev->{event_id} sent$/ && $_->{request_id} eq $rid } @lines),
    'the log says the report went, with the event id');

# --- the rate limit: 10 at once per worker, then one per 6 s ------------------------
$t->stop_api;
$t->start_api;
$sentry->clear;
my @ids;
$t0 = time;
for (1 .. 14) {
	$r = $t->post('/api/dandisets/', { name => 'Boom', metadata => {} }, token => $alice);
	push @ids, h($r, 'X-Request-Id') if $r->{status} == 500;
}
is(scalar @ids, 14, '14 forced 500s');
my $refills = int((time - $t0) / 6) + 1;	# tokens that may have come back meanwhile
$events = $sentry->wait_events(14, 3);
ok(@$events >= 10 && @$events <= 10 + $refills,
    "the fake Sentry got 10 (and up to $refills that came back meanwhile): " . scalar @$events);
is_deeply([ map { $_->{tags}{request_id} } @$events ], [ @ids[0 .. $#$events] ], '... the first ones, in order');
ok((grep { $_->{level} eq 'warn' && $_->{msg} =~ /error report dropped/ } new_log_lines()),
    'the log says what was dropped');

# --- a slow Sentry holds up no answer ------------------------------------------------
$t->stop_api;
$t->start_api;
$sentry->clear;
$sentry->delay(6);
$t0 = time;
$r = $t->post('/api/dandisets/', { name => 'Boom', metadata => {} }, token => $alice);
$took = time - $t0;
is($r->{status}, 500, 'a 500 while Sentry hangs');
cmp_ok($took, '<', 2.5, "... answered at once (the report goes after the answer): ${took}s");
$t0 = time;
is($t->get('/api/info/')->{status}, 200, 'the next request (same worker)');
$took = time - $t0;
cmp_ok($took, '<', 5, "... waits at most the report's time limit (2 s), not Sentry's 6 s: ${took}s");
ok((grep { $_->{level} eq 'warn' && $_->{msg} =~ /^error report [0-9a-f]{32} not sent/ } new_log_lines()),
    'the log says the report was not sent');
$t0 = time;
$t->post('/api/dandisets/', { name => 'Boom', metadata => {} }, token => $alice);
is($t->get('/api/info/')->{status}, 200, 'after a failed send');
cmp_ok(time - $t0, '<', 1.9, '... reports pause: no more waiting');
$sentry->delay(undef);
sleep 5;	# the fake answers one at a time: let it finish the slow one

# --- a job that gives up -----------------------------------------------------------
$sentry->clear;
new_log_lines();
my ($job) = map { $_->[0] } $t->psql(q{INSERT INTO jobs (kind, args) VALUES ('doi_delete', '{"key": "x"}') RETURNING id});
$t->jobs('run');
is_deeply([ $t->psql("SELECT state FROM jobs WHERE id = $job") ], [ [ 'failed' ] ], 'the job failed for good');
$events = $sentry->wait_events(1);
is(scalar @$events, 1, 'the fake Sentry got its event');
$ev = $events->[0];
is($ev->{logger}, 'dandi-jobs', '... from dandi-jobs');
is($ev->{tags}{job_id}, $job, '... naming the job');
is($ev->{tags}{job_kind}, 'doi_delete', '... and its kind');
like($ev->{message}{formatted}, qr/^job $job \(doi_delete\) failed for good: doi_delete job without a doi$/, '... saying why');
($line) = grep { ($_->{msg} // '') =~ /failed for good/ } new_log_lines();
is($line->{job}, $job, "the job's log line names it");

# --- a worker that crashes (nginx answers its request 502) ------------------------------
$sentry->clear;
sub parent_of {
	open(my $f, '<', "/proc/$_[0]/stat") or return 0;
	return (<$f> // '') =~ /^\d+ \(.*\) \S (\d+) /s ? $1 : 0;
}
my ($worker) = grep { parent_of($_) == $t->api_pid } map { m{/proc/(\d+)/stat} ? $1 : () } glob '/proc/[0-9]*/stat';
ok($worker, "the pool's worker");
kill 'SEGV', $worker;
$events = $sentry->wait_events(1);
is(scalar @$events, 1, 'the fake Sentry got an event from the supervisor');
like($events->[0]{message}{formatted}, qr/^worker $worker killed by signal 11 \(Segmentation fault\)$/,
    '... naming the worker and the signal');
is($t->get('/api/info/')->{status}, 200, 'its successor serves');

# A DSN that is not one stops the programs at start, without showing it.
my ($out, $errs, $rc) = $t->run_cmd('env', 'DANDI_SENTRY_DSN=https://nokey.example.org/1',
    DandiTest->build . '/src/dandi-api', '-s', $t->dir . '/run/other.sock', '-n', 1);
isnt($rc, 0, 'a bad sentry_dsn: dandi-api does not start');
like("$out$errs", qr/sentry_dsn is not a DSN/, '... and says why');

done_testing;
