# Real libvirtd + QEMU (TCG) for shell tests. Source it, then:
#
#   libvirt_env_up || { echo "1..0 # SKIP $LIBVIRT_ENV_SKIP"; exit 0; }
#   trap libvirt_env_down EXIT
#   libvirt_env_guest || ...                    # LIBVIRT_GUEST_KERNEL, LIBVIRT_GUEST_INITRD
# or, in a TAP test (tap.sh), both at once: libvirt_env_test_up. virsh_ ARGS runs virsh on
# $LIBVIRT_ENV_URI.
#   libvirt_env_domain_xml vm1 256 2 >"$tmp/vm1.xml" && virsh -c "$LIBVIRT_ENV_URI" create "$tmp/vm1.xml"
#   libvirt_env_wait_guest vm1 60               # until the guest's workload is ready
#
# libvirt_env_up takes an exclusive lock (/tmp/numavd-libvirt-tests.lock) for the whole test, so
# libvirt tests never overlap, and starts virtlogd and libvirtd by hand (PID 1 need not be systemd)
# unless they already run. libvirt_env_down destroys every domain libvirt_env_domain_xml described,
# stops the daemons libvirt_env_up started (or restarts one it replaced) and releases the lock.
# Needs root, libvirt-daemon-system, qemu-system-x86, busybox-static and a Debian kernel image
# (tools/deps.sh).

LIBVIRT_ENV_URI=qemu:///system
LIBVIRT_ENV_LOCK=/tmp/numavd-libvirt-tests.lock
LIBVIRT_ENV_DIR=
LIBVIRT_ENV_SKIP=
LIBVIRT_ENV_LOCK_FD=
LIBVIRT_ENV_STARTED_LOGD=
LIBVIRT_ENV_STARTED_LIBVIRTD=
LIBVIRT_ENV_REPLACED_LIBVIRTD=
: "${LIBVIRT_ENV_GUEST_CACHE:=/var/tmp/numavd-test-guest}"

virsh_() { virsh -q -c "$LIBVIRT_ENV_URI" "$@"; }
# libvirt_env_up and libvirt_env_guest for a TAP test, which ends here when either fails: skipped
# where libvirt cannot run, failed where the guest does not build.
libvirt_env_test_up() {
        if ! libvirt_env_up; then
                echo "1..0 # SKIP $LIBVIRT_ENV_SKIP"
                exit 0
        fi
        if ! libvirt_env_guest; then
                ok 1 "the test guest builds (kernel + busybox initramfs)"
                done_testing
                exit 1
        fi
}

_lv_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

_lv_wait() { # tenths-of-a-second command...: poll until the command succeeds
        local n=$1 i=0
        shift
        until "$@" >/dev/null 2>&1; do
                i=$((i + 1))
                [ "$i" -gt "$n" ] && return 1
                sleep 0.1
        done
}

_lv_stop_pid() { # pid: SIGTERM, wait up to 10 s
        local p=$1 i=0
        _lv_alive "$p" || return 0
        kill -TERM "$p" 2>/dev/null
        while _lv_alive "$p" && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        _lv_alive "$p" && kill -KILL "$p" 2>/dev/null
        return 0
}

libvirt_env_libvirtd_start() {
        /usr/sbin/libvirtd -d -f "$LIBVIRT_ENV_DIR/libvirtd.conf" -p "$LIBVIRT_ENV_DIR/libvirtd.pid" \
                >>"$LIBVIRT_ENV_DIR/libvirtd.out" 2>&1 || return 1
        LIBVIRT_ENV_STARTED_LIBVIRTD=1
        # the first start probes QEMU's capabilities (~9 s), later ones use the cache (~0.2 s)
        _lv_wait 900 virsh_ version || return 1
}

libvirt_env_libvirtd_pid() {
        local f
        for f in "$LIBVIRT_ENV_DIR/libvirtd.pid" /run/libvirtd.pid /var/run/libvirtd.pid; do
                if [ -f "$f" ] && _lv_alive "$(cat "$f")"; then
                        cat "$f"
                        return 0
                fi
        done
        return 1
}

