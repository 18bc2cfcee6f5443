#!/bin/bash
# The lab runner (tests/lab/README.md): boots Debian's kernels under qemu-system-x86_64 TCG with two
# NUMA nodes, -cpu max (nested SVM/NPT) and the host root read-only over 9p, and runs each lab test
# inside. Prints TAP and a closing "N passed, N failed" line; exits 1 on any failure.
#   tests/lab/lab.sh [TEST...]     TEST: a name like t-kmod-fuzz (default: every tests/lab/t-*.sh but
#                                  those whose '# lab:' header says default=no)
# env: top_srcdir, top_builddir (make lab-check sets them), NUMAVD_LAB_CACHE (tests/lab/lab-deps.sh),
#      LAB_KERNELS="6.1" (only these series, instead of each test's own list), LAB_BENCH and
#      LAB_BENCH_SCENES, LAB_BENCH_POLICIES (passed to the guest: tests/lab/bench-cells.sh's mode,
#      scenarios and policies)
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-$PWD}
cache=${NUMAVD_LAB_CACHE:-/var/cache/numavd-lab}
work=$build/lab
mkdir -p "$work" "$build/bench"
n=0 passed=0 failed=0 skipped=0
t_start=$(date +%s)

tap() { # ok|not ok|skip, text
        n=$((n + 1))
        case $1 in
        ok) echo "ok $n - $2"; passed=$((passed + 1)) ;;
        skip) echo "ok $n - # SKIP $2"; skipped=$((skipped + 1)) ;;
        *) echo "not ok $n - $2"; failed=$((failed + 1)) ;;
        esac
}
finish() {
        echo "1..$n"
        echo "# lab: $(($(date +%s) - t_start)) s; logs in $work"
        echo "$passed passed, $failed failed, $skipped skipped"
        [ "$failed" -eq 0 ]
        exit
}

command -v qemu-system-x86_64 >/dev/null || { tap skip "no qemu-system-x86_64 (tests/lab/lab-deps.sh)"; finish; }
[ -r /bin/busybox ] || { tap skip "no busybox (tests/lab/lab-deps.sh)"; finish; }

# Kernels: 6.1 is installed (linux-image-amd64); 6.12 is extracted in the cache.
declare -A KIMG KMODROOT KHDR KVER
k61=$(ls /lib/modules 2>/dev/null | grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -n1)
if [ -n "$k61" ] && [ -r "/boot/vmlinuz-$k61" ]; then
        KVER[6.1]=$k61 KIMG[6.1]=/boot/vmlinuz-$k61 KMODROOT[6.1]=/ KHDR[6.1]=/lib/modules/$k61/build
