# SPDX-License-Identifier: GPL-2.0-only
# bpf/: the data path object and its libbpf skeleton.
BPF_OBJ := $(OBJ)/bpf/sipwall.bpf.o
BPF_SKEL := $(BUILD)/gen/sipwall.skel.h

$(BPF_OBJ): bpf/sipwall.bpf.c maps-schema/sipwall_maps.h | $(OBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ) | $(BUILD)/gen
	$(BPFTOOL) gen skeleton $< name sipwall > $@.tmp && mv $@.tmp $@

ALL_TARGETS += $(BPF_OBJ) $(BPF_SKEL)
