/* flags_cmd.h - the flag commands, for scripts and CI.
 *
 *   signalbox flags [list] [--env E] [--json]
 *   signalbox flags set NAME on|off|N% [--env E] [--yes ...] [--replace-invalid]
 *   signalbox flags kill [--env E] --yes --confirm-twice ...
 *   signalbox flags watch [--env E]
 *   signalbox flags migrate
 *
 * Each runs the flag store of the configuration (flags: in
 * signalbox.yml(5), flags.h) on its own loop.  set and kill go through the
 * policy like the console's keys (gate.h: --yes; in a protected
 * environment also --confirm-env NAME and --reason TEXT; kill also
 * --confirm-twice) and are audited with the state before and after.  A
 * set is compare-and-set against the flag as listed at the start: a flag
 * changed in between is reported, not overwritten.
 *
 * Exit status: 0 ok, 1 the store failed the write (or kill failed for
 * some flags), 2 usage or configuration, 3 the store could not be read,
 * 4 the policy refused, 5 the flag changed underneath (nothing written),
 * 6 the stored value is malformed (not written without
 * --replace-invalid), 130 interrupted.
 */
#ifndef SIGNALBOX_FLAGS_CMD_H
#define SIGNALBOX_FLAGS_CMD_H

struct config;

enum flags_cmd_exit {
	FLAGS_CMD_OK = 0,
	FLAGS_CMD_FAILED = 1,
	FLAGS_CMD_USAGE = 2,
	FLAGS_CMD_UNREADABLE = 3,
	FLAGS_CMD_REFUSED = 4,
	FLAGS_CMD_CONFLICT = 5,
	FLAGS_CMD_INVALID = 6,
	FLAGS_CMD_INTERRUPTED = 130,
};

enum flags_cmd_verb { FLAGS_CMD_LIST, FLAGS_CMD_SET, FLAGS_CMD_KILL, FLAGS_CMD_WATCH,
	FLAGS_CMD_MIGRATE };

struct flags_cmd_opts {
	const char *config_path;	/* -c, or NULL */
	const char *log_path;		/* -v, or NULL */
	int read_only;			/* -r */
	int json;			/* --json */
	enum flags_cmd_verb verb;
	const char *env;		/* --env, NULL = the configured environment */
	const char *name;		/* set: the flag */
	const char *setting;		/* set: on, off, N% */
	int yes;
	int confirm_twice;		/* kill's second confirmation */
	int replace_invalid;		/* set: write over a malformed value */
	const char *reason, *confirm_env;
};

/* Whether WORD is "flags". */
int flags_cmd_is(const char *word);

/* Parse ARGV (ARGV[0] is "flags"): 0 to run, 1 when done (--help), 2 on a
 * usage error (said on stderr). */
int flags_cmd_parse(struct flags_cmd_opts *o, int argc, char *argv[]);

/* Run it with CFG; returns the exit status. */
int flags_cmd_run(const struct config *cfg, const struct flags_cmd_opts *o);

#endif
