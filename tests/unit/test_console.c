/* test_console.c - layout, keys, prompt, and golden screens of the health
 * pane drawn through the whole console on the in-memory canvas. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "golden.h"
#include "signalbox/audit.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/health.h"
#include "signalbox/keymap.h"
#include "signalbox/policy.h"
#include "signalbox/store.h"
#include "signalbox/view.h"

/* 2026-11-23 10:00:00 UTC */
#define NOW_MS 1795428000000LL

struct fixture {
	struct config cfg;
	struct store *store;
	struct keymap *km;
	struct view_host host;
	struct console *c;
	struct health_result res[6];
	struct health_result *eps[6];
	struct health_snap snap;
	double window[6][20];
	char messages[512];
};

static void
host_message(void *ud, int is_error, const char *text)
{
	struct fixture *f = ud;

	snprintf(f->messages, sizeof f->messages, "%s%s", is_error ? "E:" : "", text);
}

static void
fill_result(struct fixture *f, int i, const char *name, const char *url,
    enum health_state st, int status, double lat, const char *reason)
{
	struct health_result *r = &f->res[i];
	int k;

	memset(r, 0, sizeof *r);
	r->refs = 1;
	snprintf(r->name, sizeof r->name, "%s", name);
	snprintf(r->url, sizeof r->url, "%s", url);
	r->expect = 200;
	r->interval_ms = 5000;
	r->state = st;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	r->http_status = status;
	r->latency_ms = lat;
	r->p50_ms = lat >= 0 ? lat * 0.9 : -1;
	r->p95_ms = lat >= 0 ? lat * 1.6 : -1;
	r->last_check_ms = NOW_MS - 2000;
	r->last_ok_ms = st == HEALTH_DOWN ? NOW_MS - 180000 : NOW_MS - 2000;
	r->consecutive_failures = st == HEALTH_DOWN ? 36 : 0;
	r->checks = 120;
	r->failures = st == HEALTH_DOWN ? 40 : 0;
	for (k = 0; k < 20; k++)
		f->window[i][k] = st == HEALTH_DOWN && k > 14 ? -1 : (lat >= 0 ? lat + (k % 5) * 3 : -1);
	r->window = f->window[i];
	r->n_window = 20;
	f->eps[i] = r;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct console_opts co;
	struct err e;
	struct health_result *r;

