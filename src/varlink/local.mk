# The varlink protocol (server and client) on json-c and sd-event, behind src/varlink/varlink.h.
noinst_LIBRARIES += libnvvarlink.a
libnvvarlink_a_SOURCES = \
	src/varlink/varlink.h src/varlink/varlink-internal.h \
	src/varlink/protocol.c \
	src/varlink/server-internal.h \
	src/varlink/server.c \
	src/varlink/server-listen.c \
	src/varlink/server-connection.c \
	src/varlink/server-dispatch.c \
	src/varlink/server-service.c \
	src/varlink/client.c
libnvvarlink_a_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)

# The daemon's side: io.numavd.Manager, its IDL embedded as a C string at build time.
libnvdaemon_a_SOURCES += src/daemon/varlink-manager.c src/daemon/varlink-manager.h
nodist_libnvdaemon_a_SOURCES = src/daemon/io.numavd.Manager-idl.c
CLEANFILES += src/daemon/io.numavd.Manager-idl.c
varlinkdir = $(datadir)/varlink
dist_varlink_DATA = src/daemon/io.numavd.Manager.varlink

src/daemon/io.numavd.Manager-idl.c: src/daemon/io.numavd.Manager.varlink
	$(AM_V_GEN)$(MKDIR_P) $(@D) && { \
	  echo '/* Generated from io.numavd.Manager.varlink; do not edit. */'; \
	  echo 'extern const char nv_manager_interface_description[];'; \
	  echo 'const char nv_manager_interface_description[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/        "/' -e 's/$$/\\n"/' $<; \
	  echo '        ;'; } >$@.tmp && mv $@.tmp $@

# Tests: numavctl and the server against `numavd --sim`, with a raw peer for malformed input.
check_PROGRAMS += tests/varlink-raw
tests_varlink_raw_SOURCES = tests/varlink-raw.c
tests_varlink_raw_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_varlink_raw_LDADD = libnvvarlink.a libnvcommon.a $(JSONC_LIBS)
dist_check_SCRIPTS += tests/test-varlink.sh tests/test-varlink-go.sh
TESTS += tests/test-varlink.sh tests/test-varlink-go.sh
EXTRA_DIST += tests/varlink-corpus tests/go-varlink

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

# The varlink project's certification, both ways, against Debian's varlink-go-certification.
check_PROGRAMS += tests/varlink-certification
tests_varlink_certification_SOURCES = tests/varlink-certification.c tests/varlink-certification.h \
	tests/varlink-certification-server.c tests/varlink-certification-client.c
tests_varlink_certification_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_varlink_certification_LDADD = libnvvarlink.a libnvcommon.a $(SYSTEMD_LIBS) $(JSONC_LIBS) -lm
dist_check_SCRIPTS += tests/test-varlink-certification.sh
TESTS += tests/test-varlink-certification.sh
