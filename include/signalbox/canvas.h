/* canvas.h - what views draw on.
 *
 * A canvas is a rectangle of cells.  Views see only this interface: text
 * with a style role at a position, clipped to the canvas.  Two backends
 * implement it: the curses one (src/ui/canvas_curses.c, one WINDOW per
 * pane) and an in-memory grid used by tests and golden screens
 * (canvas_mem_*).
 *
 * Text is UTF-8.  Every text call sanitises: invalid bytes become U+FFFD,
 * C0/C1 controls and ESC become visible replacements, so no escape sequence
 * can reach the terminal through a canvas.  Double-width characters take two
 * cells; one that would straddle the right edge is replaced by a space.
 */
#ifndef SIGNALBOX_CANVAS_H
#define SIGNALBOX_CANVAS_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/style.h"

/* Line-drawing glyphs: Unicode when the locale is UTF-8, ASCII otherwise. */
enum canvas_glyph {
	CANVAS_GLYPH_HLINE,
	CANVAS_GLYPH_VLINE,
	CANVAS_GLYPH_ELLIPSIS,
	CANVAS_GLYPH_SPARK0,	/* SPARK0..SPARK7: lowest to highest bar */
	CANVAS_GLYPH_SPARK7 = CANVAS_GLYPH_SPARK0 + 7,
	CANVAS_GLYPH_BULLET,
	CANVAS_GLYPH_ARROW,
	CANVAS_GLYPH_CORNER_TL,	/* box corners: top left, top right, ... */
	CANVAS_GLYPH_CORNER_TR,
	CANVAS_GLYPH_CORNER_BL,
	CANVAS_GLYPH_CORNER_BR,
	CANVAS_GLYPH_COUNT
};

struct canvas;

/* Backend operations.  put_cell receives exactly one printable glyph of
 * WIDTH (1 or 2) columns, already sanitised; the caller has clipped. */
struct canvas_backend {
	void (*put_cell)(struct canvas *cv, int y, int x, const char *glyph,
	    size_t len, int width, enum style_id style);
	void (*clear)(struct canvas *cv, enum style_id style);
};

/* The fields are for backends and canvas.c; views use the functions. */
struct canvas {
	const struct canvas_backend *be;
	void *be_priv;
	int w, h;		/* size in cells */
	int ascii;		/* 1: ASCII line drawing and ellipsis */
};

/* Width and height in cells. */
int canvas_width(const struct canvas *cv);
int canvas_height(const struct canvas *cv);

/* Clear the whole canvas to spaces in STYLE. */
void canvas_clear(struct canvas *cv, enum style_id style);

/* Draw S at (Y, X), clipped to the right edge.  Returns the number of
 * columns drawn. */
int canvas_text(struct canvas *cv, int y, int x, enum style_id style, const char *s);

/* Draw at most N bytes of S in at most MAXW columns; if S is wider, end
 * with an ellipsis ("…" or "~" in ASCII mode).  Returns columns drawn. */
int canvas_textn(struct canvas *cv, int y, int x, int maxw, enum style_id style,
    const char *s, size_t n);

/* printf-style canvas_textn with MAXW columns (negative = to the edge). */
int canvas_printf(struct canvas *cv, int y, int x, int maxw, enum style_id style,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Draw S right-aligned so that it ends at column X_END (exclusive). */
int canvas_text_right(struct canvas *cv, int y, int x_end, enum style_id style,
    const char *s);

/* Fill a rectangle with spaces in STYLE (used for selection bars). */
void canvas_fill(struct canvas *cv, int y, int x, int h, int w, enum style_id style);

/* Horizontal line of W cells. */
void canvas_hline(struct canvas *cv, int y, int x, int w, enum style_id style);

/* Vertical line of H cells. */
void canvas_vline(struct canvas *cv, int y, int x, int h, enum style_id style);

/* The glyph for G in this canvas's mode (UTF-8 string). */
const char *canvas_glyph(const struct canvas *cv, enum canvas_glyph g);

/* Draw a sparkline of N values into W columns ending at the newest value;
 * values < 0 are gaps.  Scales to MAX (or the largest value if MAX <= 0). */
void canvas_sparkline(struct canvas *cv, int y, int x, int w, enum style_id style,
    const double *vals, size_t n, double max);

/* Columns S (N bytes) takes on screen after sanitising. */
int canvas_str_width(const char *s, size_t n);

/* In-memory backend for tests and golden screens. */
struct canvas *canvas_mem_new(int w, int h, int ascii);
void canvas_mem_free(struct canvas **cvp);
/* Resize, clearing content. */
void canvas_mem_resize(struct canvas *cv, int w, int h);
/* Text of row Y (UTF-8, trailing spaces kept); valid until the next call. */
const char *canvas_mem_row(const struct canvas *cv, int y);
/* Style of the cell at (Y, X). */
enum style_id canvas_mem_style(const struct canvas *cv, int y, int x);
/* The whole grid as text, one line per row with trailing spaces removed;
 * caller frees. */
char *canvas_mem_dump(const struct canvas *cv);

/* Sub-canvas view onto PARENT's rectangle (Y, X, H, W), clipped to it.  The
 * sub-canvas draws through PARENT; free it with canvas_sub_free. */
struct canvas *canvas_sub_new(struct canvas *parent, int y, int x, int h, int w);
void canvas_sub_free(struct canvas **cvp);

#endif
