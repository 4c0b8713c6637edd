# An upgrade of the Debian package, as an administrator would do it: the
# previous release's package (built from its tag) installed in a fresh
# Debian 12 root with its own systemd (systemd-nspawn), PostgreSQL and
# nginx, data loaded through the API (dandisets, uploads by the presigned
# flow, assets, a publish), then the working tree's package installed over
# it (apt-get install ./new.deb: the postinst restarts dandi-api, whose
# ExecStartPre applies the new migrations). Afterwards every dandiset,
# version and asset is listed as before, every asset downloads byte-exact
# from the same S3 objects (the bucket holds the same objects: nothing was
# uploaded again), every migration is applied, the configuration is
# untouched and the services run.
#
# The baseline is the tag $BASELINE_TAG (each release moves it forward to
# the release before; a checkout without that tag or its history, e.g. a
# shallow clone, skips). Its .deb is built once and cached by commit id in
# DANDI_DEB_CACHE; the root is t/09's cached one (run t/09 first).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);
use DandiTest;
use DebRoot qw(sh must quote);
use Upload qw(upload);

my $BASELINE_TAG = 'v0.1.0';

if (my $why = DebRoot::unusable()) { plan skip_all => $why }
my $REPO = DandiTest::root();
my ($base) = sh("cd '$REPO' && git rev-parse --verify -q '$BASELINE_TAG^{commit}'") =~ /^([0-9a-f]{40})$/m;
plan skip_all => "this checkout has no tag $BASELINE_TAG (git fetch --tags; a shallow clone has no history)" unless $base;
my %took;
sub timed { my ($what, $code) = @_; my $t0 = time; my @r = $code->(); $took{$what} = time - $t0; wantarray ? @r : $r[0] }

my $box = DebRoot->new('11');
END { my $rc = $?; $box->teardown(!Test::More->builder->is_passing) if $box; $? = $rc }
$SIG{INT} = $SIG{TERM} = sub { $box->teardown(1) if $box; exit 1 };

# --- the two packages -----------------------------------------------------------------

