/* arena.h - per-request memory: allocate freely, free everything at once. */
#ifndef DANDI_ARENA_H
#define DANDI_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;

struct arena_cleanup;

struct arena {
	struct arena_chunk	*head;
	struct arena_cleanup	*cleanups;	/* run by arena_reset, newest first */
	size_t			 total;		/* bytes handed out */
};

void	 arena_init(struct arena *);
void	*arena_alloc(struct arena *, size_t);
void	*arena_zalloc(struct arena *, size_t);
char	*arena_strdup(struct arena *, const char *);
char	*arena_strndup(struct arena *, const char *, size_t);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*arena_vprintf(struct arena *, const char *, va_list);
/* Registers fn(arg) to run when the arena is reset (PGresult, json-c). */
void	 arena_defer(struct arena *, void (*fn)(void *), void *arg);
void	 arena_reset(struct arena *);	/* frees all chunks; arena reusable */

#endif
