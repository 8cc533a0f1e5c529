/* railway_volumes.c - a service's volume, its backups and their schedule
 * (railway.h, "volumes and their backups").
 *
 * Every request goes through railway.c's action queue (railway_int_read and
 * railway_int_write): 429 waits apply, the poll governor does not.  One
 * struct rv_op is one call of the API below; it walks its steps from the
 * replies, and between two workflowStatus reads it waits on a timer of its
 * own.  The live operations of every client are on one list, so that
 * railway_stop (through railway_int_volumes_stop) ends those waiting on a
 * timer; those with a request in the queue are ended by the queue itself.
 *
 * A restore is: check (the volume, and nothing staged in the environment),
 * stage (volumeInstanceBackupRestore), follow the workflow, check again
 * (what is staged is this volume's restore and nothing else), commit
 * (environmentPatchCommitStaged).  The commit applies everything staged,
 * which is why both checks are there.
 *
 * Replies are untrusted: every string is cut and sanitised, numbers may
 * come as strings (long ones are quoted by railway.c), a list that is
 * missing or not a list is an error in words, entries that are not
 * objects or have no id are dropped and counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "signalbox/diag.h"
#include "signalbox/loop.h"
#include "signalbox/railway.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#include "railway_int.h"

enum {
	RV_POLL_MS = 1000,			/* workflowStatus interval */
	RV_MAX_FOLLOW_MS = 60 * 60 * 1000,	/* a workflow is followed this long */
	RV_MAX_POLL_FAILURES = 5,		/* failed status reads in a row */
	RV_CAP_ID = 128,
	RV_CAP_NAME = 256,
	RV_ERR_LEN = 640,
};

static const struct {
	const char *name;
	enum railway_schedule_kind bit;
} rv_kinds[] = {
	{ "DAILY", RAILWAY_SCHEDULE_DAILY },
	{ "WEEKLY", RAILWAY_SCHEDULE_WEEKLY },
	{ "MONTHLY", RAILWAY_SCHEDULE_MONTHLY },
};

enum rv_kind { RV_LIST, RV_BACKUP, RV_RESTORE, RV_SCHEDULE };

enum rv_step {
	RV_S_VOLUMES,		/* list: the environment's volume instances */
	RV_S_BACKUPS,		/* list: backups and schedule */
	RV_S_CREATE,		/* backup: volumeInstanceBackupCreate */
	RV_S_CHECK,		/* restore: before staging */
	RV_S_STAGE,		/* restore: volumeInstanceBackupRestore */
	RV_S_POLL,		/* backup, restore: workflowStatus */
	RV_S_VERIFY,		/* restore: what is staged */
	RV_S_COMMIT,		/* restore: environmentPatchCommitStaged */
	RV_S_SCHEDULE,		/* schedule: volumeInstanceBackupScheduleUpdate */
};

struct rv_op {
	struct rv_op *next;
	struct railway *rw;
	enum rv_kind kind;
	enum rv_step step;
	const char *name;	/* result.op (static) */
	const char *words;	/* the step in words, for progress (static) */
	char *service_id;
	char *instance_id;
	char *backup_id;
	char *backup_name;	/* create: NULL = the provider's default */
	unsigned kinds;
	int wait;
	char *workflow_id;	/* NULL until known */
	char status[32];	/* the workflow's last status, sanitised */
	char *volume_id;	/* restore: from the first check */
	char *patch_id;		/* restore: the commit's answer */
	railway_volumes_fn *list_done;
	railway_done_fn *done;
	railway_volume_progress_fn *progress;
	void *ud;
	struct loop_timer *timer;	/* the wait between two status reads */
	uint64_t t0;		/* loop ms at the call */
	uint64_t follow_t0;	/* loop ms the workflow was named */
	int pending;		/* a request of ours is in the queue */
	int mutated;		/* a mutation of ours was answered: cancelling leaves it */
	int forgotten;		/* railway_volumes_forget: no DONE */
	int poll_failures;
	struct railway_volumes *v;	/* list: being filled */
};

static struct rv_op *rv_ops;	/* live operations of every client */

/* --- small helpers ------------------------------------------------------ */

/* Sanitised copy of O.KEY when it is a string (cut to CAP bytes), else "". */
static char *
rv_text(const cJSON *o, const char *key, size_t cap)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return xstrdup("");
	return railway_int_clean(v->valuestring, strlen(v->valuestring), cap);
}

static const cJSON *
rv_get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* O.KEY as a number (a JSON number or a numeric string); DEF otherwise. */
static double
rv_num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = rv_get(o, key);
	char *end;
	double d;

	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring != NULL && v->valuestring[0] != '\0') {
		d = strtod(v->valuestring, &end);
		if (*end == '\0')
			return d;
	}
	return def;
}

/* O.KEY as a whole number >= 0, -1 when absent, negative or absurd. */
static int64_t
rv_count(const cJSON *o, const char *key)
{
	double d = rv_num(o, key, -1);

	return d >= 0 && d < 9e15 ? (int64_t)d : -1;
}

