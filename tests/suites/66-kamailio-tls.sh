#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A real Kamailio terminates SIP over TLS in front of sipwall and drives the
# media through its rtpengine module ("ng" protocol, tests/kamailio/):
#
#   outside: SIPp UAC -> stunnel ==TLS 5061==> fw: Kamailio --UDP--> inside: SIPp UAS
#                                                 |
#                                              ng server
#
# NG_SERVER picks the ng server:
#   rtpengine  the rtpengine daemon (userspace, --table=-1) relays the media:
#              proves the Kamailio config and this harness, and records what
#              Kamailio sends (ngdump.py; KAM_SAVE_NG=FILE keeps the decoded
#              capture).
#   sipd       sipd's control listener (sipd.json "control"), with the XDP
#              program on fw: pinholes from the ng commands alone, the SDP
#              unchanged, refused flags turned into Kamailio's 488, and a
#              variant with Kamailio in the dmz talking ng over UDP to fw.
#   all        rtpengine, then sipd.
#   auto       (default) sipd when its config accepts "control", else
#              rtpengine, and the sipd part is skipped with a message.
# Host only: needs kamailio, stunnel, SIPp, tcpdump, iptables NFQUEUE, XDP.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in sipp iptables nsenter tcpdump openssl kamailio stunnel; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
for b in build/bin/sipd build/bin/sipwall; do
	[ -x "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

lab_tag=$(sw_tag)
source tests/lab/lab.sh
source tests/kamailio/kam.sh
kam_need >&2 || { echo "skip: Kamailio lab tools missing"; exit 77; }

cleanup() {
	kam_stop
	lab_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# sipd_control_support: 0 when sipd's config parser knows "control".
sipd_control_support() {
	local f
	f=$(mktemp "${TMPDIR:-/tmp}/sipwall-ctl.XXXXXX.json") || return 1
	printf '{ "control": { "listen": "127.0.0.1:22222", "allow_remote": false, "controllers": [ "127.0.0.1/32" ] } }\n' >"$f"
	SIPD_CHECK_OUT=$("${LAB_SIPD:-build/bin/sipd}" --check-config "$f" 2>&1)
	local rc=$?
	rm -f "$f"
	[ $rc -eq 0 ] && ! echo "$SIPD_CHECK_OUT" | grep -qi "unknown key"
}

NG_SERVER=${NG_SERVER:-auto}
SIPD_CONTROL=0
sipd_control_support && SIPD_CONTROL=1
case "$NG_SERVER" in
auto)
	if [ $SIPD_CONTROL = 1 ]; then NG_SERVER=sipd; else NG_SERVER=rtpengine; fi ;;
sipd | rtpengine | all) ;;
*) echo "66-kamailio-tls: NG_SERVER=$NG_SERVER: want sipd, rtpengine, all or auto" >&2; exit 2 ;;
esac
echo "# ng server: $NG_SERVER (sipd --check-config with a control block: $([ $SIPD_CONTROL = 1 ] && echo accepted || echo "${SIPD_CHECK_OUT:-refused}"))"
if [ "$NG_SERVER" != sipd ] && [ ! -x "$RTPENGINE_BIN" ]; then
	echo "skip: rtpengine not installed (rtpengine-daemon, scripts/deps.sh)"
	exit 77
fi

if ! lab_up; then
	fail "lab namespaces up"
	finish
	exit 1
fi
ok "lab namespaces up ($lab_tag)"
if ! kam_certs; then
	cat "$LAB_TMP/tls/openssl.log"
	fail "throwaway CA and proxy certificate"
	finish
	exit 1
fi
ok "throwaway CA and proxy certificate (openssl)"

# --- shared steps -----------------------------------------------------

