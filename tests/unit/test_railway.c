/* test_railway.c - the Railway provider on a real loop against
 * tests/support/gqlserver.js, which answers with replies recorded from the
 * sandbox's emulator (tests/fixtures/railway) and with broken ones: GraphQL
 * errors, 429 with Retry-After, truncated JSON, an HTML 502 page, a body
 * over the cap, hostile strings, 64-bit ids and statuses we do not know. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gqlserver_run.h"
#include "signalbox/http.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"

static struct gqlserver srv;

#define API_ID "13b16db8-678d-4ba5-a697-e8947839d24d"
#define ENV_ID "4ba881aa-c780-4021-a912-3aa53504084f"
#define PROJECT_ID "339da215-ec37-49ee-aa80-1b4a7f8e5c04"

struct fx {
	uv_loop_t loop;
	struct store *store;
	struct http *http;
	struct railway *rw;
	char url[256];
};

/* What a completion callback saw. */
struct box {
	int called;
	int ok, cancelled;
	char op[32];
	char error[600];
	char dep[160];
	char value[600];
	size_t value_len;
	int64_t duration_ms;
};

static void
box_done(const struct railway_result *r, void *ud)
{
	struct box *b = ud;

	b->called++;
	b->ok = r->ok;
	b->cancelled = r->cancelled;
	util_strlcpy(b->op, r->op, sizeof b->op);
	util_strlcpy(b->error, r->error, sizeof b->error);
	util_strlcpy(b->dep, r->deployment_id, sizeof b->dep);
	b->value_len = r->value_len;
	if (r->value != NULL)
		util_strlcpy(b->value, r->value, sizeof b->value);
	b->duration_ms = r->duration_ms;
}

static void
fx_init(struct fx *f, const char *path)
{
	struct err e;

	memset(f, 0, sizeof *f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->store = store_new();
	f->http = http_new(&f->loop, &e);
	assert_non_null(f->http);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/%s/graphql/v2", srv.port, path);
}

static void
fx_opts(struct railway_opts *o, const struct fx *f)
{
	memset(o, 0, sizeof *o);
	o->endpoint = f->url;
	o->token = "test-token-123";
	o->token_kind = RAILWAY_TOKEN_BEARER;
	o->token_env = "RAILWAY_TOKEN";
	o->project_id = PROJECT_ID;
	o->environment = "production";
	o->poll_ms = 10000;
}

static void
fx_start_opts(struct fx *f, const struct railway_opts *o)
{
	struct err e;

	f->rw = railway_new(&f->loop, f->store, f->http, o, &e);
	if (f->rw == NULL)
		fail_msg("railway_new: %s", e.msg);
	railway_start(f->rw);
}

static void
fx_start(struct fx *f)
{
	struct railway_opts o;

	fx_opts(&o, f);
	fx_start_opts(f, &o);
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

static void
fx_run_for(struct fx *f, uint64_t ms)
{
	fx_run_until(f, never, ms);
}

static struct box *run_box;

static int
box_called(struct fx *f)
{
	(void)f;
	return run_box->called > 0;
}

/* Run until B's callback ran (at most 10 s). */
static void
fx_wait_box(struct fx *f, struct box *b)
{
	run_box = b;
	if (!fx_run_until(f, box_called, 10000))
		fail_msg("the completion callback did not run");
}

static void
fx_fini(struct fx *f)
{
	railway_stop(f->rw);
	railway_free(&f->rw);
	assert_null(f->rw);
	http_free(&f->http);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	store_free(&f->store);
}

static int
all_three(struct fx *f)
{
	return store_generation(f->store, STORE_TOPIC_SERVICES) > 0 &&
	    store_generation(f->store, STORE_TOPIC_DEPLOYMENTS) > 0 &&
	    store_generation(f->store, STORE_TOPIC_VARS) > 0;
}

static int
all_three_twice(struct fx *f)
{
	return store_generation(f->store, STORE_TOPIC_SERVICES) == 2 &&
	    store_generation(f->store, STORE_TOPIC_DEPLOYMENTS) == 2 &&
	    store_generation(f->store, STORE_TOPIC_VARS) == 2;
}

static int
has_services(struct fx *f)
{
	return store_generation(f->store, STORE_TOPIC_SERVICES) > 0;
}

static const struct store_source *
fx_source(struct fx *f)
{
	return store_source_find(f->store, RAILWAY_SOURCE);
}

static enum store_state want_state;

static int
in_state(struct fx *f)
{
	const struct store_source *s = fx_source(f);

	return s != NULL && s->state == want_state;
}

static void
fx_wait_state(struct fx *f, enum store_state st, uint64_t max_ms)
{
	want_state = st;
	if (!fx_run_until(f, in_state, max_ms)) {
		const struct store_source *s = fx_source(f);

		fail_msg("source not %s within %llu ms (is %s: %s)", store_state_name(st),
		    (unsigned long long)max_ms, s != NULL ? store_state_name(s->state) : "absent",
		    s != NULL ? s->error : "");
	}
}

static const struct railway_project_snap *
fx_project(struct fx *f)
{
	return store_get(f->store, STORE_TOPIC_SERVICES, NULL);
}

/* Whether S holds a byte a terminal would act on (C0 other than none, ESC,
 * DEL, or C1 as UTF-8 U+0080..U+009F). */
static int
has_controls(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 1;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 1;
	}
	return 0;
}

static void
assert_clean(const char *s)
{
	assert_non_null(s);
	if (has_controls(s))
		fail_msg("control bytes in '%s'", s);
}

/* The log line of the Nth (0-based) request for OP that F sent, or NULL. */
static char *
log_line(const struct fx *f, const char *log, const char *op, int nth)
{
	char pat[96], path[300];
	const char *p = log;
	const char *slash = strchr(f->url + strlen("http://"), '/');

	snprintf(pat, sizeof pat, "\"op\":\"%s\"", op);
	snprintf(path, sizeof path, "\"path\":\"%s\"", slash);
	while ((p = strstr(p, pat)) != NULL) {
		const char *start = p, *end;
		char *line;

		while (start > log && start[-1] != '\n')
			start--;
		end = strchr(p, '\n');
		line = strndup(start, end != NULL ? (size_t)(end - start) : strlen(start));
		p = end != NULL ? end : p + strlen(p);
		if (strstr(line, path) != NULL && nth-- == 0)
			return line;
		free(line);
	}
	return NULL;
}

/* --- pure parts ------------------------------------------------------- */

static void
test_status_table(void **state)
{
	(void)state;
	assert_string_equal(railway_status_name(RAILWAY_STATUS_SUCCESS), "SUCCESS");
	assert_string_equal(railway_status_name(RAILWAY_STATUS_NEEDS_APPROVAL), "NEEDS_APPROVAL");
	assert_string_equal(railway_status_name((enum railway_status)999), "UNKNOWN");
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_SUCCESS), RAILWAY_KIND_OK);
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_DEPLOYING), RAILWAY_KIND_BUSY);
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_QUEUED), RAILWAY_KIND_BUSY);
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_CRASHED), RAILWAY_KIND_FAIL);
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_FAILED), RAILWAY_KIND_FAIL);
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_REMOVED), RAILWAY_KIND_OFF);
	assert_int_equal(railway_status_kind(RAILWAY_STATUS_SLEEPING), RAILWAY_KIND_OFF);
	for (int i = 0; i < RAILWAY_STATUS_UNKNOWN; i++)
		assert_int_equal(railway_status_parse(railway_status_name((enum railway_status)i)), i);
	assert_int_equal(railway_status_parse("EXPLODING"), RAILWAY_STATUS_UNKNOWN);
	assert_int_equal(railway_status_parse("success"), RAILWAY_STATUS_UNKNOWN);
	assert_int_equal(railway_status_parse(NULL), RAILWAY_STATUS_UNKNOWN);
}

