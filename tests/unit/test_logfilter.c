/* test_logfilter.c - the filter language: every construct, compile
 * errors, regex, highlights, and incremental scans over the ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/err.h"
#include "signalbox/logfilter.h"
#include "signalbox/logparse.h"
#include "signalbox/logring.h"

/* Parse TEXT (one line) as the ring would get it and match EXPR. */
struct one {
	struct log_line l;
	char text[1024];
};

static void
keep(const struct log_line *l, void *ud)
{
	struct one *o = ud;

	o->l = *l;
	memcpy(o->text, l->text, l->len);
	o->l.text = o->text;
}

static struct log_line
line_of(struct one *o, const char *text)
{
	struct logparse *p = logparse_new(NULL, keep, o);

	logparse_feed(p, text, strlen(text), 1000);
	logparse_flush(p, 1000);
	logparse_free(&p);
	return o->l;
}

static int
m(const char *expr, const char *text)
{
	struct err e;
	struct logfilter *f = logfilter_compile(expr, &e);
	struct one o;
	struct log_line l;
	int r;

	if (f == NULL)
		fail_msg("compile '%s': %s", expr, e.msg);
	l = line_of(&o, text);
	r = logfilter_match(f, &l);
	logfilter_free(&f);
	return r;
}

static const char *
compile_error(const char *expr)
{
	static struct err e;
	struct logfilter *f;

	memset(&e, 0, sizeof e);
	f = logfilter_compile(expr, &e);
	if (f != NULL) {
		logfilter_free(&f);
		return NULL;
	}
	return e.msg;
}

static void
test_terms(void **state)
{
	(void)state;
	assert_true(m("", "anything"));
	assert_true(m("   ", "anything"));
	assert_true(m("timeout", "upstream TIMEOUT after 3s"));
	assert_true(m("TimeOut", "upstream timeout"));
	assert_false(m("timeout", "upstream time out"));
	assert_true(m("a", "a"));
	assert_false(m("ab", "a"));
	assert_true(m("\"upstream failed\"", "the Upstream Failed hard"));
	assert_false(m("\"upstream failed\"", "upstream has failed"));
	assert_true(m("\"say \\\"hi\\\"\"", "they say \"HI\" loudly"));
	assert_true(m("héllo", "x HÉLLO? no: héllo"));	/* ASCII folding only */
	assert_false(m("héllo", "HÉLLO"));
	/* long haystacks exercise the 16-byte steps and the tail */
	assert_true(m("needle", "0123456789abcdef0123456789abcdef0123456789NEEDLE"));
	assert_true(m("needle", "0123456789abcdef0123456789abcdef0123456789abcdeNEEDLE"));
	assert_true(m("nEEdle", "needle0123456789abcdef0123456789abcdef0123456789abcde"));
	assert_false(m("needle", "0123456789abcdef0123456789abcdef0123456789abcdeneedl"));
	assert_true(m("x-y", "a x-y b"));
	assert_true(m("and", "this and that"));	/* lower-case and is a term */
}

static void
test_boolean(void **state)
{
	(void)state;
	assert_true(m("db timeout", "db: timeout"));
	assert_false(m("db timeout", "db: ok"));
	assert_true(m("db AND timeout", "timeout in db"));
	assert_true(m("db OR cache", "cache miss"));
	assert_false(m("db OR cache", "web"));
	assert_true(m("-health", "GET /api"));
	assert_false(m("-health", "GET /health"));
	assert_false(m("NOT health", "GET /health"));
	assert_true(m("-\"a b\"", "a  b"));
	/* AND binds tighter than OR */
	assert_true(m("a b OR c", "c"));
	assert_false(m("a b OR c", "a"));
	assert_true(m("a (b OR c)", "a c"));
	assert_false(m("a (b OR c)", "c"));
	assert_true(m("-(b OR c) a", "a"));
	assert_false(m("-(b OR c) a", "a b"));
	assert_true(m("((a))", "a"));
	assert_true(m("a OR b OR c", "b"));
	assert_true(m("--a", "a"));
}

static void
test_level(void **state)
{
	const char *err = "{\"level\":50,\"msg\":\"x\"}";
	const char *warn = "2024-06-12T10:42:00Z WARN y";
	const char *fatal = "FATAL z";

	(void)state;
	assert_true(m("@level:error", err));
	assert_false(m("@level:error", warn));
	assert_false(m("@level:error", fatal));	/* exact, like Railway */
	assert_true(m("@level:ERR", err));
	assert_true(m("@level:warning", warn));
	assert_true(m("@level:>=warn", warn));
	assert_true(m("@level:>=warn", err));
	assert_true(m("@level:>=warn", fatal));
	assert_false(m("@level:>=warn", "INFO q"));
	assert_true(m("@level:<warn", "INFO q"));
	assert_true(m("@level:>error", fatal));
	assert_true(m("@level:<=info", "INFO q"));
	assert_true(m("@level:none", "no level here"));
	assert_true(m("-@level:info @level:>=warn x", err));
}

