noinst_LIBRARIES += libnvsim.a
libnvsim_a_SOURCES = \
	src/sim/sim.h src/sim/sim-internal.h src/sim/costs.h \
	src/sim/scenario-internal.h \
	src/sim/scenario.c \
	src/sim/scenario-host.c \
	src/sim/scenario-vm.c \
	src/sim/unit-access.c \
	src/sim/page-info.c \
	src/sim/moves.c \
	src/sim/memory.c \
	src/sim/faults.c \
	src/sim/sim.c

check_PROGRAMS += tests/test-sim-scenario tests/test-sim-model
tests_test_sim_scenario_SOURCES = tests/test-sim-scenario.c tests/tap.h
tests_test_sim_scenario_LDADD = libnvsim.a libnvmodel.a libnvcommon.a -lm
tests_test_sim_model_SOURCES = tests/test-sim-model.c tests/tap.h
tests_test_sim_model_LDADD = libnvsim.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-sim-scenario tests/test-sim-model

# The sim's page API that the AutoNUMA baseline and the oracle use.
check_PROGRAMS += tests/test-sim-page
tests_test_sim_page_SOURCES = tests/test-sim-page.c tests/tap.h
tests_test_sim_page_LDADD = libnvsim.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-sim-page

check_PROGRAMS += tests/test-sim-faults
tests_test_sim_faults_SOURCES = tests/test-sim-faults.c tests/tap.h
tests_test_sim_faults_LDADD = libnvsim.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-sim-faults
