# SPDX-License-Identifier: GPL-2.0-only
# Sourced by suites after tests/lib.sh: run_cmocka BIN runs one cmocka test
# binary (bounded at 120 s) and reports one ok/fail/skip per test case; a
# SKIPPED case is one that needs root and BPF. On a non-zero exit it prints
# the lines that explain it, and fails once more if no case failed (a crash).

run_cmocka() {
	local bin=$1 out rc line name
	declare -A seen=()
	[ -x "$bin" ] || { fail "$bin missing"; return; }
	out=$(timeout 120 "$bin" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"[       OK ]"* | "[  FAILED  ]"* | "[  SKIPPED ]"*) ;;
		*) continue ;;
		esac
		name=${line#*] }
		# cmocka lists failed tests again at the end
		[ -z "${seen[$name]:-}" ] || continue
		seen[$name]=1
		case "$line" in
		"[       OK ]"*) ok "$(basename "$bin"): $name" ;;
		"[  FAILED  ]"*) [[ "$name" == *"test(s)"* ]] || fail "$(basename "$bin"): $name" ;;
		"[  SKIPPED ]"*) [[ "$name" == *"test(s)"* ]] || skip "$(basename "$bin"): $name (needs root and BPF)" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out" | grep -E 'ERROR|LINE|error|got' | head -20
		grep -q '^\[  FAILED  \]' <<<"$out" || fail "$(basename "$bin") exit status $rc"
	fi
}
