# SPDX-License-Identifier: GPL-2.0-only
# The SIPp lab, sourced by tests/suites/60-sipd-lab.sh and scripts/demo.sh.
#
#   spoofer --- outside --- fw --- inside
#   (10.S.3.2)  (.1.2)     (.1.1|.2.1) (.2.2)       and fd00:S:N::/64 alike
#                           |
#                          dmz (10.201.4.2, optional: lab_dmz_up)
#
# outside: SIPp UAC + RTP; fw: routing, sipwall XDP on its outside interface
# (and its inside one, so both media directions run through pinholes), sipd
# inline on NFQUEUE; inside: SIPp UAS; spoofer: a third party routed through
# outside. Names carry a per-run tag; lab_down removes only what lab_up made.
#
# Needs: SW_TOP, lab_tag set by the caller (tests/lib.sh sw_tag).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SIPWALL=${LAB_SIPWALL:-$SW_TOP/build/bin/sipwall}
LAB_SIPD=${LAB_SIPD:-$SW_TOP/build/bin/sipd}
LAB_PY=${LAB_PY:-/usr/bin/python3}

lab_init() {
	lab_tag=${lab_tag:-$(sw_tag)}
	NS_O=${lab_tag}-out NS_F=${lab_tag}-fw NS_I=${lab_tag}-in NS_S=${lab_tag}-spoof
	LAB_PIN=/sys/fs/bpf/sipwall-lab-$lab_tag
	LAB_TMP=${LAB_TMP:-$(mktemp -d "${SW_TEST_TMP:-/tmp}/sipwall-lab.XXXXXX")}
	O4=10.201.1.2 F4O=10.201.1.1 F4I=10.201.2.1 I4=10.201.2.2 S4=10.201.3.2 OS4=10.201.3.1
	O6=fd00:201:1::2 F6O=fd00:201:1::1 F6I=fd00:201:2::1 I6=fd00:201:2::2 S6=fd00:201:3::2 OS6=fd00:201:3::1
	LAB_PIDS=()
	LAB_NS=()
	LAB_SIPD_PID=
	# rtp_stream audio: 2 s of A-law silence (0xd5), looped by SIPp.
	head -c 16000 /dev/zero | tr '\0' '\325' >"$LAB_TMP/lab.alaw"
}

# in NS CMD...: run in a lab namespace, keeping the host's /sys (bpffs).
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
in_o() { in_ns "$NS_O" "$@"; }
in_f() { in_ns "$NS_F" "$@"; }
in_i() { in_ns "$NS_I" "$@"; }
in_s() { in_ns "$NS_S" "$@"; }

lab_sysctl() { in_ns "$1" sysctl -qw "$2" >/dev/null; }

