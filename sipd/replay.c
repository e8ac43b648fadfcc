// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sipd replay [-c CONFIG] CAPTURE`: a capture through the real thing,
 * offline. SIP datagrams go through sipd_handle_packet() with the capture's
 * timestamps as the clock; every other UDP datagram goes through the real XDP
 * program (BPF_PROG_TEST_RUN) against real maps pinned in a private directory
 * on bpffs, so pinholes sipd opened decide what media passes, exactly as on a
 * live firewall. Prints one JSON summary; --events also prints every event.
 *
 * The XDP program stamps last_seen with the kernel clock; replay restamps a
 * pinhole that passed a packet with the capture's time so idle expiry runs on
 * one clock.
 *
 * Inline mode sees SIP reassembled by netfilter; replay reassembles UDP
 * fragments itself (reasm.c, by capture time) and hands a SIP datagram to
 * sipd when its last fragment arrives. Fragments of a datagram known to be
 * SIP (its first fragment seen) stay out of the data path, as whole SIP
 * datagrams do; the others go through XDP one by one, as they would live.
 *
 * A capture from a mirror port or a DSL uplink carries the datagrams inside
 * GRE, ERSPAN, IP in IP, PPPoE or extra VLAN tags: sipd_decap() (decap.c)
 * finds the innermost datagram, which is what sipd and the reassembly see,
 * and what XDP judges in a plain Ethernet header built around it (the frame
 * itself only when XDP parses it as captured).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
/* libpcap's classic-BPF header clashes with linux/bpf.h; only DLTs are needed. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/dlt.h>
#include <pcap/pcap.h>

#include "lib/swmap.h"
#include "sipd/config.h"
#include "sipd/events.h"
#include "sipd/reasm.h"
#include "sipd/sipd.h"
#include "sipd/source.h"
#include "sipd/srccmd.h"
#include "sipd/stream.h"
#include "sipwall.skel.h"

#define REPLAY_FRAME_MAX 4096 /* XDP test_run takes at most a page */

/* Interrupted or its reader gone: stop reading, still unpin. */
static volatile sig_atomic_t replay_stop;

static void on_stop(int sig)
{
	(void)sig;
	replay_stop = 1;
}

struct replay {
	struct sipwall *skel;
	struct sipd *d;
	struct sipd_events *ev;
	struct sipd_reasm *reasm;
	struct sw_maps maps;
	char pin[64];
	int prog_fd;
	int events;
	uint16_t media_lo, media_hi;
	struct sipd_ports ports;
	/* what the capture held */
	uint64_t packets, sip, tcp, media, other_udp, not_udp, bad, sip_frags, too_big;
	uint64_t sip_reassembled;
	uint64_t encapsulated, encap_kind[SIPD_ENCAP_KIND_MAX];
	uint64_t decap_skipped[SIPD_DECAP_SKIP_MAX];
	uint64_t xdp_pass, xdp_drop, xdp_other;
	uint64_t first_ns, last_ns, last_tick_ns;
};

static int libbpf_quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Remove the private pin directory and whatever libbpf pinned in it (also
 * maps a newer object pins under names this file does not know). */
