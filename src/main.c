/* main.c - arguments, configuration, and the choice of what to run. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signalbox/app.h"
#include "signalbox/config.h"
#include "signalbox/diag.h"
#include "signalbox/keymap.h"
#include "signalbox/logs_cmd.h"
#include "signalbox/backup_cmd.h"
#include "signalbox/flags_cmd.h"
#include "signalbox/railway_cmd.h"
#include "signalbox/theme.h"
#include "signalbox/util.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: signalbox [-c FILE] [-v LOGFILE] [--theme NAME] [--layout MODE] [--read-only]\n"
	    "       signalbox check [--json]          run every health check once\n"
	    "       signalbox config check|dump|options\n"
	    "       signalbox keys | themes | --version\n");
	logs_cmd_usage(out);
	railway_cmd_usage(out);
	fputs("       signalbox backup [info] [--json]\n"
	    "       signalbox backup take [full|diff|incr] [--yes]\n"
	    "       signalbox backup drill [LABEL|TIME] [--json] [--yes]\n"
	    "       signalbox flags [list] [--env E] [--json]\n"
	    "       signalbox flags set NAME on|off|N% [--env E] [--yes]\n", out);
	fprintf(out,
	    "\n"
	    "  -c, --config FILE   configuration (default $XDG_CONFIG_HOME/signalbox/signalbox.yml)\n"
	    "  -v, --log FILE      write diagnostics to FILE\n"
	    "  -t, --theme NAME    theme name or file (default from the config; NO_COLOR gives mono)\n"
	    "  -l, --layout MODE   auto, split or single\n"
	    "  -r, --read-only     refuse every action that changes anything\n"
	    "  -h, --help          this text\n"
	    "\n"
	    "Exit status: 0 ok, 1 something is degraded or down (check), 2 bad usage,\n"
	    "configuration or terminal; the Railway commands: signalbox deploy --help.\n");
}

/* The action table as text, or as the mdoc list in signalbox(1).  Actions
 * that change production or are audited say so (see SAFETY in the page). */
static void
print_keys(int mdoc)
{
	struct keymap *km = keymap_new();
	char keys[128];
	const char *note;
	int i;

	if (!mdoc)
		printf("%-16s %-14s %-11s %s\n", "KEYS", "COMMAND", "PANE", "DESCRIPTION");
	for (i = 1; i < ACTION_COUNT; i++) {
		const struct action_info *ai = action_info((enum action)i);

		keymap_keys_for(km, NULL, ai->id, keys, sizeof keys);
		note = (ai->flags & ACTION_F_MUTATING) ? "; changes production: confirmed "
		    "and audited" : (ai->flags & ACTION_F_AUDITED) ? "; audited" : "";
		if (mdoc)
			printf(".It %s Ta Ic :%s Ta %s%s%s%s\n", keys[0] ? keys : "\\(em",
			    ai->name, strcmp(ai->scope, "global") ? ai->scope : "",
			    strcmp(ai->scope, "global") ? ": " : "", ai->desc, note);
		else
			printf("%-16s %-14s %-11s %s%s\n", keys[0] ? keys : "-", ai->name,
			    ai->scope, ai->desc, note);
	}
	keymap_free(&km);
}

static void
theme_warn_keep(const char *msg, void *ud)
{
	char *first = ud;

	diag_log(DIAG_WARN, "%s", msg);
	if (first[0] == '\0')
		snprintf(first, 256, "theme: %s", msg);
}