fi
d612=$(ls -d "$cache"/k6.12.*-amd64 2>/dev/null | sort -V | tail -n1)
if [ -n "$d612" ] && [ -e "$d612/.done" ]; then
        k=${d612##*/k}
        KVER[6.12]=$k KIMG[6.12]=$d612/boot/vmlinuz-$k KMODROOT[6.12]=$d612 KHDR[6.12]=$d612/usr/src/linux-headers-$k
fi

# The module, built out of tree for each kernel in the build dir; warnings fail the build.
build_module() { # series
        local s=$1 dir=$work/kmod-$1
        rm -rf "$dir" && mkdir -p "$dir/uapi"
        cp "$src"/kernel/* "$dir/" && cp "$src/include/uapi/numavd_ept.h" "$dir/uapi/"
        make -C "$dir" KDIR="${KHDR[$s]}" >"$dir/build.log" 2>&1 && ! grep -q 'warning:' "$dir/build.log"
}
# The lab's own modules (tests/lab/kmod, with numavd_ept's lookup header) in kmod-SERIES/lab:
# t-kmod-param's test module (the test fails when it is missing) and the one guest-init.sh loads
# (the guest boots without it when it is missing).
build_lab_modules() { # series
        local dir=$work/kmod-$1/lab
        mkdir -p "$dir" && cp "$src"/tests/lab/kmod/* "$src/kernel/numavd_ept_param.h" "$dir/" &&
                make -C "${KHDR[$1]}" M="$dir" modules >"$dir/build.log" 2>&1 && ! grep -q 'warning:' "$dir/build.log"
}
for s in 6.1 6.12; do
        if [ -z "${KVER[$s]:-}" ]; then
                tap skip "kernel $s not available (tests/lab/lab-deps.sh)"
        elif [ -d "${KHDR[$s]}" ] && build_module "$s"; then
                tap ok "numavd_ept builds warning-free against ${KVER[$s]} headers"
                build_lab_modules "$s" ||
                        echo "# the lab's own modules did not build for $s (see $work/kmod-$s/lab/build.log)"
        else
                tap "not ok" "numavd_ept builds warning-free against ${KVER[$s]} headers (see $work/kmod-$s/build.log)"
                tail -n 20 "$work/kmod-$s/build.log" | sed 's/^/# /'
        fi
done

initrd() { # series -> path
        local f=$work/initrd-$1.cpio.gz
        [ -s "$f" ] || "$src/tests/lab/mkinitramfs.sh" "$f" "${KVER[$1]}" "${KMODROOT[$1]}" >"$work/initrd-$1.log" 2>&1
        echo "$f"
}

# One boot: series, test script, name, mem MiB, timeout s, keep (1: keep the share of the boot
# before). Sets boot_rc; 99 when no marker came.
boot() {
        local s=$1 script=$2 name=$3 mem=$4 timeout=$5 keep=$6 out=$work/$3
        local per=$((mem / 2)) log=$out/console.log envf=$out/lab.env
        if [ "$keep" = 1 ] && [ -d "$out/share" ]; then
                find "$out" -mindepth 1 -maxdepth 1 ! -name share -exec rm -rf {} +
        else
                rm -rf "$out" && mkdir -p "$out/share"
        fi
        cat >"$envf" <<EOE
LAB_TEST=$script
LAB_NAME=$name
LAB_OUT=$out/share
LAB_SRCDIR=$src
LAB_BUILDDIR=$build
LAB_KVER=${KVER[$s]}
LAB_MODROOT=${KMODROOT[$s]}
LAB_KMOD=$work/kmod-$s/numavd_ept.ko
LAB_INIT=${lab_init:-}
LAB_BENCH=${LAB_BENCH:-}
LAB_BENCH_SCENES="${LAB_BENCH_SCENES:-}"
LAB_BENCH_POLICIES="${LAB_BENCH_POLICIES:-}"
EOE
        timeout --foreground -k 5 "$timeout" qemu-system-x86_64 -accel tcg -cpu max \
                -smp 4,sockets=2,cores=2,threads=1 -m "${mem}M" \
                -object memory-backend-ram,id=m0,size=${per}M -numa node,nodeid=0,cpus=0-1,memdev=m0 \
                -object memory-backend-ram,id=m1,size=${per}M -numa node,nodeid=1,cpus=2-3,memdev=m1 \
                -kernel "${KIMG[$s]}" -initrd "$(initrd "$s")" \
                -append "console=ttyS0 panic=-1 loglevel=4 mitigations=off lab.init=$src/tests/lab/guest-init.sh lab.env=$envf" \
                -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
                -virtfs "local,path=$out/share,mount_tag=labout,security_model=none,multidevs=remap" \
                -nographic -no-reboot -nodefaults -serial "file:$log" -monitor none </dev/null >"$out/qemu.log" 2>&1
        boot_rc=$(grep -ao 'LAB-DONE rc=[0-9]*' "$log" 2>/dev/null | tail -n1 | cut -d= -f2)
        grep -q 'LAB-BOOTED' "$log" 2>/dev/null || boot_rc=99
        boot_rc=${boot_rc:-98}
}

# How a guest kernel's report begins on the console: an oops, a BUG (a soft lockup among them), a
# panic.
kernel_failed='BUG:|Oops|Kernel panic'
# The first such report in a console log and what follows it, as TAP comments.
kernel_report() { # console log
        grep -a -m1 -A 30 -E "$kernel_failed" "$1" 2>/dev/null | sed 's/^/# /'
}

tests=("$@")
# By default every test whose header does not say default=no (a test kept for when it is named).
[ ${#tests[@]} -gt 0 ] || tests=($(cd "$src/tests/lab" && grep -L -m1 '^# lab:.*default=no' t-*.sh | sed 's/\.sh$//'))
for t in "${tests[@]}"; do
        script=$src/tests/lab/$t.sh
        hdr=$(grep -m1 '^# lab:' "$script" 2>/dev/null)
        kernels=$(sed -n 's/.*kernels=\([^ ]*\).*/\1/p' <<<"$hdr" | tr , ' ')
        mem=$(sed -n 's/.*mem=\([0-9]*\).*/\1/p' <<<"$hdr")
        tmo=$(sed -n 's/.*timeout=\([0-9]*\).*/\1/p' <<<"$hdr")
        needs_kmod=$(grep -c 'needs=kmod' <<<"$hdr")
        lab_init=$(sed -n 's/.*init=\([a-z]*\).*/\1/p' <<<"$hdr") # init=systemd: lab-systemd.sh
        resume=$(grep -c -w 'resume' <<<"$hdr")
        [ -z "${LAB_KERNELS:-}" ] || kernels=$LAB_KERNELS # e.g. LAB_KERNELS=6.1
        for s in ${kernels:-6.1}; do
                name=$t-$s
                if [ -z "${KVER[$s]:-}" ]; then
                        tap skip "$name: kernel $s not available"
                        continue
                fi
                if [ "$needs_kmod" -gt 0 ] && [ ! -e "$work/kmod-$s/numavd_ept.ko" ]; then
                        tap "not ok" "$name: the module for $s did not build"
                        continue
                fi
                t0=$(date +%s)
                # Up to two more boots when the guest, not the test, failed: no boot marker (a rare
                # early-boot TCG failure), a stale int3 of the guest kernel's own text patching
                # (static keys switched by perf and KVM: multi-threaded TCG's race; an oops, or a CPU
                # stuck looping through the int3 handler), or no end marker before the timeout (a
                # stalled guest). A test that ran and failed is not retried, nor is a guest whose
                # kernel failed otherwise (a soft lockup panics the guest: guest-init.sh). The
                # console of each failed boot is kept as NAME/console-N.log; with `resume` in the
                # header a boot keeps the share of the one before.
                for attempt in 1 2 3; do
                        boot "$s" "$script" "$name" "${mem:-2048}" "${tmo:-600}" "$((resume > 0 && attempt > 1))"
                        why=
                        if [ "$boot_rc" -eq 99 ]; then
                                why="no boot marker"
                        elif [ "$boot_rc" -ne 0 ] && grep -aqE 'Oops: int3|exc_int3' "$work/$name/console.log"; then
                                why="the guest kernel hit a stale text-patching int3 (TCG)"
                        elif [ "$boot_rc" -eq 98 ] && ! grep -aqE "$kernel_failed" "$work/$name/console.log"; then
                                why="the guest did not finish within ${tmo:-600} s"
                        fi
                        [ -n "$why" ] && [ "$attempt" -lt 3 ] || break
                        echo "# $name: $why; booting it again"
                        kernel_report "$work/$name/console.log"
                        cp "$work/$name/console.log" "$work/$name-console-$attempt.log"
                done
                for ((a = 1; a < attempt; a++)); do
                        mv "$work/$name-console-$a.log" "$work/$name/console-$a.log"
                done
                res=$work/$name/share/result.tap
                # The guest's own TAP lines, renumbered under this runner's plan.
                while IFS= read -r line; do
                        case $line in
                        "ok "*) tap ok "$name: $(sed -E 's/^ok [0-9]+ - ?//' <<<"$line")" ;;
                        "not ok "*) tap "not ok" "$name: $(sed -E 's/^not ok [0-9]+ - ?//' <<<"$line")" ;;
                        "#"*) echo "$line" ;;
                        esac
                done < <(cat "$res" 2>/dev/null)
                if [ "$boot_rc" -eq 0 ]; then
                        tap ok "$name: guest finished cleanly ($(($(date +%s) - t0)) s)"
                else
                        tap "not ok" "$name: guest rc=$boot_rc ($(($(date +%s) - t0)) s, $work/$name/console.log)"
                        kernel_report "$work/$name/console.log"
                        grep -av -e '^$' "$work/$name/console.log" 2>/dev/null | tail -n 15 | sed 's/^/# /'
                        grep -v -e '^ok ' "$res" 2>/dev/null | tail -n 15 | sed 's/^/# /'
                fi
                for f in "$work/$name/share"/bench-*.txt; do [ -e "$f" ] && cp "$f" "$build/bench/${f##*/bench-}"; done
        done
done
finish
