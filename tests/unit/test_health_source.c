/* test_health_source.c - the health source on a real loop, against
 * tests/support/netserver.js (HTTP, HTTPS, WebSocket echo) and a small
 * in-process server for canned responses the Node server does not give (a
 * failing /health body, hostile headers, huge header blocks, a WebSocket
 * handshake that never finishes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netserver_run.h"
#include "signalbox/config.h"
#include "signalbox/health.h"
#include "signalbox/http.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/ws.h"
#include "signalbox/xalloc.h"

static struct netserver srv;

/* --- canned responses, served from the test's own loop ----------------- */

struct canned_conn;

struct canned {
	uv_tcp_t server;
	int port;
	int conns;		/* client connections not yet closed */
	int requests;
	struct canned_conn *list;
};

struct canned_conn {
	uv_tcp_t tcp;
	struct canned *c;
	struct canned_conn *prev, *next;
	char req[8192];
	size_t len;
	int answered;
};

static char *
canned_response(const char *headers, const char *body)
{
	return xasprintf("HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", headers, strlen(body), body);
}

/* The reply to request REQ, or NULL to stay silent. */
static char *
canned_reply(const char *req)
{
	if (strncmp(req, "GET /degraded ", 14) == 0)
		return canned_response("Content-Type: application/json\r\n",
		    "{\"status\":\"ok\",\"db\":\"ok\",\"redis\":\"fail\",\"version\":\"v2\"}");
	if (strncmp(req, "GET /hostile ", 13) == 0)
		return canned_response("Content-Type: text/plain\r\n"
		    "X-Title: \033]0;owned\007\033[2J\033[H\r\n"
		    "X-Bytes: \xff\xfe\xc0\xaf\xc2\x9b" "31m\r\n",
		    "line one\r\n\033[31mred\033[0m\n\xff\xfe tail\x07\nend\n");
	if (strncmp(req, "GET /bigheaders ", 16) == 0) {
		char *hdrs = xmalloc(64 * 1024), *r;
		size_t len = 0;

		hdrs[0] = '\0';
		for (int i = 0; i < 400; i++)
			len += (size_t)snprintf(hdrs + len, 64 * 1024 - len,
			    "X-Filler-%03d: 0123456789abcdef0123456789abcdef\r\n", i);
		r = canned_response(hdrs, "{\"status\":\"ok\"}");
		free(hdrs);
		return r;
	}
	return NULL;	/* /wshang: accept, read, never answer */
}

static void
canned_conn_closed(uv_handle_t *h)
{
	struct canned_conn *cc = h->data;

	cc->c->conns--;
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		cc->c->list = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	free(cc);
}

static void
canned_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct canned_conn *cc = h->data;

	(void)suggested;
	buf->base = cc->req + cc->len;
	buf->len = sizeof cc->req - 1 - cc->len;
}

static void
canned_written(uv_write_t *w, int status)
{
	(void)status;
	free(w->data);
	uv_close((uv_handle_t *)w->handle, canned_conn_closed);
	free(w);
}

static void
canned_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct canned_conn *cc = s->data;
	char *reply;
	uv_write_t *w;
	uv_buf_t out;

	(void)buf;
	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, canned_conn_closed);
		return;
	}
	cc->len += (size_t)n;
	cc->req[cc->len] = '\0';
	if (cc->answered || strstr(cc->req, "\r\n\r\n") == NULL)
		return;
	cc->answered = 1;
	cc->c->requests++;
	if ((reply = canned_reply(cc->req)) == NULL)
		return;
	uv_read_stop(s);
	w = xcalloc(1, sizeof *w);
	w->data = reply;
	out = uv_buf_init(reply, (unsigned)strlen(reply));
	uv_write(w, s, &out, 1, canned_written);
}

