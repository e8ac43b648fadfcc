# SPDX-License-Identifier: GPL-2.0-only
# Network-namespace lab for data-path tests and the demo. Source it after
# tests/lib.sh, then:  nl_up [TAG]; ...; nl_down   (nl_up installs no trap:
# the caller's trap calls nl_down, which removes only what nl_up made).
#
#        spoofer (so) ─┐
#                      br0 ── outside ── (of)──(fo) fw (fi)──(if0) inside
#                      (same L2 segment as outside)
#   IPv4 10.1.1.0/24 outside segment (outside .2, fw .1, spoofer .3),
#        10.1.2.0/24 inside (fw .1, inside .2); IPv6 fd00:1::/64, fd00:2::/64.
# These addresses exist only inside this run's own namespaces. Interfaces
# are created directly inside them, so their names never meet the host's.
# Every command into a namespace uses nsenter --net (not ip netns exec), so
# the host's /sys/fs/bpf stays visible.

NL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NL_PY=${NL_PY:-/usr/bin/python3}

NL_O4=10.1.1.2 NL_F4O=10.1.1.1 NL_S4=10.1.1.3 NL_F4I=10.1.2.1 NL_I4=10.1.2.2
NL_O6=fd00:1::2 NL_F6O=fd00:1::1 NL_S6=fd00:1::3 NL_F6I=fd00:2::1 NL_I6=fd00:2::2
NL_FW_OUT=fo NL_FW_IN=fi
NL_NS=()
NL_PIDS=()
NL_CTL= NL_REP= NL_REQ=0

# nl_in NS CMD...
nl_in() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
nl_o() { nl_in "$NL_O" "$@"; }
nl_f() { nl_in "$NL_F" "$@"; }
nl_i() { nl_in "$NL_I" "$@"; }
nl_s() { nl_in "$NL_S" "$@"; }

_nl_ns() {
	ip netns add "$1" || return 1
	NL_NS+=("$1")
}

# _nl_ip NS LINE...: the ip commands LINE... in namespace NS with one ip
# process (-batch; stops at the first error): a process start costs up to a
# second in a TCG vmtest guest.
_nl_ip() {
	local ns=$1 IFS=$'\n'
	shift
	ip -n "$ns" -batch - <<<"$*"
}

# nl_up [TAG]: build the lab; returns non-zero (after undoing) on failure.
nl_up() {
	NL_TAG=${1:-$(sw_tag)}
	NL_O=$NL_TAG-out NL_F=$NL_TAG-fw NL_I=$NL_TAG-in NL_S=$NL_TAG-spoof
	NL_TMP=${NL_TMP:-$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-netns.XXXXXX")}
	{
		_nl_ns "$NL_O" && _nl_ns "$NL_F" && _nl_ns "$NL_I" && _nl_ns "$NL_S" &&
		_nl_ip "$NL_O" "link set lo up" \
			"link add of type veth peer name fo netns $NL_F" \
			"link add os type veth peer name so netns $NL_S" \
			"link add br0 type bridge" \
			"link set of master br0" "link set os master br0" \
			"link set of up" "link set os up" "link set br0 up" \
			"addr add $NL_O4/24 dev br0" "addr add $NL_O6/64 dev br0 nodad" \
			"route add default via $NL_F4O" "route add default via $NL_F6O" &&
		_nl_ip "$NL_F" "link set lo up" \
			"link add fi type veth peer name if0 netns $NL_I" \
			"link set fo up" "link set fi up" \
			"addr add $NL_F4O/24 dev fo" "addr add $NL_F6O/64 dev fo nodad" \
			"addr add $NL_F4I/24 dev fi" "addr add $NL_F6I/64 dev fi nodad" &&
		_nl_ip "$NL_S" "link set lo up" "link set so up" \
			"addr add $NL_S4/24 dev so" "addr add $NL_S6/64 dev so nodad" \
			"route add default via $NL_F4O" "route add default via $NL_F6O" &&
		_nl_ip "$NL_I" "link set lo up" "link set if0 up" \
			"addr add $NL_I4/24 dev if0" "addr add $NL_I6/64 dev if0 nodad" \
			"route add default via $NL_F4I" "route add default via $NL_F6I" &&
		# The spoofer claims the outside host's addresses on purpose (rp_filter 0).
		nl_f sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.fo.rp_filter=0
	} >"$NL_TMP/nl_up.log" 2>&1 || {
		echo "nl_up: building the lab failed:" >&2
		cat "$NL_TMP/nl_up.log" >&2
		nl_down
		return 1
	}
}

# nl_down: kill what we started, delete only our namespaces.
nl_down() {
	local p ns
	for p in "${NL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${NL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	NL_PIDS=()
	[ -z "$NL_CTL" ] || exec {NL_CTL}>&- {NL_REP}>&-
	NL_CTL= NL_REP=
	for ns in "${NL_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NL_NS=()
}

# nl_recv PORTS [TIMEOUT [RECV-OPTS...]]: start a logging UDP receiver in
# inside and the udp.py serve helper (nl_serve). Sets NL_LOG; waits until
# both are up. RECV-OPTS go to "udp.py recv" (e.g. --lite).
nl_recv() {
	local i
	NL_LOG=$NL_TMP/recv.log
	: >"$NL_LOG"
	rm -f "$NL_LOG.ready"
	# exec: $! is then the receiver itself (nsenter execs without forking).
	(exec nsenter --net="/run/netns/$NL_I" "$NL_PY" "$NL_DIR/udp.py" recv \
		--ports "$1" --log "$NL_LOG" --timeout "${2:-300}" "${@:3}") &
	NL_PIDS+=($!)
	for i in $(seq 50); do
		[ -s "$NL_LOG.ready" ] && { nl_serve "${2:-300}"; return; }
		sleep 0.1
	done
	echo "nl_recv: receiver did not start" >&2
	return 1
}

# nl_serve [TIMEOUT]: start "udp.py serve", one process for the whole run
# that sends from any namespace and answers nl_got, nl_barrier and nl_json.
# Starting python costs seconds in a TCG vmtest guest; a test sends a
# hundred times. Without it (before nl_recv) the helpers run udp.py, grep
# and python per call: the same code, just slower.
nl_serve() {
	local ctl=$NL_TMP/serve.ctl rep=$NL_TMP/serve.rep
	rm -f "$ctl" "$rep"
	mkfifo "$ctl" "$rep" || return 1
	# Read-write opens of a FIFO do not wait for the other end.
	exec {NL_CTL}<>"$ctl" {NL_REP}<>"$rep"
	(exec {NL_CTL}>&- {NL_REP}>&- "$NL_PY" "$NL_DIR/udp.py" serve \
		--ctl "$ctl" --reply "$rep" --log "$NL_LOG" --timeout "${1:-300}") &
	NL_PIDS+=($!)
	_nl_req got 0 0 >/dev/null || { echo "nl_serve: udp.py serve did not answer" >&2; return 1; }
}

# _nl_req CMD ARGS...: one request to udp.py serve; its output on stdout,
# its errors on stderr, its status returned (1 when it does not answer).
_nl_req() {
	local id=$BASHPID.$((++NL_REQ)) req line
	printf -v req ' %q' "$@"
	printf '%s%s\n' "$id" "$req" >&"$NL_CTL"
	while IFS= read -r -t 60 -u "$NL_REP" line; do
		case $line in
		"@@end $id "* | "@@end ? "*) return "${line##* }" ;;
		"@@end "*) ;; # the late answer to a request that timed out
		"o "*) printf '%s\n' "${line#o }" ;;
		"e "*) printf '%s\n' "${line#e }" >&2 ;;
		esac
	done
	echo "nl: udp.py serve gave no answer to:$req" >&2
	return 1
}

