/* backups.c - pgBackRest's repository, the archiver, backups and drills
 * (backups.h). */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "signalbox/backups.h"
#include "signalbox/config.h"
#include "signalbox/diag.h"
#include "signalbox/loop.h"
#include "signalbox/pg.h"
#include "signalbox/pg_stats.h"
#include "signalbox/proc.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define BACKUPS_INFO_TIMEOUT_MS 60000
#define BACKUPS_INFO_MAX (16u << 20)	/* JSON kept from one info */
#define BACKUPS_ERR_MAX (64u << 10)
#define BACKUPS_TAKE_TIMEOUT_MS (6ull * 3600 * 1000)
#define BACKUPS_RETRY_MS 5000		/* info after a failure */
#define BACKUPS_MAX_TABLES 64

/* Production's count and checksum of one table at one moment. */
struct backups_ref {
	char table[128];
	int64_t count;		/* -1: could not be read */
	char checksum[40];
};

struct backups {
	uv_loop_t *loop;
	const struct config *cfg;
	const struct config_backups *bc;
	struct store *store;
	char drills_path[1024], refs_path[1024];

	struct loop_timer *poll_timer;	/* the next info */
	struct loop_timer *recalc_timer;	/* 0 ms: the PG source published */
	struct proc *info_proc;
	int info_again;		/* asked for while one ran */
	int freeing;

	/* what the next snapshot is built from */
	enum backups_conn conn;
	char error[256];
	int64_t info_ms;
	struct backups_info *info;
	struct backups_job job;
	struct backups_drill_now dnow;
	struct backups_drill_rec history[BACKUPS_HISTORY_MAX];
	size_t n_history;
	struct timespec history_mtime;	/* of the file when last read */
	off_t history_size;
	const struct backups_snap *snap;	/* the published one (the store owns it) */

	/* a backup being taken */
	struct proc *take_proc;
	backups_done_fn *take_done;
	void *take_ud;
	char take_err[200];	/* the last ERROR line of pgbackrest */
	int take_stage;		/* 0 none, 1 refs before, 2 backup, 3 refs after, 4 label */
	struct backups_ref before[BACKUPS_MAX_TABLES], after[BACKUPS_MAX_TABLES];
	size_t n_refs_done;
	int take_ok;
	char take_words[200];

	/* restore in place (take_* fields: stage 1 stop, 2 restore, 3 start, 4 done) */
	char restore_label[64], restore_target[40], restore_what[72];

	/* production, for the references (only with drill tables) */
	struct pg *prod;
	int prod_started;

	/* a drill */
	struct drill *drill;
	backups_drill_result_fn *drill_result_fn;
	backups_done_fn *drill_done;
	void *drill_ud;
};

static void backups_publish(struct backups *b);
static void backups_info_run(struct backups *b);
static void backups_take_labelled(struct backups *b);

/* Read the drill history again when the file changed (other consoles and
 * `signalbox backup drill` append to it too). */
static void
backups_history_reload(struct backups *b)
{
	struct stat st;

	if (stat(b->drills_path, &st) != 0)
		return;
	if (st.st_size == b->history_size && st.st_mtim.tv_sec == b->history_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == b->history_mtime.tv_nsec)
		return;
	b->history_size = st.st_size;
	b->history_mtime = st.st_mtim;
	b->n_history = backups_history_read(b->drills_path, b->history, BACKUPS_HISTORY_MAX);
}

/* ---- small helpers ------------------------------------------------------ */

void
backups_state_path(const char *audit_path, const char *name, char *buf, size_t len)
{
	const char *slash = audit_path != NULL ? strrchr(audit_path, '/') : NULL;

	if (slash == NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%.*s/%s", (int)(slash - audit_path), audit_path, name);
}

static void
backups_info_ref(struct backups_info *i)
{
	if (i != NULL)
		i->refs++;
}

static void
backups_info_unref(struct backups_info *i)
{
	if (i == NULL || --i->refs > 0)
		return;
	pgbr_info_free(&i->info);
	free(i);
}

static void
backups_snap_free(void *p)
{
	struct backups_snap *s = p;

	if (s == NULL)
		return;
	backups_info_unref(s->info);
	free(s);
}

/* Whether the LEN bytes at S contain WORD. */
static int
backups_has(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, word, n) == 0)
			return 1;
	return 0;
}

/* argv: wrapper words, PROG, then the EXTRA words; NULL-terminated, owned
 * by the caller (free the array only: the strings are borrowed). */
static const char **
backups_argv(const struct backups *b, const char *prog, const char *const *extra, size_t n_extra)
{
	size_t n = 0, k = 0;
	const char **av;

	while (b->bc->wrapper != NULL && b->bc->wrapper[n] != NULL)
		n++;
	av = xcalloc(n + 1 + n_extra + 1, sizeof *av);
	for (; k < n; k++)
		av[k] = b->bc->wrapper[k];
	av[k++] = prog;
	for (size_t i = 0; i < n_extra; i++)
		av[k++] = extra[i];
	av[k] = NULL;
	return av;
}

