#!/bin/sh
# lab: kernels=6.1 mem=1024 timeout=300
# The topology through hwloc on a kernel with two real NUMA nodes (CPUs 0-1 and 2-3): the unit test
# tests/test-topology, whose "this machine" checks compare what hwloc discovers (nodes, CPUs,
# distances, MemTotal) with the kernel's own sysfs, then numavd itself starting on the real host.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
for f in online node0/cpulist node1/cpulist node0/distance node1/distance; do
        echo "# /sys/devices/system/node/$f: $(cat /sys/devices/system/node/$f)"
done
"$B/tests/test-topology" >/tmp/topology.tap 2>&1
rc=$?
grep -E '^(not ok|#)' /tmp/topology.tap
ok $rc "tests/test-topology passes in a 2-node guest ($(grep -c '^ok' /tmp/topology.tap) checks)"
grep -q '^# hwloc discovered 2 node(s), 4 CPU(s)' /tmp/topology.tap
ok $? "hwloc discovers both nodes and the 4 CPUs"
printf '[Daemon]\nSources=proc\n' >/tmp/numavd.conf
"$B/numavd" --config=/tmp/numavd.conf --once --summary=json >/tmp/summary.json 2>/tmp/numavd.log
ok $? "numavd --once starts on the real host, its topology loaded through hwloc"
grep -i -e topology -e hwloc /tmp/numavd.log | sed 's/^/# numavd: /'
done_testing
