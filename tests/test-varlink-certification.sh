#!/bin/bash
# The varlink project's certification (org.varlink.certification), both ways, against an
# implementation the project did not write: Debian's varlink-go-certification (package varlink-go).
#   1. varlink-go-certification --client certifies tests/varlink-certification serving on src/varlink;
#   2. tests/varlink-certification --client (src/varlink's client) certifies varlink-go's server.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
B=${top_builddir:-.}
tmp=$(mktemp -d)
ours= theirs=
cleanup() {
        for p in $ours $theirs; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v varlink-go-certification >/dev/null; then
        echo "1..0 # SKIP varlink-go-certification is not installed (apt-get install varlink-go)"
        exit 0
fi
wait_socket() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1; }

"$B/tests/varlink-certification" --varlink="unix:$tmp/ours" 2>"$tmp/ours.err" &
ours=$!
varlink-go-certification --varlink="unix:$tmp/theirs" >"$tmp/theirs.out" 2>&1 &
theirs=$!
wait_socket "$tmp/ours"; ok $? "our certification server listens"
wait_socket "$tmp/theirs"; ok $? "varlink-go's certification server listens"

# varlink-go's client prints each step and, last, End: 'true' when our server found every call
# right (it exits 0 whatever happened).
timeout 60 varlink-go-certification --client --varlink="unix:$tmp/ours" >"$tmp/go-client.out" 2>&1
sed 's/^/# /' "$tmp/go-client.out" | cut -c1-200
grep -q "^Test10: '\[Reply number 1 .* Reply number 10\]'$" "$tmp/go-client.out"
ok $? "varlink-go's client gets Test10's ten replies (more, continues) from src/varlink's server"
grep -qx "End: 'true'" "$tmp/go-client.out"
ok $? "varlink-go's client certifies src/varlink's server (End: all_ok true)"

timeout 60 "$B/tests/varlink-certification" --client --varlink="unix:$tmp/theirs" >"$tmp/our-client.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/our-client.out"
[ $rc -eq 0 ] && grep -qx "certification passed" "$tmp/our-client.out"
ok $? "src/varlink's client certifies varlink-go's server (every reply as expected, errors included)"

# Our server holds a client to the rules too: ours against ours, and a wrong call is refused.
timeout 60 "$B/tests/varlink-certification" --client --varlink="unix:$tmp/ours" >"$tmp/self.out" 2>&1
ok $? "src/varlink's client certifies src/varlink's server"
grep -qx "ok org.varlink.certification.Test02 answers org.varlink.certification.CertificationError" "$tmp/self.out"
ok $? "our server answers a wrong value with CertificationError"

kill -0 "$ours" 2>/dev/null; ok $? "our server is still running"
"$B/tests/varlink-certification" --client 2>/dev/null
[ $? -eq 2 ]; ok $? "without --varlink the program says how to use it (exit 2)"
done_testing
