/* policy.h - the one decision for every action that changes production or
 * reveals a secret, the tickets that carry it to a provider, and the audit
 * trail of both.
 *
 * The actions concerned are the rows of ACTION_INFO flagged
 * ACTION_F_MUTATING or ACTION_F_AUDITED (action_is_gated).  One call,
 * policy_check, decides every one of them from: the action, the
 * environment, the target, its parameters, read-only mode (--read-only or
 * environments.NAME.read_only), environment protection
 * (environments.NAME.protected; an environment the config does not name
 * counts as protected) and the action's own guards (scaling to 0 is
 * confirmed twice, a jump of more than 10x warns, ...).  The verdict is
 * REFUSE with the reason in words, or ALLOW with the confirmation needed:
 *
 *   mutating, read-only (global or environment)   REFUSE
 *   mutating, protected environment               TYPED (name + reason)
 *   mutating, other environment                   YESNO (default Cancel)
 *   audited, protected environment                YESNO
 *   audited, other environment                    NONE
 *   anything else                                 not gated: NONE, no ticket
 *
 * A mutating action never gets NONE.  The life of one action:
 *
 *   policy_submit   check; a refusal is audited and ends here
 *   (dialog)        the console asks what the verdict requires
 *   policy_issue    check again, verify the answer (typed name, reason,
 *                   second confirmation), write the "allowed" audit line
 *                   (a log that cannot be written refuses the action), and
 *                   hand out a single-use ticket bound to this request
 *   policy_redeem   the code about to call the provider presents the ticket
 *                   with the request; anything but an unused ticket issued
 *                   for exactly this request is refused
 *   policy_done     the provider's outcome ("ok"/"failed", duration) is
 *                   audited and the ticket retired
 *
 * policy_cancel audits a cancelled confirmation.  A ticket not redeemed
 * within the TTL expires (audited as failed, "not carried out"); one still
 * in flight when the policy is freed is audited as failed with an unknown
 * outcome.
 *
 * Tickets guard against a code path that forgets the check (a provider
 * call reachable without policy_issue), not against code running inside
 * this process: the MAC is keyed with a per-process random nonce but is
 * not a cryptographic one.
 */
#ifndef SIGNALBOX_POLICY_H
#define SIGNALBOX_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/action.h"
#include "signalbox/err.h"

struct audit;
struct config;

#define POLICY_LINE 192		/* one line of a verdict */
#define POLICY_MAX_PLAN 12
#define POLICY_MAX_WARNINGS 4
#define POLICY_JUMP_FACTOR 10	/* scaling by more than this warns */

enum policy_decision { POLICY_REFUSE, POLICY_ALLOW };

enum policy_confirm {
	POLICY_CONFIRM_NONE,	/* go ahead (audited actions outside protected environments) */
	POLICY_CONFIRM_YESNO,	/* a dialog: [Cancel] [Confirm], Cancel the default */
	POLICY_CONFIRM_TYPED,	/* type the environment's name and a reason */
};

/* A parameter recorded in the audit log beyond the request's own fields. */
struct policy_param {
	const char *name;
	const char *value;
	int secret;		/* only its length and fingerprint are shown or logged */
};

/* What the operator asks for.  The strings are the caller's; the policy
 * copies what it keeps. */
struct policy_req {
	enum action action;
	const char *env;	/* NULL = the configured environment */
	const char *target;	/* service name ("api"; "shared" for shared variables) */
	const char *target_id;	/* the provider's id, for the audit log; may be NULL */
	const char *deployment;	/* deployment acted on (restart, stop, redeploy) or rolled back to */
	const char *region;	/* scale: the region, NULL = the service's only one */
	int from;		/* scale: replicas now, -1 = unknown */
	int to;			/* scale: replicas wanted */
	const char *var;	/* var-*: variable name */
	const char *value;	/* var-set: the new value; a secret, never shown or logged */
	int skip_deploys;	/* var-set: stage for the next deploy */
	const char *before;	/* state before, in words ("v3 (3f2a1c)"); may be NULL */
	const char *after;	/* state wanted, in words ("v1 (9e8d7c)"); may be NULL */
	const char *const *plan;	/* more plan lines from the pane (what a rollback undoes) */
	size_t n_plan;
	const struct policy_param *params;
	size_t n_params;
};

/* A deep copy of REQ; policy_req_free wipes the value and frees it. */
struct policy_req *policy_req_dup(const struct policy_req *req);
void policy_req_free(struct policy_req **rp);

