# SPDX-License-Identifier: GPL-2.0-only
# The side-by-side benchmark lab, sourced by bench/compare,
# bench/sipd-throughput and tests/suites/85-bench-smoke.sh.
#
#   outside (generator, SIP UAC) --- fw --- inside (sink, SIP UAS)
#   10.202.1.2                 .1.1 | .2.1   10.202.2.2, 10.203.0.1/32
#
# fw routes 10.203.0.0/16 (the benchmark's media destinations) via inside,
# whose XDP sink drops generated frames on CPU 0. fw's outside veth has GRO
# on and threaded NAPI pinned to CPU 1: its NAPI thread does all of fw's
# receive work, and its own CPU time / the packets it handled is the cost.
# fw is configured one way at a time (bl_cfg_up/bl_cfg_down):
#   floor   XDP drop of everything, packet unread
#   sipwall sipwall XDP on fw's outside veth + sipd inline (NFQUEUE rules,
#           media untracked in raw)
#   forward the same with sipwall attach --forward on both of fw's veths:
#           pinholed media routed and redirected in XDP
#   helper  nftables + conntrack SIP helper, media from outside dropped
#           unless conntrack says related/established
#   sets    nftables raw prerouting: media from outside dropped unless
#           (daddr . dport . saddr) is in a set
# Names carry a per-run tag; bl_down removes only what bl_up made.
#
# Needs: SW_TOP, bl_tag (tests/lib.sh sw_tag).

BL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BL_SIPWALL=${BL_SIPWALL:-$SW_TOP/build/bin/sipwall}
BL_SIPD=${BL_SIPD:-$SW_TOP/build/bin/sipd}
BL_SWGEN=${BL_SWGEN:-$SW_TOP/build/bin/swgen}
BL_PY=${BL_PY:-/usr/bin/python3}
BL_NAPI_CPU=${BL_NAPI_CPU:-1}	# fw's measured NAPI thread
BL_SINK_CPU=${BL_SINK_CPU:-0}	# the sink's NAPI thread
BL_GEN_CPU=${BL_GEN_CPU:-1}	# the generator (BENCH-METHOD: fw's CPU is cleanest)
BL_MEDIA=10000-20000

bl_init() {
	bl_tag=${bl_tag:-$(sw_tag)}
	BL_NO=${bl_tag}-bo BL_NF=${bl_tag}-bf BL_NI=${bl_tag}-bi
	BL_O=${bl_tag}o BL_FO=${bl_tag}fo BL_FI=${bl_tag}fi BL_I=${bl_tag}i
	BL_PIN=/sys/fs/bpf/sipwall-bench-$bl_tag
	BL_TMP=${BL_TMP:-$(mktemp -d "${SW_TEST_TMP:-/tmp}/sipwall-bench.XXXXXX")}
	BO4=10.202.1.2 BF4O=10.202.1.1 BF4I=10.202.2.1 BI4=10.202.2.2
	BUA4=10.203.0.1		# inside's SIP/media address for the helper calls
	BFLOOD4=10.203.200.1	# unsolicited media goes here (no pinhole ever)
	BL_NS=()
	BL_PIDS=()
	BL_CFG=
	BL_SIPD_PID=
	BL_NFT_TABLE=swbench
	BL_QUEUE=$(( (RANDOM % 30000) + 1000 ))
}

