// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinhole planning and map writes.
 *
 * For every completed exchange, each party's media destination (its own SDP
 * address and port) gets a pinhole whose allowed source is the other party's
 * SDP address, and in strict mode its port: the peer's RTP port for the RTP
 * pinhole and its RTCP port for the RTCP pinhole (symmetric RTP). Hold and
 * direction attributes narrow RTP only; RTCP keeps flowing on held streams
 * (RFC 3264 5.1), so RTCP pinholes stay as long as both ports are non-zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <netinet/in.h>

#include "sipd/addrcheck.h"
#include "sipd/pinhole.h"

const char *sipd_kind_name(unsigned int kind)
{
	switch (kind) {
	case SW_KIND_RTP:
		return "rtp";
	case SW_KIND_RTCP:
		return "rtcp";
	case SW_KIND_RTP_RTCP_MUX:
		return "rtp+rtcp";
	case SW_KIND_MANUAL:
		return "manual";
	}
	return "?";
}

static const uint8_t zero16[16];

static int addr_unset(const uint8_t a[16])
{
	/* 0.0.0.0 is ::ffff:0.0.0.0 in the mapped form; :: is all zero. */
	static const uint8_t mapped_any[16] = {[10] = 0xff, [11] = 0xff};

	return !memcmp(a, zero16, 16) || !memcmp(a, mapped_any, 16);
}

static int src_equal(const struct sw_source *a, const struct sw_source *b)
{
	return !memcmp(a->addr, b->addr, 16) && a->port == b->port && a->check == b->check;
}

/* The call a map entry names: its hash, and its Call-ID NUL-padded and
 * truncated (the map copy names the call for humans). */
static void set_owner(struct sw_pinhole *v, const struct sipd_call *c)
{
	v->call_hash = c->hash;
	memset(v->call_id, 0, sizeof(v->call_id));
	memcpy(v->call_id, c->call_id, strnlen(c->call_id, SW_CALL_ID_LEN - 1));
}

/* sw_pinhole_hot.drops is 32 bits wide: nothing is cut */
static uint32_t drops32(uint64_t n)
{
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void sipd_ph_to_map(const struct sipd_ph_val *ph, const struct sipd_call *c, struct sw_pinhole *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->src, ph->src, sizeof(v->src));
	v->packets = ph->packets;
	v->bytes = ph->bytes;
	v->drops = ph->drops;
	v->created_ns = ph->created_ns;
	v->kind = ph->kind;
	v->media_idx = ph->media_idx;
	v->side = ph->side;
	v->media = ph->media;
	set_owner(v, c);
}

void sipd_ph_from_map(struct sipd_ph_val *ph, const struct sw_pinhole *v)
{
	memcpy(ph->src, v->src, sizeof(ph->src));
	ph->packets = v->packets;
	ph->bytes = v->bytes;
	ph->drops = drops32(v->drops);
	ph->created_ns = v->created_ns;
	ph->kind = v->kind;
	ph->media_idx = v->media_idx;
	ph->side = v->side;
	ph->media = v->media;
}

/* The m= line's media type as the data path's DSCP marking knows it. */
static uint8_t media_kind(const char *type)
{
	if (!strcmp(type, "audio"))
		return SW_MEDIA_AUDIO;
	if (!strcmp(type, "video"))
		return SW_MEDIA_VIDEO;
	return SW_MEDIA_OTHER;
}

static void plan_add(struct sipd_ph_plan *p, const uint8_t dst[16], uint16_t dport, uint8_t kind,
		     const uint8_t src[16], uint16_t sport, uint8_t check, unsigned int media_idx,
		     unsigned int side, uint64_t now_ns, const uint8_t *named_by)
{
	struct sw_pinhole_key k;
	struct sw_source s;
	struct sipd_ph *e;
	unsigned int i, j;

	sw_pinhole_key_init(&k, dst, dport);
	memset(&s, 0, sizeof(s));
	memcpy(s.addr, src, 16);
	s.port = htons(sport);
	s.check = check;
	s.flags = SW_SRC_ACTIVE;

	for (i = 0; i < p->n; i++) {
		e = &p->ph[i];
		if (memcmp(&e->key, &k, sizeof(k)))
			continue;
		/* Same destination in several dialogs (forks): more sources. */
		for (j = 0; j < SW_MAX_SOURCES; j++) {
			if (!(e->val.src[j].flags & SW_SRC_ACTIVE)) {
				e->val.src[j] = s;
				return;
			}
			if (src_equal(&e->val.src[j], &s))
				return;
		}
		p->dropped_sources++;
		return;
	}
	if (p->n >= SIPD_PLAN_MAX) {
		p->dropped_pinholes++;
		return;
	}
	e = &p->ph[p->n++];
	memset(e, 0, sizeof(*e));
	e->key = k;
	e->val.src[0] = s;
	e->val.created_ns = now_ns;
	e->val.kind = kind;
	e->val.media_idx = (uint8_t)media_idx;
	e->val.side = (uint8_t)side;
	e->val.media = p->cur_media;
	e->self_named = named_by && !memcmp(named_by, dst, 16);
	if (named_by) {
		e->named_auth = 1;
		memcpy(e->named_by, named_by, 16);
	}
	if (p->cur_src)
		memcpy(e->sent_by, p->cur_src, 16);
	e->dst_inside = p->cfg && sipd_config_is_inside(p->cfg, dst);
}

