/* gqlws.c - GraphQL subscriptions over graphql-transport-ws, on ws.h.
 *
 * One attempt: ws_connect (CONNECTING) -> on_open: connection_init and the
 * ack timer -> connection_ack: every pending subscription is sent, the
 * heartbeat starts, OPEN -> whatever ends the connection goes through
 * lost(), which picks the delay and arms the retry timer (RETRYING) or
 * gives up (FAILED).
 *
 * The server breaking the protocol (not JSON, an unknown type, a binary or
 * oversized message, a `next` before the ack) ends the connection with
 * 4400 as PROTOCOL.md asks; a `next`/`error`/`complete` for an id we do not
 * know is ignored, since the server may still send for an operation we
 * completed a moment ago.
 *
 * Reentrancy: the owner may free the client or a subscription from inside
 * any callback.  Every entry point from the loop (ws callbacks, timers)
 * runs between enter() and leave(); while busy, gqlws_free and
 * gqlws_unsubscribe only detach, and leave() frees what was detached when
 * the outermost entry point returns.  Memory therefore stays valid until
 * then, and after each callback the code only checks whether it should go
 * on (g->dead, or the connection changed under it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "signalbox/diag.h"
#include "signalbox/gqlws.h"
#include "signalbox/loop.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/ws.h"
#include "signalbox/xalloc.h"

enum {
	GQLWS_DEFAULT_ACK_MS = 10000,
	GQLWS_DEFAULT_PING_MS = 20000,
	GQLWS_DEFAULT_PONG_MS = 10000,
	GQLWS_DEFAULT_RETRY_INITIAL_MS = 500,
	GQLWS_DEFAULT_RETRY_MAX_MS = 30000,
	GQLWS_DEFAULT_MAX_MESSAGE = 1024 * 1024,
	GQLWS_STABLE_MS = 10000,	/* an acked connection this old resets the backoff */
	GQLWS_WORDS_MAX = 1000,		/* error texts handed to the owner */
	GQLWS_EXCERPT = 40,		/* bytes of a bad message quoted in the reason */
};

enum sub_state {
	SUB_PENDING,	/* sent once the connection is acknowledged */
	SUB_ACTIVE,	/* sent on the current connection */
	SUB_WAITING,	/* refused for now; its timer sends it again */
	SUB_ENDED,	/* completed, or failed for good */
};

struct gqlws_sub {
	struct gqlws *g;
	struct gqlws_sub *next;
	char id[24];
	char *query;
	char *msg;			/* the subscribe message, id included */
	struct gqlws_sub_cbs cbs;
	void *ud;
	enum sub_state state;
	unsigned sent;			/* subscribe messages sent */
	unsigned resubscribed;
	uint64_t index, seq;
	struct loop_timer *retry;	/* SUB_WAITING; created on first use */
};

struct gqlws {
	uv_loop_t *loop;
	struct ws_ctx *ws;
	struct ws_conn *conn;
	struct gqlws_cbs cbs;
	void *ud;

	char *url;
	char **headers;
	char *ca_file;
	char *init_msg;			/* the connection_init message */
	long connect_timeout_ms, ack_timeout_ms, ping_interval_ms, pong_timeout_ms;
	uint64_t retry_initial_ms, retry_max_ms;
	unsigned max_attempts;
	size_t max_message;

	struct gqlws_status st;
	char reason[640];
	int acked;
	uint64_t acked_at;
	int awaiting_pong;
	uint64_t rng;

	struct loop_timer *retry, *ack, *beat;
	struct gqlws_sub *subs;		/* creation order */
	struct gqlws_sub *dead_subs;	/* unsubscribed while busy */
	unsigned long next_id;
	int busy;			/* nesting of loop entry points */
	int dead;			/* gqlws_free was called while busy */
};

