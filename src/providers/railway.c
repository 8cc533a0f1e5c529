/* railway.c - the Railway provider: GraphQL client and project snapshots.
 *
 * Requests are of five kinds, at most one in flight per kind: RESOLVE
 * (project token scope, project and environment), SNAPSHOT (the project
 * poll), HISTORY (deployments), VARS (variable names and fingerprints) and
 * ACTION (mutations and reveals, a FIFO queue sent one at a time).
 *
 * One poll timer drives the cycle: resolve once, then a snapshot; when the
 * snapshot succeeds, the history and the variables follow if they are due,
 * and the next poll is armed at the interval the budget governor allows.
 * A failed snapshot arms the timer with exponential backoff instead; a 429
 * holds every request (actions too) until Retry-After has passed.
 *
 * Replies are parsed with cJSON after every integer literal longer than 15
 * digits has been turned into a string, so no id is rounded through a
 * double.  Every string kept for display goes through text_sanitize.
 * Variable values are hashed and wiped: they never reach a snapshot.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/diag.h"
#include "signalbox/embed.h"
#include "signalbox/gqlws.h"
#include "signalbox/http.h"
#include "signalbox/loop.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#include "railway_int.h"

enum {
	RW_DEFAULT_POLL_MS = 10000,
	RW_DEFAULT_HISTORY_MS = 2 * 60 * 1000,	/* also on every change seen */
	RW_DEFAULT_VARS_MS = 5 * 60 * 1000,
	RW_DEFAULT_HISTORY_LIMIT = 100,
	RW_DEFAULT_METRICS_MS = 30 * 60 * 1000,
	RW_DEFAULT_TIMEOUT_MS = 20000,
	RW_BUSY_POLL_MS = 3000,		/* while a deployment is in progress */
	RW_QUIET_POLLS = 6,		/* unchanged snapshots before the quiet stretch */
	RW_HISTORY_SETTLE = 2,		/* history refreshes after a change */
	RW_BACKOFF_MIN_MS = 1000,
	RW_BACKOFF_MAX_MS = 60000,
	RW_DEFAULT_RETRY_MS = 60000,	/* 429 without a usable Retry-After */
	RW_MAX_RETRY_MS = 3600 * 1000,
	RW_METRIC_POINTS = 60,		/* samples per sparkline window */
	RW_MAX_POINTS = 240,		/* kept per series */
	RW_CAP_ID = 128,		/* bytes of an id kept */
	RW_CAP_NAME = 256,		/* names, versions, images */
	RW_CAP_TEXT = 512,		/* messages */
	RW_MAX_BODY_POLL = 8 * 1024 * 1024,
	RW_MAX_BODY_ACTION = 2 * 1024 * 1024,
	RW_ERR_LEN = 512,
};

/* --- GraphQL documents ---------------------------------------------------- */

static const char *const rw_doc_files[RW_DOC_COUNT] = {
#define RW_DOC_NAME(id, file) file,
	RW_DOC_INFO(RW_DOC_NAME)
#undef RW_DOC_NAME
};

/* --- state ----------------------------------------------------------------- */

enum rw_kind { RW_RESOLVE, RW_SNAPSHOT, RW_HISTORY, RW_VARS, RW_ACTION, RW_KIND_COUNT };

static const char *const rw_kind_label[RW_KIND_COUNT] = {
	"project", "services", "deployments", "variables", "action",
};

/* How a reply went. */
enum rw_fail {
	RW_FAIL_NONE,
	RW_FAIL_NET,	/* transport, 5xx, malformed: retry with backoff */
	RW_FAIL_LIMIT,	/* 429: wait Retry-After */
	RW_FAIL_API,	/* the API refused, in words */
};

struct rw_reply {
	enum rw_fail fail;
	char error[RW_ERR_LEN];		/* words for the user, sanitised */
	int partial;			/* errors beside data: error holds them */
	int64_t retry_ms;		/* RW_FAIL_LIMIT */
	char *text;			/* the body with big integers quoted */
	size_t text_len;
	cJSON *root;
	const cJSON *data;
};

struct railway;

/* One queued mutation or reveal. */
struct rw_op {
	struct rw_op *next;
	const char *name;	/* "deploy", ... (static) */
	enum rw_doc doc;
	char *vars;		/* the request's variables as JSON (may hold a secret) */
	int secret;		/* wipe vars and the reply */
	int is_var_change;	/* refresh the variables afterwards */
	char *reveal_name;	/* var-reveal: the variable wanted */
	char *reveal_scope;	/* var-reveal: service id or "shared", for messages */
	railway_done_fn *done;
	railway_int_read_fn *read;	/* a read (not a mutation): gets the data */
	int write;		/* railway_int_write: a mutation answered as data */
	void *ud;
	uint64_t t0;		/* loop ms at the call */
	int sent;		/* on the wire (outcome unknown if cancelled) */
};

struct rw_flight {
	struct railway *rw;
	enum rw_kind kind;
	struct http_call *call;
	uint64_t t0;
};

/* A deployment in progress followed through the `deployment` subscription. */
struct rw_watch {
	struct rw_watch *next;
	struct railway *rw;
	char *id;
	char status[24];	/* last status seen, "" before the first */
	struct gqlws_sub *sub;
	int live;		/* a message came on the current subscription */
	int mark;		/* still in progress in the latest snapshot */
};

/* Someone told of the subscription connection's state (railway_logs.c). */
struct rw_listener {
	struct rw_listener *next;
	railway_int_live_fn *fn;	/* NULL: removed while the list was walked */
	void *ud;
};

struct railway {
	uv_loop_t *loop;
	struct store *store;
	struct http *http;
	struct ws_ctx *ws;		/* NULL: polling only */
	struct gqlws *live;		/* subscriptions; created on first use */
	struct rw_watch *watches;
	struct rw_listener *listeners;
	int walking;			/* inside the listeners' calls */

	/* options */
	char *endpoint;
	char *auth_header;		/* holds the token: wiped at free */
	const char *headers[5];
	enum railway_token_kind token_kind;
	char *token_hint;		/* "check RAILWAY_TOKEN" */
	char *project_id;		/* "" until known */
	char *env_want;			/* id or name, "" = default */
	char *ca_file;
	int64_t poll_ms, history_ms, vars_ms, metrics_ms;
	int history_limit;
	long timeout_ms;
	const char *docs[RW_DOC_COUNT];

	/* lifecycle */
	int running;
	int resolved;
	int token_scoped;		/* projectToken answered */
	char *env_id;			/* "" until resolved */
	char *env_name;
	char *project_name;
	struct rw_flight flight[RW_KIND_COUNT];
	struct loop_timer *poll_timer;
	struct loop_timer *action_timer;
	int failures;			/* consecutive poll failures (backoff) */
	uint64_t history_at, vars_at;	/* loop ms of the last attempt, 0 = never */
	int history_due, vars_due, snapshot_again;
	char *latest_sig;		/* latest deployment per service, to spot changes */
	int busy;			/* a deployment is in progress */
	int quiet;			/* snapshots in a row without a change */
	int history_settle;		/* more history refreshes after a change */
	int settle_fast;		/* fast polls left after a rollout followed live ended
					 * (the replaced deployment goes REMOVING → REMOVED) */

	/* budget */
	int rl_known;
	long rl_limit, rl_remaining;
	int64_t rl_reset_ms;		/* wall */
	uint64_t wait_until;		/* loop ms; 0 = no 429 wait */
	int64_t wait_until_wall;
	int64_t cur_poll_ms;
	int paused;
	unsigned long requests;

	/* actions */
	struct rw_op *q_head, *q_tail;
	size_t q_len;

	/* published data, a counted reference kept for names and order */
	struct railway_project_snap *snap;

	/* errors per kind, for the source state */
	enum rw_fail err_kind[RW_KIND_COUNT];
	char err_text[RW_KIND_COUNT][RW_ERR_LEN];
	enum store_state last_state;
	char last_state_text[RW_ERR_LEN];
	int state_set;

	uint64_t rng;
};

static void rw_poll(struct railway *rw);
static void rw_kick_actions(struct railway *rw);
static void rw_refresh_soon(struct railway *rw, int history, int vars);
static void rw_watch_sync(struct railway *rw, const struct railway_project_snap *snap);
static int rw_watched_live(const struct railway *rw);
static void rw_live_close(struct railway *rw);

/* --- small helpers ------------------------------------------------------ */

static void
rw_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static uint64_t
rw_rand(struct railway *rw)
{
	uint64_t x = rw->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rw->rng = x;
	return x;
}

static int
rw_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Cut N bytes of S at a character boundary to at most CAP bytes. */
static size_t
rw_cut(const char *s, size_t n, size_t cap)
{
	if (n <= cap)
		return n;
	n = cap;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Sanitised copy of N bytes of S, at most CAP bytes of input. */
static char *
rw_clean(const char *s, size_t n, size_t cap)
{
	if (s == NULL)
		return xstrdup("");
	return text_sanitize(s, rw_cut(s, n, cap), 0);
}

static void
rw_clean_into(char *dst, size_t len, const char *s)
{
	char *c = rw_clean(s, s != NULL ? strlen(s) : 0, len * 2);

	util_strlcpy(dst, c, len);
	/* never end inside a character */
	if (strlen(c) >= len) {
		size_t n = rw_cut(c, strlen(c), len - 1);

		dst[n] = '\0';
	}
	free(c);
}

static const cJSON *
rw_get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* V when it is an array / object, else NULL (for cJSON_ArrayForEach). */
static const cJSON *
rw_arr(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

static const cJSON *
rw_objv(const cJSON *v)
{
	return cJSON_IsObject(v) ? v : NULL;
}

static const cJSON *
rw_obj(const cJSON *o, const char *key)
{
	const cJSON *v = rw_get(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

/* Raw string of O.KEY (not sanitised), or NULL. */
static const char *
rw_raw(const cJSON *o, const char *key)
{
	const cJSON *v = rw_get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Sanitised text of item V: strings as is, numbers and booleans printed,
 * "" for anything else. */
static char *
rw_item_text(const cJSON *v, size_t cap)
{
	char num[64];

	if (cJSON_IsString(v) && v->valuestring != NULL)
		return rw_clean(v->valuestring, strlen(v->valuestring), cap);
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d > -9e15 && d < 9e15 && d == (double)(long long)d)
			snprintf(num, sizeof num, "%lld", (long long)d);
		else
			snprintf(num, sizeof num, "%.17g", d);
		return xstrdup(num);
	}
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	return xstrdup("");
}

static char *
rw_text(const cJSON *o, const char *key, size_t cap)
{
	return rw_item_text(rw_get(o, key), cap);
}

static int
rw_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(rw_get(o, key));
}

/* Number of item V (a JSON number or a numeric string); 0 when neither. */
static int
rw_item_num(const cJSON *v, double *out)
{
	char *end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return 1;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL && v->valuestring[0] != '\0') {
		errno = 0;
		*out = strtod(v->valuestring, &end);
		return errno == 0 && *end == '\0';
	}
	return 0;
}

/* The edges[].node list of a Relay connection O.KEY (NULL when absent). */
static const cJSON *
rw_edges(const cJSON *o, const char *key)
{
	const cJSON *e = rw_get(rw_obj(o, key), "edges");

	return cJSON_IsArray(e) ? e : NULL;
}

static const cJSON *
rw_node(const cJSON *edge)
{
	return rw_obj(edge, "node");
}

static void
rw_json_oom(const void *p)
{
	if (p == NULL)
		xalloc_die("out of memory (cJSON)");
}

/* Overwrite every string value under V (names of members stay). */
static void
rw_json_wipe(cJSON *v)
{
	for (; v != NULL; v = v->next) {
		if (v->valuestring != NULL)
			explicit_bzero(v->valuestring, strlen(v->valuestring));
		if (v->child != NULL)
			rw_json_wipe(v->child);
	}
}

/* Copy of N bytes of JSON IN where every integer literal with more than 15
 * digits is quoted: cJSON would round it through a double. */
static char *
rw_quote_bigints(const char *in, size_t n, size_t *out_len)
{
	size_t cap = n + n / 8 + 16, len = 0, i = 0;
	char *out = xmalloc(cap);
	int in_str = 0;

#define RW_PUT(c) do { \
	if (len + 3 > cap) { \
		cap *= 2; \
		out = xreallocarray(out, cap, 1); \
	} \
	out[len++] = (c); \
} while (0)
	while (i < n) {
		char c = in[i];

		if (in_str) {
			RW_PUT(c);
			if (c == '\\' && i + 1 < n) {
				RW_PUT(in[i + 1]);
				i += 2;
				continue;
			}
			if (c == '"')
				in_str = 0;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			RW_PUT(c);
			i++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i, d0, k;
			int is_int = 1;

			if (in[j] == '-')
				j++;
			d0 = j;
			while (j < n && in[j] >= '0' && in[j] <= '9')
				j++;
			k = j;
			while (k < n && (in[k] == '.' || in[k] == 'e' || in[k] == 'E' ||
			    in[k] == '+' || in[k] == '-' || (in[k] >= '0' && in[k] <= '9'))) {
				is_int = 0;
				k++;
			}
			if (is_int && j - d0 > 15) {
				RW_PUT('"');
				for (size_t m = i; m < j; m++)
					RW_PUT(in[m]);
				RW_PUT('"');
			} else {
				for (size_t m = i; m < k; m++)
					RW_PUT(in[m]);
			}
			i = k;
			continue;
		}
		RW_PUT(c);
		i++;
	}
#undef RW_PUT
	out[len] = '\0';
	*out_len = len;
	return out;
}

/* --- time --------------------------------------------------------------- */

static int
rw_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* RFC 3339 "2026-11-23T12:51:24.645Z" (or +hh:mm) into epoch ms; 0 when
 * malformed. */
