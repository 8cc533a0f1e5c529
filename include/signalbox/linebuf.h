/* linebuf.h - split a byte stream into lines, bounded.
 *
 * Used by every producer of lines (child processes, log files, standard
 * input).  Bytes are passed through unchanged: no decoding, no sanitising,
 * the '\n' is dropped and nothing else ('\r' stays; the parser decides).
 *
 * Memory is bounded by MAX_LINE: a line longer than that is delivered,
 * when its newline comes, as its first MAX_LINE bytes with LINEBUF_CUT and
 * its full length in ORIG_LEN; the rest is counted, not kept.  A line that
 * never ends is held (its head only) until linebuf_flush.
 */
#ifndef SIGNALBOX_LINEBUF_H
#define SIGNALBOX_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

/* flags of a delivered line */
enum {
	LINEBUF_CUT = 1u << 0,		/* longer than max_line: DATA is the head */
	LINEBUF_PARTIAL = 1u << 1,	/* flushed without its newline (EOF, timeout) */
	LINEBUF_CONT = 1u << 2,		/* the rest of a line flushed earlier as PARTIAL */
};

/* One line: DATA/LEN valid only during the call.  Return nonzero to stop
 * the feed (the owner is going away). */
typedef int linebuf_fn(const char *data, size_t len, uint64_t orig_len, unsigned flags, void *ud);

struct linebuf {
	char *buf;		/* head of the current line, LEN bytes (<= max_line) */
	size_t len;
	size_t cap;
	size_t max_line;
	uint64_t orig;		/* bytes of the current line so far */
	int cont;		/* the current line continues a flushed partial one */
};

/* Embedded init; MAX_LINE 0 means 64 KiB. */
void linebuf_init(struct linebuf *lb, size_t max_line);

/* Free the held bytes. */
void linebuf_fini(struct linebuf *lb);

/* Feed LEN bytes; FN runs once per complete line, in order.  Returns 0, or
 * -1 when FN asked to stop (the rest of DATA is dropped). */
int linebuf_feed(struct linebuf *lb, const char *data, size_t len, linebuf_fn *fn, void *ud);

/* Deliver the held partial line, if any, with LINEBUF_PARTIAL; the bytes
 * that follow it form a line flagged LINEBUF_CONT.  Returns what FN
 * returned (0 when nothing was held). */
int linebuf_flush(struct linebuf *lb, linebuf_fn *fn, void *ud);

/* Forget the held partial line without delivering it. */
void linebuf_reset(struct linebuf *lb);

/* Bytes received of the line not yet delivered (0 when none). */
uint64_t linebuf_pending(const struct linebuf *lb);

#endif
