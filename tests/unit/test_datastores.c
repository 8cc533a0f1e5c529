/* test_datastores.c - the datastores: parsing of recorded PostgreSQL rows
 * and Redis INFO / SLOWLOG replies (with hostile text), the URL and
 * connection-string helpers (never the password), the pane's golden
 * screens at 80x24 and 200x50 (fresh, blocked, DOWN, stale), the cancel's
 * policy rule, and the clients' DOWN state against a closed loopback port.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "golden.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/loop.h"
#include "signalbox/pg.h"
#include "signalbox/pg_stats.h"
#include "signalbox/policy.h"
#include "signalbox/redis.h"
#include "signalbox/redis_stats.h"
#include "signalbox/store.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

/* 2026-11-23 10:00:00 UTC */
#define NOW_MS 1795428000000LL
#define HOSTILE "SELECT '\033[2J\033]0;pwned\007' /* \xff */"

/* --- fixtures -------------------------------------------------------------- */

static const char *const summary_cells[] = {
	"15.20 (Debian 15.20-0+deb12u1)", "f", "200", "14",
	"idle=9,active=4,idle in transaction=1", "120500", "0.99562",
	"on", "42", "3", "000000010000000000000029", "1795427880000",
	"000000010000000000000028", "1795427000000", "1795427999000",
};

static const char *const summary_prev_cells[] = {
	"15.20", "f", "200", "12", "idle=12", "120000", "0.99",
	"off", "0", "0", NULL, NULL, NULL, NULL, "1795427994000",
};

static const char *const session_cells[] = {
	/* pid, user, db, state, wait, ms, blocked by, query */
	"4711", "app", "app", "active", "Timeout:PgSleep", "312000", "", "SELECT pg_sleep(600)",
	"4720", "app", "app", "idle in transaction", "Client:ClientRead", "48000", "",
	"begin; update orders set total = total + 1 where id = 7;",
	"4733", "worker", "app", "active", "Lock:transactionid", "41000", "4720",
	"update orders set total = 0 where id = 7",
	"4740", "app\033[31m", "app", "active", "", "120", "", HOSTILE,
	"junk", "x", "y", "active", "", "1", "", "ignored: no pid",
};

static const char *const other_cells[] = {
	"db", "postgres", "", "", "7659520", NULL,
	"replica", "standby1", "10.0.0.2", "streaming", "150", "8192",
	"db", "app", "", "", "10485760", NULL,
	"db", "secret_db", "", "", NULL, NULL,
};

static struct pg_stats_data *
pg_data_fixture(void)
{
	struct pg_stats_data *prev = pg_stats_data_new(), *d = pg_stats_data_new();
	struct pg_rows r;
	struct err e;

	r.nrows = 1;
	r.ncols = 15;
	r.cells = summary_prev_cells;
	assert_int_equal(pg_stats_parse_summary(prev, &r, NULL, &e), 0);
	r.cells = summary_cells;
	assert_int_equal(pg_stats_parse_summary(d, &r, prev, &e), 0);
	r.nrows = 5;
	r.ncols = 8;
	r.cells = session_cells;
	assert_int_equal(pg_stats_parse_sessions(d, &r, &e), 0);
	r.nrows = 4;
	r.ncols = 6;
	r.cells = other_cells;
	assert_int_equal(pg_stats_parse_other(d, &r, &e), 0);
	pg_stats_data_unref(prev);
	return d;
}

