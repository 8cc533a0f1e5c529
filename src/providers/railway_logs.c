/* railway_logs.c - Railway logs: a live subscription or a one-off query.
 *
 * Following uses the `environmentLogs` subscription (graphql-transport-ws
 * through gqlws.c): the first message holds the backlog, then new lines
 * come in batches.  After every batch the subscription's variables are set
 * to resume after the last line seen (anchorDate + afterLimit), so a
 * reconnect asks for exactly what was missed instead of the same backlog
 * again.  Whatever the server repeats anyway (the line at the anchor, a
 * backlog after a resubscription by the client) is dropped by the
 * deduplication: a set of the last RL_MEMORY lines keyed by timestamp,
 * message and replica.  A line older than everything remembered that
 * arrives after a resubscription is taken as seen (it cannot be told apart).
 *
 * One query (`environmentLogs` with beforeLimit) serves the non-following
 * case.  Service filtering is done here on the tags, so it works whatever
 * filter syntax the API accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "signalbox/diag.h"
#include "signalbox/gqlws.h"
#include "signalbox/loop.h"
#include "signalbox/railway.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#include "railway_int.h"

enum {
	RL_MEMORY = 8192,		/* lines remembered for deduplication */
	RL_SLOTS = RL_MEMORY * 2,	/* hash table slots (power of two) */
	RL_DEFAULT_BACKLOG = 100,
	RL_MAX_BACKLOG = 5000,
	RL_RESUME_LIMIT = 5000,		/* lines asked for after a reconnect */
	RL_WAIT_MS = 250,		/* polling for the environment to be resolved, */
	RL_WAIT_MAX_MS = 5000,		/*   doubling up to this (a bad token never resolves) */
	RL_MAX_ATTRS = 64,
};

struct rl_key {
	int64_t ts_ms;
	uint64_t hash;		/* 0 = empty slot */
};

struct railway_logs {
	struct railway *rw;
	uv_loop_t *loop;
	char *service_id;	/* NULL = every service */
	char *filter;		/* NULL = none */
	char *deployment_id;	/* one deployment's lines (a query), NULL = the environment */
	char *since;		/* RFC 3339 start, NULL = the backlog */
	int backlog;
	int follow;
	struct railway_logs_cbs cbs;
	void *ud;

	struct loop_timer *wait;	/* until the environment is known */
	uint64_t wait_ms;
	struct gqlws_sub *sub;
	int reading;			/* a query is in the action queue */
	int busy;			/* inside a callback of ours */
	int closed;			/* railway_logs_close came while reading or busy */
	int ended;
	char *last_ts;			/* timestamp of the newest line seen */
	int live;
	int listening;			/* told of the connection's state */

	/* deduplication: FIFO of keys + open-addressing set of their hashes */
	struct rl_key fifo[RL_MEMORY];
	size_t fifo_head, fifo_len;
	uint64_t slots[RL_SLOTS];
	struct railway_logs_stats stats;
};

static uint64_t
rl_hash(const char *ts, const char *msg, const char *replica)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *parts[3] = { ts, msg, replica };

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0'; p++) {
			h ^= *p;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;	/* separator */
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

static size_t
rl_slot_find(const struct railway_logs *l, uint64_t h)
{
	size_t i = (size_t)h & (RL_SLOTS - 1);

	while (l->slots[i] != 0 && l->slots[i] != h)
		i = (i + 1) & (RL_SLOTS - 1);
	return i;
}

