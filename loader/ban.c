// SPDX-License-Identifier: GPL-2.0-only
/*
 * ban add|del|list|gc, trusted add|del|list, flood set|show: the DoS state
 * in the pinned maps (sw_bans, sw_trusted, sw_flood, sw_config), and the
 * flood/ban part of `stats`. Each command checks everything before it
 * writes, so a refused command changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "loader/sipwall.h"

#define NS_PER_S 1000000000ULL

static int open_dos_maps(const struct sw_args *a, struct sw_maps *m)
{
	if (sw_need_root() || sw_open_maps_or_report(a->pin_path, m))
		return -1;
	if (m->bans < 0 || m->flood < 0 || m->trusted < 0) {
		pr_err("the maps under %s predate the ban list and flood guard (re-attach with "
		       "this sipwall: detach every interface, then attach)",
		       a->pin_path);
		sw_maps_close(m);
		return -1;
	}
	return 0;
}

static int read_config(const struct sw_args *a, const struct sw_maps *m, struct sw_config *c)
{
	int err = sw_config_read(m, c);

	if (err)
		pr_err("cannot read sw_config under %s: %s", a->pin_path, strerror(-err));
	return err;
}

/* The family's own prefix length of a v4-mapped-terms one. */
static unsigned int family_len(const uint8_t addr[16], unsigned int plen)
{
	return sw_addr_is_v4(addr) ? plen - 96 : plen;
}

/* Bans are keyed at the configured prefix of their family (0: per address). */
static unsigned int ban_plen(const struct sw_config *c, const uint8_t addr[16])
{
	if (sw_addr_is_v4(addr))
		return c->ban_prefix_v4 && c->ban_prefix_v4 <= 32 ? 96u + c->ban_prefix_v4 : 128u;
	return c->ban_prefix_v6 && c->ban_prefix_v6 <= 128 ? c->ban_prefix_v6 : 128u;
}

/*
 * IP or IP/PREFIX for ban add|del: with a prefix it must be the configured
 * ban prefix and have no host bits; a bare address is masked to it.
 */
static int parse_ban_target(const struct sw_args *a, const struct sw_config *c, uint8_t addr[16],
			    unsigned int *plen)
{
	bool has_prefix = strchr(a->pos, '/') != NULL;
	unsigned int want;
	int err;

	err = sw_cidr_parse(a->pos, addr, plen, 0);
	if (err == -EDOM) {
		pr_err("'%s': host bits set beyond the prefix", a->pos);
		return SW_EXIT_USAGE;
	}
	if (err) {
		pr_err("'%s': expected an IPv4 or IPv6 address, optionally /PREFIX", a->pos);
		return SW_EXIT_USAGE;
	}
	want = ban_plen(c, addr);
	if (has_prefix && *plen != want) {
		pr_err("'%s': bans of %s sources cover /%u here (sipwall flood set "
		       "--ban-prefix-v%c N to change that)",
		       a->pos, sw_addr_is_v4(addr) ? "IPv4" : "IPv6", family_len(addr, want),
		       sw_addr_is_v4(addr) ? '4' : '6');
		return SW_EXIT_USAGE;
	}
	sw_addr_mask(addr, want);
	*plen = want;
	return 0;
}

/* What ban add|del and trusted add|del act on: a network and its text. */
struct dos_target {
	uint8_t addr[16];
	unsigned int plen;
	char net[64];
};

/*
 * What ban add and del do first: the DoS maps opened, sw_config read, the
 * target parsed and masked to the ban prefix. On success the caller closes
 * m; on failure m is closed and the exit code returned.
 */
static int open_ban_target(const struct sw_args *a, struct sw_maps *m, struct dos_target *t)
{
	struct sw_config c;
	int ret;

	if (open_dos_maps(a, m))
		return SW_EXIT_FAIL;
	if (read_config(a, m, &c)) {
		sw_maps_close(m);
		return SW_EXIT_FAIL;
	}
	ret = parse_ban_target(a, &c, t->addr, &t->plen);
	if (ret) {
		sw_maps_close(m);
		return ret;
	}
	sw_cidr_format(t->addr, t->plen, t->net, sizeof(t->net));
	return 0;
}