static char *
read_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("SIGNALBOX_SOURCE_DIR");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/tests/fixtures/datastores/%s", dir ? dir : ".", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct redis_stats_data *
redis_data_fixture(void)
{
	struct redis_stats_data *d = redis_stats_data_new();
	struct redis_value args[3][3], entries[3][6], top;
	struct err e;
	size_t len;
	char *info = read_fixture("redis_info_7.0.txt", &len);
	static const char *const cmds[3][3] = {
		{ "KEYS", "*", NULL },
		{ "HGETALL", "flags:production", NULL },
		{ "SET", "k\033[2Jx", "\033]0;pwned\007" },
	};

	assert_int_equal(redis_stats_parse_info(d, info, len, NULL, &e), 0);
	free(info);
	memset(args, 0, sizeof args);
	memset(entries, 0, sizeof entries);
	for (int i = 0; i < 3; i++) {
		size_t n = 0;

		for (int k = 0; k < 3 && cmds[i][k] != NULL; k++, n++) {
			args[i][k].type = REDIS_T_STRING;
			args[i][k].str = cmds[i][k];
			args[i][k].len = strlen(cmds[i][k]);
		}
		entries[i][0].type = REDIS_T_INTEGER;
		entries[i][0].integer = 30 - i;
		entries[i][1].type = REDIS_T_INTEGER;
		entries[i][1].integer = NOW_MS / 1000 - 90 * (i + 1);
		entries[i][2].type = REDIS_T_INTEGER;
		entries[i][2].integer = i == 0 ? 25300 : i == 1 ? 812 : 1500000;
		entries[i][3].type = REDIS_T_ARRAY;
		entries[i][3].n = n;
		entries[i][3].elem = args[i];
		entries[i][4].type = REDIS_T_STRING;
		entries[i][4].str = "127.0.0.1:50412";
		entries[i][4].len = strlen(entries[i][4].str);
		entries[i][5].type = REDIS_T_STRING;
		entries[i][5].str = "";
	}
	/* SLOWLOG GET's reply: an array of entries of 6 */
	memset(&top, 0, sizeof top);
	top.type = REDIS_T_ARRAY;
	top.n = 3;
	{
		static struct redis_value flat[3];

		for (int i = 0; i < 3; i++) {
			flat[i].type = REDIS_T_ARRAY;
			flat[i].n = 6;
			flat[i].elem = entries[i];
		}
		top.elem = flat;
		assert_int_equal(redis_stats_parse_slowlog(d, &top, &e), 0);
	}
	d->taken_ms = NOW_MS - 1000;
	return d;
}

/* --- parsing ----------------------------------------------------------------- */

static void
test_pg_summary(void **state)
{
	struct pg_stats_data *d = pg_data_fixture();

	(void)state;
	assert_string_equal(d->version, "15.20");
	assert_int_equal(d->max_connections, 200);
	assert_int_equal(d->n_connections, 14);
	assert_int_equal(d->n_states, 3);
	assert_string_equal(d->states[2].state, "idle in transaction");
	assert_int_equal(d->states[1].n, 4);
	/* 500 transactions in 5 s */
	assert_true(d->tps > 99.99 && d->tps < 100.01);
	assert_true(d->cache_hit > 0.995 && d->cache_hit < 0.996);
	assert_true(d->archive_mode);
	assert_int_equal(d->archived, 42);
	assert_int_equal(d->archive_failed, 3);
	assert_int_equal(d->last_archived_ms, 1795427880000LL);
	assert_string_equal(d->last_failed_wal, "000000010000000000000028");
	assert_int_equal(d->taken_ms, 1795427999000LL);
	pg_stats_data_unref(d);
}

static void
test_pg_sessions(void **state)
{
	struct pg_stats_data *d = pg_data_fixture();

	(void)state;
	/* the row without a pid is dropped; longest first */
	assert_int_equal(d->n_sessions, 4);
	assert_int_equal(d->sessions[0].pid, 4711);
	assert_int_equal(d->sessions[0].duration_ms, 312000);
	assert_int_equal(d->sessions[1].pid, 4720);
	assert_true(d->sessions[1].blocking);
	assert_int_equal(d->sessions[2].pid, 4733);
	assert_string_equal(d->sessions[2].blocked_by, "4720");
	assert_false(d->sessions[2].blocking);
	assert_int_equal(d->n_blocked, 1);
	/* hostile text: no escape byte survives, invalid UTF-8 replaced */
	for (size_t i = 0; i < d->n_sessions; i++) {
		assert_null(strchr(d->sessions[i].query, '\033'));
		assert_null(strchr(d->sessions[i].query, '\007'));
		assert_null(strchr(d->sessions[i].user, '\033'));
		assert_true(strlen(d->sessions[i].query) <= PG_STATS_QUERY_MAX);
	}
	assert_non_null(strstr(d->sessions[3].query, "\xe2\x90\x9b[2J"));	/* ␛[2J */
	assert_non_null(strstr(d->sessions[3].query, "\xef\xbf\xbd"));	/* U+FFFD */
	pg_stats_data_unref(d);
}

