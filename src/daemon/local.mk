noinst_LIBRARIES += libnvdaemon.a
libnvdaemon_a_SOURCES = \
	src/daemon/config.h \
	src/daemon/manager.c src/daemon/manager.h \
	src/daemon/backend.c \
	src/daemon/epoch.c \
	src/daemon/report.c \
	src/daemon/vm-state.c src/daemon/vm-state.h \
	src/daemon/migration.c src/daemon/migration.h
libnvdaemon_a_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)

check_PROGRAMS += tests/test-migration
tests_test_migration_SOURCES = tests/test-migration.c tests/tap.h
tests_test_migration_LDADD = $(NV_LINK)
TESTS += tests/test-migration

sbin_PROGRAMS += numavd
numavd_SOURCES = src/daemon/main.c
numavd_LDADD = $(NV_LINK)

libnvdaemon_a_SOURCES += \
	src/daemon/config.c \
	src/daemon/config-parse.c src/daemon/config-parse.h \
	src/daemon/config-files.c src/daemon/config-files.h

check_PROGRAMS += tests/test-config tests/test-parse
tests_test_config_SOURCES = tests/test-config.c tests/tap.h
tests_test_config_LDADD = libnvdaemon.a libnvcommon.a -lm
tests_test_parse_SOURCES = tests/test-parse.c tests/tap.h
tests_test_parse_LDADD = libnvdaemon.a libnvcommon.a -lm
TESTS += tests/test-config tests/test-parse
EXTRA_DIST += tests/config-bad tests/config-good

numavdconfdir = $(sysconfdir)/numavd
dist_numavdconf_DATA = etc/numavd.conf

# Per-VM counters: perf, KVM statistics, numa_maps, dirty rate (the collection step of the epoch).
libnvdaemon_a_SOURCES += src/daemon/counters.c src/daemon/counters.h
check_PROGRAMS += tests/test-counters
tests_test_counters_SOURCES = tests/test-counters.c tests/tap.h tests/test-util.h
tests_test_counters_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_counters_LDADD = libnvdaemon.a libnvsampler.a libnvcommon.a $(JSONC_LIBS) -lm
TESTS += tests/test-counters
