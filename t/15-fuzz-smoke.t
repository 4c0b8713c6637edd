# The libFuzzer harnesses of t/fuzz/ still build and run: `make fuzz`
# (clang, into build-fuzz/), then contrib/fuzz/run gives each a few seconds
# from its seed corpus (the regression inputs of crashes found before
# among them); any crash, hang or failed check fails the test. The long
# runs are documented in the README ("Security and reliability").
use strict;
use warnings;
use File::Temp ();
use Test::More;

my @harnesses = map { m{t/fuzz/(fuzz-[\w-]+)\.c$} ? $1 : () } sort glob 't/fuzz/fuzz-*.c';
ok(@harnesses >= 13, scalar(@harnesses) . ' harnesses');

# Every harness is built by `make fuzz` and has seeds.
open(my $fh, '<', 'Makefile.am') or die "Makefile.am: $!";
my $am = do { local $/; <$fh> };
$am =~ s/\\\n/ /g;
my %listed;
for my $var (qw(FUZZ_LIB_HARNESSES FUZZ_API_HARNESSES)) {
	my ($v) = $am =~ /^$var\s*=\s*(.*)$/m;
	$listed{$_} = 1 for map { m{t/fuzz/(.*)} ? $1 : () } split ' ', $v // '';
}
for my $h (@harnesses) {
	ok($listed{$h}, "$h is built by make fuzz");
	my @seeds = glob "t/fuzz/corpus/$h/*";
	ok(@seeds >= 1, "$h has " . scalar(@seeds) . ' seeds');
}

# Skipped only when clang cannot link a libFuzzer program at all (no clang,
# or no fuzzer/sanitizer runtime): a probe harness says which.
my $probe_dir = File::Temp::tempdir(CLEANUP => 1);
my $why = '';
if (system('command -v clang >/dev/null 2>&1') != 0) {
	$why = 'clang is not installed';
} else {
	open(my $pf, '>', "$probe_dir/probe.c") or die "$probe_dir/probe.c: $!";
	print $pf "#include <stddef.h>\n#include <stdint.h>\n"
	    . "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n";
	close $pf;
	my $err = `clang -fsanitize=fuzzer,address,undefined -o $probe_dir/probe $probe_dir/probe.c 2>&1`;
	$why = "clang cannot link a libFuzzer program: " . (split /\n/, $err)[0] if $? != 0;
}
SKIP: {
	skip "$why (apt-get install clang libclang-rt-14-dev)", 2 + @harnesses if $why ne '';
	my $out = `make fuzz 2>&1`;
	ok($? == 0, 'make fuzz builds the harnesses') or diag(join "\n", grep { defined } (split /\n/, $out)[-30 .. -1]);
	my $secs = $ENV{DANDI_FUZZ_SMOKE_SECONDS} || 3;
	my $run = `FUZZ_NO_BUILD=1 FUZZ_FRESH=1 contrib/fuzz/run $secs 2>&1`;
	is($? >> 8, 0, "every harness ran ${secs}s without a crash") or diag($run);
	for my $h (@harnesses) {
		my ($execs) = $run =~ /^\Q$h\E: (\d+) execs, [\d.?]+\/s, 0 crashes$/m;
		ok(($execs // 0) > 0, "$h: " . ($execs // 'no') . ' executions, no crash');
	}
}
done_testing;