bl_in() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
bl_o() { bl_in "$BL_NO" "$@"; }
bl_f() { bl_in "$BL_NF" "$@"; }
bl_i() { bl_in "$BL_NI" "$@"; }
bl_sysctl() { bl_in "$1" sysctl -qw "$2" >/dev/null; }
bl_mac() { bl_in "$1" cat "/sys/class/net/$2/address" 2>/dev/null ||
	bl_in "$1" ip -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

bl_up() {
	local ns
	bl_init
	for ns in "$BL_NO" "$BL_NF" "$BL_NI"; do
		ip netns add "$ns" || return 1
		BL_NS+=("$ns")
		bl_in "$ns" ip link set lo up
	done
	ip link add "$BL_O" netns "$BL_NO" type veth peer name "$BL_FO" netns "$BL_NF" || return 1
	ip link add "$BL_FI" netns "$BL_NF" type veth peer name "$BL_I" netns "$BL_NI" || return 1
	bl_o ip addr add $BO4/24 dev "$BL_O"
	bl_f ip addr add $BF4O/24 dev "$BL_FO"
	bl_f ip addr add $BF4I/24 dev "$BL_FI"
	bl_i ip addr add $BI4/24 dev "$BL_I"
	bl_i ip addr add $BUA4/32 dev lo
	for ns in "$BL_NO:$BL_O" "$BL_NF:$BL_FO" "$BL_NF:$BL_FI" "$BL_NI:$BL_I"; do
		bl_in "${ns%%:*}" ip link set "${ns#*:}" up || return 1
	done
	bl_o ip route add 10.202.2.0/24 via $BF4O
	bl_o ip route add 10.203.0.0/16 via $BF4O
	bl_f ip route add 10.203.0.0/16 via $BI4
	bl_i ip route add default via $BF4I
	for ns in "$BL_NO" "$BL_NF" "$BL_NI"; do
		bl_sysctl "$ns" net.ipv4.conf.all.rp_filter=0
		bl_sysctl "$ns" net.ipv4.conf.default.rp_filter=0
		bl_sysctl "$ns" net.ipv4.icmp_echo_ignore_all=0
		bl_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1
	done
	bl_sysctl "$BL_NF" net.ipv4.ip_forward=1
	# No ICMP errors from fw or the sink: they would land on CPU 1.
	bl_sysctl "$BL_NF" net.ipv4.icmp_ratelimit=0
	bl_sysctl "$BL_NF" net.ipv4.icmp_msgs_per_sec=0
	bl_sysctl "$BL_NI" net.ipv4.icmp_msgs_per_sec=0
	# Neighbours fixed: no ARP during a measurement.
	bl_f ip neigh replace $BI4 lladdr "$(bl_mac "$BL_NI" "$BL_I")" dev "$BL_FI" nud permanent
	bl_f ip neigh replace $BO4 lladdr "$(bl_mac "$BL_NO" "$BL_O")" dev "$BL_FO" nud permanent
	bl_o ip neigh replace $BF4O lladdr "$(bl_mac "$BL_NF" "$BL_FO")" dev "$BL_O" nud permanent
	bl_i ip neigh replace $BF4I lladdr "$(bl_mac "$BL_NF" "$BL_FI")" dev "$BL_I" nud permanent
	# fw's outside veth: GRO on (veth NAPI without an XDP program), threaded
	# NAPI. The sink: XDP drop of generated frames, threaded NAPI on CPU 0.
	bl_f ethtool -K "$BL_FO" gro on >/dev/null || return 1
	ip netns exec "$BL_NF" sh -c "echo 1 > /sys/class/net/$BL_FO/threaded" || return 1
	bl_i "$BL_SWGEN" attach sink "$BL_I" || return 1
	ip netns exec "$BL_NI" sh -c "echo 1 > /sys/class/net/$BL_I/threaded" || return 1
	bl_pin_napi "$BL_I" "$BL_SINK_CPU" >/dev/null || return 1
	bl_pin_napi "$BL_FO" "$BL_NAPI_CPU" >/dev/null || return 1
	BL_FO_MAC=$(bl_mac "$BL_NF" "$BL_FO")
	return 0
}

# bl_pin_napi DEV CPU: pin DEV's NAPI thread (found again every time: it
# is recreated when GRO or XDP toggles NAPI) and print its pid.
bl_pin_napi() {
	local pid
	pid=$(pgrep "^napi/$1-" | head -n 1)
	[ -n "$pid" ] || { echo "bench: no NAPI thread for $1" >&2; return 1; }
	taskset -pc "$2" "$pid" >/dev/null || return 1
	echo "$pid"
}

# bl_xdp_packets NS DEV: packets DEV's NAPI handled (veth counts every frame
# through its NAPI poll as rx_queue_0_xdp_packets, XDP program or not).
bl_xdp_packets() {
	bl_in "$1" ethtool -S "$2" | awk '$1 == "rx_queue_0_xdp_packets:" { print $2 }'
}
# bl_tx_packets NS DEV: packets DEV sent or tried to (fw's forwarding output;
# for veth this includes what XDP redirected into it, which its peer's NAPI
# counts).
bl_tx_packets() {
	bl_in "$1" ip -s -s link show dev "$2" | awk '/TX:/ { getline; print $2 + $4; exit }'
}

# bl_gen ARGS...: the generator in outside, on BL_GEN_CPU.
bl_gen() {
	bl_o taskset -c "$BL_GEN_CPU" "$BL_SWGEN" send --dev "$BL_O" --dst-mac "$BL_FO_MAC" \
		--src $BO4 "$@"
}

# Traffic kinds: flood = unsolicited media (random source and destination
# port, one address no pinhole ever covers); pass N = media from BO4:40000
# spread over the first N pinholes (10.203.0.1.. x 10000-19999).
bl_traffic_args() {
	case $1 in
	flood) echo "--dst $BFLOOD4 --dport 10000 --n 10001 --per-addr 10001 --sport 1024 --sport-span 64000" ;;
	pass) echo "--dst $BUA4 --dport 10000 --n ${2:-1} --per-addr 10000 --sport 40000" ;;
	esac
}

