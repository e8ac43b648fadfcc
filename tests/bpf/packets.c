// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table-driven packet tests of bpf/sipwall.bpf.c through BPF_PROG_TEST_RUN:
 * each case is a packet (or a sequence), the pinholes it meets, and the
 * expected action AND the one reason counter that must move. The main table
 * runs on sipwall_xdp and on sipwall_tc_in; the egress learner has its own.
 * Maps are pinned under a private root removed at exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipwall.skel.h"
#include "sipwall_maps.h"
#include "lib/swmap.h"
#include "pktbuild.h"

static const char *reason_names[] = {
#define SW_X_STR(name, str) str,
	SW_REASONS(SW_X_STR)
#undef SW_X_STR
};

static int n_pass, n_fail, n_skip;
static char pin_root[64];
static int verbose;

static void result(int good, const char *fmt, ...)
{
	va_list ap;

	if (good)
		n_pass++;
	else
		n_fail++;
	if (good && !verbose)
		return;
	printf("%s - ", good ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int libbpf_quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN || verbose > 1)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* ---- the loaded object ---------------------------------------------- */

enum hook { H_XDP, H_TC_IN, H_TC_EG };
static const char *hook_name[] = {"xdp", "tc_in", "tc_eg"};

struct env {
	struct sipwall *skel;
	int prog[3];
	int pinholes, stats, frags;
	struct sw_maps maps; /* the pinhole maps, for lib/swmap.h */
	int config, bans, flood, trusted, fwd_devs, fwd_vlans;
	int ncpu;
};

/* env_open loads the next object with forwarding on (rodata fwd_enabled). */
static int env_forward;

static void rm_pin_root(void)
{
	static const char *maps[] = {SW_MAP_PINHOLES, SW_MAP_STATS,   SW_MAP_FRAGS,
				     SW_MAP_CONFIG,   SW_MAP_IFACES,  SW_MAP_BANS,
				     SW_MAP_FLOOD,    SW_MAP_TRUSTED, SW_MAP_FWD_DEVS,
				     SW_MAP_PH_SRCS,  SW_MAP_CALLS,   SW_MAP_FWD_VLANS};
	char path[128];
	unsigned int i;

	if (!pin_root[0])
		return;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root, maps[i]);
		unlink(path);
	}
	rmdir(pin_root);
}

static void on_signal(int sig)
{
	rm_pin_root();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* max_pinholes 0 keeps the object's default; media_lo 0 too. */
static int env_open(struct env *e, unsigned int max_pinholes, uint16_t media_lo, uint16_t media_hi)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	int err;

	memset(e, 0, sizeof(*e));
	e->skel = sipwall__open_opts(&opts);
	if (!e->skel) {
		fprintf(stderr, "open skeleton: %s\n", strerror(errno));
		return -1;
	}
	if (max_pinholes && bpf_map__set_max_entries(e->skel->maps.sw_pinholes, max_pinholes)) {
		fprintf(stderr, "set max_entries %u failed\n", max_pinholes);
		goto fail;
	}
	if (media_lo) {
		e->skel->rodata->media_lo = media_lo;
		e->skel->rodata->media_hi = media_hi;
	}
	e->skel->rodata->fwd_enabled = env_forward;
	err = sipwall__load(e->skel);
	if (err) {
		fprintf(stderr, "load skeleton: %s\n", strerror(-err));
		goto fail;
	}
	e->prog[H_XDP] = bpf_program__fd(e->skel->progs.sipwall_xdp);
	e->prog[H_TC_IN] = bpf_program__fd(e->skel->progs.sipwall_tc_in);
	e->prog[H_TC_EG] = bpf_program__fd(e->skel->progs.sipwall_tc_eg);
	e->pinholes = bpf_map__fd(e->skel->maps.sw_pinholes);
	e->maps = (struct sw_maps)SW_MAPS_INIT;
	e->maps.pinholes = e->pinholes;
	e->maps.ph_srcs = bpf_map__fd(e->skel->maps.sw_ph_srcs);
	e->maps.calls = bpf_map__fd(e->skel->maps.sw_calls);
	e->stats = bpf_map__fd(e->skel->maps.sw_stats);
	e->frags = bpf_map__fd(e->skel->maps.sw_frags);
	e->config = bpf_map__fd(e->skel->maps.sw_config);
	e->bans = bpf_map__fd(e->skel->maps.sw_bans);
	e->flood = bpf_map__fd(e->skel->maps.sw_flood);
	e->trusted = bpf_map__fd(e->skel->maps.sw_trusted);
	e->fwd_devs = bpf_map__fd(e->skel->maps.sw_fwd_devs);
	e->fwd_vlans = bpf_map__fd(e->skel->maps.sw_fwd_vlans);
	e->ncpu = libbpf_num_possible_cpus();
	return 0;
fail:
	sipwall__destroy(e->skel);
	e->skel = NULL;
	return -1;
}

/* Unpin, so the next env gets fresh maps under the same private root. */
static void env_close(struct env *e)
{
	if (!e->skel)
		return;
	bpf_object__unpin_maps(e->skel->obj, NULL);
	sipwall__destroy(e->skel);
	e->skel = NULL;
}

static void stats_read(const struct env *e, struct sw_stat out[SW_R_MAX])
{
	struct sw_stat v[e->ncpu];
	__u32 k;
	int c;

	for (k = 0; k < SW_R_MAX; k++) {
		out[k].packets = out[k].bytes = 0;
		if (bpf_map_lookup_elem(e->stats, &k, v))
			continue;
		for (c = 0; c < e->ncpu; c++) {
			out[k].packets += v[c].packets;
			out[k].bytes += v[c].bytes;
		}
	}
}

static int run(const struct env *e, enum hook h, const struct pb_pkt *p, int *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len, .repeat = 1);
	int err = bpf_prog_test_run_opts(e->prog[h], &o);

	*retval = o.retval;
	return err;
}

/* ---- pinholes ------------------------------------------------------- */

struct src_spec {
	const char *addr;
	uint16_t port;
	uint8_t check;
	uint8_t flags; /* 0 = SW_SRC_ACTIVE */
};

struct ph_spec {
	const char *dst;
	uint16_t port;
	struct src_spec src[SW_MAX_SOURCES];
};

static void ph_key(const char *dst, uint16_t port, struct sw_pinhole_key *k)
{
	memset(k, 0, sizeof(*k));
	pb_addr16(dst, k->addr);
	k->port = htons(port);
	k->proto = IPPROTO_UDP;
}

/* media: enum sw_media of the pinhole (DSCP marking) */
static int ph_put_m(const struct env *e, const struct ph_spec *s, uint8_t media)
{
	struct sw_pinhole_key k;
	struct sw_pinhole v;
	int i;

	ph_key(s->dst, s->port, &k);
	memset(&v, 0, sizeof(v));
	for (i = 0; i < SW_MAX_SOURCES && s->src[i].addr; i++) {
		pb_addr16(s->src[i].addr, v.src[i].addr);
		v.src[i].port = htons(s->src[i].port);
		v.src[i].check = s->src[i].check;
		v.src[i].flags = s->src[i].flags ? s->src[i].flags : SW_SRC_ACTIVE;
	}
	snprintf(v.call_id, sizeof(v.call_id), "test-%s-%u", s->dst, s->port);
	v.call_hash = sw_fnv1a64(v.call_id, strlen(v.call_id)); /* an sw_calls record too */
	v.kind = SW_KIND_MANUAL;
	v.media = media;
	return sw_pinhole_put(&e->maps, &k, &v, BPF_ANY);
}

static int ph_put(const struct env *e, const struct ph_spec *s)
{
	return ph_put_m(e, s, SW_MEDIA_UNKNOWN);
}

static int ph_get(const struct env *e, const char *dst, uint16_t port, struct sw_pinhole *v)
{
	struct sw_pinhole_key k;

	ph_key(dst, port, &k);
	return sw_pinhole_get(&e->maps, &k, v);
}

#define A(a, p, c)                    \
	{                             \
		a, p, SW_CHECK_##c, 0 \
	}
/* The fixture every main-table case meets. */
static const struct ph_spec fixture[] = {
	{"10.0.0.2", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"10.0.0.2", 20000, {A("10.9.9.9", 0, ADDRESS)}},
	{"10.0.0.2", 15000, {A("10.9.9.9", 4000, SYMMETRIC)}},
	{"10.0.0.3",
	 16000,
	 {A("10.9.9.1", 5000, STRICT),
	  A("10.9.9.2", 5002, STRICT),
	  A("10.9.9.3", 0, ADDRESS),
	  {"10.9.9.4", 5004, SW_CHECK_STRICT, SW_SRC_LEARNED}}},
	{"fd00::2", 12000, {A("fd00::9", 4000, STRICT)}},
	{"fd00::2", 12002, {A("fd00::9", 0, ADDRESS)}},
	{"fd00::2", 12004, {A("fd00::9", 4000, SYMMETRIC)}},
};

static int fixture_put(const struct env *e)
{
	unsigned int i;

	for (i = 0; i < sizeof(fixture) / sizeof(fixture[0]); i++)
		if (ph_put(e, &fixture[i]))
			return -1;
	return 0;
}

/* ---- verdict checking ----------------------------------------------- */

static int want_action(enum hook h, int pass)
{
	if (h == H_XDP)
		return pass ? XDP_PASS : XDP_DROP;
	return pass ? TC_ACT_OK : TC_ACT_SHOT;
}

static int reason_passes(unsigned int r)
{
	return r == SW_R_PASSED_NOT_MEDIA || r == SW_R_PASSED_PINHOLE ||
	       r == SW_R_PASSED_FRAGMENT || r == SW_R_EGRESS_LEARNED || r == SW_R_EGRESS_PASSED ||
	       r == SW_R_PASSED_SIGNALLING || r == SW_R_PASSED_TRUSTED ||
	       (r >= SW_R_FWD_NO_NEIGH && r <= SW_R_FWD_VLAN);
}

/* Run one packet and check the action and that exactly the expected reason
 * counter moved by one packet and the frame's bytes. */
static void expect(const struct env *e, enum hook h, const char *name, const struct pb_spec *spec,
		   unsigned int want)
{
	struct sw_stat before[SW_R_MAX], after[SW_R_MAX];
	int rv, act, other = -1;
	struct pb_pkt p;
	unsigned int r;

	if (pb_build(spec, &p)) {
		result(0, "%s: %s: bad packet spec", hook_name[h], name);
		return;
	}
	stats_read(e, before);
	if (run(e, h, &p, &rv)) {
		result(0, "%s: %s: test run failed: %s", hook_name[h], name, strerror(errno));
		return;
	}
	stats_read(e, after);
	act = want_action(h, h == H_TC_EG ? 1 : reason_passes(want));
	for (r = 0; r < SW_R_MAX; r++) {
		uint64_t dp = after[r].packets - before[r].packets;
		uint64_t db = after[r].bytes - before[r].bytes;

		if (r == want ? (dp != 1 || db != p.len) : dp != 0)
			other = r;
	}
	if (rv == act && other < 0) {
		result(1, "%s: %s -> %s", hook_name[h], name, reason_names[want]);
		return;
	}
	for (r = 0; r < SW_R_MAX; r++)
		if (after[r].packets != before[r].packets)
			break;
	result(0, "%s: %s: action %d want %d; counted %s want %s", hook_name[h], name, rv, act,
	       r < SW_R_MAX ? reason_names[r] : "nothing", reason_names[want]);
}

/* ---- the main table ------------------------------------------------- */

struct pcase {
	const char *name;
	struct pb_spec pkt;
	unsigned int want;
	/* The skb test run refuses a frame whose IP header is cut (EINVAL)
	 * before the program runs, so such cases run on XDP only. */
	int xdp_only;
};

#define V4(s, sp, d, dp) .src = s, .sport = sp, .dst = d, .dport = dp
#define V6(s, sp, d, dp) .v6 = 1, V4(s, sp, d, dp)
#define R(x)		 SW_R_##x
#define FIRST		 .frag = PB_FIRST, .payload = 64
#define LATER(o)	 .frag = PB_LATER, .frag_off = (o), .payload = 64
#define CASE(n, w, ...)                                      \
	{                                                    \
		.name = n, .want = w, .pkt = { __VA_ARGS__ } \
	}
#define XDP_ONLY(n, w, ...)                                                 \
	{                                                                   \
		.name = n, .want = w, .xdp_only = 1, .pkt = { __VA_ARGS__ } \
	}

