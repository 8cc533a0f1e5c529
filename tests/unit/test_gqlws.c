/* test_gqlws.c - the graphql-transport-ws client against a real graphql-ws
 * server (tests/support/gqlws_server.js, node, on loopback). */
#define _GNU_SOURCE	/* pipe2 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/gqlws.h"
#include "signalbox/ws.h"

/* ---- the server ------------------------------------------------------------- */

static struct {
	pid_t pid;
	int lifeline;
	int port, closed_port;
} srv;

static void
source_dir(char *buf, size_t size)
{
	const char *src = getenv("SIGNALBOX_SOURCE_DIR");

	if (src != NULL && *src != '\0') {
		snprintf(buf, size, "%s", src);
		return;
	}
	/* CMake compiles with absolute paths: two levels above this file. */
	{
		const char *f = __FILE__, *s = strrchr(f, '/');

		snprintf(buf, size, "%.*s/../..", s != NULL ? (int)(s - f) : 1, s != NULL ? f : ".");
	}
}

/* The server's node modules come from sandbox/railway: install them the
 * way the sandbox does (ensure_npm: npm ci on first use, under a lock). */
static int
ensure_node_modules(const char *src)
{
	char cmd[PATH_MAX * 3 + 256], probe[PATH_MAX + 64];
	int rc;

	snprintf(probe, sizeof probe, "%s/sandbox/railway/node_modules/graphql-ws/package.json", src);
	snprintf(cmd, sizeof cmd, "SB_PROG=test_gqlws bash -c '. \"$0/sandbox/lib/common.sh\" && "
	    ". \"$0/sandbox/lib/install.sh\" && ensure_npm \"$0/sandbox/railway\"' '%s' >&2", src);
	rc = system(cmd);
	if (rc != 0 || access(probe, R_OK) != 0) {
		fprintf(stderr, "test_gqlws: the test server needs graphql, graphql-ws and ws in "
		    "sandbox/railway/node_modules and installing them failed: run `npm ci` in "
		    "%s/sandbox/railway\n", src);
		return -1;
	}
	return 0;
}

static int
json_int(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return 0;
	return atoi(p + strlen(pat));
}

