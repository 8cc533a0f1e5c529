/* health.c - the health source: endpoint checks, verdicts and snapshots.
 *
 * Every endpoint owns one timer.  While the endpoint is idle the timer
 * schedules its next check; while a check is in flight the same timer is
 * the check's deadline (the WebSocket timeout, or a watchdog behind the
 * http client's own timeout).  A check in flight is never doubled.
 *
 * A completed check builds a new immutable result and marks the snapshot
 * dirty; a one-shot 25 ms timer, armed only when something changed,
 * publishes one snapshot that shares every unchanged result by reference.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "signalbox/config.h"
#include "signalbox/diag.h"
#include "signalbox/health.h"
#include "signalbox/http.h"
#include "signalbox/loop.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/ws.h"
#include "signalbox/xalloc.h"

enum {
	HEALTH_MAX_BODY = 1024 * 1024,		/* bytes of a body kept by http */
	HEALTH_HEADERS_CAP = 8 * 1024,		/* resp_headers, after sanitising */
	HEALTH_EXCERPT_IN = 2 * 1024,		/* body bytes shown in details */
	HEALTH_PUBLISH_DELAY_MS = 25,		/* coalescing of completions */
	HEALTH_JITTER_STEP_US = 5000,		/* at most 5 ms between first checks */
	HEALTH_JITTER_SPAN_US = 1000000,	/* the first round starts within 1 s */
	HEALTH_WATCHDOG_GRACE_MS = 2000,	/* after the http timeout */
	HEALTH_DEFAULT_INTERVAL_MS = 5000,
	HEALTH_DEFAULT_TIMEOUT_MS = 3000,
	HEALTH_DEFAULT_WINDOW = 60,
	HSTS_MIN_MAX_AGE = 15552000,		/* 180 days */
};

/* Detail strings, shared by every result copied from the same response. */
struct health_detail {
	int refs;
	char *headers;
	char *body;
};

/* A result with its private parts; pub is first so results cast back. */
struct health_res {
	struct health_result pub;
	struct health_detail *detail;
	double win[];
};

enum health_phase { HEALTH_PHASE_IDLE, HEALTH_PHASE_HTTP, HEALTH_PHASE_WS };

struct health_ep;

/* One WebSocket echo check, owned by its endpoint (ep->probe) until
 * health_probe_drop abandons the connection and frees it. */
struct health_probe {
	struct health_ep *ep;
	struct ws_conn *conn;
	int open;
	uint64_t opened_ns, sent_ns;
};

struct health_ep {
	struct health *h;
	/* copied from the config */
	char *name, *url, *service, *ca_file, *ws_message;
	int is_ws, is_https, strict, expect;
	int64_t interval_ms, timeout_ms;
	/* the check in flight */
	struct loop_timer *timer;	/* next check when idle, deadline in flight */
	enum health_phase phase;
	struct http_call *call;
	struct health_probe *probe;
	uint64_t started_ns;
	int queued;		/* check-now arrived while a check was in flight */
	int stuck;		/* the http client missed its own timeout */
	int done_once;
	int missing_client;	/* no http/ws client for this endpoint */
	/* history */
	double *ring;
	size_t ring_len, ring_pos;
	int checks, failures, consecutive_failures;
	int64_t last_ok_ms, last_fail_ms;
	struct health_result *cur;	/* a counted reference */
};

struct health {
	uv_loop_t *loop;
	struct store *store;
	struct http *http;
	struct ws_ctx *ws;
	size_t window;
	int tls_warn_days, tls_fail_days;
	struct health_ep *eps;
	size_t n;
	struct loop_timer *publish_timer;
	int dirty;
	int running;
	size_t n_done;		/* endpoints with a completed check */
	size_t n_stuck;
	size_t n_missing;
};

/* What a check saw, before classification. */
struct health_outcome {
	int responded;
	int timed_out;
	const char *error;
	int status;
	double latency_ms;
	double t_dns_ms, t_connect_ms, t_tls_ms, t_ttfb_ms, t_total_ms;
	const char *headers;	/* raw header block, or NULL */
	size_t headers_len;
	char *detail_headers;	/* or prebuilt detail lines (owned) */
	const char *body;
	size_t body_len;
	int64_t cert_expire;
	const char *cert_issuer;
};

static void health_start_check(struct health_ep *ep, int manual);
static void health_publish(struct health *h);

/* --- text helpers ------------------------------------------------------- */

/* Copy N bytes of S into DST (LEN > 0), cut at a character boundary. */
static void
health_copy_cut(char *dst, size_t len, const char *s, size_t n)
{
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Sanitise N bytes of untrusted SRC into DST (LEN > 0). */
static void
health_copy_text(char *dst, size_t len, const char *src, size_t n)
{
	char *s;

	if (src == NULL)
		n = 0;
	s = text_sanitize(src, n, 0);
	health_copy_cut(dst, len, s, strlen(s));
	free(s);
}

static int
health_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim blanks off both ends of the slice *P, *N. */
static void
health_trim(const char **p, size_t *n)
{
	while (*n > 0 && health_is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && health_is_space((*p)[*n - 1]))
		(*n)--;
}

/* Whether slice S, N equals LIT, ignoring case. */
static int
health_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Whether slice S, N starts with LIT, ignoring case. */
static int
health_starts(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && strncasecmp(s, lit, l) == 0;
}

/* Whether S contains LIT, ignoring case. */
static int
health_contains(const char *s, const char *lit)
{
	size_t l = strlen(lit);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, lit, l) == 0)
			return 1;
	return 0;
}

/* Next element of the SEP-separated list at *P (up to END), trimmed; 0 at
 * the end (*P becomes NULL after the last one). */
static int
health_next_item(const char **p, const char *end, char sep, const char **item,
    size_t *n)
{
	const char *s, *e;

	if (*p == NULL)
		return 0;
	s = *p;
	e = memchr(s, sep, (size_t)(end - s));
	if (e == NULL) {
		e = end;
		*p = NULL;	/* that was the last item */
	} else {
		*p = e + 1;
	}
	*item = s;
	*n = (size_t)(e - s);
	health_trim(item, n);
	return 1;
}

