# dandi-jobs verify (beyond the original): blobs read back from S3 and
# checked against their recorded size, ETag and sha256; a corrupted and a
# deleted object are reported (stderr, exit status, --report); a blob
# claimed elsewhere is skipped and taken again once the claim is gone; two
# verifiers at once check each blob once.
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
sub one { my @r = $t->psql($_[0]); return $r[0][0] }

sub run { $t->run_cmd(@_) }
sub verify { run($jobs, 'verify', @_) }

my $id = $t->post('/api/dandisets/', { name => 'Verified', metadata => {} }, token => $owner)->{json}{identifier};
my @bytes = map { "blob number $_ " . ('x' x (1000 * $_)) } 1 .. 3;
my @blobs = map { my $u = Upload::upload($t, $owner, $id, $_); $u->{blob} or die "upload failed"; $u->{blob}{blob_id} } @bytes;
my %key = map { ($_ => one("SELECT blob FROM blobs WHERE blob_id = '$_'")) } @blobs;

my ($out, $err, $rc) = verify();
like($out, qr/^verified 0 blob\(s\)/m, 'before the sha256 job nothing is verifiable');
is($rc, 0, '... exit 0');
like($t->jobs('run', '--no-validate'), qr/^3 job\(s\) worked/m, 'sha256 job for the three blobs');

# --- all good -------------------------------------------------------------------------
($out, $err, $rc) = verify();
like($out, qr/^verified 3 blob\(s\): 3 ok, 0 failed$/m, 'verify: 3 ok');
is($rc, 0, '... exit 0');
is($err, '', '... nothing on stderr');
is(one("SELECT count(*) FROM blob_integrity WHERE ok AND checked_at IS NOT NULL"), 3, 'three blobs verified ok');
is(one("SELECT count(*) FROM blob_verifications WHERE ok AND detail = ''"), 3, 'three checks recorded');
($out, $err, $rc) = verify();
like($out, qr/^verified 0 blob\(s\)/m, 'a second run: nothing due (checked less than 30 days ago)');
($out, $err, $rc) = run($jobs, 'verify', '--report');
is_deeply([ $out, $rc ], [ '', 0 ], 'report: no failures, exit 0');
like($err, qr/^3 verifiable blob\(s\), 0 never verified, 0 failing$/m, 'report summary');

# --- one object corrupted (same size, other bytes), one deleted ---------------------------
my ($bad, $gone, $good) = @blobs;
my ($fh, $file) = tempfile(DIR => $t->dir);
(my $other = $bytes[0]) =~ tr/x/y/;
print $fh $other;
close $fh;
is(length $other, length $bytes[0], 'the corrupt bytes have the same size');
is((run($tool, 'put', $key{$bad}, $file))[2], 0, 'object overwritten through S3');
is((run($tool, 'delete', $key{$gone}))[2], 0, 'another object deleted through S3');

($out, $err, $rc) = verify('--older-than', '0 seconds');
like($out, qr/^verified 3 blob\(s\): 1 ok, 2 failed$/m, 'verify again: 2 failed');
isnt($rc, 0, '... exit status non-zero');
like($err, qr/blob \Q$bad\E \(\Q$key{$bad}\E\) FAILED: .*sha256: computed [0-9a-f]{64}, the blob [0-9a-f]{64}/,
    'stderr: the corrupt blob, sha256 mismatch');
like($err, qr/blob \Q$bad\E .*etag: S3 ETag [0-9a-f]{32} does not match/, '... and its S3 ETag');
like($err, qr/blob \Q$bad\E .*dandi-etag: computed/, '... and its dandi-etag');
like($err, qr/blob \Q$gone\E \(\Q$key{$gone}\E\) FAILED: missing: no object/, 'stderr: the deleted blob, missing');
unlike($err, qr/\Q$good\E/, 'the good blob is not named');
like($err, qr/2 blob\(s\) failed verification; see dandi-jobs verify --report/, 'stderr: what to do');

($out, $err, $rc) = run($jobs, 'verify', '--report');
my @rows = map { [ split /\t/ ] } split /\n/, $out;
is_deeply([ sort map { $_->[0] } @rows ], [ sort $bad, $gone ], 'report lists both failing blobs');
is_deeply({ map { ($_->[0] => $_->[1]) } @rows }, { $bad => $key{$bad}, $gone => $key{$gone} }, '... with their keys');
like($out, qr/^\Q$gone\E\t.*\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\tmissing: /m, '... when and why');
isnt($rc, 0, 'report exit status non-zero while blobs fail');
like($err, qr/^3 verifiable blob\(s\), 0 never verified, 2 failing$/m, 'report summary');

# Put the bytes back: the next check is good again, the failure stays on record.
($fh, $file) = tempfile(DIR => $t->dir);
print $fh $bytes[0];
close $fh;
run($tool, 'put', $key{$bad}, $file);
$t->psql("UPDATE blob_integrity SET checked_at = checked_at - interval '1 hour'"
    . " WHERE blob_id = (SELECT id FROM blobs WHERE blob_id = '$bad')");
($out, $err, $rc) = verify('--older-than', '0 seconds', '--max', '1');
like($out, qr/^verified 1 blob\(s\): 1 ok, 0 failed$/m, '--max 1, oldest check first: the repaired blob, ok');
is($rc, 0, '... exit 0');
($out) = run($jobs, 'verify', '--report');
is_deeply([ map { (split /\t/)[0] } split /\n/, $out ], [ $gone ], 'report: only the deleted blob now');
($out) = run($jobs, 'verify', '--report', '--all');
is(scalar(() = $out =~ /^\Q$bad\E\t/mg), 1, 'report --all keeps the earlier failure of the repaired blob');

