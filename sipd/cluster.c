// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cluster replication through Redis (cluster.h, docs/ha.md).
 *
 * Threads: the writer drains the outgoing queue (pipelined SET key PX ttl +
 * XADD log MAXLEN ~), refreshes the heartbeat key, watches the other owners'
 * heartbeats and expires remote pinholes; the reader resyncs (snapshot by
 * SCAN, then the log from the snapshot's id) and follows the log with XREAD
 * BLOCK. Blocking hiredis with timeouts in threads of their own rather than
 * the async API in sipd's loop: the loop then carries no Redis state at all
 * (another change is making it multi-worker), and a connect, an AUTH or a
 * resync of 10^5 records can take as long as it takes without a poll
 * callback in front of a verdict.
 */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <hiredis/hiredis.h>

#include "sipd/cluster.h"
#include "sipd/events.h"

#define NS 1000000000ULL
#define MS 1000000ULL

enum q_kind { Q_REC = 1, Q_BYE };

struct q_item {
	uint8_t kind;
	struct clrec rec; /* Q_REC: epoch/seq/owner set by the writer; Q_BYE: call_hash */
};

/* A pinhole this node knows about from another node. */
struct ent {
	struct ent *next;
	uint8_t addr[16];
	uint16_t port;
	char owner[CLREC_NODE_LEN];
	uint64_t epoch, seq;
	uint64_t call_hash;
	uint64_t expires_ns; /* CLOCK_MONOTONIC: the TTL as received */
	int closed;	     /* a tombstone: expires_ns is when it is forgotten */
	int applied;	     /* the local map holds our copy */
};

#define TAB_BITS    17
#define OWNERS_MAX  64
#define EVQ_LEN	    32
#define PIPE_BATCH  256
#define SCAN_BATCH  1000
#define XREAD_COUNT 1000

struct callref {
	struct callref *next;
	uint64_t hash;
	unsigned int n;
};

#define CREF_BITS 17

struct owner {
	char id[CLREC_NODE_LEN];
	int alive;
};

/* A lapse of our own heartbeat: a refresh found the key gone (expired while
 * we could not reach Redis, or lost with Redis's data). Other nodes may have
 * taken our calls over meanwhile; their closes of our current records are
 * accepted only inside one (lapse_covers). Redis TIME, milliseconds. */
struct lapse {
	uint64_t from_ms; /* the last refresh that found the key: alive until then */
	uint64_t to_ms;	  /* the refresh that found it gone */
	uint64_t seq;	  /* our records stamped before to_ms have seq <= this */
};

#define LAPSES 8

/* A close of one of our current records by another node, waiting for the
 * next heartbeat to tell whether a lapse covers it. */
struct pend {
	uint64_t hash;
	uint64_t held_seq; /* the version of ours the closer held */
	uint64_t log_ms;   /* its log entry's time (Redis ms); 0: from a snapshot */
	uint64_t pub_ns;   /* snapshot: when it was written, on our monotonic clock */
	uint64_t gen;	   /* heartbeats sent before it came */
};

#define PEND_MAX   (1u << 20)
#define CLOSES_MAX (1u << 20)

/* A record of ours that is live: written again after a reconnect (a Redis
 * that restarted empty, or failed over to a replica that lagged). */
struct own {
	struct own *next;
	struct clrec rec;
};

struct sipd_cluster {
	const struct sw_maps *maps;
	char node[CLREC_NODE_LEN];
	char redis[SIPD_CLUSTER_MAX_EP][80];
	unsigned int n_redis;
	char sentinels[SIPD_CLUSTER_MAX_EP][80];
	unsigned int n_sentinels;
	char master[64];
	char prefix[64];
	char user[128], pass[256];
	uint32_t heartbeat_ms, owner_timeout_ms, maxlen, tombstone_s;
	uint32_t rec_ttl_s; /* a pinhole record's TTL: the longest call */
	uint32_t idle_s;    /* a dead owner's pinhole without media goes */

	/* outgoing queue: a ring, lock held only to copy */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct q_item *q;
	uint32_t qlen, qhead, qcount;
	int republish; /* records were dropped: publish own state again */

	/* remote state, shared by both threads */
	pthread_mutex_t tlock;
	struct ent *tab[1u << TAB_BITS];
	uint64_t n_remote;
	/* applied remote pinholes per call: the call's sw_calls owner record
	 * goes with its last one */
	struct callref *crefs[1u << CREF_BITS];
	struct owner owners[OWNERS_MAX];
	unsigned int n_owners;
	/* what our own heartbeats saw (the writer's), for the reader */
	struct lapse lapses[LAPSES]; /* a ring: the last LAPSES of them */
	unsigned int n_lapses;	     /* ever seen */
	uint64_t hb_ms, hb_ns;	     /* Redis TIME at our last refresh, our clock then */
	uint64_t hb_sent;	     /* refreshes sent */
	struct pend *pend;
	unsigned int n_pend, cap_pend;

	_Atomic uint64_t cnt[SIPD_CL_MAX];
	_Atomic uint64_t bad[CLREC_E_MAX];
	_Atomic int wconn, rconn;
	_Atomic uint64_t last_resync_ms, last_resync_records;

	/* state for status and events */
	pthread_mutex_t slock;
	char cur_redis[80];
	char last_error[128];
	char evq[EVQ_LEN][160];
	unsigned int ev_n;

	struct own *own[1u << TAB_BITS]; /* the writer's alone: no lock */
	uint64_t n_own;
	_Atomic uint64_t epoch; /* Redis TIME (us) at the writer's first connect */
	uint64_t seq;
	/* our calls another node closed (taken over while our previous
	 * process was dead, or while our heartbeat had lapsed): for the main
	 * thread to end (sipd_cluster_next_close); under slock */
	uint64_t *closes;
	unsigned int n_closes, cap_closes;

	_Atomic int stop;
	pthread_t wt, rt;
	int wt_on, rt_on;
};

static void bump(struct sipd_cluster *cl, enum sipd_cluster_counter c)
{
	atomic_fetch_add_explicit(&cl->cnt[c], 1, memory_order_relaxed);
}

#define SIPD_CL_X_STR(n, h) #n,
static const char *const cnt_names[] = {SIPD_CLUSTER_COUNTERS(SIPD_CL_X_STR)};
#undef SIPD_CL_X_STR
#define SIPD_CL_X_HELP(n, h) h,
static const char *const cnt_help[] = {SIPD_CLUSTER_COUNTERS(SIPD_CL_X_HELP)};
#undef SIPD_CL_X_HELP

const char *sipd_cluster_counter_name(unsigned int i)
{
	return i < SIPD_CL_MAX ? cnt_names[i] : "?";
}

const char *sipd_cluster_counter_help(unsigned int i)
{
	return i < SIPD_CL_MAX ? cnt_help[i] : "?";
}

/* An event for the main thread (and stderr, the journal). */
static void note(struct sipd_cluster *cl, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct sipd_cluster *cl, const char *reason, const char *fmt, ...)
{
	char detail[120];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sipd: cluster: %s: %s\n", reason, detail);
	pthread_mutex_lock(&cl->slock);
	if (strncmp(reason, "cluster_connected", 17) && strncmp(reason, "cluster_resync", 14))
		snprintf(cl->last_error, sizeof(cl->last_error), "%s: %s", reason, detail);
	if (cl->ev_n < EVQ_LEN)
		snprintf(cl->evq[cl->ev_n++], sizeof(cl->evq[0]), "%s\t%s", reason, detail);
	pthread_mutex_unlock(&cl->slock);
}

/* --- the outgoing queue (any thread -> writer) --- */

static void enqueue(struct sipd_cluster *cl, const struct q_item *it)
{
	pthread_mutex_lock(&cl->qlock);
	if (cl->qcount == cl->qlen) {
		cl->republish = 1;
		pthread_mutex_unlock(&cl->qlock);
		bump(cl, SIPD_CL_queue_dropped);
		return;
	}
	cl->q[(cl->qhead + cl->qcount++) % cl->qlen] = *it;
	/* The writer waits only on an empty queue (under qlock): the first
	 * record wakes it, the next ones find it awake. */
	if (cl->qcount == 1)
		pthread_cond_signal(&cl->qcond);
	pthread_mutex_unlock(&cl->qlock);
}

void sipd_cluster_ph_put(struct sipd_cluster *cl, const struct sw_pinhole_key *k,
			 const struct sw_pinhole *v)
{
	struct q_item it = {.kind = Q_REC};

	if (!cl || !v->call_hash)
		return; /* manual pinholes stay local */
	clrec_from_ph(&it.rec, k, v);
	enqueue(cl, &it);
}

void sipd_cluster_ph_del(struct sipd_cluster *cl, const struct sw_pinhole_key *k,
			 uint64_t call_hash)
{
	struct q_item it = {.kind = Q_REC};

	if (!cl || !call_hash)
		return;
	it.rec.type = CLREC_PH_CLOSE;
	memcpy(it.rec.addr, k->addr, 16);
	it.rec.port = ntohs(k->port);
	it.rec.call_hash = call_hash;
	enqueue(cl, &it);
}

void sipd_cluster_ban(struct sipd_cluster *cl, const uint8_t addr[16], unsigned int plen,
		      uint32_t ttl_s, unsigned int reason)
{
	struct q_item it = {.kind = Q_REC};

	if (!cl || !ttl_s || plen < 1 || plen > 128)
		return; /* a ban without end stays local (deleted by hand) */
	it.rec.type = CLREC_BAN;
	memcpy(it.rec.addr, addr, 16);
	sw_addr_mask(it.rec.addr, plen);
	it.rec.plen = (uint8_t)plen;
	it.rec.reason = reason;
	it.rec.ttl_ms = (uint64_t)ttl_s * 1000;
	enqueue(cl, &it);
}

void sipd_cluster_bye(struct sipd_cluster *cl, uint64_t call_hash)
{
	struct q_item it = {.kind = Q_BYE};

	if (!cl || !call_hash)
		return;
	it.rec.call_hash = call_hash;
	enqueue(cl, &it);
}

/* --- remote state --- */

static unsigned int tab_slot(const uint8_t addr[16], uint16_t port)
{
	uint8_t k[18];

	memcpy(k, addr, 16);
	memcpy(k + 16, &port, 2);
	return (unsigned int)(sw_fnv1a64(k, sizeof(k)) >> (64 - TAB_BITS));
}

static struct ent **tab_find(struct sipd_cluster *cl, const uint8_t addr[16], uint16_t port)
{
	struct ent **e = &cl->tab[tab_slot(addr, port)];

	for (; *e; e = &(*e)->next)
		if ((*e)->port == port && !memcmp((*e)->addr, addr, 16))
			return e;
	return e;
}

static struct owner *owner_get(struct sipd_cluster *cl, const char *id)
{
	for (unsigned int i = 0; i < cl->n_owners; i++)
		if (!strcmp(cl->owners[i].id, id))
			return &cl->owners[i];
	if (cl->n_owners == OWNERS_MAX)
		return NULL;
	snprintf(cl->owners[cl->n_owners].id, CLREC_NODE_LEN, "%s", id);
	cl->owners[cl->n_owners].alive = 1; /* until its heartbeat says otherwise */
	return &cl->owners[cl->n_owners++];
}

static int owner_dead(struct sipd_cluster *cl, const char *id)
{
	struct owner *o = owner_get(cl, id);

	return o && !o->alive;
}

/* (epoch, seq) a newer than b */
static int newer(uint64_t ea, uint64_t sa, uint64_t eb, uint64_t sb)
{
	return ea > eb || (ea == eb && sa > sb);
}

/* One more (delta 1) or one fewer (-1) applied remote pinhole of call
 * hash; the last one gone deletes the call's sw_calls owner record, which
 * sw_pinhole_put wrote with the first (under tlock). */
static void callref(struct sipd_cluster *cl, uint64_t hash, int delta)
{
	struct callref **pc = &cl->crefs[(hash ^ hash >> 29) & ((1u << CREF_BITS) - 1)], *c;

	if (!hash)
		return;
	while (*pc && (*pc)->hash != hash)
		pc = &(*pc)->next;
	c = *pc;
	if (delta > 0) {
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (!c)
				return; /* its record stays until sipd's next start (sw_call_gc) */
			c->hash = hash;
			*pc = c;
		}
		c->n++;
		return;
	}
	if (!c || --c->n)
		return;
	*pc = c->next;
	free(c);
	sw_call_del(cl->maps, hash);
}

