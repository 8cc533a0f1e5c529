/* logfilter.h - the log filter language and search over the ring.
 *
 * The language (Railway's, plus regex; docs/logs.md has the full text):
 *   timeout            plain term: case-insensitive (ASCII) substring
 *   "upstream failed"  phrase: the same, spaces included; \" and \\ escape
 *   -term  -"a b"      negation of the next term or group (also NOT x)
 *   a b   a AND b      both (juxtaposition is AND; AND binds tighter)
 *   a OR b             either
 *   ( ... )            grouping
 *   @level:error       the line's level is exactly ERROR (Railway's
 *                      meaning); @level:>=warn means WARN or worse,
 *                      also >, <, <=; level words as in logparse_level_word
 *   @source:api        the line came from the source named api
 *   @key:value         structured field KEY ("a.b" nests) of a JSON or
 *                      logfmt line equals VALUE (case-insensitive); VALUE
 *                      may be quoted, "*" means the field exists, and
 *                      >, >=, <, <= compare numbers (@status:>=500)
 *   /regex/  /re/i     PCRE2 (JIT-compiled) on the line's text; i = caseless
 * AND and OR are operators only in upper case; any other word is a term.
 * The empty filter matches every line.
 *
 * Errors name the position and what to do:
 *   "filter:1:7: unclosed quote (add a closing \")"
 *
 * Matching is against the line's display-safe TEXT (struct log_line), so
 * an escape sequence stripped at ingest cannot be searched for.  A filter
 * is immutable once compiled except for logfilter_bind, and may be used
 * for any number of lines and rings; it is not thread-safe (the regex
 * match data is shared).
 */
#ifndef SIGNALBOX_LOGFILTER_H
#define SIGNALBOX_LOGFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/logline.h"

struct err;
struct logring;
struct logfilter;

/* Byte range of a match inside struct log_line.text. */
struct logfilter_span {
	uint32_t off;
	uint32_t len;
};

enum logfilter_dir {
	LOGFILTER_BACKWARD = -1,
	LOGFILTER_FORWARD = 1,
};

/* Where an incremental scan is; the caller owns it (embed it anywhere).
 * Fill it with logfilter_cursor_init; the scan functions move it. */
struct logfilter_cursor {
	uint64_t seq;		/* next line to examine */
	int dir;		/* enum logfilter_dir */
	int done;		/* 1: reached the end (FORWARD: the newest line,
				 *    which new lines may move later) or the start */
	uint64_t scanned;	/* lines examined so far */
	uint64_t matched;	/* matches so far */
	uint64_t skipped;	/* lines dropped from the ring before the scan
				 * reached them (FORWARD) */
};

/* Called for each match of logfilter_scan; return nonzero to stop there
 * (the cursor then points past the match). LINE is valid only during the
 * call. */
typedef int logfilter_hit_fn(const struct log_line *line, void *ud);

/* Compile EXPR.  NULL on error with E filled ("filter:1:7: ..."). */
struct logfilter *logfilter_compile(const char *expr, struct err *e);

/* Free F and NULL *F (NULL-safe). */
void logfilter_free(struct logfilter **f);

/* Whether F matches every line (the empty filter). */
int logfilter_is_empty(const struct logfilter *f);

/* The expression F was compiled from. */
const char *logfilter_expr(const struct logfilter *f);

/* Resolve @source:NAME against RING's source table.  Scans do it by
 * themselves; call it before logfilter_match when sources may have been
 * added since. */
void logfilter_bind(struct logfilter *f, const struct logring *ring);

/* 1 when LINE matches F, else 0. */
int logfilter_match(const struct logfilter *f, const struct log_line *line);

/* Store in SPANS (at most MAX) the byte ranges of LINE's text matched by
 * F's positive terms, phrases and regexes (not those under a negation),
 * sorted by offset, overlaps merged; returns how many were found (may be
 * more than MAX: only MAX are stored). */
size_t logfilter_highlight(const struct logfilter *f, const struct log_line *line,
    struct logfilter_span *spans, size_t max);

/* Start a scan at FROM_SEQ (included) going DIR.  FROM_SEQ may be past
 * either end of the ring: it is clamped when the scan runs. */
void logfilter_cursor_init(struct logfilter_cursor *cur, uint64_t from_seq,
    enum logfilter_dir dir);

/* Examine at most BUDGET lines of RING from CUR, calling FN (may be NULL:
 * count only) for each match of F (NULL = every line).  Returns 1 when the
 * scan reached its end (cur->done), 0 when the budget ran out first or FN
 * stopped it.  Call again with the same cursor to go on: a pane runs one
 * slice per frame and never blocks.  A FORWARD scan that is done resumes
 * with the lines that arrived since.  The ring must not change inside FN. */
int logfilter_scan(struct logfilter *f, const struct logring *ring,
    struct logfilter_cursor *cur, size_t budget, logfilter_hit_fn *fn, void *ud);

/* Next match of F from CUR (n / N, and e/E with "@level:>=error", w/W
 * with "@level:warn"), examining at most BUDGET lines.  1 with *SEQ set
 * (the cursor moves past it, so calling again finds the one after), 0 when
 * the end was reached without one, -1 when the budget ran out (call again
 * next frame; cur->scanned shows progress). */
int logfilter_find(struct logfilter *f, const struct logring *ring,
    struct logfilter_cursor *cur, size_t budget, uint64_t *seq);

#endif
