/*
 * emit.c - streaming JSON and YAML writers (see emit.h for the contract).
 *
 * The YAML side reproduces, for the values JSON can hold, what libyaml's
 * emitter writes under PyYAML's CSafeDumper, since the manifests of the
 * original are produced that way and clients may compare bytes: the same
 * scalar analysis (which styles a string allows), the same style choice,
 * the same indentation bookkeeping (column, "whitespace" and "indention"
 * flags) and the same folding of long scalars past column 80.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "emit.h"

/* ---- output buffer -------------------------------------------------- */

void
emit_init(struct emit_out *o, size_t flush_at, emit_sink_fn sink, void *ctx)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->buf);
	o->flush_at = flush_at ? flush_at : 65536;
	o->sink = sink;
	o->ctx = ctx;
}

static void
emit_flush(struct emit_out *o)
{
	if (o->buf.len == 0)
		return;
	if (!o->failed && o->sink(o->ctx, o->buf.data, o->buf.len) != 0)
		o->failed = true;
	if (!o->failed)
		o->total += o->buf.len;
	o->buf.len = 0;
}

void
emit_write(struct emit_out *o, const char *data, size_t len)
{
	if (o->failed)
		return;
	buf_append(&o->buf, data, len);
	if (o->buf.len >= o->flush_at)
		emit_flush(o);
}

void
emit_puts(struct emit_out *o, const char *s)
{
	emit_write(o, s, strlen(s));
}

int
emit_finish(struct emit_out *o)
{
	emit_flush(o);
	return o->failed ? -1 : 0;
}

void
emit_free(struct emit_out *o)
{
	buf_free(&o->buf);
}

/* ---- numbers ---------------------------------------------------------- */

void
emit_float_repr(double d, char out[32])
{
	char tmp[40], digits[24], *e;
	int prec, nd = 0, exp10, decpt;
	size_t n = 0;

	if (isnan(d)) {
		snprintf(out, 32, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(out, 32, d < 0 ? "-inf" : "inf");
		return;
	}
	/* The fewest significant digits that read back as the same double. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
	e = strchr(tmp, 'e');
	exp10 = atoi(e + 1);
	for (char *p = tmp; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	decpt = exp10 + 1;
	if (tmp[0] == '-')
		out[n++] = '-';
	if (decpt <= -4 || decpt > 16) {
		out[n++] = digits[0];
		if (nd > 1) {
			out[n++] = '.';
			memcpy(out + n, digits + 1, (size_t)nd - 1);
			n += (size_t)nd - 1;
		}
		snprintf(out + n, 32 - n, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		return;
	}
	if (decpt <= 0) {
		out[n++] = '0';
		out[n++] = '.';
		for (int i = 0; i < -decpt; i++)
			out[n++] = '0';
		memcpy(out + n, digits, (size_t)nd);
		n += (size_t)nd;
	} else if (decpt >= nd) {
		memcpy(out + n, digits, (size_t)nd);
		n += (size_t)nd;
		for (int i = nd; i < decpt; i++)
			out[n++] = '0';
		out[n++] = '.';
		out[n++] = '0';
	} else {
		memcpy(out + n, digits, (size_t)decpt);
		n += (size_t)decpt;
		out[n++] = '.';
		memcpy(out + n, digits + decpt, (size_t)(nd - decpt));
		n += (size_t)(nd - decpt);
	}
	out[n] = '\0';
}

/* ---- JSON --------------------------------------------------------------- */

void
emit_json_string(struct emit_out *o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
	char esc[8];

	emit_write(o, "\"", 1);
	for (; p < end; p++) {
		const char *rep = NULL;
		size_t skip = 1;

		switch (*p) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				rep = esc;
			} else if (*p == 0xE2 && end - p >= 3 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
				/* Line and paragraph separators: escaped, as DRF does
				 * so the output is also valid JavaScript. */
				rep = p[2] == 0xA8 ? "\\u2028" : "\\u2029";
				skip = 3;
			}
		}
		if (rep == NULL)
			continue;
		emit_write(o, (const char *)run, (size_t)(p - run));
		emit_puts(o, rep);
		p += skip - 1;
		run = p + 1;
	}
	emit_write(o, (const char *)run, (size_t)(end - run));
	emit_write(o, "\"", 1);
}

