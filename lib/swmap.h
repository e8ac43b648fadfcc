/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace access to sipwall's pinned maps, shared by the sipwall CLI, sipd
 * and the tests. Every function returns 0 or a negative errno and never
 * prints; callers decide how to report.
 */
#ifndef SW_LIB_SWMAP_H
#define SW_LIB_SWMAP_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall_maps.h"

struct sw_maps {
	int pinholes; /* fds, -1 when not open; sw_pinholes (hot values) */
	int ph_srcs;  /* sw_ph_srcs: sources 2-4 */
	int calls;    /* sw_calls: owners' Call-IDs */
	int stats;
	int frags;
	int config;
	int ifaces;
	int bans;    /* sw_bans; the DoS maps are -1 when the pin root */
	int flood;   /* sw_flood; predates them (their functions then */
	int trusted; /* sw_trusted; return -ENOENT) */
	char root[256];
};

/* Open the pinned maps under pin_root (NULL = SW_PIN_ROOT_DEFAULT). On
 * error every fd is -1; SW_MAPS_INIT gives a closed set for early exits. */
#define SW_MAPS_INIT                                                                  \
	{                                                                             \
		.pinholes = -1, .ph_srcs = -1, .calls = -1, .stats = -1, .frags = -1, \
		.config = -1, .ifaces = -1, .bans = -1, .flood = -1, .trusted = -1    \
	}
/* -EPROTO: the pin root holds pinholes of an older schema (184-byte
 * values, schema 2 and before): detach and remove the pinned maps. */
int sw_maps_open(const char *pin_root, struct sw_maps *m);
/* 0 if the map fd has schema 3's sw_pinholes key and value, -EPROTO if not. */
int sw_pinholes_layout(int fd);
void sw_maps_close(struct sw_maps *m);

/*
 * A pinhole as userspace sees it: the hot value of sw_pinholes, its extra
 * sources from sw_ph_srcs and its owner's Call-ID from sw_calls, joined.
 * The functions below split and join it; nothing else touches those maps.
 * created_ns has the map's resolution (whole seconds).
 */
struct sw_pinhole {
	struct sw_source src[SW_MAX_SOURCES]; /* several for forked early media */
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
	uint64_t last_seen_ns;
	uint64_t created_ns;
	uint64_t call_hash; /* 0 = manual */
	char call_id[SW_CALL_ID_LEN];
	uint8_t kind;
	uint8_t media_idx;
	uint8_t side;
	uint8_t media;
};
/* The split and the join (the maps' own layouts). */
void sw_pinhole_split(const struct sw_pinhole *v, struct sw_pinhole_hot *hot,
		      struct sw_ph_srcs *more);
void sw_pinhole_join(const struct sw_pinhole_hot *hot, const struct sw_ph_srcs *more,
		     const struct sw_call *call, struct sw_pinhole *v);

/* flags: BPF_ANY, BPF_NOEXIST or BPF_EXIST. Writes the extra sources (if
 * any) and the owner's Call-ID (if call_hash and call_id are set) first,
 * the hot value last; undoes the first writes if the last fails. */
int sw_pinhole_put(const struct sw_maps *m, const struct sw_pinhole_key *k,
		   const struct sw_pinhole *v, uint64_t flags);
/* Several at once (one syscall when the kernel has batch ops). */
int sw_pinhole_put_many(const struct sw_maps *m, const struct sw_pinhole_key *k,
			const struct sw_pinhole *v, unsigned int n);
int sw_pinhole_get(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v);
/* Only the hot value (counters, first source, flags): one lookup, for
 * callers that need no extra sources and no Call-ID text. */
int sw_pinhole_get_hot(const struct sw_maps *m, const struct sw_pinhole_key *k,
		       struct sw_pinhole_hot *hot);
/* The hot value first, then its extra sources; the owner's sw_calls entry
 * stays (other pinholes of the call may name it): sw_call_del, sw_call_gc. */
int sw_pinhole_del(const struct sw_maps *m, const struct sw_pinhole_key *k);
/* Read and delete in one step (BPF_MAP_LOOKUP_AND_DELETE_ELEM, one syscall
 * instead of two); -ENOENT when absent. */
int sw_pinhole_take(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v);
/* Calls cb for every pinhole; a non-zero return from cb stops the walk and is returned. */
typedef int (*sw_pinhole_cb)(const struct sw_pinhole_key *k, const struct sw_pinhole *v, void *ctx);
int sw_pinhole_foreach(const struct sw_maps *m, sw_pinhole_cb cb, void *ctx);
int sw_pinhole_count(const struct sw_maps *m, unsigned int *count);
/* The owner record of a call (its pinholes are gone): 0 or -ENOENT. */
int sw_call_del(const struct sw_maps *m, uint64_t call_hash);
/* Delete every sw_calls entry no pinhole names (a crash between a call's
 * last pinhole and its record); removed may be NULL. */
int sw_call_gc(const struct sw_maps *m, unsigned int *removed);

/* Key for a UDP media destination; port in host order. */
void sw_pinhole_key_init(struct sw_pinhole_key *k, const uint8_t addr[16], uint16_t port);