	setenv("TZ", "UTC", 1);
	tzset();
	config_init(&f->cfg);
	f->store = store_new();
	f->km = keymap_new();
	f->host.ud = f;
	f->host.message = host_message;
	f->host.keymap = f->km;
	fill_result(f, 0, "api", "https://127.0.0.1:47101/health", HEALTH_OK, 200, 12.4, "");
	fill_result(f, 1, "cache", "http://127.0.0.1:47100/health/degraded", HEALTH_DEGRADED,
	    200, 3.2, "redis: fail");
	fill_result(f, 2, "payments", "http://127.0.0.1:47100/500", HEALTH_DOWN, 500, 2.1,
	    "HTTP 500, expected 200");
	fill_result(f, 3, "search", "http://127.0.0.1:47100/hang", HEALTH_DOWN, 0, -1,
	    "timed out after 1000 ms");
	fill_result(f, 4, "ws", "ws://127.0.0.1:47100/ws", HEALTH_OK, 0, 0.8, "");
	f->res[4].is_ws = 1;
	f->res[4].expect = 101;
	fill_result(f, 5, "reports", "http://127.0.0.1:47199/health", HEALTH_UNKNOWN, 0, -1, "");
	f->res[5].last_check_ms = 0;
	f->res[5].last_ok_ms = 0;
	f->res[5].n_window = 0;
	r = &f->res[0];
	r->has_tls = 1;
	r->tls_days_left = 19;
	r->tls_level = HEALTH_LEVEL_WARN;
	snprintf(r->tls_issuer, sizeof r->tls_issuer, "CN=signalbox demo CA");
	snprintf(r->version, sizeof r->version, "v2");
	r->n_comps = 2;
	snprintf(r->comps[0].name, 32, "db");
	snprintf(r->comps[0].status, 32, "ok");
	r->comps[0].ok = 1;
	snprintf(r->comps[1].name, 32, "redis");
	snprintf(r->comps[1].status, 32, "ok");
	r->comps[1].ok = 1;
	r->headers_checked = 1;
	r->hdrs[HEALTH_HDR_HSTS] = (struct health_header_check){ HEALTH_LEVEL_OK,
	    "max-age=31536000; includeSubDomains", "max-age=31536000; includeSubDomains" };
	r->hdrs[HEALTH_HDR_CSP] = (struct health_header_check){ HEALTH_LEVEL_WARN,
	    "script-src 'self' 'unsafe-inline'", "script-src allows 'unsafe-inline'" };
	r->hdrs[HEALTH_HDR_NOSNIFF] = (struct health_header_check){ HEALTH_LEVEL_OK, "nosniff", "nosniff" };
	r->hdrs[HEALTH_HDR_FRAME] = (struct health_header_check){ HEALTH_LEVEL_FAIL, "",
	    "missing: no X-Frame-Options and no CSP frame-ancestors" };
	r->hdrs[HEALTH_HDR_REFERRER] = (struct health_header_check){ HEALTH_LEVEL_OK,
	    "strict-origin-when-cross-origin", "strict-origin-when-cross-origin" };
	r->t_dns_ms = 0.1;
	r->t_connect_ms = 0.3;
	r->t_tls_ms = 4.2;
	r->t_ttfb_ms = 11.0;
	r->t_total_ms = 12.4;
	r->resp_headers = "HTTP/1.1 200 OK\nContent-Type: application/json\nX-Evil: ␛[2J";
	r->body_excerpt = "{\"status\":\"ok\",\"db\":\"ok\",\"redis\":\"ok\",\"version\":\"v2\"}";
	f->snap.n = 6;
	f->snap.eps = f->eps;
	store_publish(f->store, STORE_TOPIC_HEALTH, &f->snap, NULL);
	store_source_set(f->store, "health", STORE_STATE_OK, NULL);
	memset(&co, 0, sizeof co);
	co.cfg = &f->cfg;
	co.store = f->store;
	co.keymap = f->km;
	co.host = &f->host;
	co.operator_name = "alice@10.0.0.7";
	f->c = console_new(&co, &e);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	console_free(&f->c);
	store_free(&f->store);
	keymap_free(&f->km);
	config_fini(&f->cfg);
	free(f);
	return 0;
}

static char *
render(struct fixture *f, int w, int h)
{
	struct canvas *cv = canvas_mem_new(w, h, 0);
	char *out;

	console_resize(f->c, w, h);
	console_update(f->c, NOW_MS);
	console_draw_all(f->c, cv);
	out = canvas_mem_dump(cv);
	canvas_mem_free(&cv);
	return out;
}

static void
test_golden_80x24(void **state)
{
	struct fixture *f = *state;
	char *s = render(f, 80, 24);

	assert_false(console_is_split(f->c));
	assert_int_equal(golden_check("health/list-80x24", s), 0);
	free(s);
}

static void
test_golden_200x50_split(void **state)
{
	struct fixture *f = *state;
	char *s = render(f, 200, 50);

	assert_true(console_is_split(f->c));
	assert_int_equal(golden_check("health/split-200x50", s), 0);
	free(s);
}

static void
test_golden_detail_80x24(void **state)
{
	struct fixture *f = *state;
	char *s;

	free(render(f, 80, 24));
	console_key(f->c, KEYC_ENTER);
	s = render(f, 80, 24);
	assert_int_equal(golden_check("health/detail-80x24", s), 0);
	/* escape sequences from the network are visible, never sent */
	assert_null(strchr(s, '\033'));
	free(s);
	console_key(f->c, KEYC_ESC);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "STATE"));
	free(s);
}

