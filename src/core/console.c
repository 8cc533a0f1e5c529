/* console.c - panes, layout, key dispatch, prompt, tab strip, status bar.
 *
 * Regions are redrawn only when what they show changed: the tab strip and
 * status bar compare their rendered text with the last one drawn, panes
 * say so through view->dirty.  Nothing here knows about curses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signalbox/audit.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/keymap.h"
#include "signalbox/policy.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/theme.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

#define CONSOLE_HISTORY 64
#define CONSOLE_LINE_MAX 256

enum prompt_kind { PROMPT_NONE, PROMPT_COMMAND = ':', PROMPT_FILTER = '/' };

#define CONSOLE_DIALOG_LINES 16
#define CONSOLE_DIALOG_WARNINGS 6
#define CONSOLE_DIALOG_TEXT 256
#define CONSOLE_DIALOG_GUARD_MS 300	/* keys sooner than this after opening are ignored */

enum dialog_focus { DIALOG_F_EXPECT, DIALOG_F_REASON, DIALOG_F_CANCEL, DIALOG_F_CONFIRM };

/* The open dialog (see console.h). */
struct console_dialog {
	int open;
	uint64_t opened_ms;	/* monotonic */
	enum console_dialog_mode mode;
	char title[CONSOLE_DIALOG_TEXT];
	char lines[CONSOLE_DIALOG_LINES][CONSOLE_DIALOG_TEXT];
	size_t n_lines;
	char warnings[CONSOLE_DIALOG_WARNINGS][CONSOLE_DIALOG_TEXT];
	size_t n_warnings;
	char expect[64];
	char expect_label[128];
	char label[32];
	char second[CONSOLE_DIALOG_TEXT];
	int twice;
	int danger;
	int step;		/* 1, or 2 while asking the second question */
	enum dialog_focus focus;
	int touched;		/* a key other than Enter and Esc was used */
	int hint_error;
	char typed[128];
	char reason[256];
	char more[96];		/* "... 3 more lines" when the plan is cut */
	int cursor_y, cursor_x;	/* caret of the focused field, -1 = none */
	console_dialog_fn *fn;
	void *ud;
};

struct console {
	struct console_opts o;
	struct view **views;
	size_t n_views, active;
	int w, h;
	enum console_layout layout;
	int split;
	struct console_region regions[CONSOLE_REGION_COUNT];
	int dirty[CONSOLE_REGION_COUNT];
	uint64_t layout_gen;
	int64_t now_ms;
	int quit;

	/* prompt */
	enum prompt_kind prompt;
	char line[CONSOLE_LINE_MAX];
	size_t line_len;
	char *history[CONSOLE_HISTORY];
	size_t n_history;
	size_t history_pos;	/* == n_history when editing a new line */

	/* message line */
	char message[CONSOLE_LINE_MAX];
	int message_error;

	/* last drawn text, to know when the bars changed */
	char tabs_text[512];
	char status_text[512];

	/* what the panes get: the caller's host with .console set */
	struct view_host host;

	/* dialogs and gated actions (policy.h) */
	struct console_dialog dialog;
	int dialog_guard_ms;
	struct policy *own_policy;	/* made by console_policy when opts had none */
	struct audit *own_audit;
	struct policy_req *pending;	/* the request a dialog is open for */
	struct policy_verdict pending_v;
	console_request_fn *pending_fn;
	void *pending_ud;
};

static void console_dialog_region(struct console *c, struct console_region *r);
static size_t console_line_visible(const char *line, size_t len);
static void console_dialog_finish(struct console *c, int confirmed);

static void
console_set_dirty(struct console *c, enum console_region_kind k)
{
	c->dirty[k] = 1;
}

static void
console_view_dirty(struct console *c)
{
	console_set_dirty(c, CONSOLE_REGION_MAIN);
	console_set_dirty(c, CONSOLE_REGION_DETAIL);
}

struct console *
console_new(const struct console_opts *opts, struct err *e)
{
	struct console *c = xcalloc(1, sizeof *c);
	size_t n = 0, i;

	c->o = *opts;
	if (opts->host != NULL)
		c->host = *opts->host;
	c->host.console = c;
	c->dialog_guard_ms = opts->dialog_guard_ms < 0 ? 0 : opts->dialog_guard_ms > 0 ?
	    opts->dialog_guard_ms : CONSOLE_DIALOG_GUARD_MS;
	while (view_registry[n] != NULL)
		n++;
	c->views = xcalloc(n ? n : 1, sizeof *c->views);
	for (i = 0; view_registry[i] != NULL; i++) {
		const struct view_ops *ops = view_registry[i];

		/* panes of parts the config does not use stay out of the tabs */
		if (ops->enabled != NULL && !ops->enabled(opts->cfg))
			continue;
		c->views[c->n_views] = view_new(ops, &c->host, opts->cfg);
		if (c->views[c->n_views] == NULL) {
			err_set(e, ERR_INTERNAL, "pane '%s' failed to start", ops->name);
			console_free(&c);
			return NULL;
		}
		c->n_views++;
	}
	c->layout = CONSOLE_LAYOUT_AUTO;
	if (opts->cfg != NULL && opts->cfg->layout != NULL) {
		if (strcmp(opts->cfg->layout, "split") == 0)
			c->layout = CONSOLE_LAYOUT_SPLIT;
		else if (strcmp(opts->cfg->layout, "single") == 0)
			c->layout = CONSOLE_LAYOUT_SINGLE;
	}
	c->history_pos = 0;
	return c;
}

void
console_free(struct console **cp)
{
	struct console *c;
	size_t i;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	*cp = NULL;
	/* an open confirmation ends as cancelled (audited), before the
	 * panes that asked for it go */
	if (c->dialog.open)
		console_dialog_finish(c, 0);
	for (i = 0; i < c->n_views; i++)
		view_free(&c->views[i]);
	policy_req_free(&c->pending);
	policy_free(&c->own_policy);
	audit_free(&c->own_audit);
	for (i = 0; i < c->n_history; i++)
		free(c->history[i]);
	free(c->views);
	free(c);
}

struct view *
console_active(const struct console *c)
{
	return c->n_views ? c->views[c->active] : NULL;
}

size_t
console_active_index(const struct console *c)
{
	return c->active;
}

int
console_is_split(const struct console *c)
{
	return c->split;
}

int64_t
console_next_change(const struct console *c)
{
	const struct view *v = console_active(c);

	return v != NULL ? v->next_change_ms : 0;
}

int
console_quit_requested(const struct console *c)
{
	return c->quit;
}

static void
console_layout(struct console *c)
{
	struct view *v = console_active(c);
	struct console_region *r = c->regions;
	int body_h, has_detail = v != NULL && v->ops->draw_detail != NULL;
	int old_split = c->split, main_w;
	struct console_region old[CONSOLE_REGION_COUNT];

	memcpy(old, c->regions, sizeof old);
	memset(c->regions, 0, sizeof c->regions);
	for (int k = 0; k < CONSOLE_REGION_COUNT; k++)
		r[k].kind = (enum console_region_kind)k;
	body_h = c->h - 3;
	if (body_h < 1 || c->w < 10) {
		/* too small for anything but a note */
		r[CONSOLE_REGION_MAIN] = (struct console_region){ CONSOLE_REGION_MAIN,
		    0, 0, c->h, c->w };
		c->split = 0;
		goto done;
	}
	switch (c->layout) {
	case CONSOLE_LAYOUT_SPLIT:
		c->split = has_detail && c->w >= 60 && body_h >= 6;
		break;
	case CONSOLE_LAYOUT_SINGLE:
		c->split = 0;
		break;
	case CONSOLE_LAYOUT_AUTO:
		c->split = has_detail && c->w >= 120 && c->h >= 30;
		break;
	}
	r[CONSOLE_REGION_TABS] = (struct console_region){ CONSOLE_REGION_TABS, 0, 0, 1, c->w };
	r[CONSOLE_REGION_STATUS] = (struct console_region){ CONSOLE_REGION_STATUS,
	    c->h - 2, 0, 1, c->w };
	r[CONSOLE_REGION_LINE] = (struct console_region){ CONSOLE_REGION_LINE,
	    c->h - 1, 0, 1, c->w };
	if (c->split) {
		main_w = c->w * 11 / 20;
		if (main_w < 50)
			main_w = 50;
		r[CONSOLE_REGION_MAIN] = (struct console_region){ CONSOLE_REGION_MAIN,
		    1, 0, body_h, main_w };
		r[CONSOLE_REGION_SEPARATOR] = (struct console_region){
		    CONSOLE_REGION_SEPARATOR, 1, main_w, body_h, 1 };
		r[CONSOLE_REGION_DETAIL] = (struct console_region){ CONSOLE_REGION_DETAIL,
		    1, main_w + 1, body_h, c->w - main_w - 1 };
	} else {
		r[CONSOLE_REGION_MAIN] = (struct console_region){ CONSOLE_REGION_MAIN,
		    1, 0, body_h, c->w };
	}
done:
	console_dialog_region(c, &r[CONSOLE_REGION_DIALOG]);
	if (memcmp(old, c->regions, sizeof old) != 0 || old_split != c->split)
		c->layout_gen++;
	console_invalidate(c);
}

void
console_resize(struct console *c, int w, int h)
{
	c->w = w;
	c->h = h;
	console_layout(c);
}

