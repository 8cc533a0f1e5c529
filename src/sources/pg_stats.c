/* pg_stats.c - the PostgreSQL health source (see pg_stats.h).
 *
 * One poll is three statements sent one after the other on the source's
 * connection; the rows of each fill a new struct pg_stats_data, which is
 * published when the last one answers.  A failed statement ends the poll:
 * the previous data stays published, now marked with the error, and the
 * source goes STALE.  The connection's own state (pg.h) decides UP and DOWN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/config.h"
#include "signalbox/diag.h"
#include "signalbox/loop.h"
#include "signalbox/pg.h"
#include "signalbox/pg_stats.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	PG_STATS_SUMMARY_COLS = 15,
	PG_STATS_SESSION_COLS = 8,
	PG_STATS_OTHER_COLS = 6,
	PG_STATS_MAX_DBS = 32,
	PG_STATS_MAX_REPLICAS = 16,
};

const char *const pg_stats_sql[3] = {
	/* summary: one row */
	"SELECT current_setting('server_version'), pg_is_in_recovery(), "
	"current_setting('max_connections')::int, "
	"(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), "
	"(SELECT string_agg(s || '=' || n, ',' ORDER BY n DESC, s) FROM "
	"(SELECT coalesce(state, 'unknown') AS s, count(*) AS n FROM pg_stat_activity "
	"WHERE backend_type = 'client backend' GROUP BY 1) c), "
	"(SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database), "
	"(SELECT sum(blks_hit)::float8 / nullif(sum(blks_hit + blks_read), 0) "
	"FROM pg_stat_database), "
	"current_setting('archive_mode'), a.archived_count, a.failed_count, "
	"a.last_archived_wal, (extract(epoch FROM a.last_archived_time) * 1000)::bigint, "
	"a.last_failed_wal, (extract(epoch FROM a.last_failed_time) * 1000)::bigint, "
	"(extract(epoch FROM clock_timestamp()) * 1000)::bigint "
	"FROM pg_stat_archiver a",
	/* sessions that are not idle, blocked ones first */
	"SELECT pid, coalesce(usename, ''), coalesce(datname, ''), coalesce(state, ''), "
	"coalesce(wait_event_type || ':' || wait_event, ''), "
	"(extract(epoch FROM clock_timestamp() - coalesce(CASE WHEN state LIKE "
	"'idle in transaction%' THEN xact_start ELSE query_start END, backend_start)) "
	"* 1000)::bigint, "
	"array_to_string(pg_blocking_pids(pid), ', '), left(query, 400) "
	"FROM pg_stat_activity WHERE backend_type = 'client backend' "
	"AND state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid() "
	"ORDER BY cardinality(pg_blocking_pids(pid)) > 0 DESC, "
	"coalesce(query_start, backend_start) LIMIT 50",
	/* replicas, then database sizes */
	"SELECT 'replica', coalesce(application_name, ''), coalesce(client_addr::text, "
	"'local'), coalesce(state, ''), (extract(epoch FROM replay_lag) * 1000)::bigint, "
	"CASE WHEN pg_is_in_recovery() THEN NULL ELSE "
	"pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END "
	"FROM pg_stat_replication "
	"UNION ALL SELECT 'db', datname, '', '', CASE WHEN "
	"has_database_privilege(datname, 'CONNECT') THEN pg_database_size(datname) END, "
	"NULL FROM pg_database WHERE NOT datistemplate",
};

/* ---- data ------------------------------------------------------------------ */

struct pg_stats_data *
pg_stats_data_new(void)
{
	struct pg_stats_data *d = xcalloc(1, sizeof *d);

	d->refs = 1;
	d->tps = -1;
	d->cache_hit = -1;
	return d;
}

void
pg_stats_data_ref(const struct pg_stats_data *d)
{
	if (d != NULL)
		((struct pg_stats_data *)d)->refs++;
}

