/* test_logparse.c - ingest parsing: JSON, logfmt, plain, access logs,
 * timestamps and zones, multi-line traces, and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/logparse.h"

#define NOW 1718188920000LL	/* 2024-06-12T10:42:00Z */

struct got {
	struct log_line l[64];
	char *text[64];
	int n;
};

static void
collect(const struct log_line *l, void *ud)
{
	struct got *g = ud;

	assert_true(g->n < 64);
	g->l[g->n] = *l;
	g->text[g->n] = malloc(l->len + 1);
	memcpy(g->text[g->n], l->text, l->len);
	g->text[g->n][l->len] = '\0';
	g->l[g->n].text = g->text[g->n];
	g->n++;
}

static void
got_free(struct got *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		free(g->text[i]);
	g->n = 0;
}

/* Parse INPUT in one feed with OPTS (NULL: defaults) and flush. */
static void
parse(struct got *g, const struct logparse_opts *opts, const char *input, size_t n)
{
	struct logparse *p = logparse_new(opts, collect, g);

	g->n = 0;
	logparse_feed(p, input, n, NOW);
	logparse_flush(p, NOW);
	logparse_free(&p);
	assert_null(p);
}

static void
parse_str(struct got *g, const char *input)
{
	parse(g, NULL, input, strlen(input));
}

static char *
msg(const struct log_line *l)
{
	static char buf[512];

	snprintf(buf, sizeof buf, "%.*s", (int)l->msg_len, l->text + l->msg_off);
	return buf;
}

static void
test_json_pino(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g, "{\"level\":50,\"time\":1718188920123,\"pid\":7,\"msg\":\"db down\"}\n"
	    "{\"level\":30,\"time\":1718188921,\"msg\":\"ok \\\"quoted\\\"\"}\n"
	    "{\"level\":10,\"msg\":\"t\"}\n{\"level\":20}\n{\"level\":40}\n{\"level\":60}\n");
	assert_int_equal(g.n, 6);
	assert_int_equal(g.l[0].format, LOG_FMT_JSON);
	assert_int_equal(g.l[0].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[0].ts_ms, 1718188920123LL);
	assert_string_equal(msg(&g.l[0]), "db down");
	assert_false(g.l[0].flags & LOG_LINE_NO_TS);
	assert_int_equal(g.l[1].level, LOG_LEVEL_INFO);
	assert_int_equal(g.l[1].ts_ms, 1718188921000LL);	/* epoch seconds */
	assert_string_equal(msg(&g.l[1]), "ok \\\"quoted\\\"");
	assert_int_equal(g.l[2].level, LOG_LEVEL_TRACE);
	assert_true(g.l[2].flags & LOG_LINE_NO_TS);
	assert_int_equal(g.l[2].ts_ms, 1718188921000LL);	/* the last line's time */
	assert_int_equal(g.l[3].level, LOG_LEVEL_DEBUG);
	assert_int_equal(g.l[4].level, LOG_LEVEL_WARN);
	assert_int_equal(g.l[5].level, LOG_LEVEL_FATAL);
	got_free(&g);
}

