# SPDX-License-Identifier: GPL-2.0-only
# cmocka unit tests of lib/ (address parsing/formatting, names, hashing).
$(BIN)/test-unit-lib: tests/unit-lib/test_addr.c $(LIBSW) | $(BIN)
	$(CC) $(CFLAGS) $< -o $@ $(LIBSW) $(LIBSW_LDLIBS) -lcmocka

ALL_TARGETS += $(BIN)/test-unit-lib
