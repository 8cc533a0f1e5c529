/* test_health.c - the health source's pure helpers: body decoding, security
 * header checks (on recorded header blocks), percentiles and verdicts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/health.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

/* --- helpers ------------------------------------------------------------ */

static char *
read_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("SIGNALBOX_SOURCE_DIR");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/tests/fixtures/health/%s",
	    dir != NULL ? dir : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s (is SIGNALBOX_SOURCE_DIR set?)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Whether S is valid UTF-8 without a single control character. */
static int
is_clean(const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t l = text_decode(s + i, n - i, &cp);

		if (cp == TEXT_REPLACEMENT && l == 1 &&
		    !(n - i >= 3 && memcmp(s + i, "\xef\xbf\xbd", 3) == 0))
			return 0;
		if (text_cp_is_control(cp))
			return 0;
		i += l;
	}
	return 1;
}

static int
decode(const char *body, struct health_component *comps, size_t *n, char *version)
{
	return health_decode_body(body, strlen(body), comps, HEALTH_MAX_COMPONENTS, n,
	    version, 64);
}

static const struct health_component *
find_comp(const struct health_component *comps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(comps[i].name, name) == 0)
			return &comps[i];
	return NULL;
}

/* --- health_decode_body ------------------------------------------------- */

static void
test_decode_flat(void **state)
{
	struct health_component c[HEALTH_MAX_COMPONENTS];
	char version[64];
	size_t n;

	(void)state;
	assert_int_equal(decode("{\"status\":\"ok\",\"db\":\"ok\",\"redis\":\"fail\","
	    "\"version\":\"v2\"}", c, &n, version), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].name, "db");
	assert_string_equal(c[0].status, "ok");
	assert_true(c[0].ok);
	assert_string_equal(c[1].name, "redis");
	assert_string_equal(c[1].status, "fail");
	assert_false(c[1].ok);
	assert_string_equal(version, "v2");

	assert_int_equal(decode("{\"status\":\"ok\",\"db\":\"ok\",\"redis\":\"ok\"}", c, &n,
	    version), 1);
	assert_int_equal(n, 2);
	assert_string_equal(version, "");
}

static void
test_decode_nested(void **state)
{
	struct health_component c[HEALTH_MAX_COMPONENTS];
	char version[64];
	size_t n;

	(void)state;
	assert_int_equal(decode("{\"checks\":{\"db\":{\"status\":\"up\"}}}", c, &n,
	    version), 1);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].name, "db");
	assert_string_equal(c[0].status, "up");

	assert_int_equal(decode("{\"db\":{\"status\":\"ok\",\"latency_ms\":3}}", c, &n,
	    version), 1);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].name, "db");

	assert_int_equal(decode("{\"checks\":{\"db\":{\"status\":\"up\"},"
	    "\"queue\":{\"status\":\"down\",\"error\":\"timeout\"}}}", c, &n, version), 0);
	assert_int_equal(n, 2);
	assert_false(find_comp(c, n, "queue")->ok);
	assert_string_equal(find_comp(c, n, "queue")->status, "down");
}

static void
test_decode_real_shapes(void **state)
{
	struct health_component c[HEALTH_MAX_COMPONENTS];
	char version[64];
	size_t n;

	(void)state;
	/* Spring Boot actuator */
	assert_int_equal(decode("{\"status\":\"UP\",\"components\":{\"db\":{\"status\":"
	    "\"UP\",\"details\":{\"database\":\"PostgreSQL\",\"validationQuery\":"
	    "\"isValid()\"}},\"diskSpace\":{\"status\":\"UP\",\"details\":{\"total\":"
	    "499963174912,\"free\":91300069376}},\"ping\":{\"status\":\"UP\"},\"redis\":"
	    "{\"status\":\"DOWN\",\"details\":{\"error\":\"RedisConnectionFailure\"}}}}",
	    c, &n, version), 0);
	assert_int_equal(n, 4);
	assert_true(find_comp(c, n, "diskSpace")->ok);
	assert_false(find_comp(c, n, "redis")->ok);

	/* draft-inadarei-api-health-check */
	assert_int_equal(decode("{\"status\":\"pass\",\"version\":\"1\",\"releaseId\":"
	    "\"1.2.2\",\"notes\":[\"\"],\"output\":\"\",\"serviceId\":\"f03e522f\","
	    "\"description\":\"health of authz service\",\"checks\":{"
	    "\"cassandra:responseTime\":[{\"componentId\":\"dfd6cf2b\",\"componentType\":"
	    "\"datastore\",\"observedValue\":250,\"observedUnit\":\"ms\",\"status\":"
	    "\"pass\",\"time\":\"2018-01-17T03:36:48Z\"}],\"uptime\":[{\"componentType\":"
	    "\"system\",\"observedValue\":1209600.245,\"status\":\"pass\"}]}}",
	    c, &n, version), 1);
	assert_string_equal(version, "1");
	assert_non_null(find_comp(c, n, "cassandra:responseTime"));
	assert_null(find_comp(c, n, "releaseId"));
	assert_null(find_comp(c, n, "description"));

	/* a list of named checks */
	assert_int_equal(decode("{\"checks\":[{\"name\":\"db\",\"status\":\"pass\"},"
	    "{\"name\":\"cache\",\"status\":\"warn\"}]}", c, &n, version), 0);
	assert_int_equal(n, 2);
	assert_true(find_comp(c, n, "db")->ok);
	assert_false(find_comp(c, n, "cache")->ok);

	/* metadata is not a component */
	assert_int_equal(decode("{\"status\":\"ok\",\"uptime\":\"3d 4h\",\"commit\":"
	    "\"3f2a1c\",\"hostname\":\"api-7f9c\",\"time\":\"2025-11-23T10:00:00Z\"}",
	    c, &n, version), 1);
	assert_int_equal(n, 0);

	/* numbers and nulls are not components; numeric versions are kept */
	assert_int_equal(decode("{\"db\":\"ok\",\"connections\":12,\"lag\":null,"
	    "\"version\":2.5}", c, &n, version), 1);
	assert_int_equal(n, 1);
	assert_string_equal(version, "2.5");
}

