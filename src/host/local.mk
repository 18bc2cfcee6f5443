noinst_LIBRARIES += libnvhost.a
libnvhost_a_CPPFLAGS = $(AM_CPPFLAGS) $(LIBXML_CFLAGS) $(LIBVIRT_CFLAGS) $(SYSTEMD_CFLAGS) $(HWLOC_CFLAGS)
libnvhost_a_SOURCES = \
	src/host/topology.c src/host/topology.h \
	src/host/proc-parse.c src/host/proc-parse.h \
	src/host/proc-vms.c src/host/proc-vms.h \
	src/host/domain-xml.c src/host/domain-xml.h \
	src/host/libvirt-event.c src/host/libvirt-event.h \
	src/host/libvirt-vms.c src/host/libvirt-vms.h \
	src/host/real-host.c src/host/real-host.h \
	src/host/host-memory.c src/host/host-memory.h \
	src/host/access-backends.c src/host/access-backends.h

HOST_LIBS = libnvhost.a libnvsampler.a libnvmigrate.a libnvmodel.a libnvcommon.a $(NUMA_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS) \
	$(SYSTEMD_LIBS) $(HWLOC_LIBS) -lm

# A process with a real KVM VM fd and vCPU-named threads, for tests that scan /proc.
check_PROGRAMS += tests/fake-vmm
tests_fake_vmm_SOURCES = tests/fake-vmm.c
tests_fake_vmm_LDADD = libnvmodel.a libnvcommon.a -lpthread -lm

# The topology through hwloc: fixture hosts (a saved XML and a small tree), synthetic and saved-XML
# topologies, and this machine against its sysfs.
check_PROGRAMS += tests/test-topology
tests_test_topology_SOURCES = tests/test-topology.c tests/tap.h
tests_test_topology_LDADD = libnvhost.a libnvmodel.a libnvcommon.a $(HWLOC_LIBS) -lm
TESTS += tests/test-topology
EXTRA_DIST += tests/fixtures/hwloc/2node.xml tests/fixtures/hwloc/4node.xml
# The same on two real NUMA nodes, in the lab (make lab-check LAB_TESTS=t-topology).
EXTRA_DIST += tests/lab/t-topology.sh

check_PROGRAMS += tests/test-proc-vms
tests_test_proc_vms_SOURCES = tests/test-proc-vms.c tests/tap.h tests/test-util.h
tests_test_proc_vms_LDADD = $(HOST_LIBS)
TESTS += tests/test-proc-vms

# The libvirt layer against libvirt's test driver, and the domain XML parsers.
check_PROGRAMS += tests/test-libvirt
tests_test_libvirt_SOURCES = tests/test-libvirt.c tests/tap.h
tests_test_libvirt_LDADD = $(HOST_LIBS)
TESTS += tests/test-libvirt

# Real libvirtd + a QEMU TCG domain (skipped with the reason when libvirtd cannot start).
dist_check_SCRIPTS += tests/test-libvirt-real.sh tests/libvirt-env.sh tests/test-libvirt-migrate.sh
TESTS += tests/test-libvirt-real.sh tests/test-libvirt-migrate.sh
EXTRA_DIST += tests/guest/init.sh tests/guest/memhog.c tests/fixtures/libvirt

# Fixture hosts: an hwloc topology.xml, hand-made /proc and the nodes' meminfo; the fd symlinks are
# listed in host-2node/fd-links and made by the test.
EXTRA_DIST += \
	tests/fixtures/host-2node \
	tests/fixtures/host-4node \
	tests/fixtures/host-sparse \
	tests/fixtures/host-flat
