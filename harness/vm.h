/* SPDX-License-Identifier: GPL-2.0 */
/* vm.h - kernel build, VM runs, A/B and nightly commands. */
#ifndef MMT_VM_H
#define MMT_VM_H

int mmt_cmd_kernel(int argc, char **argv);
int mmt_cmd_vm(int argc, char **argv);
int mmt_cmd_ab(int argc, char **argv);
int mmt_cmd_nightly(int argc, char **argv);

extern const char mmt_kernel_usage[], mmt_vm_usage[], mmt_ab_usage[], mmt_nightly_usage[];

#endif
