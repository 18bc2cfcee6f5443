# TAP helpers for the shell tests (POSIX sh: the lab guests source it from dash).
tap_n=0
tap_failed=0
ok() { # condition-exit-status description...
        local rc=$1; shift
        tap_n=$((tap_n + 1))
        if [ "$rc" -eq 0 ]; then echo "ok $tap_n - $*"; else echo "not ok $tap_n - $*"; tap_failed=$((tap_failed + 1)); fi
}
check() { # description -- command...: ok if the command succeeds
        local desc=$1; shift
        "$@" >/dev/null 2>&1
        ok $? "$desc"
}
done_testing() {
        echo "1..$tap_n"
        [ "$tap_failed" -eq 0 ]
}
# jq expression that must be true of a JSON file. jq -e is true of no input at all, so an empty or
# missing file (a daemon that died before writing it) is false here.
json_true() { [ -s "$1" ] && jq -e "$2" "$1" >/dev/null; }
# ... of the JSON on standard input (numavctl --json ... | json_ok EXPR); no input is false.
json_ok() {
        local in
        in=$(cat)
        [ -n "$in" ] && printf '%s\n' "$in" | jq -e "$1" >/dev/null
}
# Wait up to SECONDS (10) for a pattern to appear in a file (a daemon's log): tests wait for events,
# not times.
wait_for() { # pattern file [seconds]
        for _ in $(seq $((${3:-10} * 10))); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
        return 1
}
# Milliseconds since a time in nanoseconds (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