# proxy_up NS TLS_ADDR RELAY_ADDR NG_SOCK: Kamailio and the caller's stunnel.
proxy_up() {
	local ns=$1 tls=$2 relay=$3 ng=$4
	kam_config "$LAB_TMP/kamailio.cfg" "$tls" "$relay" "$I4:$KAM_RELAY_PORT" "$ng" ||
		{ fail "kamailio.cfg from the template"; return 1; }
	if ! kam_start "$ns" "$LAB_TMP/kamailio.cfg"; then
		tail -20 "$LAB_TMP/kamailio-check.log" "$LAB_TMP/kamailio.log"
		fail "Kamailio up in $ns (TLS $tls:5061, ng $ng)"
		return 1
	fi
	ok "Kamailio up in $ns (TLS $tls:5061, UDP $relay:$KAM_RELAY_PORT, ng $ng)"
	if ! kam_stunnel "$tls"; then
		cat "$LAB_TMP/stunnel.log" "$LAB_TMP/stunnel.out"
		fail "stunnel (the caller's TLS) up in outside"
		return 1
	fi
	return 0
}

proxy_down() {
	kam_stop
	if [ -n "${KAM_STUNNEL_PID:-}" ]; then
		kill -TERM "$KAM_STUNNEL_PID" 2>/dev/null
		for _ in $(seq 1 30); do kill -0 "$KAM_STUNNEL_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$KAM_STUNNEL_PID" 2>/dev/null
		wait "$KAM_STUNNEL_PID" 2>/dev/null
		KAM_STUNNEL_PID=
	fi
}

# call PROXY SERVICE: one call, UAS and UAC; CALL_UAC/CALL_UAS their status.
call() {
	local proxy=$1 svc=$2
	rm -f "$LAB_TMP/uac-msg.log" "$LAB_TMP/uas-err.log" "$LAB_TMP/uac-err.log"
	kam_uas "$KAM_RELAY_PORT" 1
	kam_uac "$proxy" "$svc"
	CALL_UAC=$?
	lab_uas_wait
	CALL_UAS=$?
}

# The SDP of the 200 OK to the INVITE as the caller got it: "ADDR PORT".
uac_answer_media() {
	awk '{ sub(/\r$/, "") } /message (received|sent)/ { r = 0; inv = 0 } /^SIP\/2.0 200 OK/ { r = 1 }
	     r && /^CSeq: 1 INVITE/ { inv = 1 }
	     r && inv && /^c=IN IP4/ { c = $3 } r && inv && /^m=audio/ { print c, $2; exit }' \
		"$LAB_TMP/uac-msg.log"
}

# refused_call PROXY SERVICE: a call that should be refused at the offer:
# no UAS, a listener on its port instead. REFUSED: 1 if the caller got a
# 488; REACHED: datagrams that reached the UAS's address meanwhile.
refused_call() {
	local proxy=$1 svc=$2 lp
	rm -f "$LAB_TMP/uac-msg.log"
	lab_sip_listen "$NS_I" "$I4" "$KAM_RELAY_PORT" 4 >"$LAB_TMP/listen.refused" &
	lp=$!
	sleep 0.5
	kam_uac "$proxy" "$svc"
	wait $lp
	REFUSED=0
	grep -q "^SIP/2.0 488" "$LAB_TMP/uac-msg.log" 2>/dev/null && REFUSED=1
	REACHED=$(grep -c . "$LAB_TMP/listen.refused")
}

# ng_ping NS SRC DST PORT: the reply to an ng ping from SRC, or nothing.
ng_ping() {
	in_ns "$1" timeout 5 "$LAB_PY" - "$2" "$3" "$4" <<'EOF'
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(1.5)
s.sendto(b"sw_probe_1 d7:command4:pinge", (dst, port))
try:
    print(s.recv(65535).decode(errors="replace"))
except socket.timeout:
    pass
EOF
}

# tls_leg_checks: the caller's leg was TLS (verified) and never cleartext SIP.
tls_leg_checks() {
	kam_capture_stop tls
	check "stunnel verified the proxy's certificate against the lab CA" \
		grep -q "Certificate accepted" "$LAB_TMP/stunnel.log"
	local pkts clear
	pkts=$(tcpdump -n -r "$LAB_TMP/tls.pcap" 2>/dev/null | grep -c .)
	clear=$(tcpdump -n -A -r "$LAB_TMP/tls.pcap" 2>/dev/null | grep -c -E "INVITE sip:|SIP/2.0 200|m=audio")
	check "the caller's leg to 5061 carried $pkts TCP segments" test "$pkts" -gt 5
	expect_eq "no cleartext SIP on the caller's leg (TLS on the wire)" "$clear" 0
}

