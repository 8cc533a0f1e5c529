/* test_config.c - the YAML configuration: defaults, the full example, every
 * kind of error with its exact position, dump round-trip, the man page. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/config.h"
#include "signalbox/err.h"

/* The source tree: from ctest's environment, else from this file's path. */
static const char *
source_dir(void)
{
	static char dir[4096];
	const char *env = getenv("SIGNALBOX_SOURCE_DIR");
	const char *cut;

	if (env != NULL && *env != '\0')
		return env;
	cut = strstr(__FILE__, "/tests/unit/");
	assert_non_null(cut);
	snprintf(dir, sizeof dir, "%.*s", (int)(cut - __FILE__), __FILE__);
	return dir;
}

static char *
fixture(const char *name)
{
	size_t len = strlen(source_dir()) + strlen(name) + 32;
	char *path = malloc(len);

	assert_non_null(path);
	snprintf(path, len, "%s/tests/fixtures/config/%s", source_dir(), name);
	return path;
}

/* Load TEXT as "t.yml" into a fresh config; returns the rc. */
static int
load(struct config *cfg, const char *text, struct err *e)
{
	config_init(cfg);
	err_clear(e);
	return config_load_string(cfg, text, strlen(text), "t.yml", e);
}

/* TEXT must fail with exactly one message, MSG. */
static void
expect_error(const char *text, const char *msg)
{
	struct config cfg;
	struct err e;

	if (load(&cfg, text, &e) == 0)
		fail_msg("loaded, expected: %s", msg);
	assert_string_equal(e.msg, msg);
	config_fini(&cfg);
}

static size_t
count_lines(const char *s)
{
	size_t n = *s != '\0';

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_null(cfg.path);
	assert_string_equal(cfg.project, "signalbox");
	assert_string_equal(cfg.environment, "production");
	assert_string_equal(cfg.theme, "default");
	assert_string_equal(cfg.layout, "auto");
	assert_null(cfg.log_file);
	assert_int_equal(cfg.fps, 30);
	assert_int_equal(cfg.health_interval_ms, 5000);
	assert_int_equal(cfg.health_timeout_ms, 3000);
	assert_int_equal(cfg.health_window, 60);
	assert_int_equal(cfg.tls_warn_days, 21);
	assert_int_equal(cfg.tls_fail_days, 7);
	assert_int_equal(cfg.n_envs, 0);
	assert_int_equal(cfg.n_endpoints, 0);
	assert_int_equal(cfg.n_bindings, 0);
	assert_null(config_env(&cfg, "production"));
	config_fini(&cfg);
	assert_null(cfg.project);
	config_fini(&cfg);	/* twice is harmless */
	config_fini(NULL);
}

static void
test_empty_documents_give_defaults(void **state)
{
	static const char *const texts[] = {
		"", "\n", "# nothing here\n", "---\n", "~\n", "---\n...\n",
	};
	struct config cfg;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		assert_int_equal(load(&cfg, texts[i], &e), 0);
		assert_string_equal(cfg.path, "t.yml");
		assert_string_equal(cfg.project, "signalbox");
		assert_int_equal(cfg.fps, 30);
		assert_int_equal(cfg.n_endpoints, 0);
		config_fini(&cfg);
	}
}