static const struct {
	int code;
	const char *words;
} close_words[] = {
	{ 1000, "normal closure" },
	{ 1001, "going away" },
	{ 1002, "protocol error" },
	{ 1003, "unsupported data" },
	{ 1005, "no status code" },
	{ 1006, "closed without a close frame" },
	{ 1007, "invalid payload data" },
	{ 1008, "policy violation" },
	{ 1009, "message too big" },
	{ 1011, "internal server error" },
	{ 1012, "service restart" },
	{ 1013, "try again later" },
	{ 1014, "bad gateway" },
	{ 1015, "TLS handshake failure" },
	{ 4004, "bad response" },
	{ 4005, "internal client error" },
	{ 4400, "bad request" },
	{ 4401, "unauthorized" },
	{ 4403, "forbidden" },
	{ 4406, "subprotocol not acceptable" },
	{ 4408, "connection initialisation timeout" },
	{ 4409, "subscriber already exists" },
	{ 4429, "too many initialisation requests" },
	{ 4499, "terminated" },
	{ 4500, "internal server error" },
};

static void on_retry_timer(struct loop_timer *t, void *ud);
static void on_ack_timer(struct loop_timer *t, void *ud);
static void on_beat_timer(struct loop_timer *t, void *ud);

/* ---- small helpers ---------------------------------------------------------- */

const char *
gqlws_close_words(int code)
{
	for (size_t i = 0; i < ARRAY_LEN(close_words); i++)
		if (close_words[i].code == code)
			return close_words[i].words;
	return "unknown close code";
}

const char *
gqlws_state_name(enum gqlws_state st)
{
	switch (st) {
	case GQLWS_CONNECTING:
		return "connecting";
	case GQLWS_OPEN:
		return "open";
	case GQLWS_RETRYING:
		return "retrying";
	case GQLWS_FAILED:
		return "failed";
	}
	return "unknown";
}

const char *
gqlws_sub_id(const struct gqlws_sub *s)
{
	return s->id;
}

const struct gqlws_status *
gqlws_get_status(const struct gqlws *g)
{
	return &g->st;
}

/* "512 B", "1.0 MiB". */
static void
fmt_size(char *buf, size_t len, size_t n)
{
	if (n < 1024)
		snprintf(buf, len, "%zu B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB", (double)n / 1024);
	else
		snprintf(buf, len, "%.1f MiB", (double)n / (1024 * 1024));
}

static uint64_t
rng_next(struct gqlws *g)
{
	uint64_t x = g->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return g->rng = x;
}

/* The delay before attempt number ATTEMPTS + 1: doubling from the initial
 * delay, capped, with +-20 % jitter that never exceeds the cap. */
static uint64_t
backoff_ms(struct gqlws *g, unsigned attempts)
{
	uint64_t d = g->retry_initial_ms;

	for (unsigned i = 1; i < attempts && d < g->retry_max_ms; i++)
		d *= 2;
	if (d > g->retry_max_ms)
		d = g->retry_max_ms;
	d = d * (800 + rng_next(g) % 401) / 1000;
	if (d > g->retry_max_ms)
		d = g->retry_max_ms;
	return d > 0 ? d : 1;
}

/* Untrusted text made printable and cut to MAX bytes (caller frees). */
static char *
clean(const char *s, size_t n, size_t max)
{
	char *t;
	size_t len;

	t = text_sanitize(s, n > max ? max : n, 0);
	len = strlen(t);
	if (n > max) {
		t = xreallocarray(t, len + 4, 1);
		memcpy(t + len, "...", 4);
	}
	return t;
}

/* Send MSG (WHAT names it in the log: the init message may hold a token). */
static void
send_json(struct gqlws *g, const char *msg, const char *what)
{
	if (g->conn != NULL && ws_send_text(g->conn, msg, strlen(msg)) != 0)
		diag_log(DIAG_WARN, "gqlws %s: cannot send %s", g->url, what);
}

static void
enter(struct gqlws *g)
{
	g->busy++;
}

static void
sub_destroy(struct gqlws_sub *s)
{
	loop_timer_free(&s->retry);
	free(s->query);
	free(s->msg);
	free(s);
}

static void
client_destroy(struct gqlws *g)
{
	while (g->dead_subs != NULL) {
		struct gqlws_sub *s = g->dead_subs;

		g->dead_subs = s->next;
		sub_destroy(s);
	}
	for (char **hp = g->headers; hp != NULL && *hp != NULL; hp++)
		free(*hp);
	free(g->headers);
	free(g->url);
	free(g->ca_file);
	free(g->init_msg);
	free(g);
}

/* End of a loop entry point: free what was detached while busy.  1 when
 * the client itself is gone. */
