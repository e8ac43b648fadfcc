# SPDX-License-Identifier: GPL-2.0-only
# sipflood: the bounded raw-socket SIP flooder of tests/suites/68-flood.sh.
$(BIN)/sipflood: tests/flood/sipflood.c | $(BIN)
	$(CC) $(CFLAGS) $< -o $@

ALL_TARGETS += $(BIN)/sipflood
