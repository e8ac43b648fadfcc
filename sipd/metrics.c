// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd's Prometheus endpoint (see metrics.h). Every scrape reads the pinned
 * maps afresh (verdict counters summed over CPUs, pinhole count and capacity,
 * attached interfaces), sipd's own counters, and the kernel's NFQUEUE table
 * of this network namespace. Bans come from the counts sipd keeps
 * (sipd_get_ban_counts): a scrape never walks sw_bans, whose 65,536 entries
 * took ~50 ms of the packet thread to count. Every label value that can exist is
 * written, zeros included, so a rate() never starts from a missing series.
 */
#define _GNU_SOURCE /* accept4 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "lib/swmap.h"
#include "sipd/config.h"
#include "sipd/control.h"
#include "sipd/guard.h"
#include "sipd/cluster.h"
#include "sipd/metrics.h"
#include "sipd/sipmsg.h"
#include "sipd/source.h"
#include "sipd/stream.h"

#define REQ_MAX		2048 /* a request line and a few headers */
#define CONN_TIMEOUT_NS (2ull * 1000000000ull)
#define NFQ_PROC	"/proc/net/netfilter/nfnetlink_queue"

/* Method label: SIPD_METHODS, then OTHER (extension), then unknown. */
#define M_OTHER	  SIPD_M_MAX
#define M_UNKNOWN (SIPD_M_MAX + 1)
#define M_LABELS  (SIPD_M_MAX + 2)

struct conn {
	int fd; /* -1 = free slot */
	uint64_t deadline_ns;
	char in[REQ_MAX];
	size_t in_len;
	char *out; /* response being written */
	size_t out_len, out_off;
};

struct sipd_metrics {
	int lfd;
	struct sipd *d;
	const struct sipd_control *control; /* NULL: no control listener */
	char pin_root[256];
	char mode[16];
	uint16_t queue, nqueues;
	time_t started;
	struct conn c[SIPD_METRICS_MAX_CONN];
	/* [method][0 request, 1 response][0 dropped, 1 accepted] */
	uint64_t msgs[M_LABELS][2][2];
	uint64_t scrapes;
};

static const char *const ban_names[] = {
#define SW_X_STR(name, str) str,
	SW_BAN_REASONS(SW_X_STR)
#undef SW_X_STR
};

struct sipd_metrics *sipd_metrics_open(const struct sipd_metrics_opts *o, struct sipd *d, char *err,
				       size_t errlen)
{
	struct sipd_metrics *m;
	struct sockaddr_storage ss;
	unsigned int sl;
	int one = 1;

	if (sipd_listen_parse(o->listen, o->allow_remote, &ss, &sl, err, errlen))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->d = d;
	m->queue = o->queue;
	m->nqueues = o->nqueues;
	m->started = time(NULL);
	snprintf(m->pin_root, sizeof(m->pin_root), "%s",
		 o->pin_root ? o->pin_root : SW_PIN_ROOT_DEFAULT);
	snprintf(m->mode, sizeof(m->mode), "%s", o->mode ? o->mode : "inline");
	for (int i = 0; i < SIPD_METRICS_MAX_CONN; i++)
		m->c[i].fd = -1;
	m->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0) {
		snprintf(err, errlen, "metrics: socket: %s", strerror(errno));
		free(m);
		return NULL;
	}
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(m->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(m->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(m->lfd, 16) < 0) {
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", o->listen,
			 strerror(errno));
		close(m->lfd);
		free(m);
		return NULL;
	}
	return m;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
}

void sipd_metrics_set_control(struct sipd_metrics *m, const struct sipd_control *ctl)
{
	if (m)
		m->control = ctl;
}

void sipd_metrics_close(struct sipd_metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < SIPD_METRICS_MAX_CONN; i++)
		conn_close(&m->c[i]);
	if (m->lfd >= 0)
		close(m->lfd);
	free(m);
}

/* --- per-message counters --- */

static unsigned int method_label(const char *s, size_t n)
{
	char tok[32];
	int i;

	if (!n || n >= sizeof(tok))
		return M_UNKNOWN;
	memcpy(tok, s, n);
	tok[n] = '\0';
	for (size_t k = 0; k < n; k++)
		if (!isalpha((unsigned char)tok[k]) && tok[k] != '-' && tok[k] != '_')
			return M_UNKNOWN;
	i = sipd_method_parse(tok);
	return i < 0 || i >= SIPD_M_MAX ? M_OTHER : (unsigned int)i;
}

