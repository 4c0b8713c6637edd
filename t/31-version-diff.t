# What changed between two versions (issue 21): GET
# /api/dandisets/{id}/versions/{a}/diff/{b}/. Two published versions (the
# real publish: validation sweep, publish job) between which assets were
# renamed, replaced (same path, new bytes), given new metadata, added and
# removed, and the metadata edited (a nested field changed, list items
# added, a key removed, a key added); the answer exact in both directions
# (every path and value, the asset sides checked against the versions'
# own asset lists and metadata), its pages complete and stable by next
# links and by page numbers, draft against a published version, errors,
# and the read rule of an embargoed dandiset.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use JSON::Validator::Schema::OpenAPIv3;
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith');
my $bob = $t->user('bob');
my $JSON = JSON::PP->new->canonical;

my $alice_c = { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
    includeInCitation => JSON::PP::true, schemaKey => 'Person' };
my $md1 = { description => 'Recordings', license => ['spdx:CC-BY-4.0'], contributor => [$alice_c],
    keywords => ['ephys'], acknowledgement => 'Thanks to the lab' };
my $id = $t->post('/api/dandisets/', { name => 'Diffed', metadata => $md1 }, token => $alice)->{json}{identifier};
ok($id, "dandiset $id");
my $D = "/api/dandisets/$id";

