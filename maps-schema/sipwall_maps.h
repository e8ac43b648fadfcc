/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sipwall map contract: the only place a map key, value or reason code is
 * defined. Included by bpf/ (clang -target bpf) and by every userspace part.
 * Fixed-width types, explicit padding, sizes pinned by _Static_assert; the
 * BTF layout test (tests/btf) checks the compiled object against this file.
 *
 * Addresses are always 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d)
 * so one map and one code path serve both families. Ports are network order.
 */
#ifndef SIPWALL_MAPS_H
#define SIPWALL_MAPS_H

#include <linux/types.h>

#define SW_PIN_ROOT_DEFAULT "/sys/fs/bpf/sipwall"

/* Map names (also the pin file names under the pin root). */
#define SW_MAP_PINHOLES	 "sw_pinholes"
#define SW_MAP_STATS	 "sw_stats"
#define SW_MAP_FRAGS	 "sw_frags"
#define SW_MAP_CONFIG	 "sw_config"
#define SW_MAP_IFACES	 "sw_ifaces"
#define SW_MAP_BANS	 "sw_bans"
#define SW_MAP_FLOOD	 "sw_flood"
#define SW_MAP_TRUSTED	 "sw_trusted"
#define SW_MAP_FWD_DEVS	 "sw_fwd_devs"
#define SW_MAP_CALLS	 "sw_calls"
#define SW_MAP_PH_SRCS	 "sw_ph_srcs"
#define SW_MAP_FWD_VLANS "sw_fwd_vlans"

#define SW_MEDIA_LO_DEFAULT	10000
#define SW_MEDIA_HI_DEFAULT	20000
#define SW_MAX_PINHOLES_DEFAULT 65536
#define SW_FRAGS_MAX		16384
#define SW_MAX_SOURCES		4
#define SW_CALL_ID_LEN		48
#define SW_BANS_MAX		65536
#define SW_FLOOD_MAX		65536
#define SW_TRUSTED_MAX		1024
#define SW_SIG_PORTS		4
#define SW_FWD_DEVS_MAX		64
#define SW_FWD_VLANS_MAX	2048 /* two entries per VLAN device */
/* sw_ph_srcs holds the sources beyond the first of forked early media: a
 * rare case, so it is sized to a fraction of the pinholes (at least
 * SW_PH_SRCS_MIN entries). */
#define SW_PH_SRCS_DIV 16
#define SW_PH_SRCS_MIN 1024

/*
 * Packet verdict reasons. One list feeds the enum, the string table in
 * userspace, counters, logs and tests, so a name is spelled once. New
 * reasons are appended; the forward_fallback_* block (all passes, XDP_PASS)
 * stays contiguous from FWD_NO_NEIGH to FWD_VLAN.
 */
#define SW_REASONS(X)                                             \
	X(PASSED_NOT_MEDIA, "passed_not_media")                   \
	X(PASSED_PINHOLE, "passed_pinhole")                       \
	X(PASSED_FRAGMENT, "passed_fragment")                     \
	X(DROPPED_NO_PINHOLE, "dropped_no_pinhole")               \
	X(DROPPED_BAD_SOURCE, "dropped_bad_source")               \
	X(DROPPED_FRAGMENT, "dropped_fragment")                   \
	X(DROPPED_MALFORMED, "dropped_malformed")                 \
	X(DROPPED_BANNED, "dropped_banned")                       \
	X(DROPPED_FLOOD, "dropped_flood")                         \
	X(EGRESS_LEARNED, "egress_learned")                       \
	X(EGRESS_PASSED, "egress_passed")                         \
	X(PASSED_SIGNALLING, "passed_signalling")                 \
	X(PASSED_TRUSTED, "passed_trusted")                       \
	X(DROPPED_VLAN_DEPTH, "dropped_vlan_depth")               \
	X(DROPPED_FRAG_HEADER_CHAIN, "dropped_frag_header_chain") \
	X(FORWARDED, "forwarded")                                 \
	X(FWD_NO_NEIGH, "forward_fallback_no_neigh")              \
	X(FWD_FRAG_NEEDED, "forward_fallback_frag_needed")        \
	X(FWD_TTL, "forward_fallback_ttl")                        \
	X(FWD_OPTIONS, "forward_fallback_options")                \
	X(FWD_FRAGMENT, "forward_fallback_fragment")              \
	X(FWD_NO_ROUTE, "forward_fallback_no_route")              \
	X(FWD_LOCAL, "forward_fallback_local")                    \
	X(FWD_DISABLED, "forward_fallback_disabled")              \
	X(FWD_NOT_ALLOWED, "forward_fallback_not_allowed")        \
	X(FWD_VLAN, "forward_fallback_vlan")

