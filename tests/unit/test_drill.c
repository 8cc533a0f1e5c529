/* test_drill.c - the restore drill: refusals, names, JSON, and whole runs
 * against a fake pgbackrest and pg_ctl (shell scripts that log their
 * arguments), so the sequence, the teardown and the cleanup are checked
 * without a PostgreSQL.  The real thing runs in
 * sandbox/tests/test_backup_drill.sh. */
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "signalbox/diag.h"
#include "signalbox/drill.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define SECRET "hunter2-secret"
#define CONNINFO "postgres://app:" SECRET "@10.9.9.9:5432/app?sslmode=prefer"

/* Two backups: a full one ending 2026-01-01 00:01:00Z and an incremental
 * one ending 2026-01-02 00:01:00Z. */
static const char info_json[] =
	"[{\"name\":\"main\",\"backup\":["
	"{\"label\":\"20260101-000000F\",\"type\":\"full\","
	"\"timestamp\":{\"start\":1767225600,\"stop\":1767225660}},"
	"{\"label\":\"20260101-000000F_20260102-000000I\",\"type\":\"incr\","
	"\"timestamp\":{\"start\":1767312000,\"stop\":1767312060}}],"
	"\"status\":{\"code\":0,\"message\":\"ok\"}}]";

static const char fake_pgbackrest[] =
	"#!/bin/sh\n"
	"echo \"pgbackrest $*\" >>\"$FAKE_CALLS\"\n"
	"for a in \"$@\"; do last=$a; done\n"
	"case $last in\n"
	"info)\n"
	"  if [ -n \"$FAKE_INFO_FAIL\" ]; then\n"
	"    echo 'ERROR: [055]: unable to load info file' >&2; exit 55; fi\n"
	"  cat \"$FAKE_INFO_JSON\"; exit 0;;\n"
	"restore)\n"
	"  if [ -n \"$FAKE_RESTORE_SLEEP\" ]; then sleep \"$FAKE_RESTORE_SLEEP\"; fi\n"
	"  for a in \"$@\"; do case $a in --pg1-path=*) d=${a#--pg1-path=};; esac; done\n"
	"  echo 15 >\"$d/PG_VERSION\"; exit 0;;\n"
	"esac\n"
	"exit 2\n";

/* start "succeeds" but the server dies at once (what a bad WAL does);
 * status says nothing runs; stop finds no pid file. */
static const char fake_pg_ctl[] =
	"#!/bin/sh\n"
	"echo \"pg_ctl $*\" >>\"$FAKE_CALLS\"\n"
	"mode=; log=; prev=\n"
	"for a in \"$@\"; do\n"
	"  case $a in start|stop|status) mode=$a;; esac\n"
	"  if [ \"$prev\" = -l ]; then log=$a; fi\n"
	"  prev=$a\n"
	"done\n"
	"dir=$(dirname \"$FAKE_CALLS\")\n"
	"case $mode in\n"
	"start)\n"
	"  i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo \"LOG:  line $i\" >>\"$log\"; done\n"
	"  if [ -n \"$FAKE_START_SLEEP\" ]; then\n"
	"    : >\"$dir/running\"; i=0\n"
	"    while [ ! -e \"$dir/stopped\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
	"    if [ -e \"$dir/stopped\" ]; then echo 'pg_ctl: could not start server' >&2; exit 1; fi\n"
	"  fi\n"
	"  echo 'FATAL:  could not locate a valid checkpoint record' >>\"$log\"\n"
	"  if [ -n \"$FAKE_START_FAIL\" ]; then\n"
	"    echo 'pg_ctl: could not start server' >&2; echo 'Examine the log output.' >&2; exit 1; fi\n"
	"  echo 'server started'; exit 0;;\n"
	"stop)\n"
	"  if [ -e \"$dir/running\" ] && [ ! -e \"$dir/stopped\" ]; then\n"
	"    : >\"$dir/stopped\"; echo 'server stopped'; exit 0; fi\n"
	"  echo 'pg_ctl: PID file does not exist' >&2; exit 1;;\n"
	"status) echo 'pg_ctl: no server running'; exit 3;;\n"
	"esac\n"
	"exit 2\n";

static const char fake_wrap[] =
	"#!/bin/sh\n"
	"echo \"wrap $1\" >>\"$FAKE_CALLS\"\n"
	"exec \"$@\"\n";

struct fx {
	char tmp[PATH_MAX];
	char prod[PATH_MAX + 16];
	char scratch[PATH_MAX + 16];
	char bin[PATH_MAX + 16];
	char calls[PATH_MAX + 16];
	char info[PATH_MAX + 16];
	char wrap[PATH_MAX + 16];
	char pgbackrest[PATH_MAX + 16];
	char cfg[PATH_MAX + 16];
	const char *wrapper[2];
	struct drill_opts o;
};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return xstrdup("");
	buf = xcalloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The fixture's directory, removed by fx_teardown even after a failed
 * assertion (cmocka leaves the test function by longjmp). */
static char fx_tmp[PATH_MAX];

