// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sipwall data path: per-call pinhole enforcement for UDP media.
 *
 * sipwall_xdp and sipwall_tc_in run the same judgement: UDP whose destination
 * port lies in [media_lo, media_hi] passes only through a pinhole keyed by its
 * destination whose allowed source matches; UDP to a SIP signalling port
 * (sw_config.sig_ports) meets the flood guard, a token bucket per source
 * prefix; both are dropped first if their source is banned (sw_bans).
 * Everything else passes untouched. sipwall_tc_eg learns the peer of
 * SW_CHECK_SYMMETRIC sources from what the protected endpoint sends. Every
 * verdict is counted by a named reason.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "sipwall_maps.h"

/* Set by the loader before load (host order). */
const volatile __u16 media_lo = SW_MEDIA_LO_DEFAULT;
const volatile __u16 media_hi = SW_MEDIA_HI_DEFAULT;
/* attach --forward: this program's interface forwards pinholed media in
 * XDP. Per loaded program (each attach loads its own), so an interface of
 * another namespace sharing the pin root never forwards by accident; off,
 * the verifier removes the forwarding path entirely. */
const volatile __u8 fwd_enabled = 0;

/*
 * No preallocation by default: memory follows the live pinholes (a
 * preallocated map sized for 10^6 takes ~153 MB at attach, empty or not),
 * and elements are freed after an RCU grace period, so a program still
 * holding a pointer to a pinhole userspace just deleted never writes into a
 * reused element. `attach --prealloc` clears the flag before load: one
 * element of 136 B per slot instead of a 192-byte kmalloc object per
 * pinhole, taken at attach; a deleted element can then be reused at once,
 * so a packet racing a delete may be checked against, counted into, or
 * (sw_learn) teach its symmetric source to the pinhole that took its slot:
 * one packet, the size of the race.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_PINHOLES_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sw_pinhole_key);
	__type(value, struct sw_pinhole_hot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_pinholes SEC(".maps");

/* Sources 2-4 of a pinhole with SW_PH_MORE (forked early media); the loader
 * sizes it to a fraction of sw_pinholes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_PH_SRCS_MIN);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sw_pinhole_key);
	__type(value, struct sw_ph_srcs);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_ph_srcs SEC(".maps");

/* Owners' Call-IDs, for userspace only (no program reads it); declared
 * here so one object creates and pins every map of the schema. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_PINHOLES_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct sw_call);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SW_R_MAX);
	__type(key, __u32);
	__type(value, struct sw_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SW_FRAGS_MAX);
	__type(key, struct sw_frag_key);
	__type(value, struct sw_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sw_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct sw_iface_key);
	__type(value, struct sw_iface_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_ifaces SEC(".maps");

/* Banned sources, keyed by the source masked to sw_config.ban_prefix_v4/v6.
 * Memory follows the bans (no preallocation), like sw_pinholes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_BANS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sw_ban_key);
	__type(value, struct sw_ban);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_bans SEC(".maps");

/* Flood-guard buckets: rate state, not call state, so an LRU may evict the
 * coldest; an evicted source starts again with a full bucket. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SW_FLOOD_MAX);
	__type(key, struct sw_flood_key);
	__type(value, struct sw_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_flood SEC(".maps");

/* Trusted networks, exempt from the flood guard (an LPM trie is never
 * preallocated). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SW_TRUSTED_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sw_lpm_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_trusted SEC(".maps");

/* Egress set of XDP forwarding: the interfaces attached with --forward. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, SW_FWD_DEVS_MAX);
	__type(key, __u32);
	__type(value, struct sw_fwd_dev);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_fwd_devs SEC(".maps");

/* 802.1Q VLAN devices of the --forward interfaces (maps-schema). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_FWD_VLANS_MAX);
	__type(key, struct sw_vlan_key);
	__type(value, struct sw_vlan_dev);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_fwd_vlans SEC(".maps");

/* libxdp dispatcher: run early, hand on to the next program what we pass. */
struct {
	__uint(priority, SW_XDP_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(sipwall_xdp);

/* Not in the uapi headers. */
struct sw_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct sw_frag6_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

#define SW_IP_MF      0x2000
#define SW_IP_OFFSET  0x1fff
#define SW_IP6_OFFSET 0xfff8
#define SW_IP6_MF     0x0001

/* VLAN tags (802.1Q or 802.1ad, any VID) parsed before IP. The kernel strips
 * any number of VID-0 tags and delivers what is inside, so a frame still
 * tagged after these cannot be judged and is dropped (dropped_vlan_depth). */
#define SW_VLAN_MAX	2
#define SW_IP6_EXT_MAX	8    /* extension headers walked before giving up */
#define SW_IP6_EXT_SPAN 1024 /* bytes of extension headers walked at most */
/* Later fragments follow a first fragment seen at most this long ago (the
 * kernel's default reassembly timeout, net.ipv4.ipfrag_time). */
#define SW_FRAG_TTL_NS (30ULL * 1000000000ULL)
/* Token bucket: tokens are packets << 16; elapsed time is clamped so that
 * elapsed * rate fits 64 bits (2^40 ns ~ 18 min, rates up to 2^20 pps; the
 * loader refuses more and a bucket deeper than 1,000 s of its rate). */
#define SW_TOKEN_ONE	     (1ULL << 16)
#define SW_FLOOD_MAX_ELAPSED (1ULL << 40)
#define SW_FLOOD_RATE_MAX    (1U << 20)
/* TC: bytes made linear before parsing when the skb is paged. */
#define SW_TC_PULL 256

/* What parsing found; the policy in sw_judge() turns it into a reason. */
enum sw_parsed {
	SW_P_OTHER,	 /* not IP, or IP but not UDP: not ours */
	SW_P_MALFORMED,	 /* could be media, but headers are truncated/garbled */
	SW_P_LATER,	 /* non-first fragment: no L4 header to judge */
	SW_P_UDP,	 /* UDP or UDP-Lite header present: ports valid */
	SW_P_VLAN_DEEP,	 /* still VLAN-tagged after SW_VLAN_MAX tags */
	SW_P_FRAG_CHAIN, /* first fragment without all headers up to UDP */
};

struct sw_pkt {
	__u32 saddr[4]; /* v4-mapped for IPv4 */
	__u32 daddr[4];
	__u32 frag_id;
	__u32 l3_len;
	__be16 sport;
	__be16 dport;
	__u8 proto;	 /* upper-layer protocol (fragment key) */
	__u8 first_frag; /* offset 0 with more fragments to come */
	__u8 later_safe; /* later fragment of a protocol that is never media */
	__u8 tags;	 /* VLAN tags in front of IP (incl. one taken out by TC) */
	__u8 v6;	 /* IPv6 */
	__u8 opts;	 /* IPv4 options, or IPv6 extension headers */
	__u8 dscp;	 /* passed a pinhole: DSCP to set + 1 (0 = leave it) */
	__u8 pad;
};

static __always_inline int sw_passes(__u32 reason)
{
	return reason == SW_R_PASSED_NOT_MEDIA || reason == SW_R_PASSED_PINHOLE ||
	       reason == SW_R_PASSED_FRAGMENT || reason == SW_R_EGRESS_LEARNED ||
	       reason == SW_R_EGRESS_PASSED || reason == SW_R_PASSED_SIGNALLING ||
	       reason == SW_R_PASSED_TRUSTED ||
	       (reason >= SW_R_FWD_NO_NEIGH && reason <= SW_R_FWD_VLAN);
}

/* The one exit every verdict takes: count it by reason, frame bytes. */
static __always_inline int sw_count(__u32 reason, __u64 bytes)
{
	struct sw_stat *st = bpf_map_lookup_elem(&sw_stats, &reason);

	if (st) {
		st->packets++;
		st->bytes += bytes;
	}
	return sw_passes(reason);
}

static __always_inline int sw_is_ip6_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH;
}

/* UDP-Lite (RFC 3828) has UDP's ports at UDP's offsets and reaches the same
 * port numbers: it is judged as UDP, against the same (proto 17) pinholes. */
static __always_inline int sw_is_udp(__u8 proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE;
}

/* Headers that would end past the IP datagram (len, from the IP length
 * fields): a first fragment that lacks them breaks RFC 7112 (and, IPv4, is a
 * tiny fragment, RFC 1858); any other datagram is malformed. Bytes after the
 * datagram's end are never read as headers: the kernel trims them. */
static __always_inline int sw_short(const struct sw_pkt *pkt)
{
	return pkt->first_frag ? SW_P_FRAG_CHAIN : SW_P_MALFORMED;
}

static __always_inline int sw_parse_udp(void *l3, __u32 off, __u32 len, void *end,
					struct sw_pkt *pkt)
{
	struct udphdr *udp = l3 + off;

