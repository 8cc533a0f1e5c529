/* test_proc.c - child processes on the loop, with real children. */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "signalbox/proc.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum { MAX_LINES = 64 };

struct rec {
	struct proc *p;
	int nlines;
	char *text[MAX_LINES];
	size_t len[MAX_LINES];
	uint64_t orig[MAX_LINES];
	unsigned flags[MAX_LINES];
	enum proc_stream stream[MAX_LINES];
	uint64_t total_lines;
	uint64_t total_bytes;
	int exited;
	int64_t status;
	int sig;
	unsigned xflags;
	char words[200];
	char *out;
	size_t out_len;
	uint64_t out_dropped;
	/* behaviours */
	int free_on_line;
	int kill_on_line;
	int pause_on_chunk;
	int after_exit_lines;
};

static void
on_line(struct proc *p, const struct proc_line *l, void *ud)
{
	struct rec *r = ud;

	assert_ptr_equal(p, r->p);
	if (r->exited)
		r->after_exit_lines++;
	r->total_lines++;
	r->total_bytes += l->len;
	if (r->nlines < MAX_LINES) {
		r->text[r->nlines] = xstrndup(l->data, l->len);
		r->len[r->nlines] = l->len;
		r->orig[r->nlines] = l->orig_len;
		r->flags[r->nlines] = l->flags;
		r->stream[r->nlines] = l->stream;
		r->nlines++;
	}
	if (r->free_on_line)
		proc_free(&r->p);
	else if (r->kill_on_line && r->total_lines == 1)
		proc_kill(p);
	else if (r->pause_on_chunk && r->total_lines == 1)
		proc_pause(p);
}

static void
on_exit_cb(struct proc *p, const struct proc_exit *ex, void *ud)
{
	struct rec *r = ud;

	assert_ptr_equal(p, r->p);
	assert_int_equal(r->exited, 0);
	r->exited = 1;
	r->status = ex->status;
	r->sig = ex->signal;
	r->xflags = ex->flags;
	util_strlcpy(r->words, ex->words, sizeof r->words);
	if (ex->out) {
		assert_int_equal(ex->out[ex->out_len], '\0');
		r->out = xstrndup(ex->out, ex->out_len);
		r->out_len = ex->out_len;
	}
	r->out_dropped = ex->out_dropped;
}

static const struct proc_cbs cbs = { on_line, on_exit_cb };

static void
rec_fini(struct rec *r)
{
	int i;

	for (i = 0; i < r->nlines; i++)
		free(r->text[i]);
	free(r->out);
	proc_free(&r->p);
}

static void
tick(uv_timer_t *t)
{
	(void)t;
}

/* Run LOOP until *FLAG or MS passed; a 20 ms tick keeps UV_RUN_ONCE short. */
static int
run_until(uv_loop_t *loop, const int *flag, uint64_t ms)
{
	uv_timer_t t;
	uint64_t deadline = util_now_ms() + ms;

	uv_timer_init(loop, &t);
	uv_timer_start(&t, tick, 20, 20);
	while (!*flag && util_now_ms() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *flag;
}

static void
finish(uv_loop_t *loop, struct rec *r)
{
	rec_fini(r);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static struct proc *
start_sh(uv_loop_t *loop, const char *script, struct proc_opts *o, struct rec *r)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct proc_opts def;
	struct err e;

	if (o == NULL) {
		memset(&def, 0, sizeof def);
		o = &def;
	}
	o->argv = argv;
	r->p = proc_start(loop, o, &cbs, r, &e);
	if (r->p == NULL)
		fail_msg("%s", e.msg);
	return r->p;
}

static void
test_lines_and_partial_last_line(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "printf 'a\\n\\nbb\\nccc'", NULL, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.nlines, 4);
	assert_string_equal(r.text[0], "a");
	assert_string_equal(r.text[1], "");
	assert_string_equal(r.text[2], "bb");
	assert_int_equal(r.flags[2], 0);
	assert_string_equal(r.text[3], "ccc");
	assert_int_equal(r.flags[3], PROC_LINE_PARTIAL);
	assert_int_equal(r.stream[0], PROC_STDOUT);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.sig, 0);
	assert_int_equal(r.xflags, 0);
	assert_string_equal(r.words, "exited with status 0");
	finish(&loop, &r);
}

