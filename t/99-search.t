# Asset-level search: GET /api/dandisets/search/ with every asset filter,
# asset_counts, combined filters, pagination and the 400s; the embargo
# rules; GET /api/search/genotypes/ and /api/search/species/; and that the
# results follow the asset_search view, so change only after
# `dandi-jobs refresh-search`.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use DandiTest;
use Shape qw(okeys);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $alice = $t->user('alice');
my $bob = $t->user('bob');

sub make {
	my ($token, $embargo) = @_;
	my $r = $t->post('/api/dandisets/' . ($embargo ? '?embargo=true' : ''), { name => 'S', metadata => {} },
	    token => $token);
	die "create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
my $nb = 0;
sub blob {
	my ($size) = @_;
	my $uuid = sprintf('11111111-2222-4333-8444-%012d', ++$nb);
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$uuid', 'blobs/$uuid',"
	    . " '" . sprintf('%032x-1', $nb) . "', $size)");
	return $uuid;
}
my $np = 0;
sub asset {
	my ($token, $id, $size, %md) = @_;
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/",
	    { blob_id => blob($size), metadata => { path => 'f' . ++$np, %md } }, token => $token);
	die "asset create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json};
}
sub subject { my ($species, $genotype) = @_;
	return (wasAttributedTo => [ { schemaKey => 'Participant', identifier => 's1',
	    (defined $species ? (species => { name => $species }) : ()),
	    (defined $genotype ? (genotype => $genotype) : ()) } ]) }

my $d1 = make($alice);
my $d2 = make($alice);
my $d3 = make($alice, 1);	# embargoed
my $d4 = make($bob);		# no assets
asset($alice, $d1, 100, encodingFormat => 'application/x-nwb', subject('Mus musculus', 'wt'),
    measurementTechnique => [ { schemaKey => 'MeasurementTechniqueType', name => 'spike sorting technique' } ]);
asset($alice, $d1, 2000, encodingFormat => 'image/png', subject('Rattus norvegicus', 'Cre'));
asset($alice, $d2, 50, encodingFormat => 'text/plain', subject('Homo sapiens'));
asset($alice, $d3, 5000, encodingFormat => 'video/mp4', subject('Macaca mulatta', 'secret-geno'));
# A zarr asset: outside the view (it inner-joins blobs).
my $z = $t->post('/api/zarr/', { name => 'z.zarr', dandiset => $d1 }, token => $alice);
is($z->{status}, 200, 'zarr created');
my $za = $t->post("/api/dandisets/$d1/versions/draft/assets/",
    { zarr_id => $z->{json}{zarr_id}, metadata => { path => 'z.zarr', subject('Danio rerio', 'zg') } },
    token => $alice);
is($za->{status}, 200, 'zarr asset created') or diag($za->{body});

sub search {
	my ($q, $token) = @_;
	return $t->get("/api/dandisets/search/?$q", (defined $token ? (token => $token) : ()));
}
sub ids { [ map { $_->{identifier} } @{ $_[0]{json}{results} || [] } ] }
sub counts { +{ map { ($_->{identifier} => $_->{asset_counts}) } @{ $_[0]{json}{results} || [] } } }

# --- before any refresh: the view (built at migration time) is empty ---------
my $r = search('');
is($r->{status}, 200, 'search answers before a refresh');
is($r->{json}{count}, 0, 'nothing is found before a refresh');
is_deeply($t->get('/api/search/genotypes/')->{json}, [], 'no genotypes before a refresh');

like(join('', $t->jobs('refresh-search')), qr/asset_search refreshed/, 'refresh-search');
is(0 + ($t->psql('SELECT count(*) FROM asset_search'))[0][0], 4, 'four blob assets in the view, the zarr one left out');

# --- no filter: dandisets with any asset, list order, empty counts ----------
$r = search('');
is_deeply(ids($r), [ $d1, $d2 ], 'no filter: the open dandisets with assets');
is_deeply($r->{json}{results}[0]{asset_counts}, {}, 'no filter: asset_counts {}');
my $lk = okeys($t->get('/api/dandisets/')->{body}, 'results', 0);
is_deeply(okeys($r->{body}, 'results', 0), [ @$lk, 'asset_counts' ], 'list item keys plus asset_counts last');
ok(!exists $t->get('/api/dandisets/')->{json}{results}[0]{asset_counts}, 'the plain list has no asset_counts');
is($t->get('/api/dandisets/search')->{status}, 200, 'without the trailing slash too');

