/* config.c - the YAML configuration: option table, parser and dump.
 *
 * CONFIG_OPTIONS is the one list of options.  It decides which keys are
 * known where (and so the did-you-mean suggestions), the type and range each
 * value is checked against, the defaults config_init sets, the comments of
 * config_dump and the table config_print_options prints for
 * signalbox.yml(5).
 *
 * Parsing runs in three steps: libfyaml builds a document (syntax errors
 * come from its collected diagnostics), a walk over the document checks
 * every key and scalar against the table into struct config_val slots, and
 * config_apply turns the slots into a struct config, filling computed
 * defaults and checking what depends on more than one option.  Every problem
 * is collected; the caller gets them all, sorted by position.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libfyaml.h>

#include "signalbox/action.h"
#include "signalbox/config.h"
#include "signalbox/keymap.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	CONFIG_MAX_FILE = 1024 * 1024,	/* bigger files are refused */
	CONFIG_MSG_MAX = 512,		/* one message line */
};

#define CONFIG_DEFAULT_ENV "production"
#define CONFIG_KEY_NAMES "key names look like j, G, C-r, M-x, Enter, PgDn, F5"

enum config_type {
	CONFIG_T_STRING,
	CONFIG_T_INT,
	CONFIG_T_BOOL,
	CONFIG_T_DURATION,
	CONFIG_T_ENUM,
	CONFIG_T_LIST,
	CONFIG_T_MAP,
};

static const char *const config_type_names[] = {
	"string", "int", "bool", "duration", "enum", "list", "map",
};

enum {
	CONFIG_F_REQUIRED = 1 << 0,	/* must be given */
	CONFIG_F_COMPUTED = 1 << 1,	/* default depends on other options */
	CONFIG_F_PATH = 1 << 2,		/* relative to the config file's directory */
};

/*
 * Columns: id, name, type, default, min, max, enum values, flags,
 * description.
 *
 * Names are dotted paths; "[]" stands for a list item and "<name>" for any
 * key of a map.  The default is written as in the file (config_init parses
 * it), or in words when CONFIG_F_COMPUTED; NULL means unset.  MIN and MAX
 * bound ints, and durations in milliseconds.
 */
#define CONFIG_OPTIONS(_) \
	_(PROJECT, "project", STRING, "signalbox", 0, 0, NULL, 0, \
	    "Project name, shown in the title bar.") \
	_(ENVIRONMENT, "environment", STRING, \
	    "first of environments, else production", 0, 0, NULL, \
	    CONFIG_F_COMPUTED, \
	    "Environment shown and acted on; when environments is given it " \
	    "must be one of its names.") \
	_(ENVIRONMENTS, "environments", MAP, "{}", 0, 0, NULL, 0, \
	    "Known environments: a mapping from name to the options below.") \
	_(ENV_PROTECTED, "environments.<name>.protected", BOOL, "false", \
	    0, 0, NULL, 0, \
	    "Changes need the environment's name typed to confirm; the " \
	    "environment is drawn in a distinct style.") \
	_(ENV_READ_ONLY, "environments.<name>.read_only", BOOL, "false", \
	    0, 0, NULL, 0, \
	    "Refuse every change in this environment.") \
	_(AUDIT, "audit", MAP, "{}", 0, 0, NULL, 0, \
	    "Audit log of every action that changes production or reveals a " \
	    "secret: a mapping of the options below.") \
	_(AUDIT_FILE, "audit.file", STRING, \
	    "$XDG_STATE_HOME/signalbox/audit.jsonl", 0, 0, NULL, \
	    CONFIG_F_PATH | CONFIG_F_COMPUTED, \
	    "Append-only JSONL file, one line per action, allowed or refused; " \
	    "a relative path is taken from the configuration file's directory. " \
	    "When it cannot be written, every such action is refused.") \
	_(AUDIT_FSYNC, "audit.fsync", BOOL, "true", 0, 0, NULL, 0, \
	    "Flush each line to disk before the action is sent.") \
	_(THEME, "theme", STRING, "default", 0, 0, NULL, 0, \
	    "Theme: the name of an embedded or installed theme, or the path " \
	    "of a .theme file.") \
	_(FPS, "fps", INT, "30", 1, 240, NULL, 0, \
	    "Most frames drawn per second; nothing is drawn while nothing " \
	    "changes.") \
	_(LAYOUT, "layout", ENUM, "auto", 0, 0, "auto|split|single", 0, \
	    "Pane layout; auto is split on large terminals and single on " \
	    "small ones.") \
	_(LOG_FILE, "log_file", STRING, NULL, 0, 0, NULL, CONFIG_F_PATH, \
	    "File for diagnostics (as with -v); a relative path is taken " \
	    "from the configuration file's directory.") \
	_(HEALTH, "health", MAP, "{}", 0, 0, NULL, 0, \
	    "Endpoint health checks: a mapping of the options below.") \
	_(HEALTH_INTERVAL, "health.interval", DURATION, "5s", \
	    100, 86400000, NULL, 0, \
	    "Time between two checks of an endpoint.") \
	_(HEALTH_TIMEOUT, "health.timeout", DURATION, "3s", \
	    100, 3600000, NULL, 0, \
	    "Time a check may take before it fails; at most interval.") \
	_(HEALTH_WINDOW, "health.window", INT, "60", 2, 10000, NULL, 0, \
	    "Latency samples kept per endpoint for p50 and p95.") \
	_(TLS_WARN_DAYS, "health.tls_warn_days", INT, "21", 1, 3650, NULL, 0, \
	    "Warn when a TLS certificate expires within this many days.") \
	_(TLS_FAIL_DAYS, "health.tls_fail_days", INT, "7", 0, 3650, NULL, 0, \
	    "Fail when a TLS certificate expires within this many days; " \
	    "less than tls_warn_days.") \
	_(ENDPOINTS, "health.endpoints", LIST, "[]", 0, 0, NULL, 0, \
	    "Endpoints to check: a list of mappings of the options below.") \
	_(EP_NAME, "health.endpoints[].name", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_REQUIRED, \
	    "Endpoint name, unique among the endpoints.") \
	_(EP_URL, "health.endpoints[].url", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_REQUIRED, \
	    "URL to check; the scheme is http, https, ws or wss.") \
	_(EP_TYPE, "health.endpoints[].type", ENUM, \
	    "websocket for ws and wss URLs, else http", 0, 0, "http|websocket", \
	    CONFIG_F_COMPUTED, \
	    "Check kind: an HTTP request, or a WebSocket echo round-trip.") \
	_(EP_EXPECT, "health.endpoints[].expect", INT, \
	    "200, 101 for websocket", 100, 599, NULL, CONFIG_F_COMPUTED, \
	    "Expected HTTP status code.") \
	_(EP_INTERVAL, "health.endpoints[].interval", DURATION, \
	    "health.interval", 100, 86400000, NULL, CONFIG_F_COMPUTED, \
	    "Time between two checks of this endpoint.") \
	_(EP_TIMEOUT, "health.endpoints[].timeout", DURATION, \
	    "health.timeout", 100, 3600000, NULL, CONFIG_F_COMPUTED, \
	    "Time a check of this endpoint may take; at most its interval.") \
	_(EP_HEADERS, "health.endpoints[].headers", ENUM, \
	    "strict for https URLs, else off", 0, 0, "strict|off", \
	    CONFIG_F_COMPUTED, \
	    "Check the security headers (HSTS, CSP, X-Content-Type-Options, " \
	    "X-Frame-Options, Referrer-Policy).") \
	_(EP_CA_FILE, "health.endpoints[].ca_file", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_PATH, \
	    "Extra CA bundle (PEM) for self-signed servers; a relative path " \
	    "is taken from the configuration file's directory.") \
	_(EP_SERVICE, "health.endpoints[].service", STRING, NULL, 0, 0, NULL, 0, \
	    "Service this endpoint belongs to.") \
	_(EP_WS_MESSAGE, "health.endpoints[].ws_message", STRING, \
	    "signalbox-ping", 0, 0, NULL, 0, \
	    "Message sent to a websocket endpoint for the echo round-trip.") \
	_(PROVIDER, "provider", MAP, "{}", 0, 0, NULL, 0, \
	    "Deployment provider: a mapping of the options below; without it " \
	    "only the health checks run.") \
	_(PROVIDER_TYPE, "provider.type", ENUM, "railway", 0, 0, "railway", 0, \
	    "Provider kind.") \
	_(PROVIDER_ENDPOINT, "provider.endpoint", STRING, \
	    "https://backboard.railway.com/graphql/v2", 0, 0, NULL, 0, \
	    "GraphQL endpoint of the Railway API; point it at the sandbox's " \
	    "emulator to test against a local project.") \
	_(PROVIDER_TOKEN_ENV, "provider.token_env", STRING, "RAILWAY_TOKEN", \
	    0, 0, NULL, 0, \
	    "Environment variable that holds the API token; the token itself " \
	    "never goes in this file.") \
	_(PROVIDER_TOKEN_FILE, "provider.token_file", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_PATH, \
	    "File that holds the API token, read when the variable named by " \
	    "token_env is not set; it should be readable by its owner only. " \
	    "A relative path is taken from the configuration file's " \
	    "directory.") \
	_(PROVIDER_TOKEN_KIND, "provider.token_kind", ENUM, "bearer", 0, 0, \
	    "bearer|project", 0, \
	    "How the token is sent: bearer for an account or workspace token " \
	    "(Authorization: Bearer), project for a project token " \
	    "(Project-Access-Token).") \
	_(PROVIDER_PROJECT_ID, "provider.project_id", STRING, NULL, 0, 0, NULL, 0, \
	    "Railway project id; required with a bearer token, since a project " \
	    "token knows its own project.") \
	_(PROVIDER_ENVIRONMENT, "provider.environment", STRING, "environment", \
	    0, 0, NULL, CONFIG_F_COMPUTED, \
	    "Railway environment, by name or id.") \
	_(PROVIDER_POLL, "provider.poll", DURATION, "10s", 1000, 3600000, NULL, 0, \
	    "Time between two refreshes of the project; it grows on its own " \
	    "when the API budget runs low.") \
	_(DATASTORES, "datastores", MAP, "{}", 0, 0, NULL, 0, \
	    "Datastores whose health the datastores pane shows: a mapping " \
	    "with postgres and/or redis; without it the pane is hidden.") \
	_(DS_PG, "datastores.postgres", MAP, "{}", 0, 0, NULL, 0, \
	    "A PostgreSQL server, watched over one read-only connection: a " \
	    "mapping of the options below (an empty one takes the defaults).") \
	_(DS_PG_URL_ENV, "datastores.postgres.url_env", STRING, "DATABASE_URL", \
	    0, 0, NULL, 0, \
	    "Environment variable that holds the connection string " \
	    "(postgres://user:password@host:port/db); the password is never " \
	    "shown, logged or written in this file.") \
	_(DS_PG_INTERVAL, "datastores.postgres.interval", DURATION, "5s", \
	    1000, 3600000, NULL, 0, \
	    "Time between two reads of the server's statistics (three " \
	    "statements each).") \
	_(DS_REDIS, "datastores.redis", MAP, "{}", 0, 0, NULL, 0, \
	    "A Redis server: a mapping of the options below (an empty one " \
	    "takes the defaults).") \
	_(DS_REDIS_URL_ENV, "datastores.redis.url_env", STRING, "REDIS_URL", \
	    0, 0, NULL, 0, \
	    "Environment variable that holds the URL " \
	    "(redis://[[user]:password@]host[:port][/db]); the password is " \
	    "never shown, logged or written in this file.") \
	_(DS_REDIS_INTERVAL, "datastores.redis.interval", DURATION, "2s", \
	    500, 3600000, NULL, 0, \
	    "Time between two reads of INFO and SLOWLOG.") \
	_(FLAGS, "flags", MAP, "{}", 0, 0, NULL, 0, \
	    "Feature flags: where the flags of every environment are kept, a " \
	    "mapping of the options below; without it the flag commands " \
	    "refuse to run.") \
	_(FLAGS_STORE, "flags.store", ENUM, "redis", 0, 0, "redis|postgres", 0, \
	    "The flag store: redis (the hash flags:ENVIRONMENT of " \
	    "docs/flags.md) or postgres (the table signalbox_flags of " \
	    "sql/flags_postgres.sql, created by signalbox flags migrate).") \
	_(FLAGS_URL_ENV, "flags.url_env", STRING, \
	    "REDIS_URL for redis, DATABASE_URL for postgres", 0, 0, NULL, \
	    CONFIG_F_COMPUTED, \
	    "Environment variable that holds the store's URL; the password is " \
	    "never shown, logged or written in this file.") \
	_(BACKUPS, "backups", MAP, "{}", 0, 0, NULL, 0, \
	    "Backups of the PostgreSQL server (pgBackRest) and restore drills: " \
	    "a mapping of the options below; without it the backups pane is " \
	    "hidden.") \
	_(BK_WRAPPER, "backups.wrapper", LIST, NULL, 0, 0, NULL, 0, \
	    "Words put before every program the backups pane runs (pgbackrest, " \
	    "pg_ctl, mkdir, rm, tail) so that it runs as the repository's " \
	    "owner, such as [sudo, -n, -u, postgres, --]; none by default.") \
	_(BK_PGBR, "backups.pgbackrest", MAP, "{}", 0, 0, NULL, 0, \
	    "The pgBackRest repository: a mapping of the options below.") \
	_(BK_PGBR_BIN, "backups.pgbackrest.bin", STRING, "pgbackrest", 0, 0, \
	    NULL, 0, \
	    "The pgbackrest program (looked up in PATH).") \
	_(BK_PGBR_CONFIG, "backups.pgbackrest.config", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_PATH, \
	    "pgBackRest configuration file (--config); pgBackRest's own default " \
	    "when not set.  A relative path is taken from this file's " \
	    "directory.") \
	_(BK_PGBR_STANZA, "backups.pgbackrest.stanza", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_REQUIRED, \
	    "The stanza (--stanza) of the server this console watches.") \
	_(BK_PGBR_INTERVAL, "backups.pgbackrest.interval", DURATION, "60s", \
	    5000, 86400000, NULL, 0, \
	    "Time between two runs of pgbackrest info.") \
	_(BK_PGBR_MAX_AGE, "backups.pgbackrest.max_age", DURATION, "26h", \
	    60000, 31536000000LL, NULL, 0, \
	    "The newest backup may be this old before the pane and the status " \
	    "bar say DEGRADED.") \
	_(BK_VOLUME, "backups.volume", STRING, NULL, 0, 0, NULL, 0, \
	    "Name of the provider's service whose volume backups the pane " \
	    "shows and takes (a Railway database service); needs provider.") \
	_(BK_RESTORE, "backups.restore", MAP, "{}", 0, 0, NULL, 0, \
	    "Restore in place (the restore key): how the server is stopped and " \
	    "started, a mapping of the options below; without both the pane " \
	    "refuses to restore over the server.") \
	_(BK_RESTORE_STOP, "backups.restore.stop", LIST, NULL, 0, 0, NULL, 0, \
	    "Command that stops the server and returns when it is down, as a " \
	    "list ([systemctl, stop, postgresql@15-main]).") \
	_(BK_RESTORE_START, "backups.restore.start", LIST, NULL, 0, 0, NULL, 0, \
	    "Command that starts the server and returns when it accepts " \
	    "connections, as a list ([systemctl, start, postgresql@15-main]).") \
	_(BK_DRILL, "backups.drill", MAP, "{}", 0, 0, NULL, 0, \
	    "Restore drills: a mapping of the options below.") \
	_(BK_DRILL_SCRATCH, "backups.drill.scratch", STRING, "/var/tmp", 0, 0, \
	    NULL, CONFIG_F_PATH, \
	    "Existing directory in which each drill makes (and at its end " \
	    "removes) a directory of its own; never inside the server's data " \
	    "directory.") \
	_(BK_DRILL_PORT, "backups.drill.port", INT, "0", 0, 65535, NULL, 0, \
	    "Loopback port of the drill's throw-away server; 0 picks a free " \
	    "one.  Never the production port.") \
	_(BK_DRILL_PG_BIN, "backups.drill.pg_bin", STRING, \
	    "/usr/lib/postgresql/15/bin", 0, 0, NULL, 0, \
	    "Directory holding pg_ctl of the server's major version.") \
	_(BK_DRILL_URL_ENV, "backups.drill.url_env", STRING, "DATABASE_URL", \
	    0, 0, NULL, 0, \
	    "Environment variable with production's connection string: its " \
	    "user, password and database are used against the restored copy " \
	    "(host and port are the drill's).") \
	_(BK_DRILL_TABLES, "backups.drill.tables", LIST, NULL, 0, 0, NULL, 0, \
	    "Tables whose row count and checksum each drill reads, as a list " \
	    "([orders, public.customers]).") \
	_(BK_DRILL_CHECKS, "backups.drill.checks", LIST, "[]", 0, 0, NULL, 0, \
	    "Custom integrity checks: a list of mappings of the options below; " \
	    "one that does not hold fails the drill.") \
	_(BK_DC_NAME, "backups.drill.checks[].name", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_REQUIRED, \
	    "Check name, shown in the drill's result.") \
	_(BK_DC_SQL, "backups.drill.checks[].sql", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_REQUIRED, \
	    "A read-only query returning one value.") \
	_(BK_DC_EXPECT, "backups.drill.checks[].expect", STRING, "t", 0, 0, NULL, \
	    0, \
	    "The text the value must equal (t for a true boolean).") \
	_(BK_DRILL_SMOKE, "backups.drill.smoke", LIST, NULL, 0, 0, NULL, 0, \
	    "Command run against the restored copy after the checks, as a " \
	    "list; it gets DRILL_DATABASE_URL, PGHOST and PGPORT, and must exit " \
	    "0.") \
	_(BK_DRILL_TIMEOUT, "backups.drill.timeout", DURATION, "10m", 10000, \
	    86400000, NULL, 0, \
	    "Time a whole drill may take before it is stopped and failed.") \
	_(LOGS, "logs", MAP, "{}", 0, 0, NULL, 0, \
	    "The logs pane: its ring and its sources, a mapping of the " \
	    "options below (the provider's logs come on their own).") \
	_(LOGS_MAX_MEMORY, "logs.max_memory", INT, "64", 1, 65536, NULL, 0, \
	    "MiB the log ring may take; when full the oldest lines go (the " \
	    "pane counts them).") \
	_(LOGS_MAX_LINE, "logs.max_line", INT, "64", 1, 4096, NULL, 0, \
	    "KiB of a line kept; longer lines are cut with a marker.") \
	_(LOGS_ANSI, "logs.ansi_colors", ENUM, "strip", 0, 0, "strip|keep", 0, \
	    "ANSI colour in log lines: strip it, or keep it (every other " \
	    "escape sequence is neutralised either way).") \
	_(LOGS_SOURCES, "logs.sources", LIST, "[]", 0, 0, NULL, 0, \
	    "Files and commands to follow: a list of mappings of the options " \
	    "below, each with a file or a command.") \
	_(LS_NAME, "logs.sources[].name", STRING, NULL, 0, 0, NULL, \
	    CONFIG_F_REQUIRED, \
	    "Source name: the tag in the pane and @source:NAME in filters.") \
	_(LS_FILE, "logs.sources[].file", STRING, NULL, 0, 0, NULL, CONFIG_F_PATH, \
	    "File to follow like tail -F (rotation, truncation, a file that " \
	    "appears later); a relative path is taken from the configuration " \
	    "file's directory.") \
	_(LS_COMMAND, "logs.sources[].command", LIST, NULL, 0, 0, NULL, 0, \
	    "Command whose output to follow, as a list ([journalctl, -f]); " \
	    "no shell unless you name one ([sh, -c, '...']).") \
	_(LS_RESTART, "logs.sources[].restart", BOOL, "false", 0, 0, NULL, 0, \
	    "Start the command again when it ends (with backoff).") \
	_(LS_BACKLOG, "logs.sources[].backlog", INT, "100", 0, 100000, NULL, 0, \
	    "Lines of a file read at start (0: only new lines).") \
	_(LS_TZ, "logs.sources[].utc_offset", INT, "0", -720, 840, NULL, 0, \
	    "Minutes east of UTC of timestamps that carry no zone.") \
	_(KEYS, "keys", MAP, "{}", 0, 0, NULL, 0, \
	    "Key bindings: a mapping from section (global, or a pane name " \
	    "such as health) to that section's bindings.") \
	_(KEYS_SECTION, "keys.<section>", MAP, "{}", 0, 0, NULL, 0, \
	    "Bindings of one section: a mapping from key name to action.") \
	_(KEYS_BINDING, "keys.<section>.<key>", STRING, "the default keymap", \
	    0, 0, NULL, CONFIG_F_COMPUTED, \
	    "Action run by the key, or none to remove the binding; " \
	    CONFIG_KEY_NAMES ".")

