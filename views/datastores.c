/* datastores.c - the datastores pane: PostgreSQL and Redis health.
 *
 * Two blocks, Postgres above Redis, each with its connection state in the
 * title.  Data that is old (the server is DOWN, a poll failed, or the last
 * poll is more than two intervals ago) is drawn dimmed with its age, never
 * as fresh.  The sessions that are not idle form the pane's list: the
 * selected one can be cancelled (pg-cancel), which goes through the policy
 * like every action that changes production.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/pg_stats.h"
#include "signalbox/policy.h"
#include "signalbox/redis_stats.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

struct ds_view {
	int has_pg, has_redis;		/* configured */
	const struct pg_stats_snap *pg;
	const struct redis_stats_snap *rd;
	uint64_t pg_gen, rd_gen;
	struct view_list list;		/* over pg->data->sessions */
	int sel_pid;			/* the selected backend, -1 = none */
};

int
view_datastores_enabled(const struct config *cfg)
{
	return cfg != NULL && (cfg->ds_postgres.enabled || cfg->ds_redis.enabled);
}

static int
ds_view_init(struct view *v, const struct config *cfg)
{
	struct ds_view *dv = v->priv;

	/* without a config (tests): both blocks */
	dv->has_pg = cfg == NULL || cfg->ds_postgres.enabled;
	dv->has_redis = cfg == NULL || cfg->ds_redis.enabled;
	dv->sel_pid = -1;
	return 0;
}

static void
ds_view_free(struct view *v)
{
	(void)v;
}

static const struct pg_stats_data *
ds_pg_data(const struct ds_view *dv)
{
	return dv->pg != NULL ? dv->pg->data : NULL;
}

static void
ds_remember_sel(struct ds_view *dv)
{
	const struct pg_stats_data *d = ds_pg_data(dv);

	dv->sel_pid = d != NULL && dv->list.n > 0 && dv->list.sel < d->n_sessions ?
	    d->sessions[dv->list.sel].pid : -1;
}

static void
ds_view_update(struct view *v, const struct store *store)
{
	struct ds_view *dv = v->priv;
	uint64_t pg_gen, rd_gen;
	const struct pg_stats_snap *pg = store_get(store, STORE_TOPIC_PG, &pg_gen);
	const struct redis_stats_snap *rd = store_get(store, STORE_TOPIC_REDIS, &rd_gen);
	const struct pg_stats_data *d;

	if (pg_gen == dv->pg_gen && rd_gen == dv->rd_gen)
		return;
	/* the old snapshots are gone now: only sel_pid is left of them */
	dv->pg = pg;
	dv->rd = rd;
	dv->pg_gen = pg_gen;
	dv->rd_gen = rd_gen;
	d = ds_pg_data(dv);
	/* keep the selection on the same backend across polls */
	if (d != NULL && dv->sel_pid >= 0) {
		for (size_t i = 0; i < d->n_sessions; i++)
			if (d->sessions[i].pid == dv->sel_pid)
				dv->list.sel = i;
	}
	view_list_fit(&dv->list, d != NULL ? d->n_sessions : 0, 0);
	ds_remember_sel(dv);
	v->dirty = 1;
}

/* ---- formatting ------------------------------------------------------------ */

