/* canvas.c - text drawing over a canvas backend, and the in-memory backend.
 *
 * All clipping, width computation and sanitising happens here, so backends
 * only ever receive one printable glyph inside their bounds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/canvas.h"
#include "signalbox/text.h"
#include "signalbox/xalloc.h"

static const char *const glyphs_utf8[CANVAS_GLYPH_COUNT] = {
	[CANVAS_GLYPH_HLINE] = "─",
	[CANVAS_GLYPH_VLINE] = "│",
	[CANVAS_GLYPH_ELLIPSIS] = "…",
	[CANVAS_GLYPH_SPARK0 + 0] = "▁",
	[CANVAS_GLYPH_SPARK0 + 1] = "▂",
	[CANVAS_GLYPH_SPARK0 + 2] = "▃",
	[CANVAS_GLYPH_SPARK0 + 3] = "▄",
	[CANVAS_GLYPH_SPARK0 + 4] = "▅",
	[CANVAS_GLYPH_SPARK0 + 5] = "▆",
	[CANVAS_GLYPH_SPARK0 + 6] = "▇",
	[CANVAS_GLYPH_SPARK0 + 7] = "█",
	[CANVAS_GLYPH_BULLET] = "●",
	[CANVAS_GLYPH_ARROW] = "→",
	[CANVAS_GLYPH_CORNER_TL] = "┌",
	[CANVAS_GLYPH_CORNER_TR] = "┐",
	[CANVAS_GLYPH_CORNER_BL] = "└",
	[CANVAS_GLYPH_CORNER_BR] = "┘",
};

static const char *const glyphs_ascii[CANVAS_GLYPH_COUNT] = {
	[CANVAS_GLYPH_HLINE] = "-",
	[CANVAS_GLYPH_VLINE] = "|",
	[CANVAS_GLYPH_ELLIPSIS] = "~",
	[CANVAS_GLYPH_SPARK0 + 0] = "_",
	[CANVAS_GLYPH_SPARK0 + 1] = "_",
	[CANVAS_GLYPH_SPARK0 + 2] = ".",
	[CANVAS_GLYPH_SPARK0 + 3] = "-",
	[CANVAS_GLYPH_SPARK0 + 4] = "-",
	[CANVAS_GLYPH_SPARK0 + 5] = "=",
	[CANVAS_GLYPH_SPARK0 + 6] = "#",
	[CANVAS_GLYPH_SPARK0 + 7] = "#",
	[CANVAS_GLYPH_BULLET] = "*",
	[CANVAS_GLYPH_ARROW] = ">",
	[CANVAS_GLYPH_CORNER_TL] = "+",
	[CANVAS_GLYPH_CORNER_TR] = "+",
	[CANVAS_GLYPH_CORNER_BL] = "+",
	[CANVAS_GLYPH_CORNER_BR] = "+",
};

int
canvas_width(const struct canvas *cv)
{
	return cv->w;
}

int
canvas_height(const struct canvas *cv)
{
	return cv->h;
}

const char *
canvas_glyph(const struct canvas *cv, enum canvas_glyph g)
{
	if ((unsigned)g >= CANVAS_GLYPH_COUNT)
		return "?";
	return cv->ascii ? glyphs_ascii[g] : glyphs_utf8[g];
}

void
canvas_clear(struct canvas *cv, enum style_id style)
{
	cv->be->clear(cv, style);
}

/* Next displayable glyph of S: fills BUF (>= 5 bytes), returns bytes of S
 * consumed; *WIDTH gets 0 (skip), 1 or 2. */
static size_t
canvas_next_glyph(const char *s, size_t n, int ascii, char *buf, size_t *blen,
    int *width)
{
	uint32_t cp;
	size_t used = text_decode(s, n, &cp);

	if (cp == '\t' || cp == '\n' || cp == '\r')
		cp = ' ';
	else if (text_cp_is_control(cp))
		cp = text_control_picture(cp, ascii);
	if (ascii && cp >= 0x80)
		cp = '?';
	*width = text_cp_width(cp);
	*blen = text_encode(cp, buf);
	buf[*blen] = '\0';
	return used;
}

int
canvas_str_width(const char *s, size_t n)
{
	char buf[8];
	size_t i = 0, blen;
	int w = 0, cw;

	while (i < n && s[i] != '\0') {
		i += canvas_next_glyph(s + i, n - i, 0, buf, &blen, &cw);
		w += cw;
	}
	return w;
}

static void
canvas_put(struct canvas *cv, int y, int x, const char *g, size_t len, int w,
    enum style_id style)
{
	if (y < 0 || y >= cv->h || x < 0 || x + w > cv->w)
		return;
	cv->be->put_cell(cv, y, x, g, len, w, style);
}

