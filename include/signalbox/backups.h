/* backups.h - the backups source: pgBackRest, the archiver, backups taken
 * from the console and restore drills.
 *
 * Every backups.pgbackrest.interval it runs `pgbackrest info --output=json`
 * (through proc.h: never a shell, never blocking, 60 s at most) for the
 * configured stanza, parses it (pgbr.h) and publishes a struct
 * backups_snap under STORE_TOPIC_BACKUPS.  It also reads the PostgreSQL
 * source's snapshot (STORE_TOPIC_PG, pg_stats.h) for pg_stat_archiver, and
 * from both works out:
 *   - the point-in-time-recovery window (pgbr_pitr_window);
 *   - DEGRADED, with the reasons in words: the newest backup older than
 *     backups.pgbackrest.max_age, the archiver's last attempt failed, the
 *     stanza's status not ok, the repository unreadable.  The store source
 *     "backups" is then marked degraded (the status bar says so).
 * The source "backups" is CONNECTING until the first info, OK after a
 * good one, STALE when a later one failed (the last good data is kept and
 * shown with its age), ERROR when none ever succeeded.
 *
 * Actions (each reachable only after policy_redeem, tests/policy_gate.sh):
 *   backups_take   runs `pgbackrest backup --type=T` with detail logging
 *                  and follows its progress (percent of files copied);
 *                  production's row counts and checksums of the drill's
 *                  tables are read just before and just after, and kept
 *                  with the backup's label (BACKUPS_REFS_FILE next to the
 *                  audit file) so that a later drill can compare with
 *                  production at the backup's time.
 *   backups_drill  a restore drill (drill.h) of a backup or a point in
 *                  time; each phase is published as it goes, the result
 *                  is appended to the drill history (BACKUPS_DRILLS_FILE,
 *                  JSON lines, next to the audit file) and shown.
 * One backup and one drill at a time.
 *
 * Programs run with backups.wrapper before them (e.g. sudo -n -u postgres
 * --) so they run as the repository's owner.
 */
#ifndef SIGNALBOX_BACKUPS_H
#define SIGNALBOX_BACKUPS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/drill.h"
#include "signalbox/err.h"
#include "signalbox/pgbr.h"

struct config;
struct store;

#define BACKUPS_SOURCE "backups"
#define BACKUPS_HISTORY_MAX 20		/* drills kept in a snapshot */
#define BACKUPS_DRILLS_FILE "drills.jsonl"
#define BACKUPS_REFS_FILE "backup-refs.jsonl"

enum backups_conn {
	BACKUPS_CONNECTING,	/* no info yet */
	BACKUPS_UP,		/* the last info worked */
	BACKUPS_STALE,		/* it worked before; the last one failed (error) */
	BACKUPS_FAILED,		/* it never worked (error) */
};

/* A drill of the history (one line of BACKUPS_DRILLS_FILE). */
struct backups_drill_rec {
	int64_t started_ms;	/* wall ms */
	char label[64];		/* backup restored, "" = newest */
	char target[40];	/* point in time, "" = the backup's end */
	char verdict[16];	/* "PASSED", "FAILED", "CANCELLED" */
	int64_t rto_ms, total_ms, rpo_ms;	/* -1 unknown */
	int64_t recovery_point_ms;		/* wall ms, 0 unknown */
	char reason[200];	/* why it failed, "" when it passed */
};

/* A backup taken, or a restore in place run, from the console. */
struct backups_job {
	int active;		/* running now */
	int finished;		/* one ran since start: ok and words say how */
	int ok;
	char type[8];		/* "full", "diff", "incr", or "restore" (in place) */
	int64_t started_ms, ended_ms;	/* wall ms */
	double pct;		/* files copied, 0..100; -1 unknown */
	char words[200];	/* "backing up" / "done: 20261123-101500F_20261123-110000I" /
				   the failure */
};

/* A drill running now. */
struct backups_drill_now {
	int active;
	enum drill_phase phase;
	int64_t started_ms;	/* wall ms */
	int64_t phase_ms[DRILL_N_PHASES];	/* durations of the phases done, -1 not yet */
	char label[64];
};

/* The parsed info, shared by reference between snapshots. */
struct backups_info {
	int refs;
	struct pgbr_info *info;
};