/*
 * The peer's ICE candidates of component comp as more allowed sources of
 * the destination just planned (RFC 8445: it may send from any of them):
 * unicast addresses on the same side as its c= address only, so an SDP
 * cannot make a source of a special address or of the other side, and at
 * most SW_MAX_SOURCES sources in all (plan_add drops the rest).
 */
static void plan_cands(struct sipd_ph_plan *p, const struct sdp_media *pm, unsigned int comp,
		       const uint8_t dst[16], uint16_t dport, uint8_t kind, uint8_t check,
		       unsigned int media_idx, unsigned int side, uint64_t now_ns,
		       const uint8_t *named_by)
{
	int peer_inside = p->cfg && sipd_config_is_inside(p->cfg, pm->addr);

	for (unsigned int i = 0; i < pm->n_cand && i < SDP_MAX_CAND; i++) {
		const struct sdp_cand *cd = &pm->cand[i];

		if (cd->comp != comp ||
		    sipd_addr_kind(cd->addr, sw_addr_is_v4(cd->addr)) != SIPD_ADDR_UNICAST ||
		    (p->cfg && sipd_config_is_inside(p->cfg, cd->addr) != peer_inside))
			continue;
		plan_add(p, dst, dport, kind, cd->addr, cd->port, check, media_idx, side, now_ns,
			 named_by);
	}
}

static int receives_rtp(enum sdp_dir own, enum sdp_dir peer)
{
	return (own == SDP_SENDRECV || own == SDP_RECVONLY) &&
	       (peer == SDP_SENDRECV || peer == SDP_SENDONLY);
}

/* Pinholes protecting party p's media of one exchange. */
static void plan_party(struct sipd_ph_plan *p, const struct sipd_config *cfg,
		       const struct sipd_dialog *d, int party, uint64_t now_ns)
{
	const struct sdp_session *own = d->neg[party], *peer = d->neg[!party];
	unsigned int side = party == d->neg_offerer ? 0 : 1;
	/* Source of the SDP naming these destinations, when vouched for:
	 * only then may a destination equal to it be taken over. */
	const uint8_t *sig = d->neg_auth[party] ? d->neg_src[party] : NULL;

	p->cur_src = d->neg_src[party];
	int i, n = own->n_media < peer->n_media ? own->n_media : peer->n_media;

	if (n > SDP_MAX_MEDIA)
		n = SDP_MAX_MEDIA;
	for (i = 0; i < n; i++) {
		const struct sdp_media *om = &own->media[i], *pm = &peer->media[i];
		const uint8_t *prtcp_addr;
		unsigned int ports, j;
		uint8_t check;
		int rtp, mux;

		p->cur_media = media_kind(om->type);

		/* Port 0: stream off or rejected; hold address: no media to
		 * that side, and no address to check the peer against; a
		 * refused address (addrcheck.h): nothing either way. */
		if (((own->refused | peer->refused) >> i) & 1)
			continue;
		if (!om->port || !pm->port || om->hold_addr || pm->hold_addr ||
		    addr_unset(om->addr) || addr_unset(pm->addr))
			continue;
		check = sipd_config_check_for(cfg, pm->addr);
		rtp = receives_rtp(om->dir, pm->dir);
		mux = om->rtcp_mux && pm->rtcp_mux;
		prtcp_addr = addr_unset(pm->rtcp_addr) ? pm->addr : pm->rtcp_addr;
		ports = om->port_count ? om->port_count : 1;
		if (ports > SIPD_PORTS_MAX)
			ports = SIPD_PORTS_MAX;
		for (j = 0; j < ports; j++) {
			uint16_t dport = (uint16_t)(om->port + 2 * j);
			uint16_t sport = (uint16_t)(pm->port + 2 * j);
			uint16_t drtcp, srtcp;
			const uint8_t *drtcp_addr = om->addr;

			if (mux) {
				plan_add(p, om->addr, dport, SW_KIND_RTP_RTCP_MUX, pm->addr, sport,
					 check, i, side, now_ns, sig);
				if (j == 0)
					plan_cands(p, pm, 1, om->addr, dport, SW_KIND_RTP_RTCP_MUX,
						   check, i, side, now_ns, sig);
				continue;
			}
			if (rtp) {
				plan_add(p, om->addr, dport, SW_KIND_RTP, pm->addr, sport, check, i,
					 side, now_ns, sig);
				if (j == 0)
					plan_cands(p, pm, 1, om->addr, dport, SW_KIND_RTP, check, i,
						   side, now_ns, sig);
			}
			/* a=rtcp applies to the first port of the m= line. */
			drtcp = (uint16_t)(dport + 1);
			if (j == 0 && om->rtcp_port) {
				drtcp = om->rtcp_port;
				if (!addr_unset(om->rtcp_addr))
					drtcp_addr = om->rtcp_addr;
			}
			srtcp = (uint16_t)(sport + 1);
			if (j == 0 && pm->rtcp_port)
				srtcp = pm->rtcp_port;
			plan_add(p, drtcp_addr, drtcp, SW_KIND_RTCP, j == 0 ? prtcp_addr : pm->addr,
				 srtcp, check, i, side, now_ns, sig);
			if (j == 0)
				plan_cands(p, pm, 2, drtcp_addr, drtcp, SW_KIND_RTCP, check, i,
					   side, now_ns, sig);
		}
	}
}

