#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make demo`: a real SIP call with RTP through the firewall. Builds the lab
# (tests/lab/lab.sh) in private network namespaces: SIPp UAC in outside, SIPp
# UAS in inside, fw routing with the sipwall XDP program on both its
# interfaces and sipd inline on NFQUEUE. Shows pinholes opening at the 200 OK,
# RTP passing both ways, a spoofer dropped, pinholes closing after the BYE,
# late RTP dropped, and the counters. Everything it made is removed on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
SW_TOP=$PWD
source tests/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "demo: must run as root" >&2; exit 1; }
for b in build/bin/sipwall build/bin/sipd; do
	[ -x "$b" ] || { echo "demo: $b not built (run make)" >&2; exit 1; }
done
for t in sipp iptables nsenter /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "demo: $t missing (run make deps)" >&2; exit 1; }
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

lab_tag=$(sw_tag)
source tests/lab/lab.sh
cleanup() {
	set +e
	lab_down
	echo "== cleaned up (namespaces $lab_tag-*, pin path $LAB_PIN, iptables chain SIPWALL in fw)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
sw() { printf '$ sipwall %s\n' "$*"; in_f "$LAB_SIPWALL" "$@" --pin-path "$LAB_PIN"; }
EV_SEEN=0
# Print the sipd events written since the last call, one readable line each.
events() {
	local n
	n=$(wc -l <"$LAB_TMP/events.jsonl" 2>/dev/null || echo 0)
	[ "$n" -gt "$EV_SEEN" ] || return 0
	tail -n +$((EV_SEEN + 1)) "$LAB_TMP/events.jsonl" | head -n $((n - EV_SEEN)) |
		"$LAB_PY" -c '
import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    k = e.get("event")
    if k in ("pinhole_open", "pinhole_close", "pinhole_update"):
        extra = "" if k == "pinhole_open" else "  (%d packets)" % e.get("packets", 0)
        print("  sipd: %-14s %-5s %-18s <- %-20s %s, %s%s" % (k, e["kind"], e["dst"],
              ",".join(e["src"]), e["check"], e["reason"], extra))
    elif k == "call_start":
        print("  sipd: call_start     %s -> %s  (%s)" % (e["from"], e["to"], e["call_id"]))
    elif k == "call_end":
        print("  sipd: call_end       %s, %d ms, %d media packets" % (e["reason"],
              e.get("duration_ms", 0), e.get("packets", 0)))
    elif k:
        print("  sipd: %s %s" % (k, {x: e[x] for x in e if x not in ("event", "ts_ns")}))'
	EV_SEEN=$n
}

lab_up || { echo "demo: lab setup failed" >&2; exit 1; }
say "lab: outside (SIPp UAC $O4) -- fw (XDP + sipd) -- inside (SIPp UAS $I4), spoofer $S4"
lab_attach || { echo "demo: sipwall attach failed" >&2; exit 1; }
lab_config "$LAB_TMP/sipd.json"

say "sipd inline: iptables NFQUEUE rules in fw, then the daemon"
in_f "$LAB_SIPD" rules install -c "$LAB_TMP/sipd.json" || exit 1
in_f "$LAB_SIPD" rules show | sed 's/^/  /'
lab_sipd_start "$LAB_TMP/sipd.json" || { cat "$LAB_TMP/sipd.log"; exit 1; }
sw pinhole list

say "a SIPp call with RTP both ways (4 s of A-law via rtp_stream)"
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=4000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
sleep 2
events
say "mid-call: the pinholes sipd wrote before releasing the 200 OK"
sw pinhole list

say "a spoofer sends 25 RTP packets at the callee's media port"
lab_udp_send "$NS_S" "$S4" "$I4" 16000 25 16000
sw stats | grep -E 'REASON|passed_pinhole|dropped_bad_source'

wait $uac
rc=$?
lab_uas_wait
printf '  SIPp UAC: %s\n' "$([ $rc -eq 0 ] && echo 'call completed' || echo "failed (exit $rc)")"
sleep 2 # BYE grace for trailing RTCP
events
say "after the BYE: no pinholes"
sw pinhole list

say "late RTP after the call (20 packets) is dropped"
lab_udp_send "$NS_O" "$O4" "$I4" 16000 20 12000
sw stats

say "done"
exit $rc