# Stop libvirtd (its QEMU processes keep running, as with a real restart) and start it again.
libvirt_env_libvirtd_restart() {
        local p
        p=$(libvirt_env_libvirtd_pid) || return 1
        [ -n "$LIBVIRT_ENV_STARTED_LIBVIRTD" ] || LIBVIRT_ENV_REPLACED_LIBVIRTD=1
        _lv_stop_pid "$p"
        rm -f "$LIBVIRT_ENV_DIR/libvirtd.pid"
        libvirt_env_libvirtd_start
}

libvirt_env_up() {
        if [ "$(id -u)" -ne 0 ]; then
                LIBVIRT_ENV_SKIP="needs root"
                return 1
        fi
        if [ ! -x /usr/sbin/libvirtd ] || [ ! -x /usr/sbin/virtlogd ] || ! command -v virsh >/dev/null ||
                ! command -v qemu-system-x86_64 >/dev/null; then
                LIBVIRT_ENV_SKIP="libvirtd, virtlogd, virsh or qemu-system-x86_64 not installed (tools/deps.sh)"
                return 1
        fi
        exec {LIBVIRT_ENV_LOCK_FD}>>"$LIBVIRT_ENV_LOCK" || return 1
        if ! flock -w 900 "$LIBVIRT_ENV_LOCK_FD"; then
                LIBVIRT_ENV_SKIP="another libvirt test held $LIBVIRT_ENV_LOCK for 15 minutes"
                return 1
        fi
        LIBVIRT_ENV_DIR=$(mktemp -d /tmp/numavd-libvirt.XXXXXX) || return 1
        chmod 755 "$LIBVIRT_ENV_DIR"
        : >"$LIBVIRT_ENV_DIR/domains"
        printf 'log_outputs="3:file:%s/libvirtd.log"\n' "$LIBVIRT_ENV_DIR" >"$LIBVIRT_ENV_DIR/libvirtd.conf"
        printf 'log_outputs="3:file:%s/virtlogd.log"\n' "$LIBVIRT_ENV_DIR" >"$LIBVIRT_ENV_DIR/virtlogd.conf"

        virsh_ version >/dev/null 2>&1 && return 0

        if ! _lv_wait 1 test -S /run/libvirt/virtlogd-sock || ! pgrep -x virtlogd >/dev/null; then
                if ! /usr/sbin/virtlogd -d -f "$LIBVIRT_ENV_DIR/virtlogd.conf" -p "$LIBVIRT_ENV_DIR/virtlogd.pid"; then
                        LIBVIRT_ENV_SKIP="virtlogd does not start"
                        return 1
                fi
                LIBVIRT_ENV_STARTED_LOGD=1
                if ! _lv_wait 100 test -S /run/libvirt/virtlogd-sock; then
                        LIBVIRT_ENV_SKIP="virtlogd started but its socket did not appear"
                        return 1
                fi
        fi
        if ! libvirt_env_libvirtd_start; then
                LIBVIRT_ENV_SKIP="libvirtd does not start or answer: $(tail -n 3 "$LIBVIRT_ENV_DIR"/libvirtd.* 2>/dev/null | tr '\n' ' ')"
                return 1
        fi
        return 0
}