/* Whether call hash has an applied remote pinhole here (under tlock). */
static int callref_has(struct sipd_cluster *cl, uint64_t hash)
{
	const struct callref *c = cl->crefs[(hash ^ hash >> 29) & ((1u << CREF_BITS) - 1)];

	while (c && c->hash != hash)
		c = c->next;
	return c && c->n;
}

/* Delete the local copy if it is still the one we wrote (same call). */
static void unapply(struct sipd_cluster *cl, struct ent *e)
{
	struct sw_pinhole_key k = {0};
	struct sw_pinhole cur;

	if (!e->applied)
		return;
	memcpy(k.addr, e->addr, 16);
	k.port = htons(e->port);
	k.proto = IPPROTO_UDP;
	if (!sw_pinhole_get(cl->maps, &k, &cur) && cur.call_hash == e->call_hash)
		sw_pinhole_del(cl->maps, &k);
	callref(cl, e->call_hash, -1);
	e->applied = 0;
	cl->n_remote--;
}

/* A record's owner into a table entry (both CLREC_NODE_LEN, NUL-ended):
 * no snprintf per record of a resync. */
static void owner_copy(char dst[CLREC_NODE_LEN], const char src[CLREC_NODE_LEN])
{
	memcpy(dst, src, CLREC_NODE_LEN);
	dst[CLREC_NODE_LEN - 1] = '\0';
}

/* A table entry for r's destination, linked at *pe (the end of its chain). */
static struct ent *ent_new(struct ent **pe, const struct clrec *r)
{
	struct ent *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	memcpy(e->addr, r->addr, 16);
	e->port = r->port;
	*pe = e;
	return e;
}

/* A call of ours for the main thread to end (cluster_closed); -1 when full. */
static int close_push(struct sipd_cluster *cl, uint64_t hash)
{
	int rc = 0;

	pthread_mutex_lock(&cl->slock);
	if (cl->n_closes == cl->cap_closes) {
		unsigned int cap = cl->cap_closes ? 2 * cl->cap_closes : 64;
		uint64_t *n = cap <= CLOSES_MAX ? realloc(cl->closes, cap * sizeof(*n)) : NULL;

		if (n) {
			cl->closes = n;
			cl->cap_closes = cap;
		}
	}
	if (cl->n_closes < cl->cap_closes)
		cl->closes[cl->n_closes++] = hash;
	else
		rc = -1;
	pthread_mutex_unlock(&cl->slock);
	return rc;
}

/* When (Redis ms) a close was written: its log entry's time, or for a
 * snapshot's key its age by TTL, put on Redis's clock through our last
 * heartbeat (under tlock). 0: not known yet. */
static uint64_t pend_time_ms(const struct sipd_cluster *cl, const struct pend *p)
{
	uint64_t d;

	if (p->log_ms)
		return p->log_ms;
	if (!cl->hb_ns)
		return 0;
	if (p->pub_ns >= cl->hb_ns)
		return cl->hb_ms + (p->pub_ns - cl->hb_ns) / MS;
	d = (cl->hb_ns - p->pub_ns) / MS;
	return cl->hb_ms > d ? cl->hb_ms - d : 0;
}

/*
 * Another node's close of one of our current records is a takeover close
 * we accept only when our own heartbeat lapsed around it (docs/ha.md): a
 * refresh of ours found the key gone, the version closed was stamped before
 * that refresh, and the close was written between our last refresh before
 * the lapse and the one that found it, give or take owner_timeout_ms (the
 * closer believes us dead until its next check, and the log's and our
 * TIME's clocks may be two Redis hosts' after a failover). Under tlock.
 */
static int lapse_covers(const struct sipd_cluster *cl, const struct pend *p)
{
	uint64_t t = pend_time_ms(cl, p), slack = cl->owner_timeout_ms;

	if (!t)
		return 0;
	for (unsigned int i = 0; i < cl->n_lapses && i < LAPSES; i++) {
		const struct lapse *l = &cl->lapses[i];

		if (p->held_seq <= l->seq && t + slack >= l->from_ms && t <= l->to_ms + slack)
			return 1;
	}
	return 0;
}

/* A takeover close of ours that a lapse covers: the call ends here too. */
static void takeover_accept(struct sipd_cluster *cl, uint64_t hash)
{
	if (close_push(cl, hash)) {
		bump(cl, SIPD_CL_not_owner);
		return;
	}
	bump(cl, SIPD_CL_applied);
	bump(cl, SIPD_CL_closed_by_takeover);
}

/* After our refresh number sent: the waiting closes a lapse covers are
 * accepted; those that came before that refresh went out and that no lapse
 * covers are refused (under tlock). */
static void pend_decide(struct sipd_cluster *cl, uint64_t sent)
{
	unsigned int i = 0;

	while (i < cl->n_pend) {
		struct pend *p = &cl->pend[i];

		if (lapse_covers(cl, p))
			takeover_accept(cl, p->hash);
		else if (p->gen < sent)
			bump(cl, SIPD_CL_not_owner);
		else {
			i++;
			continue;
		}
		*p = cl->pend[--cl->n_pend];
	}
}

