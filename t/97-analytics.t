# dandi-jobs analytics (beyond the original): download counts from S3
# server access logs (AWS format; radosgw writes none, so the test writes
# log objects itself) and GET /api/stats/downloads/. Each log is counted
# once: a rerun, two runs at once and later logs add exactly what they hold.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use File::Temp qw(tempfile);
use POSIX ();
use DandiTest;
use Upload ();

my $t = DandiTest->new(s3 => 1);
my $owner = $t->user('olive');
my $tool = DandiTest::build() . '/t/unit/s3-tool';
my $jobs = DandiTest::build() . '/src/dandi-jobs';
my $bucket = $t->s3->{S3_BUCKET};
sub one { my @r = $t->psql($_[0]); return $r[0][0] }

sub run { $t->run_cmd(@_) }
sub analytics { run($jobs, 'analytics', @_) }

my ($out, $err, $rc) = analytics();
is($rc, 1, 'without access_log_bucket: exit 1');
like($err, qr/access_log_bucket is not set/, '... saying why');
$t->env->{DANDI_ACCESS_LOG_BUCKET} = $bucket;
$t->env->{DANDI_ACCESS_LOG_PREFIX} = 'logs/';

# --- blobs in dandisets ------------------------------------------------------------------
sub dandiset { $t->post('/api/dandisets/' . ($_[0] ? '?embargo=true' : ''), { name => 'D', metadata => {} },
    token => $owner)->{json}{identifier} }
my ($d1, $d2, $d3) = (dandiset(0), dandiset(0), dandiset(1));
my ($A, $B, $C) = map { my $u = Upload::upload($t, $owner, $d1, "bytes of $_"); $u->{blob} or die; $u->{blob}{blob_id} }
    qw(a b c);
my $E = Upload::upload($t, $owner, $d3, 'embargoed bytes')->{blob}{blob_id};
my $n = 0;
sub asset { my ($ds, $blob) = @_; my $r = $t->post("/api/dandisets/$ds/versions/draft/assets/",
    { blob_id => $blob, metadata => { path => 'f' . ++$n . '.nwb' } }, token => $owner); die $r->{body} unless $r->{status} == 200 }
# d1: A (twice, two paths) and B; d2: B and C; d3 (embargoed): E.
asset($d1, $A); asset($d1, $A); asset($d1, $B); asset($d2, $B); asset($d2, $C); asset($d3, $E);
my %key = map { ($_ => one("SELECT blob FROM blobs WHERE blob_id = '$_'")) } $A, $B, $C, $E;

# --- log lines in the AWS format ------------------------------------------------------------
my $OWNER = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
my $req = 0;
sub line {
	my ($op, $key, $status, %o) = @_;
	my $k = $o{encoded} ? $key =~ s{/}{%2F}gr : $key;
	my $m = $op =~ /HEAD/ ? 'HEAD' : 'GET';
	return join ' ', $OWNER, $o{bucket} // $bucket, '[06/Feb/2026:00:00:38 +0000]', '192.0.2.3', '-',
	    sprintf('%016X', ++$req), $op, $k, qq("$m /$bucket/$key HTTP/1.1"), $status,
	    ($status >= 400 ? 'AccessDenied' : '-'), ($status >= 400 ? 243 : 11), 11, 7, 5, '"-"',
	    $o{agent} ? qq("$o{agent}") : qq("dandi/0.61.0 \\"test\\" agent"), '-', 'hostid=', 'SigV4', 'ECDHE-RSA-AES128-GCM-SHA256', 'AuthHeader',
	    "$bucket.s3.amazonaws.com", 'TLSv1.2', '-', '-';
}
sub put_log {
	my ($name, @lines) = @_;
	my ($fh, $file) = tempfile(DIR => $t->dir);
	print $fh join("\n", @lines);
	print $fh "\n" unless $name =~ /E0$/;	# one log without a final newline
	close $fh;
	my (undef, $e, $code) = run($tool, 'put', "logs/$name", $file);
	die "put logs/$name: $e" if $code;
}
my $unknown = 'blobs/0a1/b2c/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
put_log('2026-02-06-00-05-12-0123456789ABCDEF',
	line('REST.GET.OBJECT', $key{$A}, 200),
	line('REST.GET.OBJECT', $key{$A}, 200),
	line('REST.GET.OBJECT', $key{$A}, 206),
	line('REST.GET.OBJECT', $key{$A}, 403),
	line('REST.GET.OBJECT', $key{$B}, 404),
	line('REST.HEAD.OBJECT', $key{$B}, 200),
	line('REST.GET.OBJECT', $key{$B}, 200, encoded => 1),
	line('REST.GET.OBJECT', 'zarr/1234/0/0', 200),
	line('REST.GET.OBJECT', $key{$A}, 200, bucket => 'another-bucket'),
	line('REST.GET.OBJECT', $unknown, 200),
	'this is not a log line',
	line('REST.GET.OBJECT', $key{$A}, 200) =~ s/"GET .*//r,
);
put_log('2026-02-06-01-05-12-0123456789ABCDE0',
	(map { line('REST.GET.OBJECT', $key{$C}, 200) } 1 .. 3),
	line('REST.GET.OBJECT', $key{$B}, 206),
	line('REST.GET.OBJECT', $key{$E}, 200),
	# the archive's own read (the sha256 job, verify): not a download
	line('REST.GET.OBJECT', $key{$E}, 200, agent => 'dandi-archive-c'),
);
put_log('readme.txt', 'not a log object: its name says so');

