/* canvas_curses.c - the curses canvas backend.
 *
 * canvas.c has already clipped and sanitised: each put_cell is one
 * printable glyph inside the window.
 */
#include <stdlib.h>
#include <wchar.h>

#include "signalbox/text.h"
#include "signalbox/xalloc.h"
#include "ui/canvas_curses.h"
#include "ui/colors.h"

static void
curses_put_cell(struct canvas *cv, int y, int x, const char *glyph, size_t len,
    int width, enum style_id style)
{
	WINDOW *win = cv->be_priv;
	wchar_t wc[2];
	uint32_t cp;
	cchar_t cc;
	attr_t attrs;
	short pair;

	(void)width;
	text_decode(glyph, len, &cp);
	wc[0] = (wchar_t)cp;
	wc[1] = L'\0';
	colors_get(style, &attrs, &pair);
	if (setcchar(&cc, wc, attrs, pair, NULL) == OK)
		mvwadd_wch(win, y, x, &cc);
}

static void
curses_clear(struct canvas *cv, enum style_id style)
{
	WINDOW *win = cv->be_priv;
	attr_t attrs;
	short pair;
	cchar_t cc;

	colors_get(style, &attrs, &pair);
	setcchar(&cc, L" ", attrs, pair, NULL);
	wbkgrndset(win, &cc);
	werase(win);
}

static const struct canvas_backend curses_backend = { curses_put_cell, curses_clear };

struct canvas *
canvas_curses_new(WINDOW *win, int ascii)
{
	struct canvas *cv = xcalloc(1, sizeof *cv);

	cv->be = &curses_backend;
	cv->be_priv = win;
	cv->ascii = ascii;
	getmaxyx(win, cv->h, cv->w);
	return cv;
}

void
canvas_curses_free(struct canvas **cvp)
{
	if (cvp == NULL || *cvp == NULL)
		return;
	free(*cvp);
	*cvp = NULL;
}