/* The first "ERROR: ..." line of pgBackRest's stderr, or its last line. */
static void
backups_err_line(const char *err, size_t len, char *buf, size_t blen)
{
	const char *p = err, *end = err + len, *best = NULL, *last = NULL;
	size_t best_len = 0, last_len = 0;

	buf[0] = '\0';
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (l > 0) {
			last = p;
			last_len = l;
			if (best == NULL && backups_has(p, l, "ERROR"))
				best = p, best_len = l;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (best == NULL)
		best = last, best_len = last_len;
	if (best != NULL) {
		char *t = text_sanitize(best, best_len, 0);

		util_strlcpy(buf, t, blen);
		free(t);
	}
}

/* ---- verdict ------------------------------------------------------------ */

/* Append a reason to BUF ("; " between reasons). */
static void backups_why(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
backups_why(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 3 >= len)
		return;
	if (used > 0) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}


/* Fill S's archiver fields, PITR window and verdict. */
static void
backups_judge(const struct backups *b, struct backups_snap *s, int64_t now_ms)
{
	const struct pg_stats_snap *pg = b->store != NULL ?
	    store_get(b->store, STORE_TOPIC_PG, NULL) : NULL;
	const struct pgbr_backup *newest;
	char age[32], max[32];

	if (pg != NULL && pg->data != NULL && pg->conn == PG_STATS_UP) {
		const struct pg_stats_data *d = pg->data;

		s->have_archiver = d->archive_mode;
		s->archived = d->archived;
		s->archive_failed = d->archive_failed;
		s->last_archived_ms = d->last_archived_ms;
		s->last_failed_ms = d->last_failed_ms;
		util_strlcpy(s->last_archived_wal, d->last_archived_wal, sizeof s->last_archived_wal);
		util_strlcpy(s->last_failed_wal, d->last_failed_wal, sizeof s->last_failed_wal);
	}
	s->degraded_why[0] = '\0';
	if (s->stanza != NULL) {
		pgbr_pitr_window(s->stanza, s->last_archived_ms / 1000, &s->pitr);
		if (s->stanza->status_code != 0)
			backups_why(s->degraded_why, sizeof s->degraded_why, "stanza: %s",
			    s->stanza->status_message);
		newest = pgbr_stanza_newest(s->stanza);
		if (newest == NULL) {
			backups_why(s->degraded_why, sizeof s->degraded_why, "%s", "no backup yet");
		} else if (now_ms - newest->stop * 1000 > s->max_age_ms) {
			util_fmt_age(age, sizeof age, now_ms - newest->stop * 1000);
			util_fmt_age(max, sizeof max, s->max_age_ms);
			backups_why(s->degraded_why, sizeof s->degraded_why,
			    "newest backup %s old (max %s)", age, max);
		}
	} else if (s->info != NULL) {
		backups_why(s->degraded_why, sizeof s->degraded_why,
		    "pgbackrest knows no stanza '%s'", s->stanza_name);
	}
	if (s->have_archiver && s->last_failed_ms > s->last_archived_ms)
		backups_why(s->degraded_why, sizeof s->degraded_why, "archiving fails (%s)",
		    s->last_failed_wal[0] != '\0' ? s->last_failed_wal : "WAL");
	if (s->conn == BACKUPS_STALE || s->conn == BACKUPS_FAILED)
		backups_why(s->degraded_why, sizeof s->degraded_why, "%s", s->error);
	s->degraded = s->degraded_why[0] != '\0' && s->conn != BACKUPS_CONNECTING;
}

static void
backups_publish(struct backups *b)
{
	struct backups_snap *s;
	int64_t now = util_wall_ms();
	const char *cfgf = b->bc->pgbr_config;
	char detail[48] = "";

	if (b->store == NULL || b->freeing)
		return;
	s = xcalloc(1, sizeof *s);
	s->conn = b->conn;
	util_strlcpy(s->error, b->error, sizeof s->error);
	s->info_ms = b->info_ms;
	util_strlcpy(s->stanza_name, b->bc->stanza, sizeof s->stanza_name);
	snprintf(s->where, sizeof s->where, "stanza %.60s (%.88s)", b->bc->stanza,
	    cfgf != NULL ? cfgf : "pgBackRest's default configuration");
	s->info = b->info;
	backups_info_ref(s->info);
	s->stanza = s->info != NULL ? pgbr_info_stanza(s->info->info, b->bc->stanza) : NULL;
	s->max_age_ms = b->bc->max_age_ms;
	s->job = b->job;
	s->drill = b->dnow;
	memcpy(s->history, b->history, sizeof s->history);
	s->n_history = b->n_history;
	backups_judge(b, s, now);
	b->snap = s;
	if (b->job.active)
		snprintf(detail, sizeof detail, "backup %.0f%%", b->job.pct < 0 ? 0 : b->job.pct);
	else if (b->dnow.active)
		snprintf(detail, sizeof detail, "drill: %s", drill_phase_name(b->dnow.phase));
	store_source_detail(b->store, BACKUPS_SOURCE, detail);
	store_source_degraded(b->store, BACKUPS_SOURCE, s->degraded);
	store_publish(b->store, STORE_TOPIC_BACKUPS, s, backups_snap_free);
}

/* ---- pgbackrest info ---------------------------------------------------- */

static void
backups_set_conn(struct backups *b, int ok, const char *error)
{
	if (ok) {
		b->conn = BACKUPS_UP;
		b->error[0] = '\0';
		store_source_set(b->store, BACKUPS_SOURCE, STORE_STATE_OK, NULL);
		return;
	}
	b->conn = b->info != NULL ? BACKUPS_STALE : BACKUPS_FAILED;
	util_strlcpy(b->error, error, sizeof b->error);
	store_source_set(b->store, BACKUPS_SOURCE, b->info != NULL ? STORE_STATE_STALE :
	    STORE_STATE_ERROR, b->error);
}

static void
backups_info_exit(struct proc *p, const struct proc_exit *ex, void *ud)
{
	struct backups *b = ud;
	struct pgbr_info *info = NULL;
	struct err e;
	char why[256];

	(void)p;
	memset(&e, 0, sizeof e);
	if (ex->status != 0) {
		backups_err_line(ex->err != NULL ? ex->err : "", ex->err_len, why, sizeof why);
		if (why[0] == '\0')
			util_strlcpy(why, ex->words, sizeof why);
		diag_log(DIAG_WARN, "backups: pgbackrest info %s: %s", ex->words, why);
		backups_set_conn(b, 0, why);
	} else if (ex->out_dropped > 0) {
		backups_set_conn(b, 0, "pgbackrest info: the answer is larger than 16 MiB");
	} else if (pgbr_info_parse(ex->out, ex->out_len, &info, &e) != 0) {
		diag_log(DIAG_WARN, "backups: %s", e.msg);
		backups_set_conn(b, 0, e.msg);
	} else {
		struct backups_info *bi = xcalloc(1, sizeof *bi);

		bi->refs = 1;
		bi->info = info;
		backups_info_unref(b->info);
		b->info = bi;
		b->info_ms = util_wall_ms();
		backups_set_conn(b, 1, NULL);
	}
	proc_free(&b->info_proc);
	if (b->freeing)
		return;
	backups_history_reload(b);
	if (b->take_stage == 4) {
		/* the info after a backup: find its label, keep the references */
		backups_take_labelled(b);
	}
	backups_publish(b);
	if (b->info_again) {
		b->info_again = 0;
		backups_info_run(b);
		return;
	}
	loop_timer_start(b->poll_timer, b->conn == BACKUPS_UP ? (uint64_t)b->bc->interval_ms :
	    BACKUPS_RETRY_MS, 0);
}

static void
backups_info_run(struct backups *b)
{
	static const struct proc_cbs cbs = { NULL, backups_info_exit };
	const char *extra[6];
	size_t n = 0;
	char *cfg = NULL, *stanza;
	const char **av;
	struct proc_opts o;
	struct err e;

	if (b->info_proc != NULL) {
		b->info_again = 1;
		return;
	}
	loop_timer_stop(b->poll_timer);
	if (b->bc->pgbr_config != NULL)
		extra[n++] = cfg = xasprintf("--config=%s", b->bc->pgbr_config);
	extra[n++] = stanza = xasprintf("--stanza=%s", b->bc->stanza);
	extra[n++] = "--output=json";
	extra[n++] = "--log-level-console=error";
	extra[n++] = "info";
	av = backups_argv(b, b->bc->pgbr_bin, extra, n);
	memset(&o, 0, sizeof o);
	memset(&e, 0, sizeof e);
	o.argv = av;
	o.out_mode = PROC_MODE_COLLECT;
	o.err_mode = PROC_MODE_COLLECT;
	o.collect_max = BACKUPS_INFO_MAX;
	o.timeout_ms = BACKUPS_INFO_TIMEOUT_MS;
	b->info_proc = proc_start(b->loop, &o, &cbs, b, &e);
	free(av);
	free(cfg);
	free(stanza);
	if (b->info_proc == NULL) {
		backups_set_conn(b, 0, e.msg);
		backups_publish(b);
		loop_timer_start(b->poll_timer, BACKUPS_RETRY_MS, 0);
	}
}

static void
backups_poll_cb(struct loop_timer *t, void *ud)
{
	struct backups *b = ud;

	(void)t;
	if (b->prod != NULL && !b->prod_started) {
		b->prod_started = 1;
		pg_start(b->prod);
	}
	backups_info_run(b);
}

void
backups_refresh(struct backups *b)
{
	if (b != NULL)
		backups_info_run(b);
}

/* The PostgreSQL source published: the archiver may have changed. */
static void
backups_recalc_cb(struct loop_timer *t, void *ud)
{
	struct backups *b = ud;
	const struct backups_snap *old = b->snap;
	struct backups_snap probe;

	(void)t;
	if (old == NULL)
		return;
	/* publish only when what the pane shows of the archiver changed */
	memset(&probe, 0, sizeof probe);
	probe.conn = old->conn;
	probe.info = old->info;
	probe.stanza = old->stanza;
	probe.max_age_ms = old->max_age_ms;
	util_strlcpy(probe.error, old->error, sizeof probe.error);
	util_strlcpy(probe.stanza_name, old->stanza_name, sizeof probe.stanza_name);
	backups_judge(b, &probe, util_wall_ms());
	if (probe.have_archiver != old->have_archiver || probe.archived != old->archived ||
	    probe.archive_failed != old->archive_failed ||
	    probe.last_archived_ms != old->last_archived_ms ||
	    probe.last_failed_ms != old->last_failed_ms ||
	    probe.degraded != old->degraded ||
	    strcmp(probe.degraded_why, old->degraded_why) != 0)
		backups_publish(b);
}

static void
backups_store_cb(enum store_topic topic, void *ud)
{
	struct backups *b = ud;

	if (topic == STORE_TOPIC_PG && !b->freeing && !loop_timer_active(b->recalc_timer))
		loop_timer_start(b->recalc_timer, 0, 0);
}

/* ---- references: production at the backup's time ------------------------ */

static int
backups_refs_wanted(const struct backups *b)
{
	return b->prod != NULL && b->bc->n_tables > 0;
}

static void backups_take_spawn(struct backups *b);
static void backups_take_finish(struct backups *b);

static void
backups_ref_done(const struct pg_result *res, void *ud)
{
	struct backups *b = ud;
	struct backups_ref *set = b->take_stage == 1 ? b->before : b->after;
	struct backups_ref *r = &set[b->n_refs_done];
	const char *c, *m;

	if (b->freeing || (b->take_stage != 1 && b->take_stage != 3))
		return;
	util_strlcpy(r->table, b->bc->tables[b->n_refs_done], sizeof r->table);
	r->count = -1;
	r->checksum[0] = '\0';
	if (res->ok && (c = pg_rows_get(&res->rows, 0, 0)) != NULL &&
	    (m = pg_rows_get(&res->rows, 0, 1)) != NULL) {
		r->count = strtoll(c, NULL, 10);
		util_strlcpy(r->checksum, m, sizeof r->checksum);
	} else if (!res->ok) {
		diag_log(DIAG_WARN, "backups: reading %s for the backup's reference: %s",
		    r->table, res->error);
	}
	if (++b->n_refs_done < b->bc->n_tables && b->n_refs_done < BACKUPS_MAX_TABLES) {
		char sql[512];

		drill_table_sql(b->bc->tables[b->n_refs_done], sql, sizeof sql);
		pg_query(b->prod, sql, 0, NULL, backups_ref_done, b);
		return;
	}
	if (b->take_stage == 1)
		backups_take_spawn(b);
	else
		backups_take_finish(b);
}

/* Read every table's count and checksum (stage 1 before, 3 after). */
static void
backups_refs_read(struct backups *b, int stage)
{
	char sql[512];

	b->take_stage = stage;
	b->n_refs_done = 0;
	if (!backups_refs_wanted(b) || pg_state(b->prod) != PG_STATE_READY) {
		if (backups_refs_wanted(b))
			diag_log(DIAG_INFO, "backups: production not connected (%s): the "
			    "backup gets no reference", pg_error(b->prod));
		b->n_refs_done = 0;
		if (stage == 1)
			backups_take_spawn(b);
		else
			backups_take_finish(b);
		return;
	}
	drill_table_sql(b->bc->tables[0], sql, sizeof sql);
	pg_query(b->prod, sql, 0, NULL, backups_ref_done, b);
}

/* Append {label, tables: [{table, count_min, count_max, checksum}]} to the
 * references file: the counts before and after the backup bound what the
 * backup holds; the checksum is only kept when nothing changed. */
static void
backups_refs_write(struct backups *b, const char *label)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "tables");
	char *line;
	size_t n = b->bc->n_tables < BACKUPS_MAX_TABLES ? b->bc->n_tables : BACKUPS_MAX_TABLES;
	int fd;

	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddNumberToObject(o, "taken_ms", (double)b->job.ended_ms);
	for (size_t i = 0; i < n; i++) {
		const struct backups_ref *x = &b->before[i], *y = &b->after[i];
		cJSON *t;

		if (x->count < 0 || y->count < 0)
			continue;
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "table", x->table);
		cJSON_AddNumberToObject(t, "count_min", (double)(x->count < y->count ? x->count :
		    y->count));
		cJSON_AddNumberToObject(t, "count_max", (double)(x->count > y->count ? x->count :
		    y->count));
		if (x->count == y->count && strcmp(x->checksum, y->checksum) == 0)
			cJSON_AddStringToObject(t, "checksum", x->checksum);
		cJSON_AddItemToArray(arr, t);
	}
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (line == NULL)
		return;
	fd = open(b->refs_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		char *l2 = xasprintf("%s\n", line);
		ssize_t w = write(fd, l2, strlen(l2));

		if (w < 0 || (size_t)w != strlen(l2))
			diag_log(DIAG_WARN, "backups: writing %s: %s", b->refs_path,
			    strerror(errno));
		free(l2);
		close(fd);
	} else {
		diag_log(DIAG_WARN, "backups: cannot open %s: %s", b->refs_path, strerror(errno));
	}
	free(line);
}

