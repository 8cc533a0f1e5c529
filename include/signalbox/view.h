/* view.h - the pane framework.
 *
 * A pane is one file in views/ exporting one const struct view_ops.  The
 * framework callocs priv_size bytes for view->priv, calls init once, then on
 * every frame where the view is dirty: update (pull from the store), then
 * draw (pure: state, size, theme and view->now_ms to cells).  Views never
 * see curses, colour pairs or KEY_* codes.
 */
#ifndef SIGNALBOX_VIEW_H
#define SIGNALBOX_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/action.h"
#include "signalbox/keymap.h"
#include "signalbox/style.h"

struct canvas;
struct config;
struct console;
struct health;
struct keymap;
struct pg_stats;
struct policy_req;
struct store;
struct view;

/* What a view may ask of the application.  Every member may be NULL (tests
 * pass an empty host). */
struct railway_volumes;

struct view_host {
	void *ud;
	/* show a one-line message in the status line */
	void (*message)(void *ud, int is_error, const char *text);
	/* the health source, for check-now (struct health *) */
	struct health *health;
	/* the active keymap, for the help pane */
	const struct keymap *keymap;
	/* the console, for actions that change production or reveal a
	 * secret (console_request: policy, confirmation, audit) and other
	 * dialogs; set by the console itself for its panes */
	struct console *console;
	/* a provider action (deploy, rollback, scale, var-*): checked,
	 * confirmed, audited and carried out by the application (act.h),
	 * the outcome on the status line; NULL when nothing can carry it */
	void (*act)(void *ud, const struct policy_req *req);
	/* fetch the provider's data now (the refresh action); NULL: none */
	void (*refresh)(void *ud);
	/* the PostgreSQL source, for pg-cancel after the policy; NULL: none */
	struct pg_stats *pg_stats;
	/* the backups source, for backup and drill after the policy; NULL: none */
	struct backups *backups;
	/* list the provider's volume of service SERVICE (by name): DONE(v, error,
	 * CBUD) runs later from the loop, with V valid during the call
	 * (railway_volumes_ref to keep it).  0 when asked; -1 and WHY (size
	 * WHY_LEN) when nothing can answer.  NULL: no provider */
	int (*volumes)(void *ud, const char *service,
	    void (*done)(struct railway_volumes *v, const char *error, void *cbud), void *cbud,
	    char *why, size_t why_len);
};

struct view_ops {
	const char *name;	/* "health": keymap section, config key, :pane NAME */
	const char *title;	/* "Health" on the tab strip */
	size_t priv_size;
	/* whether the pane is shown for CFG (may be NULL: always) */
	int (*enabled)(const struct config *cfg);
	int (*init)(struct view *v, const struct config *cfg);
	/* pull new snapshots; may set v->dirty */
	void (*update)(struct view *v, const struct store *store);
	/* the list (main) area */
	void (*draw)(struct view *v, struct canvas *cv);
	/* the detail of the selected item; NULL if the view has none */
	void (*draw_detail)(struct view *v, struct canvas *cv);
	/* returns 1 when the action was handled */
	int (*key)(struct view *v, enum action a, const struct key_event *ev);
	/* one line for the tab strip badge ("3 down"), may be NULL */
	void (*badge)(struct view *v, char *buf, size_t len, int *is_bad);
	void (*free)(struct view *v);
};

struct view {
	const struct view_ops *ops;
	void *priv;
	const struct view_host *host;
	int64_t now_ms;		/* wall clock for ages, set before update/draw */
	int dirty;		/* needs a redraw */
	int64_t next_change_ms;	/* wall ms when the drawn text goes out of date
				   by time alone (ages), 0 = never; set by draw */
	int detail_open;	/* detail shown instead of the list (single layout) */
	char filter[128];	/* '/' filter text, "" = none */
	/* the service selected in the overview (its id and name, "" = none):
	 * the provider's other panes narrow to it (console_set_focus) */
	char focus[64], focus_name[64];
};

/* Allocate a view for OPS, calloc priv and call init.  NULL if init fails. */
struct view *view_new(const struct view_ops *ops, const struct view_host *host,
    const struct config *cfg);

/* Call free, release priv and *VP; NULL-safe. */
void view_free(struct view **vp);

/* The cursor of a list pane: N rows, SEL selected, TOP the first shown,
 * PAGE rows visible at the last draw. */
struct view_list {
	size_t n, sel, top;
	int page;
};

/* Apply a movement action (move-*, page-*) to L; 1 when A was one. */
int view_list_key(struct view_list *l, enum action a);

/* Set L's row count to N (keeping SEL in range) and, with PAGE > 0 rows
 * visible, scroll so SEL shows. */
void view_list_fit(struct view_list *l, size_t n, int page);

/* Ask for a redraw at wall time T (> 0; the earliest request of a draw
 * wins): for text that goes out of date by time alone, such as ages. */
void view_wake_at(struct view *v, int64_t t);

/* Draw S in a column of W cells at (Y, X), cut with an ellipsis, right
 * aligned when RIGHT; nothing when W <= 0.  Returns the next column's X
 * (one space between columns). */
int view_col(struct canvas *cv, int y, int x, int w, enum style_id st, const char *s,
    int right);

/* Every pane, in tab order (NULL-terminated).  Defined in views/registry.c. */
extern const struct view_ops *const view_registry[];

/* An `enabled` hook for the provider's panes: a provider is configured. */
int view_provider_enabled(const struct config *cfg);

/* The panes (one per file in views/). */
extern const struct view_ops health_view_ops;
extern const struct view_ops help_view_ops;
extern const struct view_ops overview_view_ops;
extern const struct view_ops deployments_view_ops;
extern const struct view_ops replicas_view_ops;
extern const struct view_ops vars_view_ops;
extern const struct view_ops datastores_view_ops;
extern const struct view_ops logs_view_ops;
extern const struct view_ops backups_view_ops;

/* An `enabled` hook for the logs pane: a provider, or logs.sources. */
int view_logs_enabled(const struct config *cfg);

/* An `enabled` hook for the datastores pane: datastores: names one. */
int view_datastores_enabled(const struct config *cfg);

/* An `enabled` hook for the backups pane: backups: is in the config. */
int view_backups_enabled(const struct config *cfg);

/* The vars pane shows VALUE (LEN bytes, sanitised when drawn) for variable
 * NAME of service SET_SERVICE_ID ("" or NULL = shared) until the selection
 * moves or the pane is left; the copy is wiped then. */
void vars_view_show_value(struct view *v, const char *set_service_id, const char *name,
    const char *value, size_t len);

#endif
