/* ws.c - WebSocket clients: libwebsockets on our libuv loop.
 *
 * The lws context runs on the shared loop (LWS_SERVER_OPTION_LIBUV with a
 * foreign loop; needs the evlib_uv plugin from libwebsockets-evlib-uv).  The
 * facts this file relies on are in PITFALLS: the close recipe (close reason,
 * then PENDING_TIMEOUT_USER_OK with LWS_TO_KILL_SYNC, return 0, guard against
 * the extra WRITEABLE), the unchecked subprotocol, and the two-step destroy.
 *
 * A struct ws_conn outlives its wsi: the wsi points at it through lws'
 * opaque user data until the connection ends, then we detach it (so late
 * lws callbacks see NULL) and free the conn when its uv timer has closed.
 * User callbacks may call ws_send_text, ws_close and ws_connect;
 * ws_ctx_shutdown from inside one is deferred to a 0 ms timer.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>
#include <libwebsockets.h>

#include "signalbox/diag.h"
#include "signalbox/ws.h"
#include "signalbox/xalloc.h"

enum {
	WS_DEFAULT_CONNECT_TIMEOUT_MS = 10000,
	WS_MAX_MESSAGE = 4 * 1024 * 1024,	/* reassembled message cap */
};

static const char WS_PROTOCOL_NAME[] = "signalbox-ws";

enum ws_state {
	WS_CONNECTING,
	WS_OPEN,
	WS_CLOSING,	/* ws_close called: flush the queue, then close */
	WS_ENDED,	/* reported (or silenced); waiting for the timer to close */
};

struct ws_vhost {
	struct ws_vhost *next;
	char *ca_file;
	struct lws_vhost *vh;
};

struct ws_ctx {
	uv_loop_t *loop;
	struct lws_context *lws;
	struct lws_vhost *vh_plain;	/* ws://: no client TLS at all */
	struct lws_vhost *vh_tls;	/* wss:// with the system CAs, on first use */
	struct ws_vhost *vhosts;	/* wss:// per distinct ca_file, on first use */
	int nvhosts;
	struct ws_conn *conns;
	uv_timer_t defer;		/* deferred shutdown */
	int in_callback;		/* nesting of lws callbacks */
	int shut;			/* ws_ctx_shutdown was called */
	int destroyed;			/* first lws_context_destroy done */
	void *foreign_loops[1];
};

struct ws_msg {
	struct ws_msg *next;
	size_t len;
	unsigned char data[];	/* LWS_PRE bytes of room, then the payload */
};

struct ws_conn {
	struct ws_ctx *ctx;
	struct ws_conn *prev, *next;
	struct lws *wsi;
	struct ws_cbs cbs;
	void *ud;
	enum ws_state state;
	uv_timer_t timer;	/* connect timeout; 0 ms for deferred errors */
	int in_connect;		/* inside lws_client_connect_via_info */
	int released;		/* unlinked; the timer is closing */

	char *url;
	char *host;		/* address lws connects to */
	char *host_header;	/* "host[:port]" */
	char *path;
	int port, tls;
	char *subprotocol;
	char **headers;
	long connect_timeout_ms;
	char error[256];	/* why the connection failed, when known */

	struct ws_msg *q_head, **q_tail;

	char *rx;
	size_t rx_len, rx_cap;
	int rx_active, rx_binary;

	int close_code;
	char close_reason[124];	/* a close frame holds at most 123 bytes */
	int close_sent;
	int peer_code;
	char peer_reason[124];
};

static void ctx_destroy_first(struct ws_ctx *ctx);
static void on_conn_timer(uv_timer_t *t);

/* ---- logging -------------------------------------------------------------- */

/* lws 4.1.6 reports a failed certificate check to the connection only as
 * "connect SSL err 1: error:00000001:lib(0)::reason(1)"; the reason in
 * words ("self-signed certificate") appears just before in its error log,
 * from the same call stack.  Keep it for the connection error. */