void
pg_stats_data_unref(const struct pg_stats_data *cd)
{
	struct pg_stats_data *d = (struct pg_stats_data *)cd;

	if (d == NULL || --d->refs > 0)
		return;
	for (size_t i = 0; i < d->n_sessions; i++)
		free(d->sessions[i].query);
	free(d->sessions);
	free(d->replicas);
	free(d->dbs);
	free(d);
}

void
pg_stats_snap_free(void *p)
{
	struct pg_stats_snap *s = p;

	if (s == NULL)
		return;
	pg_stats_data_unref(s->data);
	free(s);
}

/* ---- parsing ----------------------------------------------------------------- */

static int64_t
pg_stats_int(const char *s, int64_t dflt)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtoll(s, &end, 10);
	return *end == '\0' ? (int64_t)v : dflt;
}

static double
pg_stats_double(const char *s, double dflt)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtod(s, &end);
	return *end == '\0' ? v : dflt;
}

/* Sanitise untrusted S into DST (LEN), cut at a character boundary. */
static void
pg_stats_copy(char *dst, size_t len, const char *s)
{
	char *clean;
	size_t n;

	if (s == NULL)
		s = "";
	clean = text_sanitize(s, strlen(s), 0);
	n = strlen(clean);
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)clean[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, clean, n);
	dst[n] = '\0';
	free(clean);
}

/* A sanitised copy of S cut to MAX bytes (with "…" when cut); caller frees. */
static char *
pg_stats_dup_cut(const char *s, size_t max)
{
	char *clean = text_sanitize(s != NULL ? s : "", s != NULL ? strlen(s) : 0, 0);
	size_t n = strlen(clean);

	if (n > max) {
		n = max - 3;
		while (n > 0 && ((unsigned char)clean[n] & 0xC0) == 0x80)
			n--;
		memcpy(clean + n, "\xe2\x80\xa6", 4);	/* U+2026 */
	}
	return clean;
}

/* "active=3,idle=12,idle in transaction=1" into D->states. */
static void
pg_stats_parse_states(struct pg_stats_data *d, const char *s)
{
	d->n_states = 0;
	while (s != NULL && *s != '\0' && d->n_states < PG_STATS_MAX_STATES) {
		const char *comma = strchr(s, ','), *eq;
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char item[96];

		if (len >= sizeof item)
			len = sizeof item - 1;
		memcpy(item, s, len);
		item[len] = '\0';
		eq = strrchr(item, '=');
		if (eq != NULL) {
			struct pg_stats_state_count *c = &d->states[d->n_states++];

			item[eq - item] = '\0';
			pg_stats_copy(c->state, sizeof c->state, item);
			c->n = (int)pg_stats_int(eq + 1, 0);
		}
		s = comma != NULL ? comma + 1 : NULL;
	}
}

