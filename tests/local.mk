# Integration tests: the whole daemon against the simulated host.
dist_check_SCRIPTS += tests/test-numavd-sim.sh tests/test-numavd-real.sh tests/tap.sh
TESTS += tests/test-numavd-sim.sh tests/test-numavd-real.sh
EXTRA_DIST += tests/scenarios
