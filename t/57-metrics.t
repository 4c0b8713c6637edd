# GET /metrics: the Prometheus text format as Prometheus parses it
# (promtool check metrics, when Debian's prometheus package is there), who
# may scrape, and exact counter deltas between scrapes around known
# requests (200s, a 404, a 400, 401s, a 413), S3 requests, dandi-jobs
# runs, a job being worked, a worker killed and PostgreSQL stopped; the
# alert rules (promtool check rules) and the Grafana dashboard of conf/
# name only what is exposed; metrics = off.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use DandiTest;

my $t = DandiTest->new(s3 => 1, workers => 2, own_pg => 1, env => { DANDI_MAX_BODY => 4096 });
my $alice = $t->user('alice', status => 'APPROVED');

# The samples of an exposition, keyed "name{l1=v1,l2=v2}" (labels sorted),
# and the TYPE of each family; every line is checked against the format.
sub parse {
	my ($body) = @_;
	my (%v, %type, @bad);
	for my $line (split /\n/, $body) {
		if ($line =~ /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram)$/) {
			push @bad, "TYPE twice: $line" if $type{$1}++;
			$type{$1} = $2;
			next;
		}
		next if $line =~ /^# HELP [a-zA-Z_:][\w:]* \S/;
		my ($name, $labels, $val) = $line =~ /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/
		    or push(@bad, $line), next;
		my %l;
		for (grep { length } split /(?<=")(?:,)/, $labels // '') {
			/^([a-zA-Z_]\w*)="((?:[^"\\\n]|\\[\\"n])*)"$/ or push(@bad, $line), next;
			(my $x = $2) =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
			$l{$1} = $x;
		}
		push @bad, "not a number: $line" unless $val =~ /^[-+]?(\d+\.?\d*(e[-+]?\d+)?|\+Inf|NaN)$/i;
		my $family = $name;
		$family =~ s/_(bucket|sum|count)$// unless $type{$name};
		push @bad, "no TYPE before: $line" unless $type{$family};
		my $key = $name . '{' . join(',', map { "$_=$l{$_}" } sort keys %l) . '}';
		push @bad, "twice: $line" if exists $v{$key};
		$v{$key} = $val;
	}
	return { v => \%v, type => \%type, bad => \@bad };
}

sub scrape {
	my (%o) = @_;
	my $r = $t->get('/metrics', %o);
	die "GET /metrics: $r->{status} $r->{body}" unless $r->{status} == 200;
	my $s = parse($r->{body});
	$s->{body} = $r->{body};
	$s->{headers} = $r->{headers};
	return $s;
}

# A sample's value (0 when the series is not there).
sub val {
	my ($s, $name, %l) = @_;
	return $s->{v}{ $name . '{' . join(',', map { "$_=$l{$_}" } sort keys %l) . '}' } // 0;
}
sub delta { my ($a, $b, @k) = @_; val($b, @k) - val($a, @k) }

# --- the format, who may scrape ---------------------------------------------------

my $s0 = scrape();
is_deeply($s0->{bad}, [], 'every line of the exposition parses');
like($s0->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'the text format 0.0.4');
is(val($s0, 'dandi_http_requests_in_flight'), 1, 'in flight: the scrape itself');
is(val($s0, 'dandi_api_workers'), 2, 'two workers');
is(val($s0, 'dandi_db_up'), 1, 'the database was read');
is($s0->{type}{dandi_http_requests_total}, 'counter', 'requests: a counter');
is($s0->{type}{dandi_http_request_duration_seconds}, 'histogram', 'latency: a histogram');
SKIP: {
	skip 'promtool (Debian package prometheus) is not installed', 1 unless -x '/usr/bin/promtool';
	my $f = $t->dir . '/scrape.txt';
	open(my $fh, '>', $f) or die;
	print $fh $s0->{body};
	close $fh;
	my ($out, $err, $rc) = $t->run_cmd('sh', '-c', "/usr/bin/promtool check metrics < $f");
	is($rc, 0, 'promtool check metrics: no problem') or diag("$out$err");
}

my $r = $t->get('/metrics', from => '127.0.0.2');
is($r->{status}, 403, 'another address: 403 (nginx)');
is_deeply($r->{json}, { detail => 'Metrics are not available to this address.' }, '... in JSON');
is($t->get('/metrics', token => 'nonsense')->{status}, 401, 'a bad token is refused as on every route');

# --- requests by route, method, status --------------------------------------------

