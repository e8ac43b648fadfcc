# SPDX-License-Identifier: GPL-2.0-only
# cmocka tests of sipd's DoS guard. test-guard needs no privileges (guard
# logic and config); test-guard-maps runs sipd against the real BPF object
# with a private pin root (bans in sw_bans, XDP verdicts; root, skips
# otherwise).
UG_DIR := tests/unit-guard
UG_CFLAGS = $(CFLAGS) -Itests/unit-calls -Itests/bpf
UG_LIBS = $(LIBSW) -ljson-c -lcmocka $(LIBSW_LDLIBS)

$(BIN)/test-guard: $(UG_DIR)/test_guard.c sipd/guard.c sipd/guard.h sipd/budget.c sipd/config.c sipd/clrec.c sipd/config.h $(LIBSW) | $(BIN)
	$(CC) $(UG_CFLAGS) $(UG_DIR)/test_guard.c sipd/guard.c sipd/budget.c sipd/config.c sipd/clrec.c -o $@ $(UG_LIBS)

$(BIN)/test-guard-maps: $(BPF_SKEL) $(UG_DIR)/test_guard_maps.c $(SIPD_LIB_OBJS) $(LIBSW) tests/bpf/pktbuild.c tests/common/bpfenv.c tests/common/bpfenv.h | $(BIN)
	$(CC) $(UG_CFLAGS) $(UG_DIR)/test_guard_maps.c tests/bpf/pktbuild.c tests/common/bpfenv.c $(SIPD_LIB_OBJS) -o $@ \
		$(LIBSW) $(SIPD_LDLIBS) -lcmocka $(LIBSW_LDLIBS)

ALL_TARGETS += $(BIN)/test-guard $(BIN)/test-guard-maps
