/* audit.c - the append-only JSONL audit log.
 *
 * Lines are built with cJSON, then every character a terminal could act on
 * (C0 and C1 controls, DEL, bidi overrides) is \u-escaped, so the log is
 * safe to `tail -f`.  Each line goes out in a single write(2) on an
 * O_APPEND descriptor: concurrent consoles append whole lines.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/audit.h"
#include "signalbox/diag.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

struct audit {
	char *path;
	int fd;			/* -1 when not open */
	int fsync_each;
	char error[512];	/* why the last open or write failed, "" when fine */
};

static const char *const audit_result_names[] = {
	[AUDIT_ALLOWED] = "allowed",
	[AUDIT_REFUSED] = "refused",
	[AUDIT_CANCELLED] = "cancelled",
	[AUDIT_OK] = "ok",
	[AUDIT_FAILED] = "failed",
};

const char *
audit_result_name(enum audit_result r)
{
	if ((unsigned)r >= sizeof audit_result_names / sizeof audit_result_names[0])
		return "failed";
	return audit_result_names[r];
}

/* --- helpers ------------------------------------------------------------- */

void
audit_fingerprint(const void *data, size_t len, char out[AUDIT_FP_LEN + 1])
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ULL;
	char hex[17];
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
	memcpy(out, hex, AUDIT_FP_LEN);
	out[AUDIT_FP_LEN] = '\0';
}

void
audit_fmt_time(int64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	int ms = (int)(wall_ms % 1000);
	struct tm tm;
	char base[32];

	if (ms < 0) {
		ms += 1000;
		t--;
	}
	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, ms);
}

void
audit_identity(char *user, size_t ulen, char *ssh, size_t slen)
{
	const char *u = getenv("USER"), *s = getenv("SSH_CLIENT");
	size_t n = 0;

	if (u == NULL || *u == '\0')
		u = getenv("LOGNAME");
	if (u == NULL || *u == '\0') {
		struct passwd *pw = getpwuid(getuid());

		u = pw != NULL ? pw->pw_name : "unknown";
	}
	util_strlcpy(user, u, ulen);
	if (slen == 0)
		return;
	/* "10.0.0.7 52100 22": keep the address, and only what an address
	 * may hold (the variable is the user's to set) */
	if (s != NULL)
		for (; s[n] != '\0' && n + 1 < slen && (isalnum((unsigned char)s[n]) ||
		    strchr(".:%_-", s[n]) != NULL); n++)
			ssh[n] = s[n];
	ssh[n] = '\0';
}

char *
audit_default_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	/* the XDG spec says to ignore a relative XDG_STATE_HOME */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/signalbox/audit.jsonl", xdg);
	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || *home == '\0')
		home = ".";
	return xasprintf("%s/.local/state/signalbox/audit.jsonl", home);
}

/* S (at most AUDIT_FIELD_MAX bytes of it) as valid UTF-8; caller frees. */
static char *
audit_clean(const char *s)
{
	size_t n = strlen(s), i = 0, o = 0, step;
	char *out = xmalloc((n < AUDIT_FIELD_MAX ? n : AUDIT_FIELD_MAX) * 3 + 8);
	uint32_t cp;

	while (i < n) {
		step = text_decode(s + i, n - i, &cp);
		if (i + step > AUDIT_FIELD_MAX) {
			memcpy(out + o, "\xe2\x80\xa6", 3);	/* … */
			o += 3;
			break;
		}
		o += text_encode(cp, out + o);
		i += step;
	}
	out[o] = '\0';
	return out;
}

static int
audit_add_string(cJSON *obj, const char *name, const char *s)
{
	char *c;
	cJSON *item;

	if (s == NULL)
		return cJSON_AddNullToObject(obj, name) != NULL ? 0 : -1;
	c = audit_clean(s);
	item = cJSON_AddStringToObject(obj, name, c);
	free(c);
	return item != NULL ? 0 : -1;
}

