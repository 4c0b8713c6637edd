package DandiTest;
# The integration-test harness: each test file gets its own PostgreSQL
# cluster, dandi-api FastCGI pool, nginx (and, with s3 => 1, a Ceph radosgw
# S3 service) on free loopback ports in a temporary directory, and talks to
# them over HTTP as a client would. Everything is stopped by PID at exit;
# the directory is kept (and the server log shown) when a test failed.
#
#   my $t = DandiTest->new(s3 => 0, workers => 2, env => { DANDI_MAX_BODY => 1000 });
#   my $tok = $t->user('alice', first => 'Alice', status => 'APPROVED', admin => 0);
#   my $r = $t->post('/api/dandisets/', { name => 'x', metadata => {} }, token => $tok);
#   $r->{status}, $r->{body}, $r->{json}, $r->{headers}{etag}
#
# web_origin => 1 also serves the web app from a second nginx on another
# loopback port (its /config.js pointing at the API; see
# contrib/dev/nginx-ctl start-web), listed in DANDI_WEB_APP_ORIGINS:
# $t->web_origin is its URL.
use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(rmtree);
use File::Temp qw(tempdir tempfile);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More ();
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/../..');
my $BUILD = $ENV{DANDI_BUILD_DIR} ? abs_path($ENV{DANDI_BUILD_DIR}) : $ROOT;
my $JSON = JSON::PP->new->utf8->allow_nonref->canonical;
my @LIVE;	# harnesses to tear down at exit
my $VALGRIND_BAD = 0;

sub root { $ROOT }
sub build { $BUILD }

# Whether the programs under test are an ASan/UBSan build (make asan): its
# shadow memory makes address-space limits and RSS figures meaningless.
sub sanitized {
	open(my $fh, '<', "$BUILD/config.status") or return 0;
	local $/;
	my $s = <$fh>;
	return $s =~ /--enable-sanitizers/ ? 1 : 0;
}

# A port nothing listens on now. Another process could take it before we
# bind it; the ranges are wide and the window is short.
sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1)
	    or die "free_port: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

sub _run {
	my ($self, @cmd) = @_;
	my $out = $self->_capture(@cmd);
	return $out;
}

# Runs a command with the harness environment; dies with its output on failure.
sub _capture {
	my ($self, @cmd) = @_;
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		%ENV = (%ENV, %{ $self->{env} || {} });
		open(STDERR, '>&', \*STDOUT);
		exec(@cmd) or POSIX::_exit(127);
	}
	my $out = do { local $/; <$fh> } // '';
	close $fh;
	die "command failed ($?): @cmd\n$out" if $?;
	return $out;
}

# Runs a program with the harness environment and returns (stdout, stderr,
# exit status), the status as a shell gives it: 128 + N when signal N
# killed it, so a crash never reads as success.
sub run_cmd {
	my ($self, @cmd) = @_;
	my (undef, $errf) = tempfile(DIR => $self->{dir});
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		%ENV = (%ENV, %{ $self->{env} || {} });
		open(STDERR, '>', $errf);
		exec(@cmd) or POSIX::_exit(127);
	}
	binmode $fh;
	my $out = do { local $/; <$fh> } // '';
	close $fh;
	my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
	my $err = do { local $/; open my $e, '<', $errf or die "$errf: $!"; <$e> } // '';
	unlink $errf;
	return ($out, $err, $rc);
}