static int64_t
rv_time(const cJSON *o, const char *key)
{
	const cJSON *v = rv_get(o, key);

	return cJSON_IsString(v) && v->valuestring != NULL ?
	    railway_int_parse_time(v->valuestring) : 0;
}

static void
rv_json_oom(const void *p)
{
	if (p == NULL)
		xalloc_die("out of memory (cJSON)");
}

static int
rv_check_id(const char *what, const char *id, struct err *e)
{
	if (id == NULL || id[0] == '\0')
		return err_set(e, ERR_INVALID, "no %s given", what);
	if (strlen(id) > RV_CAP_ID)
		return err_set(e, ERR_INVALID, "the %s is too long", what);
	return 0;
}

/* --- schedule kinds ------------------------------------------------------ */

void
railway_schedule_format(unsigned kinds, char *buf, size_t len)
{
	size_t i, used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < ARRAY_LEN(rv_kinds); i++)
		if ((kinds & rv_kinds[i].bit) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    used > 0 ? "," : "", rv_kinds[i].name);
	if (buf[0] == '\0')
		util_strlcpy(buf, "none", len);
}

int
railway_schedule_parse(const char *text, unsigned *kinds, struct err *e)
{
	const char *p = text, *end;
	size_t i, n;

	*kinds = 0;
	if (text == NULL || strcasecmp(text, "none") == 0)
		return 0;
	if (text[0] == '\0')
		return err_set(e, ERR_INVALID, "no schedule given: DAILY, WEEKLY, MONTHLY "
		    "separated by commas, or none");
	for (;;) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < ARRAY_LEN(rv_kinds); i++)
			if (n == strlen(rv_kinds[i].name) && strncasecmp(p, rv_kinds[i].name, n) == 0)
				break;
		if (i == ARRAY_LEN(rv_kinds)) {
			*kinds = 0;
			return err_set(e, ERR_INVALID, "'%.*s' is not a backup schedule: DAILY, "
			    "WEEKLY, MONTHLY separated by commas, or none", (int)(n > 32 ? 32 : n), p);
		}
		*kinds |= rv_kinds[i].bit;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* --- the answer of a list ----------------------------------------------- */

void
railway_volumes_ref(struct railway_volumes *v)
{
	if (v != NULL)
		v->refs++;
}

void
railway_volumes_unref(struct railway_volumes *v)
{
	size_t i;

	if (v == NULL || --v->refs > 0)
		return;
	for (i = 0; i < v->n_backups; i++) {
		struct railway_volume_backup *b = &v->backups[i];

		free(b->id);
		free(b->external_id);
		free(b->name);
		free(b->schedule_id);
		free(b->creator_id);
	}
	free(v->backups);
	for (i = 0; i < v->n_schedules; i++) {
		free(v->schedules[i].id);
		free(v->schedules[i].name);
		free(v->schedules[i].cron);
	}
	free(v->schedules);
	free(v->service_id);
	free(v->service_name);
	free(v->environment_id);
	free(v->instance_id);
	free(v->volume_id);
	free(v->volume_name);
	free(v->mount_path);
	free(v->state);
	free(v->region);
	free(v);
}

