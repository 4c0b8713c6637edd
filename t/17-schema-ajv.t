# The served metadata schemas are dandischema's: /api/schemas/ under the
# dandiarchive.org configuration (instance DANDI, DOI prefix 10.48324, its
# web URL) is what dandischema 0.12 generates for it
# (t/data/dandischema-0.7.0-dandiarchive/), and under the default one the
# shipped files with the instance's URL; and every served schema compiles
# with Ajv (draft 2020-12, unicode patterns) as the original DANDI web app
# compiles it, and in strict mode (t/web/ajv-schemas.mjs).
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use DandiTest;

my $ROOT = DandiTest->root;
my $JSON = JSON::PP->new->canonical;
my @MODELS = qw(Dandiset Asset PublishedDandiset PublishedAsset);
my %FILE = (Dandiset => 'dandiset', Asset => 'asset', PublishedDandiset => 'published-dandiset',
    PublishedAsset => 'published-asset');

sub slurp_json {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	local $/;
	return decode_json(<$fh>);
}

# dandischema lists the licenses from a set: the order of an enum is not
# the schema's.
sub sorted_enums {
	my ($o) = @_;
	if (ref $o eq 'HASH') {
		$o->{$_} = $_ eq 'enum' && ref $o->{$_} eq 'ARRAY' ? [ sort { $JSON->encode($a) cmp $JSON->encode($b) }
		    @{ $o->{$_} } ] : sorted_enums($o->{$_}) for keys %$o;
	} elsif (ref $o eq 'ARRAY') {
		$_ = sorted_enums($_) for @$o;
	}
	return $o;
}

sub ajv_ok {
	my ($t, $what) = @_;
	SKIP: {
		skip 'node or web/node_modules/@redocly/ajv missing (contrib/dev/build-web)', 1
		    unless -d "$ROOT/web/node_modules/\@redocly/ajv" && grep { -x "$_/node" } split /:/, $ENV{PATH} // '';
		my @out = `node $ROOT/t/web/ajv-schemas.mjs @{[ $t->api_url ]} 2>&1`;
		my $status = $?;
		subtest "Ajv compiles every served schema ($what)" => sub {
			my $n = 0;
			for (@out) {
				chomp;
				if (/^(not )?ok \d+ - (.*)$/) { ok(!$1, $2); $n++ }
				elsif (/^# (.*)/) { note($1) }
				elsif (!/^1\.\./) { diag($_) }
			}
			# info's schema_url, and each model with and without ?version=.
			is($n, 2 * (1 + 2 * @MODELS), 'both Ajv configurations for every schema URL');
			is($status, 0, 'ajv-schemas.mjs exited 0');
		};
	}
}

my $t = DandiTest->new(s3 => 0, workers => 1);
is_deeply($t->get('/api/schemas/available/')->{json}, \@MODELS, 'the four models');
for my $m (@MODELS) {
	my $r = $t->get("/api/schemas/?model=$m");
	is($r->{status}, 200, "$m: 200");
	my $want = slurp_json("$ROOT/share/schema/0.7.0/$FILE{$m}.json");
	# The only part of the shipped file the default configuration changes.
	$want->{properties}{repository}{default} = $t->web_url . '/';
	is_deeply($r->{json}, $want, "$m: the shipped dandischema file, repository defaulting to the web app");
	unlike($r->{body}, qr/\\\\:/, "$m: no escaped colon (Ajv's unicode mode refuses it)");
}
my $pd = $t->get('/api/schemas/?model=PublishedDandiset')->{json};
is($pd->{properties}{doi}{pattern}, '^(10\.\d{4,}/dandi\.\d{6}/\d+\.\d+\.\d+|)$', 'no DOI prefix: any prefix or empty');
is($pd->{properties}{doi}{default}, '', 'no DOI prefix: the DOI defaults to empty');
ok(!(grep { $_ eq 'doi' } @{ $pd->{required} }), 'no DOI prefix: doi not required');
ajv_ok($t, 'default configuration');

my $d = DandiTest->new(s3 => 0, workers => 1, tag => 'dandiarchive', env => {
	DANDI_DOI_PREFIX => '10.48324', DANDI_INSTANCE_IDENTIFIER => 'RRID:SCR_017571',
	DANDI_WEB_URL => 'https://dandiarchive.org' });
for my $m (@MODELS) {
	my $got = $d->get("/api/schemas/?model=$m")->{json};
	my $want = slurp_json("$ROOT/t/data/dandischema-0.7.0-dandiarchive/$FILE{$m}.json");
	is_deeply(sorted_enums($got), sorted_enums($want), "$m under dandiarchive.org's configuration: dandischema's");
}
ajv_ok($d, 'dandiarchive.org configuration');

done_testing;
