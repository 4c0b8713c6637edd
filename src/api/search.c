/*
 * search.c - asset-level search over the asset_search materialized view
 * (sql/011_asset_search.sql, rebuilt by `dandi-jobs refresh-search`):
 * GET /api/dandisets/search/ (the dandiset list narrowed to dandisets with
 * a matching asset, each item with asset_counts), GET /api/search/genotypes/
 * and GET /api/search/species/ (the choices the web search offers).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* The searches are for users: an access link opens its one dandiset to
 * reads by id, never to lists (link NULL below). */

/* The first requested species that is not a choice, or no row. The
 * choices are those GET /api/search/species/ offers $2 (OPEN and owned
 * dandisets): counting embargoed rows would tell anyone whether an
 * embargoed dandiset holds a species. */
enum { SSU_SPECIES, SSU_NCOLS };
static const struct db_sql search_species_unknown = { "search_species_unknown", SSU_NCOLS,
	"SELECT u.x FROM unnest($1::text[]) WITH ORDINALITY u(x, i)"
	" WHERE u.x = '' OR NOT EXISTS (SELECT 1 FROM asset_search s JOIN dandisets d ON d.id = s.dandiset_id"
	"   WHERE s.species = u.x AND " SQL_READABLE("d", "$2::bigint", "false", "NULL::bigint") ")"
	" ORDER BY u.i LIMIT 1" };

/* $1 file types $2 size min $3 size max $4 genotypes $5 species
 * $6 techniques: the dandisets with an asset matching every filter. */
enum { SM_IDS, SM_NCOLS };
static const struct db_sql search_matching_ids = { "search_matching_ids", SM_NCOLS,
	"SELECT coalesce(array_agg(DISTINCT s.dandiset_id), '{}')::text FROM asset_search s,"
	" LATERAL dandi_asset_search_match(s, $1::text[], $2::bigint, $3::bigint,"
	"   $4::text[], $5::text[], $6::text[]) m"
	" WHERE m.file_type IS NOT FALSE AND m.file_size IS NOT FALSE"
	"  AND m.genotype IS NOT FALSE AND m.species IS NOT FALSE"
	"  AND m.measurement_technique IS NOT FALSE" };

/* Per dandiset of $7, how many of its assets match each given filter
 * on its own (json keeps the key order; absent filters are dropped). */
enum { SC_DANDISET, SC_COUNTS, SC_NCOLS };
static const struct db_sql search_counts = { "search_counts", SC_NCOLS,
	"SELECT s.dandiset_id, json_strip_nulls(json_build_object("
	"  'file_type', CASE WHEN $1::text[] IS NOT NULL THEN count(*) FILTER (WHERE m.file_type) END,"
	"  'file_size', CASE WHEN $2::bigint IS NOT NULL OR $3::bigint IS NOT NULL"
	"   THEN count(*) FILTER (WHERE m.file_size) END,"
	"  'genotype', CASE WHEN $4::text[] IS NOT NULL THEN count(*) FILTER (WHERE m.genotype) END,"
	"  'species', CASE WHEN $5::text[] IS NOT NULL THEN count(*) FILTER (WHERE m.species) END,"
	"  'measurement_technique', CASE WHEN $6::text[] IS NOT NULL"
	"   THEN count(*) FILTER (WHERE m.measurement_technique) END))::text"
	" FROM asset_search s,"
	" LATERAL dandi_asset_search_match(s, $1::text[], $2::bigint, $3::bigint,"
	"   $4::text[], $5::text[], $6::text[]) m"
	" WHERE s.dandiset_id = ANY ($7::bigint[]) GROUP BY s.dandiset_id" };

/* Choices lists: rows of OPEN dandisets and of those $1 owns (not
 * every dandiset for a superuser, as the original: superuser false).
 * $2: substring. */
enum { SG_GENOTYPE, SG_NCOLS };
static const struct db_sql search_genotype_choices = { "search_genotype_choices", SG_NCOLS,
	"SELECT x.g::text FROM (SELECT DISTINCT s.asset_metadata #> '{wasAttributedTo,0,genotype}' AS g"
	"  FROM asset_search s JOIN dandisets d ON d.id = s.dandiset_id"
	"  WHERE " SQL_READABLE("d", "$1::bigint", "false", "NULL::bigint")
	"   AND ($2 = '' OR strpos(upper(s.asset_metadata #>> '{wasAttributedTo,0,genotype}'),"
	"    upper($2)) > 0)) x"
	" WHERE x.g IS NOT NULL AND x.g <> '\"\"'::jsonb ORDER BY x.g LIMIT 10" };

