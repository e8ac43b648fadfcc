// SPDX-License-Identifier: GPL-2.0-only
/*
 * swgen: the benchmark's live-frames generator and its lab helpers.
 *
 *   swgen send --dev IF --dst-mac MAC --src A --dst A [--dport P] [--n N]
 *              [--per-addr P] [--sport P] [--sport-span N]
 *              [--packets N] [--seconds S] [--batch B]
 *     Runs swgen_xdp through BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES:
 *     each run rewrites a 60-byte IPv4/UDP frame and redirects it out of IF
 *     (in the caller's network namespace). Stops after N packets or S seconds,
 *     whichever comes first. Prints "packets=N seconds=S mpps=M".
 *   swgen attach drop|touch|sink IF  native XDP: the floor / the floor reading
 *                                    the frame's first cache line / the sink
 *   swgen detach IF
 *   swgen fill PIN_PATH N --dst A --per-addr P --dport P --src A
 *     N pinholes in PIN_PATH's sw_pinholes (destination i as swgen send
 *     spreads them; source A, address check), in batches.
 *   swgen elems N --dst A --per-addr P --dport P --src A --table T --set S
 *     The same N destinations as an nft script adding (daddr . dport . saddr)
 *     elements to inet T's set S, 1000 per command.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/gen/swgen.h"
#include "lib/swmap.h"
#include "swgen.skel.h"

struct args {
	const char *dev, *dst_mac, *src, *dst, *table, *set;
	uint32_t n, per_addr, batch, per_call;
	uint16_t dport, sport, sport_span;
	uint64_t packets;
	double seconds;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: swgen send --dev IF --dst-mac MAC --src A --dst A [--dport P] [--n N]\n"
		"                  [--per-addr P] [--sport P] [--sport-span N]\n"
		"                  [--packets N] [--seconds S] [--batch B]\n"
		"       swgen attach drop|touch|sink IF\n"
		"       swgen detach IF\n"
		"       swgen fill PIN_PATH N --dst A --per-addr P --dport P --src A [--per-call "
		"K]\n"
		"       swgen elems N --dst A --per-addr P --dport P --src A --table T --set S\n");
}

static int parse_u64(const char *what, const char *s, uint64_t max, uint64_t *out)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || *e || v > max || s[0] == '-') {
		fprintf(stderr, "swgen: %s: not a number in 0..%llu: '%s'\n", what,
			(unsigned long long)max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {{"dev", required_argument, NULL, 'i'},
					     {"dst-mac", required_argument, NULL, 'm'},
					     {"src", required_argument, NULL, 's'},
					     {"dst", required_argument, NULL, 'd'},
					     {"dport", required_argument, NULL, 'P'},
					     {"n", required_argument, NULL, 'n'},
					     {"per-addr", required_argument, NULL, 'a'},
					     {"sport", required_argument, NULL, 'S'},
					     {"sport-span", required_argument, NULL, 'R'},
					     {"packets", required_argument, NULL, 'c'},
					     {"seconds", required_argument, NULL, 't'},
					     {"batch", required_argument, NULL, 'b'},
					     {"table", required_argument, NULL, 'T'},
					     {"set", required_argument, NULL, 'E'},
					     {"per-call", required_argument, NULL, 'C'},
					     {}};
	uint64_t v;
	char *e;
	int c;

	memset(a, 0, sizeof(*a));
	a->n = 1;
	a->per_addr = 1;
	a->dport = 10000;
	a->sport = 40000;
	a->batch = 64;
	a->packets = 1000000;
	a->seconds = 10;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->dev = optarg;
			break;
		case 'm':
			a->dst_mac = optarg;
			break;
		case 's':
			a->src = optarg;
			break;
		case 'd':
			a->dst = optarg;
			break;
		case 'T':
			a->table = optarg;
			break;
		case 'E':
			a->set = optarg;
			break;
		case 'P':
			if (parse_u64("--dport", optarg, 65535, &v))
				return -1;
			a->dport = v;
			break;
		case 'S':
			if (parse_u64("--sport", optarg, 65535, &v))
				return -1;
			a->sport = v;
			break;
		case 'R':
			if (parse_u64("--sport-span", optarg, 65535, &v))
				return -1;
			a->sport_span = v;
			break;
		case 'n':
			if (parse_u64("--n", optarg, 1u << 24, &v) || !v) {
				fprintf(stderr, "swgen: --n must be 1..%u\n", 1u << 24);
				return -1;
			}
			a->n = v;
			break;
		case 'C':
			if (parse_u64("--per-call", optarg, 64, &v))
				return -1;
			a->per_call = (uint32_t)v;
			break;
		case 'a':
			if (parse_u64("--per-addr", optarg, 65535, &v) || !v) {
				fprintf(stderr, "swgen: --per-addr must be 1..65535\n");
				return -1;
			}
			a->per_addr = v;
			break;
		case 'c':
			if (parse_u64("--packets", optarg, UINT64_MAX, &v))
				return -1;
			a->packets = v;
			break;
		case 'b':
			if (parse_u64("--batch", optarg, 256, &v) || !v) {
				fprintf(stderr, "swgen: --batch must be 1..256\n");
				return -1;
			}
			a->batch = v;
			break;
		case 't':
			a->seconds = strtod(optarg, &e);
			if (e == optarg || *e || !(a->seconds > 0 && a->seconds <= 600)) {
				fprintf(stderr, "swgen: --seconds must be in (0, 600]: '%s'\n",
					optarg);
				return -1;
			}
			break;
		default:
			usage();
			return -1;
		}
	}
	if (a->dport + (uint64_t)a->per_addr - 1 > 65535 ||
	    a->sport + (uint64_t)a->sport_span > 65536) {
		fprintf(stderr, "swgen: port range past 65535\n");
		return -1;
	}
	return 0;
}

static int parse_v4(const char *what, const char *s, uint32_t *host)
{
	struct in_addr in;

	if (!s || inet_pton(AF_INET, s, &in) != 1) {
		fprintf(stderr, "swgen: %s: not an IPv4 address: '%s'\n", what,
			s ? s : "(missing)");
		return -1;
	}
	*host = ntohl(in.s_addr);
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i, len = 0;

	if (!s ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &len) != 6 ||
	    s[len]) {
		fprintf(stderr, "swgen: --dst-mac: not a MAC address: '%s'\n", s ? s : "(missing)");
		return -1;
	}
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static int dev_index(const char *dev)
{
	unsigned int idx = dev ? if_nametoindex(dev) : 0;

	if (!idx)
		fprintf(stderr, "swgen: no interface '%s' in this network namespace\n",
			dev ? dev : "(missing)");
	return idx;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The template: checksums stay zero, the program computes them per frame. */
