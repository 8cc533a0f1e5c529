/* flags_cmd.c - signalbox flags list|set|kill|watch|migrate (flags_cmd.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/action.h"
#include "signalbox/audit.h"
#include "signalbox/config.h"
#include "signalbox/flags.h"
#include "signalbox/flags_cmd.h"
#include "signalbox/gate.h"
#include "signalbox/loop.h"
#include "signalbox/policy.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define FC_WAIT_MS 10000	/* for the store to answer */

enum { FCO_JSON = 256, FCO_REASON, FCO_CONFIRM_ENV, FCO_CONFIRM_TWICE, FCO_ENV,
	FCO_REPLACE_INVALID };

static const struct option fc_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "log", required_argument, NULL, 'v' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, FCO_JSON },
	{ "env", required_argument, NULL, FCO_ENV },
	{ "reason", required_argument, NULL, FCO_REASON },
	{ "confirm-env", required_argument, NULL, FCO_CONFIRM_ENV },
	{ "confirm-twice", no_argument, NULL, FCO_CONFIRM_TWICE },
	{ "replace-invalid", no_argument, NULL, FCO_REPLACE_INVALID },
	{ NULL, 0, NULL, 0 },
};

int
flags_cmd_is(const char *word)
{
	return word != NULL && strcmp(word, "flags") == 0;
}

static void
fc_help(FILE *out)
{
	fputs("usage: signalbox flags [list] [--env E] [--json]\n"
	    "       signalbox flags set NAME on|off|N% [--env E] [--yes] [--replace-invalid]\n"
	    "       signalbox flags kill [--env E] --yes --confirm-twice\n"
	    "       signalbox flags watch [--env E]\n"
	    "       signalbox flags migrate\n"
	    "\n"
	    "  list    every flag of the environment: on/off, rollout, who changed it\n"
	    "  set     turn a flag on or off, or on for N% of requests; written only if\n"
	    "          nobody changed it since it was read (exit 5 otherwise)\n"
	    "  kill    turn every flag of the environment off (kill switch)\n"
	    "  watch   print the flags again on every change, until interrupted\n"
	    "  migrate create the PostgreSQL table (flags.store: postgres)\n"
	    "\n"
	    "  -c, --config FILE       configuration (flags: in signalbox.yml(5))\n"
	    "  -v, --log FILE          diagnostics\n"
	    "  -r, --read-only         refuse set and kill\n"
	    "      --env NAME          the environment (default: the configured one)\n"
	    "  -y, --yes               confirm (nothing is asked interactively)\n"
	    "      --reason TEXT       why; required in a protected environment, audited\n"
	    "      --confirm-env NAME  the protected environment's name, typed\n"
	    "      --confirm-twice     the second confirmation kill asks for\n"
	    "      --replace-invalid   set: write over a malformed stored value\n"
	    "      --json              JSON on standard output\n", out);
}

