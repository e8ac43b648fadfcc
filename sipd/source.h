/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sipd's packet sources: NFQUEUE inline (nfq.c), AF_PACKET passive
 * (passive.c), pcap replay (replay.c), and the iptables rules that feed the
 * queue (rules.c). A source knows nothing about SIP: it hands whole IP
 * datagrams to a sink and applies the verdict the sink returns.
 */
#ifndef SIPD_SOURCE_H
#define SIPD_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include "sipd.h"

#define SIPD_SIP_PORT_DEFAULT 5060
#define SIPD_MAX_SIP_PORTS    8
#define SIPD_TICK_MS_DEFAULT  1000

/*
 * Where packets go. handle() is sipd_handle_packet() in the daemon; tests use
 * an accept-all sink. reload() returns 0 or a negative errno and must keep the
 * old state on failure. tick and reload may be NULL.
 */
struct sipd_sink {
	enum sipd_verdict (*handle)(void *ctx, const uint8_t *ip, size_t len,
				    const struct sipd_pkt_meta *meta, uint64_t now_ns,
				    enum sw_sip_reason *why);
	void (*tick)(void *ctx, uint64_t now_ns);
	int (*reload)(void *ctx);
	void *ctx;
	const struct sipd_aux *aux; /* NULL = nothing else to poll */
	/* After the verdicts of a batch of packets (and before blocking):
	 * write what handle() queued, e.g. events. NULL = nothing. */
	void (*flush)(void *ctx);
	/* Several workers (sipd_nfq_opts.workers > 1): each worker thread
	 * gets its own context (worker_new, called before the threads start) and
	 * calls handle_worker with it instead of handle; lock/unlock bracket
	 * every other call into the sink (tick, reload, flush, aux) while
	 * workers run. NULL = one thread only. */
	void *(*worker_new)(void *ctx);
	void (*worker_free)(void *wctx);
	enum sipd_verdict (*handle_worker)(void *wctx, const uint8_t *ip, size_t len,
					   const struct sipd_pkt_meta *meta, uint64_t now_ns,
					   enum sw_sip_reason *why);
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
};

/*
 * More descriptors a live source polls next to its own (the metrics
 * endpoint): fill() writes at most max pollfds and returns how many; after
 * each poll, service() gets them back with revents. Never blocks.
 */
#define SIPD_AUX_MAX_FDS 16
struct pollfd;
struct sipd_aux {
	unsigned int (*fill)(void *ctx, struct pollfd *p, unsigned int max);
	void (*service)(void *ctx, const struct pollfd *p, unsigned int n);
	void *ctx;
};

/* The SIP ports a source or rule set cares about (host order). */
struct sipd_ports {
	uint16_t port[SIPD_MAX_SIP_PORTS];
	unsigned int n;
};

/* Parse "5060" or "5060,5080"; -EINVAL on anything else. */
int sipd_ports_parse(const char *s, struct sipd_ports *p);
int sipd_ports_has(const struct sipd_ports *p, uint16_t port);

struct sipd_nfq_opts {
	uint16_t queue;		   /* first queue number */
	uint16_t nqueues;	   /* >1: --queue-balance queue:queue+nqueues-1 */
	int fail_open;		   /* NFQA_CFG_F_FAIL_OPEN when the queue is full */
	uint32_t maxlen;	   /* kernel queue length, 0 = 8192 (nfq.c) */
	unsigned int tick_ms;	   /* sipd_tick period */
	unsigned int busy_poll_us; /* sipd_loop_run: spin this long after traffic */
	/* Threads serving the queues (1..nqueues; 0 = 1): queue i is served by
	 * worker i % workers on a netlink socket of its own; >1 needs the
	 * sink's worker hooks. */
	unsigned int workers;
	int verbose;
};

/*
 * Bind the queues and run until SIGTERM/SIGINT (returns 0) or a fatal error
 * (negative errno). SIGHUP calls sink->reload. Verdicts are issued only after
 * sink->handle returned, i.e. after its map writes.
 */
int sipd_nfq_run(const struct sipd_nfq_opts *o, const struct sipd_sink *s);

struct sipd_passive_opts {
	const char *ifname;
	struct sipd_ports ports;
	unsigned int tick_ms;
	int verbose;
};

