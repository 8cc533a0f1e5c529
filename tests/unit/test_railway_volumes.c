/* test_railway_volumes.c - a service's volume, its backups and schedule
 * (railway_volumes_list) and the volume mutations (backup with and without
 * following the workflow, staged restore with its two checks and the
 * commit, schedule) on a real loop against tests/support/gqlserver.js,
 * which answers from tests/fixtures/railway_volumes: replies recorded from
 * the sandbox's emulator, and broken ones (missing lists, nulls, wrong
 * types, escape sequences, ids too long, 64-bit sizes, 1500 backups, an
 * HTML 502, GraphQL errors, workflows that fail, vanish or never end). */
#define _GNU_SOURCE	/* pipe2 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gqlserver_run.h"
#include "signalbox/http.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"

#define PROJECT_ID "339da215-ec37-49ee-aa80-1b4a7f8e5c04"
#define ENV_ID "4ba881aa-c780-4021-a912-3aa53504084f"
#define PG_ID "3c2cb458-6b39-544d-9750-c957cc537f93"	/* postgres in ../railway/snapshot.json */
#define API_ID "13b16db8-678d-4ba5-a697-e8947839d24d"
#define VI_ID "d045055d-b0bb-5c88-95ed-8c3dbd52bf84"
#define VOL_ID "a8ac2a45-a542-5fb6-992e-0f3b8cd9f53d"
#define NEW_BACKUP "69565a15-2888-5046-b5b5-54b1daa33438"
#define OLD_BACKUP "baed67a3-9b38-5b6f-8aad-2112200ad713"
#define WORKFLOW "d0df9a98-70b3-584f-a995-5719e054368f"
#define RESTORE_WF "8155575f-3cde-5928-b450-c0973b2b8293"
#define PATCH_ID "ed6c0d96-22ee-5903-9986-3e022f071eac"
#define HUGE 1500

static struct gqlserver srv;
static char fixtures[PATH_MAX];	/* a copy of the fixtures, with the generated ones */

/* --- the server on our own fixture directory ------------------------------- */