static void
emit_json_number(struct emit_out *o, struct json_object *v)
{
	char num[32];

	if (json_object_is_type(v, json_type_double)) {
		emit_float_repr(json_object_get_double(v), num);
		emit_puts(o, num);
	} else
		emit_puts(o, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

void
emit_json_value(struct emit_out *o, struct json_object *v)
{
	bool first = true;

	switch (json_object_get_type(v)) {
	case json_type_null:
		emit_puts(o, "null");
		break;
	case json_type_boolean:
		emit_puts(o, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
	case json_type_double:
		emit_json_number(o, v);
		break;
	case json_type_string:
		emit_json_string(o, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_object:
		emit_write(o, "{", 1);
		json_object_object_foreach(v, key, val) {
			if (!first)
				emit_write(o, ",", 1);
			first = false;
			emit_json_string(o, key, strlen(key));
			emit_write(o, ":", 1);
			emit_json_value(o, val);
		}
		emit_write(o, "}", 1);
		break;
	case json_type_array:
		emit_write(o, "[", 1);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i > 0)
				emit_write(o, ",", 1);
			emit_json_value(o, json_object_array_get_idx(v, i));
		}
		emit_write(o, "]", 1);
		break;
	}
}

void
jw_init(struct json_writer *w, struct emit_out *o)
{
	memset(w, 0, sizeof(*w));
	w->out = o;
}

/* Before a value or a key: the comma unless it is the first at its level. */
static void
jw_sep(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && !w->first[w->depth - 1])
		emit_write(w->out, ",", 1);
	if (w->depth > 0)
		w->first[w->depth - 1] = false;
}

static void
jw_open(struct json_writer *w, bool array)
{
	jw_sep(w);
	emit_puts(w->out, array ? "[" : "{");
	if (w->depth < JW_DEPTH) {
		w->first[w->depth] = true;
		w->array[w->depth] = array;
	}
	w->depth++;
}

void
jw_begin_object(struct json_writer *w)
{
	jw_open(w, false);
}

void
jw_begin_array(struct json_writer *w)
{
	jw_open(w, true);
}

void
jw_end(struct json_writer *w)
{
	if (w->depth == 0)
		return;
	w->depth--;
	emit_puts(w->out, w->depth < JW_DEPTH && w->array[w->depth] ? "]" : "}");
}

void
jw_key(struct json_writer *w, const char *key)
{
	jw_sep(w);
	emit_json_string(w->out, key, strlen(key));
	emit_write(w->out, ":", 1);
	w->after_key = true;
}

void
jw_string(struct json_writer *w, const char *s)
{
	jw_sep(w);
	emit_json_string(w->out, s, strlen(s));
}

void
jw_value(struct json_writer *w, struct json_object *v)
{
	jw_sep(w);
	emit_json_value(w->out, v);
}

/* ---- YAML: implicit types (PyYAML's resolver) --------------------------- */

/* The YAML 1.1 patterns of PyYAML's resolver; each applies only to
 * scalars starting with one of its characters, as there (this matters:
 * the null pattern also matches a lone trailing newline). Compiled once. */
static const struct {
	const char	*first;		/* "" : the empty scalar */
	const char	*pattern;
} resolvers[] = {
	{ "yYnNtTfFoO", "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$" },
	{ "-+0123456789.", "^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
	    "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
	    "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
	    "|[-+]?\\.(?:inf|Inf|INF)"
	    "|\\.(?:nan|NaN|NAN))$" },
	{ "-+0123456789", "^(?:[-+]?0b[0-1_]+"
	    "|[-+]?0[0-7_]+"
	    "|[-+]?(?:0|[1-9][0-9_]*)"
	    "|[-+]?0x[0-9a-fA-F_]+"
	    "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$" },
	{ "<", "^(?:<<)$" },
	{ "~nN", "^(?:~|null|Null|NULL)$" },
	{ "0123456789", "^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
	    "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
	    "(?:[Tt]|[ \\t]+)[0-9][0-9]?"
	    ":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
	    "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$" },
	{ "=", "^(?:=)$" },
	{ "!&*", "^(?:!|&|\\*)$" },
};
#define NRESOLVERS (sizeof(resolvers) / sizeof(resolvers[0]))
static pcre2_code	*resolver_re[NRESOLVERS];
static pcre2_match_data	*resolver_md;

bool
yaml_resolves_non_string(const char *s, size_t len)
{
	if (len == 0)
		return true;	/* the empty plain scalar is null */
	if (resolver_md == NULL) {
		for (size_t i = 0; i < NRESOLVERS; i++) {
			int e;
			PCRE2_SIZE off;
			resolver_re[i] = pcre2_compile((PCRE2_SPTR)resolvers[i].pattern, PCRE2_ZERO_TERMINATED,
			    0, &e, &off, NULL);
			if (resolver_re[i] == NULL)
				fatal("emit: resolver pattern %zu does not compile", i);
		}
		resolver_md = pcre2_match_data_create(4, NULL);
	}
	for (size_t i = 0; i < NRESOLVERS; i++) {
		if (s[0] == '\0' || strchr(resolvers[i].first, s[0]) == NULL)
			continue;
		if (pcre2_match(resolver_re[i], (PCRE2_SPTR)s, len, 0, 0, resolver_md, NULL) >= 0)
			return true;
	}
	return false;
}

/* ---- YAML: characters as libyaml classifies them -------------------------- */

static size_t
u8_width(unsigned char c)
{
	return (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
	    (c & 0xF8) == 0xF0 ? 4 : 1;
}

/* The bytes of the character at p, never past end: when the string's
 * last UTF-8 sequence is cut short, each byte left is a character of its
 * own (written as it is, or escaped as \xHH), and nothing beyond end is
 * read. Every walk over a scalar steps with this. */
static size_t
y_width(const unsigned char *p, const unsigned char *end)
{
	size_t w = u8_width(*p);

	return w <= (size_t)(end - p) ? w : 1;
}

/* The printable set of YAML 1.1 as libyaml tests it on UTF-8 bytes: tab,
 * CR, NEL, the BOM and everything outside the BMP count as not printable
 * (so such strings are double-quoted with escapes). */
static bool
y_printable(const unsigned char *p, const unsigned char *end)
{
	unsigned char b1 = p + 1 < end ? p[1] : 0, b2 = p + 2 < end ? p[2] : 0;

	/* A sequence cut short by the end is no character: its bytes are
	 * escaped one by one. */
	if (u8_width(p[0]) > (size_t)(end - p))
		return false;
	return p[0] == 0x0A || (p[0] >= 0x20 && p[0] <= 0x7E) ||
	    (p[0] == 0xC2 && b1 >= 0xA0) || (p[0] > 0xC2 && p[0] < 0xED) ||
	    (p[0] == 0xED && b1 < 0xA0) || p[0] == 0xEE ||
	    (p[0] == 0xEF && !(b1 == 0xBB && b2 == 0xBF) && !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)));
}