/* The references recorded for LABEL into OUT (tables strings point into
 * NAMES, which the caller frees); how many. */
static size_t
backups_refs_lookup(const struct backups *b, const char *label, struct drill_table_expect *out,
    char (*names)[128], char (*sums)[40], size_t max)
{
	FILE *f = fopen(b->refs_path, "re");
	char *line = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		cJSON *o = cJSON_Parse(line), *arr, *t;
		const cJSON *l;

		if (o == NULL)
			continue;
		l = cJSON_GetObjectItemCaseSensitive(o, "label");
		if (!cJSON_IsString(l) || strcmp(l->valuestring, label) != 0) {
			cJSON_Delete(o);
			continue;
		}
		n = 0;		/* the last record of a label wins */
		arr = cJSON_GetObjectItemCaseSensitive(o, "tables");
		cJSON_ArrayForEach(t, arr) {
			const cJSON *tn = cJSON_GetObjectItemCaseSensitive(t, "table");
			const cJSON *lo = cJSON_GetObjectItemCaseSensitive(t, "count_min");
			const cJSON *hi = cJSON_GetObjectItemCaseSensitive(t, "count_max");
			const cJSON *cs = cJSON_GetObjectItemCaseSensitive(t, "checksum");

			if (n >= max || !cJSON_IsString(tn) || !cJSON_IsNumber(lo) ||
			    !cJSON_IsNumber(hi))
				continue;
			util_strlcpy(names[n], tn->valuestring, sizeof names[n]);
			out[n].table = names[n];
			out[n].count_min = (int64_t)lo->valuedouble;
			out[n].count_max = (int64_t)hi->valuedouble;
			out[n].checksum = NULL;
			if (cJSON_IsString(cs)) {
				util_strlcpy(sums[n], cs->valuestring, sizeof sums[n]);
				out[n].checksum = sums[n];
			}
			n++;
		}
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	return n;
}