static int
server_start(void)
{
	char src[PATH_MAX], script[PATH_MAX + 64], line[512];
	int out[2], life[2];
	size_t len = 0;

	source_dir(src, sizeof src);
	if (ensure_node_modules(src) != 0)
		return -1;
	snprintf(script, sizeof script, "%s/tests/support/gqlws_server.js", src);
	if (pipe(out) != 0 || pipe2(life, O_CLOEXEC) != 0)
		return -1;
	srv.pid = fork();
	if (srv.pid < 0)
		return -1;
	if (srv.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(life[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execlp("node", "node", script, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(life[0]);
	srv.lifeline = life[1];
	while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL) {
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		if ((n = read(out[0], line + len, sizeof line - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(out[0]);
	line[len] = '\0';
	srv.port = json_int(line, "port");
	srv.closed_port = json_int(line, "closed");
	if (srv.port == 0 || srv.closed_port == 0) {
		fprintf(stderr, "test_gqlws: %s did not report its port (got '%s')\n", script, line);
		return -1;
	}
	return 0;
}

static void
server_stop(void)
{
	if (srv.lifeline > 0)
		close(srv.lifeline);
	srv.lifeline = 0;
	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		while (waitpid(srv.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	srv.pid = 0;
}

/* GET PATH from the server's admin side (blocking, bounded); the body as a
 * new string. */
static char *
admin(const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port) };
	char req[512], *buf = NULL, *body;
	size_t len = 0, cap = 0;
	int fd;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_true(poll(&pfd, 1, 5000) > 0);
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	assert_non_null(buf);
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	assert_non_null(body);
	body = strdup(body + 4);
	free(buf);
	return body;
}

static cJSON *
stats(void)
{
	char *body = admin("/stats");
	cJSON *j = cJSON_Parse(body);

	free(body);
	assert_non_null(j);
	return j;
}

static int
stat_int(const char *key)
{
	cJSON *j = stats();
	int v = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, key));

	cJSON_Delete(j);
	return v;
}

/* How many messages of TYPE the clients sent. */
static int
stat_type(const char *type)
{
	cJSON *j = stats();
	const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "types"), type);
	int v = cJSON_IsNumber(t) ? (int)t->valuedouble : 0;

	cJSON_Delete(j);
	return v;
}

static void
admin_do(const char *path)
{
	free(admin(path));
}

static void
reset_server(void)
{
	admin_do("/reset");
}

/* ---- the loop --------------------------------------------------------------- */

struct env {
	uv_loop_t loop;
	struct ws_ctx *ws;
	uv_timer_t tick;
};

static void
tick(uv_timer_t *t)
{
	(void)t;
}

static uint64_t
now_ms(void)
{
	return uv_hrtime() / 1000000;
}

static void
env_start(struct env *env)
{
	struct err e = { 0 };

	assert_int_equal(uv_loop_init(&env->loop), 0);
	env->ws = ws_ctx_new(&env->loop, &e);
	if (env->ws == NULL)
		fail_msg("ws_ctx_new: %s", e.msg);
	/* UV_RUN_ONCE returns at least every 10 ms */
	uv_timer_init(&env->loop, &env->tick);
	uv_timer_start(&env->tick, tick, 10, 10);
	reset_server();
}

/* Free the clients first (gqlws.h), then the two-step ws teardown; the loop
 * must end empty. */
static void
env_finish(struct env *env)
{
	uv_close((uv_handle_t *)&env->tick, NULL);
	ws_ctx_shutdown(env->ws);
	assert_int_equal(uv_run(&env->loop, UV_RUN_DEFAULT), 0);
	ws_ctx_free(&env->ws);
	assert_int_equal(uv_loop_close(&env->loop), 0);
}

/* Run the loop until COND holds or MS pass; then COND is asserted. */
#define WAIT(env, cond, ms) do { \
	uint64_t t0_ = now_ms(); \
	while (!(cond) && now_ms() - t0_ < (uint64_t)(ms)) \
		uv_run(&(env)->loop, UV_RUN_ONCE); \
	if (!(cond)) \
		fail_msg("timed out after %d ms waiting for %s", (int)(ms), #cond); \
} while (0)

static void
run_for(struct env *env, uint64_t ms)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < ms)
		uv_run(&env->loop, UV_RUN_ONCE);
}

/* ---- what the callbacks saw --------------------------------------------------- */

struct crec {			/* one client */
	struct gqlws *g;
	int calls;		/* on_state calls */
	int n[4];		/* per state */
	enum gqlws_state last;
	char reason[700];
	uint64_t retry_in;
	unsigned attempts;
	int auth, close_code;
	int free_on_open;	/* gqlws_free from on_state(OPEN) */
};

struct srec {			/* one subscription */
	struct gqlws_sub *s;
	struct gqlws *g;	/* its client, for free_after */
	struct crec *cr;
	int nexts, errors, completes;
	int ns[512];		/* tick numbers received */
	unsigned resub[512];
	uint64_t index[512], seq[512];
	char last_raw[128];
	char next_errors[256];
	char err[1100];
	int err_final, err_auth;
	uint64_t err_retry;
	int unsub_after;	/* gqlws_unsubscribe from on_next */
	int free_after;		/* gqlws_free of the client from on_next */
};

static void
on_state(struct gqlws *g, const struct gqlws_status *st, void *ud)
{
	struct crec *r = ud;

	assert_ptr_equal(g, r->g);
	r->calls++;
	r->n[st->state]++;
	r->last = st->state;
	snprintf(r->reason, sizeof r->reason, "%s", st->reason != NULL ? st->reason : "");
	r->retry_in = st->retry_in_ms;
	r->attempts = st->attempts;
	r->auth = st->auth;
	r->close_code = st->close_code;
	if (st->state != GQLWS_RETRYING && st->state != GQLWS_FAILED)
		assert_null(st->reason);
	else
		assert_non_null(st->reason);
	if (st->state == GQLWS_OPEN && r->free_on_open)
		gqlws_free(&r->g);
}

static const struct gqlws_cbs ccbs = { on_state };

static void
on_next(struct gqlws_sub *s, const struct gqlws_next *n, void *ud)
{
	struct srec *r = ud;
	const cJSON *data = cJSON_GetObjectItem((cJSON *)n->payload, "data");
	const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(data, "ticks"), "n");
	int i = r->nexts;

	assert_ptr_equal(s, r->s);
	if (i < 512) {
		r->ns[i] = cJSON_IsNumber(t) ? (int)t->valuedouble : -1;
		r->resub[i] = n->resubscribed;
		r->index[i] = n->index;
		r->seq[i] = n->seq;
	}
	snprintf(r->last_raw, sizeof r->last_raw, "%.*s", (int)(n->raw_len < 127 ? n->raw_len : 127),
	    n->raw);
	if (n->errors != NULL)
		snprintf(r->next_errors, sizeof r->next_errors, "%s", n->errors);
	r->nexts++;
	if (r->unsub_after > 0 && r->nexts == r->unsub_after) {
		gqlws_unsubscribe(&r->s);
		assert_null(r->s);
	}
	if (r->free_after > 0 && r->nexts == r->free_after) {
		gqlws_free(&r->cr->g);
		r->s = NULL;
	}
}