static const struct pcase main_cases[] = {
	/* IPv4, each check mode */
	CASE("v4 strict hit", R(PASSED_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10000)),
	CASE("v4 strict wrong port", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.9", 4001, "10.0.0.2", 10000)),
	CASE("v4 strict wrong addr", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.8", 4000, "10.0.0.2", 10000)),
	CASE("v4 no pinhole (port)", R(DROPPED_NO_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002)),
	CASE("v4 no pinhole (addr)", R(DROPPED_NO_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.4", 10000)),
	CASE("v4 address mode any port", R(PASSED_PINHOLE),
	     V4("10.9.9.9", 55555, "10.0.0.2", 20000)),
	CASE("v4 address mode wrong addr", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.7", 4000, "10.0.0.2", 20000)),
	CASE("v4 symmetric unlearned: SDP addr", R(PASSED_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 15000)),
	CASE("v4 symmetric unlearned: SDP addr other port", R(PASSED_PINHOLE),
	     V4("10.9.9.9", 6000, "10.0.0.2", 15000)),
	CASE("v4 symmetric unlearned: other addr", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.6", 4000, "10.0.0.2", 15000)),
	/* several sources for one destination */
	CASE("multi: source 1", R(PASSED_PINHOLE), V4("10.9.9.1", 5000, "10.0.0.3", 16000)),
	CASE("multi: source 2", R(PASSED_PINHOLE), V4("10.9.9.2", 5002, "10.0.0.3", 16000)),
	CASE("multi: source 2 wrong port", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.2", 5000, "10.0.0.3", 16000)),
	CASE("multi: source 3 (address)", R(PASSED_PINHOLE),
	     V4("10.9.9.3", 1234, "10.0.0.3", 16000)),
	CASE("multi: inactive slot", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.4", 5004, "10.0.0.3", 16000)),
	/* IPv6 */
	CASE("v6 strict hit", R(PASSED_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12000)),
	CASE("v6 strict wrong port", R(DROPPED_BAD_SOURCE), V6("fd00::9", 4002, "fd00::2", 12000)),
	CASE("v6 strict wrong addr", R(DROPPED_BAD_SOURCE), V6("fd00::8", 4000, "fd00::2", 12000)),
	CASE("v6 no pinhole", R(DROPPED_NO_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12006)),
	CASE("v6 address mode", R(PASSED_PINHOLE), V6("fd00::9", 9, "fd00::2", 12002)),
	CASE("v6 symmetric unlearned", R(PASSED_PINHOLE), V6("fd00::9", 7, "fd00::2", 12004)),
	CASE("v6 v4-mapped dst is not v4", R(DROPPED_NO_PINHOLE),
	     V6("::ffff:10.9.9.9", 4000, "fd00::3", 10000)),
	/* media range boundaries (default 10000-20000) */
	CASE("port lo-1 passes untouched", R(PASSED_NOT_MEDIA),
	     V4("10.9.9.9", 4000, "10.0.0.5", 9999)),
	CASE("port lo is media", R(DROPPED_NO_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.5", 10000)),
	CASE("port hi is media", R(DROPPED_NO_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.5", 20000)),
	CASE("port hi+1 passes untouched", R(PASSED_NOT_MEDIA),
	     V4("10.9.9.9", 4000, "10.0.0.5", 20001)),
	CASE("v6 port hi+1", R(PASSED_NOT_MEDIA), V6("fd00::9", 4000, "fd00::5", 20001)),
	/* VLAN */
	CASE("802.1Q hit", R(PASSED_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10000), .vlans = 1),
	CASE("802.1Q miss", R(DROPPED_NO_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10002),
	     .vlans = 1),
	CASE("QinQ hit", R(PASSED_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10000), .vlans = 2,
	     .qinq = 1),
	CASE("QinQ miss", R(DROPPED_NO_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10002),
	     .vlans = 2, .qinq = 1),
	CASE("double 802.1Q v6 bad source", R(DROPPED_BAD_SOURCE),
	     V6("fd00::9", 1, "fd00::2", 12000), .vlans = 2),
	/* deeper than the parser looks: dropped whatever is inside (the
	 * kernel strips any number of VID-0 tags); test_vlans() has the
	 * matrix of depths, VIDs and tag types */
	CASE("three tags: dropped", R(DROPPED_VLAN_DEPTH), V4("10.9.9.9", 4000, "10.0.0.2", 10002),
	     .vlans = 3),
	CASE("three VID-0 tags, non-media UDP: dropped", R(DROPPED_VLAN_DEPTH),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .vlans = 3, .vid0 = 1),
	CASE("three tags, TCP: dropped", R(DROPPED_VLAN_DEPTH),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .vlans = 3, .l4 = IPPROTO_TCP),
	CASE("ARP in three tags: dropped", R(DROPPED_VLAN_DEPTH), .ethertype = ETH_P_ARP,
	     .vlans = 3),
	CASE("ARP in two tags passes", R(PASSED_NOT_MEDIA), .ethertype = ETH_P_ARP, .vlans = 2),
	CASE("two tags, non-media UDP passes", R(PASSED_NOT_MEDIA),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .vlans = 2, .vid0 = 1),
	CASE("third tag cut: dropped", R(DROPPED_VLAN_DEPTH),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .vlans = 3, .cut = 14 + 8 + 2),
	/* IPv4 options */
	CASE("v4 options (ihl 6) hit", R(PASSED_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10000),
	     .ip4_opt_words = 1),
	CASE("v4 options (ihl 15) miss", R(DROPPED_NO_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .ip4_opt_words = 10),
	CASE("v4 options (ihl 15) bad source", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.9", 4001, "10.0.0.2", 10000), .ip4_opt_words = 10),
	/* IPv6 extension headers */
	CASE("v6 hop-by-hop hit", R(PASSED_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12000),
	     .ext = {IPPROTO_HOPOPTS}, .n_ext = 1),
	CASE("v6 hbh+dst+routing miss", R(DROPPED_NO_PINHOLE),
	     V6("fd00::9", 4000, "fd00::2", 12006),
	     .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING}, .n_ext = 3),
	CASE("v6 AH hit", R(PASSED_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12000),
	     .ext = {IPPROTO_AH}, .n_ext = 1),
	CASE("v6 hbh+AH+dst bad source", R(DROPPED_BAD_SOURCE),
	     V6("fd00::9", 4001, "fd00::2", 12000),
	     .ext = {IPPROTO_HOPOPTS, IPPROTO_AH, IPPROTO_DSTOPTS}, .n_ext = 3),
	CASE("v6 8 ext headers hit", R(PASSED_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12000),
	     .ext = {60, 60, 60, 60, 60, 60, 60, 60}, .n_ext = 8),
	CASE("v6 9 ext headers: beyond the walk", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ext = {60, 60, 60, 60, 60, 60, 60, 60, 60},
	     .n_ext = 9),
	CASE("v6 ext chain to TCP", R(PASSED_NOT_MEDIA), V6("fd00::9", 4000, "fd00::2", 12000),
	     .ext = {IPPROTO_HOPOPTS}, .n_ext = 1, .l4 = IPPROTO_TCP),
	CASE("v6 ESP passes (opaque)", R(PASSED_NOT_MEDIA), V6("fd00::9", 4000, "fd00::2", 12000),
	     .l4 = IPPROTO_ESP),
	CASE("v6 atomic fragment hit", R(PASSED_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12000),
	     .frag = PB_ATOMIC, .frag_id = 77),
	CASE("v6 atomic fragment miss", R(DROPPED_NO_PINHOLE),
	     V6("fd00::9", 4000, "fd00::2", 12006), .frag = PB_ATOMIC, .frag_id = 78),
	/* non-media traffic passes untouched */
	CASE("v4 TCP to media port", R(PASSED_NOT_MEDIA), V4("10.9.9.9", 4000, "10.0.0.2", 10002),
	     .l4 = IPPROTO_TCP),
	CASE("v4 ICMP", R(PASSED_NOT_MEDIA), V4("10.9.9.9", 0, "10.0.0.2", 0), .l4 = IPPROTO_ICMP),
	CASE("v4 SIP 5060", R(PASSED_NOT_MEDIA), V4("10.9.9.9", 5060, "10.0.0.2", 5060),
	     .payload = 400),
	CASE("v6 SIP 5060", R(PASSED_NOT_MEDIA), V6("fd00::9", 5060, "fd00::2", 5060),
	     .payload = 400),
	CASE("v6 ICMPv6", R(PASSED_NOT_MEDIA), V6("fd00::9", 0, "fd00::2", 0),
	     .l4 = IPPROTO_ICMPV6),
	CASE("ARP", R(PASSED_NOT_MEDIA), .ethertype = ETH_P_ARP),
	CASE("ARP in VLAN", R(PASSED_NOT_MEDIA), .ethertype = ETH_P_ARP, .vlans = 1),
	/* UDP-Lite (136): UDP's ports, judged as UDP against proto 17 pinholes */
	CASE("v4 UDP-Lite hit", R(PASSED_PINHOLE), V4("10.9.9.9", 4000, "10.0.0.2", 10000),
	     .l4 = IPPROTO_UDPLITE),
	CASE("v4 UDP-Lite bad source", R(DROPPED_BAD_SOURCE),
	     V4("10.9.9.9", 4001, "10.0.0.2", 10000), .l4 = IPPROTO_UDPLITE),
	CASE("v4 UDP-Lite no pinhole", R(DROPPED_NO_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .l4 = IPPROTO_UDPLITE),
	CASE("v4 UDP-Lite outside the media range", R(PASSED_NOT_MEDIA),
	     V4("10.9.9.9", 4000, "10.0.0.2", 9999), .l4 = IPPROTO_UDPLITE),
	CASE("v6 UDP-Lite hit", R(PASSED_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12000),
	     .l4 = IPPROTO_UDPLITE),
	CASE("v6 UDP-Lite no pinhole", R(DROPPED_NO_PINHOLE), V6("fd00::9", 4000, "fd00::2", 12006),
	     .l4 = IPPROTO_UDPLITE),
	CASE("v6 UDP-Lite after hbh+dst, bad source", R(DROPPED_BAD_SOURCE),
	     V6("fd00::8", 4000, "fd00::2", 12000), .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS},
	     .n_ext = 2, .l4 = IPPROTO_UDPLITE),
	CASE("UDP-Lite in QinQ, no pinhole", R(DROPPED_NO_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .vlans = 2, .qinq = 1, .l4 = IPPROTO_UDPLITE),
	CASE("v4 UDP-Lite header cut", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10000), .l4 = IPPROTO_UDPLITE, .cut = 14 + 20 + 4),
	CASE("v6 UDP-Lite header cut", R(DROPPED_MALFORMED), V6("fd00::9", 4000, "fd00::2", 12000),
	     .l4 = IPPROTO_UDPLITE, .cut = 14 + 40 + 6),
	/* The IP length fields bound the parse: bytes after the datagram
	 * (which the kernel trims) are never read as headers. The frames
	 * below keep the UDP header the length field leaves out. */
	CASE("v4 total length ends before the UDP header", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .ip_len_delta = -8),
	CASE("v4 total length ends before the UDP header, pinhole", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10000), .ip_len_delta = -8),
	CASE("v4 total length cuts the UDP header", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .payload = 32, .ip_len_delta = -36),
	CASE("v4 total length ends in the options", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .ip4_opt_words = 4, .ip_len_delta = -16),
	CASE("v4 total length below the header", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .ip_len_delta = -24),
	CASE("v4 UDP-Lite total length ends before its header", R(DROPPED_MALFORMED),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), .l4 = IPPROTO_UDPLITE, .ip_len_delta = -8),
	CASE("v4 TCP total length ends before its header: not ours", R(PASSED_NOT_MEDIA),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .l4 = IPPROTO_TCP, .ip_len_delta = -20),
	CASE("v4 trailing bytes after a whole datagram: judged", R(PASSED_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10000), .payload = 40, .ip_len_delta = -40),
	CASE("v4 trailing bytes after a whole datagram, no pinhole", R(DROPPED_NO_PINHOLE),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10002), .payload = 40, .ip_len_delta = -40),
	CASE("v6 payload length ends before the UDP header", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 5999), .ip_len_delta = -8),
	CASE("v6 payload length cuts the UDP header, pinhole", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ip_len_delta = -2),
	CASE("v6 ext chain ends beyond the payload length", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 5999), .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS},
	     .n_ext = 2, .ip_len_delta = -20),
	CASE("v6 ext chain ends beyond the payload length, pinhole", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS},
	     .n_ext = 2, .ip_len_delta = -20),
	CASE("v6 ext header starts at the payload's end", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 5999), .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS},
	     .n_ext = 2, .ip_len_delta = -24),
	CASE("v6 UDP after ext chain beyond the payload length", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 5999), .ext = {IPPROTO_HOPOPTS, IPPROTO_AH}, .n_ext = 2,
	     .ip_len_delta = -4),
	CASE("v6 ext chain to TCP beyond the payload length: not ours", R(PASSED_NOT_MEDIA),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	     .l4 = IPPROTO_TCP, .ip_len_delta = -20),
	CASE("v6 UDP-Lite after ext beyond the payload length", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 5999), .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	     .l4 = IPPROTO_UDPLITE, .ip_len_delta = -8),
	CASE("v6 trailing bytes after a whole datagram: judged", R(DROPPED_BAD_SOURCE),
	     V6("fd00::9", 4001, "fd00::2", 12000), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1,
	     .payload = 24, .ip_len_delta = -24),
	/* payload length 0 before hop-by-hop (jumbogram): bound by the frame */
	CASE("v6 payload length 0 + hbh: judged on the frame", R(PASSED_PINHOLE),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1,
	     .ip_len_delta = -16),
	CASE("v6 payload length 0 + hbh: no pinhole", R(DROPPED_NO_PINHOLE),
	     V6("fd00::9", 4000, "fd00::2", 12006), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1,
	     .ip_len_delta = -16),
	CASE("v6 payload length 0 without hbh", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	     .ip_len_delta = -24),
	/* first fragments must hold every header up to UDP (RFC 7112; IPv4:
	 * the tiny fragment of RFC 1858) */
	CASE("v6 first fragment: payload ends after the fragment header",
	     R(DROPPED_FRAG_HEADER_CHAIN), V6("fd00::9", 4000, "fd00::2", 12000), FIRST,
	     .frag_id = 501, .ip_len_delta = -(8 + 64)),
	CASE("v6 first fragment: UDP header split", R(DROPPED_FRAG_HEADER_CHAIN),
	     V6("fd00::9", 4000, "fd00::2", 5999), FIRST, .frag_id = 502,
	     .ip_len_delta = -(4 + 64)),
	CASE("v6 first fragment: dst opts after it beyond the payload",
	     R(DROPPED_FRAG_HEADER_CHAIN), V6("fd00::9", 4000, "fd00::2", 12000), FIRST,
	     .frag_id = 503, .ext = {IPPROTO_DSTOPTS}, .n_ext = 1, .ext_in_frag = 1,
	     .ip_len_delta = -(8 + 8 + 64)),
	CASE("v6 first fragment: frame ends with the chain", R(DROPPED_FRAG_HEADER_CHAIN),
	     V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .frag_id = 504,
	     .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS}, .n_ext = 2, .ext_in_frag = 1,
	     .ip_len_delta = -(8 + 64), .cut = 14 + 40 + 8 + 8 + 16),
	CASE("v6 first fragment: hbh before it, UDP-Lite split", R(DROPPED_FRAG_HEADER_CHAIN),
	     V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .frag_id = 505, .ext = {IPPROTO_HOPOPTS},
	     .n_ext = 1, .l4 = IPPROTO_UDPLITE, .ip_len_delta = -(6 + 64)),
	CASE("v6 fragment header beyond the payload, after hbh: malformed", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .frag_id = 506, .ext = {IPPROTO_HOPOPTS},
	     .n_ext = 1, .ip_len_delta = -(8 + 8 + 8 + 64) + 2),
	CASE("v6 first fragment with dst opts after it: whole chain, hit", R(PASSED_PINHOLE),
	     V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .frag_id = 507, .ext = {IPPROTO_DSTOPTS},
	     .n_ext = 1, .ext_in_frag = 1),
	CASE("v6 first fragment: chain + UDP exactly, hit", R(PASSED_PINHOLE),
	     V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .frag_id = 508, .ext = {IPPROTO_HOPOPTS},
	     .n_ext = 1, .ip_len_delta = -64),
	CASE("v6 first fragment of TCP without its header: not ours", R(PASSED_NOT_MEDIA),
	     V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .frag_id = 509, .l4 = IPPROTO_TCP,
	     .ip_len_delta = -(20 + 64)),
	CASE("v4 tiny first fragment: no UDP header", R(DROPPED_FRAG_HEADER_CHAIN),
	     V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST, .frag_id = 510,
	     .ip_len_delta = -(8 + 64)),
	CASE("v4 tiny first fragment: UDP header split", R(DROPPED_FRAG_HEADER_CHAIN),
	     V4("10.9.9.9", 4000, "10.0.0.2", 5999), FIRST, .frag_id = 511,
	     .ip_len_delta = -(4 + 64)),
	/* truncated and malformed */
	XDP_ONLY("eth header only (IPv4 type)", R(PASSED_NOT_MEDIA),
		 V4("10.9.9.9", 4000, "10.0.0.2", 10002), .cut = 14),
	CASE("VLAN tag cut", R(PASSED_NOT_MEDIA), V4("10.9.9.9", 4000, "10.0.0.2", 10002),
	     .vlans = 1, .cut = 16),
	XDP_ONLY("v4 header cut, proto UDP", R(DROPPED_MALFORMED),
		 V4("10.9.9.9", 4000, "10.0.0.2", 10002), .cut = 14 + 15),
	XDP_ONLY("v4 header cut, proto TCP", R(PASSED_NOT_MEDIA),
		 V4("10.9.9.9", 4000, "10.0.0.2", 10002), .l4 = IPPROTO_TCP, .cut = 14 + 15),
	XDP_ONLY("v4 header cut before proto", R(PASSED_NOT_MEDIA),
		 V4("10.9.9.9", 4000, "10.0.0.2", 10002), .cut = 14 + 6),
	CASE("v4 options cut, UDP", R(DROPPED_MALFORMED), V4("10.9.9.9", 4000, "10.0.0.2", 10000),
	     .ip4_opt_words = 10, .cut = 14 + 40),
	CASE("v4 UDP header cut", R(DROPPED_MALFORMED), V4("10.9.9.9", 4000, "10.0.0.2", 10000),
	     .cut = 14 + 20 + 4),
	CASE("v4 ihl 4 claims UDP", R(DROPPED_MALFORMED), V4("10.9.9.9", 4000, "10.0.0.2", 10000),
	     .ip4_ihl = 4),
	CASE("v4 ihl 2 claims TCP", R(PASSED_NOT_MEDIA), V4("10.9.9.9", 4000, "10.0.0.2", 10000),
	     .ip4_ihl = 2, .l4 = IPPROTO_TCP),
	XDP_ONLY("v6 header cut, next UDP", R(DROPPED_MALFORMED),
		 V6("fd00::9", 4000, "fd00::2", 12000), .cut = 14 + 30),
	XDP_ONLY("v6 header cut, next ext", R(DROPPED_MALFORMED),
		 V6("fd00::9", 4000, "fd00::2", 12000), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1,
		 .cut = 14 + 30),
	XDP_ONLY("v6 header cut, next TCP", R(PASSED_NOT_MEDIA),
		 V6("fd00::9", 4000, "fd00::2", 12000), .l4 = IPPROTO_TCP, .cut = 14 + 30),
	CASE("v6 ext header cut", R(DROPPED_MALFORMED), V6("fd00::9", 4000, "fd00::2", 12000),
	     .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS}, .n_ext = 2, .cut = 14 + 40 + 8 + 1),
	CASE("v6 UDP header cut", R(DROPPED_MALFORMED), V6("fd00::9", 4000, "fd00::2", 12000),
	     .cut = 14 + 40 + 6),
	CASE("v6 UDP header cut after hbh", R(DROPPED_MALFORMED),
	     V6("fd00::9", 4000, "fd00::2", 12000), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1,
	     .cut = 14 + 48 + 7),
};

