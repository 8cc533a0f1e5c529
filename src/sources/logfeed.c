/* logfeed.c - every log source of the console, into the store's ring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/diag.h"
#include "signalbox/logfeed.h"
#include "signalbox/logparse.h"
#include "signalbox/logring.h"
#include "signalbox/logsrc.h"
#include "signalbox/loop.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	LF_BACKLOG = 500,	/* Railway lines asked for at start */
	LF_TEXT_MAX = 64 * 1024,	/* bytes of a Railway line built for the parser */
	LF_MAX_PRODUCERS = 256,
};

/* One ring source: its parser (multi-line joining is per source; Railway
 * sends whole entries, so its lines are never joined: they keep the API's
 * order). */
struct lf_source {
	char *key;		/* service id, or "file:N" */
	uint16_t index;		/* in the ring */
	struct logparse *parser;
	struct logsrc *src;	/* files and commands; NULL for Railway services */
	enum store_state state;
	char words[160];
};

struct logfeed {
	uv_loop_t *loop;
	struct store *store;
	struct logring *ring;
	struct logparse_opts popts;
	struct lf_source *sources;
	size_t n_sources;
	struct loop_timer *flush;	/* store_logs_appended, once per batch */
	struct loop_timer *tick;	/* held multi-line entries */
	int appended;

	struct railway *rw;
	struct railway_logs *stream;
	int stream_live;
	int stream_was_live;		/* it has been live once: a drop is STALE, not CONNECTING */
	int stream_ended;		/* ended for good: ERROR */
	char stream_words[256];
	char *text;			/* LF_TEXT_MAX: a Railway line as logfmt */

	enum store_state state;
	char state_words[200];
	int state_set;
};

static void lf_update_state(struct logfeed *f);

static void
lf_emit(const struct log_line *line, void *ud)
{
	struct logfeed *f = ud;

	logring_append(f->ring, line);
	if (!f->appended) {
		f->appended = 1;
		loop_timer_start(f->flush, 0, 0);
	}
}

static void
lf_flush_cb(struct loop_timer *t, void *ud)
{
	struct logfeed *f = ud;
	int64_t next = -1, d;

	(void)t;
	f->appended = 0;
	store_logs_appended(f->store);
	/* an entry held for its continuation lines goes out at its deadline */
	for (size_t i = 0; i < f->n_sources; i++)
		if ((d = logparse_deadline(f->sources[i].parser)) >= 0 && (next < 0 || d < next))
			next = d;
	if (next >= 0) {
		int64_t now = util_wall_ms();

		loop_timer_start(f->tick, next > now ? (uint64_t)(next - now) : 0, 0);
	}
}

static void
lf_tick_cb(struct loop_timer *t, void *ud)
{
	struct logfeed *f = ud;
	int64_t now = util_wall_ms();

	(void)t;
	for (size_t i = 0; i < f->n_sources; i++)
		logparse_tick(f->sources[i].parser, now);
	if (!f->appended)
		lf_flush_cb(f->flush, f);	/* re-arms the tick if needed */
}

static struct lf_source *
lf_source(struct logfeed *f, const char *key, const char *name, int tz_offset_min, int join)
{
	struct lf_source *s;
	struct logparse_opts po = f->popts;

	for (size_t i = 0; i < f->n_sources; i++)
		if (strcmp(f->sources[i].key, key) == 0)
			return &f->sources[i];
	if (f->n_sources == LF_MAX_PRODUCERS)
		return NULL;
	f->sources = xreallocarray(f->sources, f->n_sources + 1, sizeof *f->sources);
	s = &f->sources[f->n_sources++];
	memset(s, 0, sizeof *s);
	s->key = xstrdup(key);
	s->index = logring_source_add(f->ring, name);
	po.source = s->index;
	po.tz_offset_min = tz_offset_min;
	po.join = join;
	s->parser = logparse_new(&po, lf_emit, f);
	s->state = STORE_STATE_CONNECTING;
	return s;
}

/* --- Railway ------------------------------------------------------------------ */

/* Append S as a logfmt value: bare when it is a plain word, else quoted
 * with " and \ escaped (control bytes stay: the parser makes them
 * visible). */
static size_t
lf_put_value(char *buf, size_t at, size_t cap, const char *s)
{
	int bare = s[0] != '\0';

	for (const char *p = s; *p != '\0' && bare; p++)
		bare = (unsigned char)*p > ' ' && *p != '"' && *p != '=' && *p != '\\';
	if (bare) {
		size_t n = strlen(s);

		if (at + n < cap) {
			memcpy(buf + at, s, n);
			at += n;
		}
		return at;
	}
	if (at + 1 < cap)
		buf[at++] = '"';
	for (const char *p = s; *p != '\0' && at + 3 < cap; p++) {
		if (*p == '"' || *p == '\\')
			buf[at++] = '\\';
		if (*p == '\n') {
			buf[at++] = '\\';
			buf[at++] = 'n';
			continue;
		}
		buf[at++] = *p;
	}
	if (at + 1 < cap)
		buf[at++] = '"';
	return at;
}

