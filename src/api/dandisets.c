/*
 * dandisets.c - /api/dandisets/: list with filters, create, detail, delete,
 * and stars. Responses are assembled by SQL functions from sql/ so list and
 * detail share one definition of each JSON shape.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "pyunicode.h"
#include "searchq.h"

/* The assetsSummary names the species, approach and technique operators
 * look into, as jsonpath literals. */
#define SPECIES_NAMES	"'$.assetsSummary.species[*].name[*][*]'"
#define APPROACH_NAMES	"'$.assetsSummary.approach[*].name[*][*]'"
#define TECHNIQUE_NAMES	"'$.assetsSummary.measurementTechnique[*].name[*][*]'"
/* True unless the version's names at path can hold the first value of
 * param: that value, JSON-escaped, in their JSON text (any case). */
#define NAMES_HINT(path, param)							\
	"(" param "::text[] IS NULL OR strpos(lower(jsonb_path_query_array(v.metadata, "	\
	path ")::text), lower(left(right(to_jsonb((" param "::text[])[1])::text, -1), -1))) > 0)"
/* The LIKE pattern of "starts with the text of expr", any case. */
#define LIKE_PREFIX(expr)							\
	"replace(replace(replace(upper(" expr "), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"

/* $1 uid $2 superuser $3 embargoed $4 user=me $5 starred $6 draft
 * $7 empty $8 search words $9 ordering $10 limit $11 offset
 * $12 only these dandiset ids (NULL: all; the asset search)
 * $13..$23 the search operators (enum list_param; NULL: not given).
 * Columns: DL_* (api.h; search.c reads them too). */