static void
ds_fmt_us(char *buf, size_t len, int64_t us)
{
	if (us < 1000)
		snprintf(buf, len, "%lldus", (long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1fms", (double)us / 1000);
	else
		snprintf(buf, len, "%.2fs", (double)us / 1000000);
}

/* Whether data taken at TAKEN with polls every INTERVAL is late at NOW. */
static int
ds_late(int64_t taken, int64_t interval, int64_t now)
{
	return taken > 0 && now - taken > interval * 2 + 5000;
}

/* The title of a block: " Postgres  TARGET  VERSION  STATE  age"; returns
 * whether the data below is to be drawn as stale. */
static int
ds_title(struct view *v, struct canvas *cv, int y, const char *name, const char *target,
    const char *version, int conn_up, int conn_down, int unconfigured, const char *error,
    int64_t taken, int64_t interval)
{
	int w = canvas_width(cv), x;
	int late = ds_late(taken, interval, v->now_ms);
	int stale = taken > 0 && (!conn_up || error[0] != '\0' || late);
	const char *label;
	enum style_id st;
	char age[32];

	if (unconfigured) {
		label = "NOT SET";
		st = STYLE_STATE_ERROR;
	} else if (conn_down) {
		label = "DOWN";
		st = STYLE_HEALTH_DOWN;
	} else if (!conn_up) {
		label = "CONNECTING";
		st = STYLE_STATE_CONNECTING;
	} else if (error[0] != '\0' || late) {
		label = "STALE";
		st = STYLE_STATE_STALE;
	} else {
		label = "OK";
		st = STYLE_HEALTH_OK;
	}
	x = canvas_printf(cv, y, 0, -1, STYLE_TITLE, " %s ", name);
	x += canvas_printf(cv, y, x, -1, st, " %s ", label);
	if (target[0] != '\0')
		x += canvas_printf(cv, y, x, w - x, STYLE_DEFAULT, " %s", target);
	/* the age of old data matters more than the version */
	if (stale) {
		util_fmt_age(age, sizeof age, v->now_ms - taken);
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - taken));
		x += canvas_printf(cv, y, x, w - x, STYLE_STATE_STALE, "  data %s old", age);
	} else if (conn_up && taken > 0) {
		/* goes stale by time alone */
		view_wake_at(v, taken + interval * 2 + 5001);
	}
	if (version[0] != '\0' && w - x > 12)
		canvas_printf(cv, y, x, w - x, STYLE_DIM, "  v%s", version);
	return stale;
}

/* The reason line under a title: the error, or what is being waited for. */
static int
ds_reason(struct canvas *cv, int y, int conn_up, int conn_down, const char *error)
{
	int w = canvas_width(cv);

	if (error[0] != '\0') {
		canvas_printf(cv, y, 1, w - 2, conn_down ? STYLE_HEALTH_DOWN : STYLE_STATE_ERROR,
		    "%s", error);
		return 1;
	}
	if (!conn_up) {
		canvas_text(cv, y, 1, STYLE_STATE_CONNECTING, "Connecting…");
		return 1;
	}
	return 0;
}

/* ---- Postgres ---------------------------------------------------------------- */

static int
ds_pg_fixed_rows(const struct ds_view *dv)
{
	const struct pg_stats_data *d = ds_pg_data(dv);
	int n = 1;

	if (dv->pg == NULL)
		return 2;
	if (dv->pg->error[0] != '\0' || dv->pg->conn != PG_STATS_UP)
		n++;
	if (d == NULL)
		return n;
	n += 4;		/* connections, rates, archiver, databases */
	if (d->n_blocked > 0)
		n += 1 + (int)(d->n_blocked < 3 ? d->n_blocked : 3);
	return n + 1;	/* the sessions' header */
}

static void
ds_pg_states(char *buf, size_t len, const struct pg_stats_data *d)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_states && o + 1 < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s %d", i > 0 ? " · " : "",
		    d->states[i].state, d->states[i].n);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static const struct pg_stats_session *
ds_session_by_pid(const struct pg_stats_data *d, int pid)
{
	for (size_t i = 0; i < d->n_sessions; i++)
		if (d->sessions[i].pid == pid)
			return &d->sessions[i];
	return NULL;
}

/* Draw the Postgres block from row Y with ROWS rows for sessions; returns
 * the next row. */
