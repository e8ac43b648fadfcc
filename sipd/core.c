// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd's message path (sipd.h): IP/UDP -> parse + validate -> filters ->
 * dialog and offer/answer -> pinhole plan -> batched map write -> verdict.
 * The verdict is returned only after the map write, so the first RTP packet
 * after a 200 OK always finds its pinhole. One struct sipd is driven by one
 * thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "lib/swmap.h"
#include "sipd/addrcheck.h"
#include "sipd/budget.h"
#include "sipd/config.h"
#include "sipd/dialog.h"
#include "sipd/events.h"
#include "sipd/filter.h"
#include "sipd/guard.h"
#include "sipd/host.h"
#include "sipd/pinhole.h"
#include "sipd/sdp.h"
#include "sipd/sipd.h"
#include "sipd/sipmsg.h"
#include "sipd/stream.h"
#include "sipd/tcprst.h"
#include "sipd/txn.h"

#include <pthread.h>
#include <stdatomic.h>

#define CALL_BUCKETS	16384
#define HOST_REFRESH_NS (5 * 1000000000ull)
#define NS		1000000000ull

/* Peers seen opening SIP connections nobody can inspect (TLS, WSS). */
#define SIPD_UNINSP_SLOTS 1024
struct sipd_uninsp {
	uint8_t addr[16];
	uint64_t conns;
	uint64_t last_ev_ns;
	uint64_t last_syn_ns;		 /* its last SYN, to tell retransmissions */
	uint16_t last_sport, last_dport; /* of that SYN */
	int used;
};

/*
 * One thread handling datagrams (sipd_worker_handle). What it reads of the
 * config is copied here under the lock whenever sipd_reload changed it
 * (cfg_gen), so that parsing, which needs no other state, runs without the
 * lock while another worker holds it.
 */
struct sipd_worker {
	struct sipd *d;
	unsigned int gen; /* d->cfg_gen of the copies below */
	struct sip_limits lim;
	int verify, spoof;
	struct sip_msg msg; /* scratch: this worker's message */
};

struct sipd {
	struct sipd_config *cfg;
	/* Several workers (sipd_set_workers): the lock every state change
	 * and every other entry point takes; one thread: never taken. */
	pthread_mutex_t lock;
	int mt;
	atomic_uint cfg_gen;	/* bumped by each reload */
	struct sipd_worker *w0; /* sipd_handle_packet's */
	struct sw_maps maps;
	struct sipd_events *ev;
	int own_ev;
	struct sipd_ph_index *idx;
	struct sipd_ph_counters phc;
	struct sipd_ph_ctx phx;
	struct sipd_call *calls[CALL_BUCKETS];
	unsigned int n_calls;
	struct sipd_call *wait_head, *wait_tail; /* sipd_call.waiting, oldest first */
	struct sipd_stats st;
	struct sip_msg msg; /* scratch: one message at a time */
	struct sipd_guard *guard;
	struct sipd_cidr *trusted_set; /* what sipd put into sw_trusted */
	unsigned int n_trusted_set;
	uint64_t next_ban_gc_ns;    /* CLOCK_MONOTONIC */
	struct sipd_budget *budget; /* per-source transactions and pinholes */
	struct sipd_txn_table *txn; /* requests sipd forwarded */
	struct sipd_host host;	    /* own addresses, inside-facing interfaces */
	uint64_t next_host_ns;	    /* CLOCK_MONOTONIC */
	uint64_t ph_unprivileged;   /* pinholes of calls from outside untrusted sources */
	uint32_t map_max;	    /* sw_config.max_pinholes */
	int host_reported;	    /* a spoof_check event was written */
	/* sw_pinholes, counted in bounded steps for /metrics */
	struct sw_scan_cursor ph_cur;
	uint64_t ph_walk;	 /* entries seen by the walk in progress */
	uint64_t ph_walked;	 /* what the last finished walk counted */
	uint64_t ph_own_at_walk; /* sipd's opened - closed when it began */
	uint64_t ph_own_begin;	 /* the same when the walk in progress began */
	int ph_known;
	/* sw_bans, counted in bounded steps (ban_gc) */
	struct sw_ban_cursor ban_cur;
	struct sipd_ban_counts bans;	  /* published */
	uint64_t walk_active[SW_BAN_MAX]; /* the walk in progress */
	uint64_t walk_added[SW_BAN_MAX];  /* sipd's own bans since it began */
	unsigned int walk_deleted;
	/* ban_refused events: at most one per second per cause */
	uint64_t refused_ev_ns[SIPD_BAN_REFUSAL_MAX];
	uint64_t refused_quiet[SIPD_BAN_REFUSAL_MAX];
	/* SIP over TCP and WebSocket */
	struct sipd_stream *stream;
	int tcp_reset; /* inline: send the RSTs a rejected stream ends with */
	struct sipd_uninsp uninsp[SIPD_UNINSP_SLOTS];
	uint64_t uninsp_ev_ns; /* the last uninspectable event */
	/* the message being handled is a controller's (sipd_control_sdp) */
	int ctl_active;
	int ctl_inside;	 /* its party is in networks.inside */
	int ctl_vouched; /* its party's address is known (received-from) */
};

static int ph_walk_step(struct sipd *d);
static enum sipd_verdict handle_msg(struct sipd *d, const struct sip_msg *m, uint64_t now_ns,
				    enum sw_sip_reason *why);

/* --- call table --- */

static struct sipd_call **bucket(struct sipd *d, uint64_t hash)
{
	return &d->calls[sipd_bucket_mix(hash) % CALL_BUCKETS];
}

static struct sipd_call *call_find(struct sipd *d, const struct sip_msg *m)
{
	struct sipd_call *c;

	for (c = *bucket(d, m->call_hash); c; c = c->next) {
		if (c->hash != m->call_hash)
			continue;
		/* Adopted calls only know the truncated Call-ID. */
		if (c->adopted ? !strncmp(c->call_id, m->call_id, strlen(c->call_id))
			       : !strcmp(c->call_id, m->call_id))
			return c;
	}
	return NULL;
}

static struct sipd_call *call_find_hash(struct sipd *d, uint64_t hash)
{
	struct sipd_call *c;

	for (c = *bucket(d, hash); c; c = c->next)
		if (c->hash == hash)
			return c;
	return NULL;
}

static void wait_remove(struct sipd *d, struct sipd_call *c)
{
	if (!c->waiting)
		return;
	if (c->wait_prev)
		c->wait_prev->wait_next = c->wait_next;
	else
		d->wait_head = c->wait_next;
	if (c->wait_next)
		c->wait_next->wait_prev = c->wait_prev;
	else
		d->wait_tail = c->wait_prev;
	c->wait_prev = c->wait_next = NULL;
	c->waiting = 0;
}

static void call_insert(struct sipd *d, struct sipd_call *c)
{
	struct sipd_call **b = bucket(d, c->hash);

	c->next = *b;
	*b = c;
	d->n_calls++;
	if (!c->privileged && !c->answered && !c->adopted) {
		c->waiting = 1;
		c->wait_next = NULL;
		c->wait_prev = d->wait_tail;
		if (d->wait_tail)
			d->wait_tail->wait_next = c;
		else
			d->wait_head = c;
		d->wait_tail = c;
	}
}

static void call_unlink(struct sipd *d, struct sipd_call *c)
{
	struct sipd_call **pp;

	wait_remove(d, c);
	for (pp = bucket(d, c->hash); *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			d->n_calls--;
			return;
		}
	}
}

/* --- events --- */

static void ev_call_start(struct sipd *d, const struct sipd_call *c, uint64_t now_ns,
			  const char *how)
{
	struct sipd_events *ev = d->ev;

	if (!ev)
		return;
	ev_begin(ev, "call_start", now_ns);
	ev_str(ev, "call_id", c->call_id);
	ev_str(ev, "from", c->caller);
	ev_str(ev, "to", c->callee);
	ev_addr(ev, "signalling_src", c->caller_sig.addr, c->caller_sig.port);
	ev_str(ev, "direction", sipd_direction_name(c->direction));
	if (how)
		ev_str(ev, "how", how);
	ev_end(ev);
}

/* The CDR: parties, duration, per-pinhole counters read before deletion. */
static void ev_call_end(struct sipd *d, const struct sipd_call *c, uint64_t now_ns,
			const char *reason)
{
	struct sipd_events *ev = d->ev;
	uint64_t pk = c->closed_pkts, by = c->closed_bytes;
	unsigned int i;

	if (!ev)
		return;
	for (i = 0; i < c->n_ph; i++) {
		pk += c->ph[i].val.packets;
		by += c->ph[i].val.bytes;
	}
	ev_begin(ev, "call_end", now_ns);
	ev_str(ev, "call_id", c->call_id);
	ev_str(ev, "reason", reason);
	ev_str(ev, "from", c->caller);
	ev_str(ev, "to", c->callee);
	if (!c->adopted)
		ev_addr(ev, "signalling_src", c->caller_sig.addr, c->caller_sig.port);
	if (c->status)
		ev_i64(ev, "status", c->status);
	ev_u64(ev, "duration_ms", now_ns > c->start_ns ? (now_ns - c->start_ns) / 1000000 : 0);
	ev_u64(ev, "talk_ms",
	       c->confirm_ns && now_ns > c->confirm_ns ? (now_ns - c->confirm_ns) / 1000000 : 0);
	if (c->adopted)
		ev_raw(ev, "adopted", "true");
	if (c->control)
		ev_str(ev, "how", "control");
	ev_u64(ev, "packets", pk);
	ev_u64(ev, "bytes", by);
	ev_key(ev, "pinholes");
	ev_put_raw(ev, "[");
	for (i = 0; i < c->n_ph; i++) {
		const struct sipd_ph *ph = &c->ph[i];

		ev_put_raw(ev, i ? ",{\"dst\":" : "{\"dst\":");
		ev_put_addr(ev, ph->key.addr, ntohs(ph->key.port));
		ev_put_raw(ev, ",\"kind\":");
		ev_put_str(ev, sipd_kind_name(ph->val.kind));
		ev_put_raw(ev, ",\"media_idx\":");
		ev_put_u64(ev, ph->val.media_idx);
		ev_put_raw(ev, ",\"side\":");
		ev_put_u64(ev, ph->val.side);
		ev_put_raw(ev, ",\"packets\":");
		ev_put_u64(ev, ph->val.packets);
		ev_put_raw(ev, ",\"bytes\":");
		ev_put_u64(ev, ph->val.bytes);
		ev_put_raw(ev, "}");
	}
	ev_put_raw(ev, "]");
	ev_end(ev);
}

/* Pinholes of unprivileged calls are counted against their source and the
 * shared part of the map (security.reserved_percent keeps the rest). */
static void charge(struct sipd *d, struct sipd_call *c, uint32_t n)
{
	if (c->privileged || c->adopted)
		return;
	d->ph_unprivileged = d->ph_unprivileged - c->charged + n;
	if (c->use) {
		c->use->pinholes = c->use->pinholes - c->charged + n;
		if (!n) {
			sipd_budget_release(d->budget, c->use);
			c->use = NULL;
		}
	}
	c->charged = n;
}

static void end_call(struct sipd *d, struct sipd_call *c, uint64_t now_ns, const char *reason)
{
	sipd_ph_close_all(&d->phx, c, now_ns, reason);
	charge(d, c, 0);
	/* A call nobody answered (no response matched its requests) was never
	 * announced: a flood of offers leaves counters, not event lines. */
	if (c->answered || c->adopted)
		ev_call_end(d, c, now_ns, reason);
	else
		d->st.calls_unanswered++;
	if (!c->adopted)
		sipd_guard_call_end(d->guard, c->caller_sig.addr);
	if (!c->adopted && c->answered)
		sipd_guard_party(d->guard, c->callee_sig.addr, -1, now_ns);
	call_unlink(d, c);
	d->st.calls_ended++;
	sipd_call_free(c);
}

