#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make demo-tls`: a SIP call over TLS through a real Kamailio in front of
# sipwall. sipd cannot read SIP over TLS, so the proxy tells it about the
# media: Kamailio's rtpengine module sends each SDP offer and answer to sipd's
# ng control listener (rtpengine_manage()), sipd opens the pinholes in the
# XDP program's maps and answers with the SDP unchanged. Builds the lab
# (tests/lab/lab.sh, tests/kamailio/kam.sh) in private network namespaces:
# SIPp UAC + stunnel (TLS) in outside, Kamailio and sipd in fw, SIPp UAS in
# inside. Shows the ng commands, the pinholes before the 200 OK, RTP both
# ways, a spoofer dropped, a refused SRTP call, the BYE closing everything.
# Everything it made is removed on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
SW_TOP=$PWD
source tests/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "demo-tls: must run as root" >&2; exit 1; }
for b in build/bin/sipwall build/bin/sipd; do
	[ -x "$b" ] || { echo "demo-tls: $b not built (run make)" >&2; exit 1; }
done
for t in sipp iptables nsenter tcpdump /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "demo-tls: $t missing (run make deps)" >&2; exit 1; }
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

lab_tag=$(sw_tag)
source tests/lab/lab.sh
source tests/kamailio/kam.sh
kam_need || { echo "demo-tls: run make deps" >&2; exit 1; }

# sipd must know the "control" block (its ng listener).
ctl=$(mktemp "${TMPDIR:-/tmp}/sipwall-ctl.XXXXXX.json")
printf '{ "control": { "listen": "127.0.0.1:22222" } }\n' >"$ctl"
out=$(build/bin/sipd --check-config "$ctl" 2>&1)
rc=$?
rm -f "$ctl"
if [ $rc -ne 0 ]; then
	echo "demo-tls: this sipd has no ng control listener yet ($out)." >&2
	echo "demo-tls: the Kamailio side can be tried against rtpengine:" >&2
	echo "          NG_SERVER=rtpengine tests/suites/66-kamailio-tls.sh" >&2
	exit 1
fi

cleanup() {
	set +e
	kam_stop
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
    how = " [%s]" % e["how"] if "how" in e else ""
    if k in ("pinhole_open", "pinhole_close", "pinhole_update"):
        extra = "" if k == "pinhole_open" else "  (%d packets)" % e.get("packets", 0)
        print("  sipd: %-14s %-5s %-18s <- %-20s %s%s%s" % (k, e.get("kind", ""), e.get("dst", ""),
              ",".join(e.get("src", [])), e.get("reason", ""), extra, how))
    elif k == "call_start":
        print("  sipd: call_start     %s -> %s  (%s)%s" % (e.get("from"), e.get("to"), e.get("call_id"), how))
    elif k == "call_end":
        print("  sipd: call_end       %s, %d ms, %d media packets%s" % (e.get("reason"),
              e.get("duration_ms", 0), e.get("packets", 0), how))
    elif k:
        print("  sipd: %s %s" % (k, {x: e[x] for x in e if x not in ("event", "ts_ns")}))'
	EV_SEEN=$n
}
# The ng datagrams captured so far, one line each.
ng() {
	kam_capture_stop ng
	"$LAB_PY" tests/kamailio/ngdump.py "$LAB_TMP/ng.pcap" --summary |
		sed -e 's/^/  ng: /' -e 's/ supports=\[load limit\]//' | cut -c1-200
	kam_capture_start ng "$NS_F" lo "udp port 22222" >/dev/null
}

lab_up || { echo "demo-tls: lab setup failed" >&2; exit 1; }
say "lab: outside (SIPp UAC $O4 + stunnel) ==TLS==> fw (Kamailio $F4O:5061, XDP, sipd) --UDP--> inside (SIPp UAS $I4:$KAM_RELAY_PORT), spoofer $S4"
lab_attach || { echo "demo-tls: sipwall attach failed" >&2; exit 1; }
kam_certs || { echo "demo-tls: openssl failed" >&2; exit 1; }
printf '  throwaway CA and proxy certificate: %s\n' "$KAM_CERT"

say "sipd inline, with its ng control listener on 127.0.0.1:22222"
lab_config "$LAB_TMP/sipd.json" '"control": { "listen": "127.0.0.1:22222", "allow_remote": false, "controllers": [ "127.0.0.1/32" ] }'
sed -n '/"control"/p' "$LAB_TMP/sipd.json" | sed 's/^ */  sipd.json: /'
lab_sipd_start "$LAB_TMP/sipd.json" || { cat "$LAB_TMP/sipd.log"; exit 1; }

say "Kamailio (tests/kamailio/kamailio.cfg.in): TLS in, UDP on, rtpengine_manage() towards sipd"
kam_capture_start ng "$NS_F" lo "udp port 22222" >/dev/null
kam_config "$LAB_TMP/kamailio.cfg" "$F4O" "$F4I" "$I4:$KAM_RELAY_PORT" "udp:127.0.0.1:22222" || exit 1
grep -E '^(listen|modparam\("rtpengine", "rtpengine_sock")' "$LAB_TMP/kamailio.cfg" | sed 's/^/  /'
kam_start "$NS_F" "$LAB_TMP/kamailio.cfg" || { tail -20 "$LAB_TMP/kamailio.log"; exit 1; }
kam_stunnel "$F4O" || { cat "$LAB_TMP/stunnel.log"; exit 1; }
sleep 0.5
ng

say "a SIPp call over TLS with RTP both ways (4 s of A-law via rtp_stream)"
kam_uas "$KAM_RELAY_PORT" 1
LAB_RTP_MS=4000 kam_uac "$F4O" plain &
uac=$!
sleep 2
ng
events
say "mid-call: the pinholes sipd wrote before answering Kamailio's answer (so before the 200 OK)"
sw pinhole list

say "a spoofer sends 25 RTP packets at the callee's media port"
lab_udp_send "$NS_S" "$S4" "$I4" 16000 25 16000
sw stats | grep -E 'REASON|passed_pinhole|dropped_bad_source'

wait $uac
rc=$?
lab_uas_wait
printf '  SIPp UAC: %s\n' "$([ $rc -eq 0 ] && echo 'call completed' || echo "failed (exit $rc)")"
grep -q "Certificate accepted" "$LAB_TMP/stunnel.log" &&
	echo "  the caller's leg was TLS, the proxy's certificate verified against the lab CA"
sleep 2 # BYE grace for trailing RTCP
ng
events
say "after the BYE: no pinholes"
sw pinhole list

say "an SRTP call (Kamailio adds RTP/SAVP): sipd refuses, Kamailio answers 488"
lab_sip_listen "$NS_I" "$I4" "$KAM_RELAY_PORT" 3 >"$LAB_TMP/listen.srtp" &
lp=$!
kam_uac "$F4O" srtp
wait $lp
grep -m1 "^SIP/2.0 488" "$LAB_TMP/uac-msg.log" | sed 's/^/  caller got: /'
printf '  datagrams that reached the UAS: %s\n' "$(grep -c . "$LAB_TMP/listen.srtp")"
ng

say "late RTP after the call (20 packets) is dropped"
lab_udp_send "$NS_O" "$O4" "$I4" 16000 20 12000
sw stats

say "done"
exit $rc