/* Warn when a config file that others can read will one day hold secrets. */
static void
check_config_mode(const char *path)
{
	struct stat st;

	if (path != NULL && stat(path, &st) == 0 && (st.st_mode & S_IWOTH))
		fprintf(stderr, "signalbox: warning: %s is world-writable; anyone on this "
		    "machine can change what signalbox checks (chmod o-w %s)\n", path, path);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'v' },
		{ "theme", required_argument, NULL, 't' },
		{ "layout", required_argument, NULL, 'l' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "mdoc", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *log_path = NULL, *theme_name = NULL;
	const char *layout = NULL, *cmd = NULL, *no_color = getenv("NO_COLOR");
	char *default_path = NULL, startup[512] = "", theme_warning[256] = "";
	int opt, read_only = 0, json = 0, mdoc = 0, rc, explicit_path;
	struct config cfg;
	struct keymap *km;
	struct theme theme;
	struct app_opts ao;
	struct railway_cmd_opts rco;
	struct backup_cmd_opts bco;
	struct flags_cmd_opts fco;
	struct err e;
	size_t i;
	/* a Railway command takes the options after it (railway_cmd.h) */
	int at = railway_cmd_index(argc, argv, "c:v:t:l:rjmhV", longopts);
	int bat = at > 0 ? 0 : cli_word_index(argc, argv, "c:v:t:l:rjmhV", longopts,
	    backup_cmd_is);
	int fat = at > 0 || bat > 0 ? 0 : cli_word_index(argc, argv, "c:v:t:l:rjmhV",
	    longopts, flags_cmd_is);

	setlocale(LC_ALL, "");
	/* logs FILE|- is the log engine's; logs SERVICE the Railway command's */
	if (argc > 1 && strcmp(argv[1], "logs") == 0 && logs_cmd_wants(argc - 1, argv + 1))
		return logs_cmd_main(argc - 1, argv + 1);
	if (bat > 0)
		at = bat;
	if (fat > 0)
		at = fat;
	while ((opt = getopt_long(at > 0 ? at : argc, argv, "c:v:t:l:rjmhV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'v': log_path = optarg; break;
		case 't': theme_name = optarg; break;
		case 'l': layout = optarg; break;
		case 'r': read_only = 1; break;
		case 'j': json = 1; break;
		case 'm': mdoc = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("signalbox %s\n", SIGNALBOX_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (fat > 0) {
		switch (flags_cmd_parse(&fco, argc - fat, argv + fat)) {
		case 0: break;
		case 1: return 0;
		default: return 2;
		}
		config_path = fco.config_path != NULL ? fco.config_path : config_path;
		log_path = fco.log_path != NULL ? fco.log_path : log_path;
		fco.read_only |= read_only;
		fco.json |= json;
		at = 0;
	}
	if (bat > 0) {
		switch (backup_cmd_parse(&bco, argc - bat, argv + bat)) {
		case 0: break;
		case 1: return 0;
		default: return 2;
		}
		config_path = bco.config_path != NULL ? bco.config_path : config_path;
		log_path = bco.log_path != NULL ? bco.log_path : log_path;
		bco.read_only |= read_only;
		bco.json |= json;
		at = 0;
	}
	if (at > 0) {
		switch (railway_cmd_parse(&rco, argc - at, argv + at)) {
		case 0: break;
		case 1: return 0;
		default: return 2;
		}
		config_path = rco.config_path != NULL ? rco.config_path : config_path;
		log_path = rco.log_path != NULL ? rco.log_path : log_path;
		rco.read_only |= read_only;
		rco.json |= json;
	}
	if (cmd != NULL && strcmp(cmd, "keys") == 0) {
		print_keys(mdoc);
		return 0;
	}
	if (cmd != NULL && strcmp(cmd, "themes") == 0) {
		const char *const *names = theme_builtin_names();

		for (i = 0; names[i] != NULL; i++)
			puts(names[i]);
		return 0;
	}

	/* configuration: never start curses with a bad one */
	config_init(&cfg);
	explicit_path = config_path != NULL;
	if (config_path == NULL) {
		default_path = config_default_path();
		config_path = default_path;
	}
	if (cmd != NULL && strcmp(cmd, "config") == 0 && optind < argc &&
	    strcmp(argv[optind], "options") == 0) {
		config_print_options(stdout);
		free(default_path);
		return 0;
	}
	if (access(config_path, F_OK) != 0 && !explicit_path) {
		snprintf(startup, sizeof startup, "no config at %s: nothing to watch yet "
		    "(see signalbox.yml(5), or run 'make demo')", config_path);
	} else if (config_load_file(&cfg, config_path, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		if (cmd == NULL || strcmp(cmd, "config") != 0)
			fprintf(stderr, "signalbox: fix the configuration and try again "
			    "(signalbox config check -c %s)\n", config_path);
		config_fini(&cfg);
		free(default_path);
		return 2;
	} else {
		check_config_mode(config_path);
	}
	if (cmd != NULL && strcmp(cmd, "config") == 0) {
		const char *sub = optind < argc ? argv[optind] : "check";

		rc = 0;
		if (strcmp(sub, "check") == 0) {
			printf("%s: ok (%zu endpoints)\n", startup[0] ? "defaults" : config_path,
			    cfg.n_endpoints);
		} else if (strcmp(sub, "dump") == 0) {
			config_dump(&cfg, stdout);
		} else {
			fprintf(stderr, "signalbox: unknown config command '%s' (check, dump, "
			    "options)\n", sub);
			rc = 2;
		}
		config_fini(&cfg);
		free(default_path);
		return rc;
	}
	if (log_path == NULL)
		log_path = cfg.log_file;
	if (log_path != NULL && diag_open(log_path, getenv("SIGNALBOX_DEBUG") ?
	    DIAG_DEBUG : DIAG_INFO, &e) != 0) {
		fprintf(stderr, "signalbox: %s\n", e.msg);
		config_fini(&cfg);
		free(default_path);
		return 2;
	}
	if (fat > 0) {
		rc = flags_cmd_run(&cfg, &fco);
		config_fini(&cfg);
		free(default_path);
		diag_close();
		return rc;
	}
	if (bat > 0) {
		rc = backup_cmd_run(&cfg, &bco);
		config_fini(&cfg);
		free(default_path);
		diag_close();
		return rc;
	}
	if (at > 0) {
		rc = railway_cmd_run(&cfg, &rco);
		config_fini(&cfg);
		free(default_path);
		diag_close();
		return rc;
	}
	if (cmd != NULL && strcmp(cmd, "check") == 0) {
		rc = app_run_check(&cfg, json);
		config_fini(&cfg);
		free(default_path);
		diag_close();
		return rc;
	}
	if (cmd != NULL) {
		fprintf(stderr, "signalbox: unknown command '%s'\n", cmd);
		usage(stderr);
		config_fini(&cfg);
		free(default_path);
		return 2;
	}
	if (layout != NULL) {
		if (strcmp(layout, "auto") != 0 && strcmp(layout, "split") != 0 &&
		    strcmp(layout, "single") != 0) {
			fprintf(stderr, "signalbox: --layout must be auto, split or single\n");
			config_fini(&cfg);
			free(default_path);
			return 2;
		}
		free(cfg.layout);
		cfg.layout = strdup(layout);
	}

	km = keymap_new();
	for (i = 0; i < cfg.n_bindings; i++) {
		const struct config_binding *b = &cfg.bindings[i];

		/* validated by the config parser already */
		keymap_bind_names(km, b->section, b->key, b->action, NULL);
	}
	memset(&theme, 0, sizeof theme);
	if (theme_name == NULL && no_color != NULL && *no_color != '\0')
		theme_name = "mono";
	if (theme_name == NULL)
		theme_name = cfg.theme;
	/* warnings go to the log and the command line: stderr is hidden by curses */
	if (theme_load(&theme, theme_name, theme_warn_keep, theme_warning, &e) != 0) {
		fprintf(stderr, "signalbox: %s\n", e.msg);
		keymap_free(&km);
		config_fini(&cfg);
		free(default_path);
		return 2;
	}
	memset(&ao, 0, sizeof ao);
	ao.cfg = &cfg;
	ao.keymap = km;
	ao.theme = &theme;
	ao.mono = no_color != NULL && *no_color != '\0' && strcmp(theme_name, "mono") == 0;
	ao.read_only = read_only;
	ao.startup_message = startup[0] ? startup : theme_warning[0] ? theme_warning : NULL;
	rc = app_run_console(&ao);
	keymap_free(&km);
	config_fini(&cfg);
	free(default_path);
	diag_close();
	return rc;
}