enum { SP_NAME = PAGE_COUNTED_ITEM, SP_TOTAL = PAGE_COUNTED_TOTAL, SP_NCOLS };
static const struct db_sql search_species_choices = { "search_species_choices", SP_NCOLS,
	"SELECT x.species, count(*) OVER () FROM (SELECT DISTINCT s.species"
	"  FROM asset_search s JOIN dandisets d ON d.id = s.dandiset_id"
	"  WHERE " SQL_READABLE("d", "$1::bigint", "false", "NULL::bigint")
	"   AND s.species <> '' AND ($2 = '' OR strpos(upper(s.species), upper($2)) > 0)) x"
	" ORDER BY x.species LIMIT $3::bigint OFFSET $4::bigint" };

const struct db_sql *const search_sql[] = {
	&search_species_unknown, &search_matching_ids, &search_counts, &search_genotype_choices,
	&search_species_choices, NULL
};

static const char *const file_types[] = {
	"application/x-nwb", "image/", "text/", "video/",
};

static const char *const techniques[] = {
	"signal filtering technique",
	"spike sorting technique",
	"multi electrode extracellular electrophysiology recording technique",
	"voltage clamp technique",
	"surgical technique",
	"behavioral technique",
	"current clamp technique",
	"fourier analysis technique",
	"two-photon microscopy technique",
	"patch clamp technique",
	"analytical technique",
};

/* Every value of a repeated query parameter, in order (DRF's getlist). */
static const char **
query_all(struct request *req, const char *key, size_t *n)
{
	const char **v = arena_alloc(&req->arena, (req->nquery + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, key) == 0)
			v[(*n)++] = req->query[i].value;
	return v;
}

static void
field_error(struct json_object *errs, const char *field, const char *msg)
{
	struct json_object *l = json_object_new_array();

	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(errs, field, l);
}

/* A MultipleChoiceField: the first value not among choices is the error. */
static void
check_choices(struct json_object *errs, const char *field, const char **v, size_t n,
    const char *const *choices, size_t nchoices)
{
	for (size_t i = 0; i < n; i++) {
		bool ok = false;
		for (size_t j = 0; j < nchoices && !ok; j++)
			ok = strcmp(v[i], choices[j]) == 0;
		if (!ok) {
			char *m = xasprintf("\"%s\" is not a valid choice.", v[i]);
			field_error(errs, field, m);
			free(m);
			return;
		}
	}
}

/* An IntegerField(min_value=0); an empty value counts as absent. */
static bool
check_size(struct request *req, struct json_object *errs, const char *field, int64_t *out)
{
	const char *v = query_get(req, field);

	if (v == NULL || *v == '\0')
		return false;
	if (!parse_int64(v, out)) {
		field_error(errs, field, "A valid integer is required.");
		return false;
	}
	if (*out < 0) {
		field_error(errs, field, "Ensure this value is greater than or equal to 0.");
		return false;
	}
	return true;
}

struct search_filters {
	const char *params[6];	/* as $1..$6 of search_dandisets */
	char min[24], max[24];
};

/* Validates the asset filters as DRF's serializer does, every field error
 * at once. -1 with the 400 set. */
static int
search_filters_parse(struct request *req, struct search_filters *f)
{
	struct json_object *errs = json_object_new_object();
	size_t nt, ng, ns, nm;
	const char **types = query_all(req, "file_type", &nt);
	const char **genos = query_all(req, "genotype", &ng);
	const char **spec = query_all(req, "species", &ns);
	const char **tech = query_all(req, "measurement_technique", &nm);
	int64_t min = 0, max = 0;
	bool has_min, has_max;

	memset(f, 0, sizeof(*f));
	check_choices(errs, "file_type", types, nt, file_types,
	    sizeof(file_types) / sizeof(file_types[0]));
	has_min = check_size(req, errs, "file_size_min", &min);
	has_max = check_size(req, errs, "file_size_max", &max);
	check_choices(errs, "measurement_technique", tech, nm, techniques,
	    sizeof(techniques) / sizeof(techniques[0]));
	/* CharField trims: " Cre" is "Cre", and "  " is blank. */
	for (size_t i = 0; i < ng; i++) {
		const char *g = genos[i];
		size_t len = strlen(g);
		while (len > 0 && isspace((unsigned char)*g))
			g++, len--;
		while (len > 0 && isspace((unsigned char)g[len - 1]))
			len--;
		genos[i] = arena_strndup(&req->arena, g, len);
	}
	for (size_t i = 0; i < ng; i++)
		if (*genos[i] == '\0') {
			/* ListField(CharField): errors keyed by the item's index */
			struct json_object *o = json_object_new_object();
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			struct json_object *l = json_object_new_array();
			json_object_array_add(l, json_object_new_string("This field may not be blank."));
			json_object_object_add(o, idx, l);
			json_object_object_add(errs, "genotype", o);
			break;
		}
	const char *sp = req_text_array(req, spec, ns);
	if (sp != NULL) {
		/* the species choices are whatever the view holds */
		const char *p[2] = { sp, req->user_id_str };
		PGresult *r = req_query(req, &search_species_unknown, 2, p);
		if (r == NULL) {
			json_object_put(errs);
			return -1;
		}
		if (PQntuples(r) > 0) {
			const char *bad = PQgetvalue(r, 0, SSU_SPECIES);
			check_choices(errs, "species", &bad, 1, NULL, 0);
		}
	}
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs), -1;
	json_object_put(errs);
	if (has_min && has_max && max < min)
		return resp_field_error(req, "non_field_errors",
		    "file_size_max must be greater than file_size_min"), -1;
	/* The original filters on a size only when it is non-zero (Python
	 * truthiness), so 0 is no filter and no file_size count. */
	f->params[0] = req_text_array(req, types, nt);
	if (has_min && min > 0) {
		snprintf(f->min, sizeof(f->min), "%lld", (long long)min);
		f->params[1] = f->min;
	}
	if (has_max && max > 0) {
		snprintf(f->max, sizeof(f->max), "%lld", (long long)max);
		f->params[2] = f->max;
	}
	f->params[3] = req_text_array(req, genos, ng);
	f->params[4] = sp;
	f->params[5] = req_text_array(req, tech, nm);
	return 0;
}

