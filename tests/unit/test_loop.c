/* test_loop.c - owned timers on the libuv loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "signalbox/loop.h"
#include "signalbox/util.h"

struct counts {
	int fired;
	struct loop_timer *stop_after;
	int limit;
};

static void
on_fire(struct loop_timer *t, void *ud)
{
	struct counts *c = ud;

	c->fired++;
	if (c->fired >= c->limit)
		loop_timer_free(&c->stop_after);
	(void)t;
}

static void
test_repeat_then_free_from_callback(void **state)
{
	uv_loop_t loop;
	struct counts c = { 0, NULL, 3 };
	uint64_t t0;

	(void)state;
	uv_loop_init(&loop);
	c.stop_after = loop_timer_new(&loop, on_fire, &c);
	assert_false(loop_timer_active(c.stop_after));
	loop_timer_start(c.stop_after, 5, 5);
	assert_true(loop_timer_active(c.stop_after));
	t0 = util_now_ms();
	/* the loop ends by itself once the timer is freed */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(c.fired, 3);
	assert_null(c.stop_after);
	assert_true(util_now_ms() - t0 >= 10);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
on_once(struct loop_timer *t, void *ud)
{
	int *n = ud;

	(*n)++;
	assert_false(loop_timer_active(t));
}

static void
test_one_shot_and_stop(void **state)
{
	uv_loop_t loop;
	struct loop_timer *a, *b;
	int na = 0, nb = 0;

	(void)state;
	uv_loop_init(&loop);
	a = loop_timer_new(&loop, on_once, &na);
	b = loop_timer_new(&loop, on_once, &nb);
	loop_timer_start(a, 0, 0);
	loop_timer_start(b, 1000, 0);
	loop_timer_stop(b);		/* never fires */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(na, 1);
	assert_int_equal(nb, 0);
	loop_timer_free(&a);
	loop_timer_free(&b);
	loop_timer_free(&b);		/* NULL-safe */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_durations(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(util_parse_duration_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(util_parse_duration_ms("5s", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(util_parse_duration_ms("1.5m", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(util_parse_duration_ms("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(util_parse_duration_ms("fast", &ms), -1);
	assert_int_equal(util_parse_duration_ms("5 parsecs", &ms), -1);
	assert_int_equal(util_parse_duration_ms("-1s", &ms), -1);
	assert_int_equal(util_edit_distance("endpionts", "endpoints", 3), 2);
	assert_int_equal(util_edit_distance("abc", "xyzabc", 2), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeat_then_free_from_callback),
		cmocka_unit_test(test_one_shot_and_stop),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
