noinst_LIBRARIES += libnvmigrate.a
libnvmigrate_a_SOURCES = \
	src/migrate/mover.c src/migrate/mover.h \
	src/migrate/move-pages.c
libnvmigrate_a_CPPFLAGS = $(AM_CPPFLAGS) $(NUMA_CFLAGS)

check_PROGRAMS += tests/test-mover
tests_test_mover_SOURCES = tests/test-mover.c tests/tap.h
tests_test_mover_LDADD = libnvmigrate.a libnvcommon.a $(NUMA_LIBS) -lm
TESTS += tests/test-mover

check_PROGRAMS += tests/test-move-pages
tests_test_move_pages_SOURCES = tests/test-move-pages.c tests/tap.h
tests_test_move_pages_LDADD = libnvmigrate.a libnvcommon.a $(NUMA_LIBS) -lm
TESTS += tests/test-move-pages
