/* ui.c - curses on the libuv loop.
 *
 * Input: a uv_poll_t on stdin drained with wget_wch in nodelay mode.
 * Output: callbacks only mark the UI pending; a uv_check_t at the end of a
 * loop iteration asks the console what changed and redraws just those
 * regions, one wnoutrefresh per window and one doupdate() per frame, no
 * faster than the frame cap.  An idle console sleeps in the loop: the only
 * timer is the clock's, once a minute.
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <term.h>

#include "signalbox/console.h"
#include "signalbox/diag.h"
#include "signalbox/keymap.h"
#include "signalbox/loop.h"
#include "signalbox/store.h"
#include "signalbox/theme.h"
#include "signalbox/ui.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"
#include "ui/canvas_curses.h"
#include "ui/colors.h"

struct ui {
	struct ui_opts o;
	struct theme theme;
	SCREEN *screen;
	int utf8;
	int stopped;
	int stdin_flags;	/* restored at exit: uv_poll sets O_NONBLOCK */
	struct console *console;
	struct console_ui cops;
	ui_quit_fn *quit_fn;
	void *quit_ud;

	uv_poll_t stdin_poll;
	int stdin_polling;
	uv_signal_t sig_winch, sig_int, sig_term, sig_hup;
	uv_check_t check;
	struct loop_timer *frame_timer;
	struct loop_timer *clock_timer;
	struct loop_timer *wake_timer;	/* next age change on screen */
	int pending;
	uint64_t last_frame_ms;
	int frames;
	int empty_reads;

	WINDOW *wins[CONSOLE_REGION_COUNT];
	uint64_t layout_gen;
	int have_layout;
};

static struct termios ui_saved_termios;
static int ui_termios_saved;
static struct ui *ui_active;	/* for the fatal hook */

/* --- restoring the terminal on every path --------------------------------- */

static void
ui_crash_handler(int sig)
{
	static const char reset[] = "\033[0m\033[?25h\033[?1049l\r\n";
	ssize_t r;

	if (ui_termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &ui_saved_termios);
	r = write(STDOUT_FILENO, reset, sizeof reset - 1);
	(void)r;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
ui_fatal_hook(void)
{
	if (ui_active != NULL && !ui_active->stopped)
		endwin();
}

static void
ui_install_crash_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ui_crash_handler;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* --- frames --------------------------------------------------------------- */

static void
ui_free_windows(struct ui *u)
{
	int k;

	for (k = 0; k < CONSOLE_REGION_COUNT; k++) {
		if (u->wins[k] != NULL)
			delwin(u->wins[k]);
		u->wins[k] = NULL;
	}
}

static void
ui_build_windows(struct ui *u)
{
	int k;

	ui_free_windows(u);
	for (k = 0; k < CONSOLE_REGION_COUNT; k++) {
		const struct console_region *r = console_region(u->console,
		    (enum console_region_kind)k);

		if (r->h <= 0 || r->w <= 0)
			continue;
		u->wins[k] = newwin(r->h, r->w, r->y, r->x);
		if (u->wins[k] != NULL) {
			/* the cursor shows in the command line and dialog fields */
			leaveok(u->wins[k], k != CONSOLE_REGION_LINE &&
			    k != CONSOLE_REGION_DIALOG);
			scrollok(u->wins[k], FALSE);
		}
	}
	u->layout_gen = console_layout_generation(u->console);
	u->have_layout = 1;
}

static void ui_wake_cb(struct loop_timer *t, void *ud);

/* Ages on screen go out of date by time alone: wake when the first does. */
static void
ui_schedule_wake(struct ui *u)
{
	int64_t at = console_next_change(u->console), now = util_wall_ms();

	if (at <= 0) {
		loop_timer_stop(u->wake_timer);
		return;
	}
	loop_timer_start(u->wake_timer, at > now ? (uint64_t)(at - now) : 0, 0);
}

static void
ui_frame(struct ui *u)
{
	enum console_region_kind ck;
	int k, y, x, drew = 0;

	console_update(u->console, util_wall_ms());
	if (!u->have_layout || u->layout_gen != console_layout_generation(u->console)) {
		ui_build_windows(u);
		console_invalidate(u->console);
	}
	for (k = 0; k < CONSOLE_REGION_COUNT; k++) {
		struct canvas *cv;

		if (u->wins[k] == NULL || !console_region_dirty(u->console,
		    (enum console_region_kind)k))
			continue;
		cv = canvas_curses_new(u->wins[k], !u->utf8);
		console_draw_region(u->console, (enum console_region_kind)k, cv);
		canvas_curses_free(&cv);
		wnoutrefresh(u->wins[k]);
		drew = 1;
	}
	if (console_cursor_in(u->console, &ck, &y, &x) == 0 && u->wins[ck] != NULL) {
		curs_set(1);
		wmove(u->wins[ck], y, x);
		wnoutrefresh(u->wins[ck]);
		drew = 1;
	} else {
		curs_set(0);
	}
	if (drew)
		doupdate();
	ui_schedule_wake(u);
	u->frames++;
	if (u->frames == 1 && u->o.exit_after_first_frame && u->quit_fn != NULL)
		u->quit_fn(u->quit_ud);
}

static void ui_check_cb(uv_check_t *h);

static void
ui_frame_timer_cb(struct loop_timer *t, void *ud)
{
	struct ui *u = ud;

	(void)t;
	/* draw now: timers run before the poll phase, which may then block
	 * until the next event, so waiting for the check handle could hold
	 * this frame back indefinitely */
	ui_check_cb(&u->check);
}

static void
ui_check_cb(uv_check_t *h)
{
	struct ui *u = h->data;
	uint64_t now, min_gap;

	if (!u->pending || u->stopped || u->console == NULL)
		return;
	now = util_now_ms();
	min_gap = 1000 / (uint64_t)(u->o.fps > 0 ? u->o.fps : 30);
	if (u->frames > 0 && now - u->last_frame_ms < min_gap) {
		if (!loop_timer_active(u->frame_timer))
			loop_timer_start(u->frame_timer, min_gap - (now - u->last_frame_ms), 0);
		return;
	}
	u->pending = 0;
	u->last_frame_ms = now;
	ui_frame(u);
}

static void
ui_mark(struct ui *u)
{
	u->pending = 1;
}

static void
ui_store_notify(enum store_topic topic, void *ud)
{
	(void)topic;
	ui_mark(ud);
}

static void
ui_wake_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	ui_mark(ud);
}

