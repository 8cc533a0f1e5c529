/* redis.c - one Redis connection on the shared loop (see redis.h).
 *
 * hiredis owns its context from redisAsyncConnect until the disconnect
 * callback (or the connect callback reporting a failure) returns; after
 * that it frees it, so r->ac is cleared inside those callbacks and the
 * retry comes from a timer.  Replies live only during their callback: they
 * are turned into our struct redis_value tree and handed over there.
 * Failures (not connected, lost, timed out) are answered from a 0 ms timer,
 * never from inside hiredis, so a callback may send the next command.
 *
 * adapters/libuv.h defines static functions: this is the only file that
 * includes it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

#include "signalbox/loop.h"
#include "signalbox/redis.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	REDIS_DEFAULT_CONNECT_MS = 5000,
	REDIS_DEFAULT_COMMAND_MS = 5000,
	REDIS_DEFAULT_RETRY_MAX_MS = 30000,
	REDIS_RETRY_FIRST_MS = 1000,
	REDIS_WATCH_MS = 500,
	REDIS_PROBE_MS = 200,	/* while connecting: look for a socket error */
};

struct redis_cmd {
	struct redis *r;
	redis_reply_fn *done;	/* NULL: internal (AUTH, SELECT) */
	void *ud;
	const char *setup;	/* "AUTH", "SELECT": a step of connecting */
	int makes_ready;	/* the last step: its success means READY */
	uint64_t sent_ms;
	char error[256];	/* failed: answered from the defer timer */
	struct redis_cmd *prev, *next;
};

/* A channel subscribed to (redis_subscribe); sent again on every READY. */
struct redis_sub {
	struct redis *r;
	char *channel;
	redis_message_fn *fn;
	void *ud;
	struct redis_sub *next;
};

struct redis {
	uv_loop_t *loop;
	struct redis_url url;
	char target[300];
	int64_t connect_ms, command_ms, retry_max_ms, backoff_ms;
	redis_state_fn *state_fn;
	void *ud;
	enum redis_state state;
	char error[256];
	redisAsyncContext *ac;
	uint64_t connect_start_ms;
	int freeing;
	unsigned downs;		/* times redis_down ran */
	char drop_reason[256];	/* why we dropped the connection ourselves */
	struct loop_timer *connect_timer, *retry_timer, *watch_timer, *defer_timer;
	struct redis_cmd *inflight;	/* sent, oldest last */
	struct redis_cmd *failed, *failed_tail;
	struct redis_sub *subs;
};

static void redis_resubscribe(struct redis *r);

/* ---- URL ------------------------------------------------------------------- */

static int
redis_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode N bytes of S into OUT (LEN); -1 when bad or too long. */
static int
redis_unescape(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = redis_hex((unsigned char)s[i + 1]);
			lo = redis_hex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || o + 1 >= len)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int
