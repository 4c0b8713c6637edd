# Group commit of asset writes (write_batch, src/lib/groupcommit.h): 64
# writers at once (POST, PUT, DELETE; contested paths, a file against a
# folder, two writers of one asset, invalid requests), each answer checked
# against what a serial run allows and against the draft afterwards:
# every 200 readable and exact, one winner per contested path, the audit
# record of each write with its own user, totals exact before and after
# the fold. Batches form (the pool's metrics); a leader killed while it
# holds a batch leaves its followers answered 503 and nothing of its batch
# written, and the queue works on; write_batch = 0 answers the same.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 12,
    env => { DANDI_WRITE_BATCH => 16, DANDI_WRITE_BATCH_WAIT_US => 2000 });
my $J = JSON::PP->new->canonical;
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob', first => 'Bob', last => 'Jones');
my $eve = $t->user('eve');
sub one { my @r = $t->psql(@_); $r[0][0] }

my $id = $t->post('/api/dandisets/', { name => 'Batch', metadata => {} }, token => $alice)->{json}{identifier};
is($t->put("/api/dandisets/$id/users/", [ { username => 'alice' }, { username => 'bob' } ], token => $alice)->{status},
    200, 'bob is an owner too');
my $A = "/api/dandisets/$id/versions/draft/assets/";
my $vid = one("SELECT v.id FROM versions v WHERE v.dandiset_id = ${id}::int AND v.version = 'draft'");
my %user_of = ($alice => 'alice', $bob => 'bob');

