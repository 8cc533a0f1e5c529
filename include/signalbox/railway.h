/* railway.h - the Railway provider: GraphQL client and project snapshots.
 *
 * One struct railway talks to Railway's public GraphQL API (or the
 * sandbox's emulator: only the endpoint and the token differ) over the
 * shared http client, on the shared loop, never blocking.  It polls the
 * project and publishes three immutable, reference-counted snapshots:
 *
 *   STORE_TOPIC_SERVICES     struct railway_project_snap
 *   STORE_TOPIC_DEPLOYMENTS  struct railway_history_snap
 *   STORE_TOPIC_VARS         struct railway_vars_snap
 *
 * and its connection state as store source "railway" (RAILWAY_SOURCE):
 * CONNECTING until the first snapshot, OK, STALE (the last snapshot stays
 * published; the store's last_ok_ms gives its age) while refreshes fail
 * for network reasons, ERROR with words a user can act on ("Not
 * Authorized: check RAILWAY_TOKEN") when the API refuses.
 *
 * Every string in a snapshot is sanitised for display (text_sanitize):
 * escape sequences in service names arrive as visible control pictures.
 * Ids are strings, never doubles (and sanitised too, which leaves real
 * Railway ids unchanged, so they can be passed back to the mutations).  Variable values are never part of a
 * snapshot: only their length and a short fingerprint.
 *
 * POLICY: this client does not decide whether an action is allowed.  The
 * central policy module (read-only mode, protected environments, locks,
 * confirmations) decides before it calls a mutation here, and the audit
 * module records the outcome from the completion callback.  Nothing in
 * this file may be called for a mutation except through that path.
 */
#ifndef SIGNALBOX_RAILWAY_H
#define SIGNALBOX_RAILWAY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct store;
struct http;
struct ws_ctx;

#define RAILWAY_DEFAULT_ENDPOINT "https://backboard.railway.com/graphql/v2"
#define RAILWAY_SOURCE "railway"	/* store source name */

/* --- deployment statuses ------------------------------------------------ */

/* Railway's DeploymentStatus values and how a view should colour them:
 * OK (done and serving), BUSY (in progress), FAIL (needs attention), OFF
 * (not running, by intent or because it was replaced).  UNKNOWN stands for
 * a status this build does not know (the raw text is kept beside it). */
#define RAILWAY_STATUS_INFO(_) \
	_(BUILDING, "BUILDING", BUSY) \
	_(CRASHED, "CRASHED", FAIL) \
	_(DEPLOYING, "DEPLOYING", BUSY) \
	_(FAILED, "FAILED", FAIL) \
	_(INITIALIZING, "INITIALIZING", BUSY) \
	_(NEEDS_APPROVAL, "NEEDS_APPROVAL", BUSY) \
	_(QUEUED, "QUEUED", BUSY) \
	_(REMOVED, "REMOVED", OFF) \
	_(REMOVING, "REMOVING", OFF) \
	_(SKIPPED, "SKIPPED", OFF) \
	_(SLEEPING, "SLEEPING", OFF) \
	_(SUCCESS, "SUCCESS", OK) \
	_(WAITING, "WAITING", BUSY) \
	_(UNKNOWN, "UNKNOWN", OFF)

enum railway_status {
#define RAILWAY_STATUS_ENUM(id, name, kind) RAILWAY_STATUS_##id,
	RAILWAY_STATUS_INFO(RAILWAY_STATUS_ENUM)
#undef RAILWAY_STATUS_ENUM
	RAILWAY_STATUS_COUNT
};

enum railway_kind {
	RAILWAY_KIND_OK,
	RAILWAY_KIND_BUSY,
	RAILWAY_KIND_FAIL,
	RAILWAY_KIND_OFF,
};

/* "SUCCESS", ...; "UNKNOWN" for out-of-range values. */
const char *railway_status_name(enum railway_status s);

/* How to show S. */
enum railway_kind railway_status_kind(enum railway_status s);

/* Status named TEXT (exact, as the API spells it); UNKNOWN otherwise. */
enum railway_status railway_status_parse(const char *text);

/* --- snapshots ---------------------------------------------------------- */

/* One deployment.  Every string is non-NULL ("" when unknown) and
 * sanitised. */
