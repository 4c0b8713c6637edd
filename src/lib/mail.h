/* mail.h - e-mail out: a message formatted as RFC 5322 text, delivered by
 * SMTP (libcurl; smtp:// or smtps:// URL in config smtp_url) or, without
 * an SMTP server, written into a spool directory (config mail_spool), one
 * file per message named by its outbox id, so a rerun rewrites the same
 * file instead of making a second one. */
#ifndef DANDI_MAIL_H
#define DANDI_MAIL_H

#include <stddef.h>
#include <time.h>

#include "util.h"

struct config;

struct mail {
	const char	*id;		/* outbox row id: Message-ID and spool name */
	const char	*from;
	const char	**to;		/* NULL-terminated */
	const char	**bcc;		/* NULL-terminated, may be NULL */
	const char	*reply_to;	/* "" or NULL: none */
	const char	*subject;
	const char	*body;		/* UTF-8 text */
	time_t		 date;
};

/* The message as sent (headers, blank line, body with CRLF line ends).
 * Header values lose any CR/LF (no header injection); a subject that is
 * not ASCII is RFC 2047 encoded. Bcc is not written. */
void	mail_format(const struct mail *, struct buf *out);
/* True when s may stand in an address header: one address, no CR/LF, no
 * angle brackets or commas. */
int	mail_address_ok(const char *s);
/* 0 delivered (or spooled), -1 with err set. */
int	mail_deliver(const struct config *, const struct mail *, char *err, size_t errlen);

#endif