# --- a claimed blob is skipped; a dead claim frees it ------------------------------------
$t->psql("UPDATE blob_integrity SET checked_at = NULL");
my $holder = fork // die;
if ($holder == 0) {
	%ENV = (%ENV, %{ $t->env });
	open(STDOUT, '>', '/dev/null');
	open(STDERR, '>', '/dev/null');	# it is terminated below, on purpose
	exec('psql', '-X', '-q', '-c', "BEGIN; SELECT 1 FROM blob_integrity WHERE blob_id ="
	    . " (SELECT id FROM blobs WHERE blob_id = '$good') FOR UPDATE; SELECT pg_sleep(60); COMMIT;")
	    or POSIX::_exit(127);
}
for (1 .. 100) {
	# (pg_stat_activity covers the whole cluster, which other test files share.)
	last if one("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()"
	    . " AND wait_event = 'PgSleep' AND datname = current_database()");
	select(undef, undef, undef, 0.1);
}
($out, $err, $rc) = verify();
like($out, qr/^verified 2 blob\(s\)/m, 'a blob locked by another verifier is skipped');
is(one("SELECT checked_at IS NULL FROM blob_integrity i JOIN blobs b ON b.id = i.blob_id WHERE b.blob_id = '$good'"),
    't', '... and left unchecked');
# The holder dies (as a killed verifier would): its claim goes with it.
$t->psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%'"
    . " AND pid <> pg_backend_pid() AND datname = current_database()");
waitpid($holder, 0);
($out, $err, $rc) = verify();
like($out, qr/^verified 1 blob\(s\): 1 ok, 0 failed$/m, 'the next run takes it');

# --- two verifiers at once: each blob checked once -------------------------------------
my @more = map { my $u = Upload::upload($t, $owner, $id, "parallel $_ " . ('z' x (200_000 + $_))); $u->{blob}{blob_id} }
    1 .. 8;
like($t->jobs('run', '--no-validate'), qr/^8 job\(s\) worked/m, 'sha256 of eight more blobs');
my $before = one("SELECT count(*) FROM blob_verifications");
my @kids;
for my $k (1 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		%ENV = (%ENV, %{ $t->env });
		open(STDOUT, '>', $t->dir . "/verify$k.out");
		open(STDERR, '>', $t->dir . "/verify$k.err");
		exec($jobs, 'verify') or POSIX::_exit(127);
	}
	push @kids, $pid;
}
waitpid($_, 0) for @kids;
my $sum = 0;
for my $k (1 .. 2) {
	open(my $f, '<', $t->dir . "/verify$k.out") or die;
	my $o = do { local $/; <$f> };
	$sum += $1 if $o =~ /^verified (\d+) blob/m;
}
is($sum, 8, 'the two runs verified eight blobs between them');
is(one("SELECT count(*) FROM blob_verifications") - $before, 8, 'eight checks recorded');
my $list = join ',', map { "'$_'" } @more;
is_deeply([ $t->psql("SELECT count(DISTINCT v.blob_id), count(*) FROM blob_verifications v JOIN blobs b ON b.id = v.blob_id"
    . " WHERE b.blob_id IN ($list)") ], [ [ 8, 8 ] ], 'each new blob checked exactly once');
is(one("SELECT count(*) FROM blob_integrity i JOIN blobs b ON b.id = i.blob_id WHERE b.blob_id IN ($list) AND i.ok"),
    8, 'all ok');

# An object of another size fails on its size alone (not read).
my $short = $more[0];
($fh, $file) = tempfile(DIR => $t->dir);
print $fh 'short';
close $fh;
run($tool, 'put', one("SELECT blob FROM blobs WHERE blob_id = '$short'"), $file);
$t->psql("UPDATE blob_integrity SET checked_at = checked_at - interval '31 days'"
    . " WHERE blob_id = (SELECT id FROM blobs WHERE blob_id = '$short')");
($out, $err, $rc) = verify();
like($out, qr/^verified 1 blob\(s\): 0 ok, 1 failed$/m, 'due after 30 days: checked again, failed');
like($err, qr/blob \Q$short\E .*FAILED: size: S3 has 5 bytes, the blob 2000\d\d$/m, '... on its size');
isnt($rc, 0, '... exit non-zero');

# A two-part blob: S3's multipart ETag and the dandi-etag recomputed over
# the part plan agree with the blob's.
my $big = Upload::upload($t, $owner, $id, ('q' x (64 * 1024 * 1024)) . 'tail')->{blob}{blob_id};
like(one("SELECT etag FROM blobs WHERE blob_id = '$big'"), qr/-2$/, 'a blob of two parts');
$t->jobs('run', '--no-validate');
($out, $err, $rc) = verify();
like($out, qr/^verified 1 blob\(s\): 1 ok, 0 failed$/m, 'verified ok') or diag($err);

# Garbage collection of a verified blob takes its records along.
$t->psql("DELETE FROM blobs WHERE blob_id = '$gone'");
is(one("SELECT count(*) FROM blob_integrity i LEFT JOIN blobs b ON b.id = i.blob_id WHERE b.id IS NULL"), 0,
    'a deleted blob leaves no integrity row');

done_testing();