static void
test_json_words_and_times(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g,
	    "{\"severity\":\"WARNING\",\"message\":\"disk 91%\",\"timestamp\":\"2024-06-12T10:42:00.5+02:00\"}\n"
	    "{\"lvl\":\"err\",\"ts\":1718188920.25,\"nested\":{\"msg\":\"no\",\"a\":[1,{\"b\":\"}\"}]},\"msg\":\"yes\"}\n"
	    "  {\"levelname\": \"CRITICAL\", \"@timestamp\": \"2024-06-12 10:42:00\"}\n"
	    "{\"loglevel\":\"debug\",\"time\":\"1718188920\"}\n"
	    "{\"level\":\"info\",\"time\":1718188920000000}\n"
	    "{\"level\":\"info\",\"time\":1718188920000000000}\n");
	assert_int_equal(g.n, 6);
	assert_int_equal(g.l[0].level, LOG_LEVEL_WARN);
	assert_string_equal(msg(&g.l[0]), "disk 91%");
	assert_int_equal(g.l[0].ts_ms, NOW - 2 * 3600 * 1000 + 500);
	assert_int_equal(g.l[1].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[1].ts_ms, NOW + 250);
	assert_string_equal(msg(&g.l[1]), "yes");
	assert_int_equal(g.l[2].format, LOG_FMT_JSON);
	assert_int_equal(g.l[2].level, LOG_LEVEL_FATAL);
	assert_int_equal(g.l[2].ts_ms, NOW);
	assert_int_equal(g.l[3].level, LOG_LEVEL_DEBUG);
	assert_int_equal(g.l[3].ts_ms, NOW);
	assert_int_equal(g.l[4].ts_ms, NOW);	/* microseconds */
	assert_int_equal(g.l[5].ts_ms, NOW);	/* nanoseconds */
	got_free(&g);
}

static void
test_json_truncated_is_plain(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g, "{\"level\":\"error\",\"msg\":\"cut off\n{\"a\":1}}\n{\"level\": \"ERROR\", \"msg\": \"x\"\n{}\n");
	assert_int_equal(g.n, 4);
	assert_int_equal(g.l[0].format, LOG_FMT_PLAIN);
	assert_int_equal(g.l[0].msg_off, 0);
	assert_int_equal(g.l[0].msg_len, g.l[0].len);
	assert_int_equal(g.l[1].format, LOG_FMT_PLAIN);	/* trailing garbage */
	/* plain fallback still finds an upper-case level word */
	assert_int_equal(g.l[2].format, LOG_FMT_PLAIN);
	assert_int_equal(g.l[2].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[3].format, LOG_FMT_JSON);
	got_free(&g);
}

static void
test_logfmt(void **state)
{
	struct got g;
	const char *v;
	size_t vl;

	(void)state;
	parse_str(&g, "time=2024-06-12T10:42:00Z level=warn msg=\"slow query\" dur=1.5s path=/x\n"
	    "ts=1718188920 lvl=error caller=main.go:12 message=boom\n"
	    "a=1 just text\n");
	assert_int_equal(g.n, 3);
	assert_int_equal(g.l[0].format, LOG_FMT_LOGFMT);
	assert_int_equal(g.l[0].level, LOG_LEVEL_WARN);
	assert_int_equal(g.l[0].ts_ms, NOW);
	assert_string_equal(msg(&g.l[0]), "slow query");
	assert_int_equal(logparse_field(&g.l[0], "dur", 3, &v, &vl), 1);
	assert_int_equal(vl, 4);
	assert_memory_equal(v, "1.5s", 4);
	assert_int_equal(logparse_field(&g.l[0], "msg", 3, &v, &vl), 1);
	assert_memory_equal(v, "slow query", vl);
	assert_int_equal(logparse_field(&g.l[0], "nope", 4, &v, &vl), 0);
	assert_int_equal(g.l[1].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[1].ts_ms, NOW);
	assert_string_equal(msg(&g.l[1]), "boom");
	assert_int_equal(g.l[2].format, LOG_FMT_PLAIN);	/* one pair is not logfmt */
	got_free(&g);
}

