/* logfilter.c - the filter language: lexer, parser, matcher, scans.
 *
 * A compiled filter is a small tree in one array.  Plain terms and
 * phrases are searched case-insensitively (ASCII) with a first/last byte
 * SSE2 candidate filter (16 positions per step) and a byte compare of the
 * candidates; regexes are PCRE2, JIT-compiled, with one match block per
 * regex reused for every line.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "signalbox/err.h"
#include "signalbox/logfilter.h"
#include "signalbox/logparse.h"
#include "signalbox/logring.h"
#include "signalbox/xalloc.h"

enum node_kind {
	NODE_TRUE,
	NODE_AND,
	NODE_OR,
	NODE_NOT,
	NODE_TERM,	/* plain term or phrase */
	NODE_REGEX,
	NODE_LEVEL,
	NODE_FIELD,
	NODE_SOURCE,
};

enum cmp_op { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EXISTS };

struct node {
	enum node_kind kind;
	int a, b;		/* children (AND, OR: both; NOT: a) */
	char *lit;		/* TERM: lowercased needle; FIELD/SOURCE: value */
	size_t len;
	char *key;		/* FIELD */
	size_t klen;
	enum cmp_op op;		/* LEVEL, FIELD */
	int level;
	double num;
	pcre2_code *re;
	pcre2_match_data *md;
	int jit;
	unsigned char *srcmask;	/* SOURCE: bit per source index */
	size_t p1, p2;		/* TERM: rarest needle positions */
};

struct logfilter {
	char *expr;
	struct node *nodes;
	size_t nnodes, cap;
	int root;
	int has_source;
	size_t bound_sources;
	const struct logring *bound;
};

/* ---- case-insensitive search ---- */

static const unsigned char *
fold_table(void)
{
	static unsigned char t[256];
	static int ready;
	int i;

	if (!ready) {
		for (i = 0; i < 256; i++)
			t[i] = (unsigned char)(i >= 'A' && i <= 'Z' ? i + 32 : i);
		ready = 1;
	}
	return t;
}

static int
ci_eq(const unsigned char *a, const unsigned char *lo, size_t m, const unsigned char *t)
{
	size_t i;

	for (i = 0; i < m; i++)
		if (t[a[i]] != lo[i])
			return 0;
	return 1;
}

static unsigned char
upper_of(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

/* How common byte C is in log text (higher = more common): the two
 * rarest bytes of a needle are the ones the vector loop looks for. */
static int
byte_rank(unsigned char c)
{
	static const char freq[] = "etaoinsrhldcumfpgwybvkxjqz";
	const char *p;

	if (c == ' ')
		return 40;
	if (c >= 'a' && c <= 'z' && (p = strchr(freq, c)) != NULL)
		return 30 - (int)(p - freq);
	if (c >= '0' && c <= '9')
		return 12;
	return 2;
}

/* The two rarest positions of needle LO (M >= 2 bytes), P1 < P2. */
static void
rare_pair(const unsigned char *lo, size_t m, size_t *p1, size_t *p2)
{
	size_t i, a = 0, b = m - 1;

	for (i = 0; i < m; i++)
		if (byte_rank(lo[i]) < byte_rank(lo[a]))
			a = i;
	b = a == m - 1 ? 0 : m - 1;
	for (i = 0; i < m; i++)
		if (i != a && byte_rank(lo[i]) < byte_rank(lo[b]))
			b = i;
	*p1 = a < b ? a : b;
	*p2 = a < b ? b : a;
}

/* First occurrence of lowercased needle LO (M bytes) in H (N bytes),
 * case-insensitively; -1 when absent.  P1 < P2 are the needle positions
 * the vector loop tests first (rare_pair), ignored when M < 2. */
static long
ci_find2(const char *hay, size_t n, const char *needle, size_t m, size_t p1, size_t p2)
{
	const unsigned char *h = (const unsigned char *)hay;
	const unsigned char *lo = (const unsigned char *)needle;
	const unsigned char *t = fold_table();
	size_t i = 0;

	if (m == 0)
		return 0;
	if (m > n)
		return -1;
#ifdef __SSE2__
	if (m >= 2) {
		__m128i f1 = _mm_set1_epi8((char)lo[p1]), f2 = _mm_set1_epi8((char)upper_of(lo[p1]));
		__m128i l1 = _mm_set1_epi8((char)lo[p2]);
		__m128i l2 = _mm_set1_epi8((char)upper_of(lo[p2]));

		for (; i + m - 1 + 16 <= n; i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(h + i + p1));
			__m128i y = _mm_loadu_si128((const __m128i *)(h + i + p2));
			__m128i c = _mm_and_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(x, f1), _mm_cmpeq_epi8(x, f2)),
			    _mm_or_si128(_mm_cmpeq_epi8(y, l1), _mm_cmpeq_epi8(y, l2)));
			unsigned mask = (unsigned)_mm_movemask_epi8(c);

			while (mask != 0) {
				unsigned bit = (unsigned)__builtin_ctz(mask);

				if (ci_eq(h + i + bit, lo, m, t))
					return (long)(i + bit);
				mask &= mask - 1;
			}
		}
	}