enum config_opt {
#define CONFIG_OPT_ENUM(id, name, type, def, min, max, values, flags, desc) \
	CONFIG_OPT_##id,
	CONFIG_OPTIONS(CONFIG_OPT_ENUM)
#undef CONFIG_OPT_ENUM
	CONFIG_OPT_COUNT
};

struct config_option {
	const char *name;
	enum config_type type;
	const char *def;
	int64_t min, max;
	const char *values;	/* ENUM: "auto|split|single" */
	int flags;
	const char *desc;
};

static const struct config_option config_options[] = {
#define CONFIG_OPT_ROW(id, name, type, def, min, max, values, flags, desc) \
	{ name, CONFIG_T_##type, def, min, max, values, flags, desc },
	CONFIG_OPTIONS(CONFIG_OPT_ROW)
#undef CONFIG_OPT_ROW
};

struct config_pos {
	int line, col;		/* 1-based */
};

/* One option's value as found in the file. */
struct config_val {
	int set;		/* given, valid */
	int bad;		/* given, invalid (already reported) */
	char *text;		/* canonical text (enum) or resolved path */
	int64_t num;		/* int, bool, duration (ms), enum index */
	struct config_pos pos;
};

struct config_msg {
	struct config_pos pos;
	size_t seq;
	char *text;
};

struct config_env_raw {
	char *name;
	struct config_pos pos;
	struct config_val v[CONFIG_OPT_COUNT];
};

struct config_ep_raw {
	size_t index;		/* 1-based, among the list items */
	struct config_pos pos;
	struct config_val v[CONFIG_OPT_COUNT];
};

struct config_parse {
	const char *name;	/* file name in messages */
	char *dir;		/* its directory, or NULL */
	int syntax;		/* a YAML syntax error was reported */
	struct config_msg *msgs;
	size_t n_msgs;
	struct config_val root[CONFIG_OPT_COUNT];
	struct config_env_raw *envs;
	size_t n_envs;
	struct config_ep_raw *eps;
	size_t n_eps;
	struct config_ep_raw *lss;	/* logs.sources[] items */
	size_t n_lss;
	struct config_ep_raw *dcs;	/* backups.drill.checks[] items */
	size_t n_dcs;
	struct config *cfg;	/* being built */
};

/* ---- messages ---------------------------------------------------------- */

static void config_error(struct config_parse *p, struct config_pos at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
config_error(struct config_parse *p, struct config_pos at, const char *fmt, ...)
{
	char buf[CONFIG_MSG_MAX];
	struct config_msg *m;
	va_list ap;
	char *c;

	if (p == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* one message per line, whatever the file contained */
	for (c = buf; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	p->msgs = xreallocarray(p->msgs, p->n_msgs + 1, sizeof *p->msgs);
	m = &p->msgs[p->n_msgs];
	m->pos = at;
	m->seq = p->n_msgs++;
	m->text = xstrdup(buf);
}

static int
config_msg_cmp(const void *a, const void *b)
{
	const struct config_msg *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every message into E, one per line, sorted by position; what does not fit
 * becomes "... and N more". */
static void
config_report(struct config_parse *p, struct err *e)
{
	char out[sizeof e->msg], line[CONFIG_MSG_MAX + 64], tail[48];
	size_t used = 0, i, need, tlen;

	if (e == NULL)
		return;
	qsort(p->msgs, p->n_msgs, sizeof *p->msgs, config_msg_cmp);
	out[0] = '\0';
	for (i = 0; i < p->n_msgs; i++) {
		snprintf(line, sizeof line, "%s%s:%d:%d: %s", i > 0 ? "\n" : "",
		    p->name, p->msgs[i].pos.line, p->msgs[i].pos.col,
		    p->msgs[i].text);
		need = strlen(line);
		tlen = 0;
		if (i + 1 < p->n_msgs)
			tlen = (size_t)snprintf(tail, sizeof tail, "\n... and %zu more",
			    p->n_msgs - i - 1);
		if (used + need + tlen < sizeof out) {
			memcpy(out + used, line, need + 1);
			used += need;
			continue;
		}
		if (i == 0) {
			/* a first line too long for E: cut it, keep the count */
			util_strlcpy(out, line, sizeof out - tlen);
			used = strlen(out);
			if (tlen > 0)
				util_strlcpy(out + used, tail, sizeof out - used);
			break;
		}
		/* the previous line left room for this tail */
		snprintf(out + used, sizeof out - used, "\n... and %zu more",
		    p->n_msgs - i);
		break;
	}
	err_set(e, p->syntax ? ERR_PARSE : ERR_INVALID, "%s", out);
}

/* ---- the option table -------------------------------------------------- */

/* Option named PREFIX + KEY that can be written as a key, or -1. */
static int
config_child(const char *prefix, const char *key)
{
	size_t plen = strlen(prefix);
	int i;

	for (i = 0; i < CONFIG_OPT_COUNT; i++) {
		const char *name = config_options[i].name;

		if (strncmp(name, prefix, plen) == 0 &&
		    strpbrk(name + plen, ".[<") == NULL &&
		    strcmp(name + plen, key) == 0)
			return i;
	}
	return -1;
}

/* Keys known under PREFIX, in table order, into OUT (CONFIG_OPT_COUNT). */
static size_t
config_children(const char *prefix, const char **out)
{
	size_t plen = strlen(prefix), n = 0;
	int i;

	for (i = 0; i < CONFIG_OPT_COUNT; i++) {
		const char *name = config_options[i].name;

		if (strncmp(name, prefix, plen) == 0 && name[plen] != '\0' &&
		    strpbrk(name + plen, ".[<") == NULL)
			out[n++] = name + plen;
	}
	return n;
}

/* A and B differ by two neighbouring letters swapped ("fsp", "fps"). */
static int
config_is_swap(const char *a, const char *b)
{
	size_t i, len = strlen(a);

	if (len != strlen(b))
		return 0;
	for (i = 0; i < len && a[i] == b[i]; i++)
		;
	return i + 1 < len && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	    strcmp(a + i + 2, b + i + 2) == 0;
}

/* The closest of the N candidates to WORD, or NULL when none is close: a
 * small edit distance, a swap of two letters, else a candidate WORD starts
 * ("prod" for "production"). */
static const char *
config_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), i;
	int max = len <= 3 ? 1 : len <= 6 ? 2 : 3, best_d = max + 1, d;
	const char *best = NULL;

	for (i = 0; i < n; i++) {
		d = config_is_swap(word, cands[i]) ? 1 :
		    util_edit_distance(word, cands[i], max);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	for (i = 0; best == NULL && len >= 3 && i < n; i++)
		if (strncasecmp(cands[i], word, len) == 0)
			best = cands[i];
	return best;
}

static void
config_join(char *buf, size_t len, const char *const *words, size_t n)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", words[i]);
		used += strlen(buf + used);
	}
}

/* Index of TEXT among O's enum values (case-insensitive), or -1; the
 * canonical spelling goes to CANON. */
static int
config_enum_index(const struct config_option *o, const char *text,
    char *canon, size_t len)
{
	const char *s = o->values, *bar;
	size_t n, tlen = strlen(text);
	int i;

	for (i = 0; s != NULL && *s != '\0'; i++) {
		bar = strchr(s, '|');
		n = bar != NULL ? (size_t)(bar - s) : strlen(s);
		if (n == tlen && strncasecmp(s, text, n) == 0) {
			if (canon != NULL)
				snprintf(canon, len, "%.*s", (int)n, s);
			return i;
		}
		s = bar != NULL ? bar + 1 : s + n;
	}
	return -1;
}

/* Value I of O's enum into BUF. */
static const char *
config_enum_name(const struct config_option *o, int64_t idx, char *buf,
    size_t len)
{
	const char *s = o->values, *bar;
	int64_t i;

	for (i = 0; i < idx && (bar = strchr(s, '|')) != NULL; i++)
		s = bar + 1;
	bar = strchr(s, '|');
	snprintf(buf, len, "%.*s", (int)(bar != NULL ? (size_t)(bar - s) :
	    strlen(s)), s);
	return buf;
}

/* "auto, split, single" */
static void
config_enum_list(const struct config_option *o, char *buf, size_t len)
{
	const char *s;
	size_t used = 0;

	for (s = o->values; *s != '\0' && used + 3 < len; s++) {
		if (*s == '|') {
			buf[used++] = ',';
			buf[used++] = ' ';
		} else {
			buf[used++] = *s;
		}
	}
	buf[used] = '\0';
}

static void
config_fmt_duration(int64_t ms, char *buf, size_t len)
{
	if (ms > 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms > 0 && ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

/* What a value of O must be: "a duration like 5s or 250ms". */
static void
config_expect(const struct config_option *o, char *buf, size_t len)
{
	char vals[128];

	switch (o->type) {
	case CONFIG_T_STRING:
		snprintf(buf, len, "a string");
		break;
	case CONFIG_T_INT:
		snprintf(buf, len, "a whole number from %lld to %lld",
		    (long long)o->min, (long long)o->max);
		break;
	case CONFIG_T_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case CONFIG_T_DURATION:
		snprintf(buf, len, "a duration like 5s or 250ms");
		break;
	case CONFIG_T_ENUM:
		config_enum_list(o, vals, sizeof vals);
		snprintf(buf, len, "one of %s", vals);
		break;
	case CONFIG_T_LIST:
		snprintf(buf, len, "a list");
		break;
	case CONFIG_T_MAP:
		snprintf(buf, len, "a mapping");
		break;
	}
}

/*
 * Check TEXT, the value of option O written under KEY, and store it in *NUM
 * (int, bool 0/1, duration in ms, enum index).  Problems go to P at AT; P
 * NULL checks silently (the table's own defaults).
 */
static int
config_convert(struct config_parse *p, const struct config_option *o,
    const char *key, const char *text, struct config_pos at, int64_t *num)
{
	char want[160], a[32], b[32];
	long long v;
	char *end;
	int i;

	*num = 0;
	switch (o->type) {
	case CONFIG_T_STRING:
		if (*text == '\0') {
			config_error(p, at, "'%s' must not be empty (leave it out "
			    "to use the default)", key);
			return -1;
		}
		return 0;
	case CONFIG_T_INT:
		errno = 0;
		v = strtoll(text, &end, 10);
		if (end == text || *end != '\0' || errno == ERANGE ||
		    isspace((unsigned char)*text)) {
			config_expect(o, want, sizeof want);
			config_error(p, at, "'%s' must be %s, got '%.64s'", key, want,
			    text);
			return -1;
		}
		if (v < o->min || v > o->max) {
			config_error(p, at, "'%s' must be from %lld to %lld, got %lld",
			    key, (long long)o->min, (long long)o->max, v);
			return -1;
		}
		*num = v;
		return 0;
	case CONFIG_T_BOOL:
		if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0 ||
		    strcasecmp(text, "on") == 0) {
			*num = 1;
			return 0;
		}
		if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0 ||
		    strcasecmp(text, "off") == 0)
			return 0;
		config_error(p, at, "'%s' must be true or false, got '%.64s'", key,
		    text);
		return -1;
	case CONFIG_T_DURATION:
		if (util_parse_duration_ms(text, num) != 0) {
			config_error(p, at, "'%s' must be a duration like 5s or 250ms, "
			    "got '%.64s'", key, text);
			return -1;
		}
		if (*num < o->min || *num > o->max) {
			config_fmt_duration(o->min, a, sizeof a);
			config_fmt_duration(o->max, b, sizeof b);
			config_error(p, at, "'%s' must be from %s to %s, got '%.64s'",
			    key, a, b, text);
			return -1;
		}
		return 0;
	case CONFIG_T_ENUM:
		if ((i = config_enum_index(o, text, NULL, 0)) < 0) {
			const char *cands[8], *s, *best;
			char names[8][32];
			size_t n = 0;

			for (s = o->values; n < 8 && *s != '\0'; n++) {
				const char *bar = strchr(s, '|');
				size_t l = bar != NULL ? (size_t)(bar - s) : strlen(s);

				snprintf(names[n], sizeof names[n], "%.*s", (int)l, s);
				cands[n] = names[n];
				s = bar != NULL ? bar + 1 : s + l;
			}
			best = config_suggest(text, cands, n);
			config_expect(o, want, sizeof want);
			if (best != NULL)
				config_error(p, at, "'%s' must be %s, got '%.64s' (did you "
				    "mean '%s'?)", key, want, text, best);
			else
				config_error(p, at, "'%s' must be %s, got '%.64s'", key,
				    want, text);
			return -1;
		}
		*num = i;
		return 0;
	case CONFIG_T_LIST:
	case CONFIG_T_MAP:
		break;
	}
	return -1;
}

static const char *
config_str(const struct config_val *v, enum config_opt id)
{
	return v[id].set ? v[id].text : config_options[id].def;
}

static int64_t
config_num(const struct config_val *v, enum config_opt id)
{
	const struct config_option *o = &config_options[id];
	struct config_pos none = { 0, 0 };
	int64_t n = 0;

	if (v[id].set)
		return v[id].num;
	if (o->def != NULL && !(o->flags & CONFIG_F_COMPUTED))
		config_convert(NULL, o, o->name, o->def, none, &n);
	return n;
}

static void
config_vals_free(struct config_val *v)
{
	int i;

	for (i = 0; i < CONFIG_OPT_COUNT; i++) {
		free(v[i].text);
		v[i].text = NULL;
	}
}

static char *
config_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* ---- the YAML document ------------------------------------------------- */

static int
config_node_pos(struct fy_node *fyn, struct config_pos *out)
{
	const struct fy_mark *m;
	struct fy_node_pair *pair;
	struct fy_token *t;
	void *it = NULL;

	if (fyn == NULL)
		return -1;
	switch (fy_node_get_type(fyn)) {
	case FYNT_SCALAR:
		if ((t = fy_node_get_scalar_token(fyn)) == NULL ||
		    (m = fy_token_start_mark(t)) == NULL)
			return -1;
		out->line = m->line + 1;
		out->col = m->column + 1;
		/* the mark is after the opening quote: point at the quote */
		if ((fy_node_get_style(fyn) == FYNS_SINGLE_QUOTED ||
		    fy_node_get_style(fyn) == FYNS_DOUBLE_QUOTED) && out->col > 1)
			out->col--;
		return 0;
	case FYNT_MAPPING:
		/* libfyaml 0.7 keeps no mark for collections: use the first key */
		pair = fy_node_mapping_iterate(fyn, &it);
		return pair != NULL ? config_node_pos(fy_node_pair_key(pair), out) : -1;
	case FYNT_SEQUENCE:
		return config_node_pos(fy_node_sequence_iterate(fyn, &it), out);
	}
	return -1;
}

/* Where FYN starts, or FALLBACK (its key) when it has no position of its
 * own (an empty value, an empty flow collection). */
static struct config_pos
config_pos_of(struct fy_node *fyn, struct config_pos fallback)
{
	struct config_pos at;

	return config_node_pos(fyn, &at) == 0 ? at : fallback;
}

/* Where a message about value FYN of key at KAT points: a scalar itself, a
 * collection its key (libfyaml knows only where its first item starts). */
static struct config_pos
config_value_pos(struct fy_node *fyn, struct config_pos kat)
{
	if (fyn == NULL || !fy_node_is_scalar(fyn))
		return kat;
	return config_pos_of(fyn, kat);
}

static int
config_is_null(struct fy_node *fyn)
{
	const char *s;
	size_t len = 0;

	if (fyn == NULL)
		return 1;
	if (!fy_node_is_scalar(fyn) || fy_node_get_style(fyn) != FYNS_PLAIN)
		return 0;
	s = fy_node_get_scalar(fyn, &len);
	return s == NULL || len == 0 || (len == 1 && s[0] == '~') ||
	    (len == 4 && (strncmp(s, "null", 4) == 0 ||
	    strncmp(s, "Null", 4) == 0 || strncmp(s, "NULL", 4) == 0));
}

static char *
config_scalar(struct fy_node *fyn)
{
	const char *s;
	size_t len = 0;

	s = fy_node_get_scalar(fyn, &len);
	return xstrndup(s != NULL ? s : "", s != NULL ? len : 0);
}

/* "a mapping", "a list", "'fast'" or "nothing" for messages. */
static void
config_describe(struct fy_node *fyn, char *buf, size_t len)
{
	char *s;

	if (config_is_null(fyn)) {
		snprintf(buf, len, "nothing");
	} else if (fy_node_is_mapping(fyn)) {
		snprintf(buf, len, "a mapping");
	} else if (fy_node_is_sequence(fyn)) {
		snprintf(buf, len, "a list");
	} else {
		s = config_scalar(fyn);
		snprintf(buf, len, "'%.64s'", s);
		free(s);
	}
}

/* KEY's text, or NULL after reporting a key that is not a plain scalar. */
static char *
config_key(struct config_parse *p, struct fy_node *key,
    struct config_pos fallback, struct config_pos *at)
{
	char what[96];

	*at = config_pos_of(key, fallback);
	if (key != NULL && fy_node_is_scalar(key))
		return config_scalar(key);
	config_describe(key, what, sizeof what);
	config_error(p, *at, "keys must be names, got %s as a key", what);
	return NULL;
}

static void
config_diag_output(struct fy_diag *diag, void *user, const char *buf,
    size_t len)
{
	/* errors are collected; nothing may reach the terminal */
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/* libfyaml marks an alias or a quoted scalar after its '*' or quote; an
 * error at such a token points at the '*' or quote of TEXT instead. */
static void
config_token_fix(struct fy_token *t, const char *text, size_t len,
    struct config_pos *at)
{
	const struct fy_mark *m;
	char c;

	if (t == NULL || (m = fy_token_start_mark(t)) == NULL ||
	    m->line + 1 != at->line || m->column + 1 != at->col || at->col < 2 ||
	    m->input_pos == 0 || m->input_pos > len)
		return;
	c = text[m->input_pos - 1];
	if (c == '"' || c == '\'' || c == '*')
		at->col--;
}

/* Build the document of TEXT; syntax errors go to P.  NULL for an empty
 * stream too (then P has no messages). */
static struct fy_document *
config_yaml_parse(struct config_parse *p, const char *text, size_t len)
{
	struct config_pos first = { 1, 1 }, at;
	struct fy_document *doc;
	struct fy_diag_error *de;
	struct fy_parse_cfg pcfg;
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	void *it = NULL;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = config_diag_output;
	dcfg.user = p;
	dcfg.colorize = false;
	if ((diag = fy_diag_create(&dcfg)) == NULL) {
		config_error(p, first, "cannot start the YAML parser");
		p->syntax = 1;
		return NULL;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof pcfg);
	pcfg.flags = FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT | FYPCF_JSON_NONE;
	pcfg.diag = diag;
	doc = fy_document_build_from_string(&pcfg, text, len);
	while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
		if (de->type < FYET_ERROR)
			continue;
		at.line = de->line > 0 ? de->line : 1;
		at.col = de->column > 0 ? de->column : 1;
		config_token_fix(de->fyt, text, len, &at);
		p->syntax = 1;
		if (strcmp(de->msg, "duplicate key") == 0 && de->fyt != NULL) {
			size_t klen = 0;
			const char *k = fy_token_get_text(de->fyt, &klen);

			config_error(p, at, "duplicate key '%.*s' (each key may "
			    "appear once in a mapping)", (int)(klen < 64 ? klen : 64),
			    k != NULL ? k : "");
		} else {
			config_error(p, at, "invalid YAML: %s", de->msg);
		}
	}
	if (p->syntax && doc != NULL) {
		fy_document_destroy(doc);
		doc = NULL;
	}
	fy_diag_destroy(diag);
	return doc;
}

/* ---- paths ------------------------------------------------------------- */

static char *
config_dirname(const char *name)
{
	const char *slash;

	if (name == NULL || (slash = strrchr(name, '/')) == NULL)
		return NULL;
	if (slash == name)
		return xstrdup("/");
	return xstrndup(name, (size_t)(slash - name));
}

/* PATH as seen from the config file: "~/" is $HOME, relative paths are
 * relative to the file's directory. */
static char *
config_resolve(const struct config_parse *p, const char *path)
{
	const char *home = getenv("HOME");
	size_t dlen;

	if (path[0] == '/')
		return xstrdup(path);
	if (strncmp(path, "~/", 2) == 0 && home != NULL && *home != '\0')
		return xasprintf("%s%s", home, path + 1);
	if (p->dir == NULL)
		return xstrdup(path);
	dlen = strlen(p->dir);
	return xasprintf("%s%s%s", p->dir,
	    dlen > 0 && p->dir[dlen - 1] == '/' ? "" : "/", path);
}

/* ---- the walk ---------------------------------------------------------- */

static void config_parse_options(struct config_parse *p, struct fy_node *map,
    struct config_pos at, const char *prefix, const char *label,
    struct config_val *v);

static void
config_parse_leaf(struct config_parse *p, enum config_opt id, const char *key,
    struct fy_node *vn, struct config_pos kat, struct config_val *out)
{
	const struct config_option *o = &config_options[id];
	struct config_pos at = config_value_pos(vn, kat);
	char want[160], what[96], canon[32];
	int64_t num;
	char *text;

	if (config_is_null(vn))
		return;		/* "key:" or "key: ~" leaves the default */
	if (!fy_node_is_scalar(vn)) {
		config_expect(o, want, sizeof want);
		config_describe(vn, what, sizeof what);
		config_error(p, at, "'%s' must be %s, got %s", key, want, what);
		out->bad = 1;
		return;
	}
	text = config_scalar(vn);
	if (config_convert(p, o, key, text, at, &num) != 0) {
		free(text);
		out->bad = 1;
		return;
	}
	if (o->type == CONFIG_T_ENUM) {
		config_enum_index(o, text, canon, sizeof canon);
		free(text);
		text = xstrdup(canon);
	} else if (o->flags & CONFIG_F_PATH) {
		char *path = config_resolve(p, text);

		free(text);
		text = path;
	}
	free(out->text);
	out->set = 1;
	out->bad = 0;
	out->text = text;
	out->num = num;
	out->pos = at;
}

/* A collection value that is neither null nor the expected kind. */
static int
config_check_kind(struct config_parse *p, struct fy_node *vn,
    struct config_pos kat, enum fy_node_type want, const char *fmt_key,
    const char *like)
{
	char what[96];

	if (config_is_null(vn))
		return -1;
	if (fy_node_get_type(vn) == want)
		return 0;
	config_describe(vn, what, sizeof what);
	config_error(p, config_value_pos(vn, kat), "'%s' must be %s like %s, got %s",
	    fmt_key, want == FYNT_MAPPING ? "a mapping" : "a list", like, what);
	return -1;
}

static void
config_parse_envs(struct config_parse *p, struct fy_node *vn,
    struct config_pos kat)
{
	struct fy_node_pair *pair;
	struct config_env_raw *env;
	struct config_pos at;
	char label[96], what[96];
	void *it = NULL;
	char *name;

	if (config_check_kind(p, vn, kat, FYNT_MAPPING, "environments",
	    "{ production: { protected: true }, staging: {} }") != 0)
		return;
	while ((pair = fy_node_mapping_iterate(vn, &it)) != NULL) {
		struct fy_node *val = fy_node_pair_value(pair);

		if ((name = config_key(p, fy_node_pair_key(pair), kat, &at)) == NULL)
			continue;
		if (*name == '\0') {
			config_error(p, at, "environment names must not be empty");
			free(name);
			continue;
		}
		p->envs = xreallocarray(p->envs, p->n_envs + 1, sizeof *p->envs);
		env = &p->envs[p->n_envs++];
		memset(env, 0, sizeof *env);
		env->name = name;
		env->pos = at;
		if (config_is_null(val))
			continue;
		if (!fy_node_is_mapping(val)) {
			config_describe(val, what, sizeof what);
			config_error(p, config_value_pos(val, at), "environment '%.64s' "
			    "must be a mapping like { protected: true }, got %s", name,
			    what);
			continue;
		}
		snprintf(label, sizeof label, "environment '%.64s'", name);
		config_parse_options(p, val, at, "environments.<name>.", label,
		    env->v);
	}
}

static void
config_parse_endpoints(struct config_parse *p, struct fy_node *vn,
    struct config_pos kat)
{
	struct config_ep_raw *ep;
	struct fy_node *item, *name;
	struct config_pos at;
	char label[96], what[96];
	void *it = NULL;
	size_t i = 0;

	if (config_check_kind(p, vn, kat, FYNT_SEQUENCE, "endpoints",
	    "- { name: api, url: https://HOST/health }") != 0)
		return;
	while ((item = fy_node_sequence_iterate(vn, &it)) != NULL) {
		i++;
		at = config_pos_of(item, kat);
		if (!fy_node_is_mapping(item)) {
			config_describe(item, what, sizeof what);
			config_error(p, at, "endpoint %zu must be a mapping like "
			    "{ name: api, url: https://HOST/health }, got %s", i, what);
			continue;
		}
		p->eps = xreallocarray(p->eps, p->n_eps + 1, sizeof *p->eps);
		ep = &p->eps[p->n_eps++];
		memset(ep, 0, sizeof *ep);
		ep->index = i;
		ep->pos = at;
		name = fy_node_mapping_lookup_by_string(item, "name", 4);
		if (name != NULL && fy_node_is_scalar(name) && !config_is_null(name)) {
			char *s = config_scalar(name);

			snprintf(label, sizeof label, "endpoint '%.64s'", s);
			free(s);
		} else {
			snprintf(label, sizeof label, "endpoint %zu", i);
		}
		config_parse_options(p, item, at, "health.endpoints[].", label,
		    ep->v);
	}
}

static int
config_section_known(const char *section, const char **cands, size_t *n)
{
	size_t i, k;
	int a, found = 0;

	*n = 0;
	cands[(*n)++] = "global";
	for (a = 1; a < ACTION_COUNT; a++) {
		const char *scope = action_info((enum action)a)->scope;

		for (k = 0; k < *n; k++)
			if (strcmp(cands[k], scope) == 0)
				break;
		if (k == *n && *n < ACTION_COUNT)
			cands[(*n)++] = scope;
	}
	for (i = 0; i < *n; i++)
		if (strcmp(cands[i], section) == 0)
			found = 1;
	return found;
}

static void
config_unknown_action(struct config_parse *p, struct config_pos at,
    const char *name)
{
	const char *cands[ACTION_COUNT], *best;
	size_t n = 0;
	int a;

	for (a = 1; a < ACTION_COUNT; a++)
		cands[n++] = action_info((enum action)a)->name;
	best = config_suggest(name, cands, n);
	if (best != NULL)
		config_error(p, at, "unknown action '%.64s' (did you mean '%s'?)",
		    name, best);
	else
		config_error(p, at, "unknown action '%.64s' (see 'signalbox keys' "
		    "for the list, or use none to remove a binding)", name);
}

static void
config_parse_bindings(struct config_parse *p, const char *section,
    struct fy_node *map, struct config_pos sat)
{
	struct config *cfg = p->cfg;
	size_t first = cfg->n_bindings, j;
	struct config_binding *b;
	struct fy_node_pair *pair;
	struct config_pos at, vat;
	struct err kerr;
	char what[96];
	void *it = NULL;
	uint32_t code = 0, other;
	char *key, *action;
	int bad;

	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *val = fy_node_pair_value(pair);

		if ((key = config_key(p, fy_node_pair_key(pair), sat, &at)) == NULL)
			continue;
		bad = 0;
		if (keymap_parse_key(key, &code) != 0) {
			config_error(p, at, "unknown key name '%.64s' (" CONFIG_KEY_NAMES
			    ")", key);
			bad = 1;
		}
		vat = config_value_pos(val, at);
		action = NULL;
		if (config_is_null(val)) {
			config_error(p, at, "no action for key '%.64s' (give an action "
			    "name, or none to remove the binding)", key);
		} else if (!fy_node_is_scalar(val)) {
			config_describe(val, what, sizeof what);
			config_error(p, vat, "the action for '%.64s' must be an action "
			    "name like quit, got %s", key, what);
		} else {
			action = config_scalar(val);
			if (strcmp(action, "none") != 0 &&
			    action_lookup(action) == ACTION_NONE) {
				config_unknown_action(p, vat, action);
				free(action);
				action = NULL;
			} else if (!bad && keymap_check_binding(code,
			    action_lookup(action), &kerr) != 0) {
				/* changes production: Shift-letters only (policy.h) */
				config_error(p, at, "%s", kerr.msg);
				free(action);
				action = NULL;
			}
		}
		for (j = first; !bad && j < cfg->n_bindings; j++) {
			b = &cfg->bindings[j];
			if (keymap_parse_key(b->key, &other) == 0 && other == code) {
				config_error(p, at, "key '%.64s' is bound twice in '%s' "
				    "(first as '%.64s' at %d:%d)", key, section, b->key,
				    b->line, b->col);
				bad = 1;
			}
		}
		if (bad || action == NULL) {
			free(key);
			free(action);
			continue;
		}
		cfg->bindings = xreallocarray(cfg->bindings, cfg->n_bindings + 1,
		    sizeof *cfg->bindings);
		b = &cfg->bindings[cfg->n_bindings++];
		b->section = xstrdup(section);
		b->key = key;
		b->action = action;
		b->line = at.line;
		b->col = at.col;
	}
}

static void
config_parse_keys(struct config_parse *p, struct fy_node *vn,
    struct config_pos kat)
{
	const char *cands[ACTION_COUNT + 1], *best;
	struct fy_node_pair *pair;
	struct config_pos at;
	char what[96], list[256];
	void *it = NULL;
	size_t n;
	char *section;

	if (config_check_kind(p, vn, kat, FYNT_MAPPING, "keys",
	    "{ global: { x: quit }, health: { r: check-now } }") != 0)
		return;
	while ((pair = fy_node_mapping_iterate(vn, &it)) != NULL) {
		struct fy_node *val = fy_node_pair_value(pair);

		if ((section = config_key(p, fy_node_pair_key(pair), kat, &at)) == NULL)
			continue;
		if (!config_section_known(section, cands, &n)) {
			best = config_suggest(section, cands, n);
			config_join(list, sizeof list, cands, n);
			if (best != NULL)
				config_error(p, at, "unknown key section '%.64s' (did you "
				    "mean '%s'?)", section, best);
			else
				config_error(p, at, "unknown key section '%.64s' (sections "
				    "are %s)", section, list);
		} else if (config_is_null(val)) {
			/* an empty section changes nothing */
		} else if (!fy_node_is_mapping(val)) {
			config_describe(val, what, sizeof what);
			config_error(p, config_value_pos(val, at), "bindings for '%s' must "
			    "be a mapping of key names to actions like { x: quit }, got %s",
			    section, what);
		} else {
			config_parse_bindings(p, section, val, at);
		}
		free(section);
	}
}

static void
config_unknown_key(struct config_parse *p, struct config_pos at,
    const char *key, const char *prefix, const char *label)
{
	const char *cands[CONFIG_OPT_COUNT], *best;
	char where[128] = "", list[512];
	size_t n;

	n = config_children(prefix, cands);
	best = config_suggest(key, cands, n);
	if (label != NULL)
		snprintf(where, sizeof where, " in %s", label);
	if (best != NULL) {
		config_error(p, at, "unknown key '%.64s'%s (did you mean '%s'?)", key,
		    where, best);
	} else {
		config_join(list, sizeof list, cands, n);
		config_error(p, at, "unknown key '%.64s'%s (known keys: %s)", key,
		    where, list);
	}
}

/* A list of mappings (logs.sources, backups.drill.checks): each item's
 * options under PREFIX into a new element of *ARR.  KEY names the list and
 * WHAT an item in messages ("log source 2"); EXAMPLE shows one item. */
static void
config_parse_items(struct config_parse *p, struct fy_node *vn, struct config_pos kat,
    const char *key, const char *what_item, const char *example, const char *prefix,
    struct config_ep_raw **arr, size_t *n)
{
	struct config_ep_raw *it_raw;
	struct fy_node *item;
	char label[96], what[96], ex[160];
	void *it = NULL;
	size_t i = 0;

	snprintf(ex, sizeof ex, "- %s", example);
	if (config_check_kind(p, vn, kat, FYNT_SEQUENCE, key, ex) != 0)
		return;
	while ((item = fy_node_sequence_iterate(vn, &it)) != NULL) {
		struct config_pos at = config_pos_of(item, kat);

		i++;
		if (!fy_node_is_mapping(item)) {
			config_describe(item, what, sizeof what);
			config_error(p, at, "%s %zu must be a mapping like %s, got %s", what_item,
			    i, example, what);
			continue;
		}
		*arr = xreallocarray(*arr, *n + 1, sizeof **arr);
		it_raw = &(*arr)[(*n)++];
		memset(it_raw, 0, sizeof *it_raw);
		it_raw->index = i;
		it_raw->pos = at;
		snprintf(label, sizeof label, "%s %zu", what_item, i);
		config_parse_options(p, item, at, prefix, label, it_raw->v);
	}
}

/* A list of words (a command, a wrapper, table names), kept joined by
 * \x1f; WHAT names it and EXAMPLE shows one in messages. */
static void
config_parse_words(struct config_parse *p, struct fy_node *vn, struct config_pos kat,
    const char *what_name, const char *example, struct config_val *out)
{
	struct config_pos at = config_value_pos(vn, kat);
	struct fy_node *w;
	void *it = NULL;
	char *joined, what[96];
	size_t n = 0;

	if (fy_node_is_scalar(vn)) {
		config_error(p, at, "'%s' must be a list %slike %s%s", what_name,
		    strcmp(what_name, "tables") == 0 ? "" : "of words ", example,
		    strcmp(what_name, "command") != 0 && strcmp(what_name, "smoke") != 0 ? "" :
		    "; for a shell pipeline write [sh, -c, '...']");
		out->bad = 1;
		return;
	}
	if (config_check_kind(p, vn, kat, FYNT_SEQUENCE, what_name, example) != 0) {
		out->bad = 1;
		return;
	}
	joined = xstrdup("");
	while ((w = fy_node_sequence_iterate(vn, &it)) != NULL) {
		char *word, *next;

		if (!fy_node_is_scalar(w) || config_is_null(w)) {
			config_describe(w, what, sizeof what);
			config_error(p, config_pos_of(w, at), "every word of '%s' must be "
			    "a string, got %s", what_name, what);
			out->bad = 1;
			free(joined);
			return;
		}
		word = config_scalar(w);
		next = xasprintf("%s%s%s", joined, n > 0 ? "\x1f" : "", word);
		free(word);
		free(joined);
		joined = next;
		n++;
	}
	if (n == 0) {
		config_error(p, at, "'%s' is empty: %s", what_name,
		    strcmp(what_name, "tables") == 0 ? "name a table or leave it out" :
		    "name the program to run, or leave it out");
		out->bad = 1;
		free(joined);
		return;
	}
	free(out->text);
	out->text = joined;
	out->set = 1;
	out->pos = at;
}

static void
config_parse_options(struct config_parse *p, struct fy_node *map,
    struct config_pos at, const char *prefix, const char *label,
    struct config_val *v)
{
	struct fy_node_pair *pair;
	struct config_pos kat;
	void *it = NULL;
	char *key;
	int id;

	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *val = fy_node_pair_value(pair);

		if ((key = config_key(p, fy_node_pair_key(pair), at, &kat)) == NULL)
			continue;
		/* top-level "x-" keys hold YAML anchors for reuse (compose style) */
		if (*prefix == '\0' && strncmp(key, "x-", 2) == 0) {
			free(key);
			continue;
		}
		id = config_child(prefix, key);
		switch (id) {
		case -1:
			config_unknown_key(p, kat, key, prefix, label);
			break;
		case CONFIG_OPT_ENVIRONMENTS:
			config_parse_envs(p, val, kat);
			break;
		case CONFIG_OPT_HEALTH:
			if (config_check_kind(p, val, kat, FYNT_MAPPING, "health",
			    "{ interval: 5s, endpoints: [...] }") == 0)
				config_parse_options(p, val, kat, "health.", "'health'", v);
			break;
		case CONFIG_OPT_ENDPOINTS:
			config_parse_endpoints(p, val, kat);
			break;
		case CONFIG_OPT_KEYS:
			config_parse_keys(p, val, kat);
			break;
		case CONFIG_OPT_AUDIT:
			if (config_check_kind(p, val, kat, FYNT_MAPPING, "audit",
			    "{ file: ~/audit.jsonl }") == 0)
				config_parse_options(p, val, kat, "audit.", "'audit'", v);
			break;
		case CONFIG_OPT_LOGS:
			if (config_check_kind(p, val, kat, FYNT_MAPPING, "logs",
			    "{ max_memory: 64, sources: [...] }") == 0)
				config_parse_options(p, val, kat, "logs.", "'logs'", v);
			break;
		case CONFIG_OPT_LOGS_SOURCES:
			config_parse_items(p, val, kat, "sources", "log source",
			    "{ name: app, file: /var/log/app.log }", "logs.sources[].", &p->lss,
			    &p->n_lss);
			break;
		case CONFIG_OPT_LS_COMMAND:
			config_parse_words(p, val, kat, "command", "[journalctl, -f, -u, api]",
			    &v[id]);
			break;
		case CONFIG_OPT_BK_WRAPPER:
			config_parse_words(p, val, kat, "wrapper", "[sudo, -n, -u, postgres, --]",
			    &v[id]);
			break;
		case CONFIG_OPT_BK_DRILL_TABLES:
			config_parse_words(p, val, kat, "tables", "[orders, public.customers]",
			    &v[id]);
			break;
		case CONFIG_OPT_BK_DRILL_SMOKE:
			config_parse_words(p, val, kat, "smoke", "[./smoke-test.sh]", &v[id]);
			break;
		case CONFIG_OPT_BK_RESTORE_STOP:
		case CONFIG_OPT_BK_RESTORE_START:
			config_parse_words(p, val, kat, key, id == CONFIG_OPT_BK_RESTORE_STOP ?
			    "[systemctl, stop, postgresql@15-main]" :
			    "[systemctl, start, postgresql@15-main]", &v[id]);
			break;
		case CONFIG_OPT_BK_DRILL_CHECKS:
			config_parse_items(p, val, kat, "checks", "drill check",
			    "{ name: orders-present, sql: 'select count(*) > 0 from orders' }",
			    "backups.drill.checks[].", &p->dcs, &p->n_dcs);
			break;
		case CONFIG_OPT_BACKUPS:
		case CONFIG_OPT_BK_PGBR:
		case CONFIG_OPT_BK_DRILL:
		case CONFIG_OPT_BK_RESTORE: {
			static const char *const pre[] = { "backups.", "backups.pgbackrest.",
			    "backups.drill.", "backups.restore." };
			static const char *const lab[] = { "'backups'", "'pgbackrest'", "'drill'",
			    "'restore'" };
			static const char *const ex[] = {
				"{ pgbackrest: { stanza: main }, drill: { tables: [orders] } }",
				"{ config: /etc/pgbackrest/pgbackrest.conf, stanza: main }",
				"{ scratch: /var/tmp, tables: [orders] }",
				"{ stop: [systemctl, stop, pg], start: [systemctl, start, pg] }" };
			int k = id == CONFIG_OPT_BACKUPS ? 0 : id == CONFIG_OPT_BK_PGBR ? 1 :
			    id == CONFIG_OPT_BK_DRILL ? 2 : 3;

			if (config_check_kind(p, val, kat, FYNT_MAPPING, key, ex[k]) == 0) {
				v[id].set = 1;
				v[id].pos = kat;
				config_parse_options(p, val, kat, pre[k], lab[k], v);
			}
			break;
		}
		case CONFIG_OPT_FLAGS:
			if (config_check_kind(p, val, kat, FYNT_MAPPING, "flags",
			    "{ store: redis, url_env: REDIS_URL }") == 0) {
				v[id].set = 1;
				v[id].pos = kat;
				config_parse_options(p, val, kat, "flags.", "'flags'", v);
			}
			break;
		case CONFIG_OPT_DATASTORES:
			if (config_check_kind(p, val, kat, FYNT_MAPPING, "datastores",
			    "{ postgres: { url_env: DATABASE_URL }, redis: {} }") == 0)
				config_parse_options(p, val, kat, "datastores.",
				    "'datastores'", v);
			break;
		case CONFIG_OPT_DS_PG:
		case CONFIG_OPT_DS_REDIS:
			/* null ("postgres:") takes the defaults, like {} */
			if (config_is_null(val) || config_check_kind(p, val, kat,
			    FYNT_MAPPING, key, "{ url_env: NAME, interval: 5s }") == 0) {
				v[id].set = 1;
				v[id].pos = kat;
				if (!config_is_null(val))
					config_parse_options(p, val, kat, id == CONFIG_OPT_DS_PG ?
					    "datastores.postgres." : "datastores.redis.",
					    id == CONFIG_OPT_DS_PG ? "'postgres'" : "'redis'", v);
			}
			break;
		case CONFIG_OPT_PROVIDER:
			if (config_check_kind(p, val, kat, FYNT_MAPPING, "provider",
			    "{ type: railway, project_id: ID }") == 0) {
				v[id].set = 1;
				v[id].pos = kat;
				config_parse_options(p, val, kat, "provider.",
				    "'provider'", v);
			}
			break;
		default:
			config_parse_leaf(p, (enum config_opt)id, key, val, kat, &v[id]);
			break;
		}
		free(key);
	}
}

