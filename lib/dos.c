// SPDX-License-Identifier: GPL-2.0-only
/*
 * DoS state in the pinned maps: the ban list (sw_bans), trusted networks
 * (sw_trusted), flood-guard buckets (sw_flood), the DoS fields of sw_config,
 * and the CIDR text they are written in. Functions return 0 or a negative
 * errno and never print.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/swmap.h"

static const char *const ban_reason_names[] = {
#define SW_X_STR(name, str) str,
	SW_BAN_REASONS(SW_X_STR)
#undef SW_X_STR
};

const char *sw_ban_reason_name(unsigned int reason)
{
	return reason < SW_BAN_MAX ? ban_reason_names[reason] : "?";
}

int sw_ban_reason_parse(const char *s, unsigned int *reason)
{
	unsigned int i;

	for (i = 0; s && i < SW_BAN_MAX; i++) {
		if (!strcmp(s, ban_reason_names[i])) {
			*reason = i;
			return 0;
		}
	}
	return -EINVAL;
}

void sw_addr_mask(uint8_t a[16], unsigned int prefixlen)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		unsigned int keep = prefixlen > i * 8 ? prefixlen - i * 8 : 0;

		if (keep < 8)
			a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int sw_cidr_parse(const char *s, uint8_t addr[16], unsigned int *prefixlen, int allow_host_bits)
{
	char host[64];
	const char *slash;
	unsigned int n = 0, max, plen;
	uint8_t a[16], masked[16];
	const char *p;
	size_t hlen;
	int err;

	if (!s || !*s)
		return -EINVAL;
	slash = strchr(s, '/');
	hlen = slash ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	err = sw_addr_parse(host, a);
	if (err)
		return err;
	max = sw_addr_is_v4(a) ? 32 : 128;
	if (slash) {
		p = slash + 1;
		if (!*p || strlen(p) > 3)
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			n = n * 10 + (unsigned int)(*p - '0');
		}
		if (n > max)
			return -ERANGE;
	} else {
		n = max;
	}
	plen = max == 32 ? 96 + n : n;
	memcpy(masked, a, 16);
	sw_addr_mask(masked, plen);
	if (memcmp(masked, a, 16) && !allow_host_bits)
		return -EDOM;
	memcpy(addr, masked, 16);
	*prefixlen = plen;
	return 0;
}

void sw_cidr_format(const uint8_t a[16], unsigned int prefixlen, char *buf, size_t len)
{
	char txt[48];
	int v4 = sw_addr_is_v4(a);
	unsigned int n = v4 ? (prefixlen >= 96 ? prefixlen - 96 : 0) : prefixlen;

	sw_addr_format(a, txt, sizeof(txt));
	if (n == (v4 ? 32u : 128u))
		snprintf(buf, len, "%s", txt);
	else
		snprintf(buf, len, "%s/%u", txt, n);
}

int sw_config_write(const struct sw_maps *m, const struct sw_config *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(m->config, &zero, c, BPF_ANY) ? -errno : 0;
}

void sw_config_dos_defaults(struct sw_config *c)
{
	memset(c->sig_ports, 0, sizeof(c->sig_ports));
	c->sig_ports[0] = 5060;
	c->sig_ports[1] = 5061;
	c->flood_rate = 0;
	c->flood_burst = 0;
	c->flood_prefix_v4 = 32;
	c->flood_prefix_v6 = 64;
	c->ban_prefix_v4 = 32;
	c->ban_prefix_v6 = 64;
	c->flags &= ~SW_CFG_FLOOD_GUARD;
}

/* Prefix bans of this family are keyed at (v4-mapped terms); 0 = per address. */
static unsigned int ban_plen(const struct sw_config *c, const uint8_t addr[16])
{
	if (sw_addr_is_v4(addr))
		return c->ban_prefix_v4 && c->ban_prefix_v4 <= 32 ? 96u + c->ban_prefix_v4 : 128u;
	return c->ban_prefix_v6 && c->ban_prefix_v6 <= 128 ? c->ban_prefix_v6 : 128u;
}

int sw_map_empty(int fd, size_t key_size)
{
	uint8_t key[64];

	if (key_size > sizeof(key))
		return -EINVAL;
	if (bpf_map_get_next_key(fd, NULL, key) == 0)
		return 0;
	return errno == ENOENT ? 1 : -errno;
}

