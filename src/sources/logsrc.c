/* logsrc.c - log lines from files (tail -F), commands and standard input. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signalbox/linebuf.h"
#include "signalbox/logsrc.h"
#include "signalbox/proc.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	LOGSRC_READ_SIZE = 64 * 1024,
	LOGSRC_DEFAULT_POLL_MS = 1000,
	LOGSRC_DEFAULT_PARTIAL_MS = 500,
	LOGSRC_DEFAULT_RESTART_MIN_MS = 1000,
	LOGSRC_DEFAULT_RESTART_MAX_MS = 60000,
	LOGSRC_HEALTHY_RUN_MS = 10000,
	LOGSRC_TAIL_WINDOW_MIN = 64 * 1024,
	LOGSRC_TAIL_WINDOW_MAX = 4 * 1024 * 1024,
};

/* What the one thread-pool request in flight is doing. */
enum logsrc_op {
	LOGSRC_OP_NONE,
	LOGSRC_OP_OPEN,
		LOGSRC_OP_TAIL,		/* the window read for START_LINES / START_BYTES */
	LOGSRC_OP_READ,
	LOGSRC_OP_STAT,
};

struct logsrc {
	uv_loop_t *loop;
	enum logsrc_kind kind;
	char *name;
	uint16_t index;
	struct logsrc_cbs cbs;
	void *ud;
	size_t max_line;
	struct linebuf lb;
	unsigned line_flags;	/* added to every line (stderr) while delivering */
	int64_t arrival_ms;

	/* state */
	enum store_state state;
	char text[512];
	int had_data;

	/* counters */
	uint64_t lines, bytes, cut, partial, stderr_lines;
	uint64_t rotations, truncations, restarts;
	int64_t last_line_ms;

	/* lifetime */
	int freed;
	int paused;
	int started;		/* the first kick ran */
	int handles;		/* open libuv handles */
	uv_timer_t kick;	/* 0 ms: start, resume */
	uv_timer_t poll;	/* FILE: stat/retry; COMMAND: restart */
	uv_timer_t flush;	/* held partial line */

	/* FILE */
	char *path;
	char *dir;
	char *base;
	enum logsrc_start start;
	uint64_t start_n;
	uint64_t poll_ms;
	uint64_t partial_ms;
	uv_fs_event_t watch;
	int watch_inited;
	int watching;
	uv_fs_t req;
	enum logsrc_op op;	/* LOGSRC_OP_NONE: no request in flight */
	int again;		/* a change was signalled while busy */
	uv_file fd;
	uint64_t pos;
	uint64_t ino, dev;
	int opened_once;	/* a file was opened before: the next starts at 0 */
	int missing_at_start;	/* the first open found nothing */
	int gone;		/* the path vanished after we had a file */
	int draining;		/* the path names another file (or none): read the
				 * old one to its end first; 2 = none */
	char *readbuf;
	char *tailbuf;
	size_t tail_len;
	uint64_t tail_off;

	/* COMMAND */
	char **argv;
	char **env;
	char *cwd;
	int restart;
	uint64_t restart_min_ms, restart_max_ms, backoff_ms;
	struct proc *proc;

	/* STDIN */
	int in_fd;		/* the caller's descriptor (flags restored at free) */
	int dup_fd;		/* our dup of it, for the fs reads */
	int orig_flags;
	uv_pipe_t pipe;
	int pipe_inited;
	int pipe_reading;
	int in_eof;
};

static const char *const logsrc_kind_names[] = { "file", "command", "stdin" };

const char *
logsrc_kind_name(enum logsrc_kind kind)
{
	return (unsigned)kind < ARRAY_LEN(logsrc_kind_names) ? logsrc_kind_names[kind] : "?";
}

const char *
logsrc_name(const struct logsrc *s)
{
	return s->name;
}

