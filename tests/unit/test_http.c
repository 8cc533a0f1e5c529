/* test_http.c - the HTTP client against tests/support/netserver.js. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netserver_run.h"
#include "signalbox/http.h"

static struct netserver srv;

struct result {
	int called;
	int ok, status, truncated;
	char error[256];
	char *body;
	size_t body_len;
	char *headers;
	size_t headers_len;
	double t_dns, t_connect, t_tls, t_ttfb, t_total;
	int64_t cert_expire;
	char issuer[256], subject[256];
};

static void
result_fini(struct result *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof *r);
}

static void
on_done(const struct http_resp *resp, void *ud)
{
	struct result *r = ud;

	r->called++;
	r->ok = resp->ok;
	r->status = resp->status;
	r->truncated = resp->body_truncated;
	snprintf(r->error, sizeof r->error, "%s", resp->error);
	r->body = malloc(resp->body_len + 1);
	memcpy(r->body, resp->body, resp->body_len + 1);
	r->body_len = resp->body_len;
	r->headers = malloc(resp->headers_len + 1);
	memcpy(r->headers, resp->headers, resp->headers_len);
	r->headers[resp->headers_len] = '\0';
	r->headers_len = resp->headers_len;
	r->t_dns = resp->t_dns_ms;
	r->t_connect = resp->t_connect_ms;
	r->t_tls = resp->t_tls_ms;
	r->t_ttfb = resp->t_ttfb_ms;
	r->t_total = resp->t_total_ms;
	r->cert_expire = resp->cert_expire;
	snprintf(r->issuer, sizeof r->issuer, "%s", resp->cert_issuer);
	snprintf(r->subject, sizeof r->subject, "%s", resp->cert_subject);
}

static void
tick(uv_timer_t *t)
{
	(void)t;
}

/* Run LOOP until *COUNT reaches TARGET or MAX_MS pass. */
static void
run_until(uv_loop_t *loop, const int *count, int target, uint64_t max_ms)
{
	uv_timer_t wd;
	uint64_t start;

	uv_update_time(loop);
	start = uv_now(loop);
	uv_timer_init(loop, &wd);
	uv_timer_start(&wd, tick, 20, 20);	/* so UV_RUN_ONCE always returns */
	while (*count < target && uv_now(loop) - start < max_ms)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void
run_for(uv_loop_t *loop, uint64_t ms)
{
	int never = 0;

	run_until(loop, &never, 1, ms);
}

/* Free H, let its handles close and check the loop is empty. */
static void
finish(uv_loop_t *loop, struct http **h)
{
	http_free(h);
	assert_null(*h);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static char *
url(int https, const char *path)
{
	static char buf[4][256];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof buf[0], "%s://127.0.0.1:%d%s", https ? "https" : "http",
	    https ? srv.https_port : srv.http_port, path);
	return b;
}

/* One request on a fresh loop and client. */
static void
fetch(const struct http_req *req, struct result *r)
{
	uv_loop_t loop;
	struct http *h;
	struct http_call *c;

	uv_loop_init(&loop);
	h = http_new(&loop, NULL);
	assert_non_null(h);
	c = http_request(h, req, on_done, r);
	assert_non_null(c);
	assert_int_equal(r->called, 0);
	assert_int_equal(http_pending(h), 1);
	run_until(&loop, &r->called, 1, 15000);
	assert_int_equal(r->called, 1);
	assert_int_equal(http_pending(h), 0);
	finish(&loop, &h);
}

static int
group_setup(void **state)
{
	(void)state;
	return netserver_start(&srv);
}

static int
group_teardown(void **state)
{
	(void)state;
	netserver_stop(&srv);
	return 0;
}

static void
test_get_ok(void **state)
{
	struct http_req req = { .url = url(0, "/ok") };
	struct result r = { 0 };
	char v[64];

	(void)state;
	fetch(&req, &r);
	assert_true(r.ok);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	assert_int_equal(r.body_len, strlen("{\"status\":\"ok\"}"));
	assert_false(r.truncated);
	assert_string_equal(r.error, "");
	assert_true(strncmp(r.headers, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_true(http_header_get(r.headers, r.headers_len, "content-type", v, sizeof v));
	assert_string_equal(v, "application/json");
	assert_true(r.t_total > 0);
	assert_true(r.t_ttfb > 0);
	assert_true(r.t_connect >= 0 && r.t_dns >= 0);
	assert_true(r.t_tls == 0);
	assert_true(r.t_total >= r.t_ttfb);
	assert_int_equal(r.cert_expire, 0);
	result_fini(&r);
}

static void
test_user_agent_method_body_headers(void **state)
{
	const char *hdrs[] = { "X-Test: yes", "Expect: 100-continue", NULL };
	struct http_req req = { .url = url(0, "/echo"), .method = "PUT",
	    .body = "hello", .body_len = 5, .headers = hdrs };
	struct result r = { 0 };

	(void)state;
	fetch(&req, &r);
	assert_true(r.ok);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"method\":\"PUT\""));
	assert_non_null(strstr(r.body, "\"body\":\"hello\""));
	assert_non_null(strstr(r.body, "\"x-test\":\"yes\""));
	assert_non_null(strstr(r.body, "\"user-agent\":\"signalbox/" SIGNALBOX_VERSION "\""));
	/* The 100 Continue interim response is not part of the header block. */
	assert_null(strstr(r.headers, "100 Continue"));
	assert_true(strncmp(r.headers, "HTTP/1.1 200 OK\r\n", 17) == 0);
	result_fini(&r);

	struct http_req post = { .url = url(0, "/echo"), .body = "a=1", .body_len = 3 };

	fetch(&post, &r);
	assert_non_null(strstr(r.body, "\"method\":\"POST\""));
	assert_non_null(strstr(r.body, "\"body\":\"a=1\""));
	result_fini(&r);
}

static void
test_status_500(void **state)
{
	struct http_req req = { .url = url(0, "/500") };
	struct result r = { 0 };

	(void)state;
	fetch(&req, &r);
	assert_true(r.ok);
	assert_int_equal(r.status, 500);
	assert_string_equal(r.body, "internal error\n");
	result_fini(&r);
}

static void
test_refused(void **state)
{
	char u[128];
	struct http_req req = { .url = u };
	struct result r = { 0 };

	(void)state;
	snprintf(u, sizeof u, "http://127.0.0.1:%d/ok", srv.closed_port);
	fetch(&req, &r);
	assert_false(r.ok);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.error, "Connection refused"));
	result_fini(&r);
}

