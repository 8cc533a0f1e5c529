/* backup_cmd.c - signalbox backup info|take|drill (backup_cmd.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "signalbox/action.h"
#include "signalbox/audit.h"
#include "signalbox/backup_cmd.h"
#include "signalbox/backups.h"
#include "signalbox/config.h"
#include "signalbox/gate.h"
#include "signalbox/loop.h"
#include "signalbox/pg_stats.h"
#include "signalbox/policy.h"
#include "signalbox/store.h"
#include "signalbox/util.h"

#define BC_WAIT_MS 30000	/* for the first info and the first Postgres poll */

enum { BCO_JSON = 256, BCO_REASON, BCO_CONFIRM_ENV, BCO_CONFIRM_TWICE };

static const struct option bc_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "log", required_argument, NULL, 'v' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, BCO_JSON },
	{ "reason", required_argument, NULL, BCO_REASON },
	{ "confirm-env", required_argument, NULL, BCO_CONFIRM_ENV },
	{ "confirm-twice", no_argument, NULL, BCO_CONFIRM_TWICE },
	{ NULL, 0, NULL, 0 },
};

int
backup_cmd_is(const char *word)
{
	return word != NULL && strcmp(word, "backup") == 0;
}

static void
bc_help(FILE *out)
{
	fputs("usage: signalbox backup [info] [--json]\n"
	    "       signalbox backup take [full|diff|incr] [--yes]\n"
	    "       signalbox backup drill [LABEL | 'YYYY-MM-DD HH:MM:SS+00'] [--json] [--yes]\n"
	    "       signalbox backup restore [LABEL | 'YYYY-MM-DD HH:MM:SS+00'] --yes --confirm-twice\n"
	    "\n"
	    "  info    the backups, the PITR window, the archiver and the drills;\n"
	    "          exit 1 when degraded\n"
	    "  take    take a pgBackRest backup (full by default)\n"
	    "  drill   restore a backup (the newest by default) or a point in time on a\n"
	    "          throw-away server, check it, remove it; exit 1 unless PASSED\n"
	    "  restore restore a backup or a point in time over the server itself: it is\n"
	    "          stopped, restored (--delta) and started; what came after is lost\n"
	    "\n"
	    "  -c, --config FILE       configuration (backups: in signalbox.yml(5))\n"
	    "  -v, --log FILE          diagnostics\n"
	    "  -r, --read-only         refuse take\n"
	    "  -y, --yes               confirm (nothing is asked interactively)\n"
	    "      --reason TEXT       why; required in a protected environment, audited\n"
	    "      --confirm-env NAME  the protected environment's name, typed\n"
	    "      --confirm-twice     the second confirmation restore asks for\n"
	    "      --json              JSON on standard output\n", out);
}

