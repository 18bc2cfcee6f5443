# Man pages: scdoc sources; the generated pages are shipped in the tarball, so a build from the
# tarball installs them without scdoc. A build from git needs scdoc (tools/deps.sh installs it).
SCDOC = scdoc

dist_man_MANS = man/numavd.8 man/numavd.conf.5 man/numavctl.1 man/numavd_ept.4
EXTRA_DIST += man/numavd.8.scd man/numavd.conf.5.scd man/numavctl.1.scd man/numavd_ept.4.scd
MAINTAINERCLEANFILES = $(dist_man_MANS)

man_generate = $(AM_V_GEN)$(MKDIR_P) man && rm -f $@ $@.tmp && \
	if ! command -v $(SCDOC) >/dev/null 2>&1; then \
		echo "$@: scdoc is needed to build the man pages (apt-get install scdoc)" >&2; exit 1; fi && \
	$(SCDOC) <$(top_srcdir)/$@.scd >$@.tmp && mv $@.tmp $@

man/numavd.8: $(top_srcdir)/man/numavd.8.scd
	$(man_generate)
man/numavd.conf.5: $(top_srcdir)/man/numavd.conf.5.scd
	$(man_generate)
man/numavctl.1: $(top_srcdir)/man/numavctl.1.scd
	$(man_generate)
man/numavd_ept.4: $(top_srcdir)/man/numavd_ept.4.scd
	$(man_generate)

dist_check_SCRIPTS += tests/test-man-keys.sh
TESTS += tests/test-man-keys.sh
