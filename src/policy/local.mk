noinst_LIBRARIES += libnvpolicy.a
libnvpolicy_a_SOURCES = \
	src/policy/placement.c src/policy/placement.h \
	src/policy/budget.c src/policy/budget.h \
	src/policy/owner.c src/policy/owner.h \
	src/policy/balloon.c src/policy/balloon.h \
	src/policy/ksm.c src/policy/ksm.h \
	src/policy/room.c src/policy/room.h \
	src/policy/hotpages.c src/policy/hotpages.h

check_PROGRAMS += tests/test-placement
tests_test_placement_SOURCES = tests/test-placement.c tests/tap.h
tests_test_placement_LDADD = libnvpolicy.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-placement

check_PROGRAMS += tests/test-owner
tests_test_owner_SOURCES = tests/test-owner.c tests/tap.h
tests_test_owner_LDADD = libnvpolicy.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-owner

check_PROGRAMS += tests/test-balloon-policy tests/test-ksm-policy
tests_test_balloon_policy_SOURCES = tests/test-balloon-policy.c tests/tap.h
tests_test_balloon_policy_LDADD = libnvpolicy.a libnvmodel.a libnvcommon.a -lm
tests_test_ksm_policy_SOURCES = tests/test-ksm-policy.c tests/tap.h
tests_test_ksm_policy_LDADD = libnvpolicy.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-balloon-policy tests/test-ksm-policy

check_PROGRAMS += tests/test-placement-room
tests_test_placement_room_SOURCES = tests/test-placement-room.c tests/tap.h
tests_test_placement_room_LDADD = libnvpolicy.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-placement-room

check_PROGRAMS += tests/test-hotpages
tests_test_hotpages_SOURCES = tests/test-hotpages.c tests/tap.h
tests_test_hotpages_LDADD = libnvpolicy.a libnvmodel.a libnvcommon.a -lm
TESTS += tests/test-hotpages