static void
test_timeout(void **state)
{
	struct http_req req = { .url = url(0, "/hang"), .timeout_ms = 300 };
	struct result r = { 0 };

	(void)state;
	fetch(&req, &r);
	assert_false(r.ok);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.error, "timed out"));
	assert_true(r.t_total >= 290 && r.t_total < 2000);
	result_fini(&r);
}

static void
test_server_closes(void **state)
{
	struct http_req req = { .url = url(0, "/close") };
	struct result r = { 0 };

	(void)state;
	fetch(&req, &r);
	assert_false(r.ok);
	assert_int_equal(r.status, 0);
	assert_string_not_equal(r.error, "");
	result_fini(&r);
}

static void
test_body_cap(void **state)
{
	struct http_req req = { .url = url(0, "/big"), .max_body = 1000 };
	struct result r = { 0 };

	(void)state;
	fetch(&req, &r);
	assert_true(r.ok);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 1000);
	assert_int_equal(strlen(r.body), 1000);
	assert_true(r.truncated);
	result_fini(&r);

	req.max_body = 0;	/* default: 1 MiB */
	fetch(&req, &r);
	assert_true(r.ok);
	assert_int_equal(r.body_len, 1024 * 1024);
	assert_true(r.truncated);
	result_fini(&r);

	req.max_body = 4 * 1024 * 1024;
	fetch(&req, &r);
	assert_int_equal(r.body_len, 3 * 1024 * 1024);
	assert_false(r.truncated);
	result_fini(&r);
}

static void
test_no_redirect(void **state)
{
	struct http_req req = { .url = url(0, "/redirect") };
	struct result r = { 0 };
	char v[64];

	(void)state;
	fetch(&req, &r);
	assert_true(r.ok);
	assert_int_equal(r.status, 301);
	assert_true(http_header_get(r.headers, r.headers_len, "Location", v, sizeof v));
	assert_string_equal(v, "/ok");
	result_fini(&r);
}

