// SPDX-License-Identifier: GPL-2.0-only
/*
 * SIP over TCP and plain WebSocket: stream reassembly and framing (see
 * stream.h). One entry per connection (both directions), found by a hash of
 * the unordered pair of endpoints, kept on an LRU list for idle expiry and
 * eviction. A direction keeps one linear buffer covering the sequence space
 * [base, base + span): the last keep_bytes consumed bytes (to check
 * retransmissions), the contiguous bytes not framed yet, and beyond them the
 * out-of-order bytes as a short sorted list of ranges. A hole between them
 * counts as held (the room is reserved), so max_conn_bytes bounds the span;
 * the buffers' capacity is what bytes_held and max_total_bytes count.
 * Directions with a hole sit on a list in the order the hole opened, so the
 * gap check looks at its head only.
 *
 * Fail closed: the framer never skips. Where it cannot go on (a line that
 * is not a start line, a bad Content-Length, a frame that breaks RFC 6455)
 * it gives a BAD item and the direction is rejected; where no message
 * boundary is known it drops the segment and rejects. Bytes already passed
 * are given up only together with a rejection from the first byte the
 * receiver lacks, and a connection forgotten mid-message leaves a tombstone
 * (a small table, 4-way sets) that resets it at its next payload, or, at a
 * boundary, takes it up again exactly where it was.
 *
 * The framer is incremental: a search for a line end or an empty line
 * resumes where it stopped (scan), so bytes arriving one at a time cost O(1)
 * each. Items are copied into an arena owned by the module, so they stay
 * valid while the stream buffer moves.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sipd/stream.h"

#define OOO_MAX	       32	  /* out-of-order ranges per direction */
#define NO_LINE	       UINT32_MAX /* the current line did not start at a line start */
#define MIN_CAP	       1024	  /* smallest stream buffer */
#define MIN_CONN_BYTES 256
#define MAX_CONN_BYTES (1u << 30)
#define MAX_SEG_LEN    (1u << 30)
#define WS_HDR_MAX     14 /* 2 + 8 (length) + 4 (mask) */
#define PREPEND_MAX    8
#define ROOM_SCAN      256 /* connections looked at to make room in the total bound */
/* After a reset, a segment this far from the old next sequence number is a
 * new connection on the same ports (inline no SYN is seen): further than
 * any receive window, so the old connection's receiver would not take it. */
#define NEW_CONN_DIST (1u << 23)
#define TOMB_WAYS     4 /* tombstones per set */

static const char *const giveup_names[] = {
#define SIPD_STREAM_NAME(id, name) [SIPD_STREAM_GIVEUP_##id] = name,
	SIPD_STREAM_GIVEUPS(SIPD_STREAM_NAME)
#undef SIPD_STREAM_NAME
};

const char *sipd_stream_giveup_name(enum sipd_stream_giveup g)
{
	return (unsigned int)g < SIPD_STREAM_GIVEUP_MAX ? giveup_names[g] : "?";
}

const char *sipd_stream_drop_detail(enum sipd_stream_drop w)
{
	switch (w) {
	case SIPD_STREAM_DROP_OVERLAP:
		return "TCP segment overlaps seen bytes with other bytes";
	case SIPD_STREAM_DROP_REJECTED:
		return "TCP segment of a stream whose message was dropped";
	case SIPD_STREAM_DROP_UNFRAMED:
		return "TCP segment with no SIP start line where no message boundary is known";
	case SIPD_STREAM_DROP_UNVERIFIED:
		return "TCP segment with bytes older than those kept to compare";
	case SIPD_STREAM_DROP_NO_ROOM:
		return "TCP segment that cannot be held (stream byte bound)";
	case SIPD_STREAM_DROP_AFTER_FIN:
		return "TCP segment with payload after its direction's FIN";
	case SIPD_STREAM_DROP_SYN:
		return "TCP SYN with payload inside a tracked connection";
	default:
		return "TCP segment dropped";
	}
}

enum dstate {
	ST_HUNT,      /* a start line (or CR/LF) next: at a boundary, or none known (fresh) */
	ST_HDR,	      /* in a header block, looking for the empty line */
	ST_BODY,      /* waiting for the body */
	ST_WS_HTTP,   /* WebSocket: an HTTP/1.1 request or response */
	ST_HTTP_BODY, /* WebSocket: the Content-Length body of a response other than 101 */
	ST_WS,	      /* WebSocket frames */
	ST_WS_CLOSED, /* after a close frame: nothing may follow */
	ST_DEAD,      /* rejected: not read any more */
};

struct range {
	uint32_t lo, hi; /* [lo, hi) from base */
};

struct conn;

struct dir {
	struct conn *c;
	uint8_t used, closed, fin_set, rejected;
	uint8_t state;	   /* enum dstate */
	uint8_t fresh;	   /* picked up without a SYN, no start line yet: no boundary known */
	uint8_t fresh_rej; /* rejected only for that, nothing passed: bytes in front may lift it */
	uint8_t syn;	   /* the base came from a SYN */
	uint8_t in_holes;
	uint8_t prepends; /* times the start moved back (bounded: each rescans) */
	uint8_t ack_known;
	/* Content-Length of the header block being read (SIP or HTTP) */
	uint8_t have_clen, cl_err, http_te;
	enum sw_sip_reason cl_reason;
	char cl_detail[80];
	uint64_t clen;
	uint32_t hdr_len;
	/* WebSocket */
	uint8_t ws_client, ws_upgrade, ws_open;
	uint16_t ws_status;
	uint8_t *wsbuf;
	uint32_t wslen, wscap;
	uint64_t http_body; /* octets of an HTTP body still to come */
	/* sequence space */
	uint32_t base;	    /* seq of offset 0 */
	uint32_t first_seq; /* the first byte ever held (prepend: an earlier start) */
	uint32_t len;	    /* contiguous bytes from base */
	uint32_t cons;	    /* framed up to here; [0, cons) is the kept window */
	uint32_t scan;	    /* the search resumes here */
	uint32_t ls;	    /* start of the line being read, or NO_LINE */
	uint32_t fin_seq;
	uint32_t rej_seq; /* segments with a byte at or after it are dropped */
	uint32_t rej_nxt; /* the first byte the receiver has not got (the RST's seq) */
	uint32_t ack;	  /* the last ack of this direction's segments */
	unsigned int rejects;
	uint64_t created_ns, hole_ns;
	struct range ooo[OOO_MAX];
	unsigned int nooo;
	struct dir *hprev, *hnext; /* the hole list */
	uint8_t *buf;
	uint32_t head, cap; /* offset 0 is buf[head] */
	uint64_t acct;	    /* bytes counted in stats.bytes_held (capacity) */
};

struct conn {
	struct conn *hnext;	    /* hash chain, or the free list */
	struct conn *lprev, *lnext; /* LRU: lru_head is the least recently used */
	struct sipd_stream_key key; /* dir[0] is this orientation */
	uint32_t bucket;
	uint8_t used, killed, ws;
	uint8_t nxt_known[2]; /* killed: each direction's next expected, if known */
	uint32_t nxt[2];
	uint64_t last_ns;
	struct dir d[2];
};

/* A forgotten connection. Exposed (it could be in the middle of a message):
 * its next payload is reset. At a boundary both ways: where each direction
 * was, so the next segment near it picks the connection up exactly there
 * (a pickup at a guessed base could be behind the receiver, misaligned). */
struct tomb {
	struct sipd_stream_key key; /* orientation of nxt[0] */
	uint32_t nxt[2];
	uint8_t used, known[2], reset, boundary;
	uint8_t st[2], ws_client[2], fin[2]; /* boundary: each direction's state */
	uint64_t last_ns; /* after the reset: forgotten idle_ns after the last segment */
};

struct sipd_stream {
	struct sipd_stream_limits lim;
	struct sipd_stream_stats st;
	struct conn *conns, *free;
	struct conn **buckets;
	uint32_t mask;
	uint64_t seed;
	struct conn *lru_head, *lru_tail;
	struct dir *hole_head, *hole_tail;
	struct tomb *tombs;
	uint32_t tmask;
	/* this call's items, their bytes in out[] (offsets until the end) */
	struct sipd_stream_item *items;
	size_t *item_off;
	unsigned int nitems, items_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	unsigned int ka;
	uint8_t unframed; /* the framer met bytes that must not pass */
	uint8_t bad;	  /* a BAD item: the direction is rejected */
	struct conn *cur; /* this call's connection: never robbed to make room */
	/* the last segment taken, for sipd_stream_reject's RST sequence number */
	struct dir *last_dir;
	uint32_t last_seq, last_nxt;
};

/* ---- helpers ---- */

static int older(uint64_t now, uint64_t t, uint64_t lim)
{
	/* A capture's clock may step back: only forward time expires. */
	return now > t && now - t >= lim;
}

static int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? b : a;
}

static uint8_t *B(const struct dir *d)
{
	return d->buf + d->head;
}

static uint32_t span(const struct dir *d)
{
	return d->nooo ? d->ooo[d->nooo - 1].hi : d->len;
}

static uint32_t pending(const struct dir *d)
{
	return d->used ? span(d) - d->cons + d->wslen : 0;
}

static int budget_ok(const struct sipd_stream *s, uint64_t grow)
{
	return s->st.bytes_held + grow <= s->lim.max_total_bytes;
}

