# Reviewer access to an embargoed dandiset: owners make read-only access
# links; a link's holder reads the landing page, metadata, assets (bytes
# through presigned S3 redirects, byte for byte from radosgw) and zarr
# files of that one dandiset, by each carrier (?access=, X-Dandi-Access,
# and the dandi client's `Authorization: token ...`), and nothing else;
# expiry; revocation at once (also with the asset list's page cache warm);
# every use audited; the public access-request form mailed to the owners.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::MD5 qw(md5_base64);
use Digest::SHA ();
use HTTP::Tiny;
use JSON::PP;
use DandiTest;
use Upload ();
use Zarr qw(zarr_upload);

my $t = DandiTest->new(s3 => 1, workers => 2);
my $owner = $t->user('olive', first => 'Olive', last => 'Owner', email => 'olive@example.org');
my $co = $t->user('oscar', first => 'Oscar', last => 'Co', email => 'oscar@example.org');
my $stranger = $t->user('stranger', email => 'stranger@example.org');
my $s3 = HTTP::Tiny->new(timeout => 60, max_redirect => 0);
sub one { my @r = $t->psql($_[0]); $r[0][0] }

sub make {
	my ($embargo, $name) = @_;
	my $r = $t->post('/api/dandisets/' . ($embargo ? '?embargo=true' : ''),
	    { name => $name, metadata => { description => "secret description of $name" } }, token => $owner);
	die "create: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my $E = make(1, 'Reviewed study');
my $OTHER = make(1, 'Another embargoed study');
my $OPEN = make(0, 'Open study');
is($t->put("/api/dandisets/$E/users/", [ { username => 'olive' }, { username => 'oscar' } ], token => $owner)->{status},
    200, 'two owners');

# An asset with bytes in S3, and a zarr with files, in the embargoed dandiset.
my $bytes = join '', map { chr(($_ * 7) % 256) } 1 .. 150_000;
my $up = Upload::upload($t, $owner, $E, $bytes);
ok($up->{blob}, 'embargoed upload') or diag(explain($up));
my $r = $t->post("/api/dandisets/$E/versions/draft/assets/",
    { blob_id => $up->{blob}{blob_id}, metadata => { path => 'sub/data.nwb', encodingFormat => 'application/x-nwb' } },
    token => $owner);
is($r->{status}, 200, 'embargoed asset');
my $A = $r->{json}{asset_id};
my $other_up = Upload::upload($t, $owner, $OTHER, "other bytes\n" x 100);
$r = $t->post("/api/dandisets/$OTHER/versions/draft/assets/",
    { blob_id => $other_up->{blob}{blob_id}, metadata => { path => 'other.nwb' } }, token => $owner);
my $OA = $r->{json}{asset_id};
$r = $t->post('/api/zarr/', { name => 'img.zarr', dandiset => $E }, token => $owner);
my $Z = $r->{json}{zarr_id};
my %zfiles = ('.zgroup' => '{"zarr_format":2}', '0/0' => "chunk bytes\x00\x01\x02" x 50);
is(zarr_upload($t, $owner, $Z, \%zfiles), '', 'embargoed zarr files');

# --- owners make links ------------------------------------------------------
my $L = "/api/dandisets/$E/access-links/";
is($t->post($L, { label => 'x' })->{status}, 401, 'create: anonymous 401');
is($t->post($L, { label => 'x' }, token => $stranger)->{status}, 403, 'create: a non-owner 403');
is($t->get($L, token => $stranger)->{status}, 403, 'list: a non-owner 403');
$r = $t->post("/api/dandisets/$OPEN/access-links/", { label => 'x' }, token => $owner);
is_deeply([ $r->{status}, $r->{json}{detail} ], [ 400, 'Access links are for embargoed dandisets only.' ], 'open dandiset: 400');
$r = $t->post($L, { label => 'x', expires => '2027-02-30' }, token => $owner);
is_deeply([ $r->{status}, [ keys %{ $r->{json} } ] ], [ 400, [ 'expires' ] ], 'expires: not a date: 400');
$r = $t->post($L, { label => 'x', expires => '2001-01-01' }, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { expires => [ 'The expiry must be in the future.' ] } ], 'expires: past: 400');
$r = $t->post($L, { label => 'y' x 201 }, token => $owner);
is($r->{status}, 400, 'label over 200: 400');
is(one("SELECT count(*) FROM access_links"), 0, '... no link stored by the refusals');

