#!/bin/bash
# The libvirt hook (etc/libvirt/hooks/qemu.d/numavd): for hostile domain names and every operation it
# exits 0, prints nothing, consumes the domain XML, hands the name to numavctl byte for byte as one
# argument and executes nothing from it; with numavctl missing, failing or hanging it still exits 0,
# and soon. A stand-in numavctl (NUMAVCTL=, which the hook honours) records its argv.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
hook="${top_builddir:-.}/etc/libvirt/hooks/qemu.d/numavd"
tmp=$(mktemp -d)
trap '[ -f "$tmp/hang.pid" ] && kill -9 "$(cat "$tmp/hang.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"

# Records each call's argv, NUL-separated, in calls/N.
cat >"$tmp/bin/numavctl" <<FAKE
#!/bin/sh
mkdir -p "$tmp/calls"
n=\$(ls "$tmp/calls" | wc -l)
printf '%s\0' "\$@" >"$tmp/calls/\$n"
FAKE
# Says something, fails.
printf '#!/bin/sh\necho "numavd is not running" >&2\necho noise\nexit 3\n' >"$tmp/bin/numavctl-fail"
# Hangs and ignores SIGTERM.
printf '#!/bin/sh\necho $$ >"%s/hang.pid"\ntrap "" TERM\nexec sleep 60\n' "$tmp" >"$tmp/bin/numavctl-hang"
# Records that libvirt was called.
printf '#!/bin/sh\ntouch "%s/virsh-called"\n' "$tmp" >"$tmp/bin/virsh"
chmod +x "$tmp/bin/"*
xml='<domain type="kvm"><name>x</name></domain>'

run_hook() { # numavctl name op subop: sets rc and out
        out=$(printf '%s' "$xml" |
                PATH="$tmp/bin:$PATH" NUMAVCTL="$1" timeout 30 "$hook" "$2" "$3" "$4" - 2>&1)
        rc=$?
}
last_call() { ls "$tmp/calls" 2>/dev/null | sort -n | tail -n 1; }
expect_args() { # the argv the fake must have got last
        local f
        f="$tmp/calls/$(last_call)"
        [ -f "$f" ] && cmp -s "$f" <(printf '%s\0' "$@")
}

[ -x "$hook" ]; ok $? "the hook is generated and executable"
grep -q '^numavctl=${NUMAVCTL:-/.*/numavctl}$' "$hook"; ok $? "the hook calls numavctl by its installed path"

long=$(printf 'v%.0s' $(seq 200))
names=(
        "web 1"
        "it's"
        'say "hi"'
        "\$(touch $tmp/pwned-dollar)"
        "\`touch $tmp/pwned-backtick\`"
        "x; touch $tmp/pwned-semicolon"
        "a|b&c>$tmp/pwned-redirect<d"
        '$HOME ${PATH} * ? [a]'
        "back\\slash \\n"
        "-h"
        "--json"
        "名前-виртуальная-машина-🙂"
        "$(printf 'tab\tand\nnewline')"
        "$long"
)
for name in "${names[@]}"; do
        label=$(printf '%s' "$name" | head -c 40 | tr '\n\t' '  ')
        before=$(last_call)
        run_hook "$tmp/bin/numavctl" "$name" started begin
        [ $rc -eq 0 ] && [ -z "$out" ]; ok $? "name '$label' (${#name} chars): exit 0, no output"
        [ "$(last_call)" != "$before" ] && expect_args --timeout=1s -- notify-domain "$name" started begin
        ok $? "name '$label': arrives byte for byte as one argument"
done
! ls "$tmp"/pwned-* >/dev/null 2>&1; ok $? "nothing in the names was executed"

for op in "started begin" "stopped end" "release end" "migrate begin" "reconnect begin" "attach begin" \
        "restore begin"; do
        before=$(last_call)
        run_hook "$tmp/bin/numavctl" vm1 $op
        [ $rc -eq 0 ] && [ -z "$out" ] && [ "$(last_call)" != "$before" ] && expect_args --timeout=1s -- \
                notify-domain vm1 $op
        ok $? "operation '$op' is sent to numavd"
done
for op in "prepare begin" "start begin" "migrate end" "no-such-op x"; do
        before=$(last_call)
        run_hook "$tmp/bin/numavctl" vm1 $op
        case $op in migrate*) want=yes ;; *) want=no ;; esac
        if [ $want = yes ]; then [ "$(last_call)" != "$before" ]; else [ "$(last_call)" = "$before" ]; fi
        [ $? -eq 0 ] && [ $rc -eq 0 ] && [ -z "$out" ]
        ok $? "operation '$op': exit 0, no output, sent only if numavd reacts to it ($want)"
done

# The domain XML is read to its end, even when numavd does not care about the operation.
head -c 4194304 /dev/zero | PATH="$tmp/bin:$PATH" NUMAVCTL="$tmp/bin/numavctl" "$hook" vm1 prepare begin - \
        >/dev/null 2>&1
[ "${PIPESTATUS[0]}" -eq 0 ]; ok $? "4 MiB of domain XML are consumed (the writer never gets SIGPIPE)"
run_hook "$tmp/bin/numavctl" vm1 started begin
! [ -e "$tmp/virsh-called" ]; ok $? "libvirt (virsh) is never called"

