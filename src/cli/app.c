/* app.c - creating, running and tearing down everything on the loop.
 *
 * Teardown follows PITFALLS: it runs from a 0 ms timer, never inside a
 * library callback; WebSockets and lws first, then curl, then our handles;
 * after uv_run returns, the second lws destroy, then uv_loop_close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "signalbox/act.h"
#include "signalbox/app.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/diag.h"
#include "signalbox/health.h"
#include "signalbox/http.h"
#include "signalbox/keymap.h"
#include "signalbox/logfeed.h"
#include "signalbox/loop.h"
#include "signalbox/audit.h"
#include "signalbox/backups.h"
#include "signalbox/pg_stats.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/redis_stats.h"
#include "signalbox/store.h"
#include "signalbox/theme.h"
#include "signalbox/ui.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/ws.h"
#include "signalbox/xalloc.h"

struct app {
	uv_loop_t loop;
	struct store *store;
	struct http *http;
	struct ws_ctx *ws;
	struct health *health;
	struct railway *railway;	/* NULL without a provider (or its token) */
	struct act *act;		/* actions on their way to the provider */
	struct logfeed *logs;		/* every log source, into the store's ring */
	char provider_warning[256];	/* said on the status line at start */
	struct pg_stats *pg_stats;	/* datastores.postgres, or NULL */
	struct redis_stats *redis_stats;	/* datastores.redis, or NULL */
	struct backups *backups;	/* backups:, or NULL */
	int drill_waits;		/* teardown turns spent waiting for a drill */
	struct ui *ui;
	struct console *console;
	struct view_host host;
	struct loop_timer *quit_timer;
	int quitting;
	int check_json;
	int check_done;
};

static void
app_teardown_cb(struct loop_timer *t, void *ud)
{
	struct app *a = ud;

	(void)t;
	/* a drill's throw-away server is stopped and removed before we go; a
	 * restore in place is never cut off half-way (the server would stay
	 * down on a half-restored directory): it is waited for */
	if (backups_restoring(a->backups)) {
		if (a->drill_waits++ == 0 && a->console != NULL)
			console_message(a->console, 1, "a restore in place is running: quitting "
			    "when it is done…");
		loop_timer_start(a->quit_timer, 200, 0);
		return;
	}
	if (backups_busy(a->backups) && a->drill_waits < 600) {
		if (a->drill_waits++ == 0) {
			backups_drill_cancel(a->backups);
			if (a->console != NULL)
				console_message(a->console, 0, "stopping the drill's server before "
				    "quitting…");
		}
		loop_timer_start(a->quit_timer, 100, 0);
		return;
	}
	a->host.backups = NULL;
	backups_free(&a->backups);
	health_stop(a->health);
	logfeed_free(&a->logs);		/* its stream belongs to the railway client */
	railway_stop(a->railway);
	/* a cancel in flight is audited as failed here, while the console lives */
	a->host.pg_stats = NULL;
	pg_stats_free(&a->pg_stats);
	redis_stats_free(&a->redis_stats);
	if (a->ws != NULL)
		ws_ctx_shutdown(a->ws);
	http_free(&a->http);
	ui_stop(a->ui);
	loop_timer_free(&a->quit_timer);
}

static void
app_quit(void *ud)
{
	struct app *a = ud;

	if (a->quitting)
		return;
	a->quitting = 1;
	loop_timer_start(a->quit_timer, 0, 0);
}

int
app_railway_opts(const struct config *cfg, struct railway_opts *ro, char **token,
    char *warn, size_t warn_len, struct err *e)
{
	const struct config_provider *p = &cfg->provider;

	*token = NULL;
	if (p->type != CONFIG_PROVIDER_RAILWAY)
		return err_set(e, ERR_INVALID, "no Railway provider is configured (provider:)");
	if (railway_token_load(p->token_env, p->token_file, token, warn, warn_len, e) != 0)
		return -1;
	memset(ro, 0, sizeof *ro);
	ro->endpoint = p->endpoint;
	ro->token = *token;
	ro->token_kind = p->token_kind == CONFIG_TOKEN_PROJECT ? RAILWAY_TOKEN_PROJECT :
	    RAILWAY_TOKEN_BEARER;
	ro->token_env = p->token_env;
	ro->project_id = p->project_id;
	ro->environment = p->environment;
	ro->poll_ms = p->poll_ms;
	return 0;
}

