#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The systemd units: `systemd-analyze verify` on the installed units (and a
# deliberately broken copy must fail it); then, since systemd is not PID 1
# on CI, the units' sandbox is reproduced around the real binaries in a
# private network namespace: exactly the unit's CapabilityBoundingSet and
# NoNewPrivileges (setpriv), a read-only / (ProtectSystem=strict) with only
# /sys/fs/bpf writable. Each capability in the sets is shown to be needed.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

command -v systemd-analyze >/dev/null || { echo "skip: systemd-analyze not installed"; exit 77; }
for t in setpriv unshare nsenter iptables; do
	command -v $t >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
for b in build/bin/sipd build/bin/sipwall build/obj/bpf/sipwall.bpf.o; do
	[ -e "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

tag=$(sw_tag)
NS=$tag-sd
PIN=/sys/fs/bpf/sipwall-sd-$tag
T=$(mktemp -d "${SW_TEST_TMP:-/tmp}/sw-systemd.XXXXXX")
cleanup() {
	if [ -e /run/netns/$NS ]; then
		nsenter --net=/run/netns/$NS build/bin/sipwall detach va --pin-path "$PIN" >/dev/null 2>&1
		ip netns del $NS
	fi
	rm -rf "$PIN" "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

D=$T/root
make -s --no-print-directory install PREFIX=/usr DESTDIR="$D" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "make install"; finish; exit 1; }
U=$D/usr/lib/systemd/system

# --- systemd-analyze verify -------------------------------------------------
# The root needs what the units reference outside sipwall: the host's
# standard targets and /bin/kill (ExecReload). Man pages are checked by
# 70-install (--man=no: verify would look them up on the host).
mkdir -p "$D/usr/bin"
cp /usr/bin/kill "$D/usr/bin/"
[ -L /bin ] && ln -s usr/bin "$D/bin"
for t in sysinit basic multi-user network network-pre shutdown sockets timers paths slices \
	local-fs swap default umount final; do
	[ -e /usr/lib/systemd/system/$t.target ] && cp -P /usr/lib/systemd/system/$t.target "$U/"
done
verify() { SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no --root="$D" "$@" 2>&1; }
out=$(verify sipwall@eth0.service sipd.service)
expect_eq "systemd-analyze verify sipwall@eth0.service sipd.service: exit 0" $? 0
expect_eq "systemd-analyze verify: no complaint" "$out" ""
cp "$U/sipd.service" "$T/good"
sed -i 's/^ProtectSystem=strict/ProtectSytem=strict/' "$U/sipd.service"
check "a misspelt directive is reported (negative control)" sh -c \
	"SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no --root='$D' sipd.service 2>&1 | grep -q \"Unknown key 'ProtectSytem'\""
cp "$T/good" "$U/sipd.service"
sed -i 's|^ExecStart=/usr/sbin/sipd|ExecStart=/usr/sbin/sipd-missing|' "$U/sipd.service"
verify sipd.service >"$T/verify.out"
expect_eq "a missing ExecStart binary fails verify (negative control)" "$?$(grep -c 'sipd-missing' "$T/verify.out")" 11
cp "$T/good" "$U/sipd.service"

key() { sed -n "s/^$2=//p" "$U/$1"; }
expect_eq "sipwall@: oneshot" "$(key sipwall@.service Type)" oneshot
expect_eq "sipwall@: RemainAfterExit" "$(key sipwall@.service RemainAfterExit)" yes
expect_eq "sipwall@: detach on stop" "$(key sipwall@.service ExecStop)" "/usr/sbin/sipwall detach %i"
check "sipwall@ is ordered before sipd" grep -q '^Before=.*sipd.service' "$U/sipwall@.service"
expect_eq "sipd: reload sends SIGHUP" "$(key sipd.service ExecReload)" '/bin/kill -HUP $MAINPID'
for u in sipwall@.service sipd.service; do
	for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes ReadWritePaths=/sys/fs/bpf \
		PrivateTmp=yes ProtectKernelModules=yes RestrictSUIDSGID=yes; do
		check "$u: $k" grep -qx "$k" "$U/$u"
	done
done

# --- the sandbox around the real binaries ------------------------------------
caps_of() { key "$1" CapabilityBoundingSet | tr ' ' '\n' | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,; }
SW_CAPS=$(caps_of sipwall@.service)
SD_CAPS=$(caps_of sipd.service)
expect_eq "sipwall@ bounding set" "$SW_CAPS" "+bpf,+perfmon,+net_admin,+sys_admin"
expect_eq "sipd bounding set" "$SD_CAPS" "+net_admin,+net_raw"

ip netns add $NS || { fail "netns"; finish; exit 1; }
nsenter --net=/run/netns/$NS ip link set lo up
nsenter --net=/run/netns/$NS ip link add va type veth peer name vb
nsenter --net=/run/netns/$NS ip link set va up
nsenter --net=/run/netns/$NS ip link set vb up
# sandboxed CAPS CMD...: the unit's capability bounding set, no_new_privs,
# / and /run read-only, a private /tmp, /sys/fs/bpf writable (its own mount).
# The installed tree (under /tmp here) is seen at /mnt, as /usr would be.
sandboxed() { (sandboxed_exec "$@"); }
sandboxed_exec() {
	local caps=$1; shift
	# exec: run in the background, $! is the sandboxed process itself.
	exec nsenter --net=/run/netns/$NS unshare --mount --propagation private sh -c '
		mount --rbind "$0" /mnt && mount -t tmpfs tmpfs /tmp &&
		mount -o remount,bind,ro / && mount -o remount,bind,ro /run 2>/dev/null
		exec "$@"' "$D" \
		setpriv --no-new-privs --bounding-set "-all,$caps" --inh-caps -all -- "$@"
}
in_ns() { nsenter --net=/run/netns/$NS "$@"; }
xdp_on_va() { in_ns ip link show va | grep -c 'prog/xdp'; }

sandboxed "$SW_CAPS" touch /usr/.sipwall-rw-test 2>/dev/null
expect_eq "sandbox: / is read-only" $? 1
check "sandbox: /sys/fs/bpf is writable" sandboxed "$SW_CAPS" sh -c "mkdir $PIN-w && rmdir $PIN-w"
check "sipwall attach with the unit's sandbox" sandboxed "$SW_CAPS" "/mnt/usr/sbin/sipwall" attach va --mode native --pin-path "$PIN"
expect_eq "XDP program on va" "$(xdp_on_va)" 1
check "sipwall status with the unit's sandbox" sandboxed "$SW_CAPS" "/mnt/usr/sbin/sipwall" status --pin-path "$PIN" >/dev/null
check "sipwall detach with the unit's sandbox" sandboxed "$SW_CAPS" "/mnt/usr/sbin/sipwall" detach va --pin-path "$PIN" >/dev/null
expect_eq "XDP program gone from va" "$(xdp_on_va)" 0

# Each capability is needed: without it attach fails or detach cannot
# remove the program (BPF_PROG_GET_FD_BY_ID needs CAP_SYS_ADMIN).
sandboxed "+bpf,+perfmon,+sys_admin" "/mnt/usr/sbin/sipwall" attach va --mode native --pin-path "$PIN" >/dev/null 2>&1
expect_eq "without CAP_NET_ADMIN attach fails" "$?$(xdp_on_va)" 10
sandboxed "+bpf,+net_admin" "/mnt/usr/sbin/sipwall" attach va --mode native --pin-path "$PIN" >/dev/null 2>&1
expect_eq "without CAP_SYS_ADMIN and CAP_PERFMON the verifier refuses the program" "$?$(xdp_on_va)" 10
sandboxed "+bpf,+perfmon,+net_admin" "/mnt/usr/sbin/sipwall" attach va --mode native --pin-path "$PIN" >/dev/null 2>&1
sandboxed "+bpf,+perfmon,+net_admin" "/mnt/usr/sbin/sipwall" detach va --pin-path "$PIN" >/dev/null 2>&1
expect_eq "without CAP_SYS_ADMIN detach fails and leaves the program attached" "$?$(xdp_on_va)" 11
sandboxed "$SW_CAPS" "/mnt/usr/sbin/sipwall" detach va --pin-path "$PIN" >/dev/null 2>&1
expect_eq "clean detach with the full set" "$(xdp_on_va)" 0
in_ns build/bin/sipwall attach va --mode native --pin-path "$PIN" >/dev/null 2>&1

# sipd: bind NFQUEUE and use the pinned maps with CAP_NET_ADMIN alone.
Q=$(( (RANDOM % 30000) + 1000 ))
cat >"$D/etc/sipwall/sipd.json" <<JSON
{ "pin_path": "$PIN", "queue": { "num": $Q, "count": 1 }, "metrics": { "listen": "127.0.0.1:9870" } }
JSON
sipd_runs() {
	sandboxed_exec "$1" "/mnt/usr/sbin/sipd" run -c /mnt/etc/sipwall/sipd.json >"$T/sipd.out" 2>&1 &
	local p=$! i
	rm -f "$T/ready"
	for i in $(seq 1 30); do
		grep -q "inline on NFQUEUE" "$T/sipd.out" && break
		kill -0 $p 2>/dev/null || break
		sleep 0.1
	done
	local up=1
	grep -q "inline on NFQUEUE" "$T/sipd.out" &&
		in_ns curl -s --max-time 3 http://127.0.0.1:9870/readyz >"$T/ready" &&
		grep -qx ready "$T/ready" && up=0
	kill -TERM $p 2>/dev/null; wait $p 2>/dev/null
	[ $up -eq 0 ] || cat "$T/sipd.out" "$T/ready" 2>/dev/null
	return $up
}
check "sipd inline with the unit's sandbox (queue bound, maps read, ready)" sipd_runs "$SD_CAPS"
sipd_runs "+net_raw"
expect_eq "without CAP_NET_ADMIN sipd cannot bind the queue" "$?$(grep -c 'cannot bind NFQUEUE' "$T/sipd.out")" 11
cat >"$D/etc/sipwall/sipd.json" <<JSON
{ "pin_path": "$PIN", "metrics": { "listen": "127.0.0.1:9870" } }
JSON
passive_runs() {
	sandboxed_exec "$1" "/mnt/usr/sbin/sipd" run --passive vb -c /mnt/etc/sipwall/sipd.json >"$T/sipd.out" 2>&1 &
	local p=$!
	sleep 1
	local up=1
	kill -0 $p 2>/dev/null && up=0
	kill -TERM $p 2>/dev/null; wait $p 2>/dev/null
	return $up
}
check "sipd --passive with the unit's sandbox" passive_runs "$SD_CAPS"
passive_runs "+net_admin"
expect_eq "without CAP_NET_RAW --passive fails" "$?$(grep -c 'AF_PACKET socket' "$T/sipd.out")" 11

finish
