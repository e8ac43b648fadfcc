#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sipd's DoS guard: cmocka tests of every ban trigger, the trusted and
# inside exemptions, the rate / dialog / source-table bounds and the
# "guard"/"limits" config keys (tests/unit-guard/test_guard.c); then sipd
# against the REAL BPF object with a private pin root (test_guard_maps.c:
# bans in sw_bans, the XDP program dropping the banned source with
# dropped_banned, expiry, sw_trusted/sw_config written at start and reload,
# pinhole and dialog bounds); then `sipd --check-config` on guard errors.
. "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"

bins="build/bin/test-guard build/bin/test-guard-maps build/bin/sipd"
if [ -w . ]; then
	# shellcheck disable=SC2086
	make -s $bins >/dev/null 2>&1 || { make -s $bins 2>&1 | tail -20; fail "build"; finish; exit 1; }
fi

# One ok/fail/skip per cmocka test case.
. "$SW_TOP/tests/common/cmocka.sh"

run_cmocka build/bin/test-guard
if [ "$(id -u)" -eq 0 ]; then
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
fi
run_cmocka build/bin/test-guard-maps

# sipd --check-config: guard errors name their JSON path, exit 1
tmp=$(mktemp -d "${SW_TEST_TMP:-/tmp}/sipwall-guard.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad() {
	local json=$1 want=$2 out rc
	printf '%s\n' "$json" >"$tmp/bad.json"
	out=$(build/bin/sipd --check-config "$tmp/bad.json" 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$want" <<<"$out"; then
		ok "check-config rejects: $want"
	else
		fail "check-config on $json: rc=$rc, '$out' (want '$want')"
	fi
}
bad '{ "guard": { "malformed": { "count": 5, "window_s": 0 } } }' \
	'guard.malformed.window_s: must be at least 1'
bad '{ "guard": { "trusted": [ "192.0.2.1/24" ] } }' 'guard.trusted[0]: bad network'
bad '{ "guard": { "flood": { "ports": [ 5060, 70000 ] } } }' \
	'guard.flood.ports[1]: expected a port number 1-65535'
bad '{ "guard": { "scanner_user_agents": "" } }' 'guard.scanner_user_agents: must not be empty'
bad '{ "limits": { "max_pinholes_per_call": 100 } }' 'limits.max_pinholes_per_call: out of range 0..64'
bad '{ "guard": { "ban": true } }' 'guard.ban: unknown key'
cat >"$tmp/good.json" <<'JSON'
{
  "limits": { "max_calls_per_source": 50, "max_pinholes_per_call": 8,
              "max_msg_rate": 100, "max_msg_burst": 200 },
  "guard": {
    "trusted": [ "192.0.2.0/24", "2001:db8::/32" ],
    "ban_ttl_s": 600, "ban_prefix_v6": 64,
    "scanner_user_agents": [ "friendly-scanner*", "evil-*" ],
    "malformed": { "count": 5, "window_s": 60 },
    "auth_failures": { "count": 10, "window_s": 60 },
    "not_found": { "count": 20, "window_s": 60 },
    "max_sources": 4096,
    "flood": { "rate": 50, "burst": 100, "prefix_v4": 32, "prefix_v6": 64, "ports": [ 5060, 5061 ] }
  }
}
JSON
check "check-config accepts a full guard section" build/bin/sipd --check-config "$tmp/good.json"
check "etc/sipd.json is still valid" build/bin/sipd --check-config etc/sipd.json
finish
