// SPDX-License-Identifier: GPL-2.0-only
/* Helpers the packet sources share: SIP port lists and a UDP datagram view. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "sipd/source.h"

int sipd_ports_parse(const char *s, struct sipd_ports *p)
{
	const char *c = s;

	memset(p, 0, sizeof(*p));
	if (!s || !*s)
		return -EINVAL;
	while (*c) {
		char *end;
		unsigned long v;

		if (*c < '0' || *c > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(c, &end, 10);
		if (errno || v == 0 || v > 65535 || (*end && *end != ','))
			return -EINVAL;
		if (p->n == SIPD_MAX_SIP_PORTS)
			return -E2BIG;
		if (!sipd_ports_has(p, v))
			p->port[p->n++] = v;
		c = *end ? end + 1 : end;
		if (*end == ',' && !*c)
			return -EINVAL;
	}
	return 0;
}

int sipd_ports_has(const struct sipd_ports *p, uint16_t port)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (p->port[i] == port)
			return 1;
	return 0;
}

static void v4_mapped(uint8_t out[16], const void *a4)
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, a4, 4);
}

static int udp_at(struct sipd_udp_view *v, size_t off)
{
	uint16_t ulen;

	if (v->is_fragment && !v->first_fragment)
		return 0; /* no UDP header in a later fragment */
	if (off + 8 > v->ip_len)
		return -EINVAL;
	v->sport = ((uint16_t)v->ip[off] << 8) | v->ip[off + 1];
	v->dport = ((uint16_t)v->ip[off + 2] << 8) | v->ip[off + 3];
	ulen = ((uint16_t)v->ip[off + 4] << 8) | v->ip[off + 5];
	v->payload = v->ip + off + 8;
	v->payload_len = v->ip_len - off - 8;
	/* A whole datagram's UDP length bounds the payload; trailing bytes
	 * (Ethernet padding in captures) are not SIP. */
	if (!v->is_fragment && ulen >= 8 && (size_t)ulen - 8 < v->payload_len)
		v->payload_len = ulen - 8;
	return 0;
}

/* Not UDP: note the protocol, and a whole TCP segment's ports. */
static int other_at(struct sipd_udp_view *v, uint8_t proto, size_t off)
{
	v->proto = proto;
	if (proto == IPPROTO_TCP && !v->is_fragment && off + 20 <= v->ip_len) {
		v->sport = ((uint16_t)v->ip[off] << 8) | v->ip[off + 1];
		v->dport = ((uint16_t)v->ip[off + 2] << 8) | v->ip[off + 3];
	}
	return -ENOENT;
}

int sipd_udp_view(const uint8_t *ip, size_t len, struct sipd_udp_view *v)
{
	memset(v, 0, sizeof(*v));
	v->ip = ip;
	v->ip_len = len;
	if (len < 1)
		return -EINVAL;

	if ((ip[0] >> 4) == 4) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		uint16_t tot, frag;

		if (len < 20 || ihl < 20 || ihl > len)
			return -EINVAL;
		tot = ((uint16_t)ip[2] << 8) | ip[3];
		if (tot < ihl || tot > len)
			return -EINVAL;
		v->ip_len = tot; /* drop link-layer padding */
		frag = ((uint16_t)ip[6] << 8) | ip[7];
		v->is_fragment = (frag & 0x3fff) != 0;
		v->first_fragment = v->is_fragment && !(frag & 0x1fff);
		v4_mapped(v->saddr, ip + 12);
		v4_mapped(v->daddr, ip + 16);
		if (ip[9] != IPPROTO_UDP)
			return other_at(v, ip[9], ihl);
		v->proto = IPPROTO_UDP;
		return udp_at(v, ihl);
	}

	if ((ip[0] >> 4) == 6) {
		size_t off = 40;
		uint16_t plen;
		uint8_t nh;

		if (len < 40)
			return -EINVAL;
		plen = ((uint16_t)ip[4] << 8) | ip[5];
		if ((size_t)plen + 40 > len)
			return -EINVAL;
		v->ip_len = (size_t)plen + 40;
		v->is_v6 = 1;
		memcpy(v->saddr, ip + 8, 16);
		memcpy(v->daddr, ip + 24, 16);
		nh = ip[6];
		/* Bounded walk of the extension headers sipd can meet. */
		for (int i = 0; i < 8; i++) {
			switch (nh) {
			case IPPROTO_UDP:
				v->proto = IPPROTO_UDP;
				return udp_at(v, off);
			case IPPROTO_HOPOPTS:
			case IPPROTO_ROUTING:
			case IPPROTO_DSTOPTS:
				if (off + 8 > v->ip_len)
					return -EINVAL;
				nh = ip[off];
				off += ((size_t)ip[off + 1] + 1) * 8;
				break;
			case IPPROTO_FRAGMENT: {
				uint16_t fo;

				if (off + 8 > v->ip_len)
					return -EINVAL;
				fo = ((uint16_t)ip[off + 2] << 8) | ip[off + 3];
				v->is_fragment = 1;
				v->first_fragment = (fo & 0xfff8) == 0;
				nh = ip[off];
				off += 8;
				if (!v->first_fragment)
					return nh == IPPROTO_UDP ? 0 : -ENOENT;
				break;
			}
			default:
				return other_at(v, nh, off);
			}
		}
		return -ENOENT;
	}
	return -EINVAL;
}