static void
test_plain_levels(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g,
	    "2024-06-12T10:42:00.123Z ERROR connection refused\n"
	    "[2024-06-12 12:42:00,5] [warn] cache miss\n"
	    "INFO: started\n"
	    "E0612 10:42:00.123456   12 main.go:9] klog failure\n"
	    "W/ActivityManager: slow\n"
	    "no error here, just words\n"
	    "Error: something broke\n"
	    "DEBUG_MODE=1 INFO\n"
	    "<crit> disk\n");
	assert_int_equal(g.n, 9);
	assert_int_equal(g.l[0].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[0].ts_ms, NOW + 123);
	assert_string_equal(msg(&g.l[0]), "connection refused");
	assert_int_equal(g.l[1].level, LOG_LEVEL_WARN);
	assert_int_equal(g.l[1].ts_ms, NOW + 2 * 3600 * 1000 + 500);	/* no zone: UTC by default */
	assert_int_equal(g.l[2].level, LOG_LEVEL_INFO);
	assert_string_equal(msg(&g.l[2]), "started");
	assert_int_equal(g.l[3].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[3].ts_ms, NOW + 123);	/* year from arrival */
	assert_int_equal(g.l[4].level, LOG_LEVEL_WARN);
	assert_int_equal(g.l[5].level, LOG_LEVEL_NONE);	/* lower case word in prose */
	assert_true(g.l[5].flags & LOG_LINE_NO_TS);
	assert_int_equal(g.l[6].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[7].level, LOG_LEVEL_INFO);	/* DEBUG_MODE is not a level */
	assert_int_equal(g.l[8].level, LOG_LEVEL_FATAL);
	got_free(&g);
}

static void
test_timezone_option(void **state)
{
	struct logparse_opts o = { 0 };
	struct got g;

	(void)state;
	o.tz_offset_min = 120;	/* the source logs in UTC+2 */
	o.join = 1;
	parse(&g, &o, "2024-06-12 12:42:00 INFO local\n2024-06-12T12:42:00+00:00 INFO utc\n",
	    strlen("2024-06-12 12:42:00 INFO local\n2024-06-12T12:42:00+00:00 INFO utc\n"));
	assert_int_equal(g.n, 2);
	assert_int_equal(g.l[0].ts_ms, NOW);
	assert_int_equal(g.l[1].ts_ms, NOW + 2 * 3600 * 1000);
	got_free(&g);
}

static void
test_iso8601(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(logparse_iso8601("2024-06-12T10:42:00Z", 20, 0, &ms), 20);
	assert_int_equal(ms, NOW);
	assert_int_equal(logparse_iso8601("2024-06-12T10:42:00.123456789-0130 x", 36, 0, &ms),
	    34);
	assert_int_equal(ms, NOW + 90 * 60 * 1000 + 123);
	assert_int_equal(logparse_iso8601("2024-06-12T10:42", 16, 0, &ms), 16);
	assert_int_equal(ms, NOW);
	assert_int_equal(logparse_iso8601("1970-01-01T00:00:00Z", 20, 0, &ms), 20);
	assert_int_equal(ms, 0);
	assert_int_equal(logparse_iso8601("2000-02-29T00:00:00Z", 20, 0, &ms), 20);
	assert_int_equal(ms, 951782400000LL);
	assert_int_equal(logparse_iso8601("2024-13-12T10:42:00Z", 20, 0, &ms), 0);
	assert_int_equal(logparse_iso8601("2024-06-12", 10, 0, &ms), 0);
	assert_int_equal(logparse_iso8601("hello world 2024-06-12", 22, 0, &ms), 0);
}

static void
test_access_log(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g,
	    "127.0.0.1 - frank [12/Jun/2024:12:42:00 +0200] \"GET /a.gif HTTP/1.0\" 200 2326\n"
	    "10.0.0.2 - - [12/Jun/2024:10:42:01 +0000] \"POST /api HTTP/1.1\" 503 0 \"-\" \"curl/8\"\n"
	    "10.0.0.3 - - [12/Jun/2024:10:42:02 +0000] \"GET /missing HTTP/1.1\" 404 12 \"-\" \"x\"\n");
	assert_int_equal(g.n, 3);
	assert_int_equal(g.l[0].format, LOG_FMT_ACCESS);
	assert_int_equal(g.l[0].level, LOG_LEVEL_INFO);
	assert_int_equal(g.l[0].ts_ms, NOW);
	assert_int_equal(g.l[1].level, LOG_LEVEL_ERROR);
	assert_int_equal(g.l[1].ts_ms, NOW + 1000);
	assert_int_equal(g.l[2].level, LOG_LEVEL_WARN);
	assert_true(strncmp(msg(&g.l[2]), "GET /missing", 12) == 0);
	got_free(&g);
}

