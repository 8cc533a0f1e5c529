/* loop.h - the one libuv loop and the timers every module shares.
 *
 * signalbox runs one thread and one uv_loop_t.  libuv is the event loop, not
 * a network library, so any layer may include <uv.h>; this header wraps the
 * few patterns everyone repeats (owned timers, deferred calls).
 */
#ifndef SIGNALBOX_LOOP_H
#define SIGNALBOX_LOOP_H

#include <stdint.h>
#include <uv.h>

struct loop_timer;

typedef void loop_timer_fn(struct loop_timer *t, void *ud);

/* Create a stopped timer on LOOP calling FN(t, UD).  Freed by
 * loop_timer_free, which closes the handle asynchronously (the memory goes
 * when libuv's close callback runs, so the loop must run afterwards). */
struct loop_timer *loop_timer_new(uv_loop_t *loop, loop_timer_fn *fn, void *ud);

/* (Re)start T: first fire after TIMEOUT_MS, then every REPEAT_MS (0 = once). */
void loop_timer_start(struct loop_timer *t, uint64_t timeout_ms, uint64_t repeat_ms);

/* Stop T; it may be started again. */
void loop_timer_stop(struct loop_timer *t);

/* Whether T is armed. */
int loop_timer_active(const struct loop_timer *t);

/* Stop and free *TP (NULL-safe) and set *TP to NULL. */
void loop_timer_free(struct loop_timer **tp);

/* Current loop time in ms (cached per iteration, monotonic). */
uint64_t loop_now_ms(uv_loop_t *loop);

#endif
