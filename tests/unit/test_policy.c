/* test_policy.c - the one policy check, enumerated over the action table;
 * its guards; tickets; and the audit trail it writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/action.h"
#include "signalbox/audit.h"
#include "signalbox/config.h"
#include "signalbox/keymap.h"
#include "signalbox/policy.h"

static const char config_yml[] =
    "project: acme\n"
    "environment: production\n"
    "environments:\n"
    "  production: { protected: true }\n"
    "  staging: {}\n"
    "  observers: { read_only: true }\n";

struct fixture {
	char dir[256];
	char path[300];
	struct config cfg;
	struct audit *audit;
	struct policy *p;
};

static int64_t fake_now;

static int64_t
fake_clock(void)
{
	return fake_now;
}

static struct policy *
make_policy(struct fixture *f, int read_only)
{
	struct policy_opts o;

	memset(&o, 0, sizeof o);
	o.cfg = &f->cfg;
	o.read_only = read_only;
	o.audit = f->audit;
	o.operator_name = "alice";
	o.ssh_client = "10.0.0.7";
	o.clock_ms = fake_clock;
	return policy_new(&o);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err e;

	snprintf(f->dir, sizeof f->dir, "/tmp/sb-policy-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/audit.jsonl", f->dir);
	config_init(&f->cfg);
	assert_int_equal(config_load_string(&f->cfg, config_yml, strlen(config_yml),
	    "t.yml", &e), 0);
	f->audit = audit_open(f->path, 0);
	f->p = make_policy(f, 0);
	fake_now = 1000000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[400];

	policy_free(&f->p);
	audit_free(&f->audit);
	config_fini(&f->cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A well-formed request for A. */
static void
sample_req(struct policy_req *r, enum action a, const char *env)
{
	memset(r, 0, sizeof *r);
	r->action = a;
	r->env = env;
	r->target = "api";
	r->target_id = "srv-7f3a";
	r->deployment = "dep-3f2a1c";
	r->region = "us-west2";
	r->from = 2;
	r->to = 3;
	r->var = "DATABASE_URL";
	r->value = "postgres://admin:hunter2@db/prod";
}

/* The audit file's lines, parsed; N gets the count. */
static cJSON **
audit_lines(struct fixture *f, size_t *n)
{
	FILE *fp = fopen(f->path, "r");
	static char line[65536];
	cJSON **out = NULL;

	*n = 0;
	if (fp == NULL)
		return NULL;
	while (fgets(line, sizeof line, fp) != NULL) {
		out = realloc(out, (*n + 1) * sizeof *out);
		out[*n] = cJSON_Parse(line);
		assert_non_null(out[*n]);
		(*n)++;
	}
	fclose(fp);
	return out;
}

static void
free_lines(cJSON **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_Delete(l[i]);
	free(l);
}

