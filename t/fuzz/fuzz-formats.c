/*
 * fuzz-formats - the string checks that metadata and requests meet one
 * value at a time: the JSON Schema formats (js_format_check: date,
 * date-time, time, duration, email, hostname, ipv4, ipv6, uri,
 * uri-reference, uuid, json-pointer, regex), Python's repr, strip and len
 * for messages (pyunicode.c), the UTF-8 repair of query values
 * (utf8_fix), timestamps (ts_iso), numbers, booleans, uuids and mail
 * addresses. The input's first byte picks the format, the rest is the
 * string. Checked: no memory error; known formats answer 0 or 1;
 * utf8_fix's output is valid UTF-8 and it leaves valid text alone; an
 * accepted mail address has no line break.
 */
#include "arena.h"
#include "fuzz.h"
#include "jsonschema.h"
#include "mail.h"
#include "pyunicode.h"

static const char *const formats[] = {
	"date", "date-time", "time", "duration", "email", "hostname", "ipv4", "ipv6", "uri",
	"uri-reference", "uuid", "json-pointer", "regex",
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *s = fuzz_cstr(data + 1, size - 1);
	size_t len = strlen(s);
	const char *format = formats[data[0] % NFORMATS];
	struct arena a;

	int rc = js_format_check(format, s);
	FUZZ_CHECK(rc == 0 || rc == 1, "format %s answered %d", format, rc);

	long chars = utf8_chars(s, len);
	char *fixed = utf8_fix(s);
	if (chars >= 0)
		FUZZ_CHECK(fixed == NULL, "utf8_fix changed valid text");
	else {
		FUZZ_CHECK(fixed != NULL && utf8_chars(fixed, strlen(fixed)) >= 0, "utf8_fix left bad UTF-8");
		free(fixed);
	}
	const char *text = chars >= 0 ? s : "";

	/* pyunicode wants valid UTF-8 (as every message text is). */
	arena_init(&a);
	const char *r = py_repr(&a, text);
	FUZZ_CHECK(r != NULL && utf8_chars(r, strlen(r)) >= 0, "repr is not UTF-8");
	size_t st, en;
	py_strip(text, strlen(text), &st, &en);
	FUZZ_CHECK(st <= en && en <= strlen(text), "strip %zu..%zu of %zu", st, en, strlen(text));
	FUZZ_CHECK(py_len(text) == (size_t)(chars >= 0 ? chars : 0), "len");
	arena_reset(&a);

	char iso[32];
	if (ts_iso(s, iso))
		FUZZ_CHECK(strlen(iso) < sizeof(iso), "ts_iso");
	int64_t i64;
	bool b;
	(void)parse_int64(s, &i64);
	(void)parse_bool(s, &b);
	(void)is_uuid(s);
	if (mail_address_ok(s))
		FUZZ_CHECK(strpbrk(s, "\r\n") == NULL, "mail address %s", s);
	free(s);
	return 0;
}