/* The method a response answers: the token after the number in CSeq. */
static unsigned int cseq_method(const char *p, size_t n)
{
	const char *end = p + n, *l = p;

	while (l < end) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		size_t ll = eol ? (size_t)(eol - l) : (size_t)(end - l);

		if (ll == 0 || (ll == 1 && l[0] == '\r'))
			break; /* end of headers */
		if (ll > 5 && !strncasecmp(l, "CSeq", 4)) {
			const char *q = l + 4, *le = l + ll, *t;

			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			if (q < le && *q == ':') {
				q++;
				while (q < le && (*q == ' ' || *q == '\t'))
					q++;
				while (q < le && isdigit((unsigned char)*q))
					q++;
				while (q < le && (*q == ' ' || *q == '\t'))
					q++;
				for (t = q; t < le && !isspace((unsigned char)*t); t++)
					;
				return method_label(q, (size_t)(t - q));
			}
		}
		if (!eol)
			break;
		l = eol + 1;
	}
	return M_UNKNOWN;
}

void sipd_metrics_observe(struct sipd_metrics *m, const uint8_t *ip, size_t len,
			  enum sipd_verdict v)
{
	struct sipd_udp_view uv;
	unsigned int meth = M_UNKNOWN, resp = 0;

	if (!m)
		return;
	if (sipd_udp_view(ip, len, &uv))
		uv.payload = NULL;
	else if (v == SIPD_ACCEPT && sipmsg_keepalive(uv.payload, uv.payload ? uv.payload_len : 0))
		return; /* not a SIP message: sipd_keepalives_total */
	if (uv.payload && uv.payload_len) {
		const char *p = (const char *)uv.payload;
		size_t n = uv.payload_len;
		const char *sp = memchr(p, ' ', n < 32 ? n : 32);

		if (n > 8 && !memcmp(p, "SIP/2.0 ", 8)) {
			resp = 1;
			meth = cseq_method(p, n);
		} else if (sp) {
			meth = method_label(p, (size_t)(sp - p));
		}
	}
	m->msgs[meth][resp][v == SIPD_ACCEPT]++;
}

