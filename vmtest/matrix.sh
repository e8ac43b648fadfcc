#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run the suites marked "# vmtest: yes" on each kernel and print a table
# kernel x result. Kernels: cached names (6.1, 6.12), vmlinuz paths or "host".
# The host row boots the running kernel when /boot has its image, else runs
# the suites directly on the host (the row says so).
#
#   vmtest/matrix.sh [KERNEL...]        default: 6.1 6.12 host
# Logs: $SW_TEST_LOGDIR/vmtest/ (default build/test-logs/vmtest/).
set -uo pipefail
cd "$(dirname "$0")/.."
. vmtest/common.sh

[ $# -gt 0 ] || set -- $VMT_KNOWN_KERNELS host
logdir=${SW_TEST_LOGDIR:-build/test-logs}/vmtest
mkdir -p "$logdir"
tmo=${SW_VMTEST_TIMEOUT:-1500}

rows=() bad=0
for k in "$@"; do
	name=${k//\//_}
	log=$logdir/$name.log
	out=$logdir/$name.result
	rm -rf "$out"
	how=vm
	echo "=== vmtest kernel $k"
	start=$(date +%s)
	if [ "$k" = host ] && [ ! -r "/boot/vmlinuz-$(uname -r)" ]; then
		how="no VM: /boot has no image of $(uname -r)"
		SW_TEST_LOGDIR=$out tests/run.sh --marked vmtest 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		krel=$(uname -r)
	else
		vmtest/run.sh -k "$k" -t "$tmo" -o "$out" -- tests/run.sh --marked vmtest 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		krel=$(sed -n 's/^vmtest: kernel \([^ ]*\) (.*backend.*/\1/p' "$log" | head -n 1)
	fi
	secs=$(($(date +%s) - start))
	line=$(tr -d '\r' <"$log" | grep -E '^sipwall: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
	counts=${line#sipwall: }
	boot=-
	[ ! -s "$out/boot-seconds" ] || boot=$(cat "$out/boot-seconds")s
	if [ "$rc" -eq 0 ] && [ -n "$line" ]; then
		result=pass
	else
		result="FAIL (rc=$rc)"
		bad=1
	fi
	rows+=("$(printf '%-8s %-24s %-12s %-34s %-7s %ss  %s' "$k" "${krel:--}" "$result" \
		"${counts:-no summary}" "$boot" "$secs" "$([ "$how" = vm ] || echo "($how)")")")
done

echo
printf '%-8s %-24s %-12s %-34s %-7s %s\n' kernel release result "suites (guest summary)" boot total
for r in "${rows[@]}"; do echo "$r"; done
exit $bad
