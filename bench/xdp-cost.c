// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/xdp-cost: ns per packet of sipwall_xdp through BPF_PROG_TEST_RUN
 * (one 60-byte frame run `repeat` times in the kernel; the kernel reports
 * the mean time per run) for a pinhole hit (IPv4 and IPv6), a miss, a bad
 * source and non-media traffic, the DoS paths (signalling with and without
 * the flood guard, over the limit, trusted, a ban hit on media and on
 * signalling, a hit with the ban list active), with 1, 1,000 and 1,000,000
 * pinholes loaded, next to an empty XDP program (the test-run floor). Rounds rotate
 * the order of configurations; medians with [min-max] are printed.
 * Maps are not pinned. With -o, variants of the object (say, built with
 * other -D flags) are measured interleaved in the same rounds, so a noisy
 * machine moves them alike. Usage: xdp-cost -h
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipwall.skel.h"
#include "sipwall_maps.h"
#include "pktbuild.h"

#define N_SIZES	   3
#define MAX_ROUNDS 31

static const unsigned int sizes[N_SIZES] = {1, 1000, 1000000};

enum cfg_mode {
	CFG_PLAIN,	/* signalling ports 5060/5061, no flood guard, no bans */
	CFG_BANS,	/* plus SW_CFG_BANS_ACTIVE (one ban, 10.66.6.6) */
	CFG_FLOOD,	/* flood guard on, a bucket that never runs dry */
	CFG_FLOOD_OVER, /* flood guard on, 1 packet/s, burst 1 */
	CFG_DSCP,	/* DSCP marking on (audio EF) */
};

enum {
	C_FLOOR,
	C_HIT4,
	C_HIT6,
	C_MISS,
	C_BADSRC,
	C_NONMEDIA,
	C_SIG,
	C_HIT4_BANS,
	C_BAN_MEDIA,
	C_BAN_SIG,
	C_FLOOD_PASS,
	C_FLOOD_PASS6,
	C_FLOOD_DROP,
	C_TRUSTED,
	C_HIT4_DSCP,
	C_HIT6_DSCP,
	N_CASES
};
static const struct bcase {
	const char *name;
	struct pb_spec pkt;
	enum cfg_mode cfg;
} cases[N_CASES] = {
	[C_FLOOR] = {"empty XDP program (floor)",
		     {.src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 10000}},
	[C_HIT4] = {"pinhole hit, IPv4",
		    {.src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 10000}},
	[C_HIT6] = {"pinhole hit, IPv6",
		    {.v6 = 1, .src = "fd00::9", .sport = 4000, .dst = "fd00::1", .dport = 10000}},
	[C_MISS] = {"miss (no pinhole)",
		    {.src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 20000}},
	[C_BADSRC] = {"bad source",
		      {.src = "10.9.9.9", .sport = 4001, .dst = "10.0.0.1", .dport = 10000}},
	[C_NONMEDIA] = {"non-media (UDP 53)",
			{.src = "10.9.9.9", .sport = 53, .dst = "10.0.0.1", .dport = 53}},
	[C_SIG] = {"signalling, no flood guard",
		   {.src = "10.9.9.9", .sport = 5060, .dst = "10.0.0.1", .dport = 5060}},
	[C_HIT4_BANS] = {"pinhole hit, bans active",
			 {.src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 10000},
			 CFG_BANS},
	[C_BAN_MEDIA] = {"ban hit, media",
			 {.src = "10.66.6.6", .sport = 4000, .dst = "10.0.0.1", .dport = 10000},
			 CFG_BANS},
	[C_BAN_SIG] = {"ban hit, signalling",
		       {.src = "10.66.6.6", .sport = 5060, .dst = "10.0.0.1", .dport = 5060},
		       CFG_BANS},
	[C_FLOOD_PASS] = {"flood guard, within rate",
			  {.src = "10.9.9.9", .sport = 5060, .dst = "10.0.0.1", .dport = 5060},
			  CFG_FLOOD},
	[C_FLOOD_PASS6] =
		{"flood guard, within, IPv6",
		 {.v6 = 1, .src = "fd00::9", .sport = 5060, .dst = "fd00::1", .dport = 5060},
		 CFG_FLOOD},
	[C_FLOOD_DROP] = {"flood guard, over limit",
			  {.src = "10.7.7.7", .sport = 5060, .dst = "10.0.0.1", .dport = 5060},
			  CFG_FLOOD_OVER},
	[C_TRUSTED] = {"flood guard, trusted src",
		       {.src = "10.8.1.1", .sport = 5060, .dst = "10.0.0.1", .dport = 5060},
		       CFG_FLOOD},
	[C_HIT4_DSCP] = {"pinhole hit, DSCP marked (EF)",
			 {.src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 10000},
			 CFG_DSCP},
	[C_HIT6_DSCP] =
		{"pinhole hit, IPv6, DSCP marked",
		 {.v6 = 1, .src = "fd00::9", .sport = 4000, .dst = "fd00::1", .dport = 10000},
		 CFG_DSCP},
};

