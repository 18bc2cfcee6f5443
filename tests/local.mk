# Integration tests: the whole daemon against the simulated host.
dist_check_SCRIPTS += tests/test-numavd-sim.sh
TESTS += tests/test-numavd-sim.sh
EXTRA_DIST += tests/scenarios
