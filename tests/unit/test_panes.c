/* test_panes.c - the provider's deployments, replicas and vars panes drawn
 * on the in-memory canvas from snapshots built here: golden screens at
 * 80x24 and 200x50, empty and stale states, hostile strings, the masked
 * variable values and their reveal slot, a rollout's live clock, and the
 * rollback helper. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "golden.h"
#include "signalbox/canvas.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

/* Not in a header yet (see the panes' report). */
size_t deployments_undone_by_rollback(const struct railway_service_history *h,
    size_t target_index, size_t *out_idx, size_t max);

/* 2026-11-23 10:00:00 UTC */
#define NOW_MS 1795428000000LL
#define SEC 1000LL
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

#define HOSTILE "we\033[2Jb\033]0;pwned\007"
#define SECRET "hunter2-s3cr3t-\033[31mred"

/* --- snapshot builders ---------------------------------------------------- */

struct dep_spec {
	const char *id;
	enum railway_status status;
	int64_t created_ago, took;	/* took < 0: status_updated unknown */
	const char *version, *commit, *creator, *message;
	int running, crashed;
};

static void
dep_fill(struct railway_deployment *d, const struct dep_spec *s)
{
	memset(d, 0, sizeof *d);
	d->id = xstrdup(s->id);
	d->status = s->status;
	d->status_text = xstrdup(railway_status_name(s->status));
	d->created_ms = NOW_MS - s->created_ago;
	d->status_updated_ms = s->took >= 0 ? d->created_ms + s->took : 0;
	d->version = xstrdup(s->version);
	d->commit = xstrdup(s->commit);
	d->image = s->version[0] == 'v' ? xasprintf("sandbox-app:%s", s->version) : xstrdup("");
	d->message = xstrdup(s->message);
	d->creator = xstrdup(s->creator);
	d->can_rollback = s->status == RAILWAY_STATUS_SUCCESS || s->status == RAILWAY_STATUS_REMOVED;
	d->can_redeploy = s->status != RAILWAY_STATUS_SKIPPED;
	d->instances = s->running + s->crashed;
	d->instances_running = s->running;
	d->instances_crashed = s->crashed;
}

static struct railway_deployment *
dep_new(const struct dep_spec *s)
{
	struct railway_deployment *d = xcalloc(1, sizeof *d);

	dep_fill(d, s);
	return d;
}

static const struct dep_spec api_deps[] = {
	{ "4c7e2a91-58d3-4f0e-9b6a-1d2e3f405162", RAILWAY_STATUS_DEPLOYING, 65 * SEC + 400, 45 * SEC,
	    "v3", "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432", "alice", "Add a rate limiter to /search", 0, 0 },
	{ "b3f1a0c8-2e47-4d19-8c3b-7a6f5e4d3c2b", RAILWAY_STATUS_SUCCESS, 2 * HOUR + 5 * MINUTE, 72 * SEC,
	    "v2", "3f2a1c0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "bob", "Fix cache headers", 5, 0 },
	{ "e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c6b", RAILWAY_STATUS_FAILED, 3 * HOUR, 45 * SEC,
	    "v2-rc1", "77aa55cc33ee11ff00dd22bb44aa6688cc99ee00", "bob", "Fix cache headers (try 1)", 0, 0 },
	{ "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", RAILWAY_STATUS_REMOVED, 1 * DAY + 3 * HOUR, 4 * HOUR,
	    "v1", "1111222233334444555566667777888899990000", "alice", "First release", 0, 0 },
};

static const struct dep_spec worker_deps[] = {
	{ "c0ffee12-3456-4789-abcd-ef0123456789", RAILWAY_STATUS_CRASHED, 20 * MINUTE, 3 * MINUTE,
	    "c0ffee1", "c0ffee1234567890abcdef1234567890abcdef12", "carol@example.com",
	    "Move jobs to the new queue", 0, 1 },
	{ "1a2b3c4d-0000-4111-8222-333344445555", RAILWAY_STATUS_REMOVED, 2 * DAY, 1 * DAY,
	    "1a2b3c4", "1a2b3c4d5e6f708192a3b4c5d6e7f80910a1b2c3", "carol@example.com",
	    "Worker: retry with backoff", 0, 0 },
};

static const struct dep_spec web_deps[] = {
	{ "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", RAILWAY_STATUS_SUCCESS, 5 * DAY, 90 * SEC,
	    "v5", "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f", "dave", "Landing page copy", 3, 0 },
};

struct svc_spec {
	const char *id, *name;
	const struct dep_spec *deps;
	size_t n_deps;
	size_t active;		/* index into deps, or n_deps: none */
};

static const struct svc_spec services[] = {
	{ "svc-api-7f3a", "api", api_deps, 4, 1 },
	{ "svc-worker-19c2", "worker", worker_deps, 2, 0 },
	{ "svc-web-4d8e", "web", web_deps, 1, 0 },
	{ "svc-cron-0b6f", "cron", NULL, 0, 0 },
};
#define N_SERVICES 4

static void
series_fill(struct railway_series *s, size_t n, double base, double step)
{
	s->points = xcalloc(n, sizeof *s->points);
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		s->points[i].ts = NOW_MS / 1000 - (int64_t)(n - i) * 60;
		s->points[i].value = base + step * (double)(i % 7);
	}
}

