/* theme.c - theme files: parsing, embedded themes, colour reduction. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalbox/embed.h"
#include "signalbox/theme.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

enum {
	THEME_LINE_MAX = 1024,
	THEME_PALETTE_MAX = 128,
	THEME_PALETTE_NAME_MAX = 48,
	THEME_FILE_MAX = 1 << 20,
	THEME_BUILTIN_MAX = 64,
};

struct palette_entry {
	char name[THEME_PALETTE_NAME_MAX];
	struct theme_color color;
};

struct parser {
	struct theme *t;
	const char *origin;
	unsigned line;
	theme_warn_fn *warn;
	void *ud;
	struct palette_entry palette[THEME_PALETTE_MAX];
	size_t npalette;
};

/* Closest candidate to a misspelt word, for "did you mean" hints. */
struct suggest {
	const char *word;
	const char *best;
	int dist;
	int limit;
};

static const char *const color_names[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static const char *const bright_names[] = {
	"bright-black", "bright-red", "bright-green", "bright-yellow",
	"bright-blue", "bright-magenta", "bright-cyan", "bright-white",
};

static const struct {
	const char *name;
	unsigned flag;
} attr_names[] = {
	{ "bold", THEME_ATTR_BOLD },
	{ "dim", THEME_ATTR_DIM },
	{ "underline", THEME_ATTR_UNDERLINE },
	{ "reverse", THEME_ATTR_REVERSE },
	{ "italic", THEME_ATTR_ITALIC },
};

/* xterm's default RGB values for the 16 system colours.  Terminals vary;
 * these only map colour8..15 down to 8 colours, never reach a terminal. */
static const uint32_t ansi_rgb[16] = {
	0x000000, 0xcd0000, 0x00cd00, 0xcdcd00,
	0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
	0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
	0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};

static const uint8_t cube_levels[6] = { 0x00, 0x5f, 0x87, 0xaf, 0xd7, 0xff };

static void
suggest_init(struct suggest *sg, const char *word)
{
	size_t len = strlen(word);

	sg->word = word;
	sg->best = NULL;
	sg->limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;
	sg->dist = sg->limit + 1;
}

static void
suggest_try(struct suggest *sg, const char *candidate)
{
	int d;

	d = util_edit_distance(sg->word, candidate, sg->limit);
	if (d < sg->dist) {
		sg->dist = d;
		sg->best = candidate;
	}
}

/* " (did you mean 'PREFIXbestSUFFIX'?)" or "", into BUF. */
static const char *
suggest_hint(const struct suggest *sg, const char *prefix, const char *suffix,
    char *buf, size_t len)
{
	if (sg->best == NULL || sg->dist > sg->limit)
		return "";
	snprintf(buf, len, " (did you mean '%s%s%s'?)", prefix, sg->best,
	    suffix);
	return buf;
}

static void parser_warn(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
parser_warn(struct parser *p, const char *fmt, ...)
{
	char msg[THEME_LINE_MAX + 256];
	va_list ap;
	int n;

	if (p->warn == NULL)
		return;
	n = snprintf(msg, sizeof msg, "%s:%u: ", p->origin, p->line);
	if (n < 0 || (size_t)n >= sizeof msg)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	p->warn(msg, p->ud);
}

static struct palette_entry *
palette_find(struct parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->npalette; i++)
		if (strcmp(p->palette[i].name, name) == 0)
			return &p->palette[i];
	return NULL;
}

static int
parse_hex(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		v = v << 4 | (uint32_t)(isdigit((unsigned char)s[i]) ?
		    s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	if (s[6] != '\0')
		return -1;
	*out = v;
	return 0;
}

/* "colorN" or "colourN": 1 and the index in *OUT when S has that shape
 * (-1 in *OUT when N is out of range), 0 when it does not. */
static int
parse_color_n(const char *s, long *out)
{
	const char *d;
	char *end;

	if (strncmp(s, "color", 5) == 0)
		d = s + 5;
	else if (strncmp(s, "colour", 6) == 0)
		d = s + 6;
	else
		return 0;
	if (!isdigit((unsigned char)*d))
		return 0;
	errno = 0;
	*out = strtol(d, &end, 10);
	if (*end != '\0')
		return 0;
	if (errno != 0 || *out < 0 || *out > 255)
		*out = -1;
	return 1;
}

static int
parse_named_color(const char *s, uint32_t *out)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(color_names); i++) {
		if (strcmp(s, color_names[i]) == 0) {
			*out = (uint32_t)i;
			return 0;
		}
		if (strcmp(s, bright_names[i]) == 0) {
			*out = (uint32_t)i + 8;
			return 0;
		}
	}
	return -1;
}