static void
fx_init(struct fx *f)
{
	char path[PATH_MAX + 32];

	memset(f, 0, sizeof *f);
	snprintf(f->tmp, sizeof f->tmp, "/tmp/sbdrill.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	util_strlcpy(fx_tmp, f->tmp, sizeof fx_tmp);
	snprintf(f->prod, sizeof f->prod, "%s/prod", f->tmp);
	snprintf(f->scratch, sizeof f->scratch, "%s/scratch", f->tmp);
	snprintf(f->bin, sizeof f->bin, "%s/bin", f->tmp);
	snprintf(f->calls, sizeof f->calls, "%s/calls", f->tmp);
	snprintf(f->info, sizeof f->info, "%s/info.json", f->tmp);
	snprintf(f->wrap, sizeof f->wrap, "%s/bin/wrap", f->tmp);
	snprintf(f->pgbackrest, sizeof f->pgbackrest, "%s/bin/pgbackrest", f->tmp);
	snprintf(f->cfg, sizeof f->cfg, "%s/pgbackrest.conf", f->tmp);
	assert_int_equal(mkdir(f->prod, 0700), 0);
	assert_int_equal(mkdir(f->scratch, 0700), 0);
	assert_int_equal(mkdir(f->bin, 0700), 0);
	write_file(f->pgbackrest, fake_pgbackrest, 0755);
	snprintf(path, sizeof path, "%s/pg_ctl", f->bin);
	write_file(path, fake_pg_ctl, 0755);
	write_file(f->wrap, fake_wrap, 0755);
	write_file(f->info, info_json, 0644);
	write_file(f->cfg, "[global]\n", 0644);
	setenv("FAKE_CALLS", f->calls, 1);
	setenv("FAKE_INFO_JSON", f->info, 1);
	unsetenv("FAKE_INFO_FAIL");
	unsetenv("FAKE_RESTORE_SLEEP");
	unsetenv("FAKE_START_FAIL");
	unsetenv("FAKE_START_SLEEP");

	f->wrapper[0] = f->wrap;
	f->wrapper[1] = NULL;
	f->o.wrapper = f->wrapper;
	f->o.pgbackrest = f->pgbackrest;
	f->o.pgbr_config = f->cfg;
	f->o.stanza = "main";
	f->o.pg_bin = f->bin;
	f->o.scratch_root = f->scratch;
	f->o.port = 0;
	f->o.conninfo = CONNINFO;
	f->o.prod_data_dir = f->prod;
	f->o.prod_port = 5;
	f->o.timeout_ms = 30000;
}

static void
fx_fini(struct fx *f)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tmp);
	assert_int_equal(system(cmd), 0);
	fx_tmp[0] = '\0';
}

static int
fx_teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	if (fx_tmp[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_tmp);
		if (system(cmd) != 0)
			return -1;
		fx_tmp[0] = '\0';
	}
	return 0;
}

/* Entries of the scratch root (a refused or finished drill leaves none). */
static int
scratch_entries(const struct fx *f)
{
	char cmd[PATH_MAX + 64], *out;
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", f->scratch);
	p = popen(cmd, "r");
	assert_non_null(p);
	out = xcalloc(1, 64);
	if (fgets(out, 64, p) != NULL)
		n = atoi(out);
	pclose(p);
	free(out);
	return n;
}

