// SPDX-License-Identifier: GPL-2.0-only
/*
 * The encapsulations real taps carry SIP in (see source.h, sipd_decap):
 * VLAN tags (802.1Q, 802.1ad, 0x9100), PPPoE sessions (RFC 2516), IP in IP
 * (IPv4/IPv6 in IPv4/IPv6, protocols 4 and 41), GRE (RFC 2784/2890: checksum,
 * key and sequence number) with an IP payload, with an Ethernet frame
 * (transparent Ethernet bridging, 0x6558), or with a mirrored frame behind an
 * ERSPAN type I/II (0x88BE) or type III (0x22EB) header.
 *
 * One iterative walk, no recursion: every step consumes at least four octets
 * of a buffer it checked first, nested encapsulations and VLAN tags on one
 * Ethernet header are bounded, and every header it cannot read is given up
 * under one named reason.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "sipd/source.h"

#define ET_IP	    0x0800
#define ET_IPV6	    0x86dd
#define ET_8021Q    0x8100
#define ET_8021AD   0x88a8
#define ET_QINQ9100 0x9100
#define ET_PPPOE    0x8864
#define ET_TEB	    0x6558 /* transparent Ethernet bridging (gretap) */
#define ET_ERSPAN2  0x88be /* ERSPAN type I and II */
#define ET_ERSPAN3  0x22eb

#define GRE_C	    0x8000
#define GRE_R	    0x4000
#define GRE_K	    0x2000
#define GRE_S	    0x1000
#define GRE_VERSION 0x0007

#define PPP_IP	 0x0021
#define PPP_IPV6 0x0057

/* The steps of one walk: each one removes a header of 4 octets or more. */
#define DECAP_MAX_STEPS \
	((SIPD_DECAP_MAX_DEPTH + 1) * (SIPD_DECAP_MAX_VLANS + 2) + SIPD_DECAP_MAX_DEPTH + 2)

static const char *const skip_names[SIPD_DECAP_SKIP_MAX] = {
#define SIPD_DECAP_NAME(id, name) [SIPD_DECAP_SKIP_##id] = name,
	SIPD_DECAP_SKIPS(SIPD_DECAP_NAME)
#undef SIPD_DECAP_NAME
};

const char *sipd_decap_skip_name(enum sipd_decap_skip s)
{
	return (unsigned int)s < SIPD_DECAP_SKIP_MAX ? skip_names[s] : "?";
}

static const char *const kind_names[SIPD_ENCAP_KIND_MAX] = {
	[SIPD_ENCAP_VLAN] = "vlan",	[SIPD_ENCAP_IP_IN_IP] = "ip_in_ip",
	[SIPD_ENCAP_GRE] = "gre",	[SIPD_ENCAP_GRE_ETHERNET] = "gre_ethernet",
	[SIPD_ENCAP_ERSPAN] = "erspan", [SIPD_ENCAP_PPPOE] = "pppoe",
};

const char *sipd_encap_kind_name(unsigned int kind)
{
	return kind < SIPD_ENCAP_KIND_MAX ? kind_names[kind] : "?";
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * The protocol an IP datagram carries next (IPv6: after Hop-by-Hop, Routing,
 * Destination Options and Fragment headers), the offset of that header, the
 * datagram's length (its own length field, without link-layer padding) and
 * whether it is a fragment. -EINVAL when the header cannot be read.
 */
static int ip_next(const uint8_t *ip, size_t n, uint8_t *proto, size_t *off, size_t *len, int *frag)
{
	*frag = 0;
	if (n < 1)
		return -EINVAL;
	if ((ip[0] >> 4) == 4) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		size_t tot;

		if (n < 20 || ihl < 20)
			return -EINVAL;
		tot = rd16(ip + 2);
		if (tot < ihl || tot > n)
			return -EINVAL;
		*frag = (rd16(ip + 6) & 0x3fff) != 0;
		*proto = ip[9];
		*off = ihl;
		*len = tot;
		return 0;
	}
	if ((ip[0] >> 4) == 6) {
		size_t o = 40, tot;
		uint8_t nh;

		if (n < 40)
			return -EINVAL;
		tot = (size_t)rd16(ip + 4) + 40;
		if (tot > n)
			return -EINVAL;
		nh = ip[6];
		for (int i = 0; i < 8; i++) {
			switch (nh) {
			case IPPROTO_HOPOPTS:
			case IPPROTO_ROUTING:
			case IPPROTO_DSTOPTS:
				if (o + 8 > tot)
					return -EINVAL;
				nh = ip[o];
				o += ((size_t)ip[o + 1] + 1) * 8;
				continue;
			case IPPROTO_FRAGMENT:
				if (o + 8 > tot)
					return -EINVAL;
				*frag = 1;
				nh = ip[o];
				o += 8;
				continue;
			default:
				break;
			}
			break;
		}
		if (o > tot)
			return -EINVAL;
		*proto = nh;
		*off = o;
		*len = tot;
		return 0;
	}
	return -EINVAL;
}

