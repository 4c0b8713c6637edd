/*
 * diff.c - GET /api/dandisets/{id}/versions/{a}/diff/{b}/: what changed
 * from version a to version b (issue 21; the original has no such
 * route). The version metadata's differences as JSON Pointer paths
 * (added, removed, changed), and the files' differences (added, removed,
 * modified, renamed) as a page of the API's usual pagination.
 *
 * The files: a merge of both versions' files in path order, read in
 * windows of each version's asset_paths range (dandi_diff_window,
 * sql/functions/35_diff.sql), so that a page costs the distance from its
 * start to its last change (and the work of its own changes only), never
 * a whole version; the next link carries
 * the page's last path as its cursor. The counts (summary, count) are
 * one pass over both versions, on the first page only (as the asset
 * list's count), kept under both versions' list states
 * (dandi_diff_counts, sql/021_diff_counts.sql): a repeated first page
 * probes for them, a write to the draft makes the next one count again.
 * ?count=false leaves them out (null) for a client that shows the
 * changes first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Version a's metadata ($1: its id) and version b ($2: dandiset, $3: its
 * name) with its metadata: no row for b when it does not exist. */
enum { DV_A_METADATA, DV_B_ID, DV_B_METADATA, DV_NCOLS };
static const struct db_sql diff_versions = { "diff_versions", DV_NCOLS,
	"SELECT a.metadata, b.id, b.metadata FROM versions a"
	" LEFT JOIN versions b ON b.dandiset_id = $2::bigint AND b.version = $3"
	" WHERE a.id = $1::bigint" };

enum { DW_HI, DW_PATH, DW_ENTRY, DW_NCOLS };
static const struct db_sql diff_window = { "diff_window", DW_NCOLS,
	"SELECT hi, path, entry FROM dandi_diff_window($1::bigint, $2::bigint, $3, $4::bigint, $5::bigint)" };

enum { DS_ADDED, DS_REMOVED, DS_MODIFIED, DS_RENAMED, DS_NCOUNTS, DS_KEPT = DS_NCOUNTS, DS_NCOLS };
static const struct db_sql diff_summary = { "diff_summary", DS_NCOLS,
	"SELECT added, removed, modified, renamed, kept FROM dandi_diff_counts($1::bigint, $2::bigint)" };

/* Whether the counts were kept ones ("kept") or counted ("counted"). */
#define COUNTS_HEADER	"X-Dandi-Diff-Counts"

const struct db_sql *const diff_sql[] = { &diff_versions, &diff_window, &diff_summary, NULL };

/* Top-level metadata fields that differ between any two versions (who
 * and when published, the version's own name, links and citation) and so
 * say nothing about what changed: left out of the comparison, and listed
 * in the answer as "ignored". */
static const char *const ignored_fields[] = {
	"id", "version", "url", "doi", "citation", "manifestLocation", "datePublished",
	"publishedBy", "dateModified", "releaseNotes",
};
#define NIGNORED (sizeof(ignored_fields) / sizeof(ignored_fields[0]))

/* Windows of the merge: the first small (a page of a small diff comes
 * from one), growing while they find little. */
#define WINDOW_FIRST	2000
#define WINDOW_MAX	64000
/* Arrays are matched item by item along their longest common
 * subsequence; past this many item pairs, by position. */
#define LCS_MAX_CELLS	1000000

struct mdiff {
	struct buf	 added, removed, changed;	/* JSON array items, comma-separated */
};

static void
item_sep(struct buf *b)
{
	if (b->len > 0)
		buf_append(b, ",", 1);
}

static void
put_value(struct buf *b, struct json_object *v)
{
	buf_puts(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
md_added(struct mdiff *d, const char *path, struct json_object *v)
{
	item_sep(&d->added);
	buf_puts(&d->added, "{\"path\":");
	buf_json_string(&d->added, path);
	buf_puts(&d->added, ",\"value\":");
	put_value(&d->added, v);
	buf_append(&d->added, "}", 1);
}

static void
md_removed(struct mdiff *d, const char *path, struct json_object *v)
{
	item_sep(&d->removed);
	buf_puts(&d->removed, "{\"path\":");
	buf_json_string(&d->removed, path);
	buf_puts(&d->removed, ",\"value\":");
	put_value(&d->removed, v);
	buf_append(&d->removed, "}", 1);
}

/* A changed value: path in b; old_path in a when an array item moved. */
static void
md_changed(struct mdiff *d, const char *old_path, const char *path, struct json_object *o,
    struct json_object *n)
{
	item_sep(&d->changed);
	buf_puts(&d->changed, "{\"path\":");
	buf_json_string(&d->changed, path);
	if (strcmp(old_path, path) != 0) {
		buf_puts(&d->changed, ",\"old_path\":");
		buf_json_string(&d->changed, old_path);
	}
	buf_puts(&d->changed, ",\"old\":");
	put_value(&d->changed, o);
	buf_puts(&d->changed, ",\"new\":");
	put_value(&d->changed, n);
	buf_append(&d->changed, "}", 1);
}

/* path + "/" + the key as a JSON Pointer token (RFC 6901: ~ and /
 * escaped), in the request's arena. */
static const char *
ptr_key(struct request *req, const char *path, const char *key)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, path);
	buf_append(&b, "/", 1);
	for (const char *k = key; *k; k++) {
		if (*k == '~')
			buf_puts(&b, "~0");
		else if (*k == '/')
			buf_puts(&b, "~1");
		else
			buf_append(&b, k, 1);
	}
	buf_append(&b, "", 1);
	const char *s = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	return s;
}