/* ---- taking a backup ---------------------------------------------------- */

static void
backups_take_line(struct proc *p, const struct proc_line *l, void *ud)
{
	struct backups *b = ud;
	double pct;

	(void)p;
	if (pgbr_progress_line(l->data, l->len, &pct)) {
		if (pct > b->job.pct + 0.5 || pct >= 100.0) {
			b->job.pct = pct;
			backups_publish(b);
		}
		return;
	}
	if (backups_has(l->data, l->len, "ERROR")) {
		char *t = text_sanitize(l->data, l->len, 0);

		util_strlcpy(b->take_err, t, sizeof b->take_err);
		free(t);
	}
}

static void
backups_take_exit(struct proc *p, const struct proc_exit *ex, void *ud)
{
	struct backups *b = ud;

	(void)p;
	b->take_ok = ex->status == 0;
	if (b->take_ok)
		snprintf(b->take_words, sizeof b->take_words, "%s backup done", b->job.type);
	else
		snprintf(b->take_words, sizeof b->take_words, "%s backup failed: %.150s",
		    b->job.type, b->take_err[0] != '\0' ? b->take_err : ex->words);
	proc_free(&b->take_proc);
	if (b->freeing)
		return;
	b->job.pct = b->take_ok ? 100.0 : b->job.pct;
	if (b->take_ok)
		backups_refs_read(b, 3);
	else
		backups_take_finish(b);
}