static void
test_decode_words(void **state)
{
	static const struct {
		const char *body;
		int want;
	} cases[] = {
		{ "{\"db\":\"OK\"}", 1 },
		{ "{\"db\":\"Up\"}", 1 },
		{ "{\"db\":\"PASS\"}", 1 },
		{ "{\"db\":\"healthy\"}", 1 },
		{ "{\"db\":true}", 1 },
		{ "{\"db\":\"TRUE\"}", 1 },
		{ "{\"db\":false}", 0 },
		{ "{\"db\":\"degraded\"}", 0 },
		{ "{\"db\":\"\"}", 0 },
		{ "{\"db\":\"okay\"}", 0 },
		{ "{\"db\":{\"status\":false}}", 0 },
		{ "{\"status\":\"down\"}", 0 },
		{ "{\"status\":\"ok\"}", 1 },
		{ "{\"status\":true}", 1 },
		{ "{}", 1 },
	};
	struct health_component c[HEALTH_MAX_COMPONENTS];
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int got = health_decode_body(cases[i].body, strlen(cases[i].body), c,
		    ARRAY_LEN(c), &n, NULL, 0);

		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].body, got, cases[i].want);
	}
	/* a failing top-level status shows no component of its own */
	assert_int_equal(health_decode_body("{\"status\":\"down\"}", 17, c, ARRAY_LEN(c),
	    &n, NULL, 0), 0);
	assert_int_equal(n, 0);
}

static void
test_decode_not_json(void **state)
{
	static const char *const bodies[] = {
		"", "ok", "OK\n", "<html><body>It works!</body></html>", "[1,2,3]",
		"[{\"status\":\"ok\"}]", "\"ok\"", "null", "42", "true",
		"{\"status\":\"ok\"", "{\"a\":}", "{\"a\" \"b\"}", "{'a':'b'}",
		"{\"a\":\"b\"} trailing",
	};
	struct health_component c[HEALTH_MAX_COMPONENTS];
	char version[64] = "stale";
	size_t n = 99;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		int got = health_decode_body(bodies[i], strlen(bodies[i]), c, ARRAY_LEN(c),
		    &n, version, sizeof version);

		if (got != -1)
			fail_msg("'%s': got %d, want -1", bodies[i], got);
		assert_int_equal(n, 0);
		assert_string_equal(version, "");
	}
	assert_int_equal(health_decode_body(NULL, 0, c, ARRAY_LEN(c), &n, NULL, 0), -1);
	/* the length is honoured: the object ends before the NUL-free tail */
	assert_int_equal(health_decode_body("{\"db\":\"ok\"}GARBAGE", 11, c,
	    ARRAY_LEN(c), &n, NULL, 0), 1);
}