static void health_appendf(char *buf, size_t len, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append SEP (when BUF is not empty) and a formatted part to BUF. */
static void
health_appendf(char *buf, size_t len, const char *sep, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used > 0 && used + 1 < len)
		used += (size_t)snprintf(buf + used, len - used, "%s", sep);
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* --- header checks ------------------------------------------------------ */

struct health_hdr {
	const char *name, *val;
	size_t nlen, vlen;
};

/* Next "Name: value" line of a header block at *P; 0 at the end. */
static int
health_hdr_next(const char **p, const char *end, struct health_hdr *h)
{
	while (*p < end) {
		const char *s = *p, *eol, *colon;

		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		*p = eol < end ? eol + 1 : end;
		if (s == eol || *s == ' ' || *s == '\t')
			continue;	/* blank, or an obsolete folded line */
		colon = memchr(s, ':', (size_t)(eol - s));
		if (colon == NULL || colon == s)
			continue;	/* the status line */
		h->name = s;
		h->nlen = (size_t)(colon - s);
		health_trim(&h->name, &h->nlen);
		h->val = colon + 1;
		h->vlen = (size_t)(eol - h->val);
		health_trim(&h->val, &h->vlen);
		return 1;
	}
	return 0;
}

/* First value of header NAME; 0 when absent. */
static int
health_hdr_first(const char *hb, size_t len, const char *name, const char **val,
    size_t *vlen)
{
	const char *p = hb;
	struct health_hdr h;

	while (health_hdr_next(&p, hb + len, &h)) {
		if (health_eq(h.name, h.nlen, name)) {
			*val = h.val;
			*vlen = h.vlen;
			return 1;
		}
	}
	return 0;
}

static void
health_set_check(struct health_header_check *c, enum health_level level,
    const char *val, size_t vlen, const char *why)
{
	c->level = level;
	health_copy_text(c->value, sizeof c->value, val, val != NULL ? vlen : 0);
	health_copy_text(c->why, sizeof c->why, why, strlen(why));
}

static void
health_check_hsts(const char *hb, size_t len, struct health_header_check *c)
{
	const char *v, *p, *d;
	size_t vlen, dn;
	int have_age = 0, bad_age = 0, subdomains = 0;
	unsigned long long age = 0;
	char why[160] = "";

	if (!health_hdr_first(hb, len, "Strict-Transport-Security", &v, &vlen)) {
		health_set_check(c, HEALTH_LEVEL_FAIL, NULL, 0, "header not sent");
		return;
	}
	p = v;
	while (health_next_item(&p, v + vlen, ';', &d, &dn)) {
		const char *dend = d + dn, *eq = memchr(d, '=', dn), *num;
		size_t name_n = eq != NULL ? (size_t)(eq - d) : dn, num_n;

		health_trim(&d, &name_n);
		if (health_eq(d, name_n, "includeSubDomains")) {
			subdomains = 1;
			continue;
		}
		if (!health_eq(d, name_n, "max-age"))
			continue;
		if (have_age || eq == NULL) {
			bad_age = 1;	/* repeated or empty: the header is invalid */
			continue;
		}
		num = eq + 1;
		num_n = (size_t)(dend - num);
		health_trim(&num, &num_n);
		if (num_n >= 2 && num[0] == '"' && num[num_n - 1] == '"') {
			num++;
			num_n -= 2;
		}
		have_age = 1;
		if (num_n == 0)
			bad_age = 1;
		for (size_t i = 0; i < num_n; i++) {
			if (num[i] < '0' || num[i] > '9') {
				bad_age = 1;
				break;
			}
			if (age > ULLONG_MAX / 10 - 1)
				age = ULLONG_MAX;	/* saturate: "forever" is fine */
			else
				age = age * 10 + (unsigned long long)(num[i] - '0');
		}
	}
	if (bad_age || !have_age) {
		health_set_check(c, HEALTH_LEVEL_FAIL, v, vlen,
		    "no valid max-age: browsers ignore the header");
		return;
	}
	if (age == 0) {
		health_set_check(c, HEALTH_LEVEL_FAIL, v, vlen,
		    "max-age=0 turns HSTS off");
		return;
	}
	if (age < HSTS_MIN_MAX_AGE)
		health_appendf(why, sizeof why, "; ", "max-age %llu < %d (180 days)", age,
		    HSTS_MIN_MAX_AGE);
	if (!subdomains)
		health_appendf(why, sizeof why, "; ", "no includeSubDomains");
	if (why[0] != '\0') {
		health_set_check(c, HEALTH_LEVEL_WARN, v, vlen, why);
		return;
	}
	c->level = HEALTH_LEVEL_OK;
	health_copy_text(c->value, sizeof c->value, v, vlen);
	health_copy_text(c->why, sizeof c->why, v, vlen);
}

/* First directive NAME of one CSP policy; 0 when absent. */
static int
health_csp_find(const char *pol, size_t len, const char *name, const char **val,
    size_t *vlen)
{
	const char *p = pol, *d;
	size_t dn, nn;

	while (health_next_item(&p, pol + len, ';', &d, &dn)) {
		for (nn = 0; nn < dn && !health_is_space(d[nn]); nn++)
			;
		if (health_eq(d, nn, name)) {
			*val = d + nn;
			*vlen = dn - nn;
			health_trim(val, vlen);
			return 1;
		}
	}
	return 0;
}

/* Whether a CSP source list lets inline scripts run: 'unsafe-inline'
 * without a nonce or hash (which make browsers ignore it). */
static int
health_csp_allows_inline(const char *v, size_t n)
{
	int unsafe = 0, neutral = 0;
	size_t i = 0;

	while (i < n) {
		size_t s;

		while (i < n && health_is_space(v[i]))
			i++;
		s = i;
		while (i < n && !health_is_space(v[i]))
			i++;
		if (i == s)
			break;
		if (health_eq(v + s, i - s, "'unsafe-inline'"))
			unsafe = 1;
		else if (health_starts(v + s, i - s, "'nonce-") ||
		    health_starts(v + s, i - s, "'sha256-") ||
		    health_starts(v + s, i - s, "'sha384-") ||
		    health_starts(v + s, i - s, "'sha512-"))
			neutral = 1;
	}
	return unsafe && !neutral;
}

/* Checks CSP, and records for the frame check whether a policy has
 * frame-ancestors (FA, FA_LEN: that directive). */
static void
health_check_csp(const char *hb, size_t len, struct health_header_check *c,
    const char **fa, size_t *fa_len)
{
	const char *p = hb, *first = NULL, *restricting = NULL, *allowing = NULL;
	size_t first_len = 0, n_pol = 0;
	struct health_hdr h;
	char why[160];

	*fa = NULL;
	*fa_len = 0;
	while (health_hdr_next(&p, hb + len, &h)) {
		const char *q, *pol, *v;
		size_t pn, vn;

		if (!health_eq(h.name, h.nlen, "Content-Security-Policy"))
			continue;
		if (first == NULL) {
			first = h.val;
			first_len = h.vlen;
		}
		/* one header may carry several policies, comma-separated */
		q = h.val;
		while (health_next_item(&q, h.val + h.vlen, ',', &pol, &pn)) {
			const char *dir = "script-src";

			if (pn == 0)
				continue;
			n_pol++;
			if (*fa == NULL &&
			    health_csp_find(pol, pn, "frame-ancestors", &v, &vn)) {
				*fa = v;
				*fa_len = vn;
			}
			if (!health_csp_find(pol, pn, dir, &v, &vn)) {
				dir = "default-src";
				/* without either, this policy leaves scripts alone */
				if (!health_csp_find(pol, pn, dir, &v, &vn))
					continue;
			}
			if (health_csp_allows_inline(v, vn))
				allowing = allowing != NULL ? allowing : dir;
			else
				restricting = restricting != NULL ? restricting : dir;
		}
	}
	if (first == NULL) {
		health_set_check(c, HEALTH_LEVEL_FAIL, NULL, 0, "header not sent");
	} else if (n_pol == 0) {
		health_set_check(c, HEALTH_LEVEL_FAIL, first, first_len, "empty policy");
	} else if (restricting != NULL) {
		/* every policy applies: one that blocks inline scripts is enough */
		snprintf(why, sizeof why, "%s blocks inline scripts", restricting);
		health_set_check(c, HEALTH_LEVEL_OK, first, first_len, why);
	} else if (allowing != NULL) {
		snprintf(why, sizeof why, "%s allows 'unsafe-inline'", allowing);
		health_set_check(c, HEALTH_LEVEL_WARN, first, first_len, why);
	} else {
		health_set_check(c, HEALTH_LEVEL_WARN, first, first_len,
		    "no script-src or default-src: scripts are not restricted");
	}
}

static void
health_check_nosniff(const char *hb, size_t len, struct health_header_check *c)
{
	const char *v;
	size_t vlen;

	if (!health_hdr_first(hb, len, "X-Content-Type-Options", &v, &vlen))
		health_set_check(c, HEALTH_LEVEL_FAIL, NULL, 0, "header not sent");
	else if (health_eq(v, vlen, "nosniff"))
		health_set_check(c, HEALTH_LEVEL_OK, v, vlen, "nosniff");
	else
		health_set_check(c, HEALTH_LEVEL_FAIL, v, vlen, "value is not nosniff");
}

static void
health_check_frame(const char *hb, size_t len, const char *fa, size_t fa_len,
    struct health_header_check *c)
{
	const char *v, *p, *item, *tok = NULL;
	size_t vlen, n, tok_len = 0;
	int valid = 0;
	char why[160];

	if (!health_hdr_first(hb, len, "X-Frame-Options", &v, &vlen)) {
		v = NULL;
		vlen = 0;
	} else {
		/* "DENY, DENY" is fine; mixed values make browsers ignore it */
		valid = 1;
		p = v;
		while (health_next_item(&p, v + vlen, ',', &item, &n)) {
			if (!health_eq(item, n, "DENY") &&
			    !health_eq(item, n, "SAMEORIGIN")) {
				valid = 0;
			} else if (tok == NULL) {
				tok = item;
				tok_len = n;
			} else if (tok_len != n || strncasecmp(tok, item, n) != 0) {
				valid = 0;
			}
		}
		if (valid && tok != NULL) {
			snprintf(why, sizeof why, "X-Frame-Options: %.*s",
			    (int)tok_len, tok);
			health_set_check(c, HEALTH_LEVEL_OK, v, vlen, why);
			return;
		}
	}
	if (fa != NULL) {
		char *s = text_sanitize(fa, fa_len, 0);

		snprintf(why, sizeof why, "CSP frame-ancestors %s", s);
		free(s);
		health_set_check(c, HEALTH_LEVEL_OK, fa, fa_len, why);
		return;
	}
	if (v != NULL)
		health_set_check(c, HEALTH_LEVEL_FAIL, v, vlen,
		    "not DENY or SAMEORIGIN, and no CSP frame-ancestors");
	else
		health_set_check(c, HEALTH_LEVEL_FAIL, NULL, 0,
		    "no X-Frame-Options and no CSP frame-ancestors");
}

static void
health_check_referrer(const char *hb, size_t len, struct health_header_check *c)
{
	static const char *const known[] = {
		"no-referrer", "no-referrer-when-downgrade", "same-origin", "origin",
		"strict-origin", "origin-when-cross-origin",
		"strict-origin-when-cross-origin", "unsafe-url",
	};
	const char *p = hb, *first = NULL, *q, *item, *policy = NULL;
	size_t first_len = 0, n;
	struct health_hdr h;
	char why[160];

	while (health_hdr_next(&p, hb + len, &h)) {
		if (!health_eq(h.name, h.nlen, "Referrer-Policy"))
			continue;
		if (first == NULL) {
			first = h.val;
			first_len = h.vlen;
		}
		/* the last policy a browser knows wins */
		q = h.val;
		while (health_next_item(&q, h.val + h.vlen, ',', &item, &n)) {
			for (size_t i = 0; i < ARRAY_LEN(known); i++) {
				if (health_eq(item, n, known[i]))
					policy = known[i];
			}
		}
	}
	if (first == NULL) {
		health_set_check(c, HEALTH_LEVEL_FAIL, NULL, 0, "header not sent");
	} else if (policy == NULL) {
		health_set_check(c, HEALTH_LEVEL_OK, first, first_len,
		    "unknown policy: browsers use strict-origin-when-cross-origin");
	} else if (strcmp(policy, "unsafe-url") == 0 ||
	    strcmp(policy, "no-referrer-when-downgrade") == 0) {
		snprintf(why, sizeof why, "%s sends full URLs to other origins", policy);
		health_set_check(c, HEALTH_LEVEL_WARN, first, first_len, why);
	} else {
		health_set_check(c, HEALTH_LEVEL_OK, first, first_len, policy);
	}
}

void
health_check_headers(const char *headers, size_t len,
    struct health_header_check out[HEALTH_HDR_COUNT])
{
	const char *fa;
	size_t fa_len;

	if (headers == NULL)
		len = 0;
	memset(out, 0, sizeof out[0] * HEALTH_HDR_COUNT);
	health_check_hsts(headers, len, &out[HEALTH_HDR_HSTS]);
	health_check_csp(headers, len, &out[HEALTH_HDR_CSP], &fa, &fa_len);
	health_check_nosniff(headers, len, &out[HEALTH_HDR_NOSNIFF]);
	health_check_frame(headers, len, fa, fa_len, &out[HEALTH_HDR_FRAME]);
	health_check_referrer(headers, len, &out[HEALTH_HDR_REFERRER]);
}

const char *
health_header_name(enum health_header i)
{
	static const char *const names[] = {
#define HEALTH_HEADER_NAME(id, name) name,
		HEALTH_HEADER_INFO(HEALTH_HEADER_NAME)
#undef HEALTH_HEADER_NAME
	};

	return (unsigned)i < ARRAY_LEN(names) ? names[i] : "?";
}

/* --- body decoding ------------------------------------------------------ */

struct health_decode {
	struct health_component *comps;
	size_t max, n;
	int failed;
};

static int
health_word_ok(const char *s)
{
	static const char *const good[] = { "ok", "up", "pass", "healthy", "true" };

	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (strcasecmp(s, good[i]) == 0)
			return 1;
	return 0;
}

/* Keys that describe the service rather than a dependency of it. */
static int
health_key_is_meta(const char *k)
{
	static const char *const meta[] = {
		"status", "version", "time", "timestamp", "uptime", "commit", "build",
		"hostname", "host", "message", "description", "notes", "output",
		"releaseId", "release", "serviceId", "service", "links", "env",
		"environment", "region", "name", "id", "revision", "sha", "git_sha",
		"started", "started_at", "node", "instance", "pid",
	};

	for (size_t i = 0; i < ARRAY_LEN(meta); i++)
		if (strcasecmp(k, meta[i]) == 0)
			return 1;
	return 0;
}

/* Objects whose members are components rather than one component. */
static int
health_key_is_container(const char *k)
{
	static const char *const containers[] = {
		"checks", "components", "details", "dependencies", "services", "results",
	};

	for (size_t i = 0; i < ARRAY_LEN(containers); i++)
		if (strcasecmp(k, containers[i]) == 0)
			return 1;
	return 0;
}

/* The status word of a string or boolean item, or NULL. */
static const char *
health_item_word(const cJSON *it)
{
	if (cJSON_IsString(it) && it->valuestring != NULL)
		return it->valuestring;
	if (cJSON_IsBool(it))
		return cJSON_IsTrue(it) ? "true" : "false";
	return NULL;
}

static void
health_decode_add(struct health_decode *d, const char *name, const char *status)
{
	struct health_component *c = NULL;
	int ok = health_word_ok(status);

	if (!ok)
		d->failed = 1;
	if (d->comps == NULL)
		return;
	if (d->n < d->max) {
		c = &d->comps[d->n++];
	} else if (!ok) {
		/* full: a failure is worth more than a healthy entry */
		for (size_t i = d->n; i-- > 0;) {
			if (d->comps[i].ok) {
				c = &d->comps[i];
				break;
			}
		}
	}
	if (c == NULL)
		return;
	health_copy_text(c->name, sizeof c->name, name, strlen(name));
	health_copy_text(c->status, sizeof c->status, status, strlen(status));
	c->ok = ok;
}

static void
health_decode_member(struct health_decode *d, const char *key, const cJSON *it,
    int depth)
{
	const cJSON *child, *st;
	const char *word;

	if (key == NULL)
		key = "";
	if ((word = health_item_word(it)) != NULL) {
		health_decode_add(d, key, word);
		return;
	}
	if (cJSON_IsObject(it)) {
		st = cJSON_GetObjectItem(it, "status");
		if ((word = health_item_word(st)) != NULL) {
			health_decode_add(d, key, word);
			return;
		}
		if (depth > 0 || !health_key_is_container(key))
			return;
		cJSON_ArrayForEach(child, it) {
			if (child->string != NULL && !health_key_is_meta(child->string))
				health_decode_member(d, child->string, child, depth + 1);
		}
		return;
	}
	if (cJSON_IsArray(it) && depth <= 1) {
		/* [{"name": "db", "status": "pass"}, ...] or many checks of KEY */
		cJSON_ArrayForEach(child, it) {
			const cJSON *nm;

			if (!cJSON_IsObject(child))
				continue;
			st = cJSON_GetObjectItem(child, "status");
			if ((word = health_item_word(st)) == NULL)
				continue;
			nm = cJSON_GetObjectItem(child, "name");
			if (!cJSON_IsString(nm))
				nm = cJSON_GetObjectItem(child, "componentName");
			if (!cJSON_IsString(nm) || nm->valuestring == NULL)
				nm = NULL;
			health_decode_add(d, nm != NULL ? nm->valuestring : key, word);
		}
	}
}

/* health_decode_body, also returning the top-level status word. */
static int
health_decode(const char *body, size_t len, struct health_component *comps, size_t max,
    size_t *n_comps, char *version, size_t version_len, char *status,
    size_t status_len)
{
	struct health_decode d = { comps, max, 0, 0 };
	cJSON *root, *child;
	const cJSON *it;
	const char *word, *end = NULL;

	if (n_comps != NULL)
		*n_comps = 0;
	if (version != NULL && version_len > 0)
		version[0] = '\0';
	if (status != NULL && status_len > 0)
		status[0] = '\0';
	if (body == NULL || len == 0)
		return -1;
	/* the work is linear in LEN, which http caps at 1 MiB; cJSON refuses
	 * nesting deeper than 1000 */
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root == NULL)
		return -1;
	while (end != NULL && end < body + len && health_is_space(*end))
		end++;
	if (!cJSON_IsObject(root) || end != body + len) {
		cJSON_Delete(root);
		return -1;
	}
	it = cJSON_GetObjectItem(root, "status");
	if ((word = health_item_word(it)) != NULL) {
		if (!health_word_ok(word))
			d.failed = 1;
		if (status != NULL && status_len > 0)
			health_copy_text(status, status_len, word, strlen(word));
	}
	it = cJSON_GetObjectItem(root, "version");
	if (version != NULL && version_len > 0) {
		if (cJSON_IsString(it) && it->valuestring != NULL) {
			health_copy_text(version, version_len, it->valuestring,
			    strlen(it->valuestring));
		} else if (cJSON_IsNumber(it)) {
			snprintf(version, version_len, "%g", it->valuedouble);
		}
	}
	cJSON_ArrayForEach(child, root) {
		if (child->string != NULL && health_key_is_meta(child->string))
			continue;
		health_decode_member(&d, child->string, child, 0);
	}
	cJSON_Delete(root);
	if (n_comps != NULL)
		*n_comps = d.n;
	return d.failed ? 0 : 1;
}