const struct console_region *
console_region(const struct console *c, enum console_region_kind k)
{
	return &c->regions[k];
}

uint64_t
console_layout_generation(const struct console *c)
{
	return c->layout_gen;
}

void
console_invalidate(struct console *c)
{
	size_t i;

	for (i = 0; i < CONSOLE_REGION_COUNT; i++)
		c->dirty[i] = 1;
	c->tabs_text[0] = '\0';
	c->status_text[0] = '\0';
}

int
console_region_dirty(const struct console *c, enum console_region_kind k)
{
	const struct console_region *r = &c->regions[k];

	return c->dirty[k] && r->h > 0 && r->w > 0;
}

/* --- tab strip and status bar text ---------------------------------------- */

static void
console_tabs_text(struct console *c, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < c->n_views && used < len; i++) {
		struct view *v = c->views[i];
		char badge[64] = "";
		int bad = 0;

		if (v->ops->badge != NULL)
			v->ops->badge(v, badge, sizeof badge, &bad);
		used += (size_t)snprintf(buf + used, len - used, "%zu|%s|%s|%d|%d;",
		    i, v->ops->title, badge, bad, i == c->active);
	}
}

static const char *
console_env_name(const struct console *c)
{
	const struct config *cfg = c->o.cfg;

	return cfg != NULL && cfg->environment != NULL ? cfg->environment : "production";
}

static int
console_env_protected(const struct console *c)
{
	const struct config *cfg = c->o.cfg;
	const struct config_environment *env;

	if (cfg == NULL)
		return 1;
	env = config_env(cfg, console_env_name(c));
	/* an environment the config does not describe is treated as protected */
	return env == NULL ? 1 : env->protected_env;
}

