/* pgbr.c - pgBackRest's info JSON, the PITR window, backup progress lines
 * (see pgbr.h).
 *
 * cJSON keeps numbers as doubles, which cannot hold every system-id: before
 * parsing, every integer literal of PGBR_BIG_DIGITS or more digits outside
 * a string is put in double quotes (quote_big_ints), and numeric fields
 * accept such a string and read it with strtoull/strtoll.  Shorter
 * integers are below 2^53 and exact as doubles.
 *
 * Every field is checked for its type: a present field of the wrong type
 * is an error naming the stanza and the field (pgBackRest changed its
 * format, or this is not pgBackRest), null counts as absent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "signalbox/err.h"
#include "signalbox/pgbr.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define PGBR_BIG_DIGITS 16	/* 10^15 < 2^53 < 10^16: shorter ones are exact */
#define PGBR_PFX "pgbackrest info: "

/* ---- quoting long integers --------------------------------------------- */

/* How the text ends, for saying "cut off?" when cJSON refuses it. */
struct text_end {
	int open;		/* brackets and braces still open */
	int in_str;		/* inside a string */
};

/* A copy of IN (LEN bytes) with every integer literal of PGBR_BIG_DIGITS or
 * more digits outside strings in double quotes, NUL-terminated.  *INS gets
 * the offsets (in the copy) of the opening quotes, for mapping an error
 * position back; *END how the text ends.  NULL and *NUL_AT when IN holds a
 * NUL byte. */
static char *
quote_big_ints(const char *in, size_t len, size_t **ins, size_t *n_ins, size_t *nul_at,
    struct text_end *end)
{
	/* Each quoted literal is at least 16 bytes and adds 2. */
	size_t cap = len + len / 8 + 16, o = 0, i = 0, ins_cap = 0;
	char *out = xmalloc(cap);
	int in_str = 0, open = 0, neg = 0;

	*ins = NULL;
	*n_ins = 0;
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\0') {
			*nul_at = i;
			free(out);
			free(*ins);
			*ins = NULL;
			return NULL;
		}
		if (in_str) {
			out[o++] = (char)c;
			i++;
			if (c == '\\' && i < len && in[i] != '\0')
				out[o++] = in[i++];
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c == '[' || c == '{')
			open++;
		else if ((c == ']' || c == '}') && --open < 0)
			neg = 1;
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t s = i, d0, nd;
			int plain = 1;

			if (in[i] == '-')
				i++;
			d0 = i;
			while (i < len && in[i] >= '0' && in[i] <= '9')
				i++;
			nd = i - d0;
			/* fraction or exponent: a double, leave it to cJSON */
			while (i < len && (in[i] == '.' || in[i] == 'e' || in[i] == 'E' ||
			    in[i] == '+' || in[i] == '-' || (in[i] >= '0' && in[i] <= '9'))) {
				plain = 0;
				i++;
			}
			if (plain && nd >= PGBR_BIG_DIGITS && in[d0] != '0') {
				if (*n_ins == ins_cap) {
					ins_cap = ins_cap != 0 ? ins_cap * 2 : 8;
					*ins = xreallocarray(*ins, ins_cap, sizeof **ins);
				}
				(*ins)[(*n_ins)++] = o;
				out[o++] = '"';
				memcpy(out + o, in + s, i - s);
				o += i - s;
				out[o++] = '"';
			} else {
				memcpy(out + o, in + s, i - s);
				o += i - s;
			}
			continue;
		}
		out[o++] = (char)c;
		i++;
	}
	out[o] = '\0';
	/* a closing bracket too many: broken, not cut off */
	end->open = neg ? 0 : open;
	end->in_str = neg ? 0 : in_str;
	return out;
}

/* The offset in the original text of offset OFF of TEXT, the quoted copy
 * whose opening quotes are at INS: two bytes less per literal before OFF,
 * one when OFF is inside one (its closing quote is the next '"'). */
