/* act.c - from a confirmed action to the provider and back (see act.h).
 *
 * One job per action in flight: the ticket the policy issued, what to say
 * on the status line, and the time it was sent.  The provider's callback
 * (or its synchronous refusal) ends the job with policy_done, which writes
 * the outcome to the audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/act.h"
#include "signalbox/action.h"
#include "signalbox/console.h"
#include "signalbox/err.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

struct act_job {
	struct act *a;
	struct policy *policy;
	struct policy_ticket ticket;
	struct policy_req *req;	/* deep copy (the value wiped on free) */
	char what[160];		/* "deploy api", for the status line */
	struct act_job *next;
};

struct act {
	struct console *console;
	struct railway *railway;
	act_reveal_fn *reveal;
	void *reveal_ud;
	struct act_job *jobs;	/* in flight */
	size_t n_jobs;
};

struct act *
act_new(struct console *console, struct railway *railway, act_reveal_fn *reveal,
    void *reveal_ud)
{
	struct act *a = xcalloc(1, sizeof *a);

	a->console = console;
	a->railway = railway;
	a->reveal = reveal;
	a->reveal_ud = reveal_ud;
	return a;
}

static void
act_job_unlink(struct act_job *j)
{
	struct act_job **pp;

	for (pp = &j->a->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			j->a->n_jobs--;
			break;
		}
	}
	policy_req_free(&j->req);
	free(j);
}

void
act_free(struct act **ap)
{
	struct act *a;

	if (ap == NULL || *ap == NULL)
		return;
	a = *ap;
	*ap = NULL;
	/* railway_stop answered every job; whatever is left never got out */
	while (a->jobs != NULL) {
		policy_done(a->jobs->policy, &a->jobs->ticket, 0,
		    "signalbox stopped before the provider answered", NULL);
		act_job_unlink(a->jobs);
	}
	free(a);
}

size_t
act_in_flight(const struct act *a)
{
	return a != NULL ? a->n_jobs : 0;
}

static void act_answered(void *ud, const struct console_request_result *r);

/* A variable of J's service changed without a deploy (var-set with
 * skipDeploys, var-delete): offer to redeploy now.  The offer is the
 * redeploy's own confirmation (policy, typed name in a protected
 * environment, audit); Cancel leaves the change for the next deploy. */
static void
act_offer_redeploy(struct act *a, const struct act_job *j)
{
	const struct policy_req *done = j->req;
	struct policy_req q;
	const char *dep;
	char plan0[200], before[120];
	const char *plan[1];

	if (done->target_id == NULL || done->target_id[0] == '\0' ||
	    (dep = railway_active_deployment_id(a->railway, done->target_id)) == NULL)
		return;	/* shared variables, or nothing deployed: nothing to offer */
	snprintf(plan0, sizeof plan0, "%s %s takes effect now; Cancel leaves it for the "
	    "next deploy", done->var != NULL ? done->var : "the variable",
	    done->action == ACTION_VAR_DELETE ? "deleted" : "set");
	snprintf(before, sizeof before, "deployment %.8s, without the change", dep);
	plan[0] = plan0;
	memset(&q, 0, sizeof q);
	q.action = ACTION_REDEPLOY;
	q.env = done->env;
	q.target = done->target;
	q.target_id = done->target_id;
	q.deployment = dep;
	q.from = q.to = -1;
	q.before = before;
	q.after = "a new deployment with the variables as they are now";
	q.plan = plan;
	q.n_plan = 1;
	console_request(a->console, &q, act_answered, a);
}

/* The provider answered job UD. */
static void
act_done(const struct railway_result *r, void *ud)
{
	struct act_job *j = ud;
	struct act *a = j->a;
	const char *err = r->cancelled ? "signalbox stopped before the provider answered" :
	    r->error;
	char after[128] = "";

	if (r->ok && r->deployment_id != NULL && r->deployment_id[0] != '\0')
		snprintf(after, sizeof after, "deployment %s", r->deployment_id);
	policy_done(j->policy, &j->ticket, r->ok, r->ok ? NULL : err,
	    after[0] != '\0' ? after : NULL);
	if (r->ok && j->req->action == ACTION_VAR_REVEAL && a->reveal != NULL)
		a->reveal(a->reveal_ud, j->req, r->value != NULL ? r->value : "", r->value_len);
	/* when cancelled the console is going away: nothing to show */
	if (!r->cancelled && r->ok && r->deployment_id != NULL && r->deployment_id[0] != '\0')
		console_message(a->console, 0, "%s: done in %lld ms, deployment %.8s", j->what,
		    (long long)r->duration_ms, r->deployment_id);
	else if (!r->cancelled && r->ok)
		console_message(a->console, 0, "%s: done in %lld ms", j->what,
		    (long long)r->duration_ms);
	else if (!r->cancelled)
		console_message(a->console, 1, "%s failed: %s", j->what, err);
	if (!r->cancelled && r->ok && ((j->req->action == ACTION_VAR_SET &&
	    j->req->skip_deploys) || j->req->action == ACTION_VAR_DELETE))
		act_offer_redeploy(a, j);
	act_job_unlink(j);
}

