# SPDX-License-Identifier: GPL-2.0-only
# cmocka tests of the packet sources' datagram helpers (sipd/source.c).
$(BIN)/test-sources: tests/unit-sources/test_source.c sipd/source.c sipd/source.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-sources/test_source.c sipd/source.c -o $@ -lcmocka

ALL_TARGETS += $(BIN)/test-sources

# sipd/reasm.c alone: IP fragment reassembly.
$(BIN)/test-reasm: tests/unit-sources/test_reasm.c sipd/reasm.c sipd/reasm.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-sources/test_reasm.c sipd/reasm.c -o $@ -lcmocka

ALL_TARGETS += $(BIN)/test-reasm

# sipd/decap.c: tunnels, GRE, ERSPAN, PPPoE, VLAN tags, with the UDP view.
$(BIN)/test-decap: tests/unit-sources/test_decap.c sipd/decap.c sipd/source.c sipd/source.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-sources/test_decap.c sipd/decap.c sipd/source.c -o $@ -lcmocka

ALL_TARGETS += $(BIN)/test-decap

# sipd/stream.c alone: SIP over TCP and WebSocket reassembly and framing.
$(BIN)/test-stream: tests/unit-sources/test_stream.c sipd/stream.c sipd/stream.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-sources/test_stream.c sipd/stream.c -o $@ -lcmocka

ALL_TARGETS += $(BIN)/test-stream
