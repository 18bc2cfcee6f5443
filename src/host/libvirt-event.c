/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <libvirt/libvirt.h>

#include "common/log.h"
#include "host/libvirt-event.h"

/* One libvirt handle or timeout. Watch ids are positive and never reused. */
typedef struct lv_watch {
        int id;
        bool is_timeout;
        int fd;
        int interval_ms; /* timeouts: -1 disabled, 0 every iteration, > 0 period */
        sd_event_source *source;
        virEventHandleCallback handle_cb;
        virEventTimeoutCallback timeout_cb;
        void *opaque;
        virFreeCallback ff;
        struct lv_watch *next;
} lv_watch;

static sd_event *lv_event;
static lv_watch *lv_watches;
static int lv_next_id = 1;
static unsigned lv_count;

unsigned nv_libvirt_event_count(void) {
        return lv_count;
}

static lv_watch *find_watch(int id, bool is_timeout) {
        for (lv_watch *w = lv_watches; w; w = w->next)
                if (w->id == id && w->is_timeout == is_timeout)
                        return w;
        return NULL;
}

static uint32_t to_epoll(int events) {
        return (events & VIR_EVENT_HANDLE_READABLE ? EPOLLIN : 0) |
               (events & VIR_EVENT_HANDLE_WRITABLE ? EPOLLOUT : 0);
}

static int from_epoll(uint32_t revents) {
        return (revents & EPOLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
               (revents & EPOLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
               (revents & EPOLLERR ? VIR_EVENT_HANDLE_ERROR : 0) |
               (revents & EPOLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        lv_watch *w = userdata;

        w->handle_cb(w->id, fd, from_epoll(revents), w->opaque);
        return 0;
}

static int on_time(sd_event_source *s, uint64_t usec, void *userdata) {
        lv_watch *w = userdata;
        int id = w->id;
        uint64_t now;

        /* Re-arm before the callback, which may update or remove this very timeout. */
        (void)sd_event_now(lv_event, CLOCK_MONOTONIC, &now);
        (void)sd_event_source_set_time(s, now + (uint64_t)w->interval_ms * 1000);
        w->timeout_cb(id, w->opaque);
        return 0;
}

/* libvirt forbids calling ff from within its remove call (its locks are held): free later. */
static int on_release(sd_event_source *s, void *userdata) {
        lv_watch *w = userdata;

        if (w->ff)
                w->ff(w->opaque);
        sd_event_source_disable_unref(w->source);
        free(w);
        sd_event_source_disable_unref(s);
        return 0;
}

static int release_later(lv_watch *w) {
        sd_event_source *defer;

        for (lv_watch **p = &lv_watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        lv_count--;
        (void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
        if (sd_event_add_defer(lv_event, &defer, on_release, w) < 0) {
                /* Out of memory: leak the watch rather than call ff under libvirt's locks. */
                log_debug("Cannot release a libvirt watch (the loop has finished), leaking it.");
                return 0;
        }
        return 0;
}

static lv_watch *watch_new(bool is_timeout, void *opaque, virFreeCallback ff) {
        lv_watch *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        *w = (lv_watch){
                .id = lv_next_id++, .is_timeout = is_timeout, .fd = -EBADF, .opaque = opaque, .ff = ff
        };
        return w;
}

static void watch_link(lv_watch *w) {
        w->next = lv_watches;
        lv_watches = w;
        lv_count++;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff) {
        lv_watch *w = watch_new(false, opaque, ff);
        int r;

        if (!w)
                return -1;
        w->fd = fd;
        w->handle_cb = cb;
        r = sd_event_add_io(lv_event, &w->source, fd, to_epoll(events), on_io, w);
        if (r < 0) {
                log_debug_errno(r, "Cannot watch libvirt's fd %d: %m", fd);
                free(w);
                return -1;
        }
        (void)sd_event_source_set_description(w->source, "libvirt-handle");
        if (events == 0)
                (void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
        watch_link(w);
        return w->id;
}

static void update_handle(int id, int events) {
        lv_watch *w = find_watch(id, false);

        if (!w)
                return;
        if (events == 0) {
                (void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_io_events(w->source, to_epoll(events));
        (void)sd_event_source_set_enabled(w->source, SD_EVENT_ON);
}

static int remove_handle(int id) {
        lv_watch *w = find_watch(id, false);

        return w ? release_later(w) : -1;
}

static void arm_timeout(lv_watch *w, int interval_ms) {
        uint64_t now;

        w->interval_ms = interval_ms;
        if (interval_ms < 0) {
                (void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_now(lv_event, CLOCK_MONOTONIC, &now);
        (void)sd_event_source_set_time(w->source, now + (uint64_t)interval_ms * 1000);
        (void)sd_event_source_set_enabled(w->source, SD_EVENT_ON);
}

static int add_timeout(int interval_ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) {
        lv_watch *w = watch_new(true, opaque, ff);
        int r;

        if (!w)
                return -1;
        w->timeout_cb = cb;
        r = sd_event_add_time(lv_event, &w->source, CLOCK_MONOTONIC, 0, 0, on_time, w);
        if (r < 0) {
                free(w);
                return -1;
        }
        (void)sd_event_source_set_description(w->source, "libvirt-timeout");
        arm_timeout(w, interval_ms);
        watch_link(w);
        return w->id;
}

static void update_timeout(int id, int interval_ms) {
        lv_watch *w = find_watch(id, true);

        if (w)
                arm_timeout(w, interval_ms);
}

static int remove_timeout(int id) {
        lv_watch *w = find_watch(id, true);

        return w ? release_later(w) : -1;
}

int nv_libvirt_event_register(sd_event *event) {
        if (lv_event)
                return lv_event == event ? 0 : -EBUSY;
        lv_event = sd_event_ref(event);
        virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout, update_timeout,
                             remove_timeout);
        return 0;
}
