# contrib/dev/jobs-loop, the local stack's stand-in for the production
# timers: it runs dandi-jobs on its schedule (a new draft gets validated
# with no manual step, mail leaves the outbox) and stops, with the
# dandi-jobs it runs, when its process group is sent TERM as stack-down
# does.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use DandiTest;

# No S3 here: the loop leaves out what needs it (as stack-up with DANDI_NO_S3).
my $t = DandiTest->new(s3 => 0, workers => 1, env => { DANDI_JOBS_TICK => 1, DANDI_NO_S3 => 1 });
$t->{env}{DANDI_MAIL_SPOOL} = $t->dir . '/mail';
mkdir $t->{env}{DANDI_MAIL_SPOOL};
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
sub one { my @r = $t->psql($_[0]); $r[0][0] }

my $id = $t->post('/api/dandisets/', { name => 'Loop', metadata => {} }, token => $alice)->{json}{identifier};
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{status}, 'Pending', 'a new draft is Pending');
# A mail in the outbox (as an owner change or a registration writes one).
$t->psql("SELECT dandi_mail('someone\@example.org', 'Hello', 'A message for the outbox.')");

my $log = $t->dir . '/jobs.log';
my $pid = fork // die;
if ($pid == 0) {
	%ENV = (%ENV, %{ $t->env });
	POSIX::setsid();
	open(STDOUT, '>>', $log);
	open(STDERR, '>&', \*STDOUT);
	# The settings come from the environment (DANDI_*); the file is empty.
	exec(DandiTest::root() . '/contrib/dev/jobs-loop', '/dev/null', DandiTest::build() . '/src/dandi-jobs')
	    or POSIX::_exit(127);
}

my $status;
for (1 .. 100) {
	$status = $t->get("/api/dandisets/$id/versions/draft/info/")->{json}{status};
	last if $status ne 'Pending';
	sleep 0.1;
}
isnt($status, 'Pending', "the loop validates the draft by itself ($status)");
my $sent;
for (1 .. 100) {
	last if ($sent = one("SELECT count(*) FROM emails WHERE sent IS NOT NULL")) > 0;
	sleep 0.1;
}
is($sent, 1, 'and sends the outbox');
my @spooled = glob($t->{env}{DANDI_MAIL_SPOOL} . '/*');
is(scalar @spooled, 1, 'into the spool directory');
ok(kill(0, $pid), 'the loop keeps running');
# Its first round (the daily commands too) ends with gc.
my $text = '';
for (1 .. 100) {
	open(my $fh, '<', $log) or die;
	$text = do { local $/; <$fh> };
	last if $text =~ /dandi-jobs gc \(exit \d+\)/;
	sleep 0.1;
}
like($text, qr/dandi-jobs gc \(exit 0\)/, 'its first round ran the daily commands');
unlike($text, qr/\(exit [1-9]/, 'no dandi-jobs command failed') or diag($text);

# stack-down: TERM to the process group.
my $t0 = time;
kill 'TERM', -$pid;
my $gone = 0;
for (1 .. 100) {
	if (waitpid($pid, WNOHANG) == $pid) { $gone = 1; last }
	sleep 0.05;
}
ok($gone, sprintf('TERM to its process group stops it (%.1f s)', time - $t0));
# (A zombie waiting for its reaper is not running.)
my $left = join '', grep { !/^\s*Z/ } `ps -o stat=,args= -g $pid 2>/dev/null`;
is($left, '', 'nothing of the group is left running');

done_testing;