run_hook "$tmp/bin/no-such-numavctl" vm1 started begin
[ $rc -eq 0 ] && [ -z "$out" ]; ok $? "numavctl missing: exit 0, no output"
run_hook "$tmp/bin/numavctl-fail" vm1 started begin
[ $rc -eq 0 ] && [ -z "$out" ]; ok $? "numavctl failing noisily: exit 0, no output"
# The hook gives numavctl 2 s, then kills it a second later; 30 s is only a bound against a hang.
run_hook "$tmp/bin/numavctl-hang" vm1 started begin
[ $rc -eq 0 ] && [ -z "$out" ]; ok $? "numavctl hanging and ignoring SIGTERM: the hook is not held (rc $rc)"
hang_pid=$(cat "$tmp/hang.pid" 2>/dev/null)
# Dead, or a zombie left to whoever reaps orphans here.
[ -n "$hang_pid" ] && ! ps -o stat= -p "$hang_pid" | grep -qv '^Z'
ok $? "the hanging numavctl was killed (pid $hang_pid)"

# The real numavctl, with no daemon listening: still silent and 0, and "--" keeps a name such as
# "-h" an argument (exit 3, daemon down, rather than 2, usage).
ctl="${top_builddir:-.}/numavctl"
if [ -x "$ctl" ]; then
        for name in "-h" "\$(touch $tmp/pwned-real)" "$long"; do
                out=$(printf '%s' "$xml" | NUMAVD_ADDRESS="unix:$tmp/no-socket" NUMAVCTL="$ctl" \
                        timeout 30 "$hook" "$name" started begin - 2>&1)
                [ $? -eq 0 ] && [ -z "$out" ]
                ok $? "real numavctl, no daemon, name '${name:0:30}': exit 0, silent"
        done
        NUMAVD_ADDRESS="unix:$tmp/no-socket" timeout 30 "$ctl" --timeout=1s -- \
                notify-domain -h started begin >/dev/null 2>&1
        [ $? -eq 3 ]; ok $? "real numavctl takes a name after -- as an argument (exit 3: daemon down)"
        ! [ -e "$tmp/pwned-real" ]; ok $? "nothing executed through the real numavctl"
else
        tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP numavctl is not built"
fi

# End to end: the hook, the real numavctl and a real numavd (on the simulated host) that reacts.
numavd="${top_builddir:-.}/numavd"
scn="${top_srcdir:-.}/tests/scenarios/rehome-test.scn"
if [ -x "$ctl" ] && [ -x "$numavd" ] && [ "$(id -u)" -eq 0 ]; then
        export NUMAVD_ADDRESS="unix:$tmp/io.numavd.Manager"
        "$numavd" --sim="$scn" --speed=1 --epochs=600 --log-level=debug --varlink="$NUMAVD_ADDRESS" \
                >/dev/null 2>"$tmp/numavd.log" &
        dpid=$!
        trap 'kill $dpid 2>/dev/null; [ -f "$tmp/hang.pid" ] && kill -9 "$(cat "$tmp/hang.pid")" 2>/dev/null
                rm -rf "$tmp"' EXIT
        for _ in $(seq 100); do "$ctl" --timeout=1s vm rehome >/dev/null 2>&1 && break; sleep 0.1; done
        frozen() { "$ctl" --timeout=2s --json vm rehome | json_ok ".frozen == $1" 2>/dev/null; }
        wait_log() {
                for _ in $(seq 50); do grep -qF -- "$1" "$tmp/numavd.log" && return 0; sleep 0.1; done
                return 1
        }

        frozen false; ok $? "numavd runs, VM rehome not frozen"
        out=$(printf '%s' "$xml" | NUMAVCTL="$ctl" "$hook" rehome migrate begin - 2>&1)
        [ $? -eq 0 ] && [ -z "$out" ] && wait_log "VM rehome: incoming live migration, placement frozen."
        ok $? "hook 'migrate begin': numavd freezes the VM's placement"
        frozen true; ok $? "numavctl vm rehome shows frozen: true"
        "$ctl" --timeout=2s vm rehome | grep -qx "Placement: *on, frozen (live migration)"
        ok $? "numavctl vm rehome says: Placement: on, frozen (live migration)"
        NUMAVCTL="$ctl" "$hook" rehome prepare begin - </dev/null
        NUMAVCTL="$ctl" "$hook" rehome start begin - </dev/null
        sleep 0.3
        frozen true; ok $? "hooks 'prepare begin' and 'start begin': still frozen"
        NUMAVCTL="$ctl" "$hook" rehome started begin - </dev/null
        for _ in $(seq 50); do frozen false && break; sleep 0.1; done
        frozen false; ok $? "hook 'started begin': placement thaws (libvirt runs no 'migrate end')"
        "$ctl" --timeout=2s vm rehome | grep -qx "Placement: *on"
        ok $? "numavctl vm rehome says: Placement: on"
        hostile="\$(touch $tmp/pwned-daemon) \`id\` 'q' \"d\" 名前 $long"
        NUMAVCTL="$ctl" "$hook" "$hostile" started begin - </dev/null
        wait_log "libvirt: domain $hostile started begin."
        ok $? "a hostile name reaches numavd byte for byte"
        ! [ -e "$tmp/pwned-daemon" ]; ok $? "and nothing of it was executed"
        NUMAVCTL="$ctl" "$hook" rehome stopped end - </dev/null
        wait_log "VM rehome stopped, forgetting it"; ok $? "hook 'stopped end': numavd forgets the VM"
        kill "$dpid"; wait "$dpid"; ok $? "numavd exits 0 afterwards"
else
        tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP needs numavctl, numavd and root"
fi

done_testing