/* ---- from values to struct config -------------------------------------- */

static void
config_apply_root(struct config *cfg, const struct config_val *v)
{
	cfg->project = xstrdup(config_str(v, CONFIG_OPT_PROJECT));
	cfg->theme = xstrdup(config_str(v, CONFIG_OPT_THEME));
	cfg->fps = (int)config_num(v, CONFIG_OPT_FPS);
	cfg->layout = xstrdup(config_str(v, CONFIG_OPT_LAYOUT));
	cfg->log_file = config_strdup_or_null(config_str(v, CONFIG_OPT_LOG_FILE));
	cfg->health_interval_ms = config_num(v, CONFIG_OPT_HEALTH_INTERVAL);
	cfg->health_timeout_ms = config_num(v, CONFIG_OPT_HEALTH_TIMEOUT);
	cfg->health_window = (int)config_num(v, CONFIG_OPT_HEALTH_WINDOW);
	cfg->tls_warn_days = (int)config_num(v, CONFIG_OPT_TLS_WARN_DAYS);
	cfg->tls_fail_days = (int)config_num(v, CONFIG_OPT_TLS_FAIL_DAYS);
	/* audit (policy.h): NULL file = audit_default_path() */
	cfg->audit_file = v[CONFIG_OPT_AUDIT_FILE].set ?
	    xstrdup(v[CONFIG_OPT_AUDIT_FILE].text) : NULL;
	cfg->audit_fsync = (int)config_num(v, CONFIG_OPT_AUDIT_FSYNC);
}

