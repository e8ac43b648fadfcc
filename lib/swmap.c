// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned-map access for userspace. Functions return 0 or a negative errno
 * and never print; the caller reports.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/swmap.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* asm-generic/socket.h, Linux 5.14 */
#endif

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal, returned by some BPF commands */
#endif

static int open_one(const char *root, const char *name, int *fd)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", root, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	*fd = bpf_obj_get(path);
	if (*fd < 0) {
		*fd = -1;
		return -errno;
	}
	return 0;
}

int sw_maps_open(const char *pin_root, struct sw_maps *m)
{
	int err;

	m->pinholes = m->stats = m->frags = m->config = m->ifaces = -1;
	m->bans = m->flood = m->trusted = -1;
	if (!pin_root)
		pin_root = SW_PIN_ROOT_DEFAULT;
	if (strlen(pin_root) >= sizeof(m->root))
		return -ENAMETOOLONG;
	strcpy(m->root, pin_root);

	if ((err = open_one(pin_root, SW_MAP_PINHOLES, &m->pinholes)) ||
	    (err = open_one(pin_root, SW_MAP_STATS, &m->stats)) ||
	    (err = open_one(pin_root, SW_MAP_FRAGS, &m->frags)) ||
	    (err = open_one(pin_root, SW_MAP_CONFIG, &m->config)) ||
	    (err = open_one(pin_root, SW_MAP_IFACES, &m->ifaces))) {
		sw_maps_close(m);
		return err;
	}
	/* The DoS maps came later: a pin root made by an older sipwall has
	 * none of them (their fds stay -1, their functions say -ENOENT). */
	if (((err = open_one(pin_root, SW_MAP_BANS, &m->bans)) && err != -ENOENT) ||
	    ((err = open_one(pin_root, SW_MAP_FLOOD, &m->flood)) && err != -ENOENT) ||
	    ((err = open_one(pin_root, SW_MAP_TRUSTED, &m->trusted)) && err != -ENOENT)) {
		sw_maps_close(m);
		return err;
	}
	return 0;
}

void sw_maps_close(struct sw_maps *m)
{
	int *fds[] = {&m->pinholes, &m->stats, &m->frags, &m->config,
		      &m->ifaces,   &m->bans,  &m->flood, &m->trusted};
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void sw_pinhole_key_init(struct sw_pinhole_key *k, const uint8_t addr[16], uint16_t port)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addr, sizeof(k->addr));
	k->port = htons(port);
	k->proto = IPPROTO_UDP;
}

int sw_pinhole_put(const struct sw_maps *m, const struct sw_pinhole_key *k,
		   const struct sw_pinhole *v, uint64_t flags)
{
	return bpf_map_update_elem(m->pinholes, k, v, flags) ? -errno : 0;
}

/* errno of a bpf command this kernel or map type does not have */
static int unsupported(int e)
{
	return e == EINVAL || e == ENOTSUPP || e == EOPNOTSUPP;
}

int sw_pinhole_put_many(const struct sw_maps *m, const struct sw_pinhole_key *k,
			const struct sw_pinhole *v, unsigned int n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	unsigned int i;
	__u32 count = n;

	if (n == 0)
		return 0;
	if (bpf_map_update_batch(m->pinholes, k, v, &count, &opts) == 0)
		return 0;
	if (!unsupported(errno))
		return -errno;
	/* Kernel without batch ops for this map type: one at a time
	 * (updates are idempotent, so redoing a partial batch is harmless). */
	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(m->pinholes, &k[i], &v[i], BPF_ANY))
			return -errno;
	}
	return 0;
}

int sw_pinhole_get(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v)
{
	return bpf_map_lookup_elem(m->pinholes, k, v) ? -errno : 0;
}

int sw_pinhole_del(const struct sw_maps *m, const struct sw_pinhole_key *k)
{
	return bpf_map_delete_elem(m->pinholes, k) ? -errno : 0;
}

int sw_pinhole_take(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v)
{
	if (bpf_map_lookup_and_delete_elem(m->pinholes, k, v) == 0)
		return 0;
	if (!unsupported(errno))
		return -errno;
	/* hash maps have it since Linux 5.14: two steps before that */
	if (bpf_map_lookup_elem(m->pinholes, k, v))
		return -errno;
	return bpf_map_delete_elem(m->pinholes, k) ? -errno : 0;
}