libvirt_env_down() {
        local d p
        if [ -n "$LIBVIRT_ENV_DIR" ] && [ -f "$LIBVIRT_ENV_DIR/domains" ]; then
                for d in $(sort -u "$LIBVIRT_ENV_DIR/domains"); do
                        virsh_ destroy "$d" >/dev/null 2>&1
                        virsh_ undefine "$d" >/dev/null 2>&1
                done
        fi
        if [ -n "$LIBVIRT_ENV_STARTED_LIBVIRTD" ]; then
                p=$(cat "$LIBVIRT_ENV_DIR/libvirtd.pid" 2>/dev/null)
                _lv_stop_pid "$p"
                LIBVIRT_ENV_STARTED_LIBVIRTD=
                # a libvirtd that ran before the test and was restarted by it runs again
                [ -n "$LIBVIRT_ENV_REPLACED_LIBVIRTD" ] && /usr/sbin/libvirtd -d >/dev/null 2>&1
        fi
        if [ -n "$LIBVIRT_ENV_STARTED_LOGD" ]; then
                _lv_stop_pid "$(cat "$LIBVIRT_ENV_DIR/virtlogd.pid" 2>/dev/null)"
                LIBVIRT_ENV_STARTED_LOGD=
        fi
        [ -n "$LIBVIRT_ENV_DIR" ] && rm -rf "$LIBVIRT_ENV_DIR"
        LIBVIRT_ENV_DIR=
        if [ -n "$LIBVIRT_ENV_LOCK_FD" ]; then
                exec {LIBVIRT_ENV_LOCK_FD}>&-
                LIBVIRT_ENV_LOCK_FD=
        fi
        return 0
}

# modules.dep lists a module's dependencies, the one to load first last: print the load order.
_lv_modorder() { # moddir module...
        local dir=$1 m path deps d
        shift
        for m in "$@"; do
                path=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$dir/modules.dep" | head -n 1) || continue
                [ -n "$path" ] || continue
                deps=${path#*:}
                for d in $(echo $deps | tr ' ' '\n' | tac); do
                        d=${d##*/}
                        _lv_modorder "$dir" "${d%%.ko*}"
                done
                echo "${path%%:*}"
        done
}

# Build (once, cached by kernel version and source hash) the test guest: the host's Debian kernel
# and a busybox initramfs that loads virtio_balloon and runs memhog.
libvirt_env_guest() {
        local src="${top_srcdir:-.}/tests/guest" kv k key out root m f
        k=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
        if [ -z "$k" ]; then
                echo "# no guest kernel in /boot (linux-image-amd64, tools/deps.sh)" >&2
                return 1
        fi
        kv=${k#/boot/vmlinuz-}
        if [ ! -f "/lib/modules/$kv/modules.dep" ] || [ ! -x /bin/busybox ]; then
                echo "# no modules for $kv or no busybox (busybox-static)" >&2
                return 1
        fi
        key=$(cat "$src/init.sh" "$src/memhog.c" | md5sum | cut -c1-12)
        out="$LIBVIRT_ENV_GUEST_CACHE/$kv-$key"
        LIBVIRT_GUEST_KERNEL="$out/vmlinuz"
        LIBVIRT_GUEST_INITRD="$out/initramfs.cpio.gz"
        [ -s "$LIBVIRT_GUEST_KERNEL" ] && [ -s "$LIBVIRT_GUEST_INITRD" ] && return 0

        mkdir -p "$LIBVIRT_ENV_GUEST_CACHE" || return 1
        root=$(mktemp -d "$LIBVIRT_ENV_GUEST_CACHE/build.XXXXXX") || return 1
        (
                set -e
                mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/lib/modules"
                ${CC:-cc} -O2 -static -o "$root/bin/memhog" "$src/memhog.c"
                cp /bin/busybox "$root/bin/"
                for m in sh mount insmod ls cat grep sleep echo dd poweroff sync free; do
                        ln -s busybox "$root/bin/$m"
                done
                for m in $(_lv_modorder "/lib/modules/$kv" virtio_pci virtio_balloon button evdev | awk '!s[$0]++'); do
                        f=${m##*/}
                        case "$f" in
                        *.ko.xz) xz -dc "/lib/modules/$kv/$m" >"$root/lib/modules/${f%.xz}" ;;
                        *.ko.zst) zstd -qdc "/lib/modules/$kv/$m" >"$root/lib/modules/${f%.zst}" ;;
                        *) cp "/lib/modules/$kv/$m" "$root/lib/modules/" ;;
                        esac
                        echo "${f%%.ko*}.ko" >>"$root/lib/modules/order"
                done
                install -m 755 "$src/init.sh" "$root/init"
                mkdir -p "$root/out"
                (cd "$root" && find . -path ./out -prune -o -print | cpio -o -H newc 2>/dev/null | gzip -1 >out/initramfs.cpio.gz)
                cp "$k" "$root/out/vmlinuz"
                chmod 755 "$root/out"
        ) || {
                rm -rf "$root"
                return 1
        }
        rm -rf "$out"
        mv "$root/out" "$out" && rm -rf "$root"
}

# libvirt_env_domain_xml NAME MEM_MIB VCPUS [EXTRA]: a transient TCG domain XML on stdout, booting
# the test guest with virtio-balloon (stats every second) and its console in $LIBVIRT_ENV_DIR/NAME.log.
# EXTRA is XML put inside <domain> (e.g. <memoryBacking>, <metadata>); when it holds its own <cpu>,
# the default <cpu> is left out. LIBVIRT_GUEST_ARGS adds to the guest's command line (memhog=64
# dirty=2 interval=2 burst=0 noballoon). The domain is destroyed by libvirt_env_down.
libvirt_env_domain_xml() {
        local name=$1 mem=$2 vcpus=$3 extra=${4:-} cpu keep=/dev/null
        if [ -n "$LIBVIRT_ENV_DIR" ]; then
                echo "$name" >>"$LIBVIRT_ENV_DIR/domains"
                keep="$LIBVIRT_ENV_DIR/$name.xml" # for libvirt_env_wait_guest, which boots it again
        fi
        cpu="<cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>"
        case "$extra" in *"<cpu"*) cpu= ;; esac
        tee "$keep" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu placement='static'>$vcpus</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LIBVIRT_GUEST_KERNEL</kernel>
    <initrd>$LIBVIRT_GUEST_INITRD</initrd>
    <cmdline>console=ttyS0 loglevel=3 panic=-1 ${LIBVIRT_GUEST_ARGS:-memhog=64 dirty=2 interval=2}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  $cpu
  $extra
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$LIBVIRT_ENV_DIR/$name.log'/><target port='0'/></serial>
    <console type='file'><source path='$LIBVIRT_ENV_DIR/$name.log'/><target type='serial' port='0'/></console>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
</domain>
EOF
}