static void
test_golden_ascii_and_tiny(void **state)
{
	struct fixture *f = *state;
	struct canvas *cv = canvas_mem_new(80, 24, 1);
	char *s;

	console_resize(f->c, 80, 24);
	console_update(f->c, NOW_MS);
	console_draw_all(f->c, cv);
	s = canvas_mem_dump(cv);
	assert_int_equal(golden_check("health/list-80x24-ascii", s), 0);
	free(s);
	canvas_mem_free(&cv);
	s = render(f, 8, 3);
	assert_non_null(strstr(s, "termina"));
	free(s);
}

static void
test_navigation_and_filter(void **state)
{
	struct fixture *f = *state;
	char *s;

	free(render(f, 80, 24));
	console_key(f->c, 'j');
	console_key(f->c, 'j');
	console_key(f->c, KEYC_ENTER);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "payments http://127.0.0.1:47100/500"));
	free(s);
	console_key(f->c, KEYC_ESC);
	/* '/' filters the list */
	console_key(f->c, '/');
	console_key(f->c, 'd');
	console_key(f->c, 'o');
	console_key(f->c, 'w');
	console_key(f->c, 'n');
	console_key(f->c, KEYC_ENTER);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "filter 'down': 2 shown"));
	assert_null(strstr(s, "cache"));
	free(s);
	console_key(f->c, KEYC_ESC);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "cache"));
	free(s);
}

static void
test_panes_and_commands(void **state)
{
	struct fixture *f = *state;
	char *s;

	free(render(f, 80, 24));
	console_key(f->c, '2');
	assert_string_equal(console_active(f->c)->ops->name, "help");
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "move-down"));
	free(s);
	console_key(f->c, 'G');
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "[logs] Save the lines shown"));
	free(s);
	console_key(f->c, KEYC_TAB);
	assert_string_equal(console_active(f->c)->ops->name, "health");
	console_key(f->c, '9');
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "there is no pane 9"));
	free(s);
	/* ':' with completion and history */
	console_key(f->c, ':');
	console_key(f->c, 'p');
	console_key(f->c, 'a');
	console_key(f->c, 'n');
	console_key(f->c, 'e');
	console_key(f->c, ' ');
	console_key(f->c, 'h');
	console_key(f->c, 'e');
	console_key(f->c, 'l');
	console_key(f->c, KEYC_TAB);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, ":pane help"));
	free(s);
	console_key(f->c, KEYC_ENTER);
	assert_string_equal(console_active(f->c)->ops->name, "help");
	console_key(f->c, ':');
	console_key(f->c, KEYC_UP);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, ":pane help"));
	free(s);
	console_key(f->c, KEYC_ESC);
	console_command(f->c, "chek-now");
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "did you mean 'check-now'"));
	free(s);
	console_command(f->c, "pane health");
	assert_string_equal(console_active(f->c)->ops->name, "health");
	console_command(f->c, "layout split");
	free(render(f, 80, 24));
	assert_true(console_is_split(f->c));
	console_key(f->c, 'z');
	free(render(f, 80, 24));
	assert_false(console_is_split(f->c));
	assert_false(console_quit_requested(f->c));
	console_key(f->c, 'q');
	assert_true(console_quit_requested(f->c));
}

static void
test_redraw_only_when_changed(void **state)
{
	struct fixture *f = *state;
	struct canvas *cv = canvas_mem_new(80, 24, 0);

	console_resize(f->c, 80, 24);
	assert_true(console_update(f->c, NOW_MS));
	console_draw_all(f->c, cv);
	/* nothing changed: nothing to draw */
	assert_false(console_update(f->c, NOW_MS));
	/* a publish makes the pane dirty, not the tab strip */
	store_publish(f->store, STORE_TOPIC_HEALTH, &f->snap, NULL);
	assert_true(console_update(f->c, NOW_MS));
	assert_true(console_region_dirty(f->c, CONSOLE_REGION_MAIN));
	assert_false(console_region_dirty(f->c, CONSOLE_REGION_TABS));
	console_draw_all(f->c, cv);
	/* a source state change redraws the status bar only */
	store_source_set(f->store, "health", STORE_STATE_STALE, "late");
	assert_true(console_update(f->c, NOW_MS));
	assert_true(console_region_dirty(f->c, CONSOLE_REGION_STATUS));
	assert_false(console_region_dirty(f->c, CONSOLE_REGION_MAIN));
	canvas_mem_free(&cv);
}

