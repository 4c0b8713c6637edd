# Browser identity: local accounts (sign-up, sign-in, sign-out), sessions
# and CSRF, the new-user questionnaire, the OAuth2 authorization code +
# PKCE provider the web app uses (authorize, token, refresh, revoke, Bearer
# auth), throttled sign-in (per account and address), open-redirect and forged-request defences,
# the staff approval dashboard, and sign-in through an upstream provider
# (a fake one on loopback).
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use DandiTest;

# --- a fake upstream provider: /token and /user, records what it was sent --
my $fake = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
    or die "listen: $!";
my $fport = $fake->sockport;
my $flog = "/tmp/dandi-fake-idp-$$.log";
my $fpid = fork // die;
if ($fpid == 0) {
	# Answers: POST /token -> access token (code "bad" -> 500); GET /user ->
	# the account named by the token.
	while (my $c = $fake->accept) {
		my $head = '';
		while (defined(my $l = <$c>)) { $head .= $l; last if $l eq "\r\n" }
		my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
		my $body = '';
		read($c, $body, $len) if $len;
		open(my $lf, '>>', $flog); print $lf "$head$body\n---\n"; close $lf;
		my ($method, $path) = $head =~ /^(\S+) (\S+)/;
		my ($st, $out) = (404, '{}');
		if ($path =~ m{^/token}) {
			my %f = map { my ($k, $v) = split /=/, $_, 2; $v =~ s/%(..)/chr hex $1/ge; ($k, $v) } split /&/, $body;
			($st, $out) = $f{code} eq 'bad' ? (500, '{"error":"server_error"}')
			    : (200, encode_json({ access_token => "tok-$f{code}", token_type => 'bearer' }));
		} elsif ($path =~ m{^/user}) {
			my ($tok) = $head =~ /^Authorization: Bearer tok-(\S+)/mi;
			($st, $out) = !defined $tok ? (401, '{}')
			    : $tok eq 'octo' ? (200, encode_json({ id => 583231, login => 'octocat', name => 'The Octocat',
			        email => 'octo@github.example' }))
			    : (200, encode_json({ id => 99, login => 'admin', name => undef, email => undef }));
		}
		print $c "HTTP/1.1 $st X\r\nContent-Type: application/json\r\nContent-Length: " . length($out)
		    . "\r\nConnection: close\r\n\r\n$out";
		close $c;
	}
	POSIX::_exit(0);
}
END { kill 'TERM', $fpid if $fpid; unlink $flog if $flog }

my $t = DandiTest->new(env => {
	DANDI_UPSTREAM_NAME => 'GitHub',
	DANDI_UPSTREAM_AUTHORIZE_URL => "http://127.0.0.1:$fport/authorize",
	DANDI_UPSTREAM_TOKEN_URL => "http://127.0.0.1:$fport/token",
	DANDI_UPSTREAM_USER_URL => "http://127.0.0.1:$fport/user",
	DANDI_UPSTREAM_CLIENT_ID => 'fake-client',
	DANDI_UPSTREAM_CLIENT_SECRET => 'fake-secret',
	DANDI_ADMIN_EMAIL => 'admin@archive.example',
});
$t->env->{DANDI_MAIL_SPOOL} = $t->dir . '/mail';
my $WEB = $t->web_url;
my $CLIENT = 'Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl';

