# Zarr archives end to end against real S3: create, upload a few hundred
# chunks through presigned PUT URLs, finalize, checksum (dandi-jobs),
# list with paging, download every file and compare byte for byte, delete
# files (the checksum changes), embargo, path rules and bad input.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::MD5 qw(md5_hex md5_base64);
use HTTP::Tiny;
use DandiTest;
use Zarr qw(zarr_checksum zarr_upload client_headers);

my $t = DandiTest->new(s3 => 1, workers => 2);
my $owner = $t->user('zowner');
my $stranger = $t->user('zstranger');
my $admin = $t->admin_token;
my $http = HTTP::Tiny->new(timeout => 60);

# A key as a query value: what is not unreserved (or '/') percent-encoded.
sub uri_path {
	my ($k) = @_;
	utf8::encode($k) if utf8::is_utf8($k);
	$k =~ s{([^A-Za-z0-9\-._~/])}{sprintf('%%%02X', ord $1)}ge;
	return $k;
}

sub dandiset {
	my ($emb) = @_;
	my $r = $t->post('/api/dandisets/' . ($emb ? '?embargo=true' : ''), { name => 'Z', metadata => {} }, token => $owner);
	die $r->{body} unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my $ds = dandiset(0);
my $eds = dandiset(1);

# --- create ---------------------------------------------------------------
my $r = $t->post('/api/zarr/', { name => 'sample.zarr', dandiset => $ds }, token => $owner);
is($r->{status}, 200, 'create: 200');
my $z = $r->{json};
is_deeply([ sort keys %$z ], [ sort qw(name dandiset zarr_id status checksum file_count size) ], 'zarr object keys');
like($r->{body}, qr/^\{"name" ?: ?"sample.zarr", ?"dandiset" ?: ?"$ds", ?"zarr_id" ?: ?"[0-9a-f-]{36}", ?"status" ?: ?"Pending", ?"checksum" ?: ?null, ?"file_count" ?: ?0, ?"size" ?: ?0\}$/,
    'zarr object in the original key order');
my $zid = $z->{zarr_id};

$r = $t->post('/api/zarr/', { name => 'sample.zarr', dandiset => $ds }, token => $owner);
is($r->{status}, 400, 'duplicate name: 400');
is_deeply($r->{json}, { non_field_errors => [ 'The fields dandiset, name must make a unique set.' ] }, 'duplicate message');
$r = $t->post('/api/zarr/', {}, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { name => [ 'This field is required.' ], dandiset => [ 'This field is required.' ] } ],
    'missing fields');
$r = $t->post('/api/zarr/', { name => 'x', dandiset => '12' }, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { dandiset => [ 'A valid Dandiset identifier is required.' ] } ], 'bad dandiset id');
$r = $t->post('/api/zarr/', { name => 'x', dandiset => '999999' }, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { dandiset => [ 'Invalid pk "999999" - object does not exist.' ] } ], 'unknown dandiset');
$r = $t->post('/api/zarr/', { name => 'x', dandiset => $ds }, token => $stranger);
is($r->{status}, 403, 'non-owner: 403');
$r = $t->post('/api/zarr/', { name => 'x', dandiset => $eds }, token => $stranger);
is($r->{status}, 400, 'invisible embargoed dandiset: 400 (does not exist)');
$r = $t->post('/api/zarr/', [ 1 ], token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { non_field_errors => [ 'Invalid data. Expected a dictionary, but got list.' ] } ], 'list body');
$r = $t->post('/api/zarr/', { name => 'y' x 513, dandiset => $ds }, token => $owner);
is($r->{status}, 400, 'name over 512 characters: 400');
$r = $t->post('/api/zarr/', { name => 'y', dandiset => $ds });
is($r->{status}, 401, 'anonymous: 401');

# --- list / detail --------------------------------------------------------
$r = $t->get("/api/zarr/$zid/");
is_deeply([ $r->{status}, $r->{json}{zarr_id} ], [ 200, $zid ], 'detail');
$r = $t->get("/api/zarr/?dandiset=$ds");
is_deeply([ $r->{status}, $r->{json}{count}, $r->{json}{results}[0]{name} ], [ 200, 1, 'sample.zarr' ], 'list by dandiset');
is($t->get('/api/zarr/?dandiset=1')->{status}, 400, 'list: bad dandiset 400');
is($t->get('/api/zarr/?name=nope')->{json}{count}, 0, 'list by name: none');
is($t->get('/api/zarr/?name=sample.zarr')->{json}{count}, 1, 'list by name');
is($t->get('/api/zarr/00000000-0000-4000-8000-000000000000/')->{status}, 404, 'unknown zarr: 404');
is($t->delete("/api/zarr/$zid/", token => $owner)->{status}, 405, 'no DELETE of a zarr itself (405, as the original)');

