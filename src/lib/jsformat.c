/* jsformat.c - the "format" values of JSON Schema checked by hand. */
#include <string.h>

#include "jsonschema.h"

int
js_format_check(const char *format, const char *s)
{
	(void)format; (void)s;
	return -1;
}
