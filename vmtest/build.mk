# SPDX-License-Identifier: GPL-2.0-only
# vmtest/: run the suites marked "# vmtest: yes" on other kernels in qemu.
VMTEST_SMOKE_OBJ := $(OBJ)/vmtest/smoke.bpf.o

$(VMTEST_SMOKE_OBJ): vmtest/smoke.bpf.c | $(OBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

ALL_TARGETS += $(VMTEST_SMOKE_OBJ)

# Kernels to run on: the cached Debian ones and the host's own.
VMTEST_KERNELS ?= 6.1 6.12 host

.PHONY: vmtest vmtest-kernels
vmtest-kernels:
	vmtest/kernels.sh fetch

# Builds on the host first: the guests run the artifacts from the read-only root.
vmtest: all
	vmtest/matrix.sh $(VMTEST_KERNELS)