static void unpin_all(struct replay *r)
{
	struct dirent *de;
	char p[384];
	DIR *dir;

	if (!r->pin[0])
		return;
	dir = opendir(r->pin);
	while (dir && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", r->pin, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(r->pin);
	r->pin[0] = 0;
}

static int load_datapath(struct replay *r)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct sw_config c = {0};
	__u32 key = 0;
	int err;

	snprintf(r->pin, sizeof(r->pin), "/sys/fs/bpf/sipwall-replay-XXXXXX");
	if (!mkdtemp(r->pin)) {
		err = -errno;
		fprintf(stderr,
			"sipd replay: cannot make a private pin path under /sys/fs/bpf: %s (is "
			"bpffs mounted?)\n",
			strerror(errno));
		r->pin[0] = 0;
		return err;
	}
	libbpf_set_print(libbpf_quiet);
	oo.pin_root_path = r->pin;
	r->skel = sipwall__open_opts(&oo);
	if (!r->skel) {
		err = -errno;
		fprintf(stderr, "sipd replay: opening the XDP object: %s\n", strerror(-err));
		return err;
	}
	r->skel->rodata->media_lo = r->media_lo;
	r->skel->rodata->media_hi = r->media_hi;
	/* Only the XDP program runs here. */
	bpf_program__set_autoload(r->skel->progs.sipwall_tc_in, false);
	bpf_program__set_autoload(r->skel->progs.sipwall_tc_eg, false);
	err = sipwall__load(r->skel);
	if (err) {
		fprintf(stderr, "sipd replay: loading the XDP program: %s\n", strerror(-err));
		return err;
	}
	r->prog_fd = bpf_program__fd(r->skel->progs.sipwall_xdp);
	c.media_lo = r->media_lo;
	c.media_hi = r->media_hi;
	c.max_pinholes = bpf_map__max_entries(r->skel->maps.sw_pinholes);
	c.version = SW_SCHEMA_VERSION;
	err = bpf_map__update_elem(r->skel->maps.sw_config, &key, sizeof(key), &c, sizeof(c),
				   BPF_ANY);
	if (err) {
		fprintf(stderr, "sipd replay: writing sw_config: %s\n", strerror(-err));
		return err;
	}
	err = sw_maps_open(r->pin, &r->maps);
	if (err)
		fprintf(stderr, "sipd replay: opening maps in %s: %s\n", r->pin, strerror(-err));
	return err;
}

static void restamp(struct replay *r, const struct sipd_udp_view *v, uint64_t ts)
{
	struct sw_pinhole_key k = {.port = htons(v->dport), .proto = IPPROTO_UDP};
	struct sw_pinhole p;

	memcpy(k.addr, v->daddr, 16);
	if (sw_pinhole_get(&r->maps, &k, &p))
		return;
	p.last_seen_ns = ts;
	sw_pinhole_put(&r->maps, &k, &p, BPF_EXIST);
}

static int stats_snapshot(struct replay *r, struct sw_stat s[SW_R_MAX])
{
	return sw_stats_read(&r->maps, s);
}

static void media_packet(struct replay *r, const uint8_t *frame, size_t flen,
			 const struct sipd_udp_view *v, uint64_t ts)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = flen, .repeat = 1);
	struct sw_stat before[SW_R_MAX], after[SW_R_MAX];
	const char *reason = NULL;
	int err;

	if (flen > REPLAY_FRAME_MAX) {
		r->too_big++;
		return;
	}
	if (r->events)
		stats_snapshot(r, before);
	err = bpf_prog_test_run_opts(r->prog_fd, &t);
	if (err) {
		r->too_big++;
		return;
	}
	if (t.retval == XDP_PASS)
		r->xdp_pass++;
	else if (t.retval == XDP_DROP)
		r->xdp_drop++;
	else
		r->xdp_other++;
	if (t.retval == XDP_PASS && v->dport >= r->media_lo && v->dport <= r->media_hi &&
	    !v->is_fragment)
		restamp(r, v, ts);
	if (!r->events)
		return;
	if (!stats_snapshot(r, after))
		for (unsigned int i = 0; i < SW_R_MAX; i++)
			if (after[i].packets != before[i].packets)
				reason = sw_reason_name(i);
	ev_begin(r->ev, "media", ts);
	ev_addr(r->ev, "src", v->saddr, v->sport);
	ev_addr(r->ev, "dst", v->daddr, v->dport);
	ev_str(r->ev, "verdict",
	       t.retval == XDP_PASS   ? "pass"
	       : t.retval == XDP_DROP ? "drop"
				      : "other");
	ev_str(r->ev, "reason", reason ? reason : "?");
	ev_end(r->ev);
}

/* The link layer of a captured frame: the ethertype of what follows (0 for
 * raw IP) and where it starts. -1 when there is nothing sipd can read. */