int
pg_stats_parse_summary(struct pg_stats_data *d, const struct pg_rows *r,
    const struct pg_stats_data *prev, struct err *e)
{
	const char *rec;
	int64_t now_ms;

	if (r->nrows != 1 || r->ncols != PG_STATS_SUMMARY_COLS)
		return err_set(e, ERR_PARSE, "summary: expected 1 row of %d columns, got %d of %d",
		    PG_STATS_SUMMARY_COLS, r->nrows, r->ncols);
	pg_stats_copy(d->version, sizeof d->version, pg_rows_get(r, 0, 0));
	d->version[strcspn(d->version, " ")] = '\0';	/* "15.20 (Debian ...)" */
	rec = pg_rows_get(r, 0, 1);
	d->in_recovery = rec != NULL && rec[0] == 't';
	d->max_connections = (int)pg_stats_int(pg_rows_get(r, 0, 2), 0);
	d->n_connections = (int)pg_stats_int(pg_rows_get(r, 0, 3), 0);
	pg_stats_parse_states(d, pg_rows_get(r, 0, 4));
	d->xacts = pg_stats_int(pg_rows_get(r, 0, 5), -1);
	d->cache_hit = pg_stats_double(pg_rows_get(r, 0, 6), -1);
	rec = pg_rows_get(r, 0, 7);
	d->archive_mode = rec != NULL && (strcmp(rec, "on") == 0 || strcmp(rec, "always") == 0);
	d->archived = pg_stats_int(pg_rows_get(r, 0, 8), 0);
	d->archive_failed = pg_stats_int(pg_rows_get(r, 0, 9), 0);
	pg_stats_copy(d->last_archived_wal, sizeof d->last_archived_wal, pg_rows_get(r, 0, 10));
	d->last_archived_ms = pg_stats_int(pg_rows_get(r, 0, 11), 0);
	pg_stats_copy(d->last_failed_wal, sizeof d->last_failed_wal, pg_rows_get(r, 0, 12));
	d->last_failed_ms = pg_stats_int(pg_rows_get(r, 0, 13), 0);
	now_ms = pg_stats_int(pg_rows_get(r, 0, 14), 0);
	d->taken_ms = now_ms > 0 ? now_ms : util_wall_ms();
	d->tps = -1;
	if (prev != NULL && prev->xacts >= 0 && d->xacts >= prev->xacts &&
	    d->taken_ms > prev->taken_ms)
		d->tps = (double)(d->xacts - prev->xacts) * 1000.0 /
		    (double)(d->taken_ms - prev->taken_ms);
	return 0;
}

static int
pg_stats_session_cmp(const void *a, const void *b)
{
	const struct pg_stats_session *x = a, *y = b;

	if (x->duration_ms != y->duration_ms)
		return x->duration_ms > y->duration_ms ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Whether PID is in the list "4711, 4712". */
static int
pg_stats_pid_in(const char *list, int pid)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v == pid)
			return 1;
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

int
pg_stats_parse_sessions(struct pg_stats_data *d, const struct pg_rows *r, struct err *e)
{
	size_t n = 0;

	if (r->nrows > 0 && r->ncols != PG_STATS_SESSION_COLS)
		return err_set(e, ERR_PARSE, "sessions: expected %d columns, got %d",
		    PG_STATS_SESSION_COLS, r->ncols);
	d->sessions = xcalloc(r->nrows > 0 ? (size_t)r->nrows : 1, sizeof *d->sessions);
	for (int i = 0; i < r->nrows && n < PG_STATS_MAX_SESSIONS; i++) {
		struct pg_stats_session *s = &d->sessions[n];
		int64_t pid = pg_stats_int(pg_rows_get(r, i, 0), -1);

		if (pid <= 0 || pid > 0x7fffffff)
			continue;
		s->pid = (int)pid;
		pg_stats_copy(s->user, sizeof s->user, pg_rows_get(r, i, 1));
		pg_stats_copy(s->db, sizeof s->db, pg_rows_get(r, i, 2));
		pg_stats_copy(s->state, sizeof s->state, pg_rows_get(r, i, 3));
		pg_stats_copy(s->wait, sizeof s->wait, pg_rows_get(r, i, 4));
		s->duration_ms = pg_stats_int(pg_rows_get(r, i, 5), 0);
		if (s->duration_ms < 0)
			s->duration_ms = 0;
		pg_stats_copy(s->blocked_by, sizeof s->blocked_by, pg_rows_get(r, i, 6));
		s->query = pg_stats_dup_cut(pg_rows_get(r, i, 7), PG_STATS_QUERY_MAX);
		n++;
	}
	d->n_sessions = n;
	d->n_blocked = 0;
	for (size_t i = 0; i < n; i++) {
		if (d->sessions[i].blocked_by[0] != '\0')
			d->n_blocked++;
		for (size_t j = 0; j < n; j++)
			if (pg_stats_pid_in(d->sessions[j].blocked_by, d->sessions[i].pid))
				d->sessions[i].blocking = 1;
	}
	qsort(d->sessions, n, sizeof *d->sessions, pg_stats_session_cmp);
	return 0;
}

