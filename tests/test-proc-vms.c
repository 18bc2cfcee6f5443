/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /proc VM source: its parsers on strings, the real host's ports on a fixture tree
 * (tests/fixtures/host-2node: its hwloc topology.xml and nodes' meminfo, two QEMU-like VMs, a
 * process holding only /dev/kvm, a VM that exits mid-scan), id and run-time bookkeeping on a tree
 * the test rewrites, and a live scan that finds tests/fake-vmm (a process with a real KVM VM fd)
 * in this machine's /proc. */
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "host/host-memory.h"
#include "host/proc-vms.h"
#include "host/real-host.h"
#include "migrate/mover.h"
#include "tap.h"
#include "test-util.h"

#define UUID_A "c7a5fdbd-cdaf-9455-926a-d65c16db1809"

static const nv_vm_info *find_pid(const nv_inventory *inv, pid_t pid) {
        for (size_t i = 0; i < inv->nr_vms; i++)
                if (inv->vms[i].pid == pid)
                        return &inv->vms[i];
        return NULL;
}

static double total_time(const nv_vm_info *vm) {
        double sum = 0;
        for (unsigned i = 0; i < NV_MAX_NODES; i++)
                sum += vm->vcpu_time.sec[i];
        return sum;
}

/* ---- parsers ---- */

static void test_cmdline(void) {
        static const char libvirt[] = "qemu\0-name\0guest=db,,primary,debug-threads=on\0-uuid\0" UUID_A "\0";
        static const char plain[] = "qemu\0-name\0vm7,process=qemu-vm7\0-uuid\0not-a-uuid\0";
        static const char none[] = "qemu\0-m\0001024\0-name";
        char *name = NULL, uuid[37] = "x";

        is_int(nv_qemu_cmdline_parse(libvirt, sizeof(libvirt), &name, uuid), 0, "cmdline: libvirt's parses");
        is_str(name, "db,primary", "cmdline: guest= name with an escaped comma");
        is_str(uuid, UUID_A, "cmdline: -uuid read");
        free(name);

        is_int(nv_qemu_cmdline_parse(plain, sizeof(plain), &name, uuid), 0, "cmdline: a bare -name parses");
        is_str(name, "vm7", "cmdline: the implied guest key of the first item");
        is_str(uuid, "", "cmdline: an invalid uuid reads as empty");
        free(name);

        /* No NUL at the end, and -name as the very last argument without a value. */
        is_int(nv_qemu_cmdline_parse(none, sizeof(none) - 1, &name, uuid), 0, "cmdline: no -name parses");
        ok(name == NULL, "cmdline: no name without -name");
}

static void test_comm(void) {
        unsigned i = 99;

        is_int(nv_vcpu_comm_parse("CPU 0/KVM\n", &i), 0, "comm: 'CPU 0/KVM' is a vCPU");
        is_int(i, 0, "comm: vCPU index 0");
        is_int(nv_vcpu_comm_parse("CPU 12/TCG", &i), 0, "comm: 'CPU 12/TCG' is a vCPU");
        is_int(i, 12, "comm: vCPU index 12");
        ok(nv_vcpu_comm_parse("CPU 1/KVMx", &i) < 0, "comm: a suffix after KVM is not a vCPU");
        ok(nv_vcpu_comm_parse("IO mon_iothread\n", &i) < 0, "comm: an I/O thread is not a vCPU");
        ok(nv_vcpu_comm_parse("CPU /KVM", &i) < 0, "comm: no index is not a vCPU");
        ok(nv_vcpu_comm_parse("CPU 99999/KVM", &i) < 0, "comm: an absurd index is refused");
}

static void test_stat(void) {
        nv_proc_stat st;
        const char *odd = "77 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 "
                          "26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41\n";

        is_int(nv_proc_stat_parse(odd, &st), 0, "stat: a comm with spaces and parentheses parses");
        is_str(st.comm, "a) b (c", "stat: comm up to the last ')'");
        is_u64(st.utime, 11, "stat: field 14 (utime)");
        is_u64(st.stime, 12, "stat: field 15 (stime)");
        is_u64(st.starttime, 19, "stat: field 22 (starttime)");
        is_int(st.processor, 36, "stat: field 39 (processor)");
        ok(nv_proc_stat_parse("77 (short) S 1 2 3\n", &st) < 0, "stat: a truncated line is refused");
        ok(nv_proc_stat_parse("garbage", &st) < 0, "stat: no comm is refused");
}

