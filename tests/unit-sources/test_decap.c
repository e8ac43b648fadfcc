// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd/decap.c: the encapsulations of real taps (IP in IP, GRE, gretap,
 * ERSPAN I/II/III, PPPoE, VLAN tags) down to the datagram sipd_udp_view
 * reads, the bounds (depth, tags) and every named reason for giving up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sipd/source.h"

/* A packet built from the inside out: headers are prepended. */
struct pkt {
	uint8_t buf[4096];
	uint8_t *p;
	size_t n;
};

static uint8_t *prepend(struct pkt *k, size_t n)
{
	assert_true((size_t)(k->p - k->buf) >= n);
	k->p -= n;
	k->n += n;
	memset(k->p, 0, n);
	return k->p;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* UDP 5060 -> 5060 carrying "SIP". */
static void udp(struct pkt *k)
{
	k->p = k->buf + sizeof(k->buf) - 64 - 11; /* room for padding after it */
	k->n = 11;
	memcpy(k->p, "\x13\xc4\x13\xc4\x00\x0b\x00\x00SIP", 11);
}

/* IPv4 from 10.0.0.A to 10.0.0.B. */
static void ip4(struct pkt *k, uint8_t proto, uint8_t a, uint8_t b, uint16_t frag)
{
	size_t tot = k->n + 20;
	uint8_t *h = prepend(k, 20);

	h[0] = 0x45;
	wr16(h + 2, tot);
	wr16(h + 6, frag);
	h[8] = 64;
	h[9] = proto;
	h[12] = 10;
	h[15] = a;
	h[16] = 10;
	h[19] = b;
}

/* IPv6 from fd00::A to fd00::B. */
static void ip6(struct pkt *k, uint8_t nh, uint8_t a, uint8_t b)
{
	size_t plen = k->n;
	uint8_t *h = prepend(k, 40);

	h[0] = 0x60;
	wr16(h + 4, plen);
	h[6] = nh;
	h[7] = 64;
	h[8] = 0xfd;
	h[23] = a;
	h[24] = 0xfd;
	h[39] = b;
}

#define F_C 0x8000
#define F_R 0x4000
#define F_K 0x2000
#define F_S 0x1000

static void gre(struct pkt *k, uint16_t flags, uint16_t ptype)
{
	size_t hl = 4 + (flags & F_C ? 4 : 0) + (flags & F_K ? 4 : 0) + (flags & F_S ? 4 : 0);
	uint8_t *h = prepend(k, hl);

	wr16(h, flags);
	wr16(h + 2, ptype);
	memset(h + 4, 0xa5, hl - 4); /* checksum, key, sequence: not read */
}

/* An Ethernet header (or a VLAN tag: TCI, then the next type). */
static void eth(struct pkt *k, uint16_t type)
{
	uint8_t *h = prepend(k, 14);

	h[0] = h[6] = 0x02;
	wr16(h + 12, type);
}

static void tag(struct pkt *k, uint16_t next)
{
	uint8_t *h = prepend(k, 4);

	wr16(h, 42);
	wr16(h + 2, next);
}

static void erspan2(struct pkt *k, unsigned int ver)
{
	uint8_t *h = prepend(k, 8);

	h[0] = ver << 4;
	h[3] = 17; /* session */
}

static void erspan3(struct pkt *k, unsigned int ft, int platform)
{
	uint8_t *h;

	if (platform)
		memset(prepend(k, 8), 0x3c, 8);
	h = prepend(k, 12);
	h[0] = 2 << 4;
	h[10] = ft << 2;
	h[11] = platform ? 1 : 0;
}

static void pppoe(struct pkt *k, uint16_t proto, int compressed)
{
	size_t hl = compressed ? 1 : 2;
	size_t len = k->n + hl;
	uint8_t *h = prepend(k, 6 + hl);

	h[0] = 0x11;
	wr16(h + 2, 0x1234);
	wr16(h + 4, len);
	if (compressed)
		h[6] = proto;
	else
		wr16(h + 6, proto);
}

/* Decode an Ethernet frame as replay does (ethertype, then the rest), from
 * a buffer of exactly its size so that any read past the end is caught. */
static int decode_eth(const struct pkt *k, size_t n, struct sipd_decap *d, uint8_t **copy)
{
	free(*copy);
	*copy = malloc(n ? n : 1);
	memcpy(*copy, k->p, n);
	if (n < 14)
		return -99;
	return sipd_decap((uint16_t)(((*copy)[12] << 8) | (*copy)[13]), *copy + 14, n - 14, d);
}

static int decode_ip(const struct pkt *k, size_t n, struct sipd_decap *d, uint8_t **copy)
{
	free(*copy);
	*copy = malloc(n ? n : 1);
	memcpy(*copy, k->p, n);
	return sipd_decap(0, *copy, n, d);
}

/* The datagram found is the inner 10.0.0.1 -> 10.0.0.2 UDP 5060 "SIP". */
static void assert_inner_v4(const struct sipd_decap *d)
{
	struct sipd_udp_view v;

	assert_int_equal(sipd_udp_view(d->ip, d->len, &v), 0);
	assert_false(v.is_v6);
	assert_int_equal(v.saddr[15], 1);
	assert_int_equal(v.daddr[15], 2);
	assert_int_equal(v.dport, 5060);
	assert_int_equal(v.payload_len, 3);
	assert_memory_equal(v.payload, "SIP", 3);
	assert_int_equal(d->ethertype, 0x0800);
}

static void assert_inner_v6(const struct sipd_decap *d)
{
	struct sipd_udp_view v;

	assert_int_equal(sipd_udp_view(d->ip, d->len, &v), 0);
	assert_true(v.is_v6);
	assert_int_equal(v.saddr[15], 1);
	assert_int_equal(v.daddr[15], 2);
	assert_int_equal(v.dport, 5060);
	assert_memory_equal(v.payload, "SIP", 3);
	assert_int_equal(d->ethertype, 0x86dd);
}

static void test_plain_and_tags(void **state)
{
	struct sipd_decap d;
	uint8_t *c = NULL;
	struct pkt k;

	(void)state;
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	eth(&k, 0x0800);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.depth, 0);
	assert_int_equal(d.kinds, 0);
	assert_true(d.as_is);

	/* 802.1ad + 802.1Q: what the XDP program parses itself. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	tag(&k, 0x0800);
	tag(&k, 0x8100);
	eth(&k, 0x88a8);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.vlans, 2);
	assert_int_equal(d.kinds, 1u << SIPD_ENCAP_VLAN);
	assert_true(d.as_is);

	/* 0x9100, or a third tag: decoded, but not as the XDP program does. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	tag(&k, 0x0800);
	tag(&k, 0x8100);
	eth(&k, 0x9100);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_false(d.as_is);
	udp(&k);
	ip6(&k, 17, 1, 2);
	tag(&k, 0x86dd);
	tag(&k, 0x8100);
	tag(&k, 0x8100);
	eth(&k, 0x88a8);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v6(&d);
	assert_int_equal(d.vlans, 3);
	assert_false(d.as_is);

	/* Four tags are the limit, five too many; a cut tag is named. */
	for (int ntags = 4; ntags <= 5; ntags++) {
		udp(&k);
		ip4(&k, 17, 1, 2, 0);
		tag(&k, 0x0800);
		for (int i = 1; i < ntags; i++)
			tag(&k, 0x8100);
		eth(&k, 0x8100);
		assert_int_equal(decode_eth(&k, k.n, &d, &c), ntags == 4 ? 0 : -EINVAL);
	}
	assert_int_equal(d.why, SIPD_DECAP_SKIP_TOO_DEEP);
	assert_int_equal(decode_eth(&k, 14 + 3, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_VLAN_TRUNCATED);

	/* Not IP at all. */
	udp(&k);
	eth(&k, 0x0806);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), -ENOENT);
	free(c);
}