int
health_decode_body(const char *body, size_t len, struct health_component *comps,
    size_t max, size_t *n_comps, char *version, size_t version_len)
{
	return health_decode(body, len, comps, max, n_comps, version, version_len,
	    NULL, 0);
}

/* --- verdicts and percentiles ------------------------------------------- */

enum health_state
health_classify(const struct health_verdict_in *in, enum health_level *tls_level,
    char *reason, size_t reason_len)
{
	enum health_level tl = HEALTH_LEVEL_NA;
	enum health_state st = HEALTH_OK;
	char buf[512] = "";

	if (in->has_tls) {
		if (in->tls_days_left < in->tls_fail_days || in->tls_days_left < 0)
			tl = HEALTH_LEVEL_FAIL;
		else if (in->tls_days_left < in->tls_warn_days)
			tl = HEALTH_LEVEL_WARN;
		else
			tl = HEALTH_LEVEL_OK;
	}
	if (tls_level != NULL)
		*tls_level = tl;

	if (!in->responded) {
		st = HEALTH_DOWN;
		if (in->timed_out)
			snprintf(buf, sizeof buf, "timed out after %lld ms",
			    (long long)in->timeout_ms);
		else if (in->error != NULL && in->error[0] != '\0')
			snprintf(buf, sizeof buf, "%s", in->error);
		else
			snprintf(buf, sizeof buf, "no response");
	} else if (!in->is_ws && in->status != in->expect) {
		st = HEALTH_DOWN;
		snprintf(buf, sizeof buf, "HTTP %d, expected %d", in->status, in->expect);
	} else if (in->has_tls && in->tls_days_left < 0) {
		st = HEALTH_DOWN;
		snprintf(buf, sizeof buf, "certificate has expired");
	} else {
		if (in->body == 0) {
			size_t shown = 0;

			st = HEALTH_DEGRADED;
			for (size_t i = 0; i < in->n_comps; i++) {
				if (in->comps[i].ok)
					continue;
				health_appendf(buf, sizeof buf, ", ", "%s: %s",
				    in->comps[i].name, in->comps[i].status);
				shown++;
			}
			if (shown == 0 && in->body_status != NULL &&
			    in->body_status[0] != '\0')
				health_appendf(buf, sizeof buf, ", ", "status: %s",
				    in->body_status);
			else if (shown == 0)
				health_appendf(buf, sizeof buf, ", ", "%s",
				    "status: not healthy");
		}
		if (in->has_tls && in->tls_days_left < in->tls_fail_days) {
			st = HEALTH_DEGRADED;
			if (in->tls_days_left == 0)
				health_appendf(buf, sizeof buf, "; ",
				    "certificate expires today");
			else
				health_appendf(buf, sizeof buf, "; ",
				    "certificate expires in %d day%s", in->tls_days_left,
				    in->tls_days_left == 1 ? "" : "s");
		}
	}
	if (reason != NULL && reason_len > 0)
		health_copy_cut(reason, reason_len, buf, strlen(buf));
	return st;
}

