package FakeDataCite;
# A stand-in for DataCite's REST API (/dois) on a loopback port, for the
# DOI tests: it keeps DOIs with their state (draft, or findable after
# "event": "publish"), answers POST (422 when the DOI exists), PUT, GET and
# DELETE (drafts only) as DataCite does, checks basic auth, and records
# every request. Its state lives in files of its directory, so the test
# reads and changes it while the server runs in a child process:
#   requests.jsonl  one JSON object per request {method, path, authorization,
#                   content_type, accept, body}
#   dois.json       {doi: {state, attributes}}
#   fail.json       [{method, status, body}]: the next request of that method
#                   gets this answer instead (each entry used once)
#   delay.json      {method: seconds}: the next request of that method is
#                   answered that much later (once); {method: "hold"}: not
#                   before release(method) (once)
#
#   my $f = FakeDataCite->start(user => 'U', password => 'P');
#   $f->url; $f->requests; $f->fail('POST', 500, 'oops'); $f->dois; $f->stop;
#   $f->hold('POST'); ...; $f->wait_request('POST') or die; ...; $f->release('POST');
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use POSIX ();

my $JSON = JSON::PP->new->utf8->canonical;

sub start {
	my ($class, %o) = @_;
	my $dir = tempdir('fake-datacite-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
	    Listen => 16, ReuseAddr => 1) or die "fake DataCite: listen: $!";
	my $self = bless { dir => $dir, port => $listen->sockport, owner => $$, %o }, $class;
	_write("$dir/dois.json", {});
	_write("$dir/fail.json", []);
	_write("$dir/delay.json", {});
	open(my $fh, '>', "$dir/requests.jsonl") or die;
	close $fh;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>>', "$dir/server.log");
		open(STDERR, '>&', \*STDOUT);
		$self->_serve($listen);
		POSIX::_exit(0);
	}
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub url { "http://127.0.0.1:$_[0]{port}" }
sub dir { $_[0]{dir} }

sub requests {
	my ($self) = @_;
	open(my $fh, '<', "$self->{dir}/requests.jsonl") or die;
	return [ map { $JSON->decode($_) } grep { /\S/ } <$fh> ];
}

sub clear_requests {
	open(my $fh, '>', "$_[0]{dir}/requests.jsonl") or die;
	close $fh;
}

