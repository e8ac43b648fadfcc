/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One parsed and validated SIP message, as every later stage (filters, dialogs,
 * pinhole planning) sees it: plain C strings and numbers, no libosip2 types,
 * so those stages can be unit-tested with hand-built messages.
 *
 * Flow: datagram -> sipmsg_parse_datagram() (split, strict validation,
 * libosip2's parse of the identity headers, SDP extraction) -> struct sip_msg
 * -> filter -> dialog -> pinhole.
 */
#ifndef SIPD_SIPMSG_H
#define SIPD_SIPMSG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sipwall_maps.h"
#include "sdp.h"

/* snprintf(dst, len, "%s", src) without stdio (src NULL: ""); the length. */
static inline size_t sip_strlcpy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n > len - 1)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
	return n;
}

/* "user@host", or "host" when user is empty or NULL, cut to len. */
static inline void sip_join_at(char *dst, size_t len, const char *user, const char *host)
{
	size_t o = 0;

	if (user && user[0]) {
		o = sip_strlcpy(dst, len - 1, user);
		dst[o++] = '@';
	}
	sip_strlcpy(dst + o, len - o, host);
}

/* Limits enforced before and after libosip2 sees a message (config may lower). */
#define SIP_MAX_MSG_LEN	 65535
#define SIP_MAX_HEADERS	 128
#define SIP_MAX_LINE_LEN 4096
#define SIP_MAX_VIA	 70  /* RFC 4475 longreq carries 34 Vias; 70 = usual Max-Forwards */
#define SIP_TOKEN_LEN	 128 /* longest kept user / host / method */
#define SIP_TAG_LEN	 256 /* tags are kept whole: longer ones are dropped */

struct sip_limits {
	uint32_t max_msg_len;
	uint32_t max_headers;
	uint32_t max_line_len;
	uint32_t max_via;   /* loop/depth bound on the Via list */
	int strict;	    /* 1: reject what RFC 4475 allows liberally */
	int allow_trailing; /* 1: octets after the first message of a datagram
				 * are ignored (RFC 3261 18.3, RFC 4475 dblreq);
				 * 0: such a datagram is dropped (sip_trailing_data) */
};

/* One endpoint of a message: address the datagram came from / went to. */
struct sip_addr {
	uint8_t addr[16]; /* v4-mapped for IPv4 */
	uint16_t port;	  /* host order */
};

struct sip_msg {
	int is_request;
	char method[SIP_TOKEN_LEN]; /* request method; for responses the CSeq method */
	int status;		    /* responses: 100..699; requests: 0 */
	char call_id[256];	    /* full Call-ID (validated non-empty, bounded) */
	uint64_t call_hash;	    /* sw_fnv1a64(call_id) (lib/swmap.h), as in pinholes */
	char from_tag[SIP_TAG_LEN];
	char to_tag[SIP_TAG_LEN]; /* empty when absent */
	char from_user[SIP_TOKEN_LEN];
	char from_host[SIP_TOKEN_LEN];
	char to_user[SIP_TOKEN_LEN];
	char to_host[SIP_TOKEN_LEN];
	char ruri_user[SIP_TOKEN_LEN];	  /* requests only */
	char user_agent[256];		  /* empty when absent */
	char content_type[SIP_TOKEN_LEN]; /* "type/subtype", lowercase; empty when absent */
	uint32_t cseq;
	int max_forwards; /* -1 when absent */
	int via_count;
	char via_branch[SIP_TOKEN_LEN]; /* top Via branch */
	char via_transport[16];		/* top Via transport, uppercase ("UDP", "TCP", "WS") */
	const char *body;		/* points into the datagram; not NUL-terminated */
	size_t body_len;
	int has_sdp; /* body parsed as application/sdp */
	struct sdp_session sdp;
	/* Names of every header present, lowercase long form, for "header present"
	 * filter matches; NUL-separated list, double NUL at the end. */
	char header_names[1024];
	struct sip_addr src, dst; /* from the IP/UDP headers */

