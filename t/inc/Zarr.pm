package Zarr;
# Zarr helpers for the integration tests: the dandi-zarr-checksum written
# independently in Perl (from the algorithm as documented), and uploads
# through the presigned PUT URLs the way the dandi CLI does them.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex md5_base64);
use Exporter 'import';
use HTTP::Tiny;

our @EXPORT_OK = qw(zarr_checksum zarr_upload);

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

# Uploads { path => bytes } to a zarr in batches through presigned URLs;
# returns '' or the error.
sub zarr_upload {
	my ($t, $token, $zarr, $files, %o) = @_;
	my @paths = sort keys %$files;
	while (my @batch = splice(@paths, 0, $o{batch} // 255)) {
		my $r = $t->post("/api/zarr/$zarr/files/",
		    [ map { { path => $_, base64md5 => md5_base64($files->{$_}) . '==' } } @batch ], token => $token);
		return "files POST: $r->{status} $r->{body}" unless $r->{status} == 200;
		for my $i (0 .. $#batch) {
			my %h = ('Content-MD5' => md5_base64($files->{ $batch[$i] }) . '==');
			$h{'x-amz-tagging'} = 'embargoed=true' if $o{embargoed};
			my $res = $http->request('PUT', $r->{json}[$i], { headers => \%h, content => $files->{ $batch[$i] } });
			return "PUT $batch[$i]: $res->{status} $res->{content}" unless $res->{status} == 200;
		}
	}
	return '';
}

1;
