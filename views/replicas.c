/* replicas.c - the replicas pane: for every service and region of the
 * project, the replicas running against the replicas desired, drawn as
 * dots (one per replica) or a bar, with a shortfall highlighted and a
 * scaling in progress visible as it converges; the selected service's
 * regions and CPU and memory sparklines in the detail view.
 *
 * Convergence is seen by comparing each snapshot with the previous one:
 * the pane remembers, per service and region, the running and desired
 * counts it last saw, so "3 short, scaling 2 → 5, rising" shows while the
 * provider brings replicas up, and goes back to "ok" when it is done.
 *
 * Like the overview, the pane says how old its data is: while the
 * provider's refreshes fail the rows are dimmed and the title says "stale"
 * with the age and the error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "signalbox/canvas.h"
#include "signalbox/console.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

#define REP_NONE SIZE_MAX	/* a row of a service without regions */
#define REP_SPARK_MAX 256	/* points drawn per sparkline */
#define REP_NO_CHANGE (-2)	/* rep_track.from_desired: no scaling seen */

/* What the pane saw last of one service in one region. */
struct rep_track {
	char *service_id, *region;
	int running, desired;
	int from_desired;	/* desired before the scaling in progress, REP_NO_CHANGE */
	int trend;		/* running rose (+1) or fell (-1) on its last change, 0 settled */
};

/* One list row: region REG (REP_NONE: none) of service SVC. */
struct rep_row {
	size_t svc, reg;
	size_t track;		/* index into tracks, REP_NONE for a service without regions */
};

struct replicas_view {
	struct railway_project_snap *snap;	/* one reference held */
	uint64_t gen;
	struct store_source src;		/* copy of the provider's state */
	int have_src;
	char filter[sizeof(((struct view *)0)->filter)];
	char focus[sizeof(((struct view *)0)->focus)];	/* the focus the rows were built for */
	struct rep_track *tracks;	/* every (service, region) of snap, in its order */
	size_t n_tracks;
	struct rep_row *rows;		/* rows that pass the filter */
	struct view_list list;
};

static int
replicas_view_init(struct view *v, const struct config *cfg)
{
	(void)v;
	(void)cfg;
	return 0;
}

static void
rep_tracks_free(struct rep_track *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].service_id);
		free(t[i].region);
	}
	free(t);
}

static void
replicas_view_free(struct view *v)
{
	struct replicas_view *rv = v->priv;

	railway_project_snap_unref(rv->snap);
	rep_tracks_free(rv->tracks, rv->n_tracks);
	free(rv->rows);
}

/* Follow every (service, region) of the new snapshot from what was seen
 * before. */
static void
rep_track_all(struct replicas_view *rv)
{
	const struct railway_project_snap *s = rv->snap;
	struct rep_track *old = rv->tracks, *t;
	size_t n_old = rv->n_tracks, n = 0, k = 0;

	for (size_t i = 0; s != NULL && i < s->n_services; i++)
		n += s->services[i].n_regions;
	t = xcalloc(n ? n : 1, sizeof *t);
	for (size_t i = 0; s != NULL && i < s->n_services; i++) {
		const struct railway_service *sv = &s->services[i];

		for (size_t j = 0; j < sv->n_regions; j++, k++) {
			const struct railway_region *r = &sv->regions[j];
			const struct rep_track *o = NULL;

			t[k].service_id = xstrdup(sv->id);
			t[k].region = xstrdup(r->name);
			t[k].running = r->running;
			t[k].desired = r->desired;
			t[k].from_desired = REP_NO_CHANGE;
			for (size_t m = 0; m < n_old && o == NULL; m++)
				if (strcmp(old[m].service_id, sv->id) == 0 &&
				    strcmp(old[m].region, r->name) == 0)
					o = &old[m];
			if (o == NULL || r->running == r->desired)
				continue;
			/* not there yet: keep the direction and the scaling seen */
			t[k].trend = r->running > o->running ? 1 : r->running < o->running ? -1 :
			    o->trend;
			t[k].from_desired = r->desired != o->desired ? o->desired : o->from_desired;
		}
	}
	rep_tracks_free(old, n_old);
	rv->tracks = t;
	rv->n_tracks = n;
}