static int build_frame(const struct args *a, int ifindex, uint8_t f[64])
{
	uint8_t *ip = f + 14, *udp = ip + 20, *pl = udp + 8;
	uint32_t saddr, daddr;
	struct ifreq ifr;
	int fd;

	memset(f, 0, 64);
	if (parse_mac(a->dst_mac, f) || parse_v4("--src", a->src, &saddr) ||
	    parse_v4("--dst", a->dst, &daddr))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname(ifindex, ifr.ifr_name) || fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "swgen: MAC address of %s: %s\n", a->dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
	f[12] = 0x08; /* ETH_P_IP */
	f[13] = 0x00;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + SWGEN_PAYLOAD_LEN;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;   /* TTL */
	ip[9] = IPPROTO_UDP;
	saddr = htonl(saddr);
	daddr = htonl(daddr);
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	udp[5] = 8 + SWGEN_PAYLOAD_LEN;
	memcpy(pl, "SWGN", 4);
	pl[4] = 0x80; /* looks like RTP v2 after the magic */
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_send(int argc, char **argv)
{
	struct swgen_params p;
	struct swgen *skel;
	struct args a;
	uint64_t sent = 0;
	double t0, t;
	int ifindex, err;

	if (parse_args(argc, argv, &a))
		return 2;
	ifindex = dev_index(a.dev);
	if (!ifindex)
		return 2;
	memset(&p, 0, sizeof(p));
	if (build_frame(&a, ifindex, p.frame))
		return 2;
	p.ifindex = ifindex;
	p.n = a.n;
	p.per_addr = a.per_addr;
	parse_v4("--dst", a.dst, &p.daddr);
	p.dport = a.dport;
	p.sport = a.sport;
	p.sport_span = a.sport_span;

	skel = swgen__open();
	if (!skel) {
		fprintf(stderr, "swgen: open BPF object: %s\n", strerror(errno));
		return 1;
	}
	memcpy((void *)&skel->rodata->swgen, &p, sizeof(p));
	bpf_program__set_autoload(skel->progs.swgen_drop, false);
	bpf_program__set_autoload(skel->progs.swgen_touch, false);
	bpf_program__set_autoload(skel->progs.swgen_sink, false);
	err = swgen__load(skel);
	if (err) {
		fprintf(stderr, "swgen: load BPF object: %s\n", strerror(-err));
		swgen__destroy(skel);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	t0 = now_s();
	t = t0;
	while (!stop && sent < a.packets && t - t0 < a.seconds) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.frame,
			    .data_size_in = SWGEN_FRAME_LEN, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = a.batch);
		uint64_t chunk = a.packets - sent;

		/* Chunks of at most 256k frames keep the time bound honest. */
		if (chunk > (1u << 18))
			chunk = 1u << 18;
		o.repeat = chunk;
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.swgen_xdp), &o);
		if (err && errno != EINTR) {
			fprintf(stderr, "swgen: BPF_PROG_TEST_RUN (live frames): %s\n",
				strerror(errno));
			swgen__destroy(skel);
			return 1;
		}
		if (!err)
			sent += chunk;
		t = now_s();
	}
	swgen__destroy(skel);
	printf("packets=%llu seconds=%.3f mpps=%.3f\n", (unsigned long long)sent, t - t0,
	       t > t0 ? sent / (t - t0) / 1e6 : 0.0);
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	struct bpf_program *prog;
	struct swgen *skel;
	int ifindex, err;

	if (argc != 3 ||
	    (strcmp(argv[1], "drop") && strcmp(argv[1], "touch") && strcmp(argv[1], "sink"))) {
		usage();
		return 2;
	}
	ifindex = dev_index(argv[2]);
	if (!ifindex)
		return 2;
	skel = swgen__open();
	if (!skel) {
		fprintf(stderr, "swgen: open BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.swgen_xdp, false);
	err = swgen__load(skel);
	if (err) {
		fprintf(stderr, "swgen: load BPF object: %s\n", strerror(-err));
		swgen__destroy(skel);
		return 1;
	}
	prog = !strcmp(argv[1], "drop")	   ? skel->progs.swgen_drop
	       : !strcmp(argv[1], "touch") ? skel->progs.swgen_touch
					   : skel->progs.swgen_sink;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog),
			     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err)
		fprintf(stderr, "swgen: attach %s to %s (native XDP): %s\n", argv[1], argv[2],
			strerror(-err));
	swgen__destroy(skel); /* the attachment keeps the program */
	return err ? 1 : 0;
}

