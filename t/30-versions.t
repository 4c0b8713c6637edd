# Versions: list with pagination and order, raw metadata, /info/, the draft
# metadata update (and its no-op case), version delete, and the audit
# records that state changes leave behind.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use JSON::PP;
use DandiTest;
use Shape qw(okeys norm_url);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $API = $t->api_url;
my $WEB = $t->web_url;

my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');
my $bob = $t->user('bob', first => 'Bob', last => 'Jones', email => 'bob@example.org');
my $pending = $t->user('pat', status => 'PENDING');
my $admin = $t->admin_token;

my $TS = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
my @BASE_KEYS = qw(identifier created modified contact_person embargo_status star_count is_starred);
my @VERSION_KEYS = qw(version name asset_count active_uploads size status created modified
    dandiset release_notes);
my @INFO_KEYS = (@VERSION_KEYS, qw(asset_validation_errors version_validation_errors metadata contact_person));

sub one { my @r = $t->psql(@_); my $v = $r[0]; ref $v ? $v->[0] : $v }
sub col { map { ref $_ ? $_->[0] : $_ } $t->psql(@_) }
sub audit { [ col("SELECT record_type FROM audit_records WHERE dandiset_id = $_[0] ORDER BY id") ] }
sub versions { [ map { $_->{version} } @{ $_[0]{json}{results} || [] } ] }

my $r = $t->post('/api/dandisets/', { name => 'Versioned', metadata => { description => 'v' } }, token => $alice);
is($r->{status}, 200, 'create');
my $id = $r->{json}{identifier};
my $created = $r->{json}{created};

# Two published versions (publishing is not an API yet), newer than the draft.
my $pubmd = '{"schemaVersion":"0.7.0","name":"Versioned","releaseNotes":"Notes 2",'
    . '"contributor":[{"name":"Pub, Lisher","roleName":["dcite:ContactPerson"]}]}';
$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version, status) VALUES"
    . " ($id, 'Versioned', '{\"schemaVersion\":\"0.7.0\"}', '0.240101.1200', 'Published')");
$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version, status) VALUES"
    . " ($id, 'Versioned', '$pubmd', '0.240102.1200', 'Published')");

# --- list ---------------------------------------------------------------------

$r = $t->get("/api/dandisets/$id/versions/");
is($r->{status}, 200, 'versions list');
is_deeply(okeys($r->{body}), [qw(count next previous results)], 'page keys');
is($r->{json}{count}, 3, 'three versions');
is_deeply(versions($r), [qw(draft 0.240101.1200 0.240102.1200)], 'default order: created ascending');
is_deeply(okeys($r->{body}, 'results', 0), \@VERSION_KEYS, 'version key order');
is_deeply(okeys($r->{body}, 'results', 0, 'dandiset'), \@BASE_KEYS, 'nested dandiset is the base shape');
my $v0 = $r->{json}{results}[0];
is_deeply([ @$v0{qw(version name asset_count active_uploads size status release_notes)} ],
    [ 'draft', 'Versioned', 0, 0, 0, 'Pending', '' ], 'draft fields');
like($v0->{$_}, $TS, "$_ timestamp") for qw(created modified);
is($v0->{dandiset}{identifier}, $id, 'nested dandiset identifier');
is($v0->{dandiset}{contact_person}, 'Pub, Lisher', 'nested contact person from the latest published');
is($r->{json}{results}[2]{release_notes}, 'Notes 2', 'published release notes');

$r = $t->get("/api/dandisets/$id/versions/?order=-created");
is_deeply(versions($r), [qw(0.240102.1200 0.240101.1200 draft)], 'order=-created');
$r = $t->get("/api/dandisets/$id/versions/?order=created");
is_deeply(versions($r), [qw(draft 0.240101.1200 0.240102.1200)], 'order=created');
$r = $t->get("/api/dandisets/$id/versions/?order=name");
is($r->{status}, 400, 'unknown order');
is_deeply($r->{json}, { order => ['Select a valid choice. name is not one of the available choices.'] },
    'unknown order: field error');

$r = $t->get("/api/dandisets/$id/versions/?page_size=2");
is_deeply([ $r->{json}{count}, versions($r) ], [ 3, [qw(draft 0.240101.1200)] ], 'page 1');
is(norm_url($r->{json}{next}), norm_url("$API/api/dandisets/$id/versions/?page=2&page_size=2"), 'page 1: next');
is($r->{json}{previous}, undef, 'page 1: previous');
$r = $t->get("/api/dandisets/$id/versions/?page=2&page_size=2");
is_deeply([ $r->{json}{count}, versions($r) ], [ 3, ['0.240102.1200'] ], 'page 2');
is($r->{json}{next}, undef, 'page 2: next');
is($r->{json}{previous}, "$API/api/dandisets/$id/versions/?page_size=2", 'page 2: previous omits page');
$r = $t->get("/api/dandisets/$id/versions/?page=3&page_size=2");
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Invalid page.' } ], 'page past the end');
is($t->get('/api/dandisets/999999/versions/')->{status}, 404, 'versions of an unknown dandiset');