static void run_main_table(const struct env *e, enum hook h)
{
	unsigned int i;

	for (i = 0; i < sizeof(main_cases) / sizeof(main_cases[0]); i++) {
		if (main_cases[i].xdp_only && h != H_XDP) {
			n_skip++;
			if (verbose)
				printf("skip - %s: %s: skb test run refuses a "
				       "cut IP header\n",
				       hook_name[h], main_cases[i].name);
			continue;
		}
		expect(e, h, main_cases[i].name, &main_cases[i].pkt, main_cases[i].want);
	}
}

/* ---- VLAN depth ----------------------------------------------------- */

/* 1..8 tags, VID 0 or not, 802.1Q, QinQ (802.1ad outer) or all 802.1ad,
 * IPv4 and IPv6, to a pinhole from its source and to no pinhole: up to
 * SW_VLAN_MAX (2) tags the packet is judged; deeper, it is dropped unseen. */
static void test_vlans(const struct env *e, enum hook h)
{
	static const int depth[] = {1, 2, 3, 4, 5, 8};
	static const char *const tpid[] = {"802.1Q", "QinQ", "802.1ad"};
	char name[160];
	unsigned int i, want;

	/* bits of i: hit, v6, VID 0; then tag type, then depth */
	for (i = 0; i < 8 * 3 * sizeof(depth) / sizeof(depth[0]); i++) {
		int hit = i & 1, v6 = i >> 1 & 1, vid0 = i >> 2 & 1, t = i / 8 % 3;
		int d = depth[i / 24];
		struct pb_spec s = {V4("10.9.9.9", 4000, "10.0.0.2", hit ? 10000 : 10002)};

		if (v6)
			s = (struct pb_spec){V6("fd00::9", 4000, "fd00::2", hit ? 12000 : 12006)};
		s.vlans = d;
		s.vid0 = vid0;
		s.qinq = t == 1;
		s.all_ad = t == 2;
		if (d > 2)
			want = R(DROPPED_VLAN_DEPTH);
		else
			want = hit ? R(PASSED_PINHOLE) : R(DROPPED_NO_PINHOLE);
		snprintf(name, sizeof(name), "%d %s tag%s%s, %s, %s", d, tpid[t], d > 1 ? "s" : "",
			 vid0 ? " (VID 0)" : "", v6 ? "v6" : "v4", hit ? "pinhole" : "no pinhole");
		expect(e, h, name, &s, want);
	}
}

/* ---- fragments: sequences of packets -------------------------------- */

struct fstep {
	struct pb_spec pkt;
	unsigned int want;
};

struct fcase {
	const char *name;
	struct fstep step[4];
	int n;
};

static const struct fcase frag_cases[] = {
	{"v4 in order, pinhole",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST}, R(PASSED_PINHOLE)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(9)}, R(PASSED_FRAGMENT)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(17)}, R(PASSED_FRAGMENT)}},
	 3},
	{"v4 in order, no pinhole",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10002), FIRST}, R(DROPPED_NO_PINHOLE)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10002), LATER(9)}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v4 in order, bad source",
	 {{{V4("10.9.9.9", 4001, "10.0.0.2", 10000), FIRST}, R(DROPPED_BAD_SOURCE)},
	  {{V4("10.9.9.9", 4001, "10.0.0.2", 10000), LATER(9)}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v4 later before first",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(9)}, R(DROPPED_FRAGMENT)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST}, R(PASSED_PINHOLE)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(17)}, R(PASSED_FRAGMENT)}},
	 3},
	{"v4 SIP INVITE over the MTU (5060)",
	 {{{V4("10.9.9.9", 5060, "10.0.0.2", 5060), .frag = PB_FIRST, .payload = 1200},
	   R(PASSED_NOT_MEDIA)},
	  {{V4("10.9.9.9", 5060, "10.0.0.2", 5060), LATER(151)}, R(PASSED_FRAGMENT)}},
	 2},
	{"v4 first fragment UDP header cut",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST, .cut = 14 + 20 + 4},
	   R(DROPPED_MALFORMED)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(9)}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v4 later ICMP fragment alone",
	 {{{V4("10.9.9.9", 0, "10.0.0.2", 0), LATER(9), .l4 = IPPROTO_ICMP}, R(PASSED_NOT_MEDIA)}},
	 1},
	{"v4 other datagram id",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST}, R(PASSED_PINHOLE)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(9), .frag_id = 1}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v6 in order, pinhole",
	 {{{V6("fd00::9", 4000, "fd00::2", 12000), FIRST}, R(PASSED_PINHOLE)},
	  {{V6("fd00::9", 4000, "fd00::2", 12000), LATER(9)}, R(PASSED_FRAGMENT)}},
	 2},
	{"v6 in order, no pinhole",
	 {{{V6("fd00::9", 4000, "fd00::2", 12006), FIRST}, R(DROPPED_NO_PINHOLE)},
	  {{V6("fd00::9", 4000, "fd00::2", 12006), LATER(9)}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v6 later before first, hbh",
	 {{{V6("fd00::9", 4000, "fd00::2", 12000), LATER(9), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1},
	   R(DROPPED_FRAGMENT)},
	  {{V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .ext = {IPPROTO_HOPOPTS}, .n_ext = 1},
	   R(PASSED_PINHOLE)},
	  {{V6("fd00::9", 4000, "fd00::2", 12000), LATER(17), .ext = {IPPROTO_HOPOPTS}, .n_ext = 1},
	   R(PASSED_FRAGMENT)}},
	 3},
	{"v6 SIP INVITE over the MTU (5060)",
	 {{{V6("fd00::9", 5060, "fd00::2", 5060), .frag = PB_FIRST, .payload = 1200},
	   R(PASSED_NOT_MEDIA)},
	  {{V6("fd00::9", 5060, "fd00::2", 5060), LATER(151)}, R(PASSED_FRAGMENT)}},
	 2},
	{"v6 later TCP fragment alone",
	 {{{V6("fd00::9", 0, "fd00::2", 0), LATER(9), .l4 = IPPROTO_TCP}, R(PASSED_NOT_MEDIA)}},
	 1},
	{"v6 first fragment without its UDP header (RFC 7112), pinhole",
	 {{{V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .ip_len_delta = -(8 + 64)},
	   R(DROPPED_FRAG_HEADER_CHAIN)},
	  {{V6("fd00::9", 4000, "fd00::2", 12000), LATER(1)}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v6 first fragment, dst opts after it cut by the payload length",
	 {{{V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	    .ext_in_frag = 1, .ip_len_delta = -(8 + 8 + 64)},
	   R(DROPPED_FRAG_HEADER_CHAIN)},
	  {{V6("fd00::9", 4000, "fd00::2", 12000), LATER(2), .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	    .ext_in_frag = 1},
	   R(DROPPED_FRAGMENT)}},
	 2},
	{"v6 first fragment with dst opts after it, whole chain",
	 {{{V6("fd00::9", 4000, "fd00::2", 12000), FIRST, .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	    .ext_in_frag = 1},
	   R(PASSED_PINHOLE)},
	  {{V6("fd00::9", 4000, "fd00::2", 12000), LATER(11), .ext = {IPPROTO_DSTOPTS}, .n_ext = 1,
	    .ext_in_frag = 1},
	   R(PASSED_FRAGMENT)}},
	 2},
	{"v4 tiny first fragment, pinhole",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST, .ip_len_delta = -(8 + 64)},
	   R(DROPPED_FRAG_HEADER_CHAIN)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(1)}, R(DROPPED_FRAGMENT)}},
	 2},
	{"v4 UDP-Lite in order, pinhole",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), FIRST, .l4 = IPPROTO_UDPLITE},
	   R(PASSED_PINHOLE)},
	  {{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(9), .l4 = IPPROTO_UDPLITE},
	   R(PASSED_FRAGMENT)}},
	 2},
	{"v4 UDP-Lite later fragment alone",
	 {{{V4("10.9.9.9", 4000, "10.0.0.2", 10000), LATER(9), .l4 = IPPROTO_UDPLITE},
	   R(DROPPED_FRAGMENT)}},
	 1},
	{"v6 UDP-Lite in order, no pinhole",
	 {{{V6("fd00::9", 4000, "fd00::2", 12006), FIRST, .l4 = IPPROTO_UDPLITE},
	   R(DROPPED_NO_PINHOLE)},
	  {{V6("fd00::9", 4000, "fd00::2", 12006), LATER(9), .l4 = IPPROTO_UDPLITE},
	   R(DROPPED_FRAGMENT)}},
	 2},
	{"v6 UDP-Lite later fragment alone",
	 {{{V6("fd00::9", 4000, "fd00::2", 12000), LATER(9), .l4 = IPPROTO_UDPLITE},
	   R(DROPPED_FRAGMENT)}},
	 1},
	{"v6 later fragment starting with dst opts",
	 {{{V6("fd00::9", 0, "fd00::2", 0), LATER(9), .frag_nh = IPPROTO_DSTOPTS},
	   R(DROPPED_FRAGMENT)}},
	 1},
};

static void run_frag_table(const struct env *e, enum hook h)
{
	static uint32_t next_id = 1000;
	char name[160];
	unsigned int i;
	int j;

	for (i = 0; i < sizeof(frag_cases) / sizeof(frag_cases[0]); i++) {
		/* a fresh datagram id per case and hook; steps may offset it */
		uint32_t id = next_id += 16;

		for (j = 0; j < frag_cases[i].n; j++) {
			struct pb_spec s = frag_cases[i].step[j].pkt;

			s.frag_id += id;
			snprintf(name, sizeof(name), "%s: step %d", frag_cases[i].name, j + 1);
			expect(e, h, name, &s, frag_cases[i].step[j].want);
		}
	}
}

/* ---- per-pinhole counters ------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Sources 2-4 live in sw_ph_srcs, read only when the hot value's
 * SW_PH_MORE says so: a leftover entry there never opens a pinhole. */
static void test_extra_sources(const struct env *e, enum hook h)
{
	struct pb_spec s = {V4("10.9.9.2", 5002, "10.0.0.3", 16010)};
	struct sw_pinhole_key k;
	struct sw_pinhole_hot hot;
	struct sw_ph_srcs more;

	ph_key("10.0.0.3", 16010, &k);
	memset(&hot, 0, sizeof(hot));
	memset(&more, 0, sizeof(more));
	pb_addr16("10.9.9.1", hot.src.addr);
	hot.src.port = htons(5000);
	hot.src.flags = SW_SRC_ACTIVE;
	pb_addr16("10.9.9.2", more.src[0].addr);
	more.src[0].port = htons(5002);
	more.src[0].flags = SW_SRC_ACTIVE;
	if (bpf_map_update_elem(e->maps.ph_srcs, &k, &more, BPF_ANY) ||
	    bpf_map_update_elem(e->pinholes, &k, &hot, BPF_ANY)) {
		result(0, "%s: extra sources: install", hook_name[h]);
		return;
	}
	expect(e, h, "extra sources without SW_PH_MORE: not consulted", &s, R(DROPPED_BAD_SOURCE));
	hot.flags = SW_PH_MORE;
	bpf_map_update_elem(e->pinholes, &k, &hot, BPF_ANY);
	expect(e, h, "extra sources with SW_PH_MORE: second source", &s, R(PASSED_PINHOLE));
	bpf_map_delete_elem(e->maps.ph_srcs, &k);
	expect(e, h, "SW_PH_MORE, extra sources gone: dropped", &s, R(DROPPED_BAD_SOURCE));
	bpf_map_delete_elem(e->pinholes, &k);
}

