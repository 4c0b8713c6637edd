/* mail.c - see mail.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "config.h"
#include "mail.h"
#include "runslots.h"

int
mail_address_ok(const char *s)
{
	const char *at;

	if (s == NULL || *s == '\0' || strlen(s) > 254 || (at = strchr(s, '@')) == NULL || at == s ||
	    at[1] == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || strchr("<>,;\"\\", *s) != NULL || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* A header value on one line: CR and LF become spaces. */
static void
header(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, name);
	buf_puts(b, ": ");
	for (const char *p = value; *p; p++)
		buf_append(b, *p == '\r' || *p == '\n' ? " " : p, 1);
	buf_puts(b, "\r\n");
}

static void
subject_header(struct buf *b, const char *s)
{
	bool ascii = true;

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	if (ascii) {
		header(b, "Subject", s);
		return;
	}
	/* RFC 2047, base64, in encoded words of at most 45 input bytes cut
	 * at character boundaries. */
	buf_puts(b, "Subject:");
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t k = n - i > 45 ? 45 : n - i;
		while (k < n - i && k > 0 && ((unsigned char)s[i + k] & 0xC0) == 0x80)
			k--;
		char chunk[64], enc[96];
		size_t m = 0;
		for (size_t j = 0; j < k; j++)
			chunk[m++] = s[i + j] == '\r' || s[i + j] == '\n' ? ' ' : s[i + j];
		EVP_EncodeBlock((unsigned char *)enc, (unsigned char *)chunk, (int)m);
		buf_printf(b, " =?UTF-8?B?%s?=%s", enc, i + k < n ? "\r\n" : "");
		i += k;
	}
	buf_puts(b, "\r\n");
}

void
mail_format(const struct mail *m, struct buf *b)
{
	char date[64], list[4096];
	struct tm tm;
	size_t used = 0;

	gmtime_r(&m->date, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	header(b, "From", m->from);
	list[0] = '\0';
	for (size_t i = 0; m->to[i] != NULL; i++)
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
		    i ? ", " : "", m->to[i]);
	header(b, "To", list);
	if (m->reply_to != NULL && *m->reply_to)
		header(b, "Reply-To", m->reply_to);
	subject_header(b, m->subject);
	header(b, "Date", date);
	buf_printf(b, "Message-ID: <dandi-mail-%s@dandi-archive>\r\n", m->id);
	buf_puts(b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	/* Body: LF -> CRLF; a line that is a lone "." stays (curl and the
	 * spool both take the text as is; SMTP dot-stuffing is curl's). */
	for (const char *p = m->body; *p; p++) {
		if (*p == '\n' && (p == m->body || p[-1] != '\r'))
			buf_append(b, "\r", 1);
		buf_append(b, p, 1);
	}
	if (b->len < 2 || b->data[b->len - 1] != '\n')
		buf_puts(b, "\r\n");
}

struct upload {
	const char	*data;
	size_t		 len, off;
};

static size_t
read_cb(char *out, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n;

	if (k > u->len - u->off)
		k = u->len - u->off;
	memcpy(out, u->data + u->off, k);
	u->off += k;
	return k;
}

static int
deliver_smtp(const struct config *cfg, const struct mail *m, struct buf *msg, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = NULL;
	struct upload u = { msg->data, msg->len, 0 };
	char from[300];
	const char *lt = strchr(m->from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (c == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	/* The envelope sender is the bare address of From. */
	if (lt != NULL && gt != NULL)
		snprintf(from, sizeof(from), "<%.*s>", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(from, sizeof(from), "<%s>", m->from);
	for (size_t i = 0; m->to[i] != NULL; i++)
		rcpt = curl_slist_append(rcpt, m->to[i]);
	for (size_t i = 0; m->bcc != NULL && m->bcc[i] != NULL; i++)
		rcpt = curl_slist_append(rcpt, m->bcc[i]);
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strncmp(cfg->smtp_url, "smtps:", 6) != 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	runslots_release();	/* waiting on the network: another worker may run */
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "smtp: %s", curl_easy_strerror(rc));
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

static int
deliver_spool(const struct config *cfg, const struct mail *m, struct buf *msg, char *err, size_t errlen)
{
	char tmp[4096], final[4096];
	int fd;

	if (mkdir(cfg->mail_spool, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", cfg->mail_spool, strerror(errno));
		return -1;
	}
	snprintf(final, sizeof(final), "%s/%s.eml", cfg->mail_spool, m->id);
	snprintf(tmp, sizeof(tmp), "%s/.%s.eml.%ld", cfg->mail_spool, m->id, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	/* Bcc recipients are kept out of the message; the spool names them
	 * in a first line a reader strips, as sendmail -t would not. */
	struct buf all;
	buf_init(&all);
	if (m->bcc != NULL && m->bcc[0] != NULL) {
		buf_puts(&all, "X-Dandi-Bcc: ");
		for (size_t i = 0; m->bcc[i] != NULL; i++)
			buf_printf(&all, "%s%s", i ? ", " : "", m->bcc[i]);
		buf_puts(&all, "\r\n");
	}
	buf_append(&all, msg->data, msg->len);
	ssize_t w = write(fd, all.data, all.len);
	int ok = w == (ssize_t)all.len && fsync(fd) == 0;
	buf_free(&all);
	if (close(fd) != 0 || !ok || rename(tmp, final) != 0) {
		snprintf(err, errlen, "%s: %s", final, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
mail_deliver(const struct config *cfg, const struct mail *m, char *err, size_t errlen)
{
	struct buf msg;
	int rc;

	for (size_t i = 0; m->to[i] != NULL; i++)
		if (!mail_address_ok(m->to[i])) {
			snprintf(err, errlen, "bad recipient address");
			return -1;
		}
	buf_init(&msg);
	mail_format(m, &msg);
	if (*cfg->smtp_url)
		rc = deliver_smtp(cfg, m, &msg, err, errlen);
	else if (*cfg->mail_spool)
		rc = deliver_spool(cfg, m, &msg, err, errlen);
	else {
		snprintf(err, errlen, "neither smtp_url nor mail_spool is configured");
		rc = -1;
	}
	buf_free(&msg);
	return rc;
}
