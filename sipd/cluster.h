/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cluster replication (docs/ha.md): the pinholes and bans this node decides
 * go to Redis (a key per record with its TTL, plus a change log stream); the
 * other nodes' records come back from the stream into this node's maps.
 *
 * Two threads of its own do all Redis I/O (blocking hiredis with timeouts);
 * the message path only copies a record into a bounded queue under a lock
 * held for that copy (never across I/O), so a slow or dead Redis never
 * delays a verdict or a local map write. A full queue drops the record,
 * counts it, and makes the writer republish this node's pinholes once Redis
 * takes writes again.
 */
#ifndef SIPD_CLUSTER_H
#define SIPD_CLUSTER_H

#include <stdint.h>
#include <stdio.h>

#include "lib/swmap.h"
#include "sipd/clrec.h"
#include "sipd/config.h"

struct sipd_cluster;
struct sipd_events;

/* Counters, named as in /metrics (sipd_cluster_<name>_total). */
#define SIPD_CLUSTER_COUNTERS(X)                                                      \
	X(published, "records written to Redis")                                      \
	X(publish_errors, "record writes Redis refused or that failed")               \
	X(queue_dropped, "records dropped: outgoing queue full")                      \
	X(republished, "own pinholes written again after drops")                      \
	X(received, "records read from the change log or a snapshot")                 \
	X(applied, "records applied to the local maps")                               \
	X(stale, "records older than the state they would replace (skipped)")         \
	X(bad_records, "records that did not parse (skipped)")                        \
	X(conflicts, "remote records whose destination a local call holds (skipped)") \
	X(not_owner, "closes from a node that does not own the record (skipped)")     \
	X(map_errors, "map writes of remote records that failed")                     \
	X(closed_remote, "remote pinholes closed here on their owner's close")        \
	X(taken_over, "pinholes of a dead owner closed here on a BYE")                \
	X(expired, "remote pinholes removed here at their TTL or idle")               \
	X(bans_applied, "remote bans written to sw_bans")                             \
	X(connects, "connections to Redis made")                                      \
	X(disconnects, "connections to Redis lost")                                   \
	X(resyncs, "snapshot resyncs (join, restart, trimmed log)")                   \
	X(auth_errors, "AUTH refused")                                                \
	X(owners_lost, "other nodes whose heartbeat expired")                         \
	X(heartbeat_lapses, "refreshes that found this node's own heartbeat expired") \
	X(closed_by_takeover, "own pinholes another node took over and closed (call ended)")

#define SIPD_CL_X_ENUM(n, h) SIPD_CL_##n,
enum sipd_cluster_counter { SIPD_CLUSTER_COUNTERS(SIPD_CL_X_ENUM) SIPD_CL_MAX };
#undef SIPD_CL_X_ENUM

struct sipd_cluster_stats {
	uint64_t c[SIPD_CL_MAX];
	uint64_t bad_by_reason[CLREC_E_MAX];
	uint64_t queue_depth, queue_len;
	uint64_t remote_pinholes; /* applied here, owned elsewhere */
	uint64_t owners_alive;	  /* other nodes with a live heartbeat */
	uint64_t last_resync_ms;  /* duration of the last resync */
	uint64_t last_resync_records;
	int writer_connected, reader_connected;
	char node_id[CLREC_NODE_LEN];
	char redis[80];	      /* the endpoint in use, "" when none */
	char last_error[128]; /* named reason + detail */
};

/* cfg->cluster.enabled must be set. Reads the credentials file, starts the
 * threads (which connect on their own: Redis down is not an error). NULL and
 * err on bad settings. maps stays the caller's, open until stop. */
struct sipd_cluster *sipd_cluster_start(const struct sipd_config *cfg, const struct sw_maps *maps,
					char *err, size_t errlen);
void sipd_cluster_stop(struct sipd_cluster *cl);

/* The message path's hooks: copy and return; NULL cl = replication off. */
void sipd_cluster_ph_put(struct sipd_cluster *cl, const struct sw_pinhole_key *k,
			 const struct sw_pinhole *v);
void sipd_cluster_ph_del(struct sipd_cluster *cl, const struct sw_pinhole_key *k,
			 uint64_t call_hash);
void sipd_cluster_ban(struct sipd_cluster *cl, const uint8_t addr[16], unsigned int plen,
		      uint32_t ttl_s, unsigned int reason);
/* A BYE for a call this node does not track: a dead owner's pinholes of
 * that call (replicated here) close. */
void sipd_cluster_bye(struct sipd_cluster *cl, uint64_t call_hash);

/* A call of this node's that another node took over and closed while this
 * one was dead (a previous process) or cut off (its heartbeat lapsed:
 * docs/ha.md): main thread, end it. 1 and *call_hash, or 0. */
int sipd_cluster_next_close(struct sipd_cluster *cl, uint64_t *call_hash);

void sipd_cluster_get_stats(struct sipd_cluster *cl, struct sipd_cluster_stats *s);
/* "cluster":{...} for the status file (no leading comma). */
void sipd_cluster_status_json(struct sipd_cluster *cl, FILE *f);
/* State changes since the last call, as events (main thread). */
void sipd_cluster_emit_events(struct sipd_cluster *cl, struct sipd_events *ev, uint64_t now_ns);
const char *sipd_cluster_counter_name(unsigned int i);
const char *sipd_cluster_counter_help(unsigned int i);

#endif /* SIPD_CLUSTER_H */
