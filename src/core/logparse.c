/* logparse.c - ingest: cut, sanitise, recognise, join (see logparse.h).
 *
 * The hot path of the log engine: every byte of every source passes
 * through sanitize() once, and every line through one recogniser.  No
 * allocation per line, no cJSON: the JSON and logfmt scanners only find
 * the few keys they need.  Runs of printable ASCII are found eight bytes
 * at a time and copied with memcpy; everything else goes through text.h's
 * decoder and control pictures, so the rules are the canvas's.
 */
#include <stdlib.h>
#include <string.h>

#include "signalbox/logparse.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

/* Input bytes examined per line beyond max_line: room for escape
 * sequences that are stripped, and a character cut in the middle. */
#define LOGPARSE_SLACK 256

struct logparse {
	struct logparse_opts o;
	logparse_emit_fn *emit;
	void *ud;
	size_t lim;		/* input bytes processed per line */
	char *carry;		/* the incomplete last line, first LIM bytes */
	size_t carry_len;
	uint64_t carry_orig;	/* its full length so far */
	int carrying;
	char *pend;		/* the held entry's text */
	size_t pend_cap;
	struct log_line pl;	/* the held entry */
	size_t first_len;	/* length of its first line */
	int has_pend;
	int64_t pend_ms;
	unsigned joined;
	int py_tb;		/* inside a Python traceback */
	uint64_t lines_in, lines_out;
	int64_t last_ts;	/* time of the last line that had one */
	int have_last_ts;
};

static const char *const level_names[] = {
#define LOGPARSE_LEVEL_NAME(id, name) name,
	LOG_LEVEL_INFO_TABLE(LOGPARSE_LEVEL_NAME)
#undef LOGPARSE_LEVEL_NAME
};

const char *
logparse_level_name(unsigned level)
{
	return level < LOG_LEVEL_COUNT ? level_names[level] : "none";
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c | 32) >= 'a' && (c | 32) <= 'z';
}

enum log_level
logparse_level_word(const char *s, size_t n)
{
	static const struct {
		const char *w;
		enum log_level l;
	} words[] = {
		{ "trace", LOG_LEVEL_TRACE }, { "debug", LOG_LEVEL_DEBUG },
		{ "dbug", LOG_LEVEL_DEBUG }, { "dbg", LOG_LEVEL_DEBUG },
		{ "info", LOG_LEVEL_INFO }, { "information", LOG_LEVEL_INFO },
		{ "inf", LOG_LEVEL_INFO }, { "notice", LOG_LEVEL_NOTICE },
		{ "warn", LOG_LEVEL_WARN }, { "warning", LOG_LEVEL_WARN },
		{ "wrn", LOG_LEVEL_WARN }, { "error", LOG_LEVEL_ERROR },
		{ "err", LOG_LEVEL_ERROR }, { "eror", LOG_LEVEL_ERROR },
		{ "severe", LOG_LEVEL_ERROR }, { "fatal", LOG_LEVEL_FATAL },
		{ "critical", LOG_LEVEL_FATAL }, { "crit", LOG_LEVEL_FATAL },
		{ "panic", LOG_LEVEL_FATAL }, { "emerg", LOG_LEVEL_FATAL },
		{ "emergency", LOG_LEVEL_FATAL }, { "alert", LOG_LEVEL_FATAL },
		{ "t", LOG_LEVEL_TRACE }, { "v", LOG_LEVEL_TRACE },
		{ "d", LOG_LEVEL_DEBUG }, { "i", LOG_LEVEL_INFO },
		{ "n", LOG_LEVEL_NOTICE }, { "w", LOG_LEVEL_WARN },
		{ "e", LOG_LEVEL_ERROR }, { "f", LOG_LEVEL_FATAL },
		{ "c", LOG_LEVEL_FATAL },
	};
	size_t i, j;

	if (n == 0 || n > 11)
		return LOG_LEVEL_NONE;
	if (is_digit((unsigned char)s[0])) {
		long v = 0;

		for (i = 0; i < n; i++) {
			if (!is_digit((unsigned char)s[i]))
				return LOG_LEVEL_NONE;
			v = v * 10 + (s[i] - '0');
		}
		/* pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn,
		 * 50 error, 60 fatal */
		if (v < 10)
			return LOG_LEVEL_NONE;
		return v < 20 ? LOG_LEVEL_TRACE : v < 30 ? LOG_LEVEL_DEBUG :
		    v < 40 ? LOG_LEVEL_INFO : v < 50 ? LOG_LEVEL_WARN :
		    v < 60 ? LOG_LEVEL_ERROR : LOG_LEVEL_FATAL;
	}
	for (i = 0; i < ARRAY_LEN(words); i++) {
		const char *w = words[i].w;

		for (j = 0; j < n && w[j] != '\0' && lower((unsigned char)s[j]) == w[j]; j++)
			;
		if (j == n && w[j] == '\0')
			return words[i].l;
	}
	return LOG_LEVEL_NONE;
}

