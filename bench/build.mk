# SPDX-License-Identifier: GPL-2.0-only
# Benchmarks (not part of check). make bench-xdp prints the XDP cost table.
$(BIN)/xdp-cost: bench/xdp-cost.c $(TESTS_BPF_PKTBUILD) $(BPF_SKEL) | $(BIN)
	$(CC) $(CFLAGS) -Itests/bpf bench/xdp-cost.c tests/bpf/pktbuild.c -o $@ -lbpf -lelf -lz

ALL_TARGETS += $(BIN)/xdp-cost

.PHONY: bench-xdp
bench-xdp: $(BIN)/xdp-cost
	$(BIN)/xdp-cost
include bench/gen/build.mk

# Cluster replication through Redis (bench/cluster, docs/ha.md).
$(BIN)/cluster-lat: bench/cluster-lat.c $(SIPD_LIB_OBJS) $(LIBSW) $(BPF_SKEL) | $(BIN)
	$(CC) $(CFLAGS) $< $(SIPD_LIB_OBJS) -o $@ $(LIBSW) $(SIPD_LDLIBS) $(LIBSW_LDLIBS)

ALL_TARGETS += $(BIN)/cluster-lat