static int skip(struct sipd_decap *d, enum sipd_decap_skip why)
{
	d->why = why;
	return -EINVAL;
}

int sipd_decap(uint16_t ethertype, const uint8_t *p, size_t n, struct sipd_decap *d)
{
	unsigned int tags = 0; /* on the current Ethernet header */
	int at_ip = ethertype == 0, odd_tag = 0;
	uint16_t et = ethertype;

	memset(d, 0, sizeof(*d));
	for (unsigned int step = 0; step < DECAP_MAX_STEPS; step++) {
		if (!at_ip) {
			switch (et) {
			case ET_8021Q:
			case ET_8021AD:
			case ET_QINQ9100:
				if (++tags > SIPD_DECAP_MAX_VLANS)
					return skip(d, SIPD_DECAP_SKIP_TOO_DEEP);
				if (n < 4)
					return skip(d, SIPD_DECAP_SKIP_VLAN_TRUNCATED);
				if (et == ET_QINQ9100)
					odd_tag = 1; /* not parsed by the XDP program */
				d->vlans++;
				d->kinds |= 1u << SIPD_ENCAP_VLAN;
				et = rd16(p + 2);
				p += 4;
				n -= 4;
				continue;
			case ET_IP:
			case ET_IPV6:
				at_ip = 1;
				continue;
			case ET_PPPOE: {
				size_t plen, hl;
				uint16_t proto;

				if (++d->depth > SIPD_DECAP_MAX_DEPTH)
					return skip(d, SIPD_DECAP_SKIP_TOO_DEEP);
				d->kinds |= 1u << SIPD_ENCAP_PPPOE;
				/* version 1, type 1, code 0 (session data) */
				if (n < 8 || p[0] != 0x11 || p[1] != 0)
					return skip(d, SIPD_DECAP_SKIP_PPPOE_MALFORMED);
				plen = rd16(p + 4);
				if (plen > n - 6 || plen < 1)
					return skip(d, SIPD_DECAP_SKIP_PPPOE_MALFORMED);
				/* A compressed (one-octet, odd) PPP protocol field
				 * is allowed by RFC 1661 though RFC 2516 advises
				 * against it. */
				if (p[6] & 1) {
					proto = p[6];
					hl = 1;
				} else {
					if (plen < 2)
						return skip(d, SIPD_DECAP_SKIP_PPPOE_MALFORMED);
					proto = rd16(p + 6);
					hl = 2;
				}
				if (proto != PPP_IP && proto != PPP_IPV6)
					return -ENOENT; /* LCP, IPCP, ...: no datagram */
				p += 6 + hl;
				n = plen - hl;
				at_ip = 1;
				continue;
			}
			default:
				return -ENOENT; /* ARP, LLDP, PPPoE discovery, ... */
			}
		}

		/* An IP datagram: the end, unless it is a tunnel. */
		uint8_t proto = 0;
		size_t off = 0, len = 0;
		int frag;

		if (ip_next(p, n, &proto, &off, &len, &frag) ||
		    (proto != IPPROTO_IPIP && proto != IPPROTO_IPV6 && proto != IPPROTO_GRE)) {
			/* Not a tunnel, or unreadable: sipd_udp_view judges it. */
			d->ip = p;
			d->len = n;
			d->ethertype = n && (p[0] >> 4) == 6 ? ET_IPV6 : ET_IP;
			d->as_is = !d->depth && !odd_tag && d->vlans <= 2;
			return 0;
		}
		if (frag)
			return skip(d, SIPD_DECAP_SKIP_FRAGMENT);
		if (++d->depth > SIPD_DECAP_MAX_DEPTH)
			return skip(d, SIPD_DECAP_SKIP_TOO_DEEP);
		p += off;
		n = len - off;
		if (proto != IPPROTO_GRE) {
			d->kinds |= 1u << SIPD_ENCAP_IP_IN_IP;
			continue; /* still at an IP header */
		}

		/* GRE (RFC 2784, key and sequence number RFC 2890). */
		uint16_t flags, ptype;
		size_t hl = 4;

		if (n < 4)
			return skip(d, SIPD_DECAP_SKIP_GRE_TRUNCATED);
		flags = rd16(p);
		ptype = rd16(p + 2);
		/* Version 1 is PPTP's enhanced GRE; routing (RFC 1701) is gone. */
		if ((flags & GRE_VERSION) || (flags & GRE_R))
			return skip(d, SIPD_DECAP_SKIP_GRE_UNSUPPORTED);
		hl += flags & GRE_C ? 4 : 0;
		hl += flags & GRE_K ? 4 : 0;
		hl += flags & GRE_S ? 4 : 0;
		if (n < hl)
			return skip(d, SIPD_DECAP_SKIP_GRE_TRUNCATED);
		p += hl;
		n -= hl;
		switch (ptype) {
		case ET_IP:
		case ET_IPV6:
			d->kinds |= 1u << SIPD_ENCAP_GRE;
			continue;
		case ET_TEB:
			d->kinds |= 1u << SIPD_ENCAP_GRE_ETHERNET;
			if (n < 14)
				return skip(d, SIPD_DECAP_SKIP_GRE_TRUNCATED);
			break;
		case ET_ERSPAN2:
			d->kinds |= 1u << SIPD_ENCAP_ERSPAN;
			/* Type II has a sequence number and an 8-octet header
			 * (version 1); type I has neither. */
			if (flags & GRE_S) {
				if (n < 8)
					return skip(d, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);
				if ((p[0] >> 4) != 1)
					return skip(d, SIPD_DECAP_SKIP_ERSPAN_UNSUPPORTED);
				p += 8;
				n -= 8;
			}
			if (n < 14)
				return skip(d, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);
			break;
		case ET_ERSPAN3: {
			size_t eh = 12;
			unsigned int ft;

			d->kinds |= 1u << SIPD_ENCAP_ERSPAN;
			/* 12 octets (version 2), then an 8-octet platform
			 * specific subheader when O is set; the frame type is
			 * 0 (Ethernet) or 2 (IP). */
			if (n < 12)
				return skip(d, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);
			if ((p[0] >> 4) != 2)
				return skip(d, SIPD_DECAP_SKIP_ERSPAN_UNSUPPORTED);
			ft = (p[10] >> 2) & 0x1f;
			if (p[11] & 1)
				eh += 8;
			if (ft != 0 && ft != 2)
				return skip(d, SIPD_DECAP_SKIP_ERSPAN_UNSUPPORTED);
			if (n < eh + (ft == 0 ? 14 : 0))
				return skip(d, SIPD_DECAP_SKIP_ERSPAN_TRUNCATED);
			p += eh;
			n -= eh;
			if (ft == 2)
				continue; /* an IP packet without its Ethernet header */
			break;
		}
		default:
			return -ENOENT; /* MPLS, WCCP, keepalives, ...: not ours */
		}
		/* A whole Ethernet frame (gretap, ERSPAN): its own VLAN tags. */
		et = rd16(p + 12);
		p += 14;
		n -= 14;
		tags = 0;
		at_ip = 0;
	}
	return skip(d, SIPD_DECAP_SKIP_TOO_DEEP);
}
