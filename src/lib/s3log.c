/* s3log.c - see s3log.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "s3log.h"
#include "util.h"

#define MAX_FIELDS	32

/* Splits line into fields in place; quoted fields lose their quotes and
 * escapes, the time its brackets. Returns the number of fields or -1. */
static int
split_fields(char *line, char **fields, int max)
{
	char *p = line;
	int n = 0;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\r')
			return n;
		if (n == max)
			return n;	/* later fields are not ours */
		if (*p == '"') {
			char *w = ++p;
			fields[n++] = w;
			for (;;) {
				if (*p == '\0')
					return -1;
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
					*w++ = p[1];
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else
					*w++ = *p++;
			}
			*w = '\0';
			if (*p != ' ' && *p != '\0' && *p != '\r')
				return -1;
		} else if (*p == '[') {
			fields[n++] = ++p;
			if ((p = strchr(p, ']')) == NULL)
				return -1;
			*p++ = '\0';
			if (*p != ' ' && *p != '\0' && *p != '\r')
				return -1;
		} else {
			fields[n++] = p;
			while (*p != ' ' && *p != '\0' && *p != '\r')
				p++;
		}
		if (*p == '\0')
			return n;
		*p++ = '\0';
	}
}

static const char *
dash_null(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

int
s3log_parse(char *line, struct s3log_record *rec)
{
	char *f[MAX_FIELDS];
	int n = split_fields(line, f, MAX_FIELDS);

	memset(rec, 0, sizeof(*rec));
	/* Up to the bytes sent is what a record must have. */
	if (n < 12)
		return -1;
	if (strlen(f[9]) != 3 || !isdigit((unsigned char)f[9][0]) || !isdigit((unsigned char)f[9][1]) ||
	    !isdigit((unsigned char)f[9][2]))
		return -1;
	rec->bucket = f[1];
	rec->time = f[2];
	rec->remote_ip = f[3];
	rec->operation = f[6];
	rec->key = dash_null(f[7]);
	/* Keys are logged URL-encoded ('+' is a plus: S3 encodes spaces as %20). */
	if (rec->key != NULL && url_decode(f[7], false) != 0)
		return -1;
	rec->request_uri = f[8];
	rec->status = atoi(f[9]);
	if (strcmp(f[11], "-") != 0) {
		int64_t b;
		if (!parse_int64(f[11], &b) || b < 0)
			return -1;
		rec->bytes_sent = b;
	}
	rec->user_agent = n > 16 ? dash_null(f[16]) : NULL;
	return 0;
}

static bool
is_hex_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return true;
}

const char *
s3log_blob_uuid(const char *key)
{
	/* blobs/abc/def/abcdef..-....-....-....-............ (src/api/uploads.c) */
	if (key == NULL || strncmp(key, "blobs/", 6) != 0 || strlen(key) != 6 + 8 + 36)
		return NULL;
	const char *u = key + 14;
	if (key[9] != '/' || key[13] != '/' || !is_uuid(u) || memcmp(key + 6, u, 3) != 0 ||
	    memcmp(key + 10, u + 3, 3) != 0 || !is_hex_lower(u, 8))
		return NULL;
	return u;
}

bool
s3log_is_log_name(const char *name)
{
	/* YYYY-mm-DD-HH-MM-SS-: 4 digits, then 5 pairs, each after a dash. */
	static const char shape[] = "dddd-dd-dd-dd-dd-dd-";
	const char *base = strrchr(name, '/');
	size_t n;

	base = base ? base + 1 : name;
	if ((n = strlen(base)) != sizeof(shape) - 1 + 16)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)base[i]) : base[i] != '-')
			return false;
	for (size_t i = sizeof(shape) - 1; i < n; i++)
		if (!isdigit((unsigned char)base[i]) && (base[i] < 'A' || base[i] > 'F'))
			return false;
	return true;
}
