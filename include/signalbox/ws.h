/* ws.h - WebSocket client connections on the shared loop.
 *
 * libwebsockets runs on our libuv loop (LWS_SERVER_OPTION_LIBUV with a
 * foreign loop).  Only src/net/ws.c includes libwebsockets.  Teardown takes
 * two steps (see PITFALLS): ws_ctx_shutdown inside the running loop, then
 * ws_ctx_free after uv_run has returned.
 */
#ifndef SIGNALBOX_WS_H
#define SIGNALBOX_WS_H

#include <stddef.h>
#include <uv.h>

#include "signalbox/err.h"

struct ws_ctx;
struct ws_conn;

struct ws_opts {
	const char *url;		/* ws:// or wss:// (IP literal hosts avoid blocking DNS) */
	const char *subprotocol;	/* required subprotocol or NULL */
	const char *ca_file;		/* extra CA bundle or NULL */
	const char *const *headers;	/* extra "Name: value" headers or NULL */
	long connect_timeout_ms;	/* 0 = 10 s */
};

/* Callbacks; DATA is valid only during the call.  Exactly one of on_close
 * or on_error ends a connection; after it the conn is freed and must not be
 * used. */
struct ws_cbs {
	void (*on_open)(struct ws_conn *c, void *ud);
	void (*on_message)(struct ws_conn *c, const char *data, size_t len, int binary,
	    void *ud);
	void (*on_close)(struct ws_conn *c, int code, const char *reason, void *ud);
	void (*on_error)(struct ws_conn *c, const char *msg, void *ud);
};

/* Create the lws context on LOOP.  NULL and E on failure (e.g. the evlib
 * plugin is missing: E says which package to install). */
struct ws_ctx *ws_ctx_new(uv_loop_t *loop, struct err *e);

/* Close every connection (no callbacks) and start the context's
 * asynchronous destruction; call from inside the running loop. */
void ws_ctx_shutdown(struct ws_ctx *ctx);

/* Finish destruction after uv_run has returned; NULL-safe, NULLs *CTXP. */
void ws_ctx_free(struct ws_ctx **ctxp);

/* Open a connection.  Callbacks run later from the loop.  NULL and E when
 * the URL is malformed. */
struct ws_conn *ws_connect(struct ws_ctx *ctx, const struct ws_opts *opts,
    const struct ws_cbs *cbs, void *ud, struct err *e);

/* Queue a text message (copied).  -1 when the connection is not open. */
int ws_send_text(struct ws_conn *c, const char *data, size_t len);

/* Start a clean close with CODE and REASON; on_close follows.  Calling it
 * on a connection that is still connecting aborts it silently (no
 * callback). */
void ws_close(struct ws_conn *c, int code, const char *reason);

/* Like ws_close, but no callback ever comes for C again: the connection
 * closes cleanly (or is aborted) and frees itself, also when the context
 * shuts down first.  The caller may free its user data at once. */
void ws_abandon(struct ws_conn *c, int code, const char *reason);

#endif
