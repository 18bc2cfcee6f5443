#!/bin/bash
# The systemd units: `systemd-analyze verify` is clean (with the man pages they name), the security
# exposure stays at most 4.0, the settings numavd relies on are there, and the system call filter
# lets through the calls numavd makes. systemd need not be PID 1 for any of this.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}
service="$build/etc/systemd/numavd.service"
socket="$src/etc/systemd/numavd.socket"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Without man(1), verify cannot look the Documentation= pages up.
man_opt=
command -v man >/dev/null 2>&1 || man_opt=--man=no

has() { grep -qxF "$2" "$1"; } # file line: the unit has exactly this line

[ -f "$service" ] && ! grep -q '@[a-z]*@' "$service"
ok $? "numavd.service is generated with its paths filled in"

for line in Type=notify NotifyAccess=main ExecReload='/bin/kill -HUP $MAINPID' RuntimeDirectory=numavd \
        RuntimeDirectoryPreserve=yes ProtectSystem=strict ReadWritePaths=/sys/kernel/mm ProtectHome=yes \
        PrivateTmp=yes ProtectProc=default RestrictAddressFamilies=AF_UNIX NoNewPrivileges=yes \
        'DeviceAllow=/dev/numavd_ept rw' SystemCallFilter=@system-service Requires=numavd.socket \
        Also=numavd.socket; do
        has "$service" "$line"; ok $? "numavd.service: $line"
done
grep -qE '^WatchdogSec=[1-9][0-9]*s$' "$service"; ok $? "numavd.service: WatchdogSec= is set"
grep -qE '^ExecStart=/.*/numavd$' "$service"; ok $? "numavd.service: ExecStart= is the installed numavd"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$service" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$caps" = "CAP_DAC_READ_SEARCH CAP_SYS_ADMIN CAP_SYS_NICE CAP_SYS_PTRACE " ]
ok $? "numavd.service: exactly the capabilities it needs ($caps)"
for cap in $caps; do
        grep -qE "^#  $cap " "$service"; ok $? "numavd.service: a comment gives the reason for $cap"
done
for line in ListenStream=/run/numavd/io.numavd.Manager SocketMode=0660 SocketGroup=numavd \
        WantedBy=sockets.target; do
        has "$socket" "$line"; ok $? "numavd.socket: $line"
done
grep -qE '^g numavd ' "$src/etc/sysusers.d/numavd.conf"; ok $? "sysusers.d creates the socket's group numavd"

if ! command -v systemd-analyze >/dev/null 2>&1; then
        tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP systemd-analyze is not installed"
        done_testing
        exit
fi

# verify checks that ExecStart= is executable and that `man` finds each Documentation= page: point
# them at the build tree.
mkdir -p "$tmp/units" "$tmp/man/man1" "$tmp/man/man4" "$tmp/man/man5" "$tmp/man/man8"
sed "s|^ExecStart=.*|ExecStart=$(realpath "$build/numavd")|" "$service" >"$tmp/units/numavd.service"
cp "$socket" "$tmp/units/"
for page in numavd.8 numavd.conf.5 numavctl.1 numavd_ept.4; do
        f="$build/man/$page"
        [ -f "$f" ] || f="$src/man/$page"
        cp "$f" "$tmp/man/man${page##*.}/"
done
MANPATH="$tmp/man" systemd-analyze verify $man_opt "$tmp/units/numavd.service" "$tmp/units/numavd.socket" \
        >"$tmp/verify" 2>&1
rc=$?
[ $rc -eq 0 ] && ! [ -s "$tmp/verify" ]
ok $? "systemd-analyze verify is clean (rc $rc) $(head -c 300 "$tmp/verify")"
# The check can fail: a broken unit is reported.
sed 's/^Type=notify$/Type=notifyy/' "$tmp/units/numavd.service" >"$tmp/units/broken.service"
! MANPATH="$tmp/man" systemd-analyze verify $man_opt "$tmp/units/broken.service" >/dev/null 2>&1 ||
        grep -q . <(MANPATH="$tmp/man" systemd-analyze verify $man_opt "$tmp/units/broken.service" 2>&1)
