# Publishable zarr archives (sql/020, src/jobs/zarr-snapshot.c): a
# dandiset with two zarr assets is published against real S3 with bucket
# versioning; the snapshot is stopped mid-listing and resumed; the draft
# zarr is then modified (files changed, deleted, re-added, added) and the
# published version still lists, downloads (presigned with versionId) and
# checksums the original bytes, through the API, the webdav view and the
# manifest file alone (anonymous S3 GETs by version id, as an external
# reader would). A second publish makes a second snapshot (the unchanged
# zarr shares its first); gc removes only the versions no snapshot holds;
# an embargoed zarr's versions stay private until unembargo.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::MD5 qw(md5_hex md5_base64);
use HTTP::Tiny;
use JSON::PP;
use List::Util qw(max);
use DandiTest;
use Zarr qw(zarr_checksum zarr_upload);

my $t = DandiTest->new(s3 => 1, workers => 2);
my $owner = $t->user('zpub', first => 'Zed', last => 'Pub');
my $http = HTTP::Tiny->new(timeout => 60);
my $s3 = $t->s3;
my $bucket_url = "$s3->{S3_ENDPOINT}/$s3->{S3_BUCKET}";
sub one { my @r = $t->psql(@_); $r[0][0] }

my $md = {
	description => 'Imaging', license => ['spdx:CC-BY-4.0'],
	contributor => [ { name => 'Pub, Zed', email => 'zed@example.org', roleName => ['dcite:ContactPerson'],
	    includeInCitation => JSON::PP::true, schemaKey => 'Person' } ],
};
sub new_dandiset {
	my ($emb) = @_;
	my $r = $t->post('/api/dandisets/' . ($emb ? '?embargo=true' : ''), { name => 'Zarrs', metadata => $md }, token => $owner);
	die $r->{body} unless $r->{status} == 200;
	return $r->{json}{identifier};
}
sub publish { $t->post("/api/dandisets/$_[0]/versions/draft/publish/", undef, token => $owner) }
sub draft_status { one("SELECT status FROM versions WHERE dandiset_id = $_[0] AND version = 'draft'") }
sub uri { my ($k) = @_; $k =~ s{([^A-Za-z0-9\-._~/])}{sprintf('%%%02X', ord $1)}ge; $k }
sub uri_all { my ($k) = @_; $k =~ s{([^A-Za-z0-9\-._~])}{sprintf('%%%02X', ord $1)}ge; $k }