static void
console_clock(const struct console *c, char *buf, size_t len)
{
	time_t t = (time_t)(c->now_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M", &tm);
}

static void
console_status_text(struct console *c, char *buf, size_t len)
{
	const struct store_source *src;
	size_t i, n, used;
	char clock[16];

	console_clock(c, clock, sizeof clock);
	used = (size_t)snprintf(buf, len, "%s|%s|%d|%d|%s|", clock,
	    console_env_name(c), console_env_protected(c), c->o.read_only,
	    c->o.operator_name ? c->o.operator_name : "");
	n = c->o.store != NULL ? store_source_count(c->o.store) : 0;
	for (i = 0; i < n && used < len; i++) {
		src = store_source_at(c->o.store, i);
		used += (size_t)snprintf(buf + used, len - used, "%s=%d%s:%s;", src->name,
		    (int)src->state, src->degraded ? "d" : "", src->detail);
	}
}

int
console_update(struct console *c, int64_t now_ms)
{
	char text[512];
	size_t i;
	int any = 0, k;

	c->now_ms = now_ms;
	for (i = 0; i < c->n_views; i++) {
		struct view *v = c->views[i];

		v->now_ms = now_ms;
		if (v->ops->update != NULL && c->o.store != NULL)
			v->ops->update(v, c->o.store);
		if (v->next_change_ms != 0 && now_ms >= v->next_change_ms) {
			v->next_change_ms = 0;
			v->dirty = 1;
		}
	}
	if (console_active(c) != NULL && console_active(c)->dirty)
		console_view_dirty(c);
	console_tabs_text(c, text, sizeof text);
	if (strcmp(text, c->tabs_text) != 0)
		console_set_dirty(c, CONSOLE_REGION_TABS);
	console_status_text(c, text, sizeof text);
	if (strcmp(text, c->status_text) != 0)
		console_set_dirty(c, CONSOLE_REGION_STATUS);
	for (k = 0; k < CONSOLE_REGION_COUNT; k++)
		any |= console_region_dirty(c, (enum console_region_kind)k);
	return any;
}

/* --- drawing -------------------------------------------------------------- */

#define CONSOLE_MAX_VIEWS 16	/* tabs drawn; the registry has fewer panes */

/* Tab I's label at shrink LEVEL (see console_draw_tabs). */
static void
console_tab_label(char *buf, size_t len, size_t i, const char *title, int level)
{
	if (level <= 1)
		snprintf(buf, len, " %zu %s ", i + 1, title);
	else if (level == 2)
		snprintf(buf, len, " %zu %.3s", i + 1, title);
	else
		snprintf(buf, len, " %zu", i + 1);
}

static void
console_draw_tabs(struct console *c, struct canvas *cv)
{
	int x = 0, w = canvas_width(cv), full = 0, level;
	char badges[CONSOLE_MAX_VIEWS][64];
	int bads[CONSOLE_MAX_VIEWS];
	size_t i, n = c->n_views < CONSOLE_MAX_VIEWS ? c->n_views : CONSOLE_MAX_VIEWS;

	canvas_clear(cv, STYLE_TAB);
	console_tabs_text(c, c->tabs_text, sizeof c->tabs_text);
	for (i = 0; i < n; i++) {
		struct view *v = c->views[i];

		badges[i][0] = '\0';
		bads[i] = 0;
		if (v->ops->badge != NULL)
			v->ops->badge(v, badges[i], sizeof badges[i], &bads[i]);
	}
	/* When the strip does not fit, the tabs in the back shrink so that the
	 * one in front always shows whole: level 1 drops their quiet badges,
	 * level 2 cuts their titles to three letters, level 3 leaves them their
	 * number; a bad badge stays as a '!' from level 2 on. */
	for (level = 0; level < 4; level++) {
		full = 0;
		for (i = 0; i < n; i++) {
			int front = i == c->active;
			char label[96];

			console_tab_label(label, sizeof label, i, c->views[i]->ops->title,
			    front ? 0 : level);
			full += canvas_str_width(label, strlen(label)) + 1;
			if (badges[i][0] != '\0' && (front || level == 0 || (level == 1 && bads[i])))
				full += canvas_str_width(badges[i], strlen(badges[i])) + 2;
			else if (!front && level >= 2 && bads[i])
				full++;
		}
		if (full <= w)
			break;
	}
	for (i = 0; i < n && x < w; i++) {
		struct view *v = c->views[i];
		int front = i == c->active;
		enum style_id st = front ? STYLE_TAB_ACTIVE : STYLE_TAB;
		char label[96];

		console_tab_label(label, sizeof label, i, v->ops->title, front ? 0 : level);
		x += canvas_text(cv, 0, x, st, label);
		if (!front && level >= 2 && bads[i])
			x += canvas_text(cv, 0, x, STYLE_HEALTH_DOWN, "!");
		else if (badges[i][0] != '\0' && (front || level == 0 || (level == 1 && bads[i])))
			x += canvas_printf(cv, 0, x, -1, bads[i] ? STYLE_HEALTH_DOWN : STYLE_DIM,
			    "(%s)", badges[i]);
		if (x < w)
			x += canvas_text(cv, 0, x, STYLE_TAB, " ");
	}
	if (c->split && w - x > 14)
		canvas_text_right(cv, 0, w - 1, STYLE_DIM, "z: single");
}

static void
console_draw_status(struct console *c, struct canvas *cv)
{
	int w = canvas_width(cv), x = 0, prot = console_env_protected(c);
	const char *project = c->o.cfg && c->o.cfg->project ? c->o.cfg->project : "signalbox";
	char clock[16], env[80];
	size_t i, n;
	int need, details;

	console_status_text(c, c->status_text, sizeof c->status_text);
	canvas_clear(cv, STYLE_STATUSBAR);
	x += canvas_printf(cv, 0, x, -1, STYLE_STATUSBAR_PROJECT, " %s ", project);
	snprintf(env, sizeof env, " %s%s ", console_env_name(c), prot ? " [protected]" : "");
	x += canvas_text(cv, 0, x, prot ? STYLE_STATUSBAR_ENV_PROTECTED : STYLE_STATUSBAR_ENV, env);
	if (c->o.read_only)
		x += canvas_text(cv, 0, x, STYLE_MESSAGE_WARN, " READ-ONLY ");
	if (c->o.operator_name != NULL)
		x += canvas_printf(cv, 0, x, -1, STYLE_STATUSBAR_OPERATOR, " %s ",
		    c->o.operator_name);
	n = c->o.store != NULL ? store_source_count(c->o.store) : 0;
	/* every source's state first; the figures when they fit: all of them
	 * (details 2), those of sources that are not OK (1), or none (0) */
	for (details = 2; details > 0; details--) {
		for (i = 0, need = x + 7; i < n; i++) {
			const struct store_source *src = store_source_at(c->o.store, i);

			need += 2 + (int)strlen(src->name) + (int)strlen(src->degraded &&
			    src->state == STORE_STATE_OK ? "degraded" : store_state_name(src->state));
			if (src->detail[0] != '\0' && (details == 2 ||
			    src->state != STORE_STATE_OK || src->degraded))
				need += 1 + canvas_str_width(src->detail, strlen(src->detail));
		}
		if (need <= w)
			break;
	}
	for (i = 0; i < n && x < w - 8; i++) {
		const struct store_source *src = store_source_at(c->o.store, i);
		static const enum style_id st[] = {
			[STORE_STATE_IDLE] = STYLE_STATE_IDLE,
			[STORE_STATE_CONNECTING] = STYLE_STATE_CONNECTING,
			[STORE_STATE_OK] = STYLE_STATE_OK,
			[STORE_STATE_STALE] = STYLE_STATE_STALE,
			[STORE_STATE_ERROR] = STYLE_STATE_ERROR,
		};

		const char *word = src->degraded && src->state == STORE_STATE_OK ? "degraded" :
		    store_state_name(src->state);

		x += canvas_printf(cv, 0, x, w - 7 - x, STYLE_STATUSBAR, " %s:", src->name);
		x += canvas_textn(cv, 0, x, w - 7 - x, src->degraded && src->state ==
		    STORE_STATE_OK ? STYLE_HEALTH_DEGRADED : st[src->state], word, strlen(word));
		if (src->detail[0] != '\0' && (details == 2 || (details == 1 &&
		    (src->state != STORE_STATE_OK || src->degraded))))
			x += canvas_printf(cv, 0, x, w - 7 - x, STYLE_STATUSBAR, " %s",
			    src->detail);
	}
	console_clock(c, clock, sizeof clock);
	canvas_printf(cv, 0, w - 6, 6, STYLE_STATUSBAR_CLOCK, "%s ", clock);
}

static void
console_draw_line(struct console *c, struct canvas *cv)
{
	canvas_clear(cv, STYLE_DEFAULT);
	if (c->prompt != PROMPT_NONE) {
		int w = canvas_width(cv);
		size_t start = 0, vis;

		canvas_printf(cv, 0, 0, 1, STYLE_PROMPT, "%c", (char)c->prompt);
		/* keep the end of a long line visible, cutting at a character */
		while (start < c->line_len &&
		    canvas_str_width(c->line + start, c->line_len - start) > w - 2) {
			start++;
			while (start < c->line_len &&
			    ((unsigned char)c->line[start] & 0xc0) == 0x80)
				start++;
		}
		vis = console_line_visible(c->line, c->line_len);
		if (vis < c->line_len) {
			/* one '*' per character of the secret */
			char masked[CONSOLE_LINE_MAX];
			size_t i, o = 0;

			memcpy(masked, c->line, vis);
			o = vis;
			for (i = vis; i < c->line_len; i++)
				if (((unsigned char)c->line[i] & 0xc0) != 0x80)
					masked[o++] = '*';
			masked[o] = '\0';
			start = start < o ? start : 0;
			canvas_textn(cv, 0, 1, w - 1, STYLE_PROMPT, masked + start,
			    o - start);
			return;
		}
		canvas_textn(cv, 0, 1, w - 1, STYLE_PROMPT, c->line + start,
		    c->line_len - start);
		return;
	}
	if (c->message[0] != '\0') {
		canvas_text(cv, 0, 0, c->message_error ? STYLE_MESSAGE_ERROR : STYLE_MESSAGE,
		    c->message);
		return;
	}
	canvas_text(cv, 0, 0, STYLE_DIM,
	    "?:help  ::command  /:filter  Tab:next pane  Enter:details  q:quit");
}

static void
console_draw_small(struct console *c, struct canvas *cv)
{
	canvas_clear(cv, STYLE_DEFAULT);
	canvas_printf(cv, 0, 0, -1, STYLE_MESSAGE_WARN, "terminal too small (%dx%d)",
	    c->w, c->h);
}

static void console_draw_dialog(struct console *c, struct canvas *cv);

void
console_draw_region(struct console *c, enum console_region_kind k, struct canvas *cv)
{
	struct view *v = console_active(c);

	c->dirty[k] = 0;
	if (c->h - 3 < 1 || c->w < 10) {
		if (k == CONSOLE_REGION_MAIN)
			console_draw_small(c, cv);
		return;
	}
	switch (k) {
	case CONSOLE_REGION_TABS:
		console_draw_tabs(c, cv);
		break;
	case CONSOLE_REGION_MAIN:
		canvas_clear(cv, STYLE_DEFAULT);
		if (v == NULL)
			break;
		if (!c->split && v->detail_open && v->ops->draw_detail != NULL)
			v->ops->draw_detail(v, cv);
		else
			v->ops->draw(v, cv);
		v->dirty = 0;
		break;
	case CONSOLE_REGION_DETAIL:
		canvas_clear(cv, STYLE_DEFAULT);
		if (v != NULL && v->ops->draw_detail != NULL)
			v->ops->draw_detail(v, cv);
		break;
	case CONSOLE_REGION_SEPARATOR:
		canvas_vline(cv, 0, 0, canvas_height(cv), STYLE_BORDER);
		break;
	case CONSOLE_REGION_STATUS:
		console_draw_status(c, cv);
		break;
	case CONSOLE_REGION_LINE:
		console_draw_line(c, cv);
		break;
	case CONSOLE_REGION_DIALOG:
		if (c->dialog.open)
			console_draw_dialog(c, cv);
		break;
	case CONSOLE_REGION_COUNT:
		break;
	}
	/* the dialog lies over the other regions: after one of them is drawn
	 * it is drawn again (it comes last, in the same frame) */
	if (k != CONSOLE_REGION_DIALOG && c->dialog.open)
		c->dirty[CONSOLE_REGION_DIALOG] = 1;
}

void
console_draw_all(struct console *c, struct canvas *cv)
{
	int k;

	for (k = 0; k < CONSOLE_REGION_COUNT; k++) {
		const struct console_region *r = &c->regions[k];
		struct canvas *sub;

		if (r->h <= 0 || r->w <= 0)
			continue;
		sub = canvas_sub_new(cv, r->y, r->x, r->h, r->w);
		console_draw_region(c, (enum console_region_kind)k, sub);
		canvas_sub_free(&sub);
	}
}

int
console_cursor_in(const struct console *c, enum console_region_kind *k, int *y,
    int *x)
{
	const struct console_region *r = &c->regions[CONSOLE_REGION_LINE];
	int tw;

	if (c->prompt == PROMPT_NONE && c->dialog.open &&
	    c->regions[CONSOLE_REGION_DIALOG].h > 0 && c->dialog.cursor_y >= 0) {
		*k = CONSOLE_REGION_DIALOG;
		*y = c->dialog.cursor_y;
		*x = c->dialog.cursor_x;
		return 0;
	}
	if (c->prompt == PROMPT_NONE || r->h == 0)
		return -1;
	tw = canvas_str_width(c->line, c->line_len);
	if (tw > r->w - 2)
		tw = r->w - 2;
	*k = CONSOLE_REGION_LINE;
	*y = 0;
	*x = 1 + tw < r->w - 1 ? 1 + tw : r->w - 1;
	return 0;
}

int
console_cursor(const struct console *c, int *y, int *x)
{
	const struct console_region *r = &c->regions[CONSOLE_REGION_LINE];
	int tw;

	if (c->prompt == PROMPT_NONE && c->dialog.open) {
		enum console_region_kind k;

		if (console_cursor_in(c, &k, y, x) != 0)
			return -1;
		*y += c->regions[k].y;
		*x += c->regions[k].x;
		return 0;
	}
	if (c->prompt == PROMPT_NONE || r->h == 0)
		return -1;
	tw = canvas_str_width(c->line, c->line_len);
	if (tw > r->w - 2)
		tw = r->w - 2;
	*y = r->y;
	*x = 1 + tw < r->w - 1 ? 1 + tw : r->w - 1;
	return 0;
}

/* --- dialogs --------------------------------------------------------------
 *
 * The dialog is a list of rows computed from its content and width
 * (dialog_rows): the same list sizes the region and draws it.  Text wraps
 * at spaces; widths are measured as the wider of the UTF-8 and the ASCII
 * rendering ("→" or "->"), so the rows are the same on every terminal.
 */

enum dialog_row_kind {
	DIALOG_ROW_BLANK,
	DIALOG_ROW_TEXT,
	DIALOG_ROW_EXPECT,	/* the field for the environment's name */
	DIALOG_ROW_REASON,	/* the field for the reason */
	DIALOG_ROW_BUTTONS,
	DIALOG_ROW_HINT,
};

struct dialog_row {
	enum dialog_row_kind kind;
	const char *s;		/* TEXT: bytes of a dialog string */
	size_t len;
	enum style_id style;
	int bang;		/* TEXT: "! " before it (a warning's first row) */
	int indent;		/* TEXT: columns before it */
};

#define DIALOG_MAX_ROWS 96
#define DIALOG_MIN_W 48
#define DIALOG_MAX_W 96

static const char dialog_reason_label[] = "Reason (recorded in the audit log):";
static const char dialog_keys_hint[] = "Tab: move  Enter: choose  Esc: cancel";

/* Columns CP takes in the wider of its UTF-8 and ASCII renderings. */
static int
dialog_cp_width(uint32_t cp)
{
	if (cp == 0x2192)	/* → */
		return 2;
	if (cp == 0x2026)	/* … */
		return 3;
	if (text_cp_is_control(cp))
		return 1;
	return text_cp_width(cp);
}

static int
dialog_str_width(const char *s, size_t n)
{
	size_t i = 0, step;
	uint32_t cp;
	int w = 0;

	while (i < n && s[i] != '\0') {
		step = text_decode(s + i, n - i, &cp);
		w += dialog_cp_width(cp);
		i += step;
	}
	return w;
}

/* Cut S into rows of at most WIDTH columns at spaces (inside a word when
 * one is wider); START/LEN get each row.  Returns the row count. */
static size_t
dialog_wrap(const char *s, int width, size_t *start, size_t *len, size_t max)
{
	size_t n = strlen(s), i = 0, count = 0, j, end, step, space;
	uint32_t cp;
	int w, cw;

	if (width < 1)
		width = 1;
	while (i < n && count < max) {
		if (count > 0)
			while (i < n && s[i] == ' ')
				i++;
		if (i >= n)
			break;
		j = i;
		w = 0;
		space = 0;
		while (j < n) {
			step = text_decode(s + j, n - j, &cp);
			cw = dialog_cp_width(cp);
			if (w + cw > width)
				break;
			if (cp == ' ')
				space = j;
			w += cw;
			j += step;
		}
		if (j >= n)
			end = n;
		else if (space > i)
			end = space;
		else if (j > i)
			end = j;
		else
			end = i + text_decode(s + i, n - i, &cp);
		start[count] = i;
		len[count] = end - i;
		count++;
		i = end;
	}
	return count;
}

/* Draw N bytes of S; an ASCII canvas gets "->", "..." and "x" for the
 * arrows, ellipses and multiplication signs dialog texts use. */
static int
dialog_text(struct canvas *cv, int y, int x, int maxw, enum style_id st,
    const char *s, size_t n)
{
	char buf[1024];
	size_t i = 0, o = 0, step;
	uint32_t cp;

	if (!cv->ascii)
		return canvas_textn(cv, y, x, maxw, st, s, n);
	while (i < n && s[i] != '\0' && o + 4 < sizeof buf) {
		step = text_decode(s + i, n - i, &cp);
		if (cp == 0x2192) {
			memcpy(buf + o, "->", 2);
			o += 2;
		} else if (cp == 0x2026) {
			memcpy(buf + o, "...", 3);
			o += 3;
		} else if (cp == 0xd7) {
			buf[o++] = 'x';
		} else {
			memcpy(buf + o, s + i, step);
			o += step;
		}
		i += step;
	}
	return canvas_textn(cv, y, x, maxw, st, buf, o);
}

static int
dialog_reason_ok(const struct console_dialog *d)
{
	const char *r;

	for (r = d->reason; *r == ' '; r++)
		;
	return *r != '\0';
}

/* Whether Confirm may be chosen now. */
static int
dialog_valid(const struct console_dialog *d)
{
	if (d->mode != CONSOLE_DIALOG_TYPED || d->step > 1)
		return 1;
	return strcmp(d->typed, d->expect) == 0 && dialog_reason_ok(d);
}

static int
dialog_typed_step(const struct console_dialog *d)
{
	return d->mode == CONSOLE_DIALOG_TYPED && d->step == 1;
}

static void
dialog_hint(const struct console_dialog *d, char *buf, size_t len)
{
	if (dialog_typed_step(d) && !dialog_valid(d))
		snprintf(buf, len, "Type %s and a reason to enable %s; Esc cancels.",
		    d->expect, d->label);
	else
		snprintf(buf, len, "%s", dialog_keys_hint);
}

static size_t
dialog_add(struct dialog_row *rows, size_t n, enum dialog_row_kind kind,
    const char *s, size_t len, enum style_id st, int bang, int indent)
{
	if (n >= DIALOG_MAX_ROWS)
		return n;
	rows[n].kind = kind;
	rows[n].s = s;
	rows[n].len = len;
	rows[n].style = st;
	rows[n].bang = bang;
	rows[n].indent = indent;
	return n + 1;
}

/* Add S wrapped to WIDTH (at most MAX rows). */
static size_t
dialog_add_text(struct dialog_row *rows, size_t n, const char *s, int width,
    enum style_id st, int bang, size_t max)
{
	size_t start[DIALOG_MAX_ROWS], len[DIALOG_MAX_ROWS], k, cnt;
	int indent = bang ? 2 : 0;

	cnt = dialog_wrap(s, width - indent, start, len,
	    max < DIALOG_MAX_ROWS ? max : DIALOG_MAX_ROWS);
	for (k = 0; k < cnt; k++)
		n = dialog_add(rows, n, DIALOG_ROW_TEXT, s + start[k], len[k], st,
		    bang && k == 0, indent);
	return n;
}

/* The rows of D at INNER columns, fitting MAX_ROWS (the plan is cut
 * first, with a note saying how much).  Returns the row count. */
static size_t
dialog_rows(struct console_dialog *d, int inner, struct dialog_row *rows,
    int max_rows)
{
	struct dialog_row plan[DIALOG_MAX_ROWS];
	size_t n = 0, np = 0, i, fixed, keep;

	/* the plan (or the second question) */
	if (d->step > 1) {
		np = dialog_add_text(plan, np, d->second, inner, STYLE_DIALOG_TITLE, 0,
		    DIALOG_MAX_ROWS);
		np = dialog_add_text(plan, np, "(second confirmation)", inner, STYLE_DIALOG,
		    0, DIALOG_MAX_ROWS - np);
	} else {
		for (i = 0; i < d->n_lines; i++)
			np = dialog_add_text(plan, np, d->lines[i], inner, STYLE_DIALOG, 0,
			    DIALOG_MAX_ROWS - np);
	}
	/* everything else, to know what the plan may use */
	n = dialog_add(rows, n, DIALOG_ROW_BLANK, NULL, 0, STYLE_DIALOG, 0, 0);
	fixed = 1;
	if (d->step == 1 && d->n_warnings > 0) {
		n = dialog_add(rows, n, DIALOG_ROW_BLANK, NULL, 0, STYLE_DIALOG, 0, 0);
		for (i = 0; i < d->n_warnings; i++)
			n = dialog_add_text(rows, n, d->warnings[i], inner, STYLE_DIALOG_WARN,
			    1, DIALOG_MAX_ROWS - n);
	}
	if (dialog_typed_step(d)) {
		n = dialog_add(rows, n, DIALOG_ROW_BLANK, NULL, 0, STYLE_DIALOG, 0, 0);
		n = dialog_add_text(rows, n, d->expect_label, inner, STYLE_DIALOG, 0,
		    DIALOG_MAX_ROWS - n);
		n = dialog_add(rows, n, DIALOG_ROW_EXPECT, NULL, 0, STYLE_DIALOG_FIELD, 0, 0);
		n = dialog_add_text(rows, n, dialog_reason_label, inner, STYLE_DIALOG, 0,
		    DIALOG_MAX_ROWS - n);
		n = dialog_add(rows, n, DIALOG_ROW_REASON, NULL, 0, STYLE_DIALOG_FIELD, 0, 0);
	}
	n = dialog_add(rows, n, DIALOG_ROW_BLANK, NULL, 0, STYLE_DIALOG, 0, 0);
	n = dialog_add(rows, n, DIALOG_ROW_BUTTONS, NULL, 0, STYLE_DIALOG, 0, 0);
	n = dialog_add(rows, n, DIALOG_ROW_HINT, NULL, 0, STYLE_DIALOG, 0, 0);
	fixed = n;
	/* the plan goes after the first blank row, cut to what fits */
	keep = np;
	if (max_rows > 0 && fixed + np > (size_t)max_rows) {
		keep = (size_t)max_rows > fixed + 1 ? (size_t)max_rows - fixed - 1 : 0;
		if (keep > np)
			keep = np;
	}
	if (n + 1 >= DIALOG_MAX_ROWS)
		return n;	/* cannot happen with the limits above */
	if (n + keep + 1 > DIALOG_MAX_ROWS)
		keep = DIALOG_MAX_ROWS - n - 1;
	memmove(rows + 1 + keep + (keep < np), rows + 1, (n - 1) * sizeof *rows);
	memcpy(rows + 1, plan, keep * sizeof *rows);
	if (keep < np) {
		snprintf(d->more, sizeof d->more, "… %zu more line%s (a larger terminal "
		    "shows them)", np - keep, np - keep == 1 ? "" : "s");
		rows[1 + keep] = (struct dialog_row){ DIALOG_ROW_TEXT, d->more,
		    strlen(d->more), STYLE_DIALOG_WARN, 0, 0 };
		n++;
	}
	return n + keep;
}

/* The region of the open dialog: centred over the panes. */
static void
console_dialog_region(struct console *c, struct console_region *r)
{
	struct console_dialog *d = &c->dialog;
	struct dialog_row rows[DIALOG_MAX_ROWS];
	int avail_h = c->h - 2, cap, want, i, dw, dh;
	size_t n;
	char hint[256];

	memset(r, 0, sizeof *r);
	r->kind = CONSOLE_REGION_DIALOG;
	if (!d->open || avail_h < 3 || c->w < 10)
		return;
	/* as wide as its longest line, within limits */
	want = dialog_str_width(d->title, strlen(d->title)) + 8;
	for (i = 0; i < (int)d->n_lines; i++)
		if (dialog_str_width(d->lines[i], strlen(d->lines[i])) + 4 > want)
			want = dialog_str_width(d->lines[i], strlen(d->lines[i])) + 4;
	for (i = 0; i < (int)d->n_warnings; i++)
		if (dialog_str_width(d->warnings[i], strlen(d->warnings[i])) + 6 > want)
			want = dialog_str_width(d->warnings[i], strlen(d->warnings[i])) + 6;
	dialog_hint(d, hint, sizeof hint);
	if (dialog_str_width(hint, strlen(hint)) + 4 > want)
		want = dialog_str_width(hint, strlen(hint)) + 4;
	cap = c->w >= DIALOG_MIN_W + 4 ? c->w - 4 : c->w;
	if (cap > DIALOG_MAX_W)
		cap = DIALOG_MAX_W;
	dw = want < DIALOG_MIN_W ? DIALOG_MIN_W : want;
	if (dw > cap)
		dw = cap;
	n = dialog_rows(d, dw - 4, rows, avail_h - 2);
	dh = (int)n + 2;
	if (dh > avail_h)
		dh = avail_h;
	r->w = dw;
	r->h = dh;
	r->x = (c->w - dw) / 2;
	r->y = (avail_h - dh) / 2;
}

static void
console_dialog_draw_field(struct console_dialog *d, struct canvas *cv, int y,
    int inner, const char *text, int focused)
{
	int fw = inner - 2, tw, x = 3;
	size_t start = 0, len = strlen(text);

	canvas_text(cv, y, 2, STYLE_DIALOG_FIELD, "[");
	canvas_fill(cv, y, 3, 1, fw, STYLE_DIALOG_FIELD);
	/* keep the end visible, with room for the caret */
	while (start < len && canvas_str_width(text + start, len - start) > fw - 1) {
		start++;
		while (start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
			start++;
	}
	tw = canvas_textn(cv, y, x, fw, STYLE_DIALOG_FIELD, text + start, len - start);
	if (focused && tw < fw)
		canvas_text(cv, y, x + tw, STYLE_DIALOG_FOCUS, "_");
	if (focused) {
		d->cursor_y = y;
		d->cursor_x = x + tw;
	}
	canvas_text(cv, y, 3 + fw, STYLE_DIALOG_FIELD, "]");
}

static void
console_dialog_draw_buttons(struct console_dialog *d, struct canvas *cv, int y,
    int inner)
{
	char cancel[48], confirm[48];
	int valid = dialog_valid(d), cw, fw, x;
	enum style_id st;

	snprintf(cancel, sizeof cancel, d->focus == DIALOG_F_CANCEL ? "[>Cancel<]" :
	    "[ Cancel ]");
	snprintf(confirm, sizeof confirm, d->focus == DIALOG_F_CONFIRM ? "[>%s<]" :
	    "[ %s ]", d->label);
	cw = canvas_str_width(cancel, strlen(cancel));
	fw = canvas_str_width(confirm, strlen(confirm));
	x = 2 + (inner - cw - 2 - fw) / 2;
	if (x < 2)
		x = 2;
	canvas_text(cv, y, x, d->focus == DIALOG_F_CANCEL ? STYLE_DIALOG_FOCUS :
	    STYLE_DIALOG_BUTTON, cancel);
	st = !valid ? STYLE_DIALOG_DISABLED : d->focus == DIALOG_F_CONFIRM ?
	    STYLE_DIALOG_FOCUS : STYLE_DIALOG_BUTTON;
	canvas_text(cv, y, x + cw + 2, st, confirm);
}

static void
console_draw_dialog(struct console *c, struct canvas *cv)
{
	struct console_dialog *d = &c->dialog;
	struct dialog_row rows[DIALOG_MAX_ROWS];
	int w = canvas_width(cv), h = canvas_height(cv), inner = w - 4, y, x;
	enum style_id bst = d->danger ? STYLE_DIALOG_DANGER : STYLE_DIALOG_BORDER;
	enum style_id tst = d->danger ? STYLE_DIALOG_DANGER : STYLE_DIALOG_TITLE;
	size_t n, i;
	char hint[256];

	canvas_clear(cv, STYLE_DIALOG);
	d->cursor_y = d->cursor_x = -1;
	if (w < 4 || h < 2)
		return;
	canvas_text(cv, 0, 0, bst, canvas_glyph(cv, CANVAS_GLYPH_CORNER_TL));
	canvas_hline(cv, 0, 1, w - 2, bst);
	canvas_text(cv, 0, w - 1, bst, canvas_glyph(cv, CANVAS_GLYPH_CORNER_TR));
	canvas_text(cv, h - 1, 0, bst, canvas_glyph(cv, CANVAS_GLYPH_CORNER_BL));
	canvas_hline(cv, h - 1, 1, w - 2, bst);
	canvas_text(cv, h - 1, w - 1, bst, canvas_glyph(cv, CANVAS_GLYPH_CORNER_BR));
	canvas_vline(cv, 1, 0, h - 2, bst);
	canvas_vline(cv, 1, w - 1, h - 2, bst);
	x = 2;
	x += canvas_text(cv, 0, x, tst, " ");
	x += dialog_text(cv, 0, x, w - 3 - x, tst, d->title, strlen(d->title));
	canvas_textn(cv, 0, x, w - 2 - x, tst, " ", 1);

	n = dialog_rows(d, inner, rows, h - 2);
	for (i = 0; i < n && (int)i < h - 2; i++) {
		const struct dialog_row *r = &rows[i];

		y = 1 + (int)i;
		switch (r->kind) {
		case DIALOG_ROW_BLANK:
			break;
		case DIALOG_ROW_TEXT:
			x = 2;
			if (r->bang)
				canvas_text(cv, y, x, r->style, "!");
			x += r->indent;
			dialog_text(cv, y, x, inner - r->indent, r->style, r->s, r->len);
			break;
		case DIALOG_ROW_EXPECT:
			console_dialog_draw_field(d, cv, y, inner, d->typed,
			    d->focus == DIALOG_F_EXPECT);
			break;
		case DIALOG_ROW_REASON:
			console_dialog_draw_field(d, cv, y, inner, d->reason,
			    d->focus == DIALOG_F_REASON);
			break;
		case DIALOG_ROW_BUTTONS:
			console_dialog_draw_buttons(d, cv, y, inner);
			break;
		case DIALOG_ROW_HINT:
			dialog_hint(d, hint, sizeof hint);
			dialog_text(cv, y, 2, inner, d->hint_error ? STYLE_DIALOG_WARN :
			    STYLE_DIM, hint, strlen(hint));
			break;
		}
	}
}

int
console_dialog_is_open(const struct console *c)
{
	return c->dialog.open;
}

void
console_dialog_cancel(struct console *c)
{
	if (c->dialog.open)
		console_dialog_finish(c, 0);
}

int
console_dialog_open(struct console *c, const struct console_dialog_spec *spec,
    console_dialog_fn *fn, void *ud)
{
	struct console_dialog *d = &c->dialog;
	size_t i;

	if (d->open)
		return -1;
	memset(d, 0, sizeof *d);
	d->open = 1;
	d->opened_ms = util_now_ms();
	d->mode = spec->mode;
	d->step = 1;
	d->fn = fn;
	d->ud = ud;
	d->danger = spec->danger;
	util_strlcpy(d->title, spec->title != NULL ? spec->title : "Confirm",
	    sizeof d->title);
	for (i = 0; i < spec->n_plan && d->n_lines < CONSOLE_DIALOG_LINES; i++)
		if (spec->plan[i] != NULL)
			util_strlcpy(d->lines[d->n_lines++], spec->plan[i],
			    sizeof d->lines[0]);
	for (i = 0; i < spec->n_warnings && d->n_warnings < CONSOLE_DIALOG_WARNINGS; i++)
		if (spec->warnings[i] != NULL)
			util_strlcpy(d->warnings[d->n_warnings++], spec->warnings[i],
			    sizeof d->warnings[0]);
	util_strlcpy(d->label, spec->confirm_label != NULL ? spec->confirm_label :
	    "Confirm", sizeof d->label);
	if (spec->second != NULL)
		util_strlcpy(d->second, spec->second, sizeof d->second);
	d->twice = spec->second != NULL;
	if (d->mode == CONSOLE_DIALOG_TYPED) {
		util_strlcpy(d->expect, spec->expect != NULL ? spec->expect : "",
		    sizeof d->expect);
		snprintf(d->expect_label, sizeof d->expect_label, "Type %s to confirm:",
		    d->expect);
		d->focus = DIALOG_F_EXPECT;
	} else {
		d->focus = DIALOG_F_CANCEL;
	}
	console_layout(c);
	return 0;
}

/* Wipe S (what an operator typed stays out of freed or reused memory). */
static void
dialog_wipe(char *s, size_t len)
{
	volatile char *v = s;

	while (len-- > 0)
		*v++ = '\0';
}

static void
console_dialog_finish(struct console *c, int confirmed)
{
	struct console_dialog *d = &c->dialog;
	struct console_dialog_result r;
	console_dialog_fn *fn = d->fn;
	void *ud = d->ud;
	char typed[sizeof d->typed], reason[sizeof d->reason];

	memcpy(typed, d->typed, sizeof typed);
	memcpy(reason, d->reason, sizeof reason);
	memset(&r, 0, sizeof r);
	r.confirmed = confirmed;
	r.confirmations = confirmed ? d->step : d->step - 1;
	r.typed = typed;
	r.reason = reason;
	dialog_wipe(d->typed, sizeof d->typed);
	dialog_wipe(d->reason, sizeof d->reason);
	d->open = 0;
	console_layout(c);	/* the panes under it are drawn again */
	if (fn != NULL)
		fn(ud, &r);
	dialog_wipe(typed, sizeof typed);
	dialog_wipe(reason, sizeof reason);
}

/* Focus order: the fields (TYPED), Cancel, Confirm when it can be chosen. */
static void
dialog_move(struct console_dialog *d, int dir)
{
	enum dialog_focus order[4];
	int n = 0, i, cur = 0;

	if (dialog_typed_step(d)) {
		order[n++] = DIALOG_F_EXPECT;
		order[n++] = DIALOG_F_REASON;
	}
	order[n++] = DIALOG_F_CANCEL;
	if (dialog_valid(d))
		order[n++] = DIALOG_F_CONFIRM;
	for (i = 0; i < n; i++)
		if (order[i] == d->focus)
			cur = i;
	d->focus = order[(cur + n + dir) % n];
}

static void
dialog_field_key(struct console_dialog *d, uint32_t key)
{
	char *buf = d->focus == DIALOG_F_EXPECT ? d->typed : d->reason;
	size_t cap = d->focus == DIALOG_F_EXPECT ? sizeof d->typed : sizeof d->reason;
	size_t len = strlen(buf), n;
	char enc[4];

	if (key == KEYC_BACKSPACE || key == 8 || key == 127) {
		while (len > 0) {
			len--;
			if (((unsigned char)buf[len] & 0xc0) != 0x80)
				break;
		}
		buf[len] = '\0';
	} else if (key == 21) {		/* C-u */
		dialog_wipe(buf, cap);
	} else if (key >= 0x20 && key < 0x110000 && key != 0x7f) {
		n = text_encode(key, enc);
		if (len + n < cap) {
			memcpy(buf + len, enc, n);
			buf[len + n] = '\0';
		}
	}
}

static void
console_dialog_confirm(struct console *c)
{
	struct console_dialog *d = &c->dialog;

	if (!dialog_valid(d)) {
		d->hint_error = 1;
		return;
	}
	if (d->twice && d->step == 1) {
		/* ask again, from Cancel */
		d->step = 2;
		d->focus = DIALOG_F_CANCEL;
		d->touched = 0;
		d->hint_error = 0;
		console_layout(c);
		return;
	}
	console_dialog_finish(c, 1);
}

static void
console_dialog_key(struct console *c, uint32_t key)
{
	struct console_dialog *d = &c->dialog;
	int in_field = dialog_typed_step(d) &&
	    (d->focus == DIALOG_F_EXPECT || d->focus == DIALOG_F_REASON);

	console_set_dirty(c, CONSOLE_REGION_DIALOG);
	if (key == KEYC_ESC || key == 7) {	/* Esc, C-g */
		console_dialog_finish(c, 0);
		return;
	}
	/* keys typed ahead, before the dialog could be read, do nothing */
	if (c->dialog_guard_ms > 0 &&
	    util_now_ms() - d->opened_ms < (uint64_t)c->dialog_guard_ms)
		return;
	switch (key) {
	case KEYC_ENTER:
	case '\n':
	case '\r':
		if (!d->touched || d->focus == DIALOG_F_CANCEL) {
			/* Enter on an untouched dialog is Cancel */
			console_dialog_finish(c, 0);
		} else if (d->focus == DIALOG_F_CONFIRM) {
			console_dialog_confirm(c);
		} else if (d->focus == DIALOG_F_EXPECT) {
			d->focus = DIALOG_F_REASON;
		} else if (dialog_valid(d)) {
			d->focus = DIALOG_F_CONFIRM;
		} else {
			d->hint_error = 1;
		}
		return;
	case KEYC_TAB:
	case KEYC_DOWN:
		dialog_move(d, 1);
		break;
	case KEYC_BTAB:
	case KEYC_UP:
		dialog_move(d, -1);
		break;
	case KEYC_LEFT:
	case KEYC_RIGHT:
		if (in_field)
			return;
		dialog_move(d, key == KEYC_RIGHT ? 1 : -1);
		break;
	default:
		if (in_field) {
			dialog_field_key(d, key);
			d->hint_error = 0;
			break;
		}
		if (key == ' ' && d->touched) {
			if (d->focus == DIALOG_F_CONFIRM)
				console_dialog_confirm(c);
			else
				console_dialog_finish(c, 0);
			return;
		}
		if (key == 'y' || key == 'Y') {
			if (dialog_valid(d))
				d->focus = DIALOG_F_CONFIRM;
			else
				d->hint_error = 1;
		} else if (key == 'n' || key == 'N' || key == 'q') {
			console_dialog_finish(c, 0);
			return;
		} else if (key == 'h' || key == 'l') {
			dialog_move(d, key == 'l' ? 1 : -1);
		} else {
			return;	/* other keys do nothing, and touch nothing */
		}
		break;
	}
	d->touched = 1;
	/* the hint line may change the width it needs: keep the geometry */
}

/* --- gated actions ------------------------------------------------------- */

struct policy *
console_policy(struct console *c)
{
	struct policy_opts po;
	const struct config *cfg = c->o.cfg;

	if (c->o.policy != NULL)
		return c->o.policy;
	if (c->own_policy == NULL) {
		c->own_audit = audit_open(cfg != NULL ? cfg->audit_file : NULL,
		    cfg != NULL ? cfg->audit_fsync : 1);
		memset(&po, 0, sizeof po);
		po.cfg = cfg;
		po.read_only = c->o.read_only;
		po.audit = c->own_audit;
		c->own_policy = policy_new(&po);
	}
	return c->own_policy;
}

static const char *
console_action_name(enum action a)
{
	const struct action_info *ai = action_info(a);

	return ai != NULL ? ai->name : "action";
}

static void
console_request_answered(void *ud, const struct console_dialog_result *dr)
{
	struct console *c = ud;
	struct policy_req *req = c->pending;
	console_request_fn *fn = c->pending_fn;
	void *fud = c->pending_ud;
	struct console_request_result r;
	struct policy_answer a;
	struct policy_ticket t;
	struct err e;

	c->pending = NULL;
	c->pending_fn = NULL;
	c->pending_ud = NULL;
	if (req == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.req = req;
	r.policy = console_policy(c);
	r.reason = dr->reason != NULL ? dr->reason : "";
	a.confirmations = dr->confirmations;
	a.typed = dr->typed;
	a.reason = dr->reason;
	if (!dr->confirmed) {
		policy_cancel(r.policy, req, &a);
		r.outcome = CONSOLE_CANCELLED;
		console_message(c, 0, "%s cancelled: nothing was changed",
		    console_action_name(req->action));
	} else if (policy_issue(r.policy, req, &a, &t, &e) != 0) {
		r.outcome = CONSOLE_REFUSED;
		r.why = e.msg;
		console_message(c, 1, "%s %s", console_action_name(req->action), e.msg);
	} else {
		r.outcome = CONSOLE_ALLOWED;
		r.ticket = &t;
		console_message(c, 0, "%s: confirmed", console_action_name(req->action));
	}
	if (fn != NULL)
		fn(fud, &r);
	policy_req_free(&req);
}

void
console_request(struct console *c, const struct policy_req *req,
    console_request_fn *fn, void *ud)
{
	struct policy *p = console_policy(c);
	struct policy_verdict *v = &c->pending_v;
	struct console_request_result r;
	struct console_dialog_spec spec;
	const char *lines[POLICY_MAX_PLAN], *warns[POLICY_MAX_WARNINGS];
	const char *name = console_action_name(req->action);
	struct policy_ticket t;
	struct err e;
	size_t i;

	memset(&r, 0, sizeof r);
	r.req = req;
	r.policy = p;
	r.reason = "";
	if (c->dialog.open || c->pending != NULL) {
		r.outcome = CONSOLE_REFUSED;
		r.why = "another confirmation is open: finish it first";
		policy_refuse(p, req, r.why);
		console_message(c, 1, "%s refused: %s", name, r.why);
		fn(ud, &r);
		return;
	}
	if (policy_submit(p, req, v) != 0) {
		r.outcome = CONSOLE_REFUSED;
		r.why = v->reason;
		console_message(c, 1, "%s refused: %s", name, v->reason);
		fn(ud, &r);
		return;
	}
	if (!action_is_gated(req->action)) {
		/* nothing to check: it changes nothing (no ticket) */
		r.outcome = CONSOLE_ALLOWED;
		fn(ud, &r);
		return;
	}
	if (v->confirm == POLICY_CONFIRM_NONE) {
		if (policy_issue(p, req, NULL, &t, &e) != 0) {
			r.outcome = CONSOLE_REFUSED;
			r.why = e.msg;
			console_message(c, 1, "%s %s", name, e.msg);
		} else {
			r.outcome = CONSOLE_ALLOWED;
			r.ticket = &t;
		}
		fn(ud, &r);
		return;
	}
	for (i = 0; i < v->n_plan; i++)
		lines[i] = v->plan[i];
	for (i = 0; i < v->n_warnings; i++)
		warns[i] = v->warnings[i];
	memset(&spec, 0, sizeof spec);
	spec.title = v->title;
	spec.plan = lines;
	spec.n_plan = v->n_plan;
	spec.warnings = warns;
	spec.n_warnings = v->n_warnings;
	spec.mode = v->confirm == POLICY_CONFIRM_TYPED ? CONSOLE_DIALOG_TYPED :
	    CONSOLE_DIALOG_YESNO;
	spec.expect = v->env;
	spec.confirm_label = v->verb;
	spec.second = v->confirm_twice ? v->second : NULL;
	spec.danger = v->protected_env;
	c->pending = policy_req_dup(req);
	c->pending_fn = fn;
	c->pending_ud = ud;
	console_dialog_open(c, &spec, console_request_answered, c);
}

/* --- messages and commands ------------------------------------------------ */

void
console_message(struct console *c, int is_error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->message, sizeof c->message, fmt, ap);
	va_end(ap);
	c->message_error = is_error;
	console_set_dirty(c, CONSOLE_REGION_LINE);
}

static void
console_select(struct console *c, size_t i)
{
	if (i >= c->n_views || i == c->active)
		return;
	c->active = i;
	c->views[i]->dirty = 1;
	console_layout(c);	/* split depends on whether the pane has details */
}

int
console_show(struct console *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_views; i++) {
		if (strcmp(c->views[i]->ops->name, name) == 0) {
			console_select(c, i);
			return 0;
		}
	}
	return -1;
}

static const struct {
	const char *alias;
	const char *name;
} command_aliases[] = {
	{ "q", "quit" }, { "q!", "quit" }, { "exit", "quit" }, { "h", "help" },
	{ "check", "check-now" }, { "set", "var-set" }, { "unset", "var-delete" },
	{ "reveal", "var-reveal" },
};

static void
console_run_action(struct console *c, enum action a, const struct key_event *ev);

static void
console_command_in(struct console *c, const char *line, char *buf, size_t len);

void
console_command(struct console *c, const char *line)
{
	char buf[CONSOLE_LINE_MAX];

	console_command_in(c, line, buf, sizeof buf);
	/* the argument may be a secret (:var-set NAME VALUE) */
	dialog_wipe(buf, sizeof buf);
}

static void
console_command_in(struct console *c, const char *line, char *buf, size_t len)
{
	char *name, *arg, *end;
	struct key_event ev = { KEYC_NONE, NULL };
	enum action a;
	size_t i;

	util_strlcpy(buf, line, len);
	name = buf;
	while (*name == ' ' || *name == ':')
		name++;
	if (*name == '\0')
		return;
	arg = name + strcspn(name, " ");
	if (*arg != '\0') {
		*arg++ = '\0';
		while (*arg == ' ')
			arg++;
		end = arg + strlen(arg);
		while (end > arg && end[-1] == ' ')
			*--end = '\0';
	}
	for (i = 0; i < ARRAY_LEN(command_aliases); i++)
		if (strcmp(name, command_aliases[i].alias) == 0)
			name = (char *)command_aliases[i].name;
	a = action_lookup(name);
	if (a == ACTION_NONE) {
		const char *best = NULL;
		int bestd = 3, d, k;

		for (k = 1; k < ACTION_COUNT; k++) {
			d = util_edit_distance(name, action_info((enum action)k)->name, 2);
			if (d < bestd) {
				bestd = d;
				best = action_info((enum action)k)->name;
			}
		}
		if (best != NULL)
			console_message(c, 1, "unknown command '%s' (did you mean '%s'?)",
			    name, best);
		else
			console_message(c, 1, "unknown command '%s' (? lists every command)",
			    name);
		return;
	}
	ev.arg = *arg != '\0' ? arg : NULL;
	console_run_action(c, a, &ev);
}

/* The action LINE (a ':' command line) runs, through the aliases. */
static enum action
console_line_action(const char *line)
{
	char name[64];
	size_t i;

	while (*line == ' ' || *line == ':')
		line++;
	util_strlcpy(name, line, sizeof name);
	name[strcspn(name, " ")] = '\0';
	for (i = 0; i < ARRAY_LEN(command_aliases); i++)
		if (strcmp(name, command_aliases[i].alias) == 0)
			return action_lookup(command_aliases[i].name);
	return action_lookup(name);
}

/* Bytes of LINE shown as typed; the rest (a secret argument: the value
 * of ':var-set NAME VALUE') is masked on screen and kept out of history. */
static size_t
console_line_visible(const char *line, size_t len)
{
	size_t i = 0;
	int word;

	if (!action_has(console_line_action(line), ACTION_F_SECRET_ARG))
		return len;
	/* command, then NAME: two words and the blank after them */
	for (word = 0; word < 2 && i < len; word++) {
		while (i < len && (line[i] == ' ' || line[i] == ':'))
			i++;
		while (i < len && line[i] != ' ')
			i++;
	}
	if (i < len)
		i++;
	return i < len ? i : len;
}

static void
console_history_add(struct console *c, const char *line)
{
	if (*line == '\0')
		return;
	if (action_has(console_line_action(line), ACTION_F_SECRET_ARG))
		return;		/* a secret value is never kept */
	if (c->n_history > 0 && strcmp(c->history[c->n_history - 1], line) == 0)
		return;
	if (c->n_history == CONSOLE_HISTORY) {
		free(c->history[0]);
		memmove(c->history, c->history + 1, (CONSOLE_HISTORY - 1) * sizeof *c->history);
		c->n_history--;
	}
	c->history[c->n_history++] = xstrdup(line);
}

static void
console_open_prompt(struct console *c, enum prompt_kind kind, const char *initial)
{
	c->prompt = kind;
	c->line_len = util_strlcpy(c->line, initial, sizeof c->line);
	if (c->line_len >= sizeof c->line)
		c->line_len = sizeof c->line - 1;
	c->history_pos = c->n_history;
	c->message[0] = '\0';
	console_set_dirty(c, CONSOLE_REGION_LINE);
}

void
console_set_focus(struct console *c, const char *id, const char *name)
{
	for (size_t i = 0; i < c->n_views; i++) {
		struct view *v = c->views[i];

		if (strcmp(v->focus, id != NULL ? id : "") == 0)
			continue;
		util_strlcpy(v->focus, id != NULL ? id : "", sizeof v->focus);
		util_strlcpy(v->focus_name, id != NULL && name != NULL ? name : "",
		    sizeof v->focus_name);
		v->dirty = 1;
	}
}

void
console_prompt(struct console *c, const char *text)
{
	if (!c->dialog.open)
		console_open_prompt(c, PROMPT_COMMAND, text != NULL ? text : "");
}

/* Complete the word under the cursor of the command line. */
static void
console_complete(struct console *c)
{
	const char *cands[64];
	const char *word;
	size_t n = 0, i, wlen, common, prefix_len;
	char *sp = strchr(c->line, ' ');

	if (sp == NULL) {
		word = c->line;
		n = action_complete(word, cands, ARRAY_LEN(cands));
	} else {
		char cmd[64];

		util_strlcpy(cmd, c->line, sizeof cmd);
		cmd[strcspn(cmd, " ")] = '\0';
		word = sp + 1;
		wlen = strlen(word);
		if (strcmp(cmd, "pane") == 0) {
			for (i = 0; i < c->n_views && n < ARRAY_LEN(cands); i++)
				if (strncmp(c->views[i]->ops->name, word, wlen) == 0)
					cands[n++] = c->views[i]->ops->name;
		} else if (strcmp(cmd, "theme") == 0) {
			const char *const *names = theme_builtin_names();

			for (i = 0; names[i] != NULL && n < ARRAY_LEN(cands); i++)
				if (strncmp(names[i], word, wlen) == 0)
					cands[n++] = names[i];
		} else if (strcmp(cmd, "layout") == 0) {
			static const char *const modes[] = { "auto", "split", "single" };

			for (i = 0; i < ARRAY_LEN(modes); i++)
				if (strncmp(modes[i], word, wlen) == 0)
					cands[n++] = modes[i];
		}
	}
	if (n == 0) {
		console_message(c, 0, "no completion");
		return;
	}
	if (n > ARRAY_LEN(cands))
		n = ARRAY_LEN(cands);
	common = strlen(cands[0]);
	for (i = 1; i < n; i++) {
		size_t j = 0;

		while (j < common && cands[i][j] == cands[0][j])
			j++;
		common = j;
	}
	prefix_len = (size_t)(word - c->line);
	if (prefix_len + common + 2 < sizeof c->line) {
		memcpy(c->line + prefix_len, cands[0], common);
		c->line_len = prefix_len + common;
		if (n == 1)
			c->line[c->line_len++] = ' ';
		c->line[c->line_len] = '\0';
	}
	if (n > 1) {
		char list[CONSOLE_LINE_MAX];
		size_t used = 0;

		for (i = 0; i < n && used < sizeof list; i++)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s ",
			    cands[i]);
		/* shown once the prompt closes; the prompt line keeps the input */
		util_strlcpy(c->message, list, sizeof c->message);
		c->message_error = 0;
	}
	console_set_dirty(c, CONSOLE_REGION_LINE);
}