/* ---- timestamps ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
num(const char *s, size_t n, size_t at, size_t digits, int *out)
{
	size_t i;
	int v = 0;

	if (at + digits > n)
		return 0;
	for (i = 0; i < digits; i++) {
		if (!is_digit((unsigned char)s[at + i]))
			return 0;
		v = v * 10 + (s[at + i] - '0');
	}
	*out = v;
	return 1;
}

static int64_t
epoch_ms(int y, int mo, int d, int h, int mi, int sec, int ms, int off_min)
{
	return ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + sec) - (int64_t)off_min * 60) * 1000 + ms;
}

/* Fraction ".123456" at S[*at]: milliseconds, digits consumed. */
static int
fraction_ms(const char *s, size_t n, size_t *at)
{
	int ms = 0, k = 0;

	if (*at < n && (s[*at] == '.' || s[*at] == ',') && *at + 1 < n &&
	    is_digit((unsigned char)s[*at + 1])) {
		(*at)++;
		while (*at < n && is_digit((unsigned char)s[*at])) {
			if (k < 3) {
				ms = ms * 10 + (s[*at] - '0');
				k++;
			}
			(*at)++;
		}
		while (k++ < 3)
			ms *= 10;
	}
	return ms;
}

/* Zone "Z", "+02:00", "+0200", "+02" at S[*at]; 1 when one was there. */
static int
zone(const char *s, size_t n, size_t *at, int *off_min)
{
	int hh, mm = 0;
	size_t i = *at;

	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		*off_min = 0;
		*at = i + 1;
		return 1;
	}
	if (i < n && (s[i] == '+' || s[i] == '-') && num(s, n, i + 1, 2, &hh)) {
		size_t j = i + 3;

		if (j < n && s[j] == ':' && num(s, n, j + 1, 2, &mm))
			j += 3;
		else if (num(s, n, j, 2, &mm))
			j += 2;
		else
			mm = 0;
		*off_min = (hh * 60 + mm) * (s[i] == '-' ? -1 : 1);
		*at = j;
		return 1;
	}
	return 0;
}

size_t
logparse_iso8601(const char *s, size_t n, int tz_offset_min, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0, frac = 0, off = tz_offset_min;
	size_t at;

	if (n < 16 || !num(s, n, 0, 4, &y) || s[4] != '-' || !num(s, n, 5, 2, &mo) ||
	    s[7] != '-' || !num(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ' &&
	    s[10] != 't') || !num(s, n, 11, 2, &h) || s[13] != ':' ||
	    !num(s, n, 14, 2, &mi))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59)
		return 0;
	at = 16;
	if (at < n && s[at] == ':' && num(s, n, at + 1, 2, &sec)) {
		at += 3;
		frac = fraction_ms(s, n, &at);
	}
	if (sec > 60)
		return 0;
	if (at < n && s[at] == ' ' && at + 1 < n && (s[at + 1] == '+' || s[at + 1] == '-' ||
	    s[at + 1] == 'Z')) {
		size_t z = at + 1;

		if (zone(s, n, &z, &off))
			at = z;
	} else {
		zone(s, n, &at, &off);
	}
	*ms = epoch_ms(y, mo, d, h, mi, sec, frac, off);
	return at;
}

static int
month_abbr(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int i;

	for (i = 0; i < 12; i++)
		if (lower((unsigned char)s[0]) == months[i * 3] &&
		    lower((unsigned char)s[1]) == months[i * 3 + 1] &&
		    lower((unsigned char)s[2]) == months[i * 3 + 2])
			return i + 1;
	return 0;
}

/* Epoch number (s, ms, us or ns by magnitude, optional fraction) at S. */
static int
epoch_number(const char *s, size_t n, int64_t *ms)
{
	int64_t v = 0;
	size_t i = 0, digits = 0;
	int frac;

	while (i < n && is_digit((unsigned char)s[i]) && digits < 19) {
		v = v * 10 + (s[i++] - '0');
		digits++;
	}
	if (digits == 0)
		return 0;
	frac = fraction_ms(s, n, &i);
	if (v < 100000000000LL)		/* seconds until year 5138 */
		*ms = v * 1000 + frac;
	else if (v < 100000000000000LL)
		*ms = v;
	else if (v < 100000000000000000LL)
		*ms = v / 1000;
	else
		*ms = v / 1000000;
	return 1;
}

