/* pyunicode.c - Python's str rules the search parser needs (pyunicode.h). */
#include <string.h>

#include "pyunicode.h"
#include "pyunicode_tables.h"
#include "util.h"

#define NRANGES(t)	(sizeof(t) / sizeof((t)[0]))

/* Index of the range of t (sorted, disjoint) holding cp, or -1. */
static long
range_find(const uint32_t (*t)[2], size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < t[mid][0])
			hi = mid;
		else if (cp > t[mid][1])
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

uint32_t
utf8_next(const char **sp)
{
	const unsigned char *s = (const unsigned char *)*sp;
	uint32_t c = s[0];
	int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;

	if (n > 0)
		c &= 0x3f >> n;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {	/* not UTF-8 after all: one byte */
			n = 0;
			c = s[0];
			break;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*sp += n + 1;
	return c;
}

bool
py_isspace(uint32_t cp)
{
	return range_find(py_space, NRANGES(py_space), cp) >= 0;
}

bool
py_isprintable(uint32_t cp)
{
	return range_find(py_printable, NRANGES(py_printable), cp) >= 0;
}

int
py_digit(uint32_t cp)
{
	long i = range_find(py_digits, NRANGES(py_digits), cp);

	return i < 0 ? -1 : (int)((cp - py_digits[i][0]) % 10);
}

size_t
py_len(const char *s)
{
	size_t n = 0;

	while (*s) {
		utf8_next(&s);
		n++;
	}
	return n;
}

void
py_strip(const char *s, size_t len, size_t *start, size_t *end)
{
	const char *p = s, *e = s + len, *first = e, *last = s;

	/* Scan once: the first and the end of the last non-space. */
	while (p < e) {
		const char *c = p;
		if (!py_isspace(utf8_next(&p))) {
			if (first == e)
				first = c;
			last = p;
		}
	}
	if (first == e)
		first = last = s;
	*start = (size_t)(first - s);
	*end = (size_t)(last - s);
}

/* CPython's unicode_repr: single quotes unless the text holds a ' and no ";
 * backslash, the quote, \t \n \r and what is not printable escaped. */
char *
py_repr(struct arena *a, const char *s)
{
	struct buf b;
	char quote = strchr(s, '\'') != NULL && strchr(s, '"') == NULL ? '"' : '\'';
	char *out;

	buf_init(&b);
	buf_append(&b, &quote, 1);
	while (*s) {
		const char *c = s;
		uint32_t cp = utf8_next(&s);

		if (cp == (uint32_t)quote || cp == '\\')
			buf_printf(&b, "\\%c", (char)cp);
		else if (cp == '\t')
			buf_puts(&b, "\\t");
		else if (cp == '\n')
			buf_puts(&b, "\\n");
		else if (cp == '\r')
			buf_puts(&b, "\\r");
		else if (py_isprintable(cp))
			buf_append(&b, c, (size_t)(s - c));
		else if (cp <= 0xff)
			buf_printf(&b, "\\x%02x", (unsigned)cp);
		else if (cp <= 0xffff)
			buf_printf(&b, "\\u%04x", (unsigned)cp);
		else
			buf_printf(&b, "\\U%08x", (unsigned)cp);
	}
	buf_append(&b, &quote, 1);
	buf_append(&b, "", 1);
	out = arena_strdup(a, b.data);
	buf_free(&b);
	return out;
}