#define VMA(range, perms, path, kps, rss, ahp, flags)                                       \
        range " " perms " 00000000 00:00 0 " path "\nKernelPageSize: " kps " kB\nRss: " rss \
              " kB\nAnonHugePages: " ahp " kB\nVmFlags: " flags "\n"

static void test_smaps(void) {
        const char *text = VMA("7e0000000000-7e0020000000", "rw-s", "/memfd:memory-backend-memfd (deleted)",
                               "4", "524288", "0", "rd wr sh")
                VMA("7e0040000000-7e0080000000", "rw-s", "/dev/hugepages/vm (deleted)", "2048", "0", "0",
                    "rd wr sh ht") VMA("7e0100000000-7e0180000000", "rw-s", "/dev/hugepages1G/vm", "1048576",
                                       "0", "0", "rd wr sh ht")
                        VMA("7e0200000000-7e0204000000", "rw-p", "", "4", "65536", "20480", "rd wr lo")
                                VMA("7e0300001000-7e0304001000", "rw-p", "", "4", "65536", "65536", "rd wr")
                                        VMA("7e0400000000-7e0404000000", "rw-s", "/dev/zero (deleted)", "4",
                                            "0", "0", "rd wr sh") VMA("7e0500000000-7e0504000000", "rw-p",
                                                                      "", "4", "0", "0", "rd wr");
        nv_ram_range *r = NULL;
        size_t n = 0;
        uint64_t locked = 0;

        if (!is_int(nv_smaps_parse(text, &r, &n, &locked), 0, "smaps: parses"))
                return;
        if (is_int(n, 6, "smaps: six candidates (shared anonymous memory is not RAM)")) {
                is_str(nv_backing_to_string(r[0].backing), "shared", "smaps: a memfd is shared");
                is_u64(r[0].size, 512 * MIB, "smaps: the memfd's size");
                is_str(nv_backing_to_string(r[1].backing), "hugetlb", "smaps: 2 MiB pages are hugetlb");
                is_str(nv_backing_to_string(r[2].backing), "pinned", "smaps: 1 GiB pages are never moved");
                is_str(nv_backing_to_string(r[3].backing), "anon",
                       "smaps: anon with a minority of huge pages is anon");
                is_str(nv_backing_to_string(r[4].backing), "anon",
                       "smaps: anon not 2 MiB aligned is anon, even all huge");
                is_str(nv_backing_to_string(r[5].backing), "anon", "smaps: untouched anon is anon");
                is_int(r[5].cell, -1, "smaps: the cell is unknown");
        }
        is_u64(locked, 64 * MIB, "smaps: the mlock()ed VMA's size is counted");
        free(r);

        r = NULL;
        is_int(nv_smaps_parse(VMA("7f0000000000-7f0010000000", "rw-p", "", "4", "262144", "131072", "rd wr"),
                              &r, &n, NULL),
               0, "smaps: a half-huge range parses");
        ok(n == 1 && r[0].backing == NV_BACKING_THP, "smaps: anon with half of it in huge pages is thp");
        free(r);

        r = NULL;
        is_int(nv_smaps_parse("", &r, &n, &locked), 0, "smaps: empty text parses");
        ok(n == 0 && locked == 0, "smaps: empty text holds no ranges");
        free(r);
        r = NULL;
        ok(nv_smaps_parse("7f00-7e00 rw-p 0 0:0 0\n", &r, &n, NULL) < 0,
           "smaps: an inverted VMA is refused");
}

