/* logs_cmd.h - `signalbox logs FILE|-`: the log engine without a terminal.
 *
 *   signalbox logs FILE|- [--follow] [--filter EXPR] [--since DURATION|TIME]
 *                         [--json] [--count] [--max-memory SIZE]
 *                         [--max-line SIZE] [--keep-sgr] [--no-join]
 *                         [--tz +HH:MM] [--stats] [--bench-search EXPR]...
 *
 * Reads the file (or standard input) through the ingest parser
 * (logparse.h) into a ring (logring.h), filters each line with the filter
 * language (logfilter.h) as it arrives, and prints the matching lines:
 * display-safe text, or with --json one object per line.  Memory is the
 * ring's budget plus the parser's buffers, whatever the file's size.
 * Reading a service's logs (`logs SERVICE`) is the Railway command's
 * (railway_cmd.h); logs_cmd_wants tells main which one runs.
 *
 * With --follow it keeps reading on a libuv loop of its own (logsrc.h):
 * FILE like tail -F from its first byte (rotation, truncation and deletion
 * are said on stderr), standard input until its end.  Stdout is flushed
 * after each batch of lines.  SIGINT or SIGTERM ends it (exit 130); the
 * terminal's modes are never touched.  --count does not go with --follow.
 *
 * Exit status: 0 lines matched, 1 none matched (like grep), 2 bad usage
 * or an unreadable file, 130 --follow ended by SIGINT or SIGTERM.
 */
#ifndef SIGNALBOX_LOGS_CMD_H
#define SIGNALBOX_LOGS_CMD_H

#include <stdio.h>

/* Whether ARGV (ARGV[0] == "logs") names a file for this command: its
 * first operand is "-", an existing path or contains a '/'. */
int logs_cmd_wants(int argc, char **argv);

/* Run the command on ARGV (ARGV[0] == "logs"); returns the exit status. */
int logs_cmd_main(int argc, char **argv);

/* The command's usage lines, for signalbox --help. */
void logs_cmd_usage(FILE *out);

#endif
