// SPDX-License-Identifier: GPL-2.0
/* A test module for numavd_ept's lookup of KVM's vendor module parameters
 * (kernel/numavd_ept_param.h). It registers parameters exactly as kvm_amd and kvm_intel do (svm.c,
 * vmx.c: module_param_named with the registered name, a bool, 0444), so the lookup can be tried
 * where neither vendor module loads (the lab's TCG guests have no VMX). Reading its parameter
 * "lookup" answers, through numavd_ept's very function, what the module would read from a vendor
 * module registered so: "npt=1 ept=1 eptad=0". */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "numavd_ept_param.h"

static bool npt_enabled = true;
module_param_named(npt, npt_enabled, bool, 0444);
static bool enable_ept = true;
module_param_named(ept, enable_ept, bool, 0444);
static bool enable_ept_ad_bits = true;
module_param_named(eptad, enable_ept_ad_bits, bool, 0444);

static int nv_param_lookup_get(char *buf, const struct kernel_param *kp)
{
	/* def = 1 for eptad: a name the module does not register would read as 1, so "eptad=0"
	 * can only come from the parameter itself. */
	return sysfs_emit(buf, "npt=%d ept=%d eptad=%d\n",
			  nv_ept_module_param_bool(THIS_MODULE, NV_EPT_PARAM_AMD_NPT, false),
			  nv_ept_module_param_bool(THIS_MODULE, NV_EPT_PARAM_INTEL_EPT, false),
			  nv_ept_module_param_bool(THIS_MODULE, NV_EPT_PARAM_INTEL_EPTAD, true));
}

static const struct kernel_param_ops nv_param_lookup_ops = {
	.get = nv_param_lookup_get,
};
module_param_cb(lookup, &nv_param_lookup_ops, NULL, 0444);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("numavd_ept lab test: the vendor module parameter lookup");