static void
test_level_words(void **state)
{
	(void)state;
	assert_int_equal(logparse_level_word("Warning", 7), LOG_LEVEL_WARN);
	assert_int_equal(logparse_level_word("ERR", 3), LOG_LEVEL_ERROR);
	assert_int_equal(logparse_level_word("e", 1), LOG_LEVEL_ERROR);
	assert_int_equal(logparse_level_word("30", 2), LOG_LEVEL_INFO);
	assert_int_equal(logparse_level_word("55", 2), LOG_LEVEL_ERROR);
	assert_int_equal(logparse_level_word("5", 1), LOG_LEVEL_NONE);
	assert_int_equal(logparse_level_word("errors", 6), LOG_LEVEL_NONE);
	assert_int_equal(logparse_level_word("", 0), LOG_LEVEL_NONE);
	assert_string_equal(logparse_level_name(LOG_LEVEL_ERROR), "error");
	assert_string_equal(logparse_level_name(99), "none");
}

static void
test_java_trace_joined(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g,
	    "2024-06-12T10:42:00Z ERROR request failed\n"
	    "java.lang.IllegalStateException: boom\n"
	    "\tat com.acme.Foo.bar(Foo.java:12)\n"
	    "\tat com.acme.Main.main(Main.java:3)\n"
	    "Caused by: java.io.IOException: disk\n"
	    "\t... 2 more\n"
	    "2024-06-12T10:42:01Z INFO next\n");
	/* the exception line is not indented: it stays a line of its own */
	assert_int_equal(g.n, 3);
	assert_int_equal(g.l[0].level, LOG_LEVEL_ERROR);
	assert_false(g.l[0].flags & LOG_LINE_JOINED);
	assert_true(g.l[1].flags & LOG_LINE_JOINED);
	assert_string_equal(g.text[1], "java.lang.IllegalStateException: boom\n"
	    "    at com.acme.Foo.bar(Foo.java:12)\n"
	    "    at com.acme.Main.main(Main.java:3)\n"
	    "Caused by: java.io.IOException: disk\n"
	    "    ... 2 more");
	assert_int_equal(g.l[1].orig_len, strlen("java.lang.IllegalStateException: boom\n"
	    "\tat com.acme.Foo.bar(Foo.java:12)\n\tat com.acme.Main.main(Main.java:3)\n"
	    "Caused by: java.io.IOException: disk\n\t... 2 more"));
	assert_string_equal(g.text[2], "2024-06-12T10:42:01Z INFO next");
	got_free(&g);
}

static void
test_python_trace_joined(void **state)
{
	struct got g;

	(void)state;
	parse_str(&g,
	    "ERROR:root:handler crashed\n"
	    "Traceback (most recent call last):\n"
	    "  File \"app.py\", line 3, in <module>\n"
	    "    main()\n"
	    "ValueError: bad value\n"
	    "INFO:root:still running\n");
	assert_int_equal(g.n, 2);
	assert_int_equal(g.l[0].level, LOG_LEVEL_ERROR);
	assert_true(g.l[0].flags & LOG_LINE_JOINED);
	assert_string_equal(g.text[0], "ERROR:root:handler crashed\n"
	    "Traceback (most recent call last):\n"
	    "  File \"app.py\", line 3, in <module>\n"
	    "    main()\n"
	    "ValueError: bad value");
	assert_int_equal(g.l[1].level, LOG_LEVEL_INFO);
	got_free(&g);
}

static void
test_join_off_and_json_not_joined(void **state)
{
	struct logparse_opts o = { 0 };
	struct got g;
	const char *in = "start\n  indented\n{\"msg\":\"json\"}\n";

	(void)state;
	parse(&g, &o, in, strlen(in));	/* join = 0 */
	assert_int_equal(g.n, 3);
	got_free(&g);
	parse_str(&g, in);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.text[0], "start\n  indented");
	assert_int_equal(g.l[1].format, LOG_FMT_JSON);
	got_free(&g);
}