static int link_payload(int dlt, const uint8_t *pkt, size_t caplen, uint16_t *et, size_t *off)
{
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return -1;
		*et = (pkt[12] << 8) | pkt[13];
		*off = 14;
		return 0;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -1;
		*et = (pkt[14] << 8) | pkt[15];
		*off = 16;
		return 0;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -1;
		*et = (pkt[0] << 8) | pkt[1];
		*off = 20;
		return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*et = 0; /* the IP version says */
		*off = 0;
		return caplen < 1 ? -1 : 0;
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t af;

		if (caplen < 4)
			return -1;
		memcpy(&af, pkt, 4);
		if (dlt == DLT_LOOP)
			af = ntohl(af);
		else if (af > 0xffff)
			af = __builtin_bswap32(af); /* other byte order */
		if (af == 2)
			*et = ETH_P_IP;
		else if (af == 10 || af == 24 || af == 28 || af == 30)
			*et = ETH_P_IPV6;
		else
			return -1;
		*off = 4;
		return 0;
	}
	default:
		return -1;
	}
}

/* The frame the XDP program judges: the captured one when it parses it
 * itself (Ethernet, up to two 802.1Q/802.1ad tags, then IP), else a plain
 * Ethernet header around the (innermost) IP datagram. NULL when too big. */
static const uint8_t *xdp_frame(int dlt, const uint8_t *pkt, size_t caplen,
				const struct sipd_decap *d, uint8_t *ethbuf, size_t *flen)
{
	if (dlt == DLT_EN10MB && d->as_is) {
		*flen = caplen;
		return pkt;
	}
	*flen = d->len + 14;
	if (*flen > REPLAY_FRAME_MAX)
		return NULL;
	memset(ethbuf, 0, 12);
	ethbuf[0] = 0x02; /* locally administered */
	ethbuf[6] = 0x02;
	ethbuf[12] = d->ethertype >> 8;
	ethbuf[13] = d->ethertype & 0xff;
	memcpy(ethbuf + 14, d->ip, d->len);
	return ethbuf;
}

static int is_sip(const struct replay *r, uint16_t sport, uint16_t dport)
{
	return sipd_ports_has(&r->ports, dport) || sipd_ports_has(&r->ports, sport);
}

/* A TCP segment sipd would inspect or count: --ports, or the config's TCP,
 * WebSocket, TLS and WSS ports. */
static int is_sip_tcp(const struct replay *r, uint16_t sport, uint16_t dport)
{
	const struct sipd_config *c = sipd_get_config(r->d);
	const struct sipd_port_list *l[] = {&c->sip.tcp_ports, &c->sip.ws_ports, &c->sip.tls_ports,
					    &c->sip.wss_ports};

	if (is_sip(r, sport, dport))
		return 1;
	for (unsigned int i = 0; i < 4; i++)
		if (sipd_port_list_has(l[i], sport) || sipd_port_list_has(l[i], dport))
			return 1;
	return 0;
}

/* A UDP fragment: into the reassembler; a SIP datagram it completes takes
 * the SIP path with this fragment's time. Returns 1 when the fragment
 * belongs to a SIP datagram (it then stays out of the data path). */
static int fragment(struct replay *r, const uint8_t *ip, size_t len, uint64_t ts)
{
	struct sipd_reasm_out o;
	enum sw_sip_reason why;
	int rc, sip;

	rc = sipd_reasm_add(r->reasm, ip, len, ts, &o);
	sip = o.udp_known && is_sip(r, o.sport, o.dport);
	if (rc == SIPD_REASM_DONE && sip) {
		r->sip++;
		r->sip_reassembled++;
		sipd_handle_packet(r->d, o.ip, o.len, ts, &why);
	}
	if (sip)
		r->sip_frags++;
	return sip;
}