/* Draw up to N bytes of S in at most MAXW columns from (Y, X), no ellipsis. */
static int
canvas_draw(struct canvas *cv, int y, int x, int maxw, enum style_id style,
    const char *s, size_t n)
{
	char buf[8];
	size_t i = 0, blen;
	int col = 0, cw;

	while (i < n && s[i] != '\0') {
		i += canvas_next_glyph(s + i, n - i, cv->ascii, buf, &blen, &cw);
		if (cw == 0)
			continue;	/* combining marks are dropped */
		if (col + cw > maxw || x + col + cw > cv->w) {
			if (cw == 2 && col < maxw && x + col < cv->w)
				canvas_put(cv, y, x + col, " ", 1, 1, style);
			break;
		}
		canvas_put(cv, y, x + col, buf, blen, cw, style);
		col += cw;
	}
	return col;
}

int
canvas_textn(struct canvas *cv, int y, int x, int maxw, enum style_id style,
    const char *s, size_t n)
{
	int avail = cv->w - x, total, col;
	const char *ell;

	if (s == NULL || y < 0 || y >= cv->h || x >= cv->w)
		return 0;
	if (maxw < 0 || maxw > avail)
		maxw = avail;
	if (maxw <= 0)
		return 0;
	total = canvas_str_width(s, n);
	if (total <= maxw)
		return canvas_draw(cv, y, x, maxw, style, s, n);
	col = canvas_draw(cv, y, x, maxw - 1, style, s, n);
	ell = canvas_glyph(cv, CANVAS_GLYPH_ELLIPSIS);
	canvas_put(cv, y, x + col, ell, strlen(ell), 1, style);
	return col + 1;
}

int
canvas_text(struct canvas *cv, int y, int x, enum style_id style, const char *s)
{
	if (s == NULL)
		return 0;
	return canvas_textn(cv, y, x, -1, style, s, strlen(s));
}

int
canvas_printf(struct canvas *cv, int y, int x, int maxw, enum style_id style,
    const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	return canvas_textn(cv, y, x, maxw, style, buf, strlen(buf));
}

int
canvas_text_right(struct canvas *cv, int y, int x_end, enum style_id style,
    const char *s)
{
	int w = canvas_str_width(s, strlen(s));
	int x = x_end - w;

	if (x < 0)
		x = 0;
	return canvas_textn(cv, y, x, x_end - x, style, s, strlen(s));
}

void
canvas_fill(struct canvas *cv, int y, int x, int h, int w, enum style_id style)
{
	int r, c;

	for (r = y; r < y + h; r++)
		for (c = x; c < x + w; c++)
			canvas_put(cv, r, c, " ", 1, 1, style);
}

void
canvas_hline(struct canvas *cv, int y, int x, int w, enum style_id style)
{
	const char *g = canvas_glyph(cv, CANVAS_GLYPH_HLINE);
	int c;

	for (c = x; c < x + w; c++)
		canvas_put(cv, y, c, g, strlen(g), 1, style);
}

void
canvas_vline(struct canvas *cv, int y, int x, int h, enum style_id style)
{
	const char *g = canvas_glyph(cv, CANVAS_GLYPH_VLINE);
	int r;

	for (r = y; r < y + h; r++)
		canvas_put(cv, r, x, g, strlen(g), 1, style);
}

void
canvas_sparkline(struct canvas *cv, int y, int x, int w, enum style_id style,
    const double *vals, size_t n, double max)
{
	size_t start, i;
	int col;

	if (w <= 0)
		return;
	if (max <= 0) {
		for (i = 0; i < n; i++)
			if (vals[i] > max)
				max = vals[i];
	}
	start = n > (size_t)w ? n - (size_t)w : 0;
	/* right-align: the newest value sits in the last column */
	col = w - (int)(n - start);
	for (i = start; i < n; i++, col++) {
		const char *g;
		int level;

		if (vals[i] < 0) {
			canvas_put(cv, y, x + col, " ", 1, 1, style);
			continue;
		}
		level = max > 0 ? (int)(vals[i] / max * 7.0 + 0.5) : 0;
		if (level < 0)
			level = 0;
		if (level > 7)
			level = 7;
		g = canvas_glyph(cv, CANVAS_GLYPH_SPARK0 + level);
		canvas_put(cv, y, x + col, g, strlen(g), 1, style);
	}
}

/* --- in-memory backend ---------------------------------------------------- */

struct mem_cell {
	char glyph[8];		/* "" for the right half of a wide glyph */
	enum style_id style;
};

struct mem_priv {
	struct mem_cell *cells;
	char *rowbuf;
};

static void
mem_put_cell(struct canvas *cv, int y, int x, const char *glyph, size_t len,
    int width, enum style_id style)
{
	struct mem_priv *p = cv->be_priv;
	struct mem_cell *row = &p->cells[(size_t)y * (size_t)cv->w];

	/* overwriting half of a wide glyph blanks its other half */
	if (row[x].glyph[0] == '\0' && x > 0)
		memcpy(row[x - 1].glyph, " ", 2);
	if (x + width < cv->w && row[x + width].glyph[0] == '\0')
		memcpy(row[x + width].glyph, " ", 2);
	if (len >= sizeof row[x].glyph)
		len = sizeof row[x].glyph - 1;
	memcpy(row[x].glyph, glyph, len);
	row[x].glyph[len] = '\0';
	row[x].style = style;
	if (width == 2) {
		row[x + 1].glyph[0] = '\0';
		row[x + 1].style = style;
	}
}