static char **
logsrc_strv_dup(const char *const *v)
{
	size_t n = 0, i;
	char **out;

	if (v == NULL)
		return NULL;
	while (v[n])
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void
logsrc_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static void
file_close_fd(struct logsrc *s)
{
	uv_fs_t req;

	if (s->fd < 0)
		return;
	uv_fs_close(NULL, &req, s->fd, NULL);	/* close(2) of a regular file: no wait */
	uv_fs_req_cleanup(&req);
	s->fd = -1;
}

/* Free the memory once nothing of ours is pending in libuv. */
static void
logsrc_release(struct logsrc *s)
{
	if (!s->freed || s->handles > 0 || s->op != LOGSRC_OP_NONE)
		return;
	file_close_fd(s);
	if (s->dup_fd >= 0)
		close(s->dup_fd);
	linebuf_fini(&s->lb);
	free(s->name);
	free(s->path);
	free(s->dir);
	free(s->base);
	free(s->readbuf);
	free(s->tailbuf);
	logsrc_strv_free(s->argv);
	logsrc_strv_free(s->env);
	free(s->cwd);
	free(s);
}

static void
logsrc_closed(uv_handle_t *h)
{
	struct logsrc *s = h->data;

	s->handles--;
	logsrc_release(s);
}

static void
logsrc_close(struct logsrc *s, uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	h->data = s;
	uv_close(h, logsrc_closed);
}

static void
logsrc_event(struct logsrc *s, enum logsrc_event_kind kind, const char *text, int64_t status,
    int sig)
{
	struct logsrc_event ev;

	if (s->freed || s->cbs.on_event == NULL)
		return;
	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.source = s->index;
	ev.state = s->state;
	ev.text = text;
	ev.exit_status = status;
	ev.exit_signal = sig;
	s->cbs.on_event(s, &ev, s->ud);
}

static void logsrc_set_state(struct logsrc *s, enum store_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the state and its words; an event when either changed. */
static void
logsrc_set_state(struct logsrc *s, enum store_state st, const char *fmt, ...)
{
	char text[sizeof s->text];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (st == s->state && strcmp(text, s->text) == 0)
		return;
	s->state = st;
	memcpy(s->text, text, sizeof text);
	logsrc_event(s, LOGSRC_EV_STATE, s->text, 0, 0);
}

/* linebuf_fn: one line to the owner. */
static int
logsrc_deliver(const char *data, size_t len, uint64_t orig_len, unsigned flags, void *ud)
{
	struct logsrc *s = ud;
	struct logsrc_line line;

	if (s->freed)
		return -1;
	line.flags = s->line_flags;
	if (flags & LINEBUF_CUT)
		line.flags |= LOGSRC_LINE_CUT;
	if (flags & LINEBUF_PARTIAL)
		line.flags |= LOGSRC_LINE_PARTIAL;
	if (flags & LINEBUF_CONT)
		line.flags |= LOGSRC_LINE_CONT;
	s->lines++;
	if (line.flags & LOGSRC_LINE_CUT)
		s->cut++;
	if (line.flags & LOGSRC_LINE_PARTIAL)
		s->partial++;
	if (line.flags & LOGSRC_LINE_STDERR)
		s->stderr_lines++;
	s->last_line_ms = s->arrival_ms;
	s->had_data = 1;
	if (s->cbs.on_line == NULL)
		return 0;
	line.data = data;
	line.len = len;
	line.orig_len = orig_len;
	line.source = s->index;
	line.arrival_ms = s->arrival_ms;
	s->cbs.on_line(s, &line, s->ud);
	return s->freed ? -1 : 0;
}

/* Bytes in: split and deliver.  -1 when the owner freed us meanwhile. */
static int
logsrc_feed(struct logsrc *s, const char *data, size_t n)
{
	s->bytes += n;
	s->arrival_ms = util_wall_ms();
	return linebuf_feed(&s->lb, data, n, logsrc_deliver, s);
}

static int
logsrc_flush_partial(struct logsrc *s)
{
	uv_timer_stop(&s->flush);
	if (linebuf_pending(&s->lb) == 0)
		return 0;
	s->arrival_ms = util_wall_ms();
	return linebuf_flush(&s->lb, logsrc_deliver, s);
}

static void
logsrc_flush_fired(uv_timer_t *t)
{
	logsrc_flush_partial(t->data);
}

/* ------------------------------------------------------------------ FILE */

static void file_kick(struct logsrc *s);
static void file_read(struct logsrc *s);
static void file_tailed(uv_fs_t *req);

static void
file_watch_cb(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct logsrc *s = h->data;

	(void)events;
	if (s->freed)
		return;
	if (status < 0) {
		/* the directory went away: fall back to polling, watch again later */
		uv_fs_event_stop(&s->watch);
		s->watching = 0;
		return;
	}
	if (filename == NULL || strcmp(filename, s->base) == 0)
		file_kick(s);
}

static void
file_watch(struct logsrc *s)
{
	if (s->watching || s->freed)
		return;
	if (!s->watch_inited) {
		uv_fs_event_init(s->loop, &s->watch);
		s->watch.data = s;
		s->watch_inited = 1;
		s->handles++;
	}
	/* the directory, not the file: it sees creation, rename and deletion */
	if (uv_fs_event_start(&s->watch, file_watch_cb, s->dir, 0) == 0)
		s->watching = 1;
}

static void
file_poll_fired(uv_timer_t *t)
{
	struct logsrc *s = t->data;

	if (!s->watching)
		file_watch(s);
	file_kick(s);
}

/* The request finished: 1 when the owner freed us meanwhile (stop). */
static int
file_req_done(struct logsrc *s)
{
	uv_fs_req_cleanup(&s->req);
	s->op = LOGSRC_OP_NONE;
	if (s->freed) {
		file_close_fd(s);
		logsrc_release(s);
		return 1;
	}
	return 0;
}

/* A file was opened: where to read from. */
static void
file_begin(struct logsrc *s)
{
	uv_fs_t req;
	uv_stat_t st;
	uv_buf_t b;
	uint64_t size, w;
	int rc;

	/* fstat of an open descriptor does no I/O worth a thread */
	rc = uv_fs_fstat(NULL, &req, s->fd, NULL);
	st = req.statbuf;
	uv_fs_req_cleanup(&req);
	if (rc < 0 || (st.st_mode & S_IFMT) == S_IFDIR) {
		logsrc_set_state(s, STORE_STATE_ERROR, "cannot read %s: %s (retrying)", s->path,
		    rc < 0 ? uv_strerror(rc) : "it is a directory");
		file_close_fd(s);
		return;
	}
	s->ino = st.st_ino;
	s->dev = st.st_dev;
	size = st.st_size;
	if (s->gone || s->opened_once) {
		s->rotations++;
		logsrc_event(s, LOGSRC_EV_ROTATED, "the file was replaced: reading the new one", 0, 0);
		if (s->freed)
			return;
	}
	s->gone = 0;
	s->pos = 0;
	logsrc_set_state(s, STORE_STATE_OK, "following %s", s->path);
	if (s->freed)
		return;
	if (s->opened_once || s->missing_at_start || s->start == LOGSRC_START_BEGIN) {
		/* a file that appeared after we started is read whole */
		s->opened_once = 1;
		file_read(s);
		return;
	}
	s->opened_once = 1;
	if (s->start == LOGSRC_START_END || size == 0) {
		s->pos = size;
		file_read(s);
		return;
	}
	/* the last N bytes or lines: look at a window before the end */
	if (s->start == LOGSRC_START_BYTES)
		w = s->start_n + 1;	/* +1: is the byte before a line start? */
	else
		w = s->start_n * 512;
	if (w < LOGSRC_TAIL_WINDOW_MIN)
		w = LOGSRC_TAIL_WINDOW_MIN;
	if (w > LOGSRC_TAIL_WINDOW_MAX)
		w = LOGSRC_TAIL_WINDOW_MAX;
	if (w > size)
		w = size;
	s->tail_len = (size_t)w;
	s->tail_off = size - w;
	s->tailbuf = xmalloc(s->tail_len);
	b = uv_buf_init(s->tailbuf, (unsigned)s->tail_len);
	s->op = LOGSRC_OP_TAIL;
	s->req.data = s;
	uv_fs_read(s->loop, &s->req, s->fd, &b, 1, (int64_t)s->tail_off, file_tailed);
}

static void
file_opened(uv_fs_t *req)
{
	struct logsrc *s = req->data;
	ssize_t res = req->result;

	if (file_req_done(s)) {
		if (res >= 0) {	/* S is gone: close what it did not see */
			uv_fs_t c;

			uv_fs_close(NULL, &c, (uv_file)res, NULL);
			uv_fs_req_cleanup(&c);
		}
		return;
	}
	if (res < 0) {
		if (!s->opened_once)
			s->missing_at_start = 1;
		if (res == UV_ENOENT || res == UV_ENOTDIR) {
			if (s->gone && s->had_data)
				logsrc_set_state(s, STORE_STATE_STALE, "%s was deleted or moved (waiting for it)",
				    s->path);
			else
				logsrc_set_state(s, STORE_STATE_CONNECTING, "no such file: %s (waiting for it)",
				    s->path);
		} else if (res == UV_EACCES || res == UV_EPERM) {
			logsrc_set_state(s, STORE_STATE_ERROR, "permission denied: %s (retrying)", s->path);
		} else {
			logsrc_set_state(s, STORE_STATE_ERROR, "cannot open %s: %s (retrying)", s->path,
			    uv_strerror((int)res));
		}
		s->again = 0;	/* the next look comes from inotify or the poll */
		return;
	}
	s->fd = (uv_file)res;
	file_begin(s);
}

/* Where to start in the window [tail_off, tail_off + got): just after a
 * newline, so the first line delivered is whole. */
static uint64_t
file_tail_start(struct logsrc *s, size_t got)
{
	const char *b = s->tailbuf;
	size_t i = got, want, seen = 0, first_nl;
	uint64_t end = s->tail_off + got;

	if (s->start == LOGSRC_START_BYTES) {
		uint64_t from = s->start_n < end ? end - s->start_n : 0;
		size_t k;

		if (from == 0)
			return 0;
		/* from the first line that starts at or after FROM */
		for (k = (size_t)(from - s->tail_off); k > 0 && k <= got; k++)
			if (b[k - 1] == '\n')
				return s->tail_off + k;
		return end;
	}
	want = (size_t)s->start_n;
	if (want == 0)
		return end;
	if (i > 0 && b[i - 1] == '\n')
		i--;	/* the newline ending the last line */
	while (i > 0) {
		if (b[i - 1] == '\n' && ++seen == want)
			return s->tail_off + i;
		i--;
	}
	if (s->tail_off == 0)
		return 0;	/* fewer lines than asked for: the whole file */
	/* not enough lines in the window: from its first whole line */
	for (first_nl = 0; first_nl < got; first_nl++)
		if (b[first_nl] == '\n')
			return s->tail_off + first_nl + 1;
	return s->tail_off;
}

static void
file_tailed(uv_fs_t *req)
{
	struct logsrc *s = req->data;
	ssize_t res = req->result;

	if (file_req_done(s))
		return;
	s->pos = res > 0 ? file_tail_start(s, (size_t)res) : s->tail_off + s->tail_len;
	free(s->tailbuf);
	s->tailbuf = NULL;
	file_read(s);
}

static void file_read_done(uv_fs_t *req);
static void file_read_force(struct logsrc *s);
static void file_switch(struct logsrc *s);

static void
file_read_force(struct logsrc *s)
{
	uv_buf_t b;

	if (s->freed || s->fd < 0 || s->op != LOGSRC_OP_NONE)
		return;
	if (s->readbuf == NULL)
		s->readbuf = xmalloc(LOGSRC_READ_SIZE);
	b = uv_buf_init(s->readbuf, LOGSRC_READ_SIZE);
	s->op = LOGSRC_OP_READ;
	s->req.data = s;
	uv_fs_read(s->loop, &s->req, s->fd, &b, 1, (int64_t)s->pos, file_read_done);
}

/* Read on at pos (unless paused: then once resumed). */
static void
file_read(struct logsrc *s)
{
	if (s->paused) {
		s->again = 1;
		return;
	}
	s->again = 0;
	file_read_force(s);
}

static void file_statted(uv_fs_t *req);

static void
file_stat_path(struct logsrc *s)
{
	s->op = LOGSRC_OP_STAT;
	s->req.data = s;
	uv_fs_stat(s->loop, &s->req, s->path, file_statted);
}

static void
file_read_done(uv_fs_t *req)
{
	struct logsrc *s = req->data;
	ssize_t res = req->result;

	if (file_req_done(s))
		return;
	if (res < 0) {
		logsrc_set_state(s, STORE_STATE_ERROR, "cannot read %s: %s (retrying)", s->path,
		    uv_strerror((int)res));
		file_close_fd(s);
		return;
	}
	if (res > 0) {
		s->pos += (uint64_t)res;
		uv_timer_stop(&s->flush);
		if (logsrc_feed(s, s->readbuf, (size_t)res) < 0)
			return;
		file_read(s);
		return;
	}
	if (s->draining) {
		file_switch(s);
		return;
	}
	/* at the end: hold a partial line a little, then look at the path */
	if (linebuf_pending(&s->lb) > 0)
		uv_timer_start(&s->flush, logsrc_flush_fired, s->partial_ms, 0);
	file_stat_path(s);
}

/* The old file was read to its end after the path changed: done with it. */
static void
file_switch(struct logsrc *s)
{
	int deleted = s->draining == 2;

	s->draining = 0;
	if (logsrc_flush_partial(s) < 0)
		return;
	file_close_fd(s);
	s->gone = 1;
	if (!deleted) {
		file_kick(s);	/* open the new one now */
		return;
	}
	logsrc_event(s, LOGSRC_EV_DELETED, "the file was deleted or moved away", 0, 0);
	if (s->freed)
		return;
	logsrc_set_state(s, STORE_STATE_STALE, "%s was deleted or moved (waiting for it)", s->path);
}

static void
file_statted(uv_fs_t *req)
{
	struct logsrc *s = req->data;
	ssize_t res = req->result;
	uv_stat_t st = req->statbuf;

	if (file_req_done(s))
		return;
	if (res < 0 || st.st_ino != s->ino || st.st_dev != s->dev) {
		/* what was written to the old file before the switch comes first */
		s->draining = res < 0 ? 2 : 1;
		s->again = 0;
		file_read_force(s);
		return;
	}
	if ((uint64_t)st.st_size < s->pos) {
		s->truncations++;
		if (logsrc_flush_partial(s) < 0)
			return;
		logsrc_event(s, LOGSRC_EV_TRUNCATED, "the file was truncated: reading it from its start",
		    0, 0);
		if (s->freed)
			return;
		s->pos = 0;
		file_read(s);
		return;
	}
	if ((uint64_t)st.st_size > s->pos || s->again)
		file_read(s);
}

/* Something may have changed: open or read, unless a request is in flight
 * (then once it is done). */
static void
file_kick(struct logsrc *s)
{
	if (s->freed)
		return;
	if (s->op != LOGSRC_OP_NONE || s->paused) {
		s->again = 1;
		return;
	}
	s->again = 0;
	if (s->fd >= 0) {
		file_read(s);
		return;
	}
	s->op = LOGSRC_OP_OPEN;
	s->req.data = s;
	uv_fs_open(s->loop, &s->req, s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0, file_opened);
}

static int
file_setup(struct logsrc *s, const struct logsrc_opts *o, struct err *e)
{
	char *slash;

	if (o->path == NULL || o->path[0] == '\0')
		return err_set(e, ERR_INVALID, "log source: a file source needs a path");
	s->path = xstrdup(o->path);
	slash = strrchr(s->path, '/');
	if (slash == NULL) {
		s->dir = xstrdup(".");
		s->base = xstrdup(s->path);
	} else {
		s->dir = slash == s->path ? xstrdup("/") : xstrndup(s->path, (size_t)(slash - s->path));
		s->base = xstrdup(slash + 1);
	}
	if (s->base[0] == '\0')
		return err_set(e, ERR_INVALID, "log source: '%s' names a directory, not a file", o->path);
	s->start = o->start;
	s->start_n = o->start_n;
	s->poll_ms = o->poll_ms ? o->poll_ms : LOGSRC_DEFAULT_POLL_MS;
	s->fd = -1;
	return 0;
}

/* --------------------------------------------------------------- COMMAND */

static void cmd_spawn(struct logsrc *s);
static void cmd_restart_fired(uv_timer_t *t);

static void
cmd_on_line(struct proc *p, const struct proc_line *l, void *ud)
{
	struct logsrc *s = ud;
	unsigned flags = 0;

	(void)p;
	if (l->flags & PROC_LINE_CUT)
		flags |= LINEBUF_CUT;
	if (l->flags & PROC_LINE_PARTIAL)
		flags |= LINEBUF_PARTIAL;
	s->bytes += l->orig_len + !(l->flags & PROC_LINE_PARTIAL);
	s->arrival_ms = util_wall_ms();
	s->line_flags = l->stream == PROC_STDERR ? LOGSRC_LINE_STDERR : 0;
	if (s->state != STORE_STATE_OK) {
		logsrc_set_state(s, STORE_STATE_OK, "running %s", s->name);
		if (s->freed)
			return;
	}
	logsrc_deliver(l->data, l->len, l->orig_len, flags, s);
	s->line_flags = 0;
}

static void
cmd_on_exit(struct proc *p, const struct proc_exit *ex, void *ud)
{
	struct logsrc *s = ud;
	char words[256];
	uint64_t ran = ex->duration_ms;

	(void)p;
	proc_free(&s->proc);
	snprintf(words, sizeof words, "%s %s", s->name, ex->words);
	logsrc_event(s, LOGSRC_EV_EXITED, words, ex->status, ex->signal);
	if (s->freed)
		return;
	if (!s->restart) {
		if (ex->status == 0)
			logsrc_set_state(s, STORE_STATE_IDLE, "%s", words);
		else
			logsrc_set_state(s, STORE_STATE_ERROR, "%s", words);
		return;
	}
	if (ran >= LOGSRC_HEALTHY_RUN_MS || s->backoff_ms == 0)
		s->backoff_ms = s->restart_min_ms;
	else if (s->backoff_ms < s->restart_max_ms)
		s->backoff_ms = s->backoff_ms * 2 > s->restart_max_ms ? s->restart_max_ms : s->backoff_ms * 2;
	{
		char age[32];

		util_fmt_age(age, sizeof age, (int64_t)s->backoff_ms);
		logsrc_set_state(s, s->had_data ? STORE_STATE_STALE : STORE_STATE_ERROR,
		    "%s; restarting in %s", words, age);
	}
	if (s->freed)
		return;
	uv_timer_start(&s->poll, cmd_restart_fired, s->backoff_ms, 0);
}

static void
cmd_restart_fired(uv_timer_t *t)
{
	struct logsrc *s = t->data;

	s->restarts++;
	cmd_spawn(s);
}

static void
cmd_spawn(struct logsrc *s)
{
	static const struct proc_cbs cbs = { cmd_on_line, cmd_on_exit };
	struct proc_opts po;
	struct err e;

	memset(&po, 0, sizeof po);
	po.argv = (const char *const *)s->argv;
	po.env = (const char *const *)s->env;
	po.cwd = s->cwd;
	po.max_line = s->max_line;
	s->proc = proc_start(s->loop, &po, &cbs, s, &e);
	if (s->proc == NULL) {
		if (s->restart) {
			if (s->backoff_ms == 0)
				s->backoff_ms = s->restart_min_ms;
			else
				s->backoff_ms = s->backoff_ms * 2 > s->restart_max_ms ? s->restart_max_ms :
				    s->backoff_ms * 2;
			{
				char age[32];

				util_fmt_age(age, sizeof age, (int64_t)s->backoff_ms);
				logsrc_set_state(s, STORE_STATE_ERROR, "%s; retrying in %s", e.msg, age);
			}
			if (!s->freed)
				uv_timer_start(&s->poll, cmd_restart_fired, s->backoff_ms, 0);
		} else {
			logsrc_set_state(s, STORE_STATE_ERROR, "%s", e.msg);
		}
		return;
	}
	if (s->paused)
		proc_pause(s->proc);
	logsrc_set_state(s, s->had_data ? STORE_STATE_OK : STORE_STATE_CONNECTING,
	    "running %s%s", s->name, s->had_data ? "" : " (no output yet)");
}

static int
cmd_setup(struct logsrc *s, const struct logsrc_opts *o, struct err *e)
{
	if (o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] == '\0')
		return err_set(e, ERR_INVALID, "log source: a command source needs a command");
	s->argv = logsrc_strv_dup(o->argv);
	s->env = logsrc_strv_dup(o->env);
	s->cwd = o->cwd ? xstrdup(o->cwd) : NULL;
	s->restart = o->restart;
	s->restart_min_ms = o->restart_min_ms ? o->restart_min_ms : LOGSRC_DEFAULT_RESTART_MIN_MS;
	s->restart_max_ms = o->restart_max_ms ? o->restart_max_ms : LOGSRC_DEFAULT_RESTART_MAX_MS;
	if (s->restart_max_ms < s->restart_min_ms)
		s->restart_max_ms = s->restart_min_ms;
	return 0;
}

/* ----------------------------------------------------------------- STDIN */

static void
stdin_eof(struct logsrc *s, const char *why)
{
	s->in_eof = 1;
	if (logsrc_flush_partial(s) < 0)
		return;
	if (why == NULL) {
		logsrc_event(s, LOGSRC_EV_EOF, "end of input", 0, 0);
		if (s->freed)
			return;
		logsrc_set_state(s, STORE_STATE_IDLE, "end of input (%llu lines)",
		    (unsigned long long)s->lines);
	} else {
		logsrc_set_state(s, STORE_STATE_ERROR, "cannot read standard input: %s", why);
	}
}

/* A line without its newline yet: delivered after partial_ms of quiet. */
static void
stdin_hold_partial(struct logsrc *s)
{
	if (linebuf_pending(&s->lb) > 0)
		uv_timer_start(&s->flush, logsrc_flush_fired, s->partial_ms, 0);
	else
		uv_timer_stop(&s->flush);
}

static void
stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct logsrc *s = h->data;

	(void)suggested;
	if (s->readbuf == NULL)
		s->readbuf = xmalloc(LOGSRC_READ_SIZE);
	buf->base = s->readbuf;
	buf->len = LOGSRC_READ_SIZE;
}

