// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inline mode: SIP datagrams arrive on one or more NFQUEUE queues (iptables
 * NFQUEUE target, see rules.c). Each one goes through the sink and gets its
 * verdict only when the sink returned, so a pinhole written for a 200 OK is in
 * the map before the 200 OK leaves the firewall.
 *
 * The netlink socket is polled in the live sources' loop (loop.c): SIGHUP
 * reloads, SIGTERM/SIGINT end it, its timer drives sipd_tick(). Several
 * queues (--queue-balance) are bound on the same socket, served by one
 * thread; with workers > 1 each worker thread has a socket of its own for
 * its share of the queues (queue i: worker i % workers) and the main thread
 * keeps the signals, the timer and the aux descriptors, taking the sink's
 * lock for them (sipd.h sipd_worker_handle).
 */
#define _GNU_SOURCE /* recvmmsg */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "lib/swmap.h"
#include "sipd/source.h"

#define NFQ_MAX_QUEUES 64
#define NFQ_COPY_RANGE 0xffff
/*
 * The kernel's default queue holds 1,024 packets; a queue that is full drops
 * (fail-closed) what arrives. sipd needs a few tens of microseconds per
 * message, but on a loaded machine it can be off the CPU for a few hundred
 * milliseconds: at 1,300 calls/s with SIPp on the same two CPUs the default
 * queue overflowed (queue_dropped in /proc/net/netfilter/nfnetlink_queue)
 * and the lost BYEs and 200s became failed calls. 8,192 packets is about a
 * second of signalling at that rate, well within SIP's retransmission
 * timers, and the socket buffer is sized to hold all of them (a packet
 * costs ~2-4 KB of socket memory), so neither overflows first.
 */
#define NFQ_MAXLEN_DEFAULT 8192
#define NFQ_RCVBUF	   (32u << 20)

/*
 * One round of the loop takes up to NFQ_BATCH queued packets with one
 * recvmmsg() and gives all their verdicts with one sendmsg(): each packet's
 * verdict is written only after its own handle() returned (its map writes
 * are done), so the rule "verdict after the map write" holds, and a batch
 * of n packets costs 2 syscalls instead of 2n. With one packet waiting (an
 * idle firewall) that is one recv and one send, as before. Each buffer
 * holds a whole packet (a truncated netlink message would leave its packet
 * without a verdict).
 */
#define NFQ_BATCH   16
#define NFQ_MSG_BUF (NFQ_COPY_RANGE + 4096)
#define NFQ_VERDICT_SZ                                                                 \
	(NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + \
	 NLA_ALIGN(NLA_HDRLEN + sizeof(struct nfqnl_msg_verdict_hdr)))

struct nfq_loop {
	const struct sipd_sink *sink;
	struct nfq_q_handle *qh[NFQ_MAX_QUEUES];
	uint64_t accepted, dropped, errors;
	uint64_t batches, sends; /* recvmmsg rounds that got packets; verdict sends */
	int verbose;
	struct nfq_handle *h;
	int fd;
	char *buf; /* NFQ_BATCH buffers of NFQ_MSG_BUF */
	struct mmsghdr msg[NFQ_BATCH];
	struct iovec iov[NFQ_BATCH];
	/* The verdicts of the current batch, netlink messages back to back. */
	unsigned char vbuf[NFQ_BATCH * NFQ_VERDICT_SZ] __attribute__((aligned(8)));
	size_t vlen;
	unsigned int vcount;
	uint32_t seq;
	int recv_failed; /* reported; the run ends without its summary */
	/* worker threads (workers > 1) */
	void *wctx; /* the sink's worker context, NULL = sink->handle */
	unsigned int nq;
	unsigned int busy_poll_us;
	atomic_int *stop;
	pthread_t th;
	int started, err;
};

/* A worker waits at most this long in poll() before it looks at stop. */
#define NFQ_WORKER_POLL_MS 100

