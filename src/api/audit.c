/*
 * audit.c - one audit record per state change, written in the same
 * transaction as the change, so a rolled-back request leaves no record and
 * a committed one always has one.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api.h"

static const struct db_sql audit_insert = { "audit_insert", 0,
	"INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname,"
	" record_type, details) VALUES ($1::bigint, $2, $3, $4, $5, $6::jsonb)" };

const struct db_sql *const audit_sql[] = {
	&audit_insert, NULL
};

int
audit_write_raw(struct request *req, const char *dandiset_id, const char *record_type,
    const char *details_json)
{
	const struct user *u = req->user;
	const char *params[6] = {
		dandiset_id,
		u ? u->username : "",
		u ? u->email : "",
		u ? arena_printf(&req->arena, "%s %s", u->first_name, u->last_name) : "",
		record_type,
		details_json,
	};

	return req_query(req, &audit_insert, 6, params) == NULL ? -1 : 0;
}

int
audit_write(struct request *req, const char *dandiset_id, const char *record_type,
    struct json_object *details)
{
	const char *text = arena_strdup(&req->arena,
	    json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN));

	json_object_put(details);
	return audit_write_raw(req, dandiset_id, record_type, text);
}

/* Reading the trail: the original's admin feed of asset events (cursor
 * pagination, oldest first) and, per dandiset, the whole trail for its
 * owners and admins. Records outlive their dandiset (no foreign key), so an
 * admin can still read the trail of a deleted one. */

enum { ADP_JSON = PAGE_COUNTED_ITEM, ADP_TOTAL = PAGE_COUNTED_TOTAL, ADP_NCOLS };
static const struct db_sql audit_dandiset_page = { "audit_dandiset_page", ADP_NCOLS,
	"SELECT json_build_object('id', id, 'timestamp', dandi_ts(timestamp),"
	" 'username', username, 'user_email', user_email, 'user_fullname', user_fullname,"
	" 'record_type', record_type, 'details', details, 'admin', admin,"
	" 'description', description), count(*) OVER ()"
	" FROM audit_records WHERE dandiset_id = $1::bigint"
	" ORDER BY timestamp, id LIMIT $2::bigint OFFSET $3::bigint" };

/* $1 before, $2 after, $3 cursor ts (us since epoch), $4 cursor id,
 * $5 walk backwards (newest first), $6 limit. */
enum { AAE_JSON, AAE_CURSOR_TS, AAE_CURSOR_ID, AAE_NCOLS };
static const struct db_sql audit_asset_page = { "audit_asset_page", AAE_NCOLS,
	"SELECT json_build_object('id', id, 'dandiset_id', dandiset_id,"
	" 'timestamp', dandi_ts(timestamp), 'record_type', record_type,"
	" 'details', details - 'metadata'),"
	" (extract(epoch FROM timestamp) * 1000000)::bigint, id"
	" FROM audit_records"
	" WHERE record_type IN ('add_asset', 'update_asset', 'remove_asset')"
	"   AND ($1::timestamptz IS NULL OR timestamp <= $1::timestamptz)"
	"   AND ($2::timestamptz IS NULL OR timestamp >= $2::timestamptz)"
	"   AND ($3::bigint IS NULL OR CASE WHEN $5::boolean"
	"        THEN ((extract(epoch FROM timestamp) * 1000000)::bigint, id) < ($3::bigint, $4::bigint)"
	"        ELSE ((extract(epoch FROM timestamp) * 1000000)::bigint, id) > ($3::bigint, $4::bigint) END)"
	" ORDER BY CASE WHEN $5::boolean THEN (extract(epoch FROM timestamp) * 1000000)::bigint END DESC,"
	"          CASE WHEN $5::boolean THEN id END DESC,"
	"          timestamp, id"
	" LIMIT $6::bigint" };

const struct db_sql *const audit_read_sql[] = {
	&audit_dandiset_page, &audit_asset_page, NULL
};

/* GET /api/dandisets/{id}/audit/: owners and admins. The dandiset is
 * looked up here, not by a target: records outlive it, and an admin may
 * read the trail of a deleted one. */
int
audit_dandiset_list(struct request *req)
{
	const char	*id = req->params[0];
	struct dandiset	 d;
	struct page	 pg;
	char		 limit[24], offset[24];
	PGresult	*r;
	int		 found;

	if (page_parse(req, &pg) != 0 || (found = dandiset_find(req, id, &d)) < 0)
		return 0;
	if (found == 0 && !req->user->is_superuser)
		return resp_detail(req, 404, "Not found.");
	/* Hidden embargoed dandisets stay hidden (403 as on the detail). */
	if (found == 1 && (perm_read(req, &d) != 0 || !d.owner))
		return req->status ? 0 : resp_detail(req, 403, "You do not have permission to perform this action.");
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *params[3] = { id, limit, offset };
	if ((r = req_query(req, &audit_dandiset_page, 3, params)) == NULL)
		return 0;
	return page_respond_counted(req, &pg, r);
}

/* ISO 8601 date-time as DRF's DateTimeField takes it; a value without an
 * offset is UTC. Returns the text for PostgreSQL, or NULL when invalid. */