static void
stdin_pipe_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct logsrc *s = st->data;

	if (s->freed)
		return;
	if (nread < 0) {
		uv_read_stop(st);
		s->pipe_reading = 0;
		stdin_eof(s, nread == UV_EOF ? NULL : uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	if (s->state != STORE_STATE_OK) {
		logsrc_set_state(s, STORE_STATE_OK, "reading standard input");
		if (s->freed)
			return;
	}
	if (logsrc_feed(s, buf->base, (size_t)nread) == 0)
		stdin_hold_partial(s);
}

static void stdin_file_read(struct logsrc *s);

static void
stdin_file_done(uv_fs_t *req)
{
	struct logsrc *s = req->data;
	ssize_t res = req->result;

	uv_fs_req_cleanup(&s->req);
	s->op = LOGSRC_OP_NONE;
	if (s->freed) {
		logsrc_release(s);
		return;
	}
	if (res <= 0) {
		stdin_eof(s, res == 0 ? NULL : uv_strerror((int)res));
		return;
	}
	if (s->state != STORE_STATE_OK) {
		logsrc_set_state(s, STORE_STATE_OK, "reading standard input");
		if (s->freed)
			return;
	}
	if (logsrc_feed(s, s->readbuf, (size_t)res) < 0)
		return;
	stdin_hold_partial(s);
	stdin_file_read(s);
}

/* A regular file (or /dev/null) on stdin: thread-pool reads from the
 * current position. */
static void
stdin_file_read(struct logsrc *s)
{
	uv_buf_t b;

	if (s->freed || s->in_eof || s->op != LOGSRC_OP_NONE || s->paused)
		return;
	if (s->readbuf == NULL)
		s->readbuf = xmalloc(LOGSRC_READ_SIZE);
	b = uv_buf_init(s->readbuf, LOGSRC_READ_SIZE);
	s->op = LOGSRC_OP_READ;
	s->req.data = s;
	uv_fs_read(s->loop, &s->req, s->dup_fd, &b, 1, -1, stdin_file_done);
}

static void
stdin_open(struct logsrc *s)
{
	struct stat st;
	int rc;

	if (fstat(s->in_fd, &st) != 0) {
		logsrc_set_state(s, STORE_STATE_ERROR, "cannot read standard input: %s",
		    strerror(errno));
		return;
	}
	if (isatty(s->in_fd)) {
		logsrc_set_state(s, STORE_STATE_ERROR,
		    "standard input is a terminal: pipe logs into signalbox (... | signalbox logs -)");
		return;
	}
	s->dup_fd = fcntl(s->in_fd, F_DUPFD_CLOEXEC, 3);
	if (s->dup_fd < 0) {
		logsrc_set_state(s, STORE_STATE_ERROR, "cannot read standard input: %s",
		    strerror(errno));
		return;
	}
	logsrc_set_state(s, STORE_STATE_CONNECTING, "waiting for standard input");
	if (s->freed)
		return;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		s->orig_flags = fcntl(s->in_fd, F_GETFL);
		uv_pipe_init(s->loop, &s->pipe, 0);
		s->pipe.data = s;
		s->pipe_inited = 1;
		s->handles++;
		rc = uv_pipe_open(&s->pipe, s->dup_fd);	/* the pipe owns dup_fd now */
		if (rc != 0) {
			logsrc_set_state(s, STORE_STATE_ERROR, "cannot read standard input: %s",
			    uv_strerror(rc));
			return;
		}
		s->dup_fd = -1;
		if (!s->paused) {
			uv_read_start((uv_stream_t *)&s->pipe, stdin_alloc, stdin_pipe_read);
			s->pipe_reading = 1;
		}
		return;
	}
	stdin_file_read(s);
}