static void
ui_clock_cb(struct loop_timer *t, void *ud)
{
	struct ui *u = ud;
	time_t now = time(NULL);

	ui_mark(u);
	/* wake at the next minute boundary, when the clock changes */
	loop_timer_start(t, (uint64_t)(60 - now % 60) * 1000 + 50, 0);
}

/* --- input ---------------------------------------------------------------- */

static uint32_t
ui_translate_code(int code)
{
	if (code >= KEY_F(1) && code <= KEY_F(12))
		return KEYC_F1 + (uint32_t)(code - KEY_F(1));
	switch (code) {
	case KEY_UP: return KEYC_UP;
	case KEY_DOWN: return KEYC_DOWN;
	case KEY_LEFT: return KEYC_LEFT;
	case KEY_RIGHT: return KEYC_RIGHT;
	case KEY_HOME: case KEY_FIND: return KEYC_HOME;
	case KEY_END: case KEY_SELECT: return KEYC_END;
	case KEY_PPAGE: return KEYC_PGUP;
	case KEY_NPAGE: return KEYC_PGDN;
	case KEY_ENTER: return KEYC_ENTER;
	case KEY_BTAB: return KEYC_BTAB;
	case KEY_BACKSPACE: return KEYC_BACKSPACE;
	case KEY_DC: return KEYC_DELETE;
	case KEY_IC: return KEYC_INSERT;
	case KEY_RESIZE: return KEYC_RESIZE;
	}
	return KEYC_NONE;
}

static uint32_t
ui_translate_char(wint_t ch)
{
	switch (ch) {
	case '\r': case '\n': return KEYC_ENTER;
	case '\t': return KEYC_TAB;
	case 127: case 8: return KEYC_BACKSPACE;
	case 27: return KEYC_ESC;
	}
	return (uint32_t)ch;
}

static void
ui_resize(struct ui *u)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resize_term(ws.ws_row, ws.ws_col);
	wnoutrefresh(stdscr);	/* see ui_new: keep stdscr clean */
	clearok(curscr, TRUE);
	u->have_layout = 0;
	console_resize(u->console, COLS, LINES);
	diag_log(DIAG_DEBUG, "resize %dx%d", COLS, LINES);
	ui_mark(u);
}

