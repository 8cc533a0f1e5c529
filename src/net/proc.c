/* proc.c - child processes on the shared loop (uv_spawn with pipes). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/linebuf.h"
#include "signalbox/loop.h"
#include "signalbox/proc.h"
#include "signalbox/xalloc.h"

extern char **environ;

enum {
	PROC_READ_SIZE = 64 * 1024,
	PROC_DEFAULT_COLLECT = 1024 * 1024,
	PROC_DEFAULT_GRACE_MS = 3000,
	PROC_DEFAULT_DRAIN_MS = 1000,
};

struct proc_pipe {
	uv_pipe_t pipe;
	struct proc *p;
	enum proc_stream stream;
	enum proc_mode mode;
	int inited;		/* uv_pipe_init done (the handle must be closed) */
	int open;		/* still read: not at EOF, not closed */
	struct linebuf lb;
	char *col;		/* COLLECT */
	size_t col_len;
	size_t col_cap;
	uint64_t dropped;
};

struct proc {
	uv_loop_t *loop;
	uv_process_t child;
	int child_inited;
	struct proc_pipe pipes[2];
	uv_pipe_t in;
	int in_inited;
	uv_write_t wreq;
	char *in_data;
	size_t in_len;
	uv_timer_t timeout;
	uv_timer_t kill_timer;
	uv_timer_t drain;
	int handles;		/* handles open; the memory goes with the last */
	struct proc_cbs cbs;
	void *ud;
	size_t collect_max;
	uint64_t timeout_ms;
	uint64_t grace_ms;
	uint64_t drain_ms;
	char *readbuf;
	int pid;
	int exited;		/* exit_cb ran */
	int reported;		/* on_exit ran (or never will: freed) */
	int freed;
	int paused;
	int killed;
	int timed_out;
	int sigkilled;
	int undrained;
	int64_t status;
	int term_sig;
	uint64_t t_start;
	uint64_t t_exit;
	uint64_t lines[2];
	uint64_t cut[2];
	uint64_t bytes[2];
	size_t buffered_peak;
};

