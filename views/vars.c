/* vars.c - the variables pane: the environment's shared variables, then
 * each service's, one row per variable with its value masked: length and a
 * short fingerprint, never the value (the snapshot has none).  Reference
 * variables (whose value refers to others, "${{shared.X}}") are marked.
 *
 * Revealing a value is an audited action that other code performs; it
 * hands the value to vars_view_show_value, which keeps a sanitised copy
 * for the selected variable only.  The copy is wiped from memory as soon
 * as the selection moves, the variable changes, the pane is left, or after
 * VARS_REVEAL_MS.
 *
 * Like the overview, the pane says how old its data is: while the
 * provider's refreshes fail the rows are dimmed and the title says "stale"
 * with the age and the error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "signalbox/canvas.h"
#include "signalbox/console.h"
#include "signalbox/policy.h"
#include "signalbox/railway.h"
#include "signalbox/store.h"
#include "signalbox/text.h"
#include "signalbox/util.h"
#include "signalbox/view.h"
#include "signalbox/xalloc.h"

#define VARS_REVEAL_MS 60000	/* a revealed value hides itself after this */

struct var_row {
	size_t set, var;
};

/* The one revealed value, or nothing (shown == NULL). */
struct var_reveal {
	char *set_id;		/* service id of the set, "" for shared */
	char *name;
	char fingerprint[RAILWAY_FP_LEN + 1];	/* the variable's when revealed */
	char *shown;		/* the value, sanitised for display */
	size_t shown_len;	/* bytes allocated for shown (for wiping) */
	size_t len;		/* the value's length in bytes */
	int64_t until_ms;	/* wall ms it hides itself */
};

struct vars_view {
	struct railway_vars_snap *snap;		/* one reference held */
	struct railway_project_snap *proj;	/* one reference held, for the names */
	uint64_t gen, proj_gen;
	struct store_source src;		/* copy of the provider's state */
	int have_src;
	char filter[sizeof(((struct view *)0)->filter)];
	char focus[sizeof(((struct view *)0)->focus)];	/* the focus the rows were built for */
	struct var_row *rows;		/* rows that pass the filter */
	struct view_list list;
	struct var_reveal rev;
};

static int
vars_view_init(struct view *v, const struct config *cfg)
{
	(void)v;
	(void)cfg;
	return 0;
}

/* Wipe and forget the revealed value; 1 when there was one. */
static int
vars_forget(struct vars_view *vv)
{
	struct var_reveal *r = &vv->rev;
	int had = r->shown != NULL;

	if (r->shown != NULL)
		explicit_bzero(r->shown, r->shown_len);
	free(r->shown);
	free(r->set_id);
	free(r->name);
	explicit_bzero(r, sizeof *r);
	return had;
}

static void
vars_view_free(struct view *v)
{
	struct vars_view *vv = v->priv;

	vars_forget(vv);
	railway_vars_snap_unref(vv->snap);
	railway_project_snap_unref(vv->proj);
	free(vv->rows);
}

static const struct railway_var *
vars_row_var(const struct vars_view *vv, const struct var_row *r)
{
	return &vv->snap->sets[r->set].vars[r->var];
}

static const struct var_row *
vars_selected_row(const struct vars_view *vv)
{
	if (vv->snap == NULL || vv->list.n == 0)
		return NULL;
	return &vv->rows[vv->list.sel];
}

/* Whether the revealed value belongs to the selected variable as it is now. */
static int
vars_reveal_current(const struct vars_view *vv)
{
	const struct var_row *r = vars_selected_row(vv);
	const struct railway_var *var;

	if (vv->rev.shown == NULL || r == NULL)
		return 0;
	var = vars_row_var(vv, r);
	return strcmp(vv->snap->sets[r->set].service_id, vv->rev.set_id) == 0 &&
	    strcmp(var->name, vv->rev.name) == 0 &&
	    strcmp(var->fingerprint, vv->rev.fingerprint) == 0;
}

/* Only while variable NAME of the set of SET_SERVICE_ID is the selected
 * one: an answer that arrives after the selection moved is dropped (the
 * caller wipes its own copy either way). */
