/* diag.c - diagnostics to the -v file, never to the terminal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "signalbox/diag.h"

static FILE *diag_fp;
static enum diag_level diag_max = DIAG_INFO;

int
diag_open(const char *path, enum diag_level max, struct err *e)
{
	FILE *fp = fopen(path, "a");

	if (fp == NULL)
		return err_set(e, ERR_IO, "%s: cannot open log file: %s", path,
		    strerror(errno));
	setvbuf(fp, NULL, _IOLBF, 0);
	diag_close();
	diag_fp = fp;
	diag_max = max;
	return 0;
}

void
diag_close(void)
{
	if (diag_fp != NULL)
		fclose(diag_fp);
	diag_fp = NULL;
}

void
diag_log(enum diag_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (diag_fp == NULL || lvl > diag_max)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	fprintf(diag_fp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)(tv.tv_usec / 1000), names[lvl]);
	va_start(ap, fmt);
	vfprintf(diag_fp, fmt, ap);
	va_end(ap);
	fputc('\n', diag_fp);
}