# --- raw metadata and info ----------------------------------------------------

$r = $t->get("/api/dandisets/$id/versions/draft/");
is($r->{status}, 200, 'draft metadata');
my $md = $r->{json};
is(ref $md, 'HASH', 'metadata is an object');
is_deeply([ @$md{qw(name version identifier description schemaKey)} ],
    [ 'Versioned', 'draft', "DANDI:$id", 'v', 'Dandiset' ], 'it is the metadata itself');
ok(!exists $md->{$_}, "no wrapper key $_") for qw(metadata asset_count dandiset);
$r = $t->get("/api/dandisets/$id/versions/0.240102.1200/");
is_deeply($r->{json}, decode_json($pubmd), 'published metadata is returned as stored');
is($t->get("/api/dandisets/$id/versions/0.999999.9999/")->{status}, 404, 'unknown version');
is($t->get("/api/dandisets/$id/versions/latest/")->{status}, 404, 'not a version string');

$r = $t->get("/api/dandisets/$id/versions/draft/info/");
is($r->{status}, 200, 'info');
is_deeply(okeys($r->{body}), \@INFO_KEYS, 'info keys in order');
is_deeply(okeys($r->{body}, 'dandiset'), \@BASE_KEYS, 'info dandiset is the base shape');
my $info = $r->{json};
is_deeply($info->{metadata}, $md, 'info metadata equals the raw metadata');
is_deeply([ @$info{qw(version name status release_notes contact_person)} ],
    [ 'draft', 'Versioned', 'Pending', '', 'Smith, Alice' ], 'info fields');
is_deeply([ $info->{asset_validation_errors}, $info->{version_validation_errors} ], [ [], [] ], 'no errors');
$r = $t->get("/api/dandisets/$id/versions/0.240102.1200/info/");
is_deeply([ @{ $r->{json} }{qw(version release_notes contact_person active_uploads)} ],
    [ '0.240102.1200', 'Notes 2', 'Pub, Lisher', 0 ], 'published info');

# Validation errors of the version and its assets.
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft'");
$t->psql("UPDATE versions SET status = 'Invalid',"
    . " validation_errors = '[{\"field\":\"contributor\",\"message\":\"bad\"}]' WHERE id = $vid");
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES"
    . " ('11111111-1111-4111-8111-111111111111', 'blobs/111/111/x', '" . ('a' x 32) . "-1', 5),"
    . " ('22222222-2222-4222-8222-222222222222', 'blobs/222/222/y', '" . ('b' x 32) . "-1', 5)");
$t->psql("INSERT INTO assets (asset_id, path, blob_id, metadata, status, validation_errors) VALUES"
    . " ('33333333-3333-4333-8333-333333333333', 'sub/pending.nwb',"
    . "  (SELECT id FROM blobs WHERE size = 5 ORDER BY id LIMIT 1), '{\"schemaVersion\":\"0.7.0\"}', 'Pending', '[]'),"
    . " ('44444444-4444-4444-8444-444444444444', 'sub/bad.nwb',"
    . "  (SELECT id FROM blobs WHERE size = 5 ORDER BY id DESC LIMIT 1), '{\"schemaVersion\":\"0.7.0\"}', 'Invalid',"
    . "  '[{\"field\":\"path\",\"message\":\"m1\"},{\"field\":\"size\",\"message\":\"m2\"}]')");
$t->psql("INSERT INTO asset_versions (asset_id, version_id) SELECT id, $vid FROM assets");
$r = $t->get("/api/dandisets/$id/versions/draft/info/");
is($r->{json}{status}, 'Invalid', 'status shown');
is_deeply($r->{json}{version_validation_errors}, [ { field => 'contributor', message => 'bad' } ],
    'version validation errors');
is_deeply($r->{json}{asset_validation_errors}, [
	{ field => '', message => 'asset is currently being validated, please wait.', path => 'sub/pending.nwb' },
	{ field => 'path', message => 'm1', path => 'sub/bad.nwb' },
	{ field => 'size', message => 'm2', path => 'sub/bad.nwb' },
], 'asset validation errors: pending first, then each stored error');
is_deeply(okeys($r->{body}, 'asset_validation_errors', 0), [qw(field message path)], 'asset error key order');
$t->psql("DELETE FROM asset_versions WHERE version_id = $vid");
$t->psql("UPDATE versions SET status = 'Pending', validation_errors = '[]' WHERE id = $vid");

