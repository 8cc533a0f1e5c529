/* overview.c - the overview pane: one row per service of the provider's
 * project, with its latest deployment, version and age, replicas running
 * against desired, health from the health pane, and CPU and memory
 * sparklines; the selected service's details on the right.
 *
 * The pane draws what the store holds and says how old it is: while the
 * provider's refreshes fail the rows are dimmed and the title says "stale"
 * with the age and the error, never passing old data off as fresh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/health.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

#define OV_SPARK_MAX 256	/* points drawn per sparkline */

struct overview_view {
	struct railway_project_snap *snap;	/* one reference held */
	uint64_t gen, health_gen;
	const struct health_snap *health;	/* the store's, valid until the next update */
	struct store_source src;		/* copy of the provider's state */
	int have_src;
	char filter[sizeof(((struct view *)0)->filter)];
	size_t *rows;		/* indexes into snap->services that pass the filter */
	struct view_list list;
};

static int
overview_view_init(struct view *v, const struct config *cfg)
{
	(void)v;
	(void)cfg;
	return 0;
}

static void
overview_view_free(struct view *v)
{
	struct overview_view *ov = v->priv;

	railway_project_snap_unref(ov->snap);
	free(ov->rows);
}

/* The worst health state of the endpoints that belong to service NAME;
 * -1 when none does.  *N gets how many do. */
static int
overview_health_of(const struct health_snap *hs, const char *name, size_t *n)
{
	int worst = -1;

	*n = 0;
	for (size_t i = 0; hs != NULL && i < hs->n; i++) {
		const struct health_result *r = hs->eps[i];
		int rank;

		if (r->service[0] == '\0' || strcmp(r->service, name) != 0)
			continue;
		(*n)++;
		/* DOWN > DEGRADED > UNKNOWN > OK */
		rank = r->state == HEALTH_DOWN ? 3 : r->state == HEALTH_DEGRADED ? 2 :
		    r->state == HEALTH_UNKNOWN ? 1 : 0;
		if (rank > worst)
			worst = rank;
	}
	return worst;
}

static enum health_state
overview_rank_state(int rank)
{
	return rank == 3 ? HEALTH_DOWN : rank == 2 ? HEALTH_DEGRADED :
	    rank == 1 ? HEALTH_UNKNOWN : HEALTH_OK;
}

static enum style_id
overview_health_style(enum health_state s)
{
	switch (s) {
	case HEALTH_OK: return STYLE_HEALTH_OK;
	case HEALTH_DEGRADED: return STYLE_HEALTH_DEGRADED;
	case HEALTH_DOWN: return STYLE_HEALTH_DOWN;
	case HEALTH_UNKNOWN: return STYLE_HEALTH_UNKNOWN;
	}
	return STYLE_DEFAULT;
}

static int
overview_matches(const struct railway_service *s, const char *filter)
{
	if (filter[0] == '\0')
		return 1;
	if (util_strcasestr(s->name, filter) != NULL || util_strcasestr(s->image, filter) != NULL)
		return 1;
	return s->latest != NULL && (util_strcasestr(s->latest->status_text, filter) != NULL ||
	    util_strcasestr(s->latest->version, filter) != NULL);
}

static void
overview_rebuild(struct view *v)
{
	struct overview_view *ov = v->priv;
	const struct railway_project_snap *s = ov->snap;
	size_t n = 0;

	ov->rows = xreallocarray(ov->rows, s != NULL && s->n_services ? s->n_services : 1,
	    sizeof *ov->rows);
	for (size_t i = 0; s != NULL && i < s->n_services; i++)
		if (overview_matches(&s->services[i], v->filter))
			ov->rows[n++] = i;
	view_list_fit(&ov->list, n, 0);
}