#else
	(void)p1;
	(void)p2;
#endif
	for (; i + m <= n; i++)
		if (t[h[i]] == lo[0] && ci_eq(h + i + 1, lo + 1, m - 1, t))
			return (long)i;
	return -1;
}

static long
ci_find(const char *hay, size_t n, const char *needle, size_t m)
{
	return ci_find2(hay, n, needle, m, 0, m > 0 ? m - 1 : 0);
}

/* ---- building ---- */

static int
node_add(struct logfilter *f, enum node_kind kind)
{
	struct node *nd;

	if (f->nnodes == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->nodes = xreallocarray(f->nodes, f->cap, sizeof *f->nodes);
	}
	nd = &f->nodes[f->nnodes];
	memset(nd, 0, sizeof *nd);
	nd->kind = kind;
	nd->a = nd->b = -1;
	return (int)f->nnodes++;
}

static void
node_fini(struct node *nd)
{
	free(nd->lit);
	free(nd->key);
	free(nd->srcmask);
	if (nd->md != NULL)
		pcre2_match_data_free(nd->md);
	if (nd->re != NULL)
		pcre2_code_free(nd->re);
}

void
logfilter_free(struct logfilter **fp)
{
	struct logfilter *f;
	size_t i;

	if (fp == NULL || *fp == NULL)
		return;
	f = *fp;
	for (i = 0; i < f->nnodes; i++)
		node_fini(&f->nodes[i]);
	free(f->nodes);
	free(f->expr);
	free(f);
	*fp = NULL;
}

/* ---- lexer ---- */

enum tok_kind {
	TOK_END, TOK_LPAREN, TOK_RPAREN, TOK_NOT, TOK_AND, TOK_OR,
	TOK_WORD, TOK_PHRASE, TOK_REGEX, TOK_ATTR,
};

struct tok {
	enum tok_kind kind;
	size_t pos;		/* byte offset in the expression */
	char *text;		/* WORD, PHRASE, REGEX: unescaped; ATTR: value */
	size_t len;
	char *key;		/* ATTR */
	size_t klen;
	unsigned flags;		/* REGEX: PCRE2 options */
	int quoted;		/* ATTR value was quoted */
};

struct lexer {
	const char *s;
	size_t n, i;
	struct tok t;
	struct err *e;
	int failed;
};