/* --- rendering --- */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void __attribute__((format(printf, 2, 3))) bp(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n + 1;
		char *np = realloc(b->p, cap);

		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	bp(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int count_ifaces(const struct sw_iface_info *info, void *ctx)
{
	(void)info;
	(*(unsigned int *)ctx)++;
	return 0;
}

static void render_nfq(struct sipd_metrics *m, struct buf *b)
{
	uint64_t waiting[64] = {0}, full[64] = {0}, nl[64] = {0};
	unsigned int nq = m->nqueues > 64 ? 64 : m->nqueues;
	char line[256];
	FILE *f;

	if (!nq)
		return;
	f = fopen(NFQ_PROC, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned int qn, portid, total, mode, range, qdrop, udrop, seq;

		if (sscanf(line, "%u %u %u %u %u %u %u %u", &qn, &portid, &total, &mode, &range,
			   &qdrop, &udrop, &seq) != 8)
			continue;
		if (qn < m->queue || qn >= (unsigned int)m->queue + nq)
			continue;
		waiting[qn - m->queue] = total;
		full[qn - m->queue] = qdrop;
		nl[qn - m->queue] = udrop;
	}
	if (f)
		fclose(f);
	family(b, "sipd_nfqueue_packets_waiting", "gauge",
	       "Packets in the kernel queue waiting for a verdict.");
	for (unsigned int i = 0; i < nq; i++)
		bp(b, "sipd_nfqueue_packets_waiting{queue=\"%u\"} %llu\n", m->queue + i,
		   (unsigned long long)waiting[i]);
	family(b, "sipd_nfqueue_dropped_total", "counter",
	       "Packets the kernel dropped (or passed, fail-open) without asking sipd: queue "
	       "full, or the netlink socket could not take them.");
	for (unsigned int i = 0; i < nq; i++) {
		bp(b, "sipd_nfqueue_dropped_total{queue=\"%u\",cause=\"queue_full\"} %llu\n",
		   m->queue + i, (unsigned long long)full[i]);
		bp(b, "sipd_nfqueue_dropped_total{queue=\"%u\",cause=\"netlink\"} %llu\n",
		   m->queue + i, (unsigned long long)nl[i]);
	}
}

/* Replication (cluster.c): present only when the cluster is on. */
static void render_cluster(struct sipd_cluster *cl, struct buf *b)
{
	struct sipd_cluster_stats cs;
	char name[96];

	if (!cl)
		return;
	sipd_cluster_get_stats(cl, &cs);
	family(b, "sipd_cluster_connected", "gauge",
	       "1 while both replication connections to Redis are up.");
	bp(b, "sipd_cluster_connected{node=\"%s\"} %d\n", cs.node_id,
	   cs.writer_connected && cs.reader_connected);
	family(b, "sipd_cluster_queue_depth", "gauge", "Records waiting to go to Redis.");
	bp(b, "sipd_cluster_queue_depth %llu\n", (unsigned long long)cs.queue_depth);
	family(b, "sipd_cluster_remote_pinholes", "gauge",
	       "Pinholes in this node's map that another node owns.");
	bp(b, "sipd_cluster_remote_pinholes %llu\n", (unsigned long long)cs.remote_pinholes);
	family(b, "sipd_cluster_owners_alive", "gauge", "Other nodes whose heartbeat key is live.");
	bp(b, "sipd_cluster_owners_alive %llu\n", (unsigned long long)cs.owners_alive);
	family(b, "sipd_cluster_last_resync_ms", "gauge", "Duration of the last snapshot resync.");
	bp(b, "sipd_cluster_last_resync_ms %llu\n", (unsigned long long)cs.last_resync_ms);
	for (unsigned int i = 0; i < SIPD_CL_MAX; i++) {
		snprintf(name, sizeof(name), "sipd_cluster_%s_total", sipd_cluster_counter_name(i));
		family(b, name, "counter", sipd_cluster_counter_help(i));
		if (i == SIPD_CL_bad_records) {
			for (unsigned int e = 1; e < CLREC_E_MAX; e++)
				bp(b, "%s{reason=\"%s\"} %llu\n", name, clrec_err_name(e),
				   (unsigned long long)cs.bad_by_reason[e]);
			continue;
		}
		bp(b, "%s %llu\n", name, (unsigned long long)cs.c[i]);
	}
}

char *sipd_metrics_render(struct sipd_metrics *m, size_t *len)
{
	struct buf b = {.cap = 16384};
	struct sipd_stats st;
	struct sw_maps maps;
	struct sw_stat xs[SW_R_MAX];
	struct sw_config cfg;
	struct sipd_ban_counts bc;
	struct sipd_guard_stats gs;
	unsigned int nif = 0, maxph = 0;
	uint64_t ph = 0;
	int maps_ok, stats_ok = 0, ph_ok = 0;

	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	m->scrapes++;
	sipd_get_stats(m->d, &st);
	maps_ok = !sw_maps_open(m->pin_root, &maps);
	if (maps_ok) {
		struct bpf_map_info info = {0};
		__u32 il = sizeof(info);

		stats_ok = !sw_stats_read(&maps, xs);
		ph_ok = !sipd_get_map_pinholes(m->d, &ph);
		if (!bpf_obj_get_info_by_fd(maps.pinholes, &info, &il))
			maxph = info.max_entries;
		else if (!sw_config_read(&maps, &cfg))
			maxph = cfg.max_pinholes;
		sw_iface_foreach(&maps, count_ifaces, &nif);
		sw_maps_close(&maps);
	}
	sipd_get_ban_counts(m->d, &bc);
	sipd_get_guard_stats(m->d, &gs);

	family(&b, "sipwall_build_info", "gauge", "sipwall version and map schema; always 1.");
	bp(&b, "sipwall_build_info{version=\"%s\",schema=\"%u\",mode=\"%s\"} 1\n", SIPWALL_VERSION,
	   SW_SCHEMA_VERSION, m->mode);
	family(&b, "sipd_start_time_seconds", "gauge", "When this sipd started (Unix time).");
	bp(&b, "sipd_start_time_seconds %lld\n", (long long)m->started);
	family(&b, "sipwall_maps_up", "gauge",
	       "1 when the pinned maps could be read at this scrape, else 0.");
	bp(&b, "sipwall_maps_up %d\n", maps_ok && stats_ok && ph_ok);

	if (stats_ok) {
		family(&b, "sipwall_xdp_packets_total", "counter",
		       "Packets judged by the XDP/TC programs, by verdict reason, summed over "
		       "CPUs.");
		for (unsigned int r = 0; r < SW_R_MAX; r++)
			bp(&b, "sipwall_xdp_packets_total{reason=\"%s\"} %llu\n", sw_reason_name(r),
			   (unsigned long long)xs[r].packets);
		family(&b, "sipwall_xdp_bytes_total", "counter",
		       "L3 bytes judged by the XDP/TC programs, by verdict reason.");
		for (unsigned int r = 0; r < SW_R_MAX; r++)
			bp(&b, "sipwall_xdp_bytes_total{reason=\"%s\"} %llu\n", sw_reason_name(r),
			   (unsigned long long)xs[r].bytes);
	}
	if (ph_ok) {
		family(&b, "sipwall_pinholes_open", "gauge",
		       "Entries in the pinhole map (calls' and manual ones).");
		bp(&b, "sipwall_pinholes_open %llu\n", (unsigned long long)ph);
		family(&b, "sipwall_pinholes_max", "gauge", "Capacity of the pinhole map.");
		bp(&b, "sipwall_pinholes_max %u\n", maxph);
		family(&b, "sipwall_pinhole_map_fill_ratio", "gauge",
		       "sipwall_pinholes_open / sipwall_pinholes_max.");
		bp(&b, "sipwall_pinhole_map_fill_ratio %.6f\n", maxph ? (double)ph / maxph : 0.0);
	}
	if (maps_ok) {
		family(&b, "sipwall_interfaces_attached", "gauge",
		       "Interfaces the data path is attached to (sw_ifaces).");
		bp(&b, "sipwall_interfaces_attached %u\n", nif);
	}
	family(&b, "sipwall_bans_active", "gauge",
	       "Unexpired entries in the ban list, by ban reason (0 without a ban list), as "
	       "sipd last counted them.");
	for (unsigned int r = 0; r < SW_BAN_MAX; r++)
		bp(&b, "sipwall_bans_active{reason=\"%s\"} %llu\n", ban_names[r],
		   (unsigned long long)bc.active[r]);
	family(&b, "sipwall_bans_max", "gauge", "Capacity of the ban list (0 without one).");
	bp(&b, "sipwall_bans_max %llu\n", (unsigned long long)bc.capacity);
	family(&b, "sipd_ban_list_walks_total", "counter",
	       "Finished walks of the ban list (a bounded step each second).");
	bp(&b, "sipd_ban_list_walks_total %llu\n", (unsigned long long)bc.walks);
	family(&b, "sipd_bans_total", "counter", "Bans sipd's guard wrote, by ban reason.");
	for (unsigned int r = 0; r < SW_BAN_MAX; r++)
		bp(&b, "sipd_bans_total{reason=\"%s\"} %llu\n", ban_names[r],
		   (unsigned long long)gs.bans[r]);
	family(&b, "sipd_bans_refused_total", "counter",
	       "Ban triggers that fired without a ban: valuable_source (live calls or a "
	       "peer network), rate (guard.max_bans_per_s), headroom (ban list too full), "
	       "trusted.");
	for (unsigned int r = 0; r < SIPD_BAN_REFUSAL_MAX; r++)
		bp(&b, "sipd_bans_refused_total{cause=\"%s\"} %llu\n", sipd_ban_refusal_name(r),
		   (unsigned long long)gs.refused[r]);
	bp(&b, "sipd_bans_refused_total{cause=\"trusted\"} %llu\n",
	   (unsigned long long)gs.trusted_spared);
	family(&b, "sipd_ban_errors_total", "counter", "Ban map writes that failed.");
	bp(&b, "sipd_ban_errors_total %llu\n", (unsigned long long)gs.ban_errors);
	family(&b, "sipd_bans_lifted_total", "counter",
	       "sipd's own bans lifted because the ban list no longer held them (sipwall ban "
	       "del).");
	bp(&b, "sipd_bans_lifted_total %llu\n", (unsigned long long)gs.bans_lifted);

	family(&b, "sipd_calls_active", "gauge", "Calls (dialogs) sipd tracks now.");
	bp(&b, "sipd_calls_active %llu\n", (unsigned long long)st.calls_active);
	family(&b, "sipd_calls_total", "counter",
	       "Calls by how they entered or left sipd's table.");
	bp(&b, "sipd_calls_total{event=\"started\"} %llu\n", (unsigned long long)st.calls_started);
	bp(&b, "sipd_calls_total{event=\"adopted\"} %llu\n", (unsigned long long)st.calls_adopted);
	bp(&b, "sipd_calls_total{event=\"ended\"} %llu\n", (unsigned long long)st.calls_ended);
	bp(&b, "sipd_calls_total{event=\"unanswered\"} %llu\n",
	   (unsigned long long)st.calls_unanswered);
	bp(&b, "sipd_calls_total{event=\"evicted\"} %llu\n", (unsigned long long)st.calls_evicted);
	family(&b, "sipd_transactions_active", "gauge",
	       "Requests sipd let through whose responses it still accepts.");
	bp(&b, "sipd_transactions_active %llu\n", (unsigned long long)st.transactions_active);
	family(&b, "sipd_transactions_refused_total", "counter",
	       "Requests dropped because the transaction table or a source's share was full.");
	bp(&b, "sipd_transactions_refused_total %llu\n",
	   (unsigned long long)st.transactions_refused);
	family(&b, "sipd_responses_unmatched_total", "counter",
	       "Responses matching no request sipd let through (dropped or passed, "
	       "security.unmatched_responses).");
	bp(&b, "sipd_responses_unmatched_total %llu\n", (unsigned long long)st.responses_unmatched);
	family(&b, "sipd_media_refused_total", "counter",
	       "SDP streams given no pinhole because of the address they name (the message "
	       "passed).");
	bp(&b, "sipd_media_refused_total{reason=\"%s\"} %llu\n",
	   sw_sip_reason_name(SW_SIP_R_BAD_MEDIA_ADDRESS),
	   (unsigned long long)st.media_refused[SW_SIP_R_BAD_MEDIA_ADDRESS]);
	bp(&b, "sipd_media_refused_total{reason=\"%s\"} %llu\n",
	   sw_sip_reason_name(SW_SIP_R_WRONG_SIDE),
	   (unsigned long long)st.media_refused[SW_SIP_R_WRONG_SIDE]);
	family(&b, "sipd_requests_ignored_total", "counter",
	       "Requests passed but believed in nothing: not from the party or dialog their tags "
	       "claim (made-up tags, another source's CANCEL or INVITE).");
	bp(&b, "sipd_requests_ignored_total %llu\n", (unsigned long long)st.requests_ignored);
	family(&b, "sipd_offer_open_failed_total", "counter",
	       "Offers whose media.open_at_offer pinholes could not be had (they passed).");
	bp(&b, "sipd_offer_open_failed_total %llu\n", (unsigned long long)st.offer_open_failed);
	family(&b, "sipd_spoof_check_interfaces", "gauge",
	       "Interfaces sipd knows face the inside (an inside source elsewhere is spoofed).");
	bp(&b, "sipd_spoof_check_interfaces %llu\n", (unsigned long long)st.spoof_check_interfaces);
	family(&b, "sipd_pinholes_active", "gauge", "Pinholes owned by sipd's calls.");
	bp(&b, "sipd_pinholes_active %llu\n", (unsigned long long)st.pinholes_active);
	family(&b, "sipd_pinhole_changes_total", "counter", "Pinhole map writes by kind.");
	bp(&b, "sipd_pinhole_changes_total{change=\"opened\"} %llu\n",
	   (unsigned long long)st.pinholes_opened);
	bp(&b, "sipd_pinhole_changes_total{change=\"updated\"} %llu\n",
	   (unsigned long long)st.pinholes_updated);
	bp(&b, "sipd_pinhole_changes_total{change=\"closed\"} %llu\n",
	   (unsigned long long)st.pinholes_closed);
	bp(&b, "sipd_pinhole_changes_total{change=\"shared\"} %llu\n",
	   (unsigned long long)st.pinholes_shared);
	bp(&b, "sipd_pinhole_changes_total{change=\"taken_over\"} %llu\n",
	   (unsigned long long)st.pinholes_taken_over);
	family(&b, "sipd_map_errors_total", "counter", "Failed pinhole map writes.");
	bp(&b, "sipd_map_errors_total %llu\n", (unsigned long long)st.map_errors);

	family(&b, "sipd_sip_messages_total", "counter",
	       "SIP datagrams judged by sipd, by method (a response by its CSeq method), "
	       "kind and verdict.");
	for (unsigned int i = 0; i < M_LABELS; i++) {
		const char *name = i < SIPD_M_MAX ? sipd_method_name(i)
				   : i == M_OTHER ? "OTHER"
						  : "unknown";

		for (unsigned int k = 0; k < 2; k++)
			for (unsigned int v = 0; v < 2; v++)
				bp(&b,
				   "sipd_sip_messages_total{method=\"%s\",kind=\"%s\",verdict=\"%"
				   "s\"} "
				   "%llu\n",
				   name, k ? "response" : "request", v ? "accepted" : "dropped",
				   (unsigned long long)m->msgs[i][k][v]);
	}
	family(&b, "sipd_keepalives_total", "counter",
	       "Keep-alive datagrams on the SIP ports (CRLFs, RFC 5626 3.5.1; STUN Binding), "
	       "passed without parsing; not in sipd_sip_messages_total.");
	bp(&b, "sipd_keepalives_total{kind=\"crlf\"} %llu\n",
	   (unsigned long long)(st.keepalives - st.keepalives_stun));
	bp(&b, "sipd_keepalives_total{kind=\"stun\"} %llu\n",
	   (unsigned long long)st.keepalives_stun);
	{
		struct sipd_stream_stats ts;

		sipd_get_stream_stats(m->d, &ts);
		family(&b, "sipd_tcp_segments_total", "counter",
		       "TCP segments with payload on the SIP and WebSocket ports, by what became "
		       "of them in the reassembly.");
		bp(&b, "sipd_tcp_segments_total{kind=\"all\"} %llu\n",
		   (unsigned long long)ts.segments);
		bp(&b, "sipd_tcp_segments_total{kind=\"retransmit\"} %llu\n",
		   (unsigned long long)ts.retransmits);
		bp(&b, "sipd_tcp_segments_total{kind=\"out_of_order\"} %llu\n",
		   (unsigned long long)ts.out_of_order);
		bp(&b, "sipd_tcp_segments_total{kind=\"unverified\"} %llu\n",
		   (unsigned long long)ts.unverified);
		bp(&b, "sipd_tcp_segments_total{kind=\"rejected\"} %llu\n",
		   (unsigned long long)ts.rejected);
		family(&b, "sipd_tcp_messages_total", "counter",
		       "SIP messages framed from TCP streams (transport tcp) and WebSocket "
		       "messages (ws).");
		bp(&b, "sipd_tcp_messages_total{transport=\"tcp\"} %llu\n",
		   (unsigned long long)(ts.messages - ts.ws_messages));
		bp(&b, "sipd_tcp_messages_total{transport=\"ws\"} %llu\n",
		   (unsigned long long)ts.ws_messages);
		family(&b, "sipd_tcp_gave_up_total", "counter",
		       "Stream bytes or connections given up by the reassembly, by reason "
		       "(sipd/stream.h).");
		for (unsigned int i = 0; i < SIPD_STREAM_GIVEUP_MAX; i++)
			bp(&b, "sipd_tcp_gave_up_total{reason=\"%s\"} %llu\n",
			   sipd_stream_giveup_name(i), (unsigned long long)ts.gave_up[i]);
		family(&b, "sipd_tcp_resync_octets_total", "counter",
		       "Octets skipped looking for a SIP start line.");
		bp(&b, "sipd_tcp_resync_octets_total %llu\n", (unsigned long long)ts.resync_octets);
		family(&b, "sipd_tcp_connections", "gauge", "TCP connections tracked.");
		bp(&b, "sipd_tcp_connections %llu\n", (unsigned long long)ts.conns);
		family(&b, "sipd_tcp_buffered_bytes", "gauge",
		       "Bytes held by the reassembly (unframed, out of order, kept).");
		bp(&b, "sipd_tcp_buffered_bytes %llu\n", (unsigned long long)ts.bytes_held);
		family(&b, "sipd_tcp_resets_total", "counter",
		       "Connections reset after their dropped message kept being retransmitted.");
		bp(&b, "sipd_tcp_resets_total %llu\n", (unsigned long long)st.tcp_resets);
		family(&b, "sipd_uninspectable_connections_total", "counter",
		       "Connections opened to SIP ports sipd cannot inspect (TLS, WSS); their "
		       "calls "
		       "get pinholes only through the control API.");
		bp(&b, "sipd_uninspectable_connections_total{transport=\"tls\"} %llu\n",
		   (unsigned long long)st.uninspectable[0]);
		bp(&b, "sipd_uninspectable_connections_total{transport=\"wss\"} %llu\n",
		   (unsigned long long)st.uninspectable[1]);
		family(&b, "sipd_uninspectable_peers_total", "counter",
		       "Distinct peers seen opening such connections.");
		bp(&b, "sipd_uninspectable_peers_total %llu\n",
		   (unsigned long long)st.uninspectable_peers);
	}
	if (m->control) {
		struct sipd_control_stats cs;

		sipd_control_get_stats(m->control, &cs);
		family(&b, "sipd_control_requests_total", "counter",
		       "rtpengine ng requests from controllers, by command.");
		for (unsigned int i = 1; i < SIPD_NG_CMD_MAX; i++)
			bp(&b, "sipd_control_requests_total{command=\"%s\"} %llu\n",
			   sipd_ng_cmd_name(i), (unsigned long long)cs.ng.commands[i]);
		family(&b, "sipd_control_refused_total", "counter",
		       "Offers and answers refused (error replies: a relay's feature, a limit, "
		       "bad SDP).");
		bp(&b, "sipd_control_refused_total %llu\n", (unsigned long long)cs.refused);
		family(&b, "sipd_control_dropped_total", "counter",
		       "Control datagrams dropped unanswered, by reason.");
		bp(&b, "sipd_control_dropped_total{reason=\"not_a_controller\"} %llu\n",
		   (unsigned long long)cs.ng.dropped_unauthorised);
		bp(&b, "sipd_control_dropped_total{reason=\"bad_cookie\"} %llu\n",
		   (unsigned long long)cs.ng.dropped_bad_cookie);
		family(&b, "sipd_control_errors_total", "counter",
		       "Control requests answered with an error, by kind.");
		bp(&b, "sipd_control_errors_total{kind=\"decode\"} %llu\n",
		   (unsigned long long)cs.ng.err_decode);
		bp(&b, "sipd_control_errors_total{kind=\"request\"} %llu\n",
		   (unsigned long long)cs.ng.err_request);
		bp(&b, "sipd_control_errors_total{kind=\"unknown_command\"} %llu\n",
		   (unsigned long long)cs.ng.err_unknown_command);
		bp(&b, "sipd_control_errors_total{kind=\"handler\"} %llu\n",
		   (unsigned long long)cs.ng.err_handler);
		family(&b, "sipd_control_cache_hits_total", "counter",
		       "Retransmitted requests answered from the reply cache.");
		bp(&b, "sipd_control_cache_hits_total %llu\n",
		   (unsigned long long)cs.ng.cache_hits);
	}
	family(&b, "sipd_sip_drops_total", "counter", "SIP messages dropped, by reason.");
	for (unsigned int r = 1; r < SW_SIP_R_MAX; r++)
		bp(&b, "sipd_sip_drops_total{reason=\"%s\"} %llu\n", sw_sip_reason_name(r),
		   (unsigned long long)st.dropped[r]);
	render_nfq(m, &b);
	render_cluster(sipd_get_cluster(m->d), &b);
	family(&b, "sipd_metrics_scrapes_total", "counter", "Scrapes of this endpoint.");
	bp(&b, "sipd_metrics_scrapes_total %llu\n", (unsigned long long)m->scrapes);

	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* --- HTTP --- */

static int is_ready(struct sipd_metrics *m)
{
	struct sw_maps maps;
	unsigned int nif = 0;

	if (sw_maps_open(m->pin_root, &maps))
		return 0;
	sw_iface_foreach(&maps, count_ifaces, &nif);
	sw_maps_close(&maps);
	return nif > 0;
}

static void respond(struct conn *c, int code, const char *ctype, const char *body, size_t blen,
		    int head)
{
	const char *status = code == 200   ? "OK"
			     : code == 400 ? "Bad Request"
			     : code == 404 ? "Not Found"
			     : code == 405 ? "Method Not Allowed"
			     : code == 500 ? "Internal Server Error"
					   : "Service Unavailable";
	char hdr[256];
	int hl;

	hl = snprintf(hdr, sizeof(hdr),
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Connection: close\r\n%s\r\n",
		      code, status, ctype, blen, code == 405 ? "Allow: GET, HEAD\r\n" : "");
	c->out_len = (size_t)hl + (head ? 0 : blen);
	c->out = malloc(c->out_len);
	if (!c->out) {
		conn_close(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)hl);
	if (!head)
		memcpy(c->out + hl, body, blen);
	c->out_off = 0;
}

static void handle_request(struct sipd_metrics *m, struct conn *c)
{
	static const char text[] = "text/plain; charset=utf-8";
	char method[8], path[128];
	char *sp1, *sp2, *eol;
	int head;

	eol = memchr(c->in, '\n', c->in_len);
	sp1 = memchr(c->in, ' ', c->in_len);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(c->in + c->in_len - sp1 - 1)) : NULL;
	if (!eol || !sp1 || !sp2 || sp2 > eol || (size_t)(sp1 - c->in) >= sizeof(method) ||
	    (size_t)(sp2 - sp1 - 1) >= sizeof(path) || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		respond(c, 400, text, "bad request\n", 12, 0);
		return;
	}
	memcpy(method, c->in, (size_t)(sp1 - c->in));
	method[sp1 - c->in] = '\0';
	memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	path[sp2 - sp1 - 1] = '\0';
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		respond(c, 405, text, "use GET\n", 8, 0);
		return;
	}
	head = !strcmp(method, "HEAD");
	path[strcspn(path, "?")] = '\0';
	if (!strcmp(path, "/metrics") || !strcmp(path, "/")) {
		size_t len;
		char *body = sipd_metrics_render(m, &len);

		if (!body) {
			respond(c, 500, text, "out of memory\n", 14, head);
			return;
		}
		respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, head);
		free(body);
	} else if (!strcmp(path, "/healthz")) {
		respond(c, 200, text, "ok\n", 3, head);
	} else if (!strcmp(path, "/readyz")) {
		if (is_ready(m))
			respond(c, 200, text, "ready\n", 6, head);
		else
			respond(c, 503, text,
				"not ready: maps not pinned or no interface attached\n", 52, head);
	} else {
		respond(c, 404, text, "not found (/metrics, /healthz, /readyz)\n", 40, head);
	}
}