static void
source_path(char *buf, size_t size, const char *rel)
{
	const char *src = getenv("SIGNALBOX_SOURCE_DIR");
	const char *cut = strstr(__FILE__, "/tests/unit/");

	if (src != NULL && *src != '\0')
		snprintf(buf, size, "%s/%s", src, rel);
	else if (cut != NULL)
		snprintf(buf, size, "%.*s/%s", (int)(cut - __FILE__), __FILE__, rel);
	else
		snprintf(buf, size, "%s", rel);
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out;
	size_t n;

	if (in == NULL)
		return -1;
	if ((out = fopen(to, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out);
}

/* FIXTURES/railway_volumes: every file of tests/fixtures/railway_volumes and
 * backups_huge.json; FIXTURES/railway: the base replies they refer to. */
static int
fixtures_make(void)
{
	static const char *const base[] = {
		"resolve.json", "snapshot.json", "history.json", "vars.json", "bad_gateway.html",
		"not_authorized.json",
	};
	char src[PATH_MAX], from[PATH_MAX + 300], to[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;
	FILE *f;

	snprintf(fixtures, sizeof fixtures, "%s/sbvol.XXXXXX", getenv("TMPDIR") != NULL &&
	    *getenv("TMPDIR") != '\0' ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(fixtures) == NULL)
		return -1;
	snprintf(to, sizeof to, "%s/railway_volumes", fixtures);
	mkdir(to, 0700);
	snprintf(to, sizeof to, "%s/railway", fixtures);
	mkdir(to, 0700);
	source_path(src, sizeof src, "tests/fixtures/railway_volumes");
	if ((d = opendir(src)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(from, sizeof from, "%s/%s", src, de->d_name);
		snprintf(to, sizeof to, "%s/railway_volumes/%s", fixtures, de->d_name);
		if (copy_file(from, to) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	source_path(src, sizeof src, "tests/fixtures/railway");
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
		snprintf(from, sizeof from, "%s/%s", src, base[i]);
		snprintf(to, sizeof to, "%s/railway/%s", fixtures, base[i]);
		if (copy_file(from, to) != 0)
			return -1;
	}
	/* 1500 backups, one a minute, oldest first: the newest 1000 are kept */
	snprintf(to, sizeof to, "%s/railway_volumes/backups_huge.json", fixtures);
	if ((f = fopen(to, "w")) == NULL)
		return -1;
	fputs("{\"data\":{\"volumeInstanceBackupList\":[", f);
	for (int i = 0; i < HUGE; i++)
		fprintf(f, "%s{\"id\":\"b%04d\",\"externalId\":\"L%04d\",\"name\":null,"
		    "\"createdAt\":\"2026-01-%02dT%02d:%02d:00Z\",\"expiresAt\":null,\"usedMB\":%d}",
		    i > 0 ? "," : "", i, i, 1 + i / 1440, i / 60 % 24, i % 60, i);
	fputs("],\"volumeInstanceBackupScheduleList\":[]}}\n", f);
	return fclose(f);
}

static void
fixtures_remove(void)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	for (int k = 0; k < 2; k++) {
		const char *sub = k == 0 ? "railway_volumes" : "railway";

		snprintf(path, sizeof path, "%s/%s", fixtures, sub);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			char file[PATH_MAX + 600];

			if (de->d_name[0] == '.')
				continue;
			snprintf(file, sizeof file, "%s/%s", path, de->d_name);
			unlink(file);
		}
		closedir(d);
		rmdir(path);
	}
	rmdir(fixtures);
}

/* Start gqlserver.js on FIXTURES/railway_volumes, as gqlserver_start does on
 * tests/fixtures/railway: a lifeline on its stdin, its port on stdout. */
static int
server_start(struct gqlserver *gs)
{
	char script[PATH_MAX], dir[PATH_MAX + 32], line[256];
	int out[2], life[2];
	size_t len = 0;
	const char *p;

	memset(gs, 0, sizeof *gs);
	snprintf(gs->dir, sizeof gs->dir, "%s/sbvolgql.XXXXXX", getenv("TMPDIR") != NULL &&
	    *getenv("TMPDIR") != '\0' ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(gs->dir) == NULL)
		return -1;
	snprintf(gs->log, sizeof gs->log, "%s/requests.jsonl", gs->dir);
	source_path(script, sizeof script, "tests/support/gqlserver.js");
	snprintf(dir, sizeof dir, "%s/railway_volumes", fixtures);
	if (pipe(out) != 0 || pipe2(life, O_CLOEXEC) != 0)
		return -1;
	if ((gs->pid = fork()) < 0)
		return -1;
	if (gs->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(life[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execlp("node", "node", script, dir, "--log", gs->log, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(life[0]);
	gs->lifeline = life[1];
	line[0] = '\0';
	while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL) {
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 20000) <= 0 || (n = read(out[0], line + len,
		    sizeof line - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(out[0]);
	if ((p = strstr(line, "\"http\":")) != NULL)
		gs->port = atoi(p + 7);
	if (gs->port == 0) {
		fprintf(stderr, "gqlserver did not report its port (got '%s')\n", line);
		return -1;
	}
	return 0;
}

/* --- a client on a loop ------------------------------------------------------ */

struct fx {
	uv_loop_t loop;
	struct store *store;
	struct http *http;
	struct railway *rw;
	char url[256];
	char path[128];
};

/* What the callbacks saw. */
struct box {
	int called;
	int ok, cancelled;
	char op[32];
	char error[700];
	int64_t duration_ms;
	struct railway_volumes *v;	/* a list's answer (a reference) */
	int progress;			/* progress calls */
	char steps[1024];		/* "step|workflow|status|detail;" per progress call */
};

static void
box_done(const struct railway_result *r, void *ud)
{
	struct box *b = ud;

	b->called++;
	b->ok = r->ok;
	b->cancelled = r->cancelled;
	util_strlcpy(b->op, r->op, sizeof b->op);
	util_strlcpy(b->error, r->error, sizeof b->error);
	b->duration_ms = r->duration_ms;
}

static void
box_list(struct railway_volumes *v, const char *error, void *ud)
{
	struct box *b = ud;

	b->called++;
	b->ok = v != NULL && error == NULL;
	if (error != NULL)
		util_strlcpy(b->error, error, sizeof b->error);
	if (v != NULL) {
		railway_volumes_ref(v);
		b->v = v;
	}
}

static void
box_progress(const struct railway_volume_progress *p, void *ud)
{
	struct box *b = ud;
	size_t used = strlen(b->steps);

	b->progress++;
	assert_int_equal(b->called, 0);	/* progress comes before DONE */
	assert_true(p->elapsed_ms >= 0);
	snprintf(b->steps + used, sizeof b->steps - used, "%s|%s|%s|%s;", p->step,
	    p->workflow_id, p->status, p->detail);
}

static void
fx_start(struct fx *f, const char *path)
{
	struct railway_opts o;
	struct err e;

	memset(f, 0, sizeof *f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->store = store_new();
	f->http = http_new(&f->loop, &e);
	assert_non_null(f->http);
	util_strlcpy(f->path, path, sizeof f->path);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/%s/graphql/v2", srv.port, path);
	memset(&o, 0, sizeof o);
	o.endpoint = f->url;
	o.token = "test-token-123";
	o.token_kind = RAILWAY_TOKEN_BEARER;
	o.token_env = "RAILWAY_TOKEN";
	o.project_id = PROJECT_ID;
	o.environment = "production";
	o.poll_ms = 60000;
	f->rw = railway_new(&f->loop, f->store, f->http, &o, &e);
	if (f->rw == NULL)
		fail_msg("railway_new: %s", e.msg);
	railway_start(f->rw);
}

static void
tick(uv_timer_t *t)
{
	(void)t;
}

static int
fx_run_until(struct fx *f, int (*done)(struct fx *, void *), void *arg, uint64_t max_ms)
{
	uv_timer_t wd;
	uint64_t start;
	int ok;

	uv_update_time(&f->loop);
	start = uv_now(&f->loop);
	uv_timer_init(&f->loop, &wd);
	uv_timer_start(&wd, tick, 10, 10);
	while (!(ok = done(f, arg)) && uv_now(&f->loop) - start < max_ms)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return ok;
}

static int
resolved(struct fx *f, void *arg)
{
	(void)arg;
	return railway_environment_id(f->rw)[0] != '\0' &&
	    store_get(f->store, STORE_TOPIC_SERVICES, NULL) != NULL;
}

static int
box_called(struct fx *f, void *arg)
{
	(void)f;
	return ((struct box *)arg)->called > 0;
}

static int
never(struct fx *f, void *arg)
{
	(void)f;
	(void)arg;
	return 0;
}

/* A client on PATH with the environment resolved and a snapshot. */
static void
fx_ready(struct fx *f, const char *path)
{
	fx_start(f, path);
	if (!fx_run_until(f, resolved, NULL, 10000))
		fail_msg("the client did not resolve the environment on %s", path);
}

static void
fx_wait(struct fx *f, struct box *b, uint64_t max_ms)
{
	if (!fx_run_until(f, box_called, b, max_ms))
		fail_msg("the callback did not run within %llu ms", (unsigned long long)max_ms);
	/* exactly once: a while longer, nothing more */
	fx_run_until(f, never, NULL, 50);
	assert_int_equal(b->called, 1);
}

static void
fx_fini(struct fx *f)
{
	railway_stop(f->rw);
	railway_free(&f->rw);
	http_free(&f->http);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	store_free(&f->store);
}

/* Requests F sent for OP, in order, one JSON line each ("" when none). */
static char *
fx_requests(const struct fx *f, const char *op)
{
	char *log = gqlserver_log(&srv), *out, pat[96], path[200];
	size_t used = 0;
	const char *p;

	assert_non_null(log);
	out = calloc(1, strlen(log) + 1);
	assert_non_null(out);
	snprintf(pat, sizeof pat, "\"op\":\"%s\"", op);
	snprintf(path, sizeof path, "\"path\":\"/%s/graphql/v2\"", f->path);
	for (p = log; *p != '\0';) {
		const char *end = strchr(p, '\n');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		char *line = strndup(p, n);

		if (strstr(line, pat) != NULL && strstr(line, path) != NULL) {
			memcpy(out + used, line, n);
			used += n;
			out[used++] = '\n';
		}
		free(line);
		p += n + (end != NULL);
	}
	free(log);
	return out;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static int
has_controls(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 1;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 1;
	}
	return 0;
}

#define assert_has(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("'%s' not in '%s'", (needle), (hay)); \
} while (0)

/* --- pure parts ------------------------------------------------------------ */

static void
test_schedule_words(void **state)
{
	unsigned k;
	char buf[64];
	struct err e;

	(void)state;
	assert_int_equal(railway_schedule_parse("DAILY,WEEKLY", &k, &e), 0);
	assert_int_equal(k, RAILWAY_SCHEDULE_DAILY | RAILWAY_SCHEDULE_WEEKLY);
	assert_int_equal(railway_schedule_parse("monthly,Daily,daily", &k, &e), 0);
	assert_int_equal(k, RAILWAY_SCHEDULE_DAILY | RAILWAY_SCHEDULE_MONTHLY);
	assert_int_equal(railway_schedule_parse("none", &k, &e), 0);
	assert_int_equal(k, 0);
	assert_int_equal(railway_schedule_parse("NONE", &k, &e), 0);
	assert_int_equal(k, 0);
	assert_int_equal(railway_schedule_parse("HOURLY", &k, &e), -1);
	assert_has(e.msg, "'HOURLY' is not a backup schedule");
	assert_int_equal(railway_schedule_parse("DAILY,", &k, &e), -1);
	assert_has(e.msg, "'' is not a backup schedule");
	assert_int_equal(railway_schedule_parse("DAILY WEEKLY", &k, &e), -1);
	assert_int_equal(railway_schedule_parse("", &k, &e), -1);
	assert_int_equal(k, 0);
	railway_schedule_format(0, buf, sizeof buf);
	assert_string_equal(buf, "none");
	railway_schedule_format(RAILWAY_SCHEDULE_ALL, buf, sizeof buf);
	assert_string_equal(buf, "DAILY,WEEKLY,MONTHLY");
	railway_schedule_format(RAILWAY_SCHEDULE_MONTHLY | RAILWAY_SCHEDULE_DAILY, buf, sizeof buf);
	assert_string_equal(buf, "DAILY,MONTHLY");
	railway_schedule_format(RAILWAY_SCHEDULE_ALL, buf, 9);
	assert_string_equal(buf, "DAILY,WE");	/* cut, still terminated */
}

static void
test_arguments(void **state)
{
	struct fx f;
	struct box b;
	struct err e;

	(void)state;
	fx_start(&f, "list/args");
	memset(&b, 0, sizeof b);
	/* before the environment is resolved: refused, no callback */
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), -1);
	assert_has(e.msg, "not connected to Railway yet");
	assert_int_equal(railway_volume_backup_restore(f.rw, VI_ID, NEW_BACKUP, NULL, box_done,
	    &b, &e), -1);
	fx_run_until(&f, resolved, NULL, 10000);
	assert_int_equal(railway_volumes_list(f.rw, "", box_list, &b, &e), -1);
	assert_has(e.msg, "no service id");
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, NULL, &b, &e), -1);
	assert_int_equal(railway_volume_backup_create(f.rw, NULL, "x", 0, NULL, box_done, &b, &e),
	    -1);
	assert_has(e.msg, "no volume instance id");
	assert_int_equal(railway_volume_backup_restore(f.rw, VI_ID, "", NULL, box_done, &b, &e),
	    -1);
	assert_has(e.msg, "no backup id");
	assert_int_equal(railway_volume_schedule_set(f.rw, VI_ID, 8, box_done, &b, &e), -1);
	assert_has(e.msg, "unknown backup schedule kinds");
	fx_run_until(&f, never, NULL, 100);
	assert_int_equal(b.called, 0);
	fx_fini(&f);
}

/* --- the list ----------------------------------------------------------------- */

static void
test_list_recorded(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	struct railway_volumes *v;
	char *req;

	(void)state;
	fx_ready(&f, "list/recorded");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), 0);
	assert_int_equal(b.called, 0);	/* never from inside the call */
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	v = b.v;
	assert_non_null(v);
	assert_string_equal(v->service_id, PG_ID);
	assert_string_equal(v->service_name, "postgres");
	assert_string_equal(v->environment_id, ENV_ID);
	assert_string_equal(v->instance_id, VI_ID);
	assert_string_equal(v->volume_id, VOL_ID);
	assert_string_equal(v->volume_name, "postgres-volume");
	assert_string_equal(v->mount_path, "/var/lib/postgresql/data");
	assert_string_equal(v->state, "READY");
	assert_string_equal(v->region, "us-west2");
	assert_true(v->used_mb > 80.5 && v->used_mb < 80.6);
	assert_int_equal(v->size_mb, 5000);
	assert_true(v->fetched_ms > 0);
	/* newest first */
	assert_int_equal(v->n_backups, 2);
	assert_int_equal(v->n_dropped, 0);
	assert_string_equal(v->backups[0].id, NEW_BACKUP);
	assert_string_equal(v->backups[0].name, "before-rows");
	assert_string_equal(v->backups[0].external_id, "20261123-180548F_20261123-180555I");
	assert_int_equal(v->backups[0].created_ms, 1795457157000LL);	/* 2026-11-23T18:05:57.000Z */
	assert_int_equal(v->backups[0].expires_ms, 0);
	assert_int_equal(v->backups[0].used_mb, 32);
	assert_int_equal(v->backups[0].referenced_mb, 7);
	assert_int_equal(v->backups[0].volume_mb, 32);
	assert_string_equal(v->backups[0].schedule_id, "");
	assert_string_equal(v->backups[1].id, OLD_BACKUP);
	assert_string_equal(v->backups[1].name, "");	/* null */
	assert_string_equal(v->backups[1].creator_id, "");
	assert_true(v->backups[1].created_ms < v->backups[0].created_ms);
	/* the schedule */
	assert_int_equal(v->schedule_kinds, RAILWAY_SCHEDULE_DAILY | RAILWAY_SCHEDULE_MONTHLY);
	assert_int_equal(v->n_schedules, 2);
	assert_int_equal(v->schedules[0].kind, RAILWAY_SCHEDULE_DAILY);
	assert_string_equal(v->schedules[0].cron, "0 0 * * *");
	assert_int_equal(v->schedules[0].retention_s, 6 * 86400);
	assert_int_equal(v->schedules[1].kind, RAILWAY_SCHEDULE_MONTHLY);
	assert_int_equal(v->schedules[1].retention_s, 90 * 86400);
	/* what was asked: the environment's volumes, then this instance's backups */
	req = fx_requests(&f, "RailwayVolumes");
	assert_int_equal(count_lines(req), 1);
	assert_has(req, "\"variables\":{\"environmentId\":\"" ENV_ID "\"}");
	free(req);
	req = fx_requests(&f, "RailwayVolumeBackups");
	assert_int_equal(count_lines(req), 1);
	assert_has(req, "\"variables\":{\"volumeInstanceId\":\"" VI_ID "\"}");
	free(req);
	/* the answer outlives the client */
	fx_fini(&f);
	assert_int_equal(v->refs, 1);
	assert_string_equal(v->backups[0].id, NEW_BACKUP);
	railway_volumes_unref(v);
	railway_volumes_unref(NULL);
}

static void
test_list_no_volume(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	(void)state;
	fx_ready(&f, "list/novolume");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volumes_list(f.rw, API_ID, box_list, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	assert_string_equal(b.v->instance_id, "");	/* an answer, not an error */
	assert_string_equal(b.v->service_name, "api");
	assert_int_equal(b.v->n_backups, 0);
	assert_int_equal(b.v->n_schedules, 0);
	assert_int_equal(b.v->used_mb, -1);
	req = fx_requests(&f, "RailwayVolumeBackups");
	assert_int_equal(count_lines(req), 0);	/* nothing more was asked */
	free(req);
	railway_volumes_unref(b.v);
	fx_fini(&f);
}

static void
test_list_hostile(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	struct railway_volumes *v;

	(void)state;
	fx_ready(&f, "list-hostile/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	v = b.v;
	/* the instance: the first node with a string id, escapes made visible */
	assert_false(has_controls(v->instance_id));
	assert_has(v->instance_id, "vi-");
	assert_has(v->instance_id, "red");
	assert_false(has_controls(v->mount_path));
	assert_has(v->mount_path, "/data");
	assert_true(v->used_mb > 12.4 && v->used_mb < 12.6);	/* "12.5" */
	assert_int_equal(v->size_mb, -1);	/* "huge" */
	assert_string_equal(v->state, "");	/* null */
	assert_string_equal(v->region, "");	/* a number */
	assert_string_equal(v->volume_name, "");	/* volume null */
	/* null, a string, no id, an empty id, a numeric id: left out */
	assert_int_equal(v->n_dropped, 5);
	assert_int_equal(v->n_backups, 4);
	assert_string_equal(v->backups[0].id, "b-new");
	assert_int_equal(strlen(v->backups[1].id), 128);	/* cut */
	assert_string_equal(v->backups[2].id, "b-old");
	assert_string_equal(v->backups[3].id, "b-notime");	/* no time: last */
	assert_int_equal(v->backups[3].created_ms, 0);
	assert_false(has_controls(v->backups[0].name));
	assert_has(v->backups[0].name, "evil");
	assert_true(v->backups[0].expires_ms > v->backups[0].created_ms);
	assert_int_equal(v->backups[0].used_mb, -1);	/* 10^20 MB: absurd */
	assert_string_equal(v->backups[0].creator_id, "");	/* an object */
	assert_string_equal(v->backups[0].schedule_id, "s1");
	assert_int_equal(v->backups[2].used_mb, 12);		/* "12" */
	assert_int_equal(v->backups[2].referenced_mb, -1);	/* negative */
	assert_int_equal(v->backups[2].volume_mb, -1);		/* 1e300 */
	assert_int_equal(v->backups[3].used_mb, -1);		/* true */
	assert_string_equal(v->backups[3].name, "");		/* a list */
	/* schedules: unknown kinds and a repeated DAILY left out, sorted */
	assert_int_equal(v->n_schedules, 2);
	assert_int_equal(v->schedule_kinds, RAILWAY_SCHEDULE_DAILY | RAILWAY_SCHEDULE_WEEKLY);
	assert_string_equal(v->schedules[0].id, "s2");
	assert_int_equal(v->schedules[0].retention_s, -1);
	assert_string_equal(v->schedules[0].cron, "");
	assert_string_equal(v->schedules[1].id, "s1");
	assert_int_equal(v->schedules[1].retention_s, 2592000);	/* a string */
	railway_volumes_unref(v);
	fx_fini(&f);
}

static void
test_list_huge(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	struct railway_volumes *v;

	(void)state;
	fx_ready(&f, "list-huge/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), 0);
	fx_wait(&f, &b, 20000);
	assert_true(b.ok);
	v = b.v;
	assert_int_equal(v->n_backups, RAILWAY_VOLUME_MAX_BACKUPS);
	assert_int_equal(v->n_dropped, HUGE - RAILWAY_VOLUME_MAX_BACKUPS);
	/* the newest kept, newest first */
	assert_string_equal(v->backups[0].id, "b1499");
	assert_int_equal(v->backups[0].used_mb, 1499);
	assert_string_equal(v->backups[RAILWAY_VOLUME_MAX_BACKUPS - 1].id, "b0500");
	for (size_t i = 1; i < v->n_backups; i++)
		assert_true(v->backups[i - 1].created_ms > v->backups[i].created_ms);
	railway_volumes_unref(v);
	fx_fini(&f);
}

/* SCENARIO's list ends in an error containing WANT. */
static void
list_fails(const char *path, const char *want)
{
	struct fx f;
	struct box b;
	struct err e;

	fx_ready(&f, path);
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_false(b.ok);
	assert_null(b.v);
	assert_has(b.error, want);
	assert_false(has_controls(b.error));
	fx_fini(&f);
}

static void
test_list_broken(void **state)
{
	(void)state;
	list_fails("list-malformed/t", "malformed reply: no list of volume instances");
	list_fails("list-nolist/t", "malformed reply: no list of volume backups");
	list_fails("list-nosched/t", "malformed reply: no list of backup schedules");
	list_fails("list-notfound/t", "Volume instance not found");
	list_fails("list-502/t", "HTTP 502");
}

static void
test_list_forget_and_stop(void **state)
{
	struct fx f;
	struct box b, other;
	struct err e;

	(void)state;
	/* forgotten: its callback never runs, the other's does */
	fx_ready(&f, "list-slow/forget");
	memset(&b, 0, sizeof b);
	memset(&other, 0, sizeof other);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), 0);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &other, &e), 0);
	railway_volumes_forget(f.rw, &b);
	fx_wait(&f, &other, 10000);
	assert_true(other.ok);
	fx_run_until(&f, never, NULL, 600);
	assert_int_equal(b.called, 0);
	railway_volumes_unref(other.v);
	fx_fini(&f);

	/* stopped while waiting for the reply: an error, once */
	fx_ready(&f, "list-slow/stop");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volumes_list(f.rw, PG_ID, box_list, &b, &e), 0);
	fx_run_until(&f, never, NULL, 100);
	railway_stop(f.rw);
	assert_int_equal(b.called, 1);
	assert_false(b.ok);
	assert_has(b.error, "cancelled");
	fx_fini(&f);
	assert_int_equal(b.called, 1);
}