enum sw_reason {
#define SW_X_ENUM(name, str) SW_R_##name,
	SW_REASONS(SW_X_ENUM)
#undef SW_X_ENUM
		SW_R_MAX,
};

/*
 * SIP message drop reasons (sipd). Same rule: one list for the enum, the
 * string table, the event log, `sipd check` output and the tests. Code 0 is
 * "accepted"; parse/validate stages return -SW_SIP_R_x.
 */
#define SW_SIP_REASONS(X)                                   \
	X(ACCEPTED, "accepted")                             \
	X(PARSE_ERROR, "sip_parse_error")                   \
	X(TOO_LARGE, "sip_too_large")                       \
	X(TOO_MANY_HEADERS, "sip_too_many_headers")         \
	X(LINE_TOO_LONG, "sip_line_too_long")               \
	X(BAD_START_LINE, "sip_bad_start_line")             \
	X(BAD_VERSION, "sip_bad_version")                   \
	X(BAD_STATUS, "sip_bad_status")                     \
	X(BAD_CSEQ, "sip_bad_cseq")                         \
	X(CSEQ_METHOD_MISMATCH, "sip_cseq_method_mismatch") \
	X(BAD_CONTENT_LENGTH, "sip_bad_content_length")     \
	X(BODY_TRUNCATED, "sip_body_truncated")             \
	X(MISSING_HEADER, "sip_missing_header")             \
	X(DUPLICATE_HEADER, "sip_duplicate_header")         \
	X(BAD_HEADER, "sip_bad_header")                     \
	X(BAD_MAX_FORWARDS, "sip_bad_max_forwards")         \
	X(BAD_VIA, "sip_bad_via")                           \
	X(BAD_URI, "sip_bad_uri")                           \
	X(BAD_FROM_TO, "sip_bad_from_to")                   \
	X(VIA_LOOP, "sip_via_loop")                         \
	X(BAD_SDP, "sip_bad_sdp")                           \
	X(FILTER_DROP, "sip_filter_drop")                   \
	X(NOT_WHITELISTED, "sip_not_whitelisted")           \
	X(PINHOLE_FAILED, "sip_pinhole_failed")             \
	X(RATE_LIMITED, "sip_rate_limited")                 \
	X(DIALOG_LIMIT, "sip_dialog_limit")                 \
	X(BAD_PACKET, "sip_bad_packet")                     \
	X(TRAILING_DATA, "sip_trailing_data")               \
	X(BANNED, "sip_banned")                             \
	X(SCANNER, "sip_scanner")                           \
	X(PINHOLE_LIMIT, "sip_pinhole_limit")               \
	X(BAD_CHECKSUM, "sip_bad_checksum")                 \
	X(SPOOFED_SOURCE, "sip_spoofed_source")             \
	X(UNMATCHED_RESPONSE, "sip_unmatched_response")     \
	X(UNMATCHED_ANSWER, "sip_unmatched_answer")         \
	X(WRONG_SIDE, "sip_wrong_side")                     \
	X(BAD_MEDIA_ADDRESS, "sip_bad_media_address")       \
	X(TRANSACTION_LIMIT, "sip_transaction_limit")       \
	X(STREAM_REJECTED, "sip_stream_rejected")           \
	X(STREAM_OVERLAP, "sip_stream_overlap")             \
	X(TRANSPORT_MISMATCH, "sip_transport_mismatch")     \
	X(UNINSPECTABLE, "sip_uninspectable")

