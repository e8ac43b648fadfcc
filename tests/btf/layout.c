// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BTF of the compiled BPF object against maps-schema/sipwall_maps.h as
 * compiled into this program: every struct's size, its member list, and each
 * member's offset and size by name; each map's type, key and value type.
 * Usage: test-btf-layout [OBJ] (default build/obj/bpf/sipwall.bpf.o).
 * Prints ok/FAIL lines and "test-btf-layout: N passed, N failed"; exits 1 on
 * any difference.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sipwall_maps.h"

struct field {
	const char *name;
	size_t off;
	size_t size;
};

struct sdesc {
	const char *name;
	size_t size;
	const struct field *f;
	unsigned int n;
};

#define F(s, m)                                                       \
	{                                                             \
#m, offsetof(struct s, m), sizeof(((struct s *)0)->m) \
	}
#define S(s, ...)                                                       \
	static const struct field s##_f[] = {__VA_ARGS__};              \
	static const struct sdesc s##_d = {#s, sizeof(struct s), s##_f, \
					   sizeof(s##_f) / sizeof(s##_f[0])}

S(sw_pinhole_key, F(sw_pinhole_key, addr), F(sw_pinhole_key, port), F(sw_pinhole_key, proto),
  F(sw_pinhole_key, pad));
S(sw_source, F(sw_source, addr), F(sw_source, port), F(sw_source, check), F(sw_source, flags));
S(sw_pinhole_hot, F(sw_pinhole_hot, src), F(sw_pinhole_hot, kind), F(sw_pinhole_hot, media),
  F(sw_pinhole_hot, flags), F(sw_pinhole_hot, media_idx), F(sw_pinhole_hot, packets),
  F(sw_pinhole_hot, bytes), F(sw_pinhole_hot, last_seen_ns), F(sw_pinhole_hot, call_hash),
  F(sw_pinhole_hot, drops), F(sw_pinhole_hot, created_s));
S(sw_ph_srcs, F(sw_ph_srcs, src), F(sw_ph_srcs, pad));
S(sw_call, F(sw_call, call_id));
S(sw_frag_key, F(sw_frag_key, saddr), F(sw_frag_key, daddr), F(sw_frag_key, id),
  F(sw_frag_key, proto), F(sw_frag_key, pad));
S(sw_frag_val, F(sw_frag_val, seen_ns), F(sw_frag_val, verdict), F(sw_frag_val, pad));
S(sw_stat, F(sw_stat, packets), F(sw_stat, bytes));
S(sw_config, F(sw_config, media_lo), F(sw_config, media_hi), F(sw_config, max_pinholes),
  F(sw_config, version), F(sw_config, flags), F(sw_config, sig_ports), F(sw_config, flood_rate),
  F(sw_config, flood_burst), F(sw_config, flood_prefix_v4), F(sw_config, flood_prefix_v6),
  F(sw_config, ban_prefix_v4), F(sw_config, ban_prefix_v6), F(sw_config, dscp_audio),
  F(sw_config, dscp_video), F(sw_config, pad));
S(sw_ban_key, F(sw_ban_key, addr));
S(sw_ban, F(sw_ban, expires_ns), F(sw_ban, created_ns), F(sw_ban, packets), F(sw_ban, reason),
  F(sw_ban, prefixlen), F(sw_ban, pad));
S(sw_flood_key, F(sw_flood_key, addr));
S(sw_bucket, F(sw_bucket, tokens), F(sw_bucket, last_ns), F(sw_bucket, dropped));
S(sw_lpm_key, F(sw_lpm_key, prefixlen), F(sw_lpm_key, addr));
S(sw_iface_info, F(sw_iface_info, ifindex), F(sw_iface_info, mode), F(sw_iface_info, prog_id),
  F(sw_iface_info, egress_prog_id), F(sw_iface_info, priority), F(sw_iface_info, flags),
  F(sw_iface_info, attached_ns), F(sw_iface_info, name), F(sw_iface_info, netns_cookie),
  F(sw_iface_info, netns_ino), F(sw_iface_info, pad));
S(sw_iface_key, F(sw_iface_key, netns), F(sw_iface_key, ifindex), F(sw_iface_key, pad));
S(sw_fwd_dev, F(sw_fwd_dev, ifindex), F(sw_fwd_dev, prog));
S(sw_vlan_key, F(sw_vlan_key, ifindex), F(sw_vlan_key, vid), F(sw_vlan_key, dir),
  F(sw_vlan_key, pad));
S(sw_vlan_dev, F(sw_vlan_dev, ifindex), F(sw_vlan_dev, vid), F(sw_vlan_dev, pad));

static const struct sdesc *structs[] = {
	&sw_pinhole_key_d, &sw_source_d,   &sw_pinhole_hot_d, &sw_ph_srcs_d,  &sw_call_d,
	&sw_frag_key_d,	   &sw_frag_val_d, &sw_stat_d,	      &sw_config_d,   &sw_iface_info_d,
	&sw_ban_key_d,	   &sw_ban_d,	   &sw_flood_key_d,   &sw_bucket_d,   &sw_lpm_key_d,
	&sw_iface_key_d,   &sw_fwd_dev_d,  &sw_vlan_key_d,    &sw_vlan_dev_d,
};

/* key/value "u32" means the BTF integer type of 4 bytes, unsigned */
static const struct mdesc {
	const char *name;
	enum bpf_map_type type;
	const char *key;
	const char *value;
} maps[] = {
	{SW_MAP_PINHOLES, BPF_MAP_TYPE_HASH, "sw_pinhole_key", "sw_pinhole_hot"},
	{SW_MAP_PH_SRCS, BPF_MAP_TYPE_HASH, "sw_pinhole_key", "sw_ph_srcs"},
	{SW_MAP_CALLS, BPF_MAP_TYPE_HASH, "u64", "sw_call"},
	{SW_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, "u32", "sw_stat"},
	{SW_MAP_FRAGS, BPF_MAP_TYPE_LRU_HASH, "sw_frag_key", "sw_frag_val"},
	{SW_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, "u32", "sw_config"},
	{SW_MAP_IFACES, BPF_MAP_TYPE_HASH, "sw_iface_key", "sw_iface_info"},
	{SW_MAP_BANS, BPF_MAP_TYPE_HASH, "sw_ban_key", "sw_ban"},
	{SW_MAP_FLOOD, BPF_MAP_TYPE_LRU_HASH, "sw_flood_key", "sw_bucket"},
	{SW_MAP_TRUSTED, BPF_MAP_TYPE_LPM_TRIE, "sw_lpm_key", "u8"},
	{SW_MAP_FWD_DEVS, BPF_MAP_TYPE_DEVMAP_HASH, "u32", "sw_fwd_dev"},
	{SW_MAP_FWD_VLANS, BPF_MAP_TYPE_HASH, "sw_vlan_key", "sw_vlan_dev"},
};

static int n_pass, n_fail;

#define CHECK(cond, ...)                             \
	do {                                         \
		int c_ = (cond);                     \
		if (c_)                              \
			n_pass++;                    \
		else                                 \
			n_fail++;                    \
		printf("%s - ", c_ ? "ok" : "FAIL"); \
		printf(__VA_ARGS__);                 \
		putchar('\n');                       \
	} while (0)

static const struct btf_member *member(const struct btf *btf, const struct btf_type *t,
				       const char *name, unsigned int *idx)
{
	const struct btf_member *m = btf_members(t);
	unsigned int i;

	for (i = 0; i < btf_vlen(t); i++, m++) {
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name)) {
			*idx = i;
			return m;
		}
	}
	return NULL;
}