static int64_t
rw_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms = 0, oh, om;
	int64_t t;
	const char *p;

	if (s == NULL || strlen(s) < 19)
		return 0;
	if (!rw_digits(s, 4, &y) || s[4] != '-' || !rw_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !rw_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' &&
	    s[10] != ' ') || !rw_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !rw_digits(s + 14, 2, &mi) || s[16] != ':' || !rw_digits(s + 17, 2, &sec))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	p = s + 19;
	if (*p == '.') {
		int scale = 100;

		for (p++; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm) * 1000 + ms;
	if (*p == 'Z' || *p == 'z' || *p == '\0')
		return t;
	if ((*p == '+' || *p == '-') && rw_digits(p + 1, 2, &oh) && p[3] == ':' &&
	    rw_digits(p + 4, 2, &om)) {
		int64_t off = ((int64_t)oh * 60 + om) * 60000;

		return *p == '+' ? t - off : t + off;
	}
	return 0;
}

int64_t
railway_retry_after_ms(const char *value, int64_t now_ms)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const char *p = value;
	struct tm tm;
	int d, y, h, mi, s, mo = -1;
	int64_t secs = 0, when;

	if (p == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9'; p++) {
			if (secs < 10 * 24 * 3600)
				secs = secs * 10 + (*p - '0');
		}
		while (*p == ' ' || *p == '\t')
			p++;
		return *p == '\0' ? secs * 1000 : -1;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (strlen(p) < 29 || p[3] != ',' || p[4] != ' ' || !rw_digits(p + 5, 2, &d) ||
	    p[7] != ' ' || p[11] != ' ' || !rw_digits(p + 12, 4, &y) || p[16] != ' ' ||
	    !rw_digits(p + 17, 2, &h) || p[19] != ':' || !rw_digits(p + 20, 2, &mi) ||
	    p[22] != ':' || !rw_digits(p + 23, 2, &s) || strncmp(p + 25, " GMT", 4) != 0)
		return -1;
	for (int i = 0; i < 12; i++)
		if (strncmp(p + 8, months[i], 3) == 0)
			mo = i;
	if (mo < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	when = (int64_t)timegm(&tm) * 1000;
	return when > now_ms ? when - now_ms : 0;
}

/* X-RateLimit-Reset: epoch seconds, epoch ms, seconds from now, or a date. */
static int64_t
rw_parse_reset(const char *v, int64_t now_ms)
{
	char *end;
	long long n;
	int64_t t;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno == 0 && end != v && *end == '\0' && n >= 0) {
		if (n > 100000000000LL)
			return n;		/* epoch ms */
		if (n > 1000000000LL)
			return n * 1000;	/* epoch s */
		return now_ms + n * 1000;	/* seconds from now */
	}
	if ((t = rw_parse_time(v)) > 0)
		return t;
	if ((t = railway_retry_after_ms(v, now_ms)) >= 0)
		return now_ms + t;
	return 0;
}

/* --- pure helpers ----------------------------------------------------------- */

void
railway_fingerprint(const void *data, size_t len, char out[RAILWAY_FP_LEN + 1])
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* the top 32 bits: FNV's low bits mix least */
	snprintf(out, RAILWAY_FP_LEN + 1, "%08lx", (unsigned long)((h >> 32) & 0xffffffffUL));
}

int64_t
railway_governor_ms(int64_t base_ms, long limit, long remaining)
{
	if (remaining >= 0 && remaining < RAILWAY_RESERVE)
		return -1;
	if (limit > 0 && remaining >= 0) {
		if ((int64_t)remaining * 5 < (int64_t)limit)
			return base_ms * 4;	/* below 20 % */
		if ((int64_t)remaining * 2 < (int64_t)limit)
			return base_ms * 2;	/* below 50 % */
	}
	return base_ms;
}

/* --- statuses ---------------------------------------------------------- */

static const char *const rw_status_names[RAILWAY_STATUS_COUNT] = {
#define RW_STATUS_NAME(id, name, kind) name,
	RAILWAY_STATUS_INFO(RW_STATUS_NAME)
#undef RW_STATUS_NAME
};

static const enum railway_kind rw_status_kinds[RAILWAY_STATUS_COUNT] = {
#define RW_STATUS_KIND(id, name, kind) RAILWAY_KIND_##kind,
	RAILWAY_STATUS_INFO(RW_STATUS_KIND)
#undef RW_STATUS_KIND
};

const char *
railway_status_name(enum railway_status s)
{
	if ((unsigned)s >= RAILWAY_STATUS_COUNT)
		return "UNKNOWN";
	return rw_status_names[s];
}

enum railway_kind
railway_status_kind(enum railway_status s)
{
	if ((unsigned)s >= RAILWAY_STATUS_COUNT)
		return RAILWAY_KIND_OFF;
	return rw_status_kinds[s];
}

enum railway_status
railway_status_parse(const char *text)
{
	if (text == NULL)
		return RAILWAY_STATUS_UNKNOWN;
	for (int i = 0; i < RAILWAY_STATUS_UNKNOWN; i++)
		if (strcmp(text, rw_status_names[i]) == 0)
			return (enum railway_status)i;
	return RAILWAY_STATUS_UNKNOWN;
}

/* --- snapshots: lifetime ------------------------------------------------- */

static void
rw_deployment_fini(struct railway_deployment *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->status_text);
	free(d->version);
	free(d->commit);
	free(d->image);
	free(d->message);
	free(d->creator);
	memset(d, 0, sizeof *d);
}

static void
rw_series_fini(struct railway_series *s)
{
	free(s->points);
	s->points = NULL;
	s->n = 0;
}

static void
rw_service_fini(struct railway_service *s)
{
	free(s->id);
	free(s->name);
	free(s->instance_id);
	free(s->image);
	free(s->repo);
	free(s->source_version);
	free(s->domain);
	free(s->region);
	if (s->latest != NULL) {
		rw_deployment_fini(s->latest);
		free(s->latest);
	}
	if (s->active != NULL) {
		rw_deployment_fini(s->active);
		free(s->active);
	}
	for (size_t i = 0; i < s->n_regions; i++)
		free(s->regions[i].name);
	free(s->regions);
	rw_series_fini(&s->cpu);
	rw_series_fini(&s->mem);
}

void
railway_project_snap_ref(struct railway_project_snap *s)
{
	if (s != NULL)
		s->refs++;
}

void
railway_project_snap_unref(struct railway_project_snap *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n_services; i++)
		rw_service_fini(&s->services[i]);
	free(s->services);
	free(s->project_id);
	free(s->project_name);
	free(s->environment_id);
	free(s->environment_name);
	free(s);
}

void
railway_history_snap_ref(struct railway_history_snap *s)
{
	if (s != NULL)
		s->refs++;
}

void
railway_history_snap_unref(struct railway_history_snap *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n_services; i++) {
		struct railway_service_history *h = &s->services[i];

		for (size_t j = 0; j < h->n; j++)
			rw_deployment_fini(&h->deployments[j]);
		free(h->deployments);
		free(h->service_id);
		free(h->service_name);
	}
	free(s->services);
	free(s->environment_id);
	free(s);
}

void
railway_vars_snap_ref(struct railway_vars_snap *s)
{
	if (s != NULL)
		s->refs++;
}

void
railway_vars_snap_unref(struct railway_vars_snap *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n_sets; i++) {
		struct railway_var_set *vs = &s->sets[i];

		for (size_t j = 0; j < vs->n; j++)
			free(vs->vars[j].name);
		free(vs->vars);
		free(vs->service_id);
		free(vs->service_name);
	}
	free(s->sets);
	free(s->environment_id);
	free(s);
}

static void
rw_project_free_fn(void *p)
{
	railway_project_snap_unref(p);
}

static void
rw_history_free_fn(void *p)
{
	railway_history_snap_unref(p);
}

static void
rw_vars_free_fn(void *p)
{
	railway_vars_snap_unref(p);
}

const struct railway_service *
railway_project_find(const struct railway_project_snap *snap, const char *id)
{
	if (snap == NULL || id == NULL)
		return NULL;
	for (size_t i = 0; i < snap->n_services; i++)
		if (strcmp(snap->services[i].id, id) == 0)
			return &snap->services[i];
	return NULL;
}

const struct railway_service_history *
railway_history_find(const struct railway_history_snap *snap, const char *service_id)
{
	if (snap == NULL || service_id == NULL)
		return NULL;
	for (size_t i = 0; i < snap->n_services; i++)
		if (strcmp(snap->services[i].service_id, service_id) == 0)
			return &snap->services[i];
	return NULL;
}

/* --- snapshots: decoding -------------------------------------------------- */

/* The tag of image reference IMG ("repo/app:v2@sha256:..." -> "v2"), or
 * NULL when it has none.  Returns a pointer into IMG and its length. */
static const char *
rw_image_tag(const char *img, size_t *len)
{
	const char *end, *slash, *colon;

	if (img == NULL)
		return NULL;
	end = strchr(img, '@');
	if (end == NULL)
		end = img + strlen(img);
	slash = NULL;
	for (const char *p = img; p < end; p++)
		if (*p == '/')
			slash = p;
	colon = NULL;
	for (const char *p = slash != NULL ? slash : img; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon == NULL || colon + 1 >= end)
		return NULL;
	*len = (size_t)(end - colon - 1);
	return colon + 1;
}

static void
rw_deployment_parse(const cJSON *o, struct railway_deployment *d)
{
	const cJSON *meta = rw_obj(o, "meta"), *inst = rw_get(o, "instances");
	const cJSON *creator = rw_obj(o, "creator"), *it;
	const char *img, *tag, *commit;
	size_t tag_len = 0;

	memset(d, 0, sizeof *d);
	d->id = rw_text(o, "id", RW_CAP_ID);
	d->status_text = rw_text(o, "status", RW_CAP_NAME);
	d->status = railway_status_parse(rw_raw(o, "status"));
	d->created_ms = rw_parse_time(rw_raw(o, "createdAt"));
	d->status_updated_ms = rw_parse_time(rw_raw(o, "statusUpdatedAt"));
	d->can_rollback = rw_bool(o, "canRollback");
	d->can_redeploy = rw_bool(o, "canRedeploy");
	d->stopped = rw_bool(o, "deploymentStopped");

	img = rw_raw(meta, "image");
	if (img == NULL)
		img = rw_raw(rw_obj(rw_obj(meta, "serviceManifest"), "source"), "image");
	commit = rw_raw(meta, "commitHash");
	d->image = rw_clean(img, img != NULL ? strlen(img) : 0, RW_CAP_NAME);
	d->commit = rw_clean(commit, commit != NULL ? strlen(commit) : 0, RW_CAP_NAME);
	d->message = rw_text(meta, "commitMessage", RW_CAP_TEXT);
	if ((tag = rw_image_tag(img, &tag_len)) != NULL)
		d->version = rw_clean(tag, tag_len, RW_CAP_NAME);
	else if (commit != NULL)
		d->version = rw_clean(commit, strlen(commit), 7);
	else
		d->version = xstrdup("");

	d->creator = rw_text(creator, "name", RW_CAP_NAME);
	if (d->creator[0] == '\0') {
		free(d->creator);
		d->creator = rw_text(creator, "email", RW_CAP_NAME);
	}
	cJSON_ArrayForEach(it, rw_arr(inst)) {
		const char *st = rw_raw(it, "status");

		if (st == NULL || strcmp(st, "REMOVED") == 0)
			continue;
		d->instances++;
		if (strcmp(st, "RUNNING") == 0)
			d->instances_running++;
		else if (strcmp(st, "CRASHED") == 0 || strcmp(st, "EXITED") == 0 ||
		    strcmp(st, "RESTARTING") == 0)
			d->instances_crashed++;
	}
}

static struct railway_deployment *
rw_deployment_new(const cJSON *o)
{
	struct railway_deployment *d;

	if (!cJSON_IsObject(o))
		return NULL;
	d = xmalloc(sizeof *d);
	rw_deployment_parse(o, d);
	return d;
}

static struct railway_region *
rw_region_get(struct railway_service *s, const char *name)
{
	char *clean = rw_clean(name, strlen(name), RW_CAP_NAME);

	for (size_t i = 0; i < s->n_regions; i++) {
		if (strcmp(s->regions[i].name, clean) == 0) {
			free(clean);
			return &s->regions[i];
		}
	}
	s->regions = xreallocarray(s->regions, s->n_regions + 1, sizeof *s->regions);
	s->regions[s->n_regions].name = clean;
	s->regions[s->n_regions].desired = -1;
	s->regions[s->n_regions].running = 0;
	return &s->regions[s->n_regions++];
}

static int
rw_region_cmp(const void *a, const void *b)
{
	return strcmp(((const struct railway_region *)a)->name,
	    ((const struct railway_region *)b)->name);
}

static int
rw_point_cmp(const void *a, const void *b)
{
	const struct railway_point *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

/* Sum the MEASUREMENT series of service ID in METRICS into OUT, by time. */
static void
rw_series_build(const cJSON *metrics, const char *id, const char *measurement,
    struct railway_series *out)
{
	const cJSON *m, *v;
	size_t n = 0, cap = 0, w;
	struct railway_point *pts = NULL;

	cJSON_ArrayForEach(m, rw_arr(metrics)) {
		const char *sid = rw_raw(rw_obj(m, "tags"), "serviceId");
		const char *meas = rw_raw(m, "measurement");
		const cJSON *vals = rw_get(m, "values");

		if (sid == NULL || meas == NULL || strcmp(sid, id) != 0 ||
		    strcmp(meas, measurement) != 0)
			continue;
		cJSON_ArrayForEach(v, rw_arr(vals)) {
			double ts, val;

			if (!rw_item_num(rw_get(v, "ts"), &ts) ||
			    !rw_item_num(rw_get(v, "value"), &val) || val != val ||
			    !(ts >= 0 && ts < 1e12) || !(val > -1e15 && val < 1e15))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				pts = xreallocarray(pts, cap, sizeof *pts);
			}
			pts[n].ts = (int64_t)ts;
			pts[n].value = val;
			n++;
		}
	}
	if (n == 0) {
		free(pts);
		return;
	}
	qsort(pts, n, sizeof *pts, rw_point_cmp);
	w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && pts[w - 1].ts == pts[i].ts)
			pts[w - 1].value += pts[i].value;
		else
			pts[w++] = pts[i];
	}
	if (w > RW_MAX_POINTS) {
		memmove(pts, pts + (w - RW_MAX_POINTS), RW_MAX_POINTS * sizeof *pts);
		w = RW_MAX_POINTS;
	}
	out->points = pts;
	out->n = w;
}