static void
test_full_example(void **state)
{
	char *path = fixture("full.yml"), *ca;
	const struct config_endpoint *ep;
	const struct config_environment *env;
	struct config cfg;
	struct err e;

	(void)state;
	config_init(&cfg);
	if (config_load_file(&cfg, path, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(cfg.path, path);
	assert_string_equal(cfg.project, "acme");
	assert_string_equal(cfg.environment, "production");
	assert_string_equal(cfg.theme, "default");
	assert_int_equal(cfg.fps, 30);
	assert_string_equal(cfg.layout, "split");
	assert_string_equal(cfg.log_file, "/tmp/signalbox.log");
	assert_int_equal(cfg.health_interval_ms, 5000);
	assert_int_equal(cfg.health_timeout_ms, 3000);
	assert_int_equal(cfg.health_window, 60);
	assert_int_equal(cfg.tls_warn_days, 21);
	assert_int_equal(cfg.tls_fail_days, 7);

	assert_int_equal(cfg.n_envs, 3);
	env = config_env(&cfg, "production");
	assert_non_null(env);
	assert_true(env->protected_env);
	assert_false(env->read_only);
	env = config_env(&cfg, "staging");
	assert_non_null(env);
	assert_false(env->protected_env);
	assert_false(env->read_only);
	env = config_env(&cfg, "audit");
	assert_non_null(env);
	assert_true(env->read_only);
	assert_null(config_env(&cfg, "prod"));
	/* NULL means the environment shown */
	assert_ptr_equal(config_env(&cfg, NULL), config_env(&cfg, "production"));

	assert_int_equal(cfg.n_endpoints, 3);
	ep = &cfg.endpoints[0];
	assert_string_equal(ep->name, "api");
	assert_string_equal(ep->url, "https://127.0.0.1:8443/health");
	assert_int_equal(ep->type, CONFIG_EP_HTTP);
	assert_int_equal(ep->expect, 200);
	assert_int_equal(ep->interval_ms, 10000);
	assert_int_equal(ep->timeout_ms, 2500);
	assert_int_equal(ep->headers, CONFIG_HEADERS_STRICT);
	/* relative to the file's directory, not to the working directory */
	ca = fixture("certs/ca.pem");
	assert_string_equal(ep->ca_file, ca);
	free(ca);
	assert_string_equal(ep->service, "api");
	assert_string_equal(ep->ws_message, "signalbox-ping");
	assert_int_equal(ep->line, 19);
	assert_int_equal(ep->col, 7);

	/* defaults that depend on the URL and on health.* */
	ep = &cfg.endpoints[1];
	assert_string_equal(ep->name, "echo");
	assert_int_equal(ep->type, CONFIG_EP_WEBSOCKET);
	assert_int_equal(ep->expect, 101);
	assert_int_equal(ep->interval_ms, 5000);
	assert_int_equal(ep->timeout_ms, 3000);
	assert_int_equal(ep->headers, CONFIG_HEADERS_OFF);
	assert_null(ep->ca_file);
	assert_null(ep->service);
	assert_string_equal(ep->ws_message, "ping");
	ep = &cfg.endpoints[2];
	assert_string_equal(ep->name, "plain");
	assert_int_equal(ep->type, CONFIG_EP_HTTP);
	assert_int_equal(ep->expect, 204);
	assert_int_equal(ep->headers, CONFIG_HEADERS_OFF);

	assert_int_equal(cfg.n_bindings, 4);
	assert_string_equal(cfg.bindings[0].section, "global");
	assert_string_equal(cfg.bindings[0].key, "x");
	assert_string_equal(cfg.bindings[0].action, "quit");
	assert_int_equal(cfg.bindings[0].line, 35);
	assert_int_equal(cfg.bindings[0].col, 13);
	assert_string_equal(cfg.bindings[1].key, "C-r");
	assert_string_equal(cfg.bindings[1].action, "redraw");
	assert_string_equal(cfg.bindings[2].key, "q");
	assert_string_equal(cfg.bindings[2].action, "none");
	assert_string_equal(cfg.bindings[3].section, "health");
	assert_string_equal(cfg.bindings[3].key, "r");
	assert_string_equal(cfg.bindings[3].action, "check-now");
	config_fini(&cfg);
	free(path);
}

static void
test_environment_default_and_check(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	/* the first environment is shown when none is named */
	assert_int_equal(load(&cfg, "environments:\n  staging:\n  production: "
	    "{ protected: true }\n", &e), 0);
	assert_string_equal(cfg.environment, "staging");
	assert_int_equal(cfg.n_envs, 2);
	assert_false(config_env(&cfg, "staging")->protected_env);
	assert_true(config_env(&cfg, "production")->protected_env);
	config_fini(&cfg);
	/* any name goes when there is no environments map */
	assert_int_equal(load(&cfg, "environment: qa\n", &e), 0);
	assert_string_equal(cfg.environment, "qa");
	config_fini(&cfg);

	expect_error("environment: prod\nenvironments:\n  production: {}\n",
	    "t.yml:1:14: environment 'prod' is not in 'environments' (did you "
	    "mean 'production'?)");
	expect_error("environment: qa\nenvironments:\n  production: {}\n  "
	    "staging: {}\n",
	    "t.yml:1:14: environment 'qa' is not in 'environments' (add it "
	    "there, or use one of: production, staging)");
	expect_error("environments:\n  production:\n    protectd: true\n",
	    "t.yml:3:5: unknown key 'protectd' in environment 'production' (did "
	    "you mean 'protected'?)");
	expect_error("environments:\n  production: { protected: maybe }\n",
	    "t.yml:2:28: 'protected' must be true or false, got 'maybe'");
	expect_error("environments:\n  staging: yes\n",
	    "t.yml:2:12: environment 'staging' must be a mapping like "
	    "{ protected: true }, got 'yes'");
	expect_error("environments: [production]\n",
	    "t.yml:1:1: 'environments' must be a mapping like { production: "
	    "{ protected: true }, staging: {} }, got a list");
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	expect_error("health:\n  interval: 5s\n  endpionts: []\n",
	    "t.yml:3:3: unknown key 'endpionts' in 'health' (did you mean "
	    "'endpoints'?)");
	/* two letters swapped in a short name */
	expect_error("fsp: 60\n", "t.yml:1:1: unknown key 'fsp' (did you mean "
	    "'fps'?)");
	/* nothing close: the known keys are listed */
	expect_error("colour: red\n", "t.yml:1:1: unknown key 'colour' (known "
	    "keys: project, environment, environments, audit, theme, fps, "
	    "layout, log_file, health, provider, datastores, flags, backups, logs, keys)");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "http://x\n      intervall: 5s\n",
	    "t.yml:5:7: unknown key 'intervall' in endpoint 'api' (did you mean "
	    "'interval'?)");
	/* a key that belongs elsewhere is unknown here */
	expect_error("interval: 5s\n", "t.yml:1:1: unknown key 'interval' (known "
	    "keys: project, environment, environments, audit, theme, fps, "
	    "layout, log_file, health, provider, datastores, flags, backups, logs, keys)");
	expect_error("? [a, b]\n: c\n", "t.yml:1:4: keys must be names, got a "
	    "list as a key");
}

static void
test_value_errors(void **state)
{
	(void)state;
	expect_error("health:\n  interval: fast\n",
	    "t.yml:2:13: 'interval' must be a duration like 5s or 250ms, got "
	    "'fast'");
	expect_error("health:\n  timeout: 10ms\n",
	    "t.yml:2:12: 'timeout' must be from 100ms to 1h, got '10ms'");
	expect_error("fps: 500\n", "t.yml:1:6: 'fps' must be from 1 to 240, "
	    "got 500");
	expect_error("fps: thirty\n", "t.yml:1:6: 'fps' must be a whole number "
	    "from 1 to 240, got 'thirty'");
	expect_error("fps: 30.5\n", "t.yml:1:6: 'fps' must be a whole number "
	    "from 1 to 240, got '30.5'");
	expect_error("layout: splitt\n", "t.yml:1:9: 'layout' must be one of "
	    "auto, split, single, got 'splitt' (did you mean 'split'?)");
	expect_error("layout: grid\n", "t.yml:1:9: 'layout' must be one of "
	    "auto, split, single, got 'grid'");
	expect_error("project: ''\n", "t.yml:1:10: 'project' must not be empty "
	    "(leave it out to use the default)");
	expect_error("health:\n  window: 1\n", "t.yml:2:11: 'window' must be "
	    "from 2 to 10000, got 1");
}

static void
test_wrong_types(void **state)
{
	(void)state;
	expect_error("health: [1, 2]\n", "t.yml:1:1: 'health' must be a mapping "
	    "like { interval: 5s, endpoints: [...] }, got a list");
	expect_error("health: often\n", "t.yml:1:9: 'health' must be a mapping "
	    "like { interval: 5s, endpoints: [...] }, got 'often'");
	expect_error("fps: { max: 30 }\n", "t.yml:1:1: 'fps' must be a whole "
	    "number from 1 to 240, got a mapping");
	expect_error("project:\n  - a\n", "t.yml:1:1: 'project' must be a "
	    "string, got a list");
	expect_error("health:\n  endpoints: { api: x }\n", "t.yml:2:3: "
	    "'endpoints' must be a list like - { name: api, url: "
	    "https://HOST/health }, got a mapping");
	expect_error("health:\n  endpoints:\n    - api\n", "t.yml:3:7: endpoint "
	    "1 must be a mapping like { name: api, url: https://HOST/health }, "
	    "got 'api'");
	expect_error("keys: [quit]\n", "t.yml:1:1: 'keys' must be a mapping like "
	    "{ global: { x: quit }, health: { r: check-now } }, got a list");
	expect_error("keys:\n  global: quit\n", "t.yml:2:11: bindings for "
	    "'global' must be a mapping of key names to actions like { x: quit "
	    "}, got 'quit'");
	/* the top level */
	expect_error("- project: acme\n", "t.yml:1:1: the top level must be a "
	    "mapping of options like 'project: acme', got a list");
	expect_error("acme\n", "t.yml:1:1: the top level must be a mapping of "
	    "options like 'project: acme', got 'acme'");
}

static void
test_null_values_keep_defaults(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	assert_int_equal(load(&cfg, "project:\nfps: ~\nlog_file: null\nhealth:\n"
	    "keys:\nenvironments:\n", &e), 0);
	assert_string_equal(cfg.project, "signalbox");
	assert_int_equal(cfg.fps, 30);
	assert_null(cfg.log_file);
	assert_int_equal(cfg.n_envs, 0);
	config_fini(&cfg);
	/* quoted, "null" is a string */
	assert_int_equal(load(&cfg, "project: 'null'\n", &e), 0);
	assert_string_equal(cfg.project, "null");
	config_fini(&cfg);
}

static void
test_anchors_and_extension_keys(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	/* top-level x- keys are skipped, so they can hold anchors */
	if (load(&cfg, "x-locked: &locked\n  protected: true\n  read_only: true\n"
	    "environments:\n  production: *locked\n  staging:\n    <<: *locked\n"
	    "    read_only: false\n", &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.n_envs, 2);
	assert_true(config_env(&cfg, "production")->protected_env);
	assert_true(config_env(&cfg, "production")->read_only);
	assert_true(config_env(&cfg, "staging")->protected_env);
	assert_false(config_env(&cfg, "staging")->read_only);
	config_fini(&cfg);
	/* only at the top */
	expect_error("health:\n  x-note: 1\n", "t.yml:2:3: unknown key 'x-note' in "
	    "'health' (known keys: interval, timeout, window, tls_warn_days, "
	    "tls_fail_days, endpoints)");
}

static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
		{ "250ms", 250 }, { "5s", 5000 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "5", 5000 }, { "1.5s", 1500 },
	};
	struct config cfg;
	struct err e;
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "health:\n  interval: %s\n  timeout: "
		    "100ms\n", cases[i].text);
		if (load(&cfg, text, &e) != 0)
			fail_msg("%s: %s", cases[i].text, e.msg);
		assert_int_equal(cfg.health_interval_ms, cases[i].ms);
		config_fini(&cfg);
	}
	expect_error("health:\n  interval: 5 s\n", "t.yml:2:13: 'interval' must "
	    "be a duration like 5s or 250ms, got '5 s'");
	expect_error("health:\n  interval: -5s\n", "t.yml:2:13: 'interval' must "
	    "be a duration like 5s or 250ms, got '-5s'");
	expect_error("health:\n  interval: 2d\n", "t.yml:2:13: 'interval' must "
	    "be from 100ms to 24h, got '2d'");
}