static void check_struct(const struct btf *btf, const struct sdesc *d)
{
	const struct btf_type *t;
	unsigned int i, idx;
	int id;

	id = btf__find_by_name_kind(btf, d->name, BTF_KIND_STRUCT);
	if (id < 0) {
		CHECK(0, "struct %s: not in the object's BTF", d->name);
		return;
	}
	t = btf__type_by_id(btf, id);
	CHECK(t->size == d->size, "struct %s: size %u, header %zu", d->name, t->size, d->size);
	CHECK(btf_vlen(t) == d->n, "struct %s: %u members, header %u", d->name, btf_vlen(t), d->n);
	for (i = 0; i < d->n; i++) {
		const struct btf_member *m = member(btf, t, d->f[i].name, &idx);
		__s64 size;
		__u32 off;

		if (!m) {
			CHECK(0, "%s.%s: missing in BTF", d->name, d->f[i].name);
			continue;
		}
		off = btf_member_bit_offset(t, idx);
		size = btf__resolve_size(btf, m->type);
		CHECK(off % 8 == 0 && btf_member_bitfield_size(t, idx) == 0 &&
			      off / 8 == d->f[i].off && size == (__s64)d->f[i].size,
		      "%s.%s: offset %u size %lld, header offset %zu size %zu", d->name,
		      d->f[i].name, off / 8, (long long)size, d->f[i].off, d->f[i].size);
	}
}

