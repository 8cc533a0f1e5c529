/* audit.h - the append-only audit log.
 *
 * One JSON object per line (JSONL) in $XDG_STATE_HOME/signalbox/audit.jsonl
 * (default ~/.local/state/signalbox/audit.jsonl, or the config's
 * audit.file).  Every action that changes production or reveals a secret
 * is recorded, allowed or refused; the policy module (policy.h) is the only
 * writer in the program.
 *
 * Durability and concurrency: the file is opened O_APPEND and each entry
 * is one write(2) of one complete line, so consoles writing at once never
 * interleave inside a line (the kernel appends each write whole).  With
 * fsync on (audit.fsync, the default) each line is fdatasync'ed before
 * audit_write returns: a line about an action is on disk before the
 * action is sent.  That costs a few milliseconds on a local disk, once per
 * human decision.  Directories the module creates are 0700 and the file is
 * created 0600; an existing file keeps its mode.
 *
 * A failure to write is reported, never hidden: audit_write returns -1 with
 * the reason, and the policy module refuses the action (a tool that cannot
 * audit must not act).
 *
 * Secrets never reach the file: a parameter marked secret is written as
 * {"secret": true, "length": N, "fingerprint": "1a2b3c4d"}.
 */
#ifndef SIGNALBOX_AUDIT_H
#define SIGNALBOX_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "signalbox/err.h"

#define AUDIT_FP_LEN 8		/* hex digits of a value fingerprint */
#define AUDIT_FIELD_MAX 2048	/* longer strings are cut (at a character) */

enum audit_result {
	AUDIT_ALLOWED,		/* checked and confirmed; written before the action is sent */
	AUDIT_REFUSED,		/* the policy said no (reason in error) */
	AUDIT_CANCELLED,	/* the operator cancelled the confirmation */
	AUDIT_OK,		/* the provider reported success */
	AUDIT_FAILED,		/* the provider reported failure (in error), or no outcome */
};

enum audit_param_kind {
	AUDIT_P_STRING,		/* value */
	AUDIT_P_NUMBER,		/* num */
	AUDIT_P_BOOL,		/* num != 0 */
	AUDIT_P_SECRET,		/* value: only its length and fingerprint are written */
	AUDIT_P_REDACTED,	/* a secret already reduced: num = length, value = fingerprint */
};

struct audit_param {
	const char *name;
	enum audit_param_kind kind;
	const char *value;	/* STRING, SECRET, REDACTED; NULL writes null */
	int64_t num;		/* NUMBER, BOOL, REDACTED */
};

/* One line.  NULL strings are written as null. */
struct audit_entry {
	int64_t time_ms;	/* wall ms; 0 = now */
	const char *operator_name;	/* $USER */
	const char *ssh_client;	/* address from SSH_CLIENT, NULL when not over SSH */
	const char *project;
	const char *environment;
	const char *target;	/* service name */
	const char *action;	/* action table name: "scale" */
	const struct audit_param *params;
	size_t n_params;
	const char *before;	/* state before, in words */
	const char *after;	/* state after (wanted, then reached) */
	const char *reason;	/* the operator's reason */
	enum audit_result result;
	const char *error;	/* refusal or failure, in words */
	int64_t duration_ms;	/* < 0: null */
};

struct audit;

/* Open (creating directories and the file) the log at PATH for appending;
 * NULL PATH = audit_default_path().  Never fails: a log that cannot be
 * opened now is retried at each write, and audit_status says why.  FSYNC:
 * fdatasync each line. */
struct audit *audit_open(const char *path, int fsync_each);

/* Close and free *AP (NULL-safe); sets *AP to NULL. */
void audit_free(struct audit **ap);

/* Append ENTRY as one line.  0, or -1 with E ("cannot write the audit log
 * PATH: No space left on device").  Reopens a log that failed before. */
int audit_write(struct audit *a, const struct audit_entry *entry, struct err *e);

/* 0 when the log is open for writing (opening it now if needed), else -1
 * with E saying why; the policy module asks before showing a dialog. */
int audit_status(struct audit *a, struct err *e);

/* The log's path. */
const char *audit_path(const struct audit *a);

/* $XDG_STATE_HOME/signalbox/audit.jsonl when XDG_STATE_HOME is absolute,
 * else ~/.local/state/signalbox/audit.jsonl; caller frees. */
char *audit_default_path(void);

/* ENTRY as one JSON line ending in "\n"; caller frees.  Strings are made
 * valid UTF-8 (U+FFFD for bad bytes), and every control character, C1
 * control and bidi override is \u-escaped, so `tail -f` of the log cannot
 * drive a terminal. */
char *audit_format(const struct audit_entry *entry);

/* Fingerprint of LEN bytes: the first AUDIT_FP_LEN hex digits of their
 * 64-bit FNV-1a hash (the same as the vars pane shows).  It tells values
 * apart; it is not cryptographic, and a short or guessable value can be
 * found from it by trying candidates. */
void audit_fingerprint(const void *data, size_t len, char out[AUDIT_FP_LEN + 1]);

/* The operator ($USER, else $LOGNAME, else the passwd name) into USER, and
 * the client address of SSH_CLIENT into SSH ("" when not over SSH). */
void audit_identity(char *user, size_t ulen, char *ssh, size_t slen);

/* WALL_MS as RFC 3339 UTC with milliseconds: "2026-11-23T10:00:00.123Z". */
void audit_fmt_time(int64_t wall_ms, char *buf, size_t len);

/* "allowed", "refused", "cancelled", "ok", "failed". */
const char *audit_result_name(enum audit_result r);

#endif
