/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sipd.json: the admin's configuration, parsed with json-c into plain C.
 * Every key is documented in docs/sipd-config.md. Parsing is all-or-nothing:
 * an error names the JSON path of the bad key and nothing is returned.
 */
#ifndef SIPD_CONFIG_H
#define SIPD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sipmsg.h"

/* An address prefix in the 16-byte form of the maps (IPv4 v4-mapped, so an
 * IPv4 /24 is stored as plen 96 + 24). */
struct sipd_cidr {
	uint8_t addr[16];
	uint8_t plen;
};

/* Direction of a message relative to the "inside" networks. */
enum sipd_direction {
	SIPD_DIR_INBOUND = 1u << 0,  /* outside -> inside */
	SIPD_DIR_OUTBOUND = 1u << 1, /* inside -> outside */
	SIPD_DIR_INTERNAL = 1u << 2, /* inside -> inside */
	SIPD_DIR_TRANSIT = 1u << 3,  /* outside -> outside */
};

/* Methods known to filters (bit = 1 << index in sipd_method_names). */
/* clang-format off */
#define SIPD_METHODS(X)                                                       \
	X(INVITE) X(ACK) X(BYE) X(CANCEL) X(OPTIONS) X(REGISTER) X(PRACK)     \
	X(UPDATE) X(SUBSCRIBE) X(NOTIFY) X(PUBLISH) X(INFO) X(REFER)          \
	X(MESSAGE)
/* clang-format on */

enum sipd_method {
#define SIPD_X_M(m) SIPD_M_##m,
	SIPD_METHODS(SIPD_X_M)
#undef SIPD_X_M
		SIPD_M_MAX,
	SIPD_M_OTHER = SIPD_M_MAX, /* extension methods; matched by "OTHER" */
};

enum sipd_action {
	SIPD_ACT_DROP = 0,
	SIPD_ACT_ALLOW = 1,
};

/* Message kind filter. */
enum sipd_msg_kind {
	SIPD_KIND_ANY = 0,
	SIPD_KIND_REQUEST = 1,
	SIPD_KIND_RESPONSE = 2,
};

struct sipd_globs {
	char **v;
	unsigned int n;
};

/* Every present criterion must match (AND); a list matches if any entry does. */
struct sipd_match {
	struct sipd_cidr *source; /* source network(s) of the datagram */
	unsigned int n_source;
	unsigned int directions;	/* SIPD_DIR_* mask; 0 = any */
	uint32_t methods;		/* 1 << enum sipd_method; 0 = any */
	int kind;			/* enum sipd_msg_kind */
	struct sipd_globs content_type; /* fnmatch on "type/subtype" */
	struct sipd_globs from_user, from_domain, to_user, to_domain;
	struct sipd_globs user_agent;
	struct sipd_globs header; /* header present (name, case-insensitive) */
};

struct sipd_rule {
	char name[64]; /* for events; "filters[N]" when unnamed */
	struct sipd_match match;
	int action; /* enum sipd_action */
};

/* Inbound caller whitelist of one protected user (the To user). */
struct sipd_wl_entry {
	char user[SIP_TOKEN_LEN];
	int enabled;
	struct sipd_globs allow_from; /* fnmatch on "user@domain" of From */
};

/* Source check mode of the allowed source, chosen by the peer's network. */
struct sipd_peer_net {
	struct sipd_cidr net;
	uint8_t check; /* enum sw_check */
};

enum sipd_open_at_offer {
	SIPD_OAO_OFF = 0,
	SIPD_OAO_INSIDE = 1, /* offers from inside or guard.trusted sources */
	SIPD_OAO_ALL = 2,
};

/* Upper bound of limits.max_pinholes_per_call (pinhole.h SIPD_PLAN_MAX). */
#define SIPD_MAX_PINHOLES_PER_CALL 64

/* A ban trigger: count events from one source within window_s; 0 = off. */
struct sipd_trigger {
	uint32_t count;
	uint32_t window_s;
};

/* "guard": ban triggers and the data path's flood settings (guard.h). */
struct sipd_guard_cfg {
	int enabled;		   /* false: no bans, no per-source bounds */
	struct sipd_cidr *trusted; /* never banned, not bounded per source */
	unsigned int n_trusted;
	int ban_inside;		      /* networks.inside may be banned */
	uint32_t ban_ttl_s;	      /* 0 = until removed by hand */
	uint8_t ban_prefix_v4;	      /* 1..32 */
	uint8_t ban_prefix_v6;	      /* 1..128 */
	struct sipd_globs scanner_ua; /* fnmatch, case-insensitive */
	struct sipd_trigger malformed, auth_failures, not_found;
	uint32_t max_sources;	   /* per-source state table entries */
	uint32_t max_bans_per_s;   /* automatic bans per second; 0 = no bound */
	uint32_t max_bans_burst;   /* bucket depth of max_bans_per_s */
	uint32_t ban_map_headroom; /* % of sw_bans kept free of automatic bans */
	struct {
		int set; /* "flood" present: sipd writes sw_config */
		uint32_t rate, burst;
		uint8_t prefix_v4, prefix_v6;
		uint16_t ports[SW_SIG_PORTS];
	} flood;
};