static void
test_cross_checks(void **state)
{
	(void)state;
	expect_error("health:\n  interval: 2s\n  timeout: 3s\n", "t.yml:3:12: "
	    "'timeout' (3s) must not be longer than 'interval' (2s)");
	/* against the default interval, reported where the timeout is */
	expect_error("health:\n  timeout: 6s\n", "t.yml:2:12: 'timeout' (6s) "
	    "must not be longer than 'interval' (5s)");
	expect_error("health:\n  tls_warn_days: 7\n", "t.yml:2:18: "
	    "'tls_fail_days' (7) must be less than 'tls_warn_days' (7)");
	expect_error("health:\n  tls_warn_days: 10\n  tls_fail_days: 14\n",
	    "t.yml:3:18: 'tls_fail_days' (14) must be less than 'tls_warn_days' "
	    "(10)");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "http://x\n      interval: 1s\n", "t.yml:5:17: endpoint 'api': "
	    "'timeout' (3s) must not be longer than 'interval' (1s)");
	/* a bad value is reported once, not again by the cross-check */
	expect_error("health:\n  tls_warn_days: many\n  tls_fail_days: 30\n",
	    "t.yml:2:18: 'tls_warn_days' must be a whole number from 1 to 3650, "
	    "got 'many'");
}

static void
test_endpoints(void **state)
{
	(void)state;
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "https://a/health\n    - name: web\n      url: https://b/\n    - "
	    "name: api\n      url: https://c/\n",
	    "t.yml:7:7: endpoint 'api' defined twice (first at 3:7)");
	expect_error("health:\n  endpoints:\n    - url: https://a/\n",
	    "t.yml:3:7: endpoint 1 has no 'name' (add name: NAME, unique among "
	    "the endpoints)");
	expect_error("health:\n  endpoints:\n    - name: api\n",
	    "t.yml:3:7: endpoint 'api' has no 'url' (add url: https://HOST/health)");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "ftp://x/\n", "t.yml:4:12: 'url' must be an http://, https://, ws:// "
	    "or wss:// URL with a host, got 'ftp://x/'");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "https:///x\n", "t.yml:4:12: 'url' must be an http://, https://, "
	    "ws:// or wss:// URL with a host, got 'https:///x'");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "ws://x/\n      type: http\n", "t.yml:5:13: endpoint 'api': type "
	    "'http' does not fit a ws:// or wss:// URL (use an http:// or "
	    "https:// URL, or type: websocket)");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "http://x/\n      type: websocket\n", "t.yml:5:13: endpoint 'api': "
	    "type 'websocket' needs a ws:// or wss:// URL");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "http://x/\n      expect: 600\n", "t.yml:5:15: 'expect' must be "
	    "from 100 to 599, got 600");
	expect_error("health:\n  endpoints:\n    - name: api\n      url: "
	    "http://x/\n      headers: on\n", "t.yml:5:16: 'headers' must be one "
	    "of strict, off, got 'on'");
}

