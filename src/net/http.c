/* http.c - asynchronous HTTP(S): libcurl's multi-socket API on libuv.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: one
 * uv_poll_t each, found again through curl_multi_assign) and when to wake it
 * up (CURLMOPT_TIMERFUNCTION: one uv_timer_t).  Every curl_multi_socket_action
 * runs from a libuv callback, never from a curl callback, and is followed by
 * draining curl_multi_info_read; completed requests are delivered there.
 *
 * Reentrancy: a done callback may start requests, cancel others or free the
 * whole client.  http_free inside a callback only marks the client; the
 * teardown finishes when the outermost libuv callback unwinds (h->busy).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "signalbox/diag.h"
#include "signalbox/http.h"
#include "signalbox/xalloc.h"

/* Debian's libcurl pulls in GnuTLS (through libldap and librtmp), and
 * GnuTLS initialises itself from a library constructor in every process
 * that maps it: 0.6-0.9 MiB of resident pages (its tables, p11-kit, nettle)
 * and ~1.5 ms before main, for a library this program never calls (curl
 * speaks TLS through OpenSSL; requests are limited to http and https).
 * The constructor asks this weak symbol first (gnutls lib/global.c, the
 * in-program form of GNUTLS_NO_IMPLICIT_INIT=1); libldap and librtmp call
 * gnutls_global_init() themselves before they use it.  The executable
 * exports it (CMakeLists.txt: --export-dynamic-symbol) so the dynamic
 * linker binds GnuTLS' call to this definition. */
int _gnutls_global_init_skip(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

enum {
	HTTP_MAX_CONNECTS = 1024,	/* connection cache, all hosts */
	HTTP_MAX_HOST_CONNECTIONS = 16,	/* more wait in curl's queue */
	HTTP_DEFAULT_TIMEOUT_MS = 30000,
	HTTP_DEFAULT_MAX_BODY = 1024 * 1024,
	HTTP_MAX_HEADERS = 64 * 1024,	/* header block kept per response */
	HTTP_CERT_BUCKETS = 256,
};

/* Leaf certificate facts per "host:port".  curl reports CURLINFO_CERTINFO
 * only for the request that performed the TLS handshake; a request that
 * reuses the connection gets nothing, so we remember what the handshake
 * said. */
struct http_cert {
	struct http_cert *next;
	char *key;
	int64_t expire;
	char issuer[256];
	char subject[256];
};

struct http_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http *h;
};

struct http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;	/* curl's timeout */
	uv_timer_t defer;	/* delivers requests that failed before curl saw them */
	int closing_handles;
	struct http_call *calls;	/* in flight, newest first */
	size_t ncalls;
	struct http_call *current;	/* whose done callback is running */
	int busy;			/* nesting of libuv callbacks in here */
	int freeing;			/* http_free was called */
	struct http_cert *certs[HTTP_CERT_BUCKETS];
};

struct http_call {
	struct http *h;
	struct http_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	http_done_fn *done;
	void *ud;
	int in_multi;
	char *setup_error;	/* failed before the transfer began */

	char *body;
	size_t body_len, body_cap, max_body;
	int truncated;
	char *hdr;
	size_t hdr_len, hdr_cap;

	int want_cert;
	char *cert_key;		/* "host:port" of an https URL when want_cert */
	char errbuf[CURL_ERROR_SIZE];
};

static void http_destroy(struct http *h);

/* ---- small helpers ---------------------------------------------------- */

