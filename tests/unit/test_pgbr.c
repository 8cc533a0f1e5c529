/* test_pgbr.c - pgBackRest's info JSON from real pgBackRest 2.45 output
 * (tests/fixtures/pgbackrest, made by make_fixtures.sh), exact 64-bit
 * values, hostile input, the PITR window and backup progress lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/err.h"
#include "signalbox/pgbr.h"

/* What make_fixtures.sh saw when it made the fixtures (README.md). */
#define SYSID_MAIN 7711422530090906039ULL
#define SYSID_EMPTY 7711422584359682807ULL
#define SYSID_DUAL 7711422616010343420ULL
#define MAIN_FULL "20261123-173754F"
#define MAIN_DIFF "20261123-173754F_20261123-173757D"
#define MAIN_INCR "20261123-173754F_20261123-173800I"
#define DUAL_FULL1 "20261123-173813F"
#define DUAL_FULL2 "20261123-173817F"
#define DUAL_INCR1 "20261123-173813F_20261123-173821I"
#define WAL(n) "0000000100000000000000" n

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

/* The fixture NAME's bytes (NUL-terminated, *LEN without it); caller frees. */
static char *
slurp(const char *name, size_t *len)
{
	char path[8192];	/* source_dir() is at most 4095 */
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof path, "%s/tests/fixtures/pgbackrest/%s", source_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parse fixture NAME, which must succeed. */
static struct pgbr_info *
load(const char *name)
{
	struct pgbr_info *info = NULL;
	struct err e = { 0 };
	size_t len;
	char *text = slurp(name, &len);

	if (pgbr_info_parse(text, len, &info, &e) != 0)
		fail_msg("%s: %s", name, e.msg);
	free(text);
	assert_non_null(info);
	return info;
}

/* Parse TEXT, which must fail; returns the message (static). */
static const char *
parse_fails(const char *text, size_t len)
{
	static struct err e;
	struct pgbr_info *info = (struct pgbr_info *)&e;	/* must become NULL */

	err_clear(&e);
	assert_int_equal(pgbr_info_parse(text, len, &info, &e), -1);
	assert_null(info);
	assert_int_equal(e.code, ERR_PARSE);
	assert_true(strncmp(e.msg, "pgbackrest info: ", 17) == 0);
	return e.msg;
}

/* Parse TEXT, which must succeed. */
static struct pgbr_info *
parses(const char *text)
{
	struct pgbr_info *info = NULL;
	struct err e = { 0 };

	if (pgbr_info_parse(text, strlen(text), &info, &e) != 0)
		fail_msg("%s", e.msg);
	assert_non_null(info);
	return info;
}

static const char *
fails(const char *text)
{
	return parse_fails(text, strlen(text));
}

/* pg_controldata's system identifier of cluster NAME (pg_controldata.txt). */
static uint64_t
controldata_sysid(const char *name)
{
	size_t len;
	char *text = slurp("pg_controldata.txt", &len), *line, *save = NULL;
	uint64_t id = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char n[64];
		unsigned long long v;

		if (sscanf(line, "%63s %llu", n, &v) == 2 && strcmp(n, name) == 0)
			id = v;
	}
	free(text);
	assert_true(id != 0);
	return id;
}

static void
assert_backup(const struct pgbr_backup *b, const char *label, enum pgbr_backup_type type,
    const char *prior, int repo_key, int64_t start, int64_t stop)
{
	assert_string_equal(b->label, label);
	assert_int_equal(b->type, type);
	assert_string_equal(b->prior, prior);
	assert_int_equal(b->repo_key, repo_key);
	assert_int_equal(b->db_id, 1);
	assert_int_equal(b->start, start);
	assert_int_equal(b->stop, stop);
	assert_int_equal(b->error, 0);
}

