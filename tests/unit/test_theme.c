/* test_theme.c - theme parser, fallback, shipped themes, colour reduction. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signalbox/err.h"
#include "signalbox/theme.h"

struct warnings {
	char msg[16][512];
	int n;
};

static void
collect(const char *msg, void *ud)
{
	struct warnings *w = ud;

	if (w->n < 16)
		snprintf(w->msg[w->n], sizeof w->msg[0], "%s", msg);
	w->n++;
}

static void
parse(struct theme *t, const char *text, struct warnings *w)
{
	memset(w, 0, sizeof *w);
	theme_parse(t, text, strlen(text), "t.theme", collect, w);
}

static struct theme_color
rgb(uint32_t v)
{
	struct theme_color c = { THEME_COLOR_RGB, v };

	return c;
}

static struct theme_color
idx(uint32_t v)
{
	struct theme_color c = { THEME_COLOR_INDEX, v };

	return c;
}

static int
same_style(struct theme_style a, struct theme_style b)
{
	return a.fg.kind == b.fg.kind && a.fg.value == b.fg.value &&
	    a.bg.kind == b.bg.kind && a.bg.value == b.bg.value &&
	    a.attrs == b.attrs;
}

static void
test_parse_values(void **state)
{
	struct theme t;
	struct warnings w;
	const struct theme_style *r;

	(void)state;
	parse(&t,
	    "palette.leaf = #5fd75f\n"
	    "palette.sky = color74\n"
	    "default = fg=default bg=black\n"
	    "title = fg=palette.sky bold underline\n"
	    "health.ok = fg=leaf\n"
	    "health.down = fg = bright-red  bg= red   bold reverse dim italic\n"
	    "key = fg=color200 bg=#0A0b0C\n"
	    "match = none\n", &w);
	assert_int_equal(w.n, 0);
	assert_string_equal(t.name, "t");

	r = &t.roles[STYLE_DEFAULT];
	assert_int_equal(r->fg.kind, THEME_COLOR_DEFAULT);
	assert_int_equal(r->bg.kind, THEME_COLOR_INDEX);
	assert_int_equal(r->bg.value, 0);
	assert_false(r->attrs_set);

	r = &t.roles[STYLE_TITLE];
	assert_int_equal(r->fg.kind, THEME_COLOR_INDEX);
	assert_int_equal(r->fg.value, 74);
	assert_int_equal(r->bg.kind, THEME_COLOR_UNSET);
	assert_int_equal(r->attrs, THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);
	assert_true(r->attrs_set);

	r = &t.roles[STYLE_HEALTH_OK];
	assert_int_equal(r->fg.kind, THEME_COLOR_RGB);
	assert_int_equal(r->fg.value, 0x5fd75f);

	r = &t.roles[STYLE_HEALTH_DOWN];
	assert_int_equal(r->fg.kind, THEME_COLOR_INDEX);
	assert_int_equal(r->fg.value, 9);
	assert_int_equal(r->bg.kind, THEME_COLOR_INDEX);
	assert_int_equal(r->bg.value, 1);
	assert_int_equal(r->attrs, THEME_ATTR_BOLD | THEME_ATTR_REVERSE |
	    THEME_ATTR_DIM | THEME_ATTR_ITALIC);

	r = &t.roles[STYLE_KEY];
	assert_int_equal(r->fg.value, 200);
	assert_int_equal(r->bg.kind, THEME_COLOR_RGB);
	assert_int_equal(r->bg.value, 0x0a0b0c);

	r = &t.roles[STYLE_MATCH];
	assert_int_equal(r->attrs, 0);
	assert_true(r->attrs_set);

	/* Never set: inherits. */
	r = &t.roles[STYLE_STATUSBAR];
	assert_int_equal(r->fg.kind, THEME_COLOR_UNSET);
	assert_int_equal(r->bg.kind, THEME_COLOR_UNSET);
	assert_false(r->attrs_set);
}

static void
test_palette_order_and_override(void **state)
{
	struct theme t;
	struct warnings w;

	(void)state;
	/* Roles may use a palette entry defined further down, and a palette
	 * entry named like a standard colour wins over it. */
	parse(&t,
	    "health.ok = fg=leaf\n"
	    "health.down = fg=red\n"
	    "palette.leaf = #00af00\n"
	    "palette.red = #d70000\n", &w);
	assert_int_equal(w.n, 0);
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.kind, THEME_COLOR_RGB);
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.value, 0x00af00);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].fg.kind, THEME_COLOR_RGB);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].fg.value, 0xd70000);
}

