# Hostile and malformed input: broken JSON, wrong types, bad identifiers,
# SQL metacharacters, unicode, oversized bodies, bad percent-encoding. After
# every refusal the server must still answer and nothing may be half-written.
use strict;
use warnings;
use utf8;
use lib 't/lib', 't/inc';
use Test::More;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
use IO::Socket::INET;
use JSON::PP;
use DandiTest;

my $MAX_BODY = 65536;
my $t = DandiTest->new(s3 => 0, workers => 2, env => { DANDI_MAX_BODY => $MAX_BODY });

my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');

sub one { my @r = $t->psql(@_); my $v = $r[0]; ref $v ? $v->[0] : $v }
sub counts {
	return one('SELECT ' . join(" || ',' || ", map { "(SELECT count(*) FROM $_)" }
	    qw(dandisets versions dandiset_owners audit_records dandiset_stars)));
}
sub enc {
	my ($s) = @_;
	utf8::encode($s) if utf8::is_utf8($s);
	$s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
	return $s;
}
# Runs one refused request and checks the aftermath.
sub refused {
	my ($name, $status, $check, @req) = @_;
	my $before = counts();
	my $r = ref $req[0] eq 'CODE' ? $req[0]->() : $t->request(@req);
	is($r->{status}, $status, "$name: $status");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "$name: JSON body");
	$check->($r, $name) if $check;
	is($t->get('/api/info/')->{status}, 200, "$name: server still answers");
	is(counts(), $before, "$name: nothing written");
	return $r;
}
sub detail_like {
	my ($re) = @_;
	return sub { like(ref $_[0]{json} eq 'HASH' ? $_[0]{json}{detail} // '' : '', $re, "$_[1]: detail message") };
}
sub json_is {
	my ($want) = @_;
	return sub { is_deeply($_[0]{json}, $want, "$_[1]: error body") or diag($_[0]{body}) };
}
sub post_raw { ('POST', '/api/dandisets/', body => $_[0], token => $alice,
    headers => { 'Content-Type' => 'application/json' }) }
sub post_json { ('POST', '/api/dandisets/', json => $_[0], token => $alice) }

my $id = $t->post('/api/dandisets/', { name => 'Target', metadata => {} }, token => $alice)->{json}{identifier};
my $draft = "/api/dandisets/$id/versions/draft/";

# --- broken JSON -------------------------------------------------------------

refused('malformed JSON', 400, detail_like(qr/^JSON parse error/), post_raw('{"name": "x", "metadata": {'));
refused('empty body', 400, detail_like(qr/^JSON parse error/), post_raw(''));
refused('trailing garbage', 400, detail_like(qr/^JSON parse error/), post_raw('{"name":"x","metadata":{}} junk'));
refused('two documents', 400, detail_like(qr/^JSON parse error/), post_raw('{"name":"x","metadata":{}}{}'));
refused('single quotes', 400, detail_like(qr/^JSON parse error/), post_raw("{'name':'x','metadata':{}}"));
refused('trailing comma', 400, detail_like(qr/^JSON parse error/), post_raw('{"name":"x","metadata":{},}'));
refused('bare word', 400, detail_like(qr/^JSON parse error/), post_raw('{"name":x,"metadata":{}}'));
is($t->post('/api/dandisets/', { name => 'nested', metadata => { a => [ [ [ [ { b => [ 1, 2.5, -3e2, JSON::PP::true, undef ] } ] ] ] ] } },
    token => $alice)->{status}, 200, 'nested metadata with every JSON type is accepted');
refused('deep nesting', 400, undef, post_raw('{"name":"x","metadata":' . ('[' x 10000) . (']' x 10000) . '}'));

# What json-c takes but the rest of the archive cannot keep: refused by the one parser
# (src/lib/jsonread.c) with a JSON parse error, wherever it is in the body.
my $owners = "/api/dandisets/$id/users/";
sub put_raw { ('PUT', $_[0], body => $_[1], token => $alice, headers => { 'Content-Type' => 'application/json' }) }
# NaN and the infinities: DRF's words (PostgreSQL's jsonb refuses them: a 500 before).
for my $c ('NaN', 'Infinity', '-Infinity', '1e999', '-2.5E+400') {
	my $want = json_is({ detail => "JSON parse error - Out of range float values are not JSON compliant: '$c'" });
	refused("$c as a metadata value", 400, $want, post_raw(qq({"name":"x","metadata":{"v":$c}})));
	refused("$c deep in arrays and objects", 400, $want,
	    post_raw(qq({"name":"x","metadata":{"a":[1,{"b":[[2,$c]]}],"c":"NaN"}})));
	refused("$c as the name", 400, $want, post_raw(qq({"name":$c,"metadata":{}})));
	refused("$c in a PUT", 400, $want, put_raw($draft, qq({"name":"x","metadata":{"x":{"y":[$c]}}})));
	refused("$c in an owners list", 400, $want, put_raw($owners, qq([{"username":"alice","n":$c}])));
}
# json-c clamps these to 64 bits without a word.
for my $n ('18446744073709551616', '-9223372036854775809', '123456789012345678901234567890') {
	refused("integer $n", 400, json_is({ detail => "JSON parse error - Integers must fit in 64 bits: '$n'" }),
	    post_raw(qq({"name":"x","metadata":{"n":[$n]}})));
}
# json-c's strict mode takes these; Python's json does not (nor PostgreSQL, but for -01,
# which json-c reads as -1).
for my $n ('1.', '-.5', '-01', '1.e5', '2.E3') {
	refused("number $n", 400, detail_like(qr/^JSON parse error - Invalid number: line 1 column 30 \(char 29\)$/),
	    post_raw(qq({"name":"x","metadata":{"n": $n}})));
}
refused('single-quoted key', 400, json_is({ detail => 'JSON parse error - Expecting property name enclosed in double '
    . 'quotes: line 1 column 2 (char 1)' }), post_raw(q({'name':"x","metadata":{}})));
refused('raw tab in a string', 400, json_is({ detail => 'JSON parse error - Invalid control character at: line 1 '
    . 'column 11 (char 10)' }), post_raw(qq({"name":"a\tb","metadata":{}})));
# A NUL in a key: json-c would cut the key there ("a\u0000b" would become "a").
refused('\u0000 in a metadata key', 400, json_is({ detail => 'JSON parse error - Null characters are not allowed in an '
    . 'object key: line 1 column 27 (char 26)' }), post_raw('{"name":"x","metadata":{"a\u0000b":1,"a":2}}'));
refused('\u0000 in a nested key of a PUT', 400, detail_like(qr/^JSON parse error - Null characters are not allowed in an object key/),
    put_raw($draft, '{"name":"x","metadata":{"l":[{"k\u0000":1}]}}'));
my $owners_before = $t->get($owners)->{body};
refused('\u0000 in an owners key', 400, detail_like(qr/^JSON parse error - Null characters are not allowed in an object key/),
    put_raw($owners, '[{"username\u0000x":"alice"}]'));
is($t->get($owners)->{body}, $owners_before, 'the owners are unchanged');
# Nesting: 64 levels of arrays and objects are read (metadata of 63), 65 are not.
my $nest = sub { '{"name":"x","metadata":{"a":' . ('[' x $_[0]) . ('1' x !!$_[1]) . (']' x $_[0]) . '}}' };
is($t->request(post_raw($nest->(62)))->{status}, 200, 'a body 64 levels deep is accepted');
is($t->request(post_raw($nest->(62, 1)))->{status}, 200, 'with a value at the bottom too');
refused('a body 65 levels deep', 400, json_is({ detail => 'JSON parse error - Nesting deeper than 64 levels: line 1 '
    . 'column 91 (char 90)' }), post_raw($nest->(63)));
refused('a body 65 levels deep, a value at the bottom', 400, detail_like(qr/^JSON parse error - Nesting deeper than 64 levels: line 1 column 91 \(char 90\)$/),
    post_raw($nest->(63, 1)));
refused('PUT malformed JSON', 400, detail_like(qr/^JSON parse error/), 'PUT', $draft, body => '{"name":',
    token => $alice, headers => { 'Content-Type' => 'application/json' });
refused('owners malformed JSON', 400, detail_like(qr/^JSON parse error/), 'PUT', "/api/dandisets/$id/users/",
    body => '[{"username":', token => $alice, headers => { 'Content-Type' => 'application/json' });

# --- wrong types --------------------------------------------------------------

refused('body is a list', 400, json_is({ non_field_errors => ['Invalid data. Expected a dictionary, but got list.'] }),
    post_json([ { name => 'x' } ]));
refused('body is a string', 400, json_is({ non_field_errors => ['Invalid data. Expected a dictionary, but got str.'] }),
    post_json('x'));
refused('body is null', 400, undef, post_raw('null'));
refused('empty object', 400, json_is({ name => ['This field is required.'], metadata => ['This field is required.'] }),
    post_json({}));
refused('name is a list', 400, json_is({ name => ['Not a valid string.'] }), post_json({ name => [], metadata => {} }));
refused('name is an object', 400, json_is({ name => ['Not a valid string.'] }), post_json({ name => {}, metadata => {} }));
refused('name is a boolean', 400, json_is({ name => ['Not a valid string.'] }),
    post_json({ name => JSON::PP::true, metadata => {} }));
refused('name is null', 400, json_is({ name => ['This field may not be null.'] }), post_json({ name => undef, metadata => {} }));
refused('name is blank', 400, json_is({ name => ['This field may not be blank.'] }), post_json({ name => '', metadata => {} }));
refused('metadata is null', 400, json_is({ metadata => ['This field may not be null.'] }),
    post_json({ name => 'x', metadata => undef }));
refused('metadata is a list', 400, json_is({ metadata => ['Expected a dictionary of items but got type "list".'] }),
    post_json({ name => 'x', metadata => [] }));
refused('metadata is a number', 400, json_is({ metadata => ['Expected a dictionary of items but got type "int".'] }),
    post_json({ name => 'x', metadata => 5 }));
refused('metadata is a string', 400, json_is({ metadata => ['Expected a dictionary of items but got type "str".'] }),
    post_json({ name => 'x', metadata => 'x' }));
refused('PUT name is null', 400, json_is({ name => ['This field may not be null.'] }),
    'PUT', $draft, json => { name => undef, metadata => {} }, token => $alice);
refused('PUT metadata is null', 400, json_is({ metadata => ['This field may not be null.'] }),
    'PUT', $draft, json => { name => 'x', metadata => undef }, token => $alice);
refused('owners item is a string', 400, json_is([ { username => ['This field is required.'] } ]),
    'PUT', "/api/dandisets/$id/users/", json => ['alice'], token => $alice);
refused('owners username is a number', 400, undef,
    'PUT', "/api/dandisets/$id/users/", json => [ { username => 5 } ], token => $alice);
refused('NUL in name', 400, json_is({ name => ['Null characters are not allowed.'] }),
    post_json({ name => "a\x{0}b", metadata => {} }));
refused('NUL in metadata', 400, undef, post_json({ name => 'x', metadata => { description => "a\x{0}b" } }));
refused('invalid UTF-8 in the body', 400, undef, post_raw(qq({"name":"caf\xe9","metadata":{}})));
# A NUL in a string that becomes an SQL parameter or is compared as a C string would be
# cut there without a word ("alice\u0000x" taken for alice): DRF's answer instead.
my $bob = $t->user('bob', first => 'Bob', last => 'Jones');
my $owners_now = $t->get("/api/dandisets/$id/users/")->{body};
refused('NUL in an owner username', 400, json_is([ { username => ['Null characters are not allowed.'] } ]),
    'PUT', "/api/dandisets/$id/users/", json => [ { username => 'alice' }, { username => "bob\x{0}x" } ], token => $alice);
is($t->get("/api/dandisets/$id/users/")->{body}, $owners_now, 'bob was not made an owner');
my $etag = ('a' x 32) . '-1';
my $blob = '00000001-1111-4000-8000-000000000000';
$t->psql("INSERT INTO blobs (blob_id, blob, etag, size, sha256) VALUES ('$blob', 'blobs/x', '$etag', 10, '"
    . ('b' x 64) . "')");
is($t->post('/api/blobs/digest/', { algorithm => 'dandi:dandi-etag', value => $etag })->{status}, 200, 'blobs/digest finds the blob');
refused('NUL in blobs/digest value', 400, json_is({ value => ['Null characters are not allowed.'] }),
    'POST', '/api/blobs/digest/', json => { algorithm => 'dandi:dandi-etag', value => "$etag\x{0}x" });
my %init = (contentSize => 10, digest => { algorithm => 'dandi:dandi-etag', value => ('c' x 32) . '-1' }, dandiset => $id);
refused('NUL in an upload digest value', 400, json_is({ digest => { value => ['Null characters are not allowed.'] } }),
    'POST', '/api/uploads/initialize/', token => $alice, json => { %init, digest => { %{ $init{digest} }, value => ('c' x 32) . "-1\x{0}" } });
refused('NUL in an upload digest algorithm', 400, json_is({ digest => { algorithm => ['Null characters are not allowed.'] } }),
    'POST', '/api/uploads/initialize/', token => $alice, json => { %init, digest => { %{ $init{digest} }, algorithm => "dandi:dandi-etag\x{0}" } });
refused('NUL in an upload dandiset', 400, json_is({ dandiset => ['A valid Dandiset identifier is required.'] }),
    'POST', '/api/uploads/initialize/', token => $alice, json => { %init, dandiset => "$id\x{0}" });
refused('NUL in an upload part etag', 400, json_is({ parts => ['An etag holds characters it cannot have.'] }),
    'POST', "/api/uploads/$blob/complete/", token => $alice, json => { parts => [ { part_number => 1, size => 10, etag => "abc\x{0}" } ] });
my $zarrs = one('SELECT count(*) FROM zarrs');
refused('NUL in a zarr dandiset', 400, json_is({ dandiset => ['A valid Dandiset identifier is required.'] }),
    'POST', '/api/zarr/', token => $alice, json => { name => 'a.zarr', dandiset => "$id\x{0}" });
is(one('SELECT count(*) FROM zarrs'), $zarrs, 'no zarr was made');
refused('NUL in an asset blob_id', 400, json_is({ blob_id => ['Must be a valid UUID.'] }),
    'POST', "${draft}assets/", token => $alice, json => { blob_id => "$blob\x{0}", metadata => { path => 'a.nwb' } });
is(one('SELECT count(*) FROM assets'), 0, 'no asset was made');

# --- identifiers in paths --------------------------------------------------------

for my $path ('/api/dandisets/abc/', '/api/dandisets/12345/', '/api/dandisets/1234567/',
    '/api/dandisets/00000a/', '/api/dandisets/-00001/', '/api/dandisets/000001.0/',
    '/api/dandisets/999998/', '/api/dandisets/000000/', "/api/dandisets/$id/versions/draftx/",
    "/api/dandisets/$id/versions/0.1.2/", "/api/dandisets/$id/versions/0.999999.9999/",
    "/api/dandisets/$id/versions/0.999999.9999/info/", '/api/dandisets/999998/versions/draft/',
    '/api/dandisets/999998/users/', "/api/dandisets/%30%30%30%30%30%39/") {
	refused("GET $path", 404, json_is({ detail => 'Not found.' }), 'GET', $path);
}
refused('DELETE unknown id', 404, undef, 'DELETE', '/api/dandisets/999998/', token => $alice);
refused('PUT unknown version', 404, undef, 'PUT', "/api/dandisets/$id/versions/0.999999.9999/",
    json => { name => 'x', metadata => {} }, token => $alice);
refused('star unknown id', 404, undef, 'POST', '/api/dandisets/999998/star/', token => $alice);
is($t->get('/api/dandisets/' . join('', map { sprintf '%%%02X', ord } split //, $id) . '/')->{status}, 200,
    'percent-encoded digits are still the id');

# --- SQL metacharacters and unicode are data ------------------------------------------

for my $name ("Robert'); DROP TABLE dandisets;--", q{"quoted" \backslash\ $1 %s %n {a,b} NULL},
    'Ünïcödé 数据 🧠 ñ', "tab\tnewline\nend", "' OR '1'='1", ('é' x 300), ('🧠' x 300)) {
	my $label = length($name) > 40 ? substr($name, 0, 20) . '... (' . length($name) . ' chars)' : $name;
	my $r = $t->post('/api/dandisets/', { name => $name, metadata => { description => $name } }, token => $alice);
	is($r->{status}, 200, "create '$label'") or next;
	my $did = $r->{json}{identifier};
	is($r->{json}{draft_version}{name}, $name, "'$label': name returned verbatim");
	my $md = $t->get("/api/dandisets/$did/versions/draft/")->{json};
	is_deeply([ $md->{name}, $md->{description} ], [ $name, $name ], "'$label': metadata verbatim");
	is($t->get("/api/dandisets/$did/")->{json}{draft_version}{name}, $name, "'$label': detail verbatim");
}
is(one("SELECT count(*) FROM pg_tables WHERE tablename = 'dandisets'"), 1, 'the dandisets table survived');
refused('301 multibyte characters', 400, json_is({ name => ['Ensure this field has no more than 300 characters.'] }),
    post_json({ name => 'é' x 301, metadata => {} }));

for my $q ("Robert'); DROP", q{"quoted"}, '\\', '{a,b}', 'NULL', "' OR '1'='1", '数据', '🧠',
    'a"b c"d', '""', '" "', ',', '%', '_') {
	my $r = $t->get('/api/dandisets/?search=' . enc($q));
	is($r->{status}, 200, "search '$q': 200") or diag($r->{body});
}
# A lone quote, whitespace alone, a NUL: the original's 400s (t/96 has the rest).
for ([ '"', { search => 'Unbalanced quote in search query. Remove the stray quote, or wrap the intended phrase in matched quotes.' } ],
    [ "\t", { search => [ 'This field may not be blank.' ] } ],
    [ "a\0b", { search => [ 'Null characters are not allowed.' ] } ]) {
	my ($q, $want) = @$_;
	my $r = $t->get('/api/dandisets/?search=' . enc($q));
	is_deeply([ $r->{status}, $r->{json} ], [ 400, $want ], 'search ' . join('', map { sprintf '\\x%02x', ord } split //, $q) . ': 400');
}
my $r = $t->get('/api/dandisets/?search=' . enc("DROP TABLE dandisets"));
is_deeply([ map { $_->{draft_version}{name} } @{ $r->{json}{results} || [] } ],
    ["Robert'); DROP TABLE dandisets;--"], 'search finds the metacharacter name');
$r = $t->get('/api/dandisets/?search=' . enc('数据'));
is_deeply([ map { $_->{draft_version}{name} } @{ $r->{json}{results} || [] } ], ['Ünïcödé 数据 🧠 ñ'],
    'search finds CJK text');
$r = $t->get('/api/dandisets/?search=' . enc('ÜNÏCÖDÉ'));
is(scalar @{ $r->{json}{results} || [] }, 1, 'search folds accents and case');
$r = $t->get('/api/dandisets/?search=%FF%FE');
is($r->{status}, 200, 'invalid UTF-8 in a search is no match, not an error');
is($t->get('/api/dandisets/?ordering=' . enc("name; DROP TABLE dandisets"))->{status}, 200, 'ordering injection ignored');
is($t->get('/api/dandisets/?page_size=' . enc("1; DROP"))->{status}, 200, 'page_size injection falls back');
refused('page injection', 404, json_is({ detail => 'Invalid page.' }), 'GET', '/api/dandisets/?page=' . enc("1 OR 1=1"));

# --- size limits and encodings ----------------------------------------------------

my $big = '{"name":"big","metadata":{"description":"' . ('x' x ($MAX_BODY + 1)) . '"}}';
refused('oversized body', 413, json_is({ detail => 'Request body too large.' }), post_raw($big));
refused('oversized PUT', 413, undef, 'PUT', $draft, body => $big, token => $alice,
    headers => { 'Content-Type' => 'application/json' });
my $fits = '{"name":"fits","metadata":{"description":"' . ('x' x ($MAX_BODY - 100)) . '"}}';
is($t->request(post_raw($fits))->{status}, 200, 'a body just under the limit is accepted');

# Refused by nginx before the API, from the Content-Length alone: still
# JSON. The client asks first (Expect: 100-continue, as curl does for a
# big body) and gets the 413 instead of a 100 Continue; writing all 65 MiB
# would race nginx closing the connection after its early answer.
refused('body over the nginx limit', 413, json_is({ detail => 'Request body too large.' }), sub {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => ($t->api_url =~ m{:(\d+)$})[0], Proto => 'tcp', Timeout => 60)
	    or die "connect: $!";
	print $s "POST /api/dandisets/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token $alice\r\n"
	    . "Content-Type: application/json\r\nContent-Length: " . (65 * 1024 * 1024) . "\r\n"
	    . "Expect: 100-continue\r\nConnection: close\r\n\r\n";
	my $buf = '';
	while ($buf !~ /\r\n\r\n/) { sysread($s, $buf, 65536, length $buf) or last }
	my ($head, $body) = split /\r\n\r\n/, $buf, 2;
	my ($status, @lines) = split /\r\n/, $head // '';
	my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @lines;
	while (length($body // '') < ($h{'content-length'} // 0)) { sysread($s, $body, 65536, length $body) or last }
	close $s;
	my ($code) = ($status // '') =~ m{^HTTP/1\.\d (\d{3})} or diag("no answer: $buf");
	return { status => $code // 0, headers => \%h, body => $body, json => eval { decode_json($body) } };
});
refused('oversized header', 431, json_is({ detail => 'Request header fields too large.' }),
    'GET', '/api/dandisets/', headers => { 'X-Big' => 'x' x (70 * 1024) });
refused('oversized URI', 414, json_is({ detail => 'Request URI too long.' }),
    'GET', '/api/dandisets/?search=' . ('x' x (70 * 1024)));

# Request lines and headers of every size get JSON, never nginx's HTML 500
# "fastcgi request record is too big": the parameters nginx passes to the
# API travel in one record of at most 64 KiB, with the path three times and
# the query twice, which held a query of 32,550 bytes or a path of 21,700.
# The site refuses a URI over 16 KiB (414) and a request head of 20,000
# bytes or more (431) before that; up to the 64 KiB of nginx's buffers the
# refusal is the site's, with CORS, beyond it nginx's own (JSON too).
my $cors = sub {
	my ($want) = @_;
	return sub { is($_[0]{headers}{'access-control-allow-origin'}, $want ? $t->api_url : undef, "$_[1]: CORS") };
};
my $uri_long = json_is({ detail => 'Request URI too long.' });
my $head_large = json_is({ detail => 'Request header fields too large.' });
for my $kb (8, 16, 31, 33, 40, 48, 60, 63, 65, 100) {
	my $line = $kb * 1024;		# "GET <uri> HTTP/1.1\r\n"
	my $query = '/api/info/?pad=' . ('q' x ($line - length('GET /api/info/?pad= HTTP/1.1') - 2));
	my $path = '/api/dandisets/' . ('p' x ($line - length('GET /api/dandisets// HTTP/1.1') - 2)) . '/';
	my @origin = (headers => { Origin => $t->api_url });
	if ($kb <= 16) {
		# 16 KiB of request line is just under the URI limit.
		my $r = $t->request('GET', $query, @origin);
		is($r->{status}, 200, "request line of $kb KiB (query): 200");
		like($r->{headers}{'content-type'} // '', qr{^application/json}, "request line of $kb KiB (query): JSON");
		refused("request line of $kb KiB (path)", 404, json_is({ detail => 'Not found.' }), 'GET', $path, @origin);
		next;
	}
	my $ours = $kb < 64;
	refused("request line of $kb KiB (query)", 414, sub { $uri_long->(@_); $cors->($ours)->(@_) }, 'GET', $query, @origin);
	refused("request line of $kb KiB (path)", 414, sub { $uri_long->(@_); $cors->($ours)->(@_) }, 'GET', $path, @origin);
}
for my $kb (8, 19) {
	my $r = $t->get('/api/info/', headers => { 'X-Big' => 'h' x ($kb * 1024) });
	is($r->{status}, 200, "a header of $kb KiB: 200");
}
for my $kb (20, 33, 48, 63, 65, 100) {
	refused("a header of $kb KiB", 431, $kb < 64 ? sub { $head_large->(@_); $cors->(1)->(@_) } : $head_large,
	    'GET', '/api/info/', headers => { Origin => $t->api_url, 'X-Big' => 'h' x ($kb * 1024) });
}
refused('40 headers of 1 KiB', 431, $head_large, 'GET', '/api/info/',
    headers => { map { ("X-H$_" => 'h' x 1024) } 1 .. 40 });
refused('2000 small headers', 431, $head_large, 'GET', '/api/info/',
    headers => { map { ("X-H$_" => 'h') } 1 .. 2000 });
refused('a URI of 15 KiB and headers of 6 KiB', 431, $head_large, 'GET', '/api/info/?pad=' . ('q' x (15 * 1024)),
    headers => { 'X-Big' => 'h' x (6 * 1024) });
# A big body is not part of the head.
is($t->request(post_raw('{"name":"body","metadata":{"description":"' . ('x' x 30000) . '"}}'))->{status}, 200,
    'a 30 KB body with a small head is accepted');

refused('bad escape in query', 400, json_is({ detail => 'Malformed query string.' }), 'GET', '/api/dandisets/?search=%zz');
refused('truncated escape in query', 400, json_is({ detail => 'Malformed query string.' }), 'GET', '/api/dandisets/?search=%4');
$r = $t->get('/api/dandisets/%zz/');
ok($r->{status} == 400 || $r->{status} == 404, 'bad escape in the path is refused') or diag($r->{status});
is($t->get('/api/info/')->{status}, 200, 'still answering after a bad path');
$r = $t->get('/api/dandisets/%00/');
ok($r->{status} == 400 || $r->{status} == 404, 'encoded NUL in the path is refused') or diag($r->{status});
is($t->get('/api/info/')->{status}, 200, 'still answering after an encoded NUL');

done_testing;
