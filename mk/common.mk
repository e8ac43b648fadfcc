# SPDX-License-Identifier: GPL-2.0-only
BUILD ?= build
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool

ARCH_INC := /usr/include/$(shell uname -m)-linux-gnu
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I. -Imaps-schema -I$(BUILD)/gen
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -I. -Imaps-schema -I$(ARCH_INC)

# Sanitizer build: make SAN=1 (ASan+UBSan) into build-san/.
ifeq ($(SAN),1)
BUILD := build-san
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj
CC := $(CLANG)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
# ThreadSanitizer build: make SAN=thread into build-tsan/ (sipd's workers).
ifeq ($(SAN),thread)
BUILD := build-tsan
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj
CC := $(CLANG)
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif

ALL_TARGETS :=
FORMAT_SRCS = $(wildcard maps-schema/*.h bpf/*.c bpf/*.h lib/*.c lib/*.h loader/*.c loader/*.h sipd/*.c sipd/*.h tests/*/*.c tests/*/*.h bench/*.c bench/*/*.c bench/*/*.h vmtest/*.c)

$(BUILD)/gen $(BIN) $(OBJ):
	mkdir -p $@
