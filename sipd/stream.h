/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP over TCP (RFC 3261 18.3) and over plain WebSocket (RFC 7118, RFC 6455):
 * per-connection, per-direction stream reassembly and message framing for the
 * inline path and the capture sources. The module knows TCP sequence numbers
 * and SIP/WebSocket framing, nothing of SIP's meaning: it hands back complete
 * messages and tells the caller what to do with the segment.
 *
 * A direction is created on the first segment with payload (no SYN needed:
 * a restarted sipd picks up a live connection at the next start line it can
 * find, never at a guess). In-order bytes are framed at once; out-of-order
 * bytes are held until the hole before them fills; bytes that overlap held
 * or recently consumed bytes must be identical, or the segment is dropped
 * whole (an evasion). Messages are framed by the empty line after the
 * headers plus Content-Length, which a stream requires; CRLF keep-alives
 * (RFC 5626 3.5.1) between messages are skipped. After a gap that cannot be
 * filled, or garbage, the framer resynchronises at the next line that is a
 * SIP start line.
 *
 * Everything is bounded: directions tracked (oldest idle evicted first),
 * bytes held per direction and in total, message length, idle time, the time
 * a hole may stay open. Every give-up is counted by one named reason.
 *
 * Verdicts: a segment that completes no message passes (the receiver can do
 * nothing with a partial message). A segment that completes one or more
 * messages gets their verdict: the caller decides each item and, if it drops
 * any, calls sipd_stream_reject(): from then on every segment of that
 * direction that carries a byte at or after the rejected segment's first
 * byte is dropped (TCP retransmits it; the receiver must never get those
 * bytes), and after max_rejects such drops the connection is reset (the
 * caller sends the two RSTs the result describes) and forgotten.
 *
 * Details the caller may rely on:
 *  - Lines end in LF, with or without CR before it, for the start line and
 *    for the empty line that ends a header block (CRLFCRLF, LFLF, LF CRLF):
 *    the earliest end any receiver could see. A resync point is a whole
 *    start line (RFC 3261 25.1 Request-Line or Status-Line, "SIP/2.0" in
 *    any case) at the start of a line; the first line of a new direction,
 *    and the first after a gap, count.
 *  - A run of CR/LF between messages is one keep-alive (per call).
 *  - BAD items carry reason and detail only (data NULL, len 0). Besides
 *    the Content-Length cases, a header block longer than max_msg_len
 *    gives a BAD item (SW_SIP_R_TOO_LARGE) as well as the too_big give-up,
 *    so the caller can drop the segment that overran it.
 *  - WebSocket: each direction's first bytes must be an HTTP/1.1 request
 *    (GET, Upgrade: websocket; it is the client, whose frames must be
 *    masked) or response (101: the server; other status: both directions
 *    plain HTTP, passed unread). Anything else, a frame that breaks RFC
 *    6455, or a data message that does not begin with a SIP start line
 *    gives one BAD item (SW_SIP_R_BAD_PACKET, SW_SIP_R_TOO_LARGE or
 *    SW_SIP_R_BAD_START_LINE), after which the direction is no longer read;
 *    so is it after a close frame. Frames have no resync point: a
 *    WebSocket direction that loses bytes (gap, buffer_full) gives one BAD
 *    item "framing lost" at its next segment and is not read after it.
 *  - Rejection: a rejected direction's first max_rejects segments at or
 *    after the rejected octet are DROP (REJECTED); the next one is RESET.
 *  - A hole before out-of-order bytes counts as held (its room is
 *    reserved), at most 32 separate out-of-order ranges per direction
 *    (more: buffer_full). Bytes of a hole that arrive after the gap
 *    give-up are older than the kept window: counted unverified, passed.
 *  - Limits are made consistent: 256 <= max_conn_bytes <= 2^30,
 *    keep_bytes <= max_conn_bytes / 2, max_msg_len <= max_conn_bytes -
 *    keep_bytes - 28 (one message and a frame header always fit).
 */
#ifndef SIPD_STREAM_H
#define SIPD_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall_maps.h"