/* drill_start must refuse O with a message containing WANT. */
static void
assert_refused(const struct drill_opts *o, const char *want)
{
	uv_loop_t loop;
	struct err e;
	struct drill *d;

	uv_loop_init(&loop);
	err_clear(&e);
	d = drill_start(&loop, o, NULL, NULL, &e);
	if (d != NULL) {
		drill_free(&d);
		uv_run(&loop, UV_RUN_DEFAULT);
		fail_msg("not refused (wanted '%s')", want);
	}
	if (strstr(e.msg, want) == NULL)
		fail_msg("refused with '%s', wanted '%s'", e.msg, want);
	assert_null(strstr(e.msg, SECRET));
	assert_int_equal(e.code, ERR_INVALID);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- names and parsers -------------------------------------------------------- */

static void
test_phase_names(void **state)
{
	static const char *const want[] = { "prepare", "restore", "start", "recover", "check",
		"smoke", "stop", "cleanup" };

	(void)state;
	for (int p = 0; p < DRILL_N_PHASES; p++)
		assert_string_equal(drill_phase_name((enum drill_phase)p), want[p]);
	assert_string_equal(drill_phase_name(DRILL_N_PHASES), "?");
	assert_string_equal(drill_step_name(DRILL_STEP_SKIPPED), "skipped");
	assert_string_equal(drill_verdict_name(DRILL_PASSED), "PASSED");
	assert_string_equal(drill_verdict_name(DRILL_CANCELLED), "CANCELLED");
}

static void
test_table_names(void **state)
{
	static const char *const good[] = { "orders", "public.orders", "_x1", "A.b_2",
		"order_items" };
	static const char *const bad[] = { "", "1abc", "a.b.c", "orders;drop table x",
		"a b", "\"x\"", ".a", "a.", "a..b", "ordérs", "a-b", "a'b", "t)--" };
	char long_part[80];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (!drill_table_name_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (drill_table_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(drill_table_name_valid(NULL));
	memset(long_part, 'a', 63);
	long_part[63] = '\0';
	assert_true(drill_table_name_valid(long_part));
	memset(long_part, 'a', 64);
	long_part[64] = '\0';
	assert_false(drill_table_name_valid(long_part));
}

static void
test_table_sql(void **state)
{
	char sql[512];

	(void)state;
	assert_int_equal(drill_table_sql("public.orders", sql, sizeof sql), 0);
	assert_string_equal(sql, "select count(*), md5(coalesce(string_agg(t::text, E'\\n' "
	    "order by t::text), '')) from \"public\".\"orders\" t");
	assert_int_equal(drill_table_sql("Orders", sql, sizeof sql), 0);
	assert_non_null(strstr(sql, "from \"Orders\" t"));
	assert_int_equal(drill_table_sql("orders\"; drop table x; --", sql, sizeof sql), -1);
	assert_string_equal(sql, "");
	assert_int_equal(drill_table_sql("orders", sql, 20), -1);
	assert_string_equal(sql, "");
}

static void
test_parse_target(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(drill_parse_target("2026-11-23 10:42:00+00", &ms), 0);
	assert_int_equal(ms, 1795430520000LL);
	assert_int_equal(drill_parse_target("2026-11-23T10:42:00Z", &ms), 0);
	assert_int_equal(ms, 1795430520000LL);
	assert_int_equal(drill_parse_target("2026-11-23 10:42:00 UTC", &ms), 0);
	assert_int_equal(ms, 1795430520000LL);
	assert_int_equal(drill_parse_target("2026-11-23 12:42:00.250+02:00", &ms), 0);
	assert_int_equal(ms, 1795430520250LL);
	assert_int_equal(drill_parse_target("2026-11-23 05:42-0500", &ms), 0);
	assert_int_equal(ms, 1795430520000LL);
	/* a zone is required: the server's would be a guess */
	assert_int_equal(drill_parse_target("2026-11-23 10:42:00", &ms), -1);
	assert_int_equal(drill_parse_target("2026-13-23 10:42:00+00", &ms), -1);
	assert_int_equal(drill_parse_target("yesterday", &ms), -1);
	assert_int_equal(drill_parse_target("2026-11-23 10:42:00+00'; x", &ms), -1);
	assert_int_equal(drill_parse_target(NULL, &ms), -1);
}

static void
test_scratch_conninfo(void **state)
{
	char *s;

	(void)state;
	s = drill_scratch_conninfo("postgres://app:pw@db.prod:5432/app?sslmode=require&host=x"
	    "&port=1&hostaddr=10.0.0.1&application_name=a", 32409);
	assert_string_equal(s, "postgres://app:pw@127.0.0.1:32409/app?sslmode=require"
	    "&application_name=a");
	free(s);
	s = drill_scratch_conninfo("postgresql://h1:1,h2:2/db", 7);
	assert_string_equal(s, "postgresql://127.0.0.1:7/db");
	free(s);
	s = drill_scratch_conninfo("postgres://u@h", 7);
	assert_string_equal(s, "postgres://u@127.0.0.1:7");
	free(s);
	s = drill_scratch_conninfo("postgres://u:p%40x@h:5/d?port=9", 7);
	assert_string_equal(s, "postgres://u:p%40x@127.0.0.1:7/d");
	free(s);
	s = drill_scratch_conninfo("host=db port=5432 dbname=app user=app", 7);
	assert_string_equal(s, "host=db port=5432 dbname=app user=app host=127.0.0.1 "
	    "hostaddr=127.0.0.1 port=7");
	free(s);
}

/* ---- refusals: nothing is created ------------------------------------------------- */

static void
test_refuse_production_port(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	f.o.port = 5433;
	f.o.prod_port = 5433;
	assert_refused(&f.o, "port 5433 is production's port");
	assert_int_equal(scratch_entries(&f), 0);
	fx_fini(&f);
}

static void
test_refuse_port_in_use(void **state)
{
	struct fx f;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd;
	char want[64];

	(void)state;
	fx_init(&f);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	f.o.port = ntohs(sa.sin_port);
	snprintf(want, sizeof want, "port %d is in use", f.o.port);
	assert_refused(&f.o, want);
	close(fd);
	assert_int_equal(scratch_entries(&f), 0);
	fx_fini(&f);
}

static void
test_refuse_scratch_missing(void **state)
{
	struct fx f;
	char path[PATH_MAX + 32];

	(void)state;
	fx_init(&f);
	snprintf(path, sizeof path, "%s/nowhere", f.tmp);
	f.o.scratch_root = path;
	assert_refused(&f.o, "No such file or directory");
	assert_int_equal(access(path, F_OK), -1);
	fx_fini(&f);
}

static void
test_refuse_scratch_in_production(void **state)
{
	struct fx f;
	char inside[PATH_MAX + 32], link[PATH_MAX + 32];

	(void)state;
	fx_init(&f);
	/* the data directory itself */
	f.o.scratch_root = f.prod;
	assert_refused(&f.o, "production's data directory");
	/* a directory inside it */
	snprintf(inside, sizeof inside, "%s/pg_wal", f.prod);
	assert_int_equal(mkdir(inside, 0700), 0);
	f.o.scratch_root = inside;
	assert_refused(&f.o, "is inside production's data directory");
	/* a symlink that leads inside it: realpath()s are compared */
	snprintf(link, sizeof link, "%s/innocent", f.tmp);
	assert_int_equal(symlink(inside, link), 0);
	f.o.scratch_root = link;
	assert_refused(&f.o, "is inside production's data directory");
	/* production's path with a trailing slash and a dot */
	f.o.scratch_root = f.scratch;
	snprintf(link, sizeof link, "%s/./", f.prod);
	f.o.prod_data_dir = link;
	f.o.scratch_root = inside;
	assert_refused(&f.o, "inside production's data directory");
	/* nothing was made inside production */
	{
		char cmd[PATH_MAX + 64];

		snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", inside);
		assert_int_equal(system(cmd), 0);
	}
	fx_fini(&f);
}

static void
test_refuse_production_inside_drill_dir(void **state)
{
	struct fx f;
	char old[PATH_MAX + 64], data[PATH_MAX + 128];

	(void)state;
	fx_init(&f);
	/* production lives where a drill directory would be: rm -rf could reach it */
	snprintf(old, sizeof old, "%s/signalbox-drill-20260101T000000Z-1", f.scratch);
	snprintf(data, sizeof data, "%s/data", old);
	assert_int_equal(mkdir(old, 0700), 0);
	assert_int_equal(mkdir(data, 0700), 0);
	f.o.prod_data_dir = data;
	assert_refused(&f.o, "is inside a drill directory");
	fx_fini(&f);
}

static void
test_refuse_missing_options(void **state)
{
	struct fx f;
	struct drill_opts o;

	(void)state;
	fx_init(&f);
	o = f.o;
	o.pgbr_config = NULL;
	assert_refused(&o, "pgbr_config is missing");
	o = f.o;
	o.stanza = "";
	assert_refused(&o, "stanza is missing");
	o = f.o;
	o.pg_bin = NULL;
	assert_refused(&o, "pg_bin is missing");
	o = f.o;
	o.conninfo = NULL;
	assert_refused(&o, "conninfo is missing");
	o = f.o;
	o.prod_data_dir = NULL;
	assert_refused(&o, "prod_data_dir is missing");
	o = f.o;
	o.prod_port = 0;
	assert_refused(&o, "prod_port is missing");
	o = f.o;
	o.scratch_root = NULL;
	assert_refused(&o, "scratch_root is missing");
	assert_int_equal(scratch_entries(&f), 0);
	fx_fini(&f);
}

static void
test_refuse_bad_values(void **state)
{
	struct fx f;
	struct drill_opts o;
	const char *tables[] = { "orders", "x; drop table orders" };
	struct drill_check bad_check = { "c", NULL, "t" };
	char sp[PATH_MAX + 32];

	(void)state;
	fx_init(&f);
	o = f.o;
	o.tables = tables;
	o.n_tables = 2;
	assert_refused(&o, "table name 'x; drop table orders'");
	o = f.o;
	o.target_time = "2026-11-23 10:42:00";
	assert_refused(&o, "a zone is required");
	o = f.o;
	o.set = "../etc";
	assert_refused(&o, "backup label");
	o = f.o;
	o.checks = &bad_check;
	o.n_checks = 1;
	assert_refused(&o, "check 1 needs");
	/* pg_ctl passes -o through a shell */
	snprintf(sp, sizeof sp, "%s/with space", f.tmp);
	assert_int_equal(mkdir(sp, 0700), 0);
	o = f.o;
	o.scratch_root = sp;
	assert_refused(&o, "characters pg_ctl cannot pass on");
	/* root must hand the commands to the repository's owner */
	if (geteuid() == 0) {
		o = f.o;
		o.wrapper = NULL;
		assert_refused(&o, "running as root without a wrapper");
	}
	fx_fini(&f);
}

static void
test_refuse_socket_path_too_long(void **state)
{
	struct fx f;
	char deep[PATH_MAX + 128];

	(void)state;
	fx_init(&f);
	snprintf(deep, sizeof deep, "%s/%s", f.tmp,
	    "a-rather-long-directory-name-for-scratch-copies-of-the-database");
	assert_int_equal(mkdir(deep, 0700), 0);
	f.o.scratch_root = deep;
	assert_refused(&f.o, "too long for the server's socket");
	fx_fini(&f);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void
test_json_shape(void **state)
{
	struct drill_result r;
	struct drill_table_result tables[2];
	struct drill_check_result checks[1];
	char *s;
	cJSON *j, *x, *ph;

	(void)state;
	memset(&r, 0, sizeof r);
	memset(tables, 0, sizeof tables);
	memset(checks, 0, sizeof checks);
	r.verdict = DRILL_FAILED;
	util_strlcpy(r.reason, "check 'orders-not-empty': got f, expected t", sizeof r.reason);
	r.started_ms = 1795430520000LL;
	r.total_ms = 9100;
	r.rto_ms = 6400;
	r.recovery_point_ms = 1795430400123LL;
	r.rpo_ms = r.started_ms - r.recovery_point_ms;
	util_strlcpy(r.backup_label, "20261123-104200F", sizeof r.backup_label);
	util_strlcpy(r.backup_type, "full", sizeof r.backup_type);
	r.backup_stop_ms = 1795430300000LL;
	util_strlcpy(r.scratch_dir, "/var/tmp/signalbox-drill-20261123T104200Z-42",
	    sizeof r.scratch_dir);
	r.scratch_removed = 1;
	r.port = 32409;
	for (int p = 0; p < DRILL_N_PHASES; p++) {
		r.phases[p].state = DRILL_STEP_OK;
		r.phases[p].started_ms = r.started_ms + p * 1000;
		r.phases[p].duration_ms = (uint64_t)(100 + p);
		snprintf(r.phases[p].words, sizeof r.phases[p].words, "phase %d", p);
	}
	r.phases[DRILL_SMOKE].state = DRILL_STEP_SKIPPED;
	r.phases[DRILL_CHECK].state = DRILL_STEP_FAILED;
	util_strlcpy(tables[0].name, "orders", sizeof tables[0].name);
	tables[0].count = 12;
	util_strlcpy(tables[0].checksum, "0123456789abcdef0123456789abcdef",
	    sizeof tables[0].checksum);
	tables[0].has_expect = 1;
	tables[0].count_min = 10;
	tables[0].count_max = 20;
	tables[0].match = DRILL_MATCH_OK;
	util_strlcpy(tables[1].name, "public.customers", sizeof tables[1].name);
	tables[1].count = -1;
	tables[1].count_min = tables[1].count_max = -1;
	tables[1].match = DRILL_MATCH_ERROR;
	util_strlcpy(tables[1].error, "relation \"public.customers\" does not exist",
	    sizeof tables[1].error);
	r.tables = tables;
	r.n_tables = 2;
	util_strlcpy(checks[0].name, "orders-not-empty", sizeof checks[0].name);
	checks[0].ran = 1;
	util_strlcpy(checks[0].value, "f", sizeof checks[0].value);
	util_strlcpy(checks[0].expect, "t", sizeof checks[0].expect);
	r.checks = checks;
	r.n_checks = 1;
	util_strlcpy(r.log_tail[0], "FATAL:  the end", sizeof r.log_tail[0]);
	r.n_log_tail = 1;

	s = drill_result_json(&r);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	j = cJSON_Parse(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "verdict")->valuestring, "FAILED");
	assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, r.reason);
	assert_int_equal((int64_t)cJSON_GetObjectItem(j, "rto_ms")->valuedouble, 6400);
	assert_int_equal((int64_t)cJSON_GetObjectItem(j, "rpo_ms")->valuedouble, 119877);
	assert_int_equal((int64_t)cJSON_GetObjectItem(j, "total_ms")->valuedouble, 9100);
	assert_string_equal(cJSON_GetObjectItem(j, "recovery_point")->valuestring,
	    "2026-11-23T10:40:00.123Z");
	assert_string_equal(cJSON_GetObjectItem(j, "recovery_point_source")->valuestring,
	    "replay");
	assert_string_equal(cJSON_GetObjectItem(j, "started")->valuestring,
	    "2026-11-23T10:42:00.000Z");
	assert_string_equal(cJSON_GetObjectItem(j, "label")->valuestring, "20261123-104200F");
	assert_string_equal(cJSON_GetObjectItem(j, "backup_type")->valuestring, "full");
	assert_string_equal(cJSON_GetObjectItem(j, "backup_stop")->valuestring,
	    "2026-11-23T10:38:20.000Z");
	/* numbers too, for the history reader */
	assert_true(cJSON_GetObjectItem(j, "started_ms")->valuedouble == 1795430520000.0);
	assert_true(cJSON_GetObjectItem(j, "recovery_point_ms")->valuedouble == 1795430400123.0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "target")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "scratch_removed")));
	assert_int_equal(cJSON_GetObjectItem(j, "port")->valueint, 32409);

	x = cJSON_GetObjectItem(j, "phases");
	assert_int_equal(cJSON_GetArraySize(x), DRILL_N_PHASES);
	for (int p = 0; p < DRILL_N_PHASES; p++) {
		ph = cJSON_GetObjectItem(x, drill_phase_name((enum drill_phase)p));
		assert_non_null(ph);
		if (p == DRILL_SMOKE) {
			assert_true(cJSON_IsNull(cJSON_GetObjectItem(ph, "ms")));
			assert_string_equal(cJSON_GetObjectItem(ph, "state")->valuestring, "skipped");
		} else {
			assert_int_equal(cJSON_GetObjectItem(ph, "ms")->valueint, 100 + p);
		}
	}
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "check"), "state")
	    ->valuestring, "failed");

	x = cJSON_GetObjectItem(j, "tables");
	assert_int_equal(cJSON_GetArraySize(x), 2);
	ph = cJSON_GetArrayItem(x, 0);
	assert_string_equal(cJSON_GetObjectItem(ph, "name")->valuestring, "orders");
	assert_int_equal(cJSON_GetObjectItem(ph, "count")->valueint, 12);
	assert_string_equal(cJSON_GetObjectItem(ph, "match")->valuestring, "ok");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(ph, "expect"), "count_max")
	    ->valueint, 20);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(ph, "expect"),
	    "checksum")));
	ph = cJSON_GetArrayItem(x, 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(ph, "count")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(ph, "expect")));
	assert_string_equal(cJSON_GetObjectItem(ph, "match")->valuestring, "error");
	assert_non_null(strstr(cJSON_GetObjectItem(ph, "error")->valuestring, "does not exist"));

	x = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "checks"), 0);
	assert_string_equal(cJSON_GetObjectItem(x, "name")->valuestring, "orders-not-empty");
	assert_string_equal(cJSON_GetObjectItem(x, "value")->valuestring, "f");
	assert_string_equal(cJSON_GetObjectItem(x, "expect")->valuestring, "t");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(x, "ok")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "smoke")));
	x = cJSON_GetObjectItem(j, "log_tail");
	assert_int_equal(cJSON_GetArraySize(x), 1);
	assert_string_equal(cJSON_GetArrayItem(x, 0)->valuestring, "FATAL:  the end");
	cJSON_Delete(j);
	free(s);

	/* unknown values are null, never -1 or 1970 */
	memset(&r, 0, sizeof r);
	r.verdict = DRILL_RUNNING;
	r.total_ms = r.rto_ms = r.rpo_ms = -1;
	s = drill_result_json(&r);
	j = cJSON_Parse(s);
	assert_non_null(j);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "rto_ms")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "rpo_ms")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "recovery_point")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "reason")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tables")), 0);
	cJSON_Delete(j);
	free(s);
}

