/* health.c - the health pane: one row per endpoint, details on the right.
 *
 * Columns give way from the right as the terminal narrows; the state and
 * name always show.  A result older than twice its interval is drawn as
 * stale with its age, never as fresh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signalbox/canvas.h"
#include "signalbox/health.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

struct health_view {
	const struct health_snap *snap;
	uint64_t gen;
	char filter[sizeof(((struct view *)0)->filter)];
	size_t *rows;		/* indexes into snap->eps that pass the filter */
	struct view_list list;	/* over rows */
};

static enum style_id
health_state_style(enum health_state s)
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
health_view_init(struct view *v, const struct config *cfg)
{
	(void)v;
	(void)cfg;
	return 0;
}

static void
health_view_free(struct view *v)
{
	struct health_view *hv = v->priv;

	free(hv->rows);
}

static int
health_row_matches(const struct health_result *r, const char *filter)
{
	if (filter[0] == '\0')
		return 1;
	return util_strcasestr(r->name, filter) != NULL || util_strcasestr(r->url, filter) != NULL ||
	    strcasecmp(health_state_name(r->state), filter) == 0 ||
	    util_strcasestr(r->reason, filter) != NULL;
}

static void
health_view_rebuild(struct view *v)
{
	struct health_view *hv = v->priv;
	const struct health_snap *s = hv->snap;
	size_t i, n = 0;

	hv->rows = xreallocarray(hv->rows, s != NULL && s->n ? s->n : 1, sizeof *hv->rows);
	for (i = 0; s != NULL && i < s->n; i++)
		if (health_row_matches(s->eps[i], v->filter))
			hv->rows[n++] = i;
	view_list_fit(&hv->list, n, 0);
}

/* Whether R's data is older than it should be. */
static int
health_is_stale(const struct health_result *r, int64_t now)
{
	int64_t limit = r->interval_ms * 2 + 5000;

	return r->last_check_ms > 0 && now - r->last_check_ms > limit;
}

static void
health_view_update(struct view *v, const struct store *store)
{
	struct health_view *hv = v->priv;
	uint64_t gen;
	const struct health_snap *snap = store_get(store, STORE_TOPIC_HEALTH, &gen);

	if (gen != hv->gen || strcmp(hv->filter, v->filter) != 0) {
		hv->gen = gen;
		hv->snap = snap;
		util_strlcpy(hv->filter, v->filter, sizeof hv->filter);
		health_view_rebuild(v);
		v->dirty = 1;
	}
}

static const struct health_result *
health_selected(const struct view *v)
{
	const struct health_view *hv = v->priv;

	if (hv->snap == NULL || hv->list.n == 0)
		return NULL;
	return hv->snap->eps[hv->rows[hv->list.sel]];
}

static void
fmt_ms(char *buf, size_t len, double ms)
{
	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 10)
		snprintf(buf, len, "%.1fms", ms);
	else if (ms < 10000)
		snprintf(buf, len, "%.0fms", ms);
	else
		snprintf(buf, len, "%.1fs", ms / 1000);
}

struct health_cols {
	int state, name, code, last, p50, p95, trend, fails, ok, reason;
};

static void
health_layout_cols(int w, size_t name_max, struct health_cols *c)
{
	int used;

	/* the reason matters more than the trend: optional columns come in
	 * only while the reason keeps 30 columns */
	memset(c, 0, sizeof *c);
	c->state = 9;
	c->name = (int)name_max < 8 ? 8 : (int)name_max > 22 ? 22 : (int)name_max;
	c->code = 4;
	c->last = 7;
	c->p95 = 7;
	c->ok = 8;
	used = c->state + 1 + c->name + 1 + c->code + 1 + c->last + 1 + c->p95 + 1 + c->ok + 1;
	if (w - used - 13 >= 30) {
		c->trend = 12;
		used += 13;
	}
	if (w - used - 6 >= 30) {
		c->fails = 5;
		used += 6;
	}
	if (w - used - 8 >= 30) {
		c->p50 = 7;
		used += 8;
	}
	if (c->trend && w - used - 12 >= 40) {
		c->trend = 24;
		used += 12;
	}
	if (w < used + 10) {
		/* narrow: drop from the right */
		c->ok = 0;
		c->p95 = 0;
		c->last = w - (c->state + 1 + c->name + 1 + c->code + 1) >= 7 ? 7 : 0;
		used = c->state + 1 + c->name + 1 + c->code + 1 + (c->last ? 8 : 0);
	}
	c->reason = w - used;
	if (c->reason < 0)
		c->reason = 0;
}

