/* test_logsrc.c - log sources on real files, commands and pipes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "signalbox/logsrc.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum { MAX_LINES = 256 };

struct rec {
	struct logsrc *s;
	int nlines;
	char *text[MAX_LINES];
	size_t len[MAX_LINES];
	uint64_t orig[MAX_LINES];
	unsigned flags[MAX_LINES];
	uint64_t total_lines;
	int events[LOGSRC_EV_EOF + 1];
	enum store_state state;
	char state_text[512];
	char last_event[512];
	int64_t exit_status;
	int free_on_line;
	int lines_after_free;
	int freed;
};

static char tmpdir[256];

static void
on_line(struct logsrc *s, const struct logsrc_line *l, void *ud)
{
	struct rec *r = ud;

	assert_ptr_equal(s, r->s);
	if (r->freed)
		r->lines_after_free++;
	assert_int_equal(l->source, 7);
	assert_true(l->arrival_ms > 0);
	r->total_lines++;
	if (r->nlines < MAX_LINES) {
		r->text[r->nlines] = xmalloc(l->len + 1);
		memcpy(r->text[r->nlines], l->data, l->len);
		r->text[r->nlines][l->len] = '\0';
		r->len[r->nlines] = l->len;
		r->orig[r->nlines] = l->orig_len;
		r->flags[r->nlines] = l->flags;
		r->nlines++;
	}
	if (r->free_on_line) {
		logsrc_free(&r->s);
		r->freed = 1;
	}
}

static void
on_event(struct logsrc *s, const struct logsrc_event *ev, void *ud)
{
	struct rec *r = ud;

	assert_ptr_equal(s, r->s);
	assert_int_equal(ev->source, 7);
	r->events[ev->kind]++;
	r->state = ev->state;
	if (ev->kind == LOGSRC_EV_STATE)
		util_strlcpy(r->state_text, ev->text, sizeof r->state_text);
	else
		util_strlcpy(r->last_event, ev->text, sizeof r->last_event);
	if (ev->kind == LOGSRC_EV_EXITED)
		r->exit_status = ev->exit_status;
}

static const struct logsrc_cbs cbs = { on_line, on_event };

static void
tick(uv_timer_t *t)
{
	(void)t;
}

typedef int cond_fn(const struct rec *r, const void *arg);

/* Run LOOP until COND holds or 5 s passed; returns whether it held. */
static int
run_until(uv_loop_t *loop, cond_fn *cond, const struct rec *r, const void *arg)
{
	uv_timer_t t;
	uint64_t deadline = util_now_ms() + 5000;
	int ok;

	uv_timer_init(loop, &t);
	uv_timer_start(&t, tick, 20, 20);
	while (!(ok = cond(r, arg)) && util_now_ms() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

static int
has_lines(const struct rec *r, const void *arg)
{
	return r->total_lines >= (uint64_t)(uintptr_t)arg;
}

static int
in_state(const struct rec *r, const void *arg)
{
	return r->state == (enum store_state)(uintptr_t)arg;
}

static int
has_event(const struct rec *r, const void *arg)
{
	return r->events[(uintptr_t)arg] > 0;
}

#define WAIT_LINES(loop, r, n) assert_true(run_until(loop, has_lines, r, (void *)(uintptr_t)(n)))
#define WAIT_STATE(loop, r, st) assert_true(run_until(loop, in_state, r, (void *)(uintptr_t)(st)))
#define WAIT_EVENT(loop, r, ev) assert_true(run_until(loop, has_event, r, (void *)(uintptr_t)(ev)))

static void
rec_fini(uv_loop_t *loop, struct rec *r)
{
	int i;

	logsrc_free(&r->s);
	for (i = 0; i < r->nlines; i++)
		free(r->text[i]);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
write_file(const char *path, int flags, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void
append(const char *path, const char *s)
{
	write_file(path, O_APPEND, s, strlen(s));
}

static struct logsrc *
start_file(uv_loop_t *loop, struct rec *r, struct logsrc_opts *o, const char *path)
{
	struct err e;

	o->kind = LOGSRC_FILE;
	o->path = path;
	o->index = 7;
	r->s = logsrc_start(loop, o, &cbs, r, &e);
	if (r->s == NULL)
		fail_msg("%s", e.msg);
	return r->s;
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sb-logsrc-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc;

	(void)state;
	rc = system(cmd);	/* test cleanup only */
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static void
test_file_follows_appends_from_the_end(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { 0 };
	struct logsrc_stats st;
	char *p = path_of("append.log");

	(void)state;
	uv_loop_init(&loop);
	append(p, "old1\nold2\n");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	assert_non_null(strstr(r.state_text, "following"));
	append(p, "new1\n");
	WAIT_LINES(&loop, &r, 1);
	append(p, "new2\nnew3\n");
	WAIT_LINES(&loop, &r, 3);
	assert_string_equal(r.text[0], "new1");
	assert_string_equal(r.text[1], "new2");
	assert_string_equal(r.text[2], "new3");
	logsrc_get_stats(r.s, &st);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.bytes, 15);
	assert_int_equal(st.rotations, 0);
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_start_options(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .start = LOGSRC_START_LINES, .start_n = 2 };
	char *p = path_of("start.log");

	(void)state;
	uv_loop_init(&loop);
	append(p, "l1\nl2\nl3\nl4\nl5\n");
	start_file(&loop, &r, &o, p);
	WAIT_LINES(&loop, &r, 2);
	append(p, "l6\n");
	WAIT_LINES(&loop, &r, 3);
	assert_string_equal(r.text[0], "l4");
	assert_string_equal(r.text[1], "l5");
	assert_string_equal(r.text[2], "l6");
	rec_fini(&loop, &r);

	/* the last 5 bytes: from the first line that starts in them */
	memset(&r, 0, sizeof r);
	uv_loop_init(&loop);
	o.start = LOGSRC_START_BYTES;
	o.start_n = 5;
	start_file(&loop, &r, &o, p);
	WAIT_LINES(&loop, &r, 1);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	assert_string_equal(r.text[0], "l6");
	rec_fini(&loop, &r);

	/* more lines asked for than there are: the whole file */
	memset(&r, 0, sizeof r);
	uv_loop_init(&loop);
	o.start = LOGSRC_START_LINES;
	o.start_n = 100;
	start_file(&loop, &r, &o, p);
	WAIT_LINES(&loop, &r, 6);
	assert_string_equal(r.text[0], "l1");
	assert_string_equal(r.text[5], "l6");
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_rotation_by_rename_and_create(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { 0 };
	struct logsrc_stats st;
	char *p = path_of("rot.log"), *p1 = path_of("rot.log.1");

	(void)state;
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	append(p, "a\n");
	WAIT_LINES(&loop, &r, 1);
	/* the last line of the old file, then rotation, then the new file */
	append(p, "b\n");
	assert_int_equal(rename(p, p1), 0);
	append(p, "c\n");
	WAIT_LINES(&loop, &r, 3);
	append(p, "d\n");
	WAIT_LINES(&loop, &r, 4);
	assert_string_equal(r.text[0], "a");
	assert_string_equal(r.text[1], "b");
	assert_string_equal(r.text[2], "c");
	assert_string_equal(r.text[3], "d");
	assert_int_equal(r.events[LOGSRC_EV_ROTATED], 1);
	logsrc_get_stats(r.s, &st);
	assert_int_equal(st.rotations, 1);
	assert_int_equal(st.state, STORE_STATE_OK);
	rec_fini(&loop, &r);
	free(p);
	free(p1);
}

static void
test_file_copytruncate(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { 0 };
	struct logsrc_stats st;
	char *p = path_of("trunc.log");

	(void)state;
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	append(p, "one long line\ntwo long line\n");
	WAIT_LINES(&loop, &r, 2);
	/* what logrotate's copytruncate does: the same file, cut to 0 */
	write_file(p, O_TRUNC, "x\n", 2);
	WAIT_LINES(&loop, &r, 3);
	assert_string_equal(r.text[2], "x");
	assert_int_equal(r.events[LOGSRC_EV_TRUNCATED], 1);
	assert_non_null(strstr(r.last_event, "truncated"));
	logsrc_get_stats(r.s, &st);
	assert_int_equal(st.truncations, 1);
	assert_int_equal(st.rotations, 0);
	append(p, "y\n");
	WAIT_LINES(&loop, &r, 4);
	assert_string_equal(r.text[3], "y");
	assert_int_equal(r.events[LOGSRC_EV_TRUNCATED], 1);
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_late_creation(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .poll_ms = 200 };
	struct logsrc_stats st;
	char *p = path_of("late.log");
	char *want;

	(void)state;
	uv_loop_init(&loop);
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_CONNECTING);
	want = xasprintf("no such file: %s (waiting for it)", p);
	assert_string_equal(r.state_text, want);
	free(want);
	/* it appears: read from its start, whatever the start option */
	append(p, "first\nsecond\n");
	WAIT_LINES(&loop, &r, 2);
	assert_string_equal(r.text[0], "first");
	assert_string_equal(r.text[1], "second");
	assert_int_equal(r.state, STORE_STATE_OK);
	logsrc_get_stats(r.s, &st);
	assert_int_equal(st.rotations, 0);
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_late_creation_in_missing_dir(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .poll_ms = 100 };
	char *d = path_of("later"), *p = path_of("later/app.log");

	(void)state;
	uv_loop_init(&loop);
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_CONNECTING);
	/* no directory to watch: the poll finds it */
	assert_int_equal(mkdir(d, 0755), 0);
	append(p, "here\n");
	WAIT_LINES(&loop, &r, 1);
	assert_string_equal(r.text[0], "here");
	append(p, "more\n");
	WAIT_LINES(&loop, &r, 2);
	rec_fini(&loop, &r);
	free(p);
	free(d);
}

static void
test_file_deletion_then_back(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .poll_ms = 200 };
	char *p = path_of("del.log");
	char *want;

	(void)state;
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	append(p, "before\n");
	WAIT_LINES(&loop, &r, 1);
	assert_int_equal(unlink(p), 0);
	WAIT_EVENT(&loop, &r, LOGSRC_EV_DELETED);
	WAIT_STATE(&loop, &r, STORE_STATE_STALE);
	want = xasprintf("%s was deleted or moved (waiting for it)", p);
	assert_string_equal(r.state_text, want);
	free(want);
	append(p, "after\n");
	WAIT_LINES(&loop, &r, 2);
	assert_string_equal(r.text[1], "after");
	assert_int_equal(r.state, STORE_STATE_OK);
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_partial_line(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .partial_ms = 100 };
	char *p = path_of("partial.log");

	(void)state;
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	/* no newline: delivered after partial_ms, its rest comes as CONT */
	append(p, "abc");
	WAIT_LINES(&loop, &r, 1);
	assert_string_equal(r.text[0], "abc");
	assert_int_equal(r.flags[0], LOGSRC_LINE_PARTIAL);
	append(p, "def\nnext\n");
	WAIT_LINES(&loop, &r, 3);
	assert_string_equal(r.text[1], "def");
	assert_int_equal(r.flags[1], LOGSRC_LINE_CONT);
	assert_string_equal(r.text[2], "next");
	assert_int_equal(r.flags[2], 0);
	rec_fini(&loop, &r);
	free(p);
}

struct bytes_seen {
	struct logsrc *s;
	uint64_t n;
};

static int
bytes_read(const struct rec *r, const void *arg)
{
	const struct bytes_seen *b = arg;
	struct logsrc_stats st;

	(void)r;
	logsrc_get_stats(b->s, &st);
	return st.bytes >= b->n;
}

static void
test_file_partial_line_completed_in_time(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .partial_ms = 60000 };
	struct bytes_seen b;
	char *p = path_of("partial2.log");

	(void)state;
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	append(p, "abc");
	b.s = r.s;
	b.n = 3;
	assert_true(run_until(&loop, bytes_read, &r, &b));	/* read and held */
	assert_int_equal(r.total_lines, 0);
	append(p, "def\n");
	WAIT_LINES(&loop, &r, 1);
	assert_string_equal(r.text[0], "abcdef");
	assert_int_equal(r.flags[0], 0);
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_one_mib_line(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .max_line = 2 << 20 };
	struct logsrc_stats st;
	char *p = path_of("big.log");
	size_t n = 1 << 20, i;
	char *big = xmalloc(n + 1);

	(void)state;
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\n';
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	write_file(p, O_APPEND, big, n + 1);
	append(p, "small\n");
	WAIT_LINES(&loop, &r, 2);
	assert_int_equal(r.len[0], n);
	assert_int_equal(r.flags[0], 0);
	assert_memory_equal(r.text[0], big, n);
	assert_string_equal(r.text[1], "small");
	rec_fini(&loop, &r);

	/* with the default 64 KiB: cut, the length kept */
	memset(&r, 0, sizeof r);
	memset(&o, 0, sizeof o);
	uv_loop_init(&loop);
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	write_file(p, O_APPEND, big, n + 1);
	WAIT_LINES(&loop, &r, 1);
	assert_int_equal(r.len[0], 64 * 1024);
	assert_int_equal(r.orig[0], n);
	assert_int_equal(r.flags[0], LOGSRC_LINE_CUT);
	assert_memory_equal(r.text[0], big, 64 * 1024);
	logsrc_get_stats(r.s, &st);
	assert_int_equal(st.cut, 1);
	rec_fini(&loop, &r);
	free(big);
	free(p);
}

static void
test_file_binary_bytes_unchanged(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { 0 };
	char *p = path_of("bin.log");
	char bytes[256];
	size_t n = 0;
	int c;

	(void)state;
	for (c = 0; c < 256; c++)
		if (c != '\n')
			bytes[n++] = (char)c;
	bytes[n++] = '\n';
	uv_loop_init(&loop);
	append(p, "");
	start_file(&loop, &r, &o, p);
	WAIT_STATE(&loop, &r, STORE_STATE_OK);
	write_file(p, O_APPEND, bytes, n);
	append(p, "\x1b]52;c;aGk=\x07\r\n");
	WAIT_LINES(&loop, &r, 2);
	assert_int_equal(r.len[0], 255);
	assert_memory_equal(r.text[0], bytes, 255);
	assert_string_equal(r.text[1], "\x1b]52;c;aGk=\x07\r");
	rec_fini(&loop, &r);
	free(p);
}

static void
test_file_free_from_callback(void **state)
{
	uv_loop_t loop;
	struct rec r = { .free_on_line = 1 };
	struct logsrc_opts o = { .start = LOGSRC_START_BEGIN };
	char *p = path_of("free.log");
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		append(p, "a line\n");
	uv_loop_init(&loop);
	start_file(&loop, &r, &o, p);
	WAIT_LINES(&loop, &r, 1);
	assert_null(r.s);
	uv_run(&loop, UV_RUN_DEFAULT);	/* ends: everything closed */
	assert_int_equal(r.total_lines, 1);
	assert_int_equal(r.lines_after_free, 0);
	r.free_on_line = 0;
	rec_fini(&loop, &r);
	free(p);
}

static void
test_bad_options(void **state)
{
	uv_loop_t loop;
	struct logsrc_opts o = { .kind = LOGSRC_FILE };
	struct err e;

	(void)state;
	uv_loop_init(&loop);
	assert_null(logsrc_start(&loop, &o, &cbs, NULL, &e));
	assert_string_equal(e.msg, "log source: a file source needs a path");
	o.kind = LOGSRC_COMMAND;
	assert_null(logsrc_start(&loop, &o, &cbs, NULL, &e));
	assert_string_equal(e.msg, "log source: a command source needs a command");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static struct logsrc *
start_cmd(uv_loop_t *loop, struct rec *r, struct logsrc_opts *o, const char *script)
{
	static const char *argv[4];
	struct err e;

	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = NULL;
	o->kind = LOGSRC_COMMAND;
	o->argv = argv;
	o->index = 7;
	r->s = logsrc_start(loop, o, &cbs, r, &e);
	if (r->s == NULL)
		fail_msg("%s", e.msg);
	return r->s;
}

static int
restarted_twice(const struct rec *r, const void *arg)
{
	(void)arg;
	return r->events[LOGSRC_EV_EXITED] >= 3 && r->total_lines >= 6;
}

static void
test_command_with_restart(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .restart = 1, .restart_min_ms = 20, .restart_max_ms = 80,
	    .name = "svc" };
	struct logsrc_stats st;

	(void)state;
	uv_loop_init(&loop);
	start_cmd(&loop, &r, &o, "echo run; echo oops >&2; exit 2");
	assert_true(run_until(&loop, restarted_twice, &r, NULL));
	assert_string_equal(r.text[0], "run");
	/* stdout and stderr of one run: order between pipes is not defined */
	assert_true((r.flags[0] | r.flags[1]) == LOGSRC_LINE_STDERR);
	assert_int_equal(r.exit_status, 2);
	assert_string_equal(r.last_event, "svc exited with status 2");
	logsrc_get_stats(r.s, &st);
	assert_true(st.restarts >= 2);
	assert_true(st.stderr_lines >= 3);
	assert_non_null(strstr(r.state_text, "restarting in") ? r.state_text : "running");
	rec_fini(&loop, &r);
}

static void
test_command_without_restart(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct logsrc_opts o = { .name = "journal" };
	struct logsrc_stats st;

	(void)state;
	uv_loop_init(&loop);
	start_cmd(&loop, &r, &o, "printf 'x\\ny'");
	WAIT_EVENT(&loop, &r, LOGSRC_EV_EXITED);
	WAIT_STATE(&loop, &r, STORE_STATE_IDLE);
	assert_string_equal(r.state_text, "journal exited with status 0");
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.text[1], "y");
	assert_int_equal(r.flags[1], LOGSRC_LINE_PARTIAL);
	logsrc_get_stats(r.s, &st);
	assert_int_equal(st.restarts, 0);
	assert_int_equal(st.bytes, 3);
	rec_fini(&loop, &r);

	memset(&r, 0, sizeof r);
	uv_loop_init(&loop);
	start_cmd(&loop, &r, &o, "exit 4");
	WAIT_STATE(&loop, &r, STORE_STATE_ERROR);
	assert_string_equal(r.state_text, "journal exited with status 4");
	rec_fini(&loop, &r);
}