static int
rep_matches(const struct railway_service *s, const struct railway_region *r,
    const char *filter)
{
	if (filter[0] == '\0')
		return 1;
	return util_strcasestr(s->name, filter) != NULL ||
	    (r != NULL && util_strcasestr(r->name, filter) != NULL);
}

/* Rebuild the rows; the selection stays on SEL_SERVICE / SEL_REGION (the
 * service id and region name, either may be NULL) when still listed. */
static void
rep_rebuild(struct view *v, const char *sel_service, const char *sel_region)
{
	struct replicas_view *rv = v->priv;
	const struct railway_project_snap *s = rv->snap;
	size_t n = 0, k = 0, cap = rv->n_tracks;

	for (size_t i = 0; s != NULL && i < s->n_services; i++)
		cap += s->services[i].n_regions == 0;
	rv->rows = xreallocarray(rv->rows, cap ? cap : 1, sizeof *rv->rows);
	for (size_t i = 0; s != NULL && i < s->n_services; i++) {
		const struct railway_service *sv = &s->services[i];

		int in = provider_in_focus(v, sv->id);

		if (in && sv->n_regions == 0 && rep_matches(sv, NULL, v->filter))
			rv->rows[n++] = (struct rep_row){ i, REP_NONE, REP_NONE };
		/* k counts every region (tracks), shown or not */
		for (size_t j = 0; j < sv->n_regions; j++, k++)
			if (in && rep_matches(sv, &sv->regions[j], v->filter))
				rv->rows[n++] = (struct rep_row){ i, j, k };
	}
	view_list_fit(&rv->list, n, 0);
	if (sel_service == NULL)
		return;
	/* the same region of the same service, else the service's first row */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct rep_row *r = &rv->rows[i];
			const struct railway_service *sv = &s->services[r->svc];

			if (strcmp(sv->id, sel_service) != 0)
				continue;
			if (pass == 1 || r->reg == REP_NONE || sel_region == NULL ||
			    strcmp(sv->regions[r->reg].name, sel_region) == 0) {
				rv->list.sel = i;
				return;
			}
		}
	}
}

static void
replicas_view_update(struct view *v, const struct store *store)
{
	struct replicas_view *rv = v->priv;
	uint64_t gen;
	const struct railway_project_snap *snap = store_get(store, STORE_TOPIC_SERVICES, &gen);
	const struct store_source *src = store_source_find(store, RAILWAY_SOURCE);
	char *sel_service = NULL, *sel_region = NULL;

	if (provider_sync_source(&rv->have_src, &rv->src, src))
		v->dirty = 1;
	if (gen == rv->gen && strcmp(rv->filter, v->filter) == 0 &&
	    strcmp(rv->focus, v->focus) == 0)
		return;
	if (rv->snap != NULL && rv->list.n > 0) {
		const struct rep_row *r = &rv->rows[rv->list.sel];
		const struct railway_service *sv = &rv->snap->services[r->svc];

		sel_service = xstrdup(sv->id);
		if (r->reg != REP_NONE)
			sel_region = xstrdup(sv->regions[r->reg].name);
	}
	if (gen != rv->gen) {
		/* the store holds its own reference: take ours before dropping the old */
		railway_project_snap_ref((struct railway_project_snap *)snap);
		railway_project_snap_unref(rv->snap);
		rv->snap = (struct railway_project_snap *)snap;
		rv->gen = gen;
		rep_track_all(rv);
	}
	util_strlcpy(rv->filter, v->filter, sizeof rv->filter);
	util_strlcpy(rv->focus, v->focus, sizeof rv->focus);
	rep_rebuild(v, sel_service, sel_region);
	free(sel_service);
	free(sel_region);
	v->dirty = 1;
}

/* Replicas missing over every region, and regions short of their desired
 * count. */
