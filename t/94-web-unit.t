# The web app's unit and component tests (Vitest, web/tests/*.test.js),
# their TAP passed through as one subtest. Skipped when web/node_modules
# has no vitest (contrib/dev/build-web installs it).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use POSIX ();

my $ROOT = abs_path(dirname(__FILE__) . '/..');
my $VITEST = "$ROOT/web/node_modules/.bin/vitest";
plan skip_all => 'web/node_modules has no vitest (contrib/dev/build-web)' unless -x $VITEST;

my $pid = open(my $fh, '-|') // die "fork: $!";
if ($pid == 0) {
	chdir "$ROOT/web" or die "web: $!";
	open(STDERR, '>&', \*STDOUT);
	exec($VITEST, 'run', '--reporter=tap-flat') or POSIX::_exit(127);
}
my @lines = <$fh>;
close $fh;
my $status = $?;

subtest 'vitest (web/tests)' => sub {
	my ($planned, $seen, @other) = (undef, 0);
	for (@lines) {
		chomp;
		if (/^(not )?ok \d+ - (.*?)(?: # time=.*)?$/) {
			$seen++;
			ok(!$1, $2);
		} elsif (/^1\.\.(\d+)/) {
			$planned = $1;
		} elsif (length && !/^TAP version/) {
			note($_);
			push @other, $_;
		}
	}
	ok(defined $planned && $planned > 0, 'vitest printed a plan');
	is($seen, $planned // -1, 'every planned test ran');
	is($status, 0, 'vitest exited 0') or diag(join "\n", @other > 40 ? @other[-40 .. -1] : @other);
};

done_testing;