static void
test_pg_query_cut(void **state)
{
	struct pg_stats_data *d = pg_stats_data_new();
	char longq[1000];
	const char *cells[8] = { "1", "u", "d", "active", "", "5", "", longq };
	struct pg_rows r = { 1, 8, cells };
	struct err e;

	(void)state;
	/* a multi-byte character across the cut must not be split */
	memset(longq, 'a', sizeof longq);
	for (size_t i = 1; i + 2 < sizeof longq; i += 3)
		memcpy(longq + i, "\xc3\xa9", 2);	/* é */
	longq[sizeof longq - 1] = '\0';
	assert_int_equal(pg_stats_parse_sessions(d, &r, &e), 0);
	assert_true(strlen(d->sessions[0].query) <= PG_STATS_QUERY_MAX);
	assert_non_null(strstr(d->sessions[0].query, "\xe2\x80\xa6"));
	assert_null(strstr(d->sessions[0].query, "\xef\xbf\xbd"));
	pg_stats_data_unref(d);
}

static void
test_pg_other(void **state)
{
	struct pg_stats_data *d = pg_data_fixture();

	(void)state;
	assert_int_equal(d->n_replicas, 1);
	assert_string_equal(d->replicas[0].name, "standby1");
	assert_int_equal(d->replicas[0].replay_lag_ms, 150);
	assert_int_equal(d->replicas[0].lag_bytes, 8192);
	assert_int_equal(d->n_dbs, 3);
	assert_string_equal(d->dbs[0].name, "app");	/* largest first */
	assert_string_equal(d->dbs[2].name, "secret_db");
	assert_int_equal(d->dbs[2].size, -1);	/* no CONNECT privilege */
	pg_stats_data_unref(d);
}

static void
test_pg_bad_shape(void **state)
{
	struct pg_stats_data *d = pg_stats_data_new();
	const char *cells[2] = { "a", "b" };
	struct pg_rows r = { 1, 2, cells };
	struct err e;

	(void)state;
	memset(&e, 0, sizeof e);
	assert_int_equal(pg_stats_parse_summary(d, &r, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "expected 1 row of 15 columns"));
	assert_int_equal(pg_stats_parse_sessions(d, &r, &e), -1);
	assert_int_equal(pg_stats_parse_other(d, &r, &e), -1);
	pg_stats_data_unref(d);
}

static void
test_redis_info(void **state)
{
	struct redis_stats_data *d = redis_data_fixture();

	(void)state;
	assert_string_equal(d->version, "7.0.15");
	assert_int_equal(d->used_memory, 1238072);
	assert_int_equal(d->maxmemory, 134217728);
	assert_true(d->frag > 10.37 && d->frag < 10.39);
	assert_int_equal(d->clients, 8);
	assert_int_equal(d->blocked_clients, 1);
	assert_true(d->ops_per_sec > 15.9 && d->ops_per_sec < 16.1);
	assert_true(d->hit_rate > 0.24 && d->hit_rate < 0.26);	/* 575 / 2300 */
	assert_int_equal(d->evicted, 0);
	assert_string_equal(d->rdb_status, "ok");
	assert_false(d->aof_enabled);
	assert_string_equal(d->role, "master");
	assert_int_equal(d->connected_replicas, 0);
	assert_int_equal(d->keys, 2);
	redis_stats_data_unref(d);
}

