/* policy.c - the one decision for gated actions, tickets and their audit.
 *
 * policy_check is the only place that says yes or no to an action that
 * changes production or reveals a secret; everything else here records
 * what it said (audit) and makes sure a provider is only called with a
 * ticket it handed out (policy_redeem).  See policy.h for the life of an
 * action.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "signalbox/audit.h"
#include "signalbox/config.h"
#include "signalbox/diag.h"
#include "signalbox/policy.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define POLICY_TTL_MS 120000
#define POLICY_MAX_AUDIT_PARAMS 24

/* A request as the audit log sees it: owned copies, secrets already
 * reduced to length + fingerprint. */
struct policy_saved {
	enum action action;
	char *env, *target, *before, *after, *reason;
	struct audit_param params[POLICY_MAX_AUDIT_PARAMS];
	size_t n_params;
};

struct policy_slot {
	uint64_t serial, mac, digest;
	int in_flight;
	int64_t issued_ms, redeemed_ms;
	struct policy_saved *saved;
};

struct policy {
	struct policy_opts o;
	char operator_name[64];
	char ssh_client[64];
	char *project;
	uint64_t nonce;
	uint64_t next_serial;
	struct policy_slot *slots;
	size_t n_slots, cap_slots;
	unsigned long violations;
};

/* --- environments -------------------------------------------------------- */

static const char *
policy_env_name(const struct policy *p, const char *env)
{
	if (env != NULL && *env != '\0')
		return env;
	if (p->o.cfg != NULL && p->o.cfg->environment != NULL)
		return p->o.cfg->environment;
	return "production";
}

int
policy_env_protected(const struct policy *p, const char *env)
{
	const struct config_environment *ce;

	if (p->o.cfg == NULL)
		return 1;
	ce = config_env(p->o.cfg, policy_env_name(p, env));
	/* an environment the config does not describe is treated as protected */
	return ce == NULL ? 1 : ce->protected_env;
}

int
policy_env_read_only(const struct policy *p, const char *env)
{
	const struct config_environment *ce;

	if (p->o.read_only)
		return 1;
	ce = p->o.cfg != NULL ? config_env(p->o.cfg, policy_env_name(p, env)) : NULL;
	return ce != NULL && ce->read_only;
}

/* --- the decision -------------------------------------------------------- */

static int policy_refuse_v(struct policy_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
policy_refuse_v(struct policy_verdict *v, const char *fmt, ...)
{
	va_list ap;

	v->decision = POLICY_REFUSE;
	v->confirm = POLICY_CONFIRM_NONE;
	v->confirm_twice = 0;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);
	return -1;
}

static void policy_plan(struct policy_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
policy_plan(struct policy_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n_plan >= POLICY_MAX_PLAN)
		return;
	va_start(ap, fmt);
	vsnprintf(v->plan[v->n_plan++], POLICY_LINE, fmt, ap);
	va_end(ap);
}