static const char *
field(cJSON *j, const char *name)
{
	cJSON *it = cJSON_GetObjectItem(j, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static char *
file_text(struct fixture *f)
{
	FILE *fp = fopen(f->path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		return calloc(1, 1);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* --- the table, enumerated ------------------------------------------------ */

/* Every action that changes production is refused in read-only mode (global
 * and per environment), needs TYPED in a protected environment and at
 * least YESNO elsewhere; no other action is ever refused by read-only mode;
 * every gated action has a rule of its own. */
static void
test_every_action(void **state)
{
	struct fixture *f = *state;
	struct policy *ro = make_policy(f, 1);
	struct policy_verdict v;
	struct policy_req r;
	int a, mutating = 0, audited = 0;

	for (a = 1; a < ACTION_COUNT; a++) {
		const struct action_info *ai = action_info((enum action)a);
		int mut = (ai->flags & ACTION_F_MUTATING) != 0;
		int aud = (ai->flags & ACTION_F_AUDITED) != 0;

		mutating += mut;
		audited += aud;
		assert_int_equal(action_is_gated((enum action)a), mut || aud);

		/* read-only mode, global */
		sample_req(&r, (enum action)a, "staging");
		if (mut) {
			assert_int_equal(policy_check(ro, &r, &v), -1);
			assert_int_equal(v.decision, POLICY_REFUSE);
			assert_non_null(strstr(v.reason, "read-only mode (--read-only)"));
			assert_non_null(strstr(v.reason, ai->name));
		} else {
			assert_int_equal(policy_check(ro, &r, &v), 0);
			assert_int_equal(v.decision, POLICY_ALLOW);
		}
		/* read-only environment */
		sample_req(&r, (enum action)a, "observers");
		if (mut) {
			assert_int_equal(policy_check(f->p, &r, &v), -1);
			assert_non_null(strstr(v.reason, "environment 'observers' is "
			    "read-only (environments.observers.read_only)"));
		} else {
			assert_int_equal(policy_check(f->p, &r, &v), 0);
		}
		/* protected environment, named or by default */
		sample_req(&r, (enum action)a, "production");
		assert_int_equal(policy_check(f->p, &r, &v), 0);
		assert_true(v.protected_env);
		if (mut) {
			assert_int_equal(v.confirm, POLICY_CONFIRM_TYPED);
			assert_string_equal(v.env, "production");
		} else if (aud) {
			assert_int_equal(v.confirm, POLICY_CONFIRM_YESNO);
		} else {
			assert_int_equal(v.confirm, POLICY_CONFIRM_NONE);
		}
		r.env = NULL;	/* the configured environment: production */
		assert_int_equal(policy_check(f->p, &r, &v), 0);
		assert_string_equal(v.env, "production");
		r.env = "qa-unknown";	/* not in the config: protected */
		assert_int_equal(policy_check(f->p, &r, &v), 0);
		assert_true(v.protected_env);
		assert_int_equal(v.confirm, mut ? POLICY_CONFIRM_TYPED :
		    aud ? POLICY_CONFIRM_YESNO : POLICY_CONFIRM_NONE);
		/* an unprotected environment still confirms every change */
		sample_req(&r, (enum action)a, "staging");
		assert_int_equal(policy_check(f->p, &r, &v), 0);
		assert_false(v.protected_env);
		/* a drill changes nothing but runs a server for minutes: asked too */
		if (mut || a == ACTION_BACKUP_DRILL)
			assert_int_equal(v.confirm, POLICY_CONFIRM_YESNO);
		else
			assert_int_equal(v.confirm, POLICY_CONFIRM_NONE);
		if (mut || aud) {
			/* a rule of its own: a verb, a title naming the target, a plan */
			assert_string_not_equal(v.verb, "Confirm");
			assert_non_null(strstr(v.title, "api"));
			assert_non_null(strstr(v.title, "staging"));
			assert_true(v.n_plan >= 1);
		}
	}
	/* the Railway actions, pg-cancel and the backups' are all in the table,
	 * and gated */
	assert_int_equal(mutating, 16);
	assert_int_equal(audited, 2);
	assert_true(action_has(ACTION_SCALE, ACTION_F_MUTATING));
	assert_true(action_has(ACTION_VAR_REVEAL, ACTION_F_AUDITED));
	assert_false(action_has(ACTION_REFRESH, ACTION_F_MUTATING | ACTION_F_AUDITED));
	assert_false(action_is_gated(ACTION_NONE));
	/* out of the table: refused */
	sample_req(&r, ACTION_COUNT, "staging");
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_string_equal(v.reason, "unknown action");
	policy_free(&ro);
}

/* Default keys follow DESIGN section 4, and remaps cannot break it. */
static void
test_keys_of_changes(void **state)
{
	struct keymap *km = keymap_new();
	struct err e;
	int a;

	(void)state;
	for (a = 1; a < ACTION_COUNT; a++) {
		const struct action_info *ai = action_info((enum action)a);
		char keys[64], *tok, *save = NULL;
		uint32_t k;

		snprintf(keys, sizeof keys, "%s", ai->keys);
		for (tok = strtok_r(keys, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			assert_int_equal(keymap_parse_key(tok, &k), 0);
			assert_int_equal(keymap_check_binding(k, ai->id, &e), 0);
			if (ai->flags & ACTION_F_MUTATING) {
				/* a Shift-letter of the left hand: not next to h j k l g */
				assert_non_null(strchr("QWERASDZXC", (int)k));
				assert_string_not_equal(ai->scope, "global");
			}
		}
		/* the default key of one pane never shadows a global one */
		if (strcmp(ai->scope, "global") != 0 && ai->keys[0] != '\0') {
			assert_int_equal(keymap_parse_key(ai->keys, (uint32_t *)&k), 0);
			assert_int_equal(keymap_lookup(km, "no-such-pane", k), ACTION_NONE);
		}
	}
	assert_int_equal(keymap_lookup(km, "deployments", 'D'), ACTION_DEPLOY);
	assert_int_equal(keymap_lookup(km, "deployments", 'R'), ACTION_ROLLBACK);
	assert_int_equal(keymap_lookup(km, "deployments", 'X'), ACTION_RESTART);
	assert_int_equal(keymap_lookup(km, "replicas", 'S'), ACTION_SCALE);
	assert_int_equal(keymap_lookup(km, "vars", 'E'), ACTION_VAR_REVEAL);
	assert_int_equal(keymap_lookup(km, "health", 'r'), ACTION_REFRESH);
	/* changes are not bound outside their pane */
	assert_int_equal(keymap_lookup(km, "health", 'D'), ACTION_NONE);
	/* remaps: only Shift-letters away from G H J K L */
	assert_int_equal(keymap_bind_names(km, "deployments", "d", "deploy", &e), -1);
	assert_non_null(strstr(e.msg, "cannot be bound to d"));
	assert_int_equal(keymap_bind_names(km, "deployments", "C-d", "deploy", &e), -1);
	assert_int_equal(keymap_bind_names(km, "deployments", "M-D", "deploy", &e), -1);
	assert_int_equal(keymap_bind_names(km, "deployments", "G", "rollback", &e), -1);
	assert_int_equal(keymap_bind_names(km, "deployments", "Enter", "deploy", &e), -1);
	assert_int_equal(keymap_bind_names(km, "deployments", "1", "stop", &e), -1);
	assert_int_equal(keymap_bind_names(km, "vars", "d", "var-delete", &e), -1);
	assert_int_equal(keymap_lookup(km, "deployments", 'd'), ACTION_NONE);
	assert_int_equal(keymap_bind_names(km, "deployments", "W", "redeploy", &e), 0);
	assert_int_equal(keymap_lookup(km, "deployments", 'W'), ACTION_REDEPLOY);
	/* unbinding is always allowed; reveal changes nothing and may move */
	assert_int_equal(keymap_bind_names(km, "deployments", "D", "none", &e), 0);
	assert_int_equal(keymap_bind_names(km, "vars", "v", "var-reveal", &e), 0);
	keymap_free(&km);
}

/* --- guards --------------------------------------------------------------- */

static void
test_scale_guards(void **state)
{
	struct fixture *f = *state;
	struct policy_verdict v;
	struct policy_req r;

	sample_req(&r, ACTION_SCALE, "staging");
	r.from = 2;
	r.to = 5;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_string_equal(v.title, "Scale api in staging");
	assert_string_equal(v.verb, "Scale");
	assert_string_equal(v.plan[0], "api: 2 → 5 replicas in us-west2");
	assert_int_equal(v.n_warnings, 0);
	assert_false(v.confirm_twice);
	/* more than 10x warns */
	r.to = 21;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_int_equal(v.n_warnings, 1);
	assert_string_equal(v.warnings[0], "2 → 21 is more than 10× at once: check the "
	    "cost and what api connects to (database connection limits)");
	r.to = 20;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_int_equal(v.n_warnings, 0);
	r.from = 0;
	r.to = 11;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_int_equal(v.n_warnings, 1);
	/* 0 is confirmed twice */
	r.from = 3;
	r.to = 0;
	r.region = NULL;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_true(v.confirm_twice);
	assert_string_equal(v.plan[0], "api: 3 → 0 replicas");
	assert_string_equal(v.warnings[0], "api will have no replica: it serves "
	    "nothing there");
	assert_string_equal(v.second, "Really scale api to 0?");
	/* refusals in words */
	r.to = 3;
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_string_equal(v.reason, "api already has 3 replicas: nothing to change");
	r.to = -1;
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_non_null(strstr(v.reason, "0 or more"));
	r.to = 4;
	r.from = -1;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_string_equal(v.plan[0], "api: ? → 4 replicas");
	r.target = NULL;
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_string_equal(v.reason, "no service selected (select one, or give it: "
	    ":scale SERVICE)");
}

static void
test_other_guards(void **state)
{
	struct fixture *f = *state;
	static const char *const undone[] = { "undoing v3 (3f2a1c, 20m ago by bob)",
		"undoing v2 (9e8d7c, 2h ago by carol)" };
	struct policy_verdict v;
	struct policy_req r;

	sample_req(&r, ACTION_ROLLBACK, "production");
	r.before = "v3 (3f2a1c)";
	r.after = "v1 (77aa01)";
	r.plan = undone;
	r.n_plan = 2;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_int_equal(v.confirm, POLICY_CONFIRM_TYPED);
	assert_string_equal(v.plan[0], "roll api back to v1 (77aa01)");
	assert_string_equal(v.plan[1], "api: v3 (3f2a1c) → v1 (77aa01)");
	assert_string_equal(v.plan[2], undone[0]);
	assert_string_equal(v.plan[3], undone[1]);
	assert_non_null(strstr(v.warnings[0], "variables go back"));
	/* stop is scale-to-0 for every region: twice */
	sample_req(&r, ACTION_STOP, "staging");
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_true(v.confirm_twice);
	/* variables */
	sample_req(&r, ACTION_VAR_SET, "staging");
	r.skip_deploys = 1;
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	/* the plan shows the value's length and fingerprint, never the value */
	assert_non_null(strstr(v.plan[0], "set DATABASE_URL of api to a new value "
	    "(32 bytes, fingerprint "));
	assert_null(strstr(v.plan[0], "hunter2"));
	assert_non_null(strstr(v.plan[1], "staged"));
	r.var = "9LIVES";
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_non_null(strstr(v.reason, "not a variable name"));
	r.var = "OK_NAME";
	r.value = NULL;
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_non_null(strstr(v.reason, "no value"));
	sample_req(&r, ACTION_VAR_DELETE, "staging");
	r.var = "";
	assert_int_equal(policy_check(f->p, &r, &v), -1);
	assert_string_equal(v.reason, "no variable selected (:var-delete NAME)");
	sample_req(&r, ACTION_VAR_REVEAL, "staging");
	assert_int_equal(policy_check(f->p, &r, &v), 0);
	assert_int_equal(v.confirm, POLICY_CONFIRM_NONE);
	assert_string_equal(v.title, "Reveal DATABASE_URL of api in staging");
}

/* --- tickets -------------------------------------------------------------- */

static void
test_ticket_life(void **state)
{
	struct fixture *f = *state;
	struct policy_answer ans = { 1, "production", "incident 42" };
	struct policy_ticket t, copy;
	struct policy_req r;
	struct err e;
	cJSON **l;
	size_t n;

	sample_req(&r, ACTION_SCALE, "production");
	/* the answer must fit the verdict */
	assert_int_equal(policy_issue(f->p, &r, NULL, &t, &e), -1);
	assert_string_equal(e.msg, "not confirmed");
	ans.typed = "Production";
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), -1);
	assert_string_equal(e.msg, "the environment's name was not typed exactly (type "
	    "production)");
	ans.typed = "production";
	ans.reason = "   ";
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), -1);
	assert_non_null(strstr(e.msg, "a reason is required"));
	assert_int_equal(t.serial, 0);
	ans.reason = "incident 42";
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), 0);
	assert_true(t.serial != 0);
	assert_int_equal(policy_outstanding(f->p), 1);
	/* the provider layer presents it: once */
	copy = t;
	assert_int_equal(policy_redeem(f->p, &t, &r, &e), 0);
	assert_int_equal(policy_redeem(f->p, &copy, &r, &e), -1);
	assert_non_null(strstr(e.msg, "used already"));
	fake_now += 812;
	assert_int_equal(policy_done(f->p, &t, 1, NULL, "5 replicas"), 0);
	assert_int_equal(policy_outstanding(f->p), 0);
	assert_int_equal(policy_done(f->p, &t, 1, NULL, NULL), -1);
	assert_int_equal(policy_violations(f->p), 1);

	/* the trail: three refusals of the answer, allowed, ok */
	l = audit_lines(f, &n);
	assert_int_equal(n, 5);
	assert_string_equal(field(l[0], "result"), "refused");
	assert_string_equal(field(l[0], "error"), "not confirmed");
	assert_string_equal(field(l[3], "result"), "allowed");
	assert_string_equal(field(l[3], "reason"), "incident 42");
	assert_string_equal(field(l[3], "operator"), "alice");
	assert_string_equal(field(l[3], "ssh_client"), "10.0.0.7");
	assert_string_equal(field(l[3], "project"), "acme");
	assert_string_equal(field(l[3], "environment"), "production");
	assert_string_equal(field(l[3], "target"), "api");
	assert_string_equal(field(l[3], "action"), "scale");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(l[3], "duration_ms")));
	assert_string_equal(field(cJSON_GetObjectItem(l[3], "params"), "region"), "us-west2");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(l[3], "params"),
	    "from")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(l[3], "params"),
	    "to")->valueint, 3);
	assert_string_equal(field(cJSON_GetObjectItem(l[3], "params"), "target_id"),
	    "srv-7f3a");
	assert_string_equal(field(l[4], "result"), "ok");
	assert_string_equal(field(l[4], "after"), "5 replicas");
	assert_string_equal(field(l[4], "reason"), "incident 42");
	assert_int_equal(cJSON_GetObjectItem(l[4], "duration_ms")->valueint, 812);
	free_lines(l, n);
}