# --- upload a few hundred chunks -------------------------------------------
my %files = ('.zgroup' => '{"zarr_format":2}', '.zattrs' => '{}', '0/.zarray' => '{"chunks":[1,1]}');
srand(42);
for my $i (0 .. 14) {
	for my $j (0 .. 19) {
		$files{"0/$i/$j"} = join '', map { chr int rand 256 } 1 .. (1 + int rand 2000);
	}
}
$files{'1/x.y'} = 'dot before slash';
$files{'1/x/z'} = 'inside x';
is(scalar keys %files, 305, '305 files');
is(zarr_upload($t, $owner, $zid, \%files), '', 'uploaded through presigned PUT URLs');

# Presigned URL with a wrong Content-MD5: S3 refuses the bytes.
$r = $t->post("/api/zarr/$zid/files/", [ { path => 'bad', base64md5 => md5_base64('other') . '==' } ], token => $owner);
is($r->{status}, 200, 'files POST: 200');
is(ref $r->{json}, 'ARRAY', 'a list of URLs');
my $res = $http->request('PUT', $r->{json}[0], { headers => { 'Content-MD5' => md5_base64('other') . '==' }, content => 'this' });
isnt($res->{status}, 200, "PUT with bytes not matching Content-MD5 refused ($res->{status})");
$res = $http->request('PUT', $r->{json}[0], { content => 'other' });
isnt($res->{status}, 200, "PUT without the signed Content-MD5 refused ($res->{status})");

# Path rules and body shape.
$r = $t->post("/api/zarr/$zid/files/", [ { path => 'ok', base64md5 => md5_base64('') . '==' },
    { path => 'a/../../b', base64md5 => md5_base64('') . '==' }, { path => '/abs', base64md5 => 'x' },
    { path => 'a//b', base64md5 => md5_base64('') . '==' }, { base64md5 => md5_base64('') . '==' } ], token => $owner);
is($r->{status}, 400, 'bad paths: 400');
is_deeply($r->{json}, [ {}, { path => [ 'Zarr path cannot contain ".." components.' ] },
    { path => [ 'Zarr path cannot start with a slash.' ], base64md5 => [ 'Not a base64-encoded MD5 digest.' ] },
    { path => [ 'Zarr path cannot contain empty or "." components.' ] }, { path => [ 'This field is required.' ] } ],
    'errors per item, in order');
$r = $t->post("/api/zarr/$zid/files/", { path => 'x' }, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { non_field_errors => [ 'Expected a list of items but got type "dict".' ] } ], 'not a list');
$r = $t->post("/api/zarr/$zid/files/", [ map { { path => "p$_", base64md5 => md5_base64('') . '==' } } 1 .. 1001 ], token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { non_field_errors => [ 'Ensure this field has no more than 1000 elements.' ] } ],
    'batch over 1000 paths');
$r = $t->post("/api/zarr/$zid/files/", [ { path => 'x', base64md5 => md5_base64('') . '==' } ], token => $stranger);
is($r->{status}, 403, 'files POST by a non-owner: 403');
is($t->post("/api/zarr/$zid/files/", [], token => $owner)->{status}, 200, 'empty batch: 200');

# --- finalize and checksum --------------------------------------------------
is($t->post("/api/zarr/$zid/finalize/", undef, token => $stranger)->{status}, 403, 'finalize by a non-owner: 403');
$r = $t->post("/api/zarr/$zid/finalize/", undef, token => $owner);
is($r->{status}, 204, 'finalize: 204');
is($t->get("/api/zarr/$zid/")->{json}{status}, 'Uploaded', 'Uploaded');
$r = $t->post("/api/zarr/$zid/finalize/", undef, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'Zarr archive is currently ingesting or has already ingested' ], 'finalize twice: 400');
$r = $t->post("/api/zarr/$zid/files/", [ { path => 'x', base64md5 => md5_base64('') . '==' } ], token => $owner);
is($r->{status}, 400, 'upload while Uploaded: 400');
is($t->request('DELETE', "/api/zarr/$zid/files/", json => [ { path => '.zattrs' } ], token => $owner)->{status}, 400,
    'delete while Uploaded: 400');

