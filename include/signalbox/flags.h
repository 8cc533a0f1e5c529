/* flags.h - feature flags: one store interface, Redis and PostgreSQL
 * backends (Unleash later, behind the same calls).
 *
 * A flag belongs to an environment and has a name, enabled, a rollout
 * (0..100 %), a strategy, a description and who changed it last and when.
 * flag_store_list reads every flag of an environment; flag_store_set
 * changes one with compare-and-set: the caller passes the flag as it saw
 * it (struct flag.raw) and the write happens only when the store still
 * holds exactly that; otherwise the answer is FLAG_SET_CONFLICT with the
 * flag as it is now, and nothing is written.  A stored value the store
 * cannot read (Redis: not JSON, wrong types) is listed with valid = 0 and
 * the reason; a set of it is refused (FLAG_SET_INVALID) unless the change
 * says replace_invalid.
 *
 *   redis     the hash flags:<env>, one JSON value per flag (docs/flags.md);
 *             the write is a Lua script (EVAL) comparing the whole stored
 *             value; live updates from the keyspace notifications of the
 *             key (__keyspace@<db>__:flags:<env>, on a second connection)
 *   postgres  the table signalbox_flags (sql/flags_postgres.sql, applied
 *             by flag_store_migrate); the write is an UPDATE ... WHERE
 *             updated_at = the value seen; live updates from LISTEN
 *             signalbox_flags (a trigger NOTIFYs the environment)
 *
 * flag_store_set changes production: only after policy_redeem
 * (tests/policy_gate.sh checks every call).  Everything runs on the
 * caller's libuv loop; callbacks run from the loop, never inside the call
 * that started them.
 */
#ifndef SIGNALBOX_FLAGS_H
#define SIGNALBOX_FLAGS_H

#include <stddef.h>
#include <uv.h>

#include "signalbox/err.h"

struct pg_rows;
struct redis_value;

#define FLAG_NAME_MAX 100

enum flag_store_kind { FLAG_STORE_REDIS, FLAG_STORE_POSTGRES };

/* One flag.  Every string is owned by the flag (flag_fini frees them). */
struct flag {
	char *name;
	int valid;		/* 0: the stored value is malformed, WHY says how */
	char why[160];
	int enabled;		/* invalid: 0 (the app treats it as off) */
	int rollout;		/* 0..100; missing in Redis means 100 */
	char *strategy;		/* "rollout" for Redis and PostgreSQL */
	char *description;	/* or NULL */
	char *updated_at;	/* RFC 3339 UTC, or NULL */
	char *updated_by;	/* "operator@host", or NULL */
	char *raw;		/* the compare-and-set token: Redis the stored value,
				 * PostgreSQL updated_at as text */
};

/* Every flag of one environment, by name. */
struct flag_list {
	char *env;
	struct flag *v;
	size_t n;
};

void flag_fini(struct flag *f);
void flag_copy(struct flag *dst, const struct flag *src);
void flag_list_free(struct flag_list **lp);

/* The flag NAME in L, or NULL. */
const struct flag *flag_list_find(const struct flag_list *l, const char *name);

/* Whether NAME is 1 to 100 characters of a-z 0-9 - _ . (docs/flags.md). */
int flag_name_ok(const char *name);

/* Parse "on", "off" or "N%" (0..100): *ENABLED, and *ROLLOUT (-1 = keep
 * the flag's own for on/off; N% means on with N).  -1 and E otherwise. */
int flag_setting_parse(const char *word, int *enabled, int *rollout, struct err *e);

/* The state of F in words: "on (25%)", "off (25%)", "invalid: not JSON". */
void flag_words(const struct flag *f, char *buf, size_t len);

/* Fill OUT from the Redis value JSON of flag NAME (docs/flags.md): 0 when
 * valid, -1 when not (OUT is still filled: valid = 0, why, raw). */
int flag_parse_json(struct flag *out, const char *name, const char *json);

/* The new Redis value: RAW with enabled, rollout (-1 = keep), updated_at
 * and updated_by replaced and every other member (description, unknown
 * ones) kept.  RAW NULL or not a JSON object: a fresh value.  Caller frees. */
