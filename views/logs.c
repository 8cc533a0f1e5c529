/* logs.c - the logs pane: the store's log ring, live.
 *
 * Lines are shown in arrival order (a live tail's order; each with its own
 * timestamp) with level colours and a source tag.  Follow mode sticks to
 * the newest line; moving up pauses it and the title counts what arrived
 * since; F or G follows again.
 *
 * The '/' filter (the filter language of logfilter.h) hides what does not
 * match and highlights what does; C shows CONTEXT_LINES lines around each
 * match, and n / N jump between matches.  e / E and w / W jump to the
 * next or previous error / warning of what is shown.  The matching lines
 * are found by an incremental scan of the ring, SCAN_BUDGET lines per
 * frame, so a filter over millions of lines never blocks the keyboard:
 * the title shows the progress meanwhile.
 *
 * A strip above the lines counts errors and warnings per minute (one
 * column per minute, the newest on the right), kept up to date from the
 * lines as they arrive.
 *
 * The pane shows the feed's state (store source "logs"): a tail whose
 * stream is reconnecting says so, with the reason, in the title.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "provider.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/err.h"
#include "signalbox/logfeed.h"
#include "signalbox/logfilter.h"
#include "signalbox/logparse.h"
#include "signalbox/logring.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

enum {
	LV_SCAN_BUDGET = 200000,	/* lines examined per frame by a filter scan */
	LV_FIND_BUDGET = 400000,	/* lines examined per key by e/E/w/W */
	LV_CONTEXT = 3,			/* lines around a match with C */
	LV_CONTEXT_MAX_MATCHES = 200000,
	LV_HIST = 240,			/* minutes kept for the histogram strip */
	LV_SPANS = 32,
	LV_TAG_W = 10,
};

struct logs_view {
	struct logring *ring;		/* the store's, valid during update/draw */
	struct store_source src;
	int have_src;
	uint64_t gen;

	/* selection: by seq, so that drops and filters keep it in place */
	int follow;
	uint64_t sel_seq;
	size_t top;			/* first row shown */
	int page;			/* rows shown at the last draw */
	uint64_t paused_end;		/* ring end when follow stopped */

	/* filter: matches found so far (ascending seqs) */
	char filter_text[sizeof(((struct view *)0)->filter)];
	struct logfilter *filter;
	char filter_err[200];
	uint64_t *match;
	size_t n_match, cap_match, match_head;
	struct logfilter_cursor cur;
	int scanning;

	/* C: the matches and the lines around them */
	int context;
	uint64_t *ctx;
	size_t n_ctx, cap_ctx;
	size_t ctx_built_for;		/* n_match - match_head the rows were built from */
	uint64_t ctx_first;		/* ring first seq they were built with */

	int show_ts;
	int wrap;
	int pretty;			/* J: the selected line as indented JSON */
	char note[160];			/* "no more errors", ... (until the next key) */

	/* errors and warnings per minute, from the lines as they arrive */
	int64_t hist_min;		/* minute (epoch / 60) of the newest bucket */
	uint32_t hist_err[LV_HIST], hist_warn[LV_HIST];
	uint64_t hist_seq;		/* next seq to count */
};

/* --- rows ------------------------------------------------------------------ */

static size_t
lv_rows(const struct logs_view *lv)
{
	if (lv->ring == NULL)
		return 0;
	if (lv->filter == NULL)
		return logring_count(lv->ring);
	if (lv->context)
		return lv->n_ctx;
	return lv->n_match - lv->match_head;
}

static uint64_t
lv_row_seq(const struct logs_view *lv, size_t row)
{
	if (lv->filter == NULL)
		return logring_first_seq(lv->ring) + row;
	if (lv->context)
		return lv->ctx[row];
	return lv->match[lv->match_head + row];
}

/* The row of SEQ, or of the first line after it; lv_rows() when none. */
static size_t
lv_seq_row(const struct logs_view *lv, uint64_t seq)
{
	size_t lo = 0, hi = lv_rows(lv);

	if (lv->filter == NULL) {
		uint64_t first = logring_first_seq(lv->ring);

		return seq <= first ? 0 : seq - first < hi ? (size_t)(seq - first) : hi;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lv_row_seq(lv, mid) < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
lv_push(uint64_t **arr, size_t *n, size_t *cap, uint64_t seq)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*arr = xreallocarray(*arr, *cap, sizeof **arr);
	}
	(*arr)[(*n)++] = seq;
}

static int
lv_hit(const struct log_line *line, void *ud)
{
	struct logs_view *lv = ud;

	lv_push(&lv->match, &lv->n_match, &lv->cap_match, line->seq);
	return 0;
}

/* Drop matches the ring no longer holds; compact now and then. */
static void
lv_prune(struct logs_view *lv)
{
	uint64_t first = logring_first_seq(lv->ring);

	while (lv->match_head < lv->n_match && lv->match[lv->match_head] < first)
		lv->match_head++;
	if (lv->match_head > 4096 && lv->match_head * 2 > lv->n_match) {
		memmove(lv->match, lv->match + lv->match_head,
		    (lv->n_match - lv->match_head) * sizeof *lv->match);
		lv->n_match -= lv->match_head;
		lv->match_head = 0;
	}
}

