/* theme.h - colour themes.
 *
 * Theme files (themes/NAME.theme) are lines of
 *     palette.NAME = #rrggbb | colorN | a standard colour name
 *     ROLE = fg=COLOUR bg=COLOUR [bold] [dim] [underline] [reverse] [italic]
 * with '#' comments.  Colours: #rrggbb, palette.NAME (or a bare palette
 * name), the eight names black red green yellow blue magenta cyan white,
 * their bright- variants, colorN (0..255), and "default".  ROLE names come
 * from style.h; a role not set falls back to its parent.  Unknown keys and
 * bad values are warnings with file:line, never fatal.
 *
 * Every shipped theme is embedded at build time, so --theme NAME works
 * without an install; a NAME containing '/' or ending in .theme is read as
 * a file.
 */
#ifndef SIGNALBOX_THEME_H
#define SIGNALBOX_THEME_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/err.h"
#include "signalbox/style.h"

enum theme_color_kind {
	THEME_COLOR_UNSET = 0,	/* inherit from the parent role */
	THEME_COLOR_DEFAULT,	/* the terminal's default colour */
	THEME_COLOR_INDEX,	/* value: 0..255 */
	THEME_COLOR_RGB,	/* value: 0xRRGGBB */
};

struct theme_color {
	enum theme_color_kind kind;
	uint32_t value;
};

enum theme_attr_flag {
	THEME_ATTR_BOLD = 1 << 0,
	THEME_ATTR_DIM = 1 << 1,
	THEME_ATTR_UNDERLINE = 1 << 2,
	THEME_ATTR_REVERSE = 1 << 3,
	THEME_ATTR_ITALIC = 1 << 4,
};

struct theme_style {
	struct theme_color fg, bg;
	unsigned attrs;		/* enum theme_attr_flag bits */
	int attrs_set;		/* attrs were given (even as none) */
};

struct theme {
	char name[64];
	struct theme_style roles[STYLE_COUNT];	/* as written; unset inherits */
};

typedef void theme_warn_fn(const char *msg, void *ud);

/* Load theme NAME: an embedded theme by name, or a file path.  Warnings
 * (file:line: ...) go to WARN.  -1 and E when NAME is not found. */
int theme_load(struct theme *t, const char *name, theme_warn_fn *warn, void *ud,
    struct err *e);

/* Parse TEXT (named ORIGIN in warnings) into T, replacing its content. */
void theme_parse(struct theme *t, const char *text, size_t len, const char *origin,
    theme_warn_fn *warn, void *ud);

/* Role ID with parent fallback applied: colours and attributes resolved
 * through the parents up to "default". */
struct theme_style theme_resolve(const struct theme *t, enum style_id id);

/* Names of the embedded themes, NULL-terminated. */
const char *const *theme_builtin_names(void);

/* Reduce C to a colour index for a terminal with NCOLORS colours (8, 16,
 * 256) or -1 for the default colour.  RGB goes to the nearest entry of the
 * xterm palette; indexes above NCOLORS are mapped down likewise. */
int theme_color_index(struct theme_color c, int ncolors);

#endif
