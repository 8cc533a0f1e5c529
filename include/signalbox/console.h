/* console.h - the console: panes, layout, keys, prompt and status bar.
 *
 * Everything the user sees and does, without curses: the console computes
 * a layout of regions (tab strip, main pane, detail pane, status bar,
 * command line), dispatches keys to actions, and draws each region on any
 * canvas.  src/ui gives each region a curses WINDOW; tests give it a
 * sub-canvas of an in-memory one.
 */
#ifndef SIGNALBOX_CONSOLE_H
#define SIGNALBOX_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/err.h"

struct canvas;
struct config;
struct keymap;
struct store;
struct view;
struct view_host;

enum console_region_kind {
	CONSOLE_REGION_TABS,
	CONSOLE_REGION_MAIN,
	CONSOLE_REGION_DETAIL,
	CONSOLE_REGION_SEPARATOR,
	CONSOLE_REGION_STATUS,
	CONSOLE_REGION_LINE,	/* command line / messages */
	CONSOLE_REGION_COUNT
};

struct console_region {
	enum console_region_kind kind;
	int y, x, h, w;		/* h == 0 or w == 0: not shown */
};

enum console_layout { CONSOLE_LAYOUT_AUTO, CONSOLE_LAYOUT_SPLIT, CONSOLE_LAYOUT_SINGLE };

/* What the console needs from the UI; members may be NULL. */
struct console_ui {
	void *ud;
	/* switch to theme NAME; -1 and E on failure */
	int (*set_theme)(void *ud, const char *name, struct err *e);
	/* repaint the whole terminal on the next frame (C-l) */
	void (*force_redraw)(void *ud);
};

struct console_opts {
	const struct config *cfg;
	struct store *store;
	const struct keymap *keymap;
	const struct view_host *host;
	const struct console_ui *ui;
	const char *operator_name;	/* "alice@10.0.0.7" */
	int read_only;
};

struct console;

/* Create the console and every pane of view_registry.  NULL and E when a
 * pane fails to initialise. */
struct console *console_new(const struct console_opts *opts, struct err *e);
void console_free(struct console **cp);

/* Lay out for a W x H terminal. */
void console_resize(struct console *c, int w, int h);

/* Region K (h == 0 when not shown). */
const struct console_region *console_region(const struct console *c,
    enum console_region_kind k);

/* Bumped whenever the set or geometry of regions changes. */
uint64_t console_layout_generation(const struct console *c);

/* Pull store changes into the panes and the status bar; NOW_MS is the wall
 * clock.  Returns 1 when any region needs drawing. */
int console_update(struct console *c, int64_t now_ms);

/* Whether region K needs drawing; console_draw_region clears it. */
int console_region_dirty(const struct console *c, enum console_region_kind k);

/* Mark every region dirty (after a resize or C-l). */
void console_invalidate(struct console *c);

/* Draw region K on CV (sized like the region). */
void console_draw_region(struct console *c, enum console_region_kind k,
    struct canvas *cv);

/* Draw every visible region on CV (the whole screen); for tests. */
void console_draw_all(struct console *c, struct canvas *cv);

/* Handle one key (keymap codes). */
void console_key(struct console *c, uint32_t key);

/* Run a ':' command line ("pane health"); errors become messages. */
void console_command(struct console *c, const char *line);

/* Show a message on the command line until the next key. */
void console_message(struct console *c, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Wall ms when the visible pane's text changes by time alone (ages), or 0;
 * the UI wakes then so no age on screen is ever older than it says. */
int64_t console_next_change(const struct console *c);

/* Whether the user asked to quit. */
int console_quit_requested(const struct console *c);

/* Cursor position for the command line, or -1 when no prompt is open. */
int console_cursor(const struct console *c, int *y, int *x);

/* The active pane and its index; panes are numbered from 0. */
struct view *console_active(const struct console *c);
size_t console_active_index(const struct console *c);

/* Switch to pane NAME; -1 if unknown. */
int console_show(struct console *c, const char *name);

/* Layout mode and whether the split layout is in effect now. */
int console_is_split(const struct console *c);

#endif