static void
rep_shortfall(const struct railway_project_snap *s, int *missing, size_t *regions)
{
	*missing = 0;
	*regions = 0;
	for (size_t i = 0; s != NULL && i < s->n_services; i++) {
		for (size_t j = 0; j < s->services[i].n_regions; j++) {
			const struct railway_region *r = &s->services[i].regions[j];

			if (r->desired >= 0 && r->running < r->desired) {
				*missing += r->desired - r->running;
				(*regions)++;
			}
		}
	}
}

/* Running against desired in W cells: one dot per replica (filled running,
 * hollow missing, surplus still running in the scaling style), or a bar
 * when there are more replicas than cells. */
static void
rep_draw_dots(struct canvas *cv, int y, int x, int w, int running, int desired, int selected,
    int dim)
{
	const char *on = cv->ascii ? "#" : "●", *off = cv->ascii ? "." : "○";
	enum style_id st_on = selected ? STYLE_SELECTED : dim ? STYLE_DIM : STYLE_HEALTH_OK;
	enum style_id st_off = selected ? STYLE_SELECTED : dim ? STYLE_DIM : STYLE_HEALTH_DEGRADED;
	enum style_id st_over = selected ? STYLE_SELECTED : dim ? STYLE_DIM : STYLE_STATE_CONNECTING;
	int top = desired > running ? desired : running, fill;

	if (w <= 0 || top <= 0)
		return;
	if (desired < 0) {
		st_on = selected ? STYLE_SELECTED : STYLE_DIM;
		desired = running;
	}
	if (top <= w) {
		for (int i = 0; i < top; i++)
			canvas_text(cv, y, x + i, i < running && i < desired ? st_on :
			    i < desired ? st_off : st_over, i < running ? on : off);
		return;
	}
	on = cv->ascii ? "#" : "█";
	off = cv->ascii ? "." : "░";
	fill = (int)((long long)(running < desired ? running : desired) * w / top);
	for (int i = 0; i < w; i++) {
		int over = running > desired && i >= (int)((long long)desired * w / top);

		canvas_text(cv, y, x + i, i < fill ? st_on : over ? st_over : st_off,
		    i < fill || over ? on : off);
	}
}

/* The state of a region in words, with its style: *HOW gets the scaling
 * and convergence seen ("" when settled), and with DEPLOYING a rollout of
 * the service in progress. */
static enum style_id
rep_state(const struct canvas *cv, const struct railway_service *sv,
    const struct railway_region *r, const struct rep_track *t, int with_deploy, char *what,
    size_t what_len, char *how, size_t how_len)
{
	const char *up = cv->ascii ? "^" : "↑", *down = cv->ascii ? "v" : "↓";
	const char *to = canvas_glyph(cv, CANVAS_GLYPH_ARROW);
	int deploying = with_deploy && sv->latest != NULL &&
	    railway_status_kind(sv->latest->status) == RAILWAY_KIND_BUSY;
	size_t n = 0;

	how[0] = '\0';
	if (r->desired < 0) {
		snprintf(what, what_len, "not configured");
		return STYLE_DIM;
	}
	if (r->running == r->desired) {
		snprintf(what, what_len, "%s", r->desired == 0 ? "stopped" : "ok");
		return r->desired == 0 ? STYLE_DIM : STYLE_HEALTH_OK;
	}
	if (r->running < r->desired)
		snprintf(what, what_len, "%d short", r->desired - r->running);
	else
		snprintf(what, what_len, "%d over", r->running - r->desired);
	if (t != NULL && t->from_desired != REP_NO_CHANGE && t->from_desired >= 0)
		n += (size_t)snprintf(how + n, how_len - n, "scaling %d %s %d", t->from_desired, to,
		    r->desired);
	if (t != NULL && t->trend != 0 && n < how_len)
		n += (size_t)snprintf(how + n, how_len - n, "%s%s %s", n ? ", " : "",
		    t->trend > 0 ? up : down, (t->trend > 0) == (r->running < r->desired) ?
		    "converging" : t->trend > 0 ? "rising" : "dropping");
	if (deploying && n < how_len)
		snprintf(how + n, how_len - n, "%sdeploying", n ? ", " : "");
	return r->running < r->desired ? STYLE_HEALTH_DEGRADED : STYLE_STATE_CONNECTING;
}

struct rep_cols {
	int service, region, count, dots, state, cpu, mem;
};