/* ---- sanitising ---- */

/* Length of the leading run of printable ASCII (0x20..0x7e) of S. */
static size_t
ascii_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;
	uint64_t x;

	while (i + 8 <= n) {
		memcpy(&x, s + i, 8);
		/* high bit of a byte: < 0x20 (first term), >= 0x7f (second) */
		if ((((x - ones * 0x20) & ~x) | (x | (x + ones))) & highs)
			break;
		i += 8;
	}
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f)
		i++;
	return i;
}

/* Length of a CSI sequence at S (S[0] == ESC, S[1] == '['), 0 when
 * unterminated; *SGR set when it is a plain SGR. */
static size_t
csi_len(const unsigned char *s, size_t n, int *sgr)
{
	size_t i = 2;
	int plain = 1;

	while (i < n && s[i] >= 0x30 && s[i] <= 0x3f) {
		if (!is_digit(s[i]) && s[i] != ';' && s[i] != ':')
			plain = 0;
		i++;
	}
	while (i < n && s[i] >= 0x20 && s[i] <= 0x2f) {
		plain = 0;
		i++;
	}
	if (i >= n || s[i] < 0x40 || s[i] > 0x7e)
		return 0;
	*sgr = plain && s[i] == 'm';
	return i + 1;
}

/* Write the display-safe form of S (N bytes) into OUT (ROOM bytes);
 * returns the bytes written and stores the input bytes consumed in
 * *USED (< N when the text was cut).  Adds LOG_LINE_* to *FLAGS. */
static size_t
sanitize(const char *src, size_t n, char *out, size_t room, int keep_sgr, size_t *used,
    uint32_t *flags)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, run, len;
	uint32_t cp;
	char tmp[16];
	size_t tlen;

	while (i < n) {
		run = ascii_run(s + i, n - i);
		if (run > 0) {
			if (run > room - o) {
				memcpy(out + o, s + i, room - o);
				i += room - o;
				o = room;
				break;
			}
			memcpy(out + o, s + i, run);
			o += run;
			i += run;
			continue;
		}
		len = 1;
		if (s[i] == '\t') {
			memcpy(tmp, "    ", 4);
			tlen = 4;
		} else if (s[i] == 0x1b) {
			int sgr = 0;
			size_t cl = 0;

			*flags |= LOG_LINE_CTRL;
			if (i + 1 < n && s[i + 1] == '[')
				cl = csi_len(s + i, n - i, &sgr);
			if (cl > 0 && sgr) {
				if (!keep_sgr) {
					i += cl;
					continue;
				}
				if (cl > room - o)
					break;
				memcpy(out + o, s + i, cl);
				o += cl;
				i += cl;
				continue;
			}
			/* neutralised: a visible ESC, the rest is text */
			tlen = text_encode(text_control_picture(0x1b, 0), tmp);
		} else {
			len = text_decode((const char *)s + i, n - i, &cp);
			if (cp == TEXT_REPLACEMENT && len == 1)
				*flags |= LOG_LINE_BAD_UTF8;
			if (text_cp_is_control(cp)) {
				*flags |= LOG_LINE_CTRL;
				cp = text_control_picture(cp, 0);
				tlen = text_encode(cp, tmp);
			} else if (len == 1 && cp == TEXT_REPLACEMENT) {
				tlen = text_encode(cp, tmp);
			} else {
				memcpy(tmp, s + i, len);
				tlen = len;
			}
		}
		if (tlen > room - o)
			break;
		memcpy(out + o, tmp, tlen);
		o += tlen;
		i += len;
	}
	*used = i;
	return o;
}

/* ---- recognisers (on sanitised text) ---- */

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* End of the JSON string whose opening quote is at S[I-1]: index of the
 * closing quote, or N. */
static size_t
json_str_end(const char *s, size_t n, size_t i)
{
	const char *q;

	for (;;) {
		size_t k;

		q = memchr(s + i, '"', n - i);
		if (q == NULL)
			return n;
		k = (size_t)(q - s);
		/* odd number of backslashes before it: escaped */
		{
			size_t b = k;

			while (b > i && s[b - 1] == '\\')
				b--;
			if (((k - b) & 1) == 0)
				return k;
		}
		i = k + 1;
	}
}

