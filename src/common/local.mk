noinst_LIBRARIES += libnvcommon.a
libnvcommon_a_SOURCES = \
	src/common/macro.h \
	src/common/log.c src/common/log.h \
	src/common/parse.c src/common/parse.h \
	src/common/fileio.c src/common/fileio.h \
	src/common/inventory.c src/common/inventory.h \
	src/common/host.h src/common/region.h src/common/random.h

check_PROGRAMS += tests/test-log
tests_test_log_SOURCES = tests/test-log.c tests/tap.h
tests_test_log_LDADD = libnvcommon.a
TESTS += tests/test-log
