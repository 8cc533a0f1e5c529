/* logs_cmd.c - `signalbox logs FILE|-` (see logs_cmd.h).
 *
 * The file is read with read(2) in 1 MiB chunks (not mapped: a mapping's
 * resident pages would count against the memory the ring promises), each
 * chunk goes through the parser, each finished line into the ring, and
 * the line the ring holds is filtered and printed at once, so a file
 * larger than the ring is still searched whole.
 *
 * --follow reads through a log source (logsrc.h) on a loop of its own
 * instead: FILE as a tail -F source started at the beginning
 * (LOGSRC_START_BEGIN), so one reader and one byte position cover what is
 * in the file now and everything written later.  A synchronous read
 * followed by a source started at the end would lose the lines written in
 * between (and the source has no "start at byte N"); one started at the
 * beginning after a synchronous read would print them twice.  Each line
 * goes through the same parser, ring, filter and printer; stdout is
 * flushed once per batch (a uv_check after the loop's I/O), and a timer
 * armed at logparse_deadline prints an entry held for its continuation
 * lines when no other line comes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signalbox/err.h"
#include "signalbox/logfilter.h"
#include "signalbox/logparse.h"
#include "signalbox/logring.h"
#include "signalbox/logs_cmd.h"
#include "signalbox/logsrc.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

#define LOGS_CHUNK ((size_t)1 << 20)
#define LOGS_MAX_BENCH 8

struct logs_run {
	struct logring *ring;
	struct logfilter *filter;
	int json, count_only, have_since;
	int64_t since_ms;
	const char *source_name;
	uint64_t matched;
	char *scratch;		/* --json: the decoded message */
	size_t scratch_cap;
	int printed;		/* --follow: lines printed since the last flush */
};

void
logs_cmd_usage(FILE *out)
{
	fprintf(out,
	    "       signalbox logs FILE|- [--follow] [--filter EXPR] [--since 10m] [--json] [--count]\n"
	    "                      [--max-memory SIZE] [--max-line SIZE] [--keep-sgr] [--no-join]\n"
	    "                      [--tz +HH:MM] [--stats] [--bench-search EXPR]\n");
}

static int
takes_arg(const char *opt)
{
	static const char *const with_arg[] = {
		"--filter", "--since", "--max-memory", "--max-line", "--tz", "--bench-search",
		"-f",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(with_arg); i++)
		if (strcmp(opt, with_arg[i]) == 0)
			return 1;
	return 0;
}

int
logs_cmd_wants(int argc, char **argv)
{
	struct stat st;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] == '-' && a[1] != '\0') {
			if (takes_arg(a))
				i++;
			continue;
		}
		break;
	}
	if (i >= argc)
		return 0;
	return strcmp(argv[i], "-") == 0 || strchr(argv[i], '/') != NULL ||
	    stat(argv[i], &st) == 0;
}

/* "64M", "1G", "512k", "1048576" (bytes). */
static int
parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: return -1;
	}
	if (end > s && end[-1] > '9') {
		/* 64M, 64MB, 64MiB */
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end != '\0')
		return -1;
	*out = (size_t)v;
	return 0;
}

/* "+02:00", "-0530", "Z", "UTC", "local". */
static int
parse_tz(const char *s, int *min)
{
	int64_t ms;
	char buf[64];

	if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0) {
		*min = 0;
		return 0;
	}
	if (strcmp(s, "local") == 0) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		*min = (int)(tm.tm_gmtoff / 60);
		return 0;
	}
	/* borrow the ISO-8601 zone reader */
	if (snprintf(buf, sizeof buf, "1970-01-01T00:00:00%s", s) >= (int)sizeof buf)
		return -1;
	if (logparse_iso8601(buf, strlen(buf), 0, &ms) != strlen(buf))
		return -1;
	*min = (int)(-ms / 60000);
	return 0;
}

