# SPDX-License-Identifier: GPL-2.0-only
# make install [PREFIX=/usr/local] [DESTDIR=...], make uninstall, make image.
# Binaries go to $(PREFIX)/sbin, the BPF object to $(PREFIX)/lib/sipwall (the
# loader embeds it; the file is for bpftool and audits), the example config
# to $(SYSCONFDIR)/sipwall (never over an existing one), systemd units with
# the real paths filled in, man pages sipwall(8), sipd(8), sipd.json(5).
VERSION ?= 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib/sipwall
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/sipwall
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

# sipwall_build_info{version=...} in sipd's metrics.
$(OBJ)/sipd/metrics.o: CFLAGS += -DSIPWALL_VERSION='"$(VERSION)"'

UNITS := sipwall@.service sipd.service
MAN8 := man/sipwall.8 man/sipd.8
MAN5 := man/sipd.json.5

$(BUILD)/systemd/%: deploy/systemd/%.in mk/install.mk
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@.tmp && mv $@.tmp $@

.PHONY: install uninstall image FORCE
# The units depend on PREFIX: regenerate them on every install.
install: $(BIN)/sipwall $(BIN)/sipd $(BPF_OBJ) FORCE
	rm -rf $(BUILD)/systemd && $(MAKE) --no-print-directory $(addprefix $(BUILD)/systemd/,$(UNITS))
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/sipwall \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(BIN)/sipwall $(BIN)/sipd $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(BPF_OBJ) $(DESTDIR)$(LIBDIR)/sipwall.bpf.o
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(addprefix $(BUILD)/systemd/,$(UNITS)) $(DESTDIR)$(SYSTEMDUNITDIR)/
	$(INSTALL) -m 0644 etc/sipd.json $(DESTDIR)$(DOCDIR)/sipd.json.example
	$(INSTALL) -m 0644 deploy/systemd/sipwall.env $(DESTDIR)$(DOCDIR)/sipwall.env.example
	@for f in sipd.json:etc/sipd.json sipwall.env:deploy/systemd/sipwall.env; do \
		dst=$(DESTDIR)$(SYSCONFDIR)/sipwall/$${f%%:*}; \
		if [ -e $$dst ]; then echo "install: keeping existing $$dst"; \
		else $(INSTALL) -m 0644 $${f#*:} $$dst && echo "install: $$dst"; fi; \
	done

# Configuration files go only if they are still the shipped examples.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sipwall $(DESTDIR)$(SBINDIR)/sipd
	rm -f $(DESTDIR)$(LIBDIR)/sipwall.bpf.o
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS))
	@for f in sipd.json:etc/sipd.json sipwall.env:deploy/systemd/sipwall.env; do \
		dst=$(DESTDIR)$(SYSCONFDIR)/sipwall/$${f%%:*}; \
		if [ -e $$dst ] && ! cmp -s $$dst $${f#*:}; then echo "uninstall: keeping modified $$dst"; \
		else rm -f $$dst; fi; \
	done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/sipwall 2>/dev/null
	rm -f $(DESTDIR)$(DOCDIR)/sipd.json.example $(DESTDIR)$(DOCDIR)/sipwall.env.example
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# Offline container image (podman import of a scratch rootfs); cached by the
# rootfs digest, so an unchanged build is not imported again.
image: $(BIN)/sipwall $(BIN)/sipd $(BPF_OBJ)
	deploy/container/build-image.sh $(BUILD) $(VERSION)

FORCE:
