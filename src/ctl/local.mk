# numavctl: the command-line client of io.numavd.Manager.
bin_PROGRAMS += numavctl
numavctl_SOURCES = src/ctl/numavctl.c src/ctl/ctl-output.c src/ctl/ctl-output.h
numavctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
numavctl_LDADD = libnvvarlink.a libnvcommon.a $(JSONC_LIBS) -lm

check_PROGRAMS += tests/test-ctl-output
tests_test_ctl_output_SOURCES = tests/test-ctl-output.c tests/tap.h src/ctl/ctl-output.c src/ctl/ctl-output.h
tests_test_ctl_output_LDADD = libnvcommon.a -lm
TESTS += tests/test-ctl-output
