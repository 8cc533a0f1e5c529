/* flags.c - the flag store: Redis and PostgreSQL backends (flags.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "signalbox/flags.h"
#include "signalbox/loop.h"
#include "signalbox/pg.h"
#include "signalbox/redis.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

/* ---- flags ----------------------------------------------------------------- */

void
flag_fini(struct flag *f)
{
	if (f == NULL)
		return;
	free(f->name);
	free(f->strategy);
	free(f->description);
	free(f->updated_at);
	free(f->updated_by);
	free(f->raw);
	memset(f, 0, sizeof *f);
}

static char *
flag_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
flag_copy(struct flag *d, const struct flag *s)
{
	*d = *s;
	d->name = flag_dup(s->name);
	d->strategy = flag_dup(s->strategy);
	d->description = flag_dup(s->description);
	d->updated_at = flag_dup(s->updated_at);
	d->updated_by = flag_dup(s->updated_by);
	d->raw = flag_dup(s->raw);
}

void
flag_list_free(struct flag_list **lp)
{
	struct flag_list *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	*lp = NULL;
	for (size_t i = 0; i < l->n; i++)
		flag_fini(&l->v[i]);
	free(l->v);
	free(l->env);
	free(l);
}

const struct flag *
flag_list_find(const struct flag_list *l, const char *name)
{
	for (size_t i = 0; l != NULL && name != NULL && i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

int
flag_name_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL)
		return 0;
	for (const char *c = name; *c != '\0'; c++, n++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		    *c == '_' || *c == '.'))
			return 0;
	return n >= 1 && n <= FLAG_NAME_MAX;
}

int
flag_setting_parse(const char *w, int *enabled, int *rollout, struct err *e)
{
	char *end;
	long n;

	if (w != NULL && strcmp(w, "on") == 0) {
		*enabled = 1;
		*rollout = -1;
		return 0;
	}
	if (w != NULL && strcmp(w, "off") == 0) {
		*enabled = 0;
		*rollout = -1;
		return 0;
	}
	if (w != NULL && isdigit((unsigned char)w[0])) {
		errno = 0;
		n = strtol(w, &end, 10);
		if (errno == 0 && strcmp(end, "%") == 0 && n >= 0 && n <= 100) {
			*enabled = 1;
			*rollout = (int)n;
			return 0;
		}
	}
	return err_set(e, ERR_INVALID, "'%.40s' is not a flag setting: on, off or a rollout "
	    "from 0%% to 100%% (25%%)", w != NULL ? w : "");
}

void
flag_words(const struct flag *f, char *buf, size_t len)
{
	if (!f->valid)
		snprintf(buf, len, "invalid: %s", f->why);
	else
		snprintf(buf, len, "%s (%d%%)", f->enabled ? "on" : "off", f->rollout);
}

int
flag_parse_json(struct flag *out, const char *name, const char *json)
{
	cJSON *o = cJSON_Parse(json), *x;
	const char *why = NULL;

	memset(out, 0, sizeof *out);
	out->name = xstrdup(name);
	out->raw = xstrdup(json != NULL ? json : "");
	out->strategy = xstrdup("rollout");
	out->rollout = 100;
	if (o == NULL) {
		why = "not JSON";
	} else if (!cJSON_IsObject(o)) {
		why = "not a JSON object";
	} else {
		x = cJSON_GetObjectItemCaseSensitive(o, "enabled");
		if (x == NULL)
			why = "no 'enabled'";
		else if (!cJSON_IsBool(x))
			why = "'enabled' is not true or false";
		else
			out->enabled = cJSON_IsTrue(x);
		x = cJSON_GetObjectItemCaseSensitive(o, "rollout");
		if (why == NULL && x != NULL) {
			if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) ||
			    x->valuedouble < 0 || x->valuedouble > 100)
				why = "'rollout' is not an integer from 0 to 100";
			else
				out->rollout = (int)x->valuedouble;
		}
		x = cJSON_GetObjectItemCaseSensitive(o, "description");
		if (why == NULL && x != NULL && !cJSON_IsNull(x)) {
			if (!cJSON_IsString(x))
				why = "'description' is not a string";
			else
				out->description = xstrdup(x->valuestring);
		}
		x = cJSON_GetObjectItemCaseSensitive(o, "updated_at");
		if (why == NULL && cJSON_IsString(x))
			out->updated_at = xstrdup(x->valuestring);
		x = cJSON_GetObjectItemCaseSensitive(o, "updated_by");
		if (why == NULL && cJSON_IsString(x))
			out->updated_by = xstrdup(x->valuestring);
	}
	cJSON_Delete(o);
	if (why != NULL) {
		out->valid = 0;
		out->enabled = 0;
		util_strlcpy(out->why, why, sizeof out->why);
		return -1;
	}
	out->valid = 1;
	return 0;
}

