# Embargo end dates kept (issue 21): the limit the creation allowed is
# stored; owners move the end date with PUT /api/dandisets/{id}/embargo/
# (within it, never to today or before; clear errors otherwise) and the
# draft's metadata follows; `dandi-jobs embargo-ends --today D` reminds
# every owner 30 and 7 days before, once per end date even when run twice
# or on two hosts at once, again after the date is moved; on the end date it
# queues the unembargo (the S3 objects become public) but not of a dandiset
# whose date was extended, nor of one with an upload in progress; the
# dashboard lists the upcoming ends.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use POSIX ();
use JSON::PP ();
use DandiTest;
use Upload ();

my $t = DandiTest->new(s3 => 1);
my $API = $t->api_url;
my $olive = $t->user('olive', first => 'Olive', last => 'Owner', email => 'olive@example.org');
my $oscar = $t->user('oscar', first => 'Oscar', last => 'Other', email => 'oscar@example.org');
my $bob = $t->user('bob', email => 'bob@example.org');
my $admin = $t->admin_token;
sub one { my @r = $t->psql($_[0]); return $r[0][0] }
# Today (UTC, as the API and the job count) plus n days.
sub day { one("SELECT ((now() AT TIME ZONE 'UTC')::date + ($_[0])::int)::text") }
sub tags { $t->s3_tags($_[0]) }
sub create {
	my ($name, $query, $token) = @_;
	my $r = $t->post("/api/dandisets/?embargo=true$query", { name => $name, metadata => {} }, token => $token // $olive);
	die "create: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my $E = day(100);
my $A = create('Alpha', "&embargo_end_date=$E");
my $B = create('Beta', "&embargo_end_date=$E");
my $F = create('Funded', "&embargo_end_date=$E&funding_source=NIH&award_number=R01-1");
is($t->put("/api/dandisets/$A/users/", [ { username => 'olive' }, { username => 'oscar' } ], token => $olive)->{status},
    200, 'Alpha has two owners');
$t->psql('DELETE FROM emails');	# the owners-added mail

# --- the limit, kept from the creation -------------------------------------------
is(one("SELECT embargo_end_limit::text FROM dandisets WHERE id = $A"), day(730), 'limit: 2 years after creation');
is(one("SELECT embargo_end_limit::text FROM dandisets WHERE id = $F"), day(1825), 'with an award: 5 years');
my $open = $t->post('/api/dandisets/', { name => 'Open', metadata => {} }, token => $olive)->{json}{identifier};
is(one("SELECT embargo_end_limit IS NULL FROM dandisets WHERE id = $open"), 't', 'an open dandiset: none');
my $r = $t->post('/api/dandisets/?embargo=true&embargo_end_date=' . substr(day(400), 0, 4) . '-02-30', { name => 'x',
    metadata => {} }, token => $olive);
is_deeply([ $r->{status}, $r->{json} ], [ 400, { embargo_end_date =>
    [ 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.' ] } ],
    'creation with a day February does not have: the field error (not a database error)');

# --- GET and PUT /api/dandisets/{id}/embargo/ --------------------------------------
$r = $t->get("/api/dandisets/$A/embargo/", token => $olive);
is_deeply([ $r->{status}, $r->{json} ], [ 200, { embargo_status => 'EMBARGOED', embargoedUntil => $E,
    earliest => day(1), latest => day(730) } ], 'GET: the date and the range an owner may choose');
is_deeply($t->get("/api/dandisets/$open/embargo/", token => $olive)->{json},
    { embargo_status => 'OPEN', embargoedUntil => undef, earliest => undef, latest => undef }, 'GET on an open one');

my $PUT = "/api/dandisets/$A/embargo/";
my %bad = (
	'missing field' => [ {}, { embargoedUntil => [ 'This field is required.' ] } ],
	'null' => [ { embargoedUntil => undef }, { embargoedUntil => [ 'This field is required.' ] } ],
	'a number' => [ { embargoedUntil => 20270101 },
	    { embargoedUntil => [ 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.' ] } ],
	'no such day' => [ { embargoedUntil => substr(day(400), 0, 4) . '-02-30' },
	    { embargoedUntil => [ 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.' ] } ],
	'a time too' => [ { embargoedUntil => day(50) . 'T00:00:00' },
	    { embargoedUntil => [ 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.' ] } ],
	'yesterday' => [ { embargoedUntil => day(-1) }, { embargoedUntil => [ 'The embargo end date must be after'
	    . ' today (' . day(1) . ' at the earliest); to end the embargo now, unembargo the dandiset.' ] } ],
	'today' => [ { embargoedUntil => day(0) }, { embargoedUntil => [ 'The embargo end date must be after'
	    . ' today (' . day(1) . ' at the earliest); to end the embargo now, unembargo the dandiset.' ] } ],
	'beyond the limit' => [ { embargoedUntil => day(731) }, { embargoedUntil => [ 'The embargo end date can be '
	    . day(730) . " at the latest (2 years after the dandiset's creation, 5 years with a funding source and"
	    . ' award).' ] } ],
	'a list' => [ [ $E ], { non_field_errors => [ 'Invalid data. Expected a dictionary, but got list.' ] } ],
);
for my $what (sort keys %bad) {
	$r = $t->put($PUT, $bad{$what}[0], token => $olive);
	is_deeply([ $r->{status}, $r->{json} ], [ 400, $bad{$what}[1] ], "PUT, $what: 400 with the reason");
}
$r = $t->request('PUT', $PUT, body => 'not json', headers => { 'Content-Type' => 'application/json' },
    token => $olive);
is($r->{status}, 400, 'PUT, not JSON: 400');
like($r->{json}{detail} // '', qr/^JSON parse error/, '... JSON parse error');
is(one("SELECT embargo_end_date::text FROM dandisets WHERE id = $A"), $E, 'refused: the date is unchanged');
$r = $t->put("/api/dandisets/$open/embargo/", { embargoedUntil => day(10) }, token => $olive);
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'Dandiset not embargoed' ], 'PUT on an open dandiset: 400');
$r = $t->put($PUT, { embargoedUntil => day(10) }, token => $bob);
is_deeply([ $r->{status}, $r->{json}{detail} ], [ 403, 'You do not have permission to perform this action.' ],
    'PUT by a non-owner: 403 (the embargo read rule speaks first)');
$r = $t->put("/api/dandisets/$open/embargo/", { embargoedUntil => day(10) }, token => $bob);
is_deeply([ $r->{status}, $r->{body} ], [ 403, '' ], "on an open one, the owners' empty 403");
is($t->put($PUT, { embargoedUntil => day(10) })->{status}, 401, 'PUT anonymous: 401');
is($t->put('/api/dandisets/999999/embargo/', { embargoedUntil => day(10) }, token => $olive)->{status}, 404,
    'PUT on no dandiset: 404');
$r = $t->put("/api/dandisets/$F/embargo/", { embargoedUntil => day(1825) }, token => $olive);
is_deeply([ $r->{status}, $r->{json}{embargoedUntil} ], [ 200, day(1825) ], 'funded: up to 5 years');

# Beta is extended by ten days (its reminders below follow the new date).
my $E10 = day(110);
$t->psql("UPDATE versions SET status = 'Valid' WHERE dandiset_id = $B");
$r = $t->put("/api/dandisets/$B/embargo/", { embargoedUntil => $E10 }, token => $olive);
is_deeply([ $r->{status}, $r->{json} ], [ 200, { embargo_status => 'EMBARGOED', embargoedUntil => $E10,
    earliest => day(1), latest => day(730) } ], 'PUT: 200, the new date');
is(one("SELECT embargo_end_date::text FROM dandisets WHERE id = $B"), $E10, 'stored');
my $md = $t->get("/api/dandisets/$B/versions/draft/", token => $olive)->{json};
is_deeply($md->{access}, [ { schemaKey => 'AccessRequirements', status => 'dandi:EmbargoedAccess',
    embargoedUntil => $E10 } ], "the draft's metadata: access embargoedUntil");
is(one("SELECT status FROM versions WHERE dandiset_id = $B"), 'Pending', 'the draft is validated again');
is_deeply([ $t->psql("SELECT username, details->>'old', details->>'new' FROM audit_records"
    . " WHERE dandiset_id = $B AND record_type = 'update_embargo_end_date'") ], [ [ 'olive', $E, $E10 ] ], 'audited');
# An edit of the metadata by the owner keeps the new date (vmeta puts the stored one).
$md->{name} = 'Beta';
is($t->put("/api/dandisets/$B/versions/draft/", { name => 'Beta', metadata => $md }, token => $olive)->{status}, 200,
    'a metadata edit');
is($t->get("/api/dandisets/$B/versions/draft/", token => $olive)->{json}{access}[0]{embargoedUntil}, $E10,
    '... keeps the new date');
is($t->put("/api/dandisets/$B/embargo/", { embargoedUntil => $E10 }, token => $admin)->{status}, 200,
    'an admin may too (same date: nothing changes)');

# --- reminders ------------------------------------------------------------------------
my $JOB_RE = qr/^embargo reminders: (\d+) mail\(s\) queued$/m;
sub remind {
	my ($today) = @_;
	my $out = $t->jobs('embargo-ends', '--today', $today);
	return $out =~ $JOB_RE ? $1 : "no count in: $out";
}
# [to, subject, body] of the reminders of a dandiset, in id order.
sub reminders {
	my ($id) = @_;
	return map { [ $_->[0], $_->[1], JSON::PP->new->decode($_->[2]) ] } $t->psql(
	    "SELECT array_to_string(to_addrs, ','), subject, to_json(body) FROM emails"
	    . " WHERE subject LIKE 'DANDI: the embargo of Dandiset ' || lpad('$id', 6, '0') || '%' ORDER BY id");
}
sub ddiff { one("SELECT ('$_[0]'::date + ($_[1])::int)::text") }

my ($jout, $jerr, $jrc) = $t->run_cmd(DandiTest::build() . '/src/dandi-jobs', 'embargo-ends', '--today', '2027-02-30');
is($jrc, 2, '--today with no such day: usage (exit 2)');
like($jerr, qr/^usage: dandi-jobs embargo-ends \[--today YYYY-MM-DD\]$/m, '... saying it');
is(remind(ddiff($E, -31)), 0, '31 days before: no reminder');
is(remind(ddiff($E, -30)), 2, '30 days before: one mail per owner of Alpha (Beta and Funded were moved later)');
my @a = reminders($A);
is_deeply([ map { $_->[0] } @a ], [ 'olive@example.org', 'oscar@example.org' ], 'Alpha: each owner, one mail each');
my $a6 = sprintf '%06d', $A;
is($a[0][1], "DANDI: the embargo of Dandiset $a6 ends on $E", 'subject: the dandiset and the date');
like($a[0][2], qr/^Hello Olive Owner,\n/, 'addressed to the owner');
like($a[0][2], qr/Dandiset $a6, "Alpha", ends on $E \(in 30 days\)/, 'body: the date');
like($a[0][2], qr/to ${\ day(730)} at the latest/, 'body: how far it may be moved');
like($a[0][2], qr{PUT \Q$API\E/api/dandisets/$a6/embargo/ with \{"embargoedUntil": "YYYY-MM-DD"\}},
    'body: how to extend with the API');
like($a[0][2], qr{\n\Q${\ $t->web_url}\E/dandiset/$a6\n$}, 'body: the link');
is(remind(ddiff($E, -30)), 0, 'the same day again: nothing');
is(remind(ddiff($E, -20)), 1, "20 days before Alpha's end: Beta's 30-day reminder for its new date");
is(scalar(reminders($B)), 1, '... one, to its owner');
like((reminders($B))[0][1], qr/ends on $E10$/, '... with the new date');
is(remind(ddiff($E, -8)), 0, '8 days before: nothing');

# Two hosts at the same moment, on the 7-day day: each owner gets one mail.
my @pids;
for (1 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $out = $t->jobs('embargo-ends', '--today', ddiff($E, -7));
		POSIX::_exit($out =~ $JOB_RE ? 0 : 1);
	}
	push @pids, $pid;
}
waitpid($_, 0) == $_ && is($? >> 8, 0, 'a concurrent run succeeded') for @pids;
@a = reminders($A);
is_deeply([ map { $_->[0] } @a[2 .. $#a] ], [ 'olive@example.org', 'oscar@example.org' ],
    '7 days before, two runs at once: one mail to each owner');
like($a[2][2], qr/ends on $E \(in 7 days\)/, '... saying 7 days');
is(remind(ddiff($E, -7)), 0, 'again that day: nothing');
is(remind(ddiff($E, -3)), 0, '3 days before: nothing more');
is_deeply([ $t->psql("SELECT days_before, end_date::text, mails FROM embargo_reminders WHERE dandiset_id = $A"
    . ' ORDER BY days_before DESC') ], [ [ 30, $E, 2 ], [ 7, $E, 2 ] ], 'recorded once each');

# A date first seen within 7 days: only the 7-day reminder.
my $D = create('Delta', '&embargo_end_date=' . day(5));
is(remind(day(0)), 1, 'ends in 5 days: one mail, the 7-day one');
like((reminders($D))[0][2], qr/ends on ${\ day(5)} \(in 5 days\)/, '... saying 5 days');
is(remind(ddiff(day(5), -1)), 0, 'the day before: nothing more (its 7-day one is sent)');
is_deeply([ map { $_->[0] } $t->psql("SELECT days_before FROM embargo_reminders WHERE dandiset_id = $D") ], [ 7 ],
    '... only that one');

# --- the dashboard ---------------------------------------------------------------------
$r = $t->get('/dashboard/', token => $admin);
is($r->{status}, 200, 'dashboard');
my ($section) = $r->{body} =~ m{<section id="embargo-ends">(.*?)</section>}s;
ok(defined $section, 'it has the embargo ends section');
my @rows = ($section // '') =~ m{<tr><td><a href="[^"]*/dandiset/(\d{6})">}g;
is_deeply(\@rows, [ sprintf('%06d', $D) ], 'it lists Delta (5 days), not the later ones nor the ended');
like($section // '', qr{<td>Delta</td><td>${\ day(5)}</td><td>5</td><td>olive</td><td>7 days</td>},
    'name, date, days left, owners, reminders sent');

is($t->delete("/api/dandisets/$D/", token => $olive)->{status}, 204, 'Delta deleted (it would end first)');

# --- the end: unembargo of Alpha, not of Beta (extended) ----------------------------------
my $u = Upload::upload($t, $olive, $A, 'embargoed bytes of alpha');
my $key = one("SELECT blob FROM blobs WHERE blob_id = '$u->{blob}{blob_id}'");
my $asset = $t->post("/api/dandisets/$A/versions/draft/assets/", { blob_id => $u->{blob}{blob_id},
    metadata => { path => 'data/alpha.nwb' } }, token => $olive)->{json};
is(tags($key), 'embargoed=true', "Alpha's object is tagged embargoed");
is($t->get("/api/assets/$asset->{asset_id}/download/")->{status}, 401, 'anonymous download: refused');
# Gamma ends the same day but has an upload in progress: it waits.
my $G = create('Gamma', "&embargo_end_date=$E");
my $init = $t->post('/api/uploads/initialize/', { contentSize => 5, dandiset => $G,
    digest => { algorithm => 'dandi:dandi-etag', value => Upload::etag_of('12345') } }, token => $olive);
is($init->{status}, 200, 'Gamma: an upload in progress');
$t->psql('DELETE FROM emails');

my $out = $t->jobs('embargo-ends', '--today', ddiff($E, -1));
like($out, qr/^embargo ends: 0 dandiset\(s\) to unembargo$/m, 'the day before: nothing ends');
my $g6 = sprintf '%06d', $G;
$out = $t->jobs('embargo-ends', '--today', $E);
like($out, qr/^embargo ends: 1 dandiset\(s\) to unembargo: $a6 \(ended $E\)$/m, 'the end date: Alpha queued');
like($out, qr/^embargo ends: 1 dandiset\(s\) wait for their uploads: $g6$/m, 'Gamma waits for its upload');
is_deeply([ map { $_->[0] } $t->psql("SELECT embargo_status FROM dandisets WHERE id IN ($A, $B, $G) ORDER BY id") ],
    [ 'UNEMBARGOING', 'EMBARGOED', 'EMBARGOED' ], 'Alpha UNEMBARGOING; Beta (extended) and Gamma still embargoed');
like($t->jobs('embargo-ends', '--today', $E), qr/^embargo ends: 0 dandiset\(s\) to unembargo$/m,
    'again: nothing more queued');
is(one("SELECT count(*) FROM jobs WHERE kind = 'unembargo'"), 1, 'one unembargo job');
like($t->jobs('run', '--no-validate'), qr/^\d+ job\(s\) worked/m, 'dandi-jobs run (the upload\'s sha256 too)');
is(one("SELECT state FROM jobs WHERE kind = 'unembargo'"), 'done', 'the unembargo job is done');
is(one("SELECT embargo_status FROM dandisets WHERE id = $A"), 'OPEN', 'Alpha is OPEN');
is(one("SELECT embargoed FROM blobs WHERE blob_id = '$u->{blob}{blob_id}'"), 'f', 'its blob is public');
is(tags($key), '', 'its S3 object lost the embargoed tag');
is($t->get("/api/assets/$asset->{asset_id}/download/")->{status}, 302, 'anonymous download: 302');
is_deeply([ $t->psql("SELECT username, details->>'embargo_end_date' FROM audit_records WHERE dandiset_id = $A"
    . " AND record_type = 'unembargo_dandiset'") ], [ [ 'dandi-jobs', $E ] ], 'audited as the end date\'s');
is_deeply([ map { $_->[0] } $t->psql("SELECT array_to_string(to_addrs, ',') FROM emails"
    . " WHERE subject = 'Your Dandiset has been unembargoed!'") ], [ 'olive@example.org,oscar@example.org' ],
    'the owners hear of it');
is($t->put($PUT, { embargoedUntil => day(10) }, token => $olive)->{json}, 'Dandiset not embargoed',
    'PUT after the end: not embargoed');

# Gamma, once its upload is gone, ends the next day the job runs.
is($t->delete("/api/dandisets/$G/uploads/", token => $olive)->{status}, 204, "Gamma's upload cleared");
like($t->jobs('embargo-ends', '--today', ddiff($E, 1)), qr/^embargo ends: 1 dandiset\(s\) to unembargo: $g6 /m,
    'Gamma: queued the next day');

# Beta: the 7-day reminder of its new date, then its end.
is(remind(ddiff($E10, -7)), 1, 'Beta, 7 days before its new date: its reminder');
like($t->jobs('embargo-ends', '--today', $E10), qr/^embargo ends: 1 dandiset\(s\) to unembargo: ${\ sprintf '%06d', $B} /m,
    'Beta ends on its new date');

# PUT during the unembargo: refused.
$r = $t->put("/api/dandisets/$B/embargo/", { embargoedUntil => day(200) }, token => $olive);
is_deeply([ $r->{status}, $r->{json} ], [ 400, 'Dandiset modification not allowed during unembargo' ],
    'PUT while unembargoing: 400');

done_testing();
