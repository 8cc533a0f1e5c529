/* test_keymap.c - key names, defaults from the action table, remapping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "signalbox/action.h"
#include "signalbox/keymap.h"

static void
test_parse_and_name_round_trip(void **state)
{
	static const char *const names[] = { "j", "G", "C-w", "M-x", "Enter", "Esc",
		"Tab", "S-Tab", "Up", "PgDn", "F5", "Space", "Backspace", "é", ":" };
	char buf[32];
	uint32_t k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(keymap_parse_key(names[i], &k), 0);
		keymap_key_name(k, buf, sizeof buf);
		assert_string_equal(buf, names[i]);
	}
	assert_int_equal(keymap_parse_key("C-w", &k), 0);
	assert_int_equal(k, 23);
	assert_int_equal(keymap_parse_key("pagedown", &k), 0);
	assert_int_equal(k, KEYC_PGDN);
	assert_int_equal(keymap_parse_key("Ctrl+r", &k), -1);
	assert_int_equal(keymap_parse_key("", &k), -1);
	assert_int_equal(keymap_parse_key("ab", &k), -1);
	assert_int_equal(keymap_parse_key("C-1", &k), -1);
}

static void
test_defaults_come_from_the_table(void **state)
{
	struct keymap *km = keymap_new();
	char buf[64];

	(void)state;
	assert_int_equal(keymap_lookup(km, "health", 'j'), ACTION_MOVE_DOWN);
	assert_int_equal(keymap_lookup(km, "health", KEYC_DOWN), ACTION_MOVE_DOWN);
	assert_int_equal(keymap_lookup(km, "health", 'q'), ACTION_QUIT);
	assert_int_equal(keymap_lookup(km, "health", 'c'), ACTION_CHECK_NOW);
	/* check-now is a health key, not a global one */
	assert_int_equal(keymap_lookup(km, "help", 'c'), ACTION_NONE);
	assert_int_equal(keymap_lookup(km, NULL, '1'), ACTION_PANE_1);
	assert_int_equal(keymap_lookup(km, NULL, KEYC_TAB), ACTION_NEXT_PANE);
	keymap_keys_for(km, NULL, ACTION_MOVE_DOWN, buf, sizeof buf);
	assert_string_equal(buf, "j, Down");
	keymap_free(&km);
	assert_null(km);
}

static void
test_remap_and_errors(void **state)
{
	struct keymap *km = keymap_new();
	struct err e;

	(void)state;
	assert_int_equal(keymap_bind_names(km, "global", "x", "quit", &e), 0);
	assert_int_equal(keymap_lookup(km, "health", 'x'), ACTION_QUIT);
	/* a view binding shadows a global one */
	assert_int_equal(keymap_bind_names(km, "health", "q", "check-all", &e), 0);
	assert_int_equal(keymap_lookup(km, "health", 'q'), ACTION_CHECK_ALL);
	assert_int_equal(keymap_lookup(km, "help", 'q'), ACTION_QUIT);
	/* "none" unbinds */
	assert_int_equal(keymap_bind_names(km, "global", "j", "none", &e), 0);
	assert_int_equal(keymap_lookup(km, "health", 'j'), ACTION_NONE);
	assert_int_equal(keymap_bind_names(km, "global", "x", "chek-now", &e), -1);
	assert_non_null(strstr(e.msg, "did you mean 'check-now'"));
	assert_int_equal(keymap_bind_names(km, "global", "Ctrl+x", "quit", &e), -1);
	assert_non_null(strstr(e.msg, "unknown key name 'Ctrl+x'"));
	keymap_free(&km);
}

static void
test_action_table(void **state)
{
	const char *out[8];

	(void)state;
	assert_int_equal(action_lookup("check-now"), ACTION_CHECK_NOW);
	assert_int_equal(action_lookup("nope"), ACTION_NONE);
	assert_null(action_info(ACTION_NONE));
	assert_string_equal(action_info(ACTION_QUIT)->name, "quit");
	/* "pa" completes to pane, pane-1..9, page-down and page-up */
	assert_int_equal(action_complete("pa", out, 8), 12);
	assert_int_equal(action_complete("che", out, 8), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_name_round_trip),
		cmocka_unit_test(test_defaults_come_from_the_table),
		cmocka_unit_test(test_remap_and_errors),
		cmocka_unit_test(test_action_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