/* Region of replica instance ID in METRICS, or NULL. */
static const char *
rw_instance_region(const cJSON *metrics, const char *id)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, rw_arr(metrics)) {
		const cJSON *tags = rw_obj(m, "tags");
		const char *iid = rw_raw(tags, "deploymentInstanceId");
		const char *region = rw_raw(tags, "region");

		if (iid != NULL && region != NULL && strcmp(iid, id) == 0)
			return region;
	}
	return NULL;
}

/* The serving deployment among ACTIVE (an array): SUCCESS first, then
 * CRASHED or SLEEPING, then the first one. */
static const cJSON *
rw_pick_active(const cJSON *active)
{
	static const char *const pref[] = { "SUCCESS", "CRASHED", "SLEEPING" };
	const cJSON *d;

	if (!cJSON_IsArray(active))
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(pref); i++) {
		cJSON_ArrayForEach(d, active) {
			const char *st = rw_raw(d, "status");

			if (st != NULL && strcmp(st, pref[i]) == 0)
				return d;
		}
	}
	return cJSON_GetArrayItem(active, 0);
}

static void
rw_service_fill(struct railway_service *s, const cJSON *inst, const cJSON *config,
    const cJSON *metrics)
{
	const cJSON *cfg = rw_obj(rw_obj(config, "services"), s->id);
	const cJSON *mrc = rw_obj(rw_obj(cfg, "deploy"), "multiRegionConfig");
	const cJSON *active_j = rw_pick_active(rw_get(inst, "activeDeployments"));
	const cJSON *r, *it, *domains;
	const char *img;
	size_t tag_len = 0;
	const char *tag;
	int unmapped = 0;

	s->instance_id = rw_text(inst, "id", RW_CAP_ID);
	img = rw_raw(rw_obj(inst, "source"), "image");
	if (img == NULL)
		img = rw_raw(rw_obj(cfg, "source"), "image");
	s->image = rw_clean(img, img != NULL ? strlen(img) : 0, RW_CAP_NAME);
	s->repo = rw_text(rw_obj(inst, "source"), "repo", RW_CAP_NAME);
	tag = rw_image_tag(img, &tag_len);
	s->source_version = rw_clean(tag, tag != NULL ? tag_len : 0, RW_CAP_NAME);
	domains = rw_get(rw_obj(inst, "domains"), "serviceDomains");
	s->domain = rw_text(cJSON_IsArray(domains) ? cJSON_GetArrayItem(domains, 0) : NULL,
	    "domain", RW_CAP_NAME);
	s->region = rw_text(inst, "region", RW_CAP_NAME);
	s->latest = rw_deployment_new(rw_get(inst, "latestDeployment"));
	s->active = rw_deployment_new(active_j);

	/* desired replicas per region */
	s->desired_total = -1;
	cJSON_ArrayForEach(r, mrc) {
		double n;

		if (r->string == NULL || !rw_item_num(rw_get(r, "numReplicas"), &n) ||
		    !(n >= 0 && n <= 100000))
			continue;	/* null: the region was removed */
		rw_region_get(s, r->string)->desired = (int)n;
		s->desired_total = (s->desired_total < 0 ? 0 : s->desired_total) + (int)n;
	}
	if (s->desired_total < 0) {
		double n;

		if (rw_item_num(rw_get(inst, "numReplicas"), &n) && n >= 0 && n <= 100000) {
			rw_region_get(s, s->region)->desired = (int)n;
			s->desired_total = (int)n;
		}
	}

	/* running replicas of the active deployment, by region (from the
	 * replica's metric tags; the instance list has no region) */
	cJSON_ArrayForEach(it, rw_arr(rw_get(active_j, "instances"))) {
		const char *st = rw_raw(it, "status"), *iid = rw_raw(it, "id");
		const char *region;

		if (st == NULL || strcmp(st, "RUNNING") != 0)
			continue;
		s->running_total++;
		region = iid != NULL ? rw_instance_region(metrics, iid) : NULL;
		if (region != NULL)
			rw_region_get(s, region)->running++;
		else
			unmapped++;
	}
	if (unmapped > 0) {
		if (s->n_regions == 1)
			s->regions[0].running += unmapped;
		else if (s->n_regions == 0 && s->region[0] != '\0')
			rw_region_get(s, s->region)->running += unmapped;
		else
			rw_region_get(s, "")->running += unmapped;	/* region unknown */
	}
	if (s->n_regions > 1)
		qsort(s->regions, s->n_regions, sizeof *s->regions, rw_region_cmp);

	rw_series_build(metrics, s->id, "CPU_USAGE", &s->cpu);
	rw_series_build(metrics, s->id, "MEMORY_USAGE_GB", &s->mem);
}

static struct railway_service *
rw_snap_add_service(struct railway_project_snap *snap, size_t *cap, const char *id,
    const char *name)
{
	struct railway_service *s;

	if (snap->n_services == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		snap->services = xreallocarray(snap->services, *cap, sizeof *snap->services);
	}
	s = &snap->services[snap->n_services++];
	memset(s, 0, sizeof *s);
	s->id = rw_clean(id, strlen(id), RW_CAP_ID);
	s->name = rw_clean(name, strlen(name), RW_CAP_NAME);
	s->desired_total = -1;
	return s;
}

/* Fill the empty strings of a service without an instance. */
static void
rw_service_blank(struct railway_service *s)
{
	char **f[] = { &s->instance_id, &s->image, &s->repo, &s->source_version,
	    &s->domain, &s->region };

	for (size_t i = 0; i < ARRAY_LEN(f); i++)
		if (*f[i] == NULL)
			*f[i] = xstrdup("");
}

/* Decode a snapshot reply's DATA; NULL and ERR when it is not one. */
static struct railway_project_snap *
rw_parse_snapshot(const cJSON *data, int64_t metrics_from, int step, char *err,
    size_t errlen)
{
	const cJSON *project = rw_obj(data, "project"), *env = rw_obj(data, "environment");
	const cJSON *svcs = rw_edges(project, "services");
	const cJSON *insts = rw_edges(env, "serviceInstances");
	const cJSON *config = rw_obj(env, "config"), *metrics = rw_get(data, "metrics");
	const cJSON *e;
	struct railway_project_snap *snap;
	size_t cap = 0;

	if (project == NULL || env == NULL || svcs == NULL || insts == NULL) {
		snprintf(err, errlen, "malformed reply: no %s in the snapshot",
		    project == NULL ? "project" : env == NULL ? "environment" :
		    svcs == NULL ? "service list" : "service instances");
		return NULL;
	}
	snap = xcalloc(1, sizeof *snap);
	snap->refs = 1;
	snap->project_id = rw_text(project, "id", RW_CAP_ID);
	snap->project_name = rw_text(project, "name", RW_CAP_NAME);
	snap->environment_id = rw_text(env, "id", RW_CAP_ID);
	snap->environment_name = rw_text(env, "name", RW_CAP_NAME);
	snap->fetched_ms = util_wall_ms();
	if (cJSON_IsArray(metrics)) {
		snap->metrics_from_ms = metrics_from;
		snap->metrics_step_s = step;
	}

	cJSON_ArrayForEach(e, svcs) {
		const char *id = rw_raw(rw_node(e), "id"), *name = rw_raw(rw_node(e), "name");

		if (id != NULL)
			rw_snap_add_service(snap, &cap, id, name != NULL ? name : id);
	}
	cJSON_ArrayForEach(e, insts) {
		const cJSON *n = rw_node(e);
		const char *sid = rw_raw(n, "serviceId"), *sname = rw_raw(n, "serviceName");
		struct railway_service *s = NULL;
		char *clean;

		if (sid == NULL)
			continue;
		clean = rw_clean(sid, strlen(sid), RW_CAP_ID);
		for (size_t i = 0; i < snap->n_services; i++)
			if (strcmp(snap->services[i].id, clean) == 0)
				s = &snap->services[i];
		free(clean);
		if (s == NULL)
			s = rw_snap_add_service(snap, &cap, sid, sname != NULL ? sname : sid);
		if (s->instance_id != NULL)
			continue;	/* listed twice: keep the first */
		rw_service_fill(s, n, config, metrics);
	}
	for (size_t i = 0; i < snap->n_services; i++)
		rw_service_blank(&snap->services[i]);
	return snap;
}

static void
rw_history_add(struct railway_history_snap *h, size_t *cap, const char *id,
    const char *name)
{
	struct railway_service_history *sh;

	if (h->n_services == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		h->services = xreallocarray(h->services, *cap, sizeof *h->services);
	}
	sh = &h->services[h->n_services++];
	memset(sh, 0, sizeof *sh);
	sh->service_id = xstrdup(id);
	sh->service_name = xstrdup(name);
}

/* Decode a history reply, grouping by service in PROJECT's order. */
static struct railway_history_snap *
rw_parse_history(const cJSON *data, const struct railway_project_snap *project,
    const char *env_id, char *err, size_t errlen)
{
	const cJSON *edges = rw_get(rw_obj(data, "deployments"), "edges"), *e;
	struct railway_history_snap *h;
	size_t cap = 0;

	if (!cJSON_IsArray(edges)) {
		snprintf(err, errlen, "malformed reply: no deployment list");
		return NULL;
	}
	h = xcalloc(1, sizeof *h);
	h->refs = 1;
	h->environment_id = xstrdup(env_id);
	h->fetched_ms = util_wall_ms();
	for (size_t i = 0; project != NULL && i < project->n_services; i++)
		rw_history_add(h, &cap, project->services[i].id, project->services[i].name);
	cJSON_ArrayForEach(e, edges) {
		const cJSON *n = rw_node(e);
		const char *sid = rw_raw(n, "serviceId");
		struct railway_service_history *sh = NULL;
		char *clean;

		if (n == NULL || rw_get(n, "id") == NULL)
			continue;
		clean = rw_clean(sid != NULL ? sid : "", sid != NULL ? strlen(sid) : 0, RW_CAP_ID);
		for (size_t i = 0; i < h->n_services; i++)
			if (strcmp(h->services[i].service_id, clean) == 0)
				sh = &h->services[i];
		if (sh == NULL) {
			rw_history_add(h, &cap, clean, clean);
			sh = &h->services[h->n_services - 1];
		}
		free(clean);
		sh->deployments = xreallocarray(sh->deployments, sh->n + 1, sizeof *sh->deployments);
		rw_deployment_parse(n, &sh->deployments[sh->n++]);
	}
	return h;
}

static int
rw_var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct railway_var *)a)->name,
	    ((const struct railway_var *)b)->name);
}

/* Names, lengths and fingerprints of the variables in VARS ({NAME: {value}}). */
static void
rw_var_set_fill(struct railway_var_set *vs, const cJSON *vars)
{
	const cJSON *v;
	size_t n = 0;

	cJSON_ArrayForEach(v, rw_objv(vars))
		n++;
	vs->vars = n > 0 ? xcalloc(n, sizeof *vs->vars) : NULL;
	cJSON_ArrayForEach(v, rw_objv(vars)) {
		struct railway_var *var = &vs->vars[vs->n];
		const char *val = cJSON_IsString(v) ? v->valuestring : rw_raw(v, "value");

		if (v->string == NULL)
			continue;
		var->name = rw_clean(v->string, strlen(v->string), RW_CAP_NAME);
		if (val != NULL) {
			var->value_len = strlen(val);
			railway_fingerprint(val, var->value_len, var->fingerprint);
			var->is_reference = strstr(val, "${{") != NULL;
		}
		vs->n++;
	}
	if (vs->n > 1)
		qsort(vs->vars, vs->n, sizeof *vs->vars, rw_var_cmp);
}

static struct railway_var_set *
rw_vars_add(struct railway_vars_snap *vs, size_t *cap, const char *id, const char *name)
{
	struct railway_var_set *set;

	if (vs->n_sets == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		vs->sets = xreallocarray(vs->sets, *cap, sizeof *vs->sets);
	}
	set = &vs->sets[vs->n_sets++];
	memset(set, 0, sizeof *set);
	set->service_id = xstrdup(id);
	set->service_name = xstrdup(name);
	return set;
}

static struct railway_vars_snap *
rw_parse_vars(const cJSON *data, const struct railway_project_snap *project,
    const char *env_id, char *err, size_t errlen)
{
	const cJSON *config = rw_obj(rw_obj(data, "environment"), "config");
	const cJSON *services = rw_obj(config, "services"), *s;
	struct railway_vars_snap *vs;
	size_t cap = 0;

	if (config == NULL) {
		snprintf(err, errlen, "malformed reply: no environment configuration");
		return NULL;
	}
	vs = xcalloc(1, sizeof *vs);
	vs->refs = 1;
	vs->environment_id = xstrdup(env_id);
	vs->fetched_ms = util_wall_ms();
	rw_var_set_fill(rw_vars_add(vs, &cap, "", "shared"), rw_obj(config, "sharedVariables"));
	for (size_t i = 0; project != NULL && i < project->n_services; i++) {
		const struct railway_service *ps = &project->services[i];
		const cJSON *sc = NULL;

		cJSON_ArrayForEach(s, services) {
			if (s->string != NULL && strcmp(s->string, ps->id) == 0)
				sc = s;
		}
		rw_var_set_fill(rw_vars_add(vs, &cap, ps->id, ps->name), rw_obj(sc, "variables"));
	}
	cJSON_ArrayForEach(s, services) {
		char *id;

		if (s->string == NULL)
			continue;
		id = rw_clean(s->string, strlen(s->string), RW_CAP_ID);
		if (railway_project_find(project, id) == NULL)
			rw_var_set_fill(rw_vars_add(vs, &cap, id, id), rw_obj(s, "variables"));
		free(id);
	}
	return vs;
}