/* --- DoS guard: bans into sw_bans, settings into sw_config/sw_trusted --- */

static void ev_net(struct sipd_events *ev, const char *key, const uint8_t a[16], unsigned int plen)
{
	char buf[64];

	sw_cidr_format(a, plen, buf, sizeof(buf));
	ev_str(ev, key, buf);
}

/*
 * The guard's ban callback: one map write, one "ban" event. The map masks
 * the source to the data path's ban prefix (sw_config), the one XDP uses.
 */
static int guard_ban(void *ctx, const struct sipd_guard_ban *b, uint64_t now_ns)
{
	struct sipd *d = ctx;
	int err = -ENOENT;

	if (d->maps.bans >= 0)
		err = sw_ban_add(&d->maps, b->src, (uint64_t)b->ttl_s * NS, b->reason);
	if (!err) {
		sipd_cluster_ban(d->phx.cl, b->addr, b->plen, b->ttl_s, b->reason);
		d->bans.active[b->reason]++;
		d->bans.entries++;
		d->walk_added[b->reason]++;
	}
	ev_begin(d->ev, "ban", now_ns);
	ev_net(d->ev, "src", b->addr, b->plen);
	ev_str(d->ev, "reason", sw_ban_reason_name(b->reason));
	ev_u64(d->ev, "ttl_s", b->ttl_s);
	if (b->detail[0])
		ev_str(d->ev, "detail", b->detail);
	if (err)
		ev_str(d->ev, "error",
		       err == -EPERM	? "source is in sw_trusted"
		       : err == -ENOSPC ? "ban list full"
					: strerror(-err));
	ev_end(d->ev);
	return err;
}

/* The guard's check hook: does sw_bans still ban src (sipwall ban del)? */
static int guard_check(void *ctx, const uint8_t src[16])
{
	struct sipd *d = ctx;
	struct sw_ban v;
	int err;

	if (d->maps.bans < 0)
		return -ENOENT;
	err = sw_ban_get(&d->maps, src, &v);
	if (err)
		return err == -ENOENT ? 0 : err;
	return !v.expires_ns || v.expires_ns > sw_monotonic_ns();
}

/* A trigger fired without a ban: a "ban_refused" event, at most one per
 * second per cause, with the number left unsaid since the last one. */
static void guard_refused(void *ctx, const struct sipd_guard_ban *b, enum sipd_ban_refusal why,
			  uint64_t now_ns)
{
	struct sipd *d = ctx;

	if (d->refused_ev_ns[why] && now_ns >= d->refused_ev_ns[why] &&
	    now_ns - d->refused_ev_ns[why] < NS) {
		d->refused_quiet[why]++;
		return;
	}
	d->refused_ev_ns[why] = now_ns ? now_ns : 1;
	ev_begin(d->ev, "ban_refused", now_ns);
	ev_net(d->ev, "src", b->addr, b->plen);
	ev_str(d->ev, "reason", sw_ban_reason_name(b->reason));
	ev_str(d->ev, "cause", sipd_ban_refusal_name(why));
	if (why == SIPD_BAN_HEADROOM)
		ev_u64(d->ev, "bans", d->bans.entries);
	ev_u64(d->ev, "suppressed", d->refused_quiet[why]);
	ev_end(d->ev);
	d->refused_quiet[why] = 0;
}

static int cidr_in(const struct sipd_cidr *l, unsigned int n, const struct sipd_cidr *c)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (l[i].plen == c->plen && !memcmp(l[i].addr, c->addr, 16))
			return 1;
	return 0;
}

/*
 * Push guard.trusted into sw_trusted (removing what an earlier config put
 * there and this one dropped) and, when guard.flood is present, the flood
 * settings into sw_config. Start and reload. Errors are events, not fatal:
 * the pinned maps may come from an older sipwall.
 */
static void guard_sync_datapath(struct sipd *d, uint64_t now_ns)
{
	const struct sipd_guard_cfg *g = &d->cfg->guard;
	struct sw_config sc;
	struct sipd_cidr *keep;
	const char *what = NULL;
	unsigned int i;
	int err = 0, e;

	if (d->maps.trusted >= 0) {
		for (i = 0; i < d->n_trusted_set; i++)
			if (!cidr_in(g->trusted, g->n_trusted, &d->trusted_set[i]))
				sw_trusted_del(&d->maps, d->trusted_set[i].addr,
					       d->trusted_set[i].plen);
		for (i = 0; i < g->n_trusted; i++) {
			e = sw_trusted_add(&d->maps, g->trusted[i].addr, g->trusted[i].plen);
			if (e && !err) {
				err = e;
				what = "sw_trusted";
			}
		}
	} else if (g->n_trusted) {
		err = -ENOENT;
		what = "sw_trusted";
	}
	keep = calloc(g->n_trusted ? g->n_trusted : 1, sizeof(*keep));
	if (keep) {
		if (g->n_trusted) /* trusted is NULL when empty: no memcpy(.., NULL, 0) */
			memcpy(keep, g->trusted, g->n_trusted * sizeof(*keep));
		free(d->trusted_set);
		d->trusted_set = keep;
		d->n_trusted_set = g->n_trusted;
	}
	if (g->flood.set) {
		e = sw_config_read(&d->maps, &sc);
		if (!e) {
			memcpy(sc.sig_ports, g->flood.ports, sizeof(sc.sig_ports));
			sc.flood_rate = g->flood.rate;
			sc.flood_burst = g->flood.burst;
			sc.flood_prefix_v4 = g->flood.prefix_v4;
			sc.flood_prefix_v6 = g->flood.prefix_v6;
			sc.ban_prefix_v4 = g->ban_prefix_v4;
			sc.ban_prefix_v6 = g->ban_prefix_v6;
			if (g->flood.rate)
				sc.flags |= SW_CFG_FLOOD_GUARD;
			else
				sc.flags &= ~SW_CFG_FLOOD_GUARD;
			e = sw_config_write(&d->maps, &sc);
		}
		if (e && !err) {
			err = e;
			what = "sw_config";
		}
	}
	ev_begin(d->ev, "guard_sync", now_ns);
	ev_u64(d->ev, "trusted", g->n_trusted);
	if (g->flood.set) {
		ev_u64(d->ev, "flood_rate", g->flood.rate);
		ev_u64(d->ev, "flood_burst", g->flood.burst);
	}
	if (err) {
		ev_str(d->ev, "map", what);
		ev_str(d->ev, "error", strerror(-err));
	}
	ev_end(d->ev);
}

struct ban_gc_ctx {
	struct sipd *d;
	uint64_t now_mono, now_ns;
	int expire; /* delete what has expired (not on the walk at start) */
	unsigned int n_old;
	struct sw_ban_key old[1024]; /* expired: deleted after the step */
};

static int ban_gc_one(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	struct ban_gc_ctx *g = ctx;
	struct sipd *d = g->d;
	unsigned int r = v->reason < SW_BAN_MAX ? v->reason : SW_BAN_MANUAL;

	d->bans.entries_read++;
	if (!v->expires_ns || v->expires_ns > g->now_mono) {
		d->walk_active[r]++;
		return 0;
	}
	if (!g->expire || g->n_old == sizeof(g->old) / sizeof(g->old[0]))
		return 0; /* the rest at the next walk */
	g->old[g->n_old++] = *k;
	ev_begin(d->ev, "ban_expire", g->now_ns);
	ev_net(d->ev, "src", k->addr, v->prefixlen);
	ev_str(d->ev, "reason", sw_ban_reason_name(v->reason));
	ev_u64(d->ev, "packets", v->packets);
	ev_end(d->ev);
	if (d->bans.active[r])
		d->bans.active[r]--;
	if (d->bans.entries)
		d->bans.entries--;
	return 0;
}

/* A walk finished: its counts plus sipd's bans since it began replace the
 * published ones, and the guard's headroom check uses them. */
static void ban_walk_done(struct sipd *d)
{
	unsigned int r;

	d->bans.entries = 0;
	for (r = 0; r < SW_BAN_MAX; r++) {
		d->bans.active[r] = d->walk_active[r] + d->walk_added[r];
		d->bans.entries += d->bans.active[r];
	}
	memset(d->walk_active, 0, sizeof(d->walk_active));
	memset(d->walk_added, 0, sizeof(d->walk_added));
	d->bans.walks++;
	d->bans.known = 1;
	sipd_guard_set_ban_fill(
		d->guard, d->bans.entries > UINT32_MAX ? UINT32_MAX : (uint32_t)d->bans.entries,
		(uint32_t)d->bans.capacity);
}

/* One bounded step of the walk of sw_bans; 1 when the walk finished. */
static int ban_walk_step(struct sipd *d, uint64_t now_ns, int expire)
{
	struct ban_gc_ctx *g = malloc(sizeof(*g));
	unsigned int i;
	int ret;

	if (!g)
		return -ENOMEM;
	g->d = d;
	g->now_ns = now_ns;
	g->now_mono = sw_monotonic_ns();
	g->expire = expire;
	g->n_old = 0;
	ret = sw_ban_scan(&d->maps, &d->ban_cur, SIPD_BAN_SCAN_PER_TICK, ban_gc_one, g);
	for (i = 0; i < g->n_old; i++)
		if (!sw_ban_del_key(&d->maps, &g->old[i]))
			d->walk_deleted++;
	free(g);
	if (ret < 0) {
		/* Start again next time; counts of a broken walk are dropped. */
		memset(&d->ban_cur, 0, sizeof(d->ban_cur));
		memset(d->walk_active, 0, sizeof(d->walk_active));
		return ret;
	}
	if (ret == 1) {
		ban_walk_done(d);
		/* Nothing left: let sw_ban_gc clear SW_CFG_BANS_ACTIVE. */
		if (!d->bans.entries && d->walk_deleted)
			sw_ban_gc(&d->maps, sw_monotonic_ns(), NULL);
		d->walk_deleted = 0;
	}
	return ret;
}

/* Once a second: the next step of the walk of sw_bans (at most
 * SIPD_BAN_SCAN_PER_TICK entries, so a full list never stalls the packet
 * thread), deleting expired bans (XDP already ignores them) with a
 * ban_expire event each. */
static void ban_gc(struct sipd *d, uint64_t now_ns)
{
	uint64_t mono;

	if (d->maps.bans < 0)
		return;
	mono = sw_monotonic_ns();
	if (mono < d->next_ban_gc_ns)
		return;
	d->next_ban_gc_ns = mono + NS;
	ban_walk_step(d, now_ns, 1);
}

/* At start: count sw_bans once, whole (not yet on the packet path). */
static void ban_count_all(struct sipd *d, uint64_t now_ns)
{
	uint32_t cap = 0;
	int ret;

	if (d->maps.bans < 0 || sw_ban_capacity(&d->maps, &cap))
		return;
	d->bans.capacity = cap;
	memset(&d->ban_cur, 0, sizeof(d->ban_cur));
	do
		ret = ban_walk_step(d, now_ns, 0);
	while (ret == 0);
}

void sipd_get_ban_counts(const struct sipd *d, struct sipd_ban_counts *out)
{
	*out = d->bans;
}

/* --- construction --- */

struct adopt_ctx {
	struct sipd *d;
	int err;
};