static const struct db_sql dandiset_list = { "dandiset_list", DL_NCOLS,
	"WITH sel AS ("
	" SELECT d.id, d.created, lv.name AS lv_name, lv.modified AS lv_modified,"
	"  (SELECT t.bytes FROM dandi_version_totals(lv.id) t) AS lv_size,"
	"  (SELECT count(*) FROM dandiset_stars s WHERE s.dandiset_id = d.id) AS stars,"
	"  st.created AS starred_at"
	" FROM dandisets d"
	" LEFT JOIN LATERAL (SELECT v.id, v.name, v.modified FROM versions v"
	"   WHERE v.dandiset_id = d.id ORDER BY v.created DESC, v.id DESC LIMIT 1) lv ON true"
	" LEFT JOIN dandiset_stars st ON st.dandiset_id = d.id AND st.user_id = $1::bigint"
	/* open, or with $3 (embargoed=true) owned: the read rule; with $4
	 * (user=me) owned, superusers too only their own */
	" WHERE (d.embargo_status = 'OPEN' OR ($3::bool AND " SQL_OWNS("d.id", "$1::bigint", "$2::bool") "))"
	"  AND (NOT $4::bool OR " SQL_OWNS("d.id", "$1::bigint", "false") ")"
	"  AND (NOT $5::bool OR st.user_id IS NOT NULL)"
	"  AND ($6::bool OR (SELECT count(*) FROM versions v WHERE v.dandiset_id = d.id) > 1)"
	"  AND ($7::bool OR (SELECT t.files FROM dandi_version_totals(lv.id) t) > 0)"
	"  AND NOT EXISTS (SELECT 1 FROM unnest($8::text[]) w WHERE NOT EXISTS ("
	"   SELECT 1 FROM versions v WHERE v.dandiset_id = d.id"
	"   AND strpos(lower(unaccent(v.metadata::text)), lower(unaccent(w))) > 0))"
	"  AND ($12::bigint[] IS NULL OR d.id = ANY ($12::bigint[]))"
	/* created_after/before: the dandiset's creation; modified_*: the
	 * latest version's modification; published_*: the creation of the
	 * latest published version (none: no match). */
	"  AND ($13::timestamptz IS NULL OR d.created >= $13::timestamptz)"
	"  AND ($14::timestamptz IS NULL OR d.created < $14::timestamptz)"
	"  AND ($15::timestamptz IS NULL OR lv.modified >= $15::timestamptz)"
	"  AND ($16::timestamptz IS NULL OR lv.modified < $16::timestamptz)"
	"  AND ($17::timestamptz IS NULL AND $18::timestamptz IS NULL OR d.id IN ("
	"   SELECT v.dandiset_id FROM versions v WHERE v.version <> 'draft' GROUP BY v.dandiset_id"
	"   HAVING max(v.created) >= coalesce($17::timestamptz, '-infinity')"
	"    AND max(v.created) < coalesce($18::timestamptz, 'infinity')))"
	/* species, approach, technique: a version whose assetsSummary
	 * names hold every value as a case-insensitive substring. Versions
	 * are first picked by the first value of each in the names' JSON
	 * text (cheap, and it never misses one: JSON escapes each character
	 * on its own), then checked name by name. name[*][*] unwraps arrays
	 * of names as the original's lax jsonpath filter does. */
	"  AND ($19::text[] IS NULL AND $20::text[] IS NULL AND $21::text[] IS NULL OR d.id IN ("
	"   SELECT v.dandiset_id FROM versions v"
	"   WHERE " NAMES_HINT(SPECIES_NAMES, "$19") " AND " NAMES_HINT(APPROACH_NAMES, "$20")
	"    AND " NAMES_HINT(TECHNIQUE_NAMES, "$21") " AND NOT EXISTS ("
	"    SELECT 1 FROM (VALUES (" SPECIES_NAMES "::jsonpath, $19::text[]),"
	"      (" APPROACH_NAMES ", $20::text[]), (" TECHNIQUE_NAMES ", $21::text[])) f(path, vals),"
	"     unnest(f.vals) w"
	"    WHERE NOT EXISTS (SELECT 1 FROM jsonb_path_query(v.metadata, f.path) n"
	"     WHERE jsonb_typeof(n) = 'string' AND strpos(lower(n #>> '{}'), lower(w)) > 0))))"
	/* file_type: an asset of the dandiset (in the asset_search view; d
	 * is visible to the caller, so its assets are) whose encodingFormat
	 * starts with every prefix, case-insensitively: Django's istartswith,
	 * UPPER(x) LIKE the escaped value and %. The first prefix alone can
	 * use the trigram index. */
	"  AND ($22::text[] IS NULL OR d.id IN (SELECT s.dandiset_id FROM asset_search s"
	"   WHERE upper(s.asset_metadata->>'encodingFormat') LIKE " LIKE_PREFIX("($22::text[])[1]")
	"    AND upper(s.asset_metadata->>'encodingFormat') LIKE ALL (ARRAY("
	"     SELECT " LIKE_PREFIX("t") " FROM unnest($22::text[]) t))))"
	/* owner: for each value, an owner whose login (as shown), e-mail,
	 * first, last or full name it is, case-insensitively (values that
	 * differ only in case are one). */
	"  AND ($23::text[] IS NULL OR d.id IN ("
	"   SELECT o.dandiset_id FROM unnest($23::text[]) w"
	"   JOIN users u ON upper(w) IN (upper(coalesce(u.github_login, u.username)), upper(u.email),"
	"    upper(u.first_name), upper(u.last_name), upper(u.first_name || ' ' || u.last_name))"
	"   JOIN dandiset_owners o ON o.user_id = u.id"
	"   GROUP BY o.dandiset_id"
	"   HAVING count(DISTINCT upper(w)) = (SELECT count(DISTINCT upper(x)) FROM unnest($23::text[]) x)))"
	"), page AS ("
	" SELECT sel.id, count(*) OVER () AS total,"
	"  row_number() OVER (ORDER BY"
	"   CASE WHEN $9 = 'id' THEN sel.id END,"
	"   CASE WHEN $9 = '-id' THEN sel.id END DESC,"
	"   CASE WHEN $9 = 'name' THEN sel.lv_name END,"
	"   CASE WHEN $9 = '-name' THEN sel.lv_name END DESC,"
	"   CASE WHEN $9 = 'modified' THEN sel.lv_modified END,"
	"   CASE WHEN $9 = '-modified' THEN sel.lv_modified END DESC,"
	"   CASE WHEN $9 = 'size' THEN sel.lv_size END,"
	"   CASE WHEN $9 = '-size' THEN sel.lv_size END DESC,"
	"   CASE WHEN $9 = 'stars' THEN sel.stars END,"
	"   CASE WHEN $9 = '-stars' THEN sel.stars END DESC,"
	"   CASE WHEN $9 = 'starred' THEN sel.starred_at END DESC,"
	"   sel.created, sel.id) AS rn"
	" FROM sel"
	")"
	/* the page first, so that only its rows are joined (however many
	 * rows the planner expects the filters to leave) */
	" SELECT dandi_dandiset_json(d, $1::bigint, 'list'), p.total, d.id"
	" FROM (SELECT * FROM page ORDER BY page.rn LIMIT $10::bigint OFFSET $11::bigint) p"
	" JOIN dandisets d ON d.id = p.id ORDER BY p.rn" };