/* What an endpoint that is up should still have fixed, in a few columns
 * (the detail view explains): a certificate in its warning window ("cert
 * 19d"), failing or weak security headers.  0 when nothing. */
static int
health_note(const struct health_result *r, char *buf, size_t len)
{
	size_t fail = 0, warn = 0;

	buf[0] = '\0';
	if (r->has_tls && r->tls_level != HEALTH_LEVEL_OK && r->tls_level != HEALTH_LEVEL_NA)
		snprintf(buf, len, "cert %dd", r->tls_days_left);
	if (r->headers_checked) {
		for (size_t i = 0; i < HEALTH_HDR_COUNT; i++) {
			fail += r->hdrs[i].level == HEALTH_LEVEL_FAIL;
			warn += r->hdrs[i].level == HEALTH_LEVEL_WARN;
		}
	}
	if (fail + warn > 0) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "%shdrs: %zu bad, %zu weak",
		    n > 0 ? "; " : "", fail, warn);
	}
	return buf[0] != '\0';
}

static void
health_view_draw(struct view *v, struct canvas *cv)
{
	struct health_view *hv = v->priv;
	const struct health_snap *s = hv->snap;
	int w = canvas_width(cv), h = canvas_height(cv), y, x;
	struct health_cols c;
	size_t i, name_max = 4, ok = 0, bad = 0;

	canvas_clear(cv, STYLE_DEFAULT);
	v->next_change_ms = 0;
	if (s == NULL || s->n == 0) {
		canvas_text(cv, 0, 1, STYLE_TITLE, "No health endpoints configured.");
		canvas_text(cv, 2, 1, STYLE_DIM, "Add them under health.endpoints in the "
		    "config file, e.g.:");
		canvas_text(cv, 3, 3, STYLE_DIM, "health:");
		canvas_text(cv, 4, 3, STYLE_DIM, "  endpoints:");
		canvas_text(cv, 5, 3, STYLE_DIM, "    - { name: api, url: "
		    "\"https://api.example.com/health\" }");
		canvas_text(cv, 7, 1, STYLE_DIM, "signalbox config check  validates it; "
		    "see signalbox.yml(5).");
		hv->list.page = h;
		return;
	}
	for (i = 0; i < s->n; i++) {
		size_t len = strlen(s->eps[i]->name);

		if (len > name_max)
			name_max = len;
		if (s->eps[i]->state == HEALTH_OK)
			ok++;
		else if (s->eps[i]->state != HEALTH_UNKNOWN)
			bad++;
	}
	health_layout_cols(w, name_max, &c);

	/* title line */
	x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Health  %zu endpoints, %zu ok", s->n, ok);
	if (bad)
		x += canvas_printf(cv, 0, x, -1, STYLE_HEALTH_DOWN, ", %zu failing", bad);
	if (v->filter[0] != '\0')
		canvas_printf(cv, 0, x, -1, STYLE_MATCH, "   filter '%s': %zu shown",
		    v->filter, hv->list.n);

	/* header */
	x = 0;
	x = view_col(cv, 1, x, c.state, STYLE_HEADER, "STATE", 0);
	x = view_col(cv, 1, x, c.name, STYLE_HEADER, "NAME", 0);
	x = view_col(cv, 1, x, c.code, STYLE_HEADER, "HTTP", 1);
	x = view_col(cv, 1, x, c.last, STYLE_HEADER, "LAST", 1);
	x = view_col(cv, 1, x, c.p50, STYLE_HEADER, "P50", 1);
	x = view_col(cv, 1, x, c.p95, STYLE_HEADER, "P95", 1);
	x = view_col(cv, 1, x, c.trend, STYLE_HEADER, "LATENCY", 0);
	x = view_col(cv, 1, x, c.fails, STYLE_HEADER, "FAILS", 1);
	x = view_col(cv, 1, x, c.ok, STYLE_HEADER, "LAST OK", 1);
	view_col(cv, 1, x, c.reason, STYLE_HEADER, "REASON", 0);

	view_list_fit(&hv->list, hv->list.n, h - 2 > 1 ? h - 2 : 1);
	if (hv->list.n == 0)
		canvas_printf(cv, 2, 1, -1, STYLE_DIM, "nothing matches '%s' (Esc clears "
		    "the filter)", v->filter);
	for (y = 2, i = hv->list.top; i < hv->list.n && y < h; i++, y++) {
		const struct health_result *r = s->eps[hv->rows[i]];
		int selected = i == hv->list.sel, stale = health_is_stale(r, v->now_ms);
		enum style_id base = selected ? STYLE_SELECTED : (stale ? STYLE_DIM : STYLE_DEFAULT);
		char buf[96], code[16], age[16];
		int64_t turns;

		if (selected)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		snprintf(buf, sizeof buf, "%s%s", health_state_name(r->state),
		    r->checking ? "*" : "");
		x = view_col(cv, y, 0, c.state, stale ? STYLE_DIM : health_state_style(r->state),
		    buf, 0);
		x = view_col(cv, y, x, c.name, base, r->name, 0);
		if (r->http_status > 0)
			snprintf(code, sizeof code, "%d", r->http_status);
		else
			snprintf(code, sizeof code, "%s", r->is_ws ? "ws" : "-");
		x = view_col(cv, y, x, c.code, base, code, 1);
		fmt_ms(buf, sizeof buf, r->latency_ms);
		x = view_col(cv, y, x, c.last, base, buf, 1);
		fmt_ms(buf, sizeof buf, r->p50_ms);
		x = view_col(cv, y, x, c.p50, base, buf, 1);
		fmt_ms(buf, sizeof buf, r->p95_ms);
		x = view_col(cv, y, x, c.p95, base, buf, 1);
		if (c.trend > 0) {
			canvas_sparkline(cv, y, x, c.trend, selected ? STYLE_SELECTED :
			    STYLE_SPARKLINE, r->window, r->n_window, 0);
			x += c.trend + 1;
		}
		snprintf(buf, sizeof buf, "%d", r->consecutive_failures);
		x = view_col(cv, y, x, c.fails, r->consecutive_failures ? (selected ?
		    STYLE_SELECTED : STYLE_HEALTH_DOWN) : base, buf, 1);
		if (r->last_ok_ms > 0)
			util_fmt_age(age, sizeof age, v->now_ms - r->last_ok_ms);
		else
			snprintf(age, sizeof age, "never");
		x = view_col(cv, y, x, c.ok, base, age, 1);
		if (stale) {
			util_fmt_age(age, sizeof age, v->now_ms - r->last_check_ms);
			snprintf(buf, sizeof buf, "stale: last checked %s ago", age);
			view_col(cv, y, x, c.reason, STYLE_STATE_STALE, buf, 0);
		} else if (r->reason[0] != '\0') {
			view_col(cv, y, x, c.reason, base, r->reason, 0);
		} else if (health_note(r, buf, sizeof buf)) {
			/* nothing wrong now, but something to fix soon */
			view_col(cv, y, x, c.reason, selected ? STYLE_SELECTED :
			    STYLE_HEALTH_DEGRADED, buf, 0);
		}
		turns = r->last_check_ms + r->interval_ms * 2 + 5000;
		if (r->last_check_ms > 0 && !stale)
			view_wake_at(v, turns);
		if (c.ok > 0 && r->last_ok_ms > 0)
			view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - r->last_ok_ms));
		if (stale)
			view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - r->last_check_ms));
	}
}