int
flags_cmd_parse(struct flags_cmd_opts *o, int argc, char *argv[])
{
	int opt;
	const char *verb;

	memset(o, 0, sizeof *o);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:v:ryh", fc_longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 'v': o->log_path = optarg; break;
		case 'r': o->read_only = 1; break;
		case 'y': o->yes = 1; break;
		case 'h': fc_help(stdout); return 1;
		case FCO_JSON: o->json = 1; break;
		case FCO_ENV: o->env = optarg; break;
		case FCO_REASON: o->reason = optarg; break;
		case FCO_CONFIRM_ENV: o->confirm_env = optarg; break;
		case FCO_CONFIRM_TWICE: o->confirm_twice = 1; break;
		case FCO_REPLACE_INVALID: o->replace_invalid = 1; break;
		default: fc_help(stderr); return 2;
		}
	}
	verb = optind < argc ? argv[optind++] : "list";
	if (strcmp(verb, "list") == 0)
		o->verb = FLAGS_CMD_LIST;
	else if (strcmp(verb, "set") == 0)
		o->verb = FLAGS_CMD_SET;
	else if (strcmp(verb, "kill") == 0)
		o->verb = FLAGS_CMD_KILL;
	else if (strcmp(verb, "watch") == 0)
		o->verb = FLAGS_CMD_WATCH;
	else if (strcmp(verb, "migrate") == 0)
		o->verb = FLAGS_CMD_MIGRATE;
	else {
		fprintf(stderr, "signalbox flags: unknown command '%s' (list, set, kill, watch, "
		    "migrate)\n", verb);
		return 2;
	}
	if (o->verb == FLAGS_CMD_SET) {
		if (argc - optind != 2) {
			fprintf(stderr, "signalbox flags set: needs NAME and on, off or N%% "
			    "(signalbox flags set new-checkout on)\n");
			return 2;
		}
		o->name = argv[optind++];
		o->setting = argv[optind++];
		if (!flag_name_ok(o->name)) {
			fprintf(stderr, "signalbox flags set: '%.100s' is not a flag name (1 to "
			    "100 of a-z 0-9 - _ .)\n", o->name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "signalbox flags %s: unexpected '%s'\n", verb, argv[optind]);
		return 2;
	}
	if ((o->verb == FLAGS_CMD_LIST || o->verb == FLAGS_CMD_WATCH ||
	    o->verb == FLAGS_CMD_MIGRATE) && (o->yes || o->reason || o->confirm_env)) {
		fprintf(stderr, "signalbox flags %s: changes no flag: --yes, --reason and "
		    "--confirm-env are for set and kill\n", verb);
		return 2;
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

struct fc {
	const struct flags_cmd_opts *o;
	const struct config *cfg;
	const char *env;
	uv_loop_t loop;
	struct flag_store *fs;
	struct audit *audit;
	struct policy *policy;
	struct policy_req req;
	struct policy_ticket ticket;
	struct loop_timer *deadline, *delay;
	uv_signal_t sigint, sigterm;
	struct flag_list *list;	/* as read at the start */
	char where[160];
	char by[200];
	char before[POLICY_LINE], after[POLICY_LINE];
	int enabled, rollout;
	int started, done, status;
	size_t pending, failed, conflicts;	/* kill */
	char kill_words[POLICY_LINE * 2];
};

static void
fc_stop(struct fc *c, int status)
{
	if (c->done)
		return;
	c->done = 1;
	c->status = status;
	loop_timer_stop(c->deadline);
	loop_timer_stop(c->delay);
	uv_signal_stop(&c->sigint);
	uv_signal_stop(&c->sigterm);
	uv_stop(&c->loop);
}

static void
fc_print_text(const struct flag_list *l)
{
	printf("%-24s %-8s %7s  %-20s %-24s %s\n", "FLAG", "STATE", "ROLLOUT", "UPDATED", "BY",
	    "DESCRIPTION");
	for (size_t i = 0; i < l->n; i++) {
		const struct flag *f = &l->v[i];
		char ro[8];

		if (!f->valid) {
			printf("%-24s %-8s %7s  %-20s %-24s %s\n", f->name, "INVALID", "-", "-",
			    "-", f->why);
			continue;
		}
		snprintf(ro, sizeof ro, "%d%%", f->rollout);
		printf("%-24s %-8s %7s  %-20s %-24s %s\n", f->name, f->enabled ? "on" : "off", ro,
		    f->updated_at != NULL ? f->updated_at : "-",
		    f->updated_by != NULL ? f->updated_by : "-",
		    f->description != NULL ? f->description : "");
	}
}

static void
fc_print_json(const struct fc *c, const struct flag_list *l)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char *out;

	cJSON_AddStringToObject(o, "environment", l->env);
	cJSON_AddStringToObject(o, "store", c->cfg->flags.store == CONFIG_FLAGS_POSTGRES ?
	    "postgres" : "redis");
	arr = cJSON_AddArrayToObject(o, "flags");
	for (size_t i = 0; i < l->n; i++) {
		const struct flag *f = &l->v[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "name", f->name);
		cJSON_AddStringToObject(x, "state", !f->valid ? "invalid" : f->enabled ? "on" :
		    "off");
		if (!f->valid) {
			cJSON_AddStringToObject(x, "reason", f->why);
		} else {
			cJSON_AddBoolToObject(x, "enabled", f->enabled);
			cJSON_AddNumberToObject(x, "rollout", f->rollout);
			cJSON_AddStringToObject(x, "strategy", f->strategy != NULL ?
			    f->strategy : "rollout");
		}
		if (f->description != NULL)
			cJSON_AddStringToObject(x, "description", f->description);
		if (f->updated_at != NULL)
			cJSON_AddStringToObject(x, "updated_at", f->updated_at);
		if (f->updated_by != NULL)
			cJSON_AddStringToObject(x, "updated_by", f->updated_by);
		cJSON_AddItemToArray(arr, x);
	}
	out = cJSON_PrintUnformatted(o);
	if (out != NULL)
		puts(out);
	free(out);
	cJSON_Delete(o);
	fflush(stdout);
}

static void
fc_print(const struct fc *c, const struct flag_list *l)
{
	if (c->o->json)
		fc_print_json(c, l);
	else
		fc_print_text(l);
	fflush(stdout);
}

/* ---- set ------------------------------------------------------------------- */

static void
fc_set_done(enum flag_set_status st, const struct flag *now, const char *error, void *ud)
{
	struct fc *c = ud;
	char words[POLICY_LINE], msg[1024];

	if (now != NULL)
		flag_words(now, words, sizeof words);
	else
		util_strlcpy(words, "?", sizeof words);
	switch (st) {
	case FLAG_SET_OK:
		snprintf(msg, sizeof msg, "%.100s: %.180s → %.180s", c->o->name, c->before, words);
		policy_done(c->policy, &c->ticket, 1, NULL, msg);
		fprintf(stderr, "signalbox: flag %s in %s: %s → %s\n", c->o->name, c->env,
		    c->before, words);
		fc_stop(c, FLAGS_CMD_OK);
		return;
	case FLAG_SET_CONFLICT:
		snprintf(msg, sizeof msg, "changed underneath: %.100s is now %.180s (by %.200s at %.40s); "
		    "nothing written", c->o->name, words,
		    now != NULL && now->updated_by != NULL ? now->updated_by : "?",
		    now != NULL && now->updated_at != NULL ? now->updated_at : "?");
		policy_done(c->policy, &c->ticket, 0, msg, NULL);
		fprintf(stderr, "signalbox: conflict: %s\n", msg);
		fc_stop(c, FLAGS_CMD_CONFLICT);
		return;
	case FLAG_SET_INVALID:
		snprintf(msg, sizeof msg, "the stored value of %.100s is malformed (%.180s); nothing "
		    "written", c->o->name, error != NULL ? error : "?");
		policy_done(c->policy, &c->ticket, 0, msg, NULL);
		fprintf(stderr, "signalbox: %s\n", msg);
		fc_stop(c, FLAGS_CMD_INVALID);
		return;
	case FLAG_SET_MISSING:
		snprintf(msg, sizeof msg, "%.100s was deleted underneath; nothing written",
		    c->o->name);
		policy_done(c->policy, &c->ticket, 0, msg, NULL);
		fprintf(stderr, "signalbox: conflict: %s\n", msg);
		fc_stop(c, FLAGS_CMD_CONFLICT);
		return;
	case FLAG_SET_ERROR:
		break;
	}
	snprintf(msg, sizeof msg, "the flag store failed: %.500s", error != NULL ? error : "?");
	policy_done(c->policy, &c->ticket, 0, msg, NULL);
	fprintf(stderr, "signalbox: %s\n", msg);
	fc_stop(c, FLAGS_CMD_FAILED);
}

/* Redeem the ticket and write: the only path to flag_store_set for set. */
static void
fc_set_write(struct fc *c)
{
	const struct flag *seen = flag_list_find(c->list, c->o->name);
	struct flag_change ch;
	struct err e;

	memset(&e, 0, sizeof e);
	if (policy_redeem(c->policy, &c->ticket, &c->req, &e) != 0) {
		fprintf(stderr, "signalbox: refused: %s\n", e.msg);
		fc_stop(c, FLAGS_CMD_REFUSED);
		return;
	}
	memset(&ch, 0, sizeof ch);
	ch.env = c->env;
	ch.name = c->o->name;
	ch.enabled = c->enabled;
	ch.rollout = c->rollout;
	ch.seen = seen;
	ch.by = c->by;
	ch.replace_invalid = c->o->replace_invalid;
	flag_store_set(c->fs, &ch, fc_set_done, c);
}

static void
fc_delay_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	fc_set_write(ud);
}

