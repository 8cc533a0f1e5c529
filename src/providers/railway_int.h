/* railway_int.h - what railway.c lends the other files of the Railway
 * provider (railway_logs.c, railway_volumes.c).  Not a public interface:
 * include it only from src/providers/railway*.c.
 */
#ifndef SIGNALBOX_RAILWAY_INT_H
#define SIGNALBOX_RAILWAY_INT_H

#include <stdint.h>
#include <uv.h>

#include "signalbox/err.h"

struct cJSON;
struct gqlws;
struct railway;

/* The GraphQL documents (src/providers/gql/NAME.graphql), embedded. */
#define RW_DOC_INFO(_) \
	_(PROJECT_TOKEN, "project_token") \
	_(RESOLVE, "resolve") \
	_(SNAPSHOT, "snapshot") \
	_(HISTORY, "history") \
	_(VARS, "vars") \
	_(VAR_REVEAL, "var_reveal") \
	_(DEPLOY, "deploy") \
	_(REDEPLOY, "redeploy") \
	_(RESTART, "restart") \
	_(STOP, "stop") \
	_(ROLLBACK, "rollback") \
	_(SCALE, "scale") \
	_(VAR_SET, "var_set") \
	_(VAR_DELETE, "var_delete") \
	_(DEPLOYMENT_WATCH, "deployment_watch") \
	_(ENV_LOGS, "env_logs") \
	_(ENV_LOGS_QUERY, "env_logs_query") \
	_(DEPLOYMENT_LOGS, "deployment_logs") \
	_(VOLUMES, "volumes") \
	_(VOLUME_BACKUPS, "volume_backups") \
	_(VOLUME_BACKUP_CREATE, "volume_backup_create") \
	_(VOLUME_BACKUP_RESTORE, "volume_backup_restore") \
	_(VOLUME_RESTORE_CHECK, "volume_restore_check") \
	_(VOLUME_COMMIT_STAGED, "volume_commit_staged") \
	_(VOLUME_SCHEDULE_SET, "volume_schedule_set") \
	_(WORKFLOW_STATUS, "workflow_status")

enum rw_doc {
#define RW_DOC_ENUM(id, file) RW_DOC_##id,
	RW_DOC_INFO(RW_DOC_ENUM)
#undef RW_DOC_ENUM
	RW_DOC_COUNT
};

/* The reply to a read made with railway_int_read: DATA (the reply's
 * "data", valid only during the call) and ERROR NULL, or DATA NULL and
 * ERROR in words (sanitised; also when railway_stop cancelled it). */
typedef void railway_int_read_fn(struct railway *rw, const struct cJSON *data,
    const char *error, void *ud);

/* Send document DOC with VARIABLES (a JSON object as text, copied) through
 * the action queue (429 waits, one at a time, not slowed by the poll
 * governor): a read a user asked for, not a mutation.  FN runs exactly
 * once, later, from the loop.  -1 and E when the client cannot take it. */
int railway_int_read(struct railway *rw, enum rw_doc doc, const char *variables,
    railway_int_read_fn *fn, void *ud, struct err *e);

/* The subscription client, created on first use; NULL and E when the
 * client was made without a WebSocket context (railway_opts.ws). */
struct gqlws *railway_int_live(struct railway *rw, struct err *e);

/* The subscription connection went up (OPEN 1) or down (REASON in words). */
typedef void railway_int_live_fn(int open, const char *reason, void *ud);

/* Call FN(open, reason, UD) on every change of the subscription
 * connection's state, until railway_int_live_unlisten(RW, FN, UD).  FN may
 * unlisten itself or others. */
void railway_int_live_listen(struct railway *rw, railway_int_live_fn *fn, void *ud);
void railway_int_live_unlisten(struct railway *rw, railway_int_live_fn *fn, void *ud);

/* The text of document DOC. */
const char *railway_int_doc(const struct railway *rw, enum rw_doc doc);

/* Name of service ID in the latest snapshot, or NULL. */
const char *railway_int_service_name(const struct railway *rw, const char *id);

/* RFC 3339 text to epoch ms; 0 when malformed. */
int64_t railway_int_parse_time(const char *s);

/* railway_int_read for a mutation answered as data (volume backups): the
 * same queue, but a transport failure adds that the request may have
 * reached Railway.  FN runs exactly once, later, from the loop. */
int railway_int_write(struct railway *rw, enum rw_doc doc, const char *variables,
    railway_int_read_fn *fn, void *ud, struct err *e);

/* The loop RW runs on. */
uv_loop_t *railway_int_loop(const struct railway *rw);

/* N bytes of S cut at a character boundary to at most CAP bytes. */
size_t railway_int_cut(const char *s, size_t n, size_t cap);

/* A sanitised copy (text_sanitize) of N bytes of S, at most CAP of them
 * ("" for NULL); the caller frees it. */
char *railway_int_clean(const char *s, size_t n, size_t cap);

/* Whether RW runs (railway_start, and no railway_stop since): a read that
 * fails while it does not was cancelled. */
int railway_int_running(const struct railway *rw);

/* railway_volumes.c: end RW's volume operations that wait between polls
 * (their DONE runs with cancelled = 1).  railway_stop calls it after the
 * queue was emptied. */
void railway_int_volumes_stop(struct railway *rw);

#endif
