/* redis_stats.c - the Redis health source (see redis_stats.h).
 *
 * A poll is INFO then SLOWLOG GET, pipelined on the one connection; the
 * data is published when both have answered.  A failed poll keeps the
 * previous data published, marked with the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/config.h"
#include "signalbox/diag.h"
#include "signalbox/loop.h"
#include "signalbox/redis.h"
#include "signalbox/redis_stats.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

/* ---- data ---------------------------------------------------------------- */

struct redis_stats_data *
redis_stats_data_new(void)
{
	struct redis_stats_data *d = xcalloc(1, sizeof *d);

	d->refs = 1;
	return d;
}

void
redis_stats_data_ref(const struct redis_stats_data *d)
{
	if (d != NULL)
		((struct redis_stats_data *)d)->refs++;
}

void
redis_stats_data_unref(const struct redis_stats_data *cd)
{
	struct redis_stats_data *d = (struct redis_stats_data *)cd;

	if (d != NULL && --d->refs <= 0)
		free(d);
}

void
redis_stats_snap_free(void *p)
{
	struct redis_stats_snap *s = p;

	if (s == NULL)
		return;
	redis_stats_data_unref(s->data);
	free(s);
}

/* ---- parsing -------------------------------------------------------------- */

static int64_t
rs_int(const char *s, int64_t dflt)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtoll(s, &end, 10);
	return *end == '\0' ? (int64_t)v : dflt;
}

static double
rs_double(const char *s, double dflt)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtod(s, &end);
	return *end == '\0' ? v : dflt;
}

/* Sanitised copy of N bytes of S into DST (LEN), cut at a character. */
static void
rs_copy(char *dst, size_t len, const char *s, size_t n)
{
	char *clean = text_sanitize(s != NULL ? s : "", s != NULL ? n : 0, 0);
	size_t m = strlen(clean);

	if (m >= len) {
		m = len - 1;
		while (m > 0 && ((unsigned char)clean[m] & 0xC0) == 0x80)
			m--;
	}
	memcpy(dst, clean, m);
	dst[m] = '\0';
	free(clean);
}

/* Value of FIELD in "a=1,b=2" into BUF; 1 when found. */
static int
rs_field(const char *list, const char *field, char *buf, size_t len)
{
	size_t fl = strlen(field);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (n > fl && strncmp(p, field, fl) == 0 && p[fl] == '=') {
			size_t vl = n - fl - 1;

			if (vl >= len)
				vl = len - 1;
			memcpy(buf, p + fl + 1, vl);
			buf[vl] = '\0';
			return 1;
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	return 0;
}

static void
rs_replica(struct redis_stats_data *d, const char *val)
{
	struct redis_stats_replica *r;
	char ip[64] = "", port[16] = "", buf[32];

	if (d->n_replicas >= REDIS_STATS_MAX_REPLICAS)
		return;
	r = &d->replicas[d->n_replicas++];
	rs_field(val, "ip", ip, sizeof ip);
	rs_field(val, "port", port, sizeof port);
	snprintf(buf, sizeof buf, "%s", port);
	{
		char addr[96];

		snprintf(addr, sizeof addr, "%s:%s", ip, buf);
		rs_copy(r->addr, sizeof r->addr, addr, strlen(addr));
	}
	if (rs_field(val, "state", buf, sizeof buf))
		rs_copy(r->state, sizeof r->state, buf, strlen(buf));
	r->lag_s = rs_field(val, "lag", buf, sizeof buf) ? rs_int(buf, -1) : -1;
	r->offset = rs_field(val, "offset", buf, sizeof buf) ? rs_int(buf, 0) : 0;
}

static void
rs_set(struct redis_stats_data *d, const char *key, const char *val)
{
	size_t vl = strlen(val);
	char buf[32];

#define RS_INT(name, field) if (strcmp(key, name) == 0) { d->field = rs_int(val, -1); return; }
#define RS_STR(name, field) if (strcmp(key, name) == 0) { \
	rs_copy(d->field, sizeof d->field, val, vl); return; }
	RS_STR("redis_version", version)
	RS_INT("uptime_in_seconds", uptime_s)
	RS_INT("connected_clients", clients)
	RS_INT("blocked_clients", blocked_clients)
	RS_INT("used_memory", used_memory)
	RS_INT("used_memory_rss", used_memory_rss)
	RS_INT("maxmemory", maxmemory)
	RS_STR("maxmemory_policy", maxmemory_policy)
	RS_INT("total_commands_processed", total_commands)
	RS_INT("keyspace_hits", hits)
	RS_INT("keyspace_misses", misses)
	RS_INT("evicted_keys", evicted)
	RS_INT("expired_keys", expired)
	RS_STR("rdb_last_bgsave_status", rdb_status)
	RS_INT("rdb_changes_since_last_save", rdb_changes)
	RS_INT("rdb_last_save_time", rdb_last_save_s)
	RS_STR("aof_last_write_status", aof_status)
	RS_STR("role", role)
	RS_INT("connected_slaves", connected_replicas)
	RS_STR("master_link_status", master_link)
	RS_STR("master_host", master_host)
	RS_INT("master_port", master_port)
	RS_INT("master_last_io_seconds_ago", master_io_s)
#undef RS_INT
#undef RS_STR
	if (strcmp(key, "instantaneous_ops_per_sec") == 0) {
		d->ops_per_sec = rs_double(val, -1);
	} else if (strcmp(key, "mem_fragmentation_ratio") == 0) {
		d->frag = rs_double(val, -1);
	} else if (strcmp(key, "rdb_bgsave_in_progress") == 0) {
		d->rdb_in_progress = rs_int(val, 0) == 1;
	} else if (strcmp(key, "aof_enabled") == 0) {
		d->aof_enabled = rs_int(val, 0) == 1;
	} else if (strncmp(key, "slave", 5) == 0 && key[5] >= '0' && key[5] <= '9') {
		rs_replica(d, val);
	} else if (strncmp(key, "db", 2) == 0 && key[2] >= '0' && key[2] <= '9') {
		if (rs_field(val, "keys", buf, sizeof buf))
			d->keys += rs_int(buf, 0);
	}
}