void
vars_view_show_value(struct view *v, const char *set_service_id, const char *name,
    const char *value, size_t len)
{
	struct vars_view *vv;
	const struct var_row *r;
	const struct railway_var *var;

	if (v == NULL || v->ops != &vars_view_ops || name == NULL || (value == NULL && len > 0))
		return;
	vv = v->priv;
	if (set_service_id == NULL)
		set_service_id = "";
	r = vars_selected_row(vv);
	if (r == NULL)
		return;
	var = vars_row_var(vv, r);
	/* the answer came for another variable than the one selected now */
	if (strcmp(vv->snap->sets[r->set].service_id, set_service_id) != 0 ||
	    strcmp(var->name, name) != 0)
		return;
	vars_forget(vv);
	vv->rev.set_id = xstrdup(set_service_id);
	vv->rev.name = xstrdup(name);
	memcpy(vv->rev.fingerprint, var->fingerprint, sizeof vv->rev.fingerprint);
	vv->rev.shown = text_sanitize(value != NULL ? value : "", len, 0);
	vv->rev.shown_len = strlen(vv->rev.shown);
	vv->rev.len = len;
	vv->rev.until_ms = (v->now_ms > 0 ? v->now_ms : util_wall_ms()) + VARS_REVEAL_MS;
	v->dirty = 1;
}

static int
vars_matches(const struct railway_var *var, const char *filter)
{
	return filter[0] == '\0' || util_strcasestr(var->name, filter) != NULL;
}

/* Rebuild the rows; the selection stays on variable SEL_NAME of the set of
 * SEL_SET (a service id, "" shared) when still listed. */
static void
vars_rebuild(struct view *v, const char *sel_set, const char *sel_name)
{
	struct vars_view *vv = v->priv;
	const struct railway_vars_snap *s = vv->snap;
	size_t total = 0, n = 0;

	for (size_t i = 0; s != NULL && i < s->n_sets; i++)
		total += s->sets[i].n;
	vv->rows = xreallocarray(vv->rows, total ? total : 1, sizeof *vv->rows);
	for (size_t i = 0; s != NULL && i < s->n_sets; i++)
		for (size_t j = 0; j < s->sets[i].n; j++)
			if ((s->sets[i].service_id[0] == '\0' ||
			    provider_in_focus(v, s->sets[i].service_id)) &&
			    vars_matches(&s->sets[i].vars[j], v->filter))
				vv->rows[n++] = (struct var_row){ i, j };
	view_list_fit(&vv->list, n, 0);
	for (size_t i = 0; sel_name != NULL && i < n; i++) {
		if (strcmp(s->sets[vv->rows[i].set].service_id, sel_set) == 0 &&
		    strcmp(vars_row_var(vv, &vv->rows[i])->name, sel_name) == 0) {
			vv->list.sel = i;
			break;
		}
	}
}

static void
vars_view_update(struct view *v, const struct store *store)
{
	struct vars_view *vv = v->priv;
	uint64_t gen, pgen;
	const struct railway_vars_snap *snap = store_get(store, STORE_TOPIC_VARS, &gen);
	const struct railway_project_snap *proj = store_get(store, STORE_TOPIC_SERVICES, &pgen);
	const struct store_source *src = store_source_find(store, RAILWAY_SOURCE);
	const struct var_row *r;
	char *sel_set = NULL, *sel_name = NULL;

	if (provider_sync_source(&vv->have_src, &vv->src, src))
		v->dirty = 1;
	/* a revealed value lives only while it is looked at */
	if (vv->rev.shown != NULL && (v->now_ms >= vv->rev.until_ms ||
	    (v->host != NULL && v->host->console != NULL &&
	    console_active(v->host->console) != v)) && vars_forget(vv))
		v->dirty = 1;
	if (pgen != vv->proj_gen) {
		railway_project_snap_ref((struct railway_project_snap *)proj);
		railway_project_snap_unref(vv->proj);
		vv->proj = (struct railway_project_snap *)proj;
		vv->proj_gen = pgen;
		v->dirty = 1;
	}
	if (gen == vv->gen && strcmp(vv->filter, v->filter) == 0 &&
	    strcmp(vv->focus, v->focus) == 0)
		return;
	if ((r = vars_selected_row(vv)) != NULL) {
		sel_set = xstrdup(vv->snap->sets[r->set].service_id);
		sel_name = xstrdup(vars_row_var(vv, r)->name);
	}
	if (gen != vv->gen) {
		/* the store holds its own reference: take ours before dropping the old */
		railway_vars_snap_ref((struct railway_vars_snap *)snap);
		railway_vars_snap_unref(vv->snap);
		vv->snap = (struct railway_vars_snap *)snap;
		vv->gen = gen;
	}
	util_strlcpy(vv->filter, v->filter, sizeof vv->filter);
	util_strlcpy(vv->focus, v->focus, sizeof vv->focus);
	vars_rebuild(v, sel_set, sel_name);
	free(sel_set);
	free(sel_name);
	/* gone, changed, or filtered away: the value shown would be a lie */
	if (vv->rev.shown != NULL && !vars_reveal_current(vv))
		vars_forget(vv);
	v->dirty = 1;
}

