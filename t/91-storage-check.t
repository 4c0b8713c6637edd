# dandi-jobs storage-check (issue 18): the database and the bucket side by
# side. A consistent archive passes; a deleted object is missing, a
# rewritten one differs (both exit 1); an object nothing owns is an orphan
# (reported, exit 0) while an upload's object is not; a row whose key has
# another form is checked by HEAD; zarr archives with files but no objects,
# and zarr/ prefixes without an archive, are reported too.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use File::Temp qw(tempfile);
use DandiTest;
use Upload ();

my $t = DandiTest->new(s3 => 1);
my $owner = $t->user('stella');
my $tool = DandiTest::build() . '/t/unit/s3-tool';
my $jobs = DandiTest::build() . '/src/dandi-jobs';
sub one { my @r = $t->psql($_[0]); return $r[0][0] }
sub check { $t->run_cmd($jobs, 'storage-check', @_) }
sub put_object {
	my ($key, $bytes) = @_;
	my ($fh, $file) = tempfile(DIR => $t->dir);
	print $fh $bytes;
	close $fh;
	my (undef, $err, $rc) = $t->run_cmd($tool, 'put', $key, $file);
	is($rc, 0, "put $key") or diag $err;
}
# The report's lines: class => { key => detail }.
sub lines {
	my %r;
	for (split /\n/, $_[0]) {
		my ($class, $key, $detail) = split /\t/;
		$r{$class}{$key} = $detail if defined $detail;
	}
	return \%r;
}

my ($out, $err, $rc) = check();
like($out, qr/^storage-check: 0 blob row\(s\), 0 object\(s\): 0 missing, 0 differing, 0 orphan\(s\) of 0 bytes; 0 zarr row\(s\), 0 prefix\(es\): 0 missing, 0 orphan\(s\); [\d.]+ s$/m,
    'an empty archive: nothing to report');
is($rc, 0, '... exit 0');

my $ds = $t->post('/api/dandisets/', { name => 'Stored', metadata => {} }, token => $owner)->{json}{identifier};
my @bytes = map { "stored blob $_ " . ('z' x (700 * $_)) } 1 .. 4;
my @blobs = map { my $u = Upload::upload($t, $owner, $ds, $_); $u->{blob} or die "upload failed"; $u->{blob}{blob_id} } @bytes;
my %key = map { ($_ => one("SELECT blob FROM blobs WHERE blob_id = '$_'")) } @blobs;
# An upload whose object is complete but not yet validated into a blob.
my $pending = Upload::upload($t, $owner, $ds, 'an upload in flight', no_validate => 1);
is($pending->{step}, 'completed', 'an upload completed at S3, not validated');

($out, $err, $rc) = check();
like($out, qr/^storage-check: 4 blob row\(s\), 5 object\(s\): 0 missing, 0 differing, 0 orphan\(s\) of 0 bytes;/m,
    'four blobs and the upload\'s object: consistent (the upload owns its object)');
is($rc, 0, '... exit 0');
is($err, '', '... nothing on stderr');

# --- damage ---------------------------------------------------------------------------
my ($rewritten, $deleted, $renamed, $fine) = @blobs;
put_object($key{$rewritten}, 'other bytes');
is(($t->run_cmd($tool, 'delete', $key{$deleted}))[2], 0, 'an object deleted through S3');
my $stray = 'blobs/abc/def/abcdef00-1111-4222-8333-444455556666';
put_object($stray, 'nobody owns me');
# A row whose key is not the one its uuid gives: checked by HEAD, and the
# object at the usual key is then nobody's.
$t->psql("UPDATE blobs SET blob = 'legacy/$renamed' WHERE blob_id = '$renamed'");
put_object("legacy/$renamed", $bytes[2]);

