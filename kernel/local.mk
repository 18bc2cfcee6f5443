# The numavd_ept module: built only for the lab (`make lab-check`) or by DKMS, shipped in the tarball.
EXTRA_DIST += \
	kernel/.clang-format kernel/Kbuild kernel/Makefile kernel/dkms.conf kernel/numavd_ept.h \
	kernel/numavd_ept_main.c kernel/numavd_ept_ops.c kernel/numavd_ept_fault.c kernel/numavd_ept_param.h