lab_up() {
	local ns
	lab_init
	for ns in "$NS_O" "$NS_F" "$NS_I" "$NS_S"; do
		ip netns add "$ns" || return 1
		LAB_NS+=("$ns")
		in_ns "$ns" ip link set lo up
		lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0
		lab_sysctl "$ns" net.ipv6.conf.default.accept_dad=0
	done
	# Created straight into the namespaces: no name ever lives in the host.
	ip link add o0 netns "$NS_O" type veth peer name fo netns "$NS_F" || return 1
	ip link add fi netns "$NS_F" type veth peer name i0 netns "$NS_I" || return 1
	ip link add s0 netns "$NS_S" type veth peer name os netns "$NS_O" || return 1

	in_o ip addr add $O4/24 dev o0; in_o ip -6 addr add $O6/64 dev o0 nodad
	in_o ip addr add $OS4/24 dev os; in_o ip -6 addr add $OS6/64 dev os nodad
	in_f ip addr add $F4O/24 dev fo; in_f ip -6 addr add $F6O/64 dev fo nodad
	in_f ip addr add $F4I/24 dev fi; in_f ip -6 addr add $F6I/64 dev fi nodad
	in_i ip addr add $I4/24 dev i0; in_i ip -6 addr add $I6/64 dev i0 nodad
	in_s ip addr add $S4/24 dev s0; in_s ip -6 addr add $S6/64 dev s0 nodad
	in_o ip link set o0 up; in_o ip link set os up
	in_f ip link set fo up; in_f ip link set fi up
	in_i ip link set i0 up; in_s ip link set s0 up

	in_o ip route add 10.201.2.0/24 via $F4O
	in_o ip -6 route add fd00:201:2::/64 via $F6O
	in_i ip route add default via $F4I
	in_i ip -6 route add default via $F6I
	in_f ip route add 10.201.3.0/24 via $O4
	in_f ip -6 route add fd00:201:3::/64 via $O6
	in_s ip route add default via $OS4
	in_s ip -6 route add default via $OS6
	for ns in "$NS_O" "$NS_F"; do
		lab_sysctl "$ns" net.ipv4.ip_forward=1
		lab_sysctl "$ns" net.ipv6.conf.all.forwarding=1
		lab_sysctl "$ns" net.ipv4.conf.all.rp_filter=0
		lab_sysctl "$ns" net.ipv4.conf.default.rp_filter=0
	done
	# Neighbours resolved before the first call (bounded pings).
	in_o ping -c1 -W2 $I4 >/dev/null 2>&1
	in_o ping -6 -c1 -W2 $I6 >/dev/null 2>&1
	in_s ping -c1 -W2 $I4 >/dev/null 2>&1
	in_s ping -6 -c1 -W2 $I6 >/dev/null 2>&1
	return 0
}

# lab_dmz_up: a fourth namespace "dmz" (a B2BUA or proxy host) behind fw's
# third interface fd: D4/D6 (10.201.4.2, fd00:201:4::2), fw F4D/F6D (.1).
# Not attached by lab_attach (XDP stays on fo and fi); put 10.201.4.0/24 and
# fd00:201:4::/64 in networks.inside to make it an inside network. After lab_up.
lab_dmz_up() {
	NS_D=${lab_tag}-dmz
	D4=10.201.4.2 F4D=10.201.4.1 D6=fd00:201:4::2 F6D=fd00:201:4::1
	ip netns add "$NS_D" || return 1
	LAB_NS+=("$NS_D")
	in_ns "$NS_D" ip link set lo up
	lab_sysctl "$NS_D" net.ipv6.conf.all.accept_dad=0
	lab_sysctl "$NS_D" net.ipv6.conf.default.accept_dad=0
	ip link add fd netns "$NS_F" type veth peer name d0 netns "$NS_D" || return 1
	in_f ip addr add $F4D/24 dev fd; in_f ip -6 addr add $F6D/64 dev fd nodad
	in_ns "$NS_D" ip addr add $D4/24 dev d0
	in_ns "$NS_D" ip -6 addr add $D6/64 dev d0 nodad
	in_f ip link set fd up; in_ns "$NS_D" ip link set d0 up
	in_ns "$NS_D" ip route add default via $F4D
	in_ns "$NS_D" ip -6 route add default via $F6D
	in_o ip route add 10.201.4.0/24 via $F4O
	in_o ip -6 route add fd00:201:4::/64 via $F6O
	in_ns "$NS_D" ping -c1 -W2 $O4 >/dev/null 2>&1
	in_ns "$NS_D" ping -c1 -W2 $I4 >/dev/null 2>&1
	in_ns "$NS_D" ping -6 -c1 -W2 $O6 >/dev/null 2>&1
	in_ns "$NS_D" ping -6 -c1 -W2 $I6 >/dev/null 2>&1
	return 0
}
in_d() { in_ns "$NS_D" "$@"; }

# MTU of the fw<->inside and outside<->fw links (fragment tests).
lab_mtu() {
	in_o ip link set o0 mtu "$1"; in_f ip link set fo mtu "$1"
	in_f ip link set fi mtu "$1"; in_i ip link set i0 mtu "$1"
}

