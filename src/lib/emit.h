/*
 * emit.h - streaming JSON and YAML writers for the manifest files.
 *
 * Output goes into a buffer that is handed to a sink callback whenever it
 * holds flush_at bytes, so a document of any size (the asset list of a
 * million-asset version) is written with flat memory: the caller feeds
 * one value at a time and never holds the whole document.
 *
 * The bytes match what the original archive writes with Python:
 *  - JSON as DRF's JSONRenderer: separators "," and ":", UTF-8 unescaped,
 *    U+2028/U+2029 escaped, keys in the order given, floats as repr();
 *  - YAML as PyYAML's yaml.dump(Dumper=CSafeDumper, allow_unicode=True):
 *    libyaml's block style, keys sorted, indent 2, 80-column folding, and
 *    the plain / single-quoted / double-quoted choice of libyaml plus the
 *    YAML 1.1 implicit-type rules of PyYAML's resolver (a string that
 *    would read back as a number, bool, null or date is quoted).
 */
#ifndef DANDI_EMIT_H
#define DANDI_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

/* Gets the next len bytes of the document; 0 to go on, -1 to stop (the
 * writer then drops all further output and emit_finish returns -1). */
typedef int (*emit_sink_fn)(void *ctx, const char *data, size_t len);

struct emit_out {
	struct buf	 buf;
	size_t		 flush_at;
	emit_sink_fn	 sink;
	void		*ctx;
	bool		 failed;
	uint64_t	 total;		/* bytes handed to the sink so far */
};

void	emit_init(struct emit_out *, size_t flush_at, emit_sink_fn, void *ctx);
void	emit_write(struct emit_out *, const char *data, size_t len);
void	emit_puts(struct emit_out *, const char *s);
/* Hands what is buffered to the sink. 0, or -1 when the sink failed. */
int	emit_finish(struct emit_out *);
void	emit_free(struct emit_out *);

/* ---- JSON ---- */

/* A string literal (quotes included). */
void	emit_json_string(struct emit_out *, const char *s, size_t len);
/* A whole value (NULL is null), compact. */
void	emit_json_value(struct emit_out *, struct json_object *);

/* A JSON writer for documents too big to hold: containers are opened and
 * closed as the data streams by, commas placed automatically. */
#define JW_DEPTH	32
struct json_writer {
	struct emit_out	*out;
	int		 depth;
	bool		 first[JW_DEPTH];	/* nothing written yet at this level */
	bool		 array[JW_DEPTH];	/* this level is an array */
	bool		 after_key;
};
void	jw_init(struct json_writer *, struct emit_out *);
void	jw_begin_object(struct json_writer *);
void	jw_begin_array(struct json_writer *);
void	jw_end(struct json_writer *);	/* closes the innermost container */
void	jw_key(struct json_writer *, const char *key);
void	jw_string(struct json_writer *, const char *s);
void	jw_value(struct json_writer *, struct json_object *);

/* Python's repr() of a float (shortest round-trip digits; exponent form
 * below 1e-4 and from 1e16 on). */
void	emit_float_repr(double d, char out[32]);

/* ---- YAML ---- */

/* One document, the value v (an object, usually), written as PyYAML dumps
 * it. Every output line starts with first_prefix (the first line) or
 * rest_prefix (the others), as the original builds its assets.yaml
 * sequence ("- ", "  "); "" and "" for a plain document. */
void	emit_yaml_document(struct emit_out *, struct json_object *v,
	    const char *first_prefix, const char *rest_prefix);

/* Whether PyYAML's resolver reads the plain scalar s as something other
 * than a string (int, float, bool, null, timestamp, merge or value), so
 * that a string with this text must be quoted. Exposed for the tests. */
bool	yaml_resolves_non_string(const char *s, size_t len);

#endif