/* The masked value: "•••• (32 bytes, fp 1a2b3c4d)". */
static void
vars_fmt_mask(const struct canvas *cv, char *buf, size_t len, const struct railway_var *var)
{
	const char *dots = cv->ascii ? "****" : "••••";

	if (var->fingerprint[0] == '\0')
		snprintf(buf, len, "%s (value not readable)", dots);
	else
		snprintf(buf, len, "%s (%zu byte%s, fp %s)", dots, var->value_len,
		    var->value_len == 1 ? "" : "s", var->fingerprint);
}

struct vars_cols {
	int set, name, ref, value;
};

static void
vars_layout(int w, size_t set_max, size_t name_max, struct vars_cols *c)
{
	memset(c, 0, sizeof *c);
	c->set = (int)set_max < 6 ? 6 : (int)set_max > 16 ? 16 : (int)set_max;
	c->name = (int)name_max < 8 ? 8 : (int)name_max > (w >= 110 ? 40 : 26) ?
	    (w >= 110 ? 40 : 26) : (int)name_max;
	c->ref = 6;
	c->value = w - (c->set + 1 + c->name + 1 + c->ref + 1);
	if (c->value < 12) {
		/* narrow: the set column gives way (the detail names it) */
		c->value += c->set + 1;
		c->set = 0;
	}
}

/* The title line: counts, and freshness. */
static void
vars_title(struct view *v, struct canvas *cv)
{
	const struct vars_view *vv = v->priv;
	const struct railway_vars_snap *s = vv->snap;
	size_t total = 0, refs = 0;
	char age[16];
	int x;

	for (size_t i = 0; i < s->n_sets; i++) {
		total += s->sets[i].n;
		for (size_t j = 0; j < s->sets[i].n; j++)
			refs += s->sets[i].vars[j].is_reference != 0;
	}
	/* the status bar names the project: here only when there is room */
	if (vv->proj != NULL && canvas_width(cv) >= 110)
		x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Vars  %s / %s  %zu variables in "
		    "%zu sets", vv->proj->project_name, vv->proj->environment_name, total, s->n_sets);
	else
		x = canvas_printf(cv, 0, 0, -1, STYLE_TITLE, " Vars  %zu variables in %zu sets",
		    total, s->n_sets);
	if (refs)
		x += canvas_printf(cv, 0, x, -1, STYLE_DIM, ", %zu reference%s", refs,
		    refs == 1 ? "" : "s");
	if (vv->rev.shown != NULL)
		x += canvas_printf(cv, 0, x, -1, STYLE_MESSAGE_WARN, "   1 value shown");
	if (provider_is_stale(vv->have_src, &vv->src)) {
		util_fmt_age(age, sizeof age, v->now_ms - s->fetched_ms);
		x += canvas_printf(cv, 0, x, -1, STYLE_STATE_STALE, "   stale: data %s old: %s",
		    age, vv->src.error[0] != '\0' ? vv->src.error : "refresh failing");
		view_wake_at(v, v->now_ms + util_age_next_change(v->now_ms - s->fetched_ms));
	}
	x += provider_focus_title(v, cv, x);
	if (v->filter[0] != '\0')
		canvas_printf(cv, 0, x, -1, STYLE_MATCH, "   filter '%s': %zu shown",
		    v->filter, vv->list.n);
}

