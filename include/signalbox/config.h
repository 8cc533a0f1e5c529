/* config.h - the YAML configuration.
 *
 * One option table (config.c, CONFIG_OPTIONS) lists every option with its
 * type, default and description; `signalbox config dump` and
 * signalbox.yml(5) come from it.  The file is YAML parsed with libfyaml;
 * every error carries file:line:col and says what to do, with a
 * did-you-mean for misspelt keys.
 *
 * A struct config owns every string and array in it; config_fini frees them.
 */
#ifndef SIGNALBOX_CONFIG_H
#define SIGNALBOX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "signalbox/err.h"

enum config_endpoint_type { CONFIG_EP_HTTP, CONFIG_EP_WEBSOCKET };
enum config_headers { CONFIG_HEADERS_OFF, CONFIG_HEADERS_STRICT };

struct config_endpoint {
	char *name;		/* unique, required */
	char *url;		/* http(s):// or ws(s)://, required */
	enum config_endpoint_type type;	/* default from the URL scheme */
	int expect;		/* expected HTTP status; default 200 (101 for ws) */
	int64_t interval_ms;	/* default health.interval */
	int64_t timeout_ms;	/* default health.timeout */
	enum config_headers headers;	/* default strict for https, off otherwise */
	char *ca_file;		/* extra CA bundle (PEM) for self-signed servers, or NULL */
	char *service;		/* service this endpoint belongs to, or NULL */
	char *ws_message;	/* message sent to a websocket for the echo round-trip */
	int line, col;		/* where it was defined, for later errors */
};

struct config_environment {
	char *name;
	int protected_env;	/* typed confirmation for changes; distinct style */
	int read_only;
};

enum config_provider_type { CONFIG_PROVIDER_NONE, CONFIG_PROVIDER_RAILWAY };
enum config_token_kind { CONFIG_TOKEN_BEARER, CONFIG_TOKEN_PROJECT };

/* The deployment provider (the `provider:` mapping).  The token itself is
 * never in the file: token_env or token_file say where it is. */
struct config_provider {
	enum config_provider_type type;	/* NONE without a provider mapping */
	char *endpoint;		/* GraphQL URL, default Railway's public API */
	char *token_env;	/* default "RAILWAY_TOKEN" */
	char *token_file;	/* or NULL; resolved against the file's directory */
	enum config_token_kind token_kind;	/* default bearer */
	char *project_id;	/* or NULL (a project token knows its project) */
	char *environment;	/* name or id; default the config's environment */
	int64_t poll_ms;	/* default 10s */
	int line, col;		/* where the mapping was, for later errors */
};

/* A datastore the datastores pane watches (datastores.postgres,
 * datastores.redis).  The URL itself is never in the file: url_env names
 * the environment variable that holds it. */
struct config_datastore {
	int enabled;		/* the mapping is in the file */
	char *url_env;		/* default DATABASE_URL / REDIS_URL */
	int64_t interval_ms;	/* time between polls; default 5s / 2s */
	int line, col;		/* where the mapping was, for later errors */
};

/* A log source of the logs pane (logs.sources[]): a file followed like
 * tail -F, or a command whose output is followed. */
struct config_log_source {
	char *name;		/* tag in the pane, @source:NAME */
	char *path;		/* file (resolved), or NULL */
	char **argv;		/* command, NULL-terminated, or NULL */
	int restart;		/* command: start it again when it ends */
	int backlog;		/* file: last lines read at start (default 100) */
	int tz_offset_min;	/* zone of timestamps without one (default 0 = UTC) */
	int line, col;
};

/* A custom integrity check of a restore drill (backups.drill.checks[]). */
struct config_drill_check {
	char *name;
	char *sql;		/* one row, one column */
	char *expect;		/* text the value must equal; default "t" */
	int line, col;
};

/* backups: pgBackRest and restore drills.  Word lists are NULL-terminated
 * arrays, or NULL when not given. */
