/* test_ws.c - the WebSocket client against tests/support/netserver.js. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netserver_run.h"
#include "signalbox/ws.h"

static struct netserver srv;

/* What one connection saw. */
struct probe {
	struct ws_conn *c;
	int opened, closed, errored, messages;
	int close_code;
	char close_reason[128];
	char error[512];
	char last[256];		/* last message, truncated */
	size_t last_len;
	int last_binary;
	/* scripted behaviour */
	const char *send_on_open[64];
	int close_after;	/* ws_close(1000) after this many messages */
	int shutdown_after;	/* ws_ctx_shutdown from on_message */
	struct ws_ctx *ctx;
};

static void
on_open(struct ws_conn *c, void *ud)
{
	struct probe *p = ud;

	assert_ptr_equal(c, p->c);
	p->opened++;
	for (int i = 0; p->send_on_open[i] != NULL; i++)
		assert_int_equal(ws_send_text(c, p->send_on_open[i],
		    strlen(p->send_on_open[i])), 0);
}

static void
on_message(struct ws_conn *c, const char *data, size_t len, int binary, void *ud)
{
	struct probe *p = ud;

	assert_ptr_equal(c, p->c);
	p->messages++;
	p->last_len = len;
	p->last_binary = binary;
	snprintf(p->last, sizeof p->last, "%.*s", (int)(len < 255 ? len : 255), data);
	if (p->close_after > 0 && p->messages == p->close_after)
		ws_close(c, 1000, "done");
	if (p->shutdown_after > 0 && p->messages == p->shutdown_after)
		ws_ctx_shutdown(p->ctx);
}

static void
on_close(struct ws_conn *c, int code, const char *reason, void *ud)
{
	struct probe *p = ud;

	assert_ptr_equal(c, p->c);
	p->closed++;
	p->close_code = code;
	snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
}

static void
on_error(struct ws_conn *c, const char *msg, void *ud)
{
	struct probe *p = ud;

	assert_ptr_equal(c, p->c);
	p->errored++;
	snprintf(p->error, sizeof p->error, "%s", msg);
}

static const struct ws_cbs cbs = { on_open, on_message, on_close, on_error };

static void
tick(uv_timer_t *t)
{
	(void)t;
}

/* Run until P's connection ended (or MAX_MS pass). */
static void
run_until_end(uv_loop_t *loop, struct probe *p, uint64_t max_ms)
{
	uv_timer_t wd;
	uint64_t start;

	uv_update_time(loop);
	start = uv_now(loop);
	uv_timer_init(loop, &wd);
	uv_timer_start(&wd, tick, 20, 20);
	while (p->closed + p->errored == 0 && uv_now(loop) - start < max_ms)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void
run_for(uv_loop_t *loop, uint64_t ms)
{
	struct probe never = { 0 };

	run_until_end(loop, &never, ms);
}

static struct ws_ctx *
start(uv_loop_t *loop)
{
	struct err e = { 0 };
	struct ws_ctx *ctx;

	assert_int_equal(uv_loop_init(loop), 0);
	ctx = ws_ctx_new(loop, &e);
	if (ctx == NULL)
		fail_msg("ws_ctx_new: %s", e.msg);
	return ctx;
}

/* The two-step teardown, then the loop must be empty. */
static void
finish(uv_loop_t *loop, struct ws_ctx **ctx)
{
	ws_ctx_shutdown(*ctx);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	ws_ctx_free(ctx);
	assert_null(*ctx);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void
connect_probe(struct ws_ctx *ctx, struct probe *p, struct ws_opts *o)
{
	struct err e = { 0 };

	p->ctx = ctx;
	p->c = ws_connect(ctx, o, &cbs, p, &e);
	if (p->c == NULL)
		fail_msg("ws_connect: %s", e.msg);
	/* never a callback from inside ws_connect */
	assert_int_equal(p->opened + p->closed + p->errored + p->messages, 0);
}

static char *
ws_url(int tls, int port, const char *path)
{
	static char buf[4][128];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof buf[0], "%s://127.0.0.1:%d%s", tls ? "wss" : "ws", port, path);
	return b;
}

/* The close code the server last received, asked over a new connection. */
static int
server_last_close(void)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .send_on_open = { "lastclose" }, .close_after = 1 };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };
	int code = -1;

	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 5000);
	assert_int_equal(p.closed, 1);
	assert_true(strncmp(p.last, "lastclose:", 10) == 0);
	code = atoi(p.last + 10);
	finish(&loop, &ctx);
	return code;
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
test_echo_and_clean_close(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .send_on_open = { "hello" }, .close_after = 1 };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };

	(void)state;
	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 5000);
	assert_int_equal(p.opened, 1);
	assert_int_equal(p.messages, 1);
	assert_string_equal(p.last, "hello");
	assert_false(p.last_binary);
	assert_int_equal(p.errored, 0);
	assert_int_equal(p.closed, 1);
	assert_int_equal(p.close_code, 1000);
	finish(&loop, &ctx);
	/* and the server really got a close frame with 1000, not a drop */
	assert_int_equal(server_last_close(), 1000);
}

