/*
 * notify.c - the e-mails the archive sends, as the original does: written
 * to the outbox in the transaction of the change (so a rolled-back change
 * sends nothing) and delivered by `dandi-jobs mail`.
 */
#include <string.h>

#include "api.h"

enum { MQ_VOID, MQ_NCOLS };	/* dandi_mail() returns void */
static const struct db_sql mail_queue = { "mail_queue", MQ_NCOLS,
	"SELECT dandi_mail($1, $2, $3)" };

enum { MOC_VOID, MOC_NCOLS };	/* void too */
static const struct db_sql mail_owner_changes = { "mail_owner_changes", MOC_NCOLS,
	"SELECT dandi_mail_owner_changes($1::bigint, $2::bigint[], $3)" };

const struct db_sql *const notify_sql[] = {
	&mail_queue, &mail_owner_changes, NULL
};

static int
queue(struct request *req, const char *to, const char *subject, const char *body)
{
	const char *params[3] = { to, subject, body };

	return req_query(req, &mail_queue, 3, params) == NULL ? -1 : 0;
}

/* "user\nadmin": the recipients, one per line; empty ones are dropped. */
static const char *
with_admin(struct request *req, const char *email)
{
	return arena_printf(&req->arena, "%s\n%s", email ? email : "", req->cfg->admin_email);
}

static const char *
approved_text(struct request *req, const char *name)
{
	return arena_printf(&req->arena,
	    "Dear %s,\n\nYour account on the %s Archive has been approved. You can now create "
	    "dandisets and upload data:\n\n%s/\n\nYour API key for the dandi command-line client is "
	    "in the user menu of the web site.\n", name, req->cfg->instance_name, req->cfg->web_url);
}

int
notify_registered(struct request *req, const char *username, const char *email, const char *name,
    const char *status)
{
	if (strcmp(status, "APPROVED") == 0)
		return queue(req, with_admin(req, email), "Your DANDI Account", approved_text(req, name));
	if (queue(req, with_admin(req, email), arena_printf(&req->arena, "DANDI: New user registered: %s",
	    email), arena_printf(&req->arena, "Dear %s,\n\nThank you for registering with the %s Archive. "
	    "An administrator will review your account shortly; you will hear from us when it is "
	    "approved.\n", name, req->cfg->instance_name)) != 0)
		return -1;
	if (*req->cfg->admin_email == '\0')
		return 0;
	return queue(req, req->cfg->admin_email, arena_printf(&req->arena, "DANDI: Review new user: %s",
	    username), arena_printf(&req->arena, "A new user is waiting for review:\n\n  %s <%s>\n\n"
	    "%s/dashboard/user/%s/\n", name, email, req->cfg->api_url, req_urlencode(req, username)));
}

int
notify_decision(struct request *req, const char *email, const char *name, const char *status,
    const char *reason)
{
	if (strcmp(status, "APPROVED") == 0)
		return queue(req, with_admin(req, email), "Your DANDI Account", approved_text(req, name));
	return queue(req, with_admin(req, email), "Your DANDI Account", arena_printf(&req->arena,
	    "Dear %s,\n\nYour account on the %s Archive has been rejected for this reason:\n\n  %s\n\n"
	    "Reply to this message if you think this is a mistake.\n", name, req->cfg->instance_name,
	    reason));
}

int
notify_owner_changes(struct request *req, const char *dandiset_id, const char *new_ids)
{
	const char *params[3] = { dandiset_id, new_ids, req->cfg->web_url };

	return req_query(req, &mail_owner_changes, 3, params) == NULL ? -1 : 0;
}