/* A list of ports (host order), at most SIPD_CFG_MAX_PORTS. */
#define SIPD_CFG_MAX_PORTS    8
#define SIPD_BUSY_POLL_US_MAX 10000 /* queue.busy_poll_us, sipd run --busy-poll */
struct sipd_port_list {
	uint16_t port[SIPD_CFG_MAX_PORTS];
	unsigned int n;
};

int sipd_port_list_has(const struct sipd_port_list *l, uint16_t port);

#define SIPD_CLUSTER_MAX_EP 4

struct sipd_config {
	char pin_path[256];
	struct {
		uint16_t num;	       /* first NFQUEUE number */
		uint16_t count;	       /* queues num..num+count-1 (--queue-balance) */
		int fail_open;	       /* NFQA_CFG_F_FAIL_OPEN + --queue-bypass */
		uint32_t busy_poll_us; /* spin after traffic (loop.c); 0 = off */
		uint16_t workers;      /* threads serving the queues, 1..count (nfq.c) */
	} queue;

	struct sipd_cidr *inside; /* the protected side */
	unsigned int n_inside;
	uint8_t default_check;	     /* enum sw_check; strict unless set */
	struct sipd_peer_net *peers; /* per-network overrides, longest prefix wins */
	unsigned int n_peers;

	struct sip_limits limits;
	uint32_t max_calls;		/* dialog table bound (sip_dialog_limit) */
	uint32_t max_calls_per_source;	/* sip_dialog_limit per source */
	uint32_t max_pinholes_per_call; /* sip_pinhole_limit */
	uint32_t max_msg_rate;		/* messages/s per source; 0 = off */
	uint32_t max_msg_burst;		/* bucket depth of max_msg_rate */
	uint8_t source_prefix_v4;	/* per-source accounting key, 1..32 */
	uint8_t source_prefix_v6;	/* 1..128 */

	struct sipd_guard_cfg guard;

	/* "media": open the offerer's destinations when the offer passes
	 * (RTP sent just before the answer): SIPD_OAO_*. */
	int open_at_offer;

	/* "security": what a message must prove before it changes anything
	 * (docs/security.md). */
	struct {
		int unmatched_drop;		      /* unmatched_responses "drop" (1) / "pass" */
		int verify_checksums;		      /* UDP checksum of every datagram */
		int spoof_check;		      /* inside source on an outside interface */
		uint32_t transaction_timeout_s;	      /* 64*T1 (Timers B and F) */
		uint32_t max_transactions;	      /* in flight, all sources */
		uint32_t max_transactions_per_source; /* per source prefix */
		uint32_t max_pinholes_per_source;     /* of calls a source started */
		uint32_t reserved_percent; /* of calls, pinholes, transactions: inside/trusted */
		char (*inside_ifs)[16];	   /* extra inside-facing interfaces (IFNAMSIZ) */
		unsigned int n_inside_ifs;
	} security;

	struct {
		uint32_t bye_grace_s;	  /* pinholes stay this long after BYE (RTCP) */
		uint32_t idle_s;	  /* no media on any pinhole of a call */
		uint32_t max_call_s;	  /* hard cap on a call's duration */
		uint32_t silent_dialog_s; /* no SIP and no pinholes */
		uint32_t early_dialog_s;  /* INVITE without a 2xx */
		uint32_t takeover_idle_s; /* a call this quiet may lose a destination */
	} timeouts;

	/* "transports", "sip_ports", "uninspectable", "tcp" (docs/sipd-config.md):
	 * which SIP transports are inspected, on which ports, what becomes of
	 * SIP that cannot be (TLS, WSS), and the stream reassembly bounds. */
	struct {
		int udp, tcp, ws; /* inspected */
		struct sipd_port_list udp_ports, tcp_ports, ws_ports, tls_ports, wss_ports;
		int uninspectable_drop; /* "drop": refuse TLS/WSS connections */
	} sip;
	struct {
		uint32_t max_connections;
		uint32_t max_connection_bytes; /* held per direction */
		uint64_t max_total_bytes;
		uint32_t idle_s, gap_s;
		uint32_t max_rejects; /* retransmissions of a dropped message before the reset */
		int reset;	      /* send the RSTs (inline mode only) */
	} tcp;

