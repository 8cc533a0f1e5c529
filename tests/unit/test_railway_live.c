/* test_railway_live.c - the Railway provider against the sandbox's real
 * API emulator (started alone by tests/support/emulator_live.js, with the
 * stand-in app as its services): snapshot, deploy, scale, variables,
 * reveal, rollback, a refused action, a bad token, a project token and a
 * real 429.  Every effect is read back through the provider's own
 * snapshots, as a pane would see it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gqlserver_run.h"
#include "signalbox/http.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"

static struct emulator emu;

struct fx {
	uv_loop_t loop;
	struct store *store;
	struct http *http;
	struct railway *rw;
};

struct box {
	int called, ok;
	char error[600];
	char dep[160];
	char value[256];
};

static void
box_done(const struct railway_result *r, void *ud)
{
	struct box *b = ud;

	b->called++;
	b->ok = r->ok;
	util_strlcpy(b->error, r->error, sizeof b->error);
	util_strlcpy(b->dep, r->deployment_id, sizeof b->dep);
	if (r->value != NULL)
		util_strlcpy(b->value, r->value, sizeof b->value);
}

static void
tick(uv_timer_t *t)
{
	(void)t;
}

typedef int cond_fn(struct fx *f, const void *arg);

/* Run the loop until COND(F, ARG) or MAX_MS pass; 1 when it held. */
static int
fx_run_until(struct fx *f, cond_fn *cond, const void *arg, uint64_t max_ms)
{
	uv_timer_t wd;
	uint64_t start;
	int ok;

	uv_update_time(&f->loop);
	start = uv_now(&f->loop);
	uv_timer_init(&f->loop, &wd);
	uv_timer_start(&wd, tick, 20, 20);
	while (!(ok = cond(f, arg)) && uv_now(&f->loop) - start < max_ms)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return ok;
}

static int
box_called(struct fx *f, const void *arg)
{
	(void)f;
	return ((const struct box *)arg)->called > 0;
}

static void
fx_wait_box(struct fx *f, struct box *b)
{
	if (!fx_run_until(f, box_called, b, 20000))
		fail_msg("the completion callback did not run");
}