static void account(struct sipd_stream *s, struct dir *d)
{
	uint64_t h = (uint64_t)d->cap + d->wscap;

	s->st.bytes_held = s->st.bytes_held - d->acct + h;
	d->acct = h;
}

/* The receiver could hold part of a message of d that the module could not
 * follow again from scratch: forgetting d would let a guess complete it. */
static int dir_exposed(const struct dir *d)
{
	return d->used && (d->rejected || d->len > d->cons || d->nooo || d->wslen || d->ws_open ||
			   d->state == ST_HDR || d->state == ST_BODY || d->state == ST_HTTP_BODY ||
			   d->state == ST_DEAD);
}

static int exposed(const struct conn *c)
{
	return c->killed || dir_exposed(&c->d[0]) || dir_exposed(&c->d[1]);
}

/* The next octet the receiver of direction i expects, as far as known. */
static int dir_nxt(const struct conn *c, int i, uint32_t *nxt)
{
	const struct dir *d = &c->d[i], *o = &c->d[!i];

	if (c->killed) {
		*nxt = c->nxt[i];
		return c->nxt_known[i];
	}
	if (d->used && d->rejected) {
		*nxt = d->rej_nxt;
		return 1;
	}
	if (d->used) {
		*nxt = d->base + d->len + (d->fin_set ? 1 : 0);
		return 1;
	}
	if (o->ack_known) {
		*nxt = o->ack; /* what the other side acknowledged of it */
		return 1;
	}
	return 0;
}

/* From the segment's first byte on; the receiver lacks what is after nxt. */
static void reject_dir(struct dir *d, uint32_t from, uint32_t nxt)
{
	if (!d->rejected || seq_lt(from, d->rej_seq)) {
		d->rej_seq = from;
		d->rej_nxt = nxt;
	}
	d->rejected = 1;
	d->fresh_rej = 0;
	d->state = ST_DEAD;
}

static void hole_del(struct sipd_stream *s, struct dir *d)
{
	if (!d->in_holes)
		return;
	if (d->hprev)
		d->hprev->hnext = d->hnext;
	else
		s->hole_head = d->hnext;
	if (d->hnext)
		d->hnext->hprev = d->hprev;
	else
		s->hole_tail = d->hprev;
	d->hprev = d->hnext = NULL;
	d->in_holes = 0;
}

/* The hole before the first out-of-order range opened (again) now. */
static void hole_add(struct sipd_stream *s, struct dir *d, uint64_t now)
{
	hole_del(s, d);
	d->hole_ns = now;
	d->hprev = s->hole_tail;
	d->hnext = NULL;
	if (s->hole_tail)
		s->hole_tail->hnext = d;
	else
		s->hole_head = d;
	s->hole_tail = d;
	d->in_holes = 1;
}

static void dir_clear(struct sipd_stream *s, struct dir *d)
{
	struct conn *c = d->c;

	hole_del(s, d);
	free(d->buf);
	free(d->wsbuf);
	s->st.bytes_held -= d->acct;
	memset(d, 0, sizeof(*d));
	d->c = c;
}

/* ---- the connection table ---- */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_ep(uint64_t h, const uint8_t *a, uint16_t port)
{
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 0x100000001b3ULL;
	h = (h ^ (port & 0xff)) * 0x100000001b3ULL;
	return (h ^ (port >> 8)) * 0x100000001b3ULL;
}

static int ep_cmp(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	int r = memcmp(a, b, 16);

	return r ? r : (int)ap - (int)bp;
}

/* Of the unordered pair of endpoints. */
static uint64_t pair_hash(const struct sipd_stream *s, const struct sipd_stream_key *k)
{
	uint64_t h = s->seed;

	if (ep_cmp(k->saddr, k->sport, k->daddr, k->dport) <= 0) {
		h = hash_ep(h, k->saddr, k->sport);
		h = hash_ep(h, k->daddr, k->dport);
	} else {
		h = hash_ep(h, k->daddr, k->dport);
		h = hash_ep(h, k->saddr, k->sport);
	}
	return mix(h);
}

static uint32_t bucket_of(const struct sipd_stream *s, const struct sipd_stream_key *k)
{
	return (uint32_t)pair_hash(s, k) & s->mask;
}

static void reverse(const struct sipd_stream_key *k, struct sipd_stream_key *r)
{
	memcpy(r->saddr, k->daddr, 16);
	memcpy(r->daddr, k->saddr, 16);
	r->sport = k->dport;
	r->dport = k->sport;
}

static int key_eq(const struct sipd_stream_key *a, const struct sipd_stream_key *b)
{
	return a->sport == b->sport && a->dport == b->dport && !memcmp(a->saddr, b->saddr, 16) &&
	       !memcmp(a->daddr, b->daddr, 16);
}

/* have is k (*di 0) or k reversed, r (*di 1): 1, else 0. */
static int oriented(const struct sipd_stream_key *have, const struct sipd_stream_key *k,
		    const struct sipd_stream_key *r, int *di)
{
	if (key_eq(have, k))
		*di = 0;
	else if (key_eq(have, r))
		*di = 1;
	else
		return 0;
	return 1;
}

/* The connection of k and which of its directions k is. */
static struct conn *lookup(struct sipd_stream *s, const struct sipd_stream_key *k, int *di)
{
	struct sipd_stream_key r;

	reverse(k, &r);
	for (struct conn *c = s->buckets[bucket_of(s, k)]; c; c = c->hnext)
		if (oriented(&c->key, k, &r, di))
			return c;
	return NULL;
}

static void lru_del(struct sipd_stream *s, struct conn *c)
{
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		s->lru_head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	else
		s->lru_tail = c->lprev;
	c->lprev = c->lnext = NULL;
}

static void touch(struct sipd_stream *s, struct conn *c, uint64_t now)
{
	if (c->lprev || s->lru_head == c)
		lru_del(s, c);
	c->lprev = s->lru_tail;
	if (s->lru_tail)
		s->lru_tail->lnext = c;
	else
		s->lru_head = c;
	s->lru_tail = c;
	c->last_ns = now;
}

/* ---- tombstones ---- */

/* The set of TOMB_WAYS tombstones k may be in. */
static struct tomb *tomb_set(const struct sipd_stream *s, const struct sipd_stream_key *k)
{
	return &s->tombs[((uint32_t)(pair_hash(s, k) >> 32) & s->tmask) * TOMB_WAYS];
}

static struct tomb *tomb_find(struct sipd_stream *s, const struct sipd_stream_key *k, int *di)
{
	struct tomb *t = tomb_set(s, k);
	struct sipd_stream_key r;

	reverse(k, &r);
	for (int w = 0; w < TOMB_WAYS; w++, t++)
		if (t->used && oriented(&t->key, k, &r, di))
			return t;
	return NULL;
}

static void tomb_del(struct sipd_stream *s, struct tomb *t)
{
	t->used = 0;
	s->st.tombstones--;
}

static void tomb_add(struct sipd_stream *s, const struct conn *c, uint64_t now)
{
	struct tomb *set = tomb_set(s, &c->key), *t = NULL;

	/* a free way, else the oldest of the set is overwritten */
	for (int w = 0; w < TOMB_WAYS && !t; w++)
		if (!set[w].used)
			t = &set[w];
	if (t) {
		s->st.tombstones++;
	} else {
		t = set;
		for (int w = 1; w < TOMB_WAYS; w++)
			if (set[w].last_ns < t->last_ns)
				t = &set[w];
		s->st.tombstones_lost++;
	}
	memset(t, 0, sizeof(*t));
	t->used = 1;
	t->key = c->key;
	t->reset = c->killed;
	t->last_ns = now;
	t->boundary = !exposed(c);
	for (int i = 0; i < 2; i++) {
		const struct dir *d = &c->d[i];

		if (!t->boundary) {
			t->known[i] = (uint8_t)dir_nxt(c, i, &t->nxt[i]);
			continue;
		}
		t->known[i] = d->used;
		t->nxt[i] = d->base + d->len;
		t->st[i] = d->state;
		t->ws_client[i] = d->ws_client;
		t->fin[i] = d->fin_set;
	}
}

/* Forget c; why is counted once if either direction held unframed bytes
 * (SIPD_STREAM_GIVEUP_MAX: never; TABLE_FULL: always). tomb: leave a
 * tombstone (exposed, or where it was at a boundary). */
static void forget(struct sipd_stream *s, struct conn *c, enum sipd_stream_giveup why, int tomb,
		   uint64_t now)
{
	struct conn **pp = &s->buckets[c->bucket];

	if (why == SIPD_STREAM_GIVEUP_TABLE_FULL ||
	    (why < SIPD_STREAM_GIVEUP_MAX && (pending(&c->d[0]) || pending(&c->d[1]))))
		s->st.gave_up[why]++;
	if (tomb && (exposed(c) || c->d[0].used || c->d[1].used))
		tomb_add(s, c, now);
	if (s->cur == c)
		s->cur = NULL;
	if (s->last_dir && s->last_dir->c == c)
		s->last_dir = NULL;
	dir_clear(s, &c->d[0]);
	dir_clear(s, &c->d[1]);
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	lru_del(s, c);
	c->used = 0;
	c->hnext = s->free;
	s->free = c;
	s->st.conns--;
}

static struct conn *conn_new(struct sipd_stream *s, const struct sipd_tcp_seg *seg, uint64_t now)
{
	struct conn *c;

