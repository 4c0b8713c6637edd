# Publishing: the original's preconditions and errors, the 202 and the lock,
# the publish job run by dandi-jobs (version string, metadata, frozen assets,
# folder tree, assetsSummary, audit), immutability afterwards, two publishes
# in one minute, a draft edited while publishing, and parallel workers.
# Drafts and assets become Valid through the real validation sweep
# (dandi-jobs validate); psql forces a status only where a test needs that
# exact state.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(sleep);
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob');
sub one { my @r = $t->psql(@_); $r[0][0] }

my $md = {
	description => 'Recordings', license => ['spdx:CC-BY-4.0'],
	contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'], includeInCitation => JSON::PP::true,
	    schemaKey => 'Person' } ],
};
sub new_dandiset {
	my ($name) = @_;
	return $t->post('/api/dandisets/', { name => $name, metadata => $md }, token => $alice)->{json}{identifier};
}
my $nblob = 0;
sub blob {
	my ($size) = @_;
	my $u = sprintf '%08d-1111-4000-8000-000000000000', ++$nblob;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $nblob) . "-1', $size, '" . sprintf('%064x', $nblob) . "')");
	return $u;
}
sub add {
	my ($id, $path, %m) = @_;
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => blob($m{size} // 10),
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => $path, %m } },
	    token => $alice);
	die "add failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
# The real thing: the sweep validates the draft and its assets.
sub make_valid {
	my ($id) = @_;
	$t->jobs('validate');
	my $info = $t->get("/api/dandisets/$id/versions/draft/info/", token => $alice)->{json};
	Test::More::is_deeply([ $info->{status}, $info->{asset_validation_errors} ], [ 'Valid', [] ],
	    "draft of $id and its assets validated: Valid")
	    or Test::More::diag(encode_json([ $info->{version_validation_errors}, $info->{asset_validation_errors} ]));
}
# Only for drafts whose refusal comes before any status check.
sub force_valid {
	my ($id) = @_;
	$t->psql("UPDATE assets SET status = 'Valid' WHERE id IN (SELECT asset_id FROM asset_versions"
	    . " WHERE version_id = (SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft'))");
	$t->psql("UPDATE versions SET status = 'Valid' WHERE dandiset_id = $id AND version = 'draft'");
}
sub publish { $t->post("/api/dandisets/$_[0]/versions/draft/publish/", $_[1], token => @_ > 2 ? $_[2] : $alice) }
sub draft_status { one("SELECT status FROM versions WHERE dandiset_id = $_[0] AND version = 'draft'") }

my $id = new_dandiset('Published one');
my $a1 = add($id, 'sub-01/sub-01_ses-1_ecephys.nwb', size => 100, encodingFormat => 'application/x-nwb',
    wasAttributedTo => [ { schemaKey => 'Participant', identifier => 'mouse.1',
        species => { schemaKey => 'SpeciesType', name => 'Mus musculus', identifier => 'NCBITaxon:10090' } } ],
    approach => [ { schemaKey => 'ApproachType', name => 'electrophysiological approach' } ]);
my $a2 = add($id, 'sub-02/sub-02_ses-1_ecephys.nwb', size => 50, encodingFormat => 'application/x-nwb',
    approach => [ { schemaKey => 'ApproachType', name => 'electrophysiological approach' } ]);
my $a3 = add($id, 'dataset_description.json', size => 5, encodingFormat => 'application/json');

# --- refusals ------------------------------------------------------------------------

