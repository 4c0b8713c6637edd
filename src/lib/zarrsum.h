/*
 * zarrsum.h - the dandi-zarr-checksum of a zarr archive (zarr_checksum
 * 0.4.7, shared by the original server and the dandi CLI).
 *
 * A directory's digest is "<md5>-<count>--<size>": md5 of
 * {"directories":[...],"files":[...]} (entries {"digest","name","size"},
 * each list sorted by name, no whitespace, ASCII-only escapes as Python's
 * json.dumps), count = files below it, size = their bytes. The archive's
 * checksum is the digest of its root.
 *
 * The tree is built streaming from keys in S3 listing order (bytewise
 * sorted): only the directories on the path of the current key are open,
 * each holding its direct entries, so memory follows the widest open
 * directories, never the whole listing. The state can be saved as text and
 * loaded again to resume a listing where it stopped.
 */
#ifndef DANDI_ZARRSUM_H
#define DANDI_ZARRSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZARRSUM_EMPTY	"481a2f77ab786a0f45aafd5db0971caa-0--0"
#define ZARRSUM_LEN	80	/* room for any digest string and its NUL */

struct zarrsum_entry {
	char	*name;			/* last path component (UTF-8) */
	char	 digest[ZARRSUM_LEN];	/* md5 hex of a file, or a digest */
	int64_t	 size;
	int64_t	 count;			/* 1 for a file; files below a dir */
};

/* Digest of one directory from its direct files and subdirectories (the
 * arrays are sorted in place). Returns 0, or -1 when two entries of the
 * same kind share a name. */
int	zarrsum_dir(struct zarrsum_entry *files, size_t nfiles,
	    struct zarrsum_entry *dirs, size_t ndirs, char out[ZARRSUM_LEN]);

/* The directory listing string that is hashed (malloc'd; for tests). */
char	*zarrsum_dir_json(struct zarrsum_entry *files, size_t nfiles,
	    struct zarrsum_entry *dirs, size_t ndirs);

/* Parses a digest as the original's regex (anchored at the start only).
 * md5 may be NULL. */
bool	zarrsum_parse(const char *s, char md5[33], int64_t *count, int64_t *size);

/* Streaming tree. */
struct zarrsum;
struct zarrsum	*zarrsum_new(void);
void		 zarrsum_free(struct zarrsum *);
/* One object: path relative to the zarr root (normalized as PurePosixPath:
 * empty and "." segments dropped), its size and md5 hex. Keys must come in
 * S3 order. Returns 0, or -1 (zarrsum_error says why) when the path is
 * empty or would reopen a directory already closed. */
int		 zarrsum_add(struct zarrsum *, const char *path, int64_t size, const char *md5);
/* Closes every directory and writes the root digest. The tree is empty
 * afterwards. 0 or -1. */
int		 zarrsum_finish(struct zarrsum *, char out[ZARRSUM_LEN]);
const char	*zarrsum_error(const struct zarrsum *);
int64_t		 zarrsum_leaves(const struct zarrsum *);	/* added so far */
/* The open state as text (malloc'd), and back; NULL on a malformed text. */
char		*zarrsum_save(const struct zarrsum *);
struct zarrsum	*zarrsum_load(const char *);

/* Path rules for entries of a zarr (upload, delete, prefix): NULL when
 * acceptable, else the error message. */
const char	*zarrsum_path_error(const char *path, bool allow_empty);

#endif
