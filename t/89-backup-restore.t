# Backup and restore as README "Operate" tells a sysadmin (issue 18): the
# database dumped first (pg_dump), the bucket copied after it (rclone, to a
# directory), then both restored into a fresh archive (pg_restore,
# dandi-admin migrate, rclone back, dandi-jobs embargo-tags before the
# data is served, dandi-jobs storage-check). The restored archive serves
# every asset byte for byte, the published version as it was, the
# embargoed data still closed to anonymous readers.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use DandiTest;
use Upload ();

plan skip_all => 'rclone is not installed (contrib/dev/install-deps installs it)'
    unless grep { -x "$_/rclone" } split /:/, $ENV{PATH};

my $a = DandiTest->new(s3 => 1);
my $alice = $a->user('alice', first => 'Alice', last => 'Smith');
my $jobs = DandiTest::build() . '/src/dandi-jobs';
my $http = HTTP::Tiny->new(max_redirect => 0);

my $md = { description => 'Kept safe', license => ['spdx:CC-BY-4.0'],
	contributor => [ { name => 'Smith, Alice', email => 'alice@example.org', roleName => ['dcite:ContactPerson'],
	    includeInCitation => JSON::PP::true, schemaKey => 'Person' } ] };
my $open = $a->post('/api/dandisets/', { name => 'Open data', metadata => $md }, token => $alice)->{json}{identifier};
my $closed = $a->post('/api/dandisets/?embargo=true', { name => 'Closed data', metadata => $md },
    token => $alice)->{json}{identifier};