static size_t
lf_put_pair(char *buf, size_t at, size_t cap, const char *key, const char *value)
{
	size_t n = strlen(key);

	if (at > 0 && at + 1 < cap)
		buf[at++] = ' ';
	if (at + n + 1 >= cap)
		return at;
	memcpy(buf + at, key, n);
	at += n;
	buf[at++] = '=';
	return lf_put_value(buf, at, cap, value);
}

void
logfeed_railway_line(struct logfeed *f, const struct railway_log *l)
{
	struct lf_source *s;
	char key[160], *buf = f->text;
	size_t at = 0;

	snprintf(key, sizeof key, "railway:%s", l->service_id);
	s = lf_source(f, key, l->service_name[0] != '\0' ? l->service_name :
	    l->service_id[0] != '\0' ? l->service_id : "railway", 0, 0);
	if (s == NULL)
		return;
	s->state = STORE_STATE_OK;
	at = lf_put_pair(buf, at, LF_TEXT_MAX, "time", l->timestamp);
	if (l->severity[0] != '\0')
		at = lf_put_pair(buf, at, LF_TEXT_MAX, "level", l->severity);
	at = lf_put_pair(buf, at, LF_TEXT_MAX, "msg", l->message);
	for (size_t i = 0; i < l->n_attrs; i++) {
		const char *k = l->attrs[i].key, *v = l->attrs[i].value;
		char *plain = NULL;

		/* what the line says already */
		if (strcmp(k, "level") == 0 || strcmp(k, "time") == 0 || strcmp(k, "msg") == 0 ||
		    strcmp(k, "message") == 0 || k[0] == '\0')
			continue;
		/* values come as JSON text: a string loses its quotes */
		if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"' &&
		    strchr(v + 1, '\\') == NULL)
			v = plain = xstrndup(v + 1, strlen(v) - 2);
		at = lf_put_pair(buf, at, LF_TEXT_MAX, k, v);
		free(plain);
	}
	logparse_line(s->parser, buf, at, at, l->ts_ms > 0 ? l->ts_ms : util_wall_ms());
}

static void
lf_rw_line(const struct railway_log *l, void *ud)
{
	logfeed_railway_line(ud, l);
}

static void
lf_rw_state(int live, const char *reason, void *ud)
{
	struct logfeed *f = ud;

	f->stream_live = live;
	f->stream_was_live |= live;
	if (live)
		f->stream_words[0] = '\0';
	else
		/* the state first: a narrow title cuts the reason's end */
		snprintf(f->stream_words, sizeof f->stream_words, "Railway logs reconnecting: "
		    "%.200s", reason != NULL ? reason : "connection lost");
	lf_update_state(f);
}

static void
lf_rw_end(const char *error, void *ud)
{
	struct logfeed *f = ud;

	f->stream_live = 0;
	f->stream_ended = 1;
	snprintf(f->stream_words, sizeof f->stream_words, "Railway logs ended: %.200s",
	    error != NULL ? error : "the server closed the stream");
	diag_log(DIAG_WARN, "logs: %s", f->stream_words);
	lf_update_state(f);
}

void
logfeed_attach_railway(struct logfeed *f, struct railway *rw)
{
	static const struct railway_logs_cbs cbs = {
		.on_line = lf_rw_line, .on_state = lf_rw_state, .on_end = lf_rw_end,
	};
	struct railway_logs_opts o;
	struct err e;

	logfeed_detach_railway(f);
	if (rw == NULL)
		return;
	memset(&o, 0, sizeof o);
	o.backlog = LF_BACKLOG;
	o.follow = 1;
	memset(&e, 0, sizeof e);
	f->rw = rw;
	f->stream_live = 0;
	f->stream_was_live = 0;
	f->stream_ended = 0;
	util_strlcpy(f->stream_words, "Railway logs: connecting", sizeof f->stream_words);
	if ((f->stream = railway_logs_open(rw, f->loop, &o, &cbs, f, &e)) == NULL) {
		snprintf(f->stream_words, sizeof f->stream_words, "Railway logs: %.200s", e.msg);
		diag_log(DIAG_WARN, "logs: %s", f->stream_words);
	}
	lf_update_state(f);
}

void
logfeed_detach_railway(struct logfeed *f)
{
	railway_logs_close(&f->stream);
	f->rw = NULL;
	f->stream_words[0] = '\0';
}

/* --- files and commands ------------------------------------------------------------------- */

static struct lf_source *
lf_by_index(struct logfeed *f, uint16_t index)
{
	for (size_t i = 0; i < f->n_sources; i++)
		if (f->sources[i].index == index)
			return &f->sources[i];
	return NULL;
}

static void
lf_src_line(struct logsrc *src, const struct logsrc_line *line, void *ud)
{
	struct logfeed *f = ud;
	struct lf_source *s = lf_by_index(f, line->source);
	int64_t d;

	(void)src;
	if (s == NULL)
		return;
	logparse_line(s->parser, line->data, line->len, line->orig_len, line->arrival_ms);
	/* an entry held for its continuation lines goes out at its deadline,
	 * whether or not another line comes */
	if ((d = logparse_deadline(s->parser)) >= 0 && !loop_timer_active(f->tick)) {
		int64_t now = util_wall_ms();

		loop_timer_start(f->tick, d > now ? (uint64_t)(d - now) : 0, 0);
	}
}

