/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small packet builder for BPF_PROG_TEST_RUN: Ethernet, VLAN/QinQ (any
 * depth), IPv4 with options, IPv6 with extension headers, fragments, UDP and
 * UDP-Lite, IP length fields that disagree with the frame, truncation.
 * Shared by tests/bpf and bench/xdp-cost.
 */
#ifndef SW_TESTS_PKTBUILD_H
#define SW_TESTS_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define PB_MAX	    2048
#define PB_EXT_MAX  12
#define PB_VLAN_MAX 8

enum pb_frag {
	PB_WHOLE = 0,
	PB_FIRST,  /* offset 0, more fragments */
	PB_LATER,  /* offset frag_off (8-octet units), no L4 header */
	PB_ATOMIC, /* IPv6 fragment header with offset 0 and M = 0 */
};

struct pb_spec {
	int v6;
	int vlans;	 /* VLAN tags, outermost first (0..PB_VLAN_MAX) */
	int qinq;	 /* outer tag is 802.1ad */
	int all_ad;	 /* every tag is 802.1ad */
	int vid0;	 /* every tag VID 0 (priority tags); else 100, 101, ... */
	int tci;	 /* nonzero: the outermost tag's whole TCI (PCP, DEI, VID) */
	const char *src; /* IPv4 or IPv6 text */
	const char *dst;
	uint16_t sport; /* host order */
	uint16_t dport;
	uint8_t l4;		 /* IPPROTO_*; 0 = UDP; UDP-Lite has UDP's header */
	int ip4_opt_words;	 /* IPv4 options, 32-bit words (0..10) */
	int ip4_ihl;		 /* nonzero: write this ihl (a garbled header) */
	uint8_t ext[PB_EXT_MAX]; /* IPv6 extension headers before L4 */
	int n_ext;
	int ext_in_frag; /* the last ext_in_frag of them follow the fragment
			  * header (fragmentable part; PB_LATER omits them) */
	enum pb_frag frag;
	uint32_t frag_id;
	uint16_t frag_off;  /* PB_LATER: offset in 8-octet units */
	uint8_t frag_nh;    /* PB_LATER/v6: next header in the fragment
			      * header (0 = l4) */
	int payload;	    /* L4 payload bytes */
	int cut;	    /* keep only the first cut bytes (0 = all) */
	int ip_len_delta;   /* added to the IPv4 total length or IPv6 payload
			     * length written; the frame keeps every byte */
	uint16_t ethertype; /* nonzero: this ethertype, no IP header */
	uint8_t ttl;	    /* IPv4 TTL / IPv6 hop limit; 0 = 64 */
	uint8_t tos;	    /* IPv4 TOS / IPv6 traffic class */
};

struct pb_pkt {
	uint8_t b[PB_MAX];
	size_t len;
	uint32_t l3_len; /* what the IP header claims (pinhole bytes) */
};

/* 0, or -1 when the spec is invalid (bad address, too big). */
int pb_build(const struct pb_spec *s, struct pb_pkt *p);
/* Text address to 16 bytes, IPv4 v4-mapped, as the pinhole map stores it. */
int pb_addr16(const char *txt, uint8_t out[16]);

#endif /* SW_TESTS_PKTBUILD_H */
