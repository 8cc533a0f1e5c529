/* text.c - UTF-8 and sanitising of untrusted text.
 *
 * Everything that came from a network, a log or a config reaches the screen
 * through here or through the canvas, which both refuse to pass C0/C1
 * controls: an ESC in a log line is drawn as a visible ␛, never sent.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "signalbox/text.h"
#include "signalbox/xalloc.h"

size_t
text_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		*cp = TEXT_REPLACEMENT;
		return 1;
	}
	if (n < len) {
		*cp = TEXT_REPLACEMENT;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = TEXT_REPLACEMENT;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff)) {
		*cp = TEXT_REPLACEMENT;
		return 1;
	}
	*cp = c;
	return len;
}

size_t
text_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = TEXT_REPLACEMENT;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return text_encode(TEXT_REPLACEMENT, out);
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

int
text_cp_is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

int
text_cp_width(uint32_t cp)
{
	int w;

	if (cp < 0x7f)
		return 1;
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		return 1;
	return w > 2 ? 2 : w;
}

uint32_t
text_control_picture(uint32_t cp, int ascii)
{
	if (ascii)
		return '?';
	if (cp < 0x20)
		return 0x2400 + cp;
	if (cp == 0x7f)
		return 0x2421;
	return TEXT_REPLACEMENT;
}

char *
text_sanitize(const char *src, size_t n, int keep_newlines)
{
	/* worst case: every byte becomes a 3-byte picture */
	char *out = xmalloc(n * 3 + 1), *o = out;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = text_decode(src + i, n - i, &cp);
		i += len;
		if (cp == '\t') {
			*o++ = ' ';
			continue;
		}
		if (cp == '\n' && keep_newlines) {
			*o++ = '\n';
			continue;
		}
		if (cp == '\r' && keep_newlines)
			continue;
		if (cp == '\n')
			cp = 0x23ce;	/* ⏎ */
		else if (text_cp_is_control(cp))
			cp = text_control_picture(cp, 0);
		o += text_encode(cp, o);
	}
	*o = '\0';
	return out;
}
