/* action.h - every user action, in one table.
 *
 * The enum, the ':' command names, the default keymap, the help pane and the
 * man page's key table are all generated from ACTION_INFO (tig's request
 * table).  Columns: id, command name, scope (the keymap section where the
 * default keys live: "global" or a view name), default keys (space
 * separated key names, see keymap_parse_key), flags (ACTION_F_*),
 * description.
 *
 * Safety (DESIGN section 4): an action flagged ACTION_F_MUTATING changes
 * production.  It sits on a Shift-letter that is not next to a navigation
 * key, or on the ':' line only, never on a Ctrl chord (keymap_bind refuses
 * anything else), and it reaches a provider only with a ticket from the
 * policy module (policy.h), which checks read-only mode and protected
 * environments, asks for the confirmation and writes the audit log.
 * ACTION_F_AUDITED actions change nothing but are recorded the same way
 * (revealing a secret).
 */
#ifndef SIGNALBOX_ACTION_H
#define SIGNALBOX_ACTION_H

#define ACTION_INFO(_) \
	_(MOVE_DOWN,   "move-down",   "global", "j Down", 0,        "Move the cursor down") \
	_(MOVE_UP,     "move-up",     "global", "k Up", 0,          "Move the cursor up") \
	_(MOVE_TOP,    "move-top",    "global", "g Home", 0,        "Move to the first line") \
	_(MOVE_BOTTOM, "move-bottom", "global", "G End", 0,         "Move to the last line") \
	_(PAGE_DOWN,   "page-down",   "global", "PgDn C-f", 0,      "Move one page down") \
	_(PAGE_UP,     "page-up",     "global", "PgUp C-b", 0,      "Move one page up") \
	_(OPEN,        "open",        "global", "Enter l Right", 0, "Open the details of the selected item") \
	_(BACK,        "back",        "global", "Esc h Left", 0,    "Close details, dialogs and filters") \
	_(NEXT_PANE,   "next-pane",   "global", "Tab", 0,           "Show the next pane") \
	_(PREV_PANE,   "prev-pane",   "global", "S-Tab", 0,         "Show the previous pane") \
	_(PANE_1,      "pane-1",      "global", "1", 0,             "Show pane 1") \
	_(PANE_2,      "pane-2",      "global", "2", 0,             "Show pane 2") \
	_(PANE_3,      "pane-3",      "global", "3", 0,             "Show pane 3") \
	_(PANE_4,      "pane-4",      "global", "4", 0,             "Show pane 4") \
	_(PANE_5,      "pane-5",      "global", "5", 0,             "Show pane 5") \
	_(PANE_6,      "pane-6",      "global", "6", 0,             "Show pane 6") \
	_(PANE_7,      "pane-7",      "global", "7", 0,             "Show pane 7") \
	_(PANE_8,      "pane-8",      "global", "8", 0,             "Show pane 8") \
	_(PANE_9,      "pane-9",      "global", "9", 0,             "Show pane 9") \
	_(PANE,        "pane",        "global", "", 0,              "Show the pane named by the argument (:pane health)") \
	_(FILTER,      "filter",      "global", "/", 0,             "Filter the current pane (:filter TEXT)") \
	_(COMMAND,     "command",     "global", ":", 0,             "Open the command line") \
	_(HELP,        "help",        "global", "? F1", 0,          "Show every key and command") \
	_(LAYOUT,      "layout",      "global", "z", 0,             "Switch between split and single-pane layout (:layout auto|split|single)") \
	_(REDRAW,      "redraw",      "global", "C-l", 0,           "Redraw the whole screen") \
	_(THEME,       "theme",       "global", "", 0,              "Switch theme (:theme NAME)") \
	_(QUIT,        "quit",        "global", "q", 0,             "Quit signalbox") \
	_(CHECK_NOW,   "check-now",   "health", "c", 0,             "Check the selected endpoint now (:check-now [NAME])") \
	_(CHECK_ALL,   "check-all",   "health", "C", 0,             "Check every endpoint now") \
	_(REFRESH,     "refresh",     "global", "r", 0,             "Fetch the pane's data from the provider now") \
	_(DEPLOY,      "deploy",      "deployments", "D", ACTION_F_MUTATING, \
	    "Deploy the latest source of the selected service (:deploy [SERVICE])") \
	_(REDEPLOY,    "redeploy",    "deployments", "", ACTION_F_MUTATING, \
	    "Redeploy the active deployment with the current variables (:redeploy [SERVICE])") \
	_(RESTART,     "restart",     "deployments", "X", ACTION_F_MUTATING, \
	    "Restart the replicas of the active deployment (:restart [SERVICE])") \
	_(STOP,        "stop",        "deployments", "", ACTION_F_MUTATING, \
	    "Stop the active deployment: the service stops serving (:stop [SERVICE])") \
	_(ROLLBACK,    "rollback",    "deployments", "R", ACTION_F_MUTATING, \
	    "Roll back to the selected or the previous successful deployment " \
	    "(:rollback [SERVICE [DEPLOYMENT]])") \
	_(SCALE,       "scale",       "replicas", "S", ACTION_F_MUTATING, \
	    "Set the replicas of a service in a region (:scale SERVICE N [REGION])") \
	_(VAR_REVEAL,  "var-reveal",  "vars", "E", ACTION_F_AUDITED, \
	    "Show the value of the selected variable (:var-reveal [NAME])") \
	_(VAR_SET,     "var-set",     "vars", "", ACTION_F_MUTATING | ACTION_F_SECRET_ARG, \
	    "Set a variable; the value is masked (:var-set NAME VALUE, or :set)") \
	_(VAR_DELETE,  "var-delete",  "vars", "", ACTION_F_MUTATING, \
	    "Delete a variable (:var-delete NAME, or :unset)") \
	_(PG_CANCEL,   "pg-cancel",   "datastores", "X", ACTION_F_MUTATING, \
	    "Cancel the selected PostgreSQL query with pg_cancel_backend (:pg-cancel [PID])") \
	_(BACKUP_TAKE, "backup",      "backups", "C", ACTION_F_MUTATING, \
	    "Take a pgBackRest backup (:backup [full|diff|incr], full by default)") \
	_(BACKUP_DRILL, "drill",      "backups", "D", ACTION_F_AUDITED, \
	    "Restore drill of the selected backup on a throw-away server " \
	    "(:drill [LABEL | 'YYYY-MM-DD HH:MM:SS+00'])") \
	_(BACKUP_RESTORE, "restore",  "backups", "R", ACTION_F_MUTATING, \
	    "Restore the selected backup over the server itself: what was written " \
	    "after it is lost (:restore [LABEL | 'YYYY-MM-DD HH:MM:SS+00'])") \
	_(VOLUME_BACKUP, "volume-backup", "backups", "", ACTION_F_MUTATING, \
	    "Back up the provider's volume of a service (:volume-backup [NAME])") \
	_(VOLUME_RESTORE, "volume-restore", "backups", "", ACTION_F_MUTATING, \
	    "Restore a volume backup: staged, then committed as a new deployment " \
	    "(:volume-restore BACKUP-ID)") \
	_(VOLUME_SCHEDULE, "volume-schedule", "backups", "", ACTION_F_MUTATING, \
	    "Set the volume's backup schedule (:volume-schedule DAILY,WEEKLY | none)") \
	_(DRILL_CANCEL, "drill-cancel", "backups", "", 0, \
	    "Stop the running drill: its server is stopped and its directory removed") \
	_(FLAG_SET,    "flag-set",    "flags", "A", ACTION_F_MUTATING, \
	    "Set a feature flag on, off or to a rollout, compare-and-set " \
	    "(:flag-set NAME on|off|25%)") \
	_(FLAG_KILL,   "flag-kill",   "flags", "X", ACTION_F_MUTATING, \
	    "Kill switch: turn every feature flag of the environment off (:flag-kill)") \
	_(LOG_FOLLOW,  "follow",      "logs", "F", 0,               "Follow the newest log lines again") \
	_(LOG_NEXT_MATCH, "next-match", "logs", "n", 0,             "Next line matching the filter (with C: past the context)") \
	_(LOG_PREV_MATCH, "prev-match", "logs", "N", 0,             "Previous line matching the filter") \
	_(LOG_NEXT_ERROR, "next-error", "logs", "e", 0,             "Next error (or worse) among the lines shown") \
	_(LOG_PREV_ERROR, "prev-error", "logs", "E", 0,             "Previous error among the lines shown") \
	_(LOG_NEXT_WARNING, "next-warning", "logs", "w", 0,         "Next warning among the lines shown") \
	_(LOG_PREV_WARNING, "prev-warning", "logs", "W", 0,         "Previous warning among the lines shown") \
	_(LOG_TIMESTAMPS, "timestamps", "logs", "t", 0,             "Show or hide the time of each line") \
	_(LOG_WRAP,    "wrap",        "logs", "C-w", 0,             "Wrap long lines or cut them at the edge") \
	_(LOG_JSON,    "json",        "logs", "J", 0,               "Show the selected line as indented JSON") \
	_(LOG_CONTEXT, "context",     "logs", "C", 0,               "Show the lines around each match of the filter") \
	_(LOG_GOTO,    "goto",        "logs", "", 0,                "Jump to a time (:goto 10:42, :goto 2026-11-23T10:42:00Z)") \
	_(LOG_SAVE,    "save",        "logs", "s", 0,               "Save the lines shown to a file (:save FILE; never overwrites)")