sub fail {
	my ($self, $method, $status, $body) = @_;
	my $f = _read("$self->{dir}/fail.json");
	push @$f, { method => $method, status => $status, body => $body // '' };
	_write("$self->{dir}/fail.json", $f);
}

sub delay {
	my ($self, $method, $seconds) = @_;
	my $d = _read("$self->{dir}/delay.json");
	$d->{$method} = $seconds;
	_write("$self->{dir}/delay.json", $d);
}

# The next request of METHOD is recorded at once but answered only after
# release(METHOD): a test acts while it is in flight, whatever the load.
sub hold { $_[0]->delay($_[1], 'hold') }
sub release {
	my ($self, $method) = @_;
	open(my $fh, '>', "$self->{dir}/release.$method") or die;
	close $fh;
}

# Waits (up to TIMEOUT seconds, default 60) until a request of METHOD has
# arrived; returns it, or undef.
sub wait_request {
	my ($self, $method, $timeout) = @_;
	my $until = time + ($timeout // 60);
	while (time < $until) {
		my ($r) = grep { $_->{method} eq $method } @{ $self->requests };
		return $r if $r;
		select(undef, undef, undef, 0.02);
	}
	return undef;
}

sub dois { _read("$_[0]{dir}/dois.json") }

sub stop {
	my ($self) = @_;
	return if $$ != $self->{owner} || !$self->{pid};
	kill 'TERM', $self->{pid};
	waitpid($self->{pid}, 0);
	delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

sub _read {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	return $JSON->decode(do { local $/; <$fh> });
}

sub _write {
	my ($path, $data) = @_;
	open(my $fh, '>', "$path.tmp") or die "$path: $!";
	print $fh $JSON->encode($data);
	close $fh;
	rename "$path.tmp", $path or die "$path: $!";
}

# One request per connection (Connection: close), one at a time.
sub _serve {
	my ($self, $listen) = @_;
	while (my $c = $listen->accept) {
		local $SIG{ALRM} = sub { die "timeout\n" };
		alarm 10;
		eval { $self->_one($c) };
		print "error: $@" if $@;
		alarm 0;
		close $c;
	}
}

sub _one {
	my ($self, $c) = @_;
	my $head = '';
	while ($head !~ /\r\n\r\n/) {
		my $n = sysread($c, my $chunk, 4096) or return;
		$head .= $chunk;
	}
	my ($h, $body) = split /\r\n\r\n/, $head, 2;
	my ($line, @lines) = split /\r\n/, $h;
	my ($method, $path) = split ' ', $line;
	my %hdr = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @lines;
	my $len = $hdr{'content-length'} // 0;
	while (length $body < $len) {
		my $n = sysread($c, my $chunk, $len - length $body) or last;
		$body .= $chunk;
	}
	open(my $log, '>>', "$self->{dir}/requests.jsonl") or die;
	print $log $JSON->encode({ method => $method, path => $path, authorization => $hdr{authorization},
	    content_type => $hdr{'content-type'}, accept => $hdr{accept}, body => $body }), "\n";
	close $log;
	my $delays = _read("$self->{dir}/delay.json");
	if (my $secs = delete $delays->{$method}) {
		_write("$self->{dir}/delay.json", $delays);
		if ($secs eq 'hold') {
			my $release = "$self->{dir}/release.$method";
			alarm 130;
			for (1 .. 6000) {	# 2 minutes at most
				last if unlink $release;
				select(undef, undef, undef, 0.02);
			}
			alarm 10;
		} else {
			select(undef, undef, undef, $secs);
		}
	}
	my ($status, $out) = $self->_answer($method, $path, \%hdr, $body);
	my $text = ref $out ? $JSON->encode($out) : $out // '';
	print $c "HTTP/1.1 $status X\r\nContent-Type: application/vnd.api+json\r\n"
	    . "Content-Length: " . length($text) . "\r\nConnection: close\r\n\r\n$text";
}

sub _answer {
	my ($self, $method, $path, $hdr, $body) = @_;
	my $dir = $self->{dir};
	my $fails = _read("$dir/fail.json");
	for my $i (0 .. $#$fails) {
		next unless $fails->[$i]{method} eq $method;
		my ($f) = splice(@$fails, $i, 1);
		_write("$dir/fail.json", $fails);
		return ($f->{status}, $f->{body});
	}
	my ($u, $p) = split /:/, decode_base64(($hdr->{authorization} // '') =~ /^Basic (\S+)$/ ? $1 : ''), 2;
	return (401, { errors => [ { status => '401', title => 'Bad credentials.' } ] })
	    unless defined $p && $u eq $self->{user} && $p eq $self->{password};
	my $dois = _read("$dir/dois.json");
	my $doc = sub {
		my ($doi) = @_;
		return { data => { id => $doi, type => 'dois', attributes => { doi => $doi, state => $dois->{$doi}{state} } } };
	};
	if ($method eq 'POST' && $path eq '/dois') {
		my $in = eval { $JSON->decode($body) } or return (400, { errors => [ { title => 'Bad JSON' } ] });
		my $doi = $in->{data}{attributes}{doi} // $in->{data}{id};
		return (422, { errors => [ { source => 'doi', title => 'This DOI has already been taken', uid => $doi } ] })
		    if $dois->{$doi};
		$dois->{$doi} = { state => ($in->{data}{attributes}{event} // '') eq 'publish' ? 'findable' : 'draft',
		    attributes => $in->{data}{attributes} };
		_write("$dir/dois.json", $dois);
		return (201, $doc->($doi));
	}
	my ($doi) = $path =~ m{^/dois/(.+)$} or return (404, { errors => [ { status => '404' } ] });
	if ($method eq 'PUT') {
		my $in = eval { $JSON->decode($body) } or return (400, { errors => [ { title => 'Bad JSON' } ] });
		my $was = $dois->{$doi}{state} // 'draft';
		$dois->{$doi} = { state => ($in->{data}{attributes}{event} // '') eq 'publish' ? 'findable' : $was,
		    attributes => $in->{data}{attributes} };
		_write("$dir/dois.json", $dois);
		return (200, $doc->($doi));
	}
	return (404, { errors => [ { status => '404', title => "The resource you are looking for doesn't exist." } ] })
	    unless $dois->{$doi};
	return (200, $doc->($doi)) if $method eq 'GET';
	if ($method eq 'DELETE') {
		return (405, { errors => [ { status => '405', title => 'Method not allowed' } ] })
		    if $dois->{$doi}{state} ne 'draft';
		delete $dois->{$doi};
		_write("$dir/dois.json", $dois);
		return (204, '');
	}
	return (405, '');
}

1;