static void
on_error(struct gqlws_sub *s, const struct gqlws_error *er, void *ud)
{
	struct srec *r = ud;

	assert_ptr_equal(s, r->s);
	r->errors++;
	snprintf(r->err, sizeof r->err, "%s", er->message);
	r->err_final = er->final;
	r->err_auth = er->auth;
	r->err_retry = er->retry_in_ms;
	assert_true(er->final || er->retry_in_ms > 0);
}

static void
on_complete(struct gqlws_sub *s, void *ud)
{
	struct srec *r = ud;

	assert_ptr_equal(s, r->s);
	r->completes++;
}

static const struct gqlws_sub_cbs scbs = { on_next, on_error, on_complete };

static const char *const good_headers[] = { "Authorization: Bearer good", NULL };

static char *
url(const char *query)
{
	static char buf[4][256];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof buf[0], "ws://127.0.0.1:%d/graphql%s%s", srv.port,
	    query != NULL ? "?" : "", query != NULL ? query : "");
	return b;
}

static void
client(struct env *env, struct crec *r, struct gqlws_opts *o)
{
	struct err e = { 0 };

	r->g = gqlws_new(&env->loop, env->ws, o, &ccbs, r, &e);
	if (r->g == NULL)
		fail_msg("gqlws_new: %s", e.msg);
	assert_int_equal(r->calls, 0);	/* never from inside the call */
}

static void
subscribe(struct crec *c, struct srec *r, const char *query, const char *vars)
{
	struct err e = { 0 };
	int calls = c->calls;

	r->cr = c;
	r->g = c->g;
	r->s = gqlws_subscribe(c->g, query, vars, &scbs, r, &e);
	if (r->s == NULL)
		fail_msg("gqlws_subscribe: %s", e.msg);
	assert_int_equal(r->nexts + r->errors + r->completes, 0);
	assert_int_equal(c->calls, calls);
}

static const char TICKS[] =
    "subscription T($c: Int, $iv: Int, $tag: String) "
    "{ ticks(count: $c, intervalMs: $iv, tag: $tag) { n tag } }";

/* ---- tests ---------------------------------------------------------------------- */

static void
test_connect_and_ack(void **state)
{
	struct env env;
	struct crec a = { 0 }, b = { 0 }, c = { 0 };
	const char *const pat[] = { "Project-Access-Token: good", NULL };
	struct gqlws_opts oa = { .url = url(NULL), .headers = good_headers };
	struct gqlws_opts ob = { .url = url(NULL), .init_payload = "{\"authToken\":\"good\"}" };
	struct gqlws_opts oc = { .url = url(NULL), .headers = pat };
	cJSON *st;
	const cJSON *it;
	int bearer = 0, patok = 0, params = 0;

	(void)state;
	env_start(&env);
	client(&env, &a, &oa);
	client(&env, &b, &ob);
	client(&env, &c, &oc);
	WAIT(&env, a.last == GQLWS_OPEN && b.last == GQLWS_OPEN && c.last == GQLWS_OPEN, 5000);
	assert_int_equal(a.calls, 2);	/* CONNECTING, OPEN */
	assert_int_equal(a.n[GQLWS_CONNECTING], 1);
	assert_int_equal(a.n[GQLWS_OPEN], 1);
	assert_int_equal(gqlws_get_status(a.g)->state, GQLWS_OPEN);
	assert_int_equal(gqlws_get_status(a.g)->attempts, 0);

	st = stats();
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "acks")), 3);
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(st, "types"), "connection_init")), 3);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "headers")) {
		const cJSON *au = cJSON_GetObjectItem(it, "authorization");
		const cJSON *pa = cJSON_GetObjectItem(it, "projectAccessToken");

		bearer += cJSON_IsString(au) && strcmp(au->valuestring, "Bearer good") == 0;
		patok += cJSON_IsString(pa) && strcmp(pa->valuestring, "good") == 0;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "initPayloads")) {
		const cJSON *t = cJSON_GetObjectItem(it, "authToken");

		params += cJSON_IsString(t) && strcmp(t->valuestring, "good") == 0;
	}
	cJSON_Delete(st);
	assert_int_equal(bearer, 1);
	assert_int_equal(patok, 1);
	assert_int_equal(params, 1);

	gqlws_free(&a.g);
	gqlws_free(&b.g);
	gqlws_free(&c.g);
	assert_null(a.g);
	gqlws_free(&a.g);	/* NULL-safe */
	env_finish(&env);
}

