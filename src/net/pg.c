/* pg.c - one PostgreSQL connection on the shared loop (see pg.h).
 *
 * The life of the connection: pg_connect starts PQconnectStartParams and
 * watches the socket for writing; every poll event runs PQconnectPoll and
 * watches what it asks for, on whatever socket PQsocket names now (it may
 * change between attempts at several addresses).  Once connected the
 * socket stays watched for reading even between queries, so a server that
 * goes away is noticed at once (PQconsumeInput fails) rather than at the
 * next poll.  Any failure ends in pg_fail: the socket is unwatched, the
 * connection finished, every query failed with the reason, and a retry
 * timer armed with the current backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "signalbox/loop.h"
#include "signalbox/pg.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	PG_DEFAULT_CONNECT_MS = 5000,
	PG_DEFAULT_STATEMENT_MS = 10000,
	PG_DEFAULT_RETRY_MAX_MS = 30000,
	PG_RETRY_FIRST_MS = 1000,
	PG_ANSWER_GRACE_MS = 5000,	/* beyond the statement timeout */
};

struct pg_item {
	char *sql;
	int n;
	char **params;
	pg_done_fn *done;
	void *ud;
	char error[256];	/* failed before it ran */
	struct pg_item *next;
};

struct pg {
	uv_loop_t *loop;
	char *conninfo;
	char *host, *port;	/* overrides of the conninfo's, or NULL */
	int64_t connect_ms, statement_ms, retry_max_ms, backoff_ms;
	int read_write;			/* pg_opts.read_write */
	pg_notify_fn *notify_fn;	/* pg_set_notify */
	void *notify_ud;
	pg_state_fn *state_fn;
	void *ud;
	enum pg_state state;
	char error[256];
	char target[160];
	PGconn *conn;
	uv_poll_t *poll;	/* on PQsocket(conn); NULL when unwatched */
	int poll_fd;
	struct loop_timer *connect_timer;	/* connect timeout */
	struct loop_timer *answer_timer;	/* a sent query gets no answer */
	struct loop_timer *retry_timer;
	struct loop_timer *defer_timer;	/* failed queries are answered from here */
	struct pg_item *head, *tail;	/* queued; head is in flight when sent */
	int sent;
	PGresult *acc;		/* the head's result so far */
	struct pg_item *failed, *failed_tail;
	size_t n_items;
};

static void pg_on_poll(uv_poll_t *h, int status, int events);
static void pg_send_next(struct pg *p);
static int pg_describe(const char *conninfo, const char *host_ovr, const char *port_ovr,
    char *buf, size_t len, struct err *e);

/* ---- small helpers -------------------------------------------------------- */

/* MSG (a libpq message, possibly several lines) on one line into BUF. */
static void
pg_one_line(char *buf, size_t len, const char *msg)
{
	size_t o = 0;
	int space = 0;

	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	for (; *msg != '\0' && o + 1 < len; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == '\r' || *msg == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < len)
			buf[o++] = ' ';
		space = 0;
		buf[o++] = *msg;
	}
	buf[o] = '\0';
}

static void
pg_item_free(struct pg_item *it)
{
	for (int i = 0; i < it->n; i++)
		free(it->params[i]);
	free(it->params);
	free(it->sql);
	free(it);
}

static void
pg_set_state(struct pg *p, enum pg_state st, const char *error)
{
	util_strlcpy(p->error, error != NULL ? error : "", sizeof p->error);
	if (p->state == st && st != PG_STATE_DOWN)
		return;
	p->state = st;
	if (p->state_fn != NULL)
		p->state_fn(st, p->error, p->ud);
}

static void
pg_poll_closed(uv_handle_t *h)
{
	free(h);
}

static void
pg_unwatch(struct pg *p)
{
	if (p->poll == NULL)
		return;
	uv_poll_stop(p->poll);
	p->poll->data = NULL;
	uv_close((uv_handle_t *)p->poll, pg_poll_closed);
	p->poll = NULL;
	p->poll_fd = -1;
}

