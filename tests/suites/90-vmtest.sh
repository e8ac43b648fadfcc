#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the suites marked "# vmtest: yes" inside a Debian 6.1 guest (vmtest/),
# so CI proves sipwall's programs pass the 6.1 verifier, and checks that the
# guest's failures reach the host: a failing command's exact exit status, a
# kernel panic and a timeout (each a boot of its own, made short: the panic
# comes from the kernel command line, the timeout is a few seconds). The
# guest's own pass/fail/skip counts are added to this suite's. The first
# boot also runs in a directory under /tmp, which the guest covers with its
# own tmpfs, to prove vmtest/run.sh shares it. Not marked itself (it would
# recurse).
. "$(dirname "$0")/../lib.sh"
need_root

KERNEL=${SW_VMTEST_SUITE_KERNEL:-6.1}
RUN=$SW_TOP/vmtest/run.sh

for t in qemu-system-x86_64 busybox cpio; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
if ! fetch_err=$("$SW_TOP/vmtest/kernels.sh" fetch "$KERNEL" 2>&1); then
	echo "$fetch_err"
	echo "skip: cannot download the Debian $KERNEL kernel package (is apt reachable?)"
	exit 77
fi

if [ -n "${SW_TEST_TMP:-}" ]; then
	tmp=$SW_TEST_TMP/vmtest-$(sw_tag)
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d)
fi
# The guest mounts its own tmpfs on /tmp: a working directory there (a clone
# under /tmp) must still be seen, at its own path (vmtest/run.sh shares it).
shared=$(mktemp -d /tmp/sw-vmtest-share.XXXXXX)
trap 'rm -rf "$tmp" "$shared"' EXIT
echo "sw-share-$$" >"$shared/marker"

# guest TAG SECS CMD...: run in the guest, output prefixed, status kept;
# RUN_ARGS: more vmtest/run.sh options.
RUN_ARGS=()
guest() {
	local tag=$1 secs=$2
	shift 2
	"$RUN" -k "$KERNEL" -t "$secs" -o "$tmp/$tag" "${RUN_ARGS[@]}" -- "$@" 2>&1 |
		tr -d '\r' | tee "$tmp/$tag.out" | sed -u "s/^/  $KERNEL| /"
	return "${PIPESTATUS[0]}"
}

(cd "$shared" && guest exit3 300 sh -c 'uname -r; cat marker; exit 3')
expect_eq "a failing guest command fails vmtest/run.sh with its exact status" "$?" 3
check "the guest sees a working directory under /tmp at its own path" \
	grep -q "^sw-share-$$" "$tmp/exit3.out"
krel=$(grep -E '^[0-9]+\.[0-9]+' "$tmp/exit3.out" | head -n 1)
check "the guest runs the $KERNEL kernel (uname -r: ${krel:-none})" test "${krel#"$KERNEL".}" != "$krel"

# No init in the initramfs: the kernel panics a few seconds into the boot.
RUN_ARGS=(-a rdinit=/sw-vmtest-no-such-init)
guest panic 300 true
expect_eq "a guest kernel panic is a failure (no status: 125)" "$?" 125
check "the console tail is shown after a panic" grep -q 'Kernel panic' "$tmp/panic.out"
RUN_ARGS=()

# -t bounds the whole run, boot included: 5 s stop it mid-boot. run.sh's
# work files (and so qemu's command line) are under TMPDIR.
mkdir -p "$tmp/tmo"
start=$(date +%s)
TMPDIR=$tmp/tmo guest timeout 5 sleep 600
expect_eq "a run that overruns -t is stopped as a timeout (124)" "$?" 124
secs=$(($(date +%s) - start))
check "the timed-out run ended within 30 s of its 5 s limit (${secs}s)" test "$secs" -le 35
left=$(pgrep -f "qemu-system-x86_64 .*$tmp/tmo/")
check "no qemu is left behind after the timeout (${left:-none})" test -z "$left"

"$RUN" -k "$KERNEL" -p zero -- true 2>"$tmp/usage.err"
expect_eq "vmtest/run.sh refuses a bad option value" "$?" 2
check "the refusal names the option" grep -q -- "-p wants a CPU count" "$tmp/usage.err"

start=$(date +%s)
guest suites "${SW_VMTEST_SUITE_TIMEOUT:-1200}" "$SW_TOP/tests/run.sh" --marked vmtest
rc=$?
secs=$(($(date +%s) - start))
line=$(grep -E '^sipwall: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$tmp/suites.out" | tail -n 1)
boot=$(cat "$tmp/suites/boot-seconds" 2>/dev/null || echo '?')
end=$(cat "$tmp/suites/end-seconds" 2>/dev/null || echo '?')
echo "# $KERNEL guest: boot ${boot}s, boot+suites ${end}s, wall ${secs}s"
if [[ "$line" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
	gp=${BASH_REMATCH[1]} gf=${BASH_REMATCH[2]} gs=${BASH_REMATCH[3]}
	echo "# $KERNEL guest summary: $gp passed, $gf failed, $gs skipped (added below)"
	SW_PASS=$((SW_PASS + gp)) SW_FAIL=$((SW_FAIL + gf)) SW_SKIP=$((SW_SKIP + gs))
	check "the guest ran at least one marked test" test "$gp" -gt 0
else
	fail "no summary line from the guest's tests/run.sh"
fi
expect_eq "marked suites pass in the $KERNEL guest" "$rc" 0
finish