sub new {
	my ($class, %o) = @_;
	my $base = $ENV{DANDI_TEST_TMP} || '/tmp';
	my $name = $0;
	$name =~ s{.*/}{};
	$name =~ s/\W+/-/g;
	my $dir = tempdir("dandi-$name-XXXXXX", DIR => $base);
	chmod 0755, $dir;	# the postgres user must reach its cluster
	my $self = bless {
		dir => $dir, owner => $$, workers => $o{workers} // 2, users => {},
		pg_port => free_port(), http_port => free_port(),
	}, $class;
	push @LIVE, $self;
	$self->{socket} = "$dir/run/api.sock";
	mkdir "$dir/run";
	my $url = "http://127.0.0.1:$self->{http_port}";
	$self->{url} = $url;
	$self->{env} = {
		DANDI_DB => "host=$dir/pg port=$self->{pg_port} dbname=dandi user=postgres",
		DANDI_API_URL => $url,
		DANDI_WEB_URL => $url,
		DANDI_LOG_FILE => "$dir/api.log",
		DANDI_LOG_LEVEL => 'info',
		DANDI_SQL_DIR => "$ROOT/sql",
		DANDI_SCHEMA_DIR => "$ROOT/share/schema",
		DANDI_OPENAPI_FILE => "$ROOT/share/openapi/openapi.json",
		PGHOST => "$dir/pg", PGPORT => $self->{pg_port}, PGUSER => 'postgres', PGDATABASE => 'dandi',
		%{ $o{env} || {} },
	};
	if ($o{web_origin}) {
		$self->{web_origin_port} = free_port();
		$self->{web_origin} = "http://127.0.0.1:$self->{web_origin_port}";
		$self->{env}{DANDI_WEB_APP_ORIGINS} = join ' ', grep { defined && length }
		    $self->{env}{DANDI_WEB_APP_ORIGINS}, $self->{web_origin};
	}
	$self->start_pg;
	$self->admin_cmd('migrate');
	if ($o{s3}) {
		my ($rgw, $mon, $osd) = (free_port(), free_port(), free_port());
		my $creds = $self->_capture("$ROOT/contrib/dev/s3-ctl", 'start', "$dir/s3", '--store', 'memstore',
		    '--rgw-port', $rgw, '--mon-port', $mon, '--osd-ports', "$osd-" . ($osd + 15));
		$self->{s3} = 1;
		open(my $fh, '<', "$dir/s3/credentials") or die "s3 credentials: $!";
		while (<$fh>) {
			next unless /^(S3_\w+)=['"]?(.*?)['"]?$/;
			$self->{s3cred}{$1} = $2;
			$self->{env}{ 'DANDI_' . $1 } = $2;
		}
	}
	$self->start_api;
	my $web = $ENV{DANDI_WEB_ROOT} || (-f "$ROOT/web/dist/index.html" ? "$ROOT/web/dist" : "$dir/web");
	if (!-d $web) {
		mkdir $web;
		open(my $fh, '>', "$web/index.html") or die;
		print $fh "<!doctype html><title>DANDI Archive</title><div id=app></div>\n";
		close $fh;
	}
	$self->_capture("$ROOT/contrib/dev/nginx-ctl", 'start', "$dir/nginx", "127.0.0.1:$self->{http_port}",
	    $self->{socket}, $web);
	$self->{nginx} = 1;
	if ($self->{web_origin}) {
		$self->_capture("$ROOT/contrib/dev/nginx-ctl", 'start-web', "$dir/nginx-web",
		    "127.0.0.1:$self->{web_origin_port}", $web, $url);
		$self->{nginx_web} = 1;
	}
	return $self;
}

sub dir { $_[0]{dir} }
sub api_url { $_[0]{url} }
sub web_url { $_[0]{url} }
sub web_origin { $_[0]{web_origin} }	# undef unless new(web_origin => 1)
sub api_pid { $_[0]{api_pid} }
sub s3 { $_[0]{s3cred} }
sub env { $_[0]{env} }

sub start_api {
	my ($self) = @_;
	unlink $self->{socket};
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		%ENV = (%ENV, %{ $self->{env} });
		open(STDOUT, '>>', "$self->{dir}/api.out");
		open(STDERR, '>&', \*STDOUT);
		my @vg = $ENV{DANDI_VALGRIND} ? ('valgrind', '--quiet', '--trace-children=yes',
		    '--leak-check=full', '--show-leak-kinds=definite,indirect', '--errors-for-leak-kinds=definite,indirect',
		    "--log-file=$self->{dir}/valgrind.%p.log") : ();
		exec(@vg, "$BUILD/src/dandi-api", '-s', $self->{socket}, '-n', $self->{workers},
		    '-p', "$self->{dir}/run/api.pid") or POSIX::_exit(127);
	}
	$self->{api_pid} = $pid;
	for (1 .. ($ENV{DANDI_VALGRIND} ? 2000 : 200)) {
		return if -S $self->{socket};
		die "dandi-api exited: " . $self->_tail('api.out') if waitpid($pid, WNOHANG) == $pid;
		sleep 0.025;
	}
	die "dandi-api did not open its socket";
}