static char tls_reason[160];
static struct timespec tls_reason_at;

static void
ws_log_emit(int level, const char *line)
{
	static const char tag[] = "SSL error: ";
	size_t len = strlen(line);
	const char *p;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	diag_log(level & LLL_ERR ? DIAG_ERROR : DIAG_WARN, "lws: %.*s", (int)len, line);
	if ((p = strstr(line, tag)) != NULL) {
		p += sizeof tag - 1;
		snprintf(tls_reason, sizeof tls_reason, "%.*s", (int)strcspn(p, "(\r\n"), p);
		len = strlen(tls_reason);
		while (len > 0 && tls_reason[len - 1] == ' ')
			tls_reason[--len] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &tls_reason_at);
	}
}

/* The certificate problem lws logged a moment ago, or NULL. */
static const char *
take_tls_reason(void)
{
	struct timespec now;
	long ms;

	if (tls_reason[0] == '\0')
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - tls_reason_at.tv_sec) * 1000 +
	    (now.tv_nsec - tls_reason_at.tv_nsec) / 1000000;
	return ms <= 100 ? tls_reason : NULL;
}

/* ---- URL -------------------------------------------------------------------- */

/* Split a ws:// or wss:// URL into C's host, port, path and Host header. */
static int
parse_url(struct ws_conn *c, const char *url, struct err *e)
{
	const char *p = url, *h, *hend, *rest;
	size_t hlen;
	long port;

	if (strncasecmp(p, "ws://", 5) == 0) {
		c->tls = 0;
		c->port = 80;
		p += 5;
	} else if (strncasecmp(p, "wss://", 6) == 0) {
		c->tls = 1;
		c->port = 443;
		p += 6;
	} else
		return err_set(e, ERR_INVALID, "%s: not a ws:// or wss:// URL", url);

	if (*p == '[') {
		h = p + 1;
		if ((hend = strchr(h, ']')) == NULL)
			return err_set(e, ERR_INVALID, "%s: unterminated IPv6 address", url);
		rest = hend + 1;
	} else {
		h = p;
		hend = h + strcspn(h, ":/?#");
		rest = hend;
	}
	hlen = (size_t)(hend - h);
	if (hlen == 0 || memchr(h, '@', hlen) != NULL || memchr(h, ' ', hlen) != NULL)
		return err_set(e, ERR_INVALID, "%s: missing or invalid host", url);
	if (*rest == ':') {
		char *end;

		port = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '/' && *end != '?' && *end != '#'))
			return err_set(e, ERR_INVALID, "%s: invalid port", url);
		c->port = (int)port;
		rest = end;
	} else if (*rest != '\0' && *rest != '/' && *rest != '?' && *rest != '#')
		return err_set(e, ERR_INVALID, "%s: invalid host", url);

	c->host = xstrndup(h, hlen);
	if (c->port == (c->tls ? 443 : 80))
		c->host_header = *p == '[' ? xasprintf("[%s]", c->host) : xstrdup(c->host);
	else
		c->host_header = *p == '[' ? xasprintf("[%s]:%d", c->host, c->port) :
		    xasprintf("%s:%d", c->host, c->port);
	hlen = strcspn(rest, "#");
	if (hlen == 0)
		c->path = xstrdup("/");
	else if (*rest == '/')
		c->path = xstrndup(rest, hlen);
	else
		c->path = xasprintf("/%.*s", (int)hlen, rest);
	return 0;
}

/* ---- connection lifecycle --------------------------------------------------- */

static void
conn_closed(uv_handle_t *handle)
{
	struct ws_conn *c = handle->data;

	while (c->q_head != NULL) {
		struct ws_msg *m = c->q_head;

		c->q_head = m->next;
		free(m);
	}
	for (char **hp = c->headers; hp != NULL && *hp != NULL; hp++)
		free(*hp);
	free(c->headers);
	free(c->url);
	free(c->host);
	free(c->host_header);
	free(c->path);
	free(c->subprotocol);
	free(c->rx);
	free(c);
}