static const struct {
	int sig;
	const char *name;
} proc_signames[] = {
	{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
	{ SIGILL, "SIGILL" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },
	{ SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" }, { SIGSEGV, "SIGSEGV" },
	{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
	{ SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" },
};

void
proc_exit_words(char *buf, size_t len, int64_t status, int sig)
{
	size_t i;

	if (sig == 0) {
		snprintf(buf, len, "exited with status %lld", (long long)status);
		return;
	}
	for (i = 0; i < sizeof proc_signames / sizeof proc_signames[0]; i++) {
		if (proc_signames[i].sig == sig) {
			snprintf(buf, len, "killed by %s", proc_signames[i].name);
			return;
		}
	}
	snprintf(buf, len, "killed by signal %d", sig);
}

static size_t
proc_buffered(const struct proc *p)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		n += p->pipes[i].lb.len + p->pipes[i].col_len;
	return n;
}

static void
proc_note_buffered(struct proc *p)
{
	size_t n = proc_buffered(p);

	if (n > p->buffered_peak)
		p->buffered_peak = n;
}

static void
proc_closed(uv_handle_t *h)
{
	struct proc *p = h->data;
	int i;

	if (--p->handles > 0)
		return;
	for (i = 0; i < 2; i++) {
		linebuf_fini(&p->pipes[i].lb);
		free(p->pipes[i].col);
	}
	free(p->in_data);
	free(p->readbuf);
	free(p);
}

static void
proc_close(struct proc *p, uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	h->data = p;
	uv_close(h, proc_closed);
}

static void
proc_report(struct proc *p)
{
	struct proc_exit ex;
	char words[160];
	size_t n;

	if (p->reported || !p->exited)
		return;
	if (p->pipes[0].open || p->pipes[1].open)
		return;
	p->reported = 1;
	uv_timer_stop(&p->drain);
	uv_timer_stop(&p->kill_timer);
	uv_timer_stop(&p->timeout);
	if (p->freed || p->cbs.on_exit == NULL)
		return;
	memset(&ex, 0, sizeof ex);
	ex.status = p->term_sig ? -1 : p->status;
	ex.signal = p->term_sig;
	ex.flags = (p->killed ? PROC_EXIT_KILLED : 0) | (p->timed_out ? PROC_EXIT_TIMEOUT : 0) |
	    (p->sigkilled ? PROC_EXIT_SIGKILL : 0) | (p->undrained ? PROC_EXIT_UNDRAINED : 0);
	ex.duration_ms = p->t_exit - p->t_start;
	if (p->pipes[0].mode == PROC_MODE_COLLECT) {
		ex.out = p->pipes[0].col ? p->pipes[0].col : "";
		ex.out_len = p->pipes[0].col_len;
		ex.out_dropped = p->pipes[0].dropped;
	}
	if (p->pipes[1].mode == PROC_MODE_COLLECT) {
		ex.err = p->pipes[1].col ? p->pipes[1].col : "";
		ex.err_len = p->pipes[1].col_len;
		ex.err_dropped = p->pipes[1].dropped;
	}
	proc_exit_words(words, sizeof words, p->status, p->term_sig);
	n = strlen(words);
	if (p->timed_out)
		snprintf(words + n, sizeof words - n, " (timed out after %llu ms)",
		    (unsigned long long)p->timeout_ms);
	else if (p->undrained)
		snprintf(words + n, sizeof words - n, " (output still open after it exited)");
	ex.words = words;
	p->cbs.on_exit(p, &ex, p->ud);
}

static int
proc_deliver(const char *data, size_t len, uint64_t orig_len, unsigned flags, void *ud)
{
	struct proc_pipe *pp = ud;
	struct proc *p = pp->p;
	struct proc_line line;

	if (p->freed)
		return -1;
	p->lines[pp->stream]++;
	if (flags & LINEBUF_CUT)
		p->cut[pp->stream]++;
	if (p->cbs.on_line == NULL)
		return 0;
	line.stream = pp->stream;
	line.data = data;
	line.len = len;
	line.orig_len = orig_len;
	line.flags = flags & (PROC_LINE_CUT | PROC_LINE_PARTIAL);
	p->cbs.on_line(p, &line, p->ud);
	return p->freed ? -1 : 0;
}

static void
proc_collect(struct proc *p, struct proc_pipe *pp, const char *data, size_t n)
{
	size_t room = p->collect_max - pp->col_len, cap;

	if (n > room) {
		pp->dropped += n - room;
		n = room;
	}
	if (n == 0)
		return;
	if (pp->col_len + n + 1 > pp->col_cap) {
		cap = pp->col_cap ? pp->col_cap : 4096;
		while (cap < pp->col_len + n + 1)
			cap *= 2;
		if (cap > p->collect_max + 1)
			cap = p->collect_max + 1;
		pp->col = xreallocarray(pp->col, cap, 1);
		pp->col_cap = cap;
	}
	memcpy(pp->col + pp->col_len, data, n);
	pp->col_len += n;
	pp->col[pp->col_len] = '\0';
}

/* The pipe reached EOF (or is given up): flush, close, maybe report. */
static void
proc_pipe_end(struct proc_pipe *pp)
{
	struct proc *p = pp->p;

	if (!pp->open)
		return;
	pp->open = 0;
	uv_read_stop((uv_stream_t *)&pp->pipe);
	proc_close(p, (uv_handle_t *)&pp->pipe);
	if (pp->mode == PROC_MODE_LINES && !p->freed)
		linebuf_flush(&pp->lb, proc_deliver, pp);
	if (!p->freed)
		proc_report(p);
}

static void
proc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct proc_pipe *pp = h->data;

	(void)suggested;
	buf->base = pp->p->readbuf;
	buf->len = PROC_READ_SIZE;
}

static void
proc_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct proc_pipe *pp = s->data;
	struct proc *p = pp->p;
	struct proc_line line;

	if (nread < 0) {
		proc_pipe_end(pp);
		return;
	}
	if (nread == 0 || p->freed)
		return;
	p->bytes[pp->stream] += (uint64_t)nread;
	switch (pp->mode) {
	case PROC_MODE_LINES:
		linebuf_feed(&pp->lb, buf->base, (size_t)nread, proc_deliver, pp);
		break;
	case PROC_MODE_CHUNKS:
		if (p->cbs.on_line) {
			line.stream = pp->stream;
			line.data = buf->base;
			line.len = (size_t)nread;
			line.orig_len = (uint64_t)nread;
			line.flags = 0;
			p->cbs.on_line(p, &line, p->ud);
		}
		break;
	case PROC_MODE_COLLECT:
		proc_collect(p, pp, buf->base, (size_t)nread);
		break;
	case PROC_MODE_IGNORE:
		break;
	}
	if (!p->freed)
		proc_note_buffered(p);
}

static void proc_drain_fired(uv_timer_t *t);

static void
proc_exited(uv_process_t *child, int64_t status, int sig)
{
	struct proc *p = child->data;

	p->exited = 1;
	p->status = status;
	p->term_sig = sig;
	p->t_exit = uv_now(p->loop);
	proc_close(p, (uv_handle_t *)&p->child);
	if (p->freed) {
		/* nobody waits for the output any more */
		proc_close(p, (uv_handle_t *)&p->kill_timer);
		return;
	}
	uv_timer_stop(&p->timeout);
	if (p->pipes[0].open || p->pipes[1].open) {
		uv_timer_start(&p->drain, proc_drain_fired, p->drain_ms, 0);
	}
	proc_report(p);
}

static void
proc_drain_fired(uv_timer_t *t)
{
	struct proc *p = t->data;
	int i;

	if (p->paused) {
		/* the consumer holds the output back: wait for it */
		uv_timer_start(&p->drain, proc_drain_fired, p->drain_ms, 0);
		return;
	}
	p->undrained = 1;
	for (i = 0; i < 2 && !p->freed; i++)
		proc_pipe_end(&p->pipes[i]);
}

static void
proc_kill_fired(uv_timer_t *t)
{
	struct proc *p = t->data;

	p->sigkilled = 1;
	uv_kill(-p->pid, SIGKILL);
}

static void
proc_timeout_fired(uv_timer_t *t)
{
	struct proc *p = t->data;

	p->timed_out = 1;
	proc_kill(p);
}

void
proc_kill(struct proc *p)
{
	if (p == NULL || p->killed || p->reported)
		return;
	p->killed = 1;
	uv_kill(-p->pid, SIGTERM);
	uv_timer_start(&p->kill_timer, proc_kill_fired, p->grace_ms, 0);
}

int
proc_signal(struct proc *p, int sig)
{
	if (p == NULL || p->reported)
		return -1;
	return uv_kill(-p->pid, sig) == 0 ? 0 : -1;
}

void
proc_pause(struct proc *p)
{
	int i;

	if (p == NULL || p->paused)
		return;
	p->paused = 1;
	for (i = 0; i < 2; i++)
		if (p->pipes[i].open)
			uv_read_stop((uv_stream_t *)&p->pipes[i].pipe);
}

void
proc_resume(struct proc *p)
{
	int i;

	if (p == NULL || !p->paused)
		return;
	p->paused = 0;
	for (i = 0; i < 2; i++)
		if (p->pipes[i].open)
			uv_read_start((uv_stream_t *)&p->pipes[i].pipe, proc_alloc, proc_read);
}

void
proc_get_stats(const struct proc *p, struct proc_stats *st)
{
	int i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < 2; i++) {
		st->bytes[i] = p->bytes[i];
		st->lines[i] = p->lines[i];
		st->cut[i] = p->cut[i];
	}
	st->buffered = proc_buffered(p);
	st->buffered_peak = p->buffered_peak;
	st->running = !p->exited;
	st->paused = p->paused;
	st->pid = p->pid;
}

