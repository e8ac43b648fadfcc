# SPDX-License-Identifier: GPL-2.0-only
# cmocka tests of sipd's call logic (config, filters, dialogs, pinholes).
# test-calls-config/filter/dialog need no privileges; test-calls-maps loads
# the real BPF object with a private pin root (root; skips otherwise).
UC_DIR := tests/unit-calls
UC_CFLAGS = $(CFLAGS) -Itests/bpf -DSW_ETC_CONFIG='"$(CURDIR)/etc/sipd.json"'
UC_LIBS = $(LIBSW) -ljson-c -lhiredis -lpthread -lcmocka $(LIBSW_LDLIBS)

$(BIN)/test-calls-config: $(UC_DIR)/test_config.c sipd/config.c sipd/clrec.c sipd/config.h $(LIBSW) | $(BIN)
	$(CC) $(UC_CFLAGS) $(UC_DIR)/test_config.c sipd/config.c sipd/clrec.c -o $@ $(UC_LIBS)

$(BIN)/test-calls-filter: $(UC_DIR)/test_filter.c $(UC_DIR)/msgs.h sipd/filter.c sipd/config.c sipd/clrec.c $(LIBSW) | $(BIN)
	$(CC) $(UC_CFLAGS) $(UC_DIR)/test_filter.c sipd/filter.c sipd/config.c sipd/clrec.c -o $@ $(UC_LIBS)

$(BIN)/test-calls-dialog: $(UC_DIR)/test_dialog.c $(UC_DIR)/msgs.h sipd/dialog.c sipd/pinhole.c sipd/cluster.c sipd/addrcheck.c sipd/events.c sipd/config.c sipd/clrec.c sipd/sdp.c $(LIBSW) | $(BIN)
	$(CC) $(UC_CFLAGS) $(UC_DIR)/test_dialog.c sipd/dialog.c sipd/pinhole.c sipd/cluster.c sipd/addrcheck.c sipd/host.c sipd/events.c sipd/config.c sipd/clrec.c sipd/sdp.c -o $@ $(UC_LIBS)

$(BIN)/test-calls-maps: $(BPF_SKEL) $(UC_DIR)/test_pinhole.c $(UC_DIR)/msgs.h $(UC_DIR)/dgram.h $(SIPD_LIB_OBJS) $(LIBSW) tests/bpf/pktbuild.c tests/common/bpfenv.c tests/common/bpfenv.h | $(BIN)
	$(CC) $(UC_CFLAGS) $(UC_DIR)/test_pinhole.c tests/bpf/pktbuild.c tests/common/bpfenv.c $(SIPD_LIB_OBJS) -o $@ \
		$(LIBSW) $(SIPD_LDLIBS) -lcmocka $(LIBSW_LDLIBS)

$(BIN)/test-calls-security: $(BPF_SKEL) $(UC_DIR)/test_security.c $(UC_DIR)/msgs.h $(UC_DIR)/dgram.h $(SIPD_LIB_OBJS) $(LIBSW) tests/bpf/pktbuild.c tests/common/bpfenv.c tests/common/bpfenv.h | $(BIN)
	$(CC) $(UC_CFLAGS) $(UC_DIR)/test_security.c tests/bpf/pktbuild.c tests/common/bpfenv.c $(SIPD_LIB_OBJS) -o $@ \
		$(LIBSW) $(SIPD_LDLIBS) -lcmocka $(LIBSW_LDLIBS)

$(BIN)/test-calls-control: $(BPF_SKEL) $(UC_DIR)/test_control.c $(UC_DIR)/msgs.h $(UC_DIR)/dgram.h $(SIPD_LIB_OBJS) $(LIBSW) tests/bpf/pktbuild.c tests/common/bpfenv.c tests/common/bpfenv.h | $(BIN)
	$(CC) $(UC_CFLAGS) $(UC_DIR)/test_control.c tests/bpf/pktbuild.c tests/common/bpfenv.c $(SIPD_LIB_OBJS) -o $@ \
		$(LIBSW) $(SIPD_LDLIBS) -lcmocka $(LIBSW_LDLIBS)

ALL_TARGETS += $(BIN)/test-calls-config $(BIN)/test-calls-filter \
	$(BIN)/test-calls-dialog $(BIN)/test-calls-maps $(BIN)/test-calls-security \
	$(BIN)/test-calls-control