/* r closes a current record of ours and was written by another node: kept
 * for the verdict of our next heartbeat refresh, the one that tells
 * whether our key had lapsed (under tlock). Always waiting, even when a
 * lapse seen already covers it: one path, and at most heartbeat_ms. */
static void takeover_of_ours(struct sipd_cluster *cl, const struct clrec *r, uint64_t ttl_ms,
			     uint64_t log_ms)
{
	uint64_t now = sw_monotonic_ns(), age = (r->ttl_ms - ttl_ms) * MS;
	struct pend p = {
		.hash = r->call_hash,
		.held_seq = r->seq - 1, /* a takeover close is the version it closed + 1 */
		.log_ms = log_ms,
		.pub_ns = now > age ? now - age : 0,
		.gen = cl->hb_sent,
	};

	if (r->seq < 2) {
		bump(cl, SIPD_CL_not_owner);
		return;
	}
	if (cl->n_pend == cl->cap_pend) {
		unsigned int cap = cl->cap_pend ? 2 * cl->cap_pend : 16;
		struct pend *n = cap <= PEND_MAX ? realloc(cl->pend, cap * sizeof(*n)) : NULL;

		if (!n) {
			bump(cl, SIPD_CL_not_owner);
			return;
		}
		cl->pend = n;
		cl->cap_pend = cap;
	}
	cl->pend[cl->n_pend++] = p;
}

/* Apply one record another node wrote; ttl_ms is what is left of it;
 * log_ms its log entry's time (Redis ms), 0 for a snapshot's key. */
static void apply(struct sipd_cluster *cl, const struct clrec *r, uint64_t ttl_ms, uint64_t log_ms)
{
	uint64_t now = sw_monotonic_ns();
	struct ent **pe, *e;

	bump(cl, SIPD_CL_received);
	if (!strcmp(r->owner, cl->node) && r->type != CLREC_PH_CLOSE)
		return; /* our own, coming back */
	if (r->type == CLREC_BAN) {
		int err = sw_ban_add(cl->maps, r->addr, ttl_ms * MS, r->reason);

		if (err && err != -EPERM)
			bump(cl, SIPD_CL_map_errors);
		else if (!err)
			bump(cl, SIPD_CL_bans_applied);
		return;
	}
	pthread_mutex_lock(&cl->tlock);
	owner_get(cl, r->owner);
	pe = tab_find(cl, r->addr, r->port);
	e = *pe;
	if (r->type == CLREC_PH_CLOSE) {
		if (!strcmp(r->closer, cl->node)) {
			pthread_mutex_unlock(&cl->tlock);
			return; /* our takeover close, coming back */
		}
		if (!strcmp(r->owner, cl->node)) {
			/* Ours, closed by another node that took the call
			 * over: a record of an earlier process of ours (it
			 * died), or of this one while our heartbeat lapsed
			 * (we were cut off); never otherwise. */
			uint64_t epoch = atomic_load(&cl->epoch);

			if (epoch && r->epoch < epoch) {
				if (close_push(cl, r->call_hash))
					bump(cl, SIPD_CL_not_owner);
				else
					bump(cl, SIPD_CL_applied);
			} else if (epoch && r->epoch == epoch) {
				takeover_of_ours(cl, r, ttl_ms, log_ms);
			} else {
				bump(cl, SIPD_CL_not_owner);
			}
			pthread_mutex_unlock(&cl->tlock);
			return;
		}
		if (strcmp(r->closer, r->owner) && !owner_dead(cl, r->owner)) {
			/* Only the owner closes while it lives. */
			bump(cl, SIPD_CL_not_owner);
			pthread_mutex_unlock(&cl->tlock);
			return;
		}
		if (e && !strcmp(e->owner, r->owner) &&
		    !newer(r->epoch, r->seq, e->epoch, e->seq) &&
		    !(e->call_hash == r->call_hash && !e->closed)) {
			bump(cl, SIPD_CL_stale);
			pthread_mutex_unlock(&cl->tlock);
			return;
		}
		if (!e) {
			e = ent_new(pe, r);
			if (!e) {
				pthread_mutex_unlock(&cl->tlock);
				return;
			}
		} else if (e->applied && e->call_hash == r->call_hash) {
			unapply(cl, e);
			bump(cl, SIPD_CL_closed_remote);
		} else if (e->applied) {
			/* a close of another call's destination: ours stays */
			bump(cl, SIPD_CL_stale);
			pthread_mutex_unlock(&cl->tlock);
			return;
		}
		owner_copy(e->owner, r->owner);
		e->epoch = r->epoch;
		e->seq = r->seq;
		e->call_hash = r->call_hash;
		e->closed = 1;
		e->expires_ns = now + (uint64_t)cl->tombstone_s * NS;
		bump(cl, SIPD_CL_applied);
		pthread_mutex_unlock(&cl->tlock);
		return;
	}
	/* CLREC_PH: state only moves forward for one owner; another owner's
	 * record is newer by the log's order (one stream, one order). */
	if (e && !strcmp(e->owner, r->owner) && !newer(r->epoch, r->seq, e->epoch, e->seq)) {
		bump(cl, SIPD_CL_stale);
		pthread_mutex_unlock(&cl->tlock);
		return;
	}
	{
		struct sw_pinhole_key k;
		struct sw_pinhole v;
		struct sw_pinhole_hot cur;
		int err = -ENOENT;

		clrec_to_ph(r, &k, &v, now);
		/* The call's owner record (sw_calls) went with its first
		 * applied pinhole: the others would only find it (EEXIST). */
		if (callref_has(cl, r->call_hash))
			v.call_id[0] = '\0';
		if ((e && e->applied) || r->nsrc > 1)
			err = sw_pinhole_get_hot(cl->maps, &k, &cur);
		if (!err && !(e && e->applied)) {
			/* A local call (or a manual pinhole) holds it: the local
			 * maps are authoritative. */
			bump(cl, SIPD_CL_conflicts);
			pthread_mutex_unlock(&cl->tlock);
			return;
		}
		if (!err) {
			/* our copy, updated: its counters stay */
			v.packets = cur.packets;
			v.bytes = cur.bytes;
			v.drops = cur.drops;
			v.last_seen_ns = cur.last_seen_ns;
			v.created_ns = (uint64_t)cur.created_s * NS;
			err = sw_pinhole_put(cl->maps, &k, &v, BPF_EXIST);
		} else {
			/* A new copy: no lookup first (a resync's 10^5 records),
			 * the exclusive write refuses a destination a local
			 * call holds. With extra sources the lookup above came
			 * first: a refused write would touch the local
			 * pinhole's sources (sw_ph_srcs) before it fails. */
			err = sw_pinhole_put(cl->maps, &k, &v, BPF_NOEXIST);
			if (err == -EEXIST && !(e && e->applied)) {
				bump(cl, SIPD_CL_conflicts);
				pthread_mutex_unlock(&cl->tlock);
				return;
			}
		}
		if (err) {
			bump(cl, SIPD_CL_map_errors);
			pthread_mutex_unlock(&cl->tlock);
			return;
		}
	}
	if (!e && !(e = ent_new(pe, r))) {
		pthread_mutex_unlock(&cl->tlock);
		return;
	}
	if (!e->applied) {
		cl->n_remote++;
		callref(cl, r->call_hash, 1);
	} else if (e->call_hash != r->call_hash) {
		callref(cl, r->call_hash, 1);
		callref(cl, e->call_hash, -1);
	}
	owner_copy(e->owner, r->owner);
	e->epoch = r->epoch;
	e->seq = r->seq;
	e->call_hash = r->call_hash;
	e->closed = 0;
	e->applied = 1;
	e->expires_ns = now + ttl_ms * MS;
	bump(cl, SIPD_CL_applied);
	pthread_mutex_unlock(&cl->tlock);
}

static void apply_text_at(struct sipd_cluster *cl, const char *s, size_t len, long long pttl,
			  uint64_t log_ms)
{
	struct clrec r;
	int e = clrec_parse(s, len, &r);

	if (e) {
		bump(cl, SIPD_CL_received);
		bump(cl, SIPD_CL_bad_records);
		atomic_fetch_add_explicit(&cl->bad[e < CLREC_E_MAX ? e : 0], 1,
					  memory_order_relaxed);
		return;
	}
	apply(cl, &r, pttl > 0 && (uint64_t)pttl < r.ttl_ms ? (uint64_t)pttl : r.ttl_ms, log_ms);
}

