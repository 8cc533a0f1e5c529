/* test_backups.c - the backups pane's golden screens (OK with a backup being
 * taken and a drill history, STALE with reasons, never read), the drill
 * history file reader, the state paths and the backups: configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "golden.h"
#include "signalbox/backups.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/pgbr.h"
#include "signalbox/store.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

/* a minute after the fixture's last archived WAL (1795455484) */
#define NOW_MS 1795455544000LL

static char *
read_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("SIGNALBOX_SOURCE_DIR");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/tests/fixtures/pgbackrest/%s", dir ? dir : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
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

static void
snap_free(void *p)
{
	struct backups_snap *s = p;

	if (s->info != NULL && --s->info->refs == 0) {
		pgbr_info_free(&s->info->info);
		free(s->info);
	}
	free(s);
}

/* A snapshot over FIXTURE (NULL: never read). */
static struct backups_snap *
snap_new(const char *fixture)
{
	struct backups_snap *s = xcalloc(1, sizeof *s);
	struct err e;

	snprintf(s->stanza_name, sizeof s->stanza_name, "main");
	snprintf(s->where, sizeof s->where, "stanza main (/etc/pgbackrest/pgbackrest.conf)");
	s->max_age_ms = 26LL * 3600 * 1000;
	for (int i = 0; i < DRILL_N_PHASES; i++)
		s->drill.phase_ms[i] = -1;
	if (fixture != NULL) {
		size_t len;
		char *json = read_fixture(fixture, &len);

		s->info = xcalloc(1, sizeof *s->info);
		s->info->refs = 1;
		memset(&e, 0, sizeof e);
		assert_int_equal(pgbr_info_parse(json, len, &s->info->info, &e), 0);
		free(json);
		s->stanza = pgbr_info_stanza(s->info->info, "main");
		assert_non_null(s->stanza);
		s->info_ms = NOW_MS - 12000;
		s->conn = BACKUPS_UP;
		s->have_archiver = 1;
		s->archived = 7;
		s->last_archived_ms = 1795455484000LL;
		snprintf(s->last_archived_wal, sizeof s->last_archived_wal,
		    "000000010000000000000007");
		pgbr_pitr_window(s->stanza, s->last_archived_ms / 1000, &s->pitr);
	}
	return s;
}

static void
add_history(struct backups_snap *s)
{
	struct backups_drill_rec *r = &s->history[0];

	snprintf(r->verdict, sizeof r->verdict, "FAILED");
	snprintf(r->reason, sizeof r->reason, "check 'customers-present': got f, expected t");
	r->started_ms = NOW_MS - 600000;
	r->rto_ms = 1900;
	r->rpo_ms = 4000;
	r = &s->history[1];
	snprintf(r->verdict, sizeof r->verdict, "PASSED");
	snprintf(r->label, sizeof r->label, "20261123-173754F_20261123-173800I");
	r->started_ms = NOW_MS - 3600000;
	r->rto_ms = 1684;
	r->rpo_ms = 62000;
	s->n_history = 2;
}

static char *
render(struct store *st, struct view *v, int w, int h, struct canvas **keep)
{
	struct canvas *cv = canvas_mem_new(w, h, 0);
	char *out;

	v->now_ms = NOW_MS;
	v->ops->update(v, st);
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
}

