// SPDX-License-Identifier: GPL-2.0-only
/*
 * SIP over TCP and plain WebSocket: stream reassembly and framing (see
 * stream.h). One entry per connection (both directions), found by a hash of
 * the unordered pair of endpoints, kept on an LRU list for idle expiry and
 * eviction. A direction keeps one linear buffer covering the sequence space
 * [base, base + span): the last keep_bytes consumed bytes (to check
 * retransmissions), the contiguous bytes not framed yet, and beyond them the
 * out-of-order bytes as a short sorted list of ranges. A hole between them
 * counts as held (the room is reserved), so max_conn_bytes bounds the span
 * and the memory alike. Directions with a hole sit on a list in the order the
 * hole opened, so the gap check looks at its head only.
 *
 * The framer is incremental: a search for a line end, an empty line or a
 * start line resumes where it stopped (scan), so bytes arriving one at a time
 * cost O(1) each. Items are copied into an arena owned by the module, so they
 * stay valid while the stream buffer moves.
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
#define MIN_CAP	       4096	  /* smallest stream buffer */
#define MIN_CONN_BYTES 256
#define MAX_CONN_BYTES (1u << 30)
#define MAX_SEG_LEN    (1u << 30)
#define WS_HDR_MAX     14 /* 2 + 8 (length) + 4 (mask) */
#define PREPEND_MAX    8

static const char *const giveup_names[] = {
#define SIPD_STREAM_NAME(id, name) [SIPD_STREAM_GIVEUP_##id] = name,
	SIPD_STREAM_GIVEUPS(SIPD_STREAM_NAME)
#undef SIPD_STREAM_NAME
};

const char *sipd_stream_giveup_name(enum sipd_stream_giveup g)
{
	return (unsigned int)g < SIPD_STREAM_GIVEUP_MAX ? giveup_names[g] : "?";
}

enum dstate {
	ST_HUNT,    /* looking for a start line (synced: at a message boundary) */
	ST_HDR,	    /* in a header block, looking for the empty line */
	ST_BODY,    /* waiting for the body */
	ST_WS_HTTP, /* WebSocket: the HTTP/1.1 opening handshake */
	ST_WS,	    /* WebSocket frames */
	ST_PASS,    /* uninspected: HTTP only, after a WebSocket close or failure */
};

struct range {
	uint32_t lo, hi; /* [lo, hi) from base */
};

struct conn;

struct dir {
	struct conn *c;
	uint8_t used, closed, fin_set, rejected;
	uint8_t state;	 /* enum dstate */
	uint8_t synced;	 /* ST_HUNT: at a message boundary (CR/LF are keep-alives) */
	uint8_t fresh;	 /* picked up, never synced: keep skipped bytes (earlier ones may come) */
	uint8_t episode; /* a resync give-up is counted for the current skip */
	uint8_t in_holes;
	uint8_t prepends; /* times the start moved back (bounded: each rescans) */
	/* Content-Length of the header block being read */
	uint8_t have_clen, cl_err;
	enum sw_sip_reason cl_reason;
	char cl_detail[80];
	uint64_t clen;
	uint32_t hdr_len;
	/* WebSocket */
	uint8_t ws_client, ws_upgrade, ws_open, lost;
	uint16_t ws_status;
	const char *lost_why;
	uint8_t *wsbuf;
	uint32_t wslen, wscap;
	/* sequence space */
	uint32_t base;	    /* seq of offset 0 */
	uint32_t first_seq; /* the first byte ever held (prepend: an earlier start) */
	uint32_t len;	    /* contiguous bytes from base */
	uint32_t cons;	    /* framed up to here; [0, cons) is the kept window */
	uint32_t scan;	    /* the search resumes here */
	uint32_t ls;	    /* start of the line being read, or NO_LINE */
	uint32_t fin_seq, rej_seq;
	unsigned int rejects;
	uint64_t created_ns, hole_ns;
	struct range ooo[OOO_MAX];
	unsigned int nooo;
	struct dir *hprev, *hnext; /* the hole list */
	uint8_t *buf;
	uint32_t head, cap; /* offset 0 is buf[head] */
	uint64_t acct;	    /* bytes counted in stats.bytes_held */
};

