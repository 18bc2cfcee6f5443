# The daemon: main, the event loop and the epoch, configuration, reports, overcommit, per-VM
# counters, and the varlink service io.numavd.Manager.
noinst_LIBRARIES += libnvdaemon.a
libnvdaemon_a_SOURCES = \
	src/daemon/config.h \
	src/daemon/manager.c src/daemon/manager.h \
	src/daemon/backend.c \
	src/daemon/epoch.c \
	src/daemon/hot-pages.c src/daemon/hot-pages.h \
	src/daemon/attribution.c src/daemon/attribution.h \
	src/daemon/report.c \
	src/daemon/vm-state.c src/daemon/vm-state.h \
	src/daemon/migration.c src/daemon/migration.h \
	src/daemon/config.c \
	src/daemon/config-parse.c src/daemon/config-parse.h \
	src/daemon/config-files.c src/daemon/config-files.h \
	src/daemon/reload-failure.c src/daemon/reload-failure.h \
	src/daemon/meters.c src/daemon/meters.h \
	src/daemon/overcommit.c src/daemon/overcommit.h \
	src/daemon/varlink-manager.c src/daemon/varlink-manager.h
libnvdaemon_a_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)

sbin_PROGRAMS += numavd
numavd_SOURCES = src/daemon/main.c
numavd_LDADD = $(NV_LINK)

numavdconfdir = $(sysconfdir)/numavd
dist_numavdconf_DATA = etc/numavd.conf

# io.numavd.Manager: its IDL embedded as a C string at build time.
nodist_libnvdaemon_a_SOURCES = src/daemon/io.numavd.Manager-idl.c
CLEANFILES += src/daemon/io.numavd.Manager-idl.c
varlinkdir = $(datadir)/varlink
dist_varlink_DATA = src/daemon/io.numavd.Manager.varlink

src/daemon/io.numavd.Manager-idl.c: src/daemon/io.numavd.Manager.varlink
	$(AM_V_GEN)$(MKDIR_P) $(@D) && { \
	  echo '/* Generated from io.numavd.Manager.varlink; do not edit. */'; \
	  echo 'extern const char nv_manager_interface_description[];'; \
	  echo 'const char nv_manager_interface_description[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/        "/' -e 's/$$/\\n"/' $<; \
	  echo '        ;'; } >$@.tmp && mv $@.tmp $@

check_PROGRAMS += tests/test-config
tests_test_config_SOURCES = tests/test-config.c tests/tap.h
tests_test_config_LDADD = libnvdaemon.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-config
EXTRA_DIST += tests/config-bad tests/config-good tests/config-hostile

check_PROGRAMS += tests/test-meters
tests_test_meters_SOURCES = tests/test-meters.c tests/tap.h tests/test-util.h
tests_test_meters_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_meters_LDADD = libnvdaemon.a libnvsampler.a libnvmodel.a libnvcommon.a $(JSONC_LIBS) -lm
TESTS += tests/test-meters

# The heat maps flush from the first epoch on a nested host.
check_PROGRAMS += tests/test-manager-flush
tests_test_manager_flush_SOURCES = tests/test-manager-flush.c tests/tap.h
tests_test_manager_flush_LDADD = $(NV_LINK)
TESTS += tests/test-manager-flush

# Overcommit on the real host: balloon and KSM through the daemon.
dist_check_SCRIPTS += tests/test-overcommit-real.sh
TESTS += tests/test-overcommit-real.sh

# A VM's JSON against the fields io.numavd.Manager declares.
check_PROGRAMS += tests/test-report
tests_test_report_SOURCES = tests/test-report.c tests/tap.h
tests_test_report_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_report_LDADD = $(NV_LINK)
TESTS += tests/test-report

# One epoch's steps on a simulated host.
check_PROGRAMS += tests/test-epoch
tests_test_epoch_SOURCES = tests/test-epoch.c tests/tap.h
tests_test_epoch_LDADD = $(NV_LINK)
TESTS += tests/test-epoch

# The parsers of outside input under valgrind.
dist_check_SCRIPTS += tests/test-parsers-valgrind.sh
TESTS += tests/test-parsers-valgrind.sh
# Migration freezes: the hook's sequence, waiting freezes, outgoing jobs, the safety net.
check_PROGRAMS += tests/test-migration
tests_test_migration_SOURCES = tests/test-migration.c tests/tap.h
tests_test_migration_LDADD = $(NV_LINK)
TESTS += tests/test-migration
