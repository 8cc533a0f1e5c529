/* test_flags.c - the flag store's parsing and compare-and-set answers, on
 * recorded values: Redis JSON (good, malformed, unknown members kept), the
 * CAS script's replies, PostgreSQL rows, and the schema file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "signalbox/err.h"
#include "signalbox/flags.h"
#include "signalbox/pg.h"
#include "signalbox/redis.h"

/* The sandbox's own value (sandbox/up) and what the docs show. */
static void
test_parse_good(void **state)
{
	struct flag f;
	char w[200];

	(void)state;
	assert_int_equal(flag_parse_json(&f, "new-checkout", "{\"enabled\":false,\"rollout\":25,"
	    "\"description\":\"New checkout flow\",\"updated_at\":\"2026-11-23T12:00:00Z\","
	    "\"updated_by\":\"alice@10.0.0.7\"}"), 0);
	assert_true(f.valid);
	assert_string_equal(f.name, "new-checkout");
	assert_false(f.enabled);
	assert_int_equal(f.rollout, 25);
	assert_string_equal(f.description, "New checkout flow");
	assert_string_equal(f.updated_at, "2026-11-23T12:00:00Z");
	assert_string_equal(f.updated_by, "alice@10.0.0.7");
	assert_non_null(strstr(f.raw, "\"rollout\":25"));
	flag_words(&f, w, sizeof w);
	assert_string_equal(w, "off (25%)");
	flag_fini(&f);
	/* rollout missing means 100; no description */
	assert_int_equal(flag_parse_json(&f, "dark-mode", "{\"enabled\":true}"), 0);
	assert_true(f.enabled);
	assert_int_equal(f.rollout, 100);
	assert_null(f.description);
	flag_words(&f, w, sizeof w);
	assert_string_equal(w, "on (100%)");
	flag_fini(&f);
}

/* Malformed values are listed as such, with the reason, and off. */
static void
test_parse_malformed(void **state)
{
	static const struct { const char *json, *why; } cases[] = {
		{ "not json at all", "not JSON" },
		{ "", "not JSON" },
		{ "[true]", "not a JSON object" },
		{ "{\"rollout\":10}", "no 'enabled'" },
		{ "{\"enabled\":\"yes\"}", "'enabled' is not true or false" },
		{ "{\"enabled\":1}", "'enabled' is not true or false" },
		{ "{\"enabled\":true,\"rollout\":101}", "'rollout' is not an integer from 0 to 100" },
		{ "{\"enabled\":true,\"rollout\":2.5}", "'rollout' is not an integer from 0 to 100" },
		{ "{\"enabled\":true,\"rollout\":\"25\"}", "'rollout' is not an integer from 0 to 100" },
		{ "{\"enabled\":true,\"description\":7}", "'description' is not a string" },
	};
	struct flag f;
	char w[200];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(flag_parse_json(&f, "x", cases[i].json), -1);
		assert_false(f.valid);
		assert_false(f.enabled);
		assert_string_equal(f.why, cases[i].why);
		assert_string_equal(f.raw, cases[i].json);	/* the CAS token stays */
		flag_words(&f, w, sizeof w);
		assert_int_equal(strncmp(w, "invalid: ", 9), 0);
		flag_fini(&f);
	}
}

/* A flip keeps description, unknown members and their order. */
static void
test_update_keeps_members(void **state)
{
	const char *raw = "{\"enabled\":false,\"rollout\":25,\"description\":\"New checkout\","
	    "\"owner\":\"team-pay\",\"variants\":[1,2],\"updated_at\":\"old\"}";
	char *out;
	cJSON *o;
	struct flag f;

	(void)state;
	out = flag_json_update(raw, 1, -1, "2026-11-23T12:00:00Z", "bob@10.0.0.8");
	o = cJSON_Parse(out);
	assert_non_null(o);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "enabled")));
	assert_int_equal(cJSON_GetObjectItem(o, "rollout")->valueint, 25);
	assert_string_equal(cJSON_GetObjectItem(o, "description")->valuestring, "New checkout");
	assert_string_equal(cJSON_GetObjectItem(o, "owner")->valuestring, "team-pay");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "variants")), 2);
	assert_string_equal(cJSON_GetObjectItem(o, "updated_at")->valuestring,
	    "2026-11-23T12:00:00Z");
	assert_string_equal(cJSON_GetObjectItem(o, "updated_by")->valuestring, "bob@10.0.0.8");
	cJSON_Delete(o);
	assert_int_equal(flag_parse_json(&f, "new-checkout", out), 0);
	assert_true(f.enabled);
	flag_fini(&f);
	free(out);
	/* a rollout replaces it */
	out = flag_json_update(raw, 1, 60, "t", "b");
	assert_non_null(strstr(out, "\"rollout\":60"));
	assert_null(strstr(out, "\"rollout\":25"));
	free(out);
	/* nothing readable: a fresh value */
	out = flag_json_update("garbage{", 0, 100, "t", "b");
	assert_string_equal(out, "{\"enabled\":false,\"rollout\":100,\"updated_at\":\"t\","
	    "\"updated_by\":\"b\"}");
	free(out);
}

