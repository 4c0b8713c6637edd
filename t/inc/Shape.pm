package Shape;
# Helpers for asserting response shapes that JSON::PP cannot see: the key
# order of objects as sent on the wire, and URL comparison that ignores the
# order of query parameters. Used by the t/NN-*.t integration tests.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP;

our @EXPORT_OK = qw(okeys norm_url pyiso);

my $STR = qr/"[^"\\]*(?:\\.[^"\\]*)*"/s;
my $codec = JSON::PP->new->utf8->allow_nonref;

# Parses raw JSON into [type, value] nodes; objects keep their pairs in order.
sub _node {
	my ($r) = @_;
	$$r =~ /\G\s*/gc;
	if ($$r =~ /\G\{/gc) {
		my @pairs;
		$$r =~ /\G\s*/gc;
		return ['o', \@pairs] if $$r =~ /\G\}/gc;
		while (1) {
			$$r =~ /\G\s*($STR)\s*:/gc or die "bad key at " . (pos($$r) // 0) . "\n";
			my $k = $codec->decode($1);
			push @pairs, [$k, _node($r)];
			$$r =~ /\G\s*/gc;
			next if $$r =~ /\G,/gc;
			last if $$r =~ /\G\}/gc;
			die "bad object at " . pos($$r) . "\n";
		}
		return ['o', \@pairs];
	}
	if ($$r =~ /\G\[/gc) {
		my @items;
		$$r =~ /\G\s*/gc;
		return ['a', \@items] if $$r =~ /\G\]/gc;
		while (1) {
			push @items, _node($r);
			$$r =~ /\G\s*/gc;
			next if $$r =~ /\G,/gc;
			last if $$r =~ /\G\]/gc;
			die "bad array at " . pos($$r) . "\n";
		}
		return ['a', \@items];
	}
	return ['s', $1]
	    if $$r =~ /\G($STR|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/gc;
	die "bad JSON at " . (pos($$r) // 0) . "\n";
}

# okeys($raw, @path): keys, in wire order, of the object at @path (object
# keys or array indexes). Returns undef when the path does not lead to an
# object, so a test fails instead of dying.
sub okeys {
	my ($raw, @path) = @_;
	my $v = eval { my $copy = $raw; _node(\$copy) } or return undef;
	for my $p (@path) {
		if ($v->[0] eq 'o') {
			($v) = map { $_->[1] } grep { $_->[0] eq $p } @{ $v->[1] };
		} elsif ($v->[0] eq 'a') {
			$v = $v->[1][$p];
		} else {
			return undef;
		}
		return undef unless $v;
	}
	return undef unless $v->[0] eq 'o';
	return [ map { $_->[0] } @{ $v->[1] } ];
}

sub _unescape {
	my ($s) = @_;
	$s =~ tr/+/ /;
	$s =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
	return $s;
}

# A URL with its query parameters decoded and sorted, for comparing links
# whose parameter order (or +/%20 spelling) is not significant.
sub norm_url {
	my ($url) = @_;
	return undef unless defined $url;
	my ($base, $q) = split /\?/, $url, 2;
	return $base unless defined $q && length $q;
	my @pairs = sort map { join '=', map { _unescape($_) } split /=/, $_, 2 }
	    grep { length } split /&/, $q;
	return "$base?" . join '&', @pairs;
}

# DRF timestamp (2024-01-02T03:04:05.123456Z) -> Python isoformat in UTC
# (2024-01-02T03:04:05.123456+00:00, microseconds dropped when zero).
sub pyiso {
	my ($ts) = @_;
	(my $s = $ts) =~ s/Z$/+00:00/;
	$s =~ s/\.000000\+/+/;
	return $s;
}

1;
