/* test_logs_pane.c - the logs pane on the in-memory canvas, fed through
 * the real parser and ring: golden screens at 80x24 and 200x50, follow and
 * pause with the count of new lines, the filter (hidden lines, highlight,
 * a bad expression in words), context around matches and n / N, e / E and
 * w / W, :goto, :save, hostile bytes, drops in a small ring, and Railway
 * lines through the feed's logfmt rendering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "golden.h"
#include "signalbox/canvas.h"
#include "signalbox/logfeed.h"
#include "signalbox/logparse.h"
#include "signalbox/logring.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

/* 2026-11-23 10:00:00 UTC */
#define NOW_MS 1795428000000LL

struct fixture {
	struct store *store;
	struct logring *ring;
	struct logparse *api, *worker;
	struct view_host host;
	char message[300];
};

static void
emit(const struct log_line *line, void *ud)
{
	logring_append(ud, line);
}

static void
host_message(void *ud, int is_error, const char *text)
{
	struct fixture *f = ud;

	(void)is_error;
	snprintf(f->message, sizeof f->message, "%s", text);
}

static void
feed(struct fixture *f, struct logparse *p, const char *text)
{
	logparse_feed(p, text, strlen(text), NOW_MS);
	logparse_flush(p, NOW_MS);
	store_logs_appended(f->store);
}

/* 40 lines of two services: info, a few warnings and errors, JSON and
 * logfmt and plain. */
static void
feed_sample(struct fixture *f)
{
	char line[256];

	for (int i = 0; i < 40; i++) {
		int s = i % 60;

		if (i % 2 == 0)
			snprintf(line, sizeof line, "{\"time\":\"2026-11-23T09:%02d:%02d.%03dZ\","
			    "\"level\":\"%s\",\"msg\":\"request %d %s\",\"route\":\"/orders\","
			    "\"status\":%d}\n", 20 + i / 60, s, i, i % 10 == 4 ? "error" :
			    i % 10 == 8 ? "warn" : "info", i, i % 10 == 4 ? "timeout upstream" :
			    "done", i % 10 == 4 ? 504 : 200);
		else
			snprintf(line, sizeof line, "time=2026-11-23T09:%02d:%02d.%03dZ level=%s "
			    "msg=\"job %d\" queue=orders attempt=%d\n", 20 + i / 60, s, i,
			    i % 10 == 7 ? "warn" : "info", i, i % 3);
		feed(f, i % 2 == 0 ? f->api : f->worker, line);
	}
}

static int
setup_size(void **state, size_t budget)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct logparse_opts o;

	setenv("TZ", "UTC", 1);
	tzset();
	f->store = store_new();
	f->ring = logring_new(budget);
	store_logs_set(f->store, f->ring);
	memset(&o, 0, sizeof o);
	o.join = 1;
	o.source = logring_source_add(f->ring, "api");
	f->api = logparse_new(&o, emit, f->ring);
	o.source = logring_source_add(f->ring, "worker");
	f->worker = logparse_new(&o, emit, f->ring);
	store_source_set(f->store, LOGFEED_SOURCE, STORE_STATE_OK, NULL);
	f->host.ud = f;
	f->host.message = host_message;
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_size(state, 1 << 20);
}

static int
setup_small(void **state)
{
	return setup_size(state, LOGRING_MIN_MEMORY);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	logparse_free(&f->api);
	logparse_free(&f->worker);
	store_free(&f->store);	/* frees the ring */
	free(f);
	return 0;
}

static struct view *
pane(struct fixture *f)
{
	struct view *v = view_new(&logs_view_ops, &f->host, NULL);

	assert_non_null(v);
	return v;
}

static char *
render(struct fixture *f, struct view *v, int w, int h, int detail)
{
	struct canvas *cv = canvas_mem_new(w, h, 0);
	char *out;

	v->now_ms = NOW_MS;
	v->ops->update(v, f->store);
	v->ops->draw(v, cv);
	if (detail)
		v->ops->draw_detail(v, cv);
	out = canvas_mem_dump(cv);
	canvas_mem_free(&cv);
	return out;
}