static void
test_decode_hostile(void **state)
{
	struct health_component c[HEALTH_MAX_COMPONENTS];
	char version[64];
	size_t n, len, depth = 200000;
	char *body;

	(void)state;
	/* nesting far beyond any parser's limit: rejected, no stack overflow */
	body = xmalloc(depth * 2 + 1);
	memset(body, '[', depth);
	memset(body + depth, ']', depth);
	body[depth * 2] = '\0';
	assert_int_equal(health_decode_body(body, depth * 2, c, ARRAY_LEN(c), &n, NULL,
	    0), -1);
	free(body);
	body = xmalloc(depth * 6 + 16);
	len = 0;
	for (size_t i = 0; i < depth; i++) {
		memcpy(body + len, "{\"a\":", 5);
		len += 5;
	}
	body[len] = '\0';
	assert_int_equal(health_decode_body(body, len, c, ARRAY_LEN(c), &n, NULL, 0), -1);
	free(body);

	/* escape sequences and invalid UTF-8 in names and values are neutralised,
	 * long ones cut on a character boundary */
	assert_int_equal(decode("{\"\\u001b]0;owned\\u0007db\":\"\\u001b[31mfail\","
	    "\"version\":\"v1\\u001b[2J\\r\\n\",\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	    "\\u00e9\\u00e9\":\"\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d\\u4e2d"
	    "\\u4e2d\\u4e2d\\u4e2d\\u4e2d\"}", c, &n, version), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(is_clean(c[i].name));
		assert_true(is_clean(c[i].status));
		assert_null(strchr(c[i].name, '\033'));
	}
	assert_true(is_clean(version));
	assert_null(strchr(version, '\n'));
	assert_true(strlen(c[1].name) < sizeof c[1].name);
	assert_true(strlen(c[1].status) < sizeof c[1].status);

	/* raw invalid UTF-8 inside strings */
	assert_int_equal(decode("{\"db\xff\":\"\xc0\xaf\"}", c, &n, version), 0);
	assert_int_equal(n, 1);
	assert_true(is_clean(c[0].name));
	assert_true(is_clean(c[0].status));
}

static void
test_decode_huge(void **state)
{
	struct health_component c[HEALTH_MAX_COMPONENTS];
	size_t n, len = 0, cap = 1024 * 1024 + 64;
	char *body = xmalloc(cap);
	int i = 0;

	(void)state;
	/* 1 MiB of healthy components with one failure near the end */
	body[len++] = '{';
	while (len < cap - 64) {
		len += (size_t)snprintf(body + len, cap - len, "\"c%d\":\"%s\",", i,
		    i == 30000 ? "fail" : "ok");
		i++;
	}
	len += (size_t)snprintf(body + len, cap - len, "\"last\":\"ok\"}");
	assert_true(i > 30000);
	/* the failure far past the stored ones still counts, and shows */
	assert_int_equal(health_decode_body(body, len, c, ARRAY_LEN(c), &n, NULL, 0), 0);
	assert_int_equal(n, HEALTH_MAX_COMPONENTS);
	assert_non_null(find_comp(c, n, "c30000"));
	assert_false(find_comp(c, n, "c30000")->ok);

	/* a failure among the first members displaces a healthy entry when full */
	len = 0;
	body[len++] = '{';
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s\"c%d\":\"%s\"",
		    i > 0 ? "," : "", i, i == 50 ? "down" : "ok");
	body[len++] = '}';
	body[len] = '\0';
	assert_int_equal(health_decode_body(body, len, c, ARRAY_LEN(c), &n, NULL, 0), 0);
	assert_int_equal(n, HEALTH_MAX_COMPONENTS);
	assert_non_null(find_comp(c, n, "c50"));
	assert_false(find_comp(c, n, "c50")->ok);

	/* a caller that only wants the verdict */
	assert_int_equal(health_decode_body(body, len, NULL, 0, NULL, NULL, 0), 0);
	free(body);
}

/* --- health_check_headers ----------------------------------------------- */

struct header_case {
	const char *fixture;
	enum health_level want[HEALTH_HDR_COUNT];
};

static const char *
level_name(enum health_level l)
{
	static const char *const names[] = { "OK", "WARN", "FAIL", "NA" };

	return names[l];
}

static void
test_headers_fixtures(void **state)
{
#define OK HEALTH_LEVEL_OK
#define WARN HEALTH_LEVEL_WARN
#define FAIL HEALTH_LEVEL_FAIL
	static const struct header_case cases[] = {
		/* HSTS, CSP, nosniff, frame, referrer */
		{ "github.txt", { OK, OK, OK, OK, OK } },
		{ "nginx_default.txt", { FAIL, FAIL, FAIL, FAIL, FAIL } },
		{ "google.txt", { FAIL, FAIL, FAIL, OK, FAIL } },
		{ "legacy_wordpress.txt", { WARN, WARN, FAIL, FAIL, WARN } },
		{ "spa_two_policies.txt", { OK, OK, OK, OK, OK } },
		{ "hostile.txt", { OK, OK, FAIL, OK, OK } },
	};
#undef OK
#undef WARN
#undef FAIL
	struct health_header_check out[HEALTH_HDR_COUNT];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len;
		char *hb = read_fixture(cases[i].fixture, &len);

		health_check_headers(hb, len, out);
		for (size_t k = 0; k < HEALTH_HDR_COUNT; k++) {
			if (out[k].level != cases[i].want[k])
				fail_msg("%s: %s is %s (%s), want %s", cases[i].fixture,
				    health_header_name(k), level_name(out[k].level),
				    out[k].why, level_name(cases[i].want[k]));
			assert_true(is_clean(out[k].value));
			assert_true(is_clean(out[k].why));
			assert_true(out[k].why[0] != '\0');
		}
		free(hb);
	}
}