static void
test_comments(void **state)
{
	struct theme t;
	struct warnings w;

	(void)state;
	parse(&t,
	    "# a comment = with an equals sign\n"
	    "   # indented comment\n"
	    "#ffffff looks like a colour but starts the line\n"
	    "palette.warm = #ffaf00 # trailing comment\n"
	    "palette.cold = #0087ff\t# after a tab\n"
	    "health.ok = fg=#00ff00 # green # twice\n"
	    "health.down = fg=warm bg=#000000 bold # loud\n"
	    "title = fg=cold#not-a-comment-without-a-blank\n"
	    "\n"
	    "header = bold   #no blank after the hash still comments\n", &w);
	/* Only the '#' glued to a word is not a comment (and is a bad
	 * colour). */
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.msg[0], "t.theme:8: "));
	assert_non_null(strstr(w.msg[0], "cold#not-a-comment"));

	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.kind, THEME_COLOR_RGB);
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.value, 0x00ff00);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].fg.value, 0xffaf00);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].bg.kind, THEME_COLOR_RGB);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].bg.value, 0x000000);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].attrs, THEME_ATTR_BOLD);
	assert_int_equal(t.roles[STYLE_HEADER].attrs, THEME_ATTR_BOLD);
	assert_int_equal(t.roles[STYLE_TITLE].fg.kind, THEME_COLOR_UNSET);
}

static void
test_crlf_and_no_final_newline(void **state)
{
	struct theme t;
	struct warnings w;

	(void)state;
	parse(&t, "# dos\r\nhealth.ok = fg=green\r\nhealth.down = bold", &w);
	assert_int_equal(w.n, 0);
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.value, 2);
	assert_int_equal(t.roles[STYLE_HEALTH_DOWN].attrs, THEME_ATTR_BOLD);
}

static void
test_warnings(void **state)
{
	struct theme t;
	struct warnings w;

	(void)state;
	parse(&t,
	    "# line 1\n"
	    "default = fg=white\n"
	    "helth.ok = fg=green\n"
	    "health.ok = fg=#ff00 bold\n"
	    "health.down = fg=gren blod\n"
	    "title = fg=color300\n"
	    "just some words\n"
	    "header = fgg=red green\n"
	    "key = fg=palette.nope\n"
	    "palette.x = notacolour\n"
	    "match =\n", &w);
	assert_int_equal(w.n, 11);
	assert_string_equal(w.msg[0],
	    "t.theme:10: unknown colour 'notacolour'");
	assert_string_equal(w.msg[1],
	    "t.theme:3: unknown role 'helth.ok' (did you mean 'health.ok'?)");
	assert_string_equal(w.msg[2],
	    "t.theme:4: bad colour '#ff00' (expected #rrggbb)");
	assert_string_equal(w.msg[3],
	    "t.theme:5: unknown colour 'gren' (did you mean 'green'?)");
	assert_string_equal(w.msg[4],
	    "t.theme:5: unknown attribute 'blod' (did you mean 'bold'?)");
	assert_string_equal(w.msg[5],
	    "t.theme:6: bad colour 'color300' (colorN takes 0..255)");
	assert_non_null(strstr(w.msg[6], "t.theme:7: expected"));
	assert_string_equal(w.msg[7],
	    "t.theme:8: unknown setting 'fgg=' (did you mean 'fg='?)");
	assert_string_equal(w.msg[8],
	    "t.theme:8: unknown attribute 'green' (did you mean 'fg=green'?)");
	assert_non_null(strstr(w.msg[9],
	    "t.theme:9: unknown palette colour 'palette.nope'"));
	assert_non_null(strstr(w.msg[10], "t.theme:11: missing style for 'match'"));

	/* The good parts of a line with a bad word still apply. */
	assert_int_equal(t.roles[STYLE_HEALTH_OK].attrs, THEME_ATTR_BOLD);
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.kind, THEME_COLOR_UNSET);
	assert_int_equal(t.roles[STYLE_DEFAULT].fg.value, 7);

	/* No callback: warnings are dropped, never printed. */
	theme_parse(&t, "nope = bold\n", 12, "x", NULL, NULL);
	assert_int_equal(t.roles[STYLE_DEFAULT].fg.kind, THEME_COLOR_UNSET);
}

