# libFuzzer targets (not part of `make check`): `make fuzz` builds them with clang,
# `make fuzz-run FUZZ_SECONDS=60` runs each for that long from the test corpora (the scenario
# parser's from bench/scenarios and tests/scenarios; it models at most 16384 pages, 64M of 4K
# pages, so that an input takes milliseconds, not seconds).
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-include $(abs_top_builddir)/config.h -I$(abs_top_srcdir)/src $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
FUZZ_COMMON = $(top_srcdir)/src/common/log.c $(top_srcdir)/src/common/parse.c
FUZZ_VARLINK_SRCS = $(top_srcdir)/fuzz/fuzz-varlink.c $(top_srcdir)/src/varlink/protocol.c \
	$(top_srcdir)/src/varlink/server.c $(top_srcdir)/src/varlink/server-listen.c \
	$(top_srcdir)/src/varlink/server-accept.c \
	$(top_srcdir)/src/varlink/server-connection.c $(top_srcdir)/src/varlink/server-dispatch.c \
	$(top_srcdir)/src/varlink/server-service.c $(top_srcdir)/src/varlink/client.c $(FUZZ_COMMON)
FUZZ_VARLINK_HDRS = $(top_srcdir)/src/varlink/varlink.h $(top_srcdir)/src/varlink/varlink-internal.h \
	$(top_srcdir)/src/varlink/server-internal.h
FUZZ_CONFIG_SRCS = $(top_srcdir)/fuzz/fuzz-config.c $(top_srcdir)/src/daemon/config.c \
	$(top_srcdir)/src/daemon/config-parse.c $(top_srcdir)/src/daemon/config-files.c $(FUZZ_COMMON)
# The whole simulated host as its library lists it (so that a new file of the sim is fuzzed too),
# compiled from the source tree; the recipe keeps the .c files of the list.
FUZZ_SCENARIO_SRCS = fuzz/fuzz-scenario.c $(libnvsim_a_SOURCES) $(libnvmodel_a_SOURCES) \
	src/common/log.c src/common/parse.c
EXTRA_DIST += fuzz/fuzz-varlink.c fuzz/fuzz-config.c fuzz/fuzz-scenario.c

fuzz/fuzz-varlink: $(FUZZ_VARLINK_SRCS) $(FUZZ_VARLINK_HDRS) config.h
	$(AM_V_GEN)$(MKDIR_P) fuzz && $(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_VARLINK_SRCS) $(SYSTEMD_LIBS) $(JSONC_LIBS)
fuzz/fuzz-config: $(FUZZ_CONFIG_SRCS) $(top_srcdir)/src/daemon/config.h config.h
	$(AM_V_GEN)$(MKDIR_P) fuzz && $(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_CONFIG_SRCS) -lm
fuzz/fuzz-scenario: $(FUZZ_SCENARIO_SRCS) config.h
	$(AM_V_GEN)$(MKDIR_P) fuzz && cd $(top_srcdir) && \
		$(FUZZ_CC) $(FUZZ_FLAGS) -DSIM_MAX_UNITS='UINT64_C(16384)' -o $(abs_top_builddir)/$@ \
		$$(for f in $(FUZZ_SCENARIO_SRCS); do case $$f in *.c) echo $$f ;; esac; done) -lm
fuzz: fuzz/fuzz-varlink fuzz/fuzz-config fuzz/fuzz-scenario
fuzz-run: fuzz
	set -e; c=$$(mktemp -d); trap 'rm -rf "$$c"' EXIT; mkdir "$$c/varlink" "$$c/config" "$$c/scenario"; \
	cp $(top_srcdir)/tests/varlink-corpus/*.in "$$c/varlink/"; \
	cp $(top_srcdir)/tests/config-good/*.conf $(top_srcdir)/tests/config-bad/*.conf \
	  $(top_srcdir)/tests/config-hostile/*.conf "$$c/config/"; \
	cp $(top_srcdir)/bench/scenarios/*.scn $(top_srcdir)/tests/scenarios/*.scn "$$c/scenario/"; \
	./fuzz/fuzz-varlink -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 "$$c/varlink"; \
	./fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 "$$c/config"; \
	./fuzz/fuzz-scenario -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 "$$c/scenario"
.PHONY: fuzz fuzz-run
CLEANFILES += fuzz/fuzz-varlink fuzz/fuzz-config fuzz/fuzz-scenario
