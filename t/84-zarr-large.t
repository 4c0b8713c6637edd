# A zarr of 100,000 entries in real S3: uploaded through presigned URLs
# (in parallel), listed page by page, checksummed by dandi-jobs without
# holding the keys in memory (only the open directories: the saved state
# stays small), and resumed after being stopped mid-listing.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::MD5 qw(md5_hex md5_base64);
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(time);
use DandiTest;
use Zarr qw(zarr_checksum);

my $N = $ENV{ZARR_LARGE_N} // 100_000;
my $PROCS = 16;
# own_s3: 16 uploaders for minutes would queue every other test file's
# requests on the run's shared radosgw behind theirs.
my $t = DandiTest->new(s3 => 1, own_s3 => 1, workers => 4);
my $owner = $t->user('bigowner');
my $ds = $t->post('/api/dandisets/', { name => 'Big', metadata => {} }, token => $owner)->{json}{identifier};
my $zid = $t->post('/api/zarr/', { name => 'big.zarr', dandiset => $ds }, token => $owner)->{json}{zarr_id};
ok($zid, 'zarr created');

# 0/<i>/<j>: 100 directories of 1,000 chunks (the last one shorter when
# N is not a multiple); each chunk is its own name.
my @paths = map { sprintf('0/%02d/%03d', int($_ / 1000), $_ % 1000) } 0 .. $N - 1;
push @paths, '.zarray';
my %want = map { ($_ => [ md5_hex($_), length $_ ]) } @paths;

my $t0 = time;
my @batches;
push @batches, [ splice(@paths, 0, 1000) ] while @paths;
my @kids;
for my $p (0 .. $PROCS - 1) {
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		my $http = HTTP::Tiny->new(timeout => 60, keep_alive => 1);
		my $bad = 0;
		for (my $b = $p; $b < @batches; $b += $PROCS) {
			my $batch = $batches[$b];
			my $r = $t->post("/api/zarr/$zid/files/", [ map { { path => $_, base64md5 => md5_base64($_) . '==' } } @$batch ],
			    token => $owner);
			if ($r->{status} != 200) { $bad++; next }
			for my $i (0 .. $#$batch) {
				my $res = $http->request('PUT', $r->{json}[$i], { headers => { 'Content-MD5' => md5_base64($batch->[$i]) . '==' },
				    content => $batch->[$i] });
				$bad++ unless $res->{status} == 200;
			}
		}
		POSIX::_exit($bad ? 1 : 0);
	}
	push @kids, $pid;
}
my $failed = 0;
for (@kids) { waitpid($_, 0); $failed++ if $? }
is($failed, 0, 'every upload process succeeded');
my $up = time - $t0;
diag(sprintf('uploaded %d objects through presigned URLs in %.1f s (%.0f/s)', $N + 1, $up, ($N + 1) / $up));

# Listing through the API, page by page.
$t0 = time;
my ($count, $pages, $url, $slowest) = (0, 0, "/api/zarr/$zid/files/", 0);
while ($url) {
	my $s = time;
	my $r = $t->get($url);
	my $d = time - $s;
	$slowest = $d if $d > $slowest;
	last unless $r->{status} == 200;
	$count += @{ $r->{json}{results} };
	$pages++;
	$url = $r->{json}{next};
}
is($count, $N + 1, "listed all $count keys");
diag(sprintf('listed in %d pages, %.1f s (slowest page %.0f ms)', $pages, time - $t0, $slowest * 1000));

# Checksum: stopped after 30 pages, then resumed.
is($t->post("/api/zarr/$zid/finalize/", undef, token => $owner)->{status}, 204, 'finalized');
{
	local $ENV{DANDI_ZARR_INGEST_STOP_AFTER_PAGES} = 30;
	$t->jobs('run', '--max', '1');
}
my ($prog) = $t->psql("SELECT leaves, length(state), after_key, (SELECT status FROM zarrs WHERE zarr_id = '$zid')"
    . " FROM zarr_ingest_progress");
is($prog->[0], 30_000, 'stopped run saved its progress after 30 pages');
is($prog->[3], 'Ingesting', 'zarr still Ingesting');
is($prog->[2], "zarr/$zid/0/29/998", 'progress: last key taken (.zarray came first)');
cmp_ok($prog->[1], '<', 100_000, "saved tree is small ($prog->[1] bytes for 30,000 keys taken): only open directories");

$t->psql("UPDATE jobs SET run_after = now() WHERE kind = 'zarr_ingest' AND state = 'queued'");
$t0 = time;
my $out = $t->_capture('/usr/bin/time', '-f', 'maxrss_kb=%M', DandiTest::build() . '/src/dandi-jobs', 'run');
my $dt = time - $t0;
my ($rss) = $out =~ /maxrss_kb=(\d+)/;
my $z = $t->get("/api/zarr/$zid/")->{json};
my $sum = zarr_checksum(\%want);
is($z->{status}, 'Complete', 'Complete after the resumed run');
is($z->{checksum}, $sum, "checksum of $N + 1 entries matches the independent computation");
is($z->{file_count}, $N + 1, 'file_count');
is(scalar $t->psql('SELECT 1 FROM zarr_ingest_progress'), 0, 'progress row gone');
diag(sprintf('resumed checksum of the remaining %d entries: %.1f s; dandi-jobs max RSS %d KiB', $N + 1 - 30_000, $dt, $rss // -1));
SKIP: {
	skip 'ASan build: its shadow memory is no measure of RSS', 1 if DandiTest::sanitized();
	cmp_ok($rss // 1e9, '<', 40_000, 'dandi-jobs stays small (max RSS under 40 MiB)');
}
like(($t->psql("SELECT 1"))[0][0], qr/1/, 'database fine');

done_testing;