static void
test_resize_changes_layout(void **state)
{
	struct fixture *f = *state;
	uint64_t g;

	console_resize(f->c, 80, 24);
	g = console_layout_generation(f->c);
	console_resize(f->c, 80, 24);
	assert_int_equal(console_layout_generation(f->c), g);
	console_resize(f->c, 200, 50);
	assert_true(console_layout_generation(f->c) != g);
	assert_int_equal(console_region(f->c, CONSOLE_REGION_DETAIL)->w, 89);
	assert_int_equal(console_region(f->c, CONSOLE_REGION_STATUS)->y, 48);
}


/* --- confirmation dialogs and gated actions ------------------------------- */

static const char dialog_yml[] =
    "project: acme\n"
    "environment: production\n"
    "environments:\n"
    "  production: { protected: true }\n"
    "  staging: {}\n";

struct outcome {
	int calls;
	enum console_outcome outcome;
	char why[512];
	char reason[256];
	int redeemed;
};

/* A console over a config, a policy and an audit file of its own; what the
 * pane asked comes back in f->out. */
struct dialog_fixture {
	char dir[64];
	char path[128];
	struct audit *audit;
	struct policy *policy;
	struct outcome out;
};

static struct dialog_fixture df;

static void
dialog_console(struct fixture *f, int read_only, int guard_ms, const char *audit_path)
{
	struct console_opts co;
	struct policy_opts po;
	struct err e;

	memset(&df, 0, sizeof df);
	snprintf(df.dir, sizeof df.dir, "/tmp/sb-console-XXXXXX");
	assert_non_null(mkdtemp(df.dir));
	snprintf(df.path, sizeof df.path, "%s/audit.jsonl", df.dir);
	assert_int_equal(config_load_string(&f->cfg, dialog_yml, strlen(dialog_yml),
	    "t.yml", &e), 0);
	df.audit = audit_open(audit_path != NULL ? audit_path : df.path, 0);
	memset(&po, 0, sizeof po);
	po.cfg = &f->cfg;
	po.read_only = read_only;
	po.audit = df.audit;
	po.operator_name = "alice";
	df.policy = policy_new(&po);
	console_free(&f->c);
	memset(&co, 0, sizeof co);
	co.cfg = &f->cfg;
	co.store = f->store;
	co.keymap = f->km;
	co.host = &f->host;
	co.operator_name = "alice@10.0.0.7";
	co.read_only = read_only;
	co.policy = df.policy;
	co.dialog_guard_ms = guard_ms;
	f->c = console_new(&co, &e);
	assert_non_null(f->c);
}

static void
dialog_done(struct fixture *f)
{
	char cmd[128];

	console_free(&f->c);
	policy_free(&df.policy);
	audit_free(&df.audit);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", df.dir);
	assert_int_equal(system(cmd), 0);
}

/* What a pane does with the outcome: present the ticket, then "call the
 * provider" and report. */
static void
on_outcome(void *ud, const struct console_request_result *r)
{
	struct outcome *o = ud;
	struct err e;

	o->calls++;
	o->outcome = r->outcome;
	snprintf(o->why, sizeof o->why, "%s", r->why != NULL ? r->why : "");
	snprintf(o->reason, sizeof o->reason, "%s", r->reason != NULL ? r->reason : "");
	if (r->outcome == CONSOLE_ALLOWED && r->ticket != NULL) {
		o->redeemed = policy_redeem(r->policy, r->ticket, r->req, &e) == 0;
		policy_done(r->policy, r->ticket, 1, NULL, NULL);
	}
}

