# The asset-list page cache (src/api/pagecache.c, page_cache_dir): a page
# rendered once is sent by nginx as a file, byte for byte the rendered
# answer with the same headers a client reads (ETag, CORS, Vary, type);
# never a stale page after a write; the read rules hold on every hit;
# old states are removed.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice');
my $bob = $t->user('bob');
my $cache = $t->env->{DANDI_PAGE_CACHE_DIR};
ok($cache, 'the tests run with a page cache');
sub one { my @r = $t->psql(@_); $r[0][0] }

my $id = $t->post('/api/dandisets/', { name => 'Cached', metadata => {} }, token => $alice)->{json}{identifier};
my $A = "/api/dandisets/$id/versions/draft/assets/";
my $vid = one("SELECT id FROM versions WHERE dandiset_id = $id AND version = 'draft'");
my @blob;
for my $i (1 .. 3) {
	my $u = sprintf '%08d-0000-4000-8000-%012d', $i, 70 + $i;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $i) . "-1', " . (10 * $i) . ")");
	push @blob, $u;
}
my @assets;
for my $i (1 .. 5) {
	my $r = $t->post($A, { blob_id => $blob[$i % 3], metadata => { path => "dir$i/f$i.txt" } }, token => $alice);
	is($r->{status}, 200, "asset $i added");
	push @assets, $r->{json};
}
my $origin = $t->web_url;
my %h = (headers => { Origin => $origin });
sub state_of { $_[0]{headers}{'x-dandi-page-cache'} // '(none)' }

# --- after writes: rendered for every request until the fold -------------
my $first = "${A}?page_size=2";
my $b1 = $t->get($first, %h);
is($b1->{status}, 200, 'page 1');
is(state_of($b1), 'bypass', 'writes not folded yet: rendered, not cached');
is($t->get($first, %h)->{headers}{'x-dandi-page-cache'}, 'bypass', '... each time');

like($t->jobs('fold-paths'), qr/^folded [1-9]/m, 'the fold');
my $miss = $t->get($first, %h);
is(state_of($miss), 'miss', 'after the fold: a miss renders and stores');
my $hit = $t->get($first, %h);
is(state_of($hit), 'hit', 'then a hit');
is($hit->{body}, $b1->{body}, 'the hit is byte for byte the rendered page');
is($miss->{body}, $b1->{body}, 'and so is the miss');
for my $hname (qw(content-type etag access-control-allow-origin access-control-allow-credentials vary)) {
	is($hit->{headers}{$hname}, $miss->{headers}{$hname}, "$hname: the hit's is the rendered answer's");
}
is($hit->{headers}{'access-control-allow-origin'}, $origin, 'CORS for the web app on a hit');
like($hit->{headers}{etag} // '', qr{^W/"[0-9a-f]{32}"$}, "the API's weak ETag");
ok(!defined $hit->{headers}{'x-accel-redirect'}, 'the internal redirect does not reach the client');
my $nm = $t->get($first, headers => { Origin => $origin, 'If-None-Match' => $hit->{headers}{etag} });
is_deeply([ $nm->{status}, $nm->{body}, state_of($nm) ], [ 304, '', 'hit' ], 'If-None-Match on a hit: 304');
my $head = $t->request('HEAD', $first);
is_deeply([ $head->{status}, $head->{body} ], [ 200, '' ], 'HEAD of a cached page');

# The walk by next links: each page once rendered, then from the cache.
sub walk {
	my ($url) = @_;
	my (@paths, @states);
	while ($url) {
		my $r = $t->get($url);
		return ([ "status $r->{status}" ], []) unless $r->{status} == 200;
		push @paths, map { $_->{path} } @{ $r->{json}{results} };
		push @states, state_of($r);
		$url = $r->{json}{next};
		$url =~ s{^\Q${\ $t->api_url }\E}{} if $url;
	}
	return (\@paths, \@states);
}
my ($p1, $s1) = walk("${A}?page_size=2");
my ($p2, $s2) = walk("${A}?page_size=2");
is_deeply($p1, [ map { "dir$_/f$_.txt" } 1 .. 5 ], 'the walk sees every asset in order');
is_deeply($p2, $p1, 'and a second walk the same');
is_deeply($s2, [ ('hit') x 3 ], 'the second walk comes from the cache');

# --- a write is never hidden by the cache ---------------------------------
my $put = $t->put("$A$assets[1]{asset_id}/", { blob_id => $blob[0], metadata => { path => 'dir2/renamed.txt' } },
    token => $alice);
is($put->{status}, 200, 'PUT');
my ($p3, $s3) = walk("${A}?page_size=2");
ok((grep { $_ eq 'dir2/renamed.txt' } @$p3) && !(grep { $_ eq 'dir2/f2.txt' } @$p3),
    'right after the write: the new state');
is_deeply($s3, [ ('bypass') x 3 ], 'rendered while the write is not folded');
$t->jobs('fold-paths');
my ($p4, $s4) = walk("${A}?page_size=2");
is_deeply([ $p4, $s4 ], [ $p3, [ ('miss') x 3 ] ], 'after the fold: a new state, rendered once');
is_deeply((walk("${A}?page_size=2"))[1], [ ('hit') x 3 ], 'then cached');
my $del = $t->delete("$A$assets[0]{asset_id}/", token => $alice);
is($del->{status}, 204, 'DELETE');
my ($p5) = walk("${A}?page_size=2");
ok(!(grep { $_ eq 'dir1/f1.txt' } @$p5) && @$p5 == 4, 'the removed asset is gone at once');

# --- old states go ---------------------------------------------------------
$t->jobs('fold-paths');
walk("${A}?page_size=2");
opendir(my $dh, "$cache/$vid") or die "$cache/$vid: $!";
my @states = sort grep { /^\d+$/ } readdir $dh;
closedir $dh;
ok(@states >= 1 && @states <= 2, "at most the current and the previous state are kept (@states)");

# --- the read rules hold on every hit --------------------------------------
my $eid = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $alice)
    ->{json}{identifier};
my $E = "/api/dandisets/$eid/versions/draft/assets/";
is($t->post($E, { blob_id => $blob[2], metadata => { path => 'secret.txt' } }, token => $alice)->{status}, 200,
    'embargoed: the owner adds');
$t->jobs('fold-paths');
is(state_of($t->get($E, token => $alice)), 'miss', 'the owner renders the page');
my $own = $t->get($E, token => $alice);
is_deeply([ $own->{status}, state_of($own) ], [ 200, 'hit' ], 'and reads it from the cache');
is($t->get($E)->{status}, 401, 'anonymous: 401, never the cached page');
my $stranger = $t->get($E, token => $bob);
is_deeply([ $stranger->{status}, $stranger->{body} =~ /secret/ ? 'leak' : 'none' ], [ 403, 'none' ],
    'a stranger: 403');

# --- filters, other orders, metadata are not cached -------------------------
for my $q ('?metadata=1', '?order=path', '?path=dir', '?glob=*.txt') {
	ok(!defined $t->get("$A$q")->{headers}{'x-dandi-page-cache'}, "$q: not cached");
}
is($t->get("${A}?cursor=bad")->{status}, 400, 'a bad cursor: 400');
is($t->get("${A}?cursor=bad")->{status}, 400, '... again (errors are not stored)');

# --- no cache directory to write: the page is still served --------------------
$t->psql("UPDATE versions SET paths_folded = paths_folded + 1000 WHERE id = $vid");
chmod 0500, "$cache/$vid";
my $ro = $t->get("${A}?page_size=2");
SKIP: {
	skip 'root writes through mode 0500', 1 if $> == 0;
	is_deeply([ $ro->{status}, state_of($ro) ], [ 200, 'miss' ], 'unwritable: rendered, the error only logged');
}
is($ro->{status}, 200, 'the page is served');
chmod 0755, "$cache/$vid";

done_testing;
