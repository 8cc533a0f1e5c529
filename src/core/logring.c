/* logring.c - the bounded ring of log lines (see logring.h).
 *
 * Layout: BUF is a circular byte buffer of records, each an 8-byte aligned
 * struct rec followed by the text; a record never wraps (when it does not
 * fit before the end, the writer goes back to offset 0 and the tail is
 * dead space until it is overwritten).  IDX is a circular array with the
 * offset of each live record in 8-byte units, oldest at IDX[HEAD].  A
 * record is at least sizeof(struct rec) bytes, so IDX needs at most
 * buffer / sizeof(struct rec) slots: budget = buffer + 4 * slots.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "signalbox/logring.h"
#include "signalbox/xalloc.h"

struct rec {
	int64_t ts_ms;
	int64_t ts_key;		/* running maximum of ts_ms in arrival order */
	uint32_t len;
	uint32_t msg_off;
	uint32_t msg_len;
	uint32_t orig_len;
	uint32_t flags;
	uint16_t source;
	uint8_t level;
	uint8_t format;
};

#define REC_ALIGN 8u
#define REC_SIZE (sizeof(struct rec))

struct logring {
	char *buf;
	size_t cap;		/* bytes in BUF, a multiple of REC_ALIGN */
	uint32_t *idx;
	size_t slots;		/* entries in IDX */
	size_t head;		/* IDX slot of the oldest line */
	size_t count;		/* live lines */
	size_t w;		/* byte offset where the next record goes */
	size_t used;		/* bytes of live records (dead tail excluded) */
	uint64_t first_seq;	/* seq of IDX[HEAD] */
	int64_t ts_key;		/* running maximum so far */
	size_t budget;
	uint64_t total, dropped, cut;
	uint64_t by_level[LOG_LEVEL_COUNT];
	struct logring_source *src;
	size_t nsrc, src_cap;
};