/* Observe IFACE on AF_PACKET; never drops. Same exit rules as sipd_nfq_run. */
int sipd_passive_run(const struct sipd_passive_opts *o, const struct sipd_sink *s);

/*
 * The event loop the live sources share (loop.c). sipd_loop_fds() blocks
 * SIGHUP/SIGTERM/SIGINT and opens a signalfd for them and a timerfd for the
 * tick; a negative errno (reported) leaves nothing open.
 */
int sipd_loop_fds(sigset_t *set, unsigned int tick_ms, int *sfd, int *tfd);

/*
 * Poll the source's fd next to sfd, tfd and the sink's aux descriptors until
 * SIGTERM/SIGINT (returns 0) or an error. SIGHUP calls sink->reload, the
 * timer sink->tick. When fd is readable, drain(ctx) takes what is there
 * without blocking and returns how many packets it handled (>= 0), or a
 * negative errno that ends the loop (drain reports it); sink->flush follows
 * each drain that did not fail. fd is served before the others in each round.
 * busy_poll_us > 0: for that long after a drain that handled packets the loop
 * polls without sleeping (a CPU spins; the next packet skips the wake-up).
 * A failed poll ends the loop with its negative errno, not reported.
 */
int sipd_loop_run(int fd, int sfd, int tfd, const struct sipd_sink *s, int (*drain)(void *ctx),
		  void *ctx, unsigned int busy_poll_us);

/* The iptables side of inline mode (rules.c). */
#define SIPD_RULES_MAX_IFS 16

struct sipd_rules_opts {
	struct sipd_ports ports;     /* UDP */
	struct sipd_ports tcp_ports; /* SIP over TCP and WebSocket */
	struct sipd_ports syn_ports; /* TLS and WSS: connections counted */
	uint16_t queue;
	uint16_t nqueues;
	int fail_open;		    /* --queue-bypass: traffic passes when sipd is down */
	int forward, input, output; /* which built-in chains jump to SIPWALL */
	int ipv4, ipv6;
	const char *iptables;  /* iptables binary (default "iptables") */
	const char *ip6tables; /* default "ip6tables" */
	/* raw table: UDP to the media range is not tracked (SIPWALL_RAW).
	 * media_lo 0: no such rules. */
	uint16_t media_lo, media_hi;
	char media_ifs[SIPD_RULES_MAX_IFS][16]; /* -i of those rules; none: every interface */
	unsigned int n_media_ifs;
};

void sipd_rules_defaults(struct sipd_rules_opts *o);
int sipd_rules_install(const struct sipd_rules_opts *o);
int sipd_rules_remove(const struct sipd_rules_opts *o);
int sipd_rules_show(const struct sipd_rules_opts *o);