struct config_backups {
	int enabled;		/* the mapping is in the file */
	char **wrapper;		/* put before every program run; NULL = none */
	char *pgbr_bin;		/* default "pgbackrest" */
	char *pgbr_config;	/* --config, or NULL for pgBackRest's default */
	char *stanza;		/* required when enabled */
	int64_t interval_ms;	/* pgbackrest info; default 60s */
	int64_t max_age_ms;	/* newest backup older: DEGRADED; default 26h */
	char *scratch;		/* drill scratch root; default /var/tmp */
	int drill_port;		/* 0 = a free one */
	char *pg_bin;		/* directory of pg_ctl */
	char *drill_url_env;	/* default DATABASE_URL */
	char **tables;		/* NULL-terminated, or NULL */
	size_t n_tables;
	struct config_drill_check *checks;
	size_t n_checks;
	char **smoke;		/* command, or NULL */
	int64_t drill_timeout_ms;	/* default 10m */
	char *volume_service;	/* provider service whose volume backups are shown, or NULL */
	char **restore_stop;	/* restore in place: stop / start the server; */
	char **restore_start;	/*   both or neither */
	int line, col;
};

enum config_flags_store { CONFIG_FLAGS_REDIS, CONFIG_FLAGS_POSTGRES };

/* flags: the flag store (flags.h).  The URL is never in the file. */
struct config_flags {
	int enabled;		/* the mapping is in the file */
	enum config_flags_store store;	/* default redis */
	char *url_env;		/* default REDIS_URL / DATABASE_URL by store */
	int line, col;
};

struct config_binding {
	char *section;		/* "global" or a view name */
	char *key;		/* key name as written */
	char *action;		/* action name as written */
	int line, col;
};

struct config {
	char *path;		/* file it came from, or NULL for defaults */
	char *project;		/* default "signalbox" */
	char *environment;	/* the environment shown; default first in environments, else "production" */
	struct config_environment *envs;
	size_t n_envs;
	char *theme;		/* default "default" */
	int fps;		/* frame cap, default 30, 1..240 */
	char *layout;		/* "auto" (default), "split" or "single" */
	char *log_file;		/* diagnostics file (same as -v), or NULL */

	/* audit log (audit.h, policy.h) */
	char *audit_file;	/* NULL = audit_default_path() */
	int audit_fsync;	/* fdatasync each line; default 1 */

	int64_t health_interval_ms;	/* default 5s */
	int64_t health_timeout_ms;	/* default 3s */
	int health_window;		/* latency samples kept per endpoint, default 60 */
	int tls_warn_days;		/* default 21 */
	int tls_fail_days;		/* default 7 */
	struct config_endpoint *endpoints;
	size_t n_endpoints;

	struct config_provider provider;

	struct config_datastore ds_postgres, ds_redis;	/* datastores: */

	struct config_backups backups;	/* backups: */

	struct config_flags flags;	/* flags: */

	/* logs: the ring and the sources of the logs pane */
	size_t logs_max_memory;		/* bytes; default 64 MiB */
	size_t logs_max_line;		/* bytes; default 64 KiB */
	int logs_keep_sgr;		/* ansi_colors: keep (else strip) */
	struct config_log_source *log_sources;
	size_t n_log_sources;

	struct config_binding *bindings;
	size_t n_bindings;
};

/* Fill CFG with defaults (no endpoints). */
void config_init(struct config *cfg);

/* Free everything CFG owns and zero it (NULL-safe); config_init it again
 * before reuse.  (Re-initialising here would allocate the default strings
 * again and leak them when fini is the last call.) */
void config_fini(struct config *cfg);

/* Parse TEXT (LEN bytes) named NAME (used in messages) into CFG, which must
 * be config_init'ed.  On error returns -1 and E holds every problem found,
 * one "name:line:col: message" per line, up to E's capacity; E's code is
 * ERR_PARSE for YAML syntax, ERR_INVALID otherwise, and CFG is unchanged.
 * Key bindings are validated against the action table and key names. */
int config_load_string(struct config *cfg, const char *text, size_t len,
    const char *name, struct err *e);

/* Read PATH and config_load_string it.  Missing file: -1 with ERR_IO. */
int config_load_file(struct config *cfg, const char *path, struct err *e);

/* Default path: $XDG_CONFIG_HOME/signalbox/signalbox.yml, falling back to
 * ~/.config/...; caller frees. */
char *config_default_path(void);

/* Print the effective configuration as YAML that config_load_string
 * accepts, with each option's description as a comment. */
void config_dump(const struct config *cfg, FILE *out);

/* Print the option table (name, type, default, description) for the man
 * page generator and `signalbox config options`. */
void config_print_options(FILE *out);

/* Environment NAME, or NULL. */
const struct config_environment *config_env(const struct config *cfg, const char *name);

#endif
