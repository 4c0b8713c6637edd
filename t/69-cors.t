# CORS, as the original's django-cors-headers setup answers a browser on
# another origin: preflights on any path, Access-Control-Allow-Origin on
# every answer to an allowed origin (errors, 304s, nginx's own errors
# included), the preflight-only headers, Vary: Origin, GET/HEAD from any
# origin (the original's read-only signal) but nothing else; the OAuth
# redirect and sign-in `next` to a configured web app origin only; and a
# configuration dandi-api refuses to start with.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::SHA qw(sha256 sha256_hex);
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64url);
use DandiTest;

my $APP = 'https://app.example.org';		# web_app_origins: the web app
my $TOOL = 'https://tool.example.net';		# cors_allowed_origins: CORS only
my $PREVIEW = 'https://pr-12.preview.example.com';	# a regex
my $EVIL = 'https://evil.example.org';
my $CLIENT = 'Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl';
# own_pg: it stops PostgreSQL (the run's shared cluster must stay up).
my $t = DandiTest->new(own_pg => 1, env => {
	DANDI_WEB_APP_ORIGINS => "$APP/",
	DANDI_CORS_ALLOWED_ORIGINS => "$TOOL, https://other.example.net",
	DANDI_CORS_ALLOWED_ORIGIN_REGEXES => '^https://pr-\d+\.preview\.example\.com$',
	DANDI_MAX_BODY => 65536,
});
my $tok = $t->user('owner', first => 'O', last => 'Wner');