/* Datagram helpers shared by the sources (source.c). */
struct sipd_udp_view {
	const uint8_t *ip;     /* start of the IP header */
	uint8_t proto;	       /* transport protocol; for a whole TCP segment
				* (-ENOENT) sport and dport are set too */
	size_t ip_len;	       /* whole datagram as captured */
	uint16_t sport, dport; /* host order */
	int is_v6;
	int is_fragment;	      /* any fragment (first or later) */
	int first_fragment;	      /* offset 0 with more fragments */
	uint8_t saddr[16], daddr[16]; /* v4-mapped for IPv4 */
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Find the UDP header of an IP datagram. Returns 0 when it carries UDP (for a
 * non-first fragment ports are 0), -ENOENT when it is not UDP, -EINVAL when
 * malformed.
 */
int sipd_udp_view(const uint8_t *ip, size_t len, struct sipd_udp_view *v);

/*
 * The encapsulations real taps carry IP in (decap.c): VLAN tags (0x8100,
 * 0x88a8, 0x9100), PPPoE session frames (0x8864, PPP 0x0021/0x0057), IP in
 * IP (IPv4/IPv6 in IPv4/IPv6, protocols 4 and 41), GRE (47, version 0, any
 * of checksum/key/sequence) carrying IPv4/IPv6, an Ethernet frame (0x6558)
 * or a mirrored frame behind ERSPAN type I/II (0x88BE) or III (0x22EB, with
 * its optional platform subheader). The capture of a mirror port or a DSL
 * uplink then yields the datagram a firewall would see.
 */
#define SIPD_DECAP_MAX_DEPTH 4 /* nested encapsulations: IP in IP, GRE, PPPoE */
#define SIPD_DECAP_MAX_VLANS 4 /* VLAN tags on one Ethernet header */

/*
 * Why a frame was given up (named in replay's summary, counted by passive):
 * encap_too_deep: more than SIPD_DECAP_MAX_DEPTH encapsulations, or more than
 * SIPD_DECAP_MAX_VLANS tags on one Ethernet header; encap_fragment: a tunnel
 * datagram (protocol 4, 41 or 47) that is an IP fragment (outer fragments
 * are not reassembled); vlan_truncated: a VLAN tag cut short;
 * gre_truncated: the GRE header with its optional fields, or the Ethernet
 * header of a gretap frame, cut short; gre_unsupported: GRE version not 0
 * (PPTP) or with routing (RFC 1701); erspan_truncated: the ERSPAN header
 * (8 octets type II, 12 type III plus 8 with the platform subheader) or the
 * mirrored Ethernet header cut short; erspan_unsupported: an ERSPAN version
 * that does not match its GRE protocol type, or a type III frame type other
 * than Ethernet or IP; pppoe_malformed: not version 1, type 1, code 0, or
 * its length past the frame.
 */
#define SIPD_DECAP_SKIPS(X)                         \
	X(TOO_DEEP, "encap_too_deep")               \
	X(FRAGMENT, "encap_fragment")               \
	X(VLAN_TRUNCATED, "vlan_truncated")         \
	X(GRE_TRUNCATED, "gre_truncated")           \
	X(GRE_UNSUPPORTED, "gre_unsupported")       \
	X(ERSPAN_TRUNCATED, "erspan_truncated")     \
	X(ERSPAN_UNSUPPORTED, "erspan_unsupported") \
	X(PPPOE_MALFORMED, "pppoe_malformed")

enum sipd_decap_skip {
#define SIPD_DECAP_ENUM(id, name) SIPD_DECAP_SKIP_##id,
	SIPD_DECAP_SKIPS(SIPD_DECAP_ENUM)
#undef SIPD_DECAP_ENUM
		SIPD_DECAP_SKIP_MAX
};

const char *sipd_decap_skip_name(enum sipd_decap_skip s);

/* Bits of sipd_decap.kinds: the layers a frame's datagram was found under. */
enum sipd_encap_kind {
	SIPD_ENCAP_VLAN,	 /* any VLAN tag */
	SIPD_ENCAP_IP_IN_IP,	 /* protocol 4 or 41 */
	SIPD_ENCAP_GRE,		 /* GRE with an IPv4/IPv6 payload */
	SIPD_ENCAP_GRE_ETHERNET, /* GRE 0x6558 (gretap) */
	SIPD_ENCAP_ERSPAN,	 /* GRE 0x88BE / 0x22EB */
	SIPD_ENCAP_PPPOE,
	SIPD_ENCAP_KIND_MAX
};

const char *sipd_encap_kind_name(unsigned int kind);

struct sipd_decap {
	const uint8_t *ip; /* the innermost IP datagram */
	size_t len; /* to the end of what carries it (outer IP or PPPoE length, else the frame) */
	uint16_t ethertype; /* ETH_P_IP or ETH_P_IPV6, by ip's version */
	unsigned int depth; /* encapsulations removed (VLAN tags not counted) */
	unsigned int vlans; /* VLAN tags crossed */
	unsigned int kinds; /* 1 << enum sipd_encap_kind */
	int as_is; /* only up to two 0x8100/0x88a8 tags: the XDP program parses the frame itself */
	enum sipd_decap_skip why; /* set when -EINVAL */
};

/*
 * Find the IP datagram in a link-layer payload: ethertype is the frame's
 * (p follows the Ethernet or cooked header), or 0 when p is an IP datagram.
 * Returns 0 (an IP datagram, possibly malformed: sipd_udp_view judges it),
 * -ENOENT when the frame carries no IP (ARP, LCP, unknown GRE payloads), or
 * -EINVAL with d->why.
 */
int sipd_decap(uint16_t ethertype, const uint8_t *p, size_t len, struct sipd_decap *d);

#endif /* SIPD_SOURCE_H */
