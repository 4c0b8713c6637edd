/*
 * storage.c - `dandi-jobs storage-check`: the database and the bucket side
 * by side. Reports blobs whose object is missing or differs (size, ETag)
 * from the row, objects under blobs/ that no blob or upload owns, zarr
 * archives with files but no objects, and zarr/ prefixes no archive owns.
 * Read-only, so safe on several hosts at once and beside every other job.
 *
 * Both sides are walked once in the same order and merged: blob keys are
 * blobs/<3>/<3>/<uuid> of the blob's uuid, so the rows by blob_id (the
 * unique index, uuids compare byte by byte as their hex does) come in the
 * order S3 lists keys; zarr prefixes are zarr/<uuid>/, one listing call
 * each. Rows whose key has another form (none are written so) are checked
 * one by one with HEAD. Nothing is reported from a moment's view alone: a
 * difference seen during the walk is checked again afterwards against the
 * rows as they are then, since an upload or the garbage collector may be
 * between its row and its object (an object is always written before its
 * row, and a row always deleted before its object, see gc.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "log.h"

#define ROWS_PAGE	"5000"	/* rows a statement */
#define RECHECK_CHUNK	1000	/* keys a re-check statement */
#define BLOB_PREFIX	"blobs/"
#define ZARR_PREFIX	"zarr/"
/* blobs/abc/def/<uuid>: the prefix, 8 characters of folders, a uuid. */
#define BLOB_KEY_LEN	(sizeof(BLOB_PREFIX) - 1 + 8 + 36)

enum { SB_UUID, SB_KEY, SB_SIZE, SB_ETAG, SB_NCOLS };
#define SB_COLUMNS "SELECT blob_id, blob, size, etag FROM blobs"
static const struct db_sql sc_blobs_first = { "sc_blobs_first", SB_NCOLS,
	SB_COLUMNS " ORDER BY blob_id LIMIT " ROWS_PAGE };
static const struct db_sql sc_blobs_next = { "sc_blobs_next", SB_NCOLS,
	SB_COLUMNS " WHERE blob_id > $1::uuid ORDER BY blob_id LIMIT " ROWS_PAGE };
/* The rows whose key is not the one their uuid gives (checked by HEAD). */
static const struct db_sql sc_blobs_odd = { "sc_blobs_odd", SB_NCOLS,
	SB_COLUMNS " WHERE blob IS DISTINCT FROM 'blobs/' || substr(blob_id::text, 1, 3) || '/'"
	" || substr(blob_id::text, 4, 3) || '/' || blob_id::text" };
/* Of the blobs seen without an object ($1 their uuids), those still there. */
enum { SR_UUID, SR_NCOLS };
enum { SS_UUID, SS_KEY, SS_NCOLS };
static const struct db_sql sc_blobs_still = { "sc_blobs_still", SS_NCOLS,
	"SELECT blob_id, blob FROM blobs WHERE blob_id = ANY ($1::uuid[])" };
/* Of the objects seen without a row ($1 their keys), those that a blob or
 * an upload owns now. */
enum { SO_KEY, SO_NCOLS };
static const struct db_sql sc_objects_owned = { "sc_objects_owned", SO_NCOLS,
	"SELECT k FROM unnest($1::text[]) k"
	" WHERE EXISTS (SELECT 1 FROM blobs b WHERE b.blob = k"
	"   AND b.blob_id = CASE WHEN k ~ '^blobs/[0-9a-f]{3}/[0-9a-f]{3}/[0-9a-f-]{36}$'"
	"     THEN substr(k, 15)::uuid END)"
	" OR EXISTS (SELECT 1 FROM uploads u WHERE u.blob = k)" };
enum { SZ_UUID, SZ_FILES, SZ_NCOLS };
static const struct db_sql sc_zarrs_first = { "sc_zarrs_first", SZ_NCOLS,
	"SELECT zarr_id, file_count FROM zarrs ORDER BY zarr_id LIMIT " ROWS_PAGE };
