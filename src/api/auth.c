/*
 * auth.c - who is asking. The CLI sends `Authorization: token <key>` (the
 * keyword is case-insensitive, as in DRF). Keys are looked up by their
 * sha256 and then compared in constant time. Other schemes (Bearer, used
 * by the web app) are resolved by the identity layer; unknown ones leave the
 * request anonymous, as DRF does when no authenticator claims it.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"

const struct db_stmt auth_stmts[] = {
	{ "auth_token",
	  "SELECT t.key, u.id, coalesce(u.github_login, u.username), u.email, u.first_name,"
	  " u.last_name, u.is_superuser, u.status, u.is_active"
	  " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_sha256 = $1" },
};
const size_t auth_nstmts = sizeof(auth_stmts) / sizeof(auth_stmts[0]);

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static int
auth_token(struct request *req, const char *key)
{
	char		 hash[65];
	const char	*params[1] = { hash };
	PGresult	*r;

	sha256_hex(key, hash);
	if ((r = req_query(req, "auth_token", 1, params)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || !ct_streq(PQgetvalue(r, 0, 0), key)) {
		resp_detail(req, 401, "Invalid token.");
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, 8), "t") != 0) {
		resp_detail(req, 401, "User inactive or deleted.");
		return -1;
	}
	struct user *u = arena_zalloc(&req->arena, sizeof(*u));
	parse_int64(PQgetvalue(r, 0, 1), &u->id);
	req->user_id_str = arena_strdup(&req->arena, PQgetvalue(r, 0, 1));
	u->username = arena_strdup(&req->arena, PQgetvalue(r, 0, 2));
	u->email = arena_strdup(&req->arena, PQgetvalue(r, 0, 3));
	u->first_name = arena_strdup(&req->arena, PQgetvalue(r, 0, 4));
	u->last_name = arena_strdup(&req->arena, PQgetvalue(r, 0, 5));
	u->is_superuser = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
	u->status = arena_strdup(&req->arena, PQgetvalue(r, 0, 7));
	req->user = u;
	return 0;
}

int
auth_request(struct request *req)
{
	const char *h = req->authorization, *sp;

	if (h == NULL || *h == '\0')
		return 0;
	if ((sp = strchr(h, ' ')) == NULL)
		sp = h + strlen(h);
	if ((size_t)(sp - h) != 5 || strncasecmp(h, "token", 5) != 0)
		return 0;
	while (*sp == ' ')
		sp++;
	if (*sp == '\0') {
		resp_detail(req, 401, "Invalid token header. No credentials provided.");
		return -1;
	}
	if (strchr(sp, ' ') != NULL) {
		resp_detail(req, 401, "Invalid token header. Token string should not contain spaces.");
		return -1;
	}
	/* Keys are 40 hex digits; anything else cannot match, and must not
	 * reach the database or the log unbounded. */
	if (strlen(sp) > 256) {
		resp_detail(req, 401, "Invalid token.");
		return -1;
	}
	return auth_token(req, sp);
}
