# Debian packaging (debhelper): the packages numavd and numavd-dkms. tests/test-deb.sh builds them
# with `dpkg-buildpackage -b -us -uc` in a clean clone and runs lintian; .ci/run runs it.
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/numavd.postrm debian/numavd-dkms.dkms debian/numavd-dkms.install \
	debian/modules-load.d/numavd_ept.conf tests/test-deb.sh