static size_t
rec_bytes(uint32_t len)
{
	return (REC_SIZE + len + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

static const struct rec *
rec_at(const struct logring *r, size_t pos)
{
	size_t slot = r->head + pos;

	if (slot >= r->slots)
		slot -= r->slots;
	return (const struct rec *)(r->buf + (size_t)r->idx[slot] * REC_ALIGN);
}

/* Large, 2 MiB-aligned and marked for transparent huge pages: a ring
 * filling up then takes one page fault per 2 MiB instead of per 4 KiB
 * (most of the ingest time of a fresh ring otherwise).  Pages still become
 * resident only when written. */
static void *
big_alloc(size_t n)
{
	void *p = NULL;
	size_t align = (size_t)2 << 20;

	if (n < align)
		return xmalloc(n);
	if (posix_memalign(&p, align, n) != 0 || p == NULL)
		xalloc_die("out of memory (log ring)");
#ifdef MADV_HUGEPAGE
	madvise(p, n & ~(align - 1), MADV_HUGEPAGE);
#endif
	return p;
}

struct logring *
logring_new(size_t max_memory)
{
	struct logring *r = xcalloc(1, sizeof *r);

	if (max_memory == 0)
		max_memory = LOGRING_DEFAULT_MEMORY;
	if (max_memory < LOGRING_MIN_MEMORY)
		max_memory = LOGRING_MIN_MEMORY;
	/* 32-bit slot offsets in 8-byte units address 32 GiB */
	if (max_memory > ((size_t)32 << 30))
		max_memory = (size_t)32 << 30;
	r->budget = max_memory;
	/* cap + 4 * cap / REC_SIZE <= budget */
	r->cap = (size_t)((double)max_memory * REC_SIZE / (REC_SIZE + sizeof(uint32_t)));
	r->cap &= ~(size_t)(REC_ALIGN - 1);
	r->slots = r->cap / REC_SIZE;
	while (r->cap + r->slots * sizeof(uint32_t) > max_memory) {
		r->cap -= REC_ALIGN;
		r->slots = r->cap / REC_SIZE;
	}
	r->buf = big_alloc(r->cap);
	r->idx = big_alloc(r->slots * sizeof(uint32_t));
	r->ts_key = INT64_MIN;
	r->src_cap = 8;
	r->src = xcalloc(r->src_cap, sizeof *r->src);
	r->nsrc = 1;
	r->src[0].name[0] = '-';
	return r;
}

void
logring_free(struct logring **ring)
{
	struct logring *r;

	if (ring == NULL || *ring == NULL)
		return;
	r = *ring;
	free(r->buf);
	free(r->idx);
	free(r->src);
	free(r);
	*ring = NULL;
}

static void
drop_oldest(struct logring *r)
{
	const struct rec *rc = rec_at(r, 0);

	r->used -= rec_bytes(rc->len);
	if (rc->level < LOG_LEVEL_COUNT)
		r->by_level[rc->level]--;
	if (rc->source < r->nsrc) {
		r->src[rc->source].lines--;
		r->src[rc->source].dropped++;
	}
	r->dropped++;
	r->first_seq++;
	r->count--;
	if (++r->head == r->slots)
		r->head = 0;
}

void
logring_clear(struct logring *r)
{
	while (r->count > 0)
		drop_oldest(r);
	r->head = 0;
	r->w = 0;
	r->used = 0;
}

uint16_t
logring_source_add(struct logring *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nsrc; i++)
		if (strncmp(r->src[i].name, name, sizeof r->src[i].name - 1) == 0)
			return (uint16_t)i;
	if (r->nsrc >= LOGRING_MAX_SOURCES)
		return 0;
	if (r->nsrc == r->src_cap) {
		r->src_cap *= 2;
		r->src = xreallocarray(r->src, r->src_cap, sizeof *r->src);
	}
	memset(&r->src[r->nsrc], 0, sizeof r->src[r->nsrc]);
	strncpy(r->src[r->nsrc].name, name, sizeof r->src[r->nsrc].name - 1);
	return (uint16_t)r->nsrc++;
}

size_t
logring_source_count(const struct logring *r)
{
	return r->nsrc;
}

const struct logring_source *
logring_source_get(const struct logring *r, size_t idx)
{
	return idx < r->nsrc ? &r->src[idx] : NULL;
}

/* Make room for SIZE bytes at r->w, dropping the oldest lines as needed. */
static void
make_room(struct logring *r, size_t size)
{
	for (;;) {
		size_t h;

		if (r->count == 0) {
			r->w = 0;
			r->used = 0;
			return;
		}
		if (r->count == r->slots) {
			drop_oldest(r);
			continue;
		}
		h = (size_t)r->idx[r->head] * REC_ALIGN;
		if (h < r->w) {
			/* live bytes are [h, w): free space after w, then [0, h) */
			if (r->w + size <= r->cap)
				return;
			r->w = 0;
			continue;
		}
		/* live bytes start at h, at or after w */
		if (r->w + size <= h)
			return;
		drop_oldest(r);
	}
}

uint64_t
logring_append(struct logring *r, const struct log_line *line)
{
	uint32_t len = line->len, flags = line->flags;
	size_t size, slot;
	struct rec *rc;

	if (len > r->cap / 4) {
		/* cut at a character boundary */
		len = (uint32_t)(r->cap / 4);
		while (len > 0 && ((unsigned char)line->text[len] & 0xc0) == 0x80)
			len--;
		flags |= LOG_LINE_CUT;
		r->cut++;
	}
	size = rec_bytes(len);
	make_room(r, size);
	rc = (struct rec *)(r->buf + r->w);
	rc->ts_ms = line->ts_ms;
	if (line->ts_ms > r->ts_key)
		r->ts_key = line->ts_ms;
	rc->ts_key = r->ts_key;
	rc->len = len;
	rc->msg_off = line->msg_off <= len ? line->msg_off : len;
	rc->msg_len = line->msg_len <= len - rc->msg_off ? line->msg_len : len - rc->msg_off;
	rc->orig_len = line->orig_len;
	rc->flags = flags;
	rc->source = line->source < r->nsrc ? line->source : 0;
	rc->level = line->level < LOG_LEVEL_COUNT ? line->level : LOG_LEVEL_NONE;
	rc->format = line->format;
	if (len > 0)
		memcpy(r->buf + r->w + REC_SIZE, line->text, len);
	slot = r->head + r->count;
	if (slot >= r->slots)
		slot -= r->slots;
	r->idx[slot] = (uint32_t)(r->w / REC_ALIGN);
	r->w += size;
	r->used += size;
	r->count++;
	r->total++;
	r->by_level[rc->level]++;
	r->src[rc->source].lines++;
	r->src[rc->source].total++;
	return r->first_seq + r->count - 1;
}

size_t
logring_count(const struct logring *r)
{
	return r->count;
}

uint64_t
logring_first_seq(const struct logring *r)
{
	return r->first_seq;
}

uint64_t
logring_end_seq(const struct logring *r)
{
	return r->first_seq + r->count;
}

int
logring_get(const struct logring *r, size_t pos, struct log_line *out)
{
	const struct rec *rc;

	if (pos >= r->count)
		return -1;
	rc = rec_at(r, pos);
	out->text = (const char *)(rc + 1);
	out->len = rc->len;
	out->msg_off = rc->msg_off;
	out->msg_len = rc->msg_len;
	out->orig_len = rc->orig_len;
	out->ts_ms = rc->ts_ms;
	out->seq = r->first_seq + pos;
	out->source = rc->source;
	out->level = rc->level;
	out->format = rc->format;
	out->flags = rc->flags;
	return 0;
}

int
logring_get_seq(const struct logring *r, uint64_t seq, struct log_line *out)
{
	if (seq < r->first_seq || seq - r->first_seq >= r->count)
		return -1;
	return logring_get(r, (size_t)(seq - r->first_seq), out);
}

uint64_t
logring_find_ts(const struct logring *r, int64_t ts_ms)
{
	size_t lo = 0, hi = r->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rec_at(r, mid)->ts_key < ts_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return r->first_seq + lo;
}

void
logring_stats_get(const struct logring *r, struct logring_stats *out)
{
	memset(out, 0, sizeof *out);
	out->budget = r->budget;
	out->buffer_bytes = r->cap;
	out->index_bytes = r->slots * sizeof(uint32_t);
	out->used_bytes = r->used;
	out->lines = r->count;
	out->total = r->total;
	out->dropped = r->dropped;
	out->cut = r->cut;
	memcpy(out->by_level, r->by_level, sizeof out->by_level);
}
