# Assets of a draft: add, replace, remove; list with its filters, ordering
# and lazy count; the folder tree (paths/) and the version totals it keeps;
# path rules; conflicts; metadata the server owns; audit records.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use JSON::PP;
use POSIX ();
use DandiTest;
use Shape qw(okeys);

# Group commit on (off by default): the asset tests run through it, and
# the rest of the suite without it.
my $t = DandiTest->new(s3 => 0, workers => 2, env => { DANDI_WRITE_BATCH => 16 });
my $API = $t->api_url;
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob');
sub one { my @r = $t->psql(@_); $r[0][0] }

my $id = $t->post('/api/dandisets/', { name => 'Files', metadata => {} }, token => $alice)->{json}{identifier};
my $A = "/api/dandisets/$id/versions/draft/assets/";

# Blobs as an upload leaves them (uploads are tested with the S3 service).
my @blob;
for my $i (1 .. 6) {
	my $u = sprintf '%08d-0000-4000-8000-%012d', $i, $i;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$u',"
	    . " 'blobs/" . substr($u, 0, 3) . '/' . substr($u, 3, 3) . "/$u', '" . sprintf('%032x', $i) . "-1', "
	    . (100 * $i) . ", " . ($i == 1 ? "'" . ('ab' x 32) . "'" : 'NULL') . ")");
	push @blob, $u;
}
sub add {
	my ($path, $blob, %extra) = @_;
	return $t->post($A, { blob_id => $blob // $blob[0], metadata => { path => $path, %extra } }, token => $alice);
}

# --- create ---------------------------------------------------------------

my $r = add('foo.txt', $blob[0], encodingFormat => 'text/plain', id => 'mine', contentSize => 1, digest => {});
is($r->{status}, 200, 'create answers 200');
is_deeply(okeys($r->{body}), [qw(asset_id blob zarr path size created modified metadata)], 'info shape, in order');
my $foo = $r->{json};
like($foo->{asset_id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'asset_id is a uuid4');
is_deeply([ @$foo{qw(blob zarr path size)} ], [ $blob[0], undef, 'foo.txt', 100 ], 'blob, zarr, path, size');
my $md = $foo->{metadata};
is($md->{id}, "dandiasset:$foo->{asset_id}", 'metadata id is computed, not the client\'s');
is($md->{identifier}, $foo->{asset_id}, 'identifier');
is($md->{path}, 'foo.txt', 'path');
is($md->{contentSize}, 100, 'contentSize from the blob, not the client');
is_deeply($md->{digest}, { 'dandi:dandi-etag' => sprintf('%032x', 1) . '-1', 'dandi:sha2-256' => 'ab' x 32 },
    'digest from the blob');
is($md->{contentUrl}[0], "$API/api/assets/$foo->{asset_id}/download/", 'contentUrl: API download URL');
like($md->{contentUrl}[1], qr{/blobs/000/000/\Q$blob[0]\E$}, 'contentUrl: object URL without a query');
is_deeply($md->{access}, [ { schemaKey => 'AccessRequirements', status => 'dandi:OpenAccess' } ], 'access');
is($md->{schemaVersion}, '0.7.0', 'schemaVersion defaulted');
is($md->{'@context'}, 'https://raw.githubusercontent.com/dandi/schema/master/releases/0.7.0/context.json', '@context');
is($md->{encodingFormat}, 'text/plain', 'client fields kept');
is_deeply([ @{ okeys($r->{body}, 'metadata') }[-8 .. -1] ],
    [qw(id access path identifier contentUrl contentSize digest @context)], 'computed keys come last, in order');
is(one("SELECT metadata::text FROM assets WHERE asset_id = '$foo->{asset_id}'"),
    '{"schemaVersion": "0.7.0", "encodingFormat": "text/plain"}', 'stored metadata has no computed keys');

is(add('bar.txt', $blob[1])->{status}, 200, 'bar.txt');
is(add('foo/bar.txt', $blob[2])->{status}, 200, 'foo/bar.txt');
is(add('foo/deep/x.nwb', $blob[3])->{status}, 200, 'foo/deep/x.nwb');
is(add('sub-01/ses-1_ecephys.nwb', $blob[4])->{status}, 200, 'sub-01/ses-1_ecephys.nwb');
is(add('données/ünïcode ✓.nwb', $blob[5])->{status}, 200, 'unicode and spaces in paths');
is(add('foo/.hidden', $blob[0])->{status}, 200, 'a dot file inside a folder');

# --- refused creates -------------------------------------------------------------

sub refused {
	my ($name, $status, $want, $body, $token) = @_;
	my $n = one('SELECT count(*) FROM assets');
	my $r = $t->post($A, $body, token => @_ > 4 ? $token : $alice);
	is($r->{status}, $status, "$name: $status");
	is_deeply($r->{json}, $want, "$name: body") or diag($r->{body}) if defined $want;
	is(one('SELECT count(*) FROM assets'), $n, "$name: nothing written");
}
refused('same path', 409, 'An asset with that path already exists', { blob_id => $blob[1], metadata => { path => 'foo.txt' } });
refused('file used as a folder', 409, q{Path of new asset "foo.txt/x" conflicts with existing assets: ['foo.txt']},
    { blob_id => $blob[1], metadata => { path => 'foo.txt/x' } });
refused('folder used as a file', 409,
    q{Path of new asset "foo" conflicts with existing assets: ['foo/.hidden', 'foo/bar.txt', 'foo/deep', 'foo/deep/x.nwb']},
    { blob_id => $blob[1], metadata => { path => 'foo' } });
for my $bad ('./x', '../x', 'x/.', 'x/..', 'x//y', 'x/', 'a/./b', "nul\0byte", 'x|y', 'é/..', '.') {
	(my $label = $bad) =~ s/\0/\\0/;
	refused("path '$label'", 400, { non_field_errors => ['Path improperly formatted'] },
	    { blob_id => $blob[1], metadata => { path => $bad } });
}
refused('leading slash', 400, { non_field_errors => ['Path must not begin with /'] },
    { blob_id => $blob[1], metadata => { path => '/abs' } });
refused('path too long', 400, undef, { blob_id => $blob[1], metadata => { path => 'x' x 513 } });
refused('no path', 400, { metadata => ['No path specified in metadata.'] }, { blob_id => $blob[1], metadata => {} });
refused('empty path', 400, { metadata => ['No path specified in metadata.'] }, { blob_id => $blob[1], metadata => { path => '' } });
refused('no metadata', 400, { metadata => ['This field is required.'] }, { blob_id => $blob[1] });
refused('neither blob nor zarr', 400, { blob_id => ['Exactly one of blob_id or zarr_id must be specified.'] },
    { metadata => { path => 'n.txt' } });
refused('both blob and zarr', 400, { blob_id => ['Exactly one of blob_id or zarr_id must be specified.'] },
    { blob_id => $blob[1], zarr_id => $blob[1], metadata => { path => 'n.txt' } });
refused('blob_id not a uuid', 400, { blob_id => ['Must be a valid UUID.'] }, { blob_id => 'nope', metadata => { path => 'n.txt' } });
refused('unknown blob', 404, { detail => 'Not found.' },
    { blob_id => '99999999-0000-4000-8000-000000000000', metadata => { path => 'n.txt' } });
refused('unknown zarr', 404, { detail => 'Not found.' },
    { zarr_id => '99999999-0000-4000-8000-000000000000', metadata => { path => 'n.txt' } });
refused('body is a list', 400, undef, [ 1 ]);
refused('NUL in metadata', 400, undef, { blob_id => $blob[1], metadata => { path => 'n.txt', x => "a\0b" } });
refused('not an owner', 403, undef, { blob_id => $blob[1], metadata => { path => 'n.txt' } }, $bob);
refused('anonymous', 401, undef, { blob_id => $blob[1], metadata => { path => 'n.txt' } }, undef);
is($t->post('/api/dandisets/999999/versions/draft/assets/', { blob_id => $blob[1], metadata => { path => 'n' } },
    token => $alice)->{status}, 404, 'unknown dandiset: 404');

# --- list -----------------------------------------------------------------

$r = $t->get($A);
is($r->{status}, 200, 'list');
is_deeply(okeys($r->{body}), [qw(count next previous results)], 'page shape');
is($r->{json}{count}, 7, 'count');
is_deeply(okeys($r->{body}, 'results', 0), [qw(asset_id blob zarr path size created modified)], 'no metadata by default');
is_deeply([ map { $_->{path} } @{ $r->{json}{results} } ],
    [ 'foo.txt', 'bar.txt', 'foo/bar.txt', 'foo/deep/x.nwb', 'sub-01/ses-1_ecephys.nwb', 'données/ünïcode ✓.nwb',
      'foo/.hidden' ], 'oldest first');
ok(exists $t->get("$A?metadata=true")->{json}{results}[0]{metadata}{digest}, 'metadata=true adds metadata');
# The list rows are built in C, the info in SQL: they must agree, on
# every row, on both list statements (default order and filtered).
for my $q ('metadata=true', 'metadata=true&order=path', 'metadata=true&order=-created', 'metadata=true&glob=*') {
	my @rows = @{ $t->get("$A?$q")->{json}{results} };
	my $same = grep {
		my $info = $t->get("/api/assets/$_->{asset_id}/info/")->{json};
		my $md = $t->get("/api/assets/$_->{asset_id}/")->{json};
		Test::More::eq_hash({ %$info, metadata => $md }, $_);
	} @rows;
	is($same, 7, "list rows equal asset info + metadata ($q)");
}
like($t->get($A)->{json}{results}[0]{created}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'created: ISO, microseconds, Z');
is($t->get("$A?metadata=perhaps")->{status}, 400, 'metadata: bad boolean 400');
sub paths { [ map { $_->{path} } @{ $t->get("$A?$_[0]")->{json}{results} || [] } ] }
is_deeply(paths('path=foo.txt'), ['foo.txt'], 'path: exact match wins');
is_deeply(paths('path=foo'), [ 'foo.txt', 'foo/bar.txt', 'foo/deep/x.nwb', 'foo/.hidden' ], 'path: prefix');
is_deeply(paths('path=FOO/'), [ 'foo/bar.txt', 'foo/deep/x.nwb', 'foo/.hidden' ], 'path: case-insensitive prefix');
is_deeply(paths('path=txt'), [], 'path: no match');
is_deeply(paths('path=%25'), [], 'path: % is literal');
is_deeply(paths('glob=*.nwb&order=path'), [ 'données/ünïcode ✓.nwb', 'foo/deep/x.nwb', 'sub-01/ses-1_ecephys.nwb' ],
    'glob over the whole path');
is_deeply(paths('glob=SUB-*%2Fses-1*'), ['sub-01/ses-1_ecephys.nwb'], 'glob is case-insensitive');
is_deeply(paths('glob=fo%2B.txt'), [], 'glob: only * is special (+ is literal)');
is_deeply(paths('glob=foo.txt'), ['foo.txt'], 'glob: a plain path matches itself');
is_deeply(paths('glob=f(o|x)o.txt'), [], 'glob: regex syntax is literal');
is_deeply(paths('order=-path&path=foo'), [ 'foo/deep/x.nwb', 'foo/bar.txt', 'foo/.hidden', 'foo.txt' ], 'order=-path');
is_deeply(paths('order=-created')->[0], 'foo/.hidden', 'order=-created');
$r = $t->get("$A?order=size");
is_deeply([ $r->{status}, $r->{json} ],
    [ 400, { order => ['Select a valid choice. size is not one of the available choices.'] } ], 'bad order 400');
is_deeply(paths('zarr=true'), [], 'zarr=true: no zarr assets');
$r = $t->get("$A?page_size=3");
is_deeply([ $r->{json}{count}, scalar @{ $r->{json}{results} } ], [ 7, 3 ], 'page 1 of 3: count and 3 results');
like($r->{json}{next} // '', qr{page=2}, 'next link');
$r = $t->get($r->{json}{next});
is($r->{json}{count}, undef, 'page 2: count is null (lazy)');
is(scalar @{ $r->{json}{results} }, 3, 'page 2: 3 results');
$r = $t->get("$A?page_size=3&page=3");
is_deeply([ scalar @{ $r->{json}{results} }, $r->{json}{next} ], [ 1, undef ], 'last page: no next');

# Walking next links (the dandi client's way) gives every asset once, in
# the order of the offset pages, in both directions; the links carry a
# cursor, the previous links none.
for my $o ('', '&order=-created') {
	my (@walk, @paged);
	my $url = "$A?page_size=2$o";
	my $pages = 0;
	while (defined $url) {
		$r = $t->get($url);
		push @walk, map { $_->{path} } @{ $r->{json}{results} };
		unlike($r->{json}{previous} // '', qr/cursor/, "previous link has no cursor ($o)") if $pages;
		like($r->{json}{next}, qr/[?&]page=\d+&cursor=[^&]+$/, "next link: page and cursor ($o)") if $r->{json}{next};
		$url = $r->{json}{next};
		$pages++;
	}
	for my $p (1 .. 4) {
		push @paged, map { $_->{path} } @{ $t->get("$A?page_size=2&page=$p$o")->{json}{results} };
	}
	is($pages, 4, "4 pages of 2 ($o)");
	is_deeply(\@walk, \@paged, "cursor walk = offset pages ($o)");
}
for my $bad ('x', '2026-02-30T00:00:00.000000Z_1', '2026-01-01T00:00:00.000000Z_0', '2026-01-01 00:00:00_1',
    '2026-01-01T00:00:00.000000Z_1x') {
	(my $q = $bad) =~ s/([^A-Za-z0-9._-])/sprintf("%%%02X", ord $1)/ge;
	$r = $t->get("$A?cursor=$q");
	is_deeply([ $r->{status}, $r->{json} ], [ 400, { cursor => ['Invalid cursor.'] } ], "bad cursor '$bad': 400");
}
$r = $t->get("$A?page=9");
is_deeply([ $r->{status}, $r->{json}{results} ], [ 200, [] ], 'past the end: 200, empty');
is($t->get("$A?page=0")->{status}, 404, 'page 0: 404');

# --- one asset --------------------------------------------------------------------

my $one = "$A$foo->{asset_id}/";
$r = $t->get($one);
is_deeply([ $r->{status}, $r->{json}{identifier} ], [ 200, $foo->{asset_id} ], 'asset: full metadata');
is_deeply($t->get("${one}info/")->{json}, $foo, 'info equals what create returned');
is_deeply($t->get("${one}validation/")->{json}, { status => 'Pending', validation_errors => [] }, 'validation');
is($t->get("${A}99999999-0000-4000-8000-000000000000/")->{status}, 404, 'unknown asset: 404');
is($t->get("/api/dandisets/$id/versions/0.250101.0000/assets/")->{status}, 404, 'unknown version: 404');

# --- the folder tree and the version totals ----------------------------------------------------

$r = $t->get("${A}paths/");
is($r->{status}, 200, 'paths: root');
is_deeply([ map { $_->{path} } @{ $r->{json}{results} } ], [ 'bar.txt', 'données', 'foo', 'foo.txt', 'sub-01' ],
    'paths: root children in path order');
is_deeply(okeys($r->{body}, 'results', 0), [qw(path version aggregate_files aggregate_size asset)], 'path entry shape');
my %node = map { $_->{path} => $_ } @{ $r->{json}{results} };
is_deeply([ @{ $node{foo} }{qw(aggregate_files aggregate_size asset)} ], [ 3, 300 + 400 + 100, undef ],
    'folder aggregates files and bytes below it');
is($node{'foo.txt'}{asset}{asset_id}, $foo->{asset_id}, 'file node names its asset');
like($node{'foo.txt'}{asset}{url}, qr{/blobs/000/000/\Q$blob[0]\E$}, 'file node has the object URL');
is_deeply([ map { $_->{path} } @{ $t->get("${A}paths/?path_prefix=foo/")->{json}{results} } ],
    [ 'foo/.hidden', 'foo/bar.txt', 'foo/deep' ], 'paths: a folder, trailing slash ignored');
is_deeply($t->get("${A}paths/?path_prefix=foo.txt")->{json}{results}, [], 'paths: a file has no children');
$r = $t->get("${A}paths/?path_prefix=nope");
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Specified path not found.' } ], 'paths: unknown prefix');
my $info = $t->get("/api/dandisets/$id/versions/draft/info/")->{json};
is_deeply([ $info->{asset_count}, $info->{size}, $info->{status} ], [ 7, 100 + 200 + 300 + 400 + 500 + 600 + 100, 'Pending' ],
    'version totals follow the tree');

# --- replace -------------------------------------------------------------------------------------

my $before = $t->get("/api/dandisets/$id/versions/draft/")->{json};
$r = $t->put($one, { blob_id => $blob[0], metadata => { path => 'foo.txt', encodingFormat => 'text/plain' } }, token => $alice);
is_deeply([ $r->{status}, $r->{json}{asset_id} ], [ 200, $foo->{asset_id} ], 'unchanged PUT keeps the asset');
$r = $t->put($one, { blob_id => $blob[1], metadata => { path => 'foo.txt', encodingFormat => 'text/csv' } }, token => $alice);
is($r->{status}, 200, 'changed PUT');
my $new = $r->{json};
isnt($new->{asset_id}, $foo->{asset_id}, 'a change makes a new asset');
is_deeply([ $new->{blob}, $new->{metadata}{encodingFormat}, $new->{size} ], [ $blob[1], 'text/csv', 200 ], 'with the new content');
is($t->get($one)->{status}, 404, 'the old asset left the draft');
is(one("SELECT count(*) FROM assets WHERE asset_id = '$foo->{asset_id}'"), 1, 'but still exists (for published versions)');
is($t->get("${A}paths/")->{json}{results}[3]{asset}{asset_id}, $new->{asset_id}, 'the tree points at the new asset');
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{size}, 2300, 'size follows the new blob (100 -> 200 bytes)');
$r = $t->put("$A$new->{asset_id}/", { blob_id => $blob[1], metadata => { path => 'bar.txt' } }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 409, 'An asset with that path already exists' ], 'PUT onto another path: 409');
$r = $t->put("$A$new->{asset_id}/", { blob_id => $blob[1], metadata => { path => 'moved/foo.txt' } }, token => $alice);
is_deeply([ $r->{status}, $r->{json}{path} ], [ 200, 'moved/foo.txt' ], 'PUT may move an asset');
my $moved = $r->{json};
is($t->put("$A$moved->{asset_id}/", { blob_id => $blob[1], metadata => { path => 'x' } }, token => $bob)->{status}, 403,
    'PUT by a non-owner: 403');

# --- remove ---------------------------------------------------------------------------------------

$r = $t->delete("$A$moved->{asset_id}/", token => $alice);
is($r->{status}, 204, 'DELETE 204');
is($t->get("$A$moved->{asset_id}/")->{status}, 404, 'gone from the draft');
ok(!(grep { $_->{path} eq 'moved' } @{ $t->get("${A}paths/")->{json}{results} }), 'emptied folders leave the tree');
is($t->delete("$A$moved->{asset_id}/", token => $alice)->{status}, 404, 'DELETE again: 404');
is($t->delete("$A$new->{asset_id}/", token => $bob)->{status}, 403, 'DELETE by a non-owner: 403');
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{asset_count}, 6, 'count follows');
# The folder totals: stored, plus the deltas writers appended until the
# fold moves them in (sql/016_folder_deltas.sql).
my $vid = "(SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft')";
my $stored = "SELECT coalesce(sum(aggregate_files), 0) FROM asset_paths WHERE position('/' in path) = 0"
    . " AND version_id = $vid";
my $pending = "SELECT coalesce(sum(files), 0) FROM asset_path_deltas WHERE position('/' in path) = 0"
    . " AND version_id = $vid";
is(one($stored) + one($pending), 6, 'root aggregates and their pending changes equal the files in the draft');
ok(one("SELECT count(*) FROM asset_path_deltas WHERE version_id = $vid") > 0, 'writes left changes to fold');
like($t->jobs('fold-paths'), qr/^folded [1-9]\d* folder total change/m, 'dandi-jobs fold-paths folds them');
is_deeply([ one($stored), one("SELECT count(*) FROM asset_path_deltas WHERE version_id = $vid") ], [ 6, 0 ],
    'folded: the stored root aggregates alone are exact, no change left');
is(one("SELECT count(*) FROM asset_paths WHERE version_id = $vid AND asset_id IS NULL AND aggregate_files = 0"), 0,
    'emptied folders are gone from the table too');
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{asset_count}, 6, 'the count is the same after the fold');

my @audit = map { $_->[0] } $t->psql("SELECT record_type FROM audit_records WHERE dandiset_id = $id ORDER BY id");
is_deeply(\@audit, [ 'create_dandiset', ('add_asset') x 7, 'update_asset', 'update_asset', 'remove_asset' ],
    'every change is audited; refused and unchanged ones are not');
my $det = decode_json(one("SELECT details::text FROM audit_records WHERE dandiset_id = $id AND record_type = 'add_asset'"
    . " ORDER BY id LIMIT 1"));
is_deeply([ @$det{qw(path size asset_blob_id zarr_archive_id asset_id checksum)} ],
    [ 'foo.txt', 100, $blob[0], undef, $foo->{asset_id}, sprintf('%032x', 1) . '-1' ], 'add_asset details');

# --- published versions and embargo --------------------------------------------------------------

$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version, status) SELECT dandiset_id, name, metadata,"
    . " '0.250101.0000', 'Published' FROM versions WHERE dandiset_id = $id");
