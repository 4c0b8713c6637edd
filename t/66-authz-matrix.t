# The authorization matrix: every route of src/api/routes.c, called by every
# role (anonymous, unapproved, approved non-owner, owner, admin, and the
# holder of an access link to the embargoed dandiset, sent as the dandi
# client sends a key) on an open and an embargoed dandiset, with the status
# the original archive answers (the link: ours; t/65-access-links.t has its
# other carriers).
# A route missing from the matrix fails the test: it grows with the API.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use Upload ();

my $t = DandiTest->new(s3 => 1, workers => 2);
my %tok = (
	anon => undef,
	pending => $t->user('pending', status => 'PENDING'),
	stranger => $t->user('stranger'),
	owner => $t->user('owner', first => 'Olive', last => 'Owner'),
	admin => $t->admin_token,
);
my @ROLES = qw(anon pending stranger owner admin link);

sub make {
	my ($embargo) = @_;
	my $r = $t->post('/api/dandisets/' . ($embargo ? '?embargo=true' : ''), { name => 'M', metadata => {} },
	    token => $tok{owner});
	die "create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my %ds = (open => make(0), embargoed => make(1));
# The link holder reads the embargoed dandiset and nothing else: no user,
# so every other route refuses it as anonymous.
sub make_link {
	my $r = $t->post("/api/dandisets/$ds{embargoed}/access-links/", { label => $_[0] }, token => $tok{owner});
	die "access link failed: $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}
$tok{link} = make_link('matrix')->{token};

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
# Expected statuses per role, in the order of @ROLES.
my @MATRIX = (
	[ 'GET', '/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/robots.txt', undef, '200 200 200 200 200 200' ],
	# Prometheus's scrape: by address (metrics_allow, loopback here), not by user.
	[ 'GET', '/metrics', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/info/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/health/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/server-info', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/stats/', undef, '200 200 200 200 200 200' ],
	# Beyond the original: download counts of the open dandisets.
	[ 'GET', '/api/stats/downloads/', undef, '200 200 200 200 200 200' ],
	# Without ?model= the schema view is a 400 (DRF's required field) for everyone.
	[ 'GET', '/api/schemas/', undef, '400 400 400 400 400 400' ],
	[ 'GET', '/api/schemas/available/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/external-services/', undef, '200 200 200 200 200 200' ],
	# The API's documentation: public; /api/docs/ without format goes to
	# the Swagger UI page, the old addresses redirect permanently.
	[ 'GET', '/api/docs/', undef, '302 302 302 302 302 302' ],
	[ 'GET', '/api/docs/?format=openapi', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/docs/swagger/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/docs/redoc/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/swagger/', undef, '301 301 301 301 301 301' ],
	[ 'GET', '/redoc/', undef, '301 301 301 301 301 301' ],
	[ 'GET', '/api/users/me/', undef, '401 200 200 200 200 401' ],
	[ 'GET', '/api/users/search/', undef, '401 403 200 200 200 401' ],
	# Asset-level search: public (embargoed rows only for their owners).
	[ 'GET', '/api/dandisets/search/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/search/genotypes/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/search/species/', undef, '200 200 200 200 200 200' ],
	[ 'GET', '/api/users/', undef, '401 403 403 403 200 401' ],
	# The link sent as the key gets itself back (the dandi client checks a
	# key there before using it).
	[ 'GET', '/api/auth/token/', undef, '401 403 200 200 200 200' ],
	[ 'POST', '/api/auth/token/', undef, '401 403 200 200 200 401' ],
	[ 'GET', '/api/audit/events/asset', undef, '401 403 403 403 200 401' ],
	# Server-rendered pages. Their POSTs take forms only (415 for JSON);
	# the staff pages send anonymous browsers to sign in (302).
	[ 'GET', '/api/users/questionnaire-form/', undef, '302 200 200 200 200 302' ],
	[ 'POST', '/api/users/questionnaire-form/', undef, '302 415 415 415 415 302' ],
	[ 'GET', '/accounts/login/', undef, '200 200 200 200 200 200' ],
	[ 'POST', '/accounts/login/', undef, '415 415 415 415 415 415' ],
	[ 'GET', '/accounts/signup/', undef, '200 200 200 200 200 200' ],
	[ 'POST', '/accounts/signup/', undef, '415 415 415 415 415 415' ],
	[ 'GET', '/accounts/logout/', undef, '200 200 200 200 200 200' ],
	[ 'POST', '/accounts/logout/', undef, '415 415 415 415 415 415' ],
	# No upstream provider is configured here (t/68-identity.t has one).
	[ 'GET', '/accounts/upstream/login/', undef, '404 404 404 404 404 404' ],
	[ 'GET', '/accounts/upstream/callback/', undef, '404 404 404 404 404 404' ],
	[ 'GET', '/oauth/authorize/', undef, '400 400 400 400 400 400' ],
	[ 'POST', '/oauth/token/', undef, '415 415 415 415 415 415' ],
	[ 'POST', '/oauth/revoke_token/', undef, '415 415 415 415 415 415' ],
	[ 'GET', '/dashboard/', undef, '302 403 403 403 200 302' ],
	[ 'GET', '/dashboard/user/{username}/', undef, '302 403 403 403 200 302' ],
	[ 'POST', '/dashboard/user/{username}/', undef, '302 403 403 403 415 302' ],
	[ 'GET', '/api/dandisets/', undef, '200 200 200 200 200 200' ],
	[ 'POST', '/api/blobs/digest/', { algorithm => 'dandi:dandi-etag', value => 'unknown' }, '404 404 404 404 404 404' ],
	[ 'POST', '/api/dandisets/', $md, '401 403 200 200 200 401' ],
	[ 'GET', '/api/dandisets/{id}/', undef, '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	[ 'DELETE', '/api/dandisets/{id}/', undef, '401 403 403 204 204 401', '401 403 403 204 204 401', 'fresh' ],
	# Open: 400 "Dandiset not embargoed" for owners; a fresh embargoed one
	# starts unembargoing (200).
	[ 'POST', '/api/dandisets/{id}/unembargo/', undef, '401 403 403 400 400 401', '401 403 403 200 200 401', 'fresh' ],
	# Beyond the original: the embargo's end date, owners only (open: 400
	# "Dandiset not embargoed" on PUT).
	[ 'GET', '/api/dandisets/{id}/embargo/', undef, '401 403 403 200 200 401', '401 403 403 200 200 401' ],
	[ 'PUT', '/api/dandisets/{id}/embargo/', { embargoedUntil => POSIX::strftime('%Y-%m-%d', gmtime(time + 365 * 86400)) },
	    '401 403 403 400 400 401', '401 403 403 200 200 401' ],
	[ 'POST', '/api/dandisets/{id}/star/', undef, '401 403 200 200 200 401', '401 403 403 200 200 401' ],
	[ 'DELETE', '/api/dandisets/{id}/star/', undef, '401 403 200 200 200 401', '401 403 403 200 200 401' ],
	[ 'GET', '/api/dandisets/{id}/users/', undef, '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/users/', $owners, '401 403 403 200 200 401', '401 403 403 200 200 401' ],
	[ 'GET', '/api/dandisets/{id}/audit/', undef, '401 403 403 200 200 401', '401 403 403 200 200 401' ],
	[ 'GET', '/api/dandisets/{id}/versions/', undef, '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/', undef, '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/versions/{version}/', $md, '401 403 403 200 200 401', '401 403 403 200 200 401' ],
	[ 'DELETE', '/api/dandisets/{id}/versions/{version}/', undef, '401 403 403 403 403 401', '401 403 403 403 403 401' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/info/', undef, '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	# Owners get past the checks to the draft's status (Pending: 409).
	[ 'POST', '/api/dandisets/{id}/versions/{version}/publish/', undef, '401 403 403 409 409 401', '401 403 403 400 400 401' ],
	# Beyond the original: what changed between two versions (the draft
	# against itself here), by the read rule.
	[ 'GET', '/api/dandisets/{id}/versions/{version}/diff/{version}/', undef, '200 200 200 200 200 200',
	    '401 403 403 200 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/', undef, '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	[ 'POST', '/api/dandisets/{id}/versions/{version}/assets/', \&new_asset_body, '401 403 403 200 200 401',
	    '401 403 403 200 200 401' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/paths/', undef, '200 200 200 200 200 200',
	    '401 403 403 200 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/', undef, '200 200 200 200 200 200',
	    '401 403 403 200 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/versions/{version}/assets/{asset}/', 'same', '401 403 403 200 200 401',
	    '401 403 403 200 200 401' ],
	[ 'DELETE', '/api/dandisets/{id}/versions/{version}/assets/{asset}/', undef, '401 403 403 204 204 401',
	    '401 403 403 204 204 401', 'fresh_asset' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/info/', undef, '200 200 200 200 200 200',
	    '401 403 403 200 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/validation/', undef, '200 200 200 200 200 200',
	    '401 403 403 200 200 200' ],
	[ 'GET', '/api/dandisets/{id}/versions/{version}/assets/{asset}/download/', undef, '302 302 302 302 302 302',
	    '401 403 403 302 302 302' ],
	# WebDAV helper: without dandiset_id/version_id a 400 for everyone; at
	# a dandiset's root, the dandiset's read rule.
	[ 'GET', '/api/webdav/assets/atpath/', undef, '400 400 400 400 400 400' ],
	[ 'GET', '/api/webdav/assets/atpath/?dandiset_id={id}&version_id={version}&children=true', undef,
	    '200 200 200 200 200 200', '401 403 403 200 200 200' ],
	# The asset's own routes follow its blob's embargo (this blob is open).
	[ 'GET', '/api/assets/{asset}/', undef, '200 200 200 200 200 200', '200 200 200 200 200 200' ],
	[ 'GET', '/api/assets/{asset}/info/', undef, '200 200 200 200 200 200', '200 200 200 200 200 200' ],
	[ 'GET', '/api/assets/{asset}/download/', undef, '302 302 302 302 302 302', '302 302 302 302 302 302' ],
	# Any approved user may complete or validate an open upload (as the
	# original); an embargoed one is invisible to non-owners.
	[ 'POST', '/api/uploads/initialize/', \&init_body, '401 403 403 200 200 401', '401 403 404 200 200 401' ],
	[ 'POST', '/api/uploads/{upload}/complete/', $complete, '401 403 200 200 200 401', '401 403 404 200 200 401' ],
	[ 'POST', '/api/uploads/{upload}/validate/', undef, '401 403 400 400 400 401', '401 403 404 400 400 401' ],
	# The archive's completion URL: its signature is the permission, not
	# the caller (the client posts it without credentials); unsigned, 403
	# for every role (t/81-client-upload.t signs).
	[ 'POST', '/api/uploads/{upload}/s3-complete/', undef, '403 403 403 403 403 403', '403 403 403 403 403 403' ],
	# Access links: owners only (the link holder: no user, 401); none for
	# an open dandiset (400; its path with a link of the embargoed one: 404).
	[ 'GET', '/api/dandisets/{id}/access-links/', undef, '401 403 403 200 200 401', '401 403 403 200 200 401' ],
	[ 'POST', '/api/dandisets/{id}/access-links/', { label => 'm' }, '401 403 403 400 400 401',
	    '401 403 403 201 201 401' ],
	[ 'DELETE', '/api/dandisets/{id}/access-links/{link}/', undef, '401 403 403 404 404 401',
	    '401 403 403 204 204 401', 'fresh_link' ],
	# The public access-request side: open dandisets are readable anyway;
	# an embargoed one whose owners take no requests is hidden (404) from
	# whoever cannot read it. Sending: only where requests are on (400).
	[ 'GET', '/api/dandisets/{id}/access-request/', undef, '200 200 200 200 200 200', '404 404 404 200 200 200' ],
	[ 'PUT', '/api/dandisets/{id}/access-request/', { access_requests => JSON::PP::false }, '401 403 403 200 200 401',
	    '401 403 403 200 200 401' ],
	[ 'POST', '/api/dandisets/{id}/access-request/', { name => 'R', email => 'r@example.org', message => 'm' },
	    '400 400 400 400 400 400', '404 404 404 400 400 400' ],
	[ 'GET', '/api/dandisets/{id}/uploads/', undef, '401 403 403 200 200 401', '401 403 403 200 200 401' ],
	[ 'DELETE', '/api/dandisets/{id}/uploads/', undef, '401 403 403 204 204 401', '401 403 403 204 204 401' ],
	# Zarrs: invisible (embargoed, not owned) is 404; no DELETE of a zarr
	# itself (405 after the permission checks, as DRF). The zarrs here are
	# in dandisets of their own: to the link holder, another dandiset's
	# (its zarr reads: t/65-access-links.t).
	[ 'GET', '/api/zarr/', undef, '200 200 200 200 200 200' ],
	[ 'POST', '/api/zarr/', \&zarr_body, '401 403 403 200 200 401', '401 403 400 200 200 401' ],
	[ 'GET', '/api/zarr/{zarr}/', undef, '200 200 200 200 200 200', '404 404 404 200 200 404' ],
	[ 'DELETE', '/api/zarr/{zarr}/', undef, '401 403 405 405 405 401', '401 403 405 405 405 401' ],
	[ 'POST', '/api/zarr/{zarr}/finalize/', undef, '401 403 403 204 204 401', '401 403 404 204 204 401', 'fresh_zarr' ],
	[ 'GET', '/api/zarr/{zarr}/files/', undef, '200 200 200 200 200 200', '404 404 404 200 200 404' ],
	[ 'POST', '/api/zarr/{zarr}/files/', $zfiles, '401 403 403 200 200 401', '401 403 404 200 200 401' ],
	[ 'DELETE', '/api/zarr/{zarr}/files/', [ { path => 'nope' } ], '401 403 403 400 400 401', '401 403 404 400 400 401' ],
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
	    ASSETS_PATH => '/api/dandisets/{id}/versions/{version}/assets', USERNAME_RE => '{username}',
	    LINK_ID_RE => '{link}');
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
	# The link holder has no user: refused as anonymous by who may call.
	$want{link} = 401 if $access =~ /^(SIGNED_IN|APPROVED|STAFF)$/;
	my @others = grep { !exists $want{$_} } qw(anon pending stranger);
	my $read = sub { $want{$_} = $_ eq 'anon' ? 401 : 403 for @others };
	if ($target =~ /^T_(DANDISET|VERSION|ASSETS_VERSION)$/) {
		$read->() if $kind eq 'embargoed';	# (the link reads its dandiset)
	} elsif ($target eq 'T_DANDISET_OWNER') {
		$read->();
		$want{link} //= 401;	# read, but not an owner, and no user
	} elsif ($target =~ /^T_(GUARDIAN|VERSION_WRITE|DRAFT_WRITE)$/) {
		$want{$_} = 403 for @others;
		$want{link} //= 403;
	} elsif ($target =~ /^T_(ZARR|ZARR_LOCKED|UPLOAD)$/) {
		$want{$_} = 404 for $kind eq 'embargoed' ? (@others, exists $want{link} ? () : 'link') : ();
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
			$path =~ s/\{version\}/draft/g;
			$path =~ s/\{asset\}/$a->{asset_id}/;
			$path =~ s/\{upload\}/$upload{$kind}/;
			my $zr = $fresh && $fresh eq 'fresh_zarr' ? make_zarr($id) : $zarr{$kind};
			$path =~ s/\{zarr\}/$zr/;
			$path =~ s/\{username\}/pending/;
			$path =~ s/\{link\}/make_link('revoked')->{id}/e if $fresh && $fresh eq 'fresh_link';
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

# --- embargoed blobs: not reachable by knowing their blob_id --------------------------
# Whoever may not use an embargoed blob (an admin, or an owner of a dandiset
# that holds it: its upload was for that dandiset, or an asset of one of its
# versions has it) is answered, for that blob, exactly as for a blob that
# does not exist: attaching it (POST, PUT), the Location of a 409 from
# uploads/initialize, blobs/digest. Else they could copy it into a dandiset
# of their own, open or embargoed, and an open one would publish its bytes.
sub one { my @r = $t->psql($_[0]); $r[0][0] }
my $anon = HTTP::Tiny->new(timeout => 60, max_redirect => 0);
$tok{former} = $t->user('former');
$tok{carol} = $t->user('carol');
my $secret = "embargoed bytes of the authorization matrix\n" x 1000;
my $E = make(1);
is($t->put("/api/dandisets/$E/users/", [ { username => 'owner' }, { username => 'former' } ], token => $tok{owner})->{status},
    200, 'blob ids: former is an owner of the embargoed dandiset for a while');
my $up = Upload::upload($t, $tok{owner}, $E, $secret);
ok($up->{blob}, 'blob ids: the embargoed upload') or diag(explain($up));
my $B = $up->{blob}{blob_id};
sub attach {
	my ($who, $ds, $blob, $path) = @_;
	return $t->post("/api/dandisets/$ds/versions/draft/assets/", { blob_id => $blob, metadata => { path => $path } },
	    token => $tok{$who});
}
my $held = attach('owner', $E, $B, 'secret.bin');
is($held->{status}, 200, 'blob ids: the owner attaches the new blob');
my $listed = $t->get("/api/dandisets/$E/versions/draft/assets/", token => $tok{former});
is($listed->{json}{results}[0]{blob}, $B, 'blob ids: former learns its id while an owner');
is($t->put("/api/dandisets/$E/users/", [ { username => 'owner' } ], token => $tok{owner})->{status}, 200,
    'blob ids: former is removed');
my ($S3URL) = grep { !m{/api/} } @{ $t->get("/api/assets/$held->{json}{asset_id}/", token => $tok{owner})->{json}{contentUrl} };

# Dandisets of their own, open and embargoed, for everyone who tries.
my %own;
for my $who (qw(former stranger carol admin)) {
	for my $kind ('open', 'embargoed') {
		my $r = $t->post('/api/dandisets/' . ($kind eq 'embargoed' ? '?embargo=true' : ''),
		    { name => "$who $kind", metadata => {} }, token => $tok{$who});
		$own{$who}{$kind} = $r->{json}{identifier};
	}
}
my $NOBLOB = '7e1c0b2a-0000-4000-8000-000000000000';
for my $who (qw(former stranger)) {
	for my $kind ('open', 'embargoed') {
		my $ds = $own{$who}{$kind};
		my $unknown = attach($who, $ds, $NOBLOB, 'copy.bin');
		my $r = attach($who, $ds, $B, 'copy.bin');
		is_deeply([ $r->{status}, $r->{body} ], [ $unknown->{status}, $unknown->{body} ],
		    "blob ids: $who attaching it to their $kind dandiset is answered as an unknown blob");
		is($r->{status}, 404, "blob ids: ... 404");
		# PUT: an asset of their own (an open blob) replaced by the embargoed one.
		my $mine = attach($who, $ds, $BLOB, "mine-$who.bin");
		my $A = "/api/dandisets/$ds/versions/draft/assets/$mine->{json}{asset_id}/";
		$unknown = $t->put($A, { blob_id => $NOBLOB, metadata => { path => 'copy.bin' } }, token => $tok{$who});
		$r = $t->put($A, { blob_id => $B, metadata => { path => 'copy.bin' } }, token => $tok{$who});
		is_deeply([ $r->{status}, $r->{body} ], [ 404, $unknown->{body} ],
		    "blob ids: $who replacing an asset of their $kind dandiset by it: as an unknown blob, 404");
	}
}
is(one("SELECT count(*) FROM assets a JOIN blobs b ON b.id = a.blob_id WHERE b.blob_id = '$B'"), 1,
    'blob ids: no asset but the owner\'s has the blob');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$B'"), 't', 'blob ids: it is still embargoed');
is(one("SELECT count(*) FROM jobs WHERE kind = 'blob_untag' AND args->>'key' = '$B'"), 0, 'blob ids: and nothing queued to untag it');
# The wrongly attached asset that would be downloadable does not exist;
# the owner's asset and the S3 object stay closed to the anonymous.
is($t->get("/api/assets/$held->{json}{asset_id}/download/")->{status}, 401, 'blob ids: anonymous download of the asset: 401');
is($t->get("/api/assets/$held->{json}{asset_id}/download/", token => $tok{former})->{status}, 403,
    'blob ids: the former owner\'s download: 403');
is($anon->get($S3URL)->{status}, 403, 'blob ids: anonymous GET of its S3 object: 403');

# Its id is not given away by digest: initialize starts a new upload, and
# blobs/digest answers as for unknown bytes.
my $init = { contentSize => length($secret), dandiset => $own{stranger}{open},
    digest => { algorithm => 'dandi:dandi-etag', value => Upload::etag_of($secret) } };
my $r = $t->post('/api/uploads/initialize/', $init, token => $tok{stranger});
is($r->{status}, 200, 'blob ids: a stranger initializing the same bytes gets a new upload, not 409');
ok(!defined $r->{headers}{location} && $r->{body} !~ /\Q$B\E/, 'blob ids: ... and no Location, no blob id');
$t->delete("/api/dandisets/$own{stranger}{open}/uploads/", token => $tok{stranger});
my $byetag = { algorithm => 'dandi:dandi-etag', value => Upload::etag_of($secret) };
my $unknown_digest = $t->post('/api/blobs/digest/', { algorithm => 'dandi:dandi-etag', value => Upload::etag_of('no such bytes') });
for my $who (qw(anon pending former stranger)) {
	$r = $t->post('/api/blobs/digest/', $byetag, token => $tok{$who});
	is_deeply([ $r->{status}, $r->{body} ], [ $unknown_digest->{status}, $unknown_digest->{body} ],
	    "blob ids: blobs/digest for $who: as unknown bytes");
}
for my $who (qw(owner admin)) {
	$r = $t->post('/api/blobs/digest/', $byetag, token => $tok{$who});
	is_deeply([ $r->{status}, $r->{json}{blob_id} ], [ 200, $B ], "blob ids: blobs/digest for $who finds it");
}
# The owner starting an upload of the same bytes elsewhere is told of it.
$r = $t->post('/api/uploads/initialize/', { %$init, dandiset => make(0) }, token => $tok{owner});
is_deeply([ $r->{status}, $r->{headers}{location} ], [ 409, $B ], 'blob ids: the owner\'s initialize: 409 with its id');

# An owner of another dandiset that holds it may use it; so may an admin.
my $E2 = make(1);
is(attach('owner', $E2, $B, 'again.bin')->{status}, 200, 'blob ids: the owner attaches it to another embargoed dandiset');
is($t->put("/api/dandisets/$E2/users/", [ { username => 'carol' } ], token => $tok{owner})->{status}, 200,
    'blob ids: which carol alone owns now');
$r = $t->post('/api/uploads/initialize/', { %$init, dandiset => $own{carol}{embargoed} }, token => $tok{carol});
is_deeply([ $r->{status}, $r->{headers}{location} ], [ 409, $B ], 'blob ids: carol\'s initialize: 409 with its id');
is($t->post('/api/blobs/digest/', $byetag, token => $tok{carol})->{json}{blob_id}, $B, 'blob ids: carol\'s digest finds it');
is(attach('carol', $own{carol}{embargoed}, $B, 'carols.bin')->{status}, 200,
    'blob ids: carol (owner of a dandiset holding it) attaches it to her embargoed dandiset');
is(attach('admin', $own{admin}{embargoed}, $B, 'admins.bin')->{status}, 200,
    'blob ids: an admin attaches it anywhere');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$B'"), 't', 'blob ids: still embargoed (all embargoed dandisets)');

# The stranger uploads a copy of the same bytes: a blob of its own (same
# etag, its own id and object), public in their open dandiset, while the
# embargoed one stays closed.
my $copy = Upload::upload($t, $tok{stranger}, $own{stranger}{open}, $secret);
ok($copy->{blob}, 'blob ids: the stranger uploads the same bytes') or diag(explain($copy));
isnt($copy->{blob}{blob_id}, $B, 'blob ids: ... as a new blob');
is($copy->{blob}{etag}, $up->{blob}{etag}, 'blob ids: ... with the same etag');
$r = attach('stranger', $own{stranger}{open}, $copy->{blob}{blob_id}, 'copy.bin');
is($r->{status}, 200, 'blob ids: the stranger attaches their copy');
my $dl = $t->get("/api/assets/$r->{json}{asset_id}/download/");
is($dl->{status}, 302, 'blob ids: anonymous download of the copy');
my $got = $anon->get($dl->{headers}{location} // '');
ok($got->{status} == 200 && $got->{content} eq $secret, 'blob ids: ... serves the stranger\'s own bytes');
unlike($dl->{headers}{location} // '', qr/\Q$B\E/, 'blob ids: ... from their own object');
is($anon->get($S3URL)->{status}, 403, 'blob ids: the embargoed object stays closed');
is($t->post('/api/blobs/digest/', $byetag)->{json}{blob_id}, $copy->{blob}{blob_id},
    'blob ids: blobs/digest now finds the open copy');
# Same bytes once more by the stranger: the copy is theirs to use (409).
$r = $t->post('/api/uploads/initialize/', { %$init, dandiset => $own{stranger}{embargoed} }, token => $tok{stranger});
is_deeply([ $r->{status}, $r->{headers}{location} ], [ 409, $copy->{blob}{blob_id} ], 'blob ids: the stranger is now told of their copy');

# Two blobs with the same bytes go through the jobs: both sha256s, then
# unembargo makes the embargoed one public beside the copy.
like($t->jobs('run'), qr/^\d+ job\(s\) worked/m, 'blob ids: dandi-jobs run (sha256 of both)');
is(one("SELECT count(DISTINCT sha256) || ' ' || count(*) FROM blobs WHERE etag = '$up->{blob}{etag}'"), '1 2',
    'blob ids: two blobs, one sha256');
my $bysha = { algorithm => 'dandi:sha2-256', value => one("SELECT sha256 FROM blobs WHERE blob_id = '$B'") };
is($t->post('/api/blobs/digest/', $bysha, token => $tok{former})->{json}{blob_id}, $copy->{blob}{blob_id},
    'blob ids: by sha256 the former owner finds only the open copy');
is($t->post("/api/dandisets/$E/unembargo/", undef, token => $tok{owner})->{status}, 200, 'blob ids: the owner unembargoes');
like($t->jobs('run'), qr/^\d+ job\(s\) worked/m, 'blob ids: dandi-jobs run (unembargo)');
is(one("SELECT embargo_status FROM dandisets WHERE id = $E"), 'OPEN', 'blob ids: the dandiset is open');
is(one("SELECT string_agg(embargoed::text, ' ') FROM blobs WHERE etag = '$up->{blob}{etag}'"), 'false false',
    'blob ids: both blobs of these bytes are public');
$got = $anon->get($S3URL);
ok($got->{status} == 200 && $got->{content} eq $secret, 'blob ids: and its object is readable now');
$r = attach('former', $own{former}{open}, $B, 'now-public.bin');
is($r->{status}, 200, 'blob ids: an open blob is anyone\'s to attach');

# Unknown dandisets are 404 for everyone who gets past authentication.
for my $role (qw(stranger owner admin)) {
	is($t->get('/api/dandisets/999999/', token => $tok{$role})->{status}, 404, "unknown dandiset: $role 404");
	is($t->put('/api/dandisets/999999/users/', $owners, token => $tok{$role})->{status}, 404,
	    "unknown dandiset owners: $role 404");
}

done_testing;