/* Append the verdict of packet id on queue res_id (network order). */
static void verdict_put(struct nfq_loop *l, uint16_t res_id, uint32_t id, uint32_t verdict)
{
	unsigned char *m = l->vbuf + l->vlen;
	struct nlmsghdr *nlh = (struct nlmsghdr *)m;
	struct nfgenmsg *g = (struct nfgenmsg *)(m + NLMSG_ALIGN(sizeof(*nlh)));
	struct nlattr *a = (struct nlattr *)((unsigned char *)g + NLMSG_ALIGN(sizeof(*g)));
	struct nfqnl_msg_verdict_hdr vh = {.verdict = htonl(verdict), .id = htonl(id)};

	memset(m, 0, NFQ_VERDICT_SZ);
	nlh->nlmsg_len = NFQ_VERDICT_SZ;
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++l->seq;
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = res_id;
	a->nla_len = NLA_HDRLEN + sizeof(vh);
	a->nla_type = NFQA_VERDICT_HDR;
	memcpy((unsigned char *)a + NLA_HDRLEN, &vh, sizeof(vh));
	l->vlen += NFQ_VERDICT_SZ;
	l->vcount++;
}

/* Send the batch's verdicts: one sendmsg, the kernel takes them in order. */
static void verdict_flush(struct nfq_loop *l)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (!l->vlen)
		return;
	do
		n = sendto(l->fd, l->vbuf, l->vlen, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	l->sends++;
	if (n < 0) {
		l->errors += l->vcount;
		fprintf(stderr, "sipd: verdicts for %u packets: %s\n", l->vcount, strerror(errno));
	}
	l->vlen = 0;
	l->vcount = 0;
}

static int nfq_cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa, void *data)
{
	struct nfq_loop *l = data;
	struct nfqnl_msg_packet_hdr *ph;
	enum sipd_verdict v = SIPD_ACCEPT;
	enum sw_sip_reason why = SW_SIP_R_ACCEPTED;
	unsigned char *pkt;
	uint32_t id;
	int len;

	(void)qh;
	ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0; /* nothing to give a verdict on */
	id = ntohl(ph->packet_id);
	len = nfq_get_payload(nfa, &pkt);
	if (len > 0) {
		/* The interface it came in on (0 from this host: OUTPUT), and
		 * whether the kernel still owes its checksum (the copy is
		 * completed unless the queue asked for GSO packets). */
		struct sipd_pkt_meta meta = {
			.indev = nfq_get_indev(nfa),
			.csum_skip = !!(nfq_get_skbinfo(nfa) & NFQA_SKB_CSUMNOTREADY),
			.queued = 1,
		};

		v = l->wctx ? l->sink->handle_worker(l->wctx, pkt, len, &meta, sw_monotonic_ns(),
						     &why)
			    : l->sink->handle(l->sink->ctx, pkt, len, &meta, sw_monotonic_ns(),
					      &why);
	}
	if (v == SIPD_ACCEPT)
		l->accepted++;
	else
		l->dropped++;
	if (l->verbose > 1)
		fprintf(stderr, "sipd: nfq packet %u len %d: %s (%s)\n", id, len,
			v == SIPD_ACCEPT ? "accept" : "drop", sw_sip_reason_name(why));
	/* Verdict strictly after handle(): its map writes are done. */
	if (l->vlen + NFQ_VERDICT_SZ > sizeof(l->vbuf))
		verdict_flush(l);
	verdict_put(l, nfmsg->res_id, id, v == SIPD_ACCEPT ? NF_ACCEPT : NF_DROP);
	return 0;
}

/* Drain what is there without blocking the signals; returns the number of
 * netlink datagrams taken, or a negative errno. */
static int nfq_drain(void *ctx)
{
	struct nfq_loop *l = ctx;
	int total = 0;

	for (int round = 0; round < 256 / NFQ_BATCH; round++) {
		int n;

		for (int i = 0; i < NFQ_BATCH; i++) {
			l->iov[i].iov_base = l->buf + (size_t)i * NFQ_MSG_BUF;
			l->iov[i].iov_len = NFQ_MSG_BUF;
			l->msg[i].msg_hdr = (struct msghdr){.msg_iov = &l->iov[i], .msg_iovlen = 1};
		}
		n = recvmmsg(l->fd, l->msg, NFQ_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			int err = -errno;

			if (err == -EAGAIN || err == -EINTR || err == -ENOBUFS)
				break;
			l->recv_failed = 1;
			fprintf(stderr, "sipd: recv: %s\n", strerror(-err));
			return err;
		}
		l->batches++;
		for (int i = 0; i < n; i++)
			nfq_handle_packet(l->h, (char *)l->iov[i].iov_base, (int)l->msg[i].msg_len);
		verdict_flush(l);
		total += n;
		if (n < NFQ_BATCH)
			break; /* the queue is empty: back to poll */
	}
	return total;
}

