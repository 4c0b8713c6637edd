# The sha256 job (dandi-jobs, src/lib/blobsum.c + rangefeed.c) reads a blob
# as ranged GETs, several at once, and hashes them in order: the digest it
# stores must be the bytes' sha256 (computed here with Digest::SHA) for
# sizes on and around the boundaries of curl's receive buffer and of the
# ranges, single-part and multipart objects alike; and a blob whose object
# is missing or of another size than recorded gets no digest at all, with
# the reason in the job's last_error.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::SHA qw(sha256_hex);
use DandiTest;
use Upload qw(etag_of);

my $KiB = 1024;
my $MiB = 1024 * $KiB;
my $R = 1 * $MiB;	# the range size, small so that a few MiB make several ranges
my $BUF = 512 * $KiB;	# curl's receive buffer for streamed GETs (S3_READ_BUFFER)
my $t = DandiTest->new(s3 => 1, env => { DANDI_BLOB_READ_RANGE_SIZE => $R, DANDI_BLOB_READ_STREAMS => 3 });
my $tool = DandiTest::build() . '/t/unit/s3-tool';
sub one { my @r = $t->psql($_[0]); return $r[0][0] }

# Bytes that differ in every case (distinct ETags) and repeat nowhere.
my $seed = 1;
sub bytes_of {
	my ($n) = @_;
	my $s = '';
	while (length $s < $n) { $s .= Digest::SHA::sha256(pack('N2', $seed, length $s)) x 64 }
	$seed++;
	return substr($s, 0, $n);
}

my $n = 0;
# Puts bytes at a new key (multipart with part_size parts when given) and
# records a blob of size bytes (default: their length) there, its sha256
# job queued. Returns the blob id.
sub blob {
	my ($bytes, %o) = @_;
	my $id = sprintf('00000000-0000-4000-8000-%012d', ++$n);
	my $key = "blobs/000/000/$id";
	my $file = $t->dir . "/bytes-$n";
	open(my $fh, '>:raw', $file) or die;
	print $fh $bytes;
	close $fh;
	unless ($o{no_object}) {
		my ($out, $err, $rc) = $t->run_cmd($tool, $o{part_size} ? ('put-parts', $key, $file, $o{part_size}) :
		    ('put', $key, $file));
		$rc == 0 or die "s3-tool put $key: $err";
	}
	unlink $file;
	my $size = $o{size} // length $bytes;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$id', '$key', '" . etag_of($bytes . $n) . "', $size)");
	$t->psql(qq{SELECT dandi_enqueue('sha256', '$id', '{"blob": "$id"}')});
	return $id;
}

my @good = (
	[ 'empty', 0 ], [ 'one byte', 1 ],
	[ 'one receive buffer less a byte', $BUF - 1 ], [ 'one receive buffer', $BUF ], [ 'one receive buffer + 1', $BUF + 1 ],
	[ 'one range less a byte', $R - 1 ], [ 'exactly one range', $R ], [ 'one range + 1', $R + 1 ],
	[ 'two ranges', 2 * $R ], [ 'three ranges + 1', 3 * $R + 1 ],
	# More ranges than streams + 1 buffers: the buffers are reused.
	[ 'nine ranges and a bit', 9 * $R + 12_345 ],
	# As the dandi client makes them: a multipart object (5 MiB parts),
	# part and range boundaries apart.
	[ 'multipart, 3 parts', 11 * $MiB + 3, 5 * $MiB ],
);
my %want;
for my $c (@good) {
	my ($name, $size, $part) = @$c;
	my $bytes = bytes_of($size);
	my $id = blob($bytes, $part ? (part_size => $part) : ());
	$want{$id} = [ $name, sha256_hex($bytes) ];
}

# Failures: none may store a digest.
my %bad;
$bad{ blob(bytes_of(3 * $R), no_object => 1) } = [ 'object missing', qr/404|NoSuchKey/ ];
$bad{ blob(bytes_of(3 * $R + 1), size => 3 * $R) } = [ 'object a byte longer than recorded (ranges)', qr{/3145729, expected 206 bytes \d+-\d+/3145728} ];
$bad{ blob(bytes_of(3 * $R - 1), size => 3 * $R) } = [ 'object a byte shorter than recorded (ranges)', qr{/3145727, expected 206} ];
$bad{ blob(bytes_of(1000), size => 999) } = [ 'object a byte longer than recorded (one GET)', qr/HTTP 200 with 1000 bytes, expected 200 with 999/ ];
$bad{ blob(bytes_of(1000), size => 1001) } = [ 'object a byte shorter than recorded (one GET)', qr/HTTP 200 with 1000 bytes, expected 200 with 1001/ ];
$bad{ blob(bytes_of(1), size => 0) } = [ 'recorded empty, the object is not', qr/HTTP 200 with 1 bytes, expected 200 with 0/ ];
$bad{ blob(bytes_of(0), size => 5 * $R) } = [ 'recorded 5 ranges, the object is empty', qr/HTTP 416|InvalidRange|expected 206/ ];

my $total = keys(%want) + keys(%bad);
is(one("SELECT count(*) FROM jobs WHERE kind = 'sha256' AND state = 'queued'"), $total, "$total sha256 jobs queued");
my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-jobs', 'run', '--no-validate');
like($out, qr/^$total job\(s\) worked/m, 'dandi-jobs run works them all') or diag($err);

for my $id (sort keys %want) {
	my ($name, $sha) = @{ $want{$id} };
	is(one("SELECT sha256 FROM blobs WHERE blob_id = '$id'"), $sha, "$name: the stored sha256 is the bytes' sha256");
	is(one("SELECT state FROM jobs WHERE args->>'blob' = '$id'"), 'done', "$name: job done");
}
for my $id (sort keys %bad) {
	my ($name, $why) = @{ $bad{$id} };
	is(one("SELECT coalesce(sha256, 'NULL') FROM blobs WHERE blob_id = '$id'"), 'NULL', "$name: no sha256 stored");
	my ($state, $attempts, $error) = @{ ($t->psql("SELECT state, attempts, last_error FROM jobs WHERE args->>'blob' = '$id'"))[0] };
	is_deeply([ $state, $attempts ], [ 'queued', 1 ], "$name: the job waits for another attempt");
	like($error, qr/^sha256 of blobs\/000\/000\/$id: range \d+: GET .*$why/, "$name: the reason: $error");
}

# The library call itself, as verify makes it (the dandi-etag too), with
# other stream counts and range sizes: the same digests.
my ($mid) = grep { $want{$_}[0] eq 'nine ranges and a bit' } keys %want;
for my $o ([ 1, $R ], [ 2, 3 * $R ], [ 4, 65_536 ], [ 16, 1_000_003 ]) {
	my ($o1, $e1, $r1) = $t->run_cmd($tool, 'sha256', "blobs/000/000/$mid", 9 * $R + 12_345, @$o);
	is((split ' ', $o1)[0], $want{$mid}[1], "blobsum_compute with $o->[0] stream(s) of $o->[1] bytes: same digest")
	    or diag($e1);
}
my ($o1, $e1, $r1) = $t->run_cmd($tool, 'sha256', "blobs/000/000/$mid", 9 * $R + 12_346, 3, $R);
is($r1, 1, 's3-tool sha256 with a wrong size: fails');
my $real = 9 * $R + 12_345;
like($e1, qr/HTTP 206 bytes \d+-\d+\/$real, expected 206 bytes \d+-\d+\/${\($real + 1)}/, '... saying so');
done_testing;