const char *
iso_datetime(struct request *req, const char *s)
{
	int y, mo, d, h, mi, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 16)
		return NULL;
	const char *p = s + 16;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
			return NULL;
		p += 3;
		if (*p == '.') {
			int digits = 0;
			for (p++; isdigit((unsigned char)*p); p++)
				digits++;
			if (digits == 0 || digits > 6)
				return NULL;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
		return NULL;
	if (*p == '\0')
		return arena_printf(&req->arena, "%sZ", s);
	if (strcmp(p, "Z") == 0)
		return s;
	if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
	    (p[3] == '\0' || (p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) &&
	    p[6] == '\0') || (isdigit((unsigned char)p[3]) && isdigit((unsigned char)p[4]) && p[5] == '\0')))
		return s;
	return NULL;
}

/* Cursors are opaque to clients: "<direction>:<timestamp us>:<id>" in
 * URL-safe base64. */
static char *
cursor_encode(struct request *req, bool back, const char *ts, const char *id)
{
	const char	*raw = arena_printf(&req->arena, "%c:%s:%s", back ? 'p' : 'n', ts, id);
	size_t		 n = strlen(raw);
	char		*out = arena_alloc(&req->arena, 4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, (int)n);
	for (char *c = out; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	return out;
}

static bool
cursor_decode(struct request *req, const char *c, bool *back, char **ts, char **id)
{
	size_t	 n = strlen(c);
	char	*in, *raw, *colon;
	int64_t	 v;

	if (n == 0 || n > 200 || n % 4 != 0)
		return false;
	in = arena_strdup(&req->arena, c);
	for (char *p = in; *p; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	raw = arena_alloc(&req->arena, n);
	int len = EVP_DecodeBlock((unsigned char *)raw, (const unsigned char *)in, (int)n);
	if (len < 5)
		return false;
	raw[len] = '\0';	/* padding leaves NULs, which end the string early */
	if ((raw[0] != 'n' && raw[0] != 'p') || raw[1] != ':' || (colon = strchr(raw + 2, ':')) == NULL)
		return false;
	*colon = '\0';
	*back = raw[0] == 'p';
	*ts = raw + 2;
	*id = colon + 1;
	return parse_int64(*ts, &v) && parse_int64(*id, &v);
}

/* GET /api/audit/events/asset: staff only. */
int
audit_asset_events(struct request *req)
{
	const char	*before = query_get(req, "before"), *after = query_get(req, "after");
	const char	*cursor = query_get(req, "cursor"), *ps = query_get(req, "page_size");
	char		*cts = NULL, *cid = NULL, limit[24];
	bool		 reverse = false, back = false;
	int64_t		 size = 100, v;
	static const char *dt_error = "Datetime has wrong format. Use one of these formats instead: "
	    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";

	if (before != NULL && *before && (before = iso_datetime(req, before)) == NULL)
		return resp_field_error(req, "before", dt_error);
	if (after != NULL && *after && (after = iso_datetime(req, after)) == NULL)
		return resp_field_error(req, "after", dt_error);
	const char *rv = query_get(req, "reverse_order");
	if (rv != NULL && !parse_bool(rv, &reverse))
		return resp_field_error(req, "reverse_order", "Must be a valid boolean.");
	if (cursor != NULL && !cursor_decode(req, cursor, &back, &cts, &cid))
		return resp_detail(req, 404, "Invalid cursor");
	if (ps != NULL && parse_int64(ps, &v) && v > 0)
		size = v > 1000 ? 1000 : v;
	snprintf(limit, sizeof(limit), "%lld", (long long)size + 1);
	/* Walking newest-first is the reverse order, or a 'previous' cursor
	 * in the normal order (and the other way round). */
	bool desc = reverse != back;
	const char *params[6] = {
		before != NULL && *before ? before : NULL,
		after != NULL && *after ? after : NULL,
		cts, cid, desc ? "t" : "f", limit,
	};
	PGresult *r = req_query(req, &audit_asset_page, 6, params);
	if (r == NULL)
		return 0;
	int n = PQntuples(r);
	bool more = n > size;
	if (more)
		n = (int)size;

	struct buf b;
	buf_init(&b);
	/* Rows came in walking order; a 'previous' page is shown in page order. */
	buf_puts(&b, "{\"next\":");
	bool has_next = back ? cursor != NULL : more;
	bool has_prev = back ? more : cursor != NULL;
	int first = back ? n - 1 : 0, last = back ? 0 : n - 1;
	if (has_next && n > 0) {
		char *c = cursor_encode(req, false, PQgetvalue(r, last, AAE_CURSOR_TS),
		    PQgetvalue(r, last, AAE_CURSOR_ID));
		buf_printf(&b, "\"%s\"", req_url_with(req, "cursor", c));
	} else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"previous\":");
	if (has_prev && n > 0) {
		char *c = cursor_encode(req, true, PQgetvalue(r, first, AAE_CURSOR_TS),
		    PQgetvalue(r, first, AAE_CURSOR_ID));
		buf_printf(&b, "\"%s\"", req_url_with(req, "cursor", c));
	} else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"results\":[");
	for (int k = 0; k < n; k++) {
		int i = back ? n - 1 - k : k;
		if (k > 0)
			buf_puts(&b, ",");
		buf_puts(&b, PQgetvalue(r, i, AAE_JSON));
	}
	buf_puts(&b, "]}");
	int rc = resp_raw_json(req, 200, b.data);
	buf_free(&b);
	return rc;
}
