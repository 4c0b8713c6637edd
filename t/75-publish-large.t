# Publishing a draft of 10,000 assets: the real validation sweep, the
# publish job, the published version's assets (listed by walking next
# links), its summary, and the freeze: the published version refuses
# every write, and a later draft edit leaves it as it was.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use DandiTest;

my $N = 10_000;
my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
sub one { my @r = $t->psql(@_); $r[0][0] }

my $md = { description => 'Many files', license => ['spdx:CC-BY-4.0'],
	contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
	    includeInCitation => JSON::PP::true, schemaKey => 'Person' } ] };
my $id = $t->post('/api/dandisets/', { name => 'Ten thousand', metadata => $md }, token => $alice)->{json}{identifier};
my $blob = '00000001-1111-4000-8000-000000000000';
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$blob', 'blobs/x/$blob', '"
    . ('0' x 31) . "1-1', 7, '" . ('0' x 63) . "1')");
my $first = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $blob,
    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => 'sub-0000/f00000.nwb' } },
    token => $alice);
is($first->{status}, 200, 'first asset through the API');

# The other 9,999 as the API would store them: the same stripped metadata,
# rows attached to the draft through the same SQL the API calls.
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft'");
$t->psql(<<SQL);
WITH src AS (SELECT blob_id, metadata FROM assets WHERE asset_id = '$first->{json}{asset_id}'),
new AS (INSERT INTO assets (asset_id, path, blob_id, metadata)
        SELECT gen_random_uuid(), 'sub-' || lpad((g / 1000)::text, 4, '0') || '/f' || lpad(g::text, 5, '0') || '.nwb',
               src.blob_id, src.metadata FROM src, generate_series(1, $N - 1) g RETURNING id)
INSERT INTO asset_versions (asset_id, version_id) SELECT id, $vid FROM new;
SELECT count(dandi_asset_paths_put($vid, a)) FROM assets a JOIN asset_versions av ON av.asset_id = a.id
WHERE av.version_id = $vid AND a.asset_id <> '$first->{json}{asset_id}';
SELECT dandi_asset_paths_fold($vid);
UPDATE versions SET status = 'Pending' WHERE id = $vid;
SQL
is($t->get("/api/dandisets/$id/versions/draft/assets/")->{json}{count}, $N, "asset count $N");

$t->jobs('validate');
my $info = $t->get("/api/dandisets/$id/versions/draft/info/", token => $alice)->{json};
is_deeply([ $info->{status}, $info->{asset_validation_errors} ], [ 'Valid', [] ], 'sweep: draft and assets Valid')
    or diag(encode_json($info->{version_validation_errors}));
is(one("SELECT count(*) FROM assets WHERE status = 'Valid'"), $N, "all $N assets Valid");
$t->psql("UPDATE versions SET status = 'Pending' WHERE id = $vid");
$t->jobs('validate');
is($t->get("/api/dandisets/$id/versions/draft/")->{json}{assetsSummary}{numberOfFiles}, $N,
    'the sweep refreshes the draft assetsSummary over its Valid assets');

my $r = $t->post("/api/dandisets/$id/versions/draft/publish/", undef, token => $alice);
is($r->{status}, 202, 'publish: 202');
like($t->jobs('run', '--no-validate'), qr/^1 job\(s\) worked/m, 'publish job done');
my $v = $t->get("/api/dandisets/$id/")->{json}{most_recent_published_version};
like($v->{version} // '', qr/^0\.\d{6}\.\d{4}$/, 'published version');
my $pv = $v->{version};
my $pub = $t->get("/api/dandisets/$id/versions/$pv/")->{json};
is($pub->{assetsSummary}{numberOfFiles}, $N, "assetsSummary: $N files");
is($pub->{assetsSummary}{numberOfBytes}, 7 * $N, 'assetsSummary: bytes');

# Walk the published version as the dandi client does.
my ($url, %seen, $pages) = ("/api/dandisets/$id/versions/$pv/assets/?page_size=1000");
while (defined $url) {
	$r = $t->get($url);
	last unless $r->{status} == 200;
	$seen{ $_->{asset_id} }++ for @{ $r->{json}{results} };
	$url = $r->{json}{next};
	$pages++;
}
is_deeply([ $pages, scalar keys %seen, scalar grep { $_ > 1 } values %seen ], [ 10, $N, 0 ],
    'next links: 10 pages, every asset once');
is(one("SELECT count(*) FROM assets WHERE published"), $N, 'every asset frozen (published)');

# Frozen: writes to the published version are refused.
my ($some) = keys %seen;
my $P = "/api/dandisets/$id/versions/$pv";
is($t->put("$P/assets/$some/", { blob_id => $blob, metadata => { path => 'x.nwb' } }, token => $alice)->{status}, 405,
    'PUT an asset of the published version: 405');
is($t->delete("$P/assets/$some/", token => $alice)->{status}, 405, 'DELETE an asset of it: 405');
is($t->post("$P/assets/", { blob_id => $blob, metadata => { path => 'new.nwb' } }, token => $alice)->{status}, 405,
    'POST an asset to it: 405');
is($t->put("$P/", { name => 'x', metadata => $md }, token => $alice)->{status}, 405, 'PUT its metadata: 405');

# A draft edit makes a new asset row; the published one stays.
$r = $t->put("/api/dandisets/$id/versions/draft/assets/$some/", { blob_id => $blob,
    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => 'renamed.nwb' } }, token => $alice);
is($r->{status}, 200, 'draft: asset replaced');
isnt($r->{json}{asset_id}, $some, '... by a new asset');
like($t->get("$P/assets/$some/info/")->{json}{path}, qr{^sub-\d{4}/f\d{5}\.nwb$}, 'the published asset keeps its path');
is($t->get("$P/assets/")->{json}{count}, $N, "the published version still has $N assets");

done_testing();