static int
health_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
health_percentile(const double *vals, size_t n, double p)
{
	double *v, rank, r;
	size_t k = 0, lo, hi;

	if (vals == NULL || n == 0)
		return -1;
	v = xmalloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		if (vals[i] >= 0 && isfinite(vals[i]))
			v[k++] = vals[i];
	if (k == 0) {
		free(v);
		return -1;
	}
	qsort(v, k, sizeof *v, health_cmp_double);
	if (!(p >= 0))
		p = 0;
	if (p > 100)
		p = 100;
	rank = p / 100.0 * (double)(k - 1);
	lo = (size_t)rank;
	hi = lo + 1 < k ? lo + 1 : lo;
	r = v[lo] + (v[hi] - v[lo]) * (rank - (double)lo);
	free(v);
	return r;
}

enum health_state
health_worst(const struct health_snap *snap)
{
	enum health_state worst = HEALTH_OK;

	if (snap == NULL)
		return HEALTH_UNKNOWN;
	for (size_t i = 0; i < snap->n; i++) {
		enum health_state s = snap->eps[i]->state;

		if (s == HEALTH_UNKNOWN || s == HEALTH_DOWN)
			return HEALTH_DOWN;
		if (s == HEALTH_DEGRADED)
			worst = HEALTH_DEGRADED;
	}
	return worst;
}

