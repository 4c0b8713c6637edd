# Graceful reload (issue 18): SIGHUP to dandi-api (systemctl reload)
# re-reads the configuration and replaces the workers without dropping a
# request: a load of requests through nginx sees no error across several
# reloads, a request in flight when the reload comes (held by a table lock)
# is answered by its old worker, which then exits; the new workers serve
# the new configuration (a CORS origin), the supervisor stays the same
# process, a configuration that does not load leaves the running one, and
# under saturating load the old workers stop at once, between requests.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use DandiTest;

$ENV{DANDI_LIMIT_EXEMPT} = '127.0.0.1';	# wrk below: nginx's per-address limits would refuse it
my $t = DandiTest->new(workers => 2);
my $owner = $t->user('reloader');
my $build = DandiTest::build();
my $dir = $t->dir;
my $conf = "$dir/dandi.conf";
my $http = HTTP::Tiny->new(timeout => 60);
sub write_conf {
	open(my $fh, '>', $conf) or die;
	print $fh @_;
	close $fh;
}
sub workers_of { DandiTest::children_of(@_) }
sub nworkers { my @w = workers_of(@_); return scalar @w }
# A browser's preflight for a write: allowed only for the configured
# origins (reads are open to any origin), and answered without the
# database (held locked below).
sub allowed_origin {
	my ($origin) = @_;
	my $r = $http->request('OPTIONS', $t->api_url . '/api/dandisets/', { headers => { Origin => $origin,
	    'Access-Control-Request-Method' => 'POST' } });
	return $r->{headers}{'access-control-allow-origin'} // '';
}
sub log_text { local (@ARGV, $/) = ("$dir/api.log"); <> // '' }

# Our own supervisor on the harness's socket, its configuration in a file.
$t->stop_api;
write_conf("cors_allowed_origins = http://first.example\nworkers = 2\n");
my $sup = fork // die;
if (!$sup) {
	%ENV = (%ENV, %{ $t->env });
	delete $ENV{DANDI_CORS_ALLOWED_ORIGINS};
	open(STDOUT, '>>', "$dir/api.out");
	open(STDERR, '>&', \*STDOUT);
	exec("$build/src/dandi-api", '-c', $conf, '-s', $t->{socket}) or POSIX::_exit(127);
}
for (1 .. 200) { last if -S $t->{socket} && nworkers($sup) == 2; sleep 0.025 }
my @gen1 = workers_of($sup);
is(scalar @gen1, 2, 'dandi-api with two workers, from a configuration file');
is(allowed_origin('http://first.example'), 'http://first.example', 'the configured CORS origin is allowed');
is(allowed_origin('http://second.example'), '', '... another is not');

# --- a request in flight across the reload -------------------------------------------------
# A metadata PUT waits for the draft's row, which the test holds (a row
# lock: the new workers' start does not wait for it as it would for a
# table lock).
my $ds = $t->post('/api/dandisets/', { name => 'Held', metadata => {} }, token => $owner)->{json}{identifier};
my $dbh = $t->db_connect;
$dbh->begin_work;
$dbh->do("SELECT 1 FROM versions WHERE dandiset_id = ? AND version = 'draft' FOR UPDATE", undef, int($ds));
my $slow = fork // die;
if (!$slow) {
	my $r = HTTP::Tiny->new(timeout => 120)->request('PUT', $t->api_url . "/api/dandisets/$ds/versions/draft/",
	    { content => '{"name": "Held across a reload", "metadata": {}}',
	      headers => { 'Content-Type' => 'application/json', Authorization => "token $owner" } });
	open(my $fh, '>', "$dir/slow") or die;
	print $fh "$r->{status}\n";
	close $fh;
	POSIX::_exit(0);
}
sleep 1;	# the request waits for the row in one of the workers
write_conf("cors_allowed_origins = http://second.example\nworkers = 2\n");
kill 'HUP', $sup;
my @gen2;
for (1 .. 200) { @gen2 = grep { my $p = $_; !grep { $_ == $p } @gen1 } workers_of($sup); last if @gen2 == 2; sleep 0.025 }
is(scalar @gen2, 2, 'SIGHUP: two new workers');
sleep 0.5;
my @left = grep { my $p = $_; grep { $_ == $p } @gen1 } workers_of($sup);
is(scalar @left, 1, 'the old worker serving the held request is still there; the idle one is gone');
is(allowed_origin('http://second.example'), 'http://second.example', 'the new workers serve the new configuration');
is(allowed_origin('http://first.example'), '', '... and not the old one');
$dbh->commit;
waitpid($slow, 0);
is(do { local (@ARGV, $/) = ("$dir/slow"); <> } =~ s/\s+$//r, 200, 'the held request is answered (200) by its old worker');
for (1 .. 200) { last unless grep { my $p = $_; grep { $_ == $p } @gen1 } workers_of($sup); sleep 0.025 }
is(scalar(grep { my $p = $_; grep { $_ == $p } @gen1 } workers_of($sup)), 0, '... which then exits');
ok(kill(0, $sup), 'the supervisor is the same process');
like(log_text(), qr/reload: 2 workers started with the configuration read again; 2 finishing their requests/,
    'the log says so');

# --- no request lost under load across reloads ---------------------------------------------
my @load = map {
	my $pid = fork // die;
	if (!$pid) {
		my $h = HTTP::Tiny->new(timeout => 60);
		my %n;
		my $until = time + 5;
		my $i = 0;
		while (time < $until) {
			my $r = $_ % 2 ? $h->get($t->api_url . '/api/info/')
			    : $h->request('POST', $t->api_url . '/api/dandisets/', { content => qq({"name": "Reload $$ @{[ $i++ ]}", "metadata": {}}),
				headers => { 'Content-Type' => 'application/json', Authorization => "token $owner" } });
			$n{ $r->{status} }++;
		}
		open(my $fh, '>', "$dir/load-$$") or die;
		print $fh join(' ', map { "$_=$n{$_}" } sort keys %n), "\n";
		close $fh;
		POSIX::_exit(0);
	}
	$pid;
} 1 .. 4;
for (1 .. 4) {
	sleep 1;
	kill 'HUP', $sup;
}
my %n;
for my $pid (@load) {
	waitpid($pid, 0);
	my $line = do { local (@ARGV, $/) = ("$dir/load-$pid"); <> } // '';
	for (split ' ', $line) { my ($k, $v) = split /=/; $n{$k} += $v }
}
my $bad = 0;
$bad += $n{$_} for grep { $_ != 200 } keys %n;
ok(($n{200} // 0) > 50, "requests answered during four reloads: " . ($n{200} // 0));
is($bad, 0, 'none failed') or diag explain \%n;

# --- a configuration that does not load ------------------------------------------------------
for (1 .. 400) { last if nworkers($sup) == 2; sleep 0.025 }
my @before = workers_of($sup);
write_conf("cors_allowed_origin_regexes = ([\nworkers = 2\n");
kill 'HUP', $sup;
sleep 1;
is_deeply([ workers_of($sup) ], \@before, 'a bad configuration: the workers stay');
like(log_text(), qr/reload: .*the running configuration stays/, '... and the log says why');
is(allowed_origin('http://second.example'), 'http://second.example', '... serving the configuration they had');

# --- a reload under saturating load --------------------------------------------------------
# wrk keeps 32 connections on 2 workers, asking for pages of the dandiset
# list (each takes a worker longer than nginx needs to pass on the next
# request): a worker finishing a request always finds the next one
# waiting. Its stop must not wait for a pause in the traffic, nor cost a
# request.
write_conf("cors_allowed_origins = http://third.example\nworkers = 2\n");
my @old = workers_of($sup);
my $wrk = fork // die;
if (!$wrk) {
	open(STDOUT, '>', "$dir/wrk.out");
	open(STDERR, '>&', \*STDOUT);
	exec('wrk', '-t2', '-c32', '-d4s', '--timeout', '30s', $t->api_url . '/api/dandisets/?page_size=50') or POSIX::_exit(127);
}
sleep 1;
kill 'HUP', $sup;
my $t1 = time;
for (1 .. 300) { last if !grep { kill 0, $_ } @old; sleep 0.01 }
my $gone = time - $t1;
is(scalar(grep { kill 0, $_ } @old), 0, sprintf('saturated: the old workers are gone %.2f s after the reload', $gone));
is(waitpid($wrk, WNOHANG), 0, '... while wrk still runs');
waitpid($wrk, 0);
is(allowed_origin('http://third.example'), 'http://third.example', '... and the new ones serve the configuration');
my $out = do { local (@ARGV, $/) = ("$dir/wrk.out"); <> } // '';
my ($total) = $out =~ /(\d+) requests in/;
cmp_ok($total // 0, '>', 100, 'wrk made its requests') or diag $out;
unlike($out, qr/Non-2xx|Socket errors/, '... every one answered 200') or diag $out;

kill 'TERM', $sup;
waitpid($sup, 0);
is($? >> 8, 0, 'the supervisor stops cleanly');
done_testing();