unsigned int sipd_metrics_fill(struct sipd_metrics *m, struct pollfd *p, unsigned int max)
{
	unsigned int n = 0, free_slot = 0;

	if (!m || !max)
		return 0;
	for (int i = 0; i < SIPD_METRICS_MAX_CONN; i++)
		if (m->c[i].fd < 0)
			free_slot = 1;
	/* With every slot busy the listener waits (backlog) instead of spinning. */
	p[n++] = (struct pollfd){.fd = free_slot ? m->lfd : -1, .events = POLLIN};
	for (int i = 0; i < SIPD_METRICS_MAX_CONN && n < max; i++) {
		if (m->c[i].fd < 0)
			continue;
		p[n++] =
			(struct pollfd){.fd = m->c[i].fd, .events = m->c[i].out ? POLLOUT : POLLIN};
	}
	return n;
}

static void conn_io(struct sipd_metrics *m, struct conn *c)
{
	ssize_t r;

	if (!c->out) {
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (r < 0)
			return;
		c->in_len += (size_t)r;
		c->in[c->in_len] = '\0';
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n"))
			handle_request(m, c);
		else if (c->in_len == sizeof(c->in) - 1)
			respond(c, 400, "text/plain; charset=utf-8", "request too large\n", 18, 0);
		if (c->fd < 0 || !c->out)
			return;
	}
	r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		conn_close(c);
		return;
	}
	c->out_off += (size_t)r;
	if (c->out_off == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c);
	}
}

void sipd_metrics_service(struct sipd_metrics *m, const struct pollfd *p, unsigned int n)
{
	uint64_t now = sw_monotonic_ns();

	if (!m)
		return;
	for (unsigned int k = 1; k < n; k++) {
		if (!p[k].revents)
			continue;
		for (int i = 0; i < SIPD_METRICS_MAX_CONN; i++)
			if (m->c[i].fd == p[k].fd)
				conn_io(m, &m->c[i]);
	}
	/* Slow or silent clients go; the packet loop never waits for them. */
	for (int i = 0; i < SIPD_METRICS_MAX_CONN; i++)
		if (m->c[i].fd >= 0 && now > m->c[i].deadline_ns)
			conn_close(&m->c[i]);
	if (n && (p[0].revents & POLLIN)) {
		for (int i = 0; i < SIPD_METRICS_MAX_CONN; i++) {
			struct conn *c = &m->c[i];
			int fd;

			if (c->fd >= 0)
				continue;
			fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				break;
			c->fd = fd;
			c->in_len = 0;
			c->deadline_ns = now + CONN_TIMEOUT_NS;
			/* Most requests are already there: answer in this round. */
			conn_io(m, c);
		}
	}
}
