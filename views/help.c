/* help.c - every key and ':' command, generated from the action table. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "signalbox/canvas.h"
#include "signalbox/keymap.h"
#include "signalbox/util.h"
#include "signalbox/view.h"

struct help_view {
	size_t top;
	int page;
};

static int
help_matches(const struct action_info *ai, const char *filter)
{
	return filter[0] == '\0' || util_strcasestr(ai->name, filter) != NULL ||
	    util_strcasestr(ai->desc, filter) != NULL || util_strcasestr(ai->scope, filter) != NULL;
}

static void
help_draw(struct view *v, struct canvas *cv)
{
	struct help_view *hp = v->priv;
	const struct keymap *km = v->host != NULL ? v->host->keymap : NULL;
	int w = canvas_width(cv), h = canvas_height(cv), y = 2, kw = 16, cw = 14;
	size_t row = 0;
	int i;

	canvas_clear(cv, STYLE_DEFAULT);
	canvas_text(cv, 0, 1, STYLE_TITLE, "Keys and commands");
	if (v->filter[0] != '\0')
		canvas_printf(cv, 0, 20, -1, STYLE_MATCH, "filter '%s'", v->filter);
	canvas_printf(cv, 1, 1, -1, STYLE_HEADER, "%-*s %-*s %s", kw - 1, "KEYS", cw, ":COMMAND",
	    "DESCRIPTION");
	hp->page = h - 2;
	for (i = 1; i < ACTION_COUNT; i++) {
		const struct action_info *ai = action_info((enum action)i);
		char keys[64] = "";

		if (!help_matches(ai, v->filter))
			continue;
		if (row++ < hp->top)
			continue;
		if (y >= h)
			break;
		if (km != NULL)
			keymap_keys_for(km, NULL, ai->id, keys, sizeof keys);
		canvas_textn(cv, y, 1, kw - 1, STYLE_KEY, keys, strlen(keys));
		canvas_textn(cv, y, kw + 1, cw, STYLE_DEFAULT, ai->name, strlen(ai->name));
		{
			int x = kw + cw + 2;

			/* ! changes production, * audited: the legend is below */
			if (ai->flags & ACTION_F_MUTATING)
				x += canvas_text(cv, y, x, STYLE_MESSAGE_WARN, "! ");
			else if (ai->flags & ACTION_F_AUDITED)
				x += canvas_text(cv, y, x, STYLE_MESSAGE_WARN, "* ");
			if (strcmp(ai->scope, "global") != 0)
				x += canvas_printf(cv, y, x, w - x, STYLE_DIM, "[%s] ", ai->scope);
			canvas_textn(cv, y, x, w - x, STYLE_DEFAULT, ai->desc, strlen(ai->desc));
		}
		y++;
	}
	if (y + 1 < h) {
		y++;
		canvas_textn(cv, y++, 1, w - 2, STYLE_DIM, "! changes production: checked "
		    "(read-only, protected environments), confirmed and audited; "
		    "* audited", 200);
	}
	if (y < h && hp->top == 0)
		canvas_textn(cv, y, 1, w - 2, STYLE_DIM, "Remap any key in the config: "
		    "keys: { global: { x: quit }, health: { r: check-now } }", 200);
}

static int
help_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct help_view *hp = v->priv;

	(void)ev;
	switch (a) {
	case ACTION_MOVE_DOWN:
		if (hp->top + 1 < ACTION_COUNT)
			hp->top++;
		break;
	case ACTION_MOVE_UP:
		if (hp->top > 0)
			hp->top--;
		break;
	case ACTION_MOVE_TOP:
		hp->top = 0;
		break;
	case ACTION_PAGE_DOWN:
		hp->top += hp->page > 1 ? (size_t)hp->page : 1;
		if (hp->top >= ACTION_COUNT)
			hp->top = ACTION_COUNT - 1;
		break;
	case ACTION_PAGE_UP:
		hp->top = hp->top > (size_t)hp->page ? hp->top - (size_t)hp->page : 0;
		break;
	case ACTION_MOVE_BOTTOM:
		/* the last row, then a blank and the legend */
		hp->top = ACTION_COUNT + 1 > (size_t)hp->page ?
		    ACTION_COUNT + 1 - (size_t)hp->page : 0;
		break;
	default:
		return 0;
	}
	v->dirty = 1;
	return 1;
}

const struct view_ops help_view_ops = {
	.name = "help",
	.title = "Help",
	.priv_size = sizeof(struct help_view),
	.draw = help_draw,
	.key = help_key,
};