	if (!s->free)
		forget(s, s->lru_head, SIPD_STREAM_GIVEUP_TABLE_FULL, 1, now);
	c = s->free;
	s->free = c->hnext;
	memset(c, 0, sizeof(*c));
	c->d[0].c = c->d[1].c = c;
	c->used = 1;
	c->ws = !!seg->ws;
	c->key = seg->key;
	c->bucket = bucket_of(s, &seg->key);
	c->hnext = s->buckets[c->bucket];
	s->buckets[c->bucket] = c;
	touch(s, c, now);
	s->st.conns++;
	return c;
}

/* Keep the entry, without its directions, to drop stragglers until idle. */
static void conn_kill(struct sipd_stream *s, struct conn *c)
{
	for (int i = 0; i < 2; i++)
		c->nxt_known[i] = (uint8_t)dir_nxt(c, i, &c->nxt[i]);
	dir_clear(s, &c->d[0]);
	dir_clear(s, &c->d[1]);
	c->killed = 1;
}

struct sipd_stream *sipd_stream_new(const struct sipd_stream_limits *l)
{
	struct sipd_stream *s = calloc(1, sizeof(*s));
	struct sipd_stream_limits *m;
	struct timespec ts;
	uint32_t nb = 1, nt;

	if (!s)
		return NULL;
	m = &s->lim;
	if (l)
		*m = *l;
	if (!m->max_conns)
		m->max_conns = SIPD_STREAM_CONNS_DEFAULT;
	if (!m->max_conn_bytes)
		m->max_conn_bytes = SIPD_STREAM_CONN_BYTES_DEFAULT;
	if (!m->max_total_bytes)
		m->max_total_bytes = SIPD_STREAM_TOTAL_BYTES_DEFAULT;
	if (!m->idle_ns)
		m->idle_ns = SIPD_STREAM_IDLE_NS_DEFAULT;
	if (!m->gap_ns)
		m->gap_ns = SIPD_STREAM_GAP_NS_DEFAULT;
	if (!m->max_msg_len)
		m->max_msg_len = SIPD_STREAM_MSG_LEN_DEFAULT;
	if (!m->keep_bytes)
		m->keep_bytes = SIPD_STREAM_KEEP_BYTES_DEFAULT;
	if (!m->max_rejects)
		m->max_rejects = SIPD_STREAM_REJECTS_DEFAULT;
	/* One message (and a WebSocket frame header) must fit beside the kept
	 * window, or in-order bytes could not always be taken. */
	if (m->max_conn_bytes < MIN_CONN_BYTES)
		m->max_conn_bytes = MIN_CONN_BYTES;
	if (m->max_conn_bytes > MAX_CONN_BYTES)
		m->max_conn_bytes = MAX_CONN_BYTES;
	if (m->keep_bytes > m->max_conn_bytes / 2)
		m->keep_bytes = m->max_conn_bytes / 2;
	if (m->max_msg_len > m->max_conn_bytes - m->keep_bytes - 2 * WS_HDR_MAX)
		m->max_msg_len = m->max_conn_bytes - m->keep_bytes - 2 * WS_HDR_MAX;
	if (m->max_conns > (1u << 24))
		m->max_conns = 1u << 24;
	while (nb < m->max_conns)
		nb <<= 1;
	s->mask = nb - 1;
	nt = nb * 2; /* tombstones: nt / TOMB_WAYS sets */
	s->tmask = nt / TOMB_WAYS ? nt / TOMB_WAYS - 1 : 0;
	if (nt < TOMB_WAYS)
		nt = TOMB_WAYS;
	s->conns = calloc(m->max_conns, sizeof(*s->conns));
	s->buckets = calloc(nb, sizeof(*s->buckets));
	s->tombs = calloc(nt, sizeof(*s->tombs));
	if (!s->conns || !s->buckets || !s->tombs) {
		sipd_stream_free(s);
		return NULL;
	}
	for (unsigned int i = m->max_conns; i-- > 0;) {
		s->conns[i].hnext = s->free;
		s->free = &s->conns[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->seed = mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)s);
	return s;
}

void sipd_stream_free(struct sipd_stream *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; s->conns && i < s->lim.max_conns; i++) {
		for (int k = 0; k < 2; k++) {
			free(s->conns[i].d[k].buf);
			free(s->conns[i].d[k].wsbuf);
		}
	}
	free(s->conns);
	free(s->buckets);
	free(s->tombs);
	free(s->items);
	free(s->item_off);
	free(s->out);
	free(s);
}

void sipd_stream_get_stats(const struct sipd_stream *s, struct sipd_stream_stats *st)
{
	*st = s->st;
}

/* ---- the stream buffer ---- */

/* Offsets [0, need) addressable; need <= max_conn_bytes. The capacity grows
 * only within the total bound: -ENOSPC when it cannot. */
static int reserve(struct sipd_stream *s, struct dir *d, uint32_t need)
{
	uint32_t sp = span(d), maxcap = 2 * s->lim.max_conn_bytes, ncap;
	uint8_t *nb;

	if (d->buf && d->head + need <= d->cap)
		return 0;
	/* Moving the bytes down is paid for by the ones consumed before
	 * them (head >= sp), or the buffer is at its largest, where head
	 * > cap - need >= max_conn_bytes >= sp holds as well; or the total
	 * bound leaves no room to grow. */
	if (d->buf && need <= d->cap &&
	    (d->head >= sp || d->cap >= maxcap || !budget_ok(s, d->cap))) {
		memmove(d->buf, d->buf + d->head, sp);
		d->head = 0;
		return 0;
	}
	ncap = d->cap ? d->cap * 2 : MIN_CAP;
	if (ncap < need)
		ncap = need;
	if (ncap > maxcap)
		ncap = maxcap;
	if (!budget_ok(s, ncap - d->cap)) {
		ncap = need;
		if (ncap < d->cap || !budget_ok(s, ncap - d->cap))
			return -ENOSPC;
	}
	nb = malloc(ncap);
	if (!nb)
		return -ENOMEM;
	if (sp)
		memcpy(nb, d->buf + d->head, sp);
	free(d->buf);
	d->buf = nb;
	d->cap = ncap;
	d->head = 0;
	account(s, d);
	return 0;
}

/* Give memory back when the span fell well below the buffer. */
static void shrink(struct sipd_stream *s, struct dir *d)
{
	uint32_t sp = span(d), ncap;
	uint8_t *nb;

	if (!d->buf)
		return;
	if (!sp) {
		free(d->buf);
		d->buf = NULL;
		d->cap = d->head = 0;
		account(s, d);
		return;
	}
	if (d->cap <= MIN_CAP || (uint64_t)sp * 4 >= d->cap)
		return;
	ncap = sp * 2 > MIN_CAP ? sp * 2 : MIN_CAP;
	nb = malloc(ncap);
	if (!nb)
		return;
	memcpy(nb, B(d), sp);
	free(d->buf);
	d->buf = nb;
	d->cap = ncap;
	d->head = 0;
	account(s, d);
}

/* Move base forward by t (t <= cons): consumed bytes leave the kept window. */
static void advance(struct dir *d, uint32_t t)
{
	if (!t)
		return;
	d->base += t;
	d->head += t;
	d->len -= t;
	d->cons -= t;
	d->scan -= t;
	if (d->ls != NO_LINE)
		d->ls -= t;
	for (unsigned int i = 0; i < d->nooo; i++) {
		d->ooo[i].lo -= t;
		d->ooo[i].hi -= t;
	}
}

static void trim_kept(struct sipd_stream *s, struct dir *d)
{
	if (d->cons > s->lim.keep_bytes)
		advance(d, d->cons - s->lim.keep_bytes);
}

/* The total bound is reached: take the bytes of c (not the current
 * connection) for others. A direction that could be mid-message is
 * rejected from its contiguous end, the first byte its receiver lacks. */
static void rob(struct sipd_stream *s, struct conn *c)
{
	s->st.gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL]++;
	for (int i = 0; i < 2; i++) {
		struct dir *d = &c->d[i];
		uint32_t end = d->base + d->len;

		if (!d->used || !d->acct)
			continue;
		if (dir_exposed(d))
			reject_dir(d, end, end);
		hole_del(s, d);
		free(d->buf);
		free(d->wsbuf);
		d->buf = d->wsbuf = NULL;
		d->cap = d->wscap = d->head = d->wslen = 0;
		d->ws_open = 0;
		d->nooo = 0;
		d->base = end;
		d->len = d->cons = d->scan = 0;
		d->ls = d->state == ST_DEAD ? NO_LINE : 0;
		account(s, d);
	}
}

/* Room for grow more bytes in the total bound, robbing the least recently
 * used connections that hold bytes if need be. */
static int make_room(struct sipd_stream *s, uint64_t grow)
{
	struct conn *c = s->lru_head, *next;
	unsigned int looked = 0;

	while (c && !budget_ok(s, grow) && looked++ < ROOM_SCAN) {
		next = c->lnext;
		if (c != s->cur && !c->killed && (c->d[0].acct || c->d[1].acct))
			rob(s, c);
		c = next;
	}
	return budget_ok(s, grow);
}

/* ---- items ---- */

static int items_reserve(struct sipd_stream *s, size_t bytes, unsigned int n)
{
	if (bytes > s->out_cap) {
		uint8_t *o = realloc(s->out, bytes);

		if (!o)
			return -ENOMEM;
		s->out = o;
		s->out_cap = bytes;
	}
	if (n > s->items_cap) {
		struct sipd_stream_item *it = realloc(s->items, n * sizeof(*it));
		size_t *off;

		if (!it)
			return -ENOMEM;
		s->items = it;
		off = realloc(s->item_off, n * sizeof(*off));
		if (!off)
			return -ENOMEM;
		s->item_off = off;
		s->items_cap = n;
	}
	return 0;
}