static void
test_endpoint_explicit_values(void **state)
{
	const struct config_endpoint *ep;
	struct config cfg;
	struct err e;

	(void)state;
	/* headers: off on https, strict on http; websocket with expect */
	if (load(&cfg, "health:\n  interval: 1m\n  timeout: 20s\n  endpoints:\n"
	    "    - { name: a, url: 'HTTPS://A/', headers: off }\n"
	    "    - { name: b, url: 'http://b/', headers: STRICT }\n"
	    "    - { name: c, url: 'ws://c/', type: websocket, expect: 200 }\n",
	    &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.n_endpoints, 3);
	ep = &cfg.endpoints[0];
	assert_int_equal(ep->headers, CONFIG_HEADERS_OFF);
	assert_int_equal(ep->interval_ms, 60000);
	assert_int_equal(ep->timeout_ms, 20000);
	assert_int_equal(ep->line, 5);
	assert_int_equal(ep->col, 9);
	assert_int_equal(cfg.endpoints[1].headers, CONFIG_HEADERS_STRICT);
	assert_int_equal(cfg.endpoints[2].type, CONFIG_EP_WEBSOCKET);
	assert_int_equal(cfg.endpoints[2].expect, 200);
	config_fini(&cfg);
}

static void
test_relative_paths(void **state)
{
	const char *text = "log_file: signalbox.log\nhealth:\n  endpoints:\n"
	    "    - name: a\n      url: https://a/\n      ca_file: certs/ca.pem\n"
	    "    - name: b\n      url: https://b/\n      ca_file: /etc/ca.pem\n"
	    "    - name: c\n      url: https://c/\n      ca_file: ~/ca.pem\n";
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	struct config cfg;
	struct err e;

	(void)state;
	setenv("HOME", "/home/op", 1);
	config_init(&cfg);
	if (config_load_string(&cfg, text, strlen(text), "/etc/signalbox/x.yml",
	    &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(cfg.log_file, "/etc/signalbox/signalbox.log");
	assert_string_equal(cfg.endpoints[0].ca_file, "/etc/signalbox/certs/ca.pem");
	assert_string_equal(cfg.endpoints[1].ca_file, "/etc/ca.pem");
	assert_string_equal(cfg.endpoints[2].ca_file, "/home/op/ca.pem");
	config_fini(&cfg);

	/* a name without a directory: the file is in the working directory */
	config_init(&cfg);
	assert_int_equal(config_load_string(&cfg, text, strlen(text), "x.yml", &e), 0);
	assert_string_equal(cfg.endpoints[0].ca_file, "certs/ca.pem");
	config_fini(&cfg);
	config_init(&cfg);
	assert_int_equal(config_load_string(&cfg, text, strlen(text), "/x.yml", &e), 0);
	assert_string_equal(cfg.endpoints[0].ca_file, "/certs/ca.pem");
	config_fini(&cfg);

	if (home != NULL)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	free(home);
}

static void
test_bindings(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	assert_int_equal(load(&cfg, "keys:\n  global:\n    M-x: command\n    F5: "
	    "redraw\n    PgDn: page-down\n    Space: none\n  health:\n    c: none\n",
	    &e), 0);
	assert_int_equal(cfg.n_bindings, 5);
	assert_string_equal(cfg.bindings[0].key, "M-x");
	assert_string_equal(cfg.bindings[0].action, "command");
	assert_int_equal(cfg.bindings[0].line, 3);
	assert_int_equal(cfg.bindings[0].col, 5);
	assert_string_equal(cfg.bindings[4].section, "health");
	config_fini(&cfg);

	expect_error("keys:\n  global:\n    Ctrl+r: redraw\n", "t.yml:3:5: "
	    "unknown key name 'Ctrl+r' (key names look like j, G, C-r, M-x, "
	    "Enter, PgDn, F5)");
	expect_error("keys:\n  health: { r: chek-now }\n", "t.yml:2:16: "
	    "unknown action 'chek-now' (did you mean 'check-now'?)");
	expect_error("keys:\n  global: { r: explode }\n", "t.yml:2:16: unknown "
	    "action 'explode' (see 'signalbox keys' for the list, or use none to "
	    "remove a binding)");
	expect_error("keys:\n  helth: { r: check-now }\n", "t.yml:2:3: unknown "
	    "key section 'helth' (did you mean 'health'?)");
	expect_error("keys:\n  panes: { r: check-now }\n", "t.yml:2:3: unknown "
	    "key section 'panes' (sections are global, health, deployments, "
	    "replicas, vars, datastores, backups, flags, logs)");
	expect_error("keys:\n  global:\n    Enter: open\n    Return: quit\n",
	    "t.yml:4:5: key 'Return' is bound twice in 'global' (first as "
	    "'Enter' at 3:5)");
	expect_error("keys:\n  global:\n    x:\n", "t.yml:3:5: no action for "
	    "key 'x' (give an action name, or none to remove the binding)");
	expect_error("keys:\n  global:\n    x: [quit]\n", "t.yml:3:5: the "
	    "action for 'x' must be an action name like quit, got a list");
}

static void
test_yaml_syntax_errors(void **state)
{
	char *path = fixture("syntax.yml");
	struct config cfg;
	struct err e;

	(void)state;
	/* libfyaml's own positions, reported as file:line:col */
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, path, &e), -1);
	assert_int_equal(e.code, ERR_PARSE);
	assert_non_null(strstr(e.msg, "syntax.yml:4:1: invalid YAML: "));
	assert_int_equal(count_lines(e.msg), 1);
	assert_int_equal(strncmp(e.msg, path, strlen(path)), 0);
	config_fini(&cfg);
	free(path);

	expect_error("project: acme\nproject: other\n", "t.yml:2:1: duplicate key "
	    "'project' (each key may appear once in a mapping)");
	expect_error("fps: 3\nproject: \"acme\n", "t.yml:2:10: invalid YAML: "
	    "double-quoted scalar without closing quote");
	expect_error("health:\n  interval: 5s\n   timeout: 3s\n", "t.yml:2:13: "
	    "invalid YAML: invalid multiline plain key");
	expect_error("fps: *nope\n", "t.yml:1:6: invalid YAML: invalid alias");
	expect_error("fps: [1, 2]]\n", "t.yml:1:12: invalid YAML: flow sequence "
	    "with invalid extra closing bracket");
}

static void
test_many_errors_collected(void **state)
{
	char *path = fixture("errors.yml");
	char text[8192];
	struct config cfg;
	struct err e;
	size_t used = 0;
	int i;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, path, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	/* all of them, in file order, whatever order they were found in */
	assert_int_equal(count_lines(e.msg), 7);
	assert_non_null(strstr(e.msg, "errors.yml:2:1: unknown key 'fsp' (did you "
	    "mean 'fps'?)\n"));
	assert_true(strstr(e.msg, "errors.yml:2:1:") < strstr(e.msg,
	    "errors.yml:4:13: 'interval' must be a duration like 5s or 250ms, "
	    "got 'fast'\n"));
	assert_true(strstr(e.msg, "errors.yml:4:13:") < strstr(e.msg,
	    "errors.yml:5:3: unknown key 'endpionts' in 'health' (did you mean "
	    "'endpoints'?)\n"));
	assert_true(strstr(e.msg, "errors.yml:5:3:") < strstr(e.msg,
	    "errors.yml:9:7: endpoint 'api' defined twice (first at 7:7)\n"));
	assert_true(strstr(e.msg, "errors.yml:9:7:") < strstr(e.msg,
	    "errors.yml:10:12: 'url' must be"));
	assert_true(strstr(e.msg, "errors.yml:10:12:") < strstr(e.msg,
	    "errors.yml:13:5: unknown key name 'Ctrl+r'"));
	assert_true(strstr(e.msg, "errors.yml:13:5:") < strstr(e.msg,
	    "errors.yml:15:8: unknown action 'chek-now' (did you mean "
	    "'check-now'?)"));
	/* the config is untouched by a failed load */
	assert_string_equal(cfg.project, "signalbox");
	assert_null(cfg.path);
	config_fini(&cfg);
	free(path);

	/* more than E can hold: as many whole lines as fit, then the count */
	for (i = 0; i < 60; i++)
		used += (size_t)snprintf(text + used, sizeof text - used,
		    "unknown_option_%02d: 1\n", i);
	assert_int_equal(load(&cfg, text, &e), -1);
	assert_true(strlen(e.msg) < sizeof e.msg);
	assert_non_null(strstr(e.msg, "t.yml:1:1: unknown key 'unknown_option_00'"));
	{
		const char *tail = strrchr(e.msg, '\n') + 1;
		size_t shown = count_lines(e.msg) - 1;
		char want[64];

		snprintf(want, sizeof want, "... and %zu more", 60 - shown);
		assert_string_equal(tail, want);
		assert_true(shown >= 3);
	}
	config_fini(&cfg);
}

static void
test_failed_load_keeps_config(void **state)
{
	const char *good = "project: acme\nfps: 60\n";
	const char *bad = "project: other\nfps: 0\n";
	struct config cfg;
	struct err e;

	(void)state;
	assert_int_equal(load(&cfg, good, &e), 0);
	assert_int_equal(config_load_string(&cfg, bad, strlen(bad), "u.yml", &e), -1);
	assert_string_equal(e.msg, "u.yml:2:6: 'fps' must be from 1 to 240, got 0");
	assert_string_equal(cfg.project, "acme");
	assert_int_equal(cfg.fps, 60);
	assert_string_equal(cfg.path, "t.yml");
	config_fini(&cfg);
}

static void
test_messages_stay_on_one_line(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	assert_int_equal(load(&cfg, "\"a\\nb\": 1\n", &e), -1);
	assert_int_equal(count_lines(e.msg), 1);
	assert_non_null(strstr(e.msg, "unknown key 'a?b'"));
	config_fini(&cfg);
}

static char *
dump_to_string(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_dump(cfg, f);
	fclose(f);
	return buf;
}

static void
test_dump_round_trip(void **state)
{
	char *path = fixture("full.yml"), *first, *second;
	struct config a, b;
	struct err e;
	size_t i;

	(void)state;
	config_init(&a);
	if (config_load_file(&a, path, &e) != 0)
		fail_msg("%s", e.msg);
	first = dump_to_string(&a);
	/* descriptions come along as comments */
	assert_non_null(strstr(first, "# Time between two checks of an "
	    "endpoint.\n  interval: 5s\n"));
	assert_non_null(strstr(first, "\nfps: 30\n"));
	config_init(&b);
	if (config_load_string(&b, first, strlen(first), "dump.yml", &e) != 0)
		fail_msg("dump does not load back: %s\n%s", e.msg, first);

	assert_string_equal(b.project, a.project);
	assert_string_equal(b.environment, a.environment);
	assert_string_equal(b.theme, a.theme);
	assert_string_equal(b.layout, a.layout);
	assert_string_equal(b.log_file, a.log_file);
	assert_int_equal(b.fps, a.fps);
	assert_int_equal(b.health_interval_ms, a.health_interval_ms);
	assert_int_equal(b.health_timeout_ms, a.health_timeout_ms);
	assert_int_equal(b.health_window, a.health_window);
	assert_int_equal(b.tls_warn_days, a.tls_warn_days);
	assert_int_equal(b.tls_fail_days, a.tls_fail_days);
	assert_int_equal(b.n_envs, a.n_envs);
	for (i = 0; i < a.n_envs; i++) {
		assert_string_equal(b.envs[i].name, a.envs[i].name);
		assert_int_equal(b.envs[i].protected_env, a.envs[i].protected_env);
		assert_int_equal(b.envs[i].read_only, a.envs[i].read_only);
	}
	assert_int_equal(b.n_endpoints, a.n_endpoints);
	for (i = 0; i < a.n_endpoints; i++) {
		const struct config_endpoint *x = &a.endpoints[i], *y = &b.endpoints[i];

		assert_string_equal(y->name, x->name);
		assert_string_equal(y->url, x->url);
		assert_int_equal(y->type, x->type);
		assert_int_equal(y->expect, x->expect);
		assert_int_equal(y->interval_ms, x->interval_ms);
		assert_int_equal(y->timeout_ms, x->timeout_ms);
		assert_int_equal(y->headers, x->headers);
		if (x->ca_file != NULL)
			assert_string_equal(y->ca_file, x->ca_file);
		else
			assert_null(y->ca_file);
		if (x->service != NULL)
			assert_string_equal(y->service, x->service);
		else
			assert_null(y->service);
		assert_string_equal(y->ws_message, x->ws_message);
	}
	assert_int_equal(b.n_bindings, a.n_bindings);
	for (i = 0; i < a.n_bindings; i++) {
		assert_string_equal(b.bindings[i].section, a.bindings[i].section);
		assert_string_equal(b.bindings[i].key, a.bindings[i].key);
		assert_string_equal(b.bindings[i].action, a.bindings[i].action);
	}
	/* and dumping again gives the same text */
	second = dump_to_string(&b);
	assert_string_equal(second, first);
	free(first);
	free(second);
	config_fini(&a);
	config_fini(&b);
	free(path);
}

static void
test_dump_quotes_and_defaults(void **state)
{
	const char *text = "project: \"a \\\"quoted\\\" name: #1\"\ntheme: "
	    "\"yes\"\nhealth:\n  interval: 1500ms\n  timeout: 1s\n  endpoints:\n    - name: "
	    "'1'\n      url: 'http://x/?a=1&b=#2'\n      ws_message: \"tab\\there\"\n"
	    "keys:\n  global:\n    ':': command\n    '#': help\n";
	struct config a, b;
	struct err e;
	char *out;

	(void)state;
	if (load(&a, text, &e) != 0)
		fail_msg("%s", e.msg);
	out = dump_to_string(&a);
	config_init(&b);
	if (config_load_string(&b, out, strlen(out), "dump.yml", &e) != 0)
		fail_msg("%s\n%s", e.msg, out);
	assert_string_equal(b.project, "a \"quoted\" name: #1");
	assert_string_equal(b.theme, "yes");
	assert_int_equal(b.health_interval_ms, 1500);
	assert_string_equal(b.endpoints[0].name, "1");
	assert_string_equal(b.endpoints[0].url, "http://x/?a=1&b=#2");
	assert_string_equal(b.endpoints[0].ws_message, "tab\there");
	assert_string_equal(b.bindings[0].key, ":");
	assert_string_equal(b.bindings[1].key, "#");
	free(out);
	config_fini(&a);
	config_fini(&b);

	/* the defaults dump loads back as the defaults */
	config_init(&a);
	out = dump_to_string(&a);
	config_init(&b);
	if (config_load_string(&b, out, strlen(out), "dump.yml", &e) != 0)
		fail_msg("%s\n%s", e.msg, out);
	assert_string_equal(b.project, "signalbox");
	assert_string_equal(b.environment, "production");
	assert_null(b.log_file);
	assert_int_equal(b.n_envs, 0);
	assert_int_equal(b.n_endpoints, 0);
	free(out);
	config_fini(&a);
	config_fini(&b);
}

static void
test_load_file_errors(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, "/nonexistent/signalbox.yml", &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "/nonexistent/signalbox.yml: no such file"));
	assert_int_equal(config_load_file(&cfg, "/", &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "/: "));
	assert_string_equal(cfg.project, "signalbox");
	config_fini(&cfg);
}

