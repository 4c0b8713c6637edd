# The Debian package, installed as an administrator would on a fresh Debian
# 12: dpkg-buildpackage builds it from a copy of the tree (lintian: no
# errors, no warnings), debootstrap makes a Debian 12 root, apt installs the
# package there beside Debian's own PostgreSQL and nginx, the root boots its
# own systemd in systemd-nspawn and the units start there as they would on
# a VM, sandbox and all (where nspawn cannot boot, or DANDI_DEB_CHROOT=1:
# each unit's User, Group, SupplementaryGroups, RuntimeDirectory, UMask,
# Environment, ExecStartPre and ExecStart run with chroot instead, and the
# sandbox is only scored offline). Then a client's journey through the
# packaged nginx site: a dandiset, a blob uploaded through the presigned
# flow, validation by the timers' dandi-jobs@run, publish, download; every
# timer's unit once; purge. S3 is the harness's radosgw on the host (Ceph
# in the root would take minutes more); the root shares the host's network
# (PostgreSQL there listens on its unix socket only, nginx on a free port).
#
# Root only; skipped when debootstrap has no cached root and cannot reach
# the mirror of the machine's apt sources. The Debian root is cached in
# DANDI_DEB_CACHE (default /var/cache/dandi-archive-c-test): debootstrap's
# tarball of the packages, and the installed root itself (zstd), so a
# second run only unpacks it. DANDI_DEB=FILE.deb tests that package instead
# of building one (to work on this test).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use DandiTest;
use Upload qw(upload);

plan skip_all => 'needs root (debootstrap, chroot, mounts)' if $> != 0;
for my $tool (qw(dpkg-buildpackage dh lintian debootstrap zstd chroot)) {
	plan skip_all => "$tool is not installed (contrib/dev/install-deps)"
	    unless grep { -x "$_/$tool" } split /:/, "$ENV{PATH}:/usr/sbin:/sbin";
}

my $ROOT = DandiTest::root();
my $SUITE = 'bookworm';
# What the root holds besides minbase: the package's dependencies and the
# services it is installed beside (Depends and Recommends of debian/control).
my @INCLUDE = qw(postgresql-15 nginx-light libfcgi0ldbl libpq5 libjson-c5 libpcre2-8-0 libcurl4
    libssl3 adduser logrotate ca-certificates procps systemd systemd-sysv dbus);
my $CACHE = $ENV{DANDI_DEB_CACHE} || '/var/cache/dandi-archive-c-test';
my $KEY = substr(sha256_hex(join ' ', $SUITE, @INCLUDE), 0, 12);
my %took;	# seconds per phase, printed at the end
sub timed { my ($what, $code) = @_; my $t0 = time; my @r = $code->(); $took{$what} = time - $t0; wantarray ? @r : $r[0] }

# The Debian mirror of the machine's apt sources (deb822 or one-line).
sub mirror {
	for my $f (glob('/etc/apt/sources.list.d/*.sources'), '/etc/apt/sources.list', glob('/etc/apt/sources.list.d/*.list')) {
		open(my $fh, '<', $f) or next;
		local $/;
		my $text = <$fh>;
		for my $para (split /\n\s*\n/, $text) {
			my ($uri) = $para =~ /^URIs:\s*(\S+)/m;
			return $uri if $uri && $para =~ /^Suites:.*\b$SUITE\b/m && $uri !~ /security/;
		}
		my ($uri) = $text =~ m{^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+$SUITE\s}m;
		return $uri if $uri;
	}
	return 'http://deb.debian.org/debian';
}
my $MIRROR = mirror();
my $root_cache = "$CACHE/root-$SUITE-$KEY.tar.zst";
if (!-f $root_cache && !-f "$CACHE/debs-$SUITE-$KEY.tgz") {
	my $res = HTTP::Tiny->new(timeout => 20)->request('HEAD', "$MIRROR/dists/$SUITE/Release");
	plan skip_all => "debootstrap cannot reach the mirror $MIRROR ($res->{status} $res->{reason})"
	    unless $res->{success};
}

my ($tmp, $R);
$tmp = tempdir('dandi-09-XXXXXX', DIR => $ENV{DANDI_TEST_TMP} || '/tmp', CLEANUP => 0);
$R = "$tmp/root";
my @MOUNTS;	# inside $R, unmounted (in reverse) before $R is removed
my @PIDS;	# services started in the root

