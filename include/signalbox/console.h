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
struct policy;
struct policy_req;
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
	CONSOLE_REGION_DIALOG,	/* modal dialog over the others; drawn last */
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
	/* the policy for gated actions (not owned); NULL: the console makes
	 * one on first use from cfg and read_only, auditing to cfg's
	 * audit.file */
	struct policy *policy;
	/* keys this soon after a dialog opens are ignored (typed ahead, not
	 * an answer); 0 = 300 ms, < 0 = none (tests) */
	int dialog_guard_ms;
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

/* Where the terminal cursor goes: region K and the position inside it;
 * -1 when no prompt or dialog field has the focus. */
int console_cursor_in(const struct console *c, enum console_region_kind *k,
    int *y, int *x);

/* --- confirmation dialogs -------------------------------------------------
 *
 * One modal dialog at a time, drawn in CONSOLE_REGION_DIALOG over the
 * panes.  It shows a title, the plan (exactly what will happen), warnings
 * and [Cancel] [Confirm], Cancel focused: Enter on an untouched dialog
 * cancels, Esc always does, Tab, the arrows, h and l move, y moves to
 * Confirm.  A TYPED dialog adds two fields: the text to type (the
 * environment's name, exactly) and a reason; Confirm stays disabled until
 * both are valid.  With SECOND set, Confirm opens a second yes/no dialog
 * asking it.  The result goes to the opener's callback once, after the
 * dialog closed (the callback may open another). */

enum console_dialog_mode { CONSOLE_DIALOG_YESNO, CONSOLE_DIALOG_TYPED };

struct console_dialog_spec {
	const char *title;
	const char *const *plan;	/* exactly what will happen, one line each */
	size_t n_plan;
	const char *const *warnings;
	size_t n_warnings;
	enum console_dialog_mode mode;
	const char *expect;		/* TYPED: what must be typed exactly */
	const char *confirm_label;	/* the Confirm button; NULL = "Confirm" */
	const char *second;		/* NULL, or the question of a second dialog */
	int danger;			/* protected environment: the danger style */
};

struct console_dialog_result {
	int confirmed;
	int confirmations;	/* Confirm chosen this many times (2 with SECOND) */
	const char *typed;	/* TYPED: the text typed; valid during the callback */
	const char *reason;	/* TYPED: the reason; valid during the callback */
};

typedef void console_dialog_fn(void *ud, const struct console_dialog_result *r);

/* Open a dialog (SPEC's strings are copied).  -1 when one is open. */
int console_dialog_open(struct console *c, const struct console_dialog_spec *spec,
    console_dialog_fn *fn, void *ud);

/* Open the command line with TEXT typed in (":scale api " for the operator
 * to finish); nothing while a dialog is open. */
void console_prompt(struct console *c, const char *text);

/* Narrow the provider's panes to service ID (its NAME for titles); NULL
 * or "" shows every service again. */
void console_set_focus(struct console *c, const char *id, const char *name);

/* Whether a dialog is open. */
int console_dialog_is_open(const struct console *c);

/* Cancel the open dialog, if any: its callback runs now (a pending
 * console_request ends CANCELLED, audited).  console_free does this too;
 * call it first when the callbacks use something freed before the
 * console. */
void console_dialog_cancel(struct console *c);

/* --- gated actions --------------------------------------------------------
 *
 * The way a pane asks for an action that changes production or reveals a
 * secret: console_request runs the policy (policy.h) on REQ, shows the
 * refusal or the confirmation the verdict needs, and calls FN once with
 * the outcome.  When ALLOWED the pane calls the provider at once: first
 * policy_redeem(r->policy, &r->ticket, r->req, ...), then the provider
 * with what r->req says, and from the provider's callback
 * policy_done(r->policy, &ticket, ok, error, after).  REFUSED and
 * CANCELLED need nothing more: the console said so on the command line
 * and the policy audited it. */

enum console_outcome { CONSOLE_REFUSED, CONSOLE_CANCELLED, CONSOLE_ALLOWED };

struct console_request_result {
	enum console_outcome outcome;
	const char *why;		/* REFUSED: the reason, in words */
	const struct policy_req *req;	/* the request as confirmed; valid during the callback */
	struct policy *policy;		/* for policy_redeem and policy_done */
	const struct policy_ticket *ticket;	/* ALLOWED: present it to policy_redeem */
	const char *reason;		/* the operator's reason, or "" */
};

typedef void console_request_fn(void *ud, const struct console_request_result *r);

/* Check, confirm and audit REQ (copied); FN(UD, result) runs exactly once,
 * possibly before this returns (refusals, actions needing no dialog). */
void console_request(struct console *c, const struct policy_req *req,
    console_request_fn *fn, void *ud);

/* The console's policy (made on first use when console_opts had none). */
struct policy *console_policy(struct console *c);

#endif