	/* One pointer for the bounds check and the reads: recomputed from
	 * l3 and off, the verifier would not know it checked. */
	barrier_var(udp);
	if (off + sizeof(*udp) > len)
		return sw_short(pkt);
	if ((void *)(udp + 1) > end)
		return SW_P_MALFORMED;
	pkt->sport = udp->source;
	pkt->dport = udp->dest;
	return SW_P_UDP;
}

static __always_inline int sw_parse_ip4(void *l3, void *end, struct sw_pkt *pkt)
{
	struct iphdr *iph = l3;
	__u16 frag;

	/* Too short to read the protocol: nothing can be said, not ours. */
	if (l3 + offsetof(struct iphdr, protocol) + 1 > end)
		return SW_P_OTHER;
	pkt->proto = iph->protocol;
	if ((void *)(iph + 1) > end)
		return sw_is_udp(iph->protocol) ? SW_P_MALFORMED : SW_P_OTHER;
	if (iph->version != 4 || iph->ihl < 5)
		return sw_is_udp(iph->protocol) ? SW_P_MALFORMED : SW_P_OTHER;

	pkt->saddr[2] = bpf_htonl(0xffff);
	pkt->saddr[3] = iph->saddr;
	pkt->daddr[2] = bpf_htonl(0xffff);
	pkt->daddr[3] = iph->daddr;
	pkt->l3_len = bpf_ntohs(iph->tot_len);
	pkt->opts = iph->ihl > 5;

	frag = bpf_ntohs(iph->frag_off);
	if (frag & (SW_IP_MF | SW_IP_OFFSET)) {
		pkt->frag_id = bpf_ntohs(iph->id);
		if (frag & SW_IP_OFFSET) {
			pkt->later_safe = !sw_is_udp(iph->protocol);
			return SW_P_LATER;
		}
		pkt->first_frag = 1;
	}
	if (!sw_is_udp(iph->protocol))
		return SW_P_OTHER;
	/* Bounded by the total length (which covers the options too), not
	 * only by the frame. */
	return sw_parse_udp(l3, iph->ihl * 4, pkt->l3_len, end, pkt);
}

static __always_inline int sw_parse_ip6(void *l3, void *end, struct sw_pkt *pkt)
{
	struct ipv6hdr *ip6 = l3;
	__u32 off = sizeof(*ip6), len;
	__u8 nh;
	int i;

	if (l3 + offsetof(struct ipv6hdr, nexthdr) + 1 > end)
		return SW_P_OTHER;
	nh = ip6->nexthdr;
	pkt->proto = nh;
	pkt->v6 = 1;
	pkt->opts = sw_is_ip6_ext(nh);
	if ((void *)(ip6 + 1) > end)
		return sw_is_udp(nh) || sw_is_ip6_ext(nh) ? SW_P_MALFORMED : SW_P_OTHER;
	__builtin_memcpy(pkt->saddr, &ip6->saddr, 16);
	__builtin_memcpy(pkt->daddr, &ip6->daddr, 16);
	len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	pkt->l3_len = len;
	/* Payload length 0 before a hop-by-hop header: a jumbogram (RFC 2675;
	 * a GRO/BIG TCP super-packet at TC), its length in an option. No
	 * single received frame is long enough for the kernel to accept one,
	 * and it keeps the whole skb: bound by the frame alone. */
	if (!ip6->payload_len && nh == IPPROTO_HOPOPTS)
		len = ~0U;

	for (i = 0; i < SW_IP6_EXT_MAX; i++) {
		void *h;

		if (!sw_is_ip6_ext(nh))
			break;
		if (off > SW_IP6_EXT_SPAN)
			return SW_P_MALFORMED;
		h = l3 + off;
		if (nh == IPPROTO_FRAGMENT) {
			struct sw_frag6_hdr *fh = h;
			__u16 fo;

			if (off + sizeof(*fh) > len)
				return sw_short(pkt);
			if ((void *)(fh + 1) > end)
				return SW_P_MALFORMED;
			fo = bpf_ntohs(fh->frag_off);
			nh = fh->nexthdr;
			/* Offset 0 and no M flag is an atomic fragment
			 * (RFC 6946): a whole datagram, judged as such. */
			if (fo & (SW_IP6_OFFSET | SW_IP6_MF)) {
				pkt->frag_id = bpf_ntohl(fh->id);
				pkt->proto = nh;
				if (fo & SW_IP6_OFFSET) {
					/* The fragmentable part may start
					 * with more extension headers that
					 * lead to UDP: only a final protocol
					 * other than UDP is safe. */
					pkt->later_safe = !sw_is_udp(nh) && !sw_is_ip6_ext(nh);
					return SW_P_LATER;
				}
				pkt->first_frag = 1;
			}
			off += sizeof(*fh);
		} else {
			struct ipv6_opt_hdr *oh = h;
			__u8 cur = nh;

			/* Only its first two bytes are read here; its end is
			 * checked by what is read after it. */
			if (off + sizeof(*oh) > len)
				return sw_short(pkt);
			if ((void *)(oh + 1) > end)
				return SW_P_MALFORMED;
			nh = oh->nexthdr;
			/* AH counts 32-bit words minus 2, the others 8-octet
			 * units minus 1 (RFC 4302, RFC 8200). */
			if (cur == IPPROTO_AH)
				off += (oh->hdrlen + 2) * 4;
			else
				off += (oh->hdrlen + 1) * 8;
		}
	}
	/* More extension headers than we walk: could hide UDP. */
	if (sw_is_ip6_ext(nh) || off > SW_IP6_EXT_SPAN)
		return SW_P_MALFORMED;
	if (!sw_is_udp(nh))
		return SW_P_OTHER;
	return sw_parse_udp(l3, off, len, end, pkt);
}

static __always_inline int sw_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Ethernet with up to SW_VLAN_MAX VLAN tags (802.1Q / 802.1ad), then IP.
 * tags: tags already taken out of the frame (TC: the skb's accelerated tag),
 * counted against SW_VLAN_MAX so both hooks judge the same frame alike.
 */
static __always_inline int sw_parse(void *data, void *end, __u32 tags, struct sw_pkt *pkt)
{
	struct ethhdr *eth = data;
	void *p = eth + 1;
	__be16 proto;
	int i;

	if (p > end)
		return SW_P_OTHER;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < SW_VLAN_MAX; i++) {
		struct sw_vlan_hdr *vh = p;

		if (!sw_is_vlan(proto) || tags >= SW_VLAN_MAX)
			break;
		if ((void *)(vh + 1) > end)
			return SW_P_OTHER;
		proto = vh->proto;
		p = vh + 1;
		tags++;
	}
	pkt->tags = tags;
	if (sw_is_vlan(proto))
		return SW_P_VLAN_DEEP;
	if (proto == bpf_htons(ETH_P_IP))
		return sw_parse_ip4(p, end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return sw_parse_ip6(p, end, pkt);
	return SW_P_OTHER;
}

static __always_inline int sw_in_media(__be16 port)
{
	__u16 p = bpf_ntohs(port);

	return p >= media_lo && p <= media_hi;
}

static __always_inline int sw_addr_eq(const __u8 *a, const __u32 *b)
{
	const __u32 *w = (const __u32 *)a; /* sw_source.addr is 4-aligned */

	return ((w[0] ^ b[0]) | (w[1] ^ b[1]) | (w[2] ^ b[2]) | (w[3] ^ b[3])) == 0;
}

static __always_inline int sw_source_ok(const struct sw_source *s, const struct sw_pkt *pkt)
{
	if (!(s->flags & SW_SRC_ACTIVE) || !sw_addr_eq(s->addr, pkt->saddr))
		return 0;
	switch (s->check) {
	case SW_CHECK_STRICT:
		return s->port == pkt->sport;
	case SW_CHECK_ADDRESS:
		return 1;
	case SW_CHECK_SYMMETRIC:
		return !(s->flags & SW_SRC_LEARNED) || s->port == pkt->sport;
	}
	return 0;
}

/*
 * One hash lookup on the destination, then the pinhole's own sources.
 *
 * The pinhole's counters are updated with plain loads and stores, not
 * lock-prefixed atomics: the atomics were a third of the hit's cost
 * (docs/benchmarks.md). A media flow is one 5-tuple, which RSS steers to one
 * RX queue and so one CPU; only if two CPUs pass packets of the same pinhole
 * at the same instant can an increment be lost. The counters feed statistics
 * and idle expiry (last_seen_ns, which any packet refreshes), never a
 * verdict, so an undercount by a packet is harmless.
 */
/* DSCP for a pinhole's media (SW_CFG_DSCP), + 1 as sw_pkt.dscp holds it. */
static __always_inline __u8 sw_dscp_of(const struct sw_config *c, const struct sw_pinhole_hot *ph)
{
	__u8 d = SW_DSCP_KEEP;

	if (!c || !(c->flags & SW_CFG_DSCP))
		return 0;
	if (ph->media == SW_MEDIA_AUDIO)
		d = c->dscp_audio;
	else if (ph->media == SW_MEDIA_VIDEO)
		d = c->dscp_video;
	return d < 64 ? d + 1 : 0;
}

/* A source matched: count the packet. */
static __always_inline __u32 sw_media_pass(struct sw_pkt *pkt, const struct sw_config *c,
					   struct sw_pinhole_hot *ph)
{
	/* Plain adds, not atomics (see above). CLOCK_MONOTONIC at tick
	 * resolution: idle expiry needs seconds, and the precise clock costs
	 * ~50 ns per packet in a VM (docs/benchmarks.md). */
	ph->packets++;
	ph->bytes += pkt->l3_len;
	ph->last_seen_ns = bpf_ktime_get_coarse_ns();
	pkt->dscp = sw_dscp_of(c, ph);
	return SW_R_PASSED_PINHOLE;
}

static __always_inline __u32 sw_judge_media(struct sw_pkt *pkt, const struct sw_config *c)
{
	struct sw_pinhole_key key = {};
	struct sw_pinhole_hot *ph;
	struct sw_ph_srcs *more;
	int i;

	__builtin_memcpy(key.addr, pkt->daddr, 16);
	key.port = pkt->dport;
	key.proto = IPPROTO_UDP;
	ph = bpf_map_lookup_elem(&sw_pinholes, &key);
	if (!ph)
		return SW_R_DROPPED_NO_PINHOLE;
	/* The common case: the first source, in the hot line. */
	if (sw_source_ok(&ph->src, pkt))
		return sw_media_pass(pkt, c, ph);
	if (ph->flags & SW_PH_MORE) {
		more = bpf_map_lookup_elem(&sw_ph_srcs, &key);
		if (more) {
#pragma unroll
			for (i = 0; i < SW_MAX_SOURCES - 1; i++)
				if (sw_source_ok(&more->src[i], pkt))
					return sw_media_pass(pkt, c, ph);
		}
	}
	ph->drops++;
	return SW_R_DROPPED_BAD_SOURCE;
}

static __always_inline int sw_is_sig_port(const struct sw_config *c, __be16 port)
{
	__u16 p = bpf_ntohs(port);

	return p && (p == c->sig_ports[0] || p == c->sig_ports[1] || p == c->sig_ports[2] ||
		     p == c->sig_ports[3]);
}

static __always_inline int sw_is_v4mapped(const __u32 *a)
{
	return (a[0] | a[1]) == 0 && a[2] == bpf_htonl(0xffff);
}

/* Prefix length in v4-mapped terms for a family's configured prefix; 0 or
 * out of range means per address. */
static __always_inline __u32 sw_plen(const __u32 *a, __u8 v4, __u8 v6)
{
	if (sw_is_v4mapped(a))
		return v4 && v4 <= 32 ? 96 + v4 : 128;
	return v6 && v6 <= 128 ? v6 : 128;
}

/* The source, host bits beyond plen zeroed, into a 16-byte key. */
static __always_inline void sw_masked(__u32 *out, const __u32 *a, __u32 plen)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 keep = plen > i * 32 ? plen - i * 32 : 0;

		if (keep >= 32)
			out[i] = a[i];
		else if (keep)
			out[i] = a[i] & bpf_htonl(~0U << (32 - keep));
		else
			out[i] = 0;
	}
}

