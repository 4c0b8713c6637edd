# Search operators of GET /api/dandisets/?search= (the original's
# Gmail-style syntax): every operator with its boundaries and the version
# whose dates or assetsSummary count, quoting, AND with free text and with
# each other, embargo visibility, and every 400 with the original's body.
# Dates are set through psql; assetsSummary both as the archive computes it
# from assets (dandi_assets_summary) and written directly for edge cases.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use JSON::PP ();
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 2);

# Dandisets outside the owner cases are made by "maker".
my $maker = $t->user('maker', first => 'Maker', last => 'Test', email => 'maker@example.org');
my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'Alice@Example.com');
my $bob = $t->user('bob', first => 'Bob', last => 'Smith', email => 'bob@example.com');
my $carol = $t->user('carol', first => 'Carol', last => 'Jones', email => 'carol@example.com');
my $dave = $t->user('dave-local', first => 'Dave', last => 'Miller', email => 'dave@example.com');
my $zed = $t->user('zed', first => 'Zed', last => 'Zulu', email => 'zed@example.org');
my $eve = $t->user('eve', first => 'Eve', last => 'Stranger', email => 'eve@example.org');
my $admin = $t->admin_token;	# Ad Min, a superuser
# Signed in with GitHub: the login shown (and matched) instead of the username.
$t->psql("UPDATE users SET github_login = 'Alice-Codes' WHERE username = 'alice'");
$t->psql("UPDATE users SET github_login = 'dave-gh' WHERE username = 'dave-local'");

