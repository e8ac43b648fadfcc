# SPDX-License-Identifier: GPL-2.0-only
# cmocka unit tests of the sipd message path (parse, validate, SDP).
# `make unit` builds and runs them, then again with ASan+UBSan (clang, into
# build-san/ via SAN=1, see mk/common.mk).
SIPD_UNIT_SRCS := $(wildcard tests/unit/test_*.c)
SIPD_UNIT_BINS := $(patsubst tests/unit/test_%.c,$(BIN)/test-sipd-%,$(SIPD_UNIT_SRCS))

$(BIN)/test-sipd-%: tests/unit/test_%.c tests/unit/common.h $(SIPD_PARSE_OBJS) $(LIBSW) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@ $(SIPD_PARSE_OBJS) $(LIBSW) \
		$(SIPD_PARSE_LDLIBS) $(LIBSW_LDLIBS) -lcmocka

ALL_TARGETS += $(SIPD_UNIT_BINS)

.PHONY: unit unit-run sipd-unit-bins
sipd-unit-bins: $(SIPD_UNIT_BINS)

unit-run: $(SIPD_UNIT_BINS)
	@set -e; for t in $(SIPD_UNIT_BINS); do echo "== $$t"; $$t; done

unit: unit-run
	$(MAKE) --no-print-directory SAN=1 unit-run
