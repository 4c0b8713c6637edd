# Manifest files (dandiset.jsonld, dandiset.yaml, assets.jsonld,
# assets.yaml, collection.jsonld under dandisets/<id>/<version>/ in S3):
# written for a draft by the validation sweep and for a published version
# by the publish job, byte for byte as the original writes them (checked
# with Python's json and PyYAML's CSafeDumper against what the API
# serves), rewritten after a draft changes, tagged in an embargoed
# dandiset (untagged by unembargo), worked once by two runs at once, and
# streamed in multipart parts for a draft of thousands of assets.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes ();
use DandiTest;

# Debian's python3 with python3-yaml (contrib/dev/install-deps), whatever
# other python3 comes first on PATH.
my $PYTHON = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';

my $MiB = 1024 * 1024;
my $t = DandiTest->new(s3 => 1, env => { DANDI_MANIFEST_PART_SIZE => 5 * $MiB });
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
sub one { my @r = $t->psql($_[0]); return $r[0][0] }
my @FILES = qw(dandiset.jsonld dandiset.yaml assets.jsonld assets.yaml collection.jsonld);
my $tool = DandiTest::build() . '/t/unit/s3-tool';
my $checker = DandiTest::root() . '/t/inc/manifest_check.py';

# s3-tool with the harness's S3 settings: its output, or undef when it failed.
sub s3tool {
	my ($out, undef, $rc) = $t->run_cmd($tool, @_);
	return $rc == 0 ? $out : undef;
}
sub tags { my $o = s3tool('tags', $_[0]); chomp $o if defined $o; $o }
sub stat_of { my $o = s3tool('stat', $_[0]) // return; chomp $o; [ split / /, $o, 3 ] }
sub prefix { sprintf 'dandisets/%06d/%s/', @_ }
# dandi-jobs logs into the harness's log file: the lines of it from line $from on.
sub log_lines {
	my ($from) = @_;
	open(my $f, '<:raw', $t->dir . '/api.log') or return ();
	my @l = <$f>;
	return @l[($from // 0) .. $#l];
}

# Fetches the five files and what the API serves for the version into a
# directory, and runs the checker on it; returns its verdicts.
my $ncheck = 0;
sub check_manifests {
	my ($id, $version, $label, %o) = @_;
	my $dir = $t->dir . '/check-' . ++$ncheck;
	mkdir $dir or die;
	my $tok = $o{token} // $alice;
	my $v = $t->get("/api/dandisets/$id/versions/$version/", token => $tok);
	die "version: $v->{status}" unless $v->{status} == 200;
	open(my $f, '>:raw', "$dir/version.json") or die;
	print $f $v->{body};
	close $f;
	my ($page, $path) = (0, "/api/dandisets/$id/versions/$version/assets/?metadata=true&page_size=1000");
	while (defined $path) {
		my $r = $t->get($path, token => $tok);
		die "assets: $r->{status}" unless $r->{status} == 200;
		open($f, '>:raw', sprintf("%s/assets-%04d.json", $dir, ++$page)) or die;
		print $f $r->{body};
		close $f;
		$path = $r->{json}{next};
		$path =~ s{^https?://[^/]+}{} if defined $path;
	}
	for my $file (@FILES) {
		my $bytes = s3tool('get', prefix($id, $version) . $file);
		unless (defined $bytes) { fail("$label: $file exists"); return }
		open($f, '>:raw', "$dir/$file") or die;
		print $f $bytes;
		close $f;
	}
	my $out = `$PYTHON $checker $dir 2>&1`;
	my $n = 0;
	for (split /\n/, $out) {
		if (/^(not )?ok (.*)$/) { ok(!$1, "$label: $2"); $n++ }
		elsif (/^# assets: (\d+)/) { is($1, $o{assets}, "$label: $1 asset(s) checked") if defined $o{assets} }
		else { diag($_) }
	}
	is($n, 7, "$label: all seven checks ran") or diag($out);
}

# --- a draft with awkward metadata ----------------------------------------------------------------
my $md = {
	description => "Recordings of mice.\nSecond line: with a colon, and a \"quote\" – ünïcödé ✓ 日本\n\nyes",
	license => ['spdx:CC-BY-4.0'],
	keywords => [ 'yes', 'null', '1.0', '0x1F', '- dash', '#hash', "it's", '', ' lead', 'trail ', "tab\there",
	    '2021-01-01', '@at', 'emoji 😀', "line\x{2028}sep", 'x' x 100, join(' ', ('word') x 40) ],
	contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
	    includeInCitation => JSON::PP::true, schemaKey => 'Person' } ],
	study => { a => [], b => {}, c => [ [ 1, 2.5 ], { z => JSON::PP::false, y => undef } ] },
};
my $id = $t->post('/api/dandisets/', { name => 'Manifests: ünïcödé', metadata => $md }, token => $alice)->{json}{identifier};
ok($id, "dandiset $id");
my $nblob = 0;
sub blob {
	my (%o) = @_;
	my $u = sprintf '%08d-1111-4000-8000-000000000000', ++$nblob;
	# (an embargoed one as its upload for the dandiset leaves it)
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256, embargoed, upload_dandiset_id) VALUES ('$u',"
	    . " 'blobs/x/$u', '" . sprintf('%032x', $nblob) . "-1', " . ($o{size} // 10) . ", '" . sprintf('%064x', $nblob)
	    . "', " . ($o{embargoed} ? 'true' : 'false') . ", " . ($o{dandiset} // 'NULL') . ")");
	return $u;
}
sub add {
	my ($did, $path, %m) = @_;
	my $r = $t->post("/api/dandisets/$did/versions/draft/assets/",
	    { blob_id => blob(embargoed => delete $m{embargoed}, dandiset => $did),
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => $path, %m } },
	    token => $alice);
	die "add failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
add($id, 'sub-01/sub-01_ses-1_ecephys.nwb', description => "multi\nline: 'x'", keywords => [ 'on', 'OFF', '~' ],
    wasAttributedTo => [ { schemaKey => 'Participant', identifier => 'mouse.1', age => { schemaKey => 'PropertyValue',
        value => 'P90D', unitText => 'ISO-8601 duration' } } ]);
add($id, 'sub-02/sub-02_ses-1_ecephys.nwb', variableMeasured => [ { schemaKey => 'PropertyValue', value => 'ElectricalSeries' } ]);
add($id, 'sub-03/odd name (1), yes.nwb');

my $out = $t->jobs('run');
like($out, qr/^validated 1 version\(s\), 3 asset\(s\)/m, 'the sweep validated the draft and its assets');
like($out, qr/^1 job\(s\) worked after the sweep/m, 'and wrote the draft manifests in the same run');
check_manifests($id, 'draft', 'draft', assets => 3);
is_deeply([ map { stat_of(prefix($id, 'draft') . $_)->[2] } @FILES ],
    [ 'application/ld+json', 'application/octet-stream', 'application/ld+json', 'application/octet-stream',
      'application/ld+json' ], 'content types: .jsonld JSON-LD, .yaml the storage default');
is(tags(prefix($id, 'draft') . 'assets.yaml'), '', 'an open dandiset: no tags');
is(one("SELECT count(*) FROM jobs WHERE kind = 'manifests' AND state = 'done'"), 1, 'one manifests job, done');

like($t->jobs('run'), qr/^0 job\(s\) worked\n.*validated 0 version\(s\), 0 asset\(s\)\n\z/s,
    'a run with nothing validated rewrites nothing');

# --- publish --------------------------------------------------------------------------------------
my $info = $t->get("/api/dandisets/$id/versions/draft/info/", token => $alice)->{json};
is_deeply([ $info->{status}, $info->{asset_validation_errors} ], [ 'Valid', [] ], 'the draft and its assets are Valid')
    or diag(encode_json([ $info->{version_validation_errors}, $info->{asset_validation_errors} ]));
is($t->post("/api/dandisets/$id/versions/draft/publish/", undef, token => $alice)->{status}, 202, 'publish: 202');
$out = $t->jobs('run', '--no-validate');
like($out, qr/^2 job\(s\) worked/m, 'the publish job, then the manifests job it queued');
my $pv = $t->get("/api/dandisets/$id/")->{json}{most_recent_published_version}{version};
like($pv, qr/^0\.\d{6}\.\d{4}$/, "published $pv");
check_manifests($id, $pv, 'published', assets => 3);
my $pmd = $t->get("/api/dandisets/$id/versions/$pv/")->{json};
like($pmd->{manifestLocation}[0], qr{/dandisets/\Q${\ sprintf('%06d', $id)}\E/\Q$pv\E/assets\.yaml$},
    'manifestLocation names the published assets.yaml');

# --- the draft changes: its manifests follow ------------------------------------------------------
my $a4 = add($id, 'sub-04/sub-04_ses-1_ecephys.nwb', description => 'the fourth');
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft'");
$out = $t->jobs('run');
like($out, qr/^1 job\(s\) worked after the sweep/m, 'the asset validated: the draft manifests rewritten');
check_manifests($id, 'draft', 'draft after a new asset', assets => 4);
like(s3tool('get', prefix($id, 'draft') . 'collection.jsonld'), qr/"dandiasset:\Q$a4->{asset_id}\E"\]\}$/,
    'the new asset is the last member');
check_manifests($id, $pv, 'published, unchanged', assets => 3);

# By hand, and de-duplicated: one queued job per version.
like($t->jobs('manifests', $vid), qr/^queued manifests job \d+$/m, "dandi-jobs manifests $vid");
$t->jobs('manifests', sprintf('%06d/draft', $id));
$t->jobs('manifests', $vid, $vid);
is(one("SELECT count(*) FROM jobs WHERE kind = 'manifests' AND state = 'queued'"), 1, 'three requests, one queued job');
like($t->jobs('run', '--no-validate'), qr/^1 job\(s\) worked/m, 'worked once');
ok(!eval { $t->jobs('manifests', '999999/draft'); 1 }, 'an unknown version is refused');

# --- embargoed -------------------------------------------------------------------------------------
my $eid = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => $md }, token => $alice)->{json}{identifier};
add($eid, 'sub-01/secret.nwb', embargoed => 1);
like($t->jobs('run'), qr/^1 job\(s\) worked after the sweep/m, 'embargoed draft: manifests written');
is_deeply([ map { tags(prefix($eid, 'draft') . $_) } @FILES ], [ ('embargoed=true') x 5 ],
    'all five carry the embargo tag');
check_manifests($eid, 'draft', 'embargoed draft', assets => 1);
is($t->post("/api/dandisets/$eid/unembargo/", undef, token => $alice)->{status}, 200, 'unembargo');
$t->jobs('run');
is($t->get("/api/dandisets/$eid/", token => $alice)->{json}{embargo_status}, 'OPEN', 'unembargo job done');
is_deeply([ map { tags(prefix($eid, 'draft') . $_) } @FILES ], [ ('') x 5 ], 'the tags are gone');
check_manifests($eid, 'draft', 'unembargoed draft', assets => 1);

# --- deep metadata: what the API accepts, the jobs read ----------------------------------------------
# The API reads bodies to 64 nested arrays and objects, so metadata ({"metadata": M}) to 63;
# dandi-jobs reads it back with the same parser. It used json-c's default of 32 levels: a deeper
# draft became Invalid ("Metadata version None is not allowed"), its manifests job failed for
# ever, and an unchanged PUT was saved again (the stored metadata could not be compared).
sub deep {	# a value of $_[0] levels (arrays and objects) holding a string
	my $v = 'leaf';
	$v = $_ % 2 ? [$v] : { level => $v } for 1 .. $_[0];
	return $v;
}
my $did = $t->post('/api/dandisets/', { name => 'Deep', metadata => $md }, token => $alice)->{json}{identifier};
# As the dandi client changes metadata: what GET gives, edited, PUT back.
my $deepmd = { %{ $t->get("/api/dandisets/$did/versions/draft/")->{json} }, deepStructure => deep(62) };
my $r = $t->put("/api/dandisets/$did/versions/draft/", { name => 'Deep', metadata => $deepmd }, token => $alice);
is($r->{status}, 200, 'PUT of metadata 63 levels deep (a body of 64): 200') or diag($r->{body});
my $modified = $r->{json}{modified};
$r = $t->put("/api/dandisets/$did/versions/draft/", { name => 'Deep', metadata => $deepmd }, token => $alice);
is_deeply([ $r->{status}, $r->{json}{modified} ], [ 200, $modified ], 'the same PUT again: nothing saved');
$r = $t->put("/api/dandisets/$did/versions/draft/", { name => 'Deep', metadata => { %$deepmd, deepStructure => deep(63) } },
    token => $alice);
is($r->{status}, 400, 'metadata 64 levels deep (a body of 65): 400');
like($r->{json}{detail} // $r->{body}, qr/^JSON parse error - Nesting deeper than 64 levels: line 1 column \d+ \(char \d+\)$/,
    'JSON parse error, saying where');
is_deeply($t->get("/api/dandisets/$did/versions/draft/")->{json}{deepStructure}, deep(62), 'the draft kept the deepest');
my $deep_asset = add($did, 'sub-01/deep.nwb', deepStructure => deep(62));
$out = $t->jobs('run');
like($out, qr/^validated 1 version\(s\), 1 asset\(s\)/m, 'the sweep validated the deep draft and asset');
like($out, qr/^1 job\(s\) worked after the sweep/m, 'and wrote their manifests');
$info = $t->get("/api/dandisets/$did/versions/draft/info/", token => $alice)->{json};
is_deeply([ @$info{qw(status version_validation_errors asset_validation_errors)} ], [ 'Valid', [], [] ],
    'the deep draft and its asset are Valid') or diag(encode_json($info));
is(one("SELECT count(*) FROM jobs WHERE state <> 'done'"), 0, 'no job failed');
check_manifests($did, 'draft', 'deep draft', assets => 1);
is($t->post("/api/dandisets/$did/versions/draft/publish/", undef, token => $alice)->{status}, 202, 'deep: publish');
like($t->jobs('run', '--no-validate'), qr/^2 job\(s\) worked/m, 'the publish and manifests jobs');
my $dpv = $t->get("/api/dandisets/$did/")->{json}{most_recent_published_version}{version} // '';
like($dpv, qr/^0\.\d{6}\.\d{4}$/, "deep: published $dpv");
is_deeply($t->get("/api/dandisets/$did/versions/$dpv/")->{json}{deepStructure}, deep(62),
    'the published metadata holds the whole structure');
is_deeply($t->get("/api/dandisets/$did/versions/$dpv/assets/?metadata=true")->{json}{results}[0]{metadata}{deepStructure},
    deep(62), 'so does the published asset');
is(one("SELECT count(*) FROM jobs WHERE state <> 'done'"), 0, 'no job failed');
check_manifests($did, $dpv, 'deep published', assets => 1);

# --- thousands of assets: multipart parts, two runs at once, a killed run ---------------------------
my $N = 4000;
my $lid = $t->post('/api/dandisets/', { name => 'Many', metadata => $md }, token => $alice)->{json}{identifier};
my $first = add($lid, 'sub-0000/f00000.nwb', description => join(' ', ('padding') x 200));
my $lvid = one("SELECT id FROM versions WHERE dandiset_id = $lid AND version = 'draft'");
$t->psql(<<SQL);
WITH src AS (SELECT blob_id, metadata FROM assets WHERE asset_id = '$first->{asset_id}'),
new AS (INSERT INTO assets (asset_id, path, blob_id, metadata)
        SELECT gen_random_uuid(), 'sub-' || lpad((g / 1000)::text, 4, '0') || '/f' || lpad(g::text, 5, '0') || '.nwb',
               src.blob_id, jsonb_set(src.metadata, '{path}', to_jsonb('sub-' || lpad((g / 1000)::text, 4, '0')
                   || '/f' || lpad(g::text, 5, '0') || '.nwb'))
        FROM src, generate_series(1, $N - 1) g RETURNING id)
INSERT INTO asset_versions (asset_id, version_id) SELECT id, $lvid FROM new;
SELECT count(dandi_asset_paths_put($lvid, a)) FROM assets a JOIN asset_versions av ON av.asset_id = a.id
WHERE av.version_id = $lvid AND a.asset_id <> '$first->{asset_id}';
SELECT dandi_asset_paths_fold($lvid);
SQL
is($t->get("/api/dandisets/$lid/versions/draft/assets/")->{json}{count}, $N, "$N assets");

# A run killed while it writes leaves the job queued; the next run does it all again.
$t->jobs('manifests', $lvid);
my $pid = fork // die;
if ($pid == 0) {
	%ENV = (%ENV, %{ $t->env });
	open(STDOUT, '>', '/dev/null');
	open(STDERR, '>', '/dev/null');
	exec(DandiTest::build() . '/src/dandi-jobs', 'run', '--no-validate') or POSIX::_exit(127);
}
select(undef, undef, undef, 0.4);
kill 'KILL', $pid;
waitpid($pid, 0);
my $state = one("SELECT state FROM jobs WHERE kind = 'manifests' AND args->>'version_id' = '$lvid' ORDER BY id DESC LIMIT 1");
ok($state eq 'queued' || $state eq 'done', "killed run: the job is $state");

# Two runs at once: one writes, the other finds the job taken.
my $logpos = () = log_lines();
my @outs;
my @pids;
for my $w (1 .. 2) {
	my $p = fork // die;
	if ($p == 0) {
		my $o = eval { $t->jobs('run', '--no-validate') } // "failed: $@";
		open(my $f, '>', $t->dir . "/worker-$w.out") or POSIX::_exit(1);
		print $f $o;
		close $f;
		POSIX::_exit(0);
	}
	push @pids, $p;
}
waitpid($_, 0) for @pids;
for my $w (1 .. 2) { open(my $f, '<', $t->dir . "/worker-$w.out") or die; local $/; push @outs, scalar <$f> }
my @log = log_lines($logpos);
my $wrote = grep { /manifests of dandiset \Q${\ sprintf('%06d', $lid)}\E version draft/ } @log;
if ($state eq 'queued') {
	is($wrote, 1, 'two runs at once: exactly one wrote the manifests');
} else {
	is($wrote, 0, 'two runs at once: nothing left to write');
}
is(one("SELECT count(*) FROM jobs WHERE kind = 'manifests' AND args->>'version_id' = '$lvid' AND state = 'queued'"), 0,
    'no job left queued');
is(one("SELECT count(*) FROM jobs WHERE kind = 'manifests' AND args->>'version_id' = '$lvid' AND attempts <> 1"), 0,
    'every job of it worked exactly once');
my $log = join '', @log;
for my $file (qw(assets.jsonld assets.yaml)) {
	my $st = stat_of(prefix($lid, 'draft') . $file);
	ok($st && $st->[0] > 5 * $MiB, "$file: $st->[0] bytes");
	like($st->[1], qr/-([2-9]|\d\d+)$/, "$file: a multipart object ($st->[1])");
	like($log, qr{manifest dandisets\\?/\d+\\?/draft\\?/\Q$file\E: $st->[0] bytes, ([2-9]|\d\d+) part\(s\)}, "$file: logged parts")
	    if $state eq 'queued';
}
is(stat_of(prefix($lid, 'draft') . 'dandiset.yaml')->[1] =~ /-\d+$/ ? 'multipart' : 'single', 'single',
    'a small file: one PutObject');
check_manifests($lid, 'draft', "draft of $N assets", assets => $N);

# A request made while the version's job runs is not lost: it waits for
# that run (which may have read the version before the change) to end,
# then queues a new job.
$t->jobs('manifests', $lvid);
$logpos = () = log_lines();
$pid = fork // die;
if ($pid == 0) {
	%ENV = (%ENV, %{ $t->env });
	open(STDOUT, '>', '/dev/null');
	# One job only: the one queued meanwhile is left for the check below.
	exec(DandiTest::build() . '/src/dandi-jobs', 'run', '--no-validate', '--max', '1') or POSIX::_exit(127);
}
my $running = 0;
for (1 .. 100) {
	last if $running = grep { m{draft\\?/dandiset\.jsonld} } log_lines($logpos);
	select(undef, undef, undef, 0.05);
}
ok($running, 'a manifests job is running');
my $t0 = Time::HiRes::time();
$t->jobs('manifests', $lvid);
my $waited = Time::HiRes::time() - $t0;
waitpid($pid, 0);
is(one("SELECT string_agg(state, ',' ORDER BY id) FROM (SELECT id, state FROM jobs WHERE kind = 'manifests'"
    . " AND args->>'version_id' = '$lvid' ORDER BY id DESC LIMIT 2) j"), 'done,queued',
    sprintf('the request waited for the running job (%.1f s) and queued a new one', $waited));
$out = $t->_capture('/usr/bin/time', '-f', 'maxrss_kb=%M', DandiTest::build() . '/src/dandi-jobs', 'run', '--no-validate');
like($out, qr/^1 job\(s\) worked/m, 'which the next run works');
# Three files in flight, each holding at most one part: memory stays near
# the process's own size plus three parts, whatever the asset count.
my ($rss) = $out =~ /maxrss_kb=(\d+)/;
SKIP: {
	skip 'ASan build: its shadow memory is no measure of RSS', 1 if DandiTest::sanitized();
	cmp_ok($rss // 1e9, '<', 3 * 5 * 1024 + 64 * 1024, sprintf('dandi-jobs max RSS %d KiB for manifests of %d MB',
	    $rss // -1, (stat_of(prefix($lid, 'draft') . 'assets.yaml')->[0] + stat_of(prefix($lid, 'draft') . 'assets.jsonld')->[0]) / 1e6));
}

# --- no assets: the original's empty files ----------------------------------------------------------
my $zid = $t->post('/api/dandisets/', { name => 'Empty', metadata => $md }, token => $alice)->{json}{identifier};
$t->jobs('manifests', sprintf('%06d/draft', $zid));
$t->jobs('run', '--no-validate');
is(s3tool('get', prefix($zid, 'draft') . 'assets.yaml'), '', 'no assets: assets.yaml is empty');
is(s3tool('get', prefix($zid, 'draft') . 'assets.jsonld'), '[]', 'no assets: assets.jsonld is []');
like(s3tool('get', prefix($zid, 'draft') . 'collection.jsonld'), qr/,"\@type":"prov:Collection","hasMember":\[\]\}$/,
    'no assets: no members');
check_manifests($zid, 'draft', 'empty draft', assets => 0);

# A backfill: every version queued once.
my $nv = one('SELECT count(*) FROM versions');
my @q = $t->jobs('manifests', '--all') =~ /^queued manifests job \d+$/mg;
is(scalar @q, $nv, "manifests --all: $nv versions queued");
like($t->jobs('run', '--no-validate'), qr/^$nv job\(s\) worked/m, 'and written');
is(one("SELECT count(*) FROM jobs WHERE kind = 'manifests' AND state <> 'done'"), 0, 'every manifests job done');

# --- the writers against Python on random awkward documents ----------------------------------------
for my $seed (1 .. 3) {
	my $fuzz = `$PYTHON ${\ DandiTest::root()}/t/inc/emit_fuzz.py ${\ DandiTest::build()}/t/unit/emit-tool $seed 300 2>&1`;
	my $n = 0;
	for (split /\n/, $fuzz) {
		if (/^(not )?ok (.*)$/) { ok(!$1, "random documents (seed $seed): $2"); $n++ } else { diag($_) }
	}
	is($n, 3, "seed $seed: three modes compared");
}

done_testing;
