# nginx's request limits per client address on the API, with the defaults
# of conf/nginx/dandi-site.conf.in (100 r/s, burst 1000, 32 at once): the
# real clients' traffic (t/inc/client_replay.py: the web app, dandi-cli's
# parallel page walk, upload and download) never reaches them, even all at
# once from one address; a flood from one address gets JSON 429s with
# Retry-After and CORS while another address is served; the concurrency
# limit; the exemption list; nginx-ctl refuses a malformed limit.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use DandiTest;

my $t = DandiTest->new(s3 => 1, workers => 3, limits => 1);
my $url = $t->api_url;
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
sub one { my @r = $t->psql(@_); $r[0][0] }

# The site as nginx-ctl wrote it has the defaults this test is about.
my $site = do { local (@ARGV, $/) = ($t->dir . '/nginx/site.conf'); <> };
like($site, qr/rate=100r\/s;/, 'site: 100 r/s per address');
like($site, qr/burst=1000 nodelay;/, 'site: burst 1000');
like($site, qr/limit_conn dandi_api_conn 32;/, 'site: 32 requests at once');

# A draft of 10,000 assets in ten folders, as t/75-publish-large.t builds it:
# the first through the API, the others as the API would store them.
my $N = 10_000;
my $id = $t->post('/api/dandisets/', { name => 'Many', metadata => {} }, token => $alice)->{json}{identifier};
my $blob = '00000001-2222-4000-8000-000000000000';
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$blob', 'blobs/x/$blob', '"
    . ('0' x 31) . "1-1', 7, '" . ('0' x 63) . "1')");
is($t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $blob,
    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => 'sub-0000/f00000.nwb' } },
    token => $alice)->{status}, 200, 'first asset through the API');
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft'");
$t->psql(<<SQL);
WITH src AS (SELECT blob_id, metadata FROM assets WHERE path = 'sub-0000/f00000.nwb'),
new AS (INSERT INTO assets (asset_id, path, blob_id, metadata)
        SELECT gen_random_uuid(), 'sub-' || lpad((g / 1000)::text, 4, '0') || '/f' || lpad(g::text, 5, '0') || '.nwb',
               src.blob_id, src.metadata FROM src, generate_series(1, $N - 1) g RETURNING id)
INSERT INTO asset_versions (asset_id, version_id) SELECT id, $vid FROM new;
SELECT count(dandi_asset_paths_put($vid, a)) FROM assets a JOIN asset_versions av ON av.asset_id = a.id
WHERE av.version_id = $vid AND a.path <> 'sub-0000/f00000.nwb';
SELECT dandi_asset_paths_fold($vid);
SQL
is($t->get("/api/dandisets/$id/versions/draft/assets/")->{json}{count}, $N, "$N assets");

# --- the real clients stay under the limits ------------------------------------