struct railway_deployment {
	char *id;		/* kept as the API's string */
	enum railway_status status;
	char *status_text;	/* the status as sent (differs from the name for UNKNOWN) */
	int64_t created_ms;	/* epoch ms, 0 = unknown */
	int64_t status_updated_ms;	/* epoch ms, 0 = unknown */
	char *version;		/* image tag ("v2"), else the short commit hash, else "" */
	char *commit;		/* full commit hash or "" */
	char *image;		/* image reference ("sandbox-app:v2") or "" */
	char *message;		/* commit message or "" */
	char *creator;		/* creator's name, else e-mail, else "" */
	int can_rollback;
	int can_redeploy;
	int stopped;		/* deploymentStopped */
	int instances;		/* instances listed (not REMOVED) */
	int instances_running;	/* of which RUNNING */
	int instances_crashed;	/* of which CRASHED, EXITED or RESTARTING */
};

/* Replicas of one service in one region. */
struct railway_region {
	char *name;		/* "us-west2" */
	int desired;		/* from environment.config multiRegionConfig; -1 = not configured */
	int running;		/* RUNNING instances of the active deployment seen there */
};

/* A metric series, oldest first; values in the measurement's unit. */
struct railway_point {
	int64_t ts;		/* epoch s */
	double value;
};

struct railway_series {
	struct railway_point *points;
	size_t n;
};

struct railway_service {
	char *id;
	char *name;
	char *instance_id;	/* service instance in the environment, or "" */
	char *image;		/* source image ("sandbox-app:v2") or "" */
	char *repo;		/* source repository or "" */
	char *source_version;	/* tag of the source image, or "" */
	char *domain;		/* first service domain, or "" */
	char *region;		/* the instance's primary region, or "" */
	struct railway_deployment *latest;	/* newest deployment, or NULL */
	struct railway_deployment *active;	/* the one serving (SUCCESS/CRASHED/SLEEPING), or NULL */
	struct railway_region *regions;		/* desired ∪ observed, sorted by name */
	size_t n_regions;
	int desired_total;	/* sum of the configured regions, -1 = unknown */
	int running_total;	/* RUNNING instances of the active deployment */
	struct railway_series cpu;	/* vCPUs used, summed over replicas */
	struct railway_series mem;	/* GB resident, summed over replicas */
};

/* STORE_TOPIC_SERVICES.  Immutable; use railway_project_snap_ref/unref. */
struct railway_project_snap {
	int refs;
	char *project_id, *project_name;
	char *environment_id, *environment_name;
	struct railway_service *services;	/* in the project's order */
	size_t n_services;
	int64_t fetched_ms;		/* wall ms of the reply */
	int64_t metrics_from_ms;	/* start of the metric window, 0 = no metrics */
	int metrics_step_s;		/* sample spacing */
};

/* Deployment history of one service, newest first. */
struct railway_service_history {
	char *service_id;
	char *service_name;
	struct railway_deployment *deployments;
	size_t n;
};

/* STORE_TOPIC_DEPLOYMENTS.  Immutable; use railway_history_snap_ref/unref. */
struct railway_history_snap {
	int refs;
	char *environment_id;
	struct railway_service_history *services;	/* project order; services without deployments included */
	size_t n_services;
	int64_t fetched_ms;
};

#define RAILWAY_FP_LEN 8	/* hex digits of a value fingerprint */

/* One variable.  The value itself is never kept: FINGERPRINT is the first
 * RAILWAY_FP_LEN hex digits of the 64-bit FNV-1a hash of the value as
 * stored (unrendered; "${{shared.X}}" for a reference), "" when the API
 * did not return the value.  It tells two
 * values apart (diffs, "did the rotation happen") and is NOT cryptographic:
 * it must not be shown as proof of anything, and a short or guessable value
 * can be recovered from it by trying candidates. */
struct railway_var {
	char *name;		/* sanitised */
	size_t value_len;	/* bytes */
	char fingerprint[RAILWAY_FP_LEN + 1];
	int is_reference;	/* the value contains "${{" */
};

/* Variables of one service, or the environment's shared variables. */
struct railway_var_set {
	char *service_id;	/* "" for shared variables */
	char *service_name;	/* "shared" for shared variables */
	struct railway_var *vars;	/* sorted by name */
	size_t n;
};

/* STORE_TOPIC_VARS.  Immutable; use railway_vars_snap_ref/unref. */
struct railway_vars_snap {
	int refs;
	char *environment_id;
	struct railway_var_set *sets;	/* shared first, then services in project order */
	size_t n_sets;
	int64_t fetched_ms;
};