/* --- backups ---------------------------------------------------------------------- */

static void
test_backup_no_wait(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	(void)state;
	fx_ready(&f, "backup/nowait");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, "before \"rows\"", 0,
	    box_progress, box_done, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	assert_string_equal(b.op, "volume-backup");
	assert_string_equal(b.error, "");
	assert_string_equal(b.steps, "backing up|" WORKFLOW "||;");
	req = fx_requests(&f, "RailwayVolumeBackupCreate");
	assert_int_equal(count_lines(req), 1);
	assert_has(req, "\"variables\":{\"volumeInstanceId\":\"" VI_ID "\",\"name\":\"before \\\"rows\\\"\"}");
	free(req);
	req = fx_requests(&f, "RailwayWorkflowStatus");
	assert_int_equal(count_lines(req), 0);	/* not followed */
	free(req);
	fx_fini(&f);

	/* no name: null, the provider's default */
	fx_ready(&f, "backup/noname");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, NULL, 0, NULL, box_done, &b,
	    &e), 0);
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	req = fx_requests(&f, "RailwayVolumeBackupCreate");
	assert_has(req, "\"name\":null");
	free(req);
	fx_fini(&f);
}

static void
test_backup_wait(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	(void)state;
	fx_ready(&f, "backup/wait");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, "x", 1, box_progress, box_done,
	    &b, &e), 0);
	fx_wait(&f, &b, 15000);
	assert_true(b.ok);
	/* Running, Running, Complete: a progress call per change */
	assert_string_equal(b.steps, "backing up|" WORKFLOW "||;"
	    "backing up|" WORKFLOW "|Running|;"
	    "backing up|" WORKFLOW "|Complete|;");
	req = fx_requests(&f, "RailwayWorkflowStatus");
	assert_int_equal(count_lines(req), 3);
	assert_has(req, "\"variables\":{\"workflowId\":\"" WORKFLOW "\"}");
	free(req);
	/* about a second between two reads */
	assert_true(b.duration_ms >= 1800);
	fx_fini(&f);
}

