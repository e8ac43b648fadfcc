// SPDX-License-Identifier: GPL-2.0-only
/*
 * Passive mode: observe SIP on an interface through AF_PACKET. Nothing is
 * dropped (the verdict is ignored), pinholes are still opened and closed.
 * Passive cannot win the race inline mode removes: RTP may arrive before the
 * answer is seen; the call logic opens at the offer and narrows at the answer.
 *
 * PACKET_FANOUT with PACKET_FANOUT_FLAG_DEFRAG makes the kernel hand us whole
 * IPv4 datagrams, so a big INVITE is seen once, reassembled. IPv6 fragments
 * are not reassembled by AF_PACKET and are skipped (counted).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "lib/swmap.h"
#include "sipd/source.h"

#define PASSIVE_BUF 65536

static int open_socket(const char *ifname, int *fdp)
{
	struct sockaddr_ll sll = {0};
	struct packet_mreq mr = {0};
	unsigned int ifindex = if_nametoindex(ifname);
	int fd, fanout, err;

	if (!ifindex) {
		fprintf(stderr, "sipd: passive: no interface '%s'\n", ifname);
		return -ENODEV;
	}
	/* Cooked (SOCK_DGRAM): the kernel strips L2 and VLAN tags for us. */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "sipd: passive: AF_PACKET socket: %s\n", strerror(errno));
		return err;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		fprintf(stderr, "sipd: passive: bind to %s: %s\n", ifname, strerror(errno));
		close(fd);
		return err;
	}
	/* A mirror port delivers traffic not addressed to us. */
	mr.mr_ifindex = ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
	fanout = (getpid() & 0xffff) | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) < 0)
		fprintf(stderr,
			"sipd: passive: no fanout defrag (%s): IPv4 fragments are skipped\n",
			strerror(errno));
	*fdp = fd;
	return 0;
}

struct passive_loop {
	const struct sipd_passive_opts *o;
	const struct sipd_sink *s;
	int fd;
	uint8_t *buf;
	uint64_t seen, sip, frag_skipped, would_drop;
	int recv_failed; /* reported; the run ends without its summary */
};

static int passive_drain(void *ctx)
{
	struct passive_loop *l = ctx;
	const struct sipd_ports *ports = &l->o->ports;

	for (int i = 0; i < 256; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct sipd_udp_view v;
		enum sw_sip_reason why;
		ssize_t n;

		n = recvfrom(l->fd, l->buf, PASSIVE_BUF, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			int err = -errno;

			if (err == -EAGAIN || err == -EINTR)
				break;
			l->recv_failed = 1;
			fprintf(stderr, "sipd: passive: recv: %s\n", strerror(-err));
			return err;
		}
		l->seen++;
		if (n > PASSIVE_BUF)
			continue; /* truncated: cannot judge it */
		if (from.sll_protocol != htons(ETH_P_IP) && from.sll_protocol != htons(ETH_P_IPV6))
			continue;
		/* On a router both directions matter (the 200 OK leaves
		 * through the observed interface); only loopback shows
		 * every datagram twice. */
		if (from.sll_pkttype == PACKET_OUTGOING && !strcmp(l->o->ifname, "lo"))
			continue;
		if (sipd_udp_view(l->buf, n, &v))
			continue;
		if (v.is_fragment) {
			if (v.first_fragment &&
			    (sipd_ports_has(ports, v.dport) || sipd_ports_has(ports, v.sport)))
				l->frag_skipped++;
			continue;
		}
		if (!sipd_ports_has(ports, v.dport) && !sipd_ports_has(ports, v.sport))
			continue;
		l->sip++;
		if (l->s->handle(l->s->ctx, l->buf, v.ip_len, sw_monotonic_ns(), &why) !=
		    SIPD_ACCEPT)
			l->would_drop++; /* observed only: nothing to drop */
	}
	return 0;
}

int sipd_passive_run(const struct sipd_passive_opts *o, const struct sipd_sink *s)
{
	struct passive_loop l = {.o = o, .s = s, .fd = -1};
	int sfd = -1, tfd = -1, err;
	sigset_t set;

	l.buf = malloc(PASSIVE_BUF);
	if (!l.buf)
		return -ENOMEM;
	err = open_socket(o->ifname, &l.fd);
	if (err)
		goto out;
	err = sipd_loop_fds(&set, o->tick_ms, &sfd, &tfd);
	if (err)
		goto out;
	if (o->verbose)
		fprintf(stderr, "sipd: passive on %s, SIP port%s", o->ifname,
			o->ports.n > 1 ? "s" : "");
	for (unsigned int i = 0; o->verbose && i < o->ports.n; i++)
		fprintf(stderr, "%s%u", i ? "," : " ", o->ports.port[i]);
	if (o->verbose)
		fprintf(stderr, "\n");

	err = sipd_loop_run(l.fd, sfd, tfd, s, passive_drain, &l);
	if (l.recv_failed)
		goto out;
	if (o->verbose)
		fprintf(stderr,
			"sipd: passive: %llu packets, %llu SIP, %llu would have been dropped, %llu "
			"fragmented SIP skipped\n",
			(unsigned long long)l.seen, (unsigned long long)l.sip,
			(unsigned long long)l.would_drop, (unsigned long long)l.frag_skipped);
out:
	if (l.fd >= 0)
		close(l.fd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	free(l.buf);
	return err;
}
