/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What sipd knows about the firewall it runs on: its own addresses (never a
 * media endpoint of a call through it, never the source of a datagram that
 * arrived on one of its interfaces) and which interfaces face the inside
 * (those with an address in networks.inside, plus security.inside_interfaces).
 * A datagram whose source is an inside address but that arrived on any other
 * interface is spoofed: loose rp_filter lets it in and IPv6 has none.
 * Read with getifaddrs(); refreshed by the caller (start, reload, ticks).
 */
#ifndef SIPD_HOST_H
#define SIPD_HOST_H

#include <stdint.h>

#include "sipd/config.h"

#define SIPD_HOST_MAX_ADDRS 256
#define SIPD_HOST_MAX_IFS   64

struct sipd_host {
	uint8_t addr[SIPD_HOST_MAX_ADDRS][16]; /* v4-mapped for IPv4 */
	unsigned int n_addr;
	uint32_t inside_if[SIPD_HOST_MAX_IFS]; /* ifindex */
	unsigned int n_inside_if;
	uint32_t loopback_if[8];
	unsigned int n_loopback_if;
	int truncated; /* more addresses or interfaces than fit */
};

/* Re-read the host's addresses and interfaces. 0 or -errno (then h keeps
 * what it had). */
int sipd_host_refresh(struct sipd_host *h, const struct sipd_config *cfg);
int sipd_host_is_own(const struct sipd_host *h, const uint8_t addr[16]);
int sipd_host_inside_if(const struct sipd_host *h, uint32_t ifindex);
int sipd_host_loopback_if(const struct sipd_host *h, uint32_t ifindex);

#endif /* SIPD_HOST_H */