/* Parse colour S into *OUT; warns unless QUIET.  0 or -1. */
static int
parse_color(struct parser *p, const char *s, struct theme_color *out, int quiet)
{
	const struct palette_entry *pe;
	struct suggest sg;
	char hint[128];
	uint32_t v;
	long n;
	size_t i;

	if (*s == '\0') {
		if (!quiet)
			parser_warn(p, "missing colour");
		return -1;
	}
	if (strcmp(s, "default") == 0) {
		out->kind = THEME_COLOR_DEFAULT;
		out->value = 0;
		return 0;
	}
	if (*s == '#') {
		if (parse_hex(s + 1, &v) == -1) {
			if (!quiet)
				parser_warn(p, "bad colour '%s' (expected #rrggbb)", s);
			return -1;
		}
		out->kind = THEME_COLOR_RGB;
		out->value = v;
		return 0;
	}
	if (parse_color_n(s, &n)) {
		if (n < 0) {
			if (!quiet)
				parser_warn(p, "bad colour '%s' (colorN takes 0..255)", s);
			return -1;
		}
		out->kind = THEME_COLOR_INDEX;
		out->value = (uint32_t)n;
		return 0;
	}
	if (strncmp(s, "palette.", 8) == 0) {
		if ((pe = palette_find(p, s + 8)) != NULL) {
			*out = pe->color;
			return 0;
		}
		if (!quiet) {
			suggest_init(&sg, s + 8);
			for (i = 0; i < p->npalette; i++)
				suggest_try(&sg, p->palette[i].name);
			parser_warn(p, "unknown palette colour '%s'%s", s,
			    suggest_hint(&sg, "palette.", "", hint, sizeof hint));
		}
		return -1;
	}
	/* A palette entry may deliberately redefine a standard name. */
	if ((pe = palette_find(p, s)) != NULL) {
		*out = pe->color;
		return 0;
	}
	if (parse_named_color(s, &v) == 0) {
		out->kind = THEME_COLOR_INDEX;
		out->value = v;
		return 0;
	}
	if (!quiet) {
		suggest_init(&sg, s);
		suggest_try(&sg, "default");
		for (i = 0; i < p->npalette; i++)
			suggest_try(&sg, p->palette[i].name);
		for (i = 0; i < ARRAY_LEN(color_names); i++) {
			suggest_try(&sg, color_names[i]);
			suggest_try(&sg, bright_names[i]);
		}
		parser_warn(p, "unknown colour '%s'%s", s,
		    suggest_hint(&sg, "", "", hint, sizeof hint));
	}
	return -1;
}

/* Drop a comment from S (trimmed): '#' starting the line or a word, unless
 * that word is a hex colour ("palette.x = #ff0000" keeps its '#'; '#' after
 * '=' never starts a comment). */