/* What the operator asks, checked against the flag as read. */
static void
fc_set(struct fc *c)
{
	const struct flag *f = flag_list_find(c->list, c->o->name);
	struct gate_flags g;
	struct flag want;
	struct err e;
	char why[POLICY_LINE + 128];
	const char *delay = getenv("SIGNALBOX_FLAGS_TEST_DELAY_MS");

	memset(&e, 0, sizeof e);
	memset(&c->req, 0, sizeof c->req);
	c->req.action = ACTION_FLAG_SET;
	c->req.env = c->env;
	c->req.target = c->o->name;
	c->req.target_id = c->where;
	c->req.from = -1;
	if (flag_setting_parse(c->o->setting, &c->enabled, &c->rollout, &e) != 0) {
		fprintf(stderr, "signalbox flags set: %s\n", e.msg);
		fc_stop(c, FLAGS_CMD_USAGE);
		return;
	}
	if (f == NULL) {
		fprintf(stderr, "signalbox flags set: no flag %s in %s (signalbox flags list "
		    "--env %s)\n", c->o->name, c->where, c->env);
		fc_stop(c, FLAGS_CMD_FAILED);
		return;
	}
	flag_words(f, c->before, sizeof c->before);
	if (!f->valid && !c->o->replace_invalid) {
		/* a toggle never writes over a value nobody can read */
		snprintf(why, sizeof why, "the stored value of %s is malformed (%s): a toggle "
		    "would overwrite it; look at it (redis-cli HGET), then set it explicitly "
		    "with --replace-invalid", c->o->name, f->why);
		c->req.before = c->before;
		c->req.after = c->o->setting;
		policy_refuse(c->policy, &c->req, why);
		fprintf(stderr, "signalbox: flags set refused: %s\n", why);
		fc_stop(c, FLAGS_CMD_INVALID);
		return;
	}
	memset(&want, 0, sizeof want);
	want.valid = 1;
	want.enabled = c->enabled;
	want.rollout = c->rollout >= 0 ? c->rollout : f->valid ? f->rollout : 100;
	flag_words(&want, c->after, sizeof c->after);
	c->req.before = c->before;
	c->req.after = c->after;
	memset(&g, 0, sizeof g);
	g.yes = c->o->yes;
	g.confirm_env = c->o->confirm_env;
	g.reason = c->o->reason;
	if (gate_submit(c->policy, &c->req, &g, &c->ticket, why, sizeof why) != 0) {
		fprintf(stderr, "signalbox: flag-set refused: %s\n", why);
		fc_stop(c, FLAGS_CMD_REFUSED);
		return;
	}
	c->started = 1;
	/* tests only: a window between the read and the write for a race */
	if (delay != NULL && atoi(delay) > 0) {
		loop_timer_start(c->delay, (uint64_t)atoi(delay), 0);
		return;
	}
	fc_set_write(c);
}