static void
test_nexts_in_order_then_complete(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec s = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers };
	cJSON *st;
	const cJSON *sub;

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	/* subscribed before the connection is open: sent after the ack */
	subscribe(&c, &s, TICKS, "{\"c\":300,\"iv\":0,\"tag\":\"order\"}");
	assert_string_equal(gqlws_sub_id(s.s), "1");
	WAIT(&env, s.completes == 1, 5000);
	assert_int_equal(s.nexts, 300);
	assert_int_equal(s.errors, 0);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(s.ns[i], i);
		assert_int_equal(s.seq[i], (uint64_t)i + 1);
		assert_int_equal(s.index[i], (uint64_t)i + 1);
		assert_int_equal(s.resub[i], 0);
	}
	assert_non_null(strstr(s.last_raw, "\"tag\":\"order\""));
	st = stats();
	sub = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "subscribes"), 0);
	assert_string_equal(cJSON_GetObjectItem(sub, "id")->valuestring, "1");
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(sub, "variables"), "c")), 300);
	cJSON_Delete(st);
	/* a completed subscription stays a valid, inert handle */
	run_for(&env, 100);
	assert_int_equal(s.completes, 1);
	gqlws_unsubscribe(&s.s);
	assert_null(s.s);
	assert_int_equal(stat_type("complete"), 0);	/* nothing to complete */
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_server_complete_not_resubscribed(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec done = { 0 }, live = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers,
	    .retry_initial_ms = 50, .retry_max_ms = 200 };

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	WAIT(&env, c.last == GQLWS_OPEN, 5000);
	subscribe(&c, &done, TICKS, "{\"c\":3}");
	subscribe(&c, &live, TICKS, "{\"iv\":20}");
	WAIT(&env, done.completes == 1 && live.nexts >= 3, 5000);
	assert_int_equal(done.nexts, 3);
	admin_do("/drop");
	WAIT(&env, c.n[GQLWS_OPEN] == 2 && live.nexts > 0 && live.resub[live.nexts - 1] == 1, 5000);
	run_for(&env, 100);
	assert_int_equal(done.nexts, 3);
	assert_int_equal(done.completes, 1);
	assert_int_equal(done.errors, 0);
	assert_int_equal(stat_type("subscribe"), 3);	/* done once, live twice */
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_server_errors(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec bad = { 0 }, boom = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers,
	    .retry_initial_ms = 50, .retry_max_ms = 200 };

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	subscribe(&c, &bad, "subscription { nope }", NULL);
	subscribe(&c, &boom, "subscription { boom }", NULL);
	WAIT(&env, bad.errors == 1 && boom.errors == 1, 5000);
	assert_non_null(strstr(bad.err, "Cannot query field \"nope\" on type \"Subscription\""));
	assert_int_equal(bad.err_final, 1);
	assert_int_equal(bad.err_auth, 0);
	assert_int_equal(bad.nexts + bad.completes, 0);
	assert_int_equal(boom.nexts, 1);
	assert_string_equal(boom.err, "boom: the source failed");
	assert_int_equal(boom.err_final, 1);
	/* a final error is not sent again after a reconnect */
	admin_do("/drop");
	WAIT(&env, c.n[GQLWS_OPEN] == 2, 5000);
	run_for(&env, 200);
	assert_int_equal(stat_type("subscribe"), 2);
	assert_int_equal(bad.errors + boom.errors, 2);
	assert_int_equal(c.last, GQLWS_OPEN);
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_error_not_authorized_is_retried_slowly(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec secret = { 0 }, limited = { 0 }, ok = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers,
	    .retry_initial_ms = 50, .retry_max_ms = 1000 };
	cJSON *st;
	const cJSON *it;
	int nsecret = 0, nlimited = 0;

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	subscribe(&c, &secret, "subscription { secret }", NULL);
	subscribe(&c, &limited, "subscription { limited }", NULL);
	subscribe(&c, &ok, TICKS, "{\"iv\":50}");
	WAIT(&env, secret.errors == 1 && limited.errors == 1, 5000);
	assert_string_equal(secret.err, "Not Authorized");
	assert_int_equal(secret.err_auth, 1);
	assert_int_equal(secret.err_final, 0);
	assert_int_equal(secret.err_retry, 1000);	/* the maximum backoff */
	assert_non_null(strstr(limited.err, "Rate limit exceeded"));
	assert_int_equal(limited.err_auth, 0);
	assert_int_equal(limited.err_final, 0);
	assert_int_equal(limited.err_retry, 1000);	/* retryAfter: 1 s */
	run_for(&env, 2300);
	st = stats();
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "subscribes")) {
		const char *q = cJSON_GetObjectItem(it, "query")->valuestring;

		nsecret += strstr(q, "secret") != NULL;
		nlimited += strstr(q, "limited") != NULL;
	}
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "connections")), 1);
	cJSON_Delete(st);
	/* t = 0, ~1 s, ~2 s: no tight loop */
	assert_in_range(nsecret, 2, 3);
	assert_in_range(nlimited, 2, 3);
	assert_int_equal(secret.errors, nsecret);
	/* the other subscription and the connection were not disturbed */
	assert_int_equal(c.calls, 2);
	assert_true(ok.nexts >= 20);
	assert_int_equal(ok.resub[ok.nexts - 1], 0);
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_ping_pong_both_ways(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers,
	    .ping_interval_ms = 100, .pong_timeout_ms = 300 };

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	WAIT(&env, c.last == GQLWS_OPEN, 5000);
	run_for(&env, 1000);
	/* ours: every 100 ms, each answered (else the connection would drop) */
	assert_in_range(stat_type("ping"), 5, 11);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.last, GQLWS_OPEN);
	/* theirs */
	assert_int_equal(stat_type("pong"), 0);
	admin_do("/ping");
	admin_do("/ping");
	{
		uint64_t t0 = now_ms();

		while (stat_type("pong") < 2 && now_ms() - t0 < 3000)
			run_for(&env, 20);
	}
	assert_int_equal(stat_type("pong"), 2);
	assert_int_equal(c.calls, 2);
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_missing_pong_is_a_dead_connection(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec s = { 0 };
	struct gqlws_opts o = { .url = url("nopong=1"), .headers = good_headers,
	    .ping_interval_ms = 100, .pong_timeout_ms = 200, .retry_initial_ms = 50,
	    .retry_max_ms = 100 };
	uint64_t t0;

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	subscribe(&c, &s, TICKS, "{\"iv\":1000}");
	WAIT(&env, c.last == GQLWS_OPEN, 5000);
	t0 = now_ms();
	WAIT(&env, c.last == GQLWS_RETRYING, 2000);
	assert_true(now_ms() - t0 >= 250);	/* ping at 100, pong due by 300 */
	assert_string_equal(c.reason, "no pong within 200 ms: the connection is dead");
	WAIT(&env, c.n[GQLWS_OPEN] == 2, 2000);	/* and back */
	WAIT(&env, s.nexts >= 2 && s.resub[s.nexts - 1] >= 1, 2000);
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_ack_timeout(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct gqlws_opts o = { .url = url("noack=1"), .headers = good_headers,
	    .ack_timeout_ms = 200, .retry_initial_ms = 1000, .retry_max_ms = 5000 };

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	WAIT(&env, c.last == GQLWS_RETRYING, 3000);
	assert_int_equal(c.n[GQLWS_OPEN], 0);
	assert_string_equal(c.reason, "no connection_ack within 200 ms after connection_init");
	assert_int_equal(c.close_code, 4408);
	assert_in_range(c.retry_in, 800, 1200);
	assert_int_equal(c.attempts, 1);
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_drop_mid_stream_resubscribes(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec s = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers,
	    .retry_initial_ms = 100, .retry_max_ms = 1000 };
	uint64_t t_drop, t_open;
	int before, first;
	cJSON *st;
	const cJSON *subs;

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	subscribe(&c, &s, TICKS, "{\"iv\":20,\"tag\":\"again\"}");
	WAIT(&env, s.nexts >= 5, 5000);
	t_drop = now_ms();
	admin_do("/drop");
	WAIT(&env, c.last == GQLWS_RETRYING, 3000);
	assert_string_equal(c.reason, "connection lost (closed without a close frame)");
	assert_int_equal(c.close_code, 1006);
	assert_in_range(c.retry_in, 80, 120);	/* 100 ms +- 20 % */
	before = s.nexts;
	WAIT(&env, c.n[GQLWS_OPEN] == 2, 3000);
	t_open = now_ms();
	assert_true(t_open - t_drop >= 70);
	WAIT(&env, s.nexts >= before + 5, 3000);
	/* the first next after the resubscription says so */
	first = before;
	while (first < s.nexts && s.resub[first] == 0)
		first++;
	assert_true(first < s.nexts);
	assert_int_equal(s.resub[first], 1);
	assert_int_equal(s.index[first], 1);
	assert_int_equal(s.seq[first], (uint64_t)first + 1);
	assert_int_equal(s.ns[first], 0);	/* the server started over: may repeat */
	assert_int_equal(s.errors + s.completes, 0);
	st = stats();
	subs = cJSON_GetObjectItem(st, "subscribes");
	assert_int_equal(cJSON_GetArraySize(subs), 2);
	for (int i = 0; i < 2; i++) {
		const cJSON *it = cJSON_GetArrayItem(subs, i);

		assert_string_equal(cJSON_GetObjectItem(it, "id")->valuestring, "1");
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "variables"),
		    "tag")->valuestring, "again");
	}
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(st, "types"), "connection_init")), 2);
	cJSON_Delete(st);

	/* a second drop backs off further: 200 ms +- 20 % */
	admin_do("/close?code=4500");
	WAIT(&env, c.n[GQLWS_RETRYING] == 2, 3000);
	assert_string_equal(c.reason, "the server closed the connection with 4500 (internal "
	    "server error): \"closed by the test\"");
	assert_int_equal(c.close_code, 4500);
	assert_int_equal(c.attempts, 2);
	assert_in_range(c.retry_in, 160, 240);
	WAIT(&env, c.n[GQLWS_OPEN] == 3, 3000);
	gqlws_free(&c.g);
	env_finish(&env);
}