my $replay = DandiTest::root() . '/t/inc/client_replay.py';
# Uploads go to a dandiset of their own, so that a page walk of the other
# running at the same time sees a list that does not change under it.
my $up = $t->post('/api/dandisets/', { name => 'Uploads', metadata => {} }, token => $alice)->{json}{identifier};
sub replay {
	my ($what, @args) = @_;
	my ($out, $err, $rc) = $t->run_cmd('python3', $replay, "$url/api", $alice, $what eq 'upload' ? $up : $id,
	    $what, @args);
	my $r = eval { decode_json((split /\n/, $out)[-1] // '') } || { errors => ["no answer: $out $err"] };
	return ($r, $rc);
}
sub no_throttle {
	my ($name, $r, $rc) = @_;
	is($rc, 0, "$name: every answer as the client expects") or diag(explain($r));
	ok(!$r->{status}{429} && !$r->{status}{503}, "$name: nothing throttled")
	    or diag(explain($r->{status}));
	note("$name: $r->{requests} API requests in $r->{seconds} s: " . encode_json($r->{status}));
}

# Waits until the requests of a replay have left the rate's bucket (it
# drains at 100/s), so that the next starts from nothing on any machine.
sub drained {
	my ($r) = @_;
	my $left = ($r->{requests} // 0) / 100 - ($r->{seconds} // 0);
	sleep($left) if $left > 0;
}

# One after the other, each at full speed from 127.0.0.1.
for my $job ([ 'web app', 'web' ], [ 'dandi-cli page walk (5 parallel)', 'paginate' ],
    [ 'dandi upload of 40 files (5 at once)', 'upload', 40 ],
    [ 'dandi download of 300 assets (metadata + 6 jobs)', 'download', 300 ]) {
	my ($name, @what) = @$job;
	my ($r, $rc) = replay(@what);
	no_throttle($name, $r, $rc);
	drained($r);
}
# All at once from the same address: someone with the web app open while
# uploading and downloading.
{
	my @pids;
	for my $job ([ 'web' ], [ 'paginate' ], [ 'upload', 40 ], [ 'download', 200 ]) {
		pipe(my $rd, my $wr) or die;
		my $pid = fork // die;
		if (!$pid) {
			close $rd;
			my ($r, $rc) = replay(@$job);
			print $wr encode_json([ $r, $rc ]);
			close $wr;
			POSIX::_exit(0);
		}
		close $wr;
		push @pids, [ $pid, $rd, $job->[0] ];
	}
	for (@pids) {
		my ($pid, $rd, $name) = @$_;
		my $got = do { local $/; <$rd> };
		waitpid($pid, 0);
		my $res = eval { decode_json($got) } || [ { errors => ['child died'] }, 1 ];
		my ($r, $rc) = @$res;
		no_throttle("$name, all four at once", $r, $rc);
		drained($r);
	}
}
# Sustained below the rate: dandi download at 40 assets/s (metadata and
# download URL: 80 API requests/s) for 15 s, past the burst allowance.
{
	local $ENV{REPLAY_PACE} = 40;
	my ($r, $rc) = replay('download', 600);
	no_throttle('download at 80 requests/s for 15 s', $r, $rc);
	cmp_ok($r->{requests}, '>', 1000, 'more requests than the burst allows at once');
}

# --- a flood from one address ----------------------------------------------------

# A second client address on loopback: nginx keys the limits on
# $binary_remote_addr; its access log shows what it saw.
my $other = HTTP::Tiny->new(local_address => '127.0.0.2', timeout => 30, agent => 'other/1');
is($other->get("$url/api/info/")->{status}, 200, '127.0.0.2 is served');
like(do { local (@ARGV, $/) = ($t->dir . '/nginx/access.log'); <> }, qr/^127\.0\.0\.2 /m,
    'nginx sees 127.0.0.2 as the client address');

# wrk from 127.0.0.1 while 127.0.0.2 calls every 50 ms.
pipe(my $rd, my $wr) or die;
my $kid = fork // die;
if (!$kid) {
	close $rd;
	my %st;
	my $until = time + 4;
	while (time < $until) {
		$st{ $other->get("$url/api/dandisets/$id/")->{status} }++;
		sleep 0.05;
	}
	print $wr encode_json(\%st);
	close $wr;
	POSIX::_exit(0);
}
close $wr;
my ($wrk) = $t->run_cmd('wrk', '-t2', '-c32', '-d5s', "$url/api/info/");
my $during = decode_json(do { local $/; <$rd> });
waitpid($kid, 0);
my ($total) = $wrk =~ /(\d+) requests in/;
my ($refused) = $wrk =~ /Non-2xx or 3xx responses: (\d+)/;
note("flood: $total requests in 5 s from 127.0.0.1, $refused refused; 127.0.0.2 meanwhile: " . encode_json($during));
cmp_ok($refused // 0, '>', 0, 'the flood is refused');
cmp_ok(($total // 0) - ($refused // 0), '<', 1000 + 100 * 6 + 50, 'at most the burst and the rate got through');
is_deeply([ keys %$during ], [ 200 ], '127.0.0.2 served throughout the flood');
cmp_ok($during->{200}, '>=', 10, "127.0.0.2's calls ($during->{200}) went through");

# Faster than the rate: while wrk keeps the address's bucket full (4
# connections, far above 100 requests/s, well below 32 at once), twenty
# requests written on twenty connections before any answer is read. The
# bucket drains at the rate whatever the machine's load: of the twenty, at
# most what 100 requests/s allows in the time they took gets through (wrk
# competes for the same), the others are refused with nginx's JSON 429. (A
# fixed count, 15 refused, failed on a loaded machine that took longer.)
sub at_once {
	my ($n, $path, %h) = @_;
	my $head = join '', map { "$_: $h{$_}\r\n" } sort keys %h;
	my @s = map { IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{http_port}", LocalAddr => '127.0.0.1') or die $! }
	    1 .. $n;
	print $_ "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n$head\r\n" for @s;
	my @r;
	for my $s (@s) {
		my $raw = do { local $/; <$s> } // '';
		my ($st, $hd, $body) = $raw =~ m{^HTTP/1\.1 (\d+)[^\n]*\n(.*?)\r\n\r\n(.*)\z}s or die "no answer: $raw";
		my %hd = map { /^([^:]+):\s*(.*?)\s*$/ ? (lc $1 => $2) : () } split /\n/, $hd;
		push @r, { status => $st, headers => \%hd, body => $body,
		    json => ($hd{'content-type'} // '') =~ /json/ ? eval { decode_json($body) } : undef };
	}
	return @r;
}
my $wrk2 = fork // die;
if (!$wrk2) {
	open(STDOUT, '>', '/dev/null');
	exec('wrk', '-t1', '-c4', '-d60s', "$url/api/info/") or POSIX::_exit(127);
}
# The burst (1000) goes through the pool first, at whatever speed the
# machine has; wait until the address is refused, not for a fixed time.
my $until = time + 50;
sleep 0.05 until $t->get('/api/info/')->{status} == 429 || time > $until;
my $t0 = time;
my @burst = at_once(20, '/api/info/', Origin => $url);
my $took = time - $t0;
kill 'TERM', $wrk2;
waitpid($wrk2, 0);
my %burst;
$burst{ $_->{status} }++ for @burst;
note(sprintf('20 requests at once from the flooding address, %.0f ms: %s', $took * 1000, encode_json(\%burst)));
is_deeply([ grep { $_ != 200 && $_ != 429 } keys %burst ], [], 'flooding address: 200 or 429, nothing else');
my $rate_allows = 1 + int(100 * $took);
cmp_ok($burst{200} // 0, '<=', $rate_allows, "flooding address, faster than the rate: at most the rate's $rate_allows served");
cmp_ok($burst{429} // 0, '>', 0, '... the others 429');
my ($r) = grep { $_->{status} == 429 } @burst;
$r //= { headers => {} };
like($r->{headers}{'content-type'} // '', qr{^application/json}, '429: JSON');
is_deeply($r->{json}, { detail => 'Request was throttled. Expected available in 1 second.' }, '429: DRF\'s body');
is($r->{headers}{'retry-after'}, '1', '429: Retry-After: 1 (dandi-cli sleeps that long, then retries)');
is($r->{headers}{'access-control-allow-origin'}, $url, '429: CORS for the web app');
is($other->get("$url/api/info/")->{status}, 200, 'the other address still gets 200');
sleep 1.2;
is($t->get('/api/info/')->{status}, 200, 'after Retry-After the flooding address is served again');

# --- the concurrency limit -----------------------------------------------------------

# 32 POSTs whose bodies never come: each holds its place from the end of its
# headers, as a slow upload would. The 33rd request of the address is refused.
sleep 2;	# let the rate bucket drain a little
my @held;
for (1 .. 32) {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{http_port}", LocalAddr => '127.0.0.1') or die $!;
	print $s "POST /api/dandisets/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
	push @held, $s;
}
sleep 0.5;
$r = $t->get('/api/info/');
is($r->{status}, 429, '33rd request at once from one address: 429');
is_deeply($r->{json}, { detail => 'Request was throttled. Expected available in 1 second.' }, 'concurrency 429: JSON');
is($other->get("$url/api/info/")->{status}, 200, 'another address meanwhile: 200');
close $_ for @held;
sleep 0.5;
is($t->get('/api/info/')->{status}, 200, 'once they end, the address is served');
# Static files of the web app are not limited.
is($t->get('/')->{status}, 200, 'the web app page');

# --- the exemption list and the knobs ---------------------------------------------------

# A second nginx on the same pool with tiny limits and 127.0.0.2 exempt.
my $port2 = DandiTest::free_port();
{
	local @ENV{qw(DANDI_LIMIT_RATE DANDI_LIMIT_BURST DANDI_LIMIT_CONN DANDI_LIMIT_EXEMPT)} =
	    ('1r/m', 1, 1, '127.0.0.2 10.0.0.0/8');
	my (undef, $err, $rc) = $t->run_cmd(DandiTest::root() . '/contrib/dev/nginx-ctl', 'start',
	    $t->dir . '/nginx-tight', "127.0.0.1:$port2", $t->dir . '/run/api.sock', $t->dir . '/nginx-tight/www');
	is($rc, 0, 'nginx with DANDI_LIMIT_RATE=1r/m, exemption for 127.0.0.2') or diag($err);
}
my @tight = map { $t->get("http://127.0.0.1:$port2/api/info/", headers => { Origin => $url }) } 1 .. 3;
is_deeply([ map { $_->{status} } @tight ], [ 200, 200, 429 ],
    'one request a minute and a burst of one: the third is refused');
is_deeply($tight[2]{json}, { detail => 'Request was throttled. Expected available in 60 seconds.' },
    'configured limit: the JSON 429 says when the rate lets the next through');
is($tight[2]{headers}{'retry-after'}, '60', '... as Retry-After (1r/m: 60 s)');
is($tight[2]{headers}{'access-control-allow-origin'}, $url, '... and CORS');
is_deeply([ map { $other->get("http://127.0.0.1:$port2/api/info/")->{status} } 1 .. 5 ], [ (200) x 5 ],
    'an exempt address is never limited');
$t->run_cmd(DandiTest::root() . '/contrib/dev/nginx-ctl', 'stop', $t->dir . '/nginx-tight');
for my $bad ([ DANDI_LIMIT_RATE => 'fast' ], [ DANDI_LIMIT_BURST => '0' ], [ DANDI_LIMIT_CONN => '0' ],
    [ DANDI_LIMIT_EXEMPT => '127.0.0.1; deny all' ]) {
	local $ENV{ $bad->[0] } = $bad->[1];
	my (undef, $err, $rc) = $t->run_cmd(DandiTest::root() . '/contrib/dev/nginx-ctl', 'start',
	    $t->dir . '/nginx-bad', "127.0.0.1:$port2", $t->dir . '/run/api.sock', $t->dir . '/nginx-tight/www');
	is($rc, 2, "nginx-ctl refuses $bad->[0]=$bad->[1]");
	like($err, qr/\Q$bad->[0]\E/, '... and names it');
}

done_testing;
