/*
 * embargo.c - the embargo's end date (beyond the original, issue 21):
 * GET and PUT /api/dandisets/{id}/embargo/ (owners) read and move it,
 * within the limit the creation allowed (sql/018_embargo_ends.sql); the
 * daily `dandi-jobs embargo-ends` reminds the owners and ends it
 * (src/jobs/embargo.c). And the dashboard's list of the upcoming ends.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"

/* The dandiset's embargo, locked ($2: true) or not, with today in UTC, the
 * day the daily job counts by. */
enum { EMB_STATUS, EMB_END, EMB_LIMIT, EMB_TODAY, EMB_NCOLS };
#define EMBARGO_COLS \
	"SELECT d.embargo_status, d.embargo_end_date::text," \
	" CASE WHEN d.embargo_status <> 'OPEN'" \
	"  THEN dandi_embargo_limit(d.embargo_end_limit, d.embargo_end_date, d.created)::text END," \
	" ((now() AT TIME ZONE 'UTC')::date)::text FROM dandisets d WHERE d.id = $1::bigint"
static const struct db_sql embargo_get = { "embargo_get", EMB_NCOLS, EMBARGO_COLS };
static const struct db_sql embargo_lock = { "embargo_lock", EMB_NCOLS, EMBARGO_COLS " FOR UPDATE" };

/* The new date, and the draft's metadata with it (the first access entry,
 * where vmeta.c puts it), validated again as any metadata change. */
static const struct db_sql embargo_set = { "embargo_set", 0,
	"WITH d AS (UPDATE dandisets SET embargo_end_date = $2::date, modified = now()"
	"  WHERE id = $1::bigint)"
	" UPDATE versions v SET metadata = jsonb_set(v.metadata, '{access,0,embargoedUntil}', to_jsonb($2::text)),"
	"  status = 'Pending', modified = now()"
	" WHERE v.dandiset_id = $1::bigint AND v.version = 'draft'"
	"  AND jsonb_typeof(v.metadata->'access'->0) = 'object'" };

/* The dashboard: embargoes ending within 60 days (and those ended, waiting
 * for the daily job or for their uploads), soonest first. */
enum { DEE_ID, DEE_NAME, DEE_END, DEE_DAYS, DEE_OWNERS, DEE_REMINDED, DEE_NCOLS };
static const struct db_sql dash_embargo_ends = { "dash_embargo_ends", DEE_NCOLS,
	"SELECT lpad(d.id::text, 6, '0'), v.name, d.embargo_end_date::text,"
	" (d.embargo_end_date - (now() AT TIME ZONE 'UTC')::date)::text,"
	" coalesce((SELECT string_agg(u.username, ', ' ORDER BY u.username) FROM dandiset_owners o"
	"   JOIN users u ON u.id = o.user_id WHERE o.dandiset_id = d.id), ''),"
	" coalesce((SELECT string_agg(r.days_before || ' days', ', ' ORDER BY r.days_before DESC)"
	"   FROM embargo_reminders r WHERE r.dandiset_id = d.id AND r.end_date = d.embargo_end_date), '')"
	" FROM dandisets d JOIN versions v ON v.dandiset_id = d.id AND v.version = 'draft'"
	" WHERE d.embargo_status = 'EMBARGOED'"
	"  AND d.embargo_end_date <= (now() AT TIME ZONE 'UTC')::date + 60"
	" ORDER BY d.embargo_end_date, d.id LIMIT 100" };

const struct db_sql *const embargo_sql[] = {
	&embargo_get, &embargo_lock, &embargo_set, &dash_embargo_ends, NULL
};

static const char *
null_or(PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? NULL : PQgetvalue(r, 0, col);
}

static struct json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* {"embargo_status", "embargoedUntil", "earliest", "latest"}: the dates
 * an owner may choose (null when the dandiset is not embargoed). */