static int
audit_add_param(cJSON *params, const struct audit_param *p)
{
	char fp[AUDIT_FP_LEN + 1];
	cJSON *sec;
	size_t len;

	if (p->name == NULL)
		return 0;
	switch (p->kind) {
	case AUDIT_P_STRING:
		return audit_add_string(params, p->name, p->value);
	case AUDIT_P_NUMBER:
		return cJSON_AddNumberToObject(params, p->name, (double)p->num) != NULL ? 0 : -1;
	case AUDIT_P_BOOL:
		return cJSON_AddBoolToObject(params, p->name, p->num != 0) != NULL ? 0 : -1;
	case AUDIT_P_SECRET:
	case AUDIT_P_REDACTED:
		if (p->value == NULL)
			return cJSON_AddNullToObject(params, p->name) != NULL ? 0 : -1;
		if ((sec = cJSON_AddObjectToObject(params, p->name)) == NULL)
			return -1;
		if (p->kind == AUDIT_P_SECRET) {
			audit_fingerprint(p->value, strlen(p->value), fp);
			len = strlen(p->value);
		} else {
			/* a fingerprint is hex; anything else is not written */
			util_strlcpy(fp, p->value, sizeof fp);
			fp[strspn(fp, "0123456789abcdef")] = '\0';
			len = p->num >= 0 ? (size_t)p->num : 0;
		}
		if (cJSON_AddTrueToObject(sec, "secret") == NULL ||
		    cJSON_AddNumberToObject(sec, "length", (double)len) == NULL ||
		    cJSON_AddStringToObject(sec, "fingerprint", fp) == NULL)
			return -1;
		return 0;
	}
	return -1;
}

/* Whether a terminal could act on CP: C0 (cJSON escapes those already),
 * DEL, C1, and the bidi controls that reorder what `cat` shows. */
