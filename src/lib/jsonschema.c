/*
 * jsonschema.c - JSON Schema draft 2020-12.
 *
 * Adding a document indexes it: every subschema (found only under keywords
 * that hold subschemas, so an "$id" inside an "enum" is just data) records
 * the schema resource it belongs to, and every "$id", "$anchor" and
 * "$dynamicAnchor" becomes a URI in the registry. Compiling turns schema
 * objects into nodes, one per json_object, cached in the registry: a node
 * is entered in the cache before its children are compiled, so recursive
 * references simply point back at it. Validation walks nodes and the
 * instance together; it allocates only to report errors and, for schemas
 * using unevaluated*, to remember which properties/items were evaluated.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"
#include "util.h"

#define REPR_MAX	200	/* bytes of a value quoted in a message */
#define EVAL_DEPTH_MAX	1000	/* "$ref": "#" against itself, forever */

/* ---- hash maps: string or pointer keys ---- */

struct hent {
	const void	*k;
	void		*v;
};

struct hmap {
	struct hent	*t;
	size_t		 n, cap;
	bool		 strkeys;	/* keys are strings the map owns */
};

static uint64_t
hm_hash(const struct hmap *m, const void *k)
{
	uint64_t h = 1469598103934665603ULL;

	if (m->strkeys) {
		for (const unsigned char *s = k; *s; s++)
			h = (h ^ *s) * 1099511628211ULL;
	} else {
		h = (uint64_t)(uintptr_t)k * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	return h;
}

static bool
hm_keyeq(const struct hmap *m, const void *a, const void *b)
{
	return m->strkeys ? strcmp(a, b) == 0 : a == b;
}

static struct hent *
hm_find(const struct hmap *m, const void *k)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = hm_hash(m, k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hent *e = &m->t[i];
		if (e->k == NULL || hm_keyeq(m, e->k, k))
			return e;
	}
}

static void *
hm_get(const struct hmap *m, const void *k)
{
	struct hent *e = hm_find(m, k);

	return e != NULL && e->k != NULL ? e->v : NULL;
}

static void
hm_put(struct hmap *m, const void *k, void *v)
{
	struct hent *e;

	if ((m->n + 1) * 2 > m->cap) {
		struct hent *old = m->t;
		size_t oldcap = m->cap;

		m->cap = m->cap ? m->cap * 2 : 64;
		m->t = xcalloc(m->cap, sizeof(*m->t));
		m->n = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].k != NULL) {
				e = hm_find(m, old[i].k);
				*e = old[i];
				m->n++;
			}
		free(old);
	}
	e = hm_find(m, k);
	if (e->k == NULL) {
		e->k = m->strkeys ? xstrdup(k) : k;
		m->n++;
	}
	e->v = v;
}

static void
hm_free(struct hmap *m, void (*freev)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->t[i].k == NULL)
			continue;
		if (m->strkeys)
			free((void *)m->t[i].k);
		if (freev != NULL)
			freev(m->t[i].v);
	}
	free(m->t);
	m->t = NULL;
	m->n = m->cap = 0;
}

/* ---- URI references (RFC 3986, section 5) ---- */

struct uri {
	const char	*s[5];		/* scheme, authority, path, query, fragment */
	size_t		 len[5];
	bool		 has[5];
};
enum { U_SCHEME, U_AUTH, U_PATH, U_QUERY, U_FRAG };

static void
uri_parse(const char *s, struct uri *u)
{
	const char *p = s;

	memset(u, 0, sizeof(*u));
	if (isalpha((unsigned char)*p)) {
		const char *q = p;
		while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
			q++;
		if (*q == ':') {
			u->has[U_SCHEME] = true;
			u->s[U_SCHEME] = p;
			u->len[U_SCHEME] = q - p;
			p = q + 1;
		}
	}
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		u->has[U_AUTH] = true;
		u->s[U_AUTH] = p;
		u->len[U_AUTH] = strcspn(p, "/?#");
		p += u->len[U_AUTH];
	}
	u->has[U_PATH] = true;
	u->s[U_PATH] = p;
	u->len[U_PATH] = strcspn(p, "?#");
	p += u->len[U_PATH];
	if (*p == '?') {
		p++;
		u->has[U_QUERY] = true;
		u->s[U_QUERY] = p;
		u->len[U_QUERY] = strcspn(p, "#");
		p += u->len[U_QUERY];
	}
	if (*p == '#') {
		p++;
		u->has[U_FRAG] = true;
		u->s[U_FRAG] = p;
		u->len[U_FRAG] = strlen(p);
	}
}

/* Removes "." and ".." segments from path in place (RFC 3986, 5.2.4). */
static void
remove_dots(char *path)
{
	char *in = path, *out = path;

	while (*in) {
		if (strncmp(in, "../", 3) == 0)
			in += 3;
		else if (strncmp(in, "./", 2) == 0)
			in += 2;
		else if (strncmp(in, "/./", 3) == 0)
			in += 2;
		else if (strcmp(in, "/.") == 0)
			in[1] = '\0';
		else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
			in += 3;
			if (*in == '\0')
				*--in = '/';
			else
				in[0] = '/';
			while (out > path && *--out != '/')
				;
			*out = '\0';
		} else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0)
			in += strlen(in);
		else {
			do
				*out++ = *in++;
			while (*in && *in != '/');
		}
	}
	*out = '\0';
}

static void
put_part(struct buf *b, const struct uri *u, int part)
{
	buf_append(b, u->s[part], u->len[part]);
}

/* The target URI of ref against base, malloc'd. */
static char *
uri_resolve(const char *base, const char *ref)
{
	struct uri	 b, r;
	struct buf	 out, path;
	const struct uri *q = &r;	/* where the query comes from */

	uri_parse(base, &b);
	uri_parse(ref, &r);
	buf_init(&out);
	buf_init(&path);
	buf_puts(&path, "");
	if (r.has[U_SCHEME]) {
		buf_append(&out, r.s[U_SCHEME], r.len[U_SCHEME]);
		buf_puts(&out, ":");
		if (r.has[U_AUTH]) {
			buf_puts(&out, "//");
			put_part(&out, &r, U_AUTH);
		}
		put_part(&path, &r, U_PATH);
	} else {
		if (b.has[U_SCHEME]) {
			put_part(&out, &b, U_SCHEME);
			buf_puts(&out, ":");
		}
		if (r.has[U_AUTH]) {
			buf_puts(&out, "//");
			put_part(&out, &r, U_AUTH);
			put_part(&path, &r, U_PATH);
		} else {
			if (b.has[U_AUTH]) {
				buf_puts(&out, "//");
				put_part(&out, &b, U_AUTH);
			}
			if (r.len[U_PATH] == 0) {
				put_part(&path, &b, U_PATH);
				if (!r.has[U_QUERY])
					q = &b;
			} else if (r.s[U_PATH][0] == '/') {
				put_part(&path, &r, U_PATH);
			} else {
				/* merge: the base path up to its last slash */
				size_t n = b.len[U_PATH];
				while (n > 0 && b.s[U_PATH][n - 1] != '/')
					n--;
				if (b.has[U_AUTH] && b.len[U_PATH] == 0)
					buf_puts(&path, "/");
				else
					buf_append(&path, b.s[U_PATH], n);
				put_part(&path, &r, U_PATH);
			}
		}
	}
	remove_dots(path.data);
	buf_puts(&out, path.data);
	buf_free(&path);
	if (q->has[U_QUERY]) {
		buf_puts(&out, "?");
		put_part(&out, q, U_QUERY);
	}
	if (r.has[U_FRAG]) {
		buf_puts(&out, "#");
		put_part(&out, &r, U_FRAG);
	}
	return out.data;
}

/* ---- registry ---- */

struct resource {
	char		*uri;		/* absolute, no fragment */
	json_object	*root;
	struct hmap	 dyn;		/* $dynamicAnchor name -> json_object */
	bool		 dyn_compiled;
};

struct js_registry {
	struct hmap	 res;		/* uri -> struct resource (aliases too) */
	struct hmap	 anchors;	/* "uri#name" -> json_object */
	struct hmap	 where;		/* json_object -> its struct resource */
	struct hmap	 nodes;		/* json_object -> struct node */
	struct resource	**resv;		/* owned */
	size_t		 nres;
	json_object	**docs;		/* references held */
	size_t		 ndocs;
	unsigned	 anon;
};

struct js_schema {
	struct js_registry	*reg;
	struct node		*root;
	int			 flags;
};

static void node_free(void *);