static int
ds_draw_pg(struct view *v, struct canvas *cv, int y, int rows)
{
	struct ds_view *dv = v->priv;
	const struct pg_stats_snap *s = dv->pg;
	const struct pg_stats_data *d = ds_pg_data(dv);
	int w = canvas_width(cv), wide = w >= 120, stale, x;
	enum style_id body;
	char a[64], b[64], line[512];

	if (s == NULL) {
		canvas_printf(cv, y, 0, -1, STYLE_TITLE, " Postgres ");
		canvas_text(cv, y + 1, 1, STYLE_DIM, "waiting for the first poll…");
		return y + 2;
	}
	stale = ds_title(v, cv, y++, "Postgres", s->target, d != NULL ? d->version : "",
	    s->conn == PG_STATS_UP, s->conn == PG_STATS_DOWN,
	    s->conn == PG_STATS_UNCONFIGURED, s->error, d != NULL ? d->taken_ms : 0,
	    s->interval_ms);
	y += ds_reason(cv, y, s->conn == PG_STATS_UP, s->conn == PG_STATS_DOWN, s->error);
	if (d == NULL)
		return y;
	body = stale ? STYLE_DIM : STYLE_DEFAULT;

	/* connections */
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "connections ");
	x += canvas_printf(cv, y, 1 + x, -1, d->max_connections > 0 &&
	    d->n_connections * 10 >= d->max_connections * 9 && !stale ? STYLE_HEALTH_DEGRADED :
	    body, "%d/%d", d->n_connections, d->max_connections);
	ds_pg_states(line, sizeof line, d);
	canvas_printf(cv, y++, 2 + x, w - 3 - x, body, " %s", line);

	/* rates and replication */
	if (d->tps >= 0)
		snprintf(a, sizeof a, "%.1f", d->tps);
	else
		snprintf(a, sizeof a, "…");
	if (d->cache_hit >= 0)
		snprintf(b, sizeof b, "%.2f%%", d->cache_hit * 100);
	else
		snprintf(b, sizeof b, "-");
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "tps ");
	x += canvas_printf(cv, y, 1 + x, -1, body, "%-8s", a);
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "cache hit ");
	x += canvas_printf(cv, y, 1 + x, -1, body, "%-9s", b);
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "replication ");
	if (d->in_recovery) {
		canvas_printf(cv, y, 1 + x, w - 2 - x, body, "this server is a replica");
	} else if (d->n_replicas == 0) {
		canvas_printf(cv, y, 1 + x, w - 2 - x, body, "no replicas");
	} else {
		const struct pg_stats_replica *r = &d->replicas[0];

		if (r->replay_lag_ms >= 0)
			util_fmt_duration(a, sizeof a, r->replay_lag_ms);
		else
			snprintf(a, sizeof a, "?");
		util_fmt_bytes(b, sizeof b, r->lag_bytes);
		canvas_printf(cv, y, 1 + x, w - 2 - x, body, "%s %s lag %s (%s)%s", r->name,
		    r->state, a, b, d->n_replicas > 1 ? " +more" : "");
	}
	y++;

	/* archiver */
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "archiver ");
	if (!d->archive_mode) {
		canvas_printf(cv, y, 1 + x, w - 2 - x, body, "off (archive_mode)");
	} else {
		int failing = d->last_failed_ms > d->last_archived_ms;

		x += canvas_printf(cv, y, 1 + x, -1, body, "%lld archived, ",
		    (long long)d->archived);
		x += canvas_printf(cv, y, 1 + x, -1, d->archive_failed > 0 && failing && !stale ?
		    STYLE_HEALTH_DOWN : body, "%lld failed", (long long)d->archive_failed);
		if (d->last_archived_ms > 0) {
			util_fmt_age(a, sizeof a, v->now_ms - d->last_archived_ms);
			x += canvas_printf(cv, y, 1 + x, w - 2 - x, body, ", last %s ago", a);
		}
		if (failing && d->last_failed_wal[0] != '\0')
			canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_HEALTH_DOWN,
			    ", failing at %s", d->last_failed_wal);
	}
	y++;

	/* databases */
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "databases ");
	line[0] = '\0';
	for (size_t i = 0, o = 0; i < d->n_dbs && o + 1 < sizeof line; i++) {
		int n;

		util_fmt_bytes(a, sizeof a, d->dbs[i].size);
		n = snprintf(line + o, sizeof line - o, "%s%s %s", i > 0 ? " · " : "",
		    d->dbs[i].name, a);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	canvas_printf(cv, y++, 1 + x, w - 2 - x, body, "%s", d->n_dbs > 0 ? line : "-");

	/* locks */
	if (d->n_blocked > 0) {
		size_t shown = 0;

		canvas_printf(cv, y++, 1, -1, stale ? STYLE_DIM : STYLE_HEALTH_DEGRADED,
		    "locks: %zu session%s blocked", d->n_blocked, d->n_blocked == 1 ? "" : "s");
		for (size_t i = 0; i < d->n_sessions && shown < 3; i++) {
			const struct pg_stats_session *ss = &d->sessions[i];
			const struct pg_stats_session *by;
			int by_pid = atoi(ss->blocked_by);

			if (ss->blocked_by[0] == '\0')
				continue;
			shown++;
			util_fmt_duration(a, sizeof a, ss->duration_ms);
			by = ds_session_by_pid(d, by_pid);
			x = canvas_printf(cv, y, 3, -1, body, "pid %d waits %s for %s", ss->pid, a,
			    ss->blocked_by);
			if (by != NULL)
				canvas_printf(cv, y, 3 + x, w - 4 - x, STYLE_DIM, " (%s: %s)",
				    by->state, by->query);
			else
				canvas_printf(cv, y, 3 + x, w - 4 - x, STYLE_DIM, ": %s", ss->query);
			y++;
		}
	}

	/* sessions */
	x = 0;
	x = view_col(cv, y, x, 8, STYLE_HEADER, "PID", 1);
	x = view_col(cv, y, x, 7, STYLE_HEADER, "TIME", 1);
	x = view_col(cv, y, x, 10, STYLE_HEADER, "STATE", 0);
	if (wide) {
		x = view_col(cv, y, x, 12, STYLE_HEADER, "USER", 0);
		x = view_col(cv, y, x, 12, STYLE_HEADER, "DATABASE", 0);
		x = view_col(cv, y, x, 22, STYLE_HEADER, "WAITING FOR", 0);
	}
	view_col(cv, y, x, w - x, STYLE_HEADER, d->n_sessions == 0 ? "QUERY  (no session "
	    "is running anything)" : "QUERY", 0);
	y++;
	view_list_fit(&dv->list, d->n_sessions, rows);
	ds_remember_sel(dv);
	for (int r = 0; r < rows && dv->list.top + (size_t)r < d->n_sessions; r++) {
		size_t i = dv->list.top + (size_t)r;
		const struct pg_stats_session *ss = &d->sessions[i];
		int sel = i == dv->list.sel;
		enum style_id st = sel ? STYLE_SELECTED : body;
		char pid[16];

		if (sel)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		snprintf(pid, sizeof pid, "%d", ss->pid);
		util_fmt_duration(a, sizeof a, ss->duration_ms);
		x = 0;
		x = view_col(cv, y, x, 8, st, pid, 1);
		x = view_col(cv, y, x, 7, st, a, 1);
		x = view_col(cv, y, x, 10, sel ? st : ss->blocked_by[0] != '\0' && !stale ?
		    STYLE_HEALTH_DEGRADED : st, ss->blocked_by[0] != '\0' ? "blocked" :
		    ss->blocking ? "blocking" : ss->state, 0);
		if (wide) {
			x = view_col(cv, y, x, 12, st, ss->user, 0);
			x = view_col(cv, y, x, 12, st, ss->db, 0);
			x = view_col(cv, y, x, 22, st, ss->wait, 0);
		}
		view_col(cv, y, x, w - x, st, ss->query, 0);
		y++;
	}
	return y + (rows - (int)(d->n_sessions < (size_t)rows ? d->n_sessions : (size_t)rows));
}