/* ---------------------------------------------------------------- common */

static void
logsrc_kick_fired(uv_timer_t *t)
{
	struct logsrc *s = t->data;

	int first = !s->started;

	s->started = 1;
	switch (s->kind) {
	case LOGSRC_FILE:
		if (first) {
			file_watch(s);
			uv_timer_start(&s->poll, file_poll_fired, s->poll_ms, s->poll_ms);
		}
		file_kick(s);
		break;
	case LOGSRC_COMMAND:
		if (first)
			cmd_spawn(s);
		else if (s->proc)
			proc_resume(s->proc);
		break;
	case LOGSRC_STDIN:
		if (first)
			stdin_open(s);
		else if (s->pipe_inited && !s->pipe_reading && !s->in_eof && !s->paused &&
		    !uv_is_closing((uv_handle_t *)&s->pipe)) {
			uv_read_start((uv_stream_t *)&s->pipe, stdin_alloc, stdin_pipe_read);
			s->pipe_reading = 1;
		} else
			stdin_file_read(s);
		break;
	}
}

struct logsrc *
logsrc_start(uv_loop_t *loop, const struct logsrc_opts *opts, const struct logsrc_cbs *cbs,
    void *ud, struct err *e)
{
	struct logsrc *s = xcalloc(1, sizeof *s);
	int rc = -1;

	s->loop = loop;
	s->kind = opts->kind;
	s->index = opts->index;
	if (cbs)
		s->cbs = *cbs;
	s->ud = ud;
	s->max_line = opts->max_line;
	s->partial_ms = opts->partial_ms ? opts->partial_ms : LOGSRC_DEFAULT_PARTIAL_MS;
	linebuf_init(&s->lb, opts->max_line);
	s->fd = -1;
	s->dup_fd = -1;
	s->state = STORE_STATE_IDLE;
	switch (opts->kind) {
	case LOGSRC_FILE:
		rc = file_setup(s, opts, e);
		s->name = xstrdup(opts->name ? opts->name : opts->path ? opts->path : "file");
		break;
	case LOGSRC_COMMAND:
		rc = cmd_setup(s, opts, e);
		s->name = xstrdup(opts->name ? opts->name : s->argv ? s->argv[0] : "command");
		break;
	case LOGSRC_STDIN:
		s->in_fd = opts->fd;
		s->name = xstrdup(opts->name ? opts->name : "stdin");
		rc = 0;
		break;
	default:
		err_set(e, ERR_INVALID, "log source: unknown kind %d", (int)opts->kind);
		break;
	}
	if (s->name == NULL)
		s->name = xstrdup("?");
	if (rc != 0) {
		s->freed = 1;
		logsrc_release(s);
		return NULL;
	}
	uv_timer_init(loop, &s->kick);
	uv_timer_init(loop, &s->poll);
	uv_timer_init(loop, &s->flush);
	s->kick.data = s->poll.data = s->flush.data = s;
	s->handles = 3;
	uv_timer_start(&s->kick, logsrc_kick_fired, 0, 0);
	return s;
}