static int
rv_backup_cmp(const void *a, const void *b)
{
	const struct railway_volume_backup *x = a, *y = b;

	if (x->created_ms != y->created_ms)
		return x->created_ms > y->created_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int
rv_schedule_cmp(const void *a, const void *b)
{
	const struct railway_volume_schedule *x = a, *y = b;

	return (int)x->kind - (int)y->kind;
}

/* The volume instance of V's service in DATA (RailwayVolumes); NULL and
 * ERR when the reply is not one. */
static const cJSON *
rv_find_instance(const cJSON *data, const char *service_id, char *err, size_t len)
{
	const cJSON *edges = rv_get(rv_get(rv_get(data, "environment"), "volumeInstances"),
	    "edges"), *edge;

	if (!cJSON_IsObject(rv_get(data, "environment"))) {
		snprintf(err, len, "malformed reply: no environment in the list of volumes");
		return NULL;
	}
	if (!cJSON_IsArray(edges)) {
		snprintf(err, len, "malformed reply: no list of volume instances");
		return NULL;
	}
	cJSON_ArrayForEach(edge, edges) {
		const cJSON *node = rv_get(edge, "node"), *sid = rv_get(node, "serviceId");

		if (cJSON_IsString(rv_get(node, "id")) && cJSON_IsString(sid) &&
		    strcmp(sid->valuestring, service_id) == 0)
			return node;
	}
	return NULL;
}

static void
rv_fill_instance(struct railway_volumes *v, const cJSON *node)
{
	const cJSON *vol = rv_get(node, "volume");

	free(v->instance_id);
	free(v->volume_id);
	free(v->volume_name);
	free(v->mount_path);
	free(v->state);
	free(v->region);
	v->instance_id = rv_text(node, "id", RV_CAP_ID);
	v->volume_id = rv_text(vol, "id", RV_CAP_ID);
	v->volume_name = rv_text(vol, "name", RV_CAP_NAME);
	v->mount_path = rv_text(node, "mountPath", RV_CAP_NAME);
	v->state = rv_text(node, "state", 32);
	v->region = rv_text(node, "region", 64);
	v->used_mb = rv_num(node, "currentSizeMB", -1);
	if (v->used_mb < 0 || v->used_mb > 9e15)
		v->used_mb = -1;
	v->size_mb = rv_count(node, "sizeMB");
}

/* Backups and schedule from DATA (RailwayVolumeBackups) into V; -1 and ERR
 * when the lists are missing. */
static int
rv_fill_backups(struct railway_volumes *v, const cJSON *data, char *err, size_t len)
{
	const cJSON *list = rv_get(data, "volumeInstanceBackupList");
	const cJSON *sched = rv_get(data, "volumeInstanceBackupScheduleList");
	const cJSON *it;
	size_t cap, i;

	if (!cJSON_IsArray(list)) {
		snprintf(err, len, "malformed reply: no list of volume backups");
		return -1;
	}
	if (!cJSON_IsArray(sched)) {
		snprintf(err, len, "malformed reply: no list of backup schedules");
		return -1;
	}
	cap = (size_t)cJSON_GetArraySize(list);
	v->backups = xcalloc(cap > 0 ? cap : 1, sizeof *v->backups);
	cJSON_ArrayForEach(it, list) {
		struct railway_volume_backup *b;
		const cJSON *id = rv_get(it, "id");

		if (!cJSON_IsString(id) || id->valuestring[0] == '\0' || v->n_backups == cap) {
			v->n_dropped++;
			continue;
		}
		b = &v->backups[v->n_backups++];
		b->id = rv_text(it, "id", RV_CAP_ID);
		b->external_id = rv_text(it, "externalId", RV_CAP_NAME);
		b->name = rv_text(it, "name", RV_CAP_NAME);
		b->schedule_id = rv_text(it, "scheduleId", RV_CAP_ID);
		b->creator_id = rv_text(it, "creatorId", RV_CAP_ID);
		b->created_ms = rv_time(it, "createdAt");
		b->expires_ms = rv_time(it, "expiresAt");
		b->used_mb = rv_count(it, "usedMB");
		b->referenced_mb = rv_count(it, "referencedMB");
		b->volume_mb = rv_count(it, "volumeInstanceSizeMB");
	}
	qsort(v->backups, v->n_backups, sizeof *v->backups, rv_backup_cmp);
	if (v->n_backups > RAILWAY_VOLUME_MAX_BACKUPS) {
		/* keep the newest */
		for (i = RAILWAY_VOLUME_MAX_BACKUPS; i < v->n_backups; i++) {
			free(v->backups[i].id);
			free(v->backups[i].external_id);
			free(v->backups[i].name);
			free(v->backups[i].schedule_id);
			free(v->backups[i].creator_id);
		}
		v->n_dropped += v->n_backups - RAILWAY_VOLUME_MAX_BACKUPS;
		v->n_backups = RAILWAY_VOLUME_MAX_BACKUPS;
	}
	v->schedules = xcalloc(ARRAY_LEN(rv_kinds), sizeof *v->schedules);
	cJSON_ArrayForEach(it, sched) {
		const cJSON *kind = rv_get(it, "kind");
		struct railway_volume_schedule *s;

		for (i = 0; i < ARRAY_LEN(rv_kinds); i++)
			if (cJSON_IsString(kind) && strcmp(kind->valuestring, rv_kinds[i].name) == 0)
				break;
		if (i == ARRAY_LEN(rv_kinds) || (v->schedule_kinds & rv_kinds[i].bit)) {
			diag_log(DIAG_WARN, "railway: volume backups: a schedule entry of an "
			    "unknown or repeated kind was left out");
			continue;
		}
		v->schedule_kinds |= rv_kinds[i].bit;
		s = &v->schedules[v->n_schedules++];
		s->kind = rv_kinds[i].bit;
		s->id = rv_text(it, "id", RV_CAP_ID);
		s->name = rv_text(it, "name", RV_CAP_NAME);
		s->cron = rv_text(it, "cron", 64);
		s->retention_s = rv_count(it, "retentionSeconds");
		s->created_ms = rv_time(it, "createdAt");
	}
	qsort(v->schedules, v->n_schedules, sizeof *v->schedules, rv_schedule_cmp);
	return 0;
}

/* --- operations ------------------------------------------------------------ */

static void
rv_op_free(struct rv_op *op)
{
	struct rv_op **pp;

	for (pp = &rv_ops; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	}
	loop_timer_free(&op->timer);
	railway_volumes_unref(op->v);
	free(op->service_id);
	free(op->instance_id);
	free(op->backup_id);
	free(op->backup_name);
	free(op->workflow_id);
	free(op->volume_id);
	free(op->patch_id);
	free(op);
}

static struct rv_op *
rv_op_new(struct railway *rw, enum rv_kind kind, const char *name, void *ud)
{
	struct rv_op *op = xcalloc(1, sizeof *op);

	op->rw = rw;
	op->kind = kind;
	op->name = name;
	op->ud = ud;
	op->t0 = loop_now_ms(railway_int_loop(rw));
	op->next = rv_ops;
	rv_ops = op;
	return op;
}

static void
rv_progress(struct rv_op *op)
{
	struct railway_volume_progress p;

	if (op->progress == NULL)
		return;
	memset(&p, 0, sizeof p);
	p.op = op->name;
	p.step = op->words != NULL ? op->words : "";
	p.workflow_id = op->workflow_id != NULL ? op->workflow_id : "";
	p.status = op->status;
	p.detail = op->patch_id != NULL ? op->patch_id : "";
	p.elapsed_ms = (int64_t)(loop_now_ms(railway_int_loop(op->rw)) - op->t0);
	op->progress(&p, op->ud);
}

/* End OP: its callback, then free it. */
static void
rv_finish(struct rv_op *op, int ok, int cancelled, const char *error)
{
	struct railway_result res;

	if (op->kind == RV_LIST) {
		if (!op->forgotten) {
			if (ok) {
				op->v->fetched_ms = util_wall_ms();
				op->list_done(op->v, NULL, op->ud);
			} else {
				op->list_done(NULL, error != NULL ? error : "failed", op->ud);
			}
		}
		rv_op_free(op);
		return;
	}
	memset(&res, 0, sizeof res);
	res.ok = ok;
	res.cancelled = cancelled;
	res.op = op->name;
	res.error = ok ? "" : error != NULL ? error : "failed";
	res.deployment_id = "";
	res.duration_ms = (int64_t)(loop_now_ms(railway_int_loop(op->rw)) - op->t0);
	if (ok)
		diag_log(DIAG_INFO, "railway: %s done in %lld ms", op->name,
		    (long long)res.duration_ms);
	else
		diag_log(DIAG_WARN, "railway: %s failed: %s", op->name, res.error);
	if (op->done != NULL)
		op->done(&res, op->ud);
	rv_op_free(op);
}

static void rv_reply(struct railway *rw, const cJSON *data, const char *error, void *ud);

/* Send DOC with VARS (taken) for OP: a write when WRITE.  -1 and E when
 * the client did not take it. */
static int
rv_send(struct rv_op *op, enum rw_doc doc, cJSON *vars, int write, struct err *e)
{
	char *text = cJSON_PrintUnformatted(vars);
	int rc;

	rv_json_oom(text);
	cJSON_Delete(vars);
	rc = write ? railway_int_write(op->rw, doc, text, rv_reply, op, e) :
	    railway_int_read(op->rw, doc, text, rv_reply, op, e);
	free(text);
	if (rc == 0)
		op->pending = 1;
	return rc;
}

/* The same from a reply or a timer: a refusal ends OP. */
static void
rv_send_or_fail(struct rv_op *op, enum rw_doc doc, cJSON *vars, int write)
{
	struct err e;

	memset(&e, 0, sizeof e);
	if (rv_send(op, doc, vars, write, &e) != 0)
		rv_finish(op, 0, !railway_int_running(op->rw), e.msg);
}

static cJSON *
rv_vars(const char *key, const char *value)
{
	cJSON *v = cJSON_CreateObject();

	rv_json_oom(v);
	if (key != NULL)
		rv_json_oom(cJSON_AddStringToObject(v, key, value));
	return v;
}

static void
rv_poll_now(struct rv_op *op)
{
	op->step = RV_S_POLL;
	rv_send_or_fail(op, RW_DOC_WORKFLOW_STATUS, rv_vars("workflowId", op->workflow_id), 0);
}

static void
rv_timer_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	rv_poll_now(ud);
}

