/* deployments.c - the deployments pane: every deployment of the project's
 * services, newest first across services, with its status, short id,
 * version, author, age and how long it took (ticking while it runs); the
 * one serving each service is marked.  The detail view shows everything
 * about the selected deployment and, for a rollback target, which newer
 * deployments a rollback to it would undo.
 *
 * One list across services rather than one block per service: during an
 * incident the question is "what changed last, anywhere", and at 80x24 a
 * block per service would hide every service but the first behind its own
 * history.  The filter narrows it to one service ("/api").
 *
 * Like the overview, the pane says how old its data is: while the
 * provider's refreshes fail the rows are dimmed and the title says "stale"
 * with the age and the error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provider.h"
#include "signalbox/canvas.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

/* Exported for the rollback confirmation; to move to a header (see the
 * report of this pane).  Fills OUT_IDX with up to MAX indexes into
 * H->deployments of the deployments a rollback to TARGET_INDEX undoes,
 * newest first; returns how many there are (which may exceed MAX). */
size_t deployments_undone_by_rollback(const struct railway_service_history *h,
    size_t target_index, size_t *out_idx, size_t max);

#define DEP_NONE SIZE_MAX
#define DEP_SHORT_ID 8		/* characters of an id in the list */
#define DEP_UNDO_MAX 64		/* undone deployments listed in the detail */

/* One list row: deployment DEP of service SVC of the history snapshot. */
struct dep_row {
	int64_t created_ms;
	size_t svc, dep;
};

struct deployments_view {
	struct railway_history_snap *hist;	/* one reference held */
	struct railway_project_snap *proj;	/* one reference held: names, active deployments */
	uint64_t gen, proj_gen;
	struct store_source src;		/* copy of the provider's state */
	int have_src;
	char filter[sizeof(((struct view *)0)->filter)];
	char focus[sizeof(((struct view *)0)->focus)];	/* the focus the rows were built for */
	struct dep_row *rows;		/* rows that pass the filter, newest first */
	size_t *active;			/* per history service: index of the serving deployment, DEP_NONE */
	struct view_list list;
};

size_t
deployments_undone_by_rollback(const struct railway_service_history *h, size_t target_index,
    size_t *out_idx, size_t max)
{
	size_t n = 0;

	if (h == NULL || target_index >= h->n)
		return 0;
	/* newest first: everything before the target is newer.  A FAILED or
	 * SKIPPED deployment never served, so going back past it undoes
	 * nothing of it; one still in progress is superseded, so it counts. */
	for (size_t i = 0; i < target_index; i++) {
		enum railway_status st = h->deployments[i].status;

		if (st == RAILWAY_STATUS_FAILED || st == RAILWAY_STATUS_SKIPPED)
			continue;
		if (out_idx != NULL && n < max)
			out_idx[n] = i;
		n++;
	}
	return n;
}

static int
deployments_view_init(struct view *v, const struct config *cfg)
{
	(void)v;
	(void)cfg;
	return 0;
}

static void
deployments_view_free(struct view *v)
{
	struct deployments_view *dv = v->priv;

	railway_history_snap_unref(dv->hist);
	railway_project_snap_unref(dv->proj);
	free(dv->rows);
	free(dv->active);
}

static int
dep_matches(const struct railway_service_history *h, const struct railway_deployment *d,
    const char *filter)
{
	if (filter[0] == '\0')
		return 1;
	return util_strcasestr(h->service_name, filter) != NULL ||
	    util_strcasestr(d->status_text, filter) != NULL ||
	    util_strcasestr(d->version, filter) != NULL ||
	    util_strcasestr(d->creator, filter) != NULL ||
	    util_strcasestr(d->message, filter) != NULL ||
	    strncmp(d->id, filter, strlen(filter)) == 0 ||
	    strncmp(d->commit, filter, strlen(filter)) == 0;
}

