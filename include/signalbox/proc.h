/* proc.h - child processes on the shared loop.
 *
 * The one way signalbox runs another program (kubectl, journalctl,
 * pgbackrest, deploy hooks): uv_spawn with pipes, never a shell unless the
 * caller passes {"sh", "-c", ...} itself, never system() or popen(), never
 * a blocking read.  The child gets /dev/null (or STDIN_DATA) as its
 * standard input, never our terminal, and runs in a session and process
 * group of its own, so a kill reaches what it started too and it cannot
 * read from or write to the controlling terminal.
 *
 * Output, per stream (stdout, stderr), is one of:
 *   LINES    split on '\n' (linebuf.h); a line longer than max_line is
 *            delivered, when its newline comes, as its head with
 *            PROC_LINE_CUT and its full length; a last line without a
 *            newline is delivered at EOF with PROC_LINE_PARTIAL.
 *   CHUNKS   the bytes as read, at most 64 KiB per call.
 *   COLLECT  kept up to collect_max bytes and handed over in on_exit; the
 *            rest is counted and dropped (proc_exit.*_truncated).
 *   IGNORE   /dev/null.
 * Memory per process is bounded whatever the child writes: one 64 KiB read
 * buffer, max_line per LINES stream, collect_max per COLLECT stream.  A
 * consumer that cannot keep up calls proc_pause: the pipes are no longer
 * read, so the child blocks in write(2) once the pipe is full.
 *
 * End: on_exit runs once, after the child exited AND its output was read
 * to EOF on both pipes, so every line comes before it.  When something the
 * child started keeps a pipe open after the child exited, the pipes are
 * closed after drain_ms and on_exit says so (PROC_EXIT_UNDRAINED).
 * proc_kill sends SIGTERM to the process group, then SIGKILL after
 * kill_grace_ms if anything of it is still running; timeout_ms does the
 * same by itself.
 *
 * CALLBACKS run from the loop, never from inside a proc_* call.  Inside
 * any callback the owner may call every function here, proc_free of the
 * process included; once proc_free returns no callback runs for it.
 * Lines already read (at most one read, 64 KiB) may still be delivered
 * after proc_pause returns.
 *
 * OWNERSHIP: proc_start copies everything in the options.  The owner frees
 * the handle with proc_free, also after on_exit (the handle stays valid,
 * inert, until then).  proc_free of a running child kills it (as
 * proc_kill) and reaps it in the background; the loop must run afterwards
 * until that is done (for a child that ignores SIGTERM: kill_grace_ms).
 * Data passed to callbacks is valid only during the callback.
 */
#ifndef SIGNALBOX_PROC_H
#define SIGNALBOX_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct proc;

enum proc_stream {
	PROC_STDOUT,
	PROC_STDERR,
};

enum proc_mode {
	PROC_MODE_LINES,	/* default */
	PROC_MODE_CHUNKS,
	PROC_MODE_COLLECT,
	PROC_MODE_IGNORE,
};

/* struct proc_line.flags (the same values as linebuf.h's) */
enum {
	PROC_LINE_CUT = 1u << 0,	/* longer than max_line: DATA is the head */
	PROC_LINE_PARTIAL = 1u << 1,	/* delivered without a newline (EOF) */
};

/* struct proc_exit.flags */
enum {
	PROC_EXIT_KILLED = 1u << 0,	/* proc_kill or proc_free asked for it */
	PROC_EXIT_TIMEOUT = 1u << 1,	/* killed because timeout_ms passed */
	PROC_EXIT_SIGKILL = 1u << 2,	/* SIGTERM was not enough: SIGKILL was sent */
	PROC_EXIT_UNDRAINED = 1u << 3,	/* a pipe was still open drain_ms after the exit */
};

struct proc_opts {
	const char *const *argv;	/* program and arguments, NULL-terminated; argv[0]
					 * is looked up in PATH when it has no '/' */
	const char *const *env;		/* "NAME=value" set in the child on top of our
					 * environment ("NAME" alone removes it), or NULL */
	const char *cwd;		/* working directory, NULL = ours */
	const char *stdin_data;		/* written to the child's stdin, then closed; */
	size_t stdin_len;		/*   NULL = /dev/null */
	enum proc_mode out_mode;	/* stdout; default LINES */
	enum proc_mode err_mode;	/* stderr; default LINES */
	size_t max_line;		/* LINES: 0 = 64 KiB */
	size_t collect_max;		/* COLLECT, per stream: 0 = 1 MiB */
	uint64_t timeout_ms;		/* kill after this long; 0 = never */
	uint64_t kill_grace_ms;		/* SIGTERM to SIGKILL; 0 = 3 s */
	uint64_t drain_ms;		/* open pipes after the exit; 0 = 1 s */
};

/* One line (LINES) or chunk (CHUNKS); valid only during the callback. */
struct proc_line {
	enum proc_stream stream;
	const char *data;	/* bytes as the child wrote them, without the '\n' */
	size_t len;
	uint64_t orig_len;	/* the line's length before cutting (CHUNKS: LEN) */
	unsigned flags;		/* PROC_LINE_* */
};

/* How it ended; valid only during on_exit. */
struct proc_exit {
	int64_t status;		/* exit status, or -1 when killed by a signal */
	int signal;		/* the signal that ended it, 0 = none */
	unsigned flags;		/* PROC_EXIT_* */
	uint64_t duration_ms;	/* spawn to exit */
	const char *out;	/* COLLECT stdout, OUT_LEN bytes + a NUL; else NULL */
	size_t out_len;
	uint64_t out_dropped;	/* bytes over collect_max, not kept */
	const char *err;	/* COLLECT stderr, the same way */
	size_t err_len;
	uint64_t err_dropped;
	const char *words;	/* "exited with status 2", "killed by SIGTERM (timed out
				 * after 30s)", ... */
};

struct proc_cbs {
	void (*on_line)(struct proc *p, const struct proc_line *line, void *ud);
	void (*on_exit)(struct proc *p, const struct proc_exit *ex, void *ud);
};

/* Counters, for status lines and tests. */
struct proc_stats {
	uint64_t bytes[2];	/* read per stream */
	uint64_t lines[2];	/* delivered per stream (LINES) */
	uint64_t cut[2];	/* lines delivered cut */
	size_t buffered;	/* bytes held now: partial lines, collected output */
	size_t buffered_peak;
	int running;		/* the child has not exited yet */
	int paused;
	int pid;
};

/* Spawn OPTS.argv on LOOP.  NULL and E ("cannot run 'kubectl': no such
 * file or directory") when it cannot start; the loop must still run
 * afterwards to close what was opened. */
struct proc *proc_start(uv_loop_t *loop, const struct proc_opts *opts, const struct proc_cbs *cbs,
    void *ud, struct err *e);

/* SIGTERM to the child's process group, SIGKILL after kill_grace_ms if any
 * of it still runs.  No-op once it exited or after the first call. */
void proc_kill(struct proc *p);

/* Send SIG to the child's process group now (0 when sent, -1 when it has
 * already exited). */
int proc_signal(struct proc *p, int sig);

/* Stop / start reading the child's output (backpressure). */
void proc_pause(struct proc *p);
void proc_resume(struct proc *p);

/* Counters now. */
void proc_get_stats(const struct proc *p, struct proc_stats *st);

/* Kill (if running) and free *PP; NULL-safe, NULLs *PP.  No callback runs
 * afterwards; see OWNERSHIP. */
void proc_free(struct proc **pp);

/* An exit in words into BUF: "exited with status 2", "killed by SIGKILL". */
void proc_exit_words(char *buf, size_t len, int64_t status, int sig);

#endif