static int
leave(struct gqlws *g)
{
	if (--g->busy > 0)
		return g->dead;
	while (g->dead_subs != NULL) {
		struct gqlws_sub *s = g->dead_subs;

		g->dead_subs = s->next;
		sub_destroy(s);
	}
	if (g->dead) {
		client_destroy(g);
		return 1;
	}
	return 0;
}

static void
emit_state(struct gqlws *g)
{
	diag_log(g->st.state == GQLWS_OPEN || g->st.state == GQLWS_CONNECTING ?
	    DIAG_INFO : DIAG_WARN, "gqlws %s: %s%s%s", g->url,
	    gqlws_state_name(g->st.state), g->st.reason != NULL ? ": " : "",
	    g->st.reason != NULL ? g->st.reason : "");
	if (g->cbs.on_state != NULL && !g->dead)
		g->cbs.on_state(g, &g->st, g->ud);
}

/* ---- connection lifecycle --------------------------------------------------- */

/* Forget the connection state (not the connection itself). */
static void
reset_conn_state(struct gqlws *g)
{
	loop_timer_stop(g->ack);
	loop_timer_stop(g->beat);
	g->acked = 0;
	g->awaiting_pong = 0;
	for (struct gqlws_sub *s = g->subs; s != NULL; s = s->next)
		if (s->state == SUB_ACTIVE)
			s->state = SUB_PENDING;
}

/* The connection is gone (G->conn already NULL) because of REASON: retry
 * later or give up, and tell the owner. */
