# SPDX-License-Identifier: GPL-2.0-only
# cmocka tests of sipd's DoS guard. test-guard needs no privileges (guard
# logic and config); test-guard-maps runs sipd against the real BPF object
# with a private pin root (bans in sw_bans, XDP verdicts; root, skips
# otherwise).
UG_DIR := tests/unit-guard
UG_CFLAGS = $(CFLAGS) -Itests/unit-calls -Itests/bpf
UG_LIBS = $(LIBSW) -ljson-c -lcmocka $(LIBSW_LDLIBS)

$(BIN)/test-guard: $(UG_DIR)/test_guard.c sipd/guard.c sipd/guard.h sipd/config.c sipd/config.h $(LIBSW) | $(BIN)
	$(CC) $(UG_CFLAGS) $(UG_DIR)/test_guard.c sipd/guard.c sipd/config.c -o $@ $(UG_LIBS)

ALL_TARGETS += $(BIN)/test-guard
