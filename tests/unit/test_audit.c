/* test_audit.c - the JSONL audit log: format, escaping, secrets, files,
 * concurrent writers, unwritable paths, and its configuration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/audit.h"
#include "signalbox/config.h"

/* 2026-11-23 10:00:00.123 UTC */
#define T_MS 1795428000123LL

static char tmpdir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sb-audit-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void
sample(struct audit_entry *en, struct audit_param *params)
{
	memset(en, 0, sizeof *en);
	params[0] = (struct audit_param){ "region", AUDIT_P_STRING, "us-west2", 0 };
	params[1] = (struct audit_param){ "from", AUDIT_P_NUMBER, NULL, 2 };
	params[2] = (struct audit_param){ "to", AUDIT_P_NUMBER, NULL, 5 };
	params[3] = (struct audit_param){ "skip_deploys", AUDIT_P_BOOL, NULL, 1 };
	en->time_ms = T_MS;
	en->operator_name = "alice";
	en->ssh_client = "10.0.0.7";
	en->project = "acme";
	en->environment = "production";
	en->target = "api";
	en->action = "scale";
	en->params = params;
	en->n_params = 4;
	en->before = "2";
	en->after = "5";
	en->reason = "incident 42: traffic spike";
	en->result = AUDIT_ALLOWED;
	en->duration_ms = -1;
}

static void
test_format_fields(void **state)
{
	struct audit_param params[4];
	struct audit_entry en;
	cJSON *j, *p;
	char *line;

	(void)state;
	sample(&en, params);
	line = audit_format(&en);
	assert_non_null(line);
	/* one line, ending in a newline */
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	assert_string_equal(line, "{\"time\":\"2026-11-23T10:00:00.123Z\","
	    "\"operator\":\"alice\",\"ssh_client\":\"10.0.0.7\",\"project\":\"acme\","
	    "\"environment\":\"production\",\"target\":\"api\",\"action\":\"scale\","
	    "\"params\":{\"region\":\"us-west2\",\"from\":2,\"to\":5,"
	    "\"skip_deploys\":true},\"before\":\"2\",\"after\":\"5\","
	    "\"reason\":\"incident 42: traffic spike\",\"result\":\"allowed\","
	    "\"error\":null,\"duration_ms\":null}\n");
	j = cJSON_Parse(line);
	assert_non_null(j);
	p = cJSON_GetObjectItem(j, "params");
	assert_int_equal(cJSON_GetObjectItem(p, "to")->valueint, 5);
	cJSON_Delete(j);
	free(line);

	/* results, a duration, no SSH */
	en.ssh_client = NULL;
	en.result = AUDIT_FAILED;
	en.error = "Not Authorized: check RAILWAY_TOKEN";
	en.duration_ms = 1234;
	line = audit_format(&en);
	assert_non_null(strstr(line, "\"ssh_client\":null"));
	assert_non_null(strstr(line, "\"result\":\"failed\",\"error\":\"Not Authorized: "
	    "check RAILWAY_TOKEN\",\"duration_ms\":1234}"));
	free(line);
	assert_string_equal(audit_result_name(AUDIT_CANCELLED), "cancelled");
	assert_string_equal(audit_result_name(AUDIT_REFUSED), "refused");
	assert_string_equal(audit_result_name(AUDIT_OK), "ok");
}

/* Control characters, C1, DEL, bidi overrides and invalid UTF-8 from an
 * API or an operator are escaped: the line is valid JSON and drives no
 * terminal. */
static void
test_format_escapes_everything(void **state)
{
	struct audit_param params[4];
	struct audit_entry en;
	const unsigned char *c;
	cJSON *j;
	char *line;

	(void)state;
	sample(&en, params);
	en.target = "api\033[2J\x07\n\t\"quoted\"\\";
	en.error = "c1:\xc2\x9b" "31m del:\x7f bidi:\xe2\x80\xae" "evil bad:\xff\xfe end";
	en.reason = "newline\r\ninjected\",\"result\":\"ok";
	line = audit_format(&en);
	assert_non_null(line);
	for (c = (const unsigned char *)line; *c != '\0'; c++) {
		assert_true(*c >= 0x20 || *c == '\n');
		assert_true(*c != 0x7f);
		if (*c == 0xc2)
			assert_false(c[1] >= 0x80 && c[1] <= 0x9f);
	}
	assert_null(strstr(line, "\xe2\x80\xae"));
	assert_non_null(strstr(line, "api\\u001b[2J\\u0007\\n\\t\\\"quoted\\\"\\\\"));
	assert_non_null(strstr(line, "c1:\\u009b31m del:\\u007f bidi:\\u202eevil "
	    "bad:\xef\xbf\xbd\xef\xbf\xbd end"));
	/* exactly one line, and the reason could not add a field */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	j = cJSON_Parse(line);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "result")->valuestring, "allowed");
	assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring,
	    "newline\r\ninjected\",\"result\":\"ok");
	assert_string_equal(cJSON_GetObjectItem(j, "target")->valuestring,
	    "api\033[2J\x07\n\t\"quoted\"\\");
	cJSON_Delete(j);
	free(line);
}

