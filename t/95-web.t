# The web app in a browser: starts the archive with S3 and web/dist as the
# web root, then runs the Playwright (playwright-core) tests of t/web/run in
# headless Chromium and passes their TAP through as one subtest. Skipped
# when the app is not built, its node_modules are missing or there is no
# /usr/bin/chromium (contrib/dev/build-web and install-deps bring them).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;

my $ROOT = DandiTest->root;
my $CHROMIUM = $ENV{DANDI_CHROMIUM} || '/usr/bin/chromium';
plan skip_all => 'web/dist is not built (contrib/dev/build-web)' unless -f "$ROOT/web/dist/index.html";
plan skip_all => 'web/node_modules is missing (contrib/dev/build-web)' unless -d "$ROOT/web/node_modules/playwright-core";
plan skip_all => "no browser at $CHROMIUM (apt-get install chromium)" unless -x $CHROMIUM;
plan skip_all => 'node is not installed' unless grep { -x "$_/node" } split /:/, $ENV{PATH} // '';

$ENV{DANDI_WEB_ROOT} = "$ROOT/web/dist";
# web_origin: the app also served from a second origin (cross-origin.spec.mjs).
my $t = DandiTest->new(s3 => 1, workers => 2, web_origin => 1);
my $token = $t->admin_token;

my $tap = do {
	local $ENV{DANDI_URL} = $t->web_url;
	local $ENV{DANDI_WEB_ORIGIN} = $t->web_origin;
	local $ENV{DANDI_TOKEN} = $token;
	local $ENV{DANDI_WEB_SHOTS} = $t->dir . '/screenshots';
	local $ENV{DANDI_CHROMIUM} = $CHROMIUM;
	# After seeding, the browser tests record the statistics the home page
	# shows, as the stats timer would.
	local %ENV = (%ENV, %{ $t->env });
	local $ENV{DANDI_STATS_CMD} = DandiTest::build() . '/src/dandi-jobs stats';
	# The publish tests run the queued jobs and the validation sweep.
	local $ENV{DANDI_JOBS_CMD} = DandiTest::build() . '/src/dandi-jobs';
	open(my $fh, '-|', 'node', "$ROOT/t/web/run") or die "node t/web/run: $!";
	my @lines = <$fh>;
	close $fh;
	{ lines => \@lines, status => $? };
};

subtest 'browser tests (t/web/run)' => sub {
	my ($planned, $seen, $failing) = (undef, 0, 0);
	for (@{ $tap->{lines} }) {
		chomp;
		if (/^(not )?ok \d+ - (.*)$/) {
			$seen++;
			$failing = !!$1;
			ok(!$1, $2);
		} elsif (/^1\.\.(\d+)(.*)$/) {
			$planned = $1;
			if ($1 == 0) { note("t/web/run: $2"); }
		} elsif (/^#\s?(.*)$/) {
			# What a failed browser test said shows without prove -v.
			$failing ? diag($1) : note($1);
		} elsif (length) {
			$failing ? diag("t/web/run: $_") : note("t/web/run: $_");
		}
	}
	ok(defined $planned, 't/web/run printed a plan');
	is($seen, $planned // -1, 'every planned browser test ran');
	is($tap->{status}, 0, 't/web/run exited 0');
};

done_testing;
