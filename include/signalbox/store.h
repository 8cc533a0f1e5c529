/* store.h - latest snapshot per topic, source connection states.
 *
 * Data flows one way: sources publish, views pull.  store_publish takes
 * ownership of the snapshot and frees the previous one with its free
 * function; views may hold the const pointer returned by store_get only
 * until their next update call (that is, until the loop runs again).
 *
 * Every topic has a generation counter bumped on each publish, so a view
 * knows cheaply whether it has something new.  Subscribers are called
 * synchronously from store_publish / store_source_set; they must only mark
 * things dirty, never draw.
 */
#ifndef SIGNALBOX_STORE_H
#define SIGNALBOX_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_TOPIC_INFO(_) \
	_(HEALTH, "health") \
	_(SERVICES, "services") \
	_(DEPLOYMENTS, "deployments") \
	_(VARS, "vars") \
	_(FLAGS, "flags") \
	_(BACKUPS, "backups") \
	_(PG, "pg") \
	_(REDIS, "redis") \
	_(METRICS, "metrics") \
	_(LOGS, "logs")

enum store_topic {
#define STORE_TOPIC_ENUM(id, name) STORE_TOPIC_##id,
	STORE_TOPIC_INFO(STORE_TOPIC_ENUM)
#undef STORE_TOPIC_ENUM
	STORE_TOPIC_COUNT
};

/* Connection state of a source; shown in the status bar and in panes. */
enum store_state {
	STORE_STATE_IDLE,	/* not started or nothing configured */
	STORE_STATE_CONNECTING,	/* first attempt in flight */
	STORE_STATE_OK,		/* last attempt succeeded */
	STORE_STATE_STALE,	/* had data, the latest refresh failed or is late */
	STORE_STATE_ERROR,	/* failing, no usable data */
};

struct store_source {
	char name[32];		/* "health", "railway", ... */
	enum store_state state;
	int64_t last_ok_ms;	/* wall ms of last success, 0 = never */
	int64_t changed_ms;	/* wall ms of the last state change */
	char error[256];	/* last error text, sanitised, "" if none */
	char detail[48];	/* a short figure for the status bar ("912/1000"), "" if none */
	int degraded;		/* OK, but what it watches is not (old backups):
				   the status bar says "degraded" */
};

struct store;
struct logring;

typedef void store_free_fn(void *snap);
/* Called on publish to TOPIC, or with topic == STORE_TOPIC_COUNT when a
 * source state changed. */
typedef void store_notify_fn(enum store_topic topic, void *ud);

struct store *store_new(void);
/* Free every snapshot and *SP itself; NULL-safe; sets *SP to NULL. */
void store_free(struct store **sp);

/* Publish SNAP under TOPIC; the store takes ownership and will call FREE_FN
 * on it when replaced or at store_free (FREE_FN may be NULL for static). */
void store_publish(struct store *s, enum store_topic topic, void *snap,
    store_free_fn *free_fn);

/* Latest snapshot of TOPIC (NULL if none); *GEN gets its generation (0 =
 * never published) when GEN is not NULL. */
const void *store_get(const struct store *s, enum store_topic topic, uint64_t *gen);

/* Generation of TOPIC without fetching it. */
uint64_t store_generation(const struct store *s, enum store_topic topic);

/* Register FN(topic, UD) for every publish and source change. */
void store_subscribe(struct store *s, store_notify_fn *fn, void *ud);

/* Remove the subscription of FN with UD (a source that goes before the
 * store). */
void store_unsubscribe(struct store *s, store_notify_fn *fn, void *ud);

/* The log ring (logring.h).  The store owns it: store_logs_set takes RING
 * (freeing the one before), store_free frees it.  Log lines are not
 * snapshots: sources append to the ring in place and then call
 * store_logs_appended once per batch, which bumps STORE_TOPIC_LOGS'
 * generation and notifies the subscribers like a publish.  Views read the
 * ring in update and draw (one thread: it cannot change under them). */
void store_logs_set(struct store *s, struct logring *ring);
struct logring *store_logs(const struct store *s);
void store_logs_appended(struct store *s);

/* Set the state of source NAME (created on first use); ERROR may be NULL.
 * An OK state records now as the last success. */
void store_source_set(struct store *s, const char *name, enum store_state st,
    const char *error);

/* Set the status-bar figure of source NAME (created on first use); NULL or
 * "" clears it.  Sanitised and cut to fit. */
void store_source_detail(struct store *s, const char *name, const char *detail);

/* Mark source NAME (created on first use) degraded or not: its data is
 * fresh, what it reports is not well (the newest backup is too old). */
void store_source_degraded(struct store *s, const char *name, int degraded);

/* Number of sources and the Ith one (stable order of first appearance). */
size_t store_source_count(const struct store *s);
const struct store_source *store_source_at(const struct store *s, size_t i);
/* Source NAME or NULL. */
const struct store_source *store_source_find(const struct store *s, const char *name);

/* "ok", "stale", ... */
const char *store_state_name(enum store_state st);
/* Topic name ("health"). */
const char *store_topic_name(enum store_topic t);

#endif