# --- PUT the draft --------------------------------------------------------------

is_deeply(audit($id), ['create_dandiset'], 'create wrote one audit record');
is_deeply([ split /\|/, one("SELECT username || '|' || user_email || '|' || user_fullname || '|'"
    . " || (details->>'embargoed') || '|' || (details->'metadata'->>'id') FROM audit_records WHERE dandiset_id = $id") ],
    [ 'alice', 'alice@example.org', 'Alice Smith', 'false', "DANDI:$id/draft" ], 'create audit record contents');

my $url = "/api/dandisets/$id/versions/draft/";
$t->psql("UPDATE versions SET status = 'Valid' WHERE id = $vid");
my $old_modified = $t->get("/api/dandisets/$id/")->{json}{draft_version}{modified};
$r = $t->put($url, { name => 'Renamed', metadata => {
	description => 'new', name => 'evil', id => 'evil', citation => 'evil', schemaVersion => '0.7.0',
	contributor => [ { name => 'New, Person', roleName => ['dcite:ContactPerson'], includeInCitation => JSON::PP::true } ],
} }, token => $alice);
is($r->{status}, 200, 'PUT draft');
is_deeply(okeys($r->{body}), \@INFO_KEYS, 'PUT answers the info shape');
is_deeply([ @{ $r->{json} }{qw(name status contact_person)} ], [ 'Renamed', 'Pending', 'New, Person' ],
    'renamed, back to Pending');
ok($r->{json}{modified} gt $old_modified, 'modified moved forward');
$md = $t->get($url)->{json};
is_deeply([ @$md{qw(name id identifier description)} ], [ 'Renamed', "DANDI:$id/draft", "DANDI:$id", 'new' ],
    'computed fields overwritten, others kept');
like($md->{citation}, qr/^New, Person \(\d{4}\) Renamed \(Version draft\) \[Data set\]\. DANDI Archive\. \Q$WEB\E/,
    'citation recomputed');
is($md->{url}, "$WEB/dandiset/$id/draft", 'url');
is_deeply($md->{access}, [ { schemaKey => 'AccessRequirements', status => 'dandi:OpenAccess' } ], 'access');
is($t->get("/api/dandisets/$id/")->{json}{draft_version}{name}, 'Renamed', 'detail shows the new name');
is_deeply(audit($id), [qw(create_dandiset update_metadata)], 'update wrote an audit record');
is(one("SELECT details->'metadata'->>'name' FROM audit_records WHERE dandiset_id = $id"
    . " AND record_type = 'update_metadata'"), 'Renamed', 'update audit carries the new metadata');

# Same name and metadata (computed fields aside): nothing is saved.
$t->psql("UPDATE versions SET status = 'Valid' WHERE id = $vid");
my $before = $t->get("${url}info/")->{json};
my %same = %$md;
$same{citation} = 'whatever';
$same{url} = 'http://elsewhere/';
$r = $t->put($url, { name => 'Renamed', metadata => \%same }, token => $alice);
is($r->{status}, 200, 'unchanged PUT');
is_deeply([ @{ $r->{json} }{qw(status modified)} ], [ 'Valid', $before->{modified} ],
    'unchanged PUT keeps status and modified');
is_deeply($t->get($url)->{json}, $md, 'metadata untouched');
is_deeply(audit($id), [qw(create_dandiset update_metadata)], 'no audit record for a no-op');

# Metadata that does not satisfy the schema is stored, not refused.
$r = $t->put($url, { name => 'Renamed', metadata => { contributor => 'not a list', schemaVersion => 'banana', extra => [1, { a => undef }] } },
    token => $alice);
is($r->{status}, 200, 'schema-invalid metadata accepted');
$md = $t->get($url)->{json};
is_deeply([ $md->{contributor}, $md->{schemaVersion}, $md->{extra} ], [ 'not a list', 'banana', [1, { a => undef }] ],
    'stored as sent');
is($r->{json}{contact_person}, '', 'malformed contributors give no contact person');
is($r->{json}{status}, 'Pending', 'Pending again');