/* ---- whole runs against the fakes -------------------------------------------------------- */

struct run {
	struct drill *d;
	int done;
	int on_phase;
	int cancel_at;		/* drill_cancel when this phase starts; -1 = never */
	int free_at;		/* drill_free when this phase starts; -1 = never */
	struct drill_result r;	/* copied at on_done (arrays not kept) */
	char *json;
};

static void
run_on_phase(struct drill *d, enum drill_phase p, void *ud)
{
	struct run *r = ud;
	const struct drill_result *res = drill_result(d);

	r->on_phase++;
	assert_ptr_equal(d, r->d);
	if ((int)p == r->cancel_at && res->phases[p].state == DRILL_STEP_RUNNING)
		drill_cancel(d);
	if ((int)p == r->free_at && res->phases[p].state == DRILL_STEP_RUNNING)
		drill_free(&r->d);
}

static void
run_on_done(struct drill *d, const struct drill_result *res, void *ud)
{
	struct run *r = ud;

	assert_ptr_equal(d, r->d);
	assert_int_equal(r->done, 0);
	r->done = 1;
	r->r = *res;
	r->r.tables = NULL;
	r->r.checks = NULL;
	r->json = drill_result_json(res);
}

static void
tick(uv_timer_t *t)
{
	(void)t;
}