static void policy_warn(struct policy_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
policy_warn(struct policy_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n_warnings >= POLICY_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(v->warnings[v->n_warnings++], POLICY_LINE, fmt, ap);
	va_end(ap);
}

static int
policy_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* A name a process environment can carry: [A-Za-z_][A-Za-z0-9_]*. */
static int
policy_var_name_ok(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static const char *
policy_verb(enum action a)
{
	switch (a) {
	case ACTION_DEPLOY: return "Deploy";
	case ACTION_REDEPLOY: return "Redeploy";
	case ACTION_RESTART: return "Restart";
	case ACTION_STOP: return "Stop";
	case ACTION_ROLLBACK: return "Roll back";
	case ACTION_SCALE: return "Scale";
	case ACTION_VAR_REVEAL: return "Reveal";
	case ACTION_VAR_SET: return "Set";
	case ACTION_VAR_DELETE: return "Delete";
	case ACTION_PG_CANCEL: return "Send cancel";
	case ACTION_BACKUP_TAKE: return "Back up";
	case ACTION_BACKUP_DRILL: return "Run drill";
	case ACTION_BACKUP_RESTORE: return "Restore";
	case ACTION_VOLUME_BACKUP: return "Back up";
	case ACTION_VOLUME_RESTORE: return "Restore";
	case ACTION_VOLUME_SCHEDULE: return "Schedule";
	case ACTION_FLAG_SET: return "Set flag";
	case ACTION_FLAG_KILL: return "Turn all off";
	default: return NULL;
	}
}

/* " (deployment 3f2a1c)" or "". */
static void
policy_dep(char *buf, size_t len, const char *dep)
{
	if (policy_empty(dep))
		buf[0] = '\0';
	else
		snprintf(buf, len, " (deployment %.40s)", dep);
}

/* The action's own guards and its plan.  -1 when it refuses. */
static int
policy_guard(const struct policy_req *r, struct policy_verdict *v)
{
	const char *name = action_info(r->action)->name, *t = r->target;
	char dep[64], in_region[80] = "", fp[AUDIT_FP_LEN + 1];

	if (policy_empty(t))
		return policy_refuse_v(v, "no service selected (select one, or give it: "
		    ":%s SERVICE)", name);
	policy_dep(dep, sizeof dep, r->deployment);
	switch (r->action) {
	case ACTION_DEPLOY:
		snprintf(v->title, sizeof v->title, "Deploy %.60s in %s", t, v->env);
		policy_plan(v, "deploy the latest source of %s%s", t, dep);
		if (r->before != NULL || r->after != NULL)
			policy_plan(v, "%s: %s → %s", t, r->before ? r->before : "?",
			    r->after ? r->after : "latest");
		break;
	case ACTION_REDEPLOY:
		snprintf(v->title, sizeof v->title, "Redeploy %.60s in %s", t, v->env);
		policy_plan(v, "redeploy the active deployment of %s%s with the current "
		    "variables", t, dep);
		break;
	case ACTION_RESTART:
		snprintf(v->title, sizeof v->title, "Restart %.60s in %s", t, v->env);
		policy_plan(v, "restart every replica of %s%s", t, dep);
		break;
	case ACTION_STOP:
		snprintf(v->title, sizeof v->title, "Stop %.60s in %s", t, v->env);
		policy_plan(v, "stop %s%s: it serves nothing until the next deploy", t, dep);
		policy_warn(v, "%s stops serving in %s", t, v->env);
		v->confirm_twice = 1;
		snprintf(v->second, sizeof v->second, "Really stop %.60s in %s? It will "
		    "serve nothing until the next deploy.", t, v->env);
		break;
	case ACTION_ROLLBACK:
		snprintf(v->title, sizeof v->title, "Roll back %.60s in %s", t, v->env);
		policy_plan(v, "roll %s back to %s", t, r->after != NULL ? r->after :
		    !policy_empty(r->deployment) ? r->deployment :
		    "the previous successful deployment");
		if (r->before != NULL)
			policy_plan(v, "%s: %s → %s", t, r->before, r->after ? r->after : "?");
		policy_warn(v, "the variables go back to their values at that deployment");
		break;
	case ACTION_SCALE:
		if (r->to < 0)
			return policy_refuse_v(v, "the replica count must be 0 or more "
			    "(:scale SERVICE N [REGION])");
		if (!policy_empty(r->region))
			snprintf(in_region, sizeof in_region, " in %.60s", r->region);
		if (r->from == r->to)
			return policy_refuse_v(v, "%s already has %d replica%s%s: nothing "
			    "to change", t, r->to, r->to == 1 ? "" : "s", in_region);
		snprintf(v->title, sizeof v->title, "Scale %.60s in %s", t, v->env);
		if (r->from >= 0)
			policy_plan(v, "%s: %d → %d replica%s%s", t, r->from, r->to,
			    r->to == 1 ? "" : "s", in_region);
		else
			policy_plan(v, "%s: ? → %d replica%s%s", t, r->to,
			    r->to == 1 ? "" : "s", in_region);
		if (r->to == 0) {
			policy_warn(v, "%s will have no replica%s: it serves nothing there",
			    t, in_region);
			v->confirm_twice = 1;
			snprintf(v->second, sizeof v->second, "Really scale %.60s to 0%s?",
			    t, in_region);
		} else if ((r->from > 0 && r->to > r->from * POLICY_JUMP_FACTOR) ||
		    (r->from == 0 && r->to > POLICY_JUMP_FACTOR)) {
			policy_warn(v, "%d → %d is more than %d× at once: check the cost and "
			    "what %s connects to (database connection limits)", r->from,
			    r->to, POLICY_JUMP_FACTOR, t);
		}
		break;
	case ACTION_VAR_REVEAL:
	case ACTION_VAR_SET:
	case ACTION_VAR_DELETE:
		if (policy_empty(r->var))
			return policy_refuse_v(v, "no variable selected (:%s NAME%s)", name,
			    r->action == ACTION_VAR_SET ? " VALUE" : "");
		snprintf(v->title, sizeof v->title, "%s %.60s of %.40s in %s",
		    policy_verb(r->action), r->var, t, v->env);
		if (r->action == ACTION_VAR_REVEAL) {
			policy_plan(v, "show the value of %s (%s) on this screen", r->var, t);
			policy_plan(v, "the reveal is recorded in the audit log");
		} else if (r->action == ACTION_VAR_DELETE) {
			policy_plan(v, "delete %s of %s", r->var, t);
			if (r->before != NULL)
				policy_plan(v, "was: %s", r->before);
			policy_plan(v, "%s keeps the old value until its next deploy", t);
		} else {
			if (r->value == NULL)
				return policy_refuse_v(v, "no value for %s (:var-set NAME VALUE)",
				    r->var);
			if (!policy_var_name_ok(r->var))
				return policy_refuse_v(v, "'%.60s' is not a variable name (letters, "
				    "digits and _, not starting with a digit)", r->var);
			audit_fingerprint(r->value, strlen(r->value), fp);
			policy_plan(v, "set %s of %s to a new value (%zu bytes, fingerprint %s)",
			    r->var, t, strlen(r->value), fp);
			if (r->before != NULL)
				policy_plan(v, "was: %s", r->before);
			if (r->skip_deploys)
				policy_plan(v, "staged: %s keeps the old value until its next "
				    "deploy", t);
			else
				policy_plan(v, "%s redeploys to pick it up", t);
		}
		break;
	case ACTION_PG_CANCEL:
		if (policy_empty(r->target_id))
			return policy_refuse_v(v, "no query selected (select one, or give "
			    "its backend: :pg-cancel PID)");
		snprintf(v->title, sizeof v->title, "Cancel query %.16s on %.60s in %s",
		    r->target_id, t, v->env);
		policy_plan(v, "ask %s to cancel the query of backend %s "
		    "(pg_cancel_backend)", t, r->target_id);
		if (r->before != NULL)
			policy_plan(v, "now: %s", r->before);
		policy_warn(v, "the statement fails with an error; an open transaction "
		    "must be rolled back by its client");
		break;
	case ACTION_BACKUP_TAKE: {
		const char *type = policy_empty(r->after) ? "full" : r->after;

		if (strcmp(type, "full") != 0 && strcmp(type, "diff") != 0 &&
		    strcmp(type, "incr") != 0)
			return policy_refuse_v(v, "the backup type must be full, diff or incr "
			    "(:backup incr)");
		snprintf(v->title, sizeof v->title, "Take a %s backup of %.60s in %s",
		    type, t, v->env);
		policy_plan(v, "pgbackrest backup --type=%s of stanza %s", type, t);
		if (r->before != NULL)
			policy_plan(v, "newest now: %s", r->before);
		policy_warn(v, "it reads %s of the server's data files: I/O load while it runs",
		    strcmp(type, "full") == 0 ? "every one" : "the changed ones");
		break;
	}
	case ACTION_BACKUP_RESTORE: {
		const char *what = !policy_empty(r->after) ? r->after : "the newest backup";

		snprintf(v->title, sizeof v->title, "Restore %.60s over %.40s in %s", what, t,
		    v->env);
		policy_plan(v, "stop the PostgreSQL server of stanza %s", t);
		policy_plan(v, "pgbackrest restore --delta of %s into its data directory", what);
		policy_plan(v, "start it again; it recovers to that point and promotes");
		if (r->before != NULL)
			policy_plan(v, "now: %s", r->before);
		policy_warn(v, "everything written after %s is lost", what);
		policy_warn(v, "the server is down until the restore and recovery are done");
		v->confirm_twice = 1;
		snprintf(v->second, sizeof v->second, "Really overwrite %.30s in %.30s with %.50s? "
		    "Every change written after it is lost.", t, v->env, what);
		break;
	}
	case ACTION_VOLUME_BACKUP:
		snprintf(v->title, sizeof v->title, "Back up the volume of %.60s in %s", t, v->env);
		policy_plan(v, "create a backup of the volume of %s%s%s", t,
		    !policy_empty(r->after) ? " named " : "", !policy_empty(r->after) ? r->after : "");
		break;
	case ACTION_VOLUME_RESTORE: {
		/* target_id: the volume backup's id; after: it in words */
		const char *what = !policy_empty(r->after) ? r->after : r->target_id;

		if (policy_empty(r->target_id))
			return policy_refuse_v(v, "no volume backup selected (:volume-restore "
			    "BACKUP-ID)");
		snprintf(v->title, sizeof v->title, "Restore the volume of %.60s in %s", t, v->env);
		policy_plan(v, "stage the restore of volume backup %s, then commit it: %s "
		    "redeploys on the restored volume", what, t);
		if (r->before != NULL)
			policy_plan(v, "now: %s", r->before);
		policy_warn(v, "what was written to the volume after that backup is lost");
		v->confirm_twice = 1;
		snprintf(v->second, sizeof v->second, "Really replace the volume of %.40s in %.30s "
		    "with backup %.50s?", t, v->env, what);
		break;
	}
	case ACTION_VOLUME_SCHEDULE:
		snprintf(v->title, sizeof v->title, "Set the volume backup schedule of %.60s in %s",
		    t, v->env);
		policy_plan(v, "%s: %s → %s", t, r->before != NULL ? r->before : "?",
		    !policy_empty(r->after) ? r->after : "none");
		if (policy_empty(r->after) || strcmp(r->after, "none") == 0)
			policy_warn(v, "no scheduled backups of this volume from now on");
		break;
	case ACTION_FLAG_SET:
		/* target: the flag; before/after: its state in words; target_id:
		 * where it is stored */
		snprintf(v->title, sizeof v->title, "Set flag %.60s in %s", t, v->env);
		policy_plan(v, "%s: %s → %s", t, r->before != NULL ? r->before : "?",
		    !policy_empty(r->after) ? r->after : "?");
		if (!policy_empty(r->target_id))
			policy_plan(v, "written to %s only if it still is what was read "
			    "(compare-and-set)", r->target_id);
		else
			policy_plan(v, "written only if it still is what was read "
			    "(compare-and-set)");
		break;
	case ACTION_FLAG_KILL:
		/* target: the flag store ("flags:production"); before: the flags on */
		snprintf(v->title, sizeof v->title, "Turn off every flag of %.60s in %s", t,
		    v->env);
		policy_plan(v, "set every flag of %s off (kill switch), each "
		    "compare-and-set", t);
		if (r->before != NULL)
			policy_plan(v, "on now: %s", r->before);
		policy_warn(v, "every flagged code path in %s stops at once", v->env);
		v->confirm_twice = 1;
		snprintf(v->second, sizeof v->second, "Really turn off every flag of %.60s in "
		    "%.40s?", t, v->env);
		break;
	case ACTION_BACKUP_DRILL:
		snprintf(v->title, sizeof v->title, "Restore drill of %.60s of %.40s in %s",
		    !policy_empty(r->after) ? r->after : "the newest backup", t, v->env);
		policy_plan(v, "restore %s of stanza %s into a scratch directory",
		    !policy_empty(r->after) ? r->after : "the newest backup", t);
		policy_plan(v, "start a throw-away PostgreSQL on a loopback port, run the "
		    "checks, then stop it and remove the directory");
		policy_plan(v, "production's data directory and port are not touched");
		break;
	default:
		return policy_refuse_v(v, "%s has no rule in the policy (a bug: every "
		    "gated action needs one)", name);
	}
	return 0;
}

int
policy_check(const struct policy *p, const struct policy_req *req,
    struct policy_verdict *v)
{
	const struct action_info *ai = req != NULL ? action_info(req->action) : NULL;
	const char *env;
	size_t i;

	memset(v, 0, sizeof *v);
	v->decision = POLICY_REFUSE;
	if (ai == NULL)
		return policy_refuse_v(v, "unknown action");
	env = policy_env_name(p, req->env);
	util_strlcpy(v->env, env, sizeof v->env);
	v->protected_env = policy_env_protected(p, env);
	util_strlcpy(v->title, ai->desc, sizeof v->title);
	util_strlcpy(v->verb, "Confirm", sizeof v->verb);
	if (!action_is_gated(req->action)) {
		/* nothing to decide: it changes nothing and reveals nothing */
		v->decision = POLICY_ALLOW;
		return 0;
	}
	if (policy_verb(req->action) != NULL)
		util_strlcpy(v->verb, policy_verb(req->action), sizeof v->verb);
	if (ai->flags & ACTION_F_MUTATING) {
		if (p->o.read_only)
			return policy_refuse_v(v, "read-only mode (--read-only): %s changes "
			    "production", ai->name);
		if (policy_env_read_only(p, env))
			return policy_refuse_v(v, "environment '%.60s' is read-only "
			    "(environments.%.60s.read_only): %s changes it", env, env,
			    ai->name);
	}
	if (policy_guard(req, v) != 0)
		return -1;
	for (i = 0; i < req->n_plan && req->plan != NULL; i++)
		if (req->plan[i] != NULL)
			policy_plan(v, "%s", req->plan[i]);
	if (ai->flags & ACTION_F_MUTATING)
		v->confirm = v->protected_env ? POLICY_CONFIRM_TYPED : POLICY_CONFIRM_YESNO;
	else
		v->confirm = v->protected_env ? POLICY_CONFIRM_YESNO : POLICY_CONFIRM_NONE;
	/* a drill changes nothing, but it runs a server for minutes: asked */
	if (req->action == ACTION_BACKUP_DRILL && v->confirm == POLICY_CONFIRM_NONE)
		v->confirm = POLICY_CONFIRM_YESNO;
	if (v->confirm == POLICY_CONFIRM_NONE)
		v->confirm_twice = 0;
	v->decision = POLICY_ALLOW;
	return 0;
}

/* --- copies ------------------------------------------------------------- */

static char *
policy_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct policy_req *
policy_req_dup(const struct policy_req *r)
{
	struct policy_req *d = xcalloc(1, sizeof *d);
	const char **plan;
	struct policy_param *params;
	size_t i;

	*d = *r;
	d->env = policy_dup(r->env);
	d->target = policy_dup(r->target);
	d->target_id = policy_dup(r->target_id);
	d->deployment = policy_dup(r->deployment);
	d->region = policy_dup(r->region);
	d->var = policy_dup(r->var);
	d->value = policy_dup(r->value);
	d->before = policy_dup(r->before);
	d->after = policy_dup(r->after);
	d->plan = NULL;
	d->n_plan = 0;
	if (r->plan != NULL && r->n_plan > 0) {
		plan = xcalloc(r->n_plan, sizeof *plan);
		for (i = 0; i < r->n_plan; i++)
			plan[i] = policy_dup(r->plan[i]);
		d->plan = plan;
		d->n_plan = r->n_plan;
	}
	d->params = NULL;
	d->n_params = 0;
	if (r->params != NULL && r->n_params > 0) {
		params = xcalloc(r->n_params, sizeof *params);
		for (i = 0; i < r->n_params; i++) {
			params[i].name = policy_dup(r->params[i].name);
			params[i].value = policy_dup(r->params[i].value);
			params[i].secret = r->params[i].secret;
		}
		d->params = params;
		d->n_params = r->n_params;
	}
	return d;
}

/* Free S after overwriting it: secrets do not linger in freed memory. */
static void
policy_wipe_free(const char *s)
{
	volatile char *v = (volatile char *)(uintptr_t)s;

	if (s == NULL)
		return;
	while (*v != '\0')
		*v++ = '\0';
	free((char *)(uintptr_t)s);
}

void
policy_req_free(struct policy_req **rp)
{
	struct policy_req *r;
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	*rp = NULL;
	free((char *)(uintptr_t)r->env);
	free((char *)(uintptr_t)r->target);
	free((char *)(uintptr_t)r->target_id);
	free((char *)(uintptr_t)r->deployment);
	free((char *)(uintptr_t)r->region);
	free((char *)(uintptr_t)r->var);
	policy_wipe_free(r->value);
	free((char *)(uintptr_t)r->before);
	free((char *)(uintptr_t)r->after);
	for (i = 0; i < r->n_plan; i++)
		free((char *)(uintptr_t)r->plan[i]);
	free((void *)(uintptr_t)r->plan);
	for (i = 0; i < r->n_params; i++) {
		free((char *)(uintptr_t)r->params[i].name);
		if (r->params[i].secret)
			policy_wipe_free(r->params[i].value);
		else
			free((char *)(uintptr_t)r->params[i].value);
	}
	free((void *)(uintptr_t)r->params);
	free(r);
}

/* --- the audit of requests ----------------------------------------------- */

static void
policy_saved_param(struct policy_saved *s, const char *name,
    enum audit_param_kind kind, const char *value, int64_t num)
{
	struct audit_param *ap;
	char fp[AUDIT_FP_LEN + 1];

	if (s->n_params >= POLICY_MAX_AUDIT_PARAMS || name == NULL)
		return;
	ap = &s->params[s->n_params++];
	ap->name = xstrdup(name);
	ap->kind = kind;
	ap->num = num;
	ap->value = NULL;
	if (kind == AUDIT_P_SECRET && value != NULL) {
		/* keep only what may be written: never the secret itself */
		audit_fingerprint(value, strlen(value), fp);
		ap->kind = AUDIT_P_REDACTED;
		ap->num = (int64_t)strlen(value);
		ap->value = xstrdup(fp);
	} else if (value != NULL) {
		ap->value = xstrdup(value);
	}
}

static struct policy_saved *
policy_saved_new(const struct policy *p, const struct policy_req *r,
    const char *reason)
{
	struct policy_saved *s = xcalloc(1, sizeof *s);
	size_t i;

	s->action = r->action;
	s->env = xstrdup(policy_env_name(p, r->env));
	s->target = policy_dup(r->target);
	s->before = policy_dup(r->before);
	s->after = policy_dup(r->after);
	s->reason = policy_dup(reason);
	if (!policy_empty(r->target_id))
		policy_saved_param(s, "target_id", AUDIT_P_STRING, r->target_id, 0);
	if (!policy_empty(r->deployment))
		policy_saved_param(s, "deployment", AUDIT_P_STRING, r->deployment, 0);
	if (r->action == ACTION_SCALE) {
		if (!policy_empty(r->region))
			policy_saved_param(s, "region", AUDIT_P_STRING, r->region, 0);
		if (r->from >= 0)
			policy_saved_param(s, "from", AUDIT_P_NUMBER, NULL, r->from);
		policy_saved_param(s, "to", AUDIT_P_NUMBER, NULL, r->to);
	}
	if (!policy_empty(r->var))
		policy_saved_param(s, "name", AUDIT_P_STRING, r->var, 0);
	if (r->action == ACTION_VAR_SET) {
		policy_saved_param(s, "value", AUDIT_P_SECRET, r->value, 0);
		policy_saved_param(s, "skip_deploys", AUDIT_P_BOOL, NULL, r->skip_deploys);
	}
	for (i = 0; r->params != NULL && i < r->n_params; i++)
		policy_saved_param(s, r->params[i].name, r->params[i].secret ?
		    AUDIT_P_SECRET : AUDIT_P_STRING, r->params[i].value, 0);
	return s;
}

static void
policy_saved_free(struct policy_saved **sp)
{
	struct policy_saved *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_params; i++) {
		free((char *)s->params[i].name);
		free((char *)s->params[i].value);
	}
	free(s->env);
	free(s->target);
	free(s->before);
	free(s->after);
	free(s->reason);
	free(s);
	*sp = NULL;
}

static int
policy_audit(struct policy *p, const struct policy_saved *s, enum audit_result res,
    const char *error, int64_t duration_ms, const char *after, struct err *e)
{
	const struct action_info *ai = action_info(s->action);
	struct audit_entry en;
	struct err tmp;

	memset(&en, 0, sizeof en);
	en.operator_name = p->operator_name;
	en.ssh_client = p->ssh_client;
	en.project = p->project;
	en.environment = s->env;
	en.target = s->target;
	en.action = ai != NULL ? ai->name : "unknown";
	en.params = s->params;
	en.n_params = s->n_params;
	en.before = s->before;
	en.after = after != NULL ? after : s->after;
	en.reason = s->reason;
	en.result = res;
	en.error = error;
	en.duration_ms = duration_ms;
	if (e == NULL)
		e = &tmp;
	if (audit_write(p->o.audit, &en, e) != 0) {
		diag_log(DIAG_ERROR, "policy: %s %s not audited: %s", en.action,
		    audit_result_name(res), e->msg);
		return -1;
	}
	return 0;
}

/* Audit REQ once with RES (no ticket involved). */
static int
policy_audit_req(struct policy *p, const struct policy_req *req, const char *reason,
    enum audit_result res, const char *error, struct err *e)
{
	struct policy_saved *s = policy_saved_new(p, req, reason);
	int rc = policy_audit(p, s, res, error, -1, NULL, e);

	policy_saved_free(&s);
	return rc;
}

/* --- tickets ------------------------------------------------------------- */

static int64_t
policy_now(const struct policy *p)
{
	return p->o.clock_ms != NULL ? p->o.clock_ms() : (int64_t)util_now_ms();
}

static uint64_t
policy_fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *c = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= c[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t
policy_fnv_str(uint64_t h, const char *s)
{
	uint64_t len = s != NULL ? strlen(s) : UINT64_MAX;

	h = policy_fnv(h, &len, sizeof len);
	return s != NULL ? policy_fnv(h, s, strlen(s)) : h;
}

static uint64_t
policy_fnv_int(uint64_t h, int64_t v)
{
	return policy_fnv(h, &v, sizeof v);
}

/* What a ticket binds: everything the provider call is made of (not the
 * words describing it). */
static uint64_t
policy_digest(const struct policy *p, const struct policy_req *r)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	h = policy_fnv_int(h, r->action);
	h = policy_fnv_str(h, policy_env_name(p, r->env));
	h = policy_fnv_str(h, r->target);
	h = policy_fnv_str(h, r->target_id);
	h = policy_fnv_str(h, r->deployment);
	h = policy_fnv_str(h, r->region);
	h = policy_fnv_int(h, r->from);
	h = policy_fnv_int(h, r->to);
	h = policy_fnv_str(h, r->var);
	h = policy_fnv_str(h, r->value);
	h = policy_fnv_int(h, r->skip_deploys);
	h = policy_fnv_int(h, (int64_t)r->n_params);
	for (i = 0; r->params != NULL && i < r->n_params; i++) {
		h = policy_fnv_str(h, r->params[i].name);
		h = policy_fnv_str(h, r->params[i].value);
		h = policy_fnv_int(h, r->params[i].secret);
	}
	return h;
}

static uint64_t
policy_mac(const struct policy *p, uint64_t serial, uint64_t digest)
{
	uint64_t h = 14695981039346656037ULL;

	h = policy_fnv(h, &p->nonce, sizeof p->nonce);
	h = policy_fnv(h, &serial, sizeof serial);
	h = policy_fnv(h, &digest, sizeof digest);
	h = policy_fnv(h, &p->nonce, sizeof p->nonce);
	/* finalise (splitmix64) so neighbouring serials differ in every bit */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static struct policy_slot *
policy_slot_find(struct policy *p, uint64_t serial)
{
	size_t i;

	for (i = 0; serial != 0 && i < p->n_slots; i++)
		if (p->slots[i].serial == serial)
			return &p->slots[i];
	return NULL;
}

static void
policy_slot_drop(struct policy *p, struct policy_slot *s)
{
	size_t i = (size_t)(s - p->slots);

	policy_saved_free(&s->saved);
	memmove(&p->slots[i], &p->slots[i + 1], (p->n_slots - i - 1) * sizeof *s);
	p->n_slots--;
}

/* Confirmed actions nobody carried out within the TTL are recorded as
 * such and forgotten. */
static void
policy_expire(struct policy *p)
{
	int64_t now = policy_now(p);
	size_t i = 0;
	char why[128];

	while (i < p->n_slots) {
		struct policy_slot *s = &p->slots[i];

		if (s->in_flight || now - s->issued_ms <= p->o.ticket_ttl_ms) {
			i++;
			continue;
		}
		snprintf(why, sizeof why, "confirmed but not carried out within %lld s",
		    (long long)(p->o.ticket_ttl_ms / 1000));
		policy_audit(p, s->saved, AUDIT_FAILED, why, -1, NULL, NULL);
		policy_slot_drop(p, s);
	}
}

static uint64_t
policy_random64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&v;
	}
	return v;
}

