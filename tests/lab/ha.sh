# SPDX-License-Identifier: GPL-2.0-only
# The two-node lab (docs/ha.md), sourced by tests/suites/69-cluster.sh and
# 71-cluster-impair.sh, on top of tests/lab/lab.sh (its in_ns,
# lab_uac/lab_uas, lab_udp_* helpers):
#
#            +-- fa (.1.1) fwA (.2.1) --+
#   outside -|                          |- inside        rd: Redis
#   (O4)     +-- fb (.3.1) fwB (.4.1) --+  (I4)          (ra <-> fwA, rb <-> fwB)
#
# outside 10.201.1.2 (o0, to fwA) and 10.203.1.2 (o1, to fwB); inside
# 10.201.2.2 (i0, from fwA) and 10.203.2.2 (i1, from fwB). SIP and media go
# through fwA unless ha_media_via_b (media, by policy routing on the RTP
# ports) or ha_sip_via_b (everything) says otherwise. Redis listens on
# 10.209.1.1 (fwA's side) and 10.209.2.1 (fwB's side).
#
# Needs: SW_TOP; lab_tag before ha_up.

source "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

# ha_need: what the lab needs on the host (tools, sipwall's binaries,
# Debian's python3); exits 77 (skip) naming what is missing.
ha_need() {
	local t b
	for t in sipp iptables nsenter redis-server redis-cli tc bpftool; do
		command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
	done
	for b in "$LAB_SIPD" "$LAB_SIPWALL"; do
		[ -x "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
	done
	[ -x "$LAB_PY" ] || { echo "skip: $LAB_PY missing"; exit 77; }
}

# ha_connected LOG: that sipd's reader and writer have both connected.
ha_connected() { grep -q "cluster_connected: reader" "$1" && grep -q "cluster_connected: writer" "$1"; }

ha_init() {
	lab_init
	NS_O=${lab_tag}-out NS_I=${lab_tag}-in NS_A=${lab_tag}-fwa NS_B=${lab_tag}-fwb
	NS_R=${lab_tag}-rd
	NS_F=$NS_A # lab.sh helpers that name "fw" mean node A
	PIN_A=/sys/fs/bpf/sipwall-lab-$lab_tag-a PIN_B=/sys/fs/bpf/sipwall-lab-$lab_tag-b
	LAB_PIN=$PIN_A
	O4=10.201.1.2 I4=10.201.2.2 OB4=10.203.1.2 IB4=10.203.2.2
	A_O=10.201.1.1 A_I=10.201.2.1 B_O=10.203.1.1 B_I=10.203.2.1
	R_A=10.209.1.1 R_B=10.209.2.1
	HA_REDIS_PID=
}

in_a() { in_ns "$NS_A" "$@"; }
in_b() { in_ns "$NS_B" "$@"; }
in_r() { in_ns "$NS_R" "$@"; }

ha_up() {
	local ns
	ha_init
	for ns in "$NS_O" "$NS_I" "$NS_A" "$NS_B" "$NS_R"; do
		ip netns add "$ns" || return 1
		LAB_NS+=("$ns")
		in_ns "$ns" ip link set lo up
	done
	ip link add o0 netns "$NS_O" type veth peer name fo netns "$NS_A" || return 1
	ip link add fi netns "$NS_A" type veth peer name i0 netns "$NS_I" || return 1
	ip link add o1 netns "$NS_O" type veth peer name fo netns "$NS_B" || return 1
	ip link add fi netns "$NS_B" type veth peer name i1 netns "$NS_I" || return 1
	ip link add ra netns "$NS_R" type veth peer name fr netns "$NS_A" || return 1
	ip link add rb netns "$NS_R" type veth peer name fr netns "$NS_B" || return 1
	in_ns "$NS_O" ip addr add $O4/24 dev o0
	in_ns "$NS_O" ip addr add $OB4/24 dev o1
	in_ns "$NS_I" ip addr add $I4/24 dev i0
	in_ns "$NS_I" ip addr add $IB4/24 dev i1
	in_a ip addr add $A_O/24 dev fo
	in_a ip addr add $A_I/24 dev fi
	in_b ip addr add $B_O/24 dev fo
	in_b ip addr add $B_I/24 dev fi
	in_r ip addr add $R_A/24 dev ra
	in_r ip addr add $R_B/24 dev rb
	in_a ip addr add 10.209.1.2/24 dev fr
	in_b ip addr add 10.209.2.2/24 dev fr
	local links=("$NS_O o0 o1" "$NS_I i0 i1" "$NS_A fo fi fr" "$NS_B fo fi fr" "$NS_R ra rb")
	for spec in "${links[@]}"; do
		set -- $spec
		ns=$1; shift
		lab_sysctl "$ns" net.ipv4.conf.all.rp_filter=0
		lab_sysctl "$ns" net.ipv4.conf.default.rp_filter=0
		for l in "$@"; do
			in_ns "$ns" ip link set "$l" up
			lab_sysctl "$ns" "net.ipv4.conf.$l.rp_filter=0"
		done
	done
	lab_sysctl "$NS_A" net.ipv4.ip_forward=1
	lab_sysctl "$NS_B" net.ipv4.ip_forward=1
	# fwB reaches the endpoints' fwA-side addresses through its own links.
	in_b ip route add 10.201.1.0/24 via $OB4
	in_b ip route add 10.201.2.0/24 via $IB4
	in_ns "$NS_O" ip route add 10.201.2.0/24 via $A_O
	in_ns "$NS_I" ip route add 10.201.1.0/24 via $A_I
	# Table 100: the path through fwB.
	in_ns "$NS_O" ip route add 10.201.2.0/24 via $B_O table 100
	in_ns "$NS_I" ip route add 10.201.1.0/24 via $B_I table 100
	in_ns "$NS_O" ping -c1 -W2 $I4 >/dev/null 2>&1
	in_ns "$NS_O" ping -c1 -W2 $B_O >/dev/null 2>&1
	in_ns "$NS_I" ping -c1 -W2 $B_I >/dev/null 2>&1
	# A Sentinel names the master by one address (R_A): B reaches it too.
	in_b ip route add $R_A/32 via $R_B
	in_a ip route add $R_B/32 via $R_A
	in_a ping -c1 -W2 $R_A >/dev/null 2>&1
	in_b ping -c1 -W2 $R_B >/dev/null 2>&1
	return 0
}

# Media (the lab's RTP ports: UAC 12000.., UAS 16000..) through fwB.
ha_media_via_b() {
	in_ns "$NS_O" ip rule add ipproto udp sport 12000-12010 lookup 100 pref 100 &&
		in_ns "$NS_I" ip rule add ipproto udp sport 16000-16010 lookup 100 pref 100
}
# Everything (SIP too) through fwB.
ha_sip_via_b() {
	in_ns "$NS_O" ip rule add lookup 100 pref 200 &&
		in_ns "$NS_I" ip rule add lookup 100 pref 200
}
ha_paths_reset() {
	local ns
	for ns in "$NS_O" "$NS_I"; do
		in_ns "$ns" ip rule del pref 100 2>/dev/null
		in_ns "$ns" ip rule del pref 200 2>/dev/null
	done
	return 0
}

ha_attach() {
	local rc=0 ifc
	for ifc in fo fi; do
		in_a "$LAB_SIPWALL" attach "$ifc" --mode native --pin-path "$PIN_A" \
			--media-ports 10000-20000 || rc=1
		in_b "$LAB_SIPWALL" attach "$ifc" --mode native --pin-path "$PIN_B" \
			--media-ports 10000-20000 || rc=1
	done
	return $rc
}

# ha_redis_start: redis-server in rd, ACL user sipwall (password in
# $LAB_TMP/redis.cred, the file sipd reads; admin, for replication and the
# Sentinel, has the same), default user off, no disk.
ha_redis_start() {
	HA_PASS=${HA_PASS:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
	printf 'user=sipwall\npassword=%s\n' "$HA_PASS" >"$LAB_TMP/redis.cred"
	chmod 600 "$LAB_TMP/redis.cred"
	cat >"$LAB_TMP/redis.conf" <<EOF
bind $R_A $R_B
port 6379
protected-mode yes
save ""
appendonly no
dir $LAB_TMP
daemonize no
logfile $LAB_TMP/redis.log
user default off
user sipwall on >$HA_PASS ~sipwall:* resetchannels +@all -@dangerous +role +info
user admin on >$HA_PASS ~* &* +@all
EOF
	chmod 600 "$LAB_TMP/redis.conf"
	nsenter --net="/run/netns/$NS_R" redis-server "$LAB_TMP/redis.conf" &
	HA_REDIS_PID=$!
	LAB_PIDS+=("$HA_REDIS_PID")
	lab_wait_for 5 ha_redis ping >/dev/null
}

# ha_sentinel_start: a replica of the Redis on $R_A:6380 and a Sentinel on
# $R_A:26379 watching master "swha" (quorum 1, down after 1 s).
ha_sentinel_start() {
	sed -e 's/^port 6379$/port 6380/' -e "s|redis.log|redis-replica.log|" "$LAB_TMP/redis.conf" \
		>"$LAB_TMP/replica.conf"
	printf 'replicaof %s 6379\nmasteruser admin\nmasterauth %s\n' $R_A "$HA_PASS" \
		>>"$LAB_TMP/replica.conf"
	nsenter --net="/run/netns/$NS_R" redis-server "$LAB_TMP/replica.conf" &
	LAB_PIDS+=("$!")
	printf '%s\n' "bind $R_A $R_B" "port 26379" "daemonize no" "logfile $LAB_TMP/sentinel.log" \
		"dir $LAB_TMP" "sentinel monitor swha $R_A 6379 1" "sentinel auth-user swha admin" \
		"sentinel auth-pass swha $HA_PASS" "sentinel down-after-milliseconds swha 1000" \
		"sentinel failover-timeout swha 5000" >"$LAB_TMP/sentinel.conf"
	nsenter --net="/run/netns/$NS_R" redis-sentinel "$LAB_TMP/sentinel.conf" &
	LAB_PIDS+=("$!")
	lab_wait_for 5 eval '[ -n "$(ha_sentinel_master_port)" ]' || return 1
	# A Sentinel learns the replicas from the master's INFO (every 10 s):
	# until it lists this one, in sync, a dead master has nobody to promote.
	lab_wait_for 25 eval 'in_r redis-cli -h $R_A -p 26379 sentinel replicas swha 2>/dev/null |
		grep -q "^$R_A:6380$\|^6380$" &&
		in_r redis-cli -h $R_A -p 6380 --user admin --pass "$HA_PASS" --no-auth-warning \
			info replication 2>/dev/null | grep -q "^master_link_status:up"'
}

# The master's port as the Sentinel sees it.
ha_sentinel_master_port() {
	in_r redis-cli -h $R_A -p 26379 sentinel get-master-addr-by-name swha 2>/dev/null | sed -n 2p
}

ha_redis_stop() {
	[ -n "$HA_REDIS_PID" ] || return 0
	kill -TERM "$HA_REDIS_PID" 2>/dev/null
	wait "$HA_REDIS_PID" 2>/dev/null
	HA_REDIS_PID=
}

# ha_redis CMD...: redis-cli as the sipwall user (password from the file).
ha_redis() {
	REDISCLI_AUTH=$HA_PASS in_r redis-cli -h $R_A --user sipwall --no-auth-warning "$@"
}

# ha_redis_opens: how many pinhole records in Redis are opens, not closes.
ha_redis_opens() {
	local k n=0
	for k in $(ha_redis --scan --pattern 'sipwall:ph:*'); do
		case "$(ha_redis GET "$k")" in "swc1 ph "*) n=$((n + 1)) ;; esac
	done
	echo $n
}

# ha_config NODE FILE PIN REDIS_ADDR [json fragment]
ha_config() {
	local node=$1 f=$2 pin=$3 raddr=$4 extra=${5:-}
	cat >"$f" <<EOF
{
  "pin_path": "$pin",
  "queue": { "num": $(( (RANDOM % 30000) + 1000 )), "count": 1, "fail_open": false },
  "networks": { "inside": [ "10.201.2.0/24", "10.203.2.0/24" ] },
  "timeouts": { "bye_grace_s": 1 },
  "cluster": { "enabled": true, "node_id": "$node", "redis": "$raddr:6379",
               "credentials_file": "$LAB_TMP/redis.cred",
               "heartbeat_ms": 200, "owner_timeout_ms": 800 }${extra:+,
  $extra}
}
EOF
}

# ha_sipd_start NS CONFIG LOG: rules + sipd inline; its pid in HA_PID
# (not printed: a $(...) subshell would lose it from LAB_PIDS, and sipd
# would outlive the suite).
ha_sipd_start() {
	local ns=$1 cfg=$2 log=$3
	HA_PID=
	in_ns "$ns" "$LAB_SIPD" rules install -c "$cfg" || return 1
	mkdir -p "$LAB_TMP/run"
	SIPWALL_RUN_DIR=$LAB_TMP/run nsenter --net="/run/netns/$ns" "$LAB_SIPD" run -v -c "$cfg" \
		>>"$log.events" 2>>"$log" &
	HA_PID=$!
	LAB_PIDS+=("$HA_PID")
	lab_wait_started "$HA_PID" "$log" "inline on NFQUEUE"
}

# ha_pinholes PIN NS: "ADDR:PORT" of every pinhole (bpftool's view through
# the CLI's map access), sorted.
ha_pinholes() {
	in_ns "$2" "$LAB_SIPWALL" pinhole list --json --pin-path "$1" |
		"$LAB_PY" -c '
import json, sys
for p in json.load(sys.stdin):
    print("%s:%d" % (p["dst"], p["port"]))' | sort
}

# ha_status_json PIN: sipd's live state file for that pin root.
ha_status_json() {
	local h
	h=$(SIPWALL_RUN_DIR=$LAB_TMP/run "$LAB_SIPWALL" status --pin-path "$1" 2>/dev/null |
		sed -n 's/.*(\(.*sipd-[0-9a-f]*\.json\)).*/\1/p' | head -1)
	[ -n "$h" ] && cat "$h"
}

ha_stat() { # PIN NS REASON
	in_ns "$2" "$LAB_SIPWALL" stats --json --pin-path "$1" |
		"$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]]["packets"])' "$3"
}

ha_down() {
	local p ns ifc
	[ -n "${lab_tag:-}" ] && [ -n "${NS_A:-}" ] || return 0
	for p in "${LAB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${LAB_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	LAB_PIDS=()
	for ns in "$NS_A" "$NS_B"; do
		[ -e "/run/netns/$ns" ] || continue
		in_ns "$ns" "$LAB_SIPD" rules remove >/dev/null 2>&1
	done
	for ifc in fo fi; do
		[ -e "/run/netns/$NS_A" ] && in_a "$LAB_SIPWALL" detach "$ifc" --pin-path "$PIN_A" >/dev/null 2>&1
		[ -e "/run/netns/$NS_B" ] && in_b "$LAB_SIPWALL" detach "$ifc" --pin-path "$PIN_B" >/dev/null 2>&1
	done
	for ns in "${LAB_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	LAB_NS=()
	for p in "$PIN_A" "$PIN_B"; do
		case "$p" in
		/sys/fs/bpf/sipwall-lab-s*) rm -rf "$p" ;;
		esac
	done
	case "$LAB_TMP" in
	*/sipwall-lab.*) [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_TMP" ;;
	esac
}