typedef int (*open_target_fn)(const struct sw_args *a, struct sw_maps *m, struct dos_target *t);
typedef int (*target_cmd_fn)(const struct sw_args *a, const struct sw_maps *m,
			     const struct dos_target *t);

/* Run one of ban add|del, trusted add|del on the target open() yields. */
static int run_target_cmd(const struct sw_args *a, open_target_fn open, target_cmd_fn cmd)
{
	struct dos_target t;
	struct sw_maps m;
	int ret;

	ret = open(a, &m, &t);
	if (ret)
		return ret;
	ret = cmd(a, &m, &t);
	sw_maps_close(&m);
	return ret;
}

/* --json output: one line, slashes as they are; frees o. */
static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

struct trusted_hit {
	const uint8_t *a;
	unsigned int plen;
	char net[64];
};

static int trusted_hit_cb(const uint8_t addr[16], unsigned int prefixlen, void *ctx)
{
	struct trusted_hit *t = ctx;
	unsigned int n = prefixlen < t->plen ? prefixlen : t->plen;
	uint8_t x[16], y[16];

	memcpy(x, t->a, 16);
	memcpy(y, addr, 16);
	sw_addr_mask(x, n);
	sw_addr_mask(y, n);
	if (memcmp(x, y, 16))
		return 0;
	sw_cidr_format(addr, prefixlen, t->net, sizeof(t->net));
	return 1;
}

static int ban_add(const struct sw_args *a, const struct sw_maps *m, const struct dos_target *t)
{
	struct trusted_hit th = {.a = t->addr, .plen = t->plen};
	int err;

	if (sw_trusted_foreach(m, trusted_hit_cb, &th) == 1) {
		pr_err("%s overlaps the trusted network %s; trusted networks are never banned "
		       "(sipwall trusted del %s first)",
		       t->net, th.net, th.net);
		return SW_EXIT_FAIL;
	}
	err = sw_ban_add(m, t->addr, a->ttl_set ? a->ttl_s * NS_PER_S : 0, a->reason);
	if (err) {
		if (err == -ENOSPC)
			pr_err("the ban list is full (%u entries)", SW_BANS_MAX);
		else if (err == -EPERM)
			pr_err("%s is in a trusted network; trusted networks are never banned",
			       t->net);
		else
			pr_err("cannot add the ban for %s: %s", t->net, strerror(-err));
		return SW_EXIT_FAIL;
	}
	if (a->ttl_set)
		printf("sipwall: banned %s for %u s (%s)\n", t->net, a->ttl_s,
		       sw_ban_reason_name(a->reason));
	else
		printf("sipwall: banned %s until 'sipwall ban del' (%s)\n", t->net,
		       sw_ban_reason_name(a->reason));
	return SW_EXIT_OK;
}

int do_ban_add(const struct sw_args *a)
{
	return run_target_cmd(a, open_ban_target, ban_add);
}

static int ban_del(const struct sw_args *a, const struct sw_maps *m, const struct dos_target *t)
{
	int err = sw_ban_del(m, t->addr);

	(void)a;
	if (err == -ENOENT) {
		pr_err("no ban for %s", t->net);
		return SW_EXIT_FAIL;
	}
	if (err) {
		pr_err("cannot delete the ban for %s: %s", t->net, strerror(-err));
		return SW_EXIT_FAIL;
	}
	/* the last ban gone: the data path stops looking */
	sw_ban_gc(m, 0, NULL);
	printf("sipwall: ban on %s lifted\n", t->net);
	return SW_EXIT_OK;
}

int do_ban_del(const struct sw_args *a)
{
	return run_target_cmd(a, open_ban_target, ban_del);
}

struct ban_row {
	struct sw_ban_key k;
	struct sw_ban v;
};

struct ban_rows {
	struct ban_row *r;
	size_t n, cap;
};

static int ban_collect(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	struct ban_rows *b = ctx;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ban_row *p = realloc(b->r, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		b->r = p;
		b->cap = cap;
	}
	b->r[b->n].k = *k;
	b->r[b->n].v = *v;
	b->n++;
	return 0;
}