static const char *
ptr_index(struct request *req, const char *path, size_t i)
{
	return arena_printf(&req->arena, "%s/%zu", path, i);
}

static void diff_value(struct request *, struct mdiff *, const char *, const char *,
    struct json_object *, struct json_object *);

static bool
is_ignored(const char *key)
{
	for (size_t i = 0; i < NIGNORED; i++)
		if (strcmp(key, ignored_fields[i]) == 0)
			return true;
	return false;
}

/* Objects: keys of a (in a's order) removed or compared, then the keys
 * only b has, in b's order. top: the metadata's own fields, where the
 * ignored ones are skipped. */
static void
diff_object(struct request *req, struct mdiff *d, const char *op, const char *np,
    struct json_object *a, struct json_object *b, bool top)
{
	struct json_object *bv;

	json_object_object_foreach(a, ka, va) {
		if (top && is_ignored(ka))
			continue;
		if (json_object_object_get_ex(b, ka, &bv))
			diff_value(req, d, ptr_key(req, op, ka), ptr_key(req, np, ka), va, bv);
		else
			md_removed(d, ptr_key(req, op, ka), va);
	}
	json_object_object_foreach(b, kb, vb) {
		if ((top && is_ignored(kb)) || json_object_object_get_ex(a, kb, NULL))
			continue;
		md_added(d, ptr_key(req, np, kb), vb);
	}
}

/* How alike two items are: the members two objects have equal. */
static int
similarity(struct json_object *x, struct json_object *y)
{
	struct json_object *yv;
	int n = 0;

	if (!json_object_is_type(x, json_type_object) || !json_object_is_type(y, json_type_object))
		return 0;
	json_object_object_foreach(x, k, xv)
		if (json_object_object_get_ex(y, k, &yv) && json_object_equal(xv, yv))
			n++;
	return n;
}

/* A stretch of items between two kept ones: a[i..ie) became b[j..je).
 * As many on both sides: each was edited in place. Else each item of a
 * is paired, in order, with the most alike item of b after the last one
 * paired (an edited contributor among inserted ones), if any is alike at
 * all and no later item of a is more alike to it; the items of b passed
 * over were added, those of a left alone removed. */
static void
diff_gap(struct request *req, struct mdiff *d, const char *op, const char *np,
    struct json_object *a, size_t i, size_t ie, struct json_object *b, size_t j, size_t je)
{
	if (ie - i == je - j) {
		for (size_t k = 0; i + k < ie; k++)
			diff_value(req, d, ptr_index(req, op, i + k), ptr_index(req, np, j + k),
			    json_object_array_get_idx(a, i + k), json_object_array_get_idx(b, j + k));
		return;
	}
	for (; i < ie; i++) {
		struct json_object *x = json_object_array_get_idx(a, i);
		size_t best = je;
		int score = 0;
		for (size_t k = j; k < je; k++) {
			int s = similarity(x, json_object_array_get_idx(b, k));
			if (s > score)
				score = s, best = k;
		}
		/* ... and only if no item of a still to come is more alike to it. */
		for (size_t k = i + 1; best < je && k < ie; k++)
			if (similarity(json_object_array_get_idx(a, k), json_object_array_get_idx(b, best)) > score)
				best = je;
		if (best == je) {
			md_removed(d, ptr_index(req, op, i), x);
			continue;
		}
		for (; j < best; j++)
			md_added(d, ptr_index(req, np, j), json_object_array_get_idx(b, j));
		diff_value(req, d, ptr_index(req, op, i), ptr_index(req, np, best), x,
		    json_object_array_get_idx(b, best));
		j = best + 1;
	}
	for (; j < je; j++)
		md_added(d, ptr_index(req, np, j), json_object_array_get_idx(b, j));
}

/* Arrays: the items common to both in order (their longest common
 * subsequence) stay; between two such anchors, diff_gap pairs the items
 * that were edited (their changes inside) and the rest are removed (a's)
 * or added (b's). So an item inserted in a list is one "added" entry, not
 * a change of every item after it. */