static void
test_empty_fixture(void **state)
{
	char *path = fixture("empty.yml");
	struct config cfg;
	struct err e;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, path, &e), 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.fps, 30);
	config_fini(&cfg);
	free(path);
}

static void
test_default_path(void **state)
{
	char *xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *p;

	(void)state;
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	setenv("HOME", "/home/op", 1);
	p = config_default_path();
	assert_string_equal(p, "/xdg/signalbox/signalbox.yml");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	p = config_default_path();
	assert_string_equal(p, "/home/op/.config/signalbox/signalbox.yml");
	free(p);
	/* the XDG spec: a relative XDG_CONFIG_HOME is ignored */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	p = config_default_path();
	assert_string_equal(p, "/home/op/.config/signalbox/signalbox.yml");
	free(p);

	if (xdg != NULL)
		setenv("XDG_CONFIG_HOME", xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	if (home != NULL)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	free(xdg);
	free(home);
}

struct option_row {
	char name[128], type[32], def[128], desc[512];
};

static size_t
read_options(struct option_row *rows, size_t max)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_print_options(f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *name = line, *type, *def, *desc;

		assert_true(n < max);
		type = strchr(name, '\t');
		assert_non_null(type);
		*type++ = '\0';
		def = strchr(type, '\t');
		assert_non_null(def);
		*def++ = '\0';
		desc = strchr(def, '\t');
		assert_non_null(desc);
		*desc++ = '\0';
		assert_null(strchr(desc, '\t'));
		snprintf(rows[n].name, sizeof rows[n].name, "%s", name);
		snprintf(rows[n].type, sizeof rows[n].type, "%s", type);
		snprintf(rows[n].def, sizeof rows[n].def, "%s", def);
		snprintf(rows[n].desc, sizeof rows[n].desc, "%s", desc);
		n++;
	}
	free(buf);
	return n;
}

