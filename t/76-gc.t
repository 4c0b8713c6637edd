# Garbage collection (dandi-jobs gc): stale uploads and orphan blobs go
# after the grace period, with GC events that can restore the rows, and
# their S3 objects go too; nothing any asset or version uses is touched;
# dry runs delete nothing; two collectors at once never double-delete.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use HTTP::Tiny;
use POSIX ();
use DandiTest;
use Upload qw(upload);

my $t = DandiTest->new(s3 => 1, workers => 2);
my $alice = $t->user('alice');
sub one { my @r = $t->psql(@_); $r[0][0] }
my $id = $t->post('/api/dandisets/', { name => 'GC', metadata => {} }, token => $alice)->{json}{identifier};
my $http = HTTP::Tiny->new(max_redirect => 0);

# Bytes of a blob straight from S3 (through a download redirect of an asset
# made for the purpose would need an asset; use a presigned GET via s3-tool).
my $tool = DandiTest::build() . '/t/unit/s3-tool';
sub s3_exists {
	my ($key) = @_;
	local %ENV = (%ENV, %{ $t->env });
	system($tool, 'head', $key) == 0 ? 1 : 0;
}

my @used = map { upload($t, $alice, $id, "used $_")->{blob} } 1 .. 2;
my @orphan = map { upload($t, $alice, $id, "orphan $_")->{blob} } 1 .. 3;
my $young = upload($t, $alice, $id, 'young orphan')->{blob};
for my $b (@used) {
	is($t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $b->{blob_id},
	    metadata => { path => "$b->{blob_id}.bin" } }, token => $alice)->{status}, 200, 'asset on a used blob');
}
# A blob only a removed-from-draft (but published-elsewhere-like) asset uses.
my $kept = upload($t, $alice, $id, 'kept by an orphan asset')->{blob};
my $a = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $kept->{blob_id},
    metadata => { path => 'gone.bin' } }, token => $alice)->{json};
is($t->delete("/api/dandisets/$id/versions/draft/assets/$a->{asset_id}/", token => $alice)->{status}, 204,
    'asset removed from the draft (the row stays)');
# Stale uploads: one initialized and never sent, one sent but never validated.
my $stale = $t->post('/api/uploads/initialize/', { contentSize => 3, dandiset => $id,
    digest => { algorithm => 'dandi:dandi-etag', value => ('a' x 32) . '-1' } }, token => $alice)->{json};
my $fresh = $t->post('/api/uploads/initialize/', { contentSize => 3, dandiset => $id,
    digest => { algorithm => 'dandi:dandi-etag', value => ('b' x 32) . '-1' } }, token => $alice)->{json};

# Age everything but the young ones past the grace period.
$t->psql("UPDATE blobs SET created = now() - interval '8 days' WHERE blob_id <> '$young->{blob_id}'");
$t->psql("UPDATE uploads SET created = now() - interval '8 days' WHERE upload_id = '$stale->{upload_id}'");
$t->psql("UPDATE assets SET modified = now() - interval '8 days'");
my $key_of = sub { one("SELECT blob FROM blobs WHERE blob_id = '$_[0]'") };
my @orphan_keys = map { $key_of->($_->{blob_id}) } @orphan;
ok(s3_exists($orphan_keys[0]), 'orphan bytes are in S3 before');

my $out = $t->jobs('gc', '--dry-run');
like($out, qr/^stale uploads: 1 /m, 'dry run: one stale upload');
like($out, qr/^orphan blobs: 3 /m, 'dry run: three orphan blobs');
like($out, qr/^orphan assets: 1 /m, 'dry run: one orphan asset');
is(one('SELECT count(*) FROM blobs'), 7, 'dry run deletes nothing');

# Two collectors at once.
my @kids = map { my $pid = fork // die; if ($pid == 0) { eval { $t->jobs('gc') }; POSIX::_exit(0) } $pid } 1 .. 2;
waitpid($_, 0) for @kids;
is(one('SELECT count(*) FROM blobs'), 4, 'orphan blobs deleted, once');
is(one("SELECT count(*) FROM gc_event_records r JOIN gc_events e ON e.id = r.event_id WHERE e.type = 'AssetBlob'"), 3,
    'one GC record per deleted blob (no double delete)');
is(one("SELECT count(*) FROM gc_event_records r JOIN gc_events e ON e.id = r.event_id WHERE e.type = 'Upload'"), 1,
    'one GC record for the stale upload');
is(one("SELECT count(*) FROM uploads WHERE upload_id = '$fresh->{upload_id}'"), 1, 'a fresh upload stays');
is(one("SELECT count(*) FROM blobs WHERE blob_id = '$young->{blob_id}'"), 1, 'a young orphan blob stays');
is(one("SELECT count(*) FROM blobs WHERE blob_id IN ('$used[0]{blob_id}', '$used[1]{blob_id}', '$kept->{blob_id}')"), 3,
    'blobs any asset uses stay (even an asset in no version)');
ok(!s3_exists($_), "orphan object $_ deleted from S3") for @orphan_keys;
ok(s3_exists($key_of->($used[0]{blob_id})), 'used bytes stay in S3');
my $rec = one("SELECT record::text FROM gc_event_records r JOIN gc_events e ON e.id = r.event_id"
    . " WHERE e.type = 'AssetBlob' ORDER BY r.id LIMIT 1");
like($rec, qr/"model": "api.assetblob"/, 'the record names the model');
like($rec, qr/"etag": "[0-9a-f]{32}-1"/, 'and holds the row (enough to restore it)');

# Orphan assets only with --assets.
is(one("SELECT count(*) FROM assets WHERE asset_id = '$a->{asset_id}'"), 1, 'orphan asset kept without --assets');
like($t->jobs('gc', '--assets'), qr/deleted: 0 uploads, 0 blobs, 1 assets/, 'gc --assets');
is(one("SELECT count(*) FROM assets WHERE asset_id = '$a->{asset_id}'"), 0, 'orphan asset gone');
like($t->jobs('gc'), qr/deleted: 0 uploads, 1 blobs, 0 assets/, 'then its blob is an orphan and goes');
is(scalar(@{ $t->get("/api/dandisets/$id/versions/draft/assets/")->{json}{results} }), 2, 'the draft is untouched');

# Events older than 30 days are pruned.
$t->psql("UPDATE gc_events SET timestamp = now() - interval '31 days'");
$t->jobs('gc');
is(one('SELECT count(*) FROM gc_events'), 0, 'old GC events pruned');
done_testing;
