/* util.h - allocation that never returns NULL, strings, random ids, time. */
#ifndef DANDI_UTIL_H
#define DANDI_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
/* A formatted string in memory of its own size, for the caller to free;
 * never NULL (fatal when out of memory, as xmalloc). */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list) __attribute__((format(printf, 1, 0)));
void	 fatal(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Growable byte buffer (heap); used for response bodies. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 buf_init(struct buf *);
void	 buf_append(struct buf *, const char *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
void	 buf_free(struct buf *);
/* s as a JSON string literal (quotes, escapes; UTF-8 kept as is). */
void	 buf_json_string(struct buf *, const char *s);
void	 buf_json_stringn(struct buf *, const char *s, size_t len);

int	 random_bytes(void *, size_t);		/* 0 ok, -1 failure */
void	 hex_encode(const unsigned char *, size_t, char *out);	/* out: 2n+1 */
int	 uuid4(char out[37]);
bool	 is_uuid(const char *);
bool	 parse_int64(const char *, int64_t *);	/* whole string, base 10 */
bool	 parse_bool(const char *, bool *);	/* DRF BooleanField spellings */
int	 url_decode(char *s, bool plus_is_space);	/* in place; -1 on bad % */
bool	 ct_streq(const char *, const char *);	/* constant-time for equal lengths */
char	*str_trim(char *);			/* strips ASCII space at both ends, in place */
void	 digest_sha256_hex(const void *, size_t, char out[65]);
/* A new API key (40 hex digits, as DRF's authtoken) and its sha256, which
 * is what the database is searched by. 0 ok, -1 without randomness. */
int	 api_key_new(char key[41], char hash[65]);
/* Characters in s[0..len) when it is valid UTF-8 (no overlongs, no
 * surrogates), else -1. */
long	 utf8_chars(const char *s, size_t len);
/* NULL when s is valid UTF-8, else a malloc'd copy with U+FFFD for each
 * bad byte. */
char	*utf8_fix(const char *s);
/* A PostgreSQL ISO timestamp without zone ("2026-12-01 07:57:08.5481") as
 * the API writes times, "2026-12-01T07:57:08.548100Z" (always 6 digits,
 * as dandi_ts in SQL). false when s is not of that form. */
bool	 ts_iso(const char *s, char out[32]);
/* s is a day of the calendar written YYYY-MM-DD (2027-02-30 is not). */
bool	 date_valid(const char *s);
/* The day after YYYY-MM-DD day, into out. */
void	 date_next(const char *day, char out[11]);
/* Seconds on CLOCK_MONOTONIC: for durations and deadlines. */
double	 mono_seconds(void);

#endif
