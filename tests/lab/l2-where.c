/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where an L2 guest's memory sits, seen from the L1 (tests/lab/t-l2.sh).
 *
 *   l2-where [-q] PID RAM_BYTES [RANGES]
 *
 * Finds the VMM's guest RAM, the one private anonymous read-write mapping of exactly RAM_BYTES in
 * /proc/PID/maps (QEMU's pc.ram: guest-physical address X is at its start + X), and asks
 * move_pages(2) which node holds each of its 4 KiB pages. RANGES is a file of lines
 * "LABEL FIRST_PFN PAGES" (guest frame numbers, e.g. from tests/lab/l2-touch); each label gets
 * its own count, and "other" counts the pages outside every range. Prints
 *
 *   ram base=0xADDR size=BYTES
 *   LABEL pages=N present=P node0=A node1=B ...
 *
 * for "all" (the whole RAM), "other" and each label. -q queries only the pages in RANGES (quick;
 * "all" then counts those). Exits 1 when the RAM is not found. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE       4096UL
#define MAX_LABELS 8
#define MAX_NODES  8
#define CHUNK      16384

typedef struct count {
        char name[32];
        uint64_t pages, present, node[MAX_NODES];
} count;

static int find_ram(pid_t pid, uint64_t size, uint64_t *ret_base) {
        char path[64], line[512];
        uint64_t base = 0;
        unsigned found = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                uint64_t start, end, off;
                char perms[5], dev[16];
                unsigned long inode;
                int pathpos = 0;

                if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %15s %lu %n", &start, &end, perms,
                           &off, dev, &inode, &pathpos) < 6)
                        continue;
                if (end - start != size || strcmp(perms, "rw-p") != 0 || inode != 0)
                        continue;
                if (pathpos > 0 && line[pathpos] != '\n' && line[pathpos] != '\0')
                        continue;
                base = start;
                found++;
        }
        fclose(f);
        if (found != 1)
                return found == 0 ? -ENOENT : -EEXIST;
        *ret_base = base;
        return 0;
}

/* Label index (1..) of each page from the RANGES file; 0 for none. */
static int read_ranges(const char *path, uint8_t *label, uint64_t pages, count *c, unsigned *nr) {
        char name[32];
        uint64_t pfn, n;
        FILE *f;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fscanf(f, "%31s %" SCNu64 " %" SCNu64, name, &pfn, &n) == 3) {
                unsigned l;

                for (l = 2; l < *nr; l++)
                        if (strcmp(c[l].name, name) == 0)
                                break;
                if (l == *nr) {
                        if (*nr >= MAX_LABELS) {
                                fclose(f);
                                return -E2BIG;
                        }
                        snprintf(c[l].name, sizeof(c[l].name), "%s", name);
                        (*nr)++;
                }
                for (uint64_t i = pfn; i < pfn + n && i < pages; i++)
                        label[i] = (uint8_t)l;
        }
        fclose(f);
        return 0;
}

static void add(count *c, int status) {
        c->pages++;
        if (status >= 0 && status < MAX_NODES) {
                c->present++;
                c->node[status]++;
        }
}

int main(int argc, char **argv) {
        count c[MAX_LABELS] = { { .name = "all" }, { .name = "other" } };
        unsigned nr = 2, nodes = 2;
        uint64_t size, base = 0, pages;
        static void *addr[CHUNK];
        static int status[CHUNK];
        static uint8_t lab[CHUNK];
        bool quick = false;
        uint8_t *label;
        uint64_t n = 0;
        pid_t pid;
        int r;

        if (argc > 1 && strcmp(argv[1], "-q") == 0) {
                quick = true;
                argc--;
                argv++;
        }
        if (argc < 3 || argc > 4 || (quick && argc != 4)) {
                fprintf(stderr, "usage: l2-where [-q] PID RAM_BYTES [RANGES]\n");
                return 2;
        }
        pid = (pid_t)atoi(argv[1]);
        size = strtoull(argv[2], NULL, 0);
        if (pid <= 0 || size == 0 || size % PAGE != 0) {
                fprintf(stderr, "l2-where: invalid PID or RAM_BYTES\n");
                return 2;
        }
        r = find_ram(pid, size, &base);
        if (r < 0) {
                fprintf(stderr,
                        "l2-where: no single rw-p anonymous mapping of %" PRIu64
                        " bytes in process %d: %s\n",
                        size, (int)pid, strerror(-r));
                return 1;
        }
        printf("ram base=0x%" PRIx64 " size=%" PRIu64 "\n", base, size);

        pages = size / PAGE;
        label = calloc(pages, 1);
        if (!label)
                return 1;
        if (argc == 4) {
                r = read_ranges(argv[3], label, pages, c, &nr);
                if (r < 0) {
                        fprintf(stderr, "l2-where: %s: %s\n", argv[3], strerror(-r));
                        return 1;
                }
        }

        for (uint64_t p = 0; p <= pages; p++) {
                if (p < pages && (!quick || label[p] != 0)) {
                        addr[n] = (void *)(uintptr_t)(base + p * PAGE);
                        lab[n++] = label[p];
                }
                if (n == 0 || (n < CHUNK && p < pages))
                        continue;
                if (syscall(SYS_move_pages, pid, (unsigned long)n, addr, NULL, status, 0) < 0) {
                        fprintf(stderr, "l2-where: move_pages: %s\n", strerror(errno));
                        return 1;
                }
                for (uint64_t i = 0; i < n; i++) {
                        add(&c[0], status[i]);
                        add(&c[lab[i] == 0 ? 1 : lab[i]], status[i]);
                        if (status[i] >= 0 && status[i] < MAX_NODES && (unsigned)status[i] + 1 > nodes)
                                nodes = (unsigned)status[i] + 1;
                }
                n = 0;
        }

        for (unsigned l = 0; l < nr; l++) {
                printf("%s pages=%" PRIu64 " present=%" PRIu64, c[l].name, c[l].pages, c[l].present);
                for (unsigned k = 0; k < nodes; k++)
                        printf(" node%u=%" PRIu64, k, c[l].node[k]);
                printf("\n");
        }
        free(label);
        return 0;
}
