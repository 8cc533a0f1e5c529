/* logsrc.h - log line producers that need no network: files, commands,
 * standard input.
 *
 * Each struct logsrc is one source of raw lines for the log engine.  It
 * splits its input on '\n' (linebuf.h) and hands every line, bytes
 * unchanged (no decoding, no sanitising: that is logparse's job), to the
 * owner's one on_line callback with its source index and arrival time.
 * Nothing blocks the loop: file reads and stats go through libuv's thread
 * pool, one at a time per source, 64 KiB per read; commands run through
 * proc.h; standard input is a non-blocking pipe (or thread-pool reads when
 * it is a regular file).
 *
 * Kinds:
 * FILE     `tail -F`: starts at the end (or the last N bytes or lines, or
 *          the beginning: opts.start), follows appends, and follows the
 *          path, not the file: when the path names another file (rotation
 *          by rename + create) the old one is read to its end and the new
 *          one from its start; when the file shrinks (copytruncate) it is
 *          read again from 0 and a TRUNCATED event says so; when it does
 *          not exist yet, or is deleted, the source waits for it
 *          (CONNECTING, or STALE when it had data) and reads it from its
 *          start once it appears.  Changes are seen through inotify on the
 *          file's directory (uv_fs_event) and, as a fallback for
 *          filesystems where inotify says nothing, a stat every poll_ms.
 *          A last line without its newline is held, and delivered with
 *          LOGSRC_LINE_PARTIAL after partial_ms without more data; its
 *          rest then comes as a line with LOGSRC_LINE_CONT.
 *          Not seen: a copytruncate whose file grew back past our position
 *          between two looks; lines written to the old file after we
 *          noticed a rotation.
 * COMMAND  argv run through proc.h (never a shell unless argv says so);
 *          stdout and stderr lines (stderr flagged).  When it exits an
 *          EXITED event says how; with opts.restart it is started again
 *          after a backoff (1 s doubling to 60 s; back to 1 s after a run
 *          of 10 s or more).
 * STDIN    opts.fd (0 by default) when it is a pipe, socket or file; EOF is
 *          an event and the state goes IDLE ("end of input").  A terminal
 *          is refused (ERROR).  The descriptor is dup'ed, never closed, and
 *          its O_NONBLOCK flag is put back when the source is freed.
 *
 * State (enum store_state, with words): IDLE (not started, ended),
 * CONNECTING (waiting: "no such file: /var/log/app.log (waiting for it)",
 * a command started without output yet), OK (lines flow or the file is
 * followed), STALE (had data, now waiting: deleted file, command waiting
 * for its restart), ERROR (permission denied, cannot run, exited with a
 * failure and no restart).  Sources keep retrying what can come back
 * (files every poll_ms).
 *
 * CALLBACKS run from the loop, never from inside a logsrc_* call (the
 * first state event comes from the loop after logsrc_start).  Inside any
 * callback the owner may call every function here, logsrc_free of the
 * reporting source included; once logsrc_free returns, no callback runs
 * for that source.
 *
 * OWNERSHIP: logsrc_start copies the options.  The line and event structs
 * and their bytes are valid only during the callback; copy what you keep.
 * logsrc_free may leave work to finish (a thread-pool request, a child
 * being killed, handles closing): the loop must run afterwards.
 */
#ifndef SIGNALBOX_LOGSRC_H
#define SIGNALBOX_LOGSRC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"
#include "signalbox/store.h"

struct logsrc;

enum logsrc_kind {
	LOGSRC_FILE,
	LOGSRC_COMMAND,
	LOGSRC_STDIN,
};

/* Where a FILE source starts on its first open. */
enum logsrc_start {
	LOGSRC_START_END,	/* default: only what is appended from now on */
	LOGSRC_START_BEGIN,	/* the whole file */
	LOGSRC_START_BYTES,	/* the last start_n bytes (from the next line start) */
	LOGSRC_START_LINES,	/* the last start_n lines, looked for in the last
				 * start_n * 512 bytes (64 KiB to 4 MiB) */
};