/* Remove H from the set (backward-shift deletion keeps probing correct). */
static void
rl_slot_remove(struct railway_logs *l, uint64_t h)
{
	size_t i = rl_slot_find(l, h), j, k;

	if (l->slots[i] == 0)
		return;
	l->slots[i] = 0;
	for (j = (i + 1) & (RL_SLOTS - 1); l->slots[j] != 0; j = (j + 1) & (RL_SLOTS - 1)) {
		k = (size_t)l->slots[j] & (RL_SLOTS - 1);
		/* move j to the hole i when its home k is not in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			l->slots[i] = l->slots[j];
			l->slots[j] = 0;
			i = j;
		}
	}
}

/* Whether the line keyed (TS_MS, H) is new; remembers it if so. */
static int
rl_remember(struct railway_logs *l, int64_t ts_ms, uint64_t h, int resumed)
{
	size_t i = rl_slot_find(l, h);

	if (l->slots[i] == h) {
		l->stats.duplicates++;
		return 0;
	}
	if (resumed && l->fifo_len == RL_MEMORY &&
	    ts_ms < l->fifo[l->fifo_head].ts_ms) {
		/* older than anything remembered, sent again after a reconnect */
		l->stats.dropped_old++;
		return 0;
	}
	if (l->fifo_len == RL_MEMORY) {
		rl_slot_remove(l, l->fifo[l->fifo_head].hash);
		l->fifo_head = (l->fifo_head + 1) % RL_MEMORY;
		l->fifo_len--;
	}
	l->fifo[(l->fifo_head + l->fifo_len) % RL_MEMORY] = (struct rl_key){ ts_ms, h };
	l->fifo_len++;
	l->slots[rl_slot_find(l, h)] = h;
	return 1;
}

static const char *
rl_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Deliver the lines of ARR (an array of Log); RESUMED: this came after a
 * resubscription.  Returns the number delivered. */
static size_t
rl_deliver(struct railway_logs *l, const cJSON *arr, int resumed)
{
	struct railway_log_attr attrs[RL_MAX_ATTRS];
	const cJSON *item;
	size_t n = 0;

	cJSON_ArrayForEach(item, arr) {
		const cJSON *tags = cJSON_GetObjectItemCaseSensitive(item, "tags"), *a;
		struct railway_log line;
		const char *name;

		if (!cJSON_IsObject(item) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item,
		    "timestamp"))) {
			l->stats.malformed++;
			continue;
		}
		memset(&line, 0, sizeof line);
		line.timestamp = rl_str(item, "timestamp");
		line.ts_ms = railway_int_parse_time(line.timestamp);
		line.severity = rl_str(item, "severity");
		line.message = rl_str(item, "message");
		line.service_id = rl_str(tags, "serviceId");
		line.deployment_id = rl_str(tags, "deploymentId");
		line.replica_id = rl_str(tags, "deploymentInstanceId");
		if (l->service_id != NULL && strcmp(l->service_id, line.service_id) != 0)
			continue;
		if (!rl_remember(l, line.ts_ms, rl_hash(line.timestamp, line.message,
		    line.replica_id), resumed))
			continue;
		name = railway_int_service_name(l->rw, line.service_id);
		line.service_name = name != NULL ? name : "";
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(item, "attributes")) {
			if (line.n_attrs == RL_MAX_ATTRS)
				break;
			attrs[line.n_attrs].key = rl_str(a, "key");
			attrs[line.n_attrs].value = rl_str(a, "value");
			line.n_attrs++;
		}
		line.attrs = attrs;
		if (strcmp(line.timestamp, l->last_ts != NULL ? l->last_ts : "") > 0 ||
		    l->last_ts == NULL) {
			free(l->last_ts);
			l->last_ts = xstrdup(line.timestamp);
		}
		l->stats.lines++;
		n++;
		l->cbs.on_line(&line, l->ud);
		if (l->closed)	/* closed from the callback */
			break;
	}
	return n;
}

/* Variables of the subscription or query: the backlog at first, after a
 * line has been seen the lines after it. */
static char *
rl_variables(const struct railway_logs *l, const char *env_id)
{
	cJSON *v = cJSON_CreateObject();
	char *s;

	if (l->deployment_id != NULL) {
		cJSON_AddStringToObject(v, "deploymentId", l->deployment_id);
		cJSON_AddNumberToObject(v, "limit", l->backlog);
	} else {
		cJSON_AddStringToObject(v, "environmentId", env_id);
		if (l->filter != NULL)
			cJSON_AddStringToObject(v, "filter", l->filter);
	}
	if (l->deployment_id != NULL) {
		/* done */
	} else if (l->last_ts != NULL || l->since != NULL) {
		cJSON_AddStringToObject(v, "anchorDate", l->last_ts != NULL ? l->last_ts :
		    l->since);
		cJSON_AddNumberToObject(v, "beforeLimit", 0);
		cJSON_AddNumberToObject(v, "afterLimit", RL_RESUME_LIMIT);
	} else {
		cJSON_AddNumberToObject(v, "beforeLimit", l->backlog);
	}
	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		xalloc_die("railway logs: out of memory");
	cJSON_Delete(v);
	return s;
}