static void
lost(struct gqlws *g, int close_code, int auth, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
lost(struct gqlws *g, int close_code, int auth, const char *fmt, ...)
{
	va_list ap;
	int stable = g->acked && loop_now_ms(g->loop) - g->acked_at >= GQLWS_STABLE_MS;
	size_t n;

	if (g->dead)	/* freed from a callback: its timers are gone */
		return;
	reset_conn_state(g);
	if (stable)
		g->st.attempts = 0;
	g->st.attempts++;
	g->st.close_code = close_code;
	g->st.auth = auth;
	va_start(ap, fmt);
	vsnprintf(g->reason, sizeof g->reason, fmt, ap);
	va_end(ap);
	g->st.reason = g->reason;
	if (g->max_attempts > 0 && g->st.attempts >= g->max_attempts) {
		n = strlen(g->reason);
		snprintf(g->reason + n, sizeof g->reason - n, " (gave up after %u attempt%s)",
		    g->st.attempts, g->st.attempts == 1 ? "" : "s");
		g->st.state = GQLWS_FAILED;
		g->st.retry_in_ms = 0;
	} else {
		/* A refusal will not go away in half a second. */
		g->st.state = GQLWS_RETRYING;
		g->st.retry_in_ms = auth ? g->retry_max_ms : backoff_ms(g, g->st.attempts);
		loop_timer_start(g->retry, g->st.retry_in_ms, 0);
	}
	emit_state(g);
}

/* We end the connection (the server misbehaved or went quiet). */
static void
drop(struct gqlws *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
drop(struct gqlws *g, int code, const char *fmt, ...)
{
	char why[sizeof g->reason];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (g->conn != NULL) {
		ws_abandon(g->conn, code, gqlws_close_words(code));
		g->conn = NULL;
	}
	lost(g, code, 0, "%s", why);
}

static void
on_ws_open(struct ws_conn *c, void *ud)
{
	struct gqlws *g = ud;

	if (c != g->conn)
		return;
	enter(g);
	send_json(g, g->init_msg, "connection_init");
	loop_timer_start(g->ack, (uint64_t)g->ack_timeout_ms, 0);
	leave(g);
}

static void
on_ws_close(struct ws_conn *c, int code, const char *reason, void *ud)
{
	struct gqlws *g = ud;
	const char *words = gqlws_close_words(code);
	char *r;
	int same;

	if (c != g->conn)
		return;
	enter(g);
	g->conn = NULL;
	r = clean(reason != NULL ? reason : "", reason != NULL ? strlen(reason) : 0, 120);
	same = r[0] == '\0' || strcasecmp(r, words) == 0;
	if (code == 4401 || code == 4403)
		lost(g, code, 1, "not authorized: the server closed the connection with %d "
		    "(%s)%s%s%s; check the token", code, words, same ? "" : ": \"",
		    same ? "" : r, same ? "" : "\"");
	else if (code == 1006)
		lost(g, code, 0, "connection lost (%s)", words);
	else
		lost(g, code, 0, "the server closed the connection with %d (%s)%s%s%s", code,
		    words, same ? "" : ": \"", same ? "" : r, same ? "" : "\"");
	free(r);
	leave(g);
}

static void
on_ws_error(struct ws_conn *c, const char *msg, void *ud)
{
	struct gqlws *g = ud;
	int auth;

	if (c != g->conn)
		return;
	enter(g);
	g->conn = NULL;
	/* lws says "HS: ws upgrade unauthorized" for an upgrade answered 401. */
	auth = util_strcasestr(msg, "unauthorized") != NULL;
	if (auth)
		lost(g, 0, 1, "not authorized: the server refused the WebSocket upgrade (%s); "
		    "check the token", msg);
	else if (g->acked || g->st.state == GQLWS_OPEN)
		lost(g, 0, 0, "connection lost: %s", msg);
	else
		lost(g, 0, 0, "cannot connect: %s", msg);
	leave(g);
}

static void handle_message(struct gqlws *g, const char *data, size_t len, int binary);

static void
on_ws_message(struct ws_conn *c, const char *data, size_t len, int binary, void *ud)
{
	struct gqlws *g = ud;

	if (c != g->conn)
		return;
	enter(g);
	handle_message(g, data, len, binary);
	leave(g);
}

static void
start_attempt(struct gqlws *g)
{
	struct ws_cbs cbs = { on_ws_open, on_ws_message, on_ws_close, on_ws_error };
	struct ws_opts o = {
		.url = g->url,
		.subprotocol = GQLWS_SUBPROTOCOL,
		.ca_file = g->ca_file,
		.headers = (const char *const *)g->headers,
		.connect_timeout_ms = g->connect_timeout_ms,
	};
	struct err e = { 0 };

	reset_conn_state(g);
	g->conn = ws_connect(g->ws, &o, &cbs, g, &e);
	if (g->conn == NULL) {
		/* Only a malformed URL gets here: retrying cannot help. */
		util_strlcpy(g->reason, e.msg, sizeof g->reason);
		g->st.state = GQLWS_FAILED;
		g->st.reason = g->reason;
		g->st.retry_in_ms = 0;
		emit_state(g);
		return;
	}
	g->st.state = GQLWS_CONNECTING;
	g->st.reason = NULL;
	g->st.retry_in_ms = 0;
	emit_state(g);
}

static void
on_retry_timer(struct loop_timer *t, void *ud)
{
	struct gqlws *g = ud;

	(void)t;
	enter(g);
	if (g->conn == NULL)
		start_attempt(g);
	leave(g);
}

static void
on_ack_timer(struct loop_timer *t, void *ud)
{
	struct gqlws *g = ud;

	(void)t;
	enter(g);
	if (g->conn != NULL && !g->acked)
		drop(g, 4408, "no connection_ack within %ld ms after connection_init",
		    g->ack_timeout_ms);
	leave(g);
}

static void
on_beat_timer(struct loop_timer *t, void *ud)
{
	struct gqlws *g = ud;

	(void)t;
	enter(g);
	if (g->conn != NULL && g->acked) {
		if (g->awaiting_pong)
			drop(g, 1001, "no pong within %ld ms: the connection is dead",
			    g->pong_timeout_ms);
		else {
			send_json(g, "{\"type\":\"ping\"}", "ping");
			g->awaiting_pong = 1;
			loop_timer_start(g->beat, (uint64_t)g->pong_timeout_ms, 0);
		}
	}
	leave(g);
}

/* ---- subscriptions ----------------------------------------------------------- */

static void
sub_send(struct gqlws *g, struct gqlws_sub *s)
{
	if (g->conn == NULL || ws_send_text(g->conn, s->msg, strlen(s->msg)) != 0) {
		s->state = SUB_PENDING;
		return;
	}
	if (s->sent++ > 0)
		s->resubscribed++;
	s->index = 0;
	s->state = SUB_ACTIVE;
}

static void
on_sub_timer(struct loop_timer *t, void *ud)
{
	struct gqlws_sub *s = ud;
	struct gqlws *g = s->g;

	(void)t;
	enter(g);
	if (s->state == SUB_WAITING) {
		if (g->conn != NULL && g->acked)
			sub_send(g, s);
		else
			s->state = SUB_PENDING;
	}
	leave(g);
}

static struct gqlws_sub *
sub_find(struct gqlws *g, const char *id)
{
	for (struct gqlws_sub *s = g->subs; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* The messages of a GraphQL error array in words ("; " between), or NULL
 * when ERRORS holds none.  Caller frees. */
static char *
errors_words(const cJSON *errors)
{
	char buf[GQLWS_WORDS_MAX + 1];
	size_t len = 0;
	const cJSON *it;

	buf[0] = '\0';
	if (!cJSON_IsArray(errors))
		return NULL;
	cJSON_ArrayForEach(it, errors) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "message");
		const char *text = cJSON_IsString(m) && m->valuestring != NULL ? m->valuestring :
		    "(an error without a message)";
		char *t = clean(text, strlen(text), 300);

		snprintf(buf + len, sizeof buf - len, "%s%s", len > 0 ? "; " : "", t);
		len = strlen(buf);
		free(t);
		if (len >= sizeof buf - 1)
			break;
	}
	return len > 0 ? xstrdup(buf) : NULL;
}

/* Whether the error array says "not authorized"; whether it says "rate
 * limited" (and after how many ms to try again, 0 = unknown). */
static void
errors_classify(const cJSON *errors, int *auth, int *rate, uint64_t *retry_after_ms)
{
	static const char *const auth_words[] = { "not authorized", "unauthorized",
	    "unauthenticated", "forbidden", "permission denied" };
	const cJSON *it;

	*auth = *rate = 0;
	*retry_after_ms = 0;
	if (!cJSON_IsArray(errors))
		return;
	cJSON_ArrayForEach(it, errors) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "message");
		const cJSON *ext = cJSON_GetObjectItemCaseSensitive(it, "extensions");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(ext, "code");
		const cJSON *ra = cJSON_GetObjectItemCaseSensitive(ext, "retryAfter");
		const char *msg = cJSON_IsString(m) ? m->valuestring : NULL;
		const char *cs = cJSON_IsString(code) ? code->valuestring : NULL;

		for (size_t i = 0; i < ARRAY_LEN(auth_words); i++) {
			if ((msg != NULL && util_strcasestr(msg, auth_words[i]) != NULL) ||
			    (cs != NULL && util_strcasestr(cs, auth_words[i]) != NULL))
				*auth = 1;
		}
		if ((cs != NULL && strcasecmp(cs, "RATE_LIMITED") == 0) ||
		    (msg != NULL && util_strcasestr(msg, "rate limit") != NULL)) {
			*rate = 1;
			if (cJSON_IsNumber(ra) && ra->valuedouble > 0 && ra->valuedouble < 86400)
				*retry_after_ms = (uint64_t)(ra->valuedouble * 1000);
		}
	}
}