my ($old_version) = sh("cd '$REPO' && git show '$base:debian/changelog'") =~ /^dandi-archive-c \(([^)]+)\)/;
my $old_deb = timed(build_old => sub {
	my ($hit) = glob("$DebRoot::CACHE/deb-$base/*.deb");
	$hit // $box->build_deb($box->source_tree($REPO, $base, 'old'), cache_id => $base)
});
# The tree's package is "<its changelog's version>+test": later than the
# release even while debian/changelog still names it.
my $new_deb = timed(build_new => sub { $ENV{DANDI_DEB} // $box->tree_deb($REPO) });
like(must("dpkg-deb -f '$old_deb' Version"), qr/^\Q$old_version\E$/, "the baseline's package: $BASELINE_TAG, $old_version");
my ($nv) = must("dpkg-deb -f '$new_deb' Version") =~ /^(\S+)/;
like(sh("dpkg --compare-versions '$nv' gt '$old_version' && echo later"), qr/^later$/, "the new package's version $nv is later");
# (Not /tmp: the booted root mounts a fresh one.)
must("cp '$old_deb' '$box->{R}/root/old.deb' && cp '$new_deb' '$box->{R}/root/new.deb'");

# --- the previous release, installed and set up as README says --------------------------

my ($out, $rc) = timed(install_old => sub {
	sh("chroot '$box->{R}' env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/old.deb")
});
is($rc, 0, "apt-get install the $BASELINE_TAG package") or diag($out);
my $port = DandiTest::free_port();
my $url = "http://127.0.0.1:$port";
$box->in_root(q{echo "listen_addresses = ''" >/etc/postgresql/15/main/conf.d/unix-socket-only.conf});
$box->in_root("ln -sf /etc/nginx/sites-available/dandi /etc/nginx/sites-enabled/dandi && rm -f /etc/nginx/sites-enabled/default"
    . " && sed -i 's/^\\(\\s*\\)listen 80;/\\1listen 127.0.0.1:$port;/' /etc/nginx/sites-available/dandi");
my $booted = timed(boot => sub { $box->boot });
ok($booted, 'systemd boots in the root (systemd-nspawn)') or do { diag($box->boot_error // ''); done_testing; exit 1 };
like($box->wait_for('systemctl is-active postgresql@15-main', qr/^active/), qr/^active/, "Debian's PostgreSQL runs");
($out, $rc) = $box->in_root("su postgres -s /bin/sh -c 'createuser dandi && createdb -O dandi dandi'");
is($rc, 0, 'createuser, createdb') or diag($out);

my $t = DandiTest->new(s3 => 1, workers => 1);
my $s3 = $t->s3;
$box->in_root('mv /etc/dandi/dandi.conf /etc/dandi/dandi.conf.first');
($out, $rc) = $box->in_root("dandi-admin init --group dandi --set api_url=$url --set web_url=$url"
    . " --set s3_endpoint=$s3->{S3_ENDPOINT} --set s3_bucket=$s3->{S3_BUCKET}"
    . " --set s3_access_key=$s3->{S3_ACCESS_KEY} --set s3_secret_key=$s3->{S3_SECRET_KEY}"
    . " --set page_cache_dir=/var/cache/dandi/pages --set log_file=/var/log/dandi/dandi.log");
is($rc, 0, 'dandi-admin init --set ...') or diag($out);
# The administrator's own line: an upgrade must keep it.
$box->in_root('echo "# edited by the administrator" >>/etc/dandi/dandi.conf');
my $conf_before = $box->in_root('sha256sum /etc/dandi/dandi.conf /etc/dandi/web-config.js');
($out, $rc) = $box->start_unit('dandi-api.service');
is($rc, 0, 'dandi-api.service starts') or diag($out);
like($box->wait_for('test -S /run/dandi/api.sock && echo socket', qr/socket/), qr/socket/, 'its socket is there');
($out, $rc) = $box->in_root('systemctl restart nginx');
is($rc, 0, 'nginx serves the site') or diag($out);
sub check { $box->in_root('runuser -u dandi -- dandi-admin check') }
($out) = check();
my ($migrated_before) = $out =~ /^ok   database: (\d+) of \1 migrations applied$/m;
ok($migrated_before, "the $BASELINE_TAG package migrated the database: $migrated_before migrations") or diag($out);

{
	package RootClient;	# DandiTest's HTTP helpers, aimed at the root's nginx
	our @ISA = ('DandiTest');
	sub DESTROY { }
}
my $c = bless { url => $url, owner => -1 }, 'RootClient';
($out, $rc) = $box->in_root('runuser -u dandi -- dandi-admin create-user --username alice --email alice@example.org --first Alice --last Smith');
is($rc, 0, 'dandi-admin create-user') or diag($out);
(my $tok = $box->in_root('runuser -u dandi -- dandi-admin create-token --username alice')) =~ s/\s+$//;
like($tok, qr/^[0-9a-f]{40}$/, 'dandi-admin create-token');

sub jobs_run { my ($o, $c) = $box->start_unit('dandi-jobs@run.service'); diag($o) if $c }

# --- data through the API ---------------------------------------------------------------

my %bytes;	# asset path => its content
timed(load => sub {
	my $md = { description => 'Before the upgrade', license => ['spdx:CC-BY-4.0'],
	    contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
		includeInCitation => JSON::PP::true, schemaKey => 'Person' } ] };
	for my $n (1, 2) {
		my $r = $c->post('/api/dandisets/', { name => "Upgrade $n", metadata => $md }, token => $tok);
		is($r->{status}, 200, "create dandiset $n") or diag($r->{body});
		my $id = $r->{json}{identifier};
		for my $k (1 .. $n) {
			my $path = "sub-0$k/sub-0${k}_ecephys.nwb";
			my $data = join '', map { chr(($_ * (7 + $n) + $k) % 256) } 1 .. 100_000 * $k + $n;
			my $up = upload($c, $tok, $id, $data);
			ok($up->{blob}, "dandiset $n: $path uploaded by the presigned flow") or diag("$up->{step}");
			$r = $c->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $up->{blob}{blob_id},
			    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => $path } }, token => $tok);
			is($r->{status}, 200, "dandiset $n: asset $path") or diag($r->{body});
			$bytes{"$id/$path"} = $data;
		}
		next unless $n == 1;	# the first is published, the second stays a draft
		my $info;
		for (1 .. 10) {
			jobs_run();
			$info = $c->get("/api/dandisets/$id/versions/draft/info/", token => $tok)->{json};
			last if $info->{status} eq 'Valid';
			sleep 0.5;
		}
		is($info->{status}, 'Valid', 'dandi-jobs@run validated the draft');
		$r = $c->post("/api/dandisets/$id/versions/draft/publish/", undef, token => $tok);
		is($r->{status}, 202, 'publish: 202') or diag($r->{body});
		my $published;
		for (1 .. 10) {
			jobs_run();
			$published = grep { $_->{version} ne 'draft' } @{ $c->get("/api/dandisets/$id/versions/")->{json}{results} || [] };
			last if $published;
			sleep 0.5;
		}
		ok($published, 'published by dandi-jobs@run');
	}
});