ok $? "systemd-analyze verify reports a broken unit"

# The metrics route for the node exporter's textfile collector: a oneshot service and its timer.
metrics="$build/etc/systemd/numavd-metrics.service"
timer="$src/etc/systemd/numavd-metrics.timer"
[ -f "$metrics" ] && ! grep -q '@[a-z]*@' "$metrics"
ok $? "numavd-metrics.service is generated with its paths filled in"
grep -qE '^ExecStart=/.*/numavctl --output=/var/lib/prometheus/node-exporter/numavd.prom metrics$' "$metrics"
ok $? "numavd-metrics.service writes numavd.prom atomically (numavctl --output) into node-exporter's directory"
for line in Type=oneshot CapabilityBoundingSet= ReadWritePaths=/var/lib/prometheus/node-exporter \
        ConditionPathIsDirectory=/var/lib/prometheus/node-exporter; do
        has "$metrics" "$line"; ok $? "numavd-metrics.service: $line"
done
for line in OnUnitActiveSec=15s WantedBy=timers.target; do
        has "$timer" "$line"; ok $? "numavd-metrics.timer: $line"
done
sed "s|^ExecStart=[^ ]*|ExecStart=$(realpath "$build/numavctl")|" "$metrics" >"$tmp/units/numavd-metrics.service"
cp "$timer" "$tmp/units/"
MANPATH="$tmp/man" systemd-analyze verify $man_opt "$tmp/units/numavd-metrics.service" \
        "$tmp/units/numavd-metrics.timer" >"$tmp/verify-metrics" 2>&1
rc=$?
[ $rc -eq 0 ] && ! [ -s "$tmp/verify-metrics" ]
ok $? "systemd-analyze verify is clean for the metrics units (rc $rc) $(head -c 300 "$tmp/verify-metrics")"

exposure=$(systemd-analyze security --offline=yes "$tmp/units/numavd.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for numavd.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 4.0) }'
ok $? "systemd-analyze security --offline=yes: exposure ${exposure:-?} <= 4.0"
grep -qF "rates this unit $exposure " "$service"; ok $? "the unit's comment states that exposure ($exposure)"

# The system call filter: @system-service and the two named calls, less the groups denied after.
expand() { # @group...: its calls, recursively
        local g
        for g in "$@"; do
                systemd-analyze syscall-filter "$g" 2>/dev/null | sed -n 's/^    \([@a-z0-9_-]*\)$/\1/p' |
                        while read -r c; do
                                case $c in @*) expand "$c" ;; *) echo "$c" ;; esac
                        done
        done
}
allow=$(for v in $(sed -n '/^SystemCallFilter=[^~]/s/^SystemCallFilter=//p' "$service"); do
        case $v in @*) expand "$v" ;; *) echo "$v" ;; esac; done | sort -u)
deny=$(for v in $(sed -n 's/^SystemCallFilter=~//p' "$service"); do expand "$v"; done | sort -u)
allowed=$(comm -23 <(echo "$allow") <(echo "$deny"))
n_allowed=$(echo "$allowed" | wc -l)
[ "$n_allowed" -gt 100 ]; ok $? "the filter expands ($n_allowed calls allowed)"
# What the daemon calls: page moves and policies, pidfd and KVM fds, perf, the event loop, sockets.
for c in move_pages migrate_pages mbind get_mempolicy set_mempolicy pidfd_open pidfd_getfd perf_event_open \
        ioctl openat pread64 sched_getaffinity epoll_wait timerfd_create signalfd4 socket connect accept4 \
        getsockopt; do
        grep -qx "$c" <<<"$allowed"; ok $? "the filter allows $c"
done
! grep -qxE 'init_module|finit_module|mount|reboot|settimeofday|swapon' <<<"$allowed"
ok $? "the filter denies module loading, mounts, reboot, the clock and swap"

done_testing