static int
dep_row_cmp(const void *pa, const void *pb)
{
	const struct dep_row *a = pa, *b = pb;

	if (a->created_ms != b->created_ms)
		return a->created_ms > b->created_ms ? -1 : 1;
	if (a->svc != b->svc)
		return a->svc < b->svc ? -1 : 1;
	return a->dep < b->dep ? -1 : a->dep > b->dep;
}

/* The deployment serving service SVC: the provider's word when the project
 * snapshot names it, else the newest that is SUCCESS, SLEEPING or CRASHED
 * (what Railway calls the active one). */
static size_t
dep_find_active(const struct deployments_view *dv, size_t svc)
{
	const struct railway_service_history *h = &dv->hist->services[svc];
	const struct railway_service *s = railway_project_find(dv->proj, h->service_id);

	if (s != NULL && s->active != NULL) {
		for (size_t i = 0; i < h->n; i++)
			if (strcmp(h->deployments[i].id, s->active->id) == 0)
				return i;
		return DEP_NONE;
	}
	for (size_t i = 0; i < h->n; i++) {
		enum railway_status st = h->deployments[i].status;

		if (st == RAILWAY_STATUS_SUCCESS || st == RAILWAY_STATUS_SLEEPING ||
		    st == RAILWAY_STATUS_CRASHED)
			return i;
	}
	return DEP_NONE;
}

static const struct railway_deployment *
dep_at(const struct deployments_view *dv, const struct dep_row *r)
{
	return &dv->hist->services[r->svc].deployments[r->dep];
}

/* Rebuild the rows; the selection stays on deployment SEL_ID when it is
 * still listed. */
static void
dep_rebuild(struct view *v, const char *sel_id)
{
	struct deployments_view *dv = v->priv;
	const struct railway_history_snap *s = dv->hist;
	size_t total = 0, n = 0;

	for (size_t i = 0; s != NULL && i < s->n_services; i++)
		total += s->services[i].n;
	dv->rows = xreallocarray(dv->rows, total ? total : 1, sizeof *dv->rows);
	dv->active = xreallocarray(dv->active, s != NULL && s->n_services ? s->n_services : 1,
	    sizeof *dv->active);
	for (size_t i = 0; s != NULL && i < s->n_services; i++) {
		const struct railway_service_history *h = &s->services[i];

		dv->active[i] = dep_find_active(dv, i);
		for (size_t j = 0; j < h->n; j++)
			if (provider_in_focus(v, h->service_id) &&
			    dep_matches(h, &h->deployments[j], v->filter))
				dv->rows[n++] = (struct dep_row){ h->deployments[j].created_ms, i, j };
	}
	qsort(dv->rows, n, sizeof *dv->rows, dep_row_cmp);
	view_list_fit(&dv->list, n, 0);
	for (size_t i = 0; sel_id != NULL && i < n; i++) {
		if (strcmp(dep_at(dv, &dv->rows[i])->id, sel_id) == 0) {
			dv->list.sel = i;
			break;
		}
	}
}

static void
deployments_view_update(struct view *v, const struct store *store)
{
	struct deployments_view *dv = v->priv;
	uint64_t gen, pgen;
	const struct railway_history_snap *snap = store_get(store, STORE_TOPIC_DEPLOYMENTS, &gen);
	const struct railway_project_snap *proj = store_get(store, STORE_TOPIC_SERVICES, &pgen);
	const struct store_source *src = store_source_find(store, RAILWAY_SOURCE);
	char *sel_id = NULL;

	if (provider_sync_source(&dv->have_src, &dv->src, src))
		v->dirty = 1;
	if (gen == dv->gen && pgen == dv->proj_gen && strcmp(dv->filter, v->filter) == 0 &&
	    strcmp(dv->focus, v->focus) == 0)
		return;
	if (dv->hist != NULL && dv->list.n > 0)
		sel_id = xstrdup(dep_at(dv, &dv->rows[dv->list.sel])->id);
	if (gen != dv->gen) {
		/* the store holds its own reference: take ours before dropping the old */
		railway_history_snap_ref((struct railway_history_snap *)snap);
		railway_history_snap_unref(dv->hist);
		dv->hist = (struct railway_history_snap *)snap;
		dv->gen = gen;
	}
	if (pgen != dv->proj_gen) {
		railway_project_snap_ref((struct railway_project_snap *)proj);
		railway_project_snap_unref(dv->proj);
		dv->proj = (struct railway_project_snap *)proj;
		dv->proj_gen = pgen;
	}
	util_strlcpy(dv->filter, v->filter, sizeof dv->filter);
	util_strlcpy(dv->focus, v->focus, sizeof dv->focus);
	dep_rebuild(v, sel_id);
	free(sel_id);
	v->dirty = 1;
}