/* A snapshot's key (pttl: what is left of its TTL). */
static void apply_text(struct sipd_cluster *cl, const char *s, size_t len, long long pttl)
{
	apply_text_at(cl, s, len, pttl, 0);
}

/* --- connections --- */

static int read_credentials(const char *path, char *user, size_t ulen, char *pass, size_t plen,
			    char *err, size_t errlen)
{
	struct stat st;
	char line[512];
	FILE *f;
	int rc = 0;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cluster.credentials_file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		snprintf(err, errlen,
			 "cluster.credentials_file %s: readable by group or others (chmod 600)",
			 path);
		fclose(f);
		return -EPERM;
	}
	user[0] = pass[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (!strncmp(line, "user=", 5) && n - 5 < ulen && n > 5)
			memcpy(user, line + 5, n - 4); /* with its NUL */
		else if (!strncmp(line, "password=", 9) && n - 9 < plen && n > 9)
			memcpy(pass, line + 9, n - 8);
		else {
			snprintf(err, errlen,
				 "cluster.credentials_file %s: expected user=NAME and "
				 "password=SECRET lines",
				 path);
			rc = -EINVAL;
			break;
		}
	}
	fclose(f);
	if (!rc && (!user[0] || !pass[0])) {
		snprintf(err, errlen,
			 "cluster.credentials_file %s: needs user= and password=", path);
		rc = -EINVAL;
	}
	return rc;
}

static redisContext *connect_ep(const char *ep, int timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	char host[80];
	uint16_t port;
	redisContext *c;

	if (sipd_hostport_parse(ep, host, sizeof(host), &port))
		return NULL;
	c = redisConnectWithTimeout(host, port, tv);
	if (!c)
		return NULL;
	if (c->err) {
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return c;
}

static int reply_ok(redisReply *r)
{
	return r && r->type != REDIS_REPLY_ERROR;
}

/* The master's address from a Sentinel, as "host:port". */
static int sentinel_master(struct sipd_cluster *cl, char *out, size_t len)
{
	for (unsigned int i = 0; i < cl->n_sentinels; i++) {
		redisContext *c = connect_ep(cl->sentinels[i], 500);
		redisReply *r;
		int ok = 0;

		if (!c)
			continue;
		r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", cl->master);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING) {
			snprintf(out, len, strchr(r->element[0]->str, ':') ? "[%s]:%s" : "%s:%s",
				 r->element[0]->str, r->element[1]->str);
			ok = 1;
		}
		freeReplyObject(r);
		redisFree(c);
		if (ok)
			return 0;
	}
	return -ENOENT;
}

/* Connect and authenticate; NULL when no endpoint answers. */
static redisContext *cl_connect(struct sipd_cluster *cl, int timeout_ms, char *used, size_t ulen)
{
	char eps[SIPD_CLUSTER_MAX_EP][80];
	unsigned int n = 0;

	if (cl->n_sentinels) {
		if (!sentinel_master(cl, eps[0], sizeof(eps[0])))
			n = 1;
	} else {
		memcpy(eps, cl->redis, sizeof(eps));
		n = cl->n_redis;
	}
	for (unsigned int i = 0; i < n; i++) {
		redisContext *c = connect_ep(eps[i], timeout_ms);
		redisReply *r;

		if (!c)
			continue;
		if (cl->user[0]) {
			r = redisCommand(c, "AUTH %s %s", cl->user, cl->pass);
			if (!reply_ok(r)) {
				bump(cl, SIPD_CL_auth_errors);
				note(cl, "cluster_auth_refused", "%s: %s", eps[i],
				     r ? r->str : c->errstr);
				freeReplyObject(r);
				redisFree(c);
				continue;
			}
			freeReplyObject(r);
		}
		/* Writes go to a master only (a Sentinel may lag a failover). */
		r = redisCommand(c, "ROLE");
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(r->element[0]->str, "master")) {
			freeReplyObject(r);
			redisFree(c);
			continue;
		}
		freeReplyObject(r);
		snprintf(used, ulen, "%.79s", eps[i]);
		return c;
	}
	return NULL;
}

/* A connection given up on: closed with a reset (SO_LINGER 0), so what it
 * still had unsent (a heartbeat or a record written while a link was down)
 * is discarded, not retransmitted by the kernel once the link is back: a
 * late heartbeat would hide a lapse of ours, a late record overwrite a
 * newer key. */
static void conn_drop(redisContext *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	redisFree(c);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* --- writer --- */

static int rec_key(struct sipd_cluster *cl, const struct clrec *r, char *buf, size_t len)
{
	char k[CLREC_KEY_LEN];

	if (r->type == CLREC_BAN) {
		char h[33];

		for (int i = 0; i < 16; i++)
			snprintf(h + 2 * i, 3, "%02x", r->addr[i]);
		return snprintf(buf, len, "%sban:%s.%u", cl->prefix, h, r->plen);
	}
	clrec_key_text(r->addr, r->port, k);
	return snprintf(buf, len, "%sph:%s", cl->prefix, k);
}

static struct own **own_find(struct sipd_cluster *cl, const uint8_t addr[16], uint16_t port)
{
	struct own **o = &cl->own[tab_slot(addr, port)];

	for (; *o; o = &(*o)->next)
		if ((*o)->rec.port == port && !memcmp((*o)->rec.addr, addr, 16))
			return o;
	return o;
}

static void own_track(struct sipd_cluster *cl, const struct clrec *r)
{
	struct own **o;

	if (r->type == CLREC_BAN || strcmp(r->owner, cl->node))
		return;
	o = own_find(cl, r->addr, r->port);
	if (r->type == CLREC_PH) {
		if (!*o) {
			*o = calloc(1, sizeof(**o));
			if (!*o)
				return;
			cl->n_own++;
		}
		(*o)->rec = *r;
	} else if (*o && (*o)->rec.call_hash == r->call_hash) {
		struct own *x = *o;

		*o = x->next;
		free(x);
		cl->n_own--;
	}
}

/* Pipeline n records; 0 when all landed. */
static int publish(struct sipd_cluster *cl, redisContext *c, struct q_item *it, unsigned int n)
{
	char text[CLREC_MAX_LEN + 1], key[160], log[96];
	unsigned int sent = 0, i;
	int rc = 0;

	snprintf(log, sizeof(log), "%slog", cl->prefix);
	for (i = 0; i < n; i++) {
		struct clrec *r = &it[i].rec;
		uint64_t px;
		int len;

		if (!r->epoch) { /* first try: stamp it */
			snprintf(r->owner, sizeof(r->owner), "%s", cl->node);
			if (r->type == CLREC_PH_CLOSE)
				snprintf(r->closer, sizeof(r->closer), "%s", cl->node);
			r->epoch = cl->epoch;
			r->seq = ++cl->seq;
		}
		if (!r->ttl_ms)
			r->ttl_ms = r->type == CLREC_PH_CLOSE ? (uint64_t)cl->tombstone_s * 1000
							      : (uint64_t)cl->rec_ttl_s * 1000;
		len = clrec_format(r, text, sizeof(text));
		if (len < 0) {
			bump(cl, SIPD_CL_publish_errors);
			r->type = 0;
			continue;
		}
		px = r->ttl_ms;
		own_track(cl, r);
		rec_key(cl, r, key, sizeof(key));
		redisAppendCommand(c, "SET %s %b PX %llu", key, text, (size_t)len,
				   (unsigned long long)px);
		redisAppendCommand(c, "XADD %s MAXLEN ~ %u * r %b", log, cl->maxlen, text,
				   (size_t)len);
		sent++;
	}
	for (i = 0; i < 2 * sent; i++) {
		redisReply *r = NULL;

		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			note(cl, "cluster_write_failed", "%s", c->errstr);
			return -EIO;
		}
		if (!reply_ok(r)) {
			bump(cl, SIPD_CL_publish_errors);
			rc = rc ?: -EPROTO;
		} else if (i % 2) {
			bump(cl, SIPD_CL_published);
		}
		freeReplyObject(r);
	}
	return rc == -EPROTO ? 0 : rc; /* refused records are not retried */
}

struct repub_ctx {
	struct sipd_cluster *cl;
	redisContext *c;
	struct q_item batch[PIPE_BATCH];
	unsigned int n;
	int err;
};

static int repub_one(const struct sw_pinhole_key *k, const struct sw_pinhole *v, void *ctx)
{
	struct repub_ctx *x = ctx;
	struct ent **pe;
	int remote;

	if (!v->call_hash)
		return 0;
	pthread_mutex_lock(&x->cl->tlock);
	pe = tab_find(x->cl, k->addr, ntohs(k->port));
	remote = *pe && (*pe)->applied && (*pe)->call_hash == v->call_hash;
	pthread_mutex_unlock(&x->cl->tlock);
	if (remote)
		return 0;
	memset(&x->batch[x->n], 0, sizeof(x->batch[0]));
	x->batch[x->n].kind = Q_REC;
	clrec_from_ph(&x->batch[x->n].rec, k, v);
	if (++x->n == PIPE_BATCH) {
		x->err = publish(x->cl, x->c, x->batch, x->n);
		x->n = 0;
		if (x->err)
			return 1;
	}
	return 0;
}

