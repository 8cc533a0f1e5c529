/* action.c - the action table. */
#include <string.h>

#include "signalbox/action.h"

static const struct action_info action_table[] = {
	{ ACTION_NONE, "", "", "", 0, "" },
#define ACTION_ROW(id, name, scope, keys, flags, desc) \
	{ ACTION_##id, name, scope, keys, flags, desc },
	ACTION_INFO(ACTION_ROW)
#undef ACTION_ROW
};

const struct action_info *
action_info(enum action a)
{
	if (a <= ACTION_NONE || a >= ACTION_COUNT)
		return NULL;
	return &action_table[a];
}

int
action_has(enum action a, unsigned f)
{
	const struct action_info *ai = action_info(a);

	return ai != NULL && (ai->flags & f) != 0;
}

int
action_is_gated(enum action a)
{
	return action_has(a, ACTION_F_MUTATING | ACTION_F_AUDITED);
}

enum action
action_lookup(const char *name)
{
	int i;

	if (name == NULL || *name == '\0')
		return ACTION_NONE;
	for (i = 1; i < ACTION_COUNT; i++)
		if (strcmp(action_table[i].name, name) == 0)
			return (enum action)i;
	return ACTION_NONE;
}

size_t
action_complete(const char *prefix, const char **out, size_t max)
{
	size_t n = 0, plen = strlen(prefix);
	int i;

	for (i = 1; i < ACTION_COUNT; i++) {
		if (strncmp(action_table[i].name, prefix, plen) != 0)
			continue;
		if (n < max)
			out[n] = action_table[i].name;
		n++;
	}
	return n;
}