$r = $t->post("/api/dandisets/$id/versions/0.250101.0000/assets/", { blob_id => $blob[1], metadata => { path => 'p' } },
    token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 405, 'Only draft versions can be modified.' ], 'published version: 405');

my $emb = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $alice)->{json}{identifier};
my $E = "/api/dandisets/$emb/versions/draft/assets/";
# (as an upload for the embargoed dandiset leaves them: its owners may use them)
$t->psql("UPDATE blobs SET embargoed = true, upload_dandiset_id = $emb WHERE blob_id IN ('$blob[2]', '$blob[3]')");
is($t->post($E, { blob_id => $blob[2], metadata => { path => 'secret.nwb' } }, token => $alice)->{status}, 200,
    'embargoed dandiset: owner adds');
is($t->get($E)->{status}, 401, 'embargoed list: anonymous 401');
is($t->get($E, token => $bob)->{status}, 403, 'embargoed list: stranger 403');
is($t->get($E, token => $alice)->{json}{count}, 1, 'embargoed list: owner sees it');
my $sec = $t->get($E, token => $alice)->{json}{results}[0];
is_deeply($t->get("$E$sec->{asset_id}/", token => $alice)->{json}{access},
    [ { schemaKey => 'AccessRequirements', status => 'dandi:EmbargoedAccess',
        embargoedUntil => one("SELECT to_char(embargo_end_date, 'YYYY-MM-DD') FROM dandisets WHERE id = $emb") } ],
    'embargoed access with the end date');