/* Nothing but an unused ticket issued for exactly this request gets a
 * provider called: the proof that no code path skips the policy. */
static void
test_tickets_cannot_be_made_up(void **state)
{
	struct fixture *f = *state;
	struct policy_answer ans = { 1, NULL, NULL };
	struct policy *other = make_policy(f, 0);
	struct policy_ticket t, bad;
	struct policy_req r, r2;
	struct err e;
	char *text;

	sample_req(&r, ACTION_RESTART, "staging");
	/* no ticket, a zero one, a guessed one */
	assert_int_equal(policy_redeem(f->p, NULL, &r, &e), -1);
	memset(&bad, 0, sizeof bad);
	assert_int_equal(policy_redeem(f->p, &bad, &r, &e), -1);
	bad.serial = 1;
	bad.mac = 42;
	assert_int_equal(policy_redeem(f->p, &bad, &r, &e), -1);
	assert_non_null(strstr(e.msg, "restart was not sent"));
	/* a real one, altered */
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), 0);
	bad = t;
	bad.mac ^= 1;
	assert_int_equal(policy_redeem(f->p, &bad, &r, &e), -1);
	assert_non_null(strstr(e.msg, "forged"));
	/* for another request */
	r2 = r;
	r2.target = "worker";
	assert_int_equal(policy_redeem(f->p, &t, &r2, &e), -1);
	assert_non_null(strstr(e.msg, "different request"));
	r2 = r;
	r2.action = ACTION_STOP;
	assert_int_equal(policy_redeem(f->p, &t, &r2, &e), -1);
	/* from another policy (another console) */
	assert_int_equal(policy_redeem(other, &t, &r, &e), -1);
	assert_int_equal(policy_violations(f->p), 6);
	/* still good for its own request */
	assert_int_equal(policy_redeem(f->p, &t, &r, &e), 0);
	assert_int_equal(policy_done(f->p, &t, 0, "Deployment not found", NULL), 0);
	/* no ticket for what the policy refuses, or does not gate */
	sample_req(&r, ACTION_SCALE, "observers");
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), -1);
	assert_non_null(strstr(e.msg, "refused: environment 'observers' is read-only"));
	sample_req(&r, ACTION_QUIT, "staging");
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), -1);
	text = file_text(f);
	assert_non_null(strstr(text, "\"result\":\"failed\",\"error\":\"Deployment not "
	    "found\""));
	assert_null(strstr(text, "\"result\":\"ok\""));
	free(text);
	policy_free(&other);
}

