/* registry.c - every pane, in tab order. */
#include <stddef.h>

#include "signalbox/view.h"

const struct view_ops *const view_registry[] = {
	&overview_view_ops,
	&health_view_ops,
	&deployments_view_ops,
	&replicas_view_ops,
	&vars_view_ops,
	&logs_view_ops,
	&datastores_view_ops,
	&backups_view_ops,
	&help_view_ops,
	NULL,
};