static void
buf_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	size_t need = *len + n + 1;

	if (need > *cap) {
		size_t ncap = *cap ? *cap : 256;

		while (ncap < need)
			ncap *= 2;
		*buf = xreallocarray(*buf, ncap, 1);
		*cap = ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static unsigned
cert_hash(const char *s)
{
	unsigned hv = 2166136261u;

	for (; *s != '\0'; s++)
		hv = (hv ^ (unsigned char)*s) * 16777619u;
	return hv % HTTP_CERT_BUCKETS;
}

static struct http_cert *
cert_find(struct http *h, const char *key, int create)
{
	unsigned b = cert_hash(key);
	struct http_cert *ce;

	for (ce = h->certs[b]; ce != NULL; ce = ce->next)
		if (strcmp(ce->key, key) == 0)
			return ce;
	if (!create)
		return NULL;
	ce = xcalloc(1, sizeof *ce);
	ce->key = xstrdup(key);
	ce->next = h->certs[b];
	h->certs[b] = ce;
	return ce;
}

static void
cert_free_all(struct http *h)
{
	for (int b = 0; b < HTTP_CERT_BUCKETS; b++) {
		struct http_cert *ce, *next;

		for (ce = h->certs[b]; ce != NULL; ce = next) {
			next = ce->next;
			free(ce->key);
			free(ce);
		}
		h->certs[b] = NULL;
	}
}

/* "host:port" of an https URL, or NULL. */
static char *
cert_key_of(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *key = NULL;

	if (u == NULL)
		xalloc_die("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    strcasecmp(scheme, "https") == 0 &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		key = xasprintf("%s:%s", host, port);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return key;
}

/* "Jan 12 00:00:00 2027 GMT" (ASN1_TIME_print) or "2027-01-12 00:00:00
 * GMT" into epoch seconds; 0 when unparsable. */
static int64_t
parse_cert_time(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	struct tm tm;
	const char *m;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%3s %d %d:%d:%d %d", mon, &tm.tm_mday, &tm.tm_hour,
	    &tm.tm_min, &tm.tm_sec, &tm.tm_year) == 6) {
		if (strlen(mon) != 3 || (m = strstr(months, mon)) == NULL ||
		    (m - months) % 3 != 0)
			return 0;
		tm.tm_mon = (int)(m - months) / 3;
	} else if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
		tm.tm_mon--;
	} else
		return 0;
	tm.tm_year -= 1900;
	return (int64_t)timegm(&tm);
}

/* Fill RESP's cert_* from the handshake this request made, or from what an
 * earlier handshake on the same host:port said. */
static void
fill_cert(struct http_call *c, struct http_resp *resp)
{
	struct curl_certinfo *ci = NULL;
	struct http_cert *ce;

	if (!c->want_cert || c->cert_key == NULL)
		return;
	if (curl_easy_getinfo(c->easy, CURLINFO_CERTINFO, &ci) == CURLE_OK &&
	    ci != NULL && ci->num_of_certs > 0) {
		ce = cert_find(c->h, c->cert_key, 1);
		ce->expire = 0;
		ce->issuer[0] = ce->subject[0] = '\0';
		for (struct curl_slist *sl = ci->certinfo[0]; sl != NULL; sl = sl->next) {
			const char *line = sl->data;

			if (strncmp(line, "Expire date:", 12) == 0)
				ce->expire = parse_cert_time(line + 12);
			else if (strncmp(line, "Issuer:", 7) == 0)
				copy_str(ce->issuer, sizeof ce->issuer, line + 7);
			else if (strncmp(line, "Subject:", 8) == 0)
				copy_str(ce->subject, sizeof ce->subject, line + 8);
		}
	} else if ((ce = cert_find(c->h, c->cert_key, 0)) == NULL)
		return;
	resp->cert_expire = ce->expire;
	copy_str(resp->cert_issuer, sizeof resp->cert_issuer, ce->issuer);
	copy_str(resp->cert_subject, sizeof resp->cert_subject, ce->subject);
}

static double
span_ms(curl_off_t from_us, curl_off_t to_us)
{
	return to_us > from_us ? (double)(to_us - from_us) / 1000.0 : 0.0;
}

/* curl's times are cumulative from the start; we report phases. */
static void
fill_timings(CURL *e, struct http_resp *r)
{
	curl_off_t dns = 0, conn = 0, tls = 0, pre = 0, start = 0, total = 0;

	curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &start);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
	r->t_dns_ms = span_ms(0, dns);
	r->t_connect_ms = span_ms(dns, conn);
	r->t_tls_ms = tls > 0 ? span_ms(conn, tls) : 0.0;
	if (pre < conn)
		pre = conn;
	if (pre < tls)
		pre = tls;
	r->t_ttfb_ms = start > 0 ? span_ms(pre, start) : 0.0;
	r->t_total_ms = span_ms(0, total);
}

/* The transfer error in words: curl's error buffer when it said something,
 * plus the system's reason when that adds information ("Connection
 * refused"). */
static void
fill_error(struct http_call *c, CURLcode rc, struct http_resp *r)
{
	const char *msg = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);
	long oserr = 0;

	curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &oserr);
	if (oserr != 0 && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
	    rc == CURLE_SEND_ERROR) && strstr(msg, strerror((int)oserr)) == NULL)
		snprintf(r->error, sizeof r->error, "%.40s: %.200s",
		    strerror((int)oserr), msg);
	else
		copy_str(r->error, sizeof r->error, msg);
}