/* Watch the connection's current socket for EVENTS; -1 when it cannot. */
static int
pg_watch(struct pg *p, int events)
{
	int fd = p->conn != NULL ? PQsocket(p->conn) : -1;

	if (p->poll != NULL && p->poll_fd != fd)
		pg_unwatch(p);
	if (fd < 0)
		return -1;
	if (p->poll == NULL) {
		p->poll = xcalloc(1, sizeof *p->poll);
		if (uv_poll_init(p->loop, p->poll, fd) != 0) {
			free(p->poll);
			p->poll = NULL;
			return -1;
		}
		p->poll->data = p;
		p->poll_fd = fd;
	}
	return uv_poll_start(p->poll, events, pg_on_poll) == 0 ? 0 : -1;
}

/* Move every queued query to the failed list with WHY, to be answered
 * from the defer timer. */
static void
pg_fail_queue(struct pg *p, const char *why)
{
	struct pg_item *it;

	while ((it = p->head) != NULL) {
		p->head = it->next;
		it->next = NULL;
		util_strlcpy(it->error, why, sizeof it->error);
		if (p->failed_tail != NULL)
			p->failed_tail->next = it;
		else
			p->failed = it;
		p->failed_tail = it;
	}
	p->tail = NULL;
	p->sent = 0;
	if (p->acc != NULL) {
		PQclear(p->acc);
		p->acc = NULL;
	}
	if (p->failed != NULL)
		loop_timer_start(p->defer_timer, 0, 0);
}

/* The connection failed or broke: report, drop it, retry later. */
static void
pg_fail(struct pg *p, const char *why)
{
	char msg[256];

	pg_one_line(msg, sizeof msg, why);
	pg_unwatch(p);
	loop_timer_stop(p->connect_timer);
	loop_timer_stop(p->answer_timer);
	if (p->conn != NULL) {
		PQfinish(p->conn);
		p->conn = NULL;
	}
	pg_fail_queue(p, msg);
	loop_timer_start(p->retry_timer, (uint64_t)p->backoff_ms, 0);
	p->backoff_ms = p->backoff_ms * 2 > p->retry_max_ms ? p->retry_max_ms :
	    p->backoff_ms * 2;
	pg_set_state(p, PG_STATE_DOWN, msg);
}

/* ---- connecting ------------------------------------------------------------ */

static void
pg_notice(void *ud, const char *msg)
{
	(void)ud;
	(void)msg;
}

static void
pg_connect(struct pg *p)
{
	char options[128];
	const char *kw[6] = { "dbname", "application_name", "options", NULL };
	const char *val[6];
	int n = 3;

	/* read-only unless the owner asked to write (pg_opts.read_write) */
	snprintf(options, sizeof options, "-c default_transaction_read_only=%s "
	    "-c statement_timeout=%lld", p->read_write ? "off" : "on",
	    (long long)p->statement_ms);
	val[0] = p->conninfo;
	val[1] = "signalbox";
	val[2] = options;
	/* keywords after the expanded dbname override what the URL said */
	if (p->host != NULL) {
		kw[n] = "host";
		val[n++] = p->host;
	}
	if (p->port != NULL) {
		kw[n] = "port";
		val[n++] = p->port;
	}
	kw[n] = NULL;
	val[n] = NULL;
	p->conn = PQconnectStartParams(kw, val, 1);
	if (p->conn == NULL) {
		pg_fail(p, "out of memory starting a connection");
		return;
	}
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		pg_fail(p, PQerrorMessage(p->conn));
		return;
	}
	/* libpq's default prints notices on stderr: the terminal is ours */
	PQsetNoticeProcessor(p->conn, pg_notice, p);
	pg_set_state(p, PG_STATE_CONNECTING, NULL);
	loop_timer_start(p->connect_timer, (uint64_t)p->connect_ms, 0);
	/* before the first PQconnectPoll, wait as if it asked for writing */
	if (pg_watch(p, UV_WRITABLE) != 0)
		pg_fail(p, "cannot watch the connection's socket");
}

static void
pg_connect_step(struct pg *p)
{
	PostgresPollingStatusType st = PQconnectPoll(p->conn);

	switch (st) {
	case PGRES_POLLING_READING:
		if (pg_watch(p, UV_READABLE) != 0)
			pg_fail(p, "cannot watch the connection's socket");
		break;
	case PGRES_POLLING_WRITING:
		if (pg_watch(p, UV_WRITABLE) != 0)
			pg_fail(p, "cannot watch the connection's socket");
		break;
	case PGRES_POLLING_OK:
		loop_timer_stop(p->connect_timer);
		PQsetnonblocking(p->conn, 1);
		p->backoff_ms = PG_RETRY_FIRST_MS;
		if (pg_watch(p, UV_READABLE) != 0) {
			pg_fail(p, "cannot watch the connection's socket");
			break;
		}
		pg_set_state(p, PG_STATE_READY, NULL);
		pg_send_next(p);
		break;
	default:
		pg_fail(p, PQerrorMessage(p->conn));
		break;
	}
}

