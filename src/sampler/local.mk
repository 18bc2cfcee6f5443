noinst_LIBRARIES += libnvsampler.a
libnvsampler_a_SOURCES = \
	src/sampler/heatmap.c src/sampler/heatmap.h \
	src/sampler/heatmap-epoch.c src/sampler/heatmap-internal.h \
	src/sampler/attribution.c src/sampler/attribution.h

check_PROGRAMS += tests/test-heatmap
tests_test_heatmap_SOURCES = tests/test-heatmap.c tests/tap.h
tests_test_heatmap_LDADD = libnvsampler.a libnvcommon.a -lm
TESTS += tests/test-heatmap

check_PROGRAMS += tests/test-attribution
tests_test_attribution_SOURCES = tests/test-attribution.c tests/tap.h
tests_test_attribution_LDADD = libnvsampler.a libnvsim.a libnvcommon.a -lm
TESTS += tests/test-attribution