/* A secret parameter is its length and fingerprint, never its value. */
static void
test_secret_params(void **state)
{
	static const char secret[] = "postgres://admin:hunter2@db.internal/prod";
	struct audit_param params[4];
	struct audit_entry en;
	char fp[AUDIT_FP_LEN + 1];
	cJSON *j, *v;
	char *line;

	(void)state;
	sample(&en, params);
	params[0] = (struct audit_param){ "name", AUDIT_P_STRING, "DATABASE_URL", 0 };
	params[1] = (struct audit_param){ "value", AUDIT_P_SECRET, secret, 0 };
	params[2] = (struct audit_param){ "old", AUDIT_P_REDACTED, "0123abcd", 17 };
	en.n_params = 3;
	en.action = "var-set";
	line = audit_format(&en);
	assert_non_null(line);
	assert_null(strstr(line, "hunter2"));
	assert_null(strstr(line, "postgres://"));
	audit_fingerprint(secret, strlen(secret), fp);
	j = cJSON_Parse(line);
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "value");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "secret")));
	assert_int_equal(cJSON_GetObjectItem(v, "length")->valueint, (int)strlen(secret));
	assert_string_equal(cJSON_GetObjectItem(v, "fingerprint")->valuestring, fp);
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "old");
	assert_int_equal(cJSON_GetObjectItem(v, "length")->valueint, 17);
	assert_string_equal(cJSON_GetObjectItem(v, "fingerprint")->valuestring, "0123abcd");
	cJSON_Delete(j);
	free(line);
	/* a REDACTED value that is not a fingerprint is not written either */
	params[2].value = "hunter2";
	line = audit_format(&en);
	assert_null(strstr(line, "hunter2"));
	free(line);
}

