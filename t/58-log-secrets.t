# No secret ever reaches a log: a journey through everything that carries
# one (an API key, a password sign-up and sign-in with its session and
# CSRF cookies, the OAuth code and tokens of the web app, presigned S3
# part URLs, the archive's signed complete_url, a presigned download, an
# access link by each carrier and as the Referer of its web page, the
# background jobs), every request logged (request_log = all, log_level =
# debug), then every log file of the stack (the API's and the jobs' log,
# dandi-api's output, nginx's access and error logs) is searched for each
# secret the journey used.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::SHA qw(sha256);
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use DandiTest;
use Upload qw(etag_of);

my $t = DandiTest->new(s3 => 1, workers => 2, env => {
	DANDI_REQUEST_LOG => 'all',
	DANDI_LOG_LEVEL => 'debug',
	DANDI_ALLOW_SIGNUP => 'true',
});
my $WEB = $t->web_url;
my $CLIENT = 'Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl';
my $s3 = HTTP::Tiny->new(timeout => 60);
my %secret;	# name => the secret's text

# --- a browser: cookies, forms, no redirects followed -------------------------------
my %jar;
sub browse {
	my ($method, $path, %o) = @_;
	my %h = %{ $o{headers} || {} };
	my $c = join '; ', map { "$_=$jar{$_}" } sort keys %jar;
	$h{Cookie} = $c if $c;
	my %args = (headers => \%h);
	if (my $f = $o{form}) {
		$args{body} = join '&', map { my $v = $f->{$_}; $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; "$_=$v" }
		    sort keys %$f;
		$h{'Content-Type'} = 'application/x-www-form-urlencoded';
	}
	my $r = $t->request($method, $path, %args);
	my $sc = $r->{headers}{'set-cookie'} // [];
	for (ref $sc ? @$sc : ($sc)) {
		$jar{$1} = $2 if /^([^=]+)=([^;]*)/;
	}
	return $r;
}
sub qparam { my ($url, $k) = @_; my ($v) = $url =~ /[?&]\Q$k\E=([^&]*)/; $v =~ s/%(..)/chr hex $1/ge if defined $v; $v }

# --- sign-up and sign-in with a password ---------------------------------------------
$secret{password} = 'pw' . unpack('H*', join '', map { chr int rand 256 } 1 .. 12);
browse('GET', '/accounts/signup/');
$secret{csrf} = $jar{csrftoken};
my $r = browse('POST', '/accounts/signup/', form => { username => 'ann', email => 'ann@example.org',
    password1 => $secret{password}, password2 => $secret{password}, csrfmiddlewaretoken => $jar{csrftoken} });
is($r->{status}, 302, 'sign-up with a password');
$t->psql("UPDATE users SET status = 'APPROVED', first_name = 'Ann', last_name = 'Lee' WHERE username = 'ann'");
%jar = ();
browse('GET', '/accounts/login/');
$r = browse('POST', '/accounts/login/', form => { login => 'ann', password => $secret{password},
    csrfmiddlewaretoken => $jar{csrftoken} });
is($r->{status}, 302, 'sign-in with the password');
$secret{session} = $jar{sessionid};
like($secret{session}, qr/^[0-9a-f]{32,}$/, '... a session');
is(browse('GET', '/api/users/me/')->{json}{username}, 'ann', '... that works');

# --- the web app's OAuth sign-in: code, tokens ---------------------------------------
my $verifier = encode_base64url(join '', map { chr int rand 256 } 1 .. 48);
my %q = (response_type => 'code', client_id => $CLIENT, redirect_uri => "$WEB/",
    code_challenge => encode_base64url(sha256($verifier)), code_challenge_method => 'S256', state => 'st4te');
$r = browse('GET', '/oauth/authorize/?' . join '&', map { my $v = $q{$_}; $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
    "$_=$v" } sort keys %q);