/* ---- kill ------------------------------------------------------------------- */

static void
fc_kill_one(enum flag_set_status st, const struct flag *now, const char *error, void *ud)
{
	struct fc *c = ud;
	char words[POLICY_LINE];

	(void)error;
	if (now != NULL)
		flag_words(now, words, sizeof words);
	else
		util_strlcpy(words, "?", sizeof words);
	if (st == FLAG_SET_OK) {
		fprintf(stderr, "signalbox: %s → %s\n", now != NULL ? now->name : "?", words);
	} else {
		c->failed++;
		c->conflicts += st == FLAG_SET_CONFLICT || st == FLAG_SET_MISSING;
		fprintf(stderr, "signalbox: %s not turned off: %s\n", now != NULL ? now->name :
		    "a flag", st == FLAG_SET_CONFLICT ? "changed underneath" : error != NULL ?
		    error : "failed");
	}
	if (--c->pending > 0)
		return;
	if (c->failed == 0) {
		policy_done(c->policy, &c->ticket, 1, NULL, "every flag off");
		fc_stop(c, FLAGS_CMD_OK);
	} else {
		snprintf(words, sizeof words, "%zu flag%s not turned off (%zu changed "
		    "underneath)", c->failed, c->failed == 1 ? "" : "s", c->conflicts);
		policy_done(c->policy, &c->ticket, 0, words, NULL);
		fc_stop(c, c->conflicts == c->failed ? FLAGS_CMD_CONFLICT : FLAGS_CMD_FAILED);
	}
}

