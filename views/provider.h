/* provider.h - what the provider's panes (overview, deployments, replicas,
 * vars) share: colours of deployment states, freshness, and the empty
 * pane that says why there is nothing.  Internal to views/. */
#ifndef SIGNALBOX_VIEWS_PROVIDER_H
#define SIGNALBOX_VIEWS_PROVIDER_H

#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/style.h"

struct canvas;
struct view;

/* The theme role for a deployment status of kind K. */
enum style_id provider_kind_style(enum railway_kind k);

/* Copy the provider's state SRC (may be NULL) into *COPY when it changed
 * (state, last success, error or status-bar figure); 1 when it did. */
int provider_sync_source(int *have_src, struct store_source *copy,
    const struct store_source *src);

/* The provider's data is old: its refreshes fail (STALE) or it errs. */
int provider_is_stale(int have_src, const struct store_source *src);

/* The pane with no snapshot yet: no provider configured (and how to add
 * one), FETCHING ("Fetching the variables…") while the first request is in
 * flight, or the provider's error in words. */
void provider_draw_empty(struct canvas *cv, int have_src, const struct store_source *src,
    const char *fetching);

/* Whether service ID passes V's focus (none, or that service). */
int provider_in_focus(const struct view *v, const char *id);

/* ", api only (Esc: all)" into the title at (0, X) when V has a focus;
 * returns the columns drawn. */
int provider_focus_title(const struct view *v, struct canvas *cv, int x);

/* Esc in a provider pane with nothing else to close: drop the focus.  1
 * when it did. */
int provider_focus_back(struct view *v);

/* The refresh action in a provider pane: ask the host to fetch now. */
void provider_refresh(struct view *v);

#endif
