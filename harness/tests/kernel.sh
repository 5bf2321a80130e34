#!/bin/bash
# Suite kernel (slow, not in default CI): build a trimmed kernel from Debian's
# linux-source-6.12 with the empty base series, boot it under QEMU, run a
# workload inside, and check the records carry the -mmt-base release.
# usage: kernel.sh MMTORTURE OUTDIR
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1 OUT=$2
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -1)
if [ -z "$tarball" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-source-6.12 >/dev/null ||
		{ echo "ERROR: cannot install linux-source-6.12"; exit 99; }
	tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -1)
fi
t0=$SECONDS
"$MMT" kernel build --source "$tarball" --series base --config trim -o "$OUT" || fail "kernel build exited $?"
ok "built in $((SECONDS - t0)) s"
img="$OUT/build-base-trim/bzImage"
[ -f "$img" ] || fail "no bzImage at $img"
res=$(mktemp -d)
trap 'rm -rf "$res"' EXIT
"$MMT" vm run --kernel "$img" --cpus 2 --numa 2 --hotplug-dimm 512M -o "$res" --run-id k -- uring-pin-fork -d 2 ||
	fail "the built kernel did not run the workload (exit $?): $(jq -r .reason "$res/k/vm.json" 2>/dev/null)"
rel=$(rec "$res/k/uring-pin-fork.json" .system.kernel.release)
series=$(rec "$res/k/uring-pin-fork.json" .system.kernel.patch_series)
[[ "$rel" == *-mmt-base* ]] || fail "guest release $rel lacks -mmt-base"
[ "$series" = base ] || fail "record's patch_series is '$series', want base"
ok "booted $rel ($(rec "$res/k/vm.json" .accel)); records say patch_series=$series"
echo "1 passed, 0 failed"
