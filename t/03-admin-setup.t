# What an installer runs (README "Install on Debian"): dandi-admin init
# writes a first configuration from the sample (--set keys, fresh S3
# credentials, mode 0640, a file that loads) and never overwrites one;
# dandi-admin check reports the configuration, PostgreSQL and S3 a line
# each and exits 1 when one fails. t/09-debian-install.t runs both from the
# installed package.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use DandiTest;

my $t = DandiTest->new(s3 => 1, workers => 1);
my $ADMIN = DandiTest::build() . '/src/dandi-admin';
my $SAMPLE = DandiTest::root() . '/conf/dandi.conf.sample';
my $dir = $t->dir;
sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return undef; local $/; <$fh> }

# --- init ---------------------------------------------------------------------------

my $conf = "$dir/dandi.conf";
my ($out, $err, $rc) = $t->run_cmd($ADMIN, '-c', $conf, 'init', '--sample', $SAMPLE, '--set', 'api_url=https://a.example.org',
    '--set', 'no_such_key=1');
ok($rc == 1 && $err =~ /unknown key 'no_such_key'/, 'init: an unknown key is refused') or diag($err);
ok(!-e $conf && !glob("$dir/dandi.conf.init-*"), 'init: nothing left behind');
($out, $err, $rc) = $t->run_cmd($ADMIN, '-c', $conf, 'init', '--sample', $SAMPLE, '--set', "api_url=https://a.example.org\nx=1");
ok($rc == 1 && !-e $conf, 'init: a value over two lines is refused') or diag($err);

($out, $err, $rc) = $t->run_cmd($ADMIN, '-c', $conf, 'init', '--sample', $SAMPLE,
    '--set', 'api_url=https://a.example.org', '--set', 'workers = 7', '--set', 's3_bucket=archive');
is($rc, 0, 'init writes the configuration') or diag($err);
is((stat $conf)[2] & 07777, 0640, 'mode 0640');
my $text = slurp($conf);
like($text, qr/^api_url = https:\/\/a\.example\.org$/m, '--set replaces the sample line');
like($text, qr/^workers = 7$/m, '--set KEY = VALUE (spaces around =)');
is(scalar(() = $text =~ /^api_url =/mg), 1, 'one api_url line');
my ($ak) = $text =~ /^s3_access_key = ([A-Z2-7]{20})$/m;
my ($sk) = $text =~ /^s3_secret_key = ([A-Za-z0-9+\/]{40})$/m;
ok($ak && $sk, 'fresh S3 credentials in the form S3 services use');
like($out, qr/radosgw-admin user create .*--access-key \Q$ak\E --secret-key \Q$sk\E/, 'and how to give them to a radosgw user');
# Everything else is the sample's, line for line.
(my $rest = $text) =~ s/^(api_url|workers|s3_bucket|s3_access_key|s3_secret_key) *=.*\n//mg;
(my $want = slurp($SAMPLE)) =~ s/^(api_url|workers|s3_bucket|s3_access_key|s3_secret_key) *=.*\n//mg;
is($rest, $want, 'the rest is the sample');

my $conf2 = "$dir/second.conf";
$t->run_cmd($ADMIN, '-c', $conf2, 'init', '--sample', $SAMPLE);
my ($ak2) = slurp($conf2) =~ /^s3_access_key = (\S+)$/m;
isnt($ak2, $ak, 'each init draws new credentials');

($out, $err, $rc) = $t->run_cmd($ADMIN, '-c', $conf, 'init', '--sample', $SAMPLE, '--set', 'workers=1');
ok($rc == 1 && $err =~ /exists: not overwritten/, 'init refuses to overwrite') or diag($err);
is(slurp($conf), $text, 'the existing file is unchanged');

($out, $err, $rc) = $t->run_cmd($ADMIN, '-c', "$dir/third.conf", 'init', '--sample', $SAMPLE, '--group', 'no-such-group-x');
ok($rc == 1 && $err =~ /no such group/ && !-e "$dir/third.conf", 'init --group: an unknown group is refused') or diag($err);

# --- check ---------------------------------------------------------------------------

# The harness's environment overrides the file: its database and bucket.
my @sql = glob(DandiTest::root() . '/sql/[0-9]*.sql');
($out, $err, $rc) = $t->run_cmd($ADMIN, '-c', $conf, 'check');
is($rc, 0, 'check: exit 0') or diag("$out$err");
like($out, qr/^all checks passed$/m, 'all checks passed');
my $n = @sql;
like($out, qr/^ok   database: $n of $n migrations applied$/m, 'the migrations counted');
like($out, qr/^ok   S3: bucket \Q$t->{s3cred}{S3_BUCKET}\E at \S+ listed$/m, 'the bucket listed');
like($out, qr{^ok   S3: dandi-admin-check/[0-9a-f-]{36} written and deleted$}m, 'an object written and deleted');

sub check_with {
	my (%env) = @_;
	local @{ $t->{env} }{ keys %env } = values %env;
	return $t->run_cmd($ADMIN, '-c', $conf, 'check');
}
($out, $err, $rc) = check_with(DANDI_S3_SECRET_KEY => 'wrong' x 8);
ok($rc == 1 && $out =~ /^FAIL S3: bucket .*(SignatureDoesNotMatch|AccessDenied|403)/m
    && $out =~ /^some checks failed$/m, 'a wrong S3 secret: FAIL, exit 1') or diag($out);
($out, $err, $rc) = check_with(DANDI_S3_BUCKET => 'no-such-bucket-' . $$);
ok($rc == 1 && $out =~ /^FAIL S3: bucket no-such-bucket-\d+ .*NoSuchBucket/m, 'a missing bucket: FAIL') or diag($out);
($out, $err, $rc) = check_with(DANDI_API_URL => 'https://a.example.org/api');
ok($rc == 1 && $out =~ /^FAIL api_url = .*origin without a path/m, 'api_url with a path: FAIL') or diag($out);
($out, $err, $rc) = check_with(DANDI_DB => "host=$dir/nowhere dbname=x");
ok($rc == 1 && $out =~ /^FAIL database: cannot connect/m && $err =~ /database connection failed/,
    'no database: FAIL, with libpq\'s error') or diag("$out$err");
($out, $err, $rc) = check_with(DANDI_PAGE_CACHE_DIR => '/etc/passwd/pages');
ok($rc == 1 && $out =~ m{^FAIL page_cache_dir /etc/passwd/pages not writable by this user$}m,
    'a page cache directory that cannot be made: FAIL') or diag($out);
(my $empty = "t_empty_$$") =~ s/\W/_/g;
$t->psql(qq{CREATE DATABASE "$empty"});
(my $db = $t->env->{DANDI_DB}) =~ s/dbname=\S+/dbname=$empty/;
($out, $err, $rc) = check_with(DANDI_DB => $db);
ok($rc == 1 && $out =~ /^ok   database: connected \(PostgreSQL \d+\.\d+\)$/m
    && $out =~ /^FAIL database: not migrated: run dandi-admin migrate$/m, 'an empty database: not migrated') or diag($out);
$t->psql(qq{DROP DATABASE "$empty"});
done_testing;
