/* railway_cmd.c - signalbox status, deploy, redeploy, restart, rollback,
 * scale, vars, logs and the volume backups from the command line
 * (railway_cmd.h).
 *
 * One run: start the Railway client on a loop of its own, wait for the
 * snapshots the command needs, build the policy request from them, carry
 * it through the policy exactly as act.c does for the TUI (submit, issue
 * with the confirmation given as flags, redeem, the provider call, done),
 * and with --wait follow what it started through the client's snapshots
 * until it settles.  The store's and the client's callbacks only schedule
 * a step; the work runs from timers on the loop.
 *
 * Nothing is asked interactively: a change needs --yes, a protected
 * environment also --confirm-env NAME and --reason TEXT (the TUI's typed
 * name and reason), scaling to 0 also --confirm-zero (the TUI's second
 * dialog).  A missing confirmation is a refusal, audited as one.
 *
 * The volume commands first fetch the service's volume, its backups and
 * its schedule (railway_volumes_list) and build the request from that; a
 * backup or a restore is a workflow the provider call follows, printing
 * its progress on standard error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/action.h"
#include "signalbox/app.h"
#include "signalbox/audit.h"
#include "signalbox/config.h"
#include "signalbox/err.h"
#include "signalbox/gate.h"
#include "signalbox/http.h"
#include "signalbox/loop.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/railway_cmd.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/ws.h"
#include "signalbox/xalloc.h"

#define RC_POLL_MS 2000		/* snapshot interval while following a change (the
				 * budget governor stretches it) */
#define RC_TIMEOUT_MS (10 * 60 * 1000)
#define RC_VALUE_MAX (1024 * 1024)	/* bytes of a variable read from stdin */
#define RC_MAX_UNDO 8		/* deployments listed that a rollback undoes */
#define RC_RESTART_SETTLE 3	/* snapshots before a restart without a visible dip counts */

enum rc_cmd {
	RC_NONE,
	RC_STATUS,
	RC_DEPLOY,
	RC_REDEPLOY,
	RC_RESTART,
	RC_STOP,
	RC_ROLLBACK,
	RC_SCALE,
	RC_VARS,
	RC_VAR_SET,
	RC_VAR_DELETE,
	RC_LOGS,
	RC_VOLUMES,
	RC_VOLUME_BACKUP,
	RC_VOLUME_RESTORE,
	RC_VOLUME_SCHEDULE,
};

/* Options beyond the global ones, as bits, to say which command takes which. */
enum rc_flag {
	RCF_JSON = 1 << 0,
	RCF_WAIT = 1 << 1,	/* --wait, --timeout */
	RCF_CONFIRM = 1 << 2,	/* --yes, --reason, --confirm-env */
	RCF_TO = 1 << 3,
	RCF_REGION = 1 << 4,
	RCF_ZERO = 1 << 5,
	RCF_REVEAL = 1 << 6,
	RCF_SKIP = 1 << 7,
	RCF_LOGS = 1 << 8,	/* --follow, --filter, --since, --lines */
	RCF_TWICE = 1 << 9,	/* --confirm-twice */
};

static const struct {
	const char *word;	/* as typed; "vars set" and "vars delete" are vars */
	enum rc_cmd cmd;
	unsigned flags;
} rc_cmds[] = {
	{ "status", RC_STATUS, RCF_JSON },
	{ "deploy", RC_DEPLOY, RCF_WAIT | RCF_CONFIRM },
	{ "redeploy", RC_REDEPLOY, RCF_WAIT | RCF_CONFIRM },
	{ "restart", RC_RESTART, RCF_WAIT | RCF_CONFIRM },
	{ "stop", RC_STOP, RCF_CONFIRM },
	{ "rollback", RC_ROLLBACK, RCF_WAIT | RCF_CONFIRM | RCF_TO },
	{ "scale", RC_SCALE, RCF_WAIT | RCF_CONFIRM | RCF_REGION | RCF_ZERO },
	{ "vars", RC_VARS, RCF_JSON | RCF_CONFIRM | RCF_REVEAL },
	{ "vars set", RC_VAR_SET, RCF_WAIT | RCF_CONFIRM | RCF_SKIP },
	{ "vars delete", RC_VAR_DELETE, RCF_CONFIRM },
	{ "logs", RC_LOGS, RCF_JSON | RCF_LOGS },
	{ "volumes", RC_VOLUMES, RCF_JSON },
	{ "volume-backup", RC_VOLUME_BACKUP, RCF_WAIT | RCF_CONFIRM },
	{ "volume-restore", RC_VOLUME_RESTORE, RCF_WAIT | RCF_CONFIRM | RCF_TWICE },
	{ "volume-schedule", RC_VOLUME_SCHEDULE, RCF_CONFIRM },
};

enum rc_opt {
	RCO_WAIT = 256,
	RCO_TIMEOUT,
	RCO_REASON,
	RCO_CONFIRM_ENV,
	RCO_CONFIRM_ZERO,
	RCO_TO,
	RCO_REGION,
	RCO_REVEAL,
	RCO_SKIP,
	RCO_JSON,
	RCO_FOLLOW,
	RCO_FILTER,
	RCO_SINCE,
	RCO_LINES,
	RCO_CONFIRM_TWICE,
};

static const struct option rc_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "log", required_argument, NULL, 'v' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "env", required_argument, NULL, 'e' },
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, RCO_JSON },
	{ "wait", no_argument, NULL, RCO_WAIT },
	{ "timeout", required_argument, NULL, RCO_TIMEOUT },
	{ "reason", required_argument, NULL, RCO_REASON },
	{ "confirm-env", required_argument, NULL, RCO_CONFIRM_ENV },
	{ "confirm-zero", no_argument, NULL, RCO_CONFIRM_ZERO },
	{ "confirm-twice", no_argument, NULL, RCO_CONFIRM_TWICE },
	{ "to", required_argument, NULL, RCO_TO },
	{ "region", required_argument, NULL, RCO_REGION },
	{ "reveal", required_argument, NULL, RCO_REVEAL },
	{ "skip-deploys", no_argument, NULL, RCO_SKIP },
	{ "follow", no_argument, NULL, RCO_FOLLOW },
	{ "filter", required_argument, NULL, RCO_FILTER },
	{ "since", required_argument, NULL, RCO_SINCE },
	{ "lines", required_argument, NULL, RCO_LINES },
	{ NULL, 0, NULL, 0 },
};

/* --- the command line ------------------------------------------------------ */

void
railway_cmd_usage(FILE *out)
{
	fprintf(out,
	    "       signalbox status [--json]          every service: deployment, version, replicas\n"
	    "       signalbox deploy|redeploy|restart SERVICE [--wait]\n"
	    "       signalbox stop SERVICE             stop the active deployment\n"
	    "       signalbox rollback SERVICE [--to DEPLOYMENT] [--wait]\n"
	    "       signalbox scale SERVICE N [--region R] [--confirm-zero] [--wait]\n"
	    "       signalbox vars SERVICE [--reveal NAME] [--json]\n"
	    "       signalbox vars set SERVICE NAME [VALUE|-] [--skip-deploys] [--wait]\n"
	    "       signalbox vars delete SERVICE NAME\n"
	    "       signalbox logs SERVICE|all [--follow] [--filter EXPR] [--since 10m] [--lines N] [--json]\n"
	    "       signalbox volumes SERVICE [--json]    the volume, its backups, the schedule\n"
	    "       signalbox volume-backup SERVICE [NAME] [--wait]\n"
	    "       signalbox volume-restore SERVICE BACKUP-ID --confirm-twice [--wait]\n"
	    "       signalbox volume-schedule SERVICE DAILY,WEEKLY,MONTHLY|none\n");
}

static void
rc_help(FILE *out)
{
	fprintf(out, "usage: signalbox [-c FILE] [-v LOGFILE] [-r] COMMAND ...\n");
	railway_cmd_usage(out);
	fprintf(out,
	    "\n"
	    "  -e, --env NAME          Railway environment (default provider.environment)\n"
	    "  -y, --yes               confirm a change (nothing is asked interactively)\n"
	    "      --confirm-env NAME  in a protected environment: its name, as the console asks\n"
	    "                          you to type it\n"
	    "      --reason TEXT       why; required in a protected environment, audited\n"
	    "      --confirm-zero      the second confirmation scaling to 0 needs\n"
	    "      --confirm-twice     the second confirmation a volume restore needs\n"
	    "      --wait              follow the change to SUCCESS (exit 0) or FAILED (exit 1);\n"
	    "                          volume-backup: until the backup is complete\n"
	    "      --timeout DURATION  give up after DURATION (default 10m; exit 5)\n"
	    "      --json              JSON output (status, vars, volumes; logs: one object per line)\n"
	    "      --follow            logs: keep following (Ctrl-C ends)\n"
	    "      --filter EXPR       logs: Railway's filter (@level:error, \"phrase\", -term)\n"
	    "      --since DURATION    logs: the lines of the last DURATION (at most 5000)\n"
	    "      --lines N           logs: the last N lines first (default 100, at most 5000)\n"
	    "  vars set reads the value from standard input when VALUE is - or missing.\n"
	    "  volume-restore stages the restore, then commits it: the service redeploys on\n"
	    "  the restored volume, and what was written after the backup is lost.\n"
	    "\n"
	    "Exit status: 0 ok; 1 a service is not SUCCESS (status) or the change failed\n"
	    "(--wait); 2 bad usage or configuration; 3 Railway: no or bad token, unreachable,\n"
	    "the API refused; 4 refused by the policy (read-only, not confirmed); 5 timed out.\n");
}

int
railway_cmd_is(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ARRAY_LEN(rc_cmds); i++)
		if (strcmp(rc_cmds[i].word, name) == 0)
			return 1;
	return 0;
}

/* The long option A names (exactly, or by a unique prefix, as getopt_long
 * takes it), or NULL. */
static const struct option *
rc_long_match(const struct option *longopts, const char *a, size_t n)
{
	const struct option *lo, *hit = NULL;
	int hits = 0;

	for (lo = longopts; lo != NULL && lo->name != NULL; lo++) {
		if (strncmp(lo->name, a, n) != 0)
			continue;
		if (strlen(lo->name) == n)
			return lo;
		hit = lo;
		hits++;
	}
	return hits == 1 ? hit : NULL;
}

int
railway_cmd_index(int argc, char *const argv[], const char *optstring,
    const struct option *longopts)
{
	return cli_word_index(argc, argv, optstring, longopts, railway_cmd_is);
}

int
cli_word_index(int argc, char *const argv[], const char *optstring,
    const struct option *longopts, int (*is)(const char *word))
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *p, *o;

		if (strcmp(a, "--") == 0)
			return i + 1 < argc && is(argv[i + 1]) ? i + 1 : 0;
		if (a[0] != '-' || a[1] == '\0')
			return is(a) ? i : 0;
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			const struct option *lo = rc_long_match(longopts, a + 2,
			    eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2));

			if (lo != NULL && lo->has_arg == required_argument && eq == NULL)
				i++;
			continue;
		}
		for (p = a + 1; *p != '\0'; p++) {
			o = *p != ':' ? strchr(optstring, *p) : NULL;
			if (o != NULL && o[1] == ':') {
				if (p[1] == '\0')
					i++;	/* the argument is the next word */
				break;
			}
		}
	}
	return 0;
}

static int rc_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
rc_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signalbox %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (signalbox %s --help)\n", cmd);
	return -1;
}

