/*
 * main.c - dandi-jobs, the background work of the archive:
 *
 *   dandi-jobs [-c config] COMMAND [ARGS]
 *
 * The commands are listed in dandi-jobs.c. Every one runs with one work
 * connection and one arena (struct job, job.c); `run` adds the connection
 * that holds the claimed job (queue.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dandi-jobs [-c config] command\n");
	for (const struct job_cmd *c = job_cmds; c->name != NULL; c++) {
		fprintf(stderr, "  %s%s%s\n", c->name, *c->usage ? " " : "", c->usage);
		for (const char *l = c->help; *l;) {
			size_t n = strcspn(l, "\n");
			fprintf(stderr, "%23s%.*s\n", "", (int)n, l);
			l += n + (l[n] == '\n');
		}
	}
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*cfgpath = DANDI_CONFIG_DEFAULT;
	bool		 explicit_cfg = false;
	struct config	 cfg;
	struct job	 job;
	char		 err[512];

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		cfgpath = argv[2];
		explicit_cfg = true;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	const struct job_cmd *cmd = job_cmds;
	while (cmd->name != NULL && strcmp(cmd->name, argv[1]) != 0)
		cmd++;
	if (cmd->name == NULL)
		usage();
	if (config_load(&cfg, cfgpath, explicit_cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-jobs: %s\n", err);
		return 1;
	}
	log_open(*cfg.log_file ? cfg.log_file : NULL, "dandi-jobs", LOG_INFO);
	job_init(&job, &cfg);
	job.sentry = sentry_new(&cfg, "dandi-jobs", err, sizeof(err));
	if (job.sentry == NULL && err[0] != '\0') {
		fprintf(stderr, "dandi-jobs: %s\n", err);
		job_free(&job);
		config_free(&cfg);
		return 1;
	}
	int rc = cmd->run(&job, argc, argv);
	if (rc == JOB_USAGE)
		fprintf(stderr, "usage: dandi-jobs %s %s\n", cmd->name, cmd->usage);
	sentry_free(job.sentry);
	job_free(&job);
	config_free(&cfg);
	return rc;
}