static void
pg_connect_timeout_cb(struct loop_timer *t, void *ud)
{
	struct pg *p = ud;
	char msg[96];

	(void)t;
	if (p->state != PG_STATE_CONNECTING)
		return;
	snprintf(msg, sizeof msg, "no answer within %lld ms (connect timeout)",
	    (long long)p->connect_ms);
	pg_fail(p, msg);
}

static void
pg_retry_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	pg_connect(ud);
}

/* ---- queries ---------------------------------------------------------------- */

static void
pg_deliver(struct pg_item *it, PGresult *res, const char *error)
{
	struct pg_result r;
	const char **cells = NULL;
	ExecStatusType st;

	memset(&r, 0, sizeof r);
	if (res == NULL) {
		pg_one_line(r.error, sizeof r.error, error != NULL ? error : "no result");
	} else if ((st = PQresultStatus(res)) == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		int nr = PQntuples(res), nc = PQnfields(res);

		r.ok = 1;
		cells = xcalloc((size_t)nr * (size_t)nc + 1, sizeof *cells);
		for (int i = 0; i < nr; i++)
			for (int j = 0; j < nc; j++)
				cells[(size_t)i * (size_t)nc + (size_t)j] =
				    PQgetisnull(res, i, j) ? NULL : PQgetvalue(res, i, j);
		r.rows.nrows = nr;
		r.rows.ncols = nc;
		r.rows.cells = cells;
	} else {
		pg_one_line(r.error, sizeof r.error, PQresultErrorMessage(res));
	}
	if (it->done != NULL)
		it->done(&r, it->ud);
	free(cells);
}

static void
pg_defer_cb(struct loop_timer *t, void *ud)
{
	struct pg *p = ud;
	struct pg_item *it;

	(void)t;
	while ((it = p->failed) != NULL) {
		p->failed = it->next;
		if (p->failed == NULL)
			p->failed_tail = NULL;
		p->n_items--;
		pg_deliver(it, NULL, it->error);
		pg_item_free(it);
	}
}

static void
pg_answer_timeout_cb(struct loop_timer *t, void *ud)
{
	struct pg *p = ud;
	char msg[96];

	(void)t;
	snprintf(msg, sizeof msg, "no answer within %lld ms: connection dropped",
	    (long long)(p->statement_ms + PG_ANSWER_GRACE_MS));
	pg_fail(p, msg);
}

static void
pg_send_next(struct pg *p)
{
	struct pg_item *it;
	int rc;

	while (p->state == PG_STATE_READY && !p->sent && (it = p->head) != NULL) {
		if (PQsendQueryParams(p->conn, it->sql, it->n, NULL,
		    (const char *const *)it->params, NULL, NULL, 0) == 1) {
			p->sent = 1;
			break;
		}
		if (PQstatus(p->conn) == CONNECTION_BAD) {
			pg_fail(p, PQerrorMessage(p->conn));
			return;
		}
		/* this query alone is refused: answer it, go on */
		p->head = it->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->n_items--;
		pg_deliver(it, NULL, PQerrorMessage(p->conn));
		pg_item_free(it);
	}
	if (!p->sent)
		return;
	loop_timer_start(p->answer_timer, (uint64_t)(p->statement_ms + PG_ANSWER_GRACE_MS), 0);
	rc = PQflush(p->conn);
	if (rc < 0)
		pg_fail(p, PQerrorMessage(p->conn));
	else if (pg_watch(p, rc == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE) != 0)
		pg_fail(p, "cannot watch the connection's socket");
}

/* Hand every NOTIFY received to the owner (pg_set_notify), or drop it. */
static void
pg_drain_notifies(struct pg *p)
{
	PGnotify *n;

	while (p->conn != NULL && (n = PQnotifies(p->conn)) != NULL) {
		if (p->notify_fn != NULL)
			p->notify_fn(n->relname, n->extra != NULL ? n->extra : "", p->notify_ud);
		PQfreemem(n);
	}
}

