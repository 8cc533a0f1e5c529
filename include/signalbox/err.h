/* err.h - error reports a user can act on.
 *
 * Fallible functions return 0 / -1 and fill an optional struct err.  The
 * message is complete prose ("config.yml:12:3: unknown key 'endpionts' (did
 * you mean 'endpoints'?)"); callers print it as is.
 */
#ifndef SIGNALBOX_ERR_H
#define SIGNALBOX_ERR_H

enum err_code {
	ERR_NONE = 0,
	ERR_IO,		/* file or socket trouble */
	ERR_PARSE,	/* malformed input: config, theme, reply */
	ERR_INVALID,	/* well-formed but not acceptable */
	ERR_NOMEM,
	ERR_NET,	/* network failure */
	ERR_INTERNAL,
};

struct err {
	enum err_code code;
	char msg[1024];
};

/* Fill E (may be NULL) with CODE and a printf-style message; returns -1. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix E's message with a printf-style context ("file.yml: ..."). */
void err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset E to ERR_NONE with an empty message. */
void err_clear(struct err *e);

#endif