struct js_registry *
js_registry_new(void)
{
	struct js_registry *r = xcalloc(1, sizeof(*r));

	r->res.strkeys = true;
	r->anchors.strkeys = true;
	return r;
}

void
js_registry_free(struct js_registry *r)
{
	if (r == NULL)
		return;
	hm_free(&r->nodes, node_free);
	hm_free(&r->where, NULL);
	hm_free(&r->anchors, NULL);
	hm_free(&r->res, NULL);
	for (size_t i = 0; i < r->nres; i++) {
		free(r->resv[i]->uri);
		hm_free(&r->resv[i]->dyn, NULL);
		free(r->resv[i]);
	}
	free(r->resv);
	for (size_t i = 0; i < r->ndocs; i++)
		json_object_put(r->docs[i]);
	free(r->docs);
	free(r);
}

static struct resource *
resource_new(struct js_registry *r, const char *uri, json_object *root)
{
	struct resource *res = xcalloc(1, sizeof(*res));

	res->uri = xstrdup(uri);
	res->root = root;
	res->dyn.strkeys = true;
	r->resv = xrealloc(r->resv, (r->nres + 1) * sizeof(*r->resv));
	r->resv[r->nres++] = res;
	hm_put(&r->res, uri, res);
	return res;
}

/* Keywords whose value is a subschema, an array of them, or an object of
 * them; only these are searched for subschemas. */
static const char *const kw_single[] = {
	"additionalProperties", "propertyNames", "items", "contains", "not",
	"if", "then", "else", "unevaluatedItems", "unevaluatedProperties", NULL
};
static const char *const kw_array[] = {
	"allOf", "anyOf", "oneOf", "prefixItems", NULL
};
static const char *const kw_map[] = {
	"$defs", "properties", "patternProperties", "dependentSchemas", NULL
};

#define FOREACH_PROP(o, e) \
	for (struct lh_entry *e = json_object_get_object(o)->head; e != NULL; e = e->next)
#define PROP_KEY(e)	((const char *)lh_entry_k(e))
#define PROP_VAL(e)	((json_object *)lh_entry_v(e))

static void
index_schema(struct js_registry *r, json_object *s, struct resource *res)
{
	json_object *v;

	if (!json_object_is_type(s, json_type_object)) {
		hm_put(&r->where, s, res);
		return;
	}
	if (json_object_object_get_ex(s, "$id", &v) &&
	    json_object_is_type(v, json_type_string)) {
		char *uri = uri_resolve(res->uri, json_object_get_string(v));
		char *hash = strchr(uri, '#');

		if (hash != NULL)
			*hash = '\0';
		res = hm_get(&r->res, uri);
		if (res == NULL || res->root != s)
			res = resource_new(r, uri, s);
		free(uri);
	}
	hm_put(&r->where, s, res);
	for (int i = 0; i < 2; i++) {
		const char *kw = i == 0 ? "$anchor" : "$dynamicAnchor";
		struct buf b;

		if (!json_object_object_get_ex(s, kw, &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		buf_init(&b);
		buf_printf(&b, "%s#%s", res->uri, json_object_get_string(v));
		hm_put(&r->anchors, b.data, s);
		buf_free(&b);
		if (i == 1)
			hm_put(&res->dyn, json_object_get_string(v), s);
	}
	for (int i = 0; kw_single[i] != NULL; i++)
		if (json_object_object_get_ex(s, kw_single[i], &v))
			index_schema(r, v, res);
	for (int i = 0; kw_array[i] != NULL; i++)
		if (json_object_object_get_ex(s, kw_array[i], &v) &&
		    json_object_is_type(v, json_type_array))
			for (size_t j = 0; j < json_object_array_length(v); j++)
				index_schema(r, json_object_array_get_idx(v, j), res);
	for (int i = 0; kw_map[i] != NULL; i++)
		if (json_object_object_get_ex(s, kw_map[i], &v) &&
		    json_object_is_type(v, json_type_object))
			FOREACH_PROP(v, e)
				index_schema(r, PROP_VAL(e), res);
}

int
js_registry_add(struct js_registry *r, const char *uri, json_object *schema,
    char *err, size_t errlen)
{
	char		 anon[64];
	struct resource	*res;

	if (!json_object_is_type(schema, json_type_object) &&
	    !json_object_is_type(schema, json_type_boolean)) {
		snprintf(err, errlen, "a schema must be an object or a boolean");
		return -1;
	}
	if (uri == NULL) {
		snprintf(anon, sizeof(anon), "urn:x-jsonschema:anonymous:%u", ++r->anon);
		uri = anon;
	}
	if (strchr(uri, '#') != NULL && strchr(uri, '#')[1] != '\0') {
		snprintf(err, errlen, "%s: a document URI has no fragment", uri);
		return -1;
	}
	{
		char *u = xstrdup(uri), *h = strchr(u, '#');
		if (h != NULL)
			*h = '\0';
		res = resource_new(r, u, schema);
		free(u);
	}
	index_schema(r, schema, res);
	r->docs = xrealloc(r->docs, (r->ndocs + 1) * sizeof(*r->docs));
	r->docs[r->ndocs++] = json_object_get(schema);
	return 0;
}

/* ---- compiled nodes ---- */

enum {
	T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8,
	T_NUMBER = 16, T_STRING = 32, T_INTEGER = 64
};
static const char *const type_names[] = {
	"null", "boolean", "object", "array", "number", "string", "integer", NULL
};

struct prop {
	const char	*name;
	struct node	*n;
};

struct pat {
	pcre2_code	*re;
	const char	*src;
	struct node	*n;
};

struct dep {
	const char	*name;
	json_object	*req;		/* dependentRequired: array of names */
	struct node	*n;		/* dependentSchemas */
};

struct node {
	json_object	*src;
	struct resource	*res;
	bool		 broken;	/* its compilation failed: never usable */
	int		 boolean;	/* -1, or the value of a boolean schema */
	unsigned	 types;		/* 0: no "type" */
	bool		 uneval;	/* has unevaluated*: tracks annotations */

	struct node	*ref;
	struct node	*dynref;	/* where $dynamicRef points statically */
	const char	*dynanchor;	/* non-NULL: look this up in the dynamic scope */

	struct node	**allof, **anyof, **oneof, **prefix;
	size_t		 nallof, nanyof, noneof, nprefix;
	struct node	*not, *if_, *then_, *else_;
	struct node	*items, *contains, *addl, *propnames;
	struct node	*uneval_props, *uneval_items;

	struct prop	*props;		/* sorted by name */
	size_t		 nprops;
	struct pat	*pats;
	size_t		 npats;
	struct dep	*depreq, *depsch;
	size_t		 ndepreq, ndepsch;
	json_object	*required;	/* array of names, or NULL */

	int64_t		 min_contains, max_contains;
	int64_t		 min_items, max_items, min_len, max_len, min_props, max_props;
	bool		 unique;

	json_object	*enumv, *constv;
	bool		 has_const;
	json_object	*minimum, *maximum, *exmin, *exmax, *multiple;

	pcre2_code	*pattern;
	const char	*pattern_src;
	const char	*format;
};

static void
node_free(void *p)
{
	struct node *n = p;

	free(n->allof);
	free(n->anyof);
	free(n->oneof);
	free(n->prefix);
	free(n->props);
	for (size_t i = 0; i < n->npats; i++)
		pcre2_code_free(n->pats[i].re);
	free(n->pats);
	free(n->depreq);
	free(n->depsch);
	pcre2_code_free(n->pattern);
	free(n);
}

struct cctx {
	struct js_registry	*reg;
	char			*err;
	size_t			 errlen;
	bool			 failed;
	struct node		**made;		/* nodes new in this compilation */
	size_t			 nmade;
};

static void
cfail(struct cctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

static struct node *compile(struct cctx *, json_object *, struct resource *);

/* Percent-decodes s[0..n) into a malloc'd string. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' };
			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Follows a JSON pointer (already percent-decoded) from root; *res is
 * updated to the resource of the deepest indexed schema passed. */
static json_object *
follow_pointer(struct js_registry *r, json_object *root, const char *ptr,
    struct resource **res)
{
	json_object	*cur = root;
	char		 tok[1024];

	while (*ptr == '/') {
		size_t	 n = 0;
		struct resource *w;

		ptr++;
		while (*ptr && *ptr != '/' && n + 1 < sizeof(tok)) {
			if (ptr[0] == '~' && ptr[1] == '0')
				tok[n++] = '~', ptr += 2;
			else if (ptr[0] == '~' && ptr[1] == '1')
				tok[n++] = '/', ptr += 2;
			else
				tok[n++] = *ptr++;
		}
		tok[n] = '\0';
		if (json_object_is_type(cur, json_type_object)) {
			if (!json_object_object_get_ex(cur, tok, &cur))
				return NULL;
		} else if (json_object_is_type(cur, json_type_array)) {
			char *end;
			long i = strtol(tok, &end, 10);
			if (*tok == '\0' || *end != '\0' || i < 0 ||
			    (size_t)i >= json_object_array_length(cur))
				return NULL;
			cur = json_object_array_get_idx(cur, i);
		} else
			return NULL;
		if ((w = hm_get(&r->where, cur)) != NULL)
			*res = w;
	}
	return *ptr == '\0' ? cur : NULL;
}

/* Resolves an absolute URI with fragment to a schema object. */
static json_object *
lookup_uri(struct js_registry *r, const char *uri, struct resource **resp)
{
	char		*u = xstrdup(uri), *frag = strchr(u, '#');
	struct resource	*res;
	json_object	*s = NULL;

	if (frag != NULL)
		*frag++ = '\0';
	res = hm_get(&r->res, u);
	if (res == NULL)
		goto out;
	if (frag == NULL || *frag == '\0')
		s = res->root;
	else if (*frag == '/') {
		char *p = pct_decode(frag, strlen(frag));
		s = follow_pointer(r, res->root, p, &res);
		free(p);
	} else {
		s = hm_get(&r->anchors, uri);
		if (s != NULL && hm_get(&r->where, s) != NULL)
			res = hm_get(&r->where, s);
	}
out:
	*resp = res;
	free(u);
	return s;
}

static struct node *
compile_ref(struct cctx *c, struct node *n, json_object *ref)
{
	char		*uri;
	json_object	*s;
	struct resource	*res;
	struct node	*t = NULL;

	if (!json_object_is_type(ref, json_type_string)) {
		cfail(c, "%s: $ref is not a string", n->res->uri);
		return NULL;
	}
	uri = uri_resolve(n->res->uri, json_object_get_string(ref));
	s = lookup_uri(c->reg, uri, &res);
	if (s == NULL)
		cfail(c, "cannot resolve reference %s", uri);
	else
		t = compile(c, s, res);
	free(uri);
	return t;
}

static int64_t
get_count(struct cctx *c, json_object *s, const char *kw, int64_t dflt)
{
	json_object	*v;
	double		 d;

	if (!json_object_object_get_ex(s, kw, &v))
		return dflt;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) < 0 ? 0 : json_object_get_int64(v);
	d = json_object_get_double(v);
	if (json_object_is_type(v, json_type_double) && d == floor(d) &&
	    d >= 0 && d < 9e18)
		return (int64_t)d;
	cfail(c, "%s must be a non-negative integer", kw);
	return dflt;
}

static json_object *
get_number(struct cctx *c, json_object *s, const char *kw)
{
	json_object *v;

	if (!json_object_object_get_ex(s, kw, &v))
		return NULL;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)) {
		cfail(c, "%s must be a number", kw);
		return NULL;
	}
	return v;
}

