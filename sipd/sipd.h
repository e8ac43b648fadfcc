/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seam between packet sources (NFQUEUE inline, AF_PACKET passive, pcap
 * replay) and the SIP logic. Every source hands whole IP datagrams carrying
 * UDP to sipd_handle_packet() and applies the verdict it returns, after the
 * map writes it made, so a pinhole exists before the message is released.
 */
#ifndef SIPD_SIPD_H
#define SIPD_SIPD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/swmap.h"
#include "sipwall_maps.h"

struct sipd;	    /* daemon state: config, dialogs, maps, event sink */
struct sipd_config; /* parsed sipd.json (config.h) */

enum sipd_verdict {
	SIPD_ACCEPT = 1,
	SIPD_DROP = 0,
};

struct sipd_events; /* event sink (events.h) */

/*
 * Create the daemon state. cfg is copied (the caller may free it at once).
 * pin_root_override: NULL = cfg->pin_path. ev: NULL = open the sink named by
 * cfg->events.output and own it; otherwise borrowed (must outlive d).
 * Opens the pinned maps and adopts the pinholes already there (call_hash != 0),
 * so a restart loses no call. NULL on error with err filled.
 */
struct sipd *sipd_new(const struct sipd_config *cfg, const char *pin_root_override,
		      struct sipd_events *ev, char *err, size_t errlen);
/* Frees memory only: pinholes stay in the map for the next sipd to adopt. */
void sipd_free(struct sipd *d);
/*
 * Switch to a new config (copied). Calls and pinholes are kept; filters and
 * timeouts apply from now on. pin_path and queue changes need a restart (the
 * config_reload event lists them). On error the old config stays, -errno.
 */
int sipd_reload(struct sipd *d, const struct sipd_config *cfg, char *err, size_t errlen);
/* Load PATH and reload; a bad file is reported (err, config_reload event
 * with "ok":false) and the running config stays. SIGHUP does this. */
int sipd_reload_file(struct sipd *d, const char *path, char *err, size_t errlen);
const struct sipd_config *sipd_get_config(const struct sipd *d);

/* Close every call now (call_end reason "shutdown"), deleting its pinholes:
 * the end of a replay, or `sipd run --close-on-exit`. */
void sipd_close_all(struct sipd *d, uint64_t now_ns);

struct sipd_stats {
	uint64_t messages; /* SIP messages seen */
	uint64_t accepted;
	uint64_t dropped[SW_SIP_R_MAX]; /* by reason; [0] unused */
	uint64_t calls_started;
	uint64_t calls_adopted; /* rebuilt from the map on start */
	uint64_t calls_ended;
	uint64_t calls_active;
	uint64_t pinholes_opened;
	uint64_t pinholes_updated;
	uint64_t pinholes_closed;
	uint64_t pinholes_active;
	uint64_t map_errors;
	uint64_t pinholes_shared;	 /* claims joined to another call's entry */
	uint64_t pinholes_taken_over;	 /* destinations moved from a live call */
	uint64_t calls_evicted;		 /* unanswered outside calls ended to make room */
	uint64_t calls_unanswered;	 /* ended without any matched response */
	uint64_t responses_unmatched;	 /* matched no forwarded request */
	uint64_t requests_ignored;	 /* passed, not the party or dialog they claim */
	uint64_t offer_open_failed;	 /* media.open_at_offer could not open (conflict, budget) */
	uint64_t transactions_active;	 /* requests awaiting their responses */
	uint64_t transactions_refused;	 /* sip_transaction_limit */
	uint64_t spoof_check_interfaces; /* inside-facing interfaces known */
	/* m= lines refused (sip_bad_media_address, sip_wrong_side); the
	 * message itself passed */
	uint64_t media_refused[SW_SIP_R_MAX];
	uint64_t keepalives;	  /* keep-alive datagrams passed unparsed (not
					  * in messages/accepted; sipmsg_keepalive) */
	uint64_t keepalives_stun; /* of them STUN Binding messages */
	/* SIP over TCP and WebSocket (stream.h has the reassembly's own) */
	uint64_t tcp_messages;		/* framed messages handed to the message path */
	uint64_t tcp_resets;		/* connections reset after a dropped message */
	uint64_t tcp_reset_errors;	/* RSTs that could not be sent */
	uint64_t uninspectable[2];	/* connections seen: [0] TLS, [1] WSS */
	uint64_t uninspectable_peers;	/* distinct peers that opened them */
	uint64_t uninspectable_evicted; /* peers forgotten for newer ones */
};
void sipd_get_stats(const struct sipd *d, struct sipd_stats *out);
/* The TCP/WebSocket reassembly's counters (stream.h). */
struct sipd_stream_stats;
void sipd_get_stream_stats(const struct sipd *d, struct sipd_stream_stats *out);
/* Inline mode: a TCP connection whose dropped message keeps being
 * retransmitted is reset (tcp.reset, tcprst.h); other sources never send. */
