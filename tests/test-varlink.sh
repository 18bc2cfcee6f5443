#!/bin/bash
# numavd's varlink server and numavctl against a running `numavd --sim`: every numavctl command
# (text and --json), the malformed-input corpus (each gets an error while another client is
# served throughout), a flood of connections, permissions for a non-root peer, and numavctl
# against no daemon.
set -u
. "$top_srcdir/tests/tap.sh"
B=$top_builddir
corpus=$top_srcdir/tests/varlink-corpus
tmp=$(mktemp -d)
chmod 0755 "$tmp"
pid=
flood=
cleanup() {
        [ -n "$flood" ] && kill "$flood" 2>/dev/null
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v jq >/dev/null; then
        echo "1..0 # SKIP jq is not installed"
        exit 0
fi

addr=unix:$tmp/io.numavd.Manager
ctl() { "$B/numavctl" --address="$addr" "$@"; }

# numavctl against a listener that never accepts and whose backlog is full: every step of the
# call is bounded by --timeout, the notify-domain of the libvirt hook included. timeout(1) only
# catches a numavctl that would block for ever (exit 124).
mkfifo "$tmp/stuck-hold"
"$B/tests/varlink-raw" "unix:$tmp/stuck" full-backlog <"$tmp/stuck-hold" >"$tmp/stuck.out" 2>&1 & stuck=$!
exec 8>"$tmp/stuck-hold"
for _ in $(seq 100); do [ -s "$tmp/stuck.out" ] && break; sleep 0.1; done
grep -q "^full after" "$tmp/stuck.out"; ok $? "a listener that never accepts, its backlog full ($(cat "$tmp/stuck.out"))"
timeout 20 "$B/numavctl" --address="unix:$tmp/stuck" --timeout=300ms status >/dev/null 2>"$tmp/stuck.err"; rc=$?
[ $rc -eq 3 ] && grep -q "numavd is not answering (connecting to unix:$tmp/stuck timed out" "$tmp/stuck.err"
ok $? "numavctl against a full backlog gives up after --timeout: exit 3, says so (rc $rc: $(cat "$tmp/stuck.err"))"
timeout 20 "$B/numavctl" --address="unix:$tmp/stuck" --timeout=300ms -- notify-domain vm1 started begin \
        >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ]; ok $? "notify-domain (the hook's call) against a full backlog gives up too (rc $rc)"
exec 8>&-
wait $stuck

# numavctl without a daemon: a plain message, exit 3.
ctl status >"$tmp/down.out" 2>"$tmp/down.err"; rc=$?
[ $rc -eq 3 ]; ok $? "numavctl without a daemon exits 3 (got $rc)"
grep -q "numavd is not running (cannot connect to $addr: " "$tmp/down.err"
ok $? "numavctl without a daemon says numavd is not running"
NUMAVD_ADDRESS=$addr "$B/numavctl" vms >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ]; ok $? "NUMAVD_ADDRESS is honoured (exit $rc)"
"$B/numavctl" --address="$addr" frobnicate >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; ok $? "an unknown command is a usage error (exit $rc)"
"$B/numavctl" --address="$addr" vm >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; ok $? "a missing argument is a usage error (exit $rc)"

cat >"$tmp/numavd.conf" <<EOF
[Daemon]
LogLevel=info
EOF
"$B/numavd" --config="$tmp/numavd.conf" --sim="$top_srcdir/bench/scenarios/rehome.scn" --speed=20 \
        --varlink="$addr" >"$tmp/numavd.out" 2>"$tmp/numavd.err" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/io.numavd.Manager" ] && break; sleep 0.1; done
[ -S "$tmp/io.numavd.Manager" ]; ok $? "numavd --varlink=unix:PATH listens on PATH"
[ "$(stat -c %a "$tmp/io.numavd.Manager")" = 660 ]; ok $? "the socket's mode is 0660"
# Wait for a few epochs so that there is something to show.
for _ in $(seq 100); do
        e=$(ctl --json status 2>/dev/null | jq -r .epoch 2>/dev/null)
        [ "${e:-0}" -ge 3 ] 2>/dev/null && break
        sleep 0.1
done