static int adopt_one(const struct sw_pinhole_key *k, const struct sw_pinhole *v, void *ctx)
{
	struct adopt_ctx *a = ctx;
	struct sipd *d = a->d;
	struct sipd_call *c;
	struct sipd_ph *nph;
	char id[SW_CALL_ID_LEN + 1];
	uint64_t seen;

	if (!v->call_hash)
		return 0; /* manual: never ours */
	c = call_find_hash(d, v->call_hash);
	if (!c) {
		memcpy(id, v->call_id, SW_CALL_ID_LEN);
		id[SW_CALL_ID_LEN] = '\0';
		c = sipd_call_adopted(v->call_hash, id, v->created_ns);
		if (!c) {
			a->err = -ENOMEM;
			return 1;
		}
		sipd_call_str(&c->caller, "?", 2);
		sipd_call_str(&c->callee, "?", 2);
		call_insert(d, c);
		d->st.calls_adopted++;
	}
	nph = realloc(c->ph, (c->n_ph + 1) * sizeof(*nph));
	if (!nph) {
		a->err = -ENOMEM;
		return 1;
	}
	c->ph = nph;
	memset(&c->ph[c->n_ph], 0, sizeof(c->ph[c->n_ph]));
	c->ph[c->n_ph].key = *k;
	sipd_ph_from_map(&c->ph[c->n_ph].val, v);
	c->n_ph++;
	if (v->created_ns && v->created_ns < c->start_ns)
		c->start_ns = c->confirm_ns = c->last_sip_ns = v->created_ns;
	seen = v->last_seen_ns > v->created_ns ? v->last_seen_ns : v->created_ns;
	if (seen > c->last_media_ns)
		c->last_media_ns = seen;
	c->media_pkts += v->packets;
	if (sipd_ph_index_add(d->idx, k, c)) {
		a->err = -ENOMEM;
		return 1;
	}
	return 0;
}

static int adopt(struct sipd *d, char *err, size_t errlen)
{
	struct adopt_ctx a = {.d = d};
	struct sipd_call *c;
	unsigned int i;
	int ret;

	ret = sw_pinhole_foreach(&d->maps, adopt_one, &a);
	if (a.err)
		ret = a.err;
	if (ret < 0) {
		snprintf(err, errlen, "adopting pinholes under %s: %s", d->maps.root,
			 strerror(-ret));
		return ret;
	}
	/* Owner records a crash left without pinholes. */
	sw_call_gc(&d->maps, NULL);
	for (i = 0; i < CALL_BUCKETS; i++) {
		for (c = d->calls[i]; c; c = c->next) {
			if (!d->ev)
				continue;
			ev_begin(d->ev, "call_adopt", c->start_ns);
			ev_str(d->ev, "call_id", c->call_id);
			ev_u64(d->ev, "pinholes", c->n_ph);
			ev_u64(d->ev, "packets", c->media_pkts);
			ev_end(d->ev);
		}
	}
	return 0;
}

static void report_host(struct sipd *d, uint64_t mono_ns, int err)
{
	d->host_reported = 1;
	if (!d->ev)
		return;
	ev_begin(d->ev, "spoof_check", mono_ns);
	ev_raw(d->ev, "enabled", d->cfg->security.spoof_check ? "true" : "false");
	ev_u64(d->ev, "inside_interfaces", d->host.n_inside_if);
	ev_u64(d->ev, "own_addresses", d->host.n_addr);
	if (err)
		ev_str(d->ev, "error", strerror(-err));
	else if (!d->host.n_inside_if && d->cfg->security.spoof_check)
		ev_str(d->ev, "warning",
		       "no interface has an address in networks.inside: inside sources are not "
		       "checked against their interface (set security.inside_interfaces)");
	ev_end(d->ev);
}

/* Transaction bounds from the config; the host's addresses and interfaces
 * (start, reload, every HOST_REFRESH_NS). */
static void security_sync(struct sipd *d, uint64_t mono_ns)
{
	const struct sipd_config *cfg = d->cfg;
	struct sipd_txn_limits l = {
		.max = cfg->security.max_transactions,
		.per_source = cfg->security.max_transactions_per_source,
		.reserved_pct = cfg->security.reserved_percent,
		.timeout_ns = (uint64_t)cfg->security.transaction_timeout_s * NS,
		/* early_dialog_s 0 (no early timeout): an INVITE's responses
		 * are still bounded, at an hour after its last provisional */
		.early_ns = (uint64_t)(cfg->timeouts.early_dialog_s ? cfg->timeouts.early_dialog_s
								    : 3600) *
			    NS,
	};
	unsigned int before = d->host.n_inside_if;
	int err;

	sipd_txn_set_limits(d->txn, &l);
	d->phx.takeover_idle_ns = (uint64_t)cfg->timeouts.takeover_idle_s * NS;
	err = sipd_host_refresh(&d->host, cfg);
	d->next_host_ns = mono_ns + HOST_REFRESH_NS;
	/* Live sources report it at start and whenever it changes; replay
	 * has no interfaces to speak of. */
	if (d->host_reported && (err || d->host.n_inside_if != before))
		report_host(d, mono_ns, err);
}

void sipd_report_spoof_check(struct sipd *d)
{
	report_host(d, sw_monotonic_ns(), 0);
}

struct sipd *sipd_new(const struct sipd_config *cfg, const char *pin_root_override,
		      struct sipd_events *ev, char *err, size_t errlen)
{
	const char *root;
	struct sipd *d;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->maps = (struct sw_maps)SW_MAPS_INIT;
	{
		/* Adaptive: a waiting worker spins briefly before it sleeps,
		 * as the lock is held for microseconds; a futex sleep and
		 * wake-up per hand-over cost more (sipd-tput -w 2 without
		 * SDP: 1.55x with it, 0.75-1.04x with a plain mutex). */
		pthread_mutexattr_t ma;

		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
		pthread_mutex_init(&d->lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	atomic_init(&d->cfg_gen, 0);
	d->w0 = sipd_worker_new(d);
	d->cfg = sipd_config_dup(cfg);
	d->idx = sipd_ph_index_new();
	d->budget = sipd_budget_new();
	d->txn = d->budget ? sipd_txn_table_new(d->budget) : NULL;
	if (d->cfg)
		d->guard = sipd_guard_new(d->cfg, guard_ban, d);
	if (d->guard)
		sipd_guard_set_hooks(d->guard, guard_check, guard_refused);
	if (d->cfg) {
		struct sipd_stream_limits sl = {
			.max_conns = d->cfg->tcp.max_connections,
			.max_conn_bytes = d->cfg->tcp.max_connection_bytes,
			.max_total_bytes = d->cfg->tcp.max_total_bytes,
			.idle_ns = (uint64_t)d->cfg->tcp.idle_s * NS,
			.gap_ns = (uint64_t)d->cfg->tcp.gap_s * NS,
			.max_msg_len = d->cfg->limits.max_msg_len,
			.max_rejects = d->cfg->tcp.max_rejects,
		};

		d->stream = sipd_stream_new(&sl);
	}
	if (!d->cfg || !d->idx || !d->guard || !d->txn || !d->stream || !d->w0) {
		snprintf(err, errlen, "out of memory copying the config");
		goto fail;
	}
	root = pin_root_override ? pin_root_override : d->cfg->pin_path;
	ret = sw_maps_open(root, &d->maps);
	if (ret) {
		snprintf(err, errlen, "opening the pinned maps under %s: %s", root,
			 ret == -EPROTO
				 ? "pinhole layout of an older sipwall (schema 2 or before): "
				   "detach, remove the pin root and attach again"
				 : strerror(-ret));
		if (ret != -EPROTO) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l,
				 " (is `sipwall attach` done with this pin path?)");
		}
		goto fail;
	}
	if (ev) {
		d->ev = ev;
	} else if (d->cfg->events.output[0]) {
		d->ev = sipd_events_open(d->cfg->events.output, err, errlen);
		if (!d->ev)
			goto fail;
		d->own_ev = 1;
	}
	sipd_events_set_drop_limit(d->ev, d->cfg->events.drop_log_per_s,
				   d->cfg->events.drop_summary_s);
	d->phx.maps = &d->maps;
	d->phx.idx = d->idx;
	d->phx.ev = d->ev;
	d->phx.cnt = &d->phc;
	if (adopt(d, err, errlen))
		goto fail;
	{
		struct sw_config sc;

		d->map_max = !sw_config_read(&d->maps, &sc) && sc.max_pinholes
				     ? sc.max_pinholes
				     : SW_MAX_PINHOLES_DEFAULT;
	}
	security_sync(d, sw_monotonic_ns());
	guard_sync_datapath(d, sw_monotonic_ns());
	ban_count_all(d, sw_monotonic_ns());
	/* sw_pinholes counted whole once, before any packet waits for us. */
	while (ph_walk_step(d) == 0)
		;
	return d;
fail:
	sipd_free(d);
	return NULL;
}