/* Take or drop a reference.  A view that keeps a snapshot beyond its next
 * update takes one; the store holds one for the published snapshot.  unref
 * is NULL-safe and frees at zero. */
void railway_project_snap_ref(struct railway_project_snap *s);
void railway_project_snap_unref(struct railway_project_snap *s);
void railway_history_snap_ref(struct railway_history_snap *s);
void railway_history_snap_unref(struct railway_history_snap *s);
void railway_vars_snap_ref(struct railway_vars_snap *s);
void railway_vars_snap_unref(struct railway_vars_snap *s);

/* Service ID (exact) in SNAP, or NULL. */
const struct railway_service *railway_project_find(const struct railway_project_snap *snap,
    const char *id);

/* History of service ID in SNAP, or NULL. */
const struct railway_service_history *railway_history_find(const struct railway_history_snap *snap,
    const char *service_id);

/* --- the client --------------------------------------------------------- */

enum railway_token_kind {
	RAILWAY_TOKEN_BEARER,	/* account or workspace token: Authorization: Bearer */
	RAILWAY_TOKEN_PROJECT,	/* project token: Project-Access-Token */
};

struct railway_opts {
	const char *endpoint;	/* NULL = RAILWAY_DEFAULT_ENDPOINT */
	const char *token;	/* required; copied */
	enum railway_token_kind token_kind;
	const char *token_env;	/* where the token came from, for messages ("RAILWAY_TOKEN"), or NULL */
	const char *project_id;	/* required with a bearer token; NULL = the project token's */
	const char *environment;	/* id or name; NULL = the project token's, else "production" */
	int64_t poll_ms;	/* project snapshot interval; 0 = 10 s (3 s while a deployment
				 * is in progress, x1.5 after 6 snapshots without a change;
				 * the budget governor stretches it further) */
	int64_t history_ms;	/* deployment history at least this often; 0 = 2 min (and
				 * whenever a snapshot shows a change) */
	int64_t vars_ms;	/* variables at least this often; 0 = 5 min (and after every variable change) */
	int history_limit;	/* deployments fetched per environment; 0 = 100 */
	int64_t metrics_window_ms;	/* sparkline span; 0 = 30 min */
	long timeout_ms;	/* per request; 0 = 20 s */
	const char *ca_file;	/* extra CA bundle, or NULL */
	struct ws_ctx *ws;	/* WebSocket context for subscriptions (outlives the
				 * client), or NULL: everything is polled.  With it,
				 * a deployment in progress is followed through the
				 * `deployment` subscription instead of fast polling,
				 * and logs can be followed (railway_logs_open). */
};

/* What the rate limit and the governor look like now (status bar). */
struct railway_budget {
	int known;		/* a reply carried X-RateLimit-* headers */
	long limit;		/* X-RateLimit-Limit, -1 unknown */
	long remaining;		/* X-RateLimit-Remaining, -1 unknown */
	int64_t reset_ms;	/* wall ms of X-RateLimit-Reset, 0 unknown */
	int64_t wait_until_ms;	/* wall ms a 429's Retry-After holds every request, 0 = none */
	int64_t poll_ms;	/* poll interval the governor chose */
	int polling_paused;	/* too little budget left: only user actions are sent */
	size_t queued;		/* mutations waiting for the rate limit */
	unsigned long requests;	/* requests sent since railway_new */
};

/* Outcome of one mutation or reveal, given to its callback.  Everything
 * it points to is valid only during the callback; copy what you keep. */
struct railway_result {
	int ok;
	int cancelled;		/* railway_stop/free came first; the outcome is unknown when sent */
	const char *op;		/* "deploy", "redeploy", "restart", "stop", "rollback", "scale", "var-set", "var-delete", "var-reveal" */
	const char *error;	/* in words, sanitised; "" when ok */
	int64_t duration_ms;	/* from the call to the reply, waits included */
	const char *deployment_id;	/* new deployment (deploy, redeploy) or "" */
	const char *value;	/* var-reveal only: the value (NOT sanitised, may hold any byte), else NULL */
	size_t value_len;
};

typedef void railway_done_fn(const struct railway_result *r, void *ud);

struct railway;

/* Create a client on LOOP that publishes into STORE through HTTP (both
 * outlive it).  Checks the options (token present, project id or project
 * token, endpoint http(s)); NULL and E otherwise.  Nothing is sent before
 * railway_start. */
