// SPDX-License-Identifier: GPL-2.0-only
/*
 * Passive mode: observe SIP on an interface through AF_PACKET. Nothing is
 * dropped (the verdict is ignored), pinholes are still opened and closed.
 * Passive cannot win the race inline mode removes: RTP may arrive before the
 * answer is seen; the call logic opens at the offer and narrows at the answer.
 *
 * PACKET_FANOUT with PACKET_FANOUT_FLAG_DEFRAG makes the kernel hand us whole
 * IPv4 datagrams, so a big INVITE is seen once, reassembled. AF_PACKET does
 * not reassemble IPv6 (nor IPv4 when fanout is refused): sipd does (reasm.c,
 * by monotonic time) and hands the SIP it completes to the sink.
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
#include "sipd/reasm.h"
#include "sipd/source.h"

#define PASSIVE_BUF 65536

static int open_socket(const char *ifname, int *fdp, int *defrag)
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
	*defrag = !setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout));
	if (!*defrag)
		fprintf(stderr,
			"sipd: passive: no fanout defrag (%s): sipd reassembles IPv4 fragments "
			"itself\n",
			strerror(errno));
	*fdp = fd;
	return 0;
}

struct passive_loop {
	const struct sipd_passive_opts *o;
	const struct sipd_sink *s;
	int fd;
	int defrag; /* the kernel reassembles IPv4 */
	uint8_t *buf;
	struct sipd_reasm *reasm;
	uint64_t seen, sip, tcp, sip_reassembled, frag_skipped, would_drop;
	uint64_t encapsulated, decap_skipped[SIPD_DECAP_SKIP_MAX];
	int recv_failed; /* reported; the run ends without its summary */
};

/* A UDP fragment: the SIP datagram it completes, or NULL. */
static const uint8_t *fragment(struct passive_loop *l, const struct sipd_udp_view *v, int inner,
			       size_t *len)
{
	const struct sipd_ports *ports = &l->o->ports;
	struct sipd_reasm_out o;

	/* The kernel defragments the outermost IPv4 only; a fragment inside a
	 * tunnel is ours to reassemble. */
	if (!v->is_v6 && l->defrag && !inner) {
		l->frag_skipped++; /* the kernel gave up on it */
		return NULL;
	}
	if (sipd_reasm_add(l->reasm, v->ip, v->ip_len, sw_monotonic_ns(), &o) != SIPD_REASM_DONE ||
	    !o.udp_known || (!sipd_ports_has(ports, o.dport) && !sipd_ports_has(ports, o.sport)))
		return NULL;
	l->sip_reassembled++;
	*len = o.len;
	return o.ip;
}

static int passive_drain(void *ctx)
{
	struct passive_loop *l = ctx;
	const struct sipd_ports *ports = &l->o->ports;

	for (int i = 0; i < 256; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct sipd_udp_view v;
		struct sipd_decap d;
		struct sipd_pkt_meta meta;
		enum sw_sip_reason why;
		const uint8_t *ip;
		size_t len;
		ssize_t n;
		int rc;

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
		/* On a router both directions matter (the 200 OK leaves
		 * through the observed interface); only loopback shows
		 * every datagram twice. */
		if (from.sll_pkttype == PACKET_OUTGOING && !strcmp(l->o->ifname, "lo"))
			continue;
		/* The cooked header gave the ethertype (the kernel took the
		 * outer VLAN tag off); tunnels, PPPoE and further tags are
		 * decoded as in replay. */
		rc = sipd_decap(ntohs(from.sll_protocol), l->buf, n, &d);
		if (rc == -EINVAL)
			l->decap_skipped[d.why]++;
		if (rc)
			continue;
		if (d.depth)
			l->encapsulated++;
		rc = sipd_udp_view(d.ip, d.len, &v);
		ip = d.ip;
		len = v.ip_len;
		if (rc == -ENOENT && v.proto == IPPROTO_TCP && (v.sport || v.dport)) {
			/* SIP over TCP: the sink reassembles what is on its ports
			 * and passes the rest at once (stream.h). */
			l->tcp++;
		} else if (rc) {
			continue;
		} else if (v.is_fragment) {
			ip = fragment(l, &v, d.depth > 0, &len);
			if (!ip)
				continue;
		} else if (!sipd_ports_has(ports, v.dport) && !sipd_ports_has(ports, v.sport)) {
			continue;
		}
		l->sip++;
		/* Arrived here (not sent out through it); the checksum is not
		 * known to be filled in (offload), so it is not judged. */
		meta.indev = from.sll_pkttype == PACKET_OUTGOING ? 0 : (uint32_t)from.sll_ifindex;
		meta.csum_skip = 1;
		if (l->s->handle(l->s->ctx, ip, len, &meta, sw_monotonic_ns(), &why) != SIPD_ACCEPT)
			l->would_drop++; /* observed only: nothing to drop */
	}
	return 0;
}

static void print_summary(const struct passive_loop *l)
{
	struct sipd_reasm_stats fs;

	sipd_reasm_get_stats(l->reasm, &fs);
	fprintf(stderr,
		"sipd: passive: %llu packets, %llu SIP (%llu TCP segments), %llu would have been "
		"dropped; fragments: "
		"%llu received, %llu reassembled, %llu SIP reassembled, %llu incomplete, %llu "
		"IPv4 skipped, dropped",
		(unsigned long long)l->seen, (unsigned long long)l->sip, (unsigned long long)l->tcp,
		(unsigned long long)l->would_drop, (unsigned long long)fs.fragments,
		(unsigned long long)fs.reassembled, (unsigned long long)l->sip_reassembled,
		(unsigned long long)fs.in_flight, (unsigned long long)l->frag_skipped);
	for (unsigned int i = 0; i < SIPD_REASM_DROP_MAX; i++)
		fprintf(stderr, " %s %llu", sipd_reasm_drop_name(i),
			(unsigned long long)fs.dropped[i]);
	fprintf(stderr, "; encapsulated %llu, skipped", (unsigned long long)l->encapsulated);
	for (unsigned int i = 0; i < SIPD_DECAP_SKIP_MAX; i++)
		fprintf(stderr, " %s %llu", sipd_decap_skip_name(i),
			(unsigned long long)l->decap_skipped[i]);
	fprintf(stderr, "\n");
}

int sipd_passive_run(const struct sipd_passive_opts *o, const struct sipd_sink *s)
{
	struct passive_loop l = {.o = o, .s = s, .fd = -1};
	int sfd = -1, tfd = -1, err;
	sigset_t set;

	l.buf = malloc(PASSIVE_BUF);
	l.reasm = sipd_reasm_new(NULL);
	if (!l.buf || !l.reasm) {
		err = -ENOMEM;
		fprintf(stderr, "sipd: passive: %s\n", strerror(-err));
		goto out;
	}
	err = open_socket(o->ifname, &l.fd, &l.defrag);
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

	err = sipd_loop_run(l.fd, sfd, tfd, s, passive_drain, &l, 0);
	if (l.recv_failed)
		goto out;
	if (o->verbose)
		print_summary(&l);
out:
	if (l.fd >= 0)
		close(l.fd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	free(l.buf);
	sipd_reasm_free(l.reasm);
	return err;
}