const char *
health_state_name(enum health_state s)
{
	switch (s) {
	case HEALTH_OK:
		return "OK";
	case HEALTH_DEGRADED:
		return "DEGRADED";
	case HEALTH_DOWN:
		return "DOWN";
	case HEALTH_UNKNOWN:
		break;
	}
	return "UNKNOWN";
}

/* --- results ------------------------------------------------------------ */

static struct health_res *
health_res_alloc(size_t n_window)
{
	struct health_res *x = xcalloc(1, sizeof *x + n_window * sizeof x->win[0]);

	x->pub.refs = 1;
	x->pub.window = x->win;
	return x;
}

void
health_result_ref(struct health_result *r)
{
	if (r != NULL)
		r->refs++;
}

void
health_result_unref(struct health_result *r)
{
	struct health_res *x = (struct health_res *)r;

	if (r == NULL || --r->refs > 0)
		return;
	if (x->detail != NULL && --x->detail->refs == 0) {
		free(x->detail->headers);
		free(x->detail->body);
		free(x->detail);
	}
	free(x);
}

/* A copy of R differing only in CHECKING. */
static struct health_result *
health_res_with_checking(const struct health_result *r, int checking)
{
	const struct health_res *old = (const struct health_res *)r;
	struct health_res *x = health_res_alloc(r->n_window);

	x->pub = *r;
	x->pub.refs = 1;
	x->pub.window = x->win;
	memcpy(x->win, r->window, r->n_window * sizeof x->win[0]);
	x->pub.checking = checking;
	x->detail = old->detail;
	if (x->detail != NULL)
		x->detail->refs++;
	return &x->pub;
}

/* The result every endpoint starts with. */
/* The endpoint's own fields of a result. */
static void
health_res_copy_ep(struct health_result *r, const struct health_ep *ep)
{
	health_copy_text(r->name, sizeof r->name, ep->name, strlen(ep->name));
	health_copy_text(r->url, sizeof r->url, ep->url, strlen(ep->url));
	health_copy_text(r->service, sizeof r->service, ep->service, strlen(ep->service));
	r->is_ws = ep->is_ws;
	r->expect = ep->expect;
}

static struct health_result *
health_res_initial(const struct health_ep *ep)
{
	struct health_res *x = health_res_alloc(0);
	struct health_result *r = &x->pub;

	health_res_copy_ep(r, ep);
	r->interval_ms = ep->interval_ms;
	r->state = HEALTH_UNKNOWN;
	r->latency_ms = r->p50_ms = r->p95_ms = -1;
	r->t_dns_ms = r->t_connect_ms = r->t_tls_ms = r->t_ttfb_ms = r->t_total_ms = -1;
	r->tls_level = HEALTH_LEVEL_NA;
	for (size_t i = 0; i < HEALTH_HDR_COUNT; i++)
		r->hdrs[i].level = HEALTH_LEVEL_NA;
	return r;
}

static void
health_ep_set_result(struct health_ep *ep, struct health_result *r)
{
	health_result_unref(ep->cur);
	ep->cur = r;
}

/* Show or clear the "checking" mark on EP's current result; 1 if changed. */
static int
health_ep_mark_checking(struct health_ep *ep, int on)
{
	if (ep->cur->checking == on)
		return 0;
	health_ep_set_result(ep, health_res_with_checking(ep->cur, on));
	return 1;
}

