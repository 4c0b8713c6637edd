# Authentication and the global permission: DRF token headers, their error
# messages, approval status, inactive users, and superusers.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 2);

my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');
my $bob = $t->user('bob', email => 'bob@example.org');
my $admin = $t->admin_token;

sub one { my @r = $t->psql(@_); my $v = $r[0]; ref $v ? $v->[0] : $v }
sub ndandisets { one('SELECT count(*) FROM dandisets') }
sub with_header {
	my ($method, $path, $auth, $data) = @_;
	return $t->request($method, $path, headers => { Authorization => $auth },
	    defined $data ? (json => $data) : ());
}
sub create_as { with_header('POST', '/api/dandisets/', $_[0], { name => 'x', metadata => {} }) }

like($alice, qr/^[0-9a-f]{40}$/, 'API keys are 40 hex digits');

# Keyword spellings: DRF compares it case-insensitively.
for my $kw ('token', 'Token', 'TOKEN') {
	my $r = create_as("$kw $alice");
	is($r->{status}, 200, "'$kw KEY' authenticates");
	my $id = $r->{json}{identifier};
	is(one("SELECT u.username FROM dandiset_owners o JOIN users u ON u.id = o.user_id WHERE o.dandiset_id = $id"),
	    'alice', "'$kw KEY' acts as the key's user");
}
my $r = with_header('GET', '/api/dandisets/?user=me', "token $alice");
is_deeply([ $r->{status}, $r->{json}{count} ], [ 200, 3 ], 'GET with a token sees the user');
$r = $t->get('/api/dandisets/?user=me', token => $alice);
is($r->{json}{count}, 3, 'the harness token option agrees');

# Bad credentials are refused even where no credentials are needed.
my $n = ndandisets();
my $www = 'Bearer realm="api"';
for my $case (
	[ 'token ' . ('0' x 40), 'Invalid token.' ],
	[ 'token ' . uc($alice), 'Invalid token.' ],
	[ 'token ' . substr($alice, 0, 39), 'Invalid token.' ],
	[ 'token ' . ('a' x 1000), 'Invalid token.' ],
	[ 'token', 'Invalid token header. No credentials provided.' ],
	[ "token $alice extra", 'Invalid token header. Token string should not contain spaces.' ],
) {
	my ($auth, $msg) = @$case;
	my $label = length($auth) > 60 ? substr($auth, 0, 60) . '...' : $auth;
	for my $m ('GET', 'POST') {
		$r = $m eq 'GET' ? with_header('GET', '/api/dandisets/', $auth) : create_as($auth);
		is($r->{status}, 401, "$m with '$label': 401");
		is_deeply($r->{json}, { detail => $msg }, "$m with '$label': $msg");
	}
	is($r->{headers}{'www-authenticate'}, $www, "'$label': WWW-Authenticate");
}
is(ndandisets(), $n, 'nothing created with bad credentials');

# Other schemes are not ours: the request is anonymous.
for my $auth ('Bearer nonsense', 'Basic YWxpY2U6c2VjcmV0', 'tokenx ' . $alice) {
	is(with_header('GET', '/api/dandisets/', $auth)->{status}, 200, "'$auth': GET as anonymous");
	$r = create_as($auth);
	is_deeply([ $r->{status}, $r->{json} ], [ 401, { detail => 'Authentication credentials were not provided.' } ],
	    "'$auth': POST as anonymous");
}

# Anonymous unsafe requests: 401 with the challenge header.
$r = $t->post('/api/dandisets/', { name => 'x', metadata => {} });
is($r->{status}, 401, 'anonymous POST');
is_deeply($r->{json}, { detail => 'Authentication credentials were not provided.' }, 'anonymous POST: detail');
is($r->{headers}{'www-authenticate'}, $www, 'anonymous POST: WWW-Authenticate');
is(ndandisets(), $n, 'nothing created anonymously');

# Only APPROVED users (or superusers) may change anything; all may read.
for my $status (qw(PENDING REJECTED INCOMPLETE)) {
	my $key = $t->user(lc($status) . '_user', status => $status);
	$r = create_as("token $key");
	is($r->{status}, 403, "$status user POST: 403");
	is_deeply($r->{json}, { detail => 'You do not have permission to perform this action.' }, "$status: detail");
	is($t->post('/api/dandisets/000001/star/', undef, token => $key)->{status}, 403, "$status user cannot star");
	is($t->get('/api/dandisets/000001/', token => $key)->{status}, 200, "$status user may read");
}
is(ndandisets(), $n, 'nothing created by unapproved users');
my $pending_admin = $t->user('boss', status => 'PENDING', admin => 1);
is(create_as("token $pending_admin")->{status}, 200, 'a superuser needs no approval');

# Inactive users: their key stops working.
my $gone = $t->user('gone');
$t->psql("UPDATE users SET is_active = false WHERE username = 'gone'");
$r = $t->get('/api/dandisets/', token => $gone);
is_deeply([ $r->{status}, $r->{json} ], [ 401, { detail => 'User inactive or deleted.' } ], 'inactive user');

# Rotating a key retires the old one.
my $old = $bob;
my ($new) = grep { /^[0-9a-f]{40}$/ } split /\s+/, $t->admin_cmd('rotate-token', '--username', 'bob');
ok(defined $new && $new ne $old, 'rotate-token prints a new key');
is($t->get('/api/dandisets/', token => $old)->{status}, 401, 'old key refused');
is(create_as("token $new")->{status}, 200, 'new key works');

# Superusers act as owners of everything.
my $id = $t->post('/api/dandisets/', { name => 'Alice only', metadata => {} }, token => $alice)->{json}{identifier};
my $emb = $t->post('/api/dandisets/?embargo=true', { name => 'Alice secret', metadata => {} }, token => $alice)->{json}{identifier};
is($t->put("/api/dandisets/$id/versions/draft/", { name => 'Edited by admin', metadata => {} }, token => $admin)->{status},
    200, 'admin edits any draft');
is($t->get("/api/dandisets/$emb/versions/draft/", token => $admin)->{status}, 200, 'admin reads any embargoed dandiset');
is($t->put("/api/dandisets/$emb/users/", [ { username => 'alice' }, { username => 'bob' } ], token => $admin)->{status},
    200, 'admin sets owners of any dandiset');
is($t->delete("/api/dandisets/$id/", token => $admin)->{status}, 204, 'admin deletes any dandiset');
is($t->get("/api/dandisets/$emb/", token => $new)->{status}, 200, 'bob, made owner by the admin, reads it');
my $r2 = $t->get('/api/dandisets/?user=me', token => $admin);
ok(!(grep { $_->{identifier} eq $emb } @{ $r2->{json}{results} || [] }), 'user=me lists only what the admin owns');

done_testing;