void sipd_free(struct sipd *d)
{
	struct sipd_call *c, *n;
	unsigned int i;

	if (!d)
		return;
	for (i = 0; i < CALL_BUCKETS; i++)
		for (c = d->calls[i]; c; c = n) {
			n = c->next;
			sipd_call_free(c);
		}
	sipd_ph_index_free(d->idx);
	sipd_stream_free(d->stream);
	sipd_txn_table_free(d->txn);
	sipd_budget_free(d->budget);
	sipd_guard_free(d->guard);
	free(d->trusted_set);
	if (d->own_ev)
		sipd_events_close(d->ev);
	sw_maps_close(&d->maps);
	sipd_config_free(d->cfg);
	sipd_worker_free(d->w0);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* --- the control API (control.c, docs/control.md) --- */

/* The address of a session's first stream that is on (its side). */
static const uint8_t *sdp_first_addr(const struct sdp_session *s)
{
	for (int i = 0; i < s->n_media; i++)
		if (s->media[i].port && !s->media[i].hold_addr)
			return s->media[i].addr;
	return s->n_media ? s->media[0].addr : NULL;
}

int sipd_control_sdp(struct sipd *d, const struct sipd_ctl_sdp *x, uint64_t now_ns, char *err,
		     size_t errlen)
{
	struct sip_msg *m = &d->msg;
	struct sipd_call *c;
	enum sw_sip_reason why;
	enum sipd_verdict v;
	const uint8_t *side;
	char det[SDP_DET] = "";
	int ret;

	memset(m, 0, sizeof(*m));
	m->is_request = !x->answer;
	m->status = x->answer ? 200 : 0;
	sip_strlcpy(m->method, sizeof(m->method), "INVITE");
	sip_strlcpy(m->cseq_method, sizeof(m->cseq_method), "INVITE");
	if (strlen(x->call_id) >= sizeof(m->call_id) || strlen(x->from_tag) >= SIP_TAG_LEN ||
	    strlen(x->to_tag) >= SIP_TAG_LEN) {
		snprintf(err, errlen, "call-id or a tag is too long");
		return -EINVAL;
	}
	sip_strlcpy(m->call_id, sizeof(m->call_id), x->call_id);
	m->call_hash = sw_fnv1a64(m->call_id, strlen(m->call_id));
	sip_strlcpy(m->from_tag, sizeof(m->from_tag), x->from_tag);
	sip_strlcpy(m->to_tag, sizeof(m->to_tag), x->to_tag);
	sip_strlcpy(m->content_type, sizeof(m->content_type), "application/sdp");
	sip_strlcpy(m->via_transport, sizeof(m->via_transport), "UDP");
	m->max_forwards = 70;
	m->via_count = 1;
	/* ng names no users: the parties go by their signalling addresses
	 * (call_start's from; the callee's at the answer). */
	if (x->has_sig)
		sw_addr_format(x->sig, x->answer ? m->to_host : m->from_host, sizeof(m->from_host));
	ret = sdp_parse_detail(x->sdp, x->sdp_len, &m->sdp, det);
	if (ret) {
		snprintf(err, errlen, "SDP: %s", det[0] ? det : sw_sip_reason_name(-ret));
		return -EINVAL;
	}
	m->has_sdp = 1;
	m->body = x->sdp;
	m->body_len = x->sdp_len;
	c = call_find(d, m);
	if (c && !c->control) {
		/* sipd follows this call from inline SIP (the proxy's other
		 * leg crosses the firewall in the clear): its pinholes come
		 * from there; the controller's word changes nothing. */
		snprintf(err, errlen,
			 "call followed from inline SIP; its pinholes come from there");
		return 1;
	}
	if (x->answer && !c) {
		snprintf(err, errlen, "no offer for this call-id");
		return -ENOENT;
	}
	m->cseq = x->answer ? c->ctl_cseq : c ? c->ctl_cseq + 1 : 1;
	if (x->answer && c->control && !c->callee[0]) {
		char party[SIPD_PARTY_LEN];

		sip_join_at(party, sizeof(party), NULL, m->to_host);
		sipd_call_str(&c->callee, party, sizeof(party));
	}
	if (x->via_branch && x->via_branch[0])
		sip_strlcpy(m->via_branch, sizeof(m->via_branch), x->via_branch);
	else
		snprintf(m->via_branch, sizeof(m->via_branch), "z9hG4bK-sipwall-ctl-%u", m->cseq);
	/* From the party (received-from; unknown: the unspecified address,
	 * which vouches for nothing) to the proxy. */
	if (x->has_sig) {
		memcpy(m->src.addr, x->sig, 16);
		m->src.port = x->sig_port;
	}
	memcpy(m->dst.addr, x->ctl, 16);
	side = x->has_sig ? x->sig : sdp_first_addr(&m->sdp);
	d->ctl_inside = side && sipd_config_is_inside(d->cfg, side);
	d->ctl_vouched = x->has_sig;
	if (x->answer && c->control && !c->answered) {
		c->callee_sig = m->src;
		c->have_callee_sig = x->has_sig;
	}
	d->ctl_active = 1;
	v = handle_msg(d, m, now_ns, &why);
	d->ctl_active = 0;
	sipd_flush(d);
	if (v != SIPD_ACCEPT) {
		snprintf(err, errlen, "%s: %s", sw_sip_reason_name(why),
			 m->err_detail[0] ? m->err_detail : "refused");
		return -EPERM;
	}
	c = call_find(d, m);
	if (!c || !c->control) {
		snprintf(err, errlen, "no call made (the SDP opened nothing)");
		return -ENOENT;
	}
	if (!x->answer)
		c->ctl_cseq = m->cseq;
	return 0;
}

static struct sipd_call *ctl_call(struct sipd *d, const char *call_id)
{
	uint64_t h = sw_fnv1a64(call_id, strlen(call_id));
	struct sipd_call *c;

	for (c = *bucket(d, h); c; c = c->next)
		if (c->hash == h && !strcmp(c->call_id, call_id))
			return c;
	return NULL;
}

int sipd_control_delete(struct sipd *d, const char *call_id, uint64_t now_ns)
{
	struct sipd_call *c = ctl_call(d, call_id);

	if (!c || !c->control)
		return -ENOENT;
	/* As a BYE: the pinholes stay for the grace (the last RTCP). */
	if (!d->cfg->timeouts.bye_grace_s)
		end_call(d, c, now_ns, "control_delete");
	else if (!c->end_at_ns)
		c->end_at_ns = now_ns + (uint64_t)d->cfg->timeouts.bye_grace_s * NS;
	sipd_flush(d);
	return 0;
}

int sipd_control_call(const struct sipd *d, const char *call_id, struct sipd_ctl_call *out,
		      struct sipd_ctl_ph *ph, unsigned int max)
{
	const struct sipd_call *c = ctl_call((struct sipd *)d, call_id);
	unsigned int n = 0;

	if (!c)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	sip_strlcpy(out->caller, sizeof(out->caller), c->caller);
	sip_strlcpy(out->callee, sizeof(out->callee), c->callee);
	out->control = c->control;
	out->answered = c->answered;
	out->ending = c->end_at_ns != 0;
	out->created_ns = c->start_ns;
	out->last_media_ns = c->last_media_ns;
	for (unsigned int i = 0; i < c->n_ph && n < max; i++, n++) {
		struct sw_pinhole v;
		const struct sipd_ph *p = &c->ph[i];

		ph[n].key = p->key;
		sipd_ph_to_map(&p->val, c, &ph[n].val);
		/* the counters live in the map */
		if (!sw_pinhole_get(&d->maps, &p->key, &v))
			ph[n].val = v;
	}
	out->n_ph = n;
	return 0;
}

unsigned int sipd_control_list(const struct sipd *d, const char **ids, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < CALL_BUCKETS && n < max; i++)
		for (const struct sipd_call *c = d->calls[i]; c && n < max; c = c->next)
			ids[n++] = c->call_id;
	return n;
}

/* Peers by connections, most first (at most n of them). */
static unsigned int top_uninsp(const struct sipd *d, const struct sipd_uninsp **out, unsigned int n)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < SIPD_UNINSP_SLOTS; i++) {
		const struct sipd_uninsp *u = &d->uninsp[i];
		unsigned int j;

		if (!u->used)
			continue;
		if (k == n && out[k - 1]->conns >= u->conns)
			continue;
		j = k < n ? k++ : k - 1;
		while (j && out[j - 1]->conns < u->conns) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = u;
	}
	return k;
}

int sipd_write_status(const struct sipd *d, const char *path, long pid)
{
	const struct sipd_uninsp *top[8];
	struct sipd_stream_stats ts;
	char tmp[4200], addr[48];
	unsigned int n;
	FILE *f;

	if (strlen(path) + 5 > sizeof(tmp) - 100)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	sipd_stream_get_stats(d->stream, &ts);
	fprintf(f, "{\"pid\":%ld,\"updated_unix\":%lld,\"pin_path\":", pid, (long long)time(NULL));
	sipd_json_fputs(f, d->cfg->pin_path);
	fprintf(f, ",\"transports\":[%s%s%s%s%s],", d->cfg->sip.udp ? "\"udp\"" : "",
		d->cfg->sip.udp && (d->cfg->sip.tcp || d->cfg->sip.ws) ? "," : "",
		d->cfg->sip.tcp ? "\"tcp\"" : "", d->cfg->sip.tcp && d->cfg->sip.ws ? "," : "",
		d->cfg->sip.ws ? "\"ws\"" : "");
	fprintf(f,
		"\"tcp\":{\"connections\":%llu,\"buffered_bytes\":%llu,\"messages\":%llu,"
		"\"ws_messages\":%llu,\"rejected\":%llu,\"resets\":%llu},",
		(unsigned long long)ts.conns, (unsigned long long)ts.bytes_held,
		(unsigned long long)ts.messages, (unsigned long long)ts.ws_messages,
		(unsigned long long)ts.rejected, (unsigned long long)d->st.tcp_resets);
	fprintf(f,
		"\"uninspectable\":{\"action\":\"%s\",\"tls\":%llu,\"wss\":%llu,\"peers\":%llu,"
		"\"top_peers\":[",
		d->cfg->sip.uninspectable_drop ? "drop" : "pass",
		(unsigned long long)d->st.uninspectable[0],
		(unsigned long long)d->st.uninspectable[1],
		(unsigned long long)d->st.uninspectable_peers);
	n = top_uninsp(d, top, 8);
	for (unsigned int i = 0; i < n; i++) {
		sw_addr_format(top[i]->addr, addr, sizeof(addr));
		fprintf(f, "%s{\"addr\":\"%s\",\"connections\":%llu}", i ? "," : "", addr,
			(unsigned long long)top[i]->conns);
	}
	fprintf(f, "]},");
	sipd_cluster_status_json(d->phx.cl, f);
	fprintf(f, "}\n");
	if (fclose(f)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return rename(tmp, path) ? -errno : 0;
}

void sipd_set_tcp_reset(struct sipd *d, int on)
{
	d->tcp_reset = on;
}

void sipd_get_stream_stats(const struct sipd *d, struct sipd_stream_stats *out)
{
	sipd_stream_get_stats(d->stream, out);
}

const struct sipd_config *sipd_get_config(const struct sipd *d)
{
	return d->cfg;
}

static void add_restart(char *buf, size_t len, const char *what)
{
	size_t l = strlen(buf);

	snprintf(buf + l, len - l, "%s\"%s\"", l > 1 ? "," : "", what);
}

int sipd_reload(struct sipd *d, const struct sipd_config *cfg, char *err, size_t errlen)
{
	struct sipd_config *n = sipd_config_dup(cfg);
	char restart[128] = "[";
	uint64_t now = sw_monotonic_ns();

	if (!n) {
		snprintf(err, errlen, "reload: cannot copy the new config");
		ev_begin(d->ev, "config_reload", now);
		ev_raw(d->ev, "ok", "false");
		ev_str(d->ev, "error", err);
		ev_end(d->ev);
		return -ENOMEM;
	}
	if (strcmp(n->pin_path, d->cfg->pin_path))
		add_restart(restart, sizeof(restart), "pin_path");
	if (n->queue.num != d->cfg->queue.num || n->queue.count != d->cfg->queue.count ||
	    n->queue.fail_open != d->cfg->queue.fail_open ||
	    n->queue.workers != d->cfg->queue.workers)
		add_restart(restart, sizeof(restart), "queue");
	if (strcmp(n->events.output, d->cfg->events.output))
		add_restart(restart, sizeof(restart), "events.output");
	strcat(restart, "]");
	if (sipd_guard_reconfig(d->guard, n)) {
		snprintf(err, errlen, "reload: cannot allocate guard.max_sources entries");
		ev_begin(d->ev, "config_reload", now);
		ev_raw(d->ev, "ok", "false");
		ev_str(d->ev, "error", err);
		ev_end(d->ev);
		sipd_config_free(n);
		return -ENOMEM;
	}
	sipd_config_free(d->cfg);
	d->cfg = n;
	atomic_fetch_add_explicit(&d->cfg_gen, 1, memory_order_release);
	sipd_events_set_drop_limit(d->ev, n->events.drop_log_per_s, n->events.drop_summary_s);
	security_sync(d, now);
	ev_begin(d->ev, "config_reload", now);
	ev_raw(d->ev, "ok", "true");
	ev_str(d->ev, "origin", n->origin);
	ev_u64(d->ev, "rules", n->n_rules);
	ev_u64(d->ev, "calls_kept", d->n_calls);
	ev_raw(d->ev, "restart_required", restart);
	ev_end(d->ev);
	guard_sync_datapath(d, now);
	return 0;
}

int sipd_reload_file(struct sipd *d, const char *path, char *err, size_t errlen)
{
	struct sipd_config *cfg;
	int ret;

	ret = sipd_config_load(path, &cfg, err, errlen);
	if (ret) {
		ev_begin(d->ev, "config_reload", sw_monotonic_ns());
		ev_raw(d->ev, "ok", "false");
		ev_str(d->ev, "origin", path);
		ev_str(d->ev, "error", err);
		ev_end(d->ev);
		return ret;
	}
	ret = sipd_reload(d, cfg, err, errlen);
	sipd_config_free(cfg);
	return ret;
}

void sipd_get_guard_stats(const struct sipd *d, struct sipd_guard_stats *out)
{
	sipd_guard_get_stats(d->guard, out);
}

void sipd_get_stats(const struct sipd *d, struct sipd_stats *out)
{
	const struct sipd_call *c;
	unsigned int i;

	*out = d->st;
	out->pinholes_opened = d->phc.opened;
	out->pinholes_updated = d->phc.updated;
	out->pinholes_closed = d->phc.closed;
	out->map_errors = d->phc.map_errors;
	out->pinholes_shared = d->phc.shared;
	out->pinholes_taken_over = d->phc.taken_over;
	out->calls_active = d->n_calls;
	{
		struct sipd_txn_stats ts;

		sipd_txn_get_stats(d->txn, &ts);
		out->transactions_active = ts.active;
		out->transactions_refused = ts.refused_full + ts.refused_source;
	}
	out->spoof_check_interfaces = d->host.n_inside_if;
	out->pinholes_active = 0;
	for (i = 0; i < CALL_BUCKETS; i++)
		for (c = d->calls[i]; c; c = c->next)
			out->pinholes_active += c->n_ph;
}

/* --- the message path --- */

/* Ones' complement sum of len octets (RFC 1071), folded later. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/*
 * The IP header of a whole datagram: addresses (v4-mapped), the transport
 * protocol, where its header starts and where the datagram ends (its own
 * length field). 0 or a detail string.
 */
static const char *ip_l4(const uint8_t *ip, size_t len, struct sip_addr *src, struct sip_addr *dst,
			 uint8_t *proto, size_t *off_out, size_t *l3len_out)
{
	static const uint8_t v4map[12] = {[10] = 0xff, [11] = 0xff};
	size_t l3len, off;
	uint8_t next;
	int hops;

	if (len < 1)
		return "empty datagram";
	if ((ip[0] >> 4) == 4) {
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

		if (len < 20 || ihl < 20 || ihl > len)
			return "truncated IPv4 header";
		l3len = (size_t)ip[2] << 8 | ip[3];
		if (l3len < ihl || l3len > len)
			return "bad IPv4 total length";
		if ((ip[6] & 0x20) || ((ip[6] & 0x1f) << 8 | ip[7]))
			return "IPv4 fragment (defragmentation is off)";
		memcpy(src->addr, v4map, 12);
		memcpy(src->addr + 12, ip + 12, 4);
		memcpy(dst->addr, v4map, 12);
		memcpy(dst->addr + 12, ip + 16, 4);
		next = ip[9];
		off = ihl;
	} else if ((ip[0] >> 4) == 6) {
		if (len < 40)
			return "truncated IPv6 header";
		l3len = 40 + ((size_t)ip[4] << 8 | ip[5]);
		if (l3len > len)
			return "bad IPv6 payload length";
		memcpy(src->addr, ip + 8, 16);
		memcpy(dst->addr, ip + 24, 16);
		next = ip[6];
		off = 40;
		for (hops = 0; hops < 8; hops++) {
			if (next == IPPROTO_FRAGMENT)
				return "IPv6 fragment (defragmentation is off)";
			if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
			    next != IPPROTO_DSTOPTS)
				break;
			if (off + 8 > l3len)
				return "truncated IPv6 extension header";
			next = ip[off];
			off += ((size_t)ip[off + 1] + 1) * 8;
		}
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS)
			return "too many IPv6 extension headers";
		if (off > l3len)
			return "truncated IPv6 extension header";
	} else {
		return "not IPv4 or IPv6";
	}
	*proto = next;
	*off_out = off;
	*l3len_out = l3len;
	return NULL;
}