/* ECMA-262 long names of general categories, which PCRE2 before 10.43
 * does not know. Scripts (\p{Greek}) are spelled alike in both. */
static const char *const gc_names[][2] = {
	{ "Letter", "L" }, { "Cased_Letter", "L&" }, { "Uppercase_Letter", "Lu" },
	{ "Lowercase_Letter", "Ll" }, { "Titlecase_Letter", "Lt" },
	{ "Modifier_Letter", "Lm" }, { "Other_Letter", "Lo" }, { "Mark", "M" },
	{ "Nonspacing_Mark", "Mn" }, { "Spacing_Mark", "Mc" },
	{ "Enclosing_Mark", "Me" }, { "Number", "N" }, { "Decimal_Number", "Nd" },
	{ "digit", "Nd" }, { "Letter_Number", "Nl" }, { "Other_Number", "No" },
	{ "Punctuation", "P" }, { "punct", "P" }, { "Connector_Punctuation", "Pc" },
	{ "Dash_Punctuation", "Pd" }, { "Open_Punctuation", "Ps" },
	{ "Close_Punctuation", "Pe" }, { "Initial_Punctuation", "Pi" },
	{ "Final_Punctuation", "Pf" }, { "Other_Punctuation", "Po" },
	{ "Symbol", "S" }, { "Math_Symbol", "Sm" }, { "Currency_Symbol", "Sc" },
	{ "Modifier_Symbol", "Sk" }, { "Other_Symbol", "So" },
	{ "Separator", "Z" }, { "Space_Separator", "Zs" },
	{ "Line_Separator", "Zl" }, { "Paragraph_Separator", "Zp" },
	{ "Other", "C" }, { "Control", "Cc" }, { "cntrl", "Cc" }, { "Format", "Cf" },
	{ "Surrogate", "Cs" }, { "Private_Use", "Co" }, { "Unassigned", "Cn" },
	{ NULL, NULL }
};

/* Rewrites \p{Long_Name}, \p{gc=X}, \p{sc=X} and \p{Script=X} into
 * names PCRE2 knows; a malloc'd copy of src. */
static char *
ecma_properties(const char *src)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "");
	for (const char *p = src; *p; p++) {
		const char *name, *end;
		size_t n;

		if (p[0] != '\\') {
			buf_append(&b, p, 1);
			continue;
		}
		if ((p[1] != 'p' && p[1] != 'P') || p[2] != '{' ||
		    (end = strchr(p + 3, '}')) == NULL) {
			/* another escape: copy it whole so "\\p" stays literal */
			buf_append(&b, p, p[1] ? 2 : 1);
			if (p[1])
				p++;
			continue;
		}
		name = p + 3;
		for (const char *q = name; q < end; q++)
			if (*q == '=')
				name = q + 1;
		n = end - name;
		buf_append(&b, p, 3);
		for (int i = 0; gc_names[i][0] != NULL; i++)
			if (strlen(gc_names[i][0]) == n && strncmp(gc_names[i][0], name, n) == 0) {
				name = gc_names[i][1];
				n = strlen(name);
				break;
			}
		buf_append(&b, name, n);
		buf_puts(&b, "}");
		p = end;
	}
	return b.data;
}

/* NULL with a message in msg when src does not compile. */
static pcre2_code *
regex_new(const char *src, char *msg, size_t msglen)
{
	pcre2_code		*re;
	pcre2_compile_context	*cc;
	int			 ec;
	PCRE2_SIZE		 eo;
	char			*pat = ecma_properties(src);

	/* ECMA-262 flavour: "$" only at the very end, \uXXXX escapes; \d
	 * and \w stay ASCII as in ECMA-262, \p{L} and literal code points
	 * work on code points since the pattern is UTF. */
	cc = pcre2_compile_context_create(NULL);
	pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
	    PCRE2_ALT_BSUX, &ec, &eo, cc);
	pcre2_compile_context_free(cc);
	free(pat);
	if (re == NULL) {
		PCRE2_UCHAR m[200];
		pcre2_get_error_message(ec, m, sizeof(m));
		snprintf(msg, msglen, "%s at %zu", (char *)m, (size_t)eo);
		return NULL;
	}
	return re;
}

int
js_regex_valid(const char *src)
{
	char		 msg[256];
	pcre2_code	*re = regex_new(src, msg, sizeof(msg));

	pcre2_code_free(re);
	return re != NULL;
}

static pcre2_code *
compile_regex(struct cctx *c, const char *src)
{
	char		 msg[240];
	pcre2_code	*re = regex_new(src, msg, sizeof(msg));

	if (re == NULL) {
		cfail(c, "bad regex '%s': %s", src, msg);
		return NULL;
	}
	/* No JIT: the interpreter is quick on the short strings schemas
	 * match, and JIT code reads memory in ways valgrind reports. */
	return re;
}

static struct node **
compile_array(struct cctx *c, json_object *s, const char *kw, size_t *n,
    struct resource *res)
{
	json_object	 *v;
	struct node	**out;

	*n = 0;
	if (!json_object_object_get_ex(s, kw, &v))
		return NULL;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		cfail(c, "%s must be a non-empty array", kw);
		return NULL;
	}
	*n = json_object_array_length(v);
	out = xcalloc(*n, sizeof(*out));
	for (size_t i = 0; i < *n; i++)
		out[i] = compile(c, json_object_array_get_idx(v, i), res);
	return out;
}