/* The header block as sanitised "Name: value\n" lines, capped. */
static char *
health_format_headers(const char *hb, size_t len)
{
	char *out = xmalloc(HEALTH_HEADERS_CAP);
	const char *p = hb, *end = hb + len;
	size_t used = 0;

	out[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *s = p;
		size_t n;
		char *clean;

		if (eol == NULL)
			eol = end;
		p = eol < end ? eol + 1 : end;
		n = (size_t)(eol - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		if (HEALTH_HEADERS_CAP - used < 3)
			break;	/* no room for even one character and a newline */
		clean = text_sanitize(s, n, 0);
		n = strlen(clean);
		if (used + n + 2 > HEALTH_HEADERS_CAP) {
			/* the last line that fits in part, cut on a character */
			health_copy_cut(out + used, HEALTH_HEADERS_CAP - used - 1,
			    clean, n);
			used += strlen(out + used);
			out[used++] = '\n';
			out[used] = '\0';
			free(clean);
			break;
		}
		memcpy(out + used, clean, n);
		used += n;
		out[used++] = '\n';
		out[used] = '\0';
		free(clean);
	}
	return out;
}

/* The first 2 KiB of a body, sanitised, newlines kept. */
static char *
health_format_excerpt(const char *b, size_t len)
{
	size_t n = len < HEALTH_EXCERPT_IN ? len : HEALTH_EXCERPT_IN;

	/* do not cut a character in two (at most 3 continuation bytes) */
	for (int i = 0; i < 3 && n < len && n > 0 &&
	    ((unsigned char)b[n] & 0xC0) == 0x80; i++)
		n--;
	return text_sanitize(b, n, 1);
}

static void
health_ring_push(struct health_ep *ep, double v)
{
	size_t cap = ep->h->window;

	ep->ring[ep->ring_pos] = v;
	ep->ring_pos = (ep->ring_pos + 1) % cap;
	if (ep->ring_len < cap)
		ep->ring_len++;
}

/* --- source state and publishing ---------------------------------------- */

/* Tell the store how the source itself is doing (not the endpoints). */
static void
health_source_update(struct health *h)
{
	enum store_state st = STORE_STATE_OK;
	char err[256] = "";

	if (h->store == NULL)
		return;
	if (h->n == 0) {
		st = STORE_STATE_IDLE;
	} else if (h->n_missing == h->n) {
		st = STORE_STATE_ERROR;
		snprintf(err, sizeof err, "no %s client: no endpoint can be checked",
		    h->http == NULL && h->ws == NULL ? "HTTP or WebSocket" :
		    h->http == NULL ? "HTTP" : "WebSocket");
	} else if (!h->running && h->n_done < h->n) {
		st = STORE_STATE_IDLE;
	} else if (h->n_done < h->n) {
		st = STORE_STATE_CONNECTING;
	} else if (h->n_missing > 0) {
		st = STORE_STATE_STALE;
		snprintf(err, sizeof err, "no %s client: %zu endpoint%s not checked",
		    h->http == NULL ? "HTTP" : "WebSocket", h->n_missing,
		    h->n_missing == 1 ? "" : "s");
	} else if (h->n_stuck > 0) {
		st = STORE_STATE_STALE;
		snprintf(err, sizeof err,
		    "the HTTP client missed its timeout for %zu endpoint%s",
		    h->n_stuck, h->n_stuck == 1 ? "" : "s");
	}
	/* DOWN endpoints are data, not a failure of the source: still OK */
	store_source_set(h->store, "health", st, err);
}

static void
health_snap_free(void *p)
{
	struct health_snap *s = p;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		health_result_unref(s->eps[i]);
	free(s->eps);
	free(s);
}

static void
health_publish(struct health *h)
{
	struct health_snap *s;

	h->dirty = 0;
	if (h->publish_timer != NULL)
		loop_timer_stop(h->publish_timer);
	if (h->store == NULL)
		return;
	s = xcalloc(1, sizeof *s);
	s->n = h->n;
	s->eps = xcalloc(h->n > 0 ? h->n : 1, sizeof *s->eps);
	for (size_t i = 0; i < h->n; i++) {
		health_result_ref(h->eps[i].cur);
		s->eps[i] = h->eps[i].cur;
	}
	s->published_ms = util_wall_ms();
	store_publish(h->store, STORE_TOPIC_HEALTH, s, health_snap_free);
	health_source_update(h);
}

static void
health_publish_cb(struct loop_timer *t, void *ud)
{
	struct health *h = ud;

	(void)t;
	if (h->dirty)
		health_publish(h);
}

static void
health_mark_dirty(struct health *h)
{
	h->dirty = 1;
	if (h->publish_timer != NULL && !loop_timer_active(h->publish_timer))
		loop_timer_start(h->publish_timer, HEALTH_PUBLISH_DELAY_MS, 0);
}

/* --- completing a check ------------------------------------------------- */

static double
health_ms_since(uint64_t ns)
{
	return (double)(uv_hrtime() - ns) / 1e6;
}

/* Record a finished check of EP and schedule the next one. */
static void
health_finish(struct health_ep *ep, const struct health_outcome *o)
{
	struct health *h = ep->h;
	struct health_component comps[HEALTH_MAX_COMPONENTS];
	struct health_verdict_in v;
	struct health_res *x;
	struct health_result *r;
	char version[64] = "", body_status[32] = "";
	size_t n_comps = 0;
	int64_t now = util_wall_ms();
	double elapsed = health_ms_since(ep->started_ns);
	int body = -1, round_done;
	uint64_t next;

	if (ep->timer != NULL)
		loop_timer_stop(ep->timer);
	ep->phase = HEALTH_PHASE_IDLE;
	ep->call = NULL;
	ep->probe = NULL;

	/* a WebSocket echo is not a health body */
	if (o->responded && !ep->is_ws && o->body != NULL && o->body_len > 0)
		body = health_decode(o->body, o->body_len, comps, ARRAY_LEN(comps),
		    &n_comps, version, sizeof version, body_status, sizeof body_status);

	x = health_res_alloc(h->window);
	r = &x->pub;
	health_res_copy_ep(r, ep);
	r->interval_ms = ep->interval_ms;
	r->checking = ep->queued;	/* a queued check-now starts right away */
	r->last_check_ms = now;
	r->http_status = o->status;
	if (o->error != NULL && !o->responded)
		health_copy_text(r->error, sizeof r->error, o->error, strlen(o->error));
	memcpy(r->version, version, sizeof r->version);
	memcpy(r->comps, comps, n_comps * sizeof comps[0]);
	r->n_comps = n_comps;
	r->t_dns_ms = o->t_dns_ms;
	r->t_connect_ms = o->t_connect_ms;
	r->t_tls_ms = o->t_tls_ms;
	r->t_ttfb_ms = o->t_ttfb_ms;
	r->t_total_ms = o->t_total_ms;
	r->latency_ms = o->responded ? o->latency_ms : -1;
	if (o->cert_expire != 0) {
		double left = ((double)o->cert_expire - (double)now / 1000.0) / 86400.0;

		r->has_tls = 1;
		r->tls_days_left = (int)floor(left);
		if (o->cert_issuer != NULL)
			health_copy_text(r->tls_issuer, sizeof r->tls_issuer,
			    o->cert_issuer, strlen(o->cert_issuer));
	}
	for (size_t i = 0; i < HEALTH_HDR_COUNT; i++)
		r->hdrs[i].level = HEALTH_LEVEL_NA;
	if (ep->strict && !ep->is_ws && o->responded) {
		struct health_header_check hdrs[HEALTH_HDR_COUNT];

		health_check_headers(o->headers, o->headers != NULL ? o->headers_len : 0,
		    hdrs);
		memcpy(r->hdrs, hdrs, sizeof hdrs);
		r->headers_checked = 1;
	}

	memset(&v, 0, sizeof v);
	v.responded = o->responded;
	v.timed_out = o->timed_out;
	v.timeout_ms = ep->timeout_ms;
	v.error = r->error;
	v.is_ws = ep->is_ws;
	v.status = o->status;
	v.expect = ep->expect;
	v.body = body;
	v.body_status = body_status;
	v.comps = r->comps;
	v.n_comps = r->n_comps;
	v.has_tls = r->has_tls;
	v.tls_days_left = r->tls_days_left;
	v.tls_warn_days = h->tls_warn_days;
	v.tls_fail_days = h->tls_fail_days;
	r->state = health_classify(&v, &r->tls_level, r->reason, sizeof r->reason);

	if (o->responded) {
		x->detail = xcalloc(1, sizeof *x->detail);
		x->detail->refs = 1;
		if (o->detail_headers != NULL)
			x->detail->headers = xstrdup(o->detail_headers);
		else
			x->detail->headers = health_format_headers(o->headers != NULL ?
			    o->headers : "", o->headers != NULL ? o->headers_len : 0);
		x->detail->body = health_format_excerpt(o->body != NULL ? o->body : "",
		    o->body != NULL ? o->body_len : 0);
		r->resp_headers = x->detail->headers;
		r->body_excerpt = x->detail->body;
	}

	/* history: a DOWN check is a gap in the latency window */
	ep->checks++;
	if (r->state == HEALTH_DOWN) {
		ep->failures++;
		ep->consecutive_failures++;
		ep->last_fail_ms = now;
		health_ring_push(ep, -1);
	} else {
		ep->consecutive_failures = 0;
		if (r->state == HEALTH_OK)
			ep->last_ok_ms = now;
		health_ring_push(ep, r->latency_ms >= 0 ? r->latency_ms : -1);
	}
	r->checks = ep->checks;
	r->failures = ep->failures;
	r->consecutive_failures = ep->consecutive_failures;
	r->last_ok_ms = ep->last_ok_ms;
	r->last_fail_ms = ep->last_fail_ms;
	r->n_window = ep->ring_len;
	for (size_t i = 0; i < ep->ring_len; i++)
		r->window[i] = ep->ring[(ep->ring_pos + h->window - ep->ring_len + i) %
		    h->window];
	r->p50_ms = health_percentile(r->window, r->n_window, 50);
	r->p95_ms = health_percentile(r->window, r->n_window, 95);
	health_ep_set_result(ep, r);

	round_done = 0;
	if (!ep->done_once) {
		ep->done_once = 1;
		round_done = ++h->n_done == h->n;
	}
	if (round_done) {
		/* `signalbox check` reads the store as soon as the round is done */
		health_publish(h);
	} else {
		health_mark_dirty(h);
	}

	if (!h->running || ep->timer == NULL)
		return;
	if (ep->queued) {
		ep->queued = 0;
		health_start_check(ep, 1);
		return;
	}
	next = elapsed >= (double)ep->interval_ms ? 0 :
	    (uint64_t)((double)ep->interval_ms - elapsed);
	loop_timer_start(ep->timer, next, 0);
}

/* Finish EP's check with a transport error. */
static void
health_fail(struct health_ep *ep, const char *error, int timed_out)
{
	struct health_outcome o;

	memset(&o, 0, sizeof o);
	o.error = error;
	o.timed_out = timed_out;
	o.latency_ms = -1;
	o.t_dns_ms = o.t_connect_ms = o.t_tls_ms = o.t_ttfb_ms = o.t_total_ms = -1;
	health_finish(ep, &o);
}

/* --- HTTP checks -------------------------------------------------------- */

static void
health_http_done(const struct http_resp *resp, void *ud)
{
	struct health_ep *ep = ud;
	struct health *h = ep->h;
	struct health_outcome o;
	double elapsed = health_ms_since(ep->started_ns);

	ep->call = NULL;
	if (ep->stuck) {
		ep->stuck = 0;
		h->n_stuck--;
	}
	memset(&o, 0, sizeof o);
	o.responded = resp->ok && resp->status > 0;
	o.status = resp->status;
	o.error = resp->error;
	if (!o.responded) {
		/* curl words timeouts several ways; the clock does not lie */
		o.timed_out = elapsed + 50 >= (double)ep->timeout_ms ||
		    health_contains(resp->error, "timed out") ||
		    health_contains(resp->error, "timeout");
		if (o.error == NULL || o.error[0] == '\0')
			o.error = "no response";
	}
	o.latency_ms = resp->t_total_ms;
	o.t_dns_ms = resp->t_dns_ms;
	o.t_connect_ms = resp->t_connect_ms;
	o.t_tls_ms = resp->t_tls_ms;
	o.t_ttfb_ms = resp->t_ttfb_ms;
	o.t_total_ms = resp->t_total_ms;
	o.headers = resp->headers;
	o.headers_len = resp->headers_len;
	o.body = resp->body;
	o.body_len = resp->body_len;
	o.cert_expire = resp->cert_expire;
	o.cert_issuer = resp->cert_issuer;
	health_finish(ep, &o);
}

static void
health_http_start(struct health_ep *ep)
{
	struct http_req req;

	memset(&req, 0, sizeof req);
	req.url = ep->url;
	req.timeout_ms = (long)ep->timeout_ms;
	req.ca_file = ep->ca_file;
	req.max_body = HEALTH_MAX_BODY;
	req.want_cert = ep->is_https;
	ep->phase = HEALTH_PHASE_HTTP;
	ep->call = http_request(ep->h->http, &req, health_http_done, ep);
	if (ep->call == NULL) {
		health_fail(ep, "could not start the request", 0);
		return;
	}
	/* http enforces the timeout; this only catches a client that does not */
	loop_timer_start(ep->timer,
	    (uint64_t)ep->timeout_ms + HEALTH_WATCHDOG_GRACE_MS, 0);
}

/* The http client did not call back in time: give up on it. */
static void
health_http_watchdog(struct health_ep *ep)
{
	struct health *h = ep->h;

	diag_log(DIAG_WARN, "health: %s: the http client missed its %lld ms timeout",
	    ep->name, (long long)ep->timeout_ms);
	http_cancel(ep->call);
	ep->call = NULL;
	if (!ep->stuck) {
		ep->stuck = 1;
		h->n_stuck++;
	}
	health_fail(ep, "no answer from the http client", 1);
}

/* --- WebSocket checks --------------------------------------------------- */

/* Cut PROBE loose from its endpoint, abandon its connection (it closes
 * cleanly on its own, without callbacks) and free it. */
static void
health_probe_drop(struct health_probe *p, const char *why)
{
	if (p->ep != NULL && p->ep->probe == p)
		p->ep->probe = NULL;
	ws_abandon(p->conn, 1000, why);
	free(p);
}

static void
health_probe_on_open(struct ws_conn *c, void *ud)
{
	struct health_probe *p = ud;
	struct health_ep *ep = p->ep;
	const char *msg;

	p->open = 1;
	p->opened_ns = uv_hrtime();
	if (ep == NULL) {
		ws_close(c, 1000, "check cancelled");
		return;
	}
	msg = ep->ws_message != NULL && ep->ws_message[0] != '\0' ? ep->ws_message :
	    "ping";
	p->sent_ns = uv_hrtime();
	if (ws_send_text(c, msg, strlen(msg)) < 0) {
		health_probe_drop(p, "send failed");
		health_fail(ep, "could not send the echo message", 0);
	}
}

static void
health_probe_on_message(struct ws_conn *c, const char *data, size_t len, int binary,
    void *ud)
{
	struct health_probe *p = ud;
	struct health_ep *ep = p->ep;
	struct health_outcome o;
	const char *msg;
	char *sent, *got, *lines;
	int same;

	(void)c;
	if (ep == NULL)
		return;
	msg = ep->ws_message != NULL && ep->ws_message[0] != '\0' ? ep->ws_message :
	    "ping";
	memset(&o, 0, sizeof o);
	o.responded = 1;
	o.status = 101;
	o.latency_ms = health_ms_since(p->sent_ns);
	o.t_dns_ms = o.t_tls_ms = -1;
	o.t_connect_ms = (double)(p->opened_ns - ep->started_ns) / 1e6;
	o.t_ttfb_ms = o.latency_ms;
	o.t_total_ms = health_ms_since(ep->started_ns);
	o.body = data;
	o.body_len = len;
	/* an echo that differs still proves the socket works: note it only */
	same = !binary && len == strlen(msg) && memcmp(data, msg, len) == 0;
	sent = text_sanitize(msg, strlen(msg) < 200 ? strlen(msg) : 200, 0);
	got = text_sanitize(data, len < 200 ? len : 200, 0);
	lines = xasprintf("Sent: %s\nReceived: %s%s\nEcho: %s\n", sent, binary ?
	    "(binary) " : "", got, same ? "matches" : "differs from the message sent");
	free(sent);
	free(got);
	o.detail_headers = lines;
	health_probe_drop(p, "check done");
	health_finish(ep, &o);
	free(lines);
}

static void
health_probe_on_close(struct ws_conn *c, int code, const char *reason, void *ud)
{
	struct health_probe *p = ud;
	struct health_ep *ep = p->ep;
	char *err;

	(void)c;
	if (ep != NULL) {
		ep->probe = NULL;
		err = xasprintf("closed by the server (code %d%s%s) before the echo",
		    code, reason != NULL && reason[0] != '\0' ? ": " : "",
		    reason != NULL ? reason : "");
		health_fail(ep, err, 0);
		free(err);
	}
	free(p);
}

static void
health_probe_on_error(struct ws_conn *c, const char *msg, void *ud)
{
	struct health_probe *p = ud;
	struct health_ep *ep = p->ep;

	(void)c;
	if (ep != NULL) {
		ep->probe = NULL;
		health_fail(ep, msg != NULL && msg[0] != '\0' ? msg : "connection failed",
		    health_contains(msg != NULL ? msg : "", "timed out") ||
		    health_contains(msg != NULL ? msg : "", "timeout"));
	}
	free(p);
}

static void
health_ws_start(struct health_ep *ep)
{
	static const struct ws_cbs cbs = {
		health_probe_on_open, health_probe_on_message, health_probe_on_close,
		health_probe_on_error,
	};
	struct health_probe *p = xcalloc(1, sizeof *p);
	struct ws_opts opts;
	struct err e;

	memset(&opts, 0, sizeof opts);
	memset(&e, 0, sizeof e);
	opts.url = ep->url;
	opts.ca_file = ep->ca_file;
	opts.connect_timeout_ms = (long)ep->timeout_ms;
	p->ep = ep;
	p->conn = ws_connect(ep->h->ws, &opts, &cbs, p, &e);
	if (p->conn == NULL) {
		free(p);
		health_fail(ep, e.msg[0] != '\0' ? e.msg : "could not connect", 0);
		return;
	}
	ep->probe = p;
	ep->phase = HEALTH_PHASE_WS;
	loop_timer_start(ep->timer, (uint64_t)ep->timeout_ms, 0);
}

/* --- scheduling --------------------------------------------------------- */

static void
health_start_check(struct health_ep *ep, int manual)
{
	loop_timer_stop(ep->timer);
	ep->started_ns = uv_hrtime();
	if (manual)
		health_ep_mark_checking(ep, 1);
	if (ep->missing_client) {
		health_fail(ep, ep->is_ws ? "no WebSocket client" : "no HTTP client", 0);
		return;
	}
	if (ep->is_ws)
		health_ws_start(ep);
	else
		health_http_start(ep);
}

static void
health_ep_timer(struct loop_timer *t, void *ud)
{
	struct health_ep *ep = ud;

	(void)t;
	switch (ep->phase) {
	case HEALTH_PHASE_IDLE:
		health_start_check(ep, 0);
		break;
	case HEALTH_PHASE_HTTP:
		health_http_watchdog(ep);
		break;
	case HEALTH_PHASE_WS:
		if (ep->probe != NULL)
			health_probe_drop(ep->probe, "timed out");
		health_fail(ep, "timed out", 1);
		break;
	}
}

/* --- lifecycle ---------------------------------------------------------- */

static int
health_has_scheme(const char *url, const char *scheme)
{
	return strncasecmp(url, scheme, strlen(scheme)) == 0;
}

struct health *
health_new(uv_loop_t *loop, struct store *store, struct http *http, struct ws_ctx *ws,
    const struct config *cfg)
{
	struct health *h = xcalloc(1, sizeof *h);
	int64_t def_interval = cfg->health_interval_ms > 0 ? cfg->health_interval_ms :
	    HEALTH_DEFAULT_INTERVAL_MS;
	int64_t def_timeout = cfg->health_timeout_ms > 0 ? cfg->health_timeout_ms :
	    HEALTH_DEFAULT_TIMEOUT_MS;

	h->loop = loop;
	h->store = store;
	h->http = http;
	h->ws = ws;
	h->window = cfg->health_window > 0 ? (size_t)cfg->health_window :
	    HEALTH_DEFAULT_WINDOW;
	h->tls_warn_days = cfg->tls_warn_days;
	h->tls_fail_days = cfg->tls_fail_days;
	h->n = cfg->n_endpoints;
	h->eps = xcalloc(h->n > 0 ? h->n : 1, sizeof *h->eps);
	for (size_t i = 0; i < h->n; i++) {
		const struct config_endpoint *c = &cfg->endpoints[i];
		struct health_ep *ep = &h->eps[i];

		ep->h = h;
		ep->name = xstrdup(c->name != NULL ? c->name : "");
		ep->url = xstrdup(c->url != NULL ? c->url : "");
		ep->service = xstrdup(c->service != NULL ? c->service : "");
		ep->ca_file = c->ca_file != NULL ? xstrdup(c->ca_file) : NULL;
		ep->ws_message = c->ws_message != NULL ? xstrdup(c->ws_message) : NULL;
		ep->is_ws = c->type == CONFIG_EP_WEBSOCKET;
		ep->is_https = health_has_scheme(ep->url, "https://");
		ep->strict = c->headers == CONFIG_HEADERS_STRICT;
		ep->expect = c->expect > 0 ? c->expect : ep->is_ws ? 101 : 200;
		ep->interval_ms = c->interval_ms > 0 ? c->interval_ms : def_interval;
		ep->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : def_timeout;
		ep->ring = xcalloc(h->window, sizeof *ep->ring);
		ep->missing_client = ep->is_ws ? ws == NULL : http == NULL;
		if (ep->missing_client)
			h->n_missing++;
		ep->cur = health_res_initial(ep);
	}
	health_publish(h);
	return h;
}

void
health_start(struct health *h)
{
	if (h == NULL || h->running)
		return;
	h->running = 1;
	/* the timers live from start to stop, so that after health_stop the
	 * source holds no loop handle and health_free needs no loop */
	if (h->publish_timer == NULL)
		h->publish_timer = loop_timer_new(h->loop, health_publish_cb, h);
	/* the spread counts from now, not from the loop's cached time */
	uv_update_time(h->loop);
	for (size_t i = 0; i < h->n; i++) {
		struct health_ep *ep = &h->eps[i];
		uint64_t step_us = HEALTH_JITTER_STEP_US;

		if (ep->timer == NULL)
			ep->timer = loop_timer_new(h->loop, health_ep_timer, ep);

		/* spread the first round: <= 5 ms apart, all within ~1 s and
		 * within one interval */
		if (step_us > HEALTH_JITTER_SPAN_US / h->n)
			step_us = HEALTH_JITTER_SPAN_US / h->n;
		if (step_us > (uint64_t)ep->interval_ms * 1000 / h->n)
			step_us = (uint64_t)ep->interval_ms * 1000 / h->n;
		if (ep->phase == HEALTH_PHASE_IDLE)
			loop_timer_start(ep->timer, i * step_us / 1000, 0);
	}
	health_source_update(h);
}

void
health_stop(struct health *h)
{
	int changed = 0;

	if (h == NULL)
		return;
	h->running = 0;
	for (size_t i = 0; i < h->n; i++) {
		struct health_ep *ep = &h->eps[i];

		loop_timer_free(&ep->timer);
		if (ep->call != NULL) {
			http_cancel(ep->call);
			ep->call = NULL;
		}
		if (ep->probe != NULL)
			health_probe_drop(ep->probe, "going away");
		ep->phase = HEALTH_PHASE_IDLE;
		ep->queued = 0;
		changed |= health_ep_mark_checking(ep, 0);
	}
	if (changed || h->dirty)
		health_publish(h);
	loop_timer_free(&h->publish_timer);
}

void
health_free(struct health **hp)
{
	struct health *h;

	if (hp == NULL || *hp == NULL)
		return;
	h = *hp;
	*hp = NULL;
	if (h->running)
		health_stop(h);
	for (size_t i = 0; i < h->n; i++) {
		struct health_ep *ep = &h->eps[i];

		if (ep->call != NULL)
			http_cancel(ep->call);
		if (ep->probe != NULL)
			health_probe_drop(ep->probe, "going away");
		loop_timer_free(&ep->timer);
		health_result_unref(ep->cur);
		free(ep->ring);
		free(ep->name);
		free(ep->url);
		free(ep->service);
		free(ep->ca_file);
		free(ep->ws_message);
	}
	loop_timer_free(&h->publish_timer);
	free(h->eps);
	free(h);
}

void
health_check_now(struct health *h, int idx)
{
	size_t from = 0, to;
	int changed = 0;

	if (h == NULL || !h->running)
		return;
	to = h->n;
	if (idx >= 0) {
		if ((size_t)idx >= h->n)
			return;
		from = (size_t)idx;
		to = from + 1;
	}
	for (size_t i = from; i < to; i++) {
		struct health_ep *ep = &h->eps[i];

		if (ep->phase != HEALTH_PHASE_IDLE) {
			/* never two checks at once: run one more right after */
			ep->queued = 1;
			changed |= health_ep_mark_checking(ep, 1);
			continue;
		}
		changed = 1;
		health_start_check(ep, 1);
	}
	/* show "checking" at once rather than after the coalescing delay */
	if (changed)
		health_publish(h);
}

int
health_find(const struct health *h, const char *name)
{
	if (h == NULL || name == NULL)
		return -1;
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->eps[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
health_round_done(const struct health *h)
{
	return h != NULL && h->n_done == h->n;
}
