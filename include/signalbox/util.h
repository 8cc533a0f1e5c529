/* util.h - small helpers shared by every layer. */
#ifndef SIGNALBOX_UTIL_H
#define SIGNALBOX_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Monotonic clock in milliseconds. */
uint64_t util_now_ms(void);

/* Wall clock in milliseconds since the epoch. */
int64_t util_wall_ms(void);

/* Parse a duration "250ms", "5s", "2m", "1h" (bare number = seconds) into
 * milliseconds.  -1 when malformed. */
int util_parse_duration_ms(const char *s, int64_t *out_ms);

/* Format an age in ms compactly: "4s", "3m", "2h", "5d"; into BUF of LEN. */
void util_fmt_age(char *buf, size_t len, int64_t age_ms);

/* B bytes in words: "812 B", "4.1 MB", "73 GB" (kB = 1024 B); "?" when negative. */
void util_fmt_bytes(char *buf, size_t len, int64_t b);

/* MS as a short duration: "840ms", "12s", "3m05s", "2h10m", "1d04h". */
void util_fmt_duration(char *buf, size_t len, int64_t ms);

/* Milliseconds until util_fmt_age's text for AGE_MS changes. */
int64_t util_age_next_change(int64_t age_ms);

/* Levenshtein distance, capped at MAX+1, for did-you-mean suggestions. */
int util_edit_distance(const char *a, const char *b, int max);

/* strlcpy semantics: always NUL-terminates, returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t len);

/* Case-insensitive (ASCII) substring search; NULL when absent. */
const char *util_strcasestr(const char *hay, const char *needle);

/* Epoch MS as RFC 3339 UTC with milliseconds ("2026-11-23T14:05:09.123Z"). */
void util_format_rfc3339(char *buf, size_t len, int64_t ms);

#endif