static void
scale_req(struct policy_req *r, const char *env, int from, int to)
{
	memset(r, 0, sizeof *r);
	r->action = ACTION_SCALE;
	r->env = env;
	r->target = "api";
	r->region = "us-west2";
	r->from = from;
	r->to = to;
}

static void
type_text(struct fixture *f, const char *s)
{
	while (*s != '\0')
		console_key(f->c, (uint32_t)(unsigned char)*s++);
}

static char *
audit_text(void)
{
	FILE *fp = fopen(df.path, "r");
	char *buf = calloc(1, 65536);

	if (fp != NULL) {
		size_t n = fread(buf, 1, 65535, fp);

		buf[n] = '\0';
		fclose(fp);
	}
	return buf;
}

static void
test_dialog_golden_typed_80x24(void **state)
{
	struct fixture *f = *state;
	struct canvas *cv;
	struct policy_req r;
	int y, x;
	enum console_region_kind k;
	char *s;

	dialog_console(f, 0, -1, NULL);
	free(render(f, 80, 24));
	scale_req(&r, NULL, 2, 30);
	console_request(f->c, &r, on_outcome, &df.out);
	assert_true(console_dialog_is_open(f->c));
	assert_int_equal(df.out.calls, 0);
	type_text(f, "produc");
	s = render(f, 80, 24);
	assert_int_equal(golden_check("dialog/typed-80x24", s), 0);
	free(s);
	/* the cursor is in the field, after what was typed */
	assert_int_equal(console_cursor_in(f->c, &k, &y, &x), 0);
	assert_int_equal(k, CONSOLE_REGION_DIALOG);
	assert_int_equal(x, 3 + 6);
	cv = canvas_mem_new(80, 24, 1);
	console_invalidate(f->c);
	console_update(f->c, NOW_MS);
	console_draw_all(f->c, cv);
	s = canvas_mem_dump(cv);
	assert_int_equal(golden_check("dialog/typed-80x24-ascii", s), 0);
	free(s);
	canvas_mem_free(&cv);
	console_key(f->c, KEYC_ESC);
	assert_int_equal(df.out.calls, 1);
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	assert_false(console_dialog_is_open(f->c));
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "scale cancelled: nothing was changed"));
	assert_null(strstr(s, "Type production"));
	free(s);
	dialog_done(f);
}

static void
test_dialog_golden_confirm_200x50(void **state)
{
	struct fixture *f = *state;
	static const char *const undone[] = {
		"undoing v3 (3f2a1c, deployed 20m ago by bob)",
		"undoing v2 (9e8d7c, deployed 2h ago by carol)",
	};
	struct policy_req r;
	char *s;

	dialog_console(f, 0, -1, NULL);
	free(render(f, 200, 50));
	memset(&r, 0, sizeof r);
	r.action = ACTION_ROLLBACK;
	r.env = "staging";
	r.target = "api";
	r.deployment = "77aa01";
	r.before = "v3 (3f2a1c)";
	r.after = "v1 (77aa01, deployed 3h ago)";
	r.plan = undone;
	r.n_plan = 2;
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, KEYC_TAB);
	s = render(f, 200, 50);
	assert_true(console_is_split(f->c));
	assert_int_equal(golden_check("dialog/confirm-200x50", s), 0);
	free(s);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.outcome, CONSOLE_ALLOWED);
	assert_true(df.out.redeemed);
	dialog_done(f);
}