static void
test_fingerprint_and_time(void **state)
{
	char fp[AUDIT_FP_LEN + 1], buf[48];

	(void)state;
	/* FNV-1a 64 test vectors: cbf29ce484222325, af63dc4c8601ec8c */
	audit_fingerprint("", 0, fp);
	assert_string_equal(fp, "cbf29ce4");
	audit_fingerprint("a", 1, fp);
	assert_string_equal(fp, "af63dc4c");
	audit_fingerprint("foobar", 6, fp);
	assert_string_equal(fp, "85944171");
	audit_fmt_time(T_MS, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-23T10:00:00.123Z");
	audit_fmt_time(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void
test_long_fields_are_cut(void **state)
{
	struct audit_param params[4];
	struct audit_entry en;
	char *big = malloc(100000), *line;
	cJSON *j;

	(void)state;
	memset(big, 'x', 99999);
	big[99999] = '\0';
	/* a multi-byte character across the limit is not split */
	memcpy(big + AUDIT_FIELD_MAX - 1, "é", 2);
	sample(&en, params);
	en.error = big;
	line = audit_format(&en);
	j = cJSON_Parse(line);
	assert_non_null(j);
	assert_true(strlen(cJSON_GetObjectItem(j, "error")->valuestring) <=
	    AUDIT_FIELD_MAX + 3);
	assert_non_null(strstr(cJSON_GetObjectItem(j, "error")->valuestring, "…"));
	cJSON_Delete(j);
	free(line);
	free(big);
}

static void
test_file_modes_and_append(void **state)
{
	struct audit_param params[4];
	struct audit_entry en;
	char path[512], *text, *nl;
	struct stat st;
	struct audit *a;
	struct err e;
	mode_t old = umask(022);

	(void)state;
	snprintf(path, sizeof path, "%s/state/deep/signalbox/audit.jsonl", tmpdir);
	a = audit_open(path, 1);
	assert_string_equal(audit_path(a), path);
	assert_int_equal(audit_status(a, &e), 0);
	sample(&en, params);
	assert_int_equal(audit_write(a, &en, &e), 0);
	en.result = AUDIT_OK;
	en.duration_ms = 812;
	assert_int_equal(audit_write(a, &en, &e), 0);
	audit_free(&a);
	assert_null(a);
	/* private directories, private file */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof path, "%s/state/deep/signalbox", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof path, "%s/state", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* a second console appends */
	snprintf(path, sizeof path, "%s/state/deep/signalbox/audit.jsonl", tmpdir);
	a = audit_open(path, 0);
	en.result = AUDIT_REFUSED;
	assert_int_equal(audit_write(a, &en, &e), 0);
	audit_free(&a);
	text = slurp(path);
	assert_non_null(text);
	nl = strstr(text, "\"result\":\"allowed\"");
	assert_non_null(nl);
	assert_non_null(strstr(nl, "\"result\":\"ok\""));
	assert_non_null(strstr(strstr(nl, "\"result\":\"ok\""), "\"result\":\"refused\""));
	free(text);
	umask(old);
}

/* A log that cannot be written says why; it never pretends. */
static void
test_unwritable(void **state)
{
	struct audit_param params[4];
	struct audit_entry en;
	char path[600], file[300];
	struct audit *a;
	struct err e;
	FILE *f;

	(void)state;
	/* the parent is a regular file: fails for root too */
	snprintf(file, sizeof file, "%s/plainfile", tmpdir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof path, "%s/sub/audit.jsonl", file);
	a = audit_open(path, 1);
	assert_int_equal(audit_status(a, &e), -1);
	assert_non_null(strstr(e.msg, "cannot write the audit log"));
	assert_non_null(strstr(e.msg, "Not a directory"));
	sample(&en, params);
	assert_int_equal(audit_write(a, &en, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	audit_free(&a);
	/* a directory where the file should be */
	a = audit_open(tmpdir, 1);
	assert_int_equal(audit_write(a, &en, &e), -1);
	audit_free(&a);
	/* not a regular file */
	a = audit_open("/dev/null", 1);
	assert_int_equal(audit_write(a, &en, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	audit_free(&a);
	/* a log that comes back is used again */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(mkdir(file, 0700), 0);
	a = audit_open(path, 1);
	assert_int_equal(audit_write(a, &en, &e), 0);
	audit_free(&a);
	assert_int_equal(audit_status(NULL, &e), -1);
}

/* Consoles writing at once append whole lines, never interleaved. */
static void
test_concurrent_writers(void **state)
{
	enum { WRITERS = 4, LINES = 150 };
	char path[512], *text, *line, *save = NULL, big[AUDIT_FIELD_MAX];
	struct audit_param params[4];
	struct audit_entry en;
	int i, n = 0, status;
	pid_t pids[WRITERS];

	(void)state;
	snprintf(path, sizeof path, "%s/audit.jsonl", tmpdir);
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct audit *a = audit_open(path, 0);
			struct err e;
			char who[16];
			int k, rc = 0;

			snprintf(who, sizeof who, "w%d", i);
			sample(&en, params);
			en.operator_name = who;
			/* lines of 6 KB: more than PIPE_BUF, more than a page */
			en.error = big;
			en.before = big;
			en.after = big;
			for (k = 0; k < LINES; k++)
				rc |= audit_write(a, &en, &e);
			audit_free(&a);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);

		assert_non_null(j);
		assert_int_equal(strlen(cJSON_GetObjectItem(j, "error")->valuestring),
		    sizeof big - 1);
		cJSON_Delete(j);
		n++;
	}
	assert_int_equal(n, WRITERS * LINES);
	free(text);
}

static void
test_default_path_and_identity(void **state)
{
	char *p, user[64], ssh[64];

	(void)state;
	setenv("XDG_STATE_HOME", "/srv/state", 1);
	p = audit_default_path();
	assert_string_equal(p, "/srv/state/signalbox/audit.jsonl");
	free(p);
	/* a relative XDG_STATE_HOME is ignored (XDG spec) */
	setenv("XDG_STATE_HOME", "rel", 1);
	setenv("HOME", "/home/alice", 1);
	p = audit_default_path();
	assert_string_equal(p, "/home/alice/.local/state/signalbox/audit.jsonl");
	free(p);
	unsetenv("XDG_STATE_HOME");

	setenv("USER", "alice", 1);
	setenv("SSH_CLIENT", "10.0.0.7 52100 22", 1);
	audit_identity(user, sizeof user, ssh, sizeof ssh);
	assert_string_equal(user, "alice");
	assert_string_equal(ssh, "10.0.0.7");
	setenv("SSH_CLIENT", "fe80::1%eth0 52100 22", 1);
	audit_identity(user, sizeof user, ssh, sizeof ssh);
	assert_string_equal(ssh, "fe80::1%eth0");
	/* the variable is the user's: only address characters are kept */
	setenv("SSH_CLIENT", "1.2.3.4\";rm -rf / 1 2", 1);
	audit_identity(user, sizeof user, ssh, sizeof ssh);
	assert_string_equal(ssh, "1.2.3.4");
	unsetenv("SSH_CLIENT");
	audit_identity(user, sizeof user, ssh, sizeof ssh);
	assert_string_equal(ssh, "");
}

/* audit.file and audit.fsync in the configuration. */
static void
test_config_options(void **state)
{
	struct config cfg;
	struct err e;
	const char *yml = "audit:\n  file: logs/audit.jsonl\n  fsync: false\n";

	(void)state;
	config_init(&cfg);
	assert_null(cfg.audit_file);
	assert_int_equal(cfg.audit_fsync, 1);
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "/etc/sb/signalbox.yml",
	    &e), 0);
	assert_string_equal(cfg.audit_file, "/etc/sb/logs/audit.jsonl");
	assert_int_equal(cfg.audit_fsync, 0);
	yml = "audit: { file: ~/a.jsonl }\n";
	setenv("HOME", "/home/alice", 1);
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), 0);
	assert_string_equal(cfg.audit_file, "/home/alice/a.jsonl");
	assert_int_equal(cfg.audit_fsync, 1);
	yml = "audit:\n  fsync: sometimes\n  flie: x\n";
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), -1);
	assert_string_equal(e.msg, "t.yml:2:10: 'fsync' must be true or false, got "
	    "'sometimes'\nt.yml:3:3: unknown key 'flie' in 'audit' (did you mean "
	    "'file'?)");
	yml = "audit: yes\n";
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), -1);
	assert_non_null(strstr(e.msg, "'audit' must be a mapping"));
	/* the per-environment switches the policy reads */
	yml = "environments:\n  production: { protected: true }\n  "
	    "observers: { read_only: true }\n";
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), 0);
	assert_true(config_env(&cfg, "production")->protected_env);
	assert_true(config_env(&cfg, "observers")->read_only);
	yml = "environments:\n  observers: { read_only: maybe }\n";
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), -1);
	assert_non_null(strstr(e.msg, "'read_only' must be true or false"));
	config_fini(&cfg);
}