/* --- replies --------------------------------------------------------------- */

static void
rw_reply_fini(struct rw_reply *r, int secret)
{
	if (r->root != NULL) {
		if (secret)
			rw_json_wipe(r->root);
		cJSON_Delete(r->root);
	}
	if (r->text != NULL) {
		if (secret)
			explicit_bzero(r->text, r->text_len);
		free(r->text);
	}
	memset(r, 0, sizeof *r);
}

static void rw_fail_set(struct rw_reply *r, enum rw_fail f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rw_fail_set(struct rw_reply *r, enum rw_fail f, const char *fmt, ...)
{
	char raw[RW_ERR_LEN * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	r->fail = f;
	rw_clean_into(r->error, sizeof r->error, raw);
}

/* The budget as a figure for the status bar: "api 912/1000", "paused"
 * while the governor holds polling back, "429 wait" during a Retry-After. */
static void
rw_show_budget(struct railway *rw)
{
	char text[48] = "";

	if (rw->wait_until > loop_now_ms(rw->loop))
		snprintf(text, sizeof text, "429 wait");
	else if (rw->paused)
		snprintf(text, sizeof text, "budget %ld left, paused", rw->rl_remaining);
	else if (rw->rl_known && rw->rl_limit > 0 && rw->rl_remaining >= 0)
		snprintf(text, sizeof text, "api %ld/%ld", rw->rl_remaining, rw->rl_limit);
	store_source_detail(rw->store, RAILWAY_SOURCE, text);
}

/* Read X-RateLimit-* from RESP into the budget. */
static void
rw_read_budget(struct railway *rw, const struct http_resp *resp)
{
	char v[128];
	char *end;
	long n;

	if (resp->headers == NULL)
		return;
	if (http_header_get(resp->headers, resp->headers_len, "X-RateLimit-Limit", v, sizeof v)) {
		n = strtol(v, &end, 10);
		if (end != v && n >= 0) {
			rw->rl_limit = n;
			rw->rl_known = 1;
		}
	}
	if (http_header_get(resp->headers, resp->headers_len, "X-RateLimit-Remaining", v,
	    sizeof v)) {
		n = strtol(v, &end, 10);
		if (end != v && n >= 0) {
			rw->rl_remaining = n;
			rw->rl_known = 1;
		}
	}
	if (http_header_get(resp->headers, resp->headers_len, "X-RateLimit-Reset", v, sizeof v))
		rw->rl_reset_ms = rw_parse_reset(v, util_wall_ms());
	rw_show_budget(rw);
}

/* "Not Authorized" and friends get a hint on what to check. */
static const char *
rw_hint(const struct railway *rw, const char *msg, int status)
{
	if (status == 401 || status == 403 || util_strcasestr(msg, "not authorized") != NULL ||
	    util_strcasestr(msg, "unauthorized") != NULL ||
	    util_strcasestr(msg, "forbidden") != NULL ||
	    util_strcasestr(msg, "invalid token") != NULL)
		return rw->token_hint;
	if (util_strcasestr(msg, "project not found") != NULL)
		return "check provider.project_id";
	if (util_strcasestr(msg, "environment not found") != NULL)
		return "check provider.environment";
	return NULL;
}

/* The messages of ERRORS (an array), "; "-joined, into BUF. */
static void
rw_error_words(const cJSON *errors, char *buf, size_t len)
{
	const cJSON *e;
	size_t used = 0;
	int n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(e, errors) {
		const char *m = cJSON_IsString(e) ? e->valuestring : rw_raw(e, "message");

		if (m == NULL || m[0] == '\0')
			continue;
		if (n > 0 && strstr(buf, m) != NULL)
			continue;	/* the same message for several fields */
		if (n == 2) {
			snprintf(buf + used, len - used, " (and more)");
			break;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", n > 0 ? "; " : "", m);
		if (used >= len)
			break;
		n++;
	}
	if (buf[0] == '\0')
		util_strlcpy(buf, "the API reported an error without a message", len);
}

/* A short, single-line excerpt of a non-JSON body (an HTML error page). */
static void
rw_excerpt(const char *body, size_t len, char *out, size_t outlen)
{
	char tmp[200];
	size_t n = 0;
	int in_tag = 0, space = 0;

	for (size_t i = 0; i < len && n + 1 < sizeof tmp; i++) {
		char c = body[i];

		if (c == '<') {
			in_tag = 1;
			continue;
		}
		if (in_tag) {
			if (c == '>') {
				in_tag = 0;
				space = 1;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = 1;
			continue;
		}
		if (space && n > 0)
			tmp[n++] = ' ';
		space = 0;
		if (n + 1 < sizeof tmp)
			tmp[n++] = c;
	}
	tmp[n] = '\0';
	if (n > 80) {
		n = rw_cut(tmp, n, 80);
		tmp[n] = '\0';
		rw_clean_into(out, outlen, tmp);
		if (strlen(out) + 4 < outlen)
			strcat(out, "...");
		return;
	}
	rw_clean_into(out, outlen, tmp);
}

/* Classify and parse a reply.  On RW_FAIL_NONE, R->data is the reply's
 * data object. */
static void
rw_classify(struct railway *rw, const struct http_resp *resp, struct rw_reply *r)
{
	const cJSON *errors;
	char words[RW_ERR_LEN];
	const char *hint;

	memset(r, 0, sizeof *r);
	if (!resp->ok) {
		rw_fail_set(r, RW_FAIL_NET, "cannot reach the Railway API: %s", resp->error);
		return;
	}
	rw_read_budget(rw, resp);
	if (resp->status == 429) {
		char v[128];
		int64_t ms = -1;

		if (resp->headers != NULL && http_header_get(resp->headers, resp->headers_len,
		    "Retry-After", v, sizeof v))
			ms = railway_retry_after_ms(v, util_wall_ms());
		if (ms < 0 && resp->body != NULL) {
			cJSON *root = cJSON_ParseWithLength(resp->body, resp->body_len);
			const cJSON *e0 = cJSON_GetArrayItem(rw_get(root, "errors"), 0);
			double s;

			if (rw_item_num(rw_get(rw_obj(e0, "extensions"), "retryAfter"), &s) &&
			    s >= 0 && s <= RW_MAX_RETRY_MS / 1000)
				ms = (int64_t)(s * 1000);
			cJSON_Delete(root);
		}
		if (ms < 0)
			ms = RW_DEFAULT_RETRY_MS;
		if (ms > RW_MAX_RETRY_MS)
			ms = RW_MAX_RETRY_MS;
		r->retry_ms = ms;
		rw_fail_set(r, RW_FAIL_LIMIT, "rate limit reached (HTTP 429): waiting %llds",
		    (long long)((ms + 999) / 1000));
		return;
	}
	if (resp->body_truncated) {
		rw_fail_set(r, RW_FAIL_NET, "the reply (HTTP %d) was larger than the %zu-byte "
		    "limit and was cut off", resp->status, resp->body_len);
		return;
	}
	r->text = rw_quote_bigints(resp->body != NULL ? resp->body : "", resp->body_len,
	    &r->text_len);
	r->root = cJSON_ParseWithLength(r->text, r->text_len);
	if (r->root == NULL || !cJSON_IsObject(r->root)) {
		char ex[120];

		rw_excerpt(resp->body != NULL ? resp->body : "", resp->body_len, ex, sizeof ex);
		if (resp->status != 200)
			rw_fail_set(r, resp->status >= 500 || resp->status == 408 ?
			    RW_FAIL_NET : RW_FAIL_API,
			    "the API answered HTTP %d with no GraphQL reply%s%s%s", resp->status,
			    ex[0] != '\0' ? " (\"" : "", ex, ex[0] != '\0' ? "\")" : "");
		else if (r->root == NULL && resp->body_len > 0 &&
		    (resp->body[0] == '{' || resp->body[0] == '['))
			rw_fail_set(r, RW_FAIL_NET, "truncated or malformed JSON in the reply "
			    "(%zu bytes)", resp->body_len);
		else
			rw_fail_set(r, RW_FAIL_NET, "the reply is not JSON%s%s%s",
			    ex[0] != '\0' ? " (\"" : "", ex, ex[0] != '\0' ? "\")" : "");
		return;
	}
	errors = rw_get(r->root, "errors");
	r->data = rw_obj(r->root, "data");
	if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
		rw_error_words(errors, words, sizeof words);
		hint = rw_hint(rw, words, resp->status);
		if (r->data == NULL) {
			if (resp->status >= 500)
				rw_fail_set(r, RW_FAIL_NET, "HTTP %d: %s%s%s", resp->status, words,
				    hint != NULL ? ": " : "", hint != NULL ? hint : "");
			else if (resp->status == 400 && hint == NULL)
				rw_fail_set(r, RW_FAIL_API, "the API rejected the query: %s", words);
			else
				rw_fail_set(r, RW_FAIL_API, "%s%s%s", words,
				    hint != NULL ? ": " : "", hint != NULL ? hint : "");
			return;
		}
		r->partial = 1;
		rw_clean_into(r->error, sizeof r->error, words);
	}
	if (resp->status == 401 || resp->status == 403) {
		rw_fail_set(r, RW_FAIL_API, "HTTP %d: %s", resp->status, rw->token_hint);
		return;
	}
	if (resp->status != 200) {
		rw_fail_set(r, resp->status >= 500 ? RW_FAIL_NET : RW_FAIL_API,
		    "the API answered HTTP %d", resp->status);
		return;
	}
	if (r->data == NULL)
		rw_fail_set(r, RW_FAIL_NET, "malformed reply: no \"data\" object");
}

/* --- source state ---------------------------------------------------------- */

static void
rw_err_set(struct railway *rw, enum rw_kind k, enum rw_fail f, const char *text)
{
	rw->err_kind[k] = f;
	util_strlcpy(rw->err_text[k], text != NULL ? text : "", sizeof rw->err_text[k]);
	if (f != RW_FAIL_NONE)
		diag_log(DIAG_WARN, "railway: %s: %s", rw_kind_label[k], rw->err_text[k]);
}

/* Publish the connection state that the kinds' errors add up to. */
static void
rw_update_state(struct railway *rw, int fresh_ok)
{
	enum store_state st = STORE_STATE_OK;
	char text[RW_ERR_LEN] = "";

	if (rw->err_kind[RW_RESOLVE] == RW_FAIL_API || rw->err_kind[RW_SNAPSHOT] == RW_FAIL_API) {
		st = STORE_STATE_ERROR;
		util_strlcpy(text, rw->err_kind[RW_RESOLVE] == RW_FAIL_API ?
		    rw->err_text[RW_RESOLVE] : rw->err_text[RW_SNAPSHOT], sizeof text);
	} else if (rw->snap == NULL) {
		if (rw->err_kind[RW_RESOLVE] != RW_FAIL_NONE) {
			st = STORE_STATE_ERROR;
			util_strlcpy(text, rw->err_text[RW_RESOLVE], sizeof text);
		} else if (rw->err_kind[RW_SNAPSHOT] != RW_FAIL_NONE) {
			st = STORE_STATE_ERROR;
			util_strlcpy(text, rw->err_text[RW_SNAPSHOT], sizeof text);
		} else {
			st = STORE_STATE_CONNECTING;
		}
	} else if (rw->err_kind[RW_SNAPSHOT] != RW_FAIL_NONE ||
	    rw->err_kind[RW_RESOLVE] != RW_FAIL_NONE) {
		st = STORE_STATE_STALE;
		util_strlcpy(text, rw->err_kind[RW_SNAPSHOT] != RW_FAIL_NONE ?
		    rw->err_text[RW_SNAPSHOT] : rw->err_text[RW_RESOLVE], sizeof text);
	} else if (rw->wait_until > loop_now_ms(rw->loop)) {
		/* a 429 (to a poll or to an action) holds every refresh back */
		st = STORE_STATE_STALE;
		snprintf(text, sizeof text, "rate limit reached (HTTP 429): refreshing again in %llds",
		    (long long)((rw->wait_until - loop_now_ms(rw->loop) + 999) / 1000));
	} else if (rw->err_kind[RW_HISTORY] != RW_FAIL_NONE ||
	    rw->err_kind[RW_VARS] != RW_FAIL_NONE) {
		enum rw_kind k = rw->err_kind[RW_HISTORY] != RW_FAIL_NONE ? RW_HISTORY : RW_VARS;

		st = STORE_STATE_STALE;
		snprintf(text, sizeof text, "%s: %.*s", rw_kind_label[k], (int)(RW_ERR_LEN - 32),
		    rw->err_text[k]);
	}
	/* OK is set again on every fresh snapshot: the store records it as
	 * the last success, which is where a pane's age comes from. */
	if (!rw->state_set || st != rw->last_state || strcmp(text, rw->last_state_text) != 0 ||
	    (st == STORE_STATE_OK && fresh_ok)) {
		store_source_set(rw->store, RAILWAY_SOURCE, st, text[0] != '\0' ? text : NULL);
		rw->last_state = st;
		util_strlcpy(rw->last_state_text, text, sizeof rw->last_state_text);
		rw->state_set = 1;
	}
}

/* --- sending ---------------------------------------------------------------- */

static void rw_on_reply(const struct http_resp *resp, void *ud);

/* The request body for DOC with VARS (taken; NULL = {}); caller frees. */
static char *
rw_body(const struct railway *rw, enum rw_doc doc, cJSON *vars, int secret)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	rw_json_oom(o);
	rw_json_oom(cJSON_AddStringToObject(o, "query", rw->docs[doc]));
	if (vars == NULL)
		vars = cJSON_CreateObject();
	rw_json_oom(vars);
	cJSON_AddItemToObject(o, "variables", vars);
	s = cJSON_PrintUnformatted(o);
	rw_json_oom(s);
	if (secret)
		rw_json_wipe(o);
	cJSON_Delete(o);
	return s;
}

static void
rw_send(struct railway *rw, enum rw_kind kind, const char *body, size_t max_body)
{
	struct rw_flight *fl = &rw->flight[kind];
	struct http_req req;

	memset(&req, 0, sizeof req);
	req.url = rw->endpoint;
	req.method = "POST";
	req.body = body;
	req.body_len = strlen(body);
	req.headers = rw->headers;
	req.timeout_ms = rw->timeout_ms;
	req.ca_file = rw->ca_file;
	req.max_body = max_body;
	fl->rw = rw;
	fl->kind = kind;
	fl->t0 = loop_now_ms(rw->loop);
	rw->requests++;
	if (rw->rl_remaining > 0)
		rw->rl_remaining--;	/* until the reply tells */
	fl->call = http_request(rw->http, &req, rw_on_reply, fl);
}

static cJSON *
rw_vars_new(void)
{
	cJSON *v = cJSON_CreateObject();

	rw_json_oom(v);
	return v;
}

static void
rw_vars_str(cJSON *v, const char *key, const char *val)
{
	if (val == NULL)
		rw_json_oom(cJSON_AddNullToObject(v, key));
	else
		rw_json_oom(cJSON_AddStringToObject(v, key, val));
}

/* --- polling ---------------------------------------------------------------- */

static uint64_t
rw_backoff_ms(struct railway *rw)
{
	uint64_t ms = RW_BACKOFF_MIN_MS;
	uint64_t jitter;

	for (int i = 1; i < rw->failures && ms < RW_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > RW_BACKOFF_MAX_MS)
		ms = RW_BACKOFF_MAX_MS;
	/* +-20 % so that consoles restarted together do not retry together */
	jitter = ms / 5;
	return ms - jitter + rw_rand(rw) % (2 * jitter + 1);
}

static void
rw_schedule(struct railway *rw, uint64_t delay)
{
	uint64_t now = loop_now_ms(rw->loop);

	if (!rw->running || rw->poll_timer == NULL)
		return;
	if (rw->wait_until > now && now + delay < rw->wait_until)
		delay = rw->wait_until - now + (rw_rand(rw) % 250);
	loop_timer_start(rw->poll_timer, delay, 0);
}

/* The next poll after a good snapshot, as the governor allows. */
static void
rw_schedule_next(struct railway *rw)
{
	int64_t base = rw->poll_ms, ms;

	if (rw->busy && base > RW_BUSY_POLL_MS && !rw_watched_live(rw)) {
		base = RW_BUSY_POLL_MS;	/* a rollout nobody reports live */
	} else if (rw->settle_fast > 0 && base > RW_BUSY_POLL_MS) {
		base = RW_BUSY_POLL_MS;	/* what a finished rollout leaves behind */
		rw->settle_fast--;
	} else if (!rw->busy && rw->quiet >= RW_QUIET_POLLS) {
		base = base * 3 / 2;	/* nothing moved for a while */
	}
	ms = railway_governor_ms(base, rw->rl_known ? rw->rl_limit : -1,
	    rw->rl_known ? rw->rl_remaining : -1);
	if (ms < 0) {
		int64_t until = rw->rl_reset_ms - util_wall_ms();

		rw->paused = 1;
		if (until < rw->poll_ms)
			until = rw->poll_ms;
		if (until > RW_MAX_RETRY_MS)
			until = RW_MAX_RETRY_MS;
		ms = until + (int64_t)(rw_rand(rw) % 1000);
		diag_log(DIAG_WARN, "railway: %ld requests left of the budget: polling "
		    "paused for %llds, actions still go out", rw->rl_remaining,
		    (long long)(ms / 1000));
	} else {
		rw->paused = 0;
	}
	rw_show_budget(rw);
	rw->cur_poll_ms = ms;
	rw_schedule(rw, (uint64_t)ms);
}

/* The live reports of a rollout stopped: poll it fast again. */
static void
rw_schedule_next_soon(struct railway *rw)
{
	if (rw->running && rw->resolved && rw->flight[RW_SNAPSHOT].call == NULL &&
	    rw->poll_timer != NULL)
		rw_schedule(rw, RW_BUSY_POLL_MS);
}

static void
rw_start_limit_wait(struct railway *rw, int64_t ms)
{
	uint64_t until = loop_now_ms(rw->loop) + (uint64_t)ms;

	if (until > rw->wait_until) {
		rw->wait_until = until;
		rw->wait_until_wall = util_wall_ms() + ms;
	}
	diag_log(DIAG_WARN, "railway: rate limited, waiting %llds", (long long)(ms / 1000));
	rw_show_budget(rw);
	rw_update_state(rw, 0);
}

static void
rw_send_snapshot(struct railway *rw)
{
	int64_t from = util_wall_ms() - rw->metrics_ms;
	int step = (int)(rw->metrics_ms / 1000 / RW_METRIC_POINTS);
	char date[40];
	cJSON *v = rw_vars_new();
	char *body;

	if (step < 1)
		step = 1;
	util_format_rfc3339(date, sizeof date, from);
	rw_vars_str(v, "projectId", rw->project_id);
	rw_vars_str(v, "environmentId", rw->env_id);
	rw_vars_str(v, "metricsFrom", date);
	rw_json_oom(cJSON_AddNumberToObject(v, "metricsStep", step));
	body = rw_body(rw, RW_DOC_SNAPSHOT, v, 0);
	rw_send(rw, RW_SNAPSHOT, body, RW_MAX_BODY_POLL);
	free(body);
}

static void
rw_send_history(struct railway *rw)
{
	cJSON *v = rw_vars_new();
	char *body;

	rw_vars_str(v, "projectId", rw->project_id);
	rw_vars_str(v, "environmentId", rw->env_id);
	rw_json_oom(cJSON_AddNumberToObject(v, "first", rw->history_limit));
	body = rw_body(rw, RW_DOC_HISTORY, v, 0);
	rw->history_at = loop_now_ms(rw->loop);
	rw->history_due = 0;
	rw_send(rw, RW_HISTORY, body, RW_MAX_BODY_POLL);
	free(body);
}

static void
rw_send_vars(struct railway *rw)
{
	cJSON *v = rw_vars_new();
	char *body;

	rw_vars_str(v, "environmentId", rw->env_id);
	body = rw_body(rw, RW_DOC_VARS, v, 0);
	rw->vars_at = loop_now_ms(rw->loop);
	rw->vars_due = 0;
	rw_send(rw, RW_VARS, body, RW_MAX_BODY_POLL);
	free(body);
}

/* After a good snapshot: the history and the variables when due. */
static void
rw_send_followers(struct railway *rw)
{
	uint64_t now = loop_now_ms(rw->loop);

	if (rw->flight[RW_HISTORY].call == NULL && (rw->history_due || rw->history_at == 0 ||
	    now - rw->history_at >= (uint64_t)rw->history_ms))
		rw_send_history(rw);
	if (rw->flight[RW_VARS].call == NULL && (rw->vars_due || rw->vars_at == 0 ||
	    now - rw->vars_at >= (uint64_t)rw->vars_ms))
		rw_send_vars(rw);
}

static void
rw_send_resolve(struct railway *rw)
{
	cJSON *v = rw_vars_new();
	char *body;

	if ((rw->project_id[0] == '\0' || rw->env_want[0] == '\0') &&
	    rw->token_kind == RAILWAY_TOKEN_PROJECT && !rw->token_scoped) {
		body = rw_body(rw, RW_DOC_PROJECT_TOKEN, v, 0);
	} else {
		rw_vars_str(v, "projectId", rw->project_id);
		body = rw_body(rw, RW_DOC_RESOLVE, v, 0);
	}
	rw_send(rw, RW_RESOLVE, body, RW_MAX_BODY_POLL);
	free(body);
}

static void
rw_poll(struct railway *rw)
{
	uint64_t now = loop_now_ms(rw->loop);

	if (!rw->running)
		return;
	if (rw->wait_until > now) {
		rw_schedule(rw, rw->wait_until - now);
		return;
	}
	if (!rw->resolved) {
		if (rw->flight[RW_RESOLVE].call == NULL)
			rw_send_resolve(rw);
		return;
	}
	if (rw->flight[RW_SNAPSHOT].call != NULL) {
		rw->snapshot_again = 1;
		return;
	}
	rw_send_snapshot(rw);
}

static void
rw_poll_timer_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	rw_poll(ud);
}

/* A failed poll request: keep what is published, retry later. */
static void
rw_poll_failed(struct railway *rw, enum rw_kind kind, struct rw_reply *r)
{
	rw_err_set(rw, kind, r->fail, r->error);
	if (r->fail == RW_FAIL_LIMIT) {
		rw_start_limit_wait(rw, r->retry_ms);
		rw_schedule(rw, (uint64_t)r->retry_ms);
	} else {
		rw->failures++;
		rw_schedule(rw, rw_backoff_ms(rw));
	}
	rw_update_state(rw, 0);
}

/* Pick the environment in the resolve reply. */
static int
rw_resolve_env(struct railway *rw, const cJSON *project, char *err, size_t errlen)
{
	const cJSON *edges = rw_edges(project, "environments"), *e;
	const cJSON *hit = NULL, *only = NULL;
	const char *want = rw->env_want[0] != '\0' ? rw->env_want : "production";
	char names[256] = "";
	int n = 0;

	cJSON_ArrayForEach(e, edges) {
		const char *id = rw_raw(rw_node(e), "id"), *name = rw_raw(rw_node(e), "name");

		if (id == NULL)
			continue;
		n++;
		only = rw_node(e);
		if (strcmp(id, want) == 0 || (name != NULL && strcmp(name, want) == 0))
			hit = rw_node(e);
		if (hit == NULL && name != NULL && strcasecmp(name, want) == 0)
			hit = rw_node(e);
		if (name != NULL && strlen(names) + strlen(name) + 3 < sizeof names) {
			if (names[0] != '\0')
				strcat(names, ", ");
			strcat(names, name);
		}
	}
	if (hit == NULL && rw->env_want[0] == '\0' && n == 1)
		hit = only;
	if (hit == NULL) {
		char *clean = rw_clean(want, strlen(want), 64), *cnames = rw_clean(names,
		    strlen(names), sizeof names);

		snprintf(err, errlen, "environment '%s' not found in the project (it has: %s): "
		    "check provider.environment", clean, cnames[0] != '\0' ? cnames : "none");
		free(clean);
		free(cnames);
		return -1;
	}
	free(rw->env_id);
	free(rw->env_name);
	rw->env_id = xstrdup(rw_raw(hit, "id"));
	rw->env_name = rw_text(hit, "name", RW_CAP_NAME);
	free(rw->project_name);
	rw->project_name = rw_text(project, "name", RW_CAP_NAME);
	return 0;
}

static void
rw_on_resolve(struct railway *rw, struct rw_reply *r)
{
	const cJSON *tok, *project;
	char err[RW_ERR_LEN];

	if (r->fail != RW_FAIL_NONE) {
		rw_poll_failed(rw, RW_RESOLVE, r);
		return;
	}
	if ((tok = rw_obj(r->data, "projectToken")) != NULL) {
		const char *pid = rw_raw(tok, "projectId"), *eid = rw_raw(tok, "environmentId");

		if (pid == NULL || eid == NULL) {
			rw_fail_set(r, RW_FAIL_NET, "malformed reply: the project token's "
			    "scope has no project or environment");
			rw_poll_failed(rw, RW_RESOLVE, r);
			return;
		}
		rw->token_scoped = 1;
		if (rw->project_id[0] == '\0') {
			free(rw->project_id);
			rw->project_id = xstrdup(pid);
		}
		if (rw->env_want[0] == '\0') {
			free(rw->env_want);
			rw->env_want = xstrdup(eid);
		}
		rw_schedule(rw, 0);	/* now the project */
		return;
	}
	project = rw_obj(r->data, "project");
	if (project == NULL) {
		rw_fail_set(r, RW_FAIL_NET, "malformed reply: no project");
		rw_poll_failed(rw, RW_RESOLVE, r);
		return;
	}
	if (rw_resolve_env(rw, project, err, sizeof err) < 0) {
		rw_fail_set(r, RW_FAIL_API, "%s", err);
		rw_poll_failed(rw, RW_RESOLVE, r);
		return;
	}
	rw->resolved = 1;
	rw->failures = 0;
	rw_err_set(rw, RW_RESOLVE, RW_FAIL_NONE, NULL);
	diag_log(DIAG_INFO, "railway: project %s, environment %s (%s)", rw->project_id,
	    rw->env_name, rw->env_id);
	rw_update_state(rw, 0);
	rw_schedule(rw, 0);
}

/* What the deployments and replicas of SNAP look like, to spot changes
 * (metrics are left out: they always change), and whether a deployment is
 * in progress. */
static char *
rw_latest_sig(const struct railway_project_snap *snap, int *busy)
{
	char *s = xstrdup(""), *n;

	*busy = 0;
	for (size_t i = 0; i < snap->n_services; i++) {
		const struct railway_service *v = &snap->services[i];
		const struct railway_deployment *d = v->latest, *a = v->active;

		if (d != NULL && railway_status_kind(d->status) == RAILWAY_KIND_BUSY)
			*busy = 1;
		n = xasprintf("%s%s:%s:%s:%s:%s:%d/%d;", s, v->id, d != NULL ? d->id : "",
		    d != NULL ? d->status_text : "", a != NULL ? a->id : "",
		    a != NULL ? a->status_text : "", v->running_total, v->desired_total);
		free(s);
		s = n;
	}
	return s;
}

static void
rw_on_snapshot(struct railway *rw, struct rw_reply *r)
{
	struct railway_project_snap *snap;
	char err[RW_ERR_LEN];
	char *sig;
	int busy;

	if (r->fail != RW_FAIL_NONE) {
		rw->snapshot_again = 0;
		rw_poll_failed(rw, RW_SNAPSHOT, r);
		return;
	}
	snap = rw_parse_snapshot(r->data, util_wall_ms() - rw->metrics_ms,
	    (int)(rw->metrics_ms / 1000 / RW_METRIC_POINTS), err, sizeof err);
	if (snap == NULL) {
		rw_fail_set(r, r->partial ? RW_FAIL_API : RW_FAIL_NET, "%s",
		    r->partial ? r->error : err);
		rw->snapshot_again = 0;
		rw_poll_failed(rw, RW_SNAPSHOT, r);
		return;
	}
	if (r->partial)	/* e.g. no metrics for this token: the rest is fine */
		diag_log(DIAG_WARN, "railway: snapshot with errors: %s", r->error);
	rw->failures = 0;
	rw_err_set(rw, RW_SNAPSHOT, RW_FAIL_NONE, NULL);

	sig = rw_latest_sig(snap, &busy);
	if (rw->latest_sig == NULL || strcmp(sig, rw->latest_sig) != 0) {
		/* a deployment appeared or changed, replicas came or went: the
		 * history now and on the next polls (older deployments settle
		 * a little later: REMOVING, then REMOVED) */
		rw->history_due = 1;
		rw->history_settle = RW_HISTORY_SETTLE;
		rw->quiet = 0;
	} else {
		if (rw->history_settle > 0) {
			rw->history_due = 1;
			rw->history_settle--;
		}
		if (rw->quiet < RW_QUIET_POLLS)
			rw->quiet++;
	}
	free(rw->latest_sig);
	rw->latest_sig = sig;
	rw->busy = busy;

	railway_project_snap_unref(rw->snap);
	rw->snap = snap;
	railway_project_snap_ref(snap);
	store_publish(rw->store, STORE_TOPIC_SERVICES, snap, rw_project_free_fn);
	rw_update_state(rw, 1);
	rw_watch_sync(rw, snap);

	rw_send_followers(rw);
	if (rw->snapshot_again) {
		rw->snapshot_again = 0;
		rw_schedule(rw, 0);
	} else {
		rw_schedule_next(rw);
	}
}

static void
rw_on_history(struct railway *rw, struct rw_reply *r)
{
	struct railway_history_snap *h;
	char err[RW_ERR_LEN];

	if (r->fail == RW_FAIL_NONE) {
		h = rw_parse_history(r->data, rw->snap, rw->env_id, err, sizeof err);
		if (h == NULL) {
			rw_fail_set(r, r->partial ? RW_FAIL_API : RW_FAIL_NET, "%s",
			    r->partial ? r->error : err);
		} else {
			rw_err_set(rw, RW_HISTORY, RW_FAIL_NONE, NULL);
			store_publish(rw->store, STORE_TOPIC_DEPLOYMENTS, h, rw_history_free_fn);
			rw_update_state(rw, 0);
			return;
		}
	}
	rw_err_set(rw, RW_HISTORY, r->fail, r->error);
	if (r->fail == RW_FAIL_LIMIT)
		rw_start_limit_wait(rw, r->retry_ms);
	if (r->fail != RW_FAIL_API)
		rw->history_due = 1;	/* again with the next poll */
	rw_update_state(rw, 0);
}

static void
rw_on_vars(struct railway *rw, struct rw_reply *r)
{
	struct railway_vars_snap *vs;
	char err[RW_ERR_LEN];

	if (r->fail == RW_FAIL_NONE) {
		vs = rw_parse_vars(r->data, rw->snap, rw->env_id, err, sizeof err);
		if (vs == NULL) {
			rw_fail_set(r, r->partial ? RW_FAIL_API : RW_FAIL_NET, "%s",
			    r->partial ? r->error : err);
		} else {
			rw_err_set(rw, RW_VARS, RW_FAIL_NONE, NULL);
			store_publish(rw->store, STORE_TOPIC_VARS, vs, rw_vars_free_fn);
			rw_update_state(rw, 0);
			return;
		}
	}
	rw_err_set(rw, RW_VARS, r->fail, r->error);
	if (r->fail == RW_FAIL_LIMIT)
		rw_start_limit_wait(rw, r->retry_ms);
	if (r->fail != RW_FAIL_API)
		rw->vars_due = 1;
	rw_update_state(rw, 0);
}

/* --- actions ------------------------------------------------------------- */

static void
rw_op_free(struct rw_op *op)
{
	rw_wipe_free(op->vars);
	free(op->reveal_name);
	free(op->reveal_scope);
	free(op);
}

static void
rw_op_finish(struct railway *rw, struct rw_op *op, struct railway_result *res)
{
	if (op->read != NULL) {
		op->read(rw, NULL, res->error != NULL ? res->error : "cancelled", op->ud);
		return;
	}
	res->op = op->name;
	res->duration_ms = (int64_t)(loop_now_ms(rw->loop) - op->t0);
	if (res->error == NULL)
		res->error = "";
	if (res->deployment_id == NULL)
		res->deployment_id = "";
	if (res->ok)
		diag_log(DIAG_INFO, "railway: %s done in %lld ms", op->name,
		    (long long)res->duration_ms);
	else
		diag_log(DIAG_WARN, "railway: %s failed: %s", op->name, res->error);
	if (op->done != NULL)
		op->done(res, op->ud);
}

/* Mutation reply R for OP: fill RES (strings point into R or BUF). */
static void
rw_action_result(struct rw_op *op, struct rw_reply *r, struct railway_result *res,
    char *buf, size_t len)
{
	const cJSON *d = r->data, *v;

	memset(res, 0, sizeof *res);
	if (r->partial) {
		res->error = r->error;
		return;
	}
	switch (op->doc) {
	case RW_DOC_DEPLOY:
		v = rw_get(d, "serviceInstanceDeployV2");
		if (cJSON_IsString(v)) {
			rw_clean_into(buf, len, v->valuestring);
			res->deployment_id = buf;
			res->ok = 1;
		}
		break;
	case RW_DOC_REDEPLOY:
		v = rw_get(rw_obj(d, "deploymentRedeploy"), "id");
		if (cJSON_IsString(v)) {
			rw_clean_into(buf, len, v->valuestring);
			res->deployment_id = buf;
			res->ok = 1;
		}
		break;
	case RW_DOC_SCALE:
		res->ok = cJSON_IsString(rw_get(d, "environmentPatchCommit")) ||
		    cJSON_IsTrue(rw_get(d, "environmentPatchCommit"));
		break;
	case RW_DOC_VAR_REVEAL:
		v = rw_get(d, "variables");
		if (!cJSON_IsObject(v))
			break;
		v = cJSON_GetObjectItemCaseSensitive(v, op->reveal_name);
		if (v == NULL) {
			char *n = rw_clean(op->reveal_name, strlen(op->reveal_name), 128);

			snprintf(buf, len, "%s is not set for %s", n, op->reveal_scope);
			free(n);
			res->error = buf;
			return;
		}
		if (cJSON_IsString(v)) {
			res->value = v->valuestring;
			res->value_len = strlen(v->valuestring);
			res->ok = 1;
		}
		break;
	default: {
		static const char *const fields[] = { [RW_DOC_RESTART] = "deploymentRestart",
		    [RW_DOC_STOP] = "deploymentStop", [RW_DOC_ROLLBACK] = "deploymentRollback",
		    [RW_DOC_VAR_SET] = "variableUpsert", [RW_DOC_VAR_DELETE] = "variableDelete" };
		const char *f = (size_t)op->doc < ARRAY_LEN(fields) ? fields[op->doc] : NULL;

		if (f == NULL)
			break;
		v = rw_get(d, f);
		if (cJSON_IsTrue(v)) {
			res->ok = 1;
		} else if (cJSON_IsFalse(v)) {
			res->error = "the API answered that nothing was done";
			return;
		}
		break;
	}
	}
	if (!res->ok && res->error == NULL)
		res->error = "malformed reply: the answer to the action is missing";
}

static void
rw_on_action(struct railway *rw, struct rw_reply *r)
{
	struct rw_op *op = rw->q_head;
	struct railway_result res;
	char buf[RW_ERR_LEN + 128];
	int var_change, ok;

	if (op == NULL)
		return;
	if (r->fail == RW_FAIL_LIMIT) {
		/* Not done: it waits at the head of the queue. */
		op->sent = 0;
		rw_start_limit_wait(rw, r->retry_ms);
		rw_kick_actions(rw);
		return;
	}
	rw->q_head = op->next;
	if (rw->q_head == NULL)
		rw->q_tail = NULL;
	rw->q_len--;
	if (op->read != NULL) {
		/* a read: the data goes to its owner, nothing to refresh */
		if (r->fail == RW_FAIL_NET && op->write) {
			snprintf(buf, sizeof buf, "%s (the request may have reached Railway: "
			    "check before retrying)", r->error);
			op->read(rw, NULL, buf, op->ud);
		} else if (r->fail != RW_FAIL_NONE || r->partial)
			op->read(rw, NULL, r->error, op->ud);
		else
			op->read(rw, r->data, NULL, op->ud);
		rw_op_free(op);
		rw_kick_actions(rw);
		return;
	}
	if (r->fail != RW_FAIL_NONE) {
		memset(&res, 0, sizeof res);
		if (r->fail == RW_FAIL_NET && op->doc != RW_DOC_VAR_REVEAL)
			snprintf(buf, sizeof buf, "%s (the request may have reached Railway: "
			    "check before retrying)", r->error);
		else
			util_strlcpy(buf, r->error, sizeof buf);
		res.error = buf;
	} else {
		rw_action_result(op, r, &res, buf, sizeof buf);
	}
	var_change = op->is_var_change;
	ok = res.ok;
	rw_op_finish(rw, op, &res);
	rw_op_free(op);
	if (ok && rw->running)
		rw_refresh_soon(rw, 1, var_change);
	rw_kick_actions(rw);
}

static void
rw_send_action(struct railway *rw, struct rw_op *op)
{
	size_t len = strlen(rw->docs[op->doc]) + strlen(op->vars) + 64;
	char *body = xmalloc(len);
	char *q;
	cJSON *s = cJSON_CreateString(rw->docs[op->doc]);

	/* {"query": <doc as a JSON string>, "variables": <op->vars>} */
	rw_json_oom(s);
	q = cJSON_PrintUnformatted(s);
	rw_json_oom(q);
	cJSON_Delete(s);
	len += strlen(q);
	body = xreallocarray(body, len, 1);
	snprintf(body, len, "{\"query\":%s,\"variables\":%s}", q, op->vars);
	free(q);
	op->sent = 1;
	rw_send(rw, RW_ACTION, body, RW_MAX_BODY_ACTION);
	rw_wipe_free(body);	/* http copied it */
}

static void
rw_kick_actions(struct railway *rw)
{
	uint64_t now;

	if (!rw->running || rw->q_head == NULL || rw->flight[RW_ACTION].call != NULL)
		return;
	now = loop_now_ms(rw->loop);
	if (rw->wait_until > now) {
		loop_timer_start(rw->action_timer, rw->wait_until - now, 0);
		return;
	}
	rw_send_action(rw, rw->q_head);
}

static void
rw_action_timer_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	rw_kick_actions(ud);
}