static void
handle_next(struct gqlws *g, struct gqlws_sub *s, const cJSON *payload, const char *raw,
    size_t len)
{
	struct gqlws_next n = { 0 };
	char *errors;

	if (!cJSON_IsObject(payload)) {
		drop(g, 4400, "the server sent a 'next' for subscription %s without an "
		    "object payload", s->id);
		return;
	}
	errors = errors_words(cJSON_GetObjectItemCaseSensitive(payload, "errors"));
	n.payload = payload;
	n.errors = errors;
	n.raw = raw;
	n.raw_len = len;
	n.resubscribed = s->resubscribed;
	n.index = ++s->index;
	n.seq = ++s->seq;
	if (s->cbs.on_next != NULL)
		s->cbs.on_next(s, &n, s->ud);
	free(errors);
}

static void
handle_error(struct gqlws *g, struct gqlws_sub *s, const cJSON *payload)
{
	struct gqlws_error er = { 0 };
	char *words = errors_words(payload);
	uint64_t after;
	int rate;

	er.message = words != NULL ? words : "the server reported an error without details";
	er.errors = payload;
	errors_classify(payload, &er.auth, &rate, &after);
	if (er.auth || rate) {
		/* Sent again later, on this connection or the next one; never
		 * in a tight loop. */
		er.retry_in_ms = er.auth || after == 0 ? g->retry_max_ms : after;
		if (er.retry_in_ms < g->retry_initial_ms)
			er.retry_in_ms = g->retry_initial_ms;
		if (er.retry_in_ms > g->retry_max_ms)
			er.retry_in_ms = g->retry_max_ms;
		s->state = SUB_WAITING;
		if (s->retry == NULL)
			s->retry = loop_timer_new(g->loop, on_sub_timer, s);
		loop_timer_start(s->retry, er.retry_in_ms, 0);
	} else {
		er.final = 1;
		s->state = SUB_ENDED;
	}
	diag_log(DIAG_WARN, "gqlws %s: subscription %s: %s%s", g->url, s->id, er.message,
	    er.final ? "" : " (will subscribe again)");
	if (s->cbs.on_error != NULL)
		s->cbs.on_error(s, &er, s->ud);
	free(words);
}

