// SPDX-License-Identifier: GPL-2.0-only
/*
 * IP fragment reassembly (see reasm.h). A datagram in flight keeps its data
 * in a 64 KB buffer and the byte ranges received as a sorted list of merged
 * ranges, so a hole is a gap in the list and the overlap check compares the
 * new fragment with the bytes already there. The table is small and scanned
 * linearly: it holds what is in flight now, not a history.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "sipd/reasm.h"

#define REASM_MAX_LEN 65535U /* IPv4 total length, IPv6 payload length */
/* IPv6 unfragmentable part: the fixed header and the extension headers
 * before the Fragment header (bounded as the UDP view bounds its walk). */
#define REASM_HDR_MAX 512
#define REASM_EXT_MAX 8

#define IP4_MF	    0x2000
#define IP4_OFFSET  0x1fff
#define IP6_OFFSET  0xfff8
#define IP6_MF	    0x0001
#define IP6_HDR_LEN 40

static const char *const drop_names[] = {
#define SIPD_REASM_NAME(id, name) [SIPD_REASM_DROP_##id] = name,
	SIPD_REASM_DROPS(SIPD_REASM_NAME)
#undef SIPD_REASM_NAME
};

const char *sipd_reasm_drop_name(enum sipd_reasm_drop d)
{
	return (unsigned int)d < SIPD_REASM_DROP_MAX ? drop_names[d] : "?";
}

/* One fragment as parsed. */
struct frag {
	int v6;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto;	/* IPv4 protocol; IPv6 next header after the Fragment header */
	size_t hlen;	/* header kept in the reassembled datagram */
	size_t nh_at;	/* IPv6: offset of the octet that names the Fragment header */
	size_t data_at; /* fragment data in the packet */
	uint32_t off, end;
	int more;
};

struct range {
	uint32_t lo, hi; /* [lo, hi) of the fragmentable part */
};

struct dgram {
	int used;
	uint64_t seq; /* start order: the lowest is evicted first */
	uint64_t start_ns;
	/* key */
	int v6;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto; /* IPv4: part of the key; IPv6: from the first fragment */
	/* from the first fragment (offset 0) */
	int have_first;
	uint8_t hdr[REASM_HDR_MAX];
	size_t hlen, nh_at;
	/* from the last fragment (no MF) */
	int have_last;
	uint32_t total;
	unsigned int nfrags, nranges;
	struct range *ranges; /* max_fragments of them */
	uint8_t *data;	      /* REASM_MAX_LEN */
};

struct sipd_reasm {
	struct sipd_reasm_limits lim;
	struct sipd_reasm_stats st;
	uint64_t seq;
	struct dgram *g;
	uint8_t *out; /* the datagram handed back */
};

struct sipd_reasm *sipd_reasm_new(const struct sipd_reasm_limits *l)
{
	struct sipd_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (l)
		r->lim = *l;
	if (!r->lim.max_datagrams)
		r->lim.max_datagrams = SIPD_REASM_DATAGRAMS_DEFAULT;
	if (!r->lim.max_fragments)
		r->lim.max_fragments = SIPD_REASM_FRAGMENTS_DEFAULT;
	if (!r->lim.timeout_ns)
		r->lim.timeout_ns = SIPD_REASM_TIMEOUT_NS_DEFAULT;
	r->g = calloc(r->lim.max_datagrams, sizeof(*r->g));
	r->out = malloc(IP6_HDR_LEN + REASM_MAX_LEN);
	if (!r->g || !r->out) {
		sipd_reasm_free(r);
		return NULL;
	}
	return r;
}

void sipd_reasm_free(struct sipd_reasm *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; r->g && i < r->lim.max_datagrams; i++) {
		free(r->g[i].data);
		free(r->g[i].ranges);
	}
	free(r->g);
	free(r->out);
	free(r);
}

void sipd_reasm_get_stats(const struct sipd_reasm *r, struct sipd_reasm_stats *s)
{
	*s = r->st;
}

static void give_up(struct sipd_reasm *r, struct dgram *g, enum sipd_reasm_drop why)
{
	r->st.dropped[why]++;
	r->st.in_flight--;
	g->used = 0;
}

