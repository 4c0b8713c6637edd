/*
 * pyunicode.h - the few rules of Python's str (3.11, Unicode 14: the
 * tables come from contrib/dev/gen-pyunicode) that the original's search
 * parser applies and whose results show in its messages: whitespace (\s,
 * str.strip), \d digits, repr(), len(). Strings are valid UTF-8 (the query
 * decoder replaces bad bytes, as Django does).
 */
#ifndef DANDI_PYUNICODE_H
#define DANDI_PYUNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* The code point at *s; advances *s past it. */
uint32_t	 utf8_next(const char **s);
bool		 py_isspace(uint32_t cp);	/* str.isspace(), re's \s */
bool		 py_isprintable(uint32_t cp);	/* str.isprintable() */
int		 py_digit(uint32_t cp);		/* re's \d: its value, else -1 */
size_t		 py_len(const char *s);		/* len(): code points */
/* str.strip() of s[0..len): the bounds of what remains. */
void		 py_strip(const char *s, size_t len, size_t *start, size_t *end);
/* repr(s), quotes included. */
char		*py_repr(struct arena *, const char *s);

#endif
