#!/bin/bash
# bash completion for numavctl (etc/bash-completion/numavctl), through bash-completion's own
# library: commands, options, log levels, and VM names asked of a running `numavd --sim`.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
B=$(cd "${top_builddir:-.}" && pwd)
. "${top_srcdir:-.}/tests/numavd-daemon.sh"

lib=/usr/share/bash-completion/bash_completion
[ -r "$lib" ] || { echo "1..0 # SKIP bash-completion is missing (apt-get install bash-completion)"; exit 0; }
addr=$NUMAVD_ADDRESS
numavd_start --sim="$top_srcdir/tests/go-varlink/two.scn" --speed=20
numavd_wait_answer

complete_line() { # line: the completions bash offers at its end, sorted, on one line
        PATH="$B:$PATH" bash -c '
                . "$1" && . "$2" || exit 1
                COMP_LINE=$3 COMP_POINT=${#3}
                read -r -a COMP_WORDS <<<"$3"
                [[ $3 == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _numavctl numavctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
                [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
                _ "$lib" "$top_srcdir/etc/bash-completion/numavctl" "$1"
}
is() { # line expected
        local got
        got=$(complete_line "$1")
        [ "$got" = "$2" ]; ok $? "'$1' completes to '$2' (got '$got')"
}

is "numavctl " "heatmap metrics monitor notify-domain reload set-log-level status vm vms "
is "numavctl s" "set-log-level status "
is "numavctl --j" "--json "
is "numavctl --no" "--no-legend "
is "numavctl set-log-level w" "warning "
is "numavctl set-log-level " "alert crit debug emerg err info notice warning "
is "numavctl vm " "alpha beta "
is "numavctl heatmap a" "alpha "
is "numavctl --json vm b" "beta "
is "numavctl vm alpha " ""
unset NUMAVD_ADDRESS
is "numavctl --address=unix:$tmp/nobody vm " ""
is "numavctl --address=$addr vm " "alpha beta "
is "numavctl notify-domain alpha st" "start started stopped "
done_testing