enum { DD_JSON, DD_NCOLS };
static const struct db_sql dandiset_detail = { "dandiset_detail", DD_NCOLS,
	"SELECT dandi_dandiset_json(d, $2::bigint, 'detail') FROM dandisets d WHERE d.id = $1::bigint" };

enum { DLK_EMBARGO, DLK_PUBLISHED, DLK_PUBLISHING, DLK_NCOLS };
static const struct db_sql dandiset_lock = { "dandiset_lock", DLK_NCOLS,
	"SELECT embargo_status,"
	" EXISTS (SELECT 1 FROM versions v WHERE v.dandiset_id = d.id AND v.version <> 'draft'),"
	" EXISTS (SELECT 1 FROM versions v WHERE v.dandiset_id = d.id AND v.status = 'Publishing')"
	" FROM dandisets d WHERE id = $1::bigint FOR UPDATE" };

enum { NID_ID, NID_NCOLS };
static const struct db_sql dandiset_next_id = { "dandiset_next_id", NID_NCOLS,
	"SELECT dandi_next_dandiset_id()" };

enum { DUC_COUNT, DUC_NCOLS };
static const struct db_sql dandiset_uploads_count = { "dandiset_uploads_count", DUC_NCOLS,
	"SELECT count(*) FROM uploads WHERE dandiset_id = $1::bigint" };

enum { DUS_JOB, DUS_NCOLS };	/* unread */
static const struct db_sql dandiset_unembargo_start = { "dandiset_unembargo_start", DUS_NCOLS,
	"WITH d AS (UPDATE dandisets SET embargo_status = 'UNEMBARGOING', modified = now()"
	"   WHERE id = $1::bigint)"
	" SELECT dandi_enqueue('unembargo', $1::text,"
	"   jsonb_build_object('dandiset', $1::bigint, 'user', $2::bigint))" };

enum { DI_CREATED, DI_NCOLS };
static const struct db_sql dandiset_insert = { "dandiset_insert", DI_NCOLS,
	"INSERT INTO dandisets (id, embargo_status, embargo_end_date, embargo_end_limit)"
	" VALUES ($1::bigint, $2, $3::date, $4::date)"
	" RETURNING dandi_pyiso(created)" };

static const struct db_sql dandiset_add_owner = { "dandiset_add_owner", 0,
	"INSERT INTO dandiset_owners (dandiset_id, user_id) VALUES ($1::bigint, $2::bigint)" };

static const struct db_sql version_insert_draft = { "version_insert_draft", 0,
	"INSERT INTO versions (dandiset_id, name, metadata, version, status)"
	" VALUES ($1::bigint, $2, $3::jsonb, 'draft', 'Pending')" };

static const struct db_sql dandiset_delete = { "dandiset_delete", 0,
	"DELETE FROM dandisets WHERE id = $1::bigint" };

enum { STAR_COUNT, STAR_NCOLS };
static const struct db_sql star_add = { "star_add", STAR_NCOLS,
	"WITH ins AS (INSERT INTO dandiset_stars (user_id, dandiset_id)"
	" VALUES ($2::bigint, $1::bigint) ON CONFLICT DO NOTHING RETURNING 1)"
	" SELECT (SELECT count(*) FROM dandiset_stars WHERE dandiset_id = $1::bigint)"
	" + (SELECT count(*) FROM ins)" };

static const struct db_sql star_remove = { "star_remove", STAR_NCOLS,
	"WITH del AS (DELETE FROM dandiset_stars WHERE user_id = $2::bigint"
	" AND dandiset_id = $1::bigint RETURNING 1)"
	" SELECT (SELECT count(*) FROM dandiset_stars WHERE dandiset_id = $1::bigint)"
	" - (SELECT count(*) FROM del)" };