static void test_pinhole_counters(const struct env *e, enum hook h)
{
	static const struct ph_spec ph = {"10.0.0.8", 11000, {A("10.9.9.9", 4000, STRICT)}};
	struct pb_spec hit = {V4("10.9.9.9", 4000, "10.0.0.8", 11000)};
	struct pb_spec bad = {V4("10.9.9.9", 4001, "10.0.0.8", 11000)};
	struct sw_pinhole v;
	uint64_t bytes = 0, t0, t1;
	struct pb_pkt p;
	int i, rv;

	if (ph_put(e, &ph)) {
		result(0, "%s: counters: install pinhole", hook_name[h]);
		return;
	}
	/* last_seen is CLOCK_MONOTONIC_COARSE: never behind this, never
	 * ahead of CLOCK_MONOTONIC read after */
	t0 = clock_ns(CLOCK_MONOTONIC_COARSE);
	for (i = 0; i < 3; i++) {
		hit.payload = 100 * i;
		pb_build(&hit, &p);
		bytes += p.l3_len;
		run(e, h, &p, &rv);
	}
	t1 = mono_ns();
	pb_build(&bad, &p);
	run(e, h, &p, &rv);
	run(e, h, &p, &rv);
	if (ph_get(e, "10.0.0.8", 11000, &v)) {
		result(0, "%s: counters: pinhole vanished", hook_name[h]);
		return;
	}
	result(v.packets == 3, "%s: pinhole packets %llu want 3", hook_name[h],
	       (unsigned long long)v.packets);
	result(v.bytes == bytes, "%s: pinhole bytes %llu want %llu (L3)", hook_name[h],
	       (unsigned long long)v.bytes, (unsigned long long)bytes);
	result(v.drops == 2, "%s: pinhole drops %llu want 2", hook_name[h],
	       (unsigned long long)v.drops);
	result(v.last_seen_ns >= t0 && v.last_seen_ns <= t1,
	       "%s: last_seen_ns within the hits (CLOCK_MONOTONIC base)", hook_name[h]);
	result(strcmp(v.call_id, "test-10.0.0.8-11000") == 0 && v.kind == SW_KIND_MANUAL,
	       "%s: owner fields untouched", hook_name[h]);
}

/* ---- DoS: flood guard, trusted networks, ban list ------------------- */

static int cfg_put(const struct env *e, uint32_t flags, uint32_t rate, uint32_t burst, uint8_t fp4,
		   uint8_t fp6, uint8_t bp4, uint8_t bp6)
{
	struct sw_config c = {
		.media_lo = SW_MEDIA_LO_DEFAULT,
		.media_hi = SW_MEDIA_HI_DEFAULT,
		.version = SW_SCHEMA_VERSION,
		.flags = flags,
		.sig_ports = {5060, 5061},
		.flood_rate = rate,
		.flood_burst = burst,
		.flood_prefix_v4 = fp4,
		.flood_prefix_v6 = fp6,
		.ban_prefix_v4 = bp4,
		.ban_prefix_v6 = bp6,
	};
	__u32 zero = 0;

	return bpf_map_update_elem(e->config, &zero, &c, BPF_ANY);
}

static int dscp_cfg_put(const struct env *e, uint8_t audio, uint8_t video)
{
	struct sw_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(e->config, &zero, &c))
		return -1;
	if (!c.version) {
		c.media_lo = SW_MEDIA_LO_DEFAULT;
		c.media_hi = SW_MEDIA_HI_DEFAULT;
		c.version = SW_SCHEMA_VERSION;
	}
	c.flags |= SW_CFG_DSCP;
	c.dscp_audio = audio;
	c.dscp_video = video;
	return bpf_map_update_elem(e->config, &zero, &c, BPF_ANY);
}

/* key: the address as the program masks it (the test spells it masked) */
static int ban_put(const struct env *e, const char *key, uint64_t expires_ns)
{
	struct sw_ban_key k;
	struct sw_ban b = {.expires_ns = expires_ns, .reason = SW_BAN_MANUAL};

	memset(&k, 0, sizeof(k));
	pb_addr16(key, k.addr);
	return bpf_map_update_elem(e->bans, &k, &b, BPF_ANY);
}

static uint64_t ban_packets(const struct env *e, const char *key)
{
	struct sw_ban_key k;
	struct sw_ban b;

	memset(&k, 0, sizeof(k));
	pb_addr16(key, k.addr);
	return bpf_map_lookup_elem(e->bans, &k, &b) ? ~0ull : b.packets;
}

static int trusted_put(const struct env *e, const char *net, unsigned int plen)
{
	struct sw_lpm_key k = {.prefixlen = plen};
	__u8 one = 1;

	pb_addr16(net, k.addr);
	return bpf_map_update_elem(e->trusted, &k, &one, BPF_ANY);
}

static int bucket_get(const struct env *e, const char *key, struct sw_bucket *b)
{
	struct sw_flood_key k;

	memset(&k, 0, sizeof(k));
	pb_addr16(key, k.addr);
	return bpf_map_lookup_elem(e->flood, &k, b);
}

/* Move a bucket's last refill back by ns: as if that much time passed. */
static int bucket_age(const struct env *e, const char *key, uint64_t ns)
{
	struct sw_flood_key k;
	struct sw_bucket b;

	memset(&k, 0, sizeof(k));
	pb_addr16(key, k.addr);
	if (bpf_map_lookup_elem(e->flood, &k, &b))
		return -1;
	/* CLOCK_MONOTONIC starts at boot: a fresh vmtest guest is young */
	b.last_ns = b.last_ns > ns ? b.last_ns - ns : 0;
	return bpf_map_update_elem(e->flood, &k, &b, BPF_EXIST);
}

#define SIG4(s) V4(s, 5060, "10.0.0.2", 5060)
#define SIG6(s) V6(s, 5060, "fd00::2", 5060)

/* n packets from spec, each with the expected reason */
static void expect_n(const struct env *e, enum hook h, const char *name, const struct pb_spec *s,
		     unsigned int want, int n)
{
	char buf[160];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s #%d", name, i + 1);
		expect(e, h, buf, s, want);
	}
}

static void test_flood(enum hook h)
{
	struct pb_spec s;
	struct sw_bucket b;
	struct env e;
	const char *hn = hook_name[h];
	uint64_t t0;

	/* 1 packet/s: slow enough that no token arrives between two test
	 * runs even in an emulated (TCG) vmtest guest */
	if (env_open(&e, 0, 0, 0) || cfg_put(&e, SW_CFG_FLOOD_GUARD, 1, 3, 32, 64, 32, 128)) {
		result(0, "%s: flood: load", hn);
		env_close(&e);
		return;
	}
	/* burst passes, excess dropped, per source */
	s = (struct pb_spec){SIG4("10.20.0.1")};
	expect_n(&e, h, "flood: burst of 3 passes", &s, R(PASSED_SIGNALLING), 3);
	expect_n(&e, h, "flood: 4th and 5th over the limit", &s, R(DROPPED_FLOOD), 2);
	result(!bucket_get(&e, "10.20.0.1", &b) && b.dropped == 2 && b.tokens < (1u << 16),
	       "%s: flood: bucket 10.20.0.1 counted 2 drops (%llu), empty", hn,
	       (unsigned long long)b.dropped);
	s.dport = 5061;
	expect(&e, h, "flood: the bucket is per source, 5061 too", &s, R(DROPPED_FLOOD));
	s.dport = 5062;
	expect(&e, h, "flood: 5062 is not a signalling port", &s, R(PASSED_NOT_MEDIA));
	s = (struct pb_spec){SIG4("10.20.0.1"), .l4 = IPPROTO_UDPLITE};
	expect(&e, h, "flood: UDP-Lite to 5060 spends the same bucket", &s, R(DROPPED_FLOOD));
	s = (struct pb_spec){SIG4("10.20.0.2")};
	expect(&e, h, "flood: another source has its own bucket", &s, R(PASSED_SIGNALLING));
	s = (struct pb_spec){V4("10.20.0.1", 4000, "10.0.0.2", 10000)};
	ph_put(&e, &(struct ph_spec){"10.0.0.2", 10000, {A("10.20.0.1", 4000, STRICT)}});
	expect(&e, h, "flood: media from a flooding source still passes its pinhole", &s,
	       R(PASSED_PINHOLE));

	/* refill: rewrite the bucket's last refill time */
	s = (struct pb_spec){SIG4("10.20.0.1")};
	bucket_age(&e, "10.20.0.1", 1500000000ull); /* 1.5 s at 1/s: 1.5 */
	expect(&e, h, "flood: 1.5 s later one packet passes", &s, R(PASSED_SIGNALLING));
	expect(&e, h, "flood: and the next is over", &s, R(DROPPED_FLOOD));
	bucket_age(&e, "10.20.0.1", 10ull * 1000000000ull); /* capped at burst */
	expect_n(&e, h, "flood: 10 s later the burst (3) passes", &s, R(PASSED_SIGNALLING), 3);
	expect(&e, h, "flood: not more than the burst", &s, R(DROPPED_FLOOD));
	/* a long idle at the highest rate: elapsed is clamped before the
	 * multiplication, and the refill is the burst, no more, no less */
	cfg_put(&e, SW_CFG_FLOOD_GUARD, 1000000, 3, 32, 64, 32, 128);
	bucket_age(&e, "10.20.0.1", 3600ull * 1000000000ull);
	expect(&e, h, "flood: long idle at 10^6/s: passes", &s, R(PASSED_SIGNALLING));
	cfg_put(&e, SW_CFG_FLOOD_GUARD, 1, 3, 32, 64, 32, 128);
	expect_n(&e, h, "flood: long idle: the rest of the burst", &s, R(PASSED_SIGNALLING), 2);
	expect(&e, h, "flood: long idle, 4th over", &s, R(DROPPED_FLOOD));
	/* refill over real time: 1/s, burst 1 */
	cfg_put(&e, SW_CFG_FLOOD_GUARD, 1, 1, 32, 64, 32, 128);
	t0 = mono_ns();
	usleep(1100000);
	expect(&e, h, "flood: 1.1 s of real time refills one", &s, R(PASSED_SIGNALLING));
	if (mono_ns() - t0 < 2000000000ull)
		expect(&e, h, "flood: then over again", &s, R(DROPPED_FLOOD));
	else
		n_skip++; /* a stall long enough for another token */
	cfg_put(&e, SW_CFG_FLOOD_GUARD, 1, 3, 32, 64, 32, 128);

	/* IPv6 sources aggregated per /64 */
	s = (struct pb_spec){SIG6("fd00:20::1")};
	expect(&e, h, "flood v6: fd00:20::1", &s, R(PASSED_SIGNALLING));
	s.src = "fd00:20::2";
	expect(&e, h, "flood v6: fd00:20::2, same /64", &s, R(PASSED_SIGNALLING));
	s.src = "fd00:20::ffff:3";
	expect(&e, h, "flood v6: fd00:20::ffff:3, same /64", &s, R(PASSED_SIGNALLING));
	s.src = "fd00:20::4";
	expect(&e, h, "flood v6: 4th address in the /64 over", &s, R(DROPPED_FLOOD));
	result(!bucket_get(&e, "fd00:20::", &b) && b.dropped == 1,
	       "%s: flood v6: one bucket for fd00:20::/64", hn);
	s.src = "fd00:21::1";
	expect(&e, h, "flood v6: next /64 has its own", &s, R(PASSED_SIGNALLING));

	/* IPv4 sources aggregated per /24 */
	cfg_put(&e, SW_CFG_FLOOD_GUARD, 1, 2, 24, 64, 32, 128);
	s = (struct pb_spec){SIG4("10.30.0.1")};
	expect(&e, h, "flood /24: 10.30.0.1", &s, R(PASSED_SIGNALLING));
	s.src = "10.30.0.200";
	expect(&e, h, "flood /24: 10.30.0.200", &s, R(PASSED_SIGNALLING));
	s.src = "10.30.0.3";
	expect(&e, h, "flood /24: third in the /24 over", &s, R(DROPPED_FLOOD));
	s.src = "10.30.1.1";
	expect(&e, h, "flood /24: 10.30.1.1 has its own", &s, R(PASSED_SIGNALLING));

	/* trusted networks are exempt */
	trusted_put(&e, "10.40.0.0", 96 + 16);
	trusted_put(&e, "fd00:40::", 48);
	s = (struct pb_spec){SIG4("10.40.7.7")};
	expect_n(&e, h, "trusted v4: never limited", &s, R(PASSED_TRUSTED), 4);
	s = (struct pb_spec){SIG6("fd00:40:0:9::1")};
	expect_n(&e, h, "trusted v6: never limited", &s, R(PASSED_TRUSTED), 4);
	s = (struct pb_spec){SIG4("10.41.0.1")};
	expect_n(&e, h, "untrusted neighbour: limited", &s, R(PASSED_SIGNALLING), 2);
	expect(&e, h, "untrusted neighbour: over", &s, R(DROPPED_FLOOD));

	/* signalling fragments follow their first fragment */
	s = (struct pb_spec){SIG4("10.30.2.1"), .frag = PB_FIRST, .payload = 1200, .frag_id = 9001};
	expect(&e, h, "flood frag: first within budget", &s, R(PASSED_SIGNALLING));
	s = (struct pb_spec){SIG4("10.30.2.1"), LATER(151), .frag_id = 9001};
	expect(&e, h, "flood frag: its later fragment", &s, R(PASSED_FRAGMENT));
	s = (struct pb_spec){SIG4("10.30.2.1"), .frag = PB_FIRST, .payload = 1200, .frag_id = 9002};
	expect(&e, h, "flood frag: second datagram within", &s, R(PASSED_SIGNALLING));
	s.frag_id = 9003;
	expect(&e, h, "flood frag: third first fragment over", &s, R(DROPPED_FLOOD));
	s = (struct pb_spec){SIG4("10.30.2.1"), LATER(151), .frag_id = 9003};
	expect(&e, h, "flood frag: its later fragment dropped", &s, R(DROPPED_FRAGMENT));

	/* guard off: signalling is counted, never limited */
	cfg_put(&e, 0, 1, 1, 32, 64, 32, 128);
	s = (struct pb_spec){SIG4("10.20.0.1")};
	expect_n(&e, h, "flood off: passes", &s, R(PASSED_SIGNALLING), 3);
	cfg_put(&e, SW_CFG_FLOOD_GUARD, 0, 1, 32, 64, 32, 128);
	expect(&e, h, "flood rate 0: off", &s, R(PASSED_SIGNALLING));
	env_close(&e);
}