static void
rv_poll_later(struct rv_op *op)
{
	if (op->timer == NULL)
		op->timer = loop_timer_new(railway_int_loop(op->rw), rv_timer_cb, op);
	loop_timer_start(op->timer, RV_POLL_MS, 0);
}

/* What a cancellation of OP in its present step means, into BUF. */
static const char *
rv_cancel_words(struct rv_op *op, const char *queue_error, char *buf, size_t len)
{
	const char *wf = op->workflow_id != NULL ? op->workflow_id : "?";

	if (op->kind == RV_BACKUP && op->mutated)
		snprintf(buf, len, "cancelled: signalbox stopped while following workflow %s; "
		    "the backup goes on", wf);
	else if (op->kind == RV_RESTORE && op->mutated && op->step != RV_S_COMMIT)
		snprintf(buf, len, "cancelled: signalbox stopped after asking for the restore "
		    "(workflow %s): it may be staged, and it is not committed", wf);
	else if (op->kind == RV_RESTORE && op->step == RV_S_COMMIT)
		snprintf(buf, len, "%s; the restore was staged (workflow %s)",
		    queue_error != NULL ? queue_error : "cancelled: signalbox stopped", wf);
	else
		snprintf(buf, len, "%s", queue_error != NULL ? queue_error :
		    "cancelled: signalbox stopped");
	return buf;
}