static void
test_exit_status_and_stderr(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "echo out; echo err >&2; exit 3", NULL, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.nlines, 2);
	/* the order between two pipes is not defined */
	for (int i = 0; i < 2; i++) {
		if (r.stream[i] == PROC_STDOUT)
			assert_string_equal(r.text[i], "out");
		else
			assert_string_equal(r.text[i], "err");
	}
	assert_int_not_equal(r.stream[0], r.stream[1]);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.words, "exited with status 3");
	assert_int_equal(r.after_exit_lines, 0);
	finish(&loop, &r);
}

static void
test_killed_by_signal(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "kill -USR1 $$; sleep 5", NULL, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.sig, SIGUSR1);
	assert_int_equal(r.status, -1);
	assert_string_equal(r.words, "killed by SIGUSR1");
	assert_int_equal(r.xflags, 0);
	finish(&loop, &r);
}

static void
test_kill_term_is_enough(void **state)
{
	uv_loop_t loop;
	struct rec r = { .kill_on_line = 1 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "echo ready; exec sleep 30", NULL, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.sig, SIGTERM);
	assert_int_equal(r.xflags, PROC_EXIT_KILLED);
	finish(&loop, &r);
}

static void
test_kill_escalates_to_sigkill(void **state)
{
	uv_loop_t loop;
	struct rec r = { .kill_on_line = 1 };
	struct proc_opts o = { .kill_grace_ms = 200 };

	(void)state;
	uv_loop_init(&loop);
	/* ignored signals stay ignored across exec: sleep ignores it too */
	start_sh(&loop, "trap '' TERM; echo ready; while :; do sleep 0.05; done", &o, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.sig, SIGKILL);
	assert_int_equal(r.xflags, PROC_EXIT_KILLED | PROC_EXIT_SIGKILL);
	assert_string_equal(r.words, "killed by SIGKILL");
	finish(&loop, &r);
}

static void
test_timeout(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .timeout_ms = 100 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "exec sleep 30", &o, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.sig, SIGTERM);
	assert_int_equal(r.xflags, PROC_EXIT_KILLED | PROC_EXIT_TIMEOUT);
	assert_string_equal(r.words, "killed by SIGTERM (timed out after 100 ms)");
	finish(&loop, &r);
}

static void
test_grandchild_keeps_pipe_open(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .drain_ms = 200 };
	int pid;

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "sleep 30 & echo started", &o, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.status, 0);
	assert_int_equal(r.xflags, PROC_EXIT_UNDRAINED);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.text[0], "started");
	assert_non_null(strstr(r.words, "output still open"));
	{
		struct proc_stats st;

		proc_get_stats(r.p, &st);
		pid = st.pid;
	}
	kill(-pid, SIGKILL);	/* the orphaned sleep, in the child's group */
	finish(&loop, &r);
}

static void
test_long_line_cut(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .max_line = 1000 };
	struct proc_stats st;

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "printf '%0200000d\\nshort\\n' 7", &o, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.nlines, 2);
	assert_int_equal(r.len[0], 1000);
	assert_int_equal(r.orig[0], 200000);
	assert_int_equal(r.flags[0], PROC_LINE_CUT);
	assert_int_equal(r.text[0][0], '0');
	assert_string_equal(r.text[1], "short");
	assert_int_equal(r.orig[1], 5);
	proc_get_stats(r.p, &st);
	assert_int_equal(st.cut[PROC_STDOUT], 1);
	assert_int_equal(st.lines[PROC_STDOUT], 2);
	assert_int_equal(st.bytes[PROC_STDOUT], 200000 + 1 + 6);
	assert_true(st.buffered_peak <= 1000);
	finish(&loop, &r);
}