static int fail(struct lexer *lx, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct lexer *lx, size_t pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (lx->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(lx->e, ERR_PARSE, "filter:1:%zu: %s", pos + 1, msg);
	lx->failed = 1;
	return -1;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
tok_clear(struct tok *t)
{
	free(t->text);
	free(t->key);
	memset(t, 0, sizeof *t);
}

/* A quoted string at S[I] == '"': unescape \" and \\ into *OUT; returns the
 * index after the closing quote, or 0 when unclosed. */
static size_t
quoted(const char *s, size_t n, size_t i, char **out, size_t *len)
{
	char *o = xmalloc(n - i + 1);
	size_t k = 0;

	for (i++; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
			o[k++] = s[++i];
			continue;
		}
		if (s[i] == '"') {
			o[k] = '\0';
			*out = o;
			*len = k;
			return i + 1;
		}
		o[k++] = s[i];
	}
	free(o);
	return 0;
}

static int
lex(struct lexer *lx)
{
	const char *s = lx->s;
	size_t n = lx->n, i = lx->i, k;
	struct tok *t = &lx->t;

	tok_clear(t);
	while (i < n && is_space((unsigned char)s[i]))
		i++;
	t->pos = i;
	if (i >= n) {
		t->kind = TOK_END;
		lx->i = i;
		return 0;
	}
	switch (s[i]) {
	case '(':
		t->kind = TOK_LPAREN;
		lx->i = i + 1;
		return 0;
	case ')':
		t->kind = TOK_RPAREN;
		lx->i = i + 1;
		return 0;
	case '-':
		if (i + 1 >= n || is_space((unsigned char)s[i + 1]))
			return fail(lx, i, "nothing after '-' (write -term to leave out lines "
			    "with term)");
		t->kind = TOK_NOT;
		lx->i = i + 1;
		return 0;
	case '"':
		t->kind = TOK_PHRASE;
		k = quoted(s, n, i, &t->text, &t->len);
		if (k == 0)
			return fail(lx, i, "unclosed quote (add a closing \")");
		if (t->len == 0)
			return fail(lx, i, "empty phrase \"\" (put words between the quotes)");
		lx->i = k;
		return 0;
	case '/': {
		char *o = xmalloc(n - i + 1);
		size_t m = 0;

		for (k = i + 1; k < n; k++) {
			if (s[k] == '\\' && k + 1 < n) {
				if (s[k + 1] != '/')
					o[m++] = '\\';
				o[m++] = s[++k];
				continue;
			}
			if (s[k] == '/')
				break;
			o[m++] = s[k];
		}
		o[m] = '\0';
		t->kind = TOK_REGEX;
		t->text = o;
		t->len = m;
		if (k >= n)
			return fail(lx, i, "unclosed regex (add a closing /)");
		if (m == 0)
			return fail(lx, i, "empty regex // (write /pattern/)");
		for (k++; k < n && !is_space((unsigned char)s[k]) && s[k] != ')'; k++) {
			if (s[k] == 'i')
				t->flags |= PCRE2_CASELESS;
			else if (s[k] == 'x')
				t->flags |= PCRE2_EXTENDED;
			else if (s[k] == 's')
				t->flags |= PCRE2_DOTALL;
			else {
				char c[2] = { s[k], '\0' };

				return fail(lx, k, "unknown regex flag '%s' (i, s and x are known)",
				    c);
			}
		}
		lx->i = k;
		return 0;
	}
	case '@':
		for (k = i + 1; k < n && !is_space((unsigned char)s[k]) && s[k] != ':' &&
		    s[k] != '(' && s[k] != ')'; k++)
			;
		if (k == i + 1)
			return fail(lx, i, "'@' needs a field name (write @level:error or "
			    "@field:value)");
		t->key = xstrndup(s + i + 1, k - i - 1);
		t->klen = k - i - 1;
		if (k >= n || s[k] != ':')
			return fail(lx, k, "expected ':' after @%s (write @field:value)", t->key);
		k++;
		t->kind = TOK_ATTR;
		if (k < n && s[k] == '"') {
			size_t q = quoted(s, n, k, &t->text, &t->len);

			if (q == 0)
				return fail(lx, k, "unclosed quote (add a closing \")");
			t->quoted = 1;
			k = q;
		} else {
			size_t v = k;

			while (k < n && !is_space((unsigned char)s[k]) && s[k] != ')')
				k++;
			if (k == v)
				return fail(lx, v, "missing value after @%s: (write @%s:value)", t->key,
				    t->key);
			t->text = xstrndup(s + v, k - v);
			t->len = k - v;
		}
		lx->i = k;
		return 0;
	default:
		for (k = i; k < n && !is_space((unsigned char)s[k]) && s[k] != '(' &&
		    s[k] != ')'; k++)
			;
		lx->i = k;
		if (k - i == 3 && memcmp(s + i, "AND", 3) == 0) {
			t->kind = TOK_AND;
			return 0;
		}
		if (k - i == 2 && memcmp(s + i, "OR", 2) == 0) {
			t->kind = TOK_OR;
			return 0;
		}
		if (k - i == 3 && memcmp(s + i, "NOT", 3) == 0) {
			t->kind = TOK_NOT;
			return 0;
		}
		t->kind = TOK_WORD;
		t->text = xstrndup(s + i, k - i);
		t->len = k - i;
		return 0;
	}
}

/* ---- parser ---- */

struct parser {
	struct lexer lx;
	struct logfilter *f;
	int depth;
};

static int parse_or(struct parser *ps);

static int
make_term(struct parser *ps)
{
	struct tok *t = &ps->lx.t;
	int id = node_add(ps->f, NODE_TERM);
	struct node *nd = &ps->f->nodes[id];
	size_t i;

	nd->lit = t->text;
	nd->len = t->len;
	t->text = NULL;
	for (i = 0; i < nd->len; i++)
		nd->lit[i] = (char)fold_table()[(unsigned char)nd->lit[i]];
	if (nd->len >= 2)
		rare_pair((const unsigned char *)nd->lit, nd->len, &nd->p1, &nd->p2);
	return id;
}

static int
make_regex(struct parser *ps)
{
	struct tok *t = &ps->lx.t;
	int id = node_add(ps->f, NODE_REGEX), ec;
	struct node *nd = &ps->f->nodes[id];
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[256];

	nd->re = pcre2_compile((PCRE2_SPTR)t->text, t->len,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | t->flags, &ec, &off, NULL);
	if (nd->re == NULL) {
		char buf[400];

		pcre2_get_error_message(ec, msg, sizeof msg);
		snprintf(buf, sizeof buf, "bad regex: %s (at character %zu of the pattern)",
		    (const char *)msg, (size_t)off + 1);
		return fail(&ps->lx, t->pos, "%s", buf);
	}
	nd->jit = pcre2_jit_compile(nd->re, PCRE2_JIT_COMPLETE) == 0;
	nd->md = pcre2_match_data_create_from_pattern(nd->re, NULL);
	return id;
}

static int
parse_cmp(const char *v, size_t *skip)
{
	if (v[0] == '>' && v[1] == '=') {
		*skip = 2;
		return CMP_GE;
	}
	if (v[0] == '<' && v[1] == '=') {
		*skip = 2;
		return CMP_LE;
	}
	if (v[0] == '>') {
		*skip = 1;
		return CMP_GT;
	}
	if (v[0] == '<') {
		*skip = 1;
		return CMP_LT;
	}
	*skip = 0;
	return CMP_EQ;
}

static int
make_attr(struct parser *ps)
{
	struct tok *t = &ps->lx.t;
	size_t skip = 0;
	enum cmp_op op = t->quoted ? CMP_EQ : (enum cmp_op)parse_cmp(t->text, &skip);
	const char *v = t->text + skip;
	size_t vlen = t->len - skip;
	int id;
	struct node *nd;

	if (strcmp(t->key, "level") == 0) {
		enum log_level lv = logparse_level_word(v, vlen);

		if (lv == LOG_LEVEL_NONE && !(vlen == 4 && memcmp(v, "none", 4) == 0))
			return fail(&ps->lx, t->pos, "unknown level '%s' (use trace, debug, info, "
			    "notice, warn, error or fatal; @level:>=warn for warn and worse)", v);
		id = node_add(ps->f, NODE_LEVEL);
		nd = &ps->f->nodes[id];
		nd->op = op;
		nd->level = (int)lv;
		return id;
	}
	if (strcmp(t->key, "source") == 0) {
		id = node_add(ps->f, NODE_SOURCE);
		nd = &ps->f->nodes[id];
		nd->lit = xstrndup(v, vlen);
		nd->len = vlen;
		ps->f->has_source = 1;
		return id;
	}
	id = node_add(ps->f, NODE_FIELD);
	nd = &ps->f->nodes[id];
	nd->key = t->key;
	nd->klen = t->klen;
	t->key = NULL;
	if (!t->quoted && vlen == 1 && v[0] == '*') {
		nd->op = CMP_EXISTS;
		return id;
	}
	nd->op = op;
	if (op != CMP_EQ) {
		char *end;

		nd->num = strtod(v, &end);
		if (vlen == 0 || *end != '\0')
			return fail(&ps->lx, t->pos + 2 + t->klen + skip, "'%s' is not a number "
			    "(>, >=, < and <= compare numbers: @status:>=500)", v);
		return id;
	}
	nd->lit = xstrndup(v, vlen);
	nd->len = vlen;
	return id;
}

static int
parse_unary(struct parser *ps)
{
	struct lexer *lx = &ps->lx;
	size_t pos = lx->t.pos;
	int id, child;

	if (lx->failed)
		return -1;
	if (++ps->depth > 200)
		return fail(lx, pos, "too deeply nested (more than 200 levels)");
	switch (lx->t.kind) {
	case TOK_NOT:
		if (lex(lx) < 0)
			return -1;
		if (lx->t.kind == TOK_END || lx->t.kind == TOK_RPAREN || lx->t.kind == TOK_OR ||
		    lx->t.kind == TOK_AND)
			return fail(lx, pos, "nothing to negate after '-' or NOT");
		child = parse_unary(ps);
		if (child < 0)
			return -1;
		id = node_add(ps->f, NODE_NOT);
		ps->f->nodes[id].a = child;
		ps->depth--;
		return id;
	case TOK_LPAREN:
		if (lex(lx) < 0)
			return -1;
		if (lx->t.kind == TOK_RPAREN)
			return fail(lx, pos, "empty parentheses (put a term inside or remove "
			    "them)");
		if (lx->t.kind == TOK_END)
			return fail(lx, pos, "unclosed parenthesis (add a ')')");
		id = parse_or(ps);
		if (id < 0)
			return -1;
		if (lx->t.kind != TOK_RPAREN)
			return fail(lx, pos, "unclosed parenthesis (add a ')')");
		if (lex(lx) < 0)
			return -1;
		ps->depth--;
		return id;
	case TOK_RPAREN:
		return fail(lx, pos, "unexpected ')' (remove it or add a '(' before it)");
	case TOK_AND:
	case TOK_OR:
		return fail(lx, pos, "%s needs a term on each side",
		    lx->t.kind == TOK_AND ? "AND" : "OR");
	case TOK_END:
		return fail(lx, pos, "expression ends too early (add a term)");
	case TOK_WORD:
	case TOK_PHRASE:
		id = make_term(ps);
		break;
	case TOK_REGEX:
		id = make_regex(ps);
		break;
	case TOK_ATTR:
		id = make_attr(ps);
		break;
	default:
		return -1;
	}
	if (id < 0 || lex(lx) < 0)
		return -1;
	ps->depth--;
	return id;
}

static int
parse_and(struct parser *ps)
{
	struct lexer *lx = &ps->lx;
	int left = parse_unary(ps), right, id;

	while (left >= 0) {
		size_t pos = lx->t.pos;

		if (lx->t.kind == TOK_AND) {
			if (lex(lx) < 0)
				return -1;
			if (lx->t.kind == TOK_END || lx->t.kind == TOK_RPAREN ||
			    lx->t.kind == TOK_OR || lx->t.kind == TOK_AND)
				return fail(lx, pos, "AND needs a term on each side");
		} else if (lx->t.kind == TOK_END || lx->t.kind == TOK_RPAREN ||
		    lx->t.kind == TOK_OR) {
			break;
		}
		right = parse_unary(ps);
		if (right < 0)
			return -1;
		id = node_add(ps->f, NODE_AND);
		ps->f->nodes[id].a = left;
		ps->f->nodes[id].b = right;
		left = id;
	}
	return left;
}

static int
parse_or(struct parser *ps)
{
	struct lexer *lx = &ps->lx;
	int left = parse_and(ps), right, id;

	while (left >= 0 && lx->t.kind == TOK_OR) {
		size_t pos = lx->t.pos;

		if (lex(lx) < 0)
			return -1;
		if (lx->t.kind == TOK_END || lx->t.kind == TOK_RPAREN || lx->t.kind == TOK_OR ||
		    lx->t.kind == TOK_AND)
			return fail(lx, pos, "OR needs a term on each side");
		right = parse_and(ps);
		if (right < 0)
			return -1;
		id = node_add(ps->f, NODE_OR);
		ps->f->nodes[id].a = left;
		ps->f->nodes[id].b = right;
		left = id;
	}
	return left;
}

struct logfilter *
logfilter_compile(const char *expr, struct err *e)
{
	struct logfilter *f = xcalloc(1, sizeof *f);
	struct parser ps;

	if (expr == NULL)
		expr = "";
	f->expr = xstrdup(expr);
	memset(&ps, 0, sizeof ps);
	ps.f = f;
	ps.lx.s = f->expr;
	ps.lx.n = strlen(f->expr);
	ps.lx.e = e;
	if (lex(&ps.lx) < 0)
		goto bad;
	if (ps.lx.t.kind == TOK_END) {
		f->root = node_add(f, NODE_TRUE);
		tok_clear(&ps.lx.t);
		return f;
	}
	f->root = parse_or(&ps);
	if (f->root < 0)
		goto bad;
	if (ps.lx.t.kind == TOK_RPAREN) {
		fail(&ps.lx, ps.lx.t.pos, "unexpected ')' (remove it or add a '(' before "
		    "it)");
		goto bad;
	}
	tok_clear(&ps.lx.t);
	return f;
bad:
	tok_clear(&ps.lx.t);
	logfilter_free(&f);
	return NULL;
}

int
logfilter_is_empty(const struct logfilter *f)
{
	return f == NULL || f->nodes[f->root].kind == NODE_TRUE;
}

const char *
logfilter_expr(const struct logfilter *f)
{
	return f->expr;
}

void
logfilter_bind(struct logfilter *f, const struct logring *ring)
{
	size_t i, k, nsrc = logring_source_count(ring);

	f->bound = ring;
	f->bound_sources = nsrc;
	if (!f->has_source)
		return;
	for (i = 0; i < f->nnodes; i++) {
		struct node *nd = &f->nodes[i];

		if (nd->kind != NODE_SOURCE)
			continue;
		free(nd->srcmask);
		nd->srcmask = xcalloc((LOGRING_MAX_SOURCES + 7) / 8, 1);
		for (k = 0; k < nsrc; k++) {
			const struct logring_source *src = logring_source_get(ring, k);

			if (strcasecmp(src->name, nd->lit) == 0)
				nd->srcmask[k / 8] |= (unsigned char)(1u << (k % 8));
		}
	}
}

/* ---- matching ---- */

static int
ci_equal(const char *a, size_t an, const char *b, size_t bn)
{
	const unsigned char *t = fold_table();
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (t[(unsigned char)a[i]] != t[(unsigned char)b[i]])
			return 0;
	return 1;
}

static int
match_field(const struct node *nd, const struct log_line *l)
{
	const char *v;
	size_t vl;
	char buf[64], *end;
	double x;

	if (!logparse_field(l, nd->key, nd->klen, &v, &vl))
		return 0;
	switch (nd->op) {
	case CMP_EXISTS:
		return 1;
	case CMP_EQ:
		return ci_equal(v, vl, nd->lit, nd->len);
	default:
		if (vl == 0 || vl >= sizeof buf)
			return 0;
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		x = strtod(buf, &end);
		if (*end != '\0')
			return 0;
		return nd->op == CMP_LT ? x < nd->num : nd->op == CMP_LE ? x <= nd->num :
		    nd->op == CMP_GT ? x > nd->num : x >= nd->num;
	}
}

static int
eval(const struct logfilter *f, int id, const struct log_line *l)
{
	const struct node *nd = &f->nodes[id];

	switch (nd->kind) {
	case NODE_TRUE:
		return 1;
	case NODE_AND:
		return eval(f, nd->a, l) && eval(f, nd->b, l);
	case NODE_OR:
		return eval(f, nd->a, l) || eval(f, nd->b, l);
	case NODE_NOT:
		return !eval(f, nd->a, l);
	case NODE_TERM:
		return ci_find2(l->text, l->len, nd->lit, nd->len, nd->p1, nd->p2) >= 0;
	case NODE_REGEX:
		if (nd->jit)
			return pcre2_jit_match(nd->re, (PCRE2_SPTR)l->text, l->len, 0, 0, nd->md,
			    NULL) >= 0;
		return pcre2_match(nd->re, (PCRE2_SPTR)l->text, l->len, 0, 0, nd->md,
		    NULL) >= 0;
	case NODE_LEVEL:
		switch (nd->op) {
		case CMP_LT: return l->level < nd->level;
		case CMP_LE: return l->level <= nd->level;
		case CMP_GT: return l->level > nd->level;
		case CMP_GE: return l->level >= nd->level;
		default: return l->level == nd->level;
		}
	case NODE_FIELD:
		return match_field(nd, l);
	case NODE_SOURCE:
		if (nd->srcmask == NULL || l->source >= LOGRING_MAX_SOURCES)
			return 0;
		return (nd->srcmask[l->source / 8] >> (l->source % 8)) & 1;
	}
	return 0;
}

int
logfilter_match(const struct logfilter *f, const struct log_line *line)
{
	if (f == NULL)
		return 1;
	return eval(f, f->root, line);
}

/* ---- highlighting ---- */

struct spans {
	struct logfilter_span *v;
	size_t n, cap;
	size_t found;
};

static void
span_add(struct spans *sp, size_t off, size_t len)
{
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 16;
		sp->v = xreallocarray(sp->v, sp->cap, sizeof *sp->v);
	}
	sp->v[sp->n].off = (uint32_t)off;
	sp->v[sp->n].len = (uint32_t)len;
	sp->n++;
}