/* A held entry goes out at its deadline, not only on the next line. */
static void
test_join_deadline(void **state)
{
	struct logparse_opts o = { 0 };
	struct logparse *p;
	struct got g = { .n = 0 };

	(void)state;
	o.join = 1;
	o.join_ms = 100;
	p = logparse_new(&o, collect, &g);
	assert_int_equal(logparse_deadline(p), -1);
	logparse_feed(p, "boom\n\tat x\n", 11, 1000);
	assert_int_equal(g.n, 0);
	assert_int_equal(logparse_deadline(p), 1100);
	logparse_tick(p, 1099);
	assert_int_equal(g.n, 0);
	logparse_tick(p, 1100);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text[0], "boom\n    at x");
	assert_int_equal(logparse_deadline(p), -1);
	assert_int_equal(logparse_lines_in(p), 2);
	assert_int_equal(logparse_lines_out(p), 1);
	logparse_free(&p);
	got_free(&g);
}

/* Bytes split anywhere, even inside a UTF-8 character or CRLF, give the
 * same lines. */
static void
test_split_feeds(void **state)
{
	const char *in = "{\"level\":50,\"msg\":\"h\xc3\xa9llo\"}\r\nplain WARN line\r\n"
	    "logfmt=1 level=info\n\tcontinued\nlast without newline";
	size_t n = strlen(in), cut;
	struct got whole, part;

	(void)state;
	parse(&whole, NULL, in, n);
	assert_int_equal(whole.n, 4);
	assert_string_equal(whole.text[0], "{\"level\":50,\"msg\":\"h\xc3\xa9llo\"}");
	assert_string_equal(whole.text[3], "last without newline");
	for (cut = 1; cut < n; cut++) {
		struct logparse *p = logparse_new(NULL, collect, &part);
		int i;

		part.n = 0;
		logparse_feed(p, in, cut, NOW);
		logparse_feed(p, in + cut, n - cut, NOW);
		logparse_flush(p, NOW);
		logparse_free(&p);
		assert_int_equal(part.n, whole.n);
		for (i = 0; i < whole.n; i++) {
			assert_string_equal(part.text[i], whole.text[i]);
			assert_int_equal(part.l[i].level, whole.l[i].level);
			assert_int_equal(part.l[i].flags, whole.l[i].flags);
		}
		got_free(&part);
	}
	got_free(&whole);
}

/* Every byte of TEXT must be safe for a terminal. */
static void
assert_display_safe(const char *s, size_t n, int joined)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' && joined)
			continue;
		assert_true(c >= 0x20 && c != 0x7f);
		/* C1 controls encoded in UTF-8 */
		if (c == 0xc2 && i + 1 < n)
			assert_false((unsigned char)s[i + 1] >= 0x80 &&
			    (unsigned char)s[i + 1] < 0xa0);
	}
}

