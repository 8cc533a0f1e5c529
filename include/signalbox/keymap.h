/* keymap.h - key codes and remappable bindings.
 *
 * Keys are Unicode code points for text keys, 1..26 for Ctrl-letters, and
 * KEYC_* values above the Unicode range for named keys; KEYC_META marks
 * Alt.  The UI translates curses codes into these; nothing else sees
 * curses.  Bindings live in sections: "global" and one per view.  Lookup
 * tries the view's section first, then "global".
 */
#ifndef SIGNALBOX_KEYMAP_H
#define SIGNALBOX_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/action.h"
#include "signalbox/err.h"

enum keycode {
	KEYC_NONE = 0,
	KEYC_BASE = 0x200000,
	KEYC_UP, KEYC_DOWN, KEYC_LEFT, KEYC_RIGHT,
	KEYC_HOME, KEYC_END, KEYC_PGUP, KEYC_PGDN,
	KEYC_ENTER, KEYC_ESC, KEYC_TAB, KEYC_BTAB,
	KEYC_BACKSPACE, KEYC_DELETE, KEYC_INSERT,
	KEYC_F1, KEYC_F2, KEYC_F3, KEYC_F4, KEYC_F5, KEYC_F6,
	KEYC_F7, KEYC_F8, KEYC_F9, KEYC_F10, KEYC_F11, KEYC_F12,
	KEYC_RESIZE,
	KEYC_META = 0x1000000,	/* flag: Alt held */
};

struct key_event {
	uint32_t key;		/* keycode, KEYC_NONE for ':' commands */
	const char *arg;	/* ':' command argument or NULL */
};

/* Parse a key name: "j", "G", "C-w", "M-x", "Enter", "Esc", "Tab",
 * "S-Tab", "Up", "PgDn", "F5", "Space", "Backspace", "Home"...  0 / -1. */
int keymap_parse_key(const char *name, uint32_t *key);

/* Canonical name of KEY into BUF. */
void keymap_key_name(uint32_t key, char *buf, size_t len);

struct keymap;

/* A keymap with every default binding from the action table. */
struct keymap *keymap_new(void);
void keymap_free(struct keymap **kmp);

/* Whether KEY may run A.  An action that changes production
 * (ACTION_F_MUTATING) may only sit on a Shift-letter A-Z other than the
 * navigation letters G H J K L: never on a Ctrl or Alt chord, a lower-case
 * letter, a digit or a named key (DESIGN section 4).  The default keys
 * keep away from the keys next to h j k l g as well (D R S X).  0, or -1
 * with E saying what to do instead. */
int keymap_check_binding(uint32_t key, enum action a, struct err *e);

/* Bind KEY in SECTION to A (ACTION_NONE unbinds).  SECTION is "global" or a
 * view name.  Returns 0, or -1 with E if the section name is empty or
 * keymap_check_binding refuses the key. */
int keymap_bind(struct keymap *km, const char *section, uint32_t key, enum action a,
    struct err *e);

/* Bind by names, as the config does: "health", "C-r", "check-now".  The
 * error names what is unknown and suggests the closest action. */
int keymap_bind_names(struct keymap *km, const char *section, const char *key,
    const char *action, struct err *e);

/* Action for KEY in SECTION (then "global"), or ACTION_NONE. */
enum action keymap_lookup(const struct keymap *km, const char *section, uint32_t key);

/* Names of the keys bound to A in SECTION (or, when SECTION is NULL, in
 * any section) as "j, Down" into BUF; "" when unbound. */
void keymap_keys_for(const struct keymap *km, const char *section, enum action a,
    char *buf, size_t len);

#endif
