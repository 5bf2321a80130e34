// SPDX-License-Identifier: GPL-2.0
/*
 * sysinfo.c - the system snapshot that goes into every record.
 *
 * Kernel release and command line, the config lines that matter to the
 * scenarios, the companion patch series (stamped into the release by
 * kernel/ builds as "-mmt-<series>"), CPU model, the NUMA topology from
 * hwloc, and the THP / khugepaged / hugetlb knobs including per-node pools.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <hwloc.h>
#include <numa.h>
#include <zlib.h>

#include "internal.h"

#include "version.h"

const char *mmt_git_version(void)
{
	return MMT_GIT_VERSION;
}

static const char *const config_keys[] = {
	"CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_HUGETLBFS", "CONFIG_HUGETLB_PAGE",
	"CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING", "CONFIG_ARCH_WANT_HUGE_PMD_SHARE",
	"CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP", "CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP_DEFAULT_ON",
	"CONFIG_IO_URING", "CONFIG_USERFAULTFD", "CONFIG_MEMORY_HOTPLUG",
	"CONFIG_MEMORY_HOTREMOVE", "CONFIG_PT_RECLAIM", "CONFIG_NUMA", "CONFIG_COMPACTION",
	"CONFIG_MIGRATION", "CONFIG_SHMEM", "CONFIG_KASAN", "CONFIG_PROVE_LOCKING",
	"CONFIG_DEBUG_VM", "CONFIG_PTDUMP_DEBUGFS", "CONFIG_PREEMPT", "CONFIG_PREEMPT_DYNAMIC",
	"CONFIG_PREEMPT_VOLUNTARY", "CONFIG_NR_CPUS", "CONFIG_LOCALVERSION",
	"CONFIG_SPLIT_PTE_PTLOCKS", "CONFIG_PER_VMA_LOCK", "CONFIG_MMU_GATHER_RCU_TABLE_FREE",
	NULL,
};

static void add_config_line(json_t *cfg, const char *line)
{
	int i;

	for (i = 0; config_keys[i]; i++) {
		size_t kl = strlen(config_keys[i]);
		const char *p;

		if (!strncmp(line, config_keys[i], kl) && line[kl] == '=') {
			char val[256];

			snprintf(val, sizeof(val), "%s", line + kl + 1);
			json_object_set_new(cfg, config_keys[i], json_string(mmt_strip(val)));
			return;
		}
		p = strstr(line, config_keys[i]);
		if (!strncmp(line, "# ", 2) && p == line + 2 && !strcmp(p + kl, " is not set\n")) {
			json_object_set_new(cfg, config_keys[i], json_string("n"));
			return;
		}
	}
}

static json_t *kernel_config(const char *release, json_t **source)
{
	json_t *cfg = json_object();
	char path[PATH_MAX], line[1024];
	gzFile gz;

	/* gzopen reads plain files too, so /boot/config-* goes the same way. */
	gz = gzopen("/proc/config.gz", "rb");
	*source = json_string("/proc/config.gz");
	if (!gz) {
		snprintf(path, sizeof(path), "/boot/config-%s", release);
		gz = gzopen(path, "rb");
		json_decref(*source);
		*source = gz ? json_string(path) : json_null();
	}
	if (!gz)
		return cfg;
	while (gzgets(gz, line, sizeof(line)))
		add_config_line(cfg, line);
	gzclose(gz);
	return cfg;
}

static json_t *knob_json(const char *path)
{
	char v[512];

	if (mmt_knob_read(path, v, sizeof(v)))
		return json_null();
	return json_string(v);
}

static json_t *knob_dir(const char *dir)
{
	json_t *o = json_object();
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	d = opendir(dir);
	if (!d)
		return o;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		json_object_set_new(o, de->d_name, knob_json(path));
	}
	closedir(d);
	return o;
}

static json_t *hugetlb_json(void)
{
	json_t *h = json_object(), *nodes = json_object();
	static const char *const files[] = { "nr_hugepages", "free_hugepages", "surplus_hugepages",
					     "resv_hugepages", "nr_overcommit_hugepages", NULL };
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int i;

	json_object_set_new(h, "nr_hugepages", knob_json("/proc/sys/vm/nr_hugepages"));
	json_object_set_new(h, "nr_overcommit_hugepages",
			    knob_json("/proc/sys/vm/nr_overcommit_hugepages"));
	json_object_set_new(h, "hugetlb_optimize_vmemmap",
			    knob_json("/proc/sys/vm/hugetlb_optimize_vmemmap"));
	json_object_set_new(h, "default_hugepagesz_kb",
			    json_integer(mmt_proc_field_kb("/proc/meminfo", "Hugepagesize")));
	for (i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-2048kB/%s", files[i]);
		char key[64];

		snprintf(key, sizeof(key), "pool_2m_%s", files[i]);
		json_object_set_new(h, key, knob_json(path));
	}
	d = opendir("/sys/devices/system/node");
	while (d && (de = readdir(d))) {
		json_t *n;

		if (strncmp(de->d_name, "node", 4) || !de->d_name[4])
			continue;
		n = json_object();
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/hugepages/hugepages-2048kB/nr_hugepages",
			 de->d_name);
		json_object_set_new(n, "nr_hugepages_2m", knob_json(path));
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/hugepages/hugepages-2048kB/free_hugepages",
			 de->d_name);
		json_object_set_new(n, "free_hugepages_2m", knob_json(path));
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/hugepages/hugepages-1048576kB/nr_hugepages",
			 de->d_name);
		json_object_set_new(n, "nr_hugepages_1g", knob_json(path));
		json_object_set_new(nodes, de->d_name, n);
	}
	if (d)
		closedir(d);
	json_object_set_new(h, "per_node", nodes);
	return h;
}