# What a browser reads: one header value (several joined with ", ").
sub h { my ($r, $n) = @_; my $v = $r->{headers}{ lc $n }; return ref $v ? join(', ', @$v) : $v }
# The tokens of a comma list header, lower case.
sub tokens { my ($v) = @_; return map { lc } grep { length } split /\s*,\s*/, $v // '' }
sub vary_origin { my ($r) = @_; return grep { $_ eq 'origin' } tokens(h($r, 'Vary')) }
sub cors_headers { my ($r) = @_; return sort grep { /^access-control-/ } keys %{ $r->{headers} } }

# The browser's checks (Fetch standard, CORS check and preflight): the
# Allow-Origin value is the page's origin byte for byte; a preflight's
# method and non-safelisted headers appear in Allow-Methods/-Headers.
sub cors_ok {
	my ($r, $origin, $name) = @_;
	is(h($r, 'Access-Control-Allow-Origin'), $origin, "$name: Access-Control-Allow-Origin is the origin");
	ok(vary_origin($r), "$name: Vary: Origin");
}
sub preflight_ok {
	my ($r, $origin, $method, $headers, $name) = @_;
	is($r->{status}, 200, "$name: 200");
	is($r->{body}, '', "$name: empty body");
	cors_ok($r, $origin, $name);
	my %m = map { uc($_) => 1 } tokens(h($r, 'Access-Control-Allow-Methods'));
	ok($m{$method}, "$name: $method allowed");
	my %h = map { $_ => 1 } tokens(h($r, 'Access-Control-Allow-Headers'));
	ok(!grep({ !$h{$_} } tokens($headers)), "$name: headers $headers allowed");
	is(h($r, 'Access-Control-Max-Age'), 86400, "$name: Max-Age 86400");
	ok(!defined h($r, 'Access-Control-Allow-Credentials'), "$name: no credentials (as the original)");
}
sub preflight {
	my ($path, $origin, $method, $headers) = @_;
	return $t->request('OPTIONS', $path, headers => { Origin => $origin, 'Access-Control-Request-Method' => $method,
	    ($headers ? ('Access-Control-Request-Headers' => $headers) : ()) });
}

# --- preflights ------------------------------------------------------------------
my $r = $t->request('OPTIONS', '/api/dandisets/', headers => { Origin => $APP });
is($r->{status}, 405, 'OPTIONS without Access-Control-Request-Method is no preflight: 405 as before');
cors_ok($r, $APP, 'the 405');
is(h($r, 'Access-Control-Allow-Methods'), 'DELETE, GET, OPTIONS, PATCH, POST, PUT', 'OPTIONS answers list the methods');

preflight_ok(preflight('/api/dandisets/', $APP, 'POST', 'authorization, content-type'), $APP, 'POST',
    'authorization, content-type', 'preflight of the web app');
preflight_ok(preflight('/api/dandisets/000001/versions/draft/', $APP, 'PUT', 'Authorization,Content-Type,Accept'),
    $APP, 'PUT', 'authorization,content-type,accept', 'preflight of a PUT on a nested path');
preflight_ok(preflight('/api/dandisets/000001/', $TOOL, 'DELETE', 'authorization'), $TOOL, 'DELETE', 'authorization',
    'preflight of cors_allowed_origins');
preflight_ok(preflight('/api/dandisets/', $PREVIEW, 'POST', 'content-type, baggage, sentry-trace'), $PREVIEW, 'POST',
    'content-type, baggage, sentry-trace', 'preflight of a regex origin, the Sentry headers');
preflight_ok(preflight('/api/no/such/path/', $APP, 'GET', 'authorization'), $APP, 'GET', 'authorization',
    'preflight of a path with no route (answered first, as the original)');
preflight_ok(preflight('/oauth/token/', $APP, 'POST', 'content-type'), $APP, 'POST', 'content-type',
    'preflight of the token endpoint');
preflight_ok(preflight('/api/users/me/', $EVIL, 'GET', 'authorization'), $EVIL, 'GET', 'authorization',
    'preflight of a GET from any origin (the original\'s read-only signal)');
$r = preflight('/api/users/me/', $APP, 'GET', 'authorization');
is(h($r, 'WWW-Authenticate'), undef, 'a preflight is answered before authentication');

for my $m (qw(POST PUT DELETE PATCH)) {
	$r = preflight('/api/dandisets/', $EVIL, $m, 'authorization, content-type');
	is($r->{status}, 200, "$m preflight from another origin: 200 (as the original) ...");
	is_deeply([ cors_headers($r) ], [], '... with no CORS headers, so the browser stops there');
}
$r = preflight('/api/dandisets/', 'https://app.example.org.evil.org', 'POST', 'content-type');
is_deeply([ cors_headers($r) ], [], 'an origin that only starts with an allowed one: nothing');
$r = preflight('/api/dandisets/', 'https://pr-12.preview.example.com.evil.org', 'POST', 'content-type');
is_deeply([ cors_headers($r) ], [], 'a regex anchored with $: nothing for a longer origin');
$r = preflight('/api/dandisets/', 'http://app.example.org', 'POST', 'content-type');
is_deeply([ cors_headers($r) ], [], 'the same host over http is another origin');

# --- actual requests from the web app's origin -------------------------------------
my %app = (headers => { Origin => $APP });
$r = $t->get('/api/dandisets/', %app);
is($r->{status}, 200, 'GET list');
cors_ok($r, $APP, 'GET');
ok(!defined h($r, 'Access-Control-Allow-Methods') && !defined h($r, 'Access-Control-Max-Age'),
    'GET: the preflight-only headers are not sent (as django-cors-headers)');
is(h($r, 'Access-Control-Expose-Headers'), 'X-Request-Id',
    'GET: X-Request-Id exposed (the original exposes none), nothing else unless configured');

$r = $t->post('/api/dandisets/', { name => 'Cross', metadata => {} }, token => $tok, %app);
is($r->{status}, 200, 'POST create');
cors_ok($r, $APP, 'POST');
my $id = $r->{json}{identifier};
$r = $t->get("/api/dandisets/$id/versions/draft/", %app);
my $md = $r->{json};
$md->{description} = 'Edited from another origin';
$r = $t->put("/api/dandisets/$id/versions/draft/", { name => 'Cross', metadata => $md }, token => $tok, %app);
is($r->{status}, 200, 'PUT metadata');
cors_ok($r, $APP, 'PUT');
$r = $t->delete("/api/dandisets/$id/star/", token => $tok, %app);
is($r->{status}, 200, 'DELETE a star');
cors_ok($r, $APP, 'DELETE');
my $gone = $t->post('/api/dandisets/', { name => 'To delete', metadata => {} }, token => $tok)->{json}{identifier};
$r = $t->delete("/api/dandisets/$gone/", token => $tok, %app);
is($r->{status}, 204, 'DELETE a dandiset: 204');
cors_ok($r, $APP, 'DELETE 204');
$r = $t->request('HEAD', "/api/dandisets/$id/", %app);
is($r->{status}, 200, 'HEAD');
cors_ok($r, $APP, 'HEAD');

# Errors of every kind.
$r = $t->get('/api/dandisets/999999/', %app);
is($r->{status}, 404, 'an unknown dandiset: 404');
cors_ok($r, $APP, '404');
$r = $t->get('/api/users/me/', %app, token => 'f' x 40);
is($r->{status}, 401, '401 (a bad token, refused before routing)');
cors_ok($r, $APP, '401');
$r = $t->request('POST', '/api/dandisets/', token => $tok, body => '{"name": ', headers => { %{ $app{headers} },
    'Content-Type' => 'application/json' });
is($r->{status}, 400, '400 (malformed JSON)');
cors_ok($r, $APP, '400');
$r = $t->request('POST', '/api/dandisets/', token => $tok, body => '{"name": "' . ('x' x 70000) . '"}',
    headers => { %{ $app{headers} }, 'Content-Type' => 'application/json' });
is($r->{status}, 413, '413 from the API (max_body)');
cors_ok($r, $APP, '413');
$r = $t->post('/api/dandisets/', { name => 'x', metadata => {} }, %app);
is($r->{status}, 401, '401 (anonymous POST)');
cors_ok($r, $APP, 'anonymous 401');
$r = $t->request('PATCH', '/api/dandisets/', token => $tok, %app);
is($r->{status}, 405, 'PATCH on a list: 405');
cors_ok($r, $APP, '405');

# A 304: what the browser's cache revalidation gets.
$r = $t->get("/api/dandisets/$id/", %app);
my $etag = h($r, 'ETag');
ok($etag, 'an ETag');
$r = $t->get("/api/dandisets/$id/", headers => { Origin => $APP, 'If-None-Match' => $etag });
is($r->{status}, 304, 'If-None-Match with the ETag: 304');
cors_ok($r, $APP, '304');

# The database down: 503 from the API.
$t->stop_pg;
$r = $t->get('/api/dandisets/', %app);
is($r->{status}, 503, '503 with the database down');
cors_ok($r, $APP, '503');
$t->start_pg;
$r = $t->get('/api/dandisets/', %app) for 1 .. 3;	# workers reconnect
is($r->{status}, 200, 'the database is back');

# --- other origins ------------------------------------------------------------------
$r = $t->get('/api/dandisets/', headers => { Origin => $EVIL });
cors_ok($r, $EVIL, 'GET from any origin (public read, as the original)');
$r = $t->post('/api/dandisets/', { name => 'Evil', metadata => {} }, token => $tok, headers => { Origin => $EVIL });
is_deeply([ cors_headers($r) ], [], 'POST from another origin: no CORS headers (the browser hides the answer)');
ok(vary_origin($r), '... but Vary: Origin all the same');
$r = $t->delete("/api/dandisets/$id/star/", token => $tok, headers => { Origin => $EVIL });
is_deeply([ cors_headers($r) ], [], 'DELETE from another origin: no CORS headers');
$r = $t->get('/api/dandisets/');
is_deeply([ cors_headers($r) ], [], 'no Origin: no CORS headers');
ok(vary_origin($r), '... and Vary: Origin (as django-cors-headers)');
$r = $t->get('/api/dandisets/', headers => { Origin => "$APP\tx" });
is_deeply([ cors_headers($r) ], [], 'an Origin that is not one is not echoed');
$r = $t->get('/api/info/', headers => { Origin => $TOOL });
cors_ok($r, $TOOL, 'cors_allowed_origins, the second of a comma list');
$r = $t->get('/api/info/', headers => { Origin => 'https://other.example.net' });
cors_ok($r, 'https://other.example.net', 'cors_allowed_origins');

# --- OAuth and sign-in from the web app's other origin ------------------------------
my $verifier = encode_base64url(join '', map { chr int rand 256 } 1 .. 48);
my $challenge = encode_base64url(sha256($verifier));
sub qenc { my ($v) = @_; $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; return $v }
sub authorize { my ($uri, %h) = @_;
	return $t->get("/oauth/authorize/?response_type=code&client_id=$CLIENT&redirect_uri=" . qenc($uri)
	    . "&code_challenge=$challenge&code_challenge_method=S256&state=s1", headers => \%h) }
# The owner signed in on the API's pages: a session as the sign-in form
# makes it (the secret's sha256 stored).
my $sid = sha256_hex("session $$ " . time);
my ($uid) = map { $_->[0] } $t->psql("SELECT id FROM users WHERE username = 'owner'");
$t->psql("INSERT INTO sessions (id_sha256, user_id, expires) VALUES ('" . sha256_hex($sid)
    . "', $uid, now() + interval '1 day')");
my %session = (Cookie => "sessionid=$sid");

$r = authorize("$APP/", %session);
is($r->{status}, 302, 'authorize with redirect_uri on a web_app_origins origin: accepted');
like(h($r, 'Location'), qr{^\Q$APP\E/\?code=[0-9a-f]{64}&state=s1$}, '... the code goes to that origin');
my ($code) = h($r, 'Location') =~ /code=([0-9a-f]+)/;
$r = $t->request('POST', '/oauth/token/', headers => { Origin => $APP, 'Content-Type' => 'application/x-www-form-urlencoded' },
    body => "grant_type=authorization_code&client_id=$CLIENT&code=$code&code_verifier=$verifier&redirect_uri="
    . qenc("$APP/"));
is($r->{status}, 200, 'token exchange from the web app\'s origin');
cors_ok($r, $APP, 'token');
my $access = $r->{json}{access_token};
$r = $t->request('POST', '/oauth/token/', headers => { Origin => $APP, 'Content-Type' => 'application/x-www-form-urlencoded' },
    body => "grant_type=authorization_code&client_id=$CLIENT&code=$code&code_verifier=$verifier");
is($r->{status}, 400, 'a used code: 400 ...');
cors_ok($r, $APP, 'token error');
$r = $t->request('POST', '/oauth/revoke_token/', headers => { Origin => $APP, 'Content-Type' => 'application/x-www-form-urlencoded' },
    body => "token=$access&client_id=$CLIENT");
is($r->{status}, 200, 'revoke from the web app\'s origin');
cors_ok($r, $APP, 'revoke');

for my $bad ("$TOOL/", "$PREVIEW/", "$APP/other", "$APP", "$APP.evil.org/", "$EVIL/") {
	$r = authorize($bad, %session);
	is_deeply([ $r->{status}, h($r, 'Location') ], [ 400, undef ], "redirect_uri $bad: refused, no redirect");
}

$r = $t->get('/accounts/login/?next=' . qenc("$APP/dandiset/000001"));
like($r->{body}, qr{name="next" value="\Q$APP\E/dandiset/000001"}, 'sign-in next to the web app\'s other origin is kept');
for my $bad ("$TOOL/", "$PREVIEW/", "$APP.evil.org/", "//evil.example.org/", "$APP\@evil.example.org/") {
	$r = $t->get('/accounts/login/?next=' . qenc($bad));
	unlike($r->{body}, qr{name="next"}, "sign-in next $bad: dropped");
}
$r = $t->get('/accounts/login/?next=' . qenc("$APP/x"), headers => \%session);
is_deeply([ $r->{status}, h($r, 'Location') ], [ 302, "$APP/x" ], 'signed in already: straight back to the web app');

# --- nginx's own errors ---------------------------------------------------------------
# A body over nginx's client_max_body_size: refused on the Content-Length.
sub raw {
	my ($req) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}, Timeout => 10) or die "connect: $!";
	print $s $req;
	# The head is all we need; nginx may linger before closing.
	my $resp = '';
	while ($resp !~ /\r\n\r\n/) { sysread($s, $resp, 4096, length $resp) or last }
	close $s;
	my ($head) = split /\r\n\r\n/, $resp, 2;
	my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
	my %h;
	for (split /\r\n/, $head) { $h{ lc $1 } = $2 if /^([^:]+):\s*(.*)$/ }
	return { status => $status, headers => \%h };
}
$r = raw("POST /api/dandisets/ HTTP/1.1\r\nHost: x\r\nOrigin: $APP\r\nContent-Type: application/json\r\n"
    . "Content-Length: 99999999\r\nConnection: close\r\n\r\n");
