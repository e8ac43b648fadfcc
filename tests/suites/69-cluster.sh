#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Two firewall nodes replicating pinholes and bans through Redis
# (docs/ha.md, tests/lab/ha.sh): a call signalled through node A with its
# RTP through node B; the BYE through A closes B's pinholes; failover (A's
# sipd SIGKILLed mid-call, the BYE through B); A's links down mid-call (B
# takes over and closes, A ends the call when it is back; forged takeover
# closes refused); a bad record; partition and heal; a Redis restart.
# Host only: SIPp, NFQUEUE, native XDP on veth, redis.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

source tests/lab/ha.sh
ha_need # exits 77 (skip) when a tool or binary is missing
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

lab_tag=$(sw_tag)
trap 'ha_down' EXIT
trap 'exit 130' INT TERM

if ! ha_up; then
	fail "two-node lab up"
	finish
	exit 1
fi
ok "two-node lab up ($lab_tag)"
if ! ha_attach >"$LAB_TMP/attach.log" 2>&1; then
	cat "$LAB_TMP/attach.log"
	fail "sipwall attach on both nodes"
	finish
	exit 1
fi
ok "sipwall attached (native XDP) on both nodes"
check "redis-server up in its namespace, ACL user sipwall" ha_redis_start
expect_eq "the default user is off (AUTH needed)" \
	"$(in_r redis-cli -h $R_A ping 2>&1 | grep -c NOAUTH)" 1

ha_config a "$LAB_TMP/a.json" "$PIN_A" $R_A
ha_config b "$LAB_TMP/b.json" "$PIN_B" $R_B
# A configuration with the password on the command line does not exist:
# the credentials file must be private.
chmod 644 "$LAB_TMP/redis.cred"
in_a build/bin/sipd run -c "$LAB_TMP/a.json" >/dev/null 2>"$LAB_TMP/err"
expect_eq "a group/world-readable credentials file is refused" \
	"$(grep -c 'readable by group or others' "$LAB_TMP/err")" 1
chmod 600 "$LAB_TMP/redis.cred"

ha_sipd_start "$NS_A" "$LAB_TMP/a.json" "$LAB_TMP/a.log"; A_PID=$HA_PID
ha_sipd_start "$NS_B" "$LAB_TMP/b.json" "$LAB_TMP/b.log"; B_PID=$HA_PID
check "sipd runs on node A" test -n "$A_PID"
check "sipd runs on node B" test -n "$B_PID"
check "both nodes connected to Redis" lab_wait_for 5 eval 'ha_connected "$LAB_TMP/a.log" && ha_connected "$LAB_TMP/b.log"'

status_has() { # PIN NS TEXT
	in_ns "$2" env SIPWALL_RUN_DIR="$LAB_TMP/run" build/bin/sipwall status --pin-path "$1" | grep -q -- "$3"
}
check "sipwall status shows node A connected" lab_wait_for 3 status_has "$PIN_A" "$NS_A" "cluster: node a, connected to $R_A"

# --- 1. signalling through A, media through B ----------------------------
ha_media_via_b
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=3000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
check "node B holds the call's pinholes (replicated from A)" \
	lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B" | wc -l)" -ge 2 ]'
sleep 1
expect_eq "B's pinholes are A's pinholes" "$(ha_pinholes "$PIN_B" "$NS_B")" "$(ha_pinholes "$PIN_A" "$NS_A")"
wait $uac
expect_eq "SIPp call: signalling via A, RTP via B: every call succeeded" $? 0
lab_uas_wait
passed_b=$(ha_stat "$PIN_B" "$NS_B" passed_pinhole)
check "RTP passed B's replicated pinholes (${passed_b} packets)" test "${passed_b:-0}" -gt 50
drop_b=$(ha_stat "$PIN_B" "$NS_B" dropped_no_pinhole)
check "B dropped no RTP for want of a pinhole (${drop_b})" test "${drop_b:-1}" -le 2
check "the BYE through A closed B's pinholes within the grace" \
	lab_wait_for 3 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
# the call's owner record (sw_calls) went with its last replicated pinhole:
# left behind, remote calls would fill sw_calls and fail later pinholes
expect_eq "B's sw_calls holds no owner of the closed call (bpftool)" \
	"$(bpftool map dump pinned "$PIN_B/sw_calls" -j 2>/dev/null | "$LAB_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0
ha_paths_reset

# --- 2. a bad record on the log: counted, skipped, sipd lives -------------
ha_redis XADD sipwall:log '*' r "swc1 ph a 1 2 1000 zz" >/dev/null
ha_redis XADD sipwall:log '*' x "no r field" >/dev/null
check "bad records counted on B" lab_wait_for 3 eval \
	'ha_status_json "$PIN_B" | grep -q "\"bad_records\":[2-9]"'
