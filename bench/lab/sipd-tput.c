// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd-tput: SIP messages per second through sipd's whole message path
 * (sipd_handle_packet: split, libosip2, strict validation, SDP, filters,
 * dialogs, pinhole writes into real BPF maps) next to bare libosip2 parsing
 * (osip_message_init/parse/free) of the same datagrams' payloads, in the
 * same process and run. A second sipd row adds the time of sipd_tick, which
 * ends the round's calls after the BYE grace (each pinhole's counters read
 * and the pinhole deleted, the CDR written): work the daemon's thread does
 * for those messages, later. Plus the in-process pinhole install latency (the
 * sipd_handle_packet call of each 200 OK carrying the SDP answer, whose map
 * writes open the call's pinholes).
 *
 * Each call is INVITE (SDP offer), 180, 200 (SDP answer), ACK, BYE, 200 OK,
 * from 10.2.x.y (outside) to 10.1.x.y (inside). A TCP row runs the same calls
 * (10.3.x.y to 10.5.x.y, Via TCP) as segments of one connection per call, a
 * message per segment, then a FIN each way, through a second sipd on the same
 * maps (its calls' ends are not in the UDP rows); checksums are real in both
 * (sipd verifies them, as inline). The data path object is
 * loaded through its skeleton with a private pin root, removed on exit.
 * Rounds alternate which side runs first; the table gives median [min-max].
 *
 * -R HOST:PORT turns cluster replication on for the UDP sipd (docs/ha.md):
 * every pinhole it opens and closes is also queued for that Redis, the cost
 * bench/cluster compares.
 *
 * -R HOST:PORT -A instead: that cost measured inside one process, so that
 * this VM's drift between processes and rounds cancels: one sipd, its
 * cluster started once, each round runs the UDP calls twice on fresh
 * Call-IDs, once with replication attached (sipd_set_cluster) and once
 * without, in an order that alternates per round, each phase timed as the
 * whole path (sipd_handle_packet + sipd_tick ending the phase's calls);
 * the writer's queue is drained, untimed, before each phase. The result is
 * each round's on/off ratio, median [min-max]. With -P the SIP path runs on
 * CPU 0 and the cluster's threads on CPU 1 (cluster.cpu), as on a firewall
 * that keeps replication (and Redis) off its packet thread's core.
 *
 * -l LIVE instead: LIVE calls set up (INVITE, 180, 200, ACK) and left live,
 * then sipd's heap in use per live call (mallinfo2, whole process, after
 * sipd_new and after the calls) and the pinhole map's kernel memory per call
 * (memlock in its fdinfo, before and after).
 *
 * -w N instead: the UDP calls through N worker threads of one sipd
 * (sipd_worker_handle, the lock on) next to one thread, alternating per
 * round: the scaling of queue.workers without the kernel queue around it.
 *
 * Usage: sipd-tput [-c calls] [-n rounds] [-R redis [-A [-P]]] | sipd-tput -l LIVE |
 *        sipd-tput -w N [-m] [-c calls] [-n rounds]   (root)
 * (-m: the calls carry no SDP, so no pinhole and no map write: the share of
 * a message that is parsing when the map syscalls are out of the way)
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <osipparser2/osip_parser.h>

#include "lib/swmap.h"
#include "sipd/cluster.h"
#include "sipd/config.h"
#include "sipd/control.h"
#include "sipd/events.h"
#include "sipd/sipd.h"
#include "sipwall.skel.h"

#define MSGS_PER_CALL 6
#define MAX_ROUNDS    101
#define DGRAM_MAX     1500
#define WK_MAX	      8

struct dgram {
	uint8_t b[DGRAM_MAX];
	size_t len;
	int answer; /* the 200 OK with the SDP answer */
	int fin;    /* TCP: the FIN that ends a direction (not a message) */
};

/* TCP calls: one connection per call, the next sequence number per side. */
struct conn {
	uint32_t seq[2];
	uint16_t port; /* the caller's */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* The transport checksum of l4len octets at ip + 20 (IPv4 pseudo-header):
 * sipd verifies both UDP's and TCP's, as inline. */
static void l4_csum(uint8_t *ip, uint8_t proto, size_t l4len, uint8_t *at)
{
	uint32_t s = sum16(0, ip + 12, 8) + proto + (uint32_t)l4len;

	at[0] = at[1] = 0;
	s = sum16(s, ip + 20, l4len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	if (!s && proto == 17)
		s = 0xffff;
	at[0] = (uint8_t)(s >> 8);
	at[1] = (uint8_t)s;
}

static void ip_hdr(uint8_t *ip, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	uint32_t s;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = len >> 8;
	ip[3] = len & 0xff;
	ip[8] = 64;
	ip[9] = proto;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	s = sum16(0, ip, 20);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	ip[10] = ~s >> 8;
	ip[11] = ~s & 0xff;
}

/* One segment of conn c from side (0 caller, 1 callee), ACK set. */
static void ip_tcp(struct dgram *d, struct conn *c, int side, uint32_t src, uint32_t dst,
		   const char *payload, int fin)
{
	size_t pl = strlen(payload);
	uint8_t *t = d->b + 20;
	uint16_t sp = side ? 5060 : c->port, dp = side ? c->port : 5060;
	uint32_t seq = c->seq[side], ack = c->seq[!side];

	d->len = 40 + pl;
	d->fin = fin;
	ip_hdr(d->b, d->len, 6, src, dst);
	memset(t, 0, 20);
	t[0] = sp >> 8, t[1] = sp & 0xff, t[2] = dp >> 8, t[3] = dp & 0xff;
	t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq;
	t[8] = ack >> 24, t[9] = ack >> 16, t[10] = ack >> 8, t[11] = ack;
	t[12] = 5 << 4;
	t[13] = 0x10 | (fin ? 0x01 : 0);
	t[14] = 0xff, t[15] = 0xff;
	memcpy(t + 20, payload, pl);
	c->seq[side] += (uint32_t)pl + (fin ? 1 : 0);
	l4_csum(d->b, 6, 20 + pl, t + 16);
}

static void ip_udp(struct dgram *d, uint32_t src, uint32_t dst, const char *payload)
{
	size_t pl = strlen(payload);
	uint8_t *ip = d->b, *udp = ip + 20;
	uint32_t s = 0;
	int i;

	memset(d->b, 0, 28);
	d->len = 28 + pl;
	ip[0] = 0x45;
	ip[2] = d->len >> 8;
	ip[3] = d->len & 0xff;
	ip[8] = 64;
	ip[9] = 17;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	for (i = 0; i < 20; i += 2)
		s += (ip[i] << 8) | ip[i + 1];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	ip[10] = ~s >> 8;
	ip[11] = ~s & 0xff;
	udp[0] = 5060 >> 8;
	udp[1] = 5060 & 0xff;
	udp[2] = 5060 >> 8;
	udp[3] = 5060 & 0xff;
	udp[4] = (8 + pl) >> 8;
	udp[5] = (8 + pl) & 0xff;
	memcpy(udp + 8, payload, pl);
	l4_csum(ip, 17, 8 + pl, udp + 6);
}

static const char *dot(uint32_t a, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* The six datagrams of call c of round r; tcp: the same messages as
 * segments of one connection (caller 10.3/16 -> callee 10.5/16), then a FIN
 * each way, into d[6] and d[7]. */
/* -l: up to 10^6 calls from 10.128.0.0/9 (inside: outbound calls, not held to the map share
 * of outside callers) to 11.0.0.0/8. */
static int live_addrs;

static int no_media; /* -w -m: calls without SDP */

static void make_call(struct dgram *d, unsigned int r, unsigned int c, int tcp)
{
	uint32_t a = (10u << 24) | ((tcp ? 3u : 2u) << 16) | (c + 1),
		 b = (10u << 24) | ((tcp ? 5u : 1u) << 16) | (c + 1);

	if (live_addrs) {
		a = (10u << 24) + (128u << 16) + c + 1;
		b = (11u << 24) + c + 1;
	}
	/* Each round's connection on the same 4-tuple starts 16 MiB past the
	 * last one's sequence numbers, as a new ISN would: sipd's tombstone of
	 * the closed connection refuses the old numbers again (a replay). */
	struct conn cn = {
		.seq = {1000u + c * 7919u + r * 0x01000000u, 0xfffff000u + c + r * 0x01000000u},
		.port = 20000 + c % 40000};
	const char *tr = tcp ? "TCP" : "UDP";
	char A[16], B[16], cid[64], sdp_a[256], sdp_b[256], msg[1400], via[160], hd[512];
	unsigned int port = 10000 + (c % 4000) * 2;

	dot(a, A);
	dot(b, B);
	snprintf(cid, sizeof(cid), "%u-%u-tput@%s", r, c, A);
	snprintf(sdp_a, sizeof(sdp_a),
		 "v=0\r\no=alice 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
		 A, A, port);
	snprintf(sdp_b, sizeof(sdp_b),
		 "v=0\r\no=bob 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
		 B, B, port);
	snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK%u.%u.1\r\n", tr, A, r,
		 c);
	snprintf(hd, sizeof(hd), "From: \"alice\" <sip:alice@%s>;tag=a%u.%u\r\nCall-ID: %s\r\n", A,
		 r, c, cid);

#define REQ(i, m, cseq, body, totag)                                                              \
	do {                                                                                      \
		snprintf(msg, sizeof(msg),                                                        \
			 "%s sip:bob@%s SIP/2.0\r\n%sMax-Forwards: 70\r\n%s"                      \
			 "To: <sip:bob@%s>%s\r\nCSeq: %u %s\r\n"                                  \
			 "Contact: <sip:alice@%s:5060>\r\n%sContent-Length: %zu\r\n\r\n%s",       \
			 m, B, via, hd, B, totag, cseq, m, A,                                     \
			 *(body) ? "Content-Type: application/sdp\r\n" : "", strlen(body), body); \
		if (tcp)                                                                          \
			ip_tcp(&d[i], &cn, 0, a, b, msg, 0);                                      \
		else                                                                              \
			ip_udp(&d[i], a, b, msg);                                                 \
	} while (0)
#define RESP(i, st, cseq, m, body)                                                                \
	do {                                                                                      \
		snprintf(msg, sizeof(msg),                                                        \
			 "SIP/2.0 %s\r\n%s%sTo: <sip:bob@%s>;tag=b%u.%u\r\n"                      \
			 "CSeq: %u %s\r\nContact: <sip:bob@%s:5060>\r\n%s"                        \
			 "Content-Length: %zu\r\n\r\n%s",                                         \
			 st, via, hd, B, r, c, cseq, m, B,                                        \
			 *(body) ? "Content-Type: application/sdp\r\n" : "", strlen(body), body); \
		if (tcp)                                                                          \
			ip_tcp(&d[i], &cn, 1, b, a, msg, 0);                                      \
		else                                                                              \
			ip_udp(&d[i], b, a, msg);                                                 \
	} while (0)

	char tt[64];

	snprintf(tt, sizeof(tt), ";tag=b%u.%u", r, c);
	if (no_media)
		sdp_a[0] = sdp_b[0] = '\0'; /* signalling only: no pinhole, no map write */
	REQ(0, "INVITE", 1, sdp_a, "");
	RESP(1, "180 Ringing", 1, "INVITE", "");
	RESP(2, "200 OK", 1, "INVITE", sdp_b);
	d[2].answer = 1;
	snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK%u.%u.2\r\n", tr, A, r,
		 c);
	REQ(3, "ACK", 1, "", tt);
	snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK%u.%u.3\r\n", tr, A, r,
		 c);
	REQ(4, "BYE", 2, "", tt);
	RESP(5, "200 OK", 2, "BYE", "");
	if (tcp) {
		ip_tcp(&d[6], &cn, 0, a, b, "", 1);
		ip_tcp(&d[7], &cn, 1, b, a, "", 1);
	}
#undef REQ
#undef RESP
}

/* One ng request of call c of round r (0 offer, 1 answer, 2 delete) from
 * 127.0.0.1, as Kamailio sends them; -1 when the reply is not ok. */
static int ctl_req(struct sipd_control *ctl, unsigned int r, unsigned int c, int what,
		   unsigned int *nbad)
{
	static uint8_t out[SIPD_NG_MAX_DGRAM];
	char req[1400], sdp[300], cid[64], a[16];
	uint32_t addr =
		what == 1 ? (10u << 24) | (7u << 16) | (c + 1) : (10u << 24) | (6u << 16) | (c + 1);
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	size_t outlen = sizeof(out);
	int n;

	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0x7f000001);
	in->sin_port = htons(40000);
	dot(addr, a);
	snprintf(cid, sizeof(cid), "%u-%u-ctl@10.6.%u.%u", r, c, (c + 1) >> 8 & 255, (c + 1) & 255);
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
		 a, a, 10000 + (c % 4000) * 2);
	if (what == 2)
		n = snprintf(req, sizeof(req),
			     "%u.%u.%d d7:call-id%zu:%s7:command6:delete8:from-tag2:a1e", r, c,
			     what, strlen(cid), cid);
	else
		n = snprintf(req, sizeof(req),
			     "%u.%u.%d d3:sdp%zu:%s5:flagsl13:trust-addresse7:replacel6:origin"
			     "18:session-connectione3:ICE6:remove7:call-id%zu:%s"
			     "13:received-froml3:IP4%zu:%se7:command%s8:from-tag2:a1%se",
			     r, c, what, strlen(sdp), sdp, strlen(cid), cid, strlen(a), a,
			     what ? "6:answer" : "5:offer", what ? "6:to-tag2:b1" : "");
	if (sipd_control_process(ctl, (const uint8_t *)req, (size_t)n, &ss, out, &outlen) != 1 ||
	    !memmem(out, outlen, "6:result2:ok", 12)) {
		if ((*nbad)++ < 3)
			fprintf(stderr, "sipd-tput: control request %s: reply %.*s\n", req,
				(int)(outlen > 300 ? 300 : outlen), (const char *)out);
		return -1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void unpin(const char *root)
{
	char p[300];
	const char *names[] = {SW_MAP_PINHOLES, SW_MAP_STATS,	SW_MAP_FRAGS, SW_MAP_CONFIG,
			       SW_MAP_IFACES,	SW_MAP_BANS,	SW_MAP_FLOOD, SW_MAP_TRUSTED,
			       SW_MAP_FWD_DEVS, SW_MAP_PH_SRCS, SW_MAP_CALLS, SW_MAP_FWD_VLANS};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		unlink(p);
	}
	rmdir(root);
}

/* The memlock line of a map's fdinfo, bytes; 0 if unknown. */
static unsigned long long map_memlock(int fd)
{
	unsigned long long v = 0;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Ends d's calls and frees d, its event sink and its config (each may be
 * NULL). */
static void tput_sipd_close(struct sipd *d, struct sipd_events *ev, struct sipd_config *cfg,
			    uint64_t now)
{
	if (d) {
		sipd_close_all(d, now);
		sipd_free(d);
	}
	if (ev)
		sipd_events_close(ev);
	sipd_config_free(cfg);
}

/* -l: live calls and the memory they hold (see the top comment). */
static int live_mem(const char *root, struct sipwall *skel, unsigned int live)
{
	struct sipd_config *cfg = NULL;
	struct sipd_events *ev = NULL;
	struct sipd *d = NULL;
	struct sipd_stats st;
	struct dgram call[MSGS_PER_CALL];
	struct mallinfo2 mb, m0, m1, m2;
	unsigned long long ml0, ml1;
	unsigned int i, k;
	char json[512], err[512];
	FILE *devnull;
	uint64_t now = 1000000000ull * 1000000;
	int rc = 1;

	live_addrs = 1;
	snprintf(json, sizeof(json),
		 "{\"networks\": {\"inside\": [\"10.128.0.0/9\"]},"
		 " \"limits\": {\"max_calls\": %u, \"max_calls_per_source\": %u, \"max_msg_rate\": "
		 "0}, \"security\": {\"max_transactions\": %u}, \"guard\": {\"max_sources\": %u},"
		 " \"timeouts\": {\"bye_grace_s\": 1}}",
		 2 * live, live, 4 * live + 65536, 2 * live + 65536);
	/* no clock moves: every call's transactions and both its sources stay */
	if (sipd_config_parse(json, "sipd-tput", &cfg, err, sizeof(err))) {
		fprintf(stderr, "sipd-tput: %s\n", err);
		return 1;
	}
	devnull = fopen("/dev/null", "w");
	ev = devnull ? sipd_events_open_stream(devnull) : NULL;
	mb = mallinfo2();
	d = ev ? sipd_new(cfg, root, ev, err, sizeof(err)) : NULL;
	if (!d) {
		fprintf(stderr, "sipd-tput: sipd_new: %s\n", ev ? err : "no event sink");
		goto out;
	}
	sipd_set_event_batching(d, 1);
	m0 = mallinfo2();
	ml0 = map_memlock(bpf_map__fd(skel->maps.sw_pinholes));
	for (i = 0; i < live; i++) {
		enum sw_sip_reason why;

		make_call(call, 0, i, 0);
		for (k = 0; k < 4; k++) /* INVITE, 180, 200, ACK: the call stays up */
			if (sipd_handle_packet(d, call[k].b, call[k].len, now + i, &why) !=
			    SIPD_ACCEPT) {
				fprintf(stderr, "sipd-tput: live call %u message %u: %s\n", i, k,
					sw_sip_reason_name(why));
				goto out;
			}
		if ((i & 1023) == 0)
			sipd_flush(d);
	}
	sipd_flush(d);
	m1 = mallinfo2();
	sipd_get_stats(d, &st);
	if (st.calls_active != live) {
		fprintf(stderr, "sipd-tput: %u calls set up, %llu live\n", live,
			(unsigned long long)st.calls_active);
		goto out;
	}
	ml1 = map_memlock(bpf_map__fd(skel->maps.sw_pinholes));
	printf("live calls: %u, pinholes %llu (%.1f per call)\n", live,
	       (unsigned long long)st.pinholes_opened, (double)st.pinholes_opened / live);
	printf("sipd heap per live call (mallinfo2 after the calls - after sipd_new): %.0f bytes; "
	       "sipd_new's own tables %.0f KiB\n",
	       ((double)m1.uordblks + m1.hblkhd - (double)m0.uordblks - m0.hblkhd) / live,
	       ((double)m0.uordblks + m0.hblkhd - (double)mb.uordblks - mb.hblkhd) / 1024);
	printf("pinhole map (kernel) per live call (fdinfo memlock after - before): %.0f bytes\n",
	       ((double)ml1 - (double)ml0) / live);
	/* The calls' steady state: 40 s on, their setup transactions have
	 * expired (64*T1 = 32 s), nothing else has (idle_s is 120 s). */
	sipd_tick(d, now + live + 40 * 1000000000ull);
	sipd_flush(d);
	m2 = mallinfo2();
	sipd_get_stats(d, &st);
	if (st.calls_active != live) {
		fprintf(stderr, "sipd-tput: %llu of %u calls live 40 s later\n",
			(unsigned long long)st.calls_active, live);
		goto out;
	}
	printf("sipd heap per live call 40 s later (setup transactions expired): %.0f bytes\n",
	       ((double)m2.uordblks + m2.hblkhd - (double)m0.uordblks - m0.hblkhd) / live);
	rc = 0;
out:
	tput_sipd_close(d, ev, cfg, now);
	return rc;
}

/* A sipd on config json, its events to /dev/null, batched as `sipd run`
 * does; NULL (reported) on error. *cfg and *ev are the caller's to free. */
static struct sipd *tput_sipd(const char *json, const char *root, struct sipd_config **cfg,
			      struct sipd_events **ev)
{
	struct sipd *d;
	char err[512];
	FILE *devnull;

	if (sipd_config_parse(json, "sipd-tput", cfg, err, sizeof(err))) {
		fprintf(stderr, "sipd-tput: %s\n", err);
		return NULL;
	}
	devnull = fopen("/dev/null", "w");
	*ev = devnull ? sipd_events_open_stream(devnull) : NULL;
	d = *ev ? sipd_new(*cfg, root, *ev, err, sizeof(err)) : NULL;
	if (!d) {
		fprintf(stderr, "sipd-tput: sipd_new: %s\n", *ev ? err : "no event sink");
		return NULL;
	}
	sipd_set_event_batching(d, 1); /* as `sipd run` */
	return d;
}

/* -w: the same calls through N worker threads of one sipd (sipd.h
 * sipd_worker_handle), next to one thread, alternating per round. */
struct wk_arg {
	struct sipd *d;
	struct sipd_worker *w;
	const struct dgram *msgs;
	unsigned int calls, t, nt;
	uint64_t now;
	int failed;
};

static void *wk_main(void *p)
{
	struct wk_arg *a = p;

	for (unsigned int c = a->t; c < a->calls; c += a->nt) {
		for (unsigned int k = 0; k < MSGS_PER_CALL; k++) {
			const struct dgram *g = &a->msgs[c * MSGS_PER_CALL + k];
			enum sw_sip_reason why;

			if (sipd_worker_handle(a->w, g->b, g->len, NULL, a->now + c, &why) !=
			    SIPD_ACCEPT) {
				fprintf(stderr, "sipd-tput: worker %u: call %u message %u: %s\n",
					a->t, c, k, sw_sip_reason_name(why));
				a->failed = 1;
				return NULL;
			}
			/* what the packet loops do after verdicts */
			sipd_lock(a->d);
			sipd_flush(a->d);
			sipd_unlock(a->d);
		}
	}
	return NULL;
}

/* Messages/s of one round with nt threads (nt == 1: the lock off). */
static double wk_round(struct sipd *d, struct sipd_worker **w, const struct dgram *msgs,
		       unsigned int calls, unsigned int nt, uint64_t now)
{
	struct wk_arg a[WK_MAX];
	pthread_t th[WK_MAX];
	uint64_t t0, t1;
	int failed = 0;

	sipd_set_workers(d, nt);
	t0 = mono_ns();
	for (unsigned int t = 0; t < nt; t++) {
		a[t] = (struct wk_arg){d, w[t], msgs, calls, t, nt, now, 0};
		if (pthread_create(&th[t], NULL, wk_main, &a[t])) {
			fprintf(stderr, "sipd-tput: pthread_create failed\n");
			for (unsigned int u = 0; u < t; u++)
				pthread_join(th[u], NULL);
			sipd_set_workers(d, 1);
			return -1;
		}
	}
	for (unsigned int t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		failed |= a[t].failed;
	}
	t1 = mono_ns();
	sipd_set_workers(d, 1);
	return failed ? -1 : (double)calls * MSGS_PER_CALL / ((t1 - t0) / 1e9);
}

static int workers_bench(const char *root, unsigned int nt, unsigned int calls, unsigned int rounds)
{
	struct sipd_config *cfg = NULL;
	struct sipd_events *ev = NULL;
	struct sipd_worker *w[WK_MAX] = {0};
	double one[MAX_ROUNDS], many[MAX_ROUNDS], ratio[MAX_ROUNDS];
	struct dgram *msgs = calloc((size_t)calls * MSGS_PER_CALL, sizeof(*msgs));
	uint64_t now = 1000000000ull * 1000000;
	struct sipd_stats st;
	struct sipd *d = NULL;
	int rc = 1;

	if (!msgs) {
		fprintf(stderr, "sipd-tput: out of memory\n");
		goto out;
	}
	d = tput_sipd("{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
		      " \"timeouts\": {\"bye_grace_s\": 1}}",
		      root, &cfg, &ev);
	if (!d)
		goto out;
	for (unsigned int t = 0; t < nt; t++)
		if (!(w[t] = sipd_worker_new(d)))
			goto out;
	for (unsigned int r = 0; r < rounds; r++) {
		for (int side = 0; side < 2; side++) {
			int threads = (side + r) % 2;
			double rate;

			/* new Call-IDs for each run; the last run's calls ended */
			for (unsigned int i = 0; i < calls; i++)
				make_call(&msgs[i * MSGS_PER_CALL], 2 * r + side, i, 0);
			rate = wk_round(d, w, msgs, calls, threads ? nt : 1, now);
			if (rate < 0)
				goto out;
			if (threads)
				many[r] = rate;
			else
				one[r] = rate;
			now += 10ull * 1000000000; /* BYE grace over */
			sipd_tick(d, now);
			sipd_flush(d);
		}
		ratio[r] = many[r] / one[r];
	}
	sipd_get_stats(d, &st);
	if (st.calls_active || st.pinholes_opened < (no_media ? 0 : (uint64_t)calls * rounds * 4) ||
	    st.accepted != (uint64_t)calls * rounds * 2 * MSGS_PER_CALL) {
		fprintf(stderr,
			"sipd-tput: workers: %llu calls left, %llu pinholes opened, %llu messages "
			"accepted (want 0, >= %llu, %llu)\n",
			(unsigned long long)st.calls_active, (unsigned long long)st.pinholes_opened,
			(unsigned long long)st.accepted,
			no_media ? 0ull : (unsigned long long)calls * rounds * 4,
			(unsigned long long)calls * rounds * 2 * MSGS_PER_CALL);
		goto out;
	}
	qsort(one, rounds, sizeof(double), cmp_dbl);
	qsort(many, rounds, sizeof(double), cmp_dbl);
	qsort(ratio, rounds, sizeof(double), cmp_dbl);
	printf("sipd workers: %u calls x %d messages%s, %u rounds, median [min-max]\n", calls,
	       MSGS_PER_CALL, no_media ? " without SDP (no pinhole)" : "", rounds);
	printf("| threads | messages/s |\n|---|---|\n");
	printf("| 1 (lock off) | %.0f [%.0f-%.0f] |\n", one[rounds / 2], one[0], one[rounds - 1]);
	printf("| %u (sipd_worker_handle) | %.0f [%.0f-%.0f] |\n", nt, many[rounds / 2], many[0],
	       many[rounds - 1]);
	printf("- sipd-tput with %u workers >= 1.7x the messages/s of 1 worker%s: %.2f [%.2f-%.2f] "
	       "-> %s\n",
	       nt, no_media ? " (calls without SDP)" : "", ratio[rounds / 2], ratio[0],
	       ratio[rounds - 1], ratio[rounds / 2] >= 1.7 ? "met" : "MISSED");
	rc = 0;
out:
	for (unsigned int t = 0; t < nt; t++)
		sipd_worker_free(w[t]);
	tput_sipd_close(d, ev, cfg, now);
	free(msgs);
	return rc;
}

/* The UDP calls' n messages through d's whole path, each verdict flushed
 * as the packet loops do; the answers' install times into lat (or not).
 * -1 when one was dropped. */
static int udp_msgs(struct sipd *d, const struct dgram *msgs, unsigned int n, uint64_t now,
		    uint64_t *lat, size_t *nlat)
{
	enum sw_sip_reason why;
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint64_t a = 0;

		if (lat && msgs[k].answer)
			a = mono_ns();
		if (sipd_handle_packet(d, msgs[k].b, msgs[k].len, now + k, &why) != SIPD_ACCEPT) {
			fprintf(stderr, "sipd-tput: message %u dropped: %s\n", k,
				sw_sip_reason_name(why));
			return -1;
		}
		if (lat && msgs[k].answer)
			lat[(*nlat)++] = mono_ns() - a;
		/* what the packet loops do after verdicts */
		sipd_flush(d);
	}
	return 0;
}