static void
json_str(FILE *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	putc('"', out);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		fwrite(s + run, 1, i - run, out);
		run = i + 1;
		if (c == '"' || c == '\\') {
			putc('\\', out);
			putc((int)c, out);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else {
			fputs("\\u00", out);
			putc(hex[c >> 4], out);
			putc(hex[c & 15], out);
		}
	}
	fwrite(s + run, 1, n - run, out);
	putc('"', out);
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ?
	    (c | 32) - 'a' + 10 : -1;
}

/* Decode the JSON string content S (escapes as written) into R's scratch;
 * control characters it names become control pictures. */
static size_t
json_unescape(struct logs_run *r, const char *s, size_t n)
{
	size_t i, o = 0;
	char *d;

	if (r->scratch_cap < n * 3 + 4) {
		r->scratch_cap = n * 3 + 4;
		free(r->scratch);
		r->scratch = xmalloc(r->scratch_cap);
	}
	d = r->scratch;
	for (i = 0; i < n; i++) {
		uint32_t cp;

		if (s[i] != '\\' || i + 1 >= n) {
			d[o++] = s[i];
			continue;
		}
		i++;
		switch (s[i]) {
		case 'n': cp = '\n'; break;
		case 't': cp = '\t'; break;
		case 'r': cp = '\r'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'u':
			if (i + 4 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0 &&
			    hexval(s[i + 3]) >= 0 && hexval(s[i + 4]) >= 0) {
				cp = (uint32_t)(hexval(s[i + 1]) << 12 | hexval(s[i + 2]) << 8 |
				    hexval(s[i + 3]) << 4 | hexval(s[i + 4]));
				i += 4;
				if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n && s[i + 1] == '\\' &&
				    s[i + 2] == 'u') {
					int a = hexval(s[i + 3]), b = hexval(s[i + 4]);
					int c = hexval(s[i + 5]), e = hexval(s[i + 6]);
					uint32_t lo;

					if (a >= 0 && b >= 0 && c >= 0 && e >= 0) {
						lo = (uint32_t)(a << 12 | b << 8 | c << 4 | e);
						if (lo >= 0xdc00 && lo <= 0xdfff) {
							cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
							i += 6;
						}
					}
				}
				break;
			}
			cp = 'u';
			break;
		default: cp = (unsigned char)s[i]; break;
		}
		if (cp != '\n' && text_cp_is_control(cp))
			cp = text_control_picture(cp, 0);
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = TEXT_REPLACEMENT;
		o += text_encode(cp, d + o);
	}
	return o;
}