struct policy_verdict {
	enum policy_decision decision;
	enum policy_confirm confirm;
	int confirm_twice;	/* a second yes/no after the first confirmation */
	int protected_env;	/* the environment is protected: the dialog's danger style */
	char env[64];		/* the environment decided on; TYPED: what must be typed */
	char reason[POLICY_LINE];	/* REFUSE: why, in words */
	char title[POLICY_LINE];	/* "Scale api in production" */
	char verb[32];		/* the Confirm button: "Scale" */
	char plan[POLICY_MAX_PLAN][POLICY_LINE];	/* exactly what will happen */
	size_t n_plan;
	char warnings[POLICY_MAX_WARNINGS][POLICY_LINE];
	size_t n_warnings;
	char second[POLICY_LINE];	/* confirm_twice: the question of the second dialog */
};

/* The operator's answer to the confirmation. */
struct policy_answer {
	int confirmations;	/* times Confirm was chosen: 1, or 2 when confirm_twice */
	const char *typed;	/* TYPED: the environment's name as typed */
	const char *reason;	/* TYPED: why (required); otherwise optional */
};

/* Proof that an action passed policy_issue.  Copy it by value; it is good
 * for one policy_redeem of the same request. */
struct policy_ticket {
	uint64_t serial;	/* 0 = none */
	uint64_t mac;
};

struct policy_opts {
	const struct config *cfg;	/* environments and project; NULL: all protected */
	int read_only;			/* --read-only */
	struct audit *audit;		/* the log (not owned); NULL refuses every gated action */
	const char *operator_name;	/* NULL = $USER (audit_identity) */
	const char *ssh_client;		/* NULL = from SSH_CLIENT */
	const char *project;		/* NULL = cfg->project */
	int64_t ticket_ttl_ms;		/* unredeemed tickets expire; 0 = 120 s */
	int64_t (*clock_ms)(void);	/* monotonic ms; NULL = util_now_ms (tests set it) */
};

struct policy;

/* A policy over OPTS (copied; the config and audit must outlive it). */
struct policy *policy_new(const struct policy_opts *opts);

/* Audit tickets still outstanding (see above) and free *PP; NULL-safe. */
void policy_free(struct policy **pp);

/* THE decision.  Fill V for REQ; 0 when allowed, -1 when refused (the
 * reason is in V->reason).  Pure: no audit, no state. */
int policy_check(const struct policy *p, const struct policy_req *req,
    struct policy_verdict *v);

/* policy_check, and a refusal is audited.  An allowed gated action is
 * refused here too when the audit log cannot be written. */
int policy_submit(struct policy *p, const struct policy_req *req,
    struct policy_verdict *v);

/* Check REQ again, verify ANSWER against the confirmation it needs, audit
 * the action as allowed and fill T.  -1 and E (in words, for the status
 * line) when refused, unconfirmed, or the audit line could not be written;
 * what can be audited of that is. */
int policy_issue(struct policy *p, const struct policy_req *req,
    const struct policy_answer *answer, struct policy_ticket *t, struct err *e);

/* The operator cancelled the confirmation of REQ (ANSWER may be NULL). */
void policy_cancel(struct policy *p, const struct policy_req *req,
    const struct policy_answer *answer);

/* Audit REQ as refused for WHY, decided outside the policy (the console
 * was busy with another confirmation). */
void policy_refuse(struct policy *p, const struct policy_req *req, const char *why);

/* Called by the code about to send REQ to a provider: 0 when T is an
 * unused ticket issued for exactly REQ and REQ is still allowed; it is then
 * in flight.  -1 and E otherwise (a bug is logged and counted). */
int policy_redeem(struct policy *p, const struct policy_ticket *t,
    const struct policy_req *req, struct err *e);

/* The provider's outcome for ticket T: audited as ok or failed with ERROR
 * and the duration since it was redeemed; AFTER (may be NULL) is the state
 * reached.  The ticket is retired.  -1 for an unknown ticket. */
int policy_done(struct policy *p, const struct policy_ticket *t, int ok,
    const char *error, const char *after);

/* Whether environment ENV (NULL = the configured one) is protected, or
 * read-only (globally or by the config). */
int policy_env_protected(const struct policy *p, const char *env);
int policy_env_read_only(const struct policy *p, const char *env);

/* Tickets issued and not yet done (tests, status). */
size_t policy_outstanding(const struct policy *p);

/* policy_redeem calls that presented a bad ticket (tests). */
unsigned long policy_violations(const struct policy *p);

#endif