static void
test_pure_helpers(void **state)
{
	char fp[RAILWAY_FP_LEN + 1];
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	const int64_t t1994 = 784111777000LL;

	(void)state;
	/* FNV-1a 64: "" = cbf29ce484222325, "a" = af63dc4c8601ec8c */
	railway_fingerprint("", 0, fp);
	assert_string_equal(fp, "cbf29ce4");
	railway_fingerprint("a", 1, fp);
	assert_string_equal(fp, "af63dc4c");
	railway_fingerprint("on", 2, fp);
	assert_int_equal(strlen(fp), RAILWAY_FP_LEN);

	assert_int_equal(railway_retry_after_ms("20", 0), 20000);
	assert_int_equal(railway_retry_after_ms(" 0 ", 0), 0);
	assert_int_equal(railway_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
	    t1994 - 5000), 5000);
	assert_int_equal(railway_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
	    t1994 + 5000), 0);	/* in the past */
	assert_int_equal(railway_retry_after_ms("soon", 0), -1);
	assert_int_equal(railway_retry_after_ms("12abc", 0), -1);
	assert_int_equal(railway_retry_after_ms("", 0), -1);
	assert_int_equal(railway_retry_after_ms(NULL, 0), -1);

	assert_int_equal(railway_governor_ms(10000, -1, -1), 10000);
	assert_int_equal(railway_governor_ms(10000, 1000, 999), 10000);
	assert_int_equal(railway_governor_ms(10000, 1000, 500), 10000);
	assert_int_equal(railway_governor_ms(10000, 1000, 499), 20000);
	assert_int_equal(railway_governor_ms(10000, 1000, 199), 40000);
	assert_int_equal(railway_governor_ms(10000, 1000, RAILWAY_RESERVE), 40000);
	assert_int_equal(railway_governor_ms(10000, 1000, RAILWAY_RESERVE - 1), -1);
	assert_int_equal(railway_governor_ms(10000, -1, 3), -1);
}