sub sh {
	my ($cmd) = @_;
	my $out = `$cmd 2>&1`;
	return wantarray ? ($out, $? >> 8) : $out;
}
sub must { my ($cmd) = @_; my ($out, $rc) = sh($cmd); die "failed ($rc): $cmd\n$out" if $rc; $out }

# Everything started in the root stops, the mounts go, and only then is the
# directory removed (never through a bind mount of the host's /dev).
sub teardown {
	return unless defined $tmp && -d $tmp;
	shutdown_box();
	for my $pid (reverse @PIDS) {
		kill 'TERM', $pid;
		for (1 .. 50) { last if waitpid($pid, WNOHANG) != 0; sleep 0.1 }
	}
	@PIDS = ();
	if (-f "$R/run/nginx.pid") {
		chomp(my $p = sh("cat $R/run/nginx.pid"));
		kill 'QUIT', $p if $p =~ /^\d+$/;
	}
	sh("chroot $R pg_ctlcluster 15 main stop -m fast") if -e "$R/run/postgresql/15-main.pid";
	for my $m (reverse @MOUNTS) {
		sh("umount '$m'") for 1 .. 2;
		sh("umount -l '$m'") if grep { (split ' ')[1] eq $m } split /\n/, sh('cat /proc/mounts');
	}
	@MOUNTS = ();
	my @left = grep { index((split ' ')[1], $tmp) == 0 } split /\n/, sh('cat /proc/mounts');
	if (@left) {
		diag("still mounted under $tmp, not removed:\n@left");
	} elsif (Test::More->builder->is_passing && !$ENV{DANDI_KEEP_TMP}) {
		sh("rm -rf --one-file-system '$tmp'");
	} else {
		diag("kept $tmp");
	}
}
END { my $rc = $?; teardown(); $? = $rc }
$SIG{INT} = $SIG{TERM} = sub { teardown(); exit 1 };

# --- build -------------------------------------------------------------------------

my $deb = $ENV{DANDI_DEB};
if (!$deb) {
	my $src = "$tmp/src/dandi-archive-c";
	make_path($src);
	# The tree as git sees it (tracked and new files, nothing ignored),
	# and the web app's node_modules so that npm need not fetch them.
	must("cd '$ROOT' && git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C '$src' -xf -");
	must("cp -a '$ROOT/web/node_modules' '$src/web/'") if -d "$ROOT/web/node_modules";
	my ($out, $rc) = timed(build => sub {
		sh("cd '$src' && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b >'$tmp/build.log' 2>&1; echo \$?")
	});
	chomp $out;
	is($out, 0, 'dpkg-buildpackage -us -uc -b') or diag(sh("tail -40 '$tmp/build.log'"));
	($deb) = glob("$tmp/src/dandi-archive-c_*_*.deb");
	ok($deb && -f $deb, 'the package was built') or BAIL_OUT('no package');
	my ($changes) = glob("$tmp/src/dandi-archive-c_*.changes");
	my $lint = timed(lintian => sub { sh("lintian '$changes'") });
	my @bad = grep { /^[EW]: / } split /\n/, $lint;
	is_deeply(\@bad, [], 'lintian: no errors, no warnings');
}
my $contents = must("dpkg-deb -c '$deb'");
for my $f (qw(usr/bin/dandi-api usr/bin/dandi-jobs usr/bin/dandi-admin usr/share/dandi-archive-c/web/index.html
    usr/share/dandi-archive-c/sql/001_core.sql usr/share/dandi-archive-c/openapi/openapi.json
    etc/nginx/sites-available/dandi etc/dandi/dandi.conf.sample lib/systemd/system/dandi-api.service
    lib/systemd/system/dandi-jobs@.service etc/logrotate.d/dandi-archive-c)) {
	like($contents, qr{ \./\Q$f\E$}m, "the package holds /$f");
}
my @schemas = map { m{/([^/]+)/$} } glob("$ROOT/share/schema/*/");
is(scalar(() = $contents =~ m{ \./usr/share/dandi-archive-c/schema/[^/]+/$}mg), scalar @schemas,
    'every schema version is in the package');

