/* text.h - UTF-8 decoding, display width and sanitising of untrusted text. */
#ifndef SIGNALBOX_TEXT_H
#define SIGNALBOX_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_REPLACEMENT 0xFFFDu

/* Decode one code point from S (N > 0 bytes).  Stores it in *CP and returns
 * the bytes consumed (>= 1).  Invalid or truncated sequences, overlongs and
 * surrogates give TEXT_REPLACEMENT and consume one byte. */
size_t text_decode(const char *s, size_t n, uint32_t *cp);

/* Encode CP into OUT (>= 4 bytes); returns the byte count. */
size_t text_encode(uint32_t cp, char *out);

/* Display width of CP: 0 for combining marks, 2 for wide, 1 otherwise.
 * Controls (which must be sanitised first) report 1. */
int text_cp_width(uint32_t cp);

/* Whether CP must not be sent to a terminal as is (C0, DEL, C1, ESC). */
int text_cp_is_control(uint32_t cp);

/* Visible stand-in for control CP: U+2400 + cp for C0 (␛ for ESC), U+2421
 * for DEL, U+FFFD for C1; ASCII mode gives '?'. */
uint32_t text_control_picture(uint32_t cp, int ascii);

/* Copy N bytes of untrusted SRC into a new NUL-terminated string with every
 * control byte and escape sequence made visible and invalid UTF-8 replaced.
 * Tabs become one space, newlines one "⏎" unless KEEP_NEWLINES.  Caller
 * frees. */
char *text_sanitize(const char *src, size_t n, int keep_newlines);

#endif