static void
print_json(struct logs_run *r, const struct log_line *l)
{
	const struct logring_source *src = logring_source_get(r->ring, l->source);
	time_t secs = (time_t)(l->ts_ms / 1000 - (l->ts_ms % 1000 < 0));
	int ms = (int)(((l->ts_ms % 1000) + 1000) % 1000);
	struct tm tm;
	char ts[64];
	const char *m = l->text + l->msg_off;
	size_t mlen = l->msg_len;

	gmtime_r(&secs, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	printf("{\"seq\":%llu,\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"source\":",
	    (unsigned long long)l->seq, ts, ms, logparse_level_name(l->level));
	json_str(stdout, src != NULL ? src->name : "-", strlen(src != NULL ? src->name : "-"));
	fputs(",\"msg\":", stdout);
	if (l->format == LOG_FMT_JSON && l->msg_off > 0) {
		mlen = json_unescape(r, m, mlen);
		m = r->scratch;
	}
	json_str(stdout, m, mlen);
	fputs(",\"text\":", stdout);
	json_str(stdout, l->text, l->len);
	if (l->flags & LOG_LINE_CUT)
		printf(",\"cut\":true,\"orig_len\":%u", (unsigned)l->orig_len);
	fputs("}\n", stdout);
}

static void
on_line(const struct log_line *parsed, void *ud)
{
	struct logs_run *r = ud;
	uint64_t seq = logring_append(r->ring, parsed);
	struct log_line l;

	if (logring_get_seq(r->ring, seq, &l) < 0)
		return;
	if (r->have_since && l.ts_ms < r->since_ms)
		return;
	if (r->filter != NULL && !logfilter_match(r->filter, &l))
		return;
	r->matched++;
	if (r->count_only)
		return;
	if (r->json) {
		print_json(r, &l);
	} else {
		fwrite(l.text, 1, l.len, stdout);
		putchar('\n');
	}
	r->printed = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_peak_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* Time a full scan of the ring with EXPR (for bench/logs.sh). */
static int
bench_search(struct logring *ring, const char *expr)
{
	struct err e;
	struct logfilter *f = logfilter_compile(expr, &e);
	struct logfilter_cursor cur;
	double t0, best = 1e9;
	int i;

	if (f == NULL) {
		fprintf(stderr, "signalbox logs: --bench-search: %s\n", e.msg);
		return -1;
	}
	for (i = 0; i < 3; i++) {
		t0 = now_s();
		logfilter_cursor_init(&cur, 0, LOGFILTER_FORWARD);
		logfilter_scan(f, ring, &cur, SIZE_MAX, NULL, NULL);
		t0 = now_s() - t0;
		if (t0 < best)
			best = t0;
	}
	fprintf(stderr, "search %-24s %llu of %llu lines matched in %.1f ms (best of 3)\n",
	    expr, (unsigned long long)cur.matched, (unsigned long long)cur.scanned,
	    best * 1e3);
	logfilter_free(&f);
	return 0;
}

/* --- --follow ------------------------------------------------------------ */

struct logs_follow {
	uv_loop_t loop;
	struct logs_run *r;
	struct logparse *p;
	struct logsrc *src;
	uv_signal_t sig_int, sig_term;
	uv_timer_t tick;	/* the parser's held entry, at its deadline */
	uv_check_t after;	/* after each turn of the loop: flush, re-arm tick */
	int is_stdin;
	int rc;			/* exit status; -1 while following */
	uint64_t bytes;		/* read, for --stats */
};

static void follow_tick(uv_timer_t *t);

/* Stop following with exit status RC: the source and every handle go; the
 * loop then runs until libuv has closed them. */
static void
follow_end(struct logs_follow *f, int rc)
{
	struct logsrc_stats st;

	if (f->rc >= 0)
		return;
	f->rc = rc;
	if (f->src != NULL) {
		logsrc_get_stats(f->src, &st);
		f->bytes = st.bytes;
		logsrc_free(&f->src);
	}
	uv_close((uv_handle_t *)&f->sig_int, NULL);
	uv_close((uv_handle_t *)&f->sig_term, NULL);
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_close((uv_handle_t *)&f->after, NULL);
}

/* What was printed goes out now, and a held entry gets its timer. */
static void
follow_settle(struct logs_follow *f)
{
	int64_t d, now;

	if (f->r->printed) {
		f->r->printed = 0;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "signalbox logs: standard output: %s\n", strerror(errno));
			follow_end(f, 2);
			return;
		}
	}
	if (f->rc >= 0)
		return;
	if ((d = logparse_deadline(f->p)) < 0) {
		uv_timer_stop(&f->tick);
		return;
	}
	now = util_wall_ms();
	/* +1: the loop's clock may lag the wall clock a little; an early
	 * tick finds nothing due and re-arms here anyway */
	uv_timer_start(&f->tick, follow_tick, d > now ? (uint64_t)(d - now) + 1 : 0, 0);
}

static void
follow_tick(uv_timer_t *t)
{
	struct logs_follow *f = t->data;

	logparse_tick(f->p, util_wall_ms());
	follow_settle(f);
}

static void
follow_after(uv_check_t *h)
{
	follow_settle(h->data);
}

static void
follow_signal(uv_signal_t *h, int signum)
{
	struct logs_follow *f = h->data;

	(void)signum;
	/* what was read is printed; a line still without its newline is not */
	logparse_flush(f->p, util_wall_ms());
	follow_settle(f);
	follow_end(f, 130);
}