$s0 = scrape();
is($t->get('/api/info/')->{status}, 200, 'info') for 1 .. 3;
is($t->request('HEAD', '/api/info/')->{status}, 200, 'HEAD info');
is($t->get('/api/dandisets/999999/')->{status}, 404, 'no such dandiset: 404');
is($t->get('/api/nothing-here/')->{status}, 404, 'no route: 404');
is($t->get('/api/schemas/')->{status}, 400, 'schemas without model: 400');
is($t->get('/api/users/me/')->{status}, 401, 'me, anonymous: 401');
is($t->get('/api/dandisets/', token => 'bad')->{status}, 401, 'a bad token: 401 before routing');
is($t->post('/api/dandisets/', { name => 'x' x 5000, metadata => {} }, token => $alice)->{status}, 413,
    'a body over max_body: 413');
is($t->request('DELETE', '/api/info/')->{status}, 405, 'a method the route lacks: 405');
my $s1 = scrape();
my $R = 'dandi_http_requests_total';
my %want = (
	'/api/info/ GET 200' => 3, '/api/info/ HEAD 200' => 1,
	'/api/dandisets/{dandiset_id}/ GET 404' => 1, 'unmatched GET 404' => 1, '/api/schemas/ GET 400' => 1,
	'/api/users/me/ GET 401' => 1, '/api/dandisets/ GET 401' => 1, 'unmatched POST 413' => 1,
	'unmatched DELETE 405' => 1, '/metrics GET 200' => 1,
);
for my $k (sort keys %want) {
	my ($route, $m, $st) = split ' ', $k;
	is(delta($s0, $s1, $R, route => $route, method => $m, status => $st), $want{$k}, "requests: $k +$want{$k}");
}
my $total = sub { my ($s) = @_; my $n = 0; $n += $s->{v}{$_} for grep { /^\Q$R\E\{/ } keys %{ $s->{v} }; $n };
is($total->($s1) - $total->($s0), 12, 'and nothing else was counted');
my $H = 'dandi_http_request_duration_seconds';
is(delta($s0, $s1, "${H}_count", route => '/api/info/'), 4, 'latency: four info requests');
is(delta($s0, $s1, "${H}_bucket", route => '/api/info/', le => '+Inf'), 4, 'the +Inf bucket is the count');
cmp_ok(delta($s0, $s1, "${H}_sum", route => '/api/info/'), '>', 0, 'their time added to the sum');
my @le = map { /le=([^,}]+)/ ? $1 : () } grep { /^\Q${H}_bucket{\E.*route=\/api\/info\/[,}]/ } keys %{ $s1->{v} };
my @cum = map { val($s1, "${H}_bucket", route => '/api/info/', le => $_) }
    sort { ($a eq '+Inf' ? 1e99 : $a) <=> ($b eq '+Inf' ? 1e99 : $b) } @le;