# bl_measure KIND N PACKETS SECS: one measurement; prints
# "ns_per_pkt handled_pkts forwarded_pkts offered_mpps".
bl_measure() {
	local kind=$1 n=$2 pkts=$3 secs=$4 pid c0 c1 p0 p1 s0 s1 out
	pid=$(bl_pin_napi "$BL_FO" "$BL_NAPI_CPU") || return 1
	# warm-up: caches, conntrack entry of the pass flow, page pools
	bl_gen $(bl_traffic_args "$kind" "$n") --packets $((pkts / 10)) --seconds 1 >/dev/null || return 1
	sleep 0.05
	c0=$(awk '{ print $1 }' "/proc/$pid/schedstat") p0=$(bl_xdp_packets "$BL_NF" "$BL_FO")
	s0=$(bl_tx_packets "$BL_NF" "$BL_FI")
	out=$(bl_gen $(bl_traffic_args "$kind" "$n") --packets "$pkts" --seconds "$secs") || return 1
	sleep 0.1
	c1=$(awk '{ print $1 }' "/proc/$pid/schedstat") p1=$(bl_xdp_packets "$BL_NF" "$BL_FO")
	s1=$(bl_tx_packets "$BL_NF" "$BL_FI")
	[ -n "$c1" ] && [ -n "$p1" ] && [ "$p1" -gt "$p0" ] || {
		echo "bench: fw's NAPI thread handled no packets ($BL_CFG $kind)" >&2
		return 1
	}
	awk -v c=$((c1 - c0)) -v p=$((p1 - p0)) -v s=$((s1 - s0)) -v o="$out" 'BEGIN {
		split(o, f, /[ =]/); printf "%.1f %d %d %s\n", c / p, p, s, f[6] }'
}

# --- configurations -------------------------------------------------------

# The SIPp caller is one outside source: at the ladder's 200 calls/s its
# calls hold ~2,000 pinholes at once (4 per call, 1 s of media, 1 s of BYE
# grace), the default security.max_pinholes_per_source; the lab sizes it for
# the offered load as an operator would for a trunk.
bl_sipd_config() {
	local busy=
	[ -z "${BL_BUSY_POLL:-}" ] || busy=", \"busy_poll_us\": $BL_BUSY_POLL"
	cat >"$BL_TMP/sipd.json" <<EOF2
{
  "pin_path": "$BL_PIN",
  "queue": { "num": $BL_QUEUE, "count": ${BL_QUEUES:-1}, "fail_open": false$busy },
  "networks": { "inside": [ "10.202.2.0/24", "10.203.0.0/16" ], "default_check": "address" },
  "timeouts": { "bye_grace_s": 1 },
  "security": { "max_pinholes_per_source": 8192 }${BL_SIPD_EXTRA:+,
  $BL_SIPD_EXTRA}
}
EOF2
	echo "$BL_TMP/sipd.json"
}

bl_cfg_up() {
	BL_CFG=$1
	case $1 in
	floor)
		bl_f "$BL_SWGEN" attach drop "$BL_FO" ;;
	touch)
		bl_f "$BL_SWGEN" attach touch "$BL_FO" ;;
	sipwall | forward)
		local cfg i fwd=
		[ "$1" = forward ] && fwd=--forward
		cfg=$(bl_sipd_config)
		# BL_ATTACH_OPTS: more attach options for fw's first veth, e.g.
		# --prealloc (bench/phmem, docs/benchmarks.md).
		bl_f "$BL_SIPWALL" attach "$BL_FO" --mode native --pin-path "$BL_PIN" \
			--media-ports $BL_MEDIA --max-pinholes 1048576 $fwd ${BL_ATTACH_OPTS:-} \
			>/dev/null 2>&1 || return 1
		# The egress: XDP there too (the return path), and in sw_fwd_devs.
		# Its peer, the sink, has an XDP program: redirected frames arrive.
		if [ -n "$fwd" ]; then
			bl_f "$BL_SIPWALL" attach "$BL_FI" --mode native --pin-path "$BL_PIN" \
				--media-ports $BL_MEDIA $fwd >/dev/null 2>&1 || return 1
		fi
		bl_f "$BL_SIPD" rules install -c "$cfg" >/dev/null || return 1
		: >"$BL_TMP/sipd.log"
		# BL_SIPD_SCHED: a prefix for sipd's placement, e.g. "chrt -f 10"
		# or "taskset -c 0" (docs/benchmarks.md, issue 16).
		nsenter --net="/run/netns/$BL_NF" ${BL_SIPD_SCHED:-} "$BL_SIPD" run -c "$cfg" \
			>"$BL_TMP/events.jsonl" 2>>"$BL_TMP/sipd.log" &
		BL_SIPD_PID=$!
		BL_PIDS+=("$BL_SIPD_PID")
		for i in $(seq 1 50); do
			grep -q "inline on NFQUEUE" "$BL_TMP/sipd.log" && return 0
			kill -0 "$BL_SIPD_PID" 2>/dev/null || break
			sleep 0.1
		done
		echo "bench: sipd did not start: $(cat "$BL_TMP/sipd.log")" >&2
		return 1 ;;
	helper)
		bl_f nft -f - <<EOF2 || return 1
