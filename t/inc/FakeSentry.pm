package FakeSentry;
# A stand-in for a Sentry (or GlitchTip) project on a loopback port: it
# takes envelopes at POST /api/<project>/envelope/, answers 200 with the
# event id as Sentry does, and records each request, its envelope split
# into the header and the items (each item's header and parsed payload).
# Its state lives in files of its directory, since it serves from a child:
#   requests.jsonl  {method, path, auth, content_type, body, envelope}
#   delay           seconds to wait before answering each request (absent: 0)
#   status          the status to answer (absent: 200)
#
#   my $s = FakeSentry->start;  $s->dsn('KEY', 3);  $s->requests;  $s->events;
#   $s->delay(5);  $s->status(429);  $s->clear;  $s->stop;
use strict;
use warnings;
use parent 'FakeHTTP';
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes ();

my $JSON = JSON::PP->new->utf8->canonical;

sub start {
	my ($class) = @_;
	my $self = bless { dir => tempdir('fake-sentry-XXXXXX', TMPDIR => 1, CLEANUP => 1), owner => $$ }, $class;
	$self->clear;
	return $self->serve('fake Sentry', 30);
}

sub dsn { my ($self, $key, $project) = @_; "http://$key\@127.0.0.1:$self->{port}/$project" }

sub clear {
	my ($self) = @_;
	open(my $fh, '>', "$self->{dir}/requests.jsonl") or die;
	close $fh;
}

sub _set {
	my ($self, $name, $value) = @_;
	my $f = "$self->{dir}/$name";
	if (!defined $value) {
		unlink $f;
		return;
	}
	open(my $fh, '>', "$f.tmp") or die;
	print $fh $value;
	close $fh;
	rename "$f.tmp", $f or die;
}
sub delay { $_[0]->_set('delay', $_[1]) }
sub status { $_[0]->_set('status', $_[1]) }

sub _get {
	my ($self, $name) = @_;
	open(my $fh, '<', "$self->{dir}/$name") or return undef;
	my $v = <$fh>;
	return $v;
}

sub requests {
	my ($self) = @_;
	open(my $fh, '<', "$self->{dir}/requests.jsonl") or die;
	return [ map { $JSON->decode($_) } grep { /\S/ } <$fh> ];
}

# The events of the envelopes received, in order.
sub events {
	my ($self) = @_;
	return [ map { map { $_->{payload} } grep { ($_->{header}{type} // '') eq 'event' } @{ $_->{envelope}{items} || [] } }
	    @{ $self->requests } ];
}

# Waits until N events have come (up to TIMEOUT seconds, default 20).
sub wait_events {
	my ($self, $n, $timeout) = @_;
	my $until = time + ($timeout // 20);
	while (time < $until) {
		my $e = $self->events;
		return $e if @$e >= $n;
		Time::HiRes::sleep(0.05);
	}
	return $self->events;
}

# An envelope: a header line, then per item a header line and its payload
# (length bytes when the header gives a length, else up to the newline).
sub _envelope {
	my ($body) = @_;
	my ($head, $rest) = split /\n/, $body, 2;
	my $env = { header => eval { $JSON->decode($head) }, items => [] };
	while (defined $rest && length $rest) {
		my $ih;
		($ih, $rest) = split /\n/, $rest, 2;
		last unless defined $ih && length $ih;
		my $h = eval { $JSON->decode($ih) } // last;
		my $payload;
		if (defined $h->{length}) {
			$payload = substr($rest, 0, $h->{length}, '');
			$rest =~ s/^\n//;
		} else {
			($payload, $rest) = split /\n/, $rest, 2;
		}
		push @{ $env->{items} }, { header => $h, raw => $payload, payload => eval { $JSON->decode($payload) } };
	}
	return $env;
}

sub _answer {
	my ($self, $req) = @_;
	my $env = _envelope($req->{body});
	open(my $log, '>>', "$self->{dir}/requests.jsonl") or die;
	print $log $JSON->encode({ method => $req->{method}, path => $req->{path}, auth => $req->{headers}{'x-sentry-auth'},
	    content_type => $req->{headers}{'content-type'}, body => $req->{body}, envelope => $env }), "\n";
	close $log;
	if (my $d = $self->_get('delay')) {
		Time::HiRes::sleep($d);
	}
	return ($self->_get('status') // 200, 'application/json',
	    $JSON->encode({ id => ($env->{header} && $env->{header}{event_id}) // '' }));
}

1;