is(add('now-open.nwb', $blob[3])->{status}, 200, 'an embargoed blob added to an open dandiset');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$blob[3]'"), 'f', '... is no longer embargoed');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$blob[2]'"), 't', 'the other stays embargoed');

# --- many writers at once --------------------------------------------------------------------------

my @kids;
for my $k (1 .. 12) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $s = add("crowd/d$k/f$k.nwb", $blob[ $k % 6 ])->{status};
		POSIX::_exit($s == 200 ? 0 : 1);
	}
	push @kids, $pid;
}
my $bad = 0;
waitpid($_, 0), $bad += $? != 0 for @kids;
is($bad, 0, '12 concurrent adds succeed');
my $crowd = $t->get("${A}paths/")->{json}{results};
my ($c) = grep { $_->{path} eq 'crowd' } @$crowd;
is($c->{aggregate_files}, 12, 'the shared folder counts all 12 files');
is($c->{aggregate_size}, one("SELECT sum(b.size) FROM assets a JOIN blobs b ON b.id = a.blob_id WHERE a.path LIKE 'crowd/%'"),
    'and all their bytes');
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{asset_count}, 19, 'version count is exact');

# Writers share the draft's lock (SHARED): the tree's unique nodes alone
# keep paths apart. Racers for one path, and a file against a folder at
# the same path, in many rounds: one kind wins each round, never both.
# Each child answers with its status in its exit code (200 -> 0, 409 -> 1).
sub race {
	my @jobs = @_;
	my @pids;
	for my $job (@jobs) {
		my $pid = fork // die;
		if ($pid == 0) {
			my $r = $job->();
			POSIX::_exit($r->{status} == 200 ? 0 : $r->{status} == 409 ? 1 : $r->{status} == 404 ? 2 : 3);
		}
		push @pids, $pid;
	}
	my @codes;
	for (@pids) { waitpid($_, 0); push @codes, $? >> 8 }
	return @codes;
}
my ($same, $clash, $odd) = (0, 0, 0);
for my $round (1 .. 8) {
	my @c = race(map { my $k = $_; sub { add("race/same$round.nwb", $blob[ $k % 6 ]) } } 1 .. 4);
	$same++ if (grep { $_ == 0 } @c) == 1 && (grep { $_ == 1 } @c) == 3;
	my @d = race(sub { add("race/x$round", $blob[1]) }, sub { add("race/x$round/inner.nwb", $blob[2]) },
	    sub { add("race/x$round/deeper/f.nwb", $blob[3]) });
	my $file = $d[0] == 0;
	$clash++ if $file ? ($d[1] == 1 && $d[2] == 1) : ($d[0] == 1 && $d[1] == 0 && $d[2] == 0);
	$odd++ if grep { $_ > 1 } @c, @d;
}
is($same, 8, 'four writers of one path: exactly one 200 and three 409s, each round');
is($clash, 8, 'a file against a folder at one path: either the file or the folder, never both');
is($odd, 0, 'and no other answer');
my $dups = one("SELECT count(*) FROM (SELECT a.path FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
    . " WHERE av.version_id = $vid GROUP BY a.path HAVING count(*) > 1) d");