/* The stanza main of one_stanza.json (also in two_stanzas.json). */
static void
assert_main(const struct pgbr_stanza *st)
{
	const struct pgbr_backup *b;

	assert_string_equal(st->name, "main");
	assert_int_equal(st->status_code, PGBR_STATUS_OK);
	assert_string_equal(st->status_message, "ok");
	assert_int_equal(st->lock_held, 0);
	assert_int_equal(st->lock_size, -1);
	assert_int_equal(st->lock_size_done, -1);
	assert_string_equal(st->cipher, "none");
	assert_true(st->system_id == SYSID_MAIN);
	assert_true(st->system_id == controldata_sysid("main"));
	assert_int_equal(st->pg_version_num, 150000);

	assert_int_equal(st->n_repos, 1);
	assert_int_equal(st->repos[0].key, 1);
	assert_int_equal(st->repos[0].status_code, 0);
	assert_string_equal(st->repos[0].status_message, "ok");
	assert_string_equal(st->repos[0].cipher, "none");

	assert_int_equal(st->n_archives, 1);
	assert_string_equal(st->archives[0].id, "15-1");
	assert_int_equal(st->archives[0].repo_key, 1);
	assert_int_equal(st->archives[0].db_id, 1);
	assert_string_equal(st->archives[0].wal_min, WAL("01"));
	assert_string_equal(st->archives[0].wal_max, WAL("07"));

	assert_int_equal(st->n_backups, 3);
	b = &st->backups[0];
	assert_backup(b, MAIN_FULL, PGBR_FULL, "", 1, 1795455474, 1795455476);
	assert_int_equal(b->size, 23213932);
	assert_int_equal(b->delta, 23213932);
	assert_int_equal(b->repo_size, 3062618);
	assert_int_equal(b->repo_delta, 3062618);
	assert_string_equal(b->lsn_start, "0/2000028");
	assert_string_equal(b->lsn_stop, "0/2000100");
	assert_string_equal(b->wal_start, WAL("02"));
	assert_string_equal(b->wal_stop, WAL("02"));
	b = &st->backups[1];
	assert_backup(b, MAIN_DIFF, PGBR_DIFF, MAIN_FULL, 1, 1795455477, 1795455479);
	assert_int_equal(b->size, 23607148);
	assert_int_equal(b->delta, 1876234);
	assert_int_equal(b->repo_size, 3105454);
	assert_int_equal(b->repo_delta, 208404);
	assert_string_equal(b->wal_start, WAL("04"));
	b = &st->backups[2];
	assert_backup(b, MAIN_INCR, PGBR_INCR, MAIN_DIFF, 1, 1795455480, 1795455482);
	assert_int_equal(b->delta, 1392906);
	assert_string_equal(b->lsn_start, "0/6000028");
	assert_string_equal(b->wal_stop, WAL("06"));
	assert_ptr_equal(pgbr_stanza_newest(st), &st->backups[2]);
}

static void
test_one_stanza(void **state)
{
	struct pgbr_info *info = load("one_stanza.json");

	(void)state;
	assert_int_equal(info->n_stanzas, 1);
	assert_main(&info->stanzas[0]);
	assert_ptr_equal(pgbr_info_stanza(info, "main"), &info->stanzas[0]);
	assert_null(pgbr_info_stanza(info, "mai"));
	assert_null(pgbr_info_stanza(info, NULL));
	assert_null(pgbr_info_stanza(NULL, "main"));
	pgbr_info_free(&info);
	assert_null(info);
	pgbr_info_free(&info);	/* NULL-safe */
	pgbr_info_free(NULL);
}

static void
test_two_stanzas(void **state)
{
	struct pgbr_info *info = load("two_stanzas.json");
	const struct pgbr_stanza *st;

	(void)state;
	assert_int_equal(info->n_stanzas, 2);
	/* pgBackRest lists them by name */
	st = &info->stanzas[0];
	assert_ptr_equal(pgbr_info_stanza(info, "empty"), st);
	assert_int_equal(st->status_code, PGBR_STATUS_NO_BACKUP);
	assert_string_equal(st->status_message, "no valid backups");
	assert_int_equal(st->n_repos, 1);
	assert_int_equal(st->repos[0].status_code, PGBR_STATUS_NO_BACKUP);
	assert_int_equal(st->n_backups, 0);
	assert_null(pgbr_stanza_newest(st));
	assert_true(st->system_id == SYSID_EMPTY);
	assert_true(st->system_id == controldata_sysid("empty"));
	assert_int_equal(st->pg_version_num, 150000);
	/* pgbackrest check archived one segment */
	assert_int_equal(st->n_archives, 1);
	assert_string_equal(st->archives[0].wal_min, WAL("01"));
	assert_string_equal(st->archives[0].wal_max, WAL("01"));
	assert_main(&info->stanzas[1]);
	assert_ptr_equal(pgbr_info_stanza(info, "main"), &info->stanzas[1]);
	pgbr_info_free(&info);
}

static void
test_two_repos(void **state)
{
	struct pgbr_info *info = load("two_repos.json");
	const struct pgbr_stanza *st = &info->stanzas[0];

	(void)state;
	assert_int_equal(info->n_stanzas, 1);
	assert_string_equal(st->name, "dual");
	assert_int_equal(st->status_code, PGBR_STATUS_OK);
	/* repo2 is encrypted: the stanza's cipher is "mixed" */
	assert_string_equal(st->cipher, "mixed");
	assert_true(st->system_id == SYSID_DUAL);
	assert_true(st->system_id == controldata_sysid("dual"));
	assert_int_equal(st->n_repos, 2);
	assert_int_equal(st->repos[0].key, 1);
	assert_string_equal(st->repos[0].cipher, "none");
	assert_int_equal(st->repos[1].key, 2);
	assert_string_equal(st->repos[1].cipher, "aes-256-cbc");
	assert_int_equal(st->repos[1].status_code, 0);
	/* archive-push writes to both repos */
	assert_int_equal(st->n_archives, 2);
	assert_int_equal(st->archives[0].repo_key, 1);
	assert_int_equal(st->archives[1].repo_key, 2);
	assert_string_equal(st->archives[1].wal_min, WAL("01"));
	assert_string_equal(st->archives[1].wal_max, WAL("07"));
	/* by stop time, across repos */
	assert_int_equal(st->n_backups, 3);
	assert_backup(&st->backups[0], DUAL_FULL1, PGBR_FULL, "", 1, 1795455493, 1795455496);
	assert_backup(&st->backups[1], DUAL_FULL2, PGBR_FULL, "", 2, 1795455497, 1795455500);
	assert_string_equal(st->backups[1].wal_start, WAL("03"));
	assert_string_equal(st->backups[1].wal_stop, WAL("04"));
	assert_int_equal(st->backups[1].repo_size, 3088384);
	assert_backup(&st->backups[2], DUAL_INCR1, PGBR_INCR, DUAL_FULL1, 1, 1795455501, 1795455503);
	pgbr_info_free(&info);
}