/* Confirm twice means two confirmations. */
static void
test_twice(void **state)
{
	struct fixture *f = *state;
	struct policy_answer ans = { 1, NULL, NULL };
	struct policy_ticket t;
	struct policy_req r;
	struct err e;

	sample_req(&r, ACTION_SCALE, "staging");
	r.to = 0;
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), -1);
	assert_string_equal(e.msg, "not confirmed twice");
	ans.confirmations = 2;
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), 0);
	assert_int_equal(policy_redeem(f->p, &t, &r, &e), 0);
	assert_int_equal(policy_done(f->p, &t, 1, NULL, NULL), 0);
}

/* A confirmed action nobody carried out expires, and one still in flight
 * when signalbox stops is recorded as unknown. */
static void
test_expiry_and_shutdown(void **state)
{
	struct fixture *f = *state;
	struct policy_answer ans = { 1, NULL, NULL };
	struct policy_ticket t, t2;
	struct policy_req r;
	struct err e;
	char *text;

	sample_req(&r, ACTION_DEPLOY, "staging");
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), 0);
	fake_now += 121000;
	assert_int_equal(policy_redeem(f->p, &t, &r, &e), -1);
	assert_int_equal(policy_outstanding(f->p), 0);
	text = file_text(f);
	assert_non_null(strstr(text, "\"error\":\"confirmed but not carried out within "
	    "120 s\""));
	free(text);
	assert_int_equal(policy_issue(f->p, &r, &ans, &t2, &e), 0);
	assert_int_equal(policy_redeem(f->p, &t2, &r, &e), 0);
	policy_free(&f->p);
	text = file_text(f);
	assert_non_null(strstr(text, "\"result\":\"failed\",\"error\":\"outcome unknown: "
	    "signalbox stopped before the provider answered\""));
	free(text);
}

