# SPDX-License-Identifier: GPL-2.0-only
# lib/: userspace access to the pinned maps, shared by loader/, sipd/, tests.
# Users link $(LIBSW) followed by $(LIBSW_LDLIBS).
LIB_SRCS := lib/swmap.c lib/addr.c lib/dos.c
LIB_OBJS := $(patsubst lib/%.c,$(OBJ)/lib/%.o,$(LIB_SRCS))
LIBSW := $(OBJ)/lib/libsw.a
LIBSW_LDLIBS := -lbpf -lelf -lz

$(OBJ)/lib:
	mkdir -p $@

$(OBJ)/lib/%.o: lib/%.c lib/swmap.h maps-schema/sipwall_maps.h | $(OBJ)/lib
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBSW): $(LIB_OBJS)
	$(AR) rcs $@ $^

ALL_TARGETS += $(LIBSW)
