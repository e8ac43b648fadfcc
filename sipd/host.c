// SPDX-License-Identifier: GPL-2.0-only
/* The firewall's own addresses and inside-facing interfaces (host.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <string.h>

#include <net/if.h>
#include <netinet/in.h>

#include "sipd/host.h"

static void add_if(uint32_t *v, unsigned int *n, unsigned int max, uint32_t ifindex, int *trunc)
{
	unsigned int i;

	if (!ifindex)
		return;
	for (i = 0; i < *n; i++)
		if (v[i] == ifindex)
			return;
	if (*n >= max) {
		*trunc = 1;
		return;
	}
	v[(*n)++] = ifindex;
}

int sipd_host_refresh(struct sipd_host *h, const struct sipd_config *cfg)
{
	static const uint8_t v4map[12] = {[10] = 0xff, [11] = 0xff};
	struct ifaddrs *ifa, *i;
	struct sipd_host n;
	unsigned int k;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	memset(&n, 0, sizeof(n));
	for (i = ifa; i; i = i->ifa_next) {
		uint8_t a[16];
		uint32_t ifindex;

		if (!i->ifa_addr || !i->ifa_name)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memcpy(a, v4map, 12);
			memcpy(a + 12, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		ifindex = if_nametoindex(i->ifa_name);
		if (n.n_addr < SIPD_HOST_MAX_ADDRS)
			memcpy(n.addr[n.n_addr++], a, 16);
		else
			n.truncated = 1;
		if (i->ifa_flags & IFF_LOOPBACK)
			add_if(n.loopback_if, &n.n_loopback_if, 8, ifindex, &n.truncated);
		else if (sipd_config_is_inside(cfg, a))
			add_if(n.inside_if, &n.n_inside_if, SIPD_HOST_MAX_IFS, ifindex,
			       &n.truncated);
	}
	freeifaddrs(ifa);
	for (k = 0; k < cfg->security.n_inside_ifs; k++)
		add_if(n.inside_if, &n.n_inside_if, SIPD_HOST_MAX_IFS,
		       if_nametoindex(cfg->security.inside_ifs[k]), &n.truncated);
	*h = n;
	return 0;
}

int sipd_host_is_own(const struct sipd_host *h, const uint8_t addr[16])
{
	unsigned int i;

	for (i = 0; i < h->n_addr; i++)
		if (!memcmp(h->addr[i], addr, 16))
			return 1;
	return 0;
}

static int in_ifs(const uint32_t *v, unsigned int n, uint32_t ifindex)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (v[i] == ifindex)
			return 1;
	return 0;
}

int sipd_host_inside_if(const struct sipd_host *h, uint32_t ifindex)
{
	return in_ifs(h->inside_if, h->n_inside_if, ifindex);
}

int sipd_host_loopback_if(const struct sipd_host *h, uint32_t ifindex)
{
	return in_ifs(h->loopback_if, h->n_loopback_if, ifindex);
}