/* A backup with WAIT on PATH fails with WANT (NOT must not be in it). */
static void
backup_fails(const char *path, int wait, const char *want, const char *not)
{
	struct fx f;
	struct box b;
	struct err e;

	fx_ready(&f, path);
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, NULL, wait, box_progress,
	    box_done, &b, &e), 0);
	fx_wait(&f, &b, 15000);
	assert_false(b.ok);
	assert_false(b.cancelled);
	assert_has(b.error, want);
	if (not != NULL && strstr(b.error, not) != NULL)
		fail_msg("'%s' in '%s'", not, b.error);
	assert_false(has_controls(b.error));
	fx_fini(&f);
}

static void
test_backup_failures(void **state)
{
	(void)state;
	backup_fails("backup-error/t", 1, "the backup failed (workflow " WORKFLOW "): "
	    "pgbackrest backup failed (exit 56)", NULL);
	backup_fails("backup-notfound/t", 1, "the provider does not know workflow " WORKFLOW,
	    NULL);
	backup_fails("backup-malformed/t", 1, "malformed reply: no status of workflow", NULL);
	backup_fails("backup-null/t", 1, "the provider named no workflow to follow", NULL);
	backup_fails("backup-missing/t", 0, "malformed reply: no answer to the backup", NULL);
	/* the API said no: no doubt about the outcome */
	backup_fails("backup-refused/t", 0, "A backup of this volume is in progress",
	    "may have reached");
	/* no answer we can read: it may have been done */
	backup_fails("backup-502/t", 0, "may have reached Railway", NULL);
}