static void
test_parse_replaces(void **state)
{
	struct theme t;
	struct warnings w;

	(void)state;
	parse(&t, "health.ok = fg=green bold\n", &w);
	parse(&t, "health.down = fg=red\n", &w);
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.kind, THEME_COLOR_UNSET);
	assert_false(t.roles[STYLE_HEALTH_OK].attrs_set);
	/* A later line for the same role replaces the earlier one. */
	parse(&t, "title = fg=red bold\ntitle = fg=blue\n", &w);
	assert_int_equal(t.roles[STYLE_TITLE].fg.value, 4);
	assert_false(t.roles[STYLE_TITLE].attrs_set);
}

static void
test_fallback_chain(void **state)
{
	struct theme t;
	struct warnings w;
	struct theme_style s;

	(void)state;
	parse(&t, "default = fg=white\nhealth = fg=yellow\n"
	    "health.ok = fg=green\n", &w);
	s = theme_resolve(&t, STYLE_HEALTH_DOWN);	/* -> health */
	assert_int_equal(s.fg.kind, THEME_COLOR_INDEX);
	assert_int_equal(s.fg.value, 3);
	s = theme_resolve(&t, STYLE_HEALTH_OK);
	assert_int_equal(s.fg.value, 2);

	parse(&t, "default = fg=white\n", &w);
	s = theme_resolve(&t, STYLE_HEALTH_DOWN);	/* -> health -> default */
	assert_int_equal(s.fg.kind, THEME_COLOR_INDEX);
	assert_int_equal(s.fg.value, 7);
	s = theme_resolve(&t, STYLE_BORDER);		/* -> dim -> default */
	assert_int_equal(s.fg.value, 7);

	parse(&t, "", &w);
	s = theme_resolve(&t, STYLE_HEALTH_DOWN);	/* nothing set anywhere */
	assert_int_equal(s.fg.kind, THEME_COLOR_DEFAULT);
	assert_int_equal(s.bg.kind, THEME_COLOR_DEFAULT);
	assert_int_equal(s.attrs, 0);
}

static void
test_independent_inheritance(void **state)
{
	struct theme t;
	struct warnings w;
	struct theme_style s;

	(void)state;
	parse(&t,
	    "default = fg=white bg=blue\n"
	    "health = bg=black bold underline\n"
	    "health.down = fg=red\n"
	    "health.ok = none\n"
	    "health.degraded = reverse\n"
	    "statusbar = bg=cyan\n"
	    "statusbar.env = fg=black\n", &w);
	assert_int_equal(w.n, 0);

	/* Only fg set: bg and attrs come from the parent. */
	s = theme_resolve(&t, STYLE_HEALTH_DOWN);
	assert_int_equal(s.fg.value, 1);
	assert_int_equal(s.bg.value, 0);
	assert_int_equal(s.attrs, THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);

	/* none clears the attributes but keeps the colours. */
	s = theme_resolve(&t, STYLE_HEALTH_OK);
	assert_int_equal(s.attrs, 0);
	assert_int_equal(s.fg.value, 7);
	assert_int_equal(s.bg.value, 0);

	/* Attributes given replace the parent's rather than adding. */
	s = theme_resolve(&t, STYLE_HEALTH_DEGRADED);
	assert_int_equal(s.attrs, THEME_ATTR_REVERSE);

	/* Each part from a different level: statusbar.env.protected sets
	 * nothing, fg comes from statusbar.env, bg from statusbar and the
	 * attributes (none) from default. */
	s = theme_resolve(&t, STYLE_STATUSBAR_ENV_PROTECTED);
	assert_int_equal(s.fg.value, 0);
	assert_int_equal(s.bg.value, 6);
	assert_int_equal(s.attrs, 0);
}

