/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP over TCP (RFC 3261 18.3) and over plain WebSocket (RFC 7118, RFC 6455):
 * per-connection, per-direction stream reassembly and message framing for the
 * inline path and the capture sources. The module knows TCP sequence numbers
 * and SIP/WebSocket framing, nothing of SIP's meaning: it hands back complete
 * messages and tells the caller what to do with the segment.
 *
 * The guarantee (fail closed): a segment the module lets pass (PASS, or
 * DECIDE and every item accepted) carries only bytes that are
 *  - part of messages it framed and handed back (or retransmissions of them
 *    within the kept window, compared byte for byte),
 *  - held as part of a message whose start line it saw (an unfinished
 *    header block or body), or the prefix of a start line at a known
 *    message boundary,
 *  - CR/LF keep-alives between messages,
 *  - a WebSocket HTTP/1.1 handshake (or a non-101 response, its
 *    Content-Length body, and the next request) it parsed, or frames of it,
 *  - out-of-order bytes it holds: they can reach the application only with
 *    the bytes of the hole before them, and the segment that fills the hole
 *    gets the verdict of everything it completes.
 * Anything else is dropped, and where the receiver may already hold a part
 * of a message the module can no longer follow, the direction is rejected
 * (below) so the receiver never gets the rest.
 *
 * A direction is created by a SYN (its base is then known: the first bytes
 * may come in any pieces) or on its first segment with payload (the inline
 * path: the rules queue no SYN). Then nothing tells where a message starts:
 * the direction must begin with CR/LF keep-alives or a complete start line
 * (WebSocket: a complete handshake line). If it does not, the segment is
 * dropped (DROP_UNFRAMED) and the direction rejected. As nothing of it
 * passed, a segment at or before its start (a retransmission, or the bytes
 * before it when the start of a connection was reordered) starts it again
 * there, what was held of the dropped bytes let go; each such try counts
 * towards max_rejects, after which it is reset. While a picked-up direction
 * has consumed nothing, bytes that join it in front are taken within gap_ns.
 * The accepted trade-off: a restarted sipd (or one whose entry for a
 * connection was lost while a message was in flight) kills connections
 * it meets in the middle of a message; connections at a message boundary
 * are picked up where they are. Bytes before a direction's base (before its
 * first byte, or older than the kept window) cannot be compared: dropped
 * (DROP_UNVERIFIED).
 *
 * In-order bytes are framed at once; out-of-order bytes are held until the
 * hole before them fills; bytes that overlap held or recently consumed
 * bytes must be identical, or the segment is dropped whole (an evasion).
 * Messages are framed by the empty line after the headers plus
 * Content-Length, which a stream requires. Nothing is ever skipped: at a
 * message boundary the next line that is not CR/LF must be a strict start
 * line, or it gives a BAD item (SW_SIP_R_BAD_START_LINE, the detail says
 * what is wrong), and every BAD item rejects its direction (the module does
 * it itself; the caller's sipd_stream_reject() is harmless on top). There
 * is no resynchronisation.
 *
 * Everything is bounded: directions tracked (least recently used evicted),
 * bytes held per direction and in total, message length, idle time, the time
 * a hole may stay open. When a bound is hit the module never passes what it
 * cannot hold: a new segment is dropped (DROP_NO_ROOM, counted buffer_full;
 * TCP sends it again), and bytes already passed are given up only with a
 * rejection from the first byte the receiver does not have yet (a hole that
 * stayed open past gap_ns; bytes of a least recently used connection taken
 * for a new one when the total bound is reached). A connection that is
 * forgotten (table eviction, idle, both FINs, an exact RST) leaves a tombstone:
 *  - if it could be in the middle of a message (or was rejected or reset),
 *    its next segment with payload is RESET and later ones are dropped
 *    (REJECTED) until a RST with the exact sequence number, idle_ns after
 *    that reset, or a segment far from where it was (below);
 *  - if it was at a message boundary both ways, where each direction was:
 *    a segment near that point brings it back exactly there (bytes before
 *    it dropped as UNVERIFIED, after a hole held), so a pickup can never
 *    start behind its receiver and frame the stream misaligned.
 * Tombstones are bounded too (2 x max_conns, in sets of 4 by hash: a new
 * one overwrites the oldest of its set, counted in tombstones_lost; that
 * connection is then a plain pickup again).
 * "Far" is more than 2^23 from the last known next sequence number: further
 * than any receive window, so the old connection's receiver would not take
 * it; it marks a new connection on the same ports (the inline path never
 * sees its SYN).
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
 *    the earliest end any receiver could see.
 *  - A start line is RFC 3261 25.1's, strictly: Request-Line "Method SP
 *    Request-URI SP SIP/2.0" (single spaces, no tab, nothing after the
 *    version) or Status-Line "SIP/2.0 SP 3DIGIT SP Reason-Phrase", where the
 *    Reason-Phrase may be empty ("SIP/2.0 200 " is accepted, as the grammar
 *    allows; "SIP/2.0 200" is not) and may hold SP and HTAB but no other
 *    control character. "SIP/2.0" in any case. At a boundary a line that
 *    is not CR/LF and does not complete within max_msg_len is BAD too
 *    (SW_SIP_R_TOO_LARGE).
 *  - A run of CR/LF between messages is one keep-alive (per call).
 *  - BAD items carry reason and detail only (data NULL, len 0). Besides
 *    the Content-Length and start line cases, a header block longer than
 *    max_msg_len gives a BAD item (SW_SIP_R_TOO_LARGE, counted too_big).
 *  - WebSocket: each direction's first bytes must be an HTTP/1.1 request
 *    (GET; with Upgrade: websocket it is the client, whose frames must be
 *    masked) or response (101: the server). A response other than 101 (a
 *    401 before a retried GET with credentials) and its Content-Length
 *    body are passed and both directions parse HTTP again; a body without
 *    Content-Length (chunked, or to the close) cannot be followed: BAD.
 *    Anything else, a frame that breaks RFC 6455, or a data message that
 *    does not begin with a SIP start line gives one BAD item
 *    (SW_SIP_R_BAD_PACKET, SW_SIP_R_TOO_LARGE or SW_SIP_R_BAD_START_LINE).
 *    Bytes after a close frame in its direction are dropped (UNFRAMED).
 *  - Rejection: a rejected direction's first max_rejects segments at or
 *    after the rejected octet are DROP (REJECTED); the next one is RESET.
 *    The RST to the receiver carries the first octet it has not got (the
 *    end of what passed before the rejected segment, also when the segment
 *    began with octets it had already), the one to
 *    the sender what the sender expects next (the reverse direction's
 *    contiguous end, or the segment's ack if later).
 *  - A RST forgets the connection only if its sequence number is exactly
 *    the next one its direction expects (RFC 5961 3.2), and leaves a
 *    tombstone as any forgetting does; otherwise nothing changes (it
 *    passes: the endpoint judges it). A SYN with payload on a
 *    tracked connection is dropped (DROP_SYN); a plain SYN (or a segment)
 *    restarts a connection the module reset only if far from where it was
 *    (see above); a plain SYN restarts a live one only if far, with both
 *    directions at a message boundary; otherwise it changes nothing (the
 *    endpoint answers it with a challenge ACK); a SYN with the ISN already
 *    known is a retransmission. A SYN of an untracked connection creates it
 *    with its base known, trusted (the inline rules never queue SYNs;
 *    replay and passive mode see real handshakes). A picked-up direction
 *    must not begin before what its receiver acknowledged (the other
 *    direction's ack): dropped (UNVERIFIED). A FIN is recorded only at its direction's contiguous
 *    end; payload at or after a recorded FIN is dropped (DROP_AFTER_FIN)
 *    and the direction rejected from the FIN.
 *  - A hole before out-of-order bytes counts as held (its room is
 *    reserved), at most 32 separate out-of-order ranges per direction.
 *  - Memory: bytes_held and max_total_bytes count the buffers' capacity
 *    (what is allocated), so max_total_bytes bounds the memory of the
 *    buffers; max_conn_bytes bounds a direction's span (kept window,
 *    unframed and out-of-order bytes, holes), its buffer is at most twice
 *    that.
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
#define SIPD_STREAM_KEEP_BYTES_DEFAULT	32768 /* consumed bytes kept to check retransmissions */
#define SIPD_STREAM_REJECTS_DEFAULT	8

/*
 * Why bytes (or a whole direction) were given up. Counted in
 * sipd_stream_stats.gave_up[], exported as sipd_tcp_gave_up_total{reason=}.
 *  gap:        a hole stayed open past gap_ns: the direction is rejected
 *              from the hole (nothing after it will pass)
 *  overlap:    a segment overlapped held or kept bytes with other bytes:
 *              the segment was dropped, nothing of it taken
 *  buffer_full: a segment that could not be held (the direction's or the
 *              total bound, 32 out-of-order ranges) was dropped, or a
 *              connection's bytes were taken for another's (the total
 *              bound): counted once per such connection, whose directions
 *              that were mid-message are rejected
 *  table_full: a connection evicted for a new one (the least recently
 *              used), counted always
 *  idle:       no segment for idle_ns; counted only when a direction held
 *              bytes not framed yet (the kept window alone is no loss)
 *  too_big:    a header block or message longer than max_msg_len (BAD)
 *  unframed:   bytes where no message boundary is known that are not a
 *              start line (a direction picked up mid-message, bytes after a
 *              WebSocket close): dropped, the direction rejected
 *  ws_protocol: a WebSocket handshake or frame that breaks RFC 6455
 *  reset:      the connection was reset after max_rejects rejected segments
 *              (or a tombstone's, see above)
 *  closed:     FIN from both sides, an exact RST, or a SYN that restarts the
 *              connection, with bytes not framed yet still held
 */
#define SIPD_STREAM_GIVEUPS(X)        \
	X(GAP, "gap")                 \
	X(OVERLAP, "overlap")         \
	X(BUFFER_FULL, "buffer_full") \
	X(TABLE_FULL, "table_full")   \
	X(IDLE, "idle")               \
	X(TOO_BIG, "too_big")         \
	X(UNFRAMED, "unframed")       \
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
	SIPD_STREAM_DROP_OVERLAP,    /* bytes differ from those held or kept */
	SIPD_STREAM_DROP_REJECTED,   /* bytes of a direction whose message was dropped */
	SIPD_STREAM_DROP_UNFRAMED,   /* no start line where no boundary is known, or
				      * after a WebSocket close: the direction is rejected */
	SIPD_STREAM_DROP_UNVERIFIED, /* bytes before the direction's base (older than the
				      * kept window, or before its first byte): not comparable */
	SIPD_STREAM_DROP_NO_ROOM,    /* bytes that cannot be held (a bound); TCP resends */
	SIPD_STREAM_DROP_AFTER_FIN,  /* payload at or after the direction's FIN */
	SIPD_STREAM_DROP_SYN,	     /* a SYN with payload on a tracked connection */
	SIPD_STREAM_DROP_MAX
};