# An asset on the zarr before the ingest: its size and digest follow.
$r = $t->post("/api/dandisets/$ds/versions/draft/assets/", { zarr_id => $zid, metadata => { path => 'sample.zarr' } }, token => $owner);
is($r->{status}, 200, 'asset with zarr_id');
my $asset = $r->{json};
is($asset->{zarr}, $zid, 'asset names the zarr');

$t->jobs('run', '--no-validate');	# the sweep would validate it at once
$z = $t->get("/api/zarr/$zid/")->{json};
my $want = zarr_checksum(\%files);
my $total = 0;
$total += length $_ for values %files;
is($z->{status}, 'Complete', 'Complete after the job');
is($z->{checksum}, $want, "checksum $want (independent Perl computation)");
is($z->{file_count}, 305, 'file_count');
is($z->{size}, $total, 'size');
my ($aud) = $t->psql("SELECT string_agg(record_type, ',' ORDER BY id) FROM audit_records WHERE details->>'zarr_id' = '$zid'");
like($aud->[0], qr/^create_zarr,upload_zarr_chunks(,upload_zarr_chunks)*,finalize_zarr$/, 'audit records');

$r = $t->get("/api/dandisets/$ds/versions/draft/assets/$asset->{asset_id}/");
is($r->{json}{digest}{'dandi:dandi-zarr-checksum'}, $want, 'asset digest is the zarr checksum');
is($r->{json}{contentSize}, $total, 'asset contentSize is the zarr size');
is($r->{json}{encodingFormat}, 'application/x-zarr', 'encodingFormat');
$r = $t->get("/api/dandisets/$ds/versions/draft/assets/paths/");
is($r->{json}{results}[0]{aggregate_size}, $total, 'folder tree has the new size');
is(($t->psql("SELECT status FROM assets WHERE asset_id = '$asset->{asset_id}'"))[0][0], 'Pending', 'asset back to Pending');

# --- listing ----------------------------------------------------------------
my (@keys, $pages);
my $url = "/api/zarr/$zid/files/?limit=100";
while ($url) {
	$r = $t->get($url);
	is($r->{status}, 200, "listing page " . ++$pages) or last;
	for my $o (@{ $r->{json}{results} }) {
		push @keys, $o->{Key};
		is($o->{ETag}, md5_hex($files{ $o->{Key} }), "ETag of $o->{Key}") if $o->{Key} =~ /^0\/1\//;
		is($o->{Size}, length $files{ $o->{Key} }, "Size of $o->{Key}") if $o->{Key} =~ /^0\/1\//;
		like($o->{LastModified}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/, 'LastModified as str(datetime)')
		    if $o->{Key} eq '.zattrs';
	}
	$url = $r->{json}{next};
	like($url, qr/[?&]after=/, 'next link carries after') if $url;
}
is($pages, 4, '305 keys in 4 pages of 100');
is_deeply(\@keys, [ sort keys %files ], 'every key, in S3 (bytewise) order');
$r = $t->get("/api/zarr/$zid/files/?prefix=0/1/&limit=1000");
my @p = grep { m{^0/1} } sort keys %files;
is_deeply([ map { $_->{Key} } @{ $r->{json}{results} } ], \@p, 'prefix listing (S3 prefix match)');
is($r->{json}{next}, undef, 'last page: next null');
$r = $t->get("/api/zarr/$zid/files/?after=0/9/9&limit=2");
is_deeply([ map { $_->{Key} } @{ $r->{json}{results} } ], [ (grep { $_ gt '0/9/9' } sort keys %files)[0, 1] ], 'after');
$r = $t->get("/api/zarr/$zid/files/?limit=0");
is_deeply($r->{json}{results}, [], 'limit 0');
$r = $t->get("/api/zarr/$zid/files/?limit=1001");
is_deeply([ $r->{status}, $r->{json} ], [ 400, { limit => [ 'Ensure this value is less than or equal to 1000.' ] } ], 'limit over 1000');
$r = $t->get("/api/zarr/$zid/files/?prefix=a/../..");
is_deeply([ $r->{status}, $r->{json} ], [ 400, { prefix => [ 'Zarr path cannot contain ".." components.' ] } ], 'prefix with ..');
$r = $t->get("/api/zarr/$zid/files/?download=maybe");
is($r->{status}, 400, 'download not a boolean: 400');

