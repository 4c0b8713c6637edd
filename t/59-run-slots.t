# Run slots (running_workers, src/lib/runslots.h): of the pool's workers
# only that many run requests at once. A pool of two with one slot shows
# each rule: a worker waiting on S3 gives its slot up (the other serves
# meanwhile, nothing lent); a worker stuck on a lock lends its slot (the
# other serves on the loan, counted); workers killed while holding it
# leave it free (the supervisor's reaper); the default (0) is the cores
# when PostgreSQL is on this machine; running_workers >= workers is no
# limit; a value out of range is refused at start.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use Digest::MD5 qw(md5 md5_hex);
use POSIX ();
use File::Temp ();
use Time::HiRes qw(sleep time);
use DandiTest;

# An S3 that answers nothing for 4 s (then closes): a request's S3 call
# waits on the network. Each connection is logged.
my $s3 = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1) or die;
my $s3_port = $s3->sockport;
my $tmp = File::Temp::tempdir('dandi-slow-s3-XXXXXX', DIR => $ENV{DANDI_TEST_TMP} || '/tmp', CLEANUP => 1);
my $s3_pid = fork // die;
if (!$s3_pid) {
	while (my $c = $s3->accept) {
		open(my $fh, '>>', "$tmp/connections") or die;
		print $fh "connection\n";
		close $fh;
		sleep 4;
		close $c;
	}
	POSIX::_exit(0);
}
close $s3;
END { kill 'KILL', $s3_pid if $s3_pid; }
sub s3_connections { open(my $fh, '<', "$tmp/connections") or return 0; my @l = <$fh>; scalar @l }

my %s3_env = (DANDI_S3_ENDPOINT => "http://127.0.0.1:$s3_port", DANDI_S3_BUCKET => 'dandi',
    DANDI_S3_ACCESS_KEY => 'slow', DANDI_S3_SECRET_KEY => 'slow', DANDI_S3_REGION => 'us-east-1');
my $t = DandiTest->new(s3 => 0, workers => 2, env => { DANDI_RUNNING_WORKERS => 1, %s3_env });
my $alice = $t->user('alice');
my $id = $t->post('/api/dandisets/', { name => 'Slots', metadata => {} }, token => $alice)->{json}{identifier};
ok($id, "dandiset $id");

sub metric {
	my ($name) = @_;
	my $r = HTTP::Tiny->new(timeout => 10)->get($t->api_url . '/metrics');
	return $r->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}
is(metric('dandi_api_run_slots'), 1, '/metrics: one run slot');

# A request in the background: its status in a file when it is answered.
sub background {
	my ($name, $method, $path, $body) = @_;
	my $pid = fork // die;
	if (!$pid) {
		my $r = HTTP::Tiny->new(timeout => 60)->request($method, $t->api_url . $path, { content => $body,
		    headers => { 'Content-Type' => 'application/json', Authorization => "token $alice" } });
		open(my $fh, '>', $t->dir . "/$name") or die;
		print $fh "$r->{status}\n";
		close $fh;
		POSIX::_exit(0);
	}
	return $pid;
}
sub answered { open(my $fh, '<', $t->dir . "/$_[0]") or return undef; my $s = <$fh>; chomp $s; $s }
sub timed_info {
	my $t0 = time;
	my $r = HTTP::Tiny->new(timeout => 10)->get($t->api_url . '/api/info/');
	return ($r->{status}, time - $t0);
}

# --- waiting on S3: the slot is given up, not lent -------------------------
my $upload = background('upload', 'POST', '/api/uploads/initialize/', qq({"contentSize": 1, "dandiset": "$id",)
    . qq( "digest": {"algorithm": "dandi:dandi-etag", "value": ") . md5_hex(md5('q')) . qq(-1"}}));
for (1 .. 400) { last if s3_connections() > 0; sleep 0.025 }
ok(s3_connections() > 0, 'an upload is waiting on S3 (CreateMultipartUpload)');
# Counted from here: before its S3 call the upload's worker held the slot
# (a loaded machine may have lent it then).
my $lent0 = metric('dandi_api_run_slot_lent_total');
my ($status, $secs) = timed_info();
is($status, 200, '/api/info/ meanwhile');
ok($secs < 2, sprintf('... at once (%.2f s), not after the S3 call', $secs));
is(answered('upload'), undef, '... while the upload still waits');
is(metric('dandi_api_run_slot_lent_total'), $lent0,
    'the waiting worker gave its slot up: the other one took it, nothing lent');
waitpid($upload, 0);
like(answered('upload'), qr/^5\d\d$/, 'the upload is answered with an error when S3 gives up: ' . answered('upload'));

# --- stuck on a lock: the slot is lent ---------------------------------------
my $dbh = $t->db_connect;
$dbh->begin_work;
$dbh->do("SELECT 1 FROM versions WHERE dandiset_id = ? AND version = 'draft' FOR UPDATE", undef, int($id));
my $held = background('held', 'PUT', "/api/dandisets/$id/versions/draft/", '{"name": "Held", "metadata": {}}');
my $waiting = 0;
for (1 .. 400) {
	($waiting) = $t->psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
	    . " AND datname = current_database()");
	last if $waiting->[0] > 0;
	sleep 0.025;
}
is($waiting->[0], 1, 'a metadata PUT waits for the draft locked by the test, holding the slot');
($status, $secs) = timed_info();
is($status, 200, '/api/info/ meanwhile');
ok($secs < 5, sprintf('... on the slot the stuck worker lends (%.2f s)', $secs));
($status, $secs) = timed_info();
ok($status == 200 && $secs < 5, 'and again: lent for one request at a time, as long as it is stuck');
cmp_ok(metric('dandi_api_run_slot_lent_total'), '>=', $lent0 + 2, 'the lent requests are counted');
is(answered('held'), undef, 'the held PUT still waits');
$dbh->commit;
waitpid($held, 0);
is(answered('held'), 200, 'and is answered once the lock is gone');

# --- workers killed while idle holding the slot: freed by the supervisor ----
my @workers = DandiTest::children_of($t->api_pid);
is(scalar @workers, 2, 'two workers');
kill 'KILL', @workers;
# (nginx answers 503 while no worker is there; a slot never freed would
# leave the new workers waiting for good.)
my $until = time + 15;
while (1) {
	($status) = timed_info();
	last if $status == 200 || time > $until;
	sleep 0.1;
}
is($status, 200, 'both killed (one of them holding the slot between requests): the new workers answer');

# --- the default and no limit --------------------------------------------------------
my $cores = `nproc` + 0;
sub restart {
	my ($workers, %env) = @_;
	$t->stop_api;
	$t->{workers} = $workers;
	delete $t->env->{DANDI_RUNNING_WORKERS};
	%{ $t->env } = (%{ $t->env }, %env);
	$t->start_api;
}
restart(4);
is(metric('dandi_api_run_slots'), $cores < 4 ? $cores : 0,
    "default, PostgreSQL on its socket here: the cores ($cores), or no limit when they are at least the pool");
restart(4, DANDI_RUNNING_WORKERS => 4);
is(metric('dandi_api_run_slots'), 0, 'running_workers = workers: no limit');
restart(4, DANDI_RUNNING_WORKERS => 2);
is(metric('dandi_api_run_slots'), 2, 'running_workers = 2 of 4');

my $out = `DANDI_RUNNING_WORKERS=257 ${\ DandiTest::build() }/src/dandi-api -s ${\ $t->dir }/x.sock 2>&1`;
isnt($?, 0, 'running_workers = 257: dandi-api does not start');
like($out, qr/running_workers must be 0\.\.256/, '... and says why');

done_testing;