/* Cancel is the default: Enter on an untouched dialog cancels. */
static void
test_dialog_defaults_to_cancel(void **state)
{
	struct fixture *f = *state;
	struct policy_req r;
	char *a;

	dialog_console(f, 0, -1, NULL);
	free(render(f, 80, 24));
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	/* typed mode too */
	scale_req(&r, "production", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.calls, 2);
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	/* moving to Confirm and back, then Enter: still Cancel */
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, KEYC_RIGHT);
	console_key(f->c, KEYC_LEFT);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	/* keys that mean nothing here do nothing (and do not count as touching) */
	console_request(f->c, &r, on_outcome, &df.out);
	type_text(f, "jkx");
	assert_true(console_dialog_is_open(f->c));
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.calls, 4);
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	/* 'n' and 'q' cancel */
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, 'n');
	assert_int_equal(df.out.calls, 5);
	a = audit_text();
	assert_non_null(strstr(a, "\"result\":\"cancelled\""));
	assert_null(strstr(a, "\"result\":\"allowed\""));
	free(a);
	dialog_done(f);
}

static void
test_dialog_yesno_confirms(void **state)
{
	struct fixture *f = *state;
	struct policy_req r;
	char *s, *a;

	dialog_console(f, 0, -1, NULL);
	free(render(f, 80, 24));
	scale_req(&r, "staging", 2, 5);
	console_request(f->c, &r, on_outcome, &df.out);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "[>Cancel<]  [ Scale ]"));
	assert_non_null(strstr(s, "api: 2 → 5 replicas in us-west2"));
	free(s);
	console_key(f->c, 'y');		/* moves, does not confirm */
	assert_int_equal(df.out.calls, 0);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "[ Cancel ]  [>Scale<]"));
	free(s);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.calls, 1);
	assert_int_equal(df.out.outcome, CONSOLE_ALLOWED);
	assert_true(df.out.redeemed);
	a = audit_text();
	assert_non_null(strstr(a, "\"result\":\"allowed\""));
	assert_non_null(strstr(a, "\"result\":\"ok\""));
	free(a);
	dialog_done(f);
}

/* A protected environment: the name typed exactly and a reason, or
 * Confirm cannot be reached. */
static void
test_dialog_typed(void **state)
{
	struct fixture *f = *state;
	struct policy_req r;
	char *s, *a;

	dialog_console(f, 0, -1, NULL);
	free(render(f, 80, 24));
	scale_req(&r, "production", 2, 4);
	console_request(f->c, &r, on_outcome, &df.out);
	type_text(f, "Production");
	console_key(f->c, KEYC_TAB);		/* to the reason */
	type_text(f, "load test");
	/* Confirm is skipped while the name is wrong: reason -> Cancel -> name */
	console_key(f->c, KEYC_TAB);
	console_key(f->c, KEYC_TAB);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "Type production and a reason to enable Scale"));
	assert_non_null(strstr(s, "[Production_"));
	free(s);
	/* fix the name: backspace over it */
	type_text(f, "\b\b\b\b\b\b\b\b\b\b");
	type_text(f, "production");
	console_key(f->c, KEYC_ENTER);		/* name -> reason */
	console_key(f->c, KEYC_ENTER);		/* reason -> Confirm */
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "[ Cancel ]  [>Scale<]"));
	assert_non_null(strstr(s, "Tab: move  Enter: choose  Esc: cancel"));
	free(s);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.outcome, CONSOLE_ALLOWED);
	assert_string_equal(df.out.reason, "load test");
	assert_true(df.out.redeemed);
	a = audit_text();
	assert_non_null(strstr(a, "\"reason\":\"load test\",\"result\":\"allowed\""));
	free(a);
	/* an empty reason keeps Confirm disabled, and Enter says why */
	console_request(f->c, &r, on_outcome, &df.out);
	type_text(f, "production");
	console_key(f->c, KEYC_ENTER);
	type_text(f, "   ");
	console_key(f->c, KEYC_ENTER);
	assert_true(console_dialog_is_open(f->c));
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "Type production and a reason to enable Scale"));
	free(s);
	/* 'y' is text in a field */
	type_text(f, "y");
	console_key(f->c, KEYC_ENTER);
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.outcome, CONSOLE_ALLOWED);
	assert_string_equal(df.out.reason, "   y");
	dialog_done(f);
}

