/*
 * zarrsum.c - the dandi-zarr-checksum (see zarrsum.h).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util.h"
#include "zarrsum.h"

/* The S3 key of an entry is <prefix>/<36-char uuid>/<path>, at most 1024
 * bytes (S3's limit), with the default prefix "zarr". */
#define ZARR_PATH_MAX	(1024 - 5 - 36 - 1)

static int
entry_cmp(const void *a, const void *b)
{
	const struct zarrsum_entry *x = a, *y = b;

	/* Python str order = code point order = bytewise UTF-8 order. */
	return strcmp(x->name, y->name);
}

/* s as Python's json.dumps(ensure_ascii=True) writes a string. */
static void
json_ascii(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[16];

	buf_append(b, "\"", 1);
	while (*p) {
		uint32_t c = *p;
		int extra = 0;

		if (c < 0x80)
			extra = 0;
		else if ((c & 0xe0) == 0xc0)
			c &= 0x1f, extra = 1;
		else if ((c & 0xf0) == 0xe0)
			c &= 0x0f, extra = 2;
		else if ((c & 0xf8) == 0xf0)
			c &= 0x07, extra = 3;
		else
			c = 0xfffd;	/* not UTF-8: never from S3 */
		p++;
		for (int i = 0; i < extra; i++) {
			if ((*p & 0xc0) != 0x80) {
				c = 0xfffd;
				break;
			}
			c = (c << 6) | (*p++ & 0x3f);
		}
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); continue;
		case '\\': buf_append(b, "\\\\", 2); continue;
		case '\b': buf_append(b, "\\b", 2); continue;
		case '\f': buf_append(b, "\\f", 2); continue;
		case '\n': buf_append(b, "\\n", 2); continue;
		case '\r': buf_append(b, "\\r", 2); continue;
		case '\t': buf_append(b, "\\t", 2); continue;
		}
		if (c >= 0x20 && c <= 0x7e) {
			char ch = (char)c;
			buf_append(b, &ch, 1);
		} else if (c < 0x10000) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
			buf_append(b, tmp, 6);
		} else {
			c -= 0x10000;
			snprintf(tmp, sizeof(tmp), "\\u%04x\\u%04x",
			    (unsigned)(0xd800 | (c >> 10)), (unsigned)(0xdc00 | (c & 0x3ff)));
			buf_append(b, tmp, 12);
		}
	}
	buf_append(b, "\"", 1);
}

static void
json_entries(struct buf *b, const struct zarrsum_entry *e, size_t n)
{
	buf_append(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, i ? ",{\"digest\":" : "{\"digest\":");
		json_ascii(b, e[i].digest);
		buf_puts(b, ",\"name\":");
		json_ascii(b, e[i].name);
		buf_printf(b, ",\"size\":%" PRId64 "}", e[i].size);
	}
	buf_append(b, "]", 1);
}

static int
sort_unique(struct zarrsum_entry *e, size_t n)
{
	if (n > 1)
		qsort(e, n, sizeof(*e), entry_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(e[i - 1].name, e[i].name) == 0)
			return -1;
	return 0;
}

char *
zarrsum_dir_json(struct zarrsum_entry *files, size_t nfiles,
    struct zarrsum_entry *dirs, size_t ndirs)
{
	struct buf b;

	if (sort_unique(files, nfiles) != 0 || sort_unique(dirs, ndirs) != 0)
		return NULL;
	buf_init(&b);
	buf_puts(&b, "{\"directories\":");
	json_entries(&b, dirs, ndirs);
	buf_puts(&b, ",\"files\":");
	json_entries(&b, files, nfiles);
	buf_append(&b, "}", 2);	/* with the NUL */
	return b.data;
}

