# numavd in the background for the shell tests, on a varlink socket in a temporary directory.
# Source it. It makes $tmp, exports NUMAVD_ADDRESS (numavctl's default address), sets
# the EXIT trap and defines:
#   numavd_start ARGS...     numavd ARGS --varlink=$NUMAVD_ADDRESS in the background, its stdout
#                            in $tmp/numavd.out and stderr in $tmp/numavd.err; sets $numavd_pid
#   numavd_wait_answer [N]   until `numavctl status` answers, for at most N tenths of a second (100)
#   numavd_stop              SIGTERM, then numavd's exit status
#   ctl ARGS...              numavctl --timeout=5s ARGS
# A test with more to undo at exit defines test_cleanup: the trap stops numavd, runs it, then
# removes $tmp.
numavd_bin=${top_builddir:-.}/numavd
numavctl_bin=${top_builddir:-.}/numavctl
numavd_pid=
tmp=$(mktemp -d)
export NUMAVD_ADDRESS="unix:$tmp/io.numavd.Manager"

numavd_cleanup() {
        [ -n "$numavd_pid" ] && kill "$numavd_pid" 2>/dev/null && wait "$numavd_pid" 2>/dev/null
        command -v test_cleanup >/dev/null && test_cleanup
        rm -rf "$tmp"
}
trap numavd_cleanup EXIT

numavd_start() {
        "$numavd_bin" "$@" --varlink="$NUMAVD_ADDRESS" >"$tmp/numavd.out" 2>"$tmp/numavd.err" &
        numavd_pid=$!
}

ctl() { "$numavctl_bin" --timeout=5s "$@"; }

numavd_wait_answer() {
        local i=0
        until ctl status >/dev/null 2>&1; do
                i=$((i + 1))
                [ "$i" -gt "${1:-100}" ] && return 1
                sleep 0.1
        done
}

numavd_stop() {
        local rc
        kill -TERM "$numavd_pid"
        wait "$numavd_pid"
        rc=$?
        numavd_pid=
        return $rc
}
