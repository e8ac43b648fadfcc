// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/xdp-cost: ns per packet of sipwall_xdp through BPF_PROG_TEST_RUN
 * (one 60-byte frame run `repeat` times in the kernel; the kernel reports
 * the mean time per run) for a pinhole hit (IPv4 and IPv6), a miss, a bad
 * source and non-media traffic, with 1, 1,000 and 1,000,000 pinholes
 * loaded, next to an empty XDP program (the test-run floor). Rounds rotate
 * the order of configurations; medians with [min-max] are printed.
 * Maps are not pinned. Usage: xdp-cost [-r repeat] [-n rounds]
 */
#include <arpa/inet.h>
#include <errno.h>
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

#define N_SIZES 3
#define MAX_ROUNDS 31

static const unsigned int sizes[N_SIZES] = { 1, 1000, 1000000 };

enum { C_FLOOR, C_HIT4, C_HIT6, C_MISS, C_BADSRC, C_NONMEDIA, N_CASES };
static const char *case_name[N_CASES] = {
	"empty XDP program (floor)", "pinhole hit, IPv4", "pinhole hit, IPv6",
	"miss (no pinhole)",	     "bad source",	  "non-media (UDP 5060)",
};
static const struct pb_spec case_pkt[N_CASES] = {
	[C_FLOOR] = { .src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 10000 },
	[C_HIT4] = { .src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 10000 },
	[C_HIT6] = { .v6 = 1, .src = "fd00::9", .sport = 4000, .dst = "fd00::1", .dport = 10000 },
	[C_MISS] = { .src = "10.9.9.9", .sport = 4000, .dst = "10.0.0.1", .dport = 20000 },
	[C_BADSRC] = { .src = "10.9.9.9", .sport = 4001, .dst = "10.0.0.1", .dport = 10000 },
	[C_NONMEDIA] = { .src = "10.9.9.9", .sport = 5060, .dst = "10.0.0.1", .dport = 5060 },
};

struct inst {
	struct sipwall *skel;
	int prog;
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
	struct sw_pinhole *v = calloc(CHUNK, sizeof(*v));
	unsigned int i, j;
	int err = -ENOMEM;

	if (!k || !v)
		goto out;
	for (j = 0; j < CHUNK; j++) {
		pb_addr16("10.9.9.9", v[j].src[0].addr);
		v[j].src[0].port = htons(4000);
		v[j].src[0].flags = SW_SRC_ACTIVE;
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
		pb_addr16("fd00::9", v[0].src[0].addr);
		err = bpf_map_update_elem(fd, &k[0], &v[0], BPF_ANY) ? -errno : 0;
	}
out:
	free(k);
	free(v);
	return err;
}

static int inst_open(struct inst *in, unsigned int n)
{
	struct bpf_map *m;
	int err;

	in->skel = sipwall__open();
	if (!in->skel)
		return -errno;
	bpf_object__for_each_map(m, in->skel->obj)
		bpf_map__set_pin_path(m, NULL); /* private, unpinned maps */
	bpf_map__set_max_entries(in->skel->maps.sw_pinholes, n + 1);
	err = sipwall__load(in->skel);
	if (!err)
		err = fill(bpf_map__fd(in->skel->maps.sw_pinholes), n);
	in->prog = bpf_program__fd(in->skel->progs.sipwall_xdp);
	return err;
}

/* r0 = XDP_PASS; exit */
static int floor_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "sw_floor", "GPL", insns, 2, NULL);
}

static int measure(int prog, const struct pb_pkt *p, unsigned int repeat,
		   double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b,
		    .data_size_in = p->len, .repeat = repeat);

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

int main(int argc, char **argv)
{
	static double res[N_CASES][N_SIZES][MAX_ROUNDS];
	unsigned int repeat = 1000000, rounds = 7, r, c, s, i;
	struct inst in[N_SIZES] = {};
	struct pb_pkt pkt[N_CASES];
	int opt, fl, err = 1;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			repeat = strtoul(optarg, NULL, 10);
		else if (opt == 'n')
			rounds = strtoul(optarg, NULL, 10);
		else
			goto usage;
	}
	if (!repeat || !rounds || rounds > MAX_ROUNDS)
		goto usage;
	libbpf_set_print(NULL);
	for (c = 0; c < N_CASES; c++)
		pb_build(&case_pkt[c], &pkt[c]);
	fl = floor_prog();
	if (fl < 0) {
		fprintf(stderr, "xdp-cost: load empty program: %s (root?)\n",
			strerror(errno));
		return 1;
	}
	for (s = 0; s < N_SIZES; s++) {
		int e = inst_open(&in[s], sizes[s]);

		if (e) {
			fprintf(stderr, "xdp-cost: %u pinholes: %s\n", sizes[s],
				strerror(-e));
			goto out;
		}
	}
	for (r = 0; r < rounds; r++) {
		/* rotate: each round starts at another configuration */
		for (i = 0; i < N_CASES * N_SIZES; i++) {
			unsigned int k = (i + r * 5) % (N_CASES * N_SIZES);
			int e;

			c = k / N_SIZES;
			s = k % N_SIZES;
			e = measure(c == C_FLOOR ? fl : in[s].prog, &pkt[c],
				    repeat, &res[c][s][r]);
			if (e) {
				fprintf(stderr, "xdp-cost: test run: %s\n",
					strerror(-e));
				goto out;
			}
		}
	}
	printf("sipwall_xdp cost, BPF_PROG_TEST_RUN, 60-byte frames, repeat %u, "
	       "%u rounds: median [min-max] ns/packet\n",
	       repeat, rounds);
	printf("| %-26s |", "case");
	for (s = 0; s < N_SIZES; s++)
		printf(" %'9u pinholes |", sizes[s]);
	printf("\n|%s|", "----------------------------");
	for (s = 0; s < N_SIZES; s++)
		printf("%s|", "--------------------");
	putchar('\n');
	for (c = 0; c < N_CASES; c++) {
		printf("| %-26s |", case_name[c]);
		for (s = 0; s < N_SIZES; s++) {
			double *v = res[c][s];

			qsort(v, rounds, sizeof(*v), cmp_d);
			printf(" %5.0f [%4.0f-%4.0f]   |", v[rounds / 2], v[0],
			       v[rounds - 1]);
		}
		putchar('\n');
	}
	err = 0;
out:
	for (s = 0; s < N_SIZES; s++)
		sipwall__destroy(in[s].skel);
	close(fl);
	return err;
usage:
	fprintf(stderr, "usage: xdp-cost [-r repeat] [-n rounds(1-%d)]\n",
		MAX_ROUNDS);
	return 2;
}
