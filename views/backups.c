/* backups.c - the backups pane: pgBackRest's backups, the PITR window, the
 * archiver, a backup being taken, restore drills and their history.
 *
 * Top: the repository's state (OK / STALE with the data's age / ERROR /
 * DEGRADED with the reasons), the point-in-time-recovery window and the
 * archiver.  Then the backups, newest first: the pane's list.  Below: a
 * backup being taken (progress bar and elapsed time), a drill running
 * (its phases with their durations) and the drill history.  Old data is
 * drawn dimmed with its age, never as fresh.
 *
 * C creates a backup (:backup incr), R restores the selected one over the
 * server itself (typed confirmation and a second one), D runs a restore
 * drill of the selected
 * backup (:drill LABEL or :drill 'YYYY-MM-DD HH:MM:SS+00' for a point in
 * time), each through the policy like every action; drill-cancel stops a
 * running drill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signalbox/backups.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

#define BK_VOLUME_REFRESH_MS 60000	/* the volume list, while the pane shows */
#define BK_VOLUME_ROWS 3		/* volume backups drawn */

struct bk_view {
	const struct backups_snap *snap;
	uint64_t gen;
	struct view_list list;		/* over the backups, newest first */
	char sel_label[64];		/* the selected backup across refreshes */
	/* the provider's volume (backups.volume), fetched while drawn */
	const char *volume_service;	/* the config's, or NULL */
	struct railway_volumes *vol;	/* ours (a reference), or NULL */
	char vol_error[200];
	int vol_pending;
	int64_t vol_asked_ms;
};

int
view_backups_enabled(const struct config *cfg)
{
	return cfg != NULL && cfg->backups.enabled;
}

static int
bk_view_init(struct view *v, const struct config *cfg)
{
	struct bk_view *bv = v->priv;

	bv->volume_service = cfg != NULL ? cfg->backups.volume_service : NULL;
	return 0;
}

static void
bk_view_free(struct view *v)
{
	struct bk_view *bv = v->priv;

	railway_volumes_unref(bv->vol);
	bv->vol = NULL;
}

static void
bk_volumes_done(struct railway_volumes *vol, const char *error, void *ud)
{
	struct view *v = ud;
	struct bk_view *bv = v->priv;

	bv->vol_pending = 0;
	if (vol != NULL) {
		railway_volumes_ref(vol);
		railway_volumes_unref(bv->vol);
		bv->vol = vol;
		bv->vol_error[0] = '\0';
	} else {
		util_strlcpy(bv->vol_error, error != NULL ? error : "no answer",
		    sizeof bv->vol_error);
	}
	v->dirty = 1;
}

/* Ask for the volume list when the pane shows and it is old. */
static void
bk_volumes_want(struct view *v, int now)
{
	struct bk_view *bv = v->priv;
	int64_t have = bv->vol != NULL ? bv->vol->fetched_ms : 0;

	if (bv->volume_service == NULL || v->host == NULL || v->host->volumes == NULL ||
	    bv->vol_pending)
		return;
	if (!now && v->now_ms - bv->vol_asked_ms < BK_VOLUME_REFRESH_MS &&
	    (have > 0 || bv->vol_error[0] != '\0' || bv->vol_asked_ms > 0))
		return;
	bv->vol_asked_ms = v->now_ms;
	if (v->host->volumes(v->host->ud, bv->volume_service, bk_volumes_done, v, bv->vol_error,
	    sizeof bv->vol_error) == 0)
		bv->vol_pending = 1;
	view_wake_at(v, v->now_ms + BK_VOLUME_REFRESH_MS);
}

static size_t
bk_n(const struct bk_view *bv)
{
	return bv->snap != NULL && bv->snap->stanza != NULL ? bv->snap->stanza->n_backups : 0;
}

/* Row I of the list (newest first). */
static const struct pgbr_backup *
bk_row(const struct bk_view *bv, size_t i)
{
	size_t n = bk_n(bv);

	return i < n ? &bv->snap->stanza->backups[n - 1 - i] : NULL;
}

static void
bk_remember(struct bk_view *bv)
{
	const struct pgbr_backup *b = bk_row(bv, bv->list.sel);

	util_strlcpy(bv->sel_label, b != NULL ? b->label : "", sizeof bv->sel_label);
}