/* After a reconnect: our live records again (same versions: a node that
 * has them counts them stale; a Redis that lost them has them back). */
static int republish_own(struct sipd_cluster *cl, redisContext *c)
{
	struct q_item *batch = calloc(PIPE_BATCH, sizeof(*batch));
	unsigned int n = 0;
	int err = 0;

	if (!batch)
		return -ENOMEM;
	for (unsigned int b = 0; b < (1u << TAB_BITS) && !err; b++)
		for (struct own *o = cl->own[b]; o && !err; o = o->next) {
			batch[n].kind = Q_REC;
			batch[n++].rec = o->rec;
			if (n == PIPE_BATCH) {
				err = publish(cl, c, batch, n);
				n = 0;
			}
		}
	if (!err && n)
		err = publish(cl, c, batch, n);
	free(batch);
	return err;
}

/* After drops: every pinhole of this node's calls, written again. */
static int republish(struct sipd_cluster *cl, redisContext *c)
{
	struct repub_ctx *x = calloc(1, sizeof(*x));
	uint64_t before = atomic_load(&cl->cnt[SIPD_CL_published]);
	int err;

	if (!x)
		return -ENOMEM;
	x->cl = cl;
	x->c = c;
	sw_pinhole_foreach(cl->maps, repub_one, x);
	if (!x->err && x->n)
		x->err = publish(cl, c, x->batch, x->n);
	err = x->err;
	free(x);
	atomic_fetch_add(&cl->cnt[SIPD_CL_republished],
			 atomic_load(&cl->cnt[SIPD_CL_published]) - before);
	return err;
}

/* A BYE for a call not tracked here: close a dead owner's pinholes of it. */
static void takeover_bye(struct sipd_cluster *cl, uint64_t hash, struct q_item *out,
			 unsigned int *n, unsigned int max)
{
	pthread_mutex_lock(&cl->tlock);
	for (unsigned int b = 0; b < (1u << TAB_BITS); b++)
		for (struct ent *e = cl->tab[b]; e; e = e->next) {
			if (e->call_hash != hash || !e->applied || !owner_dead(cl, e->owner))
				continue;
			unapply(cl, e);
			e->closed = 1;
			e->expires_ns = sw_monotonic_ns() + (uint64_t)cl->tombstone_s * NS;
			bump(cl, SIPD_CL_taken_over);
			if (*n < max) {
				struct clrec *r = &out[*n].rec;

				memset(&out[*n], 0, sizeof(out[0]));
				out[*n].kind = Q_REC;
				r->type = CLREC_PH_CLOSE;
				snprintf(r->owner, sizeof(r->owner), "%s", e->owner);
				snprintf(r->closer, sizeof(r->closer), "%s", cl->node);
				r->epoch = e->epoch;
				r->seq = ++e->seq;
				memcpy(r->addr, e->addr, 16);
				r->port = e->port;
				r->call_hash = e->call_hash;
				(*n)++;
			}
		}
	pthread_mutex_unlock(&cl->tlock);
}

/* What our refresh number sent saw: existed, the key was there before it
 * (-1: not known); t_ms, Redis TIME right after it (0: not known). */
static void heartbeat_seen(struct sipd_cluster *cl, uint64_t sent, long long existed, uint64_t t_ms)
{
	uint64_t from = 0;

	if (existed < 0 || !t_ms)
		return;
	pthread_mutex_lock(&cl->tlock);
	if (!existed && cl->hb_ms) {
		/* A refresh of ours had landed: the key expired (or Redis
		 * lost it) since. Our records stamped so far may have been
		 * taken over. */
		struct lapse *l = &cl->lapses[cl->n_lapses++ % LAPSES];

		from = cl->hb_ms;
		l->from_ms = from;
		l->to_ms = t_ms;
		l->seq = cl->seq;
	}
	cl->hb_ms = t_ms;
	cl->hb_ns = sw_monotonic_ns();
	pend_decide(cl, sent);
	pthread_mutex_unlock(&cl->tlock);
	if (from) {
		bump(cl, SIPD_CL_heartbeat_lapses);
		note(cl, "cluster_heartbeat_lapsed",
		     "our heartbeat key had expired (refreshed %llu ms before): other nodes "
		     "may have taken our calls over",
		     (unsigned long long)(t_ms > from ? t_ms - from : 0));
	}
}