static void test_bans(enum hook h)
{
	uint64_t now = mono_ns();
	struct pb_spec media = {V4("10.50.0.1", 4000, "10.0.0.9", 10010)};
	struct pb_spec sig = {SIG4("10.50.0.1")};
	struct pb_spec s;
	struct env e;
	const char *hn = hook_name[h];

	if (env_open(&e, 0, 0, 0) || cfg_put(&e, SW_CFG_FLOOD_GUARD, 1000, 1000, 32, 64, 32, 128) ||
	    ph_put(&e, &(struct ph_spec){"10.0.0.9", 10010, {A("10.50.0.1", 4000, STRICT)}}) ||
	    ph_put(&e, &(struct ph_spec){"fd00::9", 10010, {A("fd00:50::77", 0, ADDRESS)}}) ||
	    ban_put(&e, "10.50.0.1", 0)) {
		result(0, "%s: bans: load", hn);
		env_close(&e);
		return;
	}
	/* a ban in the map but the list not active: not consulted */
	expect(&e, h, "bans inactive: media passes its pinhole", &media, R(PASSED_PINHOLE));
	expect(&e, h, "bans inactive: signalling passes", &sig, R(PASSED_SIGNALLING));
	cfg_put(&e, SW_CFG_FLOOD_GUARD | SW_CFG_BANS_ACTIVE, 1000, 1000, 32, 64, 32, 128);
	expect(&e, h, "ban: media dropped despite its pinhole", &media, R(DROPPED_BANNED));
	expect(&e, h, "ban: signalling dropped", &sig, R(DROPPED_BANNED));
	sig.dport = 5061;
	expect(&e, h, "ban: signalling 5061 dropped", &sig, R(DROPPED_BANNED));
	s = (struct pb_spec){V4("10.50.0.1", 4000, "10.0.0.2", 10002)};
	expect(&e, h, "ban: media without pinhole: banned first", &s, R(DROPPED_BANNED));
	result(ban_packets(&e, "10.50.0.1") == 4, "%s: ban counted its 4 drops (%llu)", hn,
	       (unsigned long long)ban_packets(&e, "10.50.0.1"));
	s = (struct pb_spec){V4("10.50.0.1", 4000, "10.0.0.9", 10010), .l4 = IPPROTO_UDPLITE};
	expect(&e, h, "ban: UDP-Lite media dropped despite its pinhole", &s, R(DROPPED_BANNED));
	s = (struct pb_spec){V4("10.50.0.1", 53, "10.0.0.2", 53)};
	expect(&e, h, "ban: other UDP from a banned source is not ours", &s, R(PASSED_NOT_MEDIA));
	s = (struct pb_spec){V4("10.50.0.1", 4000, "10.0.0.2", 5060), .l4 = IPPROTO_TCP};
	expect(&e, h, "ban: TCP from a banned source is not ours", &s, R(PASSED_NOT_MEDIA));
	s = (struct pb_spec){SIG4("10.50.0.2")};
	expect(&e, h, "ban: the neighbour address is not banned", &s, R(PASSED_SIGNALLING));
	/* fragments: the first is judged, the later follow */
	s = (struct pb_spec){SIG4("10.50.0.1"), .frag = PB_FIRST, .payload = 1200, .frag_id = 7001};
	expect(&e, h, "ban frag: first fragment banned", &s, R(DROPPED_BANNED));
	s = (struct pb_spec){SIG4("10.50.0.1"), LATER(151), .frag_id = 7001};
	expect(&e, h, "ban frag: later fragment dropped", &s, R(DROPPED_FRAGMENT));
	/* expiry (CLOCK_MONOTONIC) */
	ban_put(&e, "10.50.0.1", now + 60ull * 1000000000ull);
	expect(&e, h, "ban expiring in 60 s: dropped", &media, R(DROPPED_BANNED));
	/* the program reads the coarse clock (a tick behind): 1 s ago */
	ban_put(&e, "10.50.0.1", mono_ns() - 1000000000ull);
	expect(&e, h, "ban expired: media passes", &media, R(PASSED_PINHOLE));
	expect(&e, h, "ban expired: signalling passes", &sig, R(PASSED_SIGNALLING));
	/* bans come before the trusted exemption (nobody bans trusted) */
	trusted_put(&e, "10.51.0.0", 96 + 16);
	ban_put(&e, "10.51.0.5", 0);
	s = (struct pb_spec){SIG4("10.51.0.5")};
	expect(&e, h, "ban: checked before trusted", &s, R(DROPPED_BANNED));
	s.src = "10.51.0.6";
	expect(&e, h, "ban: trusted neighbour", &s, R(PASSED_TRUSTED));
	/* a banned flooder: banned, its bucket untouched */
	cfg_put(&e, SW_CFG_FLOOD_GUARD | SW_CFG_BANS_ACTIVE, 1, 1, 32, 64, 32, 128);
	ban_put(&e, "10.52.0.1", 0);
	s = (struct pb_spec){SIG4("10.52.0.1")};
	expect_n(&e, h, "ban: flooder banned before its bucket", &s, R(DROPPED_BANNED), 2);
	{
		struct sw_bucket b;

		result(bucket_get(&e, "10.52.0.1", &b) != 0,
		       "%s: ban: no bucket made for a banned source", hn);
	}
	/* IPv4 bans per /24, IPv6 per /64 */
	cfg_put(&e, SW_CFG_BANS_ACTIVE, 0, 0, 32, 64, 24, 64);
	ban_put(&e, "10.60.1.0", 0);
	s = (struct pb_spec){SIG4("10.60.1.200")};
	expect(&e, h, "ban /24: 10.60.1.200 in the banned /24", &s, R(DROPPED_BANNED));
	s.src = "10.60.2.1";
	expect(&e, h, "ban /24: 10.60.2.1 not", &s, R(PASSED_SIGNALLING));
	ban_put(&e, "fd00:50::", 0);
	s = (struct pb_spec){V6("fd00:50::77", 4000, "fd00::9", 10010)};
	expect(&e, h, "ban v6 /64: media dropped", &s, R(DROPPED_BANNED));
	s = (struct pb_spec){SIG6("fd00:50::1:2:3")};
	expect(&e, h, "ban v6 /64: signalling from the /64 dropped", &s, R(DROPPED_BANNED));
	s.src = "fd00:51::77";
	expect(&e, h, "ban v6 /64: next /64 passes", &s, R(PASSED_SIGNALLING));
	/* full-length v6 bans */
	cfg_put(&e, SW_CFG_BANS_ACTIVE, 0, 0, 32, 64, 32, 128);
	ban_put(&e, "fd00:52::5", 0);
	s = (struct pb_spec){SIG6("fd00:52::5")};
	expect(&e, h, "ban v6 /128: dropped", &s, R(DROPPED_BANNED));
	s.src = "fd00:52::6";
	expect(&e, h, "ban v6 /128: neighbour passes", &s, R(PASSED_SIGNALLING));
	env_close(&e);
}

/* ---- egress learner --------------------------------------------------- */

static void expect_src(const struct env *e, const char *what, const char *dst, uint16_t port,
		       int slot, const char *addr, uint16_t sport, uint8_t flags)
{
	struct sw_pinhole v;
	uint8_t a[16];

	pb_addr16(addr, a);
	if (ph_get(e, dst, port, &v)) {
		result(0, "tc_eg: %s: pinhole missing", what);
		return;
	}
	result(!memcmp(v.src[slot].addr, a, 16) && v.src[slot].port == htons(sport) &&
		       v.src[slot].flags == flags,
	       "tc_eg: %s: slot %d holds %s:%u flags %u", what, slot, addr, sport, flags);
}

static void test_egress(const struct env *e)
{
	static const struct ph_spec sym2 = {
		"10.0.0.2",
		15010,
		{A("10.9.9.1", 4000, SYMMETRIC), A("10.9.9.2", 4000, SYMMETRIC)}};
	const uint8_t learned = SW_SRC_ACTIVE | SW_SRC_LEARNED;
	struct pb_spec s;

#define EG(name, sa, sp, da, dp, r)                       \
	do {                                              \
		s = (struct pb_spec){V4(sa, sp, da, dp)}; \
		expect(e, H_TC_EG, name, &s, r);          \
	} while (0)
#define IN(h, name, sa, sp, da, dp, r)                    \
	do {                                              \
		s = (struct pb_spec){V4(sa, sp, da, dp)}; \
		expect(e, h, name, &s, r);                \
	} while (0)

	/* before learning: the SDP address, any port (address mode) */
	IN(H_XDP, "sym before learning: SDP addr", "10.9.9.9", 4444, "10.0.0.2", 15000,
	   R(PASSED_PINHOLE));
	IN(H_XDP, "sym before learning: NAT addr", "10.7.7.7", 31000, "10.0.0.2", 15000,
	   R(DROPPED_BAD_SOURCE));
	/* the endpoint sends to the peer's NAT address: learned */
	EG("learn NAT peer", "10.0.0.2", 15000, "10.7.7.7", 31000, R(EGRESS_LEARNED));
	expect_src(e, "after learning", "10.0.0.2", 15000, 0, "10.7.7.7", 31000, learned);
	IN(H_XDP, "sym learned: from learned", "10.7.7.7", 31000, "10.0.0.2", 15000,
	   R(PASSED_PINHOLE));
	IN(H_TC_IN, "sym learned: from learned", "10.7.7.7", 31000, "10.0.0.2", 15000,
	   R(PASSED_PINHOLE));
	IN(H_XDP, "sym learned: learned addr other port", "10.7.7.7", 31001, "10.0.0.2", 15000,
	   R(DROPPED_BAD_SOURCE));
	IN(H_XDP, "sym learned: SDP addr and port", "10.9.9.9", 4000, "10.0.0.2", 15000,
	   R(DROPPED_BAD_SOURCE));
	IN(H_TC_IN, "sym learned: SDP addr other port", "10.9.9.9", 4444, "10.0.0.2", 15000,
	   R(DROPPED_BAD_SOURCE));
	EG("refresh same peer", "10.0.0.2", 15000, "10.7.7.7", 31000, R(EGRESS_LEARNED));
	expect_src(e, "after refresh", "10.0.0.2", 15000, 0, "10.7.7.7", 31000, learned);
	/* the endpoint moves (e.g. peer re-NATed): the single slot follows */
	EG("relearn single slot", "10.0.0.2", 15000, "10.7.7.8", 31002, R(EGRESS_LEARNED));
	IN(H_XDP, "sym relearned: new peer", "10.7.7.8", 31002, "10.0.0.2", 15000,
	   R(PASSED_PINHOLE));
	IN(H_XDP, "sym relearned: old peer", "10.7.7.7", 31000, "10.0.0.2", 15000,
	   R(DROPPED_BAD_SOURCE));
	/* nothing to learn */
	EG("no pinhole for source port", "10.0.0.2", 15002, "10.7.7.7", 31000, R(EGRESS_PASSED));
	EG("source port outside media", "10.0.0.2", 5060, "10.7.7.7", 5060, R(EGRESS_PASSED));
	EG("strict pinhole is not learned", "10.0.0.2", 10000, "10.7.7.7", 31000, R(EGRESS_PASSED));
	expect_src(e, "strict slot untouched", "10.0.0.2", 10000, 0, "10.9.9.9", 4000,
		   SW_SRC_ACTIVE);
	s = (struct pb_spec){V4("10.0.0.2", 15000, "10.7.7.9", 31000), .l4 = IPPROTO_TCP};
	expect(e, H_TC_EG, "TCP is not learned", &s, R(EGRESS_PASSED));
	s = (struct pb_spec){.ethertype = ETH_P_ARP};
	expect(e, H_TC_EG, "ARP", &s, R(EGRESS_PASSED));
	/* too deep to see: never learned from, never dropped on egress */
	s = (struct pb_spec){V4("10.0.0.2", 15000, "10.7.7.5", 31000), .vlans = 3, .vid0 = 1};
	expect(e, H_TC_EG, "three tags: passed, not learned", &s, R(EGRESS_PASSED));
	/* two symmetric slots (forked early media): the one naming the peer */
	if (ph_put(e, &sym2))
		result(0, "tc_eg: install two-slot pinhole");
	EG("two slots: learn slot naming peer", "10.0.0.2", 15010, "10.9.9.2", 7000,
	   R(EGRESS_LEARNED));
	expect_src(e, "two slots: slot 1 learned", "10.0.0.2", 15010, 1, "10.9.9.2", 7000, learned);
	expect_src(e, "two slots: slot 0 untouched", "10.0.0.2", 15010, 0, "10.9.9.1", 4000,
		   SW_SRC_ACTIVE);
	IN(H_XDP, "two slots: slot 0 still address mode", "10.9.9.1", 1, "10.0.0.2", 15010,
	   R(PASSED_PINHOLE));
	IN(H_XDP, "two slots: learned slot strict", "10.9.9.2", 4000, "10.0.0.2", 15010,
	   R(DROPPED_BAD_SOURCE));
	EG("two slots: NAT peer takes the unlearned", "10.0.0.2", 15010, "10.7.7.7", 9000,
	   R(EGRESS_LEARNED));
	expect_src(e, "two slots: slot 0 learned NAT", "10.0.0.2", 15010, 0, "10.7.7.7", 9000,
		   learned);
	EG("two slots: both learned, third peer", "10.0.0.2", 15010, "10.7.7.6", 9000,
	   R(EGRESS_PASSED));
	expect_src(e, "two slots: slot 1 kept", "10.0.0.2", 15010, 1, "10.9.9.2", 7000, learned);
	/* IPv6 */
	s = (struct pb_spec){V6("fd00::2", 12004, "fd00::77", 5555)};
	expect(e, H_TC_EG, "v6 learn", &s, R(EGRESS_LEARNED));
	expect_src(e, "v6 learned", "fd00::2", 12004, 0, "fd00::77", 5555, learned);
	s = (struct pb_spec){V6("fd00::77", 5555, "fd00::2", 12004)};
	expect(e, H_XDP, "v6 sym learned: from learned", &s, R(PASSED_PINHOLE));
	s = (struct pb_spec){V6("fd00::9", 4000, "fd00::2", 12004)};
	expect(e, H_XDP, "v6 sym learned: SDP source", &s, R(DROPPED_BAD_SOURCE));
	/* VLAN-tagged egress */
	s = (struct pb_spec){V6("fd00::2", 12004, "fd00::78", 5556), .vlans = 1};
	expect(e, H_TC_EG, "v6 learn in VLAN", &s, R(EGRESS_LEARNED));
	expect_src(e, "v6 relearned", "fd00::2", 12004, 0, "fd00::78", 5556, learned);
#undef EG
#undef IN
}

/* ---- media range from rodata ---------------------------------------- */

static void test_media_range(void)
{
	struct pb_spec s = {V4("10.9.9.9", 4000, "10.0.0.5", 0)};
	struct env e;

	if (env_open(&e, 0, 30000, 30010)) {
		result(0, "media range 30000-30010: load");
		return;
	}
	s.dport = 10000;
	expect(&e, H_XDP, "range 30000-30010: 10000 is not media", &s, R(PASSED_NOT_MEDIA));
	s.dport = 29999;
	expect(&e, H_XDP, "range 30000-30010: lo-1", &s, R(PASSED_NOT_MEDIA));
	s.dport = 30000;
	expect(&e, H_XDP, "range 30000-30010: lo", &s, R(DROPPED_NO_PINHOLE));
	s.dport = 30010;
	expect(&e, H_TC_IN, "range 30000-30010: hi", &s, R(DROPPED_NO_PINHOLE));
	s.dport = 30011;
	expect(&e, H_TC_IN, "range 30000-30010: hi+1", &s, R(PASSED_NOT_MEDIA));
	env_close(&e);
}

/* ---- 10^6 pinholes -------------------------------------------------- */

#define BIG 1000000u