sub enc {
	my ($s) = @_;
	utf8::encode($s) if utf8::is_utf8($s);
	$s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
	return $s;
}
sub ds {
	my ($token, $name, %o) = @_;
	my $r = $t->post('/api/dandisets/' . ($o{embargo} ? '?embargo=true' : ''),
	    { name => $name, metadata => { description => $o{description} // $name } }, token => $token);
	die "create failed: $r->{body}" unless $r->{status} == 200;
	return $r->{json}{identifier};
}
sub num { 0 + $_[0] }
my $nb = 0;
sub asset {
	my ($token, $id, %md) = @_;
	my $uuid = sprintf('21111111-2222-4333-8444-%012d', ++$nb);
	$t->psql("INSERT INTO blobs (blob_id, blob, etag, size) VALUES ('$uuid', 'blobs/$uuid',"
	    . " '" . sprintf('%032x-1', $nb) . "', 100)");
	my $r = $t->post("/api/dandisets/$id/versions/draft/assets/",
	    { blob_id => $uuid, metadata => { path => "f$nb.dat", %md } }, token => $token);
	die "asset create failed: $r->{body}" unless $r->{status} == 200;
}
# A published version row (as the publish job leaves one), with its dates.
sub published {
	my ($id, $version, $created, $modified, $summary) = @_;
	my $md = '{"schemaVersion": "0.7.0"' . ($summary ? ", \"assetsSummary\": $summary" : '') . '}';
	$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version, status, created, modified)"
	    . " VALUES (${\ num($id)}, 'v', \$j\$$md\$j\$::jsonb, '$version', 'Published', '$created', '$modified')");
}
sub draft_summary {
	my ($id, $summary) = @_;
	$t->psql("UPDATE versions SET metadata = jsonb_set(metadata, '{assetsSummary}', \$j\$$summary\$j\$::jsonb)"
	    . " WHERE dandiset_id = ${\ num($id)} AND version = 'draft'");
}
sub names { '[' . join(', ', map { "{\"name\": \"$_\"}" } @_) . ']' }

# The identifiers a search lists (sorted), or "status: body".
sub found {
	my ($q, %o) = @_;
	my $r = $t->get("/api/dandisets/?page_size=100&search=" . enc($q) . ($o{query} // ''),
	    ($o{token} ? (token => $o{token}) : ()));
	return "$r->{status}: $r->{body}" unless $r->{status} == 200;
	return [ sort map { $_->{identifier} } @{ $r->{json}{results} } ];
}
sub set { [ sort @_ ] }

# --- dates ------------------------------------------------------------------
my $c1 = ds($maker, 'created one');
my $c2 = ds($maker, 'created two');
my $c3 = ds($maker, 'created three');
$t->psql("UPDATE dandisets SET created = '2021-05-31 23:59:59.999999+00' WHERE id = ${\ num($c1)}");
$t->psql("UPDATE dandisets SET created = '2021-06-01 00:00:00+00' WHERE id = ${\ num($c2)}");
$t->psql("UPDATE dandisets SET created = '2021-06-01 00:30:00+02' WHERE id = ${\ num($c3)}");	# 22:30 UTC the day before
is_deeply(found('created_before:2021-06-01'), set($c1, $c3), 'created_before: before midnight UTC');
is_deeply(found('created_after:2021-06-01 created_before:2021-07-01'), set($c2), 'created_after: from midnight UTC on');
is_deeply(found('created_after:2021-5-31 created_before:2021-06-01'), set($c1, $c3), 'dates without zero padding');
is_deeply(found('created_after:2021-05-01 created_after:2021-06-01 created_before:2021-07-01'), set($c2),
    'repeated: every bound holds');
is_deeply(found('created_after:"2021-06-01" created_before:"2021-6- 2"'), set($c2), 'quoted dates, " 2" is a day as strptime reads it');

my $m1 = ds($maker, 'modified one');
my $m2 = ds($maker, 'modified two');
my $p1 = ds($maker, 'published one');
$t->psql("UPDATE versions SET created = '2022-01-01', modified = '2022-01-10 00:00:00+00'"
    . " WHERE dandiset_id IN (${\ num($m1)}, ${\ num($m2)}, ${\ num($p1)})");
$t->psql("UPDATE versions SET modified = '2022-01-20 00:00:00+00' WHERE dandiset_id = ${\ num($m2)}");
# m1's latest version (by creation) is its published one: its modified counts, not the draft's.
published($m1, '0.220201.0000', '2022-02-01 00:00:00+00', '2022-02-02 00:00:00+00');
published($p1, '0.230101.0000', '2023-01-01 00:00:00+00', '2023-01-01 00:00:00+00');
published($p1, '0.230701.0000', '2023-07-01 00:00:00+00', '2023-07-01 00:00:00+00');
is_deeply(found('modified_before:2022-02-01'), set($m2), "modified: the latest version's, not the draft's");
is_deeply(found('modified_after:2022-02-02 modified_before:2022-02-03'), set($m1), 'modified_after includes the instant');
is_deeply(found('modified_after:2022-01-15 modified_before:2022-02-02'), set($m2), 'modified_before excludes it');
is_deeply(found('published_after:2000-01-01 published_before:2024-01-01'), set($m1, $p1),
    'published_*: dandisets with a published version only');
is_deeply(found('published_before:2023-01-01'), set($m1), 'published_before');
is_deeply(found('published_before:2023-07-01'), set($m1), 'published_*: the latest published version counts');
is_deeply(found('published_after:2023-07-01 published_before:2023-07-02'), set($p1), 'published_after includes the instant');
is_deeply(found('published_after:2023-01-02 published_before:2023-06-30'), [], 'no latest publication in range');

# --- species, approach, technique: assetsSummary ------------------------------
# s1's summary is computed from its assets as the archive does for a version.
my $s1 = ds($maker, 'Tagged study one');
asset($maker, $s1, encodingFormat => 'application/x-nwb',
    wasAttributedTo => [ { schemaKey => 'Participant', identifier => 'sub-1',
        species => { schemaKey => 'SpeciesType', name => 'Mus musculus - House mouse' } } ],
    approach => [ { schemaKey => 'ApproachType', name => 'electrophysiological approach' } ],
    measurementTechnique => [ { schemaKey => 'MeasurementTechniqueType', name => 'spike sorting technique' } ]);
$t->psql("UPDATE versions SET metadata = jsonb_set(metadata, '{assetsSummary}', dandi_assets_summary(id, false))"
    . " WHERE dandiset_id = ${\ num($s1)}");
my $s2 = ds($maker, 'Other study two');
draft_summary($s2, '{"schemaKey": "AssetsSummary", "species": ' . names('House mouse', 'Human')
    . ', "approach": ' . names('behavioral approach') . '}');
my $s3 = ds($maker, 'study three');
draft_summary($s3, '{"species": ' . names('Rattus norvegicus - Norway rat') . ', "approach": '
    . names('electrophysiological approach') . ', "measurementTechnique": ' . names('surgical technique') . '}');
my $s4 = ds($maker, 'study four');
draft_summary($s4, '{"approach": ' . names('electrophysiological [pilot]') . '}');
my $s5 = ds($carol, 'study five', embargo => 1);
draft_summary($s5, '{"species": ' . names('House mouse') . '}');
asset($carol, $s5, encodingFormat => 'video/mp4');
# s6: the species on the draft, the approach on a published version.
my $s6 = ds($maker, 'study six');
draft_summary($s6, '{"species": ' . names('Mus musculus') . '}');
published($s6, '0.240303.0000', '2024-03-03 00:00:00+00', '2024-03-03 00:00:00+00',
    '{"approach": ' . names('electrophysiological approach') . ', "species": ' . names('Danio rerio') . '}');
# s7: names that are not strings, and one with a backslash and quotes.
my $s7 = ds($maker, 'study seven');
draft_summary($s7, JSON::PP->new->canonical->encode({ species => [ { name => { label => 'Tricky mouse' } },
    { name => 42 }, { name => [ 'Tricky \\"lab\\" rat' ] } ] }));	# the name: Tricky \"lab\" rat

is_deeply(found('species:mouse'), set($s1, $s2), 'species: case-insensitive substring of a name');
is_deeply(found('species:42'), [], 'species: a number is no name');
is_deeply(found(q{species:\\"lab\\"}), set($s7), 'species: backslashes and quotes are plain characters');
is_deeply(found(q{species:"tricky \\"}), set($s7), 'species: a name in an array of names');
is_deeply(found('species:MUSCULUS'), set($s1, $s6), 'species: any case');
is_deeply(found('species:human'), set($s2), 'species: any entry of the list');
is_deeply(found('species:mouse species:human'), set($s2), 'repeated species: all on one version');
is_deeply(found('species:"norway rat"'), set($s3), 'quoted value with a space');
is_deeply(found('species:danio'), set($s6), 'a published version counts too');
is_deeply(found('approach:electrophysiological'), set($s1, $s3, $s4, $s6), 'approach');
is_deeply(found('approach:[pilot]'), set($s4), 'regular expression characters are literal');
is_deeply(found('approach:*'), [], 'a lone * matches nothing');
is_deeply(found('species:musculus approach:electrophysiological'), set($s1),
    'species and approach: both on one version (s6 has them on two)');
is_deeply(found('technique:"spike sorting"'), set($s1), 'technique, from the computed summary');
is_deeply(found('technique:SURGICAL'), set($s3), 'technique: any case');
is_deeply(found('species:mouse', token => $carol, query => '&embargoed=true'), set($s1, $s2, $s5),
    'the owner finds her embargoed dandiset');
is_deeply(found('species:mouse', token => $eve, query => '&embargoed=true'), set($s1, $s2),
    'a stranger does not');
is_deeply(found('species:mouse'), set($s1, $s2), 'nor does an anonymous caller');

# --- file_type: assets in the asset_search view, visible to the caller ------
my $f2 = ds($bob, 'files two');
asset($bob, $f2, encodingFormat => 'image/tiff');
asset($bob, $f2, encodingFormat => 'text/plain');
my $f3 = ds($bob, 'files three');
asset($bob, $f3);	# no encodingFormat
my $f4 = ds($bob, 'files four');
asset($bob, $f4, encodingFormat => 'text/x_%Odd');
is_deeply(found('file_type:nwb'), [], 'file_type reads the view: nothing before a refresh');
like(join('', $t->jobs('refresh-search')), qr/asset_search refreshed/, 'refresh-search');
is_deeply(found('file_type:nwb'), set($s1), 'file_type:nwb');
is_deeply(found('file_type:NWB'), set($s1), 'aliases in any case');
is_deeply(found('file_type:application/x-nwb'), set($s1), 'a MIME prefix');
is_deeply(found('file_type:image'), set($f2), 'file_type:image');
is_deeply(found('file_type:text'), set($f2, $f4), 'file_type:text');
is_deeply(found('file_type:TEXT/X_%o'), set($f4), '_ and % are plain characters');
is_deeply(found('file_type:text/xa'), [], 'not wildcards (_)');
is_deeply(found('file_type:image%'), [], 'not wildcards (%)');
is_deeply(found('file_type:IMAGE/T'), set($f2), 'a prefix, case-insensitively');
is_deeply(found('file_type:image file_type:image/tiff'), set($f2), 'repeated: one asset matches both');
is_deeply(found('file_type:image file_type:text'), [], 'no single asset is both an image and text');
is_deeply(found('file_type:text file_type:text/x'), set($f4), 'three prefixes, one asset');
is_deeply(found('file_type:x'), [], 'an unknown type: nothing (an asset without encodingFormat neither)');
is_deeply(found('file_type:video'), [], 'embargoed assets: not for anonymous callers');
is_deeply(found('file_type:video', token => $eve, query => '&embargoed=true'), [], 'nor for strangers');
is_deeply(found('file_type:video', token => $carol, query => '&embargoed=true'), set($s5), 'the owner');
is_deeply(found('file_type:video', token => $admin, query => '&embargoed=true'), set($s5), 'a superuser');
is_deeply(found('file_type:nwb species:mouse'), set($s1), 'with another operator');

# the asset search takes the operators too
my $r = $t->get('/api/dandisets/search/?search=' . enc('species:mouse'));
is_deeply([ map { $_->{identifier} } @{ $r->{json}{results} || [] } ], [ $s1 ],
    '/api/dandisets/search/: operators narrow the dandisets with assets');
$r = $t->get('/api/dandisets/search/?file_type=image/&search=' . enc('file_type:text'));
is_deeply([ map { $_->{identifier} } @{ $r->{json}{results} || [] } ], [ $f2 ], '/api/dandisets/search/ with file_type both ways');

# --- owner ------------------------------------------------------------------
my $a1 = ds($alice, 'alice old');
my $a2 = ds($alice, 'alice new');
my $b1 = ds($bob, 'bob one');
my $cj = ds($carol, 'carol one');
my $d1 = ds($dave, 'dave one');
my $z1 = ds($zed, 'zed one');
my $ad = ds($admin, 'admin one');
$t->psql("UPDATE dandisets SET created = '2019-01-01' WHERE id = ${\ num($a1)}");
$t->psql("INSERT INTO dandiset_owners SELECT ${\ num($a2)}, id FROM users WHERE username = 'bob'");
my @bobs = ($f2, $f3, $f4, $b1, $a2);
is_deeply(found('owner:alice-codes'), set($a1, $a2), 'owner: the GitHub login, any case');
is_deeply(found('owner:ALICE-CODES'), set($a1, $a2), 'owner: upper case');
is_deeply(found('owner:alice@example.com'), set($a1, $a2), 'owner: the e-mail, any case');
is_deeply(found('owner:alice'), set($a1, $a2), 'owner: first name, any case');
is_deeply(found('owner:Bob'), set(@bobs), 'owner: first name of another');
is_deeply(found('owner:Jones'), set($cj), 'owner: last name (embargoed ones hidden)');
is_deeply(found('owner:Jones', token => $carol, query => '&embargoed=true'), set($cj, $s5), 'owner: with embargoed=true');
is_deeply(found('owner:"carol jones"'), set($cj), 'owner: full name');
is_deeply(found('owner:Smith'), set($a1, @bobs), 'owner: several users match');
is_deeply(found('owner:dave-gh'), set($d1), 'owner: GitHub login');
is_deeply(found('owner:dave-local'), [], 'owner: not a username hidden by a login');
is_deeply(found('owner:zed'), set($z1), 'owner: the username of a local account');
is_deeply(found('owner:"Ad Min"', token => $admin), set($ad), 'owner: a superuser owns only what he owns');
is_deeply(found('owner:no_such_user_anywhere'), [], 'owner: nobody, nothing');
is_deeply(found('owner:bob owner:alice-codes'), set($a2), 'owner twice: owned by both');
is_deeply(found('owner:alice-codes created_after:2021-01-01'), set($a2), 'owner and a date');

# --- free text ---------------------------------------------------------------
my $x1 = ds($maker, 'Mixing study', description => 'uses mix:ratio 3 in every batch');
is_deeply(found('tagged species:mouse'), set($s1), 'free text AND an operator');
is_deeply(found('study species:mouse approach:behavioral'), set($s2), 'free text AND two operators');
is_deeply(found('"mix:ratio"'), set($x1), 'a quoted key:value is free text');
is_deeply(found('"foo:bar_no_such_string_here"'), [], 'quoted operator-like text: searched as text');
is_deeply(found('"every batch" mixing'), set($x1), 'a quoted phrase and a word');
is_deeply(found('Species:mouse'), [], 'an upper-case key is a free word');
is_deeply(found('species:'), [], 'key: alone is a free word');
is($t->get('/api/dandisets/?search=')->{json}{count}, $t->get('/api/dandisets/')->{json}{count},
    'an empty search lists everything');

# --- 400s: {"search": message}, as the original's view raises them ----------
my $TAIL = ' Wrap the term in double quotes (e.g. "foo:bar") to search for it as text.';
my @bad = (
	[ 'foo:bar', qq{Unknown search operator "foo".$TAIL} ],
	[ 'specie:mouse', qq{Unknown search operator "specie". Did you mean "species"?$TAIL} ],
	[ 'mouse createdafter:2024-01-01', qq{Unknown search operator "createdafter". Did you mean "created_after"?$TAIL} ],
	[ 'mix:ratio', qq{Unknown search operator "mix".$TAIL} ],
	[ 'hello "world species:mouse', 'Unbalanced quote in search query. Remove the stray quote, or wrap the intended phrase in matched quotes.' ],
	[ 'x' x 1025, 'Search query is too long (1025 characters; max 1024).' ],
	[ 'é' x 1025, 'Search query is too long (1025 characters; max 1024).' ],
	[ 'species:" "', 'Operator "species" requires a value (e.g. species:something).' ],
	[ 'owner:""', 'Operator "owner" requires a value (e.g. owner:something).' ],
	[ 'created_after:not-a-date', q{Invalid date for "created_after": 'not-a-date'. Use YYYY-MM-DD.} ],
	[ 'published_before:2023-02-29', q{Invalid date for "published_before": '2023-02-29'. Use YYYY-MM-DD.} ],
	[ q{modified_after:"it's"}, q{Invalid date for "modified_after": "it's". Use YYYY-MM-DD.} ],
	[ 'species:"" foo:bar', qq{Unknown search operator "foo".$TAIL} ],
	[ 'created_after:2024-99-01 species:""', q{Invalid date for "created_after": '2024-99-01'. Use YYYY-MM-DD.} ],
);
for my $b (@bad) {
	my ($q, $msg) = @$b;
	my $label = length($q) > 40 ? substr($q, 0, 20) . '...' : $q;
	$r = $t->get('/api/dandisets/?search=' . enc($q));
	is($r->{status}, 400, "'$label': 400");
	is_deeply($r->{json}, { search => $msg }, "'$label': message") or diag($r->{body});
}
is(ref found('x' x 1024), 'ARRAY', '1024 characters are allowed');
$r = $t->get('/api/dandisets/search/?search=' . enc('specie:mouse'));
is_deeply([ $r->{status}, $r->{json} ], [ 400, { search => qq{Unknown search operator "specie". Did you mean "species"?$TAIL} } ],
    '/api/dandisets/search/: the same 400');
# the CharField of the list's parameters comes first
$r = $t->get('/api/dandisets/?search=%20%09');
is_deeply([ $r->{status}, $r->{json} ], [ 400, { search => [ 'This field may not be blank.' ] } ], 'blank search');
$r = $t->get('/api/dandisets/?search=mouse%00x');
is_deeply([ $r->{status}, $r->{json} ], [ 400, { search => [ 'Null characters are not allowed.' ] } ], 'NUL in a search');
# and a 401 before the search is read
$r = $t->get('/api/dandisets/?embargoed=true&search=foo:bar');
is($r->{status}, 401, 'anonymous embargoed=true: 401 before the search');
$r = $t->get('/api/dandisets/?page=50&search=foo:bar');
is($r->{status}, 400, 'a bad search: 400 before an invalid page');

done_testing;