/* ---- Redis ----------------------------------------------------------------------- */

static int
ds_redis_fixed_rows(const struct ds_view *dv)
{
	const struct redis_stats_data *d = dv->rd != NULL ? dv->rd->data : NULL;
	int n = 1;

	if (dv->rd == NULL)
		return 2;
	if (dv->rd->error[0] != '\0' || dv->rd->conn != REDIS_STATS_UP)
		n++;
	if (d == NULL)
		return n;
	return n + 3;	/* two lines and the slowlog's header */
}

static int
ds_draw_redis(struct view *v, struct canvas *cv, int y, int rows)
{
	struct ds_view *dv = v->priv;
	const struct redis_stats_snap *s = dv->rd;
	const struct redis_stats_data *d = s != NULL ? s->data : NULL;
	int w = canvas_width(cv), stale, x, wide = w >= 120;
	enum style_id body;
	char a[64], b[64];

	if (s == NULL) {
		canvas_printf(cv, y, 0, -1, STYLE_TITLE, " Redis ");
		canvas_text(cv, y + 1, 1, STYLE_DIM, "waiting for the first poll…");
		return y + 2;
	}
	stale = ds_title(v, cv, y++, "Redis", s->target, d != NULL ? d->version : "",
	    s->conn == REDIS_STATS_UP, s->conn == REDIS_STATS_DOWN,
	    s->conn == REDIS_STATS_UNCONFIGURED, s->error, d != NULL ? d->taken_ms : 0,
	    s->interval_ms);
	y += ds_reason(cv, y, s->conn == REDIS_STATS_UP, s->conn == REDIS_STATS_DOWN, s->error);
	if (d == NULL)
		return y;
	body = stale ? STYLE_DIM : STYLE_DEFAULT;

	/* load and memory */
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "ops/s ");
	x += canvas_printf(cv, y, 1 + x, -1, body, "%-7.0f", d->ops_per_sec >= 0 ?
	    d->ops_per_sec : 0);
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "memory ");
	util_fmt_bytes(a, sizeof a, d->used_memory);
	if (d->maxmemory > 0) {
		int hot = d->used_memory * 10 >= d->maxmemory * 9;

		util_fmt_bytes(b, sizeof b, d->maxmemory);
		x += canvas_printf(cv, y, 1 + x, -1, hot && !stale ? STYLE_HEALTH_DEGRADED : body,
		    "%s / %s (%.0f%%)  ", a, b, (double)d->used_memory * 100 /
		    (double)d->maxmemory);
	} else {
		x += canvas_printf(cv, y, 1 + x, -1, body, "%s / no limit  ", a);
	}
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "frag ");
	x += canvas_printf(cv, y, 1 + x, -1, body, d->frag >= 0 ? "%.2f  " : "-  ", d->frag);
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "hits ");
	if (d->hit_rate >= 0)
		x += canvas_printf(cv, y, 1 + x, -1, body, "%.1f%%  ", d->hit_rate * 100);
	else
		x += canvas_printf(cv, y, 1 + x, -1, body, "-  ");
	x += canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_HEADER, "evicted ");
	canvas_printf(cv, y, 1 + x, w - 2 - x, d->evicted > 0 && !stale ?
	    STYLE_HEALTH_DEGRADED : body, "%lld", (long long)d->evicted);
	y++;

	/* clients, persistence, replication */
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "clients ");
	x += canvas_printf(cv, y, 1 + x, -1, body, "%lld (%lld blocked)  ",
	    (long long)d->clients, (long long)d->blocked_clients);
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "rdb ");
	if (d->rdb_last_save_s > 0)
		util_fmt_age(a, sizeof a, v->now_ms - d->rdb_last_save_s * 1000);
	else
		snprintf(a, sizeof a, "never");
	x += canvas_printf(cv, y, 1 + x, -1, strcmp(d->rdb_status, "ok") != 0 && !stale ?
	    STYLE_HEALTH_DOWN : body, "%s%s", d->rdb_status[0] != '\0' ? d->rdb_status : "?",
	    d->rdb_in_progress ? " (saving)" : "");
	x += canvas_printf(cv, y, 1 + x, -1, body, wide ? ", saved %s ago  " : " %s ago  ", a);
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "aof ");
	x += canvas_printf(cv, y, 1 + x, -1, d->aof_enabled && strcmp(d->aof_status, "ok") != 0 &&
	    !stale ? STYLE_HEALTH_DOWN : body, "%s  ", d->aof_enabled ? d->aof_status : "off");
	x += canvas_printf(cv, y, 1 + x, -1, STYLE_HEADER, "role ");
	if (d->master_host[0] != '\0')
		canvas_printf(cv, y, 1 + x, w - 2 - x, strcmp(d->master_link, "up") != 0 && !stale ?
		    STYLE_HEALTH_DOWN : body, "replica of %s:%lld, link %s", d->master_host,
		    (long long)d->master_port, d->master_link);
	else if (d->n_replicas > 0)
		canvas_printf(cv, y, 1 + x, w - 2 - x, body, "%s, %zu replica%s, lag %llds",
		    d->role, d->n_replicas, d->n_replicas == 1 ? "" : "s",
		    (long long)d->replicas[0].lag_s);
	else
		canvas_printf(cv, y, 1 + x, w - 2 - x, body, "%s, no replicas", d->role);
	y++;

	/* slowlog */
	x = 0;
	x = view_col(cv, y, x, 8, STYLE_HEADER, "SLOWLOG", 0);
	x = view_col(cv, y, x, 6, STYLE_HEADER, "AGO", 1);
	x = view_col(cv, y, x, 8, STYLE_HEADER, "TOOK", 1);
	if (wide)
		x = view_col(cv, y, x, 22, STYLE_HEADER, "CLIENT", 0);
	view_col(cv, y, x, w - x, STYLE_HEADER, d->n_slow == 0 ? "COMMAND  (the slowlog is "
	    "empty)" : "COMMAND", 0);
	y++;
	for (int r = 0; r < rows && (size_t)r < d->n_slow; r++) {
		const struct redis_stats_slow *sl = &d->slow[r];
		char id[24];

		snprintf(id, sizeof id, "#%lld", (long long)sl->id);
		util_fmt_age(a, sizeof a, v->now_ms - sl->when_s * 1000);
		ds_fmt_us(b, sizeof b, sl->duration_us);
		x = 0;
		x = view_col(cv, y, x, 8, STYLE_DIM, id, 0);
		x = view_col(cv, y, x, 6, body, a, 1);
		x = view_col(cv, y, x, 8, body, b, 1);
		if (wide)
			x = view_col(cv, y, x, 22, body, sl->client, 0);
		view_col(cv, y, x, w - x, body, sl->cmd, 0);
		y++;
	}
	return y;
}