/* struct logsrc_line.flags */
enum {
	LOGSRC_LINE_CUT = 1u << 0,	/* longer than max_line: DATA is the head */
	LOGSRC_LINE_PARTIAL = 1u << 1,	/* delivered without its newline (timeout, EOF, rotation) */
	LOGSRC_LINE_CONT = 1u << 2,	/* the rest of a line delivered earlier as PARTIAL */
	LOGSRC_LINE_STDERR = 1u << 3,	/* COMMAND: from the command's stderr */
};

struct logsrc_opts {
	enum logsrc_kind kind;
	const char *name;		/* for words; NULL = the path, argv[0] or "stdin" */
	uint16_t index;			/* copied into every line (the owner's source number) */
	size_t max_line;		/* longer lines are cut; 0 = 64 KiB */
	/* FILE */
	const char *path;
	enum logsrc_start start;
	uint64_t start_n;
	uint64_t poll_ms;		/* stat / retry interval; 0 = 1 s */
	uint64_t partial_ms;		/* deliver a held partial line after; 0 = 500 ms */
	/* COMMAND */
	const char *const *argv;	/* NULL-terminated */
	const char *const *env;		/* as proc_opts.env, or NULL */
	const char *cwd;
	int restart;			/* start it again when it exits */
	uint64_t restart_min_ms;	/* first backoff; 0 = 1 s */
	uint64_t restart_max_ms;	/* backoff cap; 0 = 60 s */
	/* STDIN */
	int fd;				/* 0 = standard input */
};

/* One line; valid only during the callback. */
struct logsrc_line {
	const char *data;	/* the bytes as received, without the '\n' */
	size_t len;
	uint64_t orig_len;	/* length before cutting */
	uint16_t source;	/* opts.index */
	int64_t arrival_ms;	/* wall ms when it was read */
	unsigned flags;		/* LOGSRC_LINE_* */
};

enum logsrc_event_kind {
	LOGSRC_EV_STATE,	/* the state or its words changed */
	LOGSRC_EV_ROTATED,	/* FILE: the path names a new file, read from its start */
	LOGSRC_EV_TRUNCATED,	/* FILE: the file shrank, read again from 0 */
	LOGSRC_EV_DELETED,	/* FILE: the path is gone (waiting for it) */
	LOGSRC_EV_EXITED,	/* COMMAND: the command ended (exit_status / exit_signal) */
	LOGSRC_EV_EOF,		/* STDIN: end of input */
};

/* One event; valid only during the callback. */
struct logsrc_event {
	enum logsrc_event_kind kind;
	uint16_t source;
	enum store_state state;		/* the state now */
	const char *text;		/* the state's words (STATE) or the event's */
	int64_t exit_status;		/* EXITED: status, -1 when killed by a signal */
	int exit_signal;		/* EXITED: the signal, 0 = none */
};

struct logsrc_cbs {
	void (*on_line)(struct logsrc *s, const struct logsrc_line *line, void *ud);
	void (*on_event)(struct logsrc *s, const struct logsrc_event *ev, void *ud);
};

struct logsrc_stats {
	enum store_state state;
	const char *text;	/* valid until the next call into the source */
	uint64_t lines;
	uint64_t bytes;
	uint64_t cut;		/* lines delivered cut */
	uint64_t partial;	/* lines delivered without their newline */
	uint64_t stderr_lines;
	uint64_t rotations;
	uint64_t truncations;
	uint64_t restarts;
	int64_t last_line_ms;	/* wall ms of the last line, 0 = none */
};

/* Make a source on LOOP and start it from the loop.  OPTS is copied.  NULL
 * and E when the options cannot work (no path, no command, ...). */
struct logsrc *logsrc_start(uv_loop_t *loop, const struct logsrc_opts *opts,
    const struct logsrc_cbs *cbs, void *ud, struct err *e);

/* Stop and free *SP; NULL-safe, NULLs *SP.  No callback afterwards. */
void logsrc_free(struct logsrc **sp);

/* Stop reading (backpressure; a command blocks once its pipe is full) and
 * start again.  Lines of a read already done may still come after pause. */
void logsrc_pause(struct logsrc *s);
void logsrc_resume(struct logsrc *s);

/* State and counters now. */
void logsrc_get_stats(const struct logsrc *s, struct logsrc_stats *st);

/* The source's name (opts.name or its default). */
const char *logsrc_name(const struct logsrc *s);

/* "file", "command", "stdin". */
const char *logsrc_kind_name(enum logsrc_kind kind);

#endif