/* --- public -------------------------------------------------------------- */

struct policy *
policy_new(const struct policy_opts *opts)
{
	struct policy *p = xcalloc(1, sizeof *p);
	char user[64], ssh[64];

	p->o = *opts;
	if (p->o.ticket_ttl_ms <= 0)
		p->o.ticket_ttl_ms = POLICY_TTL_MS;
	audit_identity(user, sizeof user, ssh, sizeof ssh);
	util_strlcpy(p->operator_name, opts->operator_name != NULL ?
	    opts->operator_name : user, sizeof p->operator_name);
	util_strlcpy(p->ssh_client, opts->ssh_client != NULL ? opts->ssh_client : ssh,
	    sizeof p->ssh_client);
	p->project = xstrdup(opts->project != NULL ? opts->project :
	    opts->cfg != NULL && opts->cfg->project != NULL ? opts->cfg->project :
	    "signalbox");
	p->nonce = policy_random64();
	/* serials start at a random point: a ticket from an earlier policy
	 * (or a zeroed struct) is never valid */
	p->next_serial = (policy_random64() >> 16) + 1;
	/* the struct's copies are ours; never keep the caller's pointers */
	p->o.operator_name = NULL;
	p->o.ssh_client = NULL;
	p->o.project = NULL;
	return p;
}

