# Memory overcommit: the balloon and KSM policies (pure), their actuators, the daemon's step.
libnvpolicy_a_SOURCES += \
	src/common/overcommit.h \
	src/policy/balloon.c src/policy/balloon.h \
	src/policy/ksm.c src/policy/ksm.h
libnvmigrate_a_SOURCES += \
	src/migrate/ksm-sysfs.c src/migrate/ksm-sysfs.h \
	src/migrate/balloon-libvirt.c src/migrate/balloon-libvirt.h
libnvmigrate_a_CPPFLAGS += $(LIBVIRT_CFLAGS)
libnvdaemon_a_SOURCES += src/daemon/overcommit.c src/daemon/overcommit.h

check_PROGRAMS += tests/test-balloon-policy tests/test-ksm-policy tests/test-ksm-sysfs
tests_test_balloon_policy_SOURCES = tests/test-balloon-policy.c tests/tap.h
tests_test_balloon_policy_LDADD = libnvpolicy.a libnvcommon.a -lm
tests_test_ksm_policy_SOURCES = tests/test-ksm-policy.c tests/tap.h
tests_test_ksm_policy_LDADD = libnvpolicy.a libnvcommon.a -lm
tests_test_ksm_sysfs_SOURCES = tests/test-ksm-sysfs.c tests/tap.h
tests_test_ksm_sysfs_LDADD = libnvmigrate.a libnvcommon.a $(LIBVIRT_LIBS) -lm
TESTS += tests/test-balloon-policy tests/test-ksm-policy tests/test-ksm-sysfs

dist_check_SCRIPTS += tests/test-overcommit-real.sh
TESTS += tests/test-overcommit-real.sh

check_PROGRAMS += tests/test-balloon-libvirt
tests_test_balloon_libvirt_SOURCES = tests/test-balloon-libvirt.c tests/tap.h
tests_test_balloon_libvirt_CPPFLAGS = $(AM_CPPFLAGS) $(LIBVIRT_CFLAGS)
tests_test_balloon_libvirt_LDADD = libnvmigrate.a libnvcommon.a $(LIBVIRT_LIBS) -lm
TESTS += tests/test-balloon-libvirt