# Every command, text and JSON.
ctl status >"$tmp/status.txt"; ok $? "status"
grep -q "backend sim" "$tmp/status.txt" && grep -q "^NODE" "$tmp/status.txt"; ok $? "status shows the backend and the nodes"
ctl --json status >"$tmp/status.json"; ok $? "status --json"
json_true "$tmp/status.json" '.backend == "sim" and (.nodes | length == 2) and .nodes[0].distances[0] == 10 and .vms == 1'
ok $? "status --json: backend, two nodes with distances, one VM"
ctl vms >"$tmp/vms.txt"; ok $? "vms"
grep -Eq '^web1 .*\[[#= ]{20}\]( [#=][0-9]:[0-9]+%)+$' "$tmp/vms.txt"; ok $? "vms shows web1 with a bar of its memory per node"
ctl --no-legend vms | grep -qv NAME; ok $? "vms --no-legend prints no header"
ctl --json vms >"$tmp/vms.json"; ok $? "vms --json"
json_true "$tmp/vms.json" '.[0].name == "web1" and (.[0].memoryPerNode | add) == .[0].memoryBytes'
ok $? "vms --json: memory per node adds up to the VM's memory"
ctl vm web1 >"$tmp/vm.txt"; ok $? "vm NAME"
grep -q "^Memory per node:" "$tmp/vm.txt" && grep -q "^Not moved, why:" "$tmp/vm.txt"; ok $? "vm shows memory per node and verdicts"
vmpid=$(jq -r '.[0].pid' "$tmp/vms.json")
ctl --json vm "$vmpid" >"$tmp/vm.json"; ok $? "vm PID --json"
json_true "$tmp/vm.json" '.name == "web1" and (.bytesByVerdict | type == "object") and .frozen == false'
ok $? "vm --json by pid finds web1"
# The text says what the JSON says, each field read as its type (booleans were once read as 0).
ctl --json vm web1 >"$tmp/vm1.json"
ctl vm web1 >"$tmp/vm1.txt"
json_true "$tmp/vm1.json" '.placement == true' && grep -qx "Placement: *on" "$tmp/vm1.txt"
ok $? "vm: placement true in JSON is 'Placement: on' in text"
! grep -q "^Not moved, why:.*\bmove " "$tmp/vm1.txt"
ok $? "vm: 'Not moved, why:' never lists the bytes planned to move"
mv=$(jq '.bytesByVerdict.move // 0' "$tmp/vm1.json")
[ "$mv" -eq 0 ] || grep -q "^Planned to move: " "$tmp/vm1.txt"
ok $? "vm: bytes planned to move ($mv) have their own line"
json_true "$tmp/vm1.json" '.hotBytes >= 0 and .hotLocalPercent >= 0' && grep -Eq "^Hot: +[0-9.]+[KMGT]?i?B?, [0-9.]+% on the node of the vCPUs that touch it" "$tmp/vm1.txt"
ok $? "vm: with the sim backend the heat is known: $(grep '^Hot:' "$tmp/vm1.txt")"
! grep -q "(dry run)" "$tmp/status.txt"
ok $? "status: dryRun false is not shown as a dry run"
ctl vm nosuchvm >/dev/null 2>"$tmp/novm.err"; rc=$?
[ $rc -eq 1 ] && grep -q "io.numavd.Manager.NoSuchVM" "$tmp/novm.err"; ok $? "vm of an unknown VM: NoSuchVM, exit 1 (got $rc)"
# The waits for epochs end well before the timeouts, which are only guards: under load (make
# distcheck runs the suite in parallel) three epochs once took about 10 s, and the timeout, then
# also 10 s, ended the monitor first (exit 124).
timeout 120 "$B/numavctl" --address="$addr" monitor >"$tmp/monitor.txt" & mon=$!
for _ in $(seq 600); do [ "$(wc -l <"$tmp/monitor.txt")" -ge 3 ] && break; sleep 0.1; done
kill -INT $mon 2>/dev/null; wait $mon; rc=$?
[ "$(wc -l <"$tmp/monitor.txt")" -ge 3 ] && grep -q "^epoch [0-9]*: .*web1 hot" "$tmp/monitor.txt"
ok $? "monitor prints a line per epoch"
[ $rc -eq 0 ]; ok $? "monitor exits 0 when interrupted (got $rc)"
timeout 120 "$B/numavctl" --address="$addr" --json monitor >"$tmp/monitor.json" & mon=$!
for _ in $(seq 600); do [ "$(wc -l <"$tmp/monitor.json")" -ge 2 ] && break; sleep 0.1; done
kill -INT $mon 2>/dev/null; wait $mon
e1=$(sed -n 1p "$tmp/monitor.json" | jq .epoch); e2=$(sed -n 2p "$tmp/monitor.json" | jq .epoch)
[ -n "$e1" ] && [ -n "$e2" ] && [ "$e2" -gt "$e1" ]; ok $? "monitor --json: one JSON line per epoch ($e1, $e2)"
ctl metrics >"$tmp/metrics.txt"; ok $? "metrics"
grep -q '^numavd_vm_hot_bytes{vm="web1"} [0-9]' "$tmp/metrics.txt" && grep -q '^# TYPE numavd_epochs_total counter' "$tmp/metrics.txt"
ok $? "metrics: Prometheus text with numavd_* metrics"
! grep -Ev '^(# (HELP|TYPE) numavd_[a-z_]+ .*|numavd_[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? -?[0-9.e+]+)$' "$tmp/metrics.txt"
ok $? "metrics: every line is a comment or a sample"
ctl --json metrics | json_ok '.host.backend == "sim" and (.vms | length == 1)'; ok $? "metrics --json"
ctl set-log-level debug; ok $? "set-log-level debug"
ctl set-log-level info; ok $? "set-log-level info"
ctl set-log-level loud 2>"$tmp/level.err"; rc=$?
[ $rc -eq 1 ] && grep -q 'InvalidParameter.*"level"' "$tmp/level.err"; ok $? "set-log-level of a bad level: InvalidParameter, exit 1"
ctl reload; ok $? "reload"
ctl --json reload | json_ok 'type == "object"'; ok $? "reload --json"
echo "Epoch=bogus" >>"$tmp/numavd.conf"
ctl reload 2>"$tmp/reload.err"; rc=$?
[ $rc -eq 1 ] && grep -q 'io.numavd.Manager.ConfigInvalid.*numavd.conf:3' "$tmp/reload.err"
ok $? "reload of an invalid file: ConfigInvalid naming file:line, exit 1 ($(head -c 200 "$tmp/reload.err"))"
ctl status >/dev/null; ok $? "the daemon keeps serving after a rejected reload"
# The failed reload stays in GetHost and `numavctl status` until a reload succeeds.
ctl status >"$tmp/status-failed.out"
grep -q '^Last reload failed at [0-9-]* [0-9:]* .*, the previous configuration stays:$' "$tmp/status-failed.out" &&
        grep -q '^  .*numavd.conf:3: .*Epoch=.*bogus' "$tmp/status-failed.out"