/* Pinhole i: 10.(16 + i / 50000).x.y port 10000 + i % 10000 ... unique. */
static void big_key(unsigned int i, struct sw_pinhole_key *k)
{
	memset(k, 0, sizeof(*k));
	k->addr[10] = k->addr[11] = 0xff;
	k->addr[12] = 10;
	k->addr[13] = 100 + i / 10000 / 256;
	k->addr[14] = (i / 10000) % 256;
	k->addr[15] = 1;
	k->port = htons(10000 + i % 10000);
	k->proto = IPPROTO_UDP;
}

static void test_million(void)
{
	enum { CHUNK = 50000 };
	struct sw_pinhole_key *keys = calloc(CHUNK, sizeof(*keys));
	struct sw_pinhole_hot *vals = calloc(CHUNK, sizeof(*vals));
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	struct pb_spec s = {V4("10.9.9.9", 4000, "", 0)};
	unsigned int i, j, n = 0;
	char dst[32];
	struct env e;
	uint64_t t0;
	int err = 0;

	if (!keys || !vals || env_open(&e, BIG, 0, 0)) {
		result(0, "1,000,000 pinholes: load");
		goto out;
	}
	bpf_obj_get_info_by_fd(e.pinholes, &info, &info_len);
	result(info.max_entries == BIG, "1,000,000 pinholes: max_entries %u", info.max_entries);
	t0 = mono_ns();
	for (i = 0; i < BIG && !err; i += CHUNK) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		__u32 cnt = CHUNK;

		for (j = 0; j < CHUNK; j++) {
			big_key(i + j, &keys[j]);
			memset(&vals[j], 0, sizeof(vals[j]));
			pb_addr16("10.9.9.9", vals[j].src.addr);
			vals[j].src.port = htons(4000);
			vals[j].src.flags = SW_SRC_ACTIVE;
		}
		err = bpf_map_update_batch(e.pinholes, keys, vals, &cnt, &bo);
		n += cnt;
	}
	result(!err && n == BIG, "1,000,000 pinholes: inserted %u in %.1f s%s%s", n,
	       (mono_ns() - t0) / 1e9, err ? ": " : "", err ? strerror(-err) : "");
	/* the last, the first and one in the middle are found; one more is not */
	for (i = 0; i < 3; i++) {
		unsigned int idx = i == 0 ? BIG - 1 : i == 1 ? 0 : BIG / 2 + 7;
		struct sw_pinhole_key k;

		big_key(idx, &k);
		snprintf(dst, sizeof(dst), "10.%u.%u.1", k.addr[13], k.addr[14]);
		s.dst = dst;
		s.dport = ntohs(k.port);
		expect(&e, H_XDP, "1,000,000 pinholes: hit", &s, R(PASSED_PINHOLE));
	}
	s.dst = "10.99.0.1";
	s.dport = 10000;
	expect(&e, H_XDP, "1,000,000 pinholes: miss", &s, R(DROPPED_NO_PINHOLE));
	env_close(&e);
out:
	free(keys);
	free(vals);
}

/* ---- XDP forwarding (-f, inside the namespace 20-bpf-packets.sh makes) -- */

/*
 * The namespace (tests/suites/20-bpf-packets.sh, fwd_ns_up) has four veth
 * pairs and this addressing; the FIB lookups of the test runs are its own:
 *   fwa0 10.77.1.1/24 fd77:1::1/64  ingress
 *   fwb0 10.77.2.1/24 fd77:2::1/64  mtu 1400, in sw_fwd_devs; neighbour .2/::2
 *   fwc0 10.77.5.1/24 fd77:5::1/64  NOT in sw_fwd_devs, neighbour .2/::2,
 *        IPv4 forwarding off on it (ingress for the "disabled" case)
 *   fwd0 10.77.6.1/24 fd77:6::1/64  in sw_fwd_devs, neighbour .2/::2
 *   10.77.3.0/24, fd77:3::/64 via .2.3/::3 (no neighbour); 10.77.4.0/24,
 *   fd77:4::/64 blackhole; 10.77.7.0/24, fd77:7::/64 via fwb0's neighbour,
 *   except from 10.9.9.77 / fd00::77 (ip rule, table 177): via fwd0's.
 * Neighbour MACs: 02:77:00:00:NN:02 with NN the subnet (2, 5, 6).
 */
#define FWD_NEIGH(n)                              \
	{                                         \
		0x02, 0x77, 0x00, 0x00, (n), 0x02 \
	}

struct fwd_if {
	const char *name;
	int ifindex;
	uint8_t mac[6];
};

static struct fwd_if fwd_ifs[] = {
	{.name = "fwa0"}, {.name = "fwb0"}, {.name = "fwc0"}, {.name = "fwd0"}};
enum { FA, FB, FC, FD };