static void
ui_read_keys(struct ui *u)
{
	wint_t ch, next;
	int rc, got = 0;

	while ((rc = wget_wch(stdscr, &ch)) != ERR) {
		uint32_t key;

		got = 1;
		if (rc == KEY_CODE_YES) {
			key = ui_translate_code((int)ch);
			if (key == KEYC_RESIZE) {
				ui_resize(u);
				continue;
			}
		} else {
			key = ui_translate_char(ch);
			if (key == KEYC_ESC) {
				/* ESC followed at once by a key is Alt+key */
				rc = wget_wch(stdscr, &next);
				if (rc == OK && next != 27)
					key = KEYC_META | ui_translate_char(next);
				else if (rc == KEY_CODE_YES)
					key = ui_translate_code((int)next);
			}
		}
		if (key == KEYC_NONE)
			continue;
		console_key(u->console, key);
		ui_mark(u);
		if (console_quit_requested(u->console)) {
			if (u->quit_fn != NULL)
				u->quit_fn(u->quit_ud);
			return;
		}
	}
	/* readable with nothing to read, repeatedly: the terminal is gone */
	if (!got && ++u->empty_reads > 50) {
		diag_log(DIAG_WARN, "stdin closed; quitting");
		if (u->quit_fn != NULL)
			u->quit_fn(u->quit_ud);
	} else if (got) {
		u->empty_reads = 0;
	}
}

static void
ui_stdin_cb(uv_poll_t *h, int status, int events)
{
	struct ui *u = h->data;

	if (status < 0 || (events & UV_DISCONNECT)) {
		diag_log(DIAG_WARN, "stdin: %s", status < 0 ? uv_strerror(status) : "hung up");
		uv_poll_stop(h);
		if (u->quit_fn != NULL)
			u->quit_fn(u->quit_ud);
		return;
	}
	ui_read_keys(u);
}

static void
ui_signal_cb(uv_signal_t *h, int signum)
{
	struct ui *u = h->data;

	if (signum == SIGWINCH) {
		ui_resize(u);
		return;
	}
	diag_log(DIAG_INFO, "signal %d: quitting", signum);
	if (u->quit_fn != NULL)
		u->quit_fn(u->quit_ud);
}

/* --- console callbacks ---------------------------------------------------- */

static void
ui_theme_warn(const char *msg, void *ud)
{
	(void)ud;
	diag_log(DIAG_WARN, "%s", msg);
}

static int
ui_set_theme(void *ud, const char *name, struct err *e)
{
	struct ui *u = ud;
	struct theme t;

	memset(&t, 0, sizeof t);
	if (theme_load(&t, name, ui_theme_warn, NULL, e) != 0)
		return -1;
	u->theme = t;
	/* an explicit choice overrides NO_COLOR, as the NO_COLOR convention asks */
	colors_apply(&u->theme, 0);
	wnoutrefresh(stdscr);	/* colors_apply sets its background */
	clearok(curscr, TRUE);
	ui_mark(u);
	return 0;
}

static void
ui_force_redraw(void *ud)
{
	struct ui *u = ud;

	clearok(curscr, TRUE);
	ui_mark(u);
}

/* --- lifecycle ------------------------------------------------------------ */