static void
ds_view_draw(struct view *v, struct canvas *cv)
{
	struct ds_view *dv = v->priv;
	const struct pg_stats_data *pd = ds_pg_data(dv);
	const struct redis_stats_data *rd = dv->rd != NULL ? dv->rd->data : NULL;
	int h = canvas_height(cv), y = 0, fixed = 0, free_rows, pg_rows = 0, rd_rows = 0;
	size_t n_sess = pd != NULL ? pd->n_sessions : 0, n_slow = rd != NULL ? rd->n_slow : 0;

	canvas_clear(cv, STYLE_DEFAULT);
	v->next_change_ms = 0;
	if (!dv->has_pg && !dv->has_redis) {
		canvas_text(cv, 0, 1, STYLE_TITLE, "No datastore configured.");
		canvas_text(cv, 2, 1, STYLE_DIM, "Name them under datastores in the config "
		    "file, e.g.:");
		canvas_text(cv, 3, 3, STYLE_DIM, "datastores:");
		canvas_text(cv, 4, 3, STYLE_DIM, "  postgres: { url_env: DATABASE_URL }");
		canvas_text(cv, 5, 3, STYLE_DIM, "  redis: { url_env: REDIS_URL }");
		return;
	}
	if (dv->has_pg)
		fixed += ds_pg_fixed_rows(dv);
	if (dv->has_redis)
		fixed += ds_redis_fixed_rows(dv) + (dv->has_pg ? 1 : 0);
	free_rows = h - fixed;
	if (free_rows < 0)
		free_rows = 0;
	/* sessions first (they can be acted on), the slowlog keeps a third */
	if (dv->has_pg && dv->has_redis && pd != NULL && rd != NULL) {
		int slow_want = (int)(n_slow < (size_t)free_rows ? n_slow : (size_t)free_rows);
		int sess_want = (int)n_sess;

		if (slow_want > free_rows / 3 && sess_want > free_rows - slow_want)
			slow_want = free_rows / 3;
		pg_rows = free_rows - slow_want;
		if (pg_rows < 1 && free_rows > 0)
			pg_rows = 1;
		rd_rows = free_rows - pg_rows;
		if (sess_want < pg_rows) {
			rd_rows += pg_rows - sess_want;
			pg_rows = sess_want;
		}
	} else if (dv->has_pg) {
		pg_rows = free_rows;
	} else {
		rd_rows = free_rows;
	}
	dv->list.page = pg_rows > 0 ? pg_rows : 1;
	if (dv->has_pg)
		y = ds_draw_pg(v, cv, y, pg_rows);
	if (dv->has_redis) {
		if (dv->has_pg)
			y++;
		ds_draw_redis(v, cv, y, rd_rows);
	}
}