static void
test_backup_poll_failures(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	(void)state;
	/* one failed read is ridden out */
	fx_ready(&f, "backup-flaky/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, NULL, 1, box_progress,
	    box_done, &b, &e), 0);
	fx_wait(&f, &b, 15000);
	assert_true(b.ok);
	assert_has(b.steps, "|Complete|;");
	fx_fini(&f);

	/* five in a row lose it */
	fx_ready(&f, "backup-lost/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, NULL, 1, NULL, box_done, &b,
	    &e), 0);
	fx_wait(&f, &b, 20000);
	assert_false(b.ok);
	assert_has(b.error, "lost track of workflow " WORKFLOW " after 5 failed reads");
	assert_has(b.error, "it may still finish");
	req = fx_requests(&f, "RailwayWorkflowStatus");
	assert_int_equal(count_lines(req), 5);
	free(req);
	fx_fini(&f);
}

static void
test_backup_stop_while_following(void **state)
{
	struct fx f;
	struct box b;
	struct err e;

	(void)state;
	fx_ready(&f, "backup-forever/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_create(f.rw, VI_ID, NULL, 1, box_progress,
	    box_done, &b, &e), 0);
	fx_run_until(&f, never, NULL, 1500);	/* between two reads */
	assert_int_equal(b.called, 0);
	assert_has(b.steps, "|Running|;");
	railway_stop(f.rw);	/* DONE from inside railway_stop */
	assert_int_equal(b.called, 1);
	assert_true(b.cancelled);
	assert_false(b.ok);
	assert_has(b.error, "the backup goes on");
	fx_fini(&f);
	assert_int_equal(b.called, 1);
}

