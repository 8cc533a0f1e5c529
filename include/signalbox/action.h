/* action.h - every user action, in one table.
 *
 * The enum, the ':' command names, the default keymap, the help pane and the
 * man page's key table are all generated from ACTION_INFO (tig's request
 * table).  Columns: id, command name, scope (the keymap section where the
 * default keys live: "global" or a view name), default keys (space
 * separated key names, see keymap_parse_key), description.
 */
#ifndef SIGNALBOX_ACTION_H
#define SIGNALBOX_ACTION_H

#define ACTION_INFO(_) \
	_(MOVE_DOWN,   "move-down",   "global", "j Down",      "Move the cursor down") \
	_(MOVE_UP,     "move-up",     "global", "k Up",        "Move the cursor up") \
	_(MOVE_TOP,    "move-top",    "global", "g Home",      "Move to the first line") \
	_(MOVE_BOTTOM, "move-bottom", "global", "G End",       "Move to the last line") \
	_(PAGE_DOWN,   "page-down",   "global", "PgDn C-f",    "Move one page down") \
	_(PAGE_UP,     "page-up",     "global", "PgUp C-b",    "Move one page up") \
	_(OPEN,        "open",        "global", "Enter l Right", "Open the details of the selected item") \
	_(BACK,        "back",        "global", "Esc h Left",  "Close details, dialogs and filters") \
	_(NEXT_PANE,   "next-pane",   "global", "Tab",         "Show the next pane") \
	_(PREV_PANE,   "prev-pane",   "global", "S-Tab",       "Show the previous pane") \
	_(PANE_1,      "pane-1",      "global", "1",           "Show pane 1") \
	_(PANE_2,      "pane-2",      "global", "2",           "Show pane 2") \
	_(PANE_3,      "pane-3",      "global", "3",           "Show pane 3") \
	_(PANE_4,      "pane-4",      "global", "4",           "Show pane 4") \
	_(PANE_5,      "pane-5",      "global", "5",           "Show pane 5") \
	_(PANE_6,      "pane-6",      "global", "6",           "Show pane 6") \
	_(PANE_7,      "pane-7",      "global", "7",           "Show pane 7") \
	_(PANE_8,      "pane-8",      "global", "8",           "Show pane 8") \
	_(PANE_9,      "pane-9",      "global", "9",           "Show pane 9") \
	_(PANE,        "pane",        "global", "",            "Show the pane named by the argument (:pane health)") \
	_(FILTER,      "filter",      "global", "/",           "Filter the current pane (:filter TEXT)") \
	_(COMMAND,     "command",     "global", ":",           "Open the command line") \
	_(HELP,        "help",        "global", "? F1",        "Show every key and command") \
	_(LAYOUT,      "layout",      "global", "z",           "Switch between split and single-pane layout (:layout auto|split|single)") \
	_(REDRAW,      "redraw",      "global", "C-l",         "Redraw the whole screen") \
	_(THEME,       "theme",       "global", "",            "Switch theme (:theme NAME)") \
	_(QUIT,        "quit",        "global", "q",           "Quit signalbox") \
	_(CHECK_NOW,   "check-now",   "health", "c",           "Check the selected endpoint now (:check-now [NAME])") \
	_(CHECK_ALL,   "check-all",   "health", "C",           "Check every endpoint now")

enum action {
	ACTION_NONE = 0,
#define ACTION_ENUM(id, name, scope, keys, desc) ACTION_##id,
	ACTION_INFO(ACTION_ENUM)
#undef ACTION_ENUM
	ACTION_COUNT
};

struct action_info {
	enum action id;
	const char *name;	/* ':' command name */
	const char *scope;	/* keymap section of the default keys */
	const char *keys;	/* default keys, space separated */
	const char *desc;
};

/* Row of the table for A (NULL for ACTION_NONE or out of range). */
const struct action_info *action_info(enum action a);

/* Action by command name, or ACTION_NONE. */
enum action action_lookup(const char *name);

/* Up to MAX command names starting with PREFIX into OUT; returns the count
 * of all matches (for ':' completion). */
size_t action_complete(const char *prefix, const char **out, size_t max);

#endif