/* The provider client, when the config names one.  A missing token or a
 * bad option does not stop the console: the provider's source goes ERROR
 * with the reason and the panes say it. */
static void
app_open_provider(struct app *a, const struct config *cfg)
{
	struct railway_opts ro;
	struct err e;
	char *token = NULL, warn[256] = "";

	if (cfg->provider.type != CONFIG_PROVIDER_RAILWAY)
		return;
	memset(&e, 0, sizeof e);
	if (app_railway_opts(cfg, &ro, &token, warn, sizeof warn, &e) != 0) {
		store_source_set(a->store, RAILWAY_SOURCE, STORE_STATE_ERROR, e.msg);
		diag_log(DIAG_WARN, "railway: %s", e.msg);
		return;
	}
	if (warn[0] != '\0') {
		diag_log(DIAG_WARN, "railway: %s", warn);
		snprintf(a->provider_warning, sizeof a->provider_warning, "warning: %.240s", warn);
	}
	ro.ws = a->ws;
	a->railway = railway_new(&a->loop, a->store, a->http, &ro, &e);
	memset(token, 0, strlen(token));
	free(token);
	if (a->railway == NULL) {
		store_source_set(a->store, RAILWAY_SOURCE, STORE_STATE_ERROR, e.msg);
		diag_log(DIAG_WARN, "railway: %s", e.msg);
	}
}

/* The log feed with the config's logs: section. */
static struct logfeed *
app_open_logs(struct app *a, const struct config *cfg)
{
	struct logfeed_source *src = xcalloc(cfg->n_log_sources + 1, sizeof *src);
	struct logfeed_opts o;
	struct logfeed *f;

	for (size_t i = 0; i < cfg->n_log_sources; i++) {
		const struct config_log_source *ls = &cfg->log_sources[i];

		src[i].name = ls->name;
		src[i].path = ls->path;
		src[i].argv = (const char *const *)ls->argv;
		src[i].restart = ls->restart;
		src[i].backlog = (unsigned)ls->backlog;
		src[i].tz_offset_min = ls->tz_offset_min;
	}
	memset(&o, 0, sizeof o);
	o.max_memory = cfg->logs_max_memory;
	o.max_line = cfg->logs_max_line;
	o.keep_sgr = cfg->logs_keep_sgr;
	o.sources = src;
	o.n_sources = cfg->n_log_sources;
	f = logfeed_new(&a->loop, a->store, &o);	/* the sources copy what they keep */
	free(src);
	return f;
}

static int
app_open(struct app *a, const struct config *cfg, struct err *e)
{
	struct err we, be;

	memset(a, 0, sizeof *a);
	memset(&be, 0, sizeof be);
	if (uv_loop_init(&a->loop) != 0)
		return err_set(e, ERR_INTERNAL, "cannot create the event loop");
	a->store = store_new();
	a->http = http_new(&a->loop, e);
	if (a->http == NULL) {
		store_free(&a->store);
		uv_loop_close(&a->loop);
		return -1;
	}
	/* the lws context (and its TLS setup) costs memory: only when used,
	 * by WebSocket checks or the provider's subscriptions */
	int want_ws = cfg->provider.type == CONFIG_PROVIDER_RAILWAY;

	for (size_t i = 0; i < cfg->n_endpoints && !want_ws; i++)
		want_ws = cfg->endpoints[i].type == CONFIG_EP_WEBSOCKET;
	if (want_ws && (a->ws = ws_ctx_new(&a->loop, &we)) == NULL)
		diag_log(DIAG_WARN, "WebSocket unavailable (checks and live updates): %s",
		    we.msg);
	a->health = health_new(&a->loop, a->store, a->http, a->ws, cfg);
	app_open_provider(a, cfg);
	a->logs = app_open_logs(a, cfg);
	if (a->railway != NULL)
		logfeed_attach_railway(a->logs, a->railway);
	a->pg_stats = pg_stats_new(&a->loop, a->store, cfg);
	a->redis_stats = redis_stats_new(&a->loop, a->store, cfg);
	if (cfg->backups.enabled) {
		char *def = cfg->audit_file == NULL ? audit_default_path() : NULL;

		a->backups = backups_new(&a->loop, cfg, a->store, cfg->audit_file != NULL ?
		    cfg->audit_file : def, &be);
		if (a->backups == NULL)
			store_source_set(a->store, BACKUPS_SOURCE, STORE_STATE_ERROR, be.msg);
		free(def);
	}
	a->quit_timer = loop_timer_new(&a->loop, app_teardown_cb, a);
	return 0;
}

