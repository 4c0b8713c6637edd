# GET /api/webdav/assets/atpath/ (the dandidav helper): the root, folders
# with and without children, files with and without metadata, trailing
# slashes, paging, parameter errors, unknown paths/dandisets/versions and
# embargo visibility.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use DandiTest;
use Shape qw(okeys);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice');
my $bob = $t->user('bob');
my $W = '/api/webdav/assets/atpath/';

my @blob;
for my $i (1 .. 3) {
	my $u = sprintf '%08d-0000-4000-8000-%012d', $i, $i;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$u', 'blobs/"
	    . substr($u, 0, 3) . '/' . substr($u, 3, 3) . "/$u', '" . sprintf('%032x', $i) . "-1', " . (100 * $i) . ")");
	push @blob, $u;
}
sub dandiset {
	my (%o) = @_;
	my $r = $t->post('/api/dandisets/' . ($o{embargo} ? '?embargo=true' : ''), { name => 'W', metadata => {} },
	    token => $alice);
	die "create: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
sub add {
	my ($id, $path, $b) = @_;
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $blob[$b // 0],
	    metadata => { path => $path } }, token => $alice);
	die "add $path: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
sub atpath {
	my ($q, %o) = @_;
	return $t->get("$W?$q", %o);
}

my $id = dandiset();
my $a = add($id, 'a.txt', 0);
my $b = add($id, 'b.txt', 1);
my $bar = add($id, 'foo/bar.txt', 1);
my $baz = add($id, 'foo/baz.txt', 2);
add($id, 'foo/sub/deep.txt', 0);
add($id, 'foo/sub/deeper/x.txt', 0);
my $Q = "dandiset_id=$id&version_id=draft";

# --- the root ---------------------------------------------------------------

my $r = atpath("$Q&children=false");
is($r->{status}, 200, 'root without children: 200');
is_deeply(okeys($r->{body}), [qw(count next previous results)], 'a page');
is_deeply([ @{ $r->{json} }{qw(count next previous)}, $r->{json}{results} ], [ 0, undef, undef, [] ],
    'root without children: empty');
is_deeply(atpath($Q)->{json}, $r->{json}, 'children defaults to false');
is_deeply(atpath("$Q&path=")->{json}, $r->{json}, 'an empty path is the root');
is_deeply(atpath("dandiset_id=" . ($id + 0) . "&version_id=draft")->{json}, $r->{json}, 'the id as a number');

$r = atpath("$Q&children=true");
is($r->{status}, 200, 'root with children: 200');
is($r->{json}{count}, 3, 'root: three children');
is_deeply([ map { "$_->{type} $_->{resource}{path}" } @{ $r->{json}{results} } ],
    [ 'asset a.txt', 'asset b.txt', 'folder foo' ], 'root children in path order');
is_deeply(okeys($r->{body}, 'results', 0), [qw(type resource)], 'result keys');
my ($ra, undef, $rfoo) = @{ $r->{json}{results} };
is_deeply([ sort keys %{ $ra->{resource} } ], [ sort qw(asset_id blob zarr path size created modified) ],
    'asset resource fields, no metadata');
is_deeply([ @{ $ra->{resource} }{qw(asset_id blob zarr path size created modified)} ],
    [ @$a{qw(asset_id blob zarr path size created modified)} ], 'asset resource as the asset info');
is_deeply($rfoo->{resource}, { path => 'foo', total_assets => 4, total_size => 200 + 300 + 100 + 100 },
    'folder resource: path and totals of everything below');
is_deeply(atpath("$Q&children=true&path=/")->{json}, $r->{json}, 'path / is the root');

# --- an asset -------------------------------------------------------------

$r = atpath("$Q&path=a.txt");
is($r->{status}, 200, 'asset: 200');
is($r->{json}{count}, 1, 'asset: one result');
is($r->{json}{results}[0]{type}, 'asset', 'asset: type');
is($r->{json}{results}[0]{resource}{asset_id}, $a->{asset_id}, 'asset: its id');
ok(!exists $r->{json}{results}[0]{resource}{metadata}, 'asset: no metadata unless asked');
is_deeply(atpath("$Q&path=a.txt&children=true")->{json}, $r->{json}, 'children has no effect on an asset');
$r = atpath("$Q&path=a.txt&metadata=true");
my $md = $r->{json}{results}[0]{resource}{metadata};
is(ref $md, 'HASH', 'metadata=true: metadata');
is($md->{path}, 'a.txt', 'metadata is the full one (path is computed)');
is($md->{identifier}, $a->{asset_id}, 'metadata identifier');
is_deeply($md, $t->get("/api/dandisets/$id/versions/draft/assets/$a->{asset_id}/")->{json},
    'metadata as the asset view serves it');
is(atpath("$Q&path=foo/bar.txt&metadata=1")->{json}{results}[0]{resource}{metadata}{path}, 'foo/bar.txt',
    'a nested asset with metadata');
$r = atpath("$Q&path=a.txt/");
is($r->{status}, 404, 'an asset with a trailing slash: 404');
is_deeply($r->{json}, { detail => 'Folder not found at a.txt' }, '... Folder not found');

# --- folders --------------------------------------------------------------

$r = atpath("$Q&path=foo&children=false");
is($r->{status}, 200, 'folder: 200');
is_deeply($r->{json}{results}, [ { type => 'folder', resource => { path => 'foo', total_assets => 4,
    total_size => 700 } } ], 'folder without children: itself');
is_deeply(atpath("$Q&path=foo/&children=false")->{json}, $r->{json}, 'a trailing slash on a folder is fine');
$r = atpath("$Q&path=foo&children=true");
is($r->{json}{count}, 4, 'folder with children: itself and three children');
is_deeply([ map { "$_->{type} $_->{resource}{path}" } @{ $r->{json}{results} } ],
    [ 'folder foo', 'asset foo/bar.txt', 'asset foo/baz.txt', 'folder foo/sub' ], 'folder first, then its children');
is($r->{json}{results}[1]{resource}{asset_id}, $bar->{asset_id}, 'child asset id');
is_deeply($r->{json}{results}[3]{resource}, { path => 'foo/sub', total_assets => 2, total_size => 200 },
    'child folder totals');
ok(!exists $r->{json}{results}[1]{resource}{metadata}, 'children without metadata');
ok(exists atpath("$Q&path=foo&children=true&metadata=true")->{json}{results}[1]{resource}{metadata},
    'children with metadata');
$r = atpath("$Q&path=foo/sub&children=true");
is_deeply([ map { "$_->{type} $_->{resource}{path}" } @{ $r->{json}{results} } ],
    [ 'folder foo/sub', 'asset foo/sub/deep.txt', 'folder foo/sub/deeper' ], 'children of a nested folder');
is_deeply([ map { $_->{resource}{path} } @{ atpath("$Q&path=foo/sub/deeper/&children=1")->{json}{results} } ],
    [ 'foo/sub/deeper', 'foo/sub/deeper/x.txt' ], 'the deepest folder');

# --- paging -----------------------------------------------------------------

$r = atpath("$Q&path=foo&children=true&page_size=2");
is_deeply([ $r->{json}{count}, scalar @{ $r->{json}{results} } ], [ 4, 2 ], 'page 1 of 2');
like($r->{json}{next} // '', qr{\Q$W\E\?.*page=2}, 'next link');
is($r->{json}{previous}, undef, 'no previous');
my $r2 = atpath("$Q&path=foo&children=true&page_size=2&page=2");
is_deeply([ map { $_->{resource}{path} } @{ $r2->{json}{results} } ], [ 'foo/baz.txt', 'foo/sub' ], 'page 2');
is_deeply([ $r2->{json}{count}, $r2->{json}{next} ], [ 4, undef ], 'page 2: count, no next');
like($r2->{json}{previous} // '', qr{\Q$W\E\?}, 'previous link');
$r = atpath("$Q&path=foo&children=true&page_size=2&page=3");
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Invalid page.' } ], 'past the end: 404');
is(atpath("$Q&children=true&page=2")->{status}, 404, 'root past the end: 404');

# --- errors -------------------------------------------------------------------

$r = atpath('');
is($r->{status}, 400, 'no parameters: 400');
is_deeply($r->{json}, { dandiset_id => ['This field is required.'], version_id => ['This field is required.'] },
    'no parameters: both required');
is_deeply(atpath("dandiset_id=$id")->{json}, { version_id => ['This field is required.'] }, 'version_id required');
is_deeply(atpath('version_id=draft')->{json}, { dandiset_id => ['This field is required.'] }, 'dandiset_id required');
is_deeply(atpath('dandiset_id=&version_id=draft')->{json}, { dandiset_id => ['This field may not be blank.'] },
    'dandiset_id blank');
$r = atpath("$Q&children=maybe&metadata=perhaps");
is($r->{status}, 400, 'bad booleans: 400');
is_deeply($r->{json}, { children => ['Must be a valid boolean.'], metadata => ['Must be a valid boolean.'] },
    'bad booleans: both fields');
is_deeply(okeys(atpath('children=x')->{body}), [qw(dandiset_id version_id children)], 'errors in field order');
is_deeply(atpath('dandiset_id=%20&version_id=draft&path=%20%20')->{json},
    { dandiset_id => ['This field may not be blank.'], path => ['This field may not be blank.'] }, 'blanks');
$r = atpath('dandiset_id=abc&version_id=draft');
is_deeply([ $r->{status}, $r->{json} ], [ 400, { dandiset_id => ['A valid integer is required.'] } ],
    'a dandiset_id that is not a number: 400');

$r = atpath("$Q&path=foobartxt");
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Folder or asset not found at foobartxt' } ],
    'unknown path: 404');
is(atpath("$Q&path=foo/nope&children=true")->{status}, 404, 'unknown nested path: 404');
is(atpath("$Q&path=fo")->{status}, 404, 'a prefix of a folder is not a path');
is(atpath('dandiset_id=999999&version_id=draft')->{status}, 404, 'unknown dandiset: 404');
$r = atpath("dandiset_id=$id&version_id=typo");
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Not found.' } ], 'unknown version: 404');
is(atpath("dandiset_id=$id&version_id=0.250101.1200")->{status}, 404, 'unpublished version: 404');

# --- embargo --------------------------------------------------------------

my $eid = dandiset(embargo => 1);
add($eid, 'secret/x.txt', 0);
my $EQ = "dandiset_id=$eid&version_id=draft&children=true";
$r = atpath($EQ);
is_deeply([ $r->{status}, $r->{json} ], [ 401, { detail => 'Authentication credentials were not provided.' } ],
    'embargoed, anonymous: 401');
$r = atpath($EQ, token => $bob);
is_deeply([ $r->{status}, $r->{json} ], [ 403, { detail => 'You do not have permission to perform this action.' } ],
    'embargoed, not an owner: 403');
is(atpath("$EQ&path=nope", token => $bob)->{status}, 403, 'embargoed: no path probing for non-owners');
$r = atpath($EQ, token => $alice);
is($r->{status}, 200, 'embargoed, owner: 200');
is_deeply([ map { $_->{resource}{path} } @{ $r->{json}{results} } ], ['secret'], 'owner sees the tree');
is(atpath($EQ, token => $t->admin_token)->{status}, 200, 'embargoed, admin: 200');
is(atpath("$Q&children=true")->{status}, 200, 'open dandiset, anonymous: 200');

# --- a published version ---------------------------------------------------

my $pid = $t->post('/api/dandisets/', { name => 'Pub', metadata => { description => 'D', license => ['spdx:CC-BY-4.0'],
    contributor => [ { name => 'Smith, Alice', email => 'alice\@example.org', roleName => ['dcite:ContactPerson'],
    includeInCitation => JSON::PP::true, schemaKey => 'Person' } ] } }, token => $alice)->{json}{identifier};
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('00000009-1111-4000-8000-000000000000',"
    . " 'blobs/x/9', '" . ('9' x 32) . "-1', 42, '" . ('9' x 64) . "')");
my $pa = $t->post("/api/dandisets/$pid/versions/draft/assets/", { blob_id => '00000009-1111-4000-8000-000000000000',
    metadata => { schemaKey => 'Asset', encodingFormat => 'application/json', path => 'dir/p.json' } },
    token => $alice)->{json};
$t->psql("UPDATE assets SET status = 'Valid' WHERE path = 'dir/p.json'");
$t->psql("UPDATE versions SET status = 'Valid' WHERE dandiset_id = $pid AND version = 'draft'");
is($t->post("/api/dandisets/$pid/versions/draft/publish/", undef, token => $alice)->{status}, 202, 'publish');
$t->jobs('run');
my ($pv) = grep { $_ ne 'draft' } map { $_->{version} } @{ $t->get("/api/dandisets/$pid/versions/")->{json}{results} };
like($pv // '', qr/^0\.\d{6}\.\d{4}$/, 'a published version');
$t->delete("/api/dandisets/$pid/versions/draft/assets/$pa->{asset_id}/", token => $alice);
$r = atpath("dandiset_id=$pid&version_id=$pv&path=dir&children=true");
is($r->{status}, 200, 'published version: 200');
is_deeply([ map { "$_->{type} $_->{resource}{path}" } @{ $r->{json}{results} } ], [ 'folder dir', 'asset dir/p.json' ],
    'published version: its own tree (the draft no longer has the file)');
is(atpath("dandiset_id=$pid&version_id=draft&path=dir")->{status}, 404, 'draft: the file is gone');

# --- the asset list and the tree agree after changes ------------------------

$t->delete("/api/dandisets/$id/versions/draft/assets/$baz->{asset_id}/", token => $alice);
$r = atpath("$Q&path=foo");
is_deeply($r->{json}{results}[0]{resource}, { path => 'foo', total_assets => 3, total_size => 400 },
    'folder totals follow a removal');
is(atpath("$Q&path=foo/baz.txt")->{status}, 404, 'a removed asset is gone');

done_testing;
