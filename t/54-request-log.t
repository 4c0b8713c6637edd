# dandi-api's own line per request in its log file (request_log): nginx's
# access log has every request, so by default (errors) only 5xx answers
# and requests slower than request_log_slow_ms get one; "all" logs every
# request, "off" none. A line names the method, URI, status, bytes, ms and
# the user.
use strict;
use warnings;
use lib 't/lib', 't/inc';
use Test::More;
use JSON::PP;
use DandiTest;

# own_pg: it stops PostgreSQL for a 5xx (the run's shared cluster must stay up).
my $t = DandiTest->new(s3 => 0, workers => 1, own_pg => 1);
my $alice = $t->user('alice', first => 'Alice', last => 'Smith', email => 'alice@example.org');

# The access lines the log has gained since the last call.
my $seen = 0;
sub new_access_lines {
	open(my $f, '<:raw', $t->dir . '/api.log') or return ();
	my @l = <$f>;
	my @new = @l[$seen .. $#l];
	$seen = @l;
	return grep { $_->{level} eq 'access' } map { decode_json($_) } @new;
}
sub restart_with {
	my (%env) = @_;
	$t->stop_api;
	delete @{ $t->env }{qw(DANDI_REQUEST_LOG DANDI_REQUEST_LOG_SLOW_MS)};
	$t->env->{$_} = $env{$_} for keys %env;
	$t->start_api;
	new_access_lines();
}

# --- the default: errors and slow requests --------------------------------------
new_access_lines();
is($t->get('/api/info/')->{status}, 200, 'info: 200');
is($t->get('/api/users/me/', token => $alice)->{status}, 200, 'users/me: 200');
is($t->get('/api/dandisets/999999/')->{status}, 404, 'an unknown dandiset: 404');
is(scalar(new_access_lines()), 0, 'by default, quick 2xx and 4xx answers write no line');

$t->stop_pg;
my $down = $t->get('/api/dandisets/');
$t->start_pg;
is($down->{status}, 503, 'database down: 503');
my @l = new_access_lines();
is(scalar(@l), 1, '... a 5xx writes its line');
is_deeply([ @{ $l[0] }{qw(method uri status)} ], [ 'GET', '/api/dandisets/', 503 ],
    '... with the method, the URI and the status');
like($l[0]{ms}, qr/^\d+(\.\d+)?$/, '... and the milliseconds');

# A threshold of 0 ms makes every request a slow one.
restart_with(DANDI_REQUEST_LOG_SLOW_MS => 0);
is($t->get('/api/info/?x=1')->{status}, 200, 'info: 200');
@l = new_access_lines();
is(scalar(@l), 1, 'a request slower than request_log_slow_ms writes its line');
is_deeply([ @{ $l[0] }{qw(method uri status)} ], [ 'GET', '/api/info/?x=1', 200 ], '... naming it');
ok(!exists $l[0]{user}, '... and no user when anonymous');
is($l[0]{bytes}, length($t->get('/api/info/')->{body}), '... with the bytes of the body');
new_access_lines();

# --- all and off ---------------------------------------------------------------
restart_with(DANDI_REQUEST_LOG => 'all');
$t->get('/api/info/');
$t->get('/api/dandisets/999999/', token => $alice);
@l = new_access_lines();
is_deeply([ map { "$_->{status} " . ($_->{user} // '-') } @l ], [ '200 -', '404 alice' ],
    'all: every request writes its line');

restart_with(DANDI_REQUEST_LOG => 'off', DANDI_REQUEST_LOG_SLOW_MS => 0);
$t->get('/api/info/');
$t->get('/api/dandisets/999999/');
is(scalar(new_access_lines()), 0, 'off: no line, slow or not');

# A value it does not know stops dandi-api at start, saying why.
my ($out, $err, $rc) = $t->run_cmd('env', 'DANDI_REQUEST_LOG=errors-only', DandiTest->build . '/src/dandi-api',
    '-s', $t->dir . '/run/other.sock', '-n', 1);
isnt($rc, 0, 'request_log=errors-only: dandi-api does not start');
like("$out$err", qr/request_log must be all, errors or off, not 'errors-only'/, '... and says why');

done_testing();