struct railway *railway_new(uv_loop_t *loop, struct store *store, struct http *http,
    const struct railway_opts *opts, struct err *e);

/* Resolve the project and environment, then poll. */
void railway_start(struct railway *rw);

/* Cancel requests in flight and close the timers; pending mutations get
 * their callback now with cancelled = 1 (from inside this call).  The loop
 * must run afterwards so the timers close; call it before http_free.
 * railway_start may start it again. */
void railway_stop(struct railway *rw);

/* Stop (if running) and free *RWP; NULL-safe; sets *RWP to NULL. */
void railway_free(struct railway **rwp);

/* Refresh the snapshot, deployments and variables now (a user pressed a
 * key).  Ignored while a 429 wait holds or a refresh is in flight. */
void railway_refresh_now(struct railway *rw);

/* Copy the budget state into OUT (limit and remaining -1 when RW is NULL). */
void railway_budget_get(const struct railway *rw, struct railway_budget *out);

/* The deployment of SERVICE_ID that serves (else its latest) in the
 * latest snapshot, or NULL; valid until the next snapshot. */
const char *railway_active_deployment_id(const struct railway *rw, const char *service_id);

/* Environment id in use, "" until resolved (or when RW is NULL). */
const char *railway_environment_id(const struct railway *rw);

/* --- mutations ------------------------------------------------------------
 * Each returns 0 when queued: DONE(result, UD) then runs exactly once, later,
 * from the loop (never from inside the call), or from railway_stop with
 * cancelled = 1.  -1 and E when the arguments are invalid or the client
 * has no environment yet (DONE does not run).  Mutations bypass the poll
 * governor but not a 429: they wait for Retry-After (the status bar shows
 * "waiting for the rate limit (Ns)" through railway_budget.queued) and go
 * out one at a time in order.  Success triggers a refresh.  The caller has
 * already passed the policy check (see the top of this file).  DONE may
 * call any function here except railway_stop and railway_free. */

/* Deploy SERVICE_ID's latest source (serviceInstanceDeployV2); COMMIT
 * (NULL = latest) pins a commit or version.  deployment_id is the new one. */
int railway_deploy(struct railway *rw, const char *service_id, const char *commit,
    railway_done_fn *done, void *ud, struct err *e);

/* Redeploy DEPLOYMENT_ID with the current variables (deploymentRedeploy). */
int railway_redeploy(struct railway *rw, const char *deployment_id,
    railway_done_fn *done, void *ud, struct err *e);

/* Restart the replicas of active deployment DEPLOYMENT_ID (deploymentRestart). */
int railway_restart(struct railway *rw, const char *deployment_id,
    railway_done_fn *done, void *ud, struct err *e);

/* Stop DEPLOYMENT_ID (deploymentStop): the service stops serving. */
int railway_stop_deployment(struct railway *rw, const char *deployment_id,
    railway_done_fn *done, void *ud, struct err *e);

/* Roll back to DEPLOYMENT_ID (deploymentRollback): a new deployment with its
 * version and variables.  The API does not return the new id. */
int railway_rollback(struct railway *rw, const char *deployment_id,
    railway_done_fn *done, void *ud, struct err *e);

/* Set SERVICE_ID's replicas in REGION to N (0..50) with
 * environmentPatchCommit {"services":{ID:{"deploy":{"multiRegionConfig":
 * {REGION:{"numReplicas":N}}}}}}. */
int railway_scale(struct railway *rw, const char *service_id, const char *region,
    int n, railway_done_fn *done, void *ud, struct err *e);

/* Create or change variable NAME of SERVICE_ID (NULL = shared) to VALUE
 * (LEN bytes, copied, wiped from memory after sending); SKIP_DEPLOYS stages
 * it for the next deploy instead of redeploying now (variableUpsert). */
int railway_var_set(struct railway *rw, const char *service_id, const char *name,
    const char *value, size_t len, int skip_deploys, railway_done_fn *done, void *ud,
    struct err *e);

/* Delete variable NAME of SERVICE_ID (NULL = shared) (variableDelete).  The
 * public API has no skipDeploys here: the change takes effect on the next
 * deploy, which the caller may offer. */
int railway_var_delete(struct railway *rw, const char *service_id, const char *name,
    railway_done_fn *done, void *ud, struct err *e);