check "sipd B still running" kill -0 "$B_PID"

# --- 3. failover: A's sipd SIGKILLed mid-call, media and BYE via B --------
drop0=$(ha_stat "$PIN_B" "$NS_B" dropped_no_pinhole)
ha_media_via_b
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=5000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B" | wc -l)" -ge 2 ]'
sleep 1
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null
ok "node A's sipd SIGKILLed mid-call"
ha_sip_via_b # the BYE goes through B
check "B sees A's heartbeat expire" lab_wait_for 4 grep -q "cluster_owner_lost: node a" "$LAB_TMP/b.log"
wait $uac
expect_eq "SIPp call across the failover succeeded" $? 0
lab_uas_wait
drop1=$(ha_stat "$PIN_B" "$NS_B" dropped_no_pinhole)
check "no RTP dropped on B after the pinholes replicated ($((drop1 - drop0)))" \
	test $((drop1 - drop0)) -le 2
check "the BYE through B closed the dead owner's pinholes" \
	lab_wait_for 3 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
check "counted as taken over" lab_wait_for 2 eval \
	'ha_status_json "$PIN_B" | grep -q "\"taken_over\":[1-9]"'
ha_paths_reset

# --- 4. A restarts: resync; the closed call does not come back ------------
# A's own maps still hold its pinholes of the killed call (sipd adopts them
# on start); B closed them on the BYE, and the close is in Redis.
ha_sipd_start "$NS_A" "$LAB_TMP/a.json" "$LAB_TMP/a.log"; A_PID=$HA_PID
check "sipd A restarted" test -n "$A_PID"
check "A resynced from the snapshot" lab_wait_for 5 eval \
	'[ "$(grep -c "cluster_resync: " "$LAB_TMP/a.log")" -ge 2 ]'
check "no closed pinhole came back on B" eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
check "A ended its adopted copy of the call B took over (cluster_closed)" \
	lab_wait_for 4 eval '[ -z "$(ha_pinholes "$PIN_A" "$NS_A")" ]'

# --- 4b. links down: A cut off mid-call (its sipd alive), media and BYE via B
# A's interfaces (fo, fi, and fr to Redis) go down in its namespace: its
# sipd lives on, keeps the call and its pinholes, and writes nothing. B
# takes the call over on A's expired heartbeat and closes it on the BYE.
# When the links come back, A learns of that close and ends the call too:
# it accepts another node's close of its current records only when its own
# heartbeat had lapsed around it (docs/ha.md), so a close merely claimed
# while A is alive changes nothing (forge_takeover_close).
ld_t0=$(date +%s%N)
a_counter() { # NAME: node A's cluster counter (its state file)
	ha_status_json "$PIN_A" | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)["cluster"][sys.argv[1]])' "$1"
}
# forge_takeover_close: on the log, a close by "b" of one of A's live
# records (its version + 1, as a takeover close is), as if B had taken it
# over; the record in $LAB_TMP/forged.
forge_takeover_close() {
	local k rec
	for k in $(ha_redis --scan --pattern 'sipwall:ph:*'); do
		rec=$(ha_redis GET "$k")
		case "$rec" in "swc1 ph a "*) break ;; esac
		rec=
	done
	[ -n "$rec" ] || return 1
	set -- $rec
	rec="swc1 phx a $4 $(($5 + 1)) 60000 $7 ${12} b"
	echo "$rec" >"$LAB_TMP/forged"
	ha_redis XADD sipwall:log '*' r "$rec" >/dev/null
}
check "A connected again after its restart" lab_wait_for 5 eval \
	'[ "$(grep -c "cluster_connected: writer" "$LAB_TMP/a.log")" -ge 2 ] &&
	 [ "$(grep -c "cluster_connected: reader" "$LAB_TMP/a.log")" -ge 2 ]'
check "B sees A's heartbeat again" lab_wait_for 5 grep -q "cluster_owner_back: node a" "$LAB_TMP/b.log"
ha_media_via_b
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=6000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
check "B holds the call's pinholes before A's links go down" \
	lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B" | wc -l)" -ge 2 ]'
live_a=$(ha_pinholes "$PIN_A" "$NS_A")
expect_eq "B's pinholes are A's pinholes" "$(ha_pinholes "$PIN_B" "$NS_B")" "$live_a"
refused0=$(a_counter not_owner)
check "a forged takeover close of A's live call on the log" forge_takeover_close
check "A refuses it: its heartbeat never lapsed (not_owner)" lab_wait_for 3 eval \
	'[ "$(a_counter not_owner)" -gt "$refused0" ]'
