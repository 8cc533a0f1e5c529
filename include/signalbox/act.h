/* act.h - carrying an operator's action from a pane to the provider.
 *
 * The one path from a key to a mutation: a pane builds a policy_req for
 * the selected thing and calls the host's act hook; act_request runs it
 * through console_request (the policy check, the confirmation the verdict
 * needs, the "allowed" audit line and a ticket), presents the ticket with
 * policy_redeem, calls the provider, and audits the outcome with
 * policy_done from the provider's callback.  The result shows on the
 * status line.  Nothing else in the program calls a provider mutation.
 */
#ifndef SIGNALBOX_ACT_H
#define SIGNALBOX_ACT_H

#include <stddef.h>

struct console;
struct policy_req;
struct railway;
struct act;

/* A revealed value for the pane that asked (VALUE is LEN bytes, valid only
 * during the call; it is wiped afterwards). */
typedef void act_reveal_fn(void *ud, const struct policy_req *req, const char *value,
    size_t len);

/* Borrow CONSOLE and RAILWAY (NULL: no provider; every action then fails
 * with the reason).  Both outlive the act. */
struct act *act_new(struct console *console, struct railway *railway,
    act_reveal_fn *reveal, void *reveal_ud);

/* Free *AP (NULL-safe).  Call after railway_stop: actions still in flight
 * then have had their callbacks. */
void act_free(struct act **ap);

/* Check, confirm, audit and carry out REQ (copied as needed). */
void act_request(struct act *a, const struct policy_req *req);

/* Actions sent to the provider and not yet answered. */
size_t act_in_flight(const struct act *a);

#endif