static void
test_print_options(void **state)
{
	static const char *const types[] = {
		"string", "int", "bool", "duration", "enum", "list", "map",
	};
	struct option_row rows[128];
	size_t n, i, k;
	int found;

	(void)state;
	n = read_options(rows, 128);
	assert_true(n >= 25);
	for (i = 0; i < n; i++) {
		for (k = 0, found = 0; k < sizeof types / sizeof types[0]; k++)
			found |= strcmp(rows[i].type, types[k]) == 0;
		assert_true(found);
		assert_true(rows[i].desc[0] != '\0');
		for (k = 0; k < i; k++)
			assert_string_not_equal(rows[k].name, rows[i].name);
	}
	assert_string_equal(rows[0].name, "project");
	for (i = 0, found = 0; i < n; i++) {
		if (strcmp(rows[i].name, "health.interval") == 0) {
			assert_string_equal(rows[i].type, "duration");
			assert_string_equal(rows[i].def, "5s");
			found = 1;
		}
		if (strcmp(rows[i].name, "health.endpoints[].url") == 0)
			assert_string_equal(rows[i].def, "required");
		if (strcmp(rows[i].name, "layout") == 0)
			assert_non_null(strstr(rows[i].desc, "One of: auto, split, "
			    "single."));
	}
	assert_true(found);
}