# ng_summary: one line per ng datagram of ng.pcap (ngdump.py --summary).
ng_summary() { "$LAB_PY" tests/kamailio/ngdump.py "$LAB_TMP/ng.pcap" --port "${1:-22222}" --summary; }

# --- NG_SERVER=rtpengine: the reference ng server ---------------------
run_rtpengine() {
	kam_capture_start ng "$NS_F" lo "udp port 22222" || { fail "tcpdump of the ng port"; return; }
	kam_capture_start tls "$NS_F" fo "tcp port 5061" || { fail "tcpdump of the TLS leg"; return; }
	if ! kam_rtpengine "$NS_F" "$F4O" 127.0.0.1:22222; then
		tail -20 "$LAB_TMP/rtpengine.log"
		fail "rtpengine (userspace, --table=-1) up in fw, ng on 127.0.0.1:22222"
		return
	fi
	ok "rtpengine (userspace, --table=-1) up in fw, ng on 127.0.0.1:22222"
	proxy_up "$NS_F" "$F4O" "$F4I" "udp:127.0.0.1:22222" || return

	call "$F4O" plain
	expect_eq "TLS call through Kamailio completed (SIPp UAC)" "$CALL_UAC" 0
	expect_eq "TLS call through Kamailio completed (SIPp UAS)" "$CALL_UAS" 0
	local media
	media=$(uac_answer_media)
	check "rtpengine rewrote the answer's media to itself ($media)" \
		eval '[ "${media% *}" = "$F4O" ] && [ "${media#* }" -ge 30000 ] && [ "${media#* }" -le 30999 ]'

	call "$F4O" srtp
	expect_eq "call with RTP/SAVP (rtpengine does SRTP) completed" "$CALL_UAC" 0
	sleep 0.5
	kam_capture_stop ng
	tls_leg_checks

	local s
	s=$(ng_summary)
	echo "$s" | sed 's/^/# ng: /'
	check "Kamailio pinged the ng server at startup (ping/pong)" \
		eval 'echo "$s" | grep -q "command=ping" && echo "$s" | grep -q "result=pong"'
	expect_eq "offer, answer, delete for each call" \
		"$(echo "$s" | grep -o 'command=[a-z]*' | grep -v ping | tr '\n' ' ')" \
		"command=offer command=answer command=delete command=offer command=answer command=delete "
	expect_eq "every command answered result ok" \
		"$(echo "$s" | grep -c 'result=ok')" 6
	check "offer keys as Kamailio 5.6 sends them (unsorted, command last)" \
		eval 'echo "$s" | grep -q "command=offer keys=supports,sdp,ICE,flags,replace,call-id,received-from,from-tag,command "'
	check "flags trust-address, replace origin+session-connection, ICE remove" \
		eval 'echo "$s" | grep "command=offer" | head -1 | grep -q "ICE=\"remove\" flags=\[trust-address\] replace=\[origin,session-connection\]"'
	check "RTP/SAVP reaches the ng server as transport-protocol" \
		eval 'echo "$s" | grep -q "transport-protocol=\"RTP/SAVP\""'
	local tot
	tot=$("$LAB_PY" tests/kamailio/ngdump.py "$LAB_TMP/ng.pcap" --totals | awk 'NR == 1')
	check "rtpengine relayed the plain call's RTP both ways ($tot)" \
		eval '[ "$(echo "$tot" | awk "{ print \$3 }")" -gt 150 ]'
	if [ -n "${KAM_SAVE_NG:-}" ]; then
		"$LAB_PY" tests/kamailio/ngdump.py "$LAB_TMP/ng.pcap" >"$KAM_SAVE_NG"
		echo "# decoded ng capture saved to $KAM_SAVE_NG"
	fi

	# Error path: no ng server. The offer fails, Kamailio answers 488 and
	# the INVITE never reaches the UAS.
	kill -TERM "$KAM_RTPENGINE_PID" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$KAM_RTPENGINE_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$KAM_RTPENGINE_PID" 2>/dev/null
	refused_call "$F4O" plain
	expect_eq "ng server down: the caller gets 488 (rtpengine_manage failed)" "$REFUSED" 1
	expect_eq "ng server down: nothing reached the UAS" "$REACHED" 0
	proxy_down
}

