/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rtpengine "ng" control protocol, as spoken by Kamailio's and OpenSIPS's
 * rtpengine modules (rtpengine_offer/answer/delete/manage), so that a SIP
 * proxy can drive sipwall's pinholes. This file is the protocol layer only:
 * wire format, request parsing, replies, retransmission cache, access
 * control and sockets. What a command does is up to a handler
 * (struct sipd_ng_handler); the layer answers ping and malformed requests
 * itself. docs/control.md describes the protocol as sipd speaks it.
 *
 * Wire format: one datagram (UDP, or a SOCK_DGRAM Unix socket) is
 *     COOKIE SP BENCODE-DICTIONARY
 * and the reply, sent to the request's source, is
 *     COOKIE SP BENCODE-DICTIONARY
 * with the request's cookie. The cookie is 1..SIPD_NG_MAX_COOKIE visible
 * ASCII bytes (0x21-0x7e); a datagram without one cannot be answered and is
 * dropped (counted). Every reply has "result": "pong" (ping), "ok" (with the
 * handler's keys, maybe "warning") or "error" with "error-reason" and
 * nothing else. Reply dictionaries are encoded with sorted keys.
 *
 * Retransmissions: a proxy resends a request with the same cookie when the
 * reply is late. The reply to each (cookie, source address) is kept for
 * cache_ttl_ms; a repeat gets the cached bytes and the handler is not called
 * again. The cache is bounded in entries and bytes, oldest evicted first.
 *
 * Access: a datagram from an inet source not in the controllers list is
 * dropped and counted, never answered or parsed. An empty list means
 * loopback only (127.0.0.0/8, ::1). Unix-socket senders are controlled by
 * the socket file's mode (0660 by default) and need a bound address of their
 * own to get replies.
 *
 * Single-threaded, non-blocking: the sockets are serviced from sipd's poll
 * loop (struct sipd_aux, see source.h) with sipd_ng_fill/sipd_ng_service.
 */
#ifndef SIPD_NG_H
#define SIPD_NG_H

#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>

#include "sipd/bencode.h"

#define SIPD_NG_MAX_DGRAM	     65535 /* request and reply datagrams */
#define SIPD_NG_MAX_COOKIE	     64
#define SIPD_NG_MAX_LIST	     32 /* entries kept of flags, replace, ... */
#define SIPD_NG_MAX_OTHER	     64 /* unrecognised keys kept for the handler */
#define SIPD_NG_MAX_CONTROLLERS	     32
#define SIPD_NG_MAX_POLLFD	     2 /* descriptors sipd_ng_fill() may add */
#define SIPD_NG_CACHE_TTL_MS_DEFAULT 30000
#define SIPD_NG_CACHE_MAX_DEFAULT    4096
#define SIPD_NG_CACHE_BYTES_DEFAULT  (8u << 20)
#define SIPD_NG_BURST_DEFAULT	     32 /* datagrams read per socket per service */
#define SIPD_NG_REPLY_MAX_ITEMS	     256
#define SIPD_NG_REPLY_MAX_DEPTH	     8

/* A byte string inside the request datagram (not NUL-terminated). p is
 * NULL when the key is absent. */
struct sipd_ng_str {
	const uint8_t *p;
	size_t len;
};

struct sipd_ng_strlist {
	struct sipd_ng_str v[SIPD_NG_MAX_LIST];
	unsigned int n;
	int present;
};

enum sipd_ng_cmd {
	SIPD_NG_PING = 1,
	SIPD_NG_OFFER,
	SIPD_NG_ANSWER,
	SIPD_NG_DELETE,
	SIPD_NG_QUERY,
	SIPD_NG_LIST,
	SIPD_NG_STATISTICS,
	SIPD_NG_CMD_MAX
};

/* "ping", "offer", ... */
const char *sipd_ng_cmd_name(enum sipd_ng_cmd c);

/*
 * A parsed request, valid during the handler call only (it points into the
 * datagram and the decoded tree). Key names match with '-' and ' ' as the
 * same character ("received from" = "received-from"), case-sensitively, as
 * rtpengine does. Present string keys have p != NULL. Checked here:
 *   offer, answer: call-id, from-tag, sdp non-empty; answer also to-tag
 *   delete: call-id, from-tag; query: call-id; list: limit > 0 if given
 *   direction: exactly 2 strings; received-from: ["IP4"|"IP6", address] with
 *   an address of that family; media-address: an IPv4 or IPv6 address.
 * Everything else is carried as given; unrecognised keys are in other[] so a
 * handler can refuse what it cannot honour.
 */
struct sipd_ng_req {
	enum sipd_ng_cmd cmd;
	struct sipd_ng_str cookie;
	struct sipd_ng_str call_id, from_tag, to_tag, via_branch;
	struct sipd_ng_str sdp;
	struct sipd_ng_strlist flags;	 /* "flags" */
	struct sipd_ng_strlist replace;	 /* "replace" */
	struct sipd_ng_strlist supports; /* "supports" */
	struct sipd_ng_strlist rtcp_mux; /* "rtcp-mux" (a string counts as one) */
	struct sipd_ng_strlist sdes;	 /* "SDES" (a string counts as one) */
	struct sipd_ng_str direction[2]; /* "direction", when present */
	int has_direction;
	struct {
		struct sipd_ng_str family, address; /* "IP4"/"IP6", the address */
		int af;				    /* AF_INET, AF_INET6; 0 absent */
		uint8_t addr[16];		    /* IPv4 as ::ffff:a.b.c.d */
	} received_from;			    /* "received-from" */
	struct sipd_ng_str media_address;	    /* "media-address" (checked address) */
	struct sipd_ng_str ice;			    /* "ICE": remove, force, ... (not checked) */
	struct sipd_ng_str address_family;	    /* "address-family": IP4, IP6 */
	struct sipd_ng_str transport_protocol;	    /* "transport-protocol" */
	struct sipd_ng_str dtls;		    /* "DTLS" */
	struct sipd_ng_str record_call;		    /* "record-call" */
	const struct sipd_benc_node *codec;	    /* "codec" (a dictionary), or NULL */
	int64_t limit;				    /* "limit" (list), 0 absent */
	int64_t delete_delay;			    /* "delete-delay", -1 absent */
	struct {
		struct sipd_ng_str key;
		const struct sipd_benc_node *val;
	} other[SIPD_NG_MAX_OTHER];
	unsigned int n_other;
	const struct sipd_benc_node *dict;   /* the whole request dictionary */
	const struct sockaddr_storage *from; /* the controller that sent it */
};

/*
 * The reply a handler fills. "result" is the layer's: "ok" unless the
 * handler calls sipd_ng_reply_error(). Keys are copied, in any order (the
 * encoder sorts them); a key may appear once per dictionary. Containers nest
 * up to SIPD_NG_REPLY_MAX_DEPTH; inside a list pass key NULL, inside a dict a
 * key. Every function returns 0 or a negative errno, and the first failure
 * (-ENOSPC: more than SIPD_NG_REPLY_MAX_ITEMS values or 64 KiB of text,
 * -EEXIST: duplicate key, -EINVAL: misuse, including the reserved keys
 * "result" and "error-reason") turns the whole reply into an error reply
 * ("reply not built: ..."), so a handler may skip checking each call.
 */
struct sipd_ng_reply;

int sipd_ng_reply_str(struct sipd_ng_reply *r, const char *key, const char *val);
int sipd_ng_reply_bytes(struct sipd_ng_reply *r, const char *key, const void *p, size_t len);
int sipd_ng_reply_int(struct sipd_ng_reply *r, const char *key, int64_t v);
int sipd_ng_reply_strlist(struct sipd_ng_reply *r, const char *key, const char *const *v,
			  unsigned int n);
int sipd_ng_reply_open_dict(struct sipd_ng_reply *r, const char *key);
int sipd_ng_reply_open_list(struct sipd_ng_reply *r, const char *key);
int sipd_ng_reply_close(struct sipd_ng_reply *r); /* containers left open close at the end */
/* "result": "error", "error-reason": the text; every other key is dropped. */
__attribute__((format(printf, 2, 3))) int sipd_ng_reply_error(struct sipd_ng_reply *r,
							      const char *fmt, ...);
/* "warning": the text, next to "result": "ok" (a non-fatal problem). */
__attribute__((format(printf, 2, 3))) int sipd_ng_reply_warning(struct sipd_ng_reply *r,
								const char *fmt, ...);

/*
 * Called for every valid request but ping. Return 0 after filling the reply
 * (result ok, or an error set with sipd_ng_reply_error), or a negative errno:
 * without an error reason set, the reply is "error-reason": "internal error:
 * <strerror>". NULL command: every command but ping gets "not implemented".
 */
struct sipd_ng_handler {
	int (*command)(void *ctx, const struct sipd_ng_req *req, struct sipd_ng_reply *reply);
	void *ctx;
};

struct sipd_ng_opts {
	const char *listen;		/* UDP "127.0.0.1:22222", "[::1]:22222"; NULL/"" = off;
				 * port 0 = any free port (sipd_ng_udp_port) */
	int allow_remote;		/* listen on / accept controllers beyond loopback */
	const char *unix_path;		/* SOCK_DGRAM socket path; NULL/"" = off */
	unsigned int unix_mode;		/* 0 = 0660 */
	const char *const *controllers; /* CIDRs ("127.0.0.1/32", "::1", ...) */
	unsigned int n_controllers;	/* 0 = loopback only */
	unsigned int cache_ttl_ms;	/* 0 = SIPD_NG_CACHE_TTL_MS_DEFAULT */
	unsigned int cache_max;		/* entries, 0 = SIPD_NG_CACHE_MAX_DEFAULT */
	size_t cache_bytes;		/* reply bytes, 0 = SIPD_NG_CACHE_BYTES_DEFAULT */
	unsigned int burst;		/* 0 = SIPD_NG_BURST_DEFAULT */
	uint64_t (*now_ns)(void);	/* monotonic clock; NULL = CLOCK_MONOTONIC */
};

/* Every outcome, counted once per datagram (plus what it led to). */
struct sipd_ng_stats {
	uint64_t received;		/* datagrams read or given to sipd_ng_process */
	uint64_t replied;		/* replies produced (fresh and cached) */
	uint64_t cache_hits;		/* retransmissions answered from the cache */
	uint64_t cache_evicted;		/* entries dropped for room before their time */
	uint64_t dropped_unauthorised;	/* source not a controller: no reply */
	uint64_t dropped_bad_cookie;	/* no usable cookie: no reply */
	uint64_t dropped_unaddressable; /* Unix-socket sender without an address */
	uint64_t err_too_large;		/* datagram over SIPD_NG_MAX_DGRAM */
	uint64_t err_decode;		/* not valid bencode, or not a dictionary */
	uint64_t err_request;		/* missing, mistyped or malformed keys */
	uint64_t err_unknown_command;
	uint64_t err_handler; /* handler replied (or failed with) an error */
	uint64_t err_reply;   /* reply not built or too large */
	uint64_t recv_errors, send_errors;
	uint64_t handler_calls;
	uint64_t commands[SIPD_NG_CMD_MAX]; /* valid requests by command */
	uint64_t cache_entries;		    /* now */
};

struct sipd_ng;

/* Parse the options and open the sockets (none is fine: sipd_ng_process
 * alone). NULL with err filled ("control: ..."). The handler is copied. */
struct sipd_ng *sipd_ng_open(const struct sipd_ng_opts *o, const struct sipd_ng_handler *h,
			     char *err, size_t errlen);
/* Close the sockets (and remove the Unix socket file), free everything. */
void sipd_ng_close(struct sipd_ng *ng);

/* Poll integration (struct sipd_aux): fill up to max pollfds (at most
 * SIPD_NG_MAX_POLLFD), then after poll() service them: up to `burst`
 * datagrams per readable socket, MSG_DONTWAIT, each answered at once. */
unsigned int sipd_ng_fill(struct sipd_ng *ng, struct pollfd *p, unsigned int max);
void sipd_ng_service(struct sipd_ng *ng, const struct pollfd *p, unsigned int n);

/*
 * One request datagram from `from` (AF_INET, AF_INET6 or AF_UNIX). Returns 1
 * with the reply in out[0..*outlen) (*outlen is the capacity on entry), 0 if
 * the datagram gets no reply (unauthorised source, no cookie), or -EINVAL /
 * -ENOSPC (out too small even for an error reply). No sockets involved.
 */
int sipd_ng_process(struct sipd_ng *ng, const uint8_t *in, size_t len,
		    const struct sockaddr_storage *from, uint8_t *out, size_t *outlen);

const struct sipd_ng_stats *sipd_ng_stats(const struct sipd_ng *ng);
/* The bound UDP port (host order), 0 without a UDP socket. */
uint16_t sipd_ng_udp_port(const struct sipd_ng *ng);

#endif /* SIPD_NG_H */