/* End of the JSON value at S[I]: one past it, or 0 on malformed input. */
static size_t
json_value_end(const char *s, size_t n, size_t i)
{
	int depth = 0;

	if (i >= n)
		return 0;
	if (s[i] == '"') {
		size_t e = json_str_end(s, n, i + 1);

		return e < n ? e + 1 : 0;
	}
	if (s[i] != '{' && s[i] != '[') {
		while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
		    s[i] != '\n')
			i++;
		return i;
	}
	while (i < n) {
		char c = s[i];

		if (c == '"') {
			i = json_str_end(s, n, i + 1);
			if (i >= n)
				return 0;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return 0;
}

struct member {
	const char *key;
	size_t klen;
	const char *val;	/* a string's content, else the value's text */
	size_t vlen;
	int is_str;
};

/* Next member of the object being walked at *POS; 1, or 0 at its end or
 * on malformed input (*POS == N then). */
static int
json_member(const char *s, size_t n, size_t *pos, struct member *m)
{
	size_t i = skip_ws(s, n, *pos), e;

	if (i < n && s[i] == ',')
		i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == '}') {
		*pos = i;	/* the end of the object */
		return 0;
	}
	if (i >= n || s[i] != '"')
		goto end;
	e = json_str_end(s, n, i + 1);
	if (e >= n)
		goto end;
	m->key = s + i + 1;
	m->klen = e - i - 1;
	i = skip_ws(s, n, e + 1);
	if (i >= n || s[i] != ':')
		goto end;
	i = skip_ws(s, n, i + 1);
	e = json_value_end(s, n, i);
	if (e == 0 || e <= i)
		goto end;
	m->is_str = s[i] == '"';
	m->val = s + i + m->is_str;
	m->vlen = e - i - 2 * (size_t)m->is_str;
	*pos = e;
	return 1;
end:
	*pos = n;
	return 0;
}

static int
key_is(const char *k, size_t kl, const char *name)
{
	size_t n = strlen(name);

	return kl == n && memcmp(k, name, n) == 0;
}

enum fld_kind { FLD_OTHER, FLD_LEVEL, FLD_MSG, FLD_TIME };

static enum fld_kind
key_kind(const char *k, size_t kl)
{
	switch (kl) {
	case 1:
		return k[0] == 't' ? FLD_TIME : FLD_OTHER;
	case 2:
		return key_is(k, kl, "ts") ? FLD_TIME : FLD_OTHER;
	case 3:
		return key_is(k, kl, "msg") ? FLD_MSG : key_is(k, kl, "lvl") ? FLD_LEVEL :
		    FLD_OTHER;
	case 4:
		return key_is(k, kl, "time") ? FLD_TIME : FLD_OTHER;
	case 5:
		return key_is(k, kl, "level") ? FLD_LEVEL : FLD_OTHER;
	case 7:
		return key_is(k, kl, "message") ? FLD_MSG : FLD_OTHER;
	case 8:
		return key_is(k, kl, "severity") || key_is(k, kl, "loglevel") ? FLD_LEVEL :
		    FLD_OTHER;
	case 9:
		return key_is(k, kl, "timestamp") ? FLD_TIME : key_is(k, kl, "levelname") ?
		    FLD_LEVEL : FLD_OTHER;
	case 10:
		return key_is(k, kl, "@timestamp") ? FLD_TIME : FLD_OTHER;
	default:
		return FLD_OTHER;
	}
}

static void
take_field(struct logparse *p, struct log_line *l, const char *key, size_t kl,
    const char *val, size_t vl, int is_str, int *have_ts)
{
	int64_t ms;

	switch (key_kind(key, kl)) {
	case FLD_LEVEL:
		if (l->level == LOG_LEVEL_NONE)
			l->level = (uint8_t)logparse_level_word(val, vl);
		break;
	case FLD_MSG:
		if (l->msg_len == 0 || l->msg_off == 0) {
			l->msg_off = (uint32_t)(val - l->text);
			l->msg_len = (uint32_t)vl;
		}
		break;
	case FLD_TIME:
		if (*have_ts)
			break;
		if (is_str && logparse_iso8601(val, vl, p->o.tz_offset_min, &ms) > 0)
			*have_ts = 1;
		else if (is_str && vl >= 10 && is_digit((unsigned char)val[0]) &&
		    epoch_number(val, vl, &ms))
			*have_ts = 1;
		else if (!is_str && epoch_number(val, vl, &ms))
			*have_ts = 1;
		if (*have_ts)
			l->ts_ms = ms;
		break;
	case FLD_OTHER:
		break;
	}
}