/* An unexpired ban on the source's prefix drops the packet. The clock is
 * read only on a hit, so an empty or non-matching list costs one lookup. */
static __always_inline int sw_banned(const struct sw_config *c, const struct sw_pkt *pkt)
{
	struct sw_ban_key k;
	struct sw_ban *b;

	sw_masked((__u32 *)k.addr, pkt->saddr,
		  sw_plen(pkt->saddr, c->ban_prefix_v4, c->ban_prefix_v6));
	b = bpf_map_lookup_elem(&sw_bans, &k);
	if (!b)
		return 0;
	/* Expired: no longer drops; userspace removes it (sw_ban_gc). */
	if (b->expires_ns && b->expires_ns < bpf_ktime_get_coarse_ns())
		return 0;
	b->packets++; /* plain add, like the pinhole counters */
	return 1;
}

/*
 * Flood guard for UDP to a signalling port: a token bucket per source prefix
 * (flood_prefix_v4/v6), refilled at flood_rate packets/s up to flood_burst.
 * Trusted networks are exempt. The bucket is updated without atomics: two
 * CPUs judging the same source at once may lose a refill or a spend, which
 * moves the limit by a packet, not the verdict's meaning.
 */
static __always_inline __u32 sw_flood_judge(const struct sw_config *c, const struct sw_pkt *pkt)
{
	struct sw_lpm_key lk = {.prefixlen = 128};
	struct sw_flood_key fk;
	struct sw_bucket *b;
	__u64 now, cap, tokens;
	__u32 rate = c->flood_rate;

	if (!(c->flags & SW_CFG_FLOOD_GUARD) || !rate)
		return SW_R_PASSED_SIGNALLING;
	if (rate > SW_FLOOD_RATE_MAX)
		rate = SW_FLOOD_RATE_MAX;
	__builtin_memcpy(lk.addr, pkt->saddr, 16);
	if (bpf_map_lookup_elem(&sw_trusted, &lk))
		return SW_R_PASSED_TRUSTED;

	sw_masked((__u32 *)fk.addr, pkt->saddr,
		  sw_plen(pkt->saddr, c->flood_prefix_v4, c->flood_prefix_v6));
	cap = (__u64)(c->flood_burst ? c->flood_burst : 1) << 16;
	now = bpf_ktime_get_coarse_ns();
	b = bpf_map_lookup_elem(&sw_flood, &fk);
	if (!b) {
		struct sw_bucket nb = {.tokens = cap - SW_TOKEN_ONE, .last_ns = now};

		/* A full bucket, this packet spent. Another CPU may have
		 * made it meanwhile: then keep theirs. */
		bpf_map_update_elem(&sw_flood, &fk, &nb, BPF_NOEXIST);
		return SW_R_PASSED_SIGNALLING;
	}
	tokens = b->tokens;
	if (now > b->last_ns) {
		__u64 el = now - b->last_ns;

		if (el > SW_FLOOD_MAX_ELAPSED)
			el = SW_FLOOD_MAX_ELAPSED;
		/* el ns at rate/s, in packets << 16: el * rate * 2^16 / 1e9;
		 * 1e9 / 2^14 = 61035.15625, so 4 * el * rate / 61035 is within
		 * 3 ppm. */
		tokens += (el * rate * 4) / 61035;
		b->last_ns = now;
	}
	if (tokens > cap)
		tokens = cap;
	if (tokens < SW_TOKEN_ONE) {
		b->tokens = tokens;
		b->dropped++;
		return SW_R_DROPPED_FLOOD;
	}
	b->tokens = tokens - SW_TOKEN_ONE;
	return SW_R_PASSED_SIGNALLING;
}

