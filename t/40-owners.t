# Owners: GET /api/dandisets/{id}/users/ (email only for signed-in readers)
# and PUT, which replaces the owner set and keeps at least one owner.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;
use Shape qw(okeys);

my $t = DandiTest->new(s3 => 0, workers => 2);

my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');
my $bob = $t->user('bob', first => 'Bob', last => 'Jones', email => 'bob@example.org');
my $carol = $t->user('carol', first => 'Carol', last => 'King', email => 'carol@example.org');
my $dave = $t->user('dave', email => 'dave@example.org');
my $pending = $t->user('pat', status => 'PENDING');
my $admin = $t->admin_token;
$t->psql("UPDATE users SET github_login = 'carol-gh' WHERE username = 'carol'");
$t->psql("UPDATE users SET github_login = 'dave-gh' WHERE username = 'dave'");

sub one { my @r = $t->psql(@_); my $v = $r[0]; ref $v ? $v->[0] : $v }
sub owners {
	my ($id) = @_;
	return join ',', map { ref $_ ? $_->[0] : $_ } $t->psql("SELECT u.username FROM dandiset_owners o"
	    . " JOIN users u ON u.id = o.user_id WHERE o.dandiset_id = $id ORDER BY u.username");
}
sub nrows { one("SELECT (SELECT count(*) FROM dandiset_owners) || '/' || (SELECT count(*) FROM audit_records)") }

my $id = $t->post('/api/dandisets/', { name => 'Owned', metadata => {} }, token => $alice)->{json}{identifier};
my $users = "/api/dandisets/$id/users/";

my $r = $t->get($users);
is($r->{status}, 200, 'owners list, anonymous');
is_deeply(okeys($r->{body}, 0), [qw(username name email)], 'owner key order');
is_deeply($r->{json}, [ { username => 'alice', name => 'Alice Smith', email => undef } ], 'email hidden from anonymous');
$r = $t->get($users, token => $bob);
is_deeply($r->{json}, [ { username => 'alice', name => 'Alice Smith', email => 'alice@example.org' } ],
    'email shown to any signed-in reader');
$r = $t->get($users, token => $pending);
is($r->{json}[0]{email}, 'alice@example.org', 'even an unapproved one');
is($t->get('/api/dandisets/999999/users/')->{status}, 404, 'owners of an unknown dandiset');

# Replace the set.
$r = $t->put($users, [ { username => 'bob' }, { username => 'alice' } ], token => $alice);
is($r->{status}, 200, 'add an owner');
is_deeply($r->{json}, [
	{ username => 'alice', name => 'Alice Smith', email => 'alice@example.org' },
	{ username => 'bob', name => 'Bob Jones', email => 'bob@example.org' },
], 'answer is the new list, ordered by date joined');
is_deeply($t->get($users)->{json}, [
	{ username => 'alice', name => 'Alice Smith', email => undef },
	{ username => 'bob', name => 'Bob Jones', email => undef },
], 'GET agrees');
is(owners($id), 'alice,bob', 'rows match');

$r = $t->put($users, [ { username => 'bob' }, { username => 'bob' } ], token => $alice);
is_deeply([ $r->{status}, [ map { $_->{username} } @{ $r->{json} } ] ], [ 200, ['bob'] ],
    'replacing removes, duplicates collapse');
is(owners($id), 'bob', 'alice is no longer an owner');

# A former owner is just another user now; the new one can edit.
$r = $t->put($users, [ { username => 'alice' } ], token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 403, 'Action not allowed' ], 'non-owner PUT users');
$r = $t->put("/api/dandisets/$id/versions/draft/", { name => 'Mine', metadata => {} }, token => $alice);
is($r->{status}, 403, 'former owner cannot edit the draft');
$r = $t->put("/api/dandisets/$id/versions/draft/", { name => 'Bob was here', metadata => {} }, token => $bob);
is_deeply([ $r->{status}, $r->{json}{name} ], [ 200, 'Bob was here' ], 'new owner edits the draft');

# GitHub logins: shown as the username, accepted as input, name may be null.
$r = $t->put($users, [ { username => 'bob' }, { username => 'carol-gh' }, { username => 'dave' } ], token => $bob);
is($r->{status}, 200, 'owners by login and by username');
is_deeply($r->{json}, [
	{ username => 'bob', name => 'Bob Jones', email => 'bob@example.org' },
	{ username => 'carol-gh', name => 'Carol King', email => 'carol@example.org' },
	{ username => 'dave-gh', name => undef, email => 'dave@example.org' },
], 'social accounts show their login; no name gives null');
is(owners($id), 'bob,carol,dave', 'rows match');

# Errors change nothing.
my $before = nrows();
my $set = owners($id);
$r = $t->put($users, [ { username => 'ghost' } ], token => $bob);
is_deeply([ $r->{status}, $r->{json} ], [ 400, ['User ghost not found'] ], 'unknown user');
$r = $t->put($users, [ { username => 'bob' }, { username => 'ghost' } ], token => $bob);
is_deeply([ $r->{status}, $r->{json} ], [ 400, ['User ghost not found'] ], 'unknown user among known ones');
$r = $t->put($users, [], token => $bob);
is_deeply([ $r->{status}, $r->{json} ], [ 400, ['Cannot remove all draft owners'] ], 'empty list');
$r = $t->put($users, [ {} ], token => $bob);
is_deeply([ $r->{status}, $r->{json} ], [ 400, [ { username => ['This field is required.'] } ] ], 'missing username');
$r = $t->put($users, { username => 'bob' }, token => $bob);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { non_field_errors => ['Expected a list of items but got type "dict".'] } ],
    'object instead of a list');
$r = $t->put($users, [ { username => 'bob' } ]);
is_deeply([ $r->{status}, $r->{json} ], [ 401, { detail => 'Authentication credentials were not provided.' } ],
    'anonymous PUT');
$r = $t->put($users, [ { username => 'pat' } ], token => $pending);
is_deeply([ $r->{status}, $r->{json} ], [ 403, { detail => 'You do not have permission to perform this action.' } ],
    'unapproved PUT');
is($t->put('/api/dandisets/999999/users/', [ { username => 'bob' } ], token => $bob)->{status}, 404,
    'PUT owners of an unknown dandiset');
is(owners($id), $set, 'owner set unchanged by the refusals');
is(nrows(), $before, 'no rows or audit records written');

# The admin acts as an owner of everything.
$r = $t->put($users, [ { username => 'alice' } ], token => $admin);
is_deeply([ $r->{status}, [ map { $_->{username} } @{ $r->{json} } ] ], [ 200, ['alice'] ], 'admin replaces the owners');
is(owners($id), 'alice', 'rows match');

# Embargoed dandisets follow the visibility rule.
my $emb = $t->post('/api/dandisets/?embargo=true', { name => 'Quiet', metadata => {} }, token => $alice)->{json}{identifier};
is($t->put("/api/dandisets/$emb/users/", [ { username => 'bob' } ], token => $bob)->{status}, 403,
    'non-owner cannot set owners of an embargoed dandiset');
$r = $t->put("/api/dandisets/$emb/users/", [ { username => 'alice' }, { username => 'bob' } ], token => $alice);
is($r->{status}, 200, 'owner shares the embargoed dandiset');
is($t->get("/api/dandisets/$emb/", token => $bob)->{status}, 200, 'and the new owner can read it');

done_testing;
