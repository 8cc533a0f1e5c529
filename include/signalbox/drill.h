/* drill.h - the restore drill: prove a pgBackRest backup restores.
 *
 * A drill restores one backup (or a point in time) into a fresh scratch
 * directory, starts a throw-away PostgreSQL on a spare loopback port, waits
 * for recovery to end, checks what came back (row count and checksum per
 * table, custom SQL checks), optionally runs a smoke command against it,
 * then stops the server and removes the directory.  Every phase is timed;
 * the result has the RTO, the recovery point reached and the RPO, and a
 * verdict with the first failure in words.
 *
 * Phases, in order (PREPARE..SMOKE stop at the first failure; STOP and
 * CLEANUP always run when what they undo exists):
 *   PREPARE  `pgbackrest info` picks the backup (the given label, else the
 *            newest, or with a target time the newest that ended before
 *            it: the label is always passed to restore with --set, so the
 *            result names what was restored), then `mkdir -m 0700 DIR`
 *            (never -p: an existing directory fails) and DIR/data,
 *            DIR/socket.
 *   RESTORE  `pgbackrest restore --pg1-path=DIR/data --set=LABEL
 *            --archive-mode=off --tablespace-map-all=DIR/tablespaces
 *            --type=immediate|time [--target=T] --target-action=promote`.
 *   START    `pg_ctl -D DIR/data -l DIR/postgresql.log -w start` on
 *            127.0.0.1:PORT with its socket in DIR/socket, archiving off,
 *            logging_collector off, external_pid_file in DIR, data_directory
 *            forced to DIR/data, hot_standby on and shared_buffers 128MB (a
 *            copy of production's configuration must not take production's
 *            memory, pid file or log directory).
 *   RECOVER  `select pg_is_in_recovery(), pg_last_xact_replay_timestamp(),
 *            inet_server_port(), pg_postmaster_start_time()` every 100 ms
 *            over pg.h (production's credentials, host and port replaced)
 *            until recovery ended.  The session must be the scratch server
 *            (its port, started after the drill began) or the drill fails;
 *            this is checked again after any reconnect.  A server that
 *            stopped (`pg_ctl status` while connects fail) fails at once, so
 *            does a copy that refuses the credentials (pg_hba.conf, password,
 *            role or database missing).
 *   CHECK    per table `select count(*), md5(string_agg(t::text, E'\n'
 *            order by t::text)) from "schema"."table" t`, then each custom
 *            check; all run, the first failure is the reason.
 *   SMOKE    the smoke argv with DRILL_DATABASE_URL, PGHOST, PGPORT naming
 *            the scratch copy (SKIPPED without one).
 *   STOP     `pg_ctl -m immediate stop`, whenever START ran (failure,
 *            cancel and timeout included); after a START or RECOVER failure
 *            the last 20 lines of DIR/postgresql.log are kept first.  When
 *            the stop fails and `pg_ctl status` says a server still runs,
 *            CLEANUP leaves the directory (the reason says where).
 *   CLEANUP  `rm -rf -- DIR`, only for the directory this drill made, only
 *            when it starts with realpath(scratch_root)/signalbox-drill-.
 * pgbackrest, pg_ctl, mkdir, tail and rm run through opts.wrapper (the
 * repository's owner); the smoke command runs as we do.  RTO is from the
 * start of RESTORE until the copy answered after recovery; RPO is the
 * drill's start (wall clock) minus the recovery point, which is
 * pg_last_xact_replay_timestamp() or, when nothing was replayed, the
 * backup's stop time.
 *
 * SAFETY: drill_start refuses (NULL and E) before anything is created when
 * the port is production's or in use, the scratch root is missing, is or
 * is inside production's data directory (or production's data directory
 * is inside a drill directory; realpath()s compared), a required option is
 * missing, or we run as root without a wrapper.  The conninfo is never
 * logged, shown or put in the result or its JSON.
 *
 * CALLBACKS run from the loop, never from inside a drill_* call.  on_phase
 * runs when a phase starts, ends, or its words change; on_done once at the
 * end.  Inside either the owner may call drill_cancel or drill_free.
 *
 * OWNERSHIP: drill_start copies the options.  The result (drill_result)
 * belongs to the drill, is updated in place while it runs and is valid
 * until drill_free.  drill_free of a drill that has not finished cancels
 * it without further callbacks and lets STOP and CLEANUP finish in the
 * background (the loop must run until then: seconds, at most pg_ctl's 20 s
 * stop plus the rm), so freeing never leaves a scratch server running.
 */
#ifndef SIGNALBOX_DRILL_H
#define SIGNALBOX_DRILL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct drill;

enum drill_phase {
	DRILL_PREPARE,
	DRILL_RESTORE,
	DRILL_START,
	DRILL_RECOVER,
	DRILL_CHECK,
	DRILL_SMOKE,
	DRILL_STOP,
	DRILL_CLEANUP,
	DRILL_N_PHASES,
};