static void
lv_build_context(struct logs_view *lv)
{
	uint64_t first = logring_first_seq(lv->ring), end = logring_end_seq(lv->ring);
	size_t n = lv->n_match - lv->match_head;

	if (lv->ctx_built_for == n && lv->ctx_first == first && lv->n_ctx > 0)
		return;
	lv->n_ctx = 0;
	for (size_t i = lv->match_head; i < lv->n_match; i++) {
		uint64_t m = lv->match[i];
		uint64_t a = m >= first + LV_CONTEXT ? m - LV_CONTEXT : first;
		uint64_t b = m + LV_CONTEXT < end ? m + LV_CONTEXT : end - 1;

		if (lv->n_ctx > 0 && a <= lv->ctx[lv->n_ctx - 1])
			a = lv->ctx[lv->n_ctx - 1] + 1;
		for (uint64_t s = a; s <= b; s++)
			lv_push(&lv->ctx, &lv->n_ctx, &lv->cap_ctx, s);
	}
	lv->ctx_built_for = n;
	lv->ctx_first = first;
}

static void
lv_set_filter(struct logs_view *lv, const char *text)
{
	struct err e;

	logfilter_free(&lv->filter);
	lv->filter_err[0] = '\0';
	lv->n_match = lv->match_head = 0;
	lv->n_ctx = 0;
	lv->ctx_built_for = (size_t)-1;
	lv->scanning = 0;
	util_strlcpy(lv->filter_text, text, sizeof lv->filter_text);
	if (text[0] == '\0')
		return;
	memset(&e, 0, sizeof e);
	if ((lv->filter = logfilter_compile(text, &e)) == NULL) {
		util_strlcpy(lv->filter_err, e.msg, sizeof lv->filter_err);
		return;
	}
	if (logfilter_is_empty(lv->filter)) {
		logfilter_free(&lv->filter);
		return;
	}
	logfilter_cursor_init(&lv->cur, 0, LOGFILTER_FORWARD);
	lv->scanning = 1;
}

/* Count new lines into the per-minute histogram. */
static void
lv_hist(struct logs_view *lv)
{
	uint64_t end = logring_end_seq(lv->ring), first = logring_first_seq(lv->ring);
	struct log_line l;

	if (lv->hist_seq < first)
		lv->hist_seq = first;
	for (; lv->hist_seq < end; lv->hist_seq++) {
		int64_t m;

		if (logring_get_seq(lv->ring, lv->hist_seq, &l) != 0)
			continue;
		if (l.level < LOG_LEVEL_WARN)
			continue;
		m = l.ts_ms / 60000;
		if (m > lv->hist_min) {
			int64_t shift = m - lv->hist_min;

			if (shift >= LV_HIST) {
				memset(lv->hist_err, 0, sizeof lv->hist_err);
				memset(lv->hist_warn, 0, sizeof lv->hist_warn);
			} else {
				memmove(lv->hist_err, lv->hist_err + shift,
				    (LV_HIST - (size_t)shift) * sizeof *lv->hist_err);
				memmove(lv->hist_warn, lv->hist_warn + shift,
				    (LV_HIST - (size_t)shift) * sizeof *lv->hist_warn);
				memset(lv->hist_err + LV_HIST - shift, 0, (size_t)shift *
				    sizeof *lv->hist_err);
				memset(lv->hist_warn + LV_HIST - shift, 0, (size_t)shift *
				    sizeof *lv->hist_warn);
			}
			lv->hist_min = m;
		}
		if (lv->hist_min - m >= LV_HIST)
			continue;
		if (l.level >= LOG_LEVEL_ERROR)
			lv->hist_err[LV_HIST - 1 - (lv->hist_min - m)]++;
		else
			lv->hist_warn[LV_HIST - 1 - (lv->hist_min - m)]++;
	}
}

/* --- update ------------------------------------------------------------------ */

static int
lv_init(struct view *v, const struct config *cfg)
{
	struct logs_view *lv = v->priv;

	(void)cfg;
	lv->follow = 1;
	lv->show_ts = 1;
	lv->ctx_built_for = (size_t)-1;
	return 0;
}