static void
test_new_checks_options(void **state)
{
	struct railway_opts o;
	struct fx f;
	struct err e;

	(void)state;
	fx_init(&f, "normal/new");
	fx_opts(&o, &f);
	o.token = NULL;
	o.token_env = "MY_TOKEN";
	assert_null(railway_new(&f.loop, f.store, f.http, &o, &e));
	assert_non_null(strstr(e.msg, "set MY_TOKEN"));
	fx_opts(&o, &f);
	o.token = "abc def";
	assert_null(railway_new(&f.loop, f.store, f.http, &o, &e));
	fx_opts(&o, &f);
	o.endpoint = "ftp://x/";
	assert_null(railway_new(&f.loop, f.store, f.http, &o, &e));
	assert_non_null(strstr(e.msg, "http://"));
	fx_opts(&o, &f);
	o.project_id = NULL;
	assert_null(railway_new(&f.loop, f.store, f.http, &o, &e));
	assert_non_null(strstr(e.msg, "project_id"));
	o.token_kind = RAILWAY_TOKEN_PROJECT;
	f.rw = railway_new(&f.loop, f.store, f.http, &o, &e);
	assert_non_null(f.rw);	/* a project token knows its project */
	fx_fini(&f);
}

static void
test_token_load(void **state)
{
	char dir[] = "/tmp/rwtok.XXXXXX", path[64], warn[256];
	char *tok;
	struct err e;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/token", dir);
	setenv("RW_TEST_TOKEN", "  env-token\n", 1);
	assert_int_equal(railway_token_load("RW_TEST_TOKEN", NULL, &tok, warn, sizeof warn, &e), 0);
	assert_string_equal(tok, "env-token");
	free(tok);
	unsetenv("RW_TEST_TOKEN");

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("file-token\n", fp);
	fclose(fp);
	chmod(path, 0644);
	assert_int_equal(railway_token_load("RW_TEST_TOKEN", path, &tok, warn, sizeof warn, &e), 0);
	assert_string_equal(tok, "file-token");
	assert_non_null(strstr(warn, "chmod 600"));
	free(tok);
	chmod(path, 0600);
	assert_int_equal(railway_token_load(NULL, path, &tok, warn, sizeof warn, &e), 0);
	assert_string_equal(warn, "");
	free(tok);

	assert_int_equal(railway_token_load("RW_TEST_TOKEN", NULL, &tok, warn, sizeof warn, &e), -1);
	assert_null(tok);
	assert_non_null(strstr(e.msg, "RW_TEST_TOKEN is not set"));
	fp = fopen(path, "w");
	fclose(fp);
	assert_int_equal(railway_token_load(NULL, path, &tok, NULL, 0, &e), -1);
	assert_non_null(strstr(e.msg, "is empty"));
	unlink(path);
	assert_int_equal(railway_token_load(NULL, path, &tok, NULL, 0, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	rmdir(dir);
}

/* --- against the recorded replies ----------------------------------------- */

static void
test_snapshot_from_recorded_replies(void **state)
{
	const struct railway_project_snap *p;
	const struct railway_history_snap *h;
	const struct railway_vars_snap *v;
	const struct railway_service *api, *worker;
	const struct railway_service_history *api_h;
	const struct railway_var_set *api_vars = NULL;
	struct railway_budget b;
	char fp[RAILWAY_FP_LEN + 1], *log, *line;
	struct fx f;
	int found = 0;

	(void)state;
	fx_init(&f, "normal/snapshot");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));
	assert_int_equal(fx_source(&f)->state, STORE_STATE_OK);
	assert_true(fx_source(&f)->last_ok_ms > 0);
	assert_string_equal(railway_environment_id(f.rw), ENV_ID);

	p = fx_project(&f);
	assert_string_equal(p->project_id, PROJECT_ID);
	assert_string_equal(p->project_name, "sandbox");
	assert_string_equal(p->environment_id, ENV_ID);
	assert_string_equal(p->environment_name, "production");
	assert_int_equal(p->n_services, 5);
	assert_string_equal(p->services[0].name, "api");
	assert_string_equal(p->services[1].name, "ws");
	assert_string_equal(p->services[2].name, "worker");
	assert_string_equal(p->services[3].name, "billing");
	assert_string_equal(p->services[4].name, "postgres");
	assert_true(p->metrics_from_ms > 0);

	api = railway_project_find(p, API_ID);
	assert_ptr_equal(api, &p->services[0]);
	assert_non_null(api->latest);
	assert_non_null(api->active);
	assert_string_equal(api->latest->id, "ddb78bb5-8d71-5d08-8823-4c63677f1c18");
	assert_int_equal(api->latest->status, RAILWAY_STATUS_SUCCESS);
	assert_string_equal(api->latest->version, "v2");
	assert_string_equal(api->latest->image, "sandbox-app:v2");
	assert_int_equal(strlen(api->latest->commit), 40);
	assert_string_equal(api->latest->creator, "Sandbox Operator");
	assert_true(api->latest->created_ms > 1700000000000LL);
	assert_true(api->latest->status_updated_ms >= api->latest->created_ms);
	assert_int_equal(api->latest->instances_running, 2);
	assert_string_equal(api->active->id, api->latest->id);
	assert_string_equal(api->source_version, "v1");	/* the source did not change */
	assert_string_equal(api->domain, "127.0.0.1:51021");
	assert_int_equal(api->n_regions, 1);
	assert_string_equal(api->regions[0].name, "us-west2");
	assert_int_equal(api->regions[0].desired, 2);
	assert_int_equal(api->desired_total, 2);
	assert_int_equal(api->running_total, 2);
	assert_true(api->cpu.n > 0);
	assert_true(api->mem.n > 0);
	for (size_t i = 1; i < api->mem.n; i++)
		assert_true(api->mem.points[i].ts > api->mem.points[i - 1].ts);
	assert_true(api->mem.points[api->mem.n - 1].value > 0.0);

	worker = &p->services[2];
	assert_int_equal(worker->desired_total, 2);	/* scaled before recording */
	assert_int_equal(worker->regions[0].running, 2);

	h = store_get(f.store, STORE_TOPIC_DEPLOYMENTS, NULL);
	assert_non_null(h);
	assert_int_equal(h->n_services, 5);
	api_h = railway_history_find(h, API_ID);
	assert_non_null(api_h);
	assert_string_equal(api_h->service_name, "api");
	assert_int_equal(api_h->n, 2);
	assert_string_equal(api_h->deployments[0].version, "v2");
	assert_int_equal(api_h->deployments[1].status, RAILWAY_STATUS_REMOVED);
	assert_string_equal(api_h->deployments[1].version, "v1");
	assert_true(api_h->deployments[1].can_rollback);
	assert_false(api_h->deployments[0].can_rollback);

	v = store_get(f.store, STORE_TOPIC_VARS, NULL);
	assert_non_null(v);
	assert_true(v->n_sets >= 6);
	assert_string_equal(v->sets[0].service_name, "shared");
	assert_string_equal(v->sets[0].service_id, "");
	for (size_t i = 0; i < v->n_sets; i++)
		if (strcmp(v->sets[i].service_id, API_ID) == 0)
			api_vars = &v->sets[i];
	assert_non_null(api_vars);
	assert_string_equal(api_vars->service_name, "api");
	for (size_t i = 0; i < api_vars->n; i++) {
		const struct railway_var *var = &api_vars->vars[i];

		if (i > 0)
			assert_true(strcmp(api_vars->vars[i - 1].name, var->name) < 0);
		if (strcmp(var->name, "FEATURE_X") == 0) {
			railway_fingerprint("on", 2, fp);
			assert_int_equal(var->value_len, 2);
			assert_string_equal(var->fingerprint, fp);
			found++;
		}
		if (strcmp(var->name, "DATABASE_URL") == 0) {
			const char *val = "postgres://app:fixture-db-password-000000000000"
			    "@127.0.0.1:51001/app";

			railway_fingerprint(val, strlen(val), fp);
			assert_int_equal(var->value_len, strlen(val));
			assert_string_equal(var->fingerprint, fp);
			assert_false(var->is_reference);
			found++;
		}
	}
	assert_int_equal(found, 2);

	railway_budget_get(f.rw, &b);
	assert_true(b.known);
	assert_int_equal(b.limit, 1000);
	assert_true(b.remaining > 990 && b.remaining < 1000);
	assert_true(b.reset_ms > util_wall_ms());
	assert_int_equal(b.poll_ms, 10000);
	assert_false(b.polling_paused);
	assert_int_equal(b.requests, 4);	/* resolve, snapshot, history, variables */
	assert_int_equal(b.queued, 0);

	/* what went over the wire: JSON, the bearer token, variables (never
	 * values spliced into the document) */
	log = gqlserver_log(&srv);
	line = log_line(&f, log, "RailwaySnapshot", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"authorization\":\"Bearer test-token-123\""));
	assert_non_null(strstr(line, "\"projectAccessToken\":null"));
	assert_non_null(strstr(line, "\"contentType\":\"application/json\""));
	assert_non_null(strstr(line, "\"environmentId\":\"" ENV_ID "\""));
	assert_non_null(strstr(line, "\"metricsFrom\":\""));
	free(line);
	line = log_line(&f, log, "RailwayResolve", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"projectId\":\"" PROJECT_ID "\""));
	free(line);
	free(log);

	/* nothing more until the interval */
	fx_run_for(&f, 300);
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.requests, 4);
	/* a refresh asked for fetches all three again */
	railway_refresh_now(f.rw);
	assert_true(fx_run_until(&f, all_three_twice, 5000));
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.requests, 7);
	assert_int_equal(store_generation(f.store, STORE_TOPIC_SERVICES), 2);
	fx_fini(&f);
}

