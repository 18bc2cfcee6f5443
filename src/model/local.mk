# The model every layer shares: the inventory (VMs, their RAM, the nodes), a VM's regions, the
# overcommit readings and the ports through which the epoch reaches a host. Plain structs and
# their small helpers, no I/O.
noinst_LIBRARIES += libnvmodel.a
libnvmodel_a_SOURCES = \
	src/model/inventory.c src/model/inventory.h \
	src/model/move-cost.c src/model/move-cost.h \
	src/model/region.h src/model/host.h src/model/overcommit.h

check_PROGRAMS += tests/test-model
tests_test_model_SOURCES = tests/test-model.c tests/tap.h
tests_test_model_LDADD = libnvmodel.a libnvcommon.a
TESTS += tests/test-model

check_PROGRAMS += tests/test-move-cost
tests_test_move_cost_SOURCES = tests/test-move-cost.c tests/tap.h
tests_test_move_cost_LDADD = libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-move-cost