/* Describe the top-level keys of PATCH into BUF ("services, volumes"). */
static void
rv_patch_keys(const cJSON *patch, char *buf, size_t len)
{
	const cJSON *k;
	size_t used = 0;
	int n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(k, patch) {
		char *name;

		if (k->string == NULL)
			continue;
		name = railway_int_clean(k->string, strlen(k->string), 40);

		if (n == 4) {
			snprintf(buf + used, len - used, ", ...");
			free(name);
			break;
		}
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", n > 0 ? ", " : "",
			    name);
		free(name);
		n++;
	}
}

/* The staged patch of a RailwayVolumeRestoreCheck reply: NULL when nothing
 * is staged; *BAD when it cannot be read. */
static const cJSON *
rv_staged_patch(const cJSON *data, int *bad)
{
	const cJSON *st = rv_get(data, "environmentStagedChanges"), *patch, *status;

	*bad = 0;
	if (!cJSON_IsObject(st)) {
		*bad = 1;
		return NULL;
	}
	status = rv_get(st, "status");
	patch = rv_get(st, "patch");
	if (cJSON_IsString(status) && strcmp(status->valuestring, "STAGED") != 0)
		return NULL;	/* applied or applying: nothing waits */
	if (patch == NULL || cJSON_IsNull(patch))
		return NULL;
	if (!cJSON_IsObject(patch)) {
		*bad = 1;
		return NULL;
	}
	return cJSON_GetArraySize(patch) > 0 ? patch : NULL;
}

/* restore, before staging: the volume is there and not being restored, and
 * nothing is staged. */
static void
rv_on_check(struct rv_op *op, const cJSON *data)
{
	const cJSON *vi = rv_get(data, "volumeInstance"), *patch;
	char keys[160], err[RV_ERR_LEN];
	char *state;
	int bad;
	cJSON *v;

	if (!cJSON_IsObject(vi) || !cJSON_IsString(rv_get(vi, "volumeId"))) {
		rv_finish(op, 0, 0, "malformed reply: the volume instance is missing; nothing "
		    "was staged");
		return;
	}
	op->volume_id = rv_text(vi, "volumeId", RV_CAP_ID);
	state = rv_text(vi, "state", 32);
	if (strcmp(state, "RESTORING") == 0 || strcmp(state, "DELETING") == 0 ||
	    strcmp(state, "DELETED") == 0) {
		snprintf(err, sizeof err, "the volume is %s: nothing was staged", state);
		free(state);
		rv_finish(op, 0, 0, err);
		return;
	}
	free(state);
	patch = rv_staged_patch(data, &bad);
	if (bad) {
		rv_finish(op, 0, 0, "malformed reply: the environment's staged changes cannot "
		    "be read; nothing was staged");
		return;
	}
	if (patch != NULL) {
		rv_patch_keys(patch, keys, sizeof keys);
		snprintf(err, sizeof err, "the environment already has staged changes (%s): "
		    "committing the restore would apply them too; review them in Railway first. "
		    "Nothing was staged", keys);
		rv_finish(op, 0, 0, err);
		return;
	}
	op->step = RV_S_STAGE;
	op->words = "staging the restore";
	rv_progress(op);
	v = rv_vars("volumeInstanceId", op->instance_id);
	rv_json_oom(cJSON_AddStringToObject(v, "volumeInstanceBackupId", op->backup_id));
	rv_send_or_fail(op, RW_DOC_VOLUME_BACKUP_RESTORE, v, 1);
}

/* restore, after the workflow: what is staged is this volume and only it. */
static void
rv_on_verify(struct rv_op *op, const cJSON *data)
{
	const cJSON *patch, *vols;
	char keys[160], err[RV_ERR_LEN];
	int bad;
	cJSON *v;

	patch = rv_staged_patch(data, &bad);
	if (bad) {
		rv_finish(op, 0, 0, "malformed reply: the staged changes cannot be read; the "
		    "restore may be staged and is not committed");
		return;
	}
	if (patch == NULL) {
		rv_finish(op, 0, 0, "the restore workflow completed but nothing is staged: "
		    "nothing to commit");
		return;
	}
	vols = rv_get(patch, "volumes");
	if (cJSON_GetArraySize(patch) != 1 || !cJSON_IsObject(vols) ||
	    cJSON_GetArraySize(vols) != 1 || vols->child->string == NULL ||
	    strcmp(vols->child->string, op->volume_id) != 0) {
		rv_patch_keys(patch, keys, sizeof keys);
		snprintf(err, sizeof err, "the restore is staged, but the staged changes hold "
		    "more than this volume's restore (%s): not committed; review and commit "
		    "them in Railway", keys);
		rv_finish(op, 0, 0, err);
		return;
	}
	op->step = RV_S_COMMIT;
	op->words = "committing";
	rv_progress(op);
	v = rv_vars("environmentId", railway_environment_id(op->rw));
	snprintf(err, sizeof err, "signalbox: restore volume backup %.128s", op->backup_id);
	rv_json_oom(cJSON_AddStringToObject(v, "message", err));
	rv_send_or_fail(op, RW_DOC_VOLUME_COMMIT_STAGED, v, 1);
}