static void
test_project_token(void **state)
{
	char *log, *line;
	struct railway_opts o;
	struct fx f;

	(void)state;
	fx_init(&f, "project-token/t");
	fx_opts(&o, &f);
	o.token_kind = RAILWAY_TOKEN_PROJECT;
	o.project_id = NULL;
	o.environment = NULL;
	o.token_env = "RAILWAY_PROJECT_TOKEN";
	fx_start_opts(&f, &o);
	assert_true(fx_run_until(&f, all_three, 10000));
	assert_string_equal(railway_environment_id(f.rw), ENV_ID);
	log = gqlserver_log(&srv);
	line = log_line(&f, log, "RailwayProjectToken", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"projectAccessToken\":\"test-token-123\""));
	assert_non_null(strstr(line, "\"authorization\":null"));
	free(line);
	line = log_line(&f, log, "RailwayResolve", 0);
	assert_non_null(line);
	/* the project and environment came from the token's scope */
	assert_non_null(strstr(line, "\"projectId\":\"" PROJECT_ID "\""));
	free(line);
	free(log);
	fx_fini(&f);
}

static void
test_not_authorized(void **state)
{
	struct box b = { 0 };
	struct fx f;
	struct err e;

	(void)state;
	fx_init(&f, "unauthorized/t");
	fx_start(&f);
	fx_wait_state(&f, STORE_STATE_ERROR, 5000);
	assert_string_equal(fx_source(&f)->error, "Not Authorized: check RAILWAY_TOKEN");
	assert_int_equal(store_generation(f.store, STORE_TOPIC_SERVICES), 0);
	/* no action without a resolved environment, and nothing queued */
	assert_int_equal(railway_deploy(f.rw, API_ID, NULL, box_done, &b, &e), -1);
	assert_non_null(strstr(e.msg, "not connected to Railway yet"));
	assert_non_null(strstr(e.msg, "Not Authorized"));
	fx_run_for(&f, 50);
	assert_int_equal(b.called, 0);
	fx_fini(&f);
}