static void
fc_kill(struct fc *c)
{
	struct gate_flags g;
	struct err e;
	char why[POLICY_LINE + 128], key[96];
	size_t len = 0;

	c->kill_words[0] = '\0';
	for (size_t i = 0; i < c->list->n; i++) {
		const struct flag *f = &c->list->v[i];

		if (f->valid && f->enabled && len + strlen(f->name) + 3 < sizeof c->kill_words)
			len += (size_t)snprintf(c->kill_words + len, sizeof c->kill_words - len,
			    "%s%s", len > 0 ? ", " : "", f->name);
	}
	if (len == 0) {
		fprintf(stderr, "signalbox: no flag is on in %s: nothing to turn off\n",
		    c->where);
		fc_stop(c, FLAGS_CMD_OK);
		return;
	}
	if (c->cfg->flags.store == CONFIG_FLAGS_REDIS)
		snprintf(key, sizeof key, "flags:%s", c->env);
	else
		snprintf(key, sizeof key, "signalbox_flags (%s)", c->env);
	memset(&c->req, 0, sizeof c->req);
	c->req.action = ACTION_FLAG_KILL;
	c->req.env = c->env;
	c->req.target = key;
	c->req.target_id = c->where;
	c->req.before = c->kill_words;
	c->req.after = "every flag off";
	c->req.from = -1;
	memset(&g, 0, sizeof g);
	g.yes = c->o->yes;
	g.confirm_zero = c->o->confirm_twice;
	g.second_flag = "--confirm-twice";
	g.confirm_env = c->o->confirm_env;
	g.reason = c->o->reason;
	if (gate_submit(c->policy, &c->req, &g, &c->ticket, why, sizeof why) != 0) {
		fprintf(stderr, "signalbox: flag-kill refused: %s\n", why);
		fc_stop(c, FLAGS_CMD_REFUSED);
		return;
	}
	memset(&e, 0, sizeof e);
	if (policy_redeem(c->policy, &c->ticket, &c->req, &e) != 0) {
		fprintf(stderr, "signalbox: refused: %s\n", e.msg);
		fc_stop(c, FLAGS_CMD_REFUSED);
		return;
	}
	c->started = 1;
	for (size_t i = 0; i < c->list->n; i++) {
		const struct flag *f = &c->list->v[i];
		struct flag_change ch;

		if (!f->valid) {
			fprintf(stderr, "signalbox: %s skipped: its stored value is malformed "
			    "(%s)\n", f->name, f->why);
			continue;
		}
		if (!f->enabled)
			continue;
		memset(&ch, 0, sizeof ch);
		ch.env = c->env;
		ch.name = f->name;
		ch.enabled = 0;
		ch.rollout = -1;
		ch.seen = f;
		ch.by = c->by;
		c->pending++;
		flag_store_set(c->fs, &ch, fc_kill_one, c);
	}
}

/* ---- reading ------------------------------------------------------------------- */