#define SIPD_STREAM_CONNS_DEFAULT	4096
#define SIPD_STREAM_CONN_BYTES_DEFAULT	(160u * 1024)	      /* per direction */
#define SIPD_STREAM_TOTAL_BYTES_DEFAULT (64ull << 20)	      /* all directions */
#define SIPD_STREAM_IDLE_NS_DEFAULT	(900ull * 1000000000) /* 15 min */
#define SIPD_STREAM_GAP_NS_DEFAULT	(10ull * 1000000000)
#define SIPD_STREAM_MSG_LEN_DEFAULT	65535
#define SIPD_STREAM_KEEP_BYTES_DEFAULT	8192 /* consumed bytes kept to check retransmissions */
#define SIPD_STREAM_REJECTS_DEFAULT	8

/*
 * Why bytes (or a whole direction) were given up. Counted in
 * sipd_stream_stats.gave_up[], exported as sipd_tcp_gave_up_total{reason=}.
 *  gap:        a hole stayed open past gap_ns, or held bytes past it would
 *              exceed the bound: the bytes before the next start line after
 *              the hole are skipped
 *  overlap:    a segment overlapped held or kept bytes with other bytes:
 *              the segment was dropped, nothing of it taken
 *  buffer_full: the direction's or the total byte bound: held bytes dropped,
 *              the direction resynchronises
 *  table_full: a connection evicted for a new one (the least recently
 *              used), counted always
 *  idle:       no segment for idle_ns; counted only when a direction held
 *              bytes not framed yet (the kept window alone is no loss)
 *  too_big:    a header block or message longer than max_msg_len: skipped,
 *              resynchronise
 *  resync:     octets skipped looking for a start line (no SIP start there)
 *  ws_protocol: a WebSocket handshake or frame that breaks RFC 6455
 *  reset:      the connection was reset after max_rejects rejected segments
 *  closed:     FIN from both sides, a RST, or a SYN that restarts the
 *              connection, with bytes not framed yet still held
 */
#define SIPD_STREAM_GIVEUPS(X)        \
	X(GAP, "gap")                 \
	X(OVERLAP, "overlap")         \
	X(BUFFER_FULL, "buffer_full") \
	X(TABLE_FULL, "table_full")   \
	X(IDLE, "idle")               \
	X(TOO_BIG, "too_big")         \
	X(RESYNC, "resync")           \
	X(WS_PROTOCOL, "ws_protocol") \
	X(RESET, "reset")             \
	X(CLOSED, "closed")

enum sipd_stream_giveup {
#define SIPD_STREAM_ENUM(id, name) SIPD_STREAM_GIVEUP_##id,
	SIPD_STREAM_GIVEUPS(SIPD_STREAM_ENUM)
#undef SIPD_STREAM_ENUM
		SIPD_STREAM_GIVEUP_MAX
};

const char *sipd_stream_giveup_name(enum sipd_stream_giveup g);

/* 0 in a field takes its default. */
struct sipd_stream_limits {
	unsigned int max_conns;	  /* connections tracked (two directions each) */
	uint32_t max_conn_bytes;  /* held per direction: unframed, out of order, kept */
	uint64_t max_total_bytes; /* held by all directions */
	uint64_t idle_ns;
	uint64_t gap_ns;
	uint32_t max_msg_len;	  /* header block + body of one message */
	uint32_t keep_bytes;	  /* consumed bytes kept per direction to check
				   * retransmissions against */
	unsigned int max_rejects; /* rejected segments before the reset */
};

/* One direction of a connection: the segment's own addresses (v4-mapped for
 * IPv4) and ports, host order. */
struct sipd_stream_key {
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
};

#define SIPD_TCP_FIN 0x01
#define SIPD_TCP_SYN 0x02
#define SIPD_TCP_RST 0x04
#define SIPD_TCP_ACK 0x10

/* A TCP segment as the IP layer gave it. */
struct sipd_tcp_seg {
	struct sipd_stream_key key;
	uint32_t seq, ack; /* host order */
	uint8_t flags;	   /* SIPD_TCP_* */
	uint8_t ws;	   /* the connection is on a WebSocket port */
	const uint8_t *data;
	size_t len;
};

enum sipd_stream_item_kind {
	SIPD_STREAM_MSG, /* data/len: exactly one SIP message, start line to body end */
	SIPD_STREAM_BAD, /* a message that cannot be framed: reason, detail */
};