static void
config_apply_envs(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	const struct config_val *v = p->root;
	const char *cands[64], *best;
	char list[512];
	size_t i, n;

	cfg->envs = xcalloc(p->n_envs > 0 ? p->n_envs : 1, sizeof *cfg->envs);
	for (i = 0; i < p->n_envs; i++) {
		struct config_environment *env = &cfg->envs[cfg->n_envs++];

		env->name = p->envs[i].name;
		p->envs[i].name = NULL;
		env->protected_env = (int)config_num(p->envs[i].v,
		    CONFIG_OPT_ENV_PROTECTED);
		env->read_only = (int)config_num(p->envs[i].v,
		    CONFIG_OPT_ENV_READ_ONLY);
	}
	if (v[CONFIG_OPT_ENVIRONMENT].set) {
		cfg->environment = xstrdup(v[CONFIG_OPT_ENVIRONMENT].text);
		if (cfg->n_envs == 0 || config_env(cfg, cfg->environment) != NULL)
			return;
		n = cfg->n_envs < 64 ? cfg->n_envs : 64;
		for (i = 0; i < n; i++)
			cands[i] = cfg->envs[i].name;
		best = config_suggest(cfg->environment, cands, n);
		config_join(list, sizeof list, cands, n);
		if (best != NULL)
			config_error(p, v[CONFIG_OPT_ENVIRONMENT].pos, "environment "
			    "'%.64s' is not in 'environments' (did you mean '%s'?)",
			    cfg->environment, best);
		else
			config_error(p, v[CONFIG_OPT_ENVIRONMENT].pos, "environment "
			    "'%.64s' is not in 'environments' (add it there, or use one "
			    "of: %s)", cfg->environment, list);
	} else {
		cfg->environment = xstrdup(cfg->n_envs > 0 ? cfg->envs[0].name :
		    CONFIG_DEFAULT_ENV);
	}
}

