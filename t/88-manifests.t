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
use DandiTest;

my $MiB = 1024 * 1024;
my $t = DandiTest->new(s3 => 1, env => { DANDI_MANIFEST_PART_SIZE => 5 * $MiB });
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
sub one { my @r = $t->psql($_[0]); return $r[0][0] }
my @FILES = qw(dandiset.jsonld dandiset.yaml assets.jsonld assets.yaml collection.jsonld);
my $tool = DandiTest::build() . '/t/unit/s3-tool';
my $checker = DandiTest::root() . '/t/inc/manifest_check.py';

# s3-tool with the harness's S3 settings: its output, or undef when it failed.
sub s3tool {
	my (@args) = @_;
	my $pid = open(my $fh, '-|') // die;
	if ($pid == 0) {
		%ENV = (%ENV, %{ $t->env });
		open(STDERR, '>', '/dev/null');
		exec($tool, @args) or POSIX::_exit(127);
	}
	binmode $fh;
	my $out = do { local $/; <$fh> } // '';
	close $fh;
	return $? == 0 ? $out : undef;
}
sub tags { my $o = s3tool('tags', $_[0]); chomp $o if defined $o; $o }
sub stat_of { my $o = s3tool('stat', $_[0]) // return; chomp $o; [ split / /, $o, 3 ] }
sub prefix { sprintf 'dandisets/%06d/%s/', @_ }

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
	my $out = `python3 $checker $dir 2>&1`;
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
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256, embargoed) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $nblob) . "-1', " . ($o{size} // 10) . ", '" . sprintf('%064x', $nblob) . "', "
	    . ($o{embargoed} ? 'true' : 'false') . ")");
	return $u;
}
sub add {
	my ($did, $path, %m) = @_;
	my $r = $t->post("/api/dandisets/$did/versions/draft/assets/", { blob_id => blob(embargoed => delete $m{embargoed}),
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => $path, %m } },
	    token => $alice);
	die "add failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
add($id, 'sub-01/sub-01_ses-1_ecephys.nwb', description => "multi\nline: 'x'", keywords => [ 'on', 'OFF', '~' ],
    wasAttributedTo => [ { schemaKey => 'Participant', identifier => 'mouse.1', age => { schemaKey => 'PropertyValue',
        value => 'P90D', unitText => 'ISO-8601 duration' } } ]);
add($id, 'sub-02/sub-02_ses-1_ecephys.nwb', variableMeasured => [ 'ElectricalSeries' ]);
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

done_testing;