/* ---- call lifecycle ----------------------------------------------------- */

static void
call_link(struct http *h, struct http_call *c)
{
	c->next = h->calls;
	if (h->calls != NULL)
		h->calls->prev = c;
	h->calls = c;
	h->ncalls++;
}

static void
call_unlink(struct http_call *c)
{
	struct http *h = c->h;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	h->ncalls--;
}

static void
call_free(struct http_call *c)
{
	if (c->in_multi)
		curl_multi_remove_handle(c->h->multi, c->easy);
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->setup_error);
	free(c->body);
	free(c->hdr);
	free(c->cert_key);
	free(c);
}

/* Run C's callback with RESP, then forget C. */
static void
call_deliver(struct http_call *c, const struct http_resp *resp)
{
	struct http *h = c->h;

	call_unlink(c);
	h->current = c;
	c->done(resp, c->ud);
	h->current = NULL;
	call_free(c);
}

static void
call_complete(struct http_call *c, CURLcode rc)
{
	struct http_resp resp;
	long status = 0;

	curl_multi_remove_handle(c->h->multi, c->easy);
	c->in_multi = 0;

	memset(&resp, 0, sizeof resp);
	resp.ok = rc == CURLE_OK;
	if (resp.ok) {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		resp.status = (int)status;
	} else
		fill_error(c, rc, &resp);
	resp.body = c->body != NULL ? c->body : "";
	resp.body_len = c->body_len;
	resp.body_truncated = c->truncated;
	resp.headers = c->hdr != NULL ? c->hdr : "";
	resp.headers_len = c->hdr_len;
	fill_timings(c->easy, &resp);
	if (resp.ok)
		fill_cert(c, &resp);
	call_deliver(c, &resp);
}

/* ---- curl callbacks ----------------------------------------------------- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_call *c = ud;
	size_t n = size * nmemb, room = c->max_body - c->body_len;

	/* Keep reading (so the connection stays reusable and the status is
	 * real) but never keep more than max_body. */
	if (n > room)
		c->truncated = 1;
	if (n > 0 && room > 0) {
		size_t take = n < room ? n : room;

		if (c->body_cap < c->body_len + take + 1) {
			size_t ncap = c->body_cap ? c->body_cap * 2 : 4096;

			while (ncap < c->body_len + take + 1)
				ncap *= 2;
			if (ncap > c->max_body + 1)
				ncap = c->max_body + 1;
			c->body = xreallocarray(c->body, ncap, 1);
			c->body_cap = ncap;
		}
		memcpy(c->body + c->body_len, ptr, take);
		c->body_len += take;
		c->body[c->body_len] = '\0';
	}
	return n;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_call *c = ud;
	size_t n = size * nmemb, len = n;

	/* A status line starts a new response (redirect, 100 Continue, proxy
	 * CONNECT): only the final one's headers are kept. */
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
		c->hdr_len = 0;
	while (len > 0 && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	if (len == 0 || c->hdr_len + len + 2 > HTTP_MAX_HEADERS)
		return n;
	buf_append(&c->hdr, &c->hdr_len, &c->hdr_cap, ptr, len);
	buf_append(&c->hdr, &c->hdr_len, &c->hdr_cap, "\r\n", 2);
	return n;
}

static void http_action(struct http *h, curl_socket_t s, int ev);

static void
on_poll(uv_poll_t *poll, int status, int events)
{
	struct http_sock *hs = poll->data;
	int ev = 0;

	/* On an error libuv reports no events (and may stop the handle): let
	 * curl try both directions so it meets the error itself. */
	if (status < 0)
		ev = CURL_CSELECT_IN | CURL_CSELECT_OUT;
	if (events & UV_READABLE)
		ev |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		ev |= CURL_CSELECT_OUT;
	http_action(hs->h, hs->fd, ev);
}