static void
rw_on_reply(const struct http_resp *resp, void *ud)
{
	struct rw_flight *fl = ud;
	struct railway *rw = fl->rw;
	struct rw_reply r;
	int secret;

	fl->call = NULL;
	secret = fl->kind == RW_VARS || (fl->kind == RW_ACTION && rw->q_head != NULL &&
	    rw->q_head->secret);
	rw_classify(rw, resp, &r);
	switch (fl->kind) {
	case RW_RESOLVE:
		rw_on_resolve(rw, &r);
		break;
	case RW_SNAPSHOT:
		rw_on_snapshot(rw, &r);
		break;
	case RW_HISTORY:
		rw_on_history(rw, &r);
		break;
	case RW_VARS:
		rw_on_vars(rw, &r);
		break;
	case RW_ACTION:
		rw_on_action(rw, &r);
		break;
	case RW_KIND_COUNT:
		break;
	}
	rw_reply_fini(&r, secret);
}

/* Refresh soon after a change: the snapshot now, then the history (and the
 * variables) even if not due. */
static void
rw_refresh_soon(struct railway *rw, int history, int vars)
{
	if (!rw->running)
		return;
	rw->quiet = 0;
	if (history)
		rw->history_due = 1;
	if (vars)
		rw->vars_due = 1;
	if (!rw->resolved) {
		if (rw->flight[RW_RESOLVE].call == NULL)
			rw_schedule(rw, 0);
		return;
	}
	if (rw->flight[RW_SNAPSHOT].call != NULL)
		rw->snapshot_again = 1;
	else
		rw_schedule(rw, 0);
}