my $r = publish($id, undef, undef);
is($r->{status}, 401, 'anonymous: 401');
$r = publish($id, undef, $bob);
is_deeply([ $r->{status}, $r->{body} ], [ 403, '' ], 'non-owner: 403, empty body');
is(publish('999999')->{status}, 404, 'unknown dandiset: 404');
my %want = (
	Pending => [ 409, 'Metadata validation is pending for this dandiset, please try again later.' ],
	Validating => [ 409, 'Dandiset is currently being validated' ],
	Invalid => [ 400, 'Dandiset metadata or asset metadata is not valid' ],
	Published => [ 400, 'There have been no changes to the draft version since the last publish.' ],
	Publishing => [ 423, 'Dandiset is currently being published' ],
);
for my $s (sort keys %want) {
	$t->psql("UPDATE versions SET status = '$s' WHERE dandiset_id = $id AND version = 'draft'");
	$r = publish($id);
	is_deeply([ $r->{status}, $r->{json} ], $want{$s}, "draft $s: $want{$s}[0]");
}
$t->psql("UPDATE versions SET status = 'Valid' WHERE dandiset_id = $id AND version = 'draft'");
$r = publish($id);
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'Dandiset metadata or asset metadata is not valid' ],
    'valid draft with pending assets: 400');
make_valid($id);
$r = publish($id, { release_notes => 'x' x 5001 });
is($r->{status}, 400, 'release notes over 5000 characters: 400');
is(draft_status($id), 'Valid', 'refusals change nothing');
is(one('SELECT count(*) FROM jobs'), 0, 'and queue nothing');

my $emb = new_dandiset('Embargoed');
$t->psql("UPDATE dandisets SET embargo_status = 'EMBARGOED', embargo_end_date = now() + interval '1 year' WHERE id = $emb");
force_valid($emb);
is_deeply([ @{ publish($emb) }{qw(status json)} ], [ 400, 'Operation only allowed on OPEN dandisets' ], 'embargoed: 400');
# Zarrs: publishable as snapshots (t/85-zarr-publish.t), but only once
# every zarr of the draft is Complete: this one was never finalized (409,
# after the draft's own status).
my $zd = new_dandiset('With a zarr');
add($zd, 'plain.nwb');
my $zarr = $t->post('/api/zarr/', { name => 'z.zarr', dandiset => $zd }, token => $alice)->{json}{zarr_id};
my $za = $t->post("/api/dandisets/$zd/versions/draft/assets/", { zarr_id => $zarr,
    metadata => { schemaKey => 'Asset', path => 'z.zarr' } }, token => $alice);
is($za->{status}, 200, 'a zarr asset in the draft');
force_valid($zd);
my $zr = publish($zd);
is($zr->{status}, 409, 'a draft asset points at a zarr that is not Complete: 409');
like($zr->{json}, qr/^A zarr archive of this dandiset is not Complete/, '... saying so');
$t->psql("UPDATE versions SET status = 'Pending' WHERE dandiset_id = $zd AND version = 'draft'");
is_deeply([ @{ publish($zd) }{qw(status json)} ], [ 409, 'Metadata validation is pending for this dandiset, please try again later.' ],
    '... after the status check (Pending draft: the status message)');
is(draft_status($zd), 'Pending', '... and nothing changed');

# --- publish --------------------------------------------------------------------------

my $before = time;
$r = publish($id, { release_notes => 'First release' });
is_deeply([ $r->{status}, $r->{body} ], [ 202, '' ], 'publish: 202, empty body');
is(draft_status($id), 'Publishing', 'draft is Publishing');
is(publish($id)->{status}, 423, 'a second request: 423');
is(one("SELECT count(*) FROM jobs WHERE state = 'queued'"), 1, 'one job queued');

like($t->jobs('run'), qr/^1 job\(s\) worked/m, 'dandi-jobs run works the job');
is(one("SELECT state FROM jobs"), 'done', 'job done');
is(draft_status($id), 'Published', 'draft is Published');
my $versions = $t->get("/api/dandisets/$id/versions/")->{json}{results};
is(scalar @$versions, 2, 'two versions');
my ($pub) = grep { $_->{version} ne 'draft' } @$versions;
my $v = $pub->{version};
my @ok = map { strftime('0.%y%m%d.%H%M', gmtime($_)) } $before - 60 .. time + 60;
ok((grep { $_ eq $v } @ok), "version $v is 0.YYMMDD.HHMM of now (UTC)");
is($pub->{status}, 'Valid', 'published version status Valid');
is($pub->{asset_count}, 3, 'published version has the 3 assets');
is($pub->{size}, 155, 'and their bytes');
is($t->get("/api/dandisets/$id/")->{json}{most_recent_published_version}{version}, $v, 'most_recent_published_version');