static void
test_bad_environment(void **state)
{
	struct railway_opts o;
	struct fx f;

	(void)state;
	fx_init(&f, "bad-env/t");
	fx_opts(&o, &f);
	o.environment = "staging-eu";
	fx_start_opts(&f, &o);
	fx_wait_state(&f, STORE_STATE_ERROR, 5000);
	assert_string_equal(fx_source(&f)->error, "environment 'staging-eu' not found in the "
	    "project (it has: production, staging): check provider.environment");
	fx_fini(&f);

	/* by id works as well as by name */
	fx_init(&f, "normal/by-id");
	fx_opts(&o, &f);
	o.environment = ENV_ID;
	fx_start_opts(&f, &o);
	assert_true(fx_run_until(&f, has_services, 10000));
	assert_string_equal(fx_project(&f)->environment_name, "production");
	fx_fini(&f);
}

static int rl_seen_wait;

static int
resolved_after_wait(struct fx *f)
{
	struct railway_budget b;

	railway_budget_get(f->rw, &b);
	if (b.wait_until_ms > 0)
		rl_seen_wait = 1;
	return has_services(f);
}

static void
test_rate_limited_poll(void **state)
{
	struct railway_budget b;
	uint64_t t0;
	struct fx f;

	(void)state;
	fx_init(&f, "ratelimit/t");
	fx_start(&f);
	t0 = util_now_ms();
	rl_seen_wait = 0;
	assert_true(fx_run_until(&f, resolved_after_wait, 10000));
	/* Retry-After: 1 was honoured, and the budget showed the wait */
	assert_true(util_now_ms() - t0 >= 950);
	assert_true(rl_seen_wait);
	assert_int_equal(fx_source(&f)->state, STORE_STATE_OK);
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.wait_until_ms, 0);
	fx_fini(&f);
}

static void
test_rate_limited_action_waits(void **state)
{
	struct railway_budget b;
	struct box box = { 0 };
	struct fx f;
	struct err e;
	int saw_queued = 0;

	(void)state;
	fx_init(&f, "ratelimit-action/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));
	assert_int_equal(railway_deploy(f.rw, API_ID, NULL, box_done, &box, &e), 0);
	assert_int_equal(box.called, 0);	/* never from inside the call */
	run_box = &box;
	while (!box.called) {
		fx_run_for(&f, 50);
		railway_budget_get(f.rw, &b);
		if (b.queued == 1 && b.wait_until_ms > 0)
			saw_queued = 1;
		if (box.duration_ms > 10000)
			break;
	}
	assert_true(saw_queued);	/* the status bar can say "waiting (Ns)" */
	assert_true(box.ok);
	assert_string_equal(box.op, "deploy");
	assert_string_equal(box.dep, "ddb78bb5-8d71-5d08-8823-4c63677f1c18");
	assert_true(box.duration_ms >= 950);
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.queued, 0);
	fx_fini(&f);
}

static char stale_want[64];

static int
stale_with(struct fx *f)
{
	const struct store_source *s = fx_source(f);

	return s != NULL && s->state == STORE_STATE_STALE && strstr(s->error, stale_want) != NULL;
}

