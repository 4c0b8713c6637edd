# Users: who am I, user search for the owners dialog, the staff's user list,
# the CLI's API key (read, rotate), and approving or rejecting sign-ups.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use DandiTest;
use Shape qw(okeys);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob', first => 'Bob', last => 'Jones');
my $zoe = $t->user('zoe', first => 'Zoë', last => 'Ångström');
my $pending = $t->user('pat', status => 'PENDING', first => 'Pat', last => 'Smithers');
my $incomplete = $t->user('ivy', status => 'INCOMPLETE');
my $admin = $t->admin_token;
sub sql { $t->psql($_[0]) }
sql("UPDATE users SET github_login = 'bob-gh' WHERE username = 'bob'");
sql("UPDATE users SET date_joined = now() - interval '1 day' WHERE username = 'bob'");

# --- /api/users/me/ ------------------------------------------------------------

my $r = $t->get('/api/users/me/');
is($r->{status}, 401, 'me: anonymous 401');
is_deeply($r->{json}, { detail => 'Authentication credentials were not provided.' }, 'me: 401 detail');
$r = $t->get('/api/users/me/', token => $alice);
is($r->{status}, 200, 'me: 200');
is_deeply(okeys($r->{body}), [qw(username name admin status)], 'me: keys in order');
is_deeply($r->{json}, { username => 'alice', name => 'Alice Smith', admin => JSON::PP::false, status => 'APPROVED' },
    'me: alice');
is($t->get('/api/users/me/', token => $bob)->{json}{username}, 'bob-gh', 'me: GitHub login shown');
is_deeply($t->get('/api/users/me/', token => $pending)->{json},
    { username => 'pat', name => 'Pat Smithers', admin => JSON::PP::false, status => 'PENDING' },
    'me: unapproved users may ask');
is($t->get('/api/users/me/', token => $incomplete)->{json}{name}, '', 'me: no name gives ""');
is($t->get('/api/users/me/', token => $zoe)->{json}{name}, 'Zoë Ångström', 'me: unicode name');
ok($t->get('/api/users/me/', token => $admin)->{json}{admin}, 'me: admin flag');

# --- /api/users/search/ ----------------------------------------------------------

is($t->get('/api/users/search/?username=smi')->{status}, 401, 'search: anonymous 401');
is($t->get('/api/users/search/?username=smi', token => $pending)->{status}, 403, 'search: unapproved 403');
$r = $t->get('/api/users/search/?username=smi', token => $bob);
is($r->{status}, 200, 'search: 200');
is_deeply([ map { $_->{username} } @{ $r->{json} } ], ['alice'], 'search: approved users only, by last name');
is_deeply(okeys($r->{body}, 0), [qw(username name admin status)], 'search: user shape');
is_deeply([ map { $_->{username} } @{ $t->get('/api/users/search/?username=GH', token => $alice)->{json} } ],
    ['bob-gh'], 'search: by GitHub login, case-insensitive');
is_deeply([ map { $_->{username} } @{ $t->get('/api/users/search/?username=o', token => $alice)->{json} } ],
    [ 'bob-gh', 'zoe' ], 'search: oldest first (bob joined earlier)');
is($t->get('/api/users/search/?username=%C3%B6', token => $alice)->{json}[0]{username}, 'zoe',
    'search: unicode');
$r = $t->get('/api/users/search/?username=%F6', token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 200, [] ], 'search: a query that is not UTF-8 finds nobody, no error');
is_deeply($t->get('/api/users/search/?username=', token => $alice)->{json}, [], 'search: empty query gives []');
is_deeply($t->get('/api/users/search/', token => $alice)->{json}, [], 'search: no query gives []');
is_deeply($t->get('/api/users/search/?username=a%20b', token => $alice)->{json}, [], 'search: not a username gives []');
is_deeply($t->get("/api/users/search/?username=%25", token => $alice)->{json}, [], 'search: % is not a wildcard');
is_deeply($t->get("/api/users/search/?username=_", token => $alice)->{json}, [], 'search: _ is not a wildcard');
$t->user("user$_", first => 'Many') for 1 .. 12;
is(scalar @{ $t->get('/api/users/search/?username=user', token => $alice)->{json} }, 10, 'search: at most 10');
sql("UPDATE users SET is_active = false WHERE username = 'user1'");
ok(!(grep { $_->{username} eq 'user1' } @{ $t->get('/api/users/search/?username=user1', token => $alice)->{json} }),
    'search: inactive users are not found');

# --- /api/users/ (staff) -------------------------------------------------------------

is($t->get('/api/users/')->{status}, 401, 'list: anonymous 401');
$r = $t->get('/api/users/', token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 403, { detail => 'You do not have permission to perform this action.' } ],
    'list: non-staff 403');
sql("UPDATE users SET github_login = 'pat-gh' WHERE username = 'pat'");
is_deeply($t->get('/api/users/', token => $admin)->{json}, [ 'bob-gh', 'pat-gh' ], 'list: GitHub logins, sorted');
is_deeply($t->get('/api/users/?approved_only=true', token => $admin)->{json}, ['bob-gh'], 'list: approved only');
$r = $t->get('/api/users/?approved_only=maybe', token => $admin);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { approved_only => ['Must be a valid boolean.'] } ], 'list: bad boolean');
sql("UPDATE users SET is_staff = true WHERE username = 'alice'");
is($t->get('/api/users/', token => $alice)->{status}, 200, 'list: staff (not superuser) may list');