/* --- restore ------------------------------------------------------------------------- */

static void
test_restore(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	(void)state;
	fx_ready(&f, "restore/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_restore(f.rw, VI_ID, NEW_BACKUP, box_progress,
	    box_done, &b, &e), 0);
	fx_wait(&f, &b, 15000);
	if (!b.ok)
		fail_msg("restore failed: %s", b.error);
	assert_string_equal(b.op, "volume-restore");
	assert_string_equal(b.steps,
	    "staging the restore|||;"
	    "staging the restore|" RESTORE_WF "||;"
	    "staging the restore|" RESTORE_WF "|Running|;"
	    "staging the restore|" RESTORE_WF "|Complete|;"
	    "checking the staged change|" RESTORE_WF "||;"
	    "committing|" RESTORE_WF "||;"
	    "committing|" RESTORE_WF "||" PATCH_ID ";");
	/* in this order: check, stage, follow, check, commit */
	req = fx_requests(&f, "RailwayVolumeRestoreCheck");
	assert_int_equal(count_lines(req), 2);
	assert_has(req, "\"environmentId\":\"" ENV_ID "\"");
	assert_has(req, "\"volumeInstanceId\":\"" VI_ID "\"");
	free(req);
	req = fx_requests(&f, "RailwayVolumeBackupRestore");
	assert_int_equal(count_lines(req), 1);
	assert_has(req, "\"variables\":{\"volumeInstanceId\":\"" VI_ID "\","
	    "\"volumeInstanceBackupId\":\"" NEW_BACKUP "\"}");
	free(req);
	req = fx_requests(&f, "RailwayVolumeCommitStaged");
	assert_int_equal(count_lines(req), 1);
	assert_has(req, "\"environmentId\":\"" ENV_ID "\"");
	assert_has(req, "\"message\":\"signalbox: restore volume backup " NEW_BACKUP "\"");
	free(req);
	fx_fini(&f);
}

