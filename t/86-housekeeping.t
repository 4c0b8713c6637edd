# Housekeeping beyond publish: unembargo (API + job: S3 tags off, blobs
# public, dandiset OPEN, owners mailed, audited; a failing run retried,
# then given up with a mail, then retried by hand), the daily mail of the
# users waiting for approval, the e-mail outbox (spool directory and SMTP),
# and the archive statistics.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);
use JSON::PP ();
use DandiTest;
use Upload ();

my $t = DandiTest->new(s3 => 1, env => { DANDI_ADMIN_EMAIL => 'admin@archive.example' });
my $spool = $t->dir . '/mail';
$t->env->{DANDI_MAIL_SPOOL} = $spool;
my $owner = $t->user('olive', first => 'Olive', last => 'Owner', email => 'olive@example.org');
my $bob = $t->user('bob', first => 'Bob', last => 'B', email => 'bob@example.org');
sub one { my @r = $t->psql($_[0]); return $r[0][0] }
sub tags { $t->s3_tags($_[0]) }
sub spooled { opendir(my $d, $spool) or return (); map { local $/; open my $f, '<', "$spool/$_"; scalar <$f> }
	sort grep { /\.eml$/ } readdir $d }

# --- stats before anything -------------------------------------------------------
is_deeply($t->get('/api/stats/')->{json}, { dandiset_count => 0, published_dandiset_count => 0, user_count => 0,
    size => 0 }, 'stats before the first run: zeros');

# --- an embargoed dandiset with a file ----------------------------------------
my $id = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $owner)->{json}{identifier};
my $u = Upload::upload($t, $owner, $id, 'embargoed bytes');
ok($u->{blob}, 'uploaded into the embargoed dandiset');
my $key = one("SELECT blob FROM blobs WHERE blob_id = '$u->{blob}{blob_id}'");
is(tags($key), 'embargoed=true', 'the object is tagged embargoed');
my $asset = $t->post("/api/dandisets/$id/versions/draft/assets/", { blob_id => $u->{blob}{blob_id},
    metadata => { path => 'data/secret.nwb' } }, token => $owner)->{json};
is($t->get("/api/assets/$asset->{asset_id}/download/")->{status}, 401, 'anonymous download: refused (401)');

# --- unembargo: refusals --------------------------------------------------------------
my $U = "/api/dandisets/$id/unembargo/";
my $init = $t->post('/api/uploads/initialize/', { contentSize => 5, dandiset => $id,
    digest => { algorithm => 'dandi:dandi-etag', value => Upload::etag_of('12345') } }, token => $owner);
is($init->{status}, 200, 'an upload in progress');
my $r = $t->post($U, undef, token => $owner);
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'Dandiset unembargo not allowed with active uploads' ],
    'unembargo with an active upload: 400');
is($t->delete("/api/dandisets/$id/uploads/", token => $owner)->{status}, 204, 'uploads cleared');
$r = $t->post($U, undef, token => $bob);
is_deeply([ $r->{status}, $r->{json}{detail} ], [ 403, 'You do not have permission to perform this action.' ],
    'a non-owner: 403 (the embargo rule speaks first)');
is($t->post('/api/dandisets/999999/unembargo/', undef, token => $owner)->{status}, 404, 'unknown dandiset: 404');

# --- unembargo ---------------------------------------------------------------------
$r = $t->post($U, undef, token => $owner);
is_deeply([ $r->{status}, $r->{body} ], [ 200, 'null' ], 'unembargo: 200 null');
is($t->get("/api/dandisets/$id/", token => $owner)->{json}{embargo_status}, 'UNEMBARGOING', 'UNEMBARGOING');
is_deeply([ @{ $t->post($U, undef, token => $owner) }{qw(status body)} ], [ 400, '"Dandiset not embargoed"' ],
    'a second request: 400 not embargoed');
is_deeply($t->put("/api/dandisets/$id/versions/draft/", { name => 'x', metadata => {} }, token => $owner)->{json},
    'Dandiset modification not allowed during unembargo', 'metadata edits blocked meanwhile');