static void
rep_layout(int w, size_t service_max, size_t region_max, struct rep_cols *c)
{
	int used;

	memset(c, 0, sizeof *c);
	c->service = (int)service_max < 7 ? 7 : (int)service_max > 20 ? 20 : (int)service_max;
	c->region = (int)region_max < 6 ? 6 : (int)region_max > 16 ? 16 : (int)region_max;
	c->count = 8;
	c->dots = w >= 110 ? 16 : 12;
	used = c->service + 1 + c->region + 1 + c->count + 1 + c->dots + 1;
	if (w - used >= 50) {
		c->cpu = 6;
		c->mem = 6;
		used += 14;
	}
	c->state = w - used;
	if (c->state < 10) {
		/* narrow: the dots give way to the words */
		c->state += c->dots + 1;
		c->dots = 0;
	}
}

static void
rep_fmt_cpu(char *buf, size_t len, const struct railway_series *ser)
{
	if (ser->n == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", ser->points[ser->n - 1].value);
}

static void
rep_fmt_mem(char *buf, size_t len, double gb)
{
	if (gb < 0)
		snprintf(buf, len, "-");
	else if (gb < 1)
		snprintf(buf, len, "%.0fM", gb * 1024);
	else
		snprintf(buf, len, "%.1fG", gb);
}

static double
rep_last(const struct railway_series *ser)
{
	return ser->n == 0 ? -1 : ser->points[ser->n - 1].value;
}

/* The title line: counts, shortfall and freshness. */
static void
rep_title(struct view *v, struct canvas *cv)
{
	const struct replicas_view *rv = v->priv;
	const struct railway_project_snap *s = rv->snap;
	int running = 0, desired = 0, missing, x;
	size_t short_regions;
	char age[16];

	for (size_t i = 0; i < s->n_services; i++) {
		running += s->services[i].running_total;
		desired += s->services[i].desired_total > 0 ? s->services[i].desired_total : 0;
	}
	rep_shortfall(s, &missing, &short_regions);
	/* the status bar names the project: here only when there is room */
	if (canvas_width(cv) >= 110)
		x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Replicas  %s / %s  %d running of %d",
		    s->project_name, s->environment_name, running, desired);
	else
		x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Replicas  %d running of %d",
		    running, desired);
	if (missing)
		x += canvas_printf(cv, 0, x, -1, STYLE_HEALTH_DEGRADED, ", %d short in %zu region%s",
		    missing, short_regions, short_regions == 1 ? "" : "s");
	if (provider_is_stale(rv->have_src, &rv->src)) {
		util_fmt_age(age, sizeof age, v->now_ms - s->fetched_ms);
		x += canvas_printf(cv, 0, x, -1, STYLE_STATE_STALE, "   stale: data %s old: %s",
		    age, rv->src.error[0] != '\0' ? rv->src.error : "refresh failing");
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - s->fetched_ms));
	}
	x += provider_focus_title(v, cv, x);
	if (v->filter[0] != '\0')
		canvas_printf(cv, 0, x, -1, STYLE_MATCH, "   filter '%s': %zu shown",
		    v->filter, rv->list.n);
}

