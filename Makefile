# SPDX-License-Identifier: GPL-2.0-only
# sipwall top-level build. Each part owns a fragment (PART/build.mk) that
# appends its outputs to ALL_TARGETS; tests/run.sh runs tests/suites/*.sh.

.DEFAULT_GOAL := all
SHELL := /bin/bash

include mk/common.mk
include bpf/build.mk
include lib/build.mk
include loader/build.mk
include sipd/build.mk
include tests/build.mk
-include vmtest/build.mk
-include bench/build.mk
include mk/install.mk

.PHONY: all deps check demo demo-tls clean format format-check

all: $(ALL_TARGETS)

deps:
	scripts/deps.sh

# check and demo install what is missing first, so a fresh machine works.
check:
	scripts/deps.sh --if-missing
	$(MAKE) all
	tests/run.sh

demo:
	scripts/deps.sh --if-missing
	$(MAKE) all
	scripts/demo.sh

# The same call over TLS through Kamailio, which drives sipd's pinholes over
# the rtpengine ng protocol.
demo-tls:
	scripts/deps.sh --if-missing
	$(MAKE) all
	scripts/demo-tls.sh

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)
