# `dandi-admin oauth-client add|list|remove`: an OAuth client for a web
# app on another origin (as the original DANDI web app pointed at this
# archive), registered, signed in through with the authorization code +
# PKCE flow the original app runs (authorize, token, Bearer, refresh,
# revoke), listed, and removed (then refused, its tokens dead); a
# confidential client authenticates with its secret (form or HTTP Basic),
# of which only the sha256 is stored.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(encode_base64url encode_base64);
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 1);
my $ADMIN = DandiTest::build() . '/src/dandi-admin';
my $OTHER = 'http://127.0.0.1:3000';	# the original app's dev server origin (vite)

sub admin { my ($out, $err, $rc) = $t->run_cmd($ADMIN, @_); return { out => $out, err => $err, rc => $rc } }

# --- a tiny browser: a cookie jar, forms, no redirects followed ------------
sub browse {
	my ($b, $method, $path, %o) = @_;
	my %h = %{ $o{headers} || {} };
	my $jar = join '; ', map { "$_=$b->{$_}" } sort keys %$b;
	$h{Cookie} = $jar if $jar;
	my %args = (headers => \%h);
	if ($o{form}) {
		my $f = $o{form};
		$args{body} = join '&', map { my $v = $f->{$_}; $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; "$_=$v" }
		    sort keys %$f;
		$h{'Content-Type'} = 'application/x-www-form-urlencoded';
	}
	my $r = $t->request($method, $path, %args);
	my $c = $r->{headers}{'set-cookie'} // [];
	for (ref $c ? @$c : ($c)) { $b->{$1} = $2 if /^([^=]+)=([^;]*)/ }
	return $r;
}
sub loc { $_[0]{headers}{location} // '' }
sub qparams { my ($u) = @_; my ($q) = $u =~ /\?(.*)$/; my %p;
	for (split /&/, $q // '') { my ($k, $v) = split /=/, $_, 2; $v //= ''; $v =~ s/%(..)/chr hex $1/ge; $p{$k} = $v }
	return \%p }

# A signed-in user with a complete profile.
my $ann = {};
browse($ann, 'GET', '/accounts/signup/');
my $r = browse($ann, 'POST', '/accounts/signup/', form => { username => 'ann', email => 'ann@example.org',
    password1 => 'correct horse', password2 => 'correct horse', csrfmiddlewaretoken => $ann->{csrftoken} });
is($r->{status}, 302, 'signed up');
$t->psql("UPDATE users SET status = 'APPROVED', first_name = 'Ann', last_name = 'Lee' WHERE username = 'ann'");

my $verifier = encode_base64url(join '', map { chr int rand 256 } 1 .. 48);
my $challenge = encode_base64url(sha256($verifier));
sub authorize {
	my (%o) = @_;
	my %q = (response_type => 'code', code_challenge => $challenge, code_challenge_method => 'S256', state => 's1', %o);
	return browse($ann, 'GET', '/oauth/authorize/?' . join '&', map { my $v = $q{$_};
	    $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; "$_=$v" } sort keys %q);
}
sub token_req { my ($h, %f) = @_; browse({}, 'POST', '/oauth/token/', form => \%f, headers => $h) }

# --- add: bad input ------------------------------------------------------------
for my $bad ([ 'no redirect URI', [] ], [ 'ftp URL', [ '--redirect-uri', 'ftp://x.example/' ] ],
    [ 'relative URL', [ '--redirect-uri', '/callback' ] ], [ 'fragment', [ '--redirect-uri', "$OTHER/#x" ] ],
    [ 'a space', [ '--redirect-uri', "$OTHER/a b" ] ], [ 'a quote', [ '--redirect-uri', "$OTHER/\"" ] ],
    [ 'bad client id', [ '--client-id', 'a b', '--redirect-uri', "$OTHER/" ] ]) {
	my $a = admin('oauth-client', 'add', @{ $bad->[1] });
	isnt($a->{rc}, 0, "add with $bad->[0]: refused");
	like($a->{err}, qr/oauth-client/, '... saying why');
}
is(($t->psql('SELECT count(*) FROM oauth_clients'))[0][0], 1, 'nothing registered by refused adds');
isnt(admin('oauth-client', 'frob')->{rc}, 0, 'unknown subcommand: refused');

# --- add a public client for a web app on another origin -------------------------
my $a = admin('oauth-client', 'add', '--client-id', 'original-web', '--name', 'DANDI web app (original)',
    '--redirect-uri', "$OTHER/", '--redirect-uri', "$OTHER/callback?x=1");
is($a->{rc}, 0, 'add: exit 0') or diag($a->{err});
is($a->{out}, "client_id original-web\n", 'add: prints the client id, no secret for a public client');
isnt(admin('oauth-client', 'add', '--client-id', 'original-web', '--redirect-uri', "$OTHER/")->{rc}, 0,
    'the same client id again: refused');

# The flow as the original app runs it.
$r = authorize(client_id => 'original-web', redirect_uri => "$OTHER/");
is($r->{status}, 302, 'authorize for the new client: 302');
like(loc($r), qr{^\Q$OTHER\E/\?code=[0-9a-f]{64}&state=s1$}, '... to its origin with code and state');
my $code = qparams(loc($r))->{code};
$r = authorize(client_id => 'original-web', redirect_uri => "$OTHER/other");
is($r->{status}, 400, 'an unregistered redirect URI of that origin: 400');
$r = authorize(client_id => 'original-web', redirect_uri => $t->web_url . '/');
is($r->{status}, 400, "the archive's own web app URL is not this client's: 400");
$r = token_req({}, grant_type => 'authorization_code', client_id => 'original-web', code => $code,
    redirect_uri => "$OTHER/", code_verifier => $verifier);
is($r->{status}, 200, 'token: 200') or diag($r->{body});
my %tok = %{ $r->{json} || {} };
$r = $t->get('/api/users/me/', headers => { Authorization => "Bearer $tok{access_token}" });
is_deeply([ $r->{status}, $r->{json}{username} ], [ 200, 'ann' ], 'Bearer token of the new client: users/me');
$r = token_req({}, grant_type => 'refresh_token', client_id => 'original-web', refresh_token => $tok{refresh_token});
is($r->{status}, 200, 'refresh: 200');
%tok = %{ $r->{json} || {} };
$code = qparams(loc(authorize(client_id => 'original-web', redirect_uri => "$OTHER/callback?x=1")))->{code};
ok($code, 'the second redirect URI (with a query) works too');

# --- confidential ---------------------------------------------------------------
$a = admin('oauth-client', 'add', '--name', 'a server-side app', '--redirect-uri', 'https://app.example/cb',
    '--confidential');
is($a->{rc}, 0, 'add --confidential: exit 0');
my ($cid) = $a->{out} =~ /^client_id ([0-9a-f]{40})$/m;
my ($secret) = $a->{out} =~ /^client_secret ([0-9a-f]{64})$/m;
ok($cid && $secret, 'a made client id and the secret, printed once');
is_deeply([ $t->psql("SELECT confidential, secret_sha256 FROM oauth_clients WHERE client_id = '$cid'") ],
    [ [ 't', sha256_hex($secret) ] ], 'only the sha256 of the secret is stored');
my %g = (grant_type => 'authorization_code', client_id => $cid, redirect_uri => 'https://app.example/cb',
    code_verifier => $verifier);
$code = qparams(loc(authorize(client_id => $cid, redirect_uri => 'https://app.example/cb')))->{code};
$r = token_req({}, %g, code => $code);
is_deeply([ $r->{status}, $r->{json}{error} ], [ 401, 'invalid_client' ], 'confidential without its secret: 401');
$code = qparams(loc(authorize(client_id => $cid, redirect_uri => 'https://app.example/cb')))->{code};
$r = token_req({}, %g, code => $code, client_secret => 'f' x 64);
is_deeply([ $r->{status}, $r->{json}{error} ], [ 401, 'invalid_client' ], '... with a wrong secret: 401');
$code = qparams(loc(authorize(client_id => $cid, redirect_uri => 'https://app.example/cb')))->{code};
$r = token_req({}, %g, code => $code, client_secret => $secret);
is($r->{status}, 200, '... with its secret in the form: 200');
$code = qparams(loc(authorize(client_id => $cid, redirect_uri => 'https://app.example/cb')))->{code};
my %nocid = %g;
delete $nocid{client_id};
$r = token_req({ Authorization => 'Basic ' . encode_base64("$cid:$secret", '') }, %nocid, code => $code);
is($r->{status}, 200, '... with HTTP Basic: 200');
$r = token_req({ Authorization => 'Basic ' . encode_base64("$cid:" . ('0' x 64), '') }, %nocid, code => 'x' x 64);
is($r->{status}, 401, '... HTTP Basic with a wrong secret: 401');
$r = token_req({ Authorization => 'Basic !!!!' }, %nocid, code => 'x' x 64);
is($r->{status}, 401, '... malformed HTTP Basic: 401');
$r = token_req({}, grant_type => 'authorization_code', client_id => 'original-web', client_secret => 'ignored',
    code => 'x' x 64, redirect_uri => "$OTHER/", code_verifier => $verifier);
is($r->{json}{error}, 'invalid_grant', 'a public client passes the client check with or without a secret');

# --- list -----------------------------------------------------------------------------
$a = admin('oauth-client', 'list');
is($a->{rc}, 0, 'list: exit 0');
my %rows = map { my @f = split /\t/; ($f[0] => \@f) } split /\n/, $a->{out};
is_deeply([ sort keys %rows ], [ sort('Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl', 'original-web', $cid) ],
    'list: every client');
is_deeply([ @{ $rows{'original-web'} }[1, 2, 4] ], [ 'public', 'DANDI web app (original)', "$OTHER/ $OTHER/callback?x=1" ],
    'list: type, name, redirect URIs');
like($rows{'original-web'}[3], qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'list: created');
is($rows{$cid}[1], 'confidential', 'list: confidential');
unlike($a->{out}, qr/\Q$secret\E|\Q${\ sha256_hex($secret)}\E/, 'list shows no secret nor its hash');

# --- remove ---------------------------------------------------------------------------
$a = admin('oauth-client', 'remove', '--client-id', 'original-web');
is_deeply([ $a->{rc}, $a->{out} ], [ 0, "OAuth client original-web removed\n" ], 'remove: exit 0');
$r = authorize(client_id => 'original-web', redirect_uri => "$OTHER/");
is_deeply([ $r->{status}, loc($r) ], [ 400, '' ], 'authorize for the removed client: 400, no redirect');
like($r->{body}, qr/Invalid client_id/, '... as an unknown client');
is($t->get('/api/users/me/', headers => { Authorization => "Bearer $tok{access_token}" })->{status}, 401,
    "the removed client's tokens no longer work");
$r = token_req({}, grant_type => 'refresh_token', client_id => 'original-web', refresh_token => $tok{refresh_token});
is_deeply([ $r->{status}, $r->{json}{error} ], [ 401, 'invalid_client' ], 'refresh for the removed client: 401');
isnt(admin('oauth-client', 'remove', '--client-id', 'original-web')->{rc}, 0, 'remove again: refused');
$a = admin('oauth-client', 'remove', '--client-id', 'Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl');
isnt($a->{rc}, 0, "removing the archive's own web app client: refused");
like($a->{err}, qr/own web app/, '... saying why');

done_testing;
