/* err.c - error reports. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "signalbox/err.h"
#include "signalbox/util.h"

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[256], old[sizeof e->msg];
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	size_t plen = strlen(prefix);

	memcpy(old, e->msg, sizeof old);
	if (plen >= sizeof e->msg)
		plen = sizeof e->msg - 1;
	memcpy(e->msg, prefix, plen);
	util_strlcpy(e->msg + plen, old, sizeof e->msg - plen);
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_NONE;
	e->msg[0] = '\0';
}