static size_t
orig_offset(const char *text, size_t off, const size_t *ins, size_t n_ins)
{
	size_t shift = 0, k;

	for (k = 0; k < n_ins && ins[k] < off; k++) {
		const char *close = strchr(text + ins[k] + 1, '"');
		size_t cl = close != NULL ? (size_t)(close - text) : off;

		shift += cl < off ? 2 : 1;
	}
	return off >= shift ? off - shift : 0;
}

/* ---- typed access --------------------------------------------------------- */

/* Parsing context: the error, and what is being read for messages. */
struct ctx {
	struct err *e;
	char where[128];	/* "stanza 'main'", "stanza 'main' backup 2" */
	int failed;
};

static void ctx_fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
ctx_fail(struct ctx *c, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	c->failed = 1;
	/* "stanza 2 has no name", "stanza 'main': \"backup\" is an object, ..." */
	err_set(c->e, ERR_PARSE, PGBR_PFX "%s%s%s", c->where,
	    strncmp(what, "has ", 4) == 0 || strncmp(what, "is ", 3) == 0 ? " " : ": ", what);
}

static const char *
type_word(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "null";
}

static int
absent(const cJSON *v)
{
	return v == NULL || cJSON_IsNull(v);
}

/* OBJ's member KEY when present and not null, else NULL. */
static const cJSON *
member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return absent(v) ? NULL : v;
}

/* Object member KEY of OBJ: NULL when absent; fails C on another type. */
static const cJSON *
get_obj(struct ctx *c, const cJSON *obj, const char *key)
{
	const cJSON *v = member(obj, key);

	if (v != NULL && !cJSON_IsObject(v)) {
		ctx_fail(c, "\"%s\" is %s, not an object", key, type_word(v));
		return NULL;
	}
	return v;
}

static const cJSON *
get_arr(struct ctx *c, const cJSON *obj, const char *key)
{
	const cJSON *v = member(obj, key);

	if (v != NULL && !cJSON_IsArray(v)) {
		ctx_fail(c, "\"%s\" is %s, not an array", key, type_word(v));
		return NULL;
	}
	return v;
}

/* Copy string member KEY into BUF (LEN): 1 when present, 0 when absent
 * (BUF ""), fails C on another type. */
static int
get_str(struct ctx *c, const cJSON *obj, const char *key, char *buf, size_t len)
{
	const cJSON *v = member(obj, key);

	buf[0] = '\0';
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		ctx_fail(c, "\"%s\" is %s, not a string", key, type_word(v));
		return 0;
	}
	util_strlcpy(buf, v->valuestring, len);
	return 1;
}

/* The digits quote_big_ints put in quotes: [-]d{16,}. */
static int
is_quoted_int(const char *s)
{
	size_t n = 0;

	if (*s == '-')
		s++;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return s[n] == '\0' && n >= PGBR_BIG_DIGITS;
}

/* Is D an integer a double holds exactly (|D| <= 2^53)?  No libm. */
static int
is_exact_int(double d)
{
	if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0))	/* NaN too */
		return 0;
	return (double)(int64_t)d == d;
}

/* Integer member KEY into *OUT: 1 present, 0 absent, fails C on another
 * type, a fraction or a value out of int64's range. */
static int
get_i64(struct ctx *c, const cJSON *obj, const char *key, int64_t *out)
{
	const cJSON *v = member(obj, key);

	if (v == NULL)
		return 0;
	if (cJSON_IsString(v) && v->valuestring != NULL && is_quoted_int(v->valuestring)) {
		long long n;
		char *end;

		errno = 0;
		n = strtoll(v->valuestring, &end, 10);
		if (errno == ERANGE || *end != '\0') {
			ctx_fail(c, "\"%s\" = %s is out of range", key, v->valuestring);
			return 0;
		}
		*out = n;
		return 1;
	}
	if (!cJSON_IsNumber(v)) {
		ctx_fail(c, "\"%s\" is %s, not a number", key, type_word(v));
		return 0;
	}
	/* below 10^16 here (longer ones were quoted), unless an exponent */
	if (!is_exact_int(v->valuedouble)) {
		ctx_fail(c, "\"%s\" = %g is not an integer pgBackRest would write", key,
		    v->valuedouble);
		return 0;
	}
	*out = (int64_t)v->valuedouble;
	return 1;
}