static void
test_error_statuses(void **state)
{
	struct pgbr_info *info;
	const struct pgbr_stanza *st;

	(void)state;
	info = load("missing_stanza.json");
	st = &info->stanzas[0];
	assert_string_equal(st->name, "ghost");
	assert_int_equal(st->status_code, PGBR_STATUS_MISSING_STANZA_PATH);
	assert_string_equal(st->status_message, "missing stanza path");
	assert_int_equal(st->repos[0].status_code, 1);
	assert_int_equal(st->n_backups + st->n_archives, 0);
	assert_true(st->system_id == 0);
	assert_int_equal(st->pg_version_num, 0);
	pgbr_info_free(&info);

	info = load("missing_stanza_data.json");
	st = &info->stanzas[0];
	assert_int_equal(st->status_code, PGBR_STATUS_MISSING_STANZA_DATA);
	assert_string_equal(st->status_message, "missing stanza data");
	pgbr_info_free(&info);

	/* code 99: the stanza says "other", the repo says what, on several lines */
	info = load("other_error.json");
	st = &info->stanzas[0];
	assert_string_equal(st->name, "empty");
	assert_int_equal(st->status_code, PGBR_STATUS_OTHER);
	assert_string_equal(st->status_message, "other");
	assert_int_equal(st->repos[0].status_code, 99);
	assert_true(strncmp(st->repos[0].status_message,
	    "[FileOpenError] unable to load info file '/tmp/pgbr-fixtures.", 61) == 0);
	assert_non_null(strstr(st->repos[0].status_message,
	    "archive.info' for read: [13] Permission denied\n"));
	/* the whole message fits, the last HINT included */
	assert_non_null(strstr(st->repos[0].status_message,
	    "\nHINT: use --no-archive-check to disable archive checks during backup if you have an "
	    "alternate archiving scheme."));
	pgbr_info_free(&info);

	info = load("backup_not_found.json");
	assert_int_equal(info->stanzas[0].status_code, PGBR_STATUS_BACKUP_NOT_FOUND);
	assert_string_equal(info->stanzas[0].status_message, "requested backup not found");
	pgbr_info_free(&info);

	info = load("repos_differ.json");
	st = &info->stanzas[0];
	assert_int_equal(st->status_code, PGBR_STATUS_REPOS_DIFFER);
	assert_string_equal(st->status_message, "different across repos");
	assert_int_equal(st->n_repos, 2);
	assert_int_equal(st->repos[0].status_code, 0);
	assert_int_equal(st->repos[1].status_code, PGBR_STATUS_MISSING_STANZA_DATA);
	assert_string_equal(st->repos[1].status_message, "missing stanza data");
	assert_string_equal(st->repos[1].cipher, "aes-256-cbc");
	/* only repo1's backups and archive are left */
	assert_int_equal(st->n_backups, 2);
	assert_int_equal(st->n_archives, 1);
	pgbr_info_free(&info);

	/* repo2 made from another cluster: its system-id differs */
	info = load("db_mismatch.json");
	st = &info->stanzas[0];
	assert_int_equal(st->status_code, PGBR_STATUS_DB_MISMATCH);
	assert_string_equal(st->status_message, "database mismatch across repos");
	assert_true(st->system_id == SYSID_DUAL);	/* repo1's */
	assert_int_equal(st->n_archives, 2);
	assert_int_equal(st->archives[1].repo_key, 2);
	assert_string_equal(st->archives[1].wal_min, "");	/* null: nothing archived */
	assert_string_equal(st->archives[1].wal_max, "");
	assert_int_equal(st->repos[1].status_code, PGBR_STATUS_NO_BACKUP);
	pgbr_info_free(&info);
}

static void
test_empty_repo(void **state)
{
	/* pgBackRest prints [] for a repository without stanzas: not an error */
	struct pgbr_info *info = load("empty_repo.json");

	(void)state;
	assert_int_equal(info->n_stanzas, 0);
	assert_null(pgbr_info_stanza(info, "main"));
	pgbr_info_free(&info);
}

static void
test_in_progress(void **state)
{
	struct pgbr_info *info = load("backup_in_progress.json");
	const struct pgbr_stanza *st = &info->stanzas[0];

	(void)state;
	assert_int_equal(st->lock_held, 1);
	/* 2.45 does not say how far it is */
	assert_int_equal(st->lock_size, -1);
	assert_int_equal(st->lock_size_done, -1);
	assert_int_equal(st->status_code, 0);
	assert_int_equal(st->n_backups, 3);
	/* pgbench's WAL was archived meanwhile */
	assert_string_equal(st->archives[0].wal_max, WAL("15"));
	pgbr_info_free(&info);

	/* newer versions add the progress: size and size-cplt */
	info = parses("[{\"name\":\"m\",\"status\":{\"code\":2,\"message\":\"no "
	    "valid backups\",\"lock\":{\"backup\":{\"held\":true,\"size\":109792819251,"
	    "\"size-cplt\":75161927680},\"restore\":{\"held\":false}}},\"backup\":[]}]");
	assert_int_equal(info->stanzas[0].lock_held, 1);
	assert_int_equal(info->stanzas[0].lock_size, 109792819251LL);
	assert_int_equal(info->stanzas[0].lock_size_done, 75161927680LL);
	assert_int_equal(info->stanzas[0].n_repos, 0);
	pgbr_info_free(&info);
}