static void test_status(void) {
        ok(!nv_status_says_pinned("VmLck:\t0 kB\nVmPin:\t0 kB\n", 0),
           "status: nothing locked is not pinned");
        ok(nv_status_says_pinned("VmLck:\t0 kB\nVmPin:\t4 kB\n", 0), "status: VmPin > 0 is pinned");
        ok(!nv_status_says_pinned("VmLck:\t65536 kB\nVmPin:\t0 kB\n", 64 * MIB),
           "status: VmLck explained by mlock()ed VMAs is not pinned");
        ok(nv_status_says_pinned("VmLck:\t131072 kB\nVmPin:\t0 kB\n", 64 * MIB),
           "status: VmLck beyond the mlock()ed VMAs is pinned (VFIO type1)");
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void rm_tree(const char *dir) {
        (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A writable copy of a fixture tree, with the fd symlinks its fd-links file lists. */
static char *fixture_copy(const char *name) {
        char *dir = strdup("/tmp/numavd-fixture-XXXXXX"), *cmd = NULL, *links = NULL;
        char line[512];
        FILE *f;

        if (!dir || !mkdtemp(dir))
                abort();
        if (asprintf(&cmd, "cp -R '%s/tests/fixtures/%s/.' '%s'", tap_top_srcdir(), name, dir) < 0 ||
            system(cmd) != 0 || asprintf(&links, "%s/fd-links", dir) < 0)
                abort();
        f = fopen(links, "re");
        if (!f)
                abort();
        while (fgets(line, sizeof(line), f)) {
                char target[256], *path = NULL;
                int pid, fd;

                if (line[0] == '#' || sscanf(line, "%d %d %255s", &pid, &fd, target) != 3)
                        continue;
                if (asprintf(&path, "%s/proc/%d/fd/%d", dir, pid, fd) < 0 || symlink(target, path) < 0)
                        abort();
                free(path);
        }
        fclose(f);
        free(cmd);
        free(links);
        return dir;
}

/* ---- the fixture host ---- */

static void test_fixture_host(void) {
        _cleanup_free_ char *root = NULL, *xml = NULL;
        nv_inventory inv = {};
        const nv_vm_info *a, *b;
        nv_host h = {};
        uint64_t id_a = 0, id_b = 0;
        nv_real_host_params p;

        root = fixture_copy("host-2node");
        if (asprintf(&xml, "%s/topology.xml", root) < 0)
                abort();
        p = (nv_real_host_params){ .root = root, .topology_xml = xml, .use_proc = true };
        if (!is_int(nv_real_host_new(&p, &h), 0,
                    "fixture: the real host opens on the fixture root and its XML")) {
                rm_tree(root);
                return;
        }
        is_str(h.kind, "real", "fixture: kind is real");
        ok(h.access == NULL, "fixture: no access sampler yet");
        ok(h.mover == &nv_move_pages_ops, "fixture: move_pages(2) moves pages");
        ok(h.source && h.source->refresh && h.destroy, "fixture: a VM source and a destructor");
        if (is_int((int)h.nr_access_backends, 2, "fixture: two access backends to open on demand")) {
                is_str(h.access_backends[0].name, "kmod", "fixture: Backend=auto tries kmod first");
                is_str(h.access_backends[1].name, "damon", "fixture: then damon");
        }
        ok(h.counters && h.counters->proc_root &&
                   strcmp(h.counters->proc_root + strlen(root), "/proc") == 0 &&
                   strncmp(h.counters->proc_root, root, strlen(root)) == 0,
           "fixture: per-VM counters read under the fixture's /proc");
        ok(!h.balloon && !h.ksm, "fixture: no balloon or KSM port unless asked for");
        if (ok(h.memory, "fixture: a host memory port")) {
                nv_host_memory mem = {};

                is_int(h.memory(h.ctx, &mem), 0, "fixture: the host memory is read");
                is_u64(mem.total_bytes, UINT64_C(16384000) * KIB, "fixture: MemTotal");
                is_u64(mem.available_bytes, UINT64_C(4096000) * KIB, "fixture: MemAvailable");
                is_near(mem.psi_some_avg10, 1.5, 1e-9, "fixture: memory PSI some avg10");
                is_near(mem.psi_full_avg10, 0.25, 1e-9, "fixture: memory PSI full avg10");
        }

        if (!is_int(h.source->refresh(h.ctx, &inv), 0, "fixture: the first refresh succeeds"))
                goto out;
        is_int(inv.nr_nodes, 2, "fixture: two nodes");
        is_u64(inv.nodes[1].free_bytes, 6 * GIB, "fixture: node 1's free memory");
        is_int(inv.distance[0][1], 21, "fixture: distances");
        is_int(inv.nr_vms, 2, "fixture: two VMs (not /dev/kvm alone, not one that exited)");

        a = find_pid(&inv, 4242);
        if (ok(a, "fixture: the named QEMU is found")) {
                id_a = a->id;
                is_str(a->name, "web,1", "fixture: the name from -name guest=");
                is_str(a->uuid, UUID_A, "fixture: the uuid from -uuid");
                is_int(a->nr_vcpus, 2, "fixture: two vCPU threads");
                is_near(a->vcpu_time.sec[0], 3.0, 1e-9,
                        "fixture: CPU 0/KVM's 3 s on CPU 2 count for node 0");
                is_near(a->vcpu_time.sec[1], 1.5, 1e-9,
                        "fixture: CPU 1/KVM's 1.5 s on CPU 3 count for node 1");
                if (is_int(a->nr_ranges, 2, "fixture: two RAM ranges (the big anon and the THP one)")) {
                        is_u64(a->ranges[0].hva, UINT64_C(0x7f0000000000), "fixture: range 0's address");
                        is_u64(a->ranges[0].size, 256 * MIB, "fixture: range 0 is 256 MiB");
                        is_int(a->ranges[0].backing, NV_BACKING_ANON, "fixture: range 0 is anon");
                        is_u64(a->ranges[0].gpa, 0, "fixture: range 0 starts at gpa 0");
                        is_int(a->ranges[0].cell, -1, "fixture: no vNUMA cell");
                        is_u64(a->ranges[1].size, 64 * MIB, "fixture: range 1 is 64 MiB");
                        is_int(a->ranges[1].backing, NV_BACKING_THP, "fixture: range 1 is thp");
                        is_u64(a->ranges[1].gpa, 256 * MIB, "fixture: range 1 follows range 0 in gpa");
                }
        }

        b = find_pid(&inv, 4400);
        if (ok(b, "fixture: the unnamed VFIO QEMU is found")) {
                id_b = b->id;
                is_str(b->name, "qemu-system-x86-4400", "fixture: without -name, COMM-PID");
                is_str(b->uuid, "", "fixture: no uuid");
                is_int(b->nr_vcpus, 1, "fixture: one vCPU");
                is_near(b->vcpu_time.sec[1], 2.0, 1e-9, "fixture: its 2 s on CPU 1 count for node 1");
                is_int(b->nr_ranges, 3, "fixture: memfd, hugetlb and anon RAM");
                for (size_t i = 0; i < b->nr_ranges; i++)
                        is_int(b->ranges[i].backing, NV_BACKING_PINNED,
                               "fixture: with VmPin > 0, range %zu is pinned", i);
                is_u64(nv_vm_ram_bytes(b), 1664 * MIB, "fixture: 1664 MiB of RAM");
                if (b->nr_ranges == 3)
                        is_u64(b->ranges[2].gpa, 1536 * MIB, "fixture: gpa is laid out in address order");
        }
        ok(id_a != id_b && id_a > 0 && id_b > 0, "fixture: distinct nonzero ids");

        nv_inventory_clear(&inv);
        if (is_int(h.source->refresh(h.ctx, &inv), 0, "fixture: the second refresh succeeds")) {
                a = find_pid(&inv, 4242);
                ok(a && a->id == id_a, "fixture: the id of 4242 is stable");
                ok(a && total_time(a) == 0, "fixture: no run time since the first refresh");
                b = find_pid(&inv, 4400);
                ok(b && b->id == id_b, "fixture: the id of 4400 is stable");
        }
        nv_inventory_clear(&inv);

        /* A reload that changes Sources=: refused without an event loop for libvirt (the old
         * sources stay), applied for /proc. */
        is_int(nv_real_host_set_sources(&h, false, true, NULL), 0, "sources: the same ones change nothing");
        is_int(nv_real_host_set_sources(&h, true, true, "test:///default"), -EINVAL,
               "sources: libvirt without an event loop is refused");
        if (is_int(h.source->refresh(h.ctx, &inv), 0, "sources: a refresh after the refusal"))
                is_int(inv.nr_vms, 2, "sources: the old ones are still in force");
        nv_inventory_clear(&inv);
        is_int(nv_real_host_set_sources(&h, false, false, NULL), 1, "sources: /proc switched off");
        if (is_int(h.source->refresh(h.ctx, &inv), 0, "sources: a refresh with no source"))
                is_int(inv.nr_vms, 0, "sources: no VM without a source");
        nv_inventory_clear(&inv);
        is_int(nv_real_host_set_sources(&h, false, true, NULL), 1, "sources: /proc switched on again");
        if (is_int(h.source->refresh(h.ctx, &inv), 0, "sources: a refresh with /proc again")) {
                a = find_pid(&inv, 4242);
                ok(a && a->id != id_a, "sources: 4242 is back, as a new VM (it was forgotten meanwhile)");
        }
        nv_inventory_clear(&inv);
out:
        nv_host_destroy(&h);
        rm_tree(root);
}

/* ---- ids and run-time deltas on a tree we rewrite ---- */

static void put(const char *dir, const char *rel, const char *fmt, ...) _printf_(3, 4);
static void put(const char *dir, const char *rel, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        va_list ap;
        FILE *f;

        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                abort();
        for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                (void)mkdir(path, 0755);
                *p = '/';
        }
        f = fopen(path, "we");
        if (!f)
                abort();
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
}

static const char *stat_line(pid_t pid, const char *comm, unsigned long long starttime, int cpu) {
        static char buf[512];
        snprintf(buf, sizeof(buf),
                 "%d (%s) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 %llu 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 %d 0 "
                 "0\n",
                 (int)pid, comm, starttime, cpu);
        return buf;
}

/* One VM, pid 100, started at `starttime`, its vCPU having run `ns` on CPU `cpu`. */
static void put_vm(const char *dir, unsigned long long starttime, unsigned long long ns, int cpu) {
        _cleanup_free_ char *fd = NULL;

        put(dir, "proc/100/stat", "%s", stat_line(100, "vmm", starttime, 0));
        put(dir, "proc/100/cmdline", "vmm");
        put(dir, "proc/100/status", "VmLck:\t0 kB\nVmPin:\t0 kB\n");
        put(dir, "proc/100/smaps", "7f0000000000-7f0008000000 rw-p 00000000 00:00 0\nRss: 0 kB\n");
        put(dir, "proc/100/task/101/comm", "CPU 0/KVM\n");
        put(dir, "proc/100/task/101/stat", "%s", stat_line(101, "CPU 0/KVM", starttime, cpu));
        put(dir, "proc/100/task/101/schedstat", "%llu 0 0\n", ns);
        if (asprintf(&fd, "%s/proc/100/fd/3", dir) < 0)
                abort();
        (void)unlink(fd);
        put(dir, "proc/100/fd/.keep", "%s", "");
        if (symlink("anon_inode:kvm-vm", fd) < 0)
                abort();
}

static int scan(nv_proc_vms *s, const nv_topology *topo, nv_inventory *inv) {
        nv_inventory_clear(inv);
        return nv_proc_vms_scan(s, topo, inv);
}

static void test_ids_and_deltas(void) {
        _cleanup_free_ char *topo_root = NULL, *topo_xml = NULL, *vm_dir = NULL;
        _cleanup_(nv_proc_vms_freep) nv_proc_vms *s = NULL;
        char dir[] = "/tmp/test-proc-vms.XXXXXX";
        nv_topology topo = {};
        nv_inventory inv = {};
        uint64_t first, second;

        if (asprintf(&topo_root, "%s/tests/fixtures/host-2node", tap_top_srcdir()) < 0 ||
            asprintf(&topo_xml, "%s/topology.xml", topo_root) < 0 || !mkdtemp(dir))
                abort();
        if (!is_int(nv_topology_load(topo_root, topo_xml, NULL, &topo), 0, "ids: the topology loads")) {
                rm_tree(dir);
                return;
        }
        is_int(nv_proc_vms_new(dir, &s), 0, "ids: a source on a temporary tree");

        put_vm(dir, 1000, 2000000000ull, 1);
        if (is_int(scan(s, &topo, &inv), 0, "ids: first scan") && is_int(inv.nr_vms, 1, "ids: one VM")) {
                first = inv.vms[0].id;
                is_near(inv.vms[0].vcpu_time.sec[1], 2.0, 1e-9, "ids: the first scan counts all run time");
                is_str(inv.vms[0].name, "vmm-100", "ids: COMM-PID without -name");
                is_u64(nv_vm_ram_bytes(&inv.vms[0]), 128 * MIB, "ids: 128 MiB of RAM");
        } else
                goto out;

        put_vm(dir, 1000, 2500000000ull, 0);
        if (is_int(scan(s, &topo, &inv), 0, "ids: second scan") && inv.nr_vms == 1) {
                is_u64(inv.vms[0].id, first, "ids: the same process keeps its id");
                is_near(inv.vms[0].vcpu_time.sec[0], 0.5, 1e-9,
                        "ids: the delta goes to the node of the last CPU");
                is_near(inv.vms[0].vcpu_time.sec[1], 0.0, 1e-9, "ids: nothing for the previous node");
        }

        /* The pid now belongs to a new process: a later start time. */
        put_vm(dir, 5000, 100000000ull, 0);
        if (is_int(scan(s, &topo, &inv), 0, "ids: scan after a restart") && inv.nr_vms == 1) {
                second = inv.vms[0].id;
                ok(second != first, "ids: a new process behind the same pid gets a new id");
                is_near(inv.vms[0].vcpu_time.sec[0], 0.1, 1e-9,
                        "ids: the new process's run time counts whole");
        } else
                goto out;

        if (asprintf(&vm_dir, "%s/proc/100", dir) < 0)
                abort();
        rm_tree(vm_dir);
        if (is_int(scan(s, &topo, &inv), 0, "ids: scan after the VM exited"))
                is_int(inv.nr_vms, 0, "ids: an exited VM is no longer listed");

        put_vm(dir, 1000, 2000000000ull, 1);
        if (is_int(scan(s, &topo, &inv), 0, "ids: scan after the first process came back") &&
            inv.nr_vms == 1)
                ok(inv.vms[0].id != first && inv.vms[0].id != second, "ids: ids are never reused");

        put(dir, "proc/100/task/101/schedstat", "%llu 0 0\n", 1000000000ull);
        if (is_int(scan(s, &topo, &inv), 0, "ids: scan with less run time") && inv.nr_vms == 1)
                is_near(total_time(&inv.vms[0]), 1.0, 1e-9, "ids: a reused tid counts from its start");

out:
        nv_inventory_clear(&inv);
        nv_topology_done(&topo);
        rm_tree(dir);
}

/* ---- a live VMM in this machine's /proc ---- */

/* Start fake-vmm with a QEMU-like command line; its pid, 0 when KVM is not usable, -1 on failure. */
static pid_t spawn_fake_vmm(void) {
        char *argv[] = { NULL,
                         (char *)"-m",
                         (char *)"96M",
                         (char *)"-c",
                         (char *)"2",
                         (char *)"-name",
                         (char *)"guest=fake-live,debug-threads=on",
                         (char *)"-uuid",
                         (char *)UUID_A,
                         NULL };

        return test_spawn_fake_vmm(argv);
}

static void test_live(void) {
        nv_inventory inv = {};
        const nv_vm_info *vm;
        nv_host h = {};
        uint64_t id = 0;
        bool found_ram = false;
        double t = 0;
        pid_t pid;

        if (access("/dev/kvm", F_OK) < 0) {
                ok(true, "live: fake-vmm # SKIP /dev/kvm is missing");
                return;
        }
        pid = spawn_fake_vmm();
        if (pid == 0) {
                ok(true, "live: fake-vmm # SKIP KVM is not usable here");
                return;
        }
        if (!ok(pid > 0, "live: fake-vmm starts and reports ready"))
                return;
        if (!is_int(nv_real_host_new(&(nv_real_host_params){ .use_proc = true }, &h), 0,
                    "live: the real host opens on /"))
                goto kill;

        if (!is_int(h.source->refresh(h.ctx, &inv), 0, "live: the first refresh succeeds"))
                goto out;
        vm = find_pid(&inv, pid);
        if (!ok(vm, "live: the scan finds fake-vmm (pid %d) by its KVM VM fd", (int)pid))
                goto out;
        id = vm->id;
        is_str(vm->name, "fake-live", "live: the name from its command line");
        is_str(vm->uuid, UUID_A, "live: the uuid from its command line");
        is_int(vm->nr_vcpus, 2, "live: its two 'CPU n/KVM' threads");
        for (size_t i = 0; i < vm->nr_ranges; i++)
                if (vm->ranges[i].size == 96 * MIB && vm->ranges[i].backing == NV_BACKING_ANON)
                        found_ram = true;
        ok(found_ram, "live: a 96 MiB anonymous RAM range among its %zu ranges", vm->nr_ranges);

        /* The vCPU threads run every millisecond; give them a moment between two refreshes. */
        for (unsigned tries = 0; tries < 100 && t == 0; tries++) {
                const struct timespec nap = { .tv_nsec = 20 * 1000 * 1000 };

                nanosleep(&nap, NULL);
                nv_inventory_clear(&inv);
                if (h.source->refresh(h.ctx, &inv) < 0)
                        break;
                vm = find_pid(&inv, pid);
                t = vm ? total_time(vm) : 0;
                if (vm && vm->id != id)
                        break;
        }
        ok(vm && vm->id == id, "live: the id is stable across refreshes");
        ok(t > 0, "live: vCPU run time since the previous refresh is nonzero (%g s)", t);

        kill(pid, SIGTERM);
        (void)waitpid(pid, NULL, 0);
        pid = 0;
        nv_inventory_clear(&inv);
        if (is_int(h.source->refresh(h.ctx, &inv), 0, "live: the refresh after its exit succeeds"))
                ok(!nv_inventory_find(&inv, id), "live: the exited VMM is no longer listed");
out:
        nv_inventory_clear(&inv);
        nv_host_destroy(&h);
kill:
        if (pid > 0) {
                kill(pid, SIGTERM);
                (void)waitpid(pid, NULL, 0);
        }
}

static void write_str(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

/* /proc/meminfo and the memory PSI: malformed files are errors and leave the outputs untouched. */
static void test_host_memory(void) {
        char dir[] = "/tmp/numavd-meminfo-XXXXXX";
        _cleanup_free_ char *proc = NULL, *meminfo = NULL, *pressure = NULL, *psi = NULL;
        uint64_t total = 7, avail = 7;
        double some = 7, full = 7;
        nv_host_memory mem = { .total_bytes = 7 };

        if (!mkdtemp(dir) || asprintf(&proc, "%s/proc", dir) < 0 ||
            asprintf(&meminfo, "%s/meminfo", proc) < 0 || asprintf(&pressure, "%s/pressure", proc) < 0 ||
            asprintf(&psi, "%s/memory", pressure) < 0 || mkdir(proc, 0755) < 0 || mkdir(pressure, 0755) < 0)
                abort();
        is_int(nv_read_meminfo(dir, &total, &avail), -ENOENT, "meminfo: no file, -ENOENT");
        is_int(nv_read_host_memory(dir, &mem), -ENOENT, "host memory: no meminfo, -ENOENT");
        write_str(meminfo, "MemTotal:       1024 kB\nMemFree:         512 kB\n");
        is_int(nv_read_meminfo(dir, &total, &avail), -EBADMSG, "meminfo: no MemAvailable, -EBADMSG");
        ok(total == 7 && avail == 7, "meminfo: failed reads leave the outputs untouched");
        write_str(meminfo, "MemTotal:       1024 kB\nMemAvailable:     256 kB\n");
        is_int(nv_read_host_memory(dir, &mem), 0, "host memory: meminfo without PSI is enough");
        ok(mem.total_bytes == 1024 * KIB && mem.available_bytes == 256 * KIB && mem.psi_some_avg10 < 0 &&
                   mem.psi_full_avg10 < 0,
           "host memory: PSI unknown (-1) without /proc/pressure/memory");
        write_str(psi, "some avg=1\n");
        is_int(nv_read_memory_psi(dir, &some, &full), -EBADMSG, "PSI: no some avg10, -EBADMSG");
        ok(some == 7 && full == 7, "PSI: failed reads leave the outputs untouched");
        write_str(psi, "some avg10=3.00 avg60=0 avg300=0 total=0\n");
        is_int(nv_read_memory_psi(dir, &some, &full), 0, "PSI: a kernel without the full line");
        ok(some == 3.0 && full < 0, "PSI: some read, full unknown");
        unlink(psi);
        unlink(meminfo);
        rmdir(pressure);
        rmdir(proc);
        rmdir(dir);
}

int main(void) {
        log_set_max_level(LOG_CRIT); /* failure cases log on purpose */

        test_cmdline();
        test_comm();
        test_stat();
        test_smaps();
        test_status();
        test_host_memory();
        test_fixture_host();
        test_ids_and_deltas();
        test_live();
        return tap_done();
}
