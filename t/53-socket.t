# The FastCGI socket: mode 0660 with the group of socket_group (nginx's),
# so that nginx's workers, running as www-data here as on Debian, connect
# through the group and nobody else can; without socket_group it keeps the
# process's group; a group that does not exist stops dandi-api at start.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use IO::Socket::UNIX;
use POSIX ();
use DandiTest;

plan skip_all => 'needs root (to run nginx and the clients as other users)' if $> != 0;
my @www = getpwnam('www-data') or plan skip_all => 'no www-data user';
my @nobody = getpwnam('nobody') or plan skip_all => 'no nobody user';
my $www_gid = getgrnam('www-data');

my $t = DandiTest->new(s3 => 0, workers => 1,
    env => { DANDI_SOCKET_GROUP => 'www-data', DANDI_NGINX_USER => 'www-data' });
my $sock = $t->dir . '/run/api.sock';

# nginx's workers really are www-data (the master stays root).
my $master = do { local (@ARGV, $/) = ($t->dir . '/nginx/nginx.pid'); <> } =~ s/\s+//gr;
my @users = split ' ', `ps -o user= --ppid $master`;
ok(@users && !grep({ $_ ne 'www-data' } @users), "nginx workers run as www-data (@users)");

sub mode_group { my @st = stat($sock) or return ('none', -1); (sprintf('%04o', $st[2] & 07777), $st[5]) }
# Whether a process with this uid/gid (and no other groups) may connect.
sub connects_as {
	my ($uid, $gid) = @_;
	my $pid = fork // die;
	if (!$pid) {
		$) = "$gid $gid";
		$( = $gid;
		$< = $> = $uid;
		POSIX::_exit(IO::Socket::UNIX->new(Peer => $sock) ? 0 : ($!{EACCES} ? 13 : 1));
	}
	waitpid($pid, 0);
	return $? >> 8;
}

is_deeply([ mode_group() ], [ '0660', $www_gid ], 'socket_group = www-data: mode 0660, group www-data');
my $r = $t->get('/api/info/');
is($r->{status}, 200, 'nginx (www-data) reaches the API through the group');
is(connects_as($www[2], $www[3]), 0, 'a www-data process may connect');
is(connects_as($nobody[2], $nobody[3]), 13, 'nobody may not (EACCES)');

# A group given by number.
$t->stop_api;
$t->{env}{DANDI_SOCKET_GROUP} = $www_gid;
$t->start_api;
is_deeply([ mode_group() ], [ '0660', $www_gid ], "socket_group = $www_gid: the same");
is($t->get('/api/info/')->{status}, 200, 'nginx reaches it');

# No socket_group: the process's group (root here), which nginx's workers
# are not in: they are refused, and nginx answers its JSON 503.
$t->stop_api;
delete $t->{env}{DANDI_SOCKET_GROUP};
$t->start_api;
is_deeply([ mode_group() ], [ '0660', (split ' ', $))[0] ], "no socket_group: mode 0660, the process's group");
$r = $t->get('/api/info/');
is($r->{status}, 503, 'nginx outside the group cannot connect: 503');
is_deeply($r->{json}, { detail => 'The API is unavailable; try again shortly.' }, '... in JSON');
is(connects_as($www[2], $www[3]), 13, 'a www-data process may not connect either');

# A group that does not exist: dandi-api stops at once, leaving no socket.
$t->stop_api;
{
	local $t->{env}{DANDI_SOCKET_GROUP} = 'no-such-group';
	# (timeout: a dandi-api that ignored the key would serve on forever)
	my (undef, $err, $rc) = $t->run_cmd('timeout', 20, DandiTest::build() . '/src/dandi-api', '-s', $sock, '-n', 1);
	is($rc, 1, 'socket_group = no-such-group: dandi-api exits 1');
	like($err, qr/socket_group: no group 'no-such-group'/, '... saying why');
	ok(!-e $sock, '... and leaves no socket');
	is_deeply([ glob("$sock.*") ], [], '... not even its temporary one');
}
$t->start_api;
is_deeply([ mode_group() ], [ '0660', (split ' ', $))[0] ], 'and starts again as before');

done_testing;