static void one_packet(struct replay *r, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	static uint8_t ethbuf[REPLAY_FRAME_MAX];
	const uint8_t *ip, *frame;
	size_t flen = 0, off = 0;
	struct sipd_udp_view v;
	struct sipd_decap d;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	uint16_t et = 0;
	int rc;

	r->packets++;
	if (!r->first_ns)
		r->first_ns = r->last_tick_ns = ts;
	if (ts > r->last_ns)
		r->last_ns = ts;
	/* The capture's clock drives expiry, once per capture second. */
	if (ts >= r->last_tick_ns + 1000000000ull) {
		sipd_tick(r->d, ts);
		r->last_tick_ns = ts;
	}
	if (h->caplen < h->len) {
		r->bad++; /* truncated by the capture's snaplen */
		return;
	}
	if (link_payload(dlt, pkt, h->caplen, &et, &off)) {
		r->not_udp++;
		return;
	}
	/* Tunnels, PPPoE and VLAN tags: the innermost datagram is the one. */
	rc = sipd_decap(et, pkt + off, h->caplen - off, &d);
	if (rc == -ENOENT) {
		r->not_udp++;
		return;
	}
	if (rc) {
		r->decap_skipped[d.why]++;
		return;
	}
	if (d.depth)
		r->encapsulated++;
	for (unsigned int k = 0; k < SIPD_ENCAP_KIND_MAX; k++)
		if (d.kinds & (1u << k))
			r->encap_kind[k]++;
	ip = d.ip;
	rc = sipd_udp_view(ip, d.len, &v);
	if (rc == -ENOENT && v.proto == IPPROTO_TCP && is_sip_tcp(r, v.sport, v.dport)) {
		enum sw_sip_reason why;

		/* SIP over TCP: reassembled per connection on the capture's
		 * clock (stream.h). */
		r->tcp++;
		sipd_handle_packet(r->d, ip, v.ip_len, ts, &why);
		return;
	}
	if (rc == -ENOENT) {
		r->not_udp++;
		return;
	}
	if (rc) {
		r->bad++;
		return;
	}
	if (v.is_fragment && fragment(r, ip, v.ip_len, ts))
		return;
	if (!v.is_fragment && is_sip(r, v.sport, v.dport)) {
		enum sw_sip_reason why;

		r->sip++;
		sipd_handle_packet(r->d, ip, v.ip_len, ts, &why);
		return;
	}
	if (v.dport >= r->media_lo && v.dport <= r->media_hi)
		r->media++;
	else
		r->other_udp++;
	frame = xdp_frame(dlt, pkt, h->caplen, &d, ethbuf, &flen);
	if (!frame) {
		r->too_big++;
		return;
	}
	media_packet(r, frame, flen, &v, ts);
}