/* A key binding that would put a production change on a key anyone
 * presses by accident is a configuration error. */
static void
test_config_refuses_unsafe_bindings(void **state)
{
	struct config cfg;
	struct err e;
	const char *yml = "keys:\n  deployments: { d: deploy }\n";

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), -1);
	assert_string_equal(e.msg, "t.yml:2:18: 'deploy' changes production and cannot "
	    "be bound to d: use a Shift-letter away from the navigation keys (like "
	    "D), or the command :deploy");
	yml = "keys:\n  replicas: { C-s: scale }\n";
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), -1);
	assert_non_null(strstr(e.msg, "cannot be bound to C-s"));
	yml = "keys:\n  global: { W: rollback, d: none }\n";
	assert_int_equal(config_load_string(&cfg, yml, strlen(yml), "t.yml", &e), 0);
	config_fini(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_format_escapes_everything),
		cmocka_unit_test(test_secret_params),
		cmocka_unit_test(test_fingerprint_and_time),
		cmocka_unit_test(test_long_fields_are_cut),
		cmocka_unit_test_setup_teardown(test_file_modes_and_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
		cmocka_unit_test(test_default_path_and_identity),
		cmocka_unit_test(test_config_options),
		cmocka_unit_test(test_config_refuses_unsafe_bindings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