static void
region_set(struct railway_region *r, const char *name, int desired, int running)
{
	r->name = xstrdup(name);
	r->desired = desired;
	r->running = running;
}

/* The project at PHASE 0 (settled) or 1 (api scaling 2 → 5 in us-west2,
 * web scaling 3 → 2), with HOSTILE as web's name when asked. */
static struct railway_project_snap *
project_new(int phase, int hostile)
{
	struct railway_project_snap *p = xcalloc(1, sizeof *p);

	p->refs = 1;
	p->project_id = xstrdup("prj-5b2e");
	p->project_name = xstrdup("acme");
	p->environment_id = xstrdup("env-prod-1");
	p->environment_name = xstrdup("production");
	p->n_services = N_SERVICES;
	p->services = xcalloc(N_SERVICES, sizeof *p->services);
	p->fetched_ms = NOW_MS - 4 * SEC;
	p->metrics_from_ms = p->fetched_ms - 30 * MINUTE;
	p->metrics_step_s = 60;
	for (size_t i = 0; i < N_SERVICES; i++) {
		const struct svc_spec *sp = &services[i];
		struct railway_service *s = &p->services[i];

		s->id = xstrdup(sp->id);
		s->name = xstrdup(hostile && i == 2 ? HOSTILE : sp->name);
		s->instance_id = xasprintf("si-%zu", i);
		s->image = xstrdup(i == 1 ? "" : "sandbox-app");
		s->repo = xstrdup(i == 1 ? "acme/worker" : "");
		s->source_version = xstrdup("");
		s->domain = xstrdup(i == 0 ? "api.acme.test" : "");
		s->region = xstrdup(i == 3 ? "" : "us-west2");
		if (sp->n_deps > 0) {
			s->latest = dep_new(&sp->deps[0]);
			s->active = dep_new(&sp->deps[sp->active]);
		}
		s->desired_total = -1;
	}
	/* api: 2 regions */
	p->services[0].n_regions = 2;
	p->services[0].regions = xcalloc(2, sizeof(struct railway_region));
	region_set(&p->services[0].regions[0], "europe-west4", 2, 2);
	region_set(&p->services[0].regions[1], "us-west2", phase ? 5 : 2, phase ? 3 : 2);
	p->services[0].desired_total = phase ? 7 : 4;
	p->services[0].running_total = phase ? 5 : 4;
	series_fill(&p->services[0].cpu, 30, 0.4, 0.05);
	series_fill(&p->services[0].mem, 30, 0.35, 0.01);
	/* worker: crashed, nothing running */
	p->services[1].n_regions = 1;
	p->services[1].regions = xcalloc(1, sizeof(struct railway_region));
	region_set(&p->services[1].regions[0], "us-west2", 1, 0);
	p->services[1].desired_total = 1;
	p->services[1].running_total = 0;
	series_fill(&p->services[1].cpu, 30, 0.0, 0.0);
	series_fill(&p->services[1].mem, 30, 0.05, 0.0);
	/* web: scaling down */
	p->services[2].n_regions = 1;
	p->services[2].regions = xcalloc(1, sizeof(struct railway_region));
	region_set(&p->services[2].regions[0], "us-east4", phase ? 2 : 3, 3);
	p->services[2].desired_total = phase ? 2 : 3;
	p->services[2].running_total = 3;
	series_fill(&p->services[2].cpu, 30, 0.1, 0.02);
	series_fill(&p->services[2].mem, 30, 1.2, 0.1);
	/* cron: never deployed, no regions */
	p->services[3].running_total = 0;
	return p;
}