redis_url_parse(const char *url, struct redis_url *u, struct err *e)
{
	const char *p, *at, *hostend, *slash, *end;
	char num[16];
	long v;
	char *ep;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (url == NULL || strncmp(url, "redis://", 8) != 0)
		return err_set(e, ERR_PARSE, "not a redis:// URL (redis://[:password@]host"
		    "[:port][/db])");
	p = url + 8;
	end = p + strlen(p);
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = end;
	at = NULL;
	for (const char *q = p; q < slash; q++)
		if (*q == '@')
			at = q;	/* the last one: a password may hold '@' unescaped */
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon == NULL) {
			/* redis://user@host: no password */
			if (redis_unescape(p, (size_t)(at - p), u->user, sizeof u->user) != 0)
				return err_set(e, ERR_PARSE, "bad user name in the redis URL");
		} else {
			if (redis_unescape(p, (size_t)(colon - p), u->user, sizeof u->user) != 0)
				return err_set(e, ERR_PARSE, "bad user name in the redis URL");
			if (redis_unescape(colon + 1, (size_t)(at - colon - 1), u->password,
			    sizeof u->password) != 0) {
				redis_url_wipe(u);
				return err_set(e, ERR_PARSE, "bad password in the redis URL "
				    "(percent-escape special characters)");
			}
			u->has_password = u->password[0] != '\0';
		}
		p = at + 1;
	}
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));

		if (rb == NULL || (size_t)(rb - p - 1) >= sizeof u->host) {
			redis_url_wipe(u);
			return err_set(e, ERR_PARSE, "bad IPv6 host in the redis URL");
		}
		memcpy(u->host, p + 1, (size_t)(rb - p - 1));
		hostend = rb + 1;
	} else {
		hostend = p;
		while (hostend < slash && *hostend != ':')
			hostend++;
		if ((size_t)(hostend - p) >= sizeof u->host) {
			redis_url_wipe(u);
			return err_set(e, ERR_PARSE, "host name too long in the redis URL");
		}
		memcpy(u->host, p, (size_t)(hostend - p));
	}
	if (u->host[0] == '\0') {
		redis_url_wipe(u);
		return err_set(e, ERR_PARSE, "no host in the redis URL");
	}
	if (hostend < slash && *hostend == ':') {
		size_t n = (size_t)(slash - hostend - 1);

		if (n == 0 || n >= sizeof num) {
			redis_url_wipe(u);
			return err_set(e, ERR_PARSE, "bad port in the redis URL");
		}
		memcpy(num, hostend + 1, n);
		num[n] = '\0';
		v = strtol(num, &ep, 10);
		if (*ep != '\0' || v < 1 || v > 65535) {
			redis_url_wipe(u);
			return err_set(e, ERR_PARSE, "bad port '%s' in the redis URL", num);
		}
		u->port = (int)v;
	} else if (hostend != slash) {
		redis_url_wipe(u);
		return err_set(e, ERR_PARSE, "unexpected text after the host in the redis URL");
	}
	if (slash < end && slash[1] != '\0') {
		v = strtol(slash + 1, &ep, 10);
		if (*ep != '\0' || ep == slash + 1 || v < 0 || v > 100000) {
			redis_url_wipe(u);
			return err_set(e, ERR_PARSE, "bad database number in the redis URL");
		}
		u->db = (int)v;
	}
	return 0;
}

void
redis_url_wipe(struct redis_url *u)
{
	volatile char *p = u->password;

	for (size_t i = 0; i < sizeof u->password; i++)
		p[i] = 0;
	u->has_password = 0;
}

/* ---- replies ---------------------------------------------------------------- */

static void
redis_value_fill(struct redis_value *v, const redisReply *rp)
{
	memset(v, 0, sizeof *v);
	switch (rp->type) {
	case REDIS_REPLY_STRING:
		v->type = REDIS_T_STRING;
		break;
	case REDIS_REPLY_STATUS:
		v->type = REDIS_T_STATUS;
		break;
	case REDIS_REPLY_ERROR:
		v->type = REDIS_T_ERROR;
		break;
	case REDIS_REPLY_INTEGER:
		v->type = REDIS_T_INTEGER;
		v->integer = rp->integer;
		return;
	case REDIS_REPLY_ARRAY: {
		struct redis_value *el;

		v->type = REDIS_T_ARRAY;
		v->n = rp->elements;
		el = xcalloc(rp->elements > 0 ? rp->elements : 1, sizeof *el);
		for (size_t i = 0; i < rp->elements; i++)
			redis_value_fill(&el[i], rp->element[i]);
		v->elem = el;
		return;
	}
	default:
		v->type = REDIS_T_NIL;
		return;
	}
	v->str = rp->str != NULL ? rp->str : "";
	v->len = rp->str != NULL ? rp->len : 0;
}

static void
redis_value_clear(struct redis_value *v)
{
	if (v->type != REDIS_T_ARRAY)
		return;
	for (size_t i = 0; i < v->n; i++)
		redis_value_clear((struct redis_value *)&v->elem[i]);
	free((void *)v->elem);
}

