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
	unlink(path);
	return done_testing();
}