expect_eq "A keeps the call's pinholes" "$(ha_pinholes "$PIN_A" "$NS_A")" "$live_a"
expect_eq "B keeps them too (A is alive)" "$(ha_pinholes "$PIN_B" "$NS_B")" "$live_a"
drop0=$(ha_stat "$PIN_B" "$NS_B" dropped_no_pinhole)
lost0=$(grep -c "cluster_owner_lost: node a" "$LAB_TMP/b.log")
closed0=$(grep -c '"reason":"cluster_closed"' "$LAB_TMP/a.log.events")
wconn0=$(grep -c "cluster_connected: writer" "$LAB_TMP/a.log")
ha_sip_via_b # the BYE goes through B
in_a ip link set fo down && in_a ip link set fi down && in_a ip link set fr down
expect_eq "A's links are down (fo, fi, fr)" \
	"$(in_a ip -br link show up | grep -c '^f[oir][@ ]')" 0
check "B sees A's heartbeat expire" lab_wait_for 4 eval \
	'[ "$(grep -c "cluster_owner_lost: node a" "$LAB_TMP/b.log")" -gt "$lost0" ]'
wait $uac
expect_eq "SIPp call across A's links going down succeeded" $? 0
lab_uas_wait
drop1=$(ha_stat "$PIN_B" "$NS_B" dropped_no_pinhole)
check "no RTP dropped on B after the pinholes replicated ($((drop1 - drop0)))" \
	test $((drop1 - drop0)) -le 2
check "the BYE through B closed A's pinholes on B" \
	lab_wait_for 3 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
ph_count() { # PIN: entries of sw_pinholes (bpftool)
	bpftool map dump pinned "$1/sw_pinholes" -j 2>/dev/null |
		"$LAB_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
expect_eq "B's sw_pinholes is empty (bpftool)" "$(ph_count "$PIN_B")" 0
check "sipd A lived through it" kill -0 "$A_PID"
expect_eq "A, cut off, still holds the call's pinholes" "$(ha_pinholes "$PIN_A" "$NS_A")" "$live_a"
in_a ip link set fo up && in_a ip link set fi up && in_a ip link set fr up
in_a ip route replace $R_B/32 via $R_A # went with fr
check "A reconnects to Redis" lab_wait_for 5 eval \
	'[ "$(grep -c "cluster_connected: writer" "$LAB_TMP/a.log")" -gt "$wconn0" ]'
check "A removed the pinholes of the call B closed" \
	lab_wait_for 5 eval '[ -z "$(ha_pinholes "$PIN_A" "$NS_A")" ]'
expect_eq "A's sw_pinholes is empty (bpftool)" "$(ph_count "$PIN_A")" 0
check "A ended the call (end_reason cluster_closed)" lab_wait_for 2 eval \
	'[ "$(grep -c "\"reason\":\"cluster_closed\"" "$LAB_TMP/a.log.events")" -gt "$closed0" ]'
check "A saw its heartbeat had lapsed" grep -q "cluster_heartbeat_lapsed" "$LAB_TMP/a.log"
check "A counted the takeover closes it accepted" eval '[ "$(a_counter closed_by_takeover)" -ge 1 ]'
sleep 1 # A's own records written again after its reconnect have reached B
check "nothing closed came back on B" eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
expect_eq "Redis holds closes, not opens, for the call (what a joining node gets)" \
	"$(ha_redis_opens)" 0
ha_paths_reset
echo "# links-down section: $(( ($(date +%s%N) - ld_t0) / 1000000 )) ms"

# --- 5. partition: B cut from Redis, a call via A, heal --------------------
in_b iptables -I OUTPUT -d $R_B -j DROP
in_b iptables -I INPUT -s $R_B -j DROP
ha_media_via_b
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=8000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
check "A holds the call's pinholes during the partition" \
	lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_A" "$NS_A" | wc -l)" -ge 2 ]'
live_a=$(ha_pinholes "$PIN_A" "$NS_A")
sleep 2.5 # long enough for B's connections to time out
check "B lost Redis during the partition" grep -q "cluster_read_failed" "$LAB_TMP/b.log"
in_b iptables -D OUTPUT -d $R_B -j DROP
in_b iptables -D INPUT -s $R_B -j DROP
check "after the heal B holds A's live pinholes" \
	lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B")" = "$live_a" ]'
wait $uac
expect_eq "the call across the partition succeeded" $? 0
lab_uas_wait
check "after the call B holds nothing (no closed pinhole came back)" \
	lab_wait_for 8 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'

# --- 6. delay and loss between B and Redis: B converges ---------------------
# tc netem where the kernel has it; else loss alone (iptables statistic).
if in_b tc qdisc add dev fr root netem delay 50ms loss 10% 2>/dev/null; then
	impair="50 ms delay and 10% loss (netem)"
	unimpair() { in_b tc qdisc del dev fr root; }