/* The transport checksum over the pseudo-header (RFC 768, RFC 793, RFC 8200
 * 8.1) of the l4len octets at l4 is right. */
static int l4_csum_ok(const uint8_t *ip, uint8_t proto, const uint8_t *l4, size_t l4len)
{
	int v6 = (ip[0] >> 4) == 6;
	uint32_t sum;

	sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
	sum += proto + (uint32_t)(l4len & 0xffff) + (uint32_t)(l4len >> 16);
	sum = csum_add(sum, l4, l4len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* The UDP header behind ip_l4 -> payload. 0 or a detail string; *bad_csum
 * set (and a detail returned) when the checksum is wrong. IPv4 may leave
 * the checksum 0 (not computed); IPv6 may not. */
static const char *udp_payload(const uint8_t *ip, size_t off, size_t l3len, struct sip_addr *src,
			       struct sip_addr *dst, const uint8_t **pl, size_t *plen, int verify,
			       int *bad_csum)
{
	const uint8_t *udp;
	size_t ulen;

	if (off + 8 > l3len)
		return "truncated UDP header";
	udp = ip + off;
	ulen = (size_t)udp[4] << 8 | udp[5];
	if (ulen < 8 || ulen > l3len - off)
		return "bad UDP length";
	src->port = (uint16_t)(udp[0] << 8 | udp[1]);
	dst->port = (uint16_t)(udp[2] << 8 | udp[3]);
	if (verify &&
	    (udp[6] || udp[7] ? !l4_csum_ok(ip, IPPROTO_UDP, udp, ulen) : (ip[0] >> 4) == 6)) {
		*bad_csum = 1;
		return "UDP checksum does not match the datagram";
	}
	*pl = udp + 8;
	*plen = ulen - 8;
	return NULL;
}

static enum sipd_verdict handle_msg(struct sipd *d, const struct sip_msg *m, uint64_t now_ns,
				    enum sw_sip_reason *why);

static enum sipd_verdict drop(struct sipd *d, uint64_t now_ns, enum sw_sip_reason r,
			      const struct sip_msg *m, const char *detail, enum sw_sip_reason *why)
{
	if ((unsigned int)r < SW_SIP_R_MAX)
		d->st.dropped[r]++;
	ev_message_drop(d->ev, now_ns, r, m ? m->src.addr : NULL, m ? m->src.port : 0,
			m ? m->method : NULL, m ? m->call_id : NULL, detail);
	*why = r;
	return SIPD_DROP;
}

/* Put back the state a failed message changed (nothing half-applies). */
static void call_restore(struct sipd_call *c, struct sipd_call *snap)
{
	struct sipd_call *next = c->next, *wp = c->wait_prev, *wn = c->wait_next;
	uint8_t answered = c->answered; /* announced and counted: a fact */
	uint8_t waiting = c->waiting;

	/* snap is a deep copy (sipd_call_clone): what c holds now is its own */
	sipd_call_clear(c);
	*c = *snap;
	c->next = next;
	c->answered = answered;
	c->wait_prev = wp;
	c->wait_next = wn;
	c->waiting = waiting;
	free(snap);
}

static int is_midcall_offer(const struct sip_msg *m)
{
	return m->is_request && m->to_tag[0] && m->has_sdp &&
	       (!strcmp(m->method, "INVITE") || !strcmp(m->method, "UPDATE"));
}

/* Why a datagram from src that arrived on indev cannot be genuine, or NULL. */
static const char *spoofed(const struct sipd *d, const uint8_t src[16], uint32_t indev)
{
	enum sipd_addr_kind k = sipd_addr_kind(src, 1);
	int lo_if = sipd_host_loopback_if(&d->host, indev);

	if (k == SIPD_ADDR_UNSPECIFIED || k == SIPD_ADDR_MULTICAST || k == SIPD_ADDR_BROADCAST ||
	    k == SIPD_ADDR_RESERVED)
		return sipd_addr_kind_name(k);
	if (k == SIPD_ADDR_LOOPBACK && !lo_if)
		return "loopback source on an interface that is not loopback";
	if (lo_if)
		return NULL;
	if (sipd_host_is_own(&d->host, src))
		return "the firewall's own address as the source of a datagram it received";
	if (d->host.n_inside_if && sipd_config_is_inside(d->cfg, src) &&
	    !sipd_host_inside_if(&d->host, indev))
		return "inside source address on an interface that does not face the inside";
	return NULL;
}

/* What a message travelled over (the Via transport it must name). */
enum sipd_wire { SIPD_WIRE_UDP, SIPD_WIRE_TCP, SIPD_WIRE_WS };

static const char *wire_name(enum sipd_wire w)
{
	return w == SIPD_WIRE_UDP ? "UDP" : w == SIPD_WIRE_TCP ? "TCP" : "WS";
}

/* The top Via names the transport the message came over (RFC 3261 18.2.1,
 * RFC 7118 5.2: "WS", or "WSS" from a client that thinks of its TLS hop). */
static int via_matches(const struct sip_msg *m, enum sipd_wire w)
{
	if (w == SIPD_WIRE_WS)
		return !strcmp(m->via_transport, "WS") || !strcmp(m->via_transport, "WSS");
	return !strcmp(m->via_transport, wire_name(w));
}

/* m->src/dst set, the guard passed: parse one whole message, check its Via
 * against the wire and hand it on. */
static enum sipd_verdict parsed(struct sipd *d, struct sip_msg *m, int ret, enum sipd_wire w,
				uint64_t now_ns, enum sw_sip_reason *why)
{
	if (ret) {
		d->st.messages++;
		ret = -ret;
		if (ret <= 0 || ret >= SW_SIP_R_MAX)
			ret = SW_SIP_R_PARSE_ERROR;
		sipd_guard_malformed(d->guard, m->src.addr, m->src.port, ret, now_ns);
		return drop(d, now_ns, ret, m, m->err_detail, why);
	}
	if (!via_matches(m, w)) {
		d->st.messages++;
		snprintf(m->err_detail, sizeof(m->err_detail),
			 "top Via transport %s on a message that came over %s",
			 m->via_transport[0] ? m->via_transport : "(none)", wire_name(w));
		sipd_guard_malformed(d->guard, m->src.addr, m->src.port,
				     SW_SIP_R_TRANSPORT_MISMATCH, now_ns);
		return drop(d, now_ns, SW_SIP_R_TRANSPORT_MISMATCH, m, m->err_detail, why);
	}
	return handle_msg(d, m, now_ns, why);
}

static enum sipd_verdict parse_and_handle(struct sipd *d, const uint8_t *pl, size_t plen,
					  enum sipd_wire w, uint64_t now_ns,
					  enum sw_sip_reason *why)
{
	struct sip_msg *m = &d->msg;
	int ret = sipmsg_parse_datagram((const char *)pl, plen, &d->cfg->limits, m, NULL);

	return parsed(d, m, ret, w, now_ns, why);
}

/* --- SIP over TCP and WebSocket (stream.h) --- */

/* One SIP-over-TLS/WSS connection seen (its SYN): counted per peer, an
 * event at most once a minute per peer, passed or dropped by config. */
static enum sipd_verdict uninspectable(struct sipd *d, const struct sip_addr *client,
				       const struct sip_addr *server, const char *transport,
				       uint64_t now_ns, enum sw_sip_reason *why)
{
	uint64_t h = sw_fnv1a64(client->addr, 16);
	struct sipd_uninsp *u = &d->uninsp[h % SIPD_UNINSP_SLOTS];
	int is_tls = !strcmp(transport, "tls");

	if (memcmp(u->addr, client->addr, 16) || !u->used) {
		if (u->used)
			d->st.uninspectable_evicted++;
		memset(u, 0, sizeof(*u));
		memcpy(u->addr, client->addr, 16);
		u->used = 1;
		d->st.uninspectable_peers++;
	}
	/* A SYN again from the same port within TCP's SYN retries (about a
	 * minute) is the same connection attempt, not another one. */
	if (!(u->conns && u->last_sport == client->port && u->last_dport == server->port &&
	      now_ns - u->last_syn_ns < 75 * NS)) {
		u->conns++;
		d->st.uninspectable[is_tls ? 0 : 1]++;
	}
	u->last_syn_ns = now_ns;
	u->last_sport = client->port;
	u->last_dport = server->port;
	/* One line a minute per peer, and at most one a second in all (a
	 * SYN flood from forged sources is a new peer each time). */
	if ((!u->last_ev_ns || now_ns - u->last_ev_ns >= 60 * NS) &&
	    (!d->uninsp_ev_ns || now_ns - d->uninsp_ev_ns >= NS)) {
		d->uninsp_ev_ns = now_ns;
		ev_begin(d->ev, "uninspectable", now_ns);
		ev_str(d->ev, "transport", transport);
		ev_addr(d->ev, "src", client->addr, client->port);
		ev_addr(d->ev, "dst", server->addr, server->port);
		ev_u64(d->ev, "connections", u->conns);
		ev_str(d->ev, "action", d->cfg->sip.uninspectable_drop ? "drop" : "pass");
		ev_end(d->ev);
		u->last_ev_ns = now_ns;
	}
	if (d->cfg->sip.uninspectable_drop) {
		d->st.dropped[SW_SIP_R_UNINSPECTABLE]++;
		*why = SW_SIP_R_UNINSPECTABLE;
		return SIPD_DROP;
	}
	*why = SW_SIP_R_ACCEPTED;
	return SIPD_ACCEPT;
}

static enum sipd_verdict tcp_drop(struct sipd *d, uint64_t now_ns, enum sw_sip_reason r,
				  const struct sip_addr *src, const char *detail,
				  enum sw_sip_reason *why)
{
	struct sip_msg *m = &d->msg;

	m->method[0] = m->call_id[0] = '\0';
	m->src = *src;
	return drop(d, now_ns, r, m, detail, why);
}

static enum sipd_verdict handle_tcp(struct sipd *d, const uint8_t *ip, size_t off, size_t l3len,
				    const struct sip_addr *src_in, const struct sip_addr *dst_in,
				    const struct sipd_pkt_meta *meta, uint64_t now_ns,
				    enum sw_sip_reason *why)
{
	const struct sipd_config *cfg = d->cfg;
	struct sip_addr src = *src_in, dst = *dst_in;
	struct sip_msg *m = &d->msg;
	struct sipd_stream_res res;
	struct sipd_tcp_seg seg;
	const uint8_t *tcp = ip + off;
	enum sipd_verdict v = SIPD_ACCEPT;
	enum sw_sip_reason first = SW_SIP_R_ACCEPTED;
	size_t tlen = l3len - off, doff;
	const char *bad;
	int ws;

	*why = SW_SIP_R_ACCEPTED;
	if (tlen < 20 || (doff = (size_t)(tcp[12] >> 4) * 4) < 20 || doff > tlen) {
		d->st.messages++;
		return tcp_drop(d, now_ns, SW_SIP_R_BAD_PACKET, &src, "truncated TCP header", why);
	}
	src.port = (uint16_t)(tcp[0] << 8 | tcp[1]);
	dst.port = (uint16_t)(tcp[2] << 8 | tcp[3]);
	if (cfg->security.verify_checksums && !(meta && meta->csum_skip) &&
	    !l4_csum_ok(ip, IPPROTO_TCP, tcp, tlen)) {
		d->st.messages++;
		return tcp_drop(d, now_ns, SW_SIP_R_BAD_CHECKSUM, &src,
				"TCP checksum does not match the segment", why);
	}
	if (meta && meta->indev && cfg->security.spoof_check) {
		bad = spoofed(d, src.addr, meta->indev);
		if (bad) {
			d->st.messages++;
			return tcp_drop(d, now_ns, SW_SIP_R_SPOOFED_SOURCE, &src, bad, why);
		}
	}
	/* TLS and WSS: a SYN to their port is a connection nobody can read. */
	if ((tcp[13] & (SIPD_TCP_SYN | SIPD_TCP_ACK)) == SIPD_TCP_SYN) {
		if (sipd_port_list_has(&cfg->sip.tls_ports, dst.port))
			return uninspectable(d, &src, &dst, "tls", now_ns, why);
		if (sipd_port_list_has(&cfg->sip.wss_ports, dst.port))
			return uninspectable(d, &src, &dst, "wss", now_ns, why);
	}
	ws = cfg->sip.ws && (sipd_port_list_has(&cfg->sip.ws_ports, dst.port) ||
			     sipd_port_list_has(&cfg->sip.ws_ports, src.port));
	/* Inline, whatever the rules queued is SIP (`rules install --ports`
	 * may name ports the config does not); the capture sources hand over
	 * any TCP. */
	if (!ws && !(meta && meta->queued) &&
	    !(cfg->sip.tcp && (sipd_port_list_has(&cfg->sip.tcp_ports, dst.port) ||
			       sipd_port_list_has(&cfg->sip.tcp_ports, src.port))))
		return SIPD_ACCEPT; /* not a SIP stream sipd inspects */
	/* Urgent data leaves the receiver's byte stream (SO_OOBINLINE off):
	 * what sipd framed would not be what it reads. SIP never sends it. */
	if (tcp[13] & 0x20)
		return tcp_drop(d, now_ns, SW_SIP_R_BAD_PACKET, &src,
				"TCP urgent data on a SIP stream", why);

	memcpy(seg.key.saddr, src.addr, 16);
	memcpy(seg.key.daddr, dst.addr, 16);
	seg.key.sport = src.port;
	seg.key.dport = dst.port;
	seg.seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	seg.ack =
		(uint32_t)tcp[8] << 24 | (uint32_t)tcp[9] << 16 | (uint32_t)tcp[10] << 8 | tcp[11];
	seg.flags = tcp[13] & (SIPD_TCP_FIN | SIPD_TCP_SYN | SIPD_TCP_RST | SIPD_TCP_ACK);
	seg.ws = (uint8_t)ws;
	seg.data = tcp + doff;
	seg.len = tlen - doff;
	if (sipd_stream_add(d->stream, &seg, now_ns, &res))
		/* out of memory: nothing taken, so nothing may pass (TCP sends
		 * it again) */
		return tcp_drop(d, now_ns, SW_SIP_R_PINHOLE_FAILED, &src,
				"out of memory reassembling the stream", why);
	d->st.keepalives += res.keepalives;
	switch (res.v) {
	case SIPD_STREAM_PASS:
		return SIPD_ACCEPT;
	case SIPD_STREAM_DROP:
		return tcp_drop(d, now_ns,
				res.drop_why == SIPD_STREAM_DROP_OVERLAP ? SW_SIP_R_STREAM_OVERLAP
				: res.drop_why == SIPD_STREAM_DROP_UNFRAMED
					? SW_SIP_R_BAD_START_LINE
					: SW_SIP_R_STREAM_REJECTED,
				&src, sipd_stream_drop_detail(res.drop_why), why);
	case SIPD_STREAM_RESET:
		d->st.tcp_resets++;
		if (cfg->tcp.reset && d->tcp_reset)
			for (int i = 0; i < 2; i++)
				if (sipd_tcp_send_rst(&res.rst[i]))
					d->st.tcp_reset_errors++;
		return tcp_drop(d, now_ns, SW_SIP_R_STREAM_REJECTED, &src,
				"TCP connection reset: its dropped message kept coming back", why);
	case SIPD_STREAM_DECIDE:
		break;
	}
	for (unsigned int i = 0; i < res.n_items; i++) {
		const struct sipd_stream_item *it = &res.items[i];
		enum sw_sip_reason r = SW_SIP_R_ACCEPTED;
		enum sipd_verdict iv;
		int ret;

		m->method[0] = m->call_id[0] = m->err_detail[0] = '\0';
		m->src = src;
		m->dst = dst;
		if (it->kind == SIPD_STREAM_BAD) {
			d->st.messages++;
			sipd_guard_malformed(d->guard, src.addr, src.port, it->reason, now_ns);
			iv = drop(d, now_ns, it->reason, m, it->detail, &r);
		} else if ((ret = sipd_guard_admit(d->guard, src.addr, now_ns, m->err_detail,
						   sizeof(m->err_detail)))) {
			d->st.messages++;
			iv = drop(d, now_ns, ret, m, m->err_detail, &r);
		} else {
			iv = parse_and_handle(d, it->data, it->len,
					      it->ws ? SIPD_WIRE_WS : SIPD_WIRE_TCP, now_ns, &r);
		}
		if (it->kind == SIPD_STREAM_MSG)
			d->st.tcp_messages++;
		if (iv == SIPD_DROP) {
			/* The segment is dropped and its direction rejected: the
			 * messages after it never reach the receiver, so none
			 * of them may act either. */
			v = SIPD_DROP;
			first = r;
			break;
		}
	}
	if (v == SIPD_DROP)
		sipd_stream_reject(d->stream, &seg, now_ns);
	*why = first;
	return v;
}

void sipd_lock(struct sipd *d)
{
	if (d->mt)
		pthread_mutex_lock(&d->lock);
}

void sipd_unlock(struct sipd *d)
{
	if (d->mt)
		pthread_mutex_unlock(&d->lock);
}

void sipd_set_workers(struct sipd *d, unsigned int n)
{
	d->mt = n > 1;
}

struct sipd_worker *sipd_worker_new(struct sipd *d)
{
	struct sipd_worker *w = calloc(1, sizeof(*w));

	if (w) {
		w->d = d;
		w->gen = ~0u; /* copied at its first datagram */
	}
	return w;
}

void sipd_worker_free(struct sipd_worker *w)
{
	free(w);
}

/* Under the lock: the config a worker reads without it. */
static void worker_sync(struct sipd_worker *w)
{
	const struct sipd_config *cfg = w->d->cfg;

	w->lim = cfg->limits;
	w->verify = cfg->security.verify_checksums;
	w->spoof = cfg->security.spoof_check;
	w->gen = atomic_load_explicit(&w->d->cfg_gen, memory_order_acquire);
}

/*
 * One datagram. Without the lock: its headers, checksum and keep-alive test,
 * and the parse (libosip2 and strict validation, most of a message's CPU);
 * with it: the spoof check, the guard, and everything that reads or changes
 * calls, transactions, maps, counters or events. SIP over TCP is handled
 * under the lock as a whole (its reassembly state is shared).
 */
enum sipd_verdict sipd_worker_handle(struct sipd_worker *w, const uint8_t *ip, size_t len,
				     const struct sipd_pkt_meta *meta, uint64_t now_ns,
				     enum sw_sip_reason *why)
{
	struct sipd *d = w->d;
	struct sip_msg *m = &w->msg;
	struct sip_addr src = {0}, dst = {0};
	const uint8_t *pl = NULL;
	const char *bad;
	size_t plen = 0, off = 0, l3len = 0;
	int ret, bad_csum = 0, ka = 0;
	enum sipd_verdict v;
	uint8_t proto = 0;

	if (atomic_load_explicit(&d->cfg_gen, memory_order_acquire) != w->gen) {
		sipd_lock(d);
		worker_sync(w);
		sipd_unlock(d);
	}
	bad = ip_l4(ip, len, &src, &dst, &proto, &off, &l3len);
	if (!bad && proto == IPPROTO_TCP) {
		sipd_lock(d);
		v = handle_tcp(d, ip, off, l3len, &src, &dst, meta, now_ns, why);
		sipd_unlock(d);
		return v;
	}
	if (!bad)
		bad = proto == IPPROTO_UDP
			      ? udp_payload(ip, off, l3len, &src, &dst, &pl, &plen,
					    w->verify && !(meta && meta->csum_skip), &bad_csum)
			      : "not UDP or TCP";
	m->method[0] = m->call_id[0] = m->err_detail[0] = '\0';
	m->src = src;
	m->dst = dst;
	/* Keep-alives (CRLFs, STUN Binding; sipmsg.h) are not SIP: passed
	 * unparsed, counted apart, before the guard, so they feed no ban
	 * trigger, no state and no event. The XDP flood guard bounds them. */
	if (!bad)
		ka = sipmsg_keepalive(pl, plen);
	sipd_lock(d);
	if (bad) {
		d->st.messages++;
		/* Never counted toward a ban: the source is whatever it says. */
		v = drop(d, now_ns, bad_csum ? SW_SIP_R_BAD_CHECKSUM : SW_SIP_R_BAD_PACKET,
			 bad_csum ? m : NULL, bad, why);
		goto out;
	}
	if (meta && meta->indev && w->spoof) {
		bad = spoofed(d, src.addr, meta->indev);
		if (bad) {
			d->st.messages++;
			v = drop(d, now_ns, SW_SIP_R_SPOOFED_SOURCE, m, bad, why);
			goto out;
		}
	}
	if (ka) {
		d->st.keepalives++;
		d->st.keepalives_stun += ka == SIP_KA_STUN;
		*why = SW_SIP_R_ACCEPTED;
		v = SIPD_ACCEPT;
		goto out;
	}
	/* Bounded before parsing: a flood costs a table lookup each. */
	ret = sipd_guard_admit(d->guard, src.addr, now_ns, m->err_detail, sizeof(m->err_detail));
	if (ret) {
		d->st.messages++;
		v = drop(d, now_ns, ret, m, m->err_detail, why);
		goto out;
	}
	sipd_unlock(d);
	ret = sipmsg_parse_datagram((const char *)pl, plen, &w->lim, m, NULL);
	sipd_lock(d);
	v = parsed(d, m, ret, SIPD_WIRE_UDP, now_ns, why);
out:
	sipd_unlock(d);
	return v;
}

enum sipd_verdict sipd_handle_packet_meta(struct sipd *d, const uint8_t *ip, size_t len,
					  const struct sipd_pkt_meta *meta, uint64_t now_ns,
					  enum sw_sip_reason *why)
{
	return sipd_worker_handle(d->w0, ip, len, meta, now_ns, why);
}

enum sipd_verdict sipd_handle_packet(struct sipd *d, const uint8_t *ip, size_t len, uint64_t now_ns,
				     enum sw_sip_reason *why)
{
	return sipd_handle_packet_meta(d, ip, len, NULL, now_ns, why);
}

enum sipd_verdict sipd_handle_msg(struct sipd *d, const struct sip_msg *m, uint64_t now_ns,
				  enum sw_sip_reason *why)
{
	char detail[256];
	int ret;

	ret = sipd_guard_admit(d->guard, m->src.addr, now_ns, detail, sizeof(detail));
	if (ret) {
		d->st.messages++;
		return drop(d, now_ns, ret, m, detail, why);
	}
	return handle_msg(d, m, now_ns, why);
}

/*
 * Streams whose SDP names an address no pinhole may use (addrcheck.h) are
 * refused, not the message: the call goes on (a PBX telling two inside
 * phones to talk directly needs no pinhole at all), and that m= line gets
 * no pinhole in either direction. Counted by reason, logged rate-limited.
 */
static uint8_t refuse_media(struct sipd *d, const struct sip_msg *m, int from_inside,
			    uint64_t now_ns)
{
	char detail[160];
	uint8_t mask = 0;
	int i, r;

	for (i = 0; i < m->sdp.n_media && i < SDP_MAX_MEDIA; i++) {
		r = -sipd_media_check(&m->sdp.media[i], d->cfg, &d->host, from_inside, detail,
				      sizeof(detail));
		if (!r)
			continue;
		mask |= (uint8_t)(1u << i);
		d->st.media_refused[r]++;
		if (!ev_limit(d->ev, now_ns, r))
			continue;
		ev_begin(d->ev, "media_refused", now_ns);
		ev_str(d->ev, "reason", sw_sip_reason_name(r));
		ev_addr(d->ev, "src", m->src.addr, m->src.port);
		ev_str(d->ev, "method", m->method);
		if (!m->is_request)
			ev_i64(d->ev, "status", m->status);
		ev_str(d->ev, "call_id", m->call_id);
		ev_u64(d->ev, "media_idx", (uint64_t)i);
		ev_str(d->ev, "detail", detail);
		ev_end(d->ev);
	}
	return mask;
}

/* A new call is announced when one of its requests is first answered: a
 * flood of offers nobody answers writes no call_start lines. */
static void announce(struct sipd *d, struct sipd_call *c, uint64_t now_ns)
{
	if (c->answered)
		return;
	c->answered = 1;
	wait_remove(d, c);
	if (!c->adopted)
		sipd_guard_party(d->guard, c->callee_sig.addr, 1, now_ns);
	ev_call_start(d, c, now_ns, c->control ? "control" : c->midcall ? "midcall" : NULL);
}

/* Undo a call created by the message being dropped. */
static void call_discard(struct sipd *d, struct sipd_call *c)
{
	sipd_guard_call_end(d->guard, c->caller_sig.addr);
	call_unlink(d, c);
	d->st.calls_started--;
	sipd_call_free(c);
}

static int party_of_tags(const struct sipd_call *c, const struct sip_msg *m)
{
	int from_caller = !strcmp(m->from_tag, c->caller_tag);

	/* A request's From is its sender; a response's From is the request's. */
	return m->is_request == from_caller ? SIPD_CALLER : SIPD_CALLEE;
}

static enum sipd_verdict handle_msg(struct sipd *d, const struct sip_msg *m, uint64_t now_ns,
				    enum sw_sip_reason *why)
{
	const struct sipd_config *cfg = d->cfg;
	struct sipd_call *c, *snap = NULL;
	struct sipd_ph_plan *plan = NULL;
	struct sipd_txn *t = NULL, *req_t = NULL;
	const char *reason = NULL, *cause;
	char detail[256], a[64];
	unsigned int dir = SIPD_DIR_TRANSIT, flags;
	int ret, limit = 0, created = 0, from_inside, privileged, party = SIPD_CALLER, offer_only;
	int ctl = d->ctl_active;
	uint8_t refused;
	enum sw_sip_reason r;

	d->st.messages++;
	from_inside = sipd_config_is_inside(cfg, m->src.addr);
	privileged = from_inside || sipd_guard_trusted(cfg, m->src.addr);
	if (ctl) {
		/* The controller's words: each party sits where its SDP says;
		 * no transaction, guard or filter (the proxy decided). */
		from_inside = d->ctl_inside;
		privileged = from_inside || sipd_guard_trusted(cfg, m->src.addr);
		dir = from_inside ? SIPD_DIR_OUTBOUND : SIPD_DIR_INBOUND;
		goto ctl_call;
	}
	if (!m->is_request) {
		/* A response is believed only against a request sipd let
		 * through, and only from where that request went. */
		t = sipd_txn_match(d->txn, m, now_ns);
		if (!t) {
			d->st.responses_unmatched++;
			if (cfg->security.unmatched_drop) {
				sw_addr_format(m->src.addr, a, sizeof(a));
				snprintf(detail, sizeof(detail),
					 "no %.40s (CSeq %u, branch \"%.60s\") of this call went "
					 "to %.46s",
					 m->method, m->cseq, m->via_branch, a);
				return drop(d, now_ns, SW_SIP_R_UNMATCHED_RESPONSE, m, detail, why);
			}
			goto accept; /* passed, believed in nothing */
		}
	}
	ret = sipd_guard_message(d->guard, m, now_ns, detail, sizeof(detail));
	if (ret)
		return drop(d, now_ns, ret, m, detail, why);
	dir = sipd_config_direction(cfg, m->src.addr, m->dst.addr);
	ret = sipd_policy(cfg, m, dir, detail, sizeof(detail));
	if (ret)
		return drop(d, now_ns, -ret, m, detail, why);
ctl_call:
	refused = m->has_sdp ? refuse_media(d, m, from_inside, now_ns) : 0;

	c = call_find(d, m);
	if (c && !ctl && c->control) {
		/* The controller drives this call: its inline SIP is recorded
		 * (so the responses match), believed in nothing. */
		c = NULL;
		goto record;
	}
	if (!c) {
		if (m->is_request && !strcmp(m->method, "BYE"))
			sipd_cluster_bye(d->phx.cl, m->call_hash); /* a dead node's call? */
		if (!m->is_request || !(sipd_is_initial_invite(m) || is_midcall_offer(m)))
			goto record; /* not a call we track */
		{
			uint64_t cap = privileged ? cfg->max_calls
						  : (uint64_t)cfg->max_calls *
							    (100 - cfg->security.reserved_percent) /
							    100;

			/* Room first from the oldest call of an outside caller
			 * that nobody answered: forged offers make room for
			 * real ones, never the other way round. */
			if (d->n_calls >= cap && d->wait_head) {
				end_call(d, d->wait_head, now_ns, "evicted");
				d->st.calls_evicted++;
			}
			if (d->n_calls >= cap) {
				snprintf(detail, sizeof(detail),
					 "%u calls tracked (limits.max_calls%s)", d->n_calls,
					 privileged ? ""
						    : ", the rest reserved for inside and "
						      "trusted sources");
				return drop(d, now_ns, SW_SIP_R_DIALOG_LIMIT, m, detail, why);
			}
		}
		ret = sipd_guard_call_start(d->guard, m->src.addr, now_ns, detail, sizeof(detail));
		if (ret)
			return drop(d, now_ns, ret, m, detail, why);
		c = sipd_call_new(m, dir, now_ns);
		if (!c) {
			sipd_guard_call_end(d->guard, m->src.addr);
			return drop(d, now_ns, SW_SIP_R_DIALOG_LIMIT, m, "out of memory", why);
		}
		c->control = (uint8_t)ctl;
		if (c->init_offer)
			c->init_offer->refused = refused;
		c->caller_inside = (uint8_t)from_inside;
		c->callee_inside = (uint8_t)sipd_config_is_inside(cfg, m->dst.addr);
		c->privileged = (uint8_t)privileged;
		if (!sipd_is_initial_invite(m)) {
			/* Mid-call offer of a call we do not know (its
			 * pinholes expired, or sipd lost it): track it from
			 * here so its answer opens pinholes again. */
			c->confirmed = 1;
			c->confirm_ns = now_ns;
			c->midcall = 1;
		}
		call_insert(d, c);
		d->st.calls_started++;
		created = 1;
	} else if (m->has_sdp) {
		snap = sipd_call_clone(c);
		if (!snap)
			return drop(d, now_ns, SW_SIP_R_PINHOLE_FAILED, m, "out of memory", why);
	}

	/* Roles are bound to sides: where the two parties sit on different
	 * sides, a message claiming (by its tags) to come from one party must
	 * arrive from that party's side, and a response must come back from
	 * the side its request went to. */
	if (ctl) {
		if (!m->is_request) {
			c->callee_inside = (uint8_t)from_inside;
			announce(d, c, now_ns);
		}
		c->cur_auth = (uint8_t)d->ctl_vouched;
		c->cur_refused = refused;
		c->cur_inside = (uint8_t)privileged;
		goto dialog;
	}
	if (!c->adopted && c->caller_tag[0]) {
		int claimed = party_of_tags(c, m);

		party = claimed;
		if (t && claimed != !t->party) {
			r = SW_SIP_R_WRONG_SIDE;
			snprintf(detail, sizeof(detail),
				 "response tags name the %s but its request was sent by the %s",
				 claimed == SIPD_CALLER ? "caller" : "callee",
				 t->party == SIPD_CALLER ? "caller" : "callee");
			goto refuse;
		}
		if (m->is_request && c->caller_inside != c->callee_inside &&
		    from_inside != (claimed == SIPD_CALLER ? c->caller_inside : c->callee_inside)) {
			r = SW_SIP_R_WRONG_SIDE;
			snprintf(detail, sizeof(detail),
				 "request tags name the %s, who is %s, but it came from %s",
				 claimed == SIPD_CALLER ? "caller" : "callee",
				 from_inside ? "outside" : "inside",
				 from_inside ? "inside" : "outside");
			goto refuse;
		}
	}
	if (t)
		announce(d, c, now_ns);
	/* SDP from a response matching a forwarded request, or from an inside
	 * source (spoof-checked), speaks for its source address. */
	c->cur_auth = (uint8_t)(t ? 1 : from_inside);
	c->cur_refused = refused;
	c->cur_inside = (uint8_t)privileged;

record:
	if (m->is_request && strcmp(m->method, "ACK")) {
		uint8_t key[16];

		sipd_guard_source_key(cfg, m->src.addr, key);
		ret = sipd_txn_add(d->txn, m, party, privileged, key, now_ns, &req_t);
		if (ret) {
			r = SW_SIP_R_TRANSACTION_LIMIT;
			snprintf(detail, sizeof(detail), "%s",
				 ret == -EDQUOT ? "transactions in flight from this source "
						  "(security.max_transactions_per_source)"
				 : ret == -ENOSPC
					 ? "transactions in flight (security.max_transactions; the "
					   "rest reserved for inside and trusted sources)"
					 : "out of memory");
			if (!c)
				return drop(d, now_ns, r, m, detail, why);
			goto refuse;
		}
	}
	if (!c)
		goto accept;

dialog:
	flags = sipd_dialog_update(c, m, now_ns, cfg->timeouts.bye_grace_s * NS, &reason);
	if (flags & SIPD_DLG_IGNORED) {
		/* Not the party or dialog it claims (made-up tags, another
		 * source's CANCEL or INVITE): passed, believed in nothing; the
		 * receiver answers it (481) as it sees fit. */
		d->st.requests_ignored++;
		goto accept;
	}
	if (flags & SIPD_DLG_UNMATCHED) {
		r = SW_SIP_R_UNMATCHED_ANSWER;
		sw_addr_format(m->src.addr, a, sizeof(a));
		snprintf(detail, sizeof(detail),
			 "SDP answer from %s, which is not where the offer was sent", a);
		goto refuse;
	}
	if (flags & SIPD_DLG_END) {
		end_call(d, c, now_ns, reason);
		goto accept;
	}
	if ((flags & SIPD_DLG_BYE) && !cfg->timeouts.bye_grace_s) {
		end_call(d, c, now_ns, "bye");
		goto accept;
	}
	/* An offer alone may open its offerer's destinations
	 * (media.open_at_offer); if they cannot be had, it still passes. */
	offer_only = (flags & SIPD_DLG_OFFER) && !(flags & SIPD_DLG_MEDIA);
	if (offer_only && cfg->open_at_offer != SIPD_OAO_OFF)
		flags |= SIPD_DLG_MEDIA;
	if (flags & SIPD_DLG_MEDIA) {
		plan = malloc(sizeof(*plan));
		if (!plan) {
			ret = -ENOMEM;
			snprintf(detail, sizeof(detail), "out of memory");
		} else {
			cause = offer_only    ? "offer"
				: !m->has_sdp ? "fork_ended"
				: c->n_ph     ? "renegotiated"
					      : "answer";
			sipd_ph_plan(c, cfg, now_ns, plan);
			ret = 0;
			if (plan->n > cfg->max_pinholes_per_call) {
				snprintf(detail, sizeof(detail),
					 "%u pinholes for one call (limits.max_pinholes_per_call "
					 "%u)",
					 plan->n, cfg->max_pinholes_per_call);
				ret = -E2BIG;
				limit = 1;
			} else if (!c->privileged && !c->adopted && plan->n > c->charged) {
				uint64_t more = plan->n - c->charged;
				uint64_t share = (uint64_t)d->map_max *
						 (100 - cfg->security.reserved_percent) / 100;
				uint8_t key[16];

				if (!c->use) {
					sipd_guard_source_key(cfg, c->caller_sig.addr, key);
					c->use = sipd_budget_get(d->budget, key, 1);
				}
				if (c->use && c->use->pinholes + more >
						      cfg->security.max_pinholes_per_source) {
					snprintf(detail, sizeof(detail),
						 "%u pinholes held by calls from this source "
						 "(security.max_pinholes_per_source %u)",
						 c->use->pinholes,
						 cfg->security.max_pinholes_per_source);
					ret = -E2BIG;
					limit = 1;
				} else if (d->ph_unprivileged + more > share) {
					snprintf(detail, sizeof(detail),
						 "%llu pinholes of outside calls (the rest of the "
						 "map is reserved for inside and trusted sources)",
						 (unsigned long long)d->ph_unprivileged);
					ret = -E2BIG;
					limit = 1;
				}
			}
			if (!ret)
				ret = sipd_ph_apply(&d->phx, c, plan, now_ns, cause, detail,
						    sizeof(detail));
			free(plan);
		}
		if (ret && offer_only) {
			/* nothing was written; the answer will try again */
			d->st.offer_open_failed++;
			goto accept;
		}
		if (ret) {
			r = limit ? SW_SIP_R_PINHOLE_LIMIT : SW_SIP_R_PINHOLE_FAILED;
			goto refuse;
		}
		charge(d, c, c->n_ph);
	}
accept:
	if (snap)
		sipd_call_free(snap);
	d->st.accepted++;
	*why = SW_SIP_R_ACCEPTED;
	return SIPD_ACCEPT;

refuse:
	/* Nothing the message did stays: its transaction, its call if it
	 * made one, and what it changed in an existing call. */
	if (req_t)
		sipd_txn_remove(d->txn, req_t);
	if (created) {
		call_discard(d, c);
	} else if (snap) {
		struct sipd_src_use *use = c->use;

		call_restore(c, snap);
		snap = NULL;
		if (use != c->use)
			sipd_budget_release(d->budget, use); /* made for this message */
	}
	return drop(d, now_ns, r, m, detail, why);
}

/* --- time --- */

static const char *expired(struct sipd *d, struct sipd_call *c, uint64_t now_ns)
{
	const struct sipd_config *cfg = d->cfg;
	uint64_t pk, seen;

	if (c->end_at_ns)
		return now_ns >= c->end_at_ns ? "bye" : NULL;
	/* Nobody answered within SIP's own timers (B for INVITE, F for an
	 * in-dialog offer): the request went nowhere, or was never real. */
	if (!c->answered && !c->adopted &&
	    now_ns - c->start_ns >= (uint64_t)cfg->security.transaction_timeout_s * NS)
		return "no_response";
	if (c->midcall && !c->n_ph &&
	    now_ns - c->last_sip_ns >= (uint64_t)cfg->security.transaction_timeout_s * NS)
		return "no_media";
	if (!c->confirmed && cfg->timeouts.early_dialog_s &&
	    now_ns - c->start_ns >= cfg->timeouts.early_dialog_s * NS)
		return "early_timeout";
	if (cfg->timeouts.max_call_s && now_ns - c->start_ns >= cfg->timeouts.max_call_s * NS)
		return "max_duration";
	if (!c->n_ph) {
		if (cfg->timeouts.silent_dialog_s &&
		    now_ns - c->last_sip_ns >= cfg->timeouts.silent_dialog_s * NS)
			return "silent";
		return NULL;
	}
	if (!cfg->timeouts.idle_s || now_ns < c->next_idle_ns)
		return NULL;
	/*
	 * Media counted since the last look means activity. The map's
	 * last_seen_ns is CLOCK_MONOTONIC; trust it when it lies in this
	 * clock's window (inline mode), else say "now" (replay clock).
	 */
	sipd_ph_activity(&d->phx, c, &pk, &seen);
	if (pk != c->media_pkts) {
		c->media_pkts = pk;
		c->last_media_ns = seen >= c->last_media_ns && seen <= now_ns ? seen : now_ns;
	}
	if (now_ns - c->last_media_ns >= cfg->timeouts.idle_s * NS)
		return "idle";
	c->next_idle_ns = c->last_media_ns + cfg->timeouts.idle_s * NS;
	return NULL;
}

/* One step of the walk that counts sw_pinholes (manual pinholes and other
 * daemons' included) for /metrics; sipd's own opens and closes since the
 * last finished walk are added to its count when read. */
static int ph_walk_step(struct sipd *d)
{
	int ret;

	if (!d->ph_cur.started && !d->ph_walk)
		d->ph_own_begin = d->phc.opened - d->phc.closed;
	ret = sw_pinhole_scan_count(&d->maps, &d->ph_cur, SIPD_PH_SCAN_PER_TICK, &d->ph_walk);
	if (ret < 0) {
		memset(&d->ph_cur, 0, sizeof(d->ph_cur));
		d->ph_walk = 0;
	} else if (ret == 1) {
		d->ph_walked = d->ph_walk;
		d->ph_own_at_walk = d->ph_own_begin;
		d->ph_walk = 0;
		d->ph_known = 1;
	}
	return ret;
}

int sipd_get_map_pinholes(const struct sipd *d, uint64_t *n)
{
	int64_t v;

	if (!d->ph_known)
		return -EAGAIN;
	v = (int64_t)d->ph_walked + (int64_t)(d->phc.opened - d->phc.closed - d->ph_own_at_walk);
	*n = v < 0 ? 0 : (uint64_t)v;
	return 0;
}

void sipd_set_cluster(struct sipd *d, struct sipd_cluster *cl)
{
	d->phx.cl = cl;
}

struct sipd_cluster *sipd_get_cluster(const struct sipd *d)
{
	return d->phx.cl;
}

const struct sw_maps *sipd_get_maps(const struct sipd *d)
{
	return &d->maps;
}

void sipd_set_event_batching(struct sipd *d, int on)
{
	sipd_events_set_batch(d->ev, on);
}

void sipd_flush(struct sipd *d)
{
	sipd_events_flush(d->ev);
}

void sipd_tick(struct sipd *d, uint64_t now_ns)
{
	struct sipd_call *c, *n;
	const char *why;
	unsigned int i;

	uint64_t mono = sw_monotonic_ns();

	ev_tick(d->ev, now_ns);
	sipd_cluster_emit_events(d->phx.cl, d->ev, now_ns);
	{
		uint64_t h;

		while (sipd_cluster_next_close(d->phx.cl, &h))
			if ((c = call_find_hash(d, h)))
				end_call(d, c, now_ns, "cluster_closed");
	}
	sipd_stream_expire(d->stream, now_ns);
	ban_gc(d, now_ns);
	sipd_txn_expire(d->txn, now_ns, 0);
	ph_walk_step(d);
	if (mono >= d->next_host_ns)
		security_sync(d, mono);
	for (i = 0; i < CALL_BUCKETS; i++) {
		for (c = d->calls[i]; c; c = n) {
			n = c->next;
			if (now_ns < c->start_ns)
				continue; /* clock went back (replay): wait */
			why = expired(d, c, now_ns);
			if (why)
				end_call(d, c, now_ns, why);
		}
	}
}

void sipd_close_all(struct sipd *d, uint64_t now_ns)
{
	struct sipd_call *c, *n;
	unsigned int i;

	for (i = 0; i < CALL_BUCKETS; i++)
		for (c = d->calls[i]; c; c = n) {
			n = c->next;
			end_call(d, c, now_ns, "shutdown");
		}
}