static void
handle_ack(struct gqlws *g)
{
	loop_timer_stop(g->ack);
	g->acked = 1;
	g->acked_at = loop_now_ms(g->loop);
	for (struct gqlws_sub *s = g->subs; s != NULL; s = s->next)
		if (s->state == SUB_PENDING)
			sub_send(g, s);
	if (g->ping_interval_ms > 0)
		loop_timer_start(g->beat, (uint64_t)g->ping_interval_ms, 0);
	g->st.state = GQLWS_OPEN;
	g->st.reason = NULL;
	g->st.retry_in_ms = 0;
	emit_state(g);
}

static void
handle_message(struct gqlws *g, const char *data, size_t len, int binary)
{
	const cJSON *type, *id, *payload;
	const char *t;
	cJSON *root;
	struct gqlws_sub *s;
	char size[32], limit[32];

	if (binary) {
		drop(g, 4400, "the server sent a binary message (graphql-transport-ws is text)");
		return;
	}
	if (len > g->max_message) {
		fmt_size(size, sizeof size, len);
		fmt_size(limit, sizeof limit, g->max_message);
		drop(g, 1009, "the server sent a message of %s; the limit is %s", size, limit);
		return;
	}
	if ((root = cJSON_ParseWithLength(data, len)) == NULL) {
		char *x = clean(data, len, GQLWS_EXCERPT);

		drop(g, 4400, "the server sent a message that is not JSON: \"%s\"", x);
		free(x);
		return;
	}
	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (!cJSON_IsObject(root) || !cJSON_IsString(type) || type->valuestring == NULL) {
		char *x = clean(data, len, GQLWS_EXCERPT);

		drop(g, 4400, "the server sent a message without a type: \"%s\"", x);
		free(x);
		goto out;
	}
	t = type->valuestring;
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	payload = cJSON_GetObjectItemCaseSensitive(root, "payload");

	if (strcmp(t, "ping") == 0) {
		send_json(g, "{\"type\":\"pong\"}", "pong");
	} else if (strcmp(t, "pong") == 0) {
		if (g->awaiting_pong) {
			g->awaiting_pong = 0;
			loop_timer_start(g->beat, (uint64_t)g->ping_interval_ms, 0);
		}
	} else if (strcmp(t, "connection_ack") == 0) {
		if (g->acked)
			drop(g, 4400, "the server sent a second connection_ack");
		else
			handle_ack(g);
	} else if (strcmp(t, "next") == 0 || strcmp(t, "error") == 0 ||
	    strcmp(t, "complete") == 0) {
		if (!g->acked) {
			drop(g, 4400, "the server sent '%s' before connection_ack", t);
			goto out;
		}
		if (!cJSON_IsString(id) || id->valuestring == NULL) {
			drop(g, 4400, "the server sent '%s' without an id", t);
			goto out;
		}
		s = sub_find(g, id->valuestring);
		if (s == NULL || s->state != SUB_ACTIVE) {
			/* In flight when we completed it, or a stray: ignore. */
			diag_log(DIAG_DEBUG, "gqlws %s: ignored '%s' for operation %.40s",
			    g->url, t, id->valuestring);
			goto out;
		}
		if (t[0] == 'n')
			handle_next(g, s, payload, data, len);
		else if (t[0] == 'e')
			handle_error(g, s, payload);
		else {
			s->state = SUB_ENDED;
			if (s->cbs.on_complete != NULL)
				s->cbs.on_complete(s, s->ud);
		}
	} else {
		char *x = clean(t, strlen(t), GQLWS_EXCERPT);

		drop(g, 4400, "the server sent an unknown message type '%s'", x);
		free(x);
	}
out:
	cJSON_Delete(root);
}

