/* golden.c - golden screen files for view tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "golden.h"

static char *
golden_read(const char *path)
{
	FILE *fp = fopen(path, "rb");
	long n;
	char *buf;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
golden_mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
}

int
golden_check(const char *name, const char *actual)
{
	const char *src = getenv("SIGNALBOX_SOURCE_DIR"), *upd = getenv("SIGNALBOX_UPDATE_GOLDEN");
	char path[4096];
	char *want;
	int line = 1;
	const char *a, *b;

	snprintf(path, sizeof path, "%s/tests/golden/%s.screen", src ? src : ".", name);
	if (upd != NULL && strcmp(upd, "1") == 0) {
		FILE *fp;

		golden_mkdirs(path);
		fp = fopen(path, "wb");
		if (fp == NULL) {
			fprintf(stderr, "golden: cannot write %s: %s\n", path, strerror(errno));
			return -1;
		}
		fputs(actual, fp);
		fclose(fp);
		fprintf(stderr, "golden: wrote %s\n", path);
		return 0;
	}
	want = golden_read(path);
	if (want == NULL) {
		fprintf(stderr, "golden: %s missing (run with SIGNALBOX_UPDATE_GOLDEN=1 to "
		    "create it)\n--- actual ---\n%s", path, actual);
		return -1;
	}
	if (strcmp(want, actual) == 0) {
		free(want);
		return 0;
	}
	for (a = actual, b = want; *a && *a == *b; a++, b++)
		if (*a == '\n')
			line++;
	fprintf(stderr, "golden: %s differs at line %d\n--- expected ---\n%s--- actual ---\n%s",
	    path, line, want, actual);
	free(want);
	return -1;
}