static void
canned_accept(uv_stream_t *server, int status)
{
	struct canned *c = server->data;
	struct canned_conn *cc;

	if (status < 0)
		return;
	cc = xcalloc(1, sizeof *cc);
	cc->c = c;
	uv_tcp_init(server->loop, &cc->tcp);
	cc->tcp.data = cc;
	c->conns++;
	cc->next = c->list;
	if (c->list != NULL)
		c->list->prev = cc;
	c->list = cc;
	if (uv_accept(server, (uv_stream_t *)&cc->tcp) != 0) {
		uv_close((uv_handle_t *)&cc->tcp, canned_conn_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&cc->tcp, canned_alloc, canned_read);
}

static void
canned_start(uv_loop_t *loop, struct canned *c)
{
	struct sockaddr_in addr;
	struct sockaddr_storage name;
	int len = sizeof name;

	memset(c, 0, sizeof *c);
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
	assert_int_equal(uv_tcp_init(loop, &c->server), 0);
	c->server.data = c;
	assert_int_equal(uv_tcp_bind(&c->server, (const struct sockaddr *)&addr, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&c->server, 64, canned_accept), 0);
	assert_int_equal(uv_tcp_getsockname(&c->server, (struct sockaddr *)&name, &len), 0);
	c->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
}

/* Close the server and every connection it still holds. */
static void
canned_stop(struct canned *c)
{
	for (struct canned_conn *cc = c->list; cc != NULL; cc = cc->next)
		if (!uv_is_closing((uv_handle_t *)&cc->tcp))
			uv_close((uv_handle_t *)&cc->tcp, canned_conn_closed);
	uv_close((uv_handle_t *)&c->server, NULL);
}

/* --- the fixture: loop, store, clients, config -------------------------- */

struct fx {
	uv_loop_t loop;
	struct store *store;
	struct http *http;
	struct ws_ctx *ws;
	struct config cfg;
	struct health *h;
	struct canned canned;
};

static void
fx_init(struct fx *f, int with_http, int with_ws)
{
	struct err e;

	memset(f, 0, sizeof *f);
	memset(&e, 0, sizeof e);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->store = store_new();
	if (with_http) {
		f->http = http_new(&f->loop, &e);
		if (f->http == NULL)
			fail_msg("http_new: %s", e.msg);
	}
	if (with_ws) {
		f->ws = ws_ctx_new(&f->loop, &e);
		if (f->ws == NULL)
			fail_msg("ws_ctx_new: %s", e.msg);
	}
	config_init(&f->cfg);
	f->cfg.health_interval_ms = 60000;	/* one round unless asked */
	f->cfg.health_timeout_ms = 3000;
	canned_start(&f->loop, &f->canned);
}

/* Add an endpoint; URL prefixes expand to base URLs: %H Node HTTP, %S Node
 * HTTPS, %C a closed port, %X the canned server, %W Node WebSocket, %R
 * WebSocket on the closed port, %Y WebSocket on the canned server. */
static struct config_endpoint *
fx_add(struct fx *f, const char *name, const char *url)
{
	struct config_endpoint *ep;
	char buf[512];

	if (strncmp(url, "%H", 2) == 0)
		snprintf(buf, sizeof buf, "http://127.0.0.1:%d%s", srv.http_port, url + 2);
	else if (strncmp(url, "%S", 2) == 0)
		snprintf(buf, sizeof buf, "https://127.0.0.1:%d%s", srv.https_port, url + 2);
	else if (strncmp(url, "%C", 2) == 0)
		snprintf(buf, sizeof buf, "http://127.0.0.1:%d%s", srv.closed_port, url + 2);
	else if (strncmp(url, "%X", 2) == 0)
		snprintf(buf, sizeof buf, "http://127.0.0.1:%d%s", f->canned.port, url + 2);
	else if (strncmp(url, "%W", 2) == 0)
		snprintf(buf, sizeof buf, "ws://127.0.0.1:%d%s", srv.http_port, url + 2);
	else if (strncmp(url, "%R", 2) == 0)
		snprintf(buf, sizeof buf, "ws://127.0.0.1:%d%s", srv.closed_port, url + 2);
	else if (strncmp(url, "%Y", 2) == 0)
		snprintf(buf, sizeof buf, "ws://127.0.0.1:%d%s", f->canned.port, url + 2);
	else
		snprintf(buf, sizeof buf, "%s", url);
	f->cfg.endpoints = xreallocarray(f->cfg.endpoints, f->cfg.n_endpoints + 1,
	    sizeof *f->cfg.endpoints);
	ep = &f->cfg.endpoints[f->cfg.n_endpoints++];
	memset(ep, 0, sizeof *ep);
	ep->name = xstrdup(name);
	ep->url = xstrdup(buf);
	ep->type = strncmp(buf, "ws", 2) == 0 ? CONFIG_EP_WEBSOCKET : CONFIG_EP_HTTP;
	ep->expect = ep->type == CONFIG_EP_WEBSOCKET ? 101 : 200;
	ep->interval_ms = f->cfg.health_interval_ms;
	ep->timeout_ms = f->cfg.health_timeout_ms;
	ep->headers = strncmp(buf, "https:", 6) == 0 ? CONFIG_HEADERS_STRICT :
	    CONFIG_HEADERS_OFF;
	if (strncmp(buf, "https:", 6) == 0)
		ep->ca_file = xstrdup(srv.cert);
	return ep;
}

static void
tick(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until DONE(F) or MAX_MS pass; 1 when done. */
static int
fx_run_until(struct fx *f, int (*done)(struct fx *), uint64_t max_ms)
{
	uv_timer_t wd;
	uint64_t start;
	int ok;

	uv_update_time(&f->loop);
	start = uv_now(&f->loop);
	uv_timer_init(&f->loop, &wd);
	uv_timer_start(&wd, tick, 10, 10);	/* so UV_RUN_ONCE always returns */
	while (!(ok = done(f)) && uv_now(&f->loop) - start < max_ms)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return ok;
}

static int
never(struct fx *f)
{
	(void)f;
	return 0;
}

static int
round_done(struct fx *f)
{
	return health_round_done(f->h);
}

static void
fx_run_for(struct fx *f, uint64_t ms)
{
	fx_run_until(f, never, ms);
}

static void
fx_start(struct fx *f)
{
	f->h = health_new(&f->loop, f->store, f->http, f->ws, &f->cfg);
	assert_non_null(f->h);
	health_start(f->h);
}

/* Stop and free everything; the loop must end empty (ASan checks leaks). */
static void
fx_fini(struct fx *f)
{
	health_stop(f->h);
	/* closes started by health_stop finish with the loop running */
	fx_run_for(f, 150);
	health_free(&f->h);
	assert_null(f->h);
	if (f->ws != NULL)
		ws_ctx_shutdown(f->ws);
	http_free(&f->http);
	canned_stop(&f->canned);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	ws_ctx_free(&f->ws);
	assert_int_equal(f->canned.conns, 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	store_free(&f->store);
	config_fini(&f->cfg);
}

static const struct health_snap *
fx_snap(struct fx *f)
{
	const struct health_snap *s = store_get(f->store, STORE_TOPIC_HEALTH, NULL);

	assert_non_null(s);
	assert_int_equal(s->n, f->cfg.n_endpoints);
	return s;
}

static const struct health_result *
fx_result(struct fx *f, const char *name)
{
	const struct health_snap *s = fx_snap(f);
	int i = health_find(f->h, name);

	if (i < 0)
		fail_msg("no endpoint %s", name);
	assert_string_equal(s->eps[i]->name, name);
	return s->eps[i];
}

static void
expect_state(const struct health_result *r, enum health_state st, const char *reason)
{
	if (r->state != st)
		fail_msg("%s: %s (%s), want %s", r->name, health_state_name(r->state),
		    r->reason, health_state_name(st));
	if (reason != NULL && strstr(r->reason, reason) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", r->name, r->reason, reason);
	if (st == HEALTH_OK)
		assert_string_equal(r->reason, "");
}

/* Whether S is printable UTF-8: no control bytes or escape sequences
 * (newlines allowed when NL). */
static int
is_clean(const char *s, int nl)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t l = text_decode(s + i, n - i, &cp);

		if (cp == TEXT_REPLACEMENT && l == 1)
			return 0;
		if (text_cp_is_control(cp) && !(nl && cp == '\n'))
			return 0;
		i += l;
	}
	return 1;
}

/* --- tests -------------------------------------------------------------- */

static void
test_round(void **state)
{
	struct fx f;
	const struct health_result *r;
	const struct store_source *src;
	struct config_endpoint *ep;
	uint64_t t0;

	(void)state;
	fx_init(&f, 1, 1);
	fx_add(&f, "ok", "%H/ok");
	fx_add(&f, "err500", "%H/500");
	fx_add(&f, "hang", "%H/hang")->timeout_ms = 500;
	fx_add(&f, "close", "%H/close");
	fx_add(&f, "refused", "%C/");
	fx_add(&f, "wrong-expect", "%H/ok")->expect = 204;
	fx_add(&f, "secure", "%S/headers");
	fx_add(&f, "insecure", "%S/ok");
	fx_add(&f, "degraded", "%X/degraded");
	fx_add(&f, "hostile", "%X/hostile");
	fx_add(&f, "bigheaders", "%X/bigheaders");
	ep = fx_add(&f, "ws", "%W/ws");
	ep->ws_message = xstrdup("hello");
	ep = fx_add(&f, "ws-differs", "%W/ws");
	ep->ws_message = xstrdup("frag");	/* the server answers "hello world" */
	ep = fx_add(&f, "ws-closes", "%W/ws");
	ep->ws_message = xstrdup("close:4000");
	ep = fx_add(&f, "ws-json", "%W/ws");
	ep->ws_message = xstrdup("{\"type\":\"ping\",\"status\":\"pending\"}");
	fx_add(&f, "ws-refused", "%R/ws");
	fx_add(&f, "ws-404", "%W/nows");

	fx_start(&f);
	/* an all-UNKNOWN snapshot exists before anything ran */
	r = fx_result(&f, "ok");
	assert_int_equal(r->state, HEALTH_UNKNOWN);
	assert_int_equal(store_source_find(f.store, "health")->state,
	    STORE_STATE_CONNECTING);
	assert_false(health_round_done(f.h));

	t0 = uv_hrtime();
	if (!fx_run_until(&f, round_done, 10000))
		fail_msg("the first round did not finish in 10 s");
	/* the slowest endpoint is /hang with its 500 ms timeout */
	assert_true((uv_hrtime() - t0) / 1000000 < 5000);

	r = fx_result(&f, "ok");
	expect_state(r, HEALTH_OK, NULL);
	assert_int_equal(r->http_status, 200);
	assert_true(r->latency_ms >= 0);
	assert_int_equal(r->n_window, 1);
	assert_true(r->window[0] >= 0);
	assert_true(r->p50_ms >= 0 && r->p95_ms >= r->p50_ms);
	assert_int_equal(r->checks, 1);
	assert_int_equal(r->failures, 0);
	assert_true(r->last_ok_ms > 0);
	assert_int_equal(r->n_comps, 0);
	assert_false(r->has_tls);
	assert_int_equal(r->tls_level, HEALTH_LEVEL_NA);
	assert_false(r->headers_checked);
	assert_int_equal(r->hdrs[0].level, HEALTH_LEVEL_NA);
	assert_false(r->checking);
	assert_non_null(r->resp_headers);
	assert_non_null(strstr(r->resp_headers, "application/json"));
	assert_null(strchr(r->resp_headers, '\r'));
	assert_string_equal(r->body_excerpt, "{\"status\":\"ok\"}");

	r = fx_result(&f, "err500");
	expect_state(r, HEALTH_DOWN, "HTTP 500, expected 200");
	assert_int_equal(r->http_status, 500);
	assert_int_equal(r->n_window, 1);
	assert_true(r->window[0] < 0);	/* a gap in the sparkline */
	assert_true(r->p50_ms < 0);
	assert_int_equal(r->consecutive_failures, 1);
	assert_true(r->last_fail_ms > 0);
	assert_string_equal(r->body_excerpt, "internal error\n");

	r = fx_result(&f, "hang");
	expect_state(r, HEALTH_DOWN, "timed out after 500 ms");
	assert_int_equal(r->http_status, 0);
	assert_true(r->error[0] != '\0');
	assert_null(r->resp_headers);

	r = fx_result(&f, "close");
	expect_state(r, HEALTH_DOWN, NULL);
	assert_true(r->reason[0] != '\0');

	r = fx_result(&f, "refused");
	expect_state(r, HEALTH_DOWN, "refused");

	r = fx_result(&f, "wrong-expect");
	expect_state(r, HEALTH_DOWN, "HTTP 200, expected 204");

	/* TLS: the test certificate is valid 20 days, under the 21-day warning */
	r = fx_result(&f, "secure");
	expect_state(r, HEALTH_OK, NULL);
	assert_true(r->has_tls);
	assert_true(r->tls_days_left == 19 || r->tls_days_left == 20);
	assert_int_equal(r->tls_level, HEALTH_LEVEL_WARN);
	assert_non_null(strstr(r->tls_issuer, "127.0.0.1"));
	assert_true(r->headers_checked);
	for (int i = 0; i < HEALTH_HDR_COUNT; i++)
		if (r->hdrs[i].level != HEALTH_LEVEL_OK)
			fail_msg("secure: %s is not OK: %s", health_header_name(i),
			    r->hdrs[i].why);
	assert_true(r->t_tls_ms >= 0);

	/* missing security headers are findings, not an outage */
	r = fx_result(&f, "insecure");
	expect_state(r, HEALTH_OK, NULL);
	assert_true(r->headers_checked);
	for (int i = 0; i < HEALTH_HDR_COUNT; i++)
		assert_int_equal(r->hdrs[i].level, HEALTH_LEVEL_FAIL);

	r = fx_result(&f, "degraded");
	expect_state(r, HEALTH_DEGRADED, "redis: fail");
	assert_string_equal(r->version, "v2");
	assert_int_equal(r->n_comps, 2);
	assert_string_equal(r->comps[1].name, "redis");
	assert_false(r->comps[1].ok);
	assert_true(r->window[0] >= 0);	/* degraded still answered */
	assert_int_equal(r->failures, 0);

	/* nothing from the network reaches the screen unsanitised */
	r = fx_result(&f, "hostile");
	expect_state(r, HEALTH_OK, NULL);
	assert_true(is_clean(r->resp_headers, 1));
	assert_true(is_clean(r->body_excerpt, 1));
	assert_non_null(strstr(r->resp_headers, "X-Title: "));
	assert_null(strchr(r->body_excerpt, '\033'));
	assert_non_null(strstr(r->body_excerpt, "line one\n"));
	assert_non_null(strstr(r->body_excerpt, "\nend\n"));

	r = fx_result(&f, "bigheaders");
	expect_state(r, HEALTH_OK, NULL);
	assert_true(strlen(r->resp_headers) < 8 * 1024);
	assert_true(strlen(r->resp_headers) > 7 * 1024);

	r = fx_result(&f, "ws");
	expect_state(r, HEALTH_OK, NULL);
	assert_true(r->is_ws);
	assert_int_equal(r->http_status, 101);
	assert_true(r->latency_ms >= 0);
	assert_true(r->window[0] >= 0);
	assert_non_null(strstr(r->resp_headers, "Echo: matches"));
	assert_string_equal(r->body_excerpt, "hello");

	r = fx_result(&f, "ws-differs");
	expect_state(r, HEALTH_OK, NULL);
	assert_non_null(strstr(r->resp_headers, "Echo: differs"));
	assert_string_equal(r->body_excerpt, "hello world");

	/* an echoed JSON message is not read as a health body */
	r = fx_result(&f, "ws-json");
	expect_state(r, HEALTH_OK, NULL);
	assert_int_equal(r->n_comps, 0);

	r = fx_result(&f, "ws-closes");
	expect_state(r, HEALTH_DOWN, "closed by the server (code 4000");

	r = fx_result(&f, "ws-refused");
	expect_state(r, HEALTH_DOWN, NULL);
	assert_true(r->reason[0] != '\0');

	r = fx_result(&f, "ws-404");
	expect_state(r, HEALTH_DOWN, NULL);
	assert_true(r->reason[0] != '\0');

	/* DOWN endpoints are data: the source itself is fine */
	src = store_source_find(f.store, "health");
	assert_non_null(src);
	assert_int_equal(src->state, STORE_STATE_OK);
	assert_int_equal(health_worst(fx_snap(&f)), HEALTH_DOWN);
	assert_int_equal(health_find(f.h, "nope"), -1);

	fx_fini(&f);
}

static int
checks_done(struct fx *f)
{
	const struct health_snap *s = store_get(f->store, STORE_TOPIC_HEALTH, NULL);

	return s->eps[0]->checks >= 3 && !s->eps[0]->checking;
}

static void
test_check_now_and_publishing(void **state)
{
	struct fx f;
	const struct health_snap *s;
	struct health_result *other;
	uint64_t gen, gen2;

	(void)state;
	fx_init(&f, 1, 0);
	fx_add(&f, "a", "%H/ok");
	fx_add(&f, "b", "%H/ok");
	fx_start(&f);
	assert_true(fx_run_until(&f, round_done, 5000));

	/* nothing changes, nothing is published: no periodic timer */
	gen = store_generation(f.store, STORE_TOPIC_HEALTH);
	fx_run_for(&f, 300);
	assert_int_equal(store_generation(f.store, STORE_TOPIC_HEALTH), gen);

	s = fx_snap(&f);
	other = s->eps[1];
	health_result_ref(other);

	/* check-now shows "checking" at once */
	health_check_now(f.h, 0);
	gen2 = store_generation(f.store, STORE_TOPIC_HEALTH);
	assert_true(gen2 > gen);
	s = fx_snap(&f);
	assert_true(s->eps[0]->checking);
	assert_false(s->eps[1]->checking);
	assert_int_equal(http_pending(f.http), 1);

	/* a second check-now while one is in flight is queued, not doubled */
	health_check_now(f.h, 0);
	assert_int_equal(http_pending(f.http), 1);
	health_check_now(f.h, 7);	/* out of range: ignored */
	assert_int_equal(http_pending(f.http), 1);

	assert_true(fx_run_until(&f, checks_done, 5000));
	s = fx_snap(&f);
	assert_int_equal(s->eps[0]->checks, 3);
	assert_int_equal(s->eps[0]->n_window, 3);
	assert_false(s->eps[0]->checking);
	/* the untouched endpoint's result is shared, not copied */
	assert_ptr_equal(s->eps[1], other);
	assert_int_equal(other->checks, 1);
	health_result_unref(other);

	/* check-now of everything */
	health_check_now(f.h, -1);
	s = fx_snap(&f);
	assert_true(s->eps[0]->checking && s->eps[1]->checking);
	assert_int_equal(http_pending(f.http), 2);

	/* stop with checks in flight: cancelled, "checking" cleared */
	health_stop(f.h);
	assert_int_equal(http_pending(f.http), 0);
	s = fx_snap(&f);
	assert_false(s->eps[0]->checking || s->eps[1]->checking);
	gen = store_generation(f.store, STORE_TOPIC_HEALTH);
	fx_run_for(&f, 100);
	assert_int_equal(store_generation(f.store, STORE_TOPIC_HEALTH), gen);
	/* check-now after stop does nothing */
	health_check_now(f.h, 0);
	assert_int_equal(http_pending(f.http), 0);
	fx_fini(&f);
}

static int
three_checks(struct fx *f)
{
	const struct health_snap *s = store_get(f->store, STORE_TOPIC_HEALTH, NULL);

	return s->eps[0]->checks >= 3;
}

static void
test_interval_and_window(void **state)
{
	struct fx f;
	const struct health_result *r;

	(void)state;
	fx_init(&f, 1, 0);
	f.cfg.health_window = 2;
	fx_add(&f, "fast", "%H/ok")->interval_ms = 100;
	fx_start(&f);
	assert_true(fx_run_until(&f, three_checks, 3000));
	r = fx_result(&f, "fast");
	/* the window keeps the last 2 */
	assert_int_equal(r->n_window, 2);
	assert_int_equal(r->interval_ms, 100);
	fx_fini(&f);
}

static void
test_tls_fail_days(void **state)
{
	struct fx f;
	const struct health_result *r;

	(void)state;
	fx_init(&f, 1, 0);
	f.cfg.tls_warn_days = 60;
	f.cfg.tls_fail_days = 30;
	fx_add(&f, "short-cert", "%S/ok")->headers = CONFIG_HEADERS_OFF;
	fx_start(&f);
	assert_true(fx_run_until(&f, round_done, 5000));
	r = fx_result(&f, "short-cert");
	expect_state(r, HEALTH_DEGRADED, "certificate expires in ");
	assert_int_equal(r->tls_level, HEALTH_LEVEL_FAIL);
	assert_false(r->headers_checked);
	assert_int_equal(r->hdrs[HEALTH_HDR_HSTS].level, HEALTH_LEVEL_NA);
	fx_fini(&f);
}

static void
test_stop_in_flight(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1, 1);
	fx_add(&f, "hang", "%H/hang")->timeout_ms = 20000;
	/* the canned server accepts and never answers the handshake */
	fx_add(&f, "ws-hang", "%Y/wshang")->timeout_ms = 20000;
	fx_start(&f);
	fx_run_for(&f, 300);
	assert_false(health_round_done(f.h));
	assert_int_equal(http_pending(f.http), 1);
	assert_int_equal(fx_result(&f, "hang")->state, HEALTH_UNKNOWN);
	fx_fini(&f);
}

/* The console's order: stop, shut every client down in the same turn,
 * drain the loop, close it, and only then free the source. */
static void
test_teardown_after_loop_close(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1, 1);
	fx_add(&f, "ok", "%H/ok");
	fx_add(&f, "hang", "%H/hang")->timeout_ms = 20000;
	fx_add(&f, "ws-hang", "%Y/wshang")->timeout_ms = 20000;
	fx_start(&f);
	fx_run_for(&f, 200);
	health_stop(f.h);
	ws_ctx_shutdown(f.ws);
	http_free(&f.http);
	canned_stop(&f.canned);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	ws_ctx_free(&f.ws);
	assert_int_equal(uv_loop_close(&f.loop), 0);
	health_free(&f.h);
	store_free(&f.store);
	config_fini(&f.cfg);
}