/* A duration to the second below an hour: "42s", "3m07s", "1h05m", "2d03h". */
static void
dep_fmt_duration(char *buf, size_t len, int64_t ms)
{
	long long s = ms < 0 ? 0 : (long long)(ms / 1000);

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

/* Milliseconds until dep_fmt_duration's text for MS changes. */
static int64_t
dep_duration_next_change(int64_t ms)
{
	int64_t unit;

	if (ms < 0)
		return -ms;
	unit = ms < 3600000 ? 1000 : ms < 86400000 ? 60000 : 3600000;
	return unit - ms % unit;
}

/* How long D took, or for one in progress how long it has been running
 * (*LIVE = 1); -1 when unknown.  A replaced, removed or sleeping
 * deployment's last status change is not the end of its rollout, so it
 * has no duration here. */
static int64_t
dep_duration(const struct railway_deployment *d, int64_t now, int *live)
{
	enum railway_kind k = railway_status_kind(d->status);

	*live = 0;
	if (d->created_ms <= 0)
		return -1;
	if (k == RAILWAY_KIND_BUSY) {
		*live = 1;
		return now - d->created_ms;
	}
	if (k == RAILWAY_KIND_OFF || d->status_updated_ms < d->created_ms)
		return -1;
	return d->status_updated_ms - d->created_ms;
}

static void
dep_short_id(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "%.*s", DEP_SHORT_ID, id);
}

/* In progress anywhere, and services whose newest deployment failed. */
static void
dep_counts(const struct deployments_view *dv, size_t *busy, size_t *failed)
{
	*busy = *failed = 0;
	for (size_t i = 0; dv->hist != NULL && i < dv->hist->n_services; i++) {
		const struct railway_service_history *h = &dv->hist->services[i];

		for (size_t j = 0; j < h->n; j++)
			if (railway_status_kind(h->deployments[j].status) == RAILWAY_KIND_BUSY)
				(*busy)++;
		if (h->n > 0 && railway_status_kind(h->deployments[0].status) == RAILWAY_KIND_FAIL)
			(*failed)++;
	}
}

struct dep_cols {
	int mark, status, service, id, version, who, age, took, message;
};

static void
dep_layout(int w, size_t service_max, struct dep_cols *c)
{
	int used, wide = w >= 110;

	memset(c, 0, sizeof *c);
	c->mark = 1;
	c->status = wide ? 14 : 12;
	c->service = (int)service_max < 7 ? 7 : (int)service_max > (wide ? 24 : 14) ?
	    (wide ? 24 : 14) : (int)service_max;
	c->id = DEP_SHORT_ID;
	c->version = wide ? 14 : 10;
	c->who = wide ? 16 : 10;
	c->age = 5;
	c->took = 6;
	used = c->mark + 1 + c->status + 1 + c->service + 1 + c->id + 1 + c->version + 1 +
	    c->who + 1 + c->age + 1 + c->took + 1;
	if (w - used >= 12) {
		c->message = w - used;
	} else if (w < used) {
		/* narrow: the author goes first, then the id */
		used -= c->who + 1;
		c->who = 0;
		if (w < used)
			c->id = 0;
	}
}