/* Run a drill with O to its end (or MS); the loop is closed afterwards. */
static void
run_drill(const struct drill_opts *o, struct run *r, uint64_t ms)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct drill_cbs cbs = { run_on_phase, run_on_done };
	struct err e;
	uint64_t deadline = util_now_ms() + ms;

	uv_loop_init(&loop);
	r->d = drill_start(&loop, o, &cbs, r, &e);
	if (r->d == NULL)
		fail_msg("refused: %s", e.msg);
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, tick, 20, 20);
	while (!r->done && util_now_ms() < deadline && (r->d != NULL || r->free_at < 0))
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	drill_free(&r->d);
	uv_run(&loop, UV_RUN_DEFAULT);	/* a detached drill finishes here */
	assert_int_equal(uv_loop_close(&loop), 0);
}

static int
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static void
test_run_info_fails(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = -1 };

	(void)state;
	fx_init(&f);
	setenv("FAKE_INFO_FAIL", "1", 1);
	run_drill(&f.o, &r, 20000);
	assert_true(r.done);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	assert_true(contains(r.r.reason, "prepare: pgbackrest info exited with status 55: ERROR: "
	    "[055]: unable to load info file"));
	assert_int_equal(r.r.phases[DRILL_PREPARE].state, DRILL_STEP_FAILED);
	assert_int_equal(r.r.phases[DRILL_RESTORE].state, DRILL_STEP_SKIPPED);
	assert_int_equal(r.r.phases[DRILL_STOP].state, DRILL_STEP_SKIPPED);
	assert_int_equal(r.r.phases[DRILL_CLEANUP].state, DRILL_STEP_SKIPPED);
	assert_int_equal(scratch_entries(&f), 0);	/* mkdir never ran */
	assert_int_equal(r.r.rto_ms, -1);
	assert_false(contains(r.json, SECRET));
	free(r.json);
	fx_fini(&f);
}