/* Like get_i64 for an int in [LO, HI]. */
static int
get_int(struct ctx *c, const cJSON *obj, const char *key, int lo, int hi, int *out)
{
	int64_t n;

	if (!get_i64(c, obj, key, &n))
		return 0;
	if (n < lo || n > hi) {
		ctx_fail(c, "\"%s\" = %lld is out of range", key, (long long)n);
		return 0;
	}
	*out = (int)n;
	return 1;
}

/* A byte count: -1 when absent, fails C when negative. */
static int64_t
get_size(struct ctx *c, const cJSON *obj, const char *key)
{
	int64_t n = -1;

	if (get_i64(c, obj, key, &n) && n < 0) {
		ctx_fail(c, "\"%s\" = %lld is negative", key, (long long)n);
		return -1;
	}
	return n;
}

/* Unsigned 64-bit member KEY (system-id): 1 present, 0 absent. */
static int
get_u64(struct ctx *c, const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *v = member(obj, key);

	if (v == NULL)
		return 0;
	if (cJSON_IsString(v) && v->valuestring != NULL && is_quoted_int(v->valuestring)) {
		unsigned long long n;
		char *end;

		errno = 0;
		n = strtoull(v->valuestring, &end, 10);
		if (v->valuestring[0] == '-' || errno == ERANGE || *end != '\0') {
			ctx_fail(c, "\"%s\" = %s is not a 64-bit unsigned integer", key,
			    v->valuestring);
			return 0;
		}
		*out = n;
		return 1;
	}
	if (!cJSON_IsNumber(v)) {
		ctx_fail(c, "\"%s\" is %s, not a number", key, type_word(v));
		return 0;
	}
	if (!is_exact_int(v->valuedouble) || v->valuedouble < 0) {
		ctx_fail(c, "\"%s\" = %g is not a 64-bit unsigned integer", key, v->valuedouble);
		return 0;
	}
	*out = (uint64_t)v->valuedouble;
	return 1;
}

static int
get_bool(struct ctx *c, const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = member(obj, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v)) {
		ctx_fail(c, "\"%s\" is %s, not true or false", key, type_word(v));
		return 0;
	}
	*out = cJSON_IsTrue(v);
	return 1;
}

/* ---- the stanza ------------------------------------------------------------ */

static enum pgbr_backup_type
type_from(const char *s)
{
	if (strcmp(s, "full") == 0)
		return PGBR_FULL;
	if (strcmp(s, "diff") == 0)
		return PGBR_DIFF;
	if (strcmp(s, "incr") == 0)
		return PGBR_INCR;
	return PGBR_TYPE_UNKNOWN;
}

/* "15" -> 150000, "15.4" -> 150004, "9.6" -> 90600, "9.6.24" -> 90624. */
static int
version_num(const char *s)
{
	long a = 0, b = 0, cc = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return 0;
	a = strtol(s, &end, 10);
	if (*end == '.') {
		b = strtol(end + 1, &end, 10);
		if (*end == '.')
			cc = strtol(end + 1, &end, 10);
	}
	if (*end != '\0' || a <= 0 || a > 99 || b < 0 || b > 99 || cc < 0 || cc > 99)
		return 0;
	return a >= 10 ? (int)(a * 10000 + b) : (int)(a * 10000 + b * 100 + cc);
}

/* database: {"id": N, "repo-key": K} of a backup or an archive. */
static void
read_database(struct ctx *c, const cJSON *obj, int *repo_key, int *db_id)
{
	const cJSON *db = get_obj(c, obj, "database");

	*repo_key = 1;
	*db_id = 0;
	get_int(c, db, "repo-key", 1, 1000000, repo_key);
	get_int(c, db, "id", 0, 1000000, db_id);
}

