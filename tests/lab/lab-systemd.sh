#!/bin/sh
# A lab guest with systemd as PID 1 (`# lab: init=systemd`, tests/lab/README.md).
#   lab-systemd.sh ENVF        from guest-init.sh, as PID 1: write the lab's units and exec systemd
#   lab-systemd.sh run ENVF    from lab-test.service: run the test as guest-init.sh does, power off
# systemd keeps the API file systems, /run and the $LAB_OUT share that guest-init.sh mounted.
if [ "$1" = run ]; then
        set -a
        . "$2"
        set +a
        cd /tmp || exit 1
        sh "$LAB_TEST" >"$LAB_OUT/result.tap" 2>&1
        rc=$?
        sync
        echo "LAB-DONE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
        systemctl --force poweroff
        exit 0
fi

ENVF=$1
# tmpfiles' "D /tmp" would empty /tmp, where the build dir may live: neutralised.
mkdir -p /etc/tmpfiles.d /run/systemd/system
: >/etc/tmpfiles.d/tmp.conf
cat >/run/systemd/system/lab-test.service <<EOF
[Unit]
Description=numavd lab test
After=basic.target
[Service]
Type=oneshot
ExecStart=/bin/sh $0 run $ENVF
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
FailureAction=poweroff-force
EOF
cat >/run/systemd/system/lab.target <<EOF
[Unit]
Description=numavd lab: basic.target and the test
Requires=basic.target lab-test.service
After=basic.target lab-test.service
AllowIsolate=yes
EOF
exec /lib/systemd/systemd --unit=lab.target --show-status=no