static void
test_fields(void **state)
{
	const char *j = "{\"level\":\"info\",\"status\":503,\"req\":{\"method\":\"GET\"},"
	    "\"user\":\"Ann Lee\",\"msg\":\"done\"}";
	const char *lf = "level=info status=404 path=/x user=\"bob b\" msg=ok";

	(void)state;
	assert_true(m("@status:503", j));
	assert_false(m("@status:50", j));
	assert_true(m("@status:>=500", j));
	assert_false(m("@status:<500", j));
	assert_true(m("@req.method:get", j));
	assert_true(m("@user:\"ann lee\"", j));
	assert_true(m("@user:*", j));
	assert_false(m("@nope:*", j));
	assert_true(m("@status:404", lf));
	assert_true(m("@status:>400 @status:<=404", lf));
	assert_true(m("@user:\"bob b\"", lf));
	assert_true(m("@path:/x", lf));
	assert_false(m("@status:404", "plain status=404"));
	assert_false(m("@status:>=500", "{\"status\":\"n/a\"}"));
}

static void
test_regex(void **state)
{
	(void)state;
	assert_true(m("/time(out|d out)/", "request timed out"));
	assert_false(m("/^GET/", "POST GET"));
	assert_true(m("/^get/i", "GET /"));
	assert_false(m("/^get/", "GET /"));
	assert_true(m("/a\\/b/", "x a/b y"));
	assert_true(m("/\\d{3} ms/", "took 250 ms"));
	assert_true(m("/é+/", "caf\xc3\xa9\xc3\xa9"));
	assert_true(m("-/debug/ /x/", "x"));
	assert_true(m("/a/ OR /b/", "b"));
}

static void
test_compile_errors(void **state)
{
	(void)state;
	assert_string_equal(compile_error("foo \"bar"),
	    "filter:1:5: unclosed quote (add a closing \")");
	assert_string_equal(compile_error("(a OR b"),
	    "filter:1:1: unclosed parenthesis (add a ')')");
	assert_string_equal(compile_error("a)"),
	    "filter:1:2: unexpected ')' (remove it or add a '(' before it)");
	assert_string_equal(compile_error("a OR"), "filter:1:3: OR needs a term on each side");
	assert_string_equal(compile_error("OR a"), "filter:1:1: OR needs a term on each side");
	assert_string_equal(compile_error("a AND"), "filter:1:3: AND needs a term on each side");
	assert_string_equal(compile_error("a - b"),
	    "filter:1:3: nothing after '-' (write -term to leave out lines with term)");
	assert_string_equal(compile_error("()"),
	    "filter:1:1: empty parentheses (put a term inside or remove them)");
	assert_string_equal(compile_error("/abc"), "filter:1:1: unclosed regex (add a closing /)");
	assert_string_equal(compile_error("x //"), "filter:1:3: empty regex // (write /pattern/)");
	assert_non_null(strstr(compile_error("/a(b/"), "filter:1:1: bad regex: "));
	assert_string_equal(compile_error("/a/q"),
	    "filter:1:4: unknown regex flag 'q' (i, s and x are known)");
	assert_string_equal(compile_error("@level:loud"),
	    "filter:1:1: unknown level 'loud' (use trace, debug, info, notice, warn, error "
	    "or fatal; @level:>=warn for warn and worse)");
	assert_string_equal(compile_error("@level"),
	    "filter:1:7: expected ':' after @level (write @field:value)");
	assert_string_equal(compile_error("@status:"),
	    "filter:1:9: missing value after @status: (write @status:value)");
	assert_string_equal(compile_error("@:x"),
	    "filter:1:1: '@' needs a field name (write @level:error or @field:value)");
	assert_string_equal(compile_error("\"\""),
	    "filter:1:1: empty phrase \"\" (put words between the quotes)");
	assert_non_null(strstr(compile_error("@status:>=abc"), "is not a number"));
	assert_string_equal(compile_error("-"),
	    "filter:1:1: nothing after '-' (write -term to leave out lines with term)");
	assert_string_equal(compile_error("NOT"), "filter:1:1: nothing to negate after '-' or NOT");
	assert_null(compile_error("a b (c OR -d) @level:error /x/i \"p q\""));
	{
		char deep[1000];

		memset(deep, '(', 500);
		deep[500] = 'a';
		memset(deep + 501, ')', 499);
		deep[999] = '\0';
		assert_non_null(strstr(compile_error(deep), "too deeply nested"));
	}
}