static int cmd_detach(int argc, char **argv)
{
	int ifindex, err;

	if (argc != 2) {
		usage();
		return 2;
	}
	ifindex = dev_index(argv[1]);
	if (!ifindex)
		return 2;
	err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "swgen: detach XDP from %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	return 0;
}

/* Destination i of the spread, as swgen_xdp computes it. */
static void dest_of(const struct args *a, uint32_t base, uint32_t i, uint32_t *addr, uint16_t *port)
{
	*addr = base + i / a->per_addr;
	*port = a->dport + i % a->per_addr;
}

/* One batch syscall where the kernel has it, else one update per pinhole. */
static int put_many(int fd, const struct sw_pinhole_key *k, const struct sw_pinhole_hot *v,
		    uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	uint32_t cnt = n, i;

	if (!bpf_map_update_batch(fd, k, v, &cnt, &o))
		return 0;
	if (errno != EINVAL && errno != EOPNOTSUPP && errno != 524 /* ENOTSUPP */)
		return -errno;
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &k[i], &v[i], BPF_ANY))
			return -errno;
	return 0;
}

static int cmd_fill(int argc, char **argv)
{
	enum { CHUNK = 4096 };
	struct sw_pinhole_key *k;
	struct sw_pinhole_hot *v; /* one source; manual, or K per call (--per-call) */
	struct sw_call *calls = NULL;
	uint64_t *hashes = NULL;
	uint32_t nc;
	int cfd = -1;
	char path[512];
	uint64_t n;
	int fd;
	uint32_t base, src, i = 0, j, c;
	uint8_t src16[16];
	struct args a;
	int err = 0;

	if (argc < 3) {
		usage();
		return 2;
	}
	if (parse_u64("N", argv[2], 1u << 24, &n) || parse_args(argc - 2, argv + 2, &a) ||
	    parse_v4("--dst", a.dst, &base) || parse_v4("--src", a.src, &src))
		return 2;
	/* Only the pinhole map: the rest of the pin root is none of our business. */
	snprintf(path, sizeof(path), "%s/%s", argv[1], SW_MAP_PINHOLES);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "swgen: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (a.per_call) {
		/* and the owners' Call-IDs, one sw_calls record per call */
		snprintf(path, sizeof(path), "%s/%s", argv[1], SW_MAP_CALLS);
		cfd = bpf_obj_get(path);
		if (cfd < 0) {
			fprintf(stderr, "swgen: open %s: %s\n", path, strerror(errno));
			close(fd);
			return 1;
		}
		calls = calloc(CHUNK, sizeof(*calls));
		hashes = calloc(CHUNK, sizeof(*hashes));
	}
	k = calloc(CHUNK, sizeof(*k));
	v = calloc(CHUNK, sizeof(*v));
	if (!k || !v || (a.per_call && (!calls || !hashes))) {
		err = -ENOMEM;
		goto out;
	}
	memset(src16, 0, sizeof(src16));
	src16[10] = src16[11] = 0xff;
	src = htonl(src);
	memcpy(src16 + 12, &src, 4);
	for (i = 0; i < n; i += j) {
		for (j = 0; j < CHUNK && i + j < n; j++) {
			uint8_t a16[16] = {[10] = 0xff, [11] = 0xff};
			uint32_t addr;
			uint16_t port;

			dest_of(&a, base, i + j, &addr, &port);
			addr = htonl(addr);
			memcpy(a16 + 12, &addr, 4);
			sw_pinhole_key_init(&k[j], a16, port);
			memset(&v[j], 0, sizeof(v[j]));
			memcpy(v[j].src.addr, src16, 16);
			v[j].src.check = SW_CHECK_ADDRESS;
			v[j].src.flags = SW_SRC_ACTIVE;
			v[j].kind = SW_KIND_MANUAL;
			v[j].created_s = (uint32_t)(sw_monotonic_ns() / 1000000000ull);
		}
		for (nc = 0, c = 0; a.per_call && c < j; c++) {
			char id[SW_CALL_ID_LEN];
			uint32_t call = (i + c) / a.per_call;

			/* a Call-ID of a typical length: 32 hex digits @ host */
			snprintf(id, sizeof(id), "%08x%024x@swgen.example", call,
				 call * 2654435761u);
			v[c].kind = SW_KIND_RTP;
			v[c].call_hash = sw_fnv1a64(id, strlen(id));
			if (nc && hashes[nc - 1] == v[c].call_hash)
				continue;
			memset(&calls[nc], 0, sizeof(calls[nc]));
			memcpy(calls[nc].call_id, id, strnlen(id, SW_CALL_ID_LEN - 1));
			hashes[nc++] = v[c].call_hash;
		}
		if (nc) { /* owners before the pinholes naming them */
			LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
			__u32 cnt = nc;

			if (bpf_map_update_batch(cfd, hashes, calls, &cnt, &o)) {
				err = -errno;
				break;
			}
		}
		err = put_many(fd, k, v, j);
		if (err)
			break;
	}