/* JSON object line: 1 when recognised. */
static int
parse_json(struct logparse *p, struct log_line *l, size_t start, int *have_ts)
{
	const char *s = l->text;
	size_t n = l->len, pos = start + 1, end = n;
	struct member m;

	while (end > 0 && s[end - 1] == ' ')
		end--;
	if (end < 2 || s[end - 1] != '}')
		return 0;
	while (json_member(s, end, &pos, &m))
		take_field(p, l, m.key, m.klen, m.val, m.vlen, m.is_str, have_ts);
	/* a complete object ends exactly at its closing brace */
	if (pos != end - 1)
		return 0;
	l->format = LOG_FMT_JSON;
	return 1;
}

static int
logfmt_key_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-' || c == '@' ||
	    c == '/';
}

/* Next logfmt pair at *POS; 1 or 0 at the end. */
static int
logfmt_pair(const char *s, size_t n, size_t *pos, struct member *m)
{
	size_t i = *pos, k;

	for (;;) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			return 0;
		k = i;
		while (i < n && logfmt_key_char((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '=' && i > k)
			break;
		/* a bare word: skip it */
		while (i < n && s[i] != ' ')
			i++;
	}
	m->key = s + k;
	m->klen = i - k;
	i++;
	if (i < n && s[i] == '"') {
		size_t e = json_str_end(s, n, i + 1);

		m->val = s + i + 1;
		m->vlen = (e < n ? e : n) - i - 1;
		m->is_str = 1;
		i = e < n ? e + 1 : n;
	} else {
		m->val = s + i;
		while (i < n && s[i] != ' ')
			i++;
		m->vlen = (size_t)(s + i - m->val);
		m->is_str = 1;
	}
	*pos = i;
	return 1;
}

static int
parse_logfmt(struct logparse *p, struct log_line *l, int *have_ts)
{
	const char *s = l->text;
	size_t n = l->len, pos = 0, i = 0;
	struct member m;
	int pairs = 0;

	while (i < n && logfmt_key_char((unsigned char)s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != '=')
		return 0;
	while (logfmt_pair(s, n, &pos, &m)) {
		pairs++;
		take_field(p, l, m.key, m.klen, m.val, m.vlen, 1, have_ts);
	}
	if (pairs < 2) {
		l->level = LOG_LEVEL_NONE;
		l->msg_off = 0;
		l->msg_len = (uint32_t)n;
		*have_ts = 0;
		return 0;
	}
	l->format = LOG_FMT_LOGFMT;
	return 1;
}

/* Common / combined access log:
 * host ident user [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 ... */
static int
parse_access(struct logparse *p, struct log_line *l, int *have_ts)
{
	const char *s = l->text, *b;
	size_t n = l->len, i = 0, k;
	int d, y, h, mi, sec, mo, off = p->o.tz_offset_min, status;

	(void)p;
	for (k = 0; k < 3; k++) {
		while (i < n && s[i] != ' ')
			i++;
		if (i >= n)
			return 0;
		i++;
	}
	if (i >= n || s[i] != '[')
		return 0;
	b = s + i + 1;
	k = n - i - 1;
	if (k < 21 || !num(b, k, 0, 2, &d) || b[2] != '/' || !month_abbr(b + 3) ||
	    b[6] != '/' || !num(b, k, 7, 4, &y) || b[11] != ':' || !num(b, k, 12, 2, &h) ||
	    b[14] != ':' || !num(b, k, 15, 2, &mi) || b[17] != ':' ||
	    !num(b, k, 18, 2, &sec))
		return 0;
	mo = month_abbr(b + 3);
	i += 1 + 20;
	if (i < n && s[i] == ' ') {
		size_t z = i + 1;

		if (zone(s, n, &z, &off))
			i = z;
	}
	if (i + 2 >= n || s[i] != ']' || s[i + 1] != ' ' || s[i + 2] != '"')
		return 0;
	k = json_str_end(s, n, i + 3);
	if (k + 5 > n || s[k + 1] != ' ' || !num(s, n, k + 2, 3, &status))
		return 0;
	l->ts_ms = epoch_ms(y, mo, d, h, mi, sec, 0, off);
	*have_ts = 1;
	l->level = status >= 500 ? LOG_LEVEL_ERROR : status >= 400 ? LOG_LEVEL_WARN :
	    LOG_LEVEL_INFO;
	l->msg_off = (uint32_t)(i + 3);
	l->msg_len = (uint32_t)(n - i - 3);
	l->format = LOG_FMT_ACCESS;
	return 1;
}

/* A level word in the first bytes of plain text. */
static void
plain_level(struct log_line *l, size_t from)
{
	const char *s = l->text;
	size_t n = l->len < from + 160 ? l->len : from + 160, i = from, k;

	while (i < n) {
		int c = (unsigned char)s[i];
		int upper = 1;
		enum log_level lv;

		if (!is_alpha(c)) {
			i++;
			continue;
		}
		k = i;
		while (i < n && is_alpha((unsigned char)s[i])) {
			if (s[i] >= 'a')
				upper = 0;
			i++;
		}
		if (i - k < 3 || i - k > 8 || (i < l->len && (is_digit((unsigned char)s[i]) ||
		    s[i] == '_')))
			continue;
		if (!upper) {
			int open = k > 0 && (s[k - 1] == '[' || s[k - 1] == '<' || s[k - 1] == '(');
			int close = i < l->len && (s[i] == ']' || s[i] == ':' || s[i] == '>' ||
			    s[i] == ')');

			if (!open && !(close && (k == from || s[k - 1] == ' ')))
				continue;
		}
		lv = logparse_level_word(s + k, i - k);
		if (lv != LOG_LEVEL_NONE) {
			size_t m = i;

			l->level = (uint8_t)lv;
			/* the message follows the level word when it leads */
			if (k <= from + 1) {
				while (m < l->len && (s[m] == ']' || s[m] == ':' || s[m] == '>' ||
				    s[m] == ')' || s[m] == ' ' || s[m] == '-'))
					m++;
				l->msg_off = (uint32_t)m;
				l->msg_len = (uint32_t)(l->len - m);
			}
			return;
		}
	}
}

static int
civil_year(int64_t ms)
{
	int64_t z = ms / 86400000 + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t y = (int64_t)yoe + era * 400;

	return (int)(y + (mp >= 10));
}

static void
parse_plain(struct logparse *p, struct log_line *l, int64_t now_ms, int *have_ts)
{
	const char *s = l->text;
	size_t n = l->len, at = 0, used;
	int64_t ms;
	int mo, d, h, mi, sec, frac;

	l->format = LOG_FMT_PLAIN;
	if (n > 0 && s[0] == '[')
		at = 1;
	if (n >= at + 16 && is_digit((unsigned char)s[at]) &&
	    (used = logparse_iso8601(s + at, n - at, p->o.tz_offset_min, &ms)) > 0) {
		l->ts_ms = ms;
		*have_ts = 1;
		at += used;
		if (at < n && s[at] == ']')
			at++;
		while (at < n && s[at] == ' ')
			at++;
		l->msg_off = (uint32_t)at;
		l->msg_len = (uint32_t)(n - at);
		plain_level(l, at);
		return;
	}
	/* klog / glog: Lmmdd hh:mm:ss.uuuuuu */
	if (n >= 21 && strchr("DIWEF", s[0]) != NULL && s[0] != '\0' &&
	    num(s, n, 1, 2, &mo) && num(s, n, 3, 2, &d) && s[5] == ' ' &&
	    num(s, n, 6, 2, &h) && s[8] == ':' && num(s, n, 9, 2, &mi) && s[11] == ':' &&
	    num(s, n, 12, 2, &sec) && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
		at = 14;
		frac = fraction_ms(s, n, &at);
		l->level = (uint8_t)logparse_level_word(s, 1);
		l->ts_ms = epoch_ms(civil_year(now_ms), mo, d, h, mi, sec, frac,
		    p->o.tz_offset_min);
		*have_ts = 1;
		while (at < n && s[at] == ' ')
			at++;
		l->msg_off = (uint32_t)at;
		l->msg_len = (uint32_t)(n - at);
		return;
	}
	/* Android: L/Tag: message */
	if (n >= 3 && strchr("VDIWEF", s[0]) != NULL && s[0] != '\0' && s[1] == '/') {
		l->level = (uint8_t)logparse_level_word(s, 1);
		return;
	}
	plain_level(l, 0);
}

/* Recognise the entry held in p->pl (its text is sanitised). */
static void
recognise(struct logparse *p, int64_t now_ms)
{
	struct log_line *l = &p->pl;
	size_t i = 0;
	int have_ts = 0;

	l->level = LOG_LEVEL_NONE;
	l->format = LOG_FMT_PLAIN;
	l->msg_off = 0;
	l->msg_len = l->len;
	while (i < l->len && l->text[i] == ' ')
		i++;
	if (i < l->len && l->text[i] == '{') {
		if (!parse_json(p, l, i, &have_ts)) {
			l->level = LOG_LEVEL_NONE;
			l->msg_off = 0;
			l->msg_len = l->len;
			have_ts = 0;
			parse_plain(p, l, now_ms, &have_ts);
		}
	} else if (!parse_logfmt(p, l, &have_ts) && !parse_access(p, l, &have_ts)) {
		parse_plain(p, l, now_ms, &have_ts);
	}
	if (!have_ts) {
		/* the time of the last line that had one: a file read long
		 * after it was written keeps its lines' times */
		l->ts_ms = p->have_last_ts ? p->last_ts : now_ms;
		l->flags |= LOG_LINE_NO_TS;
	} else {
		p->last_ts = l->ts_ms;
		p->have_last_ts = 1;
	}
}

/* ---- lines and entries ---- */

static int
starts(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(s, lit, k) == 0;
}

/* "SomeError: text" or "pkg.SomeError" ending a Python traceback. */
static int
py_exception_line(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
	    s[i] == '_' || s[i] == '.'))
		i++;
	return i > 0 && (i == n || s[i] == ':');
}