const struct db_sql *const dandisets_sql[] = {
	&dandiset_list, &dandiset_detail, &dandiset_lock, &dandiset_next_id,
	&dandiset_uploads_count, &dandiset_unembargo_start, &dandiset_insert,
	&dandiset_add_owner, &version_insert_draft, &dandiset_delete, &star_add, &star_remove,
	NULL
};

static const char *orderings[] = {
	"id", "-id", "name", "-name", "modified", "-modified", "size", "-size",
	"stars", "-stars",
};

/* A boolean query parameter; -1 with a 400 set when malformed. */
static int
query_bool(struct request *req, const char *key, bool def, bool *out)
{
	const char *v = query_get(req, key);

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	if (!parse_bool(v, out))
		return resp_field_error(req, key, "Must be a valid boolean."), -1;
	return 0;
}

/* The search parameter as DRF's CharField(required=False) takes it: an
 * empty value is no search, text of only whitespace is blank, a NUL is
 * refused. *out is NULL when there is no search. */
static int
search_param_check(struct request *req, const char **out)
{
	const struct query_param *q = query_param(req, "search");
	size_t start, end;

	*out = NULL;
	if (q == NULL || (*q->value == '\0' && !q->nul))
		return 0;
	if (q->nul)	/* never blank: a NUL is no whitespace */
		return resp_field_error(req, "search", "Null characters are not allowed."), -1;
	py_strip(q->value, strlen(q->value), &start, &end);
	if (start == end)
		return resp_field_error(req, "search", "This field may not be blank."), -1;
	*out = q->value;
	return 0;
}

/* The parameters of dandiset_list, in order. */
enum list_param {
	P_UID, P_SUPERUSER, P_EMBARGOED, P_ME, P_STARRED, P_DRAFT, P_EMPTY, P_WORDS,
	P_ORDERING, P_LIMIT, P_OFFSET, P_IDS,
	P_CREATED_AFTER, P_CREATED_BEFORE, P_MODIFIED_AFTER, P_MODIFIED_BEFORE,
	P_PUBLISHED_AFTER, P_PUBLISHED_BEFORE,
	P_SPECIES, P_APPROACH, P_TECHNIQUE, P_FILE_TYPE, P_OWNER,
	P_COUNT
};

/* Where each search operator goes. Repeated operators must all hold: of
 * the dates the latest "after" and the earliest "before" count; the values
 * of the others go to their parameter as an array. */
static const struct {
	const char	*key;
	enum list_param	 param;
} search_op_params[] = {
	{ "created_after", P_CREATED_AFTER },
	{ "created_before", P_CREATED_BEFORE },
	{ "modified_after", P_MODIFIED_AFTER },
	{ "modified_before", P_MODIFIED_BEFORE },
	{ "published_after", P_PUBLISHED_AFTER },
	{ "published_before", P_PUBLISHED_BEFORE },
	{ "species", P_SPECIES },
	{ "approach", P_APPROACH },
	{ "technique", P_TECHNIQUE },
	{ "file_type", P_FILE_TYPE },
	{ "owner", P_OWNER },
};

/* Parses the search text into params (free words as P_WORDS, operators
 * from P_CREATED_AFTER on). -1 with the original's 400 set: the message
 * as {"search": "..."} (a string, not a list, as its view raises it). */