/* Connection attempts the server saw during MS of loop time. */
static int
attempts_during(struct env *env, uint64_t ms)
{
	run_for(env, ms);
	return stat_int("upgrades");
}

static void
test_auth_refused(void **state)
{
	struct env env;
	struct crec c403 = { 0 }, c401 = { 0 }, chttp = { 0 }, cfail = { 0 };
	const char *const bad[] = { "Authorization: Bearer wrong", NULL };
	struct gqlws_opts o403 = { .url = url(NULL), .headers = bad,
	    .retry_initial_ms = 50, .retry_max_ms = 1500 };
	struct gqlws_opts o401 = o403, ohttp = o403, ofail = o403;
	int n;

	(void)state;
	env_start(&env);
	client(&env, &c403, &o403);
	WAIT(&env, c403.last == GQLWS_RETRYING, 3000);
	assert_int_equal(c403.auth, 1);
	assert_int_equal(c403.close_code, 4403);
	assert_string_equal(c403.reason, "not authorized: the server closed the connection "
	    "with 4403 (forbidden); check the token");
	assert_int_equal(c403.retry_in, 1500);
	n = attempts_during(&env, 2000);
	/* t = 0 and t = 1.5 s; an ordinary backoff from 50 ms would make 6 */
	assert_in_range(n, 1, 2);
	assert_int_equal(c403.n[GQLWS_OPEN], 0);
	gqlws_free(&c403.g);

	reset_server();
	o401.url = url("deny=4401");
	client(&env, &c401, &o401);
	WAIT(&env, c401.last == GQLWS_RETRYING, 3000);
	assert_int_equal(c401.auth, 1);
	assert_int_equal(c401.close_code, 4401);
	assert_string_equal(c401.reason, "not authorized: the server closed the connection "
	    "with 4401 (unauthorized): \"Unauthorized: bad token\"; check the token");
	assert_int_equal(c401.retry_in, 1500);
	gqlws_free(&c401.g);

	ohttp.url = url("upgrade=401");
	client(&env, &chttp, &ohttp);
	WAIT(&env, chttp.last == GQLWS_RETRYING, 3000);
	assert_non_null(strstr(chttp.reason, "not authorized"));
	assert_int_equal(chttp.auth, 1);
	assert_int_equal(chttp.retry_in, 1500);
	gqlws_free(&chttp.g);

	/* max_attempts: give up, with the reason */
	ofail.max_attempts = 2;
	ofail.retry_max_ms = 100;
	client(&env, &cfail, &ofail);
	WAIT(&env, cfail.last == GQLWS_FAILED, 3000);
	assert_int_equal(cfail.n[GQLWS_RETRYING], 1);
	assert_int_equal(cfail.n[GQLWS_CONNECTING], 2);
	assert_non_null(strstr(cfail.reason, "4403 (forbidden)"));
	assert_non_null(strstr(cfail.reason, "(gave up after 2 attempts)"));
	run_for(&env, 300);
	assert_int_equal(cfail.n[GQLWS_CONNECTING], 2);	/* stays down */
	/* until asked: gqlws_reconnect calls back from the loop only */
	gqlws_reconnect(cfail.g);
	assert_int_equal(cfail.n[GQLWS_CONNECTING], 2);
	WAIT(&env, cfail.n[GQLWS_CONNECTING] == 3, 2000);
	gqlws_free(&cfail.g);
	env_finish(&env);
}

