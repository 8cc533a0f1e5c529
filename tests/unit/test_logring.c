/* test_logring.c - the bounded log ring: wrap-around, budget, drops,
 * index consistency, seq and time lookups, sources. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/logring.h"

static struct log_line
mk(const char *text, int64_t ts, uint8_t level, uint16_t source)
{
	struct log_line l;

	memset(&l, 0, sizeof l);
	l.text = text;
	l.len = (uint32_t)strlen(text);
	l.orig_len = l.len;
	l.msg_len = l.len;
	l.ts_ms = ts;
	l.level = level;
	l.source = source;
	return l;
}

static void
test_append_get(void **state)
{
	struct logring *r = logring_new(0);
	struct log_line l = mk("hello world", 1000, LOG_LEVEL_WARN, 0), out;
	struct logring_stats st;

	(void)state;
	assert_int_equal(logring_count(r), 0);
	assert_int_equal(logring_first_seq(r), logring_end_seq(r));
	assert_int_equal(logring_get(r, 0, &out), -1);
	l.msg_off = 6;
	l.msg_len = 5;
	l.flags = LOG_LINE_NO_TS;
	l.format = LOG_FMT_LOGFMT;
	assert_int_equal(logring_append(r, &l), 0);
	assert_int_equal(logring_append(r, &l), 1);
	assert_int_equal(logring_count(r), 2);
	assert_int_equal(logring_get(r, 1, &out), 0);
	assert_int_equal(out.len, 11);
	assert_memory_equal(out.text, "hello world", 11);
	assert_int_equal(out.seq, 1);
	assert_int_equal(out.ts_ms, 1000);
	assert_int_equal(out.level, LOG_LEVEL_WARN);
	assert_int_equal(out.msg_off, 6);
	assert_int_equal(out.msg_len, 5);
	assert_int_equal(out.flags, LOG_LINE_NO_TS);
	assert_int_equal(out.format, LOG_FMT_LOGFMT);
	assert_int_equal(logring_get_seq(r, 0, &out), 0);
	assert_int_equal(out.seq, 0);
	assert_int_equal(logring_get_seq(r, 2, &out), -1);
	logring_stats_get(r, &st);
	assert_int_equal(st.budget, LOGRING_DEFAULT_MEMORY);
	assert_true(st.buffer_bytes + st.index_bytes <= st.budget);
	assert_int_equal(st.by_level[LOG_LEVEL_WARN], 2);
	assert_int_equal(st.total, 2);
	assert_int_equal(st.dropped, 0);
	/* an empty line is a line */
	l = mk("", 5, 0, 0);
	assert_int_equal(logring_append(r, &l), 2);
	assert_int_equal(logring_get_seq(r, 2, &out), 0);
	assert_int_equal(out.len, 0);
	logring_free(&r);
	assert_null(r);
	logring_free(&r);
}

/* Lines of varying length through a small ring many times over: the
 * budget holds, drops are counted, and every live line is intact and in
 * seq order. */
static void
test_wraparound_budget_drops(void **state)
{
	struct logring *r = logring_new(LOGRING_MIN_MEMORY);
	struct logring_stats st;
	char text[2048];
	uint64_t i, n = 20000, seq;
	size_t pos;

	(void)state;
	logring_stats_get(r, &st);
	assert_true(st.buffer_bytes + st.index_bytes <= LOGRING_MIN_MEMORY);
	for (i = 0; i < n; i++) {
		size_t len = (size_t)((i * 7919) % 1500);
		struct log_line l;

		snprintf(text, sizeof text, "%08llu:", (unsigned long long)i);
		memset(text + 9, 'a' + (int)(i % 26), len);
		text[9 + len] = '\0';
		l = mk(text, (int64_t)i, (uint8_t)(i % LOG_LEVEL_COUNT), 0);
		seq = logring_append(r, &l);
		assert_int_equal(seq, i);
		logring_stats_get(r, &st);
		assert_true(st.used_bytes <= st.buffer_bytes);
		assert_int_equal(st.lines + st.dropped, i + 1);
		assert_int_equal(logring_end_seq(r), i + 1);
		assert_int_equal(logring_first_seq(r), st.dropped);
	}
	logring_stats_get(r, &st);
	assert_true(st.dropped > 0);
	assert_true(st.lines > 10);
	{
		uint64_t lv = 0;
		size_t k;

		for (k = 0; k < LOG_LEVEL_COUNT; k++)
			lv += st.by_level[k];
		assert_int_equal(lv, st.lines);
	}
	/* every live line is the one appended with that seq */
	for (pos = 0; pos < logring_count(r); pos++) {
		struct log_line out;
		uint64_t s;
		size_t len;

		assert_int_equal(logring_get(r, pos, &out), 0);
		s = out.seq;
		assert_int_equal(s, logring_first_seq(r) + pos);
		snprintf(text, sizeof text, "%08llu:", (unsigned long long)s);
		assert_memory_equal(out.text, text, 9);
		len = (size_t)((s * 7919) % 1500);
		assert_int_equal(out.len, 9 + len);
		if (len > 0) {
			assert_int_equal(out.text[9], 'a' + (int)(s % 26));
			assert_int_equal(out.text[9 + len - 1], 'a' + (int)(s % 26));
		}
		assert_int_equal(out.ts_ms, (int64_t)s);
	}
	/* dropped lines are gone by seq */
	assert_int_equal(logring_get_seq(r, 0, NULL), -1);
	logring_free(&r);
}