void
logsrc_pause(struct logsrc *s)
{
	if (s == NULL || s->paused)
		return;
	s->paused = 1;
	if (s->proc)
		proc_pause(s->proc);
	if (s->pipe_reading) {
		uv_read_stop((uv_stream_t *)&s->pipe);
		s->pipe_reading = 0;
	}
}

void
logsrc_resume(struct logsrc *s)
{
	if (s == NULL || !s->paused)
		return;
	s->paused = 0;
	if (!s->freed)
		uv_timer_start(&s->kick, logsrc_kick_fired, 0, 0);
}

void
logsrc_get_stats(const struct logsrc *s, struct logsrc_stats *st)
{
	memset(st, 0, sizeof *st);
	st->state = s->state;
	st->text = s->text;
	st->lines = s->lines;
	st->bytes = s->bytes;
	st->cut = s->cut;
	st->partial = s->partial;
	st->stderr_lines = s->stderr_lines;
	st->rotations = s->rotations;
	st->truncations = s->truncations;
	st->restarts = s->restarts;
	st->last_line_ms = s->last_line_ms;
}

void
logsrc_free(struct logsrc **sp)
{
	struct logsrc *s;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	*sp = NULL;
	if (s->freed)
		return;
	s->freed = 1;
	proc_free(&s->proc);
	if (s->watch_inited)
		logsrc_close(s, (uv_handle_t *)&s->watch);
	if (s->pipe_inited) {
		logsrc_close(s, (uv_handle_t *)&s->pipe);
		if (s->orig_flags >= 0 && !(s->orig_flags & O_NONBLOCK))
			fcntl(s->in_fd, F_SETFL, s->orig_flags);
	}
	if (s->op != LOGSRC_OP_NONE)
		uv_cancel((uv_req_t *)&s->req);	/* its callback finishes the job */
	logsrc_close(s, (uv_handle_t *)&s->kick);
	logsrc_close(s, (uv_handle_t *)&s->poll);
	logsrc_close(s, (uv_handle_t *)&s->flush);
}