static struct railway_history_snap *
history_new(int hostile)
{
	struct railway_history_snap *h = xcalloc(1, sizeof *h);

	h->refs = 1;
	h->environment_id = xstrdup("env-prod-1");
	h->fetched_ms = NOW_MS - 4 * SEC;
	h->n_services = N_SERVICES;
	h->services = xcalloc(N_SERVICES, sizeof *h->services);
	for (size_t i = 0; i < N_SERVICES; i++) {
		struct railway_service_history *sh = &h->services[i];

		sh->service_id = xstrdup(services[i].id);
		sh->service_name = xstrdup(hostile && i == 2 ? HOSTILE : services[i].name);
		sh->n = services[i].n_deps;
		sh->deployments = xcalloc(sh->n ? sh->n : 1, sizeof *sh->deployments);
		for (size_t j = 0; j < sh->n; j++)
			dep_fill(&sh->deployments[j], &services[i].deps[j]);
	}
	if (hostile) {
		free(h->services[2].deployments[0].message);
		h->services[2].deployments[0].message = xstrdup("evil \033[2J\033[H message");
	}
	return h;
}

struct var_spec {
	const char *name, *value;
};

static void
varset_fill(struct railway_var_set *vs, const char *sid, const char *sname,
    const struct var_spec *specs, size_t n)
{
	vs->service_id = xstrdup(sid);
	vs->service_name = xstrdup(sname);
	vs->n = n;
	vs->vars = xcalloc(n ? n : 1, sizeof *vs->vars);
	for (size_t i = 0; i < n; i++) {
		struct railway_var *v = &vs->vars[i];

		v->name = xstrdup(specs[i].name);
		v->value_len = strlen(specs[i].value);
		railway_fingerprint(specs[i].value, v->value_len, v->fingerprint);
		v->is_reference = strstr(specs[i].value, "${{") != NULL;
	}
}

static const struct var_spec shared_vars[] = {
	{ "DATABASE_URL", "postgres://app:pw@10.0.0.5:5432/acme?sslmode=require" },
	{ "LOG_LEVEL", "info" },
	{ "SENTRY_DSN", "https://0123456789abcdef@o1234.ingest.sentry.io/5678901" },
};
static const struct var_spec api_vars[] = {
	{ "API_KEY", "sk_live_0123456789abcdef01234567" },
	{ "DATABASE_URL", "${{shared.DATABASE_URL}}" },
	{ "LOG_LEVEL", "debug" },
	{ "PORT", "8080" },
};
static const struct var_spec web_vars[] = {
	{ "QUEUE_NAME", "jobs-v2" },
	{ "REDIS_URL", "${{redis.REDIS_URL}}" },
};

/* SECRET_FP changes API_KEY's stored value (its fingerprint). */
static struct railway_vars_snap *
vars_new(int hostile, int rotated)
{
	struct railway_vars_snap *s = xcalloc(1, sizeof *s);
	struct var_spec api[4];

	memcpy(api, api_vars, sizeof api);
	if (rotated)
		api[0].value = "sk_live_rotated_ffffffffffffffffffff";
	s->refs = 1;
	s->environment_id = xstrdup("env-prod-1");
	s->fetched_ms = NOW_MS - 4 * SEC;
	s->n_sets = 4;
	s->sets = xcalloc(4, sizeof *s->sets);
	varset_fill(&s->sets[0], "", "shared", shared_vars, 3);
	varset_fill(&s->sets[1], "svc-api-7f3a", "api", api, 4);
	varset_fill(&s->sets[2], "svc-web-4d8e", hostile ? HOSTILE : "web", web_vars, 2);
	varset_fill(&s->sets[3], "svc-cron-0b6f", "cron", NULL, 0);
	if (hostile) {
		free(s->sets[2].vars[0].name);
		s->sets[2].vars[0].name = xstrdup("QUEUE\033[2J_NAME");
	}
	return s;
}

static void
free_project(void *p)
{
	railway_project_snap_unref(p);
}

static void
free_history(void *p)
{
	railway_history_snap_unref(p);
}

static void
free_vars(void *p)
{
	railway_vars_snap_unref(p);
}

/* --- fixture and rendering ------------------------------------------------ */

struct fixture {
	struct store *store;
	struct view_host host;
};

static void
publish_all(struct fixture *f, int phase, int hostile)
{
	store_publish(f->store, STORE_TOPIC_SERVICES, project_new(phase, hostile), free_project);
	store_publish(f->store, STORE_TOPIC_DEPLOYMENTS, history_new(hostile), free_history);
	store_publish(f->store, STORE_TOPIC_VARS, vars_new(hostile, 0), free_vars);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	setenv("TZ", "UTC", 1);
	tzset();
	f->store = store_new();
	store_source_set(f->store, RAILWAY_SOURCE, STORE_STATE_OK, NULL);
	publish_all(f, 1, 0);
	*state = f;
	return 0;
}

