# The API's documentation: the OpenAPI document at /api/docs/?format=openapi
# (a valid OpenAPI 3.0 document, checked with JSON::Validator's OpenAPIv3
# schema; `servers` is the archive; cached by ETag), its operations against
# the routes of src/api/routes.c, the Swagger UI and ReDoc pages and the
# old /swagger/ and /redoc/ addresses. Then the document is held to what
# the server does: every operation that needs authentication refuses an
# anonymous caller and no other does, and the answers of a walk through
# the API (dandisets, versions, assets, uploads, zarr, users, search...)
# have a documented status, content type and body shape.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use JSON::Validator::Schema::OpenAPIv3;
use DandiTest;

my $t = DandiTest->new(s3 => 1, workers => 2);
my $API = $t->api_url;
my $JSON = JSON::PP->new->utf8->allow_nonref;

# --- the document ------------------------------------------------------------

my $r = $t->get('/api/docs/?format=openapi');
is($r->{status}, 200, 'GET /api/docs/?format=openapi');
like($r->{headers}{'content-type'} // '', qr{^application/json}, 'as JSON');
my $doc = eval { $JSON->decode($r->{body}) };
ok(ref $doc eq 'HASH', 'it parses') or BAIL_OUT('no document');
like($doc->{openapi}, qr/^3\.0\.\d+$/, 'OpenAPI 3.0');
is_deeply($doc->{servers}, [ { url => $API, description => 'This archive' } ],
    'servers is the configured api_url, so "Try it out" reaches this archive');
# (a copy: the validator resolves the $refs of what it is given)
my $spec = JSON::Validator::Schema::OpenAPIv3->new($JSON->decode($r->{body}));
my @errors = @{ $spec->errors };
ok(!@errors, 'a valid OpenAPI 3.0 document (JSON::Validator)') or diag(join "\n", @errors[0 .. ($#errors > 20 ? 20 : $#errors)]);
# Answers are checked as they are: no number passes for a string.
$spec->coerce({});

my $etag = $r->{headers}{etag};
ok($etag, 'with an ETag');
is($t->get('/api/docs/?format=openapi', headers => { 'If-None-Match' => $etag })->{status}, 304,
    'If-None-Match: 304 Not Modified');
my $file = do { local $/; open(my $fh, '<', 'share/openapi/openapi.json') or die $!; $JSON->decode(<$fh>) };
delete $file->{servers};
my %served = %$doc;
delete $served{servers};
is_deeply(\%served, $file, 'it is share/openapi/openapi.json with servers set');
for my $ui (qw(swagger redoc)) {
	my $u = $t->get("/api/docs/$ui/?format=openapi");
	is($u->{body}, $r->{body}, "/api/docs/$ui/?format=openapi answers the same document (as drf-yasg)");
}

# Every route of routes.c is reached by an operation of the served document
# (its path parameters by their examples), and every operation by a route.
my (%macro, @routes);
open(my $fh, '<', 'src/api/routes.c') or die "routes.c: $!";
my $c_string = sub {
	my ($expr) = @_;
	join '', map { /^"(.*)"$/ ? $1 =~ s/\\\\/\\/gr : $macro{$_} // die "unknown macro $_" }
	    ($expr =~ /("(?:[^"\\]|\\.)*"|\w+)/g);
};
while (my $line = <$fh>) {
	if ($line =~ /^#define\s+(\w+)\s+(.*?)\s*$/) {
		$macro{$1} = $c_string->($2);
	} elsif ($line =~ /^\s*\{\s*"([A-Z]+)",\s*(.*?),\s*(\w+),\s*[\w |]+?,\s*T_\w+\s*\},/) {
		my ($method, $expr, $handler) = ($1, $2, $3);
		my $pat = $c_string->($expr) =~ s{/$}{}r;
		push @routes, { method => $method, re => qr/^$pat\/?$/, name => "$method $pat ($handler)" };
	}
}
ok(@routes > 80, scalar(@routes) . ' routes in routes.c');
my %reached;
my $example = sub {
	my ($op, $item, $name) = @_;
	for my $p (@{ $op->{parameters} || [] }, @{ $item->{parameters} || [] }) {
		my $q = $p->{'$ref'} ? $spec->get($p->{'$ref'} =~ s{^#}{}r) : $p;
		return $q->{schema}{example} if $q->{in} eq 'path' && $q->{name} eq $name;
	}
	return undef;
};
for my $tpl (sort keys %{ $doc->{paths} }) {
	my $item = $doc->{paths}{$tpl};
	for my $m (grep { $item->{$_} } qw(get put post delete patch)) {
		(my $path = $tpl) =~ s/\{(\w+)\}/$example->($item->{$m}, $item, $1) \/\/ "{$1}"/ge;
		# As the router: the first route of this method whose path matches.
		my ($route) = grep { $path =~ $_->{re} && $_->{method} eq uc $m } @routes;
		ok($route, "\U$m\E $tpl ($path) is served by a route") unless $route;
		$reached{ $route->{name} }++ if $route;
	}
}
is(scalar(grep { !$reached{ $_->{name} } } @routes), 0, 'every route is reached by an operation');
$reached{ $_->{name} } or fail("route $_->{name} is in the document") for @routes;

# --- the pages -----------------------------------------------------------------

$r = $t->get('/api/docs/');
is($r->{status}, 302, '/api/docs/ without format redirects');
is($r->{headers}{location}, '/api/docs/swagger/', '... to the Swagger UI page');
is($t->get('/api/docs/?format=yaml')->{status}, 404, 'an unknown format is a 404');
for ([ '/swagger/', '/api/docs/swagger/' ], [ '/swagger', '/api/docs/swagger/' ], [ '/redoc/', '/api/docs/redoc/' ],
    [ '/redoc?x=1', '/api/docs/redoc/' ]) {
	my ($from, $to) = @$_;
	$r = $t->get($from);
	is($r->{status}, 301, "$from: a permanent redirect");
	is($r->{headers}{location}, $to, "$from -> $to");
}
my $web_built = -f DandiTest->root . '/web/dist/api-docs/swagger-init.js' && !$ENV{DANDI_WEB_ROOT};
for my $ui (qw(swagger redoc)) {
	$r = $t->get("/api/docs/$ui/");
	is($r->{status}, 200, "/api/docs/$ui/ loads");
	like($r->{headers}{'content-type'} // '', qr{^text/html}, '... as HTML');
	like($r->{body}, qr{/api/docs/\?format=openapi}, '... pointing at the document');
	my @assets = $r->{body} =~ /(?:src|href)="(\/api-docs\/[^"]+)"/g;
	ok(@assets >= ($ui eq 'swagger' ? 3 : 1), "... loading its scripts from this site: @assets");
	unlike($r->{body}, qr{(?:src|href)="(?:https?:)?//}, '... and nothing from another site');
	like($r->{headers}{'content-security-policy'} // '', qr/^default-src 'self'; script-src 'self';.*img-src 'self' data:;/,
	    '... which its Content-Security-Policy enforces');
	next unless $web_built;
	for my $a (@assets) {
		my $s = $t->get($a);
		is($s->{status}, 200, "$a is served");
		like($s->{headers}{'content-type'} // '', $a =~ /\.css$/ ? qr{text/css} : qr{javascript}, "... as "
		    . ($a =~ /\.css$/ ? 'CSS' : 'JavaScript'));
		unlike($s->{body}, qr/<div id="?app/, '... not the web app\'s index.html');
	}
}
SKIP: {
	skip 'web/dist is not built', 1 unless -f DandiTest->root . '/web/dist/index.html';
	is($t->get('/api-docs/nothing.js')->{status}, 404, 'a missing /api-docs/ file is a 404, not the web app');
}

# --- what the document says against what the server does -------------------

# One call, checked against its operation: the status must be documented,
# a body must be of a documented content type, and a JSON body must match
# the schema. Returns the answer (with json decoded).
sub call {
	my ($method, $tpl, %o) = @_;
	my $path = $tpl =~ s/\{(\w+)\}/$o{vals}{$1} \/\/ die "no value for {$1}"/ger;
	$path .= "?$o{query}" if defined $o{query};
	my %req = (token => $o{token}, headers => $o{headers});
	$req{json} = $o{json} if exists $o{json};
	$req{body} = $o{body} if exists $o{body};
	my $res = $t->request($method, $path, %req);
	my $what = "$method $path" . (defined $o{token} ? '' : ' (anonymous)');
	is($res->{status}, $o{want}, "$what: $o{want}") or diag($res->{body}) if defined $o{want};
	my $op = $doc->{paths}{$tpl}{ lc $method };
	ok($op, "$method $tpl is in the document") or return $res;
	my $resp = $op->{responses}{ $res->{status} };
	$resp = $spec->get($resp->{'$ref'} =~ s{^#}{}r) if $resp && $resp->{'$ref'};
	ok($resp, "$what: status $res->{status} is documented") or diag($res->{body}), return $res;
	my $ct = ($res->{headers}{'content-type'} // '') =~ s/;.*//r;
	if (length $res->{body}) {
		ok($resp->{content} && $resp->{content}{$ct}, "$what: $ct is documented for $res->{status}") or return $res;
		if ($ct eq 'application/json') {
			my $v = $JSON->decode($res->{body});
			$res->{json} = $v;
			my @e = $spec->validate_response([ lc $method, $tpl, $res->{status} ],
			    { body => sub { { exists => 1, value => $v, content_type => $ct } } });
			ok(!@e, "$what: the answer matches the document") or diag(join("\n", @e) . "\n" . substr($res->{body}, 0, 600));
		}
	}
	if ($resp->{headers}{Location}) {
		ok($res->{headers}{location}, "$what: Location is set");
	}
	return $res;
}

my $owner = $t->user('owner', first => 'Olive', last => 'Owner');
my $other = $t->user('other');
my $admin = $t->admin_token;
my %v = (version => 'draft', versions__version => 'draft');

# The first dandiset is the examples' 000001.
$r = call('POST', '/api/dandisets/', json => { name => 'Documented', metadata => { description => 'd' } },
    token => $owner, want => 200);
$v{dandiset__pk} = $v{versions__dandiset__pk} = $r->{json}{identifier};
is($v{dandiset__pk}, '000001', 'the first dandiset is 000001');

# Anonymous callers: operations that need authentication (no {} in their
# security) answer 401 (the HTML pages send the browser to sign in); the
# others never 401.
for my $tpl (sort keys %{ $doc->{paths} }) {
	my $item = $doc->{paths}{$tpl};
	for my $m (grep { $item->{$_} } qw(get put post delete)) {
		my $op = $item->{$m};
		my %vals;
		$vals{$1} = $example->($op, $item, $1) while $tpl =~ /\{(\w+)\}/g;
		my $open = grep { !%$_ } @{ $op->{security} // $doc->{security} };
		my $page = !$op->{responses}{401} && $op->{responses}{302};
		my $res = call(uc $m, $tpl, vals => \%vals);
		if ($open) {
			isnt($res->{status}, 401, "\U$m\E $tpl needs no authentication, as documented");
		} elsif ($page) {
			is($res->{status}, 302, "\U$m\E $tpl: an anonymous browser is sent to sign in");
			like($res->{headers}{location} // '', qr{^/accounts/login/}, '... at /accounts/login/');
		} else {
			is($res->{status}, 401, "\U$m\E $tpl needs authentication, as documented");
		}
	}
}

# A walk through the API, every answer checked against the document.

call('GET', '/', want => 200);
call('GET', '/robots.txt', want => 200);
call('GET', '/api/info/', want => 200);
call('GET', '/server-info', want => 200);
call('GET', '/api/stats/', want => 200);
call('GET', '/api/schemas/', query => 'model=Dandiset', want => 200);
call('GET', '/api/schemas/', query => 'model=Nope', want => 400);
call('GET', '/api/schemas/available/', want => 200);
call('GET', '/api/users/me/', token => $owner, want => 200);
call('GET', '/api/users/search/', query => 'username=own', token => $other, want => 200);
call('GET', '/api/users/', token => $admin, want => 200);
call('GET', '/api/users/', token => $owner, want => 403);
call('GET', '/api/auth/token/', token => $other, want => 200);
call('GET', '/accounts/login/', want => 200);
call('POST', '/oauth/token/', body => 'grant_type=password&client_id=x',
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, want => 401);

call('POST', '/api/dandisets/', json => { name => 'Documented' }, token => $owner, want => 400);
call('GET', '/api/dandisets/', want => 200);
call('GET', '/api/dandisets/', query => 'page=9', want => 404);
call('GET', '/api/dandisets/', query => 'embargoed=true', want => 401);
call('GET', '/api/dandisets/{dandiset__pk}/', vals => \%v, want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/versions/', vals => \%v, want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%v, want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/versions/{version}/info/', vals => \%v, want => 200);
call('PUT', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%v, token => $owner,
    json => { name => 'Documented too', metadata => { description => 'd2' } }, want => 200);
call('PUT', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%v, token => $other,
    json => { name => 'x', metadata => {} }, want => 403);
call('POST', '/api/dandisets/{dandiset__pk}/versions/{version}/publish/', vals => \%v, token => $owner,
    want => 409);
call('DELETE', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%v, token => $admin, want => 403);
call('POST', '/api/dandisets/{dandiset__pk}/star/', vals => \%v, token => $other, want => 200);
call('DELETE', '/api/dandisets/{dandiset__pk}/star/', vals => \%v, token => $other, want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/users/', vals => \%v, want => 200);
call('PUT', '/api/dandisets/{dandiset__pk}/users/', vals => \%v, token => $owner,
    json => [ { username => 'owner' }, { username => 'other' } ], want => 200);
call('PUT', '/api/dandisets/{dandiset__pk}/users/', vals => \%v, token => $owner,
    json => [ { username => 'owner' } ], want => 200);
call('PUT', '/api/dandisets/{dandiset__pk}/users/', vals => \%v, token => $owner, json => [], want => 400);
call('GET', '/api/dandisets/{dandiset__pk}/audit/', vals => \%v, token => $owner, want => 200);

# Bytes: an upload to S3 end to end, up to the blob.
my $bytes = "documented bytes\n";
my $md5 = do { require Digest::MD5; Digest::MD5::md5_hex($bytes) };
my $detag = Digest::MD5::md5_hex(pack('H*', $md5)) . '-1';
call('POST', '/api/blobs/digest/', json => { algorithm => 'dandi:dandi-etag', value => $detag }, want => 404);
$r = call('POST', '/api/uploads/initialize/', token => $owner, want => 200,
    json => { contentSize => length $bytes, digest => { algorithm => 'dandi:dandi-etag', value => $detag },
    dandiset => $v{dandiset__pk} });
$v{upload_id} = $r->{json}{upload_id};
call('GET', '/api/dandisets/{dandiset__pk}/uploads/', vals => \%v, token => $owner, want => 200);
call('POST', '/api/uploads/{upload_id}/validate/', vals => \%v, token => $owner, want => 400);
my $put = HTTP::Tiny->new->request('PUT', $r->{json}{parts}[0]{upload_url}, { content => $bytes });
ok($put->{success}, 'the part goes to S3') or diag($put->{content});
$r = call('POST', '/api/uploads/{upload_id}/complete/', vals => \%v, token => $owner, want => 200,
    json => { parts => [ { part_number => 1, size => length $bytes, etag => $put->{headers}{etag} } ] });
my $done = HTTP::Tiny->new->request('POST', $r->{json}{complete_url}, { content => $r->{json}{body} });
ok($done->{success}, 'S3 completes the upload') or diag($done->{content});
$r = call('POST', '/api/uploads/{upload_id}/validate/', vals => \%v, token => $owner, want => 200);
my $blob = $r->{json}{blob_id};
call('POST', '/api/blobs/digest/', json => { algorithm => 'dandi:dandi-etag', value => $detag }, want => 200);
call('POST', '/api/uploads/initialize/', token => $owner, want => 409,
    json => { contentSize => length $bytes, digest => { algorithm => 'dandi:dandi-etag', value => $detag },
    dandiset => $v{dandiset__pk} });

my $A = '/api/dandisets/{versions__dandiset__pk}/versions/{versions__version}/assets';
my $subject = { schemaKey => 'Participant', identifier => 'sub-1', genotype => 'Cre',
    species => { schemaKey => 'SpeciesType', name => 'Mus musculus' } };
$r = call('POST', "$A/", vals => \%v, token => $owner, want => 200,
    json => { blob_id => $blob, metadata => { path => 'sub-1/data.nwb', encodingFormat => 'application/x-nwb',
    wasAttributedTo => [ $subject ] } });
$v{asset_id} = $r->{json}{asset_id};
call('POST', "$A/", vals => \%v, token => $owner, want => 409,
    json => { blob_id => $blob, metadata => { path => 'sub-1/data.nwb' } });
call('POST', "$A/", vals => \%v, token => $owner, want => 400, json => { metadata => { path => 'x' } });
call('GET', "$A/", vals => \%v, want => 200);
call('GET', "$A/", vals => \%v, query => 'metadata=true&page=2&page_size=1', want => 200);
call('GET', "$A/", vals => \%v, query => 'order=size', want => 400);
call('GET', "$A/paths/", vals => \%v, want => 200);
call('GET', "$A/paths/", vals => \%v, query => 'path_prefix=sub-1', want => 200);
call('GET', "$A/paths/", vals => \%v, query => 'path_prefix=nope', want => 404);
call('GET', "$A/{asset_id}/", vals => \%v, want => 200);
call('GET', "$A/{asset_id}/info/", vals => \%v, want => 200);
call('GET', "$A/{asset_id}/validation/", vals => \%v, want => 200);
call('GET', "$A/{asset_id}/download/", vals => \%v, want => 302);
call('GET', '/api/assets/{asset_id}/', vals => \%v, want => 200);
call('GET', '/api/assets/{asset_id}/info/', vals => \%v, want => 200);
call('GET', '/api/assets/{asset_id}/download/', vals => \%v, query => 'content_disposition=inline', want => 302);
call('GET', '/api/assets/{asset_id}/download/', vals => \%v, query => 'content_disposition=x', want => 400);
$r = call('PUT', "$A/{asset_id}/", vals => \%v, token => $owner, want => 200,
    json => { blob_id => $blob, metadata => { path => 'sub-1/data.nwb', encodingFormat => 'application/x-nwb',
    wasAttributedTo => [ $subject ], description => 'changed' } });
$v{asset_id} = $r->{json}{asset_id};
call('GET', '/api/webdav/assets/atpath/', query => "dandiset_id=$v{dandiset__pk}&version_id=draft&path=sub-1"
    . '&children=true&metadata=true', want => 200);
call('GET', '/api/webdav/assets/atpath/', query => 'version_id=draft', want => 400);
call('GET', '/api/dandisets/{dandiset__pk}/versions/{version}/info/', vals => \%v, want => 200);
$t->jobs('refresh-search');
$r = call('GET', '/api/dandisets/search/', query => 'file_type=application/x-nwb&genotype=Cre&species=Mus+musculus',
    want => 200);
is_deeply($r->{json}{results}[0]{asset_counts}, { file_type => 1, genotype => 1, species => 1 },
    'the search found the asset (so its answer had something to check)');
call('GET', '/api/dandisets/search/', query => 'file_type=audio/', want => 400);
call('GET', '/api/dandisets/search/', query => 'search=file_type%3Anwb+species%3Amus', want => 200);
call('GET', '/api/dandisets/', query => 'search=specie%3Amouse', want => 400);
call('GET', '/api/dandisets/', query => 'search=%20', want => 400);
is_deeply(call('GET', '/api/search/genotypes/', query => 'genotype=cr', want => 200)->{json}, ['Cre'],
    'genotype choices');
is_deeply(call('GET', '/api/search/species/', want => 200)->{json}{results}, ['Mus musculus'], 'species choices');
call('GET', '/api/stats/downloads/', query => "dandiset=$v{dandiset__pk}", want => 200);
call('GET', '/api/audit/events/asset', token => $admin, want => 200);
call('GET', '/api/audit/events/asset', token => $admin, query => 'before=yesterday', want => 400);

# Zarr archives.
$r = call('POST', '/api/zarr/', token => $owner, json => { name => 'a.zarr', dandiset => $v{dandiset__pk} }, want => 200);
$v{zarr_id} = $r->{json}{zarr_id};
call('POST', '/api/zarr/', token => $owner, json => { name => 'a.zarr', dandiset => $v{dandiset__pk} }, want => 400);
call('GET', '/api/zarr/', query => "dandiset=$v{dandiset__pk}", want => 200);
call('GET', '/api/zarr/{zarr_id}/', vals => \%v, want => 200);
$r = call('POST', '/api/zarr/{zarr_id}/files/', vals => \%v, token => $owner, want => 200,
    json => [ { path => '.zattrs', base64md5 => '1B2M2Y8AsgTpgAmY7PhCfg==' } ]);
$put = HTTP::Tiny->new->request('PUT', $r->{json}[0], { content => '', headers => { 'Content-MD5' => '1B2M2Y8AsgTpgAmY7PhCfg==' } });
ok($put->{success}, 'a zarr file goes to S3') or diag($put->{content});
call('GET', '/api/zarr/{zarr_id}/files/', vals => \%v, want => 200);
call('GET', '/api/zarr/{zarr_id}/files/', vals => \%v, query => 'prefix=.zattrs&download=true', want => 302);
call('GET', '/api/zarr/{zarr_id}/files/', vals => \%v, query => 'limit=2000', want => 400);
call('DELETE', '/api/zarr/{zarr_id}/files/', vals => \%v, token => $owner, json => [ { path => 'nope' } ], want => 400);
call('DELETE', '/api/zarr/{zarr_id}/', vals => \%v, token => $owner, want => 405);
call('POST', '/api/zarr/{zarr_id}/finalize/', vals => \%v, token => $owner, want => 204);
call('POST', '/api/zarr/{zarr_id}/finalize/', vals => \%v, token => $owner, want => 400);

# Publishing: a valid draft (validated by the sweep) becomes a version.
$r = call('POST', '/api/dandisets/', token => $owner, want => 200, json => { name => 'Published', metadata => {
    description => 'Recordings', license => ['spdx:CC-BY-4.0'], contributor => [ { name => 'Owner, Olive',
    email => 'olive@example.org', roleName => ['dcite:ContactPerson'], includeInCitation => JSON::PP::true,
    schemaKey => 'Person' } ] } });
my %p = (version => 'draft', versions__version => 'draft');
$p{dandiset__pk} = $p{versions__dandiset__pk} = $r->{json}{identifier};
my $pblob = '00000001-1111-4000-8000-000000000000';
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$pblob', 'blobs/000/000/$pblob', '"
    . ('ab' x 16) . "-1', 5, '" . ('cd' x 32) . "')");
call('POST', "$A/", vals => \%p, token => $owner, want => 200, json => { blob_id => $pblob,
    metadata => { schemaKey => 'Asset', encodingFormat => 'application/json', path => 'dataset_description.json' } });
$t->jobs('validate');
call('POST', '/api/dandisets/{dandiset__pk}/versions/{version}/publish/', vals => \%p, token => $owner,
    json => { release_notes => 'First.' }, want => 202);
call('POST', '/api/dandisets/{dandiset__pk}/versions/{version}/publish/', vals => \%p, token => $owner, want => 423);
$t->jobs('run', '--no-validate');
$r = call('GET', '/api/dandisets/{dandiset__pk}/', vals => \%p, want => 200);
my $pub = $r->{json}{most_recent_published_version}{version};
like($pub // '', qr/^0\.\d{6}\.\d{4}$/, "published as $pub (so the published shapes were checked)");
my %pv = (%p, version => $pub, versions__version => $pub);
call('GET', '/api/dandisets/', query => 'draft=false', want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/versions/', vals => \%p, query => 'order=-created', want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%pv, want => 200);
call('GET', '/api/dandisets/{dandiset__pk}/versions/{version}/info/', vals => \%pv, want => 200);
call('PUT', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%pv, token => $owner,
    json => { name => 'x', metadata => {} }, want => 405);
call('POST', '/api/dandisets/{dandiset__pk}/versions/{version}/publish/', vals => \%pv, token => $owner, want => 405);
$r = call('GET', "$A/", vals => \%pv, query => 'metadata=true', want => 200);
$pv{asset_id} = $r->{json}{results}[0]{asset_id};
call('GET', "$A/{asset_id}/", vals => \%pv, want => 200);
call('DELETE', "$A/{asset_id}/", vals => \%pv, token => $owner, want => 405);
call('POST', '/api/dandisets/{dandiset__pk}/versions/{version}/publish/', vals => \%p, token => $owner, want => 400);
call('DELETE', '/api/dandisets/{dandiset__pk}/', vals => \%p, token => $owner, want => 403);
call('DELETE', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%pv, token => $owner, want => 403);
call('DELETE', '/api/dandisets/{dandiset__pk}/versions/{version}/', vals => \%pv, token => $admin, want => 204);

# Removing things; an embargoed dandiset; and the ways of being refused.
call('DELETE', "$A/{asset_id}/", vals => \%v, token => $owner, want => 204);
call('DELETE', '/api/dandisets/{dandiset__pk}/uploads/', vals => \%v, token => $owner, want => 204);
call('GET', '/api/dandisets/{dandiset__pk}/uploads/', vals => \%v, token => $other, want => 403);
$r = call('POST', '/api/dandisets/', query => 'embargo=true', json => { name => 'Hidden', metadata => {} },
    token => $owner, want => 200);
my %e = (%v, dandiset__pk => $r->{json}{identifier});
call('GET', '/api/dandisets/{dandiset__pk}/', vals => \%e, want => 401);
call('GET', '/api/dandisets/{dandiset__pk}/', vals => \%e, token => $other, want => 403);
call('GET', '/api/dandisets/', query => 'embargoed=true', token => $owner, want => 200);
call('POST', '/api/dandisets/{dandiset__pk}/unembargo/', vals => \%v, token => $owner, want => 400);
call('POST', '/api/dandisets/{dandiset__pk}/unembargo/', vals => \%e, token => $owner, want => 200);
call('DELETE', '/api/dandisets/{dandiset__pk}/', vals => \%v, token => $other, want => 403);
call('GET', '/api/dandisets/{dandiset__pk}/', vals => { dandiset__pk => '999999' }, want => 404);
$r = call('POST', '/api/dandisets/', json => { name => 'Short-lived', metadata => {} }, token => $other, want => 200);
call('DELETE', '/api/dandisets/{dandiset__pk}/', vals => { dandiset__pk => $r->{json}{identifier} }, token => $other,
    want => 204);
call('POST', '/api/auth/token/', token => $other, want => 200);

done_testing;