static void
test_redis_info_replica_and_rate(void **state)
{
	static const char replica[] =
	    "# Server\r\nredis_version:7.0.15\r\n"
	    "# Stats\r\ntotal_commands_processed:5000\r\n"
	    "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n"
	    "master_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\n"
	    "# Keyspace\r\ndb0:keys=10,expires=1,avg_ttl=0\r\ndb3:keys=5,expires=0\r\n"
	    "weird\033[2J:value\r\nrdb_last_bgsave_status:\033[31merr\r\n";
	static const char primary[] =
	    "redis_version:7.0.15\nrole:master\nconnected_slaves:2\n"
	    "slave0:ip=10.0.0.2,port=6380,state=online,offset=12345,lag=1\n"
	    "slave1:ip=10.0.0.3,port=6380,state=wait_bgsave,offset=0,lag=7\n";
	struct redis_stats_data *prev = redis_stats_data_new(), *d = redis_stats_data_new();
	struct err e;

	(void)state;
	assert_int_equal(redis_stats_parse_info(prev, replica, sizeof replica - 1, NULL, &e), 0);
	prev->total_commands = 3000;
	prev->taken_ms -= 2000;
	assert_int_equal(redis_stats_parse_info(d, replica, sizeof replica - 1, prev, &e), 0);
	/* no instantaneous_ops_per_sec: the delta of total_commands_processed */
	assert_true(d->ops_per_sec > 900 && d->ops_per_sec < 1100);
	assert_string_equal(d->role, "slave");
	assert_string_equal(d->master_host, "10.0.0.1");
	assert_int_equal(d->master_port, 6379);
	assert_string_equal(d->master_link, "down");
	assert_int_equal(d->keys, 15);
	assert_null(strchr(d->rdb_status, '\033'));
	redis_stats_data_unref(prev);
	redis_stats_data_unref(d);

	d = redis_stats_data_new();
	assert_int_equal(redis_stats_parse_info(d, primary, sizeof primary - 1, NULL, &e), 0);
	assert_int_equal(d->n_replicas, 2);
	assert_string_equal(d->replicas[0].addr, "10.0.0.2:6380");
	assert_string_equal(d->replicas[1].state, "wait_bgsave");
	assert_int_equal(d->replicas[1].lag_s, 7);
	redis_stats_data_unref(d);

	d = redis_stats_data_new();
	memset(&e, 0, sizeof e);
	assert_int_equal(redis_stats_parse_info(d, "-ERR nope", 9, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "redis_version"));
	redis_stats_data_unref(d);
}

static void
test_redis_slowlog(void **state)
{
	struct redis_stats_data *d = redis_data_fixture();
	struct redis_value bad = { .type = REDIS_T_STRING, .str = "x", .len = 1 };
	struct err e;

	(void)state;
	assert_int_equal(d->n_slow, 3);
	assert_int_equal(d->slow[0].id, 30);
	assert_int_equal(d->slow[0].duration_us, 25300);
	assert_string_equal(d->slow[0].cmd, "KEYS *");
	assert_string_equal(d->slow[0].client, "127.0.0.1:50412");
	assert_null(strchr(d->slow[2].cmd, '\033'));
	assert_null(strchr(d->slow[2].cmd, '\007'));
	assert_non_null(strstr(d->slow[2].cmd, "SET k"));
	assert_int_equal(redis_stats_parse_slowlog(d, &bad, &e), -1);
	redis_stats_data_unref(d);
}