/* The title line: what is shown, what is happening, and freshness. */
static void
dep_title(struct view *v, struct canvas *cv)
{
	const struct deployments_view *dv = v->priv;
	const struct railway_history_snap *s = dv->hist;
	size_t total = 0, busy, failed;
	char age[16];
	int x;

	for (size_t i = 0; i < s->n_services; i++)
		total += s->services[i].n;
	dep_counts(dv, &busy, &failed);
	/* the status bar names the project: here only when there is room */
	if (dv->proj != NULL && canvas_width(cv) >= 110)
		x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Deploys  %s / %s  %zu deployments",
		    dv->proj->project_name, dv->proj->environment_name, total);
	else
		x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Deploys  %zu deployments", total);
	if (busy)
		x += canvas_printf(cv, 0, x, -1, STYLE_STATE_CONNECTING, ", %zu in progress", busy);
	if (failed)
		x += canvas_printf(cv, 0, x, -1, STYLE_HEALTH_DOWN, ", %zu failed", failed);
	if (provider_is_stale(dv->have_src, &dv->src)) {
		util_fmt_age(age, sizeof age, v->now_ms - s->fetched_ms);
		x += canvas_printf(cv, 0, x, -1, STYLE_STATE_STALE, "   stale: data %s old: %s",
		    age, dv->src.error[0] != '\0' ? dv->src.error : "refresh failing");
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - s->fetched_ms));
	}
	x += provider_focus_title(v, cv, x);
	if (v->filter[0] != '\0')
		canvas_printf(cv, 0, x, -1, STYLE_MATCH, "   filter '%s': %zu shown",
		    v->filter, dv->list.n);
}

static void
deployments_view_draw(struct view *v, struct canvas *cv)
{
	struct deployments_view *dv = v->priv;
	const struct railway_history_snap *s = dv->hist;
	int w = canvas_width(cv), h = canvas_height(cv), y, x, stale;
	struct dep_cols c;
	size_t i, service_max = 7, total = 0;

	canvas_clear(cv, STYLE_DEFAULT);
	v->next_change_ms = 0;
	if (s == NULL) {
		provider_draw_empty(cv, dv->have_src, &dv->src, "Fetching the deployment history…");
		dv->list.page = h;
		return;
	}
	for (i = 0; i < s->n_services; i++) {
		size_t len = strlen(s->services[i].service_name);

		total += s->services[i].n;
		if (len > service_max)
			service_max = len;
	}
	dep_layout(w, service_max, &c);
	dep_title(v, cv);

	x = 0;
	x = view_col(cv, 1, x, c.mark, STYLE_HEADER, "", 0);
	x = view_col(cv, 1, x, c.status, STYLE_HEADER, "STATUS", 0);
	x = view_col(cv, 1, x, c.service, STYLE_HEADER, "SERVICE", 0);
	x = view_col(cv, 1, x, c.id, STYLE_HEADER, "ID", 0);
	x = view_col(cv, 1, x, c.version, STYLE_HEADER, "VERSION", 0);
	x = view_col(cv, 1, x, c.who, STYLE_HEADER, "BY", 0);
	x = view_col(cv, 1, x, c.age, STYLE_HEADER, "AGE", 1);
	x = view_col(cv, 1, x, c.took, STYLE_HEADER, "TOOK", 1);
	view_col(cv, 1, x, c.message, STYLE_HEADER, "MESSAGE", 0);

	view_list_fit(&dv->list, dv->list.n, h - 2 > 1 ? h - 2 : 1);
	if (dv->list.n == 0)
		canvas_printf(cv, 2, 1, -1, STYLE_DIM, total == 0 ?
		    "no deployments yet%s" : "nothing matches '%s' (Esc clears the filter)",
		    total == 0 ? "" : v->filter);
	stale = provider_is_stale(dv->have_src, &dv->src);
	for (y = 2, i = dv->list.top; i < dv->list.n && y < h; i++, y++) {
		const struct dep_row *r = &dv->rows[i];
		const struct railway_service_history *sh = &s->services[r->svc];
		const struct railway_deployment *d = dep_at(dv, r);
		int selected = i == dv->list.sel, live;
		enum style_id base = selected ? STYLE_SELECTED : stale ? STYLE_DIM : STYLE_DEFAULT;
		char buf[64];
		int64_t took;

		if (selected)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		x = view_col(cv, y, 0, c.mark, base, dv->active[r->svc] == r->dep ?
		    canvas_glyph(cv, CANVAS_GLYPH_BULLET) : "", 0);
		x = view_col(cv, y, x, c.status, stale && !selected ? STYLE_DIM :
		    provider_kind_style(railway_status_kind(d->status)), d->status_text, 0);
		x = view_col(cv, y, x, c.service, base, sh->service_name, 0);
		dep_short_id(buf, sizeof buf, d->id);
		x = view_col(cv, y, x, c.id, base, buf, 0);
		x = view_col(cv, y, x, c.version, base, d->version[0] != '\0' ? d->version : "-", 0);
		x = view_col(cv, y, x, c.who, base, d->creator[0] != '\0' ? d->creator : "-", 0);
		if (d->created_ms > 0) {
			util_fmt_age(buf, sizeof buf, v->now_ms - d->created_ms);
			view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - d->created_ms));
		} else {
			snprintf(buf, sizeof buf, "-");
		}
		x = view_col(cv, y, x, c.age, base, buf, 1);
		took = dep_duration(d, v->now_ms, &live);
		if (took >= 0)
			dep_fmt_duration(buf, sizeof buf, took);
		else
			snprintf(buf, sizeof buf, "-");
		if (live)
			view_wake_at(v, v->now_ms + dep_duration_next_change(took));
		x = view_col(cv, y, x, c.took, live && !selected && !stale ? STYLE_STATE_CONNECTING :
		    base, buf, 1);
		view_col(cv, y, x, c.message, selected ? base : STYLE_DIM, d->message, 0);
	}
}