enum sw_sip_reason {
#define SW_X_ENUM(name, str) SW_SIP_R_##name,
	SW_SIP_REASONS(SW_X_ENUM)
#undef SW_X_ENUM
		SW_SIP_R_MAX,
};

/* Source check modes of one allowed source. */
enum sw_check {
	SW_CHECK_STRICT = 0,	/* source address and port must match */
	SW_CHECK_ADDRESS = 1,	/* source address must match, any port */
	SW_CHECK_SYMMETRIC = 2, /* source learned by TC egress from what the
				 * protected endpoint sends to; until learned,
				 * the SDP address is checked as ADDRESS */
};

/* sw_source.flags */
#define SW_SRC_ACTIVE  (1u << 0) /* slot in use */
#define SW_SRC_LEARNED (1u << 1) /* symmetric: addr/port learned on egress */

/* sw_pinhole_hot.kind */
enum sw_kind {
	SW_KIND_RTP = 0,
	SW_KIND_RTCP = 1,
	SW_KIND_RTP_RTCP_MUX = 2,
	SW_KIND_MANUAL = 3, /* added by `sipwall pinhole add` */
};

/* sw_pinhole_hot.media: the SDP media type of the stream (m=audio, m=video). */
enum sw_media {
	SW_MEDIA_UNKNOWN = 0, /* manual pinholes, pinholes written before schema 2.1 */
	SW_MEDIA_AUDIO = 1,
	SW_MEDIA_VIDEO = 2,
	SW_MEDIA_OTHER = 3, /* text, application, image, ... */
};

/*
 * Pinholes live in three maps (schema 3):
 *
 *  sw_pinholes  (hot)   key -> struct sw_pinhole_hot: everything the packet
 *               path reads and writes per packet, in 64 bytes (one cache
 *               line): the first allowed source, kind, media, flags, the
 *               counters; plus the owner's call_hash and the creation time.
 *  sw_ph_srcs   (extra) key -> struct sw_ph_srcs: the 2nd to 4th allowed
 *               sources (forked early media). Read by the packet path only
 *               when the first source does not match and SW_PH_MORE is set.
 *  sw_calls     (cold)  call_hash -> struct sw_call: the owner's Call-ID
 *               text, once per call, for sipd's restart adoption and
 *               `sipwall pinhole list`. Never read by the packet path.
 *
 * Writers (lib/swmap.c) order their writes so the packet path never sees a
 * hot entry whose extra sources are missing: sw_ph_srcs before
 * sw_pinholes on add, sw_pinholes before sw_ph_srcs on delete.
 */
struct sw_pinhole_key {
	__u8 addr[16]; /* protected endpoint's media address (v4-mapped) */
	__be16 port;   /* protected endpoint's media port */
	__u8 proto;    /* IPPROTO_UDP */
	__u8 pad;
};

struct sw_source {
	__u8 addr[16]; /* allowed peer address (v4-mapped) */
	__be16 port;   /* allowed peer port; ignored for SW_CHECK_ADDRESS */
	__u8 check;    /* enum sw_check */
	__u8 flags;    /* SW_SRC_* */
};

/* sw_pinhole_hot.flags */
#define SW_PH_MORE   (1u << 0) /* sources 2-4 are in sw_ph_srcs under the same key */
#define SW_PH_ANSWER (1u << 1) /* side 1: the answerer's media (else the offerer's) */

/* Hot pinhole (BPF_MAP_TYPE_HASH sw_pinholes, never LRU): protected media
 * destination. */
