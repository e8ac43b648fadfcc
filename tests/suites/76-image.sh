#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The offline container image: `make image` builds it from a scratch rootfs
# (cached by digest), it holds exactly what sipwall needs, and its binaries
# attach the data path and run sipd inline from inside a container joined to
# a private network namespace, with the minimal capabilities.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

command -v podman >/dev/null || { echo "skip: podman not installed (scripts/deps.sh)"; exit 77; }
command -v runc >/dev/null || { echo "skip: runc not installed (scripts/deps.sh)"; exit 77; }
for b in build/bin/sipd build/bin/sipwall build/obj/bpf/sipwall.bpf.o; do
	[ -e "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
export CONTAINERS_CONF=$SW_TOP/deploy/podman/containers.conf

tag=$(sw_tag)
NS=$tag-img
PIN=/sys/fs/bpf/sipwall-img-$tag
CN=sipwall-test-$tag
T=$(mktemp -d "${SW_TEST_TMP:-/tmp}/sw-image.XXXXXX")
cleanup() {
	podman rm -f -t 0 "$CN" >/dev/null 2>&1
	if [ -e /run/netns/$NS ]; then
		nsenter --net=/run/netns/$NS build/bin/sipwall detach va --pin-path "$PIN" >/dev/null 2>&1
		ip netns del $NS
	fi
	rm -rf "$PIN" "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

IMG=$(make -s --no-print-directory image 2>"$T/build.log" | tail -n1)
expect_eq "make image names the image" "$IMG" "localhost/sipwall:$(make -s --no-print-directory -f mk/install.mk -f - <<<'print-v: ; @echo $(VERSION)' print-v 2>/dev/null || echo 0.1.0)"
podman image exists "$IMG"
check "image exists in podman's store" test $? -eq 0
start=$(date +%s%N)
make -s --no-print-directory image >/dev/null 2>"$T/build2.log"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "second make image is cached ($ms ms)" grep -q "is up to date" "$T/build2.log"
expect_eq "entrypoint is sipd" "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMG")" '["/usr/sbin/sipd"]'
check "rootfs digest label" sh -c "podman image inspect --format '{{ index .Labels \"org.sipwall.rootfs\" }}' '$IMG' | grep -qE '^[0-9a-f]{64}$'"

# Contents: exactly the binaries, the BPF object, config, iptables, libs.
tar -tf build/image/rootfs.tar | sed 's|^\./||' | grep -v '/$' | sort >"$T/files"
for f in usr/sbin/sipd usr/sbin/sipwall usr/lib/sipwall/sipwall.bpf.o etc/sipwall/sipd.json \
	usr/sbin/xtables-nft-multi; do
	check "image has /$f" grep -qx "$f" "$T/files"
done
check "image has libxdp's dispatcher object" grep -q 'bpf/xdp-dispatcher.o$' "$T/files"
expect_eq "the only userland is one static busybox (sh, awk for sipwall-node)" \
	"$(grep -E '^usr/bin/' "$T/files" | tr '\n' ' ')" "usr/bin/awk usr/bin/busybox usr/bin/sh "
expect_eq "no package manager in the image" "$(grep -cE 'apt|dpkg' "$T/files")" 0
unexpected=$(grep -vE '^(usr/bin/(busybox|sh|awk)|usr/sbin/(sipd|sipwall|sipwall-node|xtables-nft-multi|ip6?tables(-save|-restore)?)|usr/lib/sipwall/sipwall.bpf.o|etc/(sipwall/sipd.json|protocols)|usr/lib(64)?/.*\.so(\.[0-9.]+)?|usr/lib/x86_64-linux-gnu/xtables/.*\.so|usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o|lib|lib64|bin|sbin)$' "$T/files")
expect_eq "nothing else in the image" "$unexpected" ""
expect_eq "image is small (< 40 MB)" "$(( $(stat -c %s build/image/rootfs.tar) < 40000000 ))" 1

# --- run it: attach from inside the container --------------------------------
ip netns add $NS || { fail "netns"; finish; exit 1; }
nsenter --net=/run/netns/$NS ip link set lo up
nsenter --net=/run/netns/$NS ip link add va type veth peer name vb
nsenter --net=/run/netns/$NS ip link set va up
nsenter --net=/run/netns/$NS ip link set vb up
CAPS=(--cap-drop all --cap-add bpf,perfmon,net_admin,sys_admin)
run() { podman run --rm --network "ns:/run/netns/$NS" -v /sys/fs/bpf:/sys/fs/bpf "$@"; }
check "sipwall attach from the container (minimal caps)" run "${CAPS[@]}" --entrypoint /usr/sbin/sipwall "$IMG" \
	attach va --mode native --pin-path "$PIN"
expect_eq "XDP attached to the namespace's veth" \
	"$(nsenter --net=/run/netns/$NS ip link show va | grep -c 'prog/xdp')" 1
check "host sipwall sees the container's attachment" sh -c \
	"nsenter --net=/run/netns/$NS build/bin/sipwall status --pin-path '$PIN' | grep -q '^va .*native'"
check "sipwall status from the container" run "${CAPS[@]}" --entrypoint /usr/sbin/sipwall "$IMG" \
	status --pin-path "$PIN" >/dev/null

# sipd inline in the container: rules by the image's iptables, metrics on loopback.
Q=$(( (RANDOM % 30000) + 1000 ))
cat >"$T/sipd.json" <<JSON
{ "pin_path": "$PIN", "queue": { "num": $Q, "count": 1 }, "metrics": { "listen": "127.0.0.1:9870" } }
JSON
check "sipd rules install from the container (image's iptables-nft)" \
	run --cap-drop all --cap-add net_admin,net_raw -v "$T/sipd.json:/etc/sipwall/sipd.json:ro" "$IMG" \
	rules install -c /etc/sipwall/sipd.json
# UDP both ways, TCP payload and FIN/RST both ways, the TLS SYN count.
expect_eq "NFQUEUE rules visible in the namespace" \
	"$(nsenter --net=/run/netns/$NS iptables -S SIPWALL 2>/dev/null | grep -c "NFQUEUE --queue-num $Q")" 7
expect_eq "the TCP payload rule with its xt_bpf match, from the image's iptables" \
	"$(nsenter --net=/run/netns/$NS iptables -S SIPWALL 2>/dev/null | grep -c -- "-m bpf --bytecode.*NFQUEUE")" 2
# podman 4.3's default seccomp profile allows bpf(2) only with CAP_SYS_ADMIN
# (newer profiles also accept CAP_BPF), although the kernel itself lets sipd
# use maps pinned by root without either (72-systemd runs it that way).
run --cap-drop all --cap-add net_admin,net_raw,bpf -v "$T/sipd.json:/etc/sipwall/sipd.json:ro" "$IMG" \
	>/dev/null 2>"$T/noseccomp"
expect_eq "without CAP_SYS_ADMIN podman's seccomp filter refuses bpf(2)" \
	"$(grep -c 'opening the pinned maps.*Operation not permitted' "$T/noseccomp")" 1
podman run -d --name "$CN" --network "ns:/run/netns/$NS" -v /sys/fs/bpf:/sys/fs/bpf \
	--cap-drop all --cap-add net_admin,net_raw,bpf,sys_admin -v "$T/sipd.json:/etc/sipwall/sipd.json:ro" "$IMG" >/dev/null
ready=
for i in $(seq 1 30); do
	ready=$(nsenter --net=/run/netns/$NS curl -s --max-time 1 http://127.0.0.1:9870/readyz)
	[ "$ready" = ready ] && break
	sleep 0.2
done
expect_eq "sipd in the container is ready (maps, interface)" "$ready" ready
nsenter --net=/run/netns/$NS curl -s --max-time 2 http://127.0.0.1:9870/metrics >"$T/m"
expect_eq "its metrics name the queue" "$(grep -c "^sipd_nfqueue_dropped_total{queue=\"$Q\"" "$T/m")" 2
podman stop -t 5 "$CN" >/dev/null 2>&1
check "sipd exits cleanly on podman stop (SIGTERM)" sh -c "podman logs '$CN' 2>&1 | grep -q 'Terminated, exiting'"
podman rm -f "$CN" >/dev/null 2>&1
check "sipd rules remove from the container" \
	run --cap-drop all --cap-add net_admin,net_raw "$IMG" rules remove
check "sipwall detach from the container" run "${CAPS[@]}" --entrypoint /usr/sbin/sipwall "$IMG" \
	detach va --pin-path "$PIN"
expect_eq "XDP gone" "$(nsenter --net=/run/netns/$NS ip link show va | grep -c 'prog/xdp')" 0

finish
