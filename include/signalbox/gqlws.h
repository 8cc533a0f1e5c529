/* gqlws.h - GraphQL subscriptions over WebSocket (graphql-transport-ws).
 *
 * One struct gqlws is one logical connection to a GraphQL endpoint speaking
 * the graphql-transport-ws protocol (graphql-ws' PROTOCOL.md), on top of
 * ws.h on the shared loop.  It keeps itself connected: any drop (network,
 * close frame, missing pong, missing connection_ack, a protocol violation
 * by the server) leads to a new connection after an exponential backoff
 * with jitter, a new connection_init, and every live subscription sent
 * again with the same query and variables.
 *
 * Authentication goes in the HTTP upgrade headers (opts.headers, e.g.
 * "Authorization: Bearer TOKEN" or "Project-Access-Token: TOKEN") and/or
 * in the connection_init payload (opts.init_payload), as the server wants.
 * Refusals (close 4401/4403, an upgrade answered 401) are retried at the
 * maximal backoff only, and the state says why.  The backoff doubles from
 * retry_initial_ms to retry_max_ms (+-20 % jitter, never above the cap)
 * and starts over once a connection has lasted 10 s.
 *
 * A subscription the server ends (`complete`, or an `error`) is not sent
 * again, except for an `error` that says "Not Authorized" (or the like) or
 * "rate limit": that one is sent again on the same connection after
 * retry_max_ms (after the server's retryAfter for a rate limit), and its
 * on_error says so (final = 0).  The connection and the other
 * subscriptions are not disturbed.
 *
 * No deduplication here: after a resubscription the server may send again
 * what it sent before.  struct gqlws_next says when that can happen.
 *
 * CALLBACKS run from the loop, never from inside the gqlws_* call that
 * caused them (gqlws_new, gqlws_subscribe, gqlws_reconnect,
 * gqlws_unsubscribe and gqlws_free never call back).  Inside any callback
 * the owner may call every function here, including gqlws_unsubscribe of
 * the subscription being reported and gqlws_free of the client.
 *
 * OWNERSHIP: the owner frees the client with gqlws_free and each
 * subscription with gqlws_unsubscribe.  A subscription that ended (server
 * complete, final error) stays a valid handle, inert, until the owner
 * unsubscribes it or frees the client.  gqlws_free frees the client and
 * every subscription handle still held; after it (and after
 * gqlws_unsubscribe of a subscription) no callback ever runs for them, so
 * the owner may free its user data at once.  Free every client before
 * ws_ctx_shutdown of its ws context; the loop must run afterwards so the
 * timers can close.
 */
#ifndef SIGNALBOX_GQLWS_H
#define SIGNALBOX_GQLWS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct cJSON;
struct ws_ctx;
struct gqlws;
struct gqlws_sub;

#define GQLWS_SUBPROTOCOL "graphql-transport-ws"

enum gqlws_state {
	GQLWS_CONNECTING,	/* WebSocket handshake, then waiting for connection_ack */
	GQLWS_OPEN,		/* acknowledged: subscriptions are live */
	GQLWS_RETRYING,		/* lost or refused: the next attempt is in retry_in_ms */
	GQLWS_FAILED,		/* given up: only gqlws_reconnect starts again */
};

struct gqlws_opts {
	const char *url;		/* ws:// or wss:// (IP literal hosts avoid blocking DNS) */
	const char *const *headers;	/* extra "Name: value" upgrade headers, NULL-terminated, or NULL */
	const char *init_payload;	/* JSON object for connection_init's payload, or NULL */
	const char *ca_file;		/* extra CA bundle or NULL */
	long connect_timeout_ms;	/* WebSocket handshake; 0 = 10 s */
	long ack_timeout_ms;		/* connection_init to connection_ack; 0 = 10 s */
	long ping_interval_ms;		/* our ping this often; 0 = 20 s, < 0 = never */
	long pong_timeout_ms;		/* no pong within this: the connection is dead; 0 = 10 s */
	long retry_initial_ms;		/* first backoff; 0 = 500 ms */
	long retry_max_ms;		/* backoff cap, and the delay after a refusal; 0 = 30 s */
	unsigned max_attempts;		/* consecutive failed attempts before FAILED; 0 = never */
	size_t max_message;		/* bigger messages break the connection; 0 = 1 MiB
					 * (ws.h refuses more than 4 MiB anyway) */
};

/* What on_state reports.  REASON points into the client and is valid only
 * during the callback (or until the next call into the client). */