static void
test_checksum_error(void **state)
{
	struct pgbr_info *info = load("checksum_error.json");
	const struct pgbr_stanza *st = &info->stanzas[0];

	(void)state;
	assert_string_equal(st->name, "empty");
	assert_int_equal(st->n_backups, 1);
	assert_int_equal(st->backups[0].error, 1);
	assert_int_equal(st->backups[0].type, PGBR_FULL);
	assert_int_equal(st->status_code, 0);
	pgbr_info_free(&info);
}

static void
test_set_backup(void **state)
{
	/* info --set adds database-ref, link and tablespace: ignored */
	struct pgbr_info *info = load("set_backup.json");
	const struct pgbr_stanza *st = &info->stanzas[0];

	(void)state;
	assert_int_equal(st->n_backups, 1);
	assert_backup(&st->backups[0], MAIN_DIFF, PGBR_DIFF, MAIN_FULL, 1, 1795455477, 1795455479);
	pgbr_info_free(&info);
}

static void
test_big_numbers(void **state)
{
	/* one_stanza.json by hand: system-id 2^64-1, size and delta 2^53+1,
	 * repository size INT64_MAX; a double would round every one of them */
	struct pgbr_info *info = load("hand_big_numbers.json");
	const struct pgbr_stanza *st = &info->stanzas[0];
	const char *m;

	(void)state;
	assert_true(st->system_id == UINT64_MAX);
	assert_true(st->backups[0].size == 9007199254740993LL);
	assert_true(st->backups[0].delta == 9007199254740993LL);
	assert_true(st->backups[0].repo_size == INT64_MAX);
	assert_true(st->backups[0].repo_delta == 3062618);
	assert_true(st->backups[1].size == 23607148);
	pgbr_info_free(&info);

	/* a long number inside a string stays a string */
	info = parses("[{\"name\":\"12345678901234567890\",\"status\":{\"code\":0},"
	    "\"db\":[{\"system-id\":9007199254740993,\"version\":\"9.6\"}]}]");
	assert_string_equal(info->stanzas[0].name, "12345678901234567890");
	assert_true(info->stanzas[0].system_id == 9007199254740993ULL);
	assert_int_equal(info->stanzas[0].pg_version_num, 90600);
	pgbr_info_free(&info);

	/* escaped quotes do not end a string early */
	info = parses("[{\"name\":\"a\\\"1234567890123456789\\\\\",\"status\":"
	    "{\"code\":0,\"message\":\"x\\\"\"}}]");
	assert_string_equal(info->stanzas[0].name, "a\"1234567890123456789\\");
	assert_string_equal(info->stanzas[0].status_message, "x\"");
	pgbr_info_free(&info);

	m = fails("[{\"name\":\"m\",\"status\":{\"code\":0},\"db\":[{\"system-id\":"
	    "18446744073709551616}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'm': \"system-id\" = 18446744073709551616 "
	    "is not a 64-bit unsigned integer");
	m = fails("[{\"name\":\"m\",\"status\":{\"code\":0},\"db\":[{\"system-id\":-5}]}]");
	assert_non_null(strstr(m, "\"system-id\" = -5 is not a 64-bit unsigned integer"));
	m = fails("[{\"name\":\"m\",\"status\":{\"code\":0},\"backup\":[{\"label\":\"L\",\"type\":\"full\","
	    "\"timestamp\":{\"start\":1,\"stop\":2},\"info\":{\"size\":9223372036854775808}}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'm' backup 1 (L): \"size\" = "
	    "9223372036854775808 is out of range");
	m = fails("[{\"name\":\"m\",\"status\":{\"code\":0},\"backup\":[{\"label\":\"L\",\"type\":\"full\","
	    "\"timestamp\":{\"start\":1,\"stop\":2},\"info\":{\"size\":-1234567890123456}}]}]");
	assert_non_null(strstr(m, "\"size\" = -1234567890123456 is negative"));
	/* 1e300 is a number, but no integer pgBackRest writes */
	m = fails("[{\"name\":\"m\",\"status\":{\"code\":1e300}}]");
	assert_non_null(strstr(m, "\"code\" = 1e+300 is not an integer"));
	m = fails("[{\"name\":\"m\",\"status\":{\"code\":0.5}}]");
	assert_non_null(strstr(m, "\"code\" = 0.5 is not an integer"));
}