/* Forget C: unlink it, cut it off its wsi (late lws callbacks find NULL)
 * and free it once its timer has closed.  No callback runs. */
static void
conn_release(struct ws_conn *c)
{
	struct ws_ctx *ctx = c->ctx;

	if (c->released)
		return;
	c->released = 1;
	c->state = WS_ENDED;
	if (c->wsi != NULL) {
		lws_set_opaque_user_data(c->wsi, NULL);
		c->wsi = NULL;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (ctx->conns == c)
		ctx->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

/* End C with on_error(MSG) and free it. */
static void
conn_fail(struct ws_conn *c, const char *msg)
{
	struct ws_cbs cbs = c->cbs;
	void *ud = c->ud;

	if (c->state == WS_ENDED)
		return;
	conn_release(c);
	if (cbs.on_error != NULL)
		cbs.on_error(c, msg, ud);
}

/* End C with on_close(CODE, REASON) and free it. */
static void
conn_end_closed(struct ws_conn *c, int code, const char *reason)
{
	struct ws_cbs cbs = c->cbs;
	void *ud = c->ud;

	if (c->state == WS_ENDED)
		return;
	conn_release(c);
	if (cbs.on_close != NULL)
		cbs.on_close(c, code, reason, ud);
}

/* The connection failed while lws_client_connect_via_info was running or
 * before the loop got control: report it from a 0 ms timer. */
static void
conn_fail_later(struct ws_conn *c, const char *msg)
{
	if (c->error[0] == '\0')
		snprintf(c->error, sizeof c->error, "%s", msg);
	if (c->wsi != NULL) {
		lws_set_opaque_user_data(c->wsi, NULL);
		c->wsi = NULL;
	}
	uv_timer_start(&c->timer, on_conn_timer, 0, 0);
}

static void
on_conn_timer(uv_timer_t *t)
{
	struct ws_conn *c = t->data;
	struct lws *wsi = c->wsi;
	char msg[300];

	if (c->state != WS_CONNECTING)
		return;
	if (wsi == NULL) {	/* a deferred failure */
		conn_fail(c, c->error[0] != '\0' ? c->error : "connection failed");
		return;
	}
	snprintf(msg, sizeof msg, "%s: connection timed out after %ld ms", c->url,
	    c->connect_timeout_ms);
	conn_fail(c, msg);	/* detaches the wsi */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

/* ---- the lws protocol callback ---------------------------------------------- */

static int
append_headers(struct ws_conn *c, unsigned char **p, unsigned char *end)
{
	for (char **hp = c->headers; hp != NULL && *hp != NULL; hp++) {
		size_t n = strlen(*hp);

		if (n + 2 > (size_t)(end - *p)) {
			snprintf(c->error, sizeof c->error,
			    "%s: extra headers do not fit the handshake", c->url);
			return -1;
		}
		memcpy(*p, *hp, n);
		*p += n;
		*(*p)++ = '\r';
		*(*p)++ = '\n';
	}
	return 0;
}

static int
check_subprotocol(struct ws_conn *c, struct lws *wsi)
{
	char got[128];
	int n;

	if (c->subprotocol == NULL)
		return 0;
	n = lws_hdr_copy(wsi, got, sizeof got, WSI_TOKEN_PROTOCOL);
	if (n > 0 && strcmp(got, c->subprotocol) == 0)
		return 0;
	snprintf(c->error, sizeof c->error,
	    "%s: the server did not accept subprotocol '%s'%s%s%s", c->url,
	    c->subprotocol, n > 0 ? " (it chose '" : "", n > 0 ? got : "",
	    n > 0 ? "')" : "");
	return -1;
}

static int
on_receive(struct ws_conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (c->state != WS_OPEN)
		return 0;	/* ws_close was called: nothing more is delivered */
	if (!c->rx_active) {
		c->rx_active = 1;
		c->rx_len = 0;
		c->rx_binary = lws_frame_is_binary(wsi);
	}
	if (c->rx_len + len > WS_MAX_MESSAGE) {
		char msg[300];

		snprintf(msg, sizeof msg, "%s: message larger than %d MiB", c->url,
		    WS_MAX_MESSAGE / (1024 * 1024));
		/* Returning -1 from RECEIVE makes lws 4.1.6 overrun its rx
		 * buffer with the rest of the frame (valgrind): detach, ask
		 * for an asynchronous kill and return 0. */
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    (unsigned char *)"message too big", 15);
		conn_fail(c, msg);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return 0;
	}
	if (c->rx_cap < c->rx_len + len + 1) {
		size_t ncap = c->rx_cap ? c->rx_cap : 4096;

		while (ncap < c->rx_len + len + 1)
			ncap *= 2;
		c->rx = xreallocarray(c->rx, ncap, 1);
		c->rx_cap = ncap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	c->rx[c->rx_len] = '\0';
	if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
		c->rx_active = 0;
		if (c->cbs.on_message != NULL)
			c->cbs.on_message(c, c->rx, c->rx_len, c->rx_binary, c->ud);
	}
	return 0;
}

static int
on_writeable(struct ws_conn *c, struct lws *wsi)
{
	struct ws_msg *m;

	if (c->close_sent)	/* lws calls us once more after the close */
		return 0;
	if ((m = c->q_head) != NULL) {
		if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len) {
			char msg[300];

			snprintf(msg, sizeof msg, "%s: write failed", c->url);
			conn_fail(c, msg);
			return -1;
		}
		if ((c->q_head = m->next) == NULL)
			c->q_tail = &c->q_head;
		free(m);
		if (c->q_head != NULL || c->state == WS_CLOSING)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (c->state == WS_CLOSING) {
		c->close_sent = 1;
		lws_close_reason(wsi, (enum lws_close_status)c->close_code,
		    (unsigned char *)c->close_reason, strlen(c->close_reason));
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	}
	return 0;
}

static void
on_peer_close(struct ws_conn *c, const unsigned char *in, size_t len)
{
	if (len >= 2) {
		size_t rlen = len - 2;

		c->peer_code = in[0] << 8 | in[1];
		if (rlen >= sizeof c->peer_reason)
			rlen = sizeof c->peer_reason - 1;
		memcpy(c->peer_reason, in + 2, rlen);
		c->peer_reason[rlen] = '\0';
	} else
		c->peer_code = 1005;	/* no status received */
}

/* The wsi is gone: tell the user how the connection ended. */
static void
on_gone(struct ws_conn *c, struct lws *wsi, const char *why)
{
	char msg[300];

	lws_set_opaque_user_data(wsi, NULL);
	if (c->wsi == wsi)
		c->wsi = NULL;
	if (c->state == WS_OPEN || c->state == WS_CLOSING) {
		if (c->peer_code != 0)
			conn_end_closed(c, c->peer_code, c->peer_reason);
		else if (c->close_sent)
			conn_end_closed(c, c->close_code, c->close_reason);
		else
			conn_end_closed(c, 1006, "connection closed without a close frame");
		return;
	}
	if (c->error[0] != '\0')
		snprintf(msg, sizeof msg, "%s", c->error);
	else
		snprintf(msg, sizeof msg, "%s: %s", c->url, why);
	if (c->in_connect)
		conn_fail_later(c, msg);
	else
		conn_fail(c, msg);
}

/* lws says "closed before established" for a refused connection and
 * "connect SSL err 1: ..." for an untrusted certificate: find words a user
 * can act on. */
static void
on_connection_error(struct ws_conn *c, struct lws *wsi, const char *in)
{
	char why[256];
	const char *tls;
	int fd = (int)lws_get_socket_fd(wsi), soerr = 0;
	socklen_t slen = sizeof soerr;

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 &&
	    soerr != 0)
		snprintf(why, sizeof why, "%s", strerror(soerr));
	else if (c->tls && in != NULL && strncmp(in, "connect SSL err", 15) == 0 &&
	    (tls = take_tls_reason()) != NULL)
		snprintf(why, sizeof why, "SSL certificate problem: %s", tls);
	else
		snprintf(why, sizeof why, "%s", in != NULL ? in : "connection failed");
	tls_reason[0] = '\0';
	on_gone(c, wsi, why);
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct ws_conn *c = wsi != NULL ? lws_get_opaque_user_data(wsi) : NULL;
	struct ws_ctx *ctx;
	int rc = 0;

	(void)user;
	if (c == NULL || c->state == WS_ENDED)
		return 0;
	ctx = c->ctx;
	ctx->in_callback++;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		rc = append_headers(c, (unsigned char **)in, *(unsigned char **)in + len);
		break;
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		rc = check_subprotocol(c, wsi);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		uv_timer_stop(&c->timer);
		c->state = WS_OPEN;
		if (c->cbs.on_open != NULL)
			c->cbs.on_open(c, c->ud);
		if (c->state != WS_ENDED && c->q_head != NULL)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		rc = on_receive(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		rc = on_writeable(c, wsi);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(c, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_connection_error(c, wsi, in);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_gone(c, wsi, "connection closed");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		on_gone(c, wsi, "connection closed");
		break;
	default:
		break;
	}
	ctx->in_callback--;
	return rc;
}

static const struct lws_protocols ws_protocols[] = {
	{ WS_PROTOCOL_NAME, ws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ---- context ---------------------------------------------------------------- */

static void
vhost_info(struct ws_ctx *ctx, struct lws_context_creation_info *info)
{
	memset(info, 0, sizeof *info);
	info->options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
	    LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info->port = CONTEXT_PORT_NO_LISTEN;
	info->protocols = ws_protocols;
	info->foreign_loops = ctx->foreign_loops;
	info->user = ctx;
	info->gid = -1;
	info->uid = -1;
}

struct ws_ctx *
ws_ctx_new(uv_loop_t *loop, struct err *e)
{
	struct ws_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR | LLL_WARN, ws_log_emit);
	ctx->loop = loop;
	ctx->foreign_loops[0] = loop;
	vhost_info(ctx, &info);
	if ((ctx->lws = lws_create_context(&info)) == NULL) {
		free(ctx);
		err_set(e, ERR_INTERNAL, "cannot create the WebSocket context (is "
		    "the libuv plugin installed? apt-get install libwebsockets-evlib-uv)");
		return NULL;
	}
	/* ws:// needs no client TLS context: a TLS vhost reads every system
	 * CA certificate (about 240 M instructions, most of the console's
	 * start-up), so those are made by vhost_for on the first wss://. */
	info.vhost_name = "plain";
	info.options &= ~(uint64_t)LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	if ((ctx->vh_plain = lws_create_vhost(ctx->lws, &info)) == NULL) {
		err_set(e, ERR_INTERNAL, "cannot create the WebSocket client vhost");
		ctx->shut = 1;
		ctx_destroy_first(ctx);
		/* The second destroy needs the loop to have run; the loop
		 * belongs to the caller, so we leak rather than crash. */
		diag_log(DIAG_ERROR, "ws: leaking a half-created lws context");
		return NULL;
	}
	uv_timer_init(loop, &ctx->defer);
	ctx->defer.data = ctx;
	return ctx;
}

/* The vhost for a connection: the plain one for ws://; for wss:// the one
 * whose client TLS trusts the system CAs (and CA_FILE when given), created
 * on first use. */
static struct lws_vhost *
vhost_for(struct ws_ctx *ctx, int tls, const char *ca_file)
{
	struct lws_context_creation_info info;
	struct ws_vhost *v;
	char name[32];

	if (!tls)
		return ctx->vh_plain;
	if (ca_file == NULL) {
		if (ctx->vh_tls == NULL) {
			vhost_info(ctx, &info);
			info.vhost_name = "tls";
			ctx->vh_tls = lws_create_vhost(ctx->lws, &info);
		}
		return ctx->vh_tls;
	}
	for (v = ctx->vhosts; v != NULL; v = v->next)
		if (strcmp(v->ca_file, ca_file) == 0)
			return v->vh;
	vhost_info(ctx, &info);
	snprintf(name, sizeof name, "ca-%d", ++ctx->nvhosts);
	info.vhost_name = name;
	info.client_ssl_ca_filepath = ca_file;
	v = xcalloc(1, sizeof *v);
	v->ca_file = xstrdup(ca_file);
	v->vh = lws_create_vhost(ctx->lws, &info);
	v->next = ctx->vhosts;
	ctx->vhosts = v;
	return v->vh;
}

static void
ctx_destroy_first(struct ws_ctx *ctx)
{
	if (ctx->destroyed)
		return;
	ctx->destroyed = 1;
	lws_context_destroy(ctx->lws);
}

static void
on_defer(uv_timer_t *t)
{
	struct ws_ctx *ctx = t->data;

	if (ctx->shut && !ctx->destroyed && ctx->in_callback == 0) {
		uv_close((uv_handle_t *)&ctx->defer, NULL);
		ctx_destroy_first(ctx);
	}
}

void
ws_ctx_shutdown(struct ws_ctx *ctx)
{
	if (ctx == NULL || ctx->shut)
		return;
	ctx->shut = 1;
	while (ctx->conns != NULL)
		conn_release(ctx->conns);	/* silently; lws closes the wsis */
	if (ctx->in_callback > 0) {
		/* Never destroy the context under lws' own feet. */
		uv_timer_start(&ctx->defer, on_defer, 0, 0);
		return;
	}
	uv_close((uv_handle_t *)&ctx->defer, NULL);
	ctx_destroy_first(ctx);
}

void
ws_ctx_free(struct ws_ctx **ctxp)
{
	struct ws_ctx *ctx;

	if (ctxp == NULL || (ctx = *ctxp) == NULL)
		return;
	*ctxp = NULL;
	if (!ctx->destroyed) {
		/* Without the loop running between the two destroys lws would
		 * use freed memory: leak instead, and say so. */
		diag_log(DIAG_ERROR, "ws: ws_ctx_free without a completed "
		    "ws_ctx_shutdown; leaking the lws context");
		return;
	}
	lws_context_destroy(ctx->lws);
	while (ctx->vhosts != NULL) {
		struct ws_vhost *v = ctx->vhosts;

		ctx->vhosts = v->next;
		free(v->ca_file);
		free(v);
	}
	free(ctx);
}

/* ---- connections ------------------------------------------------------------- */

struct ws_conn *
ws_connect(struct ws_ctx *ctx, const struct ws_opts *opts,
    const struct ws_cbs *cbs, void *ud, struct err *e)
{
	struct lws_client_connect_info ci;
	struct ws_conn *c;
	struct lws_vhost *vh;
	struct lws *wsi;
	size_t n = 0;

	if (opts->url == NULL)
		return err_set(e, ERR_INVALID, "no WebSocket URL given"), NULL;
	c = xcalloc(1, sizeof *c);
	if (parse_url(c, opts->url, e) != 0) {
		free(c->host);
		free(c->host_header);
		free(c->path);
		free(c);
		return NULL;
	}
	c->ctx = ctx;
	c->cbs = *cbs;
	c->ud = ud;
	c->url = xstrdup(opts->url);
	c->subprotocol = opts->subprotocol != NULL ? xstrdup(opts->subprotocol) : NULL;
	c->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms :
	    WS_DEFAULT_CONNECT_TIMEOUT_MS;
	c->q_tail = &c->q_head;
	for (const char *const *hp = opts->headers; hp != NULL && *hp != NULL; hp++)
		n++;
	c->headers = xcalloc(n + 1, sizeof *c->headers);
	for (size_t i = 0; i < n; i++)
		c->headers[i] = xstrdup(opts->headers[i]);
	uv_timer_init(ctx->loop, &c->timer);
	c->timer.data = c;
	c->next = ctx->conns;
	if (ctx->conns != NULL)
		ctx->conns->prev = c;
	ctx->conns = c;
	/* One callback serves the timeout and deferred failures. */
	uv_timer_start(&c->timer, on_conn_timer, (uint64_t)c->connect_timeout_ms, 0);

	if (ctx->shut) {
		conn_fail_later(c, "the WebSocket client is shutting down");
		return c;
	}
	/* lws would only log an unreadable CA file and then fail every
	 * handshake with a misleading reason. */
	if (opts->ca_file != NULL) {
		FILE *f = fopen(opts->ca_file, "r");
		char msg[512];

		if (f == NULL) {
			snprintf(msg, sizeof msg, "%s: cannot read CA file %s: %s", c->url,
			    opts->ca_file, strerror(errno));
			conn_fail_later(c, msg);
			return c;
		}
		fclose(f);
	}
	if ((vh = vhost_for(ctx, c->tls, opts->ca_file)) == NULL) {
		char msg[512];

		if (opts->ca_file != NULL)
			snprintf(msg, sizeof msg, "%s: cannot use CA file %s", c->url,
			    opts->ca_file);
		else
			snprintf(msg, sizeof msg, "%s: cannot set up TLS with the "
			    "system CA certificates", c->url);
		conn_fail_later(c, msg);
		return c;
	}

	memset(&ci, 0, sizeof ci);
	ci.context = ctx->lws;
	ci.vhost = vh;
	ci.address = c->host;
	ci.port = c->port;
	ci.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	ci.path = c->path;
	ci.host = c->host_header;
	ci.origin = c->host_header;
	ci.protocol = c->subprotocol;
	ci.local_protocol_name = WS_PROTOCOL_NAME;
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;

	c->in_connect = 1;
	ctx->in_callback++;
	wsi = lws_client_connect_via_info(&ci);
	ctx->in_callback--;
	c->in_connect = 0;
	if (c->state == WS_ENDED)	/* only when shut down from a callback */
		return c;
	if (wsi == NULL) {
		char msg[300];

		snprintf(msg, sizeof msg, "%s: cannot start the connection", c->url);
		conn_fail_later(c, msg);
	}
	return c;
}

int
ws_send_text(struct ws_conn *c, const char *data, size_t len)
{
	struct ws_msg *m;

	if (c == NULL || c->state != WS_OPEN || c->wsi == NULL)
		return -1;
	m = xmalloc(sizeof *m + LWS_PRE + len);
	m->next = NULL;
	m->len = len;
	memcpy(m->data + LWS_PRE, data, len);
	*c->q_tail = m;
	c->q_tail = &m->next;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void
ws_close(struct ws_conn *c, int code, const char *reason)
{
	if (c == NULL || c->state == WS_ENDED || c->state == WS_CLOSING)
		return;
	if (c->state == WS_CONNECTING) {
		struct lws *wsi = c->wsi;

		conn_release(c);	/* silently, as documented */
		if (wsi != NULL && c->ctx->in_callback == 0)
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
		else if (wsi != NULL)
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	c->state = WS_CLOSING;
	c->close_code = code > 0 ? code : LWS_CLOSE_STATUS_NORMAL;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

void
ws_abandon(struct ws_conn *c, int code, const char *reason)
{
	if (c == NULL)
		return;
	if (c->state != WS_CONNECTING)
		memset(&c->cbs, 0, sizeof c->cbs);	/* every call site checks */
	ws_close(c, code, reason);
}