int
zarrsum_dir(struct zarrsum_entry *files, size_t nfiles,
    struct zarrsum_entry *dirs, size_t ndirs, char out[ZARRSUM_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[33];
	int64_t count = (int64_t)nfiles, size = 0;
	char *json = zarrsum_dir_json(files, nfiles, dirs, ndirs);

	if (json == NULL)
		return -1;
	if (EVP_Digest(json, strlen(json), md, &mdlen, EVP_md5(), NULL) != 1) {
		free(json);
		return -1;
	}
	free(json);
	hex_encode(md, 16, hex);
	for (size_t i = 0; i < nfiles; i++)
		size += files[i].size;
	for (size_t i = 0; i < ndirs; i++) {
		size += dirs[i].size;
		count += dirs[i].count;
	}
	snprintf(out, ZARRSUM_LEN, "%s-%" PRId64 "--%" PRId64, hex, count, size);
	return 0;
}

bool
zarrsum_parse(const char *s, char md5[33], int64_t *count, int64_t *size)
{
	const char *p = s;
	char *end;

	for (int i = 0; i < 32; i++)
		if (!isdigit((unsigned char)p[i]) && !(p[i] >= 'a' && p[i] <= 'f'))
			return false;
	if (p[32] != '-' || !isdigit((unsigned char)p[33]))
		return false;
	long long c = strtoll(p + 33, &end, 10);
	if (end[0] != '-' || end[1] != '-' || !isdigit((unsigned char)end[2]))
		return false;
	long long z = strtoll(end + 2, NULL, 10);
	if (md5 != NULL) {
		memcpy(md5, p, 32);
		md5[32] = '\0';
	}
	if (count)
		*count = c;
	if (size)
		*size = z;
	return true;
}

/* ---- the streaming tree ---- */

struct vec {
	struct zarrsum_entry	*e;
	size_t			 n, cap;
};

struct level {
	char		*name;
	struct vec	 files, dirs;
};

struct zarrsum {
	struct level	*lv;		/* lv[0] is the root */
	size_t		 depth, cap;	/* levels open */
	int64_t		 leaves;
	char		 err[160];
};

static void
vec_push(struct vec *v, const char *name, const char *digest, int64_t size, int64_t count)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		v->e = xrealloc(v->e, v->cap * sizeof(*v->e));
	}
	struct zarrsum_entry *e = &v->e[v->n++];
	e->name = xstrdup(name);
	snprintf(e->digest, sizeof(e->digest), "%s", digest);
	e->size = size;
	e->count = count;
}

static void
vec_free(struct vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->e[i].name);
	free(v->e);
	memset(v, 0, sizeof(*v));
}

static void
level_push(struct zarrsum *z, const char *name)
{
	if (z->depth == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 16;
		z->lv = xrealloc(z->lv, z->cap * sizeof(*z->lv));
	}
	struct level *l = &z->lv[z->depth++];
	memset(l, 0, sizeof(*l));
	l->name = xstrdup(name);
}

struct zarrsum *
zarrsum_new(void)
{
	struct zarrsum *z = xcalloc(1, sizeof(*z));

	level_push(z, "");
	return z;
}

void
zarrsum_free(struct zarrsum *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->depth; i++) {
		free(z->lv[i].name);
		vec_free(&z->lv[i].files);
		vec_free(&z->lv[i].dirs);
	}
	free(z->lv);
	free(z);
}

const char *
zarrsum_error(const struct zarrsum *z)
{
	return z->err;
}

int64_t
zarrsum_leaves(const struct zarrsum *z)
{
	return z->leaves;
}

/* Directories come in the order of "<name>/" in a listing. */
static int
slash_cmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	unsigned char x = *a ? (unsigned char)*a : '/', y = *b ? (unsigned char)*b : '/';
	if (x != y)
		return x < y ? -1 : 1;
	if (*a == '\0' && *b == '\0')
		return 0;
	/* one ended (its '/' equals the other's '/'): compare what follows */
	return *a == '\0' ? (b[1] ? -1 : 0) : (a[1] ? 1 : 0);
}

/* Closes the innermost open directory into its parent. */
static int
level_close(struct zarrsum *z)
{
	struct level *l = &z->lv[z->depth - 1];
	char d[ZARRSUM_LEN];
	int64_t count = 0, size = 0;

	if (zarrsum_dir(l->files.e, l->files.n, l->dirs.e, l->dirs.n, d) != 0) {
		snprintf(z->err, sizeof(z->err), "duplicate entry in directory %s", l->name);
		return -1;
	}
	zarrsum_parse(d, NULL, &count, &size);
	struct level *parent = &z->lv[z->depth - 2];
	vec_push(&parent->dirs, l->name, d, size, count);
	free(l->name);
	vec_free(&l->files);
	vec_free(&l->dirs);
	z->depth--;
	return 0;
}

int
zarrsum_add(struct zarrsum *z, const char *path, int64_t size, const char *md5)
{
	char *copy = xstrdup(path), *save = NULL, *s;
	char **seg = NULL;
	size_t nseg = 0, cap = 0;
	int rc = -1;

	for (s = strtok_r(copy, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0)
			continue;
		if (nseg == cap) {
			cap = cap ? cap * 2 : 16;
			seg = xrealloc(seg, cap * sizeof(*seg));
		}
		seg[nseg++] = s;
	}
	if (nseg == 0) {
		snprintf(z->err, sizeof(z->err), "empty path");
		goto out;
	}
	/* Keep the open directories this path shares, close the rest. */
	size_t keep = 0;
	while (keep + 1 < z->depth && keep < nseg - 1 && strcmp(z->lv[keep + 1].name, seg[keep]) == 0)
		keep++;
	while (z->depth > keep + 1)
		if (level_close(z) != 0)
			goto out;
	for (size_t i = keep; i < nseg - 1; i++) {
		struct vec *sib = &z->lv[z->depth - 1].dirs;
		if (sib->n > 0 && slash_cmp(seg[i], sib->e[sib->n - 1].name) <= 0) {
			snprintf(z->err, sizeof(z->err), "keys out of order at %s", path);
			goto out;
		}
		level_push(z, seg[i]);
	}
	vec_push(&z->lv[z->depth - 1].files, seg[nseg - 1], md5, size, 1);
	z->leaves++;
	rc = 0;
out:
	free(seg);
	free(copy);
	return rc;
}

