# Metadata validation end to end: the schemas served, dandi-jobs validate
# turning Pending drafts and ready assets into Valid/Invalid with the
# original's {field, message} errors (visible in version info and the asset
# validation endpoint), fixing metadata, publishing without any forced
# status, two sweepers at once, and a sweeper killed half way.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
sub one { my @r = $t->psql(@_); $r[0][0] }

# --- schemas --------------------------------------------------------------------------

my $info = $t->get('/api/info/')->{json};
is($info->{schema_version}, '0.7.0', 'schema_version');
is($info->{schema_url}, $t->api_url . '/api/schemas/?model=Dandiset', 'schema_url');
my $s = $t->get('/api/schemas/?model=Dandiset');
is($s->{status}, 200, 'schema_url answers');
like($s->{headers}{'content-type'}, qr{application/json}, 'as JSON');
is($s->{json}{properties}{schemaVersion}{default}, '0.7.0', 'of the current version');
is($s->{json}{properties}{description}{maxLength}, 10000, '0.7.0 allows 10000-character descriptions');
ok(exists $s->{json}{'$defs'}{Person}, 'self-contained ($defs)');
my $ps = $t->get('/api/schemas/?model=PublishedDandiset&version=latest')->{json};
is($ps->{properties}{id}{pattern}, '^DANDI:\d{6}/\d+\.\d+\.\d+$', 'PublishedDandiset: instance id pattern');
ok($ps->{properties}{releaseNotes}, 'PublishedDandiset has releaseNotes');
for my $m (qw(Asset PublishedAsset)) {
	is($t->get("/api/schemas/?model=$m")->{json}{title}, $m eq 'Asset' ? 'Asset' : 'Published Asset', "model $m");
}
is_deeply([ @{ $t->get('/api/schemas/?model=Nope') }{qw(status json)} ],
    [ 400, { model => ['"Nope" is not a valid choice.'] } ], 'unknown model: 400');
is_deeply([ @{ $t->get('/api/schemas/') }{qw(status json)} ], [ 400, { model => ['This field is required.'] } ],
    'no model: 400');
is_deeply([ @{ $t->get('/api/schemas/?model=Asset&version=0.6.9') }{qw(status json)} ],
    [ 400, 'Invalid schema version 0.6.9. Server schema version is 0.7.0' ], 'another version: 400');

# --- drafts ----------------------------------------------------------------------------