static void
lv_update(struct view *v, const struct store *store)
{
	struct logs_view *lv = v->priv;
	uint64_t gen = store_generation(store, STORE_TOPIC_LOGS);

	lv->ring = store_logs(store);
	if (provider_sync_source(&lv->have_src, &lv->src, store_source_find(store, LOGFEED_SOURCE)))
		v->dirty = 1;
	if (strcmp(v->filter, lv->filter_text) != 0) {
		lv_set_filter(lv, v->filter);
		v->dirty = 1;
	}
	if (lv->ring == NULL)
		return;
	if (gen != lv->gen) {
		lv->gen = gen;
		lv_hist(lv);
		v->dirty = 1;
		if (lv->filter != NULL && !lv->scanning)
			lv->scanning = 1;	/* new lines to look at */
	}
	if (lv->filter != NULL && lv->scanning) {
		if (logfilter_scan(lv->filter, lv->ring, &lv->cur, LV_SCAN_BUDGET, lv_hit, lv))
			lv->scanning = 0;
		v->dirty = 1;
	}
	if (lv->filter != NULL) {
		lv_prune(lv);
		if (lv->context && lv->n_match - lv->match_head <= LV_CONTEXT_MAX_MATCHES)
			lv_build_context(lv);
	}
	/* the scan goes on next frame without waiting for a line */
	if (lv->scanning)
		view_wake_at(v, v->now_ms + 1);
}

/* --- drawing ------------------------------------------------------------------ */

/* Writes cells left to right, wrapping (or cutting with "…") at the right
 * edge; with CV NULL it only measures. */
struct lv_pen {
	struct canvas *cv;
	int y, x, x0, w, y_end;
	int wrap;
	int sel;		/* the selected row: one style throughout (matches kept) */
	int sgr;		/* style from the line's own ANSI colour (logs.ansi_colors:
				 * keep), -1 = none */
	int full;		/* no room left */
	int lines;		/* lines used */
};

/* The theme's role for ANSI SGR parameters P (N bytes, "31;1"): colours
 * become the log roles, so a line's own colours follow the theme; -1 for a
 * reset, the current style for what has no role. */
static int
lv_sgr_style(const char *prm, size_t n, int cur)
{
	int st = cur, v = 0, have = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && prm[i] >= '0' && prm[i] <= '9') {
			v = v * 10 + (prm[i] - '0');
			have = 1;
			continue;
		}
		if (!have || v == 0 || v == 39 || v == 22)
			st = -1;
		else if (v == 31 || v == 91 || v == 41)
			st = STYLE_LOG_ERROR;
		else if (v == 33 || v == 93 || v == 43)
			st = STYLE_LOG_WARN;
		else if (v == 32 || v == 92)
			st = STYLE_HEALTH_OK;
		else if (v == 34 || v == 94 || v == 36 || v == 96)
			st = STYLE_LOG_SOURCE_1;
		else if (v == 35 || v == 95)
			st = STYLE_LOG_SOURCE_2;
		else if (v == 2 || v == 90)
			st = STYLE_DIM;
		else if (v == 1 && st == -1)
			st = STYLE_HEADER;
		v = 0;
		have = 0;
	}
	return st;
}

static void
lv_put(struct lv_pen *p, const char *s, size_t n, enum style_id st)
{
	size_t i = 0;

	if (p->sel && st != STYLE_MATCH)
		st = STYLE_SELECTED;
	while (i < n && !p->full) {
		/* ESC [ params m: kept only with logs.ansi_colors: keep (the
		 * parser neutralised every other sequence) */
		if (s[i] == '\033' && i + 2 < n && s[i + 1] == '[') {
			size_t e = i + 2;

			while (e < n && e < i + 24 && ((s[e] >= '0' && s[e] <= '9') || s[e] == ';' ||
			    s[e] == ':'))
				e++;
			if (e < n && s[e] == 'm') {
				p->sgr = lv_sgr_style(s + i + 2, e - i - 2, p->sgr);
				i = e + 1;
				continue;
			}
		}
		uint32_t cp;
		size_t k = text_decode(s + i, n - i, &cp);
		int cw = text_cp_width(cp);

		if (cp == '\n') {	/* a joined continuation line */
			if (p->wrap) {
				p->x = p->w;	/* next line */
			} else {
				cp = ' ';
			}
		}
		if (p->x + cw > p->w) {
			if (!p->wrap || p->y + 1 >= p->y_end) {
				if (p->cv != NULL && p->w > 0)
					canvas_text(p->cv, p->y, p->w - 1, STYLE_DIM,
					    canvas_glyph(p->cv, CANVAS_GLYPH_ELLIPSIS));
				p->full = 1;
				break;
			}
			p->y++;
			p->lines++;
			p->x = p->x0;
			if (cp == '\n') {
				i += k;
				continue;
			}
		}
		if (p->cv != NULL)
			canvas_textn(p->cv, p->y, p->x, cw, p->sgr >= 0 && !p->sel && st != STYLE_MATCH ?
			    (enum style_id)p->sgr : st, cp == '\n' ? " " : s + i, cp == '\n' ? 1 : k);
		p->x += cw;
		i += k;
	}
}

/* Bytes [A, B) of LINE's text with the filter's matches highlighted. */
static void
lv_put_range(struct lv_pen *p, const struct log_line *l, uint32_t a, uint32_t b,
    enum style_id st, const struct logfilter_span *spans, size_t n_spans)
{
	uint32_t at = a;

