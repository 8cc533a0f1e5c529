/* view.c - pane lifecycle. */
#include <stdlib.h>

#include <string.h>

#include "signalbox/canvas.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

struct view *
view_new(const struct view_ops *ops, const struct view_host *host,
    const struct config *cfg)
{
	struct view *v = xcalloc(1, sizeof *v);

	v->ops = ops;
	v->host = host;
	v->dirty = 1;
	if (ops->priv_size > 0)
		v->priv = xcalloc(1, ops->priv_size);
	if (ops->init != NULL && ops->init(v, cfg) != 0) {
		free(v->priv);
		free(v);
		return NULL;
	}
	return v;
}

void
view_free(struct view **vp)
{
	struct view *v;

	if (vp == NULL || *vp == NULL)
		return;
	v = *vp;
	*vp = NULL;
	if (v->ops->free != NULL)
		v->ops->free(v);
	free(v->priv);
	free(v);
}

int
view_list_key(struct view_list *l, enum action a)
{
	size_t page = l->page > 1 ? (size_t)l->page : 1;
	size_t last = l->n ? l->n - 1 : 0;

	switch (a) {
	case ACTION_MOVE_DOWN:
		if (l->sel < last)
			l->sel++;
		return 1;
	case ACTION_MOVE_UP:
		if (l->sel > 0)
			l->sel--;
		return 1;
	case ACTION_MOVE_TOP:
		l->sel = 0;
		return 1;
	case ACTION_MOVE_BOTTOM:
		l->sel = last;
		return 1;
	case ACTION_PAGE_DOWN:
		l->sel = l->sel + page < last ? l->sel + page : last;
		return 1;
	case ACTION_PAGE_UP:
		l->sel = l->sel > page ? l->sel - page : 0;
		return 1;
	default:
		return 0;
	}
}

void
view_list_fit(struct view_list *l, size_t n, int page)
{
	l->n = n;
	if (l->sel >= n)
		l->sel = n ? n - 1 : 0;
	if (page <= 0)
		return;
	l->page = page;
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + (size_t)page)
		l->top = l->sel - (size_t)page + 1;
	if (l->top > 0 && l->top + (size_t)page > n)
		l->top = n > (size_t)page ? n - (size_t)page : 0;
}

void
view_wake_at(struct view *v, int64_t t)
{
	if (t > 0 && (v->next_change_ms == 0 || t < v->next_change_ms))
		v->next_change_ms = t;
}

int
view_col(struct canvas *cv, int y, int x, int w, enum style_id st, const char *s, int right)
{
	if (w <= 0)
		return x;
	if (right)
		canvas_text_right(cv, y, x + w, st, s);
	else
		canvas_textn(cv, y, x, w, st, s, strlen(s));
	return x + w + 1;
}