static void
sock_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct http_sock *hs = socketp;
	int events = 0, rc;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			uv_poll_stop(&hs->poll);
			uv_close((uv_handle_t *)&hs->poll, sock_closed);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (hs == NULL) {
		hs = xcalloc(1, sizeof *hs);
		hs->h = h;
		hs->fd = s;
		if ((rc = uv_poll_init_socket(h->loop, &hs->poll, s)) != 0) {
			diag_log(DIAG_ERROR, "http: cannot watch socket %d: %s",
			    (int)s, uv_strerror(rc));
			free(hs);
			return -1;
		}
		hs->poll.data = hs;
		curl_multi_assign(h->multi, s, hs);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if ((rc = uv_poll_start(&hs->poll, events, on_poll)) != 0)
		diag_log(DIAG_ERROR, "http: cannot poll socket %d: %s", (int)s,
		    uv_strerror(rc));
	return 0;
}

static void
on_timer(uv_timer_t *timer)
{
	http_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

/* curl's timer function: only arm our timer, never act from in here. */
static int
on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ---- driving the multi -------------------------------------------------- */

static void
drain(struct http *h)
{
	CURLMsg *msg;
	int left;

	while (!h->freeing && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct http_call *c = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		call_complete(c, msg->data.result);
	}
}

static void
http_enter(struct http *h)
{
	h->busy++;
}

static void
http_leave(struct http *h)
{
	if (--h->busy == 0 && h->freeing)
		http_destroy(h);
}

static void
http_action(struct http *h, curl_socket_t s, int ev)
{
	int running;
	CURLMcode mc;

	http_enter(h);
	if (!h->freeing) {
		mc = curl_multi_socket_action(h->multi, s, ev, &running);
		if (mc != CURLM_OK)
			diag_log(DIAG_ERROR, "http: %s", curl_multi_strerror(mc));
		drain(h);
	}
	http_leave(h);
}

static void
on_defer(uv_timer_t *timer)
{
	struct http *h = timer->data;
	struct http_call *c;

	http_enter(h);
	while (!h->freeing) {
		struct http_resp resp;

		for (c = h->calls; c != NULL && c->setup_error == NULL; c = c->next)
			;
		if (c == NULL)
			break;
		memset(&resp, 0, sizeof resp);
		copy_str(resp.error, sizeof resp.error, c->setup_error);
		resp.body = resp.headers = "";
		call_deliver(c, &resp);
	}
	http_leave(h);
}

/* ---- public ------------------------------------------------------------- */

/* libcurl, and OpenSSL under it, start with the first request rather than
 * with the client: curl_global_init is ~1 ms and ~1.7 MiB of library pages
 * that the console's first frame does not need.  0, or -1 with WHY. */
static int
http_init_curl(struct http *h, char *why, size_t len)
{
	CURLcode rc;

	if (h->multi != NULL)
		return 0;
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(why, len, "cannot initialise libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	if ((h->multi = curl_multi_init()) == NULL) {
		curl_global_cleanup();
		snprintf(why, len, "cannot create a libcurl multi handle");
		return -1;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)HTTP_MAX_CONNECTS);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)HTTP_MAX_HOST_CONNECTIONS);
	return 0;
}

struct http *
http_new(uv_loop_t *loop, struct err *e)
{
	struct http *h;

	(void)e;
	h = xcalloc(1, sizeof *h);
	h->loop = loop;
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	uv_timer_init(loop, &h->defer);
	h->defer.data = h;
	return h;
}

static void
handle_closed(uv_handle_t *handle)
{
	struct http *h = handle->data;

	if (--h->closing_handles == 0)
		free(h);
}

/* Tear down for real: no callback of ours is on the stack. */
static void
http_destroy(struct http *h)
{
	while (h->calls != NULL) {
		struct http_call *c = h->calls;

		call_unlink(c);
		call_free(c);
	}
	/* Closes the cached connections through on_socket: the loop must be
	 * alive so the polls can close. */
	if (h->multi != NULL) {
		curl_multi_cleanup(h->multi);
		h->multi = NULL;
		curl_global_cleanup();
	}
	cert_free_all(h);
	h->closing_handles = 2;
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, handle_closed);
	uv_timer_stop(&h->defer);
	uv_close((uv_handle_t *)&h->defer, handle_closed);
}

void
http_free(struct http **hp)
{
	struct http *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	*hp = NULL;
	h->freeing = 1;
	/* Cancel now so no callback can run; the call whose callback is
	 * running is freed by call_deliver when it returns. */
	for (struct http_call *c = h->calls, *next; c != NULL; c = next) {
		next = c->next;
		call_unlink(c);
		call_free(c);
	}
	if (h->busy == 0)
		http_destroy(h);
}