/*
 * UDP with a header: media (the pinhole), signalling (the flood guard), or
 * not ours. A banned source is dropped first on media and signalling ports
 * only: other traffic from it is left to the firewall's own rules.
 */
static __always_inline __u32 sw_judge_udp(struct sw_pkt *pkt)
{
	struct sw_config *c;
	__u32 zero = 0;
	int media = sw_in_media(pkt->dport);

	/* An array lookup: inlined by the verifier, never NULL for key 0. */
	c = bpf_map_lookup_elem(&sw_config, &zero);
	if (!c)
		return media ? sw_judge_media(pkt, NULL) : SW_R_PASSED_NOT_MEDIA;
	if (!media && !sw_is_sig_port(c, pkt->dport))
		return SW_R_PASSED_NOT_MEDIA;
	if ((c->flags & SW_CFG_BANS_ACTIVE) && sw_banned(c, pkt))
		return SW_R_DROPPED_BANNED;
	if (media)
		return sw_judge_media(pkt, c);
	return sw_flood_judge(c, pkt);
}

static __always_inline void sw_frag_key(struct sw_frag_key *k, const struct sw_pkt *pkt)
{
	__builtin_memcpy(k->saddr, pkt->saddr, 16);
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
	k->id = pkt->frag_id;
	k->proto = pkt->proto;
}