struct counts_ctx {
	PGresult *counts;	/* search_counts */
};

/* A list item with asset_counts appended as its last key. */
static void
search_row(struct buf *b, PGresult *r, int row, void *ctx)
{
	struct counts_ctx *c = ctx;
	const char *item = PQgetvalue(r, row, DL_JSON), *id = PQgetvalue(r, row, DL_ID);
	size_t len = (size_t)PQgetlength(r, row, DL_JSON);
	const char *counts = "{}";

	for (int i = 0; i < PQntuples(c->counts); i++)
		if (strcmp(PQgetvalue(c->counts, i, SC_DANDISET), id) == 0)
			counts = PQgetvalue(c->counts, i, SC_COUNTS);
	while (len > 0 && item[len - 1] != '}')
		len--;
	if (len == 0) {		/* not an object: cannot happen, keep it whole */
		buf_puts(b, item);
		return;
	}
	buf_append(b, item, len - 1);
	buf_puts(b, len > 2 ? ",\"asset_counts\":" : "\"asset_counts\":");
	buf_puts(b, counts);
	buf_puts(b, "}");
}

/* GET /api/dandisets/search/ */
int
search_dandisets(struct request *req)
{
	struct search_filters f;
	struct dandiset_list_args a;
	int64_t total;
	PGresult *r, *ids, *counts;

	if (search_filters_parse(req, &f) != 0 || dandisets_list_parse(req, &a) != 0)
		return 0;
	if ((ids = req_query(req, &search_matching_ids, 6, f.params)) == NULL)
		return 0;
	if ((r = dandisets_list_query(req, &a, PQgetvalue(ids, 0, SM_IDS), &total)) == NULL)
		return 0;
	/* The page's ids as a bigint[] literal for the counts. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{");
	for (int i = 0; i < PQntuples(r); i++) {
		if (i > 0)
			buf_puts(&b, ",");
		buf_puts(&b, PQgetvalue(r, i, DL_ID));
	}
	buf_puts(&b, "}");
	const char *cp[7] = { f.params[0], f.params[1], f.params[2], f.params[3],
	    f.params[4], f.params[5], arena_strdup(&req->arena, b.data) };
	buf_free(&b);
	if ((counts = req_query(req, &search_counts, 7, cp)) == NULL)
		return 0;
	struct counts_ctx ctx = { counts };
	return page_respond_each(req, &a.pg, r, PQntuples(r), total,
	    a.pg.offset + PQntuples(r) < total, search_row, &ctx);
}

/* GET /api/search/genotypes/: up to 10, unpaginated. */
int
search_genotypes(struct request *req)
{
	const char *q = query_get(req, "genotype");
	const char *p[2] = { req->user_id_str, metadata_utf8_fix(req, q ? q : "") };
	PGresult *r = req_query(req, &search_genotype_choices, 2, p);
	struct buf *b = &req->out;

	if (r == NULL)
		return 0;
	req->status = 200;
	req->content_type_out = "application/json";
	b->len = 0;
	buf_puts(b, "[");
	for (int i = 0; i < PQntuples(r); i++) {
		if (i > 0)
			buf_puts(b, ",");
		buf_puts(b, PQgetvalue(r, i, SG_GENOTYPE));	/* a JSON value already */
	}
	buf_puts(b, "]");
	return 0;
}

static void
species_row(struct buf *b, PGresult *r, int row, void *ctx)
{
	buf_json_string(b, PQgetvalue(r, row, SP_NAME));
}

/* GET /api/search/species/: paginated names. */
int
search_species(struct request *req)
{
	struct page pg;
	const char *q = query_get(req, "species");
	char limit[24], offset[24];

	if (page_parse(req, &pg) != 0)
		return 0;
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *p[4] = { req->user_id_str, metadata_utf8_fix(req, q ? q : ""), limit, offset };
	PGresult *r = req_query(req, &search_species_choices, 4, p);
	if (r == NULL)
		return 0;
	return page_respond_counted_each(req, &pg, r, species_row, NULL);
}
