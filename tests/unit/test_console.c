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

#include "golden.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/health.h"
#include "signalbox/keymap.h"
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
	assert_non_null(strstr(s, "[health] Check the selected endpoint now"));
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
	};

	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