static void
app_close(struct app *a)
{
	uv_run(&a->loop, UV_RUN_DEFAULT);
	ws_ctx_free(&a->ws);
	/* whatever is left (closing handles) gets one more turn */
	uv_run(&a->loop, UV_RUN_NOWAIT);
	if (uv_loop_close(&a->loop) != 0)
		diag_log(DIAG_WARN, "event loop closed with handles still open");
	health_free(&a->health);
	logfeed_free(&a->logs);		/* when the teardown did not run */
	railway_free(&a->railway);
	/* an open confirmation ends as cancelled (audited) while act still exists */
	if (a->console != NULL)
		console_dialog_cancel(a->console);
	act_free(&a->act);		/* uses the console's policy */
	console_free(&a->console);
	ui_free(&a->ui);
	store_free(&a->store);
}

static void
app_host_message(void *ud, int is_error, const char *text)
{
	struct app *a = ud;

	if (a->console != NULL)
		console_message(a->console, is_error, "%s", text);
}

static void
app_host_act(void *ud, const struct policy_req *req)
{
	struct app *a = ud;

	if (a->act != NULL)
		act_request(a->act, req);
}

static void
app_host_refresh(void *ud)
{
	struct app *a = ud;

	if (a->railway == NULL) {
		console_message(a->console, 1, "no provider to refresh (provider: in the config)");
		return;
	}
	railway_refresh_now(a->railway);
	console_message(a->console, 0, "refreshing from the provider");
}

/* The backups pane's volume section: SERVICE by name in the latest project
 * snapshot, then its volume through the provider. */
static int
app_host_volumes(void *ud, const char *service,
    void (*done)(struct railway_volumes *v, const char *error, void *cbud), void *cbud,
    char *why, size_t why_len)
{
	struct app *a = ud;
	const struct railway_project_snap *snap;
	struct err e;

	if (a->railway == NULL) {
		snprintf(why, why_len, "no provider is configured (provider: in the config)");
		return -1;
	}
	snap = store_get(a->store, STORE_TOPIC_SERVICES, NULL);
	if (snap == NULL) {
		snprintf(why, why_len, "waiting for the provider's project");
		return -1;
	}
	for (size_t i = 0; i < snap->n_services; i++) {
		if (strcmp(snap->services[i].name, service) != 0)
			continue;
		memset(&e, 0, sizeof e);
		if (railway_volumes_list(a->railway, snap->services[i].id, done, cbud, &e) != 0) {
			snprintf(why, why_len, "%s", e.msg);
			return -1;
		}
		return 0;
	}
	snprintf(why, why_len, "the project has no service '%.60s' (backups.volume)", service);
	return -1;
}

/* A revealed value goes to the pane that shows variables, if it is the
 * one in front (it asked); otherwise it is dropped unseen. */
static void
app_reveal(void *ud, const struct policy_req *req, const char *value, size_t len)
{
	struct app *a = ud;
	struct view *v = a->console != NULL ? console_active(a->console) : NULL;

	if (v != NULL && strcmp(v->ops->name, "vars") == 0)
		vars_view_show_value(v, req->target_id, req->var, value, len);
}