static void
test_headers_fixture_details(void **state)
{
	struct health_header_check out[HEALTH_HDR_COUNT];
	size_t len;
	char *hb;

	(void)state;
	hb = read_fixture("legacy_wordpress.txt", &len);
	health_check_headers(hb, len, out);
	assert_string_equal(out[HEALTH_HDR_HSTS].value, "max-age=300");
	assert_string_equal(out[HEALTH_HDR_HSTS].why,
	    "max-age 300 < 15552000 (180 days); no includeSubDomains");
	assert_string_equal(out[HEALTH_HDR_CSP].why, "script-src allows 'unsafe-inline'");
	assert_string_equal(out[HEALTH_HDR_NOSNIFF].value, "nosniff, nosniff");
	assert_string_equal(out[HEALTH_HDR_FRAME].value, "ALLOW-FROM https://partner.example.com");
	assert_string_equal(out[HEALTH_HDR_REFERRER].value, "unsafe-url");
	free(hb);

	hb = read_fixture("spa_two_policies.txt", &len);
	health_check_headers(hb, len, out);
	/* the nonce makes browsers ignore 'unsafe-inline' */
	assert_string_equal(out[HEALTH_HDR_CSP].why, "script-src blocks inline scripts");
	assert_string_equal(out[HEALTH_HDR_FRAME].why,
	    "CSP frame-ancestors 'self' https://admin.example.com");
	/* the last policy a browser knows wins */
	assert_string_equal(out[HEALTH_HDR_REFERRER].why, "strict-origin-when-cross-origin");
	free(hb);

	hb = read_fixture("github.txt", &len);
	health_check_headers(hb, len, out);
	assert_string_equal(out[HEALTH_HDR_HSTS].why,
	    "max-age=31536000; includeSubdomains; preload");
	assert_string_equal(out[HEALTH_HDR_FRAME].why, "X-Frame-Options: deny");
	/* the value is capped, on a character boundary */
	assert_true(strlen(out[HEALTH_HDR_CSP].value) == sizeof out[0].value - 1);
	free(hb);

	hb = read_fixture("hostile.txt", &len);
	health_check_headers(hb, len, out);
	assert_null(strchr(out[HEALTH_HDR_CSP].value, '\033'));
	assert_null(strchr(out[HEALTH_HDR_CSP].value, '\007'));
	assert_string_equal(out[HEALTH_HDR_FRAME].why, "CSP frame-ancestors 'none'");
	free(hb);

	hb = read_fixture("nginx_default.txt", &len);
	health_check_headers(hb, len, out);
	assert_string_equal(out[HEALTH_HDR_HSTS].value, "");
	assert_string_equal(out[HEALTH_HDR_HSTS].why, "header not sent");
	assert_string_equal(out[HEALTH_HDR_FRAME].why,
	    "no X-Frame-Options and no CSP frame-ancestors");
	free(hb);
}

/* One header line HDR, and the level wanted for check K. */
static void
check_one(const char *hdr, enum health_header k, enum health_level want,
    const char *why)
{
	struct health_header_check out[HEALTH_HDR_COUNT];

	health_check_headers(hdr, strlen(hdr), out);
	if (out[k].level != want)
		fail_msg("'%s': %s is %s (%s), want %s", hdr, health_header_name(k),
		    level_name(out[k].level), out[k].why, level_name(want));
	if (why != NULL && strcmp(out[k].why, why) != 0)
		fail_msg("'%s': why '%s', want '%s'", hdr, out[k].why, why);
}