/* Every strict prefix of a real fixture is refused, none leaks. */
static void
test_truncated(void **state)
{
	size_t len, n;
	char *text = slurp("two_repos.json", &len);
	const char *m;

	(void)state;
	assert_true(len > 1000);
	m = parse_fails(text, 0);
	assert_string_equal(m, "pgbackrest info: no output (expected a JSON array of stanzas)");
	for (n = 1; n < len; n++) {
		m = parse_fails(text, n);
		assert_true(strncmp(m, "pgbackrest info: not JSON at byte ", 34) == 0);
		assert_non_null(strstr(m, "(cut off?)"));
	}
	m = parse_fails(text, len / 2);
	assert_string_equal(m, "pgbackrest info: not JSON at byte 979: it ends inside a string at "
	    "byte 981 (cut off?)");
	m = parse_fails(text, 1);
	assert_string_equal(m, "pgbackrest info: not JSON at byte 1: it ends at byte 1 with 1 "
	    "bracket open (cut off?)");
	m = parse_fails(text, 3);	/* [{" */
	assert_string_equal(m, "pgbackrest info: not JSON at byte 3: it ends inside a string at "
	    "byte 3 (cut off?)");
	/* [{"archive":[{"database":{"id":1 */
	m = parse_fails(text, (size_t)(strstr(text, "\"id\":1") - text) + 6);
	assert_string_equal(m, "pgbackrest info: not JSON at byte 32: it ends at byte 32 with 5 "
	    "brackets open (cut off?)");
	free(text);
}

static void
test_malformed(void **state)
{
	const char *m;

	(void)state;
	m = fails("");
	assert_string_equal(m, "pgbackrest info: no output (expected a JSON array of stanzas)");
	fails(" \n\t ");
	m = fails("ERROR: [031]: option 'stanza' not valid without option 'set'\n");
	assert_string_equal(m, "pgbackrest info: not JSON: 'ERROR: [031]: option 'stanza' not valid "
	    "without option 'set''");
	m = fails("{\"name\":\"main\"}");
	assert_string_equal(m, "pgbackrest info: expected a JSON array of stanzas, got an object");
	m = fails("[{\"name\":\"main\"} x]");
	assert_string_equal(m, "pgbackrest info: not JSON at byte 17");
	m = fails("[] []");
	assert_string_equal(m, "pgbackrest info: not JSON at byte 3");
	/* the error is placed in the text as given, not in the quoted copy */
	m = fails("[12345678901234567890, 12345678901234567890 @]");
	assert_string_equal(m, "pgbackrest info: not JSON at byte 44");
	m = parse_fails("[{\"name\":\"m\0\"}]", 15);
	assert_string_equal(m, "pgbackrest info: not JSON: NUL byte at byte 11");

	m = fails("[1]");
	assert_string_equal(m, "pgbackrest info: stanza 1 is a number, not an object");
	m = fails("[{\"name\":\"a\",\"status\":{\"code\":0}},{\"status\":{\"code\":0}}]");
	assert_string_equal(m, "pgbackrest info: stanza 2 has no name");
	m = fails("[{\"name\":\"\",\"status\":{\"code\":0}}]");
	assert_string_equal(m, "pgbackrest info: stanza 1 has no name");
	m = fails("[{\"name\":7}]");
	assert_string_equal(m, "pgbackrest info: stanza 1: \"name\" is a number, not a string");
	m = fails("[{\"name\":\"main\"}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main' has no status.code");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":\"0\"}}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main': \"code\" is a string, not a number");
	m = fails("[{\"name\":\"main\",\"status\":[]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main': \"status\" is an array, not an object");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0,\"lock\":{\"backup\":{\"held\":1}}}}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main': \"held\" is a number, not true or false");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"backup\":{}}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main': \"backup\" is an object, not an array");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"backup\":[{\"label\":5}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main' backup 1: \"label\" is a number, "
	    "not a string");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"backup\":[{\"type\":\"full\"}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main' backup 1 has no label");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"backup\":[{\"label\":\"L\",\"type\":"
	    "\"full\",\"timestamp\":{\"start\":1}}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main' backup 1 (L) has no timestamp.start/stop");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"repo\":[{\"key\":1,\"status\":"
	    "{\"code\":0}},{\"key\":2,\"cipher\":true,\"status\":{\"code\":0}}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main' repo 2: \"cipher\" is a boolean, "
	    "not a string");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"archive\":[{\"min\":[]}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main' archive 1: \"min\" is an array, "
	    "not a string");
	m = fails("[{\"name\":\"main\",\"status\":{\"code\":0},\"db\":[{\"version\":\"15\"}]}]");
	assert_string_equal(m, "pgbackrest info: stanza 'main': db 1 has no system-id");
	m = fails("[{\"name\":\"a\",\"status\":{\"code\":0}},{\"name\":\"a\",\"status\":{\"code\":0}}]");
	assert_string_equal(m, "pgbackrest info: stanza 'a' appears twice");

	/* null is absent */
	{
		struct pgbr_info *info;

		info = parses("[{\"name\":\"m\",\"status\":{\"code\":0,\"lock\":null},"
		    "\"cipher\":null,\"backup\":[{\"label\":\"L\",\"type\":\"incr\",\"prior\":null,"
		    "\"timestamp\":{\"start\":1,\"stop\":2},\"info\":null}]}]");
		assert_int_equal(info->stanzas[0].backups[0].size, -1);
		assert_int_equal(info->stanzas[0].backups[0].repo_size, -1);
		assert_int_equal(info->stanzas[0].backups[0].repo_key, 1);
		assert_int_equal(info->stanzas[0].backups[0].type, PGBR_INCR);
		assert_string_equal(info->stanzas[0].backups[0].prior, "");
		pgbr_info_free(&info);
	}
}

