# Conditional GETs and HEAD, a database restart under a running server, and
# many clients at once.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use POSIX ();
use DandiTest;

# own_pg: it stops and restarts PostgreSQL (the run's shared cluster must stay up).
my $t = DandiTest->new(s3 => 0, workers => 2, own_pg => 1);

my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');
my $bob = $t->user('bob');

sub one { my @r = $t->psql(@_); my $v = $r[0]; ref $v ? $v->[0] : $v }

my $id = $t->post('/api/dandisets/', { name => 'Cached', metadata => {} }, token => $alice)->{json}{identifier};

# --- conditional GET -----------------------------------------------------------

for my $path ("/api/dandisets/$id/", "/api/dandisets/$id/versions/draft/",
    "/api/dandisets/$id/versions/draft/info/", "/api/dandisets/$id/versions/") {
	my $r = $t->get($path);
	my $etag = $r->{headers}{etag};
	like($etag // '', qr{^W/"[0-9a-f]+"$}, "$path: weak ETag");
	is($t->get($path)->{headers}{etag}, $etag, "$path: same body, same ETag");
	my $c = $t->get($path, headers => { 'If-None-Match' => $etag });
	is($c->{status}, 304, "$path: If-None-Match -> 304");
	is($c->{body} // '', '', "$path: 304 has no body");
	is($c->{headers}{etag}, $etag, "$path: 304 repeats the ETag");
	(my $strong = $etag) =~ s{^W/}{};
	is($t->get($path, headers => { 'If-None-Match' => $strong })->{status}, 304, "$path: weak comparison");
	is($t->get($path, headers => { 'If-None-Match' => qq{W/"0000", $etag} })->{status}, 304, "$path: list of tags");
	is($t->get($path, headers => { 'If-None-Match' => '*' })->{status}, 304, "$path: *");
	my $miss = $t->get($path, headers => { 'If-None-Match' => 'W/"0000"' });
	is($miss->{status}, 200, "$path: other tag -> 200");
	is($miss->{body}, $r->{body}, "$path: full body");
	my $h = $t->request('HEAD', $path);
	is($h->{status}, 200, "$path: HEAD");
	is($h->{body} // '', '', "$path: HEAD has no body");
	is($h->{headers}{etag}, $etag, "$path: HEAD has the GET ETag");
	like($h->{headers}{'content-type'} // '', qr{^application/json}, "$path: HEAD content type");
}

# Every response carries Content-Length and varies on Authorization (a
# cache must not serve one user's view to another).
{
	my $h = $t->get("/api/dandisets/$id/")->{headers};
	like($h->{vary} // '', qr/Authorization/, 'responses vary on Authorization');
	is($h->{'content-length'}, length $t->get("/api/dandisets/$id/")->{body}, 'Content-Length is sent');
}

my $path = "/api/dandisets/$id/versions/draft/";
my $etag = $t->get($path)->{headers}{etag};
my $detail_etag = $t->get("/api/dandisets/$id/")->{headers}{etag};
is($t->put($path, { name => 'Changed', metadata => {} }, token => $alice)->{status}, 200, 'change the draft');
my $r = $t->get($path, headers => { 'If-None-Match' => $etag });
is($r->{status}, 200, 'stale ETag after PUT -> 200');
is($r->{json}{name}, 'Changed', 'with the new metadata');
isnt($r->{headers}{etag}, $etag, 'and a new ETag');
isnt($t->get("/api/dandisets/$id/")->{headers}{etag}, $detail_etag, 'detail ETag changed too');
my $unstarred = $t->get("/api/dandisets/$id/", token => $alice)->{headers}{etag};
$t->post("/api/dandisets/$id/star/", undef, token => $alice);
isnt($t->get("/api/dandisets/$id/", token => $alice)->{headers}{etag}, $unstarred, 'starring changes the ETag');

ok(!defined $t->post('/api/dandisets/', { name => 'x', metadata => {} }, token => $alice)->{headers}{etag},
    'no ETag on POST');
$r = $t->get('/api/dandisets/999999/', headers => { 'If-None-Match' => '*' });
is($r->{status}, 404, 'errors ignore If-None-Match');
ok(!defined $r->{headers}{etag}, 'and carry no ETag');
$r = $t->request('HEAD', '/api/dandisets/999999/');
is_deeply([ $r->{status}, $r->{body} // '' ], [ 404, '' ], 'HEAD of a missing dandiset: 404, no body');
$r = $t->request('HEAD', '/robots.txt');
is_deeply([ $r->{status}, $r->{body} // '' ], [ 200, '' ], 'HEAD robots.txt');

# --- database restart -------------------------------------------------------------

my $n = one('SELECT count(*) FROM dandisets');
$t->stop_pg;
for my $i (1 .. 4) {	# reach every worker
	$r = $t->get('/api/dandisets/');
	is($r->{status}, 503, "database down: list 503 ($i)");
	is_deeply($r->{json}, { detail => 'The database is unavailable; try again shortly.',
	    request_id => $r->{headers}{'x-request-id'} }, "database down: detail ($i), with the request id");
}
$r = $t->post('/api/dandisets/', { name => 'x', metadata => {} }, token => $alice);
is($r->{status}, 503, 'database down: authenticated POST 503');
like($r->{headers}{'content-type'} // '', qr{^application/json}, '503 is JSON');
is($t->get('/api/info/')->{status}, 200, 'info needs no database');
$t->start_pg;
for my $i (1 .. 4) {
	is($t->get("/api/dandisets/$id/")->{status}, 200, "database back: detail 200 ($i)");
}
$r = $t->post('/api/dandisets/', { name => 'After restart', metadata => {} }, token => $alice);
is($r->{status}, 200, 'database back: create works');
is(one('SELECT count(*) FROM dandisets'), $n + 1, 'nothing written while down, one row after');

# A restart between requests (not a stop) is also invisible to clients.
$t->restart_pg;
is($t->get("/api/dandisets/$id/", token => $alice)->{status}, 200, 'after restart_pg: authenticated GET');
is($t->put($path, { name => 'Changed again', metadata => {} }, token => $alice)->{status}, 200,
    'after restart_pg: transaction');
is($t->put($path, { name => 'And again', metadata => {} }, token => $alice)->{status}, 200,
    'after restart_pg: another transaction');

# --- concurrent clients ----------------------------------------------------------------

my $clients = 20;
my @kids;
for my $k (1 .. $clients) {
	pipe(my $rd, my $wr) or die "pipe: $!";
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		close $rd;
		my $res = eval {
			my $c = $t->post('/api/dandisets/', { name => "Concurrent $k", metadata => {} }, token => $alice);
			my $cid = $c->{json}{identifier} // '';
			my $g = $t->get("/api/dandisets/$cid/versions/draft/");
			my $s = $t->post("/api/dandisets/$id/star/", undef, token => $k % 2 ? $alice : $bob);
			{ create => $c->{status}, id => $cid, read => $g->{status},
			  name => ($g->{json}{name} // ''), star => $s->{status} };
		} || { error => "$@" };
		print $wr encode_json($res);
		close $wr;
		POSIX::_exit(0);	# skip the harness's teardown in the child
	}
	close $wr;
	push @kids, [ $pid, $rd, $k ];
}
my %ids;
my @bad;
for my $kid (@kids) {
	my ($pid, $rd, $k) = @$kid;
	my $out = do { local $/; <$rd> };
	waitpid($pid, 0);
	my $res = eval { decode_json($out) } || { error => "no result: $out" };
	if (($res->{create} // 0) == 200 && ($res->{read} // 0) == 200 && ($res->{star} // 0) == 200
	    && $res->{name} eq "Concurrent $k") {
		$ids{ $res->{id} }++;
	} else {
		push @bad, encode_json($res);
	}
}
is(scalar @bad, 0, "all $clients clients created and read their dandiset") or diag(join "\n", @bad);
is(scalar keys %ids, $clients, 'every identifier is distinct');
ok(!(grep { !/^\d{6}$/ } keys %ids), 'identifiers are 6 digits');
is(one("SELECT count(*) FROM dandisets WHERE id IN (" . join(',', map { $_ + 0 } keys %ids, 0) . ")"), $clients,
    'all of them are in the database');
is(one("SELECT count(*) FROM versions v JOIN dandisets d ON d.id = v.dandiset_id WHERE v.name LIKE 'Concurrent %'"),
    $clients, 'each with one draft');
is($t->get("/api/dandisets/$id/")->{json}{star_count}, 2, 'concurrent stars from two users count two');
is($t->get('/api/info/')->{status}, 200, 'server fine afterwards');

done_testing;
