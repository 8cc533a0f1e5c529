/* xalloc.c - allocation that never returns NULL. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/xalloc.h"

static xalloc_fatal_fn *fatal_hook;

void
xalloc_set_fatal_hook(xalloc_fatal_fn *fn)
{
	fatal_hook = fn;
}

void
xalloc_die(const char *msg)
{
	xalloc_fatal_fn *fn = fatal_hook;

	fatal_hook = NULL;	/* a hook that allocates must not recurse */
	if (fn != NULL)
		fn();
	fprintf(stderr, "signalbox: fatal: %s\n", msg);
	exit(70);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		xalloc_die("out of memory");
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		xalloc_die("out of memory");
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *q;

	if (size != 0 && nmemb > SIZE_MAX / size)
		xalloc_die("allocation size overflow");
	q = realloc(p, nmemb * size != 0 ? nmemb * size : 1);
	if (q == NULL)
		xalloc_die("out of memory");
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		xalloc_die("bad format");
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}