static void
read_backup(struct ctx *c, const cJSON *j, struct pgbr_backup *b)
{
	const cJSON *ts, *info, *repo, *lsn, *ar;
	char type[16];
	size_t n;

	memset(b, 0, sizeof *b);
	b->size = b->delta = b->repo_size = b->repo_delta = -1;
	if (!cJSON_IsObject(j)) {
		ctx_fail(c, "is %s, not an object", type_word(j));
		return;
	}
	if (!get_str(c, j, "label", b->label, sizeof b->label) || b->label[0] == '\0') {
		ctx_fail(c, "has no label");
		return;
	}
	/* name the backup by its label in the messages that follow */
	n = strlen(c->where);
	snprintf(c->where + n, sizeof c->where - n, " (%s)", b->label);
	if (!get_str(c, j, "type", type, sizeof type))
		ctx_fail(c, "has no type");
	b->type = type_from(type);
	ts = get_obj(c, j, "timestamp");
	if (!get_i64(c, ts, "start", &b->start) || !get_i64(c, ts, "stop", &b->stop))
		ctx_fail(c, "has no timestamp.start/stop");
	info = get_obj(c, j, "info");
	b->size = get_size(c, info, "size");
	b->delta = get_size(c, info, "delta");
	repo = get_obj(c, info, "repository");
	b->repo_size = get_size(c, repo, "size");
	b->repo_delta = get_size(c, repo, "delta");
	lsn = get_obj(c, j, "lsn");
	get_str(c, lsn, "start", b->lsn_start, sizeof b->lsn_start);
	get_str(c, lsn, "stop", b->lsn_stop, sizeof b->lsn_stop);
	ar = get_obj(c, j, "archive");
	get_str(c, ar, "start", b->wal_start, sizeof b->wal_start);
	get_str(c, ar, "stop", b->wal_stop, sizeof b->wal_stop);
	get_str(c, j, "prior", b->prior, sizeof b->prior);
	read_database(c, j, &b->repo_key, &b->db_id);
	get_bool(c, j, "error", &b->error);
}

static void
read_repo(struct ctx *c, const cJSON *j, struct pgbr_repo *r)
{
	const cJSON *st;

	memset(r, 0, sizeof *r);
	if (!cJSON_IsObject(j)) {
		ctx_fail(c, "is %s, not an object", type_word(j));
		return;
	}
	if (!get_int(c, j, "key", 1, 1000000, &r->key))
		ctx_fail(c, "has no key");
	get_str(c, j, "cipher", r->cipher, sizeof r->cipher);
	st = get_obj(c, j, "status");
	if (!get_int(c, st, "code", 0, 1000000, &r->status_code))
		ctx_fail(c, "has no status.code");
	get_str(c, st, "message", r->status_message, sizeof r->status_message);
}

static void
read_archive(struct ctx *c, const cJSON *j, struct pgbr_archive *a)
{
	memset(a, 0, sizeof *a);
	if (!cJSON_IsObject(j)) {
		ctx_fail(c, "is %s, not an object", type_word(j));
		return;
	}
	get_str(c, j, "id", a->id, sizeof a->id);
	read_database(c, j, &a->repo_key, &a->db_id);
	get_str(c, j, "min", a->wal_min, sizeof a->wal_min);
	get_str(c, j, "max", a->wal_max, sizeof a->wal_max);
}