static void
overview_view_update(struct view *v, const struct store *store)
{
	struct overview_view *ov = v->priv;
	uint64_t gen, hgen;
	const struct railway_project_snap *snap = store_get(store, STORE_TOPIC_SERVICES, &gen);
	const struct health_snap *hs = store_get(store, STORE_TOPIC_HEALTH, &hgen);
	const struct store_source *src = store_source_find(store, RAILWAY_SOURCE);

	if (provider_sync_source(&ov->have_src, &ov->src, src))
		v->dirty = 1;
	if (hgen != ov->health_gen) {
		ov->health_gen = hgen;
		ov->health = hs;
		v->dirty = 1;
	}
	if (gen != ov->gen || strcmp(ov->filter, v->filter) != 0) {
		if (gen != ov->gen) {
			/* the store holds its own reference: take ours before dropping the old */
			railway_project_snap_ref((struct railway_project_snap *)snap);
			railway_project_snap_unref(ov->snap);
			ov->snap = (struct railway_project_snap *)snap;
			ov->gen = gen;
		}
		util_strlcpy(ov->filter, v->filter, sizeof ov->filter);
		overview_rebuild(v);
		v->dirty = 1;
	}
}

static const struct railway_service *
overview_selected(const struct view *v)
{
	const struct overview_view *ov = v->priv;

	if (ov->snap == NULL || ov->list.n == 0)
		return NULL;
	return &ov->snap->services[ov->rows[ov->list.sel]];
}

/* The latest values of SER (at most OV_SPARK_MAX) as doubles into OUT. */
static size_t
overview_series(const struct railway_series *ser, double *out)
{
	size_t from = ser->n > OV_SPARK_MAX ? ser->n - OV_SPARK_MAX : 0, k = 0;

	for (size_t i = from; i < ser->n; i++)
		out[k++] = ser->points[i].value;
	return k;
}

static void
overview_fmt_cpu(char *buf, size_t len, const struct railway_series *ser)
{
	if (ser->n == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", ser->points[ser->n - 1].value);
}

static void
overview_fmt_mem(char *buf, size_t len, const struct railway_series *ser)
{
	double gb;

	if (ser->n == 0) {
		snprintf(buf, len, "-");
		return;
	}
	gb = ser->points[ser->n - 1].value;
	if (gb < 1)
		snprintf(buf, len, "%.0fM", gb * 1024);
	else
		snprintf(buf, len, "%.1fG", gb);
}

static void
overview_fmt_replicas(char *buf, size_t len, const struct railway_service *s)
{
	if (s->desired_total < 0)
		snprintf(buf, len, "%d/?", s->running_total);
	else
		snprintf(buf, len, "%d/%d", s->running_total, s->desired_total);
}

struct overview_cols {
	int status, name, version, age, replicas, health, cpu, cpu_v, mem, mem_v;
};

static void
overview_layout(int w, size_t name_max, struct overview_cols *c)
{
	int used;

	memset(c, 0, sizeof *c);
	c->status = 10;
	c->name = (int)name_max < 7 ? 7 : (int)name_max > 24 ? 24 : (int)name_max;
	c->version = 8;
	c->age = 5;
	c->replicas = 8;
	c->health = 9;
	used = c->status + c->name + c->version + c->age + c->replicas + c->health + 6;
	if (w - used >= 28) {
		c->cpu_v = 5;
		c->mem_v = 5;
		c->cpu = c->mem = (w - used - 14) / 2 > 24 ? 24 : (w - used - 14) / 2;
	} else if (w - used >= 12) {
		c->cpu_v = 5;
		c->mem_v = 5;
	}
	if (w < used) {
		c->health = 0;
		c->age = w - (used - 9) >= 0 ? c->age : 0;
	}
}

/* The title line: project / environment, counts, and freshness. */
static void
overview_title(struct view *v, struct canvas *cv, size_t failing)
{
	const struct overview_view *ov = v->priv;
	const struct railway_project_snap *s = ov->snap;
	char age[16];
	int x;

	x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Overview  %s / %s  %zu services",
	    s->project_name, s->environment_name, s->n_services);
	if (failing)
		x += canvas_printf(cv, 0, x, -1, STYLE_HEALTH_DOWN, ", %zu failing", failing);
	if (provider_is_stale(ov->have_src, &ov->src)) {
		util_fmt_age(age, sizeof age, v->now_ms - s->fetched_ms);
		x += canvas_printf(cv, 0, x, -1, STYLE_STATE_STALE, "   stale: data %s old: %s",
		    age, ov->src.error[0] != '\0' ? ov->src.error : "refresh failing");
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - s->fetched_ms));
	}
	if (v->filter[0] != '\0')
		canvas_printf(cv, 0, x, -1, STYLE_MATCH, "   filter '%s': %zu shown",
		    v->filter, ov->list.n);
}