/* ---- cancel ---------------------------------------------------------------------- */

struct ds_cancel_job {
	const struct view_host *host;
	struct policy *policy;
	struct policy_ticket ticket;
	int pid;
};

static void
ds_say(const struct view_host *host, int is_error, const char *text)
{
	if (host != NULL && host->message != NULL)
		host->message(host->ud, is_error, text);
}

static void
ds_cancel_done(int ok, int cancelled, const char *error, void *ud)
{
	struct ds_cancel_job *j = ud;
	char msg[320];

	if (ok && cancelled) {
		policy_done(j->policy, &j->ticket, 1, NULL, "cancel requested");
		snprintf(msg, sizeof msg, "pg-cancel %d: done (the query was cancelled)", j->pid);
		ds_say(j->host, 0, msg);
	} else {
		const char *why = ok ? "no such backend (the query had ended)" : error;

		policy_done(j->policy, &j->ticket, 0, why, NULL);
		snprintf(msg, sizeof msg, "pg-cancel %d failed: %.250s", j->pid, why);
		ds_say(j->host, 1, msg);
	}
	free(j);
}

/* The console answered the confirmation of a cancel. */
static void
ds_cancel_answered(void *ud, const struct console_request_result *r)
{
	struct ds_cancel_job *j = ud;
	struct err e;
	char msg[320];

	if (r->outcome != CONSOLE_ALLOWED || r->ticket == NULL) {
		free(j);
		return;		/* the console said why; the policy audited it */
	}
	memset(&e, 0, sizeof e);
	if (policy_redeem(r->policy, r->ticket, r->req, &e) != 0) {
		snprintf(msg, sizeof msg, "pg-cancel refused: %.250s", e.msg);
		ds_say(j->host, 1, msg);
		free(j);
		return;
	}
	j->policy = r->policy;
	j->ticket = *r->ticket;
	ds_say(j->host, 0, "pg-cancel: sent");
	pg_stats_cancel(j->host->pg_stats, j->pid, ds_cancel_done, j);
}