char *
flag_json_update(const char *raw, int enabled, int rollout, const char *at, const char *by)
{
	cJSON *o = raw != NULL ? cJSON_Parse(raw) : NULL;
	char *out, *ret;

	if (o == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	/* replaced in place: the other members and their order stay */
	cJSON_DeleteItemFromObjectCaseSensitive(o, "enabled");
	cJSON_AddBoolToObject(o, "enabled", enabled);
	if (rollout >= 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "rollout");
		cJSON_AddNumberToObject(o, "rollout", rollout);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, "updated_at");
	cJSON_AddStringToObject(o, "updated_at", at != NULL ? at : "");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "updated_by");
	cJSON_AddStringToObject(o, "updated_by", by != NULL ? by : "");
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (out == NULL)
		xalloc_die("out of memory writing a flag");
	ret = xstrdup(out);
	free(out);
	return ret;
}

int
flag_from_pg_row(struct flag *out, const struct pg_rows *r, int row)
{
	const char *name = pg_rows_get(r, row, 0), *en = pg_rows_get(r, row, 1);
	const char *ro = pg_rows_get(r, row, 2), *tok = pg_rows_get(r, row, 6);
	char *end;
	long n;

	memset(out, 0, sizeof *out);
	if (r->ncols < 7 || name == NULL || en == NULL || ro == NULL || tok == NULL)
		return -1;
	n = strtol(ro, &end, 10);
	if (*end != '\0' || n < 0 || n > 100)
		return -1;
	out->name = xstrdup(name);
	out->valid = 1;
	out->enabled = strcmp(en, "t") == 0;
	out->rollout = (int)n;
	out->strategy = xstrdup("rollout");
	out->description = flag_dup(pg_rows_get(r, row, 3));
	out->updated_at = flag_dup(pg_rows_get(r, row, 4));
	out->updated_by = flag_dup(pg_rows_get(r, row, 5));
	out->raw = xstrdup(tok);
	return 0;
}

/* Kept statement by statement: pg_query sends one at a time.  The same
 * text, joined by ";\n\n" with a final ";\n", is sql/flags_postgres.sql
 * (test_flags checks it). */
const char *const flag_pg_schema[] = {
	"create table if not exists signalbox_flags (\n"
	"\tenvironment text not null,\n"
	"\tname text not null check (name ~ '^[a-z0-9._-]{1,100}$'),\n"
	"\tenabled boolean not null default false,\n"
	"\trollout integer not null default 100 check (rollout between 0 and 100),\n"
	"\tdescription text,\n"
	"\tupdated_at timestamptz not null default clock_timestamp(),\n"
	"\tupdated_by text,\n"
	"\tprimary key (environment, name)\n"
	")",
	"create or replace function signalbox_flags_notify() returns trigger\n"
	"language plpgsql as $$\n"
	"begin\n"
	"\tperform pg_notify('signalbox_flags', coalesce(new.environment, old.environment));\n"
	"\treturn null;\n"
	"end\n"
	"$$",
	"drop trigger if exists signalbox_flags_notify on signalbox_flags",
	"create trigger signalbox_flags_notify after insert or update or delete\n"
	"\ton signalbox_flags for each row execute function signalbox_flags_notify()",
	NULL,
};

