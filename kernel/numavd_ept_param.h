/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NUMAVD_EPT_PARAM_H
#define NUMAVD_EPT_PARAM_H

/* The parameters of KVM's vendor modules that tell what the VMs' MMU uses, by the names the
 * modules register them under (module_param_named(NAME, variable, bool, 0444)): kvm_amd's npt
 * (arch/x86/kvm/svm/svm.c: npt_enabled), kvm_intel's ept (vmx.c: enable_ept) and eptad
 * (vmx.c: enable_ept_ad_bits, the EPT accessed and dirty bits). The vendor module clears them at
 * load when the hardware lacks the feature, so they tell what is in use. The names are the ABI of
 * sysfs (/sys/module/kvm_intel/parameters/eptad), not the variables' names. */
#define NV_EPT_PARAM_AMD_NPT "npt"
#define NV_EPT_PARAM_INTEL_EPT "ept"
#define NV_EPT_PARAM_INTEL_EPTAD "eptad"

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

/* A boolean parameter of module mod by its registered name; def if it has none by that name (or
 * one of another type). The numavd_ept module and its lab test module share this one lookup. */
static inline bool nv_ept_module_param_bool(const struct module *mod, const char *name, bool def)
{
	unsigned int i;

	for (i = 0; i < mod->num_kp; i++) {
		const struct kernel_param *kp = &mod->kp[i];

		if (strcmp(kp->name, name) == 0 && kp->ops == &param_ops_bool)
			return READ_ONCE(*(bool *)kp->arg);
	}
	return def;
}

#endif
