# The source tree is installable as it is: every migration ships with the
# programs and the scripts the README names exist and are executable.
use strict;
use warnings;
use Test::More;

open(my $fh, '<', 'Makefile.am') or die "Makefile.am: $!";
my $am = do { local $/; <$fh> };
$am =~ s/\\\n/ /g;
my ($listed) = $am =~ /^dist_sql_DATA\s*=\s*(.*)$/m;
my %listed = map { $_ => 1 } split ' ', $listed // '';
my @sql = sort glob 'sql/*.sql';
ok(@sql >= 2, 'migrations exist');
ok($listed{$_}, "$_ is installed (dist_sql_DATA)") for @sql;
my @nums = map { m{sql/(\d+)_} ? $1 : 'bad' } @sql;
is_deeply(\@nums, [ map { sprintf '%03d', $_ } 1 .. @sql ], 'migrations are numbered 001.. without gaps');
# The SQL functions (sql/README.md) ship too.
my ($fn_listed) = $am =~ /^dist_sqlfunctions_DATA\s*=\s*(.*)$/m;
my %fn_listed = map { $_ => 1 } split ' ', $fn_listed // '';
my @fn = sort glob 'sql/functions/*.sql';
ok(@fn >= 1, 'function files exist');
ok($fn_listed{$_}, "$_ is installed (dist_sqlfunctions_DATA)") for @fn;
# The OpenAPI document dandi-api serves ships with it.
my ($openapi) = $am =~ /^dist_openapi_DATA\s*=\s*(.*)$/m;
my %openapi = map { $_ => 1 } split ' ', $openapi // '';
ok($openapi{$_}, "$_ is installed (dist_openapi_DATA)") for glob 'share/openapi/*.json';
ok(-f 'share/openapi/openapi.json', 'the OpenAPI document exists');
# One JSON parser (src/lib/jsonread.c, one nesting limit): nothing else reads
# JSON with json-c directly, so what the API accepts every program reads back.
my @direct = grep { !m{^src/lib/jsonread\.c:} }
    split /\n/, `grep -rnE --include='*.[ch]' 'json_tokener_|json_object_from_(file|fd)' src t/unit/emit-tool.c`;
is_deeply(\@direct, [], 'JSON is read only through jsonread()') or diag(join "\n", @direct);
ok(-x $_, "$_ is executable") for qw(contrib/dev/stack-up contrib/dev/stack-down contrib/dev/run-tests
    contrib/dev/install-deps contrib/dev/pg-ctl contrib/dev/nginx-ctl contrib/dev/s3-ctl .ci/run contrib/soak/run);
done_testing;