/*
 * Attached interfaces (sw_ifaces), written by the loader, keyed by network
 * namespace and ifindex. A network namespace is named by its cookie
 * (SO_NETNS_COOKIE, Linux 5.14+; 0 where the kernel has none) and the inode
 * of its nsfs file; sw_netns_id() is what keys use (the cookie, else the inode).
 */
struct sw_netns {
	uint64_t cookie;
	uint32_t ino;
};
/* The calling thread's network namespace. */
int sw_netns_self(struct sw_netns *ns);
uint64_t sw_netns_id(const struct sw_netns *ns);
/* The namespace a record was written in: 1 ours, 0 another, -1 unknown (netns 0). */
int sw_iface_in_netns(const struct sw_iface_info *info, const struct sw_netns *ns);
void sw_iface_key_init(struct sw_iface_key *k, uint64_t netns, uint32_t ifindex);
/* The key info is stored under. */
void sw_iface_key_of(const struct sw_iface_info *info, struct sw_iface_key *k);
int sw_iface_get(const struct sw_maps *m, const struct sw_iface_key *k, struct sw_iface_info *info);
typedef int (*sw_iface_cb)(const struct sw_iface_info *info, void *ctx);
/* Every record. A pin root of schema 1 (key: ifindex alone) is read too, its
 * records with netns_cookie and netns_ino 0; sw_iface_legacy() tells which. */
int sw_iface_foreach(const struct sw_maps *m, sw_iface_cb cb, void *ctx);
/* 1 if sw_ifaces has the schema 1 layout, 0 if current, negative errno. */
int sw_iface_legacy(const struct sw_maps *m);

/* Verdict counters summed over CPUs, indexed by enum sw_reason. */
int sw_stats_read(const struct sw_maps *m, struct sw_stat out[SW_R_MAX]);
int sw_config_read(const struct sw_maps *m, struct sw_config *c);
/* Replace key 0 of sw_config (the loader's read-modify-write). */
int sw_config_write(const struct sw_maps *m, const struct sw_config *c);
/* Set (on) or clear one SW_CFG_* flag of sw_config (read-modify-write,
 * nothing written when it already is so). */
int sw_config_flag(int config_fd, uint32_t flag, int on);
/* 1 if the map holds no entry, 0 if it holds one, or -errno. */
int sw_map_empty(int fd, size_t key_size);
/* Defaults of the DoS fields for a pin root that has none yet: signalling
 * ports 5060 and 5061, flood guard off (rate 0), flood prefixes /32 and /64,
 * ban prefixes /32 and /64. Leaves the other fields alone. */
void sw_config_dos_defaults(struct sw_config *c);

/*
 * Prefixes. IPv4 lives v4-mapped, so prefix lengths are in v4-mapped terms
 * (96 + n for an IPv4 /n) wherever a map stores one; the text forms use the
 * family's own length ("192.0.2.0/24", "2001:db8::/64").
 */
/* "IP" (full length) or "IP/N"; host bits beyond N must be zero unless
 * allow_host_bits. *prefixlen in v4-mapped terms. */
int sw_cidr_parse(const char *s, uint8_t addr[16], unsigned int *prefixlen, int allow_host_bits);
/* "192.0.2.0/24" / "2001:db8::/64"; a full-length prefix prints as the address. len >= 50. */
void sw_cidr_format(const uint8_t a[16], unsigned int prefixlen, char *buf, size_t len);
/* Zero the bits of a beyond prefixlen (v4-mapped terms). */
void sw_addr_mask(uint8_t a[16], unsigned int prefixlen);

/*
 * Ban list (sw_bans). A ban is keyed by the source masked to the pin root's
 * ban_prefix_v4/v6 (sw_config), the one lookup XDP makes per packet; addr is
 * masked here. ttl_ns 0 = until deleted. Adding an existing ban replaces its
 * expiry and reason (its packet count and creation time stay). Sets
 * SW_CFG_BANS_ACTIVE. Errors: -EPERM addr lies in a trusted network (those
 * are never banned), -ENOSPC the ban list is full, -EINVAL bad reason.
 */
int sw_ban_add(const struct sw_maps *m, const uint8_t addr[16], uint64_t ttl_ns,
	       unsigned int reason);
/* Remove the ban covering addr (masked like sw_ban_add); -ENOENT if none. */
int sw_ban_del(const struct sw_maps *m, const uint8_t addr[16]);
/* Remove the entry stored under k as it is (a key from sw_ban_foreach/scan). */
int sw_ban_del_key(const struct sw_maps *m, const struct sw_ban_key *k);
/* The ban covering addr, expired or not; -ENOENT if none. */
int sw_ban_get(const struct sw_maps *m, const uint8_t addr[16], struct sw_ban *v);
typedef int (*sw_ban_cb)(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx);
int sw_ban_foreach(const struct sw_maps *m, sw_ban_cb cb, void *ctx);
/*
 * A walk of sw_bans in bounded steps: each call visits at most about max
 * entries (one BPF_MAP_LOOKUP_BATCH per 256, or get_next_key where the
 * kernel has no batch ops) from where the last call stopped, and returns 1
 * when the walk reached the end (the cursor then starts again), 0 when more
 * follow, or a negative errno. Entries deleted between calls do not derail
 * it; entries added meanwhile may be missed by this walk. A zeroed cursor
 * starts at the beginning. cb's return value is ignored.
 */
