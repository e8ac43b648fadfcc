# SPDX-License-Identifier: GPL-2.0-only
# cmocka tests of the rtpengine "ng" control protocol layer: sipd/bencode.c
# alone, then sipd/ng.c over it (requests, replies, cache, access list, a UDP
# and a Unix-socket round trip on loopback). Neither needs privileges.
$(BIN)/test-bencode: tests/unit-ng/test_bencode.c sipd/bencode.c sipd/bencode.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-ng/test_bencode.c sipd/bencode.c -o $@ -lcmocka

$(BIN)/test-ng: tests/unit-ng/test_ng.c sipd/ng.c sipd/ng.h sipd/bencode.c sipd/bencode.h | $(BIN)
	$(CC) $(CFLAGS) tests/unit-ng/test_ng.c sipd/ng.c sipd/bencode.c -o $@ -lcmocka

ALL_TARGETS += $(BIN)/test-bencode $(BIN)/test-ng
