/* loop.c - owned libuv timers. */
#include <stdlib.h>

#include "signalbox/loop.h"
#include "signalbox/xalloc.h"

struct loop_timer {
	uv_timer_t handle;
	loop_timer_fn *fn;
	void *ud;
};

static void
loop_timer_cb(uv_timer_t *handle)
{
	struct loop_timer *t = handle->data;

	t->fn(t, t->ud);
}

struct loop_timer *
loop_timer_new(uv_loop_t *loop, loop_timer_fn *fn, void *ud)
{
	struct loop_timer *t = xcalloc(1, sizeof *t);

	uv_timer_init(loop, &t->handle);
	t->handle.data = t;
	t->fn = fn;
	t->ud = ud;
	return t;
}

void
loop_timer_start(struct loop_timer *t, uint64_t timeout_ms, uint64_t repeat_ms)
{
	uv_timer_start(&t->handle, loop_timer_cb, timeout_ms, repeat_ms);
}

void
loop_timer_stop(struct loop_timer *t)
{
	uv_timer_stop(&t->handle);
}

int
loop_timer_active(const struct loop_timer *t)
{
	return uv_is_active((const uv_handle_t *)&t->handle);
}

static void
loop_timer_closed(uv_handle_t *handle)
{
	free(handle->data);
}

void
loop_timer_free(struct loop_timer **tp)
{
	struct loop_timer *t;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	*tp = NULL;
	uv_timer_stop(&t->handle);
	uv_close((uv_handle_t *)&t->handle, loop_timer_closed);
}

uint64_t
loop_now_ms(uv_loop_t *loop)
{
	return uv_now(loop);
}