static void
test_urls(void **state)
{
	struct redis_url u;
	struct err e;
	char buf[160];

	(void)state;
	assert_int_equal(redis_url_parse("redis://default:s3cr%40t@127.0.0.1:6380/2", &u, &e), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_string_equal(u.user, "default");
	assert_string_equal(u.password, "s3cr@t");
	redis_url_wipe(&u);
	assert_string_equal(u.password, "");
	assert_int_equal(redis_url_parse("redis://:pw@[::1]/0", &u, &e), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6379);
	assert_string_equal(u.user, "");
	assert_true(u.has_password);
	assert_int_equal(redis_url_parse("redis://localhost", &u, &e), 0);
	assert_false(u.has_password);
	memset(&e, 0, sizeof e);
	assert_int_equal(redis_url_parse("redis://:hunter2@host:99999/0", &u, &e), -1);
	assert_null(strstr(e.msg, "hunter2"));
	assert_int_equal(redis_url_parse("http://host", &u, &e), -1);
	assert_int_equal(redis_url_parse("redis://:pw@/0", &u, &e), -1);
	assert_int_equal(redis_url_parse("redis://h:1/x", &u, &e), -1);

	assert_int_equal(pg_conninfo_target("postgres://app:hunter2@127.0.0.1:5433/appdb",
	    buf, sizeof buf, &e), 0);
	assert_string_equal(buf, "app@127.0.0.1:5433/appdb");
	assert_int_equal(pg_conninfo_target("host=10.0.0.5 user=ro password=hunter2 dbname=x",
	    buf, sizeof buf, &e), 0);
	assert_string_equal(buf, "ro@10.0.0.5:5432/x");
	assert_null(strstr(buf, "hunter2"));
	memset(&e, 0, sizeof e);
	assert_int_equal(pg_conninfo_target("postgres://a:hunter2@h:notaport/x?bogus=1",
	    buf, sizeof buf, &e), -1);
	assert_null(strstr(e.msg, "hunter2"));
}

/* --- the cancel's rule ---------------------------------------------------------- */

static void
test_cancel_policy(void **state)
{
	struct config cfg;
	struct policy_opts o;
	struct policy *p;
	struct policy_verdict v;
	struct policy_req q;
	struct err e;
	static const char yml[] = "environment: production\n"
	    "environments: { production: { protected: true }, staging: {} }\n";

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_string(&cfg, yml, sizeof yml - 1, "t.yml", &e), 0);
	memset(&o, 0, sizeof o);
	o.cfg = &cfg;
	p = policy_new(&o);
	memset(&q, 0, sizeof q);
	q.action = ACTION_PG_CANCEL;
	q.target = "postgres";
	q.target_id = "4711";
	q.before = "active for 5m12s as app: SELECT pg_sleep(600)";
	assert_true(action_is_gated(ACTION_PG_CANCEL));
	assert_int_equal(policy_check(p, &q, &v), 0);
	assert_int_equal(v.confirm, POLICY_CONFIRM_TYPED);
	assert_string_equal(v.title, "Cancel query 4711 on postgres in production");
	assert_non_null(strstr(v.plan[0], "pg_cancel_backend"));
	q.env = "staging";
	assert_int_equal(policy_check(p, &q, &v), 0);
	assert_int_equal(v.confirm, POLICY_CONFIRM_YESNO);
	q.target_id = NULL;
	assert_int_equal(policy_check(p, &q, &v), -1);
	assert_non_null(strstr(v.reason, "no query selected"));
	policy_free(&p);

	o.read_only = 1;
	p = policy_new(&o);
	q.target_id = "4711";
	assert_int_equal(policy_check(p, &q, &v), -1);
	assert_non_null(strstr(v.reason, "read-only"));
	policy_free(&p);
	config_fini(&cfg);
}