static void
overview_view_draw(struct view *v, struct canvas *cv)
{
	struct overview_view *ov = v->priv;
	const struct railway_project_snap *s = ov->snap;
	int w = canvas_width(cv), h = canvas_height(cv), y, x, stale;
	struct overview_cols c;
	size_t i, name_max = 7, failing = 0;
	double vals[OV_SPARK_MAX];

	canvas_clear(cv, STYLE_DEFAULT);
	v->next_change_ms = 0;
	if (s == NULL) {
		provider_draw_empty(cv, ov->have_src, &ov->src, "Fetching the project…");
		ov->list.page = h;
		return;
	}
	for (i = 0; i < s->n_services; i++) {
		size_t len = strlen(s->services[i].name);

		if (len > name_max)
			name_max = len;
		if (s->services[i].latest != NULL &&
		    railway_status_kind(s->services[i].latest->status) == RAILWAY_KIND_FAIL)
			failing++;
	}
	overview_layout(w, name_max, &c);
	overview_title(v, cv, failing);

	x = 0;
	x = view_col(cv, 1, x, c.status, STYLE_HEADER, "STATUS", 0);
	x = view_col(cv, 1, x, c.name, STYLE_HEADER, "SERVICE", 0);
	x = view_col(cv, 1, x, c.version, STYLE_HEADER, "VERSION", 0);
	x = view_col(cv, 1, x, c.age, STYLE_HEADER, "AGE", 1);
	x = view_col(cv, 1, x, c.replicas, STYLE_HEADER, "REPLICAS", 1);
	x = view_col(cv, 1, x, c.health, STYLE_HEADER, "HEALTH", 0);
	x = view_col(cv, 1, x, c.cpu_v, STYLE_HEADER, "CPU", 1);
	x = view_col(cv, 1, x, c.cpu, STYLE_HEADER, "", 0);
	x = view_col(cv, 1, x, c.mem_v, STYLE_HEADER, "MEM", 1);

	view_list_fit(&ov->list, ov->list.n, h - 2 > 1 ? h - 2 : 1);
	if (ov->list.n == 0)
		canvas_printf(cv, 2, 1, -1, STYLE_DIM, s->n_services == 0 ?
		    "the project has no services%s" : "nothing matches '%s' (Esc clears the filter)",
		    s->n_services == 0 ? "" : v->filter);
	stale = provider_is_stale(ov->have_src, &ov->src);
	for (y = 2, i = ov->list.top; i < ov->list.n && y < h; i++, y++) {
		const struct railway_service *sv = &s->services[ov->rows[i]];
		const struct railway_deployment *d = sv->latest;
		int selected = i == ov->list.sel;
		enum style_id base = selected ? STYLE_SELECTED : stale ? STYLE_DIM : STYLE_DEFAULT;
		char buf[64];
		size_t n_ep;
		int rank;

		if (selected)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		x = view_col(cv, y, 0, c.status, d == NULL ? STYLE_DIM : stale && !selected ?
		    STYLE_DIM : provider_kind_style(railway_status_kind(d->status)),
		    d == NULL ? "no deploy" : d->status_text, 0);
		x = view_col(cv, y, x, c.name, base, sv->name, 0);
		x = view_col(cv, y, x, c.version, base, d != NULL && d->version[0] != '\0' ?
		    d->version : sv->source_version[0] != '\0' ? sv->source_version : "-", 0);
		if (d != NULL && d->created_ms > 0) {
			util_fmt_age(buf, sizeof buf, v->now_ms - d->created_ms);
			view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - d->created_ms));
		} else {
			snprintf(buf, sizeof buf, "-");
		}
		x = view_col(cv, y, x, c.age, base, buf, 1);
		overview_fmt_replicas(buf, sizeof buf, sv);
		x = view_col(cv, y, x, c.replicas, sv->desired_total >= 0 &&
		    sv->running_total < sv->desired_total && !selected ? STYLE_HEALTH_DEGRADED :
		    base, buf, 1);
		rank = overview_health_of(ov->health, sv->name, &n_ep);
		x = view_col(cv, y, x, c.health, rank < 0 ? base : selected ? STYLE_SELECTED :
		    overview_health_style(overview_rank_state(rank)), rank < 0 ? "-" :
		    health_state_name(overview_rank_state(rank)), 0);
		overview_fmt_cpu(buf, sizeof buf, &sv->cpu);
		x = view_col(cv, y, x, c.cpu_v, base, buf, 1);
		if (c.cpu > 0) {
			canvas_sparkline(cv, y, x, c.cpu, selected ? STYLE_SELECTED : STYLE_SPARKLINE,
			    vals, overview_series(&sv->cpu, vals), 0);
			x += c.cpu + 1;
		}
		overview_fmt_mem(buf, sizeof buf, &sv->mem);
		x = view_col(cv, y, x, c.mem_v, base, buf, 1);
		if (c.mem > 0)
			canvas_sparkline(cv, y, x, c.mem, selected ? STYLE_SELECTED : STYLE_SPARKLINE,
			    vals, overview_series(&sv->mem, vals), 0);
	}
}

