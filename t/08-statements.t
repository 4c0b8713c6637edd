# Every SQL statement of dandi-api, dandi-jobs and dandi-admin, prepared
# against a freshly migrated database as the programs prepare them
# (t/unit/sql-check): each must prepare, no two of a connection may share a
# name, and each (a struct db_sql, its result columns named by an enum)
# must have as many columns as PostgreSQL describes, so a misspelt,
# miscounted or reordered column list fails here rather than in a request. The job kinds of
# dandi-jobs.c are the rows of job_kinds, and dandi_enqueue() queues them.
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
	is($described, $declared, "$conn: $name has the $declared result column(s) its enum names");
}
cmp_ok($n{api} // 0, '>', 100, "dandi-api's statements were all checked ($n{api})");
cmp_ok($n{jobs} // 0, '>', 60, "dandi-jobs' statements were all checked ($n{jobs})");
is($n{claim} // 0, 4, 'the claim connection has its four');
is($n{admin} // 0, 12, "dandi-admin's twelve");

# The job kinds: dandi-jobs.c's table is job_kinds, and nothing else is queued.
sub one { my @r = $t->psql($_[0]); $r[0][0] }
ok(@kinds >= 8, 'job kinds listed');
is_deeply([ sort @kinds ], [ map { $_->[0] } $t->psql('SELECT kind FROM job_kinds ORDER BY kind') ],
    "dandi-jobs.c's kinds are job_kinds' rows");
ok(!eval { $t->psql("SELECT dandi_enqueue('no_such_kind', 'k', '{}')"); 1 }, 'an unknown kind is refused');
like($@, qr/jobs_kind_fkey/, '... by the foreign key');
ok(!eval { $t->psql(q{INSERT INTO jobs (kind, args) VALUES ('no_such_kind', '{"key": "k"}')}); 1 },
    '... written by hand too');

# dandi_enqueue: one queued job per kind and key; a kind that does not
# requeue says so with NULL, manifests hands back the queued job.
my $id = one(q{SELECT dandi_enqueue('sha256', 'b1', '{"blob": "b1"}')});
like($id, qr/^\d+$/, 'queued: its id');
is(one(q{SELECT args::text FROM jobs WHERE id = } . $id), '{"key": "b1", "blob": "b1"}', 'the key is in args');
is(one(q{SELECT dandi_enqueue('sha256', 'b1', '{"blob": "b1"}') IS NULL}), 't', 'again: NULL, nothing queued');
is(one(q{SELECT dandi_enqueue('sha256', 'b2', '{"blob": "b2"}') IS NULL}), 'f', 'another key: queued');
my $m = one(q{SELECT dandi_enqueue('manifests', '7', '{"version_id": 7}')});
is(one(q{SELECT dandi_enqueue('manifests', '7', '{"version_id": 7}')}), $m, 'manifests: the queued job again');
$t->psql("UPDATE jobs SET state = 'done' WHERE id = $id");
isnt(one(q{SELECT dandi_enqueue('sha256', 'b1', '{"blob": "b1"}')}), $id, 'once done, the key queues anew');
is(one("SELECT count(*) FROM jobs WHERE kind = 'sha256'"), 3, 'three sha256 jobs in all');
done_testing;