static void test_ip_in_ip(void **state)
{
	struct sipd_udp_view v;
	struct sipd_decap d;
	uint8_t *c = NULL;
	struct pkt k;

	(void)state;
	/* IPv4 in IPv4, the outer with Ethernet padding after it. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	ip4(&k, 4, 201, 202, 0);
	eth(&k, 0x0800);
	memset(k.p + k.n, 0xee, 6);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.depth, 1);
	assert_int_equal(d.kinds, 1u << SIPD_ENCAP_IP_IN_IP);
	assert_false(d.as_is);
	assert_int_equal(d.len, 31);

	/* IPv6 in IPv4 (41), IPv4 in IPv6 (4, DS-Lite), IPv6 in IPv6. */
	udp(&k);
	ip6(&k, 17, 1, 2);
	ip4(&k, 41, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v6(&d);
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	ip6(&k, 4, 201, 202);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	udp(&k);
	ip6(&k, 17, 1, 2);
	ip6(&k, 41, 201, 202);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v6(&d);

	/* An outer IPv6 with a Destination Options header (the tunnel
	 * encapsulation limit of RFC 2473) before the inner datagram. */
	udp(&k);
	ip6(&k, 17, 1, 2);
	{
		uint8_t *h = prepend(&k, 8);

		h[0] = 41;
		h[2] = 4; /* tunnel encapsulation limit option */
		h[3] = 1;
		h[4] = 4;
	}
	ip6(&k, 60, 201, 202);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v6(&d);

	/* An inner fragment is handed on (reassembly's job), an outer one is
	 * given up by name (IPv4 MF, IPv6 Fragment header). */
	udp(&k);
	ip4(&k, 17, 1, 2, 0x2000);
	ip4(&k, 4, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_int_equal(sipd_udp_view(d.ip, d.len, &v), 0);
	assert_true(v.is_fragment);
	assert_true(v.first_fragment);
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	ip4(&k, 4, 201, 202, 0x2000);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_FRAGMENT);
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	gre(&k, 0, 0x0800);
	{
		uint8_t *h = prepend(&k, 8);

		h[0] = 47;
		wr16(h + 2, 0x0101); /* offset 32, M=1 */
	}
	ip6(&k, 44, 201, 202);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_FRAGMENT);

	/* Four nested encapsulations are the limit, five too many. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	for (int i = 0; i < 4; i++)
		ip4(&k, 4, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.depth, 4);
	ip6(&k, 4, 201, 202);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_TOO_DEEP);

	/* An inner datagram cut short: the UDP view says so, not decap. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	k.p[3] += 10; /* total length past the outer's end */
	ip4(&k, 4, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_int_equal(sipd_udp_view(d.ip, d.len, &v), -EINVAL);
	free(c);
}

static void test_gre(void **state)
{
	static const uint16_t opts[] = {0, F_K, F_S, F_C, F_C | F_K | F_S};
	struct sipd_decap d;
	uint8_t *c = NULL;
	struct pkt k;

	(void)state;
	for (unsigned int i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		udp(&k);
		ip4(&k, 17, 1, 2, 0);
		gre(&k, opts[i], 0x0800);
		ip4(&k, 47, 201, 202, 0);
		eth(&k, 0x0800);
		assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
		assert_inner_v4(&d);
		assert_int_equal(d.kinds, 1u << SIPD_ENCAP_GRE);
		assert_int_equal(d.depth, 1);
	}
	/* IPv6 payload over an IPv6 tunnel. */
	udp(&k);
	ip6(&k, 17, 1, 2);
	gre(&k, F_K, 0x86dd);
	ip6(&k, 47, 201, 202);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v6(&d);

	/* gretap: an Ethernet frame with its own VLAN tag. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	tag(&k, 0x0800);
	eth(&k, 0x8100);
	gre(&k, F_K, 0x6558);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.kinds, (1u << SIPD_ENCAP_GRE_ETHERNET) | (1u << SIPD_ENCAP_VLAN));
	assert_false(d.as_is);

	/* Cut inside the key, or inside the bridged Ethernet header. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	gre(&k, F_C | F_K | F_S, 0x0800);
	ip4(&k, 47, 201, 202, 0);
	wr16(k.p + 2, 20 + 10); /* the outer datagram ends inside the key */
	assert_int_equal(decode_ip(&k, 30, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_GRE_TRUNCATED);
	wr16(k.p + 2, 20 + 3);
	assert_int_equal(decode_ip(&k, 23, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_GRE_TRUNCATED);
	udp(&k);
	k.p += 1;
	k.n = 10; /* ten octets of a bridged frame */
	gre(&k, 0, 0x6558);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_GRE_TRUNCATED);

	/* Version 1 (PPTP) and routing are not decoded; unknown payloads
	 * (MPLS) are not IP. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	gre(&k, F_K | 1, 0x880b);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_GRE_UNSUPPORTED);
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	gre(&k, F_R | F_C, 0x0800);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_GRE_UNSUPPORTED);
	udp(&k);
	gre(&k, 0, 0x8847);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -ENOENT);
	free(c);
}

static void test_erspan(void **state)
{
	struct sipd_decap d;
	uint8_t *c = NULL;
	struct pkt k;

	(void)state;
	/* Type II: sequence number, 8 octets, a mirrored 802.1Q frame. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	tag(&k, 0x0800);
	eth(&k, 0x8100);
	erspan2(&k, 1);
	gre(&k, F_S, 0x88be);
	ip4(&k, 47, 201, 202, 0);
	eth(&k, 0x0800);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.kinds, (1u << SIPD_ENCAP_ERSPAN) | (1u << SIPD_ENCAP_VLAN));
	assert_int_equal(d.depth, 1);
	/* Cut by the capture: the outer datagram is the one cut short. */
	assert_int_equal(decode_eth(&k, 14 + 20 + 8 + 7, &d, &c), 0);
	assert_int_equal(d.depth, 0);
	{
		struct sipd_udp_view v;

		assert_int_equal(sipd_udp_view(d.ip, d.len, &v), -EINVAL);
	}
	/* Cut inside the tunnel (the outer length agrees). */
	wr16(k.p + 14 + 2, 20 + 8 + 7);
	assert_int_equal(decode_eth(&k, 14 + 20 + 8 + 7, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);
	wr16(k.p + 14 + 2, 20 + 8 + 8 + 10);
	assert_int_equal(decode_eth(&k, 14 + 20 + 8 + 8 + 10, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED); /* mirrored header cut */

	/* Version 2 under the type II protocol is refused. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	eth(&k, 0x0800);
	erspan2(&k, 2);
	gre(&k, F_S, 0x88be);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_ERSPAN_UNSUPPORTED);

	/* Type I: no sequence number, no ERSPAN header. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	eth(&k, 0x0800);
	gre(&k, 0, 0x88be);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);

	/* Type III, with and without the platform subheader, over IPv6. */
	for (int plat = 0; plat < 2; plat++) {
		udp(&k);
		ip6(&k, 17, 1, 2);
		eth(&k, 0x86dd);
		erspan3(&k, 0, plat);
		gre(&k, F_S, 0x22eb);
		ip6(&k, 47, 201, 202);
		assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
		assert_inner_v6(&d);
		assert_int_equal(d.kinds, 1u << SIPD_ENCAP_ERSPAN);
	}
	/* The platform subheader announced but missing. */
	wr16(k.p + 4, 8 + 12 + 6);
	assert_int_equal(decode_ip(&k, 40 + 8 + 12 + 6, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);
	wr16(k.p + 4, 8 + 11);
	assert_int_equal(decode_ip(&k, 40 + 8 + 11, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);

	/* Frame type 2: an IP packet without an Ethernet header; frame
	 * type 1 is not decoded. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	erspan3(&k, 2, 0);
	gre(&k, F_S, 0x22eb);
	ip4(&k, 47, 201, 202, 0);
	assert_int_equal(decode_ip(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	k.p[20 + 8 + 10] = 1 << 2;
	assert_int_equal(decode_ip(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_ERSPAN_UNSUPPORTED);
	free(c);
}

static void test_pppoe(void **state)
{
	struct sipd_decap d;
	uint8_t *c = NULL;
	struct pkt k;

	(void)state;
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	pppoe(&k, 0x0021, 0);
	eth(&k, 0x8864);
	memset(k.p + k.n, 0, 8); /* padding after the session's length */
	assert_int_equal(decode_eth(&k, k.n + 8, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.len, 31);
	assert_int_equal(d.kinds, 1u << SIPD_ENCAP_PPPOE);
	assert_false(d.as_is);

	/* IPv6, on a QinQ access network, and with a compressed protocol. */
	udp(&k);
	ip6(&k, 17, 1, 2);
	pppoe(&k, 0x0057, 0);
	tag(&k, 0x8864);
	tag(&k, 0x8100);
	eth(&k, 0x88a8);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v6(&d);
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	pppoe(&k, 0x21, 1);
	eth(&k, 0x8864);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);

	/* LCP is not a datagram; discovery frames neither. */
	udp(&k);
	pppoe(&k, 0xc021, 0);
	eth(&k, 0x8864);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), -ENOENT);
	eth(&k, 0x8863);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), -ENOENT);

	/* Length past the frame, a wrong version/type, a discovery code. */
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	pppoe(&k, 0x0021, 0);
	eth(&k, 0x8864);
	assert_int_equal(decode_eth(&k, k.n - 1, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_PPPOE_MALFORMED);
	k.p[14] = 0x12;
	assert_int_equal(decode_eth(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_PPPOE_MALFORMED);
	k.p[14] = 0x11;
	k.p[15] = 0x09; /* PADI */
	assert_int_equal(decode_eth(&k, k.n, &d, &c), -EINVAL);
	assert_int_equal(d.why, SIPD_DECAP_SKIP_PPPOE_MALFORMED);
	assert_int_equal(decode_eth(&k, 14 + 7, &d, &c), -EINVAL);
	free(c);
}

/* Everything at once: PPPoE around IPv6 in IPv4 in IPv4 around GRE with
 * ERSPAN III (four encapsulations) around QinQ; then every truncation and every
 * one-octet change of it must decode or fail by name, never read past the
 * end (the copies are exactly the frame's size). */
static void test_nested_and_robust(void **state)
{
	struct sipd_decap d;
	uint8_t *c = NULL;
	struct pkt k, base;

	(void)state;
	udp(&k);
	ip4(&k, 17, 1, 2, 0);
	tag(&k, 0x0800);
	tag(&k, 0x8100);
	eth(&k, 0x88a8);
	erspan3(&k, 0, 1);
	gre(&k, F_S | F_K, 0x22eb);
	ip6(&k, 47, 201, 202);
	ip4(&k, 41, 203, 204, 0);
	ip4(&k, 4, 205, 206, 0);
	pppoe(&k, 0x0021, 0);
	eth(&k, 0x8864);
	assert_int_equal(decode_eth(&k, k.n, &d, &c), 0);
	assert_inner_v4(&d);
	assert_int_equal(d.depth, 4);
	assert_int_equal(d.vlans, 2);
	assert_int_equal(d.kinds, (1u << SIPD_ENCAP_PPPOE) | (1u << SIPD_ENCAP_IP_IN_IP) |
					  (1u << SIPD_ENCAP_ERSPAN) | (1u << SIPD_ENCAP_VLAN));
	assert_false(d.as_is);

	base = k;
	base.p = base.buf + (k.p - k.buf);
	for (size_t n = 0; n < k.n; n++) {
		int rc = decode_eth(&base, n, &d, &c);

		assert_true(rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -99);
		if (rc == -EINVAL)
			assert_true(d.why < SIPD_DECAP_SKIP_MAX);
		if (rc == 0)
			assert_true(d.ip >= c && d.ip + d.len <= c + n);
	}
	for (size_t i = 0; i < k.n; i++) {
		for (unsigned int x = 1; x < 256; x <<= 1) {
			int rc;

			base.p[i] ^= x;
			rc = decode_eth(&base, base.n, &d, &c);
			base.p[i] ^= x;
			assert_true(rc == 0 || rc == -EINVAL || rc == -ENOENT);
			if (rc == 0)
				assert_true(d.ip >= c && d.ip + d.len <= c + base.n);
		}
	}
	free(c);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sipd_decap_skip_name(SIPD_DECAP_SKIP_TOO_DEEP), "encap_too_deep");
	assert_string_equal(sipd_decap_skip_name(SIPD_DECAP_SKIP_GRE_TRUNCATED), "gre_truncated");
	assert_string_equal(sipd_decap_skip_name(SIPD_DECAP_SKIP_ERSPAN_TRUNCATED),
			    "erspan_truncated");
	assert_string_equal(sipd_decap_skip_name(SIPD_DECAP_SKIP_MAX), "?");
	for (unsigned int i = 0; i < SIPD_DECAP_SKIP_MAX; i++)
		assert_non_null(sipd_decap_skip_name(i));
	assert_string_equal(sipd_encap_kind_name(SIPD_ENCAP_GRE_ETHERNET), "gre_ethernet");
	assert_string_equal(sipd_encap_kind_name(SIPD_ENCAP_KIND_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_tags),
		cmocka_unit_test(test_ip_in_ip),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_erspan),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_nested_and_robust),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