static const struct db_sql sc_zarrs_next = { "sc_zarrs_next", SZ_NCOLS,
	"SELECT zarr_id, file_count FROM zarrs WHERE zarr_id > $1::uuid ORDER BY zarr_id LIMIT " ROWS_PAGE };
static const struct db_sql sc_zarrs_still = { "sc_zarrs_still", SR_NCOLS,
	"SELECT zarr_id FROM zarrs WHERE zarr_id = ANY ($1::uuid[]) AND file_count > 0" };
static const struct db_sql sc_zarrs_owned = { "sc_zarrs_owned", SR_NCOLS,
	"SELECT zarr_id FROM zarrs WHERE zarr_id::text = ANY ($1::text[])" };
const struct db_sql *const storage_sql[] = {
	&sc_blobs_first, &sc_blobs_next, &sc_blobs_odd, &sc_blobs_still, &sc_objects_owned,
	&sc_zarrs_first, &sc_zarrs_next, &sc_zarrs_still, &sc_zarrs_owned, NULL
};

/* What the walk found and what the re-checks confirmed. */
struct tally {
	long		 rows, objects, missing, orphans, mismatched;
	int64_t		 orphan_bytes;
	long		 zarrs, prefixes, zarrs_missing, prefixes_orphan;
};

/* A growing list of strings (the candidates of one kind), in an arena. */
struct list {
	const char	**v;
	int64_t		 *size;	/* the objects' sizes, where known */
	size_t		  n, cap;
};

static void
list_add_sized(struct arena *a, struct list *l, const char *s, int64_t size)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		const char **v = arena_alloc(a, cap * sizeof(*v));
		int64_t *sz = arena_alloc(a, cap * sizeof(*sz));
		if (l->n > 0) {
			memcpy(v, l->v, l->n * sizeof(*v));
			memcpy(sz, l->size, l->n * sizeof(*sz));
		}
		l->v = v;
		l->size = sz;
		l->cap = cap;
	}
	l->size[l->n] = size;
	l->v[l->n++] = arena_strdup(a, s);
}

static void
list_add(struct arena *a, struct list *l, const char *s)
{
	list_add_sized(a, l, s, -1);
}

/* One page of a listing, copied (the callback's strings do not last). */
struct page {
	struct arena	*arena;
	struct s3_listed *v;
	size_t		  n, cap;
};

static int
page_add(void *arg, const struct s3_listed *o)
{
	struct page *p = arg;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1000;
		struct s3_listed *v = arena_alloc(p->arena, cap * sizeof(*v));
		if (p->n > 0)
			memcpy(v, p->v, p->n * sizeof(*v));
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct s3_listed){ arena_strdup(p->arena, o->key), o->size,
		arena_strdup(p->arena, o->etag ? o->etag : ""),
		arena_strdup(p->arena, o->last_modified ? o->last_modified : "") };
	return 0;
}

/* A text[] or uuid[] literal of l->v[from, from + n): keys are quoted, with
 * " and \ escaped. */
static const char *
array_literal(struct arena *a, const struct list *l, size_t from, size_t n)
{
	struct buf b;
	buf_init(&b);
	buf_append(&b, "{", 1);
	for (size_t i = from; i < from + n; i++) {
		buf_append(&b, i > from ? ",\"" : "\"", i > from ? 2 : 1);
		for (const char *s = l->v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				buf_append(&b, "\\", 1);
			buf_append(&b, s, 1);
		}
		buf_append(&b, "\"", 1);
	}
	buf_append(&b, "}", 2);
	char *s = arena_strdup(a, b.data);
	buf_free(&b);
	return s;
}

/* Which of l's strings statement q (one array parameter) still returns,
 * in *out (with the second column, if any, in *also). */
