# The QEMU lab (tests/lab/README.md): `make lab-check` boots Debian's kernels under TCG with two
# NUMA nodes and runs tests/lab/t-*.sh inside. Not part of `make check`; .ci/run runs it.
check_PROGRAMS += tests/lab/nv-vmm tests/lab/nv-ept-fuzz tests/lab/nv-hold-keys
tests_lab_nv_vmm_SOURCES = tests/lab/nv-vmm.c tests/lab/nv-vmm.h tests/lab/nv-vmm-bench.c tests/lab/nv-vmm-attrib.c \
	tests/lab/nv-vmm-scene.c
tests_lab_nv_vmm_LDADD = -lpthread
tests_lab_nv_ept_fuzz_SOURCES = tests/lab/nv-ept-fuzz.c tests/tap.h
tests_lab_nv_ept_fuzz_LDADD = libnvsampler.a libnvmodel.a libnvcommon.a -lm -lpthread
# t-kmod-attrib: the kmod attribution sampler against the real module
check_PROGRAMS += tests/lab/nv-attr-port
tests_lab_nv_attr_port_SOURCES = tests/lab/nv-attr-port.c tests/tap.h
tests_lab_nv_attr_port_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS)
tests_lab_nv_attr_port_LDADD = libnvhost.a libnvsampler.a libnvmodel.a libnvcommon.a $(HWLOC_LIBS) -lm
lab-check: tests/lab/nv-attr-port

NV_LAB_FILES = \
	tests/lab/lab.sh tests/lab/lab-deps.sh tests/lab/mkinitramfs.sh tests/lab/guest-init.sh \
	tests/lab/t-kmod-fuzz.sh tests/lab/t-kmod-numavd.sh tests/lab/t-kmod-bench.sh tests/lab/t-kmod-attrib.sh
EXTRA_DIST += tests/lab/README.md $(NV_LAB_FILES)

# LAB_TESTS="t-kmod-fuzz ..." picks tests; NUMAVD_LAB_CACHE is where kernels are kept.
lab-check: all tests/lab/nv-vmm tests/lab/nv-ept-fuzz tests/lab/nv-hold-keys
	$(AM_V_GEN)top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(top_srcdir)/tests/lab/lab.sh $(LAB_TESTS)
.PHONY: lab-check

# t-damon, t-dirty, t-service (DAMON backend, dirty rate, numavd.service under systemd)
check_PROGRAMS += tests/lab/nv-dirty-writer
tests_lab_nv_dirty_writer_SOURCES = tests/lab/nv-dirty-writer.c
tests_lab_nv_dirty_writer_LDADD = -lpthread
NV_LAB_FILES += tests/lab/t-damon.sh tests/lab/t-dirty.sh tests/lab/t-service.sh tests/lab/lab-systemd.sh
lab-check: tests/lab/nv-dirty-writer tests/test-dirty-rate
# t-service copies numavd, as `make install` lays it out, into its guest's root.
lab-check: lab-root
lab-root: all
	$(AM_V_GEN)rm -rf lab/root && $(MAKE) $(AM_MAKEFLAGS) install DESTDIR='$(abs_top_builddir)/lab/root' >/dev/null && \
		$(MAKE) $(AM_MAKEFLAGS) -s print-install-dirs >lab/install-dirs
.PHONY: lab-root

# t-l2: a real L2 Linux under QEMU -accel kvm; l2-touch is its workload (static: it runs from the
# L2's busybox initramfs), l2-where tells the L1 where the L2's pages sit.
check_PROGRAMS += tests/lab/l2-touch tests/lab/l2-where
tests_lab_l2_touch_SOURCES = tests/lab/l2-touch.c
tests_lab_l2_touch_LDFLAGS = -static
tests_lab_l2_where_SOURCES = tests/lab/l2-where.c
NV_LAB_FILES += tests/lab/t-l2.sh tests/lab/t-l2-attrib.sh tests/lab/l2-boot.sh tests/lab/l2-mkinitramfs.sh
# The lab's own modules: t-kmod-param's, which registers parameters as kvm_amd and kvm_intel do,
# and the one every lab guest loads at boot (tests/lab/README.md, "TCG and the guest kernel's text
# patching").
NV_LAB_FILES += tests/lab/t-kmod-param.sh tests/lab/kmod/.clang-format tests/lab/kmod/Kbuild \
	tests/lab/kmod/nv_param_test.c tests/lab/kmod/nv_lab_hold.c
lab-check: tests/lab/l2-touch tests/lab/l2-where

# t-deb-install installs the packages tests/test-deb.sh built into lab/debs (`make lab-debs`).
NV_LAB_FILES += tests/lab/t-deb-install.sh
lab-debs:
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/tests/test-deb.sh '$(abs_top_builddir)/lab/debs'
.PHONY: lab-debs

# The lab bake-off (`make lab-bench`, LAB_BENCH=quick for the short one): every scenario under every
# policy in one boot per kernel, results in lab/bench/. Not part of lab-check.
NV_LAB_FILES += tests/lab/lab-bench.sh tests/lab/bench-cells.sh tests/lab/bench-policy.sh \
	tests/lab/bench-summary.awk tests/lab/bench-table.awk tests/lab/bench-plot.gp
# The bake-off's summaries, checked by make check on a fixture of cells.
dist_check_SCRIPTS += tests/test-lab-bench-table.sh
TESTS += tests/test-lab-bench-table.sh
EXTRA_DIST += tests/fixtures/lab-bench
lab-bench: all tests/lab/nv-vmm tests/lab/nv-hold-keys
	$(AM_V_GEN)LAB_BENCH='$(LAB_BENCH)' top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(top_srcdir)/tests/lab/lab-bench.sh
.PHONY: lab-bench