static void
bk_view_update(struct view *v, const struct store *store)
{
	struct bk_view *bv = v->priv;
	uint64_t gen;
	const struct backups_snap *s = store_get(store, STORE_TOPIC_BACKUPS, &gen);

	if (gen == bv->gen)
		return;
	bv->snap = s;
	bv->gen = gen;
	if (bv->sel_label[0] != '\0')
		for (size_t i = 0; i < bk_n(bv); i++)
			if (strcmp(bk_row(bv, i)->label, bv->sel_label) == 0)
				bv->list.sel = i;
	view_list_fit(&bv->list, bk_n(bv), 0);
	bk_remember(bv);
	v->dirty = 1;
}

/* ---- formatting ------------------------------------------------------------ */

/* Unix seconds as "2026-11-23 10:42:05" UTC ("-" for 0). */
static void
bk_fmt_time(char *buf, size_t len, int64_t s)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (s <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A bar of W cells, PCT full. */
static void
bk_bar(struct canvas *cv, int y, int x, int w, double pct)
{
	int full = pct <= 0 ? 0 : pct >= 100 ? w : (int)(pct * w / 100.0);

	if (w <= 0)
		return;
	canvas_fill(cv, y, x, 1, full, STYLE_SELECTED);
	canvas_fill(cv, y, x + full, 1, w - full, STYLE_DIM);
	for (int i = full; i < w; i++)
		canvas_text(cv, y, x + i, STYLE_DIM, canvas_glyph(cv, CANVAS_GLYPH_HLINE));
}

/* ---- drawing --------------------------------------------------------------- */

/* The title line; returns whether the data is old. */
static int
bk_draw_title(struct view *v, struct canvas *cv, int y)
{
	struct bk_view *bv = v->priv;
	const struct backups_snap *s = bv->snap;
	int w = canvas_width(cv), x, stale = 0;
	const char *label;
	enum style_id st;
	char age[32];

	switch (s->conn) {
	case BACKUPS_CONNECTING:
		label = "READING";
		st = STYLE_STATE_CONNECTING;
		break;
	case BACKUPS_FAILED:
		label = "ERROR";
		st = STYLE_HEALTH_DOWN;
		break;
	case BACKUPS_STALE:
		label = "STALE";
		st = STYLE_STATE_STALE;
		stale = 1;
		break;
	default:
		label = s->degraded ? "DEGRADED" : "OK";
		st = s->degraded ? STYLE_HEALTH_DEGRADED : STYLE_HEALTH_OK;
		break;
	}
	x = canvas_printf(cv, y, 0, -1, STYLE_TITLE, " pgBackRest ");
	x += canvas_printf(cv, y, x, -1, st, " %s ", label);
	if (s->info_ms > 0) {
		int64_t a = v->now_ms - s->info_ms;
		char t[48];
		int tw;

		util_fmt_age(age, sizeof age, a);
		view_wake_at(v, v->now_ms + util_age_next_change(a));
		snprintf(t, sizeof t, " %s %s ago ", stale ? "data" : "read", age);
		tw = canvas_str_width(t, strlen(t));
		canvas_printf(cv, y, x, w - x - tw, STYLE_DEFAULT, " %s", s->where);
		canvas_text_right(cv, y, w, stale ? STYLE_STATE_STALE : STYLE_DIM, t);
	} else {
		canvas_printf(cv, y, x, w - x, STYLE_DEFAULT, " %s", s->where);
	}
	return stale;
}

static int
bk_draw_summary(struct view *v, struct canvas *cv, int y, int stale)
{
	struct bk_view *bv = v->priv;
	const struct backups_snap *s = bv->snap;
	int w = canvas_width(cv), x;
	enum style_id body = stale ? STYLE_DIM : STYLE_DEFAULT;
	char a[40], b[40], c[32];

	if (s->conn == BACKUPS_FAILED || s->conn == BACKUPS_STALE) {
		x = canvas_text(cv, y, 1, STYLE_HEALTH_DOWN, "pgbackrest info failed: ");
		canvas_textn(cv, y++, 1 + x, w - 2 - x, STYLE_DEFAULT, s->error, strlen(s->error));
	}
	if (s->degraded && s->conn != BACKUPS_FAILED) {
		x = canvas_text(cv, y, 1, STYLE_HEALTH_DEGRADED, "DEGRADED: ");
		canvas_textn(cv, y++, 1 + x, w - 2 - x, STYLE_HEALTH_DEGRADED, s->degraded_why,
		    strlen(s->degraded_why));
	}
	if (s->info == NULL)
		return y;
	/* PITR window */
	x = canvas_text(cv, y, 1, STYLE_HEADER, "PITR window  ");
	if (s->pitr.valid) {
		bk_fmt_time(a, sizeof a, s->pitr.earliest);
		bk_fmt_time(b, sizeof b, s->pitr.latest);
		/* whole seconds: a window that has not grown yet is "0s", not "0ms" */
		if (s->pitr.latest > s->pitr.earliest)
			util_fmt_duration(c, sizeof c, (s->pitr.latest - s->pitr.earliest) * 1000);
		else
			snprintf(c, sizeof c, "0s");
		x += canvas_printf(cv, y, 1 + x, w - 2 - x, body, "%s → %s UTC (%s)", a, b, c);
		if (!s->pitr.latest_from_archiver || s->pitr.why[0] != '\0')
			canvas_printf(cv, y, 2 + x, w - 3 - x, STYLE_DIM, "  %s", s->pitr.why);
	} else {
		canvas_textn(cv, y, 1 + x, w - 2 - x, STYLE_HEALTH_DEGRADED, s->pitr.why,
		    strlen(s->pitr.why));
	}
	y++;
	/* archiver */
	x = canvas_text(cv, y, 1, STYLE_HEADER, "Archiver     ");
	if (!s->have_archiver) {
		canvas_text(cv, y, 1 + x, STYLE_DIM, "no figures (datastores.postgres not "
		    "connected, or archive_mode off)");
	} else {
		int failing = s->last_failed_ms > s->last_archived_ms;

		if (s->last_archived_ms > 0)
			util_fmt_age(a, sizeof a, v->now_ms - s->last_archived_ms);
		else
			snprintf(a, sizeof a, "never");
		if (failing) {
			util_fmt_age(b, sizeof b, v->now_ms - s->last_failed_ms);
			x += canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_HEALTH_DOWN, "FAILING "
			    "(%s, %s ago) ", s->last_failed_wal, b);
		}
		x += canvas_printf(cv, y, 1 + x, w - 2 - x, body, "last %s %s%s · %lld archived · ",
		    s->last_archived_wal[0] != '\0' ? s->last_archived_wal : "-", a,
		    s->last_archived_ms > 0 ? " ago" : "", (long long)s->archived);
		canvas_printf(cv, y, 1 + x, w - 2 - x, s->archive_failed > 0 ?
		    STYLE_HEALTH_DEGRADED : body, "%lld failed", (long long)s->archive_failed);
	}
	y++;
	/* repositories */
	if (s->stanza != NULL) {
		x = canvas_text(cv, y, 1, STYLE_HEADER, "Repository   ");
		for (size_t i = 0; i < s->stanza->n_repos && x < w - 2; i++) {
			const struct pgbr_repo *r = &s->stanza->repos[i];

			x += canvas_printf(cv, y, 1 + x, w - 2 - x, r->status_code == 0 ? body :
			    STYLE_HEALTH_DOWN, "%srepo%d %.*s", i > 0 ? " · " : "", r->key,
			    (int)strcspn(r->status_message, "\n"), r->status_code == 0 ? "ok" :
			    r->status_message);
		}
		if (s->stanza->n_archives > 0) {
			const struct pgbr_archive *ar = &s->stanza->archives[0];

			canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_DIM, " · WAL %s … %s",
			    ar->wal_min[0] != '\0' ? ar->wal_min : "-",
			    ar->wal_max[0] != '\0' ? ar->wal_max : "-");
		}
		y++;
	}
	return y;
}

