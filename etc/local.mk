# What an operator installs besides the binaries: systemd units, the sysusers.d group, the libvirt
# hook, the configuration, the shipped scenarios; and the tests of all of that.

# Units and the hook name installed paths, filled in at build time.
etc_edit = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g'
etc_generate = $(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && $(etc_edit)

etc/systemd/numavd.service: $(top_srcdir)/etc/systemd/numavd.service.in Makefile
	$(etc_generate) $(top_srcdir)/etc/systemd/numavd.service.in >$@.tmp && mv $@.tmp $@
etc/systemd/numavd-metrics.service: $(top_srcdir)/etc/systemd/numavd-metrics.service.in Makefile
	$(etc_generate) $(top_srcdir)/etc/systemd/numavd-metrics.service.in >$@.tmp && mv $@.tmp $@
etc/libvirt/hooks/qemu.d/numavd: $(top_srcdir)/etc/libvirt/hooks/qemu.d/numavd.in Makefile
	$(etc_generate) $(top_srcdir)/etc/libvirt/hooks/qemu.d/numavd.in >$@.tmp && \
		chmod 0755 $@.tmp && mv $@.tmp $@

# numavd-metrics.timer (off by default) refreshes numavd.prom for the node exporter.
systemdsystemunit_DATA = etc/systemd/numavd.service etc/systemd/numavd.socket \
	etc/systemd/numavd-metrics.service etc/systemd/numavd-metrics.timer
sysusersdir = $(prefix)/lib/sysusers.d
dist_sysusers_DATA = etc/sysusers.d/numavd.conf
libvirthookdir = $(sysconfdir)/libvirt/hooks/qemu.d
libvirthook_SCRIPTS = etc/libvirt/hooks/qemu.d/numavd
EXTRA_DIST += etc/systemd/numavd.service.in etc/systemd/numavd.socket \
	etc/systemd/numavd-metrics.service.in etc/systemd/numavd-metrics.timer \
	etc/libvirt/hooks/qemu.d/numavd.in
CLEANFILES += etc/systemd/numavd.service etc/systemd/numavd-metrics.service etc/libvirt/hooks/qemu.d/numavd

# bash completion for numavctl, where bash-completion looks it up by the command's name.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = etc/bash-completion/numavctl
EXTRA_DIST += etc/bash-completion/numavctl
dist_check_SCRIPTS += tests/test-completion.sh
TESTS += tests/test-completion.sh

# `numavd --sim NAME` looks NAME up here: every bench/scenarios/*.scn, without a list to keep up to
# date (bench/local.mk ships the folder in the tarball). Prerequisite-only lines, so that other
# local.mk files can hook into install-data-local and uninstall-local too.
scenariosdir = $(pkgdatadir)/scenarios
install-data-local: install-scenarios
uninstall-local: uninstall-scenarios
install-scenarios:
	@$(NORMAL_INSTALL)
	$(MKDIR_P) "$(DESTDIR)$(scenariosdir)"
	for f in $(srcdir)/bench/scenarios/*.scn; do \
		$(INSTALL_DATA) "$$f" "$(DESTDIR)$(scenariosdir)" || exit 1; done
uninstall-scenarios:
	@$(NORMAL_UNINSTALL)
	for f in $(srcdir)/bench/scenarios/*.scn; do rm -f "$(DESTDIR)$(scenariosdir)/$${f##*/}"; done
.PHONY: install-scenarios uninstall-scenarios

# For tests/test-install.sh: where `make install` puts things.
print-install-dirs:
	@echo "prefix=$(prefix)"; echo "sbindir=$(sbindir)"; echo "bindir=$(bindir)"; \
	echo "sysconfdir=$(sysconfdir)"; echo "datadir=$(datadir)"; echo "pkgdatadir=$(pkgdatadir)"; \
	echo "mandir=$(mandir)"; echo "systemdsystemunitdir=$(systemdsystemunitdir)"; \
	echo "sysusersdir=$(sysusersdir)"; echo "libvirthookdir=$(libvirthookdir)"
.PHONY: print-install-dirs

dist_check_SCRIPTS += tests/test-units.sh tests/test-hook.sh tests/test-install.sh
TESTS += tests/test-units.sh tests/test-hook.sh tests/test-install.sh
