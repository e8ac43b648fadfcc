// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipflood: a bounded SIP flood for the network-namespace tests. Sends
 * well-formed INVITEs and OPTIONS over raw IPv4/UDP sockets from N spoofed
 * source addresses (round robin), as fast as the socket takes them, until
 * --packets or --seconds is reached. Prints what it sent. Only for the lab's
 * own namespaces: it refuses destinations outside 10.0.0.0/8.
 *
 *   sipflood --dst 10.201.2.3 --src-base 10.202.0.1 --sources 1000 \
 *            --packets 200000 --seconds 5
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int num(const char *what, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || !*s || *end || *out > max) {
		fprintf(stderr, "sipflood: %s: '%s' is not a number 0-%lu\n", what, s, max);
		return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sipflood --dst IPV4 [--dport P] --src-base IPV4 "
		   "[--sources N] [--packets N] [--seconds S]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dst", required_argument, NULL, 'd'},
		{"dport", required_argument, NULL, 'p'},
		{"src-base", required_argument, NULL, 's'},
		{"sources", required_argument, NULL, 'n'},
		{"packets", required_argument, NULL, 'c'},
		{"seconds", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	unsigned long dport = 5060, sources = 1000, packets = 100000, secs = 5;
	unsigned long sent = 0, invites = 0, options = 0, v;
	struct in_addr dst = {0}, base = {0};
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint8_t pkt[1500];
	char src_txt[INET_ADDRSTRLEN], dst_txt[INET_ADDRSTRLEN];
	uint64_t start, end;
	int fd, opt, have_dst = 0, have_src = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			have_dst = inet_pton(AF_INET, optarg, &dst) == 1;
			if (!have_dst) {
				fprintf(stderr, "sipflood: --dst: '%s' is not an IPv4 address\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			have_src = inet_pton(AF_INET, optarg, &base) == 1;
			if (!have_src) {
				fprintf(stderr,
					"sipflood: --src-base: '%s' is not an IPv4 address\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			if (num("--dport", optarg, 65535, &dport) || !dport)
				return 2;
			break;
		case 'n':
			if (num("--sources", optarg, 65536, &sources) || !sources)
				return 2;
			break;
		case 'c':
			if (num("--packets", optarg, 100000000, &packets))
				return 2;
			break;
		case 't':
			if (num("--seconds", optarg, 60, &secs) || !secs)
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_dst || !have_src || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* The lab's addresses only (tests/lab/lab.sh). */
	if ((ntohl(dst.s_addr) >> 24) != 10 || (ntohl(base.s_addr) >> 24) != 10) {
		fprintf(stderr, "sipflood: only 10.0.0.0/8 addresses (lab namespaces)\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IP_HDRINCL implied */
	if (fd < 0) {
		perror("sipflood: raw socket");
		return 1;
	}
	to.sin_addr = dst;
	inet_ntop(AF_INET, &dst, dst_txt, sizeof(dst_txt));
	start = now_ns();
	end = start + secs * 1000000000ull;
	while (sent < packets) {
		struct iphdr *ip = (struct iphdr *)pkt;
		struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip));
		char *sip = (char *)(udp + 1);
		unsigned long i = sent % sources, round = sent / sources;
		int invite = !(round & 1);
		const char *m = invite ? "INVITE" : "OPTIONS";
		struct in_addr src = {htonl(ntohl(base.s_addr) + (uint32_t)i)};
		int n;
		ssize_t w;

		if (!(sent & 255) && now_ns() >= end)
			break;
		inet_ntop(AF_INET, &src, src_txt, sizeof(src_txt));
		n = snprintf(sip, sizeof(pkt) - sizeof(*ip) - sizeof(*udp),
			     "%s sip:%lu@%s SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-fl%lu\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:flood@%s>;tag=f%lu\r\n"
			     "To: <sip:%lu@%s>\r\n"
			     "Call-ID: flood-%lu@%s\r\n"
			     "CSeq: 1 %s\r\n"
			     "Contact: <sip:flood@%s:5060>\r\n"
			     "User-Agent: sipflood\r\n"
			     "Content-Length: 0\r\n\r\n",
			     m, 100 + i % 900, dst_txt, src_txt, sent, src_txt, sent, 100 + i % 900,
			     dst_txt, sent, src_txt, m, src_txt);
		memset(ip, 0, sizeof(*ip) + sizeof(*udp));
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = src.s_addr;
		ip->daddr = dst.s_addr;
		ip->tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*udp) + n));
		/* the kernel fills the IP checksum and id; UDP checksum 0 */
		udp->source = htons(5060);
		udp->dest = htons((uint16_t)dport);
		udp->len = htons((uint16_t)(sizeof(*udp) + n));
		w = sendto(fd, pkt, sizeof(*ip) + sizeof(*udp) + n, 0, (struct sockaddr *)&to,
			   sizeof(to));
		if (w < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue; /* not sent: retry, not counted */
			perror("sipflood: sendto");
			close(fd);
			return 1;
		}
		sent++;
		if (invite)
			invites++;
		else
			options++;
	}
	v = (unsigned long)((now_ns() - start) / 1000000);
	printf("sent=%lu invite=%lu options=%lu sources=%lu ms=%lu\n", sent, invites, options,
	       sources < sent ? sources : sent, v);
	close(fd);
	return 0;
}