static const char *
level_mark(const struct canvas *cv, enum health_level l)
{
	if (cv->ascii)
		return l == HEALTH_LEVEL_OK ? "ok  " : l == HEALTH_LEVEL_WARN ? "warn" : "FAIL";
	return l == HEALTH_LEVEL_OK ? "✓" : l == HEALTH_LEVEL_WARN ? "!" : "✗";
}

static enum style_id
level_style(enum health_level l)
{
	return l == HEALTH_LEVEL_OK ? STYLE_HEALTH_OK : l == HEALTH_LEVEL_WARN ?
	    STYLE_HEALTH_DEGRADED : STYLE_HEALTH_DOWN;
}

/* Draw TEXT's lines from row *Y, indented by 2, at most MAX rows. */
static void
detail_block(struct canvas *cv, int *y, const char *text, int max)
{
	const char *p = text, *nl;
	int h = canvas_height(cv), rows = 0;

	while (p != NULL && *p != '\0' && *y < h && rows < max) {
		nl = strchr(p, '\n');
		canvas_textn(cv, *y, 2, canvas_width(cv) - 2, STYLE_DIM, p,
		    nl ? (size_t)(nl - p) : strlen(p));
		(*y)++;
		rows++;
		p = nl ? nl + 1 : NULL;
	}
}

