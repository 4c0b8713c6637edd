# dandi-admin migrate and the two kinds of schema files (sql/README.md):
# numbered table migrations, applied once each, and sql/functions/,
# re-applied on every run.
#
# The proof that moving the functions out of the migrations changed no
# database: the migrations as released (read from git at $RELEASED) are
# applied the way the old migrate did, stopped after each of them in turn,
# then the database is upgraded with this tree's files; every one of those
# ends with the same schema (pg_dump --schema-only: tables, indexes, views,
# triggers, functions) as a fresh install of this tree. And the functions
# of the released migrations are, text for text, the ones sql/functions/
# defines (but for dandi_asset_json, which 013 drops).
#
# Then what migrate promises: idempotent, one transaction (a bad function
# body leaves nothing behind), safe when two hosts run it at once (the
# advisory lock), hand-edited functions put back, and a dandi_* function
# that no file defines (a leftover overload) refused.
use strict;
use warnings;
use Test::More;
use File::Path qw(rmtree);
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep);
use lib 't/lib';
use DandiTest;

my $ROOT = DandiTest::root();
my $ADMIN = DandiTest::build() . '/src/dandi-admin';
# main when 001..012 were released, their functions inside them.
my $RELEASED = '3214622b671e08e888be8059e232f50c32b9517f';

chdir $ROOT or die;
my @released = grep { m{^sql/\d{3}_.*\.sql$} }
    split /\n/, `git ls-tree --name-only $RELEASED sql/ 2>/dev/null`;
plan skip_all => "needs the git history (commit $RELEASED) for the released migrations"
    unless @released == 12;

# A PostgreSQL cluster of our own; one database per case.
my $dir = tempdir('dandi-07-migrate-XXXXXX', DIR => $ENV{DANDI_TEST_TMP} || '/tmp');
chmod 0755, $dir;
my $port = DandiTest::free_port();
system("$ROOT/contrib/dev/pg-ctl", 'start', "$dir/pg", $port, '--fast') == 0 or die "pg-ctl start failed";
END {
	my $rc = $?;
	if ($dir && -d "$dir/pg") {
		system("$ROOT/contrib/dev/pg-ctl", 'stop', "$dir/pg");
		rmtree($dir) if Test::More->builder->is_passing && !$ENV{DANDI_KEEP_TMP};
	}
	$? = $rc;
}
my @PG = ('-h', "$dir/pg", '-p', $port, '-U', 'postgres');

sub run {	# (stdout, stderr, exit code) of a command
	my (@cmd) = @_;
	my $errf = "$dir/stderr.$$";
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		open(STDERR, '>', $errf) or die;
		exec(@cmd) or POSIX::_exit(127);
	}
	my $out = do { local $/; <$fh> } // '';
	close $fh;
	my $rc = $? >> 8;
	my $err = do { local $/; open my $e, '<', $errf or die; <$e> } // '';
	return ($out, $err, $rc);
}

sub psql {
	my ($db, $sql) = @_;
	my ($out, $err, $rc) = run('psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', @PG, '-d', $db, '-c', $sql);
	die "psql $db: $sql\n$err" if $rc;
	chomp $out;
	return $out;
}

my $n = 0;
sub new_db {
	my $db = 'd' . ++$n;
	psql('postgres', "CREATE DATABASE $db");
	return $db;
}

sub migrate {	# dandi-admin migrate on $db from $sqldir
	my ($db, $sqldir) = @_;
	local $ENV{DANDI_DB} = "host=$dir/pg port=$port dbname=$db user=postgres";
	local $ENV{DANDI_LOG_FILE} = "$dir/admin.log";
	return run($ADMIN, 'migrate', '--sql-dir', $sqldir // "$ROOT/sql");
}

# The released migrations 001..$upto applied as the released migrate did:
# each file once, in one transaction with its record in schema_migrations.
my $olddir = "$dir/released";
mkdir $olddir;
for my $f (@released) {
	my ($name) = $f =~ m{([^/]+)$};
	system("git show $RELEASED:$f > $olddir/$name") == 0 or die "git show $f";
}
sub migrate_released {
	my ($db, $upto) = @_;
	my $script = "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    . " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());\n";
	for my $f (sort glob "$olddir/*.sql") {
		my ($name, $num) = $f =~ m{/((\d{3})_[^/]+)$};
		last if $num > $upto;
		$script .= "BEGIN;\n\\i $f\nINSERT INTO schema_migrations (name) VALUES ('$name');\nCOMMIT;\n";
	}
	open(my $fh, '>', "$dir/released.psql") or die;
	print $fh $script;
	close $fh;
	my (undef, $err, $rc) = run('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', @PG, '-d', $db,
	    '-f', "$dir/released.psql");
	die "released migrations up to $upto: $err" if $rc;
}

