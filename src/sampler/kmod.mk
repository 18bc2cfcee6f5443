# The `kmod` access backend and the numavd_ept module it talks to (kernel/, built only for the lab
# with `make lab-check`, or by DKMS).
libnvsampler_a_SOURCES += \
	src/sampler/backend-kmod.c src/sampler/backend-kmod.h include/uapi/numavd_ept.h

check_PROGRAMS += tests/test-backend-kmod
tests_test_backend_kmod_SOURCES = tests/test-backend-kmod.c tests/tap.h
tests_test_backend_kmod_LDADD = libnvsampler.a libnvcommon.a -lm
TESTS += tests/test-backend-kmod

EXTRA_DIST += \
	kernel/.clang-format kernel/Kbuild kernel/Makefile kernel/dkms.conf kernel/numavd_ept.h \
	kernel/numavd_ept_main.c kernel/numavd_ept_ops.c kernel/numavd_ept_param.h