int sw_config_flag(int config_fd, uint32_t flag, int on)
{
	struct sw_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &c))
		return -errno;
	if (!!(c.flags & flag) == !!on)
		return 0;
	if (on)
		c.flags |= flag;
	else
		c.flags &= ~flag;
	return bpf_map_update_elem(config_fd, &zero, &c, BPF_ANY) ? -errno : 0;
}

static int bans_flag(const struct sw_maps *m, int on)
{
	return sw_config_flag(m->config, SW_CFG_BANS_ACTIVE, on);
}

/* Does [a/alen] overlap a trusted network? 1 yes, 0 no, <0 error. */
struct overlap {
	const uint8_t *a;
	unsigned int alen;
};

static int overlap_cb(const uint8_t addr[16], unsigned int prefixlen, void *ctx)
{
	const struct overlap *o = ctx;
	unsigned int n = prefixlen < o->alen ? prefixlen : o->alen;
	uint8_t x[16], y[16];

	memcpy(x, o->a, 16);
	memcpy(y, addr, 16);
	sw_addr_mask(x, n);
	sw_addr_mask(y, n);
	return memcmp(x, y, 16) == 0;
}

static int ban_key(const struct sw_maps *m, const uint8_t addr[16], struct sw_ban_key *k,
		   unsigned int *plen)
{
	struct sw_config c;
	int err;

	if (m->bans < 0)
		return -ENOENT;
	err = sw_config_read(m, &c);
	if (err)
		return err;
	*plen = ban_plen(&c, addr);
	memcpy(k->addr, addr, 16);
	sw_addr_mask(k->addr, *plen);
	return 0;
}

