# SPDX-License-Identifier: GPL-2.0-only
# Each test family owns tests/FAMILY/build.mk.
include $(wildcard tests/*/build.mk)
