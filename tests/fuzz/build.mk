# SPDX-License-Identifier: GPL-2.0-only
# libFuzzer harness of the sipd message path (clang, ASan+UBSan).
#   make fuzz                       long run (FUZZ_TIME seconds, default 3600),
#                                   corpus kept in build/fuzz/corpus
#   make fuzz FUZZ_TIME=86400 FUZZ_JOBS=2   a day on both cores
#   make fuzz FUZZ_SAN=undefined FUZZ_RUNS=50000000 FUZZ_JOBS=2
#                                   10^8 executions (runs are per job) with
#                                   UBSan only: ~4x the speed of ASan+UBSan
# tests/suites/48-sip-fuzz.sh runs it briefly (45 s) in make check.
comma := ,
FUZZ_SAN ?= address,undefined
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -I. -Imaps-schema \
	-fsanitize=fuzzer,$(FUZZ_SAN) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# The default build keeps the historical name; other sanitizer sets get their own.
FUZZ_BIN := $(BIN)/fuzz-sipmsg$(if $(filter address$(comma)undefined,$(FUZZ_SAN)),,-$(subst $(comma),-,$(FUZZ_SAN)))
FUZZ_TIME ?= 3600
FUZZ_RUNS ?= -1
FUZZ_JOBS ?= 1
FUZZ_DIR := $(BUILD)/fuzz

$(FUZZ_BIN): tests/fuzz/fuzz_sipmsg.c $(SIPD_PARSE_SRCS) $(LIB_SRCS) \
		sipd/sipmsg.h sipd/validate.h sipd/sdp.h lib/swmap.h | $(BIN)
	$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@ $(SIPD_PARSE_LDLIBS) \
		$(LIBSW_LDLIBS)

# The IP fragment reassembler (passive mode feeds it packets off the wire):
# tests/suites/48-sip-fuzz.sh runs it briefly; `make fuzz-reasm` for longer.
FUZZ_REASM_BIN := $(BIN)/fuzz-reasm
$(FUZZ_REASM_BIN): tests/fuzz/fuzz_reasm.c sipd/reasm.c sipd/reasm.h | $(BIN)
	$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

.PHONY: fuzz-reasm
fuzz-reasm: $(FUZZ_REASM_BIN)
	mkdir -p $(FUZZ_DIR)/reasm/corpus $(FUZZ_DIR)/reasm/artifacts
	cd $(FUZZ_DIR)/reasm && $(abspath $(FUZZ_REASM_BIN)) -max_total_time=$(FUZZ_TIME) \
		-runs=$(FUZZ_RUNS) -timeout=10 -rss_limit_mb=2048 -jobs=$(FUZZ_JOBS) \
		-workers=$(FUZZ_JOBS) -artifact_prefix=artifacts/ corpus
	@echo "fuzz-reasm: logs in $(FUZZ_DIR)/reasm/fuzz-*.log, crashes would be in $(FUZZ_DIR)/reasm/artifacts/"
	@! ls $(FUZZ_DIR)/reasm/artifacts/* >/dev/null 2>&1

# SIP over TCP/WebSocket reassembly and framing (sipd/stream.c, fed with
# segments off the wire): 48-sip-fuzz.sh runs it briefly; `make fuzz-stream`
# for longer, files in build/fuzz/stream/.
FUZZ_STREAM_BIN := $(BIN)/fuzz-stream$(if $(filter address$(comma)undefined,$(FUZZ_SAN)),,-$(subst $(comma),-,$(FUZZ_SAN)))
$(FUZZ_STREAM_BIN): tests/fuzz/fuzz_stream.c sipd/stream.c sipd/stream.h | $(BIN)
	$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

.PHONY: fuzz-stream
fuzz-stream: $(FUZZ_STREAM_BIN)
	mkdir -p $(FUZZ_DIR)/stream/corpus $(FUZZ_DIR)/stream/artifacts
	cd $(FUZZ_DIR)/stream && $(abspath $(FUZZ_STREAM_BIN)) -max_total_time=$(FUZZ_TIME) \
		-runs=$(FUZZ_RUNS) -timeout=10 -rss_limit_mb=2048 -jobs=$(FUZZ_JOBS) \
		-workers=$(FUZZ_JOBS) -print_final_stats=1 -artifact_prefix=artifacts/ corpus
	@echo "fuzz-stream: logs in $(FUZZ_DIR)/stream/fuzz-*.log, crashes would be in $(FUZZ_DIR)/stream/artifacts/"
	@! ls $(FUZZ_DIR)/stream/artifacts/* >/dev/null 2>&1

.PHONY: fuzz
fuzz: $(FUZZ_BIN)
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	cp -n tests/unit/msgs/*.sip $(FUZZ_DIR)/corpus/
	if [ -d ../shared/corpora ]; then \
		for f in ../shared/corpora/rfc4475/*/* ../shared/corpora/rfc5118/*/*; do \
			case $$f in *.tsv|*.md) continue;; esac; \
			cp -n "$$f" $(FUZZ_DIR)/corpus/seed-$$(basename "$$f"); \
		done; \
	fi
	cd $(FUZZ_DIR) && $(abspath $(FUZZ_BIN)) \
		-max_total_time=$(FUZZ_TIME) -runs=$(FUZZ_RUNS) -timeout=10 -rss_limit_mb=2048 \
		-max_len=66000 -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) \
		-artifact_prefix=artifacts/ corpus
	@echo "fuzz: logs in $(FUZZ_DIR)/fuzz-*.log; crashes would be in $(FUZZ_DIR)/artifacts/"
	@! ls $(FUZZ_DIR)/artifacts/* >/dev/null 2>&1

# The rtpengine ng control protocol (sipd/ng.c over sipd/bencode.c), fed
# records of tests/fuzz/fuzz_ng.c (a control byte, a datagram; two NULs
# between records) seeded from tests/fuzz/ng-seeds: tests/suites/48-sip-fuzz.sh
# runs it briefly; `make fuzz-ng` for longer.
FUZZ_NG_BIN := $(BIN)/fuzz-ng
$(FUZZ_NG_BIN): tests/fuzz/fuzz_ng.c sipd/ng.c sipd/bencode.c sipd/ctlcheck.c sipd/sdp.c \
		sipd/ng.h sipd/bencode.h sipd/control.h sipd/sdp.h | $(BIN)
	$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

.PHONY: fuzz-ng
fuzz-ng: $(FUZZ_NG_BIN)
	mkdir -p $(FUZZ_DIR)/ng/corpus $(FUZZ_DIR)/ng/artifacts
	cp -n tests/fuzz/ng-seeds/* $(FUZZ_DIR)/ng/corpus/
	cd $(FUZZ_DIR)/ng && $(abspath $(FUZZ_NG_BIN)) -max_total_time=$(FUZZ_TIME) \
		-runs=$(FUZZ_RUNS) -timeout=10 -rss_limit_mb=2048 -max_len=66000 \
		-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) -artifact_prefix=artifacts/ corpus
	@echo "fuzz-ng: logs in $(FUZZ_DIR)/ng/fuzz-*.log, crashes would be in $(FUZZ_DIR)/ng/artifacts/"
	@! ls $(FUZZ_DIR)/ng/artifacts/* >/dev/null 2>&1