static void
fc_listed(const struct flag_list *l, const char *error, void *ud)
{
	struct fc *c = ud;

	if (c->done)
		return;
	if (l == NULL) {
		fprintf(stderr, "signalbox: cannot read the flags of %s: %s\n", c->where,
		    error != NULL ? error : "?");
		if (c->o->verb != FLAGS_CMD_WATCH)
			fc_stop(c, FLAGS_CMD_UNREADABLE);
		return;
	}
	loop_timer_stop(c->deadline);
	switch (c->o->verb) {
	case FLAGS_CMD_LIST:
		fc_print(c, l);
		fc_stop(c, FLAGS_CMD_OK);
		break;
	case FLAGS_CMD_WATCH:
		fc_print(c, l);
		break;
	case FLAGS_CMD_SET:
	case FLAGS_CMD_KILL:
		flag_list_free(&c->list);
		c->list = xcalloc(1, sizeof *c->list);
		c->list->env = xstrdup(l->env);
		c->list->v = xcalloc(l->n + 1, sizeof *c->list->v);
		for (size_t i = 0; i < l->n; i++)
			flag_copy(&c->list->v[i], &l->v[i]);
		c->list->n = l->n;
		if (c->o->verb == FLAGS_CMD_SET)
			fc_set(c);
		else
			fc_kill(c);
		break;
	case FLAGS_CMD_MIGRATE:
		break;
	}
}

static void
fc_migrated(int ok, const char *error, void *ud)
{
	struct fc *c = ud;

	if (ok)
		fprintf(stderr, "signalbox: %s\n", c->cfg->flags.store == CONFIG_FLAGS_POSTGRES ?
		    "signalbox_flags is ready (sql/flags_postgres.sql applied)" :
		    "the Redis store needs no migration");
	else
		fprintf(stderr, "signalbox: migration failed: %s\n", error);
	fc_stop(c, ok ? FLAGS_CMD_OK : FLAGS_CMD_FAILED);
}

static void
fc_state(enum flag_store_state st, const char *error, void *ud)
{
	struct fc *c = ud;

	if (c->done)
		return;
	if (st == FLAG_STORE_DOWN && !c->started && c->o->verb != FLAGS_CMD_WATCH) {
		fprintf(stderr, "signalbox: cannot reach the flag store %s: %s\n", c->where,
		    error);
		fc_stop(c, FLAGS_CMD_UNREADABLE);
		return;
	}
	if (st != FLAG_STORE_READY)
		return;
	if (c->o->verb == FLAGS_CMD_MIGRATE) {
		if (!c->started) {
			c->started = 1;
			flag_store_migrate(c->fs, fc_migrated, c);
		}
		return;
	}
	if (!c->started || c->o->verb == FLAGS_CMD_WATCH)
		flag_store_list(c->fs, c->env, fc_listed, c);
	if (c->o->verb == FLAGS_CMD_LIST || c->o->verb == FLAGS_CMD_WATCH)
		c->started = 1;
}

static void
fc_live(const char *env, void *ud)
{
	struct fc *c = ud;

	if (!c->done && c->o->verb == FLAGS_CMD_WATCH && strcmp(env, c->env) == 0)
		flag_store_list(c->fs, c->env, fc_listed, c);
}

static void
fc_deadline_cb(struct loop_timer *t, void *ud)
{
	struct fc *c = ud;

	(void)t;
	if (c->o->verb == FLAGS_CMD_WATCH || c->started)
		return;
	fprintf(stderr, "signalbox: the flag store %s did not answer within %d s\n", c->where,
	    FC_WAIT_MS / 1000);
	fc_stop(c, FLAGS_CMD_UNREADABLE);
}

static void
fc_signal_cb(uv_signal_t *h, int sig)
{
	struct fc *c = h->data;

	(void)sig;
	if (c->o->verb == FLAGS_CMD_WATCH) {
		fc_stop(c, FLAGS_CMD_OK);
		return;
	}
	if (c->started && c->ticket.serial != 0)
		policy_done(c->policy, &c->ticket, 0, "interrupted: the outcome is unknown", NULL);
	fc_stop(c, FLAGS_CMD_INTERRUPTED);
}