/* One "Label   text" line of the detail view; returns the next row. */
static int
overview_detail_line(struct canvas *cv, int y, const char *label, enum style_id st,
    const char *text)
{
	if (y >= canvas_height(cv))
		return y;
	canvas_text(cv, y, 1, STYLE_HEADER, label);
	canvas_textn(cv, y, 11, canvas_width(cv) - 12, st, text, strlen(text));
	return y + 1;
}

static int
overview_detail_deploy(struct view *v, struct canvas *cv, int y, const char *label,
    const struct railway_deployment *d)
{
	char line[256], age[16];

	if (d == NULL)
		return overview_detail_line(cv, y, label, STYLE_DIM, "none");
	util_fmt_age(age, sizeof age, v->now_ms - d->created_ms);
	snprintf(line, sizeof line, "%s  %s  %s ago%s%s  id %.8s", d->status_text,
	    d->version[0] != '\0' ? d->version : "-", d->created_ms > 0 ? age : "?",
	    d->creator[0] != '\0' ? "  by " : "", d->creator, d->id);
	return overview_detail_line(cv, y, label, provider_kind_style(railway_status_kind(d->status)),
	    line);
}

static void
overview_view_draw_detail(struct view *v, struct canvas *cv)
{
	struct overview_view *ov = v->priv;
	const struct railway_service *s = overview_selected(v);
	int y = 0, w = canvas_width(cv), h = canvas_height(cv);
	double vals[OV_SPARK_MAX];
	char line[256];

	canvas_clear(cv, STYLE_DEFAULT);
	if (s == NULL) {
		canvas_text(cv, 0, 1, STYLE_DIM, "No service selected.");
		return;
	}
	canvas_printf(cv, y++, 1, w - 2, STYLE_TITLE, "%s", s->name);
	y++;
	y = overview_detail_deploy(v, cv, y, "Latest", s->latest);
	if (s->active == NULL || s->latest == NULL || strcmp(s->active->id, s->latest->id) != 0)
		y = overview_detail_deploy(v, cv, y, "Serving", s->active);
	snprintf(line, sizeof line, "%s%s%s", s->image[0] != '\0' ? s->image : s->repo,
	    s->latest != NULL && s->latest->commit[0] != '\0' ? "  commit " : "",
	    s->latest != NULL ? s->latest->commit : "");
	y = overview_detail_line(cv, y, "Source", STYLE_DEFAULT, line[0] != '\0' ? line : "-");
	if (s->domain[0] != '\0')
		y = overview_detail_line(cv, y, "Domain", STYLE_DEFAULT, s->domain);
	y = overview_detail_line(cv, y, "Service", STYLE_DIM, s->id);
	y++;
	if (y < h)
		canvas_text(cv, y++, 1, STYLE_HEADER, "Replicas");
	for (size_t i = 0; i < s->n_regions && y < h; i++) {
		const struct railway_region *r = &s->regions[i];

		if (r->desired >= 0)
			snprintf(line, sizeof line, "%d running, %d desired", r->running, r->desired);
		else
			snprintf(line, sizeof line, "%d running, not configured", r->running);
		canvas_printf(cv, y, 3, 16, STYLE_DEFAULT, "%s", r->name);
		canvas_textn(cv, y++, 20, w - 21, r->desired >= 0 && r->running < r->desired ?
		    STYLE_HEALTH_DEGRADED : STYLE_DEFAULT, line, strlen(line));
	}
	if (s->n_regions == 0 && y < h)
		canvas_text(cv, y++, 3, STYLE_DIM, "no replicas");
	y++;
	if (y + 1 < h && (s->cpu.n > 0 || s->mem.n > 0)) {
		canvas_text(cv, y++, 1, STYLE_HEADER, "Usage");
		overview_fmt_cpu(line, sizeof line, &s->cpu);
		canvas_printf(cv, y, 3, 14, STYLE_DEFAULT, "cpu %s", line);
		canvas_sparkline(cv, y++, 18, w - 20, STYLE_SPARKLINE, vals,
		    overview_series(&s->cpu, vals), 0);
		overview_fmt_mem(line, sizeof line, &s->mem);
		canvas_printf(cv, y, 3, 14, STYLE_DEFAULT, "mem %s", line);
		canvas_sparkline(cv, y++, 18, w - 20, STYLE_SPARKLINE, vals,
		    overview_series(&s->mem, vals), 0);
		y++;
	}
	if (y < h && ov->health != NULL) {
		size_t n_ep;

		overview_health_of(ov->health, s->name, &n_ep);
		if (n_ep > 0)
			canvas_text(cv, y++, 1, STYLE_HEADER, "Health");
		for (size_t i = 0; i < ov->health->n && y < h; i++) {
			const struct health_result *r = ov->health->eps[i];

			if (strcmp(r->service, s->name) != 0)
				continue;
			canvas_printf(cv, y, 3, 10, overview_health_style(r->state), "%s",
			    health_state_name(r->state));
			canvas_printf(cv, y++, 14, w - 15, STYLE_DEFAULT, "%s  %s", r->name,
			    r->reason);
		}
	}
}

