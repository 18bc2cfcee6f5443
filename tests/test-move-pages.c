/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real mover port, move_pages(2) through libnuma, against a real child process, both directly
 * and through the executor. */
#include <fcntl.h>
#include <numa.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "common/log.h"
#include "migrate/mover.h"
#include "tap.h"

#define AREA     (32 * MIB)
#define NR_PAGES (AREA / NV_PAGE_SIZE)

/* Child: map AREA plus two pages, touch AREA, leave the next page untouched and unmap the last
 * one; report the address and block until the pipe closes. */
static void child_main(int report_fd, int block_fd) {
        uint64_t base;
        char c;
        char *p = mmap(NULL, AREA + 2 * NV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);

        if (p == MAP_FAILED)
                _exit(1);
        (void)madvise(p, AREA + 2 * NV_PAGE_SIZE, MADV_NOHUGEPAGE);
        for (uint64_t off = 0; off < AREA; off += NV_PAGE_SIZE)
                p[off] = 1;
        if (munmap(p + AREA + NV_PAGE_SIZE, NV_PAGE_SIZE) < 0)
                _exit(1);
        base = (uint64_t)(uintptr_t)p;
        if (write(report_fd, &base, sizeof(base)) != sizeof(base))
                _exit(1);
        while (read(block_fd, &c, 1) > 0)
                ;
        _exit(0);
}