static const char *
vars_ref_mark(const struct canvas *cv)
{
	return cv->ascii ? "${{}}" : "${{…}}";
}

static void
vars_view_draw(struct view *v, struct canvas *cv)
{
	struct vars_view *vv = v->priv;
	const struct railway_vars_snap *s = vv->snap;
	int w = canvas_width(cv), h = canvas_height(cv), y, x, stale, showing;
	struct vars_cols c;
	size_t i, set_max = 6, name_max = 8, total = 0;

	canvas_clear(cv, STYLE_DEFAULT);
	v->next_change_ms = 0;
	if (s == NULL) {
		provider_draw_empty(cv, vv->have_src, &vv->src, "Fetching the variables…");
		vv->list.page = h;
		return;
	}
	for (i = 0; i < s->n_sets; i++) {
		if (strlen(s->sets[i].service_name) > set_max)
			set_max = strlen(s->sets[i].service_name);
		for (size_t j = 0; j < s->sets[i].n; j++)
			if (strlen(s->sets[i].vars[j].name) > name_max)
				name_max = strlen(s->sets[i].vars[j].name);
		total += s->sets[i].n;
	}
	vars_layout(w, set_max, name_max, &c);
	vars_title(v, cv);

	x = 0;
	x = view_col(cv, 1, x, c.set, STYLE_HEADER, "SET", 0);
	x = view_col(cv, 1, x, c.name, STYLE_HEADER, "NAME", 0);
	x = view_col(cv, 1, x, c.ref, STYLE_HEADER, "REF", 0);
	view_col(cv, 1, x, c.value, STYLE_HEADER, "VALUE", 0);

	view_list_fit(&vv->list, vv->list.n, h - 2 > 1 ? h - 2 : 1);
	if (vv->list.n == 0)
		canvas_printf(cv, 2, 1, -1, STYLE_DIM, total == 0 ?
		    "no variables in this environment%s" :
		    "no variable name matches '%s' (Esc clears the filter)",
		    total == 0 ? "" : v->filter);
	stale = provider_is_stale(vv->have_src, &vv->src);
	showing = vars_reveal_current(vv);
	if (showing)
		view_wake_at(v, vv->rev.until_ms);
	for (y = 2, i = vv->list.top; i < vv->list.n && y < h; i++, y++) {
		const struct var_row *r = &vv->rows[i];
		const struct railway_var_set *set = &s->sets[r->set];
		const struct railway_var *var = vars_row_var(vv, r);
		int selected = i == vv->list.sel;
		int first = i == vv->list.top || vv->rows[i - 1].set != r->set;
		enum style_id base = selected ? STYLE_SELECTED : stale ? STYLE_DIM : STYLE_DEFAULT;
		char mask[96];

		if (selected)
			canvas_fill(cv, y, 0, 1, w, STYLE_SELECTED);
		x = view_col(cv, y, 0, c.set, selected || stale ? base : STYLE_HEADER,
		    first ? set->service_name : "", 0);
		x = view_col(cv, y, x, c.name, base, var->name, 0);
		x = view_col(cv, y, x, c.ref, selected || stale ? base : STYLE_KEY,
		    var->is_reference ? vars_ref_mark(cv) : "", 0);
		if (selected && showing) {
			canvas_textn(cv, y, x, c.value, STYLE_MESSAGE_WARN, vv->rev.shown,
			    strlen(vv->rev.shown));
		} else {
			vars_fmt_mask(cv, mask, sizeof mask, var);
			view_col(cv, y, x, c.value, selected ? base : STYLE_DIM, mask, 0);
		}
	}
}

/* Other sets that define variable NAME, with whether their value is the
 * same (by fingerprint), into BUF. */