struct conn {
	struct conn *hnext;	    /* hash chain, or the free list */
	struct conn *lprev, *lnext; /* LRU: lru_head is the least recently used */
	struct sipd_stream_key key; /* dir[0] is this orientation */
	uint32_t bucket;
	uint8_t used, killed, ws;
	uint64_t last_ns;
	struct dir d[2];
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
	/* this call's items, their bytes in out[] (offsets until the end) */
	struct sipd_stream_item *items;
	size_t *item_off;
	unsigned int nitems, items_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	unsigned int ka;
};

/* ---- helpers ---- */

static int older(uint64_t now, uint64_t t, uint64_t lim)
{
	/* A capture's clock may step back: only forward time expires. */
	return now > t && now - t >= lim;
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

static void account(struct sipd_stream *s, struct dir *d)
{
	uint64_t h = d->used ? (uint64_t)span(d) + d->wslen : 0;

	s->st.bytes_held = s->st.bytes_held - d->acct + h;
	d->acct = h;
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

static uint32_t bucket_of(const struct sipd_stream *s, const struct sipd_stream_key *k)
{
	uint64_t h = s->seed;

	if (ep_cmp(k->saddr, k->sport, k->daddr, k->dport) <= 0) {
		h = hash_ep(h, k->saddr, k->sport);
		h = hash_ep(h, k->daddr, k->dport);
	} else {
		h = hash_ep(h, k->daddr, k->dport);
		h = hash_ep(h, k->saddr, k->sport);
	}
	return (uint32_t)mix(h) & s->mask;
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

/* The connection of k and which of its directions k is. */
static struct conn *lookup(struct sipd_stream *s, const struct sipd_stream_key *k, int *di)
{
	struct sipd_stream_key r;

	reverse(k, &r);
	for (struct conn *c = s->buckets[bucket_of(s, k)]; c; c = c->hnext) {
		if (key_eq(&c->key, k)) {
			*di = 0;
			return c;
		}
		if (key_eq(&c->key, &r)) {
			*di = 1;
			return c;
		}
	}
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

/* Forget c; why is counted once if either direction held unframed bytes
 * (SIPD_STREAM_GIVEUP_MAX: never; TABLE_FULL: always). */
static void forget(struct sipd_stream *s, struct conn *c, enum sipd_stream_giveup why)
{
	struct conn **pp = &s->buckets[c->bucket];

	if (why == SIPD_STREAM_GIVEUP_TABLE_FULL ||
	    (why < SIPD_STREAM_GIVEUP_MAX && (pending(&c->d[0]) || pending(&c->d[1]))))
		s->st.gave_up[why]++;
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
		forget(s, s->lru_head, SIPD_STREAM_GIVEUP_TABLE_FULL);
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
	dir_clear(s, &c->d[0]);
	dir_clear(s, &c->d[1]);
	c->killed = 1;
}

struct sipd_stream *sipd_stream_new(const struct sipd_stream_limits *l)
{
	struct sipd_stream *s = calloc(1, sizeof(*s));
	struct sipd_stream_limits *m;
	struct timespec ts;
	uint32_t nb = 1;

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
	s->conns = calloc(m->max_conns, sizeof(*s->conns));
	s->buckets = calloc(nb, sizeof(*s->buckets));
	if (!s->conns || !s->buckets) {
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

/* Offsets [0, need) addressable; need <= max_conn_bytes. */
static int reserve(struct sipd_stream *s, struct dir *d, uint32_t need)
{
	uint32_t sp = span(d), maxcap = 2 * s->lim.max_conn_bytes, ncap;
	uint8_t *nb;

	if (d->buf && d->head + need <= d->cap)
		return 0;
	/* Moving the bytes down is paid for by the ones consumed before
	 * them (head >= sp), or the buffer is at its largest, where head
	 * > cap - need >= max_conn_bytes >= sp holds as well. */
	if (d->buf && need <= d->cap && (d->head >= sp || d->cap >= maxcap)) {
		memmove(d->buf, d->buf + d->head, sp);
		d->head = 0;
		return 0;
	}
	ncap = d->cap ? d->cap * 2 : MIN_CAP;
	if (ncap < need)
		ncap = need;
	if (ncap > maxcap)
		ncap = maxcap;
	nb = malloc(ncap);
	if (!nb)
		return -ENOMEM;
	if (sp)
		memcpy(nb, d->buf + d->head, sp);
	free(d->buf);
	d->buf = nb;
	d->cap = ncap;
	d->head = 0;
	return 0;
}

/* Give memory back when the span fell well below the buffer. */
static void shrink(struct dir *d)
{
	uint32_t sp = span(d), ncap;
	uint8_t *nb;

	if (!d->buf || d->cap <= MIN_CAP || (uint64_t)sp * 4 >= d->cap)
		return;
	ncap = sp * 2 > MIN_CAP ? sp * 2 : MIN_CAP;
	nb = malloc(ncap);
	if (!nb)
		return;
	if (sp)
		memcpy(nb, B(d), sp);
	free(d->buf);
	d->buf = nb;
	d->cap = ncap;
	d->head = 0;
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

/* Drop every byte held and go on from the contiguous end, looking for a
 * start line (a WebSocket direction cannot: it is lost). */
static void drop_held(struct sipd_stream *s, struct dir *d, enum sipd_stream_giveup why)
{
	s->st.gave_up[why]++;
	hole_del(s, d);
	d->nooo = 0;
	d->base += d->len;
	d->len = d->cons = d->scan = d->head = 0;
	d->ls = NO_LINE;
	d->fresh = 0;
	d->synced = 0;
	d->episode = 0;
	d->wslen = 0;
	d->ws_open = 0;
	if (d->c->ws && d->state != ST_PASS) {
		d->state = ST_PASS;
		d->lost = 1;
		d->lost_why = why == SIPD_STREAM_GIVEUP_GAP ? "a gap" : "a full buffer";
	} else if (d->state != ST_PASS) {
		d->state = ST_HUNT;
	}
	account(s, d);
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

/* A whole SIP start line (p[0..n) ends in LF): Request-Line or Status-Line. */
static int start_line(const uint8_t *p, size_t n)
{
	size_t m = content(p, n), i = 0, j;

	if (m >= 12 && !strncasecmp((const char *)p, "SIP/2.0 ", 8)) {
		if (!digit(p[8]) || !digit(p[9]) || !digit(p[10]) || p[11] != ' ')
			return 0;
		for (i = 12; i < m; i++)
			if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
				return 0;
		return 1;
	}
	while (i < m && tchar(p[i]))
		i++;
	if (!i || i >= m || p[i] != ' ')
		return 0;
	j = ++i;
	while (i < m && p[i] > 0x20 && p[i] != 0x7f)
		i++;
	if (i == j || i >= m || p[i] != ' ')
		return 0;
	i++;
	return m - i == 7 && !strncasecmp((const char *)p + i, "SIP/2.0", 7);
}

/* p[0..n) begins with a whole start line. */
static int starts_ok(const uint8_t *p, size_t n)
{
	const uint8_t *q = n ? memchr(p, '\n', n) : NULL;

	return q && start_line(p, (size_t)(q - p) + 1);
}

static int only_crlf(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

static void skip_octets(struct sipd_stream *s, struct dir *d, uint32_t n)
{
	if (!n)
		return;
	s->st.resync_octets += n;
	if (!d->episode) {
		s->st.gave_up[SIPD_STREAM_GIVEUP_RESYNC]++;
		d->episode = 1;
	}
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

static void to_hunt(struct dir *d, int synced, uint32_t ls)
{
	d->state = ST_HUNT;
	d->synced = (uint8_t)synced;
	d->ls = ls;
	d->scan = ls;
	if (d->scan > d->len)
		d->scan = d->len;
	d->episode = 0;
}

/* 1: a start line found (now ST_HDR). */
static int hunt(struct sipd_stream *s, struct dir *d, uint64_t now)
{
	uint32_t from;

	if (d->synced) {
		uint32_t k = d->cons;

		while (k < d->len && (B(d)[k] == '\r' || B(d)[k] == '\n'))
			k++;
		if (k > d->cons) {
			s->st.keepalives++;
			s->ka++;
			d->cons = d->scan = d->ls = k;
		}
		if (d->cons == d->len)
			return 0;
	}
	while (d->scan < d->len) {
		const uint8_t *b = B(d), *q = memchr(b + d->scan, '\n', d->len - d->scan);
		uint32_t e;

		if (!q) {
			d->scan = d->len;
			break;
		}
		e = (uint32_t)(q - b) + 1;
		if (d->ls != NO_LINE && start_line(b + d->ls, e - d->ls)) {
			skip_octets(s, d, d->ls - d->cons);
			d->cons = d->ls;
			d->episode = 0;
			d->fresh = 0;
			d->synced = 0;
			d->state = ST_HDR;
			d->scan = d->ls = e;
			d->have_clen = d->cl_err = 0;
			d->clen = 0;
			return 1;
		}
		d->synced = 0;
		d->ls = d->scan = e;
	}
	/* A partial line longer than a message cannot start one. */
	if (d->ls != NO_LINE && d->len - d->ls > s->lim.max_msg_len) {
		d->ls = NO_LINE;
		d->synced = 0;
	}
	/* A picked-up direction keeps what it skipped for a while: its real
	 * start may still come, out of order, just before it. */
	if (d->fresh && !older(now, d->created_ns, s->lim.gap_ns) &&
	    d->len - d->cons <= s->lim.max_msg_len)
		return 0;
	d->fresh = 0;
	from = d->ls != NO_LINE ? d->ls : d->len;
	skip_octets(s, d, from - d->cons);
	d->cons = from;
	return 0;
}

/* The header block at cons overran max_msg_len; the search for the empty
 * line got to `at' (a line start) or to the end (NO_LINE). Hunting goes on
 * from there: a start line inside the overlong block is no better a guess,
 * and looking there again would read the block once per line in it. */
static void too_big(struct sipd_stream *s, struct dir *d, uint32_t at)
{
	char det[112];

	s->st.gave_up[SIPD_STREAM_GIVEUP_TOO_BIG]++;
	snprintf(det, sizeof(det), "header block longer than %u octets without an empty line",
		 s->lim.max_msg_len);
	emit_bad(s, SW_SIP_R_TOO_LARGE, det);
	d->state = ST_HUNT;
	d->synced = 0;
	d->episode = 0;
	d->ls = at;
	d->scan = at == NO_LINE ? d->len : at;
}

/* The header block ended: frame the message or report why it cannot be. */
static void block_done(struct sipd_stream *s, struct dir *d)
{
	char det[112];

	if (d->cl_err) {
		emit_bad(s, d->cl_reason, d->cl_detail);
	} else if (!d->have_clen) {
		emit_bad(s, SW_SIP_R_BAD_CONTENT_LENGTH, "no Content-Length on a stream");
	} else if (d->clen > (uint64_t)(s->lim.max_msg_len - d->hdr_len)) {
		if (d->clen >= CL_HUGE)
			snprintf(det, sizeof(det), "Content-Length of more than %llu octets",
				 (unsigned long long)CL_HUGE);
		else
			snprintf(det, sizeof(det),
				 "header block of %u and Content-Length %llu exceed %u octets",
				 d->hdr_len, (unsigned long long)d->clen, s->lim.max_msg_len);
		emit_bad(s, SW_SIP_R_TOO_LARGE, det);
	} else {
		d->state = ST_BODY;
		return;
	}
	/* Where the next message starts is unknown: after this block, at
	 * the next start line. */
	d->cons += d->hdr_len;
	to_hunt(d, 0, d->cons);
}

/* 1: the header block is done (ST_BODY, or a BAD item and ST_HUNT). */
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
		if (e - d->cons > max) {
			too_big(s, d, e);
			return 1;
		}
		m = content(b + d->ls, e - d->ls);
		if (!m) {
			d->hdr_len = e - d->cons;
			block_done(s, d);
			return 1;
		}
		cl_line(d, b + d->ls, m);
		d->ls = d->scan = e;
	}
	if (d->len - d->cons > max) {
		too_big(s, d, NO_LINE);
		return 1;
	}
	return 0;
}

static int body(struct sipd_stream *s, struct dir *d)
{
	uint32_t need = d->hdr_len + (uint32_t)d->clen;

	if (d->len - d->cons < need)
		return 0;
	emit_msg(s, B(d) + d->cons, need, 0);
	d->cons += need;
	to_hunt(d, 1, d->cons);
	return 1;
}

/* ---- WebSocket ---- */

static int ws_fail(struct sipd_stream *s, struct dir *d, enum sipd_stream_giveup g,
		   enum sw_sip_reason r, const char *detail)
{
	s->st.gave_up[g]++;
	emit_bad(s, r, detail);
	d->state = ST_PASS;
	d->wslen = 0;
	d->ws_open = 0;
	d->cons = d->len;
	return 1;
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

/* The opening handshake of one direction (RFC 6455 4). */
static int ws_http(struct sipd_stream *s, struct dir *d)
{
	uint32_t max = s->lim.max_msg_len;

	/* frames without a handshake fail at once, not at a line end */
	if (d->ls == d->cons && d->len > d->cons &&
	    !may_begin(B(d) + d->cons, d->len - d->cons, "GET ") &&
	    !may_begin(B(d) + d->cons, d->len - d->cons, "HTTP/1.1 "))
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
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
			if (m >= 14 && !memcmp(p, "GET ", 4) &&
			    !memcmp(p + m - 9, " HTTP/1.1", 9)) {
				d->ws_client = 1;
			} else if (m >= 12 && !memcmp(p, "HTTP/1.1 ", 9) && digit(p[9]) &&
				   digit(p[10]) && digit(p[11]) && (m == 12 || p[12] == ' ')) {
				d->ws_client = 0;
				d->ws_status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 +
							  (p[11] - '0'));
			} else {
				return ws_fail(
					s, d, SIPD_STREAM_GIVEUP_WS_PROTOCOL, SW_SIP_R_BAD_PACKET,
					"WebSocket connection without an HTTP/1.1 handshake");
			}
		} else if (!m) {
			struct dir *peer = &d->c->d[d == &d->c->d[0]];

			d->cons = e;
			if (d->ws_client) {
				d->state = d->ws_upgrade ? ST_WS : ST_PASS;
			} else if (d->ws_status == 101) {
				d->state = ST_WS;
			} else {
				/* no upgrade: plain HTTP both ways */
				d->state = ST_PASS;
				if (peer->used && peer->ws_client)
					peer->state = ST_PASS;
			}
			return 1;
		} else if (m > 8 && !strncasecmp((const char *)p, "upgrade", 7) &&
			   (p[7] == ':' || p[7] == ' ' || p[7] == '\t') &&
			   has_token_ci(p + 8, m - 8, "websocket")) {
			d->ws_upgrade = 1;
		}
		d->ls = d->scan = e;
	}
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
		d->wslen = 0;
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
		d->state = ST_PASS; /* closed: nothing after it is read */
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
	if (s->st.bytes_held + plen > s->lim.max_total_bytes)
		return ws_fail(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL, SW_SIP_R_TOO_LARGE,
			       "WebSocket message: the total byte bound is reached");
	if (d->wslen + plen > d->wscap) {
		uint32_t nc = d->wscap ? d->wscap * 2 : 1024;
		uint8_t *nb;

		while (nc < d->wslen + plen)
			nc *= 2;
		if (nc > max)
			nc = max;
		nb = realloc(d->wsbuf, nc);
		if (!nb)
			return ws_fail(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL, SW_SIP_R_TOO_LARGE,
				       "WebSocket message: out of memory");
		d->wsbuf = nb;
		d->wscap = nc;
	}
	for (uint32_t i = 0; i < plen; i++)
		d->wsbuf[d->wslen + i] = p[hl + i] ^ (key ? key[i & 3] : 0);
	d->wslen += (uint32_t)plen;
	d->ws_open = 1;
	d->cons += hl + (uint32_t)plen;
	account(s, d);
	return fin ? ws_msg_done(s, d) : 1;
}

static void frame(struct sipd_stream *s, struct dir *d, uint64_t now)
{
	int more = 1;

	if (d->lost) {
		char det[112];

		snprintf(det, sizeof(det), "WebSocket framing lost after %s", d->lost_why);
		emit_bad(s, SW_SIP_R_BAD_PACKET, det);
		d->lost = 0;
	}
	while (more) {
		switch (d->state) {
		case ST_HUNT:
			more = hunt(s, d, now);
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
		case ST_WS:
			more = ws_frame(s, d);
			break;
		default:
			d->cons = d->scan = d->len;
			d->ls = NO_LINE;
			more = 0;
		}
	}
	trim_kept(s, d);
	shrink(d);
	account(s, d);
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

/* In-order bytes from offset len on, in pieces that fit, framed as they go. */
static void append(struct sipd_stream *s, struct dir *d, const uint8_t *p, uint32_t n, uint64_t now)
{
	while (n) {
		uint32_t sp = span(d), k = n;
		uint64_t dir_room = s->lim.max_conn_bytes - d->len;
		uint64_t tot_room =
			(sp - d->len) + (s->lim.max_total_bytes > s->st.bytes_held
						 ? s->lim.max_total_bytes - s->st.bytes_held
						 : 0);

		if (k > dir_room)
			k = (uint32_t)dir_room;
		if (k > tot_room)
			k = (uint32_t)tot_room;
		if (!k && d->cons) {
			advance(d, d->cons); /* the kept window makes room */
			account(s, d);
			continue;
		}
		if (!k || reserve(s, d, d->len + k > sp ? d->len + k : sp)) {
			if (d->len || d->nooo || d->wslen) {
				drop_held(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL);
				continue;
			}
			/* nothing can be held at all: skip the rest */
			if (d->state == ST_HUNT || d->state == ST_HDR || d->state == ST_BODY) {
				skip_octets(s, d, n);
				d->state = ST_HUNT;
				d->synced = 0;
				d->ls = NO_LINE;
			}
			d->base += n;
			return;
		}
		memcpy(B(d) + d->len, p, k);
		d->len += k;
		p += k;
		n -= k;
		absorb(s, d, now);
		account(s, d);
		frame(s, d, now);
	}
}

/* Out-of-order bytes [rs, re), rs > len: held, or the direction gives up. */
static void hold(struct sipd_stream *s, struct dir *d, uint32_t rs, uint32_t re,
		 const uint8_t *data, uint64_t now)
{
	unsigned int i = 0, j;
	uint32_t lo = rs, hi = re, sp = span(d), nsp;

	if (re > s->lim.max_conn_bytes && d->cons) {
		uint32_t t = d->cons;

		advance(d, t);
		account(s, d);
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
	if (nsp > s->lim.max_conn_bytes || (j == i && d->nooo == OOO_MAX) ||
	    s->st.bytes_held + (nsp - sp) > s->lim.max_total_bytes || reserve(s, d, nsp)) {
		drop_held(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL);
		return;
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
	account(s, d);
}

/* The hole stayed open too long: go on at the bytes after it. */
static void gap_skip(struct sipd_stream *s, struct dir *d, uint64_t now)
{
	uint32_t lo = d->ooo[0].lo;

	s->st.gave_up[SIPD_STREAM_GIVEUP_GAP]++;
	/* what was not framed before the hole is lost, the kept window too */
	d->len = d->cons = d->scan = lo;
	d->ls = NO_LINE;
	advance(d, lo);
	d->len = d->ooo[0].hi;
	memmove(d->ooo, d->ooo + 1, (d->nooo - 1) * sizeof(d->ooo[0]));
	d->nooo--;
	if (d->nooo)
		hole_add(s, d, now);
	else
		hole_del(s, d);
	d->fresh = 0;
	if (d->c->ws) {
		if (d->state != ST_PASS) {
			d->state = ST_PASS;
			d->lost = 1;
			d->lost_why = "a gap";
		}
		d->wslen = 0;
		d->ws_open = 0;
	} else if (d->state != ST_PASS) {
		/* segments often begin at a message: the first line counts */
		to_hunt(d, 0, 0);
	}
	account(s, d);
}

/* A picked-up direction still hunting, nothing skipped, may move its start
 * back to earlier bytes that join it. */
static int can_prepend(const struct sipd_stream *s, const struct dir *d, uint32_t k, uint64_t now)
{
	return d->state == ST_HUNT && d->fresh && !d->cons && d->base == d->first_seq &&
	       d->prepends < PREPEND_MAX && !older(now, d->created_ns, s->lim.gap_ns) &&
	       (uint64_t)span(d) + k <= s->lim.max_conn_bytes &&
	       s->st.bytes_held + k <= s->lim.max_total_bytes;
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
		nb = malloc(ncap);
		if (!nb)
			return -ENOMEM;
		if (sp)
			memcpy(nb + k, B(d), sp);
		free(d->buf);
		d->buf = nb;
		d->cap = ncap;
		d->head = 0;
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
	d->synced = 1;
	d->prepends++;
	account(s, d);
	return 0;
}

static void take(struct sipd_stream *s, struct dir *d, uint32_t seq, const uint8_t *data,
		 uint32_t n, uint64_t now, struct sipd_stream_res *res)
{
	int64_t rs = (int32_t)(seq - d->base), re = rs + n;
	int took = 0;

	if (d->fin_set) {
		int64_t fe = (int32_t)(d->fin_seq - d->base);

		if (re > fe)
			re = fe > rs ? fe : rs;
	}
	if (rs < 0 && re >= 0 && can_prepend(s, d, (uint32_t)-rs, now)) {
		uint32_t k = (uint32_t)-rs;

		if (!same(d, 0, (uint32_t)re, data + k))
			goto overlap;
		if (!prepend(s, d, data, k)) {
			rs = 0;
			re += k;
			took = 1;
		}
	}
	if (rs < 0) {
		int64_t old = (re < 0 ? re : 0) - rs;

		s->st.unverified += (uint64_t)old;
		data += old;
		rs = 0;
	}
	if (re > rs) {
		if (!same(d, (uint32_t)rs, (uint32_t)re, data))
			goto overlap;
		if (covered(d, (uint32_t)rs, (uint32_t)re)) {
			if (!took)
				s->st.retransmits++;
		} else if (rs <= d->len) {
			append(s, d, data + (d->len - rs), (uint32_t)(re - d->len), now);
			return;
		} else if (re <= UINT32_MAX / 2) {
			hold(s, d, (uint32_t)rs, (uint32_t)re, data, now);
		} else {
			drop_held(s, d, SIPD_STREAM_GIVEUP_BUFFER_FULL);
		}
	}
	frame(s, d, now);
	return;
overlap:
	s->st.gave_up[SIPD_STREAM_GIVEUP_OVERLAP]++;
	res->v = SIPD_STREAM_DROP;
	res->drop_why = SIPD_STREAM_DROP_OVERLAP;
}

/* ---- the API ---- */

void sipd_stream_expire(struct sipd_stream *s, uint64_t now_ns)
{
	while (s->hole_head && older(now_ns, s->hole_head->hole_ns, s->lim.gap_ns))
		gap_skip(s, s->hole_head, now_ns);
	while (s->lru_head && older(now_ns, s->lru_head->last_ns, s->lim.idle_ns))
		forget(s, s->lru_head, SIPD_STREAM_GIVEUP_IDLE);
}

static void dir_init(struct dir *d, uint32_t seq, uint64_t now, int ws)
{
	d->used = 1;
	d->closed = 0;
	d->base = d->first_seq = seq;
	d->state = ws ? ST_WS_HTTP : ST_HUNT;
	d->fresh = !ws;
	d->synced = !ws;
	d->ls = 0;
	d->created_ns = now;
}

static void check_closed(struct sipd_stream *s, struct conn *c, struct dir *d)
{
	if (d->used && d->fin_set && (int32_t)(d->base + d->len - d->fin_seq) >= 0)
		d->closed = 1;
	if (c->d[0].closed && c->d[1].closed)
		forget(s, c, SIPD_STREAM_GIVEUP_CLOSED);
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

int sipd_stream_add(struct sipd_stream *s, const struct sipd_tcp_seg *seg, uint64_t now_ns,
		    struct sipd_stream_res *res)
{
	uint32_t seq = seg->seq, n = seg->len > MAX_SEG_LEN ? MAX_SEG_LEN : (uint32_t)seg->len;
	struct conn *c;
	struct dir *d;
	int di = 0;

	memset(res, 0, sizeof(*res));
	res->items = s->items;
	s->nitems = 0;
	s->out_len = 0;
	s->ka = 0;
	sipd_stream_expire(s, now_ns);
	c = lookup(s, &seg->key, &di);
	if (seg->flags & SIPD_TCP_RST) {
		if (c)
			forget(s, c,
			       c->killed ? SIPD_STREAM_GIVEUP_MAX : SIPD_STREAM_GIVEUP_CLOSED);
		return 0;
	}
	if (c && c->killed) {
		if ((seg->flags & (SIPD_TCP_SYN | SIPD_TCP_ACK)) == SIPD_TCP_SYN) {
			forget(s, c, SIPD_STREAM_GIVEUP_MAX); /* a new connection on the ports */
			c = NULL;
		} else {
			touch(s, c, now_ns);
			if (n) {
				s->st.segments++;
				s->st.rejected++;
				res->v = SIPD_STREAM_DROP;
				res->drop_why = SIPD_STREAM_DROP_REJECTED;
			}
			return 0;
		}
	}
	if (seg->flags & SIPD_TCP_SYN) {
		d = c ? &c->d[di] : NULL;
		if (d && d->used && seq + 1 != d->first_seq) {
			forget(s, c, SIPD_STREAM_GIVEUP_CLOSED); /* port reuse: start anew */
			c = NULL;
		}
		seq++;
	}
	if (!n) {
		if (c && (seg->flags & SIPD_TCP_FIN)) {
			d = &c->d[di];
			if (!d->used) {
				d->closed = 1;
			} else if (!d->fin_set) {
				d->fin_set = 1;
				d->fin_seq = seq;
			}
			touch(s, c, now_ns);
			check_closed(s, c, d);
		}
		return 0;
	}
	s->st.segments++;
	if (!c) {
		c = conn_new(s, seg, now_ns);
		di = 0;
	}
	touch(s, c, now_ns);
	d = &c->d[di];
	if (!d->used)
		dir_init(d, seq, now_ns, c->ws);
	if (d->rejected && (int32_t)(seq + n - d->rej_seq) > 0) {
		if (d->rejects >= s->lim.max_rejects) {
			res->v = SIPD_STREAM_RESET;
			reverse(&seg->key, &res->rst[0].key);
			res->rst[0].seq = seg->ack;
			res->rst[1].key = seg->key;
			res->rst[1].seq = d->rej_seq;
			s->st.resets++;
			s->st.gave_up[SIPD_STREAM_GIVEUP_RESET]++;
			conn_kill(s, c);
		} else {
			d->rejects++;
			s->st.rejected++;
			res->v = SIPD_STREAM_DROP;
			res->drop_why = SIPD_STREAM_DROP_REJECTED;
		}
		return 0;
	}
	/* room for every item this segment could complete: the bytes framed
	 * now are the unframed ones, the segment's and a WebSocket message */
	{
		size_t bytes = (size_t)pending(d) + n + s->lim.max_msg_len;

		if (items_reserve(s, bytes, (unsigned int)(bytes / 8 + 8)))
			return -ENOMEM;
	}
	if (d->in_holes && older(now_ns, d->hole_ns, s->lim.gap_ns))
		gap_skip(s, d, now_ns);
	take(s, d, seq, seg->data, n, now_ns, res);
	if (res->v == SIPD_STREAM_PASS) {
		finish(s, res);
		if ((seg->flags & SIPD_TCP_FIN) && !d->fin_set) {
			d->fin_set = 1;
			d->fin_seq = seq + n;
		}
		check_closed(s, c, d);
	}
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
	if (!d->rejected || (int32_t)(seq - d->rej_seq) < 0)
		d->rej_seq = seq;
	d->rejected = 1;
}