#define SETOPT(opt, val) do { \
	if ((rc = curl_easy_setopt(c->easy, (opt), (val))) != CURLE_OK) \
		goto fail; \
} while (0)

struct http_call *
http_request(struct http *h, const struct http_req *req, http_done_fn *done,
    void *ud)
{
	struct http_call *c = xcalloc(1, sizeof *c);
	const char *method = req->method;
	long timeout = req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	CURLcode rc = CURLE_OK;
	CURLMcode mc;

	c->h = h;
	c->done = done;
	c->ud = ud;
	c->max_body = req->max_body > 0 ? req->max_body : HTTP_DEFAULT_MAX_BODY;
	call_link(h, c);

	if (req->url == NULL || req->url[0] == '\0') {
		c->setup_error = xstrdup("no URL given");
		goto defer;
	}
	if (http_init_curl(h, c->errbuf, sizeof c->errbuf) != 0) {
		c->setup_error = xstrdup(c->errbuf);
		goto defer;
	}
	if ((c->easy = curl_easy_init()) == NULL)
		xalloc_die("out of memory (curl_easy_init)");
	SETOPT(CURLOPT_PRIVATE, (void *)c);
	SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_USERAGENT, "signalbox/" SIGNALBOX_VERSION);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : timeout);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, (void *)c);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, (void *)c);
	if (req->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, req->ca_file);
	if (req->want_cert && (c->cert_key = cert_key_of(req->url)) != NULL) {
		c->want_cert = 1;
		SETOPT(CURLOPT_CERTINFO, 1L);
	}
	if (req->body != NULL) {
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SETOPT(CURLOPT_COPYPOSTFIELDS, req->body);
	}
	if (method != NULL) {
		if (strcasecmp(method, "HEAD") == 0)
			SETOPT(CURLOPT_NOBODY, 1L);
		else if (strcasecmp(method, "GET") == 0 && req->body == NULL)
			SETOPT(CURLOPT_HTTPGET, 1L);
		else if (strcasecmp(method, "POST") != 0 || req->body == NULL)
			SETOPT(CURLOPT_CUSTOMREQUEST, method);
		if (strcasecmp(method, "POST") == 0 && req->body == NULL) {
			SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			SETOPT(CURLOPT_COPYPOSTFIELDS, "");
		}
	}
	for (const char *const *hp = req->headers; hp != NULL && *hp != NULL; hp++) {
		struct curl_slist *sl = curl_slist_append(c->headers, *hp);

		if (sl == NULL)
			xalloc_die("out of memory (curl_slist_append)");
		c->headers = sl;
	}
	if (c->headers != NULL)
		SETOPT(CURLOPT_HTTPHEADER, c->headers);

	/* Adding only arms our timer (0 ms): the transfer starts, and any
	 * error is reported, from the loop. */
	if ((mc = curl_multi_add_handle(h->multi, c->easy)) != CURLM_OK) {
		c->setup_error = xasprintf("cannot start the request: %s",
		    curl_multi_strerror(mc));
		goto defer;
	}
	c->in_multi = 1;
	return c;

fail:
	c->setup_error = xasprintf("cannot set up the request: %s",
	    curl_easy_strerror(rc));
defer:
	uv_timer_start(&h->defer, on_defer, 0, 0);
	return c;
}

#undef SETOPT

void
http_cancel(struct http_call *c)
{
	if (c == NULL || c->h->current == c)
		return;
	call_unlink(c);
	call_free(c);
}

size_t
http_pending(const struct http *h)
{
	return h->ncalls;
}

int
http_header_get(const char *headers, size_t len, const char *name, char *buf,
    size_t buflen)
{
	const char *p = headers, *end = headers + len;
	size_t nlen = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;
		const char *colon = memchr(p, ':', (size_t)(line_end - p));

		if (colon != NULL) {
			const char *ne = colon;

			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			if ((size_t)(ne - p) == nlen && strncasecmp(p, name, nlen) == 0) {
				const char *v = colon + 1, *ve = line_end;
				size_t vlen;

				while (v < ve && isspace((unsigned char)*v))
					v++;
				while (ve > v && isspace((unsigned char)ve[-1]))
					ve--;
				vlen = (size_t)(ve - v);
				if (buflen > 0) {
					if (vlen >= buflen)
						vlen = buflen - 1;
					memcpy(buf, v, vlen);
					buf[vlen] = '\0';
				}
				return 1;
			}
		}
		p = line_end + 1;
	}
	return 0;
}