char *flag_json_update(const char *raw, int enabled, int rollout, const char *at,
    const char *by);

/* Fill OUT from row ROW of a PostgreSQL result with the columns of
 * FLAG_PG_COLUMNS; -1 when the row is not one. */
int flag_from_pg_row(struct flag *out, const struct pg_rows *rows, int row);

#define FLAG_PG_COLUMNS "name, enabled, rollout, description, " \
	"to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	"updated_by, updated_at::text"

/* The statements of sql/flags_postgres.sql, NULL-terminated. */
extern const char *const flag_pg_schema[];

enum flag_set_status {
	FLAG_SET_OK,
	FLAG_SET_CONFLICT,	/* changed underneath: NOW is what the store holds */
	FLAG_SET_INVALID,	/* the stored value is malformed; not written */
	FLAG_SET_MISSING,	/* no such flag (any more) */
	FLAG_SET_ERROR,		/* the store failed; ERROR says how */
};

/* What the compare-and-set script answered (Redis): its status, and in
 * *CURRENT the value now stored on a conflict (valid during the reply). */
enum flag_set_status flag_redis_cas_result(const struct redis_value *v, const char **current,
    const char **error);

/* One change.  The strings are the caller's, copied. */
struct flag_change {
	const char *env;
	const char *name;
	int enabled;
	int rollout;		/* -1 = keep */
	const struct flag *seen;	/* the flag as the operator saw it (its raw) */
	const char *by;		/* operator@host */
	int replace_invalid;	/* write over a malformed value */
};

typedef void flag_list_fn(const struct flag_list *l, const char *error, void *ud);

/* NOW (may be NULL) is valid during the call. */
typedef void flag_set_fn(enum flag_set_status st, const struct flag *now, const char *error,
    void *ud);

/* Live updates: something in ENV changed (list it again). */
typedef void flag_live_fn(const char *env, void *ud);

/* The history hook: a set reached the store, BEFORE -> AFTER. */
typedef void flag_history_fn(const char *env, const struct flag *before,
    const struct flag *after, void *ud);

/* Connection states, like redis.h and pg.h. */
enum flag_store_state { FLAG_STORE_CONNECTING, FLAG_STORE_READY, FLAG_STORE_DOWN };

typedef void flag_state_fn(enum flag_store_state st, const char *error, void *ud);

struct flag_store_opts {
	enum flag_store_kind kind;
	const char *url;		/* redis:// or postgres:// (copied) */
	flag_state_fn *state;		/* may be NULL */
	flag_live_fn *live;		/* may be NULL */
	flag_history_fn *history;	/* may be NULL */
	void *ud;
};

struct flag_store;

/* A store on LOOP, not connected until flag_store_start; NULL and E when
 * the URL is not one. */
struct flag_store *flag_store_new(uv_loop_t *loop, const struct flag_store_opts *o,
    struct err *e);
void flag_store_start(struct flag_store *fs);

/* Close and free *FSP; NULL-safe; not from its callbacks.  The loop must
 * run afterwards so the handles close. */
void flag_store_free(struct flag_store **fsp);

enum flag_store_state flag_store_state(const struct flag_store *fs);

/* "redis flags:production", "postgres signalbox_flags": for plans. */
void flag_store_where(const struct flag_store *fs, const char *env, char *buf, size_t len);

/* Read every flag of ENV. */
void flag_store_list(struct flag_store *fs, const char *env, flag_list_fn *done, void *ud);

/* Compare-and-set C (see above).  Changes production: policy first. */
void flag_store_set(struct flag_store *fs, const struct flag_change *c, flag_set_fn *done,
    void *ud);

/* Hear changes of ENV through the store's live channel (opts.live). */
void flag_store_watch(struct flag_store *fs, const char *env);

/* Create the table, its trigger and function (PostgreSQL; idempotent).
 * Redis needs nothing: DONE(ok) at once. */
typedef void flag_done_fn(int ok, const char *error, void *ud);
void flag_store_migrate(struct flag_store *fs, flag_done_fn *done, void *ud);

#endif