/* --- audit ---------------------------------------------------------------- */

static void
test_refusals_and_cancels_are_audited(void **state)
{
	struct fixture *f = *state;
	struct policy *ro = make_policy(f, 1);
	struct policy_answer ans = { 0, "produ", "changed my mind" };
	struct policy_verdict v;
	struct policy_req r;
	cJSON **l;
	size_t n;

	sample_req(&r, ACTION_ROLLBACK, "production");
	assert_int_equal(policy_submit(ro, &r, &v), -1);
	assert_int_equal(policy_submit(f->p, &r, &v), 0);
	policy_cancel(f->p, &r, &ans);
	policy_refuse(f->p, &r, "another confirmation is open");
	/* actions the policy does not gate leave no trace */
	sample_req(&r, ACTION_MOVE_DOWN, "production");
	assert_int_equal(policy_submit(ro, &r, &v), 0);
	policy_cancel(f->p, &r, NULL);
	l = audit_lines(f, &n);
	assert_int_equal(n, 3);
	assert_string_equal(field(l[0], "result"), "refused");
	assert_string_equal(field(l[0], "error"), "read-only mode (--read-only): "
	    "rollback changes production");
	assert_string_equal(field(l[0], "action"), "rollback");
	assert_string_equal(field(l[1], "result"), "cancelled");
	assert_string_equal(field(l[1], "reason"), "changed my mind");
	assert_string_equal(field(l[2], "error"), "another confirmation is open");
	free_lines(l, n);
	policy_free(&ro);
}

