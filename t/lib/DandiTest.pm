package DandiTest;
# The integration-test harness: each test file gets its own database, S3
# bucket, dandi-api FastCGI pool and nginx on free loopback ports, in a
# temporary directory, and talks to them over HTTP as a client would.
#
# Under contrib/dev/run-tests the files of one run share one PostgreSQL
# cluster (each file a database copied from the migrated template database
# "dandi") and, for files with s3 => 1, one Ceph radosgw (each file a bucket
# of its own). run-tests announces them in the environment:
#   DANDI_TEST_PG=DIR  a running pg-ctl cluster in DIR whose database "dandi"
#                      is migrated and idle (the template)
#   DANDI_TEST_S3=DIR  the s3-ctl directory of the shared S3 service; the
#                      first file that needs it starts it (under a lock)
#                      unless run-tests already has; run-tests stops it.
# Without them (a file run by hand: perl t/NN-foo.t), or with own_pg => 1
# (files that stop or restart PostgreSQL), a file starts its own cluster, and
# with s3 => 1 its own radosgw, as before; own_s3 => 1 keeps a file that
# floods S3 for minutes off the shared one (radosgw serves its requests
# first come, first served: the others would wait behind them). Everything a file started is
# stopped by PID at exit; the directory is kept (and the server log shown)
# when a test failed.
#
#   my $t = DandiTest->new(s3 => 0, workers => 2, env => { DANDI_MAX_BODY => 1000 });
#   my $tok = $t->user('alice', first => 'Alice', status => 'APPROVED', admin => 0);
#   my $r = $t->post('/api/dandisets/', { name => 'x', metadata => {} }, token => $tok);
#   $r->{status}, $r->{body}, $r->{json}, $r->{headers}{etag}
#   my @rows = $t->psql('SELECT ...');   # in-process, one connection per process
#
# limits => 1 keeps nginx's default request limits per client address
# (otherwise they are out of reach); env => { DANDI_NGINX_USER => 'www-data' }
# runs nginx's workers as that user.
#
# web_origin => 1 also serves the web app from a second nginx on another
# loopback port (its /config.js pointing at the API; see
# contrib/dev/nginx-ctl start-web), listed in DANDI_WEB_APP_ORIGINS:
# $t->web_origin is its URL.
use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use DBI;
use Digest::SHA qw(sha256_hex);
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Path qw(rmtree);
use File::Temp qw(tempdir tempfile);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use POSIX qw(:sys_wait_h);
use Test::More ();
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/../..');
my $BUILD = $ENV{DANDI_BUILD_DIR} ? abs_path($ENV{DANDI_BUILD_DIR}) : $ROOT;
my $JSON = JSON::PP->new->utf8->allow_nonref->canonical;
my @LIVE;	# harnesses to tear down at exit
my $VALGRIND_BAD = 0;

# A test file stopped by a signal still stops what it started (the END
# block below); its forked children die as they did.
my $MAIN_PID = $$;
for my $sig (qw(TERM INT HUP)) {
	$SIG{$sig} = sub {
		exit(128 + POSIX->can("SIG$sig")->()) if $$ == $MAIN_PID;
		$SIG{$sig} = 'DEFAULT';
		kill $sig, $$;
	};
}

# HTTP::Tiny writes a request's head and body in two writes and leaves
# Nagle's algorithm on: on a kept-alive connection the body then waits for
# the server's delayed ACK of the head, ~40 ms for every request with a
# body (to nginx, to radosgw). The clients we stand in for (the dandi
# client's requests/urllib3, libcurl, browsers) set TCP_NODELAY; so do we,
# for every HTTP::Tiny of a test process.
{
	no warnings 'redefine';
	my $connect = \&HTTP::Tiny::Handle::connect;
	*HTTP::Tiny::Handle::connect = sub {
		my $handle = $connect->(@_);
		setsockopt($handle->{fh}, IPPROTO_TCP, TCP_NODELAY, 1) or die "TCP_NODELAY: $!";
		return $handle;
	};
}

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

# An S3 object's tags as t/unit/s3-tool prints them ("k=v&k2=v2"; '' for
# none or when the call fails), read with this test's credentials.
sub s3_tags {
	my ($self, $key) = @_;
	my ($out) = $self->run_cmd(build() . '/t/unit/s3-tool', 'tags', $key);
	return $out =~ s/\s+\z//r;
}