#define MAX_OBJS 4

/* One loaded object (the built-in skeleton or a -o file) with n pinholes. */
struct inst {
	struct bpf_object *obj;
	int prog, pinholes, config, bans, trusted;
};

/* Pinhole i of n: 10.0.0.1:10000 is always one of them (i = 0); the rest
 * spread over 10.1.0.0/16 x 10000 ports. */
static void key_of(unsigned int i, struct sw_pinhole_key *k)
{
	memset(k, 0, sizeof(*k));
	pb_addr16("10.0.0.1", k->addr);
	k->port = htons(10000);
	k->proto = IPPROTO_UDP;
	if (i) {
		k->addr[13] = 1;
		k->addr[14] = (i / 10000) >> 8;
		k->addr[15] = (i / 10000) & 0xff;
		k->port = htons(10000 + i % 10000);
	}
}

static int fill(int fd, unsigned int n)
{
	enum { CHUNK = 20000 };
	struct sw_pinhole_key *k = calloc(CHUNK, sizeof(*k));
	struct sw_pinhole_hot *v = calloc(CHUNK, sizeof(*v));
	unsigned int i, j;
	int err = -ENOMEM;

	if (!k || !v)
		goto out;
	for (j = 0; j < CHUNK; j++) {
		pb_addr16("10.9.9.9", v[j].src.addr);
		v[j].src.port = htons(4000);
		v[j].src.flags = SW_SRC_ACTIVE;
		v[j].media = SW_MEDIA_AUDIO; /* marked only under CFG_DSCP */
	}
	for (i = 0, err = 0; i < n && !err; i += CHUNK) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		__u32 cnt = n - i < CHUNK ? n - i : CHUNK;

		for (j = 0; j < cnt; j++)
			key_of(i + j, &k[j]);
		err = bpf_map_update_batch(fd, k, v, &cnt, &bo);
	}
	if (!err) { /* and the IPv6 destination */
		pb_addr16("fd00::1", k[0].addr);
		k[0].port = htons(10000);
		pb_addr16("fd00::9", v[0].src.addr);
		err = bpf_map_update_elem(fd, &k[0], &v[0], BPF_ANY) ? -errno : 0;
	}
out:
	free(k);
	free(v);
	return err;
}

/* One ban (10.66.6.6) and one trusted network (10.8.0.0/16): consulted only
 * when the case's configuration turns bans or the flood guard on. */
static int dos_fill(const struct inst *in)
{
	struct sw_ban_key bk = {};
	struct sw_ban b = {.reason = SW_BAN_MANUAL, .prefixlen = 128};
	struct sw_lpm_key lk = {.prefixlen = 96 + 16};
	__u8 one = 1;

	pb_addr16("10.66.6.6", bk.addr);
	pb_addr16("10.8.0.0", lk.addr);
	if (bpf_map_update_elem(in->bans, &bk, &b, BPF_ANY) ||
	    bpf_map_update_elem(in->trusted, &lk, &one, BPF_ANY))
		return -errno;
	return 0;
}

