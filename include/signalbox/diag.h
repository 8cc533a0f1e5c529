/* diag.h - diagnostics to the -v file.
 *
 * Nothing is ever printed to the terminal while curses is active: every
 * module reports through diag_log, which writes to the file opened by
 * diag_open (or nowhere).  Before curses starts and after it ends, errors
 * for the user go to stderr from main only.
 */
#ifndef SIGNALBOX_DIAG_H
#define SIGNALBOX_DIAG_H

#include "signalbox/err.h"

enum diag_level { DIAG_ERROR, DIAG_WARN, DIAG_INFO, DIAG_DEBUG };

/* Open PATH for appending diagnostics (line-buffered).  -1 and E on error. */
int diag_open(const char *path, enum diag_level max, struct err *e);

/* Close the diagnostics file; safe to call when none is open. */
void diag_close(void);

/* Log one line with a timestamp and the level; a no-op without a file. */
void diag_log(enum diag_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
