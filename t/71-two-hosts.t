# Several application hosts (issue 18): two dandi-api pools, each with its
# own socket and log, behind one nginx upstream, one PostgreSQL, one S3.
# One pool is killed (every process, as a host that dies) under load:
# reads go on without an error (nginx passes them to the other pool), and
# only writes that were in flight at that moment may fail. dandi-jobs runs
# on both "hosts" at once: every job is done exactly once.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use DandiTest;
use Upload ();

my $t = DandiTest->new(s3 => 1, workers => 2);
my $owner = $t->user('hosta');
my $root = DandiTest::root();
my $build = DandiTest::build();
my $dir = $t->dir;

# The second pool: its own socket, pid file and log, the same database and S3.
my $sock_b = "$dir/run/api-b.sock";
my $pool_b = fork // die;
if (!$pool_b) {
	%ENV = (%ENV, %{ $t->env }, DANDI_LOG_FILE => "$dir/api-b.log");
	open(STDOUT, '>>', "$dir/api-b.out");
	open(STDERR, '>&', \*STDOUT);
	exec("$build/src/dandi-api", '-s', $sock_b, '-n', 2, '-p', "$dir/run/api-b.pid") or POSIX::_exit(127);
}
for (1 .. 200) { last if -S $sock_b; sleep 0.025 }
ok(-S $sock_b, 'the second pool listens on its own socket');

# nginx again, with both pools in its upstream.
my $port = ($t->api_url =~ /:(\d+)$/)[0];
my $web = -f "$root/web/dist/index.html" ? "$root/web/dist" : "$dir/web";
my (undef, $err, $rc) = $t->run_cmd("$root/contrib/dev/nginx-ctl", 'stop', "$dir/nginx");
(undef, $err, $rc) = $t->run_cmd("$root/contrib/dev/nginx-ctl", 'start', "$dir/nginx", "127.0.0.1:$port",
    "$dir/run/api.sock,$sock_b", $web);
is($rc, 0, 'nginx with an upstream of two pools') or diag $err;
like(do { local (@ARGV, $/) = ("$dir/nginx/site.conf"); <> }, qr{server unix:\S+/api\.sock .*\n\s*server unix:\S+/api-b\.sock},
    '... both sockets are servers of the upstream');

my $ds = $t->post('/api/dandisets/', { name => 'Two hosts', metadata => {} }, token => $owner)->{json}{identifier};
ok($ds, 'a dandiset created through the pair');

# --- a pool dies under load -------------------------------------------------------------
# Load: a reader and a writer, each counting its answers; the kill in the middle.
sub load {
	my ($kind, $seconds, $out) = @_;
	my $pid = fork // die;
	return $pid if $pid;
	my $http = HTTP::Tiny->new(timeout => 30);
	my %n;
	my $until = time + $seconds;
	my $i = 0;
	while (time < $until) {
		my $r;
		if ($kind eq 'read') {
			$r = $http->get($t->api_url . "/api/dandisets/$ds/versions/draft/assets/?page_size=10");
		} else {
			$r = $http->request('POST', $t->api_url . '/api/dandisets/', { content =>
			    qq({"name": "Load @{[ $$ ]} @{[ $i++ ]}", "metadata": {}}), headers => {
			    'Content-Type' => 'application/json', Authorization => "token $owner" } });
		}
		$n{ $r->{status} }++;
	}
	open(my $fh, '>', $out) or die;
	print $fh join(' ', map { "$_=$n{$_}" } sort keys %n), "\n";
	close $fh;
	POSIX::_exit(0);
}
my @load = map { load($_, 6, "$dir/load-$_") } qw(read read write);
sleep 2;
# The first pool dies: its supervisor and every worker, at once.
my $sup_a = $t->api_pid;
my @victims = ($sup_a, DandiTest::children_of($sup_a));
is(scalar @victims, 3, 'the first pool: a supervisor and two workers');
kill 'KILL', @victims;
waitpid($sup_a, 0);
delete $t->{api_pid};
waitpid($_, 0) for @load;
my %count = map { my $k = $_; $k => { map { split /=/ } split ' ', do { local (@ARGV, $/) = ("$dir/load-$k"); <> } } }
    qw(read write);
my $reads = $count{read};
my $writes = $count{write};
my $bad_reads = 0;
$bad_reads += $reads->{$_} for grep { $_ != 200 } keys %$reads;
ok(($reads->{200} // 0) > 20, "reads answered: $reads->{200}");
is($bad_reads, 0, 'no read failed: nginx passed them to the second pool') or diag explain $reads;
my $bad_writes = 0;
$bad_writes += $writes->{$_} for grep { $_ != 200 } keys %$writes;
ok(($writes->{200} // 0) > 5, "writes answered: " . ($writes->{200} // 0));
cmp_ok($bad_writes, '<=', 2, 'at most the writes in flight on the killed pool failed (never sent twice)')
    or diag explain $writes;
# Every dandiset a writer saw created exists once.
my $made = ($t->psql("SELECT count(*) FROM versions WHERE version = 'draft' AND name LIKE 'Load %'"))[0][0];
cmp_ok($made, '>=', $writes->{200} // 0, 'every created dandiset is there');
cmp_ok($made, '<=', ($writes->{200} // 0) + $bad_writes, '... and none twice');

# --- jobs on both hosts at once ---------------------------------------------------------------
my @blobs = map { Upload::upload($t, $owner, $ds, "blob for two hosts $_ " . ('h' x (100 * $_)))->{blob}{blob_id} } 1 .. 12;
is(scalar(grep { defined } @blobs), 12, 'twelve blobs uploaded (twelve sha256 jobs queued)');
my $queued = ($t->psql("SELECT count(*) FROM jobs WHERE kind = 'sha256' AND state = 'queued'"))[0][0];
is($queued, 12, '... queued');
my @runners = map {
	my $host = $_;
	my $pid = fork // die;
	if (!$pid) {
		%ENV = (%ENV, %{ $t->env }, DANDI_LOG_FILE => "$dir/jobs-$host.log");
		open(STDOUT, '>', "$dir/jobs-$host.out");
		open(STDERR, '>&', \*STDOUT);
		exec("$build/src/dandi-jobs", 'run', '--no-validate') or POSIX::_exit(127);
	}
	$pid;
} qw(a b);
waitpid($_, 0) for @runners;
is(($t->psql("SELECT count(*) FROM jobs WHERE kind = 'sha256' AND state = 'done'"))[0][0], 12, 'all twelve jobs done');
is(($t->psql("SELECT count(*) FROM jobs WHERE kind = 'sha256' AND attempts <> 1"))[0][0], 0, '... each in one attempt');
my $worked = 0;
for my $host (qw(a b)) {
	my $out = do { local (@ARGV, $/) = ("$dir/jobs-$host.out"); <> } // '';
	$worked += $1 if $out =~ /^(\d+) job\(s\) worked/m;
}
is($worked, 12, 'the two runners worked twelve jobs between them, none twice');
is(($t->psql("SELECT count(*) FROM blobs WHERE sha256 IS NOT NULL"))[0][0], 12, 'every blob has its sha256');

kill 'TERM', $pool_b;
waitpid($pool_b, 0);
done_testing();
