/* test_linebuf.c - bounded line splitting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "signalbox/linebuf.h"
#include "signalbox/xalloc.h"

struct got {
	int n;
	char *text[16];
	uint64_t orig[16];
	unsigned flags[16];
	int stop_after;
};

static int
collect(const char *data, size_t len, uint64_t orig_len, unsigned flags, void *ud)
{
	struct got *g = ud;

	assert_true(g->n < 16);
	g->text[g->n] = xstrndup(data, len);
	g->orig[g->n] = orig_len;
	g->flags[g->n] = flags;
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

static void
got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->text[i]);
}

static void
test_split_anywhere(void **state)
{
	struct linebuf lb;
	struct got g = { 0 };
	const char *in = "alpha\nbe\r\n\ngamma";
	size_t i;

	(void)state;
	linebuf_init(&lb, 0);
	for (i = 0; in[i]; i++)	/* one byte at a time */
		assert_int_equal(linebuf_feed(&lb, in + i, 1, collect, &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.text[0], "alpha");
	assert_string_equal(g.text[1], "be\r");	/* bytes unchanged */
	assert_string_equal(g.text[2], "");
	assert_int_equal(linebuf_pending(&lb), 5);
	linebuf_flush(&lb, collect, &g);
	assert_string_equal(g.text[3], "gamma");
	assert_int_equal(g.flags[3], LINEBUF_PARTIAL);
	/* the newline that ends the flushed line is not an empty line */
	linebuf_feed(&lb, "\nnext\n", 6, collect, &g);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.text[4], "next");
	assert_int_equal(g.flags[4], 0);
	linebuf_fini(&lb);
	got_free(&g);
}

static void
test_cut_across_feeds(void **state)
{
	struct linebuf lb;
	struct got g = { 0 };

	(void)state;
	linebuf_init(&lb, 4);
	linebuf_feed(&lb, "abcdefgh", 8, collect, &g);
	linebuf_feed(&lb, "ij\nxyzw12\nok\n", 13, collect, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.text[0], "abcd");
	assert_int_equal(g.orig[0], 10);
	assert_int_equal(g.flags[0], LINEBUF_CUT);
	assert_string_equal(g.text[1], "xyzw");	/* whole in one feed, no copy */
	assert_int_equal(g.orig[1], 6);
	assert_int_equal(g.flags[1], LINEBUF_CUT);
	assert_string_equal(g.text[2], "ok");
	assert_true(lb.cap <= 4);
	/* a cut partial line, flushed, then its rest */
	linebuf_feed(&lb, "123456", 6, collect, &g);
	linebuf_flush(&lb, collect, &g);
	assert_string_equal(g.text[3], "1234");
	assert_int_equal(g.flags[3], LINEBUF_CUT | LINEBUF_PARTIAL);
	linebuf_feed(&lb, "78\n", 3, collect, &g);
	assert_string_equal(g.text[4], "78");
	assert_int_equal(g.flags[4], LINEBUF_CONT);
	linebuf_fini(&lb);
	got_free(&g);
}

static void
test_stop(void **state)
{
	struct linebuf lb;
	struct got g = { .stop_after = 1 };

	(void)state;
	linebuf_init(&lb, 0);
	assert_int_equal(linebuf_feed(&lb, "a\nb\nc\n", 6, collect, &g), -1);
	assert_int_equal(g.n, 1);
	linebuf_reset(&lb);
	assert_int_equal(linebuf_pending(&lb), 0);
	linebuf_fini(&lb);
	got_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_anywhere),
		cmocka_unit_test(test_cut_across_feeds),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
