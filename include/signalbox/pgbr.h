/* pgbr.h - pgBackRest's `info --output=json`, the point-in-time-recovery
 * window it implies, and the progress lines of a running backup.
 *
 * Pure parsing: no process, no network, no curses.  The JSON is pgBackRest
 * 2.45's (tests/fixtures/pgbackrest/ holds real output and how it was made);
 * fields that newer versions add are read when present (the running
 * backup's size and size-cplt) and ignored otherwise.
 *
 * 64-bit integers are exact: cJSON reads every number as a double, so long
 * integer literals are quoted before cJSON sees them and read back with
 * strtoull (db[].system-id can be any uint64).
 */
#ifndef SIGNALBOX_PGBR_H
#define SIGNALBOX_PGBR_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/err.h"

enum pgbr_backup_type { PGBR_FULL, PGBR_DIFF, PGBR_INCR, PGBR_TYPE_UNKNOWN };

/* status.code of a stanza or a repo, as pgBackRest 2.45 writes it. */
enum pgbr_status {
	PGBR_STATUS_OK = 0,
	PGBR_STATUS_MISSING_STANZA_PATH = 1,
	PGBR_STATUS_NO_BACKUP = 2,		/* "no valid backups" */
	PGBR_STATUS_MISSING_STANZA_DATA = 3,	/* backup.info missing */
	PGBR_STATUS_REPOS_DIFFER = 4,		/* "different across repos" */
	PGBR_STATUS_DB_MISMATCH = 5,		/* "database mismatch across repos" */
	PGBR_STATUS_BACKUP_NOT_FOUND = 6,	/* info --set=LABEL: no such backup */
	PGBR_STATUS_OTHER = 99,			/* the repo's message says what */
};

struct pgbr_backup {
	char label[64];
	enum pgbr_backup_type type;
	int64_t start, stop;		/* unix seconds (timestamp.start/stop) */
	int64_t size, delta;		/* info.size, info.delta: database bytes; -1 unknown */
	int64_t repo_size, repo_delta;	/* info.repository.size/delta; -1 unknown */
	char lsn_start[32], lsn_stop[32];	/* lsn.start/stop, "" when absent */
	char wal_start[32], wal_stop[32];	/* archive.start/stop (WAL segment names) */
	char prior[64];			/* prior backup label, "" for a full */
	int repo_key;			/* database.repo-key (1 when absent) */
	int db_id;			/* database.id: the db[] history entry (0 unknown) */
	int error;			/* "error": true (checksum errors found), 0 otherwise */
};

struct pgbr_repo {
	int key;
	int status_code;		/* enum pgbr_status */
	/* "ok", or pgBackRest's error for code 99, which is several lines
	 * ("[FileOpenError] unable to load info file ...\nHINT: ..."): the
	 * newlines are kept, so draw it through the canvas (which shows them
	 * as control pictures) or cut at the first. */
	char status_message[1024];
	char cipher[16];		/* "none", "aes-256-cbc" */
};

/* An archive.info entry: one per repo and PostgreSQL version/system. */
struct pgbr_archive {
	char id[32];			/* "15-1" */
	int repo_key;			/* database.repo-key (1 when absent) */
	int db_id;			/* database.id (0 unknown) */
	char wal_min[32], wal_max[32];	/* "" when null: nothing archived yet */
};

struct pgbr_stanza {
	char name[64];
	int status_code;		/* enum pgbr_status */
	char status_message[256];	/* "ok", "different across repos", "other" */
	int lock_held;			/* status.lock.backup.held */
	int64_t lock_size, lock_size_done;	/* progress of the running backup, -1 unknown
						 * (2.45 never says: held only) */
	char cipher[16];		/* "none", "aes-256-cbc", "mixed" (repos differ) */
	uint64_t system_id;		/* db[].system-id (lowest repo, newest entry); 0 unknown */
	int pg_version_num;		/* "15" -> 150000, "9.6" -> 90600; 0 unknown */
	struct pgbr_repo *repos;
	size_t n_repos;
	struct pgbr_archive *archives;
	size_t n_archives;
	struct pgbr_backup *backups;	/* oldest first, by stop time */
	size_t n_backups;
};

/* What info says, stanzas in its order (pgBackRest sorts them by name).
 * An empty array is valid: the repository has no stanza (n_stanzas 0). */
struct pgbr_info {
	struct pgbr_stanza *stanzas;
	size_t n_stanzas;
};

/* Parse LEN bytes of `info --output=json`.  0 and *OUT (owned by the caller,
 * free with pgbr_info_free), or -1 and E with a message a user can act on
 * ("pgbackrest info: not JSON at byte 123", "pgbackrest info: stanza 2 has no name"). */
int pgbr_info_parse(const char *json, size_t len, struct pgbr_info **out, struct err *e);

/* Free *PP and set it to NULL; NULL-safe. */
void pgbr_info_free(struct pgbr_info **pp);

/* The stanza called NAME in INFO, or NULL. */
const struct pgbr_stanza *pgbr_info_stanza(const struct pgbr_info *info, const char *name);

/* ST's backup with the latest stop time; NULL when none. */
const struct pgbr_backup *pgbr_stanza_newest(const struct pgbr_stanza *st);

/* "full", "diff", "incr", "?". */
const char *pgbr_type_name(enum pgbr_backup_type t);

/* The point-in-time-recovery window of ST: from the stop time of the oldest
 * backup whose WAL is still in the archive (its wal_start >= the archive's
 * wal_min of the same repo, and WAL continuous to archive max) to the newest
 * recoverable time, which pgBackRest's info does not give: LAST_ARCHIVED_S is
 * pg_stat_archiver.last_archived_time (unix s, 0 = unknown); without it the
 * window ends at the newest backup's stop time and WHY says so.
 *
 * info gives only each archive's oldest and newest segment, so "continuous"
 * can be checked only as wal_start >= min and wal_stop <= max; a gap in
 * between is invisible here (pgbackrest verify finds it). */
struct pgbr_pitr {
	int valid;		/* 0: no window (no backups / no archive); why says so */
	int64_t earliest, latest;	/* unix s */
	int latest_from_archiver;	/* latest came from LAST_ARCHIVED_S */
	char why[160];		/* when !valid or when partial: words for the pane */
};

/* Fill *OUT with ST's window (see above); ST may be NULL (no stanza). */
void pgbr_pitr_window(const struct pgbr_stanza *st, int64_t last_archived_s, struct pgbr_pitr *out);

/* A line of `pgbackrest backup --log-level-console=detail` output: 1 and *PCT
 * (0..100) when it reports a file copied with its percentage, else 0.
 * The lines are "[time] P01 DETAIL: backup file PATH (8KB, 12.34%) checksum
 * SHA1" and, with the same progress, "match file from prior backup ..." and
 * "checksum resumed file ..."; a bundle ("(bundle 1/0, 8KB, 12.34%)") and a
 * size change ("(16KB->8KB, ...)") are understood, and so is the integer
 * percentage of older versions.  LINE need not be NUL-terminated. */
int pgbr_progress_line(const char *line, size_t len, double *pct);

#endif
