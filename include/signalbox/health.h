/* health.h - the health source: endpoint checks and their results.
 *
 * The source checks every configured endpoint on its interval through the
 * shared http client (or a WebSocket echo), keeps a latency window per
 * endpoint, and publishes STORE_TOPIC_HEALTH as a struct health_snap.
 *
 * Results are immutable once published and reference-counted, so a new
 * snapshot shares every unchanged endpoint with the previous one: with
 * 1,000 endpoints a publish costs 1,000 pointer copies, not deep copies.
 * Every string in a result is already sanitised for display.
 */
#ifndef SIGNALBOX_HEALTH_H
#define SIGNALBOX_HEALTH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct config;
struct config_endpoint;
struct store;
struct http;
struct ws_ctx;

enum health_state {
	HEALTH_UNKNOWN,		/* not checked yet */
	HEALTH_OK,
	HEALTH_DEGRADED,	/* answers, but something is wrong (component, TLS, slow) */
	HEALTH_DOWN,		/* no answer, or the wrong status */
};

enum health_level { HEALTH_LEVEL_OK, HEALTH_LEVEL_WARN, HEALTH_LEVEL_FAIL, HEALTH_LEVEL_NA };

/* One component of a JSON health body ("db": "ok"). */
struct health_component {
	char name[32];
	char status[32];
	int ok;
};

#define HEALTH_MAX_COMPONENTS 16

/* Security header checks, in display order. */
#define HEALTH_HEADER_INFO(_) \
	_(HSTS, "Strict-Transport-Security") \
	_(CSP, "Content-Security-Policy") \
	_(NOSNIFF, "X-Content-Type-Options") \
	_(FRAME, "X-Frame-Options") \
	_(REFERRER, "Referrer-Policy")

enum health_header {
#define HEALTH_HEADER_ENUM(id, name) HEALTH_HDR_##id,
	HEALTH_HEADER_INFO(HEALTH_HEADER_ENUM)
#undef HEALTH_HEADER_ENUM
	HEALTH_HDR_COUNT
};

struct health_header_check {
	enum health_level level;
	char value[160];	/* the header's value as received (sanitised), "" if absent */
	char why[160];		/* one line explaining the verdict */
};

/* The latest result for one endpoint.  Immutable once published. */
struct health_result {
	int refs;		/* owned by health.c: use health_result_ref/unref */
	/* from the config */
	char name[64];
	char url[256];
	char service[64];	/* the provider service it belongs to, "" = none */
	int is_ws;
	int expect;
	int64_t interval_ms;
	/* verdict */
	enum health_state state;
	char reason[160];	/* why it is not OK, "" when OK */
	int checking;		/* a check is in flight */
	int64_t last_check_ms;	/* wall ms of the last completed check, 0 = never */
	int64_t last_ok_ms;	/* wall ms of the last OK check, 0 = never */
	int64_t last_fail_ms;
	int consecutive_failures;
	int checks, failures;	/* since start */
	/* last response */
	int http_status;	/* 0 = no response */
	char error[256];	/* transport error text or "" */
	char version[64];	/* "version" from a JSON body, or "" */
	double latency_ms;	/* last total time (ws: round-trip), < 0 = none */
	double p50_ms, p95_ms;	/* over the window, < 0 = no samples */
	double t_dns_ms, t_connect_ms, t_tls_ms, t_ttfb_ms, t_total_ms;
	/* latency window, oldest first; failures are -1 */
	double *window;
	size_t n_window;
	/* /health body components */
	struct health_component comps[HEALTH_MAX_COMPONENTS];
	size_t n_comps;
	/* TLS */
	int has_tls;
	int tls_days_left;	/* valid when has_tls */
	enum health_level tls_level;
	char tls_issuer[128];
	/* security headers (strict mode only; level NA when off) */
	int headers_checked;
	struct health_header_check hdrs[HEALTH_HDR_COUNT];
	/* details for the detail view, sanitised and capped */
	char *resp_headers;	/* "Name: value\n" lines; NULL without a response */
	char *body_excerpt;	/* first 2 KiB of the body; NULL without a response */
};

/* What STORE_TOPIC_HEALTH holds: every endpoint, config order. */
struct health_snap {
	size_t n;
	struct health_result **eps;	/* each a counted reference */
	int64_t published_ms;
};

