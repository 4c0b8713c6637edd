/* vmeta.h - server-owned fields of version metadata (see vmeta.c). */
#ifndef DANDI_VMETA_H
#define DANDI_VMETA_H

#include <stdint.h>

#include <json-c/json.h>

#include "config.h"

struct version_ctx {
	int64_t		 dandiset_id;
	const char	*version;		/* "draft" or 0.YYMMDD.HHMM */
	const char	*name;
	const char	*created_iso;		/* dandiset created, Python isoformat */
	const char	*embargo_status;
	const char	*embargo_end;		/* YYYY-MM-DD or NULL */
	const char	*doi;			/* or NULL */
};
void	metadata_strip_version(struct json_object *md);
void	metadata_populate_version(const struct config *, const struct version_ctx *,
	    struct json_object *md);

/* "<endpoint>/<bucket>/" (or "<scheme>://<bucket>.<host>/" in virtual-host
 * style): where an object's bytes are, unsigned, for contentUrl and the
 * folder tree's URLs; s3_public_endpoint when set, since clients read it. */
void	s3_base_url(const struct config *, char *out, size_t outlen);

#endif
