/* pg.h - one PostgreSQL connection on the shared loop (libpq, async).
 *
 * A struct pg keeps one connection to the server named by a libpq
 * connection string or postgres:// URL and keeps it alive: a failed connect
 * or a lost connection is reported through the state callback with the
 * server's error in words, and retried with backoff (1 s doubling to
 * 30 s, reset after a success).  Connecting never blocks the loop:
 * PQconnectStartParams / PQconnectPoll with a uv_poll_t on PQsocket
 * (re-read after every poll) and a loop timer for the connect timeout,
 * which libpq ignores in this mode.  Use a numeric host (127.0.0.1) or
 * hostaddr: host names are resolved by libpq synchronously.
 *
 * Queries are queued and sent one at a time with PQsendQueryParams (text
 * parameters and results).  The session is read-only
 * (default_transaction_read_only) unless pg_opts.read_write asks for
 * writes (the flag store's Postgres backend), with a statement timeout, and tells the
 * server application_name=signalbox.  Only src/net/pg.c includes libpq.
 */
#ifndef SIGNALBOX_PG_H
#define SIGNALBOX_PG_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct pg;

enum pg_state {
	PG_STATE_IDLE,		/* not started */
	PG_STATE_CONNECTING,	/* a connect attempt is in flight */
	PG_STATE_READY,		/* connected */
	PG_STATE_DOWN,		/* the last attempt failed or the connection broke;
				   a retry is scheduled */
};

/* Rows of one result, all text: CELLS holds NROWS * NCOLS values row by
 * row, NULL for SQL NULL.  Tests build these by hand. */
struct pg_rows {
	int nrows, ncols;
	const char *const *cells;
};

/* Value of ROW, COL (NULL for SQL NULL or out of range). */
const char *pg_rows_get(const struct pg_rows *r, int row, int col);

struct pg_result {
	int ok;			/* the statement ran */
	char error[256];	/* when !ok: the server's or the connection's error */
	struct pg_rows rows;	/* when ok (0 rows for a command) */
};

/* Called once per query (not after pg_free).  RES and every string it
 * points to are valid only during the callback; copy what you keep. */
typedef void pg_done_fn(const struct pg_result *res, void *ud);

/* Called on every state change; ERROR is the reason for DOWN ("" otherwise),
 * valid during the call. */
typedef void pg_state_fn(enum pg_state st, const char *error, void *ud);

struct pg_opts {
	const char *conninfo;		/* URL or key=value string (copied; wiped on free) */
	const char *host;		/* NULL, or a host (or socket directory) that
					 * replaces the conninfo's (copied) */
	const char *port;		/* NULL, or a port that replaces the conninfo's */
	int64_t connect_timeout_ms;	/* 0 = 5 s */
	int64_t statement_timeout_ms;	/* server side; 0 = 10 s */
	int64_t retry_max_ms;		/* backoff cap; 0 = 30 s */
	int read_write;			/* 1: default_transaction_read_only=off, for
					 * writers (flags); 0: read-only (the default) */
};

/* A client on LOOP; nothing happens until pg_start.  STATE_FN (may be
 * NULL) hears about state changes. */
struct pg *pg_new(uv_loop_t *loop, const struct pg_opts *o, pg_state_fn *state_fn,
    void *ud);

/* Connect (and keep reconnecting). */
void pg_start(struct pg *p);

/* Close the connection, drop queued queries (their callbacks do not run)
 * and free *PP; NULL-safe.  The loop must run afterwards so the handles
 * can close. */
void pg_free(struct pg **pp);

/* Queue SQL with N text PARAMS (copied).  DONE(res, UD) runs later from
 * the loop, never inside this call; when the connection is not READY the
 * query fails at once (still from the loop) with the reason. */
void pg_query(struct pg *p, const char *sql, int n, const char *const *params,
    pg_done_fn *done, void *ud);

/* Current state, and the last error ("" when none). */
enum pg_state pg_state(const struct pg *p);
const char *pg_error(const struct pg *p);

/* "user@host:port/db" for display: never the password. */
const char *pg_target(const struct pg *p);

/* Queries queued or in flight. */
size_t pg_pending(const struct pg *p);

/* Describe CONNINFO (URL or key=value) as "user@host:port/db" without the
 * password into BUF; -1 and E when libpq cannot parse it. */
int pg_conninfo_target(const char *conninfo, char *buf, size_t len, struct err *e);

/* A NOTIFY on CHANNEL with PAYLOAD, valid during the call. */
typedef void pg_notify_fn(const char *channel, const char *payload, void *ud);

/* Hear the notifications of the channels this session LISTENs to (send
 * LISTEN with pg_query, again after every reconnect: READY); FN may be
 * NULL to stop.  FN runs from the loop while the connection is read. */
void pg_set_notify(struct pg *p, pg_notify_fn *fn, void *ud);

/* "connecting", "ready", ... */
const char *pg_state_name(enum pg_state st);

#endif
