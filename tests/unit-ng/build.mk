# SPDX-License-Identifier: GPL-2.0-only
# cmocka tests of the rtpengine "ng" control protocol layer: sipd/bencode.c
# alone. Needs no privileges.
$(BIN)/test-bencode: tests/unit-ng/test_bencode.c sipd/bencode.c sipd/bencode.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-ng/test_bencode.c sipd/bencode.c -o $@ -lcmocka

ALL_TARGETS += $(BIN)/test-bencode