static void
health_view_draw_detail(struct view *v, struct canvas *cv)
{
	const struct health_result *r = health_selected(v);
	int y = 0, x, w = canvas_width(cv), h = canvas_height(cv);
	char buf[256], a1[16], a2[16];
	size_t i;

	canvas_clear(cv, STYLE_DEFAULT);
	if (r == NULL) {
		canvas_text(cv, 0, 1, STYLE_DIM, "No endpoint selected.");
		return;
	}
	x = canvas_printf(cv, y, 1, -1, STYLE_TITLE, "%s ", r->name);
	canvas_textn(cv, y++, 1 + x, w - 1 - x, STYLE_DIM, r->url, strlen(r->url));
	y++;
	x = canvas_text(cv, y, 1, STYLE_HEADER, "State    ");
	x += canvas_text(cv, y, 1 + x, health_state_style(r->state), health_state_name(r->state));
	if (r->is_ws)
		snprintf(buf, sizeof buf, "  websocket%s", r->checking ? ", checking now" : "");
	else if (r->http_status > 0)
		snprintf(buf, sizeof buf, "  HTTP %d, expected %d%s", r->http_status, r->expect,
		    r->checking ? ", checking now" : "");
	else
		snprintf(buf, sizeof buf, "  no response%s", r->checking ? ", checking now" : "");
	canvas_text(cv, y++, 1 + x, STYLE_DEFAULT, buf);
	if (r->reason[0] != '\0') {
		canvas_text(cv, y, 1, STYLE_HEADER, "Reason   ");
		canvas_textn(cv, y++, 10, w - 10, health_state_style(r->state), r->reason,
		    strlen(r->reason));
	}
	if (r->error[0] != '\0' && strcmp(r->error, r->reason) != 0) {
		canvas_text(cv, y, 1, STYLE_HEADER, "Error    ");
		canvas_textn(cv, y++, 10, w - 10, STYLE_MESSAGE_ERROR, r->error, strlen(r->error));
	}
	canvas_text(cv, y, 1, STYLE_HEADER, "Checked  ");
	if (r->last_check_ms > 0) {
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - r->last_check_ms));
		util_fmt_age(a1, sizeof a1, v->now_ms - r->last_check_ms);
		if (r->last_ok_ms > 0)
			util_fmt_age(a2, sizeof a2, v->now_ms - r->last_ok_ms);
		else
			snprintf(a2, sizeof a2, "never");
		canvas_printf(cv, y++, 10, w - 10, health_is_stale(r, v->now_ms) ?
		    STYLE_STATE_STALE : STYLE_DEFAULT, "%s ago, last ok %s%s, every %llds; "
		    "%d checks, %d failed, %d in a row", a1, a2, r->last_ok_ms > 0 ? " ago" : "",
		    (long long)(r->interval_ms / 1000), r->checks, r->failures,
		    r->consecutive_failures);
	} else {
		canvas_text(cv, y++, 10, STYLE_DIM, "not yet");
	}
	if (y >= h)
		return;
	fmt_ms(a1, sizeof a1, r->p50_ms);
	fmt_ms(a2, sizeof a2, r->p95_ms);
	fmt_ms(buf, sizeof buf, r->latency_ms);
	canvas_text(cv, y, 1, STYLE_HEADER, r->is_ws ? "Rtt      " : "Latency  ");
	x = 10 + canvas_printf(cv, y, 10, w - 10, STYLE_DEFAULT, "last %s  p50 %s  p95 %s  ",
	    buf, a1, a2);
	canvas_sparkline(cv, y++, x, w - x - 1 < 30 ? w - x - 1 : 30, STYLE_SPARKLINE,
	    r->window, r->n_window, 0);
	if (!r->is_ws && r->http_status > 0 && r->t_total_ms > 0) {
		canvas_text(cv, y, 1, STYLE_HEADER, "Timings  ");
		canvas_printf(cv, y++, 10, w - 10, STYLE_DEFAULT, "dns %.1f  connect %.1f  "
		    "tls %.1f  first byte %.1f  total %.1f ms", r->t_dns_ms, r->t_connect_ms,
		    r->t_tls_ms, r->t_ttfb_ms, r->t_total_ms);
	}
	if (r->version[0] != '\0') {
		canvas_text(cv, y, 1, STYLE_HEADER, "Version  ");
		canvas_text(cv, y++, 10, STYLE_DEFAULT, r->version);
	}
	if (r->n_comps > 0 && y < h) {
		canvas_text(cv, y, 1, STYLE_HEADER, "Parts    ");
		x = 10;
		for (i = 0; i < r->n_comps && x < w; i++) {
			x += canvas_printf(cv, y, x, w - x, STYLE_DEFAULT, "%s ", r->comps[i].name);
			x += canvas_printf(cv, y, x, w - x, r->comps[i].ok ? STYLE_HEALTH_OK :
			    STYLE_HEALTH_DOWN, "%s   ", r->comps[i].status);
		}
		y++;
	}
	if (r->has_tls && y < h) {
		canvas_text(cv, y, 1, STYLE_HEADER, "TLS      ");
		if (r->tls_days_left < 0)
			snprintf(buf, sizeof buf, "certificate EXPIRED %d days ago", -r->tls_days_left);
		else
			snprintf(buf, sizeof buf, "certificate expires in %d days", r->tls_days_left);
		x = 10 + canvas_text(cv, y, 10, level_style(r->tls_level), buf);
		if (r->tls_issuer[0] != '\0')
			canvas_printf(cv, y, x, w - x, STYLE_DIM, ", issuer %s", r->tls_issuer);
		y++;
	}
	if (r->headers_checked && y + 1 < h) {
		y++;
		canvas_text(cv, y++, 1, STYLE_HEADER, "Security headers");
		for (i = 0; i < HEALTH_HDR_COUNT && y < h; i++, y++) {
			const struct health_header_check *hc = &r->hdrs[i];

			canvas_text(cv, y, 2, level_style(hc->level), level_mark(cv, hc->level));
			canvas_textn(cv, y, 7, 26, STYLE_DEFAULT, health_header_name(i),
			    strlen(health_header_name(i)));
			canvas_textn(cv, y, 34, w - 34, hc->level == HEALTH_LEVEL_OK ? STYLE_DIM :
			    level_style(hc->level), hc->why, strlen(hc->why));
		}
	}
	if (r->resp_headers != NULL && r->resp_headers[0] != '\0' && y + 1 < h) {
		y++;
		canvas_text(cv, y++, 1, STYLE_HEADER, r->is_ws ? "Exchange" : "Response headers");
		detail_block(cv, &y, r->resp_headers, 12);
	}
	if (r->body_excerpt != NULL && r->body_excerpt[0] != '\0' && y + 1 < h) {
		y++;
		canvas_text(cv, y++, 1, STYLE_HEADER, "Body");
		detail_block(cv, &y, r->body_excerpt, h);
	}
}