# --- each filter ---------------------------------------------------------------
$r = search('file_type=application/x-nwb');
is_deeply(ids($r), [ $d1 ], 'file_type nwb');
is_deeply(counts($r), { $d1 => { file_type => 1 } }, 'file_type count');
$r = search('file_type=image/&file_type=text/');
is_deeply(ids($r), [ $d1, $d2 ], 'file_type is multi (OR)');
is_deeply(counts($r), { $d1 => { file_type => 1 }, $d2 => { file_type => 1 } }, 'counts per dandiset');
$r = search('file_size_min=1000');
is_deeply(ids($r), [ $d1 ], 'file_size_min');
is_deeply(counts($r), { $d1 => { file_size => 1 } }, 'file_size count');
$r = search('file_size_max=100');
is_deeply(ids($r), [ $d1, $d2 ], 'file_size_max is inclusive');
$r = search('file_size_min=60&file_size_max=100');
is_deeply(ids($r), [ $d1 ], 'size range');
$r = search('file_size_min=0');
is_deeply(counts($r), { $d1 => {}, $d2 => {} }, 'a zero size is no filter (as the original)');
$r = search('species=Mus%20musculus');
is_deeply(ids($r), [ $d1 ], 'species');
is_deeply(counts($r), { $d1 => { species => 1 } }, 'species count');
$r = search('species=Mus%20musculus&species=Homo%20sapiens');
is_deeply(ids($r), [ $d1, $d2 ], 'species is multi');
$r = search('genotype=wt');
is_deeply(ids($r), [ $d1 ], 'genotype: exact');
is_deeply(counts($r), { $d1 => { genotype => 1 } }, 'genotype count');
is_deeply(ids(search('genotype=w')), [], 'genotype is not a substring match');
$r = search('measurement_technique=spike%20sorting%20technique');
is_deeply(ids($r), [ $d1 ], 'measurement_technique');
is_deeply(counts($r), { $d1 => { measurement_technique => 1 } }, 'measurement_technique count');
is_deeply(ids(search('measurement_technique=patch%20clamp%20technique')), [], 'other technique: none');

# --- combined filters: an asset must match all; counts are per filter ------
is_deeply(ids(search('file_type=image/&species=Mus%20musculus')), [],
    'no single asset is an image of a mouse');
$r = search('file_type=image/&file_size_max=5000');
is_deeply(ids($r), [ $d1 ], 'image up to 5000 bytes');
is_deeply(counts($r), { $d1 => { file_type => 1, file_size => 2 } }, 'each filter counted on its own');
like($r->{body}, qr/"asset_counts":\{"file_type" ?: ?1, ?"file_size" ?: ?2\}/, 'counts keys in filter order');
$r = search('file_type=application/x-nwb&species=Mus%20musculus&genotype=wt');
is_deeply(counts($r), { $d1 => { file_type => 1, genotype => 1, species => 1 } }, 'three filters');
# with the list's own filters
is_deeply(ids(search('file_type=image/&file_type=text/&ordering=-id')), [ $d2, $d1 ], 'ordering');
is_deeply(ids(search('file_type=text/&user=me', $bob)), [], 'user=me');
is_deeply(ids(search('file_type=text/&user=me', $alice)), [ $d2 ], 'user=me, owner');

# --- pagination ------------------------------------------------------------------
$r = search('page_size=1');
is($r->{json}{count}, 2, 'count is the whole result');
is_deeply(ids($r), [ $d1 ], 'page 1');
like($r->{json}{next}, qr/page=2/, 'next link');
$r = search('page_size=1&page=2');
is_deeply(ids($r), [ $d2 ], 'page 2');
is($r->{json}{next}, undef, 'no next on the last page');
is(search('page_size=1&page=3')->{status}, 404, 'past the end: 404');

# --- 400s --------------------------------------------------------------------------
sub bad {
	my ($q, $want, $name) = @_;
	my $x = search($q);
	is($x->{status}, 400, "$name: 400");
	is_deeply($x->{json}, $want, "$name: body") or diag($x->{body});
}
bad('file_type=bogus', { file_type => [ '"bogus" is not a valid choice.' ] }, 'file_type choice');
bad('file_size_min=-1', { file_size_min => [ 'Ensure this value is greater than or equal to 0.' ] }, 'negative size');
bad('file_size_max=abc', { file_size_max => [ 'A valid integer is required.' ] }, 'size not an integer');
bad('file_size_min=10&file_size_max=5',
    { non_field_errors => [ 'file_size_max must be greater than file_size_min' ] }, 'max < min');
bad('measurement_technique=x', { measurement_technique => [ '"x" is not a valid choice.' ] }, 'technique');
bad('species=Nope', { species => [ '"Nope" is not a valid choice.' ] }, 'unknown species');
bad('species=Danio%20rerio', { species => [ '"Danio rerio" is not a valid choice.' ] },
    'a zarr-only species is no choice');
bad('genotype=', { genotype => { 0 => [ 'This field may not be blank.' ] } }, 'blank genotype');
bad('genotype=Cre&genotype=%20%20', { genotype => { 1 => [ 'This field may not be blank.' ] } },
    'a genotype of spaces is blank (trimmed, as a CharField)');