out:
	if (err)
		fprintf(stderr, "swgen: fill %llu pinholes under %s: %s (%u written)\n",
			(unsigned long long)n, argv[1], strerror(-err), i);
	free(k);
	free(v);
	free(calls);
	free(hashes);
	if (cfd >= 0)
		close(cfd);
	close(fd);
	return err ? 1 : 0;
}

static int cmd_elems(int argc, char **argv)
{
	uint32_t base, i;
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	struct in_addr in;
	struct args a;
	uint64_t n;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (parse_u64("N", argv[1], 1u << 24, &n) || parse_args(argc - 1, argv + 1, &a) ||
	    parse_v4("--dst", a.dst, &base) || !a.src || !a.table || !a.set) {
		fprintf(stderr, "swgen: elems needs N, --dst, --src, --table and --set\n");
		return 2;
	}
	snprintf(s, sizeof(s), "%s", a.src);
	for (i = 0; i < n; i++) {
		uint32_t addr;
		uint16_t port;

		dest_of(&a, base, i, &addr, &port);
		in.s_addr = htonl(addr);
		inet_ntop(AF_INET, &in, d, sizeof(d));
		if (i % 1000 == 0)
			printf("add element inet %s %s { ", a.table, a.set);
		printf("%s . %u . %s%s", d, port, s,
		       (i % 1000 == 999 || i + 1 == n) ? " }\n" : ", ");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "detach"))
		return cmd_detach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fill"))
		return cmd_fill(argc - 1, argv + 1);
	if (!strcmp(argv[1], "elems"))
		return cmd_elems(argc - 1, argv + 1);
	fprintf(stderr, "swgen: unknown command '%s'\n", argv[1]);
	usage();
	return 2;
}