/* A restore on PATH fails with WANT; STAGED / COMMITTED: whether the
 * restore and the commit were asked for. */
static void
restore_fails(const char *path, const char *want, int staged, int committed)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	fx_ready(&f, path);
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_backup_restore(f.rw, VI_ID, NEW_BACKUP, box_progress,
	    box_done, &b, &e), 0);
	fx_wait(&f, &b, 15000);
	assert_false(b.ok);
	assert_has(b.error, want);
	assert_false(has_controls(b.error));
	req = fx_requests(&f, "RailwayVolumeBackupRestore");
	assert_int_equal(count_lines(req), staged);
	free(req);
	req = fx_requests(&f, "RailwayVolumeCommitStaged");
	assert_int_equal(count_lines(req), committed);
	free(req);
	fx_fini(&f);
}

static void
test_restore_guards(void **state)
{
	(void)state;
	/* before staging: nothing done */
	restore_fails("restore-foreign/t", "the environment already has staged changes "
	    "(sharedVariables): committing the restore would apply them too", 0, 0);
	restore_fails("restore-foreign/t2", "Nothing was staged", 0, 0);
	restore_fails("restore-restoring/t", "the volume is RESTORING: nothing was staged", 0, 0);
	restore_fails("restore-patch-string/t", "the environment's staged changes cannot be "
	    "read", 0, 0);
	restore_fails("restore-refused/t", "Backup nope not found", 1, 0);
	/* after staging: never committed with something else */
	restore_fails("restore-more/t", "the restore is staged, but the staged changes hold "
	    "more than this volume's restore (volumes, services): not committed", 1, 0);
	restore_fails("restore-other/t", "not committed", 1, 0);
	restore_fails("restore-nothing/t", "the restore workflow completed but nothing is "
	    "staged", 1, 0);
	/* the commit's answer lost: it may have been applied */
	restore_fails("restore-commit-502/t", "the restore is staged, but committing it "
	    "failed", 1, 1);
	restore_fails("restore-commit-502/t2", "may have reached Railway", 1, 1);
}