my @blob;
for my $i (1 .. 6) {
	my $u = sprintf '%08d-0000-4000-8000-%012d', $i + 70, $i;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$u', 'blobs/$u', '"
	    . sprintf('%032x', $i) . "-1', " . (100 * $i) . ")");
	push @blob, $u;
}
sub add { my ($path, $b, $tok) = @_;
	$t->post($A, { blob_id => $b // $blob[0], metadata => { path => $path } }, token => $tok // $alice) }

sub metric {
	my ($name) = @_;
	my $body = $t->get('/metrics')->{body} // '';
	return $body =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

# Runs the jobs (each a sub returning a request's answer) in children
# started together; returns their answers, in order.
sub crowd {
	my @jobs = @_;
	my $dir = $t->dir . '/crowd';
	mkdir $dir;
	unlink glob "$dir/*";
	my $go = time + 1.5;
	my @pids;
	for my $k (0 .. $#jobs) {
		my $pid = fork // die;
		if ($pid == 0) {
			my $d = $go - time;
			sleep($d) if $d > 0;
			my $r = $jobs[$k]->();
			open(my $fh, '>', "$dir/$k") or POSIX::_exit(1);
			print $fh $J->encode({ status => $r->{status}, body => $r->{body} // '' });
			close $fh;
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}
	waitpid($_, 0) for @pids;
	my @out;
	for my $k (0 .. $#jobs) {
		open(my $fh, '<', "$dir/$k") or do { push @out, { status => 0, body => '' }; next };
		local $/;
		push @out, $J->decode(<$fh>);
	}
	return @out;
}

my $NOT_FOUND = '{"detail":"Not found."}';
my $EXISTS = '"An asset with that path already exists"';

# One round of 64 writers; every answer checked. Returns the number of
# problems found (each also reported as a failed test).
sub round {
	my ($tag) = @_;
	my (@jobs, @want);
	# Assets to replace and remove, written beforehand (serially).
	my @base = map { add("base-$tag/a$_.nwb", $blob[ $_ % 6 ], $_ % 2 ? $alice : $bob)->{json} } 0 .. 23;
	# 16 new paths: all 200, each by its own user.
	for my $k (0 .. 15) {
		my $tok = $k % 2 ? $alice : $bob;
		push @jobs, sub { add("new-$tag/d" . ($k % 4) . "/f$k.nwb", $blob[ $k % 6 ], $tok) };
		push @want, { kind => 'new', path => "new-$tag/d" . ($k % 4) . "/f$k.nwb", user => $tok };
	}
	# 8 writers of one path: one 200, seven 409.
	for my $k (0 .. 7) {
		push @jobs, sub { add("hot-$tag.nwb", $blob[ $k % 6 ]) };
		push @want, { kind => 'hot' };
	}
	# A file against the folder at its path: one side wins.
	push @jobs, sub { add("clash-$tag", $blob[1]) };
	push @want, { kind => 'clash-file' };
	for my $k (0 .. 2) {
		push @jobs, sub { add("clash-$tag/x$k.nwb", $blob[2]) };
		push @want, { kind => 'clash-inner' };
	}
	# 8 PUTs of distinct assets: all 200.
	for my $k (0 .. 7) {
		my $x = $base[$k];
		push @jobs, sub { $t->put("$A$x->{asset_id}/", { blob_id => $blob[3], metadata => { path => "put-$tag/p$k.nwb" } },
		    token => $bob) };
		push @want, { kind => 'put', path => "put-$tag/p$k.nwb", old => $x->{asset_id}, user => $bob };
	}
	# 4 assets each replaced by two PUTs at once: one 200, one 404.
	for my $k (8 .. 11) {
		my $x = $base[$k];
		for my $j (0 .. 1) {
			push @jobs, sub { $t->put("$A$x->{asset_id}/", { blob_id => $blob[4], metadata => { path => "twice-$tag/p$k-$j.nwb" } },
			    token => $alice) };
			push @want, { kind => 'twice', group => $k, old => $x->{asset_id} };
		}
	}
	# 8 DELETEs: all 204.
	for my $k (12 .. 19) {
		my $x = $base[$k];
		push @jobs, sub { $t->delete("$A$x->{asset_id}/", token => $k % 2 ? $alice : $bob) };
		push @want, { kind => 'delete', old => $x->{asset_id}, user => $k % 2 ? $alice : $bob };
	}
	# A DELETE against a PUT of one asset: one of them.
	for my $k (20 .. 21) {
		my $x = $base[$k];
		push @jobs, sub { $t->delete("$A$x->{asset_id}/", token => $alice) };
		push @want, { kind => 'delput-delete', group => $k, old => $x->{asset_id} };
		push @jobs, sub { $t->put("$A$x->{asset_id}/", { blob_id => $blob[5], metadata => { path => "dp-$tag/p$k.nwb" } },
		    token => $alice) };
		push @want, { kind => 'delput-put', group => $k, old => $x->{asset_id} };
	}
	# Refused: unknown blob, an existing path, a bad path, an unknown
	# asset, a non-owner, a body without metadata.
	push @jobs, sub { add("bad-$tag/x.nwb", '99999999-0000-4000-8000-000000000000') };
	push @want, { kind => 'refused', status => 404, body => $NOT_FOUND };
	push @jobs, sub { add("base-$tag/a22.nwb", $blob[0]) };
	push @want, { kind => 'refused', status => 409, body => $EXISTS };
	push @jobs, sub { add("/abs-$tag.nwb", $blob[0]) };
	push @want, { kind => 'refused', status => 400, body => '{"non_field_errors":["Path must not begin with /"]}' };
	push @jobs, sub { $t->put("${A}99999999-0000-4000-8000-000000000000/", { blob_id => $blob[0], metadata => { path => "z-$tag" } },
	    token => $alice) };
	push @want, { kind => 'refused', status => 404, body => $NOT_FOUND };
	push @jobs, sub { add("eve-$tag.nwb", $blob[0], $eve) };
	push @want, { kind => 'refused', status => 403, body => '' };
	push @jobs, sub { $t->post($A, { blob_id => $blob[0] }, token => $alice) };
	push @want, { kind => 'refused', status => 400, body => '{"metadata":["This field is required."]}' };
	# A conflict with the files below a folder, the message listing them.
	push @jobs, sub { add("base-$tag", $blob[0]) };
	push @want, { kind => 'refused', status => 409, body => $J->encode('Path of new asset "base-' . $tag
	    . '" conflicts with existing assets: [' . join(', ', map { "'base-$tag/a$_.nwb'" } sort { "a$a.nwb" cmp "a$b.nwb" } 0 .. 23) . ']') };
	# (deletes of this round may shrink the list: checked loosely below)
	$want[-1]{loose} = 1;
	while (@jobs < 64) {
		my $k = @jobs;
		push @jobs, sub { add("fill-$tag/f$k.nwb", $blob[ $k % 6 ]) };
		push @want, { kind => 'new', path => "fill-$tag/f$k.nwb", user => $alice };
	}

	my @got = crowd(@jobs);
	my $bad = 0;
	my $fail = sub { $bad++; fail("$tag: $_[0]") };
	my (%group, $hot200, $hot409, $file, @inner);
	for my $k (0 .. $#jobs) {
		my ($w, $g) = ($want[$k], $got[$k]);
		my $j = eval { decode_json($g->{body}) };
		if ($w->{kind} eq 'new' || $w->{kind} eq 'put') {
			$fail->("$w->{kind} $w->{path}: $g->{status} $g->{body}"), next if $g->{status} != 200;
			check_written($tag, $w, $g, $fail);
		} elsif ($w->{kind} eq 'hot') {
			$hot200++ if $g->{status} == 200;
			$hot409++ if $g->{status} == 409 && $g->{body} eq $EXISTS;
			check_written($tag, { path => "hot-$tag.nwb", user => $alice }, $g, $fail) if $g->{status} == 200;
		} elsif ($w->{kind} eq 'clash-file') {
			$file = $g->{status};
		} elsif ($w->{kind} eq 'clash-inner') {
			push @inner, $g->{status};
		} elsif ($w->{kind} eq 'twice' || $w->{kind} =~ /^delput/) {
			push @{ $group{"$w->{kind}$w->{group}" =~ s/-(put|delete)//r} }, [ $w, $g ];
		} elsif ($w->{kind} eq 'delete') {
			$fail->("delete: $g->{status} $g->{body}") if $g->{status} != 204 || $g->{body} ne '';
			$fail->("deleted asset still in the draft") if one("SELECT count(*) FROM asset_versions av JOIN assets a"
			    . " ON a.id = av.asset_id WHERE av.version_id = $vid AND a.asset_id = '$w->{old}'") != 0;
			$fail->("remove_asset audit") if one("SELECT count(*) FROM audit_records WHERE record_type = 'remove_asset'"
			    . " AND details->>'asset_id' = '$w->{old}' AND username = '$user_of{$w->{user}}'") != 1;
		} elsif ($w->{kind} eq 'refused') {
			my $ok = $g->{status} == $w->{status} && ($w->{loose} ? $g->{body} =~ /^"Path of new asset \\"base-\Q$tag\E\\" conflicts/
			    : $g->{body} eq $w->{body});
			$fail->("refused: want $w->{status} $w->{body}, got $g->{status} $g->{body}") unless $ok;
		}
	}
	$fail->("one path, 8 writers: $hot200 x 200, $hot409 x 409") unless ($hot200 // 0) == 1 && ($hot409 // 0) == 7;
	my $file_won = $file == 200 && !grep { $_ != 409 } @inner;
	my $folder_won = $file == 409 && !grep { $_ != 200 } @inner;
	$fail->("file against folder: file $file, inner @inner") unless $file_won || $folder_won;
	for my $pair (values %group) {
		my @s = sort map { $_->[1]{status} } @$pair;
		my $twice = $pair->[0][0]{kind} eq 'twice';
		my $ok = $twice ? "@s" eq '200 404' : ("@s" eq '204 404' || "@s" eq '200 404');
		$fail->("two writers of one asset: @s") unless $ok;
		for (@$pair) {
			my ($w, $g) = @$_;
			$fail->("404 body $g->{body}") if $g->{status} == 404 && $g->{body} ne $NOT_FOUND;
		}
	}
	# The draft as a serial run leaves it.
	my $dups = one("SELECT count(*) FROM (SELECT a.path FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	    . " WHERE av.version_id = $vid GROUP BY a.path HAVING count(*) > 1) d");
	$fail->("$dups paths with two assets") if $dups;
	my $under = one("SELECT count(*) FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	    . " JOIN asset_versions av2 ON av2.version_id = av.version_id JOIN assets b ON b.id = av2.asset_id"
	    . " WHERE av.version_id = $vid AND b.path LIKE a.path || '/%'");
	$fail->("$under files below a file") if $under;
	my $truth = one("SELECT count(*) FROM asset_versions WHERE version_id = $vid");
	my $live = $t->get("/api/dandisets/$id/versions/draft/info/")->{json}{asset_count};
	$fail->("live count $live, assets $truth") if $live != $truth;
	my $folders = $t->get("${A}paths/?path_prefix=new-$tag")->{json}{results};
	my ($nf) = grep { $_->{path} eq "new-$tag" } @{ $t->get("${A}paths/")->{json}{results} };
	$fail->("folder new-$tag counts " . ($nf ? $nf->{aggregate_files} : 'nothing')) unless $nf && $nf->{aggregate_files} == 16;
	return $bad;
}

# A 200 answer: the asset is in the draft, read back the same, with its
# audit record under the user who wrote it.
sub check_written {
	my ($tag, $w, $g, $fail) = @_;
	my $j = eval { decode_json($g->{body}) } or return $fail->("not JSON: $g->{body}");
	$fail->("path $j->{path}, want $w->{path}") if $j->{path} ne $w->{path};
	my $info = $t->get("$A$j->{asset_id}/info/", token => $alice);
	$fail->("info of $w->{path} differs from the write's answer:\n$g->{body}\n$info->{body}")
	    if $info->{status} != 200 || $info->{body} ne $g->{body};
	my $type = $w->{old} ? 'update_asset' : 'add_asset';
	my $who = one("SELECT string_agg(username || ' ' || user_fullname, ',') FROM audit_records"
	    . " WHERE record_type = '$type' AND details->>'asset_id' = '$j->{asset_id}'");
	my $user = $user_of{ $w->{user} // $alice };
	my $full = $user eq 'alice' ? 'Alice Smith' : 'Bob Jones';
	$fail->("audit of $w->{path}: " . ($who // 'none')) if ($who // '') ne "$user $full";
	if ($w->{old}) {
		$fail->("replaced asset still in the draft") if one("SELECT count(*) FROM asset_versions av JOIN assets a"
		    . " ON a.id = av.asset_id WHERE av.version_id = $vid AND a.asset_id = '$w->{old}'") != 0;
	}
}

# --- batching on --------------------------------------------------------------

my $bad = 0;
$bad += round($_) for qw(r1 r2 r3);
is($bad, 0, 'three rounds of 64 writers: every answer one a serial run allows, the draft consistent');
my ($batches, $items) = (metric('dandi_api_write_batch_size_count'), metric('dandi_api_write_batch_size_sum'));
ok(defined $batches && $batches > 0, "batches counted ($batches batches, " . ($items // 0) . ' writes)');
cmp_ok($items // 0, '>', $batches // 0, 'several writes a transaction: batches formed');
# Batches of one are lone writers; some held more.
my $single = metric('dandi_api_write_batch_size_bucket{le="1"}');
cmp_ok($single // 0, '<', $batches, 'not every batch a single write') if defined $batches;

$t->jobs('fold-paths');
is(one("SELECT aggregate_files FROM asset_paths WHERE version_id = $vid AND path = 'new-r1'"), 16,
    'a folder\'s stored total after the fold');
is($t->get("/api/dandisets/$id/versions/draft/info/")->{json}{asset_count},
    one("SELECT count(*) FROM asset_versions WHERE version_id = $vid"), 'the version\'s count after the fold');

# A lone writer does not wait: its write alone, at once.
my $b0 = metric('dandi_api_write_batch_size_count');
my $t0 = time;
is(add('alone.nwb')->{status}, 200, 'a lone write');
is(metric('dandi_api_write_batch_size_count'), $b0 + 1, 'a batch of its own');
is(metric('dandi_api_write_batch_size_bucket{le="1"}'), $single + 1, 'of one write');

# The same refusals answered with batching on and off, byte for byte.
sub refusals {
	my ($tag) = @_;
	return map { my $r = $_; "$r->{status} $r->{body}" }
	    add("base-r1/a22.nwb"), add("base-r1"), add("x-$tag.nwb", '99999999-0000-4000-8000-000000000000'),
	    $t->put("${A}99999999-0000-4000-8000-000000000000/", { blob_id => $blob[0], metadata => { path => 'y' } }, token => $alice),
	    $t->delete("${A}99999999-0000-4000-8000-000000000000/", token => $alice),
	    add("eve.nwb", $blob[0], $eve), add('base-r1/a22.nwb/under.nwb');
}
my @on = refusals('on');

# --- a leader killed while it holds a batch ------------------------------------

$t->stop_api;
my $hold = $t->dir . '/leader.pid';
$t->{env}{DANDI_TEST_GC_LEADER_HOLD} = $hold;
$t->start_api;
my ($killed, @k) = (0);
for my $try (1 .. 6) {
	my $dir = $t->dir . '/kill';
	mkdir $dir;
	my @pids;
	my $go = time + 1;
	for my $k (0 .. 15) {
		my $pid = fork // die;
		if ($pid == 0) {
			my $d = $go - time;
			sleep($d) if $d > 0;
			my $r = add("kill$try/f$k.nwb", $blob[ $k % 6 ]);
			open(my $fh, '>', "$dir/$try-$k") or POSIX::_exit(1);
			print $fh "$r->{status} $r->{body}";
			close $fh;
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}
	my $until = time + 15;
	sleep 0.05 until -s $hold || time > $until;
	if (-s $hold && !$killed) {
		open(my $fh, '<', $hold) or die;
		chomp(my $pid = <$fh>);
		sleep 0.3;	# its followers wait for it
		$killed = kill 'KILL', $pid;
	}
	waitpid($_, 0) for @pids;
	for my $k (0 .. 15) {
		open(my $fh, '<', "$dir/$try-$k") or next;
		my ($s, $body) = split / /, <$fh>, 2;
		push @k, [ "kill$try/f$k.nwb", $s, $body ];
	}
	last if $killed;
}
ok($killed, 'a leader holding a batch was killed');
my @failed = grep { $_->[1] != 200 } @k;
cmp_ok(scalar(@failed), '>=', 2, 'its batch failed: ' . join(', ', map { $_->[1] } @failed));
is(scalar(grep { $_->[1] != 200 && $_->[1] != 502 && $_->[1] != 503 } @k), 0,
    'every write answered 200, or 503 (its leader died; nginx\'s for the leader\'s own client)');
is(scalar(grep { $_->[1] == 503 && $_->[2] !~ /^\{"detail":"The (database|API) is unavailable; try again shortly\."/ } @k), 0,
    'the 503s with their JSON detail');
my $wrong = 0;
for (@k) {
	my $in = one("SELECT count(*) FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	    . " WHERE av.version_id = $vid AND a.path = '$_->[0]'");
	$wrong++ if $in != ($_->[1] == 200 ? 1 : 0);
}
is($wrong, 0, 'the 200s written, nothing of the killed batch (it died before its commit)');
ok(metric('dandi_api_write_batch_orphaned_total') >= 1, 'the orphaned writes counted');
ok(defined metric('dandi_api_write_batch_retried_total'), 'writes given back by their batch are counted too');
unlink $hold;
$bad = round('r4');
is($bad, 0, 'after the kill: 64 writers again, all answered as before');

# --- batching off -------------------------------------------------------------

$t->stop_api;
delete $t->{env}{DANDI_TEST_GC_LEADER_HOLD};
$t->{env}{DANDI_WRITE_BATCH} = 0;
$t->start_api;
$bad = round('r5');
is($bad, 0, 'write_batch = 0: 64 writers, every answer as a serial run allows');
is(metric('dandi_api_write_batch_size_count'), 0, 'and no batches');
is_deeply([ refusals('off') ], \@on, 'refusals byte for byte the same with batching on and off');

done_testing;
