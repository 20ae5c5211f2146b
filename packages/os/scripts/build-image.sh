#!/usr/bin/env bash
# Builds the zgrid boot image, reproducibly (same inputs -> same bytes), into ${ZGRID_OS_DIR:-.tools/os}:
#   vmlinuz      Debian's kernel (linux-image-amd64, the package the guest kernel comes from), as is
#   initrd.img   zstd newc archive: busybox-static, the NIC/disk/ext4/FUSE modules, /init
#                (packages/os/image/init), Node (the runtime of the first process: its verifier and
#                FUSE mounter) with the libraries it links, libfuse2, and /opt/zgrid/first-process.mjs
#                (packages/os/src/boot bundled with esbuild) + mount-worker.ts
#   version      sha256 of initrd.img (the image's version) ; inputs  stamp of what it was built from
# Everything else (zosd, QEMU, helpers) comes from the signed release flist at boot.
#   bash packages/os/scripts/build-image.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/scripts/env.sh"
out="${ZGRID_OS_DIR:-$root/.tools/os}"
step() { printf '\033[1m==> os: %s\033[0m\n' "$*" >&2; }

# The kernel package: the one packages/zos/scripts/setup.sh fetched (apt-get download, pinned there).
bash "$root/packages/zos/scripts/setup.sh"
deb="$(ls "$root/.tools/guest/deb/"linux-image-*.deb | head -n1)"
[ -s "$deb" ] || { echo "os: no kernel package in .tools/guest/deb (run scripts/setup.sh)" >&2; exit 1; }
node_bin="$(command -v node)"
libfuse="$(ldconfig -p | sed -n 's/^\s*libfuse.so.2 .*=> //p' | head -n1)"
[ -n "$libfuse" ] || { echo "os: libfuse.so.2 missing (apt-get install libfuse2)" >&2; exit 1; }

mkdir -p "$out"
work="$(mktemp -d "$out/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. the first process, bundled (fuse-native stays a node module: it loads a native addon)
esbuild="$root/node_modules/.bin/esbuild"
common=(--bundle --platform=node --format=esm --target=node22 --log-level=error --legal-comments=none
  --external:fuse-native --external:snappy --external:pino-pretty
  "--banner:js=import { createRequire as __zgridRequire } from 'node:module'; const require = __zgridRequire(import.meta.url);")
"$esbuild" "$here/src/boot/first-process-main.ts" "${common[@]}" --outfile="$work/first-process.mjs"
"$esbuild" "$root/packages/flist/src/mount/mount-worker.ts" "${common[@]}" --outfile="$work/mount-worker.ts"

inputs="$( (cat "${BASH_SOURCE[0]}" "$here/image/init" "$here/image/udhcpc.script" "$work/first-process.mjs" "$work/mount-worker.ts"; sha256sum "$deb" /bin/busybox "$node_bin" "$libfuse" | cut -d' ' -f1) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/inputs" 2>/dev/null || true)" = "$inputs" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then exit 0; fi
step "building the boot image into $out"

dpkg-deb -x "$deb" "$work/pkg"
vmlinuz="$(ls "$work/pkg/boot/vmlinuz-"* | head -n1)"
release="${vmlinuz##*/vmlinuz-}"
moddir="$work/pkg/lib/modules/$release"

ir="$work/initramfs"
mkdir -p "$ir"/{bin,sbin,dev,proc,sys,run,tmp,etc,root,var/cache/zgrid,lib/modules,lib64,lib/x86_64-linux-gnu,opt/zgrid/bin,opt/zgrid/node_modules}
cp /bin/busybox "$ir/bin/busybox"
install -m 0755 "$here/image/init" "$ir/init"
install -m 0755 "$here/image/udhcpc.script" "$ir/etc/udhcpc.script"
# modules in load order (built-in ones are skipped): virtio PCI NICs/disks, e1000/ahci for common
# hardware and QEMU's defaults, ext4 for the cache disk, fuse for flists, iso9660/sr for the ISO
modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net e1000 e1000e
  virtio_blk virtio_scsi scsi_common scsi_mod sd_mod libata libahci ahci nvme-core nvme crc32c_generic jbd2 mbcache crc16 ext4 fuse)
: > "$ir/lib/modules/order"
for m in "${modules[@]}"; do
  f="$(find "$moddir/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "${m//-/_}.ko" \) | head -n1)"
  [ -n "$f" ] || continue
  n="${m//-/_}"
  case "$f" in *.xz) xz -dc "$f" > "$ir/lib/modules/$n.ko" ;; *) cp "$f" "$ir/lib/modules/$n.ko" ;; esac
  echo "$n" >> "$ir/lib/modules/order"
done
# Node and the libraries it (and fuse-native's addon) links
cp "$node_bin" "$ir/opt/zgrid/bin/node"
for lib in $(ldd "$node_bin" "$libfuse" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
  case "$lib" in /lib64/*) cp -L "$lib" "$ir/lib64/" ;; *) cp -L "$lib" "$ir/lib/x86_64-linux-gnu/" ;; esac
done
cp -L "$libfuse" "$ir/lib/x86_64-linux-gnu/"
cp "$work/first-process.mjs" "$work/mount-worker.ts" "$ir/opt/zgrid/"
printf '{"type":"module"}\n' > "$ir/opt/zgrid/package.json"
for m in fuse-native fuse-shared-library fuse-shared-library-linux nanoresource napi-macros node-gyp-build inherits snappyjs; do
  [ -d "$root/node_modules/$m" ] && cp -r "$root/node_modules/$m" "$ir/opt/zgrid/node_modules/"
done
rm -rf "$ir/opt/zgrid/node_modules/fuse-native/prebuilds/darwin-x64" "$ir/opt/zgrid/node_modules/fuse-shared-library-linux/libfuse"/*.a 2>/dev/null || true
echo "$inputs" | cut -c1-12 > "$ir/etc/zgrid-image-version"
# byte-reproducible archive: fixed mtimes, sorted names, no inode numbers, root owner, fixed zstd level
find "$ir" -exec touch -h -d @0 {} +
(cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --reproducible --quiet -R 0:0 | zstd -q -T1 -6 > "$work/initrd.img")

cp "$vmlinuz" "$work/vmlinuz"
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/initrd.img" "$out/initrd.img"
sha256sum "$out/initrd.img" | cut -d' ' -f1 > "$out/version"
echo "$release" > "$out/kernel-release"
echo "$inputs" > "$out/inputs"
step "boot image ready: kernel $release, initrd $(du -h "$out/initrd.img" | cut -f1) (version $(cut -c1-12 "$out/version"))"