static void
replicas_view_draw(struct view *v, struct canvas *cv)
{
	struct replicas_view *rv = v->priv;
	const struct railway_project_snap *s = rv->snap;
	int w = canvas_width(cv), h = canvas_height(cv), y, x, stale;
	struct rep_cols c;
	size_t i, service_max = 7, region_max = 6;

	canvas_clear(cv, STYLE_DEFAULT);
	v->next_change_ms = 0;
	if (s == NULL) {
		provider_draw_empty(cv, rv->have_src, &rv->src, "Fetching the project…");
		rv->list.page = h;
		return;
	}
	for (i = 0; i < s->n_services; i++) {
		size_t len = strlen(s->services[i].name);

		if (len > service_max)
			service_max = len;
		for (size_t j = 0; j < s->services[i].n_regions; j++)
			if (strlen(s->services[i].regions[j].name) > region_max)
				region_max = strlen(s->services[i].regions[j].name);
	}
	rep_layout(w, service_max, region_max, &c);
	rep_title(v, cv);

	x = 0;
	x = view_col(cv, 1, x, c.service, STYLE_HEADER, "SERVICE", 0);
	x = view_col(cv, 1, x, c.region, STYLE_HEADER, "REGION", 0);
	x = view_col(cv, 1, x, c.count, STYLE_HEADER, "RUN/WANT", 1);
	x = view_col(cv, 1, x, c.dots, STYLE_HEADER, "", 0);
	x = view_col(cv, 1, x, c.cpu, STYLE_HEADER, "CPU", 1);
	x = view_col(cv, 1, x, c.mem, STYLE_HEADER, "MEM", 1);
	view_col(cv, 1, x, c.state, STYLE_HEADER, "STATE", 0);

	view_list_fit(&rv->list, rv->list.n, h - 2 > 1 ? h - 2 : 1);
	if (rv->list.n == 0)
		canvas_printf(cv, 2, 1, -1, STYLE_DIM, s->n_services == 0 ?
		    "the project has no services%s" : "nothing matches '%s' (Esc clears the filter)",
		    s->n_services == 0 ? "" : v->filter);
	stale = provider_is_stale(rv->have_src, &rv->src);
	for (y = 2, i = rv->list.top; i < rv->list.n && y < h; i++, y++) {
		const struct rep_row *row = &rv->rows[i];
		const struct railway_service *sv = &s->services[row->svc];
		int selected = i == rv->list.sel;
		int first = i == rv->list.top || rv->rows[i - 1].svc != row->svc;
		enum style_id base = selected ? STYLE_SELECTED : stale ? STYLE_DIM : STYLE_DEFAULT;
		char buf[64], what[32], how[96];

		if (selected)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		x = view_col(cv, y, 0, c.service, base, first ? sv->name : "", 0);
		if (row->reg == REP_NONE) {
			x = view_col(cv, y, x, c.region, selected ? base : STYLE_DIM, "-", 0);
			x = view_col(cv, y, x, c.count, base, "0/?", 1);
			x = view_col(cv, y, x, c.dots, base, "", 0);
			if (c.cpu > 0) {
				x = view_col(cv, y, x, c.cpu, base, "", 1);
				x = view_col(cv, y, x, c.mem, base, "", 1);
			}
			view_col(cv, y, x, c.state, selected ? base : STYLE_DIM, "no replicas", 0);
			continue;
		} else {
			const struct railway_region *r = &sv->regions[row->reg];
			enum style_id st = rep_state(cv, sv, r, &rv->tracks[row->track], 1, what,
			    sizeof what, how, sizeof how);
			int xs;

			x = view_col(cv, y, x, c.region, base, r->name, 0);
			if (r->desired < 0)
				snprintf(buf, sizeof buf, "%d/?", r->running);
			else
				snprintf(buf, sizeof buf, "%d/%d", r->running, r->desired);
			x = view_col(cv, y, x, c.count, r->desired >= 0 && r->running < r->desired &&
			    !selected && !stale ? STYLE_HEALTH_DEGRADED : base, buf, 1);
			rep_draw_dots(cv, y, x, c.dots, r->running, r->desired, selected, stale);
			x += c.dots > 0 ? c.dots + 1 : 0;
			if (c.cpu > 0) {
				rep_fmt_cpu(buf, sizeof buf, &sv->cpu);
				x = view_col(cv, y, x, c.cpu, base, first ? buf : "", 1);
				rep_fmt_mem(buf, sizeof buf, rep_last(&sv->mem));
				x = view_col(cv, y, x, c.mem, base, first ? buf : "", 1);
			}
			xs = canvas_textn(cv, y, x, c.state, selected ? base : stale ? STYLE_DIM : st,
			    what, strlen(what));
			if (how[0] != '\0' && c.state - xs - 2 > 0)
				canvas_textn(cv, y, x + xs + 2, c.state - xs - 2, selected ? base :
				    stale ? STYLE_DIM : STYLE_STATE_CONNECTING, how, strlen(how));
		}
	}
}