/* Heartbeat, the owners' liveness, expiry of remote pinholes. */
static int housekeep(struct sipd_cluster *cl, redisContext *c)
{
	char key[160];
	redisReply *r;
	struct owner snap[OWNERS_MAX];
	unsigned int n, i;
	uint64_t now = sw_monotonic_ns();

	if (c) {
		long long existed = -1;
		uint64_t t_ms = 0, sent;

		/* Only this node writes its key: whether it was still there
		 * when this refresh came tells a lapse (heartbeat_seen). */
		snprintf(key, sizeof(key), "%shb:%s", cl->prefix, cl->node);
		pthread_mutex_lock(&cl->tlock);
		sent = ++cl->hb_sent;
		pthread_mutex_unlock(&cl->tlock);
		redisAppendCommand(c, "EXISTS %s", key);
		redisAppendCommand(c, "SET %s %llu PX %u", key, (unsigned long long)cl->epoch,
				   cl->owner_timeout_ms);
		redisAppendCommand(c, "TIME");
		for (i = 0; i < 3; i++) {
			r = NULL;
			if (redisGetReply(c, (void **)&r) != REDIS_OK) {
				note(cl, "cluster_write_failed", "heartbeat: %s", c->errstr);
				return -EIO;
			}
			if (i == 0 && r && r->type == REDIS_REPLY_INTEGER)
				existed = r->integer > 0;
			else if (i == 1 && !(r && r->type == REDIS_REPLY_STATUS))
				existed = -1; /* not refreshed: nothing learnt */
			else if (i == 2 && r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
				 r->element[0]->type == REDIS_REPLY_STRING &&
				 r->element[1]->type == REDIS_REPLY_STRING)
				t_ms = strtoull(r->element[0]->str, NULL, 10) * 1000 +
				       strtoull(r->element[1]->str, NULL, 10) / 1000;
			freeReplyObject(r);
		}
		heartbeat_seen(cl, sent, existed, t_ms);
		pthread_mutex_lock(&cl->tlock);
		memcpy(snap, cl->owners, sizeof(snap));
		n = cl->n_owners;
		pthread_mutex_unlock(&cl->tlock);
		for (i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%.63shb:%.31s", cl->prefix, snap[i].id);
			redisAppendCommand(c, "EXISTS %s", key);
		}
		for (i = 0; i < n; i++) {
			r = NULL;
			if (redisGetReply(c, (void **)&r) != REDIS_OK) {
				note(cl, "cluster_write_failed", "heartbeat check: %s", c->errstr);
				return -EIO;
			}
			if (r && r->type == REDIS_REPLY_INTEGER) {
				int alive = r->integer > 0;

				pthread_mutex_lock(&cl->tlock);
				{
					struct owner *o = owner_get(cl, snap[i].id);

					if (o && o->alive && !alive) {
						bump(cl, SIPD_CL_owners_lost);
						note(cl, "cluster_owner_lost",
						     "node %s: heartbeat expired, its calls are "
						     "kept here until BYE or expiry",
						     o->id);
					} else if (o && !o->alive && alive) {
						note(cl, "cluster_owner_back", "node %s", o->id);
					}
					if (o)
						o->alive = alive;
				}
				pthread_mutex_unlock(&cl->tlock);
			}
			freeReplyObject(r);
		}
	}
	/* Expiry: TTL reached, or (owner dead) no media for idle_s. */
	pthread_mutex_lock(&cl->tlock);
	for (unsigned int b = 0; b < (1u << TAB_BITS); b++) {
		struct ent **pe = &cl->tab[b];

		/* In slices: the reader's applies never wait for a whole
		 * sweep of 10^5 entries (the propagation tail). */
		if (b && !(b % 2048)) {
			struct timespec gap = {0, 20000}; /* a waiting reader gets in */

			pthread_mutex_unlock(&cl->tlock);
			nanosleep(&gap, NULL);
			pthread_mutex_lock(&cl->tlock);
		}

		while (*pe) {
			struct ent *e = *pe;
			int gone = now >= e->expires_ns;

			if (!gone && e->applied && cl->idle_s && owner_dead(cl, e->owner)) {
				struct sw_pinhole_key k = {0};
				struct sw_pinhole cur;

				memcpy(k.addr, e->addr, 16);
				k.port = htons(e->port);
				k.proto = IPPROTO_UDP;
				if (!sw_pinhole_get(cl->maps, &k, &cur)) {
					uint64_t seen = cur.last_seen_ns > cur.created_ns
								? cur.last_seen_ns
								: cur.created_ns;

					gone = now > seen + (uint64_t)cl->idle_s * NS;
				}
			}
			if (!gone) {
				pe = &e->next;
				continue;
			}
			if (e->applied) {
				unapply(cl, e);
				bump(cl, SIPD_CL_expired);
			}
			*pe = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&cl->tlock);
	return 0;
}

static void *writer(void *arg)
{
	struct sipd_cluster *cl = arg;
	struct q_item *batch = calloc(PIPE_BATCH + 64, sizeof(*batch));
	redisContext *c = NULL;
	unsigned int nb = 0, backoff = 100;
	uint64_t next_hk = 0;

	if (!batch)
		return NULL;
	for (;;) {
		uint64_t now = sw_monotonic_ns();
		int again = 0;

		if (atomic_load(&cl->stop)) {
			/* What is queued (--close-on-exit's closes) goes out
			 * if Redis is there; nothing waits for it otherwise. */
			int left;

			pthread_mutex_lock(&cl->qlock);
			left = cl->qcount || nb;
			pthread_mutex_unlock(&cl->qlock);
			if (!c || !left)
				break;
		}

		if (!c) {
			char used[80] = "";

			if (atomic_load(&cl->stop))
				break;
			c = cl_connect(cl, 1000, used, sizeof(used));
			if (!c) {
				housekeep(cl, NULL); /* expiry goes on alone */
				sleep_ms(backoff);
				backoff = backoff < 1000 ? backoff * 2 : 1000;
				continue;
			}
			backoff = 100;
			if (!cl->epoch) {
				redisReply *r = redisCommand(c, "TIME");

				/* Redis's clock, not ours: every node's
				 * epochs come from the same one. */
				if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
					cl->epoch = strtoull(r->element[0]->str, NULL, 10) *
							    1000000ULL +
						    strtoull(r->element[1]->str, NULL, 10);
				freeReplyObject(r);
				if (!cl->epoch) {
					redisFree(c);
					c = NULL;
					continue;
				}
			}
			bump(cl, SIPD_CL_connects);
			atomic_store(&cl->wconn, 1);
			pthread_mutex_lock(&cl->slock);
			snprintf(cl->cur_redis, sizeof(cl->cur_redis), "%s", used);
			pthread_mutex_unlock(&cl->slock);
			note(cl, "cluster_connected", "writer to %s", used);
			next_hk = 0;
			if (cl->n_own && republish_own(cl, c)) {
				again = -1;
				goto lost;
			}
		}
		if (now >= next_hk) {
			if (housekeep(cl, c)) {
				again = -1;
				goto lost;
			}
			next_hk = now + (uint64_t)cl->heartbeat_ms * MS;
		}
		pthread_mutex_lock(&cl->qlock);
		if (cl->republish) {
			cl->republish = 0;
			pthread_mutex_unlock(&cl->qlock);
			note(cl, "cluster_republish",
			     "outgoing queue overflowed: own pinholes again");
			if (republish(cl, c)) {
				pthread_mutex_lock(&cl->qlock);
				cl->republish = 1;
				pthread_mutex_unlock(&cl->qlock);
				again = -1;
				goto lost;
			}
			continue;
		}
		if (!nb) {
			if (!cl->qcount && !atomic_load(&cl->stop)) {
				struct timespec ts;
				uint64_t wait_ns = next_hk > now ? next_hk - now : 0;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += (time_t)((uint64_t)ts.tv_nsec + wait_ns) / NS;
				ts.tv_nsec = (long)(((uint64_t)ts.tv_nsec + wait_ns) % NS);
				pthread_cond_timedwait(&cl->qcond, &cl->qlock, &ts);
			}
			while (cl->qcount && nb < PIPE_BATCH) {
				batch[nb++] = cl->q[cl->qhead];
				cl->qhead = (cl->qhead + 1) % cl->qlen;
				cl->qcount--;
			}
		}
		pthread_mutex_unlock(&cl->qlock);
		if (!nb)
			continue;
		{
			/* BYEs become takeover closes in place. */
			unsigned int i, m = 0;
			struct q_item extra[64];
			unsigned int ne = 0;

			for (i = 0; i < nb; i++) {
				if (batch[i].kind == Q_BYE)
					takeover_bye(cl, batch[i].rec.call_hash, extra, &ne, 64);
				else
					batch[m++] = batch[i];
			}
			memcpy(batch + m, extra, ne * sizeof(extra[0]));
			nb = m + ne;
		}
		if (nb && publish(cl, c, batch, nb)) {
			again = -1; /* kept in batch: retried after the reconnect */
			goto lost;
		}
		nb = 0;
		continue;
	lost:
		if (again) {
			bump(cl, SIPD_CL_disconnects);
			atomic_store(&cl->wconn, 0);
			conn_drop(c);
			c = NULL;
		}
	}
	if (c)
		redisFree(c);
	free(batch);
	return NULL;
}

/* --- reader --- */

struct sid {
	uint64_t ms, seq;
};

static int sid_parse(const char *s, struct sid *out)
{
	char *end;

	out->ms = strtoull(s, &end, 10);
	if (*end != '-')
		return -1;
	out->seq = strtoull(end + 1, &end, 10);
	return *end ? -1 : 0;
}

static int sid_less(struct sid a, struct sid b)
{
	return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
}

/* The change log's last id ("0-0" when empty) and first. */
static int log_ends(struct sipd_cluster *cl, redisContext *c, char *last, size_t len,
		    struct sid *first, int *empty)
{
	redisReply *r;

	r = redisCommand(c, "XREVRANGE %slog + - COUNT 1", cl->prefix);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -EIO;
	}
	*empty = !r->elements;
	snprintf(last, len, "%s",
		 r->elements && r->element[0]->type == REDIS_REPLY_ARRAY &&
				 r->element[0]->elements == 2
			 ? r->element[0]->element[0]->str
			 : "0-0");
	freeReplyObject(r);
	r = redisCommand(c, "XRANGE %slog - + COUNT 1", cl->prefix);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -EIO;
	}
	first->ms = first->seq = 0;
	if (r->elements && r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
		sid_parse(r->element[0]->element[0]->str, first);
	freeReplyObject(r);
	return 0;
}

/* A SCAN batch in flight: MGET of its record keys, then PTTL of each. */
struct rs_batch {
	redisReply *vals; /* the MGET's array */
	redisReply **ttl; /* n PTTL replies */
	unsigned int n;	  /* record keys */
};

static void rs_free(struct rs_batch *b)
{
	freeReplyObject(b->vals);
	for (unsigned int i = 0; b->ttl && i < b->n; i++)
		freeReplyObject(b->ttl[i]);
	free(b->ttl);
	memset(b, 0, sizeof(*b));
}

/* Apply a batch's records in the SCAN's order, then free it. */
static void rs_apply(struct sipd_cluster *cl, struct rs_batch *b, uint64_t *n)
{
	for (unsigned int i = 0; i < b->n; i++) {
		const redisReply *g = b->vals->element[i], *t = b->ttl[i];

		if (g->type == REDIS_REPLY_STRING) /* nil: it expired since the SCAN */
			apply_text(cl, g->str, g->len,
				   t && t->type == REDIS_REPLY_INTEGER ? t->integer : -1);
		(*n)++;
	}
	rs_free(b);
}

/* Read a batch's replies; -EIO when the link fails, -EPROTO when Redis
 * refused the MGET (nothing kept either way). */
static int rs_read(struct sipd_cluster *cl, redisContext *c, struct rs_batch *b, unsigned int n)
{
	int err = 0;

	memset(b, 0, sizeof(*b));
	if (!n)
		return 0;
	b->ttl = calloc(n, sizeof(*b->ttl));
	if (!b->ttl || redisGetReply(c, (void **)&b->vals) != REDIS_OK)
		err = b->ttl ? -EIO : -ENOMEM;
	for (unsigned int i = 0; !err && i < n; i++) {
		if (redisGetReply(c, (void **)&b->ttl[i]) != REDIS_OK)
			err = -EIO;
		b->n = i + 1;
	}
	if (!err && (!b->vals || b->vals->type != REDIS_REPLY_ARRAY || b->vals->elements != n)) {
		note(cl, "cluster_resync_failed", "MGET: %s",
		     b->vals && b->vals->type == REDIS_REPLY_ERROR ? b->vals->str
								   : "unexpected reply");
		err = -EPROTO;
	}
	if (err)
		rs_free(b);
	return err;
}