static void
test_run_backup_not_found(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = -1 };

	(void)state;
	fx_init(&f);
	f.o.set = "20250101-000000F";
	run_drill(&f.o, &r, 20000);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	assert_true(contains(r.r.reason, "backup '20250101-000000F' is not in stanza 'main' (it "
	    "has 20260101-000000F, 20260101-000000F_20260102-000000I)"));
	assert_int_equal(scratch_entries(&f), 0);
	free(r.json);
	fx_fini(&f);
}

/* The server "starts" and dies: RECOVER sees it gone (pg_ctl status),
 * keeps the log's tail, STOP and CLEANUP still run; nothing is left. */
static void
test_run_server_dies_during_recovery(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = -1 };
	char *calls, *diag, want[3 * PATH_MAX], diag_path[PATH_MAX + 32];
	struct err e;

	(void)state;
	fx_init(&f);
	snprintf(diag_path, sizeof diag_path, "%s/diag.log", f.tmp);
	assert_int_equal(diag_open(diag_path, DIAG_DEBUG, &e), 0);
	run_drill(&f.o, &r, 30000);
	diag_close();
	assert_true(r.done);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	assert_true(contains(r.r.reason, "recover: the scratch server stopped during recovery"));
	assert_int_equal(r.r.phases[DRILL_PREPARE].state, DRILL_STEP_OK);
	assert_int_equal(r.r.phases[DRILL_RESTORE].state, DRILL_STEP_OK);
	assert_int_equal(r.r.phases[DRILL_START].state, DRILL_STEP_OK);
	assert_int_equal(r.r.phases[DRILL_RECOVER].state, DRILL_STEP_FAILED);
	assert_int_equal(r.r.phases[DRILL_CHECK].state, DRILL_STEP_SKIPPED);
	assert_int_equal(r.r.phases[DRILL_STOP].state, DRILL_STEP_OK);
	assert_string_equal(r.r.phases[DRILL_STOP].words, "was not running");
	assert_int_equal(r.r.phases[DRILL_CLEANUP].state, DRILL_STEP_OK);
	assert_true(r.r.scratch_removed);
	assert_int_equal(scratch_entries(&f), 0);
	/* the newest backup, by label; the log's last 20 lines */
	assert_string_equal(r.r.backup_label, "20260101-000000F_20260102-000000I");
	assert_string_equal(r.r.backup_type, "incr");
	assert_int_equal(r.r.n_log_tail, 20);
	assert_string_equal(r.r.log_tail[19], "FATAL:  could not locate a valid checkpoint record");
	assert_string_equal(r.r.log_tail[0], "LOG:  line 12");
	assert_int_equal(r.r.rto_ms, -1);

	calls = read_file(f.calls);
	/* every repository command went through the wrapper, in this order */
	assert_true(contains(calls, "wrap "));
	snprintf(want, sizeof want, "pgbackrest --config=%s --stanza=main --pg1-path=%s/data "
	    "--set=20260101-000000F_20260102-000000I --archive-mode=off --tablespace-map-all=%s/"
	    "tablespaces --type=immediate --target-action=promote restore", f.cfg,
	    r.r.scratch_dir, r.r.scratch_dir);
	if (!contains(calls, want))
		fail_msg("no '%s' in:\n%s", want, calls);
	snprintf(want, sizeof want, "-o -p %d -k %s/socket -c listen_addresses=127.0.0.1 -c "
	    "archive_mode=off", r.r.port, r.r.scratch_dir);
	assert_true(contains(calls, want));
	assert_true(contains(calls, "wrap mkdir\nwrap mkdir\n"));
	assert_true(contains(calls, " status\n"));
	assert_true(contains(calls, "-m immediate -w -t 20 stop"));
	assert_true(contains(calls, "wrap tail\n"));
	assert_true(contains(calls, "wrap rm\n"));
	assert_true(strstr(calls, "-m immediate") < strstr(calls, "wrap rm"));
	assert_false(contains(calls, SECRET));
	free(calls);

	/* the connection string is nowhere: result, JSON, diagnostics */
	assert_false(contains(r.json, SECRET));
	assert_false(contains(r.json, "10.9.9.9"));
	diag = read_file(diag_path);
	assert_true(contains(diag, "drill: recover failed"));
	assert_false(contains(diag, SECRET));
	free(diag);
	free(r.json);
	fx_fini(&f);
}