static void
test_highlight(void **state)
{
	struct logfilter_span sp[8];
	struct logfilter *f;
	struct one o;
	struct log_line l;
	size_t n;

	(void)state;
	f = logfilter_compile("db -(debug zzz) (timeout OR /[0-9]+ms/) \"DB down\"", NULL);
	assert_non_null(f);
	l = line_of(&o, "db: timeout 250ms, DB down debug db");
	assert_true(logfilter_match(f, &l));
	n = logfilter_highlight(f, &l, sp, 8);
	/* db@0, timeout@4, 250ms@12, "DB down"@19 (covers db@19), db@33;
	 * debug is negated: not highlighted */
	assert_int_equal(n, 5);
	assert_int_equal(sp[0].off, 0);
	assert_int_equal(sp[0].len, 2);
	assert_int_equal(sp[1].off, 4);
	assert_int_equal(sp[1].len, 7);
	assert_int_equal(sp[2].off, 12);
	assert_int_equal(sp[2].len, 5);
	assert_int_equal(sp[3].off, 19);
	assert_int_equal(sp[3].len, 7);
	assert_int_equal(sp[4].off, 33);
	assert_int_equal(sp[4].len, 2);
	assert_int_equal(logfilter_highlight(f, &l, sp, 2), 5);
	logfilter_free(&f);
	f = logfilter_compile("@level:error", NULL);
	assert_int_equal(logfilter_highlight(f, &l, sp, 8), 0);
	assert_false(logfilter_is_empty(f));
	assert_string_equal(logfilter_expr(f), "@level:error");
	logfilter_free(&f);
	assert_null(f);
	f = logfilter_compile("", NULL);
	assert_true(logfilter_is_empty(f));
	logfilter_free(&f);
}

/* ---- scans over a ring ---- */

static struct logring *
ring_with(size_t n, size_t budget)
{
	struct logring *r = logring_new(budget);
	char text[128];
	size_t i;

	for (i = 0; i < n; i++) {
		struct log_line l;

		memset(&l, 0, sizeof l);
		snprintf(text, sizeof text, "line %zu %s%s", i, i % 7 == 0 ? "timeout " : "",
		    i % 3 == 0 ? "db" : "web");
		l.text = text;
		l.len = (uint32_t)strlen(text);
		l.level = (uint8_t)(i % 10 == 0 ? LOG_LEVEL_ERROR : i % 5 == 0 ? LOG_LEVEL_WARN :
		    LOG_LEVEL_INFO);
		l.ts_ms = (int64_t)i;
		logring_append(r, &l);
	}
	return r;
}

struct seqs {
	uint64_t v[4096];
	size_t n;
};

static int
add_seq(const struct log_line *l, void *ud)
{
	struct seqs *s = ud;

	assert_true(s->n < 4096);
	s->v[s->n++] = l->seq;
	return 0;
}

static void
test_scan_slices_equal_full(void **state)
{
	struct logring *r = ring_with(3000, 0);
	struct logfilter *f = logfilter_compile("timeout OR @level:error", NULL);
	struct logfilter_cursor cur;
	struct seqs full = { .n = 0 }, sliced = { .n = 0 }, back = { .n = 0 };
	size_t i, calls = 0;

	(void)state;
	logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
	assert_int_equal(logfilter_scan(f, r, &cur, SIZE_MAX, add_seq, &full), 1);
	assert_int_equal(cur.scanned, 3000);
	assert_int_equal(cur.matched, full.n);
	for (i = 0; i < full.n; i++)
		assert_true(full.v[i] % 7 == 0 || full.v[i] % 10 == 0);
	assert_int_equal(full.n, 3000 / 7 + 1 + 300 - 3000 / 70 - 1);

	logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
	while (logfilter_scan(f, r, &cur, 37, add_seq, &sliced) == 0)
		calls++;
	assert_true(calls >= 3000 / 37);
	assert_int_equal(sliced.n, full.n);
	assert_memory_equal(sliced.v, full.v, full.n * sizeof full.v[0]);

	/* backward from past the end, in slices: the same set reversed */
	logfilter_cursor_init(&cur, UINT64_MAX, LOGFILTER_BACKWARD);
	while (logfilter_scan(f, r, &cur, 100, add_seq, &back) == 0)
		;
	assert_int_equal(back.n, full.n);
	for (i = 0; i < full.n; i++)
		assert_int_equal(back.v[i], full.v[full.n - 1 - i]);
	assert_int_equal(logfilter_scan(f, r, &cur, 100, add_seq, &back), 1);
	assert_int_equal(back.n, full.n);
	logfilter_free(&f);
	logring_free(&r);
}