/*
 * The offerer's own destinations while its offer waits for the answer
 * (media.open_at_offer): the answerer may send RTP before its answer passes.
 * The allowed source is the answerer's media address of the last exchange
 * (a re-offer), else the address the offer went to, by address only; the
 * answer then narrows it to the answer's exact source.
 */
static void plan_offer(struct sipd_ph_plan *p, const struct sipd_config *cfg,
		       const struct sdp_session *offer, const struct sdp_session *prev,
		       const uint8_t *went_to, const uint8_t *named_by, uint64_t now_ns)
{
	int i, n = offer->n_media < SDP_MAX_MEDIA ? offer->n_media : SDP_MAX_MEDIA;

	for (i = 0; i < n; i++) {
		const struct sdp_media *om = &offer->media[i];
		const struct sdp_media *pm = prev && i < prev->n_media ? &prev->media[i] : NULL;
		const uint8_t *src = went_to;
		uint16_t sport = 0, srtcp = 0, drtcp;
		const uint8_t *drtcp_addr = om->addr;
		uint8_t check = SW_CHECK_ADDRESS;

		p->cur_media = media_kind(om->type);

		if (((offer->refused >> i) & 1) || (prev && ((prev->refused >> i) & 1)))
			continue;
		if (!om->port || om->hold_addr || addr_unset(om->addr) ||
		    !(om->dir == SDP_SENDRECV || om->dir == SDP_RECVONLY))
			continue;
		if (pm && pm->port && !pm->hold_addr && !addr_unset(pm->addr)) {
			src = pm->addr;
			sport = pm->port;
			srtcp = pm->rtcp_port ? pm->rtcp_port : (uint16_t)(pm->port + 1);
			check = sipd_config_check_for(cfg, pm->addr);
		}
		if (om->rtcp_mux) {
			plan_add(p, om->addr, om->port, SW_KIND_RTP_RTCP_MUX, src, sport, check, i,
				 0, now_ns, named_by);
			continue;
		}
		plan_add(p, om->addr, om->port, SW_KIND_RTP, src, sport, check, i, 0, now_ns,
			 named_by);
		drtcp = om->rtcp_port ? om->rtcp_port : (uint16_t)(om->port + 1);
		if (om->rtcp_port && !addr_unset(om->rtcp_addr))
			drtcp_addr = om->rtcp_addr;
		plan_add(p, drtcp_addr, drtcp, SW_KIND_RTCP, src, srtcp, check, i, 0, now_ns,
			 named_by);
	}
}

static int offer_opens(const struct sipd_config *cfg, int inside)
{
	return cfg->open_at_offer == SIPD_OAO_ALL ||
	       (cfg->open_at_offer == SIPD_OAO_INSIDE && inside);
}

void sipd_ph_plan(const struct sipd_call *c, const struct sipd_config *cfg, uint64_t now_ns,
		  struct sipd_ph_plan *out)
{
	unsigned int i, j;

	out->n = 0;
	out->dropped_sources = out->dropped_pinholes = 0;
	out->cfg = cfg;
	out->cur_src = NULL;
	for (i = 0; i < c->n_dlg; i++) {
		const struct sipd_dialog *d = &c->dlg[i];

		if (d->have_neg) {
			plan_party(out, cfg, d, SIPD_CALLER, now_ns);
			plan_party(out, cfg, d, SIPD_CALLEE, now_ns);
		}
		/* A controller's offer went to the proxy, not to the answerer:
		 * nobody to allow until an earlier exchange names one. */
		if (d->pending && offer_opens(cfg, d->pending_inside) &&
		    (!c->control || d->have_neg))
			plan_offer(out, cfg, d->pending_sdp,
				   d->have_neg ? d->neg[!d->pending_party] : NULL, d->pending_to,
				   d->pending_auth ? d->pending_src : NULL, now_ns);
	}
	/* The INVITE's offer before any response made a dialog. */
	if (!c->n_dlg && c->has_init_offer && !c->confirmed && !c->adopted && !c->control &&
	    offer_opens(cfg, c->caller_inside || c->privileged))
		plan_offer(out, cfg, c->init_offer, NULL, c->callee_sig.addr,
			   c->caller_inside ? c->caller_sig.addr : NULL, now_ns);
	/* A pinhole that survives keeps its birth time. */
	for (i = 0; i < out->n; i++)
		for (j = 0; j < c->n_ph; j++)
			if (!memcmp(&out->ph[i].key, &c->ph[j].key, sizeof(out->ph[i].key)))
				out->ph[i].val.created_ns = c->ph[j].val.created_ns;
}

