/*
 * searchq.h - the search text of GET /api/dandisets/?search=, parsed as the
 * original's Gmail-style syntax: free words, "quoted phrases", key:value
 * and key:"quoted value" operators ("foo:bar" in quotes is free text).
 * Errors carry the original's message text, which the API answers as
 * 400 {"search": message}.
 */
#ifndef DANDI_SEARCHQ_H
#define DANDI_SEARCHQ_H

#include <stddef.h>

#include "arena.h"

#define SEARCHQ_MAX_CHARS	1024	/* longer text is refused */

enum searchq_kind {
	SEARCHQ_AFTER,		/* a date: on or after it (UTC midnight) */
	SEARCHQ_BEFORE,		/* a date: before it */
	SEARCHQ_TEXT,		/* species, approach, technique, owner */
	SEARCHQ_FILE_TYPE,	/* an alias (nwb, image, text, video) or a MIME prefix */
};

struct searchq_opdef {
	const char		*key;
	enum searchq_kind	 kind;
};
/* Every operator, in the original's list order. */
extern const struct searchq_opdef	searchq_ops[];
extern const size_t			searchq_nops;

struct searchq_op {
	const struct searchq_opdef	*def;
	const char			*value;	/* as written; see searchq_check */
};

struct searchq {
	const char		**words;	/* free text, in order */
	size_t			  nwords;
	struct searchq_op	 *ops;		/* operators, in order */
	size_t			  nops;
};

/* Splits text (valid UTF-8) into words and operators in *q. 0, or -1 with *err the
 * message: too long, unbalanced quotes, or an unknown operator (with the
 * closest known one suggested). */
int	searchq_parse(struct arena *, const char *text, struct searchq *q, const char **err);
/* Checks the operators' values in order and makes them ready to use:
 * whitespace stripped, dates as YYYY-MM-DD, file types as MIME prefixes.
 * 0, or -1 with *err the message: an empty value or an invalid date. */
int	searchq_check(struct arena *, struct searchq *, const char **err);

#endif