/* Immutable once published. */
struct backups_snap {
	enum backups_conn conn;
	char error[256];	/* STALE / FAILED: why */
	int64_t info_ms;	/* wall ms of the last good info, 0 = none */
	char stanza_name[64];
	char where[160];	/* "stanza main (/etc/pgbackrest/pgbackrest.conf)" */
	struct backups_info *info;		/* NULL before the first */
	const struct pgbr_stanza *stanza;	/* in INFO; NULL when it has no such stanza */
	/* pg_stat_archiver, from the PostgreSQL source */
	int have_archiver;
	int64_t archived, archive_failed;
	int64_t last_archived_ms, last_failed_ms;	/* wall ms, 0 = never */
	char last_archived_wal[64], last_failed_wal[64];
	struct pgbr_pitr pitr;
	int degraded;
	char degraded_why[256];	/* "newest backup 27h old (max 26h); archiving fails" */
	int64_t max_age_ms;
	struct backups_job job;
	struct backups_drill_now drill;
	struct backups_drill_rec history[BACKUPS_HISTORY_MAX];	/* newest first */
	size_t n_history;
};

struct backups;

/* The source for CFG->backups (which must be enabled) on LOOP, publishing
 * to STORE.  CFG and STORE outlive it.  NULL and E when the configuration
 * cannot work (no stanza). */
struct backups *backups_new(uv_loop_t *loop, const struct config *cfg, struct store *store,
    const char *audit_path, struct err *e);

/* Start polling: the first info runs from the loop, right after. */
void backups_start(struct backups *b);

/* Kill what runs and free *BP (NULL-safe).  A drill still running is
 * killed with its server left behind: cancel it first (backups_drill_cancel)
 * and run the loop until backups_busy says 0. */
void backups_free(struct backups **bp);

/* Run pgbackrest info now. */
void backups_refresh(struct backups *b);

/* A restore in place is running (teardown waits for it: never cut off). */
int backups_restoring(const struct backups *b);

/* A drill is running (teardown cancels it and waits for 0). */
int backups_busy(const struct backups *b);

/* Called once when a backup or a drill ends: OK, and WORDS for the
 * status line and the audit log (valid during the call). */
typedef void backups_done_fn(int ok, const char *words, void *ud);

/* Take a backup of TYPE ("full", "diff", "incr").  Only after
 * policy_redeem.  -1 and E when one is already running or TYPE is bad;
 * otherwise DONE runs once, later. */
int backups_take(struct backups *b, const char *type, backups_done_fn *done, void *ud,
    struct err *e);

/* A restore drill of backup LABEL (NULL = newest) or of point in time
 * TARGET ("2026-11-23 10:42:00+00", NULL = the backup's end).  Only after
 * policy_redeem.  -1 and E when refused (one running, unsafe, no
 * production URL); otherwise DONE runs once with the verdict, and
 * RESULT_FN (may be NULL) gets the whole result first. */
typedef void backups_drill_result_fn(const struct drill_result *r, void *ud);
int backups_drill(struct backups *b, const char *label, const char *target,
    backups_drill_result_fn *result_fn, backups_done_fn *done, void *ud, struct err *e);

/* Restore backup LABEL (NULL = newest) or point in time TARGET over the
 * server itself: backups.restore.stop, `pgbackrest restore --delta`,
 * backups.restore.start, each through the wrapper, one after the other;
 * the job's words say which runs.  Only after policy_redeem.  -1 and E
 * when a backup, a restore or a drill runs, or backups.restore is not
 * configured; otherwise DONE runs once.  When the restore fails the server
 * is started again anyway (on what the data directory holds) and the words
 * say so. */
int backups_restore(struct backups *b, const char *label, const char *target,
    backups_done_fn *done, void *ud, struct err *e);

/* Stop the running drill (verdict CANCELLED; its server is stopped and its
 * directory removed). */
void backups_drill_cancel(struct backups *b);

/* The latest snapshot (the same one the store has), or NULL. */
const struct backups_snap *backups_snapshot(const struct backups *b);

/* Read up to MAX drills of history file PATH into OUT, newest first;
 * returns how many.  Lines that do not parse are skipped. */
size_t backups_history_read(const char *path, struct backups_drill_rec *out, size_t max);

/* DIR/NAME next to AUDIT_PATH's file ("…/signalbox/drills.jsonl") into BUF. */
void backups_state_path(const char *audit_path, const char *name, char *buf, size_t len);

#endif
