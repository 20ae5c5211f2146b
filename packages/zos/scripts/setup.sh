#!/usr/bin/env bash
# Builds zgrid's guest kernel + initramfs for the micro-VM layer (packages/zos/src/hypervisor).
# Idempotent: a stamp over the inputs (this script, guest/init, busybox) makes a second run return
# in well under a second without asking apt. Output: $ZGRID_GUEST_DIR (default .tools/guest):
#   vmlinux        uncompressed kernel (ELF, booted by QEMU through PVH; no bzImage decompression)
#   initramfs.cpio uncompressed newc archive: busybox-static, the virtio/9p/overlay/ext4 modules, /init
#   version        kernel release, for logs
# The kernel comes from Debian's linux-image-amd64 (resolved to linux-image-<abi>-amd64), fetched
# with `apt-get download` and unpacked with dpkg -x, so the host's /boot is never touched.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${ZGRID_GUEST_DIR:-$root/.tools/guest}"
step() { printf '\033[1m==> zos: %s\033[0m\n' "$*" >&2; }

# Modules in load order (PLATFORM.md "Virtual machines"; built-in ones are skipped). No virtio_pci:
# the guest only runs on -M microvm (virtio-mmio); that saves boot time.
modules=(virtio_ring virtio virtio_mmio
  9pnet 9pnet_virtio netfs fscache 9p overlay virtio_blk crc32c_generic jbd2 mbcache crc16 ext4
  failover net_failover virtio_net virtio_console)

busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list >/dev/null || { echo "zos setup: busybox-static missing (apt-get install busybox-static)" >&2; exit 1; }
# Fast path without apt: the inputs we own are unchanged and a guest is built. The kernel package
# is pinned by that build (reproducible); a kernel upgrade comes with a change to this script or
# after removing $out.
inputs="$( (cat "${BASH_SOURCE[0]}" "$here/guest/init" "$here/guest/zinit.c" "$here/guest/zagent.c"; sha256sum "$busybox" | cut -d' ' -f1) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/inputs" 2>/dev/null || true)" = "$inputs" ] && [ -s "$out/vmlinux" ] && [ -s "$out/initramfs.cpio" ]; then
  exit 0
fi

resolve_kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1; }
kpkg="$(resolve_kpkg)"
if [ -z "$kpkg" ] && [ ! -s "$out/vmlinux" ]; then apt-get update -qq >/dev/null 2>&1 || true; kpkg="$(resolve_kpkg)"; fi
# Offline with a built guest and no package lists: keep what is there.
if [ -z "$kpkg" ] && [ -s "$out/vmlinux" ] && [ -s "$out/initramfs.cpio" ]; then exit 0; fi
[ -n "$kpkg" ] || { echo "zos setup: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 1; }
kver="$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')"
stamp="$( (cat "${BASH_SOURCE[0]}" "$here/guest/init" "$here/guest/zinit.c" "$here/guest/zagent.c"; echo "$kpkg $kver"; sha256sum "$busybox") | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/stamp" 2>/dev/null || true)" = "$stamp" ] && [ -s "$out/vmlinux" ] && [ -s "$out/initramfs.cpio" ]; then
  echo "$inputs" > "$out/inputs"
  exit 0
fi

step "building guest kernel + initramfs from $kpkg $kver into $out"
mkdir -p "$out/deb"
work="$(mktemp -d "$out/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
deb="$(ls "$out/deb/${kpkg}_"*.deb 2>/dev/null | head -n1 || true)"
if [ -z "$deb" ] || ! dpkg-deb -f "$deb" Version | grep -qxF "$kver"; then
  rm -f "$out/deb/"*.deb
  (cd "$out/deb" && apt-get download -qq "$kpkg" 2>&1 | grep -v "_apt" >&2 || true)
  deb="$(ls "$out/deb/${kpkg}_"*.deb | head -n1)"
fi
dpkg-deb -x "$deb" "$work/pkg"
vmlinuz="$(ls "$work/pkg/boot/vmlinuz-"* | head -n1)"
release="${vmlinuz##*/vmlinuz-}"

# vmlinux: the bzImage payload is one xz stream; find its magic and decompress (trailing data is ignored).
off="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1)"
tail -c +"$((off + 1))" "$vmlinuz" | xz -dc > "$work/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = "7f454c46" ] || { echo "zos setup: no ELF vmlinux in $vmlinuz" >&2; exit 1; }

# initramfs tree
ir="$work/initramfs"
mkdir -p "$ir"/{bin,sbin,dev,proc,sys,run,tmp,etc,cfg,lower,upper,newroot,lib/modules}
cp "$busybox" "$ir/bin/busybox"
install -m 0755 "$here/guest/init" "$ir/init"
# zinit: the app's PID 1 (reaps, forwards signals, reports the exit status, syncs and powers off)
command -v gcc >/dev/null || { echo "zos setup: gcc missing (apt-get install gcc libc6-dev)" >&2; exit 1; }
gcc -static -Os -s -Wall -o "$ir/bin/zinit" "$here/guest/zinit.c"
# zagent: the guest agent on virtio-serial (exec, signals to the app), a child of zinit
gcc -static -Os -s -Wall -o "$ir/bin/zagent" "$here/guest/zagent.c"
moddir="$work/pkg/lib/modules/$release"
: > "$ir/lib/modules/order"
for m in "${modules[@]}"; do
  f="$(find "$moddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)"
  if [ -z "$f" ]; then
    grep -q "/$m.ko\$" "$moddir/modules.builtin" 2>/dev/null || echo "zos setup: module $m not found (skipped)" >&2
    continue
  fi
  case "$f" in *.xz) xz -dc "$f" > "$ir/lib/modules/$m.ko" ;; *) cp "$f" "$ir/lib/modules/$m.ko" ;; esac
  echo "$m" >> "$ir/lib/modules/order"
done
# byte-reproducible archive: fixed mtimes, sorted names, no inode/dev numbers, root owner
find "$ir" -exec touch -h -d @0 {} +
(cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --reproducible --quiet -R 0:0 > "$work/initramfs.cpio")

mkdir -p "$out"
mv -f "$work/vmlinux" "$out/vmlinux"
mv -f "$work/initramfs.cpio" "$out/initramfs.cpio"
echo "$release" > "$out/version"
echo "$stamp" > "$out/stamp"
echo "$inputs" > "$out/inputs"
step "guest ready: kernel $release ($(du -h "$out/vmlinux" | cut -f1)), initramfs $(du -h "$out/initramfs.cpio" | cut -f1)"
