/* gate.c - the policy without a terminal (gate.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "signalbox/gate.h"
#include "signalbox/policy.h"

/* What FLAGS lack for verdict V, as a hint; "" when nothing. */
static void
gate_missing(const struct gate_flags *o, const struct policy_verdict *v, char *buf, size_t len)
{
	const char *r = o->reason;
	const char *second = o->second_flag != NULL ? o->second_flag : "--confirm-zero";
	int blank_reason, typed_ok, yes_ok;

	while (r != NULL && isspace((unsigned char)*r))
		r++;
	blank_reason = r == NULL || *r == '\0';
	typed_ok = v->confirm != POLICY_CONFIRM_TYPED || (o->yes && o->confirm_env != NULL &&
	    strcmp(o->confirm_env, v->env) == 0 && !blank_reason);
	yes_ok = v->confirm != POLICY_CONFIRM_YESNO || o->yes;
	buf[0] = '\0';
	if (!typed_ok)
		snprintf(buf, len, "%s is a protected environment: confirm with --yes "
		    "--confirm-env %s --reason TEXT%s%s", v->env, v->env,
		    v->confirm_twice && !o->confirm_zero ? " " : "",
		    v->confirm_twice && !o->confirm_zero ? second : "");
	else if (!yes_ok)
		snprintf(buf, len, "confirm with --yes%s%s: nothing is asked interactively",
		    v->confirm_twice && !o->confirm_zero ? " " : "",
		    v->confirm_twice && !o->confirm_zero ? second : "");
	else if (v->confirm_twice && !o->confirm_zero)
		snprintf(buf, len, "%s Confirm it a second time with %s",
		    v->second[0] != '\0' ? v->second : "This needs a second confirmation.", second);
}

int
gate_submit(struct policy *p, const struct policy_req *req, const struct gate_flags *o,
    struct policy_ticket *t, char *why, size_t len)
{
	struct policy_verdict v;
	struct policy_answer ans;
	struct err e;
	char hint[POLICY_LINE + 64];
	size_t i;

	if (policy_submit(p, req, &v) != 0) {
		snprintf(why, len, "%s", v.reason);
		return -1;
	}
	fflush(stdout);
	fprintf(stderr, "%s%s\n", v.title, v.protected_env ? " (protected environment)" : "");
	for (i = 0; i < v.n_plan; i++)
		fprintf(stderr, "  %s\n", v.plan[i]);
	for (i = 0; i < v.n_warnings; i++)
		fprintf(stderr, "signalbox: warning: %s\n", v.warnings[i]);
	if (o->confirm_env != NULL && strcmp(o->confirm_env, v.env) != 0) {
		/* the operator believes they act on another environment */
		snprintf(why, len, "--confirm-env %.60s does not match the environment %.60s",
		    o->confirm_env, v.env);
		policy_refuse(p, req, why);
		return -1;
	}
	gate_missing(o, &v, hint, sizeof hint);
	memset(&ans, 0, sizeof ans);
	ans.confirmations = (o->yes ? 1 : 0) + (o->yes && o->confirm_zero ? 1 : 0);
	ans.typed = o->confirm_env;
	ans.reason = o->reason;
	memset(&e, 0, sizeof e);
	if (policy_issue(p, req, &ans, t, &e) != 0) {
		if (hint[0] != '\0')
			snprintf(why, len, "%s (%s)", e.msg, hint);
		else
			snprintf(why, len, "%s", e.msg);
		return -1;
	}
	return 0;
}