/* ---- state ---------------------------------------------------------------------- */

static void
redis_set_state(struct redis *r, enum redis_state st, const char *error)
{
	util_strlcpy(r->error, error != NULL ? error : "", sizeof r->error);
	if (r->state == st && st != REDIS_STATE_DOWN)
		return;
	r->state = st;
	if (st == REDIS_STATE_READY)
		redis_resubscribe(r);
	if (r->state_fn != NULL)
		r->state_fn(st, r->error, r->ud);
}

static void
redis_cmd_unlink(struct redis_cmd *c)
{
	struct redis *r = c->r;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (r->inflight == c)
		r->inflight = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Answer C with ERROR later, from the defer timer. */
static void
redis_cmd_fail(struct redis_cmd *c, const char *error)
{
	struct redis *r = c->r;

	util_strlcpy(c->error, error, sizeof c->error);
	c->next = NULL;
	if (r->failed_tail != NULL)
		r->failed_tail->next = c;
	else
		r->failed = c;
	r->failed_tail = c;
	loop_timer_start(r->defer_timer, 0, 0);
}

/* The connection is gone (hiredis freed or frees the context): DOWN, retry. */
static void
redis_down(struct redis *r, const char *why)
{
	r->ac = NULL;
	r->downs++;
	loop_timer_stop(r->connect_timer);
	loop_timer_stop(r->watch_timer);
	r->drop_reason[0] = '\0';
	loop_timer_start(r->retry_timer, (uint64_t)r->backoff_ms, 0);
	r->backoff_ms = r->backoff_ms * 2 > r->retry_max_ms ? r->retry_max_ms :
	    r->backoff_ms * 2;
	redis_set_state(r, REDIS_STATE_DOWN, why);
}

/* Drop the connection ourselves, saying WHY; only outside hiredis' callbacks. */
static void
redis_drop(struct redis *r, const char *why)
{
	redisAsyncContext *ac = r->ac;
	unsigned downs = r->downs;
	char msg[256];

	if (ac == NULL)
		return;
	util_strlcpy(msg, why, sizeof msg);
	util_strlcpy(r->drop_reason, msg, sizeof r->drop_reason);
	/* runs the reply callbacks, and the disconnect callback only when it
	 * was connected */
	redisAsyncFree(ac);
	if (r->downs == downs)
		redis_down(r, msg);
}

/* ---- callbacks ------------------------------------------------------------------- */

static void
redis_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_cmd *c = privdata;
	struct redis *r = c->r;
	const redisReply *rp = reply;
	struct redis_value v;

	(void)ac;
	redis_cmd_unlink(c);
	if (r->freeing) {
		free(c);
		return;
	}
	if (rp == NULL) {
		/* the context is going away: say why, later */
		redis_cmd_fail(c, r->drop_reason[0] != '\0' ? r->drop_reason :
		    ac->errstr[0] != '\0' ? ac->errstr : "connection lost");
		return;
	}
	redis_value_fill(&v, rp);
	if (c->done == NULL) {
		/* AUTH or SELECT: an error ends the connection */
		if (v.type == REDIS_T_ERROR) {
			char msg[256];

			snprintf(msg, sizeof msg, "%s refused: %.200s", c->setup, v.str);
			util_strlcpy(r->drop_reason, msg, sizeof r->drop_reason);
			/* not from inside hiredis: the watch timer drops it */
			loop_timer_start(r->watch_timer, 0, REDIS_WATCH_MS);
		} else if (c->makes_ready && r->state == REDIS_STATE_CONNECTING) {
			r->backoff_ms = REDIS_RETRY_FIRST_MS;
			redis_set_state(r, REDIS_STATE_READY, NULL);
		}
	} else {
		c->done(&v, NULL, c->ud);
	}
	redis_value_clear(&v);
	free(c);
}