	for (size_t i = 0; i < n_spans && at < b; i++) {
		uint32_t s0 = spans[i].off, s1 = spans[i].off + spans[i].len;

		if (s1 <= at || s0 >= b)
			continue;
		if (s0 > at)
			lv_put(p, l->text + at, s0 - at, st);
		if (s0 < at)
			s0 = at;
		if (s1 > b)
			s1 = b;
		lv_put(p, l->text + s0, s1 - s0, STYLE_MATCH);
		at = s1;
	}
	if (at < b)
		lv_put(p, l->text + at, b - at, st);
}

static enum style_id
lv_level_style(unsigned level)
{
	switch (level) {
	case LOG_LEVEL_FATAL:
	case LOG_LEVEL_ERROR: return STYLE_LOG_ERROR;
	case LOG_LEVEL_WARN: return STYLE_LOG_WARN;
	case LOG_LEVEL_NOTICE:
	case LOG_LEVEL_INFO: return STYLE_LOG_INFO;
	case LOG_LEVEL_DEBUG:
	case LOG_LEVEL_TRACE: return STYLE_LOG_DEBUG;
	default: return STYLE_DEFAULT;
	}
}

static enum style_id
lv_source_style(unsigned source)
{
	static const enum style_id tags[] = {
		STYLE_LOG_SOURCE_1, STYLE_LOG_SOURCE_2, STYLE_LOG_SOURCE_3,
		STYLE_LOG_SOURCE_4, STYLE_LOG_SOURCE_5, STYLE_LOG_SOURCE_6,
	};

	return tags[source % (sizeof tags / sizeof tags[0])];
}

/* Keys a logfmt line shows in columns already. */
static int
lv_shown_key(const char *k, size_t n)
{
	static const char *const keys[] = { "time", "ts", "timestamp", "level", "lvl",
	    "severity", "msg", "message" };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return 1;
	return 0;
}

/* The text of L: the message first, then (dimmed) the other fields of a
 * structured line; a plain line as it is. */
static void
lv_put_text(struct lv_pen *p, const struct log_line *l, enum style_id st,
    const struct logfilter_span *spans, size_t n_spans)
{
	uint32_t i, end = l->len;

	if (l->format != LOG_FMT_LOGFMT || l->msg_len == 0) {
		if (l->format == LOG_FMT_JSON && l->msg_len > 0) {
			lv_put_range(p, l, l->msg_off, l->msg_off + l->msg_len, st, spans, n_spans);
			lv_put(p, "  ", 2, STYLE_DIM);
			lv_put_range(p, l, 0, end, STYLE_DIM, spans, n_spans);
			return;
		}
		lv_put_range(p, l, 0, end, st, spans, n_spans);
		return;
	}
	lv_put_range(p, l, l->msg_off, l->msg_off + l->msg_len, st, spans, n_spans);
	/* the other key=value pairs, quoted values kept whole */
	for (i = 0; i < end;) {
		uint32_t k0, eq, v1;
		int q = 0;

		while (i < end && l->text[i] == ' ')
			i++;
		k0 = i;
		while (i < end && l->text[i] != '=' && l->text[i] != ' ')
			i++;
		eq = i;
		if (i < end && l->text[i] == '=') {
			i++;
			if (i < end && l->text[i] == '"') {
				q = 1;
				for (i++; i < end && l->text[i] != '"'; i++)
					if (l->text[i] == '\\')
						i++;
				if (i < end)
					i++;
			}
			while (!q && i < end && l->text[i] != ' ')
				i++;
		}
		v1 = i > end ? end : i;
		if (v1 > k0 && !lv_shown_key(l->text + k0, eq - k0)) {
			lv_put(p, "  ", 2, STYLE_DIM);
			lv_put_range(p, l, k0, v1, STYLE_DIM, spans, n_spans);
		}
	}
}