#define assert_in(s, needle) assert_in_at(s, needle, 1, __FILE__, __LINE__)
#define assert_not_in(s, needle) assert_in_at(s, needle, 0, __FILE__, __LINE__)

static void
assert_in_at(const char *s, const char *needle, int want, const char *file, int line)
{
	if ((strstr(s, needle) != NULL) == want)
		return;
	fprintf(stderr, "%s:%d: '%s' %s in:\n%s\n", file, line, needle,
	    want ? "not" : "unexpectedly", s);
	fail();
}

static void
press(struct view *v, enum action a, const char *arg)
{
	struct key_event ev = { 0, arg };

	assert_int_equal(v->ops->key(v, a, &ev), 1);
}

/* The line of the screen holding the selection bar (STYLE_SELECTED at
 * column 0), or -1. */
static int
selected_row(struct fixture *f, struct view *v, int w, int h, char *text, size_t len)
{
	struct canvas *cv = canvas_mem_new(w, h, 0);
	int row = -1;

	v->now_ms = NOW_MS;
	v->ops->update(v, f->store);
	v->ops->draw(v, cv);
	for (int y = 0; y < h; y++) {
		if (canvas_mem_style(cv, y, 0) == STYLE_SELECTED) {
			row = y;
			snprintf(text, len, "%s", canvas_mem_row(cv, y));
			break;
		}
	}
	canvas_mem_free(&cv);
	return row;
}

/* --- tests ------------------------------------------------------------------ */

static void
test_golden_follow(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char *s;

	feed_sample(f);
	s = render(f, v, 80, 24, 0);
	assert_int_equal(golden_check("logs/follow-80x24", s), 0);
	assert_null(strchr(s, '\033'));
	/* following: the newest line is on the last row */
	assert_in(s, "job 39");
	assert_not_in(s, "request 0 ");
	free(s);
	s = render(f, v, 200, 50, 0);
	assert_int_equal(golden_check("logs/follow-200x50", s), 0);
	free(s);
	view_free(&v);
}

static void
test_pause_counts_new_lines(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char *s, sel[256];

	feed_sample(f);
	free(render(f, v, 100, 20, 0));
	press(v, ACTION_MOVE_UP, NULL);
	assert_true(selected_row(f, v, 100, 20, sel, sizeof sel) > 0);
	assert_in(sel, "request 38");
	feed(f, f->api, "{\"level\":\"info\",\"msg\":\"late one\"}\n");
	feed(f, f->api, "{\"level\":\"info\",\"msg\":\"late two\"}\n");
	s = render(f, v, 100, 20, 0);
	assert_in(s, "paused: 2 new lines (F follows)");
	assert_not_in(s, "late two");	/* the view stays where the operator is */
	free(s);
	press(v, ACTION_LOG_FOLLOW, NULL);
	s = render(f, v, 100, 20, 0);
	assert_in(s, "late two");
	assert_not_in(s, "paused");
	free(s);
	view_free(&v);
}

static void
test_filter(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	struct canvas *cv;
	char *s;
	int found = 0;

	feed_sample(f);
	snprintf(v->filter, sizeof v->filter, "@level:error");
	s = render(f, v, 120, 30, 0);
	assert_in(s, "/@level:error: 4");
	assert_in(s, "request 4 timeout upstream");
	assert_in(s, "request 34 timeout upstream");
	assert_not_in(s, "job 1 ");
	assert_not_in(s, "done");
	free(s);

	/* a plain term is highlighted where it matches */
	snprintf(v->filter, sizeof v->filter, "timeout");
	cv = canvas_mem_new(120, 30, 0);
	v->ops->update(v, f->store);
	v->ops->draw(v, cv);
	for (int y = 2; y < 30 && !found; y++) {
		const char *row = canvas_mem_row(cv, y), *at = strstr(row, "timeout");

		if (at != NULL) {
			/* columns = characters here (the row is ASCII up to it) */
			assert_int_equal(canvas_mem_style(cv, y, (int)(at - row)), STYLE_MATCH);
			found = 1;
		}
	}
	assert_true(found);
	canvas_mem_free(&cv);

	/* a bad expression is said in words; nothing is hidden by it */
	snprintf(v->filter, sizeof v->filter, "\"unclosed");
	s = render(f, v, 120, 30, 0);
	assert_in(s, "filter:1:");
	assert_in(s, "job 39");
	free(s);
	view_free(&v);
}

