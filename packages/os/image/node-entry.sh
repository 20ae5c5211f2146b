#!/bin/sh
# The node release's entry (issue 19): run by the boot image's first process from the verified,
# read-only release mount ($ZGRID_RELEASE_ROOT), with the boot parameters as ZGRID_* env.
#  1. the node's system root: the release's `system/` tree (Debian userspace: QEMU, iproute2,
#     wireguard, haproxy, … and the boot kernel's modules) under an overlay whose upper layer is
#     RAM, so nothing of the OS is written to the disk;
#  2. the release itself at /opt/zgrid, the cache disk at /var/lib/zgrid (zosd's data dir is its
#     zos/, where the boot identity seed already is: the node key IS the boot identity);
#  3. zosd's and the upgrader's configs from the env (bin/zgrid-node-setup.ts), which then waits
#     until the farmer has funded the node account;
#  4. the upgrader, chrooted, as the node's long-lived process: it runs zosd from this release and
#     follows the chain's approved release from then on (installs go to RAM, see node-config.ts).
# Console lines start `zgrid-node:`; a failure prints `zgrid-node: FATAL …` and exits non-zero (the
# boot image then stops the machine).
R="$ZGRID_RELEASE_ROOT"
N="${ZGRID_NODE_ROOT:-/run/zgrid/node}"
W="$N-rw"
say() { echo "zgrid-node: $*"; }
fatal() { echo "zgrid-node: FATAL $*"; exit 1; }
[ -n "$R" ] && [ -d "$R/system/usr/bin" ] || fatal "NODE_RELEASE: the release has no system root (build it with: zgrid release build --system)"
kver="$(uname -r)"
# (ZGRID_NODE_FOREIGN_KERNEL=1: run on a host whose kernel is not the boot image's, for tests)
[ -d "$R/system/lib/modules/$kver" ] || [ "$ZGRID_NODE_FOREIGN_KERNEL" = 1 ] || fatal "NODE_RELEASE: the release's system root has no modules for kernel $kver (it was built for $(ls "$R/system/lib/modules" | head -n1))"
# overlay is not in the boot image's module list: load it from the release (verified blocks)
grep -qw overlay /proc/filesystems || {
  f="$(find "$R/system/lib/modules/$kver/kernel/fs/overlayfs" -name 'overlay.ko*' | head -n1)"
  case "$f" in *.xz) xz -dc "$f" > /run/overlay.ko && insmod /run/overlay.ko ;; *) insmod "$f" ;; esac || fatal "NODE_OVERLAY: cannot load the overlay module ($f)"
}
mkdir -p "$W" "$N"
mount -t tmpfs -o mode=0755 node-rw "$W" && mkdir -p "$W/upper" "$W/work" || fatal "NODE_OVERLAY: no tmpfs for the system root's writable layer"
mount -t overlay node-root -o "lowerdir=$R/system,upperdir=$W/upper,workdir=$W/work" "$N" || fatal "NODE_OVERLAY: cannot mount the system root overlay"
mount -o rbind /dev "$N/dev" && mount -t proc proc "$N/proc" && mount -t sysfs sys "$N/sys" || fatal "NODE_MOUNT: /dev, /proc or /sys"
# Kernel modules for what zosd makes (taps, bridges, veths, WireGuard, NAT). The kernel's own
# auto-loading runs /proc/sys/kernel/modprobe in the boot image's root, whose modules are only the
# boot set: point it at kmod in the node root, where all the boot kernel's modules are. /dev/net/tun
# only appears once tun is loaded (nothing opens it before), so the usual ones are loaded now.
if [ "$ZGRID_NODE_FOREIGN_KERNEL" != 1 ]; then
  printf '#!/bin/sh\nexec /bin/busybox chroot %s /sbin/modprobe "$@"\n' "$N" > /run/zgrid-modprobe && chmod 0755 /run/zgrid-modprobe \
    && echo /run/zgrid-modprobe > /proc/sys/kernel/modprobe || say "cannot set the kernel's module loader; modules load only as listed below"
  for m in tun bridge veth wireguard nf_tables nft_chain_nat nft_compat xt_MASQUERADE iptable_nat; do
    chroot "$N" /sbin/modprobe "$m" 2>/dev/null || say "module $m not loaded (zosd falls back where it can)"
  done
fi
mount -t tmpfs -o mode=0755 run "$N/run" && mount -t tmpfs tmpfs "$N/tmp" || fatal "NODE_MOUNT: /run or /tmp"
mount -o bind "$R" "$N/opt/zgrid" || fatal "NODE_MOUNT: the release at /opt/zgrid"
mount -o bind "$ZGRID_DATA_DIR" "$N/var/lib/zgrid" || fatal "NODE_MOUNT: the cache disk at /var/lib/zgrid"
mkdir -p "$N/sys/fs/cgroup" && mount -t cgroup2 cgroup2 "$N/sys/fs/cgroup" 2>/dev/null
[ -f /etc/resolv.conf ] && cp /etc/resolv.conf "$N/etc/resolv.conf"
echo "zgrid-node" > "$N/etc/hostname"
node --disable-warning=ExperimentalWarning "$R/packages/os/bin/zgrid-node-setup.ts" --root "$N" --release "$R" || exit 1
say "starting the upgrader (zosd from release $(cat "$R/RELEASE"))"
# zosd's log on the console too (a node has no shell: the console is where a farmer looks)
# ($$ becomes the upgrader by the exec below: the tail ends with it)
main=$$
( f=; while [ -z "$f" ] && kill -0 "$main" 2>/dev/null; do sleep 2; for g in "$N"/run/zgrid-upgrader/logs/zosd-*.log; do [ -f "$g" ] && f="$g"; done; done
  [ -n "$f" ] || exit 0
  tail -n +1 -F "$f" & t=$!
  while kill -0 "$main" 2>/dev/null; do sleep 2; done; kill "$t" ) &
exec chroot "$N" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  /opt/zgrid/node/bin/node --disable-warning=ExperimentalWarning /opt/zgrid/packages/upgrader/bin/upgrader.ts --config /etc/zgrid/upgrader.json