/* Most dropped first, then by address. */
static int ban_cmp(const void *x, const void *y)
{
	const struct ban_row *a = x, *b = y;

	if (a->v.packets != b->v.packets)
		return a->v.packets < b->v.packets ? 1 : -1;
	return memcmp(a->k.addr, b->k.addr, 16);
}

int do_ban_list(const struct sw_args *a)
{
	struct ban_rows b = {0};
	struct sw_maps m;
	uint64_t now;
	json_object *arr = NULL;
	size_t i;
	int err, ret = SW_EXIT_FAIL;

	if (open_dos_maps(a, &m))
		return SW_EXIT_FAIL;
	err = sw_ban_foreach(&m, ban_collect, &b);
	if (err) {
		pr_err("cannot read sw_bans under %s: %s", a->pin_path, strerror(-err));
		goto out;
	}
	now = sw_monotonic_ns();
	qsort(b.r, b.n, sizeof(*b.r), ban_cmp);
	if (a->json)
		arr = json_object_new_array();
	else
		printf("%-44s %-20s %12s %14s %10s\n", "SOURCE", "REASON", "EXPIRES_IN", "PACKETS",
		       "AGE");
	for (i = 0; i < b.n; i++) {
		const struct sw_ban *v = &b.r[i].v;
		uint64_t age = now > v->created_ns ? (now - v->created_ns) / NS_PER_S : 0;
		bool expired = v->expires_ns && v->expires_ns <= now;
		uint64_t left = v->expires_ns && !expired
					? (v->expires_ns - now + NS_PER_S - 1) / NS_PER_S
					: 0;
		unsigned int plen = v->prefixlen ? v->prefixlen : 128;
		char net[64], exp[24];

		sw_cidr_format(b.r[i].k.addr, plen, net, sizeof(net));
		if (arr) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "source", json_object_new_string(net));
			json_object_object_add(
				o, "prefixlen",
				json_object_new_int((int)family_len(b.r[i].k.addr, plen)));
			json_object_object_add(
				o, "reason", json_object_new_string(sw_ban_reason_name(v->reason)));
			json_object_object_add(o, "expires_in_s",
					       v->expires_ns ? json_object_new_uint64(left) : NULL);
			json_object_object_add(o, "expired", json_object_new_boolean(expired));
			json_object_object_add(o, "packets", json_object_new_uint64(v->packets));
			json_object_object_add(o, "age_s", json_object_new_uint64(age));
			json_object_array_add(arr, o);
			continue;
		}
		if (!v->expires_ns)
			snprintf(exp, sizeof(exp), "never");
		else if (expired)
			snprintf(exp, sizeof(exp), "expired");
		else
			snprintf(exp, sizeof(exp), "%llu s", (unsigned long long)left);
		printf("%-44s %-20s %12s %14llu %8llu s\n", net, sw_ban_reason_name(v->reason), exp,
		       (unsigned long long)v->packets, (unsigned long long)age);
	}
	if (arr)
		print_json(arr);
	else if (!b.n)
		printf("(no bans)\n");
	ret = SW_EXIT_OK;
out:
	free(b.r);
	sw_maps_close(&m);
	return ret;
}