	/* "control": the ng listener (control.c, docs/control.md). */
	struct {
		char listen[64];     /* "" = off; "127.0.0.1:22222" */
		char unix_path[108]; /* "" = off */
		int allow_remote;
		char (*controllers)[64]; /* CIDRs allowed to send; none = loopback */
		unsigned int n_controllers;
	} control;

	struct sipd_rule *rules; /* ordered; first match wins */
	unsigned int n_rules;
	int default_action; /* enum sipd_action when no rule matches */

	struct sipd_wl_entry *whitelist;
	unsigned int n_whitelist;

	struct {
		char output[256];	 /* "-" = stdout, "" = off, else a file (append) */
		uint32_t drop_log_per_s; /* message_drop lines per second, then counted */
		uint32_t drop_summary_s; /* period of the drop_summary line */
	} events;

	struct {
		char listen[64];  /* "" = off; "127.0.0.1:9870", "[::1]:9870" */
		int allow_remote; /* a non-loopback listen address is allowed */
	} metrics;		  /* Prometheus endpoint (metrics.h) */

	/* "cluster" (docs/ha.md): replication of pinholes and bans through
	 * Redis; off unless enabled. Read at start (a reload keeps it). */
	struct {
		int enabled;
		char node_id[32];
		char redis[SIPD_CLUSTER_MAX_EP][80]; /* "host:port", tried in order */
		unsigned int n_redis;
		char sentinels[SIPD_CLUSTER_MAX_EP][80];
		unsigned int n_sentinels;
		char master_name[64];
		char key_prefix[49];
		char credentials_file[256]; /* user=... / password=... lines */
		uint32_t heartbeat_ms;	    /* heartbeat key refresh */
		uint32_t owner_timeout_ms;  /* heartbeat key TTL: then the node is dead */
		uint32_t queue_len;	    /* outgoing records held while Redis lags */
		uint32_t stream_maxlen;	    /* XADD MAXLEN ~ of the change log */
		uint32_t tombstone_s;	    /* how long a close is remembered */
		int cpu; /* the writer's and reader's CPU, off the SIP path's; -1: any */
	} cluster;

	char *json_text;  /* the source text (sipd_config_dup re-parses it) */
	char origin[256]; /* file name or "<string>", for messages */
};

/* Load and validate a file. 0, or -errno with err = "PATH: json.path: what". */
int sipd_config_load(const char *path, struct sipd_config **out, char *err, size_t errlen);
/* Same from a string; origin names it in errors (NULL = "<string>"). */
int sipd_config_parse(const char *json, const char *origin, struct sipd_config **out, char *err,
		      size_t errlen);
/* The built-in defaults (same as parsing "{}"). */
int sipd_config_default(struct sipd_config **out);
struct sipd_config *sipd_config_dup(const struct sipd_config *c);
void sipd_config_free(struct sipd_config *c);

const char *sipd_method_name(unsigned int m); /* "?" out of range */
int sipd_method_parse(const char *s);	      /* enum sipd_method, -1 if unknown */
/* Bit for a message's method string; unknown methods map to SIPD_M_OTHER. */
uint32_t sipd_method_bit(const char *method);
const char *sipd_direction_name(unsigned int dir_bit);

int sipd_cidr_parse(const char *s, struct sipd_cidr *out);
/* "host:port" / "[v6]:port" (cluster endpoints): 0 or -EINVAL. */
int sipd_hostport_parse(const char *s, char *host, size_t hlen, uint16_t *port);
int sipd_cidr_match(const struct sipd_cidr *c, const uint8_t addr[16]);
int sipd_config_is_inside(const struct sipd_config *c, const uint8_t addr[16]);
/* SIPD_DIR_* of a datagram from src to dst. */
unsigned int sipd_config_direction(const struct sipd_config *c, const uint8_t src[16],
				   const uint8_t dst[16]);
/* Check mode for media allowed from a peer at addr. */
uint8_t sipd_config_check_for(const struct sipd_config *c, const uint8_t addr[16]);

/* metrics.listen ("127.0.0.1:9870", "[::1]:9870") -> socket address; only
 * loopback unless allow_remote. 0, or -EINVAL with err saying what is wrong. */
struct sockaddr_storage;
int sipd_listen_parse(const char *s, int allow_remote, struct sockaddr_storage *ss,
		      unsigned int *sl, char *err, size_t errlen);

#endif /* SIPD_CONFIG_H */