# What a client sees: the dandisets, each one's versions, each version's
# assets with their metadata (blob, digests, contentUrl: the S3 keys).
sub snapshot {
	my %s;
	my $ds = $c->get('/api/dandisets/?page_size=100', token => $tok)->{json}{results};
	$s{dandisets} = $ds;
	for my $d (@$ds) {
		my $vs = $c->get("/api/dandisets/$d->{identifier}/versions/", token => $tok)->{json}{results};
		$s{"versions $d->{identifier}"} = $vs;
		for my $v (@$vs) {
			my $as = $c->get("/api/dandisets/$d->{identifier}/versions/$v->{version}/assets/?page_size=100", token => $tok)->{json}{results};
			for my $a (@$as) {
				$a->{metadata} = $c->get("/api/dandisets/$d->{identifier}/versions/$v->{version}/assets/$a->{asset_id}/", token => $tok)->{json};
			}
			$s{"assets $d->{identifier} $v->{version}"} = $as;
		}
	}
	return \%s;
}
# The bucket's objects (rclone, as README "Operate" copies them).
sub bucket {
	local %ENV = (%ENV, RCLONE_CONFIG => '/dev/null', RCLONE_CONFIG_ARCHIVE_TYPE => 's3', RCLONE_CONFIG_ARCHIVE_PROVIDER => 'Ceph',
	    RCLONE_CONFIG_ARCHIVE_ENDPOINT => $s3->{S3_ENDPOINT}, RCLONE_CONFIG_ARCHIVE_REGION => $s3->{S3_REGION} // '',
	    RCLONE_CONFIG_ARCHIVE_ACCESS_KEY_ID => $s3->{S3_ACCESS_KEY}, RCLONE_CONFIG_ARCHIVE_SECRET_ACCESS_KEY => $s3->{S3_SECRET_KEY});
	delete local $ENV{AWS_CA_BUNDLE};
	my $l = `rclone lsf -R --files-only --format pst archive:$s3->{S3_BUCKET} 2>&1`;
	return join "\n", sort split /\n/, $l;
}
my $before = snapshot();
my $objects_before = bucket();
is(scalar(grep { /^assets / } keys %$before), 3, 'three versions with assets (a published one, two drafts)');
my ($api_pid) = $box->in_root('systemctl show -p MainPID --value dandi-api') =~ /(\d+)/;

# --- the upgrade ---------------------------------------------------------------------

# The site's listen was edited above: a package that changes the site
# would ask about it; keep the edited one unasked, as the README's Upgrade
# says and the Ansible role does (the new one lands as .dpkg-dist).
($out, $rc) = timed(upgrade => sub { $box->in_root('DEBIAN_FRONTEND=noninteractive apt-get install -y -q'
    . ' -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold /root/new.deb') });
