/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The RSTs that end a TCP connection whose dropped SIP message keeps being
 * retransmitted (stream.h, SIPD_STREAM_RESET): built whole (IPv4 or IPv6
 * header, TCP header with RST, the exact sequence number the receiver
 * expects, checksums) and sent on a raw socket of the namespace sipd runs
 * in, so they leave like any packet the firewall routes.
 */
#ifndef SIPD_TCPRST_H
#define SIPD_TCPRST_H

#include <stddef.h>
#include <stdint.h>

#include "sipd/stream.h"

/* Build the RST datagram into buf (at least 60 octets); its length. */
size_t sipd_tcp_build_rst(const struct sipd_stream_rst *r, uint8_t *buf);

/* Send it. 0 or a negative errno (reported once per errno). */
int sipd_tcp_send_rst(const struct sipd_stream_rst *r);

#endif /* SIPD_TCPRST_H */
