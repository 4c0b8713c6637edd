package Upload;
# Uploads as dandi-cli does (initialize, presigned part PUTs to S3,
# complete, the POST to complete_url with the client's ETag check,
# validate) for the integration tests, and the client side of the
# dandi-etag. t/inc/client_upload.py is the closer stand-in (the client's
# own XML parser) used by t/81-client-upload.t.
use strict;
use warnings;
use Digest::MD5 qw(md5 md5_hex);
use Exporter 'import';
use HTTP::Tiny;

our @EXPORT_OK = qw(part_plan etag_of upload);

my $MiB = 1024 * 1024;
my $s3 = HTTP::Tiny->new(timeout => 120);

# dandischema's part plan for a file of $size bytes.
sub part_plan {
	my ($size) = @_;
	return () if $size == 0;
	my $p = 64 * $MiB;
	$p = int(($size + 9999) / 10000) if int(($size + $p - 1) / $p) >= 10000;
	my ($n, $last) = (int($size / $p), $size % $p);
	if ($last == 0) { $last = $p } else { $n++ }
	return map { $_ < $n ? $p : $last } 1 .. $n;
}

sub etag_of {
	my ($bytes) = @_;
	return md5_hex('') . '-0' unless length $bytes;	# (refused by initialize)
	my ($off, @md5) = (0);
	for my $size (part_plan(length $bytes)) {
		push @md5, md5(substr($bytes, $off, $size));
		$off += $size;
	}
	return md5_hex(join '', @md5) . '-' . scalar @md5;
}

# upload($t, $token, $dandiset, $bytes, etag => ..., size => ..., no_validate => 1): returns
# { blob, init, upload_id } or { step, r } naming the step that failed.
sub upload {
	my ($t, $token, $dandiset, $bytes, %o) = @_;
	my $etag = $o{etag} // etag_of($bytes);
	my $r = $t->post('/api/uploads/initialize/', { contentSize => $o{size} // length($bytes),
	    digest => { algorithm => 'dandi:dandi-etag', value => $etag }, dandiset => $dandiset }, token => $token);
	return { step => 'initialize', r => $r } unless $r->{status} == 200;
	my $init = $r->{json};
	my ($off, @parts) = (0);
	for my $p (@{ $init->{parts} }) {
		my $res = $s3->request('PUT', $p->{upload_url}, { content => substr($bytes, $off, $p->{size}) });
		return { step => "part $p->{part_number}", r => $res } unless $res->{status} == 200;
		(my $e = $res->{headers}{etag}) =~ s/"//g;
		push @parts, { part_number => $p->{part_number}, size => $p->{size}, etag => $e };
		$off += $p->{size};
	}
	$r = $t->post("/api/uploads/$init->{upload_id}/complete/", { parts => [ reverse @parts ] }, token => $token);
	return { step => 'complete', r => $r } unless $r->{status} == 200;
	my $res = $s3->request('POST', $r->{json}{complete_url}, { content => $r->{json}{body} });
	return { step => 'complete at S3', r => $res } unless $res->{status} == 200;
	# The dandi client's check of that answer: when the XML has an ETag
	# (any namespace), it must be the dandi-etag, quotes stripped; an
	# empty one (radosgw 16's) fails the upload.
	if (!$o{no_client_check} && $res->{content} =~ m{^\s*(?:<\?xml[^>]*\?>\s*)?<(\w+)[^>]*>.*?<ETag>([^<]*)</ETag>}s) {
		(my $final = $2) =~ s/&quot;|&#34;/"/g;
		$final =~ s/^"+|"+$//g;
		return { step => 'final ETag', r => $res, final_etag => $final } unless $final eq $etag;
	}
	# no_validate: stop with the object complete in S3, the upload not yet a blob
	return { step => 'completed', upload_id => $init->{upload_id}, init => $init } if $o{no_validate};
	$r = $t->post("/api/uploads/$init->{upload_id}/validate/", undef, token => $token);
	return { step => 'validate', r => $r, upload_id => $init->{upload_id} } unless $r->{status} == 200;
	return { blob => $r->{json}, init => $init, upload_id => $init->{upload_id} };
}

1;
