# DOIs: every published version gets <prefix>/<instance>.<id>/<version> on
# versions.doi and in its metadata (doi, citation linking to it); with
# DataCite configured, the publish job queues a doi job that dandi-jobs
# registers (POST with basic auth, the JSON:API document; 422 "taken" ->
# PUT), retried after a 5xx and failed at once on another 4xx; a
# superuser's version delete queues doi_delete, which deletes the DOI only
# when DataCite holds it as a draft. DataCite is a fake on loopback
# (t/inc/FakeDataCite.pm).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX qw(strftime);
use DandiTest;
use FakeDataCite;

my ($USER, $PASS) = ('ARCHIVE.TEST', 'pass:word');
my $PREFIX = '10.70001';
my $fake = FakeDataCite->start(user => $USER, password => $PASS);
my $t = DandiTest->new(s3 => 0, workers => 2, env => {
	DANDI_DOI_PREFIX => $PREFIX,
	DANDI_DATACITE_API_URL => $fake->url . '/dois',
	DANDI_DATACITE_USERNAME => $USER,
	DANDI_DATACITE_PASSWORD => $PASS,
	DANDI_DATACITE_PUBLISH => 'false',
});
my $alice = $t->user('alice', first => 'Jane', last => 'Doe');
my $admin = $t->admin_token;
sub one { my @r = $t->psql(@_); $r[0][0] }

my $md = {
	description => 'Silicon probe recordings of CA1.', license => ['spdx:CC-BY-4.0'],
	keywords => [ 'hippocampus', 'mouse' ],
	contributor => [
		{ name => 'Doe, Jane', email => 'jane@example.org', identifier => '0000-0002-1825-0097',
		  roleName => [ 'dcite:Author', 'dcite:ContactPerson' ], includeInCitation => JSON::PP::true,
		  schemaKey => 'Person', affiliation => [ { schemaKey => 'Affiliation', name => 'MIT' } ] },
		{ name => 'Roe, Richard', roleName => ['dcite:DataCollector'], includeInCitation => JSON::PP::true,
		  schemaKey => 'Person' },
		{ name => 'National Institutes of Health', roleName => ['dcite:Funder'], awardNumber => 'R01MH000000',
		  includeInCitation => JSON::PP::false, schemaKey => 'Organization' },
	],
	relatedResource => [ { schemaKey => 'Resource', identifier => 'doi:10.1101/2021.01.01.ABC',
	    relation => 'dcite:IsDescribedBy' } ],
};
my $nblob = 0;
sub blob {
	my $u = sprintf '%08d-2222-4000-8000-000000000000', ++$nblob;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $nblob) . "-1', 10, '" . sprintf('%064x', $nblob) . "')");
	return $u;
}
# A dandiset whose draft is Valid (through the real validation sweep),
# published by the API; returns its id.
sub published_draft {
	my ($name) = @_;
	my $id = $t->post('/api/dandisets/', { name => $name, metadata => $md }, token => $alice)->{json}{identifier};
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => blob(),
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => 'sub-1/a.nwb' } },
	    token => $alice);
	die "add failed: $r->{body}" unless $r->{status} == 200;
	$t->jobs('validate');
	my $info = $t->get("/api/dandisets/$id/versions/draft/info/", token => $alice)->{json};
	is($info->{status}, 'Valid', "$name: draft Valid") or diag(encode_json($info->{version_validation_errors}));
	$r = $t->post("/api/dandisets/$id/versions/draft/publish/", undef, token => $alice);
	is($r->{status}, 202, "$name: publish accepted");
	return $id;
}
sub version_of { one("SELECT version FROM versions WHERE dandiset_id = $_[0] AND version <> 'draft'") }
sub job { my @r = $t->psql("SELECT id, state, attempts, last_error FROM jobs WHERE kind = '$_[0]' ORDER BY id DESC LIMIT 1"); $r[0] }
sub run_jobs { my ($n) = $t->jobs('run', '--no-validate') =~ /^(\d+) job\(s\) worked/m; $n }
my $auth = 'Basic ' . encode_base64("$USER:$PASS", '');
my $year = strftime('%Y', gmtime);

# --- DataCite not configured: the DOI is stored all the same, nothing is sent ---