static void
expect_stale(struct fx *f, const char *words, const struct railway_project_snap *snap)
{
	util_strlcpy(stale_want, words, sizeof stale_want);
	railway_refresh_now(f->rw);
	if (!fx_run_until(f, stale_with, 5000))
		fail_msg("no STALE state with '%s' (is %s: %s)", words,
		    store_state_name(fx_source(f)->state), fx_source(f)->error);
	/* the last good snapshot stays */
	assert_ptr_equal(fx_project(f), snap);
	assert_int_equal(store_generation(f->store, STORE_TOPIC_SERVICES), 1);
}

static void
test_stale_on_bad_replies(void **state)
{
	const struct railway_project_snap *snap;
	int64_t last_ok;
	struct fx f;

	(void)state;
	fx_init(&f, "stale/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));
	snap = fx_project(&f);
	last_ok = fx_source(&f)->last_ok_ms;
	expect_stale(&f, "truncated or malformed JSON", snap);
	expect_stale(&f, "HTTP 502 with no GraphQL reply (\"502 Bad Gateway", snap);
	expect_stale(&f, "the reply is not JSON (\"OK\")", snap);
	expect_stale(&f, "larger than the", snap);
	assert_int_equal(fx_source(&f)->last_ok_ms, last_ok);	/* the age keeps growing */
	/* and it recovers */
	railway_refresh_now(f.rw);
	fx_wait_state(&f, STORE_STATE_OK, 5000);
	assert_int_equal(store_generation(f.store, STORE_TOPIC_SERVICES), 2);
	fx_fini(&f);
}

static void
test_backoff_then_recover(void **state)
{
	struct fx f;
	uint64_t t0;

	(void)state;
	fx_init(&f, "down-first/t");
	fx_start(&f);
	t0 = util_now_ms();
	fx_wait_state(&f, STORE_STATE_ERROR, 5000);
	assert_non_null(strstr(fx_source(&f)->error, "HTTP 502"));
	/* retried by itself after about a second (1 s +- 20 %) */
	assert_true(fx_run_until(&f, has_services, 5000));
	assert_true(util_now_ms() - t0 >= 750);
	assert_int_equal(fx_source(&f)->state, STORE_STATE_OK);
	fx_fini(&f);
}

static void
test_hostile_strings_and_ids(void **state)
{
	const struct railway_project_snap *p;
	const struct railway_history_snap *h;
	const struct railway_service_history *api_h;
	struct fx f;

	(void)state;
	fx_init(&f, "hostile/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));
	p = fx_project(&f);
	assert_clean(p->project_name);
	for (size_t i = 0; i < p->n_services; i++) {
		const struct railway_service *s = &p->services[i];

		assert_clean(s->name);
		assert_clean(s->domain);
		assert_clean(s->image);
		if (s->latest != NULL) {
			assert_clean(s->latest->creator);
			assert_clean(s->latest->message);
			assert_clean(s->latest->status_text);
			assert_clean(s->latest->id);
		}
	}
	/* ESC shown as a visible picture, not dropped silently */
	assert_non_null(strstr(p->services[0].name, "api\xe2\x90\x9b]0;owned"));
	assert_non_null(strstr(p->services[0].latest->creator, "mallory"));
	/* a status we do not know keeps its text */
	assert_int_equal(p->services[2].latest->status, RAILWAY_STATUS_UNKNOWN);
	assert_string_equal(p->services[2].latest->status_text, "EXPLODING");
	assert_int_equal(railway_status_kind(p->services[2].latest->status), RAILWAY_KIND_OFF);
	/* a 64-bit id sent as a JSON number is not rounded through a double */
	assert_string_equal(p->services[3].latest->id, "18446744073709551615");
	assert_string_equal(p->services[3].active->id, "18446744073709551615");

	h = store_get(f.store, STORE_TOPIC_DEPLOYMENTS, NULL);
	api_h = railway_history_find(h, API_ID);
	assert_non_null(api_h);
	assert_string_equal(api_h->deployments[0].id, "9007199254740993");	/* 2^53 + 1 */
	assert_int_equal(api_h->deployments[0].status, RAILWAY_STATUS_UNKNOWN);
	assert_string_equal(api_h->deployments[0].status_text, "TELEPORTING");
	assert_clean(api_h->deployments[0].creator);
	assert_non_null(strstr(api_h->deployments[0].creator, "ops"));
	assert_int_equal(fx_source(&f)->state, STORE_STATE_OK);
	fx_fini(&f);
}

static void
test_partial_errors_keep_the_rest(void **state)
{
	const struct railway_project_snap *p;
	struct fx f;

	(void)state;
	fx_init(&f, "partial/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));
	p = fx_project(&f);
	assert_int_equal(p->n_services, 5);
	assert_int_equal(p->services[0].cpu.n, 0);	/* no metrics for this token */
	assert_int_equal(p->metrics_from_ms, 0);
	assert_int_equal(p->services[0].running_total, 2);
	assert_int_equal(fx_source(&f)->state, STORE_STATE_OK);
	fx_fini(&f);
}

static void
test_governor(void **state)
{
	struct railway_budget b;
	struct box box = { 0 };
	struct fx f;
	struct err e;

	(void)state;
	/* 150 of 1000 left: below 20 %, the poll interval is 4 x 10 s */
	fx_init(&f, "budget-half/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, has_services, 10000));
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.poll_ms, 40000);
	assert_false(b.polling_paused);
	fx_fini(&f);

	/* 9 left, fewer than the reserve: after the snapshot polling
	 * stops, and actions still go out */
	fx_init(&f, "budget-low/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, has_services, 10000));
	railway_budget_get(f.rw, &b);
	assert_true(b.remaining < RAILWAY_RESERVE);
	assert_true(b.polling_paused);
	assert_true(b.poll_ms >= 10000);
	assert_int_equal(railway_rollback(f.rw, "fb2cc254-a5eb-52ed-8b51-f7656180a593",
	    box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_true(box.ok);
	assert_string_equal(box.op, "rollback");
	fx_fini(&f);
}

static uint64_t gen_before;

static int
newer_services(struct fx *f)
{
	return store_generation(f->store, STORE_TOPIC_SERVICES) > gen_before;
}

static void
test_poll_intervals(void **state)
{
	const struct railway_service *api;
	struct railway_budget b;
	struct railway_opts o;
	struct fx f;

	(void)state;
	/* a deployment in progress is followed every 3 s */
	fx_init(&f, "deploying/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, has_services, 10000));
	api = railway_project_find(fx_project(&f), API_ID);
	assert_int_equal(api->latest->status, RAILWAY_STATUS_DEPLOYING);
	assert_int_equal(railway_status_kind(api->latest->status), RAILWAY_KIND_BUSY);
	assert_string_equal(api->active->id, "ddb78bb5-8d71-5d08-8823-4c63677f1c18");
	assert_int_equal(api->active->status, RAILWAY_STATUS_SUCCESS);
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.poll_ms, 3000);
	fx_fini(&f);

	/* six snapshots without a change stretch the interval by half; a
	 * refresh asked for brings it back */
	fx_init(&f, "normal/quiet");
	fx_opts(&o, &f);
	o.poll_ms = 100;
	fx_start_opts(&f, &o);
	assert_true(fx_run_until(&f, has_services, 10000));
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.poll_ms, 100);
	fx_run_for(&f, 1200);
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.poll_ms, 150);
	assert_true(store_generation(f.store, STORE_TOPIC_SERVICES) >= 7);
	gen_before = store_generation(f.store, STORE_TOPIC_SERVICES);
	railway_refresh_now(f.rw);
	assert_true(fx_run_until(&f, newer_services, 5000));
	railway_budget_get(f.rw, &b);
	assert_int_equal(b.poll_ms, 100);
	fx_fini(&f);
}

static void
test_mutations(void **state)
{
	struct box box;
	struct fx f;
	struct err e;
	char *log, *line;

	(void)state;
	fx_init(&f, "normal/mutations");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));

	/* argument checks fail at once, without a callback */
	memset(&box, 0, sizeof box);
	assert_int_equal(railway_scale(f.rw, API_ID, "us-west2", 51, box_done, &box, &e), -1);
	assert_non_null(strstr(e.msg, "0..50"));
	assert_int_equal(railway_restart(f.rw, "", box_done, &box, &e), -1);
	assert_int_equal(railway_var_set(f.rw, API_ID, "A\nB", "x", 1, 1, box_done, &box, &e), -1);
	assert_int_equal(railway_var_set(f.rw, API_ID, "A", "x\0y", 3, 1, box_done, &box, &e), -1);
	fx_run_for(&f, 20);
	assert_int_equal(box.called, 0);

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_deploy(f.rw, API_ID, "v2", box_done, &box, &e), 0);
	assert_int_equal(box.called, 0);
	fx_wait_box(&f, &box);
	assert_true(box.ok);
	assert_string_equal(box.error, "");
	assert_string_equal(box.dep, "ddb78bb5-8d71-5d08-8823-4c63677f1c18");
	assert_true(box.duration_ms >= 0);

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_restart(f.rw, "fb2cc254-a5eb-52ed-8b51-f7656180a593",
	    box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_false(box.ok);
	assert_string_equal(box.op, "restart");
	assert_string_equal(box.error, "Only the active deployment can be restarted");

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_redeploy(f.rw, "nonexistent", box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_false(box.ok);
	assert_string_equal(box.error, "Deployment not found");

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_stop_deployment(f.rw, "ddb78bb5-8d71-5d08-8823-4c63677f1c18",
	    box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_true(box.ok);
	assert_string_equal(box.op, "stop");

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_scale(f.rw, API_ID, "us-west2", 3, box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_true(box.ok);

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_var_set(f.rw, API_ID, "FEATURE_X", "on", 2, 1, box_done, &box,
	    &e), 0);
	fx_wait_box(&f, &box);
	assert_true(box.ok);
	assert_string_equal(box.op, "var-set");

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_var_delete(f.rw, API_ID, "NOPE", box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_false(box.ok);
	assert_string_equal(box.error, "Variable NOPE not found");

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_var_reveal(f.rw, API_ID, "DATABASE_URL", box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_true(box.ok);
	assert_string_equal(box.value, "postgres://app:fixture-db-password-000000000000"
	    "@127.0.0.1:51001/app");
	assert_int_equal(box.value_len, strlen(box.value));

	memset(&box, 0, sizeof box);
	assert_int_equal(railway_var_reveal(f.rw, API_ID, "NOPE", box_done, &box, &e), 0);
	fx_wait_box(&f, &box);
	assert_false(box.ok);
	assert_string_equal(box.error, "NOPE is not set for service api");

	/* several queued at once go out one at a time, in order */
	{
		struct box q[3];

		memset(q, 0, sizeof q);
		assert_int_equal(railway_rollback(f.rw, "fb2cc254-a5eb-52ed-8b51-f7656180a593",
		    box_done, &q[0], &e), 0);
		assert_int_equal(railway_restart(f.rw, "x", box_done, &q[1], &e), 0);
		assert_int_equal(railway_deploy(f.rw, API_ID, NULL, box_done, &q[2], &e), 0);
		fx_wait_box(&f, &q[2]);
		assert_int_equal(q[0].called, 1);
		assert_int_equal(q[1].called, 1);
		assert_true(q[0].ok);
		assert_false(q[1].ok);
		assert_true(q[2].ok);
	}

	log = gqlserver_log(&srv);
	line = log_line(&f, log, "RailwayScale", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"patch\":{\"services\":{\"" API_ID "\":{\"deploy\":"
	    "{\"multiRegionConfig\":{\"us-west2\":{\"numReplicas\":3}}}}}}"));
	assert_non_null(strstr(line, "\"environmentId\":\"" ENV_ID "\""));
	free(line);
	line = log_line(&f, log, "RailwayVarSet", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"name\":\"FEATURE_X\""));
	assert_non_null(strstr(line, "\"value\":\"on\""));
	assert_non_null(strstr(line, "\"skipDeploys\":true"));
	assert_non_null(strstr(line, "\"serviceId\":\"" API_ID "\""));
	free(line);
	line = log_line(&f, log, "RailwayDeploy", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"commitSha\":\"v2\""));
	free(line);
	line = log_line(&f, log, "RailwayDeploy", 1);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"commitSha\":null"));
	free(line);
	line = log_line(&f, log, "RailwayVarReveal", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"serviceId\":\"" API_ID "\""));
	free(line);
	free(log);

	/* a success refreshes the snapshot soon after */
	assert_true(store_generation(f.store, STORE_TOPIC_SERVICES) > 1);
	fx_fini(&f);
}