static int
overview_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct overview_view *ov = v->priv;

	if (a == ACTION_REFRESH) {
		provider_refresh(v);
		return 1;
	}

	(void)ev;
	if (view_list_key(&ov->list, a)) {
		const struct railway_service *sel = overview_selected(v);

		/* selecting a service narrows the other provider panes to it */
		if (sel != NULL && v->host != NULL && v->host->console != NULL)
			console_set_focus(v->host->console, sel->id, sel->name);
		v->dirty = 1;
		return 1;
	}
	if (a == ACTION_BACK && provider_focus_back(v))
		return 1;
	return 0;
}

static void
overview_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct overview_view *ov = v->priv;
	size_t failing = 0;

	buf[0] = '\0';
	*is_bad = 0;
	if (ov->snap != NULL)
		for (size_t i = 0; i < ov->snap->n_services; i++)
			if (ov->snap->services[i].latest != NULL &&
			    railway_status_kind(ov->snap->services[i].latest->status) == RAILWAY_KIND_FAIL)
				failing++;
	if (failing)
		snprintf(buf, len, "%zu failed", failing);
	else if (provider_is_stale(ov->have_src, &ov->src))
		snprintf(buf, len, "stale");
	*is_bad = failing > 0 || provider_is_stale(ov->have_src, &ov->src);
}

const struct view_ops overview_view_ops = {
	.name = "overview",
	.title = "Overview",
	.priv_size = sizeof(struct overview_view),
	.enabled = view_provider_enabled,
	.init = overview_view_init,
	.update = overview_view_update,
	.draw = overview_view_draw,
	.draw_detail = overview_view_draw_detail,
	.key = overview_view_key,
	.badge = overview_view_badge,
	.free = overview_view_free,
};