static void
diff_array(struct request *req, struct mdiff *d, const char *op, const char *np,
    struct json_object *a, struct json_object *b)
{
	size_t na = json_object_array_length(a), nb = json_object_array_length(b);
	size_t *ma = NULL;	/* ma[i]: the item of b that a's item i is kept as, or SIZE_MAX */

	ma = arena_alloc(&req->arena, (na + 1) * sizeof(*ma));
	for (size_t i = 0; i < na; i++)
		ma[i] = SIZE_MAX;
	if (na > 0 && nb > 0 && (na + 1) * (nb + 1) <= LCS_MAX_CELLS) {
		/* L[i][j]: the LCS length of a[i..] and b[j..]. */
		uint32_t *L = xcalloc((na + 1) * (nb + 1), sizeof(*L));
#define AT(i, j) L[(i) * (nb + 1) + (j)]
		for (size_t i = na; i-- > 0;)
			for (size_t j = nb; j-- > 0;)
				AT(i, j) = json_object_equal(json_object_array_get_idx(a, i),
				    json_object_array_get_idx(b, j)) ? AT(i + 1, j + 1) + 1 :
				    AT(i + 1, j) >= AT(i, j + 1) ? AT(i + 1, j) : AT(i, j + 1);
		for (size_t i = 0, j = 0; i < na && j < nb;) {
			if (json_object_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, j)) &&
			    AT(i, j) == AT(i + 1, j + 1) + 1)
				ma[i++] = j++;
			else if (AT(i + 1, j) >= AT(i, j + 1))
				i++;
			else
				j++;
		}
#undef AT
		free(L);
	}
	/* Walk the gaps between anchors (and after the last). */
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		size_t ie = i, je;
		while (ie < na && ma[ie] == SIZE_MAX)
			ie++;
		je = ie < na ? ma[ie] : nb;
		diff_gap(req, d, op, np, a, i, ie, b, j, je);
		if (ie >= na)
			break;
		i = ie + 1;	/* the anchor itself: equal */
		j = je + 1;
	}
}

static void
diff_value(struct request *req, struct mdiff *d, const char *op, const char *np,
    struct json_object *a, struct json_object *b)
{
	if (json_object_equal(a, b))
		return;
	if (json_object_is_type(a, json_type_object) && json_object_is_type(b, json_type_object))
		diff_object(req, d, op, np, a, b, false);
	else if (json_object_is_type(a, json_type_array) && json_object_is_type(b, json_type_array))
		diff_array(req, d, op, np, a, b);
	else
		md_changed(d, op, np, a, b);
}

/* "metadata": {added, removed, changed, ignored} */
static void
metadata_diff(struct request *req, struct buf *out, const char *ta, const char *tb)
{
	struct json_object *a = req_json_text(req, ta), *b = req_json_text(req, tb);
	struct mdiff d;

	buf_init(&d.added);
	buf_init(&d.removed);
	buf_init(&d.changed);
	if (json_object_is_type(a, json_type_object) && json_object_is_type(b, json_type_object))
		diff_object(req, &d, "", "", a, b, true);
	else if (!json_object_equal(a, b))	/* never: stored metadata is an object */
		md_changed(&d, "", "", a, b);
	buf_puts(out, "{\"added\":[");
	buf_append(out, d.added.data, d.added.len);
	buf_puts(out, "],\"removed\":[");
	buf_append(out, d.removed.data, d.removed.len);
	buf_puts(out, "],\"changed\":[");
	buf_append(out, d.changed.data, d.changed.len);
	buf_puts(out, "],\"ignored\":[");
	for (size_t i = 0; i < NIGNORED; i++) {
		if (i > 0)
			buf_append(out, ",", 1);
		buf_json_string(out, ignored_fields[i]);
	}
	buf_puts(out, "]}");
	buf_free(&d.added);
	buf_free(&d.removed);
	buf_free(&d.changed);
}

struct change {
	const char	*path;
	const char	*entry;
};