struct sw_pinhole_hot {
	struct sw_source src; /* first allowed source */
	__u8 kind;	      /* enum sw_kind */
	__u8 media;	      /* enum sw_media, for DSCP marking */
	__u8 flags;	      /* SW_PH_* */
	__u8 media_idx;	      /* m= line index in the SDP */
	__u64 packets;	      /* passed packets */
	__u64 bytes;	      /* passed bytes, L3 length */
	__u64 last_seen_ns;   /* CLOCK_MONOTONIC (coarse) of last passed packet */
	__u64 call_hash;      /* FNV-1a 64 of the full Call-ID (sw_calls key); 0 = manual */
	__u32 drops;	      /* bad-source drops aimed at this destination */
	__u32 created_s;      /* CLOCK_MONOTONIC seconds at creation (userspace) */
};

/* Extra sources (BPF_MAP_TYPE_HASH sw_ph_srcs, same key as sw_pinholes). */
struct sw_ph_srcs {
	struct sw_source src[SW_MAX_SOURCES - 1]; /* allowed sources 2-4 */
	__u32 pad;
};

/* Owner of call pinholes (BPF_MAP_TYPE_HASH sw_calls, key __u64 call_hash). */
struct sw_call {
	char call_id[SW_CALL_ID_LEN]; /* owner Call-ID, truncated, NUL-padded */
};

/* Fragment memory (BPF_MAP_TYPE_LRU_HASH): later fragments follow the first. */
struct sw_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;   /* IPv4 id (16 bit) or IPv6 fragment id */
	__u8 proto; /* upper-layer protocol */
	__u8 pad[3];
};

struct sw_frag_val {
	__u64 seen_ns; /* when the first fragment was judged */
	__u8 verdict;  /* 1 = first fragment passed, 0 = dropped */
	__u8 pad[7];
};

/* Verdict counters (BPF_MAP_TYPE_PERCPU_ARRAY, key = enum sw_reason). */
struct sw_stat {
	__u64 packets;
	__u64 bytes;
};

/* Pin-root-wide configuration (BPF_MAP_TYPE_ARRAY, one entry, key 0).
 * Written by the loader; sipd reads the media range from here. */
struct sw_config {
	__u16 media_lo; /* host order */
	__u16 media_hi; /* host order */
	__u32 max_pinholes;
	__u32 version;		       /* SW_SCHEMA_VERSION of the writer */
	__u32 flags;		       /* SW_CFG_* */
	__u16 sig_ports[SW_SIG_PORTS]; /* SIP signalling UDP ports, host order, 0 = unused */
	__u32 flood_rate;	       /* flood guard: packets/s per source (bucket); 0 = off */
	__u32 flood_burst;	       /* flood guard: bucket depth in packets */
	__u8 flood_prefix_v4;	       /* sources aggregated per prefix (32 = per address) */
	__u8 flood_prefix_v6;	       /* e.g. 64 */
	__u8 ban_prefix_v4;	       /* bans are keyed by the source masked to this */
	__u8 ban_prefix_v6;
	__u8 dscp_audio; /* SW_CFG_DSCP: DSCP set on audio media (0-63, else kept) */
	__u8 dscp_video; /* ... on video media */
	__u16 pad;
};

/* sw_config.flags */
#define SW_CFG_BANS_ACTIVE (1u << 0) /* sw_bans may hold entries: look them up */
#define SW_CFG_FLOOD_GUARD (1u << 1) /* token bucket on sig_ports */
#define SW_CFG_DSCP	   (1u << 2) /* mark pinholed media with dscp_audio/_video */
#define SW_CFG_FWD_VLANS   (1u << 3) /* sw_fwd_vlans holds entries: forwarding looks them up */

#define SW_DSCP_AUDIO_DEFAULT 46   /* EF, RFC 3246 / RFC 4594 telephony */
#define SW_DSCP_VIDEO_DEFAULT 34   /* AF41, RFC 4594 multimedia conferencing */
#define SW_DSCP_KEEP	      0xff /* leave the packet's DSCP as it is */