static void
test_pane_ok(void **state)
{
	struct store *st = store_new();
	struct view_host host;
	struct view *v;
	struct backups_snap *s = snap_new("one_stanza.json");
	char *out, badge[32];
	int bad;

	(void)state;
	memset(&host, 0, sizeof host);
	add_history(s);
	s->job.active = 1;
	snprintf(s->job.type, sizeof s->job.type, "incr");
	s->job.started_ms = NOW_MS - 7000;
	s->job.pct = 43;
	snprintf(s->job.words, sizeof s->job.words, "backing up");
	store_publish(st, STORE_TOPIC_BACKUPS, s, snap_free);
	v = view_new(&backups_view_ops, &host, NULL);
	assert_non_null(v);
	out = render(st, v, 80, 24, NULL);
	check_golden("backups/ok-80x24", out);
	assert_non_null(strstr(out, "pgBackRest  OK  stanza main"));
	assert_non_null(strstr(out, "20261123-173754F_20261123-173800I"));
	assert_non_null(strstr(out, "PITR window  2026-11-23 17:37:56 → 2026-11-23 17:38:04 UTC"));
	assert_non_null(strstr(out, "Backup incr"));
	assert_non_null(strstr(out, "43%"));
	assert_non_null(strstr(out, "PASSED    RTO 1.7s"));
	assert_non_null(strstr(out, "customers-present"));
	free(out);
	out = render(st, v, 200, 50, NULL);
	check_golden("backups/ok-200x50", out);
	/* the wide layout has the LSN range */
	assert_non_null(strstr(out, "LSN"));
	free(out);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "backup 43%");
	assert_false(bad);
	/* newest first; the selection stays on its backup across refreshes */
	assert_int_equal(v->ops->key(v, ACTION_MOVE_DOWN, NULL), 1);
	s = snap_new("one_stanza.json");
	store_publish(st, STORE_TOPIC_BACKUPS, s, snap_free);
	out = render(st, v, 80, 24, NULL);
	assert_non_null(strstr(out, "→  20261123-173754F_20261123-173757D"));
	free(out);
	view_free(&v);
	store_free(&st);
}

static void
test_pane_stale_degraded(void **state)
{
	struct store *st = store_new();
	struct view_host host;
	struct view *v;
	struct backups_snap *s = snap_new("one_stanza.json");
	struct canvas *cv;
	char *out, badge[32];
	int bad, y, dim = 0;

	(void)state;
	memset(&host, 0, sizeof host);
	s->conn = BACKUPS_STALE;
	s->info_ms = NOW_MS - 300000;
	snprintf(s->error, sizeof s->error, "ERROR: [104]: unable to get lock on repo");
	s->last_failed_ms = NOW_MS - 20000;
	s->archive_failed = 3;
	snprintf(s->last_failed_wal, sizeof s->last_failed_wal, "000000010000000000000008");
	s->degraded = 1;
	snprintf(s->degraded_why, sizeof s->degraded_why, "archiving fails "
	    "(000000010000000000000008); ERROR: [104]: unable to get lock on repo");
	store_publish(st, STORE_TOPIC_BACKUPS, s, snap_free);
	v = view_new(&backups_view_ops, &host, NULL);
	out = render(st, v, 80, 24, &cv);
	check_golden("backups/stale-80x24", out);
	assert_non_null(strstr(out, "pgBackRest  STALE"));
	assert_non_null(strstr(out, "data 5m ago"));
	assert_non_null(strstr(out, "pgbackrest info failed: ERROR: [104]"));
	assert_non_null(strstr(out, "FAILING (000000010000000000000008, 20s ago)"));
	/* old rows are dimmed, never drawn as fresh */
	for (y = 0; y < 24; y++)
		if (strstr(canvas_mem_row(cv, y), "20261123-173754F_20261123-173757D") != NULL)
			break;
	assert_true(y < 24);
	for (int x = 40; x < 60; x++)
		dim += canvas_mem_style(cv, y, x) == STYLE_DIM;
	assert_true(dim > 5);
	canvas_mem_free(&cv);
	free(out);
	v->ops->badge(v, badge, sizeof badge, &bad);
	assert_string_equal(badge, "info failed");
	assert_true(bad);
	view_free(&v);

	/* never read: the reason, no figures */
	s = snap_new(NULL);
	s->conn = BACKUPS_FAILED;
	snprintf(s->error, sizeof s->error, "cannot run 'pgbackrest': no such file or directory");
	store_publish(st, STORE_TOPIC_BACKUPS, s, snap_free);
	v = view_new(&backups_view_ops, &host, NULL);
	out = render(st, v, 80, 24, NULL);
	check_golden("backups/failed-80x24", out);
	assert_non_null(strstr(out, "pgBackRest  ERROR"));
	assert_non_null(strstr(out, "no such file or directory"));
	free(out);
	view_free(&v);
	store_free(&st);
}