static struct node *
compile_kw(struct cctx *c, json_object *s, const char *kw, struct resource *res)
{
	json_object *v;

	if (!json_object_object_get_ex(s, kw, &v))
		return NULL;
	return compile(c, v, res);
}

static int
prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct prop *)a)->name, ((const struct prop *)b)->name);
}

static void
compile_types(struct cctx *c, struct node *n, json_object *t)
{
	size_t cnt = json_object_is_type(t, json_type_array) ? json_object_array_length(t) : 1;

	for (size_t i = 0; i < cnt; i++) {
		json_object *e = json_object_is_type(t, json_type_array) ?
		    json_object_array_get_idx(t, i) : t;
		int k;

		for (k = 0; type_names[k] != NULL; k++)
			if (json_object_is_type(e, json_type_string) &&
			    strcmp(json_object_get_string(e), type_names[k]) == 0)
				break;
		if (type_names[k] == NULL) {
			cfail(c, "unknown type %s", json_object_to_json_string(e));
			return;
		}
		n->types |= 1u << k;
	}
}

static void
compile_object_kws(struct cctx *c, struct node *n, json_object *s)
{
	json_object *v;

	if (json_object_object_get_ex(s, "properties", &v) &&
	    json_object_is_type(v, json_type_object)) {
		n->props = xcalloc(json_object_object_length(v), sizeof(*n->props));
		FOREACH_PROP(v, e) {
			n->props[n->nprops].name = PROP_KEY(e);
			n->props[n->nprops++].n = compile(c, PROP_VAL(e), n->res);
		}
		qsort(n->props, n->nprops, sizeof(*n->props), prop_cmp);
	}
	if (json_object_object_get_ex(s, "patternProperties", &v) &&
	    json_object_is_type(v, json_type_object)) {
		n->pats = xcalloc(json_object_object_length(v), sizeof(*n->pats));
		FOREACH_PROP(v, e) {
			struct pat *p = &n->pats[n->npats++];
			p->src = PROP_KEY(e);
			p->re = compile_regex(c, p->src);
			p->n = compile(c, PROP_VAL(e), n->res);
		}
	}
	if (json_object_object_get_ex(s, "dependentRequired", &v) &&
	    json_object_is_type(v, json_type_object)) {
		n->depreq = xcalloc(json_object_object_length(v), sizeof(*n->depreq));
		FOREACH_PROP(v, e) {
			n->depreq[n->ndepreq].name = PROP_KEY(e);
			n->depreq[n->ndepreq++].req = PROP_VAL(e);
		}
	}
	if (json_object_object_get_ex(s, "dependentSchemas", &v) &&
	    json_object_is_type(v, json_type_object)) {
		n->depsch = xcalloc(json_object_object_length(v), sizeof(*n->depsch));
		FOREACH_PROP(v, e) {
			n->depsch[n->ndepsch].name = PROP_KEY(e);
			n->depsch[n->ndepsch++].n = compile(c, PROP_VAL(e), n->res);
		}
	}
	if (json_object_object_get_ex(s, "required", &v) &&
	    json_object_is_type(v, json_type_array))
		n->required = v;
	n->addl = compile_kw(c, s, "additionalProperties", n->res);
	n->propnames = compile_kw(c, s, "propertyNames", n->res);
	n->uneval_props = compile_kw(c, s, "unevaluatedProperties", n->res);
	n->min_props = get_count(c, s, "minProperties", -1);
	n->max_props = get_count(c, s, "maxProperties", -1);
}

static void
compile_dynref(struct cctx *c, struct node *n, json_object *v)
{
	const char *ref, *hash;

	n->dynref = compile_ref(c, n, v);
	if (n->dynref == NULL)
		return;
	ref = json_object_get_string(v);
	hash = strchr(ref, '#');
	/* Only a plain-name fragment naming a $dynamicAnchor of the target
	 * makes the reference dynamic (the "bookend" rule). */
	if (hash != NULL && hash[1] != '\0' && hash[1] != '/') {
		json_object *a;
		if (json_object_is_type(n->dynref->src, json_type_object) &&
		    json_object_object_get_ex(n->dynref->src, "$dynamicAnchor", &a) &&
		    strcmp(json_object_get_string(a), hash + 1) == 0)
			n->dynanchor = hash + 1;
	}
}

static void
compile_body(struct cctx *c, struct node *n, json_object *s)
{
	json_object *v;

	if (json_object_object_get_ex(s, "$ref", &v))
		n->ref = compile_ref(c, n, v);
	if (json_object_object_get_ex(s, "$dynamicRef", &v))
		compile_dynref(c, n, v);
	if (json_object_object_get_ex(s, "type", &v))
		compile_types(c, n, v);
	if (json_object_object_get_ex(s, "enum", &v)) {
		if (!json_object_is_type(v, json_type_array))
			cfail(c, "enum must be an array");
		n->enumv = v;
	}
	if (json_object_object_get_ex(s, "const", &v)) {
		n->constv = v;
		n->has_const = true;
	}
	n->minimum = get_number(c, s, "minimum");
	n->maximum = get_number(c, s, "maximum");
	n->exmin = get_number(c, s, "exclusiveMinimum");
	n->exmax = get_number(c, s, "exclusiveMaximum");
	n->multiple = get_number(c, s, "multipleOf");
	n->min_len = get_count(c, s, "minLength", -1);
	n->max_len = get_count(c, s, "maxLength", -1);
	if (json_object_object_get_ex(s, "pattern", &v) &&
	    json_object_is_type(v, json_type_string)) {
		n->pattern_src = json_object_get_string(v);
		n->pattern = compile_regex(c, n->pattern_src);
	}
	if (json_object_object_get_ex(s, "format", &v) &&
	    json_object_is_type(v, json_type_string))
		n->format = json_object_get_string(v);

	n->prefix = compile_array(c, s, "prefixItems", &n->nprefix, n->res);
	n->items = compile_kw(c, s, "items", n->res);
	n->contains = compile_kw(c, s, "contains", n->res);
	n->min_contains = get_count(c, s, "minContains", 1);
	n->max_contains = get_count(c, s, "maxContains", -1);
	n->min_items = get_count(c, s, "minItems", -1);
	n->max_items = get_count(c, s, "maxItems", -1);
	n->unique = json_object_object_get_ex(s, "uniqueItems", &v) &&
	    json_object_get_boolean(v);
	n->uneval_items = compile_kw(c, s, "unevaluatedItems", n->res);

	compile_object_kws(c, n, s);

	n->allof = compile_array(c, s, "allOf", &n->nallof, n->res);
	n->anyof = compile_array(c, s, "anyOf", &n->nanyof, n->res);
	n->oneof = compile_array(c, s, "oneOf", &n->noneof, n->res);
	n->not = compile_kw(c, s, "not", n->res);
	n->if_ = compile_kw(c, s, "if", n->res);
	n->then_ = compile_kw(c, s, "then", n->res);
	n->else_ = compile_kw(c, s, "else", n->res);
	n->uneval = n->uneval_props != NULL || n->uneval_items != NULL;
}

/* The node for schema object s; res is the resource to assume when s was
 * not indexed (reached by a pointer into an unknown keyword). */
static struct node *
compile(struct cctx *c, json_object *s, struct resource *res)
{
	struct node	*n;
	struct resource	*w;

	if ((n = hm_get(&c->reg->nodes, s)) != NULL) {
		if (n->broken)
			cfail(c, "a schema referenced here failed to compile before");
		return n;
	}
	if ((w = hm_get(&c->reg->where, s)) == NULL) {
		/* Index it now so that its $ids and anchors are known. */
		index_schema(c->reg, s, res);
		w = hm_get(&c->reg->where, s);
	}
	n = xcalloc(1, sizeof(*n));
	n->src = s;
	n->res = w;
	n->boolean = -1;
	hm_put(&c->reg->nodes, s, n);
	c->made = xrealloc(c->made, (c->nmade + 1) * sizeof(*c->made));
	c->made[c->nmade++] = n;
	if (json_object_is_type(s, json_type_boolean))
		n->boolean = json_object_get_boolean(s);
	else if (json_object_is_type(s, json_type_object))
		compile_body(c, n, s);
	else
		cfail(c, "a schema must be an object or a boolean");
	/* $dynamicRef may land on any $dynamicAnchor of a resource that
	 * validation passes through, so those are compiled up front. */
	if (!w->dyn_compiled && w->dyn.n > 0) {
		/* copied: compiling may index more anchors into w->dyn */
		json_object **v = xcalloc(w->dyn.n, sizeof(*v));
		size_t nv = 0;

		w->dyn_compiled = true;
		for (size_t i = 0; i < w->dyn.cap; i++)
			if (w->dyn.t[i].k != NULL)
				v[nv++] = w->dyn.t[i].v;
		for (size_t i = 0; i < nv; i++)
			compile(c, v[i], w);
		free(v);
	}
	return n;
}