struct ui *
ui_new(const struct ui_opts *opts, struct err *e)
{
	struct ui *u;
	const char *term = getenv("TERM");

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err_set(e, ERR_INVALID, "the console needs a terminal on stdin and stdout "
		    "(for scripts use 'signalbox check --json')");
		return NULL;
	}
	if (term == NULL || *term == '\0') {
		err_set(e, ERR_INVALID, "TERM is not set; set it to your terminal type "
		    "(e.g. TERM=xterm-256color)");
		return NULL;
	}
	u = xcalloc(1, sizeof *u);
	u->o = *opts;
	u->theme = *opts->theme;
	if (tcgetattr(STDIN_FILENO, &ui_saved_termios) == 0)
		ui_termios_saved = 1;
	u->stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	u->screen = newterm(NULL, stdout, stdin);
	if (u->screen == NULL) {
		err_set(e, ERR_INVALID, "cannot start the terminal for TERM=%s (is its "
		    "terminfo entry installed? try TERM=xterm)", term);
		free(u);
		return NULL;
	}
	set_term(u->screen);
	{
		const char *cup = tigetstr("cup");

		if (cup == NULL || cup == (const char *)-1) {
			endwin();
			delscreen(u->screen);
			err_set(e, ERR_INVALID, "TERM=%s cannot move the cursor; the console "
			    "needs a full-screen terminal (try TERM=xterm), or use "
			    "'signalbox check'", term);
			free(u);
			return NULL;
		}
	}
	ui_active = u;
	xalloc_set_fatal_hook(ui_fatal_hook);
	ui_install_crash_handlers();
	u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	colors_apply(&u->theme, u->o.mono);
	/* wget_wch(stdscr) refreshes stdscr whenever it is touched, which would
	 * paint it (blank) over every pane: mark it clean and never draw on it */
	wnoutrefresh(stdscr);

	u->cops.ud = u;
	u->cops.set_theme = ui_set_theme;
	u->cops.force_redraw = ui_force_redraw;

	uv_check_init(opts->loop, &u->check);
	u->check.data = u;
	uv_check_start(&u->check, ui_check_cb);
	u->frame_timer = loop_timer_new(opts->loop, ui_frame_timer_cb, u);
	u->clock_timer = loop_timer_new(opts->loop, ui_clock_cb, u);
	u->wake_timer = loop_timer_new(opts->loop, ui_wake_cb, u);
	uv_signal_init(opts->loop, &u->sig_winch);
	uv_signal_init(opts->loop, &u->sig_int);
	uv_signal_init(opts->loop, &u->sig_term);
	uv_signal_init(opts->loop, &u->sig_hup);
	u->sig_winch.data = u->sig_int.data = u->sig_term.data = u->sig_hup.data = u;
	uv_signal_start(&u->sig_winch, ui_signal_cb, SIGWINCH);
	uv_signal_start(&u->sig_int, ui_signal_cb, SIGINT);
	uv_signal_start(&u->sig_term, ui_signal_cb, SIGTERM);
	uv_signal_start(&u->sig_hup, ui_signal_cb, SIGHUP);
	if (uv_poll_init(opts->loop, &u->stdin_poll, STDIN_FILENO) == 0) {
		u->stdin_poll.data = u;
		uv_poll_start(&u->stdin_poll, UV_READABLE | UV_DISCONNECT, ui_stdin_cb);
		u->stdin_polling = 1;
	}
	return u;
}

const struct console_ui *
ui_console_ops(struct ui *u)
{
	return &u->cops;
}

int
ui_utf8(const struct ui *u)
{
	return u->utf8;
}

void
ui_attach(struct ui *u, struct console *c, struct store *s, ui_quit_fn *quit, void *ud)
{
	u->console = c;
	u->quit_fn = quit;
	u->quit_ud = ud;
	store_subscribe(s, ui_store_notify, u);
	console_resize(c, COLS, LINES);
	ui_clock_cb(u->clock_timer, u);
	ui_mark(u);
	/* The first frame comes from a 0 ms timer started here, before the
	 * caller starts its sources: it is then the first thing the loop does
	 * (timers due at once run in the order they were started), ahead of the
	 * sources' own 0 ms work (the first checks, TLS handshakes), and the poll
	 * phase cannot hold it back. */
	loop_timer_start(u->frame_timer, 0, 0);
}

void
ui_stop(struct ui *u)
{
	if (u == NULL || u->stopped)
		return;
	u->stopped = 1;
	loop_timer_free(&u->frame_timer);
	loop_timer_free(&u->clock_timer);
	loop_timer_free(&u->wake_timer);
	uv_check_stop(&u->check);
	uv_close((uv_handle_t *)&u->check, NULL);
	uv_close((uv_handle_t *)&u->sig_winch, NULL);
	uv_close((uv_handle_t *)&u->sig_int, NULL);
	uv_close((uv_handle_t *)&u->sig_term, NULL);
	uv_close((uv_handle_t *)&u->sig_hup, NULL);
	if (u->stdin_polling)
		uv_close((uv_handle_t *)&u->stdin_poll, NULL);
	ui_free_windows(u);
	curs_set(1);
	endwin();
	if (u->stdin_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, u->stdin_flags);
	xalloc_set_fatal_hook(NULL);
}

void
ui_free(struct ui **up)
{
	struct ui *u;

	if (up == NULL || *up == NULL)
		return;
	u = *up;
	*up = NULL;
	ui_stop(u);
	if (u->screen != NULL)
		delscreen(u->screen);
	if (ui_active == u)
		ui_active = NULL;
	free(u);
}