my ($d0, $v0, $doi0);
{
	local $t->{env}{DANDI_DATACITE_API_URL} = '';
	$d0 = published_draft('Not registered');
	is(run_jobs(), 1, 'not configured: the publish job only');
	$v0 = version_of($d0);
	$doi0 = "$PREFIX/dandi.$d0/$v0";
	is(one("SELECT doi FROM versions WHERE dandiset_id = $d0 AND version = '$v0'"), $doi0, 'versions.doi stored');
	my $pm = $t->get("/api/dandisets/$d0/versions/$v0/")->{json};
	is($pm->{doi}, $doi0, 'metadata doi');
	like($pm->{citation}, qr{^Doe, Jane; Roe, Richard \($year\) Not registered \(Version \Q$v0\E\) \[Data set\]\. DANDI Archive\. https://doi\.org/\Q$doi0\E$},
	    'citation ends with https://doi.org/<doi>');
	is(one("SELECT count(*) FROM jobs WHERE kind LIKE 'doi%'"), 0, 'no DOI job queued');
	is(scalar @{ $fake->requests }, 0, 'no request to DataCite');
	is(one("SELECT status FROM versions WHERE dandiset_id = $d0 AND version = 'draft'"), 'Published', 'publish worked');
}

# --- configured, Draft DOIs: one POST with basic auth and the document ---

my $d1 = published_draft('Hippocampal recordings');
is(run_jobs(), 2, 'publish, then the doi job it queued');
my $v1 = version_of($d1);
my $doi1 = "$PREFIX/dandi.$d1/$v1";
is(one("SELECT doi FROM versions WHERE dandiset_id = $d1 AND version = '$v1'"), $doi1, 'versions.doi');
my $pm1 = $t->get("/api/dandisets/$d1/versions/$v1/")->{json};
is($pm1->{doi}, $doi1, 'metadata doi');
like($pm1->{citation}, qr{ https://doi\.org/\Q$doi1\E$}, 'citation links the DOI');
is_deeply([ @{ job('doi') }[1, 2] ], [ 'done', 1 ], 'doi job done at the first attempt');
my $reqs = $fake->requests;
is(scalar @$reqs, 1, 'one request') or diag(explain($reqs));
my $req = $reqs->[0];
is_deeply([ $req->{method}, $req->{path} ], [ 'POST', '/dois' ], 'POST <datacite_api_url>');
is($req->{authorization}, $auth, 'basic auth');
like($req->{content_type}, qr{^application/vnd\.api\+json}, 'JSON:API content type');
my $body = decode_json($req->{body});
my $at = $body->{data}{attributes};
is_deeply([ @{ $body->{data} }{qw(id type)} ], [ $doi1, 'dois' ], 'data id and type');
is($at->{doi}, $doi1, 'attributes.doi');
ok(!exists $at->{event}, 'no event: a Draft DOI (datacite_publish false)');
is_deeply($at->{titles}, [ { title => 'Hippocampal recordings' } ], 'titles');
is_deeply($at->{descriptions}, [ { description => 'Silicon probe recordings of CA1.', descriptionType => 'Abstract' } ],
    'descriptions');
is($at->{publicationYear}, $year, 'publicationYear');
is($at->{url}, $pm1->{url}, 'url is the version url');
is_deeply($at->{types}, { resourceType => 'Neural Data', resourceTypeGeneral => 'Dataset' }, 'types');
is($at->{schemaVersion}, 'http://datacite.org/schema/kernel-4', 'schemaVersion');
is($at->{version}, $v1, 'version');
is_deeply($at->{publisher}, { name => 'DANDI Archive', lang => 'en' }, 'publisher');
is_deeply($at->{rightsList}, [ { rightsIdentifier => 'CC-BY-4.0', rightsIdentifierScheme => 'SPDX',
    schemeUri => 'https://spdx.org/licenses/' } ], 'rightsList');
is(scalar @{ $at->{creators} }, 1, 'one creator (the Author)');
is_deeply([ @{ $at->{creators}[0] }{qw(creatorName familyName givenName nameType)} ],
    [ 'Doe, Jane', 'Doe', 'Jane', 'Personal' ], 'creator split into family and given name');
is($at->{creators}[0]{nameIdentifiers}[0]{nameIdentifier}, 'https://orcid.org/0000-0002-1825-0097', 'ORCID');
is_deeply($at->{creators}[0]{affiliation}, [ { name => 'MIT' } ], 'affiliation');
is_deeply([ map { "$_->{contributorName}:$_->{contributorType}" } @{ $at->{contributors} } ],
    [ 'Doe, Jane:ContactPerson', 'Roe, Richard:DataCollector' ], 'contributors and their types');
is_deeply($at->{fundingReferences}, [ { funderName => 'National Institutes of Health', awardNumber => 'R01MH000000' } ],
    'fundingReferences');
is_deeply($at->{relatedIdentifiers}, [ { relatedIdentifier => '10.1101/2021.01.01.abc', relatedIdentifierType => 'DOI',
    relationType => 'IsDescribedBy' } ], 'relatedIdentifiers');
is_deeply($at->{subjects}, [ { subject => 'hippocampus' }, { subject => 'mouse' } ], 'subjects');
is($fake->dois->{$doi1}{state}, 'draft', 'DataCite holds a draft DOI');

# --- a 500 is retried later; Findable with datacite_publish ---

$fake->clear_requests;
$fake->fail('POST', 500, 'Internal trouble');
my ($d2, $doi2);
{
	local $t->{env}{DANDI_DATACITE_PUBLISH} = 'true';
	$d2 = published_draft('Findable one');
	is(run_jobs(), 2, 'publish and a doi attempt');
	$doi2 = "$PREFIX/dandi.$d2/" . version_of($d2);
	my $j = job('doi');
	is_deeply([ @$j[1, 2] ], [ 'queued', 1 ], '500: the job waits for another attempt');
	like($j->[3], qr/HTTP 500: Internal trouble/, 'with the answer in last_error');
	is(run_jobs(), 0, 'not before its backoff');
	is(scalar @{ $fake->requests }, 1, 'so no second request yet');
	$t->psql("UPDATE jobs SET run_after = now() WHERE id = $j->[0]");
	is(run_jobs(), 1, 'due again: worked');
	is_deeply([ @{ job('doi') }[1, 2] ], [ 'done', 2 ], 'done at the second attempt');
	$reqs = $fake->requests;
	is_deeply([ map { "$_->{method} $_->{path}" } @$reqs ], [ 'POST /dois', 'POST /dois' ], 'two POSTs');
	is(decode_json($reqs->[1]{body})->{data}{attributes}{event}, 'publish', 'event publish when datacite_publish');
	is($fake->dois->{$doi2}{state}, 'findable', 'DataCite holds a findable DOI');
}

# --- another 4xx fails the job at once, visibly; retry succeeds ---

$fake->clear_requests;
$fake->fail('POST', 400, '{"errors":[{"source":"url","title":"Bad metadata"}]}');
my $d3 = published_draft('Refused once');
is(run_jobs(), 2, 'publish and a doi attempt');
my $j3 = job('doi');
is_deeply([ @$j3[1, 2] ], [ 'failed', 1 ], '400: failed at once');
my ($line) = grep { /^$j3->[0]\t/ } split /\n/, $t->jobs('list', '--state', 'failed');
like($line // '', qr/^\d+\tdoi\tfailed\t1\t.*HTTP 400: \{"errors":\[\{"source":"url","title":"Bad metadata"\}\]\}/,
    'dandi-jobs list shows the failed job with DataCite\'s answer') or diag($line);
my $doi3 = "$PREFIX/dandi.$d3/" . version_of($d3);
is(one("SELECT doi FROM versions WHERE dandiset_id = $d3 AND version <> 'draft'"), $doi3,
    'the version keeps its DOI meanwhile');
$t->jobs('retry', $j3->[0]);
is(run_jobs(), 1, 'retried');
is(job('doi')->[1], 'done', 'registered after the retry');
ok($fake->dois->{$doi3}, 'DataCite has it');

# --- 422 "already taken" (an earlier attempt got through): PUT ---

$fake->clear_requests;
my $vid1 = one("SELECT id FROM versions WHERE dandiset_id = $d1 AND version = '$v1'");
$t->psql("INSERT INTO jobs (kind, args) VALUES ('doi', jsonb_build_object('key', '$vid1', 'version', $vid1))");
is(run_jobs(), 1, 'a second registration of the same DOI');
is_deeply([ map { "$_->{method} $_->{path} $_->{authorization}" } @{ $fake->requests } ],
    [ "POST /dois $auth", "PUT /dois/$doi1 $auth" ], '422 from the POST: PUT <url>/<doi>');
is(job('doi')->[1], 'done', 'done');

# --- version deletion: draft DOIs go, findable ones stay ---

$fake->clear_requests;
is($t->delete("/api/dandisets/$d1/versions/$v1/", token => $alice)->{status}, 403, 'owner cannot delete a published version');
is(one("SELECT count(*) FROM jobs WHERE kind = 'doi_delete'"), 0, 'nothing queued');
is($t->delete("/api/dandisets/$d1/versions/$v1/", token => $admin)->{status}, 204, 'superuser deletes it');
is_deeply([ one("SELECT args->>'doi' FROM jobs WHERE kind = 'doi_delete'") ], [ $doi1 ], 'doi_delete job queued');
is(run_jobs(), 1, 'worked');
$reqs = $fake->requests;
is_deeply([ map { "$_->{method} $_->{path}" } @$reqs ], [ "GET /dois/$doi1", "DELETE /dois/$doi1" ],
    'draft DOI: GET, then DELETE');
like($reqs->[0]{accept}, qr{application/vnd\.api\+json}, 'GET asks for JSON:API');
is($reqs->[1]{authorization}, $auth, 'DELETE with basic auth');
ok(!$fake->dois->{$doi1}, 'gone from DataCite');
is(job('doi_delete')->[1], 'done', 'job done');

$fake->clear_requests;
my $v2 = version_of($d2);
is($t->delete("/api/dandisets/$d2/versions/$v2/", token => $admin)->{status}, 204, 'findable one deleted here');
is(run_jobs(), 1, 'worked');
is_deeply([ map { "$_->{method} $_->{path}" } @{ $fake->requests } ], [ "GET /dois/$doi2" ],
    'findable DOI: GET only, no DELETE');
ok($fake->dois->{$doi2}, 'still at DataCite');

$fake->clear_requests;
is($t->delete("/api/dandisets/$d0/versions/$v0/", token => $admin)->{status}, 204, 'never registered one deleted');
is(run_jobs(), 1, 'worked');
is_deeply([ map { "$_->{method} $_->{path}" } @{ $fake->requests } ], [ "GET /dois/$doi0" ],
    'DataCite does not know it (404): nothing deleted');
is(job('doi_delete')->[1], 'done', 'and the job is done');

# --- a version deleted while its DOI is being registered ---
# Its delete job may ask DataCite before the POST has landed (404: nothing
# to delete, job done); the register job then sees the version gone and
# queues another, which deletes the draft DOI.

my $d4 = published_draft('Deleted meanwhile');
like($t->jobs('run', '--no-validate', '--max', '1'), qr/^1 job\(s\) worked/m, 'published (its doi job waits)');
my $v4 = version_of($d4);
my $doi4 = "$PREFIX/dandi.$d4/$v4";
$fake->clear_requests;
$fake->hold('POST');	# DataCite answers the POST only when told
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	$t->jobs('run', '--no-validate');
	POSIX::_exit(0);
}
ok($fake->wait_request('POST'), 'the POST is on its way');
is($t->delete("/api/dandisets/$d4/versions/$v4/", token => $admin)->{status}, 204, 'deleted during the POST');
# As if its delete job had run at once and found nothing at DataCite yet.
is(one("WITH u AS (UPDATE jobs SET state = 'done' WHERE kind = 'doi_delete' AND args->>'doi' = '$doi4'"
    . " AND state = 'queued' RETURNING 1) SELECT count(*) FROM u"), 1, 'its delete job done (DataCite did not know the DOI yet)');
$fake->release('POST');
waitpid($pid, 0);
is_deeply([ map { "$_->{method} $_->{path}" } @{ $fake->requests } ], [ 'POST /dois', "GET /dois/$doi4", "DELETE /dois/$doi4" ],
    'the register job queued another delete: GET, then DELETE of the draft');
ok(!$fake->dois->{$doi4}, 'no DOI left for the deleted version');

$fake->stop;
done_testing;