static void
console_prompt_key(struct console *c, uint32_t key)
{
	struct view *v = console_active(c);
	char line[CONSOLE_LINE_MAX];

	switch (key) {
	case KEYC_ESC:
	case 7: /* C-g */
		c->prompt = PROMPT_NONE;
		c->message[0] = '\0';
		break;
	case KEYC_ENTER:
	case '\n':
	case '\r':
		util_strlcpy(line, c->line, sizeof line);
		if (c->prompt == PROMPT_FILTER) {
			c->prompt = PROMPT_NONE;
			c->message[0] = '\0';
			if (v != NULL) {
				util_strlcpy(v->filter, line, sizeof v->filter);
				v->dirty = 1;
				console_view_dirty(c);
			}
		} else {
			c->prompt = PROMPT_NONE;
			c->message[0] = '\0';
			console_history_add(c, line);
			console_command(c, line);
			/* a secret typed on the line does not stay in memory */
			dialog_wipe(line, sizeof line);
			dialog_wipe(c->line, sizeof c->line);
			c->line_len = 0;
		}
		break;
	case KEYC_BACKSPACE:
	case 8:
	case 127:
		if (c->line_len == 0) {
			c->prompt = PROMPT_NONE;
			break;
		}
		/* drop one whole UTF-8 sequence */
		do {
			c->line_len--;
		} while (c->line_len > 0 && ((unsigned char)c->line[c->line_len] & 0xc0) == 0x80);
		c->line[c->line_len] = '\0';
		break;
	case 21: /* C-u */
		c->line_len = 0;
		c->line[0] = '\0';
		break;
	case KEYC_TAB:
		if (c->prompt == PROMPT_COMMAND)
			console_complete(c);
		break;
	case KEYC_UP:
	case 16: /* C-p */
		if (c->prompt == PROMPT_COMMAND && c->history_pos > 0) {
			c->history_pos--;
			c->line_len = util_strlcpy(c->line, c->history[c->history_pos],
			    sizeof c->line);
		}
		break;
	case KEYC_DOWN:
	case 14: /* C-n */
		if (c->prompt == PROMPT_COMMAND && c->history_pos < c->n_history) {
			c->history_pos++;
			if (c->history_pos == c->n_history) {
				c->line_len = 0;
				c->line[0] = '\0';
			} else {
				c->line_len = util_strlcpy(c->line,
				    c->history[c->history_pos], sizeof c->line);
			}
		}
		break;
	default:
		if (key >= 0x20 && key < 0x110000 && key != 0x7f) {
			char enc[4];
			size_t n = text_encode(key, enc);

			if (c->line_len + n < sizeof c->line) {
				memcpy(c->line + c->line_len, enc, n);
				c->line_len += n;
				c->line[c->line_len] = '\0';
			}
		}
		break;
	}
	console_set_dirty(c, CONSOLE_REGION_LINE);
}

