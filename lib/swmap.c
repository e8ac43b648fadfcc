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

int sw_pinholes_layout(int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	if (mi.key_size != sizeof(struct sw_pinhole_key) ||
	    mi.value_size != sizeof(struct sw_pinhole_hot))
		return -EPROTO;
	return 0;
}

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

	m->pinholes = m->ph_srcs = m->calls = m->stats = m->frags = m->config = m->ifaces = -1;
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
	/* Schema 3 split the pinholes: an older pin root has 184-byte values
	 * and neither sw_ph_srcs nor sw_calls. */
	if ((err = sw_pinholes_layout(m->pinholes)) ||
	    (err = open_one(pin_root, SW_MAP_PH_SRCS, &m->ph_srcs)) ||
	    (err = open_one(pin_root, SW_MAP_CALLS, &m->calls))) {
		sw_maps_close(m);
		return err == -ENOENT ? -EPROTO : err;
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
	int *fds[] = {&m->pinholes, &m->ph_srcs, &m->calls, &m->stats, &m->frags,
		      &m->config,   &m->ifaces,	 &m->bans,  &m->flood, &m->trusted};
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

void sw_pinhole_split(const struct sw_pinhole *v, struct sw_pinhole_hot *hot,
		      struct sw_ph_srcs *more)
{
	unsigned int i;

	memset(hot, 0, sizeof(*hot));
	memset(more, 0, sizeof(*more));
	hot->src = v->src[0];
	hot->kind = v->kind;
	hot->media = v->media;
	hot->media_idx = v->media_idx;
	hot->flags = v->side ? SW_PH_ANSWER : 0;
	hot->packets = v->packets;
	hot->bytes = v->bytes;
	hot->last_seen_ns = v->last_seen_ns;
	hot->call_hash = v->call_hash;
	hot->drops = v->drops > UINT32_MAX ? UINT32_MAX : (uint32_t)v->drops;
	hot->created_s = (uint32_t)(v->created_ns / 1000000000ull);
	for (i = 1; i < SW_MAX_SOURCES; i++) {
		more->src[i - 1] = v->src[i];
		if (v->src[i].flags & SW_SRC_ACTIVE)
			hot->flags |= SW_PH_MORE;
	}
}

void sw_pinhole_join(const struct sw_pinhole_hot *hot, const struct sw_ph_srcs *more,
		     const struct sw_call *call, struct sw_pinhole *v)
{
	unsigned int i;

	memset(v, 0, sizeof(*v));
	v->src[0] = hot->src;
	if (more && (hot->flags & SW_PH_MORE))
		for (i = 1; i < SW_MAX_SOURCES; i++)
			v->src[i] = more->src[i - 1];
	v->kind = hot->kind;
	v->media = hot->media;
	v->media_idx = hot->media_idx;
	v->side = hot->flags & SW_PH_ANSWER ? 1 : 0;
	v->packets = hot->packets;
	v->bytes = hot->bytes;
	v->last_seen_ns = hot->last_seen_ns;
	v->call_hash = hot->call_hash;
	v->drops = hot->drops;
	v->created_ns = (uint64_t)hot->created_s * 1000000000ull;
	if (call && hot->call_hash) {
		memcpy(v->call_id, call->call_id, SW_CALL_ID_LEN);
		v->call_id[SW_CALL_ID_LEN - 1] = '\0';
	}
}

/* The owner record for v: 1 if this call created it (undo deletes it), 0 if
 * there was one or v names none, negative errno. */
static int call_put(const struct sw_maps *m, const struct sw_pinhole *v)
{
	struct sw_call c;

	if (!v->call_hash || !v->call_id[0])
		return 0;
	memset(&c, 0, sizeof(c));
	memcpy(c.call_id, v->call_id, strnlen(v->call_id, SW_CALL_ID_LEN - 1));
	if (bpf_map_update_elem(m->calls, &v->call_hash, &c, BPF_NOEXIST) == 0)
		return 1;
	return errno == EEXIST ? 0 : -errno;
}

/* Extra sources before the hot value. saved and had: what was there (for the
 * undo of an update). */
static int srcs_put(const struct sw_maps *m, const struct sw_pinhole_key *k,
		    const struct sw_ph_srcs *more, uint64_t flags, struct sw_ph_srcs *saved,
		    int *had)
{
	struct sw_pinhole_hot cur;

	*had = bpf_map_lookup_elem(m->ph_srcs, k, saved) == 0;
	if (*had && flags == BPF_NOEXIST && bpf_map_lookup_elem(m->pinholes, k, &cur) == 0)
		return -EEXIST; /* a live pinhole's sources: leave them */
	return bpf_map_update_elem(m->ph_srcs, k, more, BPF_ANY) ? -errno : 0;
}

static void srcs_undo(const struct sw_maps *m, const struct sw_pinhole_key *k,
		      const struct sw_ph_srcs *saved, int had)
{
	if (had)
		bpf_map_update_elem(m->ph_srcs, k, saved, BPF_ANY);
	else
		bpf_map_delete_elem(m->ph_srcs, k);
}

int sw_pinhole_put(const struct sw_maps *m, const struct sw_pinhole_key *k,
		   const struct sw_pinhole *v, uint64_t flags)
{
	struct sw_pinhole_hot hot;
	struct sw_ph_srcs more, saved;
	int had = 0, made, err;

	sw_pinhole_split(v, &hot, &more);
	made = call_put(m, v);
	if (made < 0)
		return made;
	if (hot.flags & SW_PH_MORE) {
		err = srcs_put(m, k, &more, flags, &saved, &had);
		if (err)
			goto undo_call;
	}
	if (bpf_map_update_elem(m->pinholes, k, &hot, flags)) {
		err = -errno;
		if (hot.flags & SW_PH_MORE)
			srcs_undo(m, k, &saved, had);
		goto undo_call;
	}
	/* Sources an update no longer has (the hot value, which no longer
	 * points at them, is already in place). */
	if (!(hot.flags & SW_PH_MORE) && flags != BPF_NOEXIST)
		bpf_map_delete_elem(m->ph_srcs, k);
	return 0;
undo_call:
	if (made > 0)
		bpf_map_delete_elem(m->calls, &v->call_hash);
	return err;
}

/* errno of a bpf command this kernel or map type does not have */
static int unsupported(int e)
{
	return e == EINVAL || e == ENOTSUPP || e == EOPNOTSUPP;
}

#define SW_PUT_MANY_MAX 64

int sw_pinhole_put_many(const struct sw_maps *m, const struct sw_pinhole_key *k,
			const struct sw_pinhole *v, unsigned int n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	struct sw_pinhole_hot hot[SW_PUT_MANY_MAX];
	struct sw_ph_srcs more, saved[SW_PUT_MANY_MAX];
	int had[SW_PUT_MANY_MAX], made[SW_PUT_MANY_MAX];
	unsigned int i, j, done = 0, nsrc = 0;
	__u32 count = n;
	int err = 0;

	if (n == 0)
		return 0;
	if (n > SW_PUT_MANY_MAX) {
		for (i = 0; i < n && !err; i += SW_PUT_MANY_MAX)
			err = sw_pinhole_put_many(
				m, k + i, v + i, n - i < SW_PUT_MANY_MAX ? n - i : SW_PUT_MANY_MAX);
		return err;
	}
	/* Owners and extra sources first (once per call), the hot values
	 * in one batch last. */
	for (i = 0; i < n; i++) {
		made[i] = 0;
		for (j = 0; j < i && v[j].call_hash != v[i].call_hash; j++)
			;
		if (j == i && (made[i] = call_put(m, &v[i])) < 0) {
			err = made[i];
			made[i] = 0;
			break;
		}
		sw_pinhole_split(&v[i], &hot[i], &more);
		if (hot[i].flags & SW_PH_MORE) {
			err = srcs_put(m, &k[i], &more, BPF_ANY, &saved[i], &had[i]);
			if (err)
				break;
			nsrc = i + 1;
		}
	}
	if (!err && bpf_map_update_batch(m->pinholes, k, hot, &count, &opts)) {
		err = -errno;
		if (unsupported(errno)) {
			/* Kernel without batch ops for this map type: one at
			 * a time (idempotent, so redoing a partial batch is
			 * harmless). */
			for (err = 0; done < n && !err; done++)
				if (bpf_map_update_elem(m->pinholes, &k[done], &hot[done], BPF_ANY))
					err = -errno;
		}
	}
	if (err) {
		for (i = 0; i < nsrc; i++)
			if (hot[i].flags & SW_PH_MORE)
				srcs_undo(m, &k[i], &saved[i], had[i]);
		for (i = 0; i < n; i++)
			if (made[i] > 0)
				bpf_map_delete_elem(m->calls, &v[i].call_hash);
		return err;
	}
	for (i = 0; i < n; i++)
		if (!(hot[i].flags & SW_PH_MORE))
			bpf_map_delete_elem(m->ph_srcs, &k[i]);
	return 0;
}

int sw_pinhole_get(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v)
{
	struct sw_pinhole_hot hot;
	struct sw_ph_srcs more;
	struct sw_call call;
	int have_more = 0, have_call = 0;

	if (sw_pinhole_get_hot(m, k, &hot))
		return -errno;
	if (hot.flags & SW_PH_MORE)
		have_more = bpf_map_lookup_elem(m->ph_srcs, k, &more) == 0;
	if (hot.call_hash)
		have_call = bpf_map_lookup_elem(m->calls, &hot.call_hash, &call) == 0;
	sw_pinhole_join(&hot, have_more ? &more : NULL, have_call ? &call : NULL, v);
	return 0;
}

int sw_pinhole_get_hot(const struct sw_maps *m, const struct sw_pinhole_key *k,
		       struct sw_pinhole_hot *hot)
{
	return bpf_map_lookup_elem(m->pinholes, k, hot) ? -errno : 0;
}

/* The hot value out of the map, read as it went. */
static int hot_take(const struct sw_maps *m, const struct sw_pinhole_key *k,
		    struct sw_pinhole_hot *hot)
{
	if (bpf_map_lookup_and_delete_elem(m->pinholes, k, hot) == 0)
		return 0;
	if (!unsupported(errno))
		return -errno;
	/* hash maps have it since Linux 5.14: two steps before that */
	if (bpf_map_lookup_elem(m->pinholes, k, hot))
		return -errno;
	return bpf_map_delete_elem(m->pinholes, k) ? -errno : 0;
}

int sw_pinhole_del(const struct sw_maps *m, const struct sw_pinhole_key *k)
{
	struct sw_pinhole_hot hot;
	int err = hot_take(m, k, &hot);

	if (!err && (hot.flags & SW_PH_MORE))
		bpf_map_delete_elem(m->ph_srcs, k);
	return err;
}

int sw_pinhole_take(const struct sw_maps *m, const struct sw_pinhole_key *k, struct sw_pinhole *v)
{
	struct sw_pinhole_hot hot;
	struct sw_ph_srcs more;
	int have_more = 0, err;

	err = hot_take(m, k, &hot);
	if (err)
		return err;
	if (hot.flags & SW_PH_MORE) {
		have_more = bpf_map_lookup_elem(m->ph_srcs, k, &more) == 0;
		bpf_map_delete_elem(m->ph_srcs, k);
	}
	/* The owner record stays (and is not read: call_id comes back empty). */
	sw_pinhole_join(&hot, have_more ? &more : NULL, NULL, v);
	return 0;
}

int sw_pinhole_foreach(const struct sw_maps *m, sw_pinhole_cb cb, void *ctx)
{
	struct sw_pinhole_key key, next;
	struct sw_pinhole_hot hot;
	struct sw_ph_srcs more;
	struct sw_call call;
	struct sw_pinhole val;
	void *prev = NULL;
	int ret, have_more, have_call;

	while (bpf_map_get_next_key(m->pinholes, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->pinholes, &key, &hot)) {
			if (errno == ENOENT)
				continue; /* deleted under us */
			return -errno;
		}
		have_more = (hot.flags & SW_PH_MORE) &&
			    bpf_map_lookup_elem(m->ph_srcs, &key, &more) == 0;
		have_call =
			hot.call_hash && bpf_map_lookup_elem(m->calls, &hot.call_hash, &call) == 0;
		sw_pinhole_join(&hot, have_more ? &more : NULL, have_call ? &call : NULL, &val);
		ret = cb(&key, &val, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

int sw_call_del(const struct sw_maps *m, uint64_t call_hash)
{
	return bpf_map_delete_elem(m->calls, &call_hash) ? -errno : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int sw_call_gc(const struct sw_maps *m, unsigned int *removed)
{
	struct sw_pinhole_key key, next;
	struct sw_pinhole_hot hot;
	uint64_t *owners = NULL, ck, cnext, *grow;
	size_t n = 0, cap = 0;
	unsigned int gone = 0;
	void *prev = NULL;
	int err = 0;

	while (bpf_map_get_next_key(m->pinholes, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->pinholes, &key, &hot) || !hot.call_hash)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			grow = realloc(owners, cap * sizeof(*owners));
			if (!grow) {
				free(owners);
				return -ENOMEM;
			}
			owners = grow;
		}
		owners[n++] = hot.call_hash;
	}
	if (n)
		qsort(owners, n, sizeof(*owners), cmp_u64);
	/* Which ones first, then delete: a hash walk from a deleted key
	 * starts again from the first. */
	prev = NULL;
	{
		uint64_t *doomed = NULL;
		size_t nd = 0, dcap = 0, i;

		while (bpf_map_get_next_key(m->calls, prev, &cnext) == 0) {
			ck = cnext;
			prev = &ck;
			if (n && bsearch(&ck, owners, n, sizeof(*owners), cmp_u64))
				continue;
			if (nd == dcap) {
				dcap = dcap ? dcap * 2 : 256;
				grow = realloc(doomed, dcap * sizeof(*doomed));
				if (!grow) {
					err = -ENOMEM;
					break;
				}
				doomed = grow;
			}
			doomed[nd++] = ck;
		}
		for (i = 0; i < nd; i++) {
			if (bpf_map_delete_elem(m->calls, &doomed[i]) == 0)
				gone++;
			else if (errno != ENOENT)
				err = -errno;
		}
		free(doomed);
	}
	free(owners);
	if (removed)
		*removed = gone;
	return err;
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
	return sw_map_scan(m->pinholes, sizeof(struct sw_pinhole_key),
			   sizeof(struct sw_pinhole_hot), c, max, count_one, n);
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