static int
bk_draw_list(struct view *v, struct canvas *cv, int y, int rows, int stale)
{
	struct bk_view *bv = v->priv;
	int w = canvas_width(cv), wide = w >= 120;
	size_t n = bk_n(bv);
	enum style_id body = stale ? STYLE_DIM : STYLE_DEFAULT;
	char a[40], d[32], sz[32], rs[32];
	int x;

	x = view_col(cv, y, 1, 2, STYLE_HEADER, "", 0);
	x = view_col(cv, y, x, wide ? 36 : 33, STYLE_HEADER, "BACKUP", 0);
	x = view_col(cv, y, x, 4, STYLE_HEADER, "TYPE", 0);
	x = view_col(cv, y, x, wide ? 19 : 11, STYLE_HEADER, wide ? "FINISHED (UTC)" : "END (UTC)",
	    0);
	x = view_col(cv, y, x, wide ? 7 : 5, STYLE_HEADER, "TOOK", 1);
	x = view_col(cv, y, x, wide ? 8 : 7, STYLE_HEADER, "SIZE", 1);
	x = view_col(cv, y, x, wide ? 8 : 7, STYLE_HEADER, "STORED", 1);
	if (wide) {
		x = view_col(cv, y, x, 5, STYLE_HEADER, "REPO", 1);
		view_col(cv, y, x, w - x - 1, STYLE_HEADER, "LSN", 0);
	}
	y++;
	rows--;
	if (n == 0) {
		canvas_text(cv, y, 3, STYLE_DIM, bv->snap->stanza != NULL ?
		    "no backup yet: C creates one" : "no data for this stanza");
		return y + 1;
	}
	bv->list.page = rows > 0 ? rows : 1;
	view_list_fit(&bv->list, n, bv->list.page);
	for (size_t i = bv->list.top; i < n && rows > 0; i++, rows--, y++) {
		const struct pgbr_backup *b = bk_row(bv, i);
		int sel = i == bv->list.sel;
		enum style_id st = sel ? STYLE_SELECTED : body;

		if (sel)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		bk_fmt_time(a, sizeof a, b->stop);
		if (!wide && strlen(a) == 19) {
			memmove(a, a + 5, 11);	/* "2026-11-23 17:38:02" -> "11-23 17:38" */
			a[11] = '\0';
		}
		util_fmt_duration(d, sizeof d, (b->stop - b->start) * 1000);
		util_fmt_bytes(sz, sizeof sz, b->size);
		util_fmt_bytes(rs, sizeof rs, b->repo_delta >= 0 ? b->repo_delta : b->repo_size);
		x = view_col(cv, y, 1, 2, st, sel ? canvas_glyph(cv, CANVAS_GLYPH_ARROW) : "", 0);
		x = view_col(cv, y, x, wide ? 36 : 33, st, b->label, 0);
		x = view_col(cv, y, x, 4, st, pgbr_type_name(b->type), 0);
		x = view_col(cv, y, x, wide ? 19 : 11, st, a, 0);
		x = view_col(cv, y, x, wide ? 7 : 5, st, d, 1);
		x = view_col(cv, y, x, wide ? 8 : 7, st, sz, 1);
		x = view_col(cv, y, x, wide ? 8 : 7, b->error && !sel ? STYLE_HEALTH_DOWN : st, rs,
		    1);
		if (wide) {
			char repo[8], lsn[72];

			snprintf(repo, sizeof repo, "%d", b->repo_key);
			snprintf(lsn, sizeof lsn, "%s … %s", b->lsn_start, b->lsn_stop);
			x = view_col(cv, y, x, 5, st, repo, 1);
			view_col(cv, y, x, w - x - 1, st, lsn, 0);
		}
	}
	return y;
}

