package DebRoot;
# A Debian 12 root for the package's tests that need a fresh machine
# (t/11-debian-upgrade.t, t/13-ansible.t): the root cached by
# t/09-debian-install.t in DANDI_DEB_CACHE unpacked into a temporary
# directory, booted with its own systemd in systemd-nspawn, commands run in
# its namespaces; the package built from any tree (the working tree, or an
# earlier commit's, cached by commit id). The same steps as t/09's (which
# also has the chroot fallback for machines that cannot boot a root).
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use Exporter 'import';
use File::Path qw(make_path);
use Fcntl qw(:flock);
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);

our @EXPORT_OK = qw(sh must quote);

our $SUITE = 'bookworm';
# Must stay t/09's list: the cache key is its digest.
our @INCLUDE = qw(postgresql-15 nginx-light libfcgi0ldbl libpq5 libjson-c5 libpcre2-8-0 libcurl4
    libssl3 adduser logrotate ca-certificates procps systemd systemd-sysv dbus);
our $CACHE = $ENV{DANDI_DEB_CACHE} || '/var/cache/dandi-archive-c-test';
our $KEY = substr(sha256_hex(join ' ', $SUITE, @INCLUDE), 0, 12);
our $ROOT_CACHE = "$CACHE/root-$SUITE-$KEY.tar.zst";

sub sh {
	my ($cmd) = @_;
	my $out = `$cmd 2>&1`;
	return wantarray ? ($out, $? >> 8) : $out;
}
sub must { my ($cmd) = @_; my ($out, $rc) = sh($cmd); die "failed ($rc): $cmd\n$out" if $rc; $out }
sub quote { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }

# Why this machine cannot run these tests (undef: it can).
sub unusable {
	return 'needs root (chroot, mounts, systemd-nspawn)' if $> != 0;
	for my $tool (qw(dpkg-buildpackage dh zstd systemd-nspawn nsenter)) {
		return "$tool is not installed (contrib/dev/install-deps)"
		    unless grep { -x "$_/$tool" } split /:/, "$ENV{PATH}:/usr/sbin:/sbin";
	}
	return "no cached Debian root $ROOT_CACHE: run t/09-debian-install.t first" unless -f $ROOT_CACHE;
	return undef;
}