static int
pg_stats_db_cmp(const void *a, const void *b)
{
	const struct pg_stats_db *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

int
pg_stats_parse_other(struct pg_stats_data *d, const struct pg_rows *r, struct err *e)
{
	size_t cap = r->nrows > 0 ? (size_t)r->nrows : 1;

	if (r->nrows > 0 && r->ncols != PG_STATS_OTHER_COLS)
		return err_set(e, ERR_PARSE, "replicas and databases: expected %d columns, "
		    "got %d", PG_STATS_OTHER_COLS, r->ncols);
	d->replicas = xcalloc(cap, sizeof *d->replicas);
	d->dbs = xcalloc(cap, sizeof *d->dbs);
	for (int i = 0; i < r->nrows; i++) {
		const char *kind = pg_rows_get(r, i, 0);

		if (kind == NULL)
			continue;
		if (strcmp(kind, "replica") == 0 && d->n_replicas < PG_STATS_MAX_REPLICAS) {
			struct pg_stats_replica *p = &d->replicas[d->n_replicas++];

			pg_stats_copy(p->name, sizeof p->name, pg_rows_get(r, i, 1));
			pg_stats_copy(p->addr, sizeof p->addr, pg_rows_get(r, i, 2));
			pg_stats_copy(p->state, sizeof p->state, pg_rows_get(r, i, 3));
			p->replay_lag_ms = pg_stats_int(pg_rows_get(r, i, 4), -1);
			p->lag_bytes = pg_stats_int(pg_rows_get(r, i, 5), -1);
		} else if (strcmp(kind, "db") == 0) {
			struct pg_stats_db *db = &d->dbs[d->n_dbs++];

			pg_stats_copy(db->name, sizeof db->name, pg_rows_get(r, i, 1));
			db->size = pg_stats_int(pg_rows_get(r, i, 4), -1);
		}
	}
	qsort(d->dbs, d->n_dbs, sizeof *d->dbs, pg_stats_db_cmp);
	if (d->n_dbs > PG_STATS_MAX_DBS)
		d->n_dbs = PG_STATS_MAX_DBS;
	return 0;
}

/* ---- the source ------------------------------------------------------------------ */

struct pg_stats_cancel_job {
	struct pg_stats *s;
	pg_stats_cancel_fn *done;
	void *ud;
	struct pg_stats_cancel_job *next;
};

struct pg_stats {
	uv_loop_t *loop;
	struct store *store;
	struct pg *pg;
	int64_t interval_ms;
	struct loop_timer *timer;	/* the connect (0 ms after start), then each poll */
	int connect_due;		/* started, the connection not yet asked for */
	int step;			/* statement in flight, -1 = none */
	struct pg_stats_data *building;
	const struct pg_stats_data *last;
	enum pg_stats_conn conn;
	char error[256];
	int64_t since_ms;
	char target[160];
	struct pg_stats_cancel_job *cancels;
};

static void
pg_stats_publish(struct pg_stats *s)
{
	struct pg_stats_snap *snap = xcalloc(1, sizeof *snap);
	enum store_state st;
	char detail[48] = "";

	snap->conn = s->conn;
	util_strlcpy(snap->target, s->target, sizeof snap->target);
	util_strlcpy(snap->error, s->error, sizeof snap->error);
	snap->since_ms = s->since_ms;
	snap->interval_ms = s->interval_ms;
	pg_stats_data_ref(s->last);
	snap->data = s->last;
	store_publish(s->store, STORE_TOPIC_PG, snap, pg_stats_snap_free);

	if (s->conn == PG_STATS_CONNECTING && s->last == NULL)
		st = STORE_STATE_CONNECTING;
	else if (s->conn == PG_STATS_UP && s->error[0] == '\0')
		st = s->last != NULL ? STORE_STATE_OK : STORE_STATE_CONNECTING;
	else
		st = s->last != NULL ? STORE_STATE_STALE : STORE_STATE_ERROR;
	store_source_set(s->store, PG_STATS_SOURCE, st, s->error[0] != '\0' ? s->error : NULL);
	if (s->last != NULL && st == STORE_STATE_OK)
		snprintf(detail, sizeof detail, "%d/%d", s->last->n_connections,
		    s->last->max_connections);
	store_source_detail(s->store, PG_STATS_SOURCE, detail);
}

static void pg_stats_step(struct pg_stats *s);

static void
pg_stats_poll_failed(struct pg_stats *s, const char *why)
{
	pg_stats_data_unref(s->building);
	s->building = NULL;
	s->step = -1;
	if (pg_state(s->pg) == PG_STATE_READY)
		snprintf(s->error, sizeof s->error, "poll failed: %.200s", why);
	pg_stats_publish(s);
}

static void
pg_stats_answer(const struct pg_result *res, void *ud)
{
	struct pg_stats *s = ud;
	struct err e;
	int rc = -1;

	if (s->building == NULL)
		return;
	if (!res->ok) {
		pg_stats_poll_failed(s, res->error);
		return;
	}
	memset(&e, 0, sizeof e);
	switch (s->step) {
	case 0:
		rc = pg_stats_parse_summary(s->building, &res->rows, s->last, &e);
		break;
	case 1:
		rc = pg_stats_parse_sessions(s->building, &res->rows, &e);
		break;
	case 2:
		rc = pg_stats_parse_other(s->building, &res->rows, &e);
		break;
	default:
		err_set(&e, ERR_INTERNAL, "unexpected answer");
		break;
	}
	if (rc != 0) {
		pg_stats_poll_failed(s, e.msg);
		return;
	}
	s->step++;
	if (s->step < (int)ARRAY_LEN(pg_stats_sql)) {
		pg_stats_step(s);
		return;
	}
	pg_stats_data_unref(s->last);
	s->last = s->building;
	s->building = NULL;
	s->step = -1;
	s->error[0] = '\0';
	pg_stats_publish(s);
}

static void
pg_stats_step(struct pg_stats *s)
{
	pg_query(s->pg, pg_stats_sql[s->step], 0, NULL, pg_stats_answer, s);
}

static void
pg_stats_poll(struct pg_stats *s)
{
	if (s->pg == NULL || s->step >= 0 || pg_state(s->pg) != PG_STATE_READY)
		return;
	s->building = pg_stats_data_new();
	s->step = 0;
	pg_stats_step(s);
}

static void
pg_stats_timer_cb(struct loop_timer *t, void *ud)
{
	struct pg_stats *s = ud;

	(void)t;
	if (s->connect_due) {
		s->connect_due = 0;
		pg_start(s->pg);
		return;
	}
	pg_stats_poll(s);
}

static void
pg_stats_state_cb(enum pg_state st, const char *error, void *ud)
{
	struct pg_stats *s = ud;

	s->since_ms = util_wall_ms();
	switch (st) {
	case PG_STATE_READY:
		s->conn = PG_STATS_UP;
		s->error[0] = '\0';
		diag_log(DIAG_INFO, "postgres: connected to %s", s->target);
		pg_stats_poll(s);
		break;
	case PG_STATE_DOWN:
		/* the poll in flight (if any) fails through its query */
		s->conn = PG_STATS_DOWN;
		util_strlcpy(s->error, error, sizeof s->error);
		diag_log(DIAG_WARN, "postgres: %s", error);
		break;
	default:
		if (s->conn != PG_STATS_DOWN)
			s->conn = PG_STATS_CONNECTING;
		break;
	}
	pg_stats_publish(s);
}

struct pg_stats *
pg_stats_new(uv_loop_t *loop, struct store *store, const struct config *cfg)
{
	struct pg_stats *s;
	struct pg_opts o;
	const char *url;
	struct err e;

	if (cfg == NULL || !cfg->ds_postgres.enabled)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->store = store;
	s->step = -1;
	s->interval_ms = cfg->ds_postgres.interval_ms;
	s->conn = PG_STATS_CONNECTING;
	s->since_ms = util_wall_ms();
	s->timer = loop_timer_new(loop, pg_stats_timer_cb, s);
	url = getenv(cfg->ds_postgres.url_env);
	memset(&e, 0, sizeof e);
	if (url == NULL || *url == '\0') {
		s->conn = PG_STATS_UNCONFIGURED;
		snprintf(s->error, sizeof s->error, "%s is not set: export the connection "
		    "string (postgres://user:password@host:port/db) in it", cfg->ds_postgres.url_env);
	} else if (pg_conninfo_target(url, s->target, sizeof s->target, &e) != 0) {
		s->conn = PG_STATS_UNCONFIGURED;
		snprintf(s->error, sizeof s->error, "%s: %.200s", cfg->ds_postgres.url_env, e.msg);
	} else {
		memset(&o, 0, sizeof o);
		o.conninfo = url;
		s->pg = pg_new(loop, &o, pg_stats_state_cb, s);
	}
	return s;
}

void
pg_stats_start(struct pg_stats *s)
{
	if (s == NULL)
		return;
	pg_stats_publish(s);
	if (s->pg == NULL)
		return;
	/* connect from the loop: the connect may resolve a host name (blocking),
	 * and the console's first frame, drawn first, shows CONNECTING */
	s->connect_due = 1;
	loop_timer_start(s->timer, 0, (uint64_t)s->interval_ms);
}

void
pg_stats_poll_now(struct pg_stats *s)
{
	if (s == NULL)
		return;
	if (s->connect_due) {
		s->connect_due = 0;
		pg_start(s->pg);
	}
	pg_stats_poll(s);
}

static void
pg_stats_cancel_unlink(struct pg_stats_cancel_job *j)
{
	struct pg_stats_cancel_job **pp;

	for (pp = &j->s->cancels; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
}

void
pg_stats_free(struct pg_stats **sp)
{
	struct pg_stats *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	pg_free(&s->pg);	/* queries dropped: no callback runs */
	while (s->cancels != NULL) {
		struct pg_stats_cancel_job *j = s->cancels;

		s->cancels = j->next;
		j->done(0, 0, "signalbox stopped before the server answered", j->ud);
		free(j);
	}
	loop_timer_free(&s->timer);
	pg_stats_data_unref(s->building);
	pg_stats_data_unref(s->last);
	free(s);
}

static void
pg_stats_cancel_answer(const struct pg_result *res, void *ud)
{
	struct pg_stats_cancel_job *j = ud;
	const char *v = res->ok ? pg_rows_get(&res->rows, 0, 0) : NULL;

	pg_stats_cancel_unlink(j);
	if (res->ok)
		j->done(1, v != NULL && v[0] == 't', NULL, j->ud);
	else
		j->done(0, 0, res->error, j->ud);
	/* the session list changes now: show it */
	if (res->ok)
		pg_stats_poll(j->s);
	free(j);
}

void
pg_stats_cancel(struct pg_stats *s, int pid, pg_stats_cancel_fn *done, void *ud)
{
	struct pg_stats_cancel_job *j;
	char arg[16];
	const char *params[1] = { arg };

	if (s == NULL || s->pg == NULL) {
		done(0, 0, "no PostgreSQL connection is configured", ud);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->done = done;
	j->ud = ud;
	j->next = s->cancels;
	s->cancels = j;
	snprintf(arg, sizeof arg, "%d", pid);
	pg_query(s->pg, "SELECT pg_cancel_backend($1::int)", 1, params,
	    pg_stats_cancel_answer, j);
}