# A run that cannot reach S3 fails and is retried later; the job's last
# attempt gives up with a mail and waits in 'failed' for an admin.
my $good = $t->env->{DANDI_S3_ENDPOINT};
$t->env->{DANDI_S3_ENDPOINT} = 'http://127.0.0.1:' . DandiTest::free_port();
$t->psql("UPDATE jobs SET max_attempts = 2 WHERE kind = 'unembargo'");
$t->jobs('run', '--no-validate') for 1 .. 1;
is_deeply([ $t->psql("SELECT state, attempts FROM jobs WHERE kind = 'unembargo'") ], [ [ 'queued', 1 ] ],
    'S3 down: the job waits for its retry');
$t->psql("UPDATE jobs SET run_after = now() WHERE kind = 'unembargo'");
$t->jobs('run', '--no-validate');
my ($job, $state) = @{ ($t->psql("SELECT id, state FROM jobs WHERE kind = 'unembargo'"))[0] };
is($state, 'failed', 'after its last attempt: failed, visible');
is(one("SELECT embargo_status FROM dandisets WHERE id = $id"), 'UNEMBARGOING', 'the dandiset stays UNEMBARGOING');
like(one("SELECT subject FROM emails ORDER BY id DESC LIMIT 1"), qr/^DANDI: Unembargo failed for dandiset 0*$id$/,
    'owners get the failure mail');
$t->env->{DANDI_S3_ENDPOINT} = $good;
$t->jobs('retry', $job);
like($t->jobs('run', '--no-validate'), qr/^1 job\(s\) worked/m, 'retried by hand: done');
is(one("SELECT embargo_status FROM dandisets WHERE id = $id"), 'OPEN', 'the dandiset is OPEN');
is(one("SELECT embargo_end_date = current_date FROM dandisets WHERE id = $id"), 't', 'end date: today (as the original)');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$u->{blob}{blob_id}'"), 'f', 'the blob is public');
is(tags($key), '', 'its embargoed tag is gone');
is($t->get("/api/assets/$asset->{asset_id}/download/")->{status}, 302, 'anonymous download: 302');
is(one("SELECT record_type FROM audit_records WHERE dandiset_id = $id ORDER BY id DESC LIMIT 1"), 'unembargo_dandiset',
    'audited');
is($t->post($U, undef, token => $owner)->{json}, 'Dandiset not embargoed', 'unembargo again: 400');
like($t->jobs('run', '--no-validate'), qr/^0 job\(s\) worked/m, 'nothing left to do');

# --- owners change mail --------------------------------------------------------------
is($t->put("/api/dandisets/$id/users/", [ { username => 'olive' }, { username => 'bob' } ], token => $owner)->{status},
    200, 'bob added as owner');
is($t->put("/api/dandisets/$id/users/", [ { username => 'bob' } ], token => $owner)->{status}, 200, 'olive removed');

# --- the daily mail of the users waiting for approval ------------------------------
my $PU = 'DANDI: new user registrations to review';
# [to, body] of each (the body as JSON: psql's output is a line per row).
sub pending_mails { map { [ $_->[0], JSON::PP->new->decode($_->[1]) ] }
	$t->psql("SELECT array_to_string(to_addrs, ','), to_json(body) FROM emails WHERE subject = '$PU' ORDER BY id") }
like($t->jobs('pending-users-mail'), qr/^pending users: none$/m, 'nobody waits: no mail');
is(scalar(pending_mails()), 0, '... none queued');
is(one('SELECT count(*) FROM pending_users_mails'), 0, '... and the day stays unclaimed');
$t->user($_->[0], email => "$_->[0]\@example.org", status => $_->[1])
    for [ 'ann', 'PENDING' ], [ 'zed', 'PENDING' ], [ 'ivy', 'INCOMPLETE' ], [ 'rex', 'REJECTED' ];
