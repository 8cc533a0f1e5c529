/* store.c - latest snapshot per topic and source states. */
#include <stdlib.h>
#include <string.h>

#include "signalbox/logring.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/xalloc.h"

struct store_slot {
	void *snap;
	store_free_fn *free_fn;
	uint64_t gen;
};

struct store_sub {
	store_notify_fn *fn;
	void *ud;
};

struct store {
	struct store_slot slots[STORE_TOPIC_COUNT];
	struct store_source *sources;
	size_t n_sources, cap_sources;
	struct store_sub *subs;
	size_t n_subs;
	struct logring *logs;
};

static const char *const topic_names[] = {
#define STORE_TOPIC_NAME(id, name) name,
	STORE_TOPIC_INFO(STORE_TOPIC_NAME)
#undef STORE_TOPIC_NAME
};

struct store *
store_new(void)
{
	return xcalloc(1, sizeof(struct store));
}

void
store_free(struct store **sp)
{
	struct store *s;
	size_t i;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	*sp = NULL;
	for (i = 0; i < STORE_TOPIC_COUNT; i++)
		if (s->slots[i].snap != NULL && s->slots[i].free_fn != NULL)
			s->slots[i].free_fn(s->slots[i].snap);
	logring_free(&s->logs);
	free(s->sources);
	free(s->subs);
	free(s);
}

static void
store_notify(struct store *s, enum store_topic topic)
{
	size_t i;

	for (i = 0; i < s->n_subs; i++)
		s->subs[i].fn(topic, s->subs[i].ud);
}

void
store_publish(struct store *s, enum store_topic topic, void *snap,
    store_free_fn *free_fn)
{
	struct store_slot *slot;

	if ((unsigned)topic >= STORE_TOPIC_COUNT)
		return;
	slot = &s->slots[topic];
	if (slot->snap != NULL && slot->snap != snap && slot->free_fn != NULL)
		slot->free_fn(slot->snap);
	slot->snap = snap;
	slot->free_fn = free_fn;
	slot->gen++;
	store_notify(s, topic);
}

const void *
store_get(const struct store *s, enum store_topic topic, uint64_t *gen)
{
	if ((unsigned)topic >= STORE_TOPIC_COUNT) {
		if (gen != NULL)
			*gen = 0;
		return NULL;
	}
	if (gen != NULL)
		*gen = s->slots[topic].gen;
	return s->slots[topic].snap;
}

uint64_t
store_generation(const struct store *s, enum store_topic topic)
{
	if ((unsigned)topic >= STORE_TOPIC_COUNT)
		return 0;
	return s->slots[topic].gen;
}

void
store_logs_set(struct store *s, struct logring *ring)
{
	if (s->logs != ring)
		logring_free(&s->logs);
	s->logs = ring;
	store_logs_appended(s);
}

struct logring *
store_logs(const struct store *s)
{
	return s->logs;
}

void
store_logs_appended(struct store *s)
{
	s->slots[STORE_TOPIC_LOGS].gen++;
	store_notify(s, STORE_TOPIC_LOGS);
}

void
store_subscribe(struct store *s, store_notify_fn *fn, void *ud)
{
	s->subs = xreallocarray(s->subs, s->n_subs + 1, sizeof *s->subs);
	s->subs[s->n_subs].fn = fn;
	s->subs[s->n_subs].ud = ud;
	s->n_subs++;
}

void
store_unsubscribe(struct store *s, store_notify_fn *fn, void *ud)
{
	for (size_t i = 0; i < s->n_subs; i++)
		if (s->subs[i].fn == fn && s->subs[i].ud == ud) {
			memmove(&s->subs[i], &s->subs[i + 1], (s->n_subs - i - 1) * sizeof *s->subs);
			s->n_subs--;
			return;
		}
}

static struct store_source *
store_source_get(struct store *s, const char *name)
{
	struct store_source *src;
	size_t i;

	for (i = 0; i < s->n_sources; i++)
		if (strcmp(s->sources[i].name, name) == 0)
			return &s->sources[i];
	if (s->n_sources == s->cap_sources) {
		s->cap_sources = s->cap_sources ? s->cap_sources * 2 : 8;
		s->sources = xreallocarray(s->sources, s->cap_sources,
		    sizeof *s->sources);
	}
	src = &s->sources[s->n_sources++];
	memset(src, 0, sizeof *src);
	util_strlcpy(src->name, name, sizeof src->name);
	src->state = STORE_STATE_IDLE;
	return src;
}

void
store_source_set(struct store *s, const char *name, enum store_state st,
    const char *error)
{
	struct store_source *src = store_source_get(s, name);
	int64_t now = util_wall_ms();
	char clean[sizeof src->error] = "";
	int changed;

	if (error != NULL && *error != '\0') {
		char *t = text_sanitize(error, strlen(error), 0);
		util_strlcpy(clean, t, sizeof clean);
		free(t);
	}
	changed = src->state != st || strcmp(src->error, clean) != 0;
	if (src->state != st)
		src->changed_ms = now;
	src->state = st;
	if (st == STORE_STATE_OK)
		src->last_ok_ms = now;
	memcpy(src->error, clean, sizeof src->error);
	if (changed)
		store_notify(s, STORE_TOPIC_COUNT);
}

void
store_source_degraded(struct store *s, const char *name, int degraded)
{
	struct store_source *src = store_source_get(s, name);

	if (src->degraded == (degraded != 0))
		return;
	src->degraded = degraded != 0;
	store_notify(s, STORE_TOPIC_COUNT);
}

void
store_source_detail(struct store *s, const char *name, const char *detail)
{
	struct store_source *src = store_source_get(s, name);
	char clean[sizeof src->detail] = "";

	if (detail != NULL && *detail != '\0') {
		char *t = text_sanitize(detail, strlen(detail), 0);

		util_strlcpy(clean, t, sizeof clean);
		free(t);
	}
	if (strcmp(src->detail, clean) == 0)
		return;
	memcpy(src->detail, clean, sizeof src->detail);
	store_notify(s, STORE_TOPIC_COUNT);
}

size_t
store_source_count(const struct store *s)
{
	return s->n_sources;
}

const struct store_source *
store_source_at(const struct store *s, size_t i)
{
	return i < s->n_sources ? &s->sources[i] : NULL;
}

const struct store_source *
store_source_find(const struct store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_sources; i++)
		if (strcmp(s->sources[i].name, name) == 0)
			return &s->sources[i];
	return NULL;
}

const char *
store_state_name(enum store_state st)
{
	switch (st) {
	case STORE_STATE_IDLE: return "idle";
	case STORE_STATE_CONNECTING: return "connecting";
	case STORE_STATE_OK: return "ok";
	case STORE_STATE_STALE: return "stale";
	case STORE_STATE_ERROR: return "error";
	}
	return "?";
}

const char *
store_topic_name(enum store_topic t)
{
	return (unsigned)t < STORE_TOPIC_COUNT ? topic_names[t] : "?";
}