/* --- key -> owner index --- */

#define IDX_BUCKETS   65536
#define SHARE_BUCKETS 1024

/* One entry per destination sipd holds in the map: 40 bytes (a 48-byte
 * heap chunk), as every live pinhole has one. The rare sharers (a B2BUA's
 * two legs after direct media) live in a table of their own. */
struct idx_ent {
	struct sw_pinhole_key key;
	uint32_t n_sharers;	 /* claimants in its idx_shares record */
	struct sipd_call *owner; /* named in the map entry */
	struct idx_ent *next;
};

struct idx_shares {
	struct sw_pinhole_key key;
	struct sipd_call *sharer[SIPD_PH_SHARERS]; /* other claimants */
	struct idx_shares *next;
};

struct sipd_ph_index {
	struct idx_ent *b[IDX_BUCKETS];
	struct idx_shares *sh[SHARE_BUCKETS];
};

static uint64_t key_hash(const struct sw_pinhole_key *k)
{
	return sw_fnv1a64(k, sizeof(*k));
}

static unsigned int idx_hash(const struct sw_pinhole_key *k)
{
	return (unsigned int)(key_hash(k) % IDX_BUCKETS);
}

struct sipd_ph_index *sipd_ph_index_new(void)
{
	return calloc(1, sizeof(struct sipd_ph_index));
}

void sipd_ph_index_free(struct sipd_ph_index *x)
{
	struct idx_shares *s, *sn;
	struct idx_ent *e, *n;
	unsigned int i;

	if (!x)
		return;
	for (i = 0; i < IDX_BUCKETS; i++)
		for (e = x->b[i]; e; e = n) {
			n = e->next;
			free(e);
		}
	for (i = 0; i < SHARE_BUCKETS; i++)
		for (s = x->sh[i]; s; s = sn) {
			sn = s->next;
			free(s);
		}
	free(x);
}

/* The link to k's sharers record, NULL when it has none. */
static struct idx_shares **shares_link(struct sipd_ph_index *x, const struct sw_pinhole_key *k)
{
	struct idx_shares **pp;

	for (pp = &x->sh[key_hash(k) % SHARE_BUCKETS]; *pp; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->key, k, sizeof(*k)))
			return pp;
	return NULL;
}

/* The sharers of e (e->n_sharers of them), NULL when it has none. */
static struct sipd_call **sharers(struct sipd_ph_index *x, const struct idx_ent *e)
{
	struct idx_shares **pp = e->n_sharers ? shares_link(x, &e->key) : NULL;

	return pp ? (*pp)->sharer : NULL;
}

/* e has no sharers any more. */
static void shares_drop(struct sipd_ph_index *x, struct idx_ent *e)
{
	struct idx_shares **pp = shares_link(x, &e->key), *s;

	e->n_sharers = 0;
	if (pp) {
		s = *pp;
		*pp = s->next;
		free(s);
	}
}

static struct idx_ent *idx_find(const struct sipd_ph_index *x, const struct sw_pinhole_key *k)
{
	struct idx_ent *e;

	for (e = x->b[idx_hash(k)]; e; e = e->next)
		if (!memcmp(&e->key, k, sizeof(*k)))
			return e;
	return NULL;
}

struct sipd_call *sipd_ph_index_get(const struct sipd_ph_index *x, const struct sw_pinhole_key *k)
{
	const struct idx_ent *e = idx_find(x, k);

	return e ? e->owner : NULL;
}

int sipd_ph_index_add(struct sipd_ph_index *x, const struct sw_pinhole_key *k,
		      struct sipd_call *owner)
{
	unsigned int h = idx_hash(k);
	struct idx_ent *e = idx_find(x, k);