static void
test_setting_and_names(void **state)
{
	int en, ro;
	struct err e;

	(void)state;
	assert_int_equal(flag_setting_parse("on", &en, &ro, NULL), 0);
	assert_true(en);
	assert_int_equal(ro, -1);
	assert_int_equal(flag_setting_parse("off", &en, &ro, NULL), 0);
	assert_false(en);
	assert_int_equal(flag_setting_parse("25%", &en, &ro, NULL), 0);
	assert_true(en);
	assert_int_equal(ro, 25);
	assert_int_equal(flag_setting_parse("0%", &en, &ro, NULL), 0);
	assert_int_equal(ro, 0);
	memset(&e, 0, sizeof e);
	assert_int_equal(flag_setting_parse("101%", &en, &ro, &e), -1);
	assert_non_null(strstr(e.msg, "on, off or a rollout"));
	assert_int_equal(flag_setting_parse("25", &en, &ro, NULL), -1);
	assert_int_equal(flag_setting_parse("true", &en, &ro, NULL), -1);
	assert_int_equal(flag_setting_parse("-5%", &en, &ro, NULL), -1);
	assert_true(flag_name_ok("new-checkout"));
	assert_true(flag_name_ok("search_v2.beta"));
	assert_false(flag_name_ok(""));
	assert_false(flag_name_ok("New"));
	assert_false(flag_name_ok("a b"));
	assert_false(flag_name_ok("flags:x"));
}

/* The compare-and-set script's replies (recorded from Redis 7). */
static void
test_redis_cas_replies(void **state)
{
	struct redis_value ok_el[1] = { { .type = REDIS_T_INTEGER, .integer = 1 } };
	struct redis_value miss_el[1] = { { .type = REDIS_T_INTEGER, .integer = 2 } };
	struct redis_value conf_el[2] = { { .type = REDIS_T_INTEGER, .integer = 0 },
		{ .type = REDIS_T_STRING, .str = "{\"enabled\":true}", .len = 16 } };
	struct redis_value ok = { .type = REDIS_T_ARRAY, .n = 1, .elem = ok_el };
	struct redis_value miss = { .type = REDIS_T_ARRAY, .n = 1, .elem = miss_el };
	struct redis_value conf = { .type = REDIS_T_ARRAY, .n = 2, .elem = conf_el };
	struct redis_value err = { .type = REDIS_T_ERROR, .str = "NOSCRIPT x", .len = 10 };
	struct redis_value odd = { .type = REDIS_T_STRING, .str = "OK", .len = 2 };
	const char *cur, *why;

	(void)state;
	assert_int_equal(flag_redis_cas_result(&ok, &cur, &why), FLAG_SET_OK);
	assert_null(cur);
	assert_int_equal(flag_redis_cas_result(&miss, &cur, &why), FLAG_SET_MISSING);
	assert_int_equal(flag_redis_cas_result(&conf, &cur, &why), FLAG_SET_CONFLICT);
	assert_string_equal(cur, "{\"enabled\":true}");
	assert_int_equal(flag_redis_cas_result(&err, &cur, &why), FLAG_SET_ERROR);
	assert_string_equal(why, "NOSCRIPT x");
	assert_int_equal(flag_redis_cas_result(&odd, &cur, &why), FLAG_SET_ERROR);
	assert_non_null(strstr(why, "unexpected reply"));
	assert_int_equal(flag_redis_cas_result(NULL, &cur, &why), FLAG_SET_ERROR);
}

/* Rows of "select FLAG_PG_COLUMNS" as libpq returns them (text). */
static void
test_pg_rows(void **state)
{
	const char *cells[] = {
		"dark-mode", "t", "100", NULL, "2026-11-23T12:00:00Z", "alice@h",
		"2026-11-23 13:00:00.123456+01",
		"search-v2", "f", "10", "Search", "2026-11-23T12:00:01Z", NULL,
		"2026-11-23 12:00:01.5+00",
		"broken", "t", "250", NULL, NULL, NULL, "x",
	};
	struct pg_rows rows = { .nrows = 3, .ncols = 7, .cells = cells };
	struct pg_rows narrow = { .nrows = 3, .ncols = 6, .cells = cells };
	struct flag f;

	(void)state;
	assert_int_equal(flag_from_pg_row(&f, &rows, 0), 0);
	assert_string_equal(f.name, "dark-mode");
	assert_true(f.valid);
	assert_true(f.enabled);
	assert_int_equal(f.rollout, 100);
	assert_null(f.description);
	assert_string_equal(f.updated_by, "alice@h");
	/* the CAS token is updated_at exactly as the server wrote it */
	assert_string_equal(f.raw, "2026-11-23 13:00:00.123456+01");
	flag_fini(&f);
	assert_int_equal(flag_from_pg_row(&f, &rows, 1), 0);
	assert_false(f.enabled);
	assert_int_equal(f.rollout, 10);
	assert_string_equal(f.description, "Search");
	assert_null(f.updated_by);
	flag_fini(&f);
	assert_int_equal(flag_from_pg_row(&f, &rows, 2), -1);
	assert_int_equal(flag_from_pg_row(&f, &rows, 3), -1);
	assert_int_equal(flag_from_pg_row(&f, &narrow, 0), -1);
}

/* The statements flag_store_migrate sends are the documented file's. */
static void
test_schema_file(void **state)
{
	const char *dir = getenv("SIGNALBOX_SOURCE_DIR");
	char path[4096], *text;
	FILE *fp;
	long n;
	size_t i;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof path, "%s/sql/flags_postgres.sql", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (i = 0; flag_pg_schema[i] != NULL; i++) {
		char *stmt = malloc(strlen(flag_pg_schema[i]) + 3);

		sprintf(stmt, "%s;\n", flag_pg_schema[i]);
		assert_non_null(strstr(text, stmt));
		free(stmt);
	}
	assert_int_equal(i, 4);
	assert_non_null(strstr(text, "pg_notify('signalbox_flags'"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_update_keeps_members),
		cmocka_unit_test(test_setting_and_names),
		cmocka_unit_test(test_redis_cas_replies),
		cmocka_unit_test(test_pg_rows),
		cmocka_unit_test(test_schema_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