table inet $BL_NFT_TABLE {
	ct helper sip-udp {
		type "sip" protocol udp
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		udp dport 5060 ct helper set "sip-udp"
	}
	chain media {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		iifname "$BL_FO" udp dport $BL_MEDIA drop
	}
}
EOF2
		;;
	sets)
		bl_f nft -f - <<EOF2 || return 1
table inet $BL_NFT_TABLE {
	set allowed {
		type ipv4_addr . inet_service . ipv4_addr
		size 2097152
	}
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		iifname "$BL_FO" udp dport $BL_MEDIA ip daddr . udp dport . ip saddr != @allowed drop
	}
}
EOF2
		;;
	*) echo "bench: unknown configuration '$1'" >&2; return 1 ;;
	esac
}

bl_cfg_down() {
	case $BL_CFG in
	floor | touch) bl_f "$BL_SWGEN" detach "$BL_FO" ;;
	sipwall | forward)
		bl_sipd_stop
		bl_f "$BL_SIPD" rules remove >/dev/null 2>&1
		bl_f "$BL_SIPWALL" detach "$BL_FO" --pin-path "$BL_PIN" >/dev/null 2>&1
		[ "$BL_CFG" = forward ] &&
			bl_f "$BL_SIPWALL" detach "$BL_FI" --pin-path "$BL_PIN" >/dev/null 2>&1
		case "$BL_PIN" in /sys/fs/bpf/sipwall-bench-s*) rm -rf "$BL_PIN" ;; esac ;;
	helper | sets)
		bl_f nft delete table inet $BL_NFT_TABLE 2>/dev/null ;;
	esac
	# Flows tracked under one configuration (SIP without the helper, the
	# pass flow) must not carry over into the next.
	bl_f conntrack -F >/dev/null 2>&1
	bl_f conntrack -F expect >/dev/null 2>&1
	BL_CFG=
	return 0
}

bl_sipd_stop() {
	[ -n "$BL_SIPD_PID" ] || return 0
	kill -TERM "$BL_SIPD_PID" 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$BL_SIPD_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$BL_SIPD_PID" 2>/dev/null
	wait "$BL_SIPD_PID" 2>/dev/null
	BL_SIPD_PID=
}

# bl_pinholes N: N pinholes/set elements for the current configuration
# (the same destinations the pass traffic spreads over).
bl_pinholes() {
	local n=$1
	case $BL_CFG in
	sipwall | forward)
		bl_f "$BL_SWGEN" fill "$BL_PIN" "$n" --dst $BUA4 --per-addr 10000 --dport 10000 \
			--src $BO4 ;;
	sets)
		"$BL_SWGEN" elems "$n" --dst $BUA4 --per-addr 10000 --dport 10000 --src $BO4 \
			--table $BL_NFT_TABLE --set allowed >"$BL_TMP/elems.nft" &&
			bl_f nft -f "$BL_TMP/elems.nft" ;;
	helper)
		# Only a call makes an expectation: one real INVITE/200 through fw.
		[ "$n" -eq 1 ] || return 1
		bl_sipcall 1 10000 0 >/dev/null ;;
	*) return 0 ;;
	esac
}