static void
ds_cancel(struct view *v, const char *arg)
{
	struct ds_view *dv = v->priv;
	const struct pg_stats_data *d = ds_pg_data(dv);
	const struct pg_stats_session *ss = NULL;
	struct ds_cancel_job *j;
	struct policy_req q;
	char pid[16], before[400], dur[32];
	int want = -1;

	if (v->host == NULL || v->host->console == NULL || v->host->pg_stats == NULL) {
		ds_say(v->host, 1, "pg-cancel: no PostgreSQL connection to send it on");
		return;
	}
	if (arg != NULL && *arg != '\0') {
		char *end;
		long l = strtol(arg, &end, 10);

		if (*end != '\0' || l <= 0 || l > 0x7fffffff) {
			ds_say(v->host, 1, "pg-cancel: give a backend pid (:pg-cancel PID)");
			return;
		}
		want = (int)l;
		ss = d != NULL ? ds_session_by_pid(d, want) : NULL;
	} else if (d != NULL && dv->list.n > 0 && dv->list.sel < d->n_sessions) {
		ss = &d->sessions[dv->list.sel];
		want = ss->pid;
	}
	if (want < 0) {
		ds_say(v->host, 1, "pg-cancel: no query selected");
		return;
	}
	snprintf(pid, sizeof pid, "%d", want);
	memset(&q, 0, sizeof q);
	q.action = ACTION_PG_CANCEL;
	q.target = "postgres";
	q.target_id = pid;
	if (ss != NULL) {
		util_fmt_duration(dur, sizeof dur, ss->duration_ms);
		snprintf(before, sizeof before, "%.32s for %.31s as %.63s: %.120s", ss->state, dur,
		    ss->user, ss->query);
		q.before = before;
	}
	j = xcalloc(1, sizeof *j);
	j->host = v->host;
	j->pid = want;
	console_request(v->host->console, &q, ds_cancel_answered, j);
}

static int
ds_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct ds_view *dv = v->priv;

	if (view_list_key(&dv->list, a)) {
		ds_remember_sel(dv);
		v->dirty = 1;
		return 1;
	}
	if (a == ACTION_PG_CANCEL) {
		ds_cancel(v, ev != NULL ? ev->arg : NULL);
		return 1;
	}
	return 0;
}

static void
ds_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct ds_view *dv = v->priv;
	int pg_down = dv->pg != NULL && dv->pg->conn != PG_STATS_UP &&
	    dv->pg->conn != PG_STATS_CONNECTING;
	int rd_down = dv->rd != NULL && dv->rd->conn != REDIS_STATS_UP &&
	    dv->rd->conn != REDIS_STATS_CONNECTING;
	const struct pg_stats_data *d = ds_pg_data(dv);

	buf[0] = '\0';
	*is_bad = pg_down || rd_down;
	if (pg_down && rd_down)
		snprintf(buf, len, "pg, redis down");
	else if (pg_down)
		snprintf(buf, len, "pg down");
	else if (rd_down)
		snprintf(buf, len, "redis down");
	else if (d != NULL && d->n_blocked > 0)
		snprintf(buf, len, "%zu blocked", d->n_blocked);
}

const struct view_ops datastores_view_ops = {
	.name = "datastores",
	.title = "Data",
	.priv_size = sizeof(struct ds_view),
	.enabled = view_datastores_enabled,
	.init = ds_view_init,
	.update = ds_view_update,
	.draw = ds_view_draw,
	.draw_detail = NULL,
	.key = ds_view_key,
	.badge = ds_view_badge,
	.free = ds_view_free,
};