/* The workflow named in DATA.FIELD.workflowId was started. */
static void
rv_on_started(struct rv_op *op, const cJSON *data, const char *field)
{
	const cJSON *w = rv_get(data, field), *id = rv_get(w, "workflowId");

	op->mutated = 1;
	if (!cJSON_IsObject(w)) {
		rv_finish(op, 0, 0, op->kind == RV_BACKUP ? "malformed reply: no answer to "
		    "the backup (it may have started: check the list)" : "malformed reply: no "
		    "answer to the restore (it may be staged: check before retrying)");
		return;
	}
	if (cJSON_IsString(id) && id->valuestring[0] != '\0') {
		op->workflow_id = rv_text(w, "workflowId", RV_CAP_ID);
		op->follow_t0 = loop_now_ms(railway_int_loop(op->rw));
	}
	rv_progress(op);
	if (op->kind == RV_BACKUP && !op->wait) {
		rv_finish(op, 1, 0, NULL);
		return;
	}
	if (op->workflow_id == NULL) {
		rv_finish(op, 0, 0, op->kind == RV_BACKUP ? "the provider named no workflow "
		    "to follow: the backup may be running (check the list)" : "the provider "
		    "named no workflow to follow: the restore may be staged and is not "
		    "committed");
		return;
	}
	rv_poll_now(op);
}

static void
rv_on_status(struct rv_op *op, const cJSON *data)
{
	const cJSON *w = rv_get(data, "workflowStatus");
	char *status, *why, err[RV_ERR_LEN];
	uint64_t now = loop_now_ms(railway_int_loop(op->rw));
	cJSON *v;

	if (!cJSON_IsObject(w) || !cJSON_IsString(rv_get(w, "status"))) {
		snprintf(err, sizeof err, "malformed reply: no status of workflow %s",
		    op->workflow_id);
		rv_finish(op, 0, 0, err);
		return;
	}
	op->poll_failures = 0;
	status = rv_text(w, "status", 31);
	if (strcmp(status, op->status) != 0) {
		util_strlcpy(op->status, status, sizeof op->status);
		rv_progress(op);
	}
	if (strcmp(status, "Complete") == 0) {
		free(status);
		if (op->kind == RV_BACKUP) {
			rv_finish(op, 1, 0, NULL);
			return;
		}
		op->step = RV_S_VERIFY;
		op->words = "checking the staged change";
		op->status[0] = '\0';	/* the steps after the workflow have none */
		rv_progress(op);
		v = rv_vars("environmentId", railway_environment_id(op->rw));
		rv_json_oom(cJSON_AddStringToObject(v, "volumeInstanceId", op->instance_id));
		rv_send_or_fail(op, RW_DOC_VOLUME_RESTORE_CHECK, v, 0);
		return;
	}
	if (strcmp(status, "Error") == 0 || strcmp(status, "NotFound") == 0) {
		why = rv_text(w, "error", 400);
		if (strcmp(status, "NotFound") == 0)
			snprintf(err, sizeof err, "the provider does not know workflow %s "
			    "(it may have ended: check the list)", op->workflow_id);
		else
			snprintf(err, sizeof err, "%s failed (workflow %s): %s",
			    op->kind == RV_BACKUP ? "the backup" : "staging the restore",
			    op->workflow_id, why[0] != '\0' ? why : "no reason given");
		free(why);
		free(status);
		rv_finish(op, 0, 0, err);
		return;
	}
	free(status);
	if (now - op->follow_t0 >= RV_MAX_FOLLOW_MS) {
		snprintf(err, sizeof err, "workflow %s still %s after %d min: stopped following "
		    "it (it goes on)", op->workflow_id, op->status, RV_MAX_FOLLOW_MS / 60000);
		rv_finish(op, 0, 0, err);
		return;
	}
	rv_poll_later(op);
}

static void
rv_on_list(struct rv_op *op, const cJSON *data)
{
	char err[RV_ERR_LEN] = "";
	const cJSON *node;

	if (op->step == RV_S_VOLUMES) {
		node = rv_find_instance(data, op->service_id, err, sizeof err);
		if (err[0] != '\0') {
			rv_finish(op, 0, 0, err);
			return;
		}
		if (node == NULL) {	/* the service has no volume: an answer */
			rv_finish(op, 1, 0, NULL);
			return;
		}
		rv_fill_instance(op->v, node);
		op->step = RV_S_BACKUPS;
		rv_send_or_fail(op, RW_DOC_VOLUME_BACKUPS, rv_vars("volumeInstanceId",
		    op->v->instance_id), 0);
		return;
	}
	if (rv_fill_backups(op->v, data, err, sizeof err) != 0) {
		rv_finish(op, 0, 0, err);
		return;
	}
	rv_finish(op, 1, 0, NULL);
}