static struct sipd_stream_item *item(struct sipd_stream *s)
{
	struct sipd_stream_item *it;

	/* Reserved for the worst case before the segment is taken; should a
	 * bound ever be wrong, an item is lost rather than memory overrun. */
	if (s->nitems == s->items_cap)
		return NULL;
	it = &s->items[s->nitems];
	memset(it, 0, sizeof(*it));
	s->item_off[s->nitems] = SIZE_MAX;
	s->nitems++;
	return it;
}

static void emit_msg(struct sipd_stream *s, const uint8_t *p, size_t n, int ws)
{
	struct sipd_stream_item *it;

	if (s->out_len + n > s->out_cap || !(it = item(s)))
		return;
	it->kind = SIPD_STREAM_MSG;
	it->len = n;
	it->ws = (uint8_t)ws;
	it->reason = SW_SIP_R_ACCEPTED;
	memcpy(s->out + s->out_len, p, n);
	s->item_off[s->nitems - 1] = s->out_len;
	s->out_len += n;
	s->st.messages++;
	if (ws)
		s->st.ws_messages++;
}

static void emit_bad(struct sipd_stream *s, enum sw_sip_reason r, const char *detail)
{
	struct sipd_stream_item *it = item(s);

	if (!it)
		return;
	it->kind = SIPD_STREAM_BAD;
	it->reason = r;
	snprintf(it->detail, sizeof(it->detail), "%s", detail);
	s->st.bad++;
}

/* ---- SIP framing ---- */

static int tchar(uint8_t c)
{
	/* RFC 3261 token */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

static int digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Content of the line p[0..n) that ends in LF: without LF and a CR before it. */
static size_t content(const uint8_t *p, size_t n)
{
	n--;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

/* NULL if p[0..n) (ends in LF) is a whole SIP start line, RFC 3261 25.1
 * strictly; else what is wrong with it. */
static const char *start_line_why(const uint8_t *p, size_t n)
{
	size_t m = content(p, n), i = 0, j;

	if (m && (p[0] == ' ' || p[0] == '\t'))
		return "line at a message boundary begins with white space";
	if (m >= 7 && !strncasecmp((const char *)p, "SIP/2.0", 7) &&
	    (m == 7 || p[7] == ' ' || p[7] == '\t')) {
		if (m == 7)
			return "Status-Line without a status code";
		if (p[7] != ' ')
			return "tab in the Status-Line";
		if (m < 11 || !digit(p[8]) || !digit(p[9]) || !digit(p[10]))
			return "Status-Line without a three-digit status code";
		if (m == 11)
			return "Status-Line without the space before the reason phrase";
		if (p[11] != ' ')
			return p[11] == '\t' ? "tab in the Status-Line"
					     : "Status-Line status code longer than three digits";
		for (i = 12; i < m; i++)
			if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
				return "control character in the reason phrase";
		return NULL;
	}
	while (i < m && tchar(p[i]))
		i++;
	if (!i)
		return "not a SIP start line (no method token)";
	if (i >= m)
		return "not a SIP start line (a token alone)";
	if (p[i] == '\t')
		return "tab in the Request-Line";
	if (p[i] != ' ')
		return "not a SIP start line";
	j = ++i;
	if (i < m && (p[i] == ' ' || p[i] == '\t'))
		return "two spaces or a tab in the Request-Line";
	while (i < m && p[i] > 0x20 && p[i] != 0x7f)
		i++;
	if (i == j || i >= m)
		return "Request-Line without a SIP version";
	if (p[i] == '\t')
		return "tab in the Request-Line";
	if (p[i] != ' ')
		return "control character in the Request-URI";
	i++;
	if (i < m && (p[i] == ' ' || p[i] == '\t'))
		return "two spaces or a tab in the Request-Line";
	if (m - i >= 7 && !strncasecmp((const char *)p + i, "SIP/2.0", 7)) {
		if (m - i == 7)
			return NULL;
		return p[i + 7] == ' ' || p[i + 7] == '\t'
			       ? "trailing white space in the Request-Line"
			       : "Request-Line with a version other than SIP/2.0";
	}
	return "Request-Line with a version other than SIP/2.0";
}

/* p[0..n) begins with a whole start line. */
static int starts_ok(const uint8_t *p, size_t n)
{
	const uint8_t *q = n ? memchr(p, '\n', n) : NULL;

	return q && !start_line_why(p, (size_t)(q - p) + 1);
}

static int only_crlf(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

/* Bytes that must not pass where no boundary is known: the segment is
 * dropped and the direction rejected (by the caller of the framer). */
static int unframed(struct sipd_stream *s, struct dir *d)
{
	s->unframed = 1;
	s->st.gave_up[SIPD_STREAM_GIVEUP_UNFRAMED]++;
	d->state = ST_DEAD;
	return 0;
}

/* Cannot go on: one BAD item, the direction rejected, not read any more. */
static int bad_dead(struct sipd_stream *s, struct dir *d, enum sipd_stream_giveup g,
		    enum sw_sip_reason r, const char *detail)
{
	if (g < SIPD_STREAM_GIVEUP_MAX)
		s->st.gave_up[g]++;
	emit_bad(s, r, detail);
	s->bad = 1;
	d->state = ST_DEAD;
	d->wslen = 0;
	d->ws_open = 0;
	return 0;
}

static void cl_error(struct dir *d, enum sw_sip_reason r, const char *detail)
{
	if (d->cl_err)
		return;
	d->cl_err = 1;
	d->cl_reason = r;
	snprintf(d->cl_detail, sizeof(d->cl_detail), "%s", detail);
}

#define CL_HUGE 1000000000000ULL /* larger than any limit: saturate here */

/* One header line (without its end): note Content-Length / l. */
static void cl_line(struct dir *d, const uint8_t *p, size_t n)
{
	size_t i = 0, nl;
	uint64_t v = 0;

	while (i < n && tchar(p[i]))
		i++;
	nl = i;
	if (!((nl == 14 && !strncasecmp((const char *)p, "content-length", 14)) ||
	      (nl == 1 && (p[0] | 0x20) == 'l')))
		return;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= n || p[i] != ':')
		return; /* not this header (the validator judges the line) */
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] == '-') {
		cl_error(d, SW_SIP_R_BAD_CONTENT_LENGTH, "negative Content-Length");
		return;
	}
	if (i >= n || !digit(p[i])) {
		cl_error(d, SW_SIP_R_BAD_CONTENT_LENGTH, "Content-Length is not a number");
		return;
	}
	while (i < n && digit(p[i])) {
		if (v < CL_HUGE)
			v = v * 10 + (uint64_t)(p[i] - '0');
		i++;
	}
	if (v > CL_HUGE)
		v = CL_HUGE;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i != n) {
		cl_error(d, SW_SIP_R_BAD_CONTENT_LENGTH, "Content-Length is not a number");
		return;
	}
	if (d->have_clen && d->clen != v) {
		cl_error(d, SW_SIP_R_BAD_CONTENT_LENGTH, "two Content-Length headers that differ");
		return;
	}
	d->have_clen = 1;
	d->clen = v;
}

static void to_hunt(struct dir *d, uint32_t at)
{
	d->state = ST_HUNT;
	d->ls = d->scan = at;
}

/* At cons: CR/LF keep-alives, then a whole start line (1: now ST_HDR). */
static int hunt(struct sipd_stream *s, struct dir *d)
{
	const uint8_t *b = B(d), *q;
	uint32_t k = d->cons, e;
	const char *why;

	while (k < d->len && (b[k] == '\r' || b[k] == '\n'))
		k++;
	if (k > d->cons) {
		s->st.keepalives++;
		s->ka++;
		d->cons = k;
	}
	d->ls = d->cons;
	if (d->scan < d->cons)
		d->scan = d->cons;
	if (d->cons == d->len)
		return 0;
	q = memchr(b + d->scan, '\n', d->len - d->scan);
	if (!q) {
		d->scan = d->len;
		/* no boundary known: a start line must come whole */
		if (d->fresh)
			return unframed(s, d);
		if (d->len - d->cons > s->lim.max_msg_len)
			return bad_dead(s, d, SIPD_STREAM_GIVEUP_TOO_BIG, SW_SIP_R_TOO_LARGE,
					"start line longer than the message limit");
		return 0; /* the start of a start line, at a boundary */
	}
	e = (uint32_t)(q - b) + 1;
	why = start_line_why(b + d->cons, e - d->cons);
	if (why)
		return d->fresh ? unframed(s, d)
				: bad_dead(s, d, SIPD_STREAM_GIVEUP_MAX, SW_SIP_R_BAD_START_LINE,
					   why);
	d->fresh = 0;
	d->state = ST_HDR;
	d->scan = d->ls = e;
	d->have_clen = d->cl_err = 0;
	d->clen = 0;
	return 1;
}

/* The header block at cons overran max_msg_len. */
static int too_big(struct sipd_stream *s, struct dir *d)
{
	char det[112];

	snprintf(det, sizeof(det), "header block longer than %u octets without an empty line",
		 s->lim.max_msg_len);
	return bad_dead(s, d, SIPD_STREAM_GIVEUP_TOO_BIG, SW_SIP_R_TOO_LARGE, det);
}