static void
test_flood_without_newline_is_bounded(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .max_line = 4096 };
	struct proc_stats st;

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "head -c 20000000 /dev/zero", &o, &r);
	assert_true(run_until(&loop, &r.exited, 20000));
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.len[0], 4096);
	assert_int_equal(r.orig[0], 20000000);
	assert_int_equal(r.flags[0], PROC_LINE_CUT | PROC_LINE_PARTIAL);
	proc_get_stats(r.p, &st);
	assert_int_equal(st.bytes[PROC_STDOUT], 20000000);
	assert_true(st.buffered_peak <= 4096);
	finish(&loop, &r);
}

static void
test_many_lines(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "yes abc | head -n 200000", NULL, &r);
	assert_true(run_until(&loop, &r.exited, 20000));
	assert_int_equal(r.total_lines, 200000);
	assert_int_equal(r.total_bytes, 3 * 200000);
	finish(&loop, &r);
}

static void
test_collect_capped(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .out_mode = PROC_MODE_COLLECT, .collect_max = 100000 };
	struct proc_stats st;

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "echo warn >&2; head -c 5000000 /dev/zero | tr '\\0' x", &o, &r);
	assert_true(run_until(&loop, &r.exited, 20000));
	assert_int_equal(r.out_len, 100000);
	assert_int_equal(r.out_dropped, 5000000 - 100000);
	assert_int_equal(r.out[0], 'x');
	assert_int_equal(r.out[99999], 'x');
	/* stderr still came as lines */
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.text[0], "warn");
	assert_int_equal(r.stream[0], PROC_STDERR);
	proc_get_stats(r.p, &st);
	assert_true(st.buffered_peak <= 100000 + 16);
	finish(&loop, &r);
}

static void
test_collect_small_json(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .out_mode = PROC_MODE_COLLECT, .err_mode = PROC_MODE_IGNORE };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "printf '[{\"a\":1}]'; echo hidden >&2", &o, &r);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_string_equal(r.out, "[{\"a\":1}]");
	assert_int_equal(r.out_dropped, 0);
	assert_int_equal(r.nlines, 0);
	finish(&loop, &r);
}

struct pause_ctx {
	uv_loop_t *loop;
	struct rec *r;
	uint64_t bytes_at_pause;
	uint64_t bytes_later;
	int running_later;
	int checked;
};

static void
check_paused(uv_timer_t *t)
{
	struct pause_ctx *c = t->data;
	struct proc_stats st;

	proc_get_stats(c->r->p, &st);
	c->bytes_later = st.bytes[PROC_STDOUT];
	c->running_later = st.running;
	c->checked = 1;
	proc_resume(c->r->p);
}

static void
test_pause_holds_the_child_back(void **state)
{
	uv_loop_t loop;
	struct rec r = { .pause_on_chunk = 1 };
	struct proc_opts o = { .out_mode = PROC_MODE_CHUNKS };
	struct pause_ctx c = { &loop, &r, 0, 0, 0, 0 };
	struct proc_stats st;
	uv_timer_t t;

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "head -c 5000000 /dev/zero", &o, &r);
	while (r.total_lines == 0)
		uv_run(&loop, UV_RUN_ONCE);
	proc_get_stats(r.p, &st);
	assert_true(st.paused);
	c.bytes_at_pause = st.bytes[PROC_STDOUT];
	uv_timer_init(&loop, &t);
	t.data = &c;
	uv_timer_start(&t, check_paused, 300, 0);
	assert_true(run_until(&loop, &c.checked, 5000));
	/* nothing was read while paused, so the child is stuck in write(2) */
	assert_int_equal(c.bytes_later, c.bytes_at_pause);
	assert_true(c.running_later);
	assert_true(run_until(&loop, &r.exited, 20000));
	proc_get_stats(r.p, &st);
	assert_int_equal(st.bytes[PROC_STDOUT], 5000000);
	assert_int_equal(r.status, 0);
	uv_close((uv_handle_t *)&t, NULL);
	finish(&loop, &r);
}