static const struct dep_row *
dep_selected(const struct view *v)
{
	const struct deployments_view *dv = v->priv;

	if (dv->hist == NULL || dv->list.n == 0)
		return NULL;
	return &dv->rows[dv->list.sel];
}

/* One "Label      text" line of the detail view; returns the next row. */
static int
dep_detail_line(struct canvas *cv, int y, const char *label, enum style_id st, const char *text)
{
	if (y >= canvas_height(cv))
		return y;
	canvas_text(cv, y, 1, STYLE_HEADER, label);
	canvas_textn(cv, y, 13, canvas_width(cv) - 14, st, text, strlen(text));
	return y + 1;
}

/* "23h ago (2026-11-22 11:00:00)", local time. */
static void
dep_fmt_time(char *buf, size_t len, int64_t now, int64_t t)
{
	char age[16], when[32];
	time_t secs = (time_t)(t / 1000);
	struct tm tm;

	if (t <= 0) {
		snprintf(buf, len, "at an unknown time");
		return;
	}
	util_fmt_age(age, sizeof age, now - t);
	localtime_r(&secs, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s ago (%s)", age, when);
}

/* The rollback section: what a rollback to deployment IDX of H would undo. */
static int
dep_detail_rollback(struct view *v, struct canvas *cv, int y, const struct deployments_view *dv,
    size_t svc, size_t idx)
{
	const struct railway_service_history *hist = &dv->hist->services[svc];
	const struct railway_deployment *d = &hist->deployments[idx];
	int w = canvas_width(cv), h = canvas_height(cv);
	size_t undone[DEP_UNDO_MAX], n, shown, never = 0;
	char buf[64], age[16];
	int vcol = 1, scol = 1;

	if (y + 1 >= h)
		return y;
	y++;
	if (dv->active[svc] == idx) {
		canvas_text(cv, y++, 1, STYLE_DIM, "This deployment is serving now.");
		return y;
	}
	if (!d->can_rollback) {
		canvas_text(cv, y++, 1, STYLE_DIM, "Railway offers no rollback to this deployment.");
		return y;
	}
	n = deployments_undone_by_rollback(hist, idx, undone, DEP_UNDO_MAX);
	for (size_t i = 0; i < idx; i++)
		never += hist->deployments[i].status == RAILWAY_STATUS_FAILED ||
		    hist->deployments[i].status == RAILWAY_STATUS_SKIPPED;
	if (n == 0) {
		canvas_printf(cv, y++, 1, w - 2, STYLE_DEFAULT, "A rollback to %s undoes no "
		    "deployment.", d->version[0] != '\0' ? d->version : "this deployment");
	} else {
		canvas_printf(cv, y++, 1, w - 2, STYLE_HEADER, "A rollback to %s undoes %zu "
		    "deployment%s:", d->version[0] != '\0' ? d->version : "this deployment", n,
		    n == 1 ? "" : "s");
	}
	shown = n < DEP_UNDO_MAX ? n : DEP_UNDO_MAX;
	for (size_t k = 0; k < shown; k++) {
		const struct railway_deployment *u = &hist->deployments[undone[k]];
		int vw = canvas_str_width(u->version, strlen(u->version));
		int sw = canvas_str_width(u->status_text, strlen(u->status_text));

		vcol = vw > vcol ? (vw > 16 ? 16 : vw) : vcol;
		scol = sw > scol ? (sw > 14 ? 14 : sw) : scol;
	}
	for (size_t k = 0; k < shown && y < h; k++) {
		const struct railway_deployment *u = &hist->deployments[undone[k]];
		const char *ver = u->version[0] != '\0' ? u->version : "-";
		int x = 3;

		if (k + 1 < shown && y + 1 == h) {
			canvas_printf(cv, y++, 3, w - 4, STYLE_DIM, "… and %zu more", n - k);
			break;
		}
		if (dv->active[svc] == undone[k])
			canvas_text(cv, y, x, STYLE_HEALTH_OK, canvas_glyph(cv, CANVAS_GLYPH_BULLET));
		x += 2;
		canvas_textn(cv, y, x, vcol, STYLE_DEFAULT, ver, strlen(ver));
		x += vcol + 2;
		canvas_textn(cv, y, x, scol, provider_kind_style(railway_status_kind(u->status)),
		    u->status_text, strlen(u->status_text));
		x += scol + 2;
		if (u->created_ms > 0)
			util_fmt_age(age, sizeof age, v->now_ms - u->created_ms);
		else
			snprintf(age, sizeof age, "?");
		dep_short_id(buf, sizeof buf, u->id);
		canvas_printf(cv, y++, x, w - x - 1, STYLE_DEFAULT, "%4s ago  %s%s%s", age, buf,
		    u->creator[0] != '\0' ? "  by " : "", u->creator);
	}
	if (never > 0 && y < h)
		canvas_printf(cv, y++, 3, w - 4, STYLE_DIM, "(%zu newer failed or skipped: never "
		    "served, nothing to undo)", never);
	return y;
}

static void
deployments_view_draw_detail(struct view *v, struct canvas *cv)
{
	struct deployments_view *dv = v->priv;
	const struct dep_row *r = dep_selected(v);
	const struct railway_service_history *sh;
	const struct railway_deployment *d;
	int y = 0, w = canvas_width(cv), live, x;
	char line[512], a[96];
	int64_t took;

	canvas_clear(cv, STYLE_DEFAULT);
	if (r == NULL) {
		canvas_text(cv, 0, 1, STYLE_DIM, "No deployment selected.");
		return;
	}
	sh = &dv->hist->services[r->svc];
	d = dep_at(dv, r);
	x = 1 + canvas_printf(cv, y, 1, w - 2, STYLE_TITLE, "%s %s ", sh->service_name,
	    d->version[0] != '\0' ? d->version : "");
	x += canvas_textn(cv, y, x, w - x - 1, provider_kind_style(railway_status_kind(d->status)),
	    d->status_text, strlen(d->status_text));
	if (dv->active[r->svc] == r->dep)
		canvas_printf(cv, y, x, w - x - 1, STYLE_HEALTH_OK, "  %s serving",
		    canvas_glyph(cv, CANVAS_GLYPH_BULLET));
	y += 2;
	dep_fmt_time(a, sizeof a, v->now_ms, d->status_updated_ms);
	snprintf(line, sizeof line, "%s%s %s", d->status_text, d->stopped ? ", stopped," : "", a);
	y = dep_detail_line(cv, y, "Status", provider_kind_style(railway_status_kind(d->status)), line);
	dep_fmt_time(a, sizeof a, v->now_ms, d->created_ms);
	snprintf(line, sizeof line, "%s%s%s", a, d->creator[0] != '\0' ? "  by " : "", d->creator);
	y = dep_detail_line(cv, y, "Created", STYLE_DEFAULT, line);
	if (d->created_ms > 0)
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - d->created_ms));
	if (d->status_updated_ms > 0)
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - d->status_updated_ms));
	took = dep_duration(d, v->now_ms, &live);
	if (took >= 0) {
		dep_fmt_duration(a, sizeof a, took);
		if (live)
			view_wake_at(v, v->now_ms + dep_duration_next_change(took));
		y = dep_detail_line(cv, y, live ? "Running for" : "Took",
		    live ? STYLE_STATE_CONNECTING : STYLE_DEFAULT, a);
	}
	y = dep_detail_line(cv, y, "Version", STYLE_DEFAULT, d->version[0] != '\0' ? d->version : "-");
	y = dep_detail_line(cv, y, "Commit", STYLE_DEFAULT, d->commit[0] != '\0' ? d->commit : "-");
	if (d->message[0] != '\0')
		y = dep_detail_line(cv, y, "Message", STYLE_DEFAULT, d->message);
	y = dep_detail_line(cv, y, "Image", STYLE_DEFAULT, d->image[0] != '\0' ? d->image : "-");
	snprintf(line, sizeof line, "%d running, %d crashed, %d listed", d->instances_running,
	    d->instances_crashed, d->instances);
	y = dep_detail_line(cv, y, "Instances", d->instances_crashed > 0 ? STYLE_HEALTH_DOWN :
	    STYLE_DEFAULT, line);
	snprintf(line, sizeof line, "rollback %s, redeploy %s", d->can_rollback ? "yes" : "no",
	    d->can_redeploy ? "yes" : "no");
	y = dep_detail_line(cv, y, "Can", STYLE_DEFAULT, line);
	y = dep_detail_line(cv, y, "Deployment", STYLE_DIM, d->id);
	y = dep_detail_line(cv, y, "Service", STYLE_DIM, sh->service_id);
	dep_detail_rollback(v, cv, y, dv, r->svc, r->dep);
}

