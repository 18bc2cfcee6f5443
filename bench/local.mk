# Benchmarks: built and run by `make bench`, not by `make check` (docs/bench.md).
EXTRA_PROGRAMS = bench/bench-epoch bench/bench-placement
bench_bench_epoch_SOURCES = bench/bench-epoch.c
bench_bench_epoch_LDADD = $(NV_LINK)
bench_bench_placement_SOURCES = bench/bench-placement.c bench/shim.c bench/shim.h \
	bench/baselines.h bench/baselines.c bench/bl-numad.c bench/bl-autonuma.c bench/bl-damon.c \
	bench/bl-oracle.c
bench_bench_placement_LDADD = $(NV_LINK)
CLEANFILES += $(EXTRA_PROGRAMS)

BENCH_EPOCHS ?= 30
bench: bench/bench-epoch$(EXEEXT) bench/bench-placement$(EXEEXT)
	$(AM_V_GEN)BENCH_EPOCHS=$(BENCH_EPOCHS) $(SHELL) $(top_srcdir)/bench/run.sh $(top_srcdir) bench/out
.PHONY: bench
EXTRA_DIST += bench/scenarios bench/heldout bench/run.sh bench/plot.gp bench/numavd-bench.conf docs/bench.md

# The sim's page API that the AutoNUMA baseline and the oracle use.
check_PROGRAMS += tests/test-sim-page
tests_test_sim_page_SOURCES = tests/test-sim-page.c tests/tap.h
tests_test_sim_page_LDADD = libnvsim.a libnvcommon.a -lm
TESTS += tests/test-sim-page

# A daemon fix the bench revealed: the heat maps flush from the first epoch on a nested host.
check_PROGRAMS += tests/test-manager-flush
tests_test_manager_flush_SOURCES = tests/test-manager-flush.c tests/tap.h
tests_test_manager_flush_LDADD = $(NV_LINK)
TESTS += tests/test-manager-flush