/* The header block ended: frame the message or report why it cannot be. */
static int block_done(struct sipd_stream *s, struct dir *d)
{
	char det[112];

	if (d->cl_err)
		return bad_dead(s, d, SIPD_STREAM_GIVEUP_MAX, d->cl_reason, d->cl_detail);
	if (!d->have_clen)
		return bad_dead(s, d, SIPD_STREAM_GIVEUP_MAX, SW_SIP_R_BAD_CONTENT_LENGTH,
				"no Content-Length on a stream");
	if (d->clen > (uint64_t)(s->lim.max_msg_len - d->hdr_len)) {
		if (d->clen >= CL_HUGE)
			snprintf(det, sizeof(det), "Content-Length of more than %llu octets",
				 (unsigned long long)CL_HUGE);
		else
			snprintf(det, sizeof(det),
				 "header block of %u and Content-Length %llu exceed %u octets",
				 d->hdr_len, (unsigned long long)d->clen, s->lim.max_msg_len);
		return bad_dead(s, d, SIPD_STREAM_GIVEUP_MAX, SW_SIP_R_TOO_LARGE, det);
	}
	d->state = ST_BODY;
	return 1;
}

/* 1: the header block is done (ST_BODY), 0: more is needed or BAD. */
static int header_block(struct sipd_stream *s, struct dir *d)
{
	uint32_t max = s->lim.max_msg_len;

	while (d->scan < d->len) {
		const uint8_t *b = B(d), *q = memchr(b + d->scan, '\n', d->len - d->scan);
		uint32_t e;
		size_t m;

		if (!q) {
			d->scan = d->len;
			break;
		}
		e = (uint32_t)(q - b) + 1;
		if (e - d->cons > max)
			return too_big(s, d);
		m = content(b + d->ls, e - d->ls);
		if (!m) {
			d->hdr_len = e - d->cons;
			return block_done(s, d);
		}
		cl_line(d, b + d->ls, m);
		d->ls = d->scan = e;
	}
	if (d->len - d->cons > max)
		return too_big(s, d);
	return 0;
}

static int body(struct sipd_stream *s, struct dir *d)
{
	uint32_t need = d->hdr_len + (uint32_t)d->clen;

	if (d->len - d->cons < need)
		return 0;
	emit_msg(s, B(d) + d->cons, need, 0);
	d->cons += need;
	to_hunt(d, d->cons);
	return 1;
}

/* ---- WebSocket ---- */

static int ws_fail(struct sipd_stream *s, struct dir *d, enum sipd_stream_giveup g,
		   enum sw_sip_reason r, const char *detail)
{
	return bad_dead(s, d, g, r, detail);
}

static int has_token_ci(const uint8_t *p, size_t n, const char *tok)
{
	size_t t = strlen(tok);

	for (size_t i = 0; i + t <= n; i++)
		if (!strncasecmp((const char *)p + i, tok, t))
			return 1;
	return 0;
}

/* p[0..n) can begin lit. */
static int may_begin(const uint8_t *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return !memcmp(p, lit, n < l ? n : l);
}

/* An HTTP header line (without its end): Content-Length, Transfer-Encoding. */
static void http_header(struct dir *d, const uint8_t *p, size_t n)
{
	size_t i = 0, nl;
	uint64_t v = 0;

	while (i < n && tchar(p[i]))
		i++;
	nl = i;
	if (i >= n || p[i] != ':')
		return;
	if (nl == 17 && !strncasecmp((const char *)p, "transfer-encoding", 17)) {
		d->http_te = 1;
		return;
	}
	if (!(nl == 14 && !strncasecmp((const char *)p, "content-length", 14)))
		return;
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= n || !digit(p[i])) {
		d->cl_err = 1;
		return;
	}
	while (i < n && digit(p[i])) {
		if (v < CL_HUGE)
			v = v * 10 + (uint64_t)(p[i] - '0');
		i++;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i != n || (d->have_clen && d->clen != v)) {
		d->cl_err = 1;
		return;
	}
	d->have_clen = 1;
	d->clen = v;
}

/* The header block of an HTTP message ended at e. */
static int http_done(struct sipd_stream *s, struct dir *d, uint32_t e)
{
	struct dir *peer = &d->c->d[d == &d->c->d[0]];
	uint16_t st = d->ws_status;

	d->cons = d->ls = d->scan = e;
	if (d->cl_err || d->http_te)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "HTTP body sipd cannot follow (Transfer-Encoding, bad "
			       "Content-Length)");
	if (d->ws_client) {
		if (d->have_clen && d->clen)
			return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
				       "HTTP request with a body on a WebSocket port");
		/* frames may follow an upgrade; else the next request */
		d->state = d->ws_upgrade ? ST_WS : ST_WS_HTTP;
		return 1;
	}
	if (st == 101) {
		d->state = ST_WS;
		return 1;
	}
	/* No upgrade (a 401 before a retried GET, say): both directions are
	 * HTTP again. */
	if (peer->used && peer->ws_client && peer->state == ST_WS) {
		peer->state = ST_WS_HTTP;
		peer->ls = peer->scan = peer->cons;
		peer->ws_upgrade = 0;
		peer->ws_open = 0;
		peer->wslen = 0;
	}
	d->state = ST_WS_HTTP;
	if ((st >= 100 && st < 200) || st == 204 || st == 304)
		return 1;
	if (!d->have_clen)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "HTTP response without Content-Length: its end cannot be found");
	if (d->clen) {
		d->http_body = d->clen;
		d->state = ST_HTTP_BODY;
	}
	return 1;
}

static int http_body(struct dir *d)
{
	uint64_t k = d->len - d->cons;

	if (!k)
		return 0;
	if (k > d->http_body)
		k = d->http_body;
	d->cons += (uint32_t)k;
	d->http_body -= k;
	if (!d->http_body) {
		d->state = ST_WS_HTTP;
		d->ls = d->scan = d->cons;
	}
	return 1;
}

/* The opening handshake of one direction (RFC 6455 4), or HTTP after a
 * response other than 101. */
static int ws_http(struct sipd_stream *s, struct dir *d)
{
	uint32_t max = s->lim.max_msg_len;

	if (d->ls != d->cons && d->scan < d->cons) /* after a body or a frame */
		d->ls = d->scan = d->cons;
	/* frames without a handshake fail at once, not at a line end */
	if (d->ls == d->cons && d->len > d->cons &&
	    !may_begin(B(d) + d->cons, d->len - d->cons, "GET ") &&
	    !may_begin(B(d) + d->cons, d->len - d->cons, "HTTP/1.1 "))
		return d->fresh ? unframed(s, d)
				: ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
					  "WebSocket connection without an HTTP/1.1 handshake");

	while (d->scan < d->len) {
		const uint8_t *b = B(d), *q = memchr(b + d->scan, '\n', d->len - d->scan), *p;
		uint32_t e;
		size_t m;

		if (!q) {
			d->scan = d->len;
			break;
		}
		e = (uint32_t)(q - b) + 1;
		if (e - d->cons > max)
			break;
		p = b + d->ls;
		m = content(p, e - d->ls);
		if (d->ls == d->cons) {
			d->ws_upgrade = d->have_clen = d->cl_err = d->http_te = 0;
			d->clen = 0;
			if (m >= 14 && !memcmp(p, "GET ", 4) &&
			    !memcmp(p + m - 9, " HTTP/1.1", 9)) {
				d->ws_client = 1;
			} else if (m >= 12 && !memcmp(p, "HTTP/1.1 ", 9) && digit(p[9]) &&
				   digit(p[10]) && digit(p[11]) && (m == 12 || p[12] == ' ')) {
				d->ws_client = 0;
				d->ws_status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 +
							  (p[11] - '0'));
			} else {
				return d->fresh
					       ? unframed(s, d)
					       : ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL,
							 SW_SIP_R_BAD_PACKET,
							 "WebSocket connection without an HTTP/1.1 "
							 "handshake");
			}
			d->fresh = 0;
		} else if (!m) {
			return http_done(s, d, e);
		} else if (m > 8 && !strncasecmp((const char *)p, "upgrade", 7) &&
			   (p[7] == ':' || p[7] == ' ' || p[7] == '\t') &&
			   has_token_ci(p + 8, m - 8, "websocket")) {
			d->ws_upgrade = 1;
		} else {
			http_header(d, p, m);
		}
		d->ls = d->scan = e;
	}
	/* no boundary known: the first line must come whole */
	if (d->fresh && d->len > d->cons)
		return unframed(s, d);
	if (d->len - d->cons > max)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "WebSocket handshake longer than the message limit");
	return 0;
}

static int ws_msg_done(struct sipd_stream *s, struct dir *d)
{
	d->ws_open = 0;
	if (d->wslen && only_crlf(d->wsbuf, d->wslen)) {
		s->st.keepalives++;
		s->ka++;
	} else if (d->wslen && starts_ok(d->wsbuf, d->wslen)) {
		emit_msg(s, d->wsbuf, d->wslen, 1);
	} else if (d->wslen) {
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_START_LINE,
			       "WebSocket message that is not a SIP message");
	}
	d->wslen = 0;
	return 1;
}

