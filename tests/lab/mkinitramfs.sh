#!/bin/bash
# Usage: mkinitramfs.sh OUT.cpio.gz KVER MODROOT
# A busybox initramfs for kernel KVER (its modules under MODROOT/lib/modules/KVER) that mounts the
# host root (9p tag hostroot) read-only under a tmpfs overlay and switch_roots into it, running
# lab.init=PATH there.
set -euo pipefail
OUT=$1 KVER=$2 MODROOT=$3
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,proc,sys,dev,ro,rw,newroot,modules}
cp /bin/busybox "$R/bin/busybox"
: >"$R/modules/order"
for m in virtio_pci 9pnet_virtio 9p overlay; do
        modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}' | while read -r p; do
                b=$(basename "$p"); b=${b%.xz}; b=${b%.zst}
                [ -e "$R/modules/$b" ] && continue
                case $p in
                *.xz) xz -dc "$p" >"$R/modules/$b" ;;
                *.zst) zstd -qdc "$p" >"$R/modules/$b" ;;
                *) cp "$p" "$R/modules/$b" ;;
                esac
                echo "$b" >>"$R/modules/order"
        done
done
cat >"$R/init" <<'EOI'
#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
for m in $($B cat /modules/order); do $B insmod /modules/$m || echo "insmod $m failed"; done
INIT=
for a in $($B cat /proc/cmdline); do case $a in lab.init=*) INIT=${a#lab.init=};; esac; done
fail() { echo "LAB-DONE rc=$1 ($2)"; $B poweroff -f; }
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /ro || fail 97 "9p mount"
$B mount -t tmpfs -o mode=755 rw /rw && $B mkdir -p /rw/upper /rw/work
$B mount -t overlay -o lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail 96 "overlay"
$B rm -f /newroot/.dockerenv /newroot/run/.containerenv
$B umount /proc /sys; $B umount /dev 2>/dev/null
exec $B switch_root /newroot /bin/sh "$INIT"
EOI
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT"