ok $? "status shows the failed reload, when, and its file:line ($(tail -n 1 "$tmp/status-failed.out"))"
now=$(date +%s)
ctl --json status | json_ok '.lastFailedReload.message | test("numavd.conf:3: ")' &&
        ctl --json status | json_ok ".lastFailedReload.timestamp / 1e6 | . > $now - 60 and . <= $now + 1"
ok $? "status --json: lastFailedReload has the message and a timestamp of now"
cp "$tmp/numavd.conf" "$tmp/numavd.conf.bad"
sed -i '$d' "$tmp/numavd.conf"
kill -HUP "$pid"
for _ in $(seq 50); do ctl --json status | json_ok 'has("lastFailedReload") | not' && break; sleep 0.1; done
ctl --json status | json_ok 'has("lastFailedReload") | not'; ok $? "a successful reload (SIGHUP) clears it"
ctl status | grep -q "Last reload failed"; [ $? -ne 0 ]; ok $? "and status no longer shows it"
cp "$tmp/numavd.conf.bad" "$tmp/numavd.conf"
kill -HUP "$pid"
for _ in $(seq 50); do ctl --json status | json_ok 'has("lastFailedReload")' && break; sleep 0.1; done
ctl --json status | json_ok '.lastFailedReload.message | test("numavd.conf:3: ")'
ok $? "a reload by SIGHUP that fails is shown too"
sed -i '$d' "$tmp/numavd.conf"
ctl reload; ok $? "reload of the fixed file"
ctl notify-domain web1 migrate begin; ok $? "notify-domain migrate begin"
for _ in $(seq 50); do ctl --json vm web1 | json_ok .frozen && break; sleep 0.1; done
ctl --json vm web1 | json_ok '.frozen == true'; ok $? "migrate begin freezes placement"
ctl notify-domain web1 started begin; ok $? "notify-domain started begin"
for _ in $(seq 50); do ctl --json vm web1 | json_ok '.frozen | not' && break; sleep 0.1; done
ctl --json vm web1 | json_ok '.frozen == false'; ok $? "started begin thaws it (there is no migrate end)"
ctl notify-domain 'a $(touch /tmp/pwned) "quoted" ünïcode' started begin; ok $? "notify-domain with a hostile name"
ctl status >/dev/null; ok $? "the daemon is fine after a hostile domain name"
# A domain name that tries to forge log lines (a newline and a journal "<3>" prefix, a terminal
# escape, a byte that is not UTF-8) is logged escaped, on one line.
ctl set-log-level debug
ctl notify-domain $'evil\n<3>numavd: forged\e[2J\xff' stopped end; ok $? "notify-domain with a name that forges a line"
ctl set-log-level info
for _ in $(seq 50); do grep -qF 'evil\n<3>numavd: forged\x1b[2J\xff' "$tmp/numavd.err" && break; sleep 0.1; done
grep -qF 'evil\n<3>numavd: forged\x1b[2J\xff' "$tmp/numavd.err" && ! grep -q '^<3>numavd: forged' "$tmp/numavd.err" &&
        ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$tmp/numavd.err"