static void
test_queue_order_and_fragments(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .send_on_open = { "1", "2", "3", "frag", "header:x-token",
	    "big:3000000", "last" }, .close_after = 7 };
	const char *hdrs[] = { "X-Token: secret", NULL };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws"), .headers = hdrs };

	(void)state;
	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 10000);
	assert_int_equal(p.errored, 0);
	assert_int_equal(p.messages, 7);
	assert_string_equal(p.last, "last");
	assert_int_equal(p.closed, 1);
	finish(&loop, &ctx);
}

/* Check message N's content by closing right after it. */
static void
expect_nth(const char *const *send, int n, const char *want, size_t want_len)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .close_after = n };
	const char *hdrs[] = { "X-Token: secret", NULL };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws"), .headers = hdrs };

	for (int i = 0; send[i] != NULL; i++)
		p.send_on_open[i] = send[i];
	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 10000);
	assert_int_equal(p.messages, n);
	assert_int_equal(p.last_len, want_len);
	assert_true(strncmp(p.last, want, strlen(want)) == 0);
	finish(&loop, &ctx);
}

static void
test_message_contents(void **state)
{
	(void)state;
	expect_nth((const char *[]){ "frag", NULL }, 1, "hello world", 11);
	expect_nth((const char *[]){ "header:x-token", NULL }, 1, "secret", 6);
	expect_nth((const char *[]){ "a", "b", "c", NULL }, 2, "b", 1);
	expect_nth((const char *[]){ "big:3000000", NULL }, 1, "bbbb", 3000000);
}

static void
test_message_over_cap(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .send_on_open = { "big:5000000" } };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };

	(void)state;
	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 10000);
	assert_int_equal(p.messages, 0);
	assert_int_equal(p.closed, 0);
	assert_int_equal(p.errored, 1);
	assert_non_null(strstr(p.error, "larger than 4 MiB"));
	run_for(&loop, 100);	/* no second report */
	assert_int_equal(p.errored + p.closed, 1);
	finish(&loop, &ctx);
}

static void
test_server_closes(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .send_on_open = { "close:4001" } };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };

	(void)state;
	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 5000);
	assert_int_equal(p.closed, 1);
	assert_int_equal(p.errored, 0);
	assert_int_equal(p.close_code, 4001);
	assert_string_equal(p.close_reason, "server says bye");
	finish(&loop, &ctx);
}

static void
test_refused(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { 0 };
	struct ws_opts o = { .url = ws_url(0, srv.closed_port, "/ws") };

	(void)state;
	connect_probe(ctx, &p, &o);
	run_until_end(&loop, &p, 5000);
	assert_int_equal(p.errored, 1);
	assert_int_equal(p.opened + p.closed, 0);
	assert_non_null(strstr(p.error, "Connection refused"));
	finish(&loop, &ctx);
}

static void
test_connect_timeout(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { 0 };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws-hang"),
	    .connect_timeout_ms = 300 };
	uint64_t t0;

	(void)state;
	connect_probe(ctx, &p, &o);
	t0 = uv_now(&loop);
	run_until_end(&loop, &p, 5000);
	assert_int_equal(p.errored, 1);
	assert_non_null(strstr(p.error, "timed out after 300 ms"));
	assert_true(uv_now(&loop) - t0 < 2000);
	run_for(&loop, 100);
	assert_int_equal(p.errored + p.closed + p.opened, 1);
	finish(&loop, &ctx);
}

static void
test_wss(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe ok = { .send_on_open = { "tls hello" }, .close_after = 1 };
	struct probe ok2 = { .send_on_open = { "again" }, .close_after = 1 };
	struct probe bad = { 0 };
	struct ws_opts o = { .url = ws_url(1, srv.https_port, "/ws"), .ca_file = srv.cert };
	struct ws_opts untrusted = { .url = ws_url(1, srv.https_port, "/ws") };
	struct probe noca = { 0 };
	struct ws_opts missing = { .url = ws_url(1, srv.https_port, "/ws"),
	    .ca_file = "/nonexistent/ca.pem" };

	(void)state;
	connect_probe(ctx, &noca, &missing);
	run_until_end(&loop, &noca, 5000);
	assert_int_equal(noca.errored, 1);
	assert_non_null(strstr(noca.error, "cannot read CA file /nonexistent/ca.pem"));
	connect_probe(ctx, &ok, &o);
	connect_probe(ctx, &ok2, &o);	/* same CA file: same vhost */
	connect_probe(ctx, &bad, &untrusted);
	run_until_end(&loop, &ok, 5000);
	run_until_end(&loop, &ok2, 5000);
	run_until_end(&loop, &bad, 5000);
	assert_int_equal(ok.closed, 1);
	assert_string_equal(ok.last, "tls hello");
	assert_int_equal(ok.close_code, 1000);
	assert_int_equal(ok2.closed, 1);
	assert_string_equal(ok2.last, "again");
	assert_int_equal(bad.errored, 1);
	assert_int_equal(bad.opened, 0);
	assert_non_null(strstr(bad.error, "SSL certificate problem: self-signed certificate"));
	finish(&loop, &ctx);
}

