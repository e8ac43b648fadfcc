#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every C source is clang-formatted (.clang-format, kernel style) and carries
# an SPDX line; `make format` fixes the first.
. "$(dirname "$0")/../lib.sh"
cd "$SW_TOP" || exit 1
command -v clang-format >/dev/null || { echo "skip: clang-format not installed (scripts/deps.sh)"; exit 77; }
if out=$(make -s format-check 2>&1); then
	ok "clang-format: no violations"
else
	fail "clang-format violations (run make format):"
	echo "$out" | grep 'error:' | cut -d: -f1 | sort | uniq -c
fi
missing=$(git ls-files '*.c' '*.h' '*.sh' 'Makefile' '*.mk' 2>/dev/null |
	while read -r f; do head -n 3 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"; done)
expect_eq "every tracked C, shell and make file has an SPDX line" "$missing" ""
finish