static int spawn_child(pid_t *ret_pid, int *ret_block_fd, uint64_t *ret_base) {
        int report[2], block[2];
        uint64_t base;
        pid_t pid = 0;

        if (pipe2(report, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(block, O_CLOEXEC) < 0) {
                close(report[0]);
                close(report[1]);
                return -errno;
        }
        pid = fork();
        if (pid < 0) {
                close(report[0]);
                close(report[1]);
                close(block[0]);
                close(block[1]);
                return -errno;
        }
        if (pid == 0) {
                close(report[0]);
                close(block[1]);
                child_main(report[1], block[0]);
        }
        close(report[1]);
        close(block[0]);
        if (read(report[0], &base, sizeof(base)) != sizeof(base)) {
                close(report[0]);
                close(block[1]);
                (void)waitpid(pid, NULL, 0);
                return -EIO;
        }
        close(report[0]);
        *ret_pid = pid;
        *ret_block_fd = block[1];
        *ret_base = base;
        return 0;
}

int main(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        static uint64_t addrs[NR_PAGES];
        static int status[NR_PAGES], nodes[NR_PAGES];
        nv_vm_info vm = { .id = 1 };
        nv_move_result res;
        uint64_t base = 0, bad_addrs[2];
        int block_fd = -EBADF, bad_status[2], r, max_node = numa_max_node();
        size_t on0 = 0, sane = 0;
        pid_t pid = 0;

        log_set_max_level(LOG_ERR);

        /* Is move_pages(2) there at all? Query one page of our own. */
        addrs[0] = (uint64_t)(uintptr_t)&addrs[0] & ~(NV_PAGE_SIZE - 1);
        r = nv_move_pages_ops.move_pages(NULL, &vm, 1, addrs, NULL, status);
        if (r == -ENOSYS)
                return tap_skip_all("move_pages(2) is not available (ENOSYS)");
        is_int(r, 0, "query of one of our own pages works");

        r = spawn_child(&pid, &block_fd, &base);
        if (!is_int(r, 0, "child with a 32 MiB touched mapping started"))
                return tap_done();
        vm.pid = pid;

        /* Query: every touched page is on some configured node; this host's only node is 0. */
        for (size_t i = 0; i < NR_PAGES; i++)
                addrs[i] = base + i * NV_PAGE_SIZE;
        is_int(nv_move_pages_ops.move_pages(NULL, &vm, NR_PAGES, addrs, NULL, status), 0,
               "query of the child's 8192 pages succeeds");
        for (size_t i = 0; i < NR_PAGES; i++) {
                on0 += status[i] == 0;
                sane += status[i] >= 0 && status[i] <= max_node;
        }
        is_u64(sane, NR_PAGES, "every page reports a node between 0 and %d", max_node);
        if (max_node == 0)
                is_u64(on0, NR_PAGES, "on a one-node host, every page is on node 0");

        /* Move every page to node 0 through the port itself. */
        for (size_t i = 0; i < NR_PAGES; i++)
                nodes[i] = 0;
        is_int(nv_move_pages_ops.move_pages(NULL, &vm, NR_PAGES, addrs, nodes, status), 0,
               "direct move of all pages to node 0 succeeds");
        on0 = 0;
        for (size_t i = 0; i < NR_PAGES; i++)
                on0 += status[i] == 0 || status[i] == -EBUSY;
        is_u64(on0, NR_PAGES, "after a move to node 0, every page is on node 0 (or busy)");

        /* Through the executor. */
        is_int(nv_mover_new(&nv_move_pages_ops, NULL, 1 * GIB, 1 * GIB, &m), 0, "mover created");
        is_int(nv_mover_move_range(m, &vm, base, base + AREA, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "executor: moving the child's area to node 0 succeeds");
        is_u64(res.bytes_moved + res.bytes_already + res.bytes_failed, AREA,
               "executor: every byte is accounted for");
        is_u64(res.bytes_failed, 0, "executor: no byte failed");
        if (max_node == 0)
                is_u64(res.bytes_already, AREA, "executor: one node: all bytes were on node 0 already");
        ok(nv_mover_get_stats(m)->calls >= NR_PAGES / NV_MOVER_BATCH_PAGES,
           "executor: the area was queried in batches");

        /* A node that does not exist: the whole call fails, nothing moves. */
        nodes[0] = max_node + 1;
        r = nv_move_pages_ops.move_pages(NULL, &vm, 1, addrs, nodes, status);
        is_int(r, -EINVAL, "direct move to node %d (max + 1) gives -EINVAL", max_node + 1);
        uint64_t moved_before = nv_mover_get_stats(m)->bytes_moved, tokens_before = nv_mover_tokens(m);
        r = nv_mover_move_range(m, &vm, base, base + AREA, NV_PAGE_SHIFT, max_node + 1, UINT64_MAX, &res);
        is_int(r, -EINVAL, "executor: move to a node that does not exist gives -EINVAL");
        is_u64(nv_mover_get_stats(m)->bytes_moved, moved_before, "executor: nothing moved to a bad node");
        is_u64(nv_mover_tokens(m), tokens_before, "executor: tokens refunded after the bad node");
        nodes[0] = -1;
        is_int(nv_move_pages_ops.move_pages(NULL, &vm, 1, addrs, nodes, status), -EINVAL,
               "direct move to node -1 gives -EINVAL");

        /* An untouched page and an unmapped one. */
        bad_addrs[0] = base + AREA;
        bad_addrs[1] = base + AREA + NV_PAGE_SIZE;
        is_int(nv_move_pages_ops.move_pages(NULL, &vm, 2, bad_addrs, NULL, bad_status), 0,
               "query of an untouched and an unmapped page succeeds as a call");
        ok(bad_status[0] == -ENOENT || bad_status[0] == -EFAULT,
           "untouched page: -ENOENT or -EFAULT (got %d)", bad_status[0]);
        ok(bad_status[1] == -EFAULT || bad_status[1] == -ENOENT,
           "unmapped page: -EFAULT or -ENOENT (got %d)", bad_status[1]);
        is_int(nv_mover_move_range(m, &vm, base + AREA, base + AREA + 2 * NV_PAGE_SIZE, NV_PAGE_SHIFT, 0,
                                   UINT64_MAX, &res),
               0, "executor: range of absent pages succeeds");
        ok(res.bytes_moved == 0 && res.bytes_failed == 0 && res.bytes_already == 0,
           "executor: absent pages are skipped, not failed");

        /* The child exits: -ESRCH. */
        close(block_fd);
        (void)kill(pid, SIGKILL);
        is_int(waitpid(pid, NULL, 0), pid, "child reaped");
        is_int(nv_move_pages_ops.move_pages(NULL, &vm, 1, addrs, NULL, status), -ESRCH,
               "direct query after the child exited gives -ESRCH");
        is_int(nv_mover_move_range(m, &vm, base, base + AREA, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), -ESRCH,
               "executor: move after the child exited gives -ESRCH");

        return tap_done();
}