static void
fx_init(struct fx *f, const char *token, enum railway_token_kind kind, const char *token_env)
{
	struct railway_opts o;
	struct err e;

	memset(f, 0, sizeof *f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->store = store_new();
	f->http = http_new(&f->loop, &e);
	assert_non_null(f->http);
	memset(&o, 0, sizeof o);
	o.endpoint = emu.url;
	o.token = token;
	o.token_kind = kind;
	o.token_env = token_env;
	o.project_id = kind == RAILWAY_TOKEN_BEARER ? emu.project_id : NULL;
	o.environment = kind == RAILWAY_TOKEN_BEARER ? "production" : NULL;
	o.poll_ms = 1000;
	o.history_ms = 1000;
	o.vars_ms = 1000;
	f->rw = railway_new(&f->loop, f->store, f->http, &o, &e);
	if (f->rw == NULL)
		fail_msg("railway_new: %s", e.msg);
	railway_start(f->rw);
}

static void
fx_fini(struct fx *f)
{
	railway_stop(f->rw);
	railway_free(&f->rw);
	http_free(&f->http);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	store_free(&f->store);
}

static const struct railway_service *
svc(struct fx *f, const char *id)
{
	return railway_project_find(store_get(f->store, STORE_TOPIC_SERVICES, NULL), id);
}

static int
all_three(struct fx *f, const void *arg)
{
	(void)arg;
	return store_generation(f->store, STORE_TOPIC_SERVICES) > 0 &&
	    store_generation(f->store, STORE_TOPIC_DEPLOYMENTS) > 0 &&
	    store_generation(f->store, STORE_TOPIC_VARS) > 0;
}

static int
api_has_metrics(struct fx *f, const void *arg)
{
	const struct railway_service *s = svc(f, arg);

	return s != NULL && s->mem.n > 0 && s->cpu.n > 0;
}

/* The api's active deployment is ARG and SUCCESS, all replicas running. */
static int
api_active_is(struct fx *f, const void *arg)
{
	const struct railway_service *s = svc(f, emu.api_id);

	return s != NULL && s->active != NULL && strcmp(s->active->id, arg) == 0 &&
	    s->active->status == RAILWAY_STATUS_SUCCESS && s->running_total == s->desired_total;
}

static int
api_version_active(struct fx *f, const void *arg)
{
	const struct railway_service *s = svc(f, emu.api_id);

	return s != NULL && s->active != NULL && strcmp(s->active->version, arg) == 0 &&
	    s->latest != NULL && s->latest->status == RAILWAY_STATUS_SUCCESS &&
	    s->running_total == s->desired_total;
}

static int
api_three_in_us_west2(struct fx *f, const void *arg)
{
	const struct railway_service *s = svc(f, emu.api_id);

	(void)arg;
	return s != NULL && s->n_regions == 1 && strcmp(s->regions[0].name, "us-west2") == 0 &&
	    s->regions[0].desired == 3 && s->regions[0].running == 3;
}

static const struct railway_var *
api_var(struct fx *f, const char *name)
{
	const struct railway_vars_snap *v = store_get(f->store, STORE_TOPIC_VARS, NULL);

	for (size_t i = 0; v != NULL && i < v->n_sets; i++) {
		if (strcmp(v->sets[i].service_id, emu.api_id) != 0)
			continue;
		for (size_t j = 0; j < v->sets[i].n; j++)
			if (strcmp(v->sets[i].vars[j].name, name) == 0)
				return &v->sets[i].vars[j];
	}
	return NULL;
}

static int
api_has_foo(struct fx *f, const void *arg)
{
	const struct railway_var *v = api_var(f, "SIGNALBOX_FOO");

	(void)arg;
	return v != NULL && v->value_len == 3;
}

static int
source_is(struct fx *f, const void *arg)
{
	const struct store_source *s = store_source_find(f->store, RAILWAY_SOURCE);

	return s != NULL && s->state == *(const enum store_state *)arg;
}

/* POST BODY to the emulator's admin URL PATH; its HTTP status. */
static int status_seen;

static void
admin_done(const struct http_resp *r, void *ud)
{
	(void)ud;
	status_seen = r->status;
}

static int
admin_answered(struct fx *f, const void *arg)
{
	(void)f;
	(void)arg;
	return status_seen != 0;
}

static void
admin_post(struct fx *f, const char *path, const char *body)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	char url[256];
	struct http_req req;

	snprintf(url, sizeof url, "%s%s", emu.admin, path);
	memset(&req, 0, sizeof req);
	req.url = url;
	req.method = "POST";
	req.body = body;
	req.body_len = strlen(body);
	req.headers = hdrs;
	status_seen = 0;
	http_request(f->http, &req, admin_done, NULL);
	assert_true(fx_run_until(f, admin_answered, NULL, 5000));
	assert_int_equal(status_seen, 200);
}