/* Scaling to 0: confirmed, then asked again from Cancel. */
static void
test_dialog_twice(void **state)
{
	struct fixture *f = *state;
	struct policy_req r;
	char *s;

	dialog_console(f, 0, -1, NULL);
	free(render(f, 80, 24));
	scale_req(&r, "staging", 3, 0);
	console_request(f->c, &r, on_outcome, &df.out);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "! api will have no replica in us-west2"));
	free(s);
	console_key(f->c, 'y');
	console_key(f->c, KEYC_ENTER);
	assert_int_equal(df.out.calls, 0);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "Really scale api to 0 in us-west2?"));
	assert_non_null(strstr(s, "[>Cancel<]"));
	free(s);
	console_key(f->c, KEYC_ENTER);		/* untouched second dialog: Cancel */
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, KEYC_TAB);
	console_key(f->c, KEYC_ENTER);
	console_key(f->c, 'l');
	console_key(f->c, ' ');
	assert_int_equal(df.out.outcome, CONSOLE_ALLOWED);
	assert_true(df.out.redeemed);
	dialog_done(f);
}

static void
test_request_refusals(void **state)
{
	struct fixture *f = *state;
	struct policy_req r;
	char path[128], *s, *a;
	FILE *fp;

	/* read-only: refused in words, no dialog, audited */
	dialog_console(f, 1, -1, NULL);
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	assert_false(console_dialog_is_open(f->c));
	assert_int_equal(df.out.outcome, CONSOLE_REFUSED);
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "scale refused: read-only mode (--read-only): scale "
	    "changes production"));
	assert_non_null(strstr(s, "READ-ONLY"));
	free(s);
	a = audit_text();
	assert_non_null(strstr(a, "\"result\":\"refused\""));
	free(a);
	/* reveal is not a change: read-only does not refuse it */
	memset(&r, 0, sizeof r);
	r.action = ACTION_VAR_REVEAL;
	r.env = "staging";
	r.target = "api";
	r.var = "DATABASE_URL";
	console_request(f->c, &r, on_outcome, &df.out);
	assert_int_equal(df.out.outcome, CONSOLE_ALLOWED);
	assert_true(df.out.redeemed);
	assert_false(console_dialog_is_open(f->c));
	dialog_done(f);

	/* an audit log that cannot be written: refused before any dialog */
	snprintf(path, sizeof path, "/tmp/sb-console-file-%d", (int)getpid());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	strcat(path, "/audit.jsonl");
	dialog_console(f, 0, -1, path);
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	assert_false(console_dialog_is_open(f->c));
	assert_int_equal(df.out.outcome, CONSOLE_REFUSED);
	assert_non_null(strstr(df.out.why, "cannot write the audit log"));
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "scale refused: cannot write the audit log"));
	free(s);
	dialog_done(f);
	path[strlen(path) - strlen("/audit.jsonl")] = '\0';
	unlink(path);

	/* one confirmation at a time */
	dialog_console(f, 0, -1, NULL);
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	console_request(f->c, &r, on_outcome, &df.out);
	assert_int_equal(df.out.calls, 1);
	assert_int_equal(df.out.outcome, CONSOLE_REFUSED);
	assert_non_null(strstr(df.out.why, "another confirmation is open"));
	/* quitting with a dialog open cancels it, audited */
	dialog_done(f);
	assert_int_equal(df.out.calls, 2);
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
}

/* Keys typed before the dialog could be read are not an answer. */
static void
test_dialog_typeahead(void **state)
{
	struct fixture *f = *state;
	struct policy_req r;

	dialog_console(f, 0, 60000, NULL);
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	console_key(f->c, 'y');
	console_key(f->c, KEYC_ENTER);
	assert_true(console_dialog_is_open(f->c));
	assert_int_equal(df.out.calls, 0);
	console_key(f->c, KEYC_ESC);		/* Esc always works */
	assert_int_equal(df.out.outcome, CONSOLE_CANCELLED);
	dialog_done(f);
}