/* docs/signalbox.yml.5 lists exactly the options of the table, each as
 * ".It Ic NAME Pq Vt TYPE" followed by its description and "Default: DEF." */
static void
test_man_page_matches_table(void **state)
{
	struct option_row rows[128];
	char path[4096], line[1024], *text = NULL, *it;
	size_t n, i, len = 0, items = 0;
	FILE *f, *m;

	(void)state;
	n = read_options(rows, 128);
	snprintf(path, sizeof path, "%s/docs/signalbox.yml.5", source_dir());
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	m = open_memstream(&text, &len);
	assert_non_null(m);
	while (fgets(line, sizeof line, f) != NULL) {
		fputs(line, m);
		if (strncmp(line, ".It Ic ", 7) == 0 && strstr(line, " Pq Vt ") != NULL)
			items++;
	}
	fclose(f);
	fclose(m);
	assert_int_equal(items, n);
	for (i = 0; i < n; i++) {
		char head[256], def[256], *next, *sent;
		const char *desc = rows[i].desc;

		snprintf(head, sizeof head, "\n.It Ic %s Pq Vt %s\n", rows[i].name,
		    rows[i].type);
		it = strstr(text, head);
		if (it == NULL)
			fail_msg("%s: no '%s' in the man page", path, head + 1);
		it += strlen(head);
		next = strstr(it, "\n.It ");
		if (next == NULL)
			next = strstr(it, "\n.El");
		assert_non_null(next);
		*next = '\0';
		snprintf(def, sizeof def, "Default: %s.", rows[i].def);
		if (strstr(it, def) == NULL)
			fail_msg("%s: '%s' not under %s", path, def, rows[i].name);
		/* each sentence of the description, one per line */
		while (*desc != '\0') {
			char want[512];

			sent = strstr(desc, ". ");
			len = sent != NULL ? (size_t)(sent - desc) + 1 : strlen(desc);
			snprintf(want, sizeof want, "%.*s\n", (int)len, desc);
			if (strstr(it, want) == NULL)
				fail_msg("%s: '%.*s' not under %s", path, (int)len, desc,
				    rows[i].name);
			desc += len;
			while (*desc == ' ')
				desc++;
		}
		*next = '\n';
	}

	/* the example of the man page is a valid configuration */
	{
		const char *start = strstr(text, "\n.Sh EXAMPLES\n.Bd -literal -offset "
		    "indent\n");
		const char *end;
		struct config cfg;
		struct err e;

		assert_non_null(start);
		start = strchr(start + 1, '\n');
		start = strchr(start + 1, '\n') + 1;
		end = strstr(start, ".Ed\n");
		assert_non_null(end);
		config_init(&cfg);
		if (config_load_string(&cfg, start, (size_t)(end - start),
		    "signalbox.yml.5", &e) != 0)
			fail_msg("%s", e.msg);
		assert_int_equal(cfg.n_endpoints, 2);
		assert_int_equal(cfg.n_bindings, 3);
		config_fini(&cfg);
	}
	free(text);
}

