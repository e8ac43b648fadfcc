# SPDX-License-Identifier: GPL-2.0-only
# bench/gen: the live-frames generator (swgen) and the side-by-side benchmark.
# make bench runs bench/compare, then bench/sipd-throughput (root, < 15 min).
SWGEN_BPF_OBJ := $(OBJ)/bench/swgen.bpf.o
SWGEN_SKEL := $(BUILD)/gen/swgen.skel.h

$(SWGEN_BPF_OBJ): bench/gen/swgen.bpf.c bench/gen/swgen.h | $(OBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SWGEN_SKEL): $(SWGEN_BPF_OBJ) | $(BUILD)/gen
	$(BPFTOOL) gen skeleton $< name swgen > $@.tmp && mv $@.tmp $@

$(BIN)/swgen: bench/gen/swgen.c bench/gen/swgen.h $(SWGEN_SKEL) $(LIBSW) | $(BIN)
	$(CC) $(CFLAGS) $< -o $@ $(LIBSW) $(LIBSW_LDLIBS)

$(BIN)/sipd-tput: bench/lab/sipd-tput.c $(SIPD_LIB_OBJS) $(LIBSW) $(BPF_SKEL) | $(BIN)
	$(CC) $(CFLAGS) $< $(SIPD_LIB_OBJS) -o $@ $(LIBSW) $(SIPD_LDLIBS) $(LIBSW_LDLIBS)

ALL_TARGETS += $(SWGEN_BPF_OBJ) $(SWGEN_SKEL) $(BIN)/swgen $(BIN)/sipd-tput

.PHONY: bench bench-compare bench-sipd
BENCH_BINS := $(BIN)/swgen $(BIN)/sipd-tput $(BIN)/sipwall $(BIN)/sipd

bench:
	scripts/deps.sh --if-missing
	$(MAKE) $(BENCH_BINS)
	bench/compare
	bench/sipd-throughput

bench-compare: $(BIN)/swgen $(BIN)/sipwall $(BIN)/sipd
	bench/compare

bench-sipd: $(BIN)/sipd-tput $(BIN)/sipd
	bench/sipd-throughput