void
policy_free(struct policy **pp)
{
	struct policy *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	*pp = NULL;
	while (p->n_slots > 0) {
		struct policy_slot *s = &p->slots[p->n_slots - 1];

		policy_audit(p, s->saved, AUDIT_FAILED, s->in_flight ?
		    "outcome unknown: signalbox stopped before the provider answered" :
		    "confirmed but not carried out: signalbox stopped", -1, NULL, NULL);
		policy_slot_drop(p, s);
	}
	free(p->slots);
	free(p->project);
	free(p);
}

int
policy_submit(struct policy *p, const struct policy_req *req,
    struct policy_verdict *v)
{
	struct err e;

	if (policy_check(p, req, v) != 0) {
		if (action_info(req->action) != NULL)
			policy_audit_req(p, req, NULL, AUDIT_REFUSED, v->reason, NULL);
		return -1;
	}
	if (!action_is_gated(req->action))
		return 0;
	/* say so now, not after the operator typed a reason */
	if (audit_status(p->o.audit, &e) != 0)
		return policy_refuse_v(v, "%.150s: refusing to act", e.msg);
	return 0;
}

static int
policy_answer_ok(const struct policy_verdict *v, const struct policy_answer *a,
    struct err *e)
{
	const char *r;
	int need = v->confirm_twice ? 2 : 1;