# Refusals: nothing changes.
my $snapshot = $t->get($url)->{body};
my $naudit = scalar @{ audit($id) };
$r = $t->put($url, { name => 'Hijack', metadata => {} }, token => $bob);
is($r->{status}, 403, 'non-owner PUT');
is($r->{body} // '', '', 'non-owner PUT: empty body');
$r = $t->put($url, { name => 'Hijack', metadata => {} });
is_deeply([ $r->{status}, $r->{json} ], [ 401, { detail => 'Authentication credentials were not provided.' } ],
    'anonymous PUT');
$r = $t->put($url, { name => 'Hijack', metadata => {} }, token => $pending);
is_deeply([ $r->{status}, $r->{json} ], [ 403, { detail => 'You do not have permission to perform this action.' } ],
    'unapproved PUT');
$r = $t->put("/api/dandisets/$id/versions/0.240101.1200/", { name => 'x', metadata => {} }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 405, 'Only draft versions can be modified.' ], 'published version PUT');
$r = $t->put($url, { metadata => {} }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { name => ['This field is required.'] } ], 'PUT without name');
$r = $t->put($url, { name => 'x' }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { metadata => ['This field is required.'] } ], 'PUT without metadata');
$r = $t->put($url, { name => 'x', metadata => [] }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { metadata => ['Expected a dictionary of items but got type "list".'] } ],
    'PUT with list metadata');
$r = $t->put($url, { name => 'x', metadata => 'text' }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { metadata => ['Expected a dictionary of items but got type "str".'] } ],
    'PUT with string metadata');
$r = $t->put($url, { name => '', metadata => {} }, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { name => ['This field may not be blank.'] } ], 'PUT with blank name');
$r = $t->put($url, { name => 'x' x 301, metadata => {} }, token => $alice);
is($r->{status}, 400, 'PUT with a long name');
is($t->put('/api/dandisets/999999/versions/draft/', { name => 'x', metadata => {} }, token => $alice)->{status},
    404, 'PUT on an unknown dandiset');
is($t->request('PATCH', $url, json => { name => 'x' }, token => $alice)->{status}, 405, 'PATCH is 405');
is($t->get($url)->{body}, $snapshot, 'refused PUTs changed nothing');
is(scalar @{ audit($id) }, $naudit, 'and wrote no audit record');

# The admin may edit anyone's draft.
$r = $t->put($url, { name => 'By admin', metadata => { schemaVersion => '0.7.0' } }, token => $admin);
is_deeply([ $r->{status}, $r->{json}{name} ], [ 200, 'By admin' ], 'admin PUT');

# --- version delete -----------------------------------------------------------

$r = $t->delete($url, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 403, 'Cannot delete draft versions' ], 'draft is never deleted (owner)');
$r = $t->delete($url, token => $admin);
is_deeply([ $r->{status}, $r->{json} ], [ 403, 'Cannot delete draft versions' ], 'draft is never deleted (admin)');
$r = $t->delete("/api/dandisets/$id/versions/0.240101.1200/", token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 403, 'Cannot delete published versions' ], 'owner cannot delete a published version');
is($t->delete("/api/dandisets/$id/versions/0.240101.1200/")->{status}, 401, 'anonymous version delete');
$r = $t->delete("/api/dandisets/$id/versions/0.240101.1200/", token => $admin);
is($r->{status}, 204, 'admin deletes a published version');
is_deeply(versions($t->get("/api/dandisets/$id/versions/")), [qw(draft 0.240102.1200)], 'it is gone');
is($t->delete("/api/dandisets/$id/versions/0.240101.1200/", token => $admin)->{status}, 404, 'deleting again is 404');

# --- audit: owners and delete ----------------------------------------------------

my $d2 = $t->post('/api/dandisets/', { name => 'Short lived', metadata => {} }, token => $alice)->{json}{identifier};
$r = $t->put("/api/dandisets/$d2/users/", [ { username => 'alice' }, { username => 'bob' } ], token => $alice);
is($r->{status}, 200, 'add an owner');
is(one("SELECT details::text FROM audit_records WHERE dandiset_id = $d2 AND record_type = 'change_owners'"),
    encode_json_sorted({ added_owners => [ { username => 'bob', name => 'Bob Jones', email => 'bob@example.org' } ],
        removed_owners => [] }), 'change_owners details');
is($t->delete("/api/dandisets/$d2/", token => $bob)->{status}, 204, 'new owner deletes');
is_deeply(audit($d2), [qw(create_dandiset change_owners delete_dandiset)], 'audit trail survives the dandiset');
is(one("SELECT username FROM audit_records WHERE dandiset_id = $d2 AND record_type = 'delete_dandiset'"), 'bob',
    'delete recorded with the acting user');

# jsonb text output: keys sorted by length then bytes, ", " and ": " separators.
sub encode_json_sorted {
	my ($v) = @_;
	return one("SELECT '" . JSON::PP->new->canonical->encode($v) . "'::jsonb::text");
}

done_testing;