static int
setup_empty(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	setenv("TZ", "UTC", 1);
	tzset();
	f->store = store_new();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_free(&f->store);
	free(f);
	return 0;
}

static struct view *
pane(struct fixture *f, const struct view_ops *ops)
{
	struct view *v = view_new(ops, &f->host, NULL);

	assert_non_null(v);
	return v;
}

enum mode { LIST, DETAIL, SPLIT };

/* Update V at NOW and draw it at W x H: the list, the detail, or both side
 * by side the way the console splits a wide terminal. */
static char *
render_at(struct fixture *f, struct view *v, int w, int h, enum mode m, int ascii, int64_t now)
{
	struct canvas *cv = canvas_mem_new(w, h, ascii), *a, *b;
	char *out;
	int mw = w * 11 / 20;

	v->now_ms = now;
	v->ops->update(v, f->store);
	if (m == SPLIT) {
		a = canvas_sub_new(cv, 0, 0, h, mw);
		b = canvas_sub_new(cv, 0, mw + 1, h, w - mw - 1);
		v->ops->draw(v, a);
		canvas_vline(cv, 0, mw, h, STYLE_BORDER);
		v->ops->draw_detail(v, b);
		canvas_sub_free(&a);
		canvas_sub_free(&b);
	} else if (m == DETAIL) {
		v->ops->draw(v, cv);	/* the list sizes its page first, as in the console */
		v->ops->draw_detail(v, cv);
	} else {
		v->ops->draw(v, cv);
	}
	out = canvas_mem_dump(cv);
	canvas_mem_free(&cv);
	return out;
}

static char *
render(struct fixture *f, struct view *v, int w, int h, enum mode m)
{
	return render_at(f, v, w, h, m, 0, NOW_MS);
}

/* NEEDLE is in S; prints S when not. */
#define assert_in(s, needle) assert_in_at(s, needle, __FILE__, __LINE__)

static void
assert_in_at(const char *s, const char *needle, const char *file, int line)
{
	if (strstr(s, needle) != NULL)
		return;
	fprintf(stderr, "%s:%d: '%s' not in:\n%s\n", file, line, needle, s);
	fail();
}

static void
press(struct view *v, enum action a, int times)
{
	for (int i = 0; i < times; i++)
		assert_int_equal(v->ops->key(v, a, NULL), 1);
}

static void
check_golden(const char *name, const char *screen)
{
	assert_int_equal(golden_check(name, screen), 0);
	assert_null(strchr(screen, '\033'));
}

/* --- deployments ---------------------------------------------------------- */

static void
test_deployments_golden(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &deployments_view_ops);
	char *s, badge[32];
	int bad;

	s = render(f, v, 80, 24, LIST);
	check_golden("panes/deployments-80x24", s);
	/* newest first across services; the serving one of each is marked */
	assert_in(s, "● SUCCESS      api");
	assert_true(strstr(s, "DEPLOYING") < strstr(s, "CRASHED"));
	free(s);
	/* api v1: a rollback to it undoes v3 (in progress) and v2 (serving) */
	press(v, ACTION_MOVE_DOWN, 4);
	s = render(f, v, 80, 24, DETAIL);
	check_golden("panes/deployments-detail-80x24", s);
	assert_in(s, "A rollback to v1 undoes 2 deployments:");
	free(s);
	s = render(f, v, 200, 50, SPLIT);
	check_golden("panes/deployments-200x50", s);
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "1 failed");
	assert_true(bad);
	view_free(&v);
}

static void
test_deployments_live_clock(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &deployments_view_ops);
	char *s;

	/* api v3 started 65.4 s ago and is still deploying */
	s = render(f, v, 80, 24, LIST);
	assert_in(s, "1m05s");
	free(s);
	assert_int_equal(v->next_change_ms, NOW_MS + 600);
	s = render_at(f, v, 80, 24, LIST, 0, NOW_MS + 600);
	assert_null(strstr(s, "1m05s"));
	assert_in(s, "1m06s");
	free(s);
	assert_int_equal(v->next_change_ms, NOW_MS + 1600);
	/* the detail ticks too */
	s = render_at(f, v, 80, 24, DETAIL, 0, NOW_MS + 12600);
	assert_in(s, "Running for 1m18s");
	free(s);
	assert_int_equal(v->next_change_ms, NOW_MS + 13600);
	/* a finished deployment's duration does not tick */
	press(v, ACTION_MOVE_DOWN, 2);
	s = render_at(f, v, 80, 24, DETAIL, 0, NOW_MS);
	assert_in(s, "Took        1m12s");
	free(s);
	view_free(&v);
}

