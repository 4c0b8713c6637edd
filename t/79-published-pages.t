# The asset list of a published version, remembered by the workers
# (published_memo_seconds, src/api/perm.c): a published version's pages
# are answered without looking the version up again, so a page cache hit
# needs no database at all (shown with PostgreSQL stopped), while drafts
# and versions a worker has not seen are looked up every time; a
# superuser's deletion of a published version is seen once the memory has
# aged out; embargoed drafts keep their read rule.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);
use DandiTest;

# One worker: what it remembers is what the next request finds.
# own_pg: PostgreSQL is stopped below (the run's shared cluster must stay up).
my $t = DandiTest->new(s3 => 0, workers => 1, own_pg => 1, env => { DANDI_PUBLISHED_MEMO_SECONDS => 600 });
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob');

my $contact = { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
    includeInCitation => JSON::PP::true, schemaKey => 'Person' };
my $md = { description => 'Pages', license => ['spdx:CC-BY-4.0'], contributor => [$contact] };
my $id = $t->post('/api/dandisets/', { name => 'Published pages', metadata => $md }, token => $alice)->{json}{identifier};
my $D = "/api/dandisets/$id";
for my $i (1 .. 5) {
	my $u = sprintf '%08d-7979-4000-8000-000000000000', $i;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $i) . "-1', " . (100 * $i) . ", '" . sprintf('%064x', $i) . "')");
	my $r = $t->post("$D/versions/draft/assets/", { blob_id => $u,
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => "sub-$i/f$i.nwb" } },
	    token => $alice);
	is($r->{status}, 200, "asset $i");
}
$t->jobs('validate');
is($t->get("$D/versions/draft/info/", token => $alice)->{json}{status}, 'Valid', 'the draft is valid');
is($t->post("$D/versions/draft/publish/", undef, token => $alice)->{status}, 202, 'publish');
$t->jobs('run');
my ($v) = map { $_->{version} } grep { $_->{version} ne 'draft' } @{ $t->get("$D/versions/")->{json}{results} };
like($v // '', qr/^0\.\d{6}\.\d{4}$/, "published $v");
$t->jobs('fold-paths');

sub state_of { $_[0]{headers}{'x-dandi-page-cache'} // '(none)' }
# The walk by next links: every answer, in order.
sub walk {
	my ($url, %o) = @_;
	my @answers;
	while ($url) {
		my $r = $t->get($url, %o);
		push @answers, $r;
		last unless $r->{status} == 200;
		$url = $r->{json}{next};
		$url =~ s{^\Q${\ $t->api_url }\E}{} if $url;
	}
	return @answers;
}
sub summary { [ map { [ $_->{status}, state_of($_) ] } @_ ] }

my $P = "$D/versions/$v/assets/?page_size=2";
my @first = walk($P);
is_deeply(summary(@first), [ map { [ 200, 'miss' ] } 1 .. 3 ], 'the published list: each page rendered once');
is_deeply([ map { $_->{path} } map { @{ $_->{json}{results} } } @first ], [ map { "sub-$_/f$_.nwb" } 1 .. 5 ],
    'every asset, in order');
my @second = walk($P);
is_deeply(summary(@second), [ map { [ 200, 'hit' ] } 1 .. 3 ], 'then from the page cache');
is_deeply([ map { $_->{body} } @second ], [ map { $_->{body} } @first ], 'byte for byte');
my @bobs = walk($P, token => $bob);
is_deeply([ map { $_->{body} } @bobs ], [ map { $_->{body} } @first ], 'the same pages for a signed-in user');
my @draft = walk("$D/versions/draft/assets/?page_size=2");
is_deeply(summary(@draft), [ map { [ 200, 'miss' ] } 1 .. 3 ], 'the draft list, rendered once');

# --- remembered: the database is not asked ----------------------------------
$t->stop_pg;
my @down = walk($P);
is_deeply(summary(@down), [ map { [ 200, 'hit' ] } 1 .. 3 ],
    'PostgreSQL stopped: the published pages still come from the cache');
is_deeply([ map { $_->{body} } @down ], [ map { $_->{body} } @first ], '... byte for byte');
my $nm = $t->get($P, headers => { 'If-None-Match' => $first[0]{headers}{etag} });
is_deeply([ $nm->{status}, $nm->{body} ], [ 304, '' ], '... and If-None-Match still answers 304');
is($t->get("$D/versions/draft/assets/?page_size=2")->{status}, 503, 'the draft is looked up each time: 503');
is($t->get("$D/versions/0.000101.0000/assets/?page_size=2")->{status}, 503,
    'a version the worker has not found: looked up, 503');
is($t->get("$D/versions/$v/")->{status}, 503, 'other routes of the version are looked up: 503');
$t->start_pg;
is($t->get($P)->{status}, 200, 'PostgreSQL back');

# --- an embargoed draft keeps its read rule -----------------------------------
my $eid = $t->post('/api/dandisets/?embargo=true', { name => 'Secret', metadata => {} }, token => $alice)
    ->{json}{identifier};
my $E = "/api/dandisets/$eid/versions/draft/assets/";
is($t->get($E, token => $alice)->{status}, 200, 'embargoed: the owner reads');
is($t->get($E)->{status}, 401, 'anonymous: 401');
is($t->get($E, token => $bob)->{status}, 403, 'a stranger: 403');

# --- off: every request looks the version up --------------------------------
sub restart_with {
	my ($seconds) = @_;
	$t->stop_api;
	$t->env->{DANDI_PUBLISHED_MEMO_SECONDS} = $seconds;
	$t->start_api;
}
restart_with(0);
is(state_of($t->get($P)), 'hit', 'published_memo_seconds = 0: a hit');
$t->stop_pg;
is($t->get($P)->{status}, 503, '... looked up every time: 503 with PostgreSQL stopped');
$t->start_pg;

# --- a deleted published version is gone once the memory ages out -----------
restart_with(1);
is(state_of($t->get($P)), 'hit', 'remembered for a second');
is($t->delete("$D/versions/$v/", token => $t->admin_token)->{status}, 204, 'a superuser deletes the published version');
sleep 1.2;
is_deeply([ map { $t->get($P)->{status} } 1 .. 3 ], [ 404, 404, 404 ], 'a second later: 404');

$t->stop_api;
$t->env->{DANDI_PUBLISHED_MEMO_SECONDS} = 3601;
eval { $t->start_api };
like($@, qr/dandi-api exited/, 'published_memo_seconds above an hour: refused at start');

done_testing;
