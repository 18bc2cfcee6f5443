noinst_LIBRARIES += libnvsampler.a
libnvsampler_a_SOURCES = \
	src/sampler/heatmap.c src/sampler/heatmap.h \
	src/sampler/heatmap-epoch.c src/sampler/heatmap-internal.h \
	src/sampler/attribution.c src/sampler/attribution.h \
	src/sampler/region-history.c src/sampler/region-history.h \
	src/sampler/pagescan.c src/sampler/pagescan.h

check_PROGRAMS += tests/test-heatmap
tests_test_heatmap_SOURCES = tests/test-heatmap.c tests/tap.h
tests_test_heatmap_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-heatmap

check_PROGRAMS += tests/test-attribution
tests_test_attribution_SOURCES = tests/test-attribution.c tests/tap.h
tests_test_attribution_LDADD = libnvsampler.a libnvsim.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-attribution

# The sampler's kernel-facing sources: DAMON, perf and KVM counters, soft-dirty, numa_maps.
libnvsampler_a_SOURCES += \
	src/sampler/backend-damon.c src/sampler/backend-damon.h \
	src/sampler/damon-sysfs.c src/sampler/damon-sysfs.h

check_PROGRAMS += tests/test-damon
tests_test_damon_SOURCES = tests/test-damon.c tests/tap.h
tests_test_damon_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-damon

libnvsampler_a_SOURCES += \
	src/sampler/counters-perf.c src/sampler/counters-perf.h \
	src/sampler/kvm-stats.c src/sampler/kvm-stats.h

check_PROGRAMS += tests/test-perf tests/test-kvm-stats
tests_test_perf_SOURCES = tests/test-perf.c tests/tap.h tests/test-util.h
tests_test_perf_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lpthread -lm
tests_test_kvm_stats_SOURCES = tests/test-kvm-stats.c tests/tap.h
tests_test_kvm_stats_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-perf tests/test-kvm-stats

libnvsampler_a_SOURCES += \
	src/sampler/numa-maps.c src/sampler/numa-maps.h \
	src/sampler/dirty-rate.c src/sampler/dirty-rate.h

check_PROGRAMS += tests/test-numa-maps tests/test-dirty-rate
tests_test_numa_maps_SOURCES = tests/test-numa-maps.c tests/tap.h
tests_test_numa_maps_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
tests_test_dirty_rate_SOURCES = tests/test-dirty-rate.c tests/tap.h
tests_test_dirty_rate_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-numa-maps tests/test-dirty-rate

# The `kmod` access backend and attribution sampler, which talk to the numavd_ept module (kernel/).
libnvsampler_a_SOURCES += \
	src/sampler/kmod-attach.c src/sampler/kmod-attach.h include/uapi/numavd_ept.h \
	src/sampler/backend-kmod.c src/sampler/backend-kmod.h \
	src/sampler/attribution-kmod.c src/sampler/attribution-kmod.h

check_PROGRAMS += tests/test-kmod-attach tests/test-backend-kmod tests/test-attribution-kmod
tests_test_kmod_attach_SOURCES = tests/test-kmod-attach.c tests/tap.h
tests_test_kmod_attach_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
tests_test_backend_kmod_SOURCES = tests/test-backend-kmod.c tests/tap.h
tests_test_backend_kmod_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
tests_test_attribution_kmod_SOURCES = tests/test-attribution-kmod.c tests/tap.h
tests_test_attribution_kmod_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-kmod-attach tests/test-backend-kmod tests/test-attribution-kmod

check_PROGRAMS += tests/test-pagescan
tests_test_pagescan_SOURCES = tests/test-pagescan.c tests/tap.h
tests_test_pagescan_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-pagescan