/* Name of a BTF type for comparison: struct name, or "u32" for a 4-byte
 * unsigned integer whatever its typedef chain (__u32, unsigned int). */
static const char *type_label(const struct btf *btf, __u32 id, char *buf, size_t len)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t)
		return "?";
	if (btf_is_struct(t))
		return btf__name_by_offset(btf, t->name_off);
	if (btf_is_int(t) && !(btf_int_encoding(t) & BTF_INT_SIGNED)) {
		snprintf(buf, len, "u%u", t->size * 8);
		return buf;
	}
	return "?";
}

static void check_maps(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	const struct btf *btf;
	struct bpf_map *m;
	char kb[16], vb[16];
	unsigned int i;

	if (!obj) {
		CHECK(0, "open %s: %s", path, strerror(errno));
		return;
	}
	btf = bpf_object__btf(obj);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const char *k, *v;

		m = bpf_object__find_map_by_name(obj, maps[i].name);
		if (!m) {
			CHECK(0, "map %s: not in the object", maps[i].name);
			continue;
		}
		k = type_label(btf, bpf_map__btf_key_type_id(m), kb, sizeof(kb));
		v = type_label(btf, bpf_map__btf_value_type_id(m), vb, sizeof(vb));
		CHECK(bpf_map__type(m) == maps[i].type && !strcmp(k, maps[i].key) &&
			      !strcmp(v, maps[i].value),
		      "map %s: type %s key %s value %s, want %s %s %s", maps[i].name,
		      libbpf_bpf_map_type_str(bpf_map__type(m)), k, v,
		      libbpf_bpf_map_type_str(maps[i].type), maps[i].key, maps[i].value);
	}
	/* and no map the contract does not know */
	bpf_object__for_each_map(m, obj)
	{
		const char *name = bpf_map__name(m);
		/* .rodata and friends (libbpf names them obj.rodata) */
		int known = bpf_map__is_internal(m);

		for (i = 0; !known && i < sizeof(maps) / sizeof(maps[0]); i++)
			known = !strcmp(name, maps[i].name);
		CHECK(known, "map %s: listed in this test", name);
	}
	bpf_object__close(obj);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "build/obj/bpf/sipwall.bpf.o";
	struct btf *btf;
	unsigned int i;

	libbpf_set_print(NULL);
	btf = btf__parse(path, NULL);
	if (!btf) {
		printf("FAIL - btf__parse %s: %s\n", path, strerror(errno));
		printf("test-btf-layout: 0 passed, 1 failed\n");
		return 1;
	}
	for (i = 0; i < sizeof(structs) / sizeof(structs[0]); i++)
		check_struct(btf, structs[i]);
	btf__free(btf);
	check_maps(path);
	printf("test-btf-layout: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