static void
test_deployments_selection_follows(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &deployments_view_ops);
	struct railway_history_snap *h;
	struct railway_deployment *d;
	char *s;

	free(render(f, v, 80, 24, LIST));
	press(v, ACTION_MOVE_DOWN, 4);	/* api v1, the rollback target */
	/* a new deployment arrives on top: the selection stays on v1 */
	h = history_new(0);
	d = xcalloc(h->services[0].n + 1, sizeof *d);
	memcpy(d + 1, h->services[0].deployments, h->services[0].n * sizeof *d);
	dep_fill(&d[0], &(struct dep_spec){ "ffff0000-1111-4222-8333-444455556666",
	    RAILWAY_STATUS_QUEUED, 1 * SEC, -1, "v4", "", "eve", "", 0, 0 });
	free(h->services[0].deployments);
	h->services[0].deployments = d;
	h->services[0].n++;
	store_publish(f->store, STORE_TOPIC_DEPLOYMENTS, h, free_history);
	s = render(f, v, 80, 24, DETAIL);
	assert_in(s, "api v1 REMOVED");
	assert_in(s, "A rollback to v1 undoes 3 deployments:");
	free(s);
	/* the filter narrows to one service */
	snprintf(v->filter, sizeof v->filter, "worker");
	s = render(f, v, 80, 24, LIST);
	assert_in(s, "filter 'worker': 2 shown");
	assert_null(strstr(s, " api "));
	free(s);
	view_free(&v);
}

static void
test_rollback_helper(void **state)
{
	struct fixture *f = *state;
	const struct railway_history_snap *h = store_get(f->store, STORE_TOPIC_DEPLOYMENTS, NULL);
	const struct railway_service_history *api = &h->services[0];
	size_t out[8];

	/* [0] v3 DEPLOYING, [1] v2 SUCCESS, [2] v2-rc1 FAILED, [3] v1 REMOVED */
	assert_int_equal(deployments_undone_by_rollback(api, 3, out, 8), 2);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(deployments_undone_by_rollback(api, 1, out, 8), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(deployments_undone_by_rollback(api, 0, out, 8), 0);
	assert_int_equal(deployments_undone_by_rollback(api, 4, out, 8), 0);
	assert_int_equal(deployments_undone_by_rollback(NULL, 0, out, 8), 0);
	/* the count is complete even when OUT is short */
	out[1] = 99;
	assert_int_equal(deployments_undone_by_rollback(api, 3, out, 1), 2);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 99);
	assert_int_equal(deployments_undone_by_rollback(api, 3, NULL, 0), 2);
}

/* --- replicas ------------------------------------------------------------- */

static void
test_replicas_golden(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &replicas_view_ops);
	char *s, badge[32];
	int bad;

	/* settled first, then api scales 2 → 5 in us-west2 and web 3 → 2 */
	store_publish(f->store, STORE_TOPIC_SERVICES, project_new(0, 0), free_project);
	free(render(f, v, 80, 24, LIST));
	store_publish(f->store, STORE_TOPIC_SERVICES, project_new(1, 0), free_project);
	s = render(f, v, 80, 24, LIST);
	check_golden("panes/replicas-80x24", s);
	assert_in(s, "2 short  scaling 2 → 5");
	assert_in(s, "1 over  scaling 3 → 2");
	free(s);
	press(v, ACTION_MOVE_DOWN, 1);	/* api us-west2 */
	s = render(f, v, 80, 24, DETAIL);
	check_golden("panes/replicas-detail-80x24", s);
	free(s);
	s = render(f, v, 200, 50, SPLIT);
	check_golden("panes/replicas-200x50", s);
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "3 short");
	assert_true(bad);
	view_free(&v);
}