/* Fetch the value of NAME for SERVICE_ID (NULL = shared) as the service
 * sees it (rendered) and give it to DONE in result.value; it is not kept
 * anywhere else and the reply's parse tree is wiped.  Not a mutation, but
 * it reveals a secret: the caller audits it. */
int railway_var_reveal(struct railway *rw, const char *service_id, const char *name,
    railway_done_fn *done, void *ud, struct err *e);

/* --- logs ----------------------------------------------------------------- */

struct railway_log_attr {
	const char *key;
	const char *value;	/* as sent: JSON text ("\"GET\"", "200") */
};

/* One log line.  Valid only during the callback; copy what you keep.
 * Strings are as the API sent them (NOT sanitised: whoever shows them
 * sanitises, e.g. the log engine at ingest) and never NULL ("" when
 * absent). */
struct railway_log {
	int64_t ts_ms;			/* epoch ms of TIMESTAMP, 0 when malformed */
	const char *timestamp;		/* RFC 3339 as sent (nanoseconds kept) */
	const char *severity;		/* "info", "error", ... or "" */
	const char *message;
	const char *service_id;
	const char *service_name;	/* from the latest project snapshot, else "" */
	const char *deployment_id;
	const char *replica_id;		/* deploymentInstanceId */
	const struct railway_log_attr *attrs;
	size_t n_attrs;
};

struct railway_logs_opts {
	const char *service_id;	/* only this service's lines, NULL = every service */
	const char *filter;	/* Railway filter expression for the API, or NULL */
	int backlog;		/* recent lines first: 0 = 100, < 0 = none, at most 5000 */
	int follow;		/* 1: subscribe and keep following; 0: one query */
	int64_t since_ms;	/* > 0: the lines from this time (epoch ms) on,
				 * at most 5000, instead of the backlog */
	const char *deployment_id;	/* not following: the last BACKLOG lines of this
					 * deployment (deploymentLogs), or NULL */
};

/* Callbacks run from the loop, never from inside railway_logs_open or
 * railway_logs_close; each may call railway_logs_close. */
struct railway_logs_cbs {
	void (*on_line)(const struct railway_log *l, void *ud);		/* required */
	/* following: the stream went live, or stopped with REASON (it
	 * reconnects by itself); may be NULL */
	void (*on_state)(int live, const char *reason, void *ud);
	/* the query answered (ERROR NULL) or failed, or the stream ended for
	 * good (a final error, or the server completed it); may be NULL */
	void (*on_end)(const char *error, void *ud);
};

struct railway_logs_stats {
	unsigned long lines;		/* delivered */
	unsigned long duplicates;	/* dropped: seen already */
	unsigned long dropped_old;	/* dropped: older than the deduplication memory */
	unsigned long malformed;	/* entries that were not a log line */
	unsigned reconnects;		/* resubscriptions so far */
};

struct railway_logs;

/* Follow (or fetch once) the logs of RW's environment on LOOP.  A
 * following stream is a subscription (RW needs railway_opts.ws): across
 * reconnects it resumes after the last line seen and drops the lines it
 * was sent twice (by timestamp, message and replica), so none is lost or
 * repeated as long as the gap holds at most 5000 lines.  Waits for the
 * environment to be resolved.  NULL and E on bad arguments.  Close every
 * stream before railway_free. */
struct railway_logs *railway_logs_open(struct railway *rw, uv_loop_t *loop,
    const struct railway_logs_opts *o, const struct railway_logs_cbs *cbs, void *ud,
    struct err *e);

/* Stop and free *LP; NULL-safe; NULLs *LP.  No callback runs afterwards. */
void railway_logs_close(struct railway_logs **lp);

/* Counters of L. */
void railway_logs_stats_get(const struct railway_logs *l, struct railway_logs_stats *out);

/* --- helpers ------------------------------------------------------------ */

/* Read a token from environment variable ENV_NAME (NULL/"" = skip) or else
 * from FILE (NULL/"" = skip), trimmed of surrounding blanks; *TOKEN gets a
 * copy the caller frees.  When FILE is readable by group or others, WARN
 * (may be NULL) gets a sentence saying so, else "".  -1 and E when neither
 * gives a token. */
int railway_token_load(const char *env_name, const char *file, char **token,
    char *warn, size_t warn_len, struct err *e);

/* --- pure helpers, exported for tests ----------------------------------- */

/* FNV-1a 64 fingerprint of LEN bytes: RAILWAY_FP_LEN hex digits into OUT. */
void railway_fingerprint(const void *data, size_t len, char out[RAILWAY_FP_LEN + 1]);