int do_ban_gc(const struct sw_args *a)
{
	struct sw_maps m;
	unsigned int n = 0;
	int err;

	if (open_dos_maps(a, &m))
		return SW_EXIT_FAIL;
	err = sw_ban_gc(&m, sw_monotonic_ns(), &n);
	sw_maps_close(&m);
	if (err) {
		pr_err("cannot remove expired bans: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}
	printf("sipwall: removed %u expired ban%s\n", n, n == 1 ? "" : "s");
	return SW_EXIT_OK;
}

/* CIDR for trusted add|del: host bits must be zero. */
static int parse_trusted(const struct sw_args *a, uint8_t addr[16], unsigned int *plen)
{
	int err = sw_cidr_parse(a->pos, addr, plen, 0);

	if (err == -EDOM)
		pr_err("'%s': host bits set beyond the prefix (did you mean the network "
		       "address?)",
		       a->pos);
	else if (err == -ERANGE)
		pr_err("'%s': prefix length out of range (IPv4 /0-32, IPv6 /0-128)", a->pos);
	else if (err)
		pr_err("'%s': expected a network, IPv4 or IPv6, as ADDRESS[/PREFIX]", a->pos);
	return err;
}

/*
 * What trusted add and del do first: the network parsed, then the DoS maps
 * opened. On success the caller closes m; on failure nothing is open and the
 * exit code is returned.
 */
static int open_trusted_target(const struct sw_args *a, struct sw_maps *m, struct dos_target *t)
{
	if (parse_trusted(a, t->addr, &t->plen))
		return SW_EXIT_USAGE;
	if (open_dos_maps(a, m))
		return SW_EXIT_FAIL;
	sw_cidr_format(t->addr, t->plen, t->net, sizeof(t->net));
	return 0;
}

struct ban_in_net {
	const uint8_t *net;
	unsigned int plen;
	unsigned int n;
	char first[64];
};

static int ban_in_net_cb(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	struct ban_in_net *b = ctx;
	unsigned int vplen = v->prefixlen ? v->prefixlen : 128;
	unsigned int n = vplen < b->plen ? vplen : b->plen;
	uint8_t x[16], y[16];

	memcpy(x, k->addr, 16);
	memcpy(y, b->net, 16);
	sw_addr_mask(x, n);
	sw_addr_mask(y, n);
	if (!memcmp(x, y, 16) && b->n++ == 0)
		sw_cidr_format(k->addr, vplen, b->first, sizeof(b->first));
	return 0;
}

static int trusted_add(const struct sw_args *a, const struct sw_maps *m, const struct dos_target *t)
{
	struct ban_in_net bn = {.net = t->addr, .plen = t->plen};
	int err;

	(void)a;
	err = sw_ban_foreach(m, ban_in_net_cb, &bn);
	if (err) {
		pr_err("cannot read sw_bans: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}
	if (bn.n) {
		pr_err("%u ban%s overlap%s %s (first %s); lift them first (sipwall ban del), "
		       "trusted networks are never banned",
		       bn.n, bn.n == 1 ? "" : "s", bn.n == 1 ? "s" : "", t->net, bn.first);
		return SW_EXIT_FAIL;
	}
	err = sw_trusted_add(m, t->addr, t->plen);
	if (err) {
		pr_err("cannot add trusted network %s: %s", t->net,
		       err == -ENOSPC ? "sw_trusted is full" : strerror(-err));
		return SW_EXIT_FAIL;
	}
	printf("sipwall: trusted %s\n", t->net);
	return SW_EXIT_OK;
}

int do_trusted_add(const struct sw_args *a)
{
	return run_target_cmd(a, open_trusted_target, trusted_add);
}

static int trusted_del(const struct sw_args *a, const struct sw_maps *m, const struct dos_target *t)
{
	int err = sw_trusted_del(m, t->addr, t->plen);

	(void)a;
	if (err == -ENOENT) {
		pr_err("%s is not a trusted network (sipwall trusted list)", t->net);
		return SW_EXIT_FAIL;
	}
	if (err) {
		pr_err("cannot remove trusted network %s: %s", t->net, strerror(-err));
		return SW_EXIT_FAIL;
	}
	printf("sipwall: %s no longer trusted\n", t->net);
	return SW_EXIT_OK;
}

int do_trusted_del(const struct sw_args *a)
{
	return run_target_cmd(a, open_trusted_target, trusted_del);
}

static int trusted_print_cb(const uint8_t addr[16], unsigned int prefixlen, void *ctx)
{
	json_object *arr = ctx;
	char net[64];

	sw_cidr_format(addr, prefixlen, net, sizeof(net));
	if (arr)
		json_object_array_add(arr, json_object_new_string(net));
	else
		printf("%s\n", net);
	return 0;
}

int do_trusted_list(const struct sw_args *a)
{
	json_object *arr = a->json ? json_object_new_array() : NULL;
	struct sw_maps m;
	int err;

	if (open_dos_maps(a, &m)) {
		json_object_put(arr);
		return SW_EXIT_FAIL;
	}
	err = sw_trusted_foreach(&m, trusted_print_cb, arr);
	sw_maps_close(&m);
	if (err) {
		json_object_put(arr);
		pr_err("cannot read sw_trusted: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}
	if (arr)
		print_json(arr);
	return SW_EXIT_OK;
}

/* Bans of one family whose key length would change with a new ban prefix. */
struct family_bans {
	int v4;
	unsigned int n;
};

static int family_bans_cb(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	struct family_bans *f = ctx;

	(void)v;
	if (sw_addr_is_v4(k->addr) == f->v4)
		f->n++;
	return 0;
}

static int ban_prefix_change(const struct sw_maps *m, int v4, uint8_t old, uint8_t new)
{
	struct family_bans f = {.v4 = v4};
	int err;

	if (!new || old == new)
		return 0;
	err = sw_ban_foreach(m, family_bans_cb, &f);
	if (err) {
		pr_err("cannot read sw_bans: %s", strerror(-err));
		return err;
	}
	if (f.n) {
		pr_err("--ban-prefix-v%c %u: %u IPv%c ban%s keyed at /%u exist; lift them first "
		       "(sipwall ban list, ban del)",
		       v4 ? '4' : '6', new, f.n, v4 ? '4' : '6', f.n == 1 ? "" : "s", old);
		return -EBUSY;
	}
	return 0;
}

static void ports_text(const uint16_t p[SW_SIG_PORTS], char *buf, size_t len)
{
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < SW_SIG_PORTS; i++)
		if (p[i])
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%u", buf[0] ? "," : "",
				 p[i]);
	if (!buf[0])
		snprintf(buf, len, "none");
}

int do_flood_set(const struct sw_args *a)
{
	struct sw_config c, n;
	struct sw_maps m;
	char ports[40];
	unsigned int i;
	int ret = SW_EXIT_FAIL;

	if (!a->sig_ports_set && !a->rate_set && !a->burst_set && !a->prefix_v4 && !a->prefix_v6 &&
	    !a->ban_prefix_v4 && !a->ban_prefix_v6) {
		pr_err("nothing to set (see sipwall flood set --help)");
		return SW_EXIT_USAGE;
	}
	if (open_dos_maps(a, &m))
		return SW_EXIT_FAIL;
	if (read_config(a, &m, &c))
		goto out;
	if (!c.media_lo) {
		pr_err("sw_config under %s was never written (run 'sipwall attach' first)",
		       a->pin_path);
		goto out;
	}
	n = c;
	if (!n.flood_prefix_v4 && !n.ban_prefix_v4) /* written before the DoS fields */
		sw_config_dos_defaults(&n);
	if (a->sig_ports_set)
		memcpy(n.sig_ports, a->sig_ports, sizeof(n.sig_ports));
	for (i = 0; i < SW_SIG_PORTS; i++) {
		if (n.sig_ports[i] && n.sig_ports[i] >= n.media_lo &&
		    n.sig_ports[i] <= n.media_hi) {
			pr_err("signalling port %u lies in the media range %u-%u", n.sig_ports[i],
			       n.media_lo, n.media_hi);
			goto out;
		}
	}
	if (a->rate_set)
		n.flood_rate = a->rate;
	if (a->burst_set)
		n.flood_burst = a->burst;
	else if (a->rate_set && a->rate && !c.flood_rate)
		n.flood_burst = a->rate; /* first time on: one second's worth */
	if (n.flood_rate && !n.flood_burst)
		n.flood_burst = n.flood_rate;
	/* The data path clamps elapsed time at ~1,099 s: a deeper bucket
	 * would never fill up again. */
	if (n.flood_rate && (uint64_t)n.flood_burst > (uint64_t)n.flood_rate * 1000) {
		pr_err("--burst %u at --rate %u takes %llu s to fill; at most 1000 s of the rate",
		       n.flood_burst, n.flood_rate,
		       (unsigned long long)(n.flood_burst / n.flood_rate));
		goto out;
	}
	if (a->prefix_v4)
		n.flood_prefix_v4 = a->prefix_v4;
	if (a->prefix_v6)
		n.flood_prefix_v6 = a->prefix_v6;
	if (ban_prefix_change(&m, 1, c.ban_prefix_v4 ? c.ban_prefix_v4 : 32, a->ban_prefix_v4) ||
	    ban_prefix_change(&m, 0, c.ban_prefix_v6 ? c.ban_prefix_v6 : 128, a->ban_prefix_v6))
		goto out;
	if (a->ban_prefix_v4)
		n.ban_prefix_v4 = a->ban_prefix_v4;
	if (a->ban_prefix_v6)
		n.ban_prefix_v6 = a->ban_prefix_v6;
	if (n.flood_rate)
		n.flags |= SW_CFG_FLOOD_GUARD;
	else
		n.flags &= ~SW_CFG_FLOOD_GUARD;
	if (sw_config_write(&m, &n)) {
		pr_err("cannot write sw_config: %s", strerror(errno));
		goto out;
	}
	ports_text(n.sig_ports, ports, sizeof(ports));
	if (n.flood_rate)
		printf("sipwall: flood guard on: %u packets/s, burst %u, per IPv4 /%u and IPv6 /%u "
		       "source; signalling ports %s; bans cover /%u and /%u\n",
		       n.flood_rate, n.flood_burst, n.flood_prefix_v4, n.flood_prefix_v6, ports,
		       n.ban_prefix_v4, n.ban_prefix_v6);
	else
		printf("sipwall: flood guard off; signalling ports %s; bans cover /%u and /%u\n",
		       ports, n.ban_prefix_v4, n.ban_prefix_v6);
	ret = SW_EXIT_OK;
out:
	sw_maps_close(&m);
	return ret;
}

/* The busiest buckets: top N by drops. */
#define FLOOD_TOP 10

struct flood_sum {
	unsigned int buckets, limited; /* limited: dropped > 0 */
	uint64_t dropped;
	struct {
		struct sw_flood_key k;
		struct sw_bucket v;
	} top[FLOOD_TOP];
	unsigned int ntop;
};

static int flood_sum_cb(const struct sw_flood_key *k, const struct sw_bucket *v, void *ctx)
{
	struct flood_sum *f = ctx;
	unsigned int i, j;

	f->buckets++;
	if (!v->dropped)
		return 0;
	f->limited++;
	f->dropped += v->dropped;
	for (i = 0; i < f->ntop && f->top[i].v.dropped >= v->dropped; i++)
		;
	if (i == FLOOD_TOP)
		return 0;
	if (f->ntop < FLOOD_TOP)
		f->ntop++;
	for (j = f->ntop - 1; j > i; j--)
		f->top[j] = f->top[j - 1];
	f->top[i].k = *k;
	f->top[i].v = *v;
	return 0;
}

struct ban_sum {
	unsigned int active, expired;
	uint64_t packets, now;
};

static int ban_sum_cb(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	struct ban_sum *b = ctx;

	(void)k;
	if (v->expires_ns && v->expires_ns <= b->now)
		b->expired++;
	else
		b->active++;
	b->packets += v->packets;
	return 0;
}

static unsigned int flood_plen(const struct sw_config *c, const uint8_t a[16])
{
	if (sw_addr_is_v4(a))
		return c->flood_prefix_v4 && c->flood_prefix_v4 <= 32 ? 96u + c->flood_prefix_v4
								      : 128u;
	return c->flood_prefix_v6 && c->flood_prefix_v6 <= 128 ? c->flood_prefix_v6 : 128u;
}

static json_object *flood_json(const struct sw_config *c, const struct flood_sum *f)
{
	json_object *o = json_object_new_object(), *p = json_object_new_array();
	unsigned int i;

	json_object_object_add(
		o, "enabled",
		json_object_new_boolean(c->flags & SW_CFG_FLOOD_GUARD && c->flood_rate));
	json_object_object_add(o, "rate", json_object_new_uint64(c->flood_rate));
	json_object_object_add(o, "burst", json_object_new_uint64(c->flood_burst));
	json_object_object_add(o, "prefix_v4", json_object_new_int(c->flood_prefix_v4));
	json_object_object_add(o, "prefix_v6", json_object_new_int(c->flood_prefix_v6));
	for (i = 0; i < SW_SIG_PORTS; i++)
		if (c->sig_ports[i])
			json_object_array_add(p, json_object_new_int(c->sig_ports[i]));
	json_object_object_add(o, "sig_ports", p);
	json_object_object_add(o, "buckets", json_object_new_uint64(f->buckets));
	json_object_object_add(o, "sources_limited", json_object_new_uint64(f->limited));
	json_object_object_add(o, "bucket_drops", json_object_new_uint64(f->dropped));
	{
		json_object *t = json_object_new_array();

		for (i = 0; i < f->ntop; i++) {
			json_object *s = json_object_new_object();
			char net[64];

			sw_cidr_format(f->top[i].k.addr, flood_plen(c, f->top[i].k.addr), net,
				       sizeof(net));
			json_object_object_add(s, "source", json_object_new_string(net));
			json_object_object_add(s, "dropped",
					       json_object_new_uint64(f->top[i].v.dropped));
			json_object_array_add(t, s);
		}
		json_object_object_add(o, "top", t);
	}
	return o;
}

void sw_dos_stats(const struct sw_maps *m)
{
	struct flood_sum f = {0};
	struct ban_sum b = {.now = sw_monotonic_ns()};
	struct sw_config c = {0};
	char ports[40];

	if (m->bans < 0 || m->flood < 0 || sw_config_read(m, &c))
		return;
	sw_flood_foreach(m, flood_sum_cb, &f);
	sw_ban_foreach(m, ban_sum_cb, &b);
	ports_text(c.sig_ports, ports, sizeof(ports));
	if (c.flags & SW_CFG_FLOOD_GUARD && c.flood_rate)
		printf("\nflood guard: on, %u packets/s burst %u per IPv4 /%u, IPv6 /%u source; "
		       "signalling ports %s\n",
		       c.flood_rate, c.flood_burst, c.flood_prefix_v4, c.flood_prefix_v6, ports);
	else
		printf("\nflood guard: off; signalling ports %s\n", ports);
	printf("  %u sources tracked, %u limited, %llu packets over the limit\n", f.buckets,
	       f.limited, (unsigned long long)f.dropped);
	printf("ban list: %u active, %u expired (not yet removed), %llu packets dropped\n",
	       b.active, b.expired, (unsigned long long)b.packets);
}

int do_flood_show(const struct sw_args *a)
{
	struct flood_sum f = {0};
	struct sw_config c;
	struct sw_maps m;
	unsigned int i;
	int err;

	if (open_dos_maps(a, &m))
		return SW_EXIT_FAIL;
	if (read_config(a, &m, &c)) {
		sw_maps_close(&m);
		return SW_EXIT_FAIL;
	}
	err = sw_flood_foreach(&m, flood_sum_cb, &f);
	sw_maps_close(&m);
	if (err) {
		pr_err("cannot read sw_flood: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}
	if (a->json) {
		json_object *o = flood_json(&c, &f);

		json_object_object_add(o, "ban_prefix_v4", json_object_new_int(c.ban_prefix_v4));
		json_object_object_add(o, "ban_prefix_v6", json_object_new_int(c.ban_prefix_v6));
		print_json(o);
		return SW_EXIT_OK;
	}
	{
		char ports[40];

		ports_text(c.sig_ports, ports, sizeof(ports));
		printf("signalling ports: %s\n", ports);
	}
	if (c.flags & SW_CFG_FLOOD_GUARD && c.flood_rate)
		printf("flood guard: on, %u packets/s, burst %u, one bucket per IPv4 /%u and "
		       "IPv6 /%u\n",
		       c.flood_rate, c.flood_burst, c.flood_prefix_v4, c.flood_prefix_v6);
	else
		printf("flood guard: off\n");
	printf("bans cover: IPv4 /%u, IPv6 /%u\n", c.ban_prefix_v4, c.ban_prefix_v6);
	printf("buckets: %u sources tracked, %u limited, %llu packets over the limit\n", f.buckets,
	       f.limited, (unsigned long long)f.dropped);
	for (i = 0; i < f.ntop; i++) {
		char net[64];

		sw_cidr_format(f.top[i].k.addr, flood_plen(&c, f.top[i].k.addr), net, sizeof(net));
		printf("  %-44s %14llu dropped\n", net, (unsigned long long)f.top[i].v.dropped);
	}
	return SW_EXIT_OK;
}