lab_attach() {
	local ifc rc=0
	for ifc in fo fi; do
		in_f "$LAB_SIPWALL" attach "$ifc" --mode native --pin-path "$LAB_PIN" \
			--media-ports 10000-20000 "$@" || rc=1
	done
	return $rc
}

# lab_log_count TEXT: lines of sipd.log holding TEXT (0 without a log).
lab_log_count() {
	local n
	n=$(grep -c -- "$1" "$LAB_TMP/sipd.log" 2>/dev/null)
	echo "${n:-0}"
}

# lab_sipd_start CONFIG [extra sipd args]: rules + sipd inline in fw.
lab_sipd_start() {
	local cfg=$1; shift
	in_f "$LAB_SIPD" rules install -c "$cfg" || return 1
	# A restart appends to the same log: wait for a new "inline" line.
	local n0
	n0=$(lab_log_count "inline on NFQUEUE")
	# nsenter itself in the background (not a function in a subshell), so
	# $! is sipd's pid and a SIGKILL test hits sipd.
	nsenter --net="/run/netns/$NS_F" "$LAB_SIPD" run -c "$cfg" "$@" \
		>>"$LAB_TMP/events.jsonl" 2>>"$LAB_TMP/sipd.log" &
	LAB_SIPD_PID=$!
	LAB_PIDS+=("$LAB_SIPD_PID")
	# Bound: the queue is bound within a second or sipd failed.
	local i
	for i in $(seq 1 50); do
		[ "$(lab_log_count "inline on NFQUEUE")" -gt "$n0" ] && return 0
		kill -0 "$LAB_SIPD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# lab_wait_started PID LOG TEXT: up to 5 s for a daemon to say TEXT in LOG;
# fails at once when PID exits first.
lab_wait_started() {
	local pid=$1 log=$2 text=$3 i
	for i in $(seq 1 50); do
		grep -q "$text" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# lab_sipd_passive CONFIG IFACE: sipd observing fw's IFACE (no rules, no queue).
lab_sipd_passive() {
	local cfg=$1 ifc=$2
	: >"$LAB_TMP/sipd.log"
	nsenter --net="/run/netns/$NS_F" "$LAB_SIPD" run --passive "$ifc" -c "$cfg" \
		>>"$LAB_TMP/events.jsonl" 2>>"$LAB_TMP/sipd.log" &
	LAB_SIPD_PID=$!
	LAB_PIDS+=("$LAB_SIPD_PID")
	lab_wait_started "$LAB_SIPD_PID" "$LAB_TMP/sipd.log" "passive on"
}

lab_sipd_stop() {
	[ -n "$LAB_SIPD_PID" ] || return 0
	kill -TERM "$LAB_SIPD_PID" 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$LAB_SIPD_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$LAB_SIPD_PID" 2>/dev/null
	wait "$LAB_SIPD_PID" 2>/dev/null
	LAB_SIPD_PID=
}

# lab_config FILE [json fragment merged in]: a sipd config for the lab.
lab_config() {
	local f=$1 extra=${2:-}
	cat >"$f" <<EOF
{
  "pin_path": "$LAB_PIN",
  "queue": { "num": ${LAB_QUEUE:-$(( (RANDOM % 30000) + 1000 ))}, "count": ${LAB_QUEUES:-1}, "fail_open": false },
  "networks": { "inside": [ "10.201.2.0/24", "fd00:201:2::/64" ] },
  "timeouts": { "bye_grace_s": 1 }${extra:+,
  $extra}
}
EOF
}

# lab_scenario NAME [sdp_extra_lines]: copy a scenario into LAB_TMP, filling
# @SDP_EXTRA@ (big-SDP tests pad the offer past the MTU).
lab_scenario() {
	local name=$1 lines=${2:-0} out="$LAB_TMP/$1"
	local pad=""
	if [ "$lines" -gt 0 ]; then
		pad=$(for n in $(seq 1 "$lines"); do
			printf '      a=x-sipwall-pad%03d:%s\n' "$n" "0123456789abcdef0123456789abcdef0123456789abcdef"
		done)
	fi
	awk -v pad="$pad" '{ if ($0 == "@SDP_EXTRA@") { if (pad != "") print pad } else print }' \
		"$LAB_DIR/$name" >"$out"
	echo "$out"
}

# lab_uas FAMILY SCENARIO CALLS [args]: SIPp UAS in inside, background.
lab_uas() {
	local fam=$1 sf=$2 calls=$3; shift 3
	local ip=$I4
	[ "$fam" = 6 ] && ip=$I6
	( cd "$LAB_TMP" && exec nsenter --net="/run/netns/$NS_I" sipp -sf "$sf" -i "$ip" -p 5060 \
		-mi "$ip" -mp 16000 -m "$calls" -nostdin -timeout 60s -timeout_error \
		-trace_err -error_file "$LAB_TMP/uas-err.log" "$@" >"$LAB_TMP/uas.out" 2>&1 ) &
	LAB_UAS_PID=$!
	LAB_PIDS+=("$LAB_UAS_PID")
	sleep 0.3
}

# lab_uac FAMILY SCENARIO CALLS [args]: SIPp UAC in outside, foreground,
# bounded; returns SIPp's exit status (0 = every call succeeded).
lab_uac() {
	local fam=$1 sf=$2 calls=$3; shift 3
	local ip=$O4 dst=$I4
	[ "$fam" = 6 ] && ip=$O6 dst="[$I6]"
	( cd "$LAB_TMP" && timeout 60 nsenter --net="/run/netns/$NS_O" sipp "$dst:5060" -sf "$sf" \
		-i "$ip" -p 5060 -mi "$ip" -mp 12000 -m "$calls" -l 1 -r 1 -nostdin \
		-timeout 30s -timeout_error -recv_timeout 8000 -max_retrans 3 \
		-trace_err -error_file "$LAB_TMP/uac-err.log" \
		-d "${LAB_RTP_MS:-2000}" \
		"$@" >"$LAB_TMP/uac.out" 2>&1 )
}

lab_uas_wait() {
	local i
	[ -n "${LAB_UAS_PID:-}" ] || return 0
	for i in $(seq 1 100); do kill -0 "$LAB_UAS_PID" 2>/dev/null || break; sleep 0.1; done
	kill "$LAB_UAS_PID" 2>/dev/null
	wait "$LAB_UAS_PID"
	local rc=$?
	LAB_UAS_PID=
	return $rc
}

# lab_udp_send NS SRC DST DPORT COUNT [SPORT]: COUNT small UDP datagrams.
lab_udp_send() {
	local ns=$1 src=$2 dst=$3 dport=$4 count=$5 sport=${6:-0}
	in_ns "$ns" timeout 10 "$LAB_PY" - "$src" "$dst" "$dport" "$count" "$sport" <<'EOF'
import socket, sys, time
src, dst, dport, count, sport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
pkt = bytes([0x80, 8]) + bytes(170)
for i in range(count):
    s.sendto(pkt, (dst, dport))
    time.sleep(0.002)
EOF
}

# lab_udp_count NS ADDR PORT SECS: count datagrams arriving on ADDR:PORT.
lab_udp_count() {
	local ns=$1 addr=$2 port=$3 secs=$4
	in_ns "$ns" timeout $((secs + 5)) "$LAB_PY" - "$addr" "$port" "$secs" <<'EOF'
import socket, sys, time
addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.settimeout(0.1)
n, end = 0, time.time() + secs
while time.time() < end:
    try:
        s.recv(65535); n += 1
    except socket.timeout:
        pass
print(n)
EOF
}

lab_down() {
	local p ns
	[ -n "${lab_tag:-}" ] && [ -n "${NS_F:-}" ] || return 0
	for p in "${LAB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${LAB_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	LAB_PIDS=()
	if [ -d "/run/netns" ] && [ -e "/run/netns/$NS_F" ]; then
		in_f "$LAB_SIPD" rules remove >/dev/null 2>&1
		for ifc in fo fi; do
			in_f "$LAB_SIPWALL" detach "$ifc" --pin-path "$LAB_PIN" >/dev/null 2>&1
		done
	fi
	for ns in "${LAB_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NS=()
	case "$LAB_PIN" in
	/sys/fs/bpf/sipwall-lab-s*) rm -rf "$LAB_PIN" ;;
	esac
	case "$LAB_TMP" in
	*/sipwall-lab.*) [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_TMP" ;;
	esac
}

# lab_stat REASON: packets counted under a verdict reason (sipwall stats).
lab_stat() {
	in_f "$LAB_SIPWALL" stats --json --pin-path "$LAB_PIN" |
		"$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]]["packets"])' "$1"
}

# lab_pinholes: one "ADDR:PORT KIND PACKETS" line per pinhole.
lab_pinholes() {
	in_f "$LAB_SIPWALL" pinhole list --json --pin-path "$LAB_PIN" |
		"$LAB_PY" -c '
import json, sys
for p in json.load(sys.stdin):
    a = p["dst"]
    print("%s:%d %s %d" % ("[%s]" % a if ":" in a else a, p["port"], p["kind"], p["packets"]))'
}

# lab_pinhole_packets ADDR:PORT: packets through that pinhole, empty if none.
lab_pinhole_packets() { lab_pinholes | awk -v d="$1" '$1 == d { print $3 }'; }

# lab_wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds (bounded).
lab_wait_for() {
	local secs=$1 i; shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# lab_sip_listen NS ADDR PORT SECS: print the first word of each datagram.
lab_sip_listen() {
	in_ns "$1" timeout $(($4 + 5)) "$LAB_PY" - "$2" "$3" "$4" <<'PYEOF'
import socket, sys, time
addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 22)  # SO_RCVBUFFORCE: a burst fits
s.bind((addr, port)); s.settimeout(0.1)
end = time.time() + secs
while time.time() < end:
    try:
        print(s.recv(65535).split(b" ", 1)[0].decode(errors="replace"), flush=True)
    except socket.timeout:
        pass
PYEOF
}

# lab_sip_send NS SRC DST METHOD: one out-of-dialog request from SRC:5060.
lab_sip_send() {
	in_ns "$1" timeout 5 "$LAB_PY" - "$2" "$3" "$4" <<'PYEOF'
import socket, sys, random
src, dst, m = sys.argv[1], sys.argv[2], sys.argv[3]
v6 = ":" in dst
h = lambda a: "[%s]" % a if ":" in a else a
cid = "%x@sipwall-lab" % random.getrandbits(48)
body = "hello" if m == "MESSAGE" else ""
msg = ("%s sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%x\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=%x\r\nTo: <sip:bob@%s>\r\n"
       "Call-ID: %s\r\nCSeq: 1 %s\r\n%sContent-Length: %d\r\n\r\n%s") % (
       m, h(dst), h(src), random.getrandbits(32), h(src), random.getrandbits(32), h(dst),
       cid, m, "Content-Type: text/plain\r\n" if body else "", len(body), body)
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, 5060)); s.sendto(msg.encode(), (dst, 5060))
PYEOF
}

# lab_metric LISTEN SERIES: one series' value from sipd's metrics endpoint
# (metrics.listen, scraped inside fw), e.g.
# lab_metric 127.0.0.1:9870 'sipd_tcp_resets_total'; empty if absent.
lab_metric() {
	in_f curl -s --max-time 3 "http://$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'
}

# lab_siptcp NS ARGS...: tests/lab/siptcp.py (SIP over TCP/WebSocket ends) in NS.
lab_siptcp() {
	local ns=$1; shift
	in_ns "$ns" timeout 60 "$LAB_PY" "$LAB_DIR/siptcp.py" "$@"
}