static void
console_set_layout(struct console *c, const char *mode)
{
	if (mode == NULL)
		c->layout = c->split ? CONSOLE_LAYOUT_SINGLE : CONSOLE_LAYOUT_SPLIT;
	else if (strcmp(mode, "auto") == 0)
		c->layout = CONSOLE_LAYOUT_AUTO;
	else if (strcmp(mode, "split") == 0)
		c->layout = CONSOLE_LAYOUT_SPLIT;
	else if (strcmp(mode, "single") == 0)
		c->layout = CONSOLE_LAYOUT_SINGLE;
	else {
		console_message(c, 1, "layout must be auto, split or single");
		return;
	}
	console_layout(c);
	if (!c->split && mode == NULL && c->layout == CONSOLE_LAYOUT_SPLIT)
		console_message(c, 0, "too small for the split layout (needs 60 columns)");
}

static struct view *
console_find(const struct console *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_views; i++)
		if (strcmp(c->views[i]->ops->name, name) == 0)
			return c->views[i];
	return NULL;
}

/* Bring V up to date with the store and its filter before it acts on a
 * key: keys typed faster than frames (a filter, then an action) must act
 * on the rows the filter leaves, not on those of the last frame. */
static void
console_view_sync(struct console *c, struct view *v)
{
	if (v != NULL && v->ops->update != NULL && c->o.store != NULL)
		v->ops->update(v, c->o.store);
}