# --- a fresh Debian 12 root ----------------------------------------------------------

timed(root => sub {
	make_path($CACHE, $R);
	if (!-f $root_cache) {
		my $debs = "$CACHE/debs-$SUITE-$KEY.tgz";
		my @args = ('--variant=minbase', '--include=' . join(',', @INCLUDE));
		must("debootstrap @args --make-tarball='$debs.tmp' $SUITE '$tmp/mk' '$MIRROR' && mv '$debs.tmp' '$debs'")
		    unless -f $debs;
		must("debootstrap @args --unpack-tarball='$debs' $SUITE '$R' '$MIRROR'");
		must("chroot '$R' apt-get clean");
		must("tar -C '$R' -cf - . | zstd -q -T0 -o '$root_cache.tmp' && mv '$root_cache.tmp' '$root_cache'");
	} else {
		must("zstd -dc '$root_cache' | tar -C '$R' -xpf -");
	}
});
for ([ 'proc', '-t proc proc' ], [ 'dev', '--bind /dev' ], [ 'dev/pts', '--bind /dev/pts' ]) {
	must("mount $_->[1] '$R/$_->[0]'");
	push @MOUNTS, "$R/$_->[0]";
}
like(sh("cat $R/etc/debian_version"), qr/^12\./, 'the root is Debian 12');

# --- install -------------------------------------------------------------------------

must("cp '$deb' '$R/tmp/dandi.deb'");
my ($out, $rc) = timed(install => sub { sh("chroot '$R' env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/dandi.deb") });
is($rc, 0, 'apt-get install the package') or diag($out);
like($out, qr{wrote /etc/dandi/dandi.conf}, 'the postinst wrote a first configuration');
our $BOX;	# the root's systemd (PID 1 of systemd-nspawn -b), once booted
sub in_root {
	my ($cmd) = @_;
	$cmd = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH; $cmd";
	return sh($BOX ? "nsenter -t $BOX -m -u -i -p -- /bin/sh -c " . quote($cmd) : "chroot '$R' sh -c " . quote($cmd));
}
sub quote { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }
sub stat_of { my ($p) = @_; my $s = in_root("stat -c '%U:%G %a' $p"); chomp $s; $s }

my ($pw) = in_root('getent passwd dandi');
like($pw, qr{^dandi:x:\d+:\d+:[^:]*:/var/lib/dandi:/usr/sbin/nologin$}, 'a dandi system user, no shell');
is(stat_of('/etc/dandi/dandi.conf'), 'root:dandi 640', 'the configuration: root:dandi 0640');
is(stat_of('/var/lib/dandi'), 'dandi:dandi 750', '/var/lib/dandi');
is(stat_of('/var/log/dandi'), 'dandi:dandi 750', '/var/log/dandi');
is(stat_of('/var/spool/dandi/mail'), 'dandi:dandi 750', 'the mail spool');
is(stat_of('/var/cache/dandi/pages'), 'dandi:www-data 2750', 'the page cache: nginx reads it');
my $conffiles = in_root('cat /var/lib/dpkg/info/dandi-archive-c.conffiles');
like($conffiles, qr{^/etc/dandi/dandi.conf.sample$}m, 'the sample configuration is a conffile');
like($conffiles, qr{^/etc/dandi/web-config.js$}m, "and the web app's config.js");
my $conf = in_root('cat /etc/dandi/dandi.conf');
my ($ak) = $conf =~ /^s3_access_key = (\S+)$/m;
my ($sk) = $conf =~ /^s3_secret_key = (\S+)$/m;
ok($ak && length($ak) == 20 && $sk && length($sk) == 40, 'init: fresh S3 credentials');
($out, $rc) = sh("chroot '$R' dandi-admin init");
ok($rc == 1 && $out =~ /exists: not overwritten/, 'init refuses to overwrite') or diag($out);
# The administrator's edit survives a reinstall (the postinst sees a file).
in_root('echo "# edited by the administrator" >>/etc/dandi/dandi.conf');
($out, $rc) = sh("chroot '$R' env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall /tmp/dandi.deb");
is($rc, 0, 'reinstall') or diag($out);
like(in_root('tail -1 /etc/dandi/dandi.conf'), qr/edited by the administrator/, 'a reinstall keeps the configuration');