my $md = {
	schemaKey => 'Dandiset', description => 'Recordings', license => ['spdx:CC-BY-4.0'],
	contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
	    includeInCitation => JSON::PP::true, schemaKey => 'Person' } ],
};
sub new_dandiset {
	my ($name, $m) = @_;
	my $r = $t->post('/api/dandisets/', { name => $name, metadata => $m // $md }, token => $alice);
	die "create: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my $nblob = 0;
sub blob {
	my (%o) = @_;
	my $u = sprintf '%08d-2222-4000-8000-000000000000', ++$nblob;
	my $sha = exists $o{sha256} ? $o{sha256} : sprintf('%064x', $nblob);
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$u', 'blobs/y/$u', '"
	    . sprintf('%032x', $nblob) . "-1', " . ($o{size} // 10) . ", " . (defined $sha ? "'$sha'" : 'NULL') . ")");
	return $u;
}
sub add {
	my ($id, $m, %o) = @_;
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => blob(%o), metadata => $m },
	    token => $alice);
	die "add failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
sub vinfo { $t->get("/api/dandisets/$_[0]/versions/draft/info/", token => $alice)->{json} }
sub validation { $t->get("/api/dandisets/$_[0]/versions/draft/assets/$_[1]/validation/", token => $alice)->{json} }
sub validate { my $out = $t->jobs('validate', @_); $out =~ /validated (\d+) version\(s\), (\d+) asset\(s\)/ or die $out; ($1, $2) }

my $empty = new_dandiset('Empty');
is(vinfo($empty)->{status}, 'Pending', 'a new draft is Pending');
my $long = new_dandiset('L' x 151);
my $good = new_dandiset('Good');
my $nwb = { schemaKey => 'Asset', encodingFormat => 'application/x-nwb' };
my $ok1 = add($good, { %$nwb, path => 'sub-01/sub-01_ecephys.nwb' }, size => 100);
my $bad1 = add($good, { %$nwb, path => 'sub-02/sub-02_ecephys.nwb', wasAttributedTo => [ { schemaKey => 'Participant' } ] });
my $bad2 = add($good, { %$nwb, path => 'old.nwb', schemaVersion => '0.1.0' });
my $bad3 = add($good, { schemaKey => 'Asset', path => 'noformat.bin', contentSize => 'x' });
my $notready = add($good, { %$nwb, path => 'hashing.nwb' }, sha256 => undef);

my ($nv, $na) = validate();
is_deeply([ $nv, $na ], [ 3, 4 ], 'one sweep: 3 drafts and the 4 ready assets');

is_deeply([ @{ vinfo($empty) }{qw(status version_validation_errors)} ], [ 'Invalid', [ { field => 'assetsSummary',
    message => 'Value error, A Dandiset containing no files or zero bytes is not publishable' } ] ],
    'empty draft: Invalid, not publishable');
is_deeply([ @{ vinfo($long) }{qw(status version_validation_errors)} ], [ 'Invalid', [ { field => 'name',
    message => "'" . ('L' x 151) . "' is too long" } ] ], 'a name of 151 characters: Invalid, too long');
my $gi = vinfo($good);
is_deeply([ $gi->{status}, $gi->{version_validation_errors} ], [ 'Valid', [] ], 'draft with files: Valid');
sub summary { @{ $t->get("/api/dandisets/$_[0]/versions/draft/", token => $alice)->{json}{assetsSummary} }
    {qw(numberOfFiles numberOfBytes)} }
is_deeply([ summary($good) ], [ 1, 100 ],
    'the draft assetsSummary counts the asset the same sweep found Valid (drafts are swept first)');

is_deeply(validation($good, $ok1->{asset_id}), { status => 'Valid', validation_errors => [] }, 'good asset: Valid');
is_deeply(validation($good, $bad1->{asset_id}), { status => 'Invalid', validation_errors => [
    { field => 'wasAttributedTo.0', message => "'identifier' is a required property" } ] },
    'participant without identifier: Invalid, with its path');
is_deeply(validation($good, $bad2->{asset_id}), { status => 'Invalid', validation_errors => [ { field => '',
    message => 'Metadata version 0.1.0 is not allowed. Allowed are: 0.7.0, 0.4.4, 0.5.1, 0.5.2, 0.6.0, 0.6.1, '
    . '0.6.2, 0.6.3, 0.6.4, 0.6.5, 0.6.6, 0.6.7, 0.6.8, 0.6.9, 0.6.10.' } ] }, 'unsupported schemaVersion: Invalid');
is_deeply(validation($good, $bad3->{asset_id}), { status => 'Invalid', validation_errors => [
    { field => '', message => "'encodingFormat' is a required property" } ] },
    'no encodingFormat: Invalid (a client contentSize is replaced by the server)');
is_deeply(validation($good, $notready->{asset_id}), { status => 'Pending', validation_errors => [] },
    'an asset whose sha256 is unknown stays Pending');

my $ave = $gi->{asset_validation_errors};
is_deeply([ sort map { "$_->{path}|$_->{field}|$_->{message}" } @$ave ], [ sort
    "hashing.nwb||asset is currently being validated, please wait.",
    "noformat.bin||'encodingFormat' is a required property",
    "old.nwb||Metadata version 0.1.0 is not allowed. Allowed are: 0.7.0, 0.4.4, 0.5.1, 0.5.2, 0.6.0, 0.6.1, "
    . "0.6.2, 0.6.3, 0.6.4, 0.6.5, 0.6.6, 0.6.7, 0.6.8, 0.6.9, 0.6.10.",
    "sub-02/sub-02_ecephys.nwb|wasAttributedTo.0|'identifier' is a required property" ],
    'version info lists the pending and the invalid assets') or diag(encode_json($ave));
is_deeply([ @{ $t->post("/api/dandisets/$good/versions/draft/publish/", undef, token => $alice) }{qw(status json)} ],
    [ 400, 'Dandiset metadata or asset metadata is not valid' ], 'invalid assets: publish refused');
is_deeply([ validate() ], [ 0, 0 ], 'a second sweep finds nothing');

# Pydantic-only rules run when the JSON Schema passes.
my $nocontact = new_dandiset('No contact', { %$md, contributor => [ { name => 'Smith, Alice',
    roleName => ['dcite:Author'], schemaKey => 'Person' } ] });
my $noemail = new_dandiset('No email', { %$md, contributor => [ { name => 'Smith, Alice',
    roleName => ['dcite:ContactPerson'], schemaKey => 'Person' } ] });
my $badname = new_dandiset('Bad name', { %$md, contributor => [ { name => 'Alice Smith', email => 'a@b.org',
    roleName => ['dcite:ContactPerson'], schemaKey => 'Person' } ] });
add($_, { %$nwb, path => 'f.nwb' }) for $nocontact, $noemail, $badname;
validate();
is_deeply(vinfo($nocontact)->{version_validation_errors}, [ { field => 'contributor',
    message => 'Value error, At least one contributor must have role ContactPerson' } ], 'no contact person');
is_deeply(vinfo($noemail)->{version_validation_errors}, [ { field => 'contributor',
    message => 'Value error, Contact person must have an email address.' } ], 'contact person without email');
is_deeply(vinfo($badname)->{version_validation_errors}, [ { field => 'contributor',
    message => "String should match pattern '^([\\w\\s\\-\\.']+),\\s+([\\w\\s\\-\\.']+)\$'" } ],
    'person name not "Last, First"');

# --- fixing ----------------------------------------------------------------------------

my $r = $t->put("/api/dandisets/$long/versions/draft/", { name => 'Short now', metadata => $md }, token => $alice);
is($r->{json}{status}, 'Pending', 'fixing the name: Pending');
add($long, { %$nwb, path => 'data.nwb' });
for my $a ($bad1, $bad2, $bad3) {
	my $p = $a->{path};
	$r = $t->put("/api/dandisets/$good/versions/draft/assets/$a->{asset_id}/",
	    { blob_id => $a->{blob}, metadata => { %$nwb, path => $p } }, token => $alice);
	is($r->{status}, 200, "asset $p fixed (a new asset)");
}
$t->psql("UPDATE blobs SET sha256 = repeat('c', 64) WHERE blob_id = '$notready->{blob}'");
is(vinfo($good)->{status}, 'Pending', 'the draft is Pending again');
validate();
is_deeply([ @{ vinfo($long) }{qw(status version_validation_errors)} ], [ 'Valid', [] ], 'fixed draft: Valid')
    or diag(encode_json(vinfo($long)));
$gi = vinfo($good);
is_deeply([ @$gi{qw(status asset_validation_errors)} ], [ 'Valid', [] ], 'all assets Valid now');
is(validation($good, $notready->{asset_id})->{status}, 'Valid', 'the asset whose sha256 arrived: Valid');
is_deeply([ summary($good) ], [ 5, 140 ], 'the assetsSummary counts all 5 Valid assets');

# --- publish without forcing anything -------------------------------------------------------------------

is($t->post("/api/dandisets/$good/versions/draft/publish/", { release_notes => 'v1' }, token => $alice)->{status}, 202,
    'publish: 202');
like($t->jobs('run'), qr/^1 job\(s\) worked/m, 'publish job');
my @pub = grep { $_->{version} ne 'draft' } @{ $t->get("/api/dandisets/$good/versions/")->{json}{results} };
is(scalar @pub, 1, 'published');
is(vinfo($good)->{status}, 'Published', 'draft Published');
my $pubmd = $t->get("/api/dandisets/$good/versions/$pub[0]{version}/")->{json};
is($pubmd->{assetsSummary}{numberOfFiles}, 5, 'published with its 5 assets');
is_deeply([ validate() ], [ 0, 0 ], 'published assets are never validated again');

# --- a row changed while it is validated is not overwritten with a stale result ---------------------------

{
	my $d = new_dandiset('Race');
	add($d, { %$nwb, path => 'x.nwb' });
	# Hold the draft's row lock as the sweeper would, its result written
	# but not committed; change the metadata behind it (the PUT waits for
	# the lock), then let the sweep commit: the PUT's Pending wins because
	# it comes after.
	my $sweeper = $t->db_connect;
	my $spid = $sweeper->selectrow_array('SELECT pg_backend_pid()');
	$sweeper->begin_work;
	$sweeper->do("SELECT 1 FROM versions WHERE dandiset_id = $d AND version = 'draft' FOR UPDATE");
	$sweeper->do("UPDATE versions SET status = 'Valid' WHERE dandiset_id = $d AND version = 'draft'"
	    . " AND status = 'Pending'");
	pipe(my $from_put, my $to_parent) or die "pipe: $!";
	my $pid = fork // die;
	if ($pid == 0) {
		close $from_put;
		my $res = $t->put("/api/dandisets/$d/versions/draft/", { name => 'Race 2', metadata => $md }, token => $alice);
		print $to_parent encode_json({ status => $res->{status}, json => $res->{json} });
		close $to_parent;
		POSIX::_exit(0);
	}
	close $to_parent;
	my $blocked = 0;
	for (1 .. 3000) {	# a minute at most
		last if $blocked = one("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
		    . " AND $spid = ANY (pg_blocking_pids(pid))");
		sleep 0.02;
	}
	ok($blocked, 'the PUT waits for the row lock the sweeper holds');
	$sweeper->commit;
	$sweeper->disconnect;
	my $put = decode_json(do { local $/; <$from_put> } || '{}');
	waitpid($pid, 0);
	is($put->{status}, 200, 'the PUT goes through once the sweep has committed');
	is($put->{json}{status}, 'Pending', 'a change made during validation leaves the draft Pending');
	is_deeply([ validate() ], [ 1, 1 ], 'and the next sweep validates it again (and its asset)');
	is(vinfo($d)->{status}, 'Valid', 'Valid');
}

# --- two sweepers at once; a sweeper killed half way ---------------------------------------------------------

my $big = new_dandiset('Big');
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $big AND version = 'draft'");
my $N = 3000;
$t->psql(<<"SQL");
INSERT INTO blobs (blob_id, blob, etag, size, sha256)
  SELECT gen_random_uuid(), 'blobs/big/' || g, md5(g::text) || '-1', g, encode(sha256(g::text::bytea), 'hex')
  FROM generate_series(1, $N) g;
INSERT INTO assets (asset_id, path, blob_id, metadata)
  SELECT gen_random_uuid(), 'big/f' || b.size || '.nwb', b.id,
    jsonb_build_object('schemaKey', 'Asset', 'schemaVersion', '0.7.0', 'encodingFormat', 'application/x-nwb')
    || CASE WHEN b.size % 3 = 0 THEN '{"wasAttributedTo": [{"schemaKey": "Participant"}]}'::jsonb ELSE '{}' END
  FROM blobs b WHERE b.blob LIKE 'blobs/big/%';
INSERT INTO asset_versions (asset_id, version_id) SELECT a.id, $vid FROM assets a WHERE a.path LIKE 'big/%';
SQL
my @drafts = map { new_dandiset("Many $_") } 1 .. 20;

my @pids;
my $dir = $t->dir;
for my $k (1, 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $out = eval { $t->jobs('validate', '--batch', 50) } // "error: $@";
		open(my $fh, '>', "$dir/sweep$k.out") or die;
		print $fh $out;
		close $fh;
		POSIX::_exit(0);
	}
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
my ($sv, $sa) = (0, 0);
for my $k (1, 2) {
	open(my $fh, '<', "$dir/sweep$k.out") or die;
	my $out = do { local $/; <$fh> };
	my ($v, $a) = $out =~ /validated (\d+) version\(s\), (\d+) asset\(s\)/ or diag($out);
	$sv += $v // 0;
	$sa += $a // 0;
	note("sweeper $k: $v versions, $a assets");
}
is($sv, 21, 'two sweepers at once: each of the 21 drafts validated once');
is($sa, $N, "and each of the $N assets once");
is(one("SELECT count(*) FROM assets WHERE path LIKE 'big/%' AND status = 'Pending'"), 0, 'none left Pending');
my $snap = sub {
	join "\n", map { join "|", @$_ } $t->psql("SELECT a.path, a.status, a.validation_errors::text FROM assets a"
	    . " WHERE a.path LIKE 'big/%' ORDER BY a.path");
};
my $want = $snap->();
is(one("SELECT count(*) FROM assets WHERE path LIKE 'big/%' AND status = 'Invalid'"), $N / 3,
    'every third asset Invalid');

# Back to Pending, then a sweeper is killed in the middle of it.
$t->psql("UPDATE assets SET status = 'Pending', validation_errors = '[]' WHERE path LIKE 'big/%'");
my $pid = fork // die;
if ($pid == 0) {
	%ENV = (%ENV, %{ $t->env });
	exec($t->build . '/src/dandi-jobs', 'validate', '--batch', 20) or POSIX::_exit(127);
}
for (1 .. 6000) {	# a minute at most
	last if one("SELECT count(*) FROM assets WHERE path LIKE 'big/%' AND status <> 'Pending'") > 100;
	sleep 0.01;
}
kill 'KILL', $pid;
waitpid($pid, 0);
my $left = one("SELECT count(*) FROM assets WHERE path LIKE 'big/%' AND status = 'Pending'");
ok($left > 0 && $left < $N, "killed half way ($left of $N still Pending)");
is_deeply([ validate() ], [ 0, $left ], 'a rerun validates exactly the rest');
is($snap->(), $want, 'and reaches the same end state');

done_testing;