static int
search_params(struct request *req, const char *text, const char *params[P_COUNT])
{
	struct searchq sq;
	const char *err, *dates[P_COUNT] = { NULL };
	const char **vals[P_COUNT] = { NULL };
	size_t nvals[P_COUNT] = { 0 };

	if (searchq_parse(&req->arena, text ? text : "", &sq, &err) != 0 ||
	    searchq_check(&req->arena, &sq, &err) != 0) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "search", json_object_new_string(err));
		return resp_json(req, 400, o), -1;
	}
	params[P_WORDS] = req_text_array(req, sq.words, sq.nwords);
	if (params[P_WORDS] == NULL)
		params[P_WORDS] = "{}";
	for (size_t i = 0; i < sq.nops; i++) {
		const struct searchq_op *op = &sq.ops[i];
		enum list_param p = P_COUNT;

		for (size_t j = 0; j < sizeof(search_op_params) / sizeof(search_op_params[0]); j++)
			if (strcmp(op->def->key, search_op_params[j].key) == 0)
				p = search_op_params[j].param;
		if (p == P_COUNT)	/* searchq_ops and the table disagree: a bug */
			return resp_detail(req, 500, "A server error occurred."), -1;
		switch (op->def->kind) {
		case SEARCHQ_AFTER:	/* YYYY-MM-DD: strcmp orders them */
			if (dates[p] == NULL || strcmp(op->value, dates[p]) > 0)
				dates[p] = op->value;
			break;
		case SEARCHQ_BEFORE:
			if (dates[p] == NULL || strcmp(op->value, dates[p]) < 0)
				dates[p] = op->value;
			break;
		case SEARCHQ_TEXT:
		case SEARCHQ_FILE_TYPE:
			if (vals[p] == NULL)
				vals[p] = arena_alloc(&req->arena, sq.nops * sizeof(*vals[p]));
			vals[p][nvals[p]++] = op->value;
			break;
		}
	}
	for (int p = P_CREATED_AFTER; p < P_COUNT; p++)
		if (dates[p] != NULL)	/* midnight UTC, as the original */
			params[p] = arena_printf(&req->arena, "%sT00:00:00Z", dates[p]);
		else
			params[p] = req_text_array(req, vals[p], nvals[p]);
	return 0;
}

/* The list's query parameters: 400 set and -1 when one is malformed. */
int
dandisets_list_parse(struct request *req, struct dandiset_list_args *a)
{
	const char	*user = query_get(req, "user"), *ordering = query_get(req, "ordering");

	memset(a, 0, sizeof(*a));
	a->order = "";
	if (page_parse(req, &a->pg) != 0 ||
	    query_bool(req, "draft", true, &a->draft) != 0 ||
	    query_bool(req, "empty", true, &a->empty) != 0 ||
	    query_bool(req, "embargoed", false, &a->embargoed) != 0 ||
	    query_bool(req, "starred", false, &a->starred) != 0)
		return -1;
	if (user != NULL && *user && strcmp(user, "me") != 0)
		return resp_field_error(req, "user", "Select a valid choice. That choice is not one of the available choices."), -1;
	a->me = user != NULL && strcmp(user, "me") == 0;
	if (search_param_check(req, &a->search) != 0)
		return -1;
	/* DRF's OrderingFilter ignores unknown fields; first valid one wins. */
	if (ordering != NULL) {
		char *list = arena_strdup(&req->arena, ordering), *tok, *save = NULL;
		for (tok = strtok_r(list, ",", &save); tok && !*a->order; tok = strtok_r(NULL, ",", &save))
			for (size_t i = 0; i < sizeof(orderings) / sizeof(char *); i++)
				if (strcmp(tok, orderings[i]) == 0)
					a->order = orderings[i];
	}
	if (*a->order == '\0' && a->starred)
		a->order = "starred";
	return 0;
}

/* One page of the list (columns: dandi_dandiset_json, total, id), only dandisets
 * in ids (a bigint[] literal) unless NULL. NULL with the response set. */
PGresult *
dandisets_list_query(struct request *req, const struct dandiset_list_args *a,
    const char *ids, int64_t *total)
{
	if (a->embargoed && req->user == NULL)
		return resp_string(req, 401, "Authentication credentials must be provided when attempting to access embargoed dandisets"), NULL;
	if (a->starred && req->user == NULL)
		return resp_string(req, 401, "Must be authenticated to filter by starred dandisets."), NULL;

	char limit[24], offset[24];
	const char *params[P_COUNT] = { NULL };
	if (search_params(req, a->search, params) != 0)
		return NULL;
	snprintf(limit, sizeof(limit), "%lld", (long long)a->pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)a->pg.offset);
	params[P_UID] = a->me && req->user == NULL ? "0" : req->user_id_str;	/* anonymous "me" owns nothing */
	params[P_SUPERUSER] = req->user && req->user->is_superuser ? "t" : "f";
	params[P_EMBARGOED] = a->embargoed ? "t" : "f";
	params[P_ME] = a->me ? "t" : "f";
	params[P_STARRED] = a->starred ? "t" : "f";
	params[P_DRAFT] = a->draft ? "t" : "f";
	params[P_EMPTY] = a->empty ? "t" : "f";
	params[P_ORDERING] = a->order;
	params[P_LIMIT] = limit;
	params[P_OFFSET] = offset;
	params[P_IDS] = ids;
	PGresult *r = req_query(req, &dandiset_list, P_COUNT, params);
	if (r == NULL)
		return NULL;
	*total = 0;
	if (PQntuples(r) > 0)
		parse_int64(PQgetvalue(r, 0, DL_TOTAL), total);
	else if (a->pg.page > 1)
		return resp_detail(req, 404, "Invalid page."), NULL;
	return r;
}