/* ---- public API ---------------------------------------------------------------- */

struct gqlws *
gqlws_new(uv_loop_t *loop, struct ws_ctx *ws, const struct gqlws_opts *opts,
    const struct gqlws_cbs *cbs, void *ud, struct err *e)
{
	struct gqlws *g;
	cJSON *init, *payload = NULL;
	size_t n = 0;

	if (opts->url == NULL || (strncasecmp(opts->url, "ws://", 5) != 0 &&
	    strncasecmp(opts->url, "wss://", 6) != 0))
		return err_set(e, ERR_INVALID, "%s: not a ws:// or wss:// URL",
		    opts->url != NULL ? opts->url : "(no URL)"), NULL;
	if (opts->init_payload != NULL) {
		payload = cJSON_Parse(opts->init_payload);
		if (!cJSON_IsObject(payload)) {
			cJSON_Delete(payload);
			return err_set(e, ERR_INVALID, "%s: the connection_init payload is not "
			    "a JSON object", opts->url), NULL;
		}
	}
	init = cJSON_CreateObject();
	cJSON_AddStringToObject(init, "type", "connection_init");
	if (payload != NULL)
		cJSON_AddItemToObject(init, "payload", payload);

	g = xcalloc(1, sizeof *g);
	g->loop = loop;
	g->ws = ws;
	g->cbs = *cbs;
	g->ud = ud;
	g->url = xstrdup(opts->url);
	g->ca_file = opts->ca_file != NULL ? xstrdup(opts->ca_file) : NULL;
	if ((g->init_msg = cJSON_PrintUnformatted(init)) == NULL)
		xalloc_die("gqlws: out of memory");
	cJSON_Delete(init);
	for (const char *const *hp = opts->headers; hp != NULL && *hp != NULL; hp++)
		n++;
	g->headers = xcalloc(n + 1, sizeof *g->headers);
	for (size_t i = 0; i < n; i++)
		g->headers[i] = xstrdup(opts->headers[i]);
	g->connect_timeout_ms = opts->connect_timeout_ms;
	g->ack_timeout_ms = opts->ack_timeout_ms > 0 ? opts->ack_timeout_ms : GQLWS_DEFAULT_ACK_MS;
	g->ping_interval_ms = opts->ping_interval_ms > 0 ? opts->ping_interval_ms :
	    opts->ping_interval_ms == 0 ? GQLWS_DEFAULT_PING_MS : 0;
	g->pong_timeout_ms = opts->pong_timeout_ms > 0 ? opts->pong_timeout_ms :
	    GQLWS_DEFAULT_PONG_MS;
	g->retry_initial_ms = opts->retry_initial_ms > 0 ? (uint64_t)opts->retry_initial_ms :
	    GQLWS_DEFAULT_RETRY_INITIAL_MS;
	g->retry_max_ms = opts->retry_max_ms > 0 ? (uint64_t)opts->retry_max_ms :
	    GQLWS_DEFAULT_RETRY_MAX_MS;
	if (g->retry_max_ms < g->retry_initial_ms)
		g->retry_max_ms = g->retry_initial_ms;
	g->max_attempts = opts->max_attempts;
	g->max_message = opts->max_message > 0 ? opts->max_message : GQLWS_DEFAULT_MAX_MESSAGE;
	g->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)g) | 1;
	g->st.state = GQLWS_CONNECTING;
	g->retry = loop_timer_new(loop, on_retry_timer, g);
	g->ack = loop_timer_new(loop, on_ack_timer, g);
	g->beat = loop_timer_new(loop, on_beat_timer, g);
	/* The first attempt and its on_state come from the loop. */
	loop_timer_start(g->retry, 0, 0);
	return g;
}

