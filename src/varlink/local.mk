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

# Tests: numavctl and the server against `numavd --sim`, with a raw peer for malformed input.
check_PROGRAMS += tests/varlink-raw
tests_varlink_raw_SOURCES = tests/varlink-raw.c
tests_varlink_raw_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_varlink_raw_LDADD = libnvvarlink.a libnvcommon.a $(JSONC_LIBS)
dist_check_SCRIPTS += tests/test-varlink.sh tests/test-varlink-go.sh
TESTS += tests/test-varlink.sh tests/test-varlink-go.sh
EXTRA_DIST += tests/varlink-corpus tests/go-varlink