is($rc, 0, "apt-get install ./new.deb: $old_version -> $nv") or diag($out);
like($out, qr/Unpacking dandi-archive-c \(\Q$nv\E\) over \(\Q$old_version\E\)/, 'dpkg upgraded the installed package') or diag($out);
unlike($out, qr/changed on disk/, 'systemd read the new units before the restart (no stale unit warning)');
like($box->in_root(q{dpkg-query -W -f='${Version} ${Status}' dandi-archive-c}), qr/^\Q$nv\E install ok installed$/, 'the new version is installed');

# --- after ---------------------------------------------------------------------------

like($box->wait_for('systemctl is-active dandi-api', qr/^active/), qr/^active/, 'dandi-api.service runs');
my ($api_pid2) = $box->in_root('systemctl show -p MainPID --value dandi-api') =~ /(\d+)/;
ok($api_pid2 && $api_pid2 != $api_pid, 'the postinst restarted it (the new programs run)');
like($box->wait_for('test -S /run/dandi/api.sock && echo socket', qr/socket/), qr/socket/, 'its socket is there');
like($box->in_root('systemctl is-active nginx postgresql@15-main'), qr/^active\nactive$/, 'nginx and PostgreSQL run');
is($box->in_root('sha256sum /etc/dandi/dandi.conf /etc/dandi/web-config.js'), $conf_before,
    'the configuration and the conffile web-config.js are untouched');
($out) = check();
my ($migrated_after) = $out =~ /^ok   database: (\d+) of \1 migrations applied$/m;
my $shipped = () = $box->in_root('ls /usr/share/dandi-archive-c/sql/') =~ /^\d+_\S+\.sql$/mg;
ok($migrated_after && $migrated_after == $shipped && $migrated_after >= $migrated_before,
    "every migration of the new package applied: $migrated_before before, $migrated_after of $shipped after") or diag($out);
like($out, qr/^all checks passed$/m, 'dandi-admin check: all passed') or diag($out);
($out) = $box->in_root('runuser -u dandi -- dandi-admin migrate');
like($out, qr/^0 migration\(s\) applied/m, 'migrate again: nothing to apply');

my $after;
for (1 .. 50) { last if $c->get('/api/info/')->{status} == 200; sleep 0.1 }
$after = snapshot();
is_deeply($after, $before, 'the same dandisets, versions and assets (metadata, blobs, content URLs)');
is(bucket(), $objects_before, 'the bucket holds the same objects: nothing uploaded again');
my $n = 0;
for my $key (sort grep { /^assets / } keys %$after) {
	my (undef, $id) = split ' ', $key;
	for my $a (@{ $after->{$key} }) {
		my $r = $c->get("/api/assets/$a->{asset_id}/download/");
		my $got = $r->{status} == 302 ? HTTP::Tiny->new(timeout => 60)->get($r->{headers}{location}) : {};
		ok($got->{success} && $got->{content} eq $bytes{"$id/$a->{path}"}, "$key $a->{path}: downloads byte-exact")
		    or diag("$r->{status} " . ($got->{status} // ''));
		$n++;
	}
}
is($n, 4, 'four assets downloaded');
# And it still takes writes.
my $r = $c->post('/api/dandisets/', { name => 'After the upgrade', metadata => { description => 'x', license => ['spdx:CC0-1.0'] } }, token => $tok);
is($r->{status}, 200, 'a new dandiset after the upgrade') or diag($r->{body});
($out, $rc) = $box->start_unit('dandi-jobs@run.service');
is($rc, 0, 'dandi-jobs@run runs the new programs') or diag($out);

$box->in_root('systemctl stop dandi-api nginx');
$box->shutdown;
diag(sprintf('seconds: %s', join ', ', map { sprintf '%s %.0f', $_, $took{$_} } sort keys %took));
done_testing;
