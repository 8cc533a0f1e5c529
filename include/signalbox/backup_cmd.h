/* backup_cmd.h - the backup commands, for scripts, cron and CI.
 *
 *   signalbox backup [info] [--json]
 *   signalbox backup take [full|diff|incr] [--yes ...]
 *   signalbox backup drill [LABEL | 'YYYY-MM-DD HH:MM:SS+00'] [--json] [--yes ...]
 *   signalbox backup restore [LABEL | TIME] --yes --confirm-twice ...
 *
 * Each runs the backups source (backups.h) on its own loop, with the
 * PostgreSQL source when datastores.postgres is configured (for the
 * archiver and the PITR window's end).  take and drill go through the
 * policy like the TUI's keys (gate.h: --yes; in a protected environment
 * also --confirm-env NAME and --reason TEXT), and are audited.
 *
 * Exit status: 0 ok (info: not degraded; drill: PASSED), 1 degraded / the
 * backup or the drill failed, 2 usage or configuration, 3 pgBackRest could
 * not be read, 4 the policy refused, 130 interrupted.
 */
#ifndef SIGNALBOX_BACKUP_CMD_H
#define SIGNALBOX_BACKUP_CMD_H

struct config;

enum backup_cmd_exit {
	BACKUP_CMD_OK = 0,
	BACKUP_CMD_FAILED = 1,
	BACKUP_CMD_USAGE = 2,
	BACKUP_CMD_UNREADABLE = 3,
	BACKUP_CMD_REFUSED = 4,
	BACKUP_CMD_INTERRUPTED = 130,
};

enum backup_cmd_verb { BACKUP_CMD_INFO, BACKUP_CMD_TAKE, BACKUP_CMD_DRILL, BACKUP_CMD_RESTORE };

struct backup_cmd_opts {
	const char *config_path;	/* -c, or NULL */
	const char *log_path;		/* -v, or NULL */
	int read_only;			/* -r */
	int json;			/* --json */
	enum backup_cmd_verb verb;
	const char *arg;		/* take: the type; drill: a label or a time */
	int yes;
	int confirm_twice;		/* restore's second confirmation */
	const char *reason, *confirm_env;
};

/* Whether WORD is "backup". */
int backup_cmd_is(const char *word);

/* Parse ARGV (ARGV[0] is "backup"): 0 to run, 1 when done (--help), 2 on
 * a usage error (said on stderr). */
int backup_cmd_parse(struct backup_cmd_opts *o, int argc, char *argv[]);

/* Run it with CFG; returns the exit status. */
int backup_cmd_run(const struct config *cfg, const struct backup_cmd_opts *o);

#endif