static const char *
app_operator(char *buf, size_t len)
{
	const char *user = getenv("USER"), *ssh = getenv("SSH_CLIENT");
	char addr[64] = "";

	if (user == NULL || *user == '\0')
		user = getenv("LOGNAME");
	if (user == NULL || *user == '\0') {
		struct passwd *pw = getpwuid(getuid());

		user = pw != NULL ? pw->pw_name : "unknown";
	}
	if (ssh != NULL && *ssh != '\0') {
		util_strlcpy(addr, ssh, sizeof addr);
		addr[strcspn(addr, " ")] = '\0';
		snprintf(buf, len, "%s@%s", user, addr);
	} else {
		snprintf(buf, len, "%s", user);
	}
	return buf;
}

int
app_run_console(const struct app_opts *opts)
{
	struct app a;
	struct err e;
	struct ui_opts uo;
	struct console_opts co;
	char operator[128];
	const char *exit_after = getenv("SIGNALBOX_EXIT_AFTER_FIRST_FRAME");

	if (app_open(&a, opts->cfg, &e) != 0) {
		fprintf(stderr, "signalbox: %s\n", e.msg);
		return 1;
	}
	memset(&uo, 0, sizeof uo);
	uo.loop = &a.loop;
	uo.theme = opts->theme;
	uo.fps = opts->cfg->fps;
	uo.mono = opts->mono;
	uo.exit_after_first_frame = exit_after != NULL && strcmp(exit_after, "1") == 0;
	a.ui = ui_new(&uo, &e);
	if (a.ui == NULL) {
		app_quit(&a);
		app_close(&a);
		fprintf(stderr, "signalbox: %s\n", e.msg);
		return 2;
	}
	a.host.ud = &a;
	a.host.message = app_host_message;
	a.host.health = a.health;
	a.host.keymap = opts->keymap;
	a.host.act = app_host_act;
	a.host.refresh = app_host_refresh;
	a.host.pg_stats = a.pg_stats;
	a.host.backups = a.backups;
	a.host.volumes = a.railway != NULL ? app_host_volumes : NULL;
	memset(&co, 0, sizeof co);
	co.cfg = opts->cfg;
	co.store = a.store;
	co.keymap = opts->keymap;
	co.host = &a.host;
	co.ui = ui_console_ops(a.ui);
	co.operator_name = app_operator(operator, sizeof operator);
	co.read_only = opts->read_only;
	a.console = console_new(&co, &e);
	if (a.console == NULL) {
		app_quit(&a);
		app_close(&a);
		fprintf(stderr, "signalbox: %s\n", e.msg);
		return 1;
	}
	a.act = act_new(a.console, a.railway, app_reveal, &a);
	if (opts->startup_message != NULL)
		console_message(a.console, 1, "%s", opts->startup_message);
	else if (a.provider_warning[0] != '\0')
		console_message(a.console, 1, "%s", a.provider_warning);
	ui_attach(a.ui, a.console, a.store, app_quit, &a);
	health_start(a.health);
	if (a.railway != NULL)
		railway_start(a.railway);
	pg_stats_start(a.pg_stats);
	redis_stats_start(a.redis_stats);
	backups_start(a.backups);
	diag_log(DIAG_INFO, "console started: %zu endpoints", opts->cfg->n_endpoints);
	app_close(&a);
	diag_log(DIAG_INFO, "console stopped");
	return 0;
}

/* --- signalbox check ------------------------------------------------------ */

static void
app_check_notify(enum store_topic topic, void *ud)
{
	struct app *a = ud;

	if (topic != STORE_TOPIC_HEALTH || a->check_done)
		return;
	if (health_round_done(a->health)) {
		a->check_done = 1;
		app_quit(a);
	}
}

