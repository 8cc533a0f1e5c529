/* linebuf.c - split a byte stream into bounded lines. */
#include <stdlib.h>
#include <string.h>

#include "signalbox/linebuf.h"
#include "signalbox/xalloc.h"

enum {
	LINEBUF_DEFAULT_MAX = 64 * 1024,
	LINEBUF_KEEP_CAP = 64 * 1024,	/* a bigger buffer is given back after its line */
};

void
linebuf_init(struct linebuf *lb, size_t max_line)
{
	memset(lb, 0, sizeof *lb);
	lb->max_line = max_line ? max_line : LINEBUF_DEFAULT_MAX;
}

void
linebuf_fini(struct linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = lb->cap = 0;
	lb->orig = 0;
	lb->cont = 0;
}

/* Keep up to max_line bytes of the current line. */
static void
linebuf_keep(struct linebuf *lb, const char *data, size_t n)
{
	size_t room = lb->max_line - lb->len;
	size_t need, cap;

	if (n > room)
		n = room;
	if (n == 0)
		return;
	need = lb->len + n;
	if (need > lb->cap) {
		cap = lb->cap ? lb->cap : 256;
		while (cap < need)
			cap *= 2;
		if (cap > lb->max_line)
			cap = lb->max_line;
		lb->buf = xreallocarray(lb->buf, cap, 1);
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, data, n);
	lb->len = need;
}

static void
linebuf_done(struct linebuf *lb)
{
	lb->len = 0;
	lb->orig = 0;
	lb->cont = 0;
	if (lb->cap > LINEBUF_KEEP_CAP) {
		free(lb->buf);
		lb->buf = NULL;
		lb->cap = 0;
	}
}

int
linebuf_feed(struct linebuf *lb, const char *data, size_t len, linebuf_fn *fn, void *ud)
{
	const char *p = data, *end = data + len, *nl;
	size_t n;
	unsigned flags;
	int rc;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (nl == NULL) {
			linebuf_keep(lb, p, n);
			lb->orig += n;
			return 0;
		}
		flags = lb->cont ? LINEBUF_CONT : 0;
		if (lb->cont && lb->orig == 0 && n == 0) {
			/* the newline that ends a flushed partial line */
			lb->cont = 0;
			p = nl + 1;
			continue;
		}
		if (lb->orig == 0) {
			/* the whole line is here: no copy */
			if (n > lb->max_line)
				flags |= LINEBUF_CUT;
			rc = fn(p, n < lb->max_line ? n : lb->max_line, n, flags, ud);
			lb->cont = 0;
		} else {
			linebuf_keep(lb, p, n);
			lb->orig += n;
			if (lb->orig > lb->max_line)
				flags |= LINEBUF_CUT;
			rc = fn(lb->buf, lb->len, lb->orig, flags, ud);
			linebuf_done(lb);
		}
		if (rc != 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

int
linebuf_flush(struct linebuf *lb, linebuf_fn *fn, void *ud)
{
	unsigned flags = LINEBUF_PARTIAL;
	int rc;

	if (lb->orig == 0)
		return 0;
	if (lb->cont)
		flags |= LINEBUF_CONT;
	if (lb->orig > lb->max_line)
		flags |= LINEBUF_CUT;
	rc = fn(lb->buf, lb->len, lb->orig, flags, ud);
	linebuf_done(lb);
	lb->cont = 1;
	return rc;
}

void
linebuf_reset(struct linebuf *lb)
{
	linebuf_done(lb);
}

uint64_t
linebuf_pending(const struct linebuf *lb)
{
	return lb->orig;
}