ok $? "the daemon's log shows that name escaped, and no control byte ($(grep -F 'domain evil' "$tmp/numavd.err" | head -n 1))"

# The malformed-input corpus; a second client is served after each.
for f in "$corpus"/*.in; do
        name=$(basename "$f" .in)
        mode=
        case $name in *nonul*) mode=nonul ;; esac
        "$B/tests/varlink-raw" "$addr" send "$f" $mode >"$tmp/$name.out" 2>&1
        grep -qF -- "$(cat "$corpus/$name.expect")" "$tmp/$name.out"
        ok $? "corpus $name: $(head -c 120 "$tmp/$name.out" | tr '\n' ' ')"
        ctl --json status >/dev/null || ok 1 "the daemon serves another client after $name"
done
head -1 "$tmp/pipelined.out" | grep -q '"interfaces"' && sed -n 2p "$tmp/pipelined.out" | grep -q MethodNotFound
ok $? "pipelined calls are answered in order"
grep -q CLOSED "$tmp/not-json.out"; ok $? "the connection is closed when a message is not JSON"

# Generated inputs: over the size cap, nested too deeply.
{ printf '{"method":"io.numavd.Manager.GetHost","parameters":{"x":"'; head -c 2000000 /dev/zero | tr '\0' a; printf '"}}'; } >"$tmp/big.in"
"$B/tests/varlink-raw" "$addr" send "$tmp/big.in" >"$tmp/big.out" 2>&1
grep -q 'message too large' "$tmp/big.out"; ok $? "a 2 MB message: ProtocolError, message too large"
{ printf '{"method":"io.numavd.Manager.GetHost","parameters":{"x":'; for _ in $(seq 200); do printf '['; done; for _ in $(seq 200); do printf ']'; done; printf '}}'; } >"$tmp/deep.in"
"$B/tests/varlink-raw" "$addr" send "$tmp/deep.in" >"$tmp/deep.out" 2>&1
grep -q 'nested too deeply' "$tmp/deep.out"; ok $? "JSON nested 200 deep: ProtocolError, nested too deeply"
ctl status >/dev/null; ok $? "the daemon serves another client after the generated inputs"

# A flood of connections from one UID: capped, and another UID is still served meanwhile.
mkfifo "$tmp/hold"
"$B/tests/varlink-raw" "$addr" flood 300 <"$tmp/hold" >"$tmp/flood.out" & flood=$!
exec 9>"$tmp/hold"
for _ in $(seq 300); do [ -s "$tmp/flood.out" ] && break; sleep 0.1; done
kept=$(cat "$tmp/flood.out")
[ "${kept:-0}" -ge 1 ] && [ "${kept:-999}" -le 128 ]; ok $? "a flood of 300 connections from one UID: $kept kept (cap 128)"
ctl status >/dev/null; ok $? "during the flood, a new client of the same UID is served: an idle one made room"
ctl --json status | json_ok '.epoch >= 0'; ok $? "... and again"
if command -v setpriv >/dev/null && nobody=$(id -u nobody 2>/dev/null) && nogroup=$(id -g nobody); then
        setpriv --reuid="$nobody" --regid="$nogroup" --groups=0 "$B/numavctl" --address="$addr" status >/dev/null 2>&1
        ok $? "during the flood, a client of another UID is served"
else
        echo "ok $((tap_n += 1)) - # SKIP setpriv or user nobody missing"
fi
exec 9>&-
wait $flood; flood=
ctl status >/dev/null; ok $? "after the flood, the daemon serves again"
# A client that closes its connections and reconnects at once is not refused for its own dead
# connections, even before the daemon has seen them hang up.
served=0
for round in 1 2 3 4 5; do
        mkfifo "$tmp/hold$round"
        "$B/tests/varlink-raw" "$addr" flood 40 <"$tmp/hold$round" >"$tmp/flood$round.out" & flood=$!
        exec 9>"$tmp/hold$round"
        for _ in $(seq 300); do [ -s "$tmp/flood$round.out" ] && break; sleep 0.05; done
        exec 9>&-
        wait $flood; flood=
        ctl status >/dev/null && served=$((served + 1))
done
[ $served -eq 5 ]; ok $? "a capped client that reconnects right after closing is served ($served of 5)"

# Permissions: a non-root peer in the socket's group reads, but may not change anything; one
# outside it cannot connect at all.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && nobody=$(id -u nobody 2>/dev/null) && nogroup=$(id -g nobody); then
        asgroup() { setpriv --reuid="$nobody" --regid="$nogroup" --groups=0 "$@"; }
        asgroup "$B/numavctl" --address="$addr" vms >/dev/null 2>&1; ok $? "a non-root member of the socket's group may list VMs"
        asgroup "$B/numavctl" --address="$addr" reload >/dev/null 2>"$tmp/perm.err"; rc=$?
        [ $rc -eq 1 ] && grep -q org.varlink.service.PermissionDenied "$tmp/perm.err"; ok $? "... but Reload is PermissionDenied (exit $rc)"
        asgroup "$B/numavctl" --address="$addr" set-log-level debug >/dev/null 2>&1; rc=$?
        [ $rc -eq 1 ]; ok $? "... and SetLogLevel too (exit $rc)"
        asgroup "$B/numavctl" --address="$addr" notify-domain web1 migrate begin >/dev/null 2>&1
        sleep 0.2
        ctl --json vm web1 | json_ok '.frozen == false'; ok $? "... and a oneway NotifyDomain is ignored"
        setpriv --reuid="$nobody" --regid="$nogroup" --clear-groups "$B/numavctl" --address="$addr" status >/dev/null 2>&1; rc=$?
        [ $rc -eq 3 ]; ok $? "a peer outside the socket's group cannot connect (exit $rc)"
else
        echo "ok $((tap_n += 1)) - # SKIP permission checks need root, setpriv and the user nobody"
fi

kill -0 "$pid"; ok $? "numavd is still running after all of it"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ]; ok $? "numavd exits cleanly on SIGTERM"
[ ! -e "$tmp/io.numavd.Manager" ]; ok $? "numavd removed its socket"
! grep -q "pwned" /dev/null && [ ! -e /tmp/pwned ]; ok $? "no hostile name was ever run"

# Socket activation: numavd serves the socket it is passed (LISTEN_FDS), as with numavd.socket.
if command -v systemd-socket-activate >/dev/null; then
        systemd-socket-activate -l "$tmp/activated" "$B/numavd" --sim="$top_srcdir/bench/scenarios/rehome.scn" \
                --speed=20 --dry-run >"$tmp/act.out" 2>"$tmp/act.err" &
        pid=$!
        for _ in $(seq 50); do [ -S "$tmp/activated" ] && break; sleep 0.1; done
        "$B/numavctl" --address="unix:$tmp/activated" --json status | json_ok '.backend == "sim"'
        ok $? "a socket-activated numavd answers on the socket it was passed"
        "$B/numavctl" --address="unix:$tmp/activated" status | head -n 1 | grep -q "(dry run)$"
        ok $? "status of a --dry-run numavd says so (dryRun is a boolean)"
        kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
        [ $rc -eq 0 ]; ok $? "the socket-activated numavd exits cleanly (got $rc)"
else
        echo "ok $((tap_n += 1)) - # SKIP systemd-socket-activate is not installed"
fi
done_testing