/* provider: defaults, the full mapping, and every check with its position. */
static void
test_provider(void **state)
{
	struct config cfg;
	struct err e;

	(void)state;
	/* no mapping: no provider, but usable defaults */
	if (load(&cfg, "project: x\n", &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.provider.type, CONFIG_PROVIDER_NONE);
	assert_string_equal(cfg.provider.endpoint, "https://backboard.railway.com/graphql/v2");
	assert_string_equal(cfg.provider.token_env, "RAILWAY_TOKEN");
	assert_int_equal(cfg.provider.poll_ms, 10000);
	config_fini(&cfg);

	if (load(&cfg, "environment: staging\nprovider:\n  project_id: p-1\n", &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.provider.type, CONFIG_PROVIDER_RAILWAY);
	assert_string_equal(cfg.provider.project_id, "p-1");
	assert_int_equal(cfg.provider.token_kind, CONFIG_TOKEN_BEARER);
	assert_null(cfg.provider.token_file);
	/* the environment defaults to the one shown */
	assert_string_equal(cfg.provider.environment, "staging");
	assert_int_equal(cfg.provider.line, 2);
	config_fini(&cfg);

	if (load(&cfg, "provider:\n  type: railway\n  endpoint: http://127.0.0.1:1/graphql/v2\n"
	    "  token_env: SANDBOX_TOKEN\n  token_file: tok\n  token_kind: project\n"
	    "  environment: 4ba881aa\n  poll: 2s\n", &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(cfg.provider.endpoint, "http://127.0.0.1:1/graphql/v2");
	assert_string_equal(cfg.provider.token_env, "SANDBOX_TOKEN");
	assert_int_equal(cfg.provider.token_kind, CONFIG_TOKEN_PROJECT);
	assert_null(cfg.provider.project_id);	/* fine with a project token */
	assert_string_equal(cfg.provider.environment, "4ba881aa");
	assert_int_equal(cfg.provider.poll_ms, 2000);
	assert_non_null(cfg.provider.token_file);
	assert_non_null(strstr(cfg.provider.token_file, "tok"));
	{
		/* the dump loads back with the same provider */
		char *text = dump_to_string(&cfg);
		struct config back;

		assert_non_null(strstr(text, "\nprovider:\n"));
		config_init(&back);
		if (config_load_string(&back, text, strlen(text), "dump.yml", &e) != 0)
			fail_msg("%s\n%s", e.msg, text);
		assert_int_equal(back.provider.type, CONFIG_PROVIDER_RAILWAY);
		assert_string_equal(back.provider.endpoint, cfg.provider.endpoint);
		assert_string_equal(back.provider.token_env, cfg.provider.token_env);
		assert_string_equal(back.provider.token_file, cfg.provider.token_file);
		assert_int_equal(back.provider.token_kind, CONFIG_TOKEN_PROJECT);
		assert_string_equal(back.provider.environment, "4ba881aa");
		assert_int_equal(back.provider.poll_ms, 2000);
		config_fini(&back);
		free(text);
	}
	config_fini(&cfg);

	expect_error("provider:\n  token_kind: bearer\n", "t.yml:1:1: 'provider' needs "
	    "'project_id' with token_kind bearer (copy it from the project's settings, "
	    "or use a project token with token_kind: project)");
	expect_error("provider:\n  project_id: p\n  type: exec\n", "t.yml:3:9: 'type' "
	    "must be one of railway, got 'exec'");
	expect_error("provider:\n  project_id: p\n  endpoint: ftp://x/\n", "t.yml:3:13: "
	    "'endpoint' must be an http:// or https:// URL with a host, got 'ftp://x/'");
	expect_error("provider:\n  project_id: p\n  token_env: \"rw_abc 123\"\n",
	    "t.yml:3:14: 'token_env' must be the name of an environment variable like "
	    "RAILWAY_TOKEN, got 'rw_abc 123' (the token itself never goes in this file)");
	expect_error("provider:\n  project_id: p\n  poll: 10ms\n", "t.yml:3:9: 'poll' "
	    "must be from 1s to 1h, got '10ms'");
	expect_error("provider:\n  project_id: p\n  token: abc\n", "t.yml:3:3: unknown "
	    "key 'token' in 'provider' (did you mean 'token_env'?)");
	expect_error("provider: railway\n", "t.yml:1:11: 'provider' must be a mapping "
	    "like { type: railway, project_id: ID }, got 'railway'");
}

static void
test_logs(void **state)
{
	struct config cfg;
	struct err e;
	const char *ok = "logs:\n  max_memory: 8\n  ansi_colors: keep\n  sources:\n"
	    "    - { name: app, file: /var/log/app.log, backlog: 10 }\n"
	    "    - { name: journal, command: [journalctl, -f, -u, 'api svc'], restart: true }\n";

	(void)state;
	assert_int_equal(load(&cfg, ok, &e), 0);
	assert_int_equal(cfg.logs_max_memory, (size_t)8 << 20);
	assert_int_equal(cfg.logs_max_line, (size_t)64 << 10);
	assert_true(cfg.logs_keep_sgr);
	assert_int_equal(cfg.n_log_sources, 2);
	assert_string_equal(cfg.log_sources[0].path, "/var/log/app.log");
	assert_int_equal(cfg.log_sources[0].backlog, 10);
	assert_null(cfg.log_sources[0].argv);
	assert_string_equal(cfg.log_sources[1].argv[0], "journalctl");
	assert_string_equal(cfg.log_sources[1].argv[3], "api svc");
	assert_null(cfg.log_sources[1].argv[4]);
	assert_true(cfg.log_sources[1].restart);
	config_fini(&cfg);

	expect_error("logs:\n  sources:\n    - { name: j, command: journalctl -f }\n",
	    "t.yml:3:27: 'command' must be a list of words like [journalctl, -f, -u, "
	    "api]; for a shell pipeline write [sh, -c, '...']");
	expect_error("logs:\n  sources:\n    - { name: j, file: /x, command: [a] }\n",
	    "t.yml:3:9: log source 1 needs exactly one of 'file' (a file to follow) or "
	    "'command' (a list like [journalctl, -f])");
	expect_error("logs:\n  sources:\n    - { file: /x }\n",
	    "t.yml:3:9: log source 1 has no 'name' (add name: NAME, the tag shown in "
	    "the logs pane)");
	expect_error("logs:\n  max_memory: 0\n",
	    "t.yml:2:15: 'max_memory' must be from 1 to 65536, got 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_documents_give_defaults),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_environment_default_and_check),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_null_values_keep_defaults),
		cmocka_unit_test(test_anchors_and_extension_keys),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_endpoint_explicit_values),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_yaml_syntax_errors),
		cmocka_unit_test(test_many_errors_collected),
		cmocka_unit_test(test_failed_load_keeps_config),
		cmocka_unit_test(test_messages_stay_on_one_line),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_dump_quotes_and_defaults),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_empty_fixture),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_print_options),
		cmocka_unit_test(test_man_page_matches_table),
		cmocka_unit_test(test_provider),
		cmocka_unit_test(test_logs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