# --- download every file, byte for byte -------------------------------------
my $same = 0;
for my $k (sort keys %files) {
	$r = $t->get("/api/zarr/$zid/files/?prefix=" . uri_path($k) . '&download=true');
	next unless $r->{status} == 302;
	my $got = $http->get($r->{headers}{location});
	$same++ if $got->{status} == 200 && $got->{content} eq $files{$k};
}
is($same, 305, 'all 305 files downloaded through download=true redirects, byte for byte');
$r = $t->request('HEAD', "/api/zarr/$zid/files/?prefix=.zattrs");
is($r->{status}, 302, 'HEAD: redirect');
is($http->request('HEAD', $r->{headers}{location})->{status}, 200, 'presigned HEAD works');

# --- delete files: the checksum changes --------------------------------------
$r = $t->request('DELETE', "/api/zarr/$zid/files/", json => [ { path => '0/0/0' }, { path => 'nope' } ], token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, [ "File zarr/$zid/nope does not exist." ] ], 'missing file: 400, nothing deleted');
is($t->get("/api/zarr/$zid/files/?prefix=0/0/0")->{json}{results}[0]{Key}, '0/0/0', '0/0/0 still there');
$r = $t->request('DELETE', "/api/zarr/$zid/files/", json => [ { path => '0/0/0' } ], token => $stranger);
is($r->{status}, 403, 'delete by a non-owner: 403');
$r = $t->request('DELETE', "/api/zarr/$zid/files/", json => [ { path => '0/0/0' }, { path => '1/x/z' } ], token => $owner);
is($r->{status}, 204, 'delete two files: 204');
delete @files{ '0/0/0', '1/x/z' };
$z = $t->get("/api/zarr/$zid/")->{json};
is_deeply([ @$z{qw(status checksum file_count size)} ], [ 'Pending', undef, 0, 0 ], 'back to Pending');
is($t->post("/api/zarr/$zid/finalize/", undef, token => $owner)->{status}, 204, 'finalize again');
$t->jobs('run');
$z = $t->get("/api/zarr/$zid/")->{json};
my $want2 = zarr_checksum(\%files);
isnt($want2, $want, 'expected checksum differs');
is_deeply([ @$z{qw(status checksum file_count)} ], [ 'Complete', $want2, 303 ], "new checksum $want2");

# --- an empty zarr ----------------------------------------------------------
$r = $t->post('/api/zarr/', { name => 'empty.zarr', dandiset => $ds }, token => $owner);
my $empty = $r->{json}{zarr_id};
$t->post("/api/zarr/$empty/finalize/", undef, token => $owner);
$t->jobs('run');
is($t->get("/api/zarr/$empty/")->{json}{checksum}, '481a2f77ab786a0f45aafd5db0971caa-0--0', 'empty zarr: the empty checksum');

# --- embargo ----------------------------------------------------------------
$r = $t->post('/api/zarr/', { name => 'secret.zarr', dandiset => $eds }, token => $owner);
is($r->{status}, 200, 'zarr in an embargoed dandiset (owner)');
my $ez = $r->{json}{zarr_id};
for my $who ([ 'anonymous', undef ], [ 'stranger', $stranger ]) {
	is($t->get("/api/zarr/$ez/", token => $who->[1])->{status}, 404, "embargoed detail: $who->[0] 404");
	is($t->get("/api/zarr/$ez/files/", token => $who->[1])->{status}, 404, "embargoed files: $who->[0] 404");
	is($t->get("/api/zarr/?dandiset=$eds", token => $who->[1])->{json}{count}, 0, "embargoed list: $who->[0] sees none");
}
is($t->get("/api/zarr/$ez/", token => $admin)->{status}, 200, 'embargoed detail: admin 200');
is($t->post("/api/zarr/$ez/finalize/", undef, token => $stranger)->{status}, 404, 'embargoed finalize: stranger 404');
# The original's scheme (its embargo redesign): the presigned PUT URL of an
# embargoed zarr signs x-amz-tagging: embargoed=true, so S3 takes the bytes
# only with the tag and no object of it ever exists untagged. dandi-cli
# (0.71.2 and later) reads X-Amz-SignedHeaders and sends the tag then.
$r = $t->post("/api/zarr/$ez/files/", [ { path => 'c', base64md5 => md5_base64('s') . '==' } ], token => $owner);
like($r->{json}[0], qr/X-Amz-SignedHeaders=content-md5%3Bhost%3Bx-amz-tagging/, 'embargoed PUT URL signs the tag header');
is_deeply(client_headers($r->{json}[0], 'c', 's'), { 'Content-MD5' => md5_base64('s') . '==',
    'x-amz-tagging' => 'embargoed=true' }, 'dandi-cli finds it there and sends the tag with Content-MD5');
