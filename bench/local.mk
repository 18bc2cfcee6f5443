# Benchmarks: built and run by `make bench`, not by `make check`.
EXTRA_PROGRAMS = bench/bench-epoch
bench_bench_epoch_SOURCES = bench/bench-epoch.c
bench_bench_epoch_LDADD = $(NV_LINK)
CLEANFILES += $(EXTRA_PROGRAMS)

bench: bench/bench-epoch$(EXEEXT)
	$(AM_V_GEN)./bench/bench-epoch $(top_srcdir)/bench/scenarios/host1t.scn 6 | tee bench/epoch.txt
.PHONY: bench
EXTRA_DIST += bench/scenarios