static void
config_check_health(struct config_parse *p)
{
	const struct config_val *v = p->root;
	const struct config_val *ti = &v[CONFIG_OPT_HEALTH_INTERVAL];
	const struct config_val *to = &v[CONFIG_OPT_HEALTH_TIMEOUT];
	const struct config_val *tw = &v[CONFIG_OPT_TLS_WARN_DAYS];
	const struct config_val *tf = &v[CONFIG_OPT_TLS_FAIL_DAYS];
	struct config *cfg = p->cfg;
	char a[32], b[32];

	if ((ti->set || to->set) && !ti->bad && !to->bad &&
	    cfg->health_timeout_ms > cfg->health_interval_ms) {
		config_fmt_duration(cfg->health_timeout_ms, a, sizeof a);
		config_fmt_duration(cfg->health_interval_ms, b, sizeof b);
		config_error(p, to->set ? to->pos : ti->pos, "'timeout' (%s) must "
		    "not be longer than 'interval' (%s)", a, b);
	}
	if ((tw->set || tf->set) && !tw->bad && !tf->bad &&
	    cfg->tls_fail_days >= cfg->tls_warn_days)
		config_error(p, tf->set ? tf->pos : tw->pos, "'tls_fail_days' (%d) "
		    "must be less than 'tls_warn_days' (%d)", cfg->tls_fail_days,
		    cfg->tls_warn_days);
}

enum config_scheme { CONFIG_SCHEME_BAD, CONFIG_SCHEME_HTTP, CONFIG_SCHEME_HTTPS,
	CONFIG_SCHEME_WS, CONFIG_SCHEME_WSS };

static enum config_scheme
config_url_scheme(const char *url)
{
	static const struct {
		const char *prefix;
		enum config_scheme scheme;
	} schemes[] = {
		{ "http://", CONFIG_SCHEME_HTTP }, { "https://", CONFIG_SCHEME_HTTPS },
		{ "ws://", CONFIG_SCHEME_WS }, { "wss://", CONFIG_SCHEME_WSS },
	};
	const char *c;
	size_t i, n;

	for (c = url; *c != '\0'; c++)
		if (isspace((unsigned char)*c))
			return CONFIG_SCHEME_BAD;
	for (i = 0; i < ARRAY_LEN(schemes); i++) {
		n = strlen(schemes[i].prefix);
		if (strncasecmp(url, schemes[i].prefix, n) == 0 &&
		    url[n] != '\0' && url[n] != '/')
			return schemes[i].scheme;
	}
	return CONFIG_SCHEME_BAD;
}

static void
config_apply_endpoint(struct config_parse *p, size_t idx)
{
	struct config_ep_raw *raw = &p->eps[idx];
	const struct config_val *v = raw->v;
	struct config *cfg = p->cfg;
	struct config_endpoint *ep = &cfg->endpoints[cfg->n_endpoints++];
	const struct config_val *vi = &v[CONFIG_OPT_EP_INTERVAL];
	const struct config_val *vt = &v[CONFIG_OPT_EP_TIMEOUT];
	const struct config_val *vtype = &v[CONFIG_OPT_EP_TYPE];
	enum config_scheme scheme = CONFIG_SCHEME_BAD;
	char label[96], a[32], b[32];

	ep->name = config_strdup_or_null(config_str(v, CONFIG_OPT_EP_NAME));
	ep->url = config_strdup_or_null(config_str(v, CONFIG_OPT_EP_URL));
	ep->line = raw->pos.line;
	ep->col = raw->pos.col;
	if (ep->name != NULL)
		snprintf(label, sizeof label, "endpoint '%.64s'", ep->name);
	else
		snprintf(label, sizeof label, "endpoint %zu", raw->index);

	if (ep->name == NULL && !v[CONFIG_OPT_EP_NAME].bad)
		config_error(p, raw->pos, "%s has no 'name' (add name: NAME, "
		    "unique among the endpoints)", label);
	if (ep->url == NULL && !v[CONFIG_OPT_EP_URL].bad)
		config_error(p, raw->pos, "%s has no 'url' (add url: "
		    "https://HOST/health)", label);
	if (ep->url != NULL) {
		scheme = config_url_scheme(ep->url);
		if (scheme == CONFIG_SCHEME_BAD)
			config_error(p, v[CONFIG_OPT_EP_URL].pos, "'url' must be an "
			    "http://, https://, ws:// or wss:// URL with a host, got "
			    "'%.64s'", ep->url);
	}

	if (vtype->set)
		ep->type = vtype->num == 1 ? CONFIG_EP_WEBSOCKET : CONFIG_EP_HTTP;
	else
		ep->type = scheme == CONFIG_SCHEME_WS || scheme == CONFIG_SCHEME_WSS ?
		    CONFIG_EP_WEBSOCKET : CONFIG_EP_HTTP;
	if (vtype->set && scheme != CONFIG_SCHEME_BAD) {
		int ws = scheme == CONFIG_SCHEME_WS || scheme == CONFIG_SCHEME_WSS;

		if (ep->type == CONFIG_EP_HTTP && ws)
			config_error(p, vtype->pos, "%s: type 'http' does not fit a "
			    "ws:// or wss:// URL (use an http:// or https:// URL, or type: "
			    "websocket)", label);
		else if (ep->type == CONFIG_EP_WEBSOCKET && !ws)
			config_error(p, vtype->pos, "%s: type 'websocket' needs a ws:// "
			    "or wss:// URL", label);
	}

	ep->expect = v[CONFIG_OPT_EP_EXPECT].set ? (int)v[CONFIG_OPT_EP_EXPECT].num :
	    ep->type == CONFIG_EP_WEBSOCKET ? 101 : 200;
	ep->interval_ms = vi->set ? vi->num : cfg->health_interval_ms;
	ep->timeout_ms = vt->set ? vt->num : cfg->health_timeout_ms;
	if ((vi->set || vt->set) && !vi->bad && !vt->bad &&
	    ep->timeout_ms > ep->interval_ms) {
		config_fmt_duration(ep->timeout_ms, a, sizeof a);
		config_fmt_duration(ep->interval_ms, b, sizeof b);
		config_error(p, vt->set ? vt->pos : vi->pos, "%s: 'timeout' (%s) "
		    "must not be longer than 'interval' (%s)", label, a, b);
	}
	if (v[CONFIG_OPT_EP_HEADERS].set)
		ep->headers = v[CONFIG_OPT_EP_HEADERS].num == 0 ?
		    CONFIG_HEADERS_STRICT : CONFIG_HEADERS_OFF;
	else
		ep->headers = scheme == CONFIG_SCHEME_HTTPS ? CONFIG_HEADERS_STRICT :
		    CONFIG_HEADERS_OFF;
	ep->ca_file = config_strdup_or_null(config_str(v, CONFIG_OPT_EP_CA_FILE));
	ep->service = config_strdup_or_null(config_str(v, CONFIG_OPT_EP_SERVICE));
	ep->ws_message = xstrdup(config_str(v, CONFIG_OPT_EP_WS_MESSAGE));

}