int
railway_cmd_parse(struct railway_cmd_opts *o, int argc, char *argv[])
{
	const char *word = argv[0], *pos[4];
	unsigned given = 0, allowed = 0;
	int opt, npos = 0, i;
	size_t k;
	char *end;
	long n;

	memset(o, 0, sizeof *o);
	o->timeout_ms = RC_TIMEOUT_MS;
	o->lines = -1;
	optind = 0;	/* glibc: start afresh at argv[1] */
	while ((opt = getopt_long(argc, argv, "c:v:re:yh", rc_longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 'v': o->log_path = optarg; break;
		case 'r': o->read_only = 1; break;
		case 'e': o->env = optarg; break;
		case 'y': o->yes = 1; given |= RCF_CONFIRM; break;
		case 'h': rc_help(stdout); return 1;
		case RCO_JSON: o->json = 1; given |= RCF_JSON; break;
		case RCO_WAIT: o->wait = 1; given |= RCF_WAIT; break;
		case RCO_TIMEOUT:
			if (util_parse_duration_ms(optarg, &o->timeout_ms) != 0 ||
			    o->timeout_ms <= 0)
				return rc_usage(word, "--timeout takes a duration such as 90s "
				    "or 10m, not '%s'", optarg);
			given |= RCF_WAIT;
			break;
		case RCO_REASON: o->reason = optarg; given |= RCF_CONFIRM; break;
		case RCO_CONFIRM_ENV: o->confirm_env = optarg; given |= RCF_CONFIRM; break;
		case RCO_CONFIRM_ZERO: o->confirm_zero = 1; given |= RCF_ZERO; break;
		case RCO_CONFIRM_TWICE: o->confirm_twice = 1; given |= RCF_TWICE; break;
		case RCO_TO: o->to = optarg; given |= RCF_TO; break;
		case RCO_REGION: o->region = optarg; given |= RCF_REGION; break;
		case RCO_REVEAL: o->var = optarg; given |= RCF_REVEAL; break;
		case RCO_SKIP: o->skip_deploys = 1; given |= RCF_SKIP; break;
		case RCO_FOLLOW: o->follow = 1; given |= RCF_LOGS; break;
		case RCO_FILTER: o->filter = optarg; given |= RCF_LOGS; break;
		case RCO_SINCE:
			if (util_parse_duration_ms(optarg, &o->since_ms) != 0 || o->since_ms <= 0)
				return rc_usage(word, "--since takes a duration such as 10m or "
				    "2h, not '%s'", optarg);
			given |= RCF_LOGS;
			break;
		case RCO_LINES:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 0 || n > 5000)
				return rc_usage(word, "--lines takes a number from 0 to 5000, "
				    "not '%s'", optarg);
			o->lines = (int)n;
			given |= RCF_LOGS;
			break;
		default:
			fprintf(stderr, "signalbox %s: see signalbox %s --help\n", word, word);
			return -1;
		}
	}
	for (i = optind; i < argc; i++) {
		if (npos == (int)ARRAY_LEN(pos))
			return rc_usage(word, "too many arguments ('%s')", argv[i]);
		pos[npos++] = argv[i];
	}
	/* "vars set" and "vars delete" are commands of their own */
	if (strcmp(word, "vars") == 0 && npos >= 1 && (strcmp(pos[0], "set") == 0 ||
	    strcmp(pos[0], "delete") == 0)) {
		o->cmd = strcmp(pos[0], "set") == 0 ? RC_VAR_SET : RC_VAR_DELETE;
		word = o->cmd == RC_VAR_SET ? "vars set" : "vars delete";
		memmove(pos, pos + 1, sizeof pos[0] * (size_t)--npos);
	}
	for (k = 0; k < ARRAY_LEN(rc_cmds); k++) {
		if (strcmp(rc_cmds[k].word, word) == 0) {
			o->cmd = rc_cmds[k].cmd;
			allowed = rc_cmds[k].flags;
		}
	}
	if (o->cmd == RC_NONE)
		return rc_usage(word, "unknown command");
	if (given & ~allowed) {
		static const struct { unsigned f; const char *name; } names[] = {
			{ RCF_JSON, "--json" }, { RCF_WAIT, "--wait/--timeout" },
			{ RCF_CONFIRM, "--yes/--reason/--confirm-env" }, { RCF_TO, "--to" },
			{ RCF_REGION, "--region" }, { RCF_ZERO, "--confirm-zero" },
			{ RCF_REVEAL, "--reveal" }, { RCF_SKIP, "--skip-deploys" },
			{ RCF_LOGS, "--follow/--filter/--since/--lines" },
			{ RCF_TWICE, "--confirm-twice" },
		};

		for (k = 0; k < ARRAY_LEN(names); k++)
			if (given & ~allowed & names[k].f)
				return rc_usage(word, "%s does not apply to %s", names[k].name, word);
	}
	if (o->cmd == RC_VARS && o->var == NULL && (given & RCF_CONFIRM))
		return rc_usage(word, "listing variables changes nothing: --yes, --reason and "
		    "--confirm-env are for --reveal");
	switch (o->cmd) {
	case RC_STATUS:
		if (npos != 0)
			return rc_usage(word, "takes no SERVICE ('%s')", pos[0]);
		return 0;
	case RC_SCALE:
		if (npos != 2)
			return rc_usage(word, "needs SERVICE and N");
		n = strtol(pos[1], &end, 10);
		if (*pos[1] == '\0' || *end != '\0' || n < 0 || n > 50)
			return rc_usage(word, "N must be a number of replicas from 0 to 50, not "
			    "'%s'", pos[1]);
		o->replicas = (int)n;
		if (o->confirm_zero && n != 0)
			return rc_usage(word, "--confirm-zero is only for scaling to 0");
		break;
	case RC_VAR_SET:
		if (npos < 2 || npos > 3)
			return rc_usage(word, "needs SERVICE NAME [VALUE|-]");
		o->var = pos[1];
		o->value_arg = npos == 3 ? pos[2] : NULL;
		if (o->wait && o->skip_deploys)
			return rc_usage(word, "--skip-deploys starts no deployment: nothing to "
			    "--wait for (run signalbox redeploy SERVICE --wait)");
		break;
	case RC_VAR_DELETE:
		if (npos != 2)
			return rc_usage(word, "needs SERVICE NAME");
		o->var = pos[1];
		break;
	case RC_VOLUME_BACKUP:
		if (npos < 1 || npos > 2)
			return rc_usage(word, "needs SERVICE [NAME]");
		o->volume_arg = npos == 2 ? pos[1] : NULL;
		if (o->volume_arg != NULL && (o->volume_arg[0] == '\0' ||
		    strlen(o->volume_arg) > 200))
			return rc_usage(word, "the backup NAME must have 1 to 200 bytes");
		break;
	case RC_VOLUME_RESTORE:
		if (npos != 2)
			return rc_usage(word, "needs SERVICE BACKUP-ID (signalbox volumes SERVICE "
			    "lists them)");
		o->volume_arg = pos[1];
		if (o->volume_arg[0] == '\0')
			return rc_usage(word, "the BACKUP-ID is empty");
		break;
	case RC_VOLUME_SCHEDULE: {
		struct err se;

		if (npos != 2)
			return rc_usage(word, "needs SERVICE and the schedule: DAILY, WEEKLY, "
			    "MONTHLY separated by commas, or none");
		o->volume_arg = pos[1];
		memset(&se, 0, sizeof se);
		if (railway_schedule_parse(pos[1], &o->schedule_kinds, &se) != 0)
			return rc_usage(word, "%s", se.msg);
		break;
	}
	default:
		if (npos != 1)
			return rc_usage(word, npos == 0 ? "needs a SERVICE" :
			    "takes one SERVICE, not '%s'", npos > 1 ? pos[1] : "");
		break;
	}
	o->service = pos[0];
	if (o->service[0] == '\0')
		return rc_usage(word, "the SERVICE is empty");
	return 0;
}

/* --- one run ----------------------------------------------------------------- */

enum rc_phase {
	RC_CONNECT,	/* waiting for the snapshots */
	RC_ACT,		/* the provider has the request */
	RC_WAIT,	/* --wait: following what it started */
	RC_DONE,	/* tearing down */
};

struct rc {
	const struct railway_cmd_opts *o;
	const struct config *cfg;
	uv_loop_t loop;
	struct store *store;
	struct http *http;
	struct railway *rw;
	struct audit *audit;
	struct policy *policy;
	struct loop_timer *step_timer;		/* a step outside the callbacks */
	struct loop_timer *deadline_timer;	/* --timeout */
	struct loop_timer *quit_timer;
	uv_signal_t sig_int, sig_term;
	int signals;
	enum rc_phase phase;
	int status;

	/* the request and the strings it points to */
	struct policy_req req;
	struct policy_ticket ticket;
	char what[192];		/* "deploy api", for messages */
	char env[128];
	char svc_id[160];
	char svc_name[256];
	char dep[160];
	char region[128];
	char before[192];
	char after[192];
	char *plan[POLICY_MAX_PLAN];
	size_t n_plan;
	char *value;		/* vars set: wiped at the end */
	size_t value_len;

	/* the answer and --wait */
	uint64_t sent_ms;	/* loop ms the request went to the provider */
	char follow[160];	/* deployment followed; "" = the next new one */
	char prev_latest[160];	/* the service's newest deployment before the request */
	char last_status[64];	/* the status last printed */
	int last_running, last_desired;
	int saw_dip;		/* restart: fewer replicas running at some point */
	int snaps;		/* snapshots fetched since the answer */
	uint64_t snap_gen;	/* the last one counted */

	/* logs, and the last lines of a failed deployment */
	struct ws_ctx *ws;	/* logs --follow only */
	struct railway_logs *logs;
	unsigned long printed;
	int fail_status;	/* exit status once the failure's lines are shown */

	/* volumes */
	struct railway_volumes *vols;	/* the list the request was built from */
	char vol_inst[160];	/* the volume instance acted on */
	char vol_name[256];
	char workflow[160];	/* the workflow the provider named */
	char patch[160];	/* volume-restore: the committed patch */
	char backup_id[160];	/* volume-restore: the backup */
	char progress[320];	/* the progress line printed last */
	int relisting;		/* volume-backup --wait: the list after the backup */
	struct policy_param params[2];
};

static void rc_step(struct rc *c);

static void
rc_quit_cb(struct loop_timer *t, void *ud)
{
	struct rc *c = ud;

	railway_logs_close(&c->logs);
	if (c->ws != NULL)
		ws_ctx_shutdown(c->ws);
	(void)t;
	railway_stop(c->rw);	/* an action in flight ends now, audited as unknown */
	http_free(&c->http);
	loop_timer_free(&c->step_timer);
	loop_timer_free(&c->deadline_timer);
	loop_timer_free(&c->quit_timer);
	if (c->signals) {
		uv_close((uv_handle_t *)&c->sig_int, NULL);
		uv_close((uv_handle_t *)&c->sig_term, NULL);
		c->signals = 0;
	}
}

/* End the run with STATUS (the first one given wins). */
static void
rc_finish(struct rc *c, int status)
{
	if (c->phase == RC_DONE)
		return;
	c->phase = RC_DONE;
	c->status = status;
	fflush(stdout);
	loop_timer_start(c->quit_timer, 0, 0);
}

