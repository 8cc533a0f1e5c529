/* view.c - pane lifecycle. */
#include <stdlib.h>

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
