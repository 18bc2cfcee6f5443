noinst_LIBRARIES += libnvcommon.a
libnvcommon_a_SOURCES = \
	src/common/macro.h \
	src/common/log.c src/common/log.h \
	src/common/string-table.h \
	src/common/parse.c src/common/parse.h \
	src/common/fileio.c src/common/fileio.h \
	src/common/random.h \
	src/common/array.h

check_PROGRAMS += tests/test-parse
tests_test_parse_SOURCES = tests/test-parse.c tests/tap.h
tests_test_parse_LDADD = libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-parse

check_PROGRAMS += tests/test-fileio
tests_test_fileio_SOURCES = tests/test-fileio.c tests/tap.h
tests_test_fileio_LDADD = libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-fileio

check_PROGRAMS += tests/test-log
tests_test_log_SOURCES = tests/test-log.c tests/tap.h
tests_test_log_LDADD = libnvmodel.a libnvcommon.a
TESTS += tests/test-log