static void
test_ws_timeout(void **state)
{
	struct fx f;
	struct config_endpoint *ep;

	(void)state;
	fx_init(&f, 1, 1);
	ep = fx_add(&f, "ws-hang", "%Y/wshang");
	ep->timeout_ms = 300;
	fx_start(&f);
	assert_true(fx_run_until(&f, round_done, 5000));
	expect_state(fx_result(&f, "ws-hang"), HEALTH_DOWN, "timed out after 300 ms");
	fx_fini(&f);
}

static void
test_missing_clients(void **state)
{
	struct fx f;
	const struct store_source *src;

	(void)state;
	/* no clients at all: the source cannot work */
	fx_init(&f, 0, 0);
	fx_add(&f, "a", "%H/ok");
	fx_add(&f, "w", "%W/ws");
	fx_start(&f);
	assert_true(fx_run_until(&f, round_done, 3000));
	expect_state(fx_result(&f, "a"), HEALTH_DOWN, "no HTTP client");
	expect_state(fx_result(&f, "w"), HEALTH_DOWN, "no WebSocket client");
	src = store_source_find(f.store, "health");
	assert_int_equal(src->state, STORE_STATE_ERROR);
	assert_true(src->error[0] != '\0');
	fx_fini(&f);

	/* HTTP only: WebSocket endpoints are not checked, the rest is */
	fx_init(&f, 1, 0);
	fx_add(&f, "a", "%H/ok");
	fx_add(&f, "w", "%W/ws");
	fx_start(&f);
	assert_true(fx_run_until(&f, round_done, 3000));
	expect_state(fx_result(&f, "a"), HEALTH_OK, NULL);
	expect_state(fx_result(&f, "w"), HEALTH_DOWN, "no WebSocket client");
	src = store_source_find(f.store, "health");
	assert_int_equal(src->state, STORE_STATE_STALE);
	assert_non_null(strstr(src->error, "WebSocket"));
	fx_fini(&f);

	/* nothing configured */
	fx_init(&f, 1, 1);
	fx_start(&f);
	assert_true(health_round_done(f.h));
	assert_int_equal(fx_snap(&f)->n, 0);
	assert_int_equal(store_source_find(f.store, "health")->state, STORE_STATE_IDLE);
	fx_fini(&f);
}