static void
test_headers_rules(void **state)
{
	(void)state;
	/* HSTS */
	check_one("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n",
	    HEALTH_HDR_HSTS, HEALTH_LEVEL_OK, "max-age=31536000; includeSubDomains");
	check_one("strict-transport-security: max-age=300; includeSubDomains\r\n",
	    HEALTH_HDR_HSTS, HEALTH_LEVEL_WARN, "max-age 300 < 15552000 (180 days)");
	check_one("Strict-Transport-Security: max-age=15552000\n", HEALTH_HDR_HSTS,
	    HEALTH_LEVEL_WARN, "no includeSubDomains");
	check_one("Strict-Transport-Security: max-age=15552000;INCLUDESUBDOMAINS\n",
	    HEALTH_HDR_HSTS, HEALTH_LEVEL_OK, NULL);
	check_one("Strict-Transport-Security: includeSubDomains\r\n", HEALTH_HDR_HSTS,
	    HEALTH_LEVEL_FAIL, NULL);
	check_one("Strict-Transport-Security: max-age=abc; includeSubDomains\r\n",
	    HEALTH_HDR_HSTS, HEALTH_LEVEL_FAIL, NULL);
	check_one("Strict-Transport-Security: max-age=0; includeSubDomains\r\n",
	    HEALTH_HDR_HSTS, HEALTH_LEVEL_FAIL, "max-age=0 turns HSTS off");
	check_one("Strict-Transport-Security: max-age=99999999999999999999999999; "
	    "includeSubDomains\r\n", HEALTH_HDR_HSTS, HEALTH_LEVEL_OK, NULL);
	check_one("Strict-Transport-Security: max-age=1; max-age=31536000; "
	    "includeSubDomains\r\n", HEALTH_HDR_HSTS, HEALTH_LEVEL_FAIL, NULL);
	check_one("X-Strict-Transport-Security: max-age=31536000\r\n", HEALTH_HDR_HSTS,
	    HEALTH_LEVEL_FAIL, "header not sent");
	/* the first of several HSTS headers is the one browsers use */
	check_one("Strict-Transport-Security: max-age=60\r\n"
	    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n",
	    HEALTH_HDR_HSTS, HEALTH_LEVEL_WARN, NULL);

	/* CSP */
	check_one("Content-Security-Policy: default-src 'self'\r\n", HEALTH_HDR_CSP,
	    HEALTH_LEVEL_OK, "default-src blocks inline scripts");
	check_one("Content-Security-Policy: default-src 'self' 'unsafe-inline'\r\n",
	    HEALTH_HDR_CSP, HEALTH_LEVEL_WARN, "default-src allows 'unsafe-inline'");
	check_one("Content-Security-Policy: default-src 'unsafe-inline'; script-src "
	    "'self'\r\n", HEALTH_HDR_CSP, HEALTH_LEVEL_OK, "script-src blocks inline scripts");
	check_one("Content-Security-Policy: script-src 'self' 'UNSAFE-INLINE'\r\n",
	    HEALTH_HDR_CSP, HEALTH_LEVEL_WARN, NULL);
	check_one("Content-Security-Policy: script-src 'unsafe-inline' "
	    "'sha256-abc='\r\n", HEALTH_HDR_CSP, HEALTH_LEVEL_OK, NULL);
	check_one("Content-Security-Policy: frame-ancestors 'none'\r\n", HEALTH_HDR_CSP,
	    HEALTH_LEVEL_WARN, "no script-src or default-src: scripts are not restricted");
	check_one("Content-Security-Policy-Report-Only: default-src 'self'\r\n",
	    HEALTH_HDR_CSP, HEALTH_LEVEL_FAIL, "header not sent");
	check_one("Content-Security-Policy: \r\n", HEALTH_HDR_CSP, HEALTH_LEVEL_FAIL,
	    "empty policy");
	/* two policies in one header: both apply, the strict one wins */
	check_one("Content-Security-Policy: script-src 'unsafe-inline', script-src "
	    "'self'\r\n", HEALTH_HDR_CSP, HEALTH_LEVEL_OK, NULL);

	/* X-Content-Type-Options */
	check_one("X-Content-Type-Options: nosniff\r\n", HEALTH_HDR_NOSNIFF,
	    HEALTH_LEVEL_OK, NULL);
	check_one("x-content-type-options:   NOSNIFF  \r\n", HEALTH_HDR_NOSNIFF,
	    HEALTH_LEVEL_OK, NULL);
	check_one("X-Content-Type-Options: sniff\r\n", HEALTH_HDR_NOSNIFF,
	    HEALTH_LEVEL_FAIL, NULL);
	check_one("X-Content-Type-Options: nosniffx\r\n", HEALTH_HDR_NOSNIFF,
	    HEALTH_LEVEL_FAIL, NULL);
	check_one("X-Content-Type-Options:\r\n", HEALTH_HDR_NOSNIFF, HEALTH_LEVEL_FAIL,
	    NULL);

	/* framing */
	check_one("X-Frame-Options: DENY\r\n", HEALTH_HDR_FRAME, HEALTH_LEVEL_OK,
	    "X-Frame-Options: DENY");
	check_one("X-Frame-Options: sameorigin\r\n", HEALTH_HDR_FRAME, HEALTH_LEVEL_OK,
	    NULL);
	check_one("X-Frame-Options: DENY, SAMEORIGIN\r\n", HEALTH_HDR_FRAME,
	    HEALTH_LEVEL_FAIL, NULL);
	check_one("X-Frame-Options: ALLOWALL\r\n", HEALTH_HDR_FRAME, HEALTH_LEVEL_FAIL,
	    "not DENY or SAMEORIGIN, and no CSP frame-ancestors");
	check_one("X-Frame-Options: ALLOWALL\r\nContent-Security-Policy: "
	    "frame-ancestors 'self'\r\n", HEALTH_HDR_FRAME, HEALTH_LEVEL_OK,
	    "CSP frame-ancestors 'self'");

	/* Referrer-Policy */
	check_one("Referrer-Policy: no-referrer\r\n", HEALTH_HDR_REFERRER,
	    HEALTH_LEVEL_OK, "no-referrer");
	check_one("Referrer-Policy: unsafe-url\r\n", HEALTH_HDR_REFERRER,
	    HEALTH_LEVEL_WARN, NULL);
	check_one("Referrer-Policy: No-Referrer-When-Downgrade\r\n", HEALTH_HDR_REFERRER,
	    HEALTH_LEVEL_WARN, NULL);
	check_one("Referrer-Policy: strict-origin, unsafe-url\r\n", HEALTH_HDR_REFERRER,
	    HEALTH_LEVEL_WARN, NULL);
	check_one("Referrer-Policy: unsafe-url, bogus-policy\r\n", HEALTH_HDR_REFERRER,
	    HEALTH_LEVEL_WARN, NULL);
	check_one("Referrer-Policy: bogus\r\n", HEALTH_HDR_REFERRER, HEALTH_LEVEL_OK,
	    NULL);
}

