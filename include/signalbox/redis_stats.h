/* redis_stats.h - the Redis health source.
 *
 * Every interval (datastores.redis.interval, default 2 s) it sends INFO
 * and SLOWLOG GET on one connection (redis.h), and publishes a struct
 * redis_stats_snap under STORE_TOPIC_REDIS; the source "redis" is OK,
 * STALE (had data, now failing) or ERROR (never had any) with the reason.
 * The URL comes from the variable the config names
 * (datastores.redis.url_env); only "host:port/db" is ever stored or shown.
 * Slowlog commands are sanitised and cut.
 */
#ifndef SIGNALBOX_REDIS_STATS_H
#define SIGNALBOX_REDIS_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct config;
struct redis_value;
struct store;

#define REDIS_STATS_SOURCE "redis"
#define REDIS_STATS_SLOWLOG 10		/* entries asked for */
#define REDIS_STATS_CMD_MAX 160		/* bytes of a slowlog command kept */
#define REDIS_STATS_MAX_REPLICAS 8

enum redis_stats_conn {
	REDIS_STATS_CONNECTING,
	REDIS_STATS_UP,
	REDIS_STATS_DOWN,
	REDIS_STATS_UNCONFIGURED,
};

struct redis_stats_replica {
	char addr[64];		/* "10.0.0.2:6379" */
	char state[16];		/* "online" */
	int64_t lag_s;		/* -1 = unknown */
	int64_t offset;
};

struct redis_stats_slow {
	int64_t id;
	int64_t when_s;		/* unix time */
	int64_t duration_us;
	char cmd[REDIS_STATS_CMD_MAX + 4];	/* arguments joined by spaces, sanitised */
	char client[64];
};

/* Data of one successful poll; immutable once published, shared by
 * reference.  Counters are -1 when INFO did not have them. */
struct redis_stats_data {
	int refs;
	int64_t taken_ms;
	char version[32];
	int64_t uptime_s;
	double ops_per_sec;
	int64_t total_commands;
	int64_t used_memory, used_memory_rss, maxmemory;
	char maxmemory_policy[32];
	double frag;			/* mem_fragmentation_ratio, -1 = unknown */
	int64_t hits, misses;
	double hit_rate;		/* 0..1, -1 = no lookups yet */
	int64_t evicted, expired;
	int64_t clients, blocked_clients;
	char rdb_status[16];		/* rdb_last_bgsave_status: "ok", "err" */
	int rdb_in_progress;
	int64_t rdb_changes, rdb_last_save_s;
	int aof_enabled;
	char aof_status[16];		/* aof_last_write_status */
	char role[16];			/* "master", "slave" */
	int64_t connected_replicas;
	struct redis_stats_replica replicas[REDIS_STATS_MAX_REPLICAS];
	size_t n_replicas;
	char master_host[64];		/* a replica's master, "" on a master */
	int64_t master_port;
	char master_link[16];		/* "up", "down" */
	int64_t master_io_s;		/* seconds since the master was heard, -1 */
	int64_t keys;			/* over every db */
	struct redis_stats_slow slow[REDIS_STATS_SLOWLOG];
	size_t n_slow;
};

/* What STORE_TOPIC_REDIS holds. */
struct redis_stats_snap {
	enum redis_stats_conn conn;
	char target[300];	/* "127.0.0.1:6379/0", never the password */
	char error[256];
	int64_t since_ms;
	int64_t interval_ms;
	const struct redis_stats_data *data;	/* last good poll, NULL = none yet */
};

/* Fill D from INFO's text (LEN bytes); PREV (may be NULL) gives the rate
 * when INFO has no instantaneous_ops_per_sec.  -1 and E when it is not
 * INFO output. */
int redis_stats_parse_info(struct redis_stats_data *d, const char *text, size_t len,
    const struct redis_stats_data *prev, struct err *e);

/* Fill D's slowlog from a SLOWLOG GET reply; -1 and E when it is not one. */
int redis_stats_parse_slowlog(struct redis_stats_data *d, const struct redis_value *v,
    struct err *e);

struct redis_stats_data *redis_stats_data_new(void);
void redis_stats_data_ref(const struct redis_stats_data *d);
void redis_stats_data_unref(const struct redis_stats_data *d);
void redis_stats_snap_free(void *snap);

struct redis_stats;

/* A source for CFG's datastores.redis (NULL when it has none). */
struct redis_stats *redis_stats_new(uv_loop_t *loop, struct store *store,
    const struct config *cfg);
void redis_stats_start(struct redis_stats *s);
/* Disconnect and free *SP (NULL-safe); not from inside a callback of it. */
void redis_stats_free(struct redis_stats **sp);
void redis_stats_poll_now(struct redis_stats *s);

#endif
