/* provider.c - shared by the provider's panes (see provider.h). */
#include <string.h>

#include "provider.h"
#include "signalbox/canvas.h"
#include "signalbox/config.h"
#include "signalbox/console.h"
#include "signalbox/view.h"

int
view_provider_enabled(const struct config *cfg)
{
	return cfg != NULL && cfg->provider.type != CONFIG_PROVIDER_NONE;
}

enum style_id
provider_kind_style(enum railway_kind k)
{
	switch (k) {
	case RAILWAY_KIND_OK: return STYLE_HEALTH_OK;
	case RAILWAY_KIND_BUSY: return STYLE_STATE_CONNECTING;
	case RAILWAY_KIND_FAIL: return STYLE_HEALTH_DOWN;
	case RAILWAY_KIND_OFF: return STYLE_DIM;
	}
	return STYLE_DEFAULT;
}

int
provider_sync_source(int *have_src, struct store_source *copy, const struct store_source *src)
{
	if (src == NULL || (*have_src && src->state == copy->state &&
	    src->last_ok_ms == copy->last_ok_ms && strcmp(src->error, copy->error) == 0 &&
	    strcmp(src->detail, copy->detail) == 0))
		return 0;
	*copy = *src;
	*have_src = 1;
	return 1;
}

int
provider_is_stale(int have_src, const struct store_source *src)
{
	return have_src && (src->state == STORE_STATE_STALE || src->state == STORE_STATE_ERROR);
}

void
provider_draw_empty(struct canvas *cv, int have_src, const struct store_source *src,
    const char *fetching)
{
	if (!have_src || src->state == STORE_STATE_IDLE) {
		canvas_text(cv, 0, 1, STYLE_TITLE, "No provider configured.");
		canvas_text(cv, 2, 1, STYLE_DIM, "Point signalbox at a Railway project in the "
		    "config file, e.g.:");
		canvas_text(cv, 3, 3, STYLE_DIM, "provider:");
		canvas_text(cv, 4, 3, STYLE_DIM, "  type: railway");
		canvas_text(cv, 5, 3, STYLE_DIM, "  project_id: \"…\"");
		canvas_text(cv, 6, 3, STYLE_DIM, "  token_env: RAILWAY_TOKEN");
		canvas_text(cv, 8, 1, STYLE_DIM, "signalbox config check  validates it; "
		    "see signalbox.yml(5).");
		return;
	}
	if (src->state == STORE_STATE_CONNECTING) {
		canvas_text(cv, 0, 1, STYLE_STATE_CONNECTING, "Connecting to the provider…");
		return;
	}
	if (src->state == STORE_STATE_OK) {
		/* OK without this pane's data yet: its first request is in flight */
		canvas_text(cv, 0, 1, STYLE_STATE_CONNECTING, fetching);
		return;
	}
	canvas_text(cv, 0, 1, STYLE_STATE_ERROR, "The provider does not answer:");
	canvas_textn(cv, 1, 3, canvas_width(cv) - 4, STYLE_STATE_ERROR, src->error,
	    strlen(src->error));
	canvas_text(cv, 3, 1, STYLE_DIM, "signalbox retries with backoff; the status bar "
	    "shows the state.");
}

void
provider_refresh(struct view *v)
{
	if (v->host == NULL)
		return;
	if (v->host->refresh != NULL)
		v->host->refresh(v->host->ud);
	else if (v->host->message != NULL)
		v->host->message(v->host->ud, 1, "no provider to refresh");
}

int
provider_in_focus(const struct view *v, const char *id)
{
	return v->focus[0] == '\0' || strcmp(v->focus, id) == 0;
}

int
provider_focus_title(const struct view *v, struct canvas *cv, int x)
{
	if (v->focus[0] == '\0')
		return 0;
	return canvas_printf(cv, 0, x, -1, STYLE_MATCH, "   %s only (Esc: all services)",
	    v->focus_name[0] != '\0' ? v->focus_name : v->focus);
}

int
provider_focus_back(struct view *v)
{
	if (v->focus[0] == '\0' || v->detail_open || v->filter[0] != '\0' ||
	    v->host == NULL || v->host->console == NULL)
		return 0;
	console_set_focus(v->host->console, NULL, NULL);
	if (v->host->message != NULL)
		v->host->message(v->host->ud, 0, "showing every service");
	return 1;
}
