#!/bin/bash
# The parsers of what numavd reads from outside under valgrind: the configuration (its unit tests
# and hostile corpus), the value parsers, the log escaper, and the scenario loader on files that
# once read uninitialised memory (an empty file) or stopped early (a NUL byte). Any memory error
# or definite leak fails.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
B=${top_builddir:-.}
if ! command -v valgrind >/dev/null; then
        echo "1..0 # SKIP valgrind is not installed"
        exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vg() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"; }

for t in test-config test-parse test-log; do
        vg "$B/tests/$t" >"$tmp/$t.out" 2>"$tmp/$t.err"; rc=$?
        [ $rc -eq 0 ]; ok $? "$t under valgrind: no memory error, no leak (exit $rc) $(grep -m1 '==' "$tmp/$t.err")"
done

: >"$tmp/empty.scn"
printf 'node 0 mem 1G cpus 0\n\0vm a mem 1G vcpus 1\n' >"$tmp/nul.scn"
for f in empty nul; do
        vg "$B/numavd" --sim="$tmp/$f.scn" --once --varlink=no >/dev/null 2>"$tmp/$f.err"; rc=$?
        [ $rc -eq 1 ]; ok $? "numavd --sim $f.scn under valgrind fails cleanly (exit $rc, 99 is a memory error)"
done
grep -q "empty.scn: the scenario is empty" "$tmp/empty.err"; ok $? "an empty scenario: $(head -n 1 "$tmp/empty.err")"
grep -q "nul.scn:2: a NUL byte" "$tmp/nul.err"; ok $? "a NUL byte is named by its line: $(head -n 1 "$tmp/nul.err")"

done_testing