/* The value of var-set never reaches the log, in any line. */
static void
test_secret_never_logged(void **state)
{
	struct fixture *f = *state;
	struct policy_answer ans = { 1, "production", "rotate after leak" };
	struct policy_param extra[] = { { "old_value", "correct horse battery", 1 },
		{ "source", "service", 0 } };
	struct policy_ticket t;
	struct policy_verdict v;
	struct policy_req r;
	char fp[AUDIT_FP_LEN + 1], *text;
	struct err e;
	cJSON **l, *val;
	size_t n;

	sample_req(&r, ACTION_VAR_SET, "production");
	r.params = extra;
	r.n_params = 2;
	assert_int_equal(policy_submit(f->p, &r, &v), 0);
	policy_cancel(f->p, &r, NULL);
	assert_int_equal(policy_issue(f->p, &r, &ans, &t, &e), 0);
	assert_int_equal(policy_redeem(f->p, &t, &r, &e), 0);
	assert_int_equal(policy_done(f->p, &t, 1, NULL, NULL), 0);
	r.env = "observers";
	assert_int_equal(policy_submit(f->p, &r, &v), -1);
	text = file_text(f);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "postgres://"));
	assert_null(strstr(text, "horse"));
	free(text);
	l = audit_lines(f, &n);
	assert_int_equal(n, 4);
	audit_fingerprint(r.value, strlen(r.value), fp);
	val = cJSON_GetObjectItem(cJSON_GetObjectItem(l[2], "params"), "value");
	assert_string_equal(field(val, "fingerprint"), fp);
	assert_int_equal(cJSON_GetObjectItem(val, "length")->valueint, (int)strlen(r.value));
	assert_string_equal(field(cJSON_GetObjectItem(l[2], "params"), "name"),
	    "DATABASE_URL");
	assert_string_equal(field(cJSON_GetObjectItem(l[2], "params"), "source"),
	    "service");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(l[2], "params"), "old_value"), "secret")));
	free_lines(l, n);
}

