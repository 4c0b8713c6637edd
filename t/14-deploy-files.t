# The deployment files that need no root to check: contrib/ansible's
# playbook passes ansible-playbook --syntax-check (t/13-ansible.t runs it),
# contrib/cloud-init/user-data.yaml is cloud-config (YAML, PyYAML's safe
# loader as cloud-init reads it; cloud-init's own schema check where the
# cloud-init package is installed), and the three ways to deploy (README
# "Install on Debian", the user-data, the Ansible role) run the same
# steps and enable the same units.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use DandiTest;

my $ROOT = DandiTest::root();
sub slurp { my ($f) = @_; open(my $fh, '<', $f) or die "$f: $!"; local $/; <$fh> }
sub have { my ($tool) = @_; grep { -x "$_/$tool" } split /:/, $ENV{PATH} }
# A YAML file as PyYAML's safe loader reads it (what cloud-init and Ansible use).
sub yaml {
	my ($f) = @_;
	my $json = `python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' '$f' 2>&1`;
	return $? ? (undef, $json) : (decode_json($json), '');
}
plan skip_all => 'python3-yaml is not installed (contrib/dev/install-deps)'
    unless `python3 -c 'import yaml' 2>&1; echo \$?` =~ /^0$/m;

# README's install block: its commands and the units it enables.
my $readme = slurp("$ROOT/README.md");
my ($section) = $readme =~ /^## Install on Debian\n(.*?)^## /ms;
my @block = map { s/^    //r } grep { /^    \S/ || /^        \S/ } split /\n/, $section;
my $install = join("\n", @block) =~ s/\\\n\s*/ /gr;
my ($readme_units) = $install =~ /^systemctl enable --now (.+)$/m;
ok($readme_units, "README's install block enables units") or diag($install);
my @units = sort map { /\./ ? $_ : "$_.service" } split ' ', $readme_units // '';

# --- cloud-init -------------------------------------------------------------------------

my $ud = "$ROOT/contrib/cloud-init/user-data.yaml";
like(slurp($ud), qr/\A#cloud-config\n/, 'user-data starts with #cloud-config');
my ($cc, $err) = yaml($ud);
ok($cc && ref $cc eq 'HASH', 'user-data is a YAML mapping') or diag($err);
# The cloud-config modules it uses (cloud-init 22.4's schema names them).
my %known = map { $_ => 1 } qw(package_update package_upgrade packages write_files runcmd bootcmd users
    ssh_authorized_keys timezone hostname fqdn apt final_message);
is_deeply([ grep { !$known{$_} } sort keys %$cc ], [], 'only known cloud-config keys');
my @runcmd = map { ref $_ ? join(' ', @$_) : $_ } @{ $cc->{runcmd} || [] };
ok((!grep { ref $_ && grep { ref $_ } @$_ } @{ $cc->{runcmd} || [] }), 'runcmd: strings or lists of strings');
ok((!grep { !$_->{path} || !defined $_->{content} } @{ $cc->{write_files} || [] }), 'write_files: each a path and content');
my $run = join "\n", @runcmd;
for my $step ('apt-get install -y /root/dandi-archive-c.deb', "createuser dandi && createdb -O dandi dandi",
    'dandi-admin init --group dandi', 'dandi-admin migrate', 'dandi-admin check', '/etc/nginx/sites-enabled/dandi',
    'nginx -t') {
	like($run, qr/\Q$step\E/, "user-data runs README's step: $step");
}
my ($ci_units) = $run =~ /^systemctl enable --now (.+)$/m;
is_deeply([ sort map { /\./ ? $_ : "$_.service" } split ' ', $ci_units // '' ], \@units, "user-data enables README's units");
if (have('cloud-init')) {
	my $o = `cloud-init schema --config-file '$ud' 2>&1`;
	is($?, 0, 'cloud-init schema --config-file: valid') or diag($o);
}

# --- Ansible --------------------------------------------------------------------------

SKIP: {
	skip 'ansible is not installed (contrib/dev/install-deps)', 3 unless have('ansible-playbook');
	my $o = `cd '$ROOT/contrib/ansible' && ANSIBLE_LOCAL_TEMP=\$(mktemp -d) ansible-playbook --syntax-check -i inventory.example site.yml 2>&1`;
	is($?, 0, 'ansible-playbook --syntax-check site.yml') or diag($o);
	my ($defaults) = yaml("$ROOT/contrib/ansible/roles/dandi/defaults/main.yml");
	is_deeply([ sort @{ $defaults->{dandi_units} || [] } ], \@units, "the role enables README's units");
	my ($tasks) = yaml("$ROOT/contrib/ansible/roles/dandi/tasks/main.yml");
	my $cmds = join "\n", map { $_->{'ansible.builtin.command'} // () } @$tasks;
	like($cmds, qr/dandi-admin migrate.*\n.*dandi-admin check/s, 'the role migrates, then checks');
}
done_testing;