/* A phase's state. */
enum drill_step {
	DRILL_STEP_PENDING,
	DRILL_STEP_RUNNING,
	DRILL_STEP_OK,
	DRILL_STEP_FAILED,
	DRILL_STEP_SKIPPED,	/* not needed (no smoke command, nothing to stop) or not
				   reached after a failure */
};

enum drill_verdict {
	DRILL_RUNNING,
	DRILL_PASSED,
	DRILL_FAILED,
	DRILL_CANCELLED,
};

/* A table's comparison with what production recorded. */
enum drill_match {
	DRILL_MATCH_NONE,	/* no expectation given: recorded only */
	DRILL_MATCH_OK,
	DRILL_MATCH_MISMATCH,
	DRILL_MATCH_ERROR,	/* the query failed: not comparable */
};

enum {
	DRILL_NAME_MAX = 128,		/* "schema.table", a check's name */
	DRILL_VALUE_MAX = 256,		/* a check's value or expectation, cut */
	DRILL_WORDS_MAX = 256,
	DRILL_REASON_MAX = 512,
	DRILL_PATH_MAX = 256,
	DRILL_LOG_TAIL_LINES = 20,
	DRILL_LOG_LINE_MAX = 240,
	DRILL_DEFAULT_TIMEOUT_MS = 10 * 60 * 1000,
};

/* What production recorded for a table. */
struct drill_table_expect {
	const char *table;
	int64_t count_min, count_max;	/* -1 = unknown */
	const char *checksum;		/* NULL = not compared */
};

/* A custom check: SQL returning one row with one column, whose text must
 * equal EXPECT (SQL NULL never does). */
struct drill_check {
	const char *name;
	const char *sql;
	const char *expect;
};

struct drill_opts {
	const char *const *wrapper;	/* argv prefix for pgbackrest, pg_ctl, mkdir, tail,
					 * rm (NULL-terminated: {"runuser", "-u",
					 * "postgres", "--", NULL}), or NULL */
	const char *pgbackrest;		/* program; NULL = "pgbackrest" */
	const char *pgbr_config;	/* required */
	const char *stanza;		/* required */
	const char *pg_bin;		/* directory with pg_ctl; required */
	const char *set;		/* backup label; NULL = newest (or newest before
					 * target_time) */
	const char *target_time;	/* "YYYY-MM-DD HH:MM:SS[.fff]+00" (a zone is
					 * required: Z, UTC, +HH[:MM]), or NULL */
	int64_t backup_stop_s;		/* the backup's stop time, 0 = from pgbackrest info */
	const char *scratch_root;	/* an existing directory writable by the wrapper's
					 * user, path of [A-Za-z0-9/._+,:@-] short enough
					 * for DIR/socket/.s.PGSQL.PORT (107 bytes) */
	int port;			/* scratch port; 0 = a free one */
	const char *conninfo;		/* production's URL or key=value string; never shown */
	const char *prod_data_dir;	/* required */
	int prod_port;			/* required */
	const char *const *tables;	/* "table" or "schema.table": count + checksum each */
	size_t n_tables;
	const struct drill_table_expect *expect;	/* tables named only here are checked too */
	size_t n_expect;
	const struct drill_check *checks;
	size_t n_checks;
	const char *const *smoke;	/* argv (NULL-terminated), or NULL */
	uint64_t timeout_ms;		/* the whole drill up to STOP; 0 = 10 min */
};

struct drill_phase_result {
	enum drill_step state;
	int64_t started_ms;		/* wall ms; 0 = not started */
	uint64_t duration_ms;		/* when it ended (while RUNNING: now - started) */
	char words[DRILL_WORDS_MAX];	/* what it did, or why it failed */
};

struct drill_table_result {
	char name[DRILL_NAME_MAX];
	int64_t count;			/* -1 = not read */
	char checksum[40];		/* md5 hex, "" = not read */
	int has_expect;
	int64_t count_min, count_max;	/* -1 = unknown */
	char expect_checksum[72];	/* "" = not compared */
	enum drill_match match;		/* the count and the checksum together */
	char error[DRILL_WORDS_MAX];	/* the query's error, or what did not match */
};

struct drill_check_result {
	char name[DRILL_NAME_MAX];
	int ran;
	int is_null;			/* the value was SQL NULL */
	char value[DRILL_VALUE_MAX];
	char expect[DRILL_VALUE_MAX];
	int ok;
	char error[DRILL_WORDS_MAX];	/* the query's error or shape ("2 rows") */
};

