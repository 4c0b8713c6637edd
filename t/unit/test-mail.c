/* test-mail.c - e-mail messages as sent. */
#include <string.h>

#include "mail.h"
#include "tap.h"

static char *
fmt(const struct mail *m)
{
	static struct buf b;

	buf_free(&b);
	buf_init(&b);
	mail_format(m, &b);
	buf_append(&b, "", 1);
	return b.data;
}

int
main(void)
{
	const char *to[] = { "ann@example.org", "bob@example.org", NULL };
	struct mail m = { .id = "42", .from = "DANDI Archive <dandi@example.org>", .to = to,
	    .reply_to = "", .subject = "Your DANDI Account", .body = "Hello,\nline two\n", .date = 0 };
	char *s = fmt(&m);

	ok(strstr(s, "From: DANDI Archive <dandi@example.org>\r\n") != NULL, "From");
	ok(strstr(s, "To: ann@example.org, bob@example.org\r\n") != NULL, "To lists every recipient");
	ok(strstr(s, "Subject: Your DANDI Account\r\n") != NULL, "ASCII subject as is");
	ok(strstr(s, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL, "Date in RFC 5322 form");
	ok(strstr(s, "Message-ID: <dandi-mail-42@dandi-archive>\r\n") != NULL, "Message-ID from the outbox id");
	ok(strstr(s, "Reply-To") == NULL, "no empty Reply-To");
	ok(strstr(s, "\r\n\r\nHello,\r\nline two\r\n") != NULL && s[strlen(s) - 1] == '\n', "body with CRLF line ends");

	m.subject = "Added\r\nBcc: victim@example.org";
	m.reply_to = "admin@example.org\nX-Evil: 1";
	s = fmt(&m);
	ok(strstr(s, "\nBcc:") == NULL && strstr(s, "Subject: Added  Bcc: victim@example.org\r\n") != NULL,
	    "CR LF in a subject cannot add a header");
	ok(strstr(s, "\nX-Evil") == NULL, "nor in Reply-To");

	m.subject = "Added to Dandiset \"Données ✓\"";
	s = fmt(&m);
	ok(strstr(s, "Subject: =?UTF-8?B?") != NULL, "non-ASCII subject: RFC 2047 encoded words");
	ok(strstr(s, "Données") == NULL, "... no raw UTF-8 in the header");

	ok(mail_address_ok("ann@example.org"), "plain address");
	ok(!mail_address_ok("Ann <ann@example.org>"), "display names are not addresses");
	ok(!mail_address_ok("a@b.org, c@d.org"), "two addresses in one");
	ok(!mail_address_ok("a@b.org\r\nRCPT TO:<x@y>"), "SMTP command injection");
	ok(!mail_address_ok("nobody"), "no @");
	ok(!mail_address_ok(""), "empty");
	return done_testing();
}