sub stop_api {
	my ($self) = @_;
	my $pid = delete $self->{api_pid} or return;
	kill 'TERM', $pid;
	for (1 .. 400) {
		return if waitpid($pid, WNOHANG) == $pid;
		sleep 0.025;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
}

sub start_pg {
	my ($self) = @_;
	$self->_capture("$ROOT/contrib/dev/pg-ctl", 'start', "$self->{dir}/pg", $self->{pg_port}, '--fast');
	$self->{pg} = 1;
}
sub stop_pg { $_[0]->_capture("$ROOT/contrib/dev/pg-ctl", 'stop', "$_[0]{dir}/pg") }
sub restart_pg { $_[0]->_capture("$ROOT/contrib/dev/pg-ctl", 'restart', "$_[0]{dir}/pg") }

# dandi-admin with the harness's database; returns its output.
sub admin_cmd {
	my ($self, @args) = @_;
	return $self->_capture("$BUILD/src/dandi-admin", @args);
}

# dandi-jobs with the harness's database; returns its output.
sub jobs {
	my ($self, @args) = @_;
	return $self->_capture("$BUILD/src/dandi-jobs", @args);
}

# Creates (or updates) a user and returns its API token.
sub user {
	my ($self, $name, %o) = @_;
	my @args = ('create-user', '--username', $name, '--email', $o{email} // "$name\@example.org",
	    '--first', $o{first} // '', '--last', $o{last} // '',
	    '--status', $o{status} // 'APPROVED');
	push @args, '--admin' if $o{admin};
	$self->admin_cmd(@args);
	my ($tok) = $self->admin_cmd('create-token', '--username', $name) =~ /^([0-9a-f]{40})$/m
	    or die "no token for $name";
	return $self->{users}{$name} = $tok;
}

sub admin_token {
	my ($self) = @_;
	return $self->{users}{admin} //= $self->user('admin', admin => 1, first => 'Ad', last => 'Min');
}

# Runs SQL as the database owner; returns the rows as array refs of strings
# (NULL as undef in no case: psql prints it as the empty string).
sub psql {
	my ($self, $sql) = @_;
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		%ENV = (%ENV, %{ $self->{env} });
		open(STDERR, '>&', \*STDOUT);
		exec('psql', '-X', '-q', '-A', '-t', '-F', "\t", '-v', 'ON_ERROR_STOP=1', '-c', $sql)
		    or POSIX::_exit(127);
	}
	my @rows = map { chomp; [ split /\t/, $_, -1 ] } <$fh>;
	close $fh;
	croak "psql failed: $sql\n" . join("\n", map { join "\t", @$_ } @rows) if $?;
	return @rows;
}

sub _agent {
	my ($self) = @_;
	# A forked child must not share its parent's keep-alive connection.
	return $self->{agent}{$$} //= HTTP::Tiny->new(timeout => 60, keep_alive => 1, max_redirect => 0, agent => 'dandi-test/1');
}

# request(METHOD, PATH, json => DATA | body => BYTES, token => T, headers => {})
sub request {
	my ($self, $method, $path, %o) = @_;
	my %h = %{ $o{headers} || {} };
	$h{Authorization} = "token $o{token}" if defined $o{token};
	my %args = (headers => \%h);
	if (exists $o{json}) {
		$args{content} = $JSON->encode($o{json});
		$h{'Content-Type'} //= 'application/json';
	} elsif (defined $o{body}) {
		$args{content} = $o{body};
	}
	my $url = $path =~ m{^https?://} ? $path : $self->{url} . $path;
	my $res = $self->_agent->request($method, $url, \%args);
	my $r = { status => $res->{status}, body => $res->{content}, headers => $res->{headers} || {} };
	$r->{body} = '' unless defined $r->{body};
	if ($res->{status} == 599) {
		$r->{error} = $res->{content};
		Test::More::diag("HTTP error: $method $path: $res->{content}");
	}
	if (length $r->{body} && ($r->{headers}{'content-type'} // '') =~ m{json}) {
		$r->{json} = eval { $JSON->decode($r->{body}) };
	}
	return $r;
}

sub get { my ($s, $p, %o) = @_; $s->request('GET', $p, %o) }
sub delete { my ($s, $p, %o) = @_; $s->request('DELETE', $p, %o) }
sub post { my ($s, $p, $d, %o) = @_; $s->request('POST', $p, (defined $d ? (json => $d) : ()), %o) }
sub put { my ($s, $p, $d, %o) = @_; $s->request('PUT', $p, (defined $d ? (json => $d) : ()), %o) }

sub _tail {
	my ($self, $file, $n) = @_;
	open(my $fh, '<', "$self->{dir}/$file") or return "(no $file)";
	my @l = <$fh>;
	splice(@l, 0, @l - ($n // 30)) if @l > ($n // 30);
	return join '', @l;
}

sub teardown {
	my ($self) = @_;
	return if $self->{down}++ || $$ != $self->{owner};
	$self->stop_api;
	eval { $self->_capture("$ROOT/contrib/dev/nginx-ctl", 'stop', "$self->{dir}/nginx") } if $self->{nginx};
	eval { $self->_capture("$ROOT/contrib/dev/nginx-ctl", 'stop', "$self->{dir}/nginx-web") } if $self->{nginx_web};
	eval { $self->stop_pg } if $self->{pg};
	eval { $self->_capture("$ROOT/contrib/dev/s3-ctl", 'stop', "$self->{dir}/s3") } if $self->{s3};
	$self->_valgrind_verdict if $ENV{DANDI_VALGRIND};
	my $ok = Test::More->builder->is_passing;
	if (!$ok || $ENV{DANDI_KEEP_TMP}) {
		Test::More::diag("kept $self->{dir}; last lines of api.log:\n" . $self->_tail('api.log', 15)) unless $ok;
	} else {
		rmtree($self->{dir});
	}
}

# With DANDI_VALGRIND=1 the API runs under valgrind; any error or leak it
# reports in a worker or the supervisor fails the test file.
sub _valgrind_verdict {
	my ($self) = @_;
	my @bad;
	for my $log (glob "$self->{dir}/valgrind.*.log") {
		open(my $fh, '<', $log) or next;
		my $text = do { local $/; <$fh> };
		push @bad, "$log:\n$text" if $text =~ /\S/;
	}
	# Too late for a test (done_testing has run): fail the file's exit code.
	if (@bad) {
		Test::More::diag("valgrind found errors or leaks in dandi-api:\n" . join "\n", @bad);
		$VALGRIND_BAD = 1;
	}
}

sub DESTROY { $_[0]->teardown }
END {
	my $rc = $?;
	$_->teardown for @LIVE;
	@LIVE = ();
	$? = $rc || ($VALGRIND_BAD ? 1 : 0);
}

1;
