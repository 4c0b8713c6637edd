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
use parent 'FakeHTTP';
use File::Temp qw(tempdir);
use JSON::PP;
use MIME::Base64 qw(decode_base64);

my $JSON = JSON::PP->new->utf8->canonical;

sub start {
	my ($class, %o) = @_;
	my $dir = tempdir('fake-datacite-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $self = bless { dir => $dir, owner => $$, %o }, $class;
	_write("$dir/dois.json", {});
	_write("$dir/fail.json", []);
	_write("$dir/delay.json", {});
	$self->clear_requests;
	return $self->serve('fake DataCite', 10);
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

# Records the request, waits when told to, then answers it (_dois).
sub _answer {
	my ($self, $req) = @_;
	my ($method, $hdr) = ($req->{method}, $req->{headers});
	open(my $log, '>>', "$self->{dir}/requests.jsonl") or die;
	print $log $JSON->encode({ method => $method, path => $req->{path}, authorization => $hdr->{authorization},
	    content_type => $hdr->{'content-type'}, accept => $hdr->{accept}, body => $req->{body} }), "\n";
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
	my ($status, $out) = $self->_dois($method, $req->{path}, $hdr, $req->{body});
	return ($status, 'application/vnd.api+json', ref $out ? $JSON->encode($out) : $out);
}

sub _dois {
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