# --- the services: systemd in the root (systemd-nspawn), else chroot ------------------

# Set up before the services start: PostgreSQL on a unix socket only (no
# port to share with the host: the root shares its network), nginx's site
# enabled as README says, on a free port.
my $port = DandiTest::free_port();
my $url = "http://127.0.0.1:$port";
in_root(q{echo "listen_addresses = ''" >/etc/postgresql/15/main/conf.d/unix-socket-only.conf});
in_root("ln -sf /etc/nginx/sites-available/dandi /etc/nginx/sites-enabled/dandi && rm -f /etc/nginx/sites-enabled/default"
    . " && sed -i 's/^\\(\\s*\\)listen 80;/\\1listen 127.0.0.1:$port;/' /etc/nginx/sites-available/dandi");

# systemd-nspawn -b: the root's own systemd runs the units, sandbox and
# all. Its PID 1 is $BOX; in_root() then enters its namespaces. Where it
# cannot boot (no nspawn, DANDI_DEB_CHROOT=1), the units' lines run by chroot.
my $nspawn_pid;
sub container_init {
	my ($parent) = @_;
	my %pp;
	for my $st (glob '/proc/[0-9]*/status') {
		open(my $fh, '<', $st) or next;
		my ($pid, $ppid, $ns);
		while (<$fh>) {
			$pid = $1 if /^Pid:\s+(\d+)/;
			$ppid = $1 if /^PPid:\s+(\d+)/;
			$ns = (split ' ')[-1] if /^NSpid:/;
		}
		next unless $pid;
		$pp{$pid} = $ppid;
		$pp{"ns$pid"} = $ns;
	}
	for my $pid (grep { /^\d+$/ } keys %pp) {
		next unless ($pp{"ns$pid"} // 0) == 1 && $pid != 1;
		for (my $p = $pp{$pid}; $p && $p > 1; $p = $pp{$p}) { return $pid if $p == $parent }
	}
	return undef;
}
sub boot {
	return undef if $ENV{DANDI_DEB_CHROOT} || !grep { -x "$_/systemd-nspawn" } split /:/, "$ENV{PATH}:/usr/bin";
	for my $m (reverse @MOUNTS) { sh("umount '$m'") }
	@MOUNTS = ();
	$nspawn_pid = fork // die "fork: $!";
	if ($nspawn_pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', "$tmp/boot.log");
		open(STDERR, '>&', \*STDOUT);
		exec('systemd-nspawn', '-b', '-D', $R, '--register=no', '--keep-unit', '-q') or POSIX::_exit(127);
	}
	my $init;
	# Up to 3 minutes: a loaded machine (CI runs four tests at once)
	# boots slowly; here it takes 3-5 s.
	for (1 .. 1800) {
		last if waitpid($nspawn_pid, WNOHANG) != 0;
		$init //= container_init($nspawn_pid);
		if ($init) {
			local $BOX = $init;
			my ($state) = in_root('systemctl is-system-running');
			return $init if $state =~ /^(running|degraded)/;
		}
		sleep 0.1;
	}
	diag("systemd-nspawn did not boot the root:\n" . sh("tail -20 '$tmp/boot.log'"));
	kill 'KILL', $nspawn_pid;
	waitpid($nspawn_pid, 0);
	undef $nspawn_pid;
	for ([ 'proc', '-t proc proc' ], [ 'dev', '--bind /dev' ], [ 'dev/pts', '--bind /dev/pts' ]) {
		must("mount $_->[1] '$R/$_->[0]'");
		push @MOUNTS, "$R/$_->[0]";
	}
	return undef;
}
sub shutdown_box {
	return unless $nspawn_pid;
	sh("nsenter -t $BOX -m -u -i -p -- /bin/systemctl poweroff") if $BOX;
	for (1 .. 300) { last if waitpid($nspawn_pid, WNOHANG) != 0; sleep 0.1 }
	if (kill 0, $nspawn_pid) { kill 'KILL', $nspawn_pid; waitpid($nspawn_pid, 0) }
	undef $nspawn_pid;
	undef $BOX;
}
$BOX = timed(boot => \&boot);
ok(1, $BOX ? 'systemd boots in the root (systemd-nspawn): the units run under systemd'
    : 'no systemd-nspawn boot here: the units\' lines run by chroot');

# A unit's [Service] lines (with its drop-ins), as systemd reads them for
# one instance: key => [values].
sub unit {
	my ($name, $instance) = @_;
	my $file = defined $instance ? "$R/lib/systemd/system/$name\@.service" : "$R/lib/systemd/system/$name.service";
	my $unit_name = defined $instance ? "$name\@$instance.service" : "$name.service";
	my %u;
	for my $f ($file, sort glob("$R/lib/systemd/system/$unit_name.d/*.conf")) {
		open(my $fh, '<', $f) or die "$f: $!";
		my $section = '';
		while (<$fh>) {
			chomp;
			next if /^\s*(#|$)/;
			if (/^\[(\w+)\]/) { $section = $1; next }
			next unless $section eq 'Service' && /^(\w+)=(.*)$/;
			my ($k, $v) = ($1, $2);
			$v =~ s/%i/$instance/g if defined $instance;
			push @{ $u{$k} }, $v;
		}
	}
	return \%u;
}
sub ids { my ($db, $name) = @_; my $l = in_root("getent $db $name"); (split /:/, $l)[2] }
# The command line of an Exec line: words, "quoted" words, $VAR and
# ${VAR} from Environment= (unset: nothing), as systemd splits them.
sub exec_words {
	my ($line, $env) = @_;
	my @w;
	while ($line =~ /\G\s*(?:"([^"]*)"|(\S+))/gc) {
		my ($q, $w) = ($1, $2);
		if (defined $q) { push @w, $q; next }
		if ($w =~ /^\$\{?(\w+)\}?$/) { push @w, split ' ', ($env->{$1} // ''); next }
		push @w, $w;
	}
	return @w;
}
# Starts (background => 1: returns the pid) or runs (returns exit status
# and output) a unit's ExecStartPre and ExecStart as its User and groups.
sub run_unit {
	my ($name, $instance, %o) = @_;
	my $u = unit($name, $instance);
	my $uid = ids('passwd', $u->{User}[0]);
	my $gid = ids('group', $u->{Group}[0]);
	my @supp = map { ids('group', $_) } map { split ' ' } @{ $u->{SupplementaryGroups} || [] };
	my %env = (PATH => '/usr/sbin:/usr/bin:/sbin:/bin', LANG => 'C.UTF-8');
	for (@{ $u->{Environment} || [] }) { $env{$1} = $2 if /^"?(\w+)=(.*?)"?$/ }
	for my $f (@{ $u->{EnvironmentFile} || [] }) {
		(my $p = $f) =~ s/^-//;
		open(my $fh, '<', "$R$p") or next;
		while (<$fh>) { $env{$1} = $2 if /^\s*(\w+)=(.*?)\s*$/ }
	}
	if (my $rd = $u->{RuntimeDirectory}) {
		my $mode = $u->{RuntimeDirectoryMode} ? $u->{RuntimeDirectoryMode}[0] : '0755';
		in_root("install -d -o $uid -g $gid -m $mode /run/$_") for map { split ' ' } @$rd;
	}
	my $umask = $u->{UMask} ? oct $u->{UMask}[0] : 022;
	my $as = "chroot --userspec=$uid:$gid" . (@supp ? ' --groups=' . join(',', @supp) : '') . " '$R'";
	my $envs = join ' ', map { "$_=" . quote($env{$_}) } sort keys %env;
	for my $pre (@{ $u->{ExecStartPre} || [] }) {
		my $cmd = "umask " . sprintf('%04o', $umask) . "; $as env -i $envs " . join(' ', map { quote($_) } exec_words($pre, \%env));
		my ($o, $c) = sh($cmd);
		return ($o, $c) if $c;
	}
	my $cmd = "umask " . sprintf('%04o', $umask) . "; exec $as env -i $envs "
	    . join(' ', map { quote($_) } exec_words($u->{ExecStart}[0], \%env));
	return sh($cmd) unless $o{background};
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>>', "$tmp/$name.out");
		open(STDERR, '>&', \*STDOUT);
		exec('/bin/sh', '-c', $cmd) or POSIX::_exit(127);
	}
	push @PIDS, $pid;
	return $pid;
}
# A unit started (dandi-api) or run to its end (a dandi-jobs@ instance):
# (output, exit status).
sub start_unit {
	my ($unit) = @_;
	if ($BOX) {
		my ($o, $c) = in_root("systemctl start $unit");
		$o .= in_root("journalctl -u $unit -n 30 --no-pager -o cat") if $c || $unit =~ /^dandi-jobs@/;
		return ($o, $c);
	}
	my ($name, $instance) = $unit =~ /^([\w-]+?)(?:@(.+))?\.service$/;
	return run_unit($name, $instance) if defined $instance;
	my $pid = run_unit($name, undef, background => 1);
	for (1 .. 100) { last if -S "$R/run/dandi/api.sock" || waitpid($pid, WNOHANG) != 0; sleep 0.1 }
	return (sh("cat '$tmp/$name.out'"), -S "$R/run/dandi/api.sock" ? 0 : 1);
}
sub jobs { my ($cmd) = @_; my ($o, $c) = start_unit("dandi-jobs\@$cmd.service"); ($c, $o) }

# --- PostgreSQL of the root -------------------------------------------------------------

if ($BOX) {
	my $state = '';
	for (1 .. 100) { ($state) = in_root('systemctl is-active postgresql@15-main'); last if $state =~ /^active/; sleep 0.1 }
	like($state, qr/^active/, "Debian's PostgreSQL runs (postgresql@15-main)");
} else {
	($out, $rc) = sh("chroot '$R' pg_ctlcluster 15 main start");
	is($rc, 0, "Debian's PostgreSQL starts in the root") or diag($out);
}
# The administrator's two commands (README "Install on Debian").
($out, $rc) = in_root("su postgres -s /bin/sh -c 'createuser dandi && createdb -O dandi dandi'");
is($rc, 0, 'createuser dandi, createdb -O dandi dandi') or diag($out);

# --- configuration -------------------------------------------------------------------

# The harness's radosgw and a bucket of our own (DandiTest s3 => 1).
my $t = DandiTest->new(s3 => 1, workers => 1);
my $s3 = $t->s3;
in_root('mv /etc/dandi/dandi.conf /etc/dandi/dandi.conf.first');
($out, $rc) = in_root("dandi-admin init --group dandi --set api_url=$url --set web_url=$url"
    . " --set s3_endpoint=$s3->{S3_ENDPOINT} --set s3_bucket=$s3->{S3_BUCKET}"
    . " --set s3_access_key=$s3->{S3_ACCESS_KEY} --set s3_secret_key=$s3->{S3_SECRET_KEY}"
    . " --set page_cache_dir=/var/cache/dandi/pages --set log_file=/var/log/dandi/dandi.log");
is($rc, 0, 'dandi-admin init --set ... writes the configuration') or diag($out);
unlike($out, qr/radosgw-admin/, 'no fresh S3 credentials when they were given');

# check as the service's user: the database is there but not migrated.
sub check { in_root('runuser -u dandi -- dandi-admin check') }
($out, $rc) = check();
ok($rc == 1 && $out =~ /^FAIL database: not migrated: run dandi-admin migrate$/m
    && $out =~ /^ok   S3: bucket \S+ at \S+ listed$/m, 'check: S3 reached, the database not migrated, exit 1') or diag($out);

# --- the services --------------------------------------------------------------------

($out, $rc) = timed(start => sub { start_unit('dandi-api.service') });
is($rc, 0, 'dandi-api.service starts (ExecStartPre migrate, then the pool)') or diag($out);
# (Type=simple: started once it runs; the socket follows the migrations.)
for (1 .. 100) { ($out) = in_root('test -S /run/dandi/api.sock && echo socket'); last if $out =~ /socket/; sleep 0.1 }
like($out, qr/^socket$/m, 'its socket is there') or diag(sh("tail -20 '$R/var/log/dandi/dandi.log'"));
is(stat_of('/run/dandi'), 'dandi:www-data 750', 'RuntimeDirectory /run/dandi: dandi:www-data 0750');
if ($BOX) {
	like(in_root('ps -o user=,group=,supgrp=,comm= -C dandi-api | sort -u'), qr/^dandi\s+www-data\s+(\S+,)?dandi(,\S+)?\s+dandi-api$/m,
	    'dandi-api runs as dandi, group www-data, supplementary dandi');
}
($out, $rc) = check();
ok($rc == 0 && $out =~ /^all checks passed$/m && $out =~ /^ok   database: (\d+) of \1 migrations applied$/m,
    'check: all passed after the migrations') or diag($out);
($out, $rc) = in_root('runuser -u dandi -- dandi-admin migrate');
like($out, qr/^0 migration\(s\) applied/m, 'migrate again: nothing to apply') or diag($out);

($out, $rc) = in_root('nginx -t');
is($rc, 0, 'nginx -t accepts the site') or diag($out);
($out, $rc) = in_root($BOX ? 'systemctl restart nginx' : 'nginx');
is($rc, 0, "Debian's nginx serves the site") or diag($out);

# --- a client's journey through nginx ----------------------------------------------

{
	package RootClient;	# DandiTest's HTTP helpers, aimed at the root's nginx
	our @ISA = ('DandiTest');
	sub DESTROY { }
}
my $c = bless { url => $url, owner => -1 }, 'RootClient';
my $r = $c->get('/');
ok($r->{status} == 200 && $r->{body} =~ m{<div id="?app}, 'GET / : the packaged web app') or diag($r->{status});
$r = $c->get('/config.js');
ok($r->{status} == 200 && $r->{body} =~ /window\.DANDI_CONFIG/, 'GET /config.js: /etc/dandi/web-config.js') or diag($r->{status});
$r = $c->get('/api/info/');
is($r->{status}, 200, 'GET /api/info/ through nginx and the FastCGI socket') or diag($r->{body});
($out, $rc) = in_root('runuser -u dandi -- dandi-admin create-user --username alice --email alice@example.org --first Alice --last Smith');
is($rc, 0, 'dandi-admin create-user') or diag($out);
(my $tok = in_root('runuser -u dandi -- dandi-admin create-token --username alice')) =~ s/\s+$//;
like($tok, qr/^[0-9a-f]{40}$/, 'dandi-admin create-token');

timed(journey => sub {
	my $md = { description => 'Packaged', license => ['spdx:CC-BY-4.0'],
	    contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
		includeInCitation => JSON::PP::true, schemaKey => 'Person' } ] };
	$r = $c->post('/api/dandisets/', { name => 'Installed from the package', metadata => $md }, token => $tok);
	is($r->{status}, 200, 'create a dandiset') or diag($r->{body});
	my $id = $r->{json}{identifier};
	my $bytes = join '', map { chr(($_ * 7) % 256) } 1 .. 300_000;
	my $up = upload($c, $tok, $id, $bytes);
	ok($up->{blob}, 'upload through the presigned flow, validated') or diag("$up->{step}: " . ($up->{r}{content} // $up->{r}{body} // ''));
	$r = $c->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $up->{blob}{blob_id},
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => 'sub-01/sub-01_ecephys.nwb' } },
	    token => $tok);
	is($r->{status}, 200, 'the blob is an asset of the draft') or diag($r->{body});
	my $asset = $r->{json}{asset_id};
	# The timers' work: dandi-jobs@run (sha256, then the validation sweep).
	my $info;
	for (1 .. 10) {
		my ($jc, $jo) = jobs('run');
		diag($jo) if $jc;
		$info = $c->get("/api/dandisets/$id/versions/draft/info/", token => $tok)->{json};
		last if $info->{status} eq 'Valid';
		sleep 0.5;
	}
	is($info->{status}, 'Valid', 'dandi-jobs@run validated the draft') or diag(JSON::PP->new->encode($info));
	$r = $c->post("/api/dandisets/$id/versions/draft/publish/", undef, token => $tok);
	is($r->{status}, 202, 'publish: 202') or diag($r->{body});
	my $version;
	for (1 .. 10) {
		jobs('run');
		my $l = $c->get("/api/dandisets/$id/versions/")->{json};
		($version) = map { $_->{version} } grep { $_->{version} ne 'draft' } @{ $l->{results} || [] };
		last if $version;
		sleep 0.5;
	}
	like($version // '', qr/^0\.\d{6}\.\d{4}$/, 'published by dandi-jobs@run');
	my $pa = $c->get("/api/dandisets/$id/versions/$version/assets/")->{json}{results}[0];
	$r = $c->get("/api/assets/$pa->{asset_id}/download/");
	is($r->{status}, 302, 'download: a redirect to S3') or diag($r->{body});
	my $got = HTTP::Tiny->new(timeout => 60)->get($r->{headers}{location});
	ok($got->{success} && $got->{content} eq $bytes, 'the downloaded bytes are the uploaded ones')
	    or diag("$got->{status} " . length($got->{content} // ''));
});

# Every timer's unit runs once as the template says (the timers name them);
# analytics needs S3 access logs (access_log_bucket), which this bucket has
# not: it says so and fails, as its timer would until they are set.
for my $timer (sort glob("$R/lib/systemd/system/dandi-*.timer")) {
	my ($unit) = sh("grep -h '^Unit=' '$timer'") =~ /^Unit=dandi-jobs@(.+)\.service$/m;
	ok($unit, "$timer names a dandi-jobs@ instance") or next;
	my ($jc, $jo) = jobs($unit);
	if ($unit eq 'analytics') {
		ok($jc != 0 && $jo =~ /access_log_bucket is not set/, "dandi-jobs\@$unit.service: no access logs configured") or diag($jo);
	} else {
		is($jc, 0, "dandi-jobs\@$unit.service runs") or diag($jo);
	}
}
my @timers = map { m{/([^/]+)$} } glob("$R/lib/systemd/system/dandi-*.timer");
if ($BOX) {
	# systemctl reload: the same main process, new workers, still serving.
	my ($pid1) = in_root('systemctl show -p MainPID --value dandi-api') =~ /(\d+)/;
	($out, $rc) = in_root('systemctl reload dandi-api');
	is($rc, 0, 'systemctl reload dandi-api') or diag($out);
	my ($pid2) = in_root('systemctl show -p MainPID --value dandi-api') =~ /(\d+)/;
	is($pid2, $pid1, '... the same main process');
	my $ok;
	for (1 .. 50) { $ok = $c->get('/api/info/')->{status} == 200 and last; sleep 0.1 }
	ok($ok, '... and the API answers after it');
	($out, $rc) = in_root("systemctl enable --now @timers");
	is($rc, 0, 'the timers enable') or diag($out);
	my $list = in_root('systemctl list-timers --all --no-pager');
	is(scalar(grep { $list =~ /\Q$_\E/ } @timers), scalar @timers, 'every timer is scheduled') or diag($list);
}
($out, $rc) = in_root('logrotate -d /etc/logrotate.d/dandi-archive-c');
is($rc, 0, 'logrotate accepts its file') or diag($out);
($out, $rc) = $BOX ? in_root('systemd-analyze security dandi-api.service')
    : sh("systemd-analyze security --offline=true --root='$R' dandi-api.service");
my ($score) = $out =~ /Overall exposure level for dandi-api.service: ([\d.]+)/;
ok(defined $score && $score <= 1.5, "systemd-analyze security dandi-api.service: " . ($score // '?')) or diag($out);

# --- purge ---------------------------------------------------------------------------

if ($BOX) {
	in_root("systemctl disable --now @timers; systemctl stop dandi-api nginx");
} else {
	@PIDS = map { kill('TERM', $_); waitpid($_, 0); () } @PIDS;
	sh("kill -QUIT \$(cat $R/run/nginx.pid)");
}
($out, $rc) = in_root('DEBIAN_FRONTEND=noninteractive apt-get purge -y -q dandi-archive-c');
is($rc, 0, 'apt-get purge') or diag($out);
ok(!-e "$R/etc/dandi/dandi.conf" && !-e "$R/var/log/dandi", 'purge removes the configuration and the logs');
like(in_root(q{su postgres -s /bin/sh -c 'psql -Atc "SELECT datname FROM pg_database"'}),
    qr/^dandi$/m, 'purge leaves the database');
shutdown_box();

diag(sprintf('seconds: %s', join ', ', map { sprintf '%s %.0f', $_, $took{$_} } sort keys %took));
done_testing;
