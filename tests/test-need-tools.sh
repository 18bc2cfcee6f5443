#!/bin/sh
# tools/need-tools.sh names the Debian package of every tool that is missing, and passes when
# everything is there. A PATH of symlinks to a few real tools stands in for a fresh machine.
. "${top_srcdir:-.}/tests/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
need="${top_srcdir:-.}/tools/need-tools.sh"

mkdir "$tmp/bin"
for t in sh cat ls; do ln -s "$(command -v $t)" "$tmp/bin/$t"; done
PATH=$tmp/bin /bin/sh "$need" lab >"$tmp/out" 2>&1
ok $((! $?)) "a machine without the lab's tools fails the check"
check "pahole is named with its package, dwarves" grep -q "'pahole' is missing (Debian package: dwarves)" "$tmp/out"
check "qemu is named with its package" grep -q "'qemu-system-x86_64' is missing (Debian package: qemu-system-x86)" "$tmp/out"
check "the count of missing tools closes the report" grep -q "missing; install the packages named above" "$tmp/out"

check "cpio is missing at first" grep -q "'cpio' is missing" "$tmp/out"
ln -s "$(command -v cpio)" "$tmp/bin/cpio"
PATH=$tmp/bin /bin/sh "$need" lab >"$tmp/out2" 2>&1
ok $(grep -c "'cpio' is missing" "$tmp/out2") "a tool that is present is not reported"

/bin/sh "$need" bogus >/dev/null 2>&1
ok $(($? != 2)) "an unknown step is a usage error"
/bin/sh "$need" build check >"$tmp/out3" 2>&1
ok $? "this machine has what the build and make check run (after tools/deps.sh)"
done_testing