my $pm = $t->get("/api/dandisets/$id/versions/$v/")->{json};
is($pm->{version}, $v, 'metadata version');
is($pm->{id}, "DANDI:$id/$v", 'metadata id');
like($pm->{url}, qr{/dandiset/$id/\Q$v\E$}, 'metadata url');
is($pm->{publishedBy}{schemaKey}, 'PublishActivity', 'publishedBy');
is($pm->{publishedBy}{name}, 'DANDI publish', 'publishedBy name');
like($pm->{publishedBy}{id}, qr/^urn:uuid:[0-9a-f-]{36}$/, 'publishedBy id');
is($pm->{publishedBy}{wasAssociatedWith}[0]{name}, 'DANDI API', 'publishedBy software');
like($pm->{datePublished}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/, 'datePublished');
is($pm->{releaseNotes}, 'First release', 'release notes');
like($pm->{citation}, qr/\(Version \Q$v\E\)/, 'citation names the version');
like($pm->{manifestLocation}[0], qr{/dandisets/$id/\Q$v\E/assets\.yaml$}, 'manifest location');
my $sum = $pm->{assetsSummary};
is_deeply([ @$sum{qw(schemaKey numberOfBytes numberOfFiles numberOfSubjects)} ], [ 'AssetsSummary', 155, 3, 3 ],
    'assetsSummary: bytes, files, subjects (participant mouse.1 -> mouse-1, and sub-01, sub-02 from names)')
    or diag(encode_json($sum));
is_deeply($sum->{species}, [ { schemaKey => 'SpeciesType', name => 'Mus musculus', identifier => 'NCBITaxon:10090' } ],
    'assetsSummary: species');
is_deeply([ map { $_->{name} } @{ $sum->{approach} } ], ['electrophysiological approach'], 'assetsSummary: approach once');
is_deeply([ map { $_->{identifier} } @{ $sum->{dataStandard} } ], [ 'RRID:SCR_015242', 'RRID:SCR_016124' ],
    'assetsSummary: NWB and BIDS');
is_deeply($t->get("/api/dandisets/$id/versions/draft/")->{json}{assetsSummary}, $sum, 'draft gets the summary too');

my $pa = $t->get("/api/dandisets/$id/versions/$v/assets/?order=path")->{json}{results};
is_deeply([ map { $_->{asset_id} } @$pa ], [ map { $_->{asset_id} } $a3, $a1, $a2 ], 'same assets, shared');
my $am = $t->get("/api/dandisets/$id/versions/$v/assets/$a1->{asset_id}/")->{json};
is($am->{publishedBy}{schemaKey}, 'PublishActivity', 'asset publishedBy');
ok($am->{datePublished}, 'asset datePublished');
is(one("SELECT count(*) FROM assets WHERE published"), 3, 'assets are marked published');
is(one("SELECT metadata->>'identifier' FROM assets WHERE asset_id = '$a1->{asset_id}'"), $a1->{asset_id},
    'frozen asset metadata carries the computed fields');
is_deeply([ map { $_->{path} } @{ $t->get("/api/dandisets/$id/versions/$v/assets/paths/")->{json}{results} } ],
    [ 'dataset_description.json', 'sub-01', 'sub-02' ], 'published folder tree');
is(one("SELECT count(*) FROM audit_records WHERE dandiset_id = $id AND record_type = 'publish_dandiset'"
    . " AND details->>'version' = '$v' AND username = 'alice'"), 1, 'audit publish_dandiset');

# --- immutability ---------------------------------------------------------------------------------

my $P = "/api/dandisets/$id/versions/$v";
is_deeply([ @{ $t->put("$P/", { name => 'x', metadata => {} }, token => $alice) }{qw(status json)} ],
    [ 405, 'Only draft versions can be modified.' ], 'published metadata PUT: 405');