# Every version and delete marker under prefix, straight from S3
# (ListObjectVersions signed by curl): [key, version id, latest, marker].
sub s3_versions {
	my ($prefix) = @_;
	my $url = "$bucket_url/?prefix=" . uri_all($prefix) . '&versions=';
	open(my $fh, '-|', 'curl', '-s', '-m', '30', '--aws-sigv4', "aws:amz:$s3->{S3_REGION}:s3",
	    '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '--user', "$s3->{S3_ACCESS_KEY}:$s3->{S3_SECRET_KEY}", $url)
	    or die "curl: $!";
	my $xml = do { local $/; <$fh> };
	close $fh;
	die "ListObjectVersions: $xml" unless $xml =~ /<ListVersionsResult/;
	die 'ListObjectVersions truncated' if $xml =~ m{<IsTruncated>true</IsTruncated>};
	my @v;
	while ($xml =~ m{<(Version|DeleteMarker)>(.*?)</\1>}gs) {
		my ($kind, $el) = ($1, $2);
		my ($k) = $el =~ m{<Key>(.*?)</Key>};
		my ($id) = $el =~ m{<VersionId>(.*?)</VersionId>};
		my ($latest) = $el =~ m{<IsLatest>(.*?)</IsLatest>};
		push @v, [ $k, $id, $latest eq 'true' ? 1 : 0, $kind eq 'DeleteMarker' ? 1 : 0 ];
	}
	return \@v;
}

# The whole listing of a zarr (optionally of a published version), page by
# page through the next links, as dandi-cli pages it.
sub listing {
	my ($zid, $sel, $limit) = @_;
	my (@all, $pages);
	my $url = "/api/zarr/$zid/files/?limit=" . ($limit // 1000) . ($sel ? "&$sel" : '');
	while ($url) {
		my $r = $t->get($url);
		die "listing $url: $r->{status} $r->{body}" unless $r->{status} == 200;
		push @all, @{ $r->{json}{results} };
		$url = $r->{json}{next};
		$pages++;
	}
	return wantarray ? (\@all, $pages) : \@all;
}

sub download_all {
	my ($zid, $sel, $files) = @_;
	my $same = 0;
	for my $k (sort keys %$files) {
		my $r = $t->get("/api/zarr/$zid/files/?prefix=" . uri_all($k) . '&download=true' . ($sel ? "&$sel" : ''));
		next unless $r->{status} == 302;
		my $got = $http->get($r->{headers}{location});
		$same++ if $got->{status} == 200 && $got->{content} eq $files->{$k};
	}
	return $same;
}

my $total = sub { my $n = 0; $n += length $_ for values %{ $_[0] }; $n };

# --- two zarr assets, uploaded, checksummed, validated -----------------------
my $ds = new_dandiset(0);
my %A = ('.zgroup' => '{"zarr_format":2}', '.zattrs' => '{"multiscales":[]}', '0/.zarray' => '{"chunks":[4,4]}',
    'labels/.zgroup' => '{"zarr_format":2}', 'labels/cells/.zattrs' => '{}');
srand(7);
for my $i (0 .. 3) {
	$A{"0/$i/$_"} = join('', map { chr int rand 256 } 1 .. (20 + int rand 300)) for 0 .. 4;
}
$A{$_} = "original $_" for qw(M D R C);
my %B = ('.zgroup' => '{"zarr_format":2}', 'x/0' => 'bee zero', 'x/1' => 'bee one', 'x/.zarray' => '{}', 'y' => 'why');

my (%zid, %asset);
for ([ 'a.zarr', \%A ], [ 'b.zarr', \%B ]) {
	my ($name, $files) = @$_;
	my $r = $t->post('/api/zarr/', { name => $name, dandiset => $ds }, token => $owner);
	die $r->{body} unless $r->{status} == 200;
	$zid{$name} = $r->{json}{zarr_id};
	is(zarr_upload($t, $owner, $zid{$name}, $files), '', "$name uploaded");
	is($t->post("/api/zarr/$zid{$name}/finalize/", undef, token => $owner)->{status}, 204, "$name finalized");
	$r = $t->post("/api/dandisets/$ds/versions/draft/assets/", { zarr_id => $zid{$name},
	    metadata => { schemaKey => 'Asset', path => $name } }, token => $owner);
	is($r->{status}, 200, "$name: asset");
	$asset{$name} = $r->{json}{asset_id};
}
my ($za, $zb) = @zid{qw(a.zarr b.zarr)};
$t->jobs('run', '--no-validate');
is($t->get("/api/zarr/$za/")->{json}{checksum}, zarr_checksum(\%A), 'a.zarr checksummed');
is($t->get("/api/zarr/$zb/")->{json}{checksum}, zarr_checksum(\%B), 'b.zarr checksummed');
$t->jobs('validate');
is(draft_status($ds), 'Valid', 'the draft with two zarr assets validates');
$t->jobs('run', '--no-validate');	# the draft's manifests, queued by the sweep

# --- publish, stopped mid-snapshot and resumed --------------------------------
my $r = publish($ds);
is_deeply([ $r->{status}, $r->{body} ], [ 202, '' ], 'publish of a dandiset with zarr assets: 202');
{
	local $ENV{DANDI_ZARR_SNAPSHOT_PAGE_KEYS} = 5;
	local $ENV{DANDI_ZARR_SNAPSHOT_STOP_AFTER_PAGES} = 2;
	$t->jobs('run', '--no-validate', '--max', '1');
}
my ($snap) = $t->psql("SELECT s.status, s.key_marker, (SELECT count(*) FROM zarr_snapshot_entries e WHERE e.snapshot_id = s.id)"
    . " FROM zarr_snapshots s JOIN zarrs z ON z.id = s.zarr_id WHERE z.zarr_id = '$za'");
is_deeply([ $snap->[0], $snap->[2] ], [ 'Listing', 10 ], 'the stopped run left a.zarr\'s snapshot Listing with 2 pages of entries');
like($snap->[1], qr{^zarr/$za/}, '... and the cursor of the next page');
is(draft_status($ds), 'Publishing', 'the draft is still Publishing');
is(one("SELECT count(*) FROM versions WHERE dandiset_id = $ds"), 1, 'no published version yet');

$t->psql("UPDATE jobs SET run_after = now() WHERE kind = 'publish' AND state = 'queued'");
{
	local $ENV{DANDI_ZARR_SNAPSHOT_PAGE_KEYS} = 5;
	$t->jobs('run', '--no-validate');
}
$t->jobs('run', '--no-validate');	# the manifests job the publish queued
is(draft_status($ds), 'Published', 'resumed: published');
my $v1 = one("SELECT version FROM versions WHERE dandiset_id = $ds AND version <> 'draft'");
like($v1, qr/^0\.\d{6}\.\d{4}$/, "published version $v1");
is_deeply([ map { @$_ } $t->psql("SELECT z.name || ' ' || s.status || ' ' || s.file_count || ' ' || s.size"
    . " || ' ' || (SELECT count(*) FROM zarr_snapshot_entries e WHERE e.snapshot_id = s.id)"
    . " FROM zarr_snapshots s JOIN zarrs z ON z.id = s.zarr_id ORDER BY z.name") ],
    [ 'a.zarr Complete ' . keys(%A) . ' ' . $total->(\%A) . ' ' . keys(%A),
      'b.zarr Complete ' . keys(%B) . ' ' . $total->(\%B) . ' ' . keys(%B) ],
    'one Complete snapshot per zarr, one entry per key (the resumed pages not doubled)');
is(one("SELECT count(*) FROM version_zarr_snapshots vzs JOIN versions v ON v.id = vzs.version_id WHERE v.version = '$v1'"), 2,
    'the published version maps both zarrs to their snapshots');

my $zv1 = $t->get("/api/zarr/$za/?version=$v1")->{json};
is_deeply([ @$zv1{qw(status checksum file_count size version)} ], [ 'Complete', zarr_checksum(\%A), scalar keys %A, $total->(\%A), $v1 ],
    'zarr detail as of the published version');
my $snap_a1 = $zv1->{snapshot};
my $l1 = listing($za, "version=$v1");
is_deeply([ map { $_->{Key} } @$l1 ], [ sort keys %A ], 'published listing: every key, byte order');
my %vid1 = map { $_->{Key} => $_->{VersionId} } @$l1;

# The sizes of a.zarr's asset that the asset list, the paths view and the
# asset info give for version $v: the list in its default order (the
# dandi client's walk), by path and filtered by path.
sub zarr_sizes {
	my ($v) = @_;
	my $A = "/api/dandisets/$ds/versions/$v/assets";
	my @s;
	for my $q ('', '?order=path', '?path=a.zarr') {
		my $r = $t->get("$A/$q");
		die "$A/$q: $r->{status}" unless $r->{status} == 200;
		push @s, map { $_->{size} } grep { $_->{path} eq 'a.zarr' } @{ $r->{json}{results} };
	}
	my $r = $t->get("$A/paths/");
	push @s, map { $_->{aggregate_size} } grep { $_->{path} eq 'a.zarr' } @{ $r->{json}{results} };
	push @s, $t->get("$A/$asset{'a.zarr'}/info/")->{json}{size};
	return \@s;
}
# Read once before the draft changes: the lists' pages are in the page cache.
is_deeply(zarr_sizes($v1), [ ($total->(\%A)) x 5 ], 'published list, paths and info: the snapshot size');
is_deeply(zarr_sizes('draft'), [ ($total->(\%A)) x 5 ], '... the draft\'s the same for now');

# --- the draft zarr changes ----------------------------------------------------
my %A2 = %A;
$A2{M} = 'modified M';
delete $A2{D};
$A2{R} = 're-added R, new bytes';
$A2{'N/new'} = 'a new file';
is(zarr_upload($t, $owner, $za, { M => $A2{M}, 'N/new' => $A2{'N/new'}, C => 'churn 2', T => 'temporary' }), '', 'draft zarr: modified, added');
is(zarr_upload($t, $owner, $za, { C => 'churn 3' }), '', 'C overwritten again');
$A2{C} = 'churn 3';
is($t->request('DELETE', "/api/zarr/$za/files/", json => [ { path => 'D' }, { path => 'R' }, { path => 'T' } ], token => $owner)->{status},
    204, 'D, R and T deleted');
is(zarr_upload($t, $owner, $za, { R => $A2{R} }), '', 'R re-added');
is($t->post("/api/zarr/$za/finalize/", undef, token => $owner)->{status}, 204, 'finalized again');
$t->jobs('run', '--no-validate');
is($t->get("/api/zarr/$za/")->{json}{checksum}, zarr_checksum(\%A2), 'the draft zarr has its new checksum');
is_deeply([ map { $_->{Key} } @{ listing($za) } ], [ sort keys %A2 ], 'the live listing is the new state');

# --- the published version still serves the original --------------------------
my ($lp, $pages) = listing($za, "version=$v1", 7);
is($pages, int((keys(%A) + 6) / 7), "published listing in pages of 7 ($pages)");
is_deeply([ map { $_->{Key} } @$lp ], [ sort keys %A ], '... still every original key');
is_deeply({ map { $_->{Key} => [ $_->{ETag}, $_->{Size} ] } @$lp }, { map { $_ => [ md5_hex($A{$_}), length $A{$_} ] } keys %A },
    '... with the original ETags and sizes');
like($lp->[0]{LastModified}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/, '... LastModified as the live listing writes it');
is(download_all($za, "version=$v1", \%A), scalar keys %A, 'every original file downloaded byte-exact (presigned with versionId)');
$r = $t->get("/api/zarr/$za/files/?prefix=D&download=true&version=$v1");
like($r->{headers}{location}, qr/[?&]versionId=/, 'a deleted file of the draft: redirect with versionId');
is($t->get("/api/zarr/$za/files/?prefix=N/new&download=true&version=$v1")->{status}, 404, 'a file added since: 404 in the published view');
$r = $t->request('HEAD', "/api/zarr/$za/files/?prefix=M&version=$v1");
is($r->{status}, 302, 'HEAD: redirect');
is($http->request('HEAD', $r->{headers}{location})->{headers}{'content-length'}, length $A{M}, '... to the original object');
is_deeply([ map { $_->{Key} } @{ listing($za, "version=$v1&prefix=0/1/") } ], [ grep { m{^0/1/} } sort keys %A ], 'published prefix listing');
is_deeply([ map { $_->{Key} } @{ listing($za, "snapshot=$snap_a1&prefix=labels") } ], [ grep { /^labels/ } sort keys %A ],
    '?snapshot= selects the same');
$r = $t->get("/api/zarr/$za/files/?version=$v1&after=0/3/4&limit=2");
is_deeply([ map { $_->{Key} } @{ $r->{json}{results} } ], [ (grep { $_ gt '0/3/4' } sort keys %A)[0, 1] ], 'after');
is($t->get("/api/zarr/$za/?version=0.000101.0000")->{status}, 404, 'no such published version: 404');
is($t->get("/api/zarr/$za/files/?snapshot=x")->{status}, 400, 'snapshot not a number: 400');
is($t->get("/api/zarr/$zb/files/?snapshot=$snap_a1")->{status}, 404, "another zarr's snapshot: 404");
is($t->get("/api/zarr/$za/?version=draft")->{json}{checksum}, zarr_checksum(\%A2), 'version=draft: the live zarr');
is($t->get("/api/zarr/$za/")->{json}{checksum}, zarr_checksum(\%A2), 'and the plain detail too');

$r = $t->get("/api/webdav/assets/atpath/?dandiset_id=$ds&version_id=$v1&path=a.zarr");
is($r->{json}{results}[0]{resource}{size}, $total->(\%A), 'webdav: the published zarr asset has the snapshot size');
$r = $t->get("/api/webdav/assets/atpath/?dandiset_id=$ds&version_id=draft&path=a.zarr");
is($r->{json}{results}[0]{resource}{size}, $total->(\%A2), '... the draft one the live size');
$r = $t->get("/api/dandisets/$ds/versions/$v1/assets/$asset{'a.zarr'}/");
is_deeply([ $r->{json}{digest}{'dandi:dandi-zarr-checksum'}, $r->{json}{contentSize} ], [ zarr_checksum(\%A), $total->(\%A) ],
    'the published asset keeps the original checksum and size');
is_deeply(zarr_sizes($v1), [ ($total->(\%A)) x 5 ],
    'the draft zarr changed: the published list, paths and info still give the snapshot size');
is_deeply(zarr_sizes('draft'), [ ($total->(\%A2)) x 5 ], '... the draft\'s the live size (no stale cached page)');
is($t->get("/api/assets/$asset{'a.zarr'}/info/")->{json}{size}, $total->(\%A),
    '/api/assets/{id}/info/ of the published asset: the snapshot size, as its metadata\'s contentSize');
is($t->get("/api/assets/$asset{'a.zarr'}/")->{json}{contentSize}, $total->(\%A), '... which says the same');

# --- the manifest: an external reader needs nothing but S3 ----------------------
my $res = $http->get("$bucket_url/dandisets/$ds/$v1/zarr/$za.json");
is($res->{status}, 200, 'the zarr manifest is public next to the version\'s manifests');
my $man = eval { decode_json($res->{content}) } || {};
is_deeply($man->{fields}, [qw(versionId lastModified size ETag)], 'manifest fields');
is_deeply([ @{ $man->{statistics} }{qw(entries totalSize zarrChecksum depth)} ],
    [ scalar keys %A, $total->(\%A), zarr_checksum(\%A), max(map { tr{/}{} } keys %A) ], 'manifest statistics');
like($man->{statistics}{lastModified}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/, 'manifest lastModified');
my %flat;
my $walk;
$walk = sub {
	my ($node, $pre) = @_;
	for my $k (keys %$node) {
		ref $node->{$k} eq 'HASH' ? $walk->($node->{$k}, "$pre$k/") : ($flat{"$pre$k"} = $node->{$k});
	}
};
$walk->($man->{entries} // {}, '');
is_deeply({ map { $_ => [ $flat{$_}[0], $flat{$_}[2], $flat{$_}[3] ] } keys %flat },
    { map { $_ => [ $vid1{$_}, length $A{$_}, md5_hex($A{$_}) ] } keys %A }, 'manifest entries: version ids, sizes, ETags of every key');
my $ext = 0;
for my $k (sort keys %flat) {
	my $g = $http->get("$bucket_url/zarr/$za/" . uri($k) . "?versionId=" . uri_all($flat{$k}[0]));
	$ext++ if $g->{status} == 200 && $g->{content} eq $A{$k};
}
is($ext, scalar keys %A, 'anonymous S3 GETs by the manifest\'s version ids: every original byte');
is($http->get("$bucket_url/dandisets/$ds/$v1/zarr/$zb.json")->{status}, 200, 'b.zarr has its manifest too');

# --- a second publish ------------------------------------------------------------
$r = publish($ds);
is($r->{status}, 409, 'the changed zarr\'s published asset still claims the old checksum: 409');
$r = $t->put("/api/dandisets/$ds/versions/draft/assets/$asset{'a.zarr'}/", { zarr_id => $za,
    metadata => { schemaKey => 'Asset', path => 'a.zarr' } }, token => $owner);
is($r->{status}, 200, 'the asset updated, as dandi upload does');
# What changed from the published version to the draft: the old side is
# the snapshot (not the live zarr it was taken of), the new one the live.
$r = $t->get("/api/dandisets/$ds/versions/$v1/diff/draft/");
my ($dz) = grep { $_->{path} eq 'a.zarr' } @{ $r->{json}{results} // [] };
is_deeply([ $dz->{type}, [ grep { $_ eq 'content' } @{ $dz->{changed} // [] } ], $dz->{old}{size}, $dz->{old}{digest}{'dandi:dandi-zarr-checksum'},
    $dz->{new}{size}, $dz->{new}{digest}{'dandi:dandi-zarr-checksum'} ],
    [ 'modified', ['content'], $total->(\%A), zarr_checksum(\%A), $total->(\%A2), zarr_checksum(\%A2) ],
    "diff $v1 -> draft: a.zarr's content modified, the published side with the snapshot's size and checksum");
$t->jobs('validate');
is(draft_status($ds), 'Valid', 'draft Valid again');
is(publish($ds)->{status}, 202, 'second publish: 202');
$t->jobs('run', '--no-validate');
$t->jobs('run', '--no-validate');
my $v2 = one("SELECT max(version) FROM versions WHERE dandiset_id = $ds AND version <> 'draft'");
isnt($v2, $v1, "second version $v2");
is(one("SELECT count(*) FROM zarr_snapshots s JOIN zarrs z ON z.id = s.zarr_id WHERE z.zarr_id = '$za'"), 2,
    'a.zarr: a second snapshot');
is(one("SELECT count(*) FROM zarr_snapshots s JOIN zarrs z ON z.id = s.zarr_id WHERE z.zarr_id = '$zb'"), 1,
    'b.zarr, unchanged: its snapshot shared');
my $l2 = listing($za, "version=$v2");
is_deeply({ map { $_->{Key} => $_->{ETag} } @$l2 }, { map { $_ => md5_hex($A2{$_}) } keys %A2 }, 'the second version lists the new state');
is($t->get("/api/zarr/$za/?version=$v2")->{json}{checksum}, zarr_checksum(\%A2), '... with its checksum');
is($t->get("/api/zarr/$za/?version=$v1")->{json}{checksum}, zarr_checksum(\%A), 'the first keeps its own');

# --- gc: only what no snapshot holds ---------------------------------------------
my %held = map { ("$_->{Key} $_->{VersionId}" => 1) } @$l1, @$l2;
my $before = s3_versions("zarr/$za/");
like($t->jobs('gc'), qr/^object versions: 0 non-current deleted, 0 delete markers deleted/m, 'gc within the grace period: nothing');
is_deeply(s3_versions("zarr/$za/"), $before, '... every version still there');
sleep 2;
my $out = $t->jobs('gc', '--grace', '0 seconds');
like($out, qr/^object versions: \d+ non-current deleted, \d+ delete markers deleted, \d+ kept for zarr snapshots/m,
    'gc past the grace period (the bucket\'s other keys too: the draft manifests)')
    or diag($out);
my $after = s3_versions("zarr/$za/");
is_deeply([ sort map { "$_->[0] $_->[1]" } grep { !$_->[3] } @$after ], [ sort map { "zarr/$za/$_" } keys %held ],
    'the versions left are exactly those the two snapshots hold');
is_deeply([ map { $_->[0] } grep { $_->[3] } @$after ], [ "zarr/$za/D" ], 'one delete marker left: D\'s, over a held version');
is(download_all($za, "version=$v1", \%A), scalar keys %A, 'after gc: the first version still downloads byte-exact');
is(download_all($za, "version=$v2", \%A2), scalar keys %A2, '... and the second');
is_deeply([ map { $_->{Key} } @{ listing($za) } ], [ sort keys %A2 ], 'the draft zarr is unchanged by gc');

# --- embargo: every version private until unembargo -------------------------------
my $eds = new_dandiset(1);
$r = $t->post('/api/zarr/', { name => 'e.zarr', dandiset => $eds }, token => $owner);
my $ze = $r->{json}{zarr_id};
my %E = (x => 'secret one', '.zgroup' => '{}');
is(zarr_upload($t, $owner, $ze, \%E), '', 'embargoed zarr uploaded');
is(zarr_upload($t, $owner, $ze, { x => 'secret two' }), '', '... x overwritten');
my $ev = s3_versions("zarr/$ze/");
my @xv = map { $_->[1] } grep { $_->[0] eq "zarr/$ze/x" } @$ev;
is(scalar @xv, 2, 'x has two versions');
is_deeply([ map { $http->get("$bucket_url/zarr/$ze/x?versionId=" . uri_all($_))->{status} } @xv ], [ 403, 403 ],
    'anonymous GET of either version: 403');
like($t->jobs('embargo-tags', '--check'), qr/^embargo-tags: 3 embargoed object\(s\), 0 without the tag/m,
    'embargo-tags checks every version of the embargoed zarr\'s keys (x twice, .zgroup)');
is($t->post("/api/dandisets/$eds/unembargo/", undef, token => $owner)->{status}, 200, 'unembargo');
$t->jobs('run', '--no-validate');
is($t->get("/api/dandisets/$eds/")->{json}{embargo_status}, 'OPEN', 'OPEN');
is_deeply([ map { my $g = $http->get("$bucket_url/zarr/$ze/x?versionId=" . uri_all($_)); "$g->{status} $g->{content}" } @xv ],
    [ '200 secret two', '200 secret one' ], 'after unembargo: both versions public');

done_testing;