is_deeply(ids(search('genotype=%20Cre%20')), [ $d1 ], 'a genotype is trimmed before matching');
bad('file_type=x&file_size_min=-1', { file_type => [ '"x" is not a valid choice.' ],
    file_size_min => [ 'Ensure this value is greater than or equal to 0.' ] }, 'every field error at once');
is(search('draft=maybe')->{status}, 400, "the list's own filters are validated");
is(search('file_size_min=')->{status}, 200, 'an empty size is absent');

# --- embargo -----------------------------------------------------------------------
# An embargoed dandiset's species is no choice for those who cannot see it:
# the same answer as a species that exists nowhere, so no oracle.
bad('species=Macaca%20mulatta', { species => [ '"Macaca mulatta" is not a valid choice.' ] },
    'embargoed: its species is no choice for anonymous');
is_deeply(ids(search('genotype=secret-geno')), [], 'embargoed: anonymous sees nothing');
is(search('genotype=secret-geno&embargoed=true')->{status}, 401, 'embargoed=true anonymous: 401');
is_deeply(ids(search('species=Macaca%20mulatta&embargoed=true', $alice)), [ $d3 ], 'owner sees it with embargoed=true');
is_deeply(ids(search('species=Macaca%20mulatta', $alice)), [], 'but not without (as the list)');
is(search('species=Macaca%20mulatta', $bob)->{status}, 400, 'a stranger: its species is no choice');
is_deeply(ids(search('genotype=secret-geno&embargoed=true', $bob)), [], 'a stranger never sees it');
is_deeply(ids(search('embargoed=true&file_size_min=1', $t->admin_token)), [ $d1, $d2, $d3 ],
    'a superuser with embargoed=true');

# --- genotypes and species -------------------------------------------------------------
is_deeply($t->get('/api/search/genotypes/')->{json}, [ sort('Cre', 'wt') ], 'genotypes: open dandisets');
is_deeply([ sort @{ $t->get('/api/search/genotypes/', token => $alice)->{json} } ],
    [ sort('Cre', 'secret-geno', 'wt') ], "genotypes: the owner's embargoed ones too");
is_deeply($t->get('/api/search/genotypes/', token => $bob)->{json}, [ sort('Cre', 'wt') ], 'not a stranger');
is_deeply($t->get('/api/search/genotypes/?genotype=W')->{json}, [ 'wt' ], 'genotype= is a case-insensitive substring');
$r = $t->get('/api/search/species/');
is_deeply(okeys($r->{body}), [qw(count next previous results)], 'species: a paginated list');
is_deeply($r->{json}{results}, [ 'Homo sapiens', 'Mus musculus', 'Rattus norvegicus' ], 'species, sorted, no zarr species');
is($r->{json}{count}, 3, 'species count');
is_deeply($t->get('/api/search/species/', token => $alice)->{json}{results},
    [ 'Homo sapiens', 'Macaca mulatta', 'Mus musculus', 'Rattus norvegicus' ], "species: the owner's too");
is_deeply($t->get('/api/search/species/?species=MUS')->{json}{results}, [ 'Mus musculus' ], 'species= substring');
$r = $t->get('/api/search/species/?page_size=2');
is_deeply($r->{json}{results}, [ 'Homo sapiens', 'Mus musculus' ], 'species page 1');
like($r->{json}{next}, qr/page=2/, 'species next link');
is($t->get('/api/search/genotypes')->{status}, 200, 'genotypes without the trailing slash');

# --- results change only after a refresh -------------------------------------------------
asset($alice, $d2, 10, encodingFormat => 'application/x-nwb', subject('Mus musculus', 'ko'));
is_deeply(ids(search('file_type=application/x-nwb')), [ $d1 ], 'a new asset: not yet found');
is_deeply($t->get('/api/search/genotypes/?genotype=ko')->{json}, [], 'nor its genotype');
like(join('', $t->jobs('refresh-search')), qr/asset_search refreshed/, 'refresh again');
$r = search('file_type=application/x-nwb');
is_deeply(ids($r), [ $d1, $d2 ], 'found after the refresh');
is_deeply($t->get('/api/search/genotypes/?genotype=ko')->{json}, [ 'ko' ], 'and its genotype');
# --- two refreshes at once: the second one steps aside ---------------------------
# Another session holds the refresh's advisory lock, as a running refresh
# would, until it goes.
my $holder = $t->db_connect;
$holder->do('SELECT pg_advisory_lock(7011)');
like(join('', $t->jobs('refresh-search')), qr/another refresh is running/, 'a concurrent refresh is a no-op');
$holder->disconnect;
like(join('', $t->jobs('refresh-search')), qr/asset_search refreshed/, 'then it runs again');

done_testing();