static int
recheck2(struct job *job, const struct db_sql *q, const struct list *l, struct list *out, struct list *also)
{
	for (size_t i = 0; i < l->n; i += RECHECK_CHUNK) {
		size_t n = l->n - i < RECHECK_CHUNK ? l->n - i : RECHECK_CHUNK;
		const char *p[1] = { array_literal(&job->arena, l, i, n) };
		PGresult *r = job_query(job, q, 1, p);
		if (r == NULL)
			return -1;
		for (int j = 0; j < PQntuples(r); j++) {
			list_add(&job->arena, out, PQgetvalue(r, j, 0));
			if (also != NULL)
				list_add(&job->arena, also, PQgetvalue(r, j, 1));
		}
	}
	return 0;
}

static int
recheck(struct job *job, const struct db_sql *q, const struct list *l, struct list *out)
{
	return recheck2(job, q, l, out, NULL);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* For listed(): sorts the strings (their sizes are not kept in step). */
static void
list_sort(struct list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

/* Whether a sorted list has s. */
static bool
listed(const struct list *l, const char *s)
{
	return l->n > 0 && bsearch(&s, l->v, l->n, sizeof(*l->v), cmp_str) != NULL;
}

/* Whether an object's S3 ETag agrees with the blob's dandi-etag. Only a
 * multipart ETag (md5 of the parts' md5s, "-N") can be compared: an object
 * put or copied in one piece (a restore from a backup, say) has the md5 of
 * its bytes, which no row records; its bytes are `verify`'s to check. */
static bool
etag_agrees(const char *s3_etag, const char *dandi_etag)
{
	return strchr(s3_etag, '-') == NULL || strcmp(s3_etag, dandi_etag) == 0;
}

/* The key a blob of uuid u has. */
static void
blob_key(char out[BLOB_KEY_LEN + 1], const char *u)
{
	snprintf(out, BLOB_KEY_LEN + 1, BLOB_PREFIX "%.3s/%.3s/%s", u, u + 3, u);
}

/* A test hook: with DANDI_STORAGE_CHECK_WAIT=F set, the walk's end makes
 * F.walked and waits (up to a minute) for F before the re-checks, so that
 * a test can change the rows in between as an upload or gc would. */
static void
test_pause(void)
{
	const char *f = getenv("DANDI_STORAGE_CHECK_WAIT");
	char walked[4096];

	if (f == NULL || *f == '\0')
		return;
	snprintf(walked, sizeof(walked), "%s.walked", f);
	FILE *w = fopen(walked, "w");
	if (w != NULL)
		fclose(w);
	for (int i = 0; i < 600 && access(f, F_OK) != 0; i++)
		usleep(100000);
}

/* Blob rows and blobs/ objects. A missing object or a differing one makes
 * the run fail; owner-less objects are reported for a person to decide. */
static int
check_blobs(struct job *job, struct s3 *s3, struct tally *t)
{
	struct arena	 row_mem, obj_mem;	/* each side's current page */
	struct list	 gone = { 0 }, strays = { 0 }, odd = { 0 };
	struct page	 obj = { .arena = &obj_mem };
	PGresult	*rows = NULL;
	char		 last[37] = "", key[BLOB_KEY_LEN + 1], *token = NULL;
	size_t		 oi = 0;
	int		 ri = 0, rc = 0;
	bool		 more_objects = true, more_rows = true;

	/* The odd rows first: the merge skips them. */
	PGresult *r = job_query(job, &sc_blobs_odd, 0, NULL);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct s3_object o = { 0 };
		const char *k = PQgetvalue(r, i, SB_KEY);
		list_add(&job->arena, &odd, k);
		t->rows++;
		int st = s3_head(s3, k, &o);
		if (st == S3_NOT_FOUND) {
			list_add(&job->arena, &gone, PQgetvalue(r, i, SB_UUID));
			continue;
		}
		if (st != S3_OK) {
			snprintf(job->err, sizeof(job->err), "HEAD %s: %s", k, s3->err);
			return -1;
		}
		t->objects++;
		int64_t size = strtoll(PQgetvalue(r, i, SB_SIZE), NULL, 10);
		if (o.size != size || !etag_agrees(o.etag ? o.etag : "", PQgetvalue(r, i, SB_ETAG))) {
			printf("differs\t%s\tblob %s: %" PRId64 " bytes, ETag %s in S3; %" PRId64
			    " bytes, ETag %s in the database\n", k, PQgetvalue(r, i, SB_UUID), o.size,
			    o.etag ? o.etag : "", size, PQgetvalue(r, i, SB_ETAG));
			t->mismatched++;
		}
		s3_object_free(&o);
	}
	list_sort(&odd);

	arena_init(&row_mem);
	arena_init(&obj_mem);
	for (;;) {
		if (more_rows && (rows == NULL || ri == PQntuples(rows))) {
			const char *p[1] = { last };
			arena_reset(&row_mem);
			rows = job_query_in(job, &row_mem, *last ? &sc_blobs_next : &sc_blobs_first, *last ? 1 : 0, p);
			if (rows == NULL) {
				rc = -1;
				break;
			}
			ri = 0;
			if (PQntuples(rows) == 0)
				more_rows = false;
			else
				snprintf(last, sizeof(last), "%s", PQgetvalue(rows, PQntuples(rows) - 1, SB_UUID));
		}
		if (more_objects && oi == obj.n) {
			bool truncated = false;
			char *next = NULL;
			arena_reset(&obj_mem);
			obj.v = NULL;
			obj.n = obj.cap = oi = 0;
			if (s3_list_page(s3, BLOB_PREFIX, NULL, token, 1000, page_add, &obj, &truncated, &next) != S3_OK) {
				snprintf(job->err, sizeof(job->err), "list %s: %s", BLOB_PREFIX, s3->err);
				free(next);
				rc = -1;
				break;
			}
			free(token);
			token = next;
			more_objects = truncated && token != NULL && obj.n > 0;
		}
		bool have_row = more_rows && ri < PQntuples(rows), have_obj = oi < obj.n;
		if (!have_row && !have_obj)
			break;
		const char *rkey = NULL;
		if (have_row) {
			blob_key(key, PQgetvalue(rows, ri, SB_UUID));
			rkey = PQgetvalue(rows, ri, SB_KEY);
			if (strcmp(rkey, key) != 0) {	/* an odd row: checked above */
				ri++;
				continue;
			}
		}
		int c = !have_row ? 1 : !have_obj ? -1 : strcmp(rkey, obj.v[oi].key);
		if (c < 0) {		/* a row without its object (so far) */
			t->rows++;
			list_add(&job->arena, &gone, PQgetvalue(rows, ri, SB_UUID));
			ri++;
		} else if (c > 0) {	/* an object without a row (so far) */
			/* An odd row's object was counted by its HEAD. */
			if (!listed(&odd, obj.v[oi].key)) {
				t->objects++;
				list_add_sized(&job->arena, &strays, obj.v[oi].key, obj.v[oi].size);
			}
			oi++;
		} else {
			const struct s3_listed *o = &obj.v[oi];
			int64_t size = strtoll(PQgetvalue(rows, ri, SB_SIZE), NULL, 10);
			const char *etag = PQgetvalue(rows, ri, SB_ETAG);
			t->rows++;
			t->objects++;
			if (o->size != size || !etag_agrees(o->etag, etag)) {
				printf("differs\t%s\tblob %s: %" PRId64 " bytes, ETag %s in S3; %" PRId64
				    " bytes, ETag %s in the database\n", rkey, PQgetvalue(rows, ri, SB_UUID), o->size,
				    o->etag, size, etag);
				t->mismatched++;
			}
			ri++;
			oi++;
		}
	}
	arena_reset(&row_mem);
	arena_reset(&obj_mem);
	free(token);
	if (rc != 0)
		return rc;

	/* Again, with the rows as they are now. */
	test_pause();
	struct list still = { 0 }, still_keys = { 0 }, owned = { 0 };
	if (recheck2(job, &sc_blobs_still, &gone, &still, &still_keys) != 0 ||
	    recheck(job, &sc_objects_owned, &strays, &owned) != 0)
		return -1;
	list_sort(&owned);
	for (size_t i = 0; i < still.n; i++)
		printf("missing\t%s\tblob %s: no object in S3\n", still_keys.v[i], still.v[i]);
	t->missing += (long)still.n;
	for (size_t i = 0; i < strays.n; i++) {
		if (listed(&owned, strays.v[i]))
			continue;
		printf("orphan\t%s\t%" PRId64 " bytes: no blob or upload has this object\n", strays.v[i], strays.size[i]);
		t->orphans++;
		t->orphan_bytes += strays.size[i];
	}
	return 0;
}

/* Zarr rows with files and zarr/<uuid>/ prefixes: one listing call a
 * prefix, each starting after the last one's keys. */
static int
check_zarrs(struct job *job, struct s3 *s3, struct tally *t)
{
	struct list	 empty = { 0 }, strays = { 0 };
	PGresult	*rows = NULL;
	char		 last[37] = "", after[128] = ZARR_PREFIX;
	int		 ri = 0;
	bool		 more_rows = true, more_prefixes = true;
	char		 prefix[128] = "";	/* the current prefix's uuid, "" before the first */

	for (;;) {
		if (more_rows && (rows == NULL || ri == PQntuples(rows))) {
			const char *p[1] = { last };
			rows = job_query(job, *last ? &sc_zarrs_next : &sc_zarrs_first, *last ? 1 : 0, p);
			if (rows == NULL)
				return -1;
			ri = 0;
			if (PQntuples(rows) == 0)
				more_rows = false;
			else
				snprintf(last, sizeof(last), "%s", PQgetvalue(rows, PQntuples(rows) - 1, SZ_UUID));
		}
		if (more_prefixes && !*prefix) {
			struct arena a;
			struct page pg = { .arena = &a };
			bool truncated = false;
			arena_init(&a);
			int st = s3_list_page(s3, ZARR_PREFIX, after, NULL, 1, page_add, &pg, &truncated, NULL);
			if (st != S3_OK) {
				snprintf(job->err, sizeof(job->err), "list %s: %s", ZARR_PREFIX, s3->err);
				arena_reset(&a);
				return -1;
			}
			if (pg.n == 0)
				more_prefixes = false;
			else {
				const char *k = pg.v[0].key + sizeof(ZARR_PREFIX) - 1;
				size_t n = strcspn(k, "/");
				snprintf(prefix, sizeof(prefix), "%.*s", (int)(n < 100 ? n : 100), k);
				/* Past every key of this prefix: U+10FFFF sorts after
				 * any character a key may have. */
				snprintf(after, sizeof(after), ZARR_PREFIX "%s/\xf4\x8f\xbf\xbf", prefix);
				t->prefixes++;
			}
			arena_reset(&a);
		}
		bool have_row = more_rows && ri < PQntuples(rows), have_prefix = *prefix != '\0';
		if (!have_row && !have_prefix)
			break;
		int c = !have_row ? 1 : !have_prefix ? -1 : strcmp(PQgetvalue(rows, ri, SZ_UUID), prefix);
		if (c <= 0) {
			t->zarrs++;
			if (c < 0 && strtoll(PQgetvalue(rows, ri, SZ_FILES), NULL, 10) > 0)
				list_add(&job->arena, &empty, PQgetvalue(rows, ri, SZ_UUID));
			ri++;
		}
		if (c >= 0) {
			if (c > 0)
				list_add(&job->arena, &strays, prefix);
			*prefix = '\0';
		}
	}

	struct list still = { 0 }, owned = { 0 };
	if (recheck(job, &sc_zarrs_still, &empty, &still) != 0 || recheck(job, &sc_zarrs_owned, &strays, &owned) != 0)
		return -1;
	list_sort(&owned);
	for (size_t i = 0; i < still.n; i++)
		printf("missing\t" ZARR_PREFIX "%s/\tzarr %s: files recorded, no objects in S3\n", still.v[i], still.v[i]);
	t->zarrs_missing += (long)still.n;
	for (size_t i = 0; i < strays.n; i++) {
		if (listed(&owned, strays.v[i]))
			continue;
		printf("orphan\t" ZARR_PREFIX "%s/\tno zarr archive has this prefix\n", strays.v[i]);
		t->prefixes_orphan++;
	}
	return 0;
}

int
storage_check_cmd(struct job *job, int argc, char **argv)
{
	bool zarr = true;
	struct tally t = { 0 };
	struct timespec t0, t1;
	struct s3 *s3;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--no-zarr") == 0)
			zarr = false;
		else
			return JOB_USAGE;
	}
	if ((s3 = job_s3(job)) == NULL)
		return job_exit_err(job);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (check_blobs(job, s3, &t) != 0 || (zarr && check_zarrs(job, s3, &t) != 0))
		return job_exit_err(job);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("storage-check: %ld blob row(s), %ld object(s): %ld missing, %ld differing, %ld orphan(s) of %" PRId64
	    " bytes", t.rows, t.objects, t.missing, t.mismatched, t.orphans, t.orphan_bytes);
	if (zarr)
		printf("; %ld zarr row(s), %ld prefix(es): %ld missing, %ld orphan(s)", t.zarrs, t.prefixes,
		    t.zarrs_missing, t.prefixes_orphan);
	printf("; %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (t.missing + t.mismatched + t.zarrs_missing > 0) {
		fprintf(stderr, "dandi-jobs storage-check: %ld object(s) missing or differing from the database\n",
		    t.missing + t.mismatched + t.zarrs_missing);
		return 1;
	}
	return 0;
}