/* db[]: the system-id and version of the lowest repo's newest entry. */
static void
read_db(struct ctx *c, const cJSON *arr, struct pgbr_stanza *st)
{
	int best_key = 0, best_id = -1, n = 0;
	const cJSON *j;

	cJSON_ArrayForEach(j, arr) {
		int key = 1, id = 0;
		uint64_t sysid = 0;
		char ver[16];

		n++;
		if (!cJSON_IsObject(j)) {
			ctx_fail(c, "db %d is %s, not an object", n, type_word(j));
			return;
		}
		get_int(c, j, "repo-key", 1, 1000000, &key);
		get_int(c, j, "id", 0, 1000000, &id);
		if (!get_u64(c, j, "system-id", &sysid))
			ctx_fail(c, "db %d has no system-id", n);
		get_str(c, j, "version", ver, sizeof ver);
		if (c->failed)
			return;
		if (best_key == 0 || key < best_key || (key == best_key && id > best_id)) {
			best_key = key;
			best_id = id;
			st->system_id = sysid;
			st->pg_version_num = version_num(ver);
		}
	}
}

/* Oldest first by stop time; start time, then label, break ties. */
static int
backup_cmp(const void *pa, const void *pb)
{
	const struct pgbr_backup *a = pa, *b = pb;

	if (a->stop != b->stop)
		return a->stop < b->stop ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->label, b->label);
}

static void
read_stanza(struct ctx *c, const cJSON *j, size_t idx, struct pgbr_stanza *st)
{
	const cJSON *status, *lock, *bk, *arr, *it;
	size_t n, i;

	memset(st, 0, sizeof *st);
	st->lock_size = st->lock_size_done = -1;
	snprintf(c->where, sizeof c->where, "stanza %zu", idx + 1);
	if (!cJSON_IsObject(j)) {
		ctx_fail(c, "is %s, not an object", type_word(j));
		return;
	}
	if (!get_str(c, j, "name", st->name, sizeof st->name) || st->name[0] == '\0') {
		ctx_fail(c, "has no name");
		return;
	}
	snprintf(c->where, sizeof c->where, "stanza '%s'", st->name);
	status = get_obj(c, j, "status");
	if (!get_int(c, status, "code", 0, 1000000, &st->status_code))
		ctx_fail(c, "has no status.code");
	get_str(c, status, "message", st->status_message, sizeof st->status_message);
	lock = get_obj(c, get_obj(c, status, "lock"), "backup");
	get_bool(c, lock, "held", &st->lock_held);
	st->lock_size = get_size(c, lock, "size");
	st->lock_size_done = get_size(c, lock, "size-cplt");
	get_str(c, j, "cipher", st->cipher, sizeof st->cipher);
	arr = get_arr(c, j, "db");
	read_db(c, arr, st);
	if (c->failed)
		return;

	arr = get_arr(c, j, "repo");
	n = (size_t)cJSON_GetArraySize(arr);
	st->repos = xcalloc(n + 1, sizeof *st->repos);
	i = 0;
	cJSON_ArrayForEach(it, arr) {
		snprintf(c->where, sizeof c->where, "stanza '%s' repo %zu", st->name, i + 1);
		read_repo(c, it, &st->repos[i++]);
		if (c->failed)
			return;
	}
	st->n_repos = i;

	snprintf(c->where, sizeof c->where, "stanza '%s'", st->name);
	arr = get_arr(c, j, "archive");
	n = (size_t)cJSON_GetArraySize(arr);
	st->archives = xcalloc(n + 1, sizeof *st->archives);
	i = 0;
	cJSON_ArrayForEach(it, arr) {
		snprintf(c->where, sizeof c->where, "stanza '%s' archive %zu", st->name, i + 1);
		read_archive(c, it, &st->archives[i++]);
		if (c->failed)
			return;
	}
	st->n_archives = i;

	snprintf(c->where, sizeof c->where, "stanza '%s'", st->name);
	bk = get_arr(c, j, "backup");
	n = (size_t)cJSON_GetArraySize(bk);
	st->backups = xcalloc(n + 1, sizeof *st->backups);
	i = 0;
	cJSON_ArrayForEach(it, bk) {
		snprintf(c->where, sizeof c->where, "stanza '%s' backup %zu", st->name, i + 1);
		read_backup(c, it, &st->backups[i++]);
		if (c->failed)
			return;
	}
	st->n_backups = i;
	if (st->n_backups > 1)
		qsort(st->backups, st->n_backups, sizeof *st->backups, backup_cmp);
}