/* 1 MiB of hostile bytes, several kinds: -1 quickly, nothing leaked. */
static void
test_garbage(void **state)
{
	size_t n = 1 << 20, i;
	char *buf = malloc(n);
	uint32_t x = 2463534242u;
	const char *m;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)(x & 0xff);
	}
	buf[0] = 'q';
	m = parse_fails(buf, n);
	assert_true(strncmp(m, "pgbackrest info: not JSON: '", 28) == 0);
	assert_true(strlen(m) < 120);
	buf[0] = '[';
	parse_fails(buf, n);
	/* printable noise, no NUL */
	for (i = 1; i < n; i++)
		buf[i] = (char)(' ' + (unsigned char)buf[i] % 95);
	parse_fails(buf, n);
	/* nesting deeper than cJSON allows */
	memset(buf, '[', n);
	m = parse_fails(buf, n);
	assert_non_null(strstr(m, "not JSON"));
	/* one number of a million digits: quoted, then refused by type */
	buf[0] = '[';
	memset(buf + 1, '7', n - 2);
	buf[n - 1] = ']';
	m = parse_fails(buf, n);
	assert_string_equal(m, "pgbackrest info: stanza 1 is a string, not an object");
	/* a million short numbers */
	for (i = 1; i + 1 < n; i += 2) {
		buf[i] = '1';
		buf[i + 1] = ',';
	}
	buf[n - 2] = '1';
	buf[n - 1] = ']';
	m = parse_fails(buf, n);
	assert_string_equal(m, "pgbackrest info: stanza 1 is a number, not an object");
	free(buf);
}

/* ---- PITR window -------------------------------------------------------- */

static int64_t
archiver_time(void)
{
	size_t len;
	char *text = slurp("archiver.txt", &len);
	char name[16], wal[32];
	long long t = 0;

	assert_int_equal(sscanf(text, "%15s %31s %lld", name, wal, &t), 3);
	assert_string_equal(name, "main");
	assert_string_equal(wal, WAL("07"));	/* = one_stanza.json's archive max */
	free(text);
	return t;
}

static void
test_pitr_normal(void **state)
{
	struct pgbr_info *info = load("one_stanza.json");
	const struct pgbr_stanza *st = &info->stanzas[0];
	struct pgbr_pitr w;
	int64_t t = archiver_time();

	(void)state;
	assert_true(t > 1795455482);
	pgbr_pitr_window(st, t, &w);
	assert_int_equal(w.valid, 1);
	assert_int_equal(w.earliest, 1795455476);	/* the full's stop */
	assert_int_equal(w.latest, t);
	assert_int_equal(w.latest_from_archiver, 1);
	assert_string_equal(w.why, "");

	/* no archiver time: up to the newest backup, and said */
	pgbr_pitr_window(st, 0, &w);
	assert_int_equal(w.valid, 1);
	assert_int_equal(w.earliest, 1795455476);
	assert_int_equal(w.latest, 1795455482);
	assert_int_equal(w.latest_from_archiver, 0);
	assert_string_equal(w.why, "ends at the newest backup " MAIN_INCR ": the archiver's last "
	    "time is unknown");

	/* an archiver time before the newest backup's stop adds nothing */
	pgbr_pitr_window(st, 1795455480, &w);
	assert_int_equal(w.latest, 1795455482);
	assert_int_equal(w.latest_from_archiver, 0);
	assert_string_equal(w.why, "");
	pgbr_info_free(&info);
}

static void
test_pitr_no_backups(void **state)
{
	struct pgbr_info *info = load("two_stanzas.json");
	struct pgbr_pitr w;

	(void)state;
	pgbr_pitr_window(pgbr_info_stanza(info, "empty"), 1795455484, &w);
	assert_int_equal(w.valid, 0);
	assert_string_equal(w.why, "no backups yet: nothing to recover from");
	pgbr_pitr_window(NULL, 0, &w);
	assert_int_equal(w.valid, 0);
	assert_string_equal(w.why, "no such stanza in pgBackRest's info");
	pgbr_info_free(&info);

	/* info saw backups but no archive */
	info = load("one_stanza.json");
	info->stanzas[0].n_archives = 0;
	pgbr_pitr_window(&info->stanzas[0], 1795455484, &w);
	assert_int_equal(w.valid, 0);
	assert_string_equal(w.why, "no WAL in the archive: only the backups themselves can be restored");
	info->stanzas[0].n_archives = 1;
	pgbr_info_free(&info);
}