static bool
y_is_break(const unsigned char *p, const unsigned char *end)
{
	if (p >= end)
		return false;
	if (p[0] == '\r' || p[0] == '\n')
		return true;
	if (p[0] == 0xC2 && p + 1 < end && p[1] == 0x85)
		return true;
	return p[0] == 0xE2 && p + 2 < end && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9);
}

/* Blank, break, or the end of the scalar (libyaml sees the NUL there). */
static bool
y_is_blankz(const unsigned char *p, const unsigned char *end)
{
	return p >= end || p[0] == ' ' || p[0] == '\t' || p[0] == '\0' || y_is_break(p, end);
}

static bool
y_is_bom(const unsigned char *p, const unsigned char *end)
{
	return p + 2 < end && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
}

struct scalar_info {
	bool	multiline;
	bool	block_plain;	/* may be written plain in block context */
	bool	single_quoted;	/* may be written single-quoted */
};

static void
analyze_scalar(const unsigned char *s, size_t len, struct scalar_info *a)
{
	const unsigned char *p = s, *end = s + len;
	bool flow_ind = false, block_ind = false, breaks = false, special = false;
	bool lead_space = false, lead_break = false, trail_space = false, trail_break = false;
	bool break_space = false, space_break = false, prev_space = false, prev_break = false;
	bool preceded_ws = true, followed_ws;

	if (len == 0) {
		a->multiline = false;
		a->block_plain = a->single_quoted = true;
		return;
	}
	if (len >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') || (s[0] == '.' && s[1] == '.' && s[2] == '.')))
		flow_ind = block_ind = true;
	followed_ws = y_is_blankz(p + y_width(p, end), end);
	while (p < end) {
		size_t w = y_width(p, end);
		unsigned char c = *p;

		if (p == s) {
			if (c != 0 && strchr("#,[]{}&*!|>'\"%@`", c) != NULL)
				flow_ind = block_ind = true;
			if (c == '?' || c == ':') {
				flow_ind = true;
				if (followed_ws)
					block_ind = true;
			}
			if (c == '-' && followed_ws)
				flow_ind = block_ind = true;
		} else {
			if (c != 0 && strchr(",?[]{}", c) != NULL)
				flow_ind = true;
			if (c == ':') {
				flow_ind = true;
				if (followed_ws)
					block_ind = true;
			}
			if (c == '#' && preceded_ws)
				flow_ind = block_ind = true;
		}
		if (!y_printable(p, end))
			special = true;
		if (y_is_break(p, end))
			breaks = true;
		if (c == ' ') {
			if (p == s)
				lead_space = true;
			if (p + w >= end)
				trail_space = true;
			if (prev_break)
				break_space = true;
			prev_space = true;
			prev_break = false;
		} else if (y_is_break(p, end)) {
			if (p == s)
				lead_break = true;
			if (p + w >= end)
				trail_break = true;
			if (prev_space)
				space_break = true;
			prev_space = false;
			prev_break = true;
		} else
			prev_space = prev_break = false;
		preceded_ws = y_is_blankz(p, end);
		p += w;
		if (p < end)
			followed_ws = y_is_blankz(p + y_width(p, end), end);
	}
	(void)flow_ind;	/* only block context is ever written */
	a->multiline = breaks;
	a->block_plain = a->single_quoted = true;
	if (lead_space || lead_break || trail_space || trail_break)
		a->block_plain = false;
	if (break_space || space_break || special)
		a->block_plain = a->single_quoted = false;
	if (breaks || block_ind)
		a->block_plain = false;
}

/* ---- YAML: the writer ------------------------------------------------------- */

#define Y_INDENT	2
#define Y_WIDTH		80

struct yaml_writer {
	struct emit_out	*out;
	const char	*first_prefix, *rest_prefix;
	bool		 line_start, first_line;
	int		 column;	/* in characters, prefix not counted */
	int		 indent;	/* -1 before the root node */
	bool		 whitespace;	/* the last thing written was blank */
	bool		 indention;	/* only indentation on this line so far */
};

enum { Y_PLAIN, Y_SINGLE, Y_DOUBLE };

/* Raw bytes; the line prefix goes in front of every line's first byte. */
static void
y_raw(struct yaml_writer *y, const char *data, size_t len)
{
	if (y->line_start) {
		emit_puts(y->out, y->first_line ? y->first_prefix : y->rest_prefix);
		y->first_line = y->line_start = false;
	}
	emit_write(y->out, data, len);
}

static void
y_put(struct yaml_writer *y, char c)
{
	y_raw(y, &c, 1);
	y->column++;
}

/* One character of a scalar (one column, however many bytes). */
static void
y_char(struct yaml_writer *y, const unsigned char *p, size_t w)
{
	y_raw(y, (const char *)p, w);
	y->column++;
}

static void
y_break(struct yaml_writer *y)
{
	y_raw(y, "\n", 1);
	y->column = 0;
	y->line_start = true;
}

/* A line break taken from a scalar: LS and PS are kept as they are,
 * except under a line prefix, where the original's splitlines() turned
 * them into line ends. */
static void
y_scalar_break(struct yaml_writer *y, const unsigned char *p, size_t w)
{
	if (*p == '\n' || (*y->rest_prefix != '\0' || *y->first_prefix != '\0')) {
		y_break(y);
		return;
	}
	y_raw(y, (const char *)p, w);
	y->column = 0;
}

static void
y_indent(struct yaml_writer *y)
{
	int ind = y->indent >= 0 ? y->indent : 0;

	if (!y->indention || y->column > ind || (y->column == ind && !y->whitespace))
		y_break(y);
	while (y->column < ind)
		y_put(y, ' ');
	y->whitespace = y->indention = true;
}

static void
y_indicator(struct yaml_writer *y, const char *ind, bool need_ws, bool is_ws, bool is_indention)
{
	if (need_ws && !y->whitespace)
		y_put(y, ' ');
	while (*ind)
		y_put(y, *ind++);
	y->whitespace = is_ws;
	y->indention = y->indention && is_indention;
}

static void
y_write_plain(struct yaml_writer *y, const unsigned char *s, size_t len, bool allow_breaks)
{
	const unsigned char *p = s, *end = s + len;
	bool spaces = false, breaks = false;

	if (!y->whitespace && len > 0)
		y_put(y, ' ');
	while (p < end) {
		size_t w = y_width(p, end);
		if (*p == ' ') {
			if (allow_breaks && !spaces && y->column > Y_WIDTH && !(p + 1 < end && p[1] == ' '))
				y_indent(y);
			else
				y_char(y, p, w);
			spaces = true;
		} else if (y_is_break(p, end)) {
			if (!breaks && *p == '\n')
				y_break(y);
			y_scalar_break(y, p, w);
			y->indention = true;
			breaks = true;
		} else {
			if (breaks)
				y_indent(y);
			y_char(y, p, w);
			y->indention = false;
			spaces = breaks = false;
		}
		p += w;
	}
	y->whitespace = y->indention = false;
}

static void
y_write_single(struct yaml_writer *y, const unsigned char *s, size_t len, bool allow_breaks)
{
	const unsigned char *p = s, *end = s + len;
	bool spaces = false, breaks = false;

	y_indicator(y, "'", true, false, false);
	while (p < end) {
		size_t w = y_width(p, end);
		if (*p == ' ') {
			if (allow_breaks && !spaces && y->column > Y_WIDTH && p != s && p != end - 1 &&
			    !(p + 1 < end && p[1] == ' '))
				y_indent(y);
			else
				y_char(y, p, w);
			spaces = true;
		} else if (y_is_break(p, end)) {
			if (!breaks && *p == '\n')
				y_break(y);
			y_scalar_break(y, p, w);
			y->indention = true;
			breaks = true;
		} else {
			if (breaks)
				y_indent(y);
			if (*p == '\'')
				y_put(y, '\'');
			y_char(y, p, w);
			y->indention = false;
			spaces = breaks = false;
		}
		p += w;
	}
	if (breaks)
		y_indent(y);
	y_indicator(y, "'", false, false, false);
	y->whitespace = y->indention = false;
}

static void
y_write_double(struct yaml_writer *y, const unsigned char *s, size_t len, bool allow_breaks)
{
	const unsigned char *p = s, *end = s + len;
	bool spaces = false;

	y_indicator(y, "\"", true, false, false);
	while (p < end) {
		size_t w = y_width(p, end);
		if (!y_printable(p, end) || y_is_bom(p, end) || y_is_break(p, end) || *p == '"' || *p == '\\') {
			/* The code point, escaped by its short name or in hex. */
			unsigned int cp = w == 1 ? *p : w == 2 ? (*p & 0x1Fu) : w == 3 ? (*p & 0x0Fu) : (*p & 0x07u);
			for (size_t k = 1; k < w && p + k < end; k++)
				cp = (cp << 6) | (p[k] & 0x3Fu);
			const char *name = NULL;
			switch (cp) {
			case 0x00: name = "0"; break;
			case 0x07: name = "a"; break;
			case 0x08: name = "b"; break;
			case 0x09: name = "t"; break;
			case 0x0A: name = "n"; break;
			case 0x0B: name = "v"; break;
			case 0x0C: name = "f"; break;
			case 0x0D: name = "r"; break;
			case 0x1B: name = "e"; break;
			case 0x22: name = "\""; break;
			case 0x5C: name = "\\"; break;
			case 0x85: name = "N"; break;
			case 0xA0: name = "_"; break;
			case 0x2028: name = "L"; break;
			case 0x2029: name = "P"; break;
			}
			y_put(y, '\\');
			if (name != NULL)
				y_put(y, name[0]);
			else {
				char hex[12];
				if (cp <= 0xFF)
					snprintf(hex, sizeof(hex), "x%02X", cp);
				else if (cp <= 0xFFFF)
					snprintf(hex, sizeof(hex), "u%04X", cp);
				else
					snprintf(hex, sizeof(hex), "U%08X", cp);
				for (char *h = hex; *h; h++)
					y_put(y, *h);
			}
			spaces = false;
		} else if (*p == ' ') {
			if (allow_breaks && !spaces && y->column > Y_WIDTH && p != s && p != end - 1) {
				y_indent(y);
				if (p + 1 < end && p[1] == ' ')
					y_put(y, '\\');
			} else
				y_char(y, p, w);
			spaces = true;
		} else {
			y_char(y, p, w);
			spaces = false;
		}
		p += w;
	}
	y_indicator(y, "\"", false, false, false);
	y->whitespace = y->indention = false;
}

/* A scalar: a string (is_string: its text may need quoting) or the text
 * of a number, bool or null (always plain). */
static void
y_scalar(struct yaml_writer *y, const char *text, size_t len, bool is_string, bool simple_key)
{
	const unsigned char *s = (const unsigned char *)text;
	int style = Y_PLAIN;
	int saved = y->indent;

	if (is_string) {
		struct scalar_info a;
		analyze_scalar(s, len, &a);
		if (simple_key && a.multiline)
			style = Y_DOUBLE;
		else if (!a.block_plain || (len == 0 && simple_key) || yaml_resolves_non_string(text, len))
			style = Y_SINGLE;
		if (style == Y_SINGLE && !a.single_quoted)
			style = Y_DOUBLE;
	}
	/* Continuation lines of a folded scalar go one level deeper. */
	y->indent = y->indent < 0 ? Y_INDENT : y->indent + Y_INDENT;
	if (style == Y_PLAIN)
		y_write_plain(y, s, len, !simple_key);
	else if (style == Y_SINGLE)
		y_write_single(y, s, len, !simple_key);
	else
		y_write_double(y, s, len, !simple_key);
	y->indent = saved;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void y_node(struct yaml_writer *, struct json_object *, bool in_mapping);

static void
y_mapping(struct yaml_writer *y, struct json_object *v)
{
	size_t n = (size_t)json_object_object_length(v), i = 0;
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	int saved = y->indent;

	json_object_object_foreach(v, k, unused) {
		(void)unused;
		keys[i++] = k;
	}
	/* Sorted as Python sorts str keys: by code point, which is the
	 * byte order of UTF-8. */
	qsort(keys, n, sizeof(*keys), key_cmp);
	y->indent = y->indent < 0 ? 0 : y->indent + Y_INDENT;
	for (i = 0; i < n; i++) {
		size_t klen = strlen(keys[i]);
		struct scalar_info a;
		struct json_object *val = json_object_object_get(v, keys[i]);

		y_indent(y);
		analyze_scalar((const unsigned char *)keys[i], klen, &a);
		if (!a.multiline && klen <= 128) {
			y_scalar(y, keys[i], klen, true, true);
			y_indicator(y, ":", false, false, false);
		} else {
			/* Too long or multi-line for a simple key: "? key" then ": value". */
			y_indicator(y, "?", true, false, true);
			y_scalar(y, keys[i], klen, true, false);
			y_indent(y);
			y_indicator(y, ":", true, false, true);
		}
		y_node(y, val, true);
	}
	y->indent = saved;
	free(keys);
}

static void
y_sequence(struct yaml_writer *y, struct json_object *v, bool in_mapping)
{
	int saved = y->indent;
	/* A list that is a mapping's value is not indented ("key:\n- item"). */
	bool indentless = in_mapping && !y->indention;

	y->indent = y->indent < 0 ? 0 : indentless ? y->indent : y->indent + Y_INDENT;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		y_indent(y);
		y_indicator(y, "-", true, false, true);
		y_node(y, json_object_array_get_idx(v, i), false);
	}
	y->indent = saved;
}

static void
y_node(struct yaml_writer *y, struct json_object *v, bool in_mapping)
{
	char num[40];

	switch (json_object_get_type(v)) {
	case json_type_null:
		y_scalar(y, "null", 4, false, false);
		break;
	case json_type_boolean:
		y_scalar(y, json_object_get_boolean(v) ? "true" : "false", json_object_get_boolean(v) ? 4 : 5,
		    false, false);
		break;
	case json_type_int:
		snprintf(num, sizeof(num), "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		y_scalar(y, num, strlen(num), false, false);
		break;
	case json_type_double: {
		/* PyYAML: repr() in lower case, ".0" added to an exponent
		 * form without a dot, and .inf/.nan spelled the YAML way. */
		double d = json_object_get_double(v);
		if (isnan(d))
			snprintf(num, sizeof(num), ".nan");
		else if (isinf(d))
			snprintf(num, sizeof(num), d < 0 ? "-.inf" : ".inf");
		else {
			char r[32], *e;
			emit_float_repr(d, r);
			if (strchr(r, '.') == NULL && (e = strchr(r, 'e')) != NULL)
				snprintf(num, sizeof(num), "%.*s.0%s", (int)(e - r), r, e);
			else
				snprintf(num, sizeof(num), "%s", r);
		}
		y_scalar(y, num, strlen(num), false, false);
		break;
	}
	case json_type_string:
		y_scalar(y, json_object_get_string(v), (size_t)json_object_get_string_len(v), true, false);
		break;
	case json_type_object:
		if (json_object_object_length(v) == 0) {
			y_indicator(y, "{", true, true, false);
			y_indicator(y, "}", false, false, false);
		} else
			y_mapping(y, v);
		break;
	case json_type_array:
		if (json_object_array_length(v) == 0) {
			y_indicator(y, "[", true, true, false);
			y_indicator(y, "]", false, false, false);
		} else
			y_sequence(y, v, in_mapping);
		break;
	}
}

void
emit_yaml_document(struct emit_out *o, struct json_object *v, const char *first_prefix,
    const char *rest_prefix)
{
	struct yaml_writer y = {
		.out = o, .first_prefix = first_prefix ? first_prefix : "",
		.rest_prefix = rest_prefix ? rest_prefix : "", .line_start = true, .first_line = true,
		.column = 0, .indent = -1, .whitespace = true, .indention = true,
	};

	y_node(&y, v, false);
	/* The document ends with its last line. */
	y.indent = -1;
	y_indent(&y);
}
