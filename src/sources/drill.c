/* drill.c - the restore drill (see drill.h).
 *
 * One phase runs at a time; each is driven by the exit of a child
 * (proc.h), a query's answer (pg.h) or a timer, and ends in phase_end,
 * which records it and chooses what comes next (drill_advance): the next
 * phase while all went well, else the teardown (STOP when START ran,
 * CLEANUP when the directory is ours), then the end.  Cancel and the
 * drill's deadline go through drill_abort: what can be killed is killed
 * and its exit ends the phase; pg_ctl start and mkdir are waited for, so
 * what they made is known and undone.
 *
 * Reentrancy: every entry point (timer, child, query, connection state)
 * runs between drill_enter and drill_leave; a drill freed inside one of
 * the owner's callbacks is destroyed at the outermost leave.  pg.h does
 * not allow pg_free inside its own callbacks, so the connection is always
 * closed from the kick timer.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/diag.h"
#include "signalbox/drill.h"
#include "signalbox/loop.h"
#include "signalbox/pg.h"
#include "signalbox/proc.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define DRILL_DIR_PREFIX "signalbox-drill-"

enum {
	DRILL_POLL_MS = 100,		/* recovery polls (a local query: cheap) */
	DRILL_STATUS_EVERY_MS = 2000,	/* pg_ctl status while connects fail */
	DRILL_SOCKET_PATH_MAX = 107,	/* sun_path less its NUL */
	DRILL_COLLECT_MAX = 256 * 1024,
	DRILL_INFO_MAX = 16 * 1024 * 1024,
	DRILL_START_SLACK_MS = 2000,	/* clock steps between us and the postmaster */
	DRILL_SHORT_MS = 30 * 1000,	/* mkdir, tail, status */
	DRILL_STOP_MS = 60 * 1000,
	DRILL_RM_MS = 30 * 60 * 1000,
};

/* What the running child is. */
enum drill_job {
	JOB_NONE,
	JOB_INFO,
	JOB_MKDIR,
	JOB_MKDIR_SUB,
	JOB_RESTORE,
	JOB_START,
	JOB_STATUS,		/* during RECOVER (the aux slot) */
	JOB_EARLY_STOP,		/* cancel during START (the aux slot) */
	JOB_SMOKE,
	JOB_TAIL,
	JOB_STOP,
	JOB_STOP_STATUS,
	JOB_RM,
};

/* What the query in flight is. */
enum drill_query {
	Q_NONE,
	Q_RECOVERY,
	Q_VERIFY,
	Q_TABLE,
	Q_CHECK,
};

enum drill_abort {
	ABORT_NONE,
	ABORT_CANCEL,
	ABORT_TIMEOUT,
};

struct drill {
	uv_loop_t *loop;
	struct drill_cbs cbs;
	void *ud;

	/* options, copied */
	char **wrapper;
	size_t n_wrapper;
	char *pgbackrest, *arg_config, *arg_stanza, *stanza, *pg_ctl, *set, *target;
	int64_t target_ms;
	int64_t backup_stop_s;
	char *root;		/* realpath(scratch_root) */
	char *root_arg;		/* scratch_root as given, resolved again before rm */
	char *conninfo;		/* the scratch copy's (drill_scratch_conninfo); wiped */
	char *prod_conninfo;	/* only to keep it out of what we record; wiped */
	char **check_sql;	/* per check */
	char **smoke;
	uint64_t timeout_ms;

	struct drill_result r;
	char port_s[8];
	char dir_data[DRILL_PATH_MAX + 8];
	char dir_socket[DRILL_PATH_MAX + 8];
	char dir_log[DRILL_PATH_MAX + 16];
	char dir_tblspc[DRILL_PATH_MAX + 16];
	uint64_t t0, deadline, phase_t0, restore_t0;

	struct proc *proc;	/* the phase's child */
	enum drill_job job;
	struct proc *aux;	/* pg_ctl status while recovering, stop while starting */
	enum drill_job aux_job;
	struct pg *pg, *pg_old;
	enum drill_query q;
	size_t q_index;		/* CHECK: tables, then checks */
	int verified;		/* this session is the scratch server's */
	uint64_t status_t;
	char smoke_last[DRILL_WORDS_MAX];

	struct loop_timer *kick, *poll, *deadline_timer;
	struct loop_timer *early_timer;	/* the early stop again: no pid file yet */
	int begun, kick_abort;
	enum drill_abort abort;
	int check_failed;
	char check_fail[DRILL_WORDS_MAX];	/* the first failed item */
	int failures;		/* phases that failed, not counting one a cancel ended */
	int ending_abort;	/* phase_end is ending a phase for cancel/deadline */
	int dir_made;		/* DIR exists and this drill made it */
	int server_started;	/* pg_ctl start ran */
	int keep_dir;		/* a server may still run in it */
	int want_tail;
	int teardown, done;
	int detached;		/* freed while running: no more callbacks */
	int depth, in_pg, dead;
};

static void drill_advance(struct drill *d);
static void drill_abort(struct drill *d, enum drill_abort why);
static void drill_check_next(struct drill *d);
static void drill_stop_begin(struct drill *d);
static void drill_cleanup_begin(struct drill *d);

/* ---- names ------------------------------------------------------------------ */

static const char *const drill_phase_names[DRILL_N_PHASES] = {
	"prepare", "restore", "start", "recover", "check", "smoke", "stop", "cleanup",
};

const char *
drill_phase_name(enum drill_phase p)
{
	return (unsigned)p < DRILL_N_PHASES ? drill_phase_names[p] : "?";
}

const char *
drill_step_name(enum drill_step s)
{
	static const char *const names[] = { "pending", "running", "ok", "failed", "skipped" };

	return (unsigned)s < ARRAY_LEN(names) ? names[s] : "?";
}

const char *
drill_verdict_name(enum drill_verdict v)
{
	static const char *const names[] = { "RUNNING", "PASSED", "FAILED", "CANCELLED" };

	return (unsigned)v < ARRAY_LEN(names) ? names[v] : "?";
}

static const char *
drill_match_name(enum drill_match m)
{
	static const char *const names[] = { "none", "ok", "mismatch", "error" };

	return (unsigned)m < ARRAY_LEN(names) ? names[m] : "?";
}

/* ---- small helpers ------------------------------------------------------------ */

static char *
drill_strdup0(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
drill_wipe_free(char *s)
{
	if (s == NULL)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

static char **
drill_argv_dup(const char *const *v, size_t *np)
{
	size_t n = 0;
	char **out;

	if (v == NULL)
		return NULL;
	while (v[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	if (np != NULL)
		*np = n;
	return out;
}

static void
drill_argv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Untrusted bytes, made display-safe on one line and cut, into DST. */
static void
drill_copy_safe(char *dst, size_t len, const char *src, size_t n)
{
	char *s = text_sanitize(src != NULL ? src : "", src != NULL ? n : 0, 0);

	util_strlcpy(dst, s, len);
	free(s);
}

static void
drill_fmt_dur(char *buf, size_t len, uint64_t ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%llu ms", (unsigned long long)ms);
	else if (ms < 120000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
		    (unsigned long long)(ms / 1000 % 60));
}

static int
drill_is_url(const char *ci)
{
	return strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0;
}

int
drill_table_name_valid(const char *name)
{
	size_t part = 0, parts = 1;

	if (name == NULL || *name == '\0')
		return 0;
	for (const char *s = name; *s != '\0'; s++) {
		char c = *s;

		if (c == '.') {
			if (part == 0 || ++parts > 2)
				return 0;
			part = 0;
			continue;
		}
		if (part == 0 && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'))
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		    (c >= '0' && c <= '9')))
			return 0;
		if (++part > 63)
			return 0;
	}
	return part > 0;
}

/* NAME ("a" or "a.b", valid) as quoted identifiers into BUF. */
static void
drill_quote_table(char *buf, size_t len, const char *name)
{
	const char *dot = strchr(name, '.');

	if (dot == NULL)
		snprintf(buf, len, "\"%s\"", name);
	else
		snprintf(buf, len, "\"%.*s\".\"%s\"", (int)(dot - name), name, dot + 1);
}

int
drill_table_sql(const char *table, char *buf, size_t len)
{
	char qt[DRILL_NAME_MAX + 8];

	if (len > 0)
		buf[0] = '\0';
	if (!drill_table_name_valid(table))
		return -1;
	drill_quote_table(qt, sizeof qt, table);
	if ((size_t)snprintf(buf, len, "select count(*), md5(coalesce(string_agg(t::text, "
	    "E'\\n' order by t::text), '')) from %s t", qt) >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

static int
drill_label_valid(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) >= DRILL_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* Characters a scratch path may hold: pg_ctl hands -o to a shell. */
static int
drill_path_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("/._+,:@-", *s) != NULL))
			return 0;
	return 1;
}

/* Whether PATH is DIR or inside it (both resolved). */
static int
drill_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int
drill_digits(const char **sp, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*sp)[i] < '0' || (*sp)[i] > '9')
			return -1;
		v = v * 10 + ((*sp)[i] - '0');
	}
	*sp += n;
	*out = v;
	return 0;
}

int
drill_parse_target(const char *s, int64_t *out_ms)
{
	struct tm tm;
	int y, mo, da, h, mi, se = 0, ms = 0, zh = 0, zm = 0, sign = 1;
	time_t t;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof tm);
	if (drill_digits(&s, 4, &y) || *s++ != '-' || drill_digits(&s, 2, &mo) || *s++ != '-' ||
	    drill_digits(&s, 2, &da) || (*s != ' ' && *s != 'T') || !*s++ ||
	    drill_digits(&s, 2, &h) || *s++ != ':' || drill_digits(&s, 2, &mi))
		return -1;
	if (*s == ':') {
		s++;
		if (drill_digits(&s, 2, &se))
			return -1;
		if (*s == '.') {
			int digits = 0;

			for (s++; *s >= '0' && *s <= '9'; s++, digits++)
				if (digits < 3)
					ms = ms * 10 + (*s - '0');
			if (digits == 0)
				return -1;
			for (; digits < 3; digits++)
				ms *= 10;
		}
	}
	while (*s == ' ')
		s++;
	if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0) {
		s += strlen(s);
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (drill_digits(&s, 2, &zh))
			return -1;
		if (*s == ':')
			s++;
		if (*s != '\0' && drill_digits(&s, 2, &zm))
			return -1;
	} else {
		return -1;	/* no zone: the server's would be guessed */
	}
	if (*s != '\0' || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 ||
	    se > 60 || zh > 15 || zm > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = da;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	*out_ms = ((int64_t)t - sign * (int64_t)(zh * 3600 + zm * 60)) * 1000 + ms;
	return 0;
}