/* The dialog is drawn again whenever a pane under it is. */
static void
test_dialog_over_live_panes(void **state)
{
	struct fixture *f = *state;
	struct canvas *cv = canvas_mem_new(80, 24, 0);
	struct policy_req r;

	dialog_console(f, 0, -1, NULL);
	console_resize(f->c, 80, 24);
	scale_req(&r, "staging", 2, 3);
	console_request(f->c, &r, on_outcome, &df.out);
	console_update(f->c, NOW_MS);
	console_draw_all(f->c, cv);
	assert_false(console_update(f->c, NOW_MS));
	assert_true(console_region(f->c, CONSOLE_REGION_DIALOG)->h > 0);
	store_publish(f->store, STORE_TOPIC_HEALTH, &f->snap, NULL);
	assert_true(console_update(f->c, NOW_MS));
	assert_false(console_region_dirty(f->c, CONSOLE_REGION_DIALOG));
	{
		struct canvas *sub;
		const struct console_region *m = console_region(f->c, CONSOLE_REGION_MAIN);

		sub = canvas_sub_new(cv, m->y, m->x, m->h, m->w);
		console_draw_region(f->c, CONSOLE_REGION_MAIN, sub);
		canvas_sub_free(&sub);
	}
	assert_true(console_region_dirty(f->c, CONSOLE_REGION_DIALOG));
	console_key(f->c, KEYC_ESC);
	assert_int_equal(console_region(f->c, CONSOLE_REGION_DIALOG)->h, 0);
	canvas_mem_free(&cv);
	dialog_done(f);
}

/* The value of :var-set is masked as typed and never kept in history. */
static void
test_secret_on_the_command_line(void **state)
{
	struct fixture *f = *state;
	char *s;

	free(render(f, 80, 24));
	console_key(f->c, ':');
	type_text(f, "set TOKEN hunter2 x");
	s = render(f, 80, 24);
	assert_non_null(strstr(s, ":set TOKEN *********"));
	assert_null(strstr(s, "hunter2"));
	free(s);
	console_key(f->c, KEYC_ENTER);
	s = render(f, 80, 24);
	assert_null(strstr(s, "hunter2"));
	free(s);
	console_key(f->c, ':');
	console_key(f->c, KEYC_UP);
	s = render(f, 80, 24);
	assert_null(strstr(s, "TOKEN"));
	free(s);
	console_key(f->c, KEYC_ESC);
}

/* A pane's action named on the ':' line reaches that pane, whichever is
 * shown; one whose pane is not there says so. */
static void
test_commands_for_other_panes(void **state)
{
	struct fixture *f = *state;
	char *s;

	free(render(f, 80, 24));
	console_key(f->c, '?');
	assert_string_equal(console_active(f->c)->ops->name, "help");
	console_command(f->c, "check-now api");
	s = render(f, 80, 24);
	assert_null(strstr(s, "does nothing"));
	free(s);
	assert_string_equal(console_active(f->c)->ops->name, "help");
	/* no provider in this config: no replicas pane */
	console_command(f->c, "scale api 3");
	s = render(f, 80, 24);
	assert_non_null(strstr(s, "'scale' needs the replicas pane, which is not "
	    "configured"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_golden_80x24, setup, teardown),
		cmocka_unit_test_setup_teardown(test_golden_200x50_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_golden_detail_80x24, setup, teardown),
		cmocka_unit_test_setup_teardown(test_golden_ascii_and_tiny, setup, teardown),
		cmocka_unit_test_setup_teardown(test_navigation_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panes_and_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redraw_only_when_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_changes_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_golden_typed_80x24, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_golden_confirm_200x50, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dialog_defaults_to_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_yesno_confirms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_typeahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_over_live_panes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_on_the_command_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_commands_for_other_panes, setup, teardown),
	};

	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