enum flag_set_status
flag_redis_cas_result(const struct redis_value *v, const char **current, const char **error)
{
	*current = NULL;
	*error = NULL;
	if (v == NULL) {
		*error = "no reply";
		return FLAG_SET_ERROR;
	}
	if (v->type == REDIS_T_ERROR) {
		*error = v->str;
		return FLAG_SET_ERROR;
	}
	if (v->type != REDIS_T_ARRAY || v->n < 1 || v->elem[0].type != REDIS_T_INTEGER) {
		*error = "unexpected reply from the compare-and-set script";
		return FLAG_SET_ERROR;
	}
	switch (v->elem[0].integer) {
	case 1:
		return FLAG_SET_OK;
	case 2:
		return FLAG_SET_MISSING;
	case 0:
		if (v->n >= 2 && v->elem[1].type == REDIS_T_STRING)
			*current = v->elem[1].str;
		return FLAG_SET_CONFLICT;
	default:
		*error = "unexpected reply from the compare-and-set script";
		return FLAG_SET_ERROR;
	}
}

/* ---- the store --------------------------------------------------------------- */

/* KEYS[1] the hash, ARGV[1] the flag, ARGV[2] the value seen, ARGV[3] the
 * new one: written only when the hash still holds exactly what was seen. */
static const char flag_cas_lua[] =
	"local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if cur == false then return {2} end\n"
	"if cur ~= ARGV[2] then return {0, cur} end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
	"return {1}\n";

struct flag_store {
	uv_loop_t *loop;
	enum flag_store_kind kind;
	struct flag_store_opts o;
	char *url;		/* copied; wiped on free */
	struct redis *r, *sub;	/* commands; subscriptions */
	int redis_db;
	struct pg *pg;
	char **watched;		/* environments watched (postgres: LISTEN once) */
	size_t n_watched;
	int listening;
	struct loop_timer *defer;
	struct flag_op *deferred;
};

/* One list, set or migrate in flight. */
struct flag_op {
	struct flag_store *fs;
	char *env, *name;
	flag_list_fn *list_done;
	flag_set_fn *set_done;
	flag_done_fn *done;
	void *ud;
	struct flag before;
	char *value;		/* redis: the value written */
	int enabled, rollout;
	char *by;
	int step;		/* migrate: the statement */
	struct flag_op *next;
};

static void
flag_op_free(struct flag_op *op)
{
	free(op->env);
	free(op->name);
	free(op->value);
	free(op->by);
	flag_fini(&op->before);
	free(op);
}

static void
flag_set_answer(struct flag_op *op, enum flag_set_status st, const struct flag *now,
    const char *error)
{
	if (st == FLAG_SET_OK && op->fs->o.history != NULL && now != NULL)
		op->fs->o.history(op->env, &op->before, now, op->fs->o.ud);
	op->set_done(st, now, error, op->ud);
	flag_op_free(op);
}

static void
flag_defer_cb(struct loop_timer *t, void *ud)
{
	struct flag_store *fs = ud;
	struct flag_op *op;

	(void)t;
	while ((op = fs->deferred) != NULL) {
		fs->deferred = op->next;
		if (op->set_done != NULL)
			flag_set_answer(op, FLAG_SET_INVALID, &op->before,
			    op->before.valid ? "unchanged" : op->before.why);
		else {
			if (op->done != NULL)
				op->done(1, NULL, op->ud);
			flag_op_free(op);
		}
	}
}

static void
flag_defer(struct flag_store *fs, struct flag_op *op)
{
	op->next = fs->deferred;
	fs->deferred = op;
	loop_timer_start(fs->defer, 0, 0);
}