static void
lf_src_event(struct logsrc *src, const struct logsrc_event *ev, void *ud)
{
	struct logfeed *f = ud;
	struct lf_source *s = lf_by_index(f, ev->source);

	(void)src;
	if (s == NULL)
		return;
	s->state = ev->state;
	util_strlcpy(s->words, ev->text != NULL ? ev->text : "", sizeof s->words);
	if (ev->kind != LOGSRC_EV_STATE)
		diag_log(DIAG_INFO, "logs: %s", s->words);
	lf_update_state(f);
}

static void
lf_start_sources(struct logfeed *f, const struct logfeed_opts *fo)
{
	static const struct logsrc_cbs cbs = { .on_line = lf_src_line, .on_event = lf_src_event };

	for (size_t i = 0; i < fo->n_sources; i++) {
		const struct logfeed_source *cs = &fo->sources[i];
		struct logsrc_opts o;
		struct lf_source *s;
		struct err e;
		char key[32];

		snprintf(key, sizeof key, "config:%zu", i);
		if ((s = lf_source(f, key, cs->name, cs->tz_offset_min, 1)) == NULL)
			break;
		memset(&o, 0, sizeof o);
		o.kind = cs->argv != NULL ? LOGSRC_COMMAND : LOGSRC_FILE;
		o.name = cs->name;
		o.index = s->index;
		o.max_line = f->popts.max_line;
		o.path = cs->path;
		o.argv = cs->argv;
		o.restart = cs->restart;
		o.start = cs->backlog > 0 ? LOGSRC_START_LINES : LOGSRC_START_END;
		o.start_n = cs->backlog;
		memset(&e, 0, sizeof e);
		if ((s->src = logsrc_start(f->loop, &o, &cbs, f, &e)) == NULL) {
			s->state = STORE_STATE_ERROR;
			util_strlcpy(s->words, e.msg, sizeof s->words);
			diag_log(DIAG_WARN, "logs: %s: %s", cs->name, e.msg);
		}
	}
}

/* --- state ----------------------------------------------------------------------------------- */

static void
lf_update_state(struct logfeed *f)
{
	enum store_state st = STORE_STATE_OK;
	const char *words = "";

	if (f->rw != NULL && !f->stream_live && f->stream_words[0] != '\0') {
		st = f->stream == NULL || f->stream_ended ? STORE_STATE_ERROR :
		    f->stream_was_live ? STORE_STATE_STALE : STORE_STATE_CONNECTING;
		words = f->stream_words;
	}
	for (size_t i = 0; i < f->n_sources && st == STORE_STATE_OK; i++) {
		const struct lf_source *s = &f->sources[i];

		if (s->src == NULL && s->state != STORE_STATE_ERROR)
			continue;	/* a Railway service: the stream's state */
		if (s->state == STORE_STATE_ERROR || s->state == STORE_STATE_STALE ||
		    s->state == STORE_STATE_CONNECTING) {
			st = s->state == STORE_STATE_CONNECTING ? STORE_STATE_STALE : s->state;
			words = s->words;
		}
	}
	if (f->state_set && st == f->state && strcmp(words, f->state_words) == 0)
		return;
	f->state = st;
	f->state_set = 1;
	util_strlcpy(f->state_words, words, sizeof f->state_words);
	store_source_set(f->store, LOGFEED_SOURCE, st, words[0] != '\0' ? words : NULL);
}

/* --- lifecycle ---------------------------------------------------------------------------------- */

struct logfeed *
logfeed_new(uv_loop_t *loop, struct store *store, const struct logfeed_opts *o)
{
	static const struct logfeed_opts defaults;
	const struct logfeed_opts *fo = o != NULL ? o : &defaults;
	struct logfeed *f = xcalloc(1, sizeof *f);

	f->loop = loop;
	f->store = store;
	f->ring = logring_new(fo->max_memory);
	store_logs_set(store, f->ring);
	f->popts.max_line = fo->max_line;
	f->popts.keep_sgr = fo->keep_sgr;
	f->popts.join = 1;
	f->text = xmalloc(LF_TEXT_MAX);
	f->flush = loop_timer_new(loop, lf_flush_cb, f);
	f->tick = loop_timer_new(loop, lf_tick_cb, f);
	lf_start_sources(f, fo);
	lf_update_state(f);
	return f;
}

void
logfeed_free(struct logfeed **fp)
{
	struct logfeed *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	*fp = NULL;
	logfeed_detach_railway(f);
	for (size_t i = 0; i < f->n_sources; i++) {
		logsrc_free(&f->sources[i].src);
		logparse_free(&f->sources[i].parser);
		free(f->sources[i].key);
	}
	free(f->sources);
	loop_timer_free(&f->flush);
	loop_timer_free(&f->tick);
	free(f->text);
	free(f);
}
