#!/bin/bash
# Everything an operator can set stays documented: every key of src/daemon/config.c's table is in
# numavd.conf(5) and in etc/numavd.conf, under its section; every option of `numavd --help` and
# `numavctl --help` is in its man page; the generated pages exist.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}

# "Section Key" for each entry of the table: KEY("Section", "Key", ...) and VM_KEY("Key", ...).
key_re='(^|[^_A-Za-z])KEY\("[A-Za-z]+", *"[A-Za-z]+"|VM_KEY\("[A-Za-z]+"'
keys=$(grep -oE "$key_re" "$src/src/daemon/config.c" |
        sed -E 's/^.*VM_KEY\("([A-Za-z]+)"/VM \1/; s/^.*KEY\("([A-Za-z]+)", *"([A-Za-z]+)"/\1 \2/')
n=$(printf '%s\n' "$keys" | grep -c .)
[ "$n" -ge 10 ]; ok $? "config.c's table yields its keys ($n)"

# The keys each file documents, as "Section Key": a section starts at "[Name" (commented or not, in
# numavd.conf) or at a "# [Name" heading (in the scdoc source); a key is "#Key=" or "*Key=*".
conf_keys() {
        awk '/^#?\[[A-Za-z]+/ { s = $0; sub(/^#?\[/, "", s); sub(/[^A-Za-z].*$/, "", s); next }
             /^#?[A-Za-z]+=/ { k = $0; sub(/^#/, "", k); sub(/=.*$/, "", k); print s, k }' "$1"
}
scd_keys() {
        awk '/^# \[[A-Za-z]+/ { s = $0; sub(/^# \[/, "", s); sub(/[^A-Za-z].*$/, "", s); next }
             /^# / { s = "" }
             /^\*[A-Za-z]+=/ { k = $0; sub(/^\*/, "", k); sub(/=.*$/, "", k); print s, k }' "$1"
}
conf=$(conf_keys "$src/etc/numavd.conf")
scd=$(scd_keys "$src/man/numavd.conf.5.scd")
while read -r section key; do
        grep -qxF "$section $key" <<<"$conf"
        ok $? "[$section] $key= is in etc/numavd.conf"
        grep -qxF "$section $key" <<<"$scd"
        ok $? "[$section] $key= is in numavd.conf(5)"
done <<<"$keys"
# And the other way round: nothing documented that the parser does not know.
while read -r section key; do
        [ -n "$key" ] || continue
        grep -qxF "$section $key" <<<"$keys"
        ok $? "numavd.conf(5)'s [$section] $key= is a key of config.c"
done <<<"$scd"

# Long options of a --help text, each documented as *--option* in the scdoc source.
options_documented() { # binary scd
        local opts o
        opts=$("$1" --help | grep -oE '^ +(-[a-zA-Z] )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+')
        [ -n "$opts" ] || return 1
        for o in $opts; do
                grep -qF -- "*$o" "$2" || { echo "$o is missing from $2"; return 1; }
        done
}
options_documented "$build/numavd" "$src/man/numavd.8.scd"
ok $? "every option of numavd --help is in numavd(8)"
if [ -x "$build/numavctl" ]; then
        options_documented "$build/numavctl" "$src/man/numavctl.1.scd"
        ok $? "every option of numavctl --help is in numavctl(1)"
        for c in status vms vm monitor reload set-log-level metrics notify-domain; do
                grep -qE "^\*$c\*" "$src/man/numavctl.1.scd"
                ok $? "numavctl(1) documents the command $c"
        done
else
        tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP numavctl is not built yet"
fi

for page in numavd.8 numavd.conf.5 numavctl.1 numavd_ept.4; do
        f="$build/man/$page"
        [ -f "$f" ] || f="$src/man/$page"
        grep -q '^\.TH' "$f"
        ok $? "man/$page is generated"
done

done_testing