	if (e) {
		e->owner = owner;
		shares_drop(x, e);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = *k;
	e->owner = owner;
	e->next = x->b[h];
	x->b[h] = e;
	return 0;
}

void sipd_ph_index_del(struct sipd_ph_index *x, const struct sw_pinhole_key *k)
{
	struct idx_ent **pp, *e;

	for (pp = &x->b[idx_hash(k)]; (e = *pp); pp = &e->next) {
		if (!memcmp(&e->key, k, sizeof(*k))) {
			*pp = e->next;
			shares_drop(x, e);
			free(e);
			return;
		}
	}
}

static int idx_share(struct sipd_ph_index *x, struct idx_ent *e, struct sipd_call *c)
{
	struct sipd_call **sh = sharers(x, e);
	struct idx_shares *s;
	unsigned int i;

	for (i = 0; i < e->n_sharers; i++)
		if (sh[i] == c)
			return 0;
	if (e->n_sharers >= SIPD_PH_SHARERS)
		return -ENOSPC;
	if (!sh) {
		unsigned int h = (unsigned int)(key_hash(&e->key) % SHARE_BUCKETS);

		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->key = e->key;
		s->next = x->sh[h];
		x->sh[h] = s;
		sh = s->sharer;
	}
	sh[e->n_sharers++] = c;
	return 0;
}

static void idx_unshare(struct sipd_ph_index *x, struct idx_ent *e, const struct sipd_call *c)
{
	struct sipd_call **sh = sharers(x, e);
	unsigned int i;

	for (i = 0; sh && i < e->n_sharers; i++) {
		if (sh[i] == c) {
			sh[i] = sh[--e->n_sharers];
			if (!e->n_sharers)
				shares_drop(x, e);
			return;
		}
	}
}

/* --- events --- */

static void ev_sources(struct sipd_events *ev, const struct sipd_ph_val *v)
{
	unsigned int i, n = 0;

	ev_key(ev, "src");
	ev_put_raw(ev, "[");
	for (i = 0; i < SW_MAX_SOURCES; i++) {
		const struct sw_source *s = &v->src[i];

		if (!(s->flags & SW_SRC_ACTIVE))
			continue;
		if (n++)
			ev_put_raw(ev, ",");
		ev_put_addr(ev, s->addr, ntohs(s->port));
	}
	ev_put_raw(ev, "]");
}

static void ev_pinhole(struct sipd_events *ev, const char *name, const struct sipd_call *c,
		       const struct sipd_ph *ph, uint64_t now_ns, const char *why, int counters)
{
	if (!ev)
		return;
	ev_begin(ev, name, now_ns);
	ev_str(ev, "call_id", c->call_id);
	ev_addr(ev, "dst", ph->key.addr, ntohs(ph->key.port));
	ev_sources(ev, &ph->val);
	ev_str(ev, "check", sw_check_name(ph->val.src[0].check));
	ev_str(ev, "kind", sipd_kind_name(ph->val.kind));
	ev_u64(ev, "media_idx", ph->val.media_idx);
	ev_u64(ev, "side", ph->val.side);
	ev_str(ev, "reason", why);
	if (c->control)
		ev_str(ev, "how", "control");
	if (counters) {
		ev_u64(ev, "packets", ph->val.packets);
		ev_u64(ev, "bytes", ph->val.bytes);
		ev_u64(ev, "drops", ph->val.drops);
	}
	ev_end(ev);
}

/* --- apply --- */

static const struct sipd_ph *find_ph(const struct sipd_ph *v, unsigned int n,
				     const struct sw_pinhole_key *k)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!memcmp(&v[i].key, k, sizeof(*k)))
			return &v[i];
	return NULL;
}

/* The data path's counters of a pinhole, as the map had them. */
static void take_counters(struct sw_pinhole *v, const struct sw_pinhole *cur)
{
	v->packets = cur->packets;
	v->bytes = cur->bytes;
	v->drops = cur->drops;
}

static void ph_counters(struct sipd_ph_val *v, const struct sw_pinhole *cur)
{
	v->packets = cur->packets;
	v->bytes = cur->bytes;
	v->drops = drops32(cur->drops);
}

/* Same meaning (sources, kind, media, side): no write needed. */
static int ph_same(const struct sipd_ph_val *a, const struct sipd_ph_val *b)
{
	return !memcmp(a->src, b->src, sizeof(a->src)) && a->kind == b->kind &&
	       a->media_idx == b->media_idx && a->side == b->side;
}

/* Same allowed sources and kind: two calls may share the map entry. */
static int same_sources(const struct sipd_ph_val *a, const struct sipd_ph_val *b)
{
	return !memcmp(a->src, b->src, sizeof(a->src)) && a->kind == b->kind;
}

/* Remove key from call o's list; emits pinhole_close with why. */
static void drop_claim(struct sipd_ph_ctx *x, struct sipd_call *o, const struct sw_pinhole_key *k,
		       uint64_t now_ns, const char *why)
{
	unsigned int i;

	for (i = 0; i < o->n_ph; i++) {
		if (memcmp(&o->ph[i].key, k, sizeof(*k)))
			continue;
		ev_pinhole(x->ev, "pinhole_close", o, &o->ph[i], now_ns, why, 0);
		o->ph[i] = o->ph[--o->n_ph];
		x->cnt->closed++;
		return;
	}
}

/* A destination moves to c: every other claimant loses it. */
static void steal(struct sipd_ph_ctx *x, struct idx_ent *e, const struct sipd_call *c,
		  const struct sw_pinhole_key *k, uint64_t now_ns, const char *why)
{
	struct sipd_call **sh;
	unsigned int i;

	if (e->owner && e->owner != c)
		drop_claim(x, e->owner, k, now_ns, why);
	sh = sharers(x->idx, e);
	/* drop_claim changes no index entry: the sharers stay put */
	for (i = 0; sh && i < e->n_sharers; i++)
		if (sh[i] != c)
			drop_claim(x, sh[i], k, now_ns, why);
	shares_drop(x->idx, e);
}

/* The peer that named a destination in the owning call names it again: a
 * UA signalling from one address with its media on another. For an inside
 * destination both words must be vouched for; an outside one (guarded only
 * on the inside interface) needs the same source only. */
static int same_peer(const struct sipd_ph *want, const struct sipd_ph *oph)
{
	if (want->dst_inside)
		return want->named_auth && oph->named_auth &&
		       !memcmp(want->named_by, oph->named_by, 16);
	return !memcmp(want->sent_by, oph->sent_by, 16) && memcmp(want->sent_by, zero16, 16);
}