static const struct railway_service *
rep_selected(const struct view *v)
{
	const struct replicas_view *rv = v->priv;

	if (rv->snap == NULL || rv->list.n == 0)
		return NULL;
	return &rv->snap->services[rv->rows[rv->list.sel].svc];
}

/* The latest values of SER (at most REP_SPARK_MAX) as doubles into OUT. */
static size_t
rep_series(const struct railway_series *ser, double *out)
{
	size_t from = ser->n > REP_SPARK_MAX ? ser->n - REP_SPARK_MAX : 0, k = 0;

	for (size_t i = from; i < ser->n; i++)
		out[k++] = ser->points[i].value;
	return k;
}

static void
replicas_view_draw_detail(struct view *v, struct canvas *cv)
{
	struct replicas_view *rv = v->priv;
	const struct railway_service *s = rep_selected(v);
	int y = 0, w = canvas_width(cv), h = canvas_height(cv), dots;
	double vals[REP_SPARK_MAX];
	char line[256], a[32], b[32];

	canvas_clear(cv, STYLE_DEFAULT);
	if (s == NULL) {
		canvas_text(cv, 0, 1, STYLE_DIM, "No service selected.");
		return;
	}
	canvas_printf(cv, y++, 1, w - 2, STYLE_TITLE, "%s", s->name);
	y++;
	if (s->active != NULL) {
		const struct railway_deployment *d = s->active;

		util_fmt_age(a, sizeof a, v->now_ms - d->created_ms);
		if (d->created_ms > 0)
			view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - d->created_ms));
		canvas_text(cv, y, 1, STYLE_HEADER, "Serving");
		canvas_printf(cv, y++, 12, w - 13, provider_kind_style(railway_status_kind(d->status)),
		    "%s  %s  %s ago  %d running, %d crashed", d->status_text,
		    d->version[0] != '\0' ? d->version : "-", d->created_ms > 0 ? a : "?",
		    d->instances_running, d->instances_crashed);
	}
	if (s->latest != NULL && railway_status_kind(s->latest->status) == RAILWAY_KIND_BUSY &&
	    y < h) {
		canvas_text(cv, y, 1, STYLE_HEADER, "Rollout");
		canvas_printf(cv, y++, 12, w - 13, STYLE_STATE_CONNECTING, "%s  %s",
		    s->latest->status_text, s->latest->version[0] != '\0' ? s->latest->version : "-");
	}
	if (s->desired_total < 0)
		snprintf(line, sizeof line, "%d running, desired not configured", s->running_total);
	else
		snprintf(line, sizeof line, "%d running of %d desired", s->running_total,
		    s->desired_total);
	if (y < h) {
		canvas_text(cv, y, 1, STYLE_HEADER, "Replicas");
		canvas_textn(cv, y++, 12, w - 13, s->desired_total >= 0 &&
		    s->running_total < s->desired_total ? STYLE_HEALTH_DEGRADED : STYLE_DEFAULT,
		    line, strlen(line));
	}
	y++;
	if (y < h && s->n_regions > 0) {
		canvas_text(cv, y, 3, STYLE_HEADER, "REGION");
		canvas_text_right(cv, y, 27, STYLE_HEADER, "RUN");
		canvas_text_right(cv, y, 33, STYLE_HEADER, "WANT");
		canvas_text(cv, y++, 35, STYLE_HEADER, "STATE");
	}
	/* dots only where the words keep room */
	dots = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		int top = s->regions[i].desired > s->regions[i].running ? s->regions[i].desired :
		    s->regions[i].running;

		dots = top > dots ? top : dots;
	}
	dots = dots > 16 ? 16 : dots;
	if (w - 36 - dots - 1 < 48)
		dots = 0;
	for (size_t i = 0; i < s->n_regions && y < h; i++, y++) {
		const struct railway_region *r = &s->regions[i];
		const struct rep_track *t = NULL;
		char what[32], how[96];
		enum style_id st;
		int x;

		for (size_t k = 0; k < rv->n_tracks && t == NULL; k++)
			if (strcmp(rv->tracks[k].service_id, s->id) == 0 &&
			    strcmp(rv->tracks[k].region, r->name) == 0)
				t = &rv->tracks[k];
		st = rep_state(cv, s, r, t, 0, what, sizeof what, how, sizeof how);
		canvas_textn(cv, y, 3, 18, STYLE_DEFAULT, r->name, strlen(r->name));
		snprintf(a, sizeof a, "%d", r->running);
		canvas_text_right(cv, y, 27, STYLE_DEFAULT, a);
		if (r->desired >= 0)
			snprintf(a, sizeof a, "%d", r->desired);
		else
			snprintf(a, sizeof a, "-");
		canvas_text_right(cv, y, 33, STYLE_DEFAULT, a);
		x = 35;
		if (dots > 0) {
			rep_draw_dots(cv, y, x, dots, r->running, r->desired, 0, 0);
			x += dots + 1;
		}
		x += canvas_textn(cv, y, x, w - x - 1, st, what, strlen(what));
		if (how[0] != '\0' && w - x - 3 > 0)
			canvas_textn(cv, y, x + 2, w - x - 3, STYLE_STATE_CONNECTING, how, strlen(how));
	}
	if (s->n_regions == 0 && y < h)
		canvas_text(cv, y++, 3, STYLE_DIM, "no replicas in any region");
	y++;
	if (y + 2 < h && (s->cpu.n > 0 || s->mem.n > 0)) {
		double cpu = rep_last(&s->cpu), mem = rep_last(&s->mem);

		canvas_text(cv, y++, 1, STYLE_HEADER, "Usage");
		rep_fmt_cpu(a, sizeof a, &s->cpu);
		if (cpu >= 0 && s->running_total > 0)
			snprintf(b, sizeof b, "%.2f", cpu / s->running_total);
		else
			snprintf(b, sizeof b, "-");
		canvas_printf(cv, y, 3, 24, STYLE_DEFAULT, "cpu %s (%s each)", a, b);
		canvas_sparkline(cv, y++, 28, w - 30, STYLE_SPARKLINE, vals, rep_series(&s->cpu, vals),
		    0);
		rep_fmt_mem(a, sizeof a, mem);
		rep_fmt_mem(b, sizeof b, mem >= 0 && s->running_total > 0 ? mem / s->running_total : -1);
		canvas_printf(cv, y, 3, 24, STYLE_DEFAULT, "mem %s (%s each)", a, b);
		canvas_sparkline(cv, y++, 28, w - 30, STYLE_SPARKLINE, vals, rep_series(&s->mem, vals),
		    0);
		if (rv->snap->metrics_from_ms > 0 && y < h) {
			util_fmt_age(a, sizeof a, rv->snap->fetched_ms - rv->snap->metrics_from_ms);
			canvas_printf(cv, y++, 3, w - 4, STYLE_DIM, "last %s, summed over replicas", a);
		}
	}
	if (y + 1 < h) {
		y++;
		canvas_text(cv, y, 1, STYLE_DIM, "Service");
		canvas_textn(cv, y++, 12, w - 13, STYLE_DIM, s->id, strlen(s->id));
	}
}