/* "v2 (b3f1a0c8, SUCCESS 2h ago)" for D into BUF. */
static const char *
dep_words(const struct view *v, const struct railway_deployment *d, char *buf, size_t len)
{
	char age[16];

	if (d == NULL) {
		snprintf(buf, len, "nothing serving");
		return buf;
	}
	util_fmt_age(age, sizeof age, v->now_ms - d->created_ms);
	snprintf(buf, len, "%s (%.8s, %s %s ago)", d->version[0] != '\0' ? d->version : "?",
	    d->id, d->status_text, d->created_ms > 0 ? age : "?");
	return buf;
}

/* Ask the application to carry out A on the selected row: deploy and
 * restart act on its service, redeploy, stop and rollback on the
 * deployment itself.  The policy, the confirmation and the audit are the
 * application's (act.h); this only says exactly what is asked. */
static void
dep_request(struct view *v, enum action a)
{
	struct deployments_view *dv = v->priv;
	const struct dep_row *r = dep_selected(v);
	const struct railway_service_history *sh;
	const struct railway_deployment *d, *act;
	struct policy_req q;
	char before[160], after[160], plan[8][160];
	const char *plan_p[8];
	size_t undone[8], n, k;

	if (v->host == NULL || v->host->act == NULL)
		return;
	if (r == NULL) {
		if (v->host->message != NULL)
			v->host->message(v->host->ud, 1, "no deployment selected");
		return;
	}
	sh = &dv->hist->services[r->svc];
	d = &sh->deployments[r->dep];
	act = dv->active[r->svc] != DEP_NONE ? &sh->deployments[dv->active[r->svc]] : NULL;
	memset(&q, 0, sizeof q);
	q.action = a;
	q.target = sh->service_name;
	q.target_id = sh->service_id;
	q.from = q.to = -1;
	q.before = dep_words(v, act, before, sizeof before);
	switch (a) {
	case ACTION_DEPLOY:
		q.after = "the service's latest source";
		break;
	case ACTION_RESTART:
		if (act == NULL) {
			if (v->host->message != NULL)
				v->host->message(v->host->ud, 1, "nothing is serving: nothing to restart");
			return;
		}
		q.deployment = act->id;
		q.after = "the same deployment, new processes";
		break;
	case ACTION_REDEPLOY:
	case ACTION_STOP:
		q.deployment = d->id;
		q.after = a == ACTION_STOP ? "stopped: the service stops serving" :
		    dep_words(v, d, after, sizeof after);
		break;
	case ACTION_ROLLBACK:
		if (!d->can_rollback) {
			snprintf(after, sizeof after, "%.8s cannot be rolled back to: it never "
			    "served, or it is the one serving", d->id);
			if (v->host->message != NULL)
				v->host->message(v->host->ud, 1, after);
			return;
		}
		q.deployment = d->id;
		q.after = dep_words(v, d, after, sizeof after);
		n = deployments_undone_by_rollback(sh, r->dep, undone, ARRAY_LEN(undone));
		for (k = 0; k < n && k < ARRAY_LEN(undone); k++) {
			char w[120];

			snprintf(plan[k], sizeof plan[k], "undoes %s",
			    dep_words(v, &sh->deployments[undone[k]], w, sizeof w));
			plan_p[k] = plan[k];
		}
		q.plan = plan_p;
		q.n_plan = k;
		break;
	default:
		return;
	}
	v->host->act(v->host->ud, &q);
}