static void
collect(const struct logfilter *f, int id, int neg, const struct log_line *l,
    struct spans *sp)
{
	const struct node *nd = &f->nodes[id];
	size_t at = 0;

	switch (nd->kind) {
	case NODE_AND:
	case NODE_OR:
		collect(f, nd->a, neg, l, sp);
		collect(f, nd->b, neg, l, sp);
		return;
	case NODE_NOT:
		collect(f, nd->a, !neg, l, sp);
		return;
	case NODE_TERM:
		if (neg || nd->len == 0)
			return;
		while (at < l->len) {
			long k = ci_find(l->text + at, l->len - at, nd->lit, nd->len);

			if (k < 0)
				break;
			span_add(sp, at + (size_t)k, nd->len);
			at += (size_t)k + nd->len;
		}
		return;
	case NODE_REGEX:
		if (neg)
			return;
		while (at <= l->len) {
			int rc = pcre2_match(nd->re, (PCRE2_SPTR)l->text, l->len, at, 0, nd->md,
			    NULL);
			PCRE2_SIZE *ov;

			if (rc < 0)
				break;
			ov = pcre2_get_ovector_pointer(nd->md);
			if (ov[1] > ov[0])
				span_add(sp, ov[0], ov[1] - ov[0]);
			at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
			/* stay on a character boundary */
			while (at < l->len && ((unsigned char)l->text[at] & 0xc0) == 0x80)
				at++;
		}
		return;
	default:
		return;
	}
}