$res = $http->request('PUT', $r->{json}[0], { headers => { 'Content-MD5' => md5_base64('s') . '==' }, content => 's' });
is($res->{status}, 403, 'a PUT without the tag (dandi-cli before 0.71.2, as with the original): 403');
my $tool = DandiTest::build() . '/t/unit/s3-tool';
sub s3tool {
	my ($out, $err, $rc) = $t->run_cmd($tool, @_);
	chomp $out;
	return $rc == 0 ? $out : $rc == 3 ? 'not found' : "error $rc: $err";
}
is(s3tool('head', "zarr/$ez/c"), 'not found', '... and nothing was stored');
my %secret = (c => 's', 'd/e' => 'tt', '.zattrs' => '{"secret": true}');
is(zarr_upload($t, $owner, $ez, \%secret), '', "embargoed upload with dandi-cli's exact requests");
is($t->post("/api/zarr/$ez/finalize/", undef, token => $owner)->{status}, 204, 'finalize');
$t->jobs('run');
is($t->get("/api/zarr/$ez/", token => $owner)->{json}{checksum}, zarr_checksum(\%secret), 'embargoed zarr checksummed');
is_deeply({ map { $_ => s3tool('tags', "zarr/$ez/$_") } sort keys %secret }, { map { $_ => 'embargoed=true' } keys %secret },
    'every object of the embargoed zarr is tagged embargoed=true');
like(s3tool('stat', "zarr/$ez/.zattrs"), qr/ application\/json$/, 'the Content-Type the client sent is kept');
is(s3tool('tags', "zarr/$zid/0/.zarray"), '', 'an open zarr object has no tag');
$r = $t->post("/api/zarr/$zid/files/", [ { path => 'n', base64md5 => md5_base64('n') . '==' } ], token => $owner);
is_deeply(client_headers($r->{json}[0], 'n', 'n'), { 'Content-MD5' => md5_base64('n') . '==' },
    'an open zarr URL signs no tag: dandi-cli sends Content-MD5 alone');

# Unembargo takes the tag off every object of the dandiset's zarrs, as the
# original does; new uploads are then untagged.
is($t->post("/api/dandisets/$eds/unembargo/", undef, token => $owner)->{status}, 200, 'unembargo');
like($t->jobs('run', '--no-validate'), qr/^1 job\(s\) worked/m, 'the unembargo job');
is($t->get("/api/dandisets/$eds/")->{json}{embargo_status}, 'OPEN', 'OPEN');
is_deeply({ map { $_ => s3tool('tags', "zarr/$ez/$_") } sort keys %secret }, { map { $_ => '' } keys %secret },
    'the tags are gone from its zarr objects');
$r = $t->post("/api/zarr/$ez/files/", [ { path => 'f', base64md5 => md5_base64('f') . '==' } ], token => $owner);
unlike($r->{json}[0], qr/x-amz-tagging/, 'its new URLs sign no tag');
is(zarr_upload($t, $owner, $ez, { f => 'f' }), '', 'upload after the unembargo');
is(s3tool('tags', "zarr/$ez/f"), '', '... untagged');

# A zarr of another dandiset cannot back an asset here.
$r = $t->post("/api/dandisets/$ds/versions/draft/assets/", { zarr_id => $ez, metadata => { path => 'other.zarr' } }, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'The zarr archive belongs to a different dandiset' ], 'zarr of another dandiset: 400');

done_testing;