static void
test_pitr_archive_expired(void **state)
{
	struct pgbr_info *info = load("one_stanza.json");
	struct pgbr_stanza *st = &info->stanzas[0];
	struct pgbr_pitr w;

	(void)state;
	/* the full's start WAL (…02) expired: the window starts at the diff */
	strcpy(st->archives[0].wal_min, WAL("03"));
	pgbr_pitr_window(st, 1795455484, &w);
	assert_int_equal(w.valid, 1);
	assert_int_equal(w.earliest, 1795455479);
	assert_int_equal(w.latest, 1795455484);
	assert_string_equal(w.why, "starts at " MAIN_DIFF ": 1 older backup no longer has its WAL in "
	    "the archive");
	/* the same without archiver time */
	pgbr_pitr_window(st, 0, &w);
	assert_int_equal(w.latest, 1795455482);
	assert_string_equal(w.why, "ends at the newest backup (archiver time unknown); 1 older backup "
	    "without WAL");
	/* only the incr left */
	strcpy(st->archives[0].wal_min, WAL("05"));
	pgbr_pitr_window(st, 1795455484, &w);
	assert_int_equal(w.earliest, 1795455482);
	assert_string_equal(w.why, "starts at " MAIN_INCR ": 2 older backups no longer have their WAL "
	    "in the archive");
	/* none left */
	strcpy(st->archives[0].wal_min, WAL("07"));
	pgbr_pitr_window(st, 1795455484, &w);
	assert_int_equal(w.valid, 0);
	assert_string_equal(w.why, "the archive (oldest WAL " WAL("07") ") no longer holds the WAL of "
	    "any backup");
	/* the archive ends before the incr's stop segment */
	strcpy(st->archives[0].wal_min, WAL("01"));
	strcpy(st->archives[0].wal_max, WAL("05"));
	pgbr_pitr_window(st, 0, &w);
	assert_int_equal(w.latest, 1795455479);	/* the diff */
	pgbr_info_free(&info);
}

static void
test_pitr_repos(void **state)
{
	struct pgbr_info *info = load("two_repos.json");
	struct pgbr_stanza *st = &info->stanzas[0];
	struct pgbr_pitr w;

	(void)state;
	pgbr_pitr_window(st, 1795455510, &w);
	assert_int_equal(w.valid, 1);
	assert_int_equal(w.earliest, 1795455496);
	assert_int_equal(w.latest, 1795455510);
	/* repo1's archive lost …02: its full is out; repo2's full (…03-…04)
	 * is matched with repo2's archive, not repo1's */
	strcpy(st->archives[0].wal_min, WAL("03"));
	pgbr_pitr_window(st, 1795455510, &w);
	assert_int_equal(w.earliest, 1795455500);
	/* and with nothing in repo2's archive, only repo1's incr is left */
	st->archives[1].wal_min[0] = st->archives[1].wal_max[0] = '\0';
	pgbr_pitr_window(st, 1795455510, &w);
	assert_int_equal(w.earliest, 1795455503);
	assert_string_equal(w.why, "starts at " DUAL_INCR1 ": 2 older backups no longer have their "
	    "WAL in the archive");
	pgbr_info_free(&info);

	/* db_mismatch.json: repo2's archive is null, its backups none */
	info = load("db_mismatch.json");
	pgbr_pitr_window(&info->stanzas[0], 0, &w);
	assert_int_equal(w.valid, 1);
	assert_int_equal(w.earliest, 1795455496);
	assert_int_equal(w.latest, 1795455503);
	pgbr_info_free(&info);
}

/* ---- progress lines -------------------------------------------------------- */