static void
stanza_fini(struct pgbr_stanza *st)
{
	free(st->repos);
	free(st->archives);
	free(st->backups);
}

void
pgbr_info_free(struct pgbr_info **pp)
{
	struct pgbr_info *info;
	size_t i;

	if (pp == NULL || *pp == NULL)
		return;
	info = *pp;
	for (i = 0; i < info->n_stanzas; i++)
		stanza_fini(&info->stanzas[i]);
	free(info->stanzas);
	free(info);
	*pp = NULL;
}

/* The first line of TEXT, printable ASCII only, at most 60 bytes, into BUF. */
static void
excerpt(const char *text, size_t len, char *buf, size_t blen)
{
	size_t i = 0, o = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	for (; i < len && text[i] != '\n' && o + 4 < blen && o < 60; i++)
		buf[o++] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	if (i < len && text[i] != '\n' && o + 4 < blen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

int
pgbr_info_parse(const char *json, size_t len, struct pgbr_info **out, struct err *e)
{
	struct ctx c = { .e = e };
	struct pgbr_info *info;
	size_t *ins = NULL, n_ins = 0, nul_at = 0, first = 0, n, i;
	struct text_end te = { 0 };
	const char *end = NULL;
	char *text, ex[80];
	cJSON *root;
	const cJSON *it;

	*out = NULL;
	if (json == NULL)
		len = 0;
	while (first < len && (json[first] == ' ' || json[first] == '\t' ||
	    json[first] == '\r' || json[first] == '\n'))
		first++;
	if (first == len)
		return err_set(e, ERR_PARSE, PGBR_PFX "no output (expected a JSON array of "
		    "stanzas)");
	if (json[first] != '[' && json[first] != '{') {
		/* pgBackRest's own error text, a usage message, a wrapper's */
		excerpt(json, len, ex, sizeof ex);
		return err_set(e, ERR_PARSE, PGBR_PFX "not JSON: '%s'", ex);
	}
	text = quote_big_ints(json, len, &ins, &n_ins, &nul_at, &te);
	if (text == NULL)
		return err_set(e, ERR_PARSE, PGBR_PFX "not JSON: NUL byte at byte %zu", nul_at);
	/* with require_null_terminated, cJSON wants the NUL inside the length */
	root = cJSON_ParseWithLengthOpts(text, strlen(text) + 1, &end, 1);
	if (root == NULL) {
		size_t at = end != NULL && end >= text ? (size_t)(end - text) : 0;

		at = orig_offset(text, at, ins, n_ins);
		free(text);
		free(ins);
		if (te.in_str)
			return err_set(e, ERR_PARSE, PGBR_PFX "not JSON at byte %zu: it ends "
			    "inside a string at byte %zu (cut off?)", at, len);
		if (te.open > 0)
			return err_set(e, ERR_PARSE, PGBR_PFX "not JSON at byte %zu: it ends at "
			    "byte %zu with %d bracket%s open (cut off?)", at, len, te.open,
			    te.open == 1 ? "" : "s");
		return err_set(e, ERR_PARSE, PGBR_PFX "not JSON at byte %zu", at);
	}
	free(text);
	free(ins);
	if (!cJSON_IsArray(root)) {
		err_set(e, ERR_PARSE, PGBR_PFX "expected a JSON array of stanzas, got %s",
		    type_word(root));
		cJSON_Delete(root);
		return -1;
	}
	n = (size_t)cJSON_GetArraySize(root);
	info = xcalloc(1, sizeof *info);
	info->stanzas = xcalloc(n + 1, sizeof *info->stanzas);
	i = 0;
	cJSON_ArrayForEach(it, root) {
		read_stanza(&c, it, i, &info->stanzas[i]);
		i++;
		info->n_stanzas = i;
		if (c.failed)
			break;
	}
	for (i = 0; !c.failed && i < info->n_stanzas; i++) {
		size_t k;

		for (k = 0; k < i; k++)
			if (strcmp(info->stanzas[k].name, info->stanzas[i].name) == 0) {
				err_set(e, ERR_PARSE, PGBR_PFX "stanza '%s' appears twice",
				    info->stanzas[i].name);
				c.failed = 1;
			}
	}
	cJSON_Delete(root);
	if (c.failed) {
		pgbr_info_free(&info);
		return -1;
	}
	*out = info;
	return 0;
}

const struct pgbr_stanza *
pgbr_info_stanza(const struct pgbr_info *info, const char *name)
{
	size_t i;

	if (info == NULL || name == NULL)
		return NULL;
	for (i = 0; i < info->n_stanzas; i++)
		if (strcmp(info->stanzas[i].name, name) == 0)
			return &info->stanzas[i];
	return NULL;
}

const struct pgbr_backup *
pgbr_stanza_newest(const struct pgbr_stanza *st)
{
	if (st == NULL || st->n_backups == 0)
		return NULL;
	return &st->backups[st->n_backups - 1];
}

const char *
pgbr_type_name(enum pgbr_backup_type t)
{
	switch (t) {
	case PGBR_FULL:
		return "full";
	case PGBR_DIFF:
		return "diff";
	case PGBR_INCR:
		return "incr";
	case PGBR_TYPE_UNKNOWN:
		break;
	}
	return "?";
}

/* ---- PITR window ------------------------------------------------------------ */

/* Is B's WAL, start to stop, within an archive of its repo and database? */
static int
backup_in_archive(const struct pgbr_stanza *st, const struct pgbr_backup *b)
{
	const char *stop = b->wal_stop[0] != '\0' ? b->wal_stop : b->wal_start;
	size_t i;

	if (b->wal_start[0] == '\0')
		return 0;
	for (i = 0; i < st->n_archives; i++) {
		const struct pgbr_archive *a = &st->archives[i];

		if (a->repo_key != b->repo_key || a->wal_min[0] == '\0' || a->wal_max[0] == '\0')
			continue;
		if (a->db_id != 0 && b->db_id != 0 && a->db_id != b->db_id)
			continue;
		/* 24 upper-case hex digits: timeline, log, segment */
		if (strcmp(b->wal_start, a->wal_min) >= 0 && strcmp(stop, a->wal_max) <= 0)
			return 1;
	}
	return 0;
}

/* The oldest wal_min of any archive, "" when none. */
static const char *
oldest_archived(const struct pgbr_stanza *st)
{
	const char *m = "";
	size_t i;

	for (i = 0; i < st->n_archives; i++)
		if (st->archives[i].wal_min[0] != '\0' &&
		    (m[0] == '\0' || strcmp(st->archives[i].wal_min, m) < 0))
			m = st->archives[i].wal_min;
	return m;
}

void
pgbr_pitr_window(const struct pgbr_stanza *st, int64_t last_archived_s, struct pgbr_pitr *out)
{
	const struct pgbr_backup *first = NULL, *last = NULL;
	size_t i, skipped = 0;

	memset(out, 0, sizeof *out);
	if (st == NULL) {
		util_strlcpy(out->why, "no such stanza in pgBackRest's info", sizeof out->why);
		return;
	}
	if (st->n_backups == 0) {
		util_strlcpy(out->why, "no backups yet: nothing to recover from", sizeof out->why);
		return;
	}
	if (oldest_archived(st)[0] == '\0') {
		util_strlcpy(out->why, "no WAL in the archive: only the backups themselves can be "
		    "restored", sizeof out->why);
		return;
	}
	for (i = 0; i < st->n_backups; i++) {
		if (!backup_in_archive(st, &st->backups[i])) {
			if (first == NULL)
				skipped++;
			continue;
		}
		if (first == NULL)
			first = &st->backups[i];
		last = &st->backups[i];
	}
	if (first == NULL) {
		snprintf(out->why, sizeof out->why, "the archive (oldest WAL %s) no longer holds "
		    "the WAL of any backup", oldest_archived(st));
		return;
	}
	out->valid = 1;
	out->earliest = first->stop;
	out->latest = last->stop;
	if (last_archived_s > 0 && last_archived_s >= last->stop) {
		out->latest = last_archived_s;
		out->latest_from_archiver = 1;
	}
	if (last_archived_s <= 0 && skipped > 0)
		snprintf(out->why, sizeof out->why, "ends at the newest backup (archiver time "
		    "unknown); %zu older backup%s without WAL", skipped, skipped == 1 ? "" : "s");
	else if (last_archived_s <= 0)
		snprintf(out->why, sizeof out->why, "ends at the newest backup %s: the archiver's "
		    "last time is unknown", last->label);
	else if (skipped == 1)
		snprintf(out->why, sizeof out->why, "starts at %s: 1 older backup no longer "
		    "has its WAL in the archive", first->label);
	else if (skipped > 1)
		snprintf(out->why, sizeof out->why, "starts at %s: %zu older backups no "
		    "longer have their WAL in the archive", first->label, skipped);
}

/* ---- progress lines ------------------------------------------------------------ */

static const char *const progress_verbs[] = {
	"backup file ",
	"match file from prior backup ",
	"checksum resumed file ",
	"restore file ",		/* restore --log-level-console=detail */
};

/* Find NEEDLE (NUL-terminated) in S (LEN bytes); offset or -1. */
static long
find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(s + i, needle, n) == 0)
			return (long)i;
	return -1;
}