static void
test_security_headers(void **state)
{
	struct http_req req = { .url = url(0, "/headers") };
	struct result r = { 0 };
	char v[128];

	(void)state;
	fetch(&req, &r);
	assert_int_equal(r.status, 200);
	assert_true(http_header_get(r.headers, r.headers_len, "x-frame-options", v, sizeof v));
	assert_string_equal(v, "DENY");
	assert_true(http_header_get(r.headers, r.headers_len, "Strict-Transport-Security", v, sizeof v));
	assert_string_equal(v, "max-age=63072000; includeSubDomains");
	assert_true(http_header_get(r.headers, r.headers_len, "content-security-policy", v, sizeof v));
	assert_string_equal(v, "default-src 'self'");
	assert_false(http_header_get(r.headers, r.headers_len, "Permissions-Policy", v, sizeof v));
	result_fini(&r);
}

static void
test_https_ca_file(void **state)
{
	struct http_req req = { .url = url(1, "/ok"), .ca_file = srv.cert,
	    .want_cert = 1 };
	struct result r[2] = { 0 };
	uv_loop_t loop;
	struct http *h;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	uv_loop_init(&loop);
	h = http_new(&loop, NULL);
	/* The second request reuses the connection: no handshake, same cert. */
	for (int i = 0; i < 2; i++) {
		assert_non_null(http_request(h, &req, on_done, &r[i]));
		run_until(&loop, &r[i].called, 1, 15000);
		assert_int_equal(r[i].called, 1);
		assert_true(r[i].ok);
		assert_int_equal(r[i].status, 200);
		assert_string_equal(r[i].body, "{\"status\":\"ok\"}");
		assert_true(r[i].cert_expire > now + 19 * 86400);
		assert_true(r[i].cert_expire < now + 21 * 86400);
		assert_non_null(strstr(r[i].issuer, "127.0.0.1"));
		assert_non_null(strstr(r[i].subject, "127.0.0.1"));
	}
	assert_true(r[0].t_tls > 0);
	assert_true(r[1].t_tls == 0);
	finish(&loop, &h);
	result_fini(&r[0]);
	result_fini(&r[1]);
}

static void
test_https_untrusted(void **state)
{
	struct http_req req = { .url = url(1, "/ok"), .want_cert = 1 };
	struct result r = { 0 };

	(void)state;
	fetch(&req, &r);
	assert_false(r.ok);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.error, "certificate"));
	assert_int_equal(r.cert_expire, 0);
	result_fini(&r);
}

static void
test_concurrent(void **state)
{
	enum { N = 100 };
	struct result *r = calloc(N, sizeof *r);
	uv_loop_t loop;
	struct http *h;
	int done = 0;

	(void)state;
	uv_loop_init(&loop);
	h = http_new(&loop, NULL);
	for (int i = 0; i < N; i++) {
		struct http_req req = { .url = url(i % 2, "/ok"), .ca_file = srv.cert };

		assert_non_null(http_request(h, &req, on_done, &r[i]));
	}
	assert_int_equal(http_pending(h), N);
	for (uint64_t waited = 0; done < N && waited < 30000; waited += 50) {
		run_for(&loop, 50);
		done = 0;
		for (int i = 0; i < N; i++)
			done += r[i].called;
	}
	assert_int_equal(done, N);
	assert_int_equal(http_pending(h), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].called, 1);
		assert_true(r[i].ok);
		assert_int_equal(r[i].status, 200);
		result_fini(&r[i]);
	}
	finish(&loop, &h);
	free(r);
}

struct cancel_ctx {
	struct http *h;
	struct http_call *victim;
	struct result res;
};

static void
on_done_cancel_other(const struct http_resp *resp, void *ud)
{
	struct cancel_ctx *cc = ud;

	on_done(resp, &cc->res);
	http_cancel(cc->victim);
	cc->victim = NULL;
}

static void
test_cancel(void **state)
{
	struct http_req ok = { .url = url(0, "/ok") };
	struct http_req hang = { .url = url(0, "/hang"), .timeout_ms = 2000 };
	struct result a = { 0 }, b = { 0 };
	struct cancel_ctx cc = { 0 };
	struct http_call *c;
	uv_loop_t loop;
	struct http *h;

	(void)state;
	uv_loop_init(&loop);
	h = http_new(&loop, NULL);

	/* Cancelled before the loop ever ran. */
	c = http_request(h, &ok, on_done, &a);
	http_cancel(c);
	assert_int_equal(http_pending(h), 0);

	/* Cancelled mid-transfer, from inside another request's callback. */
	cc.h = h;
	cc.victim = http_request(h, &hang, on_done, &b);
	run_for(&loop, 100);
	assert_non_null(http_request(h, &ok, on_done_cancel_other, &cc));
	run_until(&loop, &cc.res.called, 1, 5000);
	assert_int_equal(cc.res.called, 1);
	assert_null(cc.victim);
	assert_int_equal(http_pending(h), 0);
	run_for(&loop, 2500);	/* past the victim's timeout */
	assert_int_equal(a.called, 0);
	assert_int_equal(b.called, 0);
	finish(&loop, &h);
	result_fini(&cc.res);
}