/* The vouched-for source of the SDP naming want is a signalling party of o:
 * a B2BUA moving the media of its other leg (direct media). */
static int party_of(const struct sipd_ph *want, const struct sipd_call *o)
{
	return want->named_auth && !o->adopted &&
	       (!memcmp(want->named_by, o->caller_sig.addr, 16) ||
		(o->have_callee_sig && !memcmp(want->named_by, o->callee_sig.addr, 16)));
}

/* No SIP in o's dialog and no packet on any of its pinholes for
 * takeover_idle_ns: a call whose BYE was lost, not a held one (RTCP flows on
 * held streams every few seconds). */
static int owner_dead(const struct sipd_ph_ctx *x, const struct sipd_call *o, uint64_t now_ns)
{
	uint64_t t = x->takeover_idle_ns, mono = sw_monotonic_ns();
	unsigned int i;

	if (!t || now_ns < o->last_sip_ns || now_ns - o->last_sip_ns < t)
		return 0;
	for (i = 0; i < o->n_ph; i++) {
		struct sw_pinhole_hot cur;

		if (sw_pinhole_get_hot(x->maps, &o->ph[i].key, &cur))
			continue;
		if (cur.last_seen_ns && cur.last_seen_ns <= mono && mono - cur.last_seen_ns < t)
			return 0;
	}
	return 1;
}

static void swap_w(struct sw_pinhole_key *k, struct sw_pinhole *v, uint8_t *is_new, unsigned int i,
		   unsigned int j)
{
	struct sw_pinhole_key tk = k[i];
	struct sw_pinhole tv = v[i];
	uint8_t tn = is_new[i];

	k[i] = k[j];
	v[i] = v[j];
	is_new[i] = is_new[j];
	k[j] = tk;
	v[j] = tv;
	is_new[j] = tn;
}

enum { W_UPDATE = 0, W_NEW = 1, W_TAKE = 2, W_SHARE = 3 };

/*
 * One of c's keys leaves it (moved media, or the call's end): only c's
 * claim goes. A sharer just leaves; an owner with sharers hands the entry to
 * one of them; a sole owner deletes it. ph->val gets c's counters (since it
 * joined, for a sharer) for the CDR.
 */
static void release(struct sipd_ph_ctx *x, struct sipd_call *c, struct sipd_ph *ph, uint64_t now_ns,
		    const char *why)
{
	struct idx_ent *e = idx_find(x->idx, &ph->key);
	struct sw_pinhole cur;
	int err;

	if (ph->shared || (e && e->owner == c && e->n_sharers)) {
		int have = !sw_pinhole_get(x->maps, &ph->key, &cur);

		if (have) {
			ph_counters(&ph->val, &cur);
			ph->val.packets -=
				ph->base_packets < cur.packets ? ph->base_packets : cur.packets;
			ph->val.bytes -= ph->base_bytes < cur.bytes ? ph->base_bytes : cur.bytes;
		}
		if (ph->shared) {
			if (e)
				idx_unshare(x->idx, e, c);
		} else {
			/* The entry now names the next claimant. */
			struct sipd_call *n = sharers(x->idx, e)[0];
			struct sipd_ph *nph = (struct sipd_ph *)find_ph(n->ph, n->n_ph, &ph->key);

			idx_unshare(x->idx, e, n);
			e->owner = n;
			if (nph)
				nph->shared = 0;
			if (have) {
				set_owner(&cur, n);
				if (sw_pinhole_put(x->maps, &ph->key, &cur, BPF_EXIST))
					x->cnt->map_errors++;
				else
					sipd_cluster_ph_put(x->cl, &ph->key, &cur);
			}
		}
		ev_pinhole(x->ev, "pinhole_close", c, ph, now_ns, why, 1);
		x->cnt->closed++;
		return;
	}
	/* Read and delete in one syscall; what is not ours (a manual pinhole
	 * added after ours vanished) goes straight back. */
	err = sw_pinhole_take(x->maps, &ph->key, &cur);
	if (!err && cur.call_hash == c->hash) {
		ph_counters(&ph->val, &cur);
		sipd_cluster_ph_del(x->cl, &ph->key, c->hash);
	} else if (!err) {
		err = sw_pinhole_put(x->maps, &ph->key, &cur, BPF_NOEXIST);
		if (err && err != -EEXIST)
			x->cnt->map_errors++;
	} else if (err != -ENOENT) {
		x->cnt->map_errors++;
	}
	if (e && e->owner == c)
		sipd_ph_index_del(x->idx, &ph->key);
	ev_pinhole(x->ev, "pinhole_close", c, ph, now_ns, why, 1);
	x->cnt->closed++;
}

