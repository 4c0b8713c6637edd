package FakeHTTP;
# What the tests' stand-ins for outside HTTP services (FakeSentry,
# FakeDataCite) share: a loopback port served by a forked child, one
# connection at a time, one request each (Connection: close), its log in
# <dir>/server.log. A subclass keeps its state in files of its directory
# (the test reads and changes them while the child serves) and answers in
# _answer($request), $request = {method, path, headers (lower-case
# names), body}: (status, content type, body text).
#
#   my $self = bless { dir => $dir, owner => $$ }, $class;
#   $self->serve('fake X', 10);  ... $self->port; $self->stop;
use strict;
use warnings;
use IO::Socket::INET;
use POSIX ();

# Listens, then forks the child that serves; TIMEOUT seconds a request.
sub serve {
	my ($self, $name, $timeout) = @_;
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
	    Listen => 16, ReuseAddr => 1) or die "$name: listen: $!";
	$self->{port} = $listen->sockport;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>>', "$self->{dir}/server.log");
		open(STDERR, '>&', \*STDOUT);
		while (my $c = $listen->accept) {
			local $SIG{ALRM} = sub { die "timeout\n" };
			alarm $timeout;
			eval {
				my $req = _read_request($c);
				if ($req) {
					my ($status, $type, $text) = $self->_answer($req);
					$text //= '';
					print $c "HTTP/1.1 $status X\r\nContent-Type: $type\r\nContent-Length: " . length($text)
					    . "\r\nConnection: close\r\n\r\n$text";
				}
			};
			print "error: $@" if $@;
			alarm 0;
			close $c;
		}
		POSIX::_exit(0);
	}
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub port { $_[0]{port} }

# The request on connection c: its head, then as many body bytes as its
# Content-Length says; undef when the client closed first.
sub _read_request {
	my ($c) = @_;
	my $head = '';
	while ($head !~ /\r\n\r\n/) {
		sysread($c, my $chunk, 4096) or return undef;
		$head .= $chunk;
	}
	my ($h, $body) = split /\r\n\r\n/, $head, 2;
	my ($line, @lines) = split /\r\n/, $h;
	my ($method, $path) = split ' ', $line;
	my %hdr = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @lines;
	my $len = $hdr{'content-length'} // 0;
	while (length $body < $len) {
		sysread($c, my $chunk, $len - length $body) or last;
		$body .= $chunk;
	}
	return { method => $method, path => $path, headers => \%hdr, body => $body };
}

sub stop {
	my ($self) = @_;
	return if $$ != $self->{owner} || !$self->{pid};
	kill 'TERM', $self->{pid};
	waitpid($self->{pid}, 0);
	delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

1;
