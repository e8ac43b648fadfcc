# SPDX-License-Identifier: GPL-2.0-only
# BPF_PROG_TEST_RUN packet tables of bpf/sipwall.bpf.c.
TESTS_BPF_PKTBUILD := tests/bpf/pktbuild.c tests/bpf/pktbuild.h

$(BIN)/test-bpf-packets: tests/bpf/packets.c $(TESTS_BPF_PKTBUILD) $(BPF_SKEL) $(LIBSW) | $(BIN)
	$(CC) $(CFLAGS) -Itests/bpf tests/bpf/packets.c tests/bpf/pktbuild.c -o $@ $(LIBSW) $(LIBSW_LDLIBS)

ALL_TARGETS += $(BIN)/test-bpf-packets