void
gqlws_free(struct gqlws **gp)
{
	struct gqlws *g;

	if (gp == NULL || (g = *gp) == NULL)
		return;
	*gp = NULL;
	if (g->conn != NULL) {
		ws_abandon(g->conn, 1000, "client gone");
		g->conn = NULL;
	}
	loop_timer_free(&g->retry);
	loop_timer_free(&g->ack);
	loop_timer_free(&g->beat);
	while (g->subs != NULL) {
		struct gqlws_sub *s = g->subs;

		g->subs = s->next;
		loop_timer_free(&s->retry);
		s->next = g->dead_subs;
		g->dead_subs = s;
	}
	g->dead = 1;
	if (g->busy == 0)
		client_destroy(g);
}

void
gqlws_reconnect(struct gqlws *g)
{
	if (g == NULL || g->dead)
		return;
	if (g->conn != NULL) {
		ws_abandon(g->conn, 1000, "reconnecting");
		g->conn = NULL;
	}
	reset_conn_state(g);
	g->st.attempts = 0;
	loop_timer_start(g->retry, 0, 0);
}

/* The subscribe message for S with QUERY and VARIABLES (NULL or a JSON
 * object); NULL and E otherwise. */
static char *
sub_message(const struct gqlws *g, const char *id, const char *query, const char *variables,
    struct err *e)
{
	cJSON *msg, *payload, *vars = NULL;
	char *text;

	if (variables != NULL) {
		vars = cJSON_Parse(variables);
		if (!cJSON_IsObject(vars)) {
			cJSON_Delete(vars);
			return err_set(e, ERR_INVALID, "%s: subscription variables are not a "
			    "JSON object", g->url), NULL;
		}
	}
	msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "id", id);
	cJSON_AddStringToObject(msg, "type", "subscribe");
	payload = cJSON_AddObjectToObject(msg, "payload");
	cJSON_AddStringToObject(payload, "query", query);
	if (vars != NULL)
		cJSON_AddItemToObject(payload, "variables", vars);
	if ((text = cJSON_PrintUnformatted(msg)) == NULL)
		xalloc_die("gqlws: out of memory");
	cJSON_Delete(msg);
	return text;
}

struct gqlws_sub *
gqlws_subscribe(struct gqlws *g, const char *query, const char *variables,
    const struct gqlws_sub_cbs *cbs, void *ud, struct err *e)
{
	struct gqlws_sub *s, **tail;
	char id[24], *msg;

	if (query == NULL || query[strspn(query, " \t\r\n")] == '\0')
		return err_set(e, ERR_INVALID, "%s: empty subscription query", g->url), NULL;
	snprintf(id, sizeof id, "%lu", g->next_id + 1);
	if ((msg = sub_message(g, id, query, variables, e)) == NULL)
		return NULL;
	g->next_id++;
	s = xcalloc(1, sizeof *s);
	s->g = g;
	s->cbs = *cbs;
	s->ud = ud;
	memcpy(s->id, id, sizeof s->id);
	s->query = xstrdup(query);
	s->msg = msg;
	for (tail = &g->subs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = s;
	s->state = SUB_PENDING;
	if (g->conn != NULL && g->acked)
		sub_send(g, s);
	return s;
}

int
gqlws_sub_set_variables(struct gqlws_sub *s, const char *variables, struct err *e)
{
	char *msg = sub_message(s->g, s->id, s->query, variables, e);

	if (msg == NULL)
		return -1;
	free(s->msg);
	s->msg = msg;
	return 0;
}

void
gqlws_unsubscribe(struct gqlws_sub **sp)
{
	struct gqlws_sub *s, **pp;
	struct gqlws *g;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	g = s->g;
	if (s->state == SUB_ACTIVE && g->conn != NULL && g->acked) {
		char msg[64];

		snprintf(msg, sizeof msg, "{\"id\":\"%s\",\"type\":\"complete\"}", s->id);
		send_json(g, msg, "complete");
	}
	for (pp = &g->subs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	loop_timer_free(&s->retry);
	if (g->busy > 0) {
		s->next = g->dead_subs;
		g->dead_subs = s;
	} else
		sub_destroy(s);
}