static void print_summary(struct replay *r, const char *capture)
{
	struct sipd_reasm_stats fs;
	struct sipd_stats st;
	struct sw_stat xs[SW_R_MAX];
	int first;

	sipd_get_stats(r->d, &st);
	sipd_reasm_get_stats(r->reasm, &fs);
	memset(xs, 0, sizeof(xs));
	stats_snapshot(r, xs);
	printf("{\"capture\":\"");
	for (const char *c = capture; *c; c++)
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if ((unsigned char)*c < 0x20)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	printf("\",\"packets\":%llu,\"duration_ns\":%llu,", (unsigned long long)r->packets,
	       (unsigned long long)(r->last_ns - r->first_ns));
	printf("\"sip\":{\"messages\":%llu,\"accepted\":%llu,\"keepalives\":%llu,"
	       "\"dropped\":{",
	       (unsigned long long)st.messages, (unsigned long long)st.accepted,
	       (unsigned long long)st.keepalives);
	first = 1;
	for (unsigned int i = 1; i < SW_SIP_R_MAX; i++) {
		if (!st.dropped[i])
			continue;
		printf("%s\"%s\":%llu", first ? "" : ",", sw_sip_reason_name(i),
		       (unsigned long long)st.dropped[i]);
		first = 0;
	}
	printf("}},\"fragments\":{\"received\":%llu,\"reassembled\":%llu,\"sip\":%llu,"
	       "\"sip_reassembled\":%llu,\"dropped\":{",
	       (unsigned long long)fs.fragments, (unsigned long long)fs.reassembled,
	       (unsigned long long)r->sip_frags, (unsigned long long)r->sip_reassembled);
	for (unsigned int i = 0; i < SIPD_REASM_DROP_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sipd_reasm_drop_name(i),
		       (unsigned long long)fs.dropped[i]);
	printf("},\"incomplete_at_end\":%llu},", (unsigned long long)fs.in_flight);
	{
		struct sipd_stream_stats ts;

		sipd_get_stream_stats(r->d, &ts);
		printf("\"tcp\":{\"segments\":%llu,\"messages\":%llu,\"retransmits\":%llu,"
		       "\"out_of_order\":%llu,\"rejected\":%llu,\"resets\":%llu,"
		       "\"ws_messages\":%llu,\"gave_up\":{",
		       (unsigned long long)r->tcp, (unsigned long long)st.tcp_messages,
		       (unsigned long long)ts.retransmits, (unsigned long long)ts.out_of_order,
		       (unsigned long long)ts.rejected, (unsigned long long)ts.resets,
		       (unsigned long long)ts.ws_messages);
		for (unsigned int i = 0; i < SIPD_STREAM_GIVEUP_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", sipd_stream_giveup_name(i),
			       (unsigned long long)ts.gave_up[i]);
		printf("},\"uninspectable\":{\"tls\":%llu,\"wss\":%llu}},",
		       (unsigned long long)st.uninspectable[0],
		       (unsigned long long)st.uninspectable[1]);
	}
	printf("\"calls\":{\"started\":%llu,\"ended\":%llu,\"active_at_end\":%llu},",
	       (unsigned long long)st.calls_started, (unsigned long long)st.calls_ended,
	       (unsigned long long)st.calls_active);
	printf("\"pinholes\":{\"opened\":%llu,\"updated\":%llu,\"closed\":%llu,\"active_at_end\":%"
	       "llu},",
	       (unsigned long long)st.pinholes_opened, (unsigned long long)st.pinholes_updated,
	       (unsigned long long)st.pinholes_closed, (unsigned long long)st.pinholes_active);
	printf("\"media\":{\"packets\":%llu,\"other_udp\":%llu,\"passed\":%llu,\"dropped\":%llu,"
	       "\"by_reason\":{",
	       (unsigned long long)r->media, (unsigned long long)r->other_udp,
	       (unsigned long long)r->xdp_pass, (unsigned long long)r->xdp_drop);
	first = 1;
	for (unsigned int i = 0; i < SW_R_MAX; i++) {
		if (!xs[i].packets)
			continue;
		printf("%s\"%s\":%llu", first ? "" : ",", sw_reason_name(i),
		       (unsigned long long)xs[i].packets);
		first = 0;
	}
	printf("}},\"encapsulated\":{\"packets\":%llu", (unsigned long long)r->encapsulated);
	for (unsigned int k = 0; k < SIPD_ENCAP_KIND_MAX; k++)
		printf(",\"%s\":%llu", sipd_encap_kind_name(k),
		       (unsigned long long)r->encap_kind[k]);
	printf("},\"skipped\":{\"not_udp\":%llu,\"truncated\":%llu,\"too_big\":%llu",
	       (unsigned long long)r->not_udp, (unsigned long long)r->bad,
	       (unsigned long long)r->too_big);
	for (unsigned int i = 0; i < SIPD_DECAP_SKIP_MAX; i++)
		printf(",\"%s\":%llu", sipd_decap_skip_name(i),
		       (unsigned long long)r->decap_skipped[i]);
	printf("}}\n");
	fflush(stdout);
}

static void replay_usage(FILE *f)
{
	fprintf(f, "usage: sipd replay [-c CONFIG] [--events] [--ports LIST] [--media-ports LO-HI] "
		   "CAPTURE.pcap|.pcapng\n");
}

