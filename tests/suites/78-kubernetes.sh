#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# deploy/kubernetes: validated offline against the Kubernetes API types
# (tests/k8s: kubernetes-models + a TypeScript type-check, versions locked in
# package-lock.json, installed with npm ci) and sipwall's own invariants;
# every manifest in tests/k8s/bad must be rejected for its stated reason.
# Then the DaemonSet's pod template runs for real with `podman kube play` in
# the fw namespace of the SIPp lab (tests/lab/lab.sh) acting as the node: a
# call with media passes through it, and deleting the pod (preStop, as the
# kubelet runs it, then SIGTERM) and playing it again does not drop the call.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in node npm; do
	command -v $t >/dev/null || { echo "skip: $t not installed (Node.js for the offline schema check)"; exit 77; }
done
K=tests/k8s
M=deploy/kubernetes/sipwall.yaml
T=$(mktemp -d "${SW_TEST_TMP:-/tmp}/sw-k8s.XXXXXX")
trap 'rm -rf "$T"' EXIT

# --- offline validation --------------------------------------------------------
if ! (cd $K && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1; then
	if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$T/npm.log"; then
		echo "skip: npm ci cannot reach the npm registry:"; tail -n 3 "$T/npm.log"; exit 77
	fi
	cat "$T/npm.log"
	fail "npm ci (tests/k8s/package-lock.json)"
	finish
	exit 1
fi
ok "npm ci: locked kubernetes-models $(node -p 'require("./tests/k8s/node_modules/kubernetes-models/package.json").version'), typescript $(node -p 'require("./tests/k8s/node_modules/typescript/package.json").version')"

out=$(node $K/validate.mjs $M 2>&1)
expect_eq "deploy/kubernetes/sipwall.yaml accepted" "$out" "ok $M"
for f in $K/bad/*.yaml; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	out=$(node $K/validate.mjs "$f" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$want" <<<"$out"; then
		ok "rejected $(basename "$f"): $want"
	else
		fail "$(basename "$f") must be rejected with '$want' (rc $rc): $out"
	fi
done
node -e 'const y=require("./tests/k8s/node_modules/js-yaml");
for (const d of y.loadAll(require("fs").readFileSync(process.argv[1],"utf8")))
	if (d && d.kind==="ConfigMap" && d.data && d.data["sipd.json"]) process.stdout.write(d.data["sipd.json"]);' \
	$M >"$T/cm-sipd.json"
if [ -x build/bin/sipd ]; then
	check "the ConfigMap's sipd.json passes sipd --check-config" build/bin/sipd --check-config "$T/cm-sipd.json"
fi

# --- the pod template on a lab node ----------------------------------------------
for t in podman runc catatonit sipp iptables curl; do
	command -v $t >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; skip "podman kube play: $t missing"; finish; exit $?; }
done
for b in build/bin/sipd build/bin/sipwall build/obj/bpf/sipwall.bpf.o; do
	[ -e "$b" ] || { skip "podman kube play: $b not built"; finish; exit $?; }
done
[ -x /usr/bin/python3 ] || { skip "podman kube play: /usr/bin/python3 missing"; finish; exit $?; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
export CONTAINERS_CONF=$SW_TOP/deploy/podman/containers.conf

IMG=$(make -s --no-print-directory image 2>"$T/image.log" | tail -n1)
expect_eq "make image builds the manifest's image" "$IMG" \
	"$(sed -n 's/^ *image: //p' $M | sort -u)"

lab_tag=$(sw_tag)
source tests/lab/lab.sh
POD=sipwall-$lab_tag
# podman bounded: a hung podman (a stale lock) fails the suite, never holds CI.
podf() { timeout -k 10 120 nsenter --net="/run/netns/$NS_F" podman "$@"; }
# The pod's configMap volumes (named after it by podify.mjs) go with it.
kill_pod() {
	podman pod rm -f -t 2 "$POD" >/dev/null 2>&1
	podman volume ls -q | grep "^$POD-" | xargs -r podman volume rm -f >/dev/null 2>&1
}
trap 'kill_pod; lab_down; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

if ! lab_up; then
	fail "lab namespaces up"
	finish
	exit 1
fi
lab_config "$T/sipd.json" '"metrics": { "listen": "127.0.0.1:9870" }'
node $K/podify.mjs $M "$T/sipd.json" "fo fi" "$POD" >"$T/pod.yaml"
check "the pod template is a valid Pod too" node $K/validate.mjs "$T/pod.yaml"
# The lab's veths take native XDP; the manifest's "auto" would too.
sed -i 's/SIPWALL_ATTACH_OPTS: .*/SIPWALL_ATTACH_OPTS: --mode native --media-ports 10000-20000/' "$T/pod.yaml"

ready() { [ "$(in_f curl -s --max-time 1 http://127.0.0.1:9870/readyz)" = ready ]; }
play() {
	podf kube play "$T/pod.yaml" >"$T/play.log" 2>&1 || { cat "$T/play.log"; return 1; }
	lab_wait_for 15 ready
}
# What the kubelet does on delete: preStop in the container, then SIGTERM.
delete_pod() {
	# With hostNetwork an exec shares the caller's netns: exec from the "node".
	podf exec "$POD-sipd" /usr/sbin/sipwall-node detach >"$T/prestop.log" 2>&1 || return 1
	podf kube down "$T/pod.yaml" >/dev/null 2>&1
}
xdp_count() { for i in fo fi; do in_f ip link show $i; done | grep -c 'prog/xdp'; }

check "podman kube play in the fw namespace: ready (rules, attach, sipd)" play
expect_eq "init container attached XDP on fo and fi" "$(xdp_count)" 2
check "init container installed the NFQUEUE rules" sh -c "nsenter --net=/run/netns/$NS_F iptables -S SIPWALL | grep -q NFQUEUE"
expect_eq "pod runs without privileged" "$(podman inspect "$POD-sipd" --format '{{.HostConfig.Privileged}}')" false
check "pod uses the host (node) network" sh -c \
	"[ \"\$(podman inspect '$POD-sipd' --format '{{.HostConfig.NetworkMode}}')\" = host ]"

UAS=$(lab_scenario uas.xml)
UAC=$(lab_scenario uac.xml)
lab_uas 4 "$UAS" 1
LAB_RTP_MS=1500 lab_uac 4 "$UAC" 1
expect_eq "a call with media through the pod" $? 0
lab_uas_wait
ge() { [ -n "$2" ] && [ "$2" -ge "$3" ] && ok "$1 ($2 >= $3)" || fail "$1 (got '$2', want >= $3)"; }
ge "media passed by pinholes" "$(lab_stat passed_pinhole)" 50

# A long call; the pod is deleted and played again in the middle of it.
lab_uas 4 "$UAS" 1
LAB_RTP_MS=14000 lab_uac 4 "$UAC" 1 &
uac=$!
lab_wait_for 8 sh -c "[ -n \"\$(nsenter --net=/run/netns/$NS_F build/bin/sipwall pinhole list --pin-path $LAB_PIN 2>/dev/null | grep rtp)\" ]"
check "call established, pinholes open" test $? -eq 0
sleep 1
before=$(lab_stat passed_pinhole)
check "delete the pod (preStop detach, SIGTERM)" delete_pod
expect_eq "XDP detached on delete" "$(xdp_count)" 0
check "pinned maps stay (pinholes of the call still there)" sh -c \
	"nsenter --net=/run/netns/$NS_F build/bin/sipwall pinhole list --pin-path $LAB_PIN | grep -q rtp"
check "play the pod again" play
expect_eq "XDP attached again" "$(xdp_count)" 2
in_f curl -s --max-time 2 http://127.0.0.1:9870/metrics >"$T/m"
ge "the new sipd adopted the call" "$(awk '$1 == "sipd_calls_total{event=\"adopted\"}" { print $2 }' "$T/m")" 1
ge "media keeps passing the pinholes after the re-play" "$(( $(lab_stat passed_pinhole) - before ))" 1
wait $uac
expect_eq "the call survived the pod's delete and re-play (SIPp ok)" $? 0
lab_uas_wait
expect_eq "UAS saw the call complete" $? 0
in_f curl -s --max-time 2 http://127.0.0.1:9870/metrics >"$T/m"
ge "BYE seen by the new sipd" "$(awk '$1 == "sipd_sip_messages_total{method=\"BYE\",kind=\"request\",verdict=\"accepted\"}" { print $2 }' "$T/m")" 1
dropped=$(lab_stat dropped_no_pinhole)
expect_eq "no RTP of the call dropped for want of a pinhole" "$dropped" 0

check "final delete" delete_pod
expect_eq "detach on delete leaves no XDP" "$(xdp_count)" 0
kill_pod

finish
