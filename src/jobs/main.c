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
#include <time.h>

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
	struct timespec t0, t1, wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = cmd->run(&job, argc, argv);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == JOB_USAGE)
		fprintf(stderr, "usage: dandi-jobs %s %s\n", cmd->name, cmd->usage);
	/* Every run of the timers' commands is on record for GET /metrics;
	 * list and retry are a person's look at the queue, not a run. */
	if (strcmp(cmd->name, "list") != 0 && strcmp(cmd->name, "retry") != 0)
		job_record_run(&job, cmd->name, (double)wall.tv_sec + wall.tv_nsec / 1e9,
		    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, rc == 0);
	sentry_free(job.sentry);
	job_free(&job);
	config_free(&cfg);
	return rc;
}