static void
flag_redis_state(enum redis_state st, const char *error, void *ud)
{
	struct flag_store *fs = ud;

	if (fs->o.state == NULL)
		return;
	fs->o.state(st == REDIS_STATE_READY ? FLAG_STORE_READY : st == REDIS_STATE_DOWN ?
	    FLAG_STORE_DOWN : FLAG_STORE_CONNECTING, error, fs->o.ud);
}

static void flag_pg_listen(struct flag_store *fs);

static void
flag_pg_state(enum pg_state st, const char *error, void *ud)
{
	struct flag_store *fs = ud;

	if (st == PG_STATE_READY) {
		fs->listening = 0;
		flag_pg_listen(fs);
	}
	if (fs->o.state == NULL)
		return;
	fs->o.state(st == PG_STATE_READY ? FLAG_STORE_READY : st == PG_STATE_DOWN ?
	    FLAG_STORE_DOWN : FLAG_STORE_CONNECTING, error, fs->o.ud);
}

static void
flag_pg_notify(const char *channel, const char *payload, void *ud)
{
	struct flag_store *fs = ud;

	if (strcmp(channel, "signalbox_flags") != 0 || fs->o.live == NULL)
		return;
	for (size_t i = 0; i < fs->n_watched; i++)
		if (strcmp(fs->watched[i], payload) == 0)
			fs->o.live(payload, fs->o.ud);
}

static void
flag_redis_message(const char *channel, const char *payload, void *ud)
{
	struct flag_store *fs = ud;
	const char *env = strstr(channel, ":flags:");

	/* __keyspace@0__:flags:production, payload hset / hdel / del ... */
	(void)payload;
	if (env != NULL && fs->o.live != NULL)
		fs->o.live(env + 7, fs->o.ud);
}

struct flag_store *
flag_store_new(uv_loop_t *loop, const struct flag_store_opts *o, struct err *e)
{
	struct flag_store *fs = xcalloc(1, sizeof *fs);

	fs->loop = loop;
	fs->o = *o;
	fs->o.url = NULL;
	fs->url = xstrdup(o->url != NULL ? o->url : "");
	fs->kind = o->kind;
	if (o->url == NULL || o->url[0] == '\0') {
		err_set(e, ERR_INVALID, "no URL for the flag store");
		free(fs->url);
		free(fs);
		return NULL;
	}
	if (o->kind == FLAG_STORE_REDIS) {
		struct redis_opts ro;
		struct redis_url u;

		memset(&ro, 0, sizeof ro);
		ro.url = o->url;
		if (redis_url_parse(o->url, &u, e) != 0) {
			free(fs->url);
			free(fs);
			return NULL;
		}
		fs->redis_db = u.db;
		redis_url_wipe(&u);
		fs->r = redis_new(loop, &ro, flag_redis_state, fs, e);
		if (fs->r == NULL) {
			free(fs->url);
			free(fs);
			return NULL;
		}
	} else {
		struct pg_opts po;

		memset(&po, 0, sizeof po);
		po.conninfo = o->url;
		po.read_write = 1;	/* sets and the migration write */
		fs->pg = pg_new(loop, &po, flag_pg_state, fs);
		pg_set_notify(fs->pg, flag_pg_notify, fs);
	}
	fs->defer = loop_timer_new(loop, flag_defer_cb, fs);
	return fs;
}

void
flag_store_start(struct flag_store *fs)
{
	if (fs->r != NULL)
		redis_start(fs->r);
	if (fs->sub != NULL)
		redis_start(fs->sub);
	if (fs->pg != NULL)
		pg_start(fs->pg);
}

