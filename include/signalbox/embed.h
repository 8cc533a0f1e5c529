/* embed.h - files compiled into the binary (themes, GraphQL documents). */
#ifndef SIGNALBOX_EMBED_H
#define SIGNALBOX_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;	/* file name without directory and extension */
	const char *data;	/* NUL-terminated */
	size_t len;
};

/* Every themes/ *.theme file; the list ends with a NULL name. */
extern const struct embed_file theme_files[];

/* Every src/providers/gql/ *.graphql document (name = file name without
 * ".graphql"); the list ends with a NULL name. */
extern const struct embed_file gql_files[];

#endif