struct health;

/* Create the source for CFG's endpoints; publishes an all-UNKNOWN snapshot
 * at once.  WS may be NULL (websocket endpoints then report an error). */
struct health *health_new(uv_loop_t *loop, struct store *store, struct http *http,
    struct ws_ctx *ws, const struct config *cfg);

/* Start periodic checks (the first round starts immediately, spread over a
 * short jitter so 1,000 endpoints do not burst at once). */
void health_start(struct health *h);

/* Cancel checks in flight and close the source's timers (health_start may
 * start it again); the loop must run afterwards so the handles close.
 * Call it before http_free / ws_ctx_shutdown.  After it H holds no loop
 * handle, so health_free may come even after uv_loop_close.  WebSocket
 * checks that were already open close cleanly and free themselves when the
 * close completes; ws_ctx_shutdown in the same loop turn drops them silently
 * (their few bytes leak), so let the loop run a little in between. */
void health_stop(struct health *h);

/* Free *HP (after health_stop, or it stops H first); NULL-safe. */
void health_free(struct health **hp);

/* Check endpoint INDEX (or every endpoint when INDEX < 0) now. */
void health_check_now(struct health *h, int index);

/* Endpoint index by name, or -1. */
int health_find(const struct health *h, const char *name);

/* Whether a full round has completed (for `signalbox check`). */
int health_round_done(const struct health *h);

/* Worst state over all endpoints (OK < DEGRADED < DOWN; UNKNOWN counts as DOWN). */
enum health_state health_worst(const struct health_snap *snap);

void health_result_ref(struct health_result *r);
void health_result_unref(struct health_result *r);

/* "OK", "DEGRADED", "DOWN", "UNKNOWN". */
const char *health_state_name(enum health_state s);

/* --- pure helpers, exported for tests ----------------------------------- */

/* Decode a JSON health body.  Fills COMPS (up to MAX) with every string,
 * boolean or {status: ...} member other than "status"/"version" and
 * well-known metadata ("time", "uptime", "commit", ...), also inside a
 * "checks"/"components"/"details"/"dependencies" object, VERSION (may be
 * NULL) with "version", and returns: 1 when the body is JSON and every
 * component and the top-level status are healthy ("ok", "up", "pass",
 * "healthy", true), 0 when something fails, -1 when the body is not a JSON
 * object.  When MAX is reached, failing components displace healthy ones. */
int health_decode_body(const char *body, size_t len, struct health_component *comps,
    size_t max, size_t *n_comps, char *version, size_t version_len);

/* What one check observed, for health_classify. */
struct health_verdict_in {
	int responded;		/* an HTTP response arrived (ws: the echo came back) */
	int timed_out;		/* no answer within timeout_ms */
	int64_t timeout_ms;
	const char *error;	/* transport error when !responded, or NULL */
	int is_ws;		/* status/expect do not apply (101 = upgraded) */
	int status, expect;
	int body;		/* health_decode_body's result: 1, 0 or -1 */
	const char *body_status;	/* the body's top-level "status", or NULL */
	const struct health_component *comps;
	size_t n_comps;
	int has_tls;
	int tls_days_left;
	int tls_warn_days, tls_fail_days;
};

/* Classify one check: returns its state, sets *TLS_LEVEL (NA without TLS)
 * and fills REASON ("" when OK).  DOWN: no answer, wrong status, expired
 * certificate; DEGRADED: a failing component or fewer than tls_fail_days
 * left; fewer than tls_warn_days only raises the TLS level to WARN. */
enum health_state health_classify(const struct health_verdict_in *in,
    enum health_level *tls_level, char *reason, size_t reason_len);

/* Check the five security headers in a raw header block; fills OUT. */
void health_check_headers(const char *headers, size_t len,
    struct health_header_check out[HEALTH_HDR_COUNT]);

/* Header name for check I ("Strict-Transport-Security"). */
const char *health_header_name(enum health_header i);

/* The P-th percentile (0..100) of the N values >= 0 in VALS (negative
 * values are skipped), by linear interpolation; -1 when none. */
double health_percentile(const double *vals, size_t n, double p);

#endif