static void
backups_take_spawn(struct backups *b)
{
	static const struct proc_cbs cbs = { backups_take_line, backups_take_exit };
	const char *extra[8];
	size_t n = 0;
	char *cfg = NULL, *stanza, *type;
	const char **av;
	struct proc_opts o;
	struct err e;

	b->take_stage = 2;
	if (b->bc->pgbr_config != NULL)
		extra[n++] = cfg = xasprintf("--config=%s", b->bc->pgbr_config);
	extra[n++] = stanza = xasprintf("--stanza=%s", b->bc->stanza);
	extra[n++] = type = xasprintf("--type=%s", b->job.type);
	extra[n++] = "--log-level-console=detail";
	extra[n++] = "backup";
	av = backups_argv(b, b->bc->pgbr_bin, extra, n);
	memset(&o, 0, sizeof o);
	memset(&e, 0, sizeof e);
	o.argv = av;
	o.timeout_ms = BACKUPS_TAKE_TIMEOUT_MS;
	b->take_proc = proc_start(b->loop, &o, &cbs, b, &e);
	free(av);
	free(cfg);
	free(stanza);
	free(type);
	if (b->take_proc == NULL) {
		b->take_ok = 0;
		snprintf(b->take_words, sizeof b->take_words, "%s backup failed: %.150s",
		    b->job.type, e.msg);
		backups_take_finish(b);
		return;
	}
	util_strlcpy(b->job.words, "backing up", sizeof b->job.words);
	backups_publish(b);
}

/* After the backup (and the references): an info run finds its label. */
static void
backups_take_finish(struct backups *b)
{
	b->job.ended_ms = util_wall_ms();
	if (!b->take_ok) {
		b->take_stage = 0;
		b->job.active = 0;
		b->job.finished = 1;
		b->job.ok = 0;
		util_strlcpy(b->job.words, b->take_words, sizeof b->job.words);
		backups_publish(b);
		if (b->take_done != NULL)
			b->take_done(0, b->take_words, b->take_ud);
		backups_info_run(b);
		return;
	}
	b->take_stage = 4;
	backups_info_run(b);
}

/* Called from the info run after a successful backup. */
static void
backups_take_labelled(struct backups *b)
{
	const struct pgbr_stanza *st = b->info != NULL ?
	    pgbr_info_stanza(b->info->info, b->bc->stanza) : NULL;
	const struct pgbr_backup *nb = st != NULL ? pgbr_stanza_newest(st) : NULL;
	char words[200];

	b->take_stage = 0;
	if (nb != NULL && nb->stop * 1000 >= b->job.started_ms - 1000) {
		snprintf(words, sizeof words, "%s backup done: %s", b->job.type, nb->label);
		if (backups_refs_wanted(b) && b->n_refs_done > 0)
			backups_refs_write(b, nb->label);
	} else {
		snprintf(words, sizeof words, "%s backup done (pgbackrest info does not list "
		    "it yet)", b->job.type);
	}
	b->job.active = 0;
	b->job.finished = 1;
	b->job.ok = 1;
	util_strlcpy(b->job.words, words, sizeof b->job.words);
	if (b->take_done != NULL)
		b->take_done(1, words, b->take_ud);
}

int
backups_take(struct backups *b, const char *type, backups_done_fn *done, void *ud,
    struct err *e)
{
	if (type == NULL || (strcmp(type, "full") != 0 && strcmp(type, "diff") != 0 &&
	    strcmp(type, "incr") != 0))
		return err_set(e, ERR_INVALID, "backup type must be full, diff or incr, not "
		    "'%.20s'", type != NULL ? type : "");
	if (b->job.active)
		return err_set(e, ERR_INVALID, "a %s is already running (started by this "
		    "console)", strcmp(b->job.type, "restore") == 0 ? "restore" : "backup");
	memset(&b->job, 0, sizeof b->job);
	b->job.active = 1;
	util_strlcpy(b->job.type, type, sizeof b->job.type);
	b->job.started_ms = util_wall_ms();
	b->job.pct = -1;
	util_strlcpy(b->job.words, "reading production's reference counts",
	    sizeof b->job.words);
	b->take_done = done;
	b->take_ud = ud;
	b->take_err[0] = '\0';
	memset(b->before, 0, sizeof b->before);
	memset(b->after, 0, sizeof b->after);
	backups_publish(b);
	backups_refs_read(b, 1);
	return 0;
}

/* ---- restore in place ----------------------------------------------------- */

static void backups_restore_step(struct backups *b);

static void
backups_restore_exit(struct proc *p, const struct proc_exit *ex, void *ud)
{
	struct backups *b = ud;
	char why[200];

	(void)p;
	proc_free(&b->take_proc);
	if (b->freeing)
		return;
	if (ex->status != 0) {
		util_strlcpy(why, b->take_err[0] != '\0' ? b->take_err : ex->words, sizeof why);
		if (b->take_stage == 1) {
			/* the server may still run: nothing was touched */
			snprintf(b->take_words, sizeof b->take_words, "restore failed: stopping "
			    "the server: %.150s", why);
			b->take_ok = 0;
			b->take_stage = 4;
		} else if (b->take_stage == 2) {
			snprintf(b->take_words, sizeof b->take_words, "restore failed: %.120s "
			    "(the server is started again on what its directory holds)", why);
			b->take_ok = 0;
			b->take_stage = 3;	/* start it anyway */
			backups_restore_step(b);
			return;
		} else {
			if (b->take_ok)
				snprintf(b->take_words, sizeof b->take_words, "restored, but the "
				    "server did not start: %.150s", why);
			else
				snprintf(b->take_words + strlen(b->take_words),
				    sizeof b->take_words - strlen(b->take_words),
				    "; it did not start either");
			b->take_ok = 0;
			b->take_stage = 4;
		}
	} else {
		b->take_stage++;
	}
	b->take_err[0] = '\0';
	backups_restore_step(b);
}