/* The policy parameter NAME of Q, or NULL. */
static const char *
act_param(const struct policy_req *q, const char *name)
{
	for (size_t i = 0; q->params != NULL && i < q->n_params; i++)
		if (q->params[i].name != NULL && strcmp(q->params[i].name, name) == 0)
			return q->params[i].value;
	return NULL;
}

/* Send J's request to the provider; -1 and E when it could not be sent. */
static int
act_send(struct act_job *j, struct err *e)
{
	struct railway *rw = j->a->railway;
	const struct policy_req *q = j->req;
	const char *svc = q->target_id != NULL && q->target_id[0] != '\0' ? q->target_id : NULL;

	if (rw == NULL)
		return err_set(e, ERR_INVALID, "no provider is configured (provider: in the config)");
	switch (q->action) {
	case ACTION_DEPLOY:
		return railway_deploy(rw, svc, NULL, act_done, j, e);
	case ACTION_REDEPLOY:
		return railway_redeploy(rw, q->deployment, act_done, j, e);
	case ACTION_RESTART:
		return railway_restart(rw, q->deployment, act_done, j, e);
	case ACTION_STOP:
		return railway_stop_deployment(rw, q->deployment, act_done, j, e);
	case ACTION_ROLLBACK:
		return railway_rollback(rw, q->deployment, act_done, j, e);
	case ACTION_SCALE:
		return railway_scale(rw, svc, q->region, q->to, act_done, j, e);
	case ACTION_VAR_SET:
		return railway_var_set(rw, svc, q->var, q->value != NULL ? q->value : "",
		    q->value != NULL ? strlen(q->value) : 0, q->skip_deploys, act_done, j, e);
	case ACTION_VAR_DELETE:
		return railway_var_delete(rw, svc, q->var, act_done, j, e);
	case ACTION_VAR_REVEAL:
		return railway_var_reveal(rw, svc, q->var, act_done, j, e);
	case ACTION_VOLUME_BACKUP:
	case ACTION_VOLUME_RESTORE:
	case ACTION_VOLUME_SCHEDULE: {
		/* the pane names the volume instance in a parameter (audited too) */
		const char *vi = act_param(q, "volume_instance");
		unsigned kinds;

		if (vi == NULL || *vi == '\0')
			return err_set(e, ERR_INVALID, "no volume instance in the request");
		if (q->action == ACTION_VOLUME_BACKUP)
			return railway_volume_backup_create(rw, vi, q->after, 1, NULL, act_done, j,
			    e);
		if (q->action == ACTION_VOLUME_RESTORE)
			return railway_volume_backup_restore(rw, vi, q->target_id, NULL, act_done, j,
			    e);
		if (railway_schedule_parse(q->after != NULL ? q->after : "none", &kinds, e) != 0)
			return -1;
		return railway_volume_schedule_set(rw, vi, kinds, act_done, j, e);
	}
	default:
		return err_set(e, ERR_INTERNAL, "'%s' is not a provider action",
		    action_info(q->action) != NULL ? action_info(q->action)->name : "?");
	}
}

/* "sent", or how long the rate limit holds it back. */
static void
act_say_sent(struct act *a, const struct act_job *j)
{
	struct railway_budget b;
	int64_t now = util_wall_ms();

	railway_budget_get(a->railway, &b);
	if (b.wait_until_ms > now)
		console_message(a->console, 0, "%s: waiting for the rate limit (%llds), then sent",
		    j->what, (long long)((b.wait_until_ms - now + 999) / 1000));
	else
		console_message(a->console, 0, "%s: sent", j->what);
}

static void
act_answered(void *ud, const struct console_request_result *r)
{
	struct act *a = ud;
	const struct action_info *ai = action_info(r->req->action);
	struct act_job *j;
	struct err e;

	if (r->outcome != CONSOLE_ALLOWED)
		return;		/* the console said why; the policy audited it */
	if (r->ticket == NULL) {
		console_message(a->console, 1, "%s: not a gated action",
		    ai != NULL ? ai->name : "?");
		return;
	}
	memset(&e, 0, sizeof e);
	if (policy_redeem(r->policy, r->ticket, r->req, &e) != 0) {
		console_message(a->console, 1, "%s refused: %s", ai != NULL ? ai->name : "?",
		    e.msg);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->a = a;
	j->policy = r->policy;
	j->ticket = *r->ticket;
	j->req = policy_req_dup(r->req);
	snprintf(j->what, sizeof j->what, "%s %s%s%s", ai != NULL ? ai->name : "?",
	    r->req->target != NULL ? r->req->target : "",
	    r->req->var != NULL ? " " : "", r->req->var != NULL ? r->req->var : "");
	j->next = a->jobs;
	a->jobs = j;
	a->n_jobs++;
	if (act_send(j, &e) != 0) {
		policy_done(j->policy, &j->ticket, 0, e.msg, NULL);
		console_message(a->console, 1, "%s failed: %s", j->what, e.msg);
		act_job_unlink(j);
		return;
	}
	act_say_sent(a, j);
}

void
act_request(struct act *a, const struct policy_req *req)
{
	console_request(a->console, req, act_answered, a);
}