static void
test_unsubscribe(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec in_cb = { .unsub_after = 3 }, outside = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers };
	cJSON *st;
	const cJSON *ids;

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	subscribe(&c, &in_cb, TICKS, "{\"iv\":20}");
	subscribe(&c, &outside, TICKS, "{\"iv\":20}");
	WAIT(&env, in_cb.nexts >= 3 && outside.nexts >= 3, 5000);
	assert_null(in_cb.s);
	gqlws_unsubscribe(&outside.s);
	assert_null(outside.s);
	gqlws_unsubscribe(&outside.s);	/* NULL-safe */
	{
		int n = outside.nexts;

		run_for(&env, 300);
		assert_int_equal(in_cb.nexts, 3);
		assert_int_equal(outside.nexts, n);
	}
	assert_int_equal(in_cb.errors + in_cb.completes + outside.errors + outside.completes, 0);
	st = stats();
	ids = cJSON_GetObjectItem(st, "completes");
	assert_int_equal(cJSON_GetArraySize(ids), 2);
	assert_string_equal(cJSON_GetArrayItem(ids, 0)->valuestring, "1");
	assert_string_equal(cJSON_GetArrayItem(ids, 1)->valuestring, "2");
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "active")), 0);
	cJSON_Delete(st);
	assert_int_equal(c.calls, 2);
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_hostile_messages(void **state)
{
	static const struct {
		const char *kind, *reason;
		int code;
	} cases[] = {
		{ "nonjson", "the server sent a message that is not JSON: \"hello {this is not "
		    "json\"", 4400 },
		{ "unknown", "the server sent an unknown message type 'bogus'", 4400 },
		{ "notype", "the server sent a message without a type: \"{\"id\":\"1\",\"payload"
		    "\":{}}\"", 4400 },
		{ "array", "the server sent a message without a type: \"[1,2,3]\"", 4400 },
		{ "big", "the server sent a message of 2.0 MiB; the limit is 1.0 MiB", 1009 },
		{ "binary", "the server sent a binary message (graphql-transport-ws is text)", 4400 },
		{ "noid", "the server sent 'next' without an id", 4400 },
		{ "ack2", "the server sent a second connection_ack", 4400 },
	};
	struct env env;
	struct crec c = { 0 };
	struct srec s = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers,
	    .retry_initial_ms = 20, .retry_max_ms = 50 };

	(void)state;
	env_start(&env);
	client(&env, &c, &o);
	subscribe(&c, &s, TICKS, "{\"iv\":20}");
	WAIT(&env, s.nexts >= 2, 5000);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[64];
		int opened = c.n[GQLWS_OPEN], retried = c.n[GQLWS_RETRYING], n;

		snprintf(path, sizeof path, "/send?kind=%s", cases[i].kind);
		admin_do(path);
		WAIT(&env, c.n[GQLWS_RETRYING] == retried + 1, 3000);
		if (strcmp(c.reason, cases[i].reason) != 0)
			fail_msg("%s: reason '%s', expected '%s'", cases[i].kind, c.reason,
			    cases[i].reason);
		assert_int_equal(c.close_code, cases[i].code);
		/* it comes back and the subscription goes on */
		WAIT(&env, c.n[GQLWS_OPEN] == opened + 1, 3000);
		n = s.nexts;
		WAIT(&env, s.nexts >= n + 2, 3000);
	}
	assert_int_equal(s.errors + s.completes, 0);
	assert_int_equal(s.resub[s.nexts - 1], sizeof cases / sizeof cases[0]);
	/* a next for an id we do not know is ignored, the connection stays */
	{
		int calls = c.calls, n = s.nexts;

		admin_do("/send?kind=strayid");
		run_for(&env, 200);
		assert_int_equal(c.calls, calls);
		assert_true(s.nexts > n);
	}
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_refused_connection(void **state)
{
	struct env env;
	struct crec c = { 0 };
	char u[128];
	struct gqlws_opts o = { .url = u, .retry_initial_ms = 100, .retry_max_ms = 400 };

	(void)state;
	snprintf(u, sizeof u, "ws://127.0.0.1:%d/graphql", srv.closed_port);
	env_start(&env);
	client(&env, &c, &o);
	WAIT(&env, c.n[GQLWS_RETRYING] == 3, 3000);
	assert_non_null(strstr(c.reason, "cannot connect: "));
	assert_non_null(strstr(c.reason, "Connection refused"));
	assert_int_equal(c.auth, 0);
	assert_int_equal(c.attempts, 3);
	assert_in_range(c.retry_in, 320, 400);	/* 400 ms capped, jitter below the cap */
	gqlws_free(&c.g);
	env_finish(&env);
}

