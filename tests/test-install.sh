#!/bin/bash
# `make install DESTDIR=...` puts every file in its place and nothing outside DESTDIR; the installed
# units pass systemd-analyze verify there; `make uninstall` takes every file away again.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
dest="$tmp/dest"
# Without man(1), verify cannot look the Documentation= pages up.
man_opt=
command -v man >/dev/null 2>&1 || man_opt=--man=no
# A make of our own, not a job of the `make check` that runs this test.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
mk() { make --no-print-directory -C "$build" "$@"; }

mk -s print-install-dirs >"$tmp/dirs" 2>/dev/null
ok $? "make print-install-dirs"
while IFS='=' read -r k v; do printf -v "$k" '%s' "$v"; done <"$tmp/dirs"
for d in prefix sbindir bindir sysconfdir datadir pkgdatadir mandir systemdsystemunitdir sysusersdir \
        libvirthookdir; do
        [ -n "${!d:-}" ] || { echo "# $d unknown"; done_testing; exit 1; }
done

mk install DESTDIR="$dest" >"$tmp/install.log" 2>&1
rc=$?
ok $rc "make install DESTDIR=... succeeds $([ $rc -eq 0 ] || tail -n 5 "$tmp/install.log")"
[ $rc -eq 0 ] || { done_testing; exit 1; }

at() { echo "$dest$1"; }
[ -x "$(at "$sbindir/numavd")" ]; ok $? "numavd in $sbindir"
if [ -x "$build/numavctl" ]; then
        [ -x "$(at "$bindir/numavctl")" ]; ok $? "numavctl in $bindir"
else
        tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP numavctl is not built"
fi
cmp -s "$(at "$sysconfdir/numavd/numavd.conf")" "$src/etc/numavd.conf"
ok $? "numavd.conf in $sysconfdir/numavd"
for u in numavd.service numavd.socket; do
        [ -f "$(at "$systemdsystemunitdir/$u")" ]; ok $? "$u in $systemdsystemunitdir"
done
grep -qxF "ExecStart=$sbindir/numavd" "$(at "$systemdsystemunitdir/numavd.service")"
ok $? "numavd.service starts $sbindir/numavd"
cmp -s "$(at "$sysusersdir/numavd.conf")" "$src/etc/sysusers.d/numavd.conf"
ok $? "the sysusers.d group in $sysusersdir"
hook=$(at "$libvirthookdir/numavd")
[ -x "$hook" ] && grep -qF "\${NUMAVCTL:-$bindir/numavctl}" "$hook"
ok $? "the libvirt hook in $libvirthookdir, executable, calling $bindir/numavctl"
for page in man1/numavctl.1 man4/numavd_ept.4 man5/numavd.conf.5 man8/numavd.8; do
        grep -q '^\.TH' "$(at "$mandir/$page")"; ok $? "man page $mandir/$page"
done
want=$(cd "$src/bench/scenarios" && ls -- *.scn | sort)
have=$(cd "$(at "$pkgdatadir/scenarios")" 2>/dev/null && ls -- *.scn | sort)
[ -n "$want" ] && [ "$want" = "$have" ]
ok $? "every scenario in $pkgdatadir/scenarios ($(echo $have | wc -w))"
for f in "$src"/src/*/*.varlink; do
        [ -f "$f" ] || continue
        cmp -s "$(at "$datadir/varlink/${f##*/}")" "$f"; ok $? "${f##*/} in $datadir/varlink"
done

# Nothing outside the configured directories, and so nothing outside DESTDIR.
stray=$(cd "$dest" && find . ! -type d | sed 's|^\.||' |
        awk -v p="$prefix/" -v e="$sysconfdir/" 'index($0, p) != 1 && index($0, e) != 1')
[ -d "$dest" ] && [ -z "$stray" ]; ok $? "every installed file is under $prefix or $sysconfdir $stray"
echo "# installed: $(cd "$dest" && find . ! -type d | wc -l) files"

if command -v systemd-analyze >/dev/null 2>&1; then
        mkdir -p "$tmp/units"
        sed "s|^ExecStart=|ExecStart=$dest|" "$(at "$systemdsystemunitdir/numavd.service")" \
                >"$tmp/units/numavd.service"
        cp "$(at "$systemdsystemunitdir/numavd.socket")" "$tmp/units/"
        out=$(MANPATH="$(at "$mandir")" systemd-analyze verify $man_opt "$tmp/units/numavd.service" \
                "$tmp/units/numavd.socket" 2>&1)
        [ $? -eq 0 ] && [ -z "$out" ]
        ok $? "the installed units pass systemd-analyze verify, with the installed man pages $out"
else
        tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP systemd-analyze is not installed"
fi

mk uninstall DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1
ok $? "make uninstall DESTDIR=... succeeds"
left=$(cd "$dest" && find . ! -type d)
[ -z "$left" ]; ok $? "make uninstall leaves no file behind $left"

done_testing