/* ACTION_INFO's flags column. */
enum action_flag {
	ACTION_F_MUTATING = 1 << 0,	/* changes production: policy, confirmation, audit */
	ACTION_F_AUDITED = 1 << 1,	/* changes nothing, but is policy-checked and audited */
	ACTION_F_SECRET_ARG = 1 << 2,	/* the ':' argument holds a secret: masked, no history */
};

enum action {
	ACTION_NONE = 0,
#define ACTION_ENUM(id, name, scope, keys, flags, desc) ACTION_##id,
	ACTION_INFO(ACTION_ENUM)
#undef ACTION_ENUM
	ACTION_COUNT
};

struct action_info {
	enum action id;
	const char *name;	/* ':' command name */
	const char *scope;	/* keymap section of the default keys */
	const char *keys;	/* default keys, space separated */
	unsigned flags;		/* ACTION_F_* */
	const char *desc;
};

/* Row of the table for A (NULL for ACTION_NONE or out of range). */
const struct action_info *action_info(enum action a);

/* Whether A must pass the policy check (policy.h): it changes production
 * (ACTION_F_MUTATING) or is audited (ACTION_F_AUDITED). */
int action_is_gated(enum action a);

/* Whether A has flag F (0 for ACTION_NONE and out-of-range values). */
int action_has(enum action a, unsigned f);

/* Action by command name, or ACTION_NONE. */
enum action action_lookup(const char *name);

/* Up to MAX command names starting with PREFIX into OUT; returns the count
 * of all matches (for ':' completion). */
size_t action_complete(const char *prefix, const char **out, size_t max);

#endif