static void
test_headers_degenerate(void **state)
{
	static const char *const blocks[] = {
		"", ":", "::::", "\r\n\r\n", "Strict-Transport-Security",
		"Strict-Transport-Security:", ": max-age=1", "\n\n\n:\n",
		" Strict-Transport-Security: max-age=31536000; includeSubDomains",
		"Content-Security-Policy: ;;;,,,;",
		"X-Frame-Options: ,", "Strict-Transport-Security: max-age=\"",
		"Strict-Transport-Security: max-age=\"\"",
	};
	struct health_header_check out[HEALTH_HDR_COUNT];
	char *big;

	(void)state;
	health_check_headers(NULL, 0, out);
	for (size_t k = 0; k < HEALTH_HDR_COUNT; k++)
		assert_int_equal(out[k].level, HEALTH_LEVEL_FAIL);
	for (size_t i = 0; i < ARRAY_LEN(blocks); i++) {
		health_check_headers(blocks[i], strlen(blocks[i]), out);
		for (size_t k = 0; k < HEALTH_HDR_COUNT; k++)
			assert_true(out[k].level == HEALTH_LEVEL_FAIL ||
			    out[k].level == HEALTH_LEVEL_WARN);
	}
	/* a folded continuation line is not a header of its own */
	health_check_headers(blocks[8], strlen(blocks[8]), out);
	assert_int_equal(out[HEALTH_HDR_HSTS].level, HEALTH_LEVEL_FAIL);

	/* NULs inside the block and no terminating newline */
	health_check_headers("X-Frame-Options: DENY\0\r\nReferrer-Policy: origin", 47,
	    out);
	assert_int_equal(out[HEALTH_HDR_REFERRER].level, HEALTH_LEVEL_OK);
	assert_int_equal(out[HEALTH_HDR_FRAME].level, HEALTH_LEVEL_FAIL);

	/* an unknown policy leaves the browser default, which is fine */
	health_check_headers("Referrer-Policy: ,,,", 20, out);
	assert_int_equal(out[HEALTH_HDR_REFERRER].level, HEALTH_LEVEL_OK);

	/* a 1 MiB header value */
	big = xmalloc(1024 * 1024 + 64);
	strcpy(big, "Content-Security-Policy: default-src 'self' ");
	memset(big + strlen(big), 'a', 1024 * 1024);
	big[1024 * 1024 + 40] = '\0';
	health_check_headers(big, strlen(big), out);
	assert_int_equal(out[HEALTH_HDR_CSP].level, HEALTH_LEVEL_OK);
	assert_true(strlen(out[HEALTH_HDR_CSP].value) < sizeof out[0].value);
	free(big);
}