static __always_inline void sw_frag_remember(const struct sw_pkt *pkt, __u32 reason)
{
	struct sw_frag_key k = {};
	struct sw_frag_val v = {};

	sw_frag_key(&k, pkt);
	v.seen_ns = bpf_ktime_get_ns();
	v.verdict = sw_passes(reason);
	bpf_map_update_elem(&sw_frags, &k, &v, BPF_ANY);
}

/* A later fragment follows its first: it passes only if the first passed,
 * recently. Arriving before its first, it finds nothing and is dropped. */
static __always_inline __u32 sw_frag_follow(const struct sw_pkt *pkt)
{
	struct sw_frag_key k = {};
	struct sw_frag_val *v;

	sw_frag_key(&k, pkt);
	v = bpf_map_lookup_elem(&sw_frags, &k);
	if (v && v->verdict && bpf_ktime_get_ns() - v->seen_ns < SW_FRAG_TTL_NS)
		return SW_R_PASSED_FRAGMENT;
	return SW_R_DROPPED_FRAGMENT;
}

static __always_inline __u32 sw_judge(void *data, void *end, __u32 tags, struct sw_pkt *pkt)
{
	__u32 reason;

	switch (sw_parse(data, end, tags, pkt)) {
	case SW_P_UDP:
		reason = sw_judge_udp(pkt);
		break;
	case SW_P_MALFORMED:
		reason = SW_R_DROPPED_MALFORMED;
		break;
	case SW_P_VLAN_DEEP:
		return SW_R_DROPPED_VLAN_DEPTH;
	case SW_P_FRAG_CHAIN:
		reason = SW_R_DROPPED_FRAG_HEADER_CHAIN;
		break;
	case SW_P_LATER:
		if (pkt->later_safe)
			return SW_R_PASSED_NOT_MEDIA;
		return sw_frag_follow(pkt);
	default:
		reason = SW_R_PASSED_NOT_MEDIA;
		break;
	}
	if (pkt->first_frag)
		sw_frag_remember(pkt, reason);
	return reason;
}

