# Every SQL statement of dandi-api and dandi-jobs, prepared against a
# freshly migrated database as the programs prepare them (t/unit/sql-check):
# each must prepare, no two of a connection may share a name, and a
# statement that names its result columns (struct db_sql) must have as
# many as PostgreSQL describes, so a misspelt, miscounted or reordered
# column list fails here rather than in a request.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use DandiTest;

my $t = DandiTest->new(s3 => 0, workers => 1);
my ($out, $err, $rc) = $t->run_cmd(DandiTest::build() . '/t/unit/sql-check');
is($rc, 0, 'sql-check ran') or diag($err);

my (%n, %seen, @kinds);
for (split /\n/, $out) {
	my @f = split /\t/, $_, -1;
	if ($f[0] eq 'kind') {
		push @kinds, $f[1];
		next;
	}
	next unless $f[0] eq 'stmt';
	my (undef, $conn, $name, $declared, $described, $error) = @f;
	if ($conn eq 'control') {
		isnt($described, $declared, "the control statement's wrong column count is seen ($declared declared, $described)");
		next;
	}
	$n{$conn}++;
	ok(!$seen{"$conn $name"}++, "$conn: $name is one statement");
	is($error, '', "$conn: $name prepares");
	next if $declared eq '-';
	$n{"$conn named"}++;
	is($described, $declared, "$conn: $name has the $declared result column(s) its enum names");
}
cmp_ok($n{api} // 0, '>', 100, "dandi-api's statements were all checked ($n{api})");
cmp_ok($n{jobs} // 0, '>', 60, "dandi-jobs' statements were all checked ($n{jobs})");
is($n{'jobs named'}, $n{jobs}, 'every statement of dandi-jobs names its columns');
is($n{claim} // 0, 4, 'the claim connection has its four');

ok(@kinds >= 8, 'job kinds listed');
done_testing;
