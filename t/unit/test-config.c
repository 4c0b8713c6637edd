/* Unit tests of config.c: file, environment override, errors. */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

int
main(void)
{
	struct config	c;
	char		err[256], path[] = "/tmp/dandi-config-XXXXXX";
	int		fd = mkstemp(path);
	FILE		*f = fdopen(fd, "w");

	fprintf(f, "# comment\n\ndb = host=/x dbname=y\nworkers = 3\napi_url = http://a:1/\n");
	fclose(f);
	unsetenv("DANDI_WORKERS");
	ok(config_load(&c, path, 1, err, sizeof(err)) == 0, "config loads");
	is_str(c.db, "host=/x dbname=y", "value with spaces and =");
	is_int(c.workers, 3, "integer value");
	is_str(c.api_url, "http://a:1", "trailing slash stripped from URLs");
	is_str(c.instance_name, "DANDI", "default kept");
	config_free(&c);

	setenv("DANDI_WORKERS", "7", 1);
	setenv("DANDI_INSTANCE_NAME", "EMBER", 1);
	ok(config_load(&c, path, 1, err, sizeof(err)) == 0, "config loads with env");
	is_int(c.workers, 7, "environment overrides the file");
	is_str(c.instance_name, "EMBER", "environment sets a string");
	config_free(&c);
	setenv("DANDI_WORKERS", "lots", 1);
	ok(config_load(&c, path, 1, err, sizeof(err)) == -1, "bad env value refused");
	config_free(&c);
	unsetenv("DANDI_WORKERS");

	f = fopen(path, "w");
	fprintf(f, "nonsense = 1\n");
	fclose(f);
	ok(config_load(&c, path, 1, err, sizeof(err)) == -1, "unknown key refused");
	ok(strstr(err, "nonsense") != NULL, "error names the key");
	config_free(&c);
	ok(config_load(&c, "/nonexistent/x.conf", 1, err, sizeof(err)) == -1,
	    "missing explicit file is an error");
	config_free(&c);
	ok(config_load(&c, "/nonexistent/x.conf", 0, err, sizeof(err)) == 0,
	    "missing default file is fine");
	config_free(&c);

	f = fopen(path, "w");
	fprintf(f, "allow_signup = no\nauto_approve_users = On\ncors_allow_credentials = 1\n");
	fclose(f);
	ok(config_load(&c, path, 1, err, sizeof(err)) == 0, "booleans load");
	ok(!c.allow_signup && c.auto_approve_users && c.cors_allow_credentials, "no, On and 1 read as booleans");
	ok(c.cors_public_read && !c.datacite_publish, "boolean defaults");
	config_free(&c);
	f = fopen(path, "w");
	fprintf(f, "\nallow_signup = maybe\n");
	fclose(f);
	ok(config_load(&c, path, 1, err, sizeof(err)) == -1, "a boolean of another spelling is refused");
	char want[300];
	snprintf(want, sizeof(want), "%s:2: allow_signup is a boolean: true or false (yes/no, on/off, 1/0), not 'maybe'",
	    path);
	is_str(err, want, "the error names the line, the key, the spellings and the value");
	config_free(&c);
	setenv("DANDI_DATACITE_PUBLISH", "t", 1);
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == -1, "a bad boolean in the environment is refused");
	is_str(err, "DANDI_DATACITE_PUBLISH is a boolean: true or false (yes/no, on/off, 1/0), not 't'",
	    "the error names the variable");
	config_free(&c);
	unsetenv("DANDI_DATACITE_PUBLISH");
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "defaults load");
	is_str(c.request_log, "errors", "request_log: errors and slow requests by default");
	ok(c.request_log_slow_ms == 1000, "request_log_slow_ms: 1000 by default");
	config_free(&c);
	setenv("DANDI_REQUEST_LOG", "some", 1);
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == -1, "request_log of another value is refused");
	is_str(err, "request_log must be all, errors or off, not 'some'", "... saying which values it takes");
	config_free(&c);
	unsetenv("DANDI_REQUEST_LOG");
	unlink(path);
	return done_testing();
}
