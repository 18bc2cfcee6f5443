# Integration tests: the whole daemon against the simulated host.
dist_check_SCRIPTS += tests/test-numavd-sim.sh tests/test-numavd-real.sh tests/tap.sh tests/numavd-daemon.sh
TESTS += tests/test-numavd-sim.sh tests/test-numavd-real.sh
EXTRA_DIST += tests/scenarios

# A stand-in for systemd's notification socket.
check_PROGRAMS += tests/notify-listen
tests_notify_listen_SOURCES = tests/notify-listen.c

dist_check_SCRIPTS += tests/test-numavd-service.sh
TESTS += tests/test-numavd-service.sh

# tools/need-tools.sh, which both deps scripts end with, names the package of a missing tool.
dist_check_SCRIPTS += tests/test-need-tools.sh
TESTS += tests/test-need-tools.sh
EXTRA_DIST += tools/deps.sh tools/need-tools.sh
