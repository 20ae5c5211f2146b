#!/usr/bin/env bash
# build-system-root.sh [OUT]: the Debian userspace a stateless node runs zosd in (issue 19).
# A debootstrap'd bookworm minbase plus exactly the host tools zosd calls (QEMU, iproute2,
# wireguard, haproxy, socat, e2fsprogs, dosfstools/mtools, FUSE, kmod) and the boot kernel's own
# modules (/lib/modules/<release>, from the same linux-image .deb the boot image takes its kernel
# from), so zosd's `modprobe tun/bridge/wireguard/...` finds them. It becomes the `system/` tree of
# the node release flist; the release's entry runs zosd chrooted in an overlay of it (a tmpfs on
# top: nothing is written to the node's disk).
# Cached per input hash in /var/cache/zgrid/os (outside the clone; a few minutes cold, once per
# machine); prints the path of the root on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${ZGRID_OS_CACHE:-/var/cache/zgrid/os}"
packages="qemu-system-x86,qemu-utils,e2fsprogs,iproute2,iptables,wireguard-go,wireguard-tools,haproxy,socat,fuse,libfuse2,kmod,dosfstools,mtools,busybox-static,cpio,xz-utils,procps,redis-server,ca-certificates"
deb="$(ls "$root/.tools/guest/deb/"linux-image-*.deb 2>/dev/null | head -n1)"
[ -s "$deb" ] || { echo "os: no kernel package in .tools/guest/deb (run scripts/setup.sh)" >&2; exit 1; }
key="$( (cat "${BASH_SOURCE[0]}"; echo "$packages"; sha256sum "$deb" | cut -d' ' -f1) | sha256sum | cut -c1-16)"
out="${1:-$cache/system-$key}"
if [ -f "$out/.zgrid-system-root" ]; then echo "$out"; exit 0; fi
mkdir -p "$(dirname "$out")"
rm -rf "$out.tmp"
echo "os: debootstrap bookworm minbase + node tools into $out (a few minutes, once per machine)" >&2
nice debootstrap --variant=minbase --include="$packages" bookworm "$out.tmp" "${ZGRID_DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$out.tmp.log" 2>&1 \
  || { echo "os: debootstrap failed, see $out.tmp.log" >&2; exit 1; }
# the boot kernel's modules (zosd loads tun, bridge, wireguard, nf_tables, vhost, ... on demand)
pkg="$(mktemp -d)"; trap 'rm -rf "$pkg"' EXIT
dpkg-deb -x "$deb" "$pkg"
release="$(ls "$pkg/lib/modules" | head -n1)"
mkdir -p "$out.tmp/lib/modules"
rm -rf "$out.tmp/lib/modules/$release"
cp -a "$pkg/lib/modules/$release" "$out.tmp/lib/modules/"
chroot "$out.tmp" depmod -a "$release"
# nothing of a package manager's caches or docs in a node's OS image
rm -rf "$out.tmp"/var/cache/apt/archives/*.deb "$out.tmp"/var/lib/apt/lists/* "$out.tmp"/usr/share/doc "$out.tmp"/usr/share/man "$out.tmp"/usr/share/locale
# mount points the entry binds into (the release itself, the node's data disk)
mkdir -p "$out.tmp/opt/zgrid" "$out.tmp/var/lib/zgrid" "$out.tmp/run"
echo "$key $release" > "$out.tmp/.zgrid-system-root"
mv "$out.tmp.log" "$out.tmp/.debootstrap.log"
mv "$out.tmp" "$out"
echo "$out"