int sw_ban_add(const struct sw_maps *m, const uint8_t addr[16], uint64_t ttl_ns,
	       unsigned int reason)
{
	struct overlap o;
	struct sw_ban_key k;
	struct sw_ban v, old;
	unsigned int plen;
	uint64_t now = sw_monotonic_ns();
	int err;

	if (reason >= SW_BAN_MAX)
		return -EINVAL;
	if (m->bans < 0)
		return -ENOENT;
	err = ban_key(m, addr, &k, &plen);
	if (err)
		return err;
	o.a = k.addr;
	o.alen = plen;
	err = sw_trusted_foreach(m, overlap_cb, &o);
	if (err)
		return err < 0 ? err : -EPERM;

	memset(&v, 0, sizeof(v));
	v.created_ns = now;
	if (bpf_map_lookup_elem(m->bans, &k, &old) == 0) {
		v.created_ns = old.created_ns;
		v.packets = old.packets;
	}
	v.expires_ns = ttl_ns ? now + ttl_ns : 0;
	v.reason = reason;
	v.prefixlen = (uint8_t)plen;
	if (bpf_map_update_elem(m->bans, &k, &v, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	/* After the insert: a concurrent sw_ban_gc that cleared the flag
	 * re-checks emptiness after clearing, so the flag is never lost. */
	return bans_flag(m, 1);
}

int sw_ban_del(const struct sw_maps *m, const uint8_t addr[16])
{
	struct sw_ban_key k;
	unsigned int plen;
	int err = ban_key(m, addr, &k, &plen);

	if (err)
		return err;
	return bpf_map_delete_elem(m->bans, &k) ? -errno : 0;
}

int sw_ban_del_key(const struct sw_maps *m, const struct sw_ban_key *k)
{
	if (m->bans < 0)
		return -ENOENT;
	return bpf_map_delete_elem(m->bans, k) ? -errno : 0;
}

int sw_ban_get(const struct sw_maps *m, const uint8_t addr[16], struct sw_ban *v)
{
	struct sw_ban_key k;
	unsigned int plen;
	int err = ban_key(m, addr, &k, &plen);

	if (err)
		return err;
	return bpf_map_lookup_elem(m->bans, &k, v) ? -errno : 0;
}

int sw_ban_foreach(const struct sw_maps *m, sw_ban_cb cb, void *ctx)
{
	struct sw_ban_key key, next;
	struct sw_ban val;
	void *prev = NULL;
	int ret;

	if (m->bans < 0)
		return -ENOENT;
	while (bpf_map_get_next_key(m->bans, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->bans, &key, &val)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		ret = cb(&key, &val, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

struct ban_scan {
	sw_ban_cb cb;
	void *ctx;
};

static void ban_entry(const void *k, const void *v, void *ctx)
{
	struct ban_scan *b = ctx;

	b->cb(k, v, b->ctx);
}

int sw_ban_scan(const struct sw_maps *m, struct sw_ban_cursor *c, unsigned int max, sw_ban_cb cb,
		void *ctx)
{
	struct ban_scan b = {cb, ctx};

	if (m->bans < 0)
		return -ENOENT;
	return sw_map_scan(m->bans, sizeof(struct sw_ban_key), sizeof(struct sw_ban), c, max,
			   ban_entry, &b);
}

int sw_ban_capacity(const struct sw_maps *m, uint32_t *max_entries)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	if (m->bans < 0)
		return -ENOENT;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(m->bans, &info, &len))
		return -errno;
	*max_entries = info.max_entries;
	return 0;
}

struct expired {
	struct sw_ban_key *keys;
	size_t n, cap;
	uint64_t now;
};

static int expired_cb(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	struct expired *e = ctx;

	if (!v->expires_ns || v->expires_ns >= e->now)
		return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct sw_ban_key *p = realloc(e->keys, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		e->keys = p;
		e->cap = cap;
	}
	e->keys[e->n++] = *k;
	return 0;
}

int sw_ban_gc(const struct sw_maps *m, uint64_t now_ns, unsigned int *removed)
{
	struct expired e = {.now = now_ns};
	unsigned int n = 0;
	size_t i;
	int err, empty;

	/* Collect first: deleting while walking restarts a hash walk. */
	err = sw_ban_foreach(m, expired_cb, &e);
	for (i = 0; !err && i < e.n; i++) {
		if (bpf_map_delete_elem(m->bans, &e.keys[i]) == 0)
			n++;
		else if (errno != ENOENT)
			err = -errno;
	}
	free(e.keys);
	if (removed)
		*removed = n;
	if (err)
		return err;
	empty = sw_map_empty(m->bans, sizeof(struct sw_ban_key));
	if (empty <= 0)
		return empty;
	/* Clear, then look again: a ban added meanwhile sets it back. */
	err = bans_flag(m, 0);
	if (err)
		return err;
	empty = sw_map_empty(m->bans, sizeof(struct sw_ban_key));
	if (empty < 0)
		return empty;
	return empty ? 0 : bans_flag(m, 1);
}

static int lpm_key(const struct sw_maps *m, struct sw_lpm_key *k, const uint8_t addr[16],
		   unsigned int prefixlen)
{
	if (m->trusted < 0)
		return -ENOENT;
	if (prefixlen > 128 || (sw_addr_is_v4(addr) && prefixlen < 96))
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->prefixlen = prefixlen;
	memcpy(k->addr, addr, 16);
	sw_addr_mask(k->addr, prefixlen);
	return 0;
}

int sw_trusted_add(const struct sw_maps *m, const uint8_t addr[16], unsigned int prefixlen)
{
	struct sw_lpm_key k;
	__u8 one = 1;
	int err = lpm_key(m, &k, addr, prefixlen);

	if (err)
		return err;
	if (bpf_map_update_elem(m->trusted, &k, &one, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}

int sw_trusted_del(const struct sw_maps *m, const uint8_t addr[16], unsigned int prefixlen)
{
	struct sw_lpm_key k;
	int err = lpm_key(m, &k, addr, prefixlen);

	if (err)
		return err;
	return bpf_map_delete_elem(m->trusted, &k) ? -errno : 0;
}

int sw_trusted_match(const struct sw_maps *m, const uint8_t addr[16])
{
	struct sw_lpm_key k;
	int err = lpm_key(m, &k, addr, 128);
	__u8 v;

	if (err)
		return err;
	if (bpf_map_lookup_elem(m->trusted, &k, &v) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int sw_trusted_foreach(const struct sw_maps *m, sw_trusted_cb cb, void *ctx)
{
	struct sw_lpm_key key, next;
	void *prev = NULL;
	int ret;

	if (m->trusted < 0)
		return 0; /* no trusted networks */
	while (bpf_map_get_next_key(m->trusted, prev, &next) == 0) {
		key = next;
		prev = &key;
		ret = cb(key.addr, key.prefixlen, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

int sw_flood_foreach(const struct sw_maps *m, sw_flood_cb cb, void *ctx)
{
	struct sw_flood_key key, next;
	struct sw_bucket val;
	void *prev = NULL;
	int ret;

	if (m->flood < 0)
		return -ENOENT;
	while (bpf_map_get_next_key(m->flood, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->flood, &key, &val)) {
			if (errno == ENOENT)
				continue; /* evicted under us */
			return -errno;
		}
		ret = cb(&key, &val, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}