static void
rv_reply(struct railway *rw, const cJSON *data, const char *error, void *ud)
{
	struct rv_op *op = ud;
	char buf[RV_ERR_LEN], err[RV_ERR_LEN];
	const cJSON *v;

	op->pending = 0;
	if (op->forgotten) {
		rv_op_free(op);
		return;
	}
	if (error != NULL) {
		if (!railway_int_running(rw)) {
			rv_finish(op, 0, 1, rv_cancel_words(op, error, buf, sizeof buf));
			return;
		}
		if (op->step == RV_S_POLL && ++op->poll_failures < RV_MAX_POLL_FAILURES) {
			diag_log(DIAG_WARN, "railway: %s: workflow %s: %s (retrying)", op->name,
			    op->workflow_id, error);
			rv_poll_later(op);
			return;
		}
		switch (op->step) {
		case RV_S_POLL:
			snprintf(err, sizeof err, "lost track of workflow %s after %d failed "
			    "reads (%s); it may still finish: check the list", op->workflow_id,
			    RV_MAX_POLL_FAILURES, error);
			break;
		case RV_S_CHECK:
			snprintf(err, sizeof err, "%s; nothing was staged", error);
			break;
		case RV_S_VERIFY:
			snprintf(err, sizeof err, "%s; the restore may be staged and is not "
			    "committed", error);
			break;
		case RV_S_COMMIT:
			snprintf(err, sizeof err, "the restore is staged, but committing it "
			    "failed: %s", error);
			break;
		default:
			snprintf(err, sizeof err, "%s", error);
			break;
		}
		rv_finish(op, 0, 0, err);
		return;
	}
	switch (op->step) {
	case RV_S_VOLUMES:
	case RV_S_BACKUPS:
		rv_on_list(op, data);
		break;
	case RV_S_CREATE:
		rv_on_started(op, data, "volumeInstanceBackupCreate");
		break;
	case RV_S_CHECK:
		rv_on_check(op, data);
		break;
	case RV_S_STAGE:
		rv_on_started(op, data, "volumeInstanceBackupRestore");
		break;
	case RV_S_POLL:
		rv_on_status(op, data);
		break;
	case RV_S_VERIFY:
		rv_on_verify(op, data);
		break;
	case RV_S_COMMIT:
		v = rv_get(data, "environmentPatchCommitStaged");
		if (!cJSON_IsString(v)) {
			rv_finish(op, 0, 0, "malformed reply: no answer to the commit (it may "
			    "have been applied: check the deployments)");
			break;
		}
		op->patch_id = rv_text(data, "environmentPatchCommitStaged", RV_CAP_ID);
		rv_progress(op);
		railway_refresh_now(op->rw);	/* the redeploy shows sooner */
		rv_finish(op, 1, 0, NULL);
		break;
	case RV_S_SCHEDULE:
		v = rv_get(data, "volumeInstanceBackupScheduleUpdate");
		if (cJSON_IsTrue(v))
			rv_finish(op, 1, 0, NULL);
		else
			rv_finish(op, 0, 0, cJSON_IsFalse(v) ? "the API answered that nothing "
			    "was done" : "malformed reply: the answer to the schedule change is "
			    "missing");
		break;
	}
}

/* --- the API ---------------------------------------------------------------- */

int
railway_volumes_list(struct railway *rw, const char *service_id, railway_volumes_fn *done,
    void *ud, struct err *e)
{
	struct rv_op *op;
	const char *name;

	if (rw == NULL || done == NULL)
		return err_set(e, ERR_INVALID, "railway volumes: no client or no callback");
	if (rv_check_id("service id", service_id, e) < 0)
		return -1;
	if (railway_environment_id(rw)[0] == '\0')
		return err_set(e, ERR_INVALID, "not connected to Railway yet: the environment "
		    "is not resolved");
	op = rv_op_new(rw, RV_LIST, "volumes", ud);
	op->list_done = done;
	op->service_id = xstrdup(service_id);
	op->step = RV_S_VOLUMES;
	op->v = xcalloc(1, sizeof *op->v);
	op->v->refs = 1;
	op->v->service_id = text_sanitize(service_id, strlen(service_id), 0);
	name = railway_int_service_name(rw, service_id);
	op->v->service_name = xstrdup(name != NULL ? name : "");
	op->v->environment_id = xstrdup(railway_environment_id(rw));
	op->v->instance_id = xstrdup("");
	op->v->volume_id = xstrdup("");
	op->v->volume_name = xstrdup("");
	op->v->mount_path = xstrdup("");
	op->v->state = xstrdup("");
	op->v->region = xstrdup("");
	op->v->used_mb = -1;
	op->v->size_mb = -1;
	if (rv_send(op, RW_DOC_VOLUMES, rv_vars("environmentId", railway_environment_id(rw)), 0,
	    e) != 0) {
		rv_op_free(op);
		return -1;
	}
	return 0;
}