static int
audit_must_escape(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* JSON (valid UTF-8 from cJSON) with the characters above \u-escaped and a
 * newline; every such character can only be inside a string. */
static char *
audit_escape_line(const char *json)
{
	size_t n = strlen(json), i = 0, o = 0, step;
	char *out = xmalloc(n * 6 + 2);
	uint32_t cp;

	while (i < n) {
		step = text_decode(json + i, n - i, &cp);
		if (audit_must_escape(cp)) {
			o += (size_t)sprintf(out + o, "\\u%04x", (unsigned)cp);
		} else {
			memcpy(out + o, json + i, step);
			o += step;
		}
		i += step;
	}
	out[o++] = '\n';
	out[o] = '\0';
	return out;
}

char *
audit_format(const struct audit_entry *en)
{
	char when[48];
	cJSON *root, *params;
	char *json, *line = NULL;
	int bad = 0;
	size_t i;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	audit_fmt_time(en->time_ms != 0 ? en->time_ms : util_wall_ms(), when, sizeof when);
	bad |= cJSON_AddStringToObject(root, "time", when) == NULL;
	bad |= audit_add_string(root, "operator", en->operator_name);
	bad |= audit_add_string(root, "ssh_client", en->ssh_client != NULL &&
	    *en->ssh_client != '\0' ? en->ssh_client : NULL);
	bad |= audit_add_string(root, "project", en->project);
	bad |= audit_add_string(root, "environment", en->environment);
	bad |= audit_add_string(root, "target", en->target);
	bad |= audit_add_string(root, "action", en->action);
	if ((params = cJSON_AddObjectToObject(root, "params")) == NULL)
		bad = 1;
	for (i = 0; params != NULL && i < en->n_params; i++)
		bad |= audit_add_param(params, &en->params[i]);
	bad |= audit_add_string(root, "before", en->before);
	bad |= audit_add_string(root, "after", en->after);
	bad |= audit_add_string(root, "reason", en->reason != NULL && *en->reason != '\0' ?
	    en->reason : NULL);
	bad |= cJSON_AddStringToObject(root, "result", audit_result_name(en->result)) == NULL;
	bad |= audit_add_string(root, "error", en->error != NULL && *en->error != '\0' ?
	    en->error : NULL);
	if (en->duration_ms >= 0)
		bad |= cJSON_AddNumberToObject(root, "duration_ms", (double)en->duration_ms) == NULL;
	else
		bad |= cJSON_AddNullToObject(root, "duration_ms") == NULL;
	if (!bad && (json = cJSON_PrintUnformatted(root)) != NULL) {
		line = audit_escape_line(json);
		cJSON_free(json);
	}
	cJSON_Delete(root);
	return line;
}

/* --- the file ------------------------------------------------------------ */

/* mkdir -p of PATH's directory; directories created here are 0700. */
static int
audit_mkdirs(const char *path)
{
	char *dir = xstrdup(path), *p;
	int rc = 0;

	p = strrchr(dir, '/');
	if (p == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				rc = -1;
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	free(dir);
	return rc;
}

static int
audit_reopen(struct audit *a)
{
	struct stat st;
	int fd, saved;

	if (a->fd >= 0)
		return 0;
	if (audit_mkdirs(a->path) != 0) {
		snprintf(a->error, sizeof a->error, "cannot create the directory of %s: %s",
		    a->path, strerror(errno));
		return -1;
	}
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		snprintf(a->error, sizeof a->error, "cannot open %s: %s", a->path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		saved = errno;
		close(fd);
		snprintf(a->error, sizeof a->error, "%s is not a regular file%s%s "
		    "(audit.file must name a file)", a->path, saved ? ": " : "",
		    saved ? strerror(saved) : "");
		return -1;
	}
	a->fd = fd;
	a->error[0] = '\0';
	return 0;
}

struct audit *
audit_open(const char *path, int fsync_each)
{
	struct audit *a = xcalloc(1, sizeof *a);

	a->path = path != NULL ? xstrdup(path) : audit_default_path();
	a->fd = -1;
	a->fsync_each = fsync_each;
	if (audit_reopen(a) != 0)
		diag_log(DIAG_ERROR, "audit: %s", a->error);
	return a;
}

void
audit_free(struct audit **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	if ((*ap)->fd >= 0)
		close((*ap)->fd);
	free((*ap)->path);
	free(*ap);
	*ap = NULL;
}

const char *
audit_path(const struct audit *a)
{
	return a->path;
}

int
audit_status(struct audit *a, struct err *e)
{
	if (a == NULL)
		return err_set(e, ERR_IO, "no audit log is configured");
	if (audit_reopen(a) != 0)
		return err_set(e, ERR_IO, "cannot write the audit log: %s", a->error);
	return 0;
}

int
audit_write(struct audit *a, const struct audit_entry *entry, struct err *e)
{
	char *line;
	size_t len;
	ssize_t n;

	if (audit_status(a, e) != 0)
		return -1;
	if ((line = audit_format(entry)) == NULL)
		return err_set(e, ERR_NOMEM, "cannot write the audit log %s: out of "
		    "memory formatting the entry", a->path);
	len = strlen(line);
	/* one write: a line is appended whole or (on error) reported */
	do
		n = write(a->fd, line, len);
	while (n < 0 && errno == EINTR);
	free(line);
	if (n < 0 || (size_t)n != len) {
		snprintf(a->error, sizeof a->error, "%s: %s", a->path,
		    n < 0 ? strerror(errno) : "short write (disk full?)");
		close(a->fd);
		a->fd = -1;
		diag_log(DIAG_ERROR, "audit: %s", a->error);
		return err_set(e, ERR_IO, "cannot write the audit log %s", a->error);
	}
	if (a->fsync_each && fdatasync(a->fd) != 0 && errno != EINVAL) {
		snprintf(a->error, sizeof a->error, "%s: fdatasync: %s", a->path,
		    strerror(errno));
		diag_log(DIAG_ERROR, "audit: %s", a->error);
		return err_set(e, ERR_IO, "cannot write the audit log %s", a->error);
	}
	return 0;
}
