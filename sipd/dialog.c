// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dialogs and offer/answer (RFC 3261, 3262, 3264, 3311, 6337).
 *
 * Each dialog keeps the last completed exchange (both parties' SDP) and at
 * most one outstanding offer. A message with SDP is the answer when the other
 * party has an offer outstanding, else a new offer, except a repeat of the
 * answer already given (18x then 200 of one INVITE) or an unchanged SDP,
 * which changes nothing. Pinholes are planned from completed exchanges only,
 * so an offer alone (or one that is rejected) never opens or moves anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/swmap.h"
#include "sipd/dialog.h"

int sipd_is_initial_invite(const struct sip_msg *m)
{
	return m->is_request && !m->to_tag[0] && !strcmp(m->method, "INVITE");
}

int sipd_call_str(char **dst, const char *s, size_t max)
{
	size_t n = strnlen(s, max ? max - 1 : 0);
	char *p = malloc(n + 1);

	if (!p)
		return -1;
	memcpy(p, s, n);
	p[n] = '\0';
	free(*dst);
	*dst = p;
	return 0;
}

static void call_strs_free(struct sipd_call *c)
{
	free(c->call_id);
	free(c->caller_tag);
	free(c->caller);
	free(c->callee);
	c->call_id = c->caller_tag = c->caller = c->callee = NULL;
}

static struct sipd_call *call_alloc(void)
{
	struct sipd_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (sipd_call_str(&c->call_id, "", 1) || sipd_call_str(&c->caller_tag, "", 1) ||
	    sipd_call_str(&c->caller, "", 1) || sipd_call_str(&c->callee, "", 1)) {
		call_strs_free(c);
		free(c);
		return NULL;
	}
	/* Most calls have one dialog; forks grow the array (add_dialog). A
	 * dialog is ~2 KB, so allocating (and cloning) all SIPD_MAX_DIALOGS
	 * slots for every call was a large part of a call's cost. */
	c->dlg = calloc(1, sizeof(*c->dlg));
	if (!c->dlg) {
		call_strs_free(c);
		free(c);
		return NULL;
	}
	c->dlg_cap = 1;
	return c;
}

struct sipd_call *sipd_call_new(const struct sip_msg *m, unsigned int dir, uint64_t now_ns)
{
	struct sipd_call *c = call_alloc();
	char party[SIPD_PARTY_LEN];
	int bad;

	if (!c)
		return NULL;
	c->hash = m->call_hash;
	bad = sipd_call_str(&c->call_id, m->call_id, sizeof(m->call_id)) ||
	      sipd_call_str(&c->caller_tag, m->from_tag, SIP_TAG_LEN);
	sip_join_at(party, sizeof(party), m->from_user, m->from_host);
	bad = bad || sipd_call_str(&c->caller, party, sizeof(party));
	sip_join_at(party, sizeof(party), m->to_user, m->to_host);
	bad = bad || sipd_call_str(&c->callee, party, sizeof(party));
	if (bad) {
		sipd_call_free(c);
		return NULL;
	}
	c->caller_sig = m->src;
	c->callee_sig = m->dst;
	c->have_callee_sig = 1;
	c->direction = dir;
	c->invite_cseq = m->cseq;
	c->invite_branch = sw_fnv1a64(m->via_branch, strlen(m->via_branch));
	if (m->has_sdp) {
		c->init_offer = sdp_dup(&m->sdp, 0);
		if (!c->init_offer) {
			sipd_call_free(c);
			return NULL;
		}
		c->has_init_offer = 1;
	}
	c->start_ns = c->last_sip_ns = c->last_media_ns = now_ns;
	return c;
}

struct sipd_call *sipd_call_adopted(uint64_t hash, const char *call_id, uint64_t created_ns)
{
	struct sipd_call *c = call_alloc();

	if (!c)
		return NULL;
	c->hash = hash;
	if (sipd_call_str(&c->call_id, call_id, 256)) {
		sipd_call_free(c);
		return NULL;
	}
	c->adopted = 1;
	/* It had media negotiated, so it was (at least) early; treat it as
	 * confirmed so the early-dialog timeout does not cut a live call. */
	c->confirmed = 1;
	c->start_ns = c->confirm_ns = c->last_sip_ns = created_ns;
	c->last_media_ns = created_ns;
	return c;
}

/* The stored SDP copies of a dialog. */
static void dialog_free(struct sipd_dialog *d)
{
	free(d->tag);
	d->tag = NULL;
	free(d->neg[0]);
	free(d->neg[1]);
	free(d->pending_sdp);
	d->neg[0] = d->neg[1] = d->pending_sdp = NULL;
}

/* *out = a copy of s (NULL stays NULL); -1 when out of memory. */
static int sdp_clone(struct sdp_session **out, const struct sdp_session *s)
{
	*out = s ? sdp_dup(s, s->refused) : NULL;
	return s && !*out ? -1 : 0;
}

struct sipd_call *sipd_call_clone(const struct sipd_call *c)
{
	struct sipd_call *n = malloc(sizeof(*n));
	unsigned int i;
	int bad = 0;

	if (!n)
		return NULL;
	*n = *c;
	n->next = NULL;
	n->init_offer = NULL;
	n->call_id = n->caller_tag = n->caller = n->callee = NULL;
	n->n_dlg = 0;
	n->dlg_cap = c->n_dlg ? c->n_dlg : 1;
	n->dlg = malloc(n->dlg_cap * sizeof(*n->dlg));
	n->ph = c->n_ph ? malloc(c->n_ph * sizeof(*n->ph)) : NULL;
	if (!n->dlg || (c->n_ph && !n->ph)) {
		free(n->dlg);
		free(n->ph);
		free(n);
		return NULL;
	}
	if (c->n_ph)
		memcpy(n->ph, c->ph, c->n_ph * sizeof(*n->ph));
	bad |= sipd_call_str(&n->call_id, c->call_id, strlen(c->call_id) + 1) |
	       sipd_call_str(&n->caller_tag, c->caller_tag, strlen(c->caller_tag) + 1) |
	       sipd_call_str(&n->caller, c->caller, strlen(c->caller) + 1) |
	       sipd_call_str(&n->callee, c->callee, strlen(c->callee) + 1);
	bad |= sdp_clone(&n->init_offer, c->init_offer);
	for (i = 0; i < c->n_dlg; i++) {
		struct sipd_dialog *d = &n->dlg[i];

		*d = c->dlg[i];
		d->tag = NULL;
		d->neg[0] = d->neg[1] = d->pending_sdp = NULL;
		n->n_dlg = i + 1;
		bad |= sipd_call_str(&d->tag, c->dlg[i].tag, strlen(c->dlg[i].tag) + 1);
		bad |= sdp_clone(&d->neg[0], c->dlg[i].neg[0]);
		bad |= sdp_clone(&d->neg[1], c->dlg[i].neg[1]);
		bad |= sdp_clone(&d->pending_sdp, c->dlg[i].pending_sdp);
	}
	if (bad) {
		sipd_call_free(n);
		return NULL;
	}
	return n;
}

void sipd_call_clear(struct sipd_call *c)
{
	unsigned int i;

	for (i = 0; i < c->n_dlg; i++)
		dialog_free(&c->dlg[i]);
	free(c->init_offer);
	c->init_offer = NULL;
	c->has_init_offer = 0;
	call_strs_free(c);
	free(c->dlg);
	c->dlg = NULL;
	c->n_dlg = c->dlg_cap = 0;
	free(c->ph);
	c->ph = NULL;
	c->n_ph = 0;
}

void sipd_call_free(struct sipd_call *c)
{
	if (!c)
		return;
	sipd_call_clear(c);
	free(c);
}

static int media_equal(const struct sdp_media *a, const struct sdp_media *b)
{
	return !strncmp(a->type, b->type, sizeof(a->type)) && !memcmp(a->addr, b->addr, 16) &&
	       a->hold_addr == b->hold_addr && a->port == b->port &&
	       a->port_count == b->port_count && a->rtcp_port == b->rtcp_port &&
	       !memcmp(a->rtcp_addr, b->rtcp_addr, 16) && a->rtcp_mux == b->rtcp_mux &&
	       a->dir == b->dir && a->n_cand == b->n_cand &&
	       !memcmp(a->cand, b->cand, a->n_cand * sizeof(a->cand[0]));
}

int sipd_sdp_equal(const struct sdp_session *a, const struct sdp_session *b)
{
	int i;

	if (a->n_media != b->n_media)
		return 0;
	for (i = 0; i < a->n_media && i < SDP_MAX_MEDIA; i++)
		if (!media_equal(&a->media[i], &b->media[i]))
			return 0;
	return 1;
}

static struct sipd_dialog *find_dialog(struct sipd_call *c, const char *tag)
{
	unsigned int i;

	for (i = 0; i < c->n_dlg; i++)
		if (!strcmp(c->dlg[i].tag, tag))
			return &c->dlg[i];
	return NULL;
}

static struct sipd_dialog *add_dialog(struct sipd_call *c, const char *tag)
{
	struct sipd_dialog *d;

	if (c->n_dlg >= SIPD_MAX_DIALOGS)
		return NULL;
	if (c->n_dlg >= c->dlg_cap) {
		unsigned int cap = c->dlg_cap ? c->dlg_cap * 2 : 1;

		if (cap > SIPD_MAX_DIALOGS)
			cap = SIPD_MAX_DIALOGS;
		d = realloc(c->dlg, cap * sizeof(*d));
		if (!d)
			return NULL;
		c->dlg = d;
		c->dlg_cap = cap;
	}
	d = &c->dlg[c->n_dlg];
	memset(d, 0, sizeof(*d));
	if (sipd_call_str(&d->tag, tag, SIP_TAG_LEN))
		return NULL;
	c->n_dlg++;
	return d;
}

static uint64_t method_id(const char *m)
{
	return sw_fnv1a64(m, strnlen(m, SIP_TOKEN_LEN));
}

/* *dst = a copy of src with refused; unchanged and -1 when out of memory. */
static int sdp_put(struct sdp_session **dst, const struct sdp_session *src, uint8_t refused)
{
	struct sdp_session *n = sdp_dup(src, refused);

	if (!n)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

static int set_pending(struct sipd_dialog *d, int p, const struct sip_msg *m, uint8_t auth,
		       uint8_t refused)
{
	if (sdp_put(&d->pending_sdp, &m->sdp, refused))
		return -1; /* out of memory: the offer is not recorded */
	d->pending = 1;
	d->pending_party = p;
	d->pending_cseq = m->cseq;
	memcpy(d->pending_to, m->dst.addr, 16);
	memcpy(d->pending_src, m->src.addr, 16);
	d->pending_auth = auth;
	d->pending_method = method_id(m->method);
	return 0;
}

static unsigned int new_offer(struct sipd_dialog *d, int p, const struct sip_msg *m, uint8_t auth,
			      uint8_t refused, uint8_t inside)
{
	if (set_pending(d, p, m, auth, refused))
		return 0;
	d->pending_inside = inside;
	return SIPD_DLG_OFFER;
}

/* One message with SDP from party p in dialog d. */
static unsigned int offer_answer(struct sipd_dialog *d, int p, const struct sip_msg *m,
				 uint8_t auth, uint8_t refused, uint8_t inside, int control)
{
	if (d->pending && d->pending_party != p) {
		/* The answer counts only from where the offer went: anyone
		 * else claiming to answer it is ignored. A controller's offer
		 * went to the proxy, which names the answerer itself. */
		if (!control && memcmp(m->src.addr, d->pending_to, 16))
			return SIPD_DLG_UNMATCHED;
		/* The answer: the exchange is complete; the offer's copy
		 * becomes the offerer's side. */
		if (sdp_put(&d->neg[p], &m->sdp, refused))
			return 0; /* out of memory: nothing moves */
		free(d->neg[!p]);
		d->neg[!p] = d->pending_sdp;
		d->pending_sdp = NULL;
		memcpy(d->neg_src[p], m->src.addr, 16);
		d->neg_auth[p] = auth;
		memcpy(d->neg_src[!p], d->pending_src, 16);
		d->neg_auth[!p] = d->pending_auth;
		memcpy(d->ans_from, m->src.addr, 16);
		d->neg_offerer = !p;
		d->have_neg = 1;
		d->pending = 0;
		d->ans_cseq = m->cseq;
		d->ans_method = method_id(m->method);
		return SIPD_DLG_MEDIA;
	}
	if (d->pending) {
		/* The offerer again (retransmission, or 18x then 200 repeating
		 * an offer made in a response): keep the latest. */
		if (memcmp(m->src.addr, d->pending_src, 16))
			return SIPD_DLG_UNMATCHED;
		return new_offer(d, p, m, auth, refused, inside);
	}
	if (d->have_neg && d->neg[p]->refused == refused && sipd_sdp_equal(d->neg[p], &m->sdp))
		return 0; /* session refresh or repeated answer: nothing moves */
	if (d->have_neg && !m->is_request && d->ans_cseq == m->cseq &&
	    d->ans_method == method_id(m->method)) {
		/* The answer of this transaction given again, changed (a 200
		 * after a 183 must repeat it; follow what the party says),
		 * by the party that gave it. */
		if (memcmp(m->src.addr, d->ans_from, 16))
			return SIPD_DLG_UNMATCHED;
		if (sdp_put(&d->neg[p], &m->sdp, refused))
			return 0;
		d->neg_auth[p] = auth;
		return SIPD_DLG_MEDIA;
	}
	return new_offer(d, p, m, auth, refused, inside);
}

/* A 2xx ends the other forks' early dialogs (confirmed ones stay). */
static unsigned int drop_other_early(struct sipd_call *c, const struct sipd_dialog *keep)
{
	unsigned int i, j = 0, media = 0;

	for (i = 0; i < c->n_dlg; i++) {
		if (&c->dlg[i] == keep || c->dlg[i].confirmed) {
			if (j != i)
				c->dlg[j] = c->dlg[i];
			j++;
		} else {
			if (c->dlg[i].have_neg)
				media = SIPD_DLG_MEDIA;
			dialog_free(&c->dlg[i]);
		}
	}
	c->n_dlg = j;
	return media;
}

unsigned int sipd_dialog_update(struct sipd_call *c, const struct sip_msg *m, uint64_t now_ns,
				uint64_t bye_grace_ns, const char **reason)
{
	struct sipd_dialog *d;
	unsigned int flags = 0;
	int sender, is_initial, created = 0;
	const char *dtag;

	c->last_sip_ns = now_ns;
	if (c->end_at_ns)
		return 0; /* BYE seen: nothing reopens it */
	if (!c->caller_tag[0] && m->from_tag[0]) {
		/* Adopted call: whoever speaks first is "caller"; the labels
		 * are only relative. */
		sipd_call_str(&c->caller_tag, m->from_tag, SIP_TAG_LEN);
	}

	if (m->is_request) {
		/* The caller's own requests outside a dialog: from its tag and
		 * its signalling address, or they change nothing. */
		int callers = !strcmp(m->from_tag, c->caller_tag) &&
			      (c->adopted || !memcmp(m->src.addr, c->caller_sig.addr, 16));

		if (sipd_is_initial_invite(m)) {
			/* Retransmission, or a new attempt after 401/407. */
			if (!callers)
				return SIPD_DLG_IGNORED;
			c->invite_cseq = m->cseq;
			c->invite_branch = sw_fnv1a64(m->via_branch, strlen(m->via_branch));
			if (m->has_sdp) {
				if (sdp_put(&c->init_offer, &m->sdp, c->cur_refused))
					return 0; /* out of memory: the last offer stays */
				c->has_init_offer = 1;
				return SIPD_DLG_OFFER;
			}
			c->has_init_offer = 0;
			free(c->init_offer);
			c->init_offer = NULL;
			return 0;
		}
		if (!strcmp(m->method, "CANCEL") && !m->to_tag[0]) {
			/* It names the INVITE it cancels by its branch (RFC
			 * 3261 9.1); anyone else's CANCEL is not the caller's. */
			if (!callers ||
			    c->invite_branch != sw_fnv1a64(m->via_branch, strlen(m->via_branch)))
				return SIPD_DLG_IGNORED;
			if (c->confirmed)
				return 0; /* too late: the 2xx won */
			*reason = "cancel";
			return SIPD_DLG_END;
		}
		if (!m->to_tag[0])
			return 0;
		sender = strcmp(m->from_tag, c->caller_tag) ? SIPD_CALLEE : SIPD_CALLER;
		dtag = sender == SIPD_CALLER ? m->to_tag : m->from_tag;
		/* A request of the callee names the caller's tag as its To. */
		if (sender == SIPD_CALLEE && strcmp(m->to_tag, c->caller_tag))
			return SIPD_DLG_IGNORED;
		d = find_dialog(c, dtag);
		if (!d) {
			/* Dialogs come from the callee's responses. Only an
			 * adopted call, or the in-dialog offer that made a
			 * call sipd did not know, learns one from a request:
			 * made-up tags change nothing. */
			if (!c->adopted && !(c->midcall && !c->n_dlg))
				return SIPD_DLG_IGNORED;
			if (!(d = add_dialog(c, dtag)))
				return 0;
		}
		if (!strcmp(m->method, "BYE")) {
			c->end_at_ns = now_ns + bye_grace_ns;
			return SIPD_DLG_BYE;
		}
		return m->has_sdp ? offer_answer(d, sender, m, c->cur_auth, c->cur_refused,
						 c->cur_inside, c->control)
				  : 0;
	}

	/* Responses. */
	if (!m->to_tag[0])
		return 0; /* 100 Trying */
	sender = strcmp(m->from_tag, c->caller_tag) ? SIPD_CALLER : SIPD_CALLEE;
	dtag = sender == SIPD_CALLEE ? m->to_tag : m->from_tag;
	is_initial =
		sender == SIPD_CALLEE && !strcmp(m->method, "INVITE") && m->cseq == c->invite_cseq;
	d = find_dialog(c, dtag);
	if (!d) {
		if (m->status >= 300)
			goto final_error; /* no dialog to create */
		if (!(d = add_dialog(c, dtag)))
			return 0;
		created = 1;
	}
	if (created && is_initial && c->has_init_offer &&
	    (d->pending_sdp = sdp_dup(c->init_offer, c->init_offer->refused))) {
		/* A new fork answers the INVITE's offer, which went where
		 * the INVITE went. */
		d->pending = 1;
		d->pending_party = SIPD_CALLER;
		d->pending_cseq = c->invite_cseq;
		memcpy(d->pending_to, c->callee_sig.addr, 16);
		memcpy(d->pending_src, c->caller_sig.addr, 16);
		d->pending_auth = c->caller_inside;
		d->pending_inside = c->caller_inside;
		d->pending_method = method_id("INVITE");
	}
	if (m->status >= 300)
		goto final_error;
	if (m->has_sdp)
		flags |= offer_answer(d, sender, m, c->cur_auth, c->cur_refused, c->cur_inside,
				      c->control);
	if (flags & SIPD_DLG_UNMATCHED)
		return flags;
	if (m->status >= 200 && is_initial) {
		d->confirmed = 1;
		if (!c->confirmed) {
			c->confirmed = 1;
			c->confirm_ns = now_ns;
			c->status = m->status;
			flags |= SIPD_DLG_CONFIRMED;
		}
		flags |= drop_other_early(c, d);
	}
	return flags;

final_error:
	if (is_initial && !c->confirmed) {
		c->status = m->status;
		*reason = "rejected";
		return SIPD_DLG_END;
	}
	/* A rejected offer (488/491 to a re-INVITE or UPDATE) is void. */
	if (d && d->pending && d->pending_party != sender && d->pending_cseq == m->cseq &&
	    d->pending_method == method_id(m->method)) {
		d->pending = 0;
		return SIPD_DLG_MEDIA; /* what it opened at the offer goes */
	}
	return 0;
}
