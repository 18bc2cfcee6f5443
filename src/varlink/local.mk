# The varlink protocol (server and client) on json-c and sd-event, behind src/varlink/varlink.h.
noinst_LIBRARIES += libnvvarlink.a
libnvvarlink_a_SOURCES = \
	src/varlink/varlink.h src/varlink/varlink-internal.h \
	src/varlink/protocol.c \
	src/varlink/server-internal.h \
	src/varlink/server.c \
	src/varlink/server-listen.c \
	src/varlink/server-accept.c \
	src/varlink/server-connection.c \
	src/varlink/server-dispatch.c \
	src/varlink/server-service.c \
	src/varlink/client.c
libnvvarlink_a_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)

# The unit test: server and client in one process, on sd-event, over unix sockets.
check_PROGRAMS += tests/test-varlink
tests_test_varlink_SOURCES = tests/test-varlink.c tests/tap.h
tests_test_varlink_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_test_varlink_LDADD = libnvvarlink.a libnvmodel.a libnvcommon.a $(SYSTEMD_LIBS) $(JSONC_LIBS)
TESTS += tests/test-varlink

# Tests: numavctl and the server against `numavd --sim`, with a raw peer for malformed input.
check_PROGRAMS += tests/varlink-raw
tests_varlink_raw_SOURCES = tests/varlink-raw.c
tests_varlink_raw_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_varlink_raw_LDADD = libnvvarlink.a libnvmodel.a libnvcommon.a $(JSONC_LIBS)
dist_check_SCRIPTS += tests/test-varlink.sh tests/test-varlink-go.sh tests/test-varlink-burst.sh \
	tests/test-varlink-subscribers.sh
TESTS += tests/test-varlink.sh tests/test-varlink-go.sh tests/test-varlink-burst.sh \
	tests/test-varlink-subscribers.sh
EXTRA_DIST += tests/varlink-corpus tests/go-varlink

# The varlink project's certification, both ways, against Debian's varlink-go-certification.
check_PROGRAMS += tests/varlink-certification
tests_varlink_certification_SOURCES = tests/varlink-certification.c tests/varlink-certification.h \
	tests/varlink-certification-server.c tests/varlink-certification-client.c
tests_varlink_certification_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_varlink_certification_LDADD = libnvvarlink.a libnvmodel.a libnvcommon.a $(SYSTEMD_LIBS) $(JSONC_LIBS) -lm
dist_check_SCRIPTS += tests/test-varlink-certification.sh
TESTS += tests/test-varlink-certification.sh