# The shared S3 service of a suite run (DANDI_TEST_S3): started by whoever
# comes first, under a lock, and left running for the next file; run-tests
# stops it by PID at the end. Returns nothing; dies when it cannot start.
sub shared_s3 {
	my ($dir) = @_;
	open(my $lock, '>>', "$dir.lock") or die "$dir.lock: $!";
	flock($lock, LOCK_EX) or die "flock $dir.lock: $!";
	return if _s3_answers($dir);
	my ($rgw, $mon, $osd) = (free_port(), free_port(), free_port());
	# memstore keeps every object in the osd's memory: room for a whole run.
	my $out = `"$ROOT/contrib/dev/s3-ctl" start "$dir" --store memstore --memstore-bytes 8G --rgw-port $rgw --mon-port $mon --osd-ports $osd-@{[ $osd + 15 ]} 2>&1`;
	die "shared S3 did not start:\n$out" if $? || !_s3_answers($dir);
	close $lock;
}

# Whether the S3 service of an s3-ctl directory is up: it wrote its
# credentials (at the end of a successful start) and radosgw accepts.
sub _s3_answers {
	my ($dir) = @_;
	return 0 unless -f "$dir/credentials" && open(my $fh, '<', "$dir/s3-ctl.state");
	my ($port) = map { /^RGW_PORT=(\d+)/ ? $1 : () } <$fh>;
	return $port && IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5) ? 1 : 0;
}