/* A backup being taken, or the last one taken from this console. */
static int
bk_draw_job(struct view *v, struct canvas *cv, int y)
{
	const struct backups_snap *s = ((struct bk_view *)v->priv)->snap;
	const struct backups_job *j = &s->job;
	int w = canvas_width(cv), x;
	char el[32];

	if (!j->active && !j->finished)
		return y;
	util_fmt_duration(el, sizeof el, (j->active ? v->now_ms : j->ended_ms) - j->started_ms);
	if (j->active) {
		view_wake_at(v, v->now_ms + 1000);
		if (strcmp(j->type, "restore") == 0)
			x = canvas_printf(cv, y, 1, -1, STYLE_HEALTH_DEGRADED, "Restore in place ");
		else
			x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "Backup %s ", j->type);
		if (j->pct >= 0) {
			int bw = w - x - 44 > 40 ? 40 : w - x - 44;

			bk_bar(cv, y, 1 + x, bw, j->pct);
			x += bw > 0 ? bw + 1 : 0;
			x += canvas_printf(cv, y, 1 + x, -1, STYLE_DEFAULT, " %3.0f%%", j->pct);
		}
		canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_DIM, "  %s elapsed · %s", el, j->words);
	} else {
		x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, strcmp(j->type, "restore") == 0 ?
		    "Last restore " : "Last backup ");
		canvas_printf(cv, y, 1 + x, w - 2 - x, j->ok ? STYLE_HEALTH_OK : STYLE_HEALTH_DOWN,
		    "%s (%s)", j->words, el);
	}
	return y + 1;
}