/*
 * Ban reasons (who or what banned a source). Same X-macro rule.
 */
#define SW_BAN_REASONS(X)                   \
	X(MANUAL, "manual")                 \
	X(SCANNER_UA, "scanner_user_agent") \
	X(MALFORMED, "malformed_messages")  \
	X(AUTH_FAILURES, "auth_failures")   \
	X(NOT_FOUND, "user_enumeration")    \
	X(FLOOD, "flood")

enum sw_ban_reason {
#define SW_X_ENUM(name, str) SW_BAN_##name,
	SW_BAN_REASONS(SW_X_ENUM)
#undef SW_X_ENUM
		SW_BAN_MAX,
};

/* Ban list (BPF_MAP_TYPE_HASH): source masked to ban_prefix_v4/v6. */
struct sw_ban_key {
	__u8 addr[16]; /* v4-mapped, host bits beyond the ban prefix zeroed */
};

struct sw_ban {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = never */
	__u64 created_ns;
	__u64 packets;	/* dropped packets from this source */
	__u32 reason;	/* enum sw_ban_reason */
	__u8 prefixlen; /* in v4-mapped terms: 96 + v4 prefix for IPv4 */
	__u8 pad[3];
};

/* Flood guard state (BPF_MAP_TYPE_LRU_HASH: rate state, not call state). */
struct sw_flood_key {
	__u8 addr[16]; /* source masked to flood_prefix_v4/v6 */
};

struct sw_bucket {
	__u64 tokens;  /* fixed point: packets << 16 */
	__u64 last_ns; /* last refill */
	__u64 dropped; /* over-limit packets from this source */
};

/* Trusted networks (BPF_MAP_TYPE_LPM_TRIE): exempt from the flood guard. */
struct sw_lpm_key {
	__u32 prefixlen; /* in v4-mapped terms: 96 + v4 prefix for IPv4 */
	__u8 addr[16];
};

/* sw_iface_info.mode */
enum sw_attach_mode {
	SW_MODE_NATIVE = 1,
	SW_MODE_GENERIC = 2,
	SW_MODE_TC = 3,
};

/* sw_iface_info.flags */
#define SW_IF_DISPATCHER (1u << 0) /* attached through libxdp's dispatcher */
#define SW_IF_EGRESS	 (1u << 1) /* TC egress learner attached */
#define SW_IF_FORWARD	 (1u << 2) /* attach --forward: pinholed media forwarded in XDP */

/*
 * Attached interfaces (BPF_MAP_TYPE_HASH). An ifindex is unique only within
 * its network namespace, and one pin root may serve interfaces of several
 * namespaces (containers, labs), so the key names both.
 *
 * netns: the namespace's cookie (getsockopt SO_NETNS_COOKIE, Linux 5.14+:
 * never reused while the system runs), or on older kernels the inode number
 * of its nsfs file (/proc/PID/ns/net). 0 only in records carried over from
 * a schema 1 pin root whose namespace could not be verified.
 */
struct sw_iface_key {
	__u64 netns;
	__u32 ifindex;
	__u32 pad;
};

struct sw_iface_info {
	__u32 ifindex;
	__u32 mode;	      /* enum sw_attach_mode */
	__u32 prog_id;	      /* enforcement program id */
	__u32 egress_prog_id; /* TC egress learner id, 0 if none */
	__u32 priority;	      /* libxdp run priority (XDP modes) */
	__u32 flags;	      /* SW_IF_* */
	__u64 attached_ns;    /* CLOCK_MONOTONIC */
	char name[16];	      /* IFNAMSIZ */
	__u64 netns_cookie;   /* SO_NETNS_COOKIE of the namespace, 0 if unknown */
	__u32 netns_ino;      /* inode of its nsfs file (ls -l /proc/PID/ns/net, lsns) */
	__u32 pad;
};