/* Not in the BPF headers (sys/socket.h is userspace). */
#define SW_AF_INET	     2
#define SW_AF_INET6	     10
#define SW_IP6_FLOWINFO_MASK 0x0fffffff

/*
 * RFC 1624 eqn. 3: a checksum over 16-bit words where one word changes,
 * HC' = ~(~HC + ~m + m'), in one's complement arithmetic. Byte order does
 * not matter to a one's complement sum, so the raw words are used as read.
 */
static __always_inline void sw_csum_replace(__sum16 *sum, __u16 old, __u16 new)
{
	__u32 c = (__u16) ~*sum + (__u16)~old + new;

	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	*sum = (__sum16)~c;
}

/*
 * DSCP marking of media that passed its pinhole (sw_config SW_CFG_DSCP):
 * the six DSCP bits of the IPv4 TOS byte (checksum fixed incrementally) or
 * of the IPv6 traffic class; ECN bits kept. Before forwarding, so a frame
 * forwarded or handed to the stack carries the mark alike.
 */
static __always_inline void sw_mark(struct xdp_md *ctx, const struct sw_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	/* tags <= SW_VLAN_MAX: a bounded offset the verifier can follow */
	void *l3 = data + sizeof(struct ethhdr) + (pkt->tags & 3) * sizeof(struct sw_vlan_hdr);
	__u8 dscp = pkt->dscp - 1;

	if (pkt->v6) {
		__u8 *b = l3;
		__u8 tc;

		if (l3 + sizeof(struct ipv6hdr) > end)
			return;
		tc = (__u8)(b[0] << 4 | b[1] >> 4);
		tc = (__u8)(dscp << 2 | (tc & 3));
		b[0] = (__u8)((b[0] & 0xf0) | tc >> 4);
		b[1] = (__u8)((b[1] & 0x0f) | tc << 4);
	} else {
		struct iphdr *iph = l3;
		__u16 old;

		if (l3 + sizeof(*iph) > end)
			return;
		old = *(__u16 *)iph; /* the word of version/ihl and TOS */
		iph->tos = (__u8)(dscp << 2 | (iph->tos & 3));
		sw_csum_replace(&iph->check, old, *(__u16 *)iph);
	}
}