static void
vars_fmt_also(const struct railway_vars_snap *s, size_t set, const struct railway_var *var,
    char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_sets && n < len; i++) {
		if (i == set)
			continue;
		for (size_t j = 0; j < s->sets[i].n; j++) {
			const struct railway_var *o = &s->sets[i].vars[j];

			if (strcmp(o->name, var->name) != 0)
				continue;
			n += (size_t)snprintf(buf + n, len - n, "%s%s (%s)", n ? ", " : "",
			    s->sets[i].service_name, o->fingerprint[0] == '\0' ||
			    var->fingerprint[0] == '\0' ? "?" : strcmp(o->fingerprint,
			    var->fingerprint) == 0 ? "same value" : "differs");
			break;
		}
	}
}

static int
vars_detail_line(struct canvas *cv, int y, const char *label, enum style_id st, const char *text)
{
	if (y >= canvas_height(cv))
		return y;
	canvas_text(cv, y, 1, STYLE_HEADER, label);
	canvas_textn(cv, y, 13, canvas_width(cv) - 14, st, text, strlen(text));
	return y + 1;
}

static void
vars_view_draw_detail(struct view *v, struct canvas *cv)
{
	struct vars_view *vv = v->priv;
	const struct var_row *r = vars_selected_row(vv);
	const struct railway_var_set *set;
	const struct railway_var *var;
	int y = 0, w = canvas_width(cv), h = canvas_height(cv);
	char line[512];

	canvas_clear(cv, STYLE_DEFAULT);
	if (r == NULL) {
		canvas_text(cv, 0, 1, STYLE_DIM, "No variable selected.");
		return;
	}
	set = &vv->snap->sets[r->set];
	var = vars_row_var(vv, r);
	canvas_textn(cv, y++, 1, w - 2, STYLE_TITLE, var->name, strlen(var->name));
	y++;
	if (set->service_id[0] == '\0')
		snprintf(line, sizeof line, "shared by the environment's services");
	else
		snprintf(line, sizeof line, "service %s (%s)", set->service_name, set->service_id);
	y = vars_detail_line(cv, y, "Set", STYLE_DEFAULT, line);
	if (vars_reveal_current(vv)) {
		view_wake_at(v, vv->rev.until_ms);
		y = vars_detail_line(cv, y, "Value", STYLE_MESSAGE_WARN, vv->rev.shown);
		snprintf(line, sizeof line, "%zu bytes as the service sees it; hidden when the "
		    "selection moves or in %llds", vv->rev.len,
		    (long long)((VARS_REVEAL_MS + 999) / 1000));
		y = vars_detail_line(cv, y, "", STYLE_DIM, line);
	} else {
		vars_fmt_mask(cv, line, sizeof line, var);
		y = vars_detail_line(cv, y, "Value", STYLE_DIM, line);
	}
	if (var->fingerprint[0] != '\0') {
		snprintf(line, sizeof line, "%zu byte%s stored", var->value_len,
		    var->value_len == 1 ? "" : "s");
		y = vars_detail_line(cv, y, "Length", STYLE_DEFAULT, line);
		snprintf(line, sizeof line, "%s  (FNV-1a: tells values apart, proves nothing)",
		    var->fingerprint);
		y = vars_detail_line(cv, y, "Fingerprint", STYLE_DEFAULT, line);
	} else {
		y = vars_detail_line(cv, y, "Length", STYLE_DIM, "unknown: the API did not "
		    "return the value");
	}
	if (var->is_reference) {
		snprintf(line, sizeof line, "%s  the value refers to other variables", vars_ref_mark(cv));
		y = vars_detail_line(cv, y, "Reference", STYLE_KEY, line);
		y = vars_detail_line(cv, y, "", STYLE_DIM, "length and fingerprint are of the "
		    "reference itself");
	}
	vars_fmt_also(vv->snap, r->set, var, line, sizeof line);
	if (line[0] != '\0')
		y = vars_detail_line(cv, y, "Also in", STYLE_DEFAULT, line);
	if (y + 1 < h && !vars_reveal_current(vv)) {
		y++;
		canvas_printf(cv, y++, 1, w - 2, STYLE_DIM, "Values stay masked; revealing one "
		    "is recorded in the audit log.");
	}
}