static void
follow_line(struct logsrc *s, const struct logsrc_line *line, void *ud)
{
	struct logs_follow *f = ud;

	(void)s;
	if (f->rc >= 0)
		return;
	/* a PARTIAL line (no newline after partial_ms) is an entry of its
	 * own, and so is its CONT rest: what was shown cannot be taken back */
	logparse_line(f->p, line->data, line->len, line->orig_len, line->arrival_ms);
}

static void
follow_event(struct logsrc *s, const struct logsrc_event *ev, void *ud)
{
	struct logs_follow *f = ud;
	const char *name = f->r->source_name;

	(void)s;
	if (f->rc >= 0)
		return;
	switch (ev->kind) {
	case LOGSRC_EV_ROTATED:
	case LOGSRC_EV_TRUNCATED:
		/* an entry does not continue across files: print the held one
		 * before saying so */
		logparse_flush(f->p, util_wall_ms());
		follow_settle(f);
		fprintf(stderr, "signalbox: logs: %s was %s\n", name,
		    ev->kind == LOGSRC_EV_ROTATED ? "rotated" : "truncated");
		break;
	case LOGSRC_EV_DELETED:
		logparse_flush(f->p, util_wall_ms());
		follow_settle(f);
		fprintf(stderr, "signalbox: logs: %s was deleted or moved (waiting for it)\n",
		    name);
		break;
	case LOGSRC_EV_EOF:
		logparse_flush(f->p, util_wall_ms());
		follow_settle(f);
		follow_end(f, f->r->matched > 0 ? 0 : 1);
		break;
	case LOGSRC_EV_STATE:
		if (ev->state != STORE_STATE_ERROR)
			break;
		follow_settle(f);
		if (f->is_stdin) {
			/* a terminal, a read error: nothing will come */
			fprintf(stderr, "signalbox logs: %s\n", ev->text);
			follow_end(f, 2);
		} else {
			/* permission denied, ...: the source retries */
			fprintf(stderr, "signalbox: logs: %s\n", ev->text);
		}
		break;
	case LOGSRC_EV_EXITED:
		break;
	}
}

/* Follow PATH (NULL: standard input) until EOF (stdin), a signal or a
 * write error; lines go through P into R.  Returns the exit status. */
static int
follow_run(struct logs_run *r, struct logparse *p, const char *path, size_t max_line,
    uint64_t *bytes)
{
	static const struct logsrc_cbs cbs = { follow_line, follow_event };
	struct logs_follow f;
	struct logsrc_opts so;
	struct err e;
	int rc;

	memset(&f, 0, sizeof f);
	f.r = r;
	f.p = p;
	f.rc = -1;
	f.is_stdin = path == NULL;
	if ((rc = uv_loop_init(&f.loop)) != 0) {
		fprintf(stderr, "signalbox logs: %s\n", uv_strerror(rc));
		return 2;
	}
	uv_signal_init(&f.loop, &f.sig_int);
	uv_signal_init(&f.loop, &f.sig_term);
	uv_timer_init(&f.loop, &f.tick);
	uv_check_init(&f.loop, &f.after);
	f.sig_int.data = f.sig_term.data = f.tick.data = f.after.data = &f;
	uv_signal_start(&f.sig_int, follow_signal, SIGINT);
	uv_signal_start(&f.sig_term, follow_signal, SIGTERM);
	uv_check_start(&f.after, follow_after);

	memset(&so, 0, sizeof so);
	so.kind = path != NULL ? LOGSRC_FILE : LOGSRC_STDIN;
	so.name = r->source_name;
	so.max_line = max_line;
	so.path = path;
	so.start = LOGSRC_START_BEGIN;	/* see the top of this file */
	so.fd = STDIN_FILENO;
	f.src = logsrc_start(&f.loop, &so, &cbs, &f, &e);
	if (f.src == NULL) {
		fprintf(stderr, "signalbox logs: %s\n", e.msg);
		follow_end(&f, 2);
	}
	uv_run(&f.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&f.loop) != 0)
		fprintf(stderr, "signalbox logs: the loop did not close cleanly\n");
	*bytes = f.bytes;
	return f.rc < 0 ? 2 : f.rc;
}