static struct js_schema *
compile_entry(struct js_registry *r, json_object *s, struct resource *res,
    int flags, char *err, size_t errlen)
{
	struct cctx	 c = { r, err, errlen, false, NULL, 0 };
	struct node	*n = compile(&c, s, res);
	struct js_schema *js;

	/* Nodes stay cached (others may point at them) but a failed
	 * compilation poisons every node it made, so no later compile
	 * succeeds through a half-built one. */
	if (c.failed)
		for (size_t i = 0; i < c.nmade; i++)
			c.made[i]->broken = true;
	free(c.made);
	if (c.failed)
		return NULL;
	js = xcalloc(1, sizeof(*js));
	js->reg = r;
	js->root = n;
	js->flags = flags;
	return js;
}

struct js_schema *
js_compile(struct js_registry *r, const char *uri, int flags, char *err, size_t errlen)
{
	struct resource	*res;
	json_object	*s = lookup_uri(r, uri, &res);

	if (s == NULL) {
		snprintf(err, errlen, "no schema at %s", uri);
		return NULL;
	}
	return compile_entry(r, s, res, flags, err, errlen);
}

struct js_schema *
js_compile_schema(struct js_registry *r, json_object *schema, int flags,
    char *err, size_t errlen)
{
	struct resource *res = hm_get(&r->where, schema);

	if (res == NULL) {
		snprintf(err, errlen, "schema was not added to the registry");
		return NULL;
	}
	return compile_entry(r, schema, res, flags, err, errlen);
}

void
js_schema_free(struct js_schema *s)
{
	free(s);
}

/* ---- JSON values: equality, repr ---- */

static bool
is_number(json_object *x)
{
	return json_object_is_type(x, json_type_int) ||
	    json_object_is_type(x, json_type_double);
}

/* Compares two numbers: <0, 0, >0. Integers compare exactly. */
static int
num_cmp(json_object *a, json_object *b)
{
	if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int)) {
		int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);
		return x < y ? -1 : x > y;
	} else {
		double x = json_object_get_double(a), y = json_object_get_double(b);
		return x < y ? -1 : x > y;
	}
}

static bool
json_eq(json_object *a, json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if (is_number(a) && is_number(b))
		return num_cmp(a, b) == 0;
	if (ta != tb)
		return false;
	switch (ta) {
	case json_type_null:
		return true;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		    memcmp(json_object_get_string(a), json_object_get_string(b),
		    json_object_get_string_len(a)) == 0;
	case json_type_array: {
		size_t n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!json_eq(json_object_array_get_idx(a, i),
			    json_object_array_get_idx(b, i)))
				return false;
		return true;
	}
	case json_type_object:
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		FOREACH_PROP(a, e) {
			json_object *o;
			if (!json_object_object_get_ex(b, PROP_KEY(e), &o) ||
			    !json_eq(PROP_VAL(e), o))
				return false;
		}
		return true;
	default:
		return false;
	}
}

static void
repr_str(struct buf *b, const char *s, size_t n)
{
	/* Python picks double quotes only for a string with ' and no ". */
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';

	buf_append(b, &q, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = s[i];
		if (ch == '\\' || ch == (unsigned char)q)
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else if (ch == '\t')
			buf_puts(b, "\\t");
		else if (ch == '\r')
			buf_puts(b, "\\r");
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(b, "\\x%02x", ch);
		else
			buf_append(b, (const char *)&ch, 1);
	}
	buf_append(b, &q, 1);
}

static void
repr_double(struct buf *b, double d)
{
	char s[64];

	if (isnan(d)) {
		buf_puts(b, "nan");
		return;
	}
	if (isinf(d)) {
		buf_puts(b, d < 0 ? "-inf" : "inf");
		return;
	}
	/* The shortest form that reads back the same, as Python's repr. */
	for (int p = 1; p <= 17; p++) {
		snprintf(s, sizeof(s), "%.*g", p, d);
		if (strtod(s, NULL) == d)
			break;
	}
	buf_puts(b, s);
	if (strpbrk(s, ".e") == NULL)
		buf_puts(b, ".0");
}

static void
repr(struct buf *b, json_object *v, size_t start, size_t max)
{
	if (max != 0 && b->len - start > max)
		return;
	switch (json_object_get_type(v)) {
	case json_type_null:
		buf_puts(b, "None");
		break;
	case json_type_boolean:
		buf_puts(b, json_object_get_boolean(v) ? "True" : "False");
		break;
	case json_type_int:
		buf_printf(b, "%lld", (long long)json_object_get_int64(v));
		break;
	case json_type_double:
		repr_double(b, json_object_get_double(v));
		break;
	case json_type_string:
		repr_str(b, json_object_get_string(v), json_object_get_string_len(v));
		break;
	case json_type_array:
		buf_puts(b, "[");
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i > 0)
				buf_puts(b, ", ");
			repr(b, json_object_array_get_idx(v, i), start, max);
		}
		buf_puts(b, "]");
		break;
	case json_type_object: {
		bool first = true;
		buf_puts(b, "{");
		FOREACH_PROP(v, e) {
			if (!first)
				buf_puts(b, ", ");
			first = false;
			repr_str(b, PROP_KEY(e), strlen(PROP_KEY(e)));
			buf_puts(b, ": ");
			repr(b, PROP_VAL(e), start, max);
			if (max != 0 && b->len - start > max)
				break;
		}
		buf_puts(b, "}");
		break;
	}
	}
}

void
js_repr(struct buf *b, json_object *v, size_t max)
{
	size_t start = b->len;

	if (b->data == NULL)
		buf_puts(b, "");
	repr(b, v, start, max);
	if (max != 0 && b->len - start > max) {
		/* cut at a UTF-8 character boundary */
		size_t n = start + max;
		while (n > start && ((unsigned char)b->data[n] & 0xc0) == 0x80)
			n--;
		b->len = n;
		b->data[n] = '\0';
		buf_puts(b, "...");
	}
}

/* ---- errors ---- */

void
js_errors_init(struct js_errors *e, size_t max)
{
	memset(e, 0, sizeof(*e));
	e->max = max ? max : 100;
}

void
js_errors_free(struct js_errors *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].pointer);
		free(e->v[i].message);
		json_object_put(e->v[i].path);
	}
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
	e->truncated = false;
}

/* ---- validation ---- */

struct pathtok {
	const char	*key;		/* NULL: idx */
	size_t		 idx;
};

struct vctx {
	const struct js_schema	*s;
	struct js_errors	*out;
	int			 quiet;		/* >0: record nothing, fail fast */
	int			 depth;		/* of evaluation */
	size_t			 nerr;
	struct pathtok		*path;
	size_t			 npath, pathcap;
	struct resource		**scope;	/* dynamic scope, outermost first */
	size_t			 nscope, scopecap;
	pcre2_match_data	*md;
	json_object		*name;		/* a property name, for propertyNames */
	/* the stacks start here, so most validations need no malloc */
	struct pathtok		 pathbuf[32];
	struct resource		*scopebuf[16];
};

static void *
grow(void *p, size_t *cap, size_t size, void *initial)
{
	void *q = xmalloc(*cap * 2 * size);

	memcpy(q, p, *cap * size);
	if (p != initial)
		free(p);
	*cap *= 2;
	return q;
}

/* Evaluated properties (by position in the object) or items, for
 * unevaluatedProperties/unevaluatedItems. */
struct ann {
	unsigned char	*mark;
	size_t		 n;
};

static bool v_node(struct vctx *, const struct node *, json_object *, struct ann *);

static void
ann_init(struct ann *a, json_object *x)
{
	a->n = 0;
	if (json_object_is_type(x, json_type_object))
		a->n = json_object_object_length(x);
	else if (json_object_is_type(x, json_type_array))
		a->n = json_object_array_length(x);
	a->mark = xcalloc(a->n ? a->n : 1, 1);
}

static void
ann_merge(struct ann *to, const struct ann *from)
{
	if (to == NULL)
		return;
	for (size_t i = 0; i < to->n && i < from->n; i++)
		to->mark[i] |= from->mark[i];
}

