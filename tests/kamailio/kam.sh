# SPDX-License-Identifier: GPL-2.0-only
# The Kamailio TLS lab, on top of tests/lab/lab.sh; sourced by
# tests/suites/66-kamailio-tls.sh and scripts/demo-tls.sh after lab.sh.
#
#   outside: SIPp UAC (TCP) -> stunnel (TLS client) ==TLS==> 5061
#   fw (or dmz): Kamailio (kamailio.cfg.in) --UDP--> inside: SIPp UAS
#                    \-- ng (UDP) --> rtpengine or sipd's control listener
#
# Debian's SIPp has no TLS, so stunnel in the outside namespace carries the
# UAC's TCP as TLS to Kamailio: on the wire between outside and fw it is
# TLS, verified against the lab's throwaway CA. Every daemon runs in a lab
# namespace, started here, its pid in LAB_PIDS (lab_down ends them).

KAM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAM_BIN=${KAM_BIN:-/usr/sbin/kamailio}
RTPENGINE_BIN=${RTPENGINE_BIN:-/usr/bin/rtpengine}
STUNNEL_BIN=${STUNNEL_BIN:-/usr/bin/stunnel}

# kam_need: the tools, or a message on stderr and 1.
kam_need() {
	local t
	for t in "$KAM_BIN" "$STUNNEL_BIN" openssl tcpdump sipp; do
		command -v "$t" >/dev/null || { echo "$t not installed (scripts/deps.sh)" >&2; return 1; }
	done
	for t in tls rtpengine tm rr; do
		[ -e "/usr/lib/x86_64-linux-gnu/kamailio/modules/$t.so" ] ||
			[ -n "$(find /usr/lib*/ -path "*kamailio/modules/$t.so" -print -quit 2>/dev/null)" ] ||
			{ echo "kamailio module $t missing (kamailio-tls-modules)" >&2; return 1; }
	done
}

# kam_certs: a throwaway CA and one leaf certificate (server and client)
# for every lab address, in $LAB_TMP/tls. Sets KAM_CA KAM_CERT KAM_KEY.
kam_certs() {
	local d=$LAB_TMP/tls san
	mkdir -p "$d" || return 1
	san="subjectAltName=IP:$F4O,IP:$F4I,IP:${D4:-10.201.4.2},IP:$I4,IP:$O4"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=sipwall lab CA $lab_tag" \
		>"$d/openssl.log" 2>&1 || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/proxy.key" -out "$d/proxy.csr" -subj "/CN=sipwall-lab-proxy" \
		>>"$d/openssl.log" 2>&1 || return 1
	printf '%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$d/ext"
	openssl x509 -req -in "$d/proxy.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/proxy.pem" >>"$d/openssl.log" 2>&1 || return 1
	KAM_CA=$d/ca.pem KAM_CERT=$d/proxy.pem KAM_KEY=$d/proxy.key
}

# kam_config OUT TLS_ADDR RELAY_ADDR UAS_HOSTPORT NG_SOCK: fill the template.
# The UDP leg to the UAS uses port $KAM_RELAY_PORT (5080) at both ends: not a
# port sipd queues (sip_ports), so whatever sipd knows of these calls comes
# from the ng commands alone, wherever Kamailio runs.
KAM_RELAY_PORT=${KAM_RELAY_PORT:-5080}
kam_config() {
	local out=$1 tls=$2 relay=$3 uas=$4 ng=$5
	sed -e "s|@DEBUG@|${KAM_DEBUG:-2}|" \
		-e "s|@TLS_ADDR@|$tls|" \
		-e "s|@RELAY_LISTEN@|listen=udp:$relay:$KAM_RELAY_PORT|" \
		-e "s|@RELAY_PROTO@|udp|g" \
		-e "s|@UAS_HOSTPORT@|$uas|" \
		-e "s|@NG_SOCK@|$ng|" \
		-e "s|@CERT@|$KAM_CERT|" -e "s|@KEY@|$KAM_KEY|" -e "s|@CA@|$KAM_CA|" \
		"$KAM_DIR/kamailio.cfg.in" >"$out"
	! grep -q '@[A-Z_]*@' "$out"
}