static void
test_command_cannot_run(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	const char *argv[] = { "/nonexistent/kubectl", "logs", "-f", NULL };
	struct logsrc_opts o = { .kind = LOGSRC_COMMAND, .argv = argv, .index = 7 };
	struct err e;

	(void)state;
	uv_loop_init(&loop);
	r.s = logsrc_start(&loop, &o, &cbs, &r, &e);
	assert_non_null(r.s);
	assert_int_equal(r.events[LOGSRC_EV_STATE], 0);	/* nothing from inside start */
	WAIT_STATE(&loop, &r, STORE_STATE_ERROR);
	assert_non_null(strstr(r.state_text, "cannot run '/nonexistent/kubectl'"));
	rec_fini(&loop, &r);
}

static struct logsrc *
start_stdin(uv_loop_t *loop, struct rec *r, int fd)
{
	struct logsrc_opts o = { .kind = LOGSRC_STDIN, .fd = fd, .index = 7 };
	struct err e;

	r->s = logsrc_start(loop, &o, &cbs, r, &e);
	assert_non_null(r->s);
	return r->s;
}

static void
test_stdin_pipe(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	int fds[2], flags;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	flags = fcntl(fds[0], F_GETFL);
	assert_int_equal(write(fds[1], "l1\nl2\nlast", 10), 10);
	close(fds[1]);
	uv_loop_init(&loop);
	start_stdin(&loop, &r, fds[0]);
	WAIT_EVENT(&loop, &r, LOGSRC_EV_EOF);
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.text[0], "l1");
	assert_string_equal(r.text[2], "last");
	assert_int_equal(r.flags[2], LOGSRC_LINE_PARTIAL);
	assert_int_equal(r.state, STORE_STATE_IDLE);
	assert_string_equal(r.state_text, "end of input (3 lines)");
	rec_fini(&loop, &r);
	/* our descriptor is still open and blocking again */
	assert_int_equal(fcntl(fds[0], F_GETFL), flags);
	close(fds[0]);
}

