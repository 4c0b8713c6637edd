# The authorization matrix: every route of src/api/routes.c, called by every
# role (anonymous, unapproved, approved non-owner, owner, admin) on an open
# and an embargoed dandiset, with the status the original archive answers.
# A route missing from the matrix fails the test: it grows with the API.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;

my $t = DandiTest->new(s3 => 1, workers => 2);
my %tok = (
	anon => undef,
	pending => $t->user('pending', status => 'PENDING'),
	stranger => $t->user('stranger'),
	owner => $t->user('owner', first => 'Olive', last => 'Owner'),
	admin => $t->admin_token,
);
my @ROLES = qw(anon pending stranger owner admin);

sub make {
	my ($embargo) = @_;
	my $r = $t->post('/api/dandisets/' . ($embargo ? '?embargo=true' : ''), { name => 'M', metadata => {} },
	    token => $tok{owner});
	die "create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my %ds = (open => make(0), embargoed => make(1));

# A blob and an asset in each dandiset, for the asset routes.
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('11111111-2222-4333-8444-555555555555',"
    . " 'blobs/111/111/11111111-2222-4333-8444-555555555555', '0123456789abcdef0123456789abcdef-1', 10)");
my $BLOB = '11111111-2222-4333-8444-555555555555';
my $n = 0;
sub new_asset_body { { blob_id => $BLOB, metadata => { path => 'f' . ++$n . '.nwb' } } }
sub make_asset {
	my ($id) = @_;
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/", new_asset_body(), token => $tok{owner});
	die "asset create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
my %asset = map { ($_ => make_asset($ds{$_})) } keys %ds;

# A pending upload in each dandiset, for the upload routes.
my $netag = 0;
sub init_body { { contentSize => 1, dandiset => $_[0],
    digest => { algorithm => 'dandi:dandi-etag', value => sprintf('%032x-1', 1000 + ++$netag) } } }
my %upload = map {
	my $r = $t->post('/api/uploads/initialize/', init_body($ds{$_}), token => $tok{owner});
	die "initialize failed: $r->{body}" unless $r->{status} == 200;
	($_ => $r->{json}{upload_id});
} keys %ds;
my $complete = { parts => [ { part_number => 1, size => 1, etag => 'abc' } ] };

# A zarr in each dandiset, for the zarr routes (finalize takes a new one).
my $nz = 0;
sub zarr_body { { name => 'z' . ++$nz . '.zarr', dandiset => $_[0] } }
sub make_zarr {
	my ($id) = @_;
	my $r = $t->post('/api/zarr/', zarr_body($id), token => $tok{owner});
	die "zarr create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{zarr_id};
}
# (in dandisets of their own: a zarr keeps a dandiset from being published)
my %zarr = map { ($_ => make_zarr(make($_ eq 'embargoed'))) } keys %ds;
my $zfiles = [ { path => 'a/0', base64md5 => '1B2M2Y8AsgTpgAmY7PhCfg==' } ];

my $md = { name => 'M', metadata => {} };
my $owners = [ { username => 'owner' } ];
# [ method, route, body, expected on the open dandiset, on the embargoed one
#   (undef: the route has no dandiset), fresh dandiset per call? ]
my @MATRIX = (
	[ 'GET', '/', undef, '200 200 200 200 200' ],
	[ 'GET', '/robots.txt', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/info/', undef, '200 200 200 200 200' ],
	[ 'GET', '/server-info', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/stats/', undef, '200 200 200 200 200' ],
	# Beyond the original: download counts of the open dandisets.
	[ 'GET', '/api/stats/downloads/', undef, '200 200 200 200 200' ],
	# Without ?model= the schema view is a 400 (DRF's required field) for everyone.
	[ 'GET', '/api/schemas/', undef, '400 400 400 400 400' ],
	[ 'GET', '/api/schemas/available/', undef, '200 200 200 200 200' ],
	# The API's documentation: public; /api/docs/ without format goes to
	# the Swagger UI page, the old addresses redirect permanently.
	[ 'GET', '/api/docs/', undef, '302 302 302 302 302' ],
	[ 'GET', '/api/docs/?format=openapi', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/docs/swagger/', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/docs/redoc/', undef, '200 200 200 200 200' ],
	[ 'GET', '/swagger/', undef, '301 301 301 301 301' ],
	[ 'GET', '/redoc/', undef, '301 301 301 301 301' ],
	[ 'GET', '/api/users/me/', undef, '401 200 200 200 200' ],
	[ 'GET', '/api/users/search/', undef, '401 403 200 200 200' ],
	# Asset-level search: public (embargoed rows only for their owners).
	[ 'GET', '/api/dandisets/search/', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/search/genotypes/', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/search/species/', undef, '200 200 200 200 200' ],
	[ 'GET', '/api/users/', undef, '401 403 403 403 200' ],
	[ 'GET', '/api/auth/token/', undef, '401 403 200 200 200' ],
	[ 'POST', '/api/auth/token/', undef, '401 403 200 200 200' ],
	[ 'GET', '/api/audit/events/asset', undef, '401 403 403 403 200' ],
	# Server-rendered pages. Their POSTs take forms only (415 for JSON);
	# the staff pages send anonymous browsers to sign in (302).
	[ 'GET', '/api/users/questionnaire-form/', undef, '302 200 200 200 200' ],
	[ 'POST', '/api/users/questionnaire-form/', undef, '302 415 415 415 415' ],
	[ 'GET', '/accounts/login/', undef, '200 200 200 200 200' ],
	[ 'POST', '/accounts/login/', undef, '415 415 415 415 415' ],
	[ 'GET', '/accounts/signup/', undef, '200 200 200 200 200' ],
	[ 'POST', '/accounts/signup/', undef, '415 415 415 415 415' ],
	[ 'GET', '/accounts/logout/', undef, '200 200 200 200 200' ],
	[ 'POST', '/accounts/logout/', undef, '415 415 415 415 415' ],
	# No upstream provider is configured here (t/68-identity.t has one).
	[ 'GET', '/accounts/upstream/login/', undef, '404 404 404 404 404' ],
	[ 'GET', '/accounts/upstream/callback/', undef, '404 404 404 404 404' ],
	[ 'GET', '/oauth/authorize/', undef, '400 400 400 400 400' ],
	[ 'POST', '/oauth/token/', undef, '415 415 415 415 415' ],
	[ 'POST', '/oauth/revoke_token/', undef, '415 415 415 415 415' ],
	[ 'GET', '/dashboard/', undef, '302 403 403 403 200' ],
	[ 'GET', '/dashboard/user/{username}/', undef, '302 403 403 403 200' ],
	[ 'POST', '/dashboard/user/{username}/', undef, '302 403 403 403 415' ],
	[ 'GET', '/api/dandisets/', undef, '200 200 200 200 200' ],
	[ 'POST', '/api/blobs/digest/', { algorithm => 'dandi:dandi-etag', value => 'unknown' }, '404 404 404 404 404' ],
	[ 'POST', '/api/dandisets/', $md, '401 403 200 200 200' ],
	[ 'GET', '/api/dandisets/{id}/', undef, '200 200 200 200 200', '401 403 403 200 200' ],
	[ 'DELETE', '/api/dandisets/{id}/', undef, '401 403 403 204 204', '401 403 403 204 204', 'fresh' ],
	# Open: 400 "Dandiset not embargoed" for owners; a fresh embargoed one
	# starts unembargoing (200).
	[ 'POST', '/api/dandisets/{id}/unembargo/', undef, '401 403 403 400 400', '401 403 403 200 200', 'fresh' ],
	[ 'POST', '/api/dandisets/{id}/star/', undef, '401 403 200 200 200', '401 403 403 200 200' ],
	[ 'DELETE', '/api/dandisets/{id}/star/', undef, '401 403 200 200 200', '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/users/', undef, '200 200 200 200 200', '401 403 403 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/users/', $owners, '401 403 403 200 200', '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/audit/', undef, '401 403 403 200 200', '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/', undef, '200 200 200 200 200', '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/', undef, '200 200 200 200 200', '401 403 403 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/versions/{version}/', $md, '401 403 403 200 200', '401 403 403 200 200' ],
	[ 'DELETE', '/api/dandisets/{id}/versions/{version}/', undef, '401 403 403 403 403', '401 403 403 403 403' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/info/', undef, '200 200 200 200 200', '401 403 403 200 200' ],
	# Owners get past the checks to the draft's status (Pending: 409).
	[ 'POST', '/api/dandisets/{id}/versions/{version}/publish/', undef, '401 403 403 409 409', '401 403 403 400 400' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/', undef, '200 200 200 200 200', '401 403 403 200 200' ],
	[ 'POST', '/api/dandisets/{id}/versions/{version}/assets/', \&new_asset_body, '401 403 403 200 200',
	    '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/paths/', undef, '200 200 200 200 200',
	    '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/', undef, '200 200 200 200 200',
	    '401 403 403 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/versions/{version}/assets/{asset}/', 'same', '401 403 403 200 200',
	    '401 403 403 200 200' ],
	[ 'DELETE', '/api/dandisets/{id}/versions/{version}/assets/{asset}/', undef, '401 403 403 204 204',
	    '401 403 403 204 204', 'fresh_asset' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/info/', undef, '200 200 200 200 200',
	    '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/validation/', undef, '200 200 200 200 200',
	    '401 403 403 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/download/', undef, '302 302 302 302 302',
	    '401 403 403 302 302' ],
	# WebDAV helper: without dandiset_id/version_id a 400 for everyone; at
	# a dandiset's root, the dandiset's read rule.
	[ 'GET', '/api/webdav/assets/atpath/', undef, '400 400 400 400 400' ],
	[ 'GET', '/api/webdav/assets/atpath/?dandiset_id={id}&version_id={version}&children=true', undef,
	    '200 200 200 200 200', '401 403 403 200 200' ],
	# The asset's own routes follow its blob's embargo (this blob is open).
	[ 'GET', '/api/assets/{asset}/', undef, '200 200 200 200 200', '200 200 200 200 200' ],
	[ 'GET', '/api/assets/{asset}/info/', undef, '200 200 200 200 200', '200 200 200 200 200' ],
	[ 'GET', '/api/assets/{asset}/download/', undef, '302 302 302 302 302', '302 302 302 302 302' ],
	# Any approved user may complete or validate an open upload (as the
	# original); an embargoed one is invisible to non-owners.
	[ 'POST', '/api/uploads/initialize/', \&init_body, '401 403 403 200 200', '401 403 404 200 200' ],
	[ 'POST', '/api/uploads/{upload}/complete/', $complete, '401 403 200 200 200', '401 403 404 200 200' ],
	[ 'POST', '/api/uploads/{upload}/validate/', undef, '401 403 400 400 400', '401 403 404 400 400' ],
	# The archive's completion URL: its signature is the permission, not
	# the caller (the client posts it without credentials); unsigned, 403
	# for every role (t/81-client-upload.t signs).
	[ 'POST', '/api/uploads/{upload}/s3-complete/', undef, '403 403 403 403 403', '403 403 403 403 403' ],
	[ 'GET', '/api/dandisets/{id}/uploads/', undef, '401 403 403 200 200', '401 403 403 200 200' ],
	[ 'DELETE', '/api/dandisets/{id}/uploads/', undef, '401 403 403 204 204', '401 403 403 204 204' ],
	# Zarrs: invisible (embargoed, not owned) is 404; no DELETE of a zarr
	# itself (405 after the permission checks, as DRF).
	[ 'GET', '/api/zarr/', undef, '200 200 200 200 200' ],
	[ 'POST', '/api/zarr/', \&zarr_body, '401 403 403 200 200', '401 403 400 200 200' ],
	[ 'GET', '/api/zarr/{zarr}/', undef, '200 200 200 200 200', '404 404 404 200 200' ],
	[ 'DELETE', '/api/zarr/{zarr}/', undef, '401 403 405 405 405', '401 403 405 405 405' ],
	[ 'POST', '/api/zarr/{zarr}/finalize/', undef, '401 403 403 204 204', '401 403 404 204 204', 'fresh_zarr' ],
	[ 'GET', '/api/zarr/{zarr}/files/', undef, '200 200 200 200 200', '404 404 404 200 200' ],
	[ 'POST', '/api/zarr/{zarr}/files/', $zfiles, '401 403 403 200 200', '401 403 404 200 200' ],
	[ 'DELETE', '/api/zarr/{zarr}/files/', [ { path => 'nope' } ], '401 403 403 400 400', '401 403 404 400 400' ],
);

# Every route in the route table has a row, and each row agrees with the
# rules the table gives its route: who may call it and what it names
# (src/api/api.h), which answer some roles before the handler runs.
open(my $fh, '<', 'src/api/routes.c') or die "routes.c: $!";
my %covered = map { ("$_->[0] $_->[1]" => 1) } @MATRIX;
my %rules;
while (my $line = <$fh>) {
	next unless $line =~ /^\s*\{\s*"([A-Z]+)",\s*(.*?),\s*\w+,\s*([\w |]+?),\s*(T_\w+)\s*\},/;
	my ($m, $expr, $flags, $target) = ($1, $2, $3, $4);
	my %macro = (DANDISET_PATH => '/api/dandisets/{id}', VERSION_RE => '{version}', UUID_RE => '{asset}',
	    ASSETS_PATH => '/api/dandisets/{id}/versions/{version}/assets', USERNAME_RE => '{username}');
	my $path = join '', map { $macro{$_} // $_ }
	    map { /^"(.*)"$/ ? $1 : $_ } ($expr =~ /("[^"]*"|\w+)/g);
	$path =~ s{^/api/uploads/\{asset\}}{/api/uploads/{upload}};
	$path =~ s{^/api/zarr/\{asset\}}{/api/zarr/{zarr}};
	ok($covered{"$m $path"}, "route $m $path is in the matrix");
	my ($access) = $flags =~ /\b(ANYONE|SIGNED_IN|APPROVED|STAFF)\b/;
	$rules{"$m $path"} = [ $access // 'none', $target ];
}
ok(scalar(keys %rules) == scalar(grep { /^\s*\{\s*"[A-Z]+",/ } do { seek $fh, 0, 0; <$fh> }),
    'every row of routes.c was read with its rules');

# What the rules answer each role on a dandiset of this kind, where they
# decide: the access first (DRF's permission classes), then the target's
# look-up for those who got past (owners and admins always do).
sub decided {
	my ($access, $target, $kind) = @_;
	my %want = $access eq 'SIGNED_IN' ? (anon => 401)
	    : $access eq 'APPROVED' ? (anon => 401, pending => 403)
	    : $access eq 'STAFF' ? (anon => 401, pending => 403, stranger => 403, owner => 403) : ();
	my @others = grep { !exists $want{$_} } qw(anon pending stranger);
	my $read = sub { $want{$_} = $_ eq 'anon' ? 401 : 403 for @others };
	if ($target =~ /^T_(DANDISET|VERSION|ASSETS_VERSION)$/) {
		$read->() if $kind eq 'embargoed';
	} elsif ($target eq 'T_DANDISET_OWNER') {
		$read->();
	} elsif ($target =~ /^T_(GUARDIAN|VERSION_WRITE|DRAFT_WRITE)$/) {
		$want{$_} = 403 for @others;
	} elsif ($target =~ /^T_(ZARR|ZARR_LOCKED|UPLOAD)$/) {
		$want{$_} = 404 for $kind eq 'embargoed' ? @others : ();
	}
	return \%want;
}
for my $row (@MATRIX) {
	my ($m, $tpl, undef, $open, $emb) = @$row;
	(my $route = $tpl) =~ s/\?.*//;
	my $r = $rules{"$m $route"} or next;
	for my $kind ('open', 'embargoed') {
		my $want = $kind eq 'open' ? $open : $emb;
		next unless defined $want;
		my %got;
		@got{@ROLES} = split ' ', $want;
		my $d = decided(@$r, $kind);
		is($got{$_}, $d->{$_}, "$m $tpl ($kind): $_ gets $d->{$_} by the rules $r->[0], $r->[1]")
		    for grep { exists $d->{$_} } @ROLES;
	}
}

for my $row (@MATRIX) {
	my ($m, $tpl, $body, $open, $emb, $fresh) = @$row;
	for my $kind ('open', 'embargoed') {
		my $want = $kind eq 'open' ? $open : $emb;
		next unless defined $want;
		my @want = split ' ', $want;
		for my $i (0 .. $#ROLES) {
			my $id = $fresh && $fresh eq 'fresh' ? make($kind eq 'embargoed') : $ds{$kind};
			my $a = $fresh && $fresh eq 'fresh_asset' ? make_asset($id) : $asset{$kind};
			(my $path = $tpl) =~ s/\{id\}/$id/;
			$path =~ s/\{version\}/draft/;
			$path =~ s/\{asset\}/$a->{asset_id}/;
			$path =~ s/\{upload\}/$upload{$kind}/;
			my $zr = $fresh && $fresh eq 'fresh_zarr' ? make_zarr($id) : $zarr{$kind};
			$path =~ s/\{zarr\}/$zr/;
			$path =~ s/\{username\}/pending/;
			my $data = ref $body eq 'CODE' ? $body->($id) : defined $body && !ref $body && $body eq 'same'
			    ? { blob_id => $BLOB, metadata => { path => $a->{path} } } : $body;
			my $r = $t->request($m, $path, (defined $data ? (json => $data) : ()), token => $tok{ $ROLES[$i] });
			is($r->{status}, $want[$i], "$m $tpl ($kind): $ROLES[$i] -> $want[$i]")
			    or diag($r->{body});
			# Rotating the key retires the old one: carry on with the new.
			$tok{ $ROLES[$i] } = $r->{json} if $m eq 'POST' && $tpl eq '/api/auth/token/' && $r->{status} == 200;
		}
		last unless $tpl =~ /\{id\}|\{asset\}|\{upload\}|\{zarr\}/ || ref $body eq 'CODE';
	}
}

# Unknown dandisets are 404 for everyone who gets past authentication.
for my $role (qw(stranger owner admin)) {
	is($t->get('/api/dandisets/999999/', token => $tok{$role})->{status}, 404, "unknown dandiset: $role 404");
	is($t->put('/api/dandisets/999999/users/', $owners, token => $tok{$role})->{status}, 404,
	    "unknown dandiset owners: $role 404");
}

done_testing;