static void
on_done_count(const struct http_resp *resp, void *ud)
{
	(void)resp;
	(*(int *)ud)++;
}

static void
test_free_in_flight(void **state)
{
	struct http_req reqs[] = {
		{ .url = url(0, "/hang") }, { .url = url(1, "/hang"), .ca_file = srv.cert },
		{ .url = url(0, "/big") }, { .url = url(0, "/ok") },
		{ .url = url(1, "/ok") },
	};
	int calls = 0;
	uv_loop_t loop;
	struct http *h;

	(void)state;
	uv_loop_init(&loop);
	h = http_new(&loop, NULL);
	for (int round = 0; round < 4; round++)
		for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
			http_request(h, &reqs[i], on_done_count, &calls);
	uv_run(&loop, UV_RUN_NOWAIT);
	uv_run(&loop, UV_RUN_NOWAIT);
	calls = 0;		/* some /ok may have finished: fine */
	finish(&loop, &h);
	assert_int_equal(calls, 0);
}

struct free_ctx {
	struct http *h;
	int calls;
};

static void
on_done_free(const struct http_resp *resp, void *ud)
{
	struct free_ctx *fc = ud;

	(void)resp;
	fc->calls++;
	http_free(&fc->h);
}

static void
test_free_in_callback(void **state)
{
	struct http_req ok = { .url = url(0, "/ok") };
	struct http_req hang = { .url = url(0, "/hang") };
	struct free_ctx fc = { 0 };
	int others = 0;
	uv_loop_t loop;

	(void)state;
	uv_loop_init(&loop);
	fc.h = http_new(&loop, NULL);
	http_request(fc.h, &hang, on_done_count, &others);
	http_request(fc.h, &ok, on_done_free, &fc);
	http_request(fc.h, &hang, on_done_count, &others);
	run_until(&loop, &fc.calls, 1, 5000);
	assert_int_equal(fc.calls, 1);
	assert_null(fc.h);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(others, 0);
	assert_int_equal(fc.calls, 1);
}

static void
test_error_is_deferred(void **state)
{
	struct http_req bad = { .url = "" };
	struct http_req scheme = { .url = "gopher://127.0.0.1/" };
	struct result r = { 0 };

	(void)state;
	fetch(&bad, &r);	/* fetch checks the callback did not run inline */
	assert_false(r.ok);
	assert_string_equal(r.error, "no URL given");
	result_fini(&r);

	fetch(&scheme, &r);
	assert_false(r.ok);
	assert_string_not_equal(r.error, "");
	result_fini(&r);
}

static void
test_header_get(void **state)
{
	const char *blk = "HTTP/1.1 200 OK\r\nContent-Type:  text/html ; x=1 \r\n"
	    "X-Empty:\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nNoColonLine\r\n";
	size_t len = strlen(blk);
	char v[8];

	(void)state;
	assert_true(http_header_get(blk, len, "CONTENT-TYPE", v, sizeof v));
	assert_string_equal(v, "text/ht");	/* truncated to the buffer */
	assert_true(http_header_get(blk, len, "x-empty", v, sizeof v));
	assert_string_equal(v, "");
	assert_true(http_header_get(blk, len, "set-cookie", v, sizeof v));
	assert_string_equal(v, "a=1");
	assert_false(http_header_get(blk, len, "Content", v, sizeof v));
	assert_false(http_header_get(blk, len, "NoColonLine", v, sizeof v));
	assert_false(http_header_get(blk, 10, "Content-Type", v, sizeof v));
	assert_false(http_header_get("", 0, "a", v, sizeof v));
	assert_true(http_header_get("A: 1\nB: 2", 9, "b", v, sizeof v));
	assert_string_equal(v, "2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_get),
		cmocka_unit_test(test_get_ok),
		cmocka_unit_test(test_user_agent_method_body_headers),
		cmocka_unit_test(test_status_500),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_server_closes),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_no_redirect),
		cmocka_unit_test(test_security_headers),
		cmocka_unit_test(test_https_ca_file),
		cmocka_unit_test(test_https_untrusted),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_free_in_callback),
		cmocka_unit_test(test_error_is_deferred),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
