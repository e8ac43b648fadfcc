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
	int pinholes; /* fds, -1 when not open */
	int stats;
	int frags;
	int config;
	int ifaces;
	char root[256];
};

/* Open the pinned maps under pin_root (NULL = SW_PIN_ROOT_DEFAULT). */
int sw_maps_open(const char *pin_root, struct sw_maps *m);
void sw_maps_close(struct sw_maps *m);

/* flags: BPF_ANY, BPF_NOEXIST or BPF_EXIST. */
int sw_pinhole_put(const struct sw_maps *m, const struct sw_pinhole_key *k,
		   const struct sw_pinhole *v, uint64_t flags);
/* Several at once (one syscall when the kernel has batch ops). */
int sw_pinhole_put_many(const struct sw_maps *m, const struct sw_pinhole_key *k,
			const struct sw_pinhole *v, unsigned int n);
int sw_pinhole_get(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v);
int sw_pinhole_del(const struct sw_maps *m, const struct sw_pinhole_key *k);
/* Calls cb for every pinhole; a non-zero return from cb stops the walk and is returned. */
typedef int (*sw_pinhole_cb)(const struct sw_pinhole_key *k, const struct sw_pinhole *v, void *ctx);
int sw_pinhole_foreach(const struct sw_maps *m, sw_pinhole_cb cb, void *ctx);
int sw_pinhole_count(const struct sw_maps *m, unsigned int *count);

/* Key for a UDP media destination; port in host order. */
void sw_pinhole_key_init(struct sw_pinhole_key *k, const uint8_t addr[16], uint16_t port);

/* Attached interfaces (sw_ifaces), written by the loader. */
int sw_iface_get(const struct sw_maps *m, uint32_t ifindex, struct sw_iface_info *info);
typedef int (*sw_iface_cb)(const struct sw_iface_info *info, void *ctx);
int sw_iface_foreach(const struct sw_maps *m, sw_iface_cb cb, void *ctx);

/* Verdict counters summed over CPUs, indexed by enum sw_reason. */
int sw_stats_read(const struct sw_maps *m, struct sw_stat out[SW_R_MAX]);
int sw_config_read(const struct sw_maps *m, struct sw_config *c);

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

#endif /* SW_LIB_SWMAP_H */