/* --- schedule ------------------------------------------------------------------------- */

static void
test_schedule(void **state)
{
	struct fx f;
	struct box b;
	struct err e;
	char *req;

	(void)state;
	fx_ready(&f, "schedule/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_schedule_set(f.rw, VI_ID, RAILWAY_SCHEDULE_MONTHLY |
	    RAILWAY_SCHEDULE_DAILY, box_done, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	assert_string_equal(b.op, "volume-schedule");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_schedule_set(f.rw, VI_ID, 0, box_done, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_true(b.ok);
	req = fx_requests(&f, "RailwayVolumeScheduleSet");
	assert_int_equal(count_lines(req), 2);
	assert_has(req, "\"variables\":{\"volumeInstanceId\":\"" VI_ID "\",\"kinds\":"
	    "[\"DAILY\",\"MONTHLY\"]}");
	assert_has(req, "\"kinds\":[]");
	free(req);
	fx_fini(&f);

	fx_ready(&f, "schedule-false/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_schedule_set(f.rw, VI_ID, RAILWAY_SCHEDULE_WEEKLY,
	    box_done, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_false(b.ok);
	assert_has(b.error, "the API answered that nothing was done");
	fx_fini(&f);

	fx_ready(&f, "schedule-unauthorized/t");
	memset(&b, 0, sizeof b);
	assert_int_equal(railway_volume_schedule_set(f.rw, VI_ID, RAILWAY_SCHEDULE_WEEKLY,
	    box_done, &b, &e), 0);
	fx_wait(&f, &b, 10000);
	assert_false(b.ok);
	assert_has(b.error, "Not Authorized: check RAILWAY_TOKEN");
	fx_fini(&f);
}

static int
setup(void **state)
{
	(void)state;
	if (fixtures_make() != 0) {
		fprintf(stderr, "cannot copy the fixtures: %s\n", strerror(errno));
		return -1;
	}
	return server_start(&srv);
}

static int
teardown(void **state)
{
	(void)state;
	gqlserver_stop(&srv);
	fixtures_remove();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_words),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_list_recorded),
		cmocka_unit_test(test_list_no_volume),
		cmocka_unit_test(test_list_hostile),
		cmocka_unit_test(test_list_huge),
		cmocka_unit_test(test_list_broken),
		cmocka_unit_test(test_list_forget_and_stop),
		cmocka_unit_test(test_backup_no_wait),
		cmocka_unit_test(test_backup_wait),
		cmocka_unit_test(test_backup_failures),
		cmocka_unit_test(test_backup_poll_failures),
		cmocka_unit_test(test_backup_stop_while_following),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_restore_guards),
		cmocka_unit_test(test_schedule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