static int
bk_draw_drills(struct view *v, struct canvas *cv, int y, int rows)
{
	const struct backups_snap *s = ((struct bk_view *)v->priv)->snap;
	int w = canvas_width(cv), x;
	char a[40], b[32], c[32];

	if (s->drill.active && rows > 0) {
		view_wake_at(v, v->now_ms + 1000);
		util_fmt_duration(a, sizeof a, v->now_ms - s->drill.started_ms);
		x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "Drill ");
		x += canvas_printf(cv, y, 1 + x, -1, STYLE_STATE_CONNECTING, "%s ",
		    drill_phase_name(s->drill.phase));
		x += canvas_printf(cv, y, 1 + x, -1, STYLE_DIM, "%s · ", a);
		for (int i = 0; i < DRILL_N_PHASES && x < w - 2; i++) {
			if (s->drill.phase_ms[i] < 0)
				continue;
			util_fmt_duration(b, sizeof b, s->drill.phase_ms[i]);
			x += canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_DEFAULT, "%s %s  ",
			    drill_phase_name((enum drill_phase)i), b);
		}
		y++;
		rows--;
	}
	if (rows <= 0)
		return y;
	canvas_text(cv, y++, 1, STYLE_HEADER, s->n_history > 0 ? "DRILLS (newest first)" :
	    "DRILLS  none yet: D runs one on the selected backup");
	rows--;
	for (size_t i = 0; i < s->n_history && rows > 0; i++, rows--, y++) {
		const struct backups_drill_rec *r = &s->history[i];
		int passed = strcmp(r->verdict, "PASSED") == 0;

		bk_fmt_time(a, sizeof a, r->started_ms / 1000);
		x = view_col(cv, y, 3, 19, STYLE_DEFAULT, a, 0);
		x = view_col(cv, y, x, 9, passed ? STYLE_HEALTH_OK : STYLE_HEALTH_DOWN,
		    r->verdict, 0);
		if (passed) {
			/* seconds matter for an RTO: one decimal under a minute */
			if (r->rto_ms >= 0 && r->rto_ms < 60000)
				snprintf(b, sizeof b, "%.1fs", (double)r->rto_ms / 1000.0);
			else
				util_fmt_duration(b, sizeof b, r->rto_ms);
			util_fmt_duration(c, sizeof c, r->rpo_ms >= 0 ? r->rpo_ms : 0);
			x += canvas_printf(cv, y, x, w - 1 - x, STYLE_DEFAULT, "RTO %-7s RPO %-7s ", b,
			    r->rpo_ms >= 0 ? c : "?");
			canvas_textn(cv, y, x, w - 1 - x, STYLE_DIM, r->label, strlen(r->label));
		} else {
			canvas_textn(cv, y, x, w - 1 - x, STYLE_DEFAULT, r->reason, strlen(r->reason));
		}
	}
	return y;
}

/* The provider's volume of backups.volume, its schedule and its newest
 * backups. */