static int fwd_if_setup(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned int i;

	if (fd < 0)
		return -1;
	for (i = 0; i < sizeof(fwd_ifs) / sizeof(fwd_ifs[0]); i++) {
		struct ifreq ifr = {0};

		fwd_ifs[i].ifindex = (int)if_nametoindex(fwd_ifs[i].name);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", fwd_ifs[i].name);
		if (!fwd_ifs[i].ifindex || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
			close(fd);
			return -1;
		}
		memcpy(fwd_ifs[i].mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	close(fd);
	return 0;
}

/* Internet checksum of an IPv4 header as it stands: 0 when valid. */
static uint16_t ip4_fold(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum a full recomputation gives (check field taken as 0). */
static uint16_t ip4_full(const uint8_t *h, size_t len)
{
	uint8_t c[60];

	memcpy(c, h, len);
	c[10] = c[11] = 0;
	return ip4_fold(c, len);
}

enum fwd_out {
	FO_SAME, /* XDP_PASS: the frame must come back unchanged */
	FO_FWD,	 /* XDP_REDIRECT: MACs, TTL, checksum rewritten */
	FO_NONE, /* no output check (drops) */
};

struct fcase_fwd {
	const char *name;
	struct pb_spec pkt;
	unsigned int want;
	int in;	    /* ingress: FA unless set */
	int out;    /* egress interface (FB, FD) */
	uint8_t nh; /* next hop's subnet (the neighbour MAC) */
	int in_set;
};

/* A forwarded frame's expected TOS / traffic class after DSCP marking; -1:
 * the sender's. */
static int fwd_expect_tos = -1;

/* Run one frame from ingress if; check action, the one counter, and the
 * frame that comes back. Returns 0 if all held. */
static int fwd_run(const struct env *e, const char *name, const struct pb_spec *spec, int in,
		   unsigned int want, int out, uint8_t nh, int quiet)
{
	struct sw_stat before[SW_R_MAX], after[SW_R_MAX];
	struct xdp_md ctx = {0};
	uint8_t res[PB_MAX];
	struct pb_pkt p;
	unsigned int r;
	int act, bad = 0;
	char why[160] = "";

	if (pb_build(spec, &p)) {
		result(0, "fwd: %s: bad packet spec", name);
		return -1;
	}
	ctx.data_end = (__u32)p.len;
	ctx.ingress_ifindex = (__u32)fwd_ifs[in].ifindex;
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.b, .data_size_in = p.len,
			    .data_out = res, .data_size_out = sizeof(res), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		stats_read(e, before);
		if (bpf_prog_test_run_opts(e->prog[H_XDP], &o)) {
			result(0, "fwd: %s: test run failed: %s", name, strerror(errno));
			return -1;
		}
		stats_read(e, after);
		act = want == SW_R_FORWARDED ? XDP_REDIRECT
					     : (reason_passes(want) ? XDP_PASS : XDP_DROP);
		if ((int)o.retval != act) {
			snprintf(why, sizeof(why), "action %u want %d", o.retval, act);
			bad = 1;
		} else if (o.data_size_out != p.len) {
			snprintf(why, sizeof(why), "length %u want %zu", o.data_size_out, p.len);
			bad = 1;
		}
	}
	for (r = 0; r < SW_R_MAX && !bad; r++) {
		uint64_t dp = after[r].packets - before[r].packets;

		if (r == want ? dp != 1 : dp != 0) {
			snprintf(why, sizeof(why), "counter %s moved by %llu", reason_names[r],
				 (unsigned long long)dp);
			bad = 1;
		}
	}
	if (!bad && want != SW_R_FORWARDED && reason_passes(want) && memcmp(res, p.b, p.len)) {
		snprintf(why, sizeof(why), "a frame passed to the stack was changed");
		bad = 1;
	}
	if (!bad && want == SW_R_FORWARDED) {
		static const uint8_t nmac[][6] = {{0}, {0},	     FWD_NEIGH(2), {0},
						  {0}, FWD_NEIGH(5), FWD_NEIGH(6)};
		uint8_t exp[PB_MAX];
		uint8_t *ip = exp + 14;

		memcpy(exp, p.b, p.len);
		memcpy(exp, nmac[nh], 6);
		memcpy(exp + 6, fwd_ifs[out].mac, 6);
		if (spec->v6) {
			ip[7]--;
			if (fwd_expect_tos >= 0) {
				ip[0] = (uint8_t)(0x60 | fwd_expect_tos >> 4);
				ip[1] = (uint8_t)((ip[1] & 0x0f) | (fwd_expect_tos & 0x0f) << 4);
			}
		} else {
			ip[8]--;
			if (fwd_expect_tos >= 0)
				ip[1] = (uint8_t)fwd_expect_tos;
			/* expected: a full recomputation of the new header */
			ip[10] = (uint8_t)(ip4_full(ip, 20) >> 8);
			ip[11] = (uint8_t)ip4_full(ip, 20);
		}
		if (memcmp(res, exp, p.len)) {
			size_t i;

			for (i = 0; i < p.len && res[i] == exp[i]; i++)
				;
			snprintf(why, sizeof(why),
				 "forwarded frame differs at byte %zu (%02x want %02x)", i, res[i],
				 exp[i]);
			bad = 1;
		} else if (!spec->v6 && ip4_fold(res + 14, 20)) {
			snprintf(why, sizeof(why), "IPv4 header checksum invalid");
			bad = 1;
		}
	}
	if (!quiet || bad)
		result(!bad, "fwd: %s -> %s%s%s", name, reason_names[want], bad ? ": " : "", why);
	return bad ? -1 : 0;
}

#define IN(i)	 .in = (i), .in_set = 1
#define TO(o, n) .out = (o), .nh = (n)
#define FCASE(nm, w, extra, ...)                                   \
	{                                                          \
		.name = nm, .want = w, .pkt = {__VA_ARGS__}, extra \
	}

static const struct fcase_fwd fwd_cases[] = {
	/* forwarded: MACs from the FIB, TTL - 1, checksum */
	FCASE("v4 to a neighbour", R(FORWARDED), TO(FB, 2),
	      V4("10.9.9.9", 4000, "10.77.2.2", 10000)),
	FCASE("v4 via a gateway", R(FORWARDED), TO(FB, 2),
	      V4("10.9.9.9", 4000, "10.77.7.9", 10000)),
	FCASE("v4 policy routing: from 10.9.9.77 via fwd0", R(FORWARDED), TO(FD, 6),
	      V4("10.9.9.77", 4000, "10.77.7.9", 10002)),
	FCASE("v4 TTL 2 forwarded with TTL 1", R(FORWARDED), TO(FB, 2),
	      V4("10.9.9.9", 4000, "10.77.2.2", 10000), .ttl = 2),
	FCASE("v4 TOS 0xb8 kept", R(FORWARDED), TO(FB, 2), V4("10.9.9.9", 4000, "10.77.2.2", 10000),
	      .tos = 0xb8),
	FCASE("v4 UDP-Lite", R(FORWARDED), TO(FB, 2), V4("10.9.9.9", 4000, "10.77.2.2", 10000),
	      .l4 = IPPROTO_UDPLITE),
	FCASE("v4 at the egress MTU (1400)", R(FORWARDED), TO(FB, 2),
	      V4("10.9.9.9", 4000, "10.77.2.2", 10000), .payload = 1400 - 28),
	FCASE("v6 to a neighbour", R(FORWARDED), TO(FB, 2),
	      V6("fd00::9", 4000, "fd77:2::2", 10000)),
	FCASE("v6 via a gateway", R(FORWARDED), TO(FB, 2), V6("fd00::9", 4000, "fd77:7::9", 10000)),
	FCASE("v6 policy routing: from fd00::77 via fwd0", R(FORWARDED), TO(FD, 6),
	      V6("fd00::77", 4000, "fd77:7::9", 10002)),
	FCASE("v6 hop limit 2", R(FORWARDED), TO(FB, 2), V6("fd00::9", 4000, "fd77:2::2", 10000),
	      .ttl = 2),
	FCASE("v6 traffic class kept", R(FORWARDED), TO(FB, 2),
	      V6("fd00::9", 4000, "fd77:2::2", 10000), .tos = 0x88),
	/* handed to the stack unchanged, counted by why */
	FCASE("v4 no neighbour for the gateway", R(FWD_NO_NEIGH), ,
	      V4("10.9.9.9", 4000, "10.77.3.9", 10000)),
	FCASE("v6 no neighbour for the gateway", R(FWD_NO_NEIGH), ,
	      V6("fd00::9", 4000, "fd77:3::9", 10000)),
	FCASE("v4 blackhole route", R(FWD_NO_ROUTE), , V4("10.9.9.9", 4000, "10.77.4.9", 10000)),
	FCASE("v6 blackhole route", R(FWD_NO_ROUTE), , V6("fd00::9", 4000, "fd77:4::9", 10000)),
	FCASE("v4 egress not in sw_fwd_devs", R(FWD_NOT_ALLOWED), ,
	      V4("10.9.9.9", 4000, "10.77.5.2", 10000)),
	FCASE("v6 egress not in sw_fwd_devs", R(FWD_NOT_ALLOWED), ,
	      V6("fd00::9", 4000, "fd77:5::2", 10000)),
	FCASE("v4 to a local address", R(FWD_LOCAL), , V4("10.9.9.9", 4000, "10.77.1.1", 10000)),
	FCASE("v6 to a local address", R(FWD_LOCAL), , V6("fd00::9", 4000, "fd77:1::1", 10000)),
	FCASE("v4 over the egress MTU", R(FWD_FRAG_NEEDED), ,
	      V4("10.9.9.9", 4000, "10.77.2.2", 10000), .payload = 1400 - 27),
	FCASE("v6 over the egress MTU", R(FWD_FRAG_NEEDED), ,
	      V6("fd00::9", 4000, "fd77:2::2", 10000), .payload = 1400 - 47),
	FCASE("v4 TTL 1", R(FWD_TTL), , V4("10.9.9.9", 4000, "10.77.2.2", 10000), .ttl = 1),
	FCASE("v6 hop limit 1", R(FWD_TTL), , V6("fd00::9", 4000, "fd77:2::2", 10000), .ttl = 1),
	FCASE("v4 options", R(FWD_OPTIONS), , V4("10.9.9.9", 4000, "10.77.2.2", 10000),
	      .ip4_opt_words = 1),
	FCASE("v6 hop-by-hop header", R(FWD_OPTIONS), , V6("fd00::9", 4000, "fd77:2::2", 10000),
	      .ext = {IPPROTO_HOPOPTS}, .n_ext = 1),
	FCASE("v6 atomic fragment (a fragment header)", R(FWD_OPTIONS), ,
	      V6("fd00::9", 4000, "fd77:2::2", 10000), .frag = PB_ATOMIC, .frag_id = 5),
	FCASE("v4 first fragment", R(FWD_FRAGMENT), , V4("10.9.9.9", 4000, "10.77.2.2", 10000),
	      FIRST, .frag_id = 901),
	FCASE("v6 first fragment", R(FWD_FRAGMENT), , V6("fd00::9", 4000, "fd77:2::2", 10000),
	      FIRST, .frag_id = 902),
	FCASE("v4 in 802.1Q", R(FWD_VLAN), , V4("10.9.9.9", 4000, "10.77.2.2", 10000), .vlans = 1),
	FCASE("v6 in QinQ", R(FWD_VLAN), , V6("fd00::9", 4000, "fd77:2::2", 10000), .vlans = 2,
	      .qinq = 1),
	FCASE("v4 forwarding off on the ingress device", R(FWD_DISABLED), IN(FC),
	      V4("10.9.9.9", 4000, "10.77.2.2", 10000)),
	/* not through a pinhole: never forwarded */
	FCASE("v4 bad source dropped", R(DROPPED_BAD_SOURCE), ,
	      V4("10.9.9.9", 4001, "10.77.2.2", 10000)),
	FCASE("v4 no pinhole dropped", R(DROPPED_NO_PINHOLE), ,
	      V4("10.9.9.9", 4000, "10.77.2.2", 10004)),
	FCASE("v6 bad source dropped", R(DROPPED_BAD_SOURCE), ,
	      V6("fd00::8", 4000, "fd77:2::2", 10000)),
	FCASE("v4 non-media UDP passes to the stack", R(PASSED_NOT_MEDIA), ,
	      V4("10.9.9.9", 4000, "10.77.2.2", 5999)),
	FCASE("v4 signalling passes to the stack", R(PASSED_SIGNALLING), ,
	      V4("10.9.9.9", 5060, "10.77.2.2", 5060)),
};

static const struct ph_spec fwd_fixture[] = {
	{"10.77.2.2", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"10.77.7.9", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"10.77.7.9", 10002, {A("10.9.9.77", 4000, STRICT)}},
	{"10.77.3.9", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"10.77.4.9", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"10.77.5.2", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"10.77.1.1", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"fd77:2::2", 10000, {A("fd00::9", 4000, STRICT)}},
	{"fd77:7::9", 10000, {A("fd00::9", 4000, STRICT)}},
	{"fd77:7::9", 10002, {A("fd00::77", 4000, STRICT)}},
	{"fd77:3::9", 10000, {A("fd00::9", 4000, STRICT)}},
	{"fd77:4::9", 10000, {A("fd00::9", 4000, STRICT)}},
	{"fd77:5::2", 10000, {A("fd00::9", 4000, STRICT)}},
	{"fd77:1::1", 10000, {A("fd00::9", 4000, STRICT)}},
	{"10.77.6.2", 10000, {A("10.9.9.9", 4000, STRICT)}},
	{"fd77:6::2", 10000, {A("fd00::9", 4000, STRICT)}},
};

static int fwd_dev_put(const struct env *e, int i)
{
	struct sw_fwd_dev v = {.ifindex = (__u32)fwd_ifs[i].ifindex};
	__u32 k = v.ifindex;

	return bpf_map_update_elem(e->fwd_devs, &k, &v, BPF_ANY);
}

/* ---- XDP forwarding of 802.1Q-tagged media (sw_fwd_vlans) ---------------
 *
 * The host kernel of this machine may have no VLAN devices at all, so the
 * table maps VIDs to the namespace's plain veths, which is all the program
 * sees of a VLAN device (an ifindex for the FIB lookup, an egress ifindex);
 * the loader's side and real VLAN devices are tested in
 * tests/suites/31-forward-vlan.sh where the kernel has them:
 *   IN  {fwa0, 300} -> fwd0 (forwarding on)   IN {fwa0, 200} -> fwc0 (IPv4
 *   forwarding off: a lookup that starts from the mapped device says so)
 *   OUT {fwd0} -> {fwb0, VID 100}: what the FIB routes out of fwd0 leaves
 *   fwb0 tagged 100, with fwd0's MAC as source (the "VLAN device's")
 *   OUT {fwc0} -> {fwa0, VID 5}: fwa0 is not in sw_fwd_devs
 */
static int vlan_put(const struct env *e, int ifi, __u16 vid, __u8 dir, int to, __u16 to_vid)
{
	struct sw_vlan_key k = {.ifindex = (__u32)fwd_ifs[ifi].ifindex, .vid = vid, .dir = dir};
	struct sw_vlan_dev v = {.ifindex = (__u32)fwd_ifs[to].ifindex, .vid = to_vid};

	return bpf_map_update_elem(e->fwd_vlans, &k, &v, BPF_ANY);
}

struct vcase {
	const char *name;
	struct pb_spec pkt;
	unsigned int want;
	int in;	     /* ingress (FA) */
	int smac_if; /* forwarded: source MAC of this interface */
	uint8_t nh;  /* forwarded: next hop's subnet (the neighbour MAC) */
	int out_tci; /* forwarded: -1 untagged, else the tag's TCI */
};

static const struct vcase vlan_cases[] = {
	{"802.1Q VID 300 in, VID 100 out (rewritten, priority kept)",
	 {V4("10.9.9.9", 4000, "10.77.6.2", 10000), .vlans = 1, .tci = 0xa000 | 300},
	 R(FORWARDED),
	 FA,
	 FD,
	 6,
	 0xa000 | 100},
	{"802.1Q VID 300 in, untagged out: a pop is the stack's",
	 {V4("10.9.9.9", 4000, "10.77.2.2", 10000), .vlans = 1, .tci = 0x2000 | 300},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"untagged in, VID 100 out: a push is the stack's",
	 {V4("10.9.9.9", 4000, "10.77.6.2", 10000)},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"v4 TTL 2, VID 300 in, VID 100 out",
	 {V4("10.9.9.9", 4000, "10.77.6.2", 10000), .vlans = 1, .tci = 300, .ttl = 2},
	 R(FORWARDED),
	 FA,
	 FD,
	 6,
	 100},
	{"v6 802.1Q VID 300 in, VID 100 out",
	 {V6("fd00::9", 4000, "fd77:6::2", 10000), .vlans = 1, .tci = 0xe000 | 300},
	 R(FORWARDED),
	 FA,
	 FD,
	 6,
	 0xe000 | 100},
	{"v6 802.1Q VID 300 in, untagged out: the stack's",
	 {V6("fd00::9", 4000, "fd77:2::2", 10000), .vlans = 1, .tci = 300},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"v6 untagged in, VID 100 out: the stack's",
	 {V6("fd00::9", 4000, "fd77:6::2", 10000)},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"VID 0 (priority tag) in: the interface's own, VID 100 out, priority kept",
	 {V4("10.9.9.9", 4000, "10.77.6.2", 10000), .vlans = 1, .tci = 0x6000},
	 R(FORWARDED),
	 FA,
	 FD,
	 6,
	 0x6000 | 100},
	{"VID 0 (priority tag) in, untagged out: the stack's",
	 {V4("10.9.9.9", 4000, "10.77.2.2", 10000), .vlans = 1, .vid0 = 1},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"VID 200 in: the lookup starts from its device (forwarding off there)",
	 {V4("10.9.9.9", 4000, "10.77.2.2", 10000), .vlans = 1, .tci = 200},
	 R(FWD_DISABLED),
	 FA,
	 0,
	 0,
	 0},
	{"VID 301 in: no VLAN device recorded",
	 {V4("10.9.9.9", 4000, "10.77.2.2", 10000), .vlans = 1, .tci = 301},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"VID 300 on another interface (fwd0): not recorded there",
	 {V4("10.9.9.9", 4000, "10.77.2.2", 10000), .vlans = 1, .tci = 300},
	 R(FWD_VLAN),
	 FD,
	 0,
	 0,
	 0},
	{"802.1ad single tag",
	 {V4("10.9.9.9", 4000, "10.77.6.2", 10000), .vlans = 1, .all_ad = 1, .tci = 300},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"QinQ (802.1ad + 802.1Q)",
	 {V6("fd00::9", 4000, "fd77:6::2", 10000), .vlans = 2, .qinq = 1, .tci = 300},
	 R(FWD_VLAN),
	 FA,
	 0,
	 0,
	 0},
	{"VLAN egress whose lower device is not in sw_fwd_devs",
	 {V4("10.9.9.9", 4000, "10.77.5.2", 10000), .vlans = 1, .tci = 300},
	 R(FWD_NOT_ALLOWED),
	 FA,
	 0,
	 0,
	 0},
};

static void vlan_run(const struct env *e, const struct vcase *c)
{
	static const uint8_t nmac[][6] = {{0}, {0},	     FWD_NEIGH(2), {0},
					  {0}, FWD_NEIGH(5), FWD_NEIGH(6)};
	struct sw_stat before[SW_R_MAX], after[SW_R_MAX];
	struct xdp_md ctx = {0};
	uint8_t res[PB_MAX + 8], exp[PB_MAX + 8];
	size_t in_l3, exp_len = 0;
	struct pb_pkt p;
	unsigned int r;
	int act, bad = 0;
	char why[160] = "";

	if (pb_build(&c->pkt, &p)) {
		result(0, "fwd vlan: %s: bad packet spec", c->name);
		return;
	}
	in_l3 = 14 + 4 * (size_t)c->pkt.vlans;
	if (c->want == SW_R_FORWARDED) {
		size_t l3 = c->out_tci >= 0 ? 18 : 14;
		uint8_t *ip = exp + l3;

		memcpy(exp, nmac[c->nh], 6);
		memcpy(exp + 6, fwd_ifs[c->smac_if].mac, 6);
		if (c->out_tci >= 0) {
			exp[12] = 0x81, exp[13] = 0x00;
			exp[14] = (uint8_t)(c->out_tci >> 8), exp[15] = (uint8_t)c->out_tci;
		}
		exp[l3 - 2] = c->pkt.v6 ? 0x86 : 0x08;
		exp[l3 - 1] = c->pkt.v6 ? 0xdd : 0x00;
		memcpy(ip, p.b + in_l3, p.len - in_l3);
		exp_len = l3 + p.len - in_l3;
		if (c->pkt.v6) {
			ip[7]--;
		} else {
			ip[8]--;
			ip[10] = (uint8_t)(ip4_full(ip, 20) >> 8);
			ip[11] = (uint8_t)ip4_full(ip, 20);
		}
	}
	ctx.data_end = (__u32)p.len;
	ctx.ingress_ifindex = (__u32)fwd_ifs[c->in].ifindex;
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.b, .data_size_in = p.len,
			    .data_out = res, .data_size_out = sizeof(res), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		stats_read(e, before);
		if (bpf_prog_test_run_opts(e->prog[H_XDP], &o)) {
			result(0, "fwd vlan: %s: test run failed: %s", c->name, strerror(errno));
			return;
		}
		stats_read(e, after);
		act = c->want == SW_R_FORWARDED ? XDP_REDIRECT
						: (reason_passes(c->want) ? XDP_PASS : XDP_DROP);
		if ((int)o.retval != act) {
			snprintf(why, sizeof(why), "action %u want %d", o.retval, act);
			bad = 1;
		} else if (act == XDP_REDIRECT &&
			   (o.data_size_out != exp_len || memcmp(res, exp, exp_len))) {
			size_t i;

			for (i = 0; i < exp_len && i < o.data_size_out && res[i] == exp[i]; i++)
				;
			snprintf(why, sizeof(why),
				 "forwarded frame (%u bytes, want %zu) differs at byte %zu",
				 o.data_size_out, exp_len, i);
			bad = 1;
		} else if (act == XDP_PASS &&
			   (o.data_size_out != p.len || memcmp(res, p.b, p.len))) {
			snprintf(why, sizeof(why), "a frame passed to the stack was changed");
			bad = 1;
		} else if (act == XDP_REDIRECT && !c->pkt.v6 &&
			   ip4_fold(res + (c->out_tci >= 0 ? 18 : 14), 20)) {
			snprintf(why, sizeof(why), "IPv4 header checksum invalid");
			bad = 1;
		}
	}
	for (r = 0; r < SW_R_MAX && !bad; r++) {
		uint64_t dp = after[r].packets - before[r].packets;

		if (r == c->want ? dp != 1 : dp != 0) {
			snprintf(why, sizeof(why), "counter %s moved by %llu", reason_names[r],
				 (unsigned long long)dp);
			bad = 1;
		}
	}
	result(!bad, "fwd vlan: %s -> %s%s%s", c->name, reason_names[c->want], bad ? ": " : "",
	       why);
}

/* SW_CFG_FWD_VLANS on or off, the rest of sw_config kept. */
static int vlan_flag(const struct env *e, int on)
{
	struct sw_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(e->config, &zero, &c))
		return -1;
	c.flags = on ? c.flags | SW_CFG_FWD_VLANS : c.flags & ~SW_CFG_FWD_VLANS;
	return bpf_map_update_elem(e->config, &zero, &c, BPF_ANY);
}

/* The untagged case routed out of fwd0 (vlan_cases[2]) when fwd0 counts
 * as a device of its own, not a VLAN one: forwarded untagged, its MAC. */
static void vlan_run_own(const struct env *e, const char *name)
{
	struct vcase c = vlan_cases[2];

	c.name = name;
	c.want = R(FORWARDED);
	c.smac_if = FD;
	c.nh = 6;
	c.out_tci = -1;
	vlan_run(e, &c);
}

static void test_forward_vlan(const struct env *e)
{
	unsigned int i;

	/* The loader sets the flag while sw_fwd_vlans holds entries. */
	if (vlan_flag(e, 1) || vlan_put(e, FA, 300, SW_VLAN_IN, FD, 300) ||
	    vlan_put(e, FA, 200, SW_VLAN_IN, FC, 200) || vlan_put(e, FD, 0, SW_VLAN_OUT, FB, 100) ||
	    vlan_put(e, FC, 0, SW_VLAN_OUT, FA, 5)) {
		result(0, "fwd vlan: sw_fwd_vlans fixture: %s", strerror(errno));
		return;
	}
	for (i = 0; i < sizeof(vlan_cases) / sizeof(vlan_cases[0]); i++)
		vlan_run(e, &vlan_cases[i]);
	/* With the flag off, untagged media does not look sw_fwd_vlans up:
	 * the route out of fwd0 is fwd0's own although its entry is there. */
	{
		struct vcase c = vlan_cases[0];

		if (vlan_flag(e, 0)) {
			result(0, "fwd vlan: clear SW_CFG_FWD_VLANS: %s", strerror(errno));
			return;
		}
		vlan_run_own(e, "untagged out of fwd0, SW_CFG_FWD_VLANS off: no VLAN lookup");
		/* tagged frames look it up whatever the flag says */
		c.name = "802.1Q VID 300 in, VID 100 out, SW_CFG_FWD_VLANS off";
		vlan_run(e, &c);
		vlan_flag(e, 1);
	}
	/* Gone from the map: tagged media takes the stack again, and a route
	 * out of fwd0 is fwd0's own again. */
	{
		struct sw_vlan_key k = {.ifindex = (__u32)fwd_ifs[FA].ifindex, .vid = 300};
		struct sw_vlan_key o = {.ifindex = (__u32)fwd_ifs[FD].ifindex, .dir = SW_VLAN_OUT};
		struct vcase c = vlan_cases[0];

		bpf_map_delete_elem(e->fwd_vlans, &k);
		bpf_map_delete_elem(e->fwd_vlans, &o);
		c.name = "VID 300 after its entry is deleted";
		c.want = R(FWD_VLAN);
		vlan_run(e, &c);
		vlan_run_own(e, "untagged out of fwd0 after its entry is deleted");
	}
	vlan_flag(e, 0);
}