static void
test_header_names(void **state)
{
	(void)state;
	assert_string_equal(health_header_name(HEALTH_HDR_HSTS), "Strict-Transport-Security");
	assert_string_equal(health_header_name(HEALTH_HDR_REFERRER), "Referrer-Policy");
	assert_string_equal(health_header_name(HEALTH_HDR_COUNT), "?");
}

/* --- health_percentile -------------------------------------------------- */

static void
test_percentile(void **state)
{
	double none[] = { -1, -1, -1 };
	double one[] = { 42 };
	double two[] = { 10, 20 };
	double unsorted[] = { 5, -1, 1, 4, -1, 2, 3 };
	double hundred[100];

	(void)state;
	assert_true(health_percentile(NULL, 0, 50) < 0);
	assert_true(health_percentile(none, 3, 50) < 0);
	assert_float_equal(health_percentile(one, 1, 0), 42, 1e-9);
	assert_float_equal(health_percentile(one, 1, 95), 42, 1e-9);
	assert_float_equal(health_percentile(two, 2, 50), 15, 1e-9);
	assert_float_equal(health_percentile(two, 2, 95), 19.5, 1e-9);
	/* failures (-1) are gaps, not zeros */
	assert_float_equal(health_percentile(unsorted, 7, 50), 3, 1e-9);
	assert_float_equal(health_percentile(unsorted, 7, 0), 1, 1e-9);
	assert_float_equal(health_percentile(unsorted, 7, 100), 5, 1e-9);
	assert_float_equal(health_percentile(unsorted, 7, 25), 2, 1e-9);
	for (int i = 0; i < 100; i++)
		hundred[i] = 100 - i;	/* 100 .. 1 */
	assert_float_equal(health_percentile(hundred, 100, 50), 50.5, 1e-9);
	assert_float_equal(health_percentile(hundred, 100, 95), 95.05, 1e-9);
	assert_float_equal(health_percentile(hundred, 100, 150), 100, 1e-9);
	assert_float_equal(health_percentile(hundred, 100, -5), 1, 1e-9);
	/* the input is left alone */
	assert_float_equal(hundred[0], 100, 1e-9);
}

/* --- health_classify ---------------------------------------------------- */

static struct health_verdict_in
verdict(int status, int expect)
{
	struct health_verdict_in v;

	memset(&v, 0, sizeof v);
	v.responded = 1;
	v.status = status;
	v.expect = expect;
	v.body = -1;
	v.timeout_ms = 3000;
	v.tls_warn_days = 21;
	v.tls_fail_days = 7;
	return v;
}

static enum health_state
classify(const struct health_verdict_in *v, enum health_level *tl, char *reason)
{
	return health_classify(v, tl, reason, 160);
}

static void
test_classify(void **state)
{
	struct health_verdict_in v;
	struct health_component comps[3];
	enum health_level tl;
	char reason[160];

	(void)state;
	memset(comps, 0, sizeof comps);
	v = verdict(200, 200);
	assert_int_equal(classify(&v, &tl, reason), HEALTH_OK);
	assert_string_equal(reason, "");
	assert_int_equal(tl, HEALTH_LEVEL_NA);

	v = verdict(500, 200);
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "HTTP 500, expected 200");
	v = verdict(200, 204);
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "HTTP 200, expected 204");
	/* a wrong status outranks a failing body */
	v = verdict(503, 200);
	v.body = 0;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "HTTP 503, expected 200");

	v = verdict(0, 200);
	v.responded = 0;
	v.error = "Connection refused";
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "Connection refused");
	v.timed_out = 1;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "timed out after 3000 ms");
	v.timed_out = 0;
	v.error = NULL;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "no response");

	/* failing components */
	v = verdict(200, 200);
	v.body = 0;
	strcpy(comps[0].name, "db");
	strcpy(comps[0].status, "ok");
	comps[0].ok = 1;
	strcpy(comps[1].name, "redis");
	strcpy(comps[1].status, "fail");
	strcpy(comps[2].name, "queue");
	strcpy(comps[2].status, "down");
	v.comps = comps;
	v.n_comps = 2;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_string_equal(reason, "redis: fail");
	v.n_comps = 3;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_string_equal(reason, "redis: fail, queue: down");
	v.n_comps = 0;
	v.body_status = "degraded";
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_string_equal(reason, "status: degraded");
	/* not JSON is not an error by itself */
	v = verdict(200, 200);
	v.body = -1;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_OK);

	/* TLS: warn is a level, fail degrades, expired is down */
	v = verdict(200, 200);
	v.has_tls = 1;
	v.tls_days_left = 90;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_OK);
	assert_int_equal(tl, HEALTH_LEVEL_OK);
	v.tls_days_left = 20;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_OK);
	assert_int_equal(tl, HEALTH_LEVEL_WARN);
	assert_string_equal(reason, "");
	v.tls_days_left = 7;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_OK);
	assert_int_equal(tl, HEALTH_LEVEL_WARN);
	v.tls_days_left = 3;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_int_equal(tl, HEALTH_LEVEL_FAIL);
	assert_string_equal(reason, "certificate expires in 3 days");
	v.tls_days_left = 1;
	classify(&v, &tl, reason);
	assert_string_equal(reason, "certificate expires in 1 day");
	v.tls_days_left = 0;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_string_equal(reason, "certificate expires today");
	v.tls_days_left = -1;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_int_equal(tl, HEALTH_LEVEL_FAIL);
	assert_string_equal(reason, "certificate has expired");
	/* both: the body and the certificate */
	v.tls_days_left = 2;
	v.body = 0;
	v.comps = comps;
	v.n_comps = 2;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_string_equal(reason, "redis: fail; certificate expires in 2 days");
	/* TLS level is reported even when the endpoint is down */
	v = verdict(500, 200);
	v.has_tls = 1;
	v.tls_days_left = 10;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_int_equal(tl, HEALTH_LEVEL_WARN);

	/* WebSocket: status and expect do not apply */
	v = verdict(101, 101);
	v.is_ws = 1;
	v.status = 0;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_OK);
	v.responded = 0;
	v.timed_out = 1;
	v.timeout_ms = 1500;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DOWN);
	assert_string_equal(reason, "timed out after 1500 ms");
}