struct gqlws_status {
	enum gqlws_state state;
	const char *reason;	/* RETRYING, FAILED: why, in words; NULL otherwise */
	uint64_t retry_in_ms;	/* RETRYING: delay before the next attempt */
	unsigned attempts;	/* consecutive failed attempts (OPEN: before this
				 * connection); reset once a connection lasted 10 s */
	int close_code;		/* close code that ended the last connection, 0 = none */
	int auth;		/* the failure was an authorization refusal */
};

struct gqlws_cbs {
	void (*on_state)(struct gqlws *g, const struct gqlws_status *st, void *ud);
};

/* One `next`.  Everything is valid only during the callback.  PAYLOAD and
 * RAW are as the server sent them: sanitise strings before showing them
 * (text_sanitize).  ERRORS is already sanitised. */
struct gqlws_next {
	const struct cJSON *payload;	/* the execution result: {data, errors?, extensions?} */
	const char *errors;		/* payload.errors in words ("; " between), or NULL */
	const char *raw;		/* the whole message as received, RAW_LEN bytes */
	size_t raw_len;
	unsigned resubscribed;		/* times this subscription was sent again (reconnects,
					 * retries); > 0: what follows may repeat earlier data */
	uint64_t index;			/* nth next since the last (re)subscription, from 1 */
	uint64_t seq;			/* nth next of this subscription overall, from 1 */
};

/* One `error` for a subscription.  Valid only during the callback.
 * MESSAGE is sanitised; ERRORS is as received. */
struct gqlws_error {
	const char *message;		/* the GraphQL errors in words ("; " between) */
	const struct cJSON *errors;	/* the payload as received (an array), or NULL */
	int final;			/* the subscription is over and is not sent again */
	int auth;			/* "Not Authorized" and the like */
	uint64_t retry_in_ms;		/* !final: sent again after this delay */
};

/* Per subscription.  on_complete and a final on_error are the last
 * callbacks of a subscription; the handle stays valid (see OWNERSHIP). */
struct gqlws_sub_cbs {
	void (*on_next)(struct gqlws_sub *s, const struct gqlws_next *n, void *ud);
	void (*on_error)(struct gqlws_sub *s, const struct gqlws_error *err, void *ud);
	void (*on_complete)(struct gqlws_sub *s, void *ud);
};

/* Create a client on LOOP using the WebSocket context WS and start
 * connecting (the first on_state comes from the loop).  OPTS' strings are
 * copied.  NULL and E when the URL or the init payload is malformed. */
struct gqlws *gqlws_new(uv_loop_t *loop, struct ws_ctx *ws, const struct gqlws_opts *opts,
    const struct gqlws_cbs *cbs, void *ud, struct err *e);

/* Close the connection and free *GP and every subscription still held;
 * NULL-safe, NULLs *GP.  No callback runs afterwards. */
void gqlws_free(struct gqlws **gp);

/* Drop the current connection (if any) and connect again now with the
 * backoff reset: after FAILED, or when the user asks. */
void gqlws_reconnect(struct gqlws *g);

/* The current state; REASON is valid until the next call into G. */
const struct gqlws_status *gqlws_get_status(const struct gqlws *g);

/* Subscribe with QUERY and VARIABLES (a JSON object or NULL); both are
 * copied.  Sent now when the connection is open, otherwise once it is.
 * NULL and E when QUERY is empty or VARIABLES is not a JSON object. */
struct gqlws_sub *gqlws_subscribe(struct gqlws *g, const char *query, const char *variables,
    const struct gqlws_sub_cbs *cbs, void *ud, struct err *e);

/* Replace S's variables (a JSON object or NULL; copied) for every later
 * (re)subscription: e.g. a log subscription that resumes where it left off
 * after a reconnect.  What is live now is not sent again.  -1 and E when
 * VARIABLES is not a JSON object (S is unchanged). */
int gqlws_sub_set_variables(struct gqlws_sub *s, const char *variables, struct err *e);

/* Stop *SP (the server gets `complete` when it is live) and free it;
 * NULL-safe, NULLs *SP.  No callback runs for it afterwards. */
void gqlws_unsubscribe(struct gqlws_sub **sp);

/* The subscription's protocol id ("1", "2", ...). */
const char *gqlws_sub_id(const struct gqlws_sub *s);

/* "connecting", "open", "retrying", "failed". */
const char *gqlws_state_name(enum gqlws_state st);

/* A close code in words: 4401 "Unauthorized", 1006 "closed without a close
 * frame", ...; "unknown close code" otherwise. */
const char *gqlws_close_words(int code);

#endif