# libvirt_env_wait_guest NAME [SECONDS]: until the guest's workload has filled its memory. A kernel
# under TCG now and then dies while it boots (tests/lab/README.md: the stale text-patching int3), and
# the domain, which destroys itself on a crash or reboot, is gone. A guest that is gone or has not
# come up in time is shown (its state and the last lines of its console, as TAP diagnostics) and
# booted once more from the XML libvirt_env_domain_xml kept; the first console stays in NAME.log.1.
libvirt_env_wait_guest() {
        local name=$1 secs=${2:-60} state
        _lv_guest_ready "$name" "$secs" && return 0
        state=$(virsh_ domstate "$name" 2>/dev/null)
        case "$state" in
        running) echo "# guest $name did not come up within $secs s; its console ended with:" ;;
        *) echo "# guest $name died while it booted (domain ${state:-gone}); its console ended with:" ;;
        esac
        tail -n 12 "$LIBVIRT_ENV_DIR/$name.log" 2>/dev/null | sed 's/^/#   /'
        virsh_ destroy "$name" >/dev/null 2>&1
        mv -f "$LIBVIRT_ENV_DIR/$name.log" "$LIBVIRT_ENV_DIR/$name.log.1" 2>/dev/null
        virsh_ create "$LIBVIRT_ENV_DIR/$name.xml" >/dev/null || return 1
        echo "# booting $name again"
        _lv_guest_ready "$name" "$secs"
}

_lv_guest_ready() { # name seconds: the workload is ready; fails at once when the domain is gone
        local i=0
        while [ $i -lt "$2" ]; do
                _lv_wait 10 grep -q MEMHOG-READY "$LIBVIRT_ENV_DIR/$1.log" && return 0
                [ "$(virsh_ domstate "$1" 2>/dev/null)" = running ] || return 1
                i=$((i + 1))
        done
        return 1
}