static void
test_config(void **state)
{
	static const char good[] = "datastores:\n  postgres: { url_env: PG_RO_URL, "
	    "interval: 10s }\n  redis:\n";
	static const char bad[] = "datastores:\n  postgres: { url_env: \"postgres://x\", "
	    "intervall: 3s }\n  redis: { interval: 1ms }\n  mysql: {}\n";
	struct config cfg;
	struct err e;
	char *dump = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	config_init(&cfg);
	assert_false(view_datastores_enabled(&cfg));
	assert_string_equal(cfg.ds_postgres.url_env, "DATABASE_URL");
	assert_int_equal(cfg.ds_redis.interval_ms, 2000);
	assert_int_equal(config_load_string(&cfg, good, sizeof good - 1, "g.yml", &e), 0);
	assert_true(cfg.ds_postgres.enabled);
	assert_string_equal(cfg.ds_postgres.url_env, "PG_RO_URL");
	assert_int_equal(cfg.ds_postgres.interval_ms, 10000);
	assert_true(cfg.ds_redis.enabled);
	assert_string_equal(cfg.ds_redis.url_env, "REDIS_URL");
	assert_true(view_datastores_enabled(&cfg));
	/* the dump loads back the same */
	f = open_memstream(&dump, &len);
	config_dump(&cfg, f);
	fclose(f);
	assert_non_null(strstr(dump, "datastores:\n  postgres:\n"));
	config_fini(&cfg);
	config_init(&cfg);
	assert_int_equal(config_load_string(&cfg, dump, len, "dump.yml", &e), 0);
	assert_int_equal(cfg.ds_postgres.interval_ms, 10000);
	free(dump);
	config_fini(&cfg);

	config_init(&cfg);
	memset(&e, 0, sizeof e);
	assert_int_equal(config_load_string(&cfg, bad, sizeof bad - 1, "b.yml", &e), -1);
	assert_non_null(strstr(e.msg, "b.yml:2:"));
	assert_non_null(strstr(e.msg, "'url_env' must be the name of an environment variable"));
	assert_non_null(strstr(e.msg, "did you mean 'interval'"));
	assert_non_null(strstr(e.msg, "b.yml:3:"));
	assert_non_null(strstr(e.msg, "b.yml:4:3"));
	config_fini(&cfg);
}

/* --- the pane -------------------------------------------------------------------- */

struct fixture {
	struct store *store;
	struct view_host host;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	f->store = store_new();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_free(&f->store);
	free(f);
	return 0;
}

static void
publish(struct fixture *f, enum pg_stats_conn pc, const char *perr, int with_pg_data,
    enum redis_stats_conn rc, const char *rerr, int with_redis_data, int64_t age_ms)
{
	struct pg_stats_snap *ps = xcalloc(1, sizeof *ps);
	struct redis_stats_snap *rs = xcalloc(1, sizeof *rs);

	ps->conn = pc;
	snprintf(ps->target, sizeof ps->target, "app@127.0.0.1:5432/app");
	snprintf(ps->error, sizeof ps->error, "%s", perr);
	ps->since_ms = NOW_MS - 60000;
	ps->interval_ms = 5000;
	if (with_pg_data) {
		struct pg_stats_data *d = pg_data_fixture();

		d->taken_ms = NOW_MS - age_ms;
		ps->data = d;
	}
	store_publish(f->store, STORE_TOPIC_PG, ps, pg_stats_snap_free);
	rs->conn = rc;
	snprintf(rs->target, sizeof rs->target, "127.0.0.1:6379/0");
	snprintf(rs->error, sizeof rs->error, "%s", rerr);
	rs->since_ms = NOW_MS - 60000;
	rs->interval_ms = 2000;
	if (with_redis_data) {
		struct redis_stats_data *d = redis_data_fixture();

		d->taken_ms = NOW_MS - age_ms;
		d->rdb_last_save_s = NOW_MS / 1000 - 200;
		rs->data = d;
	}
	store_publish(f->store, STORE_TOPIC_REDIS, rs, redis_stats_snap_free);
}

static char *
render(struct fixture *f, struct view *v, int w, int h, struct canvas **keep)
{
	struct canvas *cv = canvas_mem_new(w, h, 0);
	char *out;

	v->now_ms = NOW_MS;
	v->ops->update(v, f->store);
	v->ops->draw(v, cv);
	out = canvas_mem_dump(cv);
	if (keep != NULL)
		*keep = cv;
	else
		canvas_mem_free(&cv);
	return out;
}