static void
test_stdin_env_cwd_no_shell(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	const char *env[] = { "SB_FOO=bar baz", "HOME", NULL };
	const char *argv[] = { "sh", "-c", "cat; echo \"$SB_FOO|${HOME-unset}|$(pwd)\"", NULL };
	const char *argv2[] = { "printf", "%s\\n", "$HOME;echo hi", NULL };
	struct proc_opts o = { .argv = argv, .env = env, .cwd = "/tmp",
	    .stdin_data = "one\ntwo\n", .stdin_len = 8 };
	struct err e;

	(void)state;
	uv_loop_init(&loop);
	r.p = proc_start(&loop, &o, &cbs, &r, &e);
	assert_non_null(r.p);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.text[0], "one");
	assert_string_equal(r.text[1], "two");
	assert_string_equal(r.text[2], "bar baz|unset|/tmp");
	rec_fini(&r);
	memset(&r, 0, sizeof r);

	/* argv is never given to a shell */
	memset(&o, 0, sizeof o);
	o.argv = argv2;
	r.p = proc_start(&loop, &o, &cbs, &r, &e);
	assert_non_null(r.p);
	assert_true(run_until(&loop, &r.exited, 5000));
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.text[0], "$HOME;echo hi");
	finish(&loop, &r);
}

static void
test_cannot_start(void **state)
{
	uv_loop_t loop;
	const char *argv[] = { "/nonexistent/signalbox-no-such-program", NULL };
	const char *none[] = { NULL };
	struct proc_opts o = { .argv = argv };
	struct rec r = { 0 };
	struct err e;

	(void)state;
	uv_loop_init(&loop);
	assert_null(proc_start(&loop, &o, &cbs, &r, &e));
	assert_non_null(strstr(e.msg, "cannot run '/nonexistent/signalbox-no-such-program'"));
	assert_non_null(strstr(e.msg, "no such file"));
	o.argv = none;
	assert_null(proc_start(&loop, &o, &cbs, &r, &e));
	assert_string_equal(e.msg, "no command to run");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r.exited, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_free_from_callback_kills(void **state)
{
	uv_loop_t loop;
	struct rec r = { .free_on_line = 1 };

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "exec yes", NULL, &r);
	while (r.total_lines == 0)
		uv_run(&loop, UV_RUN_ONCE);
	assert_null(r.p);
	/* the loop ends: the child was killed and reaped, every handle closed */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r.total_lines, 1);
	assert_int_equal(r.exited, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	r.free_on_line = 0;
	rec_fini(&r);
}

static void
test_free_running_child_that_ignores_term(void **state)
{
	uv_loop_t loop;
	struct rec r = { 0 };
	struct proc_opts o = { .kill_grace_ms = 100 };
	uint64_t t0;

	(void)state;
	uv_loop_init(&loop);
	start_sh(&loop, "trap '' TERM; echo ready; while :; do sleep 0.05; done", &o, &r);
	while (r.total_lines == 0)
		uv_run(&loop, UV_RUN_ONCE);
	t0 = util_now_ms();
	proc_free(&r.p);
	uv_run(&loop, UV_RUN_DEFAULT);	/* returns once SIGKILL did its work */
	assert_true(util_now_ms() - t0 < 5000);
	assert_int_equal(r.exited, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	rec_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_partial_last_line),
		cmocka_unit_test(test_exit_status_and_stderr),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_kill_term_is_enough),
		cmocka_unit_test(test_kill_escalates_to_sigkill),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_grandchild_keeps_pipe_open),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_flood_without_newline_is_bounded),
		cmocka_unit_test(test_many_lines),
		cmocka_unit_test(test_collect_capped),
		cmocka_unit_test(test_collect_small_json),
		cmocka_unit_test(test_pause_holds_the_child_back),
		cmocka_unit_test(test_stdin_env_cwd_no_shell),
		cmocka_unit_test(test_cannot_start),
		cmocka_unit_test(test_free_from_callback_kills),
		cmocka_unit_test(test_free_running_child_that_ignores_term),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