static void
test_stdin_regular_file_and_devnull(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	char *p = path_of("stdin.txt");
	int fd;

	(void)state;
	write_file(p, O_TRUNC, "f1\nf2\n", 6);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	uv_loop_init(&loop);
	start_stdin(&loop, &r, fd);
	WAIT_EVENT(&loop, &r, LOGSRC_EV_EOF);
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.text[1], "f2");
	rec_fini(&loop, &r);
	close(fd);
	free(p);

	memset(&r, 0, sizeof r);
	fd = open("/dev/null", O_RDONLY);
	uv_loop_init(&loop);
	start_stdin(&loop, &r, fd);
	WAIT_EVENT(&loop, &r, LOGSRC_EV_EOF);
	assert_int_equal(r.nlines, 0);
	assert_string_equal(r.state_text, "end of input (0 lines)");
	rec_fini(&loop, &r);
	close(fd);
}

/* In a child: a pipe on fd 0, the default source (fd 0), as `... | signalbox logs -`. */
static void
test_stdin_fd0_in_child(void **state)
{
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uv_loop_t loop;
		struct rec r = { 0 };
		struct logsrc_opts o = { .kind = LOGSRC_STDIN, .index = 7 };
		uint64_t deadline = util_now_ms() + 5000;

		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		uv_loop_init(&loop);
		r.s = logsrc_start(&loop, &o, &cbs, &r, NULL);
		while (r.events[LOGSRC_EV_EOF] == 0 && util_now_ms() < deadline)
			uv_run(&loop, UV_RUN_ONCE);
		_exit(r.nlines == 2 && strcmp(r.text[0], "piped one") == 0 &&
		    (fcntl(0, F_GETFL) & O_NONBLOCK) != 0 ? 0 : 1);
	}
	close(fds[0]);
	assert_int_equal(write(fds[1], "piped one\npiped two\n", 20), 20);
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_follows_appends_from_the_end),
		cmocka_unit_test(test_file_start_options),
		cmocka_unit_test(test_file_rotation_by_rename_and_create),
		cmocka_unit_test(test_file_copytruncate),
		cmocka_unit_test(test_file_late_creation),
		cmocka_unit_test(test_file_late_creation_in_missing_dir),
		cmocka_unit_test(test_file_deletion_then_back),
		cmocka_unit_test(test_file_partial_line),
		cmocka_unit_test(test_file_partial_line_completed_in_time),
		cmocka_unit_test(test_file_one_mib_line),
		cmocka_unit_test(test_file_binary_bytes_unchanged),
		cmocka_unit_test(test_file_free_from_callback),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_command_with_restart),
		cmocka_unit_test(test_command_without_restart),
		cmocka_unit_test(test_command_cannot_run),
		cmocka_unit_test(test_stdin_pipe),
		cmocka_unit_test(test_stdin_regular_file_and_devnull),
		cmocka_unit_test(test_stdin_fd0_in_child),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
