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
EXTRA_DIST += bench/scenarios bench/run.sh bench/plot.gp bench/numavd-bench.conf docs/bench.md
