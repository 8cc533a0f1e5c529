/* drill_run.c - one restore drill (drill.h) from the command line, for
 * sandbox/tests/test_backup_drill.sh.
 *
 *   drill_run --pgbr-config FILE --stanza NAME --pg-bin DIR --scratch DIR
 *             --prod-data-dir DIR --prod-port N [--wrapper "runuser -u postgres --"]
 *             [--pgbackrest PROG] [--set LABEL] [--target TIME] [--port N]
 *             [--table T]... [--expect T=MIN[..MAX][:MD5]]...
 *             [--check NAME=SQL=EXPECT]... [--smoke "shell command"]
 *             [--backup-stop EPOCH_S] [--timeout DURATION]
 *
 * Production's connection string comes from $DATABASE_URL.  Phase changes
 * go to stderr as "drill: PHASE STATE [MS ms] WORDS", the result's JSON to
 * stdout.  SIGINT/SIGTERM cancel the drill (its server is still stopped).
 * Exit status: 0 PASSED, 1 FAILED or CANCELLED, 2 bad usage or refused.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/drill.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum { MAX_ITEMS = 64 };

struct run {
	uv_loop_t *loop;
	struct drill *d;
	uv_signal_t sigint, sigterm;
	enum drill_step seen[DRILL_N_PHASES];
	char words[DRILL_N_PHASES][DRILL_WORDS_MAX];
	int status;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: drill_run --pgbr-config FILE --stanza NAME --pg-bin DIR --scratch DIR\n"
	    "                 --prod-data-dir DIR --prod-port N [--wrapper \"ARGV...\"]\n"
	    "                 [--pgbackrest PROG] [--set LABEL] [--target TIME] [--port N]\n"
	    "                 [--table T]... [--expect T=MIN[..MAX][:MD5]]...\n"
	    "                 [--check NAME=SQL=EXPECT]... [--smoke \"COMMAND\"]\n"
	    "                 [--backup-stop EPOCH_S] [--timeout DURATION]\n"
	    "production's connection string: $DATABASE_URL\n");
}

/* S split on blanks into a NULL-terminated vector; the words live in
 * *COPY (the caller frees both). */
static const char **
split_words(const char *s, char **copy_out)
{
	const char **v = xcalloc(strlen(s) / 2 + 2, sizeof *v);
	size_t n = 0;
	char *copy = xstrdup(s), *save = NULL;

	*copy_out = copy;
	for (char *w = strtok_r(copy, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save))
		v[n++] = w;
	v[n] = NULL;
	return v;
}

static void
on_phase(struct drill *d, enum drill_phase p, void *ud)
{
	struct run *r = ud;
	const struct drill_phase_result *ph = &drill_result(d)->phases[p];

	if (ph->state == r->seen[p] && strcmp(ph->words, r->words[p]) == 0)
		return;
	r->seen[p] = ph->state;
	util_strlcpy(r->words[p], ph->words, sizeof r->words[p]);
	if (ph->state == DRILL_STEP_RUNNING)
		fprintf(stderr, "drill: %-8s %-7s %s\n", drill_phase_name(p),
		    drill_step_name(ph->state), ph->words);
	else
		fprintf(stderr, "drill: %-8s %-7s %llu ms  %s\n", drill_phase_name(p),
		    drill_step_name(ph->state), (unsigned long long)ph->duration_ms, ph->words);
}

static void
on_done(struct drill *d, const struct drill_result *res, void *ud)
{
	struct run *r = ud;
	char *json = drill_result_json(res);

	fprintf(stderr, "drill: %s in %lld ms, RTO %lld ms, RPO %lld ms%s%s\n",
	    drill_verdict_name(res->verdict), (long long)res->total_ms, (long long)res->rto_ms,
	    (long long)res->rpo_ms, res->reason[0] ? ": " : "", res->reason);
	for (size_t i = 0; i < res->n_log_tail; i++)
		fprintf(stderr, "drill: log: %s\n", res->log_tail[i]);
	printf("%s\n", json);
	fflush(stdout);
	free(json);
	r->status = res->verdict == DRILL_PASSED ? 0 : 1;
	uv_close((uv_handle_t *)&r->sigint, NULL);
	uv_close((uv_handle_t *)&r->sigterm, NULL);
	(void)d;
	drill_free(&r->d);
}

static void
on_signal(uv_signal_t *h, int sig)
{
	struct run *r = h->data;

	fprintf(stderr, "drill: signal %d: cancelling\n", sig);
	drill_cancel(r->d);
}