$r = $t->post($L, { label => 'Journal reviewer 1', expires => '2099-12-31' }, token => $owner);
is($r->{status}, 201, 'create: 201');
my $link = $r->{json};
like($link->{token}, qr/^dandi-access-[0-9a-f]{64}$/, 'the token, once');
is($link->{url}, $t->web_url . "/dandiset/$E?access=$link->{token}", "the link's URL (the web app's landing page)");
is($link->{expires}, '2099-12-31T23:59:59.999999Z', 'a date expires at its end (UTC)');
is_deeply([ @$link{qw(label use_count active last_used)} ], [ 'Journal reviewer 1', 0, JSON::PP::true, undef ], 'label, unused, active');
my $TOK = $link->{token};
is(one("SELECT count(*) FROM access_links WHERE token_sha256 = encode(sha256('$TOK'), 'hex')"), 1, 'stored as its sha256');
is(one("SELECT count(*) FROM access_links WHERE position('$TOK' in row(access_links.*)::text) > 0"), 0, '... never itself');
$r = $t->get($L, token => $co);
is($r->{status}, 200, 'list: another owner');
is(scalar @{ $r->{json} }, 1, '... one link');
is_deeply([ sort keys %{ $r->{json}[0] } ], [ sort qw(id label created expires revoked last_used use_count active) ],
    '... its label, created, expires, last use, use count; no token');
unlike($r->{body}, qr/\Q$TOK\E|[0-9a-f]{64}/, '... neither the token nor its hash');