/* Open a netlink socket for queues o->queue + i with i % nw == wi. */
static int loop_open(struct nfq_loop *l, const struct sipd_nfq_opts *o, unsigned int nq,
		     unsigned int wi, unsigned int nw)
{
	unsigned int rcvbuf = NFQ_RCVBUF;
	int err, one = 1;

	l->buf = malloc((size_t)NFQ_BATCH * NFQ_MSG_BUF);
	if (!l->buf)
		return -ENOMEM;
	l->h = nfq_open();
	if (!l->h) {
		err = -errno ? -errno : -EIO;
		fprintf(stderr, "sipd: nfq_open: %s\n", strerror(-err));
		return err;
	}
	for (unsigned int i = wi; i < nq; i += nw) {
		uint16_t qn = o->queue + i;
		uint32_t flags = o->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0;
		uint32_t maxlen = o->maxlen ? o->maxlen : NFQ_MAXLEN_DEFAULT;
		unsigned int k = l->nq;

		l->qh[k] = nfq_create_queue(l->h, qn, nfq_cb, l);
		if (!l->qh[k]) {
			err = -errno ? -errno : -EBUSY;
			fprintf(stderr,
				"sipd: cannot bind NFQUEUE %u: %s (is another sipd bound to it?)\n",
				qn, strerror(-err));
			return err;
		}
		l->nq++;
		if (nfq_set_mode(l->qh[k], NFQNL_COPY_PACKET, NFQ_COPY_RANGE) < 0) {
			err = -errno ? -errno : -EIO;
			fprintf(stderr, "sipd: queue %u copy mode: %s\n", qn, strerror(-err));
			return err;
		}
		/* FAIL_OPEN: accept instead of drop when the queue is full.
		 * The mask always names the flag so fail-closed is explicit. */
		if (nfq_set_queue_flags(l->qh[k], NFQA_CFG_F_FAIL_OPEN, flags) < 0) {
			err = -errno ? -errno : -EIO;
			fprintf(stderr, "sipd: queue %u flags: %s\n", qn, strerror(-err));
			return err;
		}
		if (nfq_set_queue_maxlen(l->qh[k], maxlen) < 0) {
			err = -errno ? -errno : -EIO;
			fprintf(stderr, "sipd: queue %u maxlen: %s\n", qn, strerror(-err));
			return err;
		}
	}
	l->fd = nfq_fd(l->h);
	/* A burst must not cost us the socket: a lost packet is dropped by
	 * the kernel anyway (or passed, fail-open) and we keep going. */
	if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		fprintf(stderr, "sipd: netlink receive buffer: %s (keeping the default)\n",
			strerror(errno));
	setsockopt(l->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	return 0;
}

static void loop_close(struct nfq_loop *l)
{
	for (unsigned int i = 0; i < l->nq; i++)
		nfq_destroy_queue(l->qh[i]);
	l->nq = 0;
	if (l->h)
		nfq_close(l->h);
	l->h = NULL;
	free(l->buf);
	l->buf = NULL;
}

/* One worker thread: its own socket, drained as the single loop does, the
 * sink's flush under its lock. A fatal error ends the daemon (SIGTERM to
 * the process: the main loop returns, then the error is reported). */
static void *worker_main(void *arg)
{
	struct nfq_loop *l = arg;
	const struct sipd_sink *s = l->sink;
	uint64_t spin_until = 0;

	while (!atomic_load(l->stop)) {
		struct pollfd p = {.fd = l->fd, .events = POLLIN};
		int timeout = NFQ_WORKER_POLL_MS, n;

		if (spin_until && sw_monotonic_ns() < spin_until)
			timeout = 0;
		else
			spin_until = 0;
		n = poll(&p, 1, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			l->err = -errno;
			fprintf(stderr, "sipd: worker poll: %s\n", strerror(errno));
			break;
		}
		if (!p.revents)
			continue;
		n = nfq_drain(l);
		if (n < 0) {
			l->err = n;
			break;
		}
		if (s->flush) {
			s->lock(s->ctx);
			s->flush(s->ctx);
			s->unlock(s->ctx);
		}
		if (n > 0 && l->busy_poll_us)
			spin_until = sw_monotonic_ns() + (uint64_t)l->busy_poll_us * 1000;
	}
	if (l->err)
		kill(getpid(), SIGTERM);
	return NULL;
}

static void loop_summary(const struct nfq_loop *l, unsigned int n)
{
	uint64_t acc = 0, drp = 0, errs = 0, bat = 0, snd = 0;

	for (unsigned int i = 0; i < n; i++) {
		acc += l[i].accepted;
		drp += l[i].dropped;
		errs += l[i].errors;
		bat += l[i].batches;
		snd += l[i].sends;
	}
	fprintf(stderr,
		"sipd: nfq: %llu accepted, %llu dropped, %llu verdict errors; %llu "
		"batches, %llu verdict sends\n",
		(unsigned long long)acc, (unsigned long long)drp, (unsigned long long)errs,
		(unsigned long long)bat, (unsigned long long)snd);
}

int sipd_nfq_run(const struct sipd_nfq_opts *o, const struct sipd_sink *s)
{
	unsigned int nq = o->nqueues ? o->nqueues : 1;
	unsigned int nw = o->workers ? o->workers : 1;
	struct nfq_loop *l = NULL;
	int sfd = -1, tfd = -1, err = 0;
	atomic_int stop;
	sigset_t set;

	atomic_init(&stop, 0);
	if (nq > NFQ_MAX_QUEUES || (unsigned int)o->queue + nq - 1 > 65535) {
		fprintf(stderr, "sipd: queues %u..%u out of range (at most %d)\n", o->queue,
			o->queue + nq - 1, NFQ_MAX_QUEUES);
		return -EINVAL;
	}
	if (nw > nq) {
		fprintf(stderr, "sipd: %u workers for %u queues: each worker needs a queue\n", nw,
			nq);
		return -EINVAL;
	}
	if (nw > 1 && (!s->worker_new || !s->handle_worker || !s->lock || !s->unlock)) {
		fprintf(stderr, "sipd: this source has no worker threads\n");
		return -EINVAL;
	}
	l = calloc(nw, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (unsigned int i = 0; i < nw; i++) {
		l[i].sink = s;
		l[i].verbose = o->verbose;
		l[i].busy_poll_us = o->busy_poll_us;
		l[i].stop = &stop;
		err = loop_open(&l[i], o, nq, i, nw);
		if (err)
			goto out;
		if (nw > 1 && !(l[i].wctx = s->worker_new(s->ctx))) {
			err = -ENOMEM;
			fprintf(stderr, "sipd: worker %u: out of memory\n", i);
			goto out;
		}
	}

	/* Signals blocked here, before any worker starts: they inherit it,
	 * and the main thread's signalfd gets every one. */
	err = sipd_loop_fds(&set, o->tick_ms, &sfd, &tfd);
	if (err)
		goto out;
	if (o->verbose)
		fprintf(stderr, "sipd: inline on NFQUEUE %u..%u (%s), %u worker%s\n", o->queue,
			o->queue + nq - 1, o->fail_open ? "fail-open" : "fail-closed", nw,
			nw > 1 ? "s" : "");

	if (nw == 1) {
		err = sipd_loop_run(l[0].fd, sfd, tfd, s, nfq_drain, &l[0], o->busy_poll_us);
		if (l[0].recv_failed)
			goto out;
	} else {
		for (unsigned int i = 0; i < nw; i++) {
			int e = pthread_create(&l[i].th, NULL, worker_main, &l[i]);

			if (e) {
				err = -e;
				fprintf(stderr, "sipd: worker %u: %s\n", i, strerror(e));
				break;
			}
			l[i].started = 1;
		}
		if (!err)
			err = sipd_loop_run(-1, sfd, tfd, s, NULL, NULL, 0);
		atomic_store(&stop, 1);
		for (unsigned int i = 0; i < nw; i++) {
			if (l[i].started)
				pthread_join(l[i].th, NULL);
			if (l[i].err && !err)
				err = l[i].err;
			if (l[i].recv_failed)
				goto out;
		}
	}
	if (err)
		fprintf(stderr, "sipd: poll: %s\n", strerror(-err));
	if (o->verbose)
		loop_summary(l, nw);
out:
	for (unsigned int i = 0; i < nw; i++) {
		if (l[i].wctx)
			s->worker_free(l[i].wctx);
		loop_close(&l[i]);
	}
	free(l);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return err;
}
