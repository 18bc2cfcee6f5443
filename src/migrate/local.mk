noinst_LIBRARIES += libnvmigrate.a
libnvmigrate_a_SOURCES = \
	src/migrate/mover.c src/migrate/mover.h \
	src/migrate/move-pages.c \
	src/migrate/ksm-sysfs.c src/migrate/ksm-sysfs.h \
	src/migrate/balloon-libvirt.c src/migrate/balloon-libvirt.h
libnvmigrate_a_CPPFLAGS = $(AM_CPPFLAGS) $(NUMA_CFLAGS) $(LIBVIRT_CFLAGS)

check_PROGRAMS += tests/test-mover
tests_test_mover_SOURCES = tests/test-mover.c tests/tap.h
tests_test_mover_LDADD = libnvmigrate.a libnvmodel.a libnvcommon.a $(NUMA_LIBS) -lm
TESTS += tests/test-mover

check_PROGRAMS += tests/test-move-pages
tests_test_move_pages_SOURCES = tests/test-move-pages.c tests/tap.h
tests_test_move_pages_LDADD = libnvmigrate.a libnvmodel.a libnvcommon.a $(NUMA_LIBS) -lm
TESTS += tests/test-move-pages

check_PROGRAMS += tests/test-ksm-sysfs
tests_test_ksm_sysfs_SOURCES = tests/test-ksm-sysfs.c tests/tap.h
tests_test_ksm_sysfs_LDADD = libnvmigrate.a libnvmodel.a libnvcommon.a $(LIBVIRT_LIBS) -lm
TESTS += tests/test-ksm-sysfs

check_PROGRAMS += tests/test-balloon-libvirt
tests_test_balloon_libvirt_SOURCES = tests/test-balloon-libvirt.c tests/tap.h
tests_test_balloon_libvirt_CPPFLAGS = $(AM_CPPFLAGS) $(LIBVIRT_CFLAGS)
tests_test_balloon_libvirt_LDADD = libnvmigrate.a libnvmodel.a libnvcommon.a $(LIBVIRT_LIBS) -lm
TESTS += tests/test-balloon-libvirt
