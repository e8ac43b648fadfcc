/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The admin's policy over parsed messages: ordered filter rules (first match
 * wins, default action last), then the per-user inbound caller whitelist.
 */
#ifndef SIPD_FILTER_H
#define SIPD_FILTER_H

#include <stddef.h>

#include "sipd/config.h"
#include "sipd/sipmsg.h"

/* 1 if every criterion of m matches msg (dir: SIPD_DIR_* of msg). */
int sipd_match(const struct sipd_match *m, const struct sip_msg *msg, unsigned int dir);

/* Action (enum sipd_action) of the first matching rule, else the default;
 * *rule = its index, or -1 for the default. */
int sipd_filter_eval(const struct sipd_config *c, const struct sip_msg *msg, unsigned int dir,
		     int *rule);

/* 1 if msg may pass the caller whitelist: it only judges inbound initial
 * INVITEs (no To tag) to a user whose whitelist is enabled. */
int sipd_whitelist_ok(const struct sipd_config *c, const struct sip_msg *msg, unsigned int dir);

/* Both stages: 0 = accepted, else -SW_SIP_R_FILTER_DROP or
 * -SW_SIP_R_NOT_WHITELISTED with detail naming the rule or user. */
int sipd_policy(const struct sipd_config *c, const struct sip_msg *msg, unsigned int dir,
		char *detail, size_t len);

#endif /* SIPD_FILTER_H */