void
flag_store_free(struct flag_store **fsp)
{
	struct flag_store *fs;

	if (fsp == NULL || (fs = *fsp) == NULL)
		return;
	*fsp = NULL;
	redis_free(&fs->r);
	redis_free(&fs->sub);
	pg_free(&fs->pg);
	while (fs->deferred != NULL) {
		struct flag_op *op = fs->deferred;

		fs->deferred = op->next;
		flag_op_free(op);
	}
	loop_timer_free(&fs->defer);
	for (size_t i = 0; i < fs->n_watched; i++)
		free(fs->watched[i]);
	free(fs->watched);
	memset(fs->url, 0, strlen(fs->url));	/* it may hold a password */
	free(fs->url);
	free(fs);
}

enum flag_store_state
flag_store_state(const struct flag_store *fs)
{
	if (fs->r != NULL)
		return redis_state(fs->r) == REDIS_STATE_READY ? FLAG_STORE_READY :
		    redis_state(fs->r) == REDIS_STATE_DOWN ? FLAG_STORE_DOWN :
		    FLAG_STORE_CONNECTING;
	return pg_state(fs->pg) == PG_STATE_READY ? FLAG_STORE_READY :
	    pg_state(fs->pg) == PG_STATE_DOWN ? FLAG_STORE_DOWN : FLAG_STORE_CONNECTING;
}

void
flag_store_where(const struct flag_store *fs, const char *env, char *buf, size_t len)
{
	if (fs->kind == FLAG_STORE_REDIS)
		snprintf(buf, len, "redis %s flags:%s", redis_target(fs->r), env);
	else
		snprintf(buf, len, "postgres %s signalbox_flags (environment %s)",
		    pg_target(fs->pg), env);
}

/* ---- list ---------------------------------------------------------------------- */

static int
flag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct flag *)a)->name, ((const struct flag *)b)->name);
}