static void
test_hostile_escapes(void **state)
{
	struct got g;
	const char in[] =
	    "\x1b[31mred\x1b[0m text\n"				/* SGR: stripped */
	    "\x1b]52;c;ZXZpbA==\x07 clipboard\n"		/* OSC 52 */
	    "\x1b[2J\x1b[H cleared\n"				/* cursor movement */
	    "\x1b]0;owned\x1b\\ title\n"			/* window title */
	    "\x1bP1$r\x1b\\ dcs\n"				/* DCS */
	    "nul\0byte and \x7f del and \xc2\x9b c1 csi\n"	/* NUL, DEL, C1 */
	    "bidi \xe2\x80\xae override\n"
	    "bad \xff\xfe utf8 \xc3\n"
	    "\x1b[38;5;196mwarn\x1b[m\n"
	    "unterminated \x1b[12\n";
	int i;

	(void)state;
	parse(&g, NULL, in, sizeof in - 1);
	assert_int_equal(g.n, 10);
	for (i = 0; i < g.n; i++)
		assert_display_safe(g.l[i].text, g.l[i].len, 0);
	assert_string_equal(g.text[0], "red text");
	assert_true(g.l[0].flags & LOG_LINE_CTRL);
	assert_string_equal(g.text[1], "\xe2\x90\x9b]52;c;ZXZpbA==\xe2\x90\x87 clipboard");
	assert_string_equal(g.text[2], "\xe2\x90\x9b[2J\xe2\x90\x9b[H cleared");
	assert_non_null(strstr(g.text[3], "\xe2\x90\x9b]0;owned"));
	assert_non_null(strstr(g.text[4], "\xe2\x90\x9bP1$r"));
	assert_string_equal(g.text[5], "nul\xe2\x90\x80" "byte and \xe2\x90\xa1 del and "
	    "\xef\xbf\xbd c1 csi");
	assert_int_equal(g.l[5].orig_len, strlen("nul") + 1 + strlen("byte and \x7f del and "
	    "\xc2\x9b c1 csi"));
	assert_null(strstr(g.text[6], "\xe2\x80\xae"));
	assert_string_equal(g.text[7], "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd");
	assert_true(g.l[7].flags & LOG_LINE_BAD_UTF8);
	assert_string_equal(g.text[8], "warn");
	assert_string_equal(g.text[9], "unterminated \xe2\x90\x9b[12");
	got_free(&g);
}

static void
test_keep_sgr(void **state)
{
	struct logparse_opts o = { 0 };
	struct got g;
	const char in[] = "\x1b[1;31mERROR\x1b[0m x \x1b[2J\n";

	(void)state;
	o.keep_sgr = 1;
	parse(&g, &o, in, sizeof in - 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text[0], "\x1b[1;31mERROR\x1b[0m x \xe2\x90\x9b[2J");
	assert_true(g.l[0].flags & LOG_LINE_CTRL);
	got_free(&g);
}

/* A 1 MiB line (and 10 MiB in pieces) is cut at max_line, its size kept. */
static void
test_long_lines(void **state)
{
	size_t n = (size_t)1 << 20, i;
	char *big = malloc(n + 2);
	struct logparse_opts o = { 0 };
	struct logparse *p;
	struct got g = { .n = 0 };

	(void)state;
	memset(big, 'x', n);
	memcpy(big, "ERROR ", 6);
	big[n] = '\n';
	parse(&g, NULL, big, n + 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.l[0].len, LOGPARSE_DEFAULT_MAX_LINE);
	assert_int_equal(g.l[0].orig_len, n);
	assert_true(g.l[0].flags & LOG_LINE_CUT);
	assert_int_equal(g.l[0].level, LOG_LEVEL_ERROR);
	got_free(&g);

	/* 10 MiB arriving 64 KiB at a time; a multi-byte character at the cut */
	o.max_line = 1001;
	o.join = 1;
	for (i = 0; i < n; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	p = logparse_new(&o, collect, &g);
	for (i = 0; i < 160; i++)
		logparse_feed(p, big, 65536, NOW);
	logparse_feed(p, "\nnext\n", 6, NOW);
	logparse_flush(p, NOW);
	logparse_free(&p);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.l[0].len, 1000);
	assert_int_equal(g.l[0].orig_len, 160 * 65536);
	assert_true(g.l[0].flags & LOG_LINE_CUT);
	assert_string_equal(g.text[1], "next");
	got_free(&g);
	free(big);
}

/* A long trace is cut at max_line but stays one entry; the joined count
 * is bounded. */