/* --- embargo-tags: the tags a restore loses ------------------------------ */

#define EMBARGO_TAG	"embargoed=true"

enum { ET_ID, ET_KEY, ET_NCOLS };
static const struct db_sql et_blobs = { "et_blobs", ET_NCOLS,
	"SELECT id, blob FROM blobs WHERE embargoed AND id > $1::bigint ORDER BY id LIMIT 1000" };
enum { EZ_UUID, EZ_NCOLS };
static const struct db_sql et_zarrs = { "et_zarrs", EZ_NCOLS,
	"SELECT z.zarr_id FROM zarrs z JOIN dandisets d ON d.id = z.dandiset_id"
	" WHERE d.embargo_status <> 'OPEN' ORDER BY z.zarr_id" };
const struct db_sql *const embargo_tags_sql[] = { &et_blobs, &et_zarrs, NULL };

struct tagger {
	struct job	*job;
	struct s3	*s3;
	bool		 check;		/* read the tags only */
	long		 objects, tagged, untagged, absent;
};

/* One object (version_id NULL: its current version): tagged (or,
 * checking, whether it is). 0, or -1 on an S3 error (job->err). */
static int
tag_one(struct tagger *tg, const char *key, const char *version_id, bool noncurrent)
{
	if (tg->check) {
		char *tags = s3_get_tagging_version(tg->s3, key, version_id);
		if (tags == NULL) {
			if (tg->s3->status == 404) {
				tg->absent++;
				return 0;
			}
			snprintf(tg->job->err, sizeof(tg->job->err), "tags of %s: %s", key, tg->s3->err);
			return -1;
		}
		tg->objects++;
		/* "k=v&k2=v2": the tag among them, whole. */
		bool has = false;
		for (char *p = tags; p != NULL && !has; p = strchr(p, '&'), p = p ? p + 1 : NULL)
			has = strncmp(p, EMBARGO_TAG, sizeof(EMBARGO_TAG) - 1) == 0 &&
			    (p[sizeof(EMBARGO_TAG) - 1] == '\0' || p[sizeof(EMBARGO_TAG) - 1] == '&');
		free(tags);
		if (!has) {
			printf("untagged\t%s%s%s\tembargoed, readable by the bucket's public-read policy\n", key,
			    noncurrent ? "?versionId=" : "", noncurrent ? version_id : "");
			tg->untagged++;
		}
		return 0;
	}
	int st = s3_put_tagging_version(tg->s3, key, version_id, EMBARGO_TAG);
	if (st == S3_NOT_FOUND) {
		tg->absent++;
		return 0;
	}
	if (st != S3_OK) {
		snprintf(tg->job->err, sizeof(tg->job->err), "tag %s: %s", key, tg->s3->err);
		return -1;
	}
	tg->objects++;
	tg->tagged++;
	return 0;
}