# bl_sipcall CALLS PORTBASE BLAST: CALLS INVITE/200/ACK exchanges from
# outside to inside's $BUA4 (bench/lab/sipcall.py), call k answered with
# media port PORTBASE+2k; with BLAST=1 the UAC sends RTP to that port from
# before its INVITE and the UAS prints, per call, "lat_us=N": microseconds
# from sending the SDP answer to receiving the first RTP packet.
bl_sipcall() {
	local calls=$1 base=$2 blast=$3 uas rc rc2
	bl_i timeout 60 "$BL_PY" "$BL_DIR/sipcall.py" uas $BUA4 "$calls" "$base" "$blast" \
		>"$BL_TMP/uas-call.out" 2>&1 &
	uas=$!
	BL_PIDS+=("$uas")
	sleep 0.3
	bl_o timeout 60 "$BL_PY" "$BL_DIR/sipcall.py" uac $BO4 "$calls" \
		$BUA4 "$base" "$blast" >"$BL_TMP/uac-call.out" 2>&1
	rc=$?
	wait "$uas"
	rc2=$?
	[ $rc -eq 0 ] && [ $rc2 -eq 0 ] || {
		echo "bench: calls through $BL_CFG failed (uac $rc, uas $rc2)" >&2
		cat "$BL_TMP/uac-call.out" "$BL_TMP/uas-call.out" >&2
		return 1
	}
	cat "$BL_TMP/uas-call.out"
}

# bl_sipp_rate RATE CALLS MEDIA_MS [TRANSPORT]: SIPp calls with RTP both ways
# from outside to inside at RATE calls/s over SIPp's -t TRANSPORT (u1, the
# default: UDP; t1: every call over one TCP connection, as a trunk; tn: a
# connection per call); prints "successful failed elapsed_s".
# SIPp's signalling sockets get 4 MB (net.core.rmem_max here) instead of its
# 64 KB default: above ~1,000 calls/s, a 64 KB receive buffer overflows
# (UdpRcvbufErrors in the SIPp namespaces) whenever SIPp is off the CPU.
BL_SIPP_BUF=4194304
bl_sipp_rate() {
	local rate=$1 calls=$2 ms=$3 tr=${4:-u1} uas rc t0 t1 ok failed
	head -c 16000 /dev/zero | tr '\0' '\325' >"$BL_TMP/bench.alaw"
	cp "$BL_DIR/uac.xml" "$BL_DIR/uas.xml" "$BL_TMP/"
	( cd "$BL_TMP" && exec nsenter --net="/run/netns/$BL_NI" sipp -sf uas.xml -i $BI4 -p 5060 \
		-mi $BI4 -mp 10000 -m "$calls" -t "$tr" -max_socket 65000 -buff_size $BL_SIPP_BUF -nostdin -timeout 120s -timeout_error \
		-trace_stat -stf uas-stat.csv >uas.out 2>&1 ) &
	uas=$!
	BL_PIDS+=("$uas")
	sleep 0.3
	t0=$(date +%s.%N)
	( cd "$BL_TMP" && timeout 120 nsenter --net="/run/netns/$BL_NO" sipp "$BI4:5060" -sf uac.xml \
		-i $BO4 -p 5060 -mi $BO4 -mp 10000 -m "$calls" -r "$rate" -l $((rate * 4 + 10)) -t "$tr" -max_socket 65000 \
		-d "$ms" -buff_size $BL_SIPP_BUF -nostdin -timeout 100s -timeout_error -recv_timeout 10000 \
		-trace_stat -stf uac-stat.csv >uac.out 2>&1 )
	rc=$?
	t1=$(date +%s.%N)
	for _ in $(seq 1 50); do kill -0 "$uas" 2>/dev/null || break; sleep 0.1; done
	kill "$uas" 2>/dev/null
	wait "$uas" 2>/dev/null
	ok=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END { print $h["SuccessfulCall(C)"] + 0 }' "$BL_TMP/uac-stat.csv" 2>/dev/null)
	failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END { print $h["FailedCall(C)"] + 0 }' "$BL_TMP/uac-stat.csv" 2>/dev/null)
	[ -n "$ok" ] || ok=0
	[ -n "$failed" ] || failed=$calls
	[ $rc -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((calls - ok))
	echo "$ok $failed $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

bl_down() {
	local p ns
	[ -n "${bl_tag:-}" ] && [ -n "${BL_NF:-}" ] || return 0
	[ -n "$BL_CFG" ] && bl_cfg_down
	for p in "${BL_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${BL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BL_PIDS=()
	for ns in "${BL_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	BL_NS=()
	case "$BL_PIN" in /sys/fs/bpf/sipwall-bench-s*) rm -rf "$BL_PIN" ;; esac
	case "$BL_TMP" in */sipwall-bench.*) [ -n "${BL_KEEP:-}" ] || rm -rf "$BL_TMP" ;; esac
}
