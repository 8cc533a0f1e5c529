/* app.h - wiring of the whole program: loop, store, sources, console.
 *
 * main.c parses arguments and calls one of these.  Each returns the
 * process exit status.
 */
#ifndef SIGNALBOX_APP_H
#define SIGNALBOX_APP_H

#include <stddef.h>

struct config;
struct err;
struct keymap;
struct railway_opts;
struct theme;

struct app_opts {
	const struct config *cfg;
	const struct keymap *keymap;
	const struct theme *theme;
	int mono;
	int read_only;
	const char *startup_message;	/* shown on the command line at start, or NULL */
};

/* Run the interactive console until the user quits. */
int app_run_console(const struct app_opts *opts);

/* Run one round of every health check and print the results as text or
 * JSON; 0 when all are OK, 1 when something is degraded or down. */
int app_run_check(const struct config *cfg, int json);

/* RO from CFG's provider mapping, with the token read from
 * provider.token_env or provider.token_file into *TOKEN (RO->token points to
 * it: wipe and free it once railway_new has copied it).  WARN gets a note
 * when the token file is readable by others, else "".  -1 and E when no
 * Railway provider is configured or there is no token. */
int app_railway_opts(const struct config *cfg, struct railway_opts *ro, char **token,
    char *warn, size_t warn_len, struct err *e);

#endif