static int
bk_draw_volume(struct view *v, struct canvas *cv, int y, int rows)
{
	struct bk_view *bv = v->priv;
	const struct railway_volumes *vol = bv->vol;
	int w = canvas_width(cv), x;
	char a[40], b[40], sched[64];

	if (rows < 2)
		return y;
	x = canvas_printf(cv, y, 1, -1, STYLE_HEADER, "Volume of %s ", bv->volume_service);
	if (vol == NULL) {
		canvas_textn(cv, y, 1 + x, w - 2 - x, STYLE_DIM, bv->vol_error[0] != '\0' ?
		    bv->vol_error : "asking the provider…", strlen(bv->vol_error[0] != '\0' ?
		    bv->vol_error : "asking the provider…"));
		return y + 2;
	}
	if (vol->instance_id[0] == '\0') {
		canvas_text(cv, y, 1 + x, STYLE_DIM, "(the service has no volume)");
		return y + 2;
	}
	railway_schedule_format(vol->schedule_kinds, sched, sizeof sched);
	util_fmt_age(a, sizeof a, v->now_ms - vol->fetched_ms);
	x += canvas_printf(cv, y, 1 + x, w - 2 - x, STYLE_DEFAULT, "%s %s · %.0f/%lld MB · "
	    "schedule %s · %zu backup%s", vol->volume_name, vol->state, vol->used_mb,
	    (long long)vol->size_mb, sched, vol->n_backups, vol->n_backups == 1 ? "" : "s");
	if (bv->vol_error[0] != '\0')
		canvas_textn(cv, y, 2 + x, w - 3 - x, STYLE_STATE_STALE, bv->vol_error,
		    strlen(bv->vol_error));
	else
		canvas_printf(cv, y, 2 + x, w - 3 - x, STYLE_DIM, "(%s ago)", a);
	y++;
	for (size_t i = 0; i < vol->n_backups && i < BK_VOLUME_ROWS && rows > 1; i++, rows--) {
		const struct railway_volume_backup *vb = &vol->backups[i];

		bk_fmt_time(a, sizeof a, vb->created_ms / 1000);
		bk_fmt_time(b, sizeof b, vb->expires_ms / 1000);
		x = view_col(cv, y, 3, 12, STYLE_DEFAULT, vb->id, 0);
		x = view_col(cv, y, x, 19, STYLE_DEFAULT, a, 0);
		canvas_printf(cv, y++, x, w - 1 - x, STYLE_DIM, "%s%s%s", vb->name[0] != '\0' ?
		    vb->name : vb->external_id, vb->expires_ms > 0 ? " · expires " : "",
		    vb->expires_ms > 0 ? b : "");
	}
	if (vol->n_backups == 0)
		canvas_text(cv, y++, 3, STYLE_DIM, "no volume backup yet: :volume-backup takes one");
	return y;
}

static void
bk_view_draw(struct view *v, struct canvas *cv)
{
	struct bk_view *bv = v->priv;
	const struct backups_snap *s = bv->snap;
	int h = canvas_height(cv), y = 0, stale, below, list_rows;

	canvas_clear(cv, STYLE_DEFAULT);
	if (s == NULL) {
		canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " pgBackRest ");
		canvas_text(cv, 1, 1, STYLE_DIM, "waiting for the first pgbackrest info…");
		return;
	}
	stale = bk_draw_title(v, cv, y++);
	y = bk_draw_summary(v, cv, y, stale);
	/* below the list: the job (1), the drill now (1), the history header
	 * and up to 5 drills; the list gets the rest but at least 4 rows */
	below = (s->job.active || s->job.finished) + s->drill.active + 1 +
	    (int)(s->n_history < 5 ? s->n_history : 5) +
	    (bv->volume_service != NULL ? 2 + BK_VOLUME_ROWS : 0);
	bk_volumes_want(v, 0);
	list_rows = h - y - 1 - below;
	if (list_rows < 4)
		list_rows = 4;
	if (s->info != NULL)
		y = bk_draw_list(v, cv, y + 1, list_rows, stale);
	y++;
	if (y < h)
		y = bk_draw_job(v, cv, y);
	if (y < h && bv->volume_service != NULL)
		y = bk_draw_volume(v, cv, y, h - y);
	if (y < h)
		bk_draw_drills(v, cv, y, h - y);
}

/* ---- actions ----------------------------------------------------------------- */

struct bk_job {
	const struct view_host *host;
	struct policy *policy;
	struct policy_ticket ticket;
	enum action action;
	char type[8];
	char label[64];		/* drill: backup ("" = newest) */
	char target[40];	/* drill: point in time */
};

static void
bk_say(const struct view_host *host, int is_error, const char *text)
{
	if (host != NULL && host->message != NULL)
		host->message(host->ud, is_error, text);
}

static void
bk_job_done(int ok, const char *words, void *ud)
{
	struct bk_job *j = ud;

	policy_done(j->policy, &j->ticket, ok, ok ? NULL : words, ok ? words : NULL);
	bk_say(j->host, !ok, words);
	free(j);
}