static int set_cfg(const struct inst *in, enum cfg_mode mode)
{
	struct sw_config c = {
		.media_lo = SW_MEDIA_LO_DEFAULT,
		.media_hi = SW_MEDIA_HI_DEFAULT,
		.version = SW_SCHEMA_VERSION,
		.sig_ports = {5060, 5061},
		.flood_prefix_v4 = 32,
		.flood_prefix_v6 = 64,
		.ban_prefix_v4 = 32,
		.ban_prefix_v6 = 128,
	};
	__u32 zero = 0;

	switch (mode) {
	case CFG_PLAIN:
		break;
	case CFG_BANS:
		c.flags = SW_CFG_BANS_ACTIVE;
		break;
	case CFG_FLOOD:
		c.flags = SW_CFG_FLOOD_GUARD;
		c.flood_rate = 1000000;
		c.flood_burst = 4000000000u;
		break;
	case CFG_FLOOD_OVER:
		c.flags = SW_CFG_FLOOD_GUARD;
		c.flood_rate = 1;
		c.flood_burst = 1;
		break;
	case CFG_DSCP:
		c.flags = SW_CFG_DSCP;
		c.dscp_audio = SW_DSCP_AUDIO_DEFAULT;
		c.dscp_video = SW_DSCP_VIDEO_DEFAULT;
		break;
	}
	return bpf_map_update_elem(in->config, &zero, &c, BPF_ANY) ? -errno : 0;
}

static int map_fd(struct bpf_object *obj, const char *name, int *fd)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	*fd = m ? bpf_map__fd(m) : -1;
	return *fd < 0 ? -ENOENT : 0;
}

/* path NULL: the object built into this binary (the skeleton's bytes). */
static int inst_open(struct inst *in, const char *path, unsigned int n)
{
	struct bpf_program *prog;
	struct bpf_map *m;
	size_t sz = 0;
	const void *bytes = path ? NULL : sipwall__elf_bytes(&sz);
	int err;

	in->obj = path ? bpf_object__open_file(path, NULL) : bpf_object__open_mem(bytes, sz, NULL);
	if (!in->obj)
		return -errno;
	bpf_object__for_each_map(m, in->obj)
		bpf_map__set_pin_path(m, NULL); /* private, unpinned maps */
	bpf_object__for_each_program(prog, in->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "sipwall_xdp"));
	m = bpf_object__find_map_by_name(in->obj, SW_MAP_PINHOLES);
	if (!m)
		return -ENOENT;
	bpf_map__set_max_entries(m, n + 1);
	err = bpf_object__load(in->obj);
	if (err)
		return err;
	prog = bpf_object__find_program_by_name(in->obj, "sipwall_xdp");
	in->prog = prog ? bpf_program__fd(prog) : -1;
	if (in->prog < 0)
		return -ENOENT;
	if ((err = map_fd(in->obj, SW_MAP_PINHOLES, &in->pinholes)) ||
	    (err = map_fd(in->obj, SW_MAP_CONFIG, &in->config)) ||
	    (err = map_fd(in->obj, SW_MAP_BANS, &in->bans)) ||
	    (err = map_fd(in->obj, SW_MAP_TRUSTED, &in->trusted)))
		return err;
	err = fill(in->pinholes, n);
	if (!err)
		err = dos_fill(in);
	return err;
}

/* r0 = XDP_PASS; exit */
static int floor_prog(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "sw_floor", "GPL", insns, 2, NULL);
}

static int measure(int prog, const struct pb_pkt *p, unsigned int repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog, &o))
		return -errno;
	*ns = o.duration; /* mean ns per run, as the kernel reports it */
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static bool wanted(unsigned int c, const char *only)
{
	return c == C_FLOOR || !only || strstr(cases[c].name, only);
}

