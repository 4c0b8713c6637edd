# Dandisets: create (plain, embargoed, explicit identifier), list with its
# pagination, ordering and filters, detail, delete, stars, and the embargo
# visibility rules, as dandi-cli and the web app use them.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use POSIX qw(strftime);
use DandiTest;
use Shape qw(okeys norm_url pyiso);

my $t = DandiTest->new(s3 => 0, workers => 2);
my $API = $t->api_url;
my $WEB = $t->web_url;

my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');
my $bob = $t->user('bob', first => 'Bob', last => 'Jones', email => 'bob@example.org');
my $carol = $t->user('carol', first => 'Carol', last => 'King', email => 'carol@example.org');
my $pending = $t->user('pat', status => 'PENDING', email => 'pat@example.org');
my $admin = $t->admin_token;

my $TS = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
my @DETAIL_KEYS = qw(identifier created modified contact_person embargo_status
    star_count is_starred most_recent_published_version draft_version);
my @CHILD_KEYS = qw(version name asset_count active_uploads size status created
    modified release_notes);
my @COMPACT_KEYS = qw(version name asset_count size status created modified);
my @PAGE_KEYS = qw(count next previous results);

sub one { my @r = $t->psql(@_); my $v = $r[0]; ref $v ? $v->[0] : $v }
sub counts {
	return one('SELECT ' . join(" || ',' || ", map { "(SELECT count(*) FROM $_)" }
	    qw(dandisets versions dandiset_owners audit_records)));
}
sub enc {
	my ($s) = @_;
	utf8::encode($s) if utf8::is_utf8($s);
	$s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
	return $s;
}
sub create {
	my ($token, $name, $md, $query) = @_;
	return $t->post('/api/dandisets/' . ($query // ''),
	    { name => $name, metadata => $md // {} }, token => $token);
}
sub ids { [ map { $_->{identifier} } @{ $_[0]{json}{results} || [] } ] }
sub days_from_now { strftime('%Y-%m-%d', gmtime(time + $_[0] * 86400)) }
sub bare_error {
	my ($r, $status, $msg, $name) = @_;
	is($r->{status}, $status, "$name: status $status");
	is($r->{json}, $msg, "$name: bare string body") or diag($r->{body});
}

# --- create ---------------------------------------------------------------

my $r = create($alice, 'First', {});
is($r->{status}, 200, 'create answers 200, not 201');
is_deeply(okeys($r->{body}), \@DETAIL_KEYS, 'create returns the detail shape in key order');
is_deeply(okeys($r->{body}, 'draft_version'), \@CHILD_KEYS, 'draft_version is the child shape in order');
my $d = $r->{json};
is($d->{identifier}, '000001', 'first id is 000001');
like($d->{created}, $TS, 'created is a DRF timestamp');
like($d->{modified}, $TS, 'modified is a DRF timestamp');
is($d->{contact_person}, 'Smith, Alice', 'contact person defaults to the creator');
is($d->{embargo_status}, 'OPEN', 'open by default');
is($d->{star_count}, 0, 'no stars');
ok(JSON::PP::is_bool($d->{is_starred}) && !$d->{is_starred}, 'is_starred is boolean false');
is($d->{most_recent_published_version}, undef, 'nothing published');
my $dv = $d->{draft_version};
is_deeply([ @$dv{qw(version name asset_count active_uploads size status release_notes)} ],
    [ 'draft', 'First', 0, 0, 0, 'Pending', '' ], 'draft version fields');
like($dv->{created}, $TS, 'draft created timestamp');
like($dv->{modified}, $TS, 'draft modified timestamp');
my $first_created = $d->{created};

is(create($alice, 'Second')->{json}{identifier}, '000002', 'ids are sequential: 000002');
is(create($bob, 'Third')->{json}{identifier}, '000003', 'ids are sequential: 000003');
is(one("SELECT string_agg(u.username, ',') FROM dandiset_owners o JOIN users u ON u.id = o.user_id"
    . " WHERE o.dandiset_id = 1"), 'alice', 'creator is the sole owner');
is(one("SELECT count(*) FROM versions WHERE dandiset_id = 1 AND version = 'draft' AND status = 'Pending'"),
    1, 'one Pending draft version row');

# The stored draft metadata: defaults and every computed field.
my $year = substr($first_created, 0, 4);
$r = $t->get('/api/dandisets/000001/versions/draft/');
is($r->{status}, 200, 'draft metadata readable anonymously');
is_deeply($r->{json}, {
	schemaKey => 'Dandiset',
	schemaVersion => '0.7.0',
	'@context' => 'https://raw.githubusercontent.com/dandi/schema/master/releases/0.7.0/context.json',
	contributor => [ {
		name => 'Smith, Alice', email => 'alice@example.org',
		roleName => ['dcite:ContactPerson'], schemaKey => 'Person',
		affiliation => [], includeInCitation => JSON::PP::true,
	} ],
	name => 'First',
	identifier => 'DANDI:000001',
	version => 'draft',
	id => 'DANDI:000001/draft',
	url => "$WEB/dandiset/000001/draft",
	repository => $WEB,
	dateCreated => pyiso($first_created),
	manifestLocation => ["$API/api/dandisets/000001/versions/draft/assets/"],
	access => [ { schemaKey => 'AccessRequirements', status => 'dandi:OpenAccess' } ],
	assetsSummary => { schemaKey => 'AssetsSummary', numberOfBytes => 0, numberOfFiles => 0 },
	citation => "Smith, Alice ($year) First (Version draft) [Data set]. DANDI Archive. $WEB/dandiset/000001/draft",
}, 'draft metadata: defaults under the input, computed fields added') or diag($r->{body});

# Client-supplied computed fields are replaced; other keys are kept.
$r = create($alice, 'My data.', {
	schemaVersion => '0.6.4', description => 'keep me',
	name => 'evil', version => '9.9.9', id => 'evil', url => 'http://evil/',
	citation => 'evil', doi => '10.1234/evil', dateCreated => '1999-01-01',
	datePublished => '1999-01-01', publishedBy => 'evil', manifestLocation => ['evil'],
	releaseNotes => 'evil', assetsSummary => { numberOfFiles => 99 },
	access => [ { schemaKey => 'Evil', status => 'dandi:EmbargoedAccess', contactPoint => 'x' } ],
	contributor => [
		{ name => 'Doe, Jane', roleName => ['dcite:ContactPerson'], schemaKey => 'Person', includeInCitation => JSON::PP::true },
		{ name => 'Roe, Rick', schemaKey => 'Person', includeInCitation => JSON::PP::false },
		{ name => 'Poe, Pam', schemaKey => 'Person', includeInCitation => JSON::PP::true },
	],
});
is($r->{status}, 200, 'create with computed fields in the input');
my $id4 = $r->{json}{identifier};
is($id4, '000004', 'fourth id');
is($r->{json}{contact_person}, 'Doe, Jane', 'contact person from the supplied contributors');
is($r->{json}{draft_version}{release_notes}, '', 'releaseNotes never reaches a draft');
my $md = $t->get("/api/dandisets/$id4/versions/draft/")->{json};
is($md->{name}, 'My data.', 'name from the request, not the metadata');
is($md->{identifier}, "DANDI:$id4", 'identifier recomputed');
is($md->{version}, 'draft', 'version recomputed');
is($md->{id}, "DANDI:$id4/draft", 'id recomputed');
is($md->{url}, "$WEB/dandiset/$id4/draft", 'url recomputed');
is($md->{dateCreated}, pyiso($r->{json}{created}), 'dateCreated recomputed');
is_deeply($md->{manifestLocation}, ["$API/api/dandisets/$id4/versions/draft/assets/"], 'manifestLocation recomputed');
is_deeply($md->{assetsSummary}, { schemaKey => 'AssetsSummary', numberOfBytes => 0, numberOfFiles => 0 },
    'assetsSummary replaced by the default');
ok(!exists $md->{$_}, "$_ dropped") for qw(doi datePublished publishedBy releaseNotes);
is_deeply($md->{access}, [ { schemaKey => 'AccessRequirements', status => 'dandi:OpenAccess', contactPoint => 'x' } ],
    'access[0] schemaKey/status forced, other keys kept');
is($md->{schemaVersion}, '0.6.4', 'supplied schemaVersion kept');
is($md->{'@context'}, 'https://raw.githubusercontent.com/dandi/schema/master/releases/0.6.4/context.json',
    '@context follows schemaVersion');
is($md->{description}, 'keep me', 'other keys kept');
is(scalar @{ $md->{contributor} }, 3, 'supplied contributors kept, no default added');
is($md->{citation}, "Doe, Jane; Poe, Pam ($year) My data (Version draft) [Data set]. DANDI Archive. $WEB/dandiset/$id4/draft",
    'citation: citable contributors, trailing dot of the name dropped');

$r = create($alice, 'Nobody', { contributor => [] });
my $id5 = $r->{json}{identifier};
is($r->{json}{contact_person}, '', 'no contact person without contributors');
is($t->get("/api/dandisets/$id5/versions/draft/")->{json}{citation},
    "Nobody ($year). (Version draft) [Data set]. DANDI Archive. $WEB/dandiset/$id5/draft",
    'citation without citable contributors');

# --- create: validation ---------------------------------------------------

my $before = counts();
$r = create($pending, 'x');
is($r->{status}, 403, 'unapproved user cannot create');
is_deeply($r->{json}, { detail => 'You do not have permission to perform this action.' }, 'unapproved: detail');
$r = $t->post('/api/dandisets/', { name => 'x', metadata => {} });
is($r->{status}, 401, 'anonymous cannot create');
is_deeply($r->{json}, { detail => 'Authentication credentials were not provided.' }, 'anonymous: detail');
$r = $t->post('/api/dandisets/', { metadata => {} }, token => $alice);
is($r->{status}, 400, 'missing name');
is_deeply($r->{json}, { name => ['This field is required.'] }, 'missing name: field error');
$r = $t->post('/api/dandisets/', { name => 'x' }, token => $alice);
is($r->{status}, 400, 'missing metadata');
is_deeply($r->{json}, { metadata => ['This field is required.'] }, 'missing metadata: field error');
$r = create($alice, 'x' x 301);
is($r->{status}, 400, 'name over 300 characters');
is_deeply($r->{json}, { name => ['Ensure this field has no more than 300 characters.'] }, 'long name: field error');
is(counts(), $before, 'nothing written by refused creates');

# --- create: embargo --------------------------------------------------------

$r = create($alice, 'Secret', {}, '?embargo=true');
is($r->{status}, 200, 'embargoed create');
my $emb = $r->{json}{identifier};
is($r->{json}{embargo_status}, 'EMBARGOED', 'embargo_status EMBARGOED');
my $end = one("SELECT embargo_end_date::text FROM dandisets WHERE id = $emb");
is(one("SELECT abs(embargo_end_date - ((now() AT TIME ZONE 'UTC')::date + 730)) <= 1"
    . " FROM dandisets WHERE id = $emb"), 't', 'default end date is two years out');
$md = $t->get("/api/dandisets/$emb/versions/draft/", token => $alice)->{json};
is_deeply($md->{access}, [ { schemaKey => 'AccessRequirements', status => 'dandi:EmbargoedAccess',
    embargoedUntil => $end } ], 'embargoed access with embargoedUntil');

my $soon = days_from_now(365);
$r = create($alice, 'Secret 2', {}, "?embargo=true&embargo_end_date=$soon");
is($r->{status}, 200, 'explicit end date within two years');
is(one("SELECT embargo_end_date::text FROM dandisets WHERE id = $r->{json}{identifier}"), $soon, 'end date stored');

my $four = days_from_now(4 * 365);
$r = create($alice, 'Funded', {}, "?embargo=true&funding_source=NIH&award_number=R01-1&embargo_end_date=$four");
is($r->{status}, 200, 'funded embargo may last up to five years');
my $funded = $r->{json}{identifier};
$md = $t->get("/api/dandisets/$funded/versions/draft/", token => $alice)->{json};
my @funders = grep { ($_->{schemaKey} // '') eq 'Organization' } @{ $md->{contributor} };
is(scalar @funders, 1, 'one funder contributor appended');
is($md->{contributor}[0]{name}, 'Smith, Alice', 'default contributor still first');
is_deeply([ @{ $funders[0] }{qw(name schemaKey roleName awardNumber)} ],
    [ 'NIH', 'Organization', ['dcite:Funder'], 'R01-1' ], 'funder fields');
ok(JSON::PP::is_bool($funders[0]{includeInCitation}) && !$funders[0]{includeInCitation},
    'funder not included in citation');

$before = counts();
$r = create($alice, 'x', {}, '?embargo=true&funding_source=NIH');
is($r->{status}, 400, 'funding source without award');
is_deeply($r->{json}, { non_field_errors => ['Award number is required when funding source is set'] }, 'award required');
$r = create($alice, 'x', {}, '?embargo=true&award_number=R01');
is($r->{status}, 400, 'award without funding source');
is_deeply($r->{json}, { non_field_errors => ['Funding source is required when award number is set'] }, 'funding required');
my $three = days_from_now(3 * 365);
$r = create($alice, 'x', {}, "?embargo=true&embargo_end_date=$three");
is($r->{status}, 400, 'three years without funding is too long');
is_deeply($r->{json}, { non_field_errors => ['Invalid embargo end date'] }, 'invalid end date message');
my $six = days_from_now(6 * 365);
$r = create($alice, 'x', {}, "?embargo=true&funding_source=NIH&award_number=R01&embargo_end_date=$six");
is($r->{status}, 400, 'six years is too long even when funded');
is_deeply($r->{json}, { non_field_errors => ['Invalid embargo end date'] }, 'invalid end date message (funded)');
$r = create($alice, 'x', {}, '?embargo=true&embargo_end_date=next-year');
is($r->{status}, 400, 'malformed end date');
is_deeply([ keys %{ $r->{json} || {} } ], ['embargo_end_date'], 'malformed end date: field error');
$r = create($alice, 'x', {}, '?embargo=maybe');
is($r->{status}, 400, 'malformed embargo flag');
is_deeply([ keys %{ $r->{json} || {} } ], ['embargo'], 'malformed embargo flag: field error');
is(counts(), $before, 'nothing written by refused embargoed creates');

$r = create($alice, 'Not embargoed', {}, '?funding_source=NIH');
is($r->{status}, 200, 'funding parameters ignored without embargo');
is($r->{json}{embargo_status}, 'OPEN', 'still open');
$md = $t->get("/api/dandisets/$r->{json}{identifier}/versions/draft/")->{json};
is(scalar @{ $md->{contributor} }, 1, 'no funder without embargo');

# --- create: explicit identifier (admin only) ---------------------------------

my $next = one("SELECT max(id) FROM dandisets") + 1;
my $explicit = sprintf('%06d', $next);
$before = counts();
$r = create($alice, 'x', { identifier => "DANDI:$explicit" });
bare_error($r, 400, 'Creating a dandiset for a given identifier is an admin only operation.', 'non-admin identifier');
$r = create($admin, 'x', { identifier => 'abc' });
bare_error($r, 400, 'Invalid Identifier abc', 'non-numeric identifier');
is(counts(), $before, 'nothing written by refused identifiers');
$r = create($admin, 'Chosen', { identifier => "DANDI:$explicit" });
is($r->{status}, 200, 'admin picks an identifier');
is($r->{json}{identifier}, $explicit, 'identifier honoured');
is($t->get("/api/dandisets/$explicit/versions/draft/")->{json}{identifier}, "DANDI:$explicit",
    'metadata identifier is the chosen one');
$before = counts();
$r = create($admin, 'Again', { identifier => $explicit });
bare_error($r, 400, "Dandiset $explicit already exists", 'taken identifier');
is(counts(), $before, 'nothing written for a taken identifier');
is(create($alice, 'After')->{json}{identifier}, sprintf('%06d', $next + 1),
    'the sequence skips an identifier an admin took');

# --- detail -----------------------------------------------------------------

$r = $t->get('/api/dandisets/000001/');
is($r->{status}, 200, 'detail');
is_deeply(okeys($r->{body}), \@DETAIL_KEYS, 'detail key order');
is($r->{json}{identifier}, '000001', 'detail identifier');
is($r->{json}{created}, $first_created, 'detail created as at create');
$r = $t->get('/api/dandisets/999999/');
is($r->{status}, 404, 'unknown dandiset');
is_deeply($r->{json}, { detail => 'Not found.' }, 'unknown dandiset: detail');

# --- list: shapes, ordering, pagination (carol's own dandisets) ----------------

my %c;
for my $name (qw(delta alpha echo charlie bravo)) {
	$r = create($carol, $name);
	$c{$name} = $r->{json}{identifier};
}
my @created_order = @c{qw(delta alpha echo charlie bravo)};

$r = $t->get('/api/dandisets/?user=me', token => $carol);
is($r->{status}, 200, 'list');
is_deeply(okeys($r->{body}), \@PAGE_KEYS, 'page key order');
is($r->{json}{count}, 5, 'user=me counts own dandisets only');
is($r->{json}{next}, undef, 'single page: next null');
is($r->{json}{previous}, undef, 'single page: previous null');
is_deeply(ids($r), \@created_order, 'default order: created ascending');
is_deeply(okeys($r->{body}, 'results', 0), \@DETAIL_KEYS, 'list item key order');
is_deeply(okeys($r->{body}, 'results', 0, 'draft_version'), \@COMPACT_KEYS, 'list draft_version is compact');
is($r->{json}{results}[0]{contact_person}, 'King, Carol', 'list contact person');

$r = $t->get('/api/dandisets/?user=me');
is_deeply([ $r->{status}, $r->{json}{count}, $r->{json}{results} ], [ 200, 0, [] ], 'anonymous user=me is empty');
$r = $t->get('/api/dandisets/?user=someone', token => $carol);
is($r->{status}, 400, 'user accepts only "me"');
is_deeply([ keys %{ $r->{json} || {} } ], ['user'], 'user: field error');

# Sizes through version tree roots; stars from three users; one modification.
my %size = (alpha => 50, bravo => 100, delta => 200, echo => 300, charlie => 400);
for my $n (keys %size) {
	$t->psql("INSERT INTO asset_paths (version_id, path, aggregate_files, aggregate_size)"
	    . " SELECT id, 'root', 1, $size{$n} FROM versions WHERE dandiset_id = $c{$n}");
}
$t->post("/api/dandisets/$c{charlie}/star/", undef, token => $_) for ($carol, $alice, $bob);
$t->post("/api/dandisets/$c{alpha}/star/", undef, token => $_) for ($alice, $bob);
$t->post("/api/dandisets/$c{echo}/star/", undef, token => $alice);
$r = $t->put("/api/dandisets/$c{alpha}/versions/draft/",
    { name => 'alpha', metadata => { description => 'Recordings from the café in Zürich' } }, token => $carol);
is($r->{status}, 200, 'modify alpha');

my %order = (
	id => [ @c{qw(delta alpha echo charlie bravo)} ],
	'-id' => [ @c{qw(bravo charlie echo alpha delta)} ],
	name => [ @c{qw(alpha bravo charlie delta echo)} ],
	'-name' => [ @c{qw(echo delta charlie bravo alpha)} ],
	modified => [ @c{qw(delta echo charlie bravo alpha)} ],
	'-modified' => [ @c{qw(alpha bravo charlie echo delta)} ],
	size => [ @c{qw(alpha bravo delta echo charlie)} ],
	'-size' => [ @c{qw(charlie echo delta bravo alpha)} ],
	bogus => \@created_order,
);
for my $o (sort keys %order) {
	$r = $t->get("/api/dandisets/?user=me&ordering=$o", token => $carol);
	is_deeply(ids($r), $order{$o}, "ordering=$o");
}
$r = $t->get('/api/dandisets/?user=me&ordering=-stars', token => $carol);
is_deeply([ @{ ids($r) }[0 .. 2] ], [ @c{qw(charlie alpha echo)} ], 'ordering=-stars');
$r = $t->get('/api/dandisets/?user=me&ordering=stars', token => $carol);
is_deeply([ @{ ids($r) }[2 .. 4] ], [ @c{qw(echo alpha charlie)} ], 'ordering=stars');
$r = $t->get('/api/dandisets/?user=me&ordering=name', token => $carol);
is_deeply([ map { [ $_->{draft_version}{size}, $_->{draft_version}{asset_count} ] } @{ $r->{json}{results} } ],
    [ [50, 1], [100, 1], [400, 1], [200, 1], [300, 1] ], 'list sizes and asset counts from the tree roots');
is_deeply([ map { $_->{star_count} } @{ $r->{json}{results} } ], [ 2, 0, 3, 0, 1 ], 'list star counts');
is_deeply([ map { $_->{is_starred} ? 1 : 0 } @{ $r->{json}{results} } ], [ 0, 0, 1, 0, 0 ], 'list is_starred for carol');

# Pagination links (the parameters are sent sorted, as DRF writes them).
$r = $t->get('/api/dandisets/?page_size=2&user=me', token => $carol);
is_deeply([ $r->{json}{count}, ids($r) ], [ 5, [ @created_order[0, 1] ] ], 'page 1 of 3');
is(norm_url($r->{json}{next}), norm_url("$API/api/dandisets/?page=2&page_size=2&user=me"), 'page 1: next');
is($r->{json}{previous}, undef, 'page 1: previous null');
$r = $t->get('/api/dandisets/?page=2&page_size=2&user=me', token => $carol);
is_deeply([ $r->{json}{count}, ids($r) ], [ 5, [ @created_order[2, 3] ] ], 'page 2 of 3');
is($r->{json}{next}, "$API/api/dandisets/?page=3&page_size=2&user=me", 'page 2: next, exact');
is($r->{json}{previous}, "$API/api/dandisets/?page_size=2&user=me", 'page 2: previous omits page');
$r = $t->get('/api/dandisets/?page=3&page_size=2&user=me', token => $carol);
is_deeply([ $r->{json}{count}, ids($r) ], [ 5, [ $created_order[4] ] ], 'page 3 of 3');
is($r->{json}{next}, undef, 'last page: next null');
is($r->{json}{previous}, "$API/api/dandisets/?page=2&page_size=2&user=me", 'page 3: previous');
for my $bad ('4', '0', '-1', 'abc', '1.5') {
	$r = $t->get("/api/dandisets/?page=$bad&page_size=2&user=me", token => $carol);
	is($r->{status}, 404, "page=$bad is invalid");
	is_deeply($r->{json}, { detail => 'Invalid page.' }, "page=$bad: detail");
}
for my $ps ('0', '-5', 'abc') {
	$r = $t->get("/api/dandisets/?page_size=$ps&user=me", token => $carol);
	is_deeply([ $r->{status}, scalar @{ $r->{json}{results} || [] } ], [ 200, 5 ],
	    "page_size=$ps falls back to the default");
}

# --- list: filters ----------------------------------------------------------

# delta gets a published version (newer than its draft, no files): it counts
# for draft=false and its most recent version is empty.
$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version, status) VALUES ($c{delta}, 'delta',"
    . " '{\"schemaVersion\":\"0.7.0\",\"contributor\":[{\"name\":\"Pub, Lisher\",\"roleName\":[\"dcite:ContactPerson\"]}]}',"
    . " '0.240101.1200', 'Published')");
# foxtrot: empty draft, then a published version with a file.
my $fox = create($carol, 'foxtrot')->{json}{identifier};
$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version, status)"
    . " VALUES ($fox, 'foxtrot', '{\"schemaVersion\":\"0.7.0\"}', '0.240101.1300', 'Published')");
$t->psql("INSERT INTO asset_paths (version_id, path, aggregate_files, aggregate_size)"
    . " SELECT id, 'root', 2, 10 FROM versions WHERE dandiset_id = $fox AND version <> 'draft'");

$r = $t->get('/api/dandisets/?user=me&draft=false', token => $carol);
is_deeply(ids($r), [ $c{delta}, $fox ], 'draft=false: only dandisets with a published version');
$r = $t->get('/api/dandisets/?user=me&empty=false', token => $carol);
is_deeply(ids($r), [ @c{qw(alpha echo charlie bravo)}, $fox ], 'empty=false looks at the most recent version only');
$r = $t->get('/api/dandisets/?user=me&draft=0&empty=no', token => $carol);
is_deeply(ids($r), [$fox], 'boolean spellings 0/no');

$r = $t->get("/api/dandisets/$c{delta}/");
my $mp = $r->{json}{most_recent_published_version};
is_deeply(okeys($r->{body}, 'most_recent_published_version'), \@CHILD_KEYS, 'published version child shape');
is_deeply([ @$mp{qw(version name status asset_count size active_uploads)} ],
    [ '0.240101.1200', 'delta', 'Published', 0, 0, 0 ], 'published version fields');
is($r->{json}{contact_person}, 'Pub, Lisher', 'contact person from the published version');
$r = $t->get("/api/dandisets/?user=me&draft=false", token => $carol);
is($r->{json}{results}[0]{contact_person}, 'Pub, Lisher', 'list contact person from the published version');
is_deeply(okeys($r->{body}, 'results', 0, 'most_recent_published_version'), \@COMPACT_KEYS,
    'list published version is compact');

$r = $t->get('/api/dandisets/?starred=true');
bare_error($r, 401, 'Must be authenticated to filter by starred dandisets.', 'anonymous starred');
$r = $t->get('/api/dandisets/?starred=true', token => $alice);
is_deeply(ids($r), [ @c{qw(echo alpha charlie)} ], 'starred: most recently starred first');
$r = $t->get('/api/dandisets/?starred=true', token => $pending);
is_deeply([ $r->{status}, $r->{json}{count} ], [ 200, 0 ], 'starred with no stars is empty');

# search: words ANDed, case- and accent-insensitive, literal characters
sub search_ids {
	my ($q, @opts) = @_;
	my $res = $t->get('/api/dandisets/?search=' . enc($q), @opts);
	return $res->{status} == 200 ? ids($res) : "status $res->{status}";
}
is_deeply(search_ids('cafe'), [ $c{alpha} ], 'search is accent-insensitive');
is_deeply(search_ids('ZÜRICH'), [ $c{alpha} ], 'search is case-insensitive (unicode)');
is_deeply(search_ids('CAFÉ zurich'), [ $c{alpha} ], 'search words are ANDed');
is_deeply(search_ids('café nosuchword'), [], 'a missing word excludes');
my @open = map { sprintf '%06d', ref $_ ? $_->[0] : $_ }
    $t->psql("SELECT id FROM dandisets WHERE embargo_status = 'OPEN' ORDER BY created, id");
is_deeply(search_ids(''), \@open, 'an empty search does not filter');
# Whitespace alone is a blank CharField in the original's list parameters.
$r = $t->get('/api/dandisets/?search=' . enc('   '));
is_deeply([ $r->{status}, $r->{json} ], [ 400, { search => [ 'This field may not be blank.' ] } ],
    'a blank search: 400');
my $lit = create($carol, 'zq_lit 100% pure')->{json}{identifier};
create($carol, 'zqxlit 1000 pure');
is_deeply(search_ids('zq_lit'), [$lit], 'underscore is literal');
is_deeply(search_ids('100%'), [$lit], 'percent is literal');
is_deeply(search_ids('"lit 100%"'), [$lit], 'quoted phrase');

# --- embargo visibility -----------------------------------------------------

my $hidden = create($alice, 'Hush hush', {}, '?embargo=true')->{json}{identifier};
for my $path ("/api/dandisets/$hidden/", "/api/dandisets/$hidden/versions/",
    "/api/dandisets/$hidden/versions/draft/", "/api/dandisets/$hidden/versions/draft/info/",
    "/api/dandisets/$hidden/users/") {
	$r = $t->get($path);
	is($r->{status}, 401, "embargoed $path: anonymous 401");
	is_deeply($r->{json}, { detail => 'Authentication credentials were not provided.' }, "embargoed $path: 401 detail");
	$r = $t->get($path, token => $bob);
	is($r->{status}, 403, "embargoed $path: non-owner 403");
	is_deeply($r->{json}, { detail => 'You do not have permission to perform this action.' }, "embargoed $path: 403 detail");
	is($t->get($path, token => $alice)->{status}, 200, "embargoed $path: owner 200");
	is($t->get($path, token => $admin)->{status}, 200, "embargoed $path: admin 200");
}
sub listed {
	my ($query, @opts) = @_;
	my $res = $t->get("/api/dandisets/?search=Hush$query", @opts);
	return $res->{status} == 200 ? ids($res) : "status $res->{status}";
}
is_deeply(listed(''), [], 'embargoed hidden from anonymous list');
is_deeply(listed('', token => $alice), [], 'embargoed hidden from owner without embargoed=true');
is_deeply(listed('&embargoed=true', token => $alice), [$hidden], 'owner sees it with embargoed=true');
is_deeply(listed('&embargoed=true', token => $bob), [], 'non-owner does not');
is_deeply(listed('&embargoed=true', token => $admin), [$hidden], 'admin sees it with embargoed=true');
my $visible = one("SELECT count(*) FROM dandisets d WHERE embargo_status = 'OPEN' OR EXISTS ("
    . " SELECT 1 FROM dandiset_owners o JOIN users u ON u.id = o.user_id"
    . " WHERE o.dandiset_id = d.id AND u.username = 'alice')");
is($t->get('/api/dandisets/?embargoed=true', token => $alice)->{json}{count}, $visible,
    'embargoed=true lists open dandisets plus own embargoed ones');
is($t->get('/api/dandisets/?embargoed=true', token => $admin)->{json}{count}, one('SELECT count(*) FROM dandisets'),
    'embargoed=true lists everything for the admin');
$r = $t->get('/api/dandisets/?embargoed=true');
bare_error($r, 401, 'Authentication credentials must be provided when attempting to access embargoed dandisets',
    'anonymous embargoed=true');

# --- stars ------------------------------------------------------------------

my $s = create($alice, 'Starry')->{json}{identifier};
$r = $t->post("/api/dandisets/$s/star/", undef, token => $alice);
is($r->{status}, 200, 'star');
is_deeply($r->{json}, { count => 1 }, 'star count 1');
is_deeply($t->post("/api/dandisets/$s/star/", undef, token => $alice)->{json}, { count => 1 }, 'starring twice is idempotent');
is_deeply($t->post("/api/dandisets/$s/star/", undef, token => $bob)->{json}, { count => 2 }, 'second user');
$r = $t->get("/api/dandisets/$s/", token => $alice);
is_deeply([ $r->{json}{star_count}, $r->{json}{is_starred} ? 1 : 0 ], [ 2, 1 ], 'detail reflects stars (starrer)');
$r = $t->get("/api/dandisets/$s/", token => $carol);
is_deeply([ $r->{json}{star_count}, $r->{json}{is_starred} ? 1 : 0 ], [ 2, 0 ], 'detail reflects stars (other user)');
$r = $t->get("/api/dandisets/$s/");
ok(JSON::PP::is_bool($r->{json}{is_starred}) && !$r->{json}{is_starred}, 'anonymous is_starred false');
is_deeply($t->delete("/api/dandisets/$s/star/", token => $alice)->{json}, { count => 1 }, 'unstar');
is_deeply($t->delete("/api/dandisets/$s/star/", token => $alice)->{json}, { count => 1 }, 'unstar is idempotent');
$r = $t->post("/api/dandisets/$s/star/", undef);
is($r->{status}, 401, 'anonymous cannot star');
is($t->post("/api/dandisets/$s/star/", undef, token => $pending)->{status}, 403, 'unapproved cannot star');
$r = $t->get("/api/dandisets/$s/star/");
is($r->{status}, 405, 'GET star is 405');
is($t->post('/api/dandisets/999999/star/', undef, token => $alice)->{status}, 404, 'star unknown dandiset');
is($t->post("/api/dandisets/$hidden/star/", undef, token => $bob)->{status}, 403, 'cannot star an invisible embargoed dandiset');

# --- delete -----------------------------------------------------------------

my $del = create($alice, 'Doomed')->{json}{identifier};
$t->post("/api/dandisets/$del/star/", undef, token => $bob);
$r = $t->delete("/api/dandisets/$del/", token => $bob);
bare_error($r, 403, 'Cannot delete dandisets which you do not own.', 'non-owner delete');
$r = $t->delete("/api/dandisets/$del/");
is($r->{status}, 401, 'anonymous delete');
is_deeply($r->{json}, { detail => 'Authentication credentials were not provided.' }, 'anonymous delete: detail');
$r = $t->delete("/api/dandisets/$del/", token => $pending);
is($r->{status}, 403, 'unapproved delete');
is_deeply($r->{json}, { detail => 'You do not have permission to perform this action.' }, 'unapproved delete: detail');
is($t->get("/api/dandisets/$del/")->{status}, 200, 'still there after refused deletes');
$r = $t->delete("/api/dandisets/$del/", token => $alice);
is($r->{status}, 204, 'owner deletes');
is($r->{body} // '', '', '204 has no body');
is($t->get("/api/dandisets/$del/")->{status}, 404, 'gone');
is(one("SELECT (SELECT count(*) FROM versions WHERE dandiset_id = $del)"
    . " + (SELECT count(*) FROM dandiset_owners WHERE dandiset_id = $del)"
    . " + (SELECT count(*) FROM dandiset_stars WHERE dandiset_id = $del)"), 0, 'versions, owners, stars gone');
is($t->delete("/api/dandisets/$del/", token => $alice)->{status}, 404, 'deleting again is 404');

$r = $t->delete("/api/dandisets/$c{delta}/", token => $carol);
bare_error($r, 403, 'Cannot delete dandisets with published versions.', 'owner, published');
$r = $t->delete("/api/dandisets/$c{delta}/", token => $admin);
bare_error($r, 403, 'Cannot delete dandisets with published versions.', 'admin, published');
is($t->get("/api/dandisets/$c{delta}/")->{status}, 200, 'published dandiset survives');

$r = $t->delete("/api/dandisets/$hidden/", token => $bob);
is($r->{status}, 403, 'non-owner cannot delete an embargoed dandiset');
is($t->delete("/api/dandisets/$hidden/")->{status}, 401, 'anonymous cannot delete an embargoed dandiset');
is($t->delete("/api/dandisets/$hidden/", token => $alice)->{status}, 204, 'owner deletes an embargoed dandiset');
is($t->delete('/api/dandisets/000002/', token => $admin)->{status}, 204, 'admin deletes any dandiset');

# --- page_size is clamped to 1000 ------------------------------------------

$t->psql("INSERT INTO dandisets (id) SELECT g FROM generate_series(900000, 901000) g");
$t->psql("INSERT INTO versions (dandiset_id, name, metadata, version)"
    . " SELECT g, 'bulk', '{\"schemaVersion\":\"0.7.0\"}', 'draft' FROM generate_series(900000, 901000) g");
my $total = one("SELECT count(*) FROM dandisets WHERE embargo_status = 'OPEN'");
$r = $t->get('/api/dandisets/?page_size=5000');
is($r->{status}, 200, 'huge page_size');
is($r->{json}{count}, $total, 'count is the total');
is(scalar @{ $r->{json}{results} }, 1000, 'page_size clamped to 1000');
is(norm_url($r->{json}{next}), norm_url("$API/api/dandisets/?page=2&page_size=5000"), 'next keeps the requested page_size');
$r = $t->get('/api/dandisets/?page=2&page_size=5000');
is(scalar @{ $r->{json}{results} }, $total - 1000, 'second clamped page has the rest');

done_testing;