static void
bk_answered(void *ud, const struct console_request_result *r)
{
	struct bk_job *j = ud;
	struct err e;
	char msg[320];
	int rc;

	if (r->outcome != CONSOLE_ALLOWED || r->ticket == NULL) {
		free(j);
		return;		/* the console said why; the policy audited it */
	}
	memset(&e, 0, sizeof e);
	if (policy_redeem(r->policy, r->ticket, r->req, &e) != 0) {
		snprintf(msg, sizeof msg, "%s refused: %.250s", action_info(j->action)->name,
		    e.msg);
		bk_say(j->host, 1, msg);
		free(j);
		return;
	}
	j->policy = r->policy;
	j->ticket = *r->ticket;
	if (j->action == ACTION_BACKUP_TAKE)
		rc = backups_take(j->host->backups, j->type, bk_job_done, j, &e);
	else if (j->action == ACTION_BACKUP_RESTORE)
		rc = backups_restore(j->host->backups, j->label[0] != '\0' ? j->label : NULL,
		    j->target[0] != '\0' ? j->target : NULL, bk_job_done, j, &e);
	else
		rc = backups_drill(j->host->backups, j->label[0] != '\0' ? j->label : NULL,
		    j->target[0] != '\0' ? j->target : NULL, NULL, bk_job_done, j, &e);
	if (rc != 0) {
		policy_done(j->policy, &j->ticket, 0, e.msg, NULL);
		snprintf(msg, sizeof msg, "%s failed: %.250s", action_info(j->action)->name, e.msg);
		bk_say(j->host, 1, msg);
		free(j);
		return;
	}
	bk_say(j->host, 0, j->action == ACTION_BACKUP_TAKE ? "backup: started" :
	    j->action == ACTION_BACKUP_RESTORE ? "restore: started (the server goes down)" :
	    "drill: started (its phases show in the pane)");
}

/* Whether ARG looks like a point in time ("2026-11-23 10:42..."). */
static int
bk_is_time(const char *arg)
{
	return strlen(arg) >= 16 && arg[4] == '-' && arg[7] == '-' &&
	    (arg[10] == ' ' || arg[10] == 'T');
}