static void
test_shipped_themes(void **state)
{
	static const char *const expect[] = {
		"default", "light", "high-contrast", "mono",
	};
	const char *const *names = theme_builtin_names();
	struct warnings w;
	struct theme t;
	struct err e;
	size_t i, j, n;

	(void)state;
	for (n = 0; names[n] != NULL; n++)
		;
	for (i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(names[j], expect[i]) == 0)
				break;
		assert_true(j < n);
	}

	for (i = 0; i < n; i++) {
		const struct theme_style *d;
		struct theme_style hs[4];
		int a, b;

		memset(&w, 0, sizeof w);
		err_clear(&e);
		assert_int_equal(theme_load(&t, names[i], collect, &w, &e), 0);
		if (w.n != 0)
			fail_msg("theme %s: %s", names[i], w.msg[0]);
		assert_string_equal(t.name, names[i]);
		d = &t.roles[STYLE_DEFAULT];
		assert_true(d->attrs_set || d->fg.kind != THEME_COLOR_UNSET ||
		    d->bg.kind != THEME_COLOR_UNSET);

		/* Every theme keeps the health states apart, and the
		 * selection and a protected environment stand out. */
		hs[0] = theme_resolve(&t, STYLE_HEALTH_OK);
		hs[1] = theme_resolve(&t, STYLE_HEALTH_DEGRADED);
		hs[2] = theme_resolve(&t, STYLE_HEALTH_DOWN);
		hs[3] = theme_resolve(&t, STYLE_HEALTH_UNKNOWN);
		for (a = 0; a < 4; a++)
			for (b = a + 1; b < 4; b++)
				if (same_style(hs[a], hs[b]))
					fail_msg("theme %s: health states %d "
					    "and %d look the same", names[i], a, b);
		assert_false(same_style(theme_resolve(&t, STYLE_SELECTED),
		    theme_resolve(&t, STYLE_DEFAULT)));
		assert_false(same_style(
		    theme_resolve(&t, STYLE_STATUSBAR_ENV_PROTECTED),
		    theme_resolve(&t, STYLE_STATUSBAR_ENV)));
		assert_false(same_style(theme_resolve(&t, STYLE_TAB_ACTIVE),
		    theme_resolve(&t, STYLE_TAB)));
		assert_true(theme_resolve(&t, STYLE_HEALTH_DOWN).attrs &
		    THEME_ATTR_BOLD);
	}
}

static void
test_mono_has_no_colours(void **state)
{
	struct warnings w;
	struct theme t;
	struct theme_style s;
	int i;

	(void)state;
	memset(&w, 0, sizeof w);
	assert_int_equal(theme_load(&t, "mono", collect, &w, NULL), 0);
	assert_int_equal(w.n, 0);
	for (i = 0; i < STYLE_COUNT; i++) {
		assert_int_equal(t.roles[i].fg.kind, THEME_COLOR_UNSET);
		assert_int_equal(t.roles[i].bg.kind, THEME_COLOR_UNSET);
		s = theme_resolve(&t, (enum style_id)i);
		assert_int_equal(s.fg.kind, THEME_COLOR_DEFAULT);
		assert_int_equal(s.bg.kind, THEME_COLOR_DEFAULT);
	}
	/* Attributes alone carry the states. */
	assert_int_equal(theme_resolve(&t, STYLE_HEALTH_DOWN).attrs,
	    THEME_ATTR_BOLD | THEME_ATTR_REVERSE);
	assert_int_equal(theme_resolve(&t, STYLE_HEALTH_DEGRADED).attrs,
	    THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);
	assert_int_equal(theme_resolve(&t, STYLE_HEALTH_OK).attrs, 0);
	assert_int_equal(theme_resolve(&t, STYLE_SELECTED).attrs,
	    THEME_ATTR_REVERSE);
	assert_true(theme_resolve(&t, STYLE_STATUSBAR_ENV_PROTECTED).attrs &
	    THEME_ATTR_BOLD);
}