void sipd_reasm_expire(struct sipd_reasm *r, uint64_t now_ns)
{
	for (unsigned int i = 0; i < r->lim.max_datagrams; i++) {
		struct dgram *g = &r->g[i];

		/* A capture's clock may step back: only forward time expires. */
		if (g->used && now_ns > g->start_ns && now_ns - g->start_ns >= r->lim.timeout_ns)
			give_up(r, g, SIPD_REASM_DROP_TIMEOUT);
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* 0 and f filled, or -EINVAL when no fragment can be read from the packet. */
static int parse4(const uint8_t *ip, size_t len, struct frag *f)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t tot, fo;

	if (len < 20 || ihl < 20 || ihl > len)
		return -EINVAL;
	tot = be16(ip + 2);
	if (tot < ihl || tot > len)
		return -EINVAL;
	fo = be16(ip + 6);
	memset(f->src, 0, 16);
	memset(f->dst, 0, 16);
	memcpy(f->src + 12, ip + 12, 4);
	memcpy(f->dst + 12, ip + 16, 4);
	f->id = be16(ip + 4);
	f->proto = ip[9];
	f->hlen = f->data_at = ihl;
	f->off = (uint32_t)(fo & IP4_OFFSET) * 8;
	f->end = f->off + (tot - ihl);
	f->more = !!(fo & IP4_MF);
	return 0;
}

static int parse6(const uint8_t *ip, size_t len, struct frag *f)
{
	size_t off = IP6_HDR_LEN, nh_at = 6, l3len;
	uint16_t fo;
	uint8_t nh;

	if (len < IP6_HDR_LEN)
		return -EINVAL;
	l3len = IP6_HDR_LEN + (size_t)be16(ip + 4);
	if (l3len > len)
		return -EINVAL;
	f->v6 = 1;
	memcpy(f->src, ip + 8, 16);
	memcpy(f->dst, ip + 24, 16);
	nh = ip[6];
	for (int i = 0; nh != IPPROTO_FRAGMENT; i++) {
		if (i == REASM_EXT_MAX ||
		    (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS) ||
		    off + 8 > l3len)
			return -EINVAL;
		nh_at = off;
		nh = ip[off];
		off += ((size_t)ip[off + 1] + 1) * 8;
	}
	if (off + 8 > l3len || off > REASM_HDR_MAX)
		return -EINVAL;
	fo = be16(ip + off + 2);
	f->proto = ip[off];
	f->id = (uint32_t)ip[off + 4] << 24 | (uint32_t)ip[off + 5] << 16 |
		(uint32_t)ip[off + 6] << 8 | ip[off + 7];
	f->hlen = off;
	f->nh_at = nh_at;
	f->data_at = off + 8;
	f->off = fo & IP6_OFFSET;
	f->end = f->off + (uint32_t)(l3len - f->data_at);
	f->more = fo & IP6_MF;
	return 0;
}

/* Whole-datagram size limit: IPv4 counts its header, IPv6 its extension
 * headers (the payload length covers everything after the fixed header). */
static int too_big(int v6, size_t hlen, uint32_t end)
{
	return (v6 ? hlen - IP6_HDR_LEN : hlen) + end > REASM_MAX_LEN;
}

static struct dgram *find(struct sipd_reasm *r, const struct frag *f)
{
	for (unsigned int i = 0; i < r->lim.max_datagrams; i++) {
		struct dgram *g = &r->g[i];

		if (g->used && g->id == f->id && g->v6 == f->v6 &&
		    (f->v6 || g->proto == f->proto) && !memcmp(g->src, f->src, 16) &&
		    !memcmp(g->dst, f->dst, 16))
			return g;
	}
	return NULL;
}

/* A free slot, or the one started first given up for it. */
static struct dgram *slot(struct sipd_reasm *r)
{
	struct dgram *old = NULL;

	for (unsigned int i = 0; i < r->lim.max_datagrams; i++) {
		struct dgram *g = &r->g[i];

		if (!g->used)
			return g;
		if (!old || g->seq < old->seq)
			old = g;
	}
	give_up(r, old, SIPD_REASM_DROP_TABLE_FULL);
	return old;
}

static struct dgram *start(struct sipd_reasm *r, const struct frag *f, uint64_t now_ns)
{
	struct dgram *g = slot(r);

	if (!g->data) {
		g->data = malloc(REASM_MAX_LEN);
		g->ranges = calloc(r->lim.max_fragments, sizeof(*g->ranges));
		if (!g->data || !g->ranges) {
			free(g->data);
			free(g->ranges);
			g->data = NULL;
			g->ranges = NULL;
			return NULL;
		}
	}
	g->used = 1;
	g->seq = r->seq++;
	g->start_ns = now_ns;
	g->v6 = f->v6;
	memcpy(g->src, f->src, 16);
	memcpy(g->dst, f->dst, 16);
	g->id = f->id;
	g->proto = f->proto;
	g->have_first = g->have_last = 0;
	g->total = 0;
	g->nfrags = g->nranges = 0;
	r->st.in_flight++;
	return g;
}

/* Bytes of [lo, hi) already held must equal the new ones. */
static int same_bytes(const struct dgram *g, uint32_t lo, uint32_t hi, const uint8_t *data)
{
	for (unsigned int i = 0; i < g->nranges; i++) {
		uint32_t a = g->ranges[i].lo > lo ? g->ranges[i].lo : lo;
		uint32_t b = g->ranges[i].hi < hi ? g->ranges[i].hi : hi;

		if (a < b && memcmp(g->data + a, data + (a - lo), b - a))
			return 0;
	}
	return 1;
}

/* Add [lo, hi) to the sorted list, merging what it touches. Each fragment
 * adds at most one range, so max_fragments bounds the list. */
static void cover(struct dgram *g, uint32_t lo, uint32_t hi)
{
	unsigned int i = 0, j;

	while (i < g->nranges && g->ranges[i].hi < lo)
		i++;
	for (j = i; j < g->nranges && g->ranges[j].lo <= hi; j++) {
		if (g->ranges[j].lo < lo)
			lo = g->ranges[j].lo;
		if (g->ranges[j].hi > hi)
			hi = g->ranges[j].hi;
	}
	if (j == i) /* touches nothing: make room */
		memmove(&g->ranges[i + 1], &g->ranges[i], (g->nranges - i) * sizeof(*g->ranges));
	else if (j > i + 1)
		memmove(&g->ranges[i + 1], &g->ranges[j], (g->nranges - j) * sizeof(*g->ranges));
	g->nranges = g->nranges + 1 - (j - i);
	g->ranges[i].lo = lo;
	g->ranges[i].hi = hi;
}

static int complete(const struct dgram *g)
{
	return g->have_first && g->have_last && g->nranges == 1 && g->ranges[0].lo == 0 &&
	       g->ranges[0].hi == g->total;
}

static void udp_ports(const struct dgram *g, struct sipd_reasm_out *out)
{
	if (g->have_first && g->proto == IPPROTO_UDP && g->nranges && !g->ranges[0].lo &&
	    g->ranges[0].hi >= 4) {
		out->udp_known = 1;
		out->sport = be16(g->data);
		out->dport = be16(g->data + 2);
	}
}

static void ip4_csum(uint8_t *ip, size_t ihl)
{
	uint32_t sum = 0;

	ip[10] = ip[11] = 0;
	for (size_t i = 0; i < ihl; i += 2)
		sum += be16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put_be16(ip + 10, (uint16_t)~sum);
}

/* Header of the first fragment + data -> the datagram as if never split. */
static size_t build(uint8_t *o, const uint8_t *hdr, size_t hlen, size_t nh_at, int v6,
		    uint8_t proto, const uint8_t *data, uint32_t total)
{
	memcpy(o, hdr, hlen);
	memcpy(o + hlen, data, total);
	if (v6) {
		o[nh_at] = proto;
		put_be16(o + 4, (uint16_t)(hlen - IP6_HDR_LEN + total));
	} else {
		put_be16(o + 2, (uint16_t)(hlen + total));
		put_be16(o + 6, be16(o + 6) & ~(IP4_MF | IP4_OFFSET));
		ip4_csum(o, hlen);
	}
	return hlen + total;
}

static int drop(struct sipd_reasm *r, struct dgram *g, enum sipd_reasm_drop why)
{
	if (g)
		give_up(r, g, why);
	else
		r->st.dropped[why]++;
	return SIPD_REASM_DROPPED;
}

int sipd_reasm_add(struct sipd_reasm *r, const uint8_t *ip, size_t len, uint64_t now_ns,
		   struct sipd_reasm_out *out)
{
	struct frag f = {0};
	struct dgram *g;
	int err;

	memset(out, 0, sizeof(*out));
	r->st.fragments++;
	sipd_reasm_expire(r, now_ns);
	if (len < 1)
		err = -EINVAL;
	else if ((ip[0] >> 4) == 4)
		err = parse4(ip, len, &f);
	else if ((ip[0] >> 4) == 6)
		err = parse6(ip, len, &f);
	else
		err = -EINVAL;
	if (err)
		return drop(r, NULL, SIPD_REASM_DROP_MALFORMED);

	if (!f.off && !f.more) {
		/* Not split at all (an IPv6 atomic fragment, or IPv4 that
		 * was never a fragment): handed back alone. */
		if (!f.v6) {
			out->ip = ip;
			out->len = f.end + f.hlen;
		} else {
			out->len = build(r->out, ip, f.hlen, f.nh_at, 1, f.proto, ip + f.data_at,
					 f.end);
			out->ip = r->out;
		}
		if (f.proto == IPPROTO_UDP && f.end >= 4) {
			out->udp_known = 1;
			out->sport = be16(ip + f.data_at);
			out->dport = be16(ip + f.data_at + 2);
		}
		r->st.reassembled++;
		return SIPD_REASM_DONE;
	}

	/* Every fragment but the last carries a multiple of 8 octets, and
	 * some: anything else cannot be placed (RFC 791, RFC 8200 4.5); its
	 * datagram may still complete with a good copy. */
	if (f.end == f.off || (f.more && (f.end - f.off) % 8))
		return drop(r, NULL, SIPD_REASM_DROP_MALFORMED);
	g = find(r, &f);
	if (too_big(f.v6, f.hlen, f.end))
		return drop(r, g, SIPD_REASM_DROP_TOO_BIG);
	if (!g) {
		g = start(r, &f, now_ns);
		if (!g)
			return -ENOMEM;
	}
	udp_ports(g, out);
	if (++g->nfrags > r->lim.max_fragments)
		return drop(r, g, SIPD_REASM_DROP_TOO_MANY_FRAGMENTS);
	/* The ends must agree: one last fragment, nothing past it. */
	if (!f.more && ((g->have_last && g->total != f.end) ||
			(g->nranges && g->ranges[g->nranges - 1].hi > f.end)))
		return drop(r, g, SIPD_REASM_DROP_MALFORMED);
	if (f.more && g->have_last && f.end > g->total)
		return drop(r, g, SIPD_REASM_DROP_MALFORMED);
	if (!same_bytes(g, f.off, f.end, ip + f.data_at))
		return drop(r, g, SIPD_REASM_DROP_OVERLAP);

	memcpy(g->data + f.off, ip + f.data_at, f.end - f.off);
	cover(g, f.off, f.end);
	if (!f.more) {
		g->have_last = 1;
		g->total = f.end;
	}
	if (!f.off && !g->have_first) {
		g->have_first = 1;
		memcpy(g->hdr, ip, f.hlen);
		g->hlen = f.hlen;
		g->nh_at = f.nh_at;
		g->proto = f.proto;
	}
	udp_ports(g, out);
	if (!complete(g))
		return SIPD_REASM_HELD;
	if (too_big(g->v6, g->hlen, g->total))
		return drop(r, g, SIPD_REASM_DROP_TOO_BIG);
	out->len = build(r->out, g->hdr, g->hlen, g->nh_at, g->v6, g->proto, g->data, g->total);
	out->ip = r->out;
	g->used = 0;
	r->st.in_flight--;
	r->st.reassembled++;
	return SIPD_REASM_DONE;
}