static int
deployments_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct deployments_view *dv = v->priv;

	if (a == ACTION_REFRESH) {
		provider_refresh(v);
		return 1;
	}
	if (a == ACTION_BACK && provider_focus_back(v))
		return 1;

	(void)ev;
	if (view_list_key(&dv->list, a)) {
		v->dirty = 1;
		return 1;
	}
	switch (a) {
	case ACTION_DEPLOY:
	case ACTION_REDEPLOY:
	case ACTION_RESTART:
	case ACTION_STOP:
	case ACTION_ROLLBACK:
		dep_request(v, a);
		return 1;
	default:
		return 0;
	}
}

static void
deployments_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct deployments_view *dv = v->priv;
	size_t busy, failed;

	buf[0] = '\0';
	dep_counts(dv, &busy, &failed);
	if (failed)
		snprintf(buf, len, "%zu failed", failed);
	else if (busy)
		snprintf(buf, len, "%zu deploying", busy);
	else if (provider_is_stale(dv->have_src, &dv->src))
		snprintf(buf, len, "stale");
	*is_bad = failed > 0 || provider_is_stale(dv->have_src, &dv->src);
}

const struct view_ops deployments_view_ops = {
	.name = "deployments",
	.title = "Deploys",
	.priv_size = sizeof(struct deployments_view),
	.enabled = view_provider_enabled,
	.init = deployments_view_init,
	.update = deployments_view_update,
	.draw = deployments_view_draw,
	.draw_detail = deployments_view_draw_detail,
	.key = deployments_view_key,
	.badge = deployments_view_badge,
	.free = deployments_view_free,
};