static void
test_color_index(void **state)
{
	struct theme_color def = { THEME_COLOR_DEFAULT, 0 };
	struct theme_color unset = { THEME_COLOR_UNSET, 0 };

	(void)state;
	assert_int_equal(theme_color_index(rgb(0xff0000), 256), 196);
	assert_int_equal(theme_color_index(rgb(0xff0000), 16), 9);
	assert_int_equal(theme_color_index(rgb(0xff0000), 8), 1);
	assert_int_equal(theme_color_index(rgb(0x808080), 256), 244);
	assert_int_equal(theme_color_index(rgb(0x808080), 16), 8);
	assert_int_equal(theme_color_index(rgb(0x808080), 8), 7);
	assert_int_equal(theme_color_index(rgb(0x000000), 256), 16);
	assert_int_equal(theme_color_index(rgb(0xffffff), 256), 231);
	assert_int_equal(theme_color_index(rgb(0xffffff), 16), 15);
	assert_int_equal(theme_color_index(rgb(0xffffff), 8), 7);
	assert_int_equal(theme_color_index(rgb(0x080808), 256), 232);
	assert_int_equal(theme_color_index(rgb(0xeeeeee), 256), 255);
	assert_int_equal(theme_color_index(rgb(0x5f87af), 256), 67);
	assert_int_equal(theme_color_index(rgb(0x5f87ae), 256), 67);
	assert_int_equal(theme_color_index(rgb(0x000080), 16), 4);
	assert_int_equal(theme_color_index(rgb(0x0000ff), 16), 12);
	/* A soft theme green stays green, not grey. */
	assert_int_equal(theme_color_index(rgb(0x5fd75f), 256), 77);
	assert_int_equal(theme_color_index(rgb(0x5fd75f), 16), 10);
	assert_int_equal(theme_color_index(rgb(0x5fd75f), 8), 2);
	assert_int_equal(theme_color_index(rgb(0xffd75f), 8), 3);
	assert_int_equal(theme_color_index(rgb(0x303030), 16), 0);

	/* Indexes the terminal has pass through; higher ones map down. */
	assert_int_equal(theme_color_index(idx(5), 256), 5);
	assert_int_equal(theme_color_index(idx(12), 16), 12);
	assert_int_equal(theme_color_index(idx(200), 256), 200);
	assert_int_equal(theme_color_index(idx(9), 8), 1);
	assert_int_equal(theme_color_index(idx(196), 16), 9);
	assert_int_equal(theme_color_index(idx(196), 8), 1);
	assert_int_equal(theme_color_index(idx(244), 16), 8);
	assert_int_equal(theme_color_index(idx(15), 8), 7);
	/* 88-colour terminals get the 16. */
	assert_int_equal(theme_color_index(idx(196), 88), 9);

	assert_int_equal(theme_color_index(def, 256), -1);
	assert_int_equal(theme_color_index(def, 8), -1);
	assert_int_equal(theme_color_index(unset, 16), -1);
	assert_int_equal(theme_color_index(rgb(0xff0000), 0), -1);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/signalbox-theme-XXXXXX";
	const char *text = "default = fg=#102030\nhelth = bold\n";
	const char *src;
	char shipped[4096];
	struct theme t, u;
	struct warnings w;
	struct err e;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);

	memset(&w, 0, sizeof w);
	assert_int_equal(theme_load(&t, path, collect, &w, &e), 0);
	unlink(path);
	assert_int_equal(t.roles[STYLE_DEFAULT].fg.kind, THEME_COLOR_RGB);
	assert_int_equal(t.roles[STYLE_DEFAULT].fg.value, 0x102030);
	assert_string_equal(t.name, path + 5);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.msg[0], path));
	assert_non_null(strstr(w.msg[0], ":2: unknown role 'helth' "
	    "(did you mean 'health'?)"));

	/* The shipped file on disk and its embedded copy agree. */
	src = getenv("SIGNALBOX_SOURCE_DIR");
	assert_non_null(src);
	snprintf(shipped, sizeof shipped, "%s/themes/light.theme", src);
	assert_int_equal(theme_load(&t, shipped, NULL, NULL, &e), 0);
	assert_int_equal(theme_load(&u, "light", NULL, NULL, &e), 0);
	assert_string_equal(t.name, "light");
	assert_memory_equal(t.roles, u.roles, sizeof t.roles);

	/* A missing file is an I/O error naming the path. */
	err_clear(&e);
	assert_int_equal(theme_load(&t, "/nonexistent/x.theme", NULL, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "/nonexistent/x.theme"));
	err_clear(&e);
	assert_int_equal(theme_load(&t, "nothere.theme", NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_IO);
}

static void
test_unknown_name(void **state)
{
	struct warnings w;
	struct theme t;
	struct err e;

	(void)state;
	parse(&t, "health.ok = fg=green\n", &w);
	err_clear(&e);
	assert_int_equal(theme_load(&t, "solarized", NULL, NULL, &e), -1);
	assert_int_not_equal(e.code, ERR_NONE);
	assert_non_null(strstr(e.msg, "unknown theme 'solarized'"));
	assert_non_null(strstr(e.msg, "default"));
	assert_non_null(strstr(e.msg, "light"));
	assert_non_null(strstr(e.msg, "high-contrast"));
	assert_non_null(strstr(e.msg, "mono"));
	/* A failed load leaves the current theme alone (":theme typo"). */
	assert_string_equal(t.name, "t");
	assert_int_equal(t.roles[STYLE_HEALTH_OK].fg.value, 2);

	assert_int_equal(theme_load(&t, "ligth", NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "(did you mean 'light'?)"));
	assert_int_equal(theme_load(&t, "", NULL, NULL, &e), -1);
	/* The error is optional. */
	assert_int_equal(theme_load(&t, "solarized", NULL, NULL, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_palette_order_and_override),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_crlf_and_no_final_newline),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_parse_replaces),
		cmocka_unit_test(test_fallback_chain),
		cmocka_unit_test(test_independent_inheritance),
		cmocka_unit_test(test_shipped_themes),
		cmocka_unit_test(test_mono_has_no_colours),
		cmocka_unit_test(test_color_index),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_unknown_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