static void
rl_free(struct railway_logs *l)
{
	free(l->service_id);
	free(l->filter);
	free(l->deployment_id);
	free(l->since);
	free(l->last_ts);
	free(l);
}

/* Leave a callback of ours: the owner may have closed L inside it.
 * Returns 1 when L is gone. */
static int
rl_leave(struct railway_logs *l)
{
	if (--l->busy > 0 || !l->closed || l->reading)
		return 0;
	rl_free(l);
	return 1;
}

static void
rl_state(struct railway_logs *l, int live, const char *reason)
{
	if (live == l->live && live)
		return;
	l->live = live;
	if (l->cbs.on_state != NULL)
		l->cbs.on_state(live, reason, l->ud);
}

/* The connection under the subscription went down (or up again: the
 * resubscription's first message says live). */
static void
rl_live(int open, const char *reason, void *ud)
{
	struct railway_logs *l = ud;

	if (open || l->sub == NULL)
		return;
	l->busy++;
	rl_state(l, 0, reason != NULL ? reason : "connection lost");
	rl_leave(l);
}

static void
rl_end(struct railway_logs *l, const char *error)
{
	if (l->ended)
		return;
	l->ended = 1;
	if (l->cbs.on_end != NULL)
		l->cbs.on_end(error, l->ud);
}

static void
rl_next(struct gqlws_sub *sub, const struct gqlws_next *n, void *ud)
{
	struct railway_logs *l = ud;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(n->payload, "data");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(data, "environmentLogs");
	struct err e;
	char *vars;

	if (n->errors != NULL)
		diag_log(DIAG_WARN, "railway logs: %s", n->errors);
	if (!cJSON_IsArray(arr)) {
		l->stats.malformed++;
		return;
	}
	if (n->index == 1 && n->resubscribed > 0)
		l->stats.reconnects = n->resubscribed;
	l->busy++;
	rl_state(l, 1, NULL);
	if (l->closed || rl_deliver(l, arr, n->resubscribed > 0) == 0 || l->closed) {
		rl_leave(l);
		return;
	}
	rl_leave(l);
	/* a reconnect resumes after the newest line */
	vars = rl_variables(l, railway_environment_id(l->rw));
	memset(&e, 0, sizeof e);
	if (gqlws_sub_set_variables(sub, vars, &e) != 0)
		diag_log(DIAG_WARN, "railway logs: %s", e.msg);
	free(vars);
}

static void
rl_sub_error(struct gqlws_sub *sub, const struct gqlws_error *err, void *ud)
{
	struct railway_logs *l = ud;

	(void)sub;
	l->busy++;
	rl_state(l, 0, err->message);
	if (err->final && !l->closed)
		rl_end(l, err->message);
	rl_leave(l);
}

static void
rl_sub_complete(struct gqlws_sub *sub, void *ud)
{
	struct railway_logs *l = ud;

	(void)sub;
	l->busy++;
	rl_state(l, 0, "the server ended the log stream");
	if (!l->closed)
		rl_end(l, NULL);
	rl_leave(l);
}

static void
rl_read_done(struct railway *rw, const cJSON *data, const char *error, void *ud)
{
	struct railway_logs *l = ud;
	const cJSON *arr;

	(void)rw;
	l->reading = 0;
	l->busy++;
	if (l->closed) {
		/* closed while queued */
	} else if (error != NULL) {
		rl_end(l, error);
	} else if (!cJSON_IsArray(arr = cJSON_GetObjectItemCaseSensitive(data,
	    l->deployment_id != NULL ? "deploymentLogs" : "environmentLogs"))) {
		rl_end(l, "malformed reply: no list of log lines");
	} else {
		rl_deliver(l, arr, 0);
		if (!l->closed)
			rl_end(l, NULL);
	}
	rl_leave(l);
}