# --- /api/auth/token/ --------------------------------------------------------------

is($t->get('/api/auth/token/')->{status}, 401, 'token: anonymous 401');
is($t->get('/api/auth/token/', token => $pending)->{status}, 403, 'token: unapproved 403');
$r = $t->get('/api/auth/token/', token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 200, $alice ], 'token: GET returns the key as a JSON string');
$r = $t->post('/api/auth/token/', undef, token => $alice);
is($r->{status}, 200, 'token: POST 200');
my $new = $r->{json};
like($new // '', qr/^[0-9a-f]{40}$/, 'token: new key is 40 hex digits');
isnt($new, $alice, 'token: a different key');
is($t->get('/api/users/me/', token => $alice)->{status}, 401, 'token: the old key stops working');
is($t->get('/api/auth/token/', token => $new)->{json}, $new, 'token: the new key works and is returned');
is(($t->psql("SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'alice'"))[0][0], 1,
    'token: one key per user');
# A user without a key (made outside the API) gets one on first ask.
my $carol = $t->user('carol');
sql("DELETE FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE username = 'carol')");
is($t->get('/api/users/me/', token => $carol)->{status}, 401, 'token: deleted key is refused');

# --- dandi-admin create-user / create-token ---------------------------------------------
# (The harness makes its users by SQL; these are the operator's commands.)

like($t->admin_cmd('create-user', '--username', 'dan', '--email', 'dan@example.org', '--first', 'Dán',
    '--last', 'Ödegaard', '--status', 'PENDING', '--admin'), qr/^user dan id \d+$/m, 'create-user');
is_deeply([ map { utf8::decode($_); $_ } @{ ($t->psql("SELECT email, first_name, last_name, is_superuser, is_staff, status"
    . " FROM users WHERE username = 'dan'"))[0] } ], [ 'dan@example.org', 'Dán', 'Ödegaard', 't', 't', 'PENDING' ],
    'create-user: the row as given');
my ($dan) = $t->admin_cmd('create-token', '--username', 'dan') =~ /^([0-9a-f]{40})$/m;
ok($dan, 'create-token prints a 40-hex key');
is_deeply($t->get('/api/users/me/', token => $dan)->{json},
    { username => 'dan', name => 'Dán Ödegaard', admin => JSON::PP::true, status => 'PENDING' }, 'the key works');
is(($t->admin_cmd('create-token', '--username', 'dan') =~ /^([0-9a-f]{40})$/m)[0], $dan, 'create-token again: the same key');
like($t->admin_cmd('create-user', '--username', 'dan', '--email', 'dan@example.net', '--status', 'APPROVED'),
    qr/^user dan id \d+$/m, 'create-user of an existing user updates it');
is_deeply([ $t->psql("SELECT email, first_name, is_superuser, status FROM users WHERE username = 'dan'") ],
    [ [ 'dan@example.net', '', 'f', 'APPROVED' ] ], '... with what was given (defaults for the rest)');
is($t->get('/api/users/me/', token => $dan)->{json}{status}, 'APPROVED', '... and the key still works');
ok(!eval { $t->admin_cmd('create-token', '--username', 'nobody'); 1 }, 'create-token: unknown user fails');
ok(!eval { $t->admin_cmd('create-user', '--email', 'x@example.org'); 1 }, 'create-user: --username is required');

# --- approving and rejecting sign-ups --------------------------------------------------

like($t->admin_cmd('approve-user', '--username', 'pat'), qr/approved/, 'approve-user');
is($t->get('/api/users/me/', token => $pending)->{json}{status}, 'APPROVED', 'approved user sees APPROVED');
is($t->post('/api/dandisets/', { name => 'now allowed', metadata => {} }, token => $pending)->{status}, 200,
    'approved user may create a dandiset');
ok(!eval { $t->admin_cmd('reject-user', '--username', 'ivy'); 1 }, 'reject-user needs a reason');
like($t->admin_cmd('reject-user', '--username', 'ivy', '--reason', 'Not a researcher'), qr/rejected/, 'reject-user');
is_deeply([ $t->psql("SELECT status, rejection_reason, is_active FROM users WHERE username = 'ivy'") ],
    [ [ 'REJECTED', 'Not a researcher', 'f' ] ], 'rejection stored, account deactivated');
$r = $t->get('/api/users/me/', token => $incomplete);
is_deeply([ $r->{status}, $r->{json} ], [ 401, { detail => 'User inactive or deleted.' } ], 'rejected user: key refused');
ok(!eval { $t->admin_cmd('approve-user', '--username', 'nobody'); 1 }, 'approve-user: unknown user fails');
ok(!eval { $t->admin_cmd('reject-user', '--username', 'bob', '--reason', 'x' x 1001); 1 }, 'reject-user: reason too long');

done_testing;