static int
embargo_respond(struct request *req, PGresult *r)
{
	struct json_object *o = json_object_new_object();
	const char *status = PQgetvalue(r, 0, EMB_STATUS);
	bool embargoed = strcmp(status, "EMBARGOED") == 0;
	char earliest[11];

	/* Tomorrow: today would be the end itself (that is what unembargo is for). */
	date_next(PQgetvalue(r, 0, EMB_TODAY), earliest);
	json_object_object_add(o, "embargo_status", json_object_new_string(status));
	json_object_object_add(o, "embargoedUntil", str_or_null(status[0] != 'O' ? null_or(r, EMB_END) : NULL));
	json_object_object_add(o, "earliest", str_or_null(embargoed ? earliest : NULL));
	json_object_object_add(o, "latest", str_or_null(embargoed ? null_or(r, EMB_LIMIT) : NULL));
	int rc = resp_raw_json(req, 200, arena_strdup(&req->arena,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
	json_object_put(o);
	return rc;
}

int
embargo_get_end(struct request *req)
{
	const char *p1[1] = { req->dandiset->id };
	PGresult *r;

	if ((r = req_query(req, &embargo_get, 1, p1)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	return embargo_respond(req, r);
}

/* PUT /api/dandisets/{id}/embargo/ {"embargoedUntil": "YYYY-MM-DD"}: a
 * later or earlier end, after today and at most the limit. The dandiset
 * row is locked, so the daily job never ends an embargo being moved. */
int
embargo_put_end(struct request *req)
{
	const char *id = req->dandiset->id;
	const char *p1[1] = { id };
	struct json_object *body, *v;
	PGresult *r;
	char earliest[11];

	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors",
		    "Invalid data. Expected a dictionary, but got list.");
	if (!json_object_object_get_ex(body, "embargoedUntil", &v) || v == NULL)
		return resp_field_error(req, "embargoedUntil", "This field is required.");
	const char *day = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) || !date_valid(day))
		return resp_field_error(req, "embargoedUntil",
		    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.");
	if ((r = req_query(req, &embargo_lock, 1, p1)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (perm_not_unembargoing(req, PQgetvalue(r, 0, EMB_STATUS)) != 0)
		return 0;
	if (strcmp(PQgetvalue(r, 0, EMB_STATUS), "EMBARGOED") != 0)
		return resp_string(req, 400, "Dandiset not embargoed");
	const char *old = arena_strdup(&req->arena, PQgetvalue(r, 0, EMB_END));
	const char *limit = arena_strdup(&req->arena, PQgetvalue(r, 0, EMB_LIMIT));
	date_next(PQgetvalue(r, 0, EMB_TODAY), earliest);
	if (strcmp(day, earliest) < 0)
		return resp_field_error(req, "embargoedUntil", arena_printf(&req->arena,
		    "The embargo end date must be after today (%s at the earliest); "
		    "to end the embargo now, unembargo the dandiset.", earliest));
	if (strcmp(day, limit) > 0)
		return resp_field_error(req, "embargoedUntil", arena_printf(&req->arena,
		    "The embargo end date can be %s at the latest (2 years after the dandiset's creation, "
		    "5 years with a funding source and award).", limit));
	if (strcmp(day, old) == 0) {	/* nothing changes */
		db_rollback(req->db);
		return embargo_get_end(req);
	}
	const char *p2[2] = { id, day };
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "old", json_object_new_string(old));
	json_object_object_add(details, "new", json_object_new_string(day));
	if (req_query(req, &embargo_set, 2, p2) == NULL ||
	    audit_write(req, id, "update_embargo_end_date", details) != 0 || req_commit(req) != 0)
		return 0;
	log_info("dandiset %s: embargo end date %s -> %s", id, old, day);
	return embargo_get_end(req);
}

/* The dashboard's section (accounts.c's dashboard_get): ends within 60
 * days, the reminders already sent for each. */
int
embargo_dashboard(struct request *req)
{
	PGresult *r;

	if ((r = req_query(req, &dash_embargo_ends, 0, NULL)) == NULL)
		return -1;
	buf_puts(&req->out, "<section id=\"embargo-ends\"><h2>Embargo ends</h2>");
	if (PQntuples(r) == 0) {
		buf_puts(&req->out, "<p id=\"no-embargo-ends\">No embargo ends within 60 days.</p></section>");
		return 0;
	}
	buf_puts(&req->out, "<p>Embargoed dandisets whose end date is within 60 days: <code>dandi-jobs "
	    "embargo-ends</code> reminds their owners 30 and 7 days before and unembargoes them on the day "
	    "(one with uploads in progress waits for them).</p><table id=\"embargo-end-list\"><thead><tr>"
	    "<th>Dandiset</th><th>Name</th><th>Ends</th><th>Days left</th><th>Owners</th>"
	    "<th>Reminders sent</th></tr></thead><tbody>");
	for (int i = 0; i < PQntuples(r); i++) {
		buf_puts(&req->out, "<tr><td><a href=\"");
		html_text(req, req->cfg->web_url);
		buf_puts(&req->out, "/dandiset/");
		html_text(req, PQgetvalue(r, i, DEE_ID));
		buf_puts(&req->out, "\">");
		html_text(req, PQgetvalue(r, i, DEE_ID));
		buf_puts(&req->out, "</a></td>");
		for (int k = DEE_NAME; k < DEE_NCOLS; k++) {
			buf_puts(&req->out, "<td>");
			html_text(req, PQgetvalue(r, i, k));
			buf_puts(&req->out, "</td>");
		}
		buf_puts(&req->out, "</tr>");
	}
	buf_puts(&req->out, "</tbody></table></section>");
	return 0;
}