static void
path_push(struct vctx *c, const char *key, size_t idx)
{
	if (c->npath == c->pathcap)
		c->path = grow(c->path, &c->pathcap, sizeof(*c->path), c->pathbuf);
	c->path[c->npath].key = key;
	c->path[c->npath++].idx = idx;
}

static void
add_error(struct vctx *c, const char *kw, struct buf *msg)
{
	struct js_errors	*o = c->out;
	struct js_error		*e;
	struct buf		 p;

	c->nerr++;
	if (o->n >= o->max) {
		o->truncated = true;
		buf_free(msg);
		return;
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	e = &o->v[o->n++];
	e->keyword = kw;
	e->message = msg->data;
	e->path = json_object_new_array();
	buf_init(&p);
	buf_puts(&p, "");
	for (size_t i = 0; i < c->npath; i++) {
		const char *k = c->path[i].key;
		if (k == NULL) {
			buf_printf(&p, "/%zu", c->path[i].idx);
			json_object_array_add(e->path, json_object_new_int64(c->path[i].idx));
			continue;
		}
		buf_puts(&p, "/");
		for (; *k; k++)
			if (*k == '~')
				buf_puts(&p, "~0");
			else if (*k == '/')
				buf_puts(&p, "~1");
			else
				buf_append(&p, k, 1);
		json_object_array_add(e->path, json_object_new_string(c->path[i].key));
	}
	e->pointer = p.data;
}

/* Starts a message with the instance's repr; returns false when quiet. */
#define MSG_START(b, x) (c->quiet ? false : (buf_init(&(b)), js_repr(&(b), (x), REPR_MAX), true))

static void
fail_simple(struct vctx *c, const char *kw, json_object *x, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;
	char		tail[512];

	if (!MSG_START(b, x))
		return;
	va_start(ap, fmt);
	vsnprintf(tail, sizeof(tail), fmt, ap);
	va_end(ap);
	buf_puts(&b, tail);
	add_error(c, kw, &b);
}

/* " the maximum of 3" etc.: the limit as Python prints it */
static void
fail_limit(struct vctx *c, const char *kw, json_object *x, const char *what,
    json_object *limit, size_t max)
{
	struct buf b;

	if (!MSG_START(b, x))
		return;
	buf_puts(&b, what);
	js_repr(&b, limit, max);
	add_error(c, kw, &b);
}

static bool
re_match(struct vctx *c, pcre2_code *re, const char *s, size_t n)
{
	if (c->md == NULL)
		c->md = pcre2_match_data_create(1, NULL);
	/* 0 means the ovector was too small: still a match */
	return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, c->md, NULL) >= 0;
}

static bool
type_ok(unsigned types, json_object *x)
{
	switch (json_object_get_type(x)) {
	case json_type_null:
		return types & T_NULL;
	case json_type_boolean:
		return types & T_BOOLEAN;
	case json_type_object:
		return types & T_OBJECT;
	case json_type_array:
		return types & T_ARRAY;
	case json_type_string:
		return types & T_STRING;
	case json_type_int:
		return types & (T_NUMBER | T_INTEGER);
	case json_type_double: {
		double d = json_object_get_double(x);
		if (types & T_NUMBER)
			return true;
		return (types & T_INTEGER) && isfinite(d) && d == floor(d);
	}
	}
	return false;
}

static bool
multiple_ok(json_object *x, json_object *m)
{
	double q, d;

	if (json_object_is_type(x, json_type_int) && json_object_is_type(m, json_type_int)) {
		int64_t dv = json_object_get_int64(m);
		return dv == 0 || json_object_get_int64(x) % dv == 0;
	}
	d = json_object_get_double(m);
	q = json_object_get_double(x) / d;
	if (!isfinite(q))
		return false;
	/* A quotient within rounding error of an integer counts: 0.0075 is
	 * a multiple of 0.0001 although 75.00000000000001 is computed. */
	return fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q));
}

static bool
v_number(struct vctx *c, const struct node *n, json_object *x)
{
	bool ok = true;

	if (n->minimum != NULL && num_cmp(x, n->minimum) < 0) {
		ok = false;
		fail_limit(c, "minimum", x, " is less than the minimum of ", n->minimum, REPR_MAX);
	}
	if (n->maximum != NULL && num_cmp(x, n->maximum) > 0) {
		ok = false;
		fail_limit(c, "maximum", x, " is greater than the maximum of ", n->maximum, REPR_MAX);
	}
	if (n->exmin != NULL && num_cmp(x, n->exmin) <= 0) {
		ok = false;
		fail_limit(c, "exclusiveMinimum", x,
		    " is less than or equal to the minimum of ", n->exmin, REPR_MAX);
	}
	if (n->exmax != NULL && num_cmp(x, n->exmax) >= 0) {
		ok = false;
		fail_limit(c, "exclusiveMaximum", x,
		    " is greater than or equal to the maximum of ", n->exmax, REPR_MAX);
	}
	if (n->multiple != NULL && !multiple_ok(x, n->multiple)) {
		ok = false;
		fail_limit(c, "multipleOf", x, " is not a multiple of ", n->multiple, REPR_MAX);
	}
	return ok;
}

static bool
v_string(struct vctx *c, const struct node *n, json_object *x)
{
	const char	*s = json_object_get_string(x);
	size_t		 len = json_object_get_string_len(x);
	bool		 ok = true;

	if (n->min_len >= 0 || n->max_len >= 0) {
		long chars = utf8_chars(s, len);
		if (chars < 0)
			chars = len;
		if (n->min_len >= 0 && chars < n->min_len) {
			ok = false;
			fail_simple(c, "minLength", x, " is too short");
		}
		if (n->max_len >= 0 && chars > n->max_len) {
			ok = false;
			fail_simple(c, "maxLength", x, " is too long");
		}
		if (!ok && c->quiet)
			return false;
	}
	if (n->pattern != NULL && !re_match(c, n->pattern, s, len)) {
		struct buf b;
		ok = false;
		if (MSG_START(b, x)) {
			buf_puts(&b, " does not match ");
			repr_str(&b, n->pattern_src, strlen(n->pattern_src));
			add_error(c, "pattern", &b);
		}
	}
	/* no format allows a NUL, which js_format_check cannot see */
	if (n->format != NULL && (c->s->flags & JS_FORMAT_ASSERT) &&
	    (js_format_check(n->format, s) == 0 ||
	    (strlen(s) != len && js_format_check(n->format, "") >= 0))) {
		struct buf b;
		ok = false;
		if (MSG_START(b, x)) {
			buf_puts(&b, " is not a ");
			repr_str(&b, n->format, strlen(n->format));
			add_error(c, "format", &b);
		}
	}
	return ok;
}

/* Runs sub in quiet mode: only whether x is valid. */
static bool
v_quiet(struct vctx *c, const struct node *sub, json_object *x, struct ann *a)
{
	bool ok;

	c->quiet++;
	ok = v_node(c, sub, x, a);
	c->quiet--;
	return ok;
}

static bool
v_array(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	size_t	len = json_object_array_length(x);
	bool	ok = true;

	if (n->min_items >= 0 && len < (size_t)n->min_items) {
		ok = false;
		fail_simple(c, "minItems", x, " is too short");
	}
	if (n->max_items >= 0 && len > (size_t)n->max_items) {
		ok = false;
		fail_simple(c, "maxItems", x, " is too long");
	}
	if (n->unique) {
		for (size_t i = 0; i < len && ok; i++)
			for (size_t j = i + 1; j < len; j++)
				if (json_eq(json_object_array_get_idx(x, i),
				    json_object_array_get_idx(x, j))) {
					ok = false;
					fail_simple(c, "uniqueItems", x, " has non-unique elements");
					break;
				}
	}
	if (!ok && c->quiet)
		return false;
	for (size_t i = 0; i < len && i < n->nprefix; i++) {
		path_push(c, NULL, i);
		if (!v_node(c, n->prefix[i], json_object_array_get_idx(x, i), NULL))
			ok = false;
		c->npath--;
		if (a != NULL)
			a->mark[i] = 1;
		if (!ok && c->quiet)
			return false;
	}
	if (n->items != NULL && n->items->boolean == 0 && len > n->nprefix) {
		ok = false;
		if (n->nprefix == 0)
			fail_simple(c, "items", x, " is expected to be empty");
		else
			fail_simple(c, "items", x, " has %zu items, expected at most %zu",
			    len, n->nprefix);
	} else if (n->items != NULL) {
		for (size_t i = n->nprefix; i < len; i++) {
			path_push(c, NULL, i);
			if (!v_node(c, n->items, json_object_array_get_idx(x, i), NULL))
				ok = false;
			c->npath--;
			if (a != NULL)
				a->mark[i] = 1;
			if (!ok && c->quiet)
				return false;
		}
	}
	if (n->contains != NULL) {
		size_t matched = 0;
		for (size_t i = 0; i < len; i++)
			if (v_quiet(c, n->contains, json_object_array_get_idx(x, i), NULL)) {
				matched++;
				if (a != NULL)
					a->mark[i] = 1;
			}
		if (n->min_contains > 0 && matched == 0 && n->min_contains == 1) {
			ok = false;
			fail_simple(c, "contains", x,
			    " does not contain items matching the given schema");
		} else if (matched < (size_t)n->min_contains) {
			ok = false;
			fail_simple(c, "minContains", x, " has too few items matching the "
			    "given schema (expected at least %lld but only %zu matched)",
			    (long long)n->min_contains, matched);
		}
		if (n->max_contains >= 0 && matched > (size_t)n->max_contains) {
			ok = false;
			fail_simple(c, "maxContains", x, " has too many items matching the "
			    "given schema (expected at most %lld)", (long long)n->max_contains);
		}
	}
	return ok;
}