/* "T=MIN[..MAX][:MD5]" into X; -1 when malformed. */
static int
parse_expect(char *arg, struct drill_table_expect *x)
{
	char *eq = strchr(arg, '='), *colon, *dots, *end;

	if (eq == NULL)
		return -1;
	*eq = '\0';
	x->table = arg;
	x->count_min = x->count_max = -1;
	x->checksum = NULL;
	if ((colon = strchr(eq + 1, ':')) != NULL) {
		*colon = '\0';
		x->checksum = colon + 1;
	}
	if (eq[1] == '\0')
		return 0;
	x->count_min = strtoll(eq + 1, &end, 10);
	if ((dots = strstr(eq + 1, "..")) != NULL && end == dots)
		x->count_max = strtoll(dots + 2, &end, 10);
	else
		x->count_max = x->count_min;
	return *end == '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wrapper", required_argument, NULL, 'w' },
		{ "pgbackrest", required_argument, NULL, 'B' },
		{ "pgbr-config", required_argument, NULL, 'c' },
		{ "stanza", required_argument, NULL, 's' },
		{ "pg-bin", required_argument, NULL, 'b' },
		{ "set", required_argument, NULL, 'S' },
		{ "target", required_argument, NULL, 'T' },
		{ "scratch", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "table", required_argument, NULL, 't' },
		{ "expect", required_argument, NULL, 'e' },
		{ "check", required_argument, NULL, 'k' },
		{ "smoke", required_argument, NULL, 'm' },
		{ "prod-data-dir", required_argument, NULL, 'D' },
		{ "prod-port", required_argument, NULL, 'P' },
		{ "backup-stop", required_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct drill_opts o;
	const char *tables[MAX_ITEMS];
	struct drill_table_expect expect[MAX_ITEMS];
	struct drill_check checks[MAX_ITEMS];
	const char *smoke[4] = { "sh", "-c", NULL, NULL };
	struct drill_cbs cbs = { on_phase, on_done };
	struct run r;
	struct err e;
	uv_loop_t loop;
	int64_t ms;
	int c;
	char *wrapper_words = NULL;

	memset(&o, 0, sizeof o);
	memset(&r, 0, sizeof r);
	o.tables = tables;
	o.expect = expect;
	o.checks = checks;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (o.wrapper != NULL)
				goto bad;
			o.wrapper = split_words(optarg, &wrapper_words);
			break;
		case 'B':
			o.pgbackrest = optarg;
			break;
		case 'c':
			o.pgbr_config = optarg;
			break;
		case 's':
			o.stanza = optarg;
			break;
		case 'b':
			o.pg_bin = optarg;
			break;
		case 'S':
			o.set = optarg;
			break;
		case 'T':
			o.target_time = optarg;
			break;
		case 'r':
			o.scratch_root = optarg;
			break;
		case 'p':
			o.port = atoi(optarg);
			break;
		case 't':
			if (o.n_tables == MAX_ITEMS)
				goto bad;
			tables[o.n_tables++] = optarg;
			break;
		case 'e':
			if (o.n_expect == MAX_ITEMS || parse_expect(optarg, &expect[o.n_expect]) != 0)
				goto bad;
			o.n_expect++;
			break;
		case 'k': {
			/* NAME=SQL=EXPECT: the SQL may hold '=' itself */
			char *first = strchr(optarg, '='), *last = strrchr(optarg, '=');

			if (o.n_checks == MAX_ITEMS || first == NULL || first == last)
				goto bad;
			*first = '\0';
			*last = '\0';
			checks[o.n_checks].name = optarg;
			checks[o.n_checks].sql = first + 1;
			checks[o.n_checks].expect = last + 1;
			o.n_checks++;
			break;
		}
		case 'm':
			smoke[2] = optarg;
			o.smoke = smoke;
			break;
		case 'D':
			o.prod_data_dir = optarg;
			break;
		case 'P':
			o.prod_port = atoi(optarg);
			break;
		case 'x':
			o.backup_stop_s = strtoll(optarg, NULL, 10);
			break;
		case 'o':
			if (util_parse_duration_ms(optarg, &ms) != 0 || ms <= 0)
				goto bad;
			o.timeout_ms = (uint64_t)ms;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	o.conninfo = getenv("DATABASE_URL");

	uv_loop_init(&loop);
	r.loop = &loop;
	r.status = 1;
	r.d = drill_start(&loop, &o, &cbs, &r, &e);
	if (r.d == NULL) {
		fprintf(stderr, "drill_run: %s\n", e.msg);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		free((void *)o.wrapper);
		free(wrapper_words);
		return 2;
	}
	fprintf(stderr, "drill: scratch %s, port %d\n", drill_result(r.d)->scratch_dir,
	    drill_result(r.d)->port);
	uv_signal_init(&loop, &r.sigint);
	uv_signal_init(&loop, &r.sigterm);
	r.sigint.data = r.sigterm.data = &r;
	uv_signal_start(&r.sigint, on_signal, SIGINT);
	uv_signal_start(&r.sigterm, on_signal, SIGTERM);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		fprintf(stderr, "drill_run: handles left open at exit\n");
	free((void *)o.wrapper);
	free(wrapper_words);
	return r.status;
bad:
	usage();
	free((void *)o.wrapper);
	free(wrapper_words);
	return 2;
}
