/* style.h - theme roles.
 *
 * Views draw with roles, never with colours or curses pairs.  Each role has
 * a parent: a theme that does not set "health.fail" falls back to "health",
 * then to "default".  This table is the only list of roles; themes, the
 * theme parser and the curses colour setup all come from it.
 */
#ifndef SIGNALBOX_STYLE_H
#define SIGNALBOX_STYLE_H

/*  id                  name                      parent */
#define STYLE_INFO(_) \
	_(DEFAULT,          "default",                DEFAULT) \
	_(DIM,              "dim",                    DEFAULT) \
	_(BORDER,           "border",                 DIM) \
	_(TITLE,            "title",                  DEFAULT) \
	_(HEADER,           "header",                 DEFAULT) \
	_(SELECTED,         "selected",               DEFAULT) \
	_(TAB,              "tab",                    DEFAULT) \
	_(TAB_ACTIVE,       "tab.active",             TAB) \
	_(STATUSBAR,        "statusbar",              DEFAULT) \
	_(STATUSBAR_PROJECT, "statusbar.project",     STATUSBAR) \
	_(STATUSBAR_ENV,    "statusbar.env",          STATUSBAR) \
	_(STATUSBAR_ENV_PROTECTED, "statusbar.env.protected", STATUSBAR_ENV) \
	_(STATUSBAR_OPERATOR, "statusbar.operator",   STATUSBAR) \
	_(STATUSBAR_CLOCK,  "statusbar.clock",        STATUSBAR) \
	_(STATE_IDLE,       "state.idle",             DIM) \
	_(STATE_CONNECTING, "state.connecting",       DEFAULT) \
	_(STATE_OK,         "state.ok",               DEFAULT) \
	_(STATE_STALE,      "state.stale",            DEFAULT) \
	_(STATE_ERROR,      "state.error",            DEFAULT) \
	_(HEALTH,           "health",                 DEFAULT) \
	_(HEALTH_OK,        "health.ok",              HEALTH) \
	_(HEALTH_DEGRADED,  "health.degraded",        HEALTH) \
	_(HEALTH_DOWN,      "health.down",            HEALTH) \
	_(HEALTH_UNKNOWN,   "health.unknown",         HEALTH) \
	_(SPARKLINE,        "sparkline",              DEFAULT) \
	_(PROMPT,           "prompt",                 DEFAULT) \
	_(MESSAGE,          "message",                DEFAULT) \
	_(MESSAGE_ERROR,    "message.error",          MESSAGE) \
	_(MESSAGE_WARN,     "message.warn",           MESSAGE) \
	_(KEY,              "key",                    DEFAULT) \
	_(MATCH,            "match",                  DEFAULT) \
	_(DIALOG,           "dialog",                 DEFAULT) \
	_(DIALOG_BORDER,    "dialog.border",          DIALOG) \
	_(DIALOG_TITLE,     "dialog.title",           DIALOG) \
	_(DIALOG_DANGER,    "dialog.danger",          DIALOG_BORDER) \
	_(DIALOG_WARN,      "dialog.warn",            DIALOG) \
	_(DIALOG_FIELD,     "dialog.field",           DIALOG) \
	_(DIALOG_BUTTON,    "dialog.button",          DIALOG) \
	_(DIALOG_FOCUS,     "dialog.focus",           DIALOG_BUTTON) \
	_(DIALOG_DISABLED,  "dialog.disabled",        DIALOG_BUTTON) \
	_(LOG,              "log",                    DEFAULT) \
	_(LOG_TIME,         "log.time",               DIM) \
	_(LOG_DEBUG,        "log.debug",              DIM) \
	_(LOG_INFO,         "log.info",               LOG) \
	_(LOG_WARN,         "log.warn",               LOG) \
	_(LOG_ERROR,        "log.error",              LOG) \
	_(LOG_SOURCE_1,     "log.source.1",           LOG) \
	_(LOG_SOURCE_2,     "log.source.2",           LOG) \
	_(LOG_SOURCE_3,     "log.source.3",           LOG) \
	_(LOG_SOURCE_4,     "log.source.4",           LOG) \
	_(LOG_SOURCE_5,     "log.source.5",           LOG) \
	_(LOG_SOURCE_6,     "log.source.6",           LOG)

enum style_id {
#define STYLE_ENUM(id, name, parent) STYLE_##id,
	STYLE_INFO(STYLE_ENUM)
#undef STYLE_ENUM
	STYLE_COUNT
};

/* Role name ("health.fail"). */
const char *style_name(enum style_id id);
/* Parent role; STYLE_DEFAULT is its own parent. */
enum style_id style_parent(enum style_id id);
/* Role by name, or -1. */
int style_lookup(const char *name);

#endif