static void
flag_redis_list_cb(const struct redis_value *v, const char *error, void *ud)
{
	struct flag_op *op = ud;
	struct flag_list *l;

	if (v == NULL || v->type != REDIS_T_ARRAY) {
		op->list_done(NULL, v == NULL ? error : v->type == REDIS_T_ERROR ? v->str :
		    "unexpected reply to HGETALL", op->ud);
		flag_op_free(op);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->env = xstrdup(op->env);
	l->v = xcalloc(v->n / 2 + 1, sizeof *l->v);
	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (v->elem[i].type == REDIS_T_STRING && v->elem[i + 1].type == REDIS_T_STRING)
			flag_parse_json(&l->v[l->n++], v->elem[i].str, v->elem[i + 1].str);
	qsort(l->v, l->n, sizeof *l->v, flag_cmp);
	op->list_done(l, NULL, op->ud);
	flag_list_free(&l);
	flag_op_free(op);
}

static struct flag_list *
flag_pg_rows_list(const char *env, const struct pg_rows *rows)
{
	struct flag_list *l = xcalloc(1, sizeof *l);

	l->env = xstrdup(env);
	l->v = xcalloc((size_t)rows->nrows + 1, sizeof *l->v);
	for (int i = 0; i < rows->nrows; i++)
		if (flag_from_pg_row(&l->v[l->n], rows, i) == 0)
			l->n++;
	return l;
}

static void
flag_pg_list_cb(const struct pg_result *res, void *ud)
{
	struct flag_op *op = ud;
	struct flag_list *l;

	if (!res->ok) {
		op->list_done(NULL, res->error, op->ud);
		flag_op_free(op);
		return;
	}
	l = flag_pg_rows_list(op->env, &res->rows);
	op->list_done(l, NULL, op->ud);
	flag_list_free(&l);
	flag_op_free(op);
}

void
flag_store_list(struct flag_store *fs, const char *env, flag_list_fn *done, void *ud)
{
	struct flag_op *op = xcalloc(1, sizeof *op);

	op->fs = fs;
	op->env = xstrdup(env);
	op->list_done = done;
	op->ud = ud;
	if (fs->kind == FLAG_STORE_REDIS) {
		char *key = xasprintf("flags:%s", env);
		const char *argv[2] = { "HGETALL", key };

		redis_command(fs->r, 2, argv, flag_redis_list_cb, op);
		free(key);
	} else {
		const char *params[1] = { env };

		pg_query(fs->pg, "select " FLAG_PG_COLUMNS " from signalbox_flags "
		    "where environment = $1 order by name", 1, params, flag_pg_list_cb, op);
	}
}

/* ---- set ------------------------------------------------------------------------- */

static void
flag_redis_set_cb(const struct redis_value *v, const char *error, void *ud)
{
	struct flag_op *op = ud;
	const char *cur, *why;
	enum flag_set_status st = flag_redis_cas_result(v, &cur, &why);
	struct flag now;

	memset(&now, 0, sizeof now);
	if (v == NULL)
		why = error;
	if (st == FLAG_SET_OK)
		flag_parse_json(&now, op->name, op->value);
	else if (st == FLAG_SET_CONFLICT && cur != NULL)
		flag_parse_json(&now, op->name, cur);
	flag_set_answer(op, st, now.name != NULL ? &now : NULL, why);
	flag_fini(&now);
}

static void
flag_pg_reread_cb(const struct pg_result *res, void *ud)
{
	struct flag_op *op = ud;
	struct flag now;

	if (!res->ok) {
		flag_set_answer(op, FLAG_SET_ERROR, NULL, res->error);
		return;
	}
	if (res->rows.nrows < 1 || flag_from_pg_row(&now, &res->rows, 0) != 0) {
		flag_set_answer(op, FLAG_SET_MISSING, NULL, NULL);
		return;
	}
	flag_set_answer(op, FLAG_SET_CONFLICT, &now, NULL);
	flag_fini(&now);
}

static void
flag_pg_set_cb(const struct pg_result *res, void *ud)
{
	struct flag_op *op = ud;
	struct flag now;
	const char *params[2] = { op->env, op->name };

	if (!res->ok) {
		flag_set_answer(op, FLAG_SET_ERROR, NULL, res->error);
		return;
	}
	if (res->rows.nrows == 1 && flag_from_pg_row(&now, &res->rows, 0) == 0) {
		flag_set_answer(op, FLAG_SET_OK, &now, NULL);
		flag_fini(&now);
		return;
	}
	/* 0 rows: changed (or deleted) underneath; say what it is now */
	pg_query(op->fs->pg, "select " FLAG_PG_COLUMNS " from signalbox_flags "
	    "where environment = $1 and name = $2", 2, params, flag_pg_reread_cb, op);
}

void
flag_store_set(struct flag_store *fs, const struct flag_change *c, flag_set_fn *done, void *ud)
{
	struct flag_op *op = xcalloc(1, sizeof *op);
	char at[40];

	op->fs = fs;
	op->env = xstrdup(c->env);
	op->name = xstrdup(c->name);
	op->set_done = done;
	op->ud = ud;
	op->enabled = c->enabled;
	op->rollout = c->rollout;
	op->by = xstrdup(c->by != NULL ? c->by : "");
	if (c->seen != NULL)
		flag_copy(&op->before, c->seen);
	if (c->seen == NULL || (!c->seen->valid && !c->replace_invalid)) {
		/* nothing is written over a malformed value by a toggle */
		if (c->seen == NULL) {
			op->before.valid = 0;
			util_strlcpy(op->before.why, "the flag was not read first",
			    sizeof op->before.why);
		}
		flag_defer(fs, op);
		return;
	}
	if (fs->kind == FLAG_STORE_REDIS) {
		char *key = xasprintf("flags:%s", c->env);
		const char *argv[7];

		util_format_rfc3339(at, sizeof at, util_wall_ms());
		op->value = flag_json_update(c->seen->valid ? c->seen->raw : NULL, c->enabled,
		    c->rollout >= 0 ? c->rollout : c->seen->valid ? -1 : 100, at, op->by);
		argv[0] = "EVAL";
		argv[1] = flag_cas_lua;
		argv[2] = "1";
		argv[3] = key;
		argv[4] = c->name;
		argv[5] = c->seen->raw != NULL ? c->seen->raw : "";
		argv[6] = op->value;
		redis_command(fs->r, 7, argv, flag_redis_set_cb, op);
		free(key);
	} else {
		char en[2], ro[8];
		const char *params[6];

		snprintf(en, sizeof en, "%s", c->enabled ? "t" : "f");
		snprintf(ro, sizeof ro, "%d", c->rollout);
		params[0] = c->env;
		params[1] = c->name;
		params[2] = en;
		params[3] = ro;
		params[4] = op->by;
		params[5] = c->seen->raw != NULL ? c->seen->raw : "";
		pg_query(fs->pg, "update signalbox_flags set enabled = $3::boolean, "
		    "rollout = case when $4::int < 0 then rollout else $4::int end, "
		    "updated_at = clock_timestamp(), updated_by = $5 "
		    "where environment = $1 and name = $2 and updated_at = $6::timestamptz "
		    "returning " FLAG_PG_COLUMNS, 6, params, flag_pg_set_cb, op);
	}
}

/* ---- live updates and the migration ------------------------------------------------ */

static void
flag_pg_listen_cb(const struct pg_result *res, void *ud)
{
	struct flag_store *fs = ud;

	if (!res->ok)
		fs->listening = 0;	/* tried again on the next READY */
}

static void
flag_pg_listen(struct flag_store *fs)
{
	if (fs->listening || fs->n_watched == 0 || pg_state(fs->pg) != PG_STATE_READY)
		return;
	fs->listening = 1;
	pg_query(fs->pg, "listen signalbox_flags", 0, NULL, flag_pg_listen_cb, fs);
}

void
flag_store_watch(struct flag_store *fs, const char *env)
{
	fs->watched = xreallocarray(fs->watched, fs->n_watched + 1, sizeof *fs->watched);
	fs->watched[fs->n_watched++] = xstrdup(env);
	if (fs->kind == FLAG_STORE_REDIS) {
		char *ch = xasprintf("__keyspace@%d__:flags:%s", fs->redis_db, env);

		if (fs->sub == NULL) {
			struct redis_opts ro;

			/* a second connection: a subscriber sends nothing else */
			memset(&ro, 0, sizeof ro);
			ro.url = fs->url;
			fs->sub = redis_new(fs->loop, &ro, NULL, NULL, NULL);
			if (fs->sub != NULL && redis_state(fs->r) != REDIS_STATE_IDLE)
				redis_start(fs->sub);
		}
		if (fs->sub != NULL)
			redis_subscribe(fs->sub, ch, flag_redis_message, fs);
		free(ch);
	} else {
		flag_pg_listen(fs);
	}
}

static void
flag_migrate_cb(const struct pg_result *res, void *ud)
{
	struct flag_op *op = ud;

	if (!res->ok) {
		char msg[300];

		snprintf(msg, sizeof msg, "statement %d of sql/flags_postgres.sql: %.240s",
		    op->step + 1, res->error);
		op->done(0, msg, op->ud);
		flag_op_free(op);
		return;
	}
	if (flag_pg_schema[++op->step] == NULL) {
		op->done(1, NULL, op->ud);
		flag_op_free(op);
		return;
	}
	pg_query(op->fs->pg, flag_pg_schema[op->step], 0, NULL, flag_migrate_cb, op);
}

void
flag_store_migrate(struct flag_store *fs, flag_done_fn *done, void *ud)
{
	struct flag_op *op = xcalloc(1, sizeof *op);

	op->fs = fs;
	op->done = done;
	op->ud = ud;
	if (fs->kind == FLAG_STORE_REDIS) {
		flag_defer(fs, op);
		return;
	}
	pg_query(fs->pg, flag_pg_schema[0], 0, NULL, flag_migrate_cb, op);
}