# --- a tiny browser: a cookie jar, forms, no redirects followed ------------
sub one { my @r = $t->psql($_[0]); return $r[0][0] }
# (from: the loopback address it connects from, its client address)
sub new_browser { my (%o) = @_; return { jar => {}, from => $o{from} } }
sub cookies_of { my ($r) = @_; my $c = $r->{headers}{'set-cookie'} // []; ref $c ? @$c : ($c) }
sub browse {
	my ($b, $method, $path, %o) = @_;
	my %h = %{ $o{headers} || {} };
	my $jar = join '; ', map { "$_=$b->{jar}{$_}" } grep { length $b->{jar}{$_} } sort keys %{ $b->{jar} };
	$h{Cookie} = $jar if $jar;
	my %args = (headers => \%h);
	if ($o{form}) {
		my $f = $o{form};
		$args{body} = join '&', map { my $v = $f->{$_}; utf8::encode($v) if utf8::is_utf8($v);
		    $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; "$_=$v" } sort keys %$f;
		$h{'Content-Type'} = 'application/x-www-form-urlencoded';
	}
	$args{json} = $o{json} if $o{json};
	my $r = $t->request($method, $path, %args, (defined $o{token} ? (token => $o{token}) : ()),
	    (defined $b->{from} ? (from => $b->{from}) : ()));
	for (cookies_of($r)) {
		my ($k, $v) = /^([^=]+)=([^;]*)/ or next;
		$b->{jar}{$k} = $v;
	}
	return $r;
}
sub csrf_of { $_[0]{jar}{csrftoken} }
sub loc { $_[0]{headers}{location} // '' }
sub qparams { my ($u) = @_; my ($q) = $u =~ /\?(.*)$/; my %p;
	for (split /&/, $q // '') { my ($k, $v) = split /=/, $_, 2; $v //= ''; $v =~ s/\+/ /g; $v =~ s/%(..)/chr hex $1/ge; $p{$k} = $v }
	return \%p }

# --- sign-up ------------------------------------------------------------------
my $ann = new_browser();
my $r = browse($ann, 'GET', '/accounts/signup/?next=/dandiset/000001');
is($r->{status}, 200, 'sign-up page');
like($r->{headers}{'content-type'}, qr{^text/html}, 'as HTML');
like($r->{body}, qr/name="csrfmiddlewaretoken" value="[0-9a-f]{64}"/, 'form carries a CSRF token');
like(join(' ', cookies_of($r)), qr/csrftoken=[0-9a-f]{64}; Path=\/; Max-Age=\d+; SameSite=Lax/, 'CSRF cookie set');
like($r->{body}, qr/name="next" value="\/dandiset\/000001"/, 'next kept in the form');

my %signup = (username => 'ann', email => 'ann@example.org', password1 => 'correct horse', password2 => 'correct horse',
    next => '/dandiset/000001');
$r = browse(new_browser(), 'POST', '/accounts/signup/', form => { %signup, csrfmiddlewaretoken => 'f' x 64 });
is($r->{status}, 403, 'sign-up without the CSRF cookie: 403');
$r = browse($ann, 'POST', '/accounts/signup/', form => { %signup, csrfmiddlewaretoken => 'a' x 64 });
is($r->{status}, 403, 'sign-up with a token that is not the cookie: 403');
$r = browse($ann, 'POST', '/accounts/signup/', form => { %signup, csrfmiddlewaretoken => csrf_of($ann) },
    headers => { Origin => 'https://evil.example' });
is($r->{status}, 403, 'sign-up posted from another origin: 403');
is(one("SELECT count(*) FROM users WHERE username = 'ann'"), 0, 'no account made by refused posts');

sub signup_err {
	my ($form, $want, $name) = @_;
	my $b = new_browser();
	browse($b, 'GET', '/accounts/signup/');
	my $r = browse($b, 'POST', '/accounts/signup/', form => { %signup, %$form, csrfmiddlewaretoken => csrf_of($b) });
	is($r->{status}, 400, "$name: 400");
	like($r->{body}, $want, "$name: message");
	ok(!grep(/^sessionid=[0-9a-f]/, cookies_of($r)), "$name: no session");
}
signup_err({ username => 'x' x 151 }, qr/at most 150 characters/, 'overlong username');
signup_err({ username => 'änn' }, qr/Enter a valid username/, 'unicode username');
signup_err({ username => "a\r\nb" }, qr/Enter a valid username/, 'CR LF in username');
signup_err({ email => 'not-an-email' }, qr/valid e-mail/, 'bad e-mail');
signup_err({ password2 => 'other horse' }, qr/do not match/, 'passwords differ');
signup_err({ password1 => 'short', password2 => 'short' }, qr/between 8 and 1024/, 'short password');

$r = browse($ann, 'POST', '/accounts/signup/', form => { %signup, csrfmiddlewaretoken => csrf_of($ann) });
is_deeply([ $r->{status}, loc($r) ], [ 302, '/dandiset/000001' ], 'sign-up: 302 to next');
my ($sc) = grep /^sessionid=/, cookies_of($r);
like($sc, qr/^sessionid=[0-9a-f]{64}; Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly/, 'session cookie: HttpOnly, Lax');
is_deeply([ $t->psql("SELECT status, password_hash ~ '^scrypt\\\$' FROM users WHERE username = 'ann'") ],
    [ [ 'INCOMPLETE', 't' ] ], 'new user INCOMPLETE, password stored as scrypt');
signup_err({ username => 'ANN', email => 'other@example.org' }, qr/already exists/, 'taken username (any case)');
signup_err({ username => 'ann2', email => 'ANN@example.org' }, qr/already registered/, 'taken e-mail');

# --- session on the API, CSRF for unsafe methods ----------------------------
$r = browse($ann, 'GET', '/api/users/me/');
is_deeply([ $r->{status}, $r->{json}{username}, $r->{json}{status} ], [ 200, 'ann', 'INCOMPLETE' ], 'session: users/me');
$r = browse($ann, 'POST', '/api/dandisets/?embargo=false', json => { name => 'x', metadata => {} });
is_deeply([ $r->{status}, $r->{json} ], [ 403, { detail => 'CSRF Failed: CSRF token missing.' } ],
    'session POST without X-CSRFToken: 403');
$r = browse($ann, 'POST', '/api/dandisets/', json => { name => 'x', metadata => {} },
    headers => { 'X-CSRFToken' => 'b' x 64 });
like($r->{json}{detail} // '', qr/CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect/, 'wrong X-CSRFToken: 403');
$r = browse($ann, 'POST', '/api/dandisets/', json => { name => 'x', metadata => {} },
    headers => { 'X-CSRFToken' => csrf_of($ann) });
is_deeply([ $r->{status}, $r->{json}{detail} ], [ 403, 'You do not have permission to perform this action.' ],
    'with the token: the request reaches the permission check (INCOMPLETE user)');

# --- OAuth: authorize -----------------------------------------------------------
my $verifier = encode_base64url(join '', map { chr int rand 256 } 1 .. 48);
my $challenge = encode_base64url(sha256($verifier));
sub authorize_url {
	my (%o) = @_;
	my %q = (response_type => 'code', client_id => $CLIENT, redirect_uri => "$WEB/", code_challenge => $challenge,
	    code_challenge_method => 'S256', state => 'st4te xyz', %o);
	return '/oauth/authorize/?' . join '&', map { my $v = $q{$_}; $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
	    "$_=$v" } grep { defined $q{$_} } sort keys %q;
}
my $anon = new_browser();
$r = browse($anon, 'GET', authorize_url());
is($r->{status}, 302, 'authorize, signed out: 302');
like(loc($r), qr{^/accounts/login/\?next=%2Foauth%2Fauthorize%2F%3F}, '... to the sign-in page with next');

$r = browse($anon, 'GET', authorize_url(client_id => 'nope'));
is_deeply([ $r->{status}, loc($r) ], [ 400, '' ], 'unknown client: 400, no redirect');
$r = browse($anon, 'GET', authorize_url(redirect_uri => 'https://evil.example/'));
is_deeply([ $r->{status}, loc($r) ], [ 400, '' ], 'foreign redirect_uri: 400, no redirect');
like($r->{body}, qr/Mismatching redirect URI/, '... with the reason');
$r = browse($anon, 'GET', authorize_url(redirect_uri => "$WEB/\r\nSet-Cookie: x=y"));
is_deeply([ $r->{status}, loc($r) ], [ 400, '' ], 'header injection in redirect_uri: 400');
$r = browse($anon, 'GET', authorize_url(code_challenge => undef));
is($r->{status}, 302, 'no PKCE challenge: back to the client');
is_deeply([ @{ qparams(loc($r)) }{qw(error state)} ], [ 'invalid_request', 'st4te xyz' ], '... with invalid_request and state');
$r = browse($anon, 'GET', authorize_url(code_challenge_method => 'plain'));
is(qparams(loc($r))->{error}, 'invalid_request', 'plain PKCE refused');
$r = browse($anon, 'GET', authorize_url(response_type => 'token'));
is(qparams(loc($r))->{error}, 'unsupported_response_type', 'implicit grant refused');

# Signed in but INCOMPLETE: the questionnaire first.
my $auth = authorize_url();
$r = browse($ann, 'GET', $auth);
is($r->{status}, 302, 'authorize, INCOMPLETE user: 302');
like(loc($r), qr{^/api/users/questionnaire-form/\?next=}, '... to the questionnaire');
$r = browse($ann, 'GET', loc($r));
is($r->{status}, 200, 'questionnaire page');
like($r->{body}, qr/First Name.*Last Name.*affiliation.*website.*use DANDI/s, 'questionnaire fields');
my %q = (first_name => 'Ann', last_name => 'Lee', affiliation => 'Lab', website => 'https://lab.example',
    usage => 'share data', next => $auth, csrfmiddlewaretoken => csrf_of($ann));
$r = browse($ann, 'POST', '/api/users/questionnaire-form/', form => { %q, usage => ' ' });
is($r->{status}, 400, 'questionnaire with a blank answer: 400');
$r = browse($ann, 'POST', '/api/users/questionnaire-form/', form => { %q, csrfmiddlewaretoken => 'c' x 64 });
is($r->{status}, 403, 'questionnaire with a bad CSRF token: 403');
$r = browse($ann, 'POST', '/api/users/questionnaire-form/', form => \%q);
is_deeply([ $r->{status}, loc($r) ], [ 302, $auth ], 'questionnaire sent: back to authorize');
is_deeply([ $t->psql("SELECT status, first_name, last_name, questionnaire_form->>'Lab/project website' FROM users WHERE username = 'ann'") ],
    [ [ 'PENDING', 'Ann', 'Lee', 'https://lab.example' ] ], 'PENDING (example.org is not auto-approved), answers stored');

$r = browse($ann, 'GET', $auth);
is($r->{status}, 302, 'authorize: 302');
like(loc($r), qr{^\Q$WEB\E/\?code=[0-9a-f]{64}&state=st4te%20xyz$}, '... to the web app with code and state');
my $code = qparams(loc($r))->{code};

# --- OAuth: token ---------------------------------------------------------------
sub token_req { browse(new_browser(), 'POST', '/oauth/token/', form => { @_ }) }
my %grant = (grant_type => 'authorization_code', client_id => $CLIENT, redirect_uri => "$WEB/", code_verifier => $verifier);
$r = token_req(%grant, code => $code, code_verifier => encode_base64url('x' x 40));
is_deeply([ $r->{status}, $r->{json}{error} ], [ 400, 'invalid_grant' ], 'forged PKCE verifier: invalid_grant');
$r = token_req(%grant, code => $code);
is_deeply([ $r->{status}, $r->{json}{error} ], [ 400, 'invalid_grant' ], 'the code was burnt by the failed try');

$code = qparams(loc(browse($ann, 'GET', $auth)))->{code};
$r = token_req(%grant, code => $code, redirect_uri => "$WEB/other");
is($r->{json}{error}, 'invalid_grant', 'other redirect_uri at the token endpoint: invalid_grant');
$code = qparams(loc(browse($ann, 'GET', $auth)))->{code};
$r = token_req(%grant, code => $code, client_id => 'nope');
is_deeply([ $r->{status}, $r->{json}{error} ], [ 401, 'invalid_client' ], 'unknown client: 401 invalid_client');
$r = token_req(%grant, code => $code);
is($r->{status}, 200, 'code + verifier: 200');
is_deeply([ sort keys %{ $r->{json} } ], [qw(access_token expires_in refresh_token scope token_type)], 'token shape');
is_deeply([ @{ $r->{json} }{qw(token_type expires_in)} ], [ 'Bearer', 36000 ], 'Bearer, 10 hours');
is($r->{headers}{'cache-control'}, 'no-store', 'not cached');
my %tok = %{ $r->{json} };
$r = token_req(%grant, code => $code);
is($r->{json}{error}, 'invalid_grant', 'a code works once');
is(one("SELECT count(*) FROM oauth_tokens WHERE access_sha256 = encode(sha256('$tok{access_token}'), 'hex')"), 1,
    'only the hash of the token is stored');

$r = $t->get('/api/users/me/', headers => { Authorization => "Bearer $tok{access_token}" });
is_deeply([ $r->{status}, $r->{json}{username} ], [ 200, 'ann' ], 'Bearer token: users/me');
$r = $t->get('/api/users/me/', headers => { Authorization => 'Bearer ' . ('0' x 64) });
is($r->{status}, 401, 'unknown Bearer token: anonymous (401 on users/me)');
is($t->get('/api/dandisets/', headers => { Authorization => 'Bearer nonsense' })->{status}, 200,
    'unknown Bearer token on an open endpoint: served anonymously');

$r = token_req(grant_type => 'refresh_token', client_id => $CLIENT, refresh_token => $tok{refresh_token});
is($r->{status}, 200, 'refresh: 200');
my %tok2 = %{ $r->{json} };
isnt($tok2{access_token}, $tok{access_token}, 'a new access token');
is($t->get('/api/users/me/', headers => { Authorization => "Bearer $tok{access_token}" })->{status}, 401,
    'the refreshed pair is revoked');
is(token_req(grant_type => 'refresh_token', client_id => $CLIENT, refresh_token => $tok{refresh_token})->{json}{error},
    'invalid_grant', 'a refresh token works once');
is(token_req(grant_type => 'password', client_id => $CLIENT)->{json}{error}, 'unsupported_grant_type',
    'password grant: unsupported');

# --- revoke (logout of the web app) ----------------------------------------------
$r = browse(new_browser(), 'POST', '/oauth/revoke_token/', form => { token => $tok2{access_token}, client_id => $CLIENT });
is($r->{status}, 200, 'revoke: 200');
is($t->get('/api/users/me/', headers => { Authorization => "Bearer $tok2{access_token}" })->{status}, 401,
    'revoked token no longer works');
is(browse(new_browser(), 'POST', '/oauth/revoke_token/', form => { token => 'nothing', client_id => $CLIENT })->{status},
    200, 'revoking an unknown token: 200 (RFC 7009)');

# --- sign-in, rate limit, open redirects -------------------------------------------
sub login {
	my ($b, $user, $pw, $next) = @_;
	browse($b, 'GET', '/accounts/login/') unless csrf_of($b);
	return browse($b, 'POST', '/accounts/login/', form => { login => $user, password => $pw,
	    csrfmiddlewaretoken => csrf_of($b), (defined $next ? (next => $next) : ()) });
}
my $b2 = new_browser();
$r = login($b2, 'ann@example.org', 'correct horse', '/dandiset/000001');
is_deeply([ $r->{status}, loc($r) ], [ 302, '/dandiset/000001' ], 'sign in by e-mail, redirected to next');
is(browse($b2, 'GET', '/api/users/me/')->{json}{username}, 'ann', 'signed in');
my $old_csrf = $b2->{jar}{csrftoken};
for my $evil ('//evil.example/x', 'https://evil.example/', "/\\evil.example", "/x\r\nSet-Cookie: a=b", 'javascript:alert(1)',
    "/d\x{e9}") {
	$r = login(new_browser(), 'ann', 'correct horse', $evil);
	(my $name = $evil) =~ s/[\r\n]/?/g;
	is_deeply([ $r->{status}, loc($r) ], [ 302, "$WEB/" ], "next '$name': to the web app instead");
}
$r = login(new_browser(), 'ann', 'correct horse', "$WEB/dandiset/000002");
is(loc($r), "$WEB/dandiset/000002", 'next on the web app origin is kept');

$t->user('bob', first => 'Bob', last => 'B');
$t->psql("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'ann') WHERE username = 'bob'");
# Throttling: failures count per (account, client address) and per
# address; only the address that fails waits, longer with each failure,
# and the account's owner signs in from anywhere else meanwhile.
for my $i (1 .. 5) {
	$r = login(new_browser(), 'ann', 'wrong horse');
}
is($r->{status}, 400, 'wrong password: 400');
like($r->{body}, qr/not correct/, '... with the message');
$r = login(new_browser(), 'ann', 'correct horse');
is($r->{status}, 429, 'after 5 failures from one address even the right password is refused there: 429');
like($r->{headers}{'content-type'}, qr{^text/html}, '... the sign-in page, which the form shows');
like($r->{body}, qr/Too many failed sign-in attempts from this address\. Try again in 2 seconds\./, '... saying how long');
is($r->{headers}{'retry-after'}, '2', '... and Retry-After: 2');
my @ra = ($r->{headers}{'retry-after'});
ok(!grep(/^sessionid=[0-9a-f]/, cookies_of($r)), '... and no session');
is(login(new_browser(), 'ANN', 'correct horse')->{status}, 429, 'the same login in capitals: throttled all the same');
my $elsewhere = new_browser(from => '127.0.0.2');
$r = login($elsewhere, 'ann', 'correct horse');
is($r->{status}, 302, 'meanwhile the owner signs in from another address');
is(browse($elsewhere, 'GET', '/api/users/me/')->{json}{username}, 'ann', '... and is signed in there');
is(login(new_browser(), 'bob', 'correct horse')->{status}, 302, 'another account from the throttled address is not throttled');
# Each further failure doubles the wait.
# (a wait of more than 10 s is already wrong: no longer sleeps)
sub pause { select(undef, undef, undef, ($_[0] && $_[0] < 10 ? $_[0] : 10) + 0.3) }
for my $step (1 .. 2) {
	pause($ra[-1]);
	$r = login(new_browser(), 'ann', 'wrong horse');
	is($r->{status}, 400, "after waiting $ra[-1] s an attempt is heard again (wrong: 400)");
	$r = login(new_browser(), 'ann', 'correct horse');
	is($r->{status}, 429, '... and the next one waits again');
	push @ra, $r->{headers}{'retry-after'};
}
# (the wait counts from the failed attempt's answer: a second may be gone)
ok($ra[0] == 2 && $ra[1] >= 3 && $ra[1] <= 4 && $ra[2] >= 7 && $ra[2] <= 8,
    "the waits grow: 2, 4, 8 s (Retry-After @ra)");
pause($ra[-1]);
is(login(new_browser(), 'ann', 'correct horse')->{status}, 302, 'after the wait the right password signs in');
is(login(new_browser(), 'ann', 'wrong horse')->{status}, 400, '... which forgets that address\'s failures');
is(login(new_browser(), 'ann', 'correct horse')->{status}, 302, '... so one failure costs no wait');
is(login(new_browser(), 'nobody', 'x' x 20)->{status}, 400, 'unknown account: the same 400');
is(login(new_browser(), 'x' x 300, 'y')->{status}, 400, 'overlong login: 400');
# An address failing on many accounts waits for all of them; other
# addresses do not.
my $guesser = new_browser(from => '127.0.0.3');
login($guesser, "guess$_", 'wrong horse') for 1 .. 30;
$r = login($guesser, 'bob', 'correct horse');
is_deeply([ $r->{status}, $r->{headers}{'retry-after'} ], [ 429, 2 ],
    'after 30 failures on any accounts, an address waits for every account');
is(login(new_browser(from => '127.0.0.4'), 'bob', 'correct horse')->{status}, 302, '... but no other address');

# --- sign-out ------------------------------------------------------------------
$r = browse($b2, 'GET', '/accounts/logout/');
is($r->{status}, 200, 'GET logout only shows a button');
is(browse($b2, 'GET', '/api/users/me/')->{status}, 200, '... still signed in');
my $cookie = $b2->{jar}{sessionid};
$r = browse($b2, 'POST', '/accounts/logout/', form => { csrfmiddlewaretoken => csrf_of($b2) });
is_deeply([ $r->{status}, loc($r) ], [ 302, "$WEB/" ], 'sign-out: 302');
is($t->get('/api/users/me/', headers => { Cookie => "sessionid=$cookie" })->{status}, 401,
    'the old session cookie no longer works');

# --- dashboard ----------------------------------------------------------------------
$r = browse(new_browser(), 'GET', '/dashboard/');
like(loc($r), qr{^/accounts/login/\?next=}, 'dashboard, signed out: to sign-in');
my $bobb = new_browser();
login($bobb, 'bob', 'correct horse');
is(browse($bobb, 'GET', '/dashboard/')->{status}, 403, 'dashboard for a non-staff user: 403');
$t->admin_token;
$t->psql("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'ann') WHERE username = 'admin'");
my $adm = new_browser();
is(login($adm, 'admin', 'correct horse')->{status}, 302, 'admin signs in');
$r = browse($adm, 'GET', '/dashboard/');
is($r->{status}, 200, 'dashboard');
like($r->{body}, qr{href="/dashboard/user/ann/">ann</a>}, 'pending user listed');
$r = browse($adm, 'GET', '/dashboard/user/ann/');
like($r->{body}, qr/What affiliation\(s\) do you have\?.*Lab/s, 'user page shows the questionnaire');
$r = browse($adm, 'POST', '/dashboard/user/ann/', form => { status => 'REJECTED', rejection_reason => ' ',
    csrfmiddlewaretoken => csrf_of($adm) });
is($r->{status}, 400, 'reject without a reason: 400');
$r = browse($adm, 'POST', '/dashboard/user/ann/', form => { status => 'APPROVED', csrfmiddlewaretoken => 'd' x 64 });
is($r->{status}, 403, 'approve with a bad CSRF token: 403');
$r = browse($adm, 'POST', '/dashboard/user/ann/', form => { status => 'APPROVED', csrfmiddlewaretoken => csrf_of($adm) });
is_deeply([ $r->{status}, loc($r) ], [ 302, '/dashboard/' ], 'approve: back to the list');
is(one("SELECT status FROM users WHERE username = 'ann'"), 'APPROVED', 'ann is APPROVED');
$r = browse($adm, 'POST', '/dashboard/user/bob/', form => { status => 'REJECTED', rejection_reason => 'spam <b>',
    csrfmiddlewaretoken => csrf_of($adm) });
is_deeply([ $t->psql("SELECT status, rejection_reason, is_active FROM users WHERE username = 'bob'") ],
    [ [ 'REJECTED', 'spam <b>', 'f' ] ], 'bob REJECTED with the reason, inactive');
like(browse($adm, 'GET', '/dashboard/user/bob/')->{body}, qr/spam &lt;b&gt;/, 'reason shown escaped');
is($t->get('/api/users/me/', token => $t->{users}{bob})->{status}, 401, "a rejected user's API key: 401");
is(browse($bobb, 'GET', '/api/users/me/')->{status}, 401, "a rejected user's session: gone");
is(login(new_browser(), 'bob', 'correct horse')->{status}, 400, 'a rejected user cannot sign in');
is(browse($adm, 'GET', '/dashboard/user/nobody/')->{status}, 404, 'unknown user: 404');

# The original's data dashboard on the same page: assets in no version,
# blobs no asset uses, upload rows, and the assets of some version that
# are not Valid; each number as the page shows it.
sub dash_counts {
	my $body = browse($adm, 'GET', '/dashboard/')->{body};
	return { map { my ($n) = $body =~ /id="$_">(\d+)</; ($_ => $n) }
	    qw(orphaned-asset-count orphaned-blob-count upload-count non-valid-asset-count) };
}
is_deeply(dash_counts(), { 'orphaned-asset-count' => 0, 'orphaned-blob-count' => 0, 'upload-count' => 0,
    'non-valid-asset-count' => 0 }, 'dashboard: nothing to report yet');
my $dds = $t->post('/api/dandisets/', { name => 'Dash', metadata => {} }, token => $t->admin_token)->{json}{identifier};
my $draft = one("SELECT id FROM versions WHERE dandiset_id = $dds AND version = 'draft'");
my $nb = 0;
sub dash_blob {
	my $u = sprintf '%08d-2222-4000-8000-000000000000', ++$nb;
	return one("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $nb) . "-1', " . (100 * $nb) . ") RETURNING id");
}
sub dash_asset {
	my ($path, $status, $in_draft, $blob) = @_;
	my $a = one("INSERT INTO assets (asset_id, path, blob_id, metadata, status, validation_errors)"
	    . " VALUES (gen_random_uuid(), '$path', $blob, '{\"schemaVersion\": \"0.6.7\", \"path\": \"$path\"}',"
	    . " '$status', '" . ($status eq 'Invalid' ? '[{"field": "path", "message": "bad <x>"}]' : '[]')
	    . "') RETURNING id");
	$t->psql("INSERT INTO asset_versions (asset_id, version_id) VALUES ($a, $draft)") if $in_draft;
	return $a;
}
dash_asset('orphan.nwb', 'Pending', 0, dash_blob());	# orphaned (not counted as non-valid: no version)
my $orphan_blob = dash_blob();				# used by no asset
dash_asset('pending.nwb', 'Pending', 1, dash_blob());
dash_asset('invalid.nwb', 'Invalid', 1, dash_blob());
dash_asset('valid.nwb', 'Valid', 1, dash_blob());
my $shared = dash_blob();				# one asset in the draft, one orphaned: not an orphan blob
dash_asset('shared-old.nwb', 'Valid', 0, $shared);
dash_asset('shared.nwb', 'Valid', 1, $shared);
$t->psql("INSERT INTO uploads (dandiset_id, upload_id, blob, etag, multipart_upload_id, size) VALUES"
    . " ($dds, gen_random_uuid(), 'blobs/u/1', '" . ('a' x 32) . "-1', 'mp1', 5),"
    . " ($dds, gen_random_uuid(), 'blobs/u/2', NULL, 'mp2', 7)");
is_deeply(dash_counts(), { 'orphaned-asset-count' => 2, 'orphaned-blob-count' => 1, 'upload-count' => 2,
    'non-valid-asset-count' => 2 }, 'dashboard: 2 orphaned assets, 1 orphaned blob, 2 uploads, 2 non-valid assets');
my $page = browse($adm, 'GET', '/dashboard/')->{body};
my ($nv) = $page =~ m{<section id="non-valid-assets">(.*?)</section>}s;
is_deeply([ $nv =~ m{<tr><td>\d+</td><td>[0-9a-f-]{36}</td><td>([^<]*)</td><td>([^<]*)</td>}g ],
    [ 'pending.nwb', 'Pending', 'invalid.nwb', 'Invalid' ], 'non-valid assets listed, oldest first, with their status');
like($nv, qr{bad &lt;x&gt;}, '... their validation errors (escaped)');
like($nv, qr{<td>0*$dds/draft</td>}, '... and their versions');
my ($ups) = $page =~ m{<section id="uploads">(.*?)</section>}s;
is_deeply([ $ups =~ m{<tr><td>\d+</td><td>[0-9a-f-]{36}</td><td>(\d+)</td><td>([^<]*)</td>}g ],
    [ 5, 'unknown (no object store)', 7, 'unknown (no object store)' ],
    'uploads listed with their reported size (no object store here to ask for the actual one)');
like($page, qr{<code>dandi-jobs gc --assets</code>}, 'how orphaned assets are cleaned up');

# --- upstream provider --------------------------------------------------------------
my $gh = new_browser();
$r = browse($gh, 'GET', '/accounts/login/?next=/dandiset/000007');
like($r->{body}, qr{href="/accounts/upstream/login/\?next=%2Fdandiset%2F000007">Sign in with GitHub}, 'login page offers GitHub');
$r = browse($gh, 'GET', '/accounts/upstream/login/?next=/dandiset/000007');
is($r->{status}, 302, 'upstream login: 302');
like(loc($r), qr{^http://127\.0\.0\.1:$fport/authorize\?client_id=fake-client&redirect_uri=\Q@{[ $WEB =~ s/:/%3A/gr =~ s{/}{%2F}gr ]}\E%2Faccounts%2Fupstream%2Fcallback%2F&scope=read%3Auser%20user%3Aemail&state=[0-9a-f]{64}&response_type=code$},
    '... to the provider with client, callback, scope and state');
my $state = qparams(loc($r))->{state};
$r = browse($gh, 'GET', "/accounts/upstream/callback/?code=octo&state=" . ('e' x 64));
is($r->{status}, 400, 'forged state: 400');
ok(!grep(/^sessionid=[0-9a-f]/, cookies_of($r)), '... no session');
$r = browse($gh, 'GET', "/accounts/upstream/callback/?code=octo&state=$state");
is_deeply([ $r->{status}, loc($r) ], [ 302, '/dandiset/000007' ], 'callback: signed in, to next');
like(do { local $/; open my $fh, '<', $flog; <$fh> },
    qr/client_id=fake-client&client_secret=fake-secret&code=octo&redirect_uri=http%3A/, 'token request carried the secret and code');
$r = browse($gh, 'GET', '/api/users/me/');
is_deeply([ @{ $r->{json} }{qw(username name status)} ], [ 'octocat', 'The Octocat', 'INCOMPLETE' ],
    'a new user named after the login, INCOMPLETE');
is(browse($gh, 'GET', "/accounts/upstream/callback/?code=octo&state=$state")->{status}, 400, 'a state works once');
my $gh2 = new_browser();
$state = qparams(loc(browse($gh2, 'GET', '/accounts/upstream/login/')))->{state};
browse($gh2, 'GET', "/accounts/upstream/callback/?code=octo&state=$state");
is(browse($gh2, 'GET', '/api/users/me/')->{json}{username}, 'octocat', 'second sign-in: the same user');
is(one("SELECT count(*) FROM users WHERE username LIKE 'octocat%'"), 1, '... not a new one');
$state = qparams(loc(browse($gh2, 'GET', '/accounts/upstream/login/')))->{state};
$r = browse(new_browser(), 'GET', "/accounts/upstream/callback/?code=admin&state=$state");
is(loc($r), "$WEB/", 'provider login "admin" signs in');
is(one("SELECT username FROM users u JOIN social_accounts s ON s.user_id = u.id WHERE s.uid = '99'"), 'admin-2',
    '... as a new user admin-2, never as our admin');
$state = qparams(loc(browse($gh2, 'GET', '/accounts/upstream/login/')))->{state};
$r = browse(new_browser(), 'GET', "/accounts/upstream/callback/?code=bad&state=$state");
is($r->{status}, 502, 'provider failing at the token step: 502 page');

# --- the mails of all this -------------------------------------------------------------
like($t->jobs('mail'), qr/^\d+ mail\(s\) sent, 0 failed/m, 'dandi-jobs mail');
my %subjects;
for my $f (glob($t->dir . '/mail/*.eml')) {
	my $m = do { local $/; open my $fh, '<', $f; <$fh> };
	my ($to) = $m =~ /^To: (.*?)\r$/m;
	my ($subj) = $m =~ /^Subject: (.*?)\r$/m;
	push @{ $subjects{$subj} }, $to;
}
is_deeply($subjects{'DANDI: New user registered: ann@example.org'}, ['admin@archive.example, ann@example.org'],
    'registration: to the user and the admin');
is_deeply($subjects{'DANDI: Review new user: ann'}, ['admin@archive.example'], 'review request: to the admin');
is_deeply([ sort @{ $subjects{'Your DANDI Account'} || [] } ],
    [ 'admin@archive.example, ann@example.org', 'admin@archive.example, bob@example.org' ],
    'approval and rejection: to each user and the admin');

done_testing();