int sipd_cmd_replay(int argc, char **argv)
{
	enum { O_EVENTS = 256, O_PORTS, O_MEDIA };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"events", no_argument, NULL, O_EVENTS},
		{"ports", required_argument, NULL, O_PORTS},
		{"media-ports", required_argument, NULL, O_MEDIA},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct replay r = {
		.media_lo = SW_MEDIA_LO_DEFAULT, .media_hi = SW_MEDIA_HI_DEFAULT, .prog_fd = -1};
	const char *cfg_path = NULL, *capture;
	struct sipd_config *cfg = NULL;
	char err[512] = "", perr[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *pkt;
	pcap_t *pc = NULL;
	int opt, rc = 1, dlt, n;

	r.maps.pinholes = r.maps.ph_srcs = r.maps.calls = r.maps.stats = r.maps.frags = -1;
	r.maps.config = r.maps.ifaces = -1;
	r.ports.port[0] = SIPD_SIP_PORT_DEFAULT;
	r.ports.n = 1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg_path = optarg;
			break;
		case O_EVENTS:
			r.events = 1;
			break;
		case O_PORTS:
			if (sipd_ports_parse(optarg, &r.ports)) {
				fprintf(stderr,
					"sipd replay: --ports: '%s' is not a list of ports "
					"1-65535\n",
					optarg);
				return 2;
			}
			break;
		case O_MEDIA: {
			unsigned int lo, hi;
			char c;

			if (sscanf(optarg, "%u-%u%c", &lo, &hi, &c) != 2 || !lo || lo > hi ||
			    hi > 65535) {
				fprintf(stderr,
					"sipd replay: --media-ports: '%s' is not LO-HI within "
					"1-65535\n",
					optarg);
				return 2;
			}
			r.media_lo = lo;
			r.media_hi = hi;
			break;
		}
		case 'h':
			replay_usage(stdout);
			return 0;
		default:
			replay_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		replay_usage(stderr);
		return 2;
	}
	capture = argv[optind];

	pc = pcap_open_offline_with_tstamp_precision(capture, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!pc) {
		fprintf(stderr, "sipd replay: %s: %s\n", capture, perr);
		return 1;
	}
	dlt = pcap_datalink(pc);
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		break;
	default:
		fprintf(stderr,
			"sipd replay: %s: link type %s is not supported (Ethernet, Linux cooked, "
			"raw IP, loopback are)\n",
			capture, pcap_datalink_val_to_name(dlt) ?: "?");
		goto out;
	}
	if (cfg_path)
		n = sipd_config_load(cfg_path, &cfg, err, sizeof(err));
	else
		n = sipd_config_default(&cfg);
	if (n) {
		fprintf(stderr, "sipd replay: %s\n", err[0] ? err : strerror(-n));
		goto out;
	}
	/* From before the pin directory exists: a signal during the load still
	 * ends in the cleanup below instead of leaving the directory behind. */
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGHUP, on_stop);
	signal(SIGPIPE, on_stop);
	if (load_datapath(&r) || replay_stop)
		goto out;
	r.ev = sipd_events_open(r.events ? "-" : "/dev/null", err, sizeof(err));
	if (!r.ev) {
		fprintf(stderr, "sipd replay: events: %s\n", err);
		goto out;
	}
	r.reasm = sipd_reasm_new(NULL);
	if (!r.reasm) {
		fprintf(stderr, "sipd replay: fragment reassembly: %s\n", strerror(ENOMEM));
		goto out;
	}
	r.d = sipd_new(cfg, r.pin, r.ev, err, sizeof(err));
	if (!r.d) {
		fprintf(stderr, "sipd replay: %s\n", err[0] ? err : "cannot start");
		goto out;
	}

	while (!replay_stop && (n = pcap_next_ex(pc, &h, &pkt)) == 1)
		one_packet(&r, dlt, h, pkt);
	if (replay_stop) {
		fprintf(stderr, "sipd replay: interrupted after %llu packets\n",
			(unsigned long long)r.packets);
		goto out;
	}
	if (n == PCAP_ERROR) {
		fprintf(stderr, "sipd replay: %s: %s (after %llu packets)\n", capture,
			pcap_geterr(pc), (unsigned long long)r.packets);
		goto out;
	}
	sipd_tick(r.d, r.last_ns);
	sipd_reasm_expire(r.reasm, r.last_ns);
	print_summary(&r, capture);
	rc = 0;
out:
	if (r.d) {
		/* Calls still up at the end of the capture: closed, not leaked. */
		sipd_close_all(r.d, r.last_ns);
		sipd_free(r.d);
	}
	if (r.ev)
		sipd_events_close(r.ev);
	sipd_reasm_free(r.reasm);
	sw_maps_close(&r.maps);
	sipwall__destroy(r.skel);
	unpin_all(&r);
	sipd_config_free(cfg);
	if (pc)
		pcap_close(pc);
	return rc;
}
