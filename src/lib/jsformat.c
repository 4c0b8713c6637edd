/*
 * jsformat.c - the "format" values of JSON Schema, checked by hand after
 * their RFCs: dates and times (RFC 3339, with its appendix A durations),
 * e-mail addresses (RFC 5321 mailbox), hostnames (RFC 1123; A-labels are
 * checked as LDH only, not decoded), IP addresses, URIs (RFC 3986), UUIDs.
 * Everything is ASCII: a digit is [0-9], whatever the locale says.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"

#define DIGIT(c)	((c) >= '0' && (c) <= '9')
#define ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define HEX(c)		(DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

/* n digits at s, as a number; -1 unless all are digits */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!DIGIT(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* full-date; advances *sp */
static bool
parse_date(const char **sp)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char	*s = *sp;
	int		 y, m, d;

	y = digits(s, 4);
	if (y < 0 || s[4] != '-' || (m = digits(s + 5, 2)) < 1 || m > 12 ||
	    s[7] != '-' || (d = digits(s + 8, 2)) < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	*sp = s + 10;
	return true;
}

/* full-time; a leap second must fall on 23:59 UTC */
static bool
parse_time(const char *s)
{
	int	h, m, sec, oh = 0, om = 0, sign = 0;

	if ((h = digits(s, 2)) < 0 || h > 23 || s[2] != ':' ||
	    (m = digits(s + 3, 2)) < 0 || m > 59 || s[5] != ':' ||
	    (sec = digits(s + 6, 2)) < 0 || sec > 60)
		return false;
	s += 8;
	if (*s == '.') {
		if (!DIGIT(s[1]))
			return false;
		for (s++; DIGIT(*s); s++)
			;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if ((oh = digits(s + 1, 2)) < 0 || oh > 23 || s[3] != ':' ||
		    (om = digits(s + 4, 2)) < 0 || om > 59)
			return false;
		s += 6;
	} else
		return false;
	if (*s != '\0')
		return false;
	if (sec == 60) {
		int utc = ((h * 60 + m - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;
		if (utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

static bool
is_date(const char *s)
{
	return parse_date(&s) && *s == '\0';
}

static bool
is_date_time(const char *s)
{
	return parse_date(&s) && (*s == 'T' || *s == 't') && parse_time(s + 1);
}

/* RFC 3339 appendix A: P[nY][nM][nD][T[nH][nM][nS]] or PnW, with the
 * units of each part consecutive (no 1Y2D, no 1H2S). */
static bool
is_duration(const char *s)
{
	static const char date_units[] = "YMD", time_units[] = "HMS";
	const char	*units = date_units;
	int		 last = -1, count = 0, in_time = 0;

	if (*s++ != 'P')
		return false;
	if (DIGIT(*s)) {
		const char *p = s;
		while (DIGIT(*p))
			p++;
		if (*p == 'W')
			return p[1] == '\0';
	}
	while (*s) {
		const char *u;
		int i;

		if (*s == 'T') {
			if (in_time++)
				return false;
			units = time_units;
			last = -1;
			s++;
			if (*s == '\0')
				return false;
			continue;
		}
		if (!DIGIT(*s))
			return false;
		while (DIGIT(*s))
			s++;
		if (*s == '\0' || (u = strchr(units, *s)) == NULL)
			return false;
		i = u - units;
		if (i <= last || (last >= 0 && i != last + 1))
			return false;
		last = i;
		count++;
		s++;
	}
	return count > 0;
}

static bool
is_ipv4_n(const char *s, size_t n)
{
	int parts = 0;
	size_t i = 0;

	while (i < n) {
		size_t st = i;
		int v = 0;
		while (i < n && DIGIT(s[i]) && i - st < 4)
			v = v * 10 + (s[i++] - '0');
		if (i == st || i - st > 3 || v > 255 || (s[st] == '0' && i - st > 1))
			return false;
		parts++;
		if (i < n) {
			if (s[i] != '.' || parts == 4 || i + 1 == n)
				return false;
			i++;
		}
	}
	return parts == 4;
}

static bool
is_ipv6_n(const char *s, size_t n)
{
	int	groups = 0;
	bool	gap = false;
	size_t	i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = true;
		i = 2;
	} else if (n >= 1 && s[0] == ':')
		return false;
	while (i < n) {
		size_t st = i, j = i;

		while (j < n && HEX(s[j]))
			j++;
		if (j < n && s[j] == '.') {
			/* an IPv4 tail */
			if (!is_ipv4_n(s + st, n - st))
				return false;
			groups += 2;
			break;
		}
		if (j == st || j - st > 4)
			return false;
		groups++;
		i = j;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':') {
			if (gap)
				return false;
			gap = true;
			i++;
		} else if (i == n)
			return false;
	}
	return gap ? groups <= 7 : groups == 8;
}

static bool
is_hostname_n(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			/* "ab--" is reserved for A-labels ("xn--") */
			if (label >= 4 && s[i - label + 2] == '-' && s[i - label + 3] == '-' &&
			    strncasecmp(s + i - label, "xn", 2) != 0)
				return false;
			label = 0;
			continue;
		}
		if (!ALPHA(s[i]) && !DIGIT(s[i]) && !(s[i] == '-' && label > 0))
			return false;
		label++;
	}
	return true;
}

static bool
is_email(const char *s)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	const char	*p = s, *dom;
	size_t		 n;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				return false;
		}
		if (*p++ != '"')
			return false;
	} else {
		bool dot = true;	/* no leading dot, no two in a row */
		for (; *p && *p != '@'; p++) {
			if (*p == '.') {
				if (dot)
					return false;
				dot = true;
			} else if (ALPHA(*p) || DIGIT(*p) || strchr(atext, *p) != NULL)
				dot = false;
			else
				return false;
		}
		if (p == s || dot)
			return false;
	}
	if (*p++ != '@')
		return false;
	dom = p;
	n = strlen(dom);
	if (n > 2 && dom[0] == '[' && dom[n - 1] == ']') {
		if (strncmp(dom + 1, "IPv6:", 5) == 0)
			return is_ipv6_n(dom + 6, n - 7);
		return is_ipv4_n(dom + 1, n - 2);
	}
	return is_hostname_n(dom, n);
}

