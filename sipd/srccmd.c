// SPDX-License-Identifier: GPL-2.0-only
/*
 * The subcommands that own a packet source: `sipd run` (inline NFQUEUE or
 * --passive IFACE), `sipd rules`, `sipd replay`. main.c dispatches to these;
 * they parse their own options and wire the source to sipd_handle_packet().
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/swmap.h"
#include "sipd/config.h"
#include "sipd/control.h"
#include "sipd/metrics.h"
#include "sipd/cluster.h"
#include "sipd/sipd.h"
#include "sipd/source.h"
#include "sipd/srccmd.h"

struct daemon_ctx {
	struct sipd *d;
	const char *cfg_path;
	struct sipd_metrics *metrics; /* NULL = endpoint off */
	struct sipd_control *control; /* NULL = no control listener */
	unsigned int n_metrics_fds;   /* of the last aux_fill */
	char status_path[512];	      /* "" = not written */
	int status_err;		      /* last error reported */
};

/* The metrics see every verdict, under sipd's lock like the rest (a no-op
 * with one thread). */
static enum sipd_verdict observed(struct daemon_ctx *c, const uint8_t *ip, size_t len,
				  enum sipd_verdict v)
{
	if (!c->metrics)
		return v;
	sipd_lock(c->d);
	sipd_metrics_observe(c->metrics, ip, len, v);
	sipd_unlock(c->d);
	return v;
}

static enum sipd_verdict sink_handle(void *ctx, const uint8_t *ip, size_t len,
				     const struct sipd_pkt_meta *meta, uint64_t now_ns,
				     enum sw_sip_reason *why)
{
	struct daemon_ctx *c = ctx;

	return observed(c, ip, len, sipd_handle_packet_meta(c->d, ip, len, meta, now_ns, why));
}

/* Worker threads (queue.workers > 1): each its own sipd_worker. */
struct worker_ctx {
	struct daemon_ctx *c;
	struct sipd_worker *w;
};

static void *sink_worker_new(void *ctx)
{
	struct daemon_ctx *c = ctx;
	struct worker_ctx *wc = calloc(1, sizeof(*wc));

	if (!wc)
		return NULL;
	wc->c = c;
	wc->w = sipd_worker_new(c->d);
	if (!wc->w) {
		free(wc);
		return NULL;
	}
	return wc;
}

static void sink_worker_free(void *wctx)
{
	struct worker_ctx *wc = wctx;

	sipd_worker_free(wc->w);
	free(wc);
}

static enum sipd_verdict sink_handle_worker(void *wctx, const uint8_t *ip, size_t len,
					    const struct sipd_pkt_meta *meta, uint64_t now_ns,
					    enum sw_sip_reason *why)
{
	struct worker_ctx *wc = wctx;

	return observed(wc->c, ip, len, sipd_worker_handle(wc->w, ip, len, meta, now_ns, why));
}

static void sink_lock(void *ctx)
{
	sipd_lock(((struct daemon_ctx *)ctx)->d);
}

static void sink_unlock(void *ctx)
{
	sipd_unlock(((struct daemon_ctx *)ctx)->d);
}

/* The metrics endpoint's descriptors first, then the control listener's. */
static unsigned int aux_fill(void *ctx, struct pollfd *p, unsigned int max)
{
	struct daemon_ctx *c = ctx;
	unsigned int n = sipd_metrics_fill(c->metrics, p, max);

	c->n_metrics_fds = n;
	return n + sipd_control_fill(c->control, p + n, max - n);
}

static void aux_service(void *ctx, const struct pollfd *p, unsigned int n)
{
	struct daemon_ctx *c = ctx;
	unsigned int m = c->n_metrics_fds < n ? c->n_metrics_fds : n;

	sipd_metrics_service(c->metrics, p, m);
	sipd_control_service(c->control, p + m, n - m);
}

static void sink_tick(void *ctx, uint64_t now_ns)
{
	struct daemon_ctx *c = ctx;

	sipd_tick(c->d, now_ns);
	sipd_flush(c->d);
	if (c->status_path[0]) {
		int err = sipd_write_status(c->d, c->status_path, (long)getpid());

		if (err && err != c->status_err)
			fprintf(stderr,
				"sipd: writing %s: %s (sipwall status will not show sipd)\n",
				c->status_path, strerror(-err));
		c->status_err = err;
	}
}

