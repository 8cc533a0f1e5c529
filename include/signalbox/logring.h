/* logring.h - the store-owned, size-bounded ring of log lines.
 *
 * One contiguous byte buffer holds, in arrival order, one record per line:
 * a small fixed header (timestamp, level, source, flags, lengths) followed
 * by the line's display-safe text.  A second array holds one 32-bit offset
 * per live line, so any line is found by position or seq in O(1).  The two
 * together never take more than the budget given to logring_new
 * (`logs.max_memory`, default 64 MiB): the offset array is sized for the
 * smallest possible record, so whatever the line lengths the budget holds.
 * Both are allocated once; pages become resident only as they are written,
 * so a ring that holds 1 MiB of lines costs about 1 MiB.
 *
 * Drop policy: appending never fails and never grows the ring.  When the
 * new line does not fit, the oldest lines are dropped until it does; each
 * drop is counted (ring-wide and per source).  A line longer than a quarter
 * of the buffer is cut (LOG_LINE_CUT) to fit.
 *
 * Order: the ring is arrival order, and seq numbers are consecutive in it
 * (seq = first_seq + position), so a pane that remembers a seq can always
 * tell whether the line is still there.  Lines of several sources may
 * arrive out of time order (a source replaying after a reconnect, clocks
 * that disagree).  Each line keeps the timestamp it carried; the ring also
 * keeps, per line, the largest timestamp seen up to it ("ts_key"), which is
 * non-decreasing, and logring_find_ts binary-searches that: it returns the
 * first line at which the ring's clock reaches T, so every line before it
 * is older than T.  Panes show arrival order (a live tail's natural order)
 * with each line's own timestamp.
 *
 * Ownership: the ring owns every byte.  A struct log_line filled by
 * logring_get / logring_get_seq points into the buffer and is valid until
 * the next logring_append, logring_clear or logring_free (an append may
 * overwrite the oldest lines).  Not thread-safe: one loop thread.
 */
#ifndef SIGNALBOX_LOGRING_H
#define SIGNALBOX_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/logline.h"

#define LOGRING_DEFAULT_MEMORY ((size_t)64 << 20)
#define LOGRING_MIN_MEMORY ((size_t)64 << 10)	/* smaller budgets are raised to this */
#define LOGRING_MAX_SOURCES 1024

struct logring;

/* Per-source bookkeeping; names are copied (at most 63 bytes kept). */
struct logring_source {
	char name[64];
	uint64_t lines;		/* lines currently in the ring */
	uint64_t total;		/* lines ever appended */
	uint64_t dropped;	/* lines dropped to make room */
};

struct logring_stats {
	size_t budget;		/* bytes allowed for buffer + index */
	size_t buffer_bytes;	/* size of the byte buffer (part of budget) */
	size_t index_bytes;	/* size of the offset index (part of budget) */
	size_t used_bytes;	/* bytes of records currently live */
	uint64_t lines;		/* lines currently in the ring */
	uint64_t total;		/* lines ever appended */
	uint64_t dropped;	/* lines dropped to make room */
	uint64_t cut;		/* lines the ring itself cut to fit */
	uint64_t by_level[LOG_LEVEL_COUNT];	/* live lines per level */
};

/* A ring of at most MAX_MEMORY bytes (0 = LOGRING_DEFAULT_MEMORY; values
 * below LOGRING_MIN_MEMORY are raised to it).  Source 0 exists already and
 * is named "-". */
struct logring *logring_new(size_t max_memory);

/* Free the ring and NULL *RING (NULL-safe). */
void logring_free(struct logring **ring);

/* Drop every line (counted as dropped); seq numbers keep increasing. */
void logring_clear(struct logring *ring);

/* Register a source named NAME and return its index (the struct
 * log_line.source of its lines).  Registering a name that exists returns
 * its index.  Past LOGRING_MAX_SOURCES, returns 0. */
uint16_t logring_source_add(struct logring *ring, const char *name);

/* Number of registered sources (>= 1). */
size_t logring_source_count(const struct logring *ring);

/* Source IDX's record, NULL when out of range.  Valid until the next
 * logring_source_add. */
const struct logring_source *logring_source_get(const struct logring *ring, size_t idx);

/* Copy LINE (text, lengths, ts_ms, level, format, source, flags) into the
 * ring, dropping the oldest lines if needed, and return the seq it got.
 * LINE->seq is ignored; LINE->text may point anywhere (even into the ring's
 * own buffer is not allowed).  An unknown source index is stored as 0. */
uint64_t logring_append(struct logring *ring, const struct log_line *line);

/* Lines currently held. */
size_t logring_count(const struct logring *ring);

/* Seq of the oldest line held (== logring_end_seq when empty). */
uint64_t logring_first_seq(const struct logring *ring);

/* Seq the next appended line will get: one past the newest.  Changes
 * whenever a line arrives, so panes use it as a generation counter. */
uint64_t logring_end_seq(const struct logring *ring);

/* Fill OUT with the line at position POS (0 = oldest).  0, or -1 when POS
 * is out of range (OUT untouched). */
int logring_get(const struct logring *ring, size_t pos, struct log_line *out);

/* Fill OUT with line SEQ.  0, or -1 when it was dropped or is not there
 * yet. */
int logring_get_seq(const struct logring *ring, uint64_t seq, struct log_line *out);

/* Seq of the first line at which the ring's running-maximum timestamp
 * reaches TS_MS (see "Order" above); logring_end_seq when none does. */
uint64_t logring_find_ts(const struct logring *ring, int64_t ts_ms);

/* Counters of the whole ring into *OUT. */
void logring_stats_get(const struct logring *ring, struct logring_stats *out);

#endif