int
dandisets_list(struct request *req)
{
	struct dandiset_list_args a;
	int64_t total;
	PGresult *r;

	if (dandisets_list_parse(req, &a) != 0 ||
	    (r = dandisets_list_query(req, &a, NULL, &total)) == NULL)
		return 0;
	return page_respond(req, &a.pg, r, DL_JSON, total, a.pg.offset + PQntuples(r) < total);
}

/* Responds with the detail object of a dandiset (after create). */
static int
respond_detail(struct request *req, const char *id)
{
	const char	*params[2] = { id, req->user_id_str };
	PGresult	*r = req_query(req, &dandiset_detail, 2, params);

	if (r == NULL)
		return 0;
	return resp_raw_json(req, 200, PQgetvalue(r, 0, DD_JSON));
}

/* The target brought the detail (WITH_JSON). */
int
dandisets_get(struct request *req)
{
	return resp_raw_json(req, 200, req->dandiset->json);
}

struct create_args {
	const char		*name;
	struct json_object	*metadata;
	bool			 embargo;
	const char		*funding_source;
	const char		*award_number;
	char			 end_date[11];
	char			 end_limit[11];	/* the latest end date allowed, kept */
	int64_t			 explicit_id;	/* -1 when auto */
};

static void
date_plus_days(char out[11], int days)
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Body and query validation for POST /api/dandisets/. */
static int
create_parse(struct request *req, struct create_args *a)
{
	struct json_object *md, *ident;

	if ((md = metadata_body_parse(req, &a->name)) == NULL)
		return -1;
	a->metadata = md;

	if (query_bool(req, "embargo", false, &a->embargo) != 0)
		return -1;
	a->funding_source = metadata_utf8_fix(req, query_get(req, "funding_source"));
	a->award_number = metadata_utf8_fix(req, query_get(req, "award_number"));
	if (a->funding_source != NULL && *a->funding_source == '\0')
		a->funding_source = NULL;
	if (a->award_number != NULL && *a->award_number == '\0')
		a->award_number = NULL;
	date_plus_days(a->end_date, 730);
	if (a->embargo) {
		const char *end = query_get(req, "embargo_end_date");

		if (a->funding_source != NULL && a->award_number == NULL)
			return resp_field_error(req, "non_field_errors", "Award number is required when funding source is set"), -1;
		if (a->award_number != NULL && a->funding_source == NULL)
			return resp_field_error(req, "non_field_errors", "Funding source is required when award number is set"), -1;
		if (end != NULL && *end) {
			if (!date_valid(end))
				return resp_field_error(req, "embargo_end_date",
				    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."), -1;
			snprintf(a->end_date, sizeof(a->end_date), "%s", end);
		}
		date_plus_days(a->end_limit, a->funding_source != NULL ? 5 * 365 : 2 * 365);
		if (strcmp(a->end_date, a->end_limit) > 0)
			return resp_field_error(req, "non_field_errors", "Invalid embargo end date"), -1;
	}

	a->explicit_id = -1;
	if (json_object_object_get_ex(md, "identifier", &ident) && ident != NULL) {
		const char *s = json_object_get_string(ident), *colon = strchr(s, ':');
		int64_t v;
		if (colon != NULL)
			s = colon + 1;
		if (!parse_int64(s, &v) || v < 0 || v > 999999)
			return resp_string(req, 400, "Invalid Identifier %s",
			    json_object_get_string(ident)), -1;
		if (!req->user->is_superuser)
			return resp_string(req, 400, "Creating a dandiset for a given identifier is an admin only operation."), -1;
		a->explicit_id = v;
	}
	return 0;
}

/* Default contributor: the creator as contact person. */
static struct json_object *
default_contributor(struct request *req)
{
	struct json_object *l = json_object_new_array(), *p = json_object_new_object();
	const struct user *u = req->user;

	json_object_object_add(p, "name", json_object_new_string(arena_printf(&req->arena,
	    "%s, %s", u->last_name, u->first_name)));
	json_object_object_add(p, "email", json_object_new_string(u->email));
	struct json_object *roles = json_object_new_array();
	json_object_array_add(roles, json_object_new_string("dcite:ContactPerson"));
	json_object_object_add(p, "roleName", roles);
	json_object_object_add(p, "schemaKey", json_object_new_string("Person"));
	json_object_object_add(p, "affiliation", json_object_new_array());
	json_object_object_add(p, "includeInCitation", json_object_new_boolean(1));
	json_object_array_add(l, p);
	return l;
}

/* Builds the draft metadata: defaults under the user's keys, embargo access
 * and funder, then the computed fields. Returns a new object. */
static struct json_object *
create_metadata(struct request *req, const struct create_args *a, int64_t id,
    const char *created_iso)
{
	struct json_object *md = NULL, *tmp;

	json_object_deep_copy(a->metadata, &md, NULL);
	metadata_strip_version(md);
	if (!json_object_object_get_ex(md, "schemaKey", NULL))
		json_object_object_add(md, "schemaKey", json_object_new_string("Dandiset"));
	if (!json_object_object_get_ex(md, "schemaVersion", NULL))
		json_object_object_add(md, "schemaVersion", json_object_new_string(DANDI_SCHEMA_VERSION));
	if (!json_object_object_get_ex(md, "contributor", NULL))
		json_object_object_add(md, "contributor", default_contributor(req));
	if (a->embargo) {
		struct json_object *acc = json_object_new_array(), *e = json_object_new_object();
		json_object_object_add(e, "schemaKey", json_object_new_string("AccessRequirements"));
		json_object_object_add(e, "status", json_object_new_string("dandi:EmbargoedAccess"));
		json_object_object_add(e, "embargoedUntil", json_object_new_string(a->end_date));
		json_object_array_add(acc, e);
		json_object_object_add(md, "access", acc);
		if (a->funding_source != NULL &&
		    json_object_object_get_ex(md, "contributor", &tmp) &&
		    json_object_is_type(tmp, json_type_array)) {
			struct json_object *o = json_object_new_object(), *roles = json_object_new_array();
			json_object_object_add(o, "name", json_object_new_string(a->funding_source));
			json_object_object_add(o, "schemaKey", json_object_new_string("Organization"));
			json_object_array_add(roles, json_object_new_string("dcite:Funder"));
			json_object_object_add(o, "roleName", roles);
			json_object_object_add(o, "includeInCitation", json_object_new_boolean(0));
			if (a->award_number != NULL)
				json_object_object_add(o, "awardNumber", json_object_new_string(a->award_number));
			json_object_array_add(tmp, o);
		}
	}
	struct version_ctx v = {
		.dandiset_id = id, .version = "draft", .name = a->name,
		.created_iso = created_iso,
		.embargo_status = a->embargo ? "EMBARGOED" : "OPEN",
		.embargo_end = a->embargo ? a->end_date : NULL,
	};
	metadata_populate_version(req->cfg, &v, md);
	return md;
}

int
dandisets_create(struct request *req)
{
	struct create_args	 a;
	char			 idbuf[24];
	PGresult		*r;
	bool			 dup;

	if (create_parse(req, &a) != 0)
		return 0;
	if (a.explicit_id >= 0)
		snprintf(idbuf, sizeof(idbuf), "%lld", (long long)a.explicit_id);
	else {
		if ((r = req_query(req, &dandiset_next_id, 0, NULL)) == NULL)
			return 0;
		snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(r, 0, NID_ID));
	}
	const char *ins[4] = { idbuf, a.embargo ? "EMBARGOED" : "OPEN", a.embargo ? a.end_date : NULL,
	    a.embargo ? a.end_limit : NULL };
	if ((r = req_query_try(req, &dandiset_insert, 4, ins, &dup)) == NULL)
		return 0;
	if (dup)
		return resp_string(req, 400, "Dandiset %06lld already exists", (long long)a.explicit_id);
	const char *created_iso = arena_strdup(&req->arena, PQgetvalue(r, 0, DI_CREATED));
	int64_t id;
	parse_int64(idbuf, &id);

	struct json_object *md = create_metadata(req, &a, id, created_iso);
	const char *mdtext = arena_strdup(&req->arena, json_object_to_json_string_ext(md, JSON_C_TO_STRING_PLAIN));
	const char *own[2] = { idbuf, req->user_id_str };
	const char *ver[3] = { idbuf, a.name, mdtext };
	if (req_query(req, &dandiset_add_owner, 2, own) == NULL ||
	    req_query(req, &version_insert_draft, 3, ver) == NULL) {
		json_object_put(md);
		return 0;
	}
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "metadata", md);
	json_object_object_add(details, "embargoed", json_object_new_boolean(a.embargo));
	if (audit_write(req, idbuf, "create_dandiset", details) != 0 || req_commit(req) != 0)
		return 0;
	return respond_detail(req, idbuf);
}

