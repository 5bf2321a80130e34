#!/bin/bash
# fetch-debian-kernel.sh - download and unpack one of Debian's prebuilt cloud
# kernels (no modules needed: everything mmtorture uses is built in) into DIR,
# once.  Prints the vmlinuz path.
# usage: fetch-debian-kernel.sh DIR [PACKAGE]
#   default PACKAGE: linux-image-6.12.117+deb12-cloud-amd64-unsigned
set -euo pipefail
dir=${1:?usage: fetch-debian-kernel.sh DIR [PACKAGE]}
pkg=${2:-linux-image-6.12.117+deb12-cloud-amd64-unsigned}
mkdir -p "$dir"
dir=$(realpath "$dir")
if ! ls "$dir/$pkg"/boot/vmlinuz-* >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>"$tmp/err") || {
		(apt-get update -q >/dev/null 2>&1 && cd "$tmp" && apt-get download "$pkg" >/dev/null 2>"$tmp/err") || {
			echo "fetch-debian-kernel.sh: cannot download $pkg: $(grep -v unsandboxed "$tmp/err" | head -1)" >&2
			exit 99
		}
	}
	rm -rf "${dir:?}/$pkg"
	dpkg-deb -x "$tmp"/*.deb "$dir/$pkg.part"
	mv "$dir/$pkg.part" "$dir/$pkg"
fi
ls "$dir/$pkg"/boot/vmlinuz-*