void sipd_set_tcp_reset(struct sipd *d, int on);
/*
 * The control API (control.c: rtpengine's ng protocol, docs/control.md).
 * A controller's offer or answer goes through the message path as the SIP
 * message carrying it would (dialogs, offer/answer, the planner, limits,
 * conflicts, timeouts, events with "how":"control"), believed as the
 * proxy's word: no transactions, message guard or filters; calls and
 * pinholes within the same limits, per the party's received-from address.
 * A party whose address the controller does not give vouches for nothing
 * (it cannot take another call's destination) and sits on the side of its
 * SDP's address. 0, or a negative errno with err saying why; 1 (err says
 * so) when sipd follows the Call-ID from inline SIP: nothing changes.
 */
struct sipd_ctl_sdp {
	int answer;
	const char *call_id, *from_tag, *to_tag, *via_branch; /* to_tag "" on an initial offer */
	const char *sdp;
	size_t sdp_len;
	int has_sig;	 /* received-from given: sig is the party's address */
	uint8_t sig[16]; /* the party's signalling address */
	uint16_t sig_port;
	uint8_t ctl[16]; /* the controller's */
};
int sipd_control_sdp(struct sipd *d, const struct sipd_ctl_sdp *x, uint64_t now_ns, char *err,
		     size_t errlen);
/* delete: the whole call ends after timeouts.bye_grace_s. -ENOENT if it is
 * not a controller's call. */
int sipd_control_delete(struct sipd *d, const char *call_id, uint64_t now_ns);

/* query: a call and its pinholes (counters read from the map). */
struct sipd_ctl_ph {
	struct sw_pinhole_key key;
	struct sw_pinhole val;
};
struct sipd_ctl_call {
	char caller[258], callee[258];
	int control, answered, ending;
	uint64_t created_ns, last_media_ns;
	unsigned int n_ph;
};
int sipd_control_call(const struct sipd *d, const char *call_id, struct sipd_ctl_call *out,
		      struct sipd_ctl_ph *ph, unsigned int max);
/* list: Call-IDs of the calls tracked (valid until the next message). */
unsigned int sipd_control_list(const struct sipd *d, const char **ids, unsigned int max);

/* The live state `sipwall status` shows (lib/swmap.h sw_sipd_status_path):
 * written whole to PATH.tmp, then renamed. 0 or a negative errno. */
int sipd_write_status(const struct sipd *d, const char *path, long pid);
/* Entries in sw_pinholes (manual ones included) as the tick's bounded walk
 * last counted them, plus sipd's own opens and closes since: /metrics never
 * walks the map. -EAGAIN before the first count. */
int sipd_get_map_pinholes(const struct sipd *d, uint64_t *n);
/* Bans asked for, per-source table use (guard.h). */
struct sipd_guard_stats;
void sipd_get_guard_stats(const struct sipd *d, struct sipd_guard_stats *out);

/*
 * sw_bans as sipd last counted it, for /metrics: never read from the map at
 * the call. The once-a-second tick walks at most SIPD_BAN_SCAN_PER_TICK
 * entries of it (expiring what has expired); a finished walk replaces the
 * counts, and sipd's own bans and expiries adjust them in between.
 */
#define SIPD_BAN_SCAN_PER_TICK 2048
/* Entries of sw_pinholes the tick counts per step (sipd_get_map_pinholes). */
#define SIPD_PH_SCAN_PER_TICK 2048
struct sipd_ban_counts {
	uint64_t active[SW_BAN_MAX]; /* unexpired bans by reason */
	uint64_t entries;	     /* all of them (what the headroom is checked on) */
	uint64_t capacity;	     /* sw_bans max_entries; 0 without a ban list */
	uint64_t walks;		     /* finished walks */
	uint64_t entries_read;	     /* entries the walks read from the map */
	int known;		     /* a ban list exists and a walk has finished */
};
void sipd_get_ban_counts(const struct sipd *d, struct sipd_ban_counts *out);

