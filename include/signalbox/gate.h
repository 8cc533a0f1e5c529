/* gate.h - the policy without a terminal: the commands' confirmation.
 *
 * A command (signalbox scale, backup take, ...) asks nothing
 * interactively: what the TUI's dialog would ask is given as flags (--yes,
 * in a protected environment also --confirm-env NAME and --reason TEXT,
 * --confirm-zero for a second confirmation).  gate_submit runs the policy
 * check, prints the plan on stderr (stdout carries results only), checks
 * the flags against what the verdict needs and audits the action as
 * allowed, handing back the ticket the caller then redeems.
 */
#ifndef SIGNALBOX_GATE_H
#define SIGNALBOX_GATE_H

#include <stddef.h>

struct policy;
struct policy_req;
struct policy_ticket;

struct gate_flags {
	int yes;			/* --yes */
	int confirm_zero;		/* the second confirmation was given */
	const char *second_flag;	/* its flag in hints; NULL = "--confirm-zero" */
	const char *confirm_env;	/* --confirm-env, or NULL */
	const char *reason;		/* --reason, or NULL */
};

/* Check REQ with P, print the plan, confirm it from FLAGS and audit it:
 * 0 and *T, or -1 with WHY (a sentence with what to add; refusals are
 * audited). */
int gate_submit(struct policy *p, const struct policy_req *req, const struct gate_flags *flags,
    struct policy_ticket *t, char *why, size_t len);

#endif