/* Our environment with OVERRIDES applied; the array only is allocated. */
static char **
proc_env(const char *const *overrides)
{
	size_t n = 0, m = 0, k, i, namelen;
	char **env;
	const char *eq;

	for (i = 0; environ && environ[i]; i++)
		n++;
	for (k = 0; overrides[k]; k++)
		m++;
	env = xcalloc(n + m + 1, sizeof *env);
	for (i = 0; i < n; i++)
		env[i] = environ[i];
	for (k = 0; k < m; k++) {
		eq = strchr(overrides[k], '=');
		namelen = eq ? (size_t)(eq - overrides[k]) : strlen(overrides[k]);
		for (i = 0; i < n; i++) {
			if (env[i] != NULL && strncmp(env[i], overrides[k], namelen) == 0 &&
			    env[i][namelen] == '=')
				env[i] = NULL;
		}
	}
	/* compact, then append the new values */
	for (i = 0, k = 0; i < n; i++)
		if (env[i] != NULL)
			env[k++] = env[i];
	for (i = 0; i < m; i++)
		if (strchr(overrides[i], '=') != NULL)
			env[k++] = (char *)overrides[i];
	env[k] = NULL;
	return env;
}

static void
proc_wrote(uv_write_t *req, int status)
{
	struct proc *p = req->data;

	(void)status;	/* EPIPE: the child did not want it */
	proc_close(p, (uv_handle_t *)&p->in);
	free(p->in_data);
	p->in_data = NULL;
}

/* Writing to a pipe whose reader is gone must be EPIPE, not death. */
static void
proc_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

struct proc *
proc_start(uv_loop_t *loop, const struct proc_opts *opts, const struct proc_cbs *cbs, void *ud,
    struct err *e)
{
	struct proc *p;
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	char **env = NULL;
	uv_buf_t wb;
	int i, rc;