/* Read what the server sent; answer the head query when complete. */
static void
pg_read(struct pg *p)
{
	PGresult *res;
	struct pg_item *it;

	if (!PQconsumeInput(p->conn)) {
		pg_fail(p, PQerrorMessage(p->conn));
		return;
	}
	pg_drain_notifies(p);
	while (p->sent && !PQisBusy(p->conn)) {
		res = PQgetResult(p->conn);
		if (res != NULL) {
			/* one statement, one result; keep an error over a success */
			if (p->acc == NULL) {
				p->acc = res;
			} else if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
				PQclear(p->acc);
				p->acc = res;
			} else {
				PQclear(res);
			}
			continue;
		}
		it = p->head;
		p->head = it->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->n_items--;
		p->sent = 0;
		loop_timer_stop(p->answer_timer);
		res = p->acc;
		p->acc = NULL;
		pg_deliver(it, res, "the server sent no result");
		pg_item_free(it);
		if (res != NULL)
			PQclear(res);
		if (p->conn == NULL)
			return;
		pg_send_next(p);
		if (p->conn == NULL)
			return;
	}
	if (PQstatus(p->conn) == CONNECTION_BAD)
		pg_fail(p, PQerrorMessage(p->conn));
}

static void
pg_on_poll(uv_poll_t *h, int status, int events)
{
	struct pg *p = h->data;
	int rc;

	if (p == NULL)
		return;
	if (status < 0 && p->state == PG_STATE_READY) {
		/* an error on the socket: let libpq tell what it was */
		events = UV_READABLE;
	}
	if (p->state == PG_STATE_CONNECTING) {
		pg_connect_step(p);
		return;
	}
	if (p->state != PG_STATE_READY || p->conn == NULL)
		return;
	if (events & UV_WRITABLE) {
		rc = PQflush(p->conn);
		if (rc < 0) {
			pg_fail(p, PQerrorMessage(p->conn));
			return;
		}
		if (rc == 0 && pg_watch(p, UV_READABLE) != 0) {
			pg_fail(p, "cannot watch the connection's socket");
			return;
		}
	}
	if (events & UV_READABLE)
		pg_read(p);
	/* libuv stops a poll that reported an error: watch again if still up */
	if (status < 0 && p->state == PG_STATE_READY && p->conn != NULL &&
	    pg_watch(p, p->sent ? UV_READABLE | UV_WRITABLE : UV_READABLE) != 0)
		pg_fail(p, "cannot watch the connection's socket");
}

/* ---- public ------------------------------------------------------------------- */

struct pg *
pg_new(uv_loop_t *loop, const struct pg_opts *o, pg_state_fn *state_fn, void *ud)
{
	struct pg *p = xcalloc(1, sizeof *p);
	struct err e;

	p->loop = loop;
	p->conninfo = xstrdup(o->conninfo != NULL ? o->conninfo : "");
	p->host = o->host != NULL ? xstrdup(o->host) : NULL;
	p->port = o->port != NULL ? xstrdup(o->port) : NULL;
	p->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : PG_DEFAULT_CONNECT_MS;
	p->statement_ms = o->statement_timeout_ms > 0 ? o->statement_timeout_ms :
	    PG_DEFAULT_STATEMENT_MS;
	p->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : PG_DEFAULT_RETRY_MAX_MS;
	p->read_write = o->read_write;
	p->backoff_ms = PG_RETRY_FIRST_MS;
	p->state_fn = state_fn;
	p->ud = ud;
	p->poll_fd = -1;
	if (pg_describe(p->conninfo, p->host, p->port, p->target, sizeof p->target, &e) != 0)
		util_strlcpy(p->target, "?", sizeof p->target);
	p->connect_timer = loop_timer_new(loop, pg_connect_timeout_cb, p);
	p->answer_timer = loop_timer_new(loop, pg_answer_timeout_cb, p);
	p->retry_timer = loop_timer_new(loop, pg_retry_cb, p);
	p->defer_timer = loop_timer_new(loop, pg_defer_cb, p);
	return p;
}

void
pg_start(struct pg *p)
{
	if (p != NULL && p->state == PG_STATE_IDLE)
		pg_connect(p);
}

static void
pg_items_free(struct pg_item *it)
{
	while (it != NULL) {
		struct pg_item *next = it->next;

		pg_item_free(it);
		it = next;
	}
}