/* Retry-After VALUE (delta seconds or an HTTP date) in ms from NOW_MS (wall);
 * -1 when malformed.  Past dates give 0. */
int64_t railway_retry_after_ms(const char *value, int64_t now_ms);

/* Poll interval the governor picks for BASE_MS when LIMIT requests per
 * window are allowed and REMAINING are left (either < 0 = unknown): x2
 * below 50 %, x4 below 20 %; -1 (stop polling) below RAILWAY_RESERVE. */
int64_t railway_governor_ms(int64_t base_ms, long limit, long remaining);

#define RAILWAY_RESERVE 10	/* requests always kept for user actions */

/* --- volumes and their backups ------------------------------------------------
 * A service's volume (its instance in the environment), the provider's
 * backups of it and their schedule: Railway's volume backups (in the
 * sandbox, real pgBackRest backups of the database).  Nothing here is
 * published in the store: a caller asks with railway_volumes_list and gets
 * one immutable answer.  Creating and restoring a backup are workflows on
 * the provider's side; the functions below follow them (workflowStatus
 * every second).  Implemented in src/providers/railway_volumes.c. */

/* Backup schedule kinds (VolumeInstanceBackupScheduleKind), as bits. */
enum railway_schedule_kind {
	RAILWAY_SCHEDULE_DAILY = 1 << 0,
	RAILWAY_SCHEDULE_WEEKLY = 1 << 1,
	RAILWAY_SCHEDULE_MONTHLY = 1 << 2,
};

#define RAILWAY_SCHEDULE_ALL 7u
#define RAILWAY_VOLUME_MAX_BACKUPS 1000	/* backups kept from one reply (the newest) */

/* "DAILY,WEEKLY" (in that order) for the bits of KINDS, "none" for 0, into
 * BUF. */
void railway_schedule_format(unsigned kinds, char *buf, size_t len);

/* KINDS from TEXT: kind names separated by commas, any case and order
 * ("weekly,DAILY"), or "none".  -1 and E for anything else. */
int railway_schedule_parse(const char *text, unsigned *kinds, struct err *e);

/* One backup.  Strings are sanitised and never NULL ("" when absent). */
struct railway_volume_backup {
	char *id;		/* pass it to railway_volume_backup_restore */
	char *external_id;	/* the provider's own name (the pgBackRest label in the sandbox) */
	char *name;		/* "" when unnamed */
	char *schedule_id;	/* the schedule that made it, "" = taken by hand */
	char *creator_id;	/* "" when unknown */
	int64_t created_ms;	/* epoch ms, 0 = unknown */
	int64_t expires_ms;	/* epoch ms, 0 = kept until deleted (or unknown) */
	int64_t used_mb;	/* MB of its own, -1 = unknown */
	int64_t referenced_mb;	/* MB it references, -1 = unknown */
	int64_t volume_mb;	/* size of the volume it was taken of, -1 = unknown */
};

/* One schedule entry. */
struct railway_volume_schedule {
	char *id;
	enum railway_schedule_kind kind;
	char *name;		/* "Daily" */
	char *cron;		/* "0 0 * * *" or "" */
	int64_t retention_s;	/* how long its backups are kept, -1 = unknown */
	int64_t created_ms;
};

/* A service's volume, its backups and its schedule.  Immutable and
 * reference-counted: the callback's reference ends when it returns; take
 * one with railway_volumes_ref to keep it (a pane until its next fetch). */
struct railway_volumes {
	int refs;
	char *service_id;
	char *service_name;	/* from the latest project snapshot, else "" */
	char *environment_id;
	char *instance_id;	/* the volume instance: "" when the service has no volume */
	char *volume_id, *volume_name;
	char *mount_path;	/* "/var/lib/postgresql/data" */
	char *state;		/* "READY", "RESTORING", ... or "" */
	char *region;		/* or "" */
	double used_mb;		/* currentSizeMB, -1 = unknown */
	int64_t size_mb;	/* the volume's size, -1 = unknown */
	struct railway_volume_backup *backups;	/* newest first */
	size_t n_backups;
	size_t n_dropped;	/* backups left out: malformed, or beyond RAILWAY_VOLUME_MAX_BACKUPS */
	struct railway_volume_schedule *schedules;	/* DAILY, WEEKLY, MONTHLY order */
	size_t n_schedules;
	unsigned schedule_kinds;	/* the bits of the schedules */
	int64_t fetched_ms;	/* wall ms of the answer */
};