static int
health_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct health_view *hv = v->priv;
	const struct health_result *r;
	int idx;

	if (view_list_key(&hv->list, a)) {
		v->dirty = 1;
		return 1;
	}
	switch (a) {
	case ACTION_CHECK_NOW:
		if (v->host == NULL || v->host->health == NULL)
			return 1;
		if (ev != NULL && ev->arg != NULL) {
			idx = health_find(v->host->health, ev->arg);
			if (idx < 0) {
				if (v->host->message != NULL)
					v->host->message(v->host->ud, 1, "no endpoint named that");
				return 1;
			}
		} else {
			r = health_selected(v);
			if (r == NULL)
				return 1;
			idx = health_find(v->host->health, r->name);
		}
		health_check_now(v->host->health, idx);
		if (v->host->message != NULL)
			v->host->message(v->host->ud, 0, "checking now");
		return 1;
	case ACTION_CHECK_ALL:
		if (v->host != NULL && v->host->health != NULL) {
			health_check_now(v->host->health, -1);
			if (v->host->message != NULL)
				v->host->message(v->host->ud, 0, "checking every endpoint now");
		}
		return 1;
	default:
		return 0;
	}
}

static void
health_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct health_view *hv = v->priv;
	size_t i, down = 0, degraded = 0;

	buf[0] = '\0';
	*is_bad = 0;
	if (hv->snap == NULL)
		return;
	for (i = 0; i < hv->snap->n; i++) {
		if (hv->snap->eps[i]->state == HEALTH_DOWN)
			down++;
		else if (hv->snap->eps[i]->state == HEALTH_DEGRADED)
			degraded++;
	}
	if (down)
		snprintf(buf, len, "%zu down", down);
	else if (degraded)
		snprintf(buf, len, "%zu degraded", degraded);
	*is_bad = down || degraded;
}

const struct view_ops health_view_ops = {
	.name = "health",
	.title = "Health",
	.priv_size = sizeof(struct health_view),
	.init = health_view_init,
	.update = health_view_update,
	.draw = health_view_draw,
	.draw_detail = health_view_draw_detail,
	.key = health_view_key,
	.badge = health_view_badge,
	.free = health_view_free,
};