/* A tool that cannot audit must not act: every gated action is refused,
 * with the reason, before any dialog; the rest still works. */
static void
test_unwritable_audit_refuses(void **state)
{
	struct fixture *f = *state;
	struct policy_answer ans = { 2, NULL, NULL };
	struct policy_opts o;
	struct policy_verdict v;
	struct policy_ticket t;
	struct policy_req r;
	struct policy *p;
	struct audit *bad;
	char path[400];
	struct err e;
	FILE *fp;
	int a;

	snprintf(path, sizeof path, "%s/file", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/file/audit.jsonl", f->dir);
	bad = audit_open(path, 1);
	memset(&o, 0, sizeof o);
	o.cfg = &f->cfg;
	o.audit = bad;
	p = policy_new(&o);
	for (a = 1; a < ACTION_COUNT; a++) {
		sample_req(&r, (enum action)a, "staging");
		if (action_is_gated((enum action)a)) {
			assert_int_equal(policy_submit(p, &r, &v), -1);
			assert_non_null(strstr(v.reason, "cannot write the audit log"));
			assert_non_null(strstr(v.reason, "refusing to act"));
			assert_int_equal(policy_issue(p, &r, &ans, &t, &e), -1);
			if (strstr(e.msg, "cannot write the audit log") == NULL)
				fail_msg("%s: %s", action_info((enum action)a)->name, e.msg);
			assert_int_equal(t.serial, 0);
		} else {
			assert_int_equal(policy_submit(p, &r, &v), 0);
		}
	}
	policy_free(&p);
	/* no audit at all: the same */
	o.audit = NULL;
	p = policy_new(&o);
	sample_req(&r, ACTION_VAR_REVEAL, "staging");
	assert_int_equal(policy_submit(p, &r, &v), -1);
	assert_non_null(strstr(v.reason, "no audit log"));
	policy_free(&p);
	audit_free(&bad);
}

static void
test_req_dup(void **state)
{
	static const char *const plan[] = { "one", "two" };
	struct policy_param params[] = { { "k", "v", 0 }, { "s", "secret", 1 } };
	struct policy_req r, *d;

	(void)state;
	sample_req(&r, ACTION_VAR_SET, "staging");
	r.plan = plan;
	r.n_plan = 2;
	r.params = params;
	r.n_params = 2;
	r.before = "before";
	d = policy_req_dup(&r);
	assert_ptr_not_equal(d->target, r.target);
	assert_string_equal(d->target, "api");
	assert_string_equal(d->value, r.value);
	assert_string_equal(d->plan[1], "two");
	assert_string_equal(d->params[1].value, "secret");
	assert_int_equal(d->params[1].secret, 1);
	assert_int_equal(d->from, 2);
	assert_null(d->after);
	policy_req_free(&d);
	assert_null(d);
	policy_req_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_action, setup, teardown),
		cmocka_unit_test(test_keys_of_changes),
		cmocka_unit_test_setup_teardown(test_scale_guards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_guards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ticket_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tickets_cannot_be_made_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_and_cancels_are_audited, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_secret_never_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_audit_refuses, setup, teardown),
		cmocka_unit_test(test_req_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