	/* Added by the parser (docs/sip-validation.md). */
	char err_detail[128];		 /* what was wrong when parsing failed; "" if ok */
	size_t trailing_len;		 /* octets after this message in the datagram,
					 * ignored (0 when none but CR/LF padding) */
	char cseq_method[SIP_TOKEN_LEN]; /* CSeq method (== method for requests) */
	char from_uri_scheme[16];	 /* "sip", "sips", "tel", ... lowercase */
	char to_uri_scheme[16];
};

/* The defaults: SIP_MAX_* above, strict = 1, allow_trailing = 1. */
void sip_limits_default(struct sip_limits *lim);

/*
 * Parse, strictly validate and extract one SIP message from a UDP payload:
 * limits (before libosip2 sees a byte) -> framing and Content-Length ->
 * start line and header grammar -> libosip2 parse -> field extraction ->
 * Via loop check -> SDP (application/sdp body or the first application/sdp
 * part of a multipart body).
 *
 * buf/len: the UDP payload. out->src and out->dst are kept as the caller set
 * them; everything else is overwritten. out->body points into buf.
 * *consumed (may be NULL): octets of buf the message used (leading CRLFs, start
 * line, headers, Content-Length body). A UDP datagram carries one message
 * (RFC 3261 18.1.1): octets after it are not parsed; out->trailing_len says how
 * many there were (a second request in RFC 4475 dblreq), and lim->allow_trailing
 * decides whether that drops the datagram.
 *
 * Returns 0 (accepted) or -SW_SIP_R_x; out->err_detail says what was wrong,
 * e.g. "CSeq method OPTIONS != request method INVITE". Thread-safe after the
 * first call (libosip2's parser_init runs once under pthread_once).
 */
int sipmsg_parse_datagram(const char *buf, size_t len, const struct sip_limits *lim,
			  struct sip_msg *out, size_t *consumed);

/*
 * Keep-alives on the SIP port are not SIP messages (docs/sip-validation.md,
 * "Real-world patterns handled"): sipd passes them without parsing them and
 * counts them apart. sipmsg_keepalive() says what a UDP payload is:
 *
 * SIP_KA_CRLF  at most SIP_KEEPALIVE_MAX (16) octets, each one of CR, LF, SP,
 *              HT or NUL, the empty payload included: the RFC 5626 3.5.1
 *              CRLFCRLF ping, a single CRLF, a few spaces, a lone NUL. Such a
 *              payload can never be a SIP message (it has no start line) and
 *              a receiver ignores it (RFC 3261 7.5 skips CRLFs before a start
 *              line; there is none).
 * SIP_KA_STUN  a STUN Binding message (RFC 5389 6; RFC 5626 8.4 keep-alives on
 *              the SIP port, request, indication or response): first two
 *              bits 0, method Binding, the magic cookie 0x2112A442 at octet 4,
 *              the length field equal to the rest (a multiple of 4), the
 *              attributes' TLVs filling it exactly, and SIP_KEEPALIVE_STUN_MAX
 *              (548, RFC 5389 7.1's bound without path MTU discovery) octets
 *              at most. Its first octet, 0x00 or 0x01, cannot begin a SIP
 *              start line.
 * SIP_KA_NONE  anything else: parse it as SIP.
 *
 * Pure, O(len) over at most 548 octets: it runs before any parsing.
 */
#define SIP_KEEPALIVE_MAX      16
#define SIP_KEEPALIVE_STUN_MAX 548
enum sip_keepalive {
	SIP_KA_NONE = 0,
	SIP_KA_CRLF,
	SIP_KA_STUN,
};
enum sip_keepalive sipmsg_keepalive(const uint8_t *p, size_t len);
/* "crlf", "stun", "" */
const char *sipmsg_keepalive_name(enum sip_keepalive k);

/* libosip2's global init; sipmsg_parse_datagram calls it itself. Call it from
 * main before starting threads if you want the cost paid up front. */
void sipmsg_global_init(void);

#endif /* SIPD_SIPMSG_H */
