/*
 * jsonread.h - the one JSON parser of the archive.
 *
 * Every program reads JSON through jsonread(): request bodies in dandi-api,
 * the documents dandi-jobs and dandi-api read back from PostgreSQL, the
 * schema files, the answers of DataCite and OAuth providers. One function
 * means one contract: what the API accepts, the jobs can read back.
 *
 * It is json-c's strict parser plus what json-c lets through and the rest
 * of the archive cannot keep:
 *  - nesting deeper than JSONREAD_MAX_DEPTH arrays and objects;
 *  - NaN, Infinity, -Infinity and numbers too large for a double (json-c
 *    makes them non-finite doubles; PostgreSQL's jsonb refuses them);
 *  - integers outside 64 bits (json-c silently clamps them);
 *  - a NUL (\u0000 or a raw 0 byte) in an object key (json-c cuts the key
 *    there); NULs in string values are kept, for the callers' own
 *    per-field answers (PostgreSQL stores no NUL either);
 *  - raw control characters in strings, and anything after the value but
 *    white space (as Python's json module, which the original uses).
 */
#ifndef DANDI_JSONREAD_H
#define DANDI_JSONREAD_H

#include <stddef.h>

#include <json-c/json.h>

/* The deepest nesting of arrays and objects read anywhere: a request body
 * {"metadata": M} thus carries metadata M of at most 63 levels, and every
 * document the archive builds around stored metadata (one level more at
 * most) is still readable. */
#define JSONREAD_MAX_DEPTH 64

/* Parses exactly one JSON value from text[0..len) into *out (a new
 * reference, json_object_put it; NULL for a JSON null). Returns 0, or -1
 * with a message in err ("<what>: line L column C (char N)", Python's
 * wording where Python has one; err may be NULL). text may be NULL for
 * no text. */
int	jsonread(const char *text, size_t len, struct json_object **out, char *err, size_t errlen);
/* NUL-terminated text (e.g. a PostgreSQL value): the value, or NULL for an
 * error (message in err unless err is NULL) and for a JSON null. */
struct json_object *jsonread_str(const char *text, char *err, size_t errlen);
/* A file's JSON (the schemas, the OpenAPI document): as jsonread_str, the
 * message starting with the path. */
struct json_object *jsonread_file(const char *path, char *err, size_t errlen);

#endif