int sw_pinhole_foreach(const struct sw_maps *m, sw_pinhole_cb cb, void *ctx)
{
	struct sw_pinhole_key key, next;
	struct sw_pinhole val;
	void *prev = NULL;
	int ret;

	while (bpf_map_get_next_key(m->pinholes, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->pinholes, &key, &val)) {
			if (errno == ENOENT)
				continue; /* deleted under us */
			return -errno;
		}
		ret = cb(&key, &val, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

int sw_pinhole_count(const struct sw_maps *m, unsigned int *count)
{
	struct sw_scan_cursor c = {0};
	uint64_t n = 0;
	int ret;

	do
		ret = sw_pinhole_scan_count(m, &c, UINT_MAX, &n);
	while (ret == 0);
	if (ret < 0)
		return ret;
	*count = (unsigned int)n;
	return 0;
}

int sw_stats_read(const struct sw_maps *m, struct sw_stat out[SW_R_MAX])
{
	struct sw_stat *percpu;
	int ncpu, cpu, err = 0;
	__u32 r;

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	/* sizeof(struct sw_stat) is a multiple of 8: no per-CPU padding. */
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (r = 0; r < SW_R_MAX; r++) {
		out[r].packets = out[r].bytes = 0;
		if (bpf_map_lookup_elem(m->stats, &r, percpu)) {
			err = -errno;
			break;
		}
		for (cpu = 0; cpu < ncpu; cpu++) {
			out[r].packets += percpu[cpu].packets;
			out[r].bytes += percpu[cpu].bytes;
		}
	}
	free(percpu);
	return err;
}

int sw_config_read(const struct sw_maps *m, struct sw_config *c)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->config, &zero, c) ? -errno : 0;
}

int sw_netns_self(struct sw_netns *ns)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	struct stat st;
	int fd;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	ns->ino = (uint32_t)st.st_ino;
	ns->cookie = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* ENOPROTOOPT before Linux 5.14: the inode alone names the netns. */
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0 &&
	    len == sizeof(cookie))
		ns->cookie = cookie;
	close(fd);
	return 0;
}

uint64_t sw_netns_id(const struct sw_netns *ns)
{
	return ns->cookie ? ns->cookie : ns->ino;
}

int sw_iface_in_netns(const struct sw_iface_info *info, const struct sw_netns *ns)
{
	if (!info->netns_cookie && !info->netns_ino)
		return -1;
	if (info->netns_cookie && ns->cookie)
		return info->netns_cookie == ns->cookie;
	return info->netns_ino == ns->ino;
}

void sw_iface_key_init(struct sw_iface_key *k, uint64_t netns, uint32_t ifindex)
{
	memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->ifindex = ifindex;
}

void sw_iface_key_of(const struct sw_iface_info *info, struct sw_iface_key *k)
{
	sw_iface_key_init(k, info->netns_cookie ? info->netns_cookie : info->netns_ino,
			  info->ifindex);
}

int sw_iface_get(const struct sw_maps *m, const struct sw_iface_key *k, struct sw_iface_info *info)
{
	return bpf_map_lookup_elem(m->ifaces, k, info) ? -errno : 0;
}

int sw_iface_legacy(const struct sw_maps *m)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (bpf_obj_get_info_by_fd(m->ifaces, &mi, &len))
		return -errno;
	if (mi.key_size == sizeof(struct sw_iface_key) &&
	    mi.value_size == sizeof(struct sw_iface_info))
		return 0;
	if (mi.key_size == sizeof(__u32) && mi.value_size <= sizeof(struct sw_iface_info))
		return 1;
	return -EPROTO;
}