int main(int argc, char **argv)
{
	static double res[MAX_OBJS][N_CASES][N_SIZES][MAX_ROUNDS];
	unsigned int repeat = 1000000, rounds = 7, nsizes = N_SIZES, nobj = 0, r, c, s, o, i;
	static struct inst in[MAX_OBJS][N_SIZES];
	const char *objs[MAX_OBJS] = {NULL};
	struct pb_pkt pkt[N_CASES];
	const char *only = NULL;
	int opt, fl, err = 1;

	while ((opt = getopt(argc, argv, "r:n:c:o:1")) != -1) {
		if (opt == 'r')
			repeat = strtoul(optarg, NULL, 10);
		else if (opt == 'n')
			rounds = strtoul(optarg, NULL, 10);
		else if (opt == 'c')
			only = optarg;
		else if (opt == 'o' && nobj < MAX_OBJS)
			objs[nobj++] = optarg;
		else if (opt == '1')
			nsizes = 1;
		else
			goto usage;
	}
	if (!repeat || !rounds || rounds > MAX_ROUNDS || optind != argc)
		goto usage;
	if (!nobj)
		nobj = 1; /* the built-in object */
	libbpf_set_print(NULL);
	for (c = 0; c < N_CASES; c++)
		pb_build(&cases[c].pkt, &pkt[c]);
	fl = floor_prog();
	if (fl < 0) {
		fprintf(stderr, "xdp-cost: load empty program: %s (root?)\n", strerror(errno));
		return 1;
	}
	for (o = 0; o < nobj; o++) {
		for (s = 0; s < nsizes; s++) {
			int e = inst_open(&in[o][s], objs[o], sizes[s]);

			if (e) {
				fprintf(stderr, "xdp-cost: %s, %u pinholes: %s\n",
					objs[o] ? objs[o] : "built-in object", sizes[s],
					strerror(-e));
				goto out;
			}
		}
	}
	for (r = 0; r < rounds; r++) {
		unsigned int n = N_CASES * nsizes * nobj;

		/* rotate: each round starts at another configuration */
		for (i = 0; i < n; i++) {
			unsigned int k = (i + r * 5) % n;
			const struct inst *x;
			int e;

			o = k % nobj;
			s = k / nobj % nsizes;
			c = k / nobj / nsizes;
			x = &in[o][s];
			if (!wanted(c, only) || (c == C_FLOOR && o))
				continue;
			e = c == C_FLOOR ? 0 : set_cfg(x, cases[c].cfg);
			if (!e)
				e = measure(c == C_FLOOR ? fl : x->prog, &pkt[c], repeat,
					    &res[o][c][s][r]);
			if (e) {
				fprintf(stderr, "xdp-cost: test run: %s\n", strerror(-e));
				goto out;
			}
		}
	}
	printf("sipwall_xdp cost, BPF_PROG_TEST_RUN, 60-byte frames, repeat %u, "
	       "%u rounds: median [min-max] ns/packet\n",
	       repeat, rounds);
	for (o = 0; nobj > 1 && o < nobj; o++)
		printf("  [%c] %s\n", 'a' + o, objs[o]);
	printf("| %-30s |", "case");
	for (s = 0; s < nsizes; s++)
		printf(" %'9u pinholes |", sizes[s]);
	printf("\n|%s|", "--------------------------------");
	for (s = 0; s < nsizes; s++)
		printf("%s|", "--------------------");
	putchar('\n');
	for (c = 0; c < N_CASES; c++) {
		for (o = 0; o < nobj; o++) {
			char label[64];

			if (!wanted(c, only) || (c == C_FLOOR && o))
				continue;
			if (nobj > 1 && c != C_FLOOR)
				snprintf(label, sizeof(label), "[%c] %s", 'a' + o, cases[c].name);
			else
				snprintf(label, sizeof(label), "%s", cases[c].name);
			printf("| %-30s |", label);
			for (s = 0; s < nsizes; s++) {
				double *v = res[o][c][s];

				qsort(v, rounds, sizeof(*v), cmp_d);
				printf(" %5.0f [%4.0f-%4.0f]   |", v[rounds / 2], v[0],
				       v[rounds - 1]);
			}
			putchar('\n');
		}
	}
	err = 0;
out:
	for (o = 0; o < MAX_OBJS; o++)
		for (s = 0; s < N_SIZES; s++)
			bpf_object__close(in[o][s].obj);
	close(fl);
	return err;
usage:
	fprintf(stderr,
		"usage: xdp-cost [-r repeat] [-n rounds(1-%d)] [-c SUBSTRING] [-1] [-o OBJ]...\n"
		"  -c: only the cases whose name contains SUBSTRING (and the floor)\n"
		"  -1: only with 1 pinhole loaded\n"
		"  -o: measure this BPF object instead of the built-in one; up to %d,\n"
		"      interleaved in the same rounds (to compare program variants)\n",
		MAX_ROUNDS, MAX_OBJS);
	return 2;
}