# Assets of several sizes (one of two parts), each with its bytes.
my %bytes;	# asset_id => bytes
sub add_asset {
	my ($t, $ds, $path, $content) = @_;
	my $u = Upload::upload($t, $alice, $ds, $content);
	my $blob = $u->{blob}{blob_id} or die "upload of $path failed at $u->{step}";
	my $r = $t->post("/api/dandisets/$ds/versions/draft/assets/", { blob_id => $blob,
	    metadata => { schemaKey => 'Asset', encodingFormat => 'application/x-nwb', path => $path } }, token => $alice);
	die "asset $path: $r->{body}" unless $r->{status} == 200;
	$bytes{ $r->{json}{asset_id} } = $content;
	return $r->{json}{asset_id};
}
add_asset($a, $open, 'sub-1/a.nwb', 'first file ' . ('a' x 3000));
add_asset($a, $open, 'sub-1/b.nwb', join('', map { chr(($_ * 7) % 256) } 1 .. 70_000));
add_asset($a, $open, 'sub-2/c.nwb', 'x' x (5 * 1024 * 1024 + 17));	# two parts
my $secret = add_asset($a, $closed, 'sub-1/secret.nwb', 'embargoed bytes ' . ('s' x 900));
$a->jobs('run');	# the sha256 of each blob
$a->jobs('validate');
is($a->post("/api/dandisets/$open/versions/draft/publish/", undef, token => $alice)->{status}, 202, 'publish');
$a->jobs('run');
my $published = $a->get("/api/dandisets/$open/")->{json}{most_recent_published_version}{version};
like($published // '', qr/^0\.\d{6}\.\d{4}$/, "published $published");
# A draft change after the publish: the backup holds both states.
add_asset($a, $open, 'sub-3/after.nwb', 'added after the publish');

# What a client sees, to compare after the restore.
sub listing {
	my ($t, $ds, $v) = @_;
	my $r = $t->get("/api/dandisets/$ds/versions/$v/assets/?page_size=100&order=path", token => $alice)->{json};
	return [ map { [ @$_{qw(asset_id path size blob)} ] } @{ $r->{results} } ];
}
my @before = (listing($a, $open, 'draft'), listing($a, $open, $published), listing($a, $closed, 'draft'));
is(scalar @{ $before[0] }, 4, 'four assets in the open draft');
my $version_md = $a->get("/api/dandisets/$open/versions/$published/")->{json};

# --- backup: the database first, then the objects -------------------------------------
my $backup = $a->dir . '/backup';
mkdir $backup;
# rclone's remote "archive:" from the environment: the archive's S3.
sub rclone_env {
	my ($s3) = @_;
	return (RCLONE_CONFIG => '/dev/null', RCLONE_CONFIG_ARCHIVE_TYPE => 's3', RCLONE_CONFIG_ARCHIVE_PROVIDER => 'Ceph',
	    RCLONE_CONFIG_ARCHIVE_ENDPOINT => $s3->{S3_ENDPOINT}, RCLONE_CONFIG_ARCHIVE_REGION => $s3->{S3_REGION} // '',
	    RCLONE_CONFIG_ARCHIVE_ACCESS_KEY_ID => $s3->{S3_ACCESS_KEY},
	    RCLONE_CONFIG_ARCHIVE_SECRET_ACCESS_KEY => $s3->{S3_SECRET_KEY});
}
my %s3 = %{ $a->s3 };
sub sh {
	my ($t, @cmd) = @_;
	local %ENV = (%ENV, rclone_env(\%s3));
	# rclone's S3 client refuses a CA bundle with its plain-HTTP transport.
	delete local $ENV{AWS_CA_BUNDLE};
	my ($out, $err, $rc) = $t->run_cmd(@cmd);
	is($rc, 0, "@cmd[0, 1]") or diag "$err$out";
	return $out;
}
sh($a, 'pg_dump', '-Fc', '-f', "$backup/dandi.dump");
ok(-s "$backup/dandi.dump", 'pg_dump wrote the dump');
sh($a, 'rclone', 'copy', "archive:$s3{S3_BUCKET}", "$backup/objects");
my $nblobs = () = `find $backup/objects/blobs -type f`;
is($nblobs, 5, 'rclone copied the five blobs to the backup directory');
ok(-f "$backup/objects/dandisets/$open/$published/dandiset.yaml", '... and the manifest files');

# --- a fresh archive, restored ------------------------------------------------------------
my $b = DandiTest->new(s3 => 1, tag => 'restored');
$b->stop_api;
my $db = $b->env->{PGDATABASE};
my $admin = $b->_db_connect('postgres');
$admin->do(qq{DROP DATABASE "$db"});
$admin->do(qq{CREATE DATABASE "$db" TEMPLATE template0});
$admin->disconnect;
sh($b, 'pg_restore', '--no-owner', '-d', $db, "$backup/dandi.dump");
my ($out, $err, $rc) = $b->run_cmd(DandiTest::build() . '/src/dandi-admin', 'migrate');
is($rc, 0, 'dandi-admin migrate on the restored database (idempotent)') or diag $err;
%s3 = %{ $b->s3 };
isnt($s3{S3_BUCKET}, $a->s3->{S3_BUCKET}, 'the fresh archive has a bucket of its own');
sh($b, 'rclone', 'copy', '--s3-upload-cutoff', '5G', "$backup/objects", "archive:$s3{S3_BUCKET}");
($out, $err, $rc) = $b->run_cmd($jobs, 'embargo-tags', '--check');
isnt($rc, 0, 'after the copy the embargoed object has lost its tag (embargo-tags --check)');
($out, $err, $rc) = $b->run_cmd($jobs, 'embargo-tags');
like($out, qr/^embargo-tags: 1 embargoed object\(s\), 1 tagged, 0 not in S3$/m, 'embargo-tags puts it back');
($out, $err, $rc) = $b->run_cmd($jobs, 'storage-check');
like($out, qr/^storage-check: 5 blob row\(s\), 5 object\(s\): 0 missing, 0 differing, 0 orphan\(s\)/m,
    'storage-check: every blob has its object') or diag "$out$err";
is($rc, 0, '... exit 0');
$b->start_api;

# --- served as before ---------------------------------------------------------------------
is_deeply([ listing($b, $open, 'draft'), listing($b, $open, $published), listing($b, $closed, 'draft') ], \@before,
    'the restored archive lists the same assets in the draft, the published version and the embargoed draft');
is_deeply($b->get("/api/dandisets/$open/versions/$published/")->{json}, $version_md,
    'the published version\'s metadata is the same');
for my $id (sort keys %bytes) {
	my $r = $b->get("/api/assets/$id/download/", token => $alice);
	is($r->{status}, 302, "asset $id: a download redirect") or next;
	my $loc = $r->{headers}{location};
	like($loc, qr/\Q$s3{S3_BUCKET}\E/, '... into the restored bucket');
	my $got = $http->get($loc);
	ok($got->{status} == 200 && $got->{content} eq $bytes{$id}, '... the same bytes') or
	    diag "status $got->{status}, " . length($got->{content}) . ' bytes';
}
# Anonymous readers still cannot read the embargoed object at its S3 URL.
my $key = ($b->psql("SELECT b.blob FROM assets a JOIN blobs b ON b.id = a.blob_id WHERE a.asset_id = '$secret'"))[0][0];
my $plain = $http->get("$s3{S3_ENDPOINT}/$s3{S3_BUCKET}/$key");
is($plain->{status}, 403, 'the embargoed object stays closed to anonymous S3 reads');

done_testing();