static const struct prop *
find_prop(const struct node *n, const char *k)
{
	size_t lo = 0, hi = n->nprops;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(k, n->props[mid].name);
		if (r == 0)
			return &n->props[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* "('a', 'b' were unexpected)" */
static void
unexpected_list(struct buf *b, const char **keys, size_t n)
{
	buf_puts(b, "(");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(b, ", ");
		repr_str(b, keys[i], strlen(keys[i]));
	}
	buf_puts(b, n == 1 ? " was unexpected)" : " were unexpected)");
}

static bool
v_required(struct vctx *c, const struct node *n, json_object *x)
{
	bool ok = true;

	for (size_t i = 0; i < json_object_array_length(n->required); i++) {
		json_object *k = json_object_array_get_idx(n->required, i);
		struct buf b;
		if (!json_object_is_type(k, json_type_string) ||
		    json_object_object_get_ex(x, json_object_get_string(k), NULL))
			continue;
		ok = false;
		if (c->quiet)
			return false;
		buf_init(&b);
		js_repr(&b, k, REPR_MAX);
		buf_puts(&b, " is a required property");
		add_error(c, "required", &b);
	}
	return ok;
}

static bool
v_dependent(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	bool ok = true;

	for (size_t i = 0; i < n->ndepreq; i++) {
		json_object *req = n->depreq[i].req;
		if (!json_object_is_type(req, json_type_array) ||
		    !json_object_object_get_ex(x, n->depreq[i].name, NULL))
			continue;
		for (size_t j = 0; j < json_object_array_length(req); j++) {
			json_object *k = json_object_array_get_idx(req, j);
			struct buf b;
			if (!json_object_is_type(k, json_type_string) ||
			    json_object_object_get_ex(x, json_object_get_string(k), NULL))
				continue;
			ok = false;
			if (c->quiet)
				return false;
			buf_init(&b);
			js_repr(&b, k, REPR_MAX);
			buf_puts(&b, " is a dependency of ");
			repr_str(&b, n->depreq[i].name, strlen(n->depreq[i].name));
			add_error(c, "dependentRequired", &b);
		}
	}
	for (size_t i = 0; i < n->ndepsch; i++) {
		if (json_object_object_get_ex(x, n->depsch[i].name, NULL) &&
		    !v_node(c, n->depsch[i].n, x, a)) {
			ok = false;
			if (c->quiet)
				return false;
		}
	}
	return ok;
}

static bool
v_object(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	size_t		 len = json_object_object_length(x), i = 0, nextra = 0;
	const char	*extra_stack[16], **extra = extra_stack;
	bool		 ok = true;

	if (n->min_props >= 0 && len < (size_t)n->min_props) {
		ok = false;
		fail_simple(c, "minProperties", x, " does not have enough properties");
	}
	if (n->max_props >= 0 && len > (size_t)n->max_props) {
		ok = false;
		fail_simple(c, "maxProperties", x, " has too many properties");
	}
	if (n->required != NULL && !v_required(c, n, x))
		ok = false;
	if (!ok && c->quiet)
		return false;
	if (n->nprops == 0 && n->npats == 0 && n->addl == NULL && n->propnames == NULL)
		goto deps;
	FOREACH_PROP(x, e) {
		const char	*k = PROP_KEY(e);
		json_object	*v = PROP_VAL(e);
		const struct prop *p = find_prop(n, k);
		bool		 seen = p != NULL;

		path_push(c, k, 0);
		if (p != NULL && !v_node(c, p->n, v, NULL))
			ok = false;
		for (size_t j = 0; j < n->npats; j++)
			if (re_match(c, n->pats[j].re, k, strlen(k))) {
				seen = true;
				if (!v_node(c, n->pats[j].n, v, NULL))
					ok = false;
			}
		if (!seen && n->addl != NULL) {
			seen = true;
			if (n->addl->boolean == 0) {
				ok = false;
				if (extra == extra_stack && nextra == 16) {
					extra = xmalloc(len * sizeof(*extra));
					memcpy(extra, extra_stack, sizeof(extra_stack));
				}
				extra[nextra++] = k;
			} else if (!v_node(c, n->addl, v, NULL))
				ok = false;
		}
		c->npath--;
		if (n->propnames != NULL) {
			/* one string object per validation, refilled; a nested
			 * propertyNames (a schema about names' names) cannot
			 * occur since names are strings */
			if (c->name == NULL)
				c->name = json_object_new_string(k);
			else
				json_object_set_string(c->name, k);
			if (!v_node(c, n->propnames, c->name, NULL))
				ok = false;
		}
		if (seen && a != NULL)
			a->mark[i] = 1;
		i++;
		if (!ok && c->quiet)
			break;
	}
	if (nextra > 0 && !c->quiet) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "Additional properties are not allowed ");
		unexpected_list(&b, extra, nextra);
		add_error(c, "additionalProperties", &b);
	}
	if (extra != extra_stack)
		free(extra);
	if (!ok && c->quiet)
		return false;
deps:
	if (!v_dependent(c, n, x, a))
		ok = false;
	return ok;
}

static bool
v_unevaluated(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	bool ok = true;
	size_t i = 0, nextra = 0;
	const char **extra;
	struct buf b;

	if (n->uneval_props != NULL && json_object_is_type(x, json_type_object)) {
		extra = xcalloc(a->n ? a->n : 1, sizeof(*extra));
		FOREACH_PROP(x, e) {
			if (!a->mark[i]) {
				path_push(c, PROP_KEY(e), 0);
				if (n->uneval_props->boolean == 0) {
					ok = false;
					extra[nextra++] = PROP_KEY(e);
				} else if (!v_node(c, n->uneval_props, PROP_VAL(e), NULL))
					ok = false;
				c->npath--;
				a->mark[i] = 1;
			}
			i++;
		}
		if (nextra > 0 && !c->quiet) {
			buf_init(&b);
			buf_puts(&b, "Unevaluated properties are not allowed ");
			unexpected_list(&b, extra, nextra);
			add_error(c, "unevaluatedProperties", &b);
		}
		free(extra);
	}
	if (n->uneval_items != NULL && json_object_is_type(x, json_type_array)) {
		bool first = true;
		buf_init(&b);
		for (i = 0; i < a->n; i++) {
			if (a->mark[i])
				continue;
			a->mark[i] = 1;
			if (n->uneval_items->boolean == 0) {
				ok = false;
				if (!c->quiet) {
					buf_puts(&b, first ? "Unevaluated items are not allowed ("
					    : ", ");
					js_repr(&b, json_object_array_get_idx(x, i), REPR_MAX);
				}
				first = false;
				continue;
			}
			path_push(c, NULL, i);
			if (!v_node(c, n->uneval_items, json_object_array_get_idx(x, i), NULL))
				ok = false;
			c->npath--;
		}
		if (!first && !c->quiet) {
			buf_puts(&b, " were unexpected)");
			add_error(c, "unevaluatedItems", &b);
		} else
			buf_free(&b);
	}
	return ok;
}