static void
redis_on_connect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;
	char msg[256];

	if (r == NULL || r->freeing)
		return;
	loop_timer_stop(r->connect_timer);
	if (status != REDIS_OK) {
		/* hiredis frees the context when this returns */
		util_strlcpy(msg, ac->errstr[0] != '\0' ? ac->errstr : "cannot connect",
		    sizeof msg);
		redis_down(r, msg);
		return;
	}
	loop_timer_start(r->watch_timer, REDIS_WATCH_MS, REDIS_WATCH_MS);
	if (!r->url.has_password && r->url.db == 0) {
		r->backoff_ms = REDIS_RETRY_FIRST_MS;
		redis_set_state(r, REDIS_STATE_READY, NULL);
	}
}

static void
redis_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;
	char msg[256];

	if (r == NULL || r->freeing)
		return;
	if (r->drop_reason[0] != '\0')
		util_strlcpy(msg, r->drop_reason, sizeof msg);
	else if (status != REDIS_OK && ac->errstr[0] != '\0')
		util_strlcpy(msg, ac->errstr, sizeof msg);
	else
		util_strlcpy(msg, "disconnected", sizeof msg);
	redis_down(r, msg);
}

/* Send ARGV on the live context with C as its privdata; -1 when refused. */
static int
redis_send(struct redis *r, struct redis_cmd *c, int argc, const char *const *argv)
{
	size_t lens[16];
	const char *args[16];

	if (argc <= 0 || argc > 16)
		return -1;
	for (int i = 0; i < argc; i++) {
		args[i] = argv[i];
		lens[i] = strlen(argv[i]);
	}
	c->sent_ms = loop_now_ms(r->loop);
	if (redisAsyncCommandArgv(r->ac, redis_on_reply, c, argc, args, lens) != REDIS_OK)
		return -1;
	c->next = r->inflight;
	if (r->inflight != NULL)
		r->inflight->prev = c;
	r->inflight = c;
	return 0;
}

/* A reply on a subscribed channel: ["message", channel, payload] (or the
 * subscription's confirmation, ignored); NULL when the context goes. */
static void
redis_on_message(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_sub *s = privdata;
	const redisReply *rp = reply;

	(void)ac;
	if (rp == NULL || s->r->freeing || rp->type != REDIS_REPLY_ARRAY || rp->elements != 3 ||
	    rp->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(rp->element[0]->str, "message") != 0 ||
	    rp->element[2]->type != REDIS_REPLY_STRING)
		return;
	s->fn(s->channel, rp->element[2]->str, s->ud);
}

static void
redis_resubscribe(struct redis *r)
{
	for (struct redis_sub *s = r->subs; s != NULL && r->ac != NULL; s = s->next) {
		const char *args[2] = { "SUBSCRIBE", s->channel };
		size_t lens[2] = { 9, strlen(s->channel) };

		redisAsyncCommandArgv(r->ac, redis_on_message, s, 2, args, lens);
	}
}