static void
test_history_file(void **state)
{
	char path[] = "/tmp/signalbox-test-drills-XXXXXX";
	struct backups_drill_rec r[3];
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\"verdict\":\"PASSED\",\"label\":\"A\",\"rto_ms\":1500,\"rpo_ms\":10,"
	    "\"started_ms\":1000}\n", f);
	fputs("not json at all\n", f);
	fputs("{\"verdict\":\"FAILED\",\"reason\":\"check 'x': got f\\u001b[2J, expected t\","
	    "\"started_ms\":2000,\"rto_ms\":null}\n", f);
	fputs("{\"label\":\"no verdict\"}\n", f);
	fputs("{\"verdict\":\"PASSED\",\"label\":\"C\",\"started_ms\":3000}\n", f);
	fclose(f);
	/* newest first, at most 2, junk skipped */
	assert_int_equal(backups_history_read(path, r, 2), 2);
	assert_string_equal(r[0].label, "C");
	assert_string_equal(r[1].verdict, "FAILED");
	assert_null(strchr(r[1].reason, '\033'));	/* sanitised */
	assert_int_equal(r[1].rto_ms, -1);
	assert_int_equal(backups_history_read(path, r, 3), 3);
	assert_string_equal(r[2].label, "A");
	assert_int_equal(r[2].rto_ms, 1500);
	unlink(path);
	assert_int_equal(backups_history_read(path, r, 3), 0);
}

static void
test_state_path_and_config(void **state)
{
	static const char good[] = "backups:\n  wrapper: [sudo, -n, -u, postgres, --]\n"
	    "  pgbackrest: { config: /etc/pgbackrest/pgbackrest.conf, stanza: main }\n"
	    "  drill:\n    tables: [orders, public.customers]\n"
	    "    checks:\n      - { name: ok, sql: 'select true' }\n";
	static const char bad[] = "backups:\n  pgbackrest: { stanza: main, max_age: soon }\n"
	    "  drill: { tables: [\"orders; drop\"], port: 70000 }\n";
	struct config cfg;
	struct err e;
	char buf[256];

	(void)state;
	backups_state_path("/home/op/.local/state/signalbox/audit.jsonl", BACKUPS_DRILLS_FILE,
	    buf, sizeof buf);
	assert_string_equal(buf, "/home/op/.local/state/signalbox/drills.jsonl");
	backups_state_path("audit.jsonl", BACKUPS_REFS_FILE, buf, sizeof buf);
	assert_string_equal(buf, "backup-refs.jsonl");

	config_init(&cfg);
	memset(&e, 0, sizeof e);
	assert_int_equal(config_load_string(&cfg, good, sizeof good - 1, "g.yml", &e), 0);
	assert_true(cfg.backups.enabled);
	assert_true(view_backups_enabled(&cfg));
	assert_string_equal(cfg.backups.wrapper[0], "sudo");
	assert_null(cfg.backups.wrapper[5]);
	assert_int_equal(cfg.backups.n_tables, 2);
	assert_string_equal(cfg.backups.tables[1], "public.customers");
	assert_int_equal(cfg.backups.n_checks, 1);
	assert_string_equal(cfg.backups.checks[0].expect, "t");
	assert_int_equal(cfg.backups.max_age_ms, 26LL * 3600 * 1000);
	config_fini(&cfg);

	config_init(&cfg);
	memset(&e, 0, sizeof e);
	assert_int_equal(config_load_string(&cfg, bad, sizeof bad - 1, "b.yml", &e), -1);
	assert_non_null(strstr(e.msg, "b.yml:2:"));
	assert_non_null(strstr(e.msg, "table 'orders; drop' is not a plain name"));
	assert_non_null(strstr(e.msg, "b.yml:3:"));
	config_fini(&cfg);

	/* without backups: the pane stays out of the tabs */
	config_init(&cfg);
	assert_false(view_backups_enabled(&cfg));
	config_fini(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pane_ok),
		cmocka_unit_test(test_pane_stale_degraded),
		cmocka_unit_test(test_history_file),
		cmocka_unit_test(test_state_path_and_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