# --- NG_SERVER=sipd: sipd's control listener drives the pinholes -------
has_pinhole() { lab_pinholes | grep "^$1 " >/dev/null; }
no_pinholes() { [ -z "$(lab_pinholes)" ]; }

# sipd_call_checks LABEL PROXY: a plain call with RTP through pinholes that
# exist before the 200 OK reaches the caller, a spoofer, the BYE.
sipd_call_checks() {
	local lbl=$1 proxy=$2 nop0 pass0 bad0 mid media
	nop0=$(lab_stat dropped_no_pinhole)
	pass0=$(lab_stat passed_pinhole)
	rm -f "$LAB_TMP/uac-msg.log"
	kam_uas "$KAM_RELAY_PORT" 1
	LAB_RTP_MS=3000 kam_uac "$proxy" plain &
	local uac=$!
	lab_wait_for 8 has_pinhole "$I4:16000"
	sleep 1
	mid=$(lab_pinholes)
	echo "$mid" | sed "s/^/# $lbl mid-call pinhole /"
	check "$lbl: pinholes for both media directions during the call" \
		eval 'echo "$mid" | grep -q "^$I4:16000 " && echo "$mid" | grep -q "^$O4:12000 "'
	bad0=$(lab_stat dropped_bad_source)
	lab_udp_send "$NS_S" "$S4" "$I4" 16000 20 16000
	expect_eq "$lbl: spoofed RTP from a third namespace dropped (dropped_bad_source)" \
		$(( $(lab_stat dropped_bad_source) - bad0 )) 20
	wait $uac
	CALL_UAC=$?
	lab_uas_wait
	CALL_UAS=$?
	expect_eq "$lbl: TLS call through Kamailio completed (SIPp UAC)" "$CALL_UAC" 0
	expect_eq "$lbl: TLS call through Kamailio completed (SIPp UAS)" "$CALL_UAS" 0
	media=$(uac_answer_media)
	expect_eq "$lbl: the answer's SDP reached the caller unchanged" "$media" "$I4 16000"
	local in_rtp out_rtp
	in_rtp=$(echo "$mid" | awk -v d="$I4:16000" '$1 == d { print $3 }')
	out_rtp=$(echo "$mid" | awk -v d="$O4:12000" '$1 == d { print $3 }')
	check "$lbl: RTP outside->inside through its pinhole (${in_rtp:-0} packets)" test "${in_rtp:-0}" -gt 10
	check "$lbl: RTP inside->outside through its pinhole (${out_rtp:-0} packets)" test "${out_rtp:-0}" -gt 10
	check "$lbl: passed_pinhole grew" test "$(lab_stat passed_pinhole)" -gt "$pass0"
	# Both sides send RTP the moment the 200 OK / ACK is through: a pinhole
	# written after the proxy released the 200 OK would cost packets here.
	expect_eq "$lbl: no RTP of the call met a missing pinhole (opened before the 200 OK)" \
		$(( $(lab_stat dropped_no_pinhole) - nop0 )) 0
	check "$lbl: no pinhole left after the BYE (+grace)" lab_wait_for 5 no_pinholes
	nop0=$(lab_stat dropped_no_pinhole)
	lab_udp_send "$NS_O" "$O4" "$I4" 16000 20 12000
	expect_eq "$lbl: late RTP after the BYE dropped (dropped_no_pinhole)" \
		$(( $(lab_stat dropped_no_pinhole) - nop0 )) 20
}

# sipd_refused_checks LABEL PROXY SERVICE WHAT: a flag sipd cannot honour.
sipd_refused_checks() {
	local lbl=$1 proxy=$2 svc=$3 what=$4
	refused_call "$proxy" "$svc"
	expect_eq "$lbl: $what refused by sipd: the caller gets 488 from Kamailio" "$REFUSED" 1
	expect_eq "$lbl: $what: nothing reached the UAS" "$REACHED" 0
	check "$lbl: $what: no pinhole opened" no_pinholes
}

