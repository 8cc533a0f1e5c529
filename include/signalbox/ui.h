/* ui.h - the terminal: curses setup, input, signals and frames.
 *
 * The only module that talks to the terminal.  It owns the curses screen,
 * one WINDOW per console region, the stdin poll, SIGWINCH/SIGINT/SIGTERM/
 * SIGHUP handlers, and a uv_check_t that draws at most one frame per loop
 * iteration, only when something is dirty, capped at the configured frame
 * rate.  No timer redraws an unchanged screen.
 *
 * The terminal is restored on every exit path: ui_stop, the xalloc fatal
 * hook, and a last-resort handler for crashes (SIGSEGV, SIGBUS, SIGFPE,
 * SIGABRT) that resets the tty and re-raises.
 */
#ifndef SIGNALBOX_UI_H
#define SIGNALBOX_UI_H

#include <uv.h>

#include "signalbox/err.h"

struct console;
struct console_ui;
struct store;
struct theme;

struct ui_opts {
	uv_loop_t *loop;
	const struct theme *theme;	/* copied */
	int fps;			/* frame cap, 1..240 */
	int mono;			/* no colours (NO_COLOR, --theme mono) */
	int exit_after_first_frame;	/* benchmarks: quit after one full frame */
};

typedef void ui_quit_fn(void *ud);

struct ui;

/* Start curses on the controlling terminal.  NULL and E when there is no
 * usable terminal (stdin/stdout not a tty, unknown TERM); the terminal is
 * left untouched then. */
struct ui *ui_new(const struct ui_opts *opts, struct err *e);

/* The callbacks the console uses (theme switch, full redraw). */
const struct console_ui *ui_console_ops(struct ui *u);

/* Show C, redraw when S changes; QUIT(UD) runs when the user quits or a
 * terminating signal arrives.  The first frame is drawn as soon as the loop
 * runs, before any timer started after this call: attach first, then start
 * the sources, and the first frame shows their initial states. */
void ui_attach(struct ui *u, struct console *c, struct store *s, ui_quit_fn *quit,
    void *ud);

/* Close every handle and restore the terminal; the loop must run once more
 * to finish closing.  Safe to call twice. */
void ui_stop(struct ui *u);

/* Free *UP after ui_stop and after the loop ran; NULL-safe. */
void ui_free(struct ui **up);

/* Whether the terminal uses UTF-8 (else ASCII line drawing). */
int ui_utf8(const struct ui *u);

#endif
