/* logline.h - one log line as the log engine keeps it.
 *
 * Shared vocabulary of the log ring (logring.h), the ingest parser
 * (logparse.h) and the filter language (logfilter.h).  A struct log_line
 * is a view: TEXT points into the ring's byte buffer and is valid only
 * until the ring next accepts a line (the oldest lines are overwritten when
 * it is full).  Copy what must outlive that.
 *
 * TEXT is display-safe: valid UTF-8 (invalid bytes replaced by U+FFFD),
 * no control bytes (made visible as control pictures), no escape sequence
 * other than ANSI SGR colour when the ring was told to keep it (see
 * logparse.h).  The one exception: the lines of a joined entry
 * (LOG_LINE_JOINED, a stack trace) are separated by '\n'.  It is not
 * NUL-terminated.
 */
#ifndef SIGNALBOX_LOGLINE_H
#define SIGNALBOX_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LEVEL_INFO_TABLE(_) \
	_(NONE, "none") \
	_(TRACE, "trace") \
	_(DEBUG, "debug") \
	_(INFO, "info") \
	_(NOTICE, "notice") \
	_(WARN, "warn") \
	_(ERROR, "error") \
	_(FATAL, "fatal")

enum log_level {
#define LOG_LEVEL_ENUM(id, name) LOG_LEVEL_##id,
	LOG_LEVEL_INFO_TABLE(LOG_LEVEL_ENUM)
#undef LOG_LEVEL_ENUM
	LOG_LEVEL_COUNT
};

/* How the line was recognised at ingest. */
enum log_format {
	LOG_FMT_PLAIN,		/* free text (a level word may have been found) */
	LOG_FMT_JSON,		/* one JSON object */
	LOG_FMT_LOGFMT,		/* key=value pairs */
	LOG_FMT_ACCESS,		/* common/combined access log */
};

/* struct log_line.flags */
enum {
	LOG_LINE_CUT = 1u << 0,		/* longer than logs.max_line: TEXT is the head */
	LOG_LINE_JOINED = 1u << 1,	/* continuation lines (a stack trace) joined in */
	LOG_LINE_BAD_UTF8 = 1u << 2,	/* invalid UTF-8 was replaced */
	LOG_LINE_CTRL = 1u << 3,	/* control bytes or escape sequences neutralised */
	LOG_LINE_NO_TS = 1u << 4,	/* no timestamp in the line: TS_MS is the arrival time */
};

struct log_line {
	const char *text;	/* display-safe bytes, LEN of them (see above) */
	uint32_t len;
	uint32_t msg_off;	/* the message inside TEXT (the whole text when */
	uint32_t msg_len;	/*   nothing better was found) */
	uint32_t orig_len;	/* bytes as received, before cutting/joining */
	int64_t ts_ms;		/* epoch ms (from the line, else arrival) */
	uint64_t seq;		/* ingest number, strictly increasing, never reused */
	uint16_t source;	/* index of the source that produced it */
	uint8_t level;		/* enum log_level */
	uint8_t format;		/* enum log_format */
	uint32_t flags;		/* LOG_LINE_* */
};

#endif
