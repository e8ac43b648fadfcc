#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every tests/suites/*.sh (or those whose name contains one of the given
# words). A suite prints its own "N passed, N failed[, N skipped]" line last
# and exits non-zero on failure; exit 77 means the whole suite was skipped.
# The closing line sums them all; before it, each failed suite's FAIL lines
# (with the two lines after each) are printed again.
# --marked MARK (or SW_SUITES_MARK=MARK): only suites with a line "# MARK: yes"
# near the top, e.g. --marked vmtest for the suites vmtest/ runs in guests.
set -uo pipefail
cd "$(dirname "$0")/.."

mark=${SW_SUITES_MARK:-}
if [ "${1:-}" = --marked ]; then
	[ $# -ge 2 ] || { echo "run.sh: --marked needs a MARK" >&2; exit 2; }
	mark=$2
	shift 2
fi

total_pass=0 total_fail=0 total_skip=0
failed_suites=()
LOGDIR=${SW_TEST_LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"

for suite in tests/suites/*.sh; do
	name=${suite##*/}
	name=${name%.sh}
	if [ $# -gt 0 ]; then
		want=0
		for w in "$@"; do [[ "$name" == *"$w"* ]] && want=1; done
		[ $want -eq 1 ] || continue
	fi
	if [ -n "$mark" ]; then
		# bash builtins only: a process start costs up to a second in a TCG guest
		marked=0
		mapfile -n 20 -t head <"$suite"
		for l in "${head[@]}"; do [[ "$l" != "# $mark: yes"* ]] || marked=1; done
		[ $marked = 1 ] || continue
	fi
	echo "=== suite $name"
	start=$(date +%s)
	log="$LOGDIR/$name.log"
	bash "$suite" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	p=0 f=0 s=0
	if [[ "$line" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
	fi
	if [ "$rc" -eq 77 ]; then
		s=$((s + 1))
		echo "=== suite $name skipped (${secs}s)"
	elif [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
		[ "$f" -gt 0 ] || f=1
		failed_suites+=("$name")
		echo "=== suite $name FAILED rc=$rc (${secs}s)"
	else
		echo "=== suite $name ok (${secs}s)"
	fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
done

if [ ${#failed_suites[@]} -gt 0 ]; then
	# The failures again at the end, where a log's tail (CI's) shows them.
	for name in "${failed_suites[@]}"; do
		grep -m 12 -A 2 -E '^(FAIL|not ok)' "$LOGDIR/$name.log" | sed "s/^/$name| /"
	done
	echo "failed suites: ${failed_suites[*]}"
fi
echo "sipwall: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