struct sw_scan_cursor {
	uint8_t batch[16]; /* kernel's position (hash bucket) */
	uint8_t key[32];   /* last key seen, for the get_next_key walk */
	int started;
	int mode; /* 0 not known yet, 1 batch, 2 get_next_key */
};
#define sw_ban_cursor sw_scan_cursor
/* The walk itself, for any hash map whose keys (ksz <= 32) and values
 * (vsz <= 256) it names; cb sees each entry. */
int sw_map_scan(int fd, size_t ksz, size_t vsz, struct sw_scan_cursor *c, unsigned int max,
		void (*cb)(const void *key, const void *val, void *ctx), void *ctx);
/* The same walk over sw_pinholes, counting: *n grows by the entries seen. */
int sw_pinhole_scan_count(const struct sw_maps *m, struct sw_scan_cursor *c, unsigned int max,
			  uint64_t *n);
int sw_ban_scan(const struct sw_maps *m, struct sw_ban_cursor *c, unsigned int max, sw_ban_cb cb,
		void *ctx);
/* Capacity of sw_bans (max_entries). */
int sw_ban_capacity(const struct sw_maps *m, uint32_t *max_entries);
/* Delete bans that expired before now_ns (XDP already ignores them) and
 * clear SW_CFG_BANS_ACTIVE when none is left. removed may be NULL. */
int sw_ban_gc(const struct sw_maps *m, uint64_t now_ns, unsigned int *removed);
const char *sw_ban_reason_name(unsigned int reason);	      /* "?" if out of range */
int sw_ban_reason_parse(const char *s, unsigned int *reason); /* -EINVAL if unknown */

/*
 * Trusted networks (sw_trusted, LPM trie): exempt from the flood guard and
 * never banned. prefixlen in v4-mapped terms; addr is masked here.
 */
int sw_trusted_add(const struct sw_maps *m, const uint8_t addr[16], unsigned int prefixlen);
int sw_trusted_del(const struct sw_maps *m, const uint8_t addr[16], unsigned int prefixlen);
/* 1 if addr lies in a trusted network, 0 if not, negative errno on error. */
int sw_trusted_match(const struct sw_maps *m, const uint8_t addr[16]);
typedef int (*sw_trusted_cb)(const uint8_t addr[16], unsigned int prefixlen, void *ctx);
int sw_trusted_foreach(const struct sw_maps *m, sw_trusted_cb cb, void *ctx);

/* Flood-guard buckets (sw_flood), for reporting. */
typedef int (*sw_flood_cb)(const struct sw_flood_key *k, const struct sw_bucket *v, void *ctx);
int sw_flood_foreach(const struct sw_maps *m, sw_flood_cb cb, void *ctx);

const char *sw_reason_name(unsigned int reason);	/* "?" if out of range */
const char *sw_sip_reason_name(unsigned int reason);	/* "?" if out of range */
const char *sw_check_name(unsigned int check);		/* strict|address|symmetric */
int sw_check_parse(const char *s, unsigned int *check); /* -EINVAL if unknown */

/* "192.0.2.1" or "2001:db8::1" -> 16 bytes, IPv4 v4-mapped. */
int sw_addr_parse(const char *s, uint8_t out[16]);
/* "192.0.2.1:4000", "[2001:db8::1]:4000"; with port_optional, "192.0.2.1" and
 * "[2001:db8::1]" or a bare v6 address give *port = 0. Port in host order. */
int sw_endpoint_parse(const char *s, uint8_t addr[16], uint16_t *port, int port_optional);
int sw_addr_is_v4(const uint8_t a[16]);
/* Dotted quad for v4-mapped, RFC 5952 text otherwise. len >= 46. */
void sw_addr_format(const uint8_t a[16], char *buf, size_t len);

/* 64-bit FNV-1a: the owner hash in sw_pinhole.call_hash. */
uint64_t sw_fnv1a64(const void *data, size_t len);
/* CLOCK_MONOTONIC in ns: the clock bpf_ktime_get_ns() uses. */
uint64_t sw_monotonic_ns(void);

/*
 * The file a running sipd keeps its live state in for `sipwall status`
 * (what the maps cannot say: transports inspected, TCP streams, SIP it cannot
 * inspect): $SIPWALL_RUN_DIR (default /run/sipwall) + "/sipd-" + 16 hex
 * digits of sw_fnv1a64(pin root) + ".json", one per pin root. 0, or
 * -ENAMETOOLONG.
 */
#define SW_RUN_DIR_DEFAULT "/run/sipwall"
int sw_sipd_status_path(const char *pin_root, char *buf, size_t len);

/* Reuse a pinned sw_fwd_devs for map before the object loads (libbpf 1.1
 * refuses a pinned devmap's RDONLY_PROG flag): 0 or -errno. */
struct bpf_map;
int sw_reuse_fwd_devs(struct bpf_map *map, const char *pin_root);

#endif /* SW_LIB_SWMAP_H */