/* Send what was appended (redisGetReply sends only once it has no reply
 * left to parse). */
static int rs_flush(redisContext *c)
{
	int done = 0;

	do
		if (redisBufferWrite(c, &done) != REDIS_OK)
			return -EIO;
	while (!done);
	return 0;
}

/*
 * Snapshot: every record key by SCAN; per SCAN batch one MGET of its record
 * keys and a PTTL of each, pipelined. The next batch's commands (and the
 * SCAN after it) go out before this batch's records are applied, so Redis
 * (on one CPU) answers while the map writes go on (on the other); the
 * records are still applied batch by batch in the SCAN's order.
 */
static int resync(struct sipd_cluster *cl, redisContext *c, char *lastid, size_t len)
{
	uint64_t t0 = sw_monotonic_ns(), n = 0;
	char match[96], php[96], banp[96];
	struct rs_batch done = {0}, got;
	const char **argv = NULL;
	size_t *argl = NULL, phl, banl, cap = 0;
	redisReply *r = NULL;
	struct sid first;
	int empty, err = 0;

	if (log_ends(cl, c, lastid, len, &first, &empty))
		return -EIO;
	snprintf(match, sizeof(match), "%s*", cl->prefix);
	snprintf(php, sizeof(php), "%sph:", cl->prefix);
	snprintf(banp, sizeof(banp), "%sban:", cl->prefix);
	phl = strlen(php);
	banl = strlen(banp);
	r = redisCommand(c, "SCAN 0 MATCH %s COUNT %u", match, SCAN_BATCH);
	for (;;) {
		redisReply *keys;
		unsigned int i, sent = 0;
		int more;

		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			err = -EIO;
			break;
		}
		keys = r->element[1];
		if (keys->elements + 1 > cap) {
			size_t ncap = keys->elements + 1;
			const char **na = realloc(argv, ncap * sizeof(*argv));
			size_t *nl = na ? realloc(argl, ncap * sizeof(*argl)) : NULL;

			if (na)
				argv = na;
			if (nl)
				argl = nl;
			if (!na || !nl) {
				err = -ENOMEM;
				break;
			}
			cap = ncap;
		}
		argv[0] = "MGET";
		argl[0] = 4;
		for (i = 0; i < keys->elements; i++) {
			const redisReply *k = keys->element[i];

			if (k->type != REDIS_REPLY_STRING ||
			    (strncmp(k->str, php, phl) && strncmp(k->str, banp, banl)))
				continue; /* the log, heartbeats */
			argv[1 + sent] = k->str;
			argl[1 + sent] = k->len;
			sent++;
		}
		if (sent) {
			const char *pa[2] = {"PTTL", NULL};
			size_t pl[2] = {4, 0};

			redisAppendCommandArgv(c, (int)sent + 1, argv, argl);
			for (i = 0; i < sent; i++) {
				pa[1] = argv[1 + i];
				pl[1] = argl[1 + i];
				redisAppendCommandArgv(c, 2, pa, pl);
			}
		}
		more = strcmp(r->element[0]->str, "0") && !atomic_load(&cl->stop);
		if (more)
			redisAppendCommand(c, "SCAN %s MATCH %s COUNT %u", r->element[0]->str,
					   match, SCAN_BATCH);
		freeReplyObject(r); /* its keys are in the output buffer now */
		r = NULL;
		if (rs_flush(c)) {
			err = -EIO;
			break;
		}
		rs_apply(cl, &done, &n); /* the previous batch, while Redis works */
		err = rs_read(cl, c, &got, sent);
		if (err)
			break;
		done = got;
		if (!more)
			break;
		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			err = -EIO;
			break;
		}
	}
	freeReplyObject(r);
	free(argv);
	free(argl);
	if (err) {
		rs_free(&done);
		return err;
	}
	rs_apply(cl, &done, &n);
	bump(cl, SIPD_CL_resyncs);
	atomic_store(&cl->last_resync_ms, (sw_monotonic_ns() - t0) / MS);
	atomic_store(&cl->last_resync_records, n);
	note(cl, "cluster_resync", "%llu records in %llu ms, log from %s", (unsigned long long)n,
	     (unsigned long long)((sw_monotonic_ns() - t0) / MS), lastid);
	return 0;
}

static void *reader(void *arg)
{
	struct sipd_cluster *cl = arg;
	redisContext *c = NULL;
	char lastid[64] = "";
	unsigned int backoff = 100;

	while (!atomic_load(&cl->stop)) {
		redisReply *r;

		if (!c) {
			char used[80];

			c = cl_connect(cl, 1000, used, sizeof(used));
			if (!c) {
				sleep_ms(backoff);
				backoff = backoff < 1000 ? backoff * 2 : 1000;
				continue;
			}
			backoff = 100;
			if (lastid[0]) {
				/* Resume from where we were, unless the log was
				 * trimmed past it (or is another log now: a
				 * Redis that lost its data). */
				struct sid first, last, mine;
				char lid[64];
				int empty;

				if (log_ends(cl, c, lid, sizeof(lid), &first, &empty) ||
				    sid_parse(lid, &last) || sid_parse(lastid, &mine)) {
					redisFree(c);
					c = NULL;
					continue;
				}
				if (sid_less(mine, first) || sid_less(last, mine) ||
				    (empty && strcmp(lastid, "0-0"))) {
					note(cl, "cluster_log_trimmed",
					     "resume point %s gone (log %s), resync", lastid, lid);
					lastid[0] = '\0';
				}
			}
			/* Our epoch first (the writer's TIME): a resync tells
			 * our earlier processes' records by it. */
			while (!atomic_load(&cl->epoch) && !atomic_load(&cl->stop))
				sleep_ms(10);
			if (!lastid[0] && resync(cl, c, lastid, sizeof(lastid))) {
				note(cl, "cluster_resync_failed", "%s", c->errstr);
				lastid[0] = '\0';
				redisFree(c);
				c = NULL;
				continue;
			}
			atomic_store(&cl->rconn, 1);
			note(cl, "cluster_connected", "reader to %s, log from %s", used, lastid);
		}
		r = redisCommand(c, "XREAD COUNT %u BLOCK 500 STREAMS %slog %s", XREAD_COUNT,
				 cl->prefix, lastid);
		if (!r) {
			note(cl, "cluster_read_failed", "%s", c->errstr);
			bump(cl, SIPD_CL_disconnects);
			atomic_store(&cl->rconn, 0);
			conn_drop(c);
			c = NULL;
			continue;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
			redisReply *ents = r->element[0]->element[1];

			for (size_t i = 0; i < ents->elements; i++) {
				redisReply *e = ents->element[i];
				redisReply *f;
				struct sid at;

				if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
					continue;
				snprintf(lastid, sizeof(lastid), "%s", e->element[0]->str);
				f = e->element[1];
				if (sid_parse(lastid, &at))
					at.ms = 0; /* when it was written: not known */
				if (f->type == REDIS_REPLY_ARRAY && f->elements == 2 &&
				    f->element[1]->type == REDIS_REPLY_STRING &&
				    !strcmp(f->element[0]->str, "r"))
					apply_text_at(cl, f->element[1]->str, f->element[1]->len,
						      -1, at.ms);
				else
					apply_text(cl, "", 0, -1); /* counted as bad */
			}
		} else if (r->type == REDIS_REPLY_ERROR) {
			note(cl, "cluster_read_failed", "%s", r->str);
			freeReplyObject(r);
			atomic_store(&cl->rconn, 0);
			redisFree(c);
			c = NULL;
			sleep_ms(200);
			continue;
		}
		freeReplyObject(r);
	}
	if (c)
		redisFree(c);
	return NULL;
}

/* --- life cycle, reporting --- */