else
	skip "netem delay: sch_netem not in this kernel (loss by iptables instead)"
	in_b iptables -I INPUT -s $R_B -m statistic --mode random --probability 0.1 -j DROP
	impair="10% loss (iptables statistic)"
	unimpair() { in_b iptables -D INPUT -s $R_B -m statistic --mode random --probability 0.1 -j DROP; }
fi
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=5000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_A" "$NS_A" | wc -l)" -ge 2 ]'
live_a=$(ha_pinholes "$PIN_A" "$NS_A")
check "with $impair B gets A's pinholes" \
	lab_wait_for 4 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B")" = "$live_a" ]'
# A's heartbeat lapsed in 4b, but this call's records came after it.
refused0=$(a_counter not_owner)
check "a forged takeover close of a call A opened after its lapse" forge_takeover_close
check "A refuses it (not_owner)" lab_wait_for 3 eval '[ "$(a_counter not_owner)" -gt "$refused0" ]'
expect_eq "A keeps that call's pinholes" "$(ha_pinholes "$PIN_A" "$NS_A")" "$live_a"
wait $uac
lab_uas_wait
check "and their close" lab_wait_for 10 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
unimpair
ha_paths_reset

# --- 7. Redis restart (empty): both nodes reconnect and resync ------------
ha_redis_stop
ok "redis-server stopped"
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=8000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
check "A works alone while Redis is down (its pinholes open)" \
	lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_A" "$NS_A" | wc -l)" -ge 2 ]'
live_a=$(ha_pinholes "$PIN_A" "$NS_A")
check "redis-server restarted (empty)" ha_redis_start
check "after the restart B gets the call A opened while Redis was down" \
	lab_wait_for 8 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B")" = "$live_a" ]'
wait $uac
expect_eq "the call across the Redis restart succeeded" $? 0
lab_uas_wait
check "and its close" lab_wait_for 8 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
check "sipd A and B never restarted" kill -0 "$A_PID" "$B_PID"

# --- 8. Sentinel: the master fails over, the nodes follow -------------------
check "a replica and a Sentinel up" ha_sentinel_start
check "the replica is in sync" lab_wait_for 10 eval \
	'REDISCLI_AUTH=$HA_PASS in_r redis-cli -h $R_A -p 6380 --user sipwall --no-auth-warning info replication | grep -q "master_link_status:up"'
kill -TERM "$A_PID" "$B_PID"
wait "$A_PID" "$B_PID" 2>/dev/null
sed -i "s|\"redis\": \"$R_A:6379\"|\"sentinels\": \"$R_A:26379\", \"master_name\": \"swha\"|" "$LAB_TMP/a.json"
sed -i "s|\"redis\": \"$R_B:6379\"|\"sentinels\": \"$R_B:26379\", \"master_name\": \"swha\"|" "$LAB_TMP/b.json"
ha_sipd_start "$NS_A" "$LAB_TMP/a.json" "$LAB_TMP/a.log"; A_PID=$HA_PID
ha_sipd_start "$NS_B" "$LAB_TMP/b.json" "$LAB_TMP/b.log"; B_PID=$HA_PID
check "the nodes found the master through the Sentinel" lab_wait_for 5 eval \
	'[ "$(grep -c "cluster_connected: writer to $R_A:6379" "$LAB_TMP/a.log")" -ge 2 ]'
ha_media_via_b
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=12000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
lab_wait_for 5 eval '[ "$(ha_pinholes "$PIN_A" "$NS_A" | wc -l)" -ge 2 ]'
live_a=$(ha_pinholes "$PIN_A" "$NS_A")
check "B holds the call's pinholes (through the Sentinel's master)" \
	lab_wait_for 4 eval '[ "$(ha_pinholes "$PIN_B" "$NS_B")" = "$live_a" ]'
ha_redis_stop # the master dies; the Sentinel promotes the replica
check "the Sentinel promoted the replica" lab_wait_for 20 eval '[ "$(ha_sentinel_master_port)" = 6380 ]'
check "node A follows to the new master" lab_wait_for 6 grep -q "cluster_connected: writer to $R_A:6380" "$LAB_TMP/a.log"
check "node B follows to the new master" lab_wait_for 6 grep -q "cluster_connected: reader to $R_A:6380" "$LAB_TMP/b.log"
wait $uac
expect_eq "the call across the Redis failover succeeded" $? 0
lab_uas_wait
check "its close reached B through the new master" lab_wait_for 8 eval '[ -z "$(ha_pinholes "$PIN_B" "$NS_B")" ]'
ha_paths_reset

finish