/* Tiny lines fill the index before the buffer: still bounded. */
static void
test_many_empty_lines(void **state)
{
	struct logring *r = logring_new(LOGRING_MIN_MEMORY);
	struct log_line l = mk("", 0, 0, 0), out;
	struct logring_stats st;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		logring_append(r, &l);
	logring_stats_get(r, &st);
	assert_int_equal(st.lines + st.dropped, 100000);
	assert_true(st.lines > 1000);
	assert_int_equal(logring_get(r, st.lines - 1, &out), 0);
	assert_int_equal(out.seq, 99999);
	logring_free(&r);
}

static void
test_huge_line_cut(void **state)
{
	struct logring *r = logring_new(LOGRING_MIN_MEMORY);
	struct logring_stats st;
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	struct log_line l, out;

	(void)state;
	/* 2-byte characters: the cut must not split one */
	for (size_t i = 0; i + 1 < n; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	big[n] = '\0';
	l = mk("x", 1, 0, 0);
	logring_append(r, &l);
	l = mk(big, 2, 0, 0);
	logring_append(r, &l);
	logring_stats_get(r, &st);
	assert_int_equal(st.cut, 1);
	assert_int_equal(logring_get_seq(r, 1, &out), 0);
	assert_true(out.flags & LOG_LINE_CUT);
	assert_true(out.len <= st.buffer_bytes / 4);
	assert_int_equal(out.len % 2, 0);
	assert_int_equal(out.orig_len, n);
	free(big);
	logring_free(&r);
}

static void
test_find_ts_out_of_order(void **state)
{
	struct logring *r = logring_new(0);
	/* two sources, the second a little behind */
	int64_t ts[] = { 100, 200, 150, 300, 250, 400, 400, 500 };
	struct log_line l, out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		l = mk("x", ts[i], 0, 0);
		logring_append(r, &l);
	}
	assert_int_equal(logring_find_ts(r, 0), 0);
	assert_int_equal(logring_find_ts(r, 100), 0);
	assert_int_equal(logring_find_ts(r, 101), 1);
	/* 150 arrived after 200: the ring's clock reached 150 at seq 1 */
	assert_int_equal(logring_find_ts(r, 150), 1);
	assert_int_equal(logring_find_ts(r, 250), 3);
	assert_int_equal(logring_find_ts(r, 400), 5);
	assert_int_equal(logring_find_ts(r, 401), 7);
	assert_int_equal(logring_find_ts(r, 501), logring_end_seq(r));
	/* every line before the answer is older than T */
	for (int64_t t = 0; t < 600; t += 7) {
		uint64_t s = logring_find_ts(r, t), k;

		for (k = 0; k < s; k++) {
			logring_get_seq(r, k, &out);
			assert_true(out.ts_ms < t);
		}
	}
	logring_free(&r);
}