static void
check_golden(const char *name, const char *screen)
{
	assert_int_equal(golden_check(name, screen), 0);
	assert_null(strchr(screen, '\033'));
	assert_null(strstr(screen, "hunter2"));
}

static void
test_pane_golden(void **state)
{
	struct fixture *f = *state;
	struct view *v = view_new(&datastores_view_ops, &f->host, NULL);
	char *s, badge[32];
	int bad;

	assert_non_null(v);
	publish(f, PG_STATS_UP, "", 1, REDIS_STATS_UP, "", 1, 1000);
	s = render(f, v, 80, 24, NULL);
	check_golden("datastores/ok-80x24", s);
	assert_non_null(strstr(s, "connections 14/200"));
	assert_non_null(strstr(s, "5m12s"));
	assert_non_null(strstr(s, "pid 4733 waits 41s for 4720"));
	assert_non_null(strstr(s, "1.2 MB / 128 MB"));
	free(s);
	s = render(f, v, 200, 50, NULL);
	check_golden("datastores/ok-200x50", s);
	assert_non_null(strstr(s, "Timeout:PgSleep"));
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "1 blocked");
	assert_false(bad);
	/* the selection follows the backend across polls */
	assert_int_equal(v->ops->key(v, ACTION_MOVE_DOWN, NULL), 1);
	publish(f, PG_STATS_UP, "", 1, REDIS_STATS_UP, "", 1, 1000);
	s = render(f, v, 80, 24, NULL);
	free(s);
	view_free(&v);
}

static void
test_pane_down(void **state)
{
	struct fixture *f = *state;
	struct view *v = view_new(&datastores_view_ops, &f->host, NULL);
	struct canvas *cv;
	char *s, badge[32];
	int bad, y, dim = 0;

	publish(f, PG_STATS_DOWN, "connection to server at \"127.0.0.1\", port 5432 failed: "
	    "Connection refused", 1, REDIS_STATS_DOWN, "Server closed the connection", 1,
	    95000);
	s = render(f, v, 80, 24, &cv);
	check_golden("datastores/down-80x24", s);
	assert_non_null(strstr(s, " DOWN "));
	assert_non_null(strstr(s, "Postgres  DOWN  app@127.0.0.1:5432/app  data 1m old"));
	assert_non_null(strstr(s, "Redis  DOWN  127.0.0.1:6379/0  data 1m old"));
	assert_non_null(strstr(s, "Connection refused"));
	assert_non_null(strstr(s, "Server closed the connection"));
	/* old figures are dimmed, never drawn as fresh */
	for (y = 0; y < 24; y++)
		if (strstr(canvas_mem_row(cv, y), "connections") != NULL)
			break;
	assert_true(y < 24);
	for (int x = 13; x < 30; x++)
		dim += canvas_mem_style(cv, y, x) == STYLE_DIM;
	assert_true(dim > 5);
	assert_true(v->next_change_ms > NOW_MS);
	canvas_mem_free(&cv);
	free(s);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "pg, redis down");
	assert_true(bad);
	view_free(&v);

	/* never connected: the reason, no figures */
	v = view_new(&datastores_view_ops, &f->host, NULL);
	publish(f, PG_STATS_UNCONFIGURED, "DATABASE_URL is not set: export the connection "
	    "string (postgres://user:password@host:port/db) in it", 0, REDIS_STATS_CONNECTING,
	    "", 0, 0);
	s = render(f, v, 80, 24, NULL);
	check_golden("datastores/unset-80x24", s);
	assert_non_null(strstr(s, "NOT SET"));
	assert_non_null(strstr(s, "Connecting"));
	free(s);
	view_free(&v);
}

static void
test_pane_late(void **state)
{
	struct fixture *f = *state;
	struct view *v = view_new(&datastores_view_ops, &f->host, NULL);
	char *s;

	/* connected, but the last poll is more than two intervals old */
	publish(f, PG_STATS_UP, "", 1, REDIS_STATS_UP, "", 1, 40000);
	s = render(f, v, 80, 24, NULL);
	assert_non_null(strstr(s, "Postgres  STALE"));
	assert_non_null(strstr(s, "data 40s old"));
	free(s);
	view_free(&v);
}