# nl_send NS udp.py-send-args...: send from a namespace.
nl_send() {
	local ns=$1
	shift
	if [ -n "$NL_CTL" ]; then
		_nl_req send "$ns" "$@"
	else
		nl_in "$ns" "$NL_PY" "$NL_DIR/udp.py" send "$@"
	fi
}

# nl_got DPORT SRC [SPORT]: datagrams logged so far for that flow.
nl_got() {
	if [ -n "$NL_CTL" ]; then
		_nl_req got "$@"
		return
	fi
	local pat="^$1 $2 ${3:-[0-9]*}\$"
	grep -c -- "$pat" "$NL_LOG"
}

# nl_json EXPR: print(EXPR) with d = the JSON document on stdin.
nl_json() {
	if [ -z "$NL_CTL" ]; then
		"$NL_PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"
		return
	fi
	local doc f=$NL_TMP/json.$BASHPID
	IFS= read -r -d '' doc
	printf '%s' "$doc" >"$f"
	_nl_req json "$f" "$1"
}

# nl_barrier: send a marker on a port outside the media range and wait for
# it, so everything sent before it has been delivered or dropped.
NL_BARRIER_PORT=5999
NL_BARRIER_SEQ=30000
nl_barrier() {
	local i
	NL_BARRIER_SEQ=$((NL_BARRIER_SEQ + 1))
	nl_send "$NL_O" --dst $NL_I4 --dport $NL_BARRIER_PORT --sport $NL_BARRIER_SEQ || return 1
	if [ -n "$NL_CTL" ]; then
		_nl_req wait $NL_BARRIER_PORT $NL_O4 $NL_BARRIER_SEQ 1 5 && return 0
		echo "nl_barrier: marker $NL_BARRIER_SEQ never arrived" >&2
		return 1
	fi
	for i in $(seq 30); do
		[ "$(nl_got $NL_BARRIER_PORT $NL_O4 $NL_BARRIER_SEQ)" -ge 1 ] && return 0
		sleep 0.1
	done
	echo "nl_barrier: marker $NL_BARRIER_SEQ never arrived" >&2
	return 1
}

# nl_warm: after nl_recv, wait until outside and the spoofer reach inside
# over IPv4 and IPv6 (neighbours resolved, routes up), bounded to ~10 s.
nl_warm() {
	local ns src dst i seq=20000
	for ns in "$NL_O" "$NL_S"; do
		for dst in $NL_I4 $NL_I6; do
			for i in $(seq 100); do
				seq=$((seq + 1))
				nl_send "$ns" --dst "$dst" --dport $NL_BARRIER_PORT --sport $seq || return 1
				if [ -n "$NL_CTL" ]; then
					_nl_req wait $NL_BARRIER_PORT '*' $seq 1 0.1 && break
					continue
				fi
				sleep 0.05
				grep -q " $seq\$" "$NL_LOG" && break
			done
			[ "$i" -lt 100 ] || { echo "nl_warm: $ns cannot reach $dst" >&2; return 1; }
		done
	done
}
