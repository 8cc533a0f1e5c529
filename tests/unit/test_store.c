/* test_store.c - snapshots, ownership, generations, source states. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/store.h"

static int freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

struct notes {
	int publishes[STORE_TOPIC_COUNT + 1];
};

static void
on_notify(enum store_topic t, void *ud)
{
	struct notes *n = ud;

	n->publishes[t]++;
}

static void
test_publish_replaces_and_frees(void **state)
{
	struct store *s = store_new();
	struct notes n;
	uint64_t gen;
	int *a = malloc(sizeof *a), *b = malloc(sizeof *b);

	(void)state;
	memset(&n, 0, sizeof n);
	freed = 0;
	store_subscribe(s, on_notify, &n);
	assert_null(store_get(s, STORE_TOPIC_HEALTH, &gen));
	assert_int_equal(gen, 0);
	*a = 1;
	*b = 2;
	store_publish(s, STORE_TOPIC_HEALTH, a, count_free);
	assert_ptr_equal(store_get(s, STORE_TOPIC_HEALTH, &gen), a);
	assert_int_equal(gen, 1);
	store_publish(s, STORE_TOPIC_HEALTH, b, count_free);
	assert_int_equal(freed, 1);	/* a went */
	assert_int_equal(store_generation(s, STORE_TOPIC_HEALTH), 2);
	assert_int_equal(n.publishes[STORE_TOPIC_HEALTH], 2);
	assert_int_equal(store_generation(s, STORE_TOPIC_FLAGS), 0);
	store_free(&s);
	assert_null(s);
	assert_int_equal(freed, 2);	/* b went with the store */
	store_free(&s);			/* NULL-safe */
}

static void
test_source_states(void **state)
{
	struct store *s = store_new();
	struct notes n;
	const struct store_source *src;

	(void)state;
	memset(&n, 0, sizeof n);
	store_subscribe(s, on_notify, &n);
	store_source_set(s, "health", STORE_STATE_CONNECTING, NULL);
	store_source_set(s, "railway", STORE_STATE_ERROR, "Not Authorized\033[31m");
	assert_int_equal(store_source_count(s), 2);
	src = store_source_find(s, "railway");
	assert_non_null(src);
	assert_int_equal(src->state, STORE_STATE_ERROR);
	assert_null(strchr(src->error, '\033'));	/* sanitised */
	assert_int_equal(src->last_ok_ms, 0);
	store_source_set(s, "health", STORE_STATE_OK, NULL);
	src = store_source_at(s, 0);
	assert_string_equal(src->name, "health");
	assert_true(src->last_ok_ms > 0);
	/* the same state again is not a change */
	n.publishes[STORE_TOPIC_COUNT] = 0;
	store_source_set(s, "health", STORE_STATE_OK, NULL);
	assert_int_equal(n.publishes[STORE_TOPIC_COUNT], 0);
	store_source_set(s, "health", STORE_STATE_STALE, "timeout");
	assert_int_equal(n.publishes[STORE_TOPIC_COUNT], 1);
	assert_string_equal(store_state_name(STORE_STATE_STALE), "stale");
	assert_string_equal(store_topic_name(STORE_TOPIC_HEALTH), "health");
	store_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_replaces_and_frees),
		cmocka_unit_test(test_source_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