static void
strip_comment(char *s)
{
	size_t i, j;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] != '#' || (i > 0 && !isspace((unsigned char)s[i - 1])))
			continue;
		for (j = i + 1; isxdigit((unsigned char)s[j]); j++)
			;
		if (i > 0 && j > i + 1 &&
		    (s[j] == '\0' || isspace((unsigned char)s[j])))
			continue;
		s[i] = '\0';
		return;
	}
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Squeeze blanks around '=' so "fg = red" reads as "fg=red". */
static void
squeeze_equals(char *s)
{
	char *r = s, *w = s, *q;

	while (*r != '\0') {
		if (isspace((unsigned char)*r)) {
			for (q = r; isspace((unsigned char)*q); q++)
				;
			if (*q == '=') {
				r = q;
				continue;
			}
		}
		if (*r == '=') {
			*w++ = *r++;
			while (isspace((unsigned char)*r))
				r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
}

static void
parse_palette(struct parser *p, const char *name, const char *value)
{
	struct theme_color c;
	struct palette_entry *pe;
	const char *s;

	if (*name == '\0') {
		parser_warn(p, "missing palette name after 'palette.'");
		return;
	}
	for (s = name; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') {
			parser_warn(p, "bad palette name '%s' (use letters, "
			    "digits, '-' and '_')", name);
			return;
		}
	}
	if (strlen(name) >= THEME_PALETTE_NAME_MAX) {
		parser_warn(p, "palette name '%s' is too long", name);
		return;
	}
	if (strpbrk(value, " \t") != NULL) {
		parser_warn(p, "palette.%s takes one colour, not '%s'", name,
		    value);
		return;
	}
	if (strcmp(value, "default") == 0) {
		parser_warn(p, "palette.%s: 'default' is not a palette colour; "
		    "use it directly", name);
		return;
	}
	if (parse_color(p, value, &c, 0) == -1)
		return;
	if ((pe = palette_find(p, name)) == NULL) {
		if (p->npalette == THEME_PALETTE_MAX) {
			parser_warn(p, "too many palette entries (at most %d)",
			    THEME_PALETTE_MAX);
			return;
		}
		pe = &p->palette[p->npalette++];
		util_strlcpy(pe->name, name, sizeof pe->name);
	}
	pe->color = c;
}

static void
parse_attr_word(struct parser *p, struct theme_style *st, const char *w)
{
	struct theme_color c;
	struct suggest sg;
	char hint[128];
	size_t i;

	if (strcmp(w, "none") == 0) {
		st->attrs = 0;
		st->attrs_set = 1;
		return;
	}
	for (i = 0; i < ARRAY_LEN(attr_names); i++) {
		if (strcmp(w, attr_names[i].name) == 0) {
			st->attrs |= attr_names[i].flag;
			st->attrs_set = 1;
			return;
		}
	}
	if (parse_color(p, w, &c, 1) == 0) {
		parser_warn(p, "unknown attribute '%s' (did you mean 'fg=%s'?)",
		    w, w);
		return;
	}
	suggest_init(&sg, w);
	suggest_try(&sg, "none");
	for (i = 0; i < ARRAY_LEN(attr_names); i++)
		suggest_try(&sg, attr_names[i].name);
	parser_warn(p, "unknown attribute '%s'%s", w,
	    suggest_hint(&sg, "", "", hint, sizeof hint));
}

static void
parse_role(struct parser *p, enum style_id id, char *value)
{
	struct theme_style st;
	struct theme_color c;
	struct suggest sg;
	char hint[128], *w, *eq, *save;

	memset(&st, 0, sizeof st);
	squeeze_equals(value);
	for (w = strtok_r(value, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if ((eq = strchr(w, '=')) == NULL) {
			parse_attr_word(p, &st, w);
			continue;
		}
		*eq = '\0';
		if (strcmp(w, "fg") == 0 || strcmp(w, "bg") == 0) {
			if (*(eq + 1) == '\0') {
				parser_warn(p, "missing colour after '%s='", w);
				continue;
			}
			if (parse_color(p, eq + 1, &c, 0) == -1)
				continue;
			if (w[0] == 'f')
				st.fg = c;
			else
				st.bg = c;
			continue;
		}
		suggest_init(&sg, w);
		suggest_try(&sg, "fg");
		suggest_try(&sg, "bg");
		if (strcmp(w, "foreground") == 0) {
			sg.best = "fg";
			sg.dist = 0;
		} else if (strcmp(w, "background") == 0) {
			sg.best = "bg";
			sg.dist = 0;
		}
		parser_warn(p, "unknown setting '%s='%s", w,
		    suggest_hint(&sg, "", "=", hint, sizeof hint));
	}
	p->t->roles[id] = st;
}

static void
parse_line(struct parser *p, char *line, int palette_pass)
{
	struct suggest sg;
	char hint[128], *key, *value, *eq;
	int id, i;

	key = trim(line);
	strip_comment(key);
	key = trim(key);
	if (*key == '\0')
		return;
	if ((eq = strchr(key, '=')) == NULL) {
		if (!palette_pass)
			parser_warn(p, "expected 'ROLE = STYLE' or "
			    "'palette.NAME = COLOUR', got '%s'", key);
		return;
	}
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if (strncmp(key, "palette.", 8) == 0) {
		if (palette_pass)
			parse_palette(p, key + 8, value);
		return;
	}
	if (palette_pass)
		return;
	if (*key == '\0') {
		parser_warn(p, "missing role name before '='");
		return;
	}
	if ((id = style_lookup(key)) < 0) {
		if ((eq = strpbrk(key, " \t")) != NULL) {
			/* "health.ok fg=green bold": the '=' went missing. */
			*eq = '\0';
			if (style_lookup(key) >= 0) {
				parser_warn(p, "missing '=' after '%s'", key);
				return;
			}
			*eq = ' ';
		}
		suggest_init(&sg, key);
		for (i = 0; i < STYLE_COUNT; i++)
			suggest_try(&sg, style_name((enum style_id)i));
		parser_warn(p, "unknown role '%s'%s", key,
		    suggest_hint(&sg, "", "", hint, sizeof hint));
		return;
	}
	if (*value == '\0') {
		parser_warn(p, "missing style for '%s' (e.g. 'fg=green bold', "
		    "or 'none')", key);
		return;
	}
	parse_role(p, (enum style_id)id, value);
}

/* Run over every line of TEXT; palette entries first so that roles may
 * use a palette colour defined further down. */
static void
parse_pass(struct parser *p, const char *text, size_t len, int palette_pass)
{
	char buf[THEME_LINE_MAX];
	const char *s = text, *end = text + len, *nl;
	size_t n;

	p->line = 0;
	while (s < end) {
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		if (n >= sizeof buf) {
			if (palette_pass)
				parser_warn(p, "line too long (over %d bytes)",
				    THEME_LINE_MAX - 1);
		} else if (memchr(s, '\0', n) != NULL) {
			if (palette_pass)
				parser_warn(p, "NUL byte in line");
		} else {
			memcpy(buf, s, n);
			buf[n] = '\0';
			parse_line(p, buf, palette_pass);
		}
		s = nl != NULL ? nl + 1 : end;
	}
}

/* "dir/ocean.theme" -> "ocean". */
static void
name_from_origin(char *dst, size_t len, const char *origin)
{
	const char *base = strrchr(origin, '/');
	size_t n;

	base = base != NULL ? base + 1 : origin;
	n = strlen(base);
	if (n > 6 && strcmp(base + n - 6, ".theme") == 0)
		n -= 6;
	if (n >= len)
		n = len - 1;
	memcpy(dst, base, n);
	dst[n] = '\0';
}

void
theme_parse(struct theme *t, const char *text, size_t len, const char *origin,
    theme_warn_fn *warn, void *ud)
{
	struct parser *p;

	/* The palette makes the parser too big for a comfortable stack. */
	p = xcalloc(1, sizeof *p);
	p->t = t;
	p->origin = origin != NULL ? origin : "theme";
	p->warn = warn;
	p->ud = ud;
	memset(t, 0, sizeof *t);
	name_from_origin(t->name, sizeof t->name, p->origin);
	parse_pass(p, text, len, 1);
	parse_pass(p, text, len, 0);
	free(p);
}

static int
read_file(const char *path, char **out, size_t *out_len, struct err *e)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int saved;

	if ((fp = fopen(path, "rb")) == NULL)
		return err_set(e, ERR_IO, "theme %s: %s", path, strerror(errno));
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
		if (len > THEME_FILE_MAX) {
			fclose(fp);
			free(buf);
			return err_set(e, ERR_INVALID, "theme %s: larger than "
			    "%d bytes; is this a theme file?", path, THEME_FILE_MAX);
		}
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		saved = errno;
		fclose(fp);
		free(buf);
		return err_set(e, ERR_IO, "theme %s: %s", path, strerror(saved));
	}
	fclose(fp);
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

int
theme_load(struct theme *t, const char *name, theme_warn_fn *warn, void *ud,
    struct err *e)
{
	const struct embed_file *f;
	const char *const *names;
	struct suggest sg;
	char list[512], hint[128], origin[128];
	size_t n, off, i;
	char *text = NULL;

	if (name == NULL || *name == '\0')
		return err_set(e, ERR_INVALID, "empty theme name");
	n = strlen(name);
	if (strchr(name, '/') != NULL ||
	    (n > 6 && strcmp(name + n - 6, ".theme") == 0)) {
		if (read_file(name, &text, &n, e) == -1)
			return -1;
		theme_parse(t, text, n, name, warn, ud);
		free(text);
		return 0;
	}
	for (f = theme_files; f->name != NULL; f++) {
		if (strcmp(f->name, name) == 0) {
			snprintf(origin, sizeof origin, "%s.theme", f->name);
			theme_parse(t, f->data, f->len, origin, warn, ud);
			return 0;
		}
	}

	suggest_init(&sg, name);
	list[0] = '\0';
	off = 0;
	names = theme_builtin_names();
	for (i = 0; names[i] != NULL; i++) {
		suggest_try(&sg, names[i]);
		if (off < sizeof list)
			off += (size_t)snprintf(list + off, sizeof list - off,
			    "%s%s", i > 0 ? ", " : "", names[i]);
	}
	return err_set(e, ERR_INVALID, "unknown theme '%s'%s; built-in themes: "
	    "%s (or give a path to a .theme file)", name,
	    suggest_hint(&sg, "", "", hint, sizeof hint), list);
}

struct theme_style
theme_resolve(const struct theme *t, enum style_id id)
{
	const struct theme_style *r;
	struct theme_style out;
	int hops;

	memset(&out, 0, sizeof out);
	if ((unsigned)id >= STYLE_COUNT)
		id = STYLE_DEFAULT;
	/* Each of fg, bg and attrs takes the nearest ancestor that sets it. */
	for (hops = 0; hops <= STYLE_COUNT; hops++) {
		r = &t->roles[id];
		if (out.fg.kind == THEME_COLOR_UNSET)
			out.fg = r->fg;
		if (out.bg.kind == THEME_COLOR_UNSET)
			out.bg = r->bg;
		if (!out.attrs_set && r->attrs_set) {
			out.attrs = r->attrs;
			out.attrs_set = 1;
		}
		if (id == STYLE_DEFAULT)
			break;
		id = style_parent(id);
	}
	if (out.fg.kind == THEME_COLOR_UNSET)
		out.fg.kind = THEME_COLOR_DEFAULT;
	if (out.bg.kind == THEME_COLOR_UNSET)
		out.bg.kind = THEME_COLOR_DEFAULT;
	out.attrs_set = 1;
	return out;
}

const char *const *
theme_builtin_names(void)
{
	static const char *names[THEME_BUILTIN_MAX + 1];
	static int done;
	size_t i;

	if (!done) {
		for (i = 0; i < THEME_BUILTIN_MAX && theme_files[i].name != NULL;
		    i++)
			names[i] = theme_files[i].name;
		names[i] = NULL;
		done = 1;
	}
	return names;
}

static uint32_t
xterm_rgb(unsigned idx)
{
	unsigned r, g, b, v;

	if (idx < 16)
		return ansi_rgb[idx];
	if (idx < 232) {
		idx -= 16;
		r = cube_levels[idx / 36];
		g = cube_levels[idx / 6 % 6];
		b = cube_levels[idx % 6];
		return r << 16 | g << 8 | b;
	}
	v = 8 + 10 * (idx - 232);
	return v << 16 | v << 8 | v;
}

static long
rgb_distance(uint32_t a, uint32_t b)
{
	long dr = (long)(a >> 16 & 0xff) - (long)(b >> 16 & 0xff);
	long dg = (long)(a >> 8 & 0xff) - (long)(b >> 8 & 0xff);
	long db = (long)(a & 0xff) - (long)(b & 0xff);

	return dr * dr + dg * dg + db * db;
}

/* Nearest entry of the 256-colour cube or grey ramp (16..255). */
static int
nearest_256(uint32_t rgb)
{
	unsigned i;
	long d, best_d = -1;
	int best = 16;

	for (i = 16; i < 256; i++) {
		d = rgb_distance(rgb, xterm_rgb(i));
		if (best_d < 0 || d < best_d) {
			best_d = d;
			best = (int)i;
		}
	}
	return best;
}

/*
 * Nearest of the 8 or 16 ANSI colours, judged by hue first.  Plain RGB
 * distance sends the soft colours themes like (#5fd75f) to grey, because
 * the ANSI colours are fully saturated; a theme's green must stay green.
 * Near-greys go to black, bright-black, white or bright-white by value;
 * other colours take the channels above the middle of their range as the
 * hue, and the bright variant when they are light or pastel.
 */
static int
nearest_ansi(uint32_t rgb, int ncolors)
{
	unsigned r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
	unsigned max, min, chroma, mid, avg, hue;

	max = r > g ? (r > b ? r : b) : (g > b ? g : b);
	min = r < g ? (r < b ? r : b) : (g < b ? g : b);
	chroma = max - min;
	if (chroma < 32 || chroma * 4 < max) {
		avg = (r + g + b) / 3;
		if (ncolors < 16)
			return avg < 0x73 ? 0 : 7;
		if (avg < 0x40)
			return 0;
		if (avg < 0xb2)
			return 8;
		return avg < 0xf2 ? 7 : 15;
	}
	mid = min + chroma / 2;
	hue = (r >= mid ? 1u : 0u) | (g >= mid ? 2u : 0u) | (b >= mid ? 4u : 0u);
	if (ncolors >= 16 && (max >= 0xe0 || min >= 0x50))
		hue += 8;
	return (int)hue;
}

int
theme_color_index(struct theme_color c, int ncolors)
{
	uint32_t rgb;

	if (ncolors >= 256)
		ncolors = 256;
	else if (ncolors >= 16)
		ncolors = 16;
	else if (ncolors >= 8)
		ncolors = 8;
	else
		return -1;

	switch (c.kind) {
	case THEME_COLOR_INDEX:
		if (c.value < (uint32_t)ncolors)
			return (int)c.value;
		rgb = xterm_rgb(c.value > 255 ? 255 : c.value);
		break;
	case THEME_COLOR_RGB:
		rgb = c.value & 0xffffff;
		break;
	default:
		return -1;
	}
	/* The system colours 0..15 differ between terminals; the cube and
	 * the grey ramp are the same everywhere, so prefer those. */
	if (ncolors == 256)
		return nearest_256(rgb);
	return nearest_ansi(rgb, ncolors);
}