static void
test_replicas_converging(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &replicas_view_ops);
	struct railway_project_snap *p;
	char *s;

	store_publish(f->store, STORE_TOPIC_SERVICES, project_new(0, 0), free_project);
	free(render(f, v, 80, 24, LIST));
	store_publish(f->store, STORE_TOPIC_SERVICES, project_new(1, 0), free_project);
	free(render(f, v, 80, 24, LIST));
	/* one more replica comes up: rising towards the target */
	p = project_new(1, 0);
	p->services[0].regions[1].running = 4;
	store_publish(f->store, STORE_TOPIC_SERVICES, p, free_project);
	s = render(f, v, 80, 24, LIST);
	assert_in(s, "1 short  scaling 2 → 5, ↑ converging");
	free(s);
	/* there: ok, and nothing left of the scaling */
	p = project_new(1, 0);
	p->services[0].regions[1].running = 5;
	store_publish(f->store, STORE_TOPIC_SERVICES, p, free_project);
	s = render(f, v, 80, 24, LIST);
	assert_null(strstr(s, "scaling 2"));
	assert_null(strstr(s, "converging"));
	free(s);
	view_free(&v);
}

static void
test_replicas_styles(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &replicas_view_ops);
	struct canvas *cv = canvas_mem_new(80, 24, 0);
	const char *row;
	int x;

	v->now_ms = NOW_MS;
	v->ops->update(v, f->store);
	v->ops->draw(v, cv);
	/* row 4 is worker us-west2: 0/1, highlighted as short */
	row = canvas_mem_row(cv, 4);
	assert_in(row, "worker");
	x = (int)(strstr(row, "0/1") - row);
	assert_int_equal(canvas_mem_style(cv, 4, x), STYLE_HEALTH_DEGRADED);
	canvas_mem_free(&cv);
	view_free(&v);
}

/* --- vars ----------------------------------------------------------------- */

static void
test_vars_golden(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &vars_view_ops);
	char *s;

	s = render(f, v, 80, 24, LIST);
	check_golden("panes/vars-80x24", s);
	assert_in(s, "•••• (52 bytes, fp ");
	free(s);
	press(v, ACTION_MOVE_DOWN, 4);	/* api DATABASE_URL, a reference */
	s = render(f, v, 80, 24, DETAIL);
	check_golden("panes/vars-detail-80x24", s);
	free(s);
	s = render(f, v, 200, 50, SPLIT);
	check_golden("panes/vars-200x50", s);
	free(s);
	s = render_at(f, v, 80, 24, LIST, 1, NOW_MS);
	assert_in(s, "**** (24 bytes, fp ");
	assert_in(s, "${{}}");
	free(s);
	view_free(&v);
}

/* No value string of the fixture appears anywhere in S. */
static void
assert_no_values(const char *s)
{
	const struct var_spec *sets[] = { shared_vars, api_vars, web_vars };
	size_t ns[] = { 3, 4, 2 };

	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < ns[i]; j++)
			if (strlen(sets[i][j].value) >= 6)
				assert_null(strstr(s, sets[i][j].value));
	assert_null(strstr(s, "hunter2"));
}

static void
test_vars_reveal(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &vars_view_ops);
	char *s, badge[32];
	int bad;

	/* masked everywhere, list and detail, at every size */
	s = render(f, v, 80, 24, LIST);
	assert_no_values(s);
	free(s);
	press(v, ACTION_MOVE_DOWN, 3);	/* api API_KEY */
	s = render(f, v, 200, 50, SPLIT);
	assert_no_values(s);
	free(s);
	/* an answer for another variable than the selected one is dropped */
	vars_view_show_value(v, "svc-api-7f3a", "PORT", SECRET, strlen(SECRET));
	vars_view_show_value(v, "", "API_KEY", SECRET, strlen(SECRET));
	vars_view_show_value(v, NULL, "API_KEY", SECRET, strlen(SECRET));
	s = render(f, v, 200, 50, SPLIT);
	assert_no_values(s);
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "");
	/* the selected one shows, sanitised, in the list and the detail */
	vars_view_show_value(v, "svc-api-7f3a", "API_KEY", SECRET, strlen(SECRET));
	s = render(f, v, 80, 24, LIST);
	check_golden("panes/vars-revealed-80x24", s);
	assert_in(s, "hunter2-s3cr3t-␛[31mred");
	free(s);
	s = render(f, v, 200, 50, SPLIT);
	assert_null(strchr(s, '\033'));
	assert_in(s, "Value       hunter2-s3cr3t-␛[31mred");
	assert_int_equal(v->next_change_ms, NOW_MS + 60000);
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "1 shown");
	/* moving away forgets it; coming back does not bring it back */
	press(v, ACTION_MOVE_DOWN, 1);
	press(v, ACTION_MOVE_UP, 1);
	s = render(f, v, 200, 50, SPLIT);
	assert_no_values(s);
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "");
	/* a key that does not move keeps it */
	vars_view_show_value(v, "svc-api-7f3a", "API_KEY", SECRET, strlen(SECRET));
	press(v, ACTION_MOVE_TOP, 1);
	press(v, ACTION_MOVE_DOWN, 3);
	s = render(f, v, 80, 24, LIST);
	assert_no_values(s);
	free(s);
	/* a rotated value hides the old one even without a move */
	vars_view_show_value(v, "svc-api-7f3a", "API_KEY", SECRET, strlen(SECRET));
	store_publish(f->store, STORE_TOPIC_VARS, vars_new(0, 1), free_vars);
	s = render(f, v, 80, 24, LIST);
	assert_no_values(s);
	assert_in(s, "•••• (36 bytes");
	free(s);
	/* and it hides itself after a minute */
	vars_view_show_value(v, "svc-api-7f3a", "API_KEY", SECRET, strlen(SECRET));
	s = render_at(f, v, 80, 24, LIST, 0, NOW_MS + 59000);
	assert_in(s, "hunter2");
	free(s);
	s = render_at(f, v, 80, 24, LIST, 0, NOW_MS + 60000);
	assert_no_values(s);
	free(s);
	/* only the vars pane takes values (this would write into another
	 * pane's state otherwise: ASan watches) */
	{
		struct view *d = pane(f, &deployments_view_ops);

		vars_view_show_value(d, "", "API_KEY", SECRET, 6);
		vars_view_show_value(NULL, "", "API_KEY", SECRET, 6);
		view_free(&d);
	}
	view_free(&v);
}