/*
 * A packet that passed its pinhole, forwarded from XDP: routed by the
 * kernel's FIB (policy routing and neighbours included, as for the ingress
 * device), MACs from the lookup, TTL / hop limit decremented, redirected
 * through sw_fwd_devs. One 802.1Q tag is understood through sw_fwd_vlans:
 * the lookup starts from the tag's VLAN device, and a route out of a VLAN
 * device leaves its lower device with that device's VID (the tag's VID
 * rewritten, priority bits kept; never pushed or popped). Whatever the fast
 * path cannot be sure of goes to the stack unchanged (XDP_PASS), counted
 * by why; *act is the action.
 */
static __always_inline __u32 sw_forward(struct xdp_md *ctx, const struct sw_pkt *pkt, int *act)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth = data;
	struct sw_vlan_hdr *vh = (void *)(eth + 1);
	/* tags is 0 or 1 from here on: a bounded offset */
	void *l3 = (void *)(eth + 1) + (pkt->tags ? sizeof(*vh) : 0);
	struct ipv6hdr *ip6 = l3;
	struct iphdr *iph = l3;
	struct sw_vlan_key vk = {};
	struct sw_vlan_dev *vd;
	struct sw_config *cfg;
	__u32 in_if = ctx->ingress_ifindex, out_if, zero = 0;
	__u16 in_tci = 0, out_vid = 0;
	int out_tagged = 0;
	__u16 old;
	long rc;

	*act = XDP_PASS;
	if (pkt->tags) {
		/* One 802.1Q tag of a VLAN device the loader recorded; QinQ,
		 * 802.1ad and unknown VIDs are the stack's. A VID-0 (priority)
		 * tag belongs to the interface itself. */
		if ((void *)(vh + 1) > end || pkt->tags != 1 ||
		    eth->h_proto != bpf_htons(ETH_P_8021Q))
			return SW_R_FWD_VLAN;
		in_tci = bpf_ntohs(vh->tci);
		if (in_tci & 0x0fff) {
			vk.ifindex = ctx->ingress_ifindex;
			vk.vid = in_tci & 0x0fff;
			vk.dir = SW_VLAN_IN;
			vd = bpf_map_lookup_elem(&sw_fwd_vlans, &vk);
			if (!vd)
				return SW_R_FWD_VLAN;
			in_if = vd->ifindex;
		}
	}
	if (pkt->first_frag)
		return SW_R_FWD_FRAGMENT;
	/* Options and extension headers may ask routers for something
	 * (router alert, source routes): the stack's job. */
	if (pkt->opts)
		return SW_R_FWD_OPTIONS;
	if (pkt->v6) {
		if ((void *)(ip6 + 1) > end)
			return SW_R_PASSED_PINHOLE;
		/* The stack answers with ICMP time exceeded. */
		if (ip6->hop_limit <= 1)
			return SW_R_FWD_TTL;
		fib.family = SW_AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(SW_IP6_FLOWINFO_MASK);
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	} else {
		if ((void *)(iph + 1) > end)
			return SW_R_PASSED_PINHOLE;
		if (iph->ttl <= 1)
			return SW_R_FWD_TTL;
		fib.family = SW_AF_INET;
		fib.tos = iph->tos;
		fib.l4_protocol = iph->protocol;
		fib.tot_len = bpf_ntohs(iph->tot_len);
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
	}
	fib.sport = pkt->sport;
	fib.dport = pkt->dport;
	fib.ifindex = in_if;

	/* Flags 0: the full lookup (fib rules, neighbour table, MTU). */
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return SW_R_FWD_NO_NEIGH; /* the stack resolves it */
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return SW_R_FWD_FRAG_NEEDED; /* fragments, or ICMP */
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return SW_R_FWD_LOCAL; /* local delivery */
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return SW_R_FWD_DISABLED; /* forwarding sysctl off */
	default:
		return SW_R_FWD_NO_ROUTE; /* no route, blackhole, LWT, error */
	}
	/* Out of a recorded VLAN device: its lower device, with its tag.
	 * Looked up only while the loader recorded any (a tagged frame got
	 * this far only through a recorded one): no hash lookup per packet
	 * on a firewall without VLANs. */
	out_if = fib.ifindex;
	cfg = bpf_map_lookup_elem(&sw_config, &zero);
	if (pkt->tags || !cfg || (cfg->flags & SW_CFG_FWD_VLANS)) {
		vk.ifindex = fib.ifindex;
		vk.vid = 0;
		vk.dir = SW_VLAN_OUT;
		vd = bpf_map_lookup_elem(&sw_fwd_vlans, &vk);
		if (vd) {
			out_if = vd->ifindex;
			out_vid = vd->vid & 0x0fff;
			out_tagged = 1;
		}
	}
	/* Before touching the frame: an egress device outside the set
	 * leaves it unchanged for the stack. */
	if (bpf_redirect_map(&sw_fwd_devs, out_if, XDP_PASS) != XDP_REDIRECT)
		return SW_R_FWD_NOT_ALLOWED;
	/* A tag to push or pop changes the frame's length, which takes
	 * bpf_xdp_adjust_head(): a program calling it is one that "changes
	 * packet data", and since Linux 6.13 (and Debian's 6.12) the verifier
	 * refuses such a program as an extension of libxdp's dispatcher,
	 * whose slots do not. Only the tag's VID is rewritten here; a frame
	 * that enters or leaves untagged on one side takes the stack. */
	if (!!pkt->tags != out_tagged)
		return SW_R_FWD_VLAN;

	/* Bounds as checked above (helpers that do not change packet data
	 * keep the verifier's ranges). */
	if (pkt->v6) {
		ip6->hop_limit--;
	} else {
		old = *(__u16 *)&iph->ttl; /* the word of ttl and protocol */
		iph->ttl--;
		sw_csum_replace(&iph->check, old, *(__u16 *)&iph->ttl);
	}
	/* tagged in and out: the VID replaced, priority and DEI kept */
	if (pkt->tags && (void *)(vh + 1) <= end)
		vh->tci = bpf_htons((in_tci & 0xf000) | out_vid);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	*act = XDP_REDIRECT;
	return SW_R_FORWARDED;
}

