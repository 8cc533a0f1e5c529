/* logparse.h - turning raw log bytes into struct log_line, once, at ingest.
 *
 * One struct logparse per source.  Feed it bytes as they arrive, split
 * anywhere (logparse_feed); it cuts lines at '\n' (a trailing '\r' is
 * dropped), makes each one display-safe, recognises its format, level,
 * timestamp and message, joins stack-trace continuation lines to the line
 * they belong to, and hands each finished line to the emit callback.
 *
 * Display safety (TEXT of every emitted line):
 * - invalid UTF-8 becomes U+FFFD (LOG_LINE_BAD_UTF8);
 * - C0/C1 controls, DEL, NUL and bidi overrides become visible control
 *   pictures (the same pictures as text_sanitize: text.h); a tab becomes
 *   four spaces;
 * - ANSI SGR colour (ESC [ digits/';'/':' m) is removed, or kept as is when
 *   opts.keep_sgr; every other escape sequence (cursor movement, OSC 52
 *   clipboard, window title, DCS, ...) is neutralised: its ESC is shown as
 *   "␛" and the rest as plain text (LOG_LINE_CTRL in both cases);
 * - a line whose text would exceed opts.max_line bytes is cut there, at a
 *   character boundary (LOG_LINE_CUT); orig_len keeps the size received.
 *   Bytes past the cut are never stored, so a 10 MB line costs max_line.
 * - joined continuation lines are separated by one '\n': the only control
 *   byte TEXT may hold, and only with LOG_LINE_JOINED.
 *
 * Recognition (first match wins; docs/logs.md has the full rules):
 * - JSON: a line that is one JSON object.  Level from "level" / "severity"
 *   / "lvl" / "levelname" / "loglevel" (pino/bunyan numbers 10..60, or a
 *   word), message from "msg" / "message", time from "time" / "timestamp"
 *   / "ts" / "@timestamp" (ISO-8601, or epoch seconds / ms / us / ns).
 *   MSG is the raw string content inside the quotes (escapes undecoded).
 * - logfmt: key=value pairs (at least two, starting at the first byte);
 *   the same keys as JSON.
 * - access log: common/combined format; 5xx is ERROR, 4xx WARN, else INFO;
 *   time from the [10/Oct/2000:13:55:36 -0700] field.
 * - plain: a leading ISO-8601 timestamp, a klog/glog prefix (E0612
 *   10:42:00.123456) or an Android prefix (E/Tag:); a level word (ERROR,
 *   WARN, WARNING, INFO, DEBUG, TRACE, FATAL, CRITICAL, PANIC, NOTICE, ...)
 *   in upper case, or in any case inside [] / followed by ':', within the
 *   first 160 bytes.
 * Timestamps without an offset are read in opts.tz_offset_min (minutes
 * east of UTC; the caller decides the source's zone).  Lines without a
 * timestamp get LOG_LINE_NO_TS and the time of the source's last line that
 * had one (lnav's rule: a file read hours later keeps its times), or the
 * arrival time when there was none yet.
 *
 * Multi-line entries (opts.join): a line is a continuation of the previous
 * entry when it starts with a space or tab, "at ", "Caused by:", "...",
 * "Traceback (most recent call last):", or is the final "SomeError: text"
 * line of a Python traceback.  JSON lines never are.  Because of that
 * look-ahead, an entry is held until the next line arrives, until
 * logparse_tick finds it older than opts.join_ms, or until logparse_flush;
 * an entry also ends after LOGPARSE_MAX_JOIN continuation lines, and its
 * text is cut at max_line like any line.
 *
 * Ownership: the struct log_line passed to the emit callback, and its
 * text, are valid only during the callback; logring_append copies them.
 * The callback must not call back into the same parser.
 */
#ifndef SIGNALBOX_LOGPARSE_H
#define SIGNALBOX_LOGPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/logline.h"

#define LOGPARSE_DEFAULT_MAX_LINE ((size_t)64 << 10)
#define LOGPARSE_DEFAULT_JOIN_MS 250
#define LOGPARSE_MAX_JOIN 1000

struct logparse_opts {
	size_t max_line;	/* bytes of TEXT kept per line; 0 = 64 KiB */
	int keep_sgr;		/* keep ANSI SGR colour sequences in TEXT */
	int join;		/* join stack-trace continuation lines */
	int64_t join_ms;	/* flush a held entry after this; 0 = 250 ms */
	int tz_offset_min;	/* zone of timestamps without one, minutes east of UTC */
	uint16_t source;	/* copied into every line's source */
};

struct logparse;

typedef void logparse_emit_fn(const struct log_line *line, void *ud);

/* A parser with OPTS (NULL = defaults: 64 KiB lines, SGR stripped, join
 * on, UTC) calling EMIT with UD for each finished line. */
struct logparse *logparse_new(const struct logparse_opts *opts, logparse_emit_fn *emit,
    void *ud);

/* Free the parser (held bytes are discarded, not emitted) and NULL *P. */
void logparse_free(struct logparse **p);

/* Take N bytes of input that arrived at NOW_MS (wall ms, the time given to
 * lines without a timestamp); emits every line that is complete. */
void logparse_feed(struct logparse *p, const char *buf, size_t n, int64_t now_ms);

/* Take one complete line S (N bytes, without its '\n') for producers that
 * split lines themselves (linebuf.h): ORIG_LEN is its size as received
 * (> N when the producer kept only the head; the line is then CUT).  A
 * partial line left by logparse_feed is finished first. */
void logparse_line(struct logparse *p, const char *s, size_t n, uint64_t orig_len,
    int64_t now_ms);

/* End of input: emit the partial last line (if any) and the held entry. */
void logparse_flush(struct logparse *p, int64_t now_ms);

/* Emit the held entry if it has waited opts.join_ms by NOW_MS. */
void logparse_tick(struct logparse *p, int64_t now_ms);

/* Wall ms at which logparse_tick will emit the held entry; -1 if none. */
int64_t logparse_deadline(const struct logparse *p);

/* Lines emitted so far and input lines seen (continuations included). */
uint64_t logparse_lines_out(const struct logparse *p);
uint64_t logparse_lines_in(const struct logparse *p);

/* Look up structured field KEY (KLEN bytes; "a.b" descends into nested
 * JSON objects) in LINE (a JSON or logfmt line; other formats have none).
 * On success points *VAL at the raw value inside LINE->text (a JSON
 * string without its quotes and with escapes undecoded, a number or
 * literal as written, an object or array as its text) and returns 1;
 * 0 when absent. */
int logparse_field(const struct log_line *line, const char *key, size_t klen,
    const char **val, size_t *vlen);

/* Level named by word S (N bytes, any case: "err", "warning", "E", "fatal",
 * "30"...), LOG_LEVEL_NONE when unknown. */
enum log_level logparse_level_word(const char *s, size_t n);

/* Name of LEVEL ("error"), "none" when out of range. */
const char *logparse_level_name(unsigned level);

/* Parse an ISO-8601 / RFC 3339 time ("2024-06-12T10:42:00.123Z", a space
 * instead of T, ',' or '.' before the fraction, "+02:00"/"+0200"/"Z" or no
 * zone, which means TZ_OFFSET_MIN) at S (N bytes).  Returns the bytes
 * consumed and stores epoch ms in *MS; 0 when S does not start with one. */
size_t logparse_iso8601(const char *s, size_t n, int tz_offset_min, int64_t *ms);

#endif