($out, $err, $rc) = check();
my $r = lines($out);
is_deeply([ sort keys %{ $r->{missing} // {} } ], [ $key{$deleted} ], 'missing: the deleted object, by its key');
like($r->{missing}{$key{$deleted}}, qr/^blob \Q$deleted\E: no object in S3$/, '... with its blob');
is_deeply([ sort keys %{ $r->{differs} // {} } ], [ $key{$rewritten} ], 'differs: the rewritten object');
like($r->{differs}{$key{$rewritten}}, qr/^blob \Q$rewritten\E: 11 bytes, ETag [0-9a-f]{32} in S3; ${\ length $bytes[0]} bytes, ETag [0-9a-f]{32}-1 in the database$/,
    '... sizes and ETags of both sides');
is_deeply([ sort keys %{ $r->{orphan} // {} } ], [ sort $stray, $key{$renamed} ],
    'orphans: the stray object and the object the renamed row left');
like($r->{orphan}{$stray}, qr/^14 bytes: no blob or upload has this object$/, '... with its size');
like($out, qr/^storage-check: 4 blob row\(s\), 6 object\(s\): 1 missing, 1 differing, 2 orphan\(s\) of \d+ bytes;/m,
    'the summary counts them');
isnt($rc, 0, 'missing and differing objects: exit status non-zero');
like($err, qr/2 object\(s\) missing or differing/, '... and stderr says so');
unlike($out, qr/\Q$fine\E/, 'the good blob is not named');

# The row of the renamed blob pointing at nothing is missing too.
is(($t->run_cmd($tool, 'delete', "legacy/$renamed"))[2], 0, 'the legacy-key object deleted');
($out, $err, $rc) = check();
$r = lines($out);
is_deeply($r->{missing}, { "legacy/$renamed" => "blob $renamed: no object in S3",
    $key{$deleted} => "blob $deleted: no object in S3" },
    'a legacy-key row without its object: missing (found by HEAD), by its key');

# Repaired: the bytes back (put in one piece: a plain md5 ETag, as a
# restore's copy gives, which is not compared), the stray gone, the key back.
put_object($key{$rewritten}, $bytes[0]);
put_object($key{$deleted}, $bytes[1]);
$t->psql("UPDATE blobs SET blob = '$key{$renamed}' WHERE blob_id = '$renamed'");
$t->run_cmd($tool, 'delete', $stray);
($out, $err, $rc) = check();
like($out, qr/: 0 missing, 0 differing, 0 orphan\(s\) of 0 bytes;/m, 'repaired: consistent again');
is($rc, 0, '... exit 0');

# --- a walk that overlaps an upload and the garbage collector --------------------------
# Between the walk and its re-check an upload's row appears for an object
# the walk saw without one, and gc deletes the row of a blob whose object it
# deleted first in this story (a row goes before its object in gc.c; here
# the order is forced to have a row the walk saw without an object): neither
# is reported.
my $late = 'blobs/fed/cba/fedcba00-1111-4222-8333-444455556666';
put_object($late, 'an upload racing the check');
is(($t->run_cmd($tool, 'delete', $key{$fine}))[2], 0, "the object of blob $fine deleted");
my $wait = $t->dir . '/storage-pause';
my $pid = fork // die;
if (!$pid) {
	%ENV = (%ENV, %{ $t->env }, DANDI_STORAGE_CHECK_WAIT => $wait);
	open(STDOUT, '>', "$wait.out") or die;
	exec($jobs, 'storage-check', '--no-zarr') or die;
}
for (1 .. 300) { last if -e "$wait.walked"; select(undef, undef, undef, 0.1) }
ok(-e "$wait.walked", 'the walk ended; the check waits before its re-check');
$t->psql("INSERT INTO uploads (dandiset_id, upload_id, blob, multipart_upload_id, size)
    VALUES (${\ int($ds)}, 'fedcba00-1111-4222-8333-444455556666', '$late', 'mpu-late', 26)");
$t->psql("DELETE FROM blobs WHERE blob_id = '$fine'");
open(my $go, '>', $wait) or die;
close $go;
waitpid($pid, 0);
is($? >> 8, 0, 'the check ends consistent: exit 0');
$out = do { local (@ARGV, $/) = ("$wait.out"); <> };
like($out, qr/^storage-check: 4 blob row\(s\), 5 object\(s\): 0 missing, 0 differing, 0 orphan\(s\)/m,
    'the walk saw the four rows and five objects, and counts nothing found again');
unlike($out, qr/^(missing|orphan)\t/m, '... and the re-check named none of them');

# --- zarr ------------------------------------------------------------------------------
my $did = int($ds);
my @zarr = ('0aaaaaaa-0000-4000-8000-000000000001', '0bbbbbbb-0000-4000-8000-000000000002',
	    '0ccccccc-0000-4000-8000-000000000003');
$t->psql("INSERT INTO zarrs (dandiset_id, zarr_id, name, file_count, size) VALUES
    ($did, '$zarr[0]', 'a.zarr', 2, 10), ($did, '$zarr[1]', 'b.zarr', 1, 5), ($did, '$zarr[2]', 'c.zarr', 0, 0)");
put_object("zarr/$zarr[0]/.zattrs", '{}');
put_object("zarr/$zarr[0]/0/0", 'chunk');
my $stray_zarr = '0abbbbbb-0000-4000-8000-0000000000ff';
put_object("zarr/$stray_zarr/.zgroup", '{}');
($out, $err, $rc) = check();
$r = lines($out);
is_deeply([ sort keys %{ $r->{missing} // {} } ], [ "zarr/$zarr[1]/" ], 'a zarr with files but no objects: missing');
is_deeply([ sort keys %{ $r->{orphan} // {} } ], [ "zarr/$stray_zarr/" ], 'a zarr prefix without an archive: orphan');
like($out, qr/; 3 zarr row\(s\), 2 prefix\(es\): 1 missing, 1 orphan\(s\);/m, 'zarr summary (an empty archive has no prefix and is fine)');
isnt($rc, 0, '... exit non-zero');
($out, $err, $rc) = check('--no-zarr');
is($rc, 0, '--no-zarr: blobs only, consistent');
unlike($out, qr/zarr/, '... and no zarr part');
# --- embargo tags ------------------------------------------------------------------------
# Objects of embargoed data carry embargoed=true; a restore's copy loses
# it, and embargo-tags puts it back.
my $eds = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $owner)->{json}{identifier};
my $eu = Upload::upload($t, $owner, $eds, 'embargoed bytes ' . ('e' x 500));
my $eblob = $eu->{blob}{blob_id} or die 'embargoed upload failed';
my $ekey = one("SELECT blob FROM blobs WHERE blob_id = '$eblob'");
my $ezarr = '0ddddddd-0000-4000-8000-000000000004';
$t->psql("INSERT INTO zarrs (dandiset_id, zarr_id, name, file_count, size) VALUES (${\ int($eds)}, '$ezarr', 'e.zarr', 1, 2)");
put_object("zarr/$ezarr/.zattrs", '{}');	# put without a tag, as a copy would
my $tags = sub { $t->s3_tags($_[0]) };
is($tags->($ekey), 'embargoed=true', 'the embargoed upload is tagged');
($out, $err, $rc) = $t->run_cmd($jobs, 'embargo-tags', '--check');
is_deeply(lines($out)->{untagged}, { "zarr/$ezarr/.zattrs" => 'embargoed, readable by the bucket\'s public-read policy' },
    'embargo-tags --check: the untagged zarr object of the embargoed dandiset');
like($out, qr/^embargo-tags: 2 embargoed object\(s\), 1 without the tag, 0 not in S3$/m, '... summary');
isnt($rc, 0, '... exit non-zero');
$t->run_cmd($tool, 'tag', $ekey, '-');
is($tags->($ekey), '', 'the blob\'s tag removed (as a restore would)');
($out, $err, $rc) = $t->run_cmd($jobs, 'embargo-tags');
like($out, qr/^embargo-tags: 2 embargoed object\(s\), 2 tagged, 0 not in S3$/m, 'embargo-tags: both tagged');
is($rc, 0, '... exit 0');
is($tags->($ekey), 'embargoed=true', 'the blob carries the tag again');
is($tags->("zarr/$ezarr/.zattrs"), 'embargoed=true', '... and the zarr object');
($out, $err, $rc) = $t->run_cmd($jobs, 'embargo-tags', '--check');
is($rc, 0, 'embargo-tags --check: all tagged, exit 0');
unlike($out, qr/^untagged/m, '... nothing reported');
is($tags->($key{$rewritten}), '', 'an open blob is left untagged');

($out, $err, $rc) = check('--bogus');
is($rc, 2, 'an unknown option: usage, exit 2');

done_testing();