/* Run the command of the current stage, or finish. */
static void
backups_restore_step(struct backups *b)
{
	static const struct proc_cbs cbs = { backups_take_line, backups_restore_exit };
	const struct config_backups *bc = b->bc;
	const char *extra[12];
	char *cfg = NULL, *stanza = NULL, *set = NULL, *tgt = NULL;
	const char **av = NULL, *prog = NULL;
	size_t n = 0;
	struct proc_opts o;
	struct err e;

	if (b->take_stage == 4) {
		b->take_stage = 0;
		b->job.active = 0;
		b->job.finished = 1;
		b->job.ok = b->take_ok;
		b->job.ended_ms = util_wall_ms();
		if (b->take_ok)
			snprintf(b->take_words, sizeof b->take_words, "restore done: %s, the "
			    "server is up", b->restore_what);
		util_strlcpy(b->job.words, b->take_words, sizeof b->job.words);
		backups_publish(b);
		if (b->take_done != NULL)
			b->take_done(b->take_ok, b->take_words, b->take_ud);
		backups_info_run(b);
		return;
	}
	if (b->take_stage == 1) {
		prog = bc->restore_stop[0];
		for (size_t i = 1; bc->restore_stop[i] != NULL && n < 11; i++)
			extra[n++] = bc->restore_stop[i];
		util_strlcpy(b->job.words, "stopping the server", sizeof b->job.words);
	} else if (b->take_stage == 2) {
		prog = bc->pgbr_bin;
		if (bc->pgbr_config != NULL)
			extra[n++] = cfg = xasprintf("--config=%s", bc->pgbr_config);
		extra[n++] = stanza = xasprintf("--stanza=%s", bc->stanza);
		extra[n++] = "--delta";
		if (b->restore_label[0] != '\0')
			extra[n++] = set = xasprintf("--set=%s", b->restore_label);
		if (b->restore_target[0] != '\0') {
			extra[n++] = "--type=time";
			extra[n++] = tgt = xasprintf("--target=%s", b->restore_target);
		} else {
			extra[n++] = "--type=immediate";
		}
		extra[n++] = "--target-action=promote";
		extra[n++] = "--log-level-console=detail";
		extra[n++] = "restore";
		b->job.pct = 0;
		snprintf(b->job.words, sizeof b->job.words, "restoring %s", b->restore_what);
	} else {
		prog = bc->restore_start[0];
		for (size_t i = 1; bc->restore_start[i] != NULL && n < 11; i++)
			extra[n++] = bc->restore_start[i];
		util_strlcpy(b->job.words, "starting the server", sizeof b->job.words);
	}
	av = backups_argv(b, prog, extra, n);
	memset(&o, 0, sizeof o);
	memset(&e, 0, sizeof e);
	o.argv = av;
	o.timeout_ms = BACKUPS_TAKE_TIMEOUT_MS;
	diag_log(DIAG_INFO, "backups: restore in place: %s", b->job.words);
	b->take_proc = proc_start(b->loop, &o, &cbs, b, &e);
	free(av);
	free(cfg);
	free(stanza);
	free(set);
	free(tgt);
	if (b->take_proc == NULL) {
		struct proc_exit ex;

		memset(&ex, 0, sizeof ex);
		ex.status = 127;
		ex.words = e.msg;
		util_strlcpy(b->take_err, e.msg, sizeof b->take_err);
		backups_restore_exit(NULL, &ex, b);
		return;
	}
	backups_publish(b);
}

int
backups_restore(struct backups *b, const char *label, const char *target,
    backups_done_fn *done, void *ud, struct err *e)
{
	if (b->bc->restore_stop == NULL || b->bc->restore_start == NULL)
		return err_set(e, ERR_INVALID, "restore in place needs backups.restore.stop and "
		    ".start: the commands that stop and start this server");
	if (b->job.active)
		return err_set(e, ERR_INVALID, "a %s is running (started by this console)",
		    b->job.type);
	if (b->drill != NULL)
		return err_set(e, ERR_INVALID, "a drill is running: wait for it or cancel it");
	memset(&b->job, 0, sizeof b->job);
	b->job.active = 1;
	util_strlcpy(b->job.type, "restore", sizeof b->job.type);
	b->job.started_ms = util_wall_ms();
	b->job.pct = -1;
	util_strlcpy(b->restore_label, label != NULL ? label : "", sizeof b->restore_label);
	util_strlcpy(b->restore_target, target != NULL ? target : "", sizeof b->restore_target);
	if (target != NULL)
		snprintf(b->restore_what, sizeof b->restore_what, "%.40s", target);
	else
		snprintf(b->restore_what, sizeof b->restore_what, "%.63s",
		    label != NULL ? label : "the newest backup");
	b->take_done = done;
	b->take_ud = ud;
	b->take_err[0] = '\0';
	b->take_ok = 1;
	b->take_stage = 1;
	backups_restore_step(b);
	return 0;
}

/* ---- drills -------------------------------------------------------------- */