int sipd_ph_apply(struct sipd_ph_ctx *x, struct sipd_call *c, const struct sipd_ph_plan *plan,
		  uint64_t now_ns, const char *why, char *detail, size_t len)
{
	struct sw_pinhole_key wk[SIPD_PLAN_MAX];
	struct sw_pinhole wv[SIPD_PLAN_MAX];
	uint8_t is_new[SIPD_PLAN_MAX];
	const char *take_why[SIPD_PLAN_MAX];
	struct sipd_ph *nph = NULL;
	unsigned int i, nw = 0, nf, nb, landed;
	char a[64];
	int err;

	/* 1. What to write: new keys (no live call owns them), changed ones,
	 * takeovers; and what to share without a write. */
	for (i = 0; i < plan->n; i++) {
		const struct sipd_ph *want = &plan->ph[i];
		const struct sipd_ph *have = find_ph(c->ph, c->n_ph, &want->key);
		struct sw_pinhole cur;
		struct sipd_call *o;
		struct idx_ent *e;

		if (have && !have->shared) {
			if (ph_same(&have->val, &want->val))
				continue;
			wk[nw] = want->key;
			sipd_ph_to_map(&want->val, c, &wv[nw]);
			/* Keep the data path's counters across the update. */
			if (!sw_pinhole_get(x->maps, &want->key, &cur)) {
				take_counters(&wv[nw], &cur);
				wv[nw].last_seen_ns = cur.last_seen_ns;
			}
			take_why[nw] = "superseded"; /* sharers of the old sources */
			is_new[nw++] = W_UPDATE;
			continue;
		}
		if (have && same_sources(&have->val, &want->val))
			continue; /* still agrees with the entry it shares */
		e = idx_find(x->idx, &want->key);
		o = e ? e->owner : NULL;
		wk[nw] = want->key;
		sipd_ph_to_map(&want->val, c, &wv[nw]);
		take_why[nw] = "taken_over";
		if (!o || o == c || o->end_at_ns) {
			/* Nobody, or a call in its BYE grace: anyone who may
			 * name it takes it. */
			is_new[nw++] = o && o != c ? W_TAKE : W_NEW;
			continue;
		}
		{
			const struct sipd_ph *oph = find_ph(o->ph, o->n_ph, &want->key);

			if (!have && oph && same_sources(&oph->val, &want->val) &&
			    e->n_sharers < SIPD_PH_SHARERS) {
				is_new[nw++] = W_SHARE;
				continue;
			}
			/*
			 * A live owner keeps its destination unless the SDP
			 * naming it is the destination's own vouched-for word
			 * (a UA reusing its port), comes from the vouched-for
			 * peer that named it in the owning call (a multi-homed
			 * UA) or from a signalling party of the owning call (a
			 * B2BUA re-INVITEing for direct media), or the owner
			 * is dead. An outside party never
			 * gets an inside destination: it could not have named
			 * it (sip_wrong_side) nor vouch for an inside source.
			 */
			if (want->self_named || (oph && same_peer(want, oph)) ||
			    party_of(want, o) || owner_dead(x, o, now_ns)) {
				is_new[nw++] = W_TAKE;
				continue;
			}
		}
		sw_addr_format(want->key.addr, a, sizeof(a));
		snprintf(detail, len, "media destination %s port %u is owned by call %.48s", a,
			 ntohs(want->key.port), o->call_id);
		return -EEXIST;
	}

	if (plan->n) {
		nph = malloc(plan->n * sizeof(*nph));
		if (!nph) {
			snprintf(detail, len, "out of memory");
			return -ENOMEM;
		}
	}

	/*
	 * 2. Keys no call owns first, one by one with BPF_NOEXIST: a manual
	 * pinhole or another daemon's is never overwritten, not even one
	 * written a moment ago (and no lookup is needed to find out). Then
	 * the others (updates, takeovers) in one batch; shares last, unwritten.
	 * On failure undo whatever landed.
	 */
	for (i = 0, nf = 0; i < nw; i++)
		if (is_new[i] == W_NEW)
			swap_w(wk, wv, is_new, i, nf++);
	for (i = nf, nb = nf; i < nw; i++)
		if (is_new[i] != W_SHARE)
			swap_w(wk, wv, is_new, i, nb++);
	err = 0;
	for (landed = 0; landed < nf && !err; landed++) {
		struct sw_pinhole v = wv[landed];

		/* The call's owner record (sw_calls) goes with the first;
		 * the others would only find it there (EEXIST). */
		if (landed)
			v.call_id[0] = '\0';
		err = sw_pinhole_put(x->maps, &wk[landed], &v, BPF_NOEXIST);
		if (err)
			break;
	}
	if (!err && nb > nf)
		err = sw_pinhole_put_many(x->maps, wk + nf, wv + nf, nb - nf);
	if (err) {
		struct sw_pinhole cur;

		for (i = 0; i < landed; i++)
			sw_pinhole_del(x->maps, &wk[i]);
		for (i = landed == nf ? nf : nb; i < nb; i++) {
			const struct sipd_call *o = c;
			const struct sipd_ph *old;

			if (is_new[i] == W_TAKE)
				o = sipd_ph_index_get(x->idx, &wk[i]);
			old = o ? find_ph(o->ph, o->n_ph, &wk[i]) : NULL;
			if (old) {
				sipd_ph_to_map(&old->val, o, &cur);
				sw_pinhole_put(x->maps, &wk[i], &cur, BPF_ANY);
			}
		}
		free(nph);
		if (err == -EEXIST && landed < nf) {
			/* Manual (call_hash 0) or another daemon's: not ours. */
			sw_addr_format(wk[landed].addr, a, sizeof(a));
			snprintf(detail, len,
				 "media destination %s port %u already has a %s pinhole", a,
				 ntohs(wk[landed].port),
				 !sw_pinhole_get(x->maps, &wk[landed], &cur) && cur.call_hash
					 ? "foreign"
					 : "manual");
			return -EEXIST;
		}
		x->cnt->map_errors++;
		snprintf(detail, len, "%s",
			 err == -E2BIG || err == -ENOSPC || err == -ENOMEM
				 ? "pinhole map full"
				 : "pinhole map write failed");
		if (err != -E2BIG && err != -ENOSPC && err != -ENOMEM) {
			size_t l = strlen(detail);

			snprintf(detail + l, len - l, ": %s", strerror(-err));
		}
		return err;
	}

	/* 3. Written: take keys over from other calls, join shared ones,
	 * record. */
	for (i = 0; i < nw; i++) {
		struct idx_ent *e = idx_find(x->idx, &wk[i]);
		struct sipd_ph ph = {.key = wk[i]};

		sipd_ph_from_map(&ph.val, &wv[i]);

		if (is_new[i] == W_SHARE) {
			struct sw_pinhole cur;

			/* The other nodes mirror the entry this call now holds
			 * too (its owner's record may be gone there). */
			if (x->cl && !sw_pinhole_get(x->maps, &wk[i], &cur))
				sipd_cluster_ph_put(x->cl, &wk[i], &cur);
			idx_share(x->idx, e, c);
			ev_pinhole(x->ev, "pinhole_open", c, &ph, now_ns, "shared", 0);
			x->cnt->shared++;
			continue;
		}
		if (e) {
			if (is_new[i] == W_TAKE && e->owner && e->owner != c &&
			    !e->owner->end_at_ns)
				x->cnt->taken_over++;
			steal(x, e, c, &wk[i], now_ns, take_why[i]);
		}
		sipd_ph_index_add(x->idx, &wk[i], c);
		sipd_cluster_ph_put(x->cl, &wk[i], &wv[i]);
		ev_pinhole(x->ev, is_new[i] ? "pinhole_open" : "pinhole_update", c, &ph, now_ns,
			   why, 0);
		if (is_new[i])
			x->cnt->opened++;
		else
			x->cnt->updated++;
	}

	/* 4. Release what the plan no longer has (after the new ones exist). */
	for (i = 0; i < c->n_ph;) {
		struct sipd_ph *old = &c->ph[i];

		if (find_ph(plan->ph, plan->n, &old->key)) {
			i++;
			continue;
		}
		release(x, c, old, now_ns, why);
		c->closed_pkts += old->val.packets;
		c->closed_bytes += old->val.bytes;
		c->ph[i] = c->ph[--c->n_ph];
	}

	/* 5. The call now holds exactly the plan (values as written). */
	for (i = 0; i < plan->n; i++) {
		const struct sipd_ph *have = find_ph(c->ph, c->n_ph, &plan->ph[i].key);
		unsigned int j;

		nph[i] = plan->ph[i];
		for (j = 0; j < nw; j++) {
			if (memcmp(&wk[j], &nph[i].key, sizeof(wk[j])))
				continue;
			sipd_ph_from_map(&nph[i].val, &wv[j]);
			if (is_new[j] == W_SHARE) {
				struct sw_pinhole cur;

				nph[i].shared = 1;
				if (!sw_pinhole_get(x->maps, &wk[j], &cur)) {
					nph[i].base_packets = cur.packets;
					nph[i].base_bytes = cur.bytes;
				}
			}
		}
		if (have && (have->shared ? same_sources(&have->val, &plan->ph[i].val)
					  : ph_same(&have->val, &plan->ph[i].val)))
			nph[i] = *have;
	}
	free(c->ph);
	c->ph = nph;
	c->n_ph = plan->n;
	return 0;
}

void sipd_ph_close_all(struct sipd_ph_ctx *x, struct sipd_call *c, uint64_t now_ns, const char *why)
{
	unsigned int i;

	for (i = 0; i < c->n_ph; i++)
		release(x, c, &c->ph[i], now_ns, why);
	/* Its owner record (sw_calls) goes with its last pinhole. */
	if (c->n_ph && x->maps)
		sw_call_del(x->maps, c->hash);
}

int sipd_ph_activity(struct sipd_ph_ctx *x, const struct sipd_call *c, uint64_t *packets,
		     uint64_t *last_seen_ns)
{
	unsigned int i;
	int found = 0;

	*packets = 0;
	*last_seen_ns = 0;
	for (i = 0; i < c->n_ph; i++) {
		struct sw_pinhole_hot cur;

		if (sw_pinhole_get_hot(x->maps, &c->ph[i].key, &cur))
			continue;
		found++;
		*packets += cur.packets;
		if (cur.last_seen_ns > *last_seen_ns)
			*last_seen_ns = cur.last_seen_ns;
	}
	return found;
}