static void rc_fail(struct rc *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rc_fail(struct rc *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->phase == RC_DONE)
		return;
	fflush(stdout);
	fprintf(stderr, "signalbox: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	rc_finish(c, status);
}

static double
rc_elapsed(struct rc *c)
{
	return (double)(loop_now_ms(&c->loop) - c->sent_ms) / 1000.0;
}

static void
rc_fmt_duration(char *buf, size_t len, int64_t ms)
{
	if (ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
}

/* "v2 (3f2a1c2b)" for D. */
static void
rc_dep_words(char *buf, size_t len, const struct railway_deployment *d)
{
	snprintf(buf, len, "%s (%.8s)", d->version[0] != '\0' ? d->version : "?", d->id);
}

static void
rc_age(char *buf, size_t len, int64_t ms)
{
	if (ms <= 0)
		util_strlcpy(buf, "-", len);
	else
		util_fmt_age(buf, len, util_wall_ms() - ms);
}

/* --- reading what the command acts on ---------------------------------------- */

static const struct railway_service *
rc_service(struct rc *c, const struct railway_project_snap *snap)
{
	char names[512] = "";
	size_t i, used = 0;

	for (i = 0; i < snap->n_services; i++)
		if (strcmp(snap->services[i].name, c->o->service) == 0)
			return &snap->services[i];
	for (i = 0; i < snap->n_services && used < sizeof names; i++)
		used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
		    i > 0 ? ", " : "", snap->services[i].name);
	rc_fail(c, RAILWAY_CMD_USAGE, "no service '%s' in %s/%s (it has: %s)", c->o->service,
	    snap->project_name, snap->environment_name, names[0] != '\0' ? names : "none");
	return NULL;
}

static const struct railway_var_set *
rc_var_set(const struct railway_vars_snap *vs, const char *service_id)
{
	size_t i;

	for (i = 0; vs != NULL && i < vs->n_sets; i++)
		if (strcmp(vs->sets[i].service_id, service_id) == 0)
			return &vs->sets[i];
	return NULL;
}

static const struct railway_var *
rc_var(const struct railway_var_set *set, const char *name)
{
	size_t i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (strcmp(set->vars[i].name, name) == 0)
			return &set->vars[i];
	return NULL;
}

/* A deployment of service S by ID: in the snapshot, else in the history. */
static const struct railway_deployment *
rc_deployment(struct rc *c, const struct railway_service *s, const char *id)
{
	const struct railway_history_snap *h = store_get(c->store, STORE_TOPIC_DEPLOYMENTS, NULL);
	const struct railway_service_history *sh;
	size_t i;

	if (s->latest != NULL && strcmp(s->latest->id, id) == 0)
		return s->latest;
	if (s->active != NULL && strcmp(s->active->id, id) == 0)
		return s->active;
	sh = h != NULL ? railway_history_find(h, s->id) : NULL;
	for (i = 0; sh != NULL && i < sh->n; i++)
		if (strcmp(sh->deployments[i].id, id) == 0)
			return &sh->deployments[i];
	return NULL;
}

/* --- status and vars ---------------------------------------------------------- */

static int
rc_service_ok(const struct railway_service *s)
{
	return s->latest != NULL && s->latest->status == RAILWAY_STATUS_SUCCESS;
}

static void
rc_replicas(char *buf, size_t len, const struct railway_service *s)
{
	size_t i, used;

	if (s->desired_total >= 0)
		used = (size_t)snprintf(buf, len, "%d/%d", s->running_total, s->desired_total);
	else
		used = (size_t)snprintf(buf, len, "%d/?", s->running_total);
	for (i = 0; i < s->n_regions && used < len; i++) {
		const struct railway_region *r = &s->regions[i];

		if (s->n_regions == 1)
			used += (size_t)snprintf(buf + used, len - used, " %s",
			    r->name[0] != '\0' ? r->name : "(region unknown)");
		else if (r->desired >= 0)
			used += (size_t)snprintf(buf + used, len - used, " %s %d/%d",
			    r->name[0] != '\0' ? r->name : "?", r->running, r->desired);
		else
			used += (size_t)snprintf(buf + used, len - used, " %s %d/-",
			    r->name[0] != '\0' ? r->name : "?", r->running);
	}
}

static void
rc_status_text(const struct railway_project_snap *snap)
{
	size_t i, w = 7;
	char age[32], reps[256], ver[64];

	for (i = 0; i < snap->n_services; i++)
		if (strlen(snap->services[i].name) > w)
			w = strlen(snap->services[i].name);
	printf("%s / %s\n", snap->project_name, snap->environment_name);
	printf("%-*s  %-14s %-10s %5s  %-8s  %s\n", (int)w, "SERVICE", "STATUS", "VERSION",
	    "AGE", "DEPLOY", "REPLICAS (running/desired)");
	for (i = 0; i < snap->n_services; i++) {
		const struct railway_service *s = &snap->services[i];
		const struct railway_deployment *d = s->latest, *a = s->active;

		rc_age(age, sizeof age, d != NULL ? d->created_ms : 0);
		rc_replicas(reps, sizeof reps, s);
		printf("%-*s  %-14s %-10s %5s  %-8.8s  %s", (int)w, s->name,
		    d != NULL ? d->status_text : "-",
		    d != NULL ? (d->version[0] != '\0' ? d->version : "?") : "-", age,
		    d != NULL ? d->id : "-", reps);
		if (d != NULL && a != NULL && strcmp(d->id, a->id) != 0) {
			rc_dep_words(ver, sizeof ver, a);
			printf("  serving %s %s", ver, a->status_text);
		} else if (d != NULL && a == NULL && d->status == RAILWAY_STATUS_SUCCESS) {
			printf("  (no active deployment)");
		}
		putchar('\n');
	}
}

static void
rc_json_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];

	if (ms <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	audit_fmt_time(ms, buf, sizeof buf);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *
rc_json_deployment(const struct railway_deployment *d)
{
	cJSON *o;

	if (d == NULL)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", d->id);
	cJSON_AddStringToObject(o, "status", d->status_text);
	cJSON_AddStringToObject(o, "version", d->version);
	if (d->commit[0] != '\0')
		cJSON_AddStringToObject(o, "commit", d->commit);
	if (d->image[0] != '\0')
		cJSON_AddStringToObject(o, "image", d->image);
	rc_json_time(o, "created", d->created_ms);
	if (d->created_ms > 0)
		cJSON_AddNumberToObject(o, "age_s",
		    (double)((util_wall_ms() - d->created_ms) / 1000));
	else
		cJSON_AddNullToObject(o, "age_s");
	cJSON_AddNumberToObject(o, "instances_running", d->instances_running);
	return o;
}

static void
rc_json_print(cJSON *root)
{
	char *out = cJSON_Print(root);

	if (out == NULL)
		xalloc_die("out of memory");
	puts(out);
	free(out);
	cJSON_Delete(root);
}

static void
rc_status_json(const struct railway_project_snap *snap, int ok)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	size_t i, k;

	cJSON_AddStringToObject(root, "project", snap->project_name);
	cJSON_AddStringToObject(root, "project_id", snap->project_id);
	cJSON_AddStringToObject(root, "environment", snap->environment_name);
	cJSON_AddStringToObject(root, "environment_id", snap->environment_id);
	rc_json_time(root, "fetched", snap->fetched_ms);
	cJSON_AddBoolToObject(root, "ok", ok);
	arr = cJSON_AddArrayToObject(root, "services");
	for (i = 0; i < snap->n_services; i++) {
		const struct railway_service *s = &snap->services[i];
		cJSON *o = cJSON_CreateObject(), *reps, *regs;

		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddStringToObject(o, "id", s->id);
		cJSON_AddStringToObject(o, "status", s->latest != NULL ? s->latest->status_text :
		    "NONE");
		cJSON_AddBoolToObject(o, "ok", rc_service_ok(s));
		cJSON_AddStringToObject(o, "version", s->latest != NULL ? s->latest->version : "");
		cJSON_AddStringToObject(o, "source_version", s->source_version);
		cJSON_AddItemToObject(o, "latest", rc_json_deployment(s->latest));
		cJSON_AddItemToObject(o, "active", rc_json_deployment(s->active));
		reps = cJSON_AddObjectToObject(o, "replicas");
		cJSON_AddNumberToObject(reps, "running", s->running_total);
		if (s->desired_total >= 0)
			cJSON_AddNumberToObject(reps, "desired", s->desired_total);
		else
			cJSON_AddNullToObject(reps, "desired");
		regs = cJSON_AddArrayToObject(reps, "regions");
		for (k = 0; k < s->n_regions; k++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "name", s->regions[k].name);
			cJSON_AddNumberToObject(r, "running", s->regions[k].running);
			if (s->regions[k].desired >= 0)
				cJSON_AddNumberToObject(r, "desired", s->regions[k].desired);
			else
				cJSON_AddNullToObject(r, "desired");
			cJSON_AddItemToArray(regs, r);
		}
		if (s->domain[0] != '\0')
			cJSON_AddStringToObject(o, "domain", s->domain);
		cJSON_AddItemToArray(arr, o);
	}
	rc_json_print(root);
}

static void
rc_status(struct rc *c, const struct railway_project_snap *snap)
{
	int ok = 1;
	size_t i;

	for (i = 0; i < snap->n_services; i++)
		if (!rc_service_ok(&snap->services[i]))
			ok = 0;
	if (c->o->json)
		rc_status_json(snap, ok);
	else
		rc_status_text(snap);
	rc_finish(c, ok ? RAILWAY_CMD_OK : RAILWAY_CMD_UNHEALTHY);
}

static void
rc_vars_list(struct rc *c, const struct railway_var_set *set)
{
	size_t i, w = 4;

	if (c->o->json) {
		cJSON *root = cJSON_CreateObject(), *arr;

		cJSON_AddStringToObject(root, "service", set->service_name);
		cJSON_AddStringToObject(root, "environment", c->env);
		arr = cJSON_AddArrayToObject(root, "variables");
		for (i = 0; i < set->n; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", set->vars[i].name);
			cJSON_AddNumberToObject(o, "length", (double)set->vars[i].value_len);
			cJSON_AddStringToObject(o, "fingerprint", set->vars[i].fingerprint);
			cJSON_AddBoolToObject(o, "reference", set->vars[i].is_reference);
			cJSON_AddItemToArray(arr, o);
		}
		rc_json_print(root);
	} else {
		for (i = 0; i < set->n; i++)
			if (strlen(set->vars[i].name) > w)
				w = strlen(set->vars[i].name);
		printf("%s in %s: %zu variable%s (values hidden: length and fingerprint; "
		    "--reveal NAME shows one)\n", set->service_name, c->env, set->n,
		    set->n == 1 ? "" : "s");
		printf("%-*s  %6s  %s\n", (int)w, "NAME", "LENGTH", "FINGERPRINT");
		for (i = 0; i < set->n; i++)
			printf("%-*s  %6zu  %-8s%s\n", (int)w, set->vars[i].name,
			    set->vars[i].value_len, set->vars[i].fingerprint,
			    set->vars[i].is_reference ? "  (reference)" : "");
	}
	rc_finish(c, RAILWAY_CMD_OK);
}

/* A revealed value: as is into a pipe or file, made harmless on a terminal. */
static void
rc_print_value(struct rc *c, const char *value, size_t len)
{
	char *copy = xstrndup(value != NULL ? value : "", len), *out;

	if (c->o->json) {
		cJSON *root = cJSON_CreateObject();

		cJSON_AddStringToObject(root, "service", c->svc_name);
		cJSON_AddStringToObject(root, "environment", c->env);
		cJSON_AddStringToObject(root, "name", c->req.var);
		cJSON_AddStringToObject(root, "value", copy);
		out = cJSON_PrintUnformatted(root);
		if (out == NULL)
			xalloc_die("out of memory");
		puts(out);
		explicit_bzero(out, strlen(out));
		free(out);
		/* wipe the tree's copy of the value before it is freed */
		out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "value"));
		if (out != NULL)
			explicit_bzero(out, strlen(out));
		cJSON_Delete(root);
	} else if (isatty(STDOUT_FILENO)) {
		out = text_sanitize(copy, strlen(copy), 1);
		puts(out);
		explicit_bzero(out, strlen(out));
		free(out);
	} else {
		fwrite(copy, 1, strlen(copy), stdout);
		putchar('\n');
	}
	fflush(stdout);
	explicit_bzero(copy, len);
	free(copy);
}

/* --- the action ----------------------------------------------------------------- */