/* Whether NAME can be an environment variable's name. */
static int
config_env_var_name_ok(const char *name)
{
	if (!isalpha((unsigned char)*name) && *name != '_')
		return 0;
	for (; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) && *name != '_')
			return 0;
	return 1;
}

static void
config_apply_provider(struct config_parse *p)
{
	const struct config_val *v = p->root;
	struct config_provider *pr = &p->cfg->provider;
	enum config_scheme scheme;

	pr->line = v[CONFIG_OPT_PROVIDER].pos.line;
	pr->col = v[CONFIG_OPT_PROVIDER].pos.col;
	pr->type = v[CONFIG_OPT_PROVIDER].set ? CONFIG_PROVIDER_RAILWAY :
	    CONFIG_PROVIDER_NONE;
	pr->endpoint = xstrdup(config_str(v, CONFIG_OPT_PROVIDER_ENDPOINT));
	pr->token_env = xstrdup(config_str(v, CONFIG_OPT_PROVIDER_TOKEN_ENV));
	pr->token_file = config_strdup_or_null(config_str(v,
	    CONFIG_OPT_PROVIDER_TOKEN_FILE));
	pr->token_kind = config_num(v, CONFIG_OPT_PROVIDER_TOKEN_KIND) == 1 ?
	    CONFIG_TOKEN_PROJECT : CONFIG_TOKEN_BEARER;
	pr->project_id = config_strdup_or_null(config_str(v,
	    CONFIG_OPT_PROVIDER_PROJECT_ID));
	pr->environment = xstrdup(v[CONFIG_OPT_PROVIDER_ENVIRONMENT].set ?
	    v[CONFIG_OPT_PROVIDER_ENVIRONMENT].text : p->cfg->environment);
	pr->poll_ms = config_num(v, CONFIG_OPT_PROVIDER_POLL);
	if (pr->type == CONFIG_PROVIDER_NONE)
		return;

	scheme = config_url_scheme(pr->endpoint);
	if (v[CONFIG_OPT_PROVIDER_ENDPOINT].set && scheme != CONFIG_SCHEME_HTTP &&
	    scheme != CONFIG_SCHEME_HTTPS)
		config_error(p, v[CONFIG_OPT_PROVIDER_ENDPOINT].pos, "'endpoint' must "
		    "be an http:// or https:// URL with a host, got '%.64s'",
		    pr->endpoint);
	if (v[CONFIG_OPT_PROVIDER_TOKEN_ENV].set && !config_env_var_name_ok(pr->token_env))
		config_error(p, v[CONFIG_OPT_PROVIDER_TOKEN_ENV].pos, "'token_env' must "
		    "be the name of an environment variable like RAILWAY_TOKEN, got "
		    "'%.64s' (the token itself never goes in this file)", pr->token_env);
	if (v[CONFIG_OPT_PROVIDER_PROJECT_ID].set && pr->project_id[0] == '\0')
		config_error(p, v[CONFIG_OPT_PROVIDER_PROJECT_ID].pos, "'project_id' "
		    "must not be empty");
	if (v[CONFIG_OPT_PROVIDER_ENVIRONMENT].set && pr->environment[0] == '\0')
		config_error(p, v[CONFIG_OPT_PROVIDER_ENVIRONMENT].pos, "'environment' "
		    "must not be empty (leave it out to use the top-level environment)");
	if (pr->project_id == NULL && pr->token_kind == CONFIG_TOKEN_BEARER &&
	    !v[CONFIG_OPT_PROVIDER_TOKEN_KIND].bad)
		config_error(p, v[CONFIG_OPT_PROVIDER].pos, "'provider' needs "
		    "'project_id' with token_kind bearer (copy it from the project's "
		    "settings, or use a project token with token_kind: project)");
}

static void
config_apply_datastore(struct config_parse *p, struct config_datastore *ds,
    enum config_opt map, enum config_opt url_env, enum config_opt interval)
{
	const struct config_val *v = p->root;

	ds->enabled = v[map].set;
	ds->line = v[map].pos.line;
	ds->col = v[map].pos.col;
	ds->url_env = xstrdup(config_str(v, url_env));
	ds->interval_ms = config_num(v, interval);
	if (v[url_env].set && !config_env_var_name_ok(ds->url_env))
		config_error(p, v[url_env].pos, "'url_env' must be the name of an "
		    "environment variable like %s, got '%.64s' (the URL itself never "
		    "goes in this file)", config_options[url_env].def, ds->url_env);
}

/* A \x1f-joined word list (config_parse_words) as a NULL-terminated array;
 * *N (may be NULL) gets the count.  NULL for NULL. */
static char **
config_words(const char *joined, size_t *n_out)
{
	size_t n = 1, k = 0;
	char **w, *copy, *tok, *save = NULL;

	if (n_out != NULL)
		*n_out = 0;
	if (joined == NULL)
		return NULL;
	for (const char *c = joined; *c != '\0'; c++)
		n += *c == '\x1f';
	w = xcalloc(n + 1, sizeof *w);
	copy = xstrdup(joined);
	for (tok = strtok_r(copy, "\x1f", &save); tok != NULL; tok = strtok_r(NULL, "\x1f", &save))
		w[k++] = xstrdup(tok);
	free(copy);
	if (n_out != NULL)
		*n_out = k;
	return w;
}

static void
config_words_free(char **w)
{
	for (size_t k = 0; w != NULL && w[k] != NULL; k++)
		free(w[k]);
	free(w);
}

static void
config_apply_flags(struct config_parse *p)
{
	struct config_flags *f = &p->cfg->flags;
	const struct config_val *v = p->root;

	f->enabled = v[CONFIG_OPT_FLAGS].set;
	f->line = v[CONFIG_OPT_FLAGS].pos.line;
	f->col = v[CONFIG_OPT_FLAGS].pos.col;
	f->store = config_num(v, CONFIG_OPT_FLAGS_STORE) == 1 ? CONFIG_FLAGS_POSTGRES :
	    CONFIG_FLAGS_REDIS;
	free(f->url_env);
	f->url_env = xstrdup(v[CONFIG_OPT_FLAGS_URL_ENV].set ?
	    v[CONFIG_OPT_FLAGS_URL_ENV].text : f->store == CONFIG_FLAGS_POSTGRES ?
	    "DATABASE_URL" : "REDIS_URL");
	if (v[CONFIG_OPT_FLAGS_URL_ENV].set && !config_env_var_name_ok(f->url_env))
		config_error(p, v[CONFIG_OPT_FLAGS_URL_ENV].pos, "'url_env' must be the name "
		    "of an environment variable like %s, got '%.64s' (the URL itself never "
		    "goes in this file)", f->store == CONFIG_FLAGS_POSTGRES ? "DATABASE_URL" :
		    "REDIS_URL", f->url_env);
}

static void
config_apply_backups(struct config_parse *p)
{
	struct config_backups *b = &p->cfg->backups;
	const struct config_val *v = p->root;

	b->enabled = v[CONFIG_OPT_BACKUPS].set;
	b->line = v[CONFIG_OPT_BACKUPS].pos.line;
	b->col = v[CONFIG_OPT_BACKUPS].pos.col;
	b->wrapper = config_words(v[CONFIG_OPT_BK_WRAPPER].set ? v[CONFIG_OPT_BK_WRAPPER].text :
	    NULL, NULL);
	b->pgbr_bin = xstrdup(config_str(v, CONFIG_OPT_BK_PGBR_BIN));
	b->pgbr_config = config_strdup_or_null(config_str(v, CONFIG_OPT_BK_PGBR_CONFIG));
	b->stanza = config_strdup_or_null(config_str(v, CONFIG_OPT_BK_PGBR_STANZA));
	b->interval_ms = config_num(v, CONFIG_OPT_BK_PGBR_INTERVAL);
	b->max_age_ms = config_num(v, CONFIG_OPT_BK_PGBR_MAX_AGE);
	b->scratch = xstrdup(config_str(v, CONFIG_OPT_BK_DRILL_SCRATCH));
	b->drill_port = (int)config_num(v, CONFIG_OPT_BK_DRILL_PORT);
	b->pg_bin = xstrdup(config_str(v, CONFIG_OPT_BK_DRILL_PG_BIN));
	b->drill_url_env = xstrdup(config_str(v, CONFIG_OPT_BK_DRILL_URL_ENV));
	b->tables = config_words(v[CONFIG_OPT_BK_DRILL_TABLES].set ?
	    v[CONFIG_OPT_BK_DRILL_TABLES].text : NULL, &b->n_tables);
	b->smoke = config_words(v[CONFIG_OPT_BK_DRILL_SMOKE].set ?
	    v[CONFIG_OPT_BK_DRILL_SMOKE].text : NULL, NULL);
	b->drill_timeout_ms = config_num(v, CONFIG_OPT_BK_DRILL_TIMEOUT);
	b->volume_service = config_strdup_or_null(config_str(v, CONFIG_OPT_BK_VOLUME));
	if (b->volume_service != NULL && p->cfg->provider.type == CONFIG_PROVIDER_NONE &&
	    !v[CONFIG_OPT_PROVIDER].set)
		config_error(p, v[CONFIG_OPT_BK_VOLUME].pos, "'volume' names a service of the "
		    "provider, but there is no provider: mapping");
	b->restore_stop = config_words(v[CONFIG_OPT_BK_RESTORE_STOP].set ?
	    v[CONFIG_OPT_BK_RESTORE_STOP].text : NULL, NULL);
	b->restore_start = config_words(v[CONFIG_OPT_BK_RESTORE_START].set ?
	    v[CONFIG_OPT_BK_RESTORE_START].text : NULL, NULL);
	if ((b->restore_stop == NULL) != (b->restore_start == NULL))
		config_error(p, v[CONFIG_OPT_BK_RESTORE].pos, "'restore' needs both 'stop' and "
		    "'start' (the commands that stop and start the server)");
	if (b->enabled && b->stanza == NULL && !v[CONFIG_OPT_BK_PGBR_STANZA].bad)
		config_error(p, v[CONFIG_OPT_BACKUPS].pos, "'backups' needs "
		    "pgbackrest: { stanza: NAME } (the stanza of this server in the "
		    "pgBackRest configuration)");
	if (b->stanza != NULL && b->stanza[0] == '\0')
		config_error(p, v[CONFIG_OPT_BK_PGBR_STANZA].pos, "'stanza' must not be empty");
	if (v[CONFIG_OPT_BK_DRILL_URL_ENV].set && !config_env_var_name_ok(b->drill_url_env))
		config_error(p, v[CONFIG_OPT_BK_DRILL_URL_ENV].pos, "'url_env' must be the "
		    "name of an environment variable like DATABASE_URL, got '%.64s' (the "
		    "URL itself never goes in this file)", b->drill_url_env);
	for (size_t i = 0; b->tables != NULL && i < b->n_tables; i++) {
		const char *t = b->tables[i];
		int ok = t[0] != '\0' && t[0] != '.';

		for (const char *c = t; ok && *c != '\0'; c++)
			ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
			    *c == '.' || (c != t && c[-1] != '.' && *c >= '0' && *c <= '9');
		if (!ok)
			config_error(p, v[CONFIG_OPT_BK_DRILL_TABLES].pos, "table '%.64s' is "
			    "not a plain name like orders or public.orders (letters, digits, "
			    "_ and one schema dot)", t);
	}
	b->checks = xcalloc(p->n_dcs > 0 ? p->n_dcs : 1, sizeof *b->checks);
	for (size_t i = 0; i < p->n_dcs; i++) {
		const struct config_val *cv = p->dcs[i].v;
		struct config_drill_check *c = &b->checks[b->n_checks++];

		c->name = config_strdup_or_null(config_str(cv, CONFIG_OPT_BK_DC_NAME));
		c->sql = config_strdup_or_null(config_str(cv, CONFIG_OPT_BK_DC_SQL));
		c->expect = xstrdup(config_str(cv, CONFIG_OPT_BK_DC_EXPECT));
		c->line = p->dcs[i].pos.line;
		c->col = p->dcs[i].pos.col;
		if (c->name == NULL && !cv[CONFIG_OPT_BK_DC_NAME].bad)
			config_error(p, p->dcs[i].pos, "drill check %zu has no 'name' (add "
			    "name: NAME, shown in the drill's result)", p->dcs[i].index);
		if (c->sql == NULL && !cv[CONFIG_OPT_BK_DC_SQL].bad)
			config_error(p, p->dcs[i].pos, "drill check %zu has no 'sql' (add "
			    "sql: 'select ...', a query returning one value)", p->dcs[i].index);
	}
}

