# libFuzzer targets (not part of `make check`): `make fuzz` builds them with clang,
# `make fuzz-run FUZZ_SECONDS=60` runs each for that long from the test corpora.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-include $(top_builddir)/config.h -I$(top_srcdir)/src $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
FUZZ_COMMON = $(top_srcdir)/src/common/log.c $(top_srcdir)/src/common/parse.c
FUZZ_VARLINK_SRCS = $(top_srcdir)/fuzz/fuzz-varlink.c $(top_srcdir)/src/varlink/protocol.c \
	$(top_srcdir)/src/varlink/server.c $(top_srcdir)/src/varlink/server-listen.c \
	$(top_srcdir)/src/varlink/server-connection.c $(top_srcdir)/src/varlink/server-dispatch.c \
	$(top_srcdir)/src/varlink/server-service.c $(top_srcdir)/src/varlink/client.c $(FUZZ_COMMON)
FUZZ_VARLINK_HDRS = $(top_srcdir)/src/varlink/varlink.h $(top_srcdir)/src/varlink/varlink-internal.h \
	$(top_srcdir)/src/varlink/server-internal.h
FUZZ_CONFIG_SRCS = $(top_srcdir)/fuzz/fuzz-config.c $(top_srcdir)/src/daemon/config.c \
	$(top_srcdir)/src/daemon/config-parse.c $(top_srcdir)/src/daemon/config-files.c $(FUZZ_COMMON)
EXTRA_DIST += fuzz/fuzz-varlink.c fuzz/fuzz-config.c

fuzz/fuzz-varlink: $(FUZZ_VARLINK_SRCS) $(FUZZ_VARLINK_HDRS) config.h
	$(AM_V_GEN)$(MKDIR_P) fuzz && $(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_VARLINK_SRCS) $(SYSTEMD_LIBS) $(JSONC_LIBS)
fuzz/fuzz-config: $(FUZZ_CONFIG_SRCS) $(top_srcdir)/src/daemon/config.h config.h
	$(AM_V_GEN)$(MKDIR_P) fuzz && $(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_CONFIG_SRCS) -lm
fuzz: fuzz/fuzz-varlink fuzz/fuzz-config
fuzz-run: fuzz
	set -e; c=$$(mktemp -d); trap 'rm -rf "$$c"' EXIT; mkdir "$$c/varlink" "$$c/config"; \
	cp $(top_srcdir)/tests/varlink-corpus/*.in "$$c/varlink/"; \
	cp $(top_srcdir)/tests/config-good/*.conf $(top_srcdir)/tests/config-bad/*.conf "$$c/config/"; \
	./fuzz/fuzz-varlink -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 "$$c/varlink"; \
	./fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 "$$c/config"
.PHONY: fuzz fuzz-run
CLEANFILES += fuzz/fuzz-varlink fuzz/fuzz-config