static bool
v_anyof(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	size_t	matched = 0;

	for (size_t i = 0; i < n->nanyof; i++) {
		struct ann sub;
		if (a == NULL) {
			if (v_quiet(c, n->anyof[i], x, NULL))
				return true;
			continue;
		}
		/* every branch contributes annotations, so no short cut */
		ann_init(&sub, x);
		if (v_quiet(c, n->anyof[i], x, &sub)) {
			matched++;
			ann_merge(a, &sub);
		}
		free(sub.mark);
	}
	if (matched > 0)
		return true;
	fail_simple(c, "anyOf", x, " is not valid under any of the given schemas");
	return false;
}

static bool
v_oneof(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	size_t	matched = 0, first = 0, second = 0;
	struct ann sub, keep = { NULL, 0 };

	for (size_t i = 0; i < n->noneof && matched < 2; i++) {
		if (a != NULL)
			ann_init(&sub, x);
		if (v_quiet(c, n->oneof[i], x, a != NULL ? &sub : NULL)) {
			if (matched++ == 0) {
				first = i;
				if (a != NULL) {
					keep = sub;
					continue;
				}
			} else
				second = i;
		}
		if (a != NULL)
			free(sub.mark);
	}
	if (matched == 1) {
		if (a != NULL)
			ann_merge(a, &keep);
		free(keep.mark);
		return true;
	}
	free(keep.mark);
	if (matched == 0)
		fail_simple(c, "oneOf", x, " is not valid under any of the given schemas");
	else {
		struct buf b;
		if (MSG_START(b, x)) {
			buf_puts(&b, " is valid under each of ");
			js_repr(&b, n->oneof[first]->src, REPR_MAX);
			buf_puts(&b, ", ");
			js_repr(&b, n->oneof[second]->src, REPR_MAX);
			add_error(c, "oneOf", &b);
		}
	}
	return false;
}

static bool
v_applicators(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	bool ok = true;

	for (size_t i = 0; i < n->nallof; i++)
		if (!v_node(c, n->allof[i], x, a)) {
			ok = false;
			if (c->quiet)
				return false;
		}
	if (n->nanyof > 0 && !v_anyof(c, n, x, a)) {
		ok = false;
		if (c->quiet)
			return false;
	}
	if (n->noneof > 0 && !v_oneof(c, n, x, a)) {
		ok = false;
		if (c->quiet)
			return false;
	}
	if (n->not != NULL && v_quiet(c, n->not, x, NULL)) {
		struct buf b;
		ok = false;
		if (MSG_START(b, x)) {
			buf_puts(&b, " should not be valid under ");
			js_repr(&b, n->not->src, REPR_MAX);
			add_error(c, "not", &b);
		}
		if (c->quiet)
			return false;
	}
	if (n->if_ != NULL) {
		struct ann sub;
		bool cond;
		if (a != NULL)
			ann_init(&sub, x);
		cond = v_quiet(c, n->if_, x, a != NULL ? &sub : NULL);
		if (a != NULL) {
			if (cond)
				ann_merge(a, &sub);
			free(sub.mark);
		}
		if (cond && n->then_ != NULL && !v_node(c, n->then_, x, a))
			ok = false;
		if (!cond && n->else_ != NULL && !v_node(c, n->else_, x, a))
			ok = false;
	}
	return ok;
}

/* The target of a $dynamicRef: the outermost resource in the dynamic
 * scope with a $dynamicAnchor of that name. */
static const struct node *
dynamic_target(struct vctx *c, const struct node *n)
{
	for (size_t i = 0; i < c->nscope; i++) {
		json_object *s = hm_get(&c->scope[i]->dyn, n->dynanchor);
		const struct node *t;
		if (s != NULL && (t = hm_get(&c->s->reg->nodes, s)) != NULL)
			return t;
	}
	return n->dynref;
}

static bool
v_body(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	bool ok = true;

	if (n->ref != NULL && !v_node(c, n->ref, x, a)) {
		ok = false;
		if (c->quiet)
			return false;
	}
	if (n->dynref != NULL && !v_node(c, n->dynanchor != NULL ?
	    dynamic_target(c, n) : n->dynref, x, a)) {
		ok = false;
		if (c->quiet)
			return false;
	}
	if (n->types != 0 && !type_ok(n->types, x)) {
		struct buf b;
		if (!MSG_START(b, x))
			return false;
		buf_puts(&b, " is not of type ");
		for (int k = 0, first = 1; type_names[k] != NULL; k++)
			if (n->types & (1u << k)) {
				buf_puts(&b, first ? "'" : ", '");
				buf_puts(&b, type_names[k]);
				buf_puts(&b, "'");
				first = 0;
			}
		add_error(c, "type", &b);
		ok = false;
	}
	if (n->has_const && !json_eq(n->constv, x)) {
		ok = false;
		fail_simple(c, "const", n->constv, " was expected");
	}
	if (n->enumv != NULL) {
		size_t i, cnt = json_object_array_length(n->enumv);
		for (i = 0; i < cnt; i++)
			if (json_eq(json_object_array_get_idx(n->enumv, i), x))
				break;
		if (i == cnt) {
			ok = false;
			fail_limit(c, "enum", x, " is not one of ", n->enumv, 0);
		}
	}
	if (!ok && c->quiet)
		return false;
	switch (json_object_get_type(x)) {
	case json_type_int:
	case json_type_double:
		ok = v_number(c, n, x) && ok;
		break;
	case json_type_string:
		ok = v_string(c, n, x) && ok;
		break;
	case json_type_array:
		ok = v_array(c, n, x, a) && ok;
		break;
	case json_type_object:
		ok = v_object(c, n, x, a) && ok;
		break;
	default:
		break;
	}
	if (!ok && c->quiet)
		return false;
	return v_applicators(c, n, x, a) && ok;
}

static bool
v_node(struct vctx *c, const struct node *n, json_object *x, struct ann *a)
{
	struct ann	 own;
	bool		 ok, pushed = false;

	if (n->boolean >= 0) {
		if (n->boolean == 0) {
			struct buf b;
			if (!c->quiet) {
				buf_init(&b);
				buf_puts(&b, "False schema does not allow ");
				js_repr(&b, x, REPR_MAX);
				add_error(c, "false", &b);
			}
		}
		return n->boolean;
	}
	if (c->depth >= EVAL_DEPTH_MAX) {
		fail_simple(c, "$ref", x, " is nested too deeply (recursive schema?)");
		return false;
	}
	c->depth++;
	if (c->nscope == 0 || c->scope[c->nscope - 1] != n->res) {
		if (c->nscope == c->scopecap)
			c->scope = grow(c->scope, &c->scopecap, sizeof(*c->scope),
			    c->scopebuf);
		c->scope[c->nscope++] = n->res;
		pushed = true;
	}
	if (n->uneval && (json_object_is_type(x, json_type_object) ||
	    json_object_is_type(x, json_type_array))) {
		/* Its own record of what was evaluated: a sibling's properties
		 * do not count for this schema's unevaluated*. */
		ann_init(&own, x);
		ok = v_body(c, n, x, &own);
		if (!ok && c->quiet) {
			free(own.mark);
			goto out;
		}
		ok = v_unevaluated(c, n, x, &own) && ok;
		if (ok)
			ann_merge(a, &own);
		free(own.mark);
	} else
		ok = v_body(c, n, x, a);
out:
	if (pushed)
		c->nscope--;
	c->depth--;
	return ok;
}

static bool
validate(const struct js_schema *s, json_object *x, struct js_errors *out)
{
	struct vctx	c;
	bool		ok;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.out = out;
	c.quiet = out == NULL;
	c.path = c.pathbuf;
	c.pathcap = sizeof(c.pathbuf) / sizeof(c.pathbuf[0]);
	c.scope = c.scopebuf;
	c.scopecap = sizeof(c.scopebuf) / sizeof(c.scopebuf[0]);
	ok = v_node(&c, s->root, x, NULL);
	if (c.path != c.pathbuf)
		free(c.path);
	if (c.scope != c.scopebuf)
		free(c.scope);
	pcre2_match_data_free(c.md);
	json_object_put(c.name);
	if (!ok && out != NULL && c.nerr == 0) {
		/* cannot happen, but a failure must carry a reason */
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "invalid");
		add_error(&c, "invalid", &b);
	}
	return ok;
}

int
js_validate(const struct js_schema *s, json_object *x, struct js_errors *out)
{
	size_t before = out != NULL ? out->n : 0;

	if (validate(s, x, out))
		return 0;
	if (out == NULL)
		return 1;
	return out->n - before > 0 ? (int)(out->n - before) : 1;
}

bool
js_is_valid(const struct js_schema *s, json_object *x)
{
	return validate(s, x, NULL);
}
