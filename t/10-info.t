# Server info (/api/info/, /server-info), robots.txt, the landing page, and
# the JSON 404/405 answers for paths and methods the API does not have.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;
use Shape qw(okeys);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $API = $t->api_url;
my $WEB = $t->web_url;

my ($pkg_version) = do {
	open(my $fh, '<', 'autoconf.h') or die "autoconf.h: $!";
	map { /^#define PACKAGE_VERSION "(.*)"/ ? $1 : () } <$fh>;
};

my @INFO_KEYS = ('instance_config', 'schema_version', 'schema_url', 'allowed_schema_versions',
    'version', 'services', 'cli-minimal-version', 'cli-requires-python', 'cli-bad-versions');

sub check_info {
	my ($path, %opts) = @_;
	my $r = $t->get($path, %opts);
	is($r->{status}, 200, "$path: 200");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "$path: JSON");
	is_deeply(okeys($r->{body}), \@INFO_KEYS, "$path: keys in order");
	my $i = $r->{json};
	is_deeply(okeys($r->{body}, 'instance_config'),
	    [qw(instance_name instance_identifier instance_url doi_prefix licenses)], "$path: instance_config keys");
	is($i->{instance_config}{instance_name}, 'DANDI', "$path: instance name");
	ok(exists $i->{instance_config}{$_}, "$path: instance_config has $_ (null kept)")
	    for qw(instance_identifier doi_prefix);
	is($i->{instance_config}{instance_url}, $WEB, "$path: instance url is the web app");
	is_deeply($i->{instance_config}{licenses}, [ 'spdx:CC0-1.0', 'spdx:CC-BY-4.0' ], "$path: licenses");
	is($i->{schema_version}, '0.7.0', "$path: schema version");
	is($i->{schema_url}, "$API/api/schemas/?model=Dandiset", "$path: schema url");
	is(ref $i->{allowed_schema_versions}, 'ARRAY', "$path: allowed schema versions is a list");
	ok((grep { $_ eq '0.7.0' } @{ $i->{allowed_schema_versions} || [] }), "$path: current schema allowed");
	ok(!(grep { ref $_ || !/^\d+\.\d+\.\d+$/ } @{ $i->{allowed_schema_versions} || [] }),
	    "$path: allowed versions are version strings");
	is($i->{version}, $pkg_version, "$path: server version");
	is_deeply(okeys($r->{body}, 'services'), [qw(api webui jupyterhub)], "$path: services keys");
	is_deeply($i->{services}{api}, { url => "$API/api" }, "$path: api url");
	is_deeply($i->{services}{webui}, { url => $WEB }, "$path: web url");
	like($i->{services}{jupyterhub}{url} // '', qr{^https?://}, "$path: jupyterhub url");
	is($i->{'cli-minimal-version'}, '0.74.0', "$path: cli-minimal-version");
	is($i->{'cli-requires-python'}, '>=3.10', "$path: cli-requires-python");
	is_deeply($i->{'cli-bad-versions'}, [], "$path: cli-bad-versions");
	return $r;
}

my $info = check_info('/api/info/');
check_info('/api/info/?format=json');
check_info('/api/info');
check_info('/server-info');
check_info('/server-info/');
check_info('/api/info/', token => $t->user('alice'));
is($t->get('/server-info')->{body}, $info->{body}, '/server-info is the same document');

# robots.txt and the landing page
my $r = $t->get('/robots.txt');
is($r->{status}, 200, 'robots.txt');
like($r->{headers}{'content-type'} // '', qr{^text/plain}, 'robots.txt is text/plain');
like($r->{body}, qr{^User-agent: Googlebot$}m, 'robots: Googlebot section');
like($r->{body}, qr{^Allow: /api/info/$}m, 'robots: info allowed');
like($r->{body}, qr{^Allow: /api/dandisets/\*/$}m, 'robots: dandiset pages allowed');
like($r->{body}, qr{User-agent: \*\nDisallow: /\n?\z}, 'robots: everyone else disallowed');
# nginx serves the web app at / and sends every other non-API path (a
# client-side route such as /dandiset/000001) to its index.html.
$r = $t->get('/');
is($r->{status}, 200, 'web app at /');
like($r->{headers}{'content-type'} // '', qr{^text/html}, 'web app is HTML');
like($r->{body}, qr{<div id="?app"?}, 'web app mount point');
my $route = $t->get('/dandiset/000001/draft');
is_deeply([ $route->{status}, $route->{body} ], [ 200, $r->{body} ], 'client-side route gets index.html');
like($route->{headers}{'cache-control'} // '', qr/no-cache/, 'index.html is revalidated');

# Unknown paths: JSON 404, with and without the trailing slash.
for my $path ('/api/nope/', '/api/nope', '/api/dandisets/000001/nope/',
    '/api/dandisets/00001/', '/api/dandisets/0000001/', '/api/dandisets/abcdef/',
    '/api/dandisets/000001/versions/1.0/', '/api/info/extra/') {
	$r = $t->get($path);
	is($r->{status}, 404, "GET $path: 404");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "GET $path: JSON");
	is_deeply($r->{json}, { detail => 'Not found.' }, "GET $path: detail");
}
$r = $t->request('POST', '/api/nope/', json => {});
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Not found.' } ], 'POST to an unknown path: 404');

# Known paths, wrong method: JSON 405 with Allow.
my @cases = (
	[ 'POST', '/api/info/', 'GET' ],
	[ 'DELETE', '/api/info', 'GET' ],
	[ 'PATCH', '/api/dandisets/', 'GET, POST' ],
	[ 'PUT', '/api/dandisets', 'GET, POST' ],
	[ 'GET', '/api/dandisets/000001/star/', 'POST, DELETE' ],
	[ 'PATCH', '/api/dandisets/000001/versions/draft/', 'GET, PUT, DELETE' ],
	[ 'POST', '/robots.txt', 'GET' ],
);
for my $c (@cases) {
	my ($m, $path, $allow) = @$c;
	$r = $t->request($m, $path, json => {});
	is($r->{status}, 405, "$m $path: 405");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "$m $path: JSON");
	is_deeply($r->{json}, { detail => "Method \"$m\" not allowed." }, "$m $path: detail");
	is($r->{headers}{allow}, $allow, "$m $path: Allow");
}

$r = $t->request('HEAD', '/api/info/');
is($r->{status}, 200, 'HEAD /api/info/');
is($r->{body} // '', '', 'HEAD has no body');
is($t->get('/api/info/')->{status}, 200, 'still answering');

# The models the schema view takes (the original's schema_list_view).
for my $path ('/api/schemas/available/', '/api/schemas/available', '/api/schemas/available/?version=x') {
	$r = $t->get($path, ($path =~ /x$/ ? (token => $t->user('bob')) : ()));
	is($r->{status}, 200, "$path: 200");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "$path: JSON");
	is_deeply($r->{json}, [qw(Dandiset Asset PublishedDandiset PublishedAsset)], "$path: the four models");
}
# ... each of which the schema view serves.
for my $m (@{ $t->get('/api/schemas/available/')->{json} }) {
	is($t->get("/api/schemas/?model=$m")->{status}, 200, "available model $m is served");
}
$r = $t->request('POST', '/api/schemas/available/', json => {});
is($r->{status}, 405, 'POST /api/schemas/available/: 405');

# The web app's "Open with" viewers: the original app's list by default.
$r = $t->get('/api/external-services/');
is($r->{status}, 200, 'external services: 200');
is_deeply([ sort keys %{ $r->{json} } ], [qw(asset dandiset)], 'external services: dandiset and asset lists');
is_deeply([ map { $_->{name} } @{ $r->{json}{dandiset} } ], ['Neurosift'], 'for a dandiset: Neurosift');
is_deeply([ map { $_->{name} } @{ $r->{json}{asset} } ], [ 'Bioimagesuite/Viewer', 'MetaCell/NWBExplorer',
    'VTK/ITK Viewer', 'OME Zarr validator', ('Neurosift') x 4, 'Neuroglancer', 'NeuroGlass' ], "per file: the original's");
my ($nwbx) = grep { $_->{name} eq 'MetaCell/NWBExplorer' } @{ $r->{json}{asset} };
is_deeply($nwbx, { name => 'MetaCell/NWBExplorer', regex => '\.nwb$', maxsize => 1e9,
    endpoint => 'http://nwbexplorer.opensourcebrain.org/nwbfile=$asset_url$' }, 'NWB Explorer: regex, 1 GB, template');
is($t->request('POST', '/api/external-services/', json => {})->{status}, 405, 'POST /api/external-services/: 405');

# external_services_file: served as given; a malformed one stops dandi-api at start.
my $ext = $t->dir . '/external-services.json';
sub write_ext { open(my $fh, '>', $ext) or die; print $fh $_[0]; close $fh }
write_ext('{"dandiset": [], "asset": [{"name": "Viewer", "regex": "\\\\.tif$", "maxsize": null,'
    . ' "endpoint": "https://viewer.example/?u=$asset_url$"}]}');
$t->stop_api;
$t->env->{DANDI_EXTERNAL_SERVICES_FILE} = $ext;
$t->start_api;
is_deeply($t->get('/api/external-services/')->{json}, { dandiset => [], asset => [ { name => 'Viewer', regex => '\\.tif$',
    maxsize => undef, endpoint => 'https://viewer.example/?u=$asset_url$' } ] }, 'external_services_file: its lists');
$t->stop_api;
for my $bad ([ 'not JSON', '{', qr/external-services\.json/ ], [ 'no asset list', '{"dandiset": []}', qr/"asset" must be a list/ ],
    [ 'a regex that does not compile', '{"dandiset": [], "asset": [{"name": "x", "regex": "(", "endpoint": "https://x.example/"}]}',
      qr/"asset" entry 1: regex does not compile/ ],
    [ 'a javascript: endpoint', '{"dandiset": [{"name": "x", "endpoint": "javascript:alert(1)"}], "asset": []}',
      qr/"dandiset" entry 1: endpoint must be an http\(s\) URL template/ ],
    [ 'a size that is no number', '{"dandiset": [], "asset": [{"name": "x", "regex": "a", "maxsize": "big", "endpoint": "https://x.example/"}]}',
      qr/maxsize must be a number of bytes or null/ ]) {
	my ($what, $json, $want) = @$bad;
	write_ext($json);
	my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-api', '-s', $t->dir . '/run/bad.sock', '-n', 1);
	is($rc, 1, "dandi-api refuses to start with $what in external_services_file");
	like($err, $want, '... saying what is wrong');
}
delete $t->env->{DANDI_EXTERNAL_SERVICES_FILE};
$t->start_api;

done_testing;