/* One RFC 6455 frame at cons, when all of it is there. */
static int ws_frame(struct sipd_stream *s, struct dir *d)
{
	const uint8_t *p = B(d) + d->cons, *key = NULL;
	uint32_t avail = d->len - d->cons, hl = 2, max = s->lim.max_msg_len;
	uint64_t plen;
	int fin, op;

	if (avail < 2)
		return 0;
	fin = p[0] & 0x80;
	op = p[0] & 0x0f;
	plen = p[1] & 0x7f;
	if (p[0] & 0x70)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "WebSocket frame with reserved bits set");
	if (op > 2 && op != 8 && op != 9 && op != 10)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "WebSocket frame with an unknown opcode");
	if (!!(p[1] & 0x80) != d->ws_client)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       d->ws_client ? "unmasked WebSocket frame from the client"
					    : "masked WebSocket frame from the server");
	if (op >= 8 && (!fin || plen > 125))
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "WebSocket control frame fragmented or over 125 octets");
	if (plen == 126) {
		if (avail < 4)
			return 0;
		plen = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (plen == 127) {
		if (avail < 10)
			return 0;
		plen = 0;
		for (int i = 2; i < 10; i++)
			plen = plen << 8 | p[i];
		hl = 10;
	}
	if (plen > max)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_TOO_BIG, SW_SIP_R_TOO_LARGE,
			       "WebSocket frame longer than the message limit");
	if (d->ws_client)
		hl += 4;
	if (avail < hl + plen)
		return 0;
	if (d->ws_client)
		key = p + hl - 4;
	if (op == 8) {
		d->cons += hl + (uint32_t)plen;
		d->state = ST_WS_CLOSED; /* nothing may follow it */
		return 1;
	}
	if (op >= 8) {
		d->cons += hl + (uint32_t)plen; /* ping, pong */
		return 1;
	}
	if (op && d->ws_open)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "WebSocket data frame inside a fragmented message");
	if (!op && !d->ws_open)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
			       "WebSocket continuation frame without a message");
	if (d->wslen + plen > max)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_TOO_BIG, SW_SIP_R_TOO_LARGE,
			       "WebSocket message longer than the message limit");
	if (d->wslen + plen > d->wscap) {
		uint32_t nc = d->wscap ? d->wscap * 2 : 1024;
		uint8_t *nb;

		while (nc < d->wslen + plen)
			nc *= 2;
		if (nc > max)
			nc = max;
		if (!budget_ok(s, nc - d->wscap) && !make_room(s, nc - d->wscap))
			return ws_fail(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL, SW_SIP_R_TOO_LARGE,
				       "WebSocket message: the total byte bound is reached");
		nb = realloc(d->wsbuf, nc);
		if (!nb)
			return ws_fail(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL, SW_SIP_R_TOO_LARGE,
				       "WebSocket message: out of memory");
		d->wsbuf = nb;
		d->wscap = nc;
		account(s, d);
	}
	for (uint32_t i = 0; i < plen; i++)
		d->wsbuf[d->wslen + i] = p[hl + i] ^ (key ? key[i & 3] : 0);
	d->wslen += (uint32_t)plen;
	d->ws_open = 1;
	d->cons += hl + (uint32_t)plen;
	return fin ? ws_msg_done(s, d) : 1;
}

static void frame(struct sipd_stream *s, struct dir *d)
{
	int more = 1;

	while (more && !s->unframed) {
		switch (d->state) {
		case ST_HUNT:
			more = hunt(s, d);
			break;
		case ST_HDR:
			more = header_block(s, d);
			break;
		case ST_BODY:
			more = body(s, d);
			break;
		case ST_WS_HTTP:
			more = ws_http(s, d);
			break;
		case ST_HTTP_BODY:
			more = http_body(d);
			break;
		case ST_WS:
			more = ws_frame(s, d);
			break;
		case ST_WS_CLOSED:
			more = d->len > d->cons ? unframed(s, d) : 0;
			break;
		default:
			more = 0;
		}
	}
	trim_kept(s, d);
	shrink(s, d);
}

/* ---- taking bytes ---- */

/* [rs, re) of data equals every byte held there. */
static int same(const struct dir *d, uint32_t rs, uint32_t re, const uint8_t *data)
{
	uint32_t a, b;

	if (rs < d->len) {
		b = re < d->len ? re : d->len;
		if (memcmp(B(d) + rs, data, b - rs))
			return 0;
	}
	for (unsigned int i = 0; i < d->nooo; i++) {
		a = d->ooo[i].lo > rs ? d->ooo[i].lo : rs;
		b = d->ooo[i].hi < re ? d->ooo[i].hi : re;
		if (a < b && memcmp(B(d) + a, data + (a - rs), b - a))
			return 0;
	}
	return 1;
}

/* Every byte of [rs, re) is held. */
static int covered(const struct dir *d, uint32_t rs, uint32_t re)
{
	uint32_t pos = rs;

	if (pos < d->len)
		pos = d->len;
	for (unsigned int i = 0; i < d->nooo && pos < re; i++)
		if (d->ooo[i].lo <= pos && pos < d->ooo[i].hi)
			pos = d->ooo[i].hi;
	return pos >= re;
}

/* Contiguous bytes reached out-of-order ranges: they join. */
static void absorb(struct sipd_stream *s, struct dir *d, uint64_t now)
{
	unsigned int k = 0;

	while (k < d->nooo && d->ooo[k].lo <= d->len) {
		if (d->ooo[k].hi > d->len)
			d->len = d->ooo[k].hi;
		k++;
	}
	if (!k)
		return;
	memmove(d->ooo, d->ooo + k, (d->nooo - k) * sizeof(d->ooo[0]));
	d->nooo -= k;
	if (d->nooo)
		hole_add(s, d, now); /* the next hole: timed from now */
	else
		hole_del(s, d);
}

/* In-order bytes from offset len on, in pieces that fit, framed as they go.
 * 0: taken (or the framer stopped); 1: no room, nothing taken; 2: no room
 * after a part was taken. */
static int append(struct sipd_stream *s, struct dir *d, const uint8_t *p, uint32_t n, uint64_t now)
{
	int took = 0, robbed = 0;

	while (n && !s->unframed && d->state != ST_DEAD) {
		uint32_t sp = span(d), k = n, room = s->lim.max_conn_bytes - d->len, need;

		if (k > room)
			k = room;
		need = d->len + k > sp ? d->len + k : sp;
		if (k && !reserve(s, d, need)) {
			memcpy(B(d) + d->len, p, k);
			d->len += k;
			p += k;
			n -= k;
			took = 1;
			absorb(s, d, now);
			frame(s, d);
			continue;
		}
		if (d->cons) {
			advance(d, d->cons); /* the kept window makes room */
			continue;
		}
		if (k && !robbed) {
			robbed = 1;
			if (make_room(s, need > d->cap ? need - d->cap : 0))
				continue;
		}
		s->st.gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL]++;
		return took ? 2 : 1;
	}
	return 0;
}

/* Out-of-order bytes [rs, re), rs > len: held (0) or not (-1: no room). */
static int hold(struct sipd_stream *s, struct dir *d, uint32_t rs, uint32_t re, const uint8_t *data,
		uint64_t now)
{
	unsigned int i = 0, j;
	uint32_t lo = rs, hi = re, sp = span(d), nsp;

	if (re > s->lim.max_conn_bytes && d->cons) {
		uint32_t t = d->cons;

		advance(d, t);
		rs -= t;
		re -= t;
		lo = rs;
		hi = re;
		sp = span(d);
	}
	while (i < d->nooo && d->ooo[i].hi < lo)
		i++;
	for (j = i; j < d->nooo && d->ooo[j].lo <= hi; j++) {
		if (d->ooo[j].lo < lo)
			lo = d->ooo[j].lo;
		if (d->ooo[j].hi > hi)
			hi = d->ooo[j].hi;
	}
	nsp = re > sp ? re : sp;
	if (nsp > s->lim.max_conn_bytes || (j == i && d->nooo == OOO_MAX) || reserve(s, d, nsp)) {
		s->st.gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL]++;
		return -1;
	}
	memcpy(B(d) + rs, data, re - rs);
	if (j == i)
		memmove(&d->ooo[i + 1], &d->ooo[i], (d->nooo - i) * sizeof(d->ooo[0]));
	else if (j > i + 1)
		memmove(&d->ooo[i + 1], &d->ooo[j], (d->nooo - j) * sizeof(d->ooo[0]));
	d->nooo = d->nooo + 1 - (j - i);
	d->ooo[i].lo = lo;
	d->ooo[i].hi = hi;
	if (!d->in_holes)
		hole_add(s, d, now);
	s->st.out_of_order++;
	return 0;
}

/* The hole stayed open too long: the out-of-order bytes after it passed,
 * so the receiver must not get the hole's bytes unframed: rejected from
 * the hole on. */
static void gap_reject(struct sipd_stream *s, struct dir *d)
{
	uint32_t end = d->base + d->len;

	s->st.gave_up[SIPD_STREAM_GIVEUP_GAP]++;
	reject_dir(d, end, end);
	d->nooo = 0;
	hole_del(s, d);
	shrink(s, d);
}

/* A picked-up direction, nothing consumed, may move its start back to
 * earlier bytes that join it (reordered at the connection's start). */
static int can_prepend(const struct sipd_stream *s, const struct dir *d, uint32_t k, uint64_t now)
{
	return d->fresh && !d->cons && d->base == d->first_seq && d->prepends < PREPEND_MAX &&
	       (d->state == ST_HUNT || d->state == ST_WS_HTTP) &&
	       !older(now, d->created_ns, s->lim.gap_ns) &&
	       (uint64_t)span(d) + k <= s->lim.max_conn_bytes;
}

