/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One parsed and validated SIP message, as every later stage (filters, dialogs,
 * pinhole planning) sees it: plain C strings and numbers, no libosip2 types,
 * so those stages can be unit-tested with hand-built messages.
 *
 * Flow: datagram -> sipmsg_parse_datagram() (split, libosip2 parse, strict
 * validation, SDP extraction) -> struct sip_msg -> filter -> dialog -> pinhole.
 */
#ifndef SIPD_SIPMSG_H
#define SIPD_SIPMSG_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall_maps.h"
#include "sdp.h"

/* Limits enforced before and after libosip2 sees a message (config may lower). */
#define SIP_MAX_MSG_LEN 65535
#define SIP_MAX_HEADERS 128
#define SIP_MAX_LINE_LEN 4096
#define SIP_MAX_VIA 32
#define SIP_TOKEN_LEN 128 /* longest kept tag / user / host / method */

struct sip_limits {
	uint32_t max_msg_len;
	uint32_t max_headers;
	uint32_t max_line_len;
	uint32_t max_via;	/* loop/depth bound on the Via list */
	int strict;		/* 1: reject what RFC 4475 allows liberally */
};

/* One endpoint of a message: address the datagram came from / went to. */
struct sip_addr {
	uint8_t addr[16];	/* v4-mapped for IPv4 */
	uint16_t port;		/* host order */
};

struct sip_msg {
	int is_request;
	char method[SIP_TOKEN_LEN];	/* request method; for responses the CSeq method */
	int status;			/* responses: 100..699; requests: 0 */
	char call_id[256];		/* full Call-ID (validated non-empty, bounded) */
	uint64_t call_hash;		/* sw_fnv1a64(call_id) (lib/swmap.h), as in pinholes */
	char from_tag[SIP_TOKEN_LEN];
	char to_tag[SIP_TOKEN_LEN];	/* empty when absent */
	char from_user[SIP_TOKEN_LEN];
	char from_host[SIP_TOKEN_LEN];
	char to_user[SIP_TOKEN_LEN];
	char to_host[SIP_TOKEN_LEN];
	char ruri_user[SIP_TOKEN_LEN];	/* requests only */
	char user_agent[256];		/* empty when absent */
	char content_type[SIP_TOKEN_LEN]; /* "type/subtype", lowercase; empty when absent */
	uint32_t cseq;
	int max_forwards;		/* -1 when absent */
	int via_count;
	char via_branch[SIP_TOKEN_LEN];	/* top Via branch */
	const char *body;		/* points into the datagram; not NUL-terminated */
	size_t body_len;
	int has_sdp;			/* body parsed as application/sdp */
	struct sdp_session sdp;
	/* Names of every header present, lowercase long form, for "header present"
	 * filter matches; NUL-separated list, double NUL at the end. */
	char header_names[1024];
	struct sip_addr src, dst;	/* from the IP/UDP headers */
};

#endif /* SIPD_SIPMSG_H */