/* A ':' command for an action of another pane ("scale" belongs to
 * replicas) goes to that pane, whichever is shown.  1 when it took it. */
static int
console_run_in_scope(struct console *c, enum action a, const struct key_event *ev)
{
	const struct action_info *ai = action_info(a);
	struct view *owner;

	if (ev->key != KEYC_NONE || ai == NULL || strcmp(ai->scope, "global") == 0)
		return 0;
	owner = console_find(c, ai->scope);
	if (owner == NULL || owner == console_active(c) || owner->ops->key == NULL)
		return 0;
	console_view_sync(c, owner);
	if (!owner->ops->key(owner, a, ev))
		return 0;
	owner->dirty = 1;
	return 1;
}

static void
console_run_action(struct console *c, enum action a, const struct key_event *ev)
{
	struct view *v = console_active(c);
	struct err e;

	console_view_sync(c, v);
	if (v != NULL && v->ops->key != NULL && v->ops->key(v, a, ev)) {
		console_view_dirty(c);
		if (v->ops->draw_detail != NULL)
			console_layout(c);
		return;
	}
	if (console_run_in_scope(c, a, ev))
		return;
	switch (a) {
	case ACTION_QUIT:
		c->quit = 1;
		break;
	case ACTION_NEXT_PANE:
		if (c->n_views)
			console_select(c, (c->active + 1) % c->n_views);
		break;
	case ACTION_PREV_PANE:
		if (c->n_views)
			console_select(c, (c->active + c->n_views - 1) % c->n_views);
		break;
	case ACTION_PANE_1: case ACTION_PANE_2: case ACTION_PANE_3:
	case ACTION_PANE_4: case ACTION_PANE_5: case ACTION_PANE_6:
	case ACTION_PANE_7: case ACTION_PANE_8: case ACTION_PANE_9:
		if ((size_t)(a - ACTION_PANE_1) < c->n_views)
			console_select(c, (size_t)(a - ACTION_PANE_1));
		else
			console_message(c, 1, "there is no pane %d", (int)(a - ACTION_PANE_1) + 1);
		break;
	case ACTION_PANE:
		if (ev->arg == NULL)
			console_message(c, 1, "usage: :pane NAME");
		else if (console_show(c, ev->arg) != 0)
			console_message(c, 1, "no pane named '%s'", ev->arg);
		break;
	case ACTION_HELP:
		console_show(c, "help");
		break;
	case ACTION_COMMAND:
		if (ev->arg != NULL)
			console_command(c, ev->arg);
		else
			console_open_prompt(c, PROMPT_COMMAND, "");
		break;
	case ACTION_FILTER:
		if (v == NULL)
			break;
		if (ev->arg != NULL) {
			util_strlcpy(v->filter, ev->arg, sizeof v->filter);
			v->dirty = 1;
			console_view_dirty(c);
		} else {
			console_open_prompt(c, PROMPT_FILTER, v->filter);
		}
		break;
	case ACTION_OPEN:
		if (v != NULL && v->ops->draw_detail != NULL && !c->split) {
			v->detail_open = 1;
			console_view_dirty(c);
		}
		break;
	case ACTION_BACK:
		if (v != NULL && v->detail_open) {
			v->detail_open = 0;
			console_view_dirty(c);
		} else if (v != NULL && v->filter[0] != '\0') {
			v->filter[0] = '\0';
			v->dirty = 1;
			console_view_dirty(c);
			console_message(c, 0, "filter cleared");
		}
		break;
	case ACTION_LAYOUT:
		console_set_layout(c, ev->arg);
		break;
	case ACTION_REDRAW:
		console_invalidate(c);
		if (c->o.ui != NULL && c->o.ui->force_redraw != NULL)
			c->o.ui->force_redraw(c->o.ui->ud);
		break;
	case ACTION_THEME:
		if (ev->arg == NULL) {
			console_message(c, 1, "usage: :theme NAME");
		} else if (c->o.ui == NULL || c->o.ui->set_theme == NULL) {
			console_message(c, 1, "themes cannot be changed here");
		} else if (c->o.ui->set_theme(c->o.ui->ud, ev->arg, &e) != 0) {
			console_message(c, 1, "%s", e.msg);
		} else {
			console_invalidate(c);
			console_message(c, 0, "theme %s", ev->arg);
		}
		break;
	default: {
		const struct action_info *ai = action_info(a);

		if (ai != NULL && strcmp(ai->scope, "global") != 0 &&
		    console_find(c, ai->scope) == NULL)
			console_message(c, 1, "'%s' needs the %s pane, which is not "
			    "configured", ai->name, ai->scope);
		else if (ai != NULL)
			console_message(c, 1, "'%s' does nothing in the %s pane", ai->name,
			    v != NULL ? v->ops->name : "current");
		break;
	}
	}
}

void
console_key(struct console *c, uint32_t key)
{
	struct key_event ev = { key, NULL };
	struct view *v = console_active(c);
	enum action a;

	if (key == KEYC_RESIZE)
		return;
	if (c->prompt != PROMPT_NONE) {
		console_prompt_key(c, key);
		return;
	}
	if (c->dialog.open) {
		console_dialog_key(c, key);
		return;
	}
	if (c->message[0] != '\0') {
		c->message[0] = '\0';
		console_set_dirty(c, CONSOLE_REGION_LINE);
	}
	a = keymap_lookup(c->o.keymap, v != NULL ? v->ops->name : NULL, key);
	if (a == ACTION_NONE) {
		char name[32];

		keymap_key_name(key, name, sizeof name);
		console_message(c, 0, "%s is not bound (? shows the keys)", name);
		return;
	}
	console_run_action(c, a, &ev);
}