static void
rc_plan_add(struct rc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
rc_plan_add(struct rc *c, const char *fmt, ...)
{
	va_list ap;
	char buf[POLICY_LINE];

	if (c->n_plan >= POLICY_MAX_PLAN)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	c->plan[c->n_plan++] = xstrdup(buf);
}

/* A volume workflow moved on: one line on stderr when it says something new
 * (a backup without --wait is not followed). */
static void
rc_volume_progress(const struct railway_volume_progress *p, void *ud)
{
	struct rc *c = ud;
	char line[sizeof c->progress];
	int named = p->workflow_id[0] != '\0' && strcmp(p->workflow_id, c->workflow) != 0;

	if (named)
		util_strlcpy(c->workflow, p->workflow_id, sizeof c->workflow);
	if (p->detail[0] != '\0')
		util_strlcpy(c->patch, p->detail, sizeof c->patch);
	if (c->req.action == ACTION_VOLUME_BACKUP && !c->o->wait)
		return;
	if (p->detail[0] != '\0')
		snprintf(line, sizeof line, "committed (patch %s)", p->detail);
	else if (named)
		snprintf(line, sizeof line, "%s: workflow %s", p->step, p->workflow_id);
	else if (p->status[0] != '\0')
		snprintf(line, sizeof line, "%s: %s", p->step, p->status);
	else
		snprintf(line, sizeof line, "%s", p->step);
	if (strcmp(line, c->progress) == 0)
		return;
	util_strlcpy(c->progress, line, sizeof c->progress);
	fflush(stdout);
	fprintf(stderr, "  %6.1fs  %s\n", (double)p->elapsed_ms / 1000.0, line);
}

/* Send the request to the provider; -1 and E when it could not be sent.
 * Only rc_carry_out calls it, after policy_redeem. */
static int
rc_send(struct rc *c, railway_done_fn *done, struct err *e)
{
	const struct policy_req *q = &c->req;
	const char *svc = q->target_id != NULL && q->target_id[0] != '\0' ? q->target_id : NULL;

	switch (q->action) {
	case ACTION_DEPLOY:
		return railway_deploy(c->rw, svc, NULL, done, c, e);
	case ACTION_REDEPLOY:
		return railway_redeploy(c->rw, q->deployment, done, c, e);
	case ACTION_RESTART:
		return railway_restart(c->rw, q->deployment, done, c, e);
	case ACTION_ROLLBACK:
		return railway_rollback(c->rw, q->deployment, done, c, e);
	case ACTION_SCALE:
		return railway_scale(c->rw, svc, q->region, q->to, done, c, e);
	case ACTION_VAR_SET:
		return railway_var_set(c->rw, svc, q->var, c->value, c->value_len,
		    q->skip_deploys, done, c, e);
	case ACTION_VAR_DELETE:
		return railway_var_delete(c->rw, svc, q->var, done, c, e);
	case ACTION_VAR_REVEAL:
		return railway_var_reveal(c->rw, svc, q->var, done, c, e);
	case ACTION_VOLUME_BACKUP:
		return railway_volume_backup_create(c->rw, c->vol_inst, q->after, c->o->wait,
		    rc_volume_progress, done, c, e);
	case ACTION_VOLUME_RESTORE:
		return railway_volume_backup_restore(c->rw, c->vol_inst, q->target_id,
		    rc_volume_progress, done, c, e);
	case ACTION_VOLUME_SCHEDULE:
		return railway_volume_schedule_set(c->rw, c->vol_inst, c->o->schedule_kinds, done,
		    c, e);
	default:
		return err_set(e, ERR_INTERNAL, "'%s' is not a provider action",
		    action_info(q->action) != NULL ? action_info(q->action)->name : "?");
	}
}

static void rc_wait_start(struct rc *c, const struct railway_result *r);
static void rc_failure_logs(struct rc *c, const struct railway_deployment *d);
static void rc_logs(struct rc *c, const struct railway_project_snap *snap);
static void rc_volumes_fetch(struct rc *c);
static int rc_volume_done(struct rc *c, const struct railway_result *r);

/* The provider answered. */
static void
rc_done(const struct railway_result *r, void *ud)
{
	struct rc *c = ud;
	const char *err = r->error != NULL && r->error[0] != '\0' ? r->error : "failed";
	char after[256] = "";

	if (r->ok && r->deployment_id != NULL && r->deployment_id[0] != '\0')
		snprintf(after, sizeof after, "deployment %s", r->deployment_id);
	else if (r->ok && c->req.action == ACTION_VOLUME_BACKUP)
		snprintf(after, sizeof after, "backup %s (workflow %s)", c->o->wait ? "complete" :
		    "started", c->workflow[0] != '\0' ? c->workflow : "?");
	else if (r->ok && c->req.action == ACTION_VOLUME_RESTORE)
		snprintf(after, sizeof after, "restore staged and committed (patch %s)",
		    c->patch[0] != '\0' ? c->patch : "?");
	else if (r->ok && c->req.action == ACTION_VOLUME_SCHEDULE)
		snprintf(after, sizeof after, "schedule %s", c->after);
	policy_done(c->policy, &c->ticket, r->ok, r->ok ? NULL : err,
	    after[0] != '\0' ? after : NULL);
	if (r->cancelled)
		return;		/* stopping (timeout, signal): the status is set */
	if (!r->ok) {
		rc_fail(c, RAILWAY_CMD_PROVIDER, "%s failed: %s", c->what, err);
		return;
	}
	if (c->req.action == ACTION_VAR_REVEAL) {
		rc_print_value(c, r->value, r->value_len);
		rc_finish(c, RAILWAY_CMD_OK);
		return;
	}
	if (rc_volume_done(c, r))
		return;
	if (after[0] != '\0')
		printf("%s: accepted in %lld ms, deployment %s\n", c->what,
		    (long long)r->duration_ms, r->deployment_id);
	else
		printf("%s: accepted in %lld ms\n", c->what, (long long)r->duration_ms);
	if (!c->o->wait) {
		rc_finish(c, RAILWAY_CMD_OK);
		return;
	}
	rc_wait_start(c, r);
}

/* Present the ticket and send: the one path to a provider call. */
static void
rc_carry_out(struct rc *c)
{
	struct err e;

	memset(&e, 0, sizeof e);
	if (policy_redeem(c->policy, &c->ticket, &c->req, &e) != 0) {
		rc_fail(c, RAILWAY_CMD_REFUSED, "%s refused: %s", c->what, e.msg);
		return;
	}
	c->phase = RC_ACT;
	c->sent_ms = loop_now_ms(&c->loop);
	if (rc_send(c, rc_done, &e) != 0) {
		policy_done(c->policy, &c->ticket, 0, e.msg, NULL);
		rc_fail(c, RAILWAY_CMD_PROVIDER, "%s failed: %s", c->what, e.msg);
	}
}

/* Replace the first FROM in BUF (LEN bytes) by TO, when it fits. */
static void
rc_rename_flag(char *buf, size_t len, const char *from, const char *to)
{
	char *at = strstr(buf, from);
	size_t fl = strlen(from), tl = strlen(to);

	if (at == NULL || strlen(buf) - fl + tl + 1 > len)
		return;
	memmove(at + tl, at + fl, strlen(at + fl) + 1);
	memcpy(at, to, tl);
}

/* REQ is built: check, confirm from the flags, audit, carry out. */
static void
rc_submit(struct rc *c)
{
	const struct railway_cmd_opts *o = c->o;
	struct gate_flags f;
	char why[POLICY_LINE + 128];

	c->req.plan = (const char *const *)c->plan;
	c->req.n_plan = c->n_plan;
	memset(&f, 0, sizeof f);
	f.yes = o->yes;
	f.confirm_zero = o->confirm_zero || o->confirm_twice;
	f.confirm_env = o->confirm_env;
	f.reason = o->reason;
	if (gate_submit(c->policy, &c->req, &f, &c->ticket, why, sizeof why) != 0) {
		/* gate.c names the second confirmation after scale's flag */
		if (c->req.action != ACTION_SCALE)
			rc_rename_flag(why, sizeof why, "--confirm-zero", "--confirm-twice");
		rc_fail(c, RAILWAY_CMD_REFUSED, "%s refused: %s", c->what, why);
		return;
	}
	rc_carry_out(c);
}

/* Fill the request's common fields for ACTION on S. */
static void
rc_req_init(struct rc *c, enum action action, const struct railway_service *s)
{
	const struct action_info *ai = action_info(action);

	memset(&c->req, 0, sizeof c->req);
	c->req.action = action;
	c->req.env = c->env[0] != '\0' ? c->env : NULL;
	c->req.from = -1;
	if (s != NULL) {
		util_strlcpy(c->svc_id, s->id, sizeof c->svc_id);
		util_strlcpy(c->svc_name, s->name, sizeof c->svc_name);
		c->req.target = c->svc_name;
		c->req.target_id = c->svc_id;
		if (s->latest != NULL)
			util_strlcpy(c->prev_latest, s->latest->id, sizeof c->prev_latest);
	}
	snprintf(c->what, sizeof c->what, "%s %.160s", ai != NULL ? ai->name : "?",
	    c->svc_name);
}

/* Rollback: the target (--to, else the newest deployment before the active
 * one that can be rolled back to) and what it undoes. */
static int
rc_rollback_target(struct rc *c, const struct railway_service *s)
{
	const struct railway_history_snap *h = store_get(c->store, STORE_TOPIC_DEPLOYMENTS, NULL);
	const struct railway_service_history *sh = h != NULL ? railway_history_find(h, s->id) :
	    NULL;
	const struct railway_deployment *t = NULL;
	size_t i, from = 0, ti = 0, nmatch = 0, to_len;
	char words[96], age[32];

	if (sh == NULL || sh->n == 0) {
		rc_fail(c, RAILWAY_CMD_USAGE, "%s has no deployments to roll back to", s->name);
		return -1;
	}
	if (c->o->to != NULL) {
		to_len = strlen(c->o->to);
		for (i = 0; i < sh->n; i++) {
			if (strcmp(sh->deployments[i].id, c->o->to) == 0) {
				t = &sh->deployments[i];
				ti = i;
				nmatch = 1;
				break;
			}
			if (to_len >= 4 && strncmp(sh->deployments[i].id, c->o->to, to_len) == 0) {
				t = &sh->deployments[i];
				ti = i;
				nmatch++;
			}
		}
		if (nmatch != 1) {
			rc_fail(c, RAILWAY_CMD_USAGE, "%s: %s deployment '%s' in the last %zu",
			    s->name, nmatch == 0 ? "no" : "more than one", c->o->to, sh->n);
			return -1;
		}
	} else {
		if (s->active != NULL)
			for (i = 0; i < sh->n; i++)
				if (strcmp(sh->deployments[i].id, s->active->id) == 0)
					from = i + 1;
		for (i = from; i < sh->n && t == NULL; i++) {
			if (sh->deployments[i].can_rollback) {
				t = &sh->deployments[i];
				ti = i;
			}
		}
		if (t == NULL) {
			rc_fail(c, RAILWAY_CMD_USAGE, "%s: no earlier successful deployment to "
			    "roll back to in the last %zu (give one with --to)", s->name, sh->n);
			return -1;
		}
	}
	util_strlcpy(c->dep, t->id, sizeof c->dep);
	rc_dep_words(c->after, sizeof c->after, t);
	for (i = 0; i < ti; i++) {
		const struct railway_deployment *d = &sh->deployments[i];

		if (i == RC_MAX_UNDO && ti > RC_MAX_UNDO + 1) {
			rc_plan_add(c, "undoes %zu more deployments", ti - i);
			break;
		}
		rc_dep_words(words, sizeof words, d);
		rc_age(age, sizeof age, d->created_ms);
		rc_plan_add(c, "undoes %s %s, %s ago%s", words, d->status_text, age,
		    s->active != NULL && strcmp(s->active->id, d->id) == 0 ? " (serving now)" : "");
	}
	if (ti == 0)
		rc_plan_add(c, "%s is the newest deployment: nothing newer is undone", c->after);
	return 0;
}

/* Scale: the region and the replicas there now. */
static int
rc_scale_region(struct rc *c, const struct railway_service *s)
{
	const char *region = c->o->region;
	char names[256] = "";
	size_t i, used = 0;

	if (region == NULL) {
		if (s->n_regions == 1 && s->regions[0].name[0] != '\0') {
			region = s->regions[0].name;
		} else if (s->n_regions == 0 && s->region[0] != '\0') {
			region = s->region;
		} else {
			for (i = 0; i < s->n_regions && used < sizeof names; i++)
				used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
				    i > 0 ? ", " : "", s->regions[i].name);
			rc_fail(c, RAILWAY_CMD_USAGE, "%s runs in %s: say which with --region",
			    s->name, names[0] != '\0' ? names : "an unknown region");
			return -1;
		}
	}
	util_strlcpy(c->region, region, sizeof c->region);
	c->req.region = c->region;
	c->req.from = s->desired_total >= 0 ? 0 : -1;	/* a region not configured has none */
	for (i = 0; i < s->n_regions; i++)
		if (strcmp(s->regions[i].name, region) == 0)
			c->req.from = s->regions[i].desired >= 0 ? s->regions[i].desired :
			    s->regions[i].running;
	c->req.to = c->o->replicas;
	return 0;
}

