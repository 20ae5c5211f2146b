#!/usr/bin/env bash
# Builds the root tree of zgrid's Kubernetes image (packed, signed and pushed as an flist by
# src/k8s-flist.ts). Cached outside the clone under $ZGRID_K8S_CACHE (/var/cache/zgrid/kubernetes):
#   image/base                     Debian bookworm minbase + containerd 1.6, runc, CNI plugins, etcd,
#                                  iptables, … from Debian's archive (debootstrap; once per machine)
#   image/<key>/root               base + the Kubernetes binaries + the guest kernel's modules +
#                                  the pause image + containerd config + the zgrid-k8s bootstrap
#   bash packages/k8s/scripts/build-image-root.sh [--bin DIR] [--base-only]   # prints the root path
# --bin takes any Kubernetes release's server binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy, kubectl, kubeadm); default: the Debian-source v1.20.2 build
# of build-kubernetes.sh. The pause image is built from the 1.20.2 tree's build/pause/linux/pause.c
# (static gcc) and packed with umoci (OCI) + skopeo (docker-archive, named for `ctr import`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${ZGRID_K8S_CACHE:-/var/cache/zgrid/kubernetes}"
bin="$cache/v1.20.2/bin"; base_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$(cd "$2" && pwd)"; shift 2 ;;
    --base-only) base_only=1; shift ;;
    *) echo "build-image-root: unknown argument $1 (use --bin DIR | --base-only)" >&2; exit 2 ;;
  esac
done
step() { printf '\033[1m==> k8s image: %s\033[0m\n' "$*" >&2; }
mkdir -p "$cache/image"
exec 9>"$cache/image/.lock"; flock 9

# 1. the Debian base, once per machine
packages="containerd,runc,containernetworking-plugins,etcd-server,iptables,conntrack,ebtables,ethtool,socat,kmod,iproute2,iputils-ping,ca-certificates,dnsmasq-base,curl,procps,util-linux,mount,netcat-openbsd,openssl"
base="$cache/image/base"
if [ "$(cat "$base.stamp" 2>/dev/null || true)" != "$packages" ] || [ ! -x "$base/usr/bin/containerd" ]; then
  step "debootstrap bookworm minbase + $packages (a few minutes, once per machine)"
  rm -rf "$base.tmp" "$base"
  nice debootstrap --variant=minbase --include="$packages" bookworm "$base.tmp" "${ZGRID_DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$cache/image/debootstrap.log" 2>&1 \
    || { echo "k8s image: debootstrap failed, see $cache/image/debootstrap.log" >&2; exit 1; }
  rm -rf "$base.tmp/var/cache/apt/archives"/*.deb "$base.tmp/var/lib/apt/lists"/*_Packages
  mv "$base.tmp" "$base"
  echo "$packages" > "$base.stamp"
fi
[ -n "$base_only" ] && { echo "$base"; exit 0; }

# 2. inputs of the image: binaries, guest kernel (its modules must match the kernel zos boots)
need=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm)
for b in "${need[@]}"; do [ -x "$bin/$b" ] || { echo "k8s image: $bin/$b missing (build-kubernetes.sh, or --bin DIR with a release's server binaries)" >&2; exit 1; }; done
guest="${ZGRID_GUEST_DIR:-$repo/.tools/guest}"
kdeb="$(ls "$guest"/deb/linux-image-*.deb 2>/dev/null | head -n1 || true)"
[ -n "$kdeb" ] || { echo "k8s image: no guest kernel package in $guest/deb (run bash packages/zos/scripts/setup.sh)" >&2; exit 1; }
pausec="$cache/v1.20.2/src/tree/build/pause/linux/pause.c"
[ -s "$pausec" ] || { echo "k8s image: $pausec missing (run build-kubernetes.sh: the pause image is built from its tree)" >&2; exit 1; }
version="$("$bin/kubelet" --version | awk '{print $2}')"
key="$( (echo "$packages"; sha256sum "${BASH_SOURCE[0]}" "$here/image/"* "$pausec"; basename "$kdeb"; for b in "${need[@]}"; do stat -c '%n %s %Y' "$bin/$b"; done) | sha256sum | cut -c1-16)"
out="$cache/image/$version-$key"
if [ -f "$out/done" ]; then echo "$out/root"; exit 0; fi
step "assembling the $version image root in $out"
rm -rf "$out"; mkdir -p "$out"
root="$out/root"
cp -a "$base" "$root"

# binaries
for b in "${need[@]}"; do install -m 0755 "$bin/$b" "$root/usr/local/bin/$b"; done

# kernel modules the kubelet, kube-proxy and the pod network need, from the guest kernel package
kx="$out/kernel"; mkdir -p "$kx"; dpkg-deb -x "$kdeb" "$kx"
release="$(ls "$kx/lib/modules")"
src="$kx/lib/modules/$release"; dst="$root/lib/modules/$release"
mkdir -p "$dst/kernel/drivers/net"
cp -a "$src"/modules.order "$src"/modules.builtin* "$dst/"
cp -a "$src/kernel/net" "$src/kernel/lib" "$src/kernel/crypto" "$dst/kernel/"
mkdir -p "$dst/kernel/fs" && cp -a "$src/kernel/fs/overlayfs" "$dst/kernel/fs/"
for m in veth.ko dummy.ko vxlan macvlan.ko ipvlan; do [ -e "$src/kernel/drivers/net/$m" ] && cp -a "$src/kernel/drivers/net/$m" "$dst/kernel/drivers/net/"; done
rm -rf "$dst/kernel/net/wireless" "$dst/kernel/net/mac80211" "$dst/kernel/net/bluetooth"
chroot "$root" /sbin/depmod "$release"
rm -rf "$kx"

# pause image: static pause from the tree, OCI image with umoci, docker-archive named for ctr import
pause_ref="zgrid.local/pause:3.4"
p="$out/pause"; mkdir -p "$p/bundle"
gcc -Os -Wall -Werror -static -DVERSION=v3.4-zgrid -o "$p/pause" "$pausec"
umoci init --layout "$p/oci" && umoci new --image "$p/oci:3.4"
umoci unpack --image "$p/oci:3.4" "$p/bundle/b" >/dev/null
install -m 0755 "$p/pause" "$p/bundle/b/rootfs/pause"
umoci repack --image "$p/oci:3.4" "$p/bundle/b"
umoci config --image "$p/oci:3.4" --config.entrypoint /pause --config.user 65535:65535 --os linux --architecture amd64
mkdir -p "$root/opt/zgrid"
skopeo copy -q "oci:$p/oci:3.4" "docker-archive:$root/opt/zgrid/pause.tar:$pause_ref"
echo "$pause_ref" > "$root/opt/zgrid/pause.ref"
rm -rf "$p"

# containerd config, bootstrap, legacy iptables (the modules above; kube-proxy 1.20 predates nft detection)
sed "s|@PAUSE@|$pause_ref|" "$here/image/containerd.toml" > "$root/etc/containerd/config.base.toml"
install -m 0755 "$here/image/zgrid-k8s" "$root/usr/local/sbin/zgrid-k8s"
chroot "$root" update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
chroot "$root" update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null
echo "$version" > "$root/opt/zgrid/kubernetes-version"
rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
touch "$out/done"
# older image roots (each ~0.9 GB; a new one per bootstrap or binary change): the newest two stay
# (the previous one may still back a running VM's share); the flists packed from them are on the hub
ls -1dt "$cache/image/$version"-*/ 2>/dev/null | tail -n +3 | while read -r old; do rm -rf "${old%/}"; done
step "image root ready: $root ($(du -sh "$root" | cut -f1))"
echo "$root"