void
railway_volumes_forget(struct railway *rw, void *ud)
{
	struct rv_op *op;

	for (op = rv_ops; op != NULL; op = op->next)
		if (op->rw == rw && op->kind == RV_LIST && op->ud == ud)
			op->forgotten = 1;	/* freed when its reply comes */
}

int
railway_volume_backup_create(struct railway *rw, const char *volume_instance_id,
    const char *name, int wait, railway_volume_progress_fn *progress, railway_done_fn *done,
    void *ud, struct err *e)
{
	struct rv_op *op;
	cJSON *v;

	if (rw == NULL)
		return err_set(e, ERR_INVALID, "railway volumes: no client");
	if (rv_check_id("volume instance id", volume_instance_id, e) < 0)
		return -1;
	if (name != NULL && strlen(name) > RV_CAP_NAME)
		return err_set(e, ERR_INVALID, "the backup name is longer than %d bytes",
		    RV_CAP_NAME);
	op = rv_op_new(rw, RV_BACKUP, "volume-backup", ud);
	op->instance_id = xstrdup(volume_instance_id);
	op->backup_name = name != NULL && name[0] != '\0' ? xstrdup(name) : NULL;
	op->wait = wait;
	op->progress = progress;
	op->done = done;
	op->step = RV_S_CREATE;
	op->words = "backing up";
	v = rv_vars("volumeInstanceId", volume_instance_id);
	if (op->backup_name != NULL)
		rv_json_oom(cJSON_AddStringToObject(v, "name", op->backup_name));
	else
		rv_json_oom(cJSON_AddNullToObject(v, "name"));
	if (rv_send(op, RW_DOC_VOLUME_BACKUP_CREATE, v, 1, e) != 0) {
		rv_op_free(op);
		return -1;
	}
	return 0;
}

int
railway_volume_backup_restore(struct railway *rw, const char *volume_instance_id,
    const char *backup_id, railway_volume_progress_fn *progress, railway_done_fn *done,
    void *ud, struct err *e)
{
	struct rv_op *op;
	cJSON *v;

	if (rw == NULL)
		return err_set(e, ERR_INVALID, "railway volumes: no client");
	if (rv_check_id("volume instance id", volume_instance_id, e) < 0 ||
	    rv_check_id("backup id", backup_id, e) < 0)
		return -1;
	if (railway_environment_id(rw)[0] == '\0')
		return err_set(e, ERR_INVALID, "not connected to Railway yet: the environment "
		    "is not resolved");
	op = rv_op_new(rw, RV_RESTORE, "volume-restore", ud);
	op->instance_id = xstrdup(volume_instance_id);
	op->backup_id = xstrdup(backup_id);
	op->progress = progress;
	op->done = done;
	op->step = RV_S_CHECK;
	op->words = "checking";
	v = rv_vars("environmentId", railway_environment_id(rw));
	rv_json_oom(cJSON_AddStringToObject(v, "volumeInstanceId", volume_instance_id));
	if (rv_send(op, RW_DOC_VOLUME_RESTORE_CHECK, v, 0, e) != 0) {
		rv_op_free(op);
		return -1;
	}
	return 0;
}

int
railway_volume_schedule_set(struct railway *rw, const char *volume_instance_id,
    unsigned kinds, railway_done_fn *done, void *ud, struct err *e)
{
	struct rv_op *op;
	cJSON *v, *arr;
	size_t i;

	if (rw == NULL)
		return err_set(e, ERR_INVALID, "railway volumes: no client");
	if (rv_check_id("volume instance id", volume_instance_id, e) < 0)
		return -1;
	if (kinds & ~RAILWAY_SCHEDULE_ALL)
		return err_set(e, ERR_INVALID, "unknown backup schedule kinds (0x%x)", kinds);
	op = rv_op_new(rw, RV_SCHEDULE, "volume-schedule", ud);
	op->instance_id = xstrdup(volume_instance_id);
	op->kinds = kinds;
	op->done = done;
	op->step = RV_S_SCHEDULE;
	v = rv_vars("volumeInstanceId", volume_instance_id);
	arr = cJSON_AddArrayToObject(v, "kinds");
	rv_json_oom(arr);
	for (i = 0; i < ARRAY_LEN(rv_kinds); i++)
		if (kinds & rv_kinds[i].bit)
			cJSON_AddItemToArray(arr, cJSON_CreateString(rv_kinds[i].name));
	if (rv_send(op, RW_DOC_VOLUME_SCHEDULE_SET, v, 1, e) != 0) {
		rv_op_free(op);
		return -1;
	}
	return 0;
}

void
railway_int_volumes_stop(struct railway *rw)
{
	struct rv_op *op, *next;
	char buf[RV_ERR_LEN];

	/* railway_stop emptied the queue first: what is left of RW waits on a
	 * timer (a request still pending would be answered by the queue) */
	for (op = rv_ops; op != NULL; op = next) {
		next = op->next;
		if (op->rw != rw || op->pending)
			continue;
		rv_finish(op, 0, 1, rv_cancel_words(op, NULL, buf, sizeof buf));
	}
}