/* Queue OP (taken); -1 and E when the client cannot take it. */
static int
rw_enqueue(struct railway *rw, struct rw_op *op, struct err *e)
{
	if (!rw->running) {
		rw_op_free(op);
		return err_set(e, ERR_INVALID, "the Railway client is not running");
	}
	if (!rw->resolved) {
		rw_op_free(op);
		return err_set(e, ERR_INVALID, "not connected to Railway yet: the project "
		    "and environment are not resolved%s%s",
		    rw->err_text[RW_RESOLVE][0] != '\0' ? " (" : "",
		    rw->err_text[RW_RESOLVE][0] != '\0' ? rw->err_text[RW_RESOLVE] : "");
	}
	op->t0 = loop_now_ms(rw->loop);
	if (rw->q_tail != NULL)
		rw->q_tail->next = op;
	else
		rw->q_head = op;
	rw->q_tail = op;
	rw->q_len++;
	/* from the loop, never from inside the call */
	if (rw->flight[RW_ACTION].call == NULL && !loop_timer_active(rw->action_timer))
		loop_timer_start(rw->action_timer, 0, 0);
	return 0;
}

static struct rw_op *
rw_op_new(const char *name, enum rw_doc doc, cJSON *vars, int secret,
    railway_done_fn *done, void *ud)
{
	struct rw_op *op = xcalloc(1, sizeof *op);

	op->name = name;
	op->doc = doc;
	op->vars = cJSON_PrintUnformatted(vars);
	rw_json_oom(op->vars);
	if (secret)
		rw_json_wipe(vars);
	cJSON_Delete(vars);
	op->secret = secret;
	op->done = done;
	op->ud = ud;
	return op;
}