static void
test_bad_arguments(void **state)
{
	struct env env;
	struct crec c = { 0 };
	struct srec s = { 0 };
	struct err e = { 0 };
	struct gqlws_opts bad_url = { .url = "http://127.0.0.1/graphql" };
	struct gqlws_opts bad_init = { .url = url(NULL), .init_payload = "[1]" };
	struct gqlws_opts bad_port = { .url = "ws://127.0.0.1:99999/graphql" };
	struct gqlws_opts ok = { .url = url(NULL), .headers = good_headers };

	(void)state;
	env_start(&env);
	assert_null(gqlws_new(&env.loop, env.ws, &bad_url, &ccbs, &c, &e));
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.msg, "http://127.0.0.1/graphql: not a ws:// or wss:// URL");
	assert_null(gqlws_new(&env.loop, env.ws, &bad_init, &ccbs, &c, &e));
	assert_non_null(strstr(e.msg, "connection_init payload is not a JSON object"));
	/* a URL only ws_connect rejects: FAILED, from the loop */
	client(&env, &c, &bad_port);
	WAIT(&env, c.last == GQLWS_FAILED, 2000);
	assert_non_null(strstr(c.reason, "invalid port"));
	gqlws_free(&c.g);

	memset(&c, 0, sizeof c);
	client(&env, &c, &ok);
	assert_null(gqlws_subscribe(c.g, TICKS, "[]", &scbs, &s, &e));
	assert_non_null(strstr(e.msg, "variables are not a JSON object"));
	assert_null(gqlws_subscribe(c.g, TICKS, "{oops", &scbs, &s, &e));
	assert_null(gqlws_subscribe(c.g, " \n", NULL, &scbs, &s, &e));
	assert_non_null(strstr(e.msg, "empty subscription query"));
	assert_int_equal(c.calls, 0);
	gqlws_free(&c.g);	/* before it ever connected: no callback at all */
	run_for(&env, 200);
	assert_int_equal(c.calls, 0);
	assert_string_equal(gqlws_close_words(4429), "too many initialisation requests");
	assert_string_equal(gqlws_close_words(4499), "terminated");
	assert_string_equal(gqlws_close_words(4500), "internal server error");
	assert_string_equal(gqlws_close_words(4409), "subscriber already exists");
	assert_string_equal(gqlws_close_words(4242), "unknown close code");
	assert_string_equal(gqlws_state_name(GQLWS_RETRYING), "retrying");
	env_finish(&env);
}