struct drill_result {
	enum drill_verdict verdict;
	char reason[DRILL_REASON_MAX];	/* the first failure, "" when PASSED */
	enum drill_phase phase;		/* running now (or the last that ran) */
	struct drill_phase_result phases[DRILL_N_PHASES];
	int64_t started_ms;		/* wall */
	int64_t total_ms;		/* start to done; -1 while running */
	int64_t rto_ms;			/* RESTORE start until the copy answered; -1 = not reached */
	int64_t recovery_point_ms;	/* wall; 0 = unknown */
	int recovery_point_from_backup;	/* nothing replayed: the backup's stop time */
	int64_t rpo_ms;			/* started_ms - recovery_point_ms; -1 = unknown */
	char backup_label[DRILL_NAME_MAX];	/* "" until PREPARE chose it */
	char backup_type[16];		/* "full", "diff", "incr" */
	int64_t backup_stop_ms;		/* wall; 0 = unknown */
	char target_time[64];		/* "" = the end of the backup (immediate) */
	char scratch_dir[DRILL_PATH_MAX];
	int scratch_removed;
	int port;
	struct drill_table_result *tables;
	size_t n_tables;
	struct drill_check_result *checks;
	size_t n_checks;
	int smoke_ran;
	int smoke_ok;
	char smoke_words[DRILL_WORDS_MAX];	/* "exited with status 0", ... */
	char log_tail[DRILL_LOG_TAIL_LINES][DRILL_LOG_LINE_MAX];	/* START/RECOVER
						   failures: DIR/postgresql.log, sanitised */
	size_t n_log_tail;
};

struct drill_cbs {
	void (*on_phase)(struct drill *d, enum drill_phase p, void *ud);
	void (*on_done)(struct drill *d, const struct drill_result *r, void *ud);
};

/* Check O and start a drill on LOOP; NULL and E (a sentence naming the
 * option or the danger) when it is refused.  The first phase starts from
 * the loop. */
struct drill *drill_start(uv_loop_t *loop, const struct drill_opts *o,
    const struct drill_cbs *cbs, void *ud, struct err *e);

/* Stop what runs and go to STOP and CLEANUP; verdict CANCELLED.  A no-op
 * once STOP began.  The phase that was running ends from the loop; during
 * START the server is stopped at once (pg_ctl start then gives up) and
 * STOP still runs after pg_ctl start returned, so it is never left. */
void drill_cancel(struct drill *d);

/* Free *DP (NULL-safe) and NULL it; see OWNERSHIP for a running drill. */
void drill_free(struct drill **dp);

/* The result so far (live while running). */
const struct drill_result *drill_result(const struct drill *d);

/* R as one line of JSON (no newline), the `backup drill --json` output and
 * the history line; caller frees.  Keys: verdict, reason, started (ISO-8601
 * UTC) and started_ms, total_ms, rto_ms, rpo_ms, recovery_point (ISO) and
 * recovery_point_ms, recovery_point_source ("replay" / "backup"), label,
 * backup_type, backup_stop, target, scratch_dir, scratch_removed, port,
 * phases {prepare: {state, ms, started, words}, ...}, tables [{name, count,
 * checksum, expect {count_min, count_max, checksum} | null, match ("ok",
 * "mismatch", "none", "error"), error}], checks [{name, value, expect, ok,
 * error}], smoke {ok, words} | null, log_tail [lines].  Unknown values are
 * null (never -1 or 1970). */
char *drill_result_json(const struct drill_result *r);

/* "prepare", "restore", ... */
const char *drill_phase_name(enum drill_phase p);

/* "pending", "running", "ok", "failed", "skipped" */
const char *drill_step_name(enum drill_step s);

/* "RUNNING", "PASSED", "FAILED", "CANCELLED" */
const char *drill_verdict_name(enum drill_verdict v);

/* Whether NAME is a table name the drill accepts: [A-Za-z_][A-Za-z0-9_]*
 * parts (at most 63 bytes each), at most one '.' between schema and table.
 * Checked exactly as written (quoted: case matters). */
int drill_table_name_valid(const char *name);

/* The CHECK query of TABLE (valid, see above) into BUF: one row, count and
 * md5 checksum of its rows as text in order.  Run it on production to
 * record what a drill must find.  -1 ("" in BUF) when TABLE is not valid
 * or BUF too short (512 bytes is enough). */
int drill_table_sql(const char *table, char *buf, size_t len);

/* Parse a target time ("2026-11-23 10:42:00+00", 'T' or ' ', optional
 * fraction, zone Z / UTC / +HH / +HH:MM / +HHMM required) into wall ms.
 * -1 when malformed. */
int drill_parse_target(const char *s, int64_t *out_ms);

/* CONNINFO (URL or key=value) with its host, hostaddr and port replaced by
 * 127.0.0.1 and PORT: the scratch copy with production's credentials.
 * Holds the password: the caller wipes and frees it. */
char *drill_scratch_conninfo(const char *conninfo, int port);

#endif