static void
app_check_text(const struct health_snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct health_result *r = s->eps[i];
		char lat[32] = "-", code[16] = "-";

		if (r->latency_ms >= 0)
			snprintf(lat, sizeof lat, "%.0fms", r->latency_ms);
		if (r->http_status > 0)
			snprintf(code, sizeof code, "%d", r->http_status);
		printf("%-9s %-20s %4s %8s  %s\n", health_state_name(r->state), r->name,
		    code, lat, r->reason);
	}
}

static void
app_check_json(const struct health_snap *s)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "endpoints");
	size_t i, k;
	char *out;

	cJSON_AddStringToObject(root, "status", health_state_name(health_worst(s)));
	for (i = 0; i < s->n; i++) {
		const struct health_result *r = s->eps[i];
		cJSON *o = cJSON_CreateObject(), *comps, *hdrs;

		cJSON_AddStringToObject(o, "name", r->name);
		cJSON_AddStringToObject(o, "url", r->url);
		cJSON_AddStringToObject(o, "type", r->is_ws ? "websocket" : "http");
		cJSON_AddStringToObject(o, "state", health_state_name(r->state));
		cJSON_AddStringToObject(o, "reason", r->reason);
		if (r->http_status > 0)
			cJSON_AddNumberToObject(o, "http_status", r->http_status);
		else
			cJSON_AddNullToObject(o, "http_status");
		cJSON_AddNumberToObject(o, "expect", r->expect);
		if (r->latency_ms >= 0)
			cJSON_AddNumberToObject(o, "latency_ms", r->latency_ms);
		else
			cJSON_AddNullToObject(o, "latency_ms");
		if (r->error[0] != '\0')
			cJSON_AddStringToObject(o, "error", r->error);
		if (r->version[0] != '\0')
			cJSON_AddStringToObject(o, "version", r->version);
		if (r->n_comps > 0) {
			comps = cJSON_AddObjectToObject(o, "components");
			for (k = 0; k < r->n_comps; k++)
				cJSON_AddStringToObject(comps, r->comps[k].name, r->comps[k].status);
		}
		if (r->has_tls) {
			cJSON *tls = cJSON_AddObjectToObject(o, "tls");

			cJSON_AddNumberToObject(tls, "days_left", r->tls_days_left);
			cJSON_AddStringToObject(tls, "issuer", r->tls_issuer);
		}
		if (r->headers_checked) {
			static const char *const lv[] = { "ok", "warn", "fail", "n/a" };

			hdrs = cJSON_AddObjectToObject(o, "security_headers");
			for (k = 0; k < HEALTH_HDR_COUNT; k++) {
				cJSON *hc = cJSON_AddObjectToObject(hdrs,
				    health_header_name((enum health_header)k));

				cJSON_AddStringToObject(hc, "level", lv[r->hdrs[k].level]);
				cJSON_AddStringToObject(hc, "why", r->hdrs[k].why);
			}
		}
		cJSON_AddItemToArray(arr, o);
	}
	out = cJSON_Print(root);
	puts(out);
	free(out);
	cJSON_Delete(root);
}

int
app_run_check(const struct config *cfg, int json)
{
	struct app a;
	struct err e;
	const struct health_snap *snap;
	int rc;

	if (app_open(&a, cfg, &e) != 0) {
		fprintf(stderr, "signalbox: %s\n", e.msg);
		return 2;
	}
	if (cfg->n_endpoints == 0) {
		app_quit(&a);
		app_close(&a);
		fprintf(stderr, "signalbox: no health endpoints configured (health.endpoints)\n");
		return 2;
	}
	store_subscribe(a.store, app_check_notify, &a);
	health_start(a.health);
	/* the health source's own timeouts bound this run */
	uv_run(&a.loop, UV_RUN_DEFAULT);
	snap = store_get(a.store, STORE_TOPIC_HEALTH, NULL);
	rc = snap != NULL && health_worst(snap) == HEALTH_OK ? 0 : 1;
	if (snap != NULL) {
		if (json)
			app_check_json(snap);
		else
			app_check_text(snap);
	}
	fflush(stdout);
	app_close(&a);
	return rc;
}
