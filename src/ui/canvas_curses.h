/* canvas_curses.h - a canvas drawing into one curses WINDOW (src/ui only). */
#ifndef SIGNALBOX_UI_CANVAS_CURSES_H
#define SIGNALBOX_UI_CANVAS_CURSES_H

#include <curses.h>

#include "signalbox/canvas.h"

/* A canvas over WIN (not owned), sized like it. */
struct canvas *canvas_curses_new(WINDOW *win, int ascii);
void canvas_curses_free(struct canvas **cvp);

#endif
