/* style.c - the theme role table. */
#include <string.h>

#include "signalbox/style.h"

static const struct {
	const char *name;
	enum style_id parent;
} style_table[] = {
#define STYLE_ROW(id, name, parent) { name, STYLE_##parent },
	STYLE_INFO(STYLE_ROW)
#undef STYLE_ROW
};

const char *
style_name(enum style_id id)
{
	if ((unsigned)id >= STYLE_COUNT)
		return "?";
	return style_table[id].name;
}

enum style_id
style_parent(enum style_id id)
{
	if ((unsigned)id >= STYLE_COUNT)
		return STYLE_DEFAULT;
	return style_table[id].parent;
}

int
style_lookup(const char *name)
{
	int i;

	for (i = 0; i < STYLE_COUNT; i++)
		if (strcmp(style_table[i].name, name) == 0)
			return i;
	return -1;
}
