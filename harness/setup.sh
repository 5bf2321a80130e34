#!/bin/bash
# setup.sh - install what mmtorture needs (Debian 12, as root), build it, and
#   run:   the default quick suite (summary table, records under results/)
#   test:  meson test (unit, harness, detector and workload tests)
# usage: harness/setup.sh run|test [extra meson test / mmtorture run args]
set -euo pipefail

mode=${1:-}
case "$mode" in
run|test) shift ;;
*) echo "usage: harness/setup.sh run|test [ARGS...]" >&2; exit 99 ;;
esac
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "harness/setup.sh: run as root (it installs packages and changes kernel knobs, which it restores)" >&2
	exit 99
fi

packages=(meson ninja-build pkg-config gcc libc6-dev git jq
	  liburing-dev libnuma-dev libhwloc-dev libjansson-dev libgsl-dev zlib1g-dev
	  qemu-system-x86 busybox-static cpio gnuplot-nox stress-ng strace xz-utils)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "== building"
[ -f build/build.ninja ] || meson setup build
ninja -C build

case "$mode" in
run)
	echo "== running the quick suite"
	exec build/mmtorture run --suite quick -o results "$@"
	;;
test)
	echo "== meson test"
	# suite kernel builds kernels (tens of minutes): run it explicitly
	exec meson test -C build --print-errorlogs --no-suite kernel "$@"
	;;
esac