int
zarrsum_finish(struct zarrsum *z, char out[ZARRSUM_LEN])
{
	while (z->depth > 1)
		if (level_close(z) != 0)
			return -1;
	struct level *r = &z->lv[0];
	if (zarrsum_dir(r->files.e, r->files.n, r->dirs.e, r->dirs.n, out) != 0) {
		snprintf(z->err, sizeof(z->err), "duplicate entry at the root");
		return -1;
	}
	vec_free(&r->files);
	vec_free(&r->dirs);
	return 0;
}

/* ---- saved state: one line per level and entry, names %-escaped ---- */

static void
put_name(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%' || c <= 0x20 || c == 0x7f)
			buf_printf(b, "%%%02x", c);
		else
			buf_append(b, (const char *)&c, 1);
	}
}

char *
zarrsum_save(const struct zarrsum *z)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "zarrsum 1 %" PRId64 "\n", z->leaves);
	for (size_t i = 0; i < z->depth; i++) {
		const struct level *l = &z->lv[i];
		buf_puts(&b, "L ");
		put_name(&b, l->name);
		buf_puts(&b, "\n");
		for (int k = 0; k < 2; k++) {
			const struct vec *v = k ? &l->dirs : &l->files;
			for (size_t j = 0; j < v->n; j++) {
				buf_printf(&b, "%c %" PRId64 " %" PRId64 " %s ", k ? 'D' : 'F',
				    v->e[j].size, v->e[j].count, v->e[j].digest);
				put_name(&b, v->e[j].name);
				buf_puts(&b, "\n");
			}
		}
	}
	buf_append(&b, "", 1);
	return b.data;
}

struct zarrsum *
zarrsum_load(const char *text)
{
	struct zarrsum *z = xcalloc(1, sizeof(*z));
	char *copy = xstrdup(text), *save = NULL, *line;
	long long leaves;
	int n = 0;

	line = strtok_r(copy, "\n", &save);
	if (line == NULL || sscanf(line, "zarrsum 1 %lld%n", &leaves, &n) != 1 || line[n] != '\0')
		goto bad;
	z->leaves = leaves;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *name;
		long long size = 0, count = 0;
		char digest[ZARRSUM_LEN];

		if (line[0] == 'L' && line[1] == ' ') {
			name = line + 2;
		} else if ((line[0] == 'F' || line[0] == 'D') && line[1] == ' ') {
			if (z->depth == 0 || sscanf(line + 2, "%lld %lld %79s %n", &size, &count, digest, &n) != 3)
				goto bad;
			name = line + 2 + n;
		} else
			goto bad;
		if (url_decode(name, false) != 0)
			goto bad;
		if (line[0] == 'L')
			level_push(z, name);
		else
			vec_push(line[0] == 'F' ? &z->lv[z->depth - 1].files : &z->lv[z->depth - 1].dirs,
			    name, digest, size, count);
	}
	if (z->depth == 0)
		goto bad;
	free(copy);
	return z;
bad:
	free(copy);
	zarrsum_free(z);
	return NULL;
}

const char *
zarrsum_path_error(const char *path, bool allow_empty)
{
	size_t len = strlen(path);
	const char *p, *seg;

	/* The original's rule (backslashes count as separators). */
	for (seg = p = path;; p++) {
		if (*p == '/' || *p == '\\' || *p == '\0') {
			if (p - seg == 2 && seg[0] == '.' && seg[1] == '.')
				return "Zarr path cannot contain \"..\" components.";
			if (*p == '\0')
				break;
			seg = p + 1;
		}
	}
	if (allow_empty)
		return NULL;
	if (len == 0)
		return "This field may not be blank.";
	if (len > ZARR_PATH_MAX)
		return "Zarr path cannot be longer than 982 bytes.";
	if (path[0] == '/')
		return "Zarr path cannot start with a slash.";
	if (utf8_chars(path, len) < 0)
		return "Zarr path must be valid UTF-8.";
	for (seg = p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			if (p == seg || (p - seg == 1 && seg[0] == '.'))
				return "Zarr path cannot contain empty or \".\" components.";
			if (*p == '\0')
				break;
			seg = p + 1;
		}
	}
	return NULL;
}
