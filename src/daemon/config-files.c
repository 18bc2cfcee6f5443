/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/log.h"
#include "daemon/config-files.h"

/* A configuration file is small; refuse anything larger than this. */
#define CONFIG_FILE_MAX (4 * MIB)

typedef struct dropin {
        char *name;
        char *path; /* NULL when the name is masked */
} dropin;

char **nv_strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
        return NULL;
}

static bool is_null_device(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

int nv_config_read_file(const char *path, char **ret_text) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                return log_error_errno(-errno, "Cannot open %s: %m", path);
        }
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "Cannot stat %s: %m", path);
        if (is_null_device(&st)) {
                text = strdup("");
                if (!text)
                        return log_oom();
                *ret_text = TAKE_PTR(text);
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return log_error_errno(-EINVAL, "%s is not a regular file.", path);
        if ((uint64_t)st.st_size > CONFIG_FILE_MAX)
                return log_error_errno(-EFBIG, "%s is too large (more than 4M).", path);

        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return log_oom();
        /* Read up to the size seen; a file that grows meanwhile is cut there. */
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "Cannot read %s: %m", path);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (memchr(text, '\0', len))
                return log_error_errno(-EINVAL, "%s contains a NUL byte; not a text file.", path);
        text[len] = '\0';
        *ret_text = TAKE_PTR(text);
        return 0;
}

static bool is_conf_name(const char *name) {
        size_t n = strlen(name);
        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* Is dir/name a mask: a symlink to /dev/null, or the null device itself? Sets *ret_regular when
 * it is (or points to) a regular file. */
static int classify(int dfd, const char *name, bool *ret_masked, bool *ret_regular) {
        struct stat st;
        char target[PATH_MAX];

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
                if (n >= 0) {
                        target[n] = '\0';
                        if (strcmp(target, "/dev/null") == 0) {
                                *ret_masked = true;
                                *ret_regular = false;
                                return 0;
                        }
                }
                if (fstatat(dfd, name, &st, 0) < 0)
                        return -errno;
        }
        *ret_masked = is_null_device(&st);
        *ret_regular = S_ISREG(st.st_mode);
        return 0;
}

static bool dropin_seen(const dropin *l, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i].name, name) == 0)
                        return true;
        return false;
}

static int dropin_cmp(const void *a, const void *b) {
        return strcmp(((const dropin *)a)->name, ((const dropin *)b)->name);
}

static void dropins_free(dropin *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].name);
                free(l[i].path);
        }
        free(l);
}

/* Add the *.conf names of one directory that no earlier directory had. */
static int scan_dir(const char *dir, dropin **list, size_t *n) {
        _cleanup_close_ int dfd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = 0;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return log_error_errno(-errno, "Cannot open %s: %m", dir);
        }
        d = fdopendir(dfd);
        if (!d)
                return log_error_errno(-errno, "Cannot read %s: %m", dir);
        dfd = -EBADF; /* owned by d now */

        while ((errno = 0, de = readdir(d))) {
                bool masked, regular;
                dropin *l;

                if (!is_conf_name(de->d_name) || dropin_seen(*list, *n, de->d_name))
                        continue;
                r = classify(dirfd(d), de->d_name, &masked, &regular);
                if (r < 0) {
                        log_warning_errno(r, "Cannot stat %s/%s, ignoring: %m", dir, de->d_name);
                        r = 0;
                        continue;
                }
                if (!masked && !regular) {
                        log_warning("%s/%s is not a regular file, ignoring.", dir, de->d_name);
                        continue;
                }

                _cleanup_free_ char *name = strdup(de->d_name), *path = NULL;
                if (!name || (!masked && asprintf(&path, "%s/%s", dir, de->d_name) < 0)) {
                        path = NULL; /* undefined after a failed asprintf() */
                        r = log_oom();
                        break;
                }
                l = realloc(*list, (*n + 1) * sizeof(**list));
                if (!l) {
                        r = log_oom();
                        break;
                }
                *list = l;
                l[(*n)++] = (dropin){ .name = TAKE_PTR(name), .path = TAKE_PTR(path) };
        }
        if (r == 0 && errno != 0)
                r = log_error_errno(-errno, "Cannot read %s: %m", dir);
        closedir(d);
        return r;
}

int nv_config_list_dropins(const char *const *dirs, size_t n_dirs, char ***ret_paths) {
        dropin *list = NULL;
        size_t n = 0, k = 0;
        char **paths;
        int r;

        for (size_t i = 0; i < n_dirs; i++) {
                r = scan_dir(dirs[i], &list, &n);
                if (r < 0) {
                        dropins_free(list, n);
                        return r;
                }
        }
        if (n > 0)
                qsort(list, n, sizeof(*list), dropin_cmp);

        paths = calloc(n + 1, sizeof(*paths));
        if (!paths) {
                dropins_free(list, n);
                return log_oom();
        }
        for (size_t i = 0; i < n; i++)
                if (list[i].path) {
                        paths[k++] = list[i].path;
                        list[i].path = NULL;
                } else
                        log_debug("Drop-in %s is masked.", list[i].name);
        dropins_free(list, n);
        *ret_paths = paths;
        return 0;
}