static void
rep_say(const struct view *v, const char *text)
{
	if (v->host != NULL && v->host->message != NULL)
		v->host->message(v->host->ud, 1, text);
}

/* Scale: ARG is "N [REGION]" for the selected service, or "SERVICE N
 * [REGION]"; without it the command line opens with ":scale SERVICE " for
 * the operator to finish.  The region defaults to the selected row's, else
 * the service's first.  The policy shows the plan and guards 0 and jumps. */
static void
rep_scale(struct view *v, const char *arg)
{
	struct replicas_view *rv = v->priv;
	const struct railway_service *svc = NULL;
	const struct railway_region *reg = NULL;
	struct policy_req q;
	char buf[160], before[96], after[96], *tok[4], *save = NULL, *end;
	size_t nt = 0, i;
	long n;

	if (v->host == NULL || v->host->act == NULL || rv->snap == NULL)
		return;
	if (rv->list.n > 0) {
		const struct rep_row *r = &rv->rows[rv->list.sel];

		svc = &rv->snap->services[r->svc];
		reg = r->reg < svc->n_regions ? &svc->regions[r->reg] : NULL;
	}
	if (arg == NULL || arg[0] == '\0') {
		if (svc == NULL) {
			rep_say(v, "usage: :scale SERVICE N [REGION]");
			return;
		}
		snprintf(buf, sizeof buf, "scale %s ", svc->name);
		if (v->host->console != NULL)
			console_prompt(v->host->console, buf);
		return;
	}
	util_strlcpy(buf, arg, sizeof buf);
	for (char *t = strtok_r(buf, " \t", &save); t != NULL && nt < ARRAY_LEN(tok);
	    t = strtok_r(NULL, " \t", &save))
		tok[nt++] = t;
	i = 0;
	if (nt > 0 && (tok[0][0] < '0' || tok[0][0] > '9')) {
		svc = NULL;
		for (size_t k = 0; k < rv->snap->n_services; k++)
			if (strcmp(rv->snap->services[k].name, tok[0]) == 0)
				svc = &rv->snap->services[k];
		if (svc == NULL) {
			snprintf(before, sizeof before, "no service named '%.40s'", tok[0]);
			rep_say(v, before);
			return;
		}
		reg = NULL;
		i = 1;
	}
	n = i < nt ? strtol(tok[i], &end, 10) : -1;
	if (svc == NULL || i >= nt || *end != '\0' || n < 0 || n > 50 || nt > i + 2) {
		rep_say(v, "usage: :scale [SERVICE] N [REGION], N from 0 to 50");
		return;
	}
	if (i + 1 < nt) {
		reg = NULL;
		for (size_t k = 0; k < svc->n_regions; k++)
			if (strcmp(svc->regions[k].name, tok[i + 1]) == 0)
				reg = &svc->regions[k];
		if (reg == NULL) {
			char msg[192];

			snprintf(msg, sizeof msg, "%.40s has no replicas in '%.40s' yet: "
			    "scaling a new region is not offered here", svc->name, tok[i + 1]);
			rep_say(v, msg);
			return;
		}
	} else if (reg == NULL && svc->n_regions > 0) {
		reg = &svc->regions[0];
	}
	if (reg == NULL) {
		rep_say(v, "the service has no region to scale");
		return;
	}
	memset(&q, 0, sizeof q);
	q.action = ACTION_SCALE;
	q.target = svc->name;
	q.target_id = svc->id;
	q.region = reg->name;
	q.from = reg->desired >= 0 ? reg->desired : reg->running;
	q.to = (int)n;
	snprintf(before, sizeof before, "%d replicas in %s", q.from, reg->name);
	snprintf(after, sizeof after, "%d replicas in %s", q.to, reg->name);
	q.before = before;
	q.after = after;
	v->host->act(v->host->ud, &q);
}