static void sink_flush(void *ctx)
{
	sipd_flush(((struct daemon_ctx *)ctx)->d);
}

static int sink_reload(void *ctx)
{
	struct daemon_ctx *c = ctx;
	struct sipd_config *cfg = NULL;
	char err[512] = "";
	int rc;

	if (!c->cfg_path)
		return 0; /* built-in defaults: nothing to re-read */
	rc = sipd_config_load(c->cfg_path, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sipd: reload: %s\n", err);
		return rc;
	}
	rc = sipd_reload(c->d, cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "sipd: reload: %s\n", err);
	sipd_config_free(cfg);
	return rc;
}

static int parse_u16(const char *what, const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > 65535) {
		fprintf(stderr, "sipd: %s: '%s' is not a number 0-65535\n", what, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int load_config(const char *path, struct sipd_config **cfg)
{
	char err[512] = "";
	int rc;

	if (path)
		rc = sipd_config_load(path, cfg, err, sizeof(err));
	else
		rc = sipd_config_default(cfg);
	if (rc) {
		fprintf(stderr, "sipd: %s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	return 0;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: sipd run [-c CONFIG] [--pin-path P] [--queue N] [--queues N]\n"
		"                [--workers N] [--fail-open|--fail-closed] [--tick-ms MS]\n"
		"                [--busy-poll US]\n"
		"                [--close-on-exit] [-v]\n"
		"       sipd run --passive IFACE [-c CONFIG] [--ports LIST] [--pin-path P] [-v]\n");
}

int sipd_cmd_run(int argc, char **argv)
{
	enum {
		O_PIN = 256,
		O_QUEUE,
		O_QUEUES,
		O_FOPEN,
		O_FCLOSED,
		O_TICK,
		O_BUSY,
		O_PASSIVE,
		O_PORTS,
		O_CLOSE,
		O_WORKERS
	};
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"pin-path", required_argument, NULL, O_PIN},
		{"queue", required_argument, NULL, O_QUEUE},
		{"queues", required_argument, NULL, O_QUEUES},
		{"fail-open", no_argument, NULL, O_FOPEN},
		{"fail-closed", no_argument, NULL, O_FCLOSED},
		{"tick-ms", required_argument, NULL, O_TICK},
		{"busy-poll", required_argument, NULL, O_BUSY},
		{"passive", required_argument, NULL, O_PASSIVE},
		{"ports", required_argument, NULL, O_PORTS},
		{"close-on-exit", no_argument, NULL, O_CLOSE},
		{"workers", required_argument, NULL, O_WORKERS},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *cfg_path = NULL, *pin = NULL, *passive = NULL;
	int fail_open = -1, verbose = 1, close_on_exit = 0, opt, rc;
	int have_queue = 0, have_queues = 0;
	uint16_t queue = 0, queues = 0, tick = 0, busy = 0, workers = 0;
	int have_busy = 0;
	struct sipd_ports ports = {.port = {SIPD_SIP_PORT_DEFAULT}, .n = 1};
	struct sipd_config *cfg = NULL;
	struct daemon_ctx ctx = {0};
	struct sipd_cluster *cl = NULL;
	struct sipd_sink sink = {
		.handle = sink_handle,
		.tick = sink_tick,
		.reload = sink_reload,
		.ctx = &ctx,
		.flush = sink_flush,
		.worker_new = sink_worker_new,
		.worker_free = sink_worker_free,
		.handle_worker = sink_handle_worker,
		.lock = sink_lock,
		.unlock = sink_unlock,
	};
	struct sipd_aux aux = {aux_fill, aux_service, &ctx};
	char err[512] = "";

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg_path = optarg;
			break;
		case O_PIN:
			pin = optarg;
			break;
		case O_QUEUE:
			if (parse_u16("--queue", optarg, &queue))
				return 2;
			have_queue = 1;
			break;
		case O_QUEUES:
			if (parse_u16("--queues", optarg, &queues) || !queues) {
				fprintf(stderr, "sipd: --queues must be 1-64\n");
				return 2;
			}
			have_queues = 1;
			break;
		case O_FOPEN:
			fail_open = 1;
			break;
		case O_FCLOSED:
			fail_open = 0;
			break;
		case O_TICK:
			if (parse_u16("--tick-ms", optarg, &tick) || !tick)
				return 2;
			break;
		case O_BUSY:
			if (parse_u16("--busy-poll", optarg, &busy) ||
			    busy > SIPD_BUSY_POLL_US_MAX) {
				fprintf(stderr, "sipd: --busy-poll must be 0-%d microseconds\n",
					SIPD_BUSY_POLL_US_MAX);
				return 2;
			}
			have_busy = 1;
			break;
		case O_PASSIVE:
			passive = optarg;
			break;
		case O_PORTS:
			if (sipd_ports_parse(optarg, &ports)) {
				fprintf(stderr,
					"sipd: --ports: '%s' is not a list of ports 1-65535 (at "
					"most %d)\n",
					optarg, SIPD_MAX_SIP_PORTS);
				return 2;
			}
			break;
		case O_CLOSE:
			close_on_exit = 1;
			break;
		case O_WORKERS:
			if (parse_u16("--workers", optarg, &workers) || !workers || workers > 64) {
				fprintf(stderr, "sipd: --workers must be 1-64\n");
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sipd run: unexpected argument '%s'\n", argv[optind]);
		run_usage(stderr);
		return 2;
	}
	if (passive && !if_nametoindex(passive)) {
		fprintf(stderr, "sipd run: --passive: no interface '%s'\n", passive);
		return 1;
	}
	if (load_config(cfg_path, &cfg))
		return 1;
	ctx.cfg_path = cfg_path;
	ctx.d = sipd_new(cfg, pin, NULL, err, sizeof(err));
	if (!ctx.d) {
		fprintf(stderr, "sipd: %s\n", err[0] ? err : "cannot start");
		sipd_config_free(cfg);
		return 1;
	}
	if (!sw_sipd_status_path(pin ? pin : cfg->pin_path, ctx.status_path,
				 sizeof(ctx.status_path))) {
		char dir[512];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", ctx.status_path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			mkdir(dir, 0755); /* EEXIST is fine; a failure shows at the write */
		}
	} else {
		ctx.status_path[0] = 0;
	}
	/* Events are written after each batch's verdicts (sink_flush). */
	sipd_set_event_batching(ctx.d, 1);
	sipd_report_spoof_check(ctx.d);

	if (cfg->metrics.listen[0]) {
		struct sipd_metrics_opts mo = {
			.listen = cfg->metrics.listen,
			.allow_remote = cfg->metrics.allow_remote,
			.pin_root = pin ? pin : cfg->pin_path,
			.queue = have_queue ? queue : cfg->queue.num,
			.nqueues = passive	 ? 0
				   : have_queues ? queues
						 : cfg->queue.count,
			.mode = passive ? "passive" : "inline",
		};

		ctx.metrics = sipd_metrics_open(&mo, ctx.d, err, sizeof(err));
		if (!ctx.metrics) {
			fprintf(stderr, "sipd: %s\n", err);
			sipd_free(ctx.d);
			sipd_config_free(cfg);
			return 1;
		}
		sink.aux = &aux;
		if (verbose)
			fprintf(stderr, "sipd: metrics on http://%s/metrics\n",
				cfg->metrics.listen);
	}
	if (cfg->control.listen[0] || cfg->control.unix_path[0]) {
		ctx.control = sipd_control_open(ctx.d, cfg, 1, err, sizeof(err));
		if (!ctx.control) {
			fprintf(stderr, "sipd: control: %s\n", err);
			sipd_metrics_close(ctx.metrics);
			sipd_free(ctx.d);
			sipd_config_free(cfg);
			return 1;
		}
		sipd_metrics_set_control(ctx.metrics, ctx.control);
		sink.aux = &aux;
		if (verbose)
			fprintf(stderr, "sipd: control (rtpengine ng) on %s%s%s\n",
				cfg->control.listen[0] ? cfg->control.listen : "",
				cfg->control.listen[0] && cfg->control.unix_path[0] ? " and " : "",
				cfg->control.unix_path);
	}
	if (cfg->cluster.enabled) {
		cl = sipd_cluster_start(cfg, sipd_get_maps(ctx.d), err, sizeof(err));
		if (!cl) {
			fprintf(stderr, "sipd: %s\n", err);
			sipd_control_close(ctx.control);
			sipd_metrics_close(ctx.metrics);
			sipd_free(ctx.d);
			sipd_config_free(cfg);
			return 1;
		}
		sipd_set_cluster(ctx.d, cl);
		if (verbose)
			fprintf(stderr, "sipd: cluster node %s, replication through %s%s\n",
				cfg->cluster.node_id, cfg->cluster.n_sentinels ? "Sentinel " : "",
				cfg->cluster.n_sentinels ? cfg->cluster.sentinels[0]
							 : cfg->cluster.redis[0]);
	}
	if (passive) {
		struct sipd_passive_opts po = {
			.ifname = passive,
			.ports = ports,
			.tick_ms = tick,
			.verbose = verbose,
		};

		rc = sipd_passive_run(&po, &sink);
	} else {
		struct sipd_nfq_opts no = {
			.queue = have_queue ? queue : cfg->queue.num,
			.nqueues = have_queues ? queues : cfg->queue.count,
			.fail_open = fail_open >= 0 ? fail_open : cfg->queue.fail_open,
			.tick_ms = tick,
			.busy_poll_us = have_busy ? busy : cfg->queue.busy_poll_us,
			.workers = workers ? workers : cfg->queue.workers,
			.verbose = verbose,
		};

		sipd_set_tcp_reset(ctx.d, 1);
		/* before any worker starts: from here every call into ctx.d from
		 * this thread holds its lock (loop.c) */
		sipd_set_workers(ctx.d, no.workers);
		rc = sipd_nfq_run(&no, &sink);
		sipd_set_workers(ctx.d, 1);
	}
	if (close_on_exit)
		sipd_close_all(ctx.d, sw_monotonic_ns());
	if (ctx.status_path[0])
		unlink(ctx.status_path);
	/* Without --close-on-exit pinholes stay for the next sipd to adopt. */
	sipd_control_close(ctx.control);
	sipd_metrics_close(ctx.metrics);
	sipd_set_cluster(ctx.d, NULL);
	sipd_cluster_stop(cl);
	sipd_free(ctx.d);
	sipd_config_free(cfg);
	return rc ? 1 : 0;
}

static void add_ports(struct sipd_ports *to, const struct sipd_port_list *l)
{
	for (unsigned int i = 0; i < l->n && to->n < SIPD_MAX_SIP_PORTS; i++)
		if (!sipd_ports_has(to, l->port[i]))
			to->port[to->n++] = l->port[i];
}

/* The config's transports and ports; --ports replaces the UDP and TCP ones. */
static void rules_ports(struct sipd_rules_opts *ro, const struct sipd_config *c,
			const struct sipd_ports *cli)
{
	struct sipd_port_list udp = c->sip.udp_ports, tcp = c->sip.tcp_ports;

	if (cli) {
		udp.n = tcp.n = 0;
		for (unsigned int i = 0; i < cli->n; i++)
			udp.port[udp.n++] = tcp.port[tcp.n++] = cli->port[i];
	}
	memset(&ro->ports, 0, sizeof(ro->ports));
	memset(&ro->tcp_ports, 0, sizeof(ro->tcp_ports));
	memset(&ro->syn_ports, 0, sizeof(ro->syn_ports));
	if (c->sip.udp)
		add_ports(&ro->ports, &udp);
	if (c->sip.tcp)
		add_ports(&ro->tcp_ports, &tcp);
	if (c->sip.ws)
		add_ports(&ro->tcp_ports, &c->sip.ws_ports);
	add_ports(&ro->syn_ports, &c->sip.tls_ports);
	add_ports(&ro->syn_ports, &c->sip.wss_ports);
}

static void rules_usage(FILE *f)
{
	fprintf(f, "usage: sipd rules install|remove|show [-c CONFIG] [--ports LIST]\n"
		   "                  [--queue N] [--queues N] [--fail-open|--fail-closed]\n"
		   "                  [--input] [--output] [--no-forward] [-4|-6] [--legacy]\n"
		   "                  [--media-ports LO-HI] [--media-ifaces IF[,IF...]] "
		   "[--no-notrack]\n");
}

struct media_ifs_ctx {
	struct sipd_rules_opts *ro;
	struct sw_netns ns;
};

static int media_ifs_cb(const struct sw_iface_info *info, void *vctx)
{
	struct media_ifs_ctx *c = vctx;
	struct sipd_rules_opts *ro = c->ro;

	if (sw_iface_in_netns(info, &c->ns) != 1 || ro->n_media_ifs >= SIPD_RULES_MAX_IFS)
		return 0;
	snprintf(ro->media_ifs[ro->n_media_ifs++], sizeof(ro->media_ifs[0]), "%.15s", info->name);
	return 0;
}

/* Media range and interfaces of the raw notrack rules, where the command
 * line left them out: what sipwall attach pinned under the pin path (its
 * sw_config range, its interfaces in this namespace), else the default
 * range on every interface. */
static void rules_media(struct sipd_rules_opts *ro, const char *pin_path, int have_range,
			int have_ifs)
{
	struct media_ifs_ctx c = {.ro = ro};
	struct sw_maps m = SW_MAPS_INIT;
	struct sw_config cfg;

	if (!have_range) {
		ro->media_lo = SW_MEDIA_LO_DEFAULT;
		ro->media_hi = SW_MEDIA_HI_DEFAULT;
	}
	if ((have_range && have_ifs) || sw_maps_open(pin_path, &m))
		return;
	if (!have_range && !sw_config_read(&m, &cfg) && cfg.media_lo) {
		ro->media_lo = cfg.media_lo;
		ro->media_hi = cfg.media_hi;
	}
	if (!have_ifs && !sw_netns_self(&c.ns))
		sw_iface_foreach(&m, media_ifs_cb, &c);
	sw_maps_close(&m);
}

/* "eth0,eth1": up to SIPD_RULES_MAX_IFS interface names. */
static int parse_ifs(const char *s, struct sipd_rules_opts *ro)
{
	char buf[SIPD_RULES_MAX_IFS * 17], *tok, *save = NULL;

	if (!*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	ro->n_media_ifs = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (ro->n_media_ifs >= SIPD_RULES_MAX_IFS || strlen(tok) >= IFNAMSIZ)
			return -EINVAL;
		snprintf(ro->media_ifs[ro->n_media_ifs++], sizeof(ro->media_ifs[0]), "%s", tok);
	}
	return ro->n_media_ifs ? 0 : -EINVAL;
}

int sipd_cmd_rules(int argc, char **argv)
{
	enum {
		O_PORTS = 256,
		O_QUEUE,
		O_QUEUES,
		O_FOPEN,
		O_FCLOSED,
		O_INPUT,
		O_OUTPUT,
		O_NOFWD,
		O_LEGACY,
		O_MEDIA,
		O_MEDIA_IFS,
		O_NO_NOTRACK,
	};
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"ports", required_argument, NULL, O_PORTS},
		{"queue", required_argument, NULL, O_QUEUE},
		{"queues", required_argument, NULL, O_QUEUES},
		{"fail-open", no_argument, NULL, O_FOPEN},
		{"fail-closed", no_argument, NULL, O_FCLOSED},
		{"input", no_argument, NULL, O_INPUT},
		{"output", no_argument, NULL, O_OUTPUT},
		{"no-forward", no_argument, NULL, O_NOFWD},
		{"legacy", no_argument, NULL, O_LEGACY},
		{"media-ports", required_argument, NULL, O_MEDIA},
		{"media-ifaces", required_argument, NULL, O_MEDIA_IFS},
		{"no-notrack", no_argument, NULL, O_NO_NOTRACK},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct sipd_rules_opts ro;
	struct sipd_config *cfg = NULL;
	const char *cfg_path = NULL, *action;
	int fail_open = -1, have_queue = 0, have_queues = 0, opt, rc;
	int only4 = 0, only6 = 0, have_ports = 0, have_media = 0, have_ifs = 0, notrack = 1;
	uint16_t mlo = 0, mhi = 0;
	uint16_t queue = 0, queues = 0;
	struct sipd_ports ports = {0};

	sipd_rules_defaults(&ro);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:46h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg_path = optarg;
			break;
		case O_PORTS:
			if (sipd_ports_parse(optarg, &ports)) {
				fprintf(stderr,
					"sipd rules: --ports: '%s' is not a list of ports "
					"1-65535\n",
					optarg);
				return 2;
			}
			have_ports = 1;
			break;
		case O_QUEUE:
			if (parse_u16("--queue", optarg, &queue))
				return 2;
			have_queue = 1;
			break;
		case O_QUEUES:
			if (parse_u16("--queues", optarg, &queues) || !queues)
				return 2;
			have_queues = 1;
			break;
		case O_FOPEN:
			fail_open = 1;
			break;
		case O_FCLOSED:
			fail_open = 0;
			break;
		case O_INPUT:
			ro.input = 1;
			break;
		case O_OUTPUT:
			ro.output = 1;
			break;
		case O_NOFWD:
			ro.forward = 0;
			break;
		case O_LEGACY:
			ro.iptables = "iptables-legacy";
			ro.ip6tables = "ip6tables-legacy";
			break;
		case O_MEDIA: {
			char *dash = strchr(optarg, '-');

			if (!dash || dash == optarg) {
				fprintf(stderr, "sipd rules: --media-ports: expected LO-HI\n");
				return 2;
			}
			*dash = '\0';
			if (parse_u16("--media-ports", optarg, &mlo) ||
			    parse_u16("--media-ports", dash + 1, &mhi) || !mlo || mlo > mhi) {
				fprintf(stderr,
					"sipd rules: --media-ports: expected LO-HI with 1 <= "
					"LO <= HI <= 65535\n");
				return 2;
			}
			have_media = 1;
			break;
		}
		case O_MEDIA_IFS:
			if (parse_ifs(optarg, &ro)) {
				fprintf(stderr,
					"sipd rules: --media-ifaces: '%s' is not a list of up to "
					"%d "
					"interface names\n",
					optarg, SIPD_RULES_MAX_IFS);
				return 2;
			}
			have_ifs = 1;
			break;
		case O_NO_NOTRACK:
			notrack = 0;
			break;
		case '4':
			only4 = 1;
			break;
		case '6':
			only6 = 1;
			break;
		case 'h':
			rules_usage(stdout);
			return 0;
		default:
			rules_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		rules_usage(stderr);
		return 2;
	}
	action = argv[optind];
	if (only4 && only6) {
		fprintf(stderr, "sipd rules: -4 and -6 together mean both; leave them out\n");
		return 2;
	}
	ro.ipv4 = !only6;
	ro.ipv6 = !only4;
	if (load_config(cfg_path, &cfg))
		return 1;
	ro.queue = have_queue ? queue : cfg->queue.num;
	ro.nqueues = have_queues ? queues : (cfg->queue.count ?: 1);
	ro.fail_open = fail_open >= 0 ? fail_open : cfg->queue.fail_open;
	rules_ports(&ro, cfg, have_ports ? &ports : NULL);
	if (have_media) {
		ro.media_lo = mlo;
		ro.media_hi = mhi;
	}
	if (notrack && !strcmp(action, "install"))
		rules_media(&ro, cfg->pin_path, have_media, have_ifs);
	if (!notrack)
		ro.media_lo = ro.media_hi = 0;
	sipd_config_free(cfg);

	if (!strcmp(action, "install"))
		rc = sipd_rules_install(&ro);
	else if (!strcmp(action, "remove"))
		rc = sipd_rules_remove(&ro);
	else if (!strcmp(action, "show"))
		return sipd_rules_show(&ro) ? 1 : 0;
	else {
		fprintf(stderr, "sipd rules: unknown action '%s' (install, remove, show)\n",
			action);
		return 2;
	}
	if (rc && !strcmp(action, "install")) {
		/* Nothing half-applied: take out what got in. */
		sipd_rules_remove(&ro);
	}
	return rc ? 1 : 0;
}