/* URIs (RFC 3986) */

static bool
uri_chars(const char *s, const char *end, const char *extra)
{
	static const char ok[] = "-._~!$&'()*+,;=";

	for (; s < end; s++) {
		if (*s == '%') {
			if (end - s < 3 || !HEX(s[1]) || !HEX(s[2]))
				return false;
			s += 2;
		} else if (!ALPHA(*s) && !DIGIT(*s) && strchr(ok, *s) == NULL &&
		    (extra == NULL || strchr(extra, *s) == NULL))
			return false;
	}
	return true;
}

static bool
uri_authority(const char *s, const char *end)
{
	const char *at = NULL, *host, *hend, *port = NULL;

	for (const char *p = s; p < end; p++)
		if (*p == '@') {
			if (at != NULL)
				return false;
			at = p;
		}
	if (at != NULL && !uri_chars(s, at, ":"))
		return false;
	host = at != NULL ? at + 1 : s;
	if (host < end && *host == '[') {
		const char *close = memchr(host, ']', end - host);
		if (close == NULL)
			return false;
		if (!is_ipv6_n(host + 1, close - host - 1) &&
		    !(host[1] == 'v' || host[1] == 'V'))
			return false;
		hend = close + 1;
		if (hend < end && *hend != ':')
			return false;
	} else {
		hend = memchr(host, ':', end - host);
		if (hend == NULL)
			hend = end;
		/* "999.1.1.1" is a fine reg-name */
		if (!uri_chars(host, hend, NULL))
			return false;
	}
	if (hend < end) {
		port = hend + 1;
		for (const char *p = port; p < end; p++)
			if (!DIGIT(*p))
				return false;
	}
	return true;
}

static bool
is_uri_ref(const char *s, bool need_scheme)
{
	const char	*p = s, *q;
	bool		 scheme = false;

	if (ALPHA(*p)) {
		q = p;
		while (ALPHA(*q) || DIGIT(*q) || *q == '+' || *q == '-' || *q == '.')
			q++;
		if (*q == ':') {
			scheme = true;
			p = q + 1;
		}
	}
	if (need_scheme && !scheme)
		return false;
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		q = p + strcspn(p, "/?#");
		if (!uri_authority(p, q))
			return false;
		p = q;
	} else if (!scheme) {
		/* path-noscheme: no ':' in the first segment */
		size_t seg = strcspn(p, "/?#");
		if (memchr(p, ':', seg) != NULL)
			return false;
	}
	q = p + strcspn(p, "?#");
	if (!uri_chars(p, q, ":@/"))
		return false;
	p = q;
	if (*p == '?') {
		q = p + 1 + strcspn(p + 1, "#");
		if (!uri_chars(p + 1, q, ":@/?"))
			return false;
		p = q;
	}
	if (*p == '#' && !uri_chars(p + 1, p + strlen(p), ":@/?"))
		return false;
	return true;
}

static bool
is_uuid_fmt(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !HEX(s[i]))
			return false;
	}
	return s[36] == '\0';
}

static bool
is_json_pointer(const char *s)
{
	if (*s != '\0' && *s != '/')
		return false;
	for (; *s; s++)
		if (*s == '~' && s[1] != '0' && s[1] != '1')
			return false;
	return true;
}

int
js_format_check(const char *format, const char *s)
{
	size_t n = strlen(s);

	if (strcmp(format, "date") == 0)
		return is_date(s);
	if (strcmp(format, "date-time") == 0)
		return is_date_time(s);
	if (strcmp(format, "time") == 0)
		return parse_time(s);
	if (strcmp(format, "duration") == 0)
		return is_duration(s);
	if (strcmp(format, "email") == 0)
		return is_email(s);
	if (strcmp(format, "hostname") == 0)
		return is_hostname_n(s, n);
	if (strcmp(format, "ipv4") == 0)
		return is_ipv4_n(s, n);
	if (strcmp(format, "ipv6") == 0)
		return is_ipv6_n(s, n);
	if (strcmp(format, "uri") == 0)
		return is_uri_ref(s, true);
	if (strcmp(format, "uri-reference") == 0)
		return is_uri_ref(s, false);
	if (strcmp(format, "uuid") == 0)
		return is_uuid_fmt(s);
	if (strcmp(format, "json-pointer") == 0)
		return is_json_pointer(s);
	if (strcmp(format, "regex") == 0)
		return js_regex_valid(s);
	return -1;
}