static void
test_free_inside_callbacks(void **state)
{
	struct env env;
	struct crec a = { .free_on_open = 1 }, b = { 0 };
	struct srec sa = { 0 }, sb = { .free_after = 2 }, sb2 = { 0 };
	struct gqlws_opts o = { .url = url(NULL), .headers = good_headers };

	(void)state;
	env_start(&env);
	client(&env, &a, &o);
	subscribe(&a, &sa, TICKS, "{\"iv\":10}");
	client(&env, &b, &o);
	subscribe(&b, &sb, TICKS, "{\"iv\":10}");
	subscribe(&b, &sb2, TICKS, "{\"iv\":10}");
	WAIT(&env, a.g == NULL && b.g == NULL, 5000);
	run_for(&env, 300);
	assert_int_equal(a.calls, 2);
	assert_int_equal(sa.nexts + sa.errors + sa.completes, 0);
	assert_int_equal(sb.nexts, 2);
	assert_true(sb2.nexts <= 2);
	assert_int_equal(b.calls, 2);
	env_finish(&env);
}

static int
group_setup(void **state)
{
	(void)state;
	return server_start();
}

static int
group_teardown(void **state)
{
	(void)state;
	server_stop();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_ack),
		cmocka_unit_test(test_nexts_in_order_then_complete),
		cmocka_unit_test(test_server_complete_not_resubscribed),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_error_not_authorized_is_retried_slowly),
		cmocka_unit_test(test_ping_pong_both_ways),
		cmocka_unit_test(test_missing_pong_is_a_dead_connection),
		cmocka_unit_test(test_ack_timeout),
		cmocka_unit_test(test_drop_mid_stream_resubscribes),
		cmocka_unit_test(test_auth_refused),
		cmocka_unit_test(test_unsubscribe),
		cmocka_unit_test(test_hostile_messages),
		cmocka_unit_test(test_refused_connection),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_free_inside_callbacks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