/* --- volumes ------------------------------------------------------------------- */

/* "2026-11-23 10:42:00Z", or "-" for 0. */
static void
rc_fmt_date(char *buf, size_t len, int64_t ms)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		util_strlcpy(buf, "-", len);
}

static void
rc_fmt_mb(char *buf, size_t len, int64_t mb)
{
	if (mb < 0)
		util_strlcpy(buf, "-", len);
	else
		snprintf(buf, len, "%lld MB", (long long)mb);
}

/* A retention in words: "6d", "12h", "90s", "?" when unknown. */
static void
rc_fmt_retention(char *buf, size_t len, int64_t s)
{
	if (s < 0)
		util_strlcpy(buf, "?", len);
	else if (s > 0 && s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s > 0 && s % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

/* "before-orders (1c3e4f5a) of 2026-11-23 10:42:00Z" */
static void
rc_backup_words(char *buf, size_t len, const struct railway_volume_backup *b)
{
	char date[40];

	rc_fmt_date(date, sizeof date, b->created_ms);
	snprintf(buf, len, "%.60s (%.8s) of %s", b->name[0] != '\0' ? b->name :
	    b->external_id[0] != '\0' ? b->external_id : "unnamed", b->id, date);
}

/* "volume postgres-volume: 45.1 MB used, READY" */
static void
rc_volume_words(char *buf, size_t len, const struct railway_volumes *v)
{
	if (v->used_mb >= 0)
		snprintf(buf, len, "volume %.60s: %.1f MB used, %s", v->volume_name, v->used_mb,
		    v->state[0] != '\0' ? v->state : "state unknown");
	else
		snprintf(buf, len, "volume %.60s: %s", v->volume_name,
		    v->state[0] != '\0' ? v->state : "state unknown");
}

static void
rc_volumes_text(struct rc *c, const struct railway_volumes *v)
{
	size_t i, w = 4;
	char sched[64], size[32], ret[32], date[40], exp[40], age[32];

	printf("%s in %s: volume %s at %s\n", c->svc_name, c->env,
	    v->volume_name[0] != '\0' ? v->volume_name : v->instance_id,
	    v->mount_path[0] != '\0' ? v->mount_path : "?");
	rc_fmt_mb(size, sizeof size, v->size_mb);
	if (v->used_mb >= 0)
		printf("  %.1f MB used of %s, %s%s%s\n", v->used_mb, size,
		    v->state[0] != '\0' ? v->state : "state unknown",
		    v->region[0] != '\0' ? ", " : "", v->region);
	else
		printf("  size %s, %s%s%s\n", size, v->state[0] != '\0' ? v->state : "state unknown",
		    v->region[0] != '\0' ? ", " : "", v->region);
	railway_schedule_format(v->schedule_kinds, sched, sizeof sched);
	printf("schedule: %s\n", sched);
	for (i = 0; i < v->n_schedules; i++) {
		const struct railway_volume_schedule *sc = &v->schedules[i];

		railway_schedule_format(sc->kind, sched, sizeof sched);
		rc_fmt_retention(ret, sizeof ret, sc->retention_s);
		printf("  %-8s %-12s backups kept %s\n", sched, sc->cron[0] != '\0' ? sc->cron : "-",
		    ret);
	}
	for (i = 0; i < v->n_backups; i++)
		if (strlen(v->backups[i].name) > w)
			w = strlen(v->backups[i].name);
	if (w > 32)
		w = 32;
	printf("%zu backup%s%s\n", v->n_backups, v->n_backups == 1 ? "" : "s",
	    v->n_backups > 1 ? ", newest first:" : v->n_backups == 1 ? ":" : "");
	if (v->n_backups == 0)
		return;
	printf("%-36s  %-*s  %-20s  %5s  %-20s  %s\n", "ID", (int)w, "NAME", "CREATED", "AGE",
	    "EXPIRES", "SIZE");
	for (i = 0; i < v->n_backups; i++) {
		const struct railway_volume_backup *b = &v->backups[i];

		rc_fmt_date(date, sizeof date, b->created_ms);
		rc_fmt_date(exp, sizeof exp, b->expires_ms);
		rc_age(age, sizeof age, b->created_ms);
		rc_fmt_mb(size, sizeof size, b->used_mb);
		printf("%-36s  %-*.*s  %-20s  %5s  %-20s  %s\n", b->id, (int)w, (int)w,
		    b->name[0] != '\0' ? b->name : "-", date, age, exp, size);
	}
}

static void
rc_json_mb(cJSON *o, const char *key, int64_t mb)
{
	if (mb < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)mb);
}

static void
rc_volumes_json(struct rc *c, const struct railway_volumes *v)
{
	cJSON *root = cJSON_CreateObject(), *vol, *arr, *kinds;
	char sched[64];
	size_t i;

	cJSON_AddStringToObject(root, "service", c->svc_name);
	cJSON_AddStringToObject(root, "service_id", c->svc_id);
	cJSON_AddStringToObject(root, "environment", c->env);
	vol = cJSON_AddObjectToObject(root, "volume");
	cJSON_AddStringToObject(vol, "id", v->volume_id);
	cJSON_AddStringToObject(vol, "name", v->volume_name);
	cJSON_AddStringToObject(vol, "instance_id", v->instance_id);
	cJSON_AddStringToObject(vol, "mount_path", v->mount_path);
	cJSON_AddStringToObject(vol, "state", v->state);
	cJSON_AddStringToObject(vol, "region", v->region);
	if (v->used_mb >= 0)
		cJSON_AddNumberToObject(vol, "used_mb", v->used_mb);
	else
		cJSON_AddNullToObject(vol, "used_mb");
	rc_json_mb(vol, "size_mb", v->size_mb);
	kinds = cJSON_AddArrayToObject(root, "schedule");
	arr = cJSON_AddArrayToObject(root, "schedules");
	for (i = 0; i < v->n_schedules; i++) {
		const struct railway_volume_schedule *sc = &v->schedules[i];
		cJSON *o = cJSON_CreateObject();

		railway_schedule_format(sc->kind, sched, sizeof sched);
		cJSON_AddItemToArray(kinds, cJSON_CreateString(sched));
		cJSON_AddStringToObject(o, "kind", sched);
		cJSON_AddStringToObject(o, "id", sc->id);
		cJSON_AddStringToObject(o, "name", sc->name);
		cJSON_AddStringToObject(o, "cron", sc->cron);
		rc_json_mb(o, "retention_s", sc->retention_s);
		rc_json_time(o, "created", sc->created_ms);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "backups");
	for (i = 0; i < v->n_backups; i++) {
		const struct railway_volume_backup *b = &v->backups[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", b->id);
		cJSON_AddStringToObject(o, "external_id", b->external_id);
		if (b->name[0] != '\0')
			cJSON_AddStringToObject(o, "name", b->name);
		else
			cJSON_AddNullToObject(o, "name");
		rc_json_time(o, "created", b->created_ms);
		rc_json_time(o, "expires", b->expires_ms);
		rc_json_mb(o, "used_mb", b->used_mb);
		rc_json_mb(o, "referenced_mb", b->referenced_mb);
		rc_json_mb(o, "volume_mb", b->volume_mb);
		cJSON_AddBoolToObject(o, "scheduled", b->schedule_id[0] != '\0');
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(root, "left_out", (double)v->n_dropped);
	rc_json_print(root);
}

/* volume-restore: the backup named by ARG (its id, a unique prefix of at
 * least 4 characters, or the provider's own name), or NULL after a message. */
static const struct railway_volume_backup *
rc_backup_find(struct rc *c, const struct railway_volumes *v, const char *arg)
{
	const struct railway_volume_backup *hit = NULL;
	size_t i, n = 0, len = strlen(arg);

	for (i = 0; i < v->n_backups; i++) {
		const struct railway_volume_backup *b = &v->backups[i];

		if (strcmp(b->id, arg) == 0 || strcmp(b->external_id, arg) == 0)
			return b;
		if (len >= 4 && strncmp(b->id, arg, len) == 0) {
			hit = b;
			n++;
		}
	}
	if (n == 1)
		return hit;
	rc_fail(c, RAILWAY_CMD_USAGE, "%s: %s volume backup '%s' among the %zu listed "
	    "(signalbox volumes %s)", c->svc_name, n == 0 ? "no" : "more than one", arg,
	    v->n_backups, c->svc_name);
	return NULL;
}

/* The request's common fields for the volume action A. */
static void
rc_volume_req(struct rc *c, enum action a)
{
	rc_req_init(c, a, NULL);
	c->req.target = c->svc_name;
	c->req.target_id = c->svc_id;
	c->params[0] = (struct policy_param){ .name = "volume", .value = c->vol_name };
	c->params[1] = (struct policy_param){ .name = "volume_instance", .value = c->vol_inst };
	c->req.params = c->params;
	c->req.n_params = ARRAY_LEN(c->params);
}

/* volume-backup --wait: the list again, and the backups that are new. */
static void
rc_backup_listed(struct rc *c, const struct railway_volumes *v)
{
	char words[160], size[32];
	size_t i, k, n = 0;

	for (i = 0; i < v->n_backups; i++) {
		const struct railway_volume_backup *b = &v->backups[i];

		for (k = 0; k < c->vols->n_backups; k++)
			if (strcmp(c->vols->backups[k].id, b->id) == 0)
				break;
		if (k < c->vols->n_backups)
			continue;
		rc_backup_words(words, sizeof words, b);
		rc_fmt_mb(size, sizeof size, b->used_mb);
		printf("new backup: %s  %s, %s\n", b->id, words, size);
		n++;
	}
	if (n == 0)
		fprintf(stderr, "signalbox: warning: %s: the workflow completed, but no new "
		    "backup is in the list yet\n", c->what);
	rc_finish(c, RAILWAY_CMD_OK);
}

static void
rc_volumes_cb(struct railway_volumes *v, const char *error, void *ud)
{
	struct rc *c = ud;
	const struct railway_volume_backup *b;
	const struct railway_cmd_opts *o = c->o;

	if (c->phase == RC_DONE)
		return;
	if (error != NULL && c->relisting) {
		/* the backup is done; only showing it failed */
		fprintf(stderr, "signalbox: warning: %s: the list after the backup could not be "
		    "read: %s\n", c->what, error);
		rc_finish(c, RAILWAY_CMD_OK);
		return;
	}
	if (error != NULL) {
		rc_fail(c, RAILWAY_CMD_PROVIDER, "volumes of %s: %s", c->svc_name, error);
		return;
	}
	if (c->relisting) {
		rc_backup_listed(c, v);
		return;
	}
	if (v->instance_id[0] == '\0') {
		rc_fail(c, RAILWAY_CMD_USAGE, "%s has no volume in %s", c->svc_name, c->env);
		return;
	}
	if (v->n_dropped > 0)
		fprintf(stderr, "signalbox: warning: %zu backup%s of the reply left out "
		    "(malformed, or beyond the newest %d)\n", v->n_dropped,
		    v->n_dropped == 1 ? "" : "s", RAILWAY_VOLUME_MAX_BACKUPS);
	railway_volumes_ref(v);
	c->vols = v;
	util_strlcpy(c->vol_inst, v->instance_id, sizeof c->vol_inst);
	util_strlcpy(c->vol_name, v->volume_name[0] != '\0' ? v->volume_name : v->instance_id,
	    sizeof c->vol_name);
	switch (o->cmd) {
	case RC_VOLUMES:
		if (o->json)
			rc_volumes_json(c, v);
		else
			rc_volumes_text(c, v);
		rc_finish(c, RAILWAY_CMD_OK);
		return;
	case RC_VOLUME_BACKUP:
		rc_volume_req(c, ACTION_VOLUME_BACKUP);
		if (v->n_backups > 0) {
			char newest[160];

			rc_backup_words(newest, sizeof newest, &v->backups[0]);
			snprintf(c->before, sizeof c->before, "%zu backup%s, the newest %s",
			    v->n_backups, v->n_backups == 1 ? "" : "s", newest);
		} else {
			util_strlcpy(c->before, "no backup yet", sizeof c->before);
		}
		rc_plan_add(c, "now: %s", c->before);
		if (o->volume_arg != NULL)
			util_strlcpy(c->after, o->volume_arg, sizeof c->after);
		break;
	case RC_VOLUME_RESTORE:
		if ((b = rc_backup_find(c, v, o->volume_arg)) == NULL)
			return;
		rc_volume_req(c, ACTION_VOLUME_RESTORE);
		util_strlcpy(c->backup_id, b->id, sizeof c->backup_id);
		c->req.target_id = c->backup_id;
		rc_backup_words(c->after, sizeof c->after, b);
		rc_volume_words(c->before, sizeof c->before, v);
		break;
	case RC_VOLUME_SCHEDULE:
		rc_volume_req(c, ACTION_VOLUME_SCHEDULE);
		railway_schedule_format(v->schedule_kinds, c->before, sizeof c->before);
		railway_schedule_format(o->schedule_kinds, c->after, sizeof c->after);
		if (v->schedule_kinds == o->schedule_kinds) {
			printf("%s: the schedule is %s already: nothing to change\n", c->what,
			    c->before);
			rc_finish(c, RAILWAY_CMD_OK);
			return;
		}
		break;
	default:
		rc_fail(c, RAILWAY_CMD_USAGE, "unknown command");
		return;
	}
	if (c->before[0] != '\0')
		c->req.before = c->before;
	if (c->after[0] != '\0')
		c->req.after = c->after;
	rc_submit(c);
}

/* Ask for the service's volume; the answer builds the request. */
static void
rc_volumes_fetch(struct rc *c)
{
	struct err e;

	if (c->o->cmd == RC_VOLUMES)
		snprintf(c->what, sizeof c->what, "volumes %.160s", c->svc_name);
	c->phase = RC_ACT;
	memset(&e, 0, sizeof e);
	if (railway_volumes_list(c->rw, c->svc_id, rc_volumes_cb, c, &e) != 0)
		rc_fail(c, RAILWAY_CMD_PROVIDER, "volumes of %s: %s", c->svc_name, e.msg);
}

/* The provider answered a volume action; 0 when R is not one. */
static int
rc_volume_done(struct rc *c, const struct railway_result *r)
{
	const char *wf = c->workflow[0] != '\0' ? c->workflow : "?";

	switch (c->req.action) {
	case ACTION_VOLUME_BACKUP:
		if (!c->o->wait) {
			printf("%s: started in %lld ms (workflow %s)\n", c->what,
			    (long long)r->duration_ms, wf);
			rc_finish(c, RAILWAY_CMD_OK);
			return 1;
		}
		printf("%s: backup complete after %.1fs (workflow %s)\n", c->what, rc_elapsed(c),
		    wf);
		fflush(stdout);
		c->relisting = 1;
		rc_volumes_fetch(c);
		return 1;
	case ACTION_VOLUME_RESTORE:
		printf("%s: %s staged and committed in %.1fs (patch %s): %s redeploys on the "
		    "restored volume\n", c->what, c->after, rc_elapsed(c),
		    c->patch[0] != '\0' ? c->patch : "?", c->svc_name);
		if (!c->o->wait) {
			rc_finish(c, RAILWAY_CMD_OK);
			return 1;
		}
		rc_wait_start(c, r);
		return 1;
	case ACTION_VOLUME_SCHEDULE:
		printf("%s: schedule %s (was %s)\n", c->what, c->after, c->before);
		rc_finish(c, RAILWAY_CMD_OK);
		return 1;
	default:
		return 0;
	}
}

static void
rc_begin(struct rc *c, const struct railway_project_snap *snap)
{
	const struct railway_cmd_opts *o = c->o;
	const struct railway_vars_snap *vs = store_get(c->store, STORE_TOPIC_VARS, NULL);
	const struct railway_service *s = NULL;
	const struct railway_deployment *d;
	const struct railway_var_set *set;
	const struct railway_var *var;
	char fp[RAILWAY_FP_LEN + 1];

	util_strlcpy(c->env, snap->environment_name[0] != '\0' ? snap->environment_name :
	    o->env != NULL ? o->env : "", sizeof c->env);
	if (o->cmd == RC_STATUS) {
		rc_status(c, snap);
		return;
	}
	if (o->cmd == RC_LOGS) {
		rc_logs(c, snap);
		return;
	}
	if ((o->cmd == RC_VARS || o->cmd == RC_VAR_SET || o->cmd == RC_VAR_DELETE) &&
	    strcmp(o->service, "shared") == 0) {
		size_t i;

		for (i = 0; i < snap->n_services; i++)
			if (strcmp(snap->services[i].name, "shared") == 0)
				s = &snap->services[i];
		if (s == NULL) {	/* the environment's shared variables */
			rc_req_init(c, ACTION_NONE, NULL);
			util_strlcpy(c->svc_name, "shared", sizeof c->svc_name);
			c->req.target = c->svc_name;
		}
	}
	if (c->req.target == NULL) {
		if ((s = rc_service(c, snap)) == NULL)
			return;
		rc_req_init(c, ACTION_NONE, s);
	}
	set = rc_var_set(vs, c->svc_id);
	if (o->cmd == RC_VOLUMES || o->cmd == RC_VOLUME_BACKUP || o->cmd == RC_VOLUME_RESTORE ||
	    o->cmd == RC_VOLUME_SCHEDULE) {
		rc_volumes_fetch(c);	/* the request is built from the answer */
		return;
	}
	switch (o->cmd) {
	case RC_DEPLOY:
		rc_req_init(c, ACTION_DEPLOY, s);
		if (s->active != NULL)
			rc_dep_words(c->before, sizeof c->before, s->active);
		else
			util_strlcpy(c->before, "nothing serving", sizeof c->before);
		snprintf(c->after, sizeof c->after, "%s (latest source)",
		    s->source_version[0] != '\0' ? s->source_version : "?");
		break;
	case RC_REDEPLOY:
	case RC_RESTART:
		rc_req_init(c, o->cmd == RC_REDEPLOY ? ACTION_REDEPLOY : ACTION_RESTART, s);
		d = s->active != NULL ? s->active : o->cmd == RC_REDEPLOY ? s->latest : NULL;
		if (d == NULL) {
			rc_fail(c, RAILWAY_CMD_USAGE, "%s has no %sdeployment to %s", s->name,
			    o->cmd == RC_REDEPLOY ? "" : "active ", action_info(c->req.action)->name);
			return;
		}
		util_strlcpy(c->dep, d->id, sizeof c->dep);
		rc_dep_words(c->before, sizeof c->before, d);
		break;
	case RC_STOP:
		rc_req_init(c, ACTION_STOP, s);
		if ((d = s->active) == NULL) {
			rc_fail(c, RAILWAY_CMD_USAGE, "%s has no active deployment to stop",
			    s->name);
			return;
		}
		util_strlcpy(c->dep, d->id, sizeof c->dep);
		rc_dep_words(c->before, sizeof c->before, d);
		util_strlcpy(c->after, "stopped: the service stops serving", sizeof c->after);
		break;
	case RC_ROLLBACK:
		rc_req_init(c, ACTION_ROLLBACK, s);
		if (rc_rollback_target(c, s) != 0)
			return;
		if (s->active != NULL)
			rc_dep_words(c->before, sizeof c->before, s->active);
		break;
	case RC_SCALE:
		rc_req_init(c, ACTION_SCALE, s);
		if (rc_scale_region(c, s) != 0)
			return;
		break;
	case RC_VARS:
		if (set == NULL) {
			rc_fail(c, RAILWAY_CMD_PROVIDER, "no variables of %s in the reply",
			    c->svc_name);
			return;
		}
		if (o->var == NULL) {
			rc_vars_list(c, set);
			return;
		}
		rc_req_init(c, ACTION_VAR_REVEAL, s);
		if (s == NULL)
			c->req.target = c->svc_name;
		c->req.var = o->var;
		if (rc_var(set, o->var) == NULL) {
			rc_fail(c, RAILWAY_CMD_USAGE, "%s has no variable %s", c->svc_name,
			    o->var);
			return;
		}
		break;
	case RC_VAR_SET:
	case RC_VAR_DELETE:
		rc_req_init(c, o->cmd == RC_VAR_SET ? ACTION_VAR_SET : ACTION_VAR_DELETE, s);
		if (s == NULL)
			c->req.target = c->svc_name;
		c->req.var = o->var;
		var = rc_var(set, o->var);
		if (var != NULL)
			snprintf(c->before, sizeof c->before, "%zu bytes, fingerprint %s",
			    var->value_len, var->fingerprint);
		else if (o->cmd == RC_VAR_SET)
			util_strlcpy(c->before, "not set", sizeof c->before);
		if (o->cmd == RC_VAR_DELETE && var == NULL) {
			rc_fail(c, RAILWAY_CMD_USAGE, "%s has no variable %s", c->svc_name,
			    o->var);
			return;
		}
		if (o->cmd == RC_VAR_SET) {
			c->req.value = c->value;
			c->req.skip_deploys = o->skip_deploys;
			railway_fingerprint(c->value, c->value_len, fp);
			snprintf(c->after, sizeof c->after, "%zu bytes, fingerprint %s",
			    c->value_len, fp);
		}
		break;
	default:
		rc_fail(c, RAILWAY_CMD_USAGE, "unknown command");
		return;
	}
	if (c->dep[0] != '\0')
		c->req.deployment = c->dep;
	if (c->before[0] != '\0')
		c->req.before = c->before;
	if (c->after[0] != '\0')
		c->req.after = c->after;
	rc_submit(c);
}

/* --- --wait ------------------------------------------------------------------------ */

static void
rc_wait_start(struct rc *c, const struct railway_result *r)
{
	char dur[32];

	c->phase = RC_WAIT;
	c->last_running = c->last_desired = -2;
	c->snap_gen = store_generation(c->store, STORE_TOPIC_SERVICES);
	switch (c->req.action) {
	case ACTION_DEPLOY:
	case ACTION_REDEPLOY:
		if (r->deployment_id != NULL)
			util_strlcpy(c->follow, r->deployment_id, sizeof c->follow);
		break;
	case ACTION_VAR_SET:
		if (c->req.skip_deploys || c->svc_id[0] == '\0') {
			/* staged, or shared (several services may redeploy) */
			printf("%s: nothing to follow\n", c->what);
			rc_finish(c, RAILWAY_CMD_OK);
			return;
		}
		break;
	default:
		break;		/* the new deployment, or the replicas */
	}
	rc_fmt_duration(dur, sizeof dur, c->o->timeout_ms);
	printf("%s: waiting up to %s\n", c->what, dur);
	fflush(stdout);
	/* the client refreshes after a change on its own; a step now uses
	 * whatever is already there */
	loop_timer_start(c->step_timer, 0, 0);
}

/* --- logs ------------------------------------------------------------------------------ */

#define RC_FAIL_LINES 20	/* lines of a failed deployment shown by --wait */

/* One line, sanitised: "2026-11-23T14:05:09.123Z  error  api  message". */
static void
rc_log_print(FILE *out, const struct railway_log *l, int with_service, int json)
{
	char *msg, *sev, *svc;

	if (json) {
		cJSON *o = cJSON_CreateObject(), *attrs = cJSON_AddObjectToObject(o, "attributes");

		cJSON_AddStringToObject(o, "timestamp", l->timestamp);
		cJSON_AddStringToObject(o, "severity", l->severity);
		cJSON_AddStringToObject(o, "service", l->service_name);
		cJSON_AddStringToObject(o, "serviceId", l->service_id);
		cJSON_AddStringToObject(o, "deploymentId", l->deployment_id);
		cJSON_AddStringToObject(o, "replicaId", l->replica_id);
		cJSON_AddStringToObject(o, "message", l->message);
		for (size_t i = 0; i < l->n_attrs; i++) {
			cJSON *v = cJSON_Parse(l->attrs[i].value);

			/* values are JSON text; anything else is kept as a string */
			cJSON_AddItemToObject(attrs, l->attrs[i].key, v != NULL ? v :
			    cJSON_CreateString(l->attrs[i].value));
		}
		/* one object per line (JSON Lines) */
		if ((msg = cJSON_PrintUnformatted(o)) == NULL)
			xalloc_die("out of memory");
		fprintf(out, "%s\n", msg);
		free(msg);
		cJSON_Delete(o);
		return;
	}
	msg = text_sanitize(l->message, strlen(l->message), 0);
	sev = text_sanitize(l->severity, strlen(l->severity), 0);
	svc = text_sanitize(l->service_name, strlen(l->service_name), 0);
	if (with_service)
		fprintf(out, "%s  %-5s  %-12s  %s\n", l->timestamp, sev, svc, msg);
	else
		fprintf(out, "%s  %-5s  %s\n", l->timestamp, sev, msg);
	free(msg);
	free(sev);
	free(svc);
}

static void
rc_logs_line(const struct railway_log *l, void *ud)
{
	struct rc *c = ud;

	if (c->phase == RC_DONE)
		return;
	c->printed++;
	if (c->o->cmd == RC_LOGS) {
		rc_log_print(stdout, l, c->o->service == NULL ||
		    strcmp(c->o->service, "all") == 0, c->o->json);
		if (c->o->follow)
			fflush(stdout);
	} else {
		if (c->printed == 1)
			fprintf(stderr, "signalbox: the deployment's last log lines:\n");
		fputs("  ", stderr);
		rc_log_print(stderr, l, 0, 0);
	}
}

static void
rc_logs_state(int live, const char *reason, void *ud)
{
	struct rc *c = ud;

	/* a gap in a followed stream is said on stderr, never mixed into the lines */
	if (!live && reason != NULL)
		fprintf(stderr, "signalbox: logs: %s (reconnecting)\n", reason);
	else if (live && c->printed > 0)
		fprintf(stderr, "signalbox: logs: live again\n");
}

static void
rc_logs_end(const char *error, void *ud)
{
	struct rc *c = ud;

	if (c->o->cmd != RC_LOGS) {
		if (error != NULL)
			fprintf(stderr, "signalbox: the deployment's logs could not be fetched: "
			    "%s\n", error);
		else if (c->printed == 0)
			fprintf(stderr, "signalbox: the deployment wrote no log lines\n");
		rc_finish(c, c->fail_status);
		return;
	}
	if (error != NULL)
		rc_fail(c, RAILWAY_CMD_PROVIDER, "logs: %s", error);
	else if (c->o->follow)
		rc_fail(c, RAILWAY_CMD_PROVIDER, "logs: the server ended the stream");
	else
		rc_finish(c, RAILWAY_CMD_OK);
}

static const struct railway_logs_cbs rc_logs_cbs = {
	.on_line = rc_logs_line, .on_state = rc_logs_state, .on_end = rc_logs_end,
};

/* --wait saw D fail: show its last lines, then exit 1. */
static void
rc_failure_logs(struct rc *c, const struct railway_deployment *d)
{
	struct railway_logs_opts lo;
	struct err e;

	memset(&lo, 0, sizeof lo);
	lo.deployment_id = d->id;
	lo.backlog = RC_FAIL_LINES;
	c->fail_status = RAILWAY_CMD_UNHEALTHY;
	memset(&e, 0, sizeof e);
	if ((c->logs = railway_logs_open(c->rw, &c->loop, &lo, &rc_logs_cbs, c, &e)) == NULL) {
		fprintf(stderr, "signalbox: the deployment's logs could not be fetched: %s\n",
		    e.msg);
		rc_finish(c, RAILWAY_CMD_UNHEALTHY);
		return;
	}
	c->phase = RC_ACT;	/* the snapshots no longer matter */
}

/* signalbox logs SERVICE|all */
static void
rc_logs(struct rc *c, const struct railway_project_snap *snap)
{
	const struct railway_cmd_opts *o = c->o;
	const struct railway_service *s = NULL;
	struct railway_logs_opts lo;
	struct err e;

	if (strcmp(o->service, "all") != 0 && (s = rc_service(c, snap)) == NULL)
		return;
	memset(&lo, 0, sizeof lo);
	lo.service_id = s != NULL ? s->id : NULL;
	lo.filter = o->filter;
	/* --lines N: N, --lines 0: none; without it the default, or none
	 * with --since (the lines from that time are asked for instead) */
	lo.backlog = o->lines > 0 ? o->lines : o->lines == 0 || o->since_ms > 0 ? -1 : 0;
	lo.follow = o->follow;
	if (o->since_ms > 0)
		lo.since_ms = util_wall_ms() - o->since_ms;
	memset(&e, 0, sizeof e);
	if ((c->logs = railway_logs_open(c->rw, &c->loop, &lo, &rc_logs_cbs, c, &e)) == NULL) {
		rc_fail(c, RAILWAY_CMD_PROVIDER, "logs: %s", e.msg);
		return;
	}
	c->phase = RC_ACT;
	if (o->follow)
		loop_timer_stop(c->deadline_timer);	/* until Ctrl-C */
}

static void
rc_report_failure(struct rc *c, const struct railway_service *s,
    const struct railway_deployment *d)
{
	char words[96];

	rc_dep_words(words, sizeof words, d);
	fflush(stdout);
	fprintf(stderr, "signalbox: %s: deployment %s ended %s after %.1fs\n", c->what, words,
	    d->status_text, rc_elapsed(c));
	if (s->active != NULL && strcmp(s->active->id, d->id) != 0) {
		rc_dep_words(words, sizeof words, s->active);
		fprintf(stderr, "signalbox: %s still runs %s, %s\n", s->name, words,
		    s->active->status_text);
	} else if (s->active == NULL) {
		fprintf(stderr, "signalbox: %s has no active deployment: it serves nothing\n",
		    s->name);
	}
	rc_failure_logs(c, d);
}

/* Scale and restart: the replicas, as the snapshot counts them. */
static void
rc_follow_replicas(struct rc *c, const struct railway_service *s)
{
	const struct railway_region *r = NULL;
	int running = s->running_total, desired = s->desired_total;
	uint64_t gen = store_generation(c->store, STORE_TOPIC_SERVICES);
	size_t i;

	if (gen != c->snap_gen) {
		c->snap_gen = gen;
		c->snaps++;
	}
	if (c->req.action == ACTION_SCALE) {
		for (i = 0; i < s->n_regions; i++)
			if (strcmp(s->regions[i].name, c->region) == 0)
				r = &s->regions[i];
		if (r != NULL && s->n_regions > 1) {
			running = r->running;
			desired = r->desired;
		} else if (r == NULL) {
			running = 0;
			desired = -1;
		}
	}
	if (running != c->last_running || desired != c->last_desired) {
		char want[16] = "?";

		if (desired >= 0)
			snprintf(want, sizeof want, "%d", desired);
		printf("  %6.1fs  %d/%s running%s%s\n", rc_elapsed(c), running, want,
		    c->region[0] != '\0' ? " in " : "", c->region);
		fflush(stdout);
		c->last_running = running;
		c->last_desired = desired;
	}
	if (c->snaps == 0)
		return;		/* the snapshot from before the request */
	if (desired >= 0 && running < desired)
		c->saw_dip = 1;
	if (c->req.action == ACTION_SCALE) {
		if (desired == c->req.to && running == c->req.to) {
			printf("%s: %d replica%s running in %s after %.1fs\n", c->what, running,
			    running == 1 ? "" : "s", c->region, rc_elapsed(c));
			rc_finish(c, RAILWAY_CMD_OK);
		}
		return;
	}
	/* restart: the active deployment runs every replica again */
	if (s->active == NULL) {
		fprintf(stderr, "signalbox: %s: no active deployment any more\n", c->what);
		rc_finish(c, RAILWAY_CMD_UNHEALTHY);
		return;
	}
	if (s->active->status == RAILWAY_STATUS_SUCCESS && running > 0 &&
	    (desired < 0 || running >= desired) &&
	    (c->saw_dip || c->snaps >= RC_RESTART_SETTLE)) {
		printf("%s: %d replica%s running, %s, after %.1fs\n", c->what, running,
		    running == 1 ? "" : "s", s->active->status_text, rc_elapsed(c));
		rc_finish(c, RAILWAY_CMD_OK);
	}
}

static void
rc_follow(struct rc *c, const struct railway_project_snap *snap)
{
	const struct railway_service *s = railway_project_find(snap, c->svc_id);
	const struct railway_deployment *d;
	char words[96];

	if (s == NULL) {
		rc_fail(c, RAILWAY_CMD_UNHEALTHY, "%s: the service is gone", c->what);
		return;
	}
	if (c->req.action == ACTION_SCALE || c->req.action == ACTION_RESTART) {
		rc_follow_replicas(c, s);
		return;
	}
	if (c->follow[0] == '\0') {
		/* rollback, variables: the deployment they started is the next new one */
		if (s->latest == NULL || strcmp(s->latest->id, c->prev_latest) == 0)
			return;
		util_strlcpy(c->follow, s->latest->id, sizeof c->follow);
		rc_dep_words(words, sizeof words, s->latest);
		printf("%s: deployment %s\n", c->what, words);
	}
	if ((d = rc_deployment(c, s, c->follow)) == NULL)
		return;
	if (strcmp(d->status_text, c->last_status) != 0) {
		printf("  %6.1fs  %s\n", rc_elapsed(c), d->status_text);
		fflush(stdout);
		util_strlcpy(c->last_status, d->status_text, sizeof c->last_status);
	}
	switch (d->status) {
	case RAILWAY_STATUS_SUCCESS:
	case RAILWAY_STATUS_SLEEPING:
		rc_dep_words(words, sizeof words, d);
		printf("%s: deployment %s is %s after %.1fs\n", c->what, words, d->status_text,
		    rc_elapsed(c));
		rc_finish(c, RAILWAY_CMD_OK);
		break;
	case RAILWAY_STATUS_FAILED:
	case RAILWAY_STATUS_CRASHED:
	case RAILWAY_STATUS_REMOVED:
	case RAILWAY_STATUS_REMOVING:
	case RAILWAY_STATUS_SKIPPED:
		rc_report_failure(c, s, d);
		break;
	default:
		break;
	}
}

/* --- the loop -------------------------------------------------------------------------- */

static void
rc_step(struct rc *c)
{
	const struct store_source *src = store_source_find(c->store, RAILWAY_SOURCE);
	const struct railway_project_snap *snap = store_get(c->store, STORE_TOPIC_SERVICES, NULL);
	int need_history, need_vars;

	if (c->phase == RC_DONE || c->phase == RC_ACT)
		return;
	if (src != NULL && src->state == STORE_STATE_ERROR && c->rw != NULL) {
		struct railway_budget b;

		/* a 429 before the first answer: the client retries after its
		 * Retry-After (the --timeout still bounds the wait) */
		railway_budget_get(c->rw, &b);
		if (b.wait_until_ms > util_wall_ms() - 1000)
			return;
	}
	if (src != NULL && src->state == STORE_STATE_ERROR) {
		const char *hint = strstr(src->error, "check provider.environment");

		/* the environment came from -e, not from the config */
		if (hint != NULL && c->o->env != NULL)
			rc_fail(c, RAILWAY_CMD_PROVIDER, "Railway: %.*scheck --env",
			    (int)(hint - src->error), src->error);
		else
			rc_fail(c, RAILWAY_CMD_PROVIDER, "Railway: %s", src->error[0] != '\0' ?
			    src->error : "failed");
		return;
	}
	if (snap == NULL)
		return;
	if (c->phase == RC_WAIT) {
		rc_follow(c, snap);
		return;
	}
	need_history = c->o->cmd == RC_ROLLBACK;
	need_vars = c->o->cmd == RC_VARS || c->o->cmd == RC_VAR_SET ||
	    c->o->cmd == RC_VAR_DELETE;
	if ((need_history && store_get(c->store, STORE_TOPIC_DEPLOYMENTS, NULL) == NULL) ||
	    (need_vars && store_get(c->store, STORE_TOPIC_VARS, NULL) == NULL)) {
		if (src != NULL && src->state == STORE_STATE_STALE)
			rc_fail(c, RAILWAY_CMD_PROVIDER, "Railway: %s", src->error);
		return;
	}
	rc_begin(c, snap);
}

static void
rc_step_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	rc_step(ud);
}

/* The store changed: step from the loop, not from inside its callback. */
static void
rc_notify(enum store_topic topic, void *ud)
{
	struct rc *c = ud;

	(void)topic;
	if (c->phase != RC_DONE && c->step_timer != NULL && !loop_timer_active(c->step_timer))
		loop_timer_start(c->step_timer, 0, 0);
}

static void
rc_deadline_cb(struct loop_timer *t, void *ud)
{
	struct rc *c = ud;
	const struct store_source *src = store_source_find(c->store, RAILWAY_SOURCE);
	char dur[32];

	(void)t;
	rc_fmt_duration(dur, sizeof dur, c->o->timeout_ms);
	switch (c->phase) {
	case RC_CONNECT:
		rc_fail(c, RAILWAY_CMD_PROVIDER, "no usable answer from Railway within %s%s%s",
		    dur, src != NULL && src->error[0] != '\0' ? ": " : "",
		    src != NULL ? src->error : "");
		break;
	case RC_ACT:
		if (c->req.action == ACTION_VOLUME_RESTORE && !c->relisting)
			rc_fail(c, RAILWAY_CMD_TIMEOUT, "%s: not done within %s%s%s; stopped "
			    "waiting: the restore may be staged and not committed (check the "
			    "environment's staged changes in Railway)", c->what, dur,
			    c->progress[0] != '\0' ? ", last: " : "", c->progress);
		else if (c->workflow[0] != '\0')
			rc_fail(c, RAILWAY_CMD_TIMEOUT, "%s: workflow %s not done within %s%s%s; "
			    "stopped waiting (it goes on)", c->what, c->workflow, dur,
			    c->progress[0] != '\0' ? ", last: " : "", c->progress);
		else
			rc_fail(c, RAILWAY_CMD_TIMEOUT, "%s: no answer within %s; the outcome is "
			    "unknown (check before retrying)", c->what, dur);
		break;
	case RC_WAIT:
		rc_fail(c, RAILWAY_CMD_TIMEOUT, "%s: not settled within %s%s%s; stopped "
		    "waiting (it goes on)", c->what, dur, c->last_status[0] != '\0' ?
		    ", still " : "", c->last_status);
		break;
	case RC_DONE:
		break;
	}
}

static void
rc_signal_cb(uv_signal_t *h, int signum)
{
	struct rc *c = h->data;

	rc_fail(c, RAILWAY_CMD_INTERRUPTED, "interrupted (%s)%s", signum == SIGINT ?
	    "SIGINT" : "SIGTERM", c->phase == RC_WAIT ? ": stopped waiting; the change "
	    "goes on" : "");
}

/* --- the value of vars set --------------------------------------------------------------- */

static struct termios rc_saved_tty;

static void
rc_tty_restore(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &rc_saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Append N bytes to *BUF (LEN used, *CAP allocated), wiping what moves. */
static int
rc_buf_add(char **buf, size_t *len, size_t *cap, const char *src, size_t n)
{
	char *nb;

	if (*len + n + 1 > RC_VALUE_MAX)
		return -1;
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap != 0 ? *cap : 256;

		while (ncap < *len + n + 1)
			ncap *= 2;
		nb = xmalloc(ncap);
		if (*len > 0)
			memcpy(nb, *buf, *len);
		if (*buf != NULL) {
			explicit_bzero(*buf, *cap);
			free(*buf);
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, src, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* The value: from argv (warned), a terminal without echo, or stdin. */
static int
rc_read_value(struct rc *c)
{
	const char *arg = c->o->value_arg;
	char chunk[4096], *buf = NULL;
	size_t len = 0, cap = 0;
	struct termios raw;
	int tty = 0, rc = 0;
	ssize_t n;

	if (arg != NULL && strcmp(arg, "-") != 0) {
		if (arg[0] != '\0')
			fprintf(stderr, "signalbox: warning: a value on the command line is "
			    "visible to other users (ps) and stays in the shell history; give - "
			    "to read it from standard input\n");
		c->value = xstrdup(arg);
		c->value_len = strlen(arg);
		return 0;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &rc_saved_tty) == 0) {
		tty = 1;
		raw = rc_saved_tty;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		signal(SIGINT, rc_tty_restore);
		signal(SIGTERM, rc_tty_restore);
		fprintf(stderr, "value of %s (not shown, Enter ends it): ", c->o->var);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "signalbox: cannot read the value: %s\n", strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (rc_buf_add(&buf, &len, &cap, chunk, (size_t)n) != 0) {
			fprintf(stderr, "signalbox: the value is longer than %d bytes\n",
			    RC_VALUE_MAX);
			rc = -1;
			break;
		}
		if (tty && memchr(chunk, '\n', (size_t)n) != NULL)
			break;
	}
	explicit_bzero(chunk, sizeof chunk);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &rc_saved_tty);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		fputc('\n', stderr);
	}
	if (rc == 0 && buf == NULL)
		rc_buf_add(&buf, &len, &cap, "", 0);
	/* one final newline is the line's end, not the value's */
	if (rc == 0 && len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
	}
	if (rc == 0 && len == 0) {
		/* an empty pipe is more often a mistake than a wish */
		fprintf(stderr, "signalbox: the value read from standard input is empty; "
		    "to set an empty value give '' as VALUE\n");
		rc = -1;
	}
	if (rc == 0 && memchr(buf, '\0', len) != NULL) {
		fprintf(stderr, "signalbox: the value holds a NUL byte, which a variable "
		    "cannot carry\n");
		rc = -1;
	}
	if (rc != 0) {
		if (buf != NULL)
			explicit_bzero(buf, cap);
		free(buf);
		return -1;
	}
	c->value = buf;
	c->value_len = len;
	return 0;
}

/* --- run ------------------------------------------------------------------------------------ */

int
railway_cmd_run(const struct config *cfg, const struct railway_cmd_opts *o)
{
	struct rc c;
	struct railway_opts ro;
	struct policy_opts po;
	struct err e;
	char *token = NULL, warn[256] = "";
	size_t i;

	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	c.o = o;
	c.cfg = cfg;
	c.status = RAILWAY_CMD_PROVIDER;
	if (cfg->provider.type != CONFIG_PROVIDER_RAILWAY) {
		fprintf(stderr, "signalbox: no provider in %s: add a provider mapping with type: "
		    "railway (signalbox.yml(5))\n", cfg->path != NULL ? cfg->path :
		    "the configuration");
		return RAILWAY_CMD_USAGE;
	}
	if (o->cmd == RC_VAR_SET && rc_read_value(&c) != 0)
		return RAILWAY_CMD_USAGE;
	if (app_railway_opts(cfg, &ro, &token, warn, sizeof warn, &e) != 0) {
		fprintf(stderr, "signalbox: %s\n", e.msg);
		c.status = RAILWAY_CMD_PROVIDER;
		goto out_value;
	}
	if (warn[0] != '\0')
		fprintf(stderr, "signalbox: warning: %s\n", warn);
	if (o->env != NULL)
		ro.environment = o->env;
	ro.poll_ms = RC_POLL_MS;
	if (uv_loop_init(&c.loop) != 0) {
		fprintf(stderr, "signalbox: cannot create the event loop\n");
		c.status = RAILWAY_CMD_PROVIDER;
		goto out_token;
	}
	c.store = store_new();
	if (o->cmd == RC_LOGS && o->follow) {
		struct err we;

		memset(&we, 0, sizeof we);
		if ((c.ws = ws_ctx_new(&c.loop, &we)) == NULL) {
			fprintf(stderr, "signalbox: logs --follow needs WebSocket support: %s\n",
			    we.msg);
			c.status = RAILWAY_CMD_PROVIDER;
			store_free(&c.store);
			goto out_loop;
		}
		ro.ws = c.ws;
	}
	c.http = http_new(&c.loop, &e);
	if (c.http != NULL)
		c.rw = railway_new(&c.loop, c.store, c.http, &ro, &e);
	explicit_bzero(token, strlen(token));
	free(token);
	token = NULL;
	if (c.rw == NULL) {
		fprintf(stderr, "signalbox: %s\n", e.msg);
		http_free(&c.http);
		uv_run(&c.loop, UV_RUN_DEFAULT);
		c.status = RAILWAY_CMD_USAGE;
		goto out_loop;
	}
	if (o->cmd != RC_STATUS && o->cmd != RC_LOGS && o->cmd != RC_VOLUMES &&
	    !(o->cmd == RC_VARS && o->var == NULL)) {
		/* the audit log is opened only for what it records */
		c.audit = audit_open(cfg->audit_file, cfg->audit_fsync);
		memset(&po, 0, sizeof po);
		po.cfg = cfg;
		po.read_only = o->read_only;
		po.audit = c.audit;
		c.policy = policy_new(&po);
	}
	c.step_timer = loop_timer_new(&c.loop, rc_step_cb, &c);
	c.deadline_timer = loop_timer_new(&c.loop, rc_deadline_cb, &c);
	c.quit_timer = loop_timer_new(&c.loop, rc_quit_cb, &c);
	if (uv_signal_init(&c.loop, &c.sig_int) == 0 &&
	    uv_signal_init(&c.loop, &c.sig_term) == 0) {
		c.sig_int.data = c.sig_term.data = &c;
		uv_signal_start(&c.sig_int, rc_signal_cb, SIGINT);
		uv_signal_start(&c.sig_term, rc_signal_cb, SIGTERM);
		c.signals = 1;
	}
	store_subscribe(c.store, rc_notify, &c);
	loop_timer_start(c.deadline_timer, (uint64_t)o->timeout_ms, 0);
	railway_start(c.rw);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	railway_logs_close(&c.logs);
	railway_free(&c.rw);
	railway_volumes_unref(c.vols);
	policy_free(&c.policy);		/* audits what is still outstanding */
	audit_free(&c.audit);
out_loop:
	uv_run(&c.loop, UV_RUN_NOWAIT);
	ws_ctx_free(&c.ws);
	if (uv_loop_close(&c.loop) != 0)
		fprintf(stderr, "signalbox: warning: the event loop closed with handles open\n");
	store_free(&c.store);
out_token:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
out_value:
	if (c.value != NULL) {
		explicit_bzero(c.value, c.value_len);
		free(c.value);
	}
	for (i = 0; i < c.n_plan; i++)
		free(c.plan[i]);
	fflush(stdout);
	return c.status;
}