/* Does S (LEN bytes) contain NEEDLE? */
static int
has(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(s + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Run every line of log fixture NAME; counts of matches, and checks that
 * the percentages never go down and each equals the text before "%)". */
static int
progress_of_log(const char *name, int *lines, double *last)
{
	size_t len;
	char *text = slurp(name, &len), *p = text, *nl;
	int matched = 0;
	double prev = 0;

	*lines = 0;
	for (; p < text + len; p = nl + 1) {
		double pct = -1;
		int r;

		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (nl == NULL)
			nl = text + len;
		(*lines)++;
		/* not NUL-terminated at the line's end */
		r = pgbr_progress_line(p, (size_t)(nl - p), &pct);
		if (r) {
			const char *close = NULL, *q;
			double want;

			for (q = p; q + 1 < nl; q++)
				if (q[0] == '%' && q[1] == ')')
					close = q;
			assert_non_null(close);
			for (q = close; q > p && q[-1] != ' ' && q[-1] != '('; q--)
				;
			want = strtod(q, NULL);
			assert_true(pct == want);
			assert_true(pct >= prev);
			prev = pct;
			matched++;
		}
		/* a copied file: "DETAIL: backup file" or "match file from prior backup" */
		assert_int_equal(r, has(p, (size_t)(nl - p), " DETAIL: backup file ") ||
		    has(p, (size_t)(nl - p), " DETAIL: match file from prior backup "));
	}
	*last = prev;
	free(text);
	return matched;
}

static void
test_progress_real(void **state)
{
	int lines;
	double last;
	size_t len;
	char *text;
	double pct = -1;

	(void)state;
	/* the full backup of pgbench -s 20: 87 files in the kept 100 lines */
	assert_int_equal(progress_of_log("backup_detail.log", &lines, &last), 87);
	assert_int_equal(lines, 100);
	assert_true(last == 100.0);
	/* the incr with --delta: "match file from prior backup" counts too */
	assert_int_equal(progress_of_log("backup_detail_incr_delta.log", &lines, &last), 55);
	assert_int_equal(lines, 100);
	assert_true(last == 96.55);	/* the kept head ends there */

	text = slurp("backup_detail.log", &len);
	/* its first file line: pgbench_accounts, 256 MB of 322 */
	{
		const char *l = strstr(text, "2026-11-23 17:38:36.067 P01 DETAIL: backup file ");

		assert_non_null(l);
		assert_int_equal(pgbr_progress_line(l, strcspn(l, "\n"), &pct), 1);
		assert_true(pct == 79.43);
	}
	free(text);

	/* the invalid-checksum warning of checksum_error.json's backup */
	text = slurp("backup_checksum_error.log", &len);
	assert_true(strncmp(text, "WARN: invalid page checksum found in file ", 42) == 0);
	pct = -1;
	assert_int_equal(pgbr_progress_line(text, len, &pct), 0);
	assert_true(pct == -1);
	free(text);
}

static int
prog(const char *line, double *pct)
{
	*pct = -1;
	return pgbr_progress_line(line, strlen(line), pct);
}

static void
test_progress_forms(void **state)
{
	double pct;

	(void)state;
	/* as in the logs, with and without time, a remote host, CR LF */
	assert_int_equal(prog("P01 DETAIL: backup file /d/base/1/1259 (112KB, 96.30%) checksum "
	    "43696fa5f76f713fcf5cbaecc47f852608c52722", &pct), 1);
	assert_true(pct == 96.30);
	assert_int_equal(prog("2024-01-01 00:00:00.000 P02 DETAIL: backup file db1:/d/base/1/2 "
	    "(0B, 100.00%)\r\n", &pct), 1);
	assert_true(pct == 100.0);
	assert_int_equal(prog("P01 DETAIL: checksum resumed file /d/x (8KB, 0.50%) checksum ab12",
	    &pct), 1);
	assert_true(pct == 0.5);
	/* bundles, a changed size, older integer percentages */
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (bundle 1/128, 8KB, 12.34%) checksum ab",
	    &pct), 1);
	assert_true(pct == 12.34);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (16KB->8KB, 50.00%) checksum ab", &pct), 1);
	assert_true(pct == 50.0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB, 7%) checksum ab", &pct), 1);
	assert_true(pct == 7.0);
	/* a path with parentheses and a percent sign of its own */
	assert_int_equal(prog("P01 DETAIL: backup file /d/odd (1%) name (8KB, 42.00%) checksum ab",
	    &pct), 1);
	assert_true(pct == 42.0);

	/* not a copied file */
	assert_int_equal(prog("", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: skip file removed by database /d/base/1/3", &pct), 0);
	assert_int_equal(prog("P00 DETAIL: reference pg_data/global/4060 to 20261123-173830F", &pct), 0);
	assert_int_equal(prog("P00   INFO: full backup size = 322.5MB, file total = 979", &pct), 0);
	assert_int_equal(prog("P00 DETAIL: wrote 'backup_label' file returned from backup stop "
	    "function", &pct), 0);
	assert_int_equal(prog("WARN: invalid page checksum found in file /d/base/5/16384 at page 0",
	    &pct), 0);
	assert_int_equal(prog("P01 XDETAIL: backup file /d/x (8KB, 12.00%)", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB, 101.00%)", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB, abc%)", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB, 12.00%", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB, 12.00%) checksum XYZ", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB, 12.00%) and more", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file /d/x (8KB,12.00%)", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file (12.00%)", &pct), 1);
	assert_int_equal(prog("P01 DETAIL: backup file %)", &pct), 0);
	assert_int_equal(prog("P01 DETAIL: backup file ", &pct), 0);
	assert_true(pct == -1);
	assert_int_equal(pgbr_progress_line(NULL, 0, &pct), 0);
	/* LEN is what counts: the same line cut before its percentage */
	{
		const char *l = "P01 DETAIL: backup file /d/x (8KB, 12.34%) checksum ab";

		assert_int_equal(pgbr_progress_line(l, strlen(l), &pct), 1);
		assert_int_equal(pgbr_progress_line(l, 38, &pct), 0);
	}
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(pgbr_type_name(PGBR_FULL), "full");
	assert_string_equal(pgbr_type_name(PGBR_DIFF), "diff");
	assert_string_equal(pgbr_type_name(PGBR_INCR), "incr");
	assert_string_equal(pgbr_type_name(PGBR_TYPE_UNKNOWN), "?");
	assert_string_equal(pgbr_type_name((enum pgbr_backup_type)42), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_stanza),
		cmocka_unit_test(test_two_stanzas),
		cmocka_unit_test(test_two_repos),
		cmocka_unit_test(test_error_statuses),
		cmocka_unit_test(test_empty_repo),
		cmocka_unit_test(test_in_progress),
		cmocka_unit_test(test_checksum_error),
		cmocka_unit_test(test_set_backup),
		cmocka_unit_test(test_big_numbers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_pitr_normal),
		cmocka_unit_test(test_pitr_no_backups),
		cmocka_unit_test(test_pitr_archive_expired),
		cmocka_unit_test(test_pitr_repos),
		cmocka_unit_test(test_progress_real),
		cmocka_unit_test(test_progress_forms),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