static int
rw_check_id(const char *what, const char *id, struct err *e)
{
	if (id == NULL || id[0] == '\0')
		return err_set(e, ERR_INVALID, "no %s given", what);
	if (strlen(id) > RW_CAP_ID)
		return err_set(e, ERR_INVALID, "the %s is too long", what);
	return 0;
}

/* An action on one deployment. */
static int
rw_deployment_action(struct railway *rw, const char *name, enum rw_doc doc,
    const char *deployment_id, railway_done_fn *done, void *ud, struct err *e)
{
	cJSON *v;

	if (rw_check_id("deployment id", deployment_id, e) < 0)
		return -1;
	v = rw_vars_new();
	rw_vars_str(v, "id", deployment_id);
	return rw_enqueue(rw, rw_op_new(name, doc, v, 0, done, ud), e);
}

int
railway_deploy(struct railway *rw, const char *service_id, const char *commit,
    railway_done_fn *done, void *ud, struct err *e)
{
	cJSON *v;

	if (rw_check_id("service id", service_id, e) < 0)
		return -1;
	v = rw_vars_new();
	rw_vars_str(v, "environmentId", rw->env_id);
	rw_vars_str(v, "serviceId", service_id);
	rw_vars_str(v, "commitSha", commit != NULL && commit[0] != '\0' ? commit : NULL);
	return rw_enqueue(rw, rw_op_new("deploy", RW_DOC_DEPLOY, v, 0, done, ud), e);
}

int
railway_redeploy(struct railway *rw, const char *deployment_id, railway_done_fn *done,
    void *ud, struct err *e)
{
	return rw_deployment_action(rw, "redeploy", RW_DOC_REDEPLOY, deployment_id, done, ud, e);
}

int
railway_restart(struct railway *rw, const char *deployment_id, railway_done_fn *done,
    void *ud, struct err *e)
{
	return rw_deployment_action(rw, "restart", RW_DOC_RESTART, deployment_id, done, ud, e);
}

int
railway_stop_deployment(struct railway *rw, const char *deployment_id,
    railway_done_fn *done, void *ud, struct err *e)
{
	return rw_deployment_action(rw, "stop", RW_DOC_STOP, deployment_id, done, ud, e);
}

int
railway_rollback(struct railway *rw, const char *deployment_id, railway_done_fn *done,
    void *ud, struct err *e)
{
	return rw_deployment_action(rw, "rollback", RW_DOC_ROLLBACK, deployment_id, done, ud, e);
}

int
railway_scale(struct railway *rw, const char *service_id, const char *region, int n,
    railway_done_fn *done, void *ud, struct err *e)
{
	cJSON *v, *patch, *svc, *deploy, *mrc, *reg;
	char msg[160];

	if (rw_check_id("service id", service_id, e) < 0 ||
	    rw_check_id("region", region, e) < 0)
		return -1;
	if (n < 0 || n > 50)
		return err_set(e, ERR_INVALID, "replicas must be 0..50, not %d", n);
	v = rw_vars_new();
	rw_vars_str(v, "environmentId", rw->env_id);
	patch = cJSON_AddObjectToObject(v, "patch");
	rw_json_oom(patch);
	svc = cJSON_AddObjectToObject(patch, "services");
	rw_json_oom(svc);
	svc = cJSON_AddObjectToObject(svc, service_id);
	rw_json_oom(svc);
	deploy = cJSON_AddObjectToObject(svc, "deploy");
	rw_json_oom(deploy);
	mrc = cJSON_AddObjectToObject(deploy, "multiRegionConfig");
	rw_json_oom(mrc);
	reg = cJSON_AddObjectToObject(mrc, region);
	rw_json_oom(reg);
	rw_json_oom(cJSON_AddNumberToObject(reg, "numReplicas", n));
	snprintf(msg, sizeof msg, "signalbox: %d replica%s in %.60s", n, n == 1 ? "" : "s",
	    region);
	rw_vars_str(v, "message", msg);
	return rw_enqueue(rw, rw_op_new("scale", RW_DOC_SCALE, v, 0, done, ud), e);
}

static int
rw_check_var_name(const char *name, struct err *e)
{
	if (name == NULL || name[0] == '\0')
		return err_set(e, ERR_INVALID, "no variable name given");
	if (strlen(name) > RW_CAP_NAME)
		return err_set(e, ERR_INVALID, "the variable name is too long");
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(e, ERR_INVALID, "the variable name holds a control character");
	return 0;
}

static cJSON *
rw_var_input(struct railway *rw, const char *service_id, const char *name)
{
	cJSON *v = rw_vars_new(), *in = cJSON_AddObjectToObject(v, "input");

	rw_json_oom(in);
	rw_vars_str(in, "projectId", rw->project_id);
	rw_vars_str(in, "environmentId", rw->env_id);
	rw_vars_str(in, "serviceId", service_id != NULL && service_id[0] != '\0' ?
	    service_id : NULL);
	rw_vars_str(in, "name", name);
	return v;
}

int
railway_var_set(struct railway *rw, const char *service_id, const char *name,
    const char *value, size_t len, int skip_deploys, railway_done_fn *done, void *ud,
    struct err *e)
{
	cJSON *v, *in;
	char *copy;
	struct rw_op *op;

	if (rw_check_var_name(name, e) < 0)
		return -1;
	if (value == NULL)
		return err_set(e, ERR_INVALID, "no value given");
	if (memchr(value, '\0', len) != NULL)
		return err_set(e, ERR_INVALID, "the value holds a NUL byte, which a "
		    "variable cannot carry");
	v = rw_var_input(rw, service_id, name);
	in = cJSON_GetObjectItemCaseSensitive(v, "input");
	copy = xstrndup(value, len);
	rw_json_oom(cJSON_AddStringToObject(in, "value", copy));
	explicit_bzero(copy, len);
	free(copy);
	rw_json_oom(cJSON_AddBoolToObject(in, "skipDeploys", skip_deploys != 0));
	op = rw_op_new("var-set", RW_DOC_VAR_SET, v, 1, done, ud);
	op->is_var_change = 1;
	return rw_enqueue(rw, op, e);
}

int
railway_var_delete(struct railway *rw, const char *service_id, const char *name,
    railway_done_fn *done, void *ud, struct err *e)
{
	struct rw_op *op;

	if (rw_check_var_name(name, e) < 0)
		return -1;
	op = rw_op_new("var-delete", RW_DOC_VAR_DELETE, rw_var_input(rw, service_id, name), 0,
	    done, ud);
	op->is_var_change = 1;
	return rw_enqueue(rw, op, e);
}

int
railway_var_reveal(struct railway *rw, const char *service_id, const char *name,
    railway_done_fn *done, void *ud, struct err *e)
{
	cJSON *v;
	struct rw_op *op;
	int shared = service_id == NULL || service_id[0] == '\0';

	if (rw_check_var_name(name, e) < 0)
		return -1;
	v = rw_vars_new();
	rw_vars_str(v, "projectId", rw->project_id);
	rw_vars_str(v, "environmentId", rw->env_id);
	rw_vars_str(v, "serviceId", shared ? NULL : service_id);
	op = rw_op_new("var-reveal", RW_DOC_VAR_REVEAL, v, 1, done, ud);
	op->reveal_name = xstrdup(name);
	if (shared) {
		op->reveal_scope = xstrdup("the shared variables");
	} else {
		const struct railway_service *s = railway_project_find(rw->snap, service_id);

		op->reveal_scope = s != NULL ? xasprintf("service %s", s->name) :
		    rw_clean(service_id, strlen(service_id), RW_CAP_ID);
	}
	return rw_enqueue(rw, op, e);
}

/* --- subscriptions ----------------------------------------------------------- */

static void
rw_live_state(struct gqlws *g, const struct gqlws_status *st, void *ud)
{
	struct railway *rw = ud;
	struct rw_listener *li, **pp;

	(void)g;
	rw->walking++;
	for (li = rw->listeners; li != NULL; li = li->next)
		if (li->fn != NULL)
			li->fn(st->state == GQLWS_OPEN, st->reason, li->ud);
	if (--rw->walking == 0) {
		for (pp = &rw->listeners; (li = *pp) != NULL;) {
			if (li->fn == NULL) {
				*pp = li->next;
				free(li);
			} else {
				pp = &li->next;
			}
		}
	}
	if (st->state != GQLWS_OPEN) {
		/* a rollout is no longer watched live: polling takes over */
		for (struct rw_watch *w = rw->watches; w != NULL; w = w->next)
			w->live = 0;
		diag_log(DIAG_INFO, "railway: subscriptions %s%s%s", gqlws_state_name(st->state),
		    st->reason != NULL ? ": " : "", st->reason != NULL ? st->reason : "");
		if (rw->busy)
			rw_schedule_next_soon(rw);
	} else {
		diag_log(DIAG_INFO, "railway: subscriptions open");
	}
}

struct gqlws *
railway_int_live(struct railway *rw, struct err *e)
{
	struct gqlws_opts o;
	const char *auth[2] = { rw->auth_header, NULL };
	char *url;

	if (rw->live != NULL)
		return rw->live;
	if (rw->ws == NULL)
		return err_set(e, ERR_INVALID, "no WebSocket support: live updates are "
		    "polled"), NULL;
	/* the subscriptions live on the same URL, ws:// for http://, wss:// for https:// */
	url = rw_starts(rw->endpoint, "https://") ?
	    xasprintf("wss://%s", rw->endpoint + strlen("https://")) :
	    xasprintf("ws://%s", rw->endpoint + strlen("http://"));
	memset(&o, 0, sizeof o);
	o.url = url;
	o.headers = auth;
	o.ca_file = rw->ca_file;
	o.retry_max_ms = 30000;
	rw->live = gqlws_new(rw->loop, rw->ws, &o,
	    &(struct gqlws_cbs){ .on_state = rw_live_state }, rw, e);
	free(url);
	return rw->live;
}

void
railway_int_live_listen(struct railway *rw, railway_int_live_fn *fn, void *ud)
{
	struct rw_listener *li = xcalloc(1, sizeof *li);

	li->fn = fn;
	li->ud = ud;
	li->next = rw->listeners;
	rw->listeners = li;
}

void
railway_int_live_unlisten(struct railway *rw, railway_int_live_fn *fn, void *ud)
{
	struct rw_listener *li, **pp;

	for (pp = &rw->listeners; (li = *pp) != NULL; pp = &li->next) {
		if (li->fn != fn || li->ud != ud)
			continue;
		if (rw->walking > 0) {
			li->fn = NULL;
		} else {
			*pp = li->next;
			free(li);
		}
		return;
	}
}

const char *
railway_int_doc(const struct railway *rw, enum rw_doc doc)
{
	return rw->docs[doc];
}

const char *
railway_int_service_name(const struct railway *rw, const char *id)
{
	const struct railway_service *s = railway_project_find(rw->snap, id);

	return s != NULL ? s->name : NULL;
}

int64_t
railway_int_parse_time(const char *s)
{
	return rw_parse_time(s);
}

static void
rw_watch_free(struct rw_watch *w)
{
	gqlws_unsubscribe(&w->sub);
	free(w->id);
	free(w);
}

static void
rw_watch_next(struct gqlws_sub *sub, const struct gqlws_next *n, void *ud)
{
	struct rw_watch *w = ud;
	struct railway *rw = w->rw;
	const cJSON *dep = rw_obj(rw_obj(n->payload, "data"), "deployment");
	char status[sizeof w->status];

	(void)sub;
	w->live = 1;
	if (dep == NULL || !cJSON_IsString(rw_get(dep, "status")))
		return;
	rw_clean_into(status, sizeof status, rw_get(dep, "status")->valuestring);
	if (strcmp(status, w->status) == 0)
		return;
	diag_log(DIAG_INFO, "railway: deployment %s: %s -> %s", w->id,
	    w->status[0] != '\0' ? w->status : "?", status);
	util_strlcpy(w->status, status, sizeof w->status);
	if (railway_status_kind(railway_status_parse(status)) != RAILWAY_KIND_BUSY) {
		/* over: the deployment it replaces is removed in the next seconds */
		rw->settle_fast = RW_HISTORY_SETTLE;
		rw->history_settle = RW_HISTORY_SETTLE;
	}
	rw_refresh_soon(rw, 1, 0);	/* the transition, shown now */
}

static void
rw_watch_end(struct gqlws_sub *sub, void *ud)
{
	struct rw_watch *w = ud;

	(void)sub;
	w->live = 0;	/* over (e.g. the deployment was removed): polling decides */
}

static void
rw_watch_error(struct gqlws_sub *sub, const struct gqlws_error *err, void *ud)
{
	struct rw_watch *w = ud;

	diag_log(DIAG_WARN, "railway: watching deployment %s: %s", w->id, err->message);
	if (err->final)
		rw_watch_end(sub, ud);
	else
		w->live = 0;
}

/* Follow every deployment that SNAP shows in progress, stop following the
 * others. */