$t->psql("UPDATE users SET date_joined = '2026-03-04 05:06:07+00' WHERE username = 'zed'");
# Three hosts at once, for certain: a session holds a lock on the table
# until all three runs wait behind it, then goes (terminated), and they
# race for the day; one mail, the others find the day taken.
my $THIS_DB = 'l.database = (SELECT oid FROM pg_database WHERE datname = current_database())';
sub table_locks {
	my ($granted) = @_;
	# (pg_locks covers the whole cluster, which other test files share.)
	return one("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
	    . " WHERE c.relname = 'pending_users_mails' AND l.granted = $granted AND $THIS_DB"
	    . ($granted eq 'true' ? " AND l.mode = 'ExclusiveLock'" : ''));
}
sub wait_for { my ($what, $want) = @_; for (1 .. 600) { return 1 if $what->() == $want; sleep 0.05 } return 0 }
my $holder = fork // die;
if ($holder == 0) {
	eval { $t->psql('BEGIN; LOCK TABLE pending_users_mails IN EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT') };
	POSIX::_exit(0);
}
ok(wait_for(sub { table_locks('true') }, 1), 'a session holds the table');
my @runs;
for my $i (1 .. 3) {
	my $pid = fork // die;
	if ($pid == 0) {
		my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/src/dandi-jobs', 'pending-users-mail');
		open(my $f, '>', $t->dir . "/pu.$i") or die;
		print $f "$rc $out$err";
		close $f;
		POSIX::_exit(0);
	}
	push @runs, $pid;
}
ok(wait_for(sub { table_locks('false') }, 3), 'three runs wait behind it');
$t->psql("SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
    . " WHERE c.relname = 'pending_users_mails' AND l.granted AND l.mode = 'ExclusiveLock' AND $THIS_DB");
waitpid($_, 0) for $holder, @runs;
my @outs = map { local $/; open my $f, '<', $t->dir . "/pu.$_" or die; scalar <$f> } 1 .. 3;
is_deeply([ sort map { /^0 pending users: (\d+, mail queued to \S+|already mailed today)$/m ? $1 : $_ } @outs ],
    [ '2, mail queued to admin@archive.example', 'already mailed today', 'already mailed today' ],
    'three runs at once: one queues the mail, two find the day taken');
my @pm = pending_mails();
is(scalar @pm, 1, 'one mail');
is($pm[0][0], 'admin@archive.example', 'to the admins (admin_email)');
my $base = $t->api_url;
my $ann_joined = one("SELECT to_char(date_joined AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM users WHERE username = 'ann'");
is($pm[0][1], "These new DANDI users are waiting for approval:\n"
    . "\nUsername: zed\nE-mail: zed\@example.org\nJoined: 2026-03-04 05:06 UTC\nApprove or reject: $base/dashboard/user/zed/\n"
    . "\nUsername: ann\nE-mail: ann\@example.org\nJoined: $ann_joined UTC\nApprove or reject: $base/dashboard/user/ann/\n",
    'it lists the PENDING users, longest waiting first, with their approval pages (not the INCOMPLETE or REJECTED)');
like($t->jobs('pending-users-mail'), qr/^pending users: already mailed today$/m, 'a later run that day: nothing');
is(scalar(pending_mails()), 1, '... still one mail');
$t->psql('UPDATE pending_users_mails SET day = day - 1');
like($t->jobs('pending-users-mail'), qr/^pending users: 2, mail queued/m, 'the next day: a new mail');
is(scalar(pending_mails()), 2, '... two in all');

# --- the outbox, to the spool ----------------------------------------------------------
my $queued = one("SELECT count(*) FROM emails WHERE sent IS NULL");
like($t->jobs('mail'), qr/^$queued mail\(s\) sent, 0 failed/m, "dandi-jobs mail sends the $queued queued");
my @mails = spooled();
is(scalar @mails, $queued, 'one spool file per message');
my %by = map { (/^Subject: (.*?)\r$/m)[0] => $_ } @mails;
ok($by{'Your Dandiset has been unembargoed!'}, 'unembargo mail') and
    like($by{'Your Dandiset has been unembargoed!'}, qr/^To: olive\@example\.org\r$/m, '... to the owner');
