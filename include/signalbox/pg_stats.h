/* pg_stats.h - the PostgreSQL health source.
 *
 * Every interval (datastores.postgres.interval, default 5 s) it reads the
 * server's statistics over one read-only connection (pg.h) with three
 * statements: a summary (max_connections, connections by state,
 * transactions, cache hits, archiver, recovery), the sessions that are
 * not idle (longest first, the blocked ones with their blockers from
 * pg_blocking_pids), and the replicas and database sizes.  That is 0.6
 * statements a second at the default interval.  The result is published
 * under STORE_TOPIC_PG as a struct pg_stats_snap, and the source "postgres"
 * is OK, STALE (had data, now failing) or ERROR (never had any) with the
 * reason.
 *
 * The connection string comes from the environment variable the config
 * names (datastores.postgres.url_env); it is never stored in a snapshot,
 * drawn or logged: only "user@host:port/db" is.  Query texts are
 * sanitised (text_sanitize) and cut to PG_STATS_QUERY_MAX bytes.
 */
#ifndef SIGNALBOX_PG_STATS_H
#define SIGNALBOX_PG_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct config;
struct pg_rows;
struct store;

#define PG_STATS_SOURCE "postgres"
#define PG_STATS_QUERY_MAX 200	/* bytes of query text kept */
#define PG_STATS_MAX_SESSIONS 50
#define PG_STATS_MAX_STATES 8

enum pg_stats_conn {
	PG_STATS_CONNECTING,	/* no answer yet */
	PG_STATS_UP,
	PG_STATS_DOWN,		/* the server does not answer; error says why */
	PG_STATS_UNCONFIGURED,	/* the url_env variable is not set or not usable */
};

struct pg_stats_state_count {
	char state[32];		/* "active", "idle", "idle in transaction", ... */
	int n;
};

/* One session that is not idle. */
struct pg_stats_session {
	int pid;
	char user[64], db[64];
	char state[32];
	char wait[64];		/* "Lock:transactionid", "" when not waiting */
	int64_t duration_ms;	/* since its query (or transaction) started */
	char blocked_by[64];	/* "4711, 4712": pg_blocking_pids, "" when not blocked */
	int blocking;		/* another session waits for this one */
	char *query;		/* sanitised, cut; owned */
};

struct pg_stats_replica {
	char name[64];		/* application_name */
	char addr[64];
	char state[32];
	int64_t replay_lag_ms;	/* -1 = unknown */
	int64_t lag_bytes;	/* -1 = unknown */
};

struct pg_stats_db {
	char name[64];
	int64_t size;		/* bytes, -1 = no permission */
};

/* Data of one successful poll.  Immutable once published and shared by
 * reference between snapshots. */
struct pg_stats_data {
	int refs;
	int64_t taken_ms;	/* wall ms of the poll */
	char version[64];	/* "15.20" */
	int in_recovery;
	int max_connections;
	int n_connections;	/* client backends */
	struct pg_stats_state_count states[PG_STATS_MAX_STATES];
	size_t n_states;
	int64_t xacts;		/* xact_commit + xact_rollback, all databases */
	double tps;		/* transactions per second since the last poll, -1 = unknown */
	double cache_hit;	/* 0..1, -1 = unknown */
	int archive_mode;	/* archive_mode is on */
	int64_t archived, archive_failed;
	char last_archived_wal[64], last_failed_wal[64];
	int64_t last_archived_ms, last_failed_ms;	/* wall ms, 0 = never */
	struct pg_stats_session *sessions;	/* longest first */
	size_t n_sessions;
	size_t n_blocked;
	struct pg_stats_replica *replicas;
	size_t n_replicas;
	struct pg_stats_db *dbs;	/* largest first */
	size_t n_dbs;
};

/* What STORE_TOPIC_PG holds. */
struct pg_stats_snap {
	enum pg_stats_conn conn;
	char target[160];	/* "app@127.0.0.1:5432/app", never the password */
	char error[256];	/* why DOWN, or why the last poll failed; "" if none */
	int64_t since_ms;	/* wall ms of the last connection change */
	int64_t interval_ms;
	const struct pg_stats_data *data;	/* the last good poll, NULL = none yet */
};

/* The statements, in poll order (exported for tests and the benchmark). */
extern const char *const pg_stats_sql[3];

/* Fill D from the rows of statement I of pg_stats_sql, as text; -1 and E
 * when they do not have the expected shape.  PREV (may be NULL) is the
 * last poll, for the transaction rate. */
int pg_stats_parse_summary(struct pg_stats_data *d, const struct pg_rows *r,
    const struct pg_stats_data *prev, struct err *e);
int pg_stats_parse_sessions(struct pg_stats_data *d, const struct pg_rows *r, struct err *e);
int pg_stats_parse_other(struct pg_stats_data *d, const struct pg_rows *r, struct err *e);

/* A new data block with one reference; unref frees it at zero. */
struct pg_stats_data *pg_stats_data_new(void);
void pg_stats_data_ref(const struct pg_stats_data *d);
void pg_stats_data_unref(const struct pg_stats_data *d);

/* Free a snapshot (the store's free function). */
void pg_stats_snap_free(void *snap);

struct pg_stats;

/* A source for CFG's datastores.postgres (NULL when it has none) on
 * LOOP, publishing to STORE.  When the variable is unset the source is
 * ERROR with the reason and nothing connects. */
struct pg_stats *pg_stats_new(uv_loop_t *loop, struct store *store, const struct config *cfg);

/* Connect and start polling. */
void pg_stats_start(struct pg_stats *s);

/* Stop everything (the loop must run afterwards); *SP NULL-safe. */
void pg_stats_free(struct pg_stats **sp);

/* Poll now (after a change, or for tests). */
void pg_stats_poll_now(struct pg_stats *s);

/* The outcome of a cancel: OK with whether the server found the backend,
 * or the error. */
typedef void pg_stats_cancel_fn(int ok, int cancelled, const char *error, void *ud);

/* Ask the server to cancel the query of backend PID (pg_cancel_backend).
 * Changes production: call only with a ticket the policy issued for it
 * (policy_redeem first; tests/policy_gate.sh checks).  DONE runs once:
 * later, or at once when no connection is configured. */
void pg_stats_cancel(struct pg_stats *s, int pid, pg_stats_cancel_fn *done, void *ud);

#endif
