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

#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/keymap.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/theme.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

#define CONSOLE_HISTORY 64
#define CONSOLE_LINE_MAX 256

enum prompt_kind { PROMPT_NONE, PROMPT_COMMAND = ':', PROMPT_FILTER = '/' };

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
};

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
	while (view_registry[n] != NULL)
		n++;
	c->views = xcalloc(n ? n : 1, sizeof *c->views);
	for (i = 0; i < n; i++) {
		c->views[i] = view_new(view_registry[i], opts->host, opts->cfg);
		if (c->views[i] == NULL) {
			err_set(e, ERR_INTERNAL, "pane '%s' failed to start",
			    view_registry[i]->name);
			c->n_views = i;
			console_free(&c);
			return NULL;
		}
	}
	c->n_views = n;
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
	for (i = 0; i < c->n_views; i++)
		view_free(&c->views[i]);
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
		used += (size_t)snprintf(buf + used, len - used, "%s=%d;", src->name,
		    (int)src->state);
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

static void
console_draw_tabs(struct console *c, struct canvas *cv)
{
	int x = 0, w = canvas_width(cv);
	size_t i;

	canvas_clear(cv, STYLE_TAB);
	console_tabs_text(c, c->tabs_text, sizeof c->tabs_text);
	for (i = 0; i < c->n_views && x < w; i++) {
		struct view *v = c->views[i];
		enum style_id st = i == c->active ? STYLE_TAB_ACTIVE : STYLE_TAB;
		char badge[64] = "", label[96];
		int bad = 0;

		if (v->ops->badge != NULL)
			v->ops->badge(v, badge, sizeof badge, &bad);
		snprintf(label, sizeof label, " %zu %s ", i + 1, v->ops->title);
		x += canvas_text(cv, 0, x, st, label);
		if (badge[0] != '\0') {
			x += canvas_printf(cv, 0, x, -1, bad ? STYLE_HEALTH_DOWN : STYLE_DIM,
			    "(%s)", badge);
		}
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
	for (i = 0; i < n && x < w - 8; i++) {
		const struct store_source *src = store_source_at(c->o.store, i);
		static const enum style_id st[] = {
			[STORE_STATE_IDLE] = STYLE_STATE_IDLE,
			[STORE_STATE_CONNECTING] = STYLE_STATE_CONNECTING,
			[STORE_STATE_OK] = STYLE_STATE_OK,
			[STORE_STATE_STALE] = STYLE_STATE_STALE,
			[STORE_STATE_ERROR] = STYLE_STATE_ERROR,
		};

		x += canvas_printf(cv, 0, x, w - 7 - x, STYLE_STATUSBAR, " %s:", src->name);
		x += canvas_textn(cv, 0, x, w - 7 - x, st[src->state],
		    store_state_name(src->state), strlen(store_state_name(src->state)));
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
		size_t start = 0;

		canvas_printf(cv, 0, 0, 1, STYLE_PROMPT, "%c", (char)c->prompt);
		/* keep the end of a long line visible, cutting at a character */
		while (start < c->line_len &&
		    canvas_str_width(c->line + start, c->line_len - start) > w - 2) {
			start++;
			while (start < c->line_len &&
			    ((unsigned char)c->line[start] & 0xc0) == 0x80)
				start++;
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
	case CONSOLE_REGION_COUNT:
		break;
	}
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
console_cursor(const struct console *c, int *y, int *x)
{
	const struct console_region *r = &c->regions[CONSOLE_REGION_LINE];
	int tw;

	if (c->prompt == PROMPT_NONE || r->h == 0)
		return -1;
	tw = canvas_str_width(c->line, c->line_len);
	if (tw > r->w - 2)
		tw = r->w - 2;
	*y = r->y;
	*x = 1 + tw < r->w - 1 ? 1 + tw : r->w - 1;
	return 0;
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
	{ "check", "check-now" },
};

static void
console_run_action(struct console *c, enum action a, const struct key_event *ev);

void
console_command(struct console *c, const char *line)
{
	char buf[CONSOLE_LINE_MAX], *name, *arg, *end;
	struct key_event ev = { KEYC_NONE, NULL };
	enum action a;
	size_t i;

	util_strlcpy(buf, line, sizeof buf);
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

static void
console_history_add(struct console *c, const char *line)
{
	if (*line == '\0')
		return;
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

static void
console_run_action(struct console *c, enum action a, const struct key_event *ev)
{
	struct view *v = console_active(c);
	struct err e;

	if (v != NULL && v->ops->key != NULL && v->ops->key(v, a, ev)) {
		console_view_dirty(c);
		if (v->ops->draw_detail != NULL)
			console_layout(c);
		return;
	}
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

		if (ai != NULL)
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