is($r->{status}, 413, 'nginx 413');
cors_ok($r, $APP, 'nginx 413');
$r = raw("POST /api/dandisets/ HTTP/1.1\r\nHost: x\r\nOrigin: $EVIL\r\nContent-Length: 99999999\r\nConnection: close\r\n\r\n");
is_deeply([ $r->{status}, cors_headers($r) ], [ 413 ], 'nginx 413 to another origin: no CORS headers');
$r = raw("GET /api/info/ HTTP/1.1\r\nHost: x\r\nOrigin: $PREVIEW\r\nX-Big: " . ('a' x 70000) . "\r\nConnection: close\r\n\r\n");
is($r->{status}, 431, 'nginx 431');
cors_ok($r, $PREVIEW, 'nginx 431 (Origin before the big header), a regex origin');

# The API down: nginx answers 503.
$t->stop_api;
$r = $t->get('/api/dandisets/', %app);
is($r->{status}, 503, 'the API down: nginx 503');
cors_ok($r, $APP, 'nginx 503');
$r = $t->get('/api/dandisets/', headers => { Origin => $EVIL });
cors_ok($r, $EVIL, 'nginx 503 to a GET from any origin');
$r = $t->post('/api/dandisets/', { name => 'x', metadata => {} }, headers => { Origin => $EVIL });
is_deeply([ $r->{status}, cors_headers($r) ], [ 503 ], 'nginx 503 to a POST from another origin: no CORS headers');