static void
test_levels_and_matches(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char sel[256];

	feed_sample(f);
	free(render(f, v, 100, 50, 0));
	press(v, ACTION_MOVE_TOP, NULL);
	press(v, ACTION_LOG_NEXT_ERROR, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 4 timeout");
	press(v, ACTION_LOG_NEXT_ERROR, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 14 timeout");
	press(v, ACTION_LOG_PREV_ERROR, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 4 timeout");
	press(v, ACTION_LOG_NEXT_WARNING, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "job 7");
	press(v, ACTION_LOG_NEXT_WARNING, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 8 done");

	/* context: the lines around each match, n / N between matches */
	snprintf(v->filter, sizeof v->filter, "timeout");
	free(render(f, v, 100, 50, 0));
	press(v, ACTION_LOG_CONTEXT, NULL);
	{
		char *s = render(f, v, 100, 50, 0);

		assert_in(s, "(context)");
		assert_in(s, "job 3 ");	/* a neighbour of request 4 */
		assert_in(s, "request 6 done");
		assert_not_in(s, "job 9 ");	/* more than 3 lines from any match */
		free(s);
	}
	press(v, ACTION_MOVE_TOP, NULL);
	press(v, ACTION_LOG_NEXT_MATCH, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 4 timeout");
	press(v, ACTION_LOG_NEXT_MATCH, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 14 timeout");
	press(v, ACTION_LOG_PREV_MATCH, NULL);
	selected_row(f, v, 100, 50, sel, sizeof sel);
	assert_in(sel, "request 4 timeout");
	view_free(&v);
}

static void
test_goto_and_save(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char sel[256], path[] = "/tmp/signalbox-logs-test-XXXXXX", buf[8192];
	FILE *in;
	size_t n;
	int fd;

	feed_sample(f);
	free(render(f, v, 100, 20, 0));
	press(v, ACTION_LOG_GOTO, "09:20:30");
	selected_row(f, v, 100, 20, sel, sizeof sel);
	assert_in(sel, "request 30");
	press(v, ACTION_LOG_GOTO, "half past");
	{
		char *s = render(f, v, 100, 20, 0);

		assert_in(s, "cannot read the time");
		free(s);
	}

	/* :save writes what is shown (the filter applies) and never overwrites */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(v->filter, sizeof v->filter, "@level:error");
	free(render(f, v, 100, 20, 0));
	press(v, ACTION_LOG_SAVE, path);
	assert_in(f->message, "saved 4 lines");
	in = fopen(path, "r");
	assert_non_null(in);
	n = fread(buf, 1, sizeof buf - 1, in);
	buf[n] = '\0';
	fclose(in);
	assert_in(buf, "2026-11-23T09:20:04.004Z error");
	assert_not_in(buf, "job");
	press(v, ACTION_LOG_SAVE, path);
	assert_in(f->message, "never overwritten");
	unlink(path);
	view_free(&v);
}

static void
test_hostile(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char *s;

	feed(f, f->api, "ERROR \033[2J\033]52;c;cm0gLXJmIC8=\007 title \033]0;pwned\007 bell\a nul\x01 "
	    "bad \xff\xfe utf8\n");
	feed(f, f->api, "{\"level\":\"warn\",\"msg\":\"\\u001b[31mred\\u001b[0m\"}\n");
	s = render(f, v, 120, 10, 0);
	assert_null(strchr(s, '\033'));
	assert_null(strchr(s, '\a'));
	assert_in(s, "title");
	free(s);
	press(v, ACTION_MOVE_UP, NULL);	/* the first line, in full in the detail */
	s = render(f, v, 120, 10, 1);
	assert_null(strchr(s, '\033'));
	assert_null(strchr(s, '\a'));
	assert_in(s, "pwned");
	free(s);
	view_free(&v);
}

static void
test_drops_said(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char line[600];
	char *s;

	memset(line, 'x', sizeof line);
	for (int i = 0; i < 400; i++) {
		snprintf(line, sizeof line, "INFO line %d %.*s\n", i, 480, "padding padding padding "
		    "padding padding padding padding padding padding padding padding padding "
		    "padding padding padding padding padding padding padding padding padding");
		feed(f, f->api, line);
	}
	s = render(f, v, 120, 10, 0);
	assert_in(s, "dropped (logs.max_memory)");
	assert_in(s, "line 399");
	free(s);
	view_free(&v);
}

static void
test_stale_source_said(void **state)
{
	struct fixture *f = *state;
	struct view *v = pane(f);
	char *s;

	feed_sample(f);
	store_source_set(f->store, LOGFEED_SOURCE, STORE_STATE_STALE,
	    "Railway logs reconnecting: closed without a close frame");
	s = render(f, v, 160, 10, 0);
	assert_in(s, "Railway logs reconnecting: closed");
	free(s);
	view_free(&v);
}

/* Railway's structured lines as the feed writes them: the message first,
 * the attributes after it, the level from the severity. */
static void
test_railway_lines(void **state)
{
	struct fixture *f = *state;
	struct logfeed *feed_ = NULL;
	struct railway_log_attr attrs[] = { { "route", "\"/orders\"" }, { "httpStatus", "502" },
	    { "level", "\"error\"" } };
	struct railway_log l = {
		.ts_ms = NOW_MS - 1000, .timestamp = "2026-11-23T09:59:59.000000123Z",
		.severity = "error", .message = "upstream \"billing\" failed\nretrying",
		.service_id = "svc-1", .service_name = "api", .deployment_id = "dep-1",
		.replica_id = "r-1", .attrs = attrs, .n_attrs = 3,
	};
	uv_loop_t loop;
	struct view *v;
	char *s;

	uv_loop_init(&loop);
	feed_ = logfeed_new(&loop, f->store, NULL);	/* replaces the ring */
	logfeed_railway_line(feed_, &l);
	uv_run(&loop, UV_RUN_NOWAIT);	/* the batch is announced from the loop */
	v = pane(f);
	snprintf(v->filter, sizeof v->filter, "@httpStatus:>=500 @level:error");
	s = render(f, v, 160, 8, 0);
	assert_in(s, "/@httpStatus:>=500 @level:error: 1");
	assert_in(s, "error api");
	assert_in(s, "upstream \\\"billing\\\" failed\\nretrying  route=/orders  httpStatus=502");
	free(s);
	view_free(&v);
	logfeed_free(&feed_);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	f->ring = NULL;
}

/* logs.ansi_colors: keep: a line's own colours are drawn with the theme's
 * roles, and no escape byte reaches the screen. */
static void
test_sgr_through_theme(void **state)
{
	struct fixture *f = *state;
	struct logparse_opts o;
	struct logparse *p;
	struct canvas *cv;
	struct view *v = pane(f);
	int y, x_red = -1, x_plain = -1;
	const char *row;
	char *s;

	memset(&o, 0, sizeof o);
	o.keep_sgr = 1;
	o.source = logring_source_add(f->ring, "sgr");
	p = logparse_new(&o, emit, f->ring);
	feed(f, p, "INFO \033[31mred part\033[0m plain part \033[2Jclear\n");
	logparse_free(&p);
	cv = canvas_mem_new(120, 6, 0);
	v->now_ms = NOW_MS;
	v->ops->update(v, f->store);
	v->ops->draw(v, cv);
	s = canvas_mem_dump(cv);
	assert_null(strchr(s, '\033'));
	assert_in(s, "red part plain part");
	free(s);
	for (y = 2; y < 6; y++) {
		row = canvas_mem_row(cv, y);
		if (strstr(row, "red part") != NULL) {
			x_red = (int)(strstr(row, "red part") - row);
			x_plain = (int)(strstr(row, "plain part") - row);
			break;
		}
	}
	assert_true(x_red > 0);
	assert_int_equal(canvas_mem_style(cv, y, x_red), STYLE_LOG_ERROR);
	assert_int_equal(canvas_mem_style(cv, y, x_plain), STYLE_DEFAULT);
	canvas_mem_free(&cv);
	view_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_golden_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_counts_new_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels_and_matches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_goto_and_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_said, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_stale_source_said, setup, teardown),
		cmocka_unit_test_setup_teardown(test_railway_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgr_through_theme, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