my $nblob = 0;
sub blob {
	my ($size) = @_;
	my $u = sprintf '%08d-2222-4000-8000-000000000000', ++$nblob;
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$u', 'blobs/x/$u', '"
	    . sprintf('%032x', $nblob) . "-1', $size, '" . sprintf('%064x', $nblob) . "')");
	return $u;
}
sub amd { my ($path, %m) = @_; { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => $path, %m } }
sub add {
	my ($path, $blob, %m) = @_;
	my $r = $t->post("$D/versions/draft/assets/", { blob_id => $blob, metadata => amd($path, %m) }, token => $alice);
	die "add $path: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
sub replace {
	my ($old, $path, $blob, %m) = @_;
	my $r = $t->put("$D/versions/draft/assets/$old->{asset_id}/", { blob_id => $blob, metadata => amd($path, %m) },
	    token => $alice);
	die "replace $old->{path}: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
sub publish {
	$t->jobs('validate');
	my $info = $t->get("$D/versions/draft/info/", token => $alice)->{json};
	is($info->{status}, 'Valid', 'draft validated') or diag($JSON->encode($info->{version_validation_errors}));
	my $r = $t->post("$D/versions/draft/publish/", undef, token => $alice);
	is($r->{status}, 202, 'publish');
	$t->jobs('run');
	my @v = sort map { $_->{version} } grep { $_->{version} ne 'draft' } @{ $t->get("$D/versions/")->{json}{results} };
	return $v[-1];
}

# --- version 1 ---------------------------------------------------------------
my %b = (moved => blob(100), replaced => blob(200), gone => blob(300), meta => blob(400), keep => blob(500));
my %a1 = (
	keep => add('keep.nwb', $b{keep}),
	moved => add('moved/old.nwb', $b{moved}),
	replaced => add('replace.nwb', $b{replaced}),
	gone => add('gone.nwb', $b{gone}),
	meta => add('meta.nwb', $b{meta}, description => 'first'),
);
my $v1 = publish();
like($v1, qr/^0\.\d{6}\.\d{4}$/, "published $v1");

# --- version 2: every kind of change -------------------------------------------
my $bob_c = { name => 'Jones, Bob', roleName => ['dcite:Author'], includeInCitation => JSON::PP::true,
    schemaKey => 'Person' };
my $md2 = { schemaKey => 'Dandiset', description => 'Recordings of mice', license => ['spdx:CC-BY-4.0'],
    contributor => [ { %$alice_c, email => 'alice@lab.example.org' }, $bob_c ],
    keywords => ['ephys', 'mouse'], studyTarget => ['memory'] };
is($t->put("$D/versions/draft/", { name => 'Diffed', metadata => $md2 }, token => $alice)->{status}, 200,
    'metadata edited');
$b{new} = blob(1000);
$b{added} = blob(50);
my %a2 = (
	moved => replace($a1{moved}, 'moved/new.nwb', $b{moved}),
	replaced => replace($a1{replaced}, 'replace.nwb', $b{new}),
	meta => replace($a1{meta}, 'meta.nwb', $b{meta}, description => 'second'),
	added => add('added.nwb', $b{added}),
);
is($t->delete("$D/versions/draft/assets/$a1{gone}{asset_id}/", token => $alice)->{status}, 204, 'gone.nwb removed');
my $v2 = publish();
isnt($v2, $v1, "published $v2");

# What each version says itself: its metadata, and each asset's list object
# and metadata (the digest a client compares).
sub version_md { $t->get("$D/versions/$_[0]/")->{json} }
sub side {
	my ($v, $path) = @_;
	my $l = $t->get("$D/versions/$v/assets/?path=" . $path)->{json}{results};
	my ($a) = grep { $_->{path} eq $path } @$l or die "no $path in $v";
	my $m = $t->get("$D/versions/$v/assets/$a->{asset_id}/")->{json};
	return { asset_id => $a->{asset_id}, path => $a->{path}, size => $a->{size}, blob => $a->{blob},
	    zarr => $a->{zarr}, digest => $m->{digest} };
}
my ($m1, $m2) = (version_md($v1), version_md($v2));
is($m2->{assetsSummary}{numberOfFiles}, $m1->{assetsSummary}{numberOfFiles}, 'as many files in both');
isnt($m2->{assetsSummary}{numberOfBytes}, $m1->{assetsSummary}{numberOfBytes}, 'but not as many bytes');
my @ignored = qw(id version url doi citation manifestLocation datePublished publishedBy dateModified releaseNotes);

my %meta12 = (
	added => [
		{ path => '/contributor/1', value => $bob_c },
		{ path => '/keywords/1', value => 'mouse' },
		{ path => '/studyTarget', value => ['memory'] },
	],
	removed => [ { path => '/acknowledgement', value => 'Thanks to the lab' } ],
	changed => [
		{ path => '/assetsSummary/numberOfBytes', old => $m1->{assetsSummary}{numberOfBytes},
		  new => $m2->{assetsSummary}{numberOfBytes} },
		{ path => '/contributor/0/email', old => 'alice@example.org', new => 'alice@lab.example.org' },
		{ path => '/description', old => 'Recordings', new => 'Recordings of mice' },
	],
	ignored => \@ignored,
);
my @assets12 = (
	{ type => 'added', path => 'added.nwb', old => undef, new => side($v2, 'added.nwb'), changed => undef },
	{ type => 'removed', path => 'gone.nwb', old => side($v1, 'gone.nwb'), new => undef, changed => undef },
	{ type => 'modified', path => 'meta.nwb', old => side($v1, 'meta.nwb'), new => side($v2, 'meta.nwb'),
	  changed => ['metadata'] },
	{ type => 'renamed', path => 'moved/new.nwb', old => side($v1, 'moved/old.nwb'), new => side($v2, 'moved/new.nwb'),
	  changed => undef },
	{ type => 'modified', path => 'replace.nwb', old => side($v1, 'replace.nwb'), new => side($v2, 'replace.nwb'),
	  changed => ['content'] },
);
is($assets12[0]{new}{digest}{'dandi:dandi-etag'}, sprintf('%032x-1', 7), 'the added file\'s digest is its blob\'s etag');
is($assets12[4]{new}{size}, 1000, 'the replacement\'s size');

# Sorted as the answer is: metadata entries by path, assets by path.
sub norm_meta {
	my ($m) = @_;
	return { map { ($_ => $_ eq 'ignored' ? $m->{$_} : [ sort { $a->{path} cmp $b->{path} } @{ $m->{$_} } ]) } keys %$m };
}
sub reverse_meta {
	my ($m) = @_;
	return { added => $m->{removed}, removed => $m->{added}, ignored => $m->{ignored},
	    changed => [ map { { path => $_->{old_path} // $_->{path}, old => $_->{new}, new => $_->{old},
		(exists $_->{old_path} ? (old_path => $_->{path}) : ()) } } @{ $m->{changed} } ] };
}
sub reverse_asset {
	my ($e) = @_;
	my %r = (%$e, old => $e->{new}, new => $e->{old});
	$r{type} = { added => 'removed', removed => 'added' }->{ $e->{type} } // $e->{type};
	$r{path} = $e->{old}{path} if $e->{type} eq 'renamed';
	return \%r;
}
my @assets21 = sort { $a->{path} cmp $b->{path} } map { reverse_asset($_) } @assets12;
my %sum12 = (added => 1, removed => 1, modified => 2, renamed => 1);
my %sum21 = (%sum12, added => 1, removed => 1);

sub check_diff {
	my ($from, $to, $meta, $assets, $sum, $what) = @_;
	my $r = $t->get("$D/versions/$from/diff/$to/");
	is($r->{status}, 200, "$what: 200") or diag($r->{body});
	my $j = $r->{json};
	is_deeply([ $j->{from}, $j->{to} ], [ $from, $to ], "$what: from and to");
	is_deeply(norm_meta($j->{metadata}), norm_meta($meta), "$what: metadata exact")
	    or diag($JSON->encode($j->{metadata}));
	is_deeply($j->{results}, $assets, "$what: assets exact, in path order") or diag($JSON->encode($j->{results}));
	is_deeply($j->{summary}, $sum, "$what: summary");
	is($j->{count}, scalar @$assets, "$what: count");
	is_deeply([ $j->{next}, $j->{previous} ], [ undef, undef ], "$what: one page");
	return $j;
}
check_diff($v1, $v2, \%meta12, \@assets12, \%sum12, "$v1 -> $v2");
check_diff($v2, $v1, reverse_meta(\%meta12), \@assets21, \%sum21, "$v2 -> $v1");

# --- the counts kept ------------------------------------------------------------------
# Two published versions never change: the first page's counts are counted
# once per direction, then kept (version_diff_counts), the same answer.
sub counts {
	my ($from, $to, $what) = @_;
	my $r = $t->get("$D/versions/$from/diff/$to/");
	is($r->{status}, 200, "$what: 200") or diag($r->{body});
	return ($r->{headers}{'x-dandi-diff-counts'} // '', $r->{json}{summary}, $r->{json}{count}, $r->{json});
}
for my $p ([ $v1, $v2, \%sum12 ], [ $v2, $v1, \%sum21 ]) {
	my ($from, $to, $sum) = @$p;
	my ($how, $s, $n, $j) = counts($from, $to, "$from -> $to again");
	is($how, 'kept', "$from -> $to again: the counts kept");
	is_deeply([ $s, $n ], [ $sum, 5 ], "$from -> $to again: the same counts");
	is_deeply($j->{results}, $from eq $v1 ? \@assets12 : \@assets21, "$from -> $to again: the same changes");
}
# Without the counts (?count=false): the same changes, summary and count
# null, nothing counted; a malformed value is refused.
{
	my $r = $t->get("$D/versions/$v1/diff/$v2/?count=false");
	is_deeply([ @{ $r->{json} }{qw(summary count results)} ], [ undef, undef, \@assets12 ], 'count=false: no counts');
	ok(!exists $r->{headers}{'x-dandi-diff-counts'}, 'count=false: nothing counted or read');
	$r = $t->get("$D/versions/$v1/diff/$v2/?count=true");
	is_deeply([ @{ $r->{json} }{qw(summary count)} ], [ \%sum12, 5 ], 'count=true: the counts');
	$r = $t->get("$D/versions/$v1/diff/$v2/?count=maybe");
	is_deeply([ $r->{status}, $r->{json} ], [ 400, { count => ['Must be a valid boolean.'] } ], 'count=maybe: 400');
}

# --- pages -------------------------------------------------------------------
# By next links (cursor), one and two changes a page: every change once, in
# order; the counts on the first page only; twice the same.
for my $size (1, 2) {
	for my $round (1, 2) {
		my ($url, @got, @counts) = ("$D/versions/$v1/diff/$v2/?page_size=$size");
		my $pages = 0;
		while ($url) {
			my $r = $t->get($url);
			is($r->{status}, 200, "page $pages by next links (size $size)") or last;
			push @got, @{ $r->{json}{results} };
			push @counts, $r->{json}{count};
			ok(@{ $r->{json}{results} } <= $size, 'no more than page_size');
			is(scalar @{ $r->{json}{metadata}{changed} }, 3, 'the metadata differences on every page');
			like($r->{json}{next}, qr/[?&]cursor=[^&]+/, 'next link has a cursor') if $r->{json}{next};
			$url = $r->{json}{next};
			last if ++$pages > 10;
		}
		is_deeply(\@got, \@assets12, "size $size, round $round: every change once, in order");
		is_deeply(\@counts, [ 5, (undef) x ($pages - 1) ], 'count on the first page only');
	}
}
# The windows the API reads both versions in (dandi_diff_window): however
# small, walked from hi to hi they give every change once, in order.
{
	my ($va, $vb) = map { ($t->psql("SELECT id FROM versions WHERE dandiset_id = $id AND version = '$_'"))[0][0] } $v1, $v2;
	for my $n (1, 2, 3) {
		my ($after, @paths, $windows) = ('');
		while (1) {
			my @rows = $t->psql("SELECT coalesce(hi, '<end>'), coalesce(path, '') FROM dandi_diff_window($va, $vb, '$after', $n, 1000)");
			push @paths, grep { length } map { $_->[1] } @rows;
			last if $rows[0][0] eq '<end>' || ++$windows > 50;
			$after = $rows[0][0];
		}
		is_deeply(\@paths, [ map { $_->{path} } @assets12 ], "windows of $n: every change once, in order");
	}
}

# By page numbers (the web app's way) and the previous links.
my $r = $t->get("$D/versions/$v1/diff/$v2/?page_size=2&page=2");
is_deeply($r->{json}{results}, [ @assets12[2, 3] ], 'page 2 of size 2');
is($r->{json}{summary}, undef, 'no summary after the first page');
like($r->{json}{previous}, qr{diff/\Q$v2\E/\?page_size=2$}, 'previous: page 1 without page');
$r = $t->get("$D/versions/$v1/diff/$v2/?page_size=2&page=3");
is_deeply([ $r->{json}{results}, $r->{json}{next} ], [ [ $assets12[4] ], undef ], 'page 3: the last change, no next');
like($r->{json}{previous}, qr{[?&]page=2\b}, 'previous: page 2');
$r = $t->get("$D/versions/$v1/diff/$v2/?page_size=2&page=4");
is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Invalid page.' } ], 'past the end: 404');
$r = $t->get("$D/versions/$v1/diff/$v2/?cursor=");
is_deeply([ $r->{status}, $r->{json} ], [ 400, { cursor => ['Invalid cursor.'] } ], 'empty cursor: 400');
$r = $t->get("$D/versions/$v1/diff/$v2/?cursor=" . 'x' x 600);
is($r->{status}, 400, 'cursor longer than a path: 400');
$r = $t->get("$D/versions/$v1/diff/$v2/?cursor=moved/new.nwb");
is_deeply($r->{json}{results}, [ $assets12[4] ], 'a cursor: the changes after that path');

# --- the answers as the API's OpenAPI document describes them ---------------------
{
	my $spec = JSON::Validator::Schema::OpenAPIv3->new($t->get('/api/docs/?format=openapi')->{json});
	$spec->coerce({});
	for my $u ("$v1/diff/$v2/", "$v2/diff/$v1/", "$v1/diff/$v2/?page_size=2&page=2", "$v1/diff/$v1/") {
		my $res = $t->get("$D/versions/$u");
		my @e = $spec->validate_response([ 'get', '/api/dandisets/{dandiset__pk}/versions/{version}/diff/{other}/', 200 ],
		    { body => sub { { exists => 1, value => $res->{json}, content_type => 'application/json' } } });
		ok(!@e, "$u: as the OpenAPI document says") or diag(join "\n", @e);
	}
}

# --- the same version twice, unknown versions ------------------------------------
for my $v ($v1, 'draft') {
	$r = $t->get("$D/versions/$v/diff/$v/");
	is($r->{status}, 200, "$v against itself: 200");
	is_deeply([ @{ $r->{json} }{qw(count results summary)}, @{ $r->{json}{metadata} }{qw(added removed changed)} ],
	    [ 0, [], { added => 0, removed => 0, modified => 0, renamed => 0 }, [], [], [] ], "$v against itself: no change");
}
for my $path ("$D/versions/$v1/diff/0.999999.9999/", "$D/versions/0.999999.9999/diff/$v1/",
    "/api/dandisets/999999/versions/draft/diff/draft/") {
	$r = $t->get($path);
	is_deeply([ $r->{status}, $r->{json} ], [ 404, { detail => 'Not found.' } ], "$path: 404 with JSON");
}
is($t->get("$D/versions/$v1/diff/latest/")->{status}, 404, 'not a version string: 404');
# A version of another dandiset is not one of this one.
my $other = $t->post('/api/dandisets/', { name => 'Other', metadata => $md1 }, token => $alice)->{json}{identifier};
is($t->get("/api/dandisets/$other/versions/draft/diff/$v1/")->{status}, 404, "$v1 of $id is not a version of $other");

# --- the draft against a published version ----------------------------------------
# Items inserted before others: one added entry each; an edited item among
# them keeps its own changes (old_path: where it was).
my $carol_c = { name => 'Doe, Carol', roleName => ['dcite:Author'], includeInCitation => JSON::PP::true,
    schemaKey => 'Person' };
my $m3 = { %$md2, description => 'Recordings of mice, more', keywords => [ 'memory', 'ephys', 'mouse' ],
    contributor => [ $carol_c, { %$alice_c, email => 'alice@new.example.org' }, $bob_c ] };
is($t->put("$D/versions/draft/", { name => 'Diffed', metadata => $m3 }, token => $alice)->{status}, 200, 'draft edited');
add('later.nwb', blob(7));
$t->jobs('validate');	# the draft's assetsSummary again (an edit resets it)
my $md = version_md('draft');
my @sumchg = map { { path => "/assetsSummary/$_", old => $m2->{assetsSummary}{$_}, new => $md->{assetsSummary}{$_} } }
    grep { !ref $m2->{assetsSummary}{$_} && ($m2->{assetsSummary}{$_} // '') ne ($md->{assetsSummary}{$_} // '') }
    sort keys %{ $m2->{assetsSummary} };
my %meta2d = (added => [ { path => '/contributor/0', value => $carol_c }, { path => '/keywords/0', value => 'memory' } ],
    removed => [], ignored => \@ignored, changed => [ @sumchg,
    { path => '/contributor/1/email', old_path => '/contributor/0/email', old => 'alice@lab.example.org',
      new => 'alice@new.example.org' },
    { path => '/description', old => 'Recordings of mice', new => 'Recordings of mice, more' } ]);
my $later = side('draft', 'later.nwb');
check_diff($v2, 'draft', \%meta2d,
    [ { type => 'added', path => 'later.nwb', old => undef, new => $later, changed => undef } ],
    { added => 1, removed => 0, modified => 0, renamed => 0 }, "$v2 -> draft");
check_diff('draft', $v2, reverse_meta(\%meta2d),
    [ { type => 'removed', path => 'later.nwb', old => $later, new => undef, changed => undef } ],
    { added => 0, removed => 1, modified => 0, renamed => 0 }, "draft -> $v2");

# --- copies of one content: moves pair up in path order ------------------------------
# Two files of one blob removed and two of it added: two renames (the first
# gone path with the first new one); a third copy added is an addition.
my $dup = blob(11);
my $id2 = $t->post('/api/dandisets/', { name => 'Copies', metadata => $md1 }, token => $alice)->{json}{identifier};
$D = "/api/dandisets/$id2";
my @c = map { add($_, $dup) } qw(c/1.nwb c/2.nwb);
add('base.nwb', blob(3));
my $c1 = publish();
replace($c[0], 'd/1.nwb', $dup);
replace($c[1], 'd/2.nwb', $dup);
add('d/3.nwb', $dup);
$r = $t->get("$D/versions/$c1/diff/draft/");
is_deeply([ map { [ $_->{type}, $_->{path}, $_->{old} && $_->{old}{path} ] } @{ $r->{json}{results} } ],
    [ [ 'renamed', 'd/1.nwb', 'c/1.nwb' ], [ 'renamed', 'd/2.nwb', 'c/2.nwb' ], [ 'added', 'd/3.nwb', undef ] ],
    'copies: two renames in path order and an addition');
is_deeply($r->{json}{summary}, { added => 1, removed => 0, modified => 0, renamed => 2 }, 'copies: summary');
$r = $t->get("$D/versions/draft/diff/$c1/");
is_deeply([ map { [ $_->{type}, $_->{path}, $_->{old} && $_->{old}{path} ] } @{ $r->{json}{results} } ],
    [ [ 'renamed', 'c/1.nwb', 'd/1.nwb' ], [ 'renamed', 'c/2.nwb', 'd/2.nwb' ], [ 'removed', 'd/3.nwb', 'd/3.nwb' ] ],
    'copies, the other way: the same pairs');

# The draft's counts: never kept while its writes wait for the fold (every
# write leaves folder deltas), kept once folded, counted again after any
# write, which the next answer shows: a file added, a file's metadata
# edited in place (same path, same bytes), a file removed.
{
	my $fold = sub { $t->psql("SELECT dandi_asset_paths_fold(id) FROM versions WHERE dandiset_id = $id2 AND version = 'draft'") };
	my @sum = ({ added => 1, removed => 0, modified => 0, renamed => 2 }, 3);
	my ($how, $s, $n) = counts($c1, 'draft', 'draft, writes not folded');
	is_deeply([ $how, $s, $n ], [ 'counted', @sum ], 'draft, writes not folded: counted');
	($how, $s, $n) = counts($c1, 'draft', 'draft, writes not folded, again');
	is_deeply([ $how, $s, $n ], [ 'counted', @sum ], 'draft, writes not folded, again: counted again');
	$fold->();
	($how, $s, $n) = counts($c1, 'draft', 'draft folded');
	is_deeply([ $how, $s, $n ], [ 'counted', @sum ], 'draft folded: counted');
	($how, $s, $n) = counts($c1, 'draft', 'draft folded, again');
	is_deeply([ $how, $s, $n ], [ 'kept', @sum ], 'draft folded, again: kept');
	my $later = add('e.nwb', blob(5));
	@sum = ({ added => 2, removed => 0, modified => 0, renamed => 2 }, 4);
	for my $folded (0, 1) {
		$fold->() if $folded;
		($how, $s, $n) = counts($c1, 'draft', "a file added (folded: $folded)");
		is_deeply([ $how, $s, $n ], [ 'counted', @sum ], "a file added (folded: $folded): the new counts");
	}
	is((counts($c1, 'draft', 'a file added, again'))[0], 'kept', 'a file added, again: kept');
	my ($base) = grep { $_->{path} eq 'base.nwb' } @{ $t->get("$D/versions/draft/assets/?path=base.nwb")->{json}{results} };
	replace($base, 'base.nwb', $base->{blob}, description => 'edited');
	@sum = ({ added => 2, removed => 0, modified => 1, renamed => 2 }, 5);
	for my $folded (0, 1) {
		$fold->() if $folded;
		($how, $s, $n) = counts($c1, 'draft', "metadata edited (folded: $folded)");
		is_deeply([ $how, $s, $n ], [ 'counted', @sum ], "metadata edited (folded: $folded): the new counts");
	}
	is((counts($c1, 'draft', 'metadata edited, again'))[0], 'kept', 'metadata edited, again: kept');
	is($t->delete("$D/versions/draft/assets/$later->{asset_id}/", token => $alice)->{status}, 204, 'e.nwb removed');
	@sum = ({ added => 1, removed => 0, modified => 1, renamed => 2 }, 4);
	($how, $s, $n) = counts($c1, 'draft', 'a file removed');
	is_deeply([ $how, $s, $n ], [ 'counted', @sum ], 'a file removed: the new counts');
	# The other direction is kept apart.
	$fold->();
	($how, $s, $n) = counts('draft', $c1, 'draft -> published');
	is_deeply([ $how, $s, $n ], [ 'counted', { added => 0, removed => 1, modified => 1, renamed => 2 }, 4 ],
	    'draft -> published: its own counts');
	is((counts('draft', $c1, 'draft -> published, again'))[0], 'kept', 'draft -> published, again: kept');
	# The draft's row locked for a write (as by publish or a metadata
	# save): the counts are counted and answered, not waited to be kept
	# (a new pair's row checks its versions' keys; a kept pair's update
	# does not, and is kept).
	$t->psql("DELETE FROM version_diff_counts");
	my $dbh = $t->db_connect;
	$dbh->begin_work;
	$dbh->do("SELECT 1 FROM versions WHERE dandiset_id = $id2 AND version = 'draft' FOR UPDATE");
	($how, $s, $n) = counts($c1, 'draft', 'draft locked');
	is_deeply([ $how, $s, $n ], [ 'counted', @sum ], 'draft locked: counted, answered');
	$dbh->rollback;
	is((counts($c1, 'draft', 'draft unlocked'))[0], 'counted', 'draft unlocked: nothing was kept');
	is((counts($c1, 'draft', 'draft unlocked, again'))[0], 'kept', 'draft unlocked, again: kept');
	$dbh->disconnect;
}

# --- the read rule ------------------------------------------------------------------
my $emb = $t->post('/api/dandisets/?embargo=true', { name => 'Hidden', metadata => $md1 }, token => $alice)->{json}{identifier};
my $E = "/api/dandisets/$emb/versions/draft/diff/draft/";
is($t->get($E)->{status}, 401, 'embargoed: anonymous 401');
is($t->get($E, token => $bob)->{status}, 403, 'embargoed: a stranger 403');
is($t->get($E, token => $alice)->{status}, 200, 'embargoed: the owner 200');
# A published version of a dandiset embargoed afterwards (as when the
# archive's admins embargo one again) is read by the same rule.
$t->psql("UPDATE dandisets SET embargo_status = 'EMBARGOED', embargo_end_date = now() + interval '1 year'"
    . " WHERE id = $id");
$E = "/api/dandisets/$id/versions/$v1/diff/$v2/";
is($t->get($E)->{status}, 401, 'published, embargoed: anonymous 401');
is($t->get($E, token => $bob)->{status}, 403, 'published, embargoed: a stranger 403');
is_deeply($t->get($E, token => $alice)->{json}{results}, \@assets12, 'published, embargoed: the owner reads it');

done_testing;