/* Start once the environment is known. */
static void
rl_try_start(struct loop_timer *t, void *ud)
{
	static const struct gqlws_sub_cbs cbs = {
		.on_next = rl_next, .on_error = rl_sub_error, .on_complete = rl_sub_complete,
	};
	struct railway_logs *l = ud;
	const char *env = railway_environment_id(l->rw);
	struct gqlws *g;
	struct err e;
	char *vars;

	(void)t;
	if (env[0] == '\0') {
		loop_timer_start(l->wait, l->wait_ms, 0);
		if ((l->wait_ms *= 2) > RL_WAIT_MAX_MS)
			l->wait_ms = RL_WAIT_MAX_MS;
		return;
	}
	memset(&e, 0, sizeof e);
	vars = rl_variables(l, env);
	if (l->follow) {
		if ((g = railway_int_live(l->rw, &e)) == NULL ||
		    (l->sub = gqlws_subscribe(g, railway_int_doc(l->rw, RW_DOC_ENV_LOGS), vars,
		    &cbs, l, &e)) == NULL) {
			rl_end(l, e.msg);
		} else {
			railway_int_live_listen(l->rw, rl_live, l);
			l->listening = 1;
		}
	} else if (railway_int_read(l->rw, l->deployment_id != NULL ? RW_DOC_DEPLOYMENT_LOGS :
	    RW_DOC_ENV_LOGS_QUERY, vars, rl_read_done, l, &e) != 0) {
		rl_end(l, e.msg);
	} else {
		l->reading = 1;
	}
	free(vars);
}

struct railway_logs *
railway_logs_open(struct railway *rw, uv_loop_t *loop, const struct railway_logs_opts *o,
    const struct railway_logs_cbs *cbs, void *ud, struct err *e)
{
	struct railway_logs *l;

	if (rw == NULL || cbs == NULL || cbs->on_line == NULL)
		return err_set(e, ERR_INVALID, "railway logs: no client or no line callback"),
		    NULL;
	l = xcalloc(1, sizeof *l);
	l->rw = rw;
	l->loop = loop;
	l->service_id = o->service_id != NULL && o->service_id[0] != '\0' ?
	    xstrdup(o->service_id) : NULL;
	/* the service is asked of the API too (so a backlog counts its lines
	 * only), and checked again on every line */
	if (l->service_id != NULL && o->filter != NULL && o->filter[0] != '\0')
		l->filter = xasprintf("@service:%s AND (%s)", l->service_id, o->filter);
	else if (l->service_id != NULL)
		l->filter = xasprintf("@service:%s", l->service_id);
	else if (o->filter != NULL && o->filter[0] != '\0')
		l->filter = xstrdup(o->filter);
	if (o->deployment_id != NULL && o->deployment_id[0] != '\0') {
		if (o->follow) {
			free(l->service_id);
			free(l->filter);
			free(l);
			return err_set(e, ERR_INVALID, "railway logs: one deployment's lines "
			    "are fetched, not followed"), NULL;
		}
		l->deployment_id = xstrdup(o->deployment_id);
	}
	if (o->since_ms > 0) {
		char buf[40];

		util_format_rfc3339(buf, sizeof buf, o->since_ms);
		l->since = xstrdup(buf);
	}
	l->backlog = o->backlog == 0 ? RL_DEFAULT_BACKLOG : o->backlog < 0 ? 0 :
	    o->backlog > RL_MAX_BACKLOG ? RL_MAX_BACKLOG : o->backlog;
	l->follow = o->follow;
	l->cbs = *cbs;
	l->ud = ud;
	l->wait = loop_timer_new(loop, rl_try_start, l);
	l->wait_ms = RL_WAIT_MS;
	loop_timer_start(l->wait, 0, 0);	/* callbacks only from the loop */
	return l;
}

void
railway_logs_close(struct railway_logs **lp)
{
	struct railway_logs *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	*lp = NULL;
	gqlws_unsubscribe(&l->sub);
	loop_timer_free(&l->wait);
	if (l->listening)
		railway_int_live_unlisten(l->rw, rl_live, l);
	l->closed = 1;
	l->ended = 1;
	/* a queued read still points here (its reply frees L), and so does a
	 * callback of ours that is running now */
	if (!l->reading && l->busy == 0)
		rl_free(l);
}

void
railway_logs_stats_get(const struct railway_logs *l, struct railway_logs_stats *out)
{
	*out = l->stats;
}