sub _read_s3_credentials {
	my ($self, $file) = @_;
	open(my $fh, '<', $file) or die "$file: $!";
	while (<$fh>) {
		next unless /^(S3_\w+)=['"]?(.*?)['"]?$/;
		$self->{s3cred}{$1} = $2;
		$self->{env}{ 'DANDI_' . $1 } = $2;
	}
}

sub new {
	my ($class, %o) = @_;
	my $base = $ENV{DANDI_TEST_TMP} || '/tmp';
	my $name = $0;
	$name =~ s{.*/}{};
	$name =~ s/\W+/-/g;
	# A second archive in the same test file: new(tag => 'b') names its
	# database and bucket apart from the first one's.
	$name .= "-$o{tag}" if defined $o{tag};
	my $dir = tempdir("dandi-$name-XXXXXX", DIR => $base);
	chmod 0755, $dir;	# the postgres user must reach its cluster
	my $self = bless {
		dir => $dir, owner => $$, workers => $o{workers} // 2, users => {}, http_port => free_port(),
	}, $class;
	push @LIVE, $self;
	# The run's PostgreSQL cluster and a database of our own, or (by hand,
	# or to stop and start it) a cluster of our own.
	if ($ENV{DANDI_TEST_PG} && !$o{own_pg}) {
		$self->{pg_dir} = abs_path($ENV{DANDI_TEST_PG});
		open(my $fh, '<', "$self->{pg_dir}/port") or die "DANDI_TEST_PG: no $self->{pg_dir}/port: $!";
		chomp($self->{pg_port} = <$fh>);
		(my $db = lc "t_${name}_$$") =~ s/[^a-z0-9]+/_/g;
		$self->{db} = $db;
	} else {
		@$self{qw(pg_dir pg_port db own_pg)} = ("$dir/pg", free_port(), 'dandi', 1);
	}
	$self->{socket} = "$dir/run/api.sock";
	mkdir "$dir/run";
	my $url = "http://127.0.0.1:$self->{http_port}";
	$self->{url} = $url;
	$self->{env} = {
		DANDI_DB => "host=$self->{pg_dir} port=$self->{pg_port} dbname=$self->{db} user=postgres",
		DANDI_API_URL => $url,
		DANDI_WEB_URL => $url,
		DANDI_LOG_FILE => "$dir/api.log",
		DANDI_LOG_LEVEL => 'info',
		# Every test's asset lists go through the page cache (a hit is
		# nginx sending a file): the tests guard its answers too.
		DANDI_PAGE_CACHE_DIR => "$dir/page-cache",
		DANDI_SQL_DIR => "$ROOT/sql",
		DANDI_SCHEMA_DIR => "$ROOT/share/schema",
		DANDI_OPENAPI_FILE => "$ROOT/share/openapi/openapi.json",
		PGHOST => $self->{pg_dir}, PGPORT => $self->{pg_port}, PGUSER => 'postgres', PGDATABASE => $self->{db},
		# nginx's request limits per client address (contrib/dev/nginx-ctl):
		# tests call faster than any client, all from 127.0.0.1, so they run
		# with limits none reaches; new(limits => 1) keeps the defaults.
		($o{limits} ? () : (DANDI_LIMIT_RATE => '100000r/s', DANDI_LIMIT_BURST => 100000,
		    DANDI_LIMIT_CONN => 10000)),
		%{ $o{env} || {} },
	};
	if ($o{web_origin}) {
		$self->{web_origin_port} = free_port();
		$self->{web_origin} = "http://127.0.0.1:$self->{web_origin_port}";
		$self->{env}{DANDI_WEB_APP_ORIGINS} = join ' ', grep { defined && length }
		    $self->{env}{DANDI_WEB_APP_ORIGINS}, $self->{web_origin};
	}
	if ($self->{own_pg}) {
		$self->start_pg;
		$self->admin_cmd('migrate');
	} else {
		# A copy of the migrated template: a file copy on the server, no migrations.
		my $admin = $self->_db_connect('postgres');
		$admin->do(qq{CREATE DATABASE "$self->{db}" TEMPLATE dandi});
		$admin->disconnect;
	}
	if ($o{s3} && $ENV{DANDI_TEST_S3} && !$o{own_s3}) {
		# The run's S3 service, a bucket of our own (with the CORS rule and
		# the policy s3-ctl gives its bucket).
		my $s3 = abs_path($ENV{DANDI_TEST_S3});
		shared_s3($s3);
		(my $bucket = lc "t-$name-$$") =~ s/[^a-z0-9]+/-/g;
		$self->_capture("$ROOT/contrib/dev/s3-ctl", 'bucket', $s3, $bucket);
		$self->_read_s3_credentials("$s3/credentials");
		$self->{s3cred}{S3_BUCKET} = $self->{env}{DANDI_S3_BUCKET} = $bucket;
	} elsif ($o{s3}) {
		my ($rgw, $mon, $osd) = (free_port(), free_port(), free_port());
		$self->{own_s3} = 1;
		# s3_store: memstore (the default: in the osd's memory, about
		# 34 KB of it a small object of a versioned bucket) or bluestore
		# (a sparse file, S3_CTL_BLUESTORE_BYTES; for more objects than
		# the memory holds); memstore_bytes: memstore's room.
		$self->_capture("$ROOT/contrib/dev/s3-ctl", 'start', "$dir/s3", '--store', $o{s3_store} // 'memstore',
		    ($o{memstore_bytes} ? ('--memstore-bytes', $o{memstore_bytes}) : ()),
		    '--rgw-port', $rgw, '--mon-port', $mon, '--osd-ports', "$osd-" . ($osd + 15));
		$self->_read_s3_credentials("$dir/s3/credentials");
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

# Our own cluster (new(own_pg => 1), or any file run outside run-tests)
# can be stopped and started; the run's shared one cannot.
sub start_pg {
	my ($self) = @_;
	croak 'start_pg needs DandiTest->new(own_pg => 1)' unless $self->{own_pg};
	delete $self->{dbh};
	$self->_capture("$ROOT/contrib/dev/pg-ctl", 'start', $self->{pg_dir}, $self->{pg_port}, '--fast');
	$self->{pg} = 1;
}
sub stop_pg {
	my ($self) = @_;
	croak 'stop_pg needs DandiTest->new(own_pg => 1)' unless $self->{own_pg};
	delete $self->{dbh};
	$self->_capture("$ROOT/contrib/dev/pg-ctl", 'stop', $self->{pg_dir});
}
sub restart_pg {
	my ($self) = @_;
	croak 'restart_pg needs DandiTest->new(own_pg => 1)' unless $self->{own_pg};
	delete $self->{dbh};
	$self->_capture("$ROOT/contrib/dev/pg-ctl", 'restart', $self->{pg_dir});
}

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

# A new connection to the file's database (or another of its cluster) as
# the database owner, in this process: a session of the test's own, e.g. to
# hold a lock while the API works. Values come back as psql shows them:
# bytes, booleans t/f, arrays as text.
sub db_connect { $_[0]->_db_connect($_[0]{db}) }
sub _db_connect {
	my ($self, $db) = @_;
	my $dbh = DBI->connect("dbi:Pg:host=$self->{pg_dir};port=$self->{pg_port};dbname=$db;"
	    . "options='-c client_min_messages=warning'", 'postgres', '', {
		RaiseError => 1, PrintError => 0, PrintWarn => 0, AutoCommit => 1,
		# A forked child's copy must not close its parent's connection.
		AutoInactiveDestroy => 1,
		pg_enable_utf8 => 0, pg_bool_tf => 1, pg_expand_array => 0, pg_server_prepare => 0,
	}) or die "connect to $db: $DBI::errstr";
	return $dbh;
}

# The connection psql() and user() use: one per process (a forked child
# gets its own).
sub dbh {
	my ($self) = @_;
	return $self->{dbh}{$$} //= $self->db_connect;
}

# Creates (or updates) a user and returns its API token (the user's
# existing one, else a new one), as dandi-admin create-user and
# create-token do (t/62-users.t runs those): by SQL, in this process.
sub user {
	my ($self, $name, %o) = @_;
	open(my $rnd, '<:raw', '/dev/urandom') or die "/dev/urandom: $!";
	read($rnd, my $raw, 20) == 20 or die "/dev/urandom: short read";
	my $key = unpack('H*', $raw);
	my @v = ($name, $o{email} // "$name\@example.org", $o{first} // '', $o{last} // '', $o{admin} ? 't' : 'f',
	    $o{status} // 'APPROVED', $key, sha256_hex($key));
	utf8::is_utf8($_) && utf8::encode($_) for @v;	# names as UTF-8 bytes, as on a command line
	my ($tok) = $self->dbh->selectrow_array(<<'SQL', {}, @v);
WITH u AS (
  INSERT INTO users (username, email, first_name, last_name, is_superuser, is_staff, status)
  VALUES ($1, $2, $3, $4, $5::bool, $5::bool, $6)
  ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email,
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
    is_superuser = EXCLUDED.is_superuser, is_staff = EXCLUDED.is_staff,
    status = EXCLUDED.status, modified = now()
  RETURNING id),
old AS (SELECT t.key FROM api_tokens t JOIN u ON t.user_id = u.id),
new AS (INSERT INTO api_tokens (key, key_sha256, user_id)
  SELECT $7, $8, u.id FROM u WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING key)
SELECT key FROM old UNION ALL SELECT key FROM new
SQL
	die "no token for $name" unless $tok;
	return $self->{users}{$name} = $tok;
}

sub admin_token {
	my ($self) = @_;
	return $self->{users}{admin} //= $self->user('admin', admin => 1, first => 'Ad', last => 'Min');
}

# Runs SQL as the database owner, as `psql -c` would in a session of its
# own (several statements in one string run as one transaction; the last
# one's rows are returned), and returns the rows as array refs of strings
# split as psql -A -t prints them: NULL as the empty string, a row of one
# empty value as [], a value with a newline as two rows.
sub psql {
	my ($self, $sql) = @_;
	# As exec would pass it to psql: a character string as UTF-8.
	utf8::encode($sql) if utf8::is_utf8($sql);
	my $dbh = $self->dbh;
	my $rows = eval {
		my $sth = $dbh->prepare($sql, { pg_direct => 1 });
		$sth->execute;
		$sth->{NUM_OF_FIELDS} ? $sth->fetchall_arrayref : [];
	};
	my $err = $@;
	# Nothing of this session's state outlives the call: an open
	# transaction, settings, session locks, temporary tables.
	eval { $dbh->do('DISCARD ALL'); 1 }
	    or eval { $dbh->do('ROLLBACK'); $dbh->do('DISCARD ALL'); 1 }	# it left a transaction open
	    or delete $self->{dbh}{$$};	# the connection is gone (a restart): a new one next time
	croak "psql failed: $sql\n$err" if $err;
	my @lines = map { my $l = join "\t", map { $_ // '' } @$_; length $l ? split(/\n/, $l, -1) : ('') } @$rows;
	return map { [ split /\t/, $_, -1 ] } @lines;
}

sub _agent {
	my ($self, $from) = @_;
	# A forked child must not share its parent's keep-alive connection.
	return $self->{agent}{ $$ . ' ' . ($from // '') } //= HTTP::Tiny->new(timeout => 60, keep_alive => 1,
	    max_redirect => 0, agent => 'dandi-test/1', (defined $from ? (local_address => $from) : ()));
}

# request(METHOD, PATH, json => DATA | body => BYTES, token => T, headers => {},
#     from => '127.0.0.2': connect from that loopback address, the client
#     address nginx then passes as REMOTE_ADDR)
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
	my $res = $self->_agent($o{from})->request($method, $url, \%args);
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

sub _pidfile {
	open(my $fh, '<', $_[0]) or return undef;
	my $line = <$fh> // '';
	return $line =~ /^(\d+)/ ? $1 : undef;
}

# Whether a process runs (a zombie does not: daemons are reaped by PID 1,
# which in some containers takes its time).
sub _alive {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh> // '';
	return $stat =~ /^\d+ \(.*\) (\S)/s && $1 ne 'Z' ? 1 : 0;
}

# The processes whose parent is pid (a pool's workers: children_of
# ($t->api_pid)), from /proc/*/stat: no program run.
sub children_of {
	my ($pid) = @_;
	my @kids;
	for my $stat (glob '/proc/[0-9]*/stat') {
		open(my $fh, '<', $stat) or next;
		my $line = <$fh> // next;
		push @kids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) /s && $2 == $pid;
	}
	return sort { $a <=> $b } @kids;
}

# What the test forked and left running (a fake server, when the test
# died before stopping it) would outlive it and keep the test's output
# open, so the harness running it would wait forever: TERM, then KILL.
sub _stop_children {
	my @kids = children_of($$);
	# Our own short-lived commands (open '-|', system) have been waited for.
	@kids = grep { kill 'TERM', $_ } @kids or return;
	for (1 .. 250) {
		@kids = grep { waitpid($_, WNOHANG) == 0 } @kids or return;
		sleep 0.02;
	}
	kill 'KILL', @kids;
	waitpid($_, 0) for @kids;
}

# Everything this file started is told to stop at once, by PID, and then
# waited for (SIGKILL after 30 s): they stop side by side.
sub teardown {
	my ($self) = @_;
	return if $self->{down}++ || $$ != $self->{owner};
	$_->disconnect for values %{ delete $self->{dbh} || {} };
	kill 'TERM', $self->{api_pid} if $self->{api_pid};
	my @daemons;
	for my $d (grep { $self->{$_} } qw(nginx nginx_web)) {
		(my $sub = $d) =~ tr/_/-/;
		my $pid = _pidfile("$self->{dir}/$sub/nginx.pid");
		push @daemons, $pid if $pid && kill 'TERM', $pid;	# nginx's fast shutdown
	}
	if ($self->{pg}) {
		my $pid = _pidfile("$self->{pg_dir}/data/postmaster.pid");
		push @daemons, $pid if $pid && kill 'INT', $pid;	# PostgreSQL's fast shutdown
	}
	eval { $self->_capture("$ROOT/contrib/dev/s3-ctl", 'stop', "$self->{dir}/s3") } if $self->{own_s3};
	$self->stop_api;
	$self->_stop_children;
	my $until = time + 30;
	sleep 0.02 while time < $until && grep { _alive($_) } @daemons;
	kill 'KILL', grep { _alive($_) } @daemons;
	$self->_valgrind_verdict if $ENV{DANDI_VALGRIND};
	my $ok = Test::More->builder->is_passing;
	if (!$ok || $ENV{DANDI_KEEP_TMP}) {
		Test::More::diag("kept $self->{dir}; last lines of api.log:\n" . $self->_tail('api.log', 15)) unless $ok;
		Test::More::diag("its database: $self->{db} in the cluster at $self->{pg_dir}") unless $ok || $self->{own_pg};
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