static int
lv_draw_line(struct logs_view *lv, struct canvas *cv, int y, int y_end, int w,
    const struct log_line *l, int selected)
{
	struct logfilter_span spans[LV_SPANS];
	size_t n_spans = 0;
	const struct logring_source *src = logring_source_get(lv->ring, l->source);
	struct lv_pen p = { cv, y, 0, 0, w, y_end, lv->wrap, selected, -1, 0, 1 };
	enum style_id st = lv_level_style(l->level);
	char ts[32], tag[LV_TAG_W + 1];

	if (lv->filter != NULL) {
		n_spans = logfilter_highlight(lv->filter, l, spans, LV_SPANS);
		if (n_spans > LV_SPANS)
			n_spans = LV_SPANS;
	}
	if (selected && cv != NULL)
		canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
	if (lv->show_ts) {
		time_t t = (time_t)(l->ts_ms / 1000);
		struct tm tm;

		localtime_r(&t, &tm);
		snprintf(ts, sizeof ts, "%02d:%02d:%02d.%03d ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(l->ts_ms % 1000));
		lv_put(&p, ts, strlen(ts), (l->flags & LOG_LINE_NO_TS) ? STYLE_DIM : STYLE_LOG_TIME);
	}
	snprintf(ts, sizeof ts, "%-5.5s ", l->level != LOG_LEVEL_NONE ?
	    logparse_level_name(l->level) : "");
	lv_put(&p, ts, strlen(ts), st);
	snprintf(tag, sizeof tag, "%-*.*s", LV_TAG_W - 1, LV_TAG_W - 1,
	    src != NULL ? src->name : "?");
	lv_put(&p, tag, strlen(tag), lv_source_style(l->source));
	lv_put(&p, " ", 1, STYLE_DEFAULT);
	p.x0 = p.x;	/* wrapped lines go under the text */
	if (l->flags & LOG_LINE_CUT) {
		/* before the text: a cut line is usually too long to see its end */
		snprintf(ts, sizeof ts, "[cut: %u bytes] ", l->orig_len);
		lv_put(&p, ts, strlen(ts), STYLE_MESSAGE_WARN);
	}
	lv_put_text(&p, l, selected ? STYLE_SELECTED : l->level >= LOG_LEVEL_WARN ? st :
	    STYLE_DEFAULT, spans, n_spans);
	return p.lines;
}

/* Lines the row takes (1 without wrap). */
static int
lv_row_height(struct logs_view *lv, size_t row, int w, int h)
{
	struct log_line l;

	if (!lv->wrap)
		return 1;
	if (logring_get_seq(lv->ring, lv_row_seq(lv, row), &l) != 0)
		return 1;
	return lv_draw_line(lv, NULL, 0, h, w, &l, 0);
}

static void
lv_draw_hist(struct logs_view *lv, struct canvas *cv, int y, int w, int64_t now_ms)
{
	double err[LV_HIST], warn[LV_HIST];
	int n = w - 14 < LV_HIST ? w - 14 : LV_HIST;
	int64_t now_min = now_ms / 60000;
	int64_t lag = now_min > lv->hist_min ? now_min - lv->hist_min : 0;
	uint32_t e_total = 0, w_total = 0;

	if (n < 4)
		return;
	/* the strip ends at the current minute: quiet minutes are zeros */
	for (int i = 0; i < n; i++) {
		int64_t src = LV_HIST - 1 - (n - 1 - i) + lag;

		err[i] = src >= 0 && src < LV_HIST ? lv->hist_err[src] : 0;
		warn[i] = src >= 0 && src < LV_HIST ? lv->hist_warn[src] : 0;
		e_total += (uint32_t)err[i];
		w_total += (uint32_t)warn[i];
	}
	canvas_printf(cv, y, 0, 14, STYLE_DIM, "err/min %5u ", e_total);
	canvas_sparkline(cv, y, 14, n, e_total > 0 ? STYLE_LOG_ERROR : STYLE_DIM, err,
	    (size_t)n, 0);
	(void)warn;
	(void)w_total;
}

static void
lv_title(struct view *v, struct canvas *cv, int w)
{
	struct logs_view *lv = v->priv;
	struct logring_stats rs;
	int x = 1;

	x += canvas_text(cv, 0, x, STYLE_TITLE, "Logs");
	if (lv->ring == NULL) {
		canvas_text(cv, 0, x + 1, STYLE_DIM, "no log ring");
		return;
	}
	logring_stats_get(lv->ring, &rs);
	x += canvas_printf(cv, 0, x, w - x, STYLE_DIM, "  %llu lines", (unsigned long long)rs.lines);
	if (rs.dropped > 0)
		x += canvas_printf(cv, 0, x, w - x, STYLE_DIM, ", %llu dropped (logs.max_memory)",
		    (unsigned long long)rs.dropped);
	if (lv->filter_err[0] != '\0')
		x += canvas_printf(cv, 0, x, w - x, STYLE_MESSAGE_ERROR, "  %s", lv->filter_err);
	else if (lv->filter != NULL)
		x += canvas_printf(cv, 0, x, w - x, STYLE_MATCH, "  /%s: %zu%s%s", lv->filter_text,
		    lv->n_match - lv->match_head, lv->scanning ? " so far, searching " : "",
		    lv->context ? " (context)" : "");
	if (lv->scanning && rs.lines > 0)
		x += canvas_printf(cv, 0, x, w - x, STYLE_MATCH, "%d%%",
		    lv->cur.scanned >= rs.lines ? 99 : (int)(lv->cur.scanned * 100 / rs.lines));
	if (!lv->follow) {
		uint64_t fresh = logring_end_seq(lv->ring) - lv->paused_end;

		x += canvas_printf(cv, 0, x, w - x, STYLE_MESSAGE_WARN, "  paused%s",
		    fresh > 0 ? "" : " (F follows)");
		if (fresh > 0)
			x += canvas_printf(cv, 0, x, w - x, STYLE_MESSAGE_WARN,
			    ": %llu new lines (F follows)", (unsigned long long)fresh);
	}
	if (lv->have_src && lv->src.state != STORE_STATE_OK && lv->src.error[0] != '\0')
		canvas_printf(cv, 0, x, w - x, lv->src.state == STORE_STATE_ERROR ?
		    STYLE_STATE_ERROR : STYLE_STATE_STALE, "  %s", lv->src.error);
	else if (lv->note[0] != '\0')
		canvas_printf(cv, 0, x, w - x, STYLE_MESSAGE, "  %s", lv->note);
}

static void
lv_draw(struct view *v, struct canvas *cv)
{
	struct logs_view *lv = v->priv;
	int w = canvas_width(cv), h = canvas_height(cv), y0 = 2, y;
	size_t n, row, sel;

	canvas_clear(cv, STYLE_DEFAULT);
	lv_title(v, cv, w);
	if (lv->ring == NULL)
		return;
	lv_draw_hist(lv, cv, 1, w, v->now_ms);
	view_wake_at(v, (v->now_ms / 60000 + 1) * 60000);	/* the strip moves on */
	n = lv_rows(lv);
	lv->page = h - y0 > 1 ? h - y0 : 1;
	if (n == 0) {
		canvas_text(cv, y0, 1, STYLE_DIM, lv->filter != NULL ? (lv->scanning ?
		    "searching…" : "no line matches the filter (Esc clears it)") :
		    "no log lines yet: sources are set in the configuration (logs:) and "
		    "come from the provider");
		return;
	}
	if (lv->follow)
		lv->sel_seq = lv_row_seq(lv, n - 1);
	sel = lv_seq_row(lv, lv->sel_seq);
	if (sel >= n)
		sel = n - 1;
	lv->sel_seq = lv_row_seq(lv, sel);
	/* scroll so the selection shows (the bottom for follow) */
	if (lv->top > sel)
		lv->top = sel;
	{
		int used = 0;
		size_t t = sel + 1;

		while (t > 0 && used + lv_row_height(lv, t - 1, w, h - y0) <= h - y0) {
			used += lv_row_height(lv, t - 1, w, h - y0);
			t--;
		}
		if (lv->follow || lv->top < t)
			lv->top = t;
	}
	for (row = lv->top, y = y0; row < n && y < h; row++) {
		struct log_line l;

		if (logring_get_seq(lv->ring, lv_row_seq(lv, row), &l) != 0)
			continue;
		y += lv_draw_line(lv, cv, y, h, w, &l, row == sel && !lv->follow);
	}
}

/* The selected line in full, and as indented JSON with J. */
static void
lv_draw_detail(struct view *v, struct canvas *cv)
{
	struct logs_view *lv = v->priv;
	int w = canvas_width(cv), h = canvas_height(cv), y = 2;
	struct log_line l;
	char head[160];

	canvas_clear(cv, STYLE_DEFAULT);
	if (lv->ring == NULL || lv_rows(lv) == 0 ||
	    logring_get_seq(lv->ring, lv->sel_seq, &l) != 0) {
		canvas_text(cv, 0, 1, STYLE_DIM, "no line selected");
		return;
	}
	{
		const struct logring_source *src = logring_source_get(lv->ring, l.source);
		char when[40];

		util_format_rfc3339(when, sizeof when, l.ts_ms);
		snprintf(head, sizeof head, "%s  %s  %s  #%llu", when, logparse_level_name(l.level),
		    src != NULL ? src->name : "?", (unsigned long long)l.seq);
	}
	canvas_textn(cv, 0, 1, w - 2, STYLE_TITLE, head, strlen(head));
	if (lv->pretty && l.format == LOG_FMT_JSON) {
		cJSON *j = cJSON_ParseWithLength(l.text, l.len);
		char *s = j != NULL ? cJSON_Print(j) : NULL;

		if (s != NULL) {
			char *line = s, *nl;

			for (; line != NULL && y < h; line = nl != NULL ? nl + 1 : NULL, y++) {
				nl = strchr(line, '\n');
				canvas_textn(cv, y, 1, w - 2, STYLE_DEFAULT, line,
				    nl != NULL ? (size_t)(nl - line) : strlen(line));
			}
		}
		free(s);
		cJSON_Delete(j);
		if (s != NULL)
			return;
	}
	{
		struct lv_pen p = { cv, y, 1, 1, w - 1, h, 1, 0, -1, 0, 1 };

		lv_put(&p, l.text, l.len, STYLE_DEFAULT);
	}
	if (lv->pretty && l.format != LOG_FMT_JSON)
		canvas_text(cv, 1, 1, STYLE_DIM, "(not a JSON line)");
}

/* --- keys ------------------------------------------------------------------ */

static void
lv_pause(struct logs_view *lv)
{
	if (lv->follow) {
		lv->follow = 0;
		lv->paused_end = logring_end_seq(lv->ring);
	}
}

/* Move to the next (DIR 1) or previous line shown whose level is LEVEL or
 * worse (exactly LEVEL when EXACT). */
static void
lv_jump_level(struct logs_view *lv, int dir, unsigned level, int exact)
{
	size_t n = lv_rows(lv), row = lv_seq_row(lv, lv->sel_seq), examined = 0;

	if (n == 0)
		return;
	lv_pause(lv);
	for (;;) {
		struct log_line l;

		if ((dir > 0 && row + 1 >= n) || (dir < 0 && row == 0)) {
			snprintf(lv->note, sizeof lv->note, "no %s %s", dir > 0 ? "later" :
			    "earlier", level >= LOG_LEVEL_ERROR ? "error" : "warning");
			return;
		}
		row = dir > 0 ? row + 1 : row - 1;
		if (++examined > LV_FIND_BUDGET) {
			lv->sel_seq = lv_row_seq(lv, row);
			snprintf(lv->note, sizeof lv->note, "searched %d lines: press again to go on",
			    LV_FIND_BUDGET);
			return;
		}
		if (logring_get_seq(lv->ring, lv_row_seq(lv, row), &l) == 0 &&
		    (exact ? l.level == level : l.level >= level)) {
			lv->sel_seq = l.seq;
			return;
		}
	}
}

/* n / N with a filter: the next match (in context mode, skipping the lines
 * around matches). */
static void
lv_jump_match(struct logs_view *lv, int dir)
{
	size_t i, lo = lv->match_head, hi = lv->n_match;

	if (lv->filter == NULL || lo == hi) {
		util_strlcpy(lv->note, "no filter: / sets one", sizeof lv->note);
		return;
	}
	lv_pause(lv);
	/* first match > sel (dir 1) or last match < sel (dir -1) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lv->match[mid] <= lv->sel_seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;	/* first match > sel */
	if (dir > 0) {
		if (i < lv->n_match)
			lv->sel_seq = lv->match[i];
		else
			util_strlcpy(lv->note, "no later match", sizeof lv->note);
		return;
	}
	while (i > lv->match_head && lv->match[i - 1] >= lv->sel_seq)
		i--;
	if (i > lv->match_head)
		lv->sel_seq = lv->match[i - 1];
	else
		util_strlcpy(lv->note, "no earlier match", sizeof lv->note);
}

/* :goto 10:42[:05] (today, local time) or an ISO-8601 time. */
static void
lv_goto(struct view *v, const char *arg)
{
	struct logs_view *lv = v->priv;
	int64_t ms = 0;
	int hh, mm, ss = 0;
	size_t row;

	if (arg == NULL || *arg == '\0') {
		util_strlcpy(lv->note, ":goto HH:MM[:SS] or an ISO-8601 time", sizeof lv->note);
		return;
	}
	if (sscanf(arg, "%d:%d:%d", &hh, &mm, &ss) >= 2 && strlen(arg) <= 8 && hh >= 0 &&
	    hh < 24 && mm >= 0 && mm < 60 && ss >= 0 && ss < 61) {
		time_t now = (time_t)(v->now_ms / 1000);
		struct tm tm;

		localtime_r(&now, &tm);
		tm.tm_hour = hh;
		tm.tm_min = mm;
		tm.tm_sec = ss;
		tm.tm_isdst = -1;
		ms = (int64_t)mktime(&tm) * 1000;
	} else if (logparse_iso8601(arg, strlen(arg), 0, &ms) == 0) {
		snprintf(lv->note, sizeof lv->note, "cannot read the time '%.40s' (HH:MM[:SS])", arg);
		return;
	}
	lv_pause(lv);
	row = lv_seq_row(lv, logring_find_ts(lv->ring, ms));
	if (row >= lv_rows(lv)) {
		util_strlcpy(lv->note, "no line that late: at the end", sizeof lv->note);
		row = lv_rows(lv) > 0 ? lv_rows(lv) - 1 : 0;
	}
	if (lv_rows(lv) > 0)
		lv->sel_seq = lv_row_seq(lv, row);
	lv->top = row;
}

/* :save FILE: the lines shown (the filtered view) as text. */
static void
lv_save(struct view *v, const char *path)
{
	struct logs_view *lv = v->priv;
	size_t n = lv_rows(lv), done = 0;
	char msg[300];
	FILE *out;

	if (path == NULL || *path == '\0') {
		if (v->host != NULL && v->host->console != NULL)
			console_prompt(v->host->console, ":save signalbox-logs.txt");
		return;
	}
	if ((out = fopen(path, "wx")) == NULL) {
		snprintf(msg, sizeof msg, "cannot write %s: %s (an existing file is never "
		    "overwritten)", path, strerror(errno));
		if (v->host != NULL && v->host->message != NULL)
			v->host->message(v->host->ud, 1, msg);
		return;
	}
	for (size_t row = 0; row < n; row++) {
		struct log_line l;
		char when[40];

		if (logring_get_seq(lv->ring, lv_row_seq(lv, row), &l) != 0)
			continue;
		util_format_rfc3339(when, sizeof when, l.ts_ms);
		fprintf(out, "%s %s %.*s\n", when, logparse_level_name(l.level), (int)l.len, l.text);
		done++;
	}
	if (fclose(out) != 0)
		snprintf(msg, sizeof msg, "writing %s failed: %s", path, strerror(errno));
	else
		snprintf(msg, sizeof msg, "saved %zu lines to %s", done, path);
	if (v->host != NULL && v->host->message != NULL)
		v->host->message(v->host->ud, 0, msg);
}

static int
lv_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct logs_view *lv = v->priv;
	size_t n = lv->ring != NULL ? lv_rows(lv) : 0, sel;

	lv->note[0] = '\0';
	if (lv->ring == NULL)
		return 0;
	sel = n > 0 ? lv_seq_row(lv, lv->sel_seq) : 0;
	if (sel >= n && n > 0)
		sel = n - 1;
	switch (a) {
	case ACTION_MOVE_UP:
	case ACTION_PAGE_UP:
	case ACTION_MOVE_TOP:
		if (n == 0)
			return 1;
		lv_pause(lv);
		if (a == ACTION_MOVE_TOP)
			sel = 0;
		else
			sel = sel > (a == ACTION_MOVE_UP ? 1 : (size_t)lv->page) ?
			    sel - (a == ACTION_MOVE_UP ? 1 : (size_t)lv->page) : 0;
		lv->sel_seq = lv_row_seq(lv, sel);
		break;
	case ACTION_MOVE_DOWN:
	case ACTION_PAGE_DOWN:
		if (n == 0 || lv->follow)
			return 1;
		sel += a == ACTION_MOVE_DOWN ? 1 : (size_t)lv->page;
		if (sel >= n)
			sel = n - 1;
		lv->sel_seq = lv_row_seq(lv, sel);
		break;
	case ACTION_MOVE_BOTTOM:
	case ACTION_LOG_FOLLOW:
		lv->follow = 1;
		break;
	case ACTION_LOG_NEXT_MATCH:
	case ACTION_LOG_PREV_MATCH:
		lv_jump_match(lv, a == ACTION_LOG_NEXT_MATCH ? 1 : -1);
		break;
	case ACTION_LOG_NEXT_ERROR:
	case ACTION_LOG_PREV_ERROR:
		lv_jump_level(lv, a == ACTION_LOG_NEXT_ERROR ? 1 : -1, LOG_LEVEL_ERROR, 0);
		break;
	case ACTION_LOG_NEXT_WARNING:
	case ACTION_LOG_PREV_WARNING:
		lv_jump_level(lv, a == ACTION_LOG_NEXT_WARNING ? 1 : -1, LOG_LEVEL_WARN, 1);
		break;
	case ACTION_LOG_TIMESTAMPS:
		lv->show_ts = !lv->show_ts;
		break;
	case ACTION_LOG_WRAP:
		lv->wrap = !lv->wrap;
		break;
	case ACTION_LOG_JSON:
		lv->pretty = !lv->pretty;
		v->detail_open = lv->pretty;
		break;
	case ACTION_LOG_CONTEXT:
		if (lv->filter == NULL) {
			util_strlcpy(lv->note, "context shows lines around the matches of a "
			    "filter: / sets one", sizeof lv->note);
			break;
		}
		if (!lv->context && lv->n_match - lv->match_head > LV_CONTEXT_MAX_MATCHES) {
			util_strlcpy(lv->note, "too many matches for context: narrow the filter",
			    sizeof lv->note);
			break;
		}
		lv->context = !lv->context;
		lv->ctx_built_for = (size_t)-1;
		if (lv->context)
			lv_build_context(lv);
		break;
	case ACTION_LOG_GOTO:
		lv_goto(v, ev != NULL ? ev->arg : NULL);
		break;
	case ACTION_LOG_SAVE:
		lv_save(v, ev != NULL ? ev->arg : NULL);
		break;
	case ACTION_OPEN:
		v->detail_open = 1;
		break;
	case ACTION_BACK:
		if (v->detail_open) {
			v->detail_open = 0;
			lv->pretty = 0;
			break;
		}
		return 0;	/* the console clears the filter */
	default:
		return 0;
	}
	v->dirty = 1;
	return 1;
}

static void
lv_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct logs_view *lv = v->priv;
	uint32_t e = lv->hist_err[LV_HIST - 1];

	*is_bad = e > 0 && lv->hist_min == v->now_ms / 60000;
	if (*is_bad)
		snprintf(buf, len, "%u err/min", e);
	else
		buf[0] = '\0';
}

static void
lv_free(struct view *v)
{
	struct logs_view *lv = v->priv;

	logfilter_free(&lv->filter);
	free(lv->match);
	free(lv->ctx);
}

/* Shown when there is something to follow: a provider (its logs come on
 * their own) or sources in logs:. */
int
view_logs_enabled(const struct config *cfg)
{
	return cfg == NULL || cfg->provider.type != CONFIG_PROVIDER_NONE ||
	    cfg->n_log_sources > 0;
}

const struct view_ops logs_view_ops = {
	.name = "logs",
	.title = "Logs",
	.priv_size = sizeof(struct logs_view),
	.enabled = view_logs_enabled,
	.init = lv_init,
	.update = lv_update,
	.draw = lv_draw,
	.draw_detail = lv_draw_detail,
	.key = lv_key,
	.badge = lv_badge,
	.free = lv_free,
};