static int
is_continuation(struct logparse *p, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '{')
		return 0;	/* blank, or a JSON object (indented or not) */
	if (i > 0)
		return 1;
	if (starts(s, n, "at ") || starts(s, n, "Caused by:") || starts(s, n, "...") ||
	    starts(s, n, "Traceback (most recent call last):")) {
		if (s[0] == 'T')
			p->py_tb = 1;
		return 1;
	}
	if (p->py_tb) {
		p->py_tb = 0;
		if (starts(s, n, "During handling") || starts(s, n, "The above exception"))
			return 1;
		return py_exception_line(s, n);
	}
	return 0;
}

static void
emit_pend(struct logparse *p)
{
	if (!p->has_pend)
		return;
	p->has_pend = 0;
	p->py_tb = 0;
	p->lines_out++;
	p->emit(&p->pl, p->ud);
}

static uint32_t
sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* One input line S (N bytes examined of ORIG received). */
static void
line(struct logparse *p, const char *s, size_t n, uint64_t orig, int64_t now_ms)
{
	struct log_line *l = &p->pl;
	size_t used, w;
	uint32_t flags = 0;

	if (n > 0 && n == orig && s[n - 1] == '\r') {
		n--;
		orig--;
	}
	p->lines_in++;
	if (p->o.join && p->has_pend && p->joined < LOGPARSE_MAX_JOIN &&
	    is_continuation(p, s, n)) {
		int msg_to_end = l->msg_off + l->msg_len == l->len;

		p->joined++;
		l->flags |= LOG_LINE_JOINED;
		l->orig_len = sat32((uint64_t)l->orig_len + 1 + orig);
		if (l->len + 1 < p->o.max_line) {
			p->pend[l->len] = '\n';
			w = sanitize(s, n, p->pend + l->len + 1, p->o.max_line - l->len - 1,
			    p->o.keep_sgr, &used, &flags);
			l->len += (uint32_t)(1 + w);
			if (used < n || orig > n)
				flags |= LOG_LINE_CUT;
		} else {
			flags |= LOG_LINE_CUT;
		}
		l->flags |= flags;
		if (msg_to_end && l->format != LOG_FMT_JSON)
			l->msg_len = l->len - l->msg_off;
		return;
	}
	emit_pend(p);
	p->py_tb = 0;
	p->joined = 0;
	memset(l, 0, sizeof *l);
	w = sanitize(s, n, p->pend, p->o.max_line, p->o.keep_sgr, &used, &flags);
	if (used < n || orig > n)
		flags |= LOG_LINE_CUT;
	l->text = p->pend;
	l->len = (uint32_t)w;
	l->orig_len = sat32(orig);
	l->flags = flags;
	l->source = p->o.source;
	recognise(p, now_ms);
	p->has_pend = 1;
	p->pend_ms = now_ms;
	if (!p->o.join)
		emit_pend(p);
	else if (n > 0 && starts(s, n, "Traceback (most recent call last):"))
		p->py_tb = 1;
}