static void
test_vars_filter(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f, &vars_view_ops);
	char *s;

	snprintf(v->filter, sizeof v->filter, "database");
	s = render(f, v, 80, 24, LIST);
	assert_in(s, "filter 'database': 2 shown");
	assert_null(strstr(s, "PORT"));
	free(s);
	/* names only: a service name does not match */
	snprintf(v->filter, sizeof v->filter, "web");
	s = render(f, v, 80, 24, LIST);
	assert_in(s, "no variable name matches 'web'");
	free(s);
	view_free(&v);
}

/* The overview's selected service narrows the other panes; shared
 * variables stay; Esc (back) shows every service again. */
static void
test_focus(void **state)
{
	struct fixture *f = *state;
	const struct view_ops *const narrowed[] = { &deployments_view_ops, &replicas_view_ops,
	    &vars_view_ops };
	char *s;

	for (size_t i = 0; i < sizeof narrowed / sizeof narrowed[0]; i++) {
		struct view *v = pane(f, narrowed[i]);

		snprintf(v->focus, sizeof v->focus, "svc-worker-19c2");
		snprintf(v->focus_name, sizeof v->focus_name, "worker");
		s = render(f, v, 120, 24, LIST);
		assert_in(s, "worker only (Esc: all services)");
		assert_in(s, "worker");
		assert_null(strstr(s, "web"));	/* another service: hidden */
		if (narrowed[i] == &vars_view_ops)
			assert_in(s, "shared");
		free(s);
		v->focus[0] = '\0';
		s = render(f, v, 120, 24, LIST);
		assert_null(strstr(s, "only (Esc"));
		assert_in(s, "api");
		free(s);
		view_free(&v);
	}
}

/* --- every pane ----------------------------------------------------------- */

static const struct view_ops *const all_panes[] = {
	&deployments_view_ops, &replicas_view_ops, &vars_view_ops,
};

static void
test_hostile_strings(void **state)
{
	struct fixture *f = *state;

	publish_all(f, 1, 1);
	for (size_t i = 0; i < 3; i++) {
		struct view *v = pane(f, all_panes[i]);
		char *s;

		for (int k = 0; k < 12; k++) {
			s = render(f, v, 200, 50, SPLIT);
			assert_null(strchr(s, '\033'));
			assert_null(strchr(s, '\007'));
			free(s);
			s = render_at(f, v, 80, 24, DETAIL, 1, NOW_MS);
			assert_null(strchr(s, '\033'));
			free(s);
			v->ops->key(v, ACTION_MOVE_DOWN, NULL);
		}
		/* the name is there, made visible */
		s = render(f, v, 200, 50, LIST);
		assert_in(s, "we␛[2Jb␛]0;pwne");
		free(s);
		view_free(&v);
	}
}