/* A finished forward scan picks up lines that arrive later; lines
 * dropped before the scan reached them are counted. */
static void
test_scan_follow_and_drops(void **state)
{
	struct logring *r = logring_new(LOGRING_MIN_MEMORY);
	struct logfilter_cursor cur;
	struct seqs s = { .n = 0 };
	struct log_line l;
	char text[300];
	int i;

	(void)state;
	memset(&l, 0, sizeof l);
	memset(text, 'a', sizeof text);
	l.text = text;
	l.len = sizeof text;
	logring_append(r, &l);
	logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
	assert_int_equal(logfilter_scan(NULL, r, &cur, 10, add_seq, &s), 1);
	assert_int_equal(s.n, 1);
	logring_append(r, &l);
	assert_int_equal(logfilter_scan(NULL, r, &cur, 10, add_seq, &s), 1);
	assert_int_equal(s.n, 2);
	for (i = 0; i < 1000; i++)
		logring_append(r, &l);
	s.n = 0;
	while (logfilter_scan(NULL, r, &cur, 50, add_seq, &s) == 0)
		;
	assert_true(cur.skipped > 0);
	assert_int_equal(cur.skipped + s.n, 1000);
	assert_int_equal(s.v[0], logring_first_seq(r));
	logring_free(&r);
}

static void
test_find_next_prev(void **state)
{
	struct logring *r = ring_with(1000, 0);
	struct logfilter *e = logfilter_compile("@level:>=error", NULL);
	struct logfilter *w = logfilter_compile("@level:warn", NULL);
	struct logfilter *none = logfilter_compile("nothing-matches-this", NULL);
	struct logfilter_cursor cur;
	uint64_t seq = 0;
	int rc;

	(void)state;
	logfilter_cursor_init(&cur, 11, LOGFILTER_FORWARD);
	assert_int_equal(logfilter_find(e, r, &cur, 1000, &seq), 1);
	assert_int_equal(seq, 20);
	assert_int_equal(logfilter_find(e, r, &cur, 1000, &seq), 1);
	assert_int_equal(seq, 30);
	logfilter_cursor_init(&cur, 29, LOGFILTER_BACKWARD);
	assert_int_equal(logfilter_find(e, r, &cur, 1000, &seq), 1);
	assert_int_equal(seq, 20);
	logfilter_cursor_init(&cur, 21, LOGFILTER_FORWARD);
	assert_int_equal(logfilter_find(w, r, &cur, 1000, &seq), 1);
	assert_int_equal(seq, 25);
	logfilter_cursor_init(&cur, 5, LOGFILTER_BACKWARD);
	assert_int_equal(logfilter_find(e, r, &cur, 1000, &seq), 1);
	assert_int_equal(seq, 0);
	assert_int_equal(logfilter_find(e, r, &cur, 1000, &seq), 0);
	/* a budget too small to reach the end: -1, then progress */
	logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
	rc = logfilter_find(none, r, &cur, 300, &seq);
	assert_int_equal(rc, -1);
	assert_int_equal(cur.scanned, 300);
	while ((rc = logfilter_find(none, r, &cur, 300, &seq)) == -1)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(cur.scanned, 1000);
	logfilter_free(&e);
	logfilter_free(&w);
	logfilter_free(&none);
	logring_free(&r);
}

static void
test_source_filter(void **state)
{
	struct logring *r = logring_new(0);
	uint16_t api = logring_source_add(r, "api");
	struct logfilter *f = logfilter_compile("@source:API", NULL);
	struct logfilter_cursor cur;
	struct seqs s = { .n = 0 };
	struct log_line l;
	uint16_t web;

	(void)state;
	memset(&l, 0, sizeof l);
	l.text = "x";
	l.len = 1;
	l.source = api;
	logring_append(r, &l);
	l.source = 0;
	logring_append(r, &l);
	logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
	logfilter_scan(f, r, &cur, 100, add_seq, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0], 0);
	/* a source added later is resolved on the next scan */
	web = logring_source_add(r, "web");
	logfilter_free(&f);
	f = logfilter_compile("@source:web OR @source:api", NULL);
	l.source = web;
	logring_append(r, &l);
	logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
	s.n = 0;
	logfilter_scan(f, r, &cur, 100, add_seq, &s);
	assert_int_equal(s.n, 2);
	logfilter_free(&f);
	logring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terms),
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_highlight),
		cmocka_unit_test(test_scan_slices_equal_full),
		cmocka_unit_test(test_scan_follow_and_drops),
		cmocka_unit_test(test_find_next_prev),
		cmocka_unit_test(test_source_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