like($by{'Added to Dandiset "Secret"'} // '', qr/^To: bob\@example\.org\r\n.*You have been added to the owners of Dandiset 0*$id/ms,
    'bob: added');
like($by{'Removed from Dandiset "Secret"'} // '', qr/^To: olive\@example\.org\r$/m, 'olive: removed');
like($mails[0], qr/^From: DANDI Archive <dandi\@localhost>\r$/m, 'From as configured');
like($by{$PU} // '', qr/^To: admin\@archive\.example\r$/m, 'the pending-users mail goes to the admins');
like($t->jobs('mail'), qr/^0 mail\(s\) sent/m, 'a second run sends nothing again');
is(scalar(spooled()), $queued, '... and writes nothing new');

# --- the outbox, over SMTP (a fake server on loopback) ---------------------------------
my $smtp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, ReuseAddr => 1) or die;
my $slog = $t->dir . '/smtp.log';
my $spid = fork // die;
if ($spid == 0) {
	while (my $c = $smtp->accept) {
		$c->autoflush(1);
		print $c "220 fake ESMTP\r\n";
		my $data = 0;
		open(my $lf, '>>', $slog);
		while (defined(my $l = <$c>)) {
			print $lf $l;
			if ($data) { if ($l eq ".\r\n") { $data = 0; print $c "250 queued\r\n" } next }
			if ($l =~ /^(EHLO|HELO)/i) { print $c "250 fake\r\n" }
			elsif ($l =~ /^DATA/i) { $data = 1; print $c "354 go\r\n" }
			elsif ($l =~ /^QUIT/i) { print $c "221 bye\r\n"; last }
			else { print $c "250 ok\r\n" }
		}
		close $lf;
		close $c;
	}
	POSIX::_exit(0);
}
$t->psql("SELECT dandi_mail(E'ann\@example.org\\nbob\@example.org', 'Über SMTP', E'line one\\n.\\nline three')");
$t->env->{DANDI_SMTP_URL} = 'smtp://127.0.0.1:' . $smtp->sockport;
like($t->jobs('mail'), qr/^1 mail\(s\) sent, 0 failed/m, 'sent over SMTP');
kill 'TERM', $spid;
waitpid $spid, 0;
my $wire = do { local $/; open my $f, '<', $slog; <$f> } // '';
like($wire, qr/^MAIL FROM:<dandi\@localhost>/m, 'envelope sender');
like($wire, qr/^RCPT TO:<ann\@example\.org>.*^RCPT TO:<bob\@example\.org>/ms, 'both recipients');
like($wire, qr/^Subject: =\?UTF-8\?B\?/m, 'encoded subject');
like($wire, qr/^line one\r\n\.\.\r\nline three\r\n/m, 'a lone dot is stuffed on the wire');
$t->env->{DANDI_SMTP_URL} = 'smtp://127.0.0.1:' . DandiTest::free_port();
$t->psql("SELECT dandi_mail('carl\@example.org', 'later', 'x')");
like($t->_capture('sh', '-c', '"$0" mail; true', DandiTest::build() . '/src/dandi-jobs'), qr/^0 mail\(s\) sent, 1 failed/m,
    'SMTP down: counted as failed');
is_deeply([ $t->psql("SELECT attempts, sent IS NULL, next_try > now() FROM emails WHERE subject = 'later'") ],
    [ [ 1, 't', 't' ] ], '... kept for a later try');

# --- stats ----------------------------------------------------------------------------
like($t->jobs('stats'), qr/^dandisets 1, published 0, users 2, bytes 15$/m, 'dandi-jobs stats');
is_deeply($t->get('/api/stats/')->{json}, { dandiset_count => 1, published_dandiset_count => 0, user_count => 2,
    size => 15 }, 'GET /api/stats/');

done_testing();