static void test_forward(void)
{
	struct pb_spec s = {V4("10.9.9.9", 4000, "10.77.2.2", 10000)};
	struct sw_pinhole ph;
	unsigned int i, bad = 0;
	uint64_t before;
	struct env e;

	if (fwd_if_setup()) {
		result(0, "fwd: interfaces fwa0..fwd0 of the test namespace not found");
		return;
	}
	env_forward = 1;
	if (env_open(&e, 0, 0, 0)) {
		env_forward = 0;
		result(0, "fwd: load with fwd_enabled");
		return;
	}
	env_forward = 0;
	for (i = 0; i < sizeof(fwd_fixture) / sizeof(fwd_fixture[0]); i++)
		if (ph_put(&e, &fwd_fixture[i]))
			bad++;
	if (cfg_put(&e, 0, 0, 0, 32, 64, 32, 128) || fwd_dev_put(&e, FB) || fwd_dev_put(&e, FD) ||
	    bad) {
		result(0, "fwd: fixture");
		env_close(&e);
		return;
	}
	for (i = 0; i < sizeof(fwd_cases) / sizeof(fwd_cases[0]); i++) {
		const struct fcase_fwd *c = &fwd_cases[i];

		fwd_run(&e, c->name, &c->pkt, c->in_set ? c->in : FA, c->want, c->out, c->nh, 0);
	}

	test_forward_vlan(&e);

	/* The pinhole counts what it forwards. */
	ph_get(&e, "10.77.2.2", 10000, &ph);
	before = ph.packets;
	fwd_run(&e, "pinhole counters", &s, FA, R(FORWARDED), FB, 2, 1);
	ph_get(&e, "10.77.2.2", 10000, &ph);
	result(ph.packets == before + 1,
	       "fwd: a forwarded packet counts on its pinhole (%llu -> %llu)",
	       (unsigned long long)before, (unsigned long long)ph.packets);

	/* Incremental checksum = full recomputation, for every TTL and a
	 * spread of TOS values and addresses (carries wrap differently). */
	bad = 0;
	for (i = 2; i <= 255; i++) {
		s.ttl = (uint8_t)i;
		s.tos = (uint8_t)(i * 37);
		s.payload = (int)(i * 5 % 1300);
		s.frag_id = i * 2654435761u;
		if (fwd_run(&e, "checksum sweep", &s, FA, R(FORWARDED), FB, 2, 1))
			bad++;
	}
	result(!bad,
	       "fwd: incremental IPv4 checksum equals full recomputation for TTL 2-255 "
	       "(%u mismatches)",
	       bad);

	/* Out of the set: the same packet is handed to the stack. */
	{
		__u32 k = (__u32)fwd_ifs[FB].ifindex;

		s = (struct pb_spec){V4("10.9.9.9", 4000, "10.77.2.2", 10000)};
		bpf_map_delete_elem(e.fwd_devs, &k);
		fwd_run(&e, "egress removed from sw_fwd_devs", &s, FA, R(FWD_NOT_ALLOWED), 0, 0, 0);
		fwd_dev_put(&e, FB);
	}

	/* DSCP marking and forwarding together: the forwarded frame carries
	 * both (EF on audio, ECN bits kept, one checksum for both changes). */
	{
		ph_put_m(&e, &fwd_fixture[0], SW_MEDIA_AUDIO);
		ph_put_m(&e, &fwd_fixture[7], SW_MEDIA_AUDIO);
		dscp_cfg_put(&e, SW_DSCP_AUDIO_DEFAULT, SW_DSCP_VIDEO_DEFAULT);
		s = (struct pb_spec){V4("10.9.9.9", 4000, "10.77.2.2", 10000), .tos = 0x03};
		fwd_expect_tos = 46 << 2 | 3;
		fwd_run(&e, "v4 audio, DSCP EF, forwarded", &s, FA, R(FORWARDED), FB, 2, 0);
		s = (struct pb_spec){V6("fd00::9", 4000, "fd77:2::2", 10000), .tos = 0x01};
		fwd_expect_tos = 46 << 2 | 1;
		fwd_run(&e, "v6 audio, DSCP EF, forwarded", &s, FA, R(FORWARDED), FB, 2, 0);
		fwd_expect_tos = -1;
	}
	env_close(&e);

	/* Without fwd_enabled the same pinhole only passes. */
	if (!env_open(&e, 0, 0, 0)) {
		ph_put(&e, &fwd_fixture[0]);
		fwd_dev_put(&e, FB);
		s = (struct pb_spec){V4("10.9.9.9", 4000, "10.77.2.2", 10000)};
		fwd_run(&e, "forwarding off: passed to the stack", &s, FA, R(PASSED_PINHOLE), 0, 0,
			0);
		env_close(&e);
	}
}

/* ---- DSCP marking (sw_config SW_CFG_DSCP) --------------------------- */

/* Run a frame on XDP; out gets what comes back. The action, or -1. */
static int run_out(const struct env *e, const struct pb_pkt *p, uint8_t *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len, .data_out = out,
		    .data_size_out = PB_MAX, .repeat = 1);

	if (bpf_prog_test_run_opts(e->prog[H_XDP], &o) || o.data_size_out != p->len)
		return -1;
	return (int)o.retval;
}

struct dcase {
	const char *name;
	struct pb_spec pkt;
	int want_tos; /* TOS / traffic class after the program; -1: unchanged frame */
	int want_act;
};

static const struct dcase dscp_cases[] = {
	{"v4 audio: EF", {V4("10.9.9.9", 4000, "10.0.0.6", 10000)}, 46 << 2, XDP_PASS},
	{"v4 audio, ECN CE kept",
	 {V4("10.9.9.9", 4000, "10.0.0.6", 10000), .tos = 0x03},
	 46 << 2 | 3,
	 XDP_PASS},
	{"v4 audio, sender's AF11 replaced",
	 {V4("10.9.9.9", 4000, "10.0.0.6", 10000), .tos = 0x28},
	 46 << 2,
	 XDP_PASS},
	{"v4 video: AF41", {V4("10.9.9.9", 4000, "10.0.0.6", 10002)}, 34 << 2, XDP_PASS},
	{"v4 unknown media (manual pinhole): unchanged",
	 {V4("10.9.9.9", 4000, "10.0.0.6", 10004), .tos = 0x28},
	 -1,
	 XDP_PASS},
	{"v4 audio in 802.1Q",
	 {V4("10.9.9.9", 4000, "10.0.0.6", 10000), .vlans = 1},
	 46 << 2,
	 XDP_PASS},
	{"v4 audio in QinQ, options",
	 {V4("10.9.9.9", 4000, "10.0.0.6", 10000), .vlans = 2, .qinq = 1, .ip4_opt_words = 2},
	 46 << 2,
	 XDP_PASS},
	{"v4 audio, bad source: dropped, not marked",
	 {V4("10.9.9.9", 4001, "10.0.0.6", 10000)},
	 -1,
	 XDP_DROP},
	{"v4 non-media: unchanged",
	 {V4("10.9.9.9", 4000, "10.0.0.6", 5999), .tos = 0x28},
	 -1,
	 XDP_PASS},
	{"v6 audio: EF", {V6("fd00::9", 4000, "fd00::6", 10000)}, 46 << 2, XDP_PASS},
	{"v6 video, ECN ECT(1) kept",
	 {V6("fd00::9", 4000, "fd00::6", 10002), .tos = 0x01},
	 34 << 2 | 1,
	 XDP_PASS},
	{"v6 audio in 802.1Q",
	 {V6("fd00::9", 4000, "fd00::6", 10000), .vlans = 1},
	 46 << 2,
	 XDP_PASS},
};

static void test_dscp(void)
{
	static const struct ph_spec phs[] = {
		{"10.0.0.6", 10000, {A("10.9.9.9", 4000, STRICT)}},
		{"10.0.0.6", 10002, {A("10.9.9.9", 4000, STRICT)}},
		{"10.0.0.6", 10004, {A("10.9.9.9", 4000, STRICT)}},
		{"fd00::6", 10000, {A("fd00::9", 4000, STRICT)}},
		{"fd00::6", 10002, {A("fd00::9", 4000, STRICT)}},
	};
	static const uint8_t media[] = {SW_MEDIA_AUDIO, SW_MEDIA_VIDEO, SW_MEDIA_UNKNOWN,
					SW_MEDIA_AUDIO, SW_MEDIA_VIDEO};
	struct pb_spec off = {V4("10.9.9.9", 4000, "10.0.0.6", 10000), .tos = 0x28};
	uint8_t out[PB_MAX];
	struct pb_pkt p;
	unsigned int i, bad;
	struct env e;

	if (env_open(&e, 0, 0, 0)) {
		result(0, "dscp: load");
		return;
	}
	for (i = 0; i < sizeof(phs) / sizeof(phs[0]); i++)
		ph_put_m(&e, &phs[i], media[i]);
	cfg_put(&e, 0, 0, 0, 32, 64, 32, 128);
	pb_build(&off, &p);
	result(run_out(&e, &p, out) == XDP_PASS && !memcmp(out, p.b, p.len),
	       "dscp: off by default: audio passes unchanged");
	dscp_cfg_put(&e, SW_DSCP_AUDIO_DEFAULT, SW_DSCP_VIDEO_DEFAULT);
	for (i = 0; i < sizeof(dscp_cases) / sizeof(dscp_cases[0]); i++) {
		const struct dcase *c = &dscp_cases[i];
		size_t l3 = 14 + 4 * (size_t)c->pkt.vlans,
		       hl = 20 + 4 * (size_t)c->pkt.ip4_opt_words;
		uint8_t exp[PB_MAX];
		int act;

		pb_build(&c->pkt, &p);
		act = run_out(&e, &p, out);
		memcpy(exp, p.b, p.len);
		if (c->want_tos >= 0 && c->pkt.v6) {
			exp[l3] = (uint8_t)(0x60 | c->want_tos >> 4);
			exp[l3 + 1] = (uint8_t)((exp[l3 + 1] & 0x0f) | (c->want_tos & 0x0f) << 4);
		} else if (c->want_tos >= 0) {
			exp[l3 + 1] = (uint8_t)c->want_tos;
			exp[l3 + 10] = (uint8_t)(ip4_full(exp + l3, hl) >> 8);
			exp[l3 + 11] = (uint8_t)ip4_full(exp + l3, hl);
		}
		result(act == c->want_act &&
			       (c->want_act == XDP_DROP || !memcmp(out, exp, p.len)) &&
			       (c->pkt.v6 || c->want_act == XDP_DROP || !ip4_fold(out + l3, hl)),
		       "dscp: %s (action %d, TOS/TC byte %02x)", c->name, act,
		       c->pkt.v6 ? (uint8_t)(out[l3] << 4 | out[l3 + 1] >> 4) : out[l3 + 1]);
	}
	/* incremental = full recomputation for every DSCP and ECN start */
	bad = 0;
	for (i = 0; i < 256; i++) {
		struct pb_spec s = {V4("10.9.9.9", 4000, "10.0.0.6", 10000), .tos = (uint8_t)i,
				    .ttl = (uint8_t)(i | 1), .frag_id = i * 40503u};

		dscp_cfg_put(&e, (uint8_t)(i % 64), 0);
		pb_build(&s, &p);
		if (run_out(&e, &p, out) != XDP_PASS ||
		    out[15] != (uint8_t)((i % 64) << 2 | (i & 3)) || ip4_fold(out + 14, 20) ||
		    ((out[24] << 8 | out[25]) != ip4_full(out + 14, 20)))
			bad++;
	}
	result(!bad,
	       "dscp: incremental IPv4 checksum equals full recomputation for 256 TOS values "
	       "(%u mismatches)",
	       bad);
	/* SW_DSCP_KEEP for a kind: unchanged */
	dscp_cfg_put(&e, SW_DSCP_KEEP, 34);
	pb_build(&off, &p);
	result(run_out(&e, &p, out) == XDP_PASS && !memcmp(out, p.b, p.len),
	       "dscp: audio set to keep (0xff): unchanged");
	env_close(&e);
}

int main(int argc, char **argv)
{
	struct env e;
	enum hook h;
	int opt, only_fwd = 0;

	while ((opt = getopt(argc, argv, "vf")) != -1) {
		if (opt == 'f')
			only_fwd = 1;
		else
			verbose++;
	}
	(void)argc;
	(void)argv;
	libbpf_set_print(libbpf_quiet);
	if (geteuid() != 0) {
		printf("test-bpf-packets: needs root (BPF_PROG_TEST_RUN)\n");
		return 77;
	}
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/sw-test-%d", (int)getpid());
	if (mkdir(pin_root, 0700) && errno != EEXIST) {
		printf("test-bpf-packets: mkdir %s: %s (bpffs mounted?)\n", pin_root,
		       strerror(errno));
		return 1;
	}
	if (verbose)
		printf("pin root %s\n", pin_root);
	atexit(rm_pin_root);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (only_fwd) {
		test_forward();
		printf("test-bpf-packets: %d passed, %d failed, %d skipped\n", n_pass, n_fail,
		       n_skip);
		return n_fail ? 1 : 0;
	}
	if (env_open(&e, 0, 0, 0)) {
		printf("test-bpf-packets: cannot load the object\n");
		return 1;
	}
	if (fixture_put(&e)) {
		printf("test-bpf-packets: cannot install pinholes\n");
		return 1;
	}
	for (h = H_XDP; h <= H_TC_IN; h++) {
		run_main_table(&e, h);
		test_vlans(&e, h);
		run_frag_table(&e, h);
		test_pinhole_counters(&e, h);
		test_extra_sources(&e, h);
	}
	test_egress(&e);
	env_close(&e);
	for (h = H_XDP; h <= H_TC_IN; h++) {
		test_flood(h);
		test_bans(h);
	}
	test_media_range();
	test_dscp();
	test_million();

	printf("test-bpf-packets: %d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