/* GET /api/dandisets/{id}/versions/{a}/diff/{b}/ */
int
versions_diff(struct request *req)
{
	struct page	 pg;
	const char	*cursor = query_get(req, "cursor");
	PGresult	*r;

	if (page_parse(req, &pg) != 0)
		return 0;
	/* A cursor is a path the previous page ended at. */
	if (cursor != NULL && (*cursor == '\0' || strlen(cursor) > 512))
		return resp_field_error(req, "cursor", "Invalid cursor.");
	const char *cq = query_get(req, "count");
	bool counts = true;
	if (cq != NULL && *cq != '\0' && !parse_bool(cq, &counts))
		return resp_field_error(req, "count", "Must be a valid boolean.");
	const char *pv[3] = { req->version->id, req->dandiset->id, req->params[2] };
	if ((r = req_query(req, &diff_versions, 3, pv)) == NULL)
		return 0;
	if (PQntuples(r) == 0 || PQgetisnull(r, 0, DV_B_ID))
		return resp_detail(req, 404, "Not found.");
	const char *va = req->version->id, *vb = arena_strdup(&req->arena, PQgetvalue(r, 0, DV_B_ID));
	struct buf head;
	buf_init(&head);
	buf_puts(&head, "{\"from\":");
	buf_json_string(&head, req->version->version);
	buf_puts(&head, ",\"to\":");
	buf_json_string(&head, req->params[2]);
	buf_puts(&head, ",\"metadata\":");
	metadata_diff(req, &head, PQgetvalue(r, 0, DV_A_METADATA), PQgetvalue(r, 0, DV_B_METADATA));

	/* The page: skip (page-numbered links) or start after the cursor,
	 * and take one change more than the page to know of a next one. */
	int64_t skip = cursor != NULL ? 0 : pg.offset, need = pg.size + 1, got = 0;
	struct change *ch = arena_alloc(&req->arena, (size_t)need * sizeof(*ch));
	const char *after = cursor != NULL ? cursor : "";
	int64_t window = WINDOW_FIRST;
	/* A version against itself: nothing to merge (a whole pass else). */
	bool same = strcmp(va, vb) == 0;
	while (!same) {
		/* At most the changes still wanted: the window's work stops there. */
		int64_t lim = skip + need - got;
		char wn[24], ln[24];
		snprintf(wn, sizeof(wn), "%lld", (long long)window);
		snprintf(ln, sizeof(ln), "%lld", (long long)lim);
		const char *pw[5] = { va, vb, after, wn, ln };
		if ((r = req_query(req, &diff_window, 5, pw)) == NULL) {
			buf_free(&head);
			return 0;
		}
		int rows = PQntuples(r), found = 0;
		for (int i = 0; i < rows && got < need; i++) {
			if (PQgetisnull(r, i, DW_PATH))
				continue;
			found++;
			if (skip > 0) {
				skip--;
				continue;
			}
			ch[got].path = PQgetvalue(r, i, DW_PATH);
			ch[got].entry = PQgetvalue(r, i, DW_ENTRY);
			got++;
		}
		/* (A window cut short at lim has given all that was wanted.) */
		if (got >= need || rows == 0 || PQgetisnull(r, 0, DW_HI))
			break;
		after = PQgetvalue(r, 0, DW_HI);
		if (found < pg.size && window < WINDOW_MAX)
			window *= 2;
	}

	bool first = counts && cursor == NULL && pg.page == 1;
	int64_t total = -1;
	buf_puts(&head, ",\"summary\":");
	if (first && same)
		total = 0, buf_puts(&head, "{\"added\":0,\"removed\":0,\"modified\":0,\"renamed\":0}");
	else if (first) {
		const char *ps[2] = { va, vb };
		if ((r = req_query(req, &diff_summary, 2, ps)) == NULL) {
			buf_free(&head);
			return 0;
		}
		int64_t n[DS_NCOUNTS];
		total = 0;
		resp_header(req, COUNTS_HEADER, PQgetvalue(r, 0, DS_KEPT)[0] == 't' ? "kept" : "counted");
		for (int c = 0; c < DS_NCOUNTS; c++) {
			parse_int64(PQgetvalue(r, 0, c), &n[c]);
			total += n[c];
		}
		buf_printf(&head, "{\"added\":%lld,\"removed\":%lld,\"modified\":%lld,\"renamed\":%lld}",
		    (long long)n[DS_ADDED], (long long)n[DS_REMOVED], (long long)n[DS_MODIFIED],
		    (long long)n[DS_RENAMED]);
	} else
		buf_puts(&head, "null");

	bool more = got > pg.size;
	int rows = (int)(more ? pg.size : got);
	/* DRF: a page past the end is a 404, except an empty first page. */
	if (rows == 0 && (pg.page > 1 || cursor != NULL)) {
		buf_free(&head);
		return resp_detail(req, 404, "Invalid page.");
	}
	struct buf *b = &req->out;
	b->len = 0;
	buf_append(b, head.data, head.len);
	buf_free(&head);
	/* The next page starts after this one's last path. */
	pg.next_cursor = more ? ch[rows - 1].path : NULL;
	buf_append(b, ",", 1);
	page_write_links(req, &pg, total, more);
	buf_puts(b, ",\"results\":[");
	for (int i = 0; i < rows; i++) {
		if (i > 0)
			buf_append(b, ",", 1);
		buf_puts(b, ch[i].entry);
	}
	buf_puts(b, "]}");
	req->status = 200;
	req->content_type_out = "application/json";
	return 0;
}
