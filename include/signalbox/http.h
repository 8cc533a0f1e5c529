/* http.h - asynchronous HTTP(S) on the shared loop.
 *
 * One struct http is one curl multi handle driven by libuv (multi-socket
 * API: a uv_poll_t per socket and one uv_timer_t).  Connections are reused
 * across requests to the same host.  Nothing here ever blocks the loop.
 * Only src/net/http.c includes curl.
 */
#ifndef SIGNALBOX_HTTP_H
#define SIGNALBOX_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct http;
struct http_call;

struct http_req {
	const char *url;
	const char *method;		/* NULL = GET (POST if body set) */
	const char *body;		/* request body or NULL */
	size_t body_len;
	const char *const *headers;	/* "Name: value" strings, NULL-terminated, or NULL */
	long timeout_ms;		/* whole transfer; 0 = 30 s */
	long connect_timeout_ms;	/* 0 = timeout_ms */
	const char *ca_file;		/* extra CA bundle or NULL */
	size_t max_body;		/* bytes kept of the body; 0 = 1 MiB; more is dropped, flagged */
	int want_cert;			/* fill cert_* for https */
};

struct http_resp {
	int ok;			/* transfer completed (any HTTP status) */
	int status;		/* HTTP status, 0 when the transfer failed */
	char error[256];	/* transfer error in words when !ok */
	const char *body;	/* NUL-terminated, body_len bytes (may hold NULs) */
	size_t body_len;
	int body_truncated;	/* the server sent more than max_body */
	const char *headers;	/* the final response's header block, "\r\n" separated */
	size_t headers_len;
	double t_dns_ms, t_connect_ms, t_tls_ms, t_ttfb_ms, t_total_ms;	/* phase durations */
	int64_t cert_expire;	/* epoch s of the leaf certificate's notAfter, 0 = n/a */
	char cert_issuer[256];	/* leaf issuer, "" = n/a */
	char cert_subject[256];
};

/* Called once per request unless cancelled.  RESP and everything it points
 * to are valid only during the callback; copy what you keep. */
typedef void http_done_fn(const struct http_resp *resp, void *ud);

/* Create a client on LOOP; NULL and E on failure.  libcurl itself starts with
 * the first request (a failure there is that request's error). */
struct http *http_new(uv_loop_t *loop, struct err *e);

/* Cancel every request (their callbacks are not called) and free *HP.  The
 * loop must still run afterwards so the handles can close. */
void http_free(struct http **hp);

/* Start REQ; DONE(resp, UD) runs later from the loop, never from inside
 * this call.  The request's strings are copied.  Returns a handle valid
 * until DONE runs or http_cancel is called. */
struct http_call *http_request(struct http *h, const struct http_req *req,
    http_done_fn *done, void *ud);

/* Abort C; its callback will not run. */
void http_cancel(struct http_call *c);

/* Requests in flight. */
size_t http_pending(const struct http *h);

/* Find header NAME (case-insensitive) in a header block; copies its value
 * (trimmed) into BUF and returns 1, or 0 when absent. */
int http_header_get(const char *headers, size_t len, const char *name,
    char *buf, size_t buflen);

#endif
