# numavctl: the command-line client of io.numavd.Manager.
bin_PROGRAMS += numavctl
numavctl_SOURCES = src/ctl/numavctl.c src/ctl/ctl-output.c src/ctl/ctl-output.h \
	src/ctl/output-file.c src/ctl/output-file.h src/ctl/heatmap.c src/ctl/heatmap.h
numavctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
numavctl_LDADD = libnvvarlink.a libnvmodel.a libnvcommon.a $(JSONC_LIBS) -lm

# Metrics: promtool, and the node exporter's textfile route (numavctl --output).
dist_check_SCRIPTS += tests/test-metrics.sh
TESTS += tests/test-metrics.sh

check_PROGRAMS += tests/test-ctl-output
tests_test_ctl_output_SOURCES = tests/test-ctl-output.c tests/tap.h src/ctl/ctl-output.c src/ctl/ctl-output.h \
	src/ctl/heatmap.c src/ctl/heatmap.h
tests_test_ctl_output_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_ctl_output_LDADD = libnvmodel.a libnvcommon.a $(JSONC_LIBS) -lm
TESTS += tests/test-ctl-output
dist_check_SCRIPTS += tests/test-heatmap.sh
TESTS += tests/test-heatmap.sh