int sw_iface_foreach(const struct sw_maps *m, sw_iface_cb cb, void *ctx)
{
	struct sw_iface_info info;
	struct sw_iface_key key, next; /* large enough for either layout */
	void *prev = NULL;
	int ret, legacy;

	legacy = sw_iface_legacy(m);
	if (legacy < 0)
		return legacy;
	while (bpf_map_get_next_key(m->ifaces, prev, &next) == 0) {
		key = next;
		prev = &key;
		memset(&info, 0, sizeof(info)); /* schema 1 values are shorter */
		if (bpf_map_lookup_elem(m->ifaces, &key, &info)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (legacy)
			info.netns_cookie = info.netns_ino = info.pad = 0;
		ret = cb(&info, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

#define SCAN_CHUNK 256
#define SCAN_VAL   256

static int scan_keys(int fd, size_t ksz, struct sw_scan_cursor *c, unsigned int max,
		     void (*cb)(const void *, const void *, void *), void *ctx)
{
	uint8_t next[32], val[SCAN_VAL];
	unsigned int n;

	for (n = 0; n < max; n++) {
		if (bpf_map_get_next_key(fd, c->started ? c->key : NULL, next)) {
			if (errno != ENOENT)
				return -errno;
			c->started = 0;
			return 1;
		}
		memcpy(c->key, next, ksz);
		c->started = 1;
		if (bpf_map_lookup_elem(fd, next, val) == 0)
			cb(next, val, ctx);
	}
	return 0;
}

int sw_map_scan(int fd, size_t ksz, size_t vsz, struct sw_scan_cursor *c, unsigned int max,
		void (*cb)(const void *key, const void *val, void *ctx), void *ctx)
{
	uint8_t *keys, *vals;
	uint64_t out[2];
	unsigned int seen = 0;
	__u32 n, i;
	int err, ret = 0;

	if (ksz > sizeof(c->key) || vsz > SCAN_VAL)
		return -EINVAL;
	if (c->mode == 2)
		return scan_keys(fd, ksz, c, max, cb, ctx);
	keys = malloc(SCAN_CHUNK * ksz);
	vals = malloc(SCAN_CHUNK * vsz);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (seen < max) {
		n = SCAN_CHUNK;
		err = bpf_map_lookup_batch(fd, c->started ? c->batch : NULL, out, keys, vals, &n,
					   NULL);
		err = err ? -errno : 0;
		if (err && err != -ENOENT) {
			if (c->mode == 0 && !c->started &&
			    (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP)) {
				c->mode = 2; /* no batch ops for this map or kernel */
				ret = scan_keys(fd, ksz, c, max, cb, ctx);
				goto out;
			}
			c->started = 0;
			ret = err;
			goto out;
		}
		c->mode = 1;
		for (i = 0; i < n; i++)
			cb(keys + i * ksz, vals + i * vsz, ctx);
		seen += n;
		if (err == -ENOENT) {
			c->started = 0;
			ret = 1;
			goto out;
		}
		memcpy(c->batch, out, sizeof(c->batch));
		c->started = 1;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

static void count_one(const void *key, const void *val, void *ctx)
{
	(void)key;
	(void)val;
	++*(uint64_t *)ctx;
}

int sw_pinhole_scan_count(const struct sw_maps *m, struct sw_scan_cursor *c, unsigned int max,
			  uint64_t *n)
{
	return sw_map_scan(m->pinholes, sizeof(struct sw_pinhole_key), sizeof(struct sw_pinhole), c,
			   max, count_one, n);
}

/*
 * The kernel creates every devmap with BPF_F_RDONLY_PROG set, which libbpf
 * before 1.3 then finds "incompatible" with the object's definition when it
 * tries to reuse the pinned map (the second attach of a pin root fails with
 * EINVAL). Hand it the pinned sw_fwd_devs ourselves, after checking the
 * layout that matters. 0 when nothing is pinned yet (libbpf creates it).
 */
int sw_reuse_fwd_devs(struct bpf_map *map, const char *pin_root)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", pin_root, SW_MAP_FWD_DEVS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		err = -errno;
	else if (mi.type != BPF_MAP_TYPE_DEVMAP_HASH || mi.key_size != sizeof(__u32) ||
		 mi.value_size != sizeof(struct sw_fwd_dev) ||
		 mi.max_entries != bpf_map__max_entries(map))
		err = -EINVAL;
	else
		err = bpf_map__reuse_fd(map, fd);
	close(fd);
	return err;
}
