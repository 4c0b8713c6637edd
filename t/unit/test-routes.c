/*
 * test-routes: the rules of the route table (src/api/routes.c) make sense
 * row by row, as server_routes_check sees them at start, and a row whose
 * rules do not go together is refused, naming the row. (t/66-authz-matrix.t
 * checks what the rules answer each role against real requests.)
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/api/api.h"
#include "tap.h"

static int h(struct request *r) { (void)r; return 0; }

/* A one-row table with these rules: server_routes_check's verdict. */
static int
check_row(unsigned flags, unsigned target, char *err, size_t errlen)
{
	const struct route row[1] = { { "PUT", "/api/x/", h, flags, target } };

	err[0] = '\0';
	return server_routes_check(row, 1, err, errlen);
}

int
main(void)
{
	char err[256];
	size_t approved = 0, txn = 0, targets = 0;

	ok(server_routes_check(api_routes, api_nroutes, err, sizeof(err)) == 0,
	    "the route table's rules make sense (%s)", err);
	for (size_t i = 0; i < api_nroutes; i++) {
		const struct route *rt = &api_routes[i];
		approved += (rt->flags & ROUTE_ACCESS) == APPROVED;
		txn += (rt->flags & TXN) != 0;
		targets += rt->target != T_NONE;
		/* DRF's IsApprovedOrReadOnly: unsafe methods need approval,
		 * but for the pages, the OAuth provider and the signed or
		 * permission-free API calls the table names one by one (and
		 * the public access-request form of an embargoed dandiset:
		 * anyone may ask its owners, rate-limited). */
		if (strcmp(rt->method, "GET") != 0 && (rt->flags & ROUTE_ACCESS) != APPROVED &&
		    !(strcmp(rt->method, "POST") == 0 && strstr(rt->pattern, "/access-request/") != NULL) &&
		    strncmp(rt->pattern, "/accounts/", 10) != 0 && strncmp(rt->pattern, "/oauth/", 7) != 0 &&
		    strncmp(rt->pattern, "/dashboard/", 11) != 0 &&
		    strcmp(rt->pattern, "/api/users/questionnaire-form/") != 0 &&
		    strcmp(rt->pattern, "/api/blobs/digest/") != 0 && strstr(rt->pattern, "/s3-complete/") == NULL)
			ok(0, "%s %s changes something without APPROVED", rt->method, rt->pattern);
	}
	ok(approved >= 20 && txn >= 15 && targets >= 25, "rules on many rows: %zu APPROVED, %zu TXN, %zu targets",
	    approved, txn, targets);

	ok(check_row(APPROVED | TXN, T_DRAFT_WRITE, err, sizeof(err)) == 0, "a write target in a transaction");
	ok(check_row(APPROVED, T_DRAFT_WRITE, err, sizeof(err)) == -1 && strstr(err, "PUT /api/x/") != NULL,
	    "a locking target without TXN is refused, naming the row: %s", err);
	ok(check_row(APPROVED, T_ZARR_LOCKED, err, sizeof(err)) == -1, "T_ZARR_LOCKED needs TXN too");
	ok(check_row(APPROVED | READ_FIRST, T_DANDISET, err, sizeof(err)) == -1,
	    "READ_FIRST goes with an owners-only target only");
	ok(check_row(APPROVED | READ_FIRST, T_GUARDIAN, err, sizeof(err)) == 0, "READ_FIRST with T_GUARDIAN");
	ok(check_row(ANYONE | WITH_JSON, T_ASSET, err, sizeof(err)) == 0, "WITH_JSON with T_ASSET");
	ok(check_row(ANYONE | WITH_JSON, T_VERSION, err, sizeof(err)) == -1, "WITH_JSON only where there is one");
	ok(check_row(APPROVED | TXN | SHARED, T_VERSION_WRITE, err, sizeof(err)) == 0, "SHARED with a write target");
	ok(check_row(APPROVED | TXN | SHARED, T_ZARR_LOCKED, err, sizeof(err)) == -1,
	    "SHARED only with a version write target");
	ok(check_row(ANYONE, T_COUNT, err, sizeof(err)) == -1, "an unknown target is refused");
	ok(check_row(0x100, T_NONE, err, sizeof(err)) == -1, "an unknown flag is refused");
	return done_testing();
}