/* Every version of a zarr's keys (in a versioned bucket a published
 * snapshot may name an older one); "null" is the version of an object
 * written before versioning. */
static int
tag_listed(void *arg, const struct s3_version *o)
{
	struct tagger *tg = arg;

	if (o->delete_marker)
		return 0;
	return tag_one(tg, o->key, o->latest && strcmp(o->version_id, "null") == 0 ? NULL : o->version_id, !o->latest);
}

/* Every object of an embargoed blob, and of a zarr archive of a dandiset
 * not open, gets the tag embargoed=true that keeps it from anonymous
 * readers (README "The S3 bucket"). Tags do not survive a copy of the
 * objects through a file system (or most sync tools), so a restore runs
 * this before the bucket's public-read policy is on. --check only reads
 * the tags and exits 1 when one is missing. Idempotent; pages by id, so
 * memory stays flat. */
int
embargo_tags_cmd(struct job *job, int argc, char **argv)
{
	struct tagger tg = { .job = job };
	char last[24] = "0";

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			tg.check = true;
		else
			return JOB_USAGE;
	}
	if ((tg.s3 = job_s3(job)) == NULL)
		return job_exit_err(job);
	for (;;) {
		const char *p[1] = { last };
		PGresult *r = job_query(job, &et_blobs, 1, p);
		if (r == NULL)
			return job_exit_err(job);
		if (PQntuples(r) == 0)
			break;
		for (int i = 0; i < PQntuples(r); i++)
			if (tag_one(&tg, PQgetvalue(r, i, ET_KEY), NULL, false) != 0)
				return job_exit_err(job);
		snprintf(last, sizeof(last), "%s", PQgetvalue(r, PQntuples(r) - 1, ET_ID));
		job_reset(job);
	}
	PGresult *z = job_query(job, &et_zarrs, 0, NULL);
	if (z == NULL)
		return job_exit_err(job);
	for (int i = 0; i < PQntuples(z); i++) {
		char prefix[64], *km = NULL, *vm = NULL;
		bool more = true;
		snprintf(prefix, sizeof(prefix), ZARR_PREFIX "%s/", PQgetvalue(z, i, EZ_UUID));
		while (more) {
			char *nk = NULL, *nv = NULL;
			job->err[0] = '\0';
			int st = s3_list_versions_page(tg.s3, prefix, km, vm, 1000, tag_listed, &tg, &more, &nk, &nv);
			free(km);
			free(vm);
			km = nk, vm = nv;
			if (st != S3_OK) {
				if (!*job->err)
					snprintf(job->err, sizeof(job->err), "list %s: %s", prefix, tg.s3->err);
				free(km);
				free(vm);
				return job_exit_err(job);
			}
		}
		free(km);
		free(vm);
	}
	printf("embargo-tags: %ld embargoed object(s), %ld %s, %ld not in S3\n", tg.objects,
	    tg.check ? tg.untagged : tg.tagged, tg.check ? "without the tag" : "tagged", tg.absent);
	if (tg.check && tg.untagged > 0) {
		fprintf(stderr, "dandi-jobs embargo-tags: %ld embargoed object(s) without the tag; run dandi-jobs "
		    "embargo-tags\n", tg.untagged);
		return 1;
	}
	return 0;
}