static void
bk_request(struct view *v, enum action a, const char *arg)
{
	struct bk_view *bv = v->priv;
	const struct backups_snap *s = bv->snap;
	const struct pgbr_backup *sel = bk_row(bv, bv->list.sel);
	const struct pgbr_backup *newest = s != NULL && s->stanza != NULL ?
	    pgbr_stanza_newest(s->stanza) : NULL;
	struct policy_req q;
	struct bk_job *j;
	char before[160], after[96];

	if (v->host == NULL || v->host->console == NULL || v->host->backups == NULL) {
		bk_say(v->host, 1, "backups: not configured (backups: in the configuration)");
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->host = v->host;
	j->action = a;
	memset(&q, 0, sizeof q);
	q.action = a;
	q.target = s != NULL ? s->stanza_name : "?";
	if (a == ACTION_BACKUP_TAKE) {
		util_strlcpy(j->type, arg != NULL && *arg != '\0' ? arg : "full", sizeof j->type);
		if (newest != NULL) {
			snprintf(before, sizeof before, "%s (%s)", newest->label,
			    pgbr_type_name(newest->type));
			q.before = before;
		}
		q.after = j->type;
	} else {
		if (arg != NULL && *arg != '\0') {
			if (bk_is_time(arg))
				util_strlcpy(j->target, arg, sizeof j->target);
			else
				util_strlcpy(j->label, arg, sizeof j->label);
		} else if (sel != NULL) {
			util_strlcpy(j->label, sel->label, sizeof j->label);
		}
		if (a == ACTION_BACKUP_RESTORE && newest != NULL) {
			snprintf(before, sizeof before, "the server runs; newest backup %s",
			    newest->label);
			q.before = before;
		}
		if (j->target[0] != '\0')
			snprintf(after, sizeof after, "point in time %s", j->target);
		else
			snprintf(after, sizeof after, "%s", j->label[0] != '\0' ? j->label :
			    "the newest backup");
		q.after = after;
	}
	console_request(v->host->console, &q, bk_answered, j);
}

/* A volume action through the host's act hook (policy, confirmation,
 * audit, then the provider: act.c). */
static void
bk_volume_request(struct view *v, enum action a, const char *arg)
{
	struct bk_view *bv = v->priv;
	const struct railway_volumes *vol = bv->vol;
	struct policy_param param;
	struct policy_req q;
	char before[96], after[96];

	if (v->host == NULL || v->host->act == NULL || bv->volume_service == NULL) {
		bk_say(v->host, 1, "volume: no provider volume configured (backups.volume)");
		return;
	}
	if (vol == NULL || vol->instance_id[0] == '\0') {
		bk_say(v->host, 1, "volume: the volume is not known yet (r asks the provider)");
		return;
	}
	memset(&q, 0, sizeof q);
	q.action = a;
	q.target = bv->volume_service;
	q.from = -1;
	param.name = "volume_instance";
	param.value = vol->instance_id;
	param.secret = 0;
	q.params = &param;
	q.n_params = 1;
	if (a == ACTION_VOLUME_BACKUP) {
		q.after = arg != NULL && *arg != '\0' ? arg : NULL;
	} else if (a == ACTION_VOLUME_RESTORE) {
		const struct railway_volume_backup *hit = NULL;

		for (size_t i = 0; arg != NULL && *arg != '\0' && i < vol->n_backups; i++)
			if (strcmp(vol->backups[i].id, arg) == 0 ||
			    strcmp(vol->backups[i].external_id, arg) == 0)
				hit = &vol->backups[i];
		if (hit == NULL) {
			bk_say(v->host, 1, "volume-restore: give a backup of the list "
			    "(:volume-restore ID)");
			return;
		}
		q.target_id = hit->id;
		snprintf(after, sizeof after, "%.40s (%.40s)", hit->id, hit->name[0] != '\0' ?
		    hit->name : hit->external_id);
		q.after = after;
		snprintf(before, sizeof before, "%zu backups, state %.20s", vol->n_backups,
		    vol->state);
		q.before = before;
	} else {
		railway_schedule_format(vol->schedule_kinds, before, sizeof before);
		q.before = before;
		q.after = arg != NULL && *arg != '\0' ? arg : "none";
	}
	v->host->act(v->host->ud, &q);
	bv->vol_asked_ms = 0;		/* list again soon */
}

static int
bk_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct bk_view *bv = v->priv;

	if (view_list_key(&bv->list, a)) {
		bk_remember(bv);
		v->dirty = 1;
		return 1;
	}
	switch (a) {
	case ACTION_BACKUP_TAKE:
	case ACTION_BACKUP_DRILL:
	case ACTION_BACKUP_RESTORE:
		bk_request(v, a, ev != NULL ? ev->arg : NULL);
		return 1;
	case ACTION_VOLUME_BACKUP:
	case ACTION_VOLUME_RESTORE:
	case ACTION_VOLUME_SCHEDULE:
		bk_volume_request(v, a, ev != NULL ? ev->arg : NULL);
		return 1;
	case ACTION_DRILL_CANCEL:
		if (bv->snap == NULL || !bv->snap->drill.active) {
			bk_say(v->host, 1, "drill-cancel: no drill is running");
		} else {
			backups_drill_cancel(v->host->backups);
			bk_say(v->host, 0, "drill-cancel: stopping the drill's server");
		}
		return 1;
	case ACTION_REFRESH:
		if (v->host != NULL && v->host->backups != NULL) {
			backups_refresh(v->host->backups);
			bk_volumes_want(v, 1);
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

static void
bk_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	const struct backups_snap *s = ((struct bk_view *)v->priv)->snap;

	buf[0] = '\0';
	*is_bad = 0;
	if (s == NULL)
		return;
	if (s->conn == BACKUPS_FAILED || s->conn == BACKUPS_STALE) {
		snprintf(buf, len, "info failed");
		*is_bad = 1;
	} else if (s->job.active) {
		snprintf(buf, len, "%s %.0f%%", strcmp(s->job.type, "restore") == 0 ? "restore" :
		    "backup", s->job.pct < 0 ? 0 : s->job.pct);
	} else if (s->drill.active) {
		snprintf(buf, len, "drill");
	} else if (s->degraded) {
		snprintf(buf, len, "degraded");
		*is_bad = 1;
	}
}

const struct view_ops backups_view_ops = {
	.name = "backups",
	.title = "Backups",
	.priv_size = sizeof(struct bk_view),
	.enabled = view_backups_enabled,
	.init = bk_view_init,
	.update = bk_view_update,
	.draw = bk_view_draw,
	.key = bk_view_key,
	.badge = bk_view_badge,
	.free = bk_view_free,
};