static void
test_classify_reason_fits(void **state)
{
	struct health_component comps[HEALTH_MAX_COMPONENTS];
	struct health_verdict_in v = verdict(200, 200);
	enum health_level tl;
	char reason[160];

	(void)state;
	/* many long failing components: cut at the buffer, on a character */
	for (size_t i = 0; i < HEALTH_MAX_COMPONENTS; i++) {
		snprintf(comps[i].name, sizeof comps[i].name, "\xe4\xb8\xad%02zu-component", i);
		strcpy(comps[i].status, "\xe2\x9c\x97 failing");
		comps[i].ok = 0;
	}
	v.body = 0;
	v.comps = comps;
	v.n_comps = HEALTH_MAX_COMPONENTS;
	assert_int_equal(classify(&v, &tl, reason), HEALTH_DEGRADED);
	assert_true(strlen(reason) < sizeof reason);
	assert_true(is_clean(reason));
	/* a tiny buffer */
	assert_int_equal(health_classify(&v, &tl, reason, 4), HEALTH_DEGRADED);
	assert_true(strlen(reason) < 4);
	assert_true(is_clean(reason));
}

/* --- names and aggregates ------------------------------------------------ */

static void
test_worst_and_names(void **state)
{
	struct health_result r[3];
	struct health_result *eps[3] = { &r[0], &r[1], &r[2] };
	struct health_snap snap = { 3, eps, 0 };
	struct health_snap empty = { 0, NULL, 0 };

	(void)state;
	memset(r, 0, sizeof r);
	r[0].state = r[1].state = r[2].state = HEALTH_OK;
	assert_int_equal(health_worst(&snap), HEALTH_OK);
	r[1].state = HEALTH_DEGRADED;
	assert_int_equal(health_worst(&snap), HEALTH_DEGRADED);
	r[2].state = HEALTH_DOWN;
	assert_int_equal(health_worst(&snap), HEALTH_DOWN);
	r[2].state = HEALTH_UNKNOWN;
	assert_int_equal(health_worst(&snap), HEALTH_DOWN);
	assert_int_equal(health_worst(&empty), HEALTH_OK);

	assert_string_equal(health_state_name(HEALTH_OK), "OK");
	assert_string_equal(health_state_name(HEALTH_DEGRADED), "DEGRADED");
	assert_string_equal(health_state_name(HEALTH_DOWN), "DOWN");
	assert_string_equal(health_state_name(HEALTH_UNKNOWN), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_flat),
		cmocka_unit_test(test_decode_nested),
		cmocka_unit_test(test_decode_real_shapes),
		cmocka_unit_test(test_decode_words),
		cmocka_unit_test(test_decode_not_json),
		cmocka_unit_test(test_decode_hostile),
		cmocka_unit_test(test_decode_huge),
		cmocka_unit_test(test_headers_fixtures),
		cmocka_unit_test(test_headers_fixture_details),
		cmocka_unit_test(test_headers_rules),
		cmocka_unit_test(test_headers_degenerate),
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_reason_fits),
		cmocka_unit_test(test_worst_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