static void
test_find_ts_after_wrap(void **state)
{
	struct logring *r = logring_new(LOGRING_MIN_MEMORY);
	char text[200];
	struct log_line l;
	int64_t i;
	uint64_t s;

	(void)state;
	memset(text, 'z', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	for (i = 0; i < 5000; i++) {
		l = mk(text, 1000 + i * 10, 0, 0);
		logring_append(r, &l);
	}
	assert_true(logring_first_seq(r) > 0);
	s = logring_find_ts(r, 0);
	assert_int_equal(s, logring_first_seq(r));
	s = logring_find_ts(r, 1000 + 4900 * 10 + 5);
	assert_int_equal(s, 4901);
	logring_free(&r);
}

static void
test_sources(void **state)
{
	struct logring *r = logring_new(LOGRING_MIN_MEMORY);
	const struct logring_source *src;
	uint16_t api, web;
	char text[300];
	struct log_line l;
	int i;

	(void)state;
	assert_int_equal(logring_source_count(r), 1);
	assert_string_equal(logring_source_get(r, 0)->name, "-");
	api = logring_source_add(r, "api");
	web = logring_source_add(r, "web");
	assert_int_equal(api, 1);
	assert_int_equal(web, 2);
	assert_int_equal(logring_source_add(r, "api"), api);
	assert_null(logring_source_get(r, 3));
	memset(text, 'q', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	for (i = 0; i < 2000; i++) {
		l = mk(text, i, 0, (uint16_t)(i % 2 ? api : web));
		logring_append(r, &l);
	}
	/* an unknown source index becomes 0 */
	l = mk("x", 0, 0, 999);
	logring_append(r, &l);
	src = logring_source_get(r, api);
	assert_int_equal(src->total, 1000);
	assert_int_equal(src->lines + src->dropped, 1000);
	assert_true(src->dropped > 0);
	assert_int_equal(logring_source_get(r, 0)->total, 1);
	assert_int_equal(logring_source_get(r, api)->lines + logring_source_get(r, web)->lines +
	    logring_source_get(r, 0)->lines, logring_count(r));
	/* many sources: the table grows, then stops at the limit */
	for (i = 0; i < LOGRING_MAX_SOURCES + 10; i++) {
		char name[32];

		snprintf(name, sizeof name, "s%d", i);
		logring_source_add(r, name);
	}
	assert_int_equal(logring_source_count(r), LOGRING_MAX_SOURCES);
	assert_int_equal(logring_source_add(r, "one-too-many"), 0);
	assert_string_equal(logring_source_get(r, api)->name, "api");
	logring_free(&r);
}

static void
test_clear_and_msg_clamp(void **state)
{
	struct logring *r = logring_new(0);
	struct log_line l = mk("abc", 1, LOG_LEVEL_ERROR, 0), out;
	struct logring_stats st;

	(void)state;
	l.msg_off = 2;
	l.msg_len = 50;		/* past the end: clamped */
	logring_append(r, &l);
	logring_get(r, 0, &out);
	assert_int_equal(out.msg_off, 2);
	assert_int_equal(out.msg_len, 1);
	l.level = 200;		/* out of range: NONE */
	logring_append(r, &l);
	logring_get(r, 1, &out);
	assert_int_equal(out.level, LOG_LEVEL_NONE);
	logring_clear(r);
	assert_int_equal(logring_count(r), 0);
	logring_stats_get(r, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.by_level[LOG_LEVEL_ERROR], 0);
	assert_int_equal(logring_append(r, &l), 2);
	assert_int_equal(logring_first_seq(r), 2);
	logring_free(&r);
}

/* A budget below the minimum is raised; the default applies to 0. */
static void
test_budget_limits(void **state)
{
	struct logring *r = logring_new(1000);
	struct logring_stats st;

	(void)state;
	logring_stats_get(r, &st);
	assert_int_equal(st.budget, LOGRING_MIN_MEMORY);
	assert_true(st.buffer_bytes + st.index_bytes <= LOGRING_MIN_MEMORY);
	assert_true(st.buffer_bytes > LOGRING_MIN_MEMORY * 3 / 4);
	logring_free(&r);
	r = logring_new((size_t)3 << 20);
	logring_stats_get(r, &st);
	assert_true(st.buffer_bytes + st.index_bytes <= ((size_t)3 << 20));
	logring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_get),
		cmocka_unit_test(test_wraparound_budget_drops),
		cmocka_unit_test(test_many_empty_lines),
		cmocka_unit_test(test_huge_line_cut),
		cmocka_unit_test(test_find_ts_out_of_order),
		cmocka_unit_test(test_find_ts_after_wrap),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_clear_and_msg_clamp),
		cmocka_unit_test(test_budget_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