static void
test_trace_bounds(void **state)
{
	struct logparse_opts o = { 0 };
	struct logparse *p;
	struct got g = { .n = 0 };
	int i;

	(void)state;
	o.join = 1;
	o.max_line = 100;
	p = logparse_new(&o, collect, &g);
	logparse_feed(p, "Exception\n", 10, NOW);
	for (i = 0; i < LOGPARSE_MAX_JOIN + 5; i++)
		logparse_feed(p, "\tat a.b.c(D.java:1)\n", 20, NOW);
	logparse_flush(p, NOW);
	logparse_free(&p);
	/* the first entry took LOGPARSE_MAX_JOIN lines; the rest start anew */
	assert_int_equal(g.n, 2);
	assert_true(g.l[0].len <= 100);
	assert_true(g.l[0].flags & LOG_LINE_CUT);
	assert_true(g.l[0].flags & LOG_LINE_JOINED);
	assert_true(g.l[0].orig_len > 20 * LOGPARSE_MAX_JOIN);
	assert_true(g.l[1].flags & LOG_LINE_JOINED);
	assert_int_equal(g.l[1].orig_len, 5 * 20 - 1);
	got_free(&g);
}

static void
test_binary_garbage(void **state)
{
	char buf[65536];
	struct got g = { .n = 0 };
	struct logparse_opts o = { 0 };
	struct logparse *p;
	size_t i;
	uint32_t x = 12345;

	(void)state;
	for (i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)(x >> 16);
		if (buf[i] == '\n' && (x & 0x300))
			buf[i] = 'n';
	}
	o.max_line = 4096;
	p = logparse_new(&o, collect, &g);
	for (i = 0; i < sizeof buf; i += 997) {
		size_t k = sizeof buf - i < 997 ? sizeof buf - i : 997;
		int j;

		logparse_feed(p, buf + i, k, NOW);
		for (j = 0; j < g.n; j++)
			assert_display_safe(g.l[j].text, g.l[j].len,
			    (g.l[j].flags & LOG_LINE_JOINED) != 0);
		got_free(&g);
	}
	logparse_flush(p, NOW);
	logparse_free(&p);
	got_free(&g);
}

static void
test_fields_json(void **state)
{
	struct got g;
	const char *v;
	size_t vl;

	(void)state;
	parse_str(&g, "{\"status\":503,\"req\":{\"method\":\"GET\",\"url\":\"/x\"},\"ok\":false,"
	    "\"a.b\":\"dotted\",\"tags\":[1,2]}\n");
	assert_int_equal(g.n, 1);
	assert_int_equal(logparse_field(&g.l[0], "status", 6, &v, &vl), 1);
	assert_memory_equal(v, "503", vl);
	assert_int_equal(logparse_field(&g.l[0], "req.method", 10, &v, &vl), 1);
	assert_memory_equal(v, "GET", vl);
	assert_int_equal(logparse_field(&g.l[0], "req.nope", 8, &v, &vl), 0);
	assert_int_equal(logparse_field(&g.l[0], "ok", 2, &v, &vl), 1);
	assert_memory_equal(v, "false", vl);
	assert_int_equal(logparse_field(&g.l[0], "a.b", 3, &v, &vl), 1);
	assert_memory_equal(v, "dotted", vl);
	assert_int_equal(logparse_field(&g.l[0], "tags", 4, &v, &vl), 1);
	assert_memory_equal(v, "[1,2]", vl);
	assert_int_equal(logparse_field(&g.l[0], "method", 6, &v, &vl), 0);
	got_free(&g);
	parse_str(&g, "plain line status=5\n");
	assert_int_equal(logparse_field(&g.l[0], "status", 6, &v, &vl), 0);
	got_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_pino),
		cmocka_unit_test(test_json_words_and_times),
		cmocka_unit_test(test_json_truncated_is_plain),
		cmocka_unit_test(test_logfmt),
		cmocka_unit_test(test_plain_levels),
		cmocka_unit_test(test_timezone_option),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_access_log),
		cmocka_unit_test(test_level_words),
		cmocka_unit_test(test_java_trace_joined),
		cmocka_unit_test(test_python_trace_joined),
		cmocka_unit_test(test_join_off_and_json_not_joined),
		cmocka_unit_test(test_join_deadline),
		cmocka_unit_test(test_split_feeds),
		cmocka_unit_test(test_hostile_escapes),
		cmocka_unit_test(test_keep_sgr),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_trace_bounds),
		cmocka_unit_test(test_binary_garbage),
		cmocka_unit_test(test_fields_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