static void
config_apply_logs(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	const struct config_val *r = p->root;

	cfg->logs_max_memory = (size_t)config_num(r, CONFIG_OPT_LOGS_MAX_MEMORY) << 20;
	cfg->logs_max_line = (size_t)config_num(r, CONFIG_OPT_LOGS_MAX_LINE) << 10;
	cfg->logs_keep_sgr = config_num(r, CONFIG_OPT_LOGS_ANSI) == 1;
	cfg->log_sources = xcalloc(p->n_lss > 0 ? p->n_lss : 1, sizeof *cfg->log_sources);
	for (size_t i = 0; i < p->n_lss; i++) {
		const struct config_val *v = p->lss[i].v;
		struct config_log_source *ls = &cfg->log_sources[cfg->n_log_sources++];

		ls->name = config_strdup_or_null(config_str(v, CONFIG_OPT_LS_NAME));
		ls->path = config_strdup_or_null(config_str(v, CONFIG_OPT_LS_FILE));
		ls->restart = (int)config_num(v, CONFIG_OPT_LS_RESTART);
		ls->backlog = (int)config_num(v, CONFIG_OPT_LS_BACKLOG);
		ls->tz_offset_min = (int)config_num(v, CONFIG_OPT_LS_TZ);
		ls->line = p->lss[i].pos.line;
		ls->col = p->lss[i].pos.col;
		if (v[CONFIG_OPT_LS_COMMAND].set)
			ls->argv = config_words(v[CONFIG_OPT_LS_COMMAND].text, NULL);
		if (ls->name == NULL && !v[CONFIG_OPT_LS_NAME].bad)
			config_error(p, p->lss[i].pos, "log source %zu has no 'name' (add "
			    "name: NAME, the tag shown in the logs pane)", p->lss[i].index);
		if ((ls->path != NULL) == (ls->argv != NULL) && !v[CONFIG_OPT_LS_FILE].bad &&
		    !v[CONFIG_OPT_LS_COMMAND].bad)
			config_error(p, p->lss[i].pos, "log source %zu needs exactly one of "
			    "'file' (a file to follow) or 'command' (a list like "
			    "[journalctl, -f])", p->lss[i].index);
		if (v[CONFIG_OPT_LS_RESTART].set && ls->argv == NULL)
			config_error(p, v[CONFIG_OPT_LS_RESTART].pos, "'restart' is for a "
			    "'command' source");
		for (size_t j = 0; ls->name != NULL && j + 1 < cfg->n_log_sources; j++)
			if (cfg->log_sources[j].name != NULL &&
			    strcmp(cfg->log_sources[j].name, ls->name) == 0)
				config_error(p, v[CONFIG_OPT_LS_NAME].pos, "log source name "
				    "'%.64s' is used twice (line %d first)", ls->name,
				    cfg->log_sources[j].line);
	}
}

static int
config_ep_name_cmp(const void *a, const void *b)
{
	const struct config_endpoint *x = *(const struct config_endpoint *const *)a;
	const struct config_endpoint *y = *(const struct config_endpoint *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

/* Every endpoint whose name an earlier one has, said at the later one.
 * Sorted rather than compared pairwise: 1,000 endpoints were half a
 * million strcmp calls, a fifth of the console's start-up. */
static void
config_check_endpoint_names(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	const struct config_endpoint **by_name;
	size_t i, n = 0, first = 0;

	by_name = xcalloc(cfg->n_endpoints > 0 ? cfg->n_endpoints : 1, sizeof *by_name);
	for (i = 0; i < cfg->n_endpoints; i++)
		if (cfg->endpoints[i].name != NULL)
			by_name[n++] = &cfg->endpoints[i];
	qsort(by_name, n, sizeof *by_name, config_ep_name_cmp);
	for (i = 1; i < n; i++) {
		const struct config_endpoint *ep = by_name[i], *o;

		if (strcmp(by_name[first]->name, ep->name) != 0) {
			first = i;
			continue;
		}
		o = by_name[first];
		config_error(p, (struct config_pos){ ep->line, ep->col }, "endpoint "
		    "'%.64s' defined twice (first at %d:%d)", ep->name, o->line, o->col);
	}
	free(by_name);
}

static void
config_apply(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	size_t i;

	config_apply_root(cfg, p->root);
	config_apply_envs(p);
	config_check_health(p);
	cfg->endpoints = xcalloc(p->n_eps > 0 ? p->n_eps : 1,
	    sizeof *cfg->endpoints);
	for (i = 0; i < p->n_eps; i++)
		config_apply_endpoint(p, i);
	config_check_endpoint_names(p);
	config_apply_provider(p);
	config_apply_datastore(p, &cfg->ds_postgres, CONFIG_OPT_DS_PG,
	    CONFIG_OPT_DS_PG_URL_ENV, CONFIG_OPT_DS_PG_INTERVAL);
	config_apply_datastore(p, &cfg->ds_redis, CONFIG_OPT_DS_REDIS,
	    CONFIG_OPT_DS_REDIS_URL_ENV, CONFIG_OPT_DS_REDIS_INTERVAL);
	config_apply_logs(p);
	config_apply_backups(p);
	config_apply_flags(p);
}

static void
config_parse_free(struct config_parse *p)
{
	size_t i;

	for (i = 0; i < p->n_msgs; i++)
		free(p->msgs[i].text);
	free(p->msgs);
	for (i = 0; i < p->n_envs; i++) {
		free(p->envs[i].name);
		config_vals_free(p->envs[i].v);
	}
	free(p->envs);
	for (i = 0; i < p->n_eps; i++)
		config_vals_free(p->eps[i].v);
	free(p->eps);
	for (i = 0; i < p->n_lss; i++)
		config_vals_free(p->lss[i].v);
	free(p->lss);
	for (i = 0; i < p->n_dcs; i++)
		config_vals_free(p->dcs[i].v);
	free(p->dcs);
	config_vals_free(p->root);
	free(p->dir);
}

/* ---- public ------------------------------------------------------------ */

void
config_init(struct config *cfg)
{
	struct config_val none[CONFIG_OPT_COUNT];

	memset(cfg, 0, sizeof *cfg);
	memset(none, 0, sizeof none);
	config_apply_root(cfg, none);
	cfg->environment = xstrdup(CONFIG_DEFAULT_ENV);
	cfg->provider.type = CONFIG_PROVIDER_NONE;
	cfg->provider.endpoint = xstrdup(config_str(none, CONFIG_OPT_PROVIDER_ENDPOINT));
	cfg->provider.token_env = xstrdup(config_str(none, CONFIG_OPT_PROVIDER_TOKEN_ENV));
	cfg->provider.environment = xstrdup(cfg->environment);
	cfg->provider.poll_ms = config_num(none, CONFIG_OPT_PROVIDER_POLL);
	cfg->ds_postgres.url_env = xstrdup(config_str(none, CONFIG_OPT_DS_PG_URL_ENV));
	cfg->ds_postgres.interval_ms = config_num(none, CONFIG_OPT_DS_PG_INTERVAL);
	cfg->ds_redis.url_env = xstrdup(config_str(none, CONFIG_OPT_DS_REDIS_URL_ENV));
	cfg->ds_redis.interval_ms = config_num(none, CONFIG_OPT_DS_REDIS_INTERVAL);
	cfg->logs_max_memory = (size_t)config_num(none, CONFIG_OPT_LOGS_MAX_MEMORY) << 20;
	cfg->logs_max_line = (size_t)config_num(none, CONFIG_OPT_LOGS_MAX_LINE) << 10;
	cfg->backups.pgbr_bin = xstrdup(config_str(none, CONFIG_OPT_BK_PGBR_BIN));
	cfg->backups.interval_ms = config_num(none, CONFIG_OPT_BK_PGBR_INTERVAL);
	cfg->backups.max_age_ms = config_num(none, CONFIG_OPT_BK_PGBR_MAX_AGE);
	cfg->backups.scratch = xstrdup(config_str(none, CONFIG_OPT_BK_DRILL_SCRATCH));
	cfg->backups.pg_bin = xstrdup(config_str(none, CONFIG_OPT_BK_DRILL_PG_BIN));
	cfg->backups.drill_url_env = xstrdup(config_str(none, CONFIG_OPT_BK_DRILL_URL_ENV));
	cfg->backups.drill_timeout_ms = config_num(none, CONFIG_OPT_BK_DRILL_TIMEOUT);
	cfg->flags.store = CONFIG_FLAGS_REDIS;
	cfg->flags.url_env = xstrdup("REDIS_URL");
}

void
config_fini(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->project);
	free(cfg->environment);
	for (i = 0; i < cfg->n_envs; i++)
		free(cfg->envs[i].name);
	free(cfg->envs);
	free(cfg->theme);
	free(cfg->layout);
	free(cfg->log_file);
	free(cfg->audit_file);
	for (i = 0; i < cfg->n_endpoints; i++) {
		struct config_endpoint *ep = &cfg->endpoints[i];

		free(ep->name);
		free(ep->url);
		free(ep->ca_file);
		free(ep->service);
		free(ep->ws_message);
	}
	free(cfg->endpoints);
	free(cfg->provider.endpoint);
	free(cfg->provider.token_env);
	free(cfg->provider.token_file);
	free(cfg->provider.project_id);
	free(cfg->provider.environment);
	free(cfg->ds_postgres.url_env);
	free(cfg->ds_redis.url_env);
	for (i = 0; i < cfg->n_log_sources; i++) {
		struct config_log_source *ls = &cfg->log_sources[i];

		free(ls->name);
		free(ls->path);
		config_words_free(ls->argv);
	}
	free(cfg->log_sources);
	config_words_free(cfg->backups.wrapper);
	free(cfg->backups.pgbr_bin);
	free(cfg->backups.pgbr_config);
	free(cfg->backups.stanza);
	free(cfg->backups.scratch);
	free(cfg->backups.pg_bin);
	free(cfg->backups.drill_url_env);
	config_words_free(cfg->backups.tables);
	config_words_free(cfg->backups.smoke);
	config_words_free(cfg->backups.restore_stop);
	free(cfg->backups.volume_service);
	config_words_free(cfg->backups.restore_start);
	for (i = 0; i < cfg->backups.n_checks; i++) {
		free(cfg->backups.checks[i].name);
		free(cfg->backups.checks[i].sql);
		free(cfg->backups.checks[i].expect);
	}
	free(cfg->backups.checks);
	free(cfg->flags.url_env);
	for (i = 0; i < cfg->n_bindings; i++) {
		free(cfg->bindings[i].section);
		free(cfg->bindings[i].key);
		free(cfg->bindings[i].action);
	}
	free(cfg->bindings);
	memset(cfg, 0, sizeof *cfg);
}

int
config_load_string(struct config *cfg, const char *text, size_t len,
    const char *name, struct err *e)
{
	struct config_pos first = { 1, 1 };
	struct config_parse p;
	struct fy_document *doc;
	struct fy_node *root;
	struct config tmp;
	char what[96];

	memset(&p, 0, sizeof p);
	memset(&tmp, 0, sizeof tmp);
	p.name = name != NULL ? name : "<config>";
	p.dir = config_dirname(name);
	p.cfg = &tmp;

	doc = config_yaml_parse(&p, text != NULL ? text : "", text != NULL ? len : 0);
	root = doc != NULL ? fy_document_root(doc) : NULL;
	if (!config_is_null(root)) {
		if (fy_node_is_mapping(root)) {
			config_parse_options(&p, root, first, "", NULL, p.root);
		} else {
			config_describe(root, what, sizeof what);
			config_error(&p, config_value_pos(root, first), "the top level must "
			    "be a mapping of options like 'project: acme', got %s", what);
		}
	}
	if (!p.syntax)
		config_apply(&p);
	if (doc != NULL)
		fy_document_destroy(doc);

	if (p.n_msgs > 0) {
		config_report(&p, e);
		config_parse_free(&p);
		config_fini(&tmp);
		return -1;
	}
	config_parse_free(&p);
	tmp.path = config_strdup_or_null(name);
	config_fini(cfg);
	*cfg = tmp;
	return 0;
}

int
config_load_file(struct config *cfg, const char *path, struct err *e)
{
	char *buf;
	size_t len = 0, n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return err_set(e, ERR_IO, "%s: no such file (create it; "
			    "'signalbox config dump' prints one with every option)",
			    path);
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	}
	buf = xmalloc(CONFIG_MAX_FILE + 1);
	while ((n = fread(buf + len, 1, CONFIG_MAX_FILE + 1 - len, f)) > 0 &&
	    len + n <= CONFIG_MAX_FILE)
		len += n;
	if (ferror(f)) {
		rc = err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	} else if (n > 0) {
		rc = err_set(e, ERR_IO, "%s: larger than %d bytes; is it the right "
		    "file?", path, CONFIG_MAX_FILE);
	} else {
		rc = config_load_string(cfg, buf, len, path, e);
	}
	fclose(f);
	free(buf);
	return rc;
}

char *
config_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;

	/* the XDG spec says to ignore a relative XDG_CONFIG_HOME */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/signalbox/signalbox.yml", xdg);
	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || *home == '\0')
		home = ".";
	return xasprintf("%s/.config/signalbox/signalbox.yml", home);
}

const struct config_environment *
config_env(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL)
		return NULL;
	if (name == NULL)
		name = cfg->environment;
	if (name == NULL)
		return NULL;
	for (i = 0; i < cfg->n_envs; i++)
		if (strcmp(cfg->envs[i].name, name) == 0)
			return &cfg->envs[i];
	return NULL;
}

/* ---- dump -------------------------------------------------------------- */

static void
config_dump_quoted(FILE *out, const char *s)
{
	const unsigned char *c;

	fputc('"', out);
	for (c = (const unsigned char *)s; *c != '\0'; c++) {
		switch (*c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*c < 0x20 || *c == 0x7f)
				fprintf(out, "\\x%02x", *c);
			else
				fputc(*c, out);
		}
	}
	fputc('"', out);
}

static void
config_dump_comment(FILE *out, int indent, enum config_opt id)
{
	fprintf(out, "%*s# %s\n", indent, "", config_options[id].desc);
}

/* "KEY: VALUE" for option ID at INDENT, with its comment when DOC. */
static void
config_dump_str(FILE *out, int indent, int doc, enum config_opt id,
    const char *s)
{
	const char *name = strrchr(config_options[id].name, '.');

	name = name != NULL ? name + 1 : config_options[id].name;
	if (doc)
		config_dump_comment(out, indent, id);
	fprintf(out, "%*s%s: ", indent, "", name);
	if (s != NULL)
		config_dump_quoted(out, s);
	else
		fputc('~', out);
	fputc('\n', out);
}

static void
config_dump_plain(FILE *out, int indent, int doc, enum config_opt id,
    const char *s)
{
	const char *name = strrchr(config_options[id].name, '.');

	name = name != NULL ? name + 1 : config_options[id].name;
	if (doc)
		config_dump_comment(out, indent, id);
	fprintf(out, "%*s%s: %s\n", indent, "", name, s);
}

static void
config_dump_int(FILE *out, int indent, int doc, enum config_opt id, long long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", v);
	config_dump_plain(out, indent, doc, id, buf);
}

static void
config_dump_duration(FILE *out, int indent, int doc, enum config_opt id,
    int64_t ms)
{
	char buf[32];

	config_fmt_duration(ms, buf, sizeof buf);
	config_dump_plain(out, indent, doc, id, buf);
}