static void
mem_clear(struct canvas *cv, enum style_id style)
{
	struct mem_priv *p = cv->be_priv;
	size_t i, n = (size_t)cv->w * (size_t)cv->h;

	for (i = 0; i < n; i++) {
		memcpy(p->cells[i].glyph, " ", 2);
		p->cells[i].style = style;
	}
}

static const struct canvas_backend mem_backend = { mem_put_cell, mem_clear };

struct canvas *
canvas_mem_new(int w, int h, int ascii)
{
	struct canvas *cv = xcalloc(1, sizeof *cv);
	struct mem_priv *p = xcalloc(1, sizeof *p);

	cv->be = &mem_backend;
	cv->be_priv = p;
	cv->ascii = ascii;
	canvas_mem_resize(cv, w, h);
	return cv;
}

void
canvas_mem_resize(struct canvas *cv, int w, int h)
{
	struct mem_priv *p = cv->be_priv;

	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	free(p->cells);
	free(p->rowbuf);
	cv->w = w;
	cv->h = h;
	p->cells = xcalloc((size_t)w * (size_t)h, sizeof *p->cells);
	p->rowbuf = xmalloc((size_t)w * 8 + 1);
	mem_clear(cv, STYLE_DEFAULT);
}

void
canvas_mem_free(struct canvas **cvp)
{
	struct canvas *cv;
	struct mem_priv *p;

	if (cvp == NULL || *cvp == NULL)
		return;
	cv = *cvp;
	*cvp = NULL;
	p = cv->be_priv;
	free(p->cells);
	free(p->rowbuf);
	free(p);
	free(cv);
}

const char *
canvas_mem_row(const struct canvas *cv, int y)
{
	struct mem_priv *p = cv->be_priv;
	char *o = p->rowbuf;
	int x;

	if (y < 0 || y >= cv->h)
		return "";
	for (x = 0; x < cv->w; x++) {
		const char *g = p->cells[(size_t)y * (size_t)cv->w + (size_t)x].glyph;
		size_t len = strlen(g);

		memcpy(o, g, len);
		o += len;
	}
	*o = '\0';
	return p->rowbuf;
}

enum style_id
canvas_mem_style(const struct canvas *cv, int y, int x)
{
	struct mem_priv *p = cv->be_priv;

	if (y < 0 || y >= cv->h || x < 0 || x >= cv->w)
		return STYLE_DEFAULT;
	return p->cells[(size_t)y * (size_t)cv->w + (size_t)x].style;
}

char *
canvas_mem_dump(const struct canvas *cv)
{
	size_t cap = (size_t)cv->h * ((size_t)cv->w * 8 + 1) + 1, len = 0;
	char *out = xmalloc(cap);
	int y;

	for (y = 0; y < cv->h; y++) {
		const char *row = canvas_mem_row(cv, y);
		size_t n = strlen(row);

		while (n > 0 && row[n - 1] == ' ')
			n--;
		memcpy(out + len, row, n);
		len += n;
		out[len++] = '\n';
	}
	out[len] = '\0';
	return out;
}

/* --- sub-canvas ----------------------------------------------------------- */

struct sub_priv {
	struct canvas *parent;
	int y, x;
};

static void
sub_put_cell(struct canvas *cv, int y, int x, const char *glyph, size_t len,
    int width, enum style_id style)
{
	struct sub_priv *p = cv->be_priv;

	canvas_put(p->parent, p->y + y, p->x + x, glyph, len, width, style);
}

static void
sub_clear(struct canvas *cv, enum style_id style)
{
	canvas_fill(cv, 0, 0, cv->h, cv->w, style);
}

static const struct canvas_backend sub_backend = { sub_put_cell, sub_clear };

struct canvas *
canvas_sub_new(struct canvas *parent, int y, int x, int h, int w)
{
	struct canvas *cv = xcalloc(1, sizeof *cv);
	struct sub_priv *p = xcalloc(1, sizeof *p);

	if (y < 0)
		y = 0;
	if (x < 0)
		x = 0;
	if (y + h > parent->h)
		h = parent->h - y;
	if (x + w > parent->w)
		w = parent->w - x;
	p->parent = parent;
	p->y = y;
	p->x = x;
	cv->be = &sub_backend;
	cv->be_priv = p;
	cv->w = w > 0 ? w : 0;
	cv->h = h > 0 ? h : 0;
	cv->ascii = parent->ascii;
	return cv;
}

void
canvas_sub_free(struct canvas **cvp)
{
	if (cvp == NULL || *cvp == NULL)
		return;
	free((*cvp)->be_priv);
	free(*cvp);
	*cvp = NULL;
}