int
pgbr_progress_line(const char *line, size_t len, double *pct)
{
	size_t i, p, q, start = 0, lim;
	long at;
	char num[16];
	double v;
	char *end;
	int ok = 0;

	if (line == NULL)
		return 0;
	at = find(line, len, "DETAIL: ");
	if (at < 0 || (at > 0 && line[at - 1] != ' '))
		return 0;
	p = (size_t)at + 8;
	for (i = 0; i < ARRAY_LEN(progress_verbs); i++) {
		size_t n = strlen(progress_verbs[i]);

		if (len - p >= n && memcmp(line + p, progress_verbs[i], n) == 0) {
			start = p + n;
			ok = 1;
			break;
		}
	}
	if (!ok)
		return 0;
	/* from the end: [ checksum HEX] after "%)" */
	lim = len;
	while (lim > start && (line[lim - 1] == '\r' || line[lim - 1] == '\n' ||
	    line[lim - 1] == ' '))
		lim--;
	at = -1;
	for (q = lim; q > start + 1; q--)
		if (line[q - 2] == '%' && line[q - 1] == ')') {
			at = (long)(q - 2);
			break;
		}
	if (at < 0)
		return 0;
	/* what follows must be nothing or " checksum HEX" */
	q = (size_t)at + 2;
	if (q < lim) {
		static const char ck[] = " checksum ";

		if (lim - q <= sizeof ck - 1 || memcmp(line + q, ck, sizeof ck - 1) != 0)
			return 0;
		for (q += sizeof ck - 1; q < lim; q++)
			if (!((line[q] >= '0' && line[q] <= '9') ||
			    (line[q] >= 'a' && line[q] <= 'f')))
				return 0;
	}
	/* the number before '%', after ", " or "(" */
	q = (size_t)at;
	while (q > start && ((line[q - 1] >= '0' && line[q - 1] <= '9') || line[q - 1] == '.'))
		q--;
	if (q == (size_t)at || (size_t)at - q >= sizeof num || q <= start)
		return 0;
	if (line[q - 1] != '(' && !(line[q - 1] == ' ' && q >= start + 2 && line[q - 2] == ','))
		return 0;
	memcpy(num, line + q, (size_t)at - q);
	num[(size_t)at - q] = '\0';
	v = strtod(num, &end);
	if (*end != '\0' || !(v >= 0 && v <= 100))
		return 0;
	*pct = v;
	return 1;
}