sub counts { +{ map { @$_ } $t->psql("SELECT blob_id, download_count FROM blobs") } }
sub stats { my $r = $t->get('/api/stats/downloads/' . ($_[0] // ''), $_[1] ? (token => $_[1]) : ()); $r->{status} == 200 ? $r->{json} : $r->{status} }

($out, $err, $rc) = analytics();
is($rc, 0, 'analytics: exit 0');
like($out, qr/^counted 2 log\(s\): 9 download\(s\)$/m, 'two logs counted, nine downloads of known blobs');
like($err, qr/2026-02-06-00-05-12-0123456789ABCDEF: 2 malformed line\(s\) skipped/, 'malformed lines reported');
is_deeply(counts(), { $A => 3, $B => 2, $C => 3, $E => 1 },
    'counts: 200 and 206 GETs of blobs only (not 403/404, HEAD, other keys, other buckets, malformed lines, the archive\'s own reads)');
is_deeply([ $t->psql("SELECT name, lines, skipped, downloads FROM processed_s3_logs ORDER BY name") ],
    [ [ 'logs/2026-02-06-00-05-12-0123456789ABCDEF', 12, 2, 4 ], [ 'logs/2026-02-06-01-05-12-0123456789ABCDE0', 6, 0, 5 ] ],
    'processed_s3_logs: one row per log with what it held');

my $all = { count => 2, results => [ { identifier => $d1, download_count => 5 }, { identifier => $d2, download_count => 5 } ] };
is_deeply(stats(), $all, 'GET /api/stats/downloads/: per open dandiset, each blob once (A twice in d1 counts once)');
is_deeply(stats("?dandiset=$d2"), { count => 1, results => [ { identifier => $d2, download_count => 5 } ] },
    '?dandiset= filter');
is(stats("?dandiset=$d3"), 401, 'an embargoed dandiset: 401 for anonymous');
is_deeply(stats("?dandiset=$d3", $owner), { count => 1, results => [ { identifier => $d3, download_count => 1 } ] },
    '... its counts for its owner');
is(stats('?dandiset=999999'), 404, 'unknown dandiset: 404');
is_deeply($t->get('/api/stats/downloads/?dandiset=12')->{json}, { dandiset => [ 'A valid Dandiset identifier is required.' ] },
    'bad identifier: 400');
is_deeply([ sort keys %{ $t->get('/api/stats/')->{json} } ], [ qw(dandiset_count published_dandiset_count size user_count) ],
    'GET /api/stats/ keeps its shape');

# --- a rerun counts nothing again ------------------------------------------------------------
($out, $err, $rc) = analytics();
like($out, qr/^counted 0 log\(s\): 0 download\(s\)$/m, 'rerun: nothing counted');
is_deeply(counts(), { $A => 3, $B => 2, $C => 3, $E => 1 }, '... counts unchanged');
($out, $err, $rc) = analytics('--all');
like($out, qr/^counted 0 log\(s\)/m, 'rerun listing everything: nothing counted');

# --- two runs at once: each log once -----------------------------------------------------------
for my $h (2 .. 9) {
	put_log(sprintf('2026-02-06-%02d-05-12-0123456789ABCDEF', $h), (map { line('REST.GET.OBJECT', $key{$A}, 200) } 1 .. 50),
	    line('REST.GET.OBJECT', $key{$B}, 200));
}
my @kids;
for my $k (1 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		%ENV = (%ENV, %{ $t->env });
		open(STDOUT, '>', $t->dir . "/an$k.out");
		open(STDERR, '>', $t->dir . "/an$k.err");
		exec($jobs, 'analytics') or POSIX::_exit(127);
	}
	push @kids, $pid;
}
my $codes = 0;
for (@kids) { waitpid($_, 0); $codes |= $? }
is($codes, 0, 'two runs at once: both exit 0');
my $logs = 0;
for my $k (1 .. 2) {
	open(my $f, '<', $t->dir . "/an$k.out") or die;
	$logs += $1 if do { local $/; <$f> } =~ /^counted (\d+) log/m;
}
is($logs, 8, 'the two runs counted the eight new logs between them');
is_deeply(counts(), { $A => 3 + 400, $B => 2 + 8, $C => 3, $E => 1 }, '... each once: no double counting');
is(one("SELECT count(*) FROM processed_s3_logs"), 10, 'ten logs processed');

# --- a later log adds on top ---------------------------------------------------------------------
put_log('2026-02-07-00-00-00-00000000000000AA', line('REST.GET.OBJECT', $key{$C}, 206), line('REST.GET.OBJECT', $key{$C}, 200));
like((analytics())[0], qr/^counted 1 log\(s\): 2 download\(s\)$/m, 'a new log: counted');
is_deeply(counts(), { $A => 403, $B => 10, $C => 5, $E => 1 }, '... on top');
is_deeply(stats("?dandiset=$d1")->{results}, [ { identifier => $d1, download_count => 413 } ], 'd1: A + B');
is_deeply(stats("?dandiset=$d2")->{results}, [ { identifier => $d2, download_count => 15 } ], 'd2: B + C');

# --- listing starts after the logs counted more than two days ago ------------------------------------
$t->psql("UPDATE processed_s3_logs SET processed_at = now() - interval '3 days'");
put_log('2026-02-06-00-00-00-00000000000000BB', line('REST.GET.OBJECT', $key{$C}, 200));
like((analytics())[0], qr/^counted 0 log\(s\)/m, 'a log named before the old ones is not listed');
like((analytics('--all'))[0], qr/^counted 1 log\(s\): 1 download\(s\)$/m, '--all lists everything: counted');
is(counts()->{$C}, 6, '... once');

# --- a run that dies counts nothing: the log is counted by the next ---------------------------------
put_log('2026-02-08-00-00-00-00000000000000CC', line('REST.GET.OBJECT', $key{$C}, 200));
$t->psql("ALTER TABLE blobs ADD CONSTRAINT test_no_more_counts CHECK (download_count < 7) NOT VALID");
($out, $err, $rc) = analytics();
isnt($rc, 0, 'a run failing while counting: exit non-zero');
is(one("SELECT count(*) FROM processed_s3_logs WHERE name LIKE '%CC'"), 0, '... the log is not marked counted');
is(counts()->{$C}, 6, '... nor anything counted');
$t->psql("ALTER TABLE blobs DROP CONSTRAINT test_no_more_counts");
like((analytics())[0], qr/^counted 1 log\(s\): 1 download\(s\)$/m, 'the next run counts it');
is(counts()->{$C}, 7, '... once');

done_testing();