static int
span_cmp(const void *a, const void *b)
{
	const struct logfilter_span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off ? 1 : 0;
}

size_t
logfilter_highlight(const struct logfilter *f, const struct log_line *line,
    struct logfilter_span *out, size_t max)
{
	struct spans sp = { NULL, 0, 0, 0 };
	size_t i, n = 0;

	if (f == NULL)
		return 0;
	collect(f, f->root, 0, line, &sp);
	if (sp.n > 1)
		qsort(sp.v, sp.n, sizeof *sp.v, span_cmp);
	for (i = 0; i < sp.n; i++) {
		if (n > 0 && sp.v[i].off <= sp.v[n - 1].off + sp.v[n - 1].len) {
			uint32_t end = sp.v[i].off + sp.v[i].len;

			if (end > sp.v[n - 1].off + sp.v[n - 1].len)
				sp.v[n - 1].len = end - sp.v[n - 1].off;
			continue;
		}
		sp.v[n++] = sp.v[i];
	}
	for (i = 0; i < n && i < max; i++)
		out[i] = sp.v[i];
	free(sp.v);
	return n;
}

/* ---- scans ---- */

void
logfilter_cursor_init(struct logfilter_cursor *cur, uint64_t from_seq,
    enum logfilter_dir dir)
{
	memset(cur, 0, sizeof *cur);
	cur->seq = from_seq;
	cur->dir = dir == LOGFILTER_BACKWARD ? LOGFILTER_BACKWARD : LOGFILTER_FORWARD;
}