static void
test_live_actions(void **state)
{
	const struct railway_service *api;
	const struct railway_history_snap *h;
	const struct railway_service_history *hist;
	const struct railway_var *foo;
	char fp[RAILWAY_FP_LEN + 1], v1_id[160] = "", v2_id[160];
	struct box b;
	struct fx f;
	struct err e;
	enum store_state st;

	(void)state;
	fx_init(&f, emu.token, RAILWAY_TOKEN_BEARER, "RAILWAY_TOKEN");
	assert_true(fx_run_until(&f, all_three, NULL, 20000));
	api = svc(&f, emu.api_id);
	assert_non_null(api);
	assert_string_equal(api->name, "api");
	assert_int_equal(api->desired_total, 2);
	assert_int_equal(api->running_total, 2);
	assert_int_equal(api->latest->status, RAILWAY_STATUS_SUCCESS);
	assert_string_equal(api->latest->version, "v1");
	assert_non_null(svc(&f, emu.worker_id));
	assert_true(fx_run_until(&f, api_has_metrics, emu.api_id, 15000));

	/* a variable, staged without a deploy; the snapshot has its length and
	 * fingerprint, the reveal has its value */
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_var_set(f.rw, emu.api_id, "SIGNALBOX_FOO", "bar", 3, 1,
	    box_done, &b, &e), 0);
	fx_wait_box(&f, &b);
	assert_true(b.ok);
	assert_true(fx_run_until(&f, api_has_foo, NULL, 15000));
	foo = api_var(&f, "SIGNALBOX_FOO");
	railway_fingerprint("bar", 3, fp);
	assert_string_equal(foo->fingerprint, fp);
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_var_reveal(f.rw, emu.api_id, "SIGNALBOX_FOO", box_done, &b,
	    &e), 0);
	fx_wait_box(&f, &b);
	assert_true(b.ok);
	assert_string_equal(b.value, "bar");

	/* deploy v2: the snapshot follows it to SUCCESS */
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_deploy(f.rw, emu.api_id, "v2", box_done, &b, &e), 0);
	fx_wait_box(&f, &b);
	if (!b.ok)
		fail_msg("deploy: %s", b.error);
	assert_true(b.dep[0] != '\0');
	util_strlcpy(v2_id, b.dep, sizeof v2_id);
	if (!fx_run_until(&f, api_active_is, v2_id, 30000))
		fail_msg("v2 (%s) never became the active deployment", v2_id);
	assert_string_equal(svc(&f, emu.api_id)->active->version, "v2");

	/* scale to 3 in us-west2: desired and running converge */
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_scale(f.rw, emu.api_id, "us-west2", 3, box_done, &b, &e), 0);
	fx_wait_box(&f, &b);
	if (!b.ok)
		fail_msg("scale: %s", b.error);
	if (!fx_run_until(&f, api_three_in_us_west2, NULL, 30000))
		fail_msg("the api never ran 3 replicas in us-west2");

	/* roll back to v1, found in the history as a pane would */
	h = store_get(f.store, STORE_TOPIC_DEPLOYMENTS, NULL);
	hist = railway_history_find(h, emu.api_id);
	assert_non_null(hist);
	for (size_t i = 0; i < hist->n; i++)
		if (strcmp(hist->deployments[i].version, "v1") == 0 &&
		    hist->deployments[i].can_rollback)
			util_strlcpy(v1_id, hist->deployments[i].id, sizeof v1_id);
	assert_true(v1_id[0] != '\0');
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_rollback(f.rw, v1_id, box_done, &b, &e), 0);
	fx_wait_box(&f, &b);
	if (!b.ok)
		fail_msg("rollback: %s", b.error);
	if (!fx_run_until(&f, api_version_active, "v1", 30000))
		fail_msg("v1 never came back");

	/* the API's refusal reaches the caller in words */
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_restart(f.rw, v2_id, box_done, &b, &e), 0);
	fx_wait_box(&f, &b);
	assert_false(b.ok);
	assert_string_equal(b.error, "Only the active deployment can be restarted");

	/* a real 429: the data goes stale with the reason, then recovers */
	admin_post(&f, "/admin/fault", "{\"name\":\"rate-limit\",\"on\":true,\"seconds\":2}");
	railway_refresh_now(f.rw);
	st = STORE_STATE_STALE;
	assert_true(fx_run_until(&f, source_is, &st, 10000));
	assert_non_null(strstr(store_source_find(f.store, RAILWAY_SOURCE)->error,
	    "rate limit reached (HTTP 429)"));
	st = STORE_STATE_OK;
	assert_true(fx_run_until(&f, source_is, &st, 15000));
	fx_fini(&f);
}

static void
test_live_tokens(void **state)
{
	struct fx f;
	enum store_state st = STORE_STATE_ERROR;

	(void)state;
	fx_init(&f, "not-the-token", RAILWAY_TOKEN_BEARER, "SANDBOX_RAILWAY_TOKEN");
	assert_true(fx_run_until(&f, source_is, &st, 10000));
	assert_string_equal(store_source_find(f.store, RAILWAY_SOURCE)->error,
	    "Not Authorized: check SANDBOX_RAILWAY_TOKEN");
	fx_fini(&f);

	/* a project token finds its project and environment by itself */
	fx_init(&f, emu.project_token, RAILWAY_TOKEN_PROJECT, "RAILWAY_PROJECT_TOKEN");
	assert_true(fx_run_until(&f, all_three, NULL, 20000));
	assert_string_equal(railway_environment_id(f.rw), emu.environment_id);
	assert_non_null(svc(&f, emu.api_id));
	fx_fini(&f);
}

static int
setup(void **state)
{
	(void)state;
	return emulator_start(&emu);
}

static int
teardown(void **state)
{
	(void)state;
	emulator_stop(&emu);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_tokens),
		cmocka_unit_test(test_live_actions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
