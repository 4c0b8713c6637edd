# contrib/ansible deploys a host from the Debian package: the playbook runs
# twice with Ansible's chroot connection against a fresh Debian 12 root (the
# second run changes nothing), then the root boots its own systemd
# (systemd-nspawn) and what the playbook enabled serves: dandi-api and
# nginx start at boot, the API answers through the packaged site over
# HTTP and over TLS with the certificate given as variables, dandi-admin
# check passes, the timers are scheduled.
#
# In a chroot no systemd runs: dandi_manage_services=false (units enabled,
# nothing started) and PostgreSQL is started by pg_ctlcluster for the
# playbook's database steps. The root is t/09's cached one plus python3
# and python3-apt (what Ansible needs on a host; Debian's cloud images
# have them), cached beside it. S3 is the harness's radosgw.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use DandiTest;
use DebRoot qw(sh must quote);

if (my $why = DebRoot::unusable()) { plan skip_all => $why }
plan skip_all => 'ansible-playbook is not installed (contrib/dev/install-deps)'
    unless grep { -x "$_/ansible-playbook" } split /:/, $ENV{PATH};
my $REPO = DandiTest::root();
my %took;
sub timed { my ($what, $code) = @_; my $t0 = time; my @r = $code->(); $took{$what} = time - $t0; wantarray ? @r : $r[0] }

# The root with python3 (once: apt from the mirror of the root's sources).
my $py_cache = $DebRoot::ROOT_CACHE =~ s/\.tar\.zst$/-python3.tar.zst/r;
my $box;
END { my $rc = $?; if ($box) { $box->in_root('pg_ctlcluster 15 main stop -m fast') unless $box->box; $box->teardown(!Test::More->builder->is_passing) } $? = $rc }
$SIG{INT} = $SIG{TERM} = sub { $box->teardown(1) if $box; exit 1 };
timed(root => sub {
	if (-f $py_cache) {
		$box = DebRoot->new('13', $py_cache);
		$box->mount;
		return;
	}
	$box = DebRoot->new('13');
	$box->mount;
	must("cp /etc/resolv.conf '$box->{R}/etc/resolv.conf'");
	my ($o, $c) = $box->in_root('DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-apt && apt-get clean');
	if ($c) { $box->teardown; plan skip_all => "python3 could not be installed in the root:\n$o" }
	$box->unmount;
	must("tar -C '$box->{R}' -cf - . | zstd -q -T0 -o '$py_cache.tmp' && mv '$py_cache.tmp' '$py_cache'");
	$box->mount;
});

my $deb = $ENV{DANDI_DEB} // timed(build => sub { $box->tree_deb($REPO) });

# PostgreSQL on its unix socket only (the root shares the host's network).
$box->in_root(q{echo "listen_addresses = ''" >/etc/postgresql/15/main/conf.d/unix-socket-only.conf});
my ($out, $rc) = $box->in_root('pg_ctlcluster 15 main start');
is($rc, 0, "PostgreSQL started in the chroot") or diag($out);

