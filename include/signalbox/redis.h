/* redis.h - one Redis connection on the shared loop (hiredis 0.14, async).
 *
 * A struct redis keeps one connection to the server named by a
 * redis://[[user]:password@]host[:port][/db] URL alive: it connects with
 * hiredis' libuv adapter, sends AUTH when the URL has a password (AUTH
 * user password when it names a user other than "default") and SELECT
 * for a database other than 0, and reports every state change with the
 * reason in words.  A connect that fails, a connection the server
 * closes, or a command with no reply within the timeout ends in DOWN and
 * a retry from a timer (1 s doubling to the cap, reset after a success):
 * hiredis' context is never touched after its disconnect callback.  Only
 * src/net/redis.c includes hiredis.
 */
#ifndef SIGNALBOX_REDIS_H
#define SIGNALBOX_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct redis;

enum redis_state {
	REDIS_STATE_IDLE,
	REDIS_STATE_CONNECTING,
	REDIS_STATE_READY,
	REDIS_STATE_DOWN,	/* failed or lost; a retry is scheduled */
};

enum redis_type {
	REDIS_T_NIL,
	REDIS_T_STRING,		/* bulk or simple string */
	REDIS_T_STATUS,
	REDIS_T_ERROR,
	REDIS_T_INTEGER,
	REDIS_T_ARRAY,
};

/* A reply, ours rather than hiredis' so that nobody else needs hiredis.
 * Valid only during the callback that receives it. */
struct redis_value {
	enum redis_type type;
	const char *str;	/* STRING, STATUS, ERROR: LEN bytes, NUL-terminated */
	size_t len;
	long long integer;	/* INTEGER */
	size_t n;		/* ARRAY: elements */
	const struct redis_value *elem;
};

/* Called once per command (not after redis_free).  On a failure (not
 * connected, connection lost, no reply in time) V is NULL and ERROR says
 * why; an error reply from the server is a V of type ERROR. */
typedef void redis_reply_fn(const struct redis_value *v, const char *error, void *ud);

/* State changes; ERROR is the reason for DOWN ("" otherwise). */
typedef void redis_state_fn(enum redis_state st, const char *error, void *ud);

/* A parsed URL.  The password is a secret: redis_url_wipe clears it. */
struct redis_url {
	char host[256];
	int port;		/* default 6379 */
	int db;			/* default 0 */
	char user[128];		/* "" = none */
	char password[256];	/* "" = none */
	int has_password;
};

/* Parse redis://[[user]:password@]host[:port][/db] (percent-escapes in user
 * and password decoded; IPv6 hosts in brackets); -1 and E (which never
 * quotes the password) when it is not one. */
int redis_url_parse(const char *url, struct redis_url *out, struct err *e);

/* Clear the password of U. */
void redis_url_wipe(struct redis_url *u);

struct redis_opts {
	const char *url;		/* copied; the password wiped on free */
	int64_t connect_timeout_ms;	/* 0 = 5 s */
	int64_t command_timeout_ms;	/* 0 = 5 s */
	int64_t retry_max_ms;		/* 0 = 30 s */
};

/* A client on LOOP, not connected until redis_start.  NULL and E when the
 * URL is not one. */
struct redis *redis_new(uv_loop_t *loop, const struct redis_opts *o,
    redis_state_fn *state_fn, void *ud, struct err *e);

/* Connect (and keep reconnecting). */
void redis_start(struct redis *r);

/* Disconnect, drop pending commands (their callbacks do not run) and free
 * *RP; NULL-safe.  Not from inside one of this client's callbacks; the
 * loop must run afterwards so the handles can close. */
void redis_free(struct redis **rp);

/* Send the command ARGV[0..ARGC-1]; DONE(v, error, UD) runs later from the
 * loop, never inside this call. */
void redis_command(struct redis *r, int argc, const char *const *argv,
    redis_reply_fn *done, void *ud);

/* A message published on a channel subscribed to; valid during the call. */
typedef void redis_message_fn(const char *channel, const char *payload, void *ud);

/* Subscribe to CHANNEL (copied): FN hears every message on it, from the
 * loop, until redis_free; the subscription is sent again after every
 * reconnect.  A client that subscribes is a subscriber connection (RESP2):
 * send no other command on it, use a second client for those. */
void redis_subscribe(struct redis *r, const char *channel, redis_message_fn *fn, void *ud);

enum redis_state redis_state(const struct redis *r);
const char *redis_error(const struct redis *r);

/* "host:port/db" for display: never the password. */
const char *redis_target(const struct redis *r);

/* "connecting", "ready", ... */
const char *redis_state_name(enum redis_state st);

#endif