static void
rw_watch_sync(struct railway *rw, const struct railway_project_snap *snap)
{
	static const struct gqlws_sub_cbs cbs = {
		.on_next = rw_watch_next, .on_error = rw_watch_error, .on_complete = rw_watch_end,
	};
	struct rw_watch *w, **pp;
	struct gqlws *g;
	struct err e;

	for (w = rw->watches; w != NULL; w = w->next)
		w->mark = 0;
	for (size_t i = 0; i < snap->n_services; i++) {
		const struct railway_deployment *d = snap->services[i].latest;
		cJSON *v;
		char *vars;

		if (d == NULL || railway_status_kind(d->status) != RAILWAY_KIND_BUSY)
			continue;
		for (w = rw->watches; w != NULL && strcmp(w->id, d->id) != 0; w = w->next)
			;
		if (w != NULL) {
			w->mark = 1;
			continue;
		}
		memset(&e, 0, sizeof e);
		if ((g = railway_int_live(rw, &e)) == NULL)
			return;
		w = xcalloc(1, sizeof *w);
		w->rw = rw;
		w->id = xstrdup(d->id);
		w->mark = 1;
		util_strlcpy(w->status, d->status_text, sizeof w->status);
		v = rw_vars_new();
		rw_vars_str(v, "id", d->id);
		vars = cJSON_PrintUnformatted(v);
		rw_json_oom(vars);
		cJSON_Delete(v);
		w->sub = gqlws_subscribe(g, rw->docs[RW_DOC_DEPLOYMENT_WATCH], vars, &cbs, w, &e);
		free(vars);
		if (w->sub == NULL) {
			diag_log(DIAG_WARN, "railway: cannot watch deployment %s: %s", d->id, e.msg);
			free(w->id);
			free(w);
			continue;
		}
		w->next = rw->watches;
		rw->watches = w;
	}
	for (pp = &rw->watches; (w = *pp) != NULL;) {
		if (w->mark) {
			pp = &w->next;
		} else {
			*pp = w->next;
			rw_watch_free(w);
		}
	}
}

/* Every deployment in progress is followed live (so no fast polling). */
static int
rw_watched_live(const struct railway *rw)
{
	if (rw->watches == NULL || rw->live == NULL ||
	    gqlws_get_status(rw->live)->state != GQLWS_OPEN)
		return 0;
	for (const struct rw_watch *w = rw->watches; w != NULL; w = w->next)
		if (!w->live)
			return 0;
	return 1;
}

static void
rw_live_close(struct railway *rw)
{
	struct rw_watch *w;

	while ((w = rw->watches) != NULL) {
		rw->watches = w->next;
		rw_watch_free(w);
	}
	gqlws_free(&rw->live);
}

int
railway_int_read(struct railway *rw, enum rw_doc doc, const char *variables,
    railway_int_read_fn *fn, void *ud, struct err *e)
{
	cJSON *v = cJSON_Parse(variables != NULL ? variables : "{}");
	struct rw_op *op;

	if (!cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return err_set(e, ERR_INVALID, "railway: read variables are not a JSON object");
	}
	op = rw_op_new(rw_doc_files[doc], doc, v, 0, NULL, ud);
	op->read = fn;
	return rw_enqueue(rw, op, e);
}

/* --- lifecycle --------------------------------------------------------------- */

static int
rw_url_ok(const char *u)
{
	return rw_starts(u, "https://") || rw_starts(u, "http://");
}

struct railway *
railway_new(uv_loop_t *loop, struct store *store, struct http *http,
    const struct railway_opts *opts, struct err *e)
{
	struct railway *rw;
	const char *endpoint = opts->endpoint != NULL && opts->endpoint[0] != '\0' ?
	    opts->endpoint : RAILWAY_DEFAULT_ENDPOINT;
	const char *token = opts->token;
	size_t tlen;

	if (token == NULL || token[0] == '\0')
		return err_set(e, ERR_INVALID, "no Railway API token: set %s",
		    opts->token_env != NULL && opts->token_env[0] != '\0' ? opts->token_env :
		    "RAILWAY_TOKEN"), NULL;
	tlen = strlen(token);
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)token[i] <= 0x20 || token[i] == 0x7f)
			return err_set(e, ERR_INVALID, "the Railway API token holds blanks "
			    "or control characters"), NULL;
	if (!rw_url_ok(endpoint))
		return err_set(e, ERR_INVALID, "provider.endpoint must be an http:// or "
		    "https:// URL"), NULL;
	if ((opts->project_id == NULL || opts->project_id[0] == '\0') &&
	    opts->token_kind != RAILWAY_TOKEN_PROJECT)
		return err_set(e, ERR_INVALID, "provider.project_id is required with an "
		    "account token (only a project token knows its project)"), NULL;

	rw = xcalloc(1, sizeof *rw);
	rw->loop = loop;
	rw->store = store;
	rw->http = http;
	rw->ws = opts->ws;
	for (int i = 0; i < RW_DOC_COUNT; i++) {
		for (const struct embed_file *f = gql_files; f->name != NULL; f++)
			if (strcmp(f->name, rw_doc_files[i]) == 0)
				rw->docs[i] = f->data;
		if (rw->docs[i] == NULL) {
			err_set(e, ERR_INTERNAL, "GraphQL document %s.graphql is not built in",
			    rw_doc_files[i]);
			free(rw);
			return NULL;
		}
	}
	rw->endpoint = xstrdup(endpoint);
	rw->token_kind = opts->token_kind;
	rw->auth_header = opts->token_kind == RAILWAY_TOKEN_PROJECT ?
	    xasprintf("Project-Access-Token: %s", token) :
	    xasprintf("Authorization: Bearer %s", token);
	rw->headers[0] = "Content-Type: application/json";
	rw->headers[1] = "Accept: application/json";
	rw->headers[2] = rw->auth_header;
	rw->headers[3] = NULL;
	if (opts->token_env != NULL && opts->token_env[0] != '\0')
		rw->token_hint = xasprintf("check %s", opts->token_env);
	else
		rw->token_hint = xstrdup(opts->token_kind == RAILWAY_TOKEN_PROJECT ?
		    "check the project token" : "check the API token");
	rw->project_id = xstrdup(opts->project_id != NULL ? opts->project_id : "");
	rw->env_want = xstrdup(opts->environment != NULL ? opts->environment : "");
	rw->ca_file = opts->ca_file != NULL ? xstrdup(opts->ca_file) : NULL;
	rw->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : RW_DEFAULT_POLL_MS;
	rw->history_ms = opts->history_ms > 0 ? opts->history_ms : RW_DEFAULT_HISTORY_MS;
	rw->vars_ms = opts->vars_ms > 0 ? opts->vars_ms : RW_DEFAULT_VARS_MS;
	rw->metrics_ms = opts->metrics_window_ms > 0 ? opts->metrics_window_ms :
	    RW_DEFAULT_METRICS_MS;
	rw->history_limit = opts->history_limit > 0 ? opts->history_limit :
	    RW_DEFAULT_HISTORY_LIMIT;
	rw->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : RW_DEFAULT_TIMEOUT_MS;
	rw->env_id = xstrdup("");
	rw->env_name = xstrdup("");
	rw->project_name = xstrdup("");
	rw->rl_limit = -1;
	rw->rl_remaining = -1;
	rw->cur_poll_ms = rw->poll_ms;
	rw->rng = (uint64_t)uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)rw;
	if (rw->rng == 0)
		rw->rng = 0x9e3779b97f4a7c15ULL;
	return rw;
}

void
railway_start(struct railway *rw)
{
	if (rw == NULL || rw->running)
		return;
	rw->running = 1;
	rw->poll_timer = loop_timer_new(rw->loop, rw_poll_timer_cb, rw);
	rw->action_timer = loop_timer_new(rw->loop, rw_action_timer_cb, rw);
	if (rw->snap == NULL)
		store_source_set(rw->store, RAILWAY_SOURCE, STORE_STATE_CONNECTING, NULL);
	loop_timer_start(rw->poll_timer, 0, 0);
}

void
railway_stop(struct railway *rw)
{
	struct rw_op *op;

	if (rw == NULL || !rw->running)
		return;
	rw->running = 0;
	for (int k = 0; k < RW_KIND_COUNT; k++) {
		if (rw->flight[k].call != NULL) {
			http_cancel(rw->flight[k].call);
			rw->flight[k].call = NULL;
		}
	}
	loop_timer_free(&rw->poll_timer);
	loop_timer_free(&rw->action_timer);
	rw_live_close(rw);
	while ((op = rw->q_head) != NULL) {
		struct railway_result res;

		rw->q_head = op->next;
		rw->q_len--;
		memset(&res, 0, sizeof res);
		res.cancelled = 1;
		res.error = op->sent ? "cancelled: signalbox stopped before Railway answered "
		    "(the request was sent; its outcome is unknown)" :
		    "cancelled: signalbox stopped before the request was sent";
		rw_op_finish(rw, op, &res);
		rw_op_free(op);
	}
	rw->q_tail = NULL;
	rw->q_len = 0;
	rw->wait_until = 0;
	railway_int_volumes_stop(rw);	/* railway_volumes.c: what waits between polls */
}

void
railway_free(struct railway **rwp)
{
	struct railway *rw;

	if (rwp == NULL || (rw = *rwp) == NULL)
		return;
	railway_stop(rw);
	railway_project_snap_unref(rw->snap);
	free(rw->endpoint);
	rw_wipe_free(rw->auth_header);
	free(rw->token_hint);
	free(rw->project_id);
	free(rw->env_want);
	free(rw->ca_file);
	free(rw->env_id);
	free(rw->env_name);
	free(rw->project_name);
	free(rw->latest_sig);
	while (rw->listeners != NULL) {
		struct rw_listener *li = rw->listeners;

		rw->listeners = li->next;
		free(li);
	}
	free(rw);
	*rwp = NULL;
}

void
railway_refresh_now(struct railway *rw)
{
	if (rw == NULL || !rw->running || rw->wait_until > loop_now_ms(rw->loop))
		return;
	rw->failures = 0;	/* the user asked: no backoff wait */
	rw_refresh_soon(rw, 1, 1);
}

void
railway_budget_get(const struct railway *rw, struct railway_budget *out)
{
	memset(out, 0, sizeof *out);
	out->limit = out->remaining = -1;
	if (rw == NULL)
		return;
	out->known = rw->rl_known;
	out->limit = rw->rl_limit;
	out->remaining = rw->rl_remaining;
	out->reset_ms = rw->rl_reset_ms;
	out->wait_until_ms = rw->wait_until > loop_now_ms(rw->loop) ? rw->wait_until_wall : 0;
	out->poll_ms = rw->cur_poll_ms;
	out->polling_paused = rw->paused;
	out->queued = rw->q_len;
	out->requests = rw->requests;
}

const char *
railway_active_deployment_id(const struct railway *rw, const char *service_id)
{
	const struct railway_service *s;

	if (rw == NULL || service_id == NULL ||
	    (s = railway_project_find(rw->snap, service_id)) == NULL)
		return NULL;
	return s->active != NULL ? s->active->id : s->latest != NULL ? s->latest->id : NULL;
}

const char *
railway_environment_id(const struct railway *rw)
{
	return rw != NULL && rw->resolved ? rw->env_id : "";
}

/* --- token ------------------------------------------------------------------ */

static char *
rw_trimmed(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

int
railway_token_load(const char *env_name, const char *file, char **token, char *warn,
    size_t warn_len, struct err *e)
{
	const char *v;
	FILE *f;
	struct stat st;
	char buf[4096];
	size_t n;

	*token = NULL;
	if (warn != NULL && warn_len > 0)
		warn[0] = '\0';
	if (env_name != NULL && env_name[0] != '\0' && (v = getenv(env_name)) != NULL &&
	    v[0] != '\0') {
		*token = rw_trimmed(v, strlen(v));
		if ((*token)[0] != '\0')
			return 0;
		free(*token);
		*token = NULL;
	}
	if (file == NULL || file[0] == '\0') {
		if (env_name != NULL && env_name[0] != '\0')
			return err_set(e, ERR_INVALID, "no Railway API token: the environment "
			    "variable %s is not set and provider.token_file is not configured",
			    env_name);
		return err_set(e, ERR_INVALID, "no Railway API token: neither "
		    "provider.token_env nor provider.token_file is configured");
	}
	if ((f = fopen(file, "r")) == NULL)
		return err_set(e, ERR_IO, "cannot read the token file %s: %s", file,
		    strerror(errno));
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0 &&
	    warn != NULL && warn_len > 0)
		snprintf(warn, warn_len, "the token file %s can be read by other users "
		    "(mode %03o): chmod 600 it", file, (unsigned)(st.st_mode & 0777));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	*token = rw_trimmed(buf, n);
	explicit_bzero(buf, sizeof buf);
	if ((*token)[0] == '\0') {
		free(*token);
		*token = NULL;
		return err_set(e, ERR_INVALID, "the token file %s is empty", file);
	}
	return 0;
}

/* --- lent to railway_volumes.c ------------------------------------------------- */

int
railway_int_write(struct railway *rw, enum rw_doc doc, const char *variables,
    railway_int_read_fn *fn, void *ud, struct err *e)
{
	cJSON *v = cJSON_Parse(variables != NULL ? variables : "{}");
	struct rw_op *op;

	if (!cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return err_set(e, ERR_INVALID, "railway: write variables are not a JSON object");
	}
	op = rw_op_new(rw_doc_files[doc], doc, v, 0, NULL, ud);
	op->read = fn;
	op->write = 1;
	return rw_enqueue(rw, op, e);
}

uv_loop_t *
railway_int_loop(const struct railway *rw)
{
	return rw->loop;
}

int
railway_int_running(const struct railway *rw)
{
	return rw != NULL && rw->running;
}

size_t
railway_int_cut(const char *s, size_t n, size_t cap)
{
	return rw_cut(s, n, cap);
}

char *
railway_int_clean(const char *s, size_t n, size_t cap)
{
	return rw_clean(s, n, cap);
}