static void
redis_connect(struct redis *r)
{
	redisAsyncContext *ac;
	char msg[256];

	ac = redisAsyncConnect(r->url.host, r->url.port);
	if (ac == NULL) {
		redis_down(r, "out of memory connecting");
		return;
	}
	if (ac->err) {
		util_strlcpy(msg, ac->errstr, sizeof msg);
		redisAsyncFree(ac);
		redis_down(r, msg);
		return;
	}
	ac->data = r;
	if (redisLibuvAttach(ac, r->loop) != REDIS_OK) {
		redisAsyncFree(ac);
		redis_down(r, "cannot watch the connection's socket");
		return;
	}
	redisAsyncSetConnectCallback(ac, redis_on_connect);
	redisAsyncSetDisconnectCallback(ac, redis_on_disconnect);
	r->ac = ac;
	redis_set_state(r, REDIS_STATE_CONNECTING, NULL);
	/* hiredis' libuv adapter ignores a poll error, which is how a refused
	 * connect shows: look at the socket's error ourselves meanwhile */
	r->connect_start_ms = loop_now_ms(r->loop);
	loop_timer_start(r->connect_timer, REDIS_PROBE_MS, REDIS_PROBE_MS);
	/* queued before the connection is up; hiredis sends them in order */
	if (r->url.has_password) {
		struct redis_cmd *c = xcalloc(1, sizeof *c);
		const char *argv[3] = { "AUTH", r->url.user, r->url.password };
		/* "default" is what a bare password means: the 2-argument form
		 * works with every version, the 3-argument one only from 6.0 */
		int with_user = r->url.user[0] != '\0' && strcmp(r->url.user, "default") != 0;

		if (!with_user)
			argv[1] = r->url.password;
		c->r = r;
		c->setup = "AUTH";
		c->makes_ready = r->url.db == 0;
		if (redis_send(r, c, with_user ? 3 : 2, argv) != 0)
			free(c);
	}
	if (r->url.db != 0) {
		struct redis_cmd *c = xcalloc(1, sizeof *c);
		char db[16];
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof db, "%d", r->url.db);
		c->r = r;
		c->setup = "SELECT";
		c->makes_ready = 1;
		if (redis_send(r, c, 2, argv) != 0)
			free(c);
	}
}

static void
redis_connect_timeout_cb(struct loop_timer *t, void *ud)
{
	struct redis *r = ud;
	char msg[96];
	int soerr = 0;
	socklen_t len = sizeof soerr;

	(void)t;
	if (r->state != REDIS_STATE_CONNECTING || r->ac == NULL) {
		loop_timer_stop(r->connect_timer);
		return;
	}
	if (getsockopt(r->ac->c.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0) {
		snprintf(msg, sizeof msg, "%s", strerror(soerr));
		redis_drop(r, msg);
		return;
	}
	if (loop_now_ms(r->loop) - r->connect_start_ms < (uint64_t)r->connect_ms)
		return;
	snprintf(msg, sizeof msg, "no answer within %lld ms (connect timeout)",
	    (long long)r->connect_ms);
	redis_drop(r, msg);
}

static void
redis_retry_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	redis_connect(ud);
}

/* Every WATCH_MS while connected: a setup refusal to act on, or the
 * oldest command waiting too long. */
static void
redis_watch_cb(struct loop_timer *t, void *ud)
{
	struct redis *r = ud;
	struct redis_cmd *c;
	uint64_t now = loop_now_ms(r->loop);
	char msg[256];

	(void)t;
	if (r->ac == NULL)
		return;
	if (r->drop_reason[0] != '\0') {
		util_strlcpy(msg, r->drop_reason, sizeof msg);
		redis_drop(r, msg);
		return;
	}
	for (c = r->inflight; c != NULL && c->next != NULL; c = c->next)
		;
	if (c != NULL && now - c->sent_ms > (uint64_t)r->command_ms) {
		snprintf(msg, sizeof msg, "no reply within %lld ms: connection dropped",
		    (long long)r->command_ms);
		redis_drop(r, msg);
	}
}

static void
redis_defer_cb(struct loop_timer *t, void *ud)
{
	struct redis *r = ud;
	struct redis_cmd *c;

	(void)t;
	while ((c = r->failed) != NULL) {
		r->failed = c->next;
		if (r->failed == NULL)
			r->failed_tail = NULL;
		if (c->done != NULL)
			c->done(NULL, c->error, c->ud);
		free(c);
	}
}

/* ---- public ---------------------------------------------------------------------- */