int
logfilter_scan(struct logfilter *f, const struct logring *ring,
    struct logfilter_cursor *cur, size_t budget, logfilter_hit_fn *fn, void *ud)
{
	uint64_t first = logring_first_seq(ring), end = logring_end_seq(ring);
	struct log_line l;

	if (f != NULL && f->has_source &&
	    (f->bound != ring || f->bound_sources != logring_source_count(ring)))
		logfilter_bind(f, ring);
	if (cur->dir == LOGFILTER_FORWARD) {
		if (cur->seq < first) {
			cur->skipped += first - cur->seq;
			cur->seq = first;
		}
		cur->done = 0;
		while (cur->seq < end) {
			if (budget == 0)
				return 0;
			budget--;
			logring_get_seq(ring, cur->seq, &l);
			cur->seq++;
			cur->scanned++;
			if (f == NULL || eval(f, f->root, &l)) {
				cur->matched++;
				if (fn != NULL && fn(&l, ud) != 0) {
					cur->done = cur->seq >= end;
					return cur->done;
				}
			}
		}
		cur->done = 1;
		return 1;
	}
	if (cur->done)
		return 1;
	if (end == first || cur->seq < first) {
		cur->done = 1;
		return 1;
	}
	if (cur->seq >= end)
		cur->seq = end - 1;
	for (;;) {
		if (budget == 0)
			return 0;
		budget--;
		logring_get_seq(ring, cur->seq, &l);
		cur->scanned++;
		if (cur->seq == first)
			cur->done = 1;
		else
			cur->seq--;
		if (f == NULL || eval(f, f->root, &l)) {
			cur->matched++;
			if (fn != NULL && fn(&l, ud) != 0)
				return cur->done;
		}
		if (cur->done)
			return 1;
	}
}

struct find_ud {
	uint64_t seq;
	int found;
};

static int
find_hit(const struct log_line *l, void *ud)
{
	struct find_ud *fu = ud;

	fu->seq = l->seq;
	fu->found = 1;
	return 1;
}

int
logfilter_find(struct logfilter *f, const struct logring *ring,
    struct logfilter_cursor *cur, size_t budget, uint64_t *seq)
{
	struct find_ud fu = { 0, 0 };
	int done = logfilter_scan(f, ring, cur, budget, find_hit, &fu);

	if (fu.found) {
		*seq = fu.seq;
		return 1;
	}
	return done ? 0 : -1;
}
