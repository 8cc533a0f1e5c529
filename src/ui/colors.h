/* colors.h - theme roles as curses attributes and colour pairs.
 *
 * Private to src/ui: the rest of the program names roles (style.h) and
 * never sees a pair number.  Role ID uses pair ID + 1, so pairs stay stable
 * across theme switches and re-applying only redefines them.
 */
#ifndef SIGNALBOX_UI_COLORS_H
#define SIGNALBOX_UI_COLORS_H

#include <curses.h>

#include "signalbox/style.h"

struct theme;

/* Set up colour pairs for every role of T on the current screen (after
 * initscr).  MONO: ignore colours (NO_COLOR or a monochrome terminal),
 * attributes only; a terminal without colours is treated the same.  Uses
 * 256, 16 or 8 colours from COLORS (24-bit on a direct-colour terminal) and
 * the terminal's default colours for "default" where it has them.  Also
 * sets stdscr's background to the default role.  Call again to switch
 * themes; curses repaints cells whose pair changed.  Returns the number of
 * colours used, 0 for mono. */
int colors_apply(const struct theme *t, int mono);

/* curses attributes and colour pair number for role ID (after
 * colors_apply; before it, A_NORMAL and pair 0). */
void colors_get(enum style_id id, attr_t *attrs, short *pair);

#endif