static int prepend(struct sipd_stream *s, struct dir *d, const uint8_t *data, uint32_t k)
{
	uint32_t sp = span(d);

	if (d->buf && d->head >= k) {
		d->head -= k;
	} else {
		uint32_t ncap = sp + k > MIN_CAP ? (sp + k) * 2 : MIN_CAP;
		uint8_t *nb;

		if (ncap > 2 * s->lim.max_conn_bytes)
			ncap = 2 * s->lim.max_conn_bytes;
		if (!budget_ok(s, ncap > d->cap ? ncap - d->cap : 0)) {
			ncap = sp + k;
			if (!budget_ok(s, ncap > d->cap ? ncap - d->cap : 0))
				return -ENOSPC;
		}
		nb = malloc(ncap);
		if (!nb)
			return -ENOMEM;
		if (sp)
			memcpy(nb + k, B(d), sp);
		free(d->buf);
		d->buf = nb;
		d->cap = ncap;
		d->head = 0;
		account(s, d);
	}
	memcpy(B(d), data, k);
	d->base -= k;
	d->first_seq = d->base;
	d->len += k;
	for (unsigned int i = 0; i < d->nooo; i++) {
		d->ooo[i].lo += k;
		d->ooo[i].hi += k;
	}
	d->scan = d->ls = 0;
	d->prepends++;
	return 0;
}

/* Take the segment's bytes: SIPD_STREAM_DROP_NONE, or why it is dropped
 * (nothing of it taken, or the direction rejected from its first byte). */
static enum sipd_stream_drop take(struct sipd_stream *s, struct dir *d, uint32_t seq,
				  const uint8_t *data, uint32_t n, uint32_t nxt, uint64_t now)
{
	int64_t rs = (int32_t)(seq - d->base), re = rs + n;
	int took = 0, r;

	if (d->fin_set && re > (int32_t)(d->fin_seq - d->base))
		return SIPD_STREAM_DROP_AFTER_FIN;
	if (rs < 0) {
		uint32_t k = (uint32_t)-rs;

		if (re < 0 || !can_prepend(s, d, k, now))
			return SIPD_STREAM_DROP_UNVERIFIED;
		if (!same(d, 0, (uint32_t)re, data + k))
			return SIPD_STREAM_DROP_OVERLAP;
		if (prepend(s, d, data, k))
			return SIPD_STREAM_DROP_NO_ROOM;
		rs = 0;
		re += k;
		took = 1;
	}
	if (re > rs) {
		if (!same(d, (uint32_t)rs, (uint32_t)re, data))
			return SIPD_STREAM_DROP_OVERLAP;
		if (covered(d, (uint32_t)rs, (uint32_t)re)) {
			if (!took)
				s->st.retransmits++;
		} else if (rs <= d->len) {
			r = append(s, d, data + (d->len - rs), (uint32_t)(re - d->len), now);
			if (r == 2 || (r == 1 && took)) {
				reject_dir(d, seq, nxt);
				return SIPD_STREAM_DROP_NO_ROOM;
			}
			if (r == 1)
				return SIPD_STREAM_DROP_NO_ROOM;
			return SIPD_STREAM_DROP_NONE;
		} else if (re > (int64_t)s->lim.max_conn_bytes ||
			   hold(s, d, (uint32_t)rs, (uint32_t)re, data, now)) {
			if (re > (int64_t)s->lim.max_conn_bytes)
				s->st.gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL]++;
			return SIPD_STREAM_DROP_NO_ROOM;
		}
	}
	frame(s, d);
	return SIPD_STREAM_DROP_NONE;
}

/* ---- the API ---- */

void sipd_stream_expire(struct sipd_stream *s, uint64_t now_ns)
{
	while (s->hole_head && older(now_ns, s->hole_head->hole_ns, s->lim.gap_ns))
		gap_reject(s, s->hole_head);
	while (s->lru_head && older(now_ns, s->lru_head->last_ns, s->lim.idle_ns))
		forget(s, s->lru_head, SIPD_STREAM_GIVEUP_IDLE, 1, now_ns);
}

static void dir_init(struct dir *d, uint32_t seq, uint64_t now, int ws, int syn)
{
	d->used = 1;
	d->closed = 0;
	d->base = d->first_seq = seq;
	d->state = ws ? ST_WS_HTTP : ST_HUNT;
	d->fresh = !syn;
	d->syn = (uint8_t)syn;
	d->ls = d->scan = 0;
	d->created_ns = now;
}

/* forget: both ends closed may be forgotten now (not while the caller has
 * yet to decide the segment: it may still reject its direction). */
static void check_closed(struct sipd_stream *s, struct conn *c, struct dir *d, uint64_t now,
			 int forget_ok)
{
	if (d->used && d->fin_set && d->base + d->len == d->fin_seq)
		d->closed = 1;
	if (forget_ok && c->d[0].closed && c->d[1].closed)
		forget(s, c, SIPD_STREAM_GIVEUP_CLOSED, 1, now);
}

/* A FIN without payload: recorded only at the direction's contiguous end. */
static void fin_seen(struct sipd_stream *s, struct conn *c, struct dir *d, uint32_t seq,
		     uint64_t now)
{
	touch(s, c, now);
	if (!d->used)
		dir_init(d, seq, now, c->ws, 0);
	if (!d->fin_set && !d->rejected && !d->nooo && seq == d->base + d->len) {
		d->fin_set = 1;
		d->fin_seq = seq;
	}
	check_closed(s, c, d, now, 1);
}

static void finish(struct sipd_stream *s, struct sipd_stream_res *res)
{
	for (unsigned int i = 0; i < s->nitems; i++)
		s->items[i].data = s->item_off[i] == SIZE_MAX ? NULL : s->out + s->item_off[i];
	res->items = s->items;
	res->n_items = s->nitems;
	res->keepalives = s->ka;
	if (res->v == SIPD_STREAM_PASS && s->nitems)
		res->v = SIPD_STREAM_DECIDE;
}

static int drop(struct sipd_stream *s, struct sipd_stream_res *res, enum sipd_stream_drop why)
{
	res->v = SIPD_STREAM_DROP;
	res->drop_why = why;
	res->n_items = 0;
	s->st.dropped[why]++;
	if (why == SIPD_STREAM_DROP_REJECTED)
		s->st.rejected++;
	if (why == SIPD_STREAM_DROP_UNVERIFIED)
		s->st.unverified++;
	if (why == SIPD_STREAM_DROP_OVERLAP)
		s->st.gave_up[SIPD_STREAM_GIVEUP_OVERLAP]++;
	return 0;
}

/* What the sender of seg expects next from its peer (a RST to it). */
static uint32_t sender_nxt(const struct conn *c, int di, const struct sipd_tcp_seg *seg)
{
	uint32_t x;

	if (!c || !dir_nxt(c, !di, &x))
		return seg->ack;
	return (seg->flags & SIPD_TCP_ACK) ? seq_max(x, seg->ack) : x;
}

static void reset(struct sipd_stream *s, struct sipd_stream_res *res,
		  const struct sipd_tcp_seg *seg, uint32_t to_sender, uint32_t to_receiver)
{
	res->v = SIPD_STREAM_RESET;
	reverse(&seg->key, &res->rst[0].key);
	res->rst[0].seq = to_sender;
	res->rst[1].key = seg->key;
	res->rst[1].seq = to_receiver;
	s->st.resets++;
	s->st.gave_up[SIPD_STREAM_GIVEUP_RESET]++;
}

/* After a reset (nxt known): a segment far from where the old connection
 * was is a new connection on the same ports. */
static int far(int known, uint32_t nxt, uint32_t seq)
{
	return known && seq - nxt + NEW_CONN_DIST > 2 * NEW_CONN_DIST;
}

/* A boundary tombstone's connection again, where it was; NULL: no room. */
static struct conn *restore(struct sipd_stream *s, struct tomb *t, int tdi,
			    const struct sipd_tcp_seg *seg, uint64_t now)
{
	struct tomb k = *t;
	struct conn *c;

	tomb_del(s, t);
	c = conn_new(s, seg, now);
	for (int i = 0; i < 2; i++) {
		int ti = i ^ tdi;
		struct dir *d = &c->d[i];

		if (!k.known[ti])
			continue;
		dir_init(d, k.nxt[ti], now, c->ws, 1);
		d->state = k.st[ti];
		d->ws_client = k.ws_client[ti];
		if (k.fin[ti]) {
			d->fin_set = d->closed = 1;
			d->fin_seq = k.nxt[ti];
		}
	}
	return c;
}

/* A segment of a forgotten connection: 0 when it is done with (res set),
 * 1 when it goes on as an untracked one, 2 as the restored *cp. */
