/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libvirt's event loop bridged into sd-event (virEventRegisterImpl): libvirt's handles become
 * sd_event io sources, its timeouts sd_event time sources, so the client library runs inside the
 * daemon's one loop, with no second thread. libvirt allows one implementation per process: it is
 * registered once, for the first loop given; later calls must pass the same loop. */

#include <systemd/sd-event.h>

/* 0, or -EBUSY when already registered for another loop. */
int nv_libvirt_event_register(sd_event *event);

/* Handles and timeouts libvirt holds now (tests check that nothing leaks). */
unsigned nv_libvirt_event_count(void);