static void
test_empty_states(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < 3; i++) {
		struct view *v = pane(f, all_panes[i]);
		char *s;

		/* no provider at all */
		s = render(f, v, 80, 24, LIST);
		if (i == 0)
			check_golden("panes/empty-80x24", s);
		assert_in(s, "No provider configured.");
		free(s);
		s = render(f, v, 80, 24, DETAIL);
		assert_in(s, "selected.");
		free(s);
		store_source_set(f->store, RAILWAY_SOURCE, STORE_STATE_CONNECTING, NULL);
		s = render(f, v, 80, 24, LIST);
		assert_true(strstr(s, "Connecting") != NULL || strstr(s, "Fetching") != NULL);
		free(s);
		store_source_set(f->store, RAILWAY_SOURCE, STORE_STATE_ERROR,
		    "Not Authorized: check RAILWAY_TOKEN");
		s = render(f, v, 80, 24, LIST);
		assert_in(s, "The provider does not answer:");
		assert_in(s, "Not Authorized: check RAILWAY_TOKEN");
		free(s);
		store_source_set(f->store, RAILWAY_SOURCE, STORE_STATE_IDLE, NULL);
		view_free(&v);
	}
}

static void
test_empty_snapshots(void **state)
{
	struct fixture *f = *state;
	struct railway_project_snap *p = project_new(1, 0);
	struct railway_history_snap *h = xcalloc(1, sizeof *h);
	struct railway_vars_snap *vs = xcalloc(1, sizeof *vs);
	const char *want[] = { "no deployments yet", "cron", "no variables in this environment" };

	h->refs = 1;
	h->environment_id = xstrdup("env-prod-1");
	vs->refs = 1;
	vs->environment_id = xstrdup("env-prod-1");
	store_publish(f->store, STORE_TOPIC_SERVICES, p, free_project);
	store_publish(f->store, STORE_TOPIC_DEPLOYMENTS, h, free_history);
	store_publish(f->store, STORE_TOPIC_VARS, vs, free_vars);
	for (size_t i = 0; i < 3; i++) {
		struct view *v = pane(f, all_panes[i]);
		char *s = render(f, v, 80, 24, LIST);

		assert_in(s, want[i]);
		free(s);
		s = render(f, v, 80, 24, DETAIL);
		free(s);
		view_free(&v);
	}
}

/* Whether row Y is drawn dim: every cell dim or blank, some dim. */
static int
row_dimmed(const struct canvas *cv, int y)
{
	int dim = 0;

	for (int x = 0; x < canvas_width(cv); x++) {
		enum style_id st = canvas_mem_style(cv, y, x);

		if (st != STYLE_DIM && st != STYLE_DEFAULT)
			return 0;
		dim += st == STYLE_DIM;
	}
	return dim > 10;
}

static void
test_stale(void **state)
{
	struct fixture *f = *state;

	store_source_set(f->store, RAILWAY_SOURCE, STORE_STATE_STALE,
	    "connection refused (retrying in 8s)");
	for (size_t i = 0; i < 3; i++) {
		struct view *v = pane(f, all_panes[i]);
		struct canvas *cv = canvas_mem_new(80, 24, 0);
		char badge[32];
		int bad;

		v->now_ms = NOW_MS + 2 * MINUTE;
		v->ops->update(v, f->store);
		v->ops->draw(v, cv);
		assert_in(canvas_mem_row(cv, 0), "stale: data 2m old: conn");
		/* every row but the selected one (row 2) */
		for (int y = 3; y < 6; y++)
			assert_int_equal(row_dimmed(cv, y), 1);
		assert_true(v->next_change_ms > v->now_ms);
		v->ops->badge(v, badge, sizeof badge, &bad);
		assert_true(bad);
		if (i == 0) {
			char *s = canvas_mem_dump(cv);

			check_golden("panes/deployments-stale-80x24", s);
			free(s);
		}
		canvas_mem_free(&cv);
		view_free(&v);
	}
}

static void
test_tiny(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < 3; i++) {
		struct view *v = pane(f, all_panes[i]);
		int sizes[][2] = { { 1, 1 }, { 10, 3 }, { 30, 5 }, { 50, 8 } };

		for (size_t k = 0; k < 4; k++) {
			free(render(f, v, sizes[k][0], sizes[k][1], LIST));
			free(render(f, v, sizes[k][0], sizes[k][1], DETAIL));
			press(v, ACTION_PAGE_DOWN, 1);
		}
		view_free(&v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deployments_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deployments_live_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deployments_selection_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replicas_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replicas_converging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replicas_styles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars_reveal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_focus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_states, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_empty_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