/* The original's delete service refuses non-owners with its own message,
 * after the read rule of the target (get_object); the status it checks on
 * the row it locks, so that a concurrent unembargo or publish wins. */
int
dandisets_delete(struct request *req)
{
	const char	*id = req->dandiset->id;
	const char	*params[1] = { id };
	PGresult	*r;

	if (!req->dandiset->owner)
		return resp_string(req, 403, "Cannot delete dandisets which you do not own.");
	if ((r = req_query(req, &dandiset_lock, 1, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (PQgetvalue(r, 0, DLK_PUBLISHED)[0] == 't')
		return resp_string(req, 403, "Cannot delete dandisets with published versions.");
	if (PQgetvalue(r, 0, DLK_PUBLISHING)[0] == 't')
		return resp_string(req, 403, "Cannot delete dandisets that are currently being published.");
	if (perm_not_unembargoing(req, PQgetvalue(r, 0, DLK_EMBARGO)) != 0)
		return 0;
	if (audit_write(req, id, "delete_dandiset", json_object_new_object()) != 0 ||
	    req_query(req, &dandiset_delete, 1, params) == NULL || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 204);
}

/* POST /api/dandisets/{id}/unembargo/: UNEMBARGOING now, the S3 and
 * database work in the unembargo job of dandi-jobs (housekeeping.c). The
 * status is checked on the locked row. */
int
dandisets_unembargo(struct request *req)
{
	const char	*id = req->dandiset->id;
	const char	*params[2] = { id, req->user_id_str };
	PGresult	*r;

	if ((r = req_query(req, &dandiset_lock, 1, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (strcmp(PQgetvalue(r, 0, DLK_EMBARGO), "EMBARGOED") != 0)
		return resp_string(req, 400, "Dandiset not embargoed");
	if ((r = req_query(req, &dandiset_uploads_count, 1, params)) == NULL)
		return 0;
	if (strcmp(PQgetvalue(r, 0, DUC_COUNT), "0") != 0)
		return resp_string(req, 400, "Dandiset unembargo not allowed with active uploads");
	if (req_query(req, &dandiset_unembargo_start, 2, params) == NULL || req_commit(req) != 0)
		return 0;
	return resp_raw_json(req, 200, "null");
}

static int
star_change(struct request *req, const struct db_sql *stmt)
{
	const char	*params[2] = { req->dandiset->id, req->user_id_str };
	PGresult	*r;

	if ((r = req_query(req, stmt, 2, params)) == NULL)
		return 0;
	return resp_raw_json(req, 200, arena_printf(&req->arena, "{\"count\":%s}",
	    PQgetvalue(r, 0, STAR_COUNT)));
}

int
dandisets_star(struct request *req)
{
	return star_change(req, &star_add);
}

int
dandisets_unstar(struct request *req)
{
	return star_change(req, &star_remove);
}
