// SPDX-License-Identifier: GPL-2.0-only
/* Packet builder for BPF_PROG_TEST_RUN; see pktbuild.h. */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <string.h>

#include "pktbuild.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int pb_addr16(const char *txt, uint8_t out[16])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, txt, &a4) == 1) {
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, txt, out) == 1 ? 0 : -1;
}

/* One IPv6 extension header of type t at p; returns its length. */
static size_t put_ext(uint8_t *p, uint8_t t, uint8_t next)
{
	size_t len;

	switch (t) {
	case IPPROTO_AH: /* 12 fixed + 12 ICV: hdrlen = 24/4 - 2 */
		len = 24;
		memset(p, 0, len);
		p[1] = 4;
		put32(p + 4, 0x1000); /* SPI */
		break;
	case IPPROTO_DSTOPTS: /* 16 octets: exercises the length math */
		len = 16;
		memset(p, 0, len);
		p[1] = 1;
		p[2] = 1; /* PadN covering the rest */
		p[3] = 12;
		break;
	case IPPROTO_ROUTING: /* type 4 (SRH-like), segments left 0 */
		len = 8;
		memset(p, 0, len);
		p[2] = 4;
		break;
	default: /* hop-by-hop: one PadN */
		len = 8;
		memset(p, 0, len);
		p[2] = 1;
		p[3] = 4;
		break;
	}
	p[0] = next;
	return len;
}

int pb_build(const struct pb_spec *s, struct pb_pkt *p)
{
	uint8_t l4 = s->l4 ? s->l4 : IPPROTO_UDP;
	int udpish = l4 == IPPROTO_UDP || l4 == IPPROTO_UDPLITE;
	uint8_t saddr[16], daddr[16];
	uint8_t *b = p->b, *ip, *l4p;
	size_t off = 12, hl, l4len;
	int i;

	memset(p, 0, sizeof(*p));
	if (s->vlans < 0 || s->vlans > PB_VLAN_MAX)
		return -1;
	memcpy(b, "\x02\x00\x00\x00\x00\x02", 6);     /* dst MAC */
	memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6); /* src MAC */
	for (i = 0; i < s->vlans; i++) {
		int ad = s->all_ad || (i == 0 && s->qinq);

		put16(b + off, ad ? ETH_P_8021AD : ETH_P_8021Q);
		put16(b + off + 2, i == 0 && s->tci ? (uint16_t)s->tci : s->vid0 ? 0 : 100 + i);
		off += 4;
	}
	if (s->ethertype) {
		put16(b + off, s->ethertype);
		off += 2;
		memset(b + off, 0xab, 28);
		p->len = off + 28;
		goto cut;
	}
	put16(b + off, s->v6 ? ETH_P_IPV6 : ETH_P_IP);
	off += 2;
	ip = b + off;
	if (pb_addr16(s->src, saddr) || pb_addr16(s->dst, daddr))
		return -1;
	if (s->payload < 0 || s->payload > 1800 || s->ip4_opt_words > 10 || s->n_ext > PB_EXT_MAX ||
	    s->ext_in_frag < 0 || s->ext_in_frag > s->n_ext)
		return -1;
	/* L4: a UDP header unless this is a later fragment */
	l4len = (size_t)s->payload;
	if (s->frag != PB_LATER)
		l4len += udpish ? 8 : 20;

	if (!s->v6) {
		hl = 20 + 4 * s->ip4_opt_words;
		ip[0] = 0x40 | (s->ip4_ihl ? (size_t)s->ip4_ihl : hl / 4);
		put16(ip + 2, hl + l4len + s->ip_len_delta);
		put16(ip + 4, s->frag_id & 0xffff);
		if (s->frag == PB_FIRST)
			put16(ip + 6, 0x2000);
		else if (s->frag == PB_LATER)
			put16(ip + 6, s->frag_off & 0x1fff);
		ip[1] = s->tos;
		ip[8] = s->ttl ? s->ttl : 64;
		ip[9] = l4;
		memcpy(ip + 12, saddr + 12, 4);
		memcpy(ip + 16, daddr + 12, 4);
		for (i = 0; i < 4 * s->ip4_opt_words; i++)
			ip[20 + i] = 1; /* NOP options */
		put16(ip + 10, csum16(ip, hl));
		p->l3_len = (uint16_t)(hl + l4len + s->ip_len_delta);
	} else {
		uint8_t chain[PB_EXT_MAX + 2];
		int n = 0, unfrag = s->n_ext - s->ext_in_frag;

		for (i = 0; i < unfrag; i++)
			chain[n++] = s->ext[i];
		if (s->frag != PB_WHOLE)
			chain[n++] = IPPROTO_FRAGMENT;
		/* a later fragment carries only the unfragmentable part */
		for (i = unfrag; i < s->n_ext && s->frag != PB_LATER; i++)
			chain[n++] = s->ext[i];
		ip[0] = 0x60 | s->tos >> 4;
		ip[1] = (uint8_t)(s->tos << 4);
		ip[6] = n ? chain[0] : l4;
		ip[7] = s->ttl ? s->ttl : 64;
		memcpy(ip + 8, saddr, 16);
		memcpy(ip + 24, daddr, 16);
		hl = 40;
		for (i = 0; i < n; i++) {
			uint8_t next = i + 1 < n ? chain[i + 1] : l4;

			if (chain[i] == IPPROTO_FRAGMENT) {
				uint16_t fo = 0;

				if (s->frag == PB_LATER) {
					fo = s->frag_off << 3;
					if (s->frag_nh)
						next = s->frag_nh;
					else if (s->ext_in_frag)
						next = s->ext[unfrag];
				} else if (s->frag == PB_FIRST) {
					fo = 1;
				}
				memset(ip + hl, 0, 8);
				ip[hl] = next;
				put16(ip + hl + 2, fo);
				put32(ip + hl + 4, s->frag_id);
				hl += 8;
			} else {
				hl += put_ext(ip + hl, chain[i], next);
			}
		}
		put16(ip + 4, hl - 40 + l4len + s->ip_len_delta);
		p->l3_len = (uint16_t)(hl - 40 + l4len + s->ip_len_delta) + 40;
	}
	l4p = ip + hl;
	if (s->frag != PB_LATER && udpish) {
		put16(l4p, s->sport);
		put16(l4p + 2, s->dport);
		/* UDP: length; UDP-Lite: checksum coverage, 0 = all */
		put16(l4p + 4, l4 == IPPROTO_UDP ? 8 + s->payload : 0);
	} else if (s->frag != PB_LATER) { /* TCP-ish: ports + offset */
		put16(l4p, s->sport);
		put16(l4p + 2, s->dport);
		l4p[12] = 5 << 4;
	}
	for (i = 0; i < s->payload; i++)
		l4p[l4len - s->payload + i] = (uint8_t)i;
	p->len = (size_t)(l4p - b) + l4len;
	if (p->len < 60 && !s->cut)
		p->len = 60; /* Ethernet minimum; padding stays zero */
cut:
	if (s->cut && (size_t)s->cut < p->len)
		p->len = s->cut;
	return 0;
}