is($dups, 0, 'no two assets at one path in the draft');
my $under_file = one("SELECT count(*) FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
    . " JOIN asset_versions av2 ON av2.version_id = av.version_id JOIN assets b ON b.id = av2.asset_id"
    . " WHERE av.version_id = $vid AND b.path LIKE a.path || '/%'");
is($under_file, 0, 'no file below a file');

# Two PUTs of one asset at once: one replaces it, the other finds it gone.
my @put_codes;
for my $round (1 .. 4) {
	my $x = add("race/put$round.nwb", $blob[1])->{json};
	push @put_codes, join ',', sort { $a <=> $b } race(map { my $k = $_; sub {
	    $t->put("$A$x->{asset_id}/", { blob_id => $blob[$k], metadata => { path => "race/put$round-$k.nwb" } },
	        token => $alice) } } 2 .. 3);
}
is_deeply(\@put_codes, [ ('0,2') x 4 ], 'two PUTs of one asset: one 200, one 404, each time');

# Totals stay exact whatever ran: the live totals, then folded, equal a
# count of the draft's assets.
my $truth = one("SELECT count(*) FROM asset_versions WHERE version_id = $vid");
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{asset_count}, $truth, 'live count exact after the races');
my ($race) = grep { $_->{path} eq 'race' } @{ $t->get("${A}paths/")->{json}{results} };
is($race->{aggregate_files}, one("SELECT count(*) FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
    . " WHERE av.version_id = $vid AND a.path LIKE 'race/%'"), 'the folder counts exactly its files');
$t->jobs('fold-paths');
is(one($stored), $truth, 'and after the fold the stored totals alone');

done_testing;