# --- what a holder reads, by each carrier ----------------------------------
my %carrier = (
	query => sub { my ($p) = @_; ($p . ($p =~ /\?/ ? '&' : '?') . "access=$TOK", ()) },
	header => sub { ($_[0], headers => { 'X-Dandi-Access' => $TOK }) },
	client => sub { ($_[0], headers => { Authorization => "token $TOK" }) },
);
my $V = "/api/dandisets/$E/versions/draft";
my @reads = (
	[ "/api/dandisets/$E/", sub { $_[0]{json}{embargo_status} eq 'EMBARGOED' && $_[0]{json}{identifier} eq $E } ],
	[ "/api/dandisets/$E/versions/", sub { $_[0]{json}{count} == 1 } ],
	[ "$V/", sub { $_[0]{json}{name} eq 'Reviewed study' && $_[0]{json}{description} =~ /secret description/ } ],
	[ "$V/info/", sub { $_[0]{json}{version} eq 'draft' } ],
	[ "$V/assets/", sub { $_[0]{json}{count} == 1 && $_[0]{json}{results}[0]{asset_id} eq $A } ],
	[ "$V/assets/?path=sub/", sub { $_[0]{json}{count} == 1 } ],
	[ "$V/assets/paths/", sub { $_[0]{json}{results}[0]{path} eq 'sub' } ],
	[ "$V/assets/$A/", sub { $_[0]{json}{path} eq 'sub/data.nwb' && $_[0]{json}{contentSize} == length $bytes } ],
	[ "$V/assets/$A/info/", sub { $_[0]{json}{asset_id} eq $A } ],
	[ "$V/assets/$A/validation/", sub { 1 } ],
	[ "/api/assets/$A/", sub { $_[0]{json}{path} eq 'sub/data.nwb' } ],
	[ "/api/assets/$A/info/", sub { $_[0]{json}{asset_id} eq $A } ],
	[ "/api/webdav/assets/atpath/?dandiset_id=$E&version_id=draft&path=sub/data.nwb",
	    sub { $_[0]{json}{results}[0]{resource}{asset_id} eq $A } ],
	[ "/api/zarr/$Z/", sub { $_[0]{json}{dandiset} eq $E } ],
	[ "/api/zarr/?dandiset=$E", sub { $_[0]{json}{count} == 1 } ],
	[ "/api/zarr/$Z/files/", sub { join(',', map { $_->{Key} } @{ $_[0]{json}{results} }) eq '.zgroup,0/0' } ],
	[ "/api/dandisets/$E/users/", sub { $_[0]{json}[0]{username} eq 'olive' && !defined $_[0]{json}[0]{email} } ],
	[ "/api/dandisets/$E/access-request/", sub { $_[0]{json}{name} eq 'Reviewed study' } ],
);
for my $c (sort keys %carrier) {
	for my $rd (@reads) {
		my ($path, $check) = @$rd;
		if ($c eq 'query') {
			my $w = $t->get($path);
			ok($path =~ m{/api/zarr/\?} ? $w->{json}{count} == 0 : $w->{status} == ($path =~ /zarr|access-request/ ? 404 : 401),
			    "without the link: GET $path refused ($w->{status})");
		}
		my $got = $t->get($carrier{$c}->($path));
		ok($got->{status} == 200 && $check->($got), "$c: GET $path") or diag("$got->{status} $got->{body}");
	}
	# Downloads: the presigned redirect, and S3's bytes.
	for my $dl ("$V/assets/$A/download/", "/api/assets/$A/download/") {
		my $got = $t->get($carrier{$c}->($dl));
		is($got->{status}, 302, "$c: GET $dl: 302");
		my $res = $s3->get($got->{headers}{location} // 'http://0/');
		ok($res->{status} == 200 && $res->{content} eq $bytes, "$c: ... radosgw serves the embargoed bytes, byte for byte");
	}
	my $got = $t->get($carrier{$c}->("/api/zarr/$Z/files/?prefix=0/0&download=true"));
	is($got->{status}, 302, "$c: zarr file download: 302");
	my $res = $s3->get($got->{headers}{location} // 'http://0/');
	ok($res->{status} == 200 && $res->{content} eq $zfiles{'0/0'}, "$c: ... the zarr file's bytes");
}
# The owners' e-mails: never to a holder, signed in or not.
$r = $t->get("/api/dandisets/$E/users/", headers => { 'X-Dandi-Access' => $TOK }, token => $stranger);
is_deeply([ $r->{status}, [ map { $_->{email} } @{ $r->{json} } ] ], [ 200, [ undef, undef ] ],
    'owners list to a signed-in holder: no e-mails');
unlike($r->{body}, qr/example\.org/, '... none anywhere in it');
# The S3 object itself stays closed to the anonymous.
my ($S3URL) = grep { !m{/api/} } @{ $t->get("/api/assets/$A/", headers => { 'X-Dandi-Access' => $TOK })->{json}{contentUrl} };
is($s3->get($S3URL)->{status}, 403, 'the contentUrl S3 object: still 403 anonymously');

# --- and nothing else ----------------------------------------------------------
my $H = { 'X-Dandi-Access' => $TOK };
my @refused = (
	[ 'PUT', "$V/", { name => 'x', metadata => {} }, 401 ],
	[ 'POST', "$V/assets/", { blob_id => $up->{blob}{blob_id}, metadata => { path => 'copy.nwb' } }, 401 ],
	[ 'PUT', "$V/assets/$A/", { blob_id => $up->{blob}{blob_id}, metadata => { path => 'x.nwb' } }, 401 ],
	[ 'DELETE', "$V/assets/$A/", undef, 401 ],
	[ 'POST', "$V/publish/", undef, 401 ],
	[ 'POST', "/api/dandisets/$E/unembargo/", undef, 401 ],
	[ 'DELETE', "/api/dandisets/$E/", undef, 401 ],
	[ 'PUT', "/api/dandisets/$E/users/", [ { username => 'stranger' } ], 401 ],
	[ 'POST', "/api/dandisets/$E/star/", undef, 401 ],
	[ 'GET', "/api/dandisets/$E/audit/", undef, 401 ],
	[ 'GET', "/api/dandisets/$E/uploads/", undef, 401 ],
	[ 'GET', $L, undef, 401 ],
	[ 'POST', $L, { label => 'mine' }, 401 ],
	[ 'DELETE', "$L$link->{id}/", undef, 401 ],
	[ 'PUT', "/api/dandisets/$E/access-request/", { access_requests => JSON::PP::true }, 401 ],
	[ 'POST', '/api/uploads/initialize/', { contentSize => 1, dandiset => $E,
	    digest => { algorithm => 'dandi:dandi-etag', value => ('0' x 32) . '-1' } }, 401 ],
	[ 'POST', "/api/zarr/$Z/files/", [ { path => 'x', base64md5 => md5_base64('') . '==' } ], 401 ],
	[ 'DELETE', "/api/zarr/$Z/files/", [ { path => '0/0' } ], 401 ],
	[ 'POST', "/api/zarr/$Z/finalize/", undef, 401 ],
	[ 'POST', '/api/zarr/', { name => 'new.zarr', dandiset => $E }, 401 ],
	[ 'POST', '/api/dandisets/', { name => 'mine', metadata => {} }, 401 ],
	[ 'GET', '/api/users/me/', undef, 401 ],
	[ 'GET', '/api/users/search/?username=olive', undef, 401 ],
	[ 'POST', '/api/auth/token/', undef, 401 ],
	# Another dandiset: as for anyone without access.
	[ 'GET', "/api/dandisets/$OTHER/", undef, 401 ],
	[ 'GET', "/api/dandisets/$OTHER/versions/draft/assets/", undef, 401 ],
	[ 'GET', "/api/assets/$OA/", undef, 401 ],
	[ 'GET', "/api/assets/$OA/download/", undef, 401 ],
	[ 'GET', "/api/dandisets/$OTHER/users/", undef, 401 ],
);
for my $x (@refused) {
	my ($m, $p, $body, $want) = @$x;
	for my $c ('header', 'client') {
		my ($path, %o) = $carrier{$c}->($p);
		my $got = $t->request($m, $path, (defined $body ? (json => $body) : ()), %o);
		is($got->{status}, $want, "$c: $m $p refused: $want") or diag($got->{body});
	}
}
is(one("SELECT count(*) FROM assets a JOIN asset_versions av ON av.asset_id = a.id JOIN versions v"
    . " ON v.id = av.version_id WHERE v.dandiset_id = $E"), 1, 'nothing was written: still one asset');
is(one("SELECT count(*) FROM access_links"), 1, '... one link');
is(one("SELECT count(*) FROM dandiset_owners WHERE dandiset_id = $E"), 2, '... two owners');
# Its dandiset is not in lists or searches: reads by id only.
$r = $t->get('/api/dandisets/?empty=true&draft=true', headers => $H);
ok($r->{status} == 200 && !grep({ $_->{identifier} eq $E } @{ $r->{json}{results} }), 'not listed in /api/dandisets/');
is($t->get('/api/dandisets/?embargoed=true', headers => $H)->{status}, 401, '... nor asked for as embargoed (a user\'s filter)');
# A signed-in non-owner holding it writes no more than without it.
is($t->put("$V/", { name => 'x', metadata => {} }, token => $stranger, headers => $H)->{status}, 403,
    'a signed-in holder: metadata write 403');
is($t->post($L, { label => 'z' }, token => $stranger, headers => $H)->{status}, 403, '... link create 403');

# --- the dandi client's form ---------------------------------------------------
# `<INSTANCE>_API_KEY=<token> dandi download https://host/dandiset/<id>/draft`:
# the client tries without credentials, gets 401, checks the key at
# /auth/token (its exact request: no trailing slash) and then sends it as
# `Authorization: token <key>` on every API call; downloads follow the
# 302 to S3 (requests drops the header for another host).
my $api = $t->api_url . '/api';
$r = $t->get("$api/dandisets/$E/");
is($r->{status}, 401, 'client: unauthenticated first try: 401 (it authenticates on 401)');
$r = $t->get("$api/auth/token", headers => { Authorization => "token $TOK" });
is_deeply([ $r->{status}, $r->{json} ], [ 200, $TOK ], 'client: GET /auth/token with the link as its key: 200 (no HTTPError)');
my $CH = { Authorization => "token $TOK" };
$r = $t->get("$api/dandisets/$E/versions/draft/", headers => $CH);
is($r->{json}{name}, 'Reviewed study', 'client: the version');
$r = $t->get("$api/dandisets/$E/versions/draft/assets/?order=path&page_size=100", headers => $CH);
my ($asset) = @{ $r->{json}{results} };
is($asset->{path}, 'sub/data.nwb', 'client: the asset list');
$r = $t->get("$api/dandisets/$E/versions/draft/assets/$asset->{asset_id}/", headers => $CH);
my ($durl) = grep { m{/api/assets/.*/download/$} } @{ $r->{json}{contentUrl} };
ok($durl, "client: the asset's metadata with its download URL");
$r = $t->get($durl, headers => $CH);
my $res = $s3->get($r->{headers}{location} // 'http://0/');
ok($r->{status} == 302 && $res->{content} eq $bytes, 'client: the download, byte for byte');
# The same with the client's HTTP library (requests), redirects followed.
{
	local $ENV{DANDI_API_KEY} = $TOK;
	my ($out, $err, $rc) = $t->run_cmd('python3', DandiTest->root . '/t/inc/client_access_link.py', $api, $E, 'draft');
	my $got = eval { decode_json($out) } // { error => "$out $err" };
	is_deeply($got, { first_status => 401, name => 'Reviewed study',
	    files => { 'sub/data.nwb' => Digest::SHA::sha256_hex($bytes) } },
	    "DANDI_API_KEY=<token>: the client's walk and download with requests, byte for byte") or diag(explain($got));
}
$r = $t->get("$api/auth/token", headers => { Authorization => 'token dandi-access-' . ('0' x 64) });
is_deeply([ $r->{status}, $r->{json}{detail} ], [ 401, 'Invalid token.' ], 'client: an unknown link as the key: 401 Invalid token.');
$r = $t->get("$api/auth/token/", headers => $H);
is($r->{status}, 401, 'GET /auth/token/ with the link by another carrier: 401 (no key to give)');

# --- use and audit -----------------------------------------------------------
my $uses = one("SELECT use_count FROM access_links WHERE id = $link->{id}");
cmp_ok($uses, '>', 100, "uses counted ($uses)");
is(one("SELECT count(*) FROM audit_records WHERE record_type = 'access_link_use' AND dandiset_id = $E"
    . " AND (details->>'link_id')::bigint = $link->{id}"), $uses, 'each use audited, on its dandiset');
my ($ad) = $t->psql("SELECT details->>'label', details->>'method', details->>'path', username FROM audit_records"
    . " WHERE record_type = 'access_link_use' AND details->>'path' LIKE '%/download/' ORDER BY id LIMIT 1");
is_deeply($ad, [ 'Journal reviewer 1', 'GET', "/api/dandisets/$E/versions/draft/assets/$A/download/", '' ],
    '... with the label, method and path');
is(one("SELECT count(*) FROM audit_records WHERE position('$TOK' in details::text) > 0"), 0, '... never the token');
$r = $t->get($L, token => $owner);
is($r->{json}[0]{use_count}, $uses, 'the list shows the use count');
like($r->{json}[0]{last_used}, qr/^\d{4}-\d\d-\d\dT/, '... and the last use');
$r = $t->get("/api/dandisets/$E/audit/", token => $owner);
ok((grep { $_->{record_type} eq 'create_access_link' && $_->{details}{label} eq 'Journal reviewer 1' } @{ $r->{json}{results} }),
    "the owners' audit trail has the link's creation");

# --- expiry --------------------------------------------------------------------
$r = $t->post($L, { label => 'short', expires => '2099-01-01T12:00:00Z' }, token => $owner);
my $EXP = $r->{json};
is($t->get("/api/dandisets/$E/", headers => { 'X-Dandi-Access' => $EXP->{token} })->{status}, 200, 'a second link works');
$t->psql("UPDATE access_links SET expires = now() - interval '1 second' WHERE id = $EXP->{id}");
for my $c (sort keys %carrier) {
	my ($p, %o) = $carrier{$c}->("/api/dandisets/$E/");
	$o{headers}{$c eq 'client' ? 'Authorization' : 'X-Dandi-Access'} =~ s/\Q$TOK\E/$EXP->{token}/ if $o{headers};
	$p =~ s/\Q$TOK\E/$EXP->{token}/;
	$r = $t->get($p, %o);
	is_deeply([ $r->{status}, $r->{json}{detail} ], [ 401, $c eq 'client' ? 'Invalid token.' : 'Invalid or expired access link.' ],
	    "$c: expired: 401");
}
$r = $t->get($L, token => $owner);
my ($row) = grep { $_->{id} == $EXP->{id} } @{ $r->{json} };
is($row->{active}, JSON::PP::false, 'listed as not active');
is($t->get('/api/info/', headers => { 'X-Dandi-Access' => $EXP->{token} })->{status}, 401,
    'an expired link is refused on any route (the holder learns why)');

# --- revocation, at once, with the page cache warm --------------------------------
my $LIST = "$V/assets/?page_size=1";
$t->jobs('fold-paths');	# the list's state known: cacheable (pagecache.c)
for my $c ('client', 'query') {
	$r = $t->post($L, { label => "revoked $c" }, token => $owner);
	my $rv = $r->{json};
	my $tok = $rv->{token};
	my ($p, %o) = $c eq 'client' ? ($LIST, headers => { Authorization => "token $tok" }) : ("$LIST&access=$tok");
	my @cache = map { my $g = $t->get($p, %o); is($g->{status}, 200, "$c: list page $_"); $g->{headers}{'x-dandi-page-cache'} // '' } 1 .. 2;
	is_deeply(\@cache, [ 'miss', 'hit' ], "$c: the page cache is warm (miss, then hit)");
	is($t->delete("$L$rv->{id}/", token => $co)->{status}, 204, "$c: revoked by an owner");
	$r = $t->get($p, %o);
	is($r->{status}, 401, "$c: the same page at once: 401");
	isnt($r->{headers}{'x-dandi-page-cache'} // '', 'hit', '... not served from the cache');
	is($t->get($LIST)->{status}, 401, '... nor to the anonymous');
	my @other = $c eq 'client' ? ("/api/dandisets/$E/", headers => { Authorization => "token $tok" })
	    : ("/api/dandisets/$E/?access=$tok");
	is($t->get(@other)->{status}, 401, "$c: nor anything else");
	is($t->delete("$L$rv->{id}/", token => $owner)->{status}, 204, "$c: revoking again: 204, no change");
}
# The owner reads the cached page still (their rule, their page).
is($t->get($LIST, token => $owner)->{status}, 200, "the owner's list page");
is($t->delete("$L$link->{id}/", token => $stranger)->{status}, 403, 'revoke by a non-owner: 403');
is($t->delete("/api/dandisets/$OTHER/access-links/$link->{id}/", token => $owner)->{status}, 404,
    "revoke through another dandiset's path: 404");
is($t->get("/api/dandisets/$E/", headers => $H)->{status}, 200, 'the first link still works');
is(one("SELECT count(*) FROM audit_records WHERE record_type = 'revoke_access_link' AND dandiset_id = $E"), 4,
    'revocations audited (each DELETE)');

# --- the public access-request form ---------------------------------------------
my $RQ = "/api/dandisets/$E/access-request/";
my $form = { name => 'Rita Reviewer', email => 'rita@journal.example', message => "Please let me see the data.\nThanks" };
is($t->get($RQ)->{status}, 404, 'access requests off (default): the public sees nothing (404)');
is($t->post($RQ, $form)->{status}, 404, '... and cannot send one');
is($t->put($RQ, { access_requests => JSON::PP::true }, token => $stranger)->{status}, 403, 'setting: a non-owner 403');
is($t->put($RQ, { access_requests => 'yes' }, token => $owner)->{status}, 400, 'setting: not a boolean 400');
$r = $t->get($RQ, token => $owner);
is_deeply($r->{json}, { identifier => $E, name => 'Reviewed study', embargo_status => 'EMBARGOED', access_requests => JSON::PP::false },
    'the owners see the setting');
$r = $t->put($RQ, { access_requests => JSON::PP::true }, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 200, { access_requests => JSON::PP::true } ], 'an owner allows requests');
$r = $t->get($RQ);
is_deeply([ $r->{status}, $r->{json} ], [ 200, { identifier => $E, name => 'Reviewed study', embargo_status => 'EMBARGOED',
    access_requests => JSON::PP::true } ], 'the public landing page: the title, nothing else');
is($t->get("/api/dandisets/$E/")->{status}, 401, '... the dandiset itself stays closed');
is($t->get("/api/dandisets/$OTHER/access-request/")->{status}, 404, "... another's stays hidden");
$r = $t->post($RQ, { name => 'R', email => 'not an address', message => '' });
is_deeply([ $r->{status}, [ sort keys %{ $r->{json} } ] ], [ 400, [ 'email', 'message' ] ], 'bad form: 400 per field');
$r = $t->post($RQ, { %$form, name => "Rita\r\nBcc: x\@y" });
is_deeply([ $r->{status}, [ keys %{ $r->{json} } ] ], [ 400, [ 'name' ] ], 'a name of two lines: 400');
is(one("SELECT count(*) FROM emails WHERE subject LIKE 'Access request%'"), 0, 'no mail from the refusals');
is($t->post($RQ, $form)->{status}, 204, 'a request: 204');
my @mail = $t->psql("SELECT array_to_string(to_addrs, ','), reply_to, subject, to_json(body) FROM emails"
    . " WHERE subject LIKE 'Access request%' ORDER BY id");
is(scalar @mail, 1, 'one message');
is_deeply([ sort split /,/, $mail[0][0] ], [ 'olive@example.org', 'oscar@example.org' ], '... to the owners');
is($mail[0][1], 'rita@journal.example', '... Reply-To the requester');
is($mail[0][2], qq{Access request for Dandiset $E, "Reviewed study"}, '... subject');
my $body = JSON::PP->new->allow_nonref->decode($mail[0][3]);
like($body, qr/Rita Reviewer <rita\@journal\.example>.*Please let me see the data\.\nThanks/s, "... the requester's name, e-mail and message");
like($body, qr{\Q${\ $t->web_url }\E/dandiset/$E\n}, '... and the landing page');
is($t->post($RQ, $form)->{status}, 204, 'a second');
is($t->post($RQ, $form)->{status}, 204, 'a third');
$r = $t->post($RQ, $form);
is_deeply([ $r->{status}, $r->{headers}{'retry-after'} ], [ 429, 3600 ], 'a fourth from the address within the hour: 429');
is($t->post($RQ, $form, from => '127.0.0.2')->{status}, 204, '... another address may');
is(one("SELECT count(*) FROM emails WHERE subject LIKE 'Access request%'"), 4, 'four messages in all');
is($t->post("/api/dandisets/$OPEN/access-request/", $form)->{status}, 400, 'an open dandiset takes no requests');
$r = $t->put($RQ, { access_requests => JSON::PP::false }, token => $owner);
is($t->get($RQ)->{status}, 404, 'switched off: hidden again');

done_testing;