char *
drill_scratch_conninfo(const char *ci, int port)
{
	const char *auth, *auth_end, *host, *path_end, *q;
	size_t cap;
	char *out;
	size_t o = 0;
	int first = 1;

	if (ci == NULL)
		ci = "";
	if (!drill_is_url(ci))
		return xasprintf("%s host=127.0.0.1 hostaddr=127.0.0.1 port=%d", ci, port);
	cap = strlen(ci) + 32;
	out = xmalloc(cap);
	auth = strstr(ci, "://") + 3;
	auth_end = auth + strcspn(auth, "/?");
	host = auth;
	for (const char *s = auth; s < auth_end; s++)
		if (*s == '@')
			host = s + 1;
	path_end = auth_end + strcspn(auth_end, "?");
	o += (size_t)snprintf(out, cap, "%.*s127.0.0.1:%d%.*s", (int)(host - ci), ci, port,
	    (int)(path_end - auth_end), auth_end);
	q = *path_end == '?' ? path_end + 1 : NULL;
	while (q != NULL && *q != '\0') {
		size_t n = strcspn(q, "&"), k = strcspn(q, "=&");

		if (n > 0 && !((k == 4 && strncmp(q, "host", 4) == 0) ||
		    (k == 8 && strncmp(q, "hostaddr", 8) == 0) ||
		    (k == 4 && strncmp(q, "port", 4) == 0))) {
			out[o++] = first ? '?' : '&';
			memcpy(out + o, q, n);
			o += n;
			first = 0;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	out[o] = '\0';
	return out;
}

/* Whether something listens on (or holds) 127.0.0.1:PORT. */
static int
drill_port_in_use(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	/* as PostgreSQL binds: a port in TIME_WAIT is free to it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return rc != 0;
}

/* A port the kernel has free on 127.0.0.1 now, or -1. */
static int
drill_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* PATH made absolute against our working directory (not resolved). */
static char *
drill_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

static int
drill_line_has(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if (memcmp(s + i, word, w) == 0)
			return 1;
	return 0;
}

/* The line of a failed child's output that says most: stderr's first line
 * with ERROR, FATAL or error, else its first line, else stdout's last. */
static void
drill_output_line(char *buf, size_t len, const char *err, const char *out)
{
	const char *pick = NULL, *s, *nl;
	size_t pick_n = 0;
	int pick_strong = 0;

	buf[0] = '\0';
	for (s = err; s != NULL && *s != '\0'; s = nl != NULL ? nl + 1 : NULL) {
		size_t n;
		int strong;

		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (n == 0)
			continue;
		strong = drill_line_has(s, n, "ERROR") || drill_line_has(s, n, "FATAL") ||
		    drill_line_has(s, n, "error");
		if (pick == NULL || (strong && !pick_strong)) {
			pick = s;
			pick_n = n;
			pick_strong = strong;
		}
	}
	for (s = out; pick == NULL && s != NULL && *s != '\0'; s = nl != NULL ? nl + 1 : NULL) {
		size_t n;

		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (n > 0) {
			buf[0] = '\0';
			drill_copy_safe(buf, len, s, n);	/* the last one wins */
		}
	}
	if (pick != NULL)
		drill_copy_safe(buf, len, pick, pick_n);
}

/* ---- entry points and the owner's callbacks ------------------------------------- */

static void
drill_destroy(struct drill *d)
{
	proc_free(&d->proc);
	proc_free(&d->aux);
	pg_free(&d->pg);
	pg_free(&d->pg_old);
	loop_timer_free(&d->kick);
	loop_timer_free(&d->poll);
	loop_timer_free(&d->early_timer);
	loop_timer_free(&d->deadline_timer);
	drill_argv_free(d->wrapper);
	free(d->pgbackrest);
	free(d->arg_config);
	free(d->arg_stanza);
	free(d->stanza);
	free(d->pg_ctl);
	free(d->set);
	free(d->target);
	free(d->root);
	free(d->root_arg);
	drill_wipe_free(d->conninfo);
	drill_wipe_free(d->prod_conninfo);
	if (d->check_sql != NULL)
		for (size_t i = 0; i < d->r.n_checks; i++)
			free(d->check_sql[i]);
	free(d->check_sql);
	drill_argv_free(d->smoke);
	free(d->r.tables);
	free(d->r.checks);
	free(d);
}

static void
drill_enter(struct drill *d)
{
	d->depth++;
}

static void
drill_leave(struct drill *d)
{
	if (--d->depth > 0 || !d->dead)
		return;
	if (d->in_pg > 0)
		loop_timer_start(d->kick, 0, 0);	/* not inside pg's callback */
	else
		drill_destroy(d);
}

static void
drill_notify(struct drill *d, enum drill_phase p)
{
	if (!d->detached && d->cbs.on_phase != NULL)
		d->cbs.on_phase(d, p, d->ud);
}

/* A child's own time limit: what is left of the drill's, plus a margin so
 * that the drill's deadline (which says why) always comes first; the
 * child's limit is only the backstop. */
static uint64_t
drill_remaining(struct drill *d)
{
	uint64_t now = util_now_ms();

	return (d->deadline > now ? d->deadline - now : 0) + 2000;
}

/* ---- phases -------------------------------------------------------------------------- */

static void
phase_begin(struct drill *d, enum drill_phase p, const char *words)
{
	struct drill_phase_result *ph = &d->r.phases[p];

	d->r.phase = p;
	ph->state = DRILL_STEP_RUNNING;
	ph->started_ms = util_wall_ms();
	ph->duration_ms = 0;
	util_strlcpy(ph->words, words, sizeof ph->words);
	d->phase_t0 = util_now_ms();
	diag_log(DIAG_INFO, "drill: %s: %s", drill_phase_name(p), words);
	drill_notify(d, p);
}

static void
phase_words(struct drill *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
phase_words(struct drill *d, const char *fmt, ...)
{
	struct drill_phase_result *ph = &d->r.phases[d->r.phase];
	char buf[DRILL_WORDS_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (strcmp(buf, ph->words) == 0)
		return;
	util_strlcpy(ph->words, buf, sizeof ph->words);
	drill_notify(d, d->r.phase);
}

static void
phase_skip(struct drill *d, enum drill_phase p, const char *words)
{
	d->r.phases[p].state = DRILL_STEP_SKIPPED;
	util_strlcpy(d->r.phases[p].words, words, sizeof d->r.phases[p].words);
}

static void
phase_end(struct drill *d, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* End the running phase (OK or failed with the words as the reason), then
 * go on. */
static void
phase_end(struct drill *d, int ok, const char *fmt, ...)
{
	enum drill_phase p = d->r.phase;
	struct drill_phase_result *ph = &d->r.phases[p];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ph->words, sizeof ph->words, fmt, ap);
	va_end(ap);
	ph->state = ok ? DRILL_STEP_OK : DRILL_STEP_FAILED;
	ph->duration_ms = util_now_ms() - d->phase_t0;
	if (!ok && !(d->ending_abort && d->abort == ABORT_CANCEL))
		d->failures++;
	if (!ok) {
		char why[DRILL_REASON_MAX];
		size_t o = strlen(d->r.reason);

		if (d->ending_abort && d->abort == ABORT_CANCEL)
			snprintf(why, sizeof why, "cancelled during %s", drill_phase_name(p));
		else if (p == DRILL_CHECK)
			snprintf(why, sizeof why, "%s", ph->words);	/* names the item */
		else
			snprintf(why, sizeof why, "%s: %s", drill_phase_name(p), ph->words);
		/* the first failure; a failed teardown is said too (debris) */
		if (o == 0)
			util_strlcpy(d->r.reason, why, sizeof d->r.reason);
		else if (p >= DRILL_STOP && o + 3 < sizeof d->r.reason) {
			util_strlcpy(d->r.reason + o, "; ", sizeof d->r.reason - o);
			util_strlcpy(d->r.reason + o + 2, why, sizeof d->r.reason - o - 2);
		}
	}
	d->ending_abort = 0;
	diag_log(ok ? DIAG_INFO : DIAG_WARN, "drill: %s %s in %llu ms: %s", drill_phase_name(p),
	    ok ? "ok" : "failed", (unsigned long long)ph->duration_ms, ph->words);
	drill_notify(d, p);
	drill_advance(d);
}

/* Words for a phase ended by cancel or the deadline. */
static const char *
drill_abort_words(struct drill *d, char *buf, size_t len)
{
	char dur[32];

	if (d->abort == ABORT_CANCEL)
		return "cancelled";
	drill_fmt_dur(dur, sizeof dur, d->timeout_ms);
	snprintf(buf, len, "the drill did not finish within %s", dur);
	return buf;
}

/* End the running phase because of cancel or the deadline. */
static void
phase_end_abort(struct drill *d)
{
	char ab[120];

	d->ending_abort = 1;
	phase_end(d, 0, "%s", drill_abort_words(d, ab, sizeof ab));
}

static void
drill_finish(struct drill *d)
{
	int failed = 0;

	loop_timer_stop(d->deadline_timer);
	loop_timer_stop(d->poll);
	for (int p = 0; p < DRILL_N_PHASES; p++) {
		if (d->r.phases[p].state == DRILL_STEP_PENDING)
			phase_skip(d, (enum drill_phase)p, "not reached");
		if (d->r.phases[p].state == DRILL_STEP_FAILED)
			failed = 1;
	}
	d->r.total_ms = (int64_t)(util_now_ms() - d->t0);
	if (d->failures > 0 || d->abort == ABORT_TIMEOUT)
		d->r.verdict = DRILL_FAILED;
	else if (d->abort == ABORT_CANCEL)
		d->r.verdict = DRILL_CANCELLED;
	else
		d->r.verdict = failed ? DRILL_FAILED : DRILL_PASSED;
	if (d->r.verdict == DRILL_CANCELLED && d->r.reason[0] == '\0')
		util_strlcpy(d->r.reason, "cancelled", sizeof d->r.reason);
	d->done = 1;
	diag_log(d->r.verdict == DRILL_PASSED ? DIAG_INFO : DIAG_WARN,
	    "drill: %s in %lld ms, rto %lld ms%s%s", drill_verdict_name(d->r.verdict),
	    (long long)d->r.total_ms, (long long)d->r.rto_ms, d->r.reason[0] ? ": " : "",
	    d->r.reason);
	if (d->detached) {
		d->dead = 1;	/* destroyed at the outermost leave */
		return;
	}
	if (d->cbs.on_done != NULL)
		d->cbs.on_done(d, &d->r, d->ud);
}

/* ---- children ------------------------------------------------------------------------ */

static void drill_proc_exit(struct proc *p, const struct proc_exit *ex, void *ud);
static void drill_proc_line(struct proc *p, const struct proc_line *l, void *ud);

/* Run CMD (through the wrapper when WRAPPED) as JOB into *SLOT; -1 with
 * the reason in WHY when it cannot start. */
static int
drill_spawn(struct drill *d, struct proc **slot, enum drill_job job, int wrapped,
    const char *const *cmd, const char *const *env, uint64_t timeout_ms, char *why,
    size_t why_len)
{
	const char **argv;
	size_t n = 0, n_cmd = 0;
	struct proc_opts po;
	struct proc_cbs cbs = { drill_proc_line, drill_proc_exit };
	struct err e;
	char shown[512];
	size_t o = 0;

	while (cmd[n_cmd] != NULL)
		n_cmd++;
	argv = xcalloc(d->n_wrapper + n_cmd + 1, sizeof *argv);
	if (wrapped)
		for (size_t i = 0; i < d->n_wrapper; i++)
			argv[n++] = d->wrapper[i];
	for (size_t i = 0; i < n_cmd; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	memset(&po, 0, sizeof po);
	po.argv = argv;
	po.env = env;
	/* the repository's owner may not enter our directory */
	po.cwd = wrapped ? "/" : NULL;
	po.out_mode = job == JOB_SMOKE ? PROC_MODE_LINES : PROC_MODE_COLLECT;
	po.err_mode = job == JOB_SMOKE ? PROC_MODE_LINES : PROC_MODE_COLLECT;
	/* pgbackrest info lists every backup and WAL range */
	po.collect_max = job == JOB_INFO ? DRILL_INFO_MAX : DRILL_COLLECT_MAX;
	po.max_line = 4096;
	po.timeout_ms = timeout_ms;
	shown[0] = '\0';
	for (size_t i = 0; argv[i] != NULL && o + 2 < sizeof shown; i++) {
		/* a smoke command's arguments are the user's: only its name */
		if (job == JOB_SMOKE && i > (wrapped ? d->n_wrapper : 0))
			break;
		o += (size_t)snprintf(shown + o, sizeof shown - o, "%s%s", i ? " " : "", argv[i]);
		if (o >= sizeof shown)
			o = sizeof shown - 1;
	}
	diag_log(DIAG_DEBUG, "drill: run %s", shown);
	*slot = proc_start(d->loop, &po, &cbs, d, &e);
	free(argv);
	if (*slot == NULL) {
		util_strlcpy(why, e.msg, why_len);
		return -1;
	}
	if (slot == &d->proc)
		d->job = job;
	else
		d->aux_job = job;
	return 0;
}

/* RESTORE's pgbackrest command line into V (strings in BUFS). */
static void
drill_restore_argv(struct drill *d, const char **v, char bufs[][DRILL_PATH_MAX + 64])
{
	size_t n = 0;

	v[n++] = d->pgbackrest;
	v[n++] = d->arg_config;
	v[n++] = d->arg_stanza;
	snprintf(bufs[2], sizeof bufs[2], "--pg1-path=%s", d->dir_data);
	v[n++] = bufs[2];
	snprintf(bufs[3], sizeof bufs[3], "--set=%s", d->r.backup_label);
	v[n++] = bufs[3];
	v[n++] = "--archive-mode=off";
	/* tablespaces into the drill's directory, never their production paths */
	snprintf(bufs[4], sizeof bufs[4], "--tablespace-map-all=%s", d->dir_tblspc);
	v[n++] = bufs[4];
	if (d->target != NULL) {
		v[n++] = "--type=time";
		snprintf(bufs[5], sizeof bufs[5], "--target=%s", d->target);
		v[n++] = bufs[5];
	} else {
		v[n++] = "--type=immediate";
	}
	v[n++] = "--target-action=promote";
	v[n++] = "restore";
	v[n] = NULL;
}

static void
drill_run_restore(struct drill *d)
{
	const char *argv[20];
	char bufs[6][DRILL_PATH_MAX + 64];
	char why[300];

	phase_begin(d, DRILL_RESTORE, "pgbackrest restore");
	phase_words(d, "restoring %s into %s", d->r.backup_label, d->dir_data);
	d->restore_t0 = util_now_ms();
	drill_restore_argv(d, argv, bufs);
	if (drill_spawn(d, &d->proc, JOB_RESTORE, 1, argv, NULL, drill_remaining(d), why,
	    sizeof why) != 0)
		phase_end(d, 0, "%s", why);
}

static void
drill_run_start(struct drill *d)
{
	char secs[24], opts[4 * DRILL_PATH_MAX];
	uint64_t rem = drill_remaining(d);
	const char *argv[] = { d->pg_ctl, "-D", d->dir_data, "-l", d->dir_log, "-w", "-t", secs,
		"start", "-o", opts, NULL };
	char why[300];

	phase_begin(d, DRILL_START, "pg_ctl start");
	snprintf(secs, sizeof secs, "%llu", (unsigned long long)(rem / 1000 > 5 ? rem / 1000 : 5));
	/* the restored configuration is production's: override what would reach
	 * production's port, socket, archive, pid file, logs or memory */
	snprintf(opts, sizeof opts, "-p %d -k %s -c listen_addresses=127.0.0.1 "
	    "-c archive_mode=off -c data_directory=%s -c external_pid_file=%s/external.pid "
	    "-c logging_collector=off -c hot_standby=on -c shared_buffers=128MB "
	    "-c huge_pages=try", d->r.port, d->dir_socket, d->dir_data, d->r.scratch_dir);
	if (drill_spawn(d, &d->proc, JOB_START, 1, argv, NULL, rem + DRILL_SHORT_MS, why,
	    sizeof why) != 0) {
		phase_end(d, 0, "%s", why);
		return;
	}
	d->server_started = 1;
	phase_words(d, "starting PostgreSQL on 127.0.0.1:%d", d->r.port);
}

/* ---- RECOVER and CHECK: queries ----------------------------------------------------- */

static void drill_pg_done(const struct pg_result *res, void *ud);

static void
drill_pg_state(enum pg_state st, const char *error, void *ud)
{
	struct drill *d = ud;

	(void)error;
	if (st != PG_STATE_READY)
		d->verified = 0;	/* a new session must prove itself again */
	else if (d->r.phase == DRILL_RECOVER && d->pg != NULL)
		loop_timer_start(d->poll, 0, DRILL_POLL_MS);	/* ask at once: the RTO */
}

static void
drill_query(struct drill *d, enum drill_query q, const char *sql)
{
	d->q = q;
	pg_query(d->pg, sql, 0, NULL, drill_pg_done, d);
}

/* Close the session from the kick timer (never inside pg's callbacks). */
static void
drill_pg_close(struct drill *d)
{
	loop_timer_stop(d->poll);
	d->q = Q_NONE;
	if (d->pg == NULL)
		return;
	d->pg_old = d->pg;
	d->pg = NULL;
	loop_timer_start(d->kick, 0, 0);
}

static const char drill_sql_recovery[] =
	"select pg_is_in_recovery(), "
	"(extract(epoch from pg_last_xact_replay_timestamp()) * 1000)::bigint, "
	"inet_server_port(), (extract(epoch from pg_postmaster_start_time()) * 1000)::bigint";
static const char drill_sql_verify[] =
	"select inet_server_port(), "
	"(extract(epoch from pg_postmaster_start_time()) * 1000)::bigint";

static int64_t
drill_int(const char *s, int64_t dflt)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return dflt;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0 ? (int64_t)v : dflt;
}

/* Whether PORT_S / START_S describe the scratch server; else words in WHY. */
static int
drill_is_scratch(struct drill *d, const char *port_s, const char *start_s, char *why,
    size_t len)
{
	int64_t port = drill_int(port_s, -1), start = drill_int(start_s, -1);
	char when[40] = "?";

	if (start > 0)
		util_format_rfc3339(when, sizeof when, start);
	if (port == d->r.port && start >= d->r.started_ms - DRILL_START_SLACK_MS)
		return 1;
	snprintf(why, len, "connected to a server that is not the scratch copy (port %lld, up "
	    "since %s): check that the connection string names no other host", (long long)port,
	    when);
	return 0;
}

static void
drill_recover_begin(struct drill *d)
{
	struct pg_opts po;

	phase_begin(d, DRILL_RECOVER, "connecting to the scratch copy");
	memset(&po, 0, sizeof po);
	po.conninfo = d->conninfo;
	po.host = "127.0.0.1";
	po.port = d->port_s;
	po.statement_timeout_ms = (int64_t)d->timeout_ms;
	po.retry_max_ms = 1000;
	d->pg = pg_new(d->loop, &po, drill_pg_state, d);
	d->verified = 0;
	d->status_t = util_now_ms();
	pg_start(d->pg);
	loop_timer_start(d->poll, DRILL_POLL_MS, DRILL_POLL_MS);
}

static void
drill_recover_fail(struct drill *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
drill_recover_fail(struct drill *d, const char *fmt, ...)
{
	char buf[DRILL_WORDS_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	proc_free(&d->aux);
	drill_pg_close(d);
	d->want_tail = 1;
	phase_end(d, 0, "%s", buf);
}

/* Whether a connect ERROR will not go away by waiting: the copy has
 * production's pg_hba.conf and roles, which may not let us in. */
static int
drill_connect_refused(const char *error)
{
	static const char *const words[] = { "pg_hba.conf", "authentication failed",
		"does not exist", "permission denied", "no password supplied" };

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strstr(error, words[i]) != NULL)
			return 1;
	return 0;
}

static void
drill_poll_cb(struct loop_timer *t, void *ud)
{
	struct drill *d = ud;
	char why[300];

	(void)t;
	if (d->r.phase != DRILL_RECOVER || d->pg == NULL || d->q != Q_NONE)
		return;
	drill_enter(d);
	if (pg_state(d->pg) == PG_STATE_READY) {
		drill_query(d, Q_RECOVERY, drill_sql_recovery);
	} else if (pg_state(d->pg) == PG_STATE_DOWN && drill_connect_refused(pg_error(d->pg))) {
		drill_recover_fail(d, "the scratch copy refuses production's credentials: %s",
		    pg_error(d->pg));
	} else {
		if (pg_error(d->pg)[0] != '\0')
			phase_words(d, "waiting for the scratch copy: %s", pg_error(d->pg));
		/* connects fail: is the server still there? */
		if (pg_state(d->pg) == PG_STATE_DOWN && d->aux == NULL &&
		    util_now_ms() - d->status_t >= DRILL_STATUS_EVERY_MS) {
			const char *argv[] = { d->pg_ctl, "-D", d->dir_data, "status", NULL };

			d->status_t = util_now_ms();
			if (drill_spawn(d, &d->aux, JOB_STATUS, 1, argv, NULL, DRILL_SHORT_MS, why,
			    sizeof why) != 0)
				diag_log(DIAG_WARN, "drill: pg_ctl status: %s", why);
		}
	}
	drill_leave(d);
}

static void
drill_recovery_answer(struct drill *d, const struct pg_result *res)
{
	const char *in_rec, *replay;
	char why[300], when[40];

	d->q = Q_NONE;
	if (!res->ok || res->rows.nrows != 1 || res->rows.ncols != 4) {
		phase_words(d, "waiting for the scratch copy: %s", res->ok ? "unexpected answer" :
		    res->error);
		return;
	}
	if (!drill_is_scratch(d, pg_rows_get(&res->rows, 0, 2), pg_rows_get(&res->rows, 0, 3),
	    why, sizeof why)) {
		drill_recover_fail(d, "%s", why);
		return;
	}
	d->verified = 1;
	in_rec = pg_rows_get(&res->rows, 0, 0);
	replay = pg_rows_get(&res->rows, 0, 1);
	if (in_rec != NULL && strcmp(in_rec, "t") == 0) {
		if (replay != NULL) {
			util_format_rfc3339(when, sizeof when, drill_int(replay, 0));
			phase_words(d, "recovering: replayed up to %s", when);
		} else {
			phase_words(d, "recovering");
		}
		return;
	}
	/* recovery ended: the copy answers */
	d->r.rto_ms = (int64_t)(util_now_ms() - d->restore_t0);
	if (replay != NULL && drill_int(replay, 0) > 0) {
		d->r.recovery_point_ms = drill_int(replay, 0);
		d->r.recovery_point_from_backup = 0;
	} else if (d->r.backup_stop_ms > 0) {
		d->r.recovery_point_ms = d->r.backup_stop_ms;
		d->r.recovery_point_from_backup = 1;
	}
	if (d->r.recovery_point_ms > 0)
		d->r.rpo_ms = d->r.started_ms - d->r.recovery_point_ms;
	loop_timer_stop(d->poll);
	proc_free(&d->aux);
	if (d->r.recovery_point_ms > 0) {
		util_format_rfc3339(when, sizeof when, d->r.recovery_point_ms);
		phase_end(d, 1, "recovery ended at %s%s", when,
		    d->r.recovery_point_from_backup ? " (the backup's end: nothing replayed)" : "");
	} else {
		phase_end(d, 1, "recovery ended (recovery point unknown)");
	}
}

static void
drill_check_begin(struct drill *d)
{
	if (d->r.n_tables == 0 && d->r.n_checks == 0) {
		phase_skip(d, DRILL_CHECK, "no tables or checks configured");
		d->r.phase = DRILL_CHECK;
		drill_notify(d, DRILL_CHECK);
		drill_advance(d);
		return;
	}
	phase_begin(d, DRILL_CHECK, "checking");
	d->q_index = 0;
	d->check_failed = 0;
	drill_check_next(d);
}

static void
drill_check_fail(struct drill *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record a failed item; the first one is the phase's words. */
static void
drill_check_fail(struct drill *d, const char *fmt, ...)
{
	va_list ap;

	if (d->check_failed)
		return;
	d->check_failed = 1;
	va_start(ap, fmt);
	vsnprintf(d->check_fail, sizeof d->check_fail, fmt, ap);
	va_end(ap);
}

static void
drill_check_next(struct drill *d)
{
	size_t nt = d->r.n_tables, nc = d->r.n_checks;
	char sql[512];

	if (d->pg == NULL) {
		phase_end(d, 0, "the connection to the scratch copy was closed");
		return;
	}
	if (d->q_index >= nt + nc) {
		drill_pg_close(d);
		if (d->check_failed) {
			phase_end(d, 0, "%s", d->check_fail);
		} else {
			phase_end(d, 1, "%zu table%s and %zu check%s passed", nt, nt == 1 ? "" : "s",
			    nc, nc == 1 ? "" : "s");
		}
		return;
	}
	if (!d->verified) {
		drill_query(d, Q_VERIFY, drill_sql_verify);
		return;
	}
	if (d->q_index < nt) {
		struct drill_table_result *t = &d->r.tables[d->q_index];

		drill_table_sql(t->name, sql, sizeof sql);
		phase_words(d, "table %s (%zu of %zu)", t->name, d->q_index + 1, nt + nc);
		drill_query(d, Q_TABLE, sql);
	} else {
		size_t i = d->q_index - nt;

		phase_words(d, "check '%s' (%zu of %zu)", d->r.checks[i].name, d->q_index + 1,
		    nt + nc);
		drill_query(d, Q_CHECK, d->check_sql[i]);
	}
}

static void
drill_table_answer(struct drill *d, struct drill_table_result *t, const struct pg_result *res)
{
	const char *cs;

	if (!res->ok || res->rows.nrows != 1 || res->rows.ncols != 2) {
		t->match = DRILL_MATCH_ERROR;
		drill_copy_safe(t->error, sizeof t->error, res->ok ? "unexpected answer" : res->error,
		    strlen(res->ok ? "unexpected answer" : res->error));
		drill_check_fail(d, "table '%s': %s", t->name, t->error);
		return;
	}
	t->count = drill_int(pg_rows_get(&res->rows, 0, 0), -1);
	cs = pg_rows_get(&res->rows, 0, 1);
	drill_copy_safe(t->checksum, sizeof t->checksum, cs, cs != NULL ? strlen(cs) : 0);
	if (!t->has_expect) {
		t->match = DRILL_MATCH_NONE;
		return;
	}
	t->match = DRILL_MATCH_OK;
	if ((t->count_min >= 0 && t->count < t->count_min) ||
	    (t->count_max >= 0 && t->count > t->count_max)) {
		t->match = DRILL_MATCH_MISMATCH;
		if (t->count_min == t->count_max)
			snprintf(t->error, sizeof t->error, "%lld rows, expected %lld",
			    (long long)t->count, (long long)t->count_min);
		else
			snprintf(t->error, sizeof t->error, "%lld rows, expected %lld..%lld",
			    (long long)t->count, (long long)t->count_min, (long long)t->count_max);
	} else if (t->expect_checksum[0] != '\0' && strcmp(t->checksum, t->expect_checksum) != 0) {
		t->match = DRILL_MATCH_MISMATCH;
		snprintf(t->error, sizeof t->error, "checksum %s, expected %s", t->checksum,
		    t->expect_checksum);
	}
	if (t->match == DRILL_MATCH_MISMATCH)
		drill_check_fail(d, "table '%s': %s", t->name, t->error);
}

static void
drill_check_answer(struct drill *d, struct drill_check_result *c, const struct pg_result *res)
{
	const char *v;

	c->ran = 1;
	if (!res->ok) {
		drill_copy_safe(c->error, sizeof c->error, res->error, strlen(res->error));
		drill_check_fail(d, "check '%s': %s", c->name, c->error);
		return;
	}
	if (res->rows.nrows != 1 || res->rows.ncols != 1) {
		snprintf(c->error, sizeof c->error, "returned %d row%s of %d column%s, expected one "
		    "value", res->rows.nrows, res->rows.nrows == 1 ? "" : "s", res->rows.ncols,
		    res->rows.ncols == 1 ? "" : "s");
		drill_check_fail(d, "check '%s': %s", c->name, c->error);
		return;
	}
	v = pg_rows_get(&res->rows, 0, 0);
	c->is_null = v == NULL;
	drill_copy_safe(c->value, sizeof c->value, v, v != NULL ? strlen(v) : 0);
	c->ok = v != NULL && strcmp(v, c->expect) == 0;
	if (!c->ok)
		drill_check_fail(d, "check '%s': got %s, expected %s", c->name,
		    c->is_null ? "NULL" : c->value, c->expect);
}

static void
drill_pg_done(const struct pg_result *res, void *ud)
{
	struct drill *d = ud;
	enum drill_query q = d->q;
	char why[300];

	if (q == Q_NONE || d->pg == NULL)
		return;		/* closed meanwhile */
	drill_enter(d);
	d->in_pg++;
	d->q = Q_NONE;
	switch (q) {
	case Q_RECOVERY:
		drill_recovery_answer(d, res);
		break;
	case Q_VERIFY:
		if (!res->ok || res->rows.nrows != 1 || res->rows.ncols != 2) {
			/* lost again: the next item says why */
			d->verified = 0;
			if (d->q_index < d->r.n_tables) {
				d->r.tables[d->q_index].match = DRILL_MATCH_ERROR;
				drill_copy_safe(d->r.tables[d->q_index].error, DRILL_WORDS_MAX,
				    res->error, strlen(res->error));
				drill_check_fail(d, "table '%s': %s", d->r.tables[d->q_index].name,
				    d->r.tables[d->q_index].error);
			} else {
				struct drill_check_result *c =
				    &d->r.checks[d->q_index - d->r.n_tables];

				c->ran = 1;
				drill_copy_safe(c->error, sizeof c->error, res->error,
				    strlen(res->error));
				drill_check_fail(d, "check '%s': %s", c->name, c->error);
			}
			d->q_index++;
			drill_check_next(d);
		} else if (!drill_is_scratch(d, pg_rows_get(&res->rows, 0, 0),
		    pg_rows_get(&res->rows, 0, 1), why, sizeof why)) {
			drill_pg_close(d);
			phase_end(d, 0, "%s", why);
		} else {
			d->verified = 1;
			drill_check_next(d);
		}
		break;
	case Q_TABLE:
		drill_table_answer(d, &d->r.tables[d->q_index], res);
		d->q_index++;
		drill_check_next(d);
		break;
	case Q_CHECK:
		drill_check_answer(d, &d->r.checks[d->q_index - d->r.n_tables], res);
		d->q_index++;
		drill_check_next(d);
		break;
	case Q_NONE:
		break;
	}
	d->in_pg--;
	drill_leave(d);
}

/* ---- SMOKE, STOP, CLEANUP --------------------------------------------------------------- */

static void
drill_smoke_begin(struct drill *d)
{
	char *url_env, port_env[32], why[300];
	const char *env[5];

	if (d->smoke == NULL) {
		phase_skip(d, DRILL_SMOKE, "no smoke command configured");
		d->r.phase = DRILL_SMOKE;
		drill_notify(d, DRILL_SMOKE);
		drill_advance(d);
		return;
	}
	phase_begin(d, DRILL_SMOKE, "running the smoke command");
	url_env = xasprintf("DRILL_DATABASE_URL=%s", d->conninfo);
	snprintf(port_env, sizeof port_env, "PGPORT=%d", d->r.port);
	env[0] = url_env;
	env[1] = "PGHOST=127.0.0.1";
	env[2] = port_env;
	env[3] = "PGHOSTADDR";
	env[4] = NULL;
	d->smoke_last[0] = '\0';
	d->r.smoke_ran = 1;
	if (drill_spawn(d, &d->proc, JOB_SMOKE, 0, (const char *const *)d->smoke, env,
	    drill_remaining(d), why, sizeof why) != 0) {
		drill_wipe_free(url_env);
		util_strlcpy(d->r.smoke_words, why, sizeof d->r.smoke_words);
		phase_end(d, 0, "%s", why);
		return;
	}
	drill_wipe_free(url_env);
}

/* Teardown after the last phase that ran (or a failure): STOP when START
 * ran, else CLEANUP. */
static void
drill_teardown(struct drill *d)
{
	d->teardown = 1;
	loop_timer_stop(d->deadline_timer);
	proc_free(&d->aux);
	drill_pg_close(d);
	if (d->server_started) {
		drill_stop_begin(d);
		return;
	}
	phase_skip(d, DRILL_STOP, "no server was started");
	drill_cleanup_begin(d);
}

static void
drill_stop_run(struct drill *d)
{
	const char *argv[] = { d->pg_ctl, "-D", d->dir_data, "-m", "immediate", "-w", "-t", "20",
		"stop", NULL };
	char why[300];

	phase_words(d, "pg_ctl stop (immediate)");
	if (drill_spawn(d, &d->proc, JOB_STOP, 1, argv, NULL, DRILL_STOP_MS, why, sizeof why)
	    != 0) {
		d->keep_dir = 1;
		phase_end(d, 0, "%s: the scratch server may still run on port %d", why, d->r.port);
	}
}

static void
drill_stop_begin(struct drill *d)
{
	char why[300];

	phase_begin(d, DRILL_STOP, "stopping the scratch server");
	/* keep the server's last words before they go with the directory */
	if (d->want_tail && d->abort != ABORT_CANCEL) {
		const char *argv[] = { "tail", "-n", "20", d->dir_log, NULL };

		phase_words(d, "reading the end of postgresql.log");
		if (drill_spawn(d, &d->proc, JOB_TAIL, 1, argv, NULL, DRILL_SHORT_MS, why,
		    sizeof why) == 0)
			return;
		diag_log(DIAG_WARN, "drill: tail: %s", why);
	}
	drill_stop_run(d);
}

static void
drill_cleanup_begin(struct drill *d)
{
	char real[PATH_MAX], prefix[PATH_MAX + 32], why[300];
	const char *argv[] = { "rm", "-rf", "--", d->r.scratch_dir, NULL };
	const char *rest;

	if (!d->dir_made) {
		phase_skip(d, DRILL_CLEANUP, "no directory was made");
		d->r.phase = DRILL_CLEANUP;
		drill_notify(d, DRILL_CLEANUP);
		drill_finish(d);
		return;
	}
	phase_begin(d, DRILL_CLEANUP, "removing the scratch directory");
	if (d->keep_dir) {
		phase_end(d, 0, "left %s: the scratch server may still run in it (pg_ctl -D %s "
		    "stop)", d->r.scratch_dir, d->dir_data);
		return;
	}
	/* only the directory this drill made, under the root as it is now */
	if (realpath(d->root_arg, real) == NULL || strcmp(real, d->root) != 0) {
		phase_end(d, 0, "left %s: the scratch root %s no longer resolves to %s",
		    d->r.scratch_dir, d->root_arg, d->root);
		return;
	}
	snprintf(prefix, sizeof prefix, "%s%s" DRILL_DIR_PREFIX, real,
	    strcmp(real, "/") == 0 ? "" : "/");
	rest = d->r.scratch_dir + strlen(prefix);
	if (strncmp(d->r.scratch_dir, prefix, strlen(prefix)) != 0 || *rest == '\0' ||
	    strchr(rest, '/') != NULL || strstr(rest, "..") != NULL) {
		phase_end(d, 0, "refusing to remove %s: not a drill directory under %s",
		    d->r.scratch_dir, real);
		return;
	}
	if (drill_spawn(d, &d->proc, JOB_RM, 1, argv, NULL, DRILL_RM_MS, why, sizeof why) != 0)
		phase_end(d, 0, "%s", why);
}

/* ---- the sequence ----------------------------------------------------------------------- */

static void
drill_prepare_begin(struct drill *d)
{
	char why[300];
	const char *argv[] = { d->pgbackrest, d->arg_config, d->arg_stanza, "--output=json",
		"info", NULL };

	d->begun = 1;
	phase_begin(d, DRILL_PREPARE, "reading pgbackrest info");
	if (drill_spawn(d, &d->proc, JOB_INFO, 1, argv, NULL,
	    drill_remaining(d) < 120000 ? drill_remaining(d) : 120000, why, sizeof why) != 0)
		phase_end(d, 0, "%s", why);
}

static void
drill_advance(struct drill *d)
{
	enum drill_phase p = d->r.phase;
	int failed = d->r.phases[p].state == DRILL_STEP_FAILED;

	if (d->done)
		return;
	if (p == DRILL_CLEANUP) {
		drill_finish(d);
		return;
	}
	if (p == DRILL_STOP) {
		drill_cleanup_begin(d);
		return;
	}
	if (failed || d->abort != ABORT_NONE || p == DRILL_SMOKE) {
		drill_teardown(d);
		return;
	}
	switch (p) {
	case DRILL_PREPARE:
		drill_run_restore(d);
		break;
	case DRILL_RESTORE:
		drill_run_start(d);
		break;
	case DRILL_START:
		drill_recover_begin(d);
		break;
	case DRILL_RECOVER:
		drill_check_begin(d);
		break;
	case DRILL_CHECK:
		drill_smoke_begin(d);
		break;
	default:
		drill_teardown(d);
		break;
	}
}

/* pgbackrest info: choose the backup.  0, or -1 with words in WHY. */
static int
drill_choose_backup(struct drill *d, const char *json, char *why, size_t len)
{
	cJSON *root = cJSON_Parse(json), *st = NULL, *backups, *b, *pick = NULL, *x;
	int n = 0, rc = -1;
	char names[200] = "";
	size_t o = 0;

	if (!cJSON_IsArray(root)) {
		snprintf(why, len, "pgbackrest info: not the JSON expected");
		goto out;
	}
	cJSON_ArrayForEach(x, root) {
		cJSON *name = cJSON_GetObjectItemCaseSensitive(x, "name");

		if (cJSON_IsString(name) && strcmp(name->valuestring, d->stanza) == 0)
			st = x;
	}
	if (st == NULL) {
		snprintf(why, len, "pgbackrest info does not list stanza '%s'", d->stanza);
		goto out;
	}
	backups = cJSON_GetObjectItemCaseSensitive(st, "backup");
	cJSON_ArrayForEach(b, backups) {
		cJSON *label = cJSON_GetObjectItemCaseSensitive(b, "label");
		cJSON *ts = cJSON_GetObjectItemCaseSensitive(b, "timestamp");
		cJSON *stop = cJSON_GetObjectItemCaseSensitive(ts, "stop");

		if (!cJSON_IsString(label) || !cJSON_IsNumber(stop))
			continue;
		n++;
		if (o + 2 < sizeof names)
			o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o ? ", " : "",
			    label->valuestring);
		if (o >= sizeof names)
			o = sizeof names - 1;
		if (d->set != NULL) {
			if (strcmp(label->valuestring, d->set) == 0)
				pick = b;
		} else if (d->target == NULL || (int64_t)stop->valuedouble * 1000 <= d->target_ms) {
			pick = b;	/* listed oldest first: the last one wins */
		}
	}
	if (n == 0) {
		cJSON *msg = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(st, "status"), "message");

		snprintf(why, len, "stanza '%s' has no backups%s%s", d->stanza,
		    cJSON_IsString(msg) ? ": " : "", cJSON_IsString(msg) ? msg->valuestring : "");
		goto out;
	}
	if (pick == NULL) {
		if (d->set != NULL)
			snprintf(why, len, "backup '%s' is not in stanza '%s' (it has %s)", d->set,
			    d->stanza, names);
		else
			snprintf(why, len, "no backup of stanza '%s' ended before %s", d->stanza,
			    d->target);
		goto out;
	}
	x = cJSON_GetObjectItemCaseSensitive(pick, "label");
	drill_copy_safe(d->r.backup_label, sizeof d->r.backup_label, x->valuestring,
	    strlen(x->valuestring));
	if (!drill_label_valid(d->r.backup_label)) {
		snprintf(why, len, "pgbackrest info gave an unusable label '%s'", d->r.backup_label);
		goto out;
	}
	x = cJSON_GetObjectItemCaseSensitive(pick, "type");
	if (cJSON_IsString(x))
		drill_copy_safe(d->r.backup_type, sizeof d->r.backup_type, x->valuestring,
		    strlen(x->valuestring));
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pick, "timestamp"),
	    "stop");
	if (d->target != NULL && (int64_t)x->valuedouble * 1000 > d->target_ms) {
		char when[40];

		util_format_rfc3339(when, sizeof when, (int64_t)x->valuedouble * 1000);
		snprintf(why, len, "backup '%s' ended at %s, after the target %s: recovery cannot "
		    "go back to it", d->r.backup_label, when, d->target);
		goto out;
	}
	d->r.backup_stop_ms = d->backup_stop_s > 0 ? d->backup_stop_s * 1000 :
	    (int64_t)x->valuedouble * 1000;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static void
drill_prepare_exit(struct drill *d, enum drill_job job, const struct proc_exit *ex)
{
	char why[300], line[200], when[40];

	if (job == JOB_INFO) {
		if (d->abort != ABORT_NONE) {
			phase_end_abort(d);
			return;
		}
		if (ex->status != 0) {
			drill_output_line(line, sizeof line, ex->err, ex->out);
			phase_end(d, 0, "pgbackrest info %s%s%s", ex->words, line[0] ? ": " : "",
			    line);
			return;
		}
		if (drill_choose_backup(d, ex->out != NULL ? ex->out : "", why, sizeof why) != 0) {
			phase_end(d, 0, "%s", why);
			return;
		}
		util_format_rfc3339(when, sizeof when, d->r.backup_stop_ms);
		phase_words(d, "backup %s (%s, ended %s); making %s", d->r.backup_label,
		    d->r.backup_type[0] ? d->r.backup_type : "?", when, d->r.scratch_dir);
		{
			const char *argv[] = { "mkdir", "-m", "0700", d->r.scratch_dir, NULL };

			if (drill_spawn(d, &d->proc, JOB_MKDIR, 1, argv, NULL, DRILL_SHORT_MS, why,
			    sizeof why) != 0)
				phase_end(d, 0, "%s", why);
		}
		return;
	}
	if (ex->status != 0) {
		drill_output_line(line, sizeof line, ex->err, ex->out);
		phase_end(d, 0, "mkdir %s%s%s", ex->words, line[0] ? ": " : "", line);
		return;
	}
	if (job == JOB_MKDIR) {
		const char *argv[] = { "mkdir", "-m", "0700", d->dir_data, d->dir_socket, NULL };

		d->dir_made = 1;
		if (d->abort != ABORT_NONE) {
			phase_end_abort(d);
			return;
		}
		if (drill_spawn(d, &d->proc, JOB_MKDIR_SUB, 1, argv, NULL, DRILL_SHORT_MS, why,
		    sizeof why) != 0)
			phase_end(d, 0, "%s", why);
		return;
	}
	if (d->abort != ABORT_NONE) {
		phase_end_abort(d);
		return;
	}
	util_format_rfc3339(when, sizeof when, d->r.backup_stop_ms);
	phase_end(d, 1, "backup %s (%s, ended %s) into %s", d->r.backup_label,
	    d->r.backup_type[0] ? d->r.backup_type : "?", when, d->r.scratch_dir);
}

static void
drill_keep_tail(struct drill *d, const char *out)
{
	const char *s = out, *nl;

	d->r.n_log_tail = 0;
	while (s != NULL && *s != '\0' && d->r.n_log_tail < DRILL_LOG_TAIL_LINES) {
		size_t n;

		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		drill_copy_safe(d->r.log_tail[d->r.n_log_tail++], DRILL_LOG_LINE_MAX, s, n);
		s = nl != NULL ? nl + 1 : NULL;
	}
}

static void
drill_proc_line(struct proc *p, const struct proc_line *l, void *ud)
{
	struct drill *d = ud;

	(void)p;
	if (d->job != JOB_SMOKE || l->len == 0)
		return;
	drill_copy_safe(d->smoke_last, sizeof d->smoke_last, l->data, l->len);
	/* the command may print its URL: never keep that */
	if ((d->conninfo != NULL && strstr(d->smoke_last, d->conninfo) != NULL) ||
	    (d->prod_conninfo != NULL && strstr(d->smoke_last, d->prod_conninfo) != NULL))
		util_strlcpy(d->smoke_last, "(a line with the connection string, not kept)",
		    sizeof d->smoke_last);
}

static void
drill_job_exit(struct drill *d, enum drill_job job, const struct proc_exit *ex)
{
	char line[200];

	switch (job) {
	case JOB_INFO:
	case JOB_MKDIR:
	case JOB_MKDIR_SUB:
		drill_prepare_exit(d, job, ex);
		break;
	case JOB_RESTORE:
		if (d->abort != ABORT_NONE) {
			phase_end_abort(d);
		} else if (ex->status != 0) {
			drill_output_line(line, sizeof line, ex->err, ex->out);
			phase_end(d, 0, "pgbackrest restore %s%s%s", ex->words, line[0] ? ": " : "",
			    line);
		} else {
			phase_end(d, 1, "restored %s into %s", d->r.backup_label, d->dir_data);
		}
		break;
	case JOB_START:
		if (d->abort != ABORT_NONE) {
			/* its server, if any, is stopped next (STOP always follows START) */
			if (d->abort == ABORT_TIMEOUT)
				d->want_tail = 1;
			phase_end_abort(d);
		} else if (ex->status != 0) {
			drill_output_line(line, sizeof line, ex->err, ex->out);
			d->want_tail = 1;
			phase_end(d, 0, "pg_ctl start %s%s%s", ex->words, line[0] ? ": " : "", line);
		} else {
			phase_end(d, 1, "PostgreSQL started on 127.0.0.1:%d", d->r.port);
		}
		break;
	case JOB_EARLY_STOP:
		/* START's end decides; STOP runs after it anyway.  No pid file yet:
		 * try again while pg_ctl start still waits */
		if (ex->status != 0 && d->r.phase == DRILL_START && d->job == JOB_START &&
		    d->proc != NULL)
			loop_timer_start(d->early_timer, 250, 0);
		break;
	case JOB_STATUS:
		/* 3: no server running; 4: no data directory */
		if (d->r.phase == DRILL_RECOVER && d->r.phases[DRILL_RECOVER].state ==
		    DRILL_STEP_RUNNING && (ex->status == 3 || ex->status == 4))
			drill_recover_fail(d, "the scratch server stopped during recovery (%s)",
			    pg_error(d->pg)[0] ? pg_error(d->pg) : "see postgresql.log");
		break;
	case JOB_SMOKE:
		snprintf(d->r.smoke_words, sizeof d->r.smoke_words, "%.100s%s%.140s", ex->words,
		    ex->status != 0 && d->smoke_last[0] ? ": " : "",
		    ex->status != 0 ? d->smoke_last : "");
		d->r.smoke_ok = ex->status == 0 && d->abort == ABORT_NONE;
		if (d->abort != ABORT_NONE)
			phase_end_abort(d);
		else if (ex->status != 0)
			phase_end(d, 0, "the smoke command %s", d->r.smoke_words);
		else
			phase_end(d, 1, "the smoke command %s", ex->words);
		break;
	case JOB_TAIL:
		if (ex->status == 0)
			drill_keep_tail(d, ex->out);
		drill_stop_run(d);
		break;
	case JOB_STOP:
		if (ex->status == 0) {
			phase_end(d, 1, "stopped");
		} else {
			const char *argv[] = { d->pg_ctl, "-D", d->dir_data, "status", NULL };
			char why[300];

			/* "no server running" is a stop too: ask */
			if (drill_spawn(d, &d->proc, JOB_STOP_STATUS, 1, argv, NULL, DRILL_SHORT_MS,
			    why, sizeof why) != 0) {
				d->keep_dir = 1;
				phase_end(d, 0, "pg_ctl stop %s; %s", ex->words, why);
			}
		}
		break;
	case JOB_STOP_STATUS:
		if (ex->status == 3 || ex->status == 4) {
			phase_end(d, 1, "was not running");
		} else {
			d->keep_dir = 1;
			phase_end(d, 0, "the scratch server still runs on port %d (pg_ctl status %s)",
			    d->r.port, ex->words);
		}
		break;
	case JOB_RM: {
		struct stat sb;

		if (ex->status != 0) {
			drill_output_line(line, sizeof line, ex->err, ex->out);
			phase_end(d, 0, "rm -rf %s %s%s%s", d->r.scratch_dir, ex->words,
			    line[0] ? ": " : "", line);
		} else if (stat(d->r.scratch_dir, &sb) == 0) {
			phase_end(d, 0, "%s is still there after rm -rf", d->r.scratch_dir);
		} else {
			d->r.scratch_removed = 1;
			phase_end(d, 1, "removed %s", d->r.scratch_dir);
		}
		break;
	}
	case JOB_NONE:
		break;
	}
}

static void
drill_proc_exit(struct proc *p, const struct proc_exit *ex, void *ud)
{
	struct drill *d = ud;
	enum drill_job job;

	drill_enter(d);
	if (p == d->aux) {
		d->aux = NULL;
		job = d->aux_job;
		d->aux_job = JOB_NONE;
	} else {
		d->proc = NULL;
		job = d->job;
		d->job = JOB_NONE;
	}
	diag_log(DIAG_DEBUG, "drill: child (%d) %s after %llu ms", (int)job, ex->words,
	    (unsigned long long)ex->duration_ms);
	drill_job_exit(d, job, ex);
	proc_free(&p);
	drill_leave(d);
}

/* ---- cancel, deadline, kick ---------------------------------------------------------------- */

/* Stop the server pg_ctl start is waiting for.  Before the postmaster
 * wrote its pid file this finds nothing: JOB_EARLY_STOP's end tries again
 * while the start still runs. */
static void
drill_early_stop(struct drill *d)
{
	const char *argv[] = { d->pg_ctl, "-D", d->dir_data, "-m", "immediate", "-w", "-t", "20",
		"stop", NULL };
	char err[300];

	if (!d->server_started || d->aux != NULL)
		return;
	if (drill_spawn(d, &d->aux, JOB_EARLY_STOP, 1, argv, NULL, DRILL_STOP_MS, err,
	    sizeof err) != 0)
		diag_log(DIAG_WARN, "drill: early stop: %s", err);
}

static void
drill_early_cb(struct loop_timer *t, void *ud)
{
	struct drill *d = ud;

	(void)t;
	if (d->r.phase == DRILL_START && d->job == JOB_START && d->proc != NULL)
		drill_early_stop(d);
}

static void
drill_abort(struct drill *d, enum drill_abort why)
{
	char ab[120];

	if (d->abort != ABORT_NONE || d->teardown || d->done)
		return;
	d->abort = why;
	if (!d->begun) {
		/* nothing ran: nothing to undo */
		for (int p = 0; p < DRILL_N_PHASES; p++)
			phase_skip(d, (enum drill_phase)p, "not reached");
		d->teardown = 1;
		if (why == ABORT_CANCEL)
			util_strlcpy(d->r.reason, "cancelled before the drill began", sizeof d->r.reason);
		else
			snprintf(d->r.reason, sizeof d->r.reason, "%s", drill_abort_words(d, ab, sizeof ab));
		drill_finish(d);
		return;
	}
	/* the reason names the phase even when it then ends well (START) */
	if (d->r.reason[0] == '\0') {
		if (why == ABORT_CANCEL)
			snprintf(d->r.reason, sizeof d->r.reason, "cancelled during %s",
			    drill_phase_name(d->r.phase));
		else
			snprintf(d->r.reason, sizeof d->r.reason, "%s (%s was running)",
			    drill_abort_words(d, ab, sizeof ab), drill_phase_name(d->r.phase));
	}
	switch (d->r.phase) {
	case DRILL_PREPARE:
	case DRILL_RESTORE:
	case DRILL_SMOKE:
		/* mkdir is left to finish: what it made must be known */
		if (d->proc != NULL && d->job != JOB_MKDIR && d->job != JOB_MKDIR_SUB)
			proc_kill(d->proc);
		break;
	case DRILL_START:
		/* pg_ctl start -w may wait long (replay up to consistency): stop the
		 * server now, so it gives up; if it had not written its pid file yet,
		 * STOP after START gets it */
		drill_early_stop(d);
		break;
	case DRILL_RECOVER:
	case DRILL_CHECK:
		if (d->r.phases[d->r.phase].state != DRILL_STEP_RUNNING)
			break;
		proc_free(&d->aux);
		drill_pg_close(d);
		if (why == ABORT_TIMEOUT && d->r.phase == DRILL_RECOVER)
			d->want_tail = 1;
		phase_end_abort(d);
		break;
	default:
		break;
	}
}

static void
drill_kick_cb(struct loop_timer *t, void *ud)
{
	struct drill *d = ud;

	(void)t;
	drill_enter(d);
	pg_free(&d->pg_old);
	if (d->kick_abort) {
		d->kick_abort = 0;
		drill_abort(d, ABORT_CANCEL);
	}
	if (!d->begun && !d->done)
		drill_prepare_begin(d);
	drill_leave(d);
}

static void
drill_deadline_cb(struct loop_timer *t, void *ud)
{
	struct drill *d = ud;

	(void)t;
	drill_enter(d);
	diag_log(DIAG_WARN, "drill: deadline reached during %s", drill_phase_name(d->r.phase));
	drill_abort(d, ABORT_TIMEOUT);
	drill_leave(d);
}

/* ---- public ------------------------------------------------------------------------------------ */

static int
drill_refuse(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
drill_refuse(struct err *e, const char *fmt, ...)
{
	char buf[sizeof e->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	diag_log(DIAG_WARN, "drill refused: %s", buf);
	return err_set(e, ERR_INVALID, "restore drill refused: %s", buf);
}

/* Check the options that need no file system; 0 or -1 and E. */
static int
drill_check_opts(const struct drill_opts *o, int64_t *target_ms, struct err *e)
{
	static const struct { size_t off; const char *name, *what; } req[] = {
		{ offsetof(struct drill_opts, pgbr_config), "pgbr_config",
		  "the pgBackRest configuration file" },
		{ offsetof(struct drill_opts, stanza), "stanza", "the pgBackRest stanza" },
		{ offsetof(struct drill_opts, pg_bin), "pg_bin", "the directory with pg_ctl" },
		{ offsetof(struct drill_opts, conninfo), "conninfo",
		  "production's connection string, for its credentials" },
		{ offsetof(struct drill_opts, scratch_root), "scratch_root",
		  "an existing directory for the scratch copy" },
		{ offsetof(struct drill_opts, prod_data_dir), "prod_data_dir",
		  "production's data directory, which the drill must stay out of" },
	};

	for (size_t i = 0; i < ARRAY_LEN(req); i++) {
		const char *v = *(const char *const *)((const char *)o + req[i].off);

		if (v == NULL || *v == '\0')
			return drill_refuse(e, "%s is missing (%s)", req[i].name, req[i].what);
	}
	if (o->prod_port <= 0 || o->prod_port > 65535)
		return drill_refuse(e, "prod_port is missing (production's port, which the drill "
		    "must not use)");
	if (o->port < 0 || o->port > 65535)
		return drill_refuse(e, "port %d is not a TCP port", o->port);
	if (geteuid() == 0 && (o->wrapper == NULL || o->wrapper[0] == NULL))
		return drill_refuse(e, "running as root without a wrapper: pgbackrest and pg_ctl "
		    "must run as the repository's owner (wrapper: runuser -u postgres --)");
	if (!drill_label_valid(o->stanza))
		return drill_refuse(e, "stanza '%s' has characters other than letters, digits, "
		    "'_', '-' and '.'", o->stanza);
	if (o->set != NULL && !drill_label_valid(o->set))
		return drill_refuse(e, "backup label '%s' has characters other than letters, "
		    "digits, '_', '-' and '.'", o->set);
	if (o->target_time != NULL && drill_parse_target(o->target_time, target_ms) != 0)
		return drill_refuse(e, "target time '%s' is not 'YYYY-MM-DD HH:MM:SS+00' (a zone "
		    "is required: Z, UTC or +HH:MM)", o->target_time);
	for (size_t i = 0; i < o->n_tables; i++)
		if (!drill_table_name_valid(o->tables[i]))
			return drill_refuse(e, "table name '%s' is not [A-Za-z_][A-Za-z0-9_]* "
			    "(optionally schema.table)", o->tables[i] != NULL ? o->tables[i] : "");
	for (size_t i = 0; i < o->n_expect; i++)
		if (!drill_table_name_valid(o->expect[i].table))
			return drill_refuse(e, "expected table '%s' is not a valid table name",
			    o->expect[i].table != NULL ? o->expect[i].table : "");
	for (size_t i = 0; i < o->n_checks; i++)
		if (o->checks[i].name == NULL || o->checks[i].name[0] == '\0' ||
		    o->checks[i].sql == NULL || o->checks[i].sql[0] == '\0' ||
		    o->checks[i].expect == NULL)
			return drill_refuse(e, "check %zu needs a name, SQL and an expected value",
			    i + 1);
	if (o->smoke != NULL && (o->smoke[0] == NULL || o->smoke[0][0] == '\0'))
		return drill_refuse(e, "the smoke command is empty");
	return 0;
}

/* Resolve and check the paths; fills ROOT and DIR.  0 or -1 and E. */
static int
drill_check_paths(const struct drill_opts *o, int port, char *root, char *dir, size_t dir_len,
    struct err *e)
{
	char prod[PATH_MAX], stamp[32], inner[PATH_MAX + 32];
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;

	if (realpath(o->scratch_root, root) == NULL)
		return drill_refuse(e, "scratch root %s: %s", o->scratch_root, strerror(errno));
	if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return drill_refuse(e, "scratch root %s is not a directory", o->scratch_root);
	if (realpath(o->prod_data_dir, prod) == NULL)
		return drill_refuse(e, "cannot resolve production's data directory %s: %s",
		    o->prod_data_dir, strerror(errno));
	if (drill_path_within(root, prod))
		return drill_refuse(e, "scratch root %s is %sproduction's data directory %s",
		    root, strcmp(root, prod) == 0 ? "" : "inside ", prod);
	snprintf(inner, sizeof inner, "%s%s" DRILL_DIR_PREFIX, root, strcmp(root, "/") ? "/" : "");
	if (strncmp(prod, inner, strlen(inner)) == 0)
		return drill_refuse(e, "production's data directory %s is inside a drill "
		    "directory (%s*)", prod, inner);
	if (!drill_path_safe(root))
		return drill_refuse(e, "scratch root %s has characters pg_ctl cannot pass on "
		    "(use letters, digits and /._+,:@-)", root);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	if ((size_t)snprintf(dir, dir_len, "%s%s%s-%ld", inner, "", stamp, (long)getpid()) >=
	    dir_len)
		return drill_refuse(e, "scratch root %s is too long", root);
	/* inner already ends with the prefix */
	if (strlen(dir) + strlen("/socket/.s.PGSQL.") + 5 > DRILL_SOCKET_PATH_MAX)
		return drill_refuse(e, "scratch root %s is too long for the server's socket "
		    "(%s/socket/.s.PGSQL.%d must fit in %d bytes): choose a shorter one", root, dir,
		    port, DRILL_SOCKET_PATH_MAX);
	if (drill_path_within(prod, dir))
		return drill_refuse(e, "production's data directory %s is inside the drill "
		    "directory %s", prod, dir);
	return 0;
}

struct drill *
drill_start(uv_loop_t *loop, const struct drill_opts *o, const struct drill_cbs *cbs, void *ud,
    struct err *e)
{
	struct drill *d;
	char root[PATH_MAX], dir[DRILL_PATH_MAX];
	int64_t target_ms = 0;
	int port;
	size_t nt;

	if (o == NULL) {
		drill_refuse(e, "no options");
		return NULL;
	}
	if (drill_check_opts(o, &target_ms, e) != 0)
		return NULL;
	port = o->port;
	if (port == o->prod_port) {
		drill_refuse(e, "port %d is production's port", port);
		return NULL;
	}
	if (port == 0) {
		for (int tries = 0; tries < 5 && (port <= 0 || port == o->prod_port); tries++)
			port = drill_free_port();
		if (port <= 0 || port == o->prod_port) {
			drill_refuse(e, "no free port on 127.0.0.1");
			return NULL;
		}
	} else if (drill_port_in_use(port)) {
		drill_refuse(e, "port %d is in use on 127.0.0.1", port);
		return NULL;
	}
	if (drill_check_paths(o, port, root, dir, sizeof dir, e) != 0)
		return NULL;

	d = xcalloc(1, sizeof *d);
	d->loop = loop;
	if (cbs != NULL)
		d->cbs = *cbs;
	d->ud = ud;
	d->wrapper = drill_argv_dup(o->wrapper, &d->n_wrapper);
	d->pgbackrest = o->pgbackrest != NULL && strchr(o->pgbackrest, '/') != NULL ?
	    drill_absolute(o->pgbackrest) : xstrdup(o->pgbackrest != NULL ? o->pgbackrest :
	    "pgbackrest");
	{
		char *cfg = drill_absolute(o->pgbr_config);

		d->arg_config = xasprintf("--config=%s", cfg);
		free(cfg);
	}
	d->stanza = xstrdup(o->stanza);
	d->arg_stanza = xasprintf("--stanza=%s", o->stanza);
	{
		char *bin = drill_absolute(o->pg_bin);

		d->pg_ctl = xasprintf("%s/pg_ctl", bin);
		free(bin);
	}
	d->set = drill_strdup0(o->set);
	d->target = drill_strdup0(o->target_time);
	d->target_ms = target_ms;
	d->backup_stop_s = o->backup_stop_s;
	d->root = xstrdup(root);
	d->root_arg = drill_absolute(o->scratch_root);
	d->conninfo = drill_scratch_conninfo(o->conninfo, port);
	d->prod_conninfo = xstrdup(o->conninfo);
	d->smoke = drill_argv_dup(o->smoke, NULL);
	d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DRILL_DEFAULT_TIMEOUT_MS;

	/* tables: the list, then those only expectations name */
	d->r.tables = xcalloc(o->n_tables + o->n_expect + 1, sizeof *d->r.tables);
	nt = 0;
	for (size_t i = 0; i < o->n_tables + o->n_expect; i++) {
		const char *name = i < o->n_tables ? o->tables[i] : o->expect[i - o->n_tables].table;
		size_t j;

		for (j = 0; j < nt && strcmp(d->r.tables[j].name, name) != 0; j++)
			;
		if (j < nt)
			continue;
		util_strlcpy(d->r.tables[nt].name, name, sizeof d->r.tables[nt].name);
		d->r.tables[nt].count = -1;
		d->r.tables[nt].count_min = d->r.tables[nt].count_max = -1;
		nt++;
	}
	d->r.n_tables = nt;
	for (size_t i = 0; i < o->n_expect; i++) {
		const struct drill_table_expect *x = &o->expect[i];

		for (size_t j = 0; j < nt; j++) {
			struct drill_table_result *t = &d->r.tables[j];

			if (strcmp(t->name, x->table) != 0)
				continue;
			t->has_expect = 1;
			t->count_min = x->count_min;
			t->count_max = x->count_max;
			if (x->checksum != NULL)
				util_strlcpy(t->expect_checksum, x->checksum, sizeof t->expect_checksum);
		}
	}
	d->r.checks = xcalloc(o->n_checks + 1, sizeof *d->r.checks);
	d->check_sql = xcalloc(o->n_checks + 1, sizeof *d->check_sql);
	d->r.n_checks = o->n_checks;
	for (size_t i = 0; i < o->n_checks; i++) {
		drill_copy_safe(d->r.checks[i].name, sizeof d->r.checks[i].name, o->checks[i].name,
		    strlen(o->checks[i].name));
		util_strlcpy(d->r.checks[i].expect, o->checks[i].expect,
		    sizeof d->r.checks[i].expect);
		d->check_sql[i] = xstrdup(o->checks[i].sql);
	}

	d->r.verdict = DRILL_RUNNING;
	d->r.phase = DRILL_PREPARE;
	d->r.started_ms = util_wall_ms();
	d->r.total_ms = -1;
	d->r.rto_ms = -1;
	d->r.rpo_ms = -1;
	d->r.port = port;
	snprintf(d->port_s, sizeof d->port_s, "%d", port);
	util_strlcpy(d->r.scratch_dir, dir, sizeof d->r.scratch_dir);
	if (d->target != NULL)
		util_strlcpy(d->r.target_time, d->target, sizeof d->r.target_time);
	snprintf(d->dir_data, sizeof d->dir_data, "%s/data", dir);
	snprintf(d->dir_socket, sizeof d->dir_socket, "%s/socket", dir);
	snprintf(d->dir_log, sizeof d->dir_log, "%s/postgresql.log", dir);
	snprintf(d->dir_tblspc, sizeof d->dir_tblspc, "%s/tablespaces", dir);
	d->t0 = util_now_ms();
	d->deadline = d->t0 + d->timeout_ms;

	d->kick = loop_timer_new(loop, drill_kick_cb, d);
	d->poll = loop_timer_new(loop, drill_poll_cb, d);
	d->early_timer = loop_timer_new(loop, drill_early_cb, d);
	d->deadline_timer = loop_timer_new(loop, drill_deadline_cb, d);
	loop_timer_start(d->deadline_timer, d->timeout_ms, 0);
	loop_timer_start(d->kick, 0, 0);
	diag_log(DIAG_INFO, "drill: start: stanza %s, %s%s, scratch %s, port %d, %zu tables, "
	    "%zu checks", d->stanza, d->set != NULL ? "backup " : "newest backup",
	    d->set != NULL ? d->set : "", dir, port, nt, o->n_checks);
	return d;
}

void
drill_cancel(struct drill *d)
{
	if (d == NULL || d->done || d->teardown || d->abort != ABORT_NONE)
		return;
	d->kick_abort = 1;
	loop_timer_start(d->kick, 0, 0);
}

void
drill_free(struct drill **dp)
{
	struct drill *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	*dp = NULL;
	if (!d->done) {
		/* finish STOP and CLEANUP unheard, then go */
		d->detached = 1;
		memset(&d->cbs, 0, sizeof d->cbs);
		drill_cancel(d);
		return;
	}
	if (d->depth > 0) {
		d->dead = 1;
		return;
	}
	drill_destroy(d);
}

const struct drill_result *
drill_result(const struct drill *cd)
{
	struct drill *d = (struct drill *)cd;	/* the running phase's time, kept live */

	if (d == NULL)
		return NULL;
	if (!d->done && d->r.phases[d->r.phase].state == DRILL_STEP_RUNNING)
		d->r.phases[d->r.phase].duration_ms = util_now_ms() - d->phase_t0;
	return &d->r;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void
drill_json_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];

	if (ms <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	util_format_rfc3339(buf, sizeof buf, ms);
	cJSON_AddStringToObject(o, key, buf);
}

static void
drill_json_ms(cJSON *o, const char *key, int64_t ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)ms);
}

static void
drill_json_str(cJSON *o, const char *key, const char *s)
{
	if (s == NULL || *s == '\0')
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, s);
}

char *
drill_result_json(const struct drill_result *r)
{
	cJSON *root = cJSON_CreateObject(), *phases, *arr, *o, *x;
	char *out;

	cJSON_AddStringToObject(root, "verdict", drill_verdict_name(r->verdict));
	drill_json_str(root, "reason", r->reason);
	drill_json_time(root, "started", r->started_ms);
	drill_json_ms(root, "started_ms", r->started_ms > 0 ? r->started_ms : -1);
	drill_json_ms(root, "total_ms", r->total_ms);
	drill_json_ms(root, "rto_ms", r->rto_ms);
	drill_json_ms(root, "rpo_ms", r->rpo_ms);
	drill_json_time(root, "recovery_point", r->recovery_point_ms);
	drill_json_ms(root, "recovery_point_ms", r->recovery_point_ms > 0 ?
	    r->recovery_point_ms : -1);
	if (r->recovery_point_ms > 0)
		cJSON_AddStringToObject(root, "recovery_point_source",
		    r->recovery_point_from_backup ? "backup" : "replay");
	else
		cJSON_AddNullToObject(root, "recovery_point_source");
	drill_json_str(root, "label", r->backup_label);
	drill_json_str(root, "backup_type", r->backup_type);
	drill_json_time(root, "backup_stop", r->backup_stop_ms);
	drill_json_str(root, "target", r->target_time);
	drill_json_str(root, "scratch_dir", r->scratch_dir);
	cJSON_AddBoolToObject(root, "scratch_removed", r->scratch_removed);
	cJSON_AddNumberToObject(root, "port", r->port);

	phases = cJSON_AddObjectToObject(root, "phases");
	for (int p = 0; p < DRILL_N_PHASES; p++) {
		const struct drill_phase_result *ph = &r->phases[p];
		int ran = ph->state == DRILL_STEP_OK || ph->state == DRILL_STEP_FAILED ||
		    ph->state == DRILL_STEP_RUNNING;

		o = cJSON_AddObjectToObject(phases, drill_phase_name((enum drill_phase)p));
		cJSON_AddStringToObject(o, "state", drill_step_name(ph->state));
		drill_json_ms(o, "ms", ran ? (int64_t)ph->duration_ms : -1);
		drill_json_time(o, "started", ran ? ph->started_ms : 0);
		drill_json_str(o, "words", ph->words);
	}

	arr = cJSON_AddArrayToObject(root, "tables");
	for (size_t i = 0; i < r->n_tables; i++) {
		const struct drill_table_result *t = &r->tables[i];

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", t->name);
		drill_json_ms(o, "count", t->count);
		drill_json_str(o, "checksum", t->checksum);
		if (t->has_expect) {
			x = cJSON_AddObjectToObject(o, "expect");
			drill_json_ms(x, "count_min", t->count_min);
			drill_json_ms(x, "count_max", t->count_max);
			drill_json_str(x, "checksum", t->expect_checksum);
		} else {
			cJSON_AddNullToObject(o, "expect");
		}
		cJSON_AddStringToObject(o, "match", drill_match_name(t->match));
		drill_json_str(o, "error", t->error);
		cJSON_AddItemToArray(arr, o);
	}

	arr = cJSON_AddArrayToObject(root, "checks");
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct drill_check_result *c = &r->checks[i];

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->name);
		if (c->ran && !c->is_null && c->error[0] == '\0')
			cJSON_AddStringToObject(o, "value", c->value);
		else
			cJSON_AddNullToObject(o, "value");
		cJSON_AddStringToObject(o, "expect", c->expect);
		if (c->ran)
			cJSON_AddBoolToObject(o, "ok", c->ok);
		else
			cJSON_AddNullToObject(o, "ok");
		drill_json_str(o, "error", c->error);
		cJSON_AddItemToArray(arr, o);
	}

	if (r->smoke_ran) {
		o = cJSON_AddObjectToObject(root, "smoke");
		cJSON_AddBoolToObject(o, "ok", r->smoke_ok);
		drill_json_str(o, "words", r->smoke_words);
	} else {
		cJSON_AddNullToObject(root, "smoke");
	}
	arr = cJSON_AddArrayToObject(root, "log_tail");
	for (size_t i = 0; i < r->n_log_tail && i < DRILL_LOG_TAIL_LINES; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(r->log_tail[i]));

	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (out == NULL)
		xalloc_die("out of memory writing the drill's JSON");
	/* cJSON's allocator is malloc: the caller frees with free() */
	return out;
}