int
logs_cmd_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", no_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'F' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "max-line", required_argument, NULL, 'L' },
		{ "keep-sgr", no_argument, NULL, 'k' },
		{ "no-join", no_argument, NULL, 'J' },
		{ "tz", required_argument, NULL, 'z' },
		{ "stats", no_argument, NULL, 'S' },
		{ "bench-search", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct logs_run r;
	struct logparse_opts po;
	struct logparse *p = NULL;
	const char *filter = NULL, *since = NULL, *path, *bench[LOGS_MAX_BENCH];
	size_t max_memory = 0, nbench = 0, i;
	int opt, stats = 0, follow = 0, fd, rc = 2, io_error = 0;
	struct err e;
	char *buf = NULL;
	uint64_t bytes = 0;
	double t0;
	ssize_t got;

	memset(&r, 0, sizeof r);
	memset(&po, 0, sizeof po);
	po.join = 1;
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "f:s:jnh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': filter = optarg; break;
		case 's': since = optarg; break;
		case 'j': r.json = 1; break;
		case 'n': r.count_only = 1; break;
		case 'F': follow = 1; break;
		case 'm':
			if (parse_size(optarg, &max_memory) < 0 || max_memory == 0) {
				fprintf(stderr, "signalbox logs: --max-memory '%s': give a size like "
				    "64M or 1G\n", optarg);
				return 2;
			}
			break;
		case 'L':
			if (parse_size(optarg, &po.max_line) < 0 || po.max_line < 16) {
				fprintf(stderr, "signalbox logs: --max-line '%s': give a size like "
				    "64k (at least 16)\n", optarg);
				return 2;
			}
			break;
		case 'k': po.keep_sgr = 1; break;
		case 'J': po.join = 0; break;
		case 'z':
			if (parse_tz(optarg, &po.tz_offset_min) < 0) {
				fprintf(stderr, "signalbox logs: --tz '%s': give +HH:MM, -HHMM, UTC "
				    "or local\n", optarg);
				return 2;
			}
			break;
		case 'S': stats = 1; break;
		case 'B':
			if (nbench == LOGS_MAX_BENCH) {
				fprintf(stderr, "signalbox logs: at most %d --bench-search\n",
				    LOGS_MAX_BENCH);
				return 2;
			}
			bench[nbench++] = optarg;
			break;
		case 'h':
			printf("usage:\n");
			logs_cmd_usage(stdout);
			printf("\n--follow keeps reading: FILE like tail -F (rotation and truncation "
			    "are\nfollowed and said on stderr) until Ctrl-C or SIGTERM (exit 130), - "
			    "until\nthe end of input.\n"
			    "Exit status: 0 lines matched, 1 none matched, 2 bad usage or "
			    "unreadable file,\n130 --follow ended by a signal.\n"
			    "The filter language: docs/logs.md.\n");
			return 0;
		default:
			fprintf(stderr, "usage:\n");
			logs_cmd_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "signalbox logs: %s (signalbox logs FILE|- ...)\n",
		    optind >= argc ? "which file? give FILE or - for standard input" :
		    "one FILE at a time");
		return 2;
	}
	path = argv[optind];
	if (follow && r.count_only) {
		fprintf(stderr, "signalbox logs: --count and --follow do not go together "
		    "(--count prints one number at the end)\n");
		return 2;
	}
	if (since != NULL) {
		int64_t d;

		if (util_parse_duration_ms(since, &d) == 0 && d >= 0) {
			r.since_ms = util_wall_ms() - d;
		} else if (logparse_iso8601(since, strlen(since), po.tz_offset_min,
		    &r.since_ms) != strlen(since)) {
			fprintf(stderr, "signalbox logs: --since '%s': give a duration (10m, 2h) "
			    "or a time (2024-06-12T10:42:00Z)\n", since);
			return 2;
		}
		r.have_since = 1;
	}
	if (filter != NULL) {
		r.filter = logfilter_compile(filter, &e);
		if (r.filter == NULL) {
			fprintf(stderr, "signalbox logs: %s\n", e.msg);
			return 2;
		}
	}
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		struct stat st;

		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "signalbox logs: %s: %s%s\n", path, errno == ENOENT ?
			    "no such file" : strerror(errno), errno == ENOENT ? " (to read a "
			    "service's logs, give its name without a '/')" : "");
			goto out;
		}
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			fprintf(stderr, "signalbox logs: %s: is a directory\n", path);
			close(fd);
			goto out;
		}
	}
	r.ring = logring_new(max_memory);
	r.source_name = strcmp(path, "-") == 0 ? "stdin" : path;
	{
		const char *base = strrchr(r.source_name, '/');

		po.source = logring_source_add(r.ring, base != NULL ? base + 1 : r.source_name);
	}
	if (r.filter != NULL)
		logfilter_bind(r.filter, r.ring);
	p = logparse_new(&po, on_line, &r);
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);
	t0 = now_s();
	if (follow) {
		/* FILE was opened only to check it: the source opens the path */
		if (fd != STDIN_FILENO)
			close(fd);
		rc = follow_run(&r, p, fd == STDIN_FILENO ? NULL : path, po.max_line, &bytes);
	} else {
		buf = xmalloc(LOGS_CHUNK);
		for (;;) {
			got = read(fd, buf, LOGS_CHUNK);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				fprintf(stderr, "signalbox logs: %s: %s\n", r.source_name,
				    strerror(errno));
				io_error = 1;
				break;
			}
			if (got == 0)
				break;
			bytes += (uint64_t)got;
			logparse_feed(p, buf, (size_t)got, util_wall_ms());
		}
		if (fd != STDIN_FILENO)
			close(fd);
	}
	logparse_flush(p, util_wall_ms());
	t0 = now_s() - t0;
	if (r.count_only)
		printf("%llu\n", (unsigned long long)r.matched);
	fflush(stdout);
	if (stats) {
		struct logring_stats st;

		logring_stats_get(r.ring, &st);
		fprintf(stderr, "ingest %llu bytes, %llu input lines, %llu entries in %.1f ms "
		    "(%.0f MB/s, %.2f M lines/s)\n", (unsigned long long)bytes,
		    (unsigned long long)logparse_lines_in(p),
		    (unsigned long long)logparse_lines_out(p), t0 * 1e3,
		    t0 > 0 ? (double)bytes / 1e6 / t0 : 0.0,
		    t0 > 0 ? (double)logparse_lines_in(p) / 1e6 / t0 : 0.0);
		fprintf(stderr, "ring %llu lines held, %llu dropped, %zu of %zu bytes used "
		    "(budget %zu)\n", (unsigned long long)st.lines,
		    (unsigned long long)st.dropped, st.used_bytes, st.buffer_bytes, st.budget);
		fprintf(stderr, "levels");
		for (i = 0; i < LOG_LEVEL_COUNT; i++)
			fprintf(stderr, " %s=%llu", logparse_level_name((unsigned)i),
			    (unsigned long long)st.by_level[i]);
		fprintf(stderr, "\nmatched %llu\n", (unsigned long long)r.matched);
	}
	if (!follow)
		rc = io_error ? 2 : r.matched > 0 ? 0 : 1;
	for (i = 0; i < nbench; i++)
		if (bench_search(r.ring, bench[i]) < 0)
			rc = 2;
	if (stats)
		fprintf(stderr, "peak RSS %ld KiB\n", rss_peak_kb());
out:
	free(buf);
	free(r.scratch);
	logparse_free(&p);
	logfilter_free(&r.filter);
	logring_free(&r.ring);
	return rc;
}