my $t = DandiTest->new(s3 => 1, workers => 1);
my $s3 = $t->s3;
my ($http, $https) = (DandiTest::free_port(), DandiTest::free_port());
my $tmp = $box->tmp;
must("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout '$tmp/tls.key' -out '$tmp/tls.crt'");
my $vars = {
	dandi_deb => $deb,
	dandi_packages => [ 'postgresql-15', 'nginx-light' ],	# the cached root's
	dandi_manage_services => JSON::PP::false,
	dandi_api_url => "http://127.0.0.1:$http", dandi_web_url => "http://127.0.0.1:$http",
	dandi_s3_endpoint => $s3->{S3_ENDPOINT}, dandi_s3_bucket => $s3->{S3_BUCKET},
	dandi_s3_access_key => $s3->{S3_ACCESS_KEY}, dandi_s3_secret_key => $s3->{S3_SECRET_KEY},
	dandi_workers => 2,
	dandi_http_listen => "127.0.0.1:$http", dandi_https_listen => "127.0.0.1:$https",
	dandi_tls_cert => "$tmp/tls.crt", dandi_tls_key => "$tmp/tls.key",
};
open(my $fh, '>', "$tmp/vars.json") or die;
print $fh JSON::PP->new->encode($vars);
close $fh;
open($fh, '>', "$tmp/inventory") or die;
print $fh "[dandi]\n$box->{R} ansible_connection=community.general.chroot ansible_python_interpreter=/usr/bin/python3 ansible_become=false\n";
close $fh;
sub playbook {
	my $cmd = "cd '$REPO/contrib/ansible' && ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCAL_TEMP='$tmp/ansible'"
	    . " ANSIBLE_REMOTE_TEMP=/tmp/.ansible ansible-playbook -i '$tmp/inventory' -e '\@$tmp/vars.json' site.yml";
	return sh($cmd);
}
sub recap { my ($o) = @_; my ($r) = $o =~ /^\S+\s+:\s+(ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=\d+)/m; $r // '' }

($out, $rc) = timed(first_run => \&playbook);
is($rc, 0, 'ansible-playbook site.yml (chroot connection): first run') or diag($out);
my ($changed) = recap($out) =~ /changed=(\d+)/;
ok($changed && $changed > 5, "the first run installs and configures: " . recap($out)) or diag($out);
($out, $rc) = timed(second_run => \&playbook);
is($rc, 0, 'second run') or diag($out);
like(recap($out), qr/changed=0 .*failed=0/, 'the second run changes nothing: ' . recap($out))
    or diag(join "\n", grep { /^changed:/ || /^TASK/ } split /\n/, $out);

is($box->in_root("stat -c '%U:%G %a' /etc/dandi/dandi.conf"), "root:dandi 640\n", 'dandi.conf: root:dandi 0640');
like($box->in_root('cat /etc/dandi/dandi.conf'), qr/^s3_bucket = \Q$s3->{S3_BUCKET}\E$/m, '... from the variables');
like($box->in_root('readlink /etc/nginx/sites-enabled/dandi'), qr{^/etc/nginx/sites-available/dandi$}, 'the site enabled');
ok(!-e "$box->{R}/etc/nginx/sites-enabled/default", "nginx's default site disabled");

# --- boot: what was enabled starts ----------------------------------------------------

$box->in_root('pg_ctlcluster 15 main stop -m fast');
$box->unmount;
ok(timed(boot => sub { $box->boot }), 'the root boots (systemd-nspawn)') or do { diag($box->boot_error // ''); done_testing; exit 1 };
like($box->wait_for('systemctl is-active dandi-api', qr/^active/, 20), qr/^active/, 'dandi-api.service started at boot');
like($box->wait_for('systemctl is-active nginx', qr/^active/, 20), qr/^active/, 'nginx started at boot');
like($box->wait_for('test -S /run/dandi/api.sock && echo socket', qr/socket/), qr/socket/, 'the socket');
my $timers = $box->in_root('systemctl list-timers --all --no-pager');
my @want = qw(jobs mail stats search gc verify pending-users embargo-ends);
is(scalar(grep { $timers =~ /\bdandi-$_\.timer\b/ } @want), scalar @want, 'the timers the role enables are scheduled') or diag($timers);
($out, $rc) = $box->in_root('runuser -u dandi -- dandi-admin check');
like($out, qr/^all checks passed$/m, 'dandi-admin check on the booted host') or diag($out);
my $info = '';
for (1 .. 50) { $info = sh("curl -s http://127.0.0.1:$http/api/info/"); last if $info =~ /"version"/; sleep 0.1 }
my $j = eval { decode_json($info) } || {};
ok($j->{version}, 'GET /api/info/ through nginx (HTTP)') or diag($info);
$info = sh("curl -s --cacert '$tmp/tls.crt' https://localhost:$https/api/info/ --resolve localhost:$https:127.0.0.1");
$j = eval { decode_json($info) } || {};
ok($j->{version}, 'GET /api/info/ over TLS with the certificate from the variables') or diag($info);

$box->shutdown;
diag(sprintf('seconds: %s', join ', ', map { sprintf '%s %.0f', $_, $took{$_} } sort keys %took));
done_testing;