void railway_volumes_ref(struct railway_volumes *v);
void railway_volumes_unref(struct railway_volumes *v);	/* NULL-safe */

/* The answer to railway_volumes_list: V (never NULL without ERROR) or
 * ERROR in words (sanitised; V NULL).  A service without a volume is an
 * answer, not an error: V->instance_id is "". */
typedef void railway_volumes_fn(struct railway_volumes *v, const char *error, void *ud);

/* Fetch the volume of SERVICE_ID in RW's environment (volumeInstances), then
 * its backups and schedule (volumeInstanceBackupList and
 * volumeInstanceBackupScheduleList, one request): two reads through the
 * action queue (429 waits; the poll governor does not slow them).  DONE
 * runs exactly once, later, from the loop, unless railway_volumes_forget
 * drops it; railway_stop makes it run with an error.  -1 and E (DONE does
 * not run) when RW has no environment yet or SERVICE_ID is empty.  A reply
 * with a missing list, wrong types or a list over RAILWAY_VOLUME_MAX_BACKUPS
 * is answered with an error naming it, or with what could be read (and
 * n_dropped). */
int railway_volumes_list(struct railway *rw, const char *service_id, railway_volumes_fn *done,
    void *ud, struct err *e);

/* Drop the pending railway_volumes_list answers for UD: their DONE never
 * runs (a pane going away).  Mutations are not affected. */
void railway_volumes_forget(struct railway *rw, void *ud);

/* A workflow followed by a volume mutation, for its PROGRESS callback.
 * Valid only during the callback. */
struct railway_volume_progress {
	const char *op;		/* "volume-backup", "volume-restore" */
	const char *step;	/* in words: "backing up", "staging the restore", "committing" */
	const char *workflow_id;	/* "" before the provider named it */
	const char *status;	/* the workflow's status as sent ("Running", "Complete"),
				 * "" before the first answer */
	const char *detail;	/* the committed patch's id after "committing", else "" */
	int64_t elapsed_ms;	/* since the call */
};

typedef void railway_volume_progress_fn(const struct railway_volume_progress *p, void *ud);

/* The volume mutations.  Like the mutations above: 0 when queued and DONE
 * then runs exactly once, later, from the loop (or from railway_stop with
 * cancelled = 1; a workflow already started goes on); -1 and E on bad
 * arguments.  result.op is "volume-backup", "volume-restore" or
 * "volume-schedule"; the caller has passed the policy (policy_redeem).
 * PROGRESS (may be NULL) runs whenever the workflow's id or status or the
 * step changes, from the loop, before DONE.  A workflow is followed for at
 * most an hour; five failed status reads in a row end the following with
 * an error (the workflow may still finish). */

/* Back up VOLUME_INSTANCE_ID (volumeInstanceBackupCreate) as NAME (NULL =
 * the provider's default, "Manual"); DONE when the provider took it, or
 * with WAIT when its workflow completed (failed: ok 0 with its error). */
int railway_volume_backup_create(struct railway *rw, const char *volume_instance_id,
    const char *name, int wait, railway_volume_progress_fn *progress, railway_done_fn *done,
    void *ud, struct err *e);

/* Restore backup BACKUP_ID over VOLUME_INSTANCE_ID: check that the
 * environment has nothing staged, stage the restore
 * (volumeInstanceBackupRestore) and follow its workflow, check that the
 * staged change is this volume's restore and nothing else, then commit it
 * (environmentPatchCommitStaged): the service redeploys on the restored
 * volume (follow it through the snapshots; the client refreshes them).
 * Anything else staged refuses before staging (nothing done), or after it
 * leaves the restore staged and says so: a commit would apply it too. */
int railway_volume_backup_restore(struct railway *rw, const char *volume_instance_id,
    const char *backup_id, railway_volume_progress_fn *progress, railway_done_fn *done,
    void *ud, struct err *e);

/* Replace the backup schedule of VOLUME_INSTANCE_ID with KINDS (bits of
 * enum railway_schedule_kind; 0 removes it) (volumeInstanceBackupScheduleUpdate). */
int railway_volume_schedule_set(struct railway *rw, const char *volume_instance_id,
    unsigned kinds, railway_done_fn *done, void *ud, struct err *e);

#endif
