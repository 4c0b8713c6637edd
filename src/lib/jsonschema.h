/* jsonschema.h - JSON Schema (draft 2020-12) validation of json-c values.
 *
 * Schemas are loaded into a registry, compiled once (references resolved,
 * regexes compiled) and then used to validate any number of instances:
 *
 *	struct js_registry *r = js_registry_new();
 *	js_registry_add(r, NULL, schema, err, sizeof(err));	// by its $id
 *	struct js_schema *s = js_compile(r, "https://x/dandiset.json", err, sizeof(err));
 *	struct js_errors e;
 *	js_errors_init(&e, 100);
 *	if (js_validate(s, instance, &e) != 0)
 *		for (size_t i = 0; i < e.n; i++)
 *			printf("%s: %s\n", e.v[i].pointer, e.v[i].message);
 *	js_errors_free(&e);
 *	js_schema_free(s);
 *	js_registry_free(r);		// after every schema compiled from it
 *
 * Compiled schemas belong to their registry: nodes are shared between the
 * schemas compiled from one registry, and freed with it. A compiled schema
 * is read-only while validating, so threads may share one.
 *
 * Supported: every draft 2020-12 applicator and validation keyword,
 * including unevaluatedProperties/unevaluatedItems and $dynamicRef/
 * $dynamicAnchor. $vocabulary is ignored (all vocabularies are on).
 * "format" is an annotation unless JS_FORMAT_ASSERT is given.
 * Patterns are PCRE2 in UTF mode, read as ECMA-262 would: \d and \w are
 * ASCII, "$" matches only at the end, \uXXXX and \p{Letter} work.
 *
 * Messages follow Python jsonschema ("'name' is a required property",
 * "5 is greater than the maximum of 3"); a failed anyOf/oneOf is one error
 * at its own location, not one per branch. Quoted instance values are cut
 * after 200 bytes with "...".
 */
#ifndef DANDI_JSONSCHEMA_H
#define DANDI_JSONSCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct js_registry;
struct js_schema;

/* js_compile flags. */
#define JS_FORMAT_ASSERT	0x1	/* "format" fails unknown-good values */

/* One validation error; its strings and path belong to the js_errors. */
struct js_error {
	char		*pointer;	/* instance location, JSON pointer ("" = root) */
	json_object	*path;		/* the same as an array of keys (strings) and
					 * indexes (integers) */
	const char	*keyword;	/* "required", "type", ... (static) */
	char		*message;	/* "'name' is a required property" */
};

struct js_errors {
	struct js_error	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 max;		/* stop collecting after this many */
	bool		 truncated;	/* more errors than max were found */
};

struct js_registry *js_registry_new(void);
/* Adds a schema document. uri is its retrieval URI; NULL means its "$id"
 * (and a document with neither gets a private URI). Every "$id", "$anchor"
 * and "$dynamicAnchor" in it becomes addressable. The registry takes its
 * own reference to schema; the caller keeps (and puts) its own.
 * 0 ok, -1 with a message in err. */
int	 js_registry_add(struct js_registry *, const char *uri, json_object *schema,
	    char *err, size_t errlen);
/* Frees the registry and every node compiled from it. */
void	 js_registry_free(struct js_registry *);

/* Compiles the schema at uri (absolute, with an optional fragment: a JSON
 * pointer or an anchor name). NULL with a message in err when a reference
 * cannot be resolved, a regex does not compile or a keyword is malformed. */
struct js_schema *js_compile(struct js_registry *, const char *uri, int flags,
	    char *err, size_t errlen);
/* Compiles a schema object that was added (or is inside one added). */
struct js_schema *js_compile_schema(struct js_registry *, json_object *schema,
	    int flags, char *err, size_t errlen);
void	 js_schema_free(struct js_schema *);

/* Validates instance. Returns 0 when valid, else the number of errors
 * collected (at least 1). out may be NULL to ask only whether the instance
 * is valid, which stops at the first failure. Errors are appended to out. */
int	 js_validate(const struct js_schema *, json_object *instance,
	    struct js_errors *out);
bool	 js_is_valid(const struct js_schema *, json_object *instance);

/* max 0 means 100. */
void	 js_errors_init(struct js_errors *, size_t max);
void	 js_errors_free(struct js_errors *);	/* then reusable: init again */

/* Checks a string against a format: 1 valid, 0 invalid, -1 unknown format.
 * Known: date, date-time, time, duration, email, hostname, ipv4, ipv6,
 * uri, uri-reference, uuid, regex, json-pointer. */
int	 js_format_check(const char *format, const char *s);
/* 1 when src compiles as a "pattern" would (ECMA-262 flavoured PCRE2). */
int	 js_regex_valid(const char *src);

/* A Python-repr()-like rendering of a JSON value, as the messages use:
 * 'abc', 5, 1.5, True, None, ['a', 1], {'k': 'v'}. Appends to b, cutting
 * off after max bytes (0: no limit). */
struct buf;
void	 js_repr(struct buf *b, json_object *v, size_t max);

#endif
