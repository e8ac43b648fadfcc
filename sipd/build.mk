# SPDX-License-Identifier: GPL-2.0-only
# sipd/: build/bin/sipd from every sipd/*.c plus lib's libsw.a.
# SIPD_LIB_OBJS: every sipd object but main.o (tests link the daemon logic).
# SIPD_PARSE_OBJS: the message path alone (parse, validate, SDP), which depends
# on no other sipd file, so its unit tests and fuzzer build on their own.
SIPD_SRCS := $(wildcard sipd/*.c)
SIPD_OBJS := $(patsubst sipd/%.c,$(OBJ)/sipd/%.o,$(SIPD_SRCS))
SIPD_LIB_OBJS := $(filter-out $(OBJ)/sipd/main.o,$(SIPD_OBJS))
SIPD_PARSE_SRCS := sipd/sipmsg.c sipd/validate.c sipd/sdp.c sipd/clrec.c
SIPD_PARSE_OBJS := $(patsubst sipd/%.c,$(OBJ)/sipd/%.o,$(SIPD_PARSE_SRCS))
SIPD_PARSE_LDLIBS := -losipparser2 -lpthread
SIPD_LDLIBS += $(SIPD_PARSE_LDLIBS) -ljson-c -lnetfilter_queue -lnfnetlink \
	-lpcap -lxdp -lhiredis
# generated headers (skeletons) a sipd source may include
SIPD_DEPS ?=

$(OBJ)/sipd:
	mkdir -p $@

$(OBJ)/sipd/%.o: sipd/%.c | $(OBJ)/sipd $(SIPD_DEPS)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(SIPD_OBJS:.o=.d)

# replay runs the XDP program through its skeleton.
$(OBJ)/sipd/replay.o: $(BPF_SKEL)

$(BIN)/sipd: $(SIPD_OBJS) $(LIBSW) | $(BIN)
	$(CC) $(LDFLAGS) $(SIPD_OBJS) -o $@ $(LIBSW) $(SIPD_LDLIBS) $(LIBSW_LDLIBS)

ALL_TARGETS += $(BIN)/sipd