static void
test_stop_cancels_pending_actions(void **state)
{
	struct box sent = { 0 }, queued = { 0 };
	struct fx f;
	struct err e;

	(void)state;
	fx_init(&f, "slow-action/t");
	fx_start(&f);
	assert_true(fx_run_until(&f, all_three, 10000));
	assert_int_equal(railway_deploy(f.rw, API_ID, NULL, box_done, &sent, &e), 0);
	assert_int_equal(railway_deploy(f.rw, API_ID, NULL, box_done, &queued, &e), 0);
	fx_run_for(&f, 300);	/* the first is on the wire and never answered */
	assert_int_equal(sent.called, 0);
	railway_stop(f.rw);
	assert_int_equal(sent.called, 1);
	assert_true(sent.cancelled);
	assert_false(sent.ok);
	assert_non_null(strstr(sent.error, "outcome is unknown"));
	assert_int_equal(queued.called, 1);
	assert_true(queued.cancelled);
	assert_non_null(strstr(queued.error, "before the request was sent"));
	/* stopped: nothing is accepted */
	assert_int_equal(railway_deploy(f.rw, API_ID, NULL, box_done, &queued, &e), -1);
	fx_fini(&f);
}

static int
setup(void **state)
{
	(void)state;
	return gqlserver_start(&srv);
}

static int
teardown(void **state)
{
	(void)state;
	gqlserver_stop(&srv);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_pure_helpers),
		cmocka_unit_test(test_new_checks_options),
		cmocka_unit_test(test_token_load),
		cmocka_unit_test(test_snapshot_from_recorded_replies),
		cmocka_unit_test(test_project_token),
		cmocka_unit_test(test_not_authorized),
		cmocka_unit_test(test_bad_environment),
		cmocka_unit_test(test_rate_limited_poll),
		cmocka_unit_test(test_rate_limited_action_waits),
		cmocka_unit_test(test_stale_on_bad_replies),
		cmocka_unit_test(test_backoff_then_recover),
		cmocka_unit_test(test_hostile_strings_and_ids),
		cmocka_unit_test(test_partial_errors_keep_the_rest),
		cmocka_unit_test(test_governor),
		cmocka_unit_test(test_poll_intervals),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_stop_cancels_pending_actions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