static int
replicas_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct replicas_view *rv = v->priv;

	if (a == ACTION_REFRESH) {
		provider_refresh(v);
		return 1;
	}
	if (a == ACTION_BACK && provider_focus_back(v))
		return 1;

	if (view_list_key(&rv->list, a)) {
		v->dirty = 1;
		return 1;
	}
	if (a == ACTION_SCALE) {
		rep_scale(v, ev != NULL ? ev->arg : NULL);
		return 1;
	}
	return 0;
}

static void
replicas_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct replicas_view *rv = v->priv;
	int missing;
	size_t regions;

	buf[0] = '\0';
	rep_shortfall(rv->snap, &missing, &regions);
	if (missing)
		snprintf(buf, len, "%d short", missing);
	else if (provider_is_stale(rv->have_src, &rv->src))
		snprintf(buf, len, "stale");
	*is_bad = missing > 0 || provider_is_stale(rv->have_src, &rv->src);
}

const struct view_ops replicas_view_ops = {
	.name = "replicas",
	.title = "Replicas",
	.priv_size = sizeof(struct replicas_view),
	.enabled = view_provider_enabled,
	.init = replicas_view_init,
	.update = replicas_view_update,
	.draw = replicas_view_draw,
	.draw_detail = replicas_view_draw_detail,
	.key = replicas_view_key,
	.badge = replicas_view_badge,
	.free = replicas_view_free,
};