int
redis_stats_parse_info(struct redis_stats_data *d, const char *text, size_t len,
    const struct redis_stats_data *prev, struct err *e)
{
	const char *p = text, *end = text + len;
	size_t fields = 0;

	d->ops_per_sec = -1;
	d->total_commands = -1;
	d->used_memory = d->used_memory_rss = d->maxmemory = -1;
	d->frag = -1;
	d->hits = d->misses = -1;
	d->evicted = d->expired = -1;
	d->clients = d->blocked_clients = -1;
	d->rdb_changes = d->rdb_last_save_s = -1;
	d->uptime_s = -1;
	d->connected_replicas = -1;
	d->master_io_s = -1;
	d->keys = 0;
	d->taken_ms = util_wall_ms();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char key[64], val[512];

		if (n > 0 && p[n - 1] == '\r')
			n--;
		colon = memchr(p, ':', n);
		if (n > 0 && p[0] != '#' && colon != NULL && (size_t)(colon - p) < sizeof key) {
			size_t kl = (size_t)(colon - p), vl = n - kl - 1;

			memcpy(key, p, kl);
			key[kl] = '\0';
			if (vl >= sizeof val)
				vl = sizeof val - 1;
			memcpy(val, colon + 1, vl);
			val[vl] = '\0';
			rs_set(d, key, val);
			fields++;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (fields == 0 || d->version[0] == '\0')
		return err_set(e, ERR_PARSE, "INFO: no redis_version in the reply");
	if (d->hits >= 0 && d->misses >= 0 && d->hits + d->misses > 0)
		d->hit_rate = (double)d->hits / (double)(d->hits + d->misses);
	else
		d->hit_rate = -1;
	if (d->ops_per_sec < 0 && prev != NULL && prev->total_commands >= 0 &&
	    d->total_commands >= prev->total_commands && d->taken_ms > prev->taken_ms)
		d->ops_per_sec = (double)(d->total_commands - prev->total_commands) * 1000.0 /
		    (double)(d->taken_ms - prev->taken_ms);
	return 0;
}

int
redis_stats_parse_slowlog(struct redis_stats_data *d, const struct redis_value *v,
    struct err *e)
{
	d->n_slow = 0;
	if (v == NULL || v->type != REDIS_T_ARRAY)
		return err_set(e, ERR_PARSE, "SLOWLOG GET: not an array");
	for (size_t i = 0; i < v->n && d->n_slow < REDIS_STATS_SLOWLOG; i++) {
		const struct redis_value *en = &v->elem[i];
		struct redis_stats_slow *s;
		char cmd[REDIS_STATS_CMD_MAX * 2];
		size_t o = 0;

		if (en->type != REDIS_T_ARRAY || en->n < 4 ||
		    en->elem[0].type != REDIS_T_INTEGER || en->elem[1].type != REDIS_T_INTEGER ||
		    en->elem[2].type != REDIS_T_INTEGER || en->elem[3].type != REDIS_T_ARRAY)
			return err_set(e, ERR_PARSE, "SLOWLOG GET: entry %zu has an unexpected "
			    "shape", i + 1);
		s = &d->slow[d->n_slow++];
		memset(s, 0, sizeof *s);
		s->id = en->elem[0].integer;
		s->when_s = en->elem[1].integer;
		s->duration_us = en->elem[2].integer;
		cmd[0] = '\0';
		for (size_t k = 0; k < en->elem[3].n && o + 2 < sizeof cmd; k++) {
			const struct redis_value *a = &en->elem[3].elem[k];
			size_t n = a->str != NULL ? a->len : 0;

			if (k > 0)
				cmd[o++] = ' ';
			if (n > sizeof cmd - o - 1)
				n = sizeof cmd - o - 1;
			if (n > 0)
				memcpy(cmd + o, a->str, n);
			o += n;
			cmd[o] = '\0';
		}
		{
			char *clean = text_sanitize(cmd, o, 0);
			size_t m = strlen(clean);

			if (m > REDIS_STATS_CMD_MAX) {
				m = REDIS_STATS_CMD_MAX - 3;
				while (m > 0 && ((unsigned char)clean[m] & 0xC0) == 0x80)
					m--;
				memcpy(clean + m, "\xe2\x80\xa6", 4);
				m += 3;
			}
			memcpy(s->cmd, clean, m);
			s->cmd[m] = '\0';
			free(clean);
		}
		if (en->n >= 5 && en->elem[4].type == REDIS_T_STRING)
			rs_copy(s->client, sizeof s->client, en->elem[4].str, en->elem[4].len);
	}
	return 0;
}

/* ---- the source ------------------------------------------------------------- */

struct redis_stats {
	uv_loop_t *loop;
	struct store *store;
	struct redis *redis;
	int64_t interval_ms;
	struct loop_timer *timer;	/* the connect (0 ms after start), then each poll */
	int connect_due;		/* started, the connection not yet asked for */
	int polling;			/* replies still expected */
	int poll_failed;
	char poll_error[256];
	struct redis_stats_data *building;
	const struct redis_stats_data *last;
	enum redis_stats_conn conn;
	char error[256];
	int64_t since_ms;
	char target[300];
};

static void
redis_stats_publish(struct redis_stats *s)
{
	struct redis_stats_snap *snap = xcalloc(1, sizeof *snap);
	enum store_state st;
	char detail[48] = "";

	snap->conn = s->conn;
	util_strlcpy(snap->target, s->target, sizeof snap->target);
	util_strlcpy(snap->error, s->error, sizeof snap->error);
	snap->since_ms = s->since_ms;
	snap->interval_ms = s->interval_ms;
	redis_stats_data_ref(s->last);
	snap->data = s->last;
	store_publish(s->store, STORE_TOPIC_REDIS, snap, redis_stats_snap_free);

	if (s->conn == REDIS_STATS_CONNECTING && s->last == NULL)
		st = STORE_STATE_CONNECTING;
	else if (s->conn == REDIS_STATS_UP && s->error[0] == '\0')
		st = s->last != NULL ? STORE_STATE_OK : STORE_STATE_CONNECTING;
	else
		st = s->last != NULL ? STORE_STATE_STALE : STORE_STATE_ERROR;
	store_source_set(s->store, REDIS_STATS_SOURCE, st, s->error[0] != '\0' ? s->error : NULL);
	if (s->last != NULL && st == STORE_STATE_OK && s->last->ops_per_sec >= 0)
		snprintf(detail, sizeof detail, "%.0f ops/s", s->last->ops_per_sec);
	store_source_detail(s->store, REDIS_STATS_SOURCE, detail);
}

static void
redis_stats_reply_done(struct redis_stats *s)
{
	if (--s->polling > 0)
		return;
	if (s->poll_failed) {
		redis_stats_data_unref(s->building);
		s->building = NULL;
		if (redis_state(s->redis) == REDIS_STATE_READY)
			snprintf(s->error, sizeof s->error, "poll failed: %.200s", s->poll_error);
	} else {
		redis_stats_data_unref(s->last);
		s->last = s->building;
		s->building = NULL;
		s->error[0] = '\0';
	}
	redis_stats_publish(s);
}

static void
redis_stats_fail(struct redis_stats *s, const char *why)
{
	if (!s->poll_failed)
		util_strlcpy(s->poll_error, why, sizeof s->poll_error);
	s->poll_failed = 1;
}

static void
redis_stats_info_cb(const struct redis_value *v, const char *error, void *ud)
{
	struct redis_stats *s = ud;
	struct err e;

	memset(&e, 0, sizeof e);
	if (v == NULL)
		redis_stats_fail(s, error);
	else if (v->type == REDIS_T_ERROR)
		redis_stats_fail(s, v->str);
	else if (v->type != REDIS_T_STRING)
		redis_stats_fail(s, "INFO: not a text reply");
	else if (redis_stats_parse_info(s->building, v->str, v->len, s->last, &e) != 0)
		redis_stats_fail(s, e.msg);
	redis_stats_reply_done(s);
}

static void
redis_stats_slowlog_cb(const struct redis_value *v, const char *error, void *ud)
{
	struct redis_stats *s = ud;
	struct err e;

	memset(&e, 0, sizeof e);
	if (v == NULL)
		redis_stats_fail(s, error);
	else if (v->type == REDIS_T_ERROR)
		/* SLOWLOG may be renamed or refused by an ACL: not fatal */
		s->building->n_slow = 0;
	else if (redis_stats_parse_slowlog(s->building, v, &e) != 0)
		redis_stats_fail(s, e.msg);
	redis_stats_reply_done(s);
}

static void
redis_stats_poll(struct redis_stats *s)
{
	static const char *const info[] = { "INFO" };
	char n[8];
	const char *slow[] = { "SLOWLOG", "GET", n };

	if (s->redis == NULL || s->polling > 0 || redis_state(s->redis) != REDIS_STATE_READY)
		return;
	snprintf(n, sizeof n, "%d", REDIS_STATS_SLOWLOG);
	s->building = redis_stats_data_new();
	s->polling = 2;
	s->poll_failed = 0;
	redis_command(s->redis, 1, info, redis_stats_info_cb, s);
	redis_command(s->redis, 3, slow, redis_stats_slowlog_cb, s);
}

static void
redis_stats_timer_cb(struct loop_timer *t, void *ud)
{
	struct redis_stats *s = ud;

	(void)t;
	if (s->connect_due) {
		s->connect_due = 0;
		redis_start(s->redis);
		return;
	}
	redis_stats_poll(s);
}

static void
redis_stats_state_cb(enum redis_state st, const char *error, void *ud)
{
	struct redis_stats *s = ud;

	s->since_ms = util_wall_ms();
	switch (st) {
	case REDIS_STATE_READY:
		s->conn = REDIS_STATS_UP;
		s->error[0] = '\0';
		diag_log(DIAG_INFO, "redis: connected to %s", s->target);
		redis_stats_poll(s);
		break;
	case REDIS_STATE_DOWN:
		s->conn = REDIS_STATS_DOWN;
		util_strlcpy(s->error, error, sizeof s->error);
		diag_log(DIAG_WARN, "redis: %s", error);
		break;
	default:
		if (s->conn != REDIS_STATS_DOWN)
			s->conn = REDIS_STATS_CONNECTING;
		break;
	}
	redis_stats_publish(s);
}

struct redis_stats *
redis_stats_new(uv_loop_t *loop, struct store *store, const struct config *cfg)
{
	struct redis_stats *s;
	struct redis_opts o;
	const char *url;
	struct err e;

	if (cfg == NULL || !cfg->ds_redis.enabled)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->store = store;
	s->interval_ms = cfg->ds_redis.interval_ms;
	s->conn = REDIS_STATS_CONNECTING;
	s->since_ms = util_wall_ms();
	s->timer = loop_timer_new(loop, redis_stats_timer_cb, s);
	url = getenv(cfg->ds_redis.url_env);
	memset(&e, 0, sizeof e);
	if (url == NULL || *url == '\0') {
		s->conn = REDIS_STATS_UNCONFIGURED;
		snprintf(s->error, sizeof s->error, "%s is not set: export the URL "
		    "(redis://[:password@]host:port/db) in it", cfg->ds_redis.url_env);
		return s;
	}
	memset(&o, 0, sizeof o);
	o.url = url;
	s->redis = redis_new(loop, &o, redis_stats_state_cb, s, &e);
	if (s->redis == NULL) {
		s->conn = REDIS_STATS_UNCONFIGURED;
		snprintf(s->error, sizeof s->error, "%s: %.200s", cfg->ds_redis.url_env, e.msg);
		return s;
	}
	util_strlcpy(s->target, redis_target(s->redis), sizeof s->target);
	return s;
}

void
redis_stats_start(struct redis_stats *s)
{
	if (s == NULL)
		return;
	redis_stats_publish(s);
	if (s->redis == NULL)
		return;
	/* connect from the loop: the connect may resolve a host name (blocking),
	 * and the console's first frame, drawn first, shows CONNECTING */
	s->connect_due = 1;
	loop_timer_start(s->timer, 0, (uint64_t)s->interval_ms);
}

void
redis_stats_poll_now(struct redis_stats *s)
{
	if (s == NULL)
		return;
	if (s->connect_due) {
		s->connect_due = 0;
		redis_start(s->redis);
	}
	redis_stats_poll(s);
}

void
redis_stats_free(struct redis_stats **sp)
{
	struct redis_stats *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	redis_free(&s->redis);
	loop_timer_free(&s->timer);
	redis_stats_data_unref(s->building);
	redis_stats_data_unref(s->last);
	free(s);
}