static int tomb_seg(struct sipd_stream *s, struct tomb *t, int tdi, const struct sipd_tcp_seg *seg,
		    uint32_t n, uint64_t now, struct sipd_stream_res *res, struct conn **cp)
{
	uint32_t seq = seg->seq + !!(seg->flags & SIPD_TCP_SYN);
	int isfar = far(t->known[tdi], t->nxt[tdi], seq);

	if (t->boundary) {
		if (isfar) {
			tomb_del(s, t); /* a new connection on the ports */
			return 1;
		}
		if (!n && !(seg->flags & (SIPD_TCP_SYN | SIPD_TCP_FIN)))
			return 0;
		*cp = restore(s, t, tdi, seg, now);
		return 2;
	}
	if (t->reset && (older(now, t->last_ns, s->lim.idle_ns) || isfar)) {
		tomb_del(s, t);
		return 1;
	}
	if (!n)
		return 0;
	s->st.segments++;
	t->last_ns = now;
	if (t->reset)
		return drop(s, res, SIPD_STREAM_DROP_REJECTED);
	t->reset = 1;
	reset(s, res, seg,
	      !t->known[!tdi]		  ? seg->ack
	      : seg->flags & SIPD_TCP_ACK ? seq_max(t->nxt[!tdi], seg->ack)
					  : t->nxt[!tdi],
	      t->known[tdi] ? t->nxt[tdi] : seg->seq);
	return 0;
}

int sipd_stream_add(struct sipd_stream *s, const struct sipd_tcp_seg *seg, uint64_t now_ns,
		    struct sipd_stream_res *res)
{
	uint32_t seq = seg->seq, n = seg->len > MAX_SEG_LEN ? MAX_SEG_LEN : (uint32_t)seg->len, nxt;
	enum sipd_stream_drop why;
	struct tomb *t = NULL;
	struct conn *c;
	struct dir *d;
	int di = 0, tdi = 0;

	memset(res, 0, sizeof(*res));
	res->items = s->items;
	s->nitems = 0;
	s->out_len = 0;
	s->ka = 0;
	s->unframed = s->bad = 0;
	s->cur = NULL;
	s->last_dir = NULL;
	sipd_stream_expire(s, now_ns);
	c = lookup(s, &seg->key, &di);
	if (!c)
		t = tomb_find(s, &seg->key, &tdi);
	if (seg->flags & SIPD_TCP_RST) {
		/* RFC 5961 3.2: only the exact next sequence number resets. A
		 * tombstone stays (a RST matching the peer's ack alone, or one
		 * the other end did not send, leaves that end alive): a new
		 * connection on the ports is far from it. */
		if (c && dir_nxt(c, di, &nxt) && seq == nxt)
			forget(s, c, c->killed ? SIPD_STREAM_GIVEUP_MAX : SIPD_STREAM_GIVEUP_CLOSED,
			       1, now_ns);
		else if (t && t->known[tdi] && seq == t->nxt[tdi])
			tomb_del(s, t);
		return 0;
	}
	if (t) {
		int r = tomb_seg(s, t, tdi, seg, n, now_ns, res, &c);

		if (!r)
			return 0;
		di = 0;
	}
	if (c && c->killed) {
		if ((n || (seg->flags & SIPD_TCP_SYN)) &&
		    far(c->nxt_known[di], c->nxt[di], seq + !!(seg->flags & SIPD_TCP_SYN))) {
			/* a new connection on the ports */
			forget(s, c, SIPD_STREAM_GIVEUP_MAX, 0, now_ns);
			c = NULL;
		} else {
			touch(s, c, now_ns);
			if (n) {
				s->st.segments++;
				drop(s, res, SIPD_STREAM_DROP_REJECTED);
			}
			return 0;
		}
	}
	if (seg->flags & SIPD_TCP_SYN) {
		if (c) {
			d = &c->d[di];
			touch(s, c, now_ns);
			if (n) {
				s->st.segments++;
				return drop(s, res, SIPD_STREAM_DROP_SYN);
			}
			if (d->used && d->syn && seq + 1 == d->first_seq)
				return 0; /* retransmitted */
			if (d->used &&
			    (exposed(c) || !dir_nxt(c, di, &nxt) || !far(1, nxt, seq + 1)))
				return 0; /* the endpoint answers it with a challenge ACK */
			if (d->used) {
				forget(s, c, SIPD_STREAM_GIVEUP_CLOSED, 0, now_ns); /* port reuse */
				c = NULL;
			} else {
				dir_init(d, seq + 1, now_ns, c->ws, 1); /* the SYN-ACK */
			}
		}
		if (!c) {
			c = conn_new(s, seg, now_ns);
			di = 0;
			dir_init(&c->d[0], seq + 1, now_ns, c->ws, 1);
		}
		seq++;
	}
	if (c && (seg->flags & SIPD_TCP_ACK)) {
		c->d[di].ack = seg->ack;
		c->d[di].ack_known = 1;
	}
	if (!n) {
		if (c && (seg->flags & SIPD_TCP_FIN))
			fin_seen(s, c, &c->d[di], seq, now_ns);
		return 0;
	}
	s->st.segments++;
	if (c && c->d[di].used && c->d[di].fin_set &&
	    (far(1, c->d[di].fin_seq + 1, seq) ||
	     (int32_t)(seq - (c->d[di].fin_seq + 1)) > 65535)) {
		/* Payload well past where a direction ended (its FIN seen): a
		 * new connection on the same ports (the inline path sees no
		 * SYN; one reusing a TIME-WAIT 4-tuple starts 64 KiB + 2 past
		 * the old one's end, RFC 6191 / Linux), the old one's other end
		 * closed by a RST sipd could not match. Nothing of the old one
		 * can reach a receiver from there: the bytes between would be
		 * older than the new base and are dropped. */
		forget(s, c, SIPD_STREAM_GIVEUP_CLOSED, 0, now_ns);
		c = NULL;
	}
	if (!c) {
		c = conn_new(s, seg, now_ns);
		di = 0;
		if (seg->flags & SIPD_TCP_ACK) {
			c->d[0].ack = seg->ack;
			c->d[0].ack_known = 1;
		}
	}
	touch(s, c, now_ns);
	s->cur = c;
	d = &c->d[di];
	if (!d->used) {
		/* picked up: not at bytes its receiver acknowledged already */
		if (c->d[!di].ack_known && seq_lt(seq, c->d[!di].ack))
			return drop(s, res, SIPD_STREAM_DROP_UNVERIFIED);
		dir_init(d, seq, now_ns, c->ws, 0);
	}
	if (d->in_holes && older(now_ns, d->hole_ns, s->lim.gap_ns))
		gap_reject(s, d);
	if (d->fresh_rej && !seq_lt(d->base, seq) && d->rejects < s->lim.max_rejects) {
		/* Picked up, its first bytes dropped unframed, nothing passed:
		 * a segment at or before its start (a retransmission, the
		 * bytes before it) starts it again, what was held of the
		 * dropped ones let go (so what is held is what passed, and
		 * the contiguous end is where the receiver is); each try
		 * counts. */
		unsigned int r = d->rejects + 1;
		uint32_t a = d->ack;
		uint8_t ak = d->ack_known;

		dir_clear(s, d);
		d->ack = a;
		d->ack_known = ak;
		dir_init(d, seq, now_ns, c->ws, 0);
		d->rejects = r;
	}
	if (d->rejected && (int32_t)(seq + n - d->rej_seq) > 0) {
		if (d->rejects >= s->lim.max_rejects) {
			reset(s, res, seg, sender_nxt(c, di, seg), d->rej_nxt);
			conn_kill(s, c);
			return 0;
		}
		d->rejects++;
		return drop(s, res, SIPD_STREAM_DROP_REJECTED);
	}
	/* room for every item this segment could complete: the bytes framed
	 * now are the unframed ones, the segment's and a WebSocket message */
	{
		size_t bytes = (size_t)pending(d) + n + s->lim.max_msg_len;

		if (items_reserve(s, bytes, (unsigned int)(bytes / 8 + 8)))
			return -ENOMEM;
	}
	/* the receiver's next expected before this segment: what is held in
	 * order is what passed */
	nxt = d->base + d->len;
	why = take(s, d, seq, seg->data, n, nxt, now_ns);
	if (why == SIPD_STREAM_DROP_AFTER_FIN)
		reject_dir(d, d->fin_seq, d->fin_seq);
	if (!why && s->unframed) {
		int fr = d->fresh && !d->cons && seq == d->base;

		why = SIPD_STREAM_DROP_UNFRAMED;
		reject_dir(d, seq, nxt);
		d->fresh_rej = (uint8_t)fr;
	}
	if (why) {
		s->nitems = 0;
		return drop(s, res, why);
	}
	/* nxt is what the receiver lacks if this segment is dropped: it may
	 * begin before it (a part retransmitted) or after it (held bytes of
	 * dropped segments between) */
	if (s->bad)
		reject_dir(d, seq, nxt);
	finish(s, res);
	s->last_dir = d;
	s->last_seq = seq;
	s->last_nxt = nxt;
	if ((seg->flags & SIPD_TCP_FIN) && !d->fin_set && !d->rejected && !d->nooo &&
	    d->base + d->len == seq + n) {
		d->fin_set = 1;
		d->fin_seq = seq + n;
	}
	check_closed(s, c, d, now_ns, res->v != SIPD_STREAM_DECIDE);
	return 0;
}

void sipd_stream_reject(struct sipd_stream *s, const struct sipd_tcp_seg *seg, uint64_t now_ns)
{
	uint32_t seq = seg->seq + !!(seg->flags & SIPD_TCP_SYN);
	struct conn *c;
	struct dir *d;
	int di;

	(void)now_ns;
	c = lookup(s, &seg->key, &di);
	if (!c || c->killed || !seg->len)
		return;
	d = &c->d[di];
	if (!d->used)
		return;
	reject_dir(d, seq, d == s->last_dir && seq == s->last_seq ? s->last_nxt : seq);
}