# The schema as pg_dump writes it, without comments, blank lines, and the
# \restrict lines that carry a random key.
sub schema {
	my ($db) = @_;
	my ($out, $err, $rc) = run('pg_dump', '--schema-only', '--no-owner', '--no-privileges', @PG, $db);
	die "pg_dump $db: $err" if $rc;
	return join '', grep { !/^--/ && !/^\\(un)?restrict / && /\S/ } split /^/, $out;
}

sub same_schema {	# is() on long text, with a short diff when not
	my ($got, $want, $name) = @_;
	return pass($name) if $got eq $want;
	my @g = split /\n/, $got;
	my @w = split /\n/, $want;
	my $i = 0;
	$i++ while $i < @g && $i < @w && $g[$i] eq $w[$i];
	fail($name);
	diag("first difference at line " . ($i + 1) . ":\n  got:  " . ($g[$i] // '(end)')
	    . "\n  want: " . ($w[$i] // '(end)'));
}

# --- the files themselves --------------------------------------------------
my %defined;	# function name -> file
my @fnfiles = sort glob 'sql/functions/*.sql';
ok(@fnfiles >= 5, 'function files exist');
for my $f (@fnfiles) {
	open(my $fh, '<', $f) or die "$f: $!";
	my @l = <$fh>;
	my $header = '';
	for (@l) { last unless /^--/; $header .= $_ }
	like($header, qr/^-- needs: (\d{3}_\w+|none)\b/m, "$f states what it needs in its header");
	for my $i (0 .. $#l) {
		next unless $l[$i] =~ /^\s*CREATE\b.*\bFUNCTION\s+(\w+)/i;
		my $fn = $1;
		like($l[$i], qr/^CREATE OR REPLACE FUNCTION /, "$fn: CREATE OR REPLACE");
		ok(!$defined{$fn}, "$fn is defined once" . ($defined{$fn} ? " (also in $defined{$fn})" : ''));
		$defined{$fn} = $f;
		like($i > 0 ? $l[$i - 1] : '', qr/^--/, "$fn: a comment says what it is for");
	}
}
for my $f (sort glob 'sql/[0-9]*.sql') {
	open(my $fh, '<', $f) or die "$f: $!";
	my $text = do { local $/; <$fh> };
	$text =~ s/--[^\n]*//g;
	unlike($text, qr/\bCREATE\s+(OR\s+REPLACE\s+)?FUNCTION\b/i, "$f defines no function");
}

# --- a fresh install --------------------------------------------------------
my $fresh = new_db();
my ($out, $err, $rc) = migrate($fresh);
is($rc, 0, 'fresh install: migrate succeeds') or diag($err);
my $nmig = () = glob 'sql/[0-9]*.sql';
like($out, qr/^$nmig migration\(s\) applied, ${\ scalar @fnfiles} function file\(s\) applied$/m,
    'every migration and every function file applied');
my $want = schema($fresh);
my @in_db = split /\n/, psql($fresh, "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    . " AND proname LIKE 'dandi\\_%' ORDER BY 1");
is_deeply(\@in_db, [ sort keys %defined ], 'the database has exactly the functions of sql/functions/');
like(psql($fresh, "SELECT count(*) FROM pg_trigger WHERE tgname IN ('asset_versions_fill', 'blobs_integrity_row')"),
    qr/^2$/, 'the triggers of 006 and 010 exist (their functions came first)');

# Idempotent: again, nothing to apply and nothing changes.
($out, $err, $rc) = migrate($fresh);
is($rc, 0, 'second migrate succeeds') or diag($err);
like($out, qr/^0 migration\(s\) applied/m, 'second migrate applies no migration');
same_schema(schema($fresh), $want, 'second migrate changes nothing');

# --- released migrations, then this tree -------------------------------------
# The released functions are the ones of sql/functions/, text for text:
# only dandi_asset_json (dropped by 013) and those 016 changed differ.
my $rel = new_db();
migrate_released($rel, 12);
my $rel_schema = schema($rel);
# Function by function (later migrations add tables and functions of
# their own, which the release cannot have).
sub functions_of {
	my ($dump) = @_;
	my %f;
	# Up to the body's own closing quote ($$ or, when the body holds $$
	# or $1, pg_dump's $_$), not the next function's.
	$f{$1} = $& while $dump =~ /^CREATE FUNCTION public\.(\w+\(.*?\)).*?^    AS (\$\w*\$).*?\2;\n/msg;
	return \%f;
}
my ($rel_fn, $new_fn) = (functions_of($rel_schema), functions_of($want));
ok((grep { /^dandi_asset_json\(/ } keys %$rel_fn), 'the released schema has dandi_asset_json');
# Changed on purpose since: the folder tree's upkeep and its readers
# (016_folder_deltas: writers append folder deltas; dandi_asset_paths_add
# became dandi_asset_paths_put, dandi_path_prefixes dandi_path_folders);
# a published zarr asset's metadata keeps its snapshot's digest and size
# (020_zarr_snapshots: dandi_asset_metadata).
my %changed = map { $_ => 1 } qw(dandi_asset_json dandi_asset_paths_add dandi_asset_paths_remove
    dandi_path_prefixes dandi_publish_assets dandi_version_totals dandi_zarr_ingested dandi_asset_metadata);
my @differ = grep { !$changed{ (/^(\w+)\(/)[0] } && ($new_fn->{$_} // '') ne $rel_fn->{$_} } sort keys %$rel_fn;
is_deeply(\@differ, [], 'every released function but those changed on purpose is in this tree, text for text')
    or diag(join "\n", map { "released:\n$rel_fn->{$_}\nthis tree:\n" . ($new_fn->{$_} // '(none)') } @differ);
ok(keys %$rel_fn > 20, 'and the comparison saw the released functions (' . scalar(keys %$rel_fn) . ')');

# Upgrades from points of the release, after migration k: 1 (every
# function file is applied early, 80_search only once 011 is in), 5 (006
# needs its trigger's function; rows for the backfills of 006 and 010),
# 9 (010 needs its trigger's function), 10 (011 before 80_search), 12
# (only 013 pending).
for my $k (1, 5, 9, 10, 12) {
	my $db = $k == 12 ? $rel : new_db();
	migrate_released($db, $k) unless $k == 12;
	if ($k == 5) {
		psql($db, q{
			INSERT INTO dandisets (id) VALUES (7);
			INSERT INTO versions (dandiset_id, name, metadata, version)
			    VALUES (7, 'x', '{"schemaVersion": "0.6.4"}', 'draft');
			INSERT INTO blobs (blob_id, blob, etag, sha256, size)
			    VALUES (gen_random_uuid(), 'blobs/a', repeat('a', 32) || '-1', repeat('b', 64), 5);
			INSERT INTO assets (asset_id, path, blob_id, metadata, created)
			    SELECT gen_random_uuid(), 'sub-1/ä ✓.nwb', id, '{"schemaVersion": "0.6.4"}',
			           '2020-01-02 03:04:05.678901+00' FROM blobs;
			INSERT INTO asset_versions (asset_id, version_id) SELECT a.id, v.id FROM assets a, versions v;
		});
	}
	($out, $err, $rc) = migrate($db);
	is($rc, 0, "released up to $k, then this tree: migrate succeeds") or diag($err);
	same_schema(schema($db), $want, "released up to $k, then this tree == fresh install");
	if ($k == 5) {
		is(psql($db, "SELECT asset_created = '2020-01-02 03:04:05.678901+00' FROM asset_versions"), 't',
		    '006 backfilled the order column');
		is(psql($db, 'SELECT count(*) FROM blob_integrity'), '1', '010 enrolled the blob');
		psql($db, q{INSERT INTO versions (dandiset_id, name, metadata, version)
		    VALUES (7, 'x', '{"schemaVersion": "0.6.4"}', '0.200102.0304');
		    INSERT INTO asset_versions (asset_id, version_id)
		    SELECT a.id, v.id FROM assets a, versions v WHERE v.version <> 'draft'});
		is(psql($db, "SELECT count(DISTINCT asset_created) FROM asset_versions"), '1',
		    'the trigger of 006 fills a new row');
	}
}

# --- functions are code -------------------------------------------------------
# A function edited by hand in the database is put back by the next run.
my $db = $fresh;
psql($db, q{CREATE OR REPLACE FUNCTION dandi_ts(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 'edited' $$});
($out, $err, $rc) = migrate($db);
is($rc, 0, 'migrate over a hand-edited function succeeds') or diag($err);
same_schema(schema($db), $want, 'the hand-edited function is back to its file');

# A function no file defines (here: an old signature left beside the new
# one) is refused, and the run leaves nothing behind.
psql($db, q{CREATE FUNCTION dandi_ts(t timestamp) RETURNS text LANGUAGE sql AS $$ SELECT 'old' $$;
    CREATE OR REPLACE FUNCTION dandi_pyiso(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 'edited' $$});
($out, $err, $rc) = migrate($db);
isnt($rc, 0, 'a function no file defines: migrate fails');
like($err, qr/dandi_ts\(timestamp without time zone\)/, 'and names it');
unlike($err, qr/dandi_ts\(timestamp with time zone\)/, 'but not the function of the file');
is(psql($db, "SELECT dandi_pyiso(now())"), 'edited', 'and rolled back everything it did');
psql($db, 'DROP FUNCTION dandi_ts(timestamp)');

# One transaction: a function file that fails (its body checked in the
# last pass) leaves a new database empty.
my $bad = "$dir/bad-sql";
mkdir $bad;
mkdir "$bad/functions";
copy($_, $bad) or die for glob 'sql/[0-9]*.sql';
copy($_, "$bad/functions") or die for @fnfiles;
open(my $fh, '>', "$bad/functions/99_bad.sql") or die;
print $fh "-- a function over a table that does not exist\n-- needs: none\n"
    . "-- nothing\nCREATE OR REPLACE FUNCTION dandi_bad() RETURNS bigint\n"
    . "LANGUAGE sql AS \$\$ SELECT count(*) FROM no_such_table \$\$;\n";
close $fh;
$db = new_db();
($out, $err, $rc) = migrate($db, $bad);
isnt($rc, 0, 'a bad function body: migrate fails');
like($err, qr/99_bad\.sql: .*no_such_table/, 'and says where');
is(psql($db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), '0', 'and leaves no table behind');

# A file must say what it needs, and name a real migration.
open($fh, '>', "$bad/functions/99_bad.sql") or die;
print $fh "-- needs: 099_nothing\nCREATE OR REPLACE FUNCTION dandi_bad() RETURNS int LANGUAGE sql AS \$\$ SELECT 1 \$\$;\n";
close $fh;
($out, $err, $rc) = migrate($db, $bad);
like($err, qr/99_bad\.sql: needs 099_nothing, which is no migration/, 'a file needing no migration is refused');
open($fh, '>', "$bad/functions/99_bad.sql") or die;
print $fh "-- needs nothing\nCREATE OR REPLACE FUNCTION dandi_bad() RETURNS int LANGUAGE sql AS \$\$ SELECT 1 \$\$;\n";
close $fh;
($out, $err, $rc) = migrate($db, $bad);
like($err, qr/99_bad\.sql: no '-- needs:/, 'a file without a needs line is refused');

# --- two hosts at once ----------------------------------------------------------
# Both wait behind the migration lock (held here, seen in pg_locks), then
# run one after the other: one installs, the other finds nothing to do.
$db = new_db();
my $lockdb = $db;
open(my $holder, '|-', 'psql', '-X', '-q', '-o', '/dev/null', @PG, '-d', $lockdb) or die;
select((select($holder), $| = 1)[0]);
print $holder "SELECT pg_advisory_lock(7294001);\n";
my $waited = sub {
	my ($want_n, $granted) = @_;
	for (1 .. 400) {
		return 1 if psql('postgres', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
		    . " AND objid = 7294001 AND granted = $granted") >= $want_n;
		sleep 0.05;
	}
	return 0;
};
ok($waited->(1, 'true'), 'the lock is held');
my @kids;
for my $i (1, 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		my ($o, $e, $r) = migrate($db);
		open(my $res, '>', "$dir/host$i") or die;
		print $res "$r\n$o$e";
		close $res;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
ok($waited->(2, 'false'), 'both migrates wait for the lock');
print $holder "SELECT pg_advisory_unlock(7294001);\n";
close $holder;
waitpid($_, 0) for @kids;
my @res = map { open(my $r, '<', "$dir/host$_") or die; local $/; <$r> } 1, 2;
is_deeply([ map { /^(\d+)/ ? $1 : 'none' } @res ], [ 0, 0 ], 'both hosts succeed') or diag(@res);
is_deeply([ sort map { /^(\d+) migration\(s\) applied/m ? $1 : 'none' } @res ], [ 0, $nmig ],
    'one applied the migrations, the other found them done');
same_schema(schema($db), $want, 'and the schema is the fresh install');

done_testing;
