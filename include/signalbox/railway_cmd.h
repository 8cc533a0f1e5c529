/* railway_cmd.h - the non-interactive Railway commands, for scripts and CI.
 *
 *   signalbox status [--json]
 *   signalbox deploy|redeploy|restart SERVICE [--wait]
 *   signalbox rollback SERVICE [--to DEPLOYMENT] [--wait]
 *   signalbox scale SERVICE N [--region R] [--confirm-zero] [--wait]
 *   signalbox vars SERVICE [--reveal NAME] [--json]
 *   signalbox vars set SERVICE NAME [VALUE|-] [--skip-deploys] [--wait]
 *   signalbox vars delete SERVICE NAME
 *   signalbox stop SERVICE
 *   signalbox logs SERVICE|all [--follow] [--filter EXPR] [--since D] [--lines N] [--json]
 *   signalbox volumes SERVICE [--json]
 *   signalbox volume-backup SERVICE [NAME] [--wait]
 *   signalbox volume-restore SERVICE BACKUP-ID --confirm-twice [--wait]
 *   signalbox volume-schedule SERVICE DAILY,WEEKLY|none
 *
 * Each runs the Railway client (railway.h) on its own loop until it has
 * what it needs, and every change or reveal takes the TUI's path through
 * the policy (policy.h): policy_submit, the confirmation given as flags
 * (--yes; in a protected environment also --confirm-env NAME and --reason
 * TEXT; --confirm-zero for scaling to 0, --confirm-twice for a volume
 * restore), policy_issue, policy_redeem, the provider call, policy_done.
 * Refusals are audited by the policy and exit with RAILWAY_CMD_REFUSED.
 */
#ifndef SIGNALBOX_RAILWAY_CMD_H
#define SIGNALBOX_RAILWAY_CMD_H

#include <stdint.h>
#include <stdio.h>

struct config;
struct option;

/* Exit statuses (signalbox(1), EXIT STATUS). */
enum railway_cmd_exit {
	RAILWAY_CMD_OK = 0,
	RAILWAY_CMD_UNHEALTHY = 1,	/* status: a latest deployment is not SUCCESS; --wait: it failed */
	RAILWAY_CMD_USAGE = 2,		/* bad usage, configuration, unknown service */
	RAILWAY_CMD_PROVIDER = 3,	/* no token, not authorised, unreachable, the API said no */
	RAILWAY_CMD_REFUSED = 4,	/* the policy refused (read-only, unconfirmed, ...) */
	RAILWAY_CMD_TIMEOUT = 5,	/* --timeout ran out: the outcome is unknown */
	RAILWAY_CMD_INTERRUPTED = 130,	/* SIGINT or SIGTERM */
};

/* What the command line asked for.  The strings point into argv. */
struct railway_cmd_opts {
	/* global options, also accepted after the command */
	const char *config_path;	/* -c, or NULL */
	const char *log_path;		/* -v, or NULL */
	int read_only;			/* -r */
	int json;			/* --json */

	int cmd;			/* which command (railway_cmd.c) */
	const char *service;
	const char *var;		/* vars set/delete NAME, or --reveal NAME */
	const char *value_arg;		/* vars set VALUE; "-" or NULL = standard input */
	const char *env;		/* -e: environment name or id, NULL = provider.environment */
	const char *to;			/* rollback --to */
	const char *region;		/* scale --region */
	const char *reason;		/* --reason */
	const char *confirm_env;	/* --confirm-env */
	int replicas;			/* scale N */
	int yes;			/* --yes */
	int confirm_zero;		/* --confirm-zero */
	int wait;			/* --wait */
	int skip_deploys;		/* --skip-deploys */
	int64_t timeout_ms;		/* --timeout, default 10 min */
	int follow;			/* logs --follow */
	const char *filter;		/* logs --filter */
	int64_t since_ms;		/* logs --since (a duration), 0 = none */
	int lines;			/* logs --lines, -1 = not given */
	const char *volume_arg;		/* volume-backup NAME (or NULL), volume-restore
					 * BACKUP-ID, volume-schedule KINDS */
	unsigned schedule_kinds;	/* volume-schedule: railway_schedule_kind bits */
	int confirm_twice;		/* --confirm-twice */
};

/* Whether NAME is one of the commands above. */
int railway_cmd_is(const char *name);

/* The position in ARGV of the command word when it is one of the commands
 * above, else 0.  ARGV is scanned as getopt_long would with OPTSTRING and
 * LONGOPTS (the global options), stopping at the first operand, so the
 * caller can parse only what comes before it. */
int railway_cmd_index(int argc, char *const argv[], const char *optstring,
    const struct option *longopts);

/* The same for any command word IS says yes to (signalbox backup). */
int cli_word_index(int argc, char *const argv[], const char *optstring,
    const struct option *longopts, int (*is)(const char *word));

/* Parse the command and its options: ARGV[0] is the command word.  0 when
 * it is to run, 1 when help was printed (exit 0), -1 after a usage message
 * on stderr (exit RAILWAY_CMD_USAGE). */
int railway_cmd_parse(struct railway_cmd_opts *o, int argc, char *argv[]);

/* Run O against CFG's provider; returns the exit status. */
int railway_cmd_run(const struct config *cfg, const struct railway_cmd_opts *o);

/* The commands' synopsis, for signalbox --help. */
void railway_cmd_usage(FILE *out);

#endif
