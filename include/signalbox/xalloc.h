/* xalloc.h - allocation that never returns NULL.
 *
 * Out of memory is fatal: the registered hook runs first (the UI uses it to
 * restore the terminal), then a message goes to stderr and the process
 * exits with status 70.
 */
#ifndef SIGNALBOX_XALLOC_H
#define SIGNALBOX_XALLOC_H

#include <stddef.h>

typedef void xalloc_fatal_fn(void);

/* Run FN before dying on out-of-memory (one hook; NULL removes it). */
void xalloc_set_fatal_hook(xalloc_fatal_fn *fn);

/* Print MSG, run the fatal hook and exit(70).  Never returns. */
void xalloc_die(const char *msg) __attribute__((noreturn));

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* Like realloc(3) with overflow check on NMEMB * SIZE. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Allocate and format; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