	if (v->confirm == POLICY_CONFIRM_NONE)
		return 0;
	if (a == NULL || a->confirmations < need)
		return err_set(e, ERR_INVALID, "not confirmed%s", v->confirm_twice ?
		    " twice" : "");
	if (v->confirm != POLICY_CONFIRM_TYPED)
		return 0;
	if (a->typed == NULL || strcmp(a->typed, v->env) != 0)
		return err_set(e, ERR_INVALID, "the environment's name was not typed "
		    "exactly (type %s)", v->env);
	for (r = a->reason; r != NULL && isspace((unsigned char)*r); r++)
		;
	if (r == NULL || *r == '\0')
		return err_set(e, ERR_INVALID, "a reason is required in the protected "
		    "environment %s", v->env);
	return 0;
}

int
policy_issue(struct policy *p, const struct policy_req *req,
    const struct policy_answer *answer, struct policy_ticket *t, struct err *e)
{
	const char *reason = answer != NULL ? answer->reason : NULL;
	struct policy_verdict v;
	struct policy_slot *s;
	struct err ae;

	memset(t, 0, sizeof *t);
	if (action_info(req->action) == NULL || !action_is_gated(req->action))
		return err_set(e, ERR_INVALID, "%s is not an action the policy "
		    "tickets", action_info(req->action) ? action_info(req->action)->name :
		    "an unknown action");
	if (policy_check(p, req, &v) != 0) {
		policy_audit_req(p, req, reason, AUDIT_REFUSED, v.reason, NULL);
		return err_set(e, ERR_INVALID, "refused: %s", v.reason);
	}
	if (policy_answer_ok(&v, answer, e) != 0) {
		policy_audit_req(p, req, reason, AUDIT_REFUSED, e != NULL ? e->msg :
		    "not confirmed", NULL);
		return -1;
	}
	policy_expire(p);
	if (p->n_slots == p->cap_slots) {
		p->cap_slots = p->cap_slots ? p->cap_slots * 2 : 8;
		p->slots = xreallocarray(p->slots, p->cap_slots, sizeof *p->slots);
	}
	s = &p->slots[p->n_slots];
	memset(s, 0, sizeof *s);
	s->saved = policy_saved_new(p, req, reason);
	/* write-ahead: the line is on disk before anything is sent */
	if (policy_audit(p, s->saved, AUDIT_ALLOWED, NULL, -1, NULL, &ae) != 0) {
		policy_saved_free(&s->saved);
		return err_set(e, ERR_IO, "refused: %.900s", ae.msg);
	}
	p->n_slots++;
	s->serial = p->next_serial++;
	s->digest = policy_digest(p, req);
	s->mac = policy_mac(p, s->serial, s->digest);
	s->issued_ms = policy_now(p);
	t->serial = s->serial;
	t->mac = s->mac;
	return 0;
}