static void
test_pane_tiny(void **state)
{
	struct fixture *f = *state;
	struct view *v = view_new(&datastores_view_ops, &f->host, NULL);

	publish(f, PG_STATS_UP, "", 1, REDIS_STATS_UP, "", 1, 1000);
	for (int w = 1; w < 40; w += 7)
		for (int h = 1; h < 12; h += 3)
			free(render(f, v, w, h, NULL));
	view_free(&v);
}

/* --- the clients against a closed port --------------------------------------------- */

static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

struct seen {
	int downs;
	char error[256];
	uv_loop_t *loop;
};

static void
pg_seen(enum pg_state st, const char *error, void *ud)
{
	struct seen *s = ud;

	if (st == PG_STATE_DOWN && s->downs++ == 0) {
		snprintf(s->error, sizeof s->error, "%s", error);
		uv_stop(s->loop);
	}
}

static void
redis_seen(enum redis_state st, const char *error, void *ud)
{
	struct seen *s = ud;

	if (st == REDIS_STATE_DOWN && s->downs++ == 0) {
		snprintf(s->error, sizeof s->error, "%s", error);
		uv_stop(s->loop);
	}
}

static void
query_failed(const struct pg_result *res, void *ud)
{
	int *called = ud;

	assert_false(res->ok);
	assert_non_null(strstr(res->error, "not connected"));
	(*called)++;
}

static void
test_clients_down(void **state)
{
	uv_loop_t loop;
	struct seen seen;
	struct pg_opts po;
	struct redis_opts ro;
	struct pg *pg;
	struct redis *r;
	struct err e;
	char url[128];
	int called = 0;

	(void)state;
	uv_loop_init(&loop);
	memset(&seen, 0, sizeof seen);
	seen.loop = &loop;
	snprintf(url, sizeof url, "postgres://u:hunter2@127.0.0.1:%d/db", closed_port());
	memset(&po, 0, sizeof po);
	po.conninfo = url;
	pg = pg_new(&loop, &po, pg_seen, &seen);
	assert_non_null(strstr(pg_target(pg), "u@127.0.0.1:"));
	assert_null(strstr(pg_target(pg), "hunter2"));
	pg_start(pg);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(pg_state(pg), PG_STATE_DOWN);
	assert_non_null(strstr(seen.error, "Connection refused"));
	assert_null(strstr(seen.error, "hunter2"));
	pg_query(pg, "SELECT 1", 0, NULL, query_failed, &called);
	assert_int_equal(called, 0);	/* never from inside pg_query */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(called, 1);
	pg_free(&pg);

	memset(&seen, 0, sizeof seen);
	seen.loop = &loop;
	snprintf(url, sizeof url, "redis://:hunter2@127.0.0.1:%d/1", closed_port());
	memset(&ro, 0, sizeof ro);
	ro.url = url;
	r = redis_new(&loop, &ro, redis_seen, &seen, &e);
	assert_non_null(r);
	assert_null(strstr(redis_target(r), "hunter2"));
	redis_start(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(redis_state(r), REDIS_STATE_DOWN);
	assert_non_null(strstr(seen.error, "onnection refused"));
	redis_free(&r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_summary),
		cmocka_unit_test(test_pg_sessions),
		cmocka_unit_test(test_pg_query_cut),
		cmocka_unit_test(test_pg_other),
		cmocka_unit_test(test_pg_bad_shape),
		cmocka_unit_test(test_redis_info),
		cmocka_unit_test(test_redis_info_replica_and_rate),
		cmocka_unit_test(test_redis_slowlog),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_cancel_policy),
		cmocka_unit_test(test_config),
		cmocka_unit_test_setup_teardown(test_pane_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pane_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pane_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pane_tiny, setup, teardown),
		cmocka_unit_test(test_clients_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
