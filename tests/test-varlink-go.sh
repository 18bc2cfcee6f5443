#!/bin/bash
# Varlink conformance with a client the project did not write: the Go varlink library from
# Debian's golang-github-varlink-go-dev, against `numavd --sim`.
set -u
. "$top_srcdir/tests/numavd-daemon.sh"

export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$tmp/go-cache GOFLAGS=-mod=mod
if ! command -v go >/dev/null; then
        echo "1..0 # SKIP go is not installed (apt-get install golang-go)"
        exit 0
fi
if [ ! -d /usr/share/gocode/src/github.com/varlink/go/varlink ]; then
        echo "1..0 # SKIP the Go varlink library is not installed (apt-get install golang-github-varlink-go-dev)"
        exit 0
fi
unset GOFLAGS
if ! go build -o "$tmp/conformance" "$top_srcdir/tests/go-varlink/conformance.go" >"$tmp/build.log" 2>&1; then
        sed 's/^/# /' "$tmp/build.log"
        echo "not ok 1 - the Go conformance client builds"
        echo "1..1"
        exit 1
fi

numavd_start --sim="$top_srcdir/tests/go-varlink/two.scn" --speed=20
numavd_wait_answer
"$tmp/conformance" "$NUMAVD_ADDRESS"
rc=$?
kill -0 "$numavd_pid" || { echo "# numavd died:"; sed 's/^/# /' "$tmp/numavd.err"; rc=1; }
exit $rc