void
pg_free(struct pg **pp)
{
	struct pg *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	*pp = NULL;
	pg_unwatch(p);
	loop_timer_free(&p->connect_timer);
	loop_timer_free(&p->answer_timer);
	loop_timer_free(&p->retry_timer);
	loop_timer_free(&p->defer_timer);
	if (p->acc != NULL)
		PQclear(p->acc);
	if (p->conn != NULL)
		PQfinish(p->conn);
	pg_items_free(p->head);
	pg_items_free(p->failed);
	memset(p->conninfo, 0, strlen(p->conninfo));
	free(p->conninfo);
	free(p->host);
	free(p->port);
	free(p);
}

void
pg_query(struct pg *p, const char *sql, int n, const char *const *params,
    pg_done_fn *done, void *ud)
{
	struct pg_item *it = xcalloc(1, sizeof *it);

	it->sql = xstrdup(sql);
	it->n = n;
	it->params = xcalloc(n > 0 ? (size_t)n : 1, sizeof *it->params);
	for (int i = 0; i < n; i++)
		it->params[i] = params[i] != NULL ? xstrdup(params[i]) : NULL;
	it->done = done;
	it->ud = ud;
	p->n_items++;
	if (p->state != PG_STATE_READY) {
		snprintf(it->error, sizeof it->error, "not connected%s%.200s",
		    p->error[0] != '\0' ? ": " : "", p->error);
		if (p->failed_tail != NULL)
			p->failed_tail->next = it;
		else
			p->failed = it;
		p->failed_tail = it;
		loop_timer_start(p->defer_timer, 0, 0);
		return;
	}
	if (p->tail != NULL)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	pg_send_next(p);
}

enum pg_state
pg_state(const struct pg *p)
{
	return p != NULL ? p->state : PG_STATE_IDLE;
}

const char *
pg_error(const struct pg *p)
{
	return p != NULL ? p->error : "";
}

const char *
pg_target(const struct pg *p)
{
	return p != NULL ? p->target : "";
}

size_t
pg_pending(const struct pg *p)
{
	return p != NULL ? p->n_items : 0;
}

/* "user@host:port/db" of CONNINFO, with HOST_OVR / PORT_OVR (may be NULL)
 * in place of its own. */
static int
pg_describe(const char *conninfo, const char *host_ovr, const char *port_ovr, char *buf,
    size_t len, struct err *e)
{
	PQconninfoOption *opts, *o;
	const char *user = NULL, *host = NULL, *hostaddr = NULL, *port = NULL, *db = NULL;
	char *msg = NULL;

	opts = PQconninfoParse(conninfo != NULL ? conninfo : "", &msg);
	if (opts == NULL) {
		char one[256];

		pg_one_line(one, sizeof one, msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return err_set(e, ERR_PARSE, "not a PostgreSQL connection string: %s", one);
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	if (host_ovr != NULL) {
		host = host_ovr;
		hostaddr = NULL;
	}
	if (port_ovr != NULL)
		port = port_ovr;
	snprintf(buf, len, "%s%s%s:%s/%s", user != NULL ? user : "",
	    user != NULL ? "@" : "", host != NULL ? host : hostaddr != NULL ? hostaddr :
	    "localhost", port != NULL ? port : "5432", db != NULL ? db :
	    user != NULL ? user : "");
	PQconninfoFree(opts);
	return 0;
}

int
pg_conninfo_target(const char *conninfo, char *buf, size_t len, struct err *e)
{
	return pg_describe(conninfo, NULL, NULL, buf, len, e);
}

const char *
pg_rows_get(const struct pg_rows *r, int row, int col)
{
	if (r == NULL || r->cells == NULL || row < 0 || col < 0 || row >= r->nrows ||
	    col >= r->ncols)
		return NULL;
	return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

const char *
pg_state_name(enum pg_state st)
{
	switch (st) {
	case PG_STATE_IDLE: return "idle";
	case PG_STATE_CONNECTING: return "connecting";
	case PG_STATE_READY: return "ready";
	case PG_STATE_DOWN: return "down";
	}
	return "?";
}

void
pg_set_notify(struct pg *p, pg_notify_fn *fn, void *ud)
{
	p->notify_fn = fn;
	p->notify_ud = ud;
}