SEC("xdp")
int sipwall_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct sw_pkt pkt = {};
	__u32 reason = sw_judge(data, end, 0, &pkt);
	int act = XDP_PASS;

	if (pkt.dscp && reason == SW_R_PASSED_PINHOLE)
		sw_mark(ctx, &pkt);
	if (fwd_enabled && reason == SW_R_PASSED_PINHOLE) {
		reason = sw_forward(ctx, &pkt, &act);
		if (act == XDP_REDIRECT) {
			sw_count(reason, end - data);
			return act;
		}
	}
	return sw_count(reason, end - data) ? XDP_PASS : XDP_DROP;
}

/* Direct access covers only the linear part; headers may be paged. */
static __always_inline void sw_tc_linearize(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 len = skb->len < SW_TC_PULL ? skb->len : SW_TC_PULL;

	if (data + len > end)
		bpf_skb_pull_data(skb, len);
}

SEC("tc")
int sipwall_tc_in(struct __sk_buff *skb)
{
	struct sw_pkt pkt = {};
	__u32 reason;

	sw_tc_linearize(skb);
	/* The stack moved the outermost tag out of the frame (skb_vlan_untag
	 * runs before TC ingress): it still counts. */
	reason = sw_judge((void *)(long)skb->data, (void *)(long)skb->data_end,
			  skb->vlan_present ? 1 : 0, &pkt);
	return sw_count(reason, skb->len) ? TC_ACT_OK : TC_ACT_SHOT;
}

/*
 * Learn where the protected endpoint sends media: that address:port is the
 * only source its SW_CHECK_SYMMETRIC slots accept from then on. Prefer a slot
 * already learned for this peer, then an unlearned one naming the peer's SDP
 * address, then any unlearned one; a single symmetric slot always follows.
 */
static __always_inline __u32 sw_learn(struct sw_pkt *pkt)
{
	struct sw_pinhole_key key = {};
	struct sw_source *pick = NULL;
	struct sw_pinhole_hot *ph;
	struct sw_ph_srcs *more = NULL;
	int i, rank = 0, nsym = 0;

	if (!sw_in_media(pkt->sport))
		return SW_R_EGRESS_PASSED;
	__builtin_memcpy(key.addr, pkt->saddr, 16);
	key.port = pkt->sport;
	key.proto = IPPROTO_UDP;
	ph = bpf_map_lookup_elem(&sw_pinholes, &key);
	if (!ph)
		return SW_R_EGRESS_PASSED;
	if (ph->flags & SW_PH_MORE)
		more = bpf_map_lookup_elem(&sw_ph_srcs, &key);
#pragma unroll
	for (i = 0; i < SW_MAX_SOURCES; i++) {
		struct sw_source *s;
		int r;

		if (i == 0)
			s = &ph->src;
		else if (more)
			s = &more->src[i - 1];
		else
			break;
		if (!(s->flags & SW_SRC_ACTIVE) || s->check != SW_CHECK_SYMMETRIC)
			continue;
		nsym++;
		if (!sw_addr_eq(s->addr, pkt->daddr))
			r = s->flags & SW_SRC_LEARNED ? 0 : 1;
		else if (!(s->flags & SW_SRC_LEARNED))
			r = 2;
		else
			r = s->port == pkt->dport ? 3 : 0;
		if (!pick || r > rank) {
			pick = s;
			rank = r;
		}
	}
	/* Several symmetric slots all learned to other peers: each belongs
	 * to another fork; do not steal one. */
	if (!pick || (rank == 0 && nsym > 1))
		return SW_R_EGRESS_PASSED;
	if (rank < 3) {
		__builtin_memcpy(pick->addr, pkt->daddr, 16);
		pick->port = pkt->dport;
		pick->flags |= SW_SRC_LEARNED;
	}
	return SW_R_EGRESS_LEARNED;
}

SEC("tc")
int sipwall_tc_eg(struct __sk_buff *skb)
{
	struct sw_pkt pkt = {};
	__u32 reason = SW_R_EGRESS_PASSED;

	sw_tc_linearize(skb);
	if (sw_parse((void *)(long)skb->data, (void *)(long)skb->data_end,
		     skb->vlan_present ? 1 : 0, &pkt) == SW_P_UDP)
		reason = sw_learn(&pkt);
	sw_count(reason, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