is(scalar(@cum), 12, 'twelve buckets');
ok(!grep({ $cum[$_] < $cum[$_ - 1] } 1 .. $#cum), 'buckets cumulative');
is(delta($s0, $s1, 'dandi_http_request_body_refusals_total'), 1, 'body refusals +1');

# --- S3 and the database's state ---------------------------------------------------

my $ds = $t->post('/api/dandisets/', { name => 'M', metadata => {} }, token => $alice)->{json}{identifier};
ok($ds, 'a dandiset');
$r = $t->post('/api/uploads/initialize/', { contentSize => 3, digest => { algorithm => 'dandi:dandi-etag',
    value => '900150983cd24fb0d6963f7d28e17f72-1' }, dandiset => $ds }, token => $alice);
is($r->{status}, 200, 'an upload initialized') or diag($r->{body});
my $s2 = scrape();
is(delta($s1, $s2, 'dandi_s3_requests_total', method => 'POST'), 1, 'S3: the multipart upload created');
is(delta($s1, $s2, 'dandi_s3_request_duration_seconds_count', method => 'POST'), 1, 'S3: its latency');
is(val($s2, 'dandi_s3_request_errors_total', method => 'POST'), 0, 'S3: no error');
is(delta($s1, $s2, 'dandi_uploads_active'), 1, 'one upload active');
is(delta($s1, $s2, 'dandi_validation_pending', object => 'draft'), 1, 'the new draft waits for validation');

# A blob whose verification failed; queued, due and failed jobs.
$t->psql(q{INSERT INTO blobs (blob_id, blob, etag, sha256, size) VALUES (gen_random_uuid(), 'blobs/x',
    '0123456789abcdef0123456789abcdef-1', repeat('a', 64), 1)});
$t->psql(q{UPDATE blob_integrity SET ok = false, checked_at = now()});
$t->psql(qq{INSERT INTO jobs (kind, args, run_after, created) VALUES
    ('unembargo', '{"dandiset": "$ds", "user": "1", "key": "a"}', now() - interval '90 seconds', now() - interval '90 seconds'),
    ('unembargo', '{"key": "b"}', now() + interval '1 hour', now()),
    ('sha256', '{"key": "c"}', now(), now())});
$t->psql(q{INSERT INTO jobs (kind, state, args) VALUES ('doi', 'failed', '{"key": "d"}')});
my $s3 = scrape();
is(val($s3, 'dandi_blobs_verify_failed'), 1, 'a blob failing verification');
is(val($s3, 'dandi_jobs', kind => 'unembargo', state => 'queued'), 2, 'queued: two unembargo jobs');
is(val($s3, 'dandi_jobs', kind => 'sha256', state => 'queued'), 1, 'queued: one sha256 job');
is(val($s3, 'dandi_jobs', kind => 'doi', state => 'failed'), 1, 'failed: one doi job');
is(val($s3, 'dandi_jobs', kind => 'publish', state => 'queued'), 0, 'a kind without jobs: 0');
ok(exists $s3->{v}{'dandi_jobs{kind=publish,state=running}'}, '... but its series is there');
my $age = val($s3, 'dandi_jobs_oldest_queued_age_seconds', kind => 'unembargo');
ok($age >= 90 && $age < 200, "the oldest due unembargo job has waited 90 s ($age)");

# A job being worked: dandi-jobs run claims the due unembargo job, whose
# first statement waits for our lock on dandisets.
my $lock = $t->db_connect;
$lock->begin_work;
$lock->do('LOCK TABLE dandisets IN ACCESS EXCLUSIVE MODE');
my $pid = fork // die;
if ($pid == 0) {
	my (undef, undef, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-jobs', 'run', '--max', '1', '--no-validate');
	POSIX::_exit($rc);
}
my $running;
for (1 .. 200) {
	$running = scrape();
	last if val($running, 'dandi_jobs', kind => 'unembargo', state => 'running') > 0;
	sleep 0.05;
}
is(val($running, 'dandi_jobs', kind => 'unembargo', state => 'running'), 1, 'running: the claimed job');
is(val($running, 'dandi_jobs', kind => 'unembargo', state => 'queued'), 1, 'queued: the other one');
is(val($running, 'dandi_jobs_oldest_queued_age_seconds', kind => 'unembargo'), 0,
    'the job being worked is not waiting (the other is not due)');
$lock->rollback;
waitpid($pid, 0);
is($? >> 8, 0, 'dandi-jobs run ended well');
my $s4 = scrape();
is(val($s4, 'dandi_jobs', kind => 'unembargo', state => 'running'), 0, 'nothing running after');
is(val($s4, 'dandi_jobs', kind => 'unembargo', state => 'queued'), 1, 'the worked job left the queue');
my $host = (grep { /^dandi_job_command_runs_total\{command=run,/ } keys %{ $s4->{v} })[0] // '';
($host) = $host =~ /host=([^,}]+)/;
ok($host, "the run is on record with its host ($host)");
is(val($s4, 'dandi_job_command_runs_total', command => 'run', host => $host), 1, 'runs: 1');
is(val($s4, 'dandi_job_command_failures_total', command => 'run', host => $host), 0, 'failures: 0');
is(val($s4, 'dandi_job_command_last_run_ok', command => 'run', host => $host), 1, 'last run ok');
my $ts = val($s4, 'dandi_job_command_last_success_timestamp_seconds', command => 'run', host => $host);
ok(abs($ts - time) < 60, "last success is now ($ts)");
cmp_ok(val($s4, 'dandi_job_command_last_success_duration_seconds', command => 'run', host => $host), '>', 0,
    'its duration: waited for our lock');

# Validation empties the drafts' backlog; a command that fails is on record.
$t->jobs('validate');
my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-jobs', 'zarr-ingest');
is($rc, 2, 'zarr-ingest without a zarr: a usage error');
my $s5 = scrape();
is(val($s5, 'dandi_validation_pending', object => 'draft'), 0, 'validated: no draft pending');
is(val($s5, 'dandi_job_command_runs_total', command => 'validate', host => $host), 1, 'validate: on record');
is(val($s5, 'dandi_job_command_last_run_ok', command => 'zarr-ingest', host => $host), 0, 'zarr-ingest: failed');
is(val($s5, 'dandi_job_command_failures_total', command => 'zarr-ingest', host => $host), 1, '... once');
ok(!exists $s5->{v}{"dandi_job_command_last_success_timestamp_seconds{command=zarr-ingest,host=$host}"},
    '... never succeeded: no last success');
$t->jobs('validate');
is(val(scrape(), 'dandi_job_command_runs_total', command => 'validate', host => $host), 2, 'a second run: 2');

# --- a worker killed ---------------------------------------------------------------

sub workers { DandiTest::children_of($t->api_pid) }
my $before = scrape();
my @w = workers();
is(scalar(@w), 2, 'two workers running');
kill 'KILL', $w[0];
for (1 .. 100) {
	my @now = workers();
	last if @now == 2 && !grep { $_ == $w[0] } @now;
	sleep 0.05;
}
sleep 1.1;	# the supervisor waits a second between two spawns in one second
my $after = scrape();
is(delta($before, $after, 'dandi_api_worker_restarts_total'), 1, 'the restart counted');
is(delta($before, $after, $R, route => '/api/info/', method => 'GET', status => 200), 0,
    'the killed worker\'s counts survive it');
is(delta($before, $after, $R, route => '/metrics', method => 'GET', status => 200), 1, 'and counting goes on');
is(val($after, 'dandi_http_requests_in_flight'), 1, 'in flight: the scrape alone');

# --- PostgreSQL stopped ------------------------------------------------------------

$before = scrape();
$t->stop_pg;
$r = $t->get('/api/dandisets/');
is($r->{status}, 503, 'database down: 503');
my $down = scrape();
is(val($down, 'dandi_db_up'), 0, 'the scrape answers without the database');
is(delta($before, $down, 'dandi_db_unavailable_responses_total'), 1, 'one 503 for want of the database');
is(delta($before, $down, $R, route => '/api/dandisets/', method => 'GET', status => 503), 1, '... under its route');
cmp_ok(delta($before, $down, 'dandi_db_connection_failures_total'), '>=', 2,
    'connection failures: the request\'s and the scrape\'s');
$t->start_pg;
is($t->get('/api/dandisets/')->{status}, 200, 'database back') for 1 .. 2;
my $back = scrape();
is(val($back, 'dandi_db_up'), 1, 'the scrape reads the database again');
cmp_ok(delta($down, $back, 'dandi_db_reconnects_total'), '>=', 1, 'reconnects counted');
is(delta($down, $back, 'dandi_db_errors_total'), 0, 'no statement error');

# --- conf/: the alert rules and the dashboard ask for what is exposed ------------

# Every family the scrapes above showed (histograms by their base name).
my %exposed = map { $_ => 1 } keys %{ $back->{type} }, keys %{ $s5->{type} };
my %used;
open(my $rules_fh, '<', 'conf/prometheus/dandi-alerts.yml') or die "alert rules: $!";
my $rules = do { local $/; <$rules_fh> };
$used{$_} = 'dandi-alerts.yml' for $rules =~ /\b(dandi_\w+)/g;
open(my $dash_fh, '<', 'conf/grafana/dandi-dashboard.json') or die "dashboard: $!";
my $dash = JSON::PP->new->decode(do { local $/; <$dash_fh> });
my @exprs = map { map { $_->{expr} } @{ $_->{targets} || [] } } @{ $dash->{panels} };
cmp_ok(scalar(@exprs), '>', 15, 'the dashboard\'s queries');
$used{$_} //= 'dandi-dashboard.json' for map { /\b(dandi_\w+)/g } @exprs;
for my $name (sort keys %used) {
	my $family = $name;
	$family =~ s/_(bucket|sum|count)$// unless $exposed{$name};
	ok($exposed{$family}, "$used{$name}: $name is exposed");
}
SKIP: {
	skip 'promtool (Debian package prometheus) is not installed', 1 unless -x '/usr/bin/promtool';
	my ($out, $err, $rc) = $t->run_cmd('/usr/bin/promtool', 'check', 'rules', 'conf/prometheus/dandi-alerts.yml');
	is($rc, 0, 'promtool check rules: the alert rules load') or diag("$out$err");
}

# --- metrics = off ---------------------------------------------------------------

$t->stop_api;
$t->env->{DANDI_METRICS} = 'off';
$t->start_api;
is($t->get('/api/info/')->{status}, 200, 'metrics off: the API answers');
$r = $t->get('/metrics');
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Not found.' } ], 'metrics off: /metrics is a 404');

done_testing;