/*
 * Egress set of XDP forwarding (BPF_MAP_TYPE_DEVMAP_HASH, key = ifindex):
 * the interfaces attached with --forward, written by the loader. The value
 * has the layout of the kernel's struct bpf_devmap_val (no devmap program).
 * Ifindexes are those of the one network namespace the forwarding
 * interfaces of a pin root live in (the loader refuses a second one).
 */
struct sw_fwd_dev {
	__u32 ifindex; /* egress device, the same as the key */
	__u32 prog;    /* devmap program: always 0 (none) */
};

/*
 * 802.1Q VLAN devices on the --forward interfaces (BPF_MAP_TYPE_HASH
 * sw_fwd_vlans), written by the loader at attach --forward, for XDP
 * forwarding of tagged media (docs/forwarding.md). Two kinds of entry:
 *   SW_VLAN_IN:  {--forward interface, VID} -> the VLAN device whose frames
 *                these are (the L3 device the FIB lookup starts from);
 *   SW_VLAN_OUT: {VLAN device, 0} -> its --forward lower device and VID
 *                (where a frame the FIB routes to the VLAN device goes, and
 *                with which tag).
 * A tagged frame or an egress VLAN device without an entry takes the stack.
 */
#define SW_VLAN_IN  0
#define SW_VLAN_OUT 1
struct sw_vlan_key {
	__u32 ifindex; /* IN: the --forward interface; OUT: the VLAN device */
	__u16 vid;     /* IN: the tag's VID (1-4094); OUT: 0 */
	__u8 dir;      /* SW_VLAN_IN or SW_VLAN_OUT */
	__u8 pad;
};

struct sw_vlan_dev {
	__u32 ifindex; /* IN: the VLAN device; OUT: its lower (--forward) device */
	__u16 vid;     /* the VLAN device's VID */
	__u16 pad;
};

/* 2: sw_ifaces keyed by (netns, ifindex); 3: pinholes split into a 64-byte
 * hot value (sw_pinholes), extra sources (sw_ph_srcs) and calls (sw_calls) */
#define SW_SCHEMA_VERSION 3
#define SW_XDP_PRIORITY	  10 /* runs before the default priority 50 */

_Static_assert(sizeof(struct sw_pinhole_key) == 20, "sw_pinhole_key layout");
_Static_assert(sizeof(struct sw_source) == 20, "sw_source layout");
_Static_assert(sizeof(struct sw_pinhole_hot) == 64, "sw_pinhole_hot layout: one cache line");
_Static_assert(sizeof(struct sw_ph_srcs) == 64, "sw_ph_srcs layout");
_Static_assert(sizeof(struct sw_call) == 48, "sw_call layout");
_Static_assert(sizeof(struct sw_frag_key) == 40, "sw_frag_key layout");
_Static_assert(sizeof(struct sw_frag_val) == 16, "sw_frag_val layout");
_Static_assert(sizeof(struct sw_stat) == 16, "sw_stat layout");
_Static_assert(sizeof(struct sw_config) == 40, "sw_config layout");
_Static_assert(sizeof(struct sw_ban_key) == 16, "sw_ban_key layout");
_Static_assert(sizeof(struct sw_ban) == 32, "sw_ban layout");
_Static_assert(sizeof(struct sw_flood_key) == 16, "sw_flood_key layout");
_Static_assert(sizeof(struct sw_bucket) == 24, "sw_bucket layout");
_Static_assert(sizeof(struct sw_lpm_key) == 20, "sw_lpm_key layout");
_Static_assert(sizeof(struct sw_iface_key) == 16, "sw_iface_key layout");
_Static_assert(sizeof(struct sw_iface_info) == 64, "sw_iface_info layout");
_Static_assert(sizeof(struct sw_fwd_dev) == 8, "sw_fwd_dev layout");
_Static_assert(sizeof(struct sw_vlan_key) == 8, "sw_vlan_key layout");
_Static_assert(sizeof(struct sw_vlan_dev) == 8, "sw_vlan_dev layout");

#endif /* SIPWALL_MAPS_H */