run_sipd() {
	if [ $SIPD_CONTROL != 1 ]; then
		skip "sipd-mode assertions: sipd does not know the \"control\" config block yet (${SIPD_CHECK_OUT:-})"
		return
	fi
	if ! lab_attach >"$LAB_TMP/attach.log" 2>&1; then
		cat "$LAB_TMP/attach.log"
		fail "sipwall attach native on fw's veths"
		return
	fi
	ok "sipwall attached (native XDP) on fw's outside and inside interfaces"

	# 1. Kamailio beside sipd in fw, ng over loopback.
	local cfg=$LAB_TMP/sipd.json
	lab_config "$cfg" '"control": { "listen": "127.0.0.1:22222", "allow_remote": false, "controllers": [ "127.0.0.1/32" ] }'
	if ! lab_sipd_start "$cfg"; then
		cat "$LAB_TMP/sipd.log"
		fail "sipd inline with its ng control listener"
		return
	fi
	check "sipd answers an ng ping on 127.0.0.1:22222" \
		eval 'ng_ping "$NS_F" 127.0.0.1 127.0.0.1 22222 | grep -q "^sw_probe_1 d6:result4:ponge"'
	kam_capture_start ng "$NS_F" lo "udp port 22222" || fail "tcpdump of the ng port"
	kam_capture_start tls "$NS_F" fo "tcp port 5061" || fail "tcpdump of the TLS leg"
	proxy_up "$NS_F" "$F4O" "$F4I" "udp:127.0.0.1:22222" || return
	sipd_call_checks fw "$F4O"
	sipd_refused_checks fw "$F4O" srtp "transport-protocol RTP/SAVP"
	sipd_refused_checks fw "$F4O" transcode "codec-transcode"
	kam_capture_stop ng
	tls_leg_checks
	local s
	s=$(ng_summary)
	echo "$s" | sed 's/^/# ng: /'
	check "sipd answered the plain call's offer and answer with result ok" \
		eval '[ "$(echo "$s" | grep -c "result=ok keys=.*sdp")" -ge 2 ]'
	check "sipd refused with result error and an error-reason" \
		eval 'echo "$s" | grep -q "result=error keys=error-reason,result"'
	if [ -n "${KAM_SAVE_NG_SIPD:-}" ]; then
		"$LAB_PY" tests/kamailio/ngdump.py "$LAB_TMP/ng.pcap" >"$KAM_SAVE_NG_SIPD"
	fi
	proxy_down
	lab_sipd_stop

	# 2. Kamailio in the dmz, ng over UDP to sipd on fw's dmz address.
	if ! lab_dmz_up; then
		fail "dmz namespace up"
		return
	fi
	lab_config "$cfg" "\"control\": { \"listen\": \"$F4D:22222\", \"allow_remote\": true, \"controllers\": [ \"$D4/32\" ] }"
	if ! lab_sipd_start "$cfg"; then
		cat "$LAB_TMP/sipd.log"
		fail "sipd inline, ng on $F4D:22222 for the dmz"
		return
	fi
	check "dmz: sipd answers an ng ping from the controller $D4" \
		eval 'ng_ping "$NS_D" "$D4" "$F4D" 22222 | grep -q "^sw_probe_1 d6:result4:ponge"'
	expect_eq "dmz: an ng ping from a non-controller ($S4) gets no reply" \
		"$(ng_ping "$NS_S" "$S4" "$F4D" 22222)" ""
	kam_capture_start tls "$NS_F" fo "tcp port 5061" || fail "tcpdump of the TLS leg"
	proxy_up "$NS_D" "$D4" "$D4" "udp:$F4D:22222" || return
	sipd_call_checks dmz "$D4"
	sipd_refused_checks dmz "$D4" srtp "transport-protocol RTP/SAVP"
	tls_leg_checks
	proxy_down
	lab_sipd_stop
}

case "$NG_SERVER" in
rtpengine)
	run_rtpengine
	[ $SIPD_CONTROL = 1 ] ||
		skip "sipd-mode assertions: sipd does not know the \"control\" config block yet (${SIPD_CHECK_OUT:-})" ;;
sipd)
	run_sipd ;;
all)
	run_rtpengine
	run_sipd ;;
esac

finish
