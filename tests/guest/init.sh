#!/bin/sh
# The test guest's /init (busybox). Kernel command line knobs:
#   memhog=MiB dirty=MiB interval=s burst=MiB   the workload (memhog.c)
#   noballoon                                   do not load virtio_balloon (a guest without the driver)
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
MH=64 DI=2 IV=2 BU=0 NOBAL=
for w in $(cat /proc/cmdline); do
        case "$w" in
        memhog=*) MH=${w#memhog=} ;;
        dirty=*) DI=${w#dirty=} ;;
        interval=*) IV=${w#interval=} ;;
        burst=*) BU=${w#burst=} ;;
        noballoon) NOBAL=1 ;;
        esac
done
# modules/order lists the modules in load order (built by libvirt-env.sh from modules.dep)
for m in $(cat /lib/modules/order); do
        [ -n "$NOBAL" ] && [ "$m" = virtio_balloon.ko ] && continue
        insmod /lib/modules/$m 2>/dev/null || echo "insmod $m failed"
done
BAL=no
ls /sys/bus/virtio/drivers/virtio_balloon 2>/dev/null | grep -q virtio && BAL=yes
echo "GUEST-UP balloon_driver_bound=$BAL"
# ACPI power button -> poweroff, so that a graceful shutdown works
for e in /sys/class/input/event*; do
        if grep -q "Power Button" "$e/device/name" 2>/dev/null; then
                (dd if=/dev/input/${e##*/} of=/dev/null bs=24 count=1 2>/dev/null; poweroff -f) &
        fi
done
/bin/memhog "$MH" "$DI" "$IV" "$BU" &
while :; do sleep 3600; done
