# The S3 client (src/lib/s3.c) against a real S3 service (one-node Ceph
# radosgw on loopback): byte-exact round trips, presigned URLs used the way
# clients use them, multipart uploads and their ETag, ranges, errors.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::MD5 qw(md5 md5_hex);
use File::Temp qw(tempfile);
use HTTP::Tiny;
use DandiTest;

my $t = DandiTest->new(s3 => 1, workers => 1);
my $tool = DandiTest::build() . '/t/unit/s3-tool';
%ENV = (%ENV, %{ $t->env });

sub tool {
	my @args = @_;
	my $pid = open(my $fh, '-|') // die;
	if ($pid == 0) { open(STDERR, '>&', \*STDOUT); exec($tool, @args) or exit 127 }
	my $out = do { local $/; <$fh> };
	close $fh;
	return wantarray ? ($out, $? >> 8) : $out;
}
sub file_of {
	my ($bytes) = @_;
	my ($fh, $name) = tempfile(DIR => $t->dir);
	binmode $fh;
	print $fh $bytes;
	close $fh;
	return $name;
}
my $http = HTTP::Tiny->new(timeout => 60);

for my $case ([ 'empty', '' ], [ 'one byte', 'x' ], [ 'binary', join('', map { chr } 0 .. 255) x 40 ]) {
	my ($name, $bytes) = @$case;
	my $key = "t/$name";
	my (undef, $rc) = tool('put', $key, file_of($bytes));
	is($rc, 0, "$name: put");
	my $got = tool('get', $key);
	ok($got eq $bytes, "$name: get is byte-exact (" . length($bytes) . " bytes)");
	is(tool('head', $key), length($bytes) . ' ' . md5_hex($bytes) . "\n", "$name: head gives size and md5 ETag");
}
my $bin = join('', map { chr } 0 .. 255) x 40;
is(tool('get', 't/binary', 10, 19), substr($bin, 10, 10), 'ranged get');

my ($out, $rc) = tool('head', 't/missing');
is($rc, 3, 'head of a missing key: not found');
($out, $rc) = tool('get', 't/missing');
is($rc, 3, 'get of a missing key: not found');

# Keys with characters SigV4 must encode.
for my $key ('t/a b+c~d', "t/\x{c3}\x{a9}t\x{c3}\x{a9}/x=1&y", 't/(1),#;!') {
	tool('put', $key, file_of("key $key"));
	is(tool('get', $key), "key $key", "key '$key' round trip");
}

# Presigned URLs, used as a client would.
my $url = tool('presign', 'PUT', 't/presigned', 600);
chomp $url;
my $r = $http->request('PUT', $url, { content => 'via presigned PUT' });
is($r->{status}, 200, 'presigned PUT') or diag($r->{content});
$url = tool('presign', 'GET', 't/presigned', 600, 'response-content-disposition=attachment; filename="a b.txt"');
chomp $url;
$r = $http->get($url);
is($r->{content}, 'via presigned PUT', 'presigned GET');
is($r->{headers}{'content-disposition'}, 'attachment; filename="a b.txt"', 'response-content-disposition honoured');
(my $forged = $url) =~ s/X-Amz-Signature=([0-9a-f])/'X-Amz-Signature=' . ($1 eq '0' ? '1' : '0')/e;
is($http->get($forged)->{status}, 403, 'a forged signature is refused');

# Multipart: 3 parts of 5 MiB, 5 MiB and 1234 bytes; ETag = md5 of the part md5s.
my $p1 = ('a' x (5 * 1024 * 1024 - 3)) . 'end';
my $p2 = $bin x (5 * 1024 * 1024 / length($bin) + 1);
$p2 = substr($p2, 0, 5 * 1024 * 1024);
my $p3 = 'z' x 1234;
my $id = tool('mpu-create', 't/multi', 'embargoed=true');
chomp $id;
ok(length $id, 'create multipart upload');
my @etags;
for my $n (1 .. 3) {
	my $u = tool('presign', 'PUT', 't/multi', 600, "partNumber=$n", "uploadId=$id");
	chomp $u;
	my $res = $http->request('PUT', $u, { content => (undef, $p1, $p2, $p3)[$n] });
	is($res->{status}, 200, "part $n uploaded through its presigned URL");
	(my $e = $res->{headers}{etag} // '') =~ s/"//g;
	push @etags, "$n:$e";
}
my $want = md5_hex(join '', map { md5($_) } $p1, $p2, $p3) . '-3';
($out, $rc) = tool('mpu-complete', 't/multi', $id, @etags);
is($out, "$want\n", 'complete gives the multipart ETag (md5 of part md5s, -3)');
is(tool('head', 't/multi'), (length($p1) + length($p2) + length($p3)) . " $want\n", 'head agrees');
ok(tool('get', 't/multi') eq $p1 . $p2 . $p3, 'multipart object is byte-exact');

$id = tool('mpu-create', 't/aborted');
chomp $id;
($out, $rc) = tool('mpu-abort', 't/aborted', $id);
is($rc, 0, 'abort');
($out, $rc) = tool('mpu-complete', 't/aborted', $id, '1:abc');
isnt($rc, 0, 'an aborted upload cannot be completed');

is((tool('copy', 't/one byte', 't/copy'))[1], 0, 'copy');
is(tool('get', 't/copy'), 'x', 'copy has the bytes');
is((tool('tag', 't/copy', 'embargoed=true'))[1], 0, 'set tags');
is((tool('tag', 't/copy', '-'))[1], 0, 'remove tags');
is((tool('delete', 't/copy'))[1], 0, 'delete');
is((tool('head', 't/copy'))[1], 3, 'deleted');

# Listing follows continuation tokens (radosgw pages at 1000 keys).
# (1005 objects list/k0001.., each its number, put by one process.)
is((tool('put-many', 'list/k', 1005))[1], 0, '1005 objects put');
my @keys = map { (split /\t/)[0] } split /\n/, tool('list', 'list/');
is(scalar @keys, 1005, 'list walks every page');
is($keys[0], 'list/k0001', 'in key order');

# Wrong credentials are an error with S3's code.
{
	local $ENV{DANDI_S3_SECRET_KEY} = 'wrong';
	($out, $rc) = tool('head', 't/one byte');
	is($rc, 1, 'wrong secret: error');
	($out, $rc) = tool('get', 't/one byte');
	like($out, qr/SignatureDoesNotMatch|403/, 'wrong secret: S3 says why');
}

done_testing;
