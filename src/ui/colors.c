/* colors.c - theme roles to curses attributes and colour pairs. */
#include <curses.h>
#include <string.h>

#include "signalbox/theme.h"
#include "ui/colors.h"

/* ncurses reports 2^24 colours for a direct-colour (24-bit) terminal, whose
 * colour numbers 0..7 are the ANSI colours and the rest 0xRRGGBB. */
#define COLORS_DIRECT 0x1000000

static struct {
	attr_t attrs;
	short pair;
} role_colors[STYLE_COUNT];

static attr_t
colors_attrs(unsigned a)
{
	attr_t r = A_NORMAL;

	if (a & THEME_ATTR_BOLD)
		r |= A_BOLD;
	if (a & THEME_ATTR_DIM)
		r |= A_DIM;
	if (a & THEME_ATTR_UNDERLINE)
		r |= A_UNDERLINE;
	if (a & THEME_ATTR_REVERSE)
		r |= A_REVERSE;
#ifdef A_ITALIC
	if (a & THEME_ATTR_ITALIC)
		r |= A_ITALIC;
#endif
	return r;
}

/* Colour number of C on a direct-colour terminal, or -1 for default. */
static int
colors_direct(struct theme_color c)
{
	static const unsigned char levels[6] = {
		0x00, 0x5f, 0x87, 0xaf, 0xd7, 0xff,
	};
	static const int system[16] = {
		0x000000, 0xcd0000, 0x00cd00, 0xcdcd00,
		0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
		0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
		0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
	};
	unsigned i, v;

	switch (c.kind) {
	case THEME_COLOR_RGB:
		/* 0..7 would mean the ANSI colours; nearly black is close. */
		return c.value < 8 ? 8 : (int)(c.value & 0xffffff);
	case THEME_COLOR_INDEX:
		i = c.value > 255 ? 255 : c.value;
		if (i < 8)
			return (int)i;	/* the terminal's own ANSI colours */
		if (i < 16)
			return system[i];
		if (i < 232) {
			i -= 16;
			return levels[i / 36] << 16 | levels[i / 6 % 6] << 8 |
			    levels[i % 6];
		}
		v = 8 + 10 * (i - 232);
		return (int)(v << 16 | v << 8 | v);
	default:
		return -1;
	}
}

/* Whether ANSI colour I (0..15) is light enough for dark text. */
static int
colors_light(int i)
{
	return !(i == 0 || i == 1 || i == 4 || i == 5 || i == 8);
}

static int
colors_same(struct theme_color a, struct theme_color b)
{
	return a.kind == b.kind && a.value == b.value;
}

int
colors_apply(const struct theme *t, int mono)
{
	static const struct theme empty;
	struct theme_style st;
	int ncolors = 0, direct = 0, have_default, fg, bg, i;

	if (t == NULL)
		t = &empty;
	memset(role_colors, 0, sizeof role_colors);
	for (i = 0; i < STYLE_COUNT; i++) {
		st = theme_resolve(t, (enum style_id)i);
		role_colors[i].attrs = colors_attrs(st.attrs);
	}

	/* start_color is a no-op when colour is already on (a theme switch). */
	if (!mono && has_colors() && start_color() == OK) {
		if (COLORS >= COLORS_DIRECT) {
			ncolors = COLORS;
			direct = 1;
		} else if (COLORS >= 256)
			ncolors = 256;
		else if (COLORS >= 16)
			ncolors = 16;
		else if (COLORS >= 8)
			ncolors = 8;
	}
	if (ncolors == 0) {
		bkgdset(A_NORMAL | ' ');
		return 0;
	}

	have_default = use_default_colors() == OK;
	for (i = 0; i < STYLE_COUNT && i + 1 < COLOR_PAIRS; i++) {
		st = theme_resolve(t, (enum style_id)i);
		if (direct) {
			fg = colors_direct(st.fg);
			bg = colors_direct(st.bg);
		} else {
			fg = theme_color_index(st.fg, ncolors);
			bg = theme_color_index(st.bg, ncolors);
		}
		if (!have_default) {
			if (fg < 0)
				fg = COLOR_WHITE;
			if (bg < 0)
				bg = COLOR_BLACK;
		}
		/* Two colours the theme keeps apart may meet in 8 or 16;
		 * text must not vanish into its background. */
		if (ncolors <= 16 && fg >= 0 && fg == bg &&
		    !colors_same(st.fg, st.bg))
			fg = colors_light(bg) ? COLOR_BLACK :
			    (ncolors == 16 ? 15 : COLOR_WHITE);
#ifdef NCURSES_EXT_COLORS
		if (init_extended_pair(i + 1, fg, bg) == ERR)
			continue;
#else
		if (direct || init_pair((short)(i + 1), (short)fg, (short)bg) == ERR)
			continue;
#endif
		role_colors[i].pair = (short)(i + 1);
	}
	bkgdset((chtype)(A_NORMAL | ' ') | COLOR_PAIR(role_colors[STYLE_DEFAULT].pair));
	return ncolors;
}

void
colors_get(enum style_id id, attr_t *attrs, short *pair)
{
	if ((unsigned)id >= STYLE_COUNT)
		id = STYLE_DEFAULT;
	if (attrs != NULL)
		*attrs = role_colors[id].attrs;
	if (pair != NULL)
		*pair = role_colors[id].pair;
}
