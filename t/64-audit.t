# The audit trail: every change writes a record in its own transaction; the
# owners and admins read a dandiset's trail; staff read the asset event feed
# (cursor pagination, as the original's /api/audit/events/asset).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;
use Shape qw(okeys);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');
my $bob = $t->user('bob', first => 'Bob', last => 'Jones');
my $admin = $t->admin_token;
sub one { my @r = $t->psql(@_); $r[0][0] }

my $id = $t->post('/api/dandisets/', { name => 'Audited', metadata => { description => 'v1' } }, token => $alice)
    ->{json}{identifier};
my $draft = "/api/dandisets/$id/versions/draft/";
is($t->put($draft, { name => 'Audited', metadata => { description => 'v2' } }, token => $alice)->{status}, 200,
    'metadata update');
is($t->put("/api/dandisets/$id/users/", [ { username => 'alice' }, { username => 'bob' } ], token => $alice)->{status},
    200, 'owner change');
# Refused changes leave no record.
is($t->put("/api/dandisets/$id/users/", [], token => $alice)->{status}, 400, 'refused owner change');
is($t->put($draft, { name => '', metadata => {} }, token => $alice)->{status}, 400, 'refused metadata update');

my $trail = "/api/dandisets/$id/audit/";
my $r = $t->get($trail, token => $alice);
is($r->{status}, 200, 'owner reads the trail');
is_deeply(okeys($r->{body}), [qw(count next previous results)], 'paginated');
is($r->{json}{count}, 3, 'three records: refused changes wrote none');
is_deeply([ map { $_->{record_type} } @{ $r->{json}{results} } ],
    [qw(create_dandiset update_metadata change_owners)], 'in order');
is_deeply(okeys($r->{body}, 'results', 0),
    [qw(id timestamp username user_email user_fullname record_type details admin description)], 'record shape');
my ($create, $update, $owners) = @{ $r->{json}{results} };
is_deeply([ @$create{qw(username user_email user_fullname)} ], [ 'alice', 'alice@example.org', 'Alice Smith' ],
    'who did it');
like($create->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'timestamp format');
is($create->{details}{embargoed}, JSON::PP::false, 'create details: embargoed');
is($create->{details}{metadata}{description}, 'v1', 'create details: metadata');
is($update->{details}{metadata}{description}, 'v2', 'update details: the new metadata');
is_deeply([ map { $_->{username} } @{ $owners->{details}{added_owners} } ], ['bob'], 'owner details: added');
is_deeply($owners->{details}{removed_owners}, [], 'owner details: removed');
is($t->get("$trail?page_size=1&page=2", token => $alice)->{json}{results}[0]{record_type}, 'update_metadata',
    'pages');
is($t->get($trail, token => $bob)->{status}, 200, 'a new owner reads it too');

my $carol = $t->user('carol');
is($t->get($trail)->{status}, 401, 'anonymous: 401');
$r = $t->get($trail, token => $carol);
is_deeply([ $r->{status}, $r->{json} ], [ 403, { detail => 'You do not have permission to perform this action.' } ],
    'non-owner: 403');
is($t->get($trail, token => $admin)->{status}, 200, 'admin reads any trail');
is($t->get('/api/dandisets/999999/audit/', token => $alice)->{status}, 404, 'unknown dandiset: 404');

my $emb = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $alice)
    ->{json}{identifier};
is($t->get("/api/dandisets/$emb/audit/", token => $carol)->{status}, 403, 'embargoed, non-owner: 403');
is($t->get("/api/dandisets/$emb/audit/", token => $alice)->{json}{results}[0]{details}{embargoed},
    JSON::PP::true, 'embargoed create recorded');

# Records outlive the dandiset: the admin can still read them.
my $gone = $t->post('/api/dandisets/', { name => 'Gone', metadata => {} }, token => $alice)->{json}{identifier};
is($t->delete("/api/dandisets/$gone/", token => $alice)->{status}, 204, 'delete');
is($t->get("/api/dandisets/$gone/audit/", token => $alice)->{status}, 404, 'deleted: owner gets 404');
$r = $t->get("/api/dandisets/$gone/audit/", token => $admin);
is_deeply([ map { $_->{record_type} } @{ $r->{json}{results} } ], [qw(create_dandiset delete_dandiset)],
    'deleted: admin still reads create and delete');

# --- asset event feed (staff) ---------------------------------------------------------