struct sipd_stream_item {
	enum sipd_stream_item_kind kind;
	const uint8_t *data; /* MSG; valid until the next call into the module */
	size_t len;
	uint8_t ws;		   /* MSG came in a WebSocket message (no Content-Length needed) */
	enum sw_sip_reason reason; /* BAD: e.g. SW_SIP_R_BAD_CONTENT_LENGTH */
	char detail[112];	   /* BAD: what was wrong, e.g. "no Content-Length on a stream" */
};

enum sipd_stream_verdict {
	SIPD_STREAM_PASS,   /* nothing completed: accept the segment */
	SIPD_STREAM_DECIDE, /* items[0..n_items) completed: the segment gets their verdict */
	SIPD_STREAM_DROP,   /* drop the segment: drop_why says why */
	SIPD_STREAM_RESET,  /* drop it and reset the connection with rst[] */
};

/* Why a segment is dropped without items. */
enum sipd_stream_drop {
	SIPD_STREAM_DROP_NONE,
	SIPD_STREAM_DROP_OVERLAP,  /* bytes differ from those held or kept */
	SIPD_STREAM_DROP_REJECTED, /* bytes of a direction whose message was dropped */
};

/* A RST the caller sends (raw socket): from src to dst, exact sequence
 * number (RFC 5961: the receiver's next expected), ack = 0 with ACK off. */
struct sipd_stream_rst {
	struct sipd_stream_key key; /* the RST's own source and destination */
	uint32_t seq;
};

struct sipd_stream_res {
	enum sipd_stream_verdict v;
	enum sipd_stream_drop drop_why;
	unsigned int n_items;
	const struct sipd_stream_item *items; /* module-owned, valid until the next call */
	unsigned int keepalives;	      /* CRLF keep-alives skipped in this segment */
	struct sipd_stream_rst rst[2];	      /* RESET: to the sender and to the receiver */
};

struct sipd_stream_stats {
	uint64_t segments;     /* offered with payload */
	uint64_t messages;     /* MSG items handed back */
	uint64_t bad;	       /* BAD items */
	uint64_t keepalives;   /* CRLF keep-alives skipped */
	uint64_t retransmits;  /* segments whose bytes were all seen before, identical */
	uint64_t unverified;   /* retransmitted bytes older than the kept window: passed */
	uint64_t out_of_order; /* segments held because of a hole before them */
	uint64_t rejected;     /* segments dropped as DROP_REJECTED */
	uint64_t resets;       /* RESET results */
	uint64_t ws_messages;  /* SIP messages taken from WebSocket messages */
	uint64_t gave_up[SIPD_STREAM_GIVEUP_MAX];
	uint64_t resync_octets; /* octets skipped while resynchronising */
	uint64_t conns;		/* connections tracked now */
	uint64_t bytes_held;	/* bytes held now, all directions */
};

struct sipd_stream;

/* NULL limits: all defaults. NULL when out of memory. */
struct sipd_stream *sipd_stream_new(const struct sipd_stream_limits *l);
void sipd_stream_free(struct sipd_stream *s);

/*
 * Offer one segment (any flags; payload may be empty). Expires what is older
 * than the limits at now_ns first. Returns 0 and fills *res, or -ENOMEM
 * (then accept the segment: nothing was taken). A SYN on a tracked
 * connection with another sequence number starts it anew; a RST forgets the
 * connection; FIN ends its direction after the FIN's own payload.
 */
int sipd_stream_add(struct sipd_stream *s, const struct sipd_tcp_seg *seg, uint64_t now_ns,
		    struct sipd_stream_res *res);

/*
 * The caller dropped the segment it just offered (a DECIDE item was dropped
 * by the validator or a filter, or a BAD item): reject its direction from
 * the segment's first byte on. Same segment as the last sipd_stream_add.
 */
void sipd_stream_reject(struct sipd_stream *s, const struct sipd_tcp_seg *seg, uint64_t now_ns);

/* Give up what is idle, and holes older than gap_ns, at now_ns. */
void sipd_stream_expire(struct sipd_stream *s, uint64_t now_ns);

void sipd_stream_get_stats(const struct sipd_stream *s, struct sipd_stream_stats *st);

#endif /* SIPD_STREAM_H */