# --- configuration --------------------------------------------------------------------
# cors_public_read off: only the listed origins.
$t->env->{DANDI_CORS_PUBLIC_READ} = 'false';
$t->start_api;
$r = $t->get('/api/dandisets/', headers => { Origin => $EVIL });
is_deeply([ $r->{status}, cors_headers($r) ], [ 200 ], 'cors_public_read false: a GET from another origin gets nothing');
$r = preflight('/api/dandisets/', $EVIL, 'GET', 'authorization');
is_deeply([ cors_headers($r) ], [], '... nor its preflight');
$r = $t->get('/api/dandisets/', %app);
cors_ok($r, $APP, 'cors_public_read false: the web app still');
$t->stop_api;

for my $bad ([ DANDI_CORS_ALLOWED_ORIGINS => 'https://a.example.org/path', qr/cors_allowed_origins/ ],
    [ DANDI_WEB_APP_ORIGINS => 'app.example.org', qr/web_app_origins/ ],
    [ DANDI_CORS_ALLOWED_ORIGIN_REGEXES => '^https://(', qr/cors_allowed_origin_regexes/ ]) {
	my ($key, $value, $want) = @$bad;
	local $t->env->{$key} = $value;
	my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-api', '-s', $t->dir . '/run/bad.sock', '-n', 1);
	is($rc, 1, "dandi-api refuses to start with $key=$value");
	like($err, $want, '... naming the key');
	ok(!-e $t->dir . '/run/bad.sock', '... before opening its socket');
}

done_testing;