is($r->{status}, 302, 'OAuth authorize');
my $back = $r->{headers}{location};
$secret{oauth_code} = qparam($back, 'code');
like($secret{oauth_code} // '', qr/^[0-9a-f]{64}$/, '... a code');
# The browser lands on the web app with it (nginx serves the page).
is($t->get(($back =~ m{^https?://[^/]+(/.*)$})[0])->{status}, 200, '... which the browser takes to the web app');
$r = browse('POST', '/oauth/token/', form => { grant_type => 'authorization_code', client_id => $CLIENT,
    redirect_uri => "$WEB/", code_verifier => $verifier, code => $secret{oauth_code} });
is($r->{status}, 200, 'OAuth token');
$secret{access_token} = $r->{json}{access_token};
$secret{refresh_token} = $r->{json}{refresh_token};
%jar = ();
is($t->get('/api/users/me/', headers => { Authorization => "Bearer $secret{access_token}" })->{json}{username}, 'ann',
    'the Bearer token works');

# --- the API key, an upload with presigned URLs, a download ---------------------------
$r = $t->get('/api/auth/token/', headers => { Authorization => "Bearer $secret{access_token}" });
$secret{api_key} = $r->{json};
like($secret{api_key} // '', qr/^[0-9a-f]{40}$/, 'the API key');
my $tok = $secret{api_key};
my $ds = $t->post('/api/dandisets/', { name => 'Secrets', metadata => {} }, token => $tok)->{json}{identifier};
ok($ds, 'a dandiset');
my $bytes = 'secret-free bytes ' x 100;
$r = $t->post('/api/uploads/initialize/', { contentSize => length $bytes,
    digest => { algorithm => 'dandi:dandi-etag', value => etag_of($bytes) }, dandiset => $ds }, token => $tok);
is($r->{status}, 200, 'upload initialize');
my $init = $r->{json};
my @parts;
for my $p (@{ $init->{parts} }) {
	$secret{"part_signature_$p->{part_number}"} = qparam($p->{upload_url}, 'X-Amz-Signature');
	my $res = $s3->request('PUT', $p->{upload_url}, { content => $bytes });
	is($res->{status}, 200, "part $p->{part_number} to its presigned URL");
	(my $e = $res->{headers}{etag}) =~ s/"//g;
	push @parts, { part_number => $p->{part_number}, size => $p->{size}, etag => $e };
}
$r = $t->post("/api/uploads/$init->{upload_id}/complete/", { parts => \@parts }, token => $tok);
is($r->{status}, 200, 'upload complete');
$secret{complete_signature} = qparam($r->{json}{complete_url}, 'signature');
like($secret{complete_signature} // '', qr/\S{16}/, "... the archive's signed complete_url");
my $res = $s3->request('POST', $r->{json}{complete_url}, { content => $r->{json}{body} });
is($res->{status}, 200, '... posted through nginx to the API');
$r = $t->post("/api/uploads/$init->{upload_id}/validate/", undef, token => $tok);
is($r->{status}, 200, 'upload validate');
$r = $t->post("/api/dandisets/$ds/versions/draft/assets/", { blob_id => $init->{upload_id},
    metadata => { path => 'a.txt', encodingFormat => 'text/plain' } }, token => $tok);
is($r->{status}, 200, 'asset');
$r = $t->get("/api/assets/$r->{json}{asset_id}/download/", token => $tok);
is($r->{status}, 302, 'download: a presigned URL');
$secret{download_signature} = qparam($r->{headers}{location}, 'X-Amz-Signature');
is($s3->get($r->{headers}{location})->{content}, $bytes, '... which S3 serves');
# --- an access link to an embargoed dandiset, by each carrier ---------------------------
my $eds = $t->post('/api/dandisets/?embargo=true', { name => 'Embargoed', metadata => {} }, token => $tok)->{json}{identifier};
$r = $t->post("/api/dandisets/$eds/access-links/", { label => 'reviewer' }, token => $tok);
$secret{access_link} = $r->{json}{token};
like($secret{access_link} // '', qr/^dandi-access-[0-9a-f]{64}$/, 'an access link');
is($t->get("/api/dandisets/$eds/versions/draft/assets/?access=$secret{access_link}")->{status}, 200, '... by ?access=');
is($t->get("/dandiset/$eds?access=$secret{access_link}")->{status}, 200, "... the web app's page of its URL");
is($t->get("/api/dandisets/$eds/", headers => { 'X-Dandi-Access' => $secret{access_link},
    Referer => "$WEB/dandiset/$eds?access=$secret{access_link}" })->{status}, 200,
    '... by X-Dandi-Access, from that page (its Referer)');
is($t->get("/api/dandisets/$eds/", headers => { Authorization => "token $secret{access_link}" })->{status}, 200,
    '... as the dandi client sends it');
is($t->get("/api/dandisets/$eds/?access=dandi-access-" . ('0' x 64))->{status}, 401, '... an unknown one: 401');
# The background work of the upload (sha256, validation), in the same log.
$t->jobs('run');
$secret{s3_secret_key} = $t->s3->{S3_SECRET_KEY};

# --- the logs ------------------------------------------------------------------------
$t->stop_api;	# (its last lines written)
my $dir = $t->dir;
my @files = grep { -f } map { "$dir/$_" } qw(api.log api.out nginx/access.log nginx/error.log);
my %text = map { my $f = $_; ($f => do { local (@ARGV, $/) = ($f); <> // '' }) } @files;
ok(length $text{"$dir/api.log"} > 0 && length $text{"$dir/nginx/access.log"} > 0, 'the logs were written');
my @uris = map { $_->{uri} // () } map { decode_json($_) } split /\n/, $text{"$dir/api.log"};
ok((grep { m{^/api/uploads/[0-9a-f-]+/s3-complete/\?expires=\d+&signature=REDACTED$} } @uris),
    "the API's access line of the complete_url, its signature left out");
like($text{"$dir/nginx/access.log"}, qr{"POST /api/uploads/[0-9a-f-]+/s3-complete/\?REDACTED HTTP}, "... and nginx's");
like($text{"$dir/nginx/access.log"}, qr{"GET /\?REDACTED HTTP}, "nginx's line of the OAuth code's landing page");
like($text{"$dir/nginx/access.log"}, qr{"GET /dandiset/\d{6}\?REDACTED HTTP}, "nginx's line of an access link's page");
like($text{"$dir/nginx/access.log"}, qr{ "\Q$WEB\E/dandiset/\d{6}\?REDACTED" }, "... and of a request from it (the Referer)");
ok((grep { m{^/api/dandisets/\d{6}/versions/draft/assets/\?access=REDACTED$} } @uris), "the API's line of ?access=");
like($text{"$dir/api.log"}, qr/"prog":"dandi-jobs"/, 'the jobs logged there too');
for my $name (sort keys %secret) {
	my $s = $secret{$name};
	ok(defined $s && length $s >= 8, "secret $name was used") or next;
	for my $f (@files) {
		(my $short = $f) =~ s{^\Q$dir\E/}{};
		ok(index($text{$f}, $s) < 0, "$name is not in $short");
	}
}

done_testing;