/* -P: the SIP path (this thread) on one CPU. */
static int pin_cpu(int cpu, const char *what)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "sipd-tput: -P: %s on CPU %d: %s\n", what, cpu, strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait (untimed, at most 5 s) until the writer has taken every queued
 * record: what one phase queued is not written during the next. */
static void cl_drain(struct sipd_cluster *cl)
{
	struct sipd_cluster_stats cs;
	int i;

	for (i = 0; i < 5000; i++) {
		sipd_cluster_get_stats(cl, &cs);
		if (!cs.queue_depth)
			break;
		usleep(1000);
	}
	usleep(20000); /* the last pipeline's reply, the reader's XREAD */
}

/* One phase of -A: the UDP calls of round id rid, the whole path. */
static double alt_phase(struct sipd *d, struct dgram *msgs, unsigned int calls, unsigned int rid,
			uint64_t *now)
{
	unsigned int i, n = calls * MSGS_PER_CALL;
	uint64_t t0, t1;

	for (i = 0; i < calls; i++)
		make_call(&msgs[i * MSGS_PER_CALL], rid, i, 0);
	t0 = mono_ns();
	if (udp_msgs(d, msgs, n, *now, NULL, NULL))
		return -1;
	*now += 10ull * 1000000000; /* BYE grace over: the phase's calls end */
	sipd_tick(d, *now);
	sipd_flush(d);
	t1 = mono_ns();
	return n / ((t1 - t0) / 1e9);
}

