# SPDX-License-Identifier: GPL-2.0-only
# BTF of the BPF object vs maps-schema/sipwall_maps.h, and a drifted object
# that the check must reject.
$(BIN)/test-btf-layout: tests/btf/layout.c maps-schema/sipwall_maps.h | $(BIN)
	$(CC) $(CFLAGS) $< -o $@ -lbpf -lelf -lz

$(OBJ)/tests/btf/drift.bpf.o: tests/btf/drift.bpf.c
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

ALL_TARGETS += $(BIN)/test-btf-layout $(OBJ)/tests/btf/drift.bpf.o