/*
 * ip/len: one IPv4 or IPv6 datagram (no L2 header) with a UDP payload, or
 * a TCP segment on a SIP or WebSocket port (reassembled and framed per
 * connection, stream.h: a segment that completes no message is accepted,
 * one that completes messages gets their verdict).
 * now_ns: CLOCK_MONOTONIC, or the capture's clock in replay.
 * *why is set to the named reason (SW_SIP_R_ACCEPTED when accepted).
 */
enum sipd_verdict sipd_handle_packet(struct sipd *d, const uint8_t *ip, size_t len, uint64_t now_ns,
				     enum sw_sip_reason *why);

/* What the source knows of a datagram besides its bytes. */
struct sipd_pkt_meta {
	uint32_t indev;	   /* ifindex it arrived on; 0 = sent by this host or unknown */
	uint8_t csum_skip; /* the kernel says its checksum is not filled in yet */
	uint8_t queued;	   /* inline: the rules queued it as SIP (any TCP port) */
};

/* The same, with meta (NULL = unknown interface, checksum verified): the
 * live sources' entry. An inside source address arriving on an interface
 * that does not face the inside is sip_spoofed_source. */
enum sipd_verdict sipd_handle_packet_meta(struct sipd *d, const uint8_t *ip, size_t len,
					  const struct sipd_pkt_meta *meta, uint64_t now_ns,
					  enum sw_sip_reason *why);

/*
 * Several threads handling datagrams of one sipd (queue.workers, nfq.c).
 * sipd_set_workers(d, n > 1), before any of them starts, turns the lock on:
 * each thread then calls sipd_worker_handle() with its own worker, and
 * every other call into d (tick, flush, reload, stats, status, control,
 * metrics) is made between sipd_lock() and sipd_unlock(). A datagram's
 * parse runs outside the lock; all its state changes, map writes and
 * events inside, so the verdict still follows its own map writes and the
 * counters stay exact. With one thread the lock is never taken.
 */
struct sipd_worker;
void sipd_set_workers(struct sipd *d, unsigned int n);
struct sipd_worker *sipd_worker_new(struct sipd *d);
void sipd_worker_free(struct sipd_worker *w);
enum sipd_verdict sipd_worker_handle(struct sipd_worker *w, const uint8_t *ip, size_t len,
				     const struct sipd_pkt_meta *meta, uint64_t now_ns,
				     enum sw_sip_reason *why);
void sipd_lock(struct sipd *d);
void sipd_unlock(struct sipd *d);

/*
 * The same path from an already parsed message (m->src/dst set): what a
 * stream reassembler (SIP over TCP) and the unit tests feed.
 */
struct sip_msg;
enum sipd_verdict sipd_handle_msg(struct sipd *d, const struct sip_msg *m, uint64_t now_ns,
				  enum sw_sip_reason *why);

/*
 * Events are queued (one write per batch instead of one per event) once
 * sipd_set_event_batching(d, 1) is called; sipd_flush() writes them. The
 * packet loops flush after the verdicts of each batch, so writing events
 * never delays a verdict. Off by default (every event written at once).
 */
void sipd_set_event_batching(struct sipd *d, int on);
/* Cluster replication (cluster.h): the hooks call into cl; NULL = off.
 * The caller keeps cl and stops it before sipd_free. */
struct sipd_cluster;
void sipd_set_cluster(struct sipd *d, struct sipd_cluster *cl);
struct sipd_cluster *sipd_get_cluster(const struct sipd *d);
const struct sw_maps *sipd_get_maps(const struct sipd *d);
void sipd_flush(struct sipd *d);

/* Write a spoof_check event (inside-facing interfaces and own addresses
 * found) now and whenever they change: the live sources call it. */
void sipd_report_spoof_check(struct sipd *d);

/* Periodic work: idle/max-duration/silent-dialog expiry, BYE grace. */
void sipd_tick(struct sipd *d, uint64_t now_ns);

#endif /* SIPD_SIPD_H */