# new(name[, tarball]): a temporary directory with the cached root (or
# another tarball of a root) unpacked in it.
sub new {
	my ($class, $name, $tarball) = @_;
	my $tmp = tempdir("dandi-$name-XXXXXX", DIR => $ENV{DANDI_TEST_TMP} || '/tmp', CLEANUP => 0);
	my $s = bless { tmp => $tmp, R => "$tmp/root" }, $class;
	make_path($s->{R});
	must("zstd -dc '" . ($tarball // $ROOT_CACHE) . "' | tar -C '$s->{R}' -xpf -");
	return $s;
}
sub tmp { $_[0]{tmp} }
sub R { $_[0]{R} }
sub box { $_[0]{box} }

# The package built from the tree in $src (a copy: the build writes
# there); with $cache_id, the .deb is kept in the cache under that name
# and reused. $version: the changelog's version replaced (a test build
# must be newer than the release it upgrades).
sub build_deb {
	my ($s, $src, %o) = @_;
	if ($o{cache_id}) {
		my ($hit) = glob("$CACHE/deb-$o{cache_id}/*.deb");
		return $hit if $hit;
	}
	if ($o{version}) {
		my $cl = "$src/debian/changelog";
		open(my $fh, '<', $cl) or die "$cl: $!";
		local $/;
		my $text = <$fh>;
		close $fh;
		my ($who) = $text =~ /^ -- (.+?>)/m;
		open($fh, '>', $cl) or die "$cl: $!";
		print $fh "dandi-archive-c ($o{version}) $SUITE; urgency=medium\n\n  * A test build of the working tree.\n\n"
		    . " -- $who  " . POSIX::strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime) . "\n\n" . $text;
		close $fh;
	}
	my $log = "$s->{tmp}/build-" . ($o{cache_id} // 'tree') . '.log';
	my ($out, $rc) = sh("cd '$src' && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b >'$log' 2>&1");
	die "dpkg-buildpackage in $src failed:\n" . sh("tail -40 '$log'") if $rc;
	(my $parent = $src) =~ s{/[^/]+$}{};
	my ($deb) = glob("$parent/dandi-archive-c_*_*.deb");
	die "no package in $parent" unless $deb;
	if ($o{cache_id}) {
		my $dir = "$CACHE/deb-$o{cache_id}";
		make_path("$dir.tmp");
		must("cp '$deb' '$dir.tmp/' && rm -rf '$dir' && mv '$dir.tmp' '$dir'");
		($deb) = glob("$dir/*.deb");
	}
	return $deb;
}

# A copy of a tree to build: the working tree as git sees it (commit
# undef) or a commit's (git archive), with the web app's node_modules so
# that npm need not fetch them.
sub source_tree {
	my ($s, $repo, $commit, $name) = @_;
	my $src = "$s->{tmp}/src-$name/dandi-archive-c";
	make_path($src);
	if (defined $commit) {
		must("cd '$repo' && git archive --format=tar '$commit' | tar -C '$src' -xf -");
	} else {
		must("cd '$repo' && git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C '$src' -xf -");
	}
	must("cp -a '$repo/web/node_modules' '$src/web/'") if -d "$repo/web/node_modules";
	return $src;
}

# The working tree's package, version "<debian/changelog's>+test" (later
# than the release of the same number, for the upgrade test), built once
# per content of the packaged part of the tree (t/11 and t/13 share it;
# only the latest kept).
sub tree_deb {
	my ($s, $repo) = @_;
	# (The tests, README and the deployment examples are not in the package.)
	my $sum = sh("cd '$repo' && git ls-files -co --exclude-standard -z"
	    . " | grep -zEv '^(t/|README\\.md\$|contrib/(ansible|cloud-init|bench|fuzz|soak)/)'"
	    . " | tar --null -T - --sort=name --mtime=\@0"
	    . " --owner=0 --group=0 --numeric-owner -cf - | sha256sum");
	my $id = 'tree-' . substr($sum, 0, 16);
	# t/11 and t/13 run at once in the suite: one builds, the other waits
	# for it and takes its package (two builds would each replace the
	# cache entry, and a package copied once would differ the next time).
	make_path($CACHE);
	open(my $lock, '>>', "$CACHE/deb-tree.lock") or die "$CACHE/deb-tree.lock: $!";
	flock($lock, LOCK_EX) or die "flock: $!";
	my ($hit) = glob("$CACHE/deb-$id/*.deb");
	return $hit if $hit;
	my ($v) = sh("cat '$repo/debian/changelog'") =~ /^dandi-archive-c \(([^)]+)\)/;
	my $deb = $s->build_deb($s->source_tree($repo, undef, 'tree'), cache_id => $id, version => "$v+test");
	sh("rm -rf '$_'") for grep { !m{/deb-\Q$id\E$} } glob("$CACHE/deb-tree-*");
	return $deb;	# (the lock goes with $lock)
}

sub in_root {
	my ($s, $cmd) = @_;
	$cmd = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH; $cmd";
	return sh($s->{box} ? "nsenter -t $s->{box} -m -u -i -p -- /bin/sh -c " . quote($cmd)
	    : "chroot '$s->{R}' sh -c " . quote($cmd));
}

# The PID (on the host) of the container's init under $parent.
sub _container_init {
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

# systemd-nspawn -b: the root's systemd runs the units (sandbox and all);
# true once it is running (or degraded).
sub boot {
	my ($s) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', "$s->{tmp}/boot.log");
		open(STDERR, '>&', \*STDOUT);
		exec('systemd-nspawn', '-b', '-D', $s->{R}, '--register=no', '--keep-unit', '-q') or POSIX::_exit(127);
	}
	$s->{nspawn} = $pid;
	my $init;
	# Up to 3 minutes: a loaded machine (CI runs four tests at once)
	# boots slowly; here it takes 3-5 s.
	for (1 .. 1800) {
		last if waitpid($pid, WNOHANG) != 0;
		$init //= _container_init($pid);
		if ($init) {
			$s->{box} = $init;
			my ($state) = $s->in_root('systemctl is-system-running');
			return 1 if $state =~ /^(running|degraded)/;
			delete $s->{box};
		}
		sleep 0.1;
	}
	$s->{boot_error} = sh("tail -20 '$s->{tmp}/boot.log'");
	$s->shutdown;
	return 0;
}
sub boot_error { $_[0]{boot_error} }

sub shutdown {
	my ($s) = @_;
	my $pid = delete $s->{nspawn} or return;
	sh("nsenter -t $s->{box} -m -u -i -p -- /bin/systemctl poweroff") if $s->{box};
	for (1 .. 300) { last if waitpid($pid, WNOHANG) != 0; sleep 0.1 }
	if (kill 0, $pid) { kill 'KILL', $pid; waitpid($pid, 0) }
	delete $s->{box};
}

# /proc, /dev and /dev/pts in the root, for work by chroot (unmount
# before boot).
sub mount {
	my ($s) = @_;
	for ([ 'proc', '-t proc proc' ], [ 'dev', '--bind /dev' ], [ 'dev/pts', '--bind /dev/pts' ]) {
		must("mount $_->[1] '$s->{R}/$_->[0]'");
		push @{ $s->{mounts} }, "$s->{R}/$_->[0]";
	}
}
sub unmount {
	my ($s) = @_;
	for my $m (reverse @{ $s->{mounts} || [] }) {
		sh("umount '$m'") for 1 .. 2;
		sh("umount -l '$m'") if grep { (split ' ')[1] eq $m } split /\n/, sh('cat /proc/mounts');
	}
	$s->{mounts} = [];
}

# The root's systemd stopped, then the directory removed (unless kept).
sub teardown {
	my ($s, $keep) = @_;
	return unless $s->{tmp} && -d $s->{tmp};
	$s->shutdown;
	$s->unmount;
	my @left = grep { index((split ' ')[1], $s->{tmp}) == 0 } split /\n/, sh('cat /proc/mounts');
	if (@left || $keep || $ENV{DANDI_KEEP_TMP}) {
		print STDERR "# kept $s->{tmp}\n";
	} else {
		sh("rm -rf --one-file-system '$s->{tmp}'");
	}
	delete $s->{tmp};
}

# A unit started (or a oneshot run): (output with its journal on failure, status).
sub start_unit {
	my ($s, $unit) = @_;
	my ($o, $c) = $s->in_root("systemctl start $unit");
	$o .= $s->in_root("journalctl -u $unit -n 30 --no-pager -o cat") if $c;
	return ($o, $c);
}

# Waits until $cmd's output matches $re (up to $secs): the last output.
sub wait_for {
	my ($s, $cmd, $re, $secs) = @_;
	my $out = '';
	for (1 .. ($secs // 10) * 10) { ($out) = $s->in_root($cmd); last if $out =~ $re; sleep 0.1 }
	return $out;
}

1;