# kam_start NS CFG: Kamailio in NS, foreground (-DD), logging to
# $LAB_TMP/kamailio.log; waits (bounded) until it listens on 5061.
kam_start() {
	local ns=$1 cfg=$2 i
	mkdir -p "$LAB_TMP/kam-run"
	: >"$LAB_TMP/kamailio.log"
	in_ns "$ns" "$KAM_BIN" -c -f "$cfg" >"$LAB_TMP/kamailio-check.log" 2>&1 || return 1
	nsenter --net="/run/netns/$ns" "$KAM_BIN" -DD -E -f "$cfg" -m 64 -M 8 \
		-Y "$LAB_TMP/kam-run" -P "$LAB_TMP/kam-run/kamailio.pid" -w "$LAB_TMP" \
		>>"$LAB_TMP/kamailio.log" 2>&1 &
	KAM_PID=$!
	LAB_PIDS+=("$KAM_PID")
	for i in $(seq 1 50); do
		in_ns "$ns" ss -Hltn 'sport = :5061' 2>/dev/null | grep -q . && return 0
		kill -0 "$KAM_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# kam_stop: TERM to Kamailio's main process (it ends its children), bounded;
# then KILL to whichever of its children (by pid) outlived it.
kam_stop() {
	local kids p
	[ -n "${KAM_PID:-}" ] || return 0
	kids=$(pgrep -P "$KAM_PID" 2>/dev/null)
	kill -TERM "$KAM_PID" 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$KAM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$KAM_PID" 2>/dev/null
	wait "$KAM_PID" 2>/dev/null
	for p in $kids; do kill -KILL "$p" 2>/dev/null; done
	KAM_PID=
}

# kam_stunnel PROXY_ADDR: stunnel in outside, TCP $O4:5070 in, TLS to
# PROXY_ADDR:5061 out, the proxy's certificate checked against the lab CA
# and its IP address.
kam_stunnel() {
	local proxy=$1 i
	cat >"$LAB_TMP/stunnel.conf" <<EOF
foreground = yes
pid =
debug = info
output = $LAB_TMP/stunnel.log
[sip-tls]
client = yes
accept = $O4:5070
connect = $proxy:5061
local = $O4
CAfile = $KAM_CA
verifyChain = yes
checkIP = $proxy
sslVersionMin = TLSv1.2
EOF
	nsenter --net="/run/netns/$NS_O" "$STUNNEL_BIN" "$LAB_TMP/stunnel.conf" \
		>>"$LAB_TMP/stunnel.out" 2>&1 &
	KAM_STUNNEL_PID=$!
	LAB_PIDS+=("$KAM_STUNNEL_PID")
	for i in $(seq 1 50); do
		in_o ss -Hltn 'sport = :5070' 2>/dev/null | grep -q . && return 0
		kill -0 "$KAM_STUNNEL_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# kam_rtpengine NS IFACE_ADDR NG_ADDR:PORT: the rtpengine daemon (userspace
# only: --table=-1) in NS, relaying on IFACE_ADDR ports 30000-30999.
kam_rtpengine() {
	local ns=$1 ifa=$2 ng=$3 i
	nsenter --net="/run/netns/$ns" "$RTPENGINE_BIN" --config-file=none --table=-1 \
		--interface="$ifa" --listen-ng="$ng" --port-min=30000 --port-max=30999 \
		--foreground --log-stderr --log-level=${RTPENGINE_LOG_LEVEL:-6} \
		--pidfile="$LAB_TMP/rtpengine.pid" --num-threads=2 --delete-delay=0 \
		>>"$LAB_TMP/rtpengine.log" 2>&1 &
	KAM_RTPENGINE_PID=$!
	LAB_PIDS+=("$KAM_RTPENGINE_PID")
	for i in $(seq 1 50); do
		in_ns "$ns" ss -Hlun "sport = :${ng##*:}" 2>/dev/null | grep -q . && return 0
		kill -0 "$KAM_RTPENGINE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# kam_capture_start NAME NS IFACE FILTER: tcpdump into $LAB_TMP/NAME.pcap
# (the ng datagrams both ways, or the TLS leg); KAM_CAP[NAME] holds its pid.
declare -gA KAM_CAP
kam_capture_start() {
	local name=$1 ns=$2 ifc=$3 filter=$4 i
	: >"$LAB_TMP/$name.tcpdump.log"
	nsenter --net="/run/netns/$ns" tcpdump -i "$ifc" -n -U -s 0 -w "$LAB_TMP/$name.pcap" \
		"$filter" >>"$LAB_TMP/$name.tcpdump.log" 2>&1 &
	KAM_CAP[$name]=$!
	LAB_PIDS+=("$!")
	for i in $(seq 1 50); do
		grep -q "listening on" "$LAB_TMP/$name.tcpdump.log" && return 0
		sleep 0.1
	done
	return 1
}

# kam_capture_stop NAME: flush and stop that capture.
kam_capture_stop() {
	local p=${KAM_CAP[$1]:-}
	[ -n "$p" ] || return 0
	sleep 0.3
	kill -INT "$p" 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	wait "$p" 2>/dev/null
	KAM_CAP[$1]=
}

# kam_uas PORT CALLS [args]: SIPp UAS in inside on UDP I4:PORT, background.
kam_uas() {
	local port=$1 calls=$2; shift 2
	( cd "$LAB_TMP" && exec nsenter --net="/run/netns/$NS_I" sipp -sf "$KAM_DIR/uas.xml" \
		-i "$I4" -p "$port" -mi "$I4" -mp 16000 -m "$calls" -nostdin -timeout 60s \
		-timeout_error -trace_err -error_file "$LAB_TMP/uas-err.log" "$@" \
		>"$LAB_TMP/uas.out" 2>&1 ) &
	LAB_UAS_PID=$!
	LAB_PIDS+=("$LAB_UAS_PID")
	sleep 0.3
}

# kam_uac PROXY_ADDR SERVICE [args]: one call from outside through stunnel to
# sip:SERVICE@PROXY_ADDR:5061, foreground, bounded; SIPp's exit status.
kam_uac() {
	local proxy=$1 svc=$2; shift 2
	( cd "$LAB_TMP" && timeout 60 nsenter --net="/run/netns/$NS_O" sipp "$O4:5070" -t t1 \
		-sf "$KAM_DIR/uac.xml" -key proxy "$proxy:5061" -s "$svc" \
		-i "$O4" -p 5060 -mi "$O4" -mp 12000 -m 1 -l 1 -nostdin \
		-timeout 30s -timeout_error -recv_timeout 8000 \
		-trace_err -error_file "$LAB_TMP/uac-err.log" -trace_msg -message_file "$LAB_TMP/uac-msg.log" \
		-d "${LAB_RTP_MS:-2000}" "$@" >"$LAB_TMP/uac.out" 2>&1 )
}