struct logparse *
logparse_new(const struct logparse_opts *opts, logparse_emit_fn *emit, void *ud)
{
	struct logparse *p = xcalloc(1, sizeof *p);

	if (opts != NULL) {
		p->o = *opts;
	} else {
		p->o.join = 1;
	}
	if (p->o.max_line == 0)
		p->o.max_line = LOGPARSE_DEFAULT_MAX_LINE;
	if (p->o.max_line > UINT32_MAX / 2)
		p->o.max_line = UINT32_MAX / 2;
	if (p->o.join_ms <= 0)
		p->o.join_ms = LOGPARSE_DEFAULT_JOIN_MS;
	p->emit = emit;
	p->ud = ud;
	p->lim = p->o.max_line + LOGPARSE_SLACK;
	p->carry = xmalloc(p->lim);
	p->pend_cap = p->o.max_line;
	p->pend = xmalloc(p->pend_cap);
	return p;
}

void
logparse_free(struct logparse **pp)
{
	struct logparse *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	free(p->carry);
	free(p->pend);
	free(p);
	*pp = NULL;
}

void
logparse_feed(struct logparse *p, const char *buf, size_t n, int64_t now_ms)
{
	const char *nl;
	size_t len, take;

	while (n > 0) {
		nl = memchr(buf, '\n', n);
		len = nl != NULL ? (size_t)(nl - buf) : n;
		if (nl == NULL || p->carrying) {
			take = p->lim - p->carry_len < len ? p->lim - p->carry_len : len;
			memcpy(p->carry + p->carry_len, buf, take);
			p->carry_len += take;
			p->carry_orig += len;
			p->carrying = 1;
			if (nl == NULL)
				return;
			line(p, p->carry, p->carry_len, p->carry_orig, now_ms);
			p->carry_len = 0;
			p->carry_orig = 0;
			p->carrying = 0;
		} else {
			line(p, buf, len < p->lim ? len : p->lim, len, now_ms);
		}
		buf += len + 1;
		n -= len + 1;
	}
}

