#!/usr/bin/env bash
# Development loop: boots an image root (build-image-root.sh's output) as a single-node cluster in
# QEMU exactly as zosd boots a container zmachine (zgrid guest kernel + initramfs, root on 9p,
# config share), but with QEMU user networking instead of a zgrid network, and a data disk on
# /var/lib/zk8s. The master is schedulable. Console to DIR/console.log. Run under the VM lock:
#   flock /tmp/zgrid-vm.lock bash packages/k8s/scripts/try-image.sh ROOT DIR [memory MiB]
# Leaves QEMU running (pid in DIR/qemu.pid); `kill $(cat DIR/qemu.pid)` ends it.
set -euo pipefail
root="$1"; dir="$2"; mem="${3:-2048}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
guest="${ZGRID_GUEST_DIR:-$repo/.tools/guest}"
mkdir -p "$dir/cfg"
[ -s "$dir/ca.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 -subj "/CN=zgrid-k8s-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" 2>/dev/null
[ -s "$dir/data.img" ] || { truncate -s 4G "$dir/data.img"; mkfs.ext4 -q -F "$dir/data.img"; }
mac=52:54:00:12:34:56
cat > "$dir/cfg/config.sh" <<CFG
ZG_MODE='container'
ZG_HOSTNAME='k8s-try'
ZG_ROOT_TAG='zroot'
ZG_ROOT_DISK=''
ZG_MOUNTS='zd0:/var/lib/zk8s'
ZG_NICS='$mac=10.0.2.15/24'
ZG_GATEWAY='10.0.2.2'
ZG_DNS='10.0.2.3'
set -- '/usr/local/sbin/zgrid-k8s'
CFG
cat > "$dir/cfg/env.sh" <<CFG
export 'ZK8S_ROLE=master'
export 'ZK8S_TOKEN=abcdef.0123456789abcdef'
export 'ZK8S_SCHEDULABLE=1'
export 'ZK8S_SANS=127.0.0.1'
export 'ZK8S_CA_CERT=$(base64 -w0 "$dir/ca.crt")'
export 'ZK8S_CA_KEY=$(base64 -w0 "$dir/ca.key")'
CFG
: > "$dir/cfg/authorized_keys"
khz="$(awk -F: '/^cpu MHz/ {printf "%d", $2*1000; exit}' /proc/cpuinfo)"
rm -f "$dir/console.log"
qemu-system-x86_64 -name guest=k8s-try -M microvm -accel tcg,tb-size=64 -cpu max -smp 2 -m "$mem" \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$guest/vmlinux" -initrd "$guest/initramfs.cpio" \
  -append "console=ttyS0 panic=1 quiet loglevel=4 tsc_early_khz=$khz tsc=reliable cryptomgr.notests ${ZK8S_TRY_APPEND:-}" \
  -chardev "file,id=con,path=$dir/console.log,append=on" -serial chardev:con \
  -fsdev "local,id=zroot,path=$root,security_model=none,readonly=on" -device virtio-9p-device,fsdev=zroot,mount_tag=zroot \
  -fsdev "local,id=zcfg,path=$dir/cfg,security_model=none,readonly=on" -device virtio-9p-device,fsdev=zcfg,mount_tag=zcfg \
  -drive "file=$dir/data.img,format=raw,if=none,id=zd0" -device virtio-blk-device,drive=zd0,serial=zd0 \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:${ZK8S_TRY_PORT:-16443}-:6443" -device "virtio-net-device,netdev=n0,mac=$mac" \
  -pidfile "$dir/qemu.pid" -daemonize
echo "qemu $(cat "$dir/qemu.pid"); console: $dir/console.log; API: https://127.0.0.1:${ZK8S_TRY_PORT:-16443}"