	if (opts->argv == NULL || opts->argv[0] == NULL || opts->argv[0][0] == '\0') {
		err_set(e, ERR_INVALID, "no command to run");
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	p->loop = loop;
	if (cbs)
		p->cbs = *cbs;
	p->ud = ud;
	p->collect_max = opts->collect_max ? opts->collect_max : PROC_DEFAULT_COLLECT;
	p->timeout_ms = opts->timeout_ms;
	p->grace_ms = opts->kill_grace_ms ? opts->kill_grace_ms : PROC_DEFAULT_GRACE_MS;
	p->drain_ms = opts->drain_ms ? opts->drain_ms : PROC_DEFAULT_DRAIN_MS;
	p->readbuf = xmalloc(PROC_READ_SIZE);
	uv_timer_init(loop, &p->timeout);
	uv_timer_init(loop, &p->kill_timer);
	uv_timer_init(loop, &p->drain);
	p->timeout.data = p->kill_timer.data = p->drain.data = p;
	p->handles = 3;

	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = UV_IGNORE;
	if (opts->stdin_data != NULL) {
		proc_ignore_sigpipe();
		uv_pipe_init(loop, &p->in, 0);
		p->in.data = p;
		p->in_inited = 1;
		p->handles++;
		stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
		stdio[0].data.stream = (uv_stream_t *)&p->in;
	}
	for (i = 0; i < 2; i++) {
		struct proc_pipe *pp = &p->pipes[i];

		pp->p = p;
		pp->stream = i == 0 ? PROC_STDOUT : PROC_STDERR;
		pp->mode = i == 0 ? opts->out_mode : opts->err_mode;
		linebuf_init(&pp->lb, opts->max_line);
		if (pp->mode == PROC_MODE_IGNORE) {
			stdio[i + 1].flags = UV_IGNORE;
			continue;
		}
		uv_pipe_init(loop, &pp->pipe, 0);
		pp->pipe.data = pp;
		pp->inited = 1;
		p->handles++;
		stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i + 1].data.stream = (uv_stream_t *)&pp->pipe;
	}

	memset(&po, 0, sizeof po);
	po.exit_cb = proc_exited;
	po.file = opts->argv[0];
	po.args = (char **)opts->argv;
	if (opts->env)
		po.env = env = proc_env(opts->env);
	po.cwd = opts->cwd;
	po.flags = UV_PROCESS_DETACHED;	/* setsid: its own group, no terminal */
	po.stdio_count = 3;
	po.stdio = stdio;
	p->child.data = p;
	p->t_start = uv_now(loop);
	rc = uv_spawn(loop, &p->child, &po);
	free(env);
	p->child_inited = 1;
	p->handles++;
	if (rc != 0) {
		if (rc == UV_ENOENT && opts->cwd != NULL)
			err_set(e, ERR_IO, "cannot run '%s' in %s: %s", opts->argv[0], opts->cwd,
			    uv_strerror(rc));
		else
			err_set(e, ERR_IO, "cannot run '%s': %s", opts->argv[0], uv_strerror(rc));
		p->freed = 1;
		p->reported = 1;
		proc_close(p, (uv_handle_t *)&p->child);
		for (i = 0; i < 2; i++)
			if (p->pipes[i].inited)
				proc_close(p, (uv_handle_t *)&p->pipes[i].pipe);
		if (p->in_inited)
			proc_close(p, (uv_handle_t *)&p->in);
		proc_close(p, (uv_handle_t *)&p->timeout);
		proc_close(p, (uv_handle_t *)&p->kill_timer);
		proc_close(p, (uv_handle_t *)&p->drain);
		return NULL;
	}
	p->pid = p->child.pid;
	for (i = 0; i < 2; i++) {
		if (!p->pipes[i].inited)
			continue;
		p->pipes[i].open = 1;
		uv_read_start((uv_stream_t *)&p->pipes[i].pipe, proc_alloc, proc_read);
	}
	if (p->in_inited) {
		p->in_len = opts->stdin_len;
		p->in_data = xmalloc(p->in_len ? p->in_len : 1);
		memcpy(p->in_data, opts->stdin_data, p->in_len);
		wb = uv_buf_init(p->in_data, (unsigned)p->in_len);
		p->wreq.data = p;
		if (uv_write(&p->wreq, (uv_stream_t *)&p->in, &wb, 1, proc_wrote) != 0)
			proc_close(p, (uv_handle_t *)&p->in);
	}
	if (p->timeout_ms)
		uv_timer_start(&p->timeout, proc_timeout_fired, p->timeout_ms, 0);
	return p;
}

void
proc_free(struct proc **pp)
{
	struct proc *p;
	int i;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	*pp = NULL;
	if (p->freed)
		return;
	p->freed = 1;
	for (i = 0; i < 2; i++) {
		if (p->pipes[i].open) {
			p->pipes[i].open = 0;
			uv_read_stop((uv_stream_t *)&p->pipes[i].pipe);
		}
		if (p->pipes[i].inited)
			proc_close(p, (uv_handle_t *)&p->pipes[i].pipe);
	}
	proc_close(p, (uv_handle_t *)&p->timeout);
	proc_close(p, (uv_handle_t *)&p->drain);
	if (p->exited) {
		proc_close(p, (uv_handle_t *)&p->kill_timer);
	} else {
		/* reaped in the background: proc_exited closes the rest */
		proc_kill(p);
	}
	if (p->in_inited)
		proc_close(p, (uv_handle_t *)&p->in);
}