void
policy_cancel(struct policy *p, const struct policy_req *req,
    const struct policy_answer *answer)
{
	if (action_info(req->action) == NULL || !action_is_gated(req->action))
		return;
	policy_audit_req(p, req, answer != NULL ? answer->reason : NULL,
	    AUDIT_CANCELLED, NULL, NULL);
}

void
policy_refuse(struct policy *p, const struct policy_req *req, const char *why)
{
	if (action_info(req->action) == NULL || !action_is_gated(req->action))
		return;
	policy_audit_req(p, req, NULL, AUDIT_REFUSED, why, NULL);
}

static int policy_violation(struct policy *p, const struct policy_req *req,
    struct err *e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
policy_violation(struct policy *p, const struct policy_req *req, struct err *e,
    const char *fmt, ...)
{
	const struct action_info *ai = req != NULL ? action_info(req->action) : NULL;
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	p->violations++;
	diag_log(DIAG_ERROR, "policy: BUG: %s presented to a provider without a valid "
	    "ticket: %s", ai != NULL ? ai->name : "an action", why);
	return err_set(e, ERR_INTERNAL, "%s was not sent: %s (a bug; nothing was "
	    "changed)", ai != NULL ? ai->name : "the action", why);
}

int
policy_redeem(struct policy *p, const struct policy_ticket *t,
    const struct policy_req *req, struct err *e)
{
	struct policy_verdict v;
	struct policy_slot *s;

	if (req == NULL || t == NULL || t->serial == 0)
		return policy_violation(p, req, e, "no ticket");
	policy_expire(p);
	if ((s = policy_slot_find(p, t->serial)) == NULL)
		return policy_violation(p, req, e, "the ticket was never issued, is used "
		    "up or expired");
	if (s->mac != t->mac)
		return policy_violation(p, req, e, "the ticket is forged");
	if (s->in_flight)
		return policy_violation(p, req, e, "the ticket was used already");
	if (policy_digest(p, req) != s->digest)
		return policy_violation(p, req, e, "the ticket was issued for a different "
		    "request");
	if (policy_check(p, req, &v) != 0) {
		policy_audit(p, s->saved, AUDIT_REFUSED, v.reason, -1, NULL, NULL);
		policy_slot_drop(p, s);
		return err_set(e, ERR_INVALID, "refused: %s", v.reason);
	}
	s->in_flight = 1;
	s->redeemed_ms = policy_now(p);
	return 0;
}

int
policy_done(struct policy *p, const struct policy_ticket *t, int ok,
    const char *error, const char *after)
{
	struct policy_slot *s = t != NULL ? policy_slot_find(p, t->serial) : NULL;
	int64_t since;
	int rc;

	if (s == NULL || s->mac != t->mac) {
		diag_log(DIAG_ERROR, "policy: BUG: outcome for an unknown ticket");
		return -1;
	}
	since = s->in_flight ? s->redeemed_ms : s->issued_ms;
	rc = policy_audit(p, s->saved, ok ? AUDIT_OK : AUDIT_FAILED,
	    ok ? NULL : (error != NULL && *error != '\0' ? error : "failed"),
	    policy_now(p) - since, after, NULL);
	policy_slot_drop(p, s);
	/* the action happened either way; a lost line is in the -v log */
	(void)rc;
	return 0;
}

size_t
policy_outstanding(const struct policy *p)
{
	return p->n_slots;
}

unsigned long
policy_violations(const struct policy *p)
{
	return p->violations;
}