void
logparse_line(struct logparse *p, const char *s, size_t n, uint64_t orig_len, int64_t now_ms)
{
	if (p->carrying) {
		line(p, p->carry, p->carry_len, p->carry_orig, now_ms);
		p->carry_len = 0;
		p->carry_orig = 0;
		p->carrying = 0;
	}
	if (orig_len < n)
		orig_len = n;
	line(p, s, n < p->lim ? n : p->lim, orig_len, now_ms);
}

void
logparse_flush(struct logparse *p, int64_t now_ms)
{
	if (p->carrying) {
		line(p, p->carry, p->carry_len, p->carry_orig, now_ms);
		p->carry_len = 0;
		p->carry_orig = 0;
		p->carrying = 0;
	}
	emit_pend(p);
}

void
logparse_tick(struct logparse *p, int64_t now_ms)
{
	if (p->has_pend && now_ms >= p->pend_ms + p->o.join_ms)
		emit_pend(p);
}

int64_t
logparse_deadline(const struct logparse *p)
{
	return p->has_pend ? p->pend_ms + p->o.join_ms : -1;
}

uint64_t
logparse_lines_out(const struct logparse *p)
{
	return p->lines_out;
}

uint64_t
logparse_lines_in(const struct logparse *p)
{
	return p->lines_in;
}

/* ---- structured fields ---- */

static int
json_lookup(const char *s, size_t n, size_t start, const char *key, size_t klen,
    const char **val, size_t *vlen)
{
	size_t pos = start + 1;
	struct member m;

	while (json_member(s, n, &pos, &m)) {
		if (m.klen == klen && memcmp(m.key, key, klen) == 0) {
			*val = m.val;
			*vlen = m.vlen;
			return 1;
		}
		/* "a.b": descend into member a */
		if (!m.is_str && m.vlen > 0 && m.val[0] == '{' && m.klen < klen &&
		    key[m.klen] == '.' && memcmp(m.key, key, m.klen) == 0 &&
		    json_lookup(m.val, m.vlen, 0, key + m.klen + 1, klen - m.klen - 1, val,
		    vlen))
			return 1;
	}
	return 0;
}

int
logparse_field(const struct log_line *l, const char *key, size_t klen, const char **val,
    size_t *vlen)
{
	const char *s = l->text;
	size_t n = l->len, i = 0, pos = 0;
	struct member m;

	if (l->format == LOG_FMT_JSON) {
		/* only the first line of a joined entry is the object */
		const char *nl = memchr(s, '\n', n);

		if (nl != NULL)
			n = (size_t)(nl - s);
		while (i < n && s[i] == ' ')
			i++;
		return i < n && json_lookup(s, n, i, key, klen, val, vlen);
	}
	if (l->format == LOG_FMT_LOGFMT) {
		const char *nl = memchr(s, '\n', n);

		if (nl != NULL)
			n = (size_t)(nl - s);
		while (logfmt_pair(s, n, &pos, &m))
			if (m.klen == klen && memcmp(m.key, key, klen) == 0) {
				*val = m.val;
				*vlen = m.vlen;
				return 1;
			}
	}
	return 0;
}