static void
vars_say(const struct view *v, const char *text)
{
	if (v->host != NULL && v->host->message != NULL)
		v->host->message(v->host->ud, 1, text);
}

/* Ask the application for A on the selected variable's set: reveal the
 * selected variable, or (from the command line) ":var-set NAME VALUE" and
 * ":var-delete NAME".  A set is staged (skipDeploys): it takes effect on
 * the next deploy, which the status line says. */
static void
vars_request(struct view *v, enum action a, const char *arg)
{
	struct vars_view *vv = v->priv;
	const struct var_row *r = vars_selected_row(vv);
	const struct railway_var_set *set;
	struct policy_req q;
	char name[128];
	const char *value = NULL;
	size_t nlen;

	if (v->host == NULL || v->host->act == NULL)
		return;
	if (r == NULL) {
		vars_say(v, "no variable selected: the set of the selected row is the one changed");
		return;
	}
	set = &vv->snap->sets[r->set];
	memset(&q, 0, sizeof q);
	q.action = a;
	q.target = set->service_name;
	q.target_id = set->service_id;
	q.from = q.to = -1;
	if (a == ACTION_VAR_REVEAL) {
		util_strlcpy(name, vars_row_var(vv, r)->name, sizeof name);
	} else {
		if (arg == NULL || arg[0] == '\0') {
			vars_say(v, a == ACTION_VAR_SET ? "usage: :var-set NAME VALUE" :
			    "usage: :var-delete NAME");
			return;
		}
		nlen = strcspn(arg, " \t");
		if (nlen == 0 || nlen >= sizeof name) {
			vars_say(v, "a variable name is 1 to 127 characters");
			return;
		}
		memcpy(name, arg, nlen);
		name[nlen] = '\0';
		if (a == ACTION_VAR_SET) {
			value = arg + nlen;
			value += strspn(value, " \t");
			if (*value == '\0') {
				vars_say(v, "usage: :var-set NAME VALUE (the value is masked as you type)");
				return;
			}
		} else if (arg[nlen + strspn(arg + nlen, " \t")] != '\0') {
			vars_say(v, "usage: :var-delete NAME");
			return;
		}
		q.skip_deploys = 1;
		q.after = a == ACTION_VAR_SET ? "set, staged for the next deploy" :
		    "deleted, staged for the next deploy";
	}
	q.var = name;
	q.value = value;
	v->host->act(v->host->ud, &q);
}

static int
vars_view_key(struct view *v, enum action a, const struct key_event *ev)
{
	struct vars_view *vv = v->priv;
	size_t before = vv->list.sel;

	if (a == ACTION_REFRESH) {
		provider_refresh(v);
		return 1;
	}
	if (a == ACTION_BACK && provider_focus_back(v))
		return 1;

	if (view_list_key(&vv->list, a)) {
		if (vv->list.sel != before)
			vars_forget(vv);
		v->dirty = 1;
		return 1;
	}
	switch (a) {
	case ACTION_VAR_REVEAL:
	case ACTION_VAR_SET:
	case ACTION_VAR_DELETE:
		vars_request(v, a, ev != NULL ? ev->arg : NULL);
		return 1;
	default:
		return 0;
	}
}

static void
vars_view_badge(struct view *v, char *buf, size_t len, int *is_bad)
{
	struct vars_view *vv = v->priv;

	buf[0] = '\0';
	*is_bad = provider_is_stale(vv->have_src, &vv->src);
	if (vv->rev.shown != NULL)
		snprintf(buf, len, "1 shown");
	else if (*is_bad)
		snprintf(buf, len, "stale");
}

const struct view_ops vars_view_ops = {
	.name = "vars",
	.title = "Vars",
	.priv_size = sizeof(struct vars_view),
	.enabled = view_provider_enabled,
	.init = vars_view_init,
	.update = vars_view_update,
	.draw = vars_view_draw,
	.draw_detail = vars_view_draw_detail,
	.key = vars_view_key,
	.badge = vars_view_badge,
	.free = vars_view_free,
};
