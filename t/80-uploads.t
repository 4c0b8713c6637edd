# The data path end to end, as dandi-cli drives it: digest lookup,
# initialize, presigned part PUTs straight to S3, complete (the client
# posts the body to the presigned URL), validate, asset, download by
# redirect; byte-exact through the real S3 service. Plus the refusals.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::MD5 qw(md5 md5_hex);
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use DandiTest;
use Shape qw(okeys);
use Upload qw(part_plan etag_of);

my $t = DandiTest->new(s3 => 1, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob');
my $pending = $t->user('pat', status => 'PENDING');
my $s3 = HTTP::Tiny->new(timeout => 120);
sub one { my @r = $t->psql(@_); $r[0][0] }

my $id = $t->post('/api/dandisets/', { name => 'Data', metadata => {} }, token => $alice)->{json}{identifier};
my $MiB = 1024 * 1024;

sub upload {
	my ($bytes, %o) = @_;
	return Upload::upload($t, $o{token} // $alice, $o{dandiset} // $id, $bytes, %o);
}

# --- round trips -----------------------------------------------------------------

my $n = 0;
my @made;	# [blob_id, sha256 of the bytes, asset_id]
for my $case ([ 'one byte', 'x' ], [ 'small', join('', map { chr } 0 .. 255) x 4 ],
    [ 'exactly one 64 MiB part', 'a' x (64 * $MiB) ],
    [ 'two parts, short last', ('b' x (64 * $MiB)) . ('c' x (3 * $MiB + 17)) ],
    # Several hundred MB: the API only signs; dandi-jobs streams it for the
    # sha256 under an address-space limit below its size (below).
    [ 'five parts, 296 MiB', join('', map { chr(65 + $_) x (64 * $MiB) } 0 .. 3) . ('z' x (40 * $MiB + 1)) ]) {
	my ($name, $bytes) = @$case;
	my $u = upload($bytes);
	ok($u->{blob}, "$name: uploaded") or diag(encode_json({ step => $u->{step}, status => $u->{r}{status},
	    body => $u->{r}{content} // $u->{r}{body} }));
	next unless $u->{blob};
	is_deeply([ scalar @{ $u->{init}{parts} } ], [ scalar(part_plan(length $bytes)) ], "$name: part count");
	is_deeply($u->{blob}, { blob_id => $u->{upload_id}, etag => etag_of($bytes), sha256 => undef,
	    size => length($bytes) }, "$name: blob");
	is_deeply(okeys(encode_json($u->{blob})) && [ sort keys %{ $u->{blob} } ], [qw(blob_id etag sha256 size)], "$name: blob keys");
	my $path = "données/file $n ✓.bin";
	$n++;
	my $a = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $u->{blob}{blob_id},
	    metadata => { path => $path } }, token => $alice);
	is($a->{status}, 200, "$name: asset");
	my $dl = $t->get("/api/assets/$a->{json}{asset_id}/download/");
	is($dl->{status}, 302, "$name: download redirects");
	my $got = $s3->get($dl->{headers}{location});
	is($got->{status}, 200, "$name: presigned GET");
	ok(($got->{content} // '') eq $bytes, "$name: downloaded bytes are identical (" . length($bytes) . ")");
	like($got->{headers}{'content-disposition'} // '', qr/^attachment; filename="file \d+ /, "$name: file name");
	is(one("SELECT count(*) FROM uploads"), 0, "$name: upload row gone after validate");
	push @made, [ $u->{blob}{blob_id}, sha256_hex($bytes), $a->{json}{asset_id}, $name ];
}

# The sha256 of each new blob, streamed from S3 by dandi-jobs.
is(one("SELECT count(*) FROM jobs WHERE kind = 'sha256' AND state = 'queued'"), scalar @made, 'one sha256 job per blob');
# 256 MiB of address space in all: the 296 MiB blob cannot be held whole
# (not under ASan, whose shadow memory alone is larger).
like($t->_capture(DandiTest::sanitized() ? () : ('prlimit', '--as=' . 256 * $MiB),
    DandiTest::build() . '/src/dandi-jobs', 'run'),
    qr/^\d+ job\(s\) worked/m,
    DandiTest::sanitized() ? 'dandi-jobs run (ASan build: no address-space limit)' : 'dandi-jobs run, in 256 MiB of address space');
is(one("SELECT count(*) FROM jobs WHERE kind = 'sha256' AND state <> 'done'"), 0, 'all sha256 jobs done');
for my $m (@made) {
	my ($blob, $sha, $asset, $name) = @$m;
	is(one("SELECT sha256 FROM blobs WHERE blob_id = '$blob'"), $sha, "$name: sha256 equals the bytes' sha256");
	is($t->post('/api/blobs/digest/', { algorithm => 'dandi:sha2-256', value => $sha })->{json}{blob_id}, $blob,
	    "$name: found by sha256");
	is($t->get("/api/assets/$asset/")->{json}{digest}{'dandi:sha2-256'}, $sha, "$name: asset digest has it");
}
like($t->jobs('run'), qr/^0 job\(s\) worked/m, 'a second run finds nothing to do');

# --- dedup, digest lookup ------------------------------------------------------------

my $again = upload('x');
is_deeply([ $again->{step}, $again->{r}{status}, $again->{r}{json} ], [ 'initialize', 409, 'Blob already exists.' ],
    'same content again: 409 at initialize');
my $blob_x = one("SELECT blob_id FROM blobs WHERE etag = '" . etag_of('x') . "'");
is($again->{r}{headers}{location}, $blob_x, 'with Location: the existing blob id');
my $r = $t->post('/api/blobs/digest/', { algorithm => 'dandi:dandi-etag', value => etag_of('x') });
is_deeply([ $r->{status}, $r->{json}{blob_id} ], [ 200, $blob_x ], 'blobs/digest finds it, anonymously');
is($t->post('/api/blobs/digest/', { algorithm => 'dandi:dandi-etag', value => etag_of('nope') })->{status}, 404,
    'blobs/digest: unknown 404');
$r = $t->post('/api/blobs/digest/', { algorithm => 'md5', value => 'x' });
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'Unsupported Digest Algorithm. Supported: dandi:dandi-etag, dandi:sha2-256' ],
    'blobs/digest: bad algorithm');
is_deeply($t->post('/api/blobs/digest/', {})->{json}, { algorithm => ['This field is required.'],
    value => ['This field is required.'] }, 'blobs/digest: missing fields');

# Two clients upload the same new content at once: one blob.
my @kids;
for my $k (1 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) { my $u = upload('race content'); POSIX::_exit($u->{blob} ? 0 : $u->{r}{status} == 409 ? 9 : 1) }
	push @kids, $pid;
}
my @codes = map { waitpid($_, 0); $? >> 8 } @kids;
is(scalar(grep { $_ == 0 } @codes), 1, 'concurrent identical uploads: one blob made') or diag("@codes");
is(scalar(grep { $_ == 9 } @codes), 1, 'the other is told it exists (409)');
is(one("SELECT count(*) FROM blobs WHERE etag = '" . etag_of('race content') . "'"), 1, 'exactly one blob row');

# Both completed in S3 before either is validated: the first becomes the
# blob, the second is told of it (409) and its object, which nothing names
# any more, is removed from the bucket.
my @both = map { upload('both at once', no_validate => 1) } 1 .. 2;
is_deeply([ map { $_->{step} } @both ], [ 'completed', 'completed' ], 'two uploads of the same bytes, both complete in S3');
my @val = map { $t->post("/api/uploads/$_->{upload_id}/validate/", undef, token => $alice) } @both;
is_deeply([ map { $_->{status} } @val ], [ 200, 409 ], 'validated: the first a blob, the second 409');
is($val[1]{json}, 'An identical blob has already been uploaded.', '... with the original message');
is(one("SELECT count(*) FROM blobs WHERE etag = '" . etag_of('both at once') . "'"), 1, '... one blob row');
sub s3_has {
	my ($key) = @_;
	local %ENV = (%ENV, %{ $t->env });
	my $pid = open(my $fh, '-|') // die;
	if ($pid == 0) { open(STDERR, '>&', \*STDOUT); exec(DandiTest::build() . '/t/unit/s3-tool', 'head', $key) or exit 127 }
	my $out = do { local $/; <$fh> };
	close $fh;
	return ($? >> 8) == 0 ? 1 : ($? >> 8) == 3 ? 0 : die "s3-tool: $out";
}
my @keys = map { my $u = $_->{upload_id}; 'blobs/' . substr($u, 0, 3) . '/' . substr($u, 3, 3) . "/$u" } @both;
is(one("SELECT blob FROM blobs WHERE blob_id = '$val[0]{json}{blob_id}'"), $keys[0], '(the blob\'s key)');
is_deeply([ map { s3_has($_) } @keys ], [ 1, 0 ], 'the blob\'s object stays, the redundant one is removed');

# --- lies and refusals -----------------------------------------------------------------------

# The dandi client would stop at the completion's ETag; a client that does
# not look is stopped by validate.
my $lie = upload('honest bytes', etag => etag_of('other bytes'));
is_deeply([ $lie->{step}, $lie->{final_etag} ], [ 'final ETag', etag_of('honest bytes') ],
    "a lying digest: the completion answers the object's true ETag");
$lie = upload('honest bytes', etag => etag_of('other bytes'), no_client_check => 1);
is_deeply([ $lie->{step}, $lie->{r}{status} ], [ 'validate', 400 ], 'a lying digest fails at validate');
like($lie->{r}{json}[0] // '', qr/^ETag \S+ does not match actual ETag \S+\.$/, 'with the original message');
is(one("SELECT count(*) FROM blobs WHERE etag = '" . etag_of('other bytes') . "'"), 0, 'and no blob');
is(one("SELECT count(*) FROM uploads WHERE upload_id = '$lie->{upload_id}'"), 1, 'the upload stays (for GC)');

my $short = upload('12345', size => 5, etag => etag_of('12345'));
ok($short->{blob}, 'sanity: honest 5 bytes');
$r = $t->post('/api/uploads/initialize/', { contentSize => 10, digest => { algorithm => 'dandi:dandi-etag',
    value => etag_of('0123456789') }, dandiset => $id }, token => $alice);
my $up = $r->{json}{upload_id};
my $res = $s3->request('PUT', $r->{json}{parts}[0]{upload_url}, { content => 'short' });
(my $e = $res->{headers}{etag}) =~ s/"//g;
$r = $t->post("/api/uploads/$up/complete/", { parts => [ { part_number => 1, size => 10, etag => $e } ] }, token => $alice);
$s3->request('POST', $r->{json}{complete_url}, { content => $r->{json}{body} });
$r = $t->post("/api/uploads/$up/validate/", undef, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, ['Size 10 does not match actual size 5.'] ], 'a lying size fails at validate');

$r = $t->post('/api/uploads/initialize/', { contentSize => 3, digest => { algorithm => 'dandi:dandi-etag',
    value => etag_of('abc') }, dandiset => $id }, token => $alice);
my $never = $r->{json}{upload_id};
$r = $t->post("/api/uploads/$never/validate/", undef, token => $alice);
is_deeply([ $r->{status}, $r->{json} ], [ 400, ['Object does not exist.'] ], 'validate before upload: 400');
is(one("SELECT count(*) FROM uploads WHERE upload_id = '$never'"), 1, 'a never-completed upload is left for GC');

# The staff dashboard lists the upload rows with what S3 holds at their
# keys (the original's "Size/ETag (actual)"): the lying upload's object is
# there with its real size and ETag, the never-completed one is not.
my $dash = $t->get('/dashboard/', token => $t->admin_token);
is($dash->{status}, 200, 'dashboard');
my ($ucount) = $dash->{body} =~ /id="upload-count">(\d+)</;
is($ucount, one('SELECT count(*) FROM uploads'), 'dashboard: every upload row counted');
my %urow;
for ($dash->{body} =~ m{<tr>(<td>\d+</td><td>[0-9a-f-]{36}</td>.*?)</tr>}g) {
	my @c = map { s/&#x27;/'/gr } m{<td>([^<]*)</td>}g;
	$urow{ $c[1] } = [ @c[2 .. 5] ];
}
is_deeply($urow{ $lie->{upload_id} }, [ 12, 12, etag_of('other bytes'), etag_of('honest bytes') ],
    'dashboard: reported and actual size and ETag of a completed upload');
is_deeply($urow{$never}, [ 3, "Doesn't exist", etag_of('abc'), "Doesn't exist" ], 'dashboard: no object yet');
$r = $t->get("/api/dandisets/$id/uploads/", token => $alice);
is($r->{status}, 200, 'uploads list');
is_deeply(okeys($r->{body}, 'results', 0), [qw(created blob upload_id etag size)], 'upload shape');
ok((grep { $_->{upload_id} eq $never } @{ $r->{json}{results} }), 'lists the pending upload');
is($t->get("/api/dandisets/$id/uploads/", token => $bob)->{status}, 403, 'uploads list: owners only');

sub init { $t->post('/api/uploads/initialize/', $_[0], token => $_[1] // $alice) }
my $ok_digest = { algorithm => 'dandi:dandi-etag', value => etag_of('q') };
is(init({ contentSize => 1, digest => $ok_digest, dandiset => $id }, undef)->{status}, 200, 'sanity');
is($t->post('/api/uploads/initialize/', { contentSize => 1, digest => $ok_digest, dandiset => $id })->{status}, 401,
    'anonymous: 401');
is(init({ contentSize => 1, digest => $ok_digest, dandiset => $id }, $pending)->{status}, 403, 'unapproved: 403');
is_deeply([ @{ init({ contentSize => 1, digest => $ok_digest, dandiset => $id }, $bob) }{qw(status json)} ],
    [ 403, 'Action not allowed' ], 'not an owner: 403');
is_deeply(init({ contentSize => 1, digest => $ok_digest, dandiset => 'DANDI:000001' })->{json},
    { dandiset => ['A valid Dandiset identifier is required.'] }, 'bad dandiset id');
is(init({ contentSize => 1, digest => $ok_digest, dandiset => '999999' })->{status}, 404, 'unknown dandiset: 404');
is(init({ contentSize => 1, digest => $ok_digest, dandiset => $id + 0 })->{status}, 200, 'dandiset as an integer');
is_deeply(init({ contentSize => 1, digest => { algorithm => 'dandi:sha2-256', value => 'x' }, dandiset => $id })->{json},
    ['Unsupported Digest Type'], 'digest type');
is(init({ contentSize => -1, digest => $ok_digest, dandiset => $id })->{status}, 400, 'negative size');
# As the original (contentSize min_value=1): an empty file has no part to
# send (its dandi-etag names 0 parts).
is_deeply([ @{ init({ contentSize => 0, digest => { algorithm => 'dandi:dandi-etag', value => etag_of('') },
    dandiset => $id }) }{qw(status json)} ], [ 400, { contentSize => ['Ensure this value is greater than or equal to 1.'] } ],
    'an empty file: 400, as the original');
is(init({ contentSize => 'x', digest => $ok_digest, dandiset => $id })->{status}, 400, 'size not a number');
is(init({ contentSize => 1, dandiset => $id })->{status}, 400, 'no digest: 400 (the original fails with 500)');
is(init({ contentSize => 10 * 1024 ** 4, digest => { algorithm => 'dandi:dandi-etag', value => ('0' x 32) . '-10000' },
    dandiset => $id })->{status}, 400, 'over 5 TiB: 400');
is(init({ contentSize => 100 * $MiB, digest => { algorithm => 'dandi:dandi-etag', value => ('0' x 32) . '-3' },
    dandiset => $id })->{status}, 400, 'a digest naming the wrong number of parts: 400');
$r = init({ contentSize => 1024 ** 4, digest => { algorithm => 'dandi:dandi-etag', value => ('1' x 32) . '-10000' },
    dandiset => $id });
is($r->{status}, 200, '1 TiB: initialize');
is(scalar @{ $r->{json}{parts} }, 10000, '1 TiB: 10,000 parts');
is($r->{json}{parts}[0]{size}, 109951163, '1 TiB: part size ceil(size / 10000)');
is($t->post('/api/uploads/00000000-0000-4000-8000-000000000000/validate/', undef, token => $alice)->{status}, 404,
    'unknown upload: 404');
is($t->post("/api/uploads/$never/complete/", { parts => [] }, token => $alice)->{status}, 400, 'complete: no parts');

# --- embargo ---------------------------------------------------------------------------------------

my $emb = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $alice)->{json}{identifier};
my $se = upload('secret bytes', dandiset => $emb);
ok($se->{blob}, 'embargoed upload');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$se->{blob}{blob_id}'"), 't', 'its blob is embargoed');
my $sa = $t->post("/api/dandisets/$emb/versions/draft/assets/", { blob_id => $se->{blob}{blob_id},
    metadata => { path => 'secret.bin' } }, token => $alice)->{json};
is($t->get("/api/assets/$sa->{asset_id}/download/")->{status}, 401, 'embargoed download: anonymous 401');
is($t->get("/api/assets/$sa->{asset_id}/download/", token => $bob)->{status}, 403, 'embargoed download: stranger 403');
is($t->get("/api/assets/$sa->{asset_id}/download/", token => $alice)->{status}, 302, 'embargoed download: owner 302');
is($t->get("/api/dandisets/$emb/versions/draft/assets/$sa->{asset_id}/download/", token => $bob)->{status}, 403,
    'nested embargoed download: stranger 403');
is(init({ contentSize => 1, digest => $ok_digest, dandiset => $emb }, $bob)->{status}, 404,
    'initialize into an invisible embargoed dandiset: 404');

# --- downloads -------------------------------------------------------------------------------------

my $asset = $t->get("/api/dandisets/$id/versions/draft/assets/?path=donn")->{json}{results}[1];
$r = $t->get("/api/assets/$asset->{asset_id}/download/?content_disposition=inline");
like($r->{headers}{location}, qr/response-content-disposition=inline/, 'inline disposition');
like($r->{headers}{location}, qr/response-content-type=application%2Foctet-stream/, 'inline content type');
is($t->get("/api/assets/$asset->{asset_id}/download/?content_disposition=bogus")->{status}, 400, 'bad disposition 400');
is($t->request('HEAD', "/api/assets/$asset->{asset_id}/download/")->{status}, 302, 'HEAD download 302');
is($t->get("/api/dandisets/$id/versions/draft/assets/$asset->{asset_id}/download/")->{status}, 302, 'nested download');
$r = $t->get("/api/assets/$asset->{asset_id}/");
is_deeply([ $r->{status}, $r->{json}{identifier} ], [ 200, $asset->{asset_id} ], 'top-level asset metadata');
is($t->get("/api/assets/$asset->{asset_id}/info/")->{json}{asset_id}, $asset->{asset_id}, 'top-level asset info');
is($t->get('/api/assets/00000000-0000-4000-8000-000000000000/download/')->{status}, 404, 'unknown asset: 404');

# --- clearing uploads ---------------------------------------------------------------------------------

is($t->delete("/api/dandisets/$id/uploads/", token => $bob)->{status}, 403, 'clear uploads: owners only');
is($t->delete("/api/dandisets/$id/uploads/", token => $alice)->{status}, 204, 'clear uploads: 204');
is(one("SELECT count(*) FROM uploads WHERE dandiset_id = $id"), 0, 'all pending uploads gone');

done_testing;
