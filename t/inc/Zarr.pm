package Zarr;
# Zarr helpers for the integration tests: the dandi-zarr-checksum written
# independently in Perl (from the algorithm as documented), and uploads
# through the presigned PUT URLs the way the dandi CLI does them.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex md5_base64);
use Exporter 'import';
use HTTP::Tiny;
use JSON::PP ();

our @EXPORT_OK = qw(zarr_checksum zarr_upload client_headers);

sub _js {
	my ($s) = @_;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/([\x00-\x1f\x7f])/sprintf('\\u%04x', ord $1)/ge;
	return qq("$s");
}

sub _dir {
	my ($node) = @_;
	my (@f, @d);
	for my $name (sort keys %{ $node->{files} }) {
		my ($md5, $size) = @{ $node->{files}{$name} };
		push @f, [ $name, $md5, $size ];
	}
	my ($count, $total) = (scalar @f, 0);
	$total += $_->[2] for @f;
	for my $name (sort keys %{ $node->{dirs} }) {
		my ($digest, $c, $s) = _dir($node->{dirs}{$name});
		push @d, [ $name, $digest, $s ];
		$count += $c;
		$total += $s;
	}
	my $list = sub { '[' . join(',', map { '{"digest":' . _js($_->[1]) . ',"name":' . _js($_->[0])
	    . ',"size":' . $_->[2] . '}' } @_) . ']' };
	my $json = '{"directories":' . $list->(@d) . ',"files":' . $list->(@f) . '}';
	return (md5_hex($json) . "-$count--$total", $count, $total);
}

# zarr_checksum({ path => bytes | [md5, size] }): ASCII paths only.
sub zarr_checksum {
	my ($files) = @_;
	my $root = { files => {}, dirs => {} };
	for my $p (keys %$files) {
		my @seg = split m{/}, $p;
		my $n = $root;
		$n = $n->{dirs}{$_} //= { files => {}, dirs => {} } for @seg[0 .. $#seg - 1];
		my $v = $files->{$p};
		$n->{files}{ $seg[-1] } = ref $v ? $v : [ md5_hex($v), length $v ];
	}
	return (_dir($root))[0];
}

my $http = HTTP::Tiny->new(timeout => 60, keep_alive => 1);

# What Python's urllib.parse.parse_qs makes of a whole URL (dandi-cli hands
# it the presigned URL itself, not its query): name => [values], pairs
# split on '&', '+' and %XX decoded; the first name keeps "scheme://...?".
sub _parse_qs {
	my ($s) = @_;
	my %q;
	for my $pair (split /&/, $s) {
		next unless $pair =~ /=/;
		my ($k, $v) = split /=/, $pair, 2;
		for ($k, $v) { tr/+/ /; s/%([0-9A-Fa-f]{2})/chr hex $1/ge }
		push @{ $q{$k} }, $v;
	}
	return \%q;
}

# The headers dandi-cli (dandi/files/zarr.py, _upload_zarr_file, 0.71.2 and
# later) sends with its PUT of one zarr entry to the presigned URL:
# Content-MD5; Content-Type application/json for a zarr metadata file that
# parses as JSON; and x-amz-tagging: embargoed=true only when the URL's
# X-Amz-SignedHeaders names it. Clients before 0.71.2 never send the tag.
sub client_headers {
	my ($url, $path, $bytes) = @_;
	my %h = ('Content-MD5' => md5_base64($bytes) . '==');
	my ($name) = $path =~ m{([^/]*)$};
	if (grep { $name eq $_ } qw(.zarray .zattrs .zgroup .zmetadata zarr.json)) {
		$h{'Content-Type'} = 'application/json' if eval { JSON::PP->new->allow_nonref->decode($bytes); 1 };
	}
	my @signed = split /;/, join ';', @{ _parse_qs($url)->{'X-Amz-SignedHeaders'} // [] };
	$h{'x-amz-tagging'} = 'embargoed=true' if grep { $_ eq 'x-amz-tagging' } @signed;
	return \%h;
}

# Uploads { path => bytes } to a zarr in batches through presigned URLs,
# each PUT as dandi-cli sends it; returns '' or the error.
sub zarr_upload {
	my ($t, $token, $zarr, $files, %o) = @_;
	my @paths = sort keys %$files;
	while (my @batch = splice(@paths, 0, $o{batch} // 255)) {
		my $r = $t->post("/api/zarr/$zarr/files/",
		    [ map { { path => $_, base64md5 => md5_base64($files->{$_}) . '==' } } @batch ], token => $token);
		return "files POST: $r->{status} $r->{body}" unless $r->{status} == 200;
		for my $i (0 .. $#batch) {
			my $bytes = $files->{ $batch[$i] };
			my $h = client_headers($r->{json}[$i], $batch[$i], $bytes);
			my $res = $http->request('PUT', $r->{json}[$i], { headers => $h, content => $bytes });
			return "PUT $batch[$i]: $res->{status} $res->{content}" unless $res->{status} == 200;
		}
	}
	return '';
}

1;
