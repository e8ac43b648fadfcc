# SPDX-License-Identifier: GPL-2.0-only
# loader/: the sipwall CLI (build/bin/sipwall), linked against lib/ and the
# bpf/ skeleton (which embeds the BPF object).
LOADER_SRCS := loader/main.c loader/common.c loader/attach.c loader/status.c loader/pinhole.c \
	       loader/ban.c loader/forward.c
LOADER_OBJS := $(patsubst loader/%.c,$(OBJ)/loader/%.o,$(LOADER_SRCS))

$(OBJ)/loader:
	mkdir -p $@

$(OBJ)/loader/%.o: loader/%.c loader/sipwall.h lib/swmap.h maps-schema/sipwall_maps.h \
		   $(BPF_SKEL) | $(OBJ)/loader
	$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/sipwall: $(LOADER_OBJS) $(LIBSW) | $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ -lxdp -ljson-c $(LIBSW_LDLIBS)

ALL_TARGETS += $(BIN)/sipwall