static int alt_bench(struct sipd *d, struct sipd_cluster *cl, struct dgram *msgs,
		     unsigned int calls, unsigned int rounds)
{
	double on[MAX_ROUNDS], off[MAX_ROUNDS], ratio[MAX_ROUNDS];
	struct sipd_cluster_stats cs;
	uint64_t now = 1000000000ull * 1000000;
	struct sipd_stats st;
	unsigned int r, ph;

	for (r = 0; r < rounds; r++) {
		for (ph = 0; ph < 2; ph++) {
			int with = (ph + r) % 2 == 0;
			double v;

			sipd_set_cluster(d, with ? cl : NULL);
			cl_drain(cl);
			v = alt_phase(d, msgs, calls, 2 * r + ph, &now);
			if (v < 0)
				return 1;
			if (with)
				on[r] = v;
			else
				off[r] = v;
		}
		ratio[r] = on[r] / off[r];
	}
	sipd_set_cluster(d, cl);
	cl_drain(cl);
	sipd_get_stats(d, &st);
	sipd_cluster_get_stats(cl, &cs);
	if (st.pinholes_opened < (uint64_t)calls * rounds * 4 || st.calls_active) {
		fprintf(stderr,
			"sipd-tput: expected %u calls with pinholes, saw %llu opened, %llu "
			"active\n",
			calls * rounds * 2, (unsigned long long)st.pinholes_opened,
			(unsigned long long)st.calls_active);
		return 1;
	}
	/* Only the "on" phases' opens and closes go to Redis: 4 + 4 per call. */
	if (cs.c[SIPD_CL_published] < (uint64_t)calls * rounds * 8) {
		fprintf(stderr,
			"sipd-tput: replication did not keep up: %llu records published, want >= "
			"%llu "
			"(connected: %d; %s)\n",
			(unsigned long long)cs.c[SIPD_CL_published],
			(unsigned long long)calls * rounds * 8, cs.writer_connected, cs.last_error);
		return 1;
	}
	qsort(on, rounds, sizeof(double), cmp_dbl);
	qsort(off, rounds, sizeof(double), cmp_dbl);
	qsort(ratio, rounds, sizeof(double), cmp_dbl);
	printf("replication on/off in one process: %u calls x %d messages per phase, %u rounds\n",
	       calls, MSGS_PER_CALL, rounds);
	printf("whole path off: %.0f [%.0f-%.0f] messages/s, on: %.0f [%.0f-%.0f] messages/s\n",
	       off[rounds / 2], off[0], off[rounds - 1], on[rounds / 2], on[0], on[rounds - 1]);
	printf("on/off per round: %.3f [%.3f-%.3f]; records published %llu\n", ratio[rounds / 2],
	       ratio[0], ratio[rounds - 1], (unsigned long long)cs.c[SIPD_CL_published]);
	return 0;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	unsigned int calls = 2000, rounds = 5, r, i, n, k;
	double sipd_rate[MAX_ROUNDS], osip_rate[MAX_ROUNDS], full_rate[MAX_ROUNDS];
	double sipd_ratio[MAX_ROUNDS], full_ratio[MAX_ROUNDS];
	double tcp_rate[MAX_ROUNDS], tcp_ratio[MAX_ROUNDS];
	double ctl_rate[MAX_ROUNDS], ctl_ratio[MAX_ROUNDS];
	struct sipd *dc = NULL; /* the controller's calls: a third sipd */
	struct sipd_control *ctl = NULL;
	uint64_t *ctl_lat;
	size_t nctl = 0;
	unsigned int nbad = 0;
	struct sipd *dt = NULL; /* the TCP calls: a second sipd on the same maps */
	struct dgram *segs;
	unsigned int nseg;
	uint64_t sipd_ns = 0;
	uint64_t *lat, t0, t1, now = 0;
	struct sipd_config *cfg = NULL;
	struct sipd_events *ev = NULL;
	struct sipwall *skel = NULL;
	struct sipd_stats st;
	struct sipd *d = NULL;
	struct dgram *msgs;
	char root[128], err[512];
	size_t nlat = 0;
	const char *redis = NULL;
	struct sipd_cluster *cl = NULL;
	unsigned int live = 0, workers = 0;
	int opt, rc = 1, alternate = 0, pin = 0;

	while ((opt = getopt(argc, argv, "c:n:l:R:w:mAP")) != -1) {
		switch (opt) {
		case 'P':
			pin = 1;
			break;
		case 'A':
			alternate = 1;
			break;
		case 'm':
			no_media = 1;
			break;
		case 'w':
			workers = strtoul(optarg, NULL, 10);
			if (workers < 2 || workers > WK_MAX) {
				fprintf(stderr, "sipd-tput: -w must be 2..%d\n", WK_MAX);
				return 2;
			}
			break;
		case 'l':
			live = strtoul(optarg, NULL, 10);
			if (live < 1 || live > 200000) {
				fprintf(stderr, "sipd-tput: -l must be 1..200000\n");
				return 2;
			}
			break;
		case 'c':
			calls = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'R':
			redis = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: sipd-tput [-c calls] [-n rounds] [-R redis [-A [-P]]] | -l "
				"live-calls | -w workers [-m] [-c calls] [-n rounds]\n");
			return 2;
		}
	}
	if (alternate && (!redis || live || workers)) {
		fprintf(stderr, "sipd-tput: -A needs -R HOST:PORT (and no -l or -w)\n");
		return 2;
	}
	if (pin && !alternate) {
		fprintf(stderr, "sipd-tput: -P goes with -R HOST:PORT -A\n");
		return 2;
	}
	if (calls < 1 || calls > 100000 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "sipd-tput: -c must be 1..100000 and -n 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	n = calls * MSGS_PER_CALL;
	nseg = calls * (MSGS_PER_CALL + 2);
	msgs = calloc(n, sizeof(*msgs));
	segs = calloc(nseg, sizeof(*segs));
	ctl_lat = calloc((size_t)calls * rounds, sizeof(*ctl_lat));
	lat = calloc((size_t)calls * rounds, sizeof(*lat));
	if (!msgs || !lat || !segs || !ctl_lat) {
		fprintf(stderr, "sipd-tput: out of memory\n");
		return 1;
	}
	libbpf_set_print(NULL);
	parser_init();

	snprintf(root, sizeof(root), "/sys/fs/bpf/sipwall-tput-%d", (int)getpid());
	if (mkdir(root, 0700)) {
		fprintf(stderr, "sipd-tput: mkdir %s: %s (root and bpffs needed)\n", root,
			strerror(errno));
		return 1;
	}
	oo.pin_root_path = root;
	skel = sipwall__open_opts(&oo);
	if (!skel) {
		fprintf(stderr, "sipd-tput: open the data path object: %s\n", strerror(errno));
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.sw_pinholes, live ? 1048576 : 262144);
	bpf_map__set_max_entries(skel->maps.sw_calls, live ? 1048576 : 262144);
	if (sipwall__load(skel)) {
		fprintf(stderr, "sipd-tput: load the data path object: %s\n", strerror(errno));
		goto out;
	}
	if (live) {
		rc = live_mem(root, skel, live);
		goto out;
	}
	if (workers) {
		rc = workers_bench(root, workers, calls, rounds);
		goto out;
	}
	d = tput_sipd("{\"networks\": {\"inside\": [\"10.1.0.0/16\", \"10.5.0.0/16\"]},"
		      " \"timeouts\": {\"bye_grace_s\": 1}}",
		      root, &cfg, &ev);
	if (!d)
		goto out;
	if (redis) {
		cfg->cluster.enabled = 1;
		snprintf(cfg->cluster.node_id, sizeof(cfg->cluster.node_id), "tput");
		snprintf(cfg->cluster.redis[0], sizeof(cfg->cluster.redis[0]), "%s", redis);
		cfg->cluster.n_redis = 1;
		if (pin)
			cfg->cluster.cpu = 1; /* as sipd.json's cluster.cpu */
		cl = sipd_cluster_start(cfg, sipd_get_maps(d), err, sizeof(err));
		if (!cl) {
			fprintf(stderr, "sipd-tput: %s\n", err);
			goto out;
		}
		if (pin && pin_cpu(0, "the SIP path"))
			goto out;
		sipd_set_cluster(d, cl);
	}
	if (alternate) {
		struct sipd_cluster_stats cs;

		for (i = 0; i < 500; i++) {
			sipd_cluster_get_stats(cl, &cs);
			if (cs.writer_connected && cs.reader_connected)
				break;
			usleep(10000);
		}
		if (!cs.writer_connected) {
			fprintf(stderr, "sipd-tput: not connected to Redis at %s: %s\n", redis,
				cs.last_error);
			goto out;
		}
		rc = alt_bench(d, cl, msgs, calls, rounds);
		goto out;
	}
	dt = sipd_new(cfg, root, ev, err, sizeof(err));
	if (!dt) {
		fprintf(stderr, "sipd-tput: sipd_new (TCP): %s\n", err);
		goto out;
	}
	sipd_set_event_batching(dt, 1);
	dc = sipd_new(cfg, root, ev, err, sizeof(err));
	ctl = dc ? sipd_control_open(dc, cfg, 0, err, sizeof(err)) : NULL;
	if (!ctl) {
		fprintf(stderr, "sipd-tput: control: %s\n", err);
		goto out;
	}
	sipd_set_event_batching(dc, 1);

	now = 1000000000ull * 1000000; /* a clock of our own, far from CLOCK_MONOTONIC */
	for (r = 0; r < rounds; r++) {
		int side;

		for (i = 0; i < calls; i++) {
			struct dgram tmp[MSGS_PER_CALL + 2];

			make_call(&msgs[i * MSGS_PER_CALL], r, i, 0);
			make_call(tmp, r, i, 1);
			memcpy(&segs[i * (MSGS_PER_CALL + 2)], tmp, sizeof(tmp));
		}
		for (side = 0; side < 4; side++) {
			int which = (side + r) % 4;

			if (which == 3) {
				/* The same calls driven by a controller (rtpengine
				 * ng, in process): offer, answer, delete each. */
				t0 = mono_ns();
				for (i = 0; i < calls; i++) {
					uint64_t a;

					if (ctl_req(ctl, r, i, 0, &nbad) || (a = mono_ns(), 0) ||
					    ctl_req(ctl, r, i, 1, &nbad))
						goto out;
					ctl_lat[nctl++] = mono_ns() - a;
					if (ctl_req(ctl, r, i, 2, &nbad))
						goto out;
				}
				t1 = mono_ns();
				ctl_rate[r] = calls / ((t1 - t0) / 1e9);
			} else if (which == 2) {
				enum sw_sip_reason why;

				/* The same calls over TCP, one connection each,
				 * one message per segment, closed by FINs. */
				t0 = mono_ns();
				for (k = 0; k < nseg; k++) {
					if (sipd_handle_packet(dt, segs[k].b, segs[k].len, now + k,
							       &why) != SIPD_ACCEPT) {
						fprintf(stderr,
							"sipd-tput: TCP segment %u dropped: %s\n",
							k, sw_sip_reason_name(why));
						goto out;
					}
					sipd_flush(dt);
				}
				t1 = mono_ns();
				tcp_rate[r] = n / ((t1 - t0) / 1e9);
			} else if (which == 0) {
				t0 = mono_ns();
				if (udp_msgs(d, msgs, n, now, lat, &nlat))
					goto out;
				t1 = mono_ns();
				sipd_rate[r] = n / ((t1 - t0) / 1e9);
				sipd_ns = t1 - t0;
			} else {
				t0 = mono_ns();
				for (k = 0; k < n; k++) {
					osip_message_t *m;

					if (osip_message_init(&m) ||
					    osip_message_parse(m, (const char *)msgs[k].b + 28,
							       msgs[k].len - 28)) {
						fprintf(stderr,
							"sipd-tput: libosip2 refused message %u\n",
							k);
						goto out;
					}
					osip_message_free(m);
				}
				t1 = mono_ns();
				osip_rate[r] = n / ((t1 - t0) / 1e9);
			}
		}
		/* BYE grace over: every call of the round is closed. */
		now += 10ull * 1000000000;
		t0 = mono_ns();
		sipd_tick(d, now);
		sipd_flush(d);
		t1 = mono_ns();
		full_rate[r] = n / ((sipd_ns + t1 - t0) / 1e9);
		sipd_tick(dt, now);
		sipd_flush(dt);
		/* the deleted calls end after the BYE grace (monotonic clock) */
		sipd_tick(dc, sw_monotonic_ns() + 10ull * 1000000000);
		sipd_flush(dc);
	}
	sipd_get_stats(dt, &st);
	if (st.pinholes_opened < (uint64_t)calls * rounds * 2 || st.calls_active ||
	    st.tcp_messages != (uint64_t)n * rounds) {
		fprintf(stderr,
			"sipd-tput: TCP: expected %u calls with pinholes and %u messages, saw %llu "
			"pinholes opened, %llu calls active, %llu messages framed\n",
			calls * rounds, n * rounds, (unsigned long long)st.pinholes_opened,
			(unsigned long long)st.calls_active, (unsigned long long)st.tcp_messages);
		goto out;
	}
	sipd_get_stats(dc, &st);
	if (st.pinholes_opened < (uint64_t)calls * rounds * 2 || st.calls_active) {
		fprintf(stderr,
			"sipd-tput: control: expected %u calls with pinholes, all ended; saw %llu "
			"pinholes opened, %llu calls active\n",
			calls * rounds, (unsigned long long)st.pinholes_opened,
			(unsigned long long)st.calls_active);
		goto out;
	}
	sipd_get_stats(d, &st);
	if (st.pinholes_opened < (uint64_t)calls * rounds * 2 || st.calls_active) {
		fprintf(stderr,
			"sipd-tput: expected %u calls with pinholes, saw %llu opened, %llu "
			"active\n",
			calls * rounds, (unsigned long long)st.pinholes_opened,
			(unsigned long long)st.calls_active);
		goto out;
	}
	/* The ratio of each round (both sides ran back to back, at the same
	 * machine speed), then the median: this VM's speed drifts by 1.5x
	 * between rounds, so a ratio of the two medians would mix rounds. */
	for (r = 0; r < rounds; r++) {
		sipd_ratio[r] = sipd_rate[r] / osip_rate[r];
		full_ratio[r] = full_rate[r] / osip_rate[r];
		tcp_ratio[r] = tcp_rate[r] / sipd_rate[r];
		ctl_ratio[r] = ctl_rate[r] / (sipd_rate[r] / MSGS_PER_CALL);
	}
	qsort(ctl_ratio, rounds, sizeof(double), cmp_dbl);
	qsort(ctl_rate, rounds, sizeof(double), cmp_dbl);
	qsort(ctl_lat, nctl, sizeof(uint64_t), cmp_u64);
	qsort(tcp_ratio, rounds, sizeof(double), cmp_dbl);
	qsort(tcp_rate, rounds, sizeof(double), cmp_dbl);
	qsort(sipd_ratio, rounds, sizeof(double), cmp_dbl);
	qsort(full_ratio, rounds, sizeof(double), cmp_dbl);
	qsort(sipd_rate, rounds, sizeof(double), cmp_dbl);
	qsort(osip_rate, rounds, sizeof(double), cmp_dbl);
	qsort(full_rate, rounds, sizeof(double), cmp_dbl);
	qsort(lat, nlat, sizeof(uint64_t), cmp_u64);
	printf("sipd throughput: %u calls x %d messages, %u rounds, median [min-max]\n", calls,
	       MSGS_PER_CALL, rounds);
	printf("(ratio: each round's sipd rate / that round's libosip2 rate)\n");
	printf("| path | messages/s | ratio to bare libosip2 |\n|---|---|---|\n");
	printf("| bare libosip2 parse (init, parse, free) | %.0f [%.0f-%.0f] | 1.00 |\n",
	       osip_rate[rounds / 2], osip_rate[0], osip_rate[rounds - 1]);
	printf("| sipd_handle_packet (whole path, real maps) | %.0f [%.0f-%.0f] | %.2f "
	       "[%.2f-%.2f] |\n",
	       sipd_rate[rounds / 2], sipd_rate[0], sipd_rate[rounds - 1], sipd_ratio[rounds / 2],
	       sipd_ratio[0], sipd_ratio[rounds - 1]);
	printf("| sipd_handle_packet + sipd_tick (the calls' ends: CDRs, pinhole deletes) | "
	       "%.0f [%.0f-%.0f] | %.2f [%.2f-%.2f] |\n",
	       full_rate[rounds / 2], full_rate[0], full_rate[rounds - 1], full_ratio[rounds / 2],
	       full_ratio[0], full_ratio[rounds - 1]);
	printf("| sipd_handle_packet over TCP (one connection per call, a message per segment, "
	       "FINs) | %.0f [%.0f-%.0f] | %.2f [%.2f-%.2f] |\n",
	       tcp_rate[rounds / 2], tcp_rate[0], tcp_rate[rounds - 1],
	       tcp_rate[rounds / 2] / osip_rate[rounds / 2], tcp_rate[0] / osip_rate[rounds - 1],
	       tcp_rate[rounds - 1] / osip_rate[0]);
	printf("TCP vs UDP (each round's TCP rate / its UDP sipd_handle_packet rate): %.2f "
	       "[%.2f-%.2f]\n",
	       tcp_ratio[rounds / 2], tcp_ratio[0], tcp_ratio[rounds - 1]);
	printf("control API (rtpengine ng offer + answer + delete per call, in process): %.0f "
	       "[%.0f-%.0f] calls/s; vs inline SIP calls/s (6 messages each) %.2f [%.2f-%.2f]\n",
	       ctl_rate[rounds / 2], ctl_rate[0], ctl_rate[rounds - 1], ctl_ratio[rounds / 2],
	       ctl_ratio[0], ctl_ratio[rounds - 1]);
	printf("control answer -> pinholes in the map and the reply built, %zu answers: p50 %.1f "
	       "us, p99 %.1f us\n",
	       nctl, ctl_lat[nctl / 2] / 1e3, ctl_lat[nctl * 99 / 100] / 1e3);
	printf("pinhole install (200 OK with SDP answer -> pinholes in the map), %zu answers: "
	       "p50 %.1f us, p99 %.1f us, max %.1f us\n",
	       nlat, lat[nlat / 2] / 1e3, lat[nlat * 99 / 100] / 1e3, lat[nlat - 1] / 1e3);
	printf("pinholes opened %llu, closed %llu, map errors %llu\n",
	       (unsigned long long)st.pinholes_opened, (unsigned long long)st.pinholes_closed,
	       (unsigned long long)st.map_errors);
	rc = 0;
out:
	if (d) {
		sipd_close_all(d, now);
		sipd_set_cluster(d, NULL);
		sipd_cluster_stop(cl);
		sipd_free(d);
	}
	if (dt) {
		sipd_close_all(dt, now);
		sipd_free(dt);
	}
	sipd_control_close(ctl);
	if (dc) {
		sipd_close_all(dc, sw_monotonic_ns());
		sipd_free(dc);
	}
	free(ctl_lat);
	free(segs);
	if (ev)
		sipd_events_close(ev);
	sipd_config_free(cfg);
	sipwall__destroy(skel);
	unpin(root);
	free(msgs);
	free(lat);
	return rc;
}