static void
test_subprotocol(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe good = { .send_on_open = { "x" }, .close_after = 1 };
	struct probe bad = { 0 };
	struct ws_opts og = { .url = ws_url(0, srv.http_port, "/ws"),
	    .subprotocol = "signalbox.v1" };
	struct ws_opts ob = { .url = ws_url(0, srv.http_port, "/ws"),
	    .subprotocol = "other.v2" };

	(void)state;
	connect_probe(ctx, &good, &og);
	connect_probe(ctx, &bad, &ob);
	run_until_end(&loop, &good, 5000);
	run_until_end(&loop, &bad, 5000);
	assert_int_equal(good.closed, 1);
	assert_int_equal(good.errored, 0);
	assert_int_equal(bad.opened, 0);
	assert_int_equal(bad.errored, 1);
	assert_non_null(strstr(bad.error, "subprotocol 'other.v2'"));
	finish(&loop, &ctx);
}

static void
test_close_while_connecting(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { 0 }, hang = { 0 };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };
	struct ws_opts oh = { .url = ws_url(0, srv.http_port, "/ws-hang") };

	(void)state;
	connect_probe(ctx, &p, &o);
	ws_close(p.c, 1000, NULL);	/* before the loop ran */
	connect_probe(ctx, &hang, &oh);
	run_for(&loop, 200);
	ws_close(hang.c, 1000, NULL);	/* mid-handshake */
	run_for(&loop, 300);
	assert_int_equal(p.opened + p.closed + p.errored, 0);
	assert_int_equal(hang.opened + hang.closed + hang.errored, 0);
	finish(&loop, &ctx);
}

static void
test_bad_url(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	const char *bad[] = { "http://127.0.0.1/ws", "ws://", "ws://127.0.0.1:99999/",
	    "ws://127.0.0.1:12x/", "127.0.0.1:80", "ws://user@host/", NULL };
	struct err e = { 0 };
	struct probe p = { 0 };

	(void)state;
	for (int i = 0; bad[i] != NULL; i++) {
		struct ws_opts o = { .url = bad[i] };

		e.msg[0] = '\0';
		assert_null(ws_connect(ctx, &o, &cbs, &p, &e));
		assert_int_equal(e.code, ERR_INVALID);
		assert_non_null(strstr(e.msg, bad[i]));
	}
	finish(&loop, &ctx);
}

static void
test_send_when_not_open(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { 0 };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };

	(void)state;
	connect_probe(ctx, &p, &o);
	assert_int_equal(ws_send_text(p.c, "x", 1), -1);
	finish(&loop, &ctx);	/* shutdown with a connection in flight */
	assert_int_equal(p.opened + p.closed + p.errored, 0);
}

static void
test_shutdown_with_open_connections(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p[3] = { { 0 } };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };
	struct ws_opts os = { .url = ws_url(1, srv.https_port, "/ws"), .ca_file = srv.cert };

	(void)state;
	for (int i = 0; i < 3; i++)
		connect_probe(ctx, &p[i], i == 2 ? &os : &o);
	for (int i = 0; i < 50 && p[0].opened + p[1].opened + p[2].opened < 3; i++)
		run_for(&loop, 20);
	assert_int_equal(p[0].opened + p[1].opened + p[2].opened, 3);
	finish(&loop, &ctx);
	for (int i = 0; i < 3; i++)
		assert_int_equal(p[i].closed + p[i].errored, 0);
}

static void
test_shutdown_from_callback(void **state)
{
	uv_loop_t loop;
	struct ws_ctx *ctx = start(&loop);
	struct probe p = { .send_on_open = { "bye" }, .shutdown_after = 1 };
	struct probe other = { 0 };
	struct ws_opts o = { .url = ws_url(0, srv.http_port, "/ws") };

	(void)state;
	connect_probe(ctx, &p, &o);
	connect_probe(ctx, &other, &o);
	/* the whole teardown happens inside on_message; the loop then ends */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(p.messages, 1);
	assert_int_equal(p.closed + p.errored + other.closed + other.errored, 0);
	ws_ctx_free(&ctx);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_and_clean_close),
		cmocka_unit_test(test_queue_order_and_fragments),
		cmocka_unit_test(test_message_contents),
		cmocka_unit_test(test_message_over_cap),
		cmocka_unit_test(test_server_closes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_wss),
		cmocka_unit_test(test_subprotocol),
		cmocka_unit_test(test_close_while_connecting),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_send_when_not_open),
		cmocka_unit_test(test_shutdown_with_open_connections),
		cmocka_unit_test(test_shutdown_from_callback),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