struct redis *
redis_new(uv_loop_t *loop, const struct redis_opts *o, redis_state_fn *state_fn,
    void *ud, struct err *e)
{
	struct redis *r = xcalloc(1, sizeof *r);

	if (redis_url_parse(o->url, &r->url, e) != 0) {
		free(r);
		return NULL;
	}
	r->loop = loop;
	if (strchr(r->url.host, ':') != NULL)
		snprintf(r->target, sizeof r->target, "[%s]:%d/%d", r->url.host, r->url.port,
		    r->url.db);
	else
		snprintf(r->target, sizeof r->target, "%s:%d/%d", r->url.host, r->url.port,
		    r->url.db);
	r->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms :
	    REDIS_DEFAULT_CONNECT_MS;
	r->command_ms = o->command_timeout_ms > 0 ? o->command_timeout_ms :
	    REDIS_DEFAULT_COMMAND_MS;
	r->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : REDIS_DEFAULT_RETRY_MAX_MS;
	r->backoff_ms = REDIS_RETRY_FIRST_MS;
	r->state_fn = state_fn;
	r->ud = ud;
	r->connect_timer = loop_timer_new(loop, redis_connect_timeout_cb, r);
	r->retry_timer = loop_timer_new(loop, redis_retry_cb, r);
	r->watch_timer = loop_timer_new(loop, redis_watch_cb, r);
	r->defer_timer = loop_timer_new(loop, redis_defer_cb, r);
	return r;
}

void
redis_start(struct redis *r)
{
	if (r != NULL && r->state == REDIS_STATE_IDLE)
		redis_connect(r);
}

void
redis_free(struct redis **rp)
{
	struct redis *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	*rp = NULL;
	r->freeing = 1;
	if (r->ac != NULL) {
		redisAsyncContext *ac = r->ac;

		r->ac = NULL;
		redisAsyncFree(ac);
	}
	while (r->failed != NULL) {
		struct redis_cmd *c = r->failed;

		r->failed = c->next;
		free(c);
	}
	while (r->subs != NULL) {
		struct redis_sub *s = r->subs;

		r->subs = s->next;
		free(s->channel);
		free(s);
	}
	loop_timer_free(&r->connect_timer);
	loop_timer_free(&r->retry_timer);
	loop_timer_free(&r->watch_timer);
	loop_timer_free(&r->defer_timer);
	redis_url_wipe(&r->url);
	free(r);
}

void
redis_command(struct redis *r, int argc, const char *const *argv, redis_reply_fn *done,
    void *ud)
{
	struct redis_cmd *c = xcalloc(1, sizeof *c);

	c->r = r;
	c->done = done;
	c->ud = ud;
	if (r->state != REDIS_STATE_READY || r->ac == NULL || r->drop_reason[0] != '\0') {
		char msg[256];

		snprintf(msg, sizeof msg, "not connected%s%.200s", r->error[0] != '\0' ?
		    ": " : "", r->error);
		redis_cmd_fail(c, msg);
		return;
	}
	if (redis_send(r, c, argc, argv) != 0)
		redis_cmd_fail(c, argc > 16 ? "too many arguments" : "the command was refused");
}

void
redis_subscribe(struct redis *r, const char *channel, redis_message_fn *fn, void *ud)
{
	struct redis_sub *s = xcalloc(1, sizeof *s);

	s->r = r;
	s->channel = xstrdup(channel);
	s->fn = fn;
	s->ud = ud;
	s->next = r->subs;
	r->subs = s;
	if (r->state == REDIS_STATE_READY && r->ac != NULL) {
		const char *args[2] = { "SUBSCRIBE", s->channel };
		size_t lens[2] = { 9, strlen(s->channel) };

		redisAsyncCommandArgv(r->ac, redis_on_message, s, 2, args, lens);
	}
}

enum redis_state
redis_state(const struct redis *r)
{
	return r != NULL ? r->state : REDIS_STATE_IDLE;
}

const char *
redis_error(const struct redis *r)
{
	return r != NULL ? r->error : "";
}

const char *
redis_target(const struct redis *r)
{
	return r != NULL ? r->target : "";
}

const char *
redis_state_name(enum redis_state st)
{
	switch (st) {
	case REDIS_STATE_IDLE: return "idle";
	case REDIS_STATE_CONNECTING: return "connecting";
	case REDIS_STATE_READY: return "ready";
	case REDIS_STATE_DOWN: return "down";
	}
	return "?";
}
