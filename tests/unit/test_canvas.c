/* test_canvas.c - clipping, truncation, wide characters, sanitising. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/canvas.h"
#include "signalbox/text.h"

static void
test_clip_right_edge(void **state)
{
	struct canvas *cv = canvas_mem_new(10, 2, 0);

	(void)state;
	assert_int_equal(canvas_text(cv, 0, 6, STYLE_DEFAULT, "abcdefgh"), 4);
	assert_string_equal(canvas_mem_row(cv, 0), "      abc…");
	/* off-canvas rows and columns draw nothing */
	assert_int_equal(canvas_text(cv, 5, 0, STYLE_DEFAULT, "x"), 0);
	assert_int_equal(canvas_text(cv, 0, 10, STYLE_DEFAULT, "x"), 0);
	assert_int_equal(canvas_text(cv, -1, 0, STYLE_DEFAULT, "x"), 0);
	canvas_mem_free(&cv);
	assert_null(cv);
}

static void
test_ellipsis_exact_fit(void **state)
{
	struct canvas *cv = canvas_mem_new(20, 1, 0);

	(void)state;
	assert_int_equal(canvas_textn(cv, 0, 0, 5, STYLE_DEFAULT, "hello", 5), 5);
	assert_string_equal(canvas_mem_row(cv, 0), "hello               ");
	canvas_clear(cv, STYLE_DEFAULT);
	assert_int_equal(canvas_textn(cv, 0, 0, 5, STYLE_DEFAULT, "hello!", 6), 5);
	assert_string_equal(canvas_mem_row(cv, 0), "hell…               ");
	canvas_mem_free(&cv);
}

static void
test_ascii_mode(void **state)
{
	struct canvas *cv = canvas_mem_new(8, 1, 1);

	(void)state;
	canvas_textn(cv, 0, 0, 5, STYLE_DEFAULT, "héllo world", 12);
	assert_string_equal(canvas_mem_row(cv, 0), "h?ll~   ");
	canvas_clear(cv, STYLE_DEFAULT);
	canvas_hline(cv, 0, 0, 3, STYLE_BORDER);
	assert_string_equal(canvas_mem_row(cv, 0), "---     ");
	canvas_mem_free(&cv);
}

static void
test_wide_characters(void **state)
{
	struct canvas *cv = canvas_mem_new(7, 1, 0);

	(void)state;
	assert_int_equal(canvas_str_width("日本語", strlen("日本語")), 6);
	assert_int_equal(canvas_text(cv, 0, 0, STYLE_DEFAULT, "日本語"), 6);
	assert_string_equal(canvas_mem_row(cv, 0), "日本語 ");
	/* a wide glyph never straddles the edge: it becomes a space */
	canvas_clear(cv, STYLE_DEFAULT);
	assert_int_equal(canvas_text(cv, 0, 2, STYLE_DEFAULT, "ab日本"), 5);
	assert_string_equal(canvas_mem_row(cv, 0), "  ab日…");
	/* overwriting half of a wide glyph blanks the other half */
	canvas_clear(cv, STYLE_DEFAULT);
	canvas_text(cv, 0, 0, STYLE_DEFAULT, "日本");
	canvas_text(cv, 0, 1, STYLE_DEFAULT, "x");
	assert_string_equal(canvas_mem_row(cv, 0), " x本   ");
	canvas_mem_free(&cv);
}

static void
test_escape_sequences_never_pass(void **state)
{
	struct canvas *cv = canvas_mem_new(40, 1, 0);
	const char *row;

	(void)state;
	canvas_text(cv, 0, 0, STYLE_DEFAULT, "a\033[2Jb\033]52;c;AAAA\007c\x9b" "1m");
	row = canvas_mem_row(cv, 0);
	assert_null(strchr(row, '\033'));
	assert_null(strchr(row, '\007'));
	assert_non_null(strstr(row, "␛[2Jb"));
	/* invalid UTF-8 becomes U+FFFD */
	canvas_clear(cv, STYLE_DEFAULT);
	canvas_text(cv, 0, 0, STYLE_DEFAULT, "x\xff\xc3y");
	assert_string_equal(canvas_mem_row(cv, 0), "x\xef\xbf\xbd\xef\xbf\xbdy" "                                    ");
	canvas_mem_free(&cv);
}

static void
test_sanitize(void **state)
{
	char *s;

	(void)state;
	s = text_sanitize("a\tb\r\nc\033d", 8, 0);
	assert_string_equal(s, "a b␍⏎c␛d");
	free(s);
	s = text_sanitize("l1\r\nl2", 6, 1);
	assert_string_equal(s, "l1\nl2");
	free(s);
	/* embedded NUL is kept visible, not a terminator */
	s = text_sanitize("a\0b", 3, 0);
	assert_string_equal(s, "a␀b");
	free(s);
	/* overlong encodings and surrogates are refused */
	s = text_sanitize("\xc0\xaf\xed\xa0\x80", 5, 0);
	assert_null(strchr(s, '/'));
	free(s);
}

static void
test_sub_canvas_clips(void **state)
{
	struct canvas *cv = canvas_mem_new(10, 3, 0), *sub;

	(void)state;
	sub = canvas_sub_new(cv, 1, 2, 1, 4);
	assert_int_equal(canvas_width(sub), 4);
	canvas_text(sub, 0, 0, STYLE_TITLE, "abcdef");
	canvas_text(sub, 1, 0, STYLE_TITLE, "zz");	/* outside the sub */
	assert_string_equal(canvas_mem_row(cv, 1), "  abc…    ");
	assert_string_equal(canvas_mem_row(cv, 2), "          ");
	assert_int_equal(canvas_mem_style(cv, 1, 2), STYLE_TITLE);
	canvas_sub_free(&sub);
	canvas_mem_free(&cv);
}

static void
test_sparkline(void **state)
{
	struct canvas *cv = canvas_mem_new(6, 1, 0);
	double v[] = { 1, 2, -1, 8 };

	(void)state;
	canvas_sparkline(cv, 0, 0, 6, STYLE_SPARKLINE, v, 4, 0);
	assert_string_equal(canvas_mem_row(cv, 0), "  ▂▃ █");
	canvas_mem_free(&cv);
}

static void
test_right_align_and_dump(void **state)
{
	struct canvas *cv = canvas_mem_new(10, 2, 0);
	char *d;

	(void)state;
	canvas_text_right(cv, 0, 10, STYLE_DEFAULT, "12ms");
	d = canvas_mem_dump(cv);
	assert_string_equal(d, "      12ms\n\n");
	free(d);
	canvas_mem_free(&cv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clip_right_edge),
		cmocka_unit_test(test_ellipsis_exact_fit),
		cmocka_unit_test(test_ascii_mode),
		cmocka_unit_test(test_wide_characters),
		cmocka_unit_test(test_escape_sequences_never_pass),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sub_canvas_clips),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_right_align_and_dump),
	};

	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