static void
fc_close_walk(uv_handle_t *h, void *ud)
{
	(void)ud;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* "operator@host" as the audit log has it: the SSH client's address, else
 * this host's name. */
static void
fc_identity(char *buf, size_t len)
{
	char user[64], ssh[64], host[128];

	audit_identity(user, sizeof user, ssh, sizeof ssh);
	if (ssh[0] == '\0' && gethostname(host, sizeof host) == 0)
		host[sizeof host - 1] = '\0';
	else
		util_strlcpy(host, ssh[0] != '\0' ? ssh : "localhost", sizeof host);
	snprintf(buf, len, "%s@%s", user, host);
}

int
flags_cmd_run(const struct config *cfg, const struct flags_cmd_opts *o)
{
	struct fc c;
	struct err e;
	char *def = NULL;
	const char *url;
	struct policy_opts po;
	struct flag_store_opts fo;

	if (!cfg->flags.enabled) {
		fprintf(stderr, "signalbox flags: the configuration has no flags: mapping "
		    "(see signalbox.yml(5), flags)\n");
		return FLAGS_CMD_USAGE;
	}
	url = getenv(cfg->flags.url_env);
	if (url == NULL || url[0] == '\0') {
		fprintf(stderr, "signalbox flags: %s is not set (flags.url_env: the URL of "
		    "the flag store)\n", cfg->flags.url_env);
		return FLAGS_CMD_USAGE;
	}
	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	c.o = o;
	c.cfg = cfg;
	c.env = o->env != NULL ? o->env : cfg->environment;
	fc_identity(c.by, sizeof c.by);
	if (uv_loop_init(&c.loop) != 0) {
		fprintf(stderr, "signalbox: cannot create the event loop\n");
		return FLAGS_CMD_USAGE;
	}
	if (cfg->audit_file == NULL)
		def = audit_default_path();
	c.audit = audit_open(cfg->audit_file != NULL ? cfg->audit_file : def, cfg->audit_fsync);
	free(def);
	memset(&po, 0, sizeof po);
	po.cfg = cfg;
	po.read_only = o->read_only;
	po.audit = c.audit;
	c.policy = policy_new(&po);
	memset(&fo, 0, sizeof fo);
	fo.kind = cfg->flags.store == CONFIG_FLAGS_POSTGRES ? FLAG_STORE_POSTGRES :
	    FLAG_STORE_REDIS;
	fo.url = url;
	fo.state = fc_state;
	fo.live = fc_live;
	fo.ud = &c;
	c.fs = flag_store_new(&c.loop, &fo, &e);
	if (c.fs == NULL) {
		fprintf(stderr, "signalbox flags: %s: %s\n", cfg->flags.url_env, e.msg);
		c.status = FLAGS_CMD_USAGE;
		goto out;
	}
	flag_store_where(c.fs, c.env, c.where, sizeof c.where);
	c.deadline = loop_timer_new(&c.loop, fc_deadline_cb, &c);
	c.delay = loop_timer_new(&c.loop, fc_delay_cb, &c);
	uv_signal_init(&c.loop, &c.sigint);
	uv_signal_init(&c.loop, &c.sigterm);
	c.sigint.data = c.sigterm.data = &c;
	uv_signal_start(&c.sigint, fc_signal_cb, SIGINT);
	uv_signal_start(&c.sigterm, fc_signal_cb, SIGTERM);
	loop_timer_start(c.deadline, FC_WAIT_MS, 0);
	if (o->verb == FLAGS_CMD_WATCH)
		flag_store_watch(c.fs, c.env);
	flag_store_start(c.fs);
	uv_run(&c.loop, UV_RUN_DEFAULT);
out:
	loop_timer_free(&c.deadline);
	loop_timer_free(&c.delay);
	flag_store_free(&c.fs);
	flag_list_free(&c.list);
	uv_walk(&c.loop, fc_close_walk, NULL);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	uv_loop_close(&c.loop);
	policy_free(&c.policy);
	audit_free(&c.audit);
	return c.status;
}