static json_t *topology_json(void)
{
	hwloc_topology_t topo;
	json_t *t = json_object(), *nodes = json_array();
	hwloc_obj_t obj = NULL;
	char *cpuset;

	if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
		json_object_set_new(t, "error", json_string("hwloc could not load the topology"));
		return t;
	}
	json_object_set_new(t, "packages",
			    json_integer(hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE)));
	json_object_set_new(t, "cores", json_integer(hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE)));
	json_object_set_new(t, "pus", json_integer(hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU)));
	while ((obj = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, obj))) {
		if (hwloc_bitmap_list_asprintf(&cpuset, obj->cpuset) < 0)
			cpuset = NULL;
		json_array_append_new(nodes, json_pack("{s:i, s:s, s:I}", "os_index",
						       (int)obj->os_index, "cpus",
						       cpuset ? cpuset : "",
						       "memory_kb",
						       (json_int_t)(obj->attr->numanode.local_memory >> 10)));
		free(cpuset);
	}
	json_object_set_new(t, "numa_nodes", nodes);
	hwloc_topology_destroy(topo);
	return t;
}

int mmt_topology_export(const char *xml_path)
{
	hwloc_topology_t topo;
	int ret = 0;

	if (hwloc_topology_init(&topo))
		return -ENOMEM;
	if (hwloc_topology_load(topo)) {
		ret = -EIO;
		goto out_destroy;
	}
	if (hwloc_topology_export_xml(topo, xml_path, 0))
		ret = errno ? -errno : -EIO;
out_destroy:
	hwloc_topology_destroy(topo);
	return ret;
}

bool mmt_node_valid(int node)
{
	if (node < 0 || numa_available() < 0)
		return node == 0;
	if (node > numa_max_node())
		return false;
	return numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)node);
}

static json_t *cpu_model(void)
{
	char line[512];
	json_t *v = json_null();
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			json_decref(v);
			v = json_string(mmt_strip(c + 1));
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

json_t *mmt_sysinfo(void)
{
	json_t *info = json_object(), *src = NULL, *k, *thp;
	struct utsname u;
	char cmdline[4096] = "";
	char host[256] = "";
	const char *series;

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	mmt_read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	k = json_pack("{s:s, s:s, s:s, s:s, s:s}", "sysname", u.sysname, "release", u.release,
		      "version", u.version, "machine", u.machine, "cmdline", mmt_strip(cmdline));
	series = strstr(u.release, "-mmt-");
	json_object_set_new(k, "patch_series", series ? json_string(series + 5) : json_null());
	json_object_set_new(k, "config", kernel_config(u.release, &src));
	json_object_set_new(k, "config_source", src);
	json_object_set_new(info, "hostname", json_string(host));
	json_object_set_new(info, "kernel", k);
	json_object_set_new(info, "cpu_model", cpu_model());
	json_object_set_new(info, "online_cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(info, "mem_total_kb",
			    json_integer(mmt_proc_field_kb("/proc/meminfo", "MemTotal")));
	json_object_set_new(info, "topology", topology_json());
	thp = json_object();
	json_object_set_new(thp, "enabled", knob_json("/sys/kernel/mm/transparent_hugepage/enabled"));
	json_object_set_new(thp, "defrag", knob_json("/sys/kernel/mm/transparent_hugepage/defrag"));
	json_object_set_new(thp, "shmem_enabled",
			    knob_json("/sys/kernel/mm/transparent_hugepage/shmem_enabled"));
	json_object_set_new(thp, "use_zero_page",
			    knob_json("/sys/kernel/mm/transparent_hugepage/use_zero_page"));
	json_object_set_new(thp, "khugepaged",
			    knob_dir("/sys/kernel/mm/transparent_hugepage/khugepaged"));
	json_object_set_new(info, "thp", thp);
	json_object_set_new(info, "hugetlb", hugetlb_json());
	json_object_set_new(info, "vm", json_pack("{s:o, s:o, s:o}",
		"compaction_proactiveness", knob_json("/proc/sys/vm/compaction_proactiveness"),
		"overcommit_memory", knob_json("/proc/sys/vm/overcommit_memory"),
		"numa_balancing", knob_json("/proc/sys/kernel/numa_balancing")));
	return info;
}

static void print_node(json_t *v, const char *prefix, FILE *out)
{
	char key[512];
	const char *k;
	json_t *c;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, c) {
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			print_node(c, key, out);
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, c) {
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			print_node(c, key, out);
		}
		break;
	case JSON_STRING:
		fprintf(out, "%-58s %s\n", prefix, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(out, "%-58s %lld\n", prefix, (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%-58s %g\n", prefix, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		fprintf(out, "%-58s %s\n", prefix, json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		fprintf(out, "%-58s -\n", prefix);
		break;
	}
}

void mmt_sysinfo_print(json_t *info, FILE *out)
{
	print_node(info, "", out);
}