static void
test_run_start_fails_keeps_log_and_stops(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = -1 };
	char *calls;

	(void)state;
	fx_init(&f);
	setenv("FAKE_START_FAIL", "1", 1);
	run_drill(&f.o, &r, 30000);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	assert_string_equal(r.r.reason, "start: pg_ctl start exited with status 1: pg_ctl: could "
	    "not start server");
	assert_int_equal(r.r.phases[DRILL_RECOVER].state, DRILL_STEP_SKIPPED);
	/* STOP runs all the same: pg_ctl may have left a server behind */
	assert_int_equal(r.r.phases[DRILL_STOP].state, DRILL_STEP_OK);
	assert_int_equal(r.r.n_log_tail, 20);
	assert_true(r.r.scratch_removed);
	assert_int_equal(scratch_entries(&f), 0);
	calls = read_file(f.calls);
	assert_true(contains(calls, " stop\n"));
	free(calls);
	free(r.json);
	fx_fini(&f);
}

static void
test_run_point_in_time_picks_backup(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = -1 };
	char *calls;

	(void)state;
	fx_init(&f);
	setenv("FAKE_START_FAIL", "1", 1);
	/* after the full backup ended, before the incremental one did */
	f.o.target_time = "2026-01-01 12:00:00+00";
	run_drill(&f.o, &r, 30000);
	assert_string_equal(r.r.backup_label, "20260101-000000F");
	assert_string_equal(r.r.target_time, "2026-01-01 12:00:00+00");
	calls = read_file(f.calls);
	assert_true(contains(calls, "--set=20260101-000000F --archive-mode=off"));
	assert_true(contains(calls, "--type=time --target=2026-01-01 12:00:00+00 "
	    "--target-action=promote restore"));
	free(calls);
	free(r.json);
	fx_fini(&f);

	/* a chosen backup that ended after the target cannot reach it */
	fx_init(&f);
	memset(&r, 0, sizeof r);
	r.cancel_at = r.free_at = -1;
	f.o.target_time = "2026-01-01 12:00:00+00";
	f.o.set = "20260101-000000F_20260102-000000I";
	run_drill(&f.o, &r, 30000);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	assert_string_equal(r.r.reason, "prepare: backup '20260101-000000F_20260102-000000I' "
	    "ended at 2026-01-02T00:01:00.000Z, after the target 2026-01-01 12:00:00+00: "
	    "recovery cannot go back to it");
	assert_int_equal(scratch_entries(&f), 0);
	free(r.json);
	fx_fini(&f);

	/* before every backup: refused by PREPARE, nothing made */
	fx_init(&f);
	memset(&r, 0, sizeof r);
	r.cancel_at = r.free_at = -1;
	f.o.target_time = "2025-06-01 00:00:00Z";
	run_drill(&f.o, &r, 30000);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	assert_true(contains(r.r.reason, "no backup of stanza 'main' ended before"));
	assert_int_equal(scratch_entries(&f), 0);
	free(r.json);
	fx_fini(&f);
}

static void
test_run_cancel_during_restore(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = DRILL_RESTORE, .free_at = -1 };
	uint64_t t0 = util_now_ms();

	(void)state;
	fx_init(&f);
	setenv("FAKE_RESTORE_SLEEP", "30", 1);
	run_drill(&f.o, &r, 20000);
	assert_true(r.done);
	assert_true(util_now_ms() - t0 < 10000);
	assert_int_equal(r.r.verdict, DRILL_CANCELLED);
	assert_string_equal(r.r.reason, "cancelled during restore");
	assert_int_equal(r.r.phases[DRILL_RESTORE].state, DRILL_STEP_FAILED);
	assert_string_equal(r.r.phases[DRILL_RESTORE].words, "cancelled");
	assert_int_equal(r.r.phases[DRILL_STOP].state, DRILL_STEP_SKIPPED);	/* no server */
	assert_int_equal(r.r.phases[DRILL_CLEANUP].state, DRILL_STEP_OK);
	assert_int_equal(scratch_entries(&f), 0);
	free(r.json);
	fx_fini(&f);
}