static int
all_checked(struct fx *f)
{
	return health_round_done(f->h);
}

static void
test_thousand_endpoints(void **state)
{
	struct fx f;
	const struct health_snap *s;
	uint64_t t0, ms;
	char name[32];

	(void)state;
	fx_init(&f, 1, 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "ep%04d", i);
		fx_add(&f, name, "%H/ok");
	}
	t0 = uv_hrtime();
	fx_start(&f);
	/* the first round is spread over about a second, not burst */
	fx_run_for(&f, 100);
	assert_true(http_pending(f.http) < 600);
	assert_true(fx_run_until(&f, all_checked, 20000));
	ms = (uv_hrtime() - t0) / 1000000;
	assert_true(ms >= 900);
	s = fx_snap(&f);
	for (size_t i = 0; i < s->n; i++)
		if (s->eps[i]->state != HEALTH_OK)
			fail_msg("%s: %s %s", s->eps[i]->name,
			    health_state_name(s->eps[i]->state), s->eps[i]->reason);
	assert_int_equal(store_source_find(f.store, "health")->state, STORE_STATE_OK);
	fx_fini(&f);
}

static int
setup(void **state)
{
	(void)state;
	return netserver_start(&srv);
}

static int
teardown(void **state)
{
	(void)state;
	netserver_stop(&srv);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round),
		cmocka_unit_test(test_check_now_and_publishing),
		cmocka_unit_test(test_interval_and_window),
		cmocka_unit_test(test_tls_fail_days),
		cmocka_unit_test(test_stop_in_flight),
		cmocka_unit_test(test_teardown_after_loop_close),
		cmocka_unit_test(test_ws_timeout),
		cmocka_unit_test(test_missing_clients),
		cmocka_unit_test(test_thousand_endpoints),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
