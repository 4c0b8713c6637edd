# `make install` puts everything the programs read where they look for it:
# every schema version of share/schema, the migrations, the OpenAPI
# document, the sample configuration and the programs themselves (into a
# DESTDIR under the test's directory; the build is the one run-tests made).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use DandiTest;

my $build = DandiTest::build();
plan skip_all => 'not built (no Makefile)' unless -f "$build/Makefile";
my $dest = tempdir('dandi-install-XXXXXX', DIR => $ENV{DANDI_TEST_TMP} || '/tmp', CLEANUP => 1);
my $out = `make -s -C '$build' install DESTDIR='$dest' 2>&1`;
is($?, 0, 'make install into a DESTDIR') or diag($out);
my ($prefix) = `grep -m1 '^prefix = ' '$build/Makefile'` =~ /^prefix = (\S+)/;
my ($sysconf) = `grep -m1 '^sysconfdir = ' '$build/Makefile'` =~ /^sysconfdir = (\S+)/;
$sysconf =~ s/\$\{prefix\}/$prefix/;
my $share = "$dest$prefix/share/dandi-archive-c";

for my $dir (sort glob DandiTest::root() . '/share/schema/*/') {
	my ($v) = $dir =~ m{/([^/]+)/$};
	my @want = map { m{([^/]+)$} } glob "$dir*.json";
	my @got = map { m{([^/]+)$} } glob "$share/schema/$v/*.json";
	is_deeply(\@got, \@want, "schema $v installed (" . scalar(@want) . ' files)');
}
my @sql = map { m{([^/]+)$} } glob DandiTest::root() . '/sql/*.sql';
is_deeply([ map { m{([^/]+)$} } glob "$share/sql/*.sql" ], \@sql, 'every migration installed');
ok(-f "$share/openapi/openapi.json", 'the OpenAPI document installed');
ok(-f "$dest$sysconf/dandi/dandi.conf.sample", 'the sample configuration installed');
ok(-x "$dest$prefix/bin/$_", "$_ installed") for qw(dandi-api dandi-admin dandi-jobs);

$out = `make -s -C '$build' uninstall DESTDIR='$dest' 2>&1`;
is($?, 0, 'make uninstall');
ok(!-e "$share/schema", 'uninstall removes the schemas');
done_testing;