int
backup_cmd_parse(struct backup_cmd_opts *o, int argc, char *argv[])
{
	int opt;

	memset(o, 0, sizeof *o);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:v:ryh", bc_longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 'v': o->log_path = optarg; break;
		case 'r': o->read_only = 1; break;
		case 'y': o->yes = 1; break;
		case 'h': bc_help(stdout); return 1;
		case BCO_JSON: o->json = 1; break;
		case BCO_REASON: o->reason = optarg; break;
		case BCO_CONFIRM_ENV: o->confirm_env = optarg; break;
		case BCO_CONFIRM_TWICE: o->confirm_twice = 1; break;
		default: bc_help(stderr); return 2;
		}
	}
	if (optind < argc) {
		const char *verb = argv[optind++];

		if (strcmp(verb, "info") == 0)
			o->verb = BACKUP_CMD_INFO;
		else if (strcmp(verb, "take") == 0)
			o->verb = BACKUP_CMD_TAKE;
		else if (strcmp(verb, "drill") == 0)
			o->verb = BACKUP_CMD_DRILL;
		else if (strcmp(verb, "restore") == 0)
			o->verb = BACKUP_CMD_RESTORE;
		else {
			fprintf(stderr, "signalbox backup: unknown command '%s' (info, take, "
			    "drill, restore)\n", verb);
			return 2;
		}
	}
	if (optind < argc)
		o->arg = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "signalbox backup: unexpected '%s'\n", argv[optind]);
		return 2;
	}
	if (o->verb == BACKUP_CMD_INFO && o->arg != NULL) {
		fprintf(stderr, "signalbox backup info: takes no operand\n");
		return 2;
	}
	if (o->verb == BACKUP_CMD_TAKE && o->arg != NULL && strcmp(o->arg, "full") != 0 &&
	    strcmp(o->arg, "diff") != 0 && strcmp(o->arg, "incr") != 0) {
		fprintf(stderr, "signalbox backup take: the type is full, diff or incr, not "
		    "'%s'\n", o->arg);
		return 2;
	}
	if (o->verb == BACKUP_CMD_INFO && (o->yes || o->reason || o->confirm_env)) {
		fprintf(stderr, "signalbox backup info: changes nothing: --yes, --reason and "
		    "--confirm-env are for take and drill\n");
		return 2;
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

struct bc {
	const struct backup_cmd_opts *o;
	const struct config *cfg;
	uv_loop_t loop;
	struct store *store;
	struct pg_stats *pg;
	struct backups *bk;
	struct audit *audit;
	struct policy *policy;
	struct policy_req req;
	struct policy_ticket ticket;
	struct loop_timer *wait_timer, *deadline;
	uv_signal_t sigint, sigterm;
	int started;		/* take/drill sent */
	int done;
	int status;
	int interrupted;
	double last_pct;
	enum drill_phase last_phase;
};

static void
bc_stop(struct bc *c, int status)
{
	if (c->done)
		return;
	c->done = 1;
	c->status = status;
	loop_timer_stop(c->wait_timer);
	loop_timer_stop(c->deadline);
	uv_signal_stop(&c->sigint);
	uv_signal_stop(&c->sigterm);
	uv_stop(&c->loop);
}

static void
bc_time(char *buf, size_t len, int64_t s)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (s <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
bc_info_text(const struct backups_snap *s, int64_t now_ms)
{
	char a[40], b[40], d[32], sz[32], rs[32];

	printf("pgBackRest %s: %s%s%s\n", s->where, s->conn == BACKUPS_FAILED ? "ERROR" :
	    s->conn == BACKUPS_STALE ? "STALE" : s->degraded ? "DEGRADED" : "OK",
	    s->degraded || s->conn == BACKUPS_FAILED ? ": " : "",
	    s->conn == BACKUPS_FAILED ? s->error : s->degraded ? s->degraded_why : "");
	if (s->info == NULL)
		return;
	if (s->pitr.valid) {
		bc_time(a, sizeof a, s->pitr.earliest);
		bc_time(b, sizeof b, s->pitr.latest);
		if (s->pitr.latest > s->pitr.earliest)
			util_fmt_duration(d, sizeof d, (s->pitr.latest - s->pitr.earliest) * 1000);
		else
			snprintf(d, sizeof d, "0s");
		printf("PITR window: %s to %s (%s)%s%s\n", a, b, d, s->pitr.why[0] ? "; " : "",
		    s->pitr.why);
	} else {
		printf("PITR window: none (%s)\n", s->pitr.why);
	}
	if (s->have_archiver) {
		util_fmt_age(a, sizeof a, now_ms - s->last_archived_ms);
		printf("archiver: last %s %s ago, %lld archived, %lld failed%s\n",
		    s->last_archived_wal[0] ? s->last_archived_wal : "-",
		    s->last_archived_ms > 0 ? a : "never", (long long)s->archived,
		    (long long)s->archive_failed, s->last_failed_ms > s->last_archived_ms ?
		    " (FAILING now)" : "");
	}
	if (s->stanza == NULL)
		return;
	printf("%-34s %-4s %-20s %8s %9s %9s\n", "BACKUP", "TYPE", "FINISHED", "TOOK", "SIZE",
	    "STORED");
	for (size_t i = s->stanza->n_backups; i-- > 0;) {
		const struct pgbr_backup *bk = &s->stanza->backups[i];

		bc_time(a, sizeof a, bk->stop);
		util_fmt_duration(d, sizeof d, (bk->stop - bk->start) * 1000);
		util_fmt_bytes(sz, sizeof sz, bk->size);
		util_fmt_bytes(rs, sizeof rs, bk->repo_delta >= 0 ? bk->repo_delta : bk->repo_size);
		printf("%-34s %-4s %-20s %8s %9s %9s\n", bk->label, pgbr_type_name(bk->type), a, d,
		    sz, rs);
	}
	for (size_t i = 0; i < s->n_history; i++) {
		const struct backups_drill_rec *r = &s->history[i];

		if (i == 0)
			printf("drills (newest first):\n");
		bc_time(a, sizeof a, r->started_ms / 1000);
		if (strcmp(r->verdict, "PASSED") == 0) {
			util_fmt_duration(d, sizeof d, r->rto_ms);
			util_fmt_duration(b, sizeof b, r->rpo_ms);
			printf("  %s PASSED RTO %s RPO %s %s\n", a, d, b, r->label);
		} else {
			printf("  %s %s %s\n", a, r->verdict, r->reason);
		}
	}
}

static void
bc_info_json(const struct backups_snap *s)
{
	cJSON *o = cJSON_CreateObject(), *arr, *x;
	char t[40], *out;

	cJSON_AddStringToObject(o, "stanza", s->stanza_name);
	cJSON_AddStringToObject(o, "status", s->conn == BACKUPS_FAILED ? "error" :
	    s->conn == BACKUPS_STALE ? "stale" : s->degraded ? "degraded" : "ok");
	if (s->degraded_why[0] != '\0')
		cJSON_AddStringToObject(o, "reasons", s->degraded_why);
	if (s->error[0] != '\0')
		cJSON_AddStringToObject(o, "error", s->error);
	if (s->stanza != NULL) {
		char sid[32];

		/* a string: 64 bits do not fit a JSON number readers parse as double */
		snprintf(sid, sizeof sid, "%llu", (unsigned long long)s->stanza->system_id);
		cJSON_AddStringToObject(o, "system_id", sid);
		cJSON_AddNumberToObject(o, "status_code", s->stanza->status_code);
		cJSON_AddStringToObject(o, "status_message", s->stanza->status_message);
	}
	x = cJSON_AddObjectToObject(o, "pitr");
	cJSON_AddBoolToObject(x, "valid", s->pitr.valid);
	if (s->pitr.valid) {
		bc_time(t, sizeof t, s->pitr.earliest);
		cJSON_AddStringToObject(x, "earliest", t);
		bc_time(t, sizeof t, s->pitr.latest);
		cJSON_AddStringToObject(x, "latest", t);
		cJSON_AddBoolToObject(x, "latest_from_archiver", s->pitr.latest_from_archiver);
	}
	if (s->pitr.why[0] != '\0')
		cJSON_AddStringToObject(x, "note", s->pitr.why);
	if (s->have_archiver) {
		x = cJSON_AddObjectToObject(o, "archiver");
		cJSON_AddNumberToObject(x, "archived", (double)s->archived);
		cJSON_AddNumberToObject(x, "failed", (double)s->archive_failed);
		cJSON_AddStringToObject(x, "last_archived_wal", s->last_archived_wal);
		cJSON_AddStringToObject(x, "last_failed_wal", s->last_failed_wal);
		cJSON_AddBoolToObject(x, "failing", s->last_failed_ms > s->last_archived_ms);
	}
	arr = cJSON_AddArrayToObject(o, "backups");
	for (size_t i = 0; s->stanza != NULL && i < s->stanza->n_backups; i++) {
		const struct pgbr_backup *bk = &s->stanza->backups[i];
		cJSON *b = cJSON_CreateObject();

		cJSON_AddStringToObject(b, "label", bk->label);
		cJSON_AddStringToObject(b, "type", pgbr_type_name(bk->type));
		bc_time(t, sizeof t, bk->start);
		cJSON_AddStringToObject(b, "start", t);
		bc_time(t, sizeof t, bk->stop);
		cJSON_AddStringToObject(b, "stop", t);
		cJSON_AddNumberToObject(b, "size", (double)bk->size);
		cJSON_AddNumberToObject(b, "repo_size", (double)bk->repo_size);
		cJSON_AddNumberToObject(b, "repo", bk->repo_key);
		cJSON_AddStringToObject(b, "lsn_start", bk->lsn_start);
		cJSON_AddStringToObject(b, "lsn_stop", bk->lsn_stop);
		cJSON_AddItemToArray(arr, b);
	}
	out = cJSON_PrintUnformatted(o);
	if (out != NULL)
		puts(out);
	free(out);
	cJSON_Delete(o);
}

/* Whether the sources have said what they have to say. */
static int
bc_ready(const struct bc *c)
{
	const struct backups_snap *s = backups_snapshot(c->bk);
	const struct pg_stats_snap *pg = store_get(c->store, STORE_TOPIC_PG, NULL);

	if (s == NULL || s->conn == BACKUPS_CONNECTING)
		return 0;
	/* the archiver's figures come with the first poll, after the connect */
	return c->pg == NULL || (pg != NULL && (pg->data != NULL || pg->conn == PG_STATS_DOWN ||
	    pg->conn == PG_STATS_UNCONFIGURED));
}

static void
bc_take_done(int ok, const char *words, void *ud)
{
	struct bc *c = ud;

	policy_done(c->policy, &c->ticket, ok, ok ? NULL : words, ok ? words : NULL);
	fprintf(stderr, "signalbox: %s\n", words);
	bc_stop(c, c->interrupted ? BACKUP_CMD_INTERRUPTED : ok ? BACKUP_CMD_OK :
	    BACKUP_CMD_FAILED);
}

static void
bc_drill_result(const struct drill_result *r, void *ud)
{
	struct bc *c = ud;

	if (c->o->json) {
		char *j = drill_result_json(r);

		if (j != NULL)
			puts(j);
		free(j);
		return;
	}
	printf("drill %s%s%s\n", drill_verdict_name(r->verdict), r->reason[0] ? ": " : "",
	    r->reason);
	for (int i = 0; i < DRILL_N_PHASES; i++)
		printf("  %-8s %-8s %6.1f s  %s\n", drill_phase_name((enum drill_phase)i),
		    drill_step_name(r->phases[i].state), (double)r->phases[i].duration_ms / 1000.0,
		    r->phases[i].words);
	if (r->rto_ms >= 0)
		printf("RTO %.1f s", (double)r->rto_ms / 1000.0);
	if (r->rpo_ms >= 0)
		printf(", RPO %.1f s", (double)r->rpo_ms / 1000.0);
	printf("%s(backup %s)\n", r->rto_ms >= 0 || r->rpo_ms >= 0 ? " " : "", r->backup_label);
	for (size_t i = 0; i < r->n_tables; i++)
		printf("  table %-24s %8lld rows  %s%s%s\n", r->tables[i].name,
		    (long long)r->tables[i].count, r->tables[i].checksum,
		    r->tables[i].match == DRILL_MATCH_OK ? "  matches production" :
		    r->tables[i].match == DRILL_MATCH_MISMATCH ? "  DIFFERS: " : "",
		    r->tables[i].match == DRILL_MATCH_MISMATCH ? r->tables[i].error : "");
	for (size_t i = 0; i < r->n_checks; i++)
		printf("  check %-24s %s (got %s, expected %s)\n", r->checks[i].name,
		    r->checks[i].ok ? "ok" : "FAILED", r->checks[i].value, r->checks[i].expect);
}

static void
bc_drill_done(int ok, const char *words, void *ud)
{
	struct bc *c = ud;

	policy_done(c->policy, &c->ticket, ok, ok ? NULL : words, ok ? words : NULL);
	fprintf(stderr, "signalbox: %s\n", words);
	bc_stop(c, c->interrupted ? BACKUP_CMD_INTERRUPTED : ok ? BACKUP_CMD_OK :
	    BACKUP_CMD_FAILED);
}

/* Check, confirm from the flags, audit, carry out. */
static void
bc_act(struct bc *c)
{
	const struct backups_snap *s = backups_snapshot(c->bk);
	const struct pgbr_backup *newest = s != NULL && s->stanza != NULL ?
	    pgbr_stanza_newest(s->stanza) : NULL;
	struct gate_flags f;
	struct err e;
	char why[POLICY_LINE + 128], before[160], after[96];
	int rc;

	memset(&c->req, 0, sizeof c->req);
	c->req.target = c->cfg->backups.stanza;
	c->req.from = -1;
	if (c->o->verb == BACKUP_CMD_TAKE) {
		c->req.action = ACTION_BACKUP_TAKE;
		c->req.after = c->o->arg != NULL ? c->o->arg : "full";
		if (newest != NULL) {
			snprintf(before, sizeof before, "%s (%s)", newest->label,
			    pgbr_type_name(newest->type));
			c->req.before = before;
		}
	} else {
		c->req.action = c->o->verb == BACKUP_CMD_RESTORE ? ACTION_BACKUP_RESTORE :
		    ACTION_BACKUP_DRILL;
		snprintf(after, sizeof after, "%s", c->o->arg != NULL ? c->o->arg :
		    "the newest backup");
		c->req.after = after;
	}
	memset(&f, 0, sizeof f);
	f.yes = c->o->yes;
	f.confirm_zero = c->o->confirm_twice;
	f.second_flag = "--confirm-twice";
	f.confirm_env = c->o->confirm_env;
	f.reason = c->o->reason;
	if (gate_submit(c->policy, &c->req, &f, &c->ticket, why, sizeof why) != 0) {
		fprintf(stderr, "signalbox: %s refused: %s\n",
		    action_info(c->req.action)->name, why);
		bc_stop(c, BACKUP_CMD_REFUSED);
		return;
	}
	memset(&e, 0, sizeof e);
	if (policy_redeem(c->policy, &c->ticket, &c->req, &e) != 0) {
		fprintf(stderr, "signalbox: refused: %s\n", e.msg);
		bc_stop(c, BACKUP_CMD_REFUSED);
		return;
	}
	if (c->o->verb == BACKUP_CMD_TAKE) {
		rc = backups_take(c->bk, c->req.after, bc_take_done, c, &e);
	} else {
		const char *a = c->o->arg;
		int is_time = a != NULL && strlen(a) >= 16 && a[4] == '-' && a[7] == '-';

		if (c->o->verb == BACKUP_CMD_RESTORE)
			rc = backups_restore(c->bk, a != NULL && !is_time ? a : NULL,
			    is_time ? a : NULL, bc_take_done, c, &e);
		else
			rc = backups_drill(c->bk, a != NULL && !is_time ? a : NULL,
			    is_time ? a : NULL, bc_drill_result, bc_drill_done, c, &e);
	}
	if (rc != 0) {
		policy_done(c->policy, &c->ticket, 0, e.msg, NULL);
		fprintf(stderr, "signalbox: %s failed: %s\n", action_info(c->req.action)->name,
		    e.msg);
		bc_stop(c, BACKUP_CMD_FAILED);
		return;
	}
	c->started = 1;
}

static void
bc_progress(struct bc *c)
{
	const struct backups_snap *s = backups_snapshot(c->bk);

	if (s == NULL || c->o->json)
		return;
	if (s->job.active && s->job.pct >= 0 && s->job.pct >= c->last_pct + 10) {
		fprintf(stderr, "signalbox: backup %.0f%%\n", s->job.pct);
		c->last_pct = s->job.pct;
	}
	if (s->drill.active && s->drill.phase != c->last_phase) {
		fprintf(stderr, "signalbox: drill: %s\n", drill_phase_name(s->drill.phase));
		c->last_phase = s->drill.phase;
	}
}

static void
bc_notify(enum store_topic topic, void *ud)
{
	struct bc *c = ud;

	(void)topic;
	if (c->done)
		return;
	if (c->started) {
		bc_progress(c);
		return;
	}
	if (bc_ready(c))
		loop_timer_start(c->wait_timer, 0, 0);
}

/* The sources answered (or the wait ran out): print or act. */
static void
bc_ready_cb(struct loop_timer *t, void *ud)
{
	struct bc *c = ud;
	const struct backups_snap *s = backups_snapshot(c->bk);

	(void)t;
	if (c->done || c->started)
		return;
	if (c->o->verb == BACKUP_CMD_INFO) {
		if (s == NULL) {
			fprintf(stderr, "signalbox: pgbackrest info did not answer\n");
			bc_stop(c, BACKUP_CMD_UNREADABLE);
			return;
		}
		if (c->o->json)
			bc_info_json(s);
		else
			bc_info_text(s, util_wall_ms());
		bc_stop(c, s->conn == BACKUPS_FAILED ? BACKUP_CMD_UNREADABLE :
		    s->degraded ? BACKUP_CMD_FAILED : BACKUP_CMD_OK);
		return;
	}
	if (s == NULL || s->conn == BACKUPS_FAILED || s->conn == BACKUPS_CONNECTING) {
		fprintf(stderr, "signalbox: cannot read pgBackRest: %s\n", s != NULL ? s->error :
		    "no answer");
		bc_stop(c, BACKUP_CMD_UNREADABLE);
		return;
	}
	bc_act(c);
}

static void
bc_signal_cb(uv_signal_t *h, int sig)
{
	struct bc *c = h->data;

	(void)sig;
	c->interrupted = 1;
	if (c->started && backups_busy(c->bk)) {
		fprintf(stderr, "signalbox: interrupted: stopping the drill's server\n");
		backups_drill_cancel(c->bk);
		return;
	}
	if (c->started && backups_restoring(c->bk)) {
		fprintf(stderr, "signalbox: a restore in place is not cut off half-way: "
		    "waiting for it to finish\n");
		return;
	}
	/* not started, or a backup being taken: pgbackrest is stopped when we
	 * free it */
	bc_stop(c, BACKUP_CMD_INTERRUPTED);
}

static void
bc_close_walk(uv_handle_t *h, void *ud)
{
	(void)ud;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
backup_cmd_run(const struct config *cfg, const struct backup_cmd_opts *o)
{
	struct bc c;
	struct err e;
	char *def = NULL;
	struct policy_opts po;

	if (!cfg->backups.enabled) {
		fprintf(stderr, "signalbox backup: the configuration has no backups: mapping "
		    "(see signalbox.yml(5), BACKUPS)\n");
		return BACKUP_CMD_USAGE;
	}
	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	c.o = o;
	c.cfg = cfg;
	c.last_phase = DRILL_N_PHASES;
	c.last_pct = -100;
	if (uv_loop_init(&c.loop) != 0) {
		fprintf(stderr, "signalbox: cannot create the event loop\n");
		return BACKUP_CMD_USAGE;
	}
	c.store = store_new();
	if (cfg->audit_file == NULL)
		def = audit_default_path();
	c.audit = audit_open(cfg->audit_file != NULL ? cfg->audit_file : def, cfg->audit_fsync);
	memset(&po, 0, sizeof po);
	po.cfg = cfg;
	po.read_only = o->read_only;
	po.audit = c.audit;
	c.policy = policy_new(&po);
	c.bk = backups_new(&c.loop, cfg, c.store, cfg->audit_file != NULL ? cfg->audit_file : def,
	    &e);
	free(def);
	if (c.bk == NULL) {
		fprintf(stderr, "signalbox backup: %s\n", e.msg);
		c.status = BACKUP_CMD_USAGE;
		goto out;
	}
	c.pg = pg_stats_new(&c.loop, c.store, cfg);
	store_subscribe(c.store, bc_notify, &c);
	c.wait_timer = loop_timer_new(&c.loop, bc_ready_cb, &c);
	c.deadline = loop_timer_new(&c.loop, bc_ready_cb, &c);
	uv_signal_init(&c.loop, &c.sigint);
	uv_signal_init(&c.loop, &c.sigterm);
	c.sigint.data = c.sigterm.data = &c;
	uv_signal_start(&c.sigint, bc_signal_cb, SIGINT);
	uv_signal_start(&c.sigterm, bc_signal_cb, SIGTERM);
	loop_timer_start(c.deadline, BC_WAIT_MS, 0);
	pg_stats_start(c.pg);
	backups_start(c.bk);
	uv_run(&c.loop, UV_RUN_DEFAULT);
out:
	store_unsubscribe(c.store, bc_notify, &c);
	loop_timer_free(&c.wait_timer);
	loop_timer_free(&c.deadline);
	backups_free(&c.bk);
	pg_stats_free(&c.pg);
	uv_walk(&c.loop, bc_close_walk, NULL);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	uv_loop_close(&c.loop);
	policy_free(&c.policy);
	audit_free(&c.audit);
	store_free(&c.store);
	return c.status;
}
