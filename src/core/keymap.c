/* keymap.c - key names and remappable bindings. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signalbox/keymap.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

static const struct {
	const char *name;
	uint32_t key;
} key_names[] = {
	{ "Up", KEYC_UP }, { "Down", KEYC_DOWN }, { "Left", KEYC_LEFT },
	{ "Right", KEYC_RIGHT }, { "Home", KEYC_HOME }, { "End", KEYC_END },
	{ "PgUp", KEYC_PGUP }, { "PgDn", KEYC_PGDN }, { "Enter", KEYC_ENTER },
	{ "Esc", KEYC_ESC }, { "Tab", KEYC_TAB }, { "S-Tab", KEYC_BTAB },
	{ "Backspace", KEYC_BACKSPACE }, { "Delete", KEYC_DELETE },
	{ "Insert", KEYC_INSERT }, { "F1", KEYC_F1 }, { "F2", KEYC_F2 },
	{ "F3", KEYC_F3 }, { "F4", KEYC_F4 }, { "F5", KEYC_F5 }, { "F6", KEYC_F6 },
	{ "F7", KEYC_F7 }, { "F8", KEYC_F8 }, { "F9", KEYC_F9 },
	{ "F10", KEYC_F10 }, { "F11", KEYC_F11 }, { "F12", KEYC_F12 },
	{ "Space", ' ' },
	/* aliases accepted on input only (after the canonical names) */
	{ "PageUp", KEYC_PGUP }, { "PageDown", KEYC_PGDN }, { "Return", KEYC_ENTER },
	{ "Escape", KEYC_ESC }, { "BTab", KEYC_BTAB }, { "BSpace", KEYC_BACKSPACE },
	{ "Del", KEYC_DELETE },
};

int
keymap_parse_key(const char *name, uint32_t *key)
{
	uint32_t meta = 0, cp;
	size_t i, len;

	if (name == NULL || *name == '\0')
		return -1;
	if (strncmp(name, "M-", 2) == 0 && name[2] != '\0') {
		meta = KEYC_META;
		name += 2;
	}
	for (i = 0; i < ARRAY_LEN(key_names); i++) {
		if (strcasecmp(name, key_names[i].name) == 0) {
			*key = key_names[i].key | meta;
			return 0;
		}
	}
	if (strncmp(name, "C-", 2) == 0 && name[2] != '\0' && name[3] == '\0') {
		int c = tolower((unsigned char)name[2]);

		if (c >= 'a' && c <= 'z') {
			*key = (uint32_t)(c - 'a' + 1) | meta;
			return 0;
		}
		return -1;
	}
	len = strlen(name);
	if (text_decode(name, len, &cp) != len || cp == TEXT_REPLACEMENT ||
	    text_cp_is_control(cp) || cp == ' ')
		return -1;
	*key = cp | meta;
	return 0;
}

void
keymap_key_name(uint32_t key, char *buf, size_t len)
{
	const char *meta = (key & KEYC_META) ? "M-" : "";
	uint32_t k = key & ~(uint32_t)KEYC_META;
	char u[8];
	size_t i;

	for (i = 0; i < ARRAY_LEN(key_names); i++) {
		if (key_names[i].key == k) {
			snprintf(buf, len, "%s%s", meta, key_names[i].name);
			return;
		}
	}
	if (k >= 1 && k <= 26) {
		snprintf(buf, len, "%sC-%c", meta, (int)('a' + k - 1));
		return;
	}
	if (k < 0x110000 && !text_cp_is_control(k)) {
		u[text_encode(k, u)] = '\0';
		snprintf(buf, len, "%s%s", meta, u);
		return;
	}
	snprintf(buf, len, "%s<0x%x>", meta, (unsigned)k);
}

struct keymap_entry {
	char section[32];
	uint32_t key;
	enum action action;
};

struct keymap {
	struct keymap_entry *e;
	size_t n, cap;
};

static struct keymap_entry *
keymap_find(const struct keymap *km, const char *section, uint32_t key)
{
	size_t i;

	for (i = 0; i < km->n; i++)
		if (km->e[i].key == key && strcmp(km->e[i].section, section) == 0)
			return &km->e[i];
	return NULL;
}