$t->psql("INSERT INTO audit_records (timestamp, dandiset_id, username, record_type, details)"
    . " SELECT timestamp '2025-01-01 00:00:00+00' + g * interval '1 hour', $id, 'alice',"
    . " (ARRAY['add_asset', 'update_asset', 'remove_asset'])[1 + g % 3],"
    . " jsonb_build_object('path', 'f' || g || '.nwb', 'asset_id', 'a' || g, 'metadata', jsonb_build_object('x', g))"
    . " FROM generate_series(1, 7) g");
my $feed = '/api/audit/events/asset';
is($t->get($feed)->{status}, 401, 'feed: anonymous 401');
is($t->get($feed, token => $alice)->{status}, 403, 'feed: non-staff 403');
$r = $t->get($feed, token => $admin);
is($r->{status}, 200, 'feed: admin 200');
is_deeply(okeys($r->{body}), [qw(next previous results)], 'feed: cursor page shape');
is_deeply([ map { $_->{details}{path} } @{ $r->{json}{results} } ], [ map { "f$_.nwb" } 1 .. 7 ],
    'feed: asset events only, oldest first');
is_deeply(okeys($r->{body}, 'results', 0), [qw(id dandiset_id timestamp record_type details)], 'feed: event shape');
ok(!exists $r->{json}{results}[0]{details}{metadata}, 'feed: metadata left out of details');
is($r->{json}{results}[0]{dandiset_id}, $id + 0, 'feed: dandiset id');
is_deeply([ $r->{json}{next}, $r->{json}{previous} ], [ undef, undef ], 'feed: one page, no links');

my @seen;
my $url = "$feed?page_size=3";
my @pages;
while ($url) {
	$r = $t->get($url, token => $admin);
	last unless $r->{status} == 200 && @pages < 10;
	push @pages, $r->{json};
	push @seen, map { $_->{details}{path} } @{ $r->{json}{results} };
	$url = $r->{json}{next};
}
is_deeply(\@seen, [ map { "f$_.nwb" } 1 .. 7 ], 'feed: following next links walks every event once');
is(scalar @pages, 3, 'feed: 3 + 3 + 1');
is($pages[0]{previous}, undef, 'feed: first page has no previous');
$r = $t->get($pages[2]{previous}, token => $admin);
is_deeply([ map { $_->{details}{path} } @{ $r->{json}{results} } ], [ map { "f$_.nwb" } 4 .. 6 ],
    'feed: previous goes back one page, in order');
$r = $t->get("$feed?reverse_order=true&page_size=2", token => $admin);
is_deeply([ map { $_->{details}{path} } @{ $r->{json}{results} } ], [ 'f7.nwb', 'f6.nwb' ], 'feed: reverse order');
$r = $t->get($r->{json}{next}, token => $admin);
is_deeply([ map { $_->{details}{path} } @{ $r->{json}{results} } ], [ 'f5.nwb', 'f4.nwb' ], 'feed: reverse, next page');
$r = $t->get("$feed?after=2025-01-01T03:00:00Z&before=2025-01-01T05:00:00", token => $admin);
is_deeply([ map { $_->{details}{path} } @{ $r->{json}{results} } ], [ 'f3.nwb', 'f4.nwb', 'f5.nwb' ],
    'feed: after/before, inclusive, naive times are UTC');
$r = $t->get("$feed?after=2025-01-01T04:00:00%2B01:00", token => $admin);
is($r->{json}{results}[0]{details}{path}, 'f3.nwb', 'feed: offsets honoured');
$r = $t->get("$feed?before=yesterday", token => $admin);
is($r->{status}, 400, 'feed: bad datetime 400');
like($r->{json}{before}[0] // '', qr/^Datetime has wrong format/, 'feed: DRF message');
is($t->get("$feed?before=2025-13-01T00:00", token => $admin)->{status}, 400, 'feed: month 13 refused');
is($t->get("$feed?reverse_order=sometimes", token => $admin)->{status}, 400, 'feed: bad boolean 400');
$r = $t->get("$feed?cursor=bm90LWEtY3Vyc29y", token => $admin);
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Invalid cursor' } ], 'feed: forged cursor 404');
is($t->get("$feed?cursor=%00%01", token => $admin)->{status}, 404, 'feed: garbage cursor 404');
is(one("SELECT count(*) FROM audit_records WHERE record_type LIKE '%asset%'"), 7, 'reading wrote nothing');

done_testing;