/* A sentence for drop_why, for the caller's event detail. */
const char *sipd_stream_drop_detail(enum sipd_stream_drop w);

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
	uint64_t unverified;   /* segments dropped as DROP_UNVERIFIED (bytes older than the
				* kept window or before a direction's first byte) */
	uint64_t out_of_order; /* segments held because of a hole before them */
	uint64_t rejected;     /* segments dropped as DROP_REJECTED */
	uint64_t resets;       /* RESET results */
	uint64_t ws_messages;  /* SIP messages taken from WebSocket messages */
	uint64_t gave_up[SIPD_STREAM_GIVEUP_MAX];
	uint64_t resync_octets; /* always 0: nothing is skipped any more (kept for the metric) */
	uint64_t conns;		/* connections tracked now */
	uint64_t bytes_held;	/* buffer capacity allocated now, all directions */
	uint64_t dropped[SIPD_STREAM_DROP_MAX]; /* DROP results by drop_why */
	uint64_t tombstones;			/* tombstones held now */
	uint64_t tombstones_lost;		/* overwritten by newer ones */
};

struct sipd_stream;

/* NULL limits: all defaults. NULL when out of memory. */
struct sipd_stream *sipd_stream_new(const struct sipd_stream_limits *l);
void sipd_stream_free(struct sipd_stream *s);

/*
 * Offer one segment (any flags; payload may be empty). Expires what is older
 * than the limits at now_ns first. Returns 0 and fills *res, or -ENOMEM
 * (then accept the segment: nothing was taken). SYN, RST and FIN: see
 * above (a SYN of an untracked connection creates it, base known).
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