int
keymap_check_binding(uint32_t key, enum action a, struct err *e)
{
	const struct action_info *ai = action_info(a);
	char name[32];

	if (ai == NULL || !(ai->flags & ACTION_F_MUTATING))
		return 0;
	if (key >= 'A' && key <= 'Z' && strchr("GHJKL", (int)key) == NULL)
		return 0;
	keymap_key_name(key, name, sizeof name);
	return err_set(e, ERR_INVALID, "'%s' changes production and cannot be bound "
	    "to %s: use a Shift-letter away from the navigation keys (like %s), "
	    "or the command :%s", ai->name, name,
	    ai->keys[0] != '\0' ? ai->keys : "D", ai->name);
}

int
keymap_bind(struct keymap *km, const char *section, uint32_t key, enum action a,
    struct err *e)
{
	struct keymap_entry *ent;

	if (section == NULL || *section == '\0' || strlen(section) >= sizeof ent->section)
		return err_set(e, ERR_INVALID, "bad key section name");
	if (keymap_check_binding(key, a, e) != 0)
		return -1;
	ent = keymap_find(km, section, key);
	if (ent == NULL) {
		if (km->n == km->cap) {
			km->cap = km->cap ? km->cap * 2 : 64;
			km->e = xreallocarray(km->e, km->cap, sizeof *km->e);
		}
		ent = &km->e[km->n++];
		util_strlcpy(ent->section, section, sizeof ent->section);
		ent->key = key;
	}
	ent->action = a;	/* ACTION_NONE masks a global binding */
	return 0;
}

int
keymap_bind_names(struct keymap *km, const char *section, const char *key,
    const char *action, struct err *e)
{
	enum action a;
	uint32_t k;

	if (keymap_parse_key(key, &k) != 0)
		return err_set(e, ERR_INVALID, "unknown key name '%s' (key names look "
		    "like j, G, C-r, M-x, Enter, PgDn, F5)", key);
	if (strcmp(action, "none") == 0) {
		a = ACTION_NONE;
	} else if ((a = action_lookup(action)) == ACTION_NONE) {
		const char *best = NULL;
		int bestd = 4, i, d;

		for (i = 1; i < ACTION_COUNT; i++) {
			d = util_edit_distance(action, action_info((enum action)i)->name, 3);
			if (d < bestd) {
				bestd = d;
				best = action_info((enum action)i)->name;
			}
		}
		if (best != NULL)
			return err_set(e, ERR_INVALID, "unknown action '%s' (did you "
			    "mean '%s'?)", action, best);
		return err_set(e, ERR_INVALID, "unknown action '%s' (see "
		    "'signalbox keys' for the list)", action);
	}
	return keymap_bind(km, section, k, a, e);
}

struct keymap *
keymap_new(void)
{
	struct keymap *km = xcalloc(1, sizeof *km);
	int i;

	for (i = 1; i < ACTION_COUNT; i++) {
		const struct action_info *ai = action_info((enum action)i);
		char buf[128], *tok, *save = NULL;
		uint32_t k;

		util_strlcpy(buf, ai->keys, sizeof buf);
		for (tok = strtok_r(buf, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			if (keymap_parse_key(tok, &k) == 0)
				keymap_bind(km, ai->scope, k, ai->id, NULL);
		}
	}
	return km;
}

void
keymap_free(struct keymap **kmp)
{
	if (kmp == NULL || *kmp == NULL)
		return;
	free((*kmp)->e);
	free(*kmp);
	*kmp = NULL;
}

enum action
keymap_lookup(const struct keymap *km, const char *section, uint32_t key)
{
	const struct keymap_entry *ent = NULL;

	if (section != NULL)
		ent = keymap_find(km, section, key);
	if (ent == NULL)
		ent = keymap_find(km, "global", key);
	return ent != NULL ? ent->action : ACTION_NONE;
}

void
keymap_keys_for(const struct keymap *km, const char *section, enum action a,
    char *buf, size_t len)
{
	size_t i, used = 0;
	char name[32];

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < km->n; i++) {
		const struct keymap_entry *ent = &km->e[i];

		if (ent->action != a)
			continue;
		if (section != NULL && strcmp(ent->section, section) != 0)
			continue;
		/* a view binding shadowed by nothing; a global one shadowed
		 * in SECTION does not count */
		if (section == NULL && strcmp(ent->section, "global") != 0 &&
		    keymap_lookup(km, ent->section, ent->key) != a)
			continue;
		keymap_key_name(ent->key, name, sizeof name);
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
		    "%s%s", used ? ", " : "", name);
		if (used >= len) {
			buf[len - 1] = '\0';
			return;
		}
	}
}