static void
backups_history_append(struct backups *b, const struct drill_result *r)
{
	char *json = drill_result_json(r);
	char *line;
	int fd;

	if (json == NULL)
		return;
	line = xasprintf("%s\n", json);
	fd = open(b->drills_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		diag_log(DIAG_WARN, "backups: writing the drill history %s: %s", b->drills_path,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
	free(line);
	free(json);
	backups_history_reload(b);
}

static void
backups_drill_phase(struct drill *d, enum drill_phase ph, void *ud)
{
	struct backups *b = ud;
	const struct drill_result *r = drill_result(d);

	b->dnow.phase = ph;
	for (int i = 0; i < DRILL_N_PHASES; i++)
		b->dnow.phase_ms[i] = r != NULL && (r->phases[i].state == DRILL_STEP_OK ||
		    r->phases[i].state == DRILL_STEP_FAILED) ? (int64_t)r->phases[i].duration_ms :
		    -1;
	if (r != NULL && r->backup_label[0] != '\0')
		util_strlcpy(b->dnow.label, r->backup_label, sizeof b->dnow.label);
	backups_publish(b);
}

static void
backups_drill_done(struct drill *d, const struct drill_result *r, void *ud)
{
	struct backups *b = ud;
	char words[300];
	int ok = r->verdict == DRILL_PASSED;

	(void)d;
	backups_history_append(b, r);
	if (ok)
		snprintf(words, sizeof words, "drill PASSED: RTO %.1f s, RPO %.1f s (%s)",
		    (double)r->rto_ms / 1000.0, (double)r->rpo_ms / 1000.0,
		    r->backup_label[0] != '\0' ? r->backup_label : "newest backup");
	else
		snprintf(words, sizeof words, "drill %s: %.250s", drill_verdict_name(r->verdict),
		    r->reason);
	if (b->drill_result_fn != NULL)
		b->drill_result_fn(r, b->drill_ud);
	memset(&b->dnow, 0, sizeof b->dnow);
	if (!b->freeing)
		backups_publish(b);
	if (b->drill_done != NULL)
		b->drill_done(ok, words, b->drill_ud);
	b->drill_done = NULL;
	b->drill_result_fn = NULL;
	drill_free(&b->drill);		/* R goes with it */
}

/* pg1-path and pg1-port of STANZA in pgBackRest's configuration FILE (the
 * stanza's section wins over [global]).  -1 when the file cannot be read. */
static int
backups_pgbr_conf(const char *file, const char *stanza, char *path, size_t plen, int *port)
{
	FILE *f = fopen(file != NULL ? file : "/etc/pgbackrest/pgbackrest.conf", "re");
	char line[1024], section[128] = "";
	char gpath[1024] = "", spath[1024] = "";
	int gport = 0, sport = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *s = line, *eq, *end;

		while (isspace((unsigned char)*s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*s == '#' || *s == '\0')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close != NULL) {
				*close = '\0';
				util_strlcpy(section, s + 1, sizeof section);
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		for (end = eq; end > s && isspace((unsigned char)end[-1]);)
			*--end = '\0';
		eq++;
		while (isspace((unsigned char)*eq))
			eq++;
		if (strcmp(section, "global") != 0 && strcmp(section, stanza) != 0)
			continue;
		if (strcmp(s, "pg1-path") == 0)
			util_strlcpy(strcmp(section, "global") == 0 ? gpath : spath, eq,
			    sizeof gpath);
		else if (strcmp(s, "pg1-port") == 0)
			*(strcmp(section, "global") == 0 ? &gport : &sport) = atoi(eq);
	}
	fclose(f);
	util_strlcpy(path, spath[0] != '\0' ? spath : gpath, plen);
	*port = sport > 0 ? sport : gport > 0 ? gport : 5432;
	return 0;
}

int
backups_drill(struct backups *b, const char *label, const char *target,
    backups_drill_result_fn *result_fn, backups_done_fn *done, void *ud, struct err *e)
{
	static const struct drill_cbs cbs = { backups_drill_phase, backups_drill_done };
	const struct config_backups *bc = b->bc;
	const char *url = getenv(bc->drill_url_env);
	const struct pgbr_stanza *st = b->info != NULL ?
	    pgbr_info_stanza(b->info->info, bc->stanza) : NULL;
	const struct pgbr_backup *bk = NULL;
	struct drill_table_expect expect[BACKUPS_MAX_TABLES];
	char names[BACKUPS_MAX_TABLES][128], sums[BACKUPS_MAX_TABLES][40];
	struct drill_check *checks = NULL;
	struct drill_opts o;
	char data_dir[1024] = "";
	int prod_port = 0;

	if (b->drill != NULL)
		return err_set(e, ERR_INVALID, "a drill is already running");
	if (b->job.active && strcmp(b->job.type, "restore") == 0)
		return err_set(e, ERR_INVALID, "a restore in place is running");
	if (url == NULL || *url == '\0')
		return err_set(e, ERR_INVALID, "the drill needs production's connection "
		    "string in $%s (backups.drill.url_env): its user, password and "
		    "database are used against the restored copy", bc->drill_url_env);
	if (backups_pgbr_conf(bc->pgbr_config, bc->stanza, data_dir, sizeof data_dir,
	    &prod_port) != 0 || data_dir[0] == '\0')
		return err_set(e, ERR_INVALID, "cannot read pg1-path of stanza %s from %s: "
		    "the drill must know production's data directory to stay away from it",
		    bc->stanza, bc->pgbr_config != NULL ? bc->pgbr_config :
		    "/etc/pgbackrest/pgbackrest.conf");
	if (st != NULL) {
		for (size_t i = 0; i < st->n_backups; i++)
			if (label != NULL && strcmp(st->backups[i].label, label) == 0)
				bk = &st->backups[i];
		if (label == NULL)
			bk = pgbr_stanza_newest(st);
		if (label != NULL && bk == NULL)
			return err_set(e, ERR_INVALID, "stanza %s has no backup %.64s",
			    bc->stanza, label);
	}
	memset(&o, 0, sizeof o);
	o.wrapper = (const char *const *)bc->wrapper;
	o.pgbackrest = bc->pgbr_bin;
	o.pgbr_config = bc->pgbr_config;
	o.stanza = bc->stanza;
	o.pg_bin = bc->pg_bin;
	o.set = label;
	o.target_time = target;
	o.backup_stop_s = bk != NULL ? bk->stop : 0;
	o.scratch_root = bc->scratch;
	o.port = bc->drill_port;
	o.conninfo = url;
	o.prod_data_dir = data_dir;
	o.prod_port = prod_port;
	o.tables = (const char *const *)bc->tables;
	o.n_tables = bc->n_tables;
	if (bk != NULL && target == NULL)
		o.n_expect = backups_refs_lookup(b, bk->label, expect, names, sums,
		    BACKUPS_MAX_TABLES);
	o.expect = expect;
	if (bc->n_checks > 0) {
		checks = xcalloc(bc->n_checks, sizeof *checks);
		for (size_t i = 0; i < bc->n_checks; i++) {
			checks[i].name = bc->checks[i].name;
			checks[i].sql = bc->checks[i].sql;
			checks[i].expect = bc->checks[i].expect;
		}
	}
	o.checks = checks;
	o.n_checks = bc->n_checks;
	o.smoke = (const char *const *)bc->smoke;
	o.timeout_ms = (uint64_t)bc->drill_timeout_ms;
	b->drill = drill_start(b->loop, &o, &cbs, b, e);
	free(checks);
	if (b->drill == NULL)
		return -1;
	b->drill_result_fn = result_fn;
	b->drill_done = done;
	b->drill_ud = ud;
	memset(&b->dnow, 0, sizeof b->dnow);
	b->dnow.active = 1;
	b->dnow.phase = DRILL_PREPARE;
	b->dnow.started_ms = util_wall_ms();
	for (int i = 0; i < DRILL_N_PHASES; i++)
		b->dnow.phase_ms[i] = -1;
	util_strlcpy(b->dnow.label, bk != NULL ? bk->label : label != NULL ? label : "",
	    sizeof b->dnow.label);
	backups_publish(b);
	return 0;
}

void
backups_drill_cancel(struct backups *b)
{
	if (b != NULL && b->drill != NULL)
		drill_cancel(b->drill);
}

/* ---- history ------------------------------------------------------------- */

static int64_t
backups_json_int(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static void
backups_json_str(const cJSON *o, const char *name, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	buf[0] = '\0';
	if (cJSON_IsString(v)) {
		char *t = text_sanitize(v->valuestring, strlen(v->valuestring), 0);

		util_strlcpy(buf, t, len);
		free(t);
	}
}

size_t
backups_history_read(const char *path, struct backups_drill_rec *out, size_t max)
{
	FILE *f = fopen(path, "re");
	struct backups_drill_rec *ring;
	char *line = NULL;
	size_t cap = 0, n = 0, total = 0;

	if (f == NULL || max == 0) {
		if (f != NULL)
			fclose(f);
		return 0;
	}
	ring = xcalloc(max, sizeof *ring);
	while (getline(&line, &cap, f) > 0) {
		cJSON *o = cJSON_Parse(line);
		struct backups_drill_rec *r = &ring[total % max];
		char when[40];

		if (o == NULL || !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			continue;
		}
		memset(r, 0, sizeof *r);
		backups_json_str(o, "verdict", r->verdict, sizeof r->verdict);
		backups_json_str(o, "label", r->label, sizeof r->label);
		backups_json_str(o, "target", r->target, sizeof r->target);
		backups_json_str(o, "reason", r->reason, sizeof r->reason);
		r->rto_ms = backups_json_int(o, "rto_ms");
		r->rpo_ms = backups_json_int(o, "rpo_ms");
		r->total_ms = backups_json_int(o, "total_ms");
		r->started_ms = backups_json_int(o, "started_ms");
		r->recovery_point_ms = backups_json_int(o, "recovery_point_ms");
		backups_json_str(o, "started", when, sizeof when);
		cJSON_Delete(o);
		if (r->verdict[0] == '\0')
			continue;
		total++;
	}
	free(line);
	fclose(f);
	/* newest first */
	n = total < max ? total : max;
	for (size_t i = 0; i < n; i++)
		out[i] = ring[(total - 1 - i) % max];
	free(ring);
	return n;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct backups *
backups_new(uv_loop_t *loop, const struct config *cfg, struct store *store,
    const char *audit_path, struct err *e)
{
	struct backups *b;
	const char *url;

	if (cfg == NULL || !cfg->backups.enabled || cfg->backups.stanza == NULL) {
		err_set(e, ERR_INVALID, "backups need backups.pgbackrest.stanza");
		return NULL;
	}
	b = xcalloc(1, sizeof *b);
	b->loop = loop;
	b->cfg = cfg;
	b->bc = &cfg->backups;
	b->store = store;
	b->conn = BACKUPS_CONNECTING;
	backups_state_path(audit_path, BACKUPS_DRILLS_FILE, b->drills_path,
	    sizeof b->drills_path);
	backups_state_path(audit_path, BACKUPS_REFS_FILE, b->refs_path, sizeof b->refs_path);
	backups_history_reload(b);
	b->poll_timer = loop_timer_new(loop, backups_poll_cb, b);
	b->recalc_timer = loop_timer_new(loop, backups_recalc_cb, b);
	url = getenv(b->bc->drill_url_env);
	if (b->bc->n_tables > 0 && url != NULL && *url != '\0') {
		struct pg_opts po;

		memset(&po, 0, sizeof po);
		po.conninfo = url;
		po.statement_timeout_ms = 300000;	/* checksums of big tables */
		b->prod = pg_new(loop, &po, NULL, NULL);
	}
	if (store != NULL) {
		store_source_set(store, BACKUPS_SOURCE, STORE_STATE_CONNECTING, NULL);
		store_subscribe(store, backups_store_cb, b);
	}
	return b;
}

void
backups_start(struct backups *b)
{
	if (b == NULL)
		return;
	backups_publish(b);
	/* the first info and the connection start from the loop: the first
	 * frame comes before them */
	loop_timer_start(b->poll_timer, 0, 0);
}

int
backups_restoring(const struct backups *b)
{
	return b != NULL && b->job.active && strcmp(b->job.type, "restore") == 0;
}

int
backups_busy(const struct backups *b)
{
	return b != NULL && b->drill != NULL;
}

const struct backups_snap *
backups_snapshot(const struct backups *b)
{
	return b != NULL ? b->snap : NULL;
}

void
backups_free(struct backups **bp)
{
	struct backups *b;

	if (bp == NULL || (b = *bp) == NULL)
		return;
	*bp = NULL;
	b->freeing = 1;
	if (b->store != NULL)
		store_unsubscribe(b->store, backups_store_cb, b);
	drill_free(&b->drill);
	proc_free(&b->info_proc);
	proc_free(&b->take_proc);
	pg_free(&b->prod);
	loop_timer_free(&b->poll_timer);
	loop_timer_free(&b->recalc_timer);
	backups_info_unref(b->info);
	free(b);
}