struct sipd_cluster *sipd_cluster_start(const struct sipd_config *cfg, const struct sw_maps *maps,
					char *err, size_t errlen)
{
	struct sipd_cluster *cl;
	pthread_attr_t attr;

	if (!cfg->cluster.enabled) {
		snprintf(err, errlen, "cluster: not enabled");
		return NULL;
	}
	if (cfg->cluster.cpu >= 0) {
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) || !CPU_ISSET(cfg->cluster.cpu, &set)) {
			snprintf(err, errlen, "cluster.cpu: CPU %d is not one sipd may run on",
				 cfg->cluster.cpu);
			return NULL;
		}
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		snprintf(err, errlen, "cluster: out of memory");
		return NULL;
	}
	cl->maps = maps;
	snprintf(cl->node, sizeof(cl->node), "%s", cfg->cluster.node_id);
	if (!cl->node[0]) {
		/* One config for every node (a DaemonSet's ConfigMap): the
		 * host name tells them apart. */
		char h[256] = "";

		gethostname(h, sizeof(h) - 1);
		if (!clrec_node_ok(h)) {
			snprintf(err, errlen,
				 "cluster.node_id: unset and the host name \"%.64s\" is not a node "
				 "id "
				 "(1 to 31 of A-Z a-z 0-9 . _ -): set node_id",
				 h);
			free(cl);
			return NULL;
		}
		snprintf(cl->node, sizeof(cl->node), "%s", h);
	}
	memcpy(cl->redis, cfg->cluster.redis, sizeof(cl->redis));
	cl->n_redis = cfg->cluster.n_redis;
	memcpy(cl->sentinels, cfg->cluster.sentinels, sizeof(cl->sentinels));
	cl->n_sentinels = cfg->cluster.n_sentinels;
	snprintf(cl->master, sizeof(cl->master), "%s", cfg->cluster.master_name);
	snprintf(cl->prefix, sizeof(cl->prefix), "%s", cfg->cluster.key_prefix);
	cl->heartbeat_ms = cfg->cluster.heartbeat_ms;
	cl->owner_timeout_ms = cfg->cluster.owner_timeout_ms;
	cl->maxlen = cfg->cluster.stream_maxlen;
	cl->tombstone_s = cfg->cluster.tombstone_s;
	/* A record lives as long as a call may: the owner closes it sooner. */
	cl->rec_ttl_s = cfg->timeouts.max_call_s ? cfg->timeouts.max_call_s : 7 * 86400;
	cl->idle_s = cfg->timeouts.idle_s;
	if (cfg->cluster.credentials_file[0] &&
	    read_credentials(cfg->cluster.credentials_file, cl->user, sizeof(cl->user), cl->pass,
			     sizeof(cl->pass), err, errlen)) {
		free(cl);
		return NULL;
	}
	cl->qlen = cfg->cluster.queue_len;
	cl->q = calloc(cl->qlen, sizeof(*cl->q));
	if (!cl->q) {
		snprintf(err, errlen, "cluster: out of memory for queue_len %u", cl->qlen);
		free(cl);
		return NULL;
	}
	pthread_mutex_init(&cl->qlock, NULL);
	pthread_cond_init(&cl->qcond, NULL);
	pthread_mutex_init(&cl->tlock, NULL);
	pthread_mutex_init(&cl->slock, NULL);
	pthread_attr_init(&attr);
	if (cfg->cluster.cpu >= 0) {
		/* The replication threads on a CPU of their own, so that their
		 * work (and a Redis beside them) never takes the SIP path's. */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cfg->cluster.cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (pthread_create(&cl->wt, &attr, writer, cl) == 0)
		cl->wt_on = 1;
	if (pthread_create(&cl->rt, &attr, reader, cl) == 0)
		cl->rt_on = 1;
	pthread_attr_destroy(&attr);
	if (!cl->wt_on || !cl->rt_on) {
		snprintf(err, errlen, "cluster: cannot start its threads");
		sipd_cluster_stop(cl);
		return NULL;
	}
	return cl;
}

void sipd_cluster_stop(struct sipd_cluster *cl)
{
	if (!cl)
		return;
	atomic_store(&cl->stop, 1);
	pthread_mutex_lock(&cl->qlock);
	pthread_cond_signal(&cl->qcond);
	pthread_mutex_unlock(&cl->qlock);
	if (cl->wt_on)
		pthread_join(cl->wt, NULL);
	if (cl->rt_on)
		pthread_join(cl->rt, NULL);
	/* Remote copies stay in the maps (their media may still flow); a
	 * restarted sipd resyncs them. */
	for (unsigned int b = 0; b < (1u << TAB_BITS); b++)
		while (cl->tab[b]) {
			struct ent *e = cl->tab[b];

			cl->tab[b] = e->next;
			free(e);
		}
	for (unsigned int b = 0; b < (1u << CREF_BITS); b++)
		while (cl->crefs[b]) {
			struct callref *c = cl->crefs[b];

			cl->crefs[b] = c->next;
			free(c);
		}
	for (unsigned int b = 0; b < (1u << TAB_BITS); b++)
		while (cl->own[b]) {
			struct own *o = cl->own[b];

			cl->own[b] = o->next;
			free(o);
		}
	explicit_bzero(cl->pass, sizeof(cl->pass));
	free(cl->pend);
	free(cl->closes);
	free(cl->q);
	free(cl);
}

int sipd_cluster_next_close(struct sipd_cluster *cl, uint64_t *call_hash)
{
	int got = 0;

	if (!cl)
		return 0;
	pthread_mutex_lock(&cl->slock);
	if (cl->n_closes) {
		*call_hash = cl->closes[--cl->n_closes];
		got = 1;
	}
	pthread_mutex_unlock(&cl->slock);
	return got;
}

void sipd_cluster_get_stats(struct sipd_cluster *cl, struct sipd_cluster_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!cl)
		return;
	for (unsigned int i = 0; i < SIPD_CL_MAX; i++)
		s->c[i] = atomic_load_explicit(&cl->cnt[i], memory_order_relaxed);
	for (unsigned int i = 0; i < CLREC_E_MAX; i++)
		s->bad_by_reason[i] = atomic_load_explicit(&cl->bad[i], memory_order_relaxed);
	pthread_mutex_lock(&cl->qlock);
	s->queue_depth = cl->qcount;
	s->queue_len = cl->qlen;
	pthread_mutex_unlock(&cl->qlock);
	pthread_mutex_lock(&cl->tlock);
	s->remote_pinholes = cl->n_remote;
	for (unsigned int i = 0; i < cl->n_owners; i++)
		s->owners_alive += cl->owners[i].alive;
	pthread_mutex_unlock(&cl->tlock);
	s->last_resync_ms = atomic_load(&cl->last_resync_ms);
	s->last_resync_records = atomic_load(&cl->last_resync_records);
	s->writer_connected = atomic_load(&cl->wconn);
	s->reader_connected = atomic_load(&cl->rconn);
	snprintf(s->node_id, sizeof(s->node_id), "%s", cl->node);
	pthread_mutex_lock(&cl->slock);
	snprintf(s->redis, sizeof(s->redis), "%s", cl->cur_redis);
	snprintf(s->last_error, sizeof(s->last_error), "%s", cl->last_error);
	pthread_mutex_unlock(&cl->slock);
}

void sipd_cluster_status_json(struct sipd_cluster *cl, FILE *f)
{
	struct sipd_cluster_stats s;

	if (!cl) {
		fprintf(f, "\"cluster\":{\"enabled\":false}");
		return;
	}
	sipd_cluster_get_stats(cl, &s);
	fprintf(f, "\"cluster\":{\"enabled\":true,\"node_id\":");
	sipd_json_fputs(f, s.node_id);
	fprintf(f, ",\"redis\":");
	sipd_json_fputs(f, s.redis);
	fprintf(f,
		",\"connected\":%s,\"queue_depth\":%llu,\"queue_len\":%llu,"
		"\"remote_pinholes\":%llu,\"owners_alive\":%llu,\"last_resync_ms\":%llu,"
		"\"last_resync_records\":%llu",
		s.writer_connected && s.reader_connected ? "true" : "false",
		(unsigned long long)s.queue_depth, (unsigned long long)s.queue_len,
		(unsigned long long)s.remote_pinholes, (unsigned long long)s.owners_alive,
		(unsigned long long)s.last_resync_ms, (unsigned long long)s.last_resync_records);
	for (unsigned int i = 0; i < SIPD_CL_MAX; i++)
		fprintf(f, ",\"%s\":%llu", cnt_names[i], (unsigned long long)s.c[i]);
	fprintf(f, ",\"last_error\":");
	sipd_json_fputs(f, s.last_error);
	fputc('}', f);
}

void sipd_cluster_emit_events(struct sipd_cluster *cl, struct sipd_events *ev, uint64_t now_ns)
{
	char evq[EVQ_LEN][160];
	unsigned int n;

	if (!cl)
		return;
	pthread_mutex_lock(&cl->slock);
	n = cl->ev_n;
	memcpy(evq, cl->evq, n * sizeof(evq[0]));
	cl->ev_n = 0;
	pthread_mutex_unlock(&cl->slock);
	for (unsigned int i = 0; i < n; i++) {
		char *tab = strchr(evq[i], '\t');

		if (!tab)
			continue;
		*tab = '\0';
		ev_begin(ev, "cluster", now_ns);
		ev_str(ev, "reason", evq[i]);
		ev_str(ev, "detail", tab + 1);
		ev_end(ev);
	}
}