is($t->post("$P/assets/", { blob_id => blob(1), metadata => { path => 'new' } }, token => $alice)->{status}, 405,
    'published: add asset 405');
is($t->put("$P/assets/$a1->{asset_id}/", { blob_id => blob(1), metadata => { path => 'x' } }, token => $alice)->{status},
    405, 'published: change asset 405');
is($t->delete("$P/assets/$a1->{asset_id}/", token => $alice)->{status}, 405, 'published: remove asset 405');
is_deeply([ @{ $t->post("$P/publish/", undef, token => $alice) }{qw(status json)} ],
    [ 405, 'Only draft versions can be published' ], 'publishing a published version: 405');
is($t->delete("/api/dandisets/$id/", token => $alice)->{status}, 403, 'a dandiset with a published version cannot be deleted');

# Editing the draft makes new rows; the published version keeps its own.
my $r2 = $t->put("/api/dandisets/$id/versions/draft/assets/$a1->{asset_id}/",
    { blob_id => blob(7), metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb',
    path => 'sub-01/sub-01_ses-1_ecephys.nwb' } }, token => $alice);
isnt($r2->{json}{asset_id}, $a1->{asset_id}, 'changing a published asset in the draft makes a new asset');
is($t->get("$P/assets/$a1->{asset_id}/")->{status}, 200, 'the published version still has the old one');
is($t->get("$P/")->{json}{assetsSummary}{numberOfBytes}, 155, 'and its summary');
is(draft_status($id), 'Pending', 'the draft is Pending again');

# --- same minute ---------------------------------------------------------------------------------

make_valid($id);
is(publish($id)->{status}, 202, 'publish again');
$t->jobs('run');
my @vs = sort map { $_->{version} } grep { $_->{version} ne 'draft' } @{ $t->get("/api/dandisets/$id/versions/")->{json}{results} };
is(scalar @vs, 2, 'two published versions');
my ($m1, $m2) = map { /\.(\d\d)(\d\d)$/; $1 * 60 + $2 } @vs;
ok($m2 - $m1 >= 1, "distinct versions @vs (a collision moves a minute on)");

# --- edited while publishing ---------------------------------------------------------------------------

my $id2 = new_dandiset('Edited meanwhile');
add($id2, 'a.nwb');
make_valid($id2);
is(publish($id2)->{status}, 202, 'publish');
is($t->put("/api/dandisets/$id2/versions/draft/", { name => 'Changed', metadata => $md }, token => $alice)->{status}, 200,
    'the draft is edited before the job runs');
$t->jobs('run');
like(join("\n", map { join "\t", @$_ } $t->psql("SELECT state, last_error FROM jobs WHERE args->>'dandiset' = '" . ($id2 + 0) . "'")),
    qr/^failed\tthe draft is no longer Publishing/, 'the job fails visibly, without retrying');
is(scalar(grep { $_->{version} ne 'draft' } @{ $t->get("/api/dandisets/$id2/versions/")->{json}{results} }), 0,
    'nothing published');
like($t->jobs('list', '--state', 'failed'), qr/publish\tfailed/, 'dandi-jobs list shows it');

# --- a dandiset that owns a zarr no asset points at ------------------------------------------------

# The zarr stays with its dandiset after its asset is removed (#2915 of
# the original): that no longer stops a publish; nor does a zarr that
# never had an asset.
is($t->delete("/api/dandisets/$zd/versions/draft/assets/$za->{json}{asset_id}/", token => $alice)->{status}, 204,
    'the zarr asset is removed from the draft');
is($t->post('/api/zarr/', { name => 'never.zarr', dandiset => $zd }, token => $alice)->{status}, 200,
    'and another zarr with no asset');