static void
config_dump_endpoint(FILE *out, const struct config_endpoint *ep, int doc)
{
	char buf[32];

	/* the first key goes on the "- " line, so its comment goes above */
	if (doc)
		config_dump_comment(out, 4, CONFIG_OPT_EP_NAME);
	fputs("    - ", out);
	config_dump_str(out, 0, 0, CONFIG_OPT_EP_NAME, ep->name);
	config_dump_str(out, 6, doc, CONFIG_OPT_EP_URL, ep->url);
	config_dump_plain(out, 6, doc, CONFIG_OPT_EP_TYPE,
	    config_enum_name(&config_options[CONFIG_OPT_EP_TYPE],
	    ep->type == CONFIG_EP_WEBSOCKET ? 1 : 0, buf, sizeof buf));
	config_dump_int(out, 6, doc, CONFIG_OPT_EP_EXPECT, ep->expect);
	config_dump_duration(out, 6, doc, CONFIG_OPT_EP_INTERVAL, ep->interval_ms);
	config_dump_duration(out, 6, doc, CONFIG_OPT_EP_TIMEOUT, ep->timeout_ms);
	config_dump_plain(out, 6, doc, CONFIG_OPT_EP_HEADERS,
	    config_enum_name(&config_options[CONFIG_OPT_EP_HEADERS],
	    ep->headers == CONFIG_HEADERS_STRICT ? 0 : 1, buf, sizeof buf));
	config_dump_str(out, 6, doc, CONFIG_OPT_EP_CA_FILE, ep->ca_file);
	config_dump_str(out, 6, doc, CONFIG_OPT_EP_SERVICE, ep->service);
	config_dump_str(out, 6, doc, CONFIG_OPT_EP_WS_MESSAGE, ep->ws_message);
}

static void
config_dump_provider(FILE *out, const struct config *cfg)
{
	const struct config_provider *pr = &cfg->provider;
	char buf[32];

	config_dump_comment(out, 0, CONFIG_OPT_PROVIDER);
	if (pr->type == CONFIG_PROVIDER_NONE) {
		fputs("# provider: { type: railway, project_id: ID }\n", out);
		return;
	}
	fputs("provider:\n", out);
	config_dump_plain(out, 2, 1, CONFIG_OPT_PROVIDER_TYPE, "railway");
	config_dump_str(out, 2, 1, CONFIG_OPT_PROVIDER_ENDPOINT, pr->endpoint);
	config_dump_str(out, 2, 1, CONFIG_OPT_PROVIDER_TOKEN_ENV, pr->token_env);
	config_dump_str(out, 2, 1, CONFIG_OPT_PROVIDER_TOKEN_FILE, pr->token_file);
	config_dump_plain(out, 2, 1, CONFIG_OPT_PROVIDER_TOKEN_KIND,
	    config_enum_name(&config_options[CONFIG_OPT_PROVIDER_TOKEN_KIND],
	    pr->token_kind == CONFIG_TOKEN_PROJECT ? 1 : 0, buf, sizeof buf));
	config_dump_str(out, 2, 1, CONFIG_OPT_PROVIDER_PROJECT_ID, pr->project_id);
	config_dump_str(out, 2, 1, CONFIG_OPT_PROVIDER_ENVIRONMENT, pr->environment);
	config_dump_duration(out, 2, 1, CONFIG_OPT_PROVIDER_POLL, pr->poll_ms);
}

static void
config_dump_datastores(FILE *out, const struct config *cfg)
{
	config_dump_comment(out, 0, CONFIG_OPT_DATASTORES);
	if (!cfg->ds_postgres.enabled && !cfg->ds_redis.enabled) {
		fputs("# datastores: { postgres: { url_env: DATABASE_URL }, "
		    "redis: { url_env: REDIS_URL } }\n", out);
		return;
	}
	fputs("datastores:\n", out);
	if (cfg->ds_postgres.enabled) {
		fputs("  postgres:\n", out);
		config_dump_str(out, 4, 1, CONFIG_OPT_DS_PG_URL_ENV, cfg->ds_postgres.url_env);
		config_dump_duration(out, 4, 1, CONFIG_OPT_DS_PG_INTERVAL,
		    cfg->ds_postgres.interval_ms);
	}
	if (cfg->ds_redis.enabled) {
		fputs("  redis:\n", out);
		config_dump_str(out, 4, 1, CONFIG_OPT_DS_REDIS_URL_ENV, cfg->ds_redis.url_env);
		config_dump_duration(out, 4, 1, CONFIG_OPT_DS_REDIS_INTERVAL,
		    cfg->ds_redis.interval_ms);
	}
}

/* "KEY: [a, b]" for a word list (NULL: "~"). */
static void
config_dump_words(FILE *out, int indent, int doc, enum config_opt id, char *const *w)
{
	const char *name = strrchr(config_options[id].name, '.');

	name = name != NULL ? name + 1 : config_options[id].name;
	if (doc)
		config_dump_comment(out, indent, id);
	fprintf(out, "%*s%s: ", indent, "", name);
	if (w == NULL) {
		fputs("~\n", out);
		return;
	}
	fputc('[', out);
	for (size_t k = 0; w[k] != NULL; k++) {
		if (k > 0)
			fputs(", ", out);
		config_dump_quoted(out, w[k]);
	}
	fputs("]\n", out);
}

static void
config_dump_backups(FILE *out, const struct config *cfg)
{
	const struct config_backups *b = &cfg->backups;

	config_dump_comment(out, 0, CONFIG_OPT_BACKUPS);
	if (!b->enabled) {
		fputs("# backups: { pgbackrest: { stanza: main }, drill: { tables: [orders] } }\n",
		    out);
		return;
	}
	fputs("backups:\n", out);
	config_dump_words(out, 2, 1, CONFIG_OPT_BK_WRAPPER, b->wrapper);
	config_dump_str(out, 2, 1, CONFIG_OPT_BK_VOLUME, b->volume_service);
	fputs("  pgbackrest:\n", out);
	config_dump_str(out, 4, 1, CONFIG_OPT_BK_PGBR_BIN, b->pgbr_bin);
	config_dump_str(out, 4, 1, CONFIG_OPT_BK_PGBR_CONFIG, b->pgbr_config);
	config_dump_str(out, 4, 1, CONFIG_OPT_BK_PGBR_STANZA, b->stanza);
	config_dump_duration(out, 4, 1, CONFIG_OPT_BK_PGBR_INTERVAL, b->interval_ms);
	config_dump_duration(out, 4, 1, CONFIG_OPT_BK_PGBR_MAX_AGE, b->max_age_ms);
	fputs("  drill:\n", out);
	config_dump_str(out, 4, 1, CONFIG_OPT_BK_DRILL_SCRATCH, b->scratch);
	config_dump_int(out, 4, 1, CONFIG_OPT_BK_DRILL_PORT, b->drill_port);
	config_dump_str(out, 4, 1, CONFIG_OPT_BK_DRILL_PG_BIN, b->pg_bin);
	config_dump_str(out, 4, 1, CONFIG_OPT_BK_DRILL_URL_ENV, b->drill_url_env);
	config_dump_words(out, 4, 1, CONFIG_OPT_BK_DRILL_TABLES, b->tables);
	config_dump_comment(out, 4, CONFIG_OPT_BK_DRILL_CHECKS);
	fprintf(out, "    checks:%s\n", b->n_checks == 0 ? " []" : "");
	for (size_t i = 0; i < b->n_checks; i++) {
		fputs("      - name: ", out);
		config_dump_quoted(out, b->checks[i].name);
		fputc('\n', out);
		config_dump_str(out, 8, 0, CONFIG_OPT_BK_DC_SQL, b->checks[i].sql);
		config_dump_str(out, 8, 0, CONFIG_OPT_BK_DC_EXPECT, b->checks[i].expect);
	}
	config_dump_words(out, 4, 1, CONFIG_OPT_BK_DRILL_SMOKE, b->smoke);
	config_dump_duration(out, 4, 1, CONFIG_OPT_BK_DRILL_TIMEOUT, b->drill_timeout_ms);
	fputs("  restore:\n", out);
	config_dump_words(out, 4, 1, CONFIG_OPT_BK_RESTORE_STOP, b->restore_stop);
	config_dump_words(out, 4, 1, CONFIG_OPT_BK_RESTORE_START, b->restore_start);
}

static void
config_dump_flags(FILE *out, const struct config *cfg)
{
	config_dump_comment(out, 0, CONFIG_OPT_FLAGS);
	if (!cfg->flags.enabled) {
		fputs("# flags: { store: redis, url_env: REDIS_URL }\n", out);
		return;
	}
	fputs("flags:\n", out);
	config_dump_plain(out, 2, 1, CONFIG_OPT_FLAGS_STORE,
	    cfg->flags.store == CONFIG_FLAGS_POSTGRES ? "postgres" : "redis");
	config_dump_str(out, 2, 1, CONFIG_OPT_FLAGS_URL_ENV, cfg->flags.url_env);
}

static void
config_dump_keys(FILE *out, const struct config *cfg)
{
	size_t i, j;

	config_dump_comment(out, 0, CONFIG_OPT_KEYS);
	if (cfg->n_bindings == 0) {
		fputs("keys: {}\n", out);
		return;
	}
	fputs("keys:\n", out);
	for (i = 0; i < cfg->n_bindings; i++) {
		const char *section = cfg->bindings[i].section;

		for (j = 0; j < i; j++)
			if (strcmp(cfg->bindings[j].section, section) == 0)
				break;
		if (j < i)
			continue;	/* section already written */
		fputs("  ", out);
		config_dump_quoted(out, section);
		fputs(":\n", out);
		for (j = i; j < cfg->n_bindings; j++) {
			const struct config_binding *b = &cfg->bindings[j];

			if (strcmp(b->section, section) != 0)
				continue;
			fputs("    ", out);
			config_dump_quoted(out, b->key);
			fputs(": ", out);
			config_dump_quoted(out, b->action);
			fputc('\n', out);
		}
	}
}

void
config_dump(const struct config *cfg, FILE *out)
{
	char buf[32];
	size_t i;

	fputs("# signalbox configuration; every option is described in "
	    "signalbox.yml(5).\n", out);
	config_dump_str(out, 0, 1, CONFIG_OPT_PROJECT, cfg->project);
	config_dump_str(out, 0, 1, CONFIG_OPT_ENVIRONMENT, cfg->environment);
	config_dump_comment(out, 0, CONFIG_OPT_ENVIRONMENTS);
	fputs(cfg->n_envs == 0 ? "environments: {}\n" : "environments:\n", out);
	for (i = 0; i < cfg->n_envs; i++) {
		const struct config_environment *env = &cfg->envs[i];

		fputs("  ", out);
		config_dump_quoted(out, env->name);
		fputs(":\n", out);
		config_dump_plain(out, 4, i == 0, CONFIG_OPT_ENV_PROTECTED,
		    env->protected_env ? "true" : "false");
		config_dump_plain(out, 4, i == 0, CONFIG_OPT_ENV_READ_ONLY,
		    env->read_only ? "true" : "false");
	}
	config_dump_comment(out, 0, CONFIG_OPT_AUDIT);
	fputs("audit:\n", out);
	config_dump_str(out, 2, 1, CONFIG_OPT_AUDIT_FILE, cfg->audit_file);
	config_dump_plain(out, 2, 1, CONFIG_OPT_AUDIT_FSYNC,
	    cfg->audit_fsync ? "true" : "false");
	config_dump_str(out, 0, 1, CONFIG_OPT_THEME, cfg->theme);
	config_dump_int(out, 0, 1, CONFIG_OPT_FPS, cfg->fps);
	config_dump_plain(out, 0, 1, CONFIG_OPT_LAYOUT, cfg->layout != NULL &&
	    config_enum_index(&config_options[CONFIG_OPT_LAYOUT], cfg->layout,
	    buf, sizeof buf) >= 0 ? buf : "auto");
	config_dump_str(out, 0, 1, CONFIG_OPT_LOG_FILE, cfg->log_file);
	config_dump_comment(out, 0, CONFIG_OPT_HEALTH);
	fputs("health:\n", out);
	config_dump_duration(out, 2, 1, CONFIG_OPT_HEALTH_INTERVAL,
	    cfg->health_interval_ms);
	config_dump_duration(out, 2, 1, CONFIG_OPT_HEALTH_TIMEOUT,
	    cfg->health_timeout_ms);
	config_dump_int(out, 2, 1, CONFIG_OPT_HEALTH_WINDOW, cfg->health_window);
	config_dump_int(out, 2, 1, CONFIG_OPT_TLS_WARN_DAYS, cfg->tls_warn_days);
	config_dump_int(out, 2, 1, CONFIG_OPT_TLS_FAIL_DAYS, cfg->tls_fail_days);
	config_dump_comment(out, 2, CONFIG_OPT_ENDPOINTS);
	fputs(cfg->n_endpoints == 0 ? "  endpoints: []\n" : "  endpoints:\n", out);
	for (i = 0; i < cfg->n_endpoints; i++)
		config_dump_endpoint(out, &cfg->endpoints[i], i == 0);
	config_dump_provider(out, cfg);
	config_dump_datastores(out, cfg);
	config_dump_backups(out, cfg);
	config_dump_flags(out, cfg);
	config_dump_keys(out, cfg);
}

void
config_print_options(FILE *out)
{
	char vals[128], a[32], b[32];
	int i;

	for (i = 0; i < CONFIG_OPT_COUNT; i++) {
		const struct config_option *o = &config_options[i];

		fprintf(out, "%s\t%s\t%s\t%s", o->name, config_type_names[o->type],
		    o->def != NULL ? o->def :
		    (o->flags & CONFIG_F_REQUIRED) ? "required" : "none", o->desc);
		if (o->type == CONFIG_T_ENUM) {
			config_enum_list(o, vals, sizeof vals);
			fprintf(out, " One of: %s.", vals);
		} else if (o->type == CONFIG_T_INT) {
			fprintf(out, " From %lld to %lld.", (long long)o->min,
			    (long long)o->max);
		} else if (o->type == CONFIG_T_DURATION) {
			config_fmt_duration(o->min, a, sizeof a);
			config_fmt_duration(o->max, b, sizeof b);
			fprintf(out, " From %s to %s.", a, b);
		}
		fputc('\n', out);
	}
}
