/* logfeed.h - every log source of the console, into the store's ring.
 *
 * One struct logfeed owns the store's log ring (store_logs_set) and the
 * producers that fill it: the Railway provider's environment log stream
 * (railway_logs_open, one ring source per service) and the configured
 * files and commands (logsrc.h, one ring source each).  Every line goes
 * through a parser (logparse.h) of its source — once, at ingest — and
 * then into the ring; the store is told once per batch
 * (store_logs_appended), from a zero-delay timer, never per line.
 *
 * Railway lines are structured (severity, message, attributes); they are
 * written as logfmt ("time=... level=... msg=\"...\" key=value ...") so
 * that the level, the time and every attribute are searchable with the
 * filter language (@level:error, @httpStatus:>=500).
 *
 * The feed's health is store source "logs": OK while every producer
 * works, STALE with the reason while one is reconnecting or waiting (a
 * missing file, a dropped subscription), so the pane and the status bar
 * never show a stalled tail as live.
 *
 * OWNERSHIP: the caller owns the feed (logfeed_free); the ring belongs to
 * the store.  Free the feed before the railway client it was given.
 */
#ifndef SIGNALBOX_LOGFEED_H
#define SIGNALBOX_LOGFEED_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct railway;
struct store;
struct logfeed;

#define LOGFEED_SOURCE "logs"	/* store source name */

/* A file to follow (tail -F) or a command whose output to follow. */
struct logfeed_source {
	const char *name;		/* the tag in the pane and @source:NAME */
	const char *path;		/* a file, or NULL */
	const char *const *argv;	/* a command (NULL-terminated), or NULL */
	int restart;			/* command: start it again when it ends */
	unsigned backlog;		/* file: the last lines read at start */
	int tz_offset_min;		/* zone of timestamps without one */
};

struct logfeed_opts {
	size_t max_memory;		/* the ring's budget; 0 = 64 MiB */
	size_t max_line;		/* bytes kept per line; 0 = 64 KiB */
	int keep_sgr;			/* keep ANSI colours (else stripped) */
	const struct logfeed_source *sources;	/* copied by the sources */
	size_t n_sources;
};

/* A feed on LOOP publishing into STORE with O (NULL = defaults).  Starts
 * the sources; one that cannot start shows its error in the state. */
struct logfeed *logfeed_new(uv_loop_t *loop, struct store *store, const struct logfeed_opts *o);

/* Follow the Railway environment's logs through RW (not owned; must
 * outlive the feed or be detached with logfeed_detach_railway first). */
void logfeed_attach_railway(struct logfeed *f, struct railway *rw);
void logfeed_detach_railway(struct logfeed *f);

/* Stop every producer and free *FP (the ring stays in the store);
 * NULL-safe; NULLs *FP.  The loop must run afterwards (handles close). */
void logfeed_free(struct logfeed **fp);

/* Append the Railway log line given by its parts to F (exported for tests:
 * the same path the live stream takes). */
struct railway_log;
void logfeed_railway_line(struct logfeed *f, const struct railway_log *l);

#endif