is(one("SELECT count(*) FROM zarrs WHERE dandiset_id = $zd"), 2, 'the dandiset owns two zarrs');
make_valid($zd);
is(publish($zd)->{status}, 202, 'owning zarrs without assets: 202');
$t->jobs('run');
is_deeply([ map { $_->{path} } @{ $t->get("/api/dandisets/$zd/versions/" . (grep { $_ ne 'draft' }
    map { $_->{version} } @{ $t->get("/api/dandisets/$zd/versions/")->{json}{results} })[0] . '/assets/')->{json}{results} } ],
    [ 'plain.nwb' ], 'published, with its one blob asset');

# --- two workers at once -------------------------------------------------------------------------------

my @ids = map { my $d = new_dandiset("Parallel $_"); add($d, "f$_.nwb"); make_valid($d); $d } 1 .. 6;
is(publish($_)->{status}, 202, "publish $_") for @ids;
my @pids;
for (1 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) { eval { $t->jobs('run') }; POSIX::_exit(0) }
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
is(one("SELECT count(*) FROM jobs WHERE state = 'done' AND args->>'dandiset' IN (" . join(",", map { "'" . ($_ + 0) . "'" } @ids) . ")"),
    6, 'two workers: all six jobs done');
is(one("SELECT count(*) FROM versions WHERE version <> 'draft' AND dandiset_id IN (" . join(',', @ids) . ")"), 6,
    'exactly one published version each');

# --- the connections of a run --------------------------------------------------------------------------
# However many kinds it works, a run holds two connections: the one whose
# transaction holds the claimed job and the work connection of every job.
# Jobs of five kinds are queued ahead of a publish whose draft another
# session holds locked; while the publish waits, the run's connections are
# counted (it names itself with PGAPPNAME).
my $cd = new_dandiset('Connections');
add($cd, 'c.nwb');
make_valid($cd);
my $nx = '99999999-1111-4000-8000-000000000000';
$t->psql("SELECT dandi_enqueue('$_->[0]', '$_->[1]', '$_->[2]')") for [ 'zarr_ingest', $nx, qq({"zarr": "$nx"}) ],
    [ 'sha256', $nx, qq({"blob": "$nx"}) ], [ 'blob_untag', $nx, '{}' ],
    [ 'unembargo', '999999', '{"dandiset": 999999, "user": 1}' ], [ 'doi_delete', 'x/999999', '{"doi": "x/999999"}' ];
is(publish($cd)->{status}, 202, 'a publish queued after them');
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $cd AND version = 'draft'");
sub wait_for { my ($what) = @_; for (1 .. 1200) { return 1 if $what->(); sleep 0.05 } return 0 }
my $holder = fork // die;
if ($holder == 0) {
	eval { $t->psql("BEGIN; SELECT 1 FROM versions WHERE id = $vid FOR UPDATE; SELECT pg_sleep(120); COMMIT") };
	POSIX::_exit(0);
}
ok(wait_for(sub { one("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 1 }),
    'a session holds the draft locked');
my $run = fork // die;
if ($run == 0) {
	$ENV{PGAPPNAME} = 'dandi-jobs-connections';
	my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-jobs', 'run', '--no-validate');
	open(my $f, '>', $t->dir . '/connections.out') or die;
	print $f "$rc $out$err";
	close $f;
	POSIX::_exit(0);
}
my $mine = "FROM pg_stat_activity WHERE application_name = 'dandi-jobs-connections'";
ok(wait_for(sub { one("SELECT count(*) $mine AND wait_event_type = 'Lock'") == 1 }), 'the run waits for the draft');
is(one("SELECT count(*) FROM jobs WHERE state = 'done' AND args->>'key' IN ('$nx', '999999', 'x/999999')"), 5,
    'after working the five jobs before it');
is(one("SELECT count(*) $mine"), 2, 'the run holds two connections: the claim and the work');
$t->psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'");
waitpid($_, 0) for $holder, $run;
like(do { local (@ARGV, $/) = ($t->dir . '/connections.out'); <> }, qr/^0 \d+ job\(s\) worked/, 'the run ends well');
is(draft_status($cd), 'Published', 'and the publish is done');

done_testing;