/* A cancel while pg_ctl start waits (a long replay) stops the server at
 * once instead of waiting for it; STOP still runs after START. */
static void
test_run_cancel_during_start(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = DRILL_START, .free_at = -1 };
	uint64_t t0 = util_now_ms();
	char *calls, *s;
	int stops = 0;

	(void)state;
	fx_init(&f);
	setenv("FAKE_START_SLEEP", "1", 1);
	run_drill(&f.o, &r, 40000);
	assert_true(r.done);
	assert_true(util_now_ms() - t0 < 10000);	/* the fake start waits 30 s */
	assert_int_equal(r.r.verdict, DRILL_CANCELLED);
	assert_string_equal(r.r.reason, "cancelled during start");
	assert_int_equal(r.r.phases[DRILL_START].state, DRILL_STEP_FAILED);
	assert_int_equal(r.r.phases[DRILL_RECOVER].state, DRILL_STEP_SKIPPED);
	assert_int_equal(r.r.phases[DRILL_STOP].state, DRILL_STEP_OK);
	assert_int_equal(r.r.n_log_tail, 0);	/* a cancel is no failure to explain */
	assert_true(r.r.scratch_removed);
	assert_int_equal(scratch_entries(&f), 0);
	calls = read_file(f.calls);
	for (s = calls; (s = strstr(s, "-m immediate -w -t 20 stop")) != NULL; s++)
		stops++;
	/* at the cancel (again while no pid file was written yet), and STOP's */
	assert_true(stops >= 2);
	free(calls);
	free(r.json);
	fx_fini(&f);
}

static void
test_run_timeout(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = -1 };
	cJSON *j;

	(void)state;
	fx_init(&f);
	setenv("FAKE_RESTORE_SLEEP", "30", 1);
	f.o.timeout_ms = 3000;
	run_drill(&f.o, &r, 20000);
	assert_true(r.done);
	assert_int_equal(r.r.verdict, DRILL_FAILED);
	/* "(restore was running)", unless a loaded machine took 3 s before it */
	if (strncmp(r.r.reason, "the drill did not finish within 3.0 s (", 39) != 0)
		fail_msg("reason: %s", r.r.reason);
	assert_int_equal(r.r.phases[DRILL_STOP].state, DRILL_STEP_SKIPPED);
	assert_int_equal(scratch_entries(&f), 0);
	j = cJSON_Parse(r.json);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "verdict")->valuestring, "FAILED");
	cJSON_Delete(j);
	free(r.json);
	fx_fini(&f);
}

/* Freed while it runs: no more callbacks, but it still cleans up. */
static void
test_run_free_while_running(void **state)
{
	struct fx f;
	struct run r = { .cancel_at = -1, .free_at = DRILL_RESTORE };

	(void)state;
	fx_init(&f);
	setenv("FAKE_RESTORE_SLEEP", "30", 1);
	run_drill(&f.o, &r, 20000);
	assert_false(r.done);
	assert_int_equal(scratch_entries(&f), 0);
	fx_fini(&f);
}

static void
test_cancel_before_it_begins(void **state)
{
	struct fx f;
	uv_loop_t loop;
	struct run r = { .cancel_at = -1, .free_at = -1 };
	struct drill_cbs cbs = { run_on_phase, run_on_done };
	struct err e;
	char *calls;

	(void)state;
	fx_init(&f);
	uv_loop_init(&loop);
	r.d = drill_start(&loop, &f.o, &cbs, &r, &e);
	assert_non_null(r.d);
	drill_cancel(r.d);
	assert_int_equal(r.done, 0);	/* never from inside a drill_* call */
	while (!r.done)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(r.r.verdict, DRILL_CANCELLED);
	drill_free(&r.d);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	calls = read_file(f.calls);
	assert_string_equal(calls, "");
	free(calls);
	free(r.json);
	fx_fini(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_phase_names, fx_teardown),
		cmocka_unit_test_teardown(test_table_names, fx_teardown),
		cmocka_unit_test_teardown(test_table_sql, fx_teardown),
		cmocka_unit_test_teardown(test_parse_target, fx_teardown),
		cmocka_unit_test_teardown(test_scratch_conninfo, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_production_port, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_port_in_use, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_scratch_missing, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_scratch_in_production, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_production_inside_drill_dir, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_missing_options, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_bad_values, fx_teardown),
		cmocka_unit_test_teardown(test_refuse_socket_path_too_long, fx_teardown),
		cmocka_unit_test_teardown(test_json_shape, fx_teardown),
		cmocka_unit_test_teardown(test_run_info_fails, fx_teardown),
		cmocka_unit_test_teardown(test_run_backup_not_found, fx_teardown),
		cmocka_unit_test_teardown(test_run_server_dies_during_recovery, fx_teardown),
		cmocka_unit_test_teardown(test_run_start_fails_keeps_log_and_stops, fx_teardown),
		cmocka_unit_test_teardown(test_run_point_in_time_picks_backup, fx_teardown),
		cmocka_unit_test_teardown(test_run_cancel_during_restore, fx_teardown),
		cmocka_unit_test_teardown(test_run_cancel_during_start, fx_teardown),
		cmocka_unit_test_teardown(test_run_timeout, fx_teardown),
		cmocka_unit_test_teardown(test_run_free_while_running, fx_teardown),
		cmocka_unit_test_teardown(test_cancel_before_it_begins, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
