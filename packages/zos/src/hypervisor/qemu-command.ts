/**
 * Builds the QEMU command line of a VM. Container mode: `-M microvm` booting zgrid's uncompressed
 * guest kernel via PVH, root share + config share over virtio-9p, disks over virtio-blk (found in
 * the guest by serial). Own-kernel mode: the image's kernel/initrd on microvm. Full mode: q35 +
 * SeaBIOS booting the raw image, PCI devices. All: optional tap networking, console on ttyS0
 * appended to a log file, QMP on a unix socket, and `-daemonize` so QEMU runs in its own session
 * and outlives the daemon.
 *
 * @example
 * ```ts
 * const argv = buildQemuArgs({ spec, guest, accel: "tcg", paths, tap: "zt0123456789ab", mac: "02:..." });
 * ```
 */
import type { GuestArtifacts } from "./guest-artifacts.ts";
import { hostTscKhz } from "./guest-artifacts.ts";
import { CONFIG_SHARE_TAG, ROOT_DISK_SERIAL, ROOT_SHARE_TAG, diskSerial } from "./guest-config.ts";
import type { VmSpec } from "./vm-spec.ts";
import { SEED_DISK_SERIAL } from "./cloud-init-seed.ts";
import { vmNics } from "./vm-nics.ts";

export type Accel = "kvm" | "tcg";

/** Name of the guest agent's virtio-serial port (the guest init looks for it in /sys/class/virtio-ports). */
export const AGENT_PORT_NAME = "org.zgrid.agent";

export const QEMU_BINARY = "qemu-system-x86_64";

export interface VmPaths {
  dir: string;
  qmpSocket: string;
  /** Guest agent port (container mode): QEMU's unix-socket chardev behind the virtserialport. */
  agentSocket: string;
  pidfile: string;
  consoleLog: string;
  configDir: string;
  specFile: string;
  desiredFile: string;
  failureFile: string;
  /** cloud-init seed image (kernel/full modes). */
  seedDisk: string;
}

export interface QemuArgsInput {
  spec: VmSpec;
  guest: GuestArtifacts;
  accel: Accel;
  paths: VmPaths;
  /** cloud-init NoCloud seed image (kernel/full modes). */
  seedDisk?: string;
  /** Extra kernel command line words (e.g. zgrid.probe). */
  extraCmdline?: string[];
}

/** QEMU's -drive/-fsdev option values need commas doubled. */
function optValue(s: string): string {
  return s.replaceAll(",", ",,");
}

/** Accelerator arguments: TCG with a 64 MiB translation cache (RSS; no boot-time cost), or KVM. */
export function accelArgs(accel: Accel): string[] {
  return accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,tb-size=64", "-cpu", "max"];
}

/**
 * Fixed kernel command line prefix. `tsc_early_khz`: ~1 in 10 microvm boots hang without it.
 * `cryptomgr.notests`: the crypto self-tests take ~0.3 s of a ~1.5 s TCG kernel boot. `loglevel=3`:
 * console messages up to KERN_CRIT (panics, oopses, ext4 errors); microvm has no PCI bus, and at
 * KERN_ERR every boot logged `PCI: Fatal: No config space access function found` (issue 15).
 * `reboot=t`: microvm resets only by a triple fault (no keyboard controller, no ACPI reset); the
 * kernel's default tries ACPI and the keyboard controller first, which under TCG once left a guest
 * that had printed "reboot: Restarting system" running for 90 s (fresh-clone run, guest-init test).
 * `tsc=reliable`: microvm has no HPET or ACPI PM timer, so when the clocksource watchdog (checking
 * the TSC against jiffies, which lose ticks on a busy TCG host) marks the TSC unstable, the guest
 * falls back to jiffies and its clock runs slow: without it a Kubernetes master's clock fell ~8 min
 * behind in 15 min at load ~25, with it the clock kept time (issue 17); a slow clock breaks TLS
 * validity windows and leases between VMs. TCG's TSC follows the
 * host's clock and KVM guests use kvm-clock, so the watchdog only does harm here.
 */
export function kernelCmdline(extra: string[] = []): string {
  return ["console=ttyS0", "panic=1", "reboot=t", "quiet", "loglevel=3", `tsc_early_khz=${hostTscKhz()}`, "tsc=reliable", "cryptomgr.notests", ...extra].filter(Boolean).join(" ");
}

export function buildQemuArgs(input: QemuArgsInput): string[] {
  const { spec, paths } = input;
  const full = spec.mode === "full";
  // microvm has virtio-mmio ("-device" suffix); q35 for firmware boot has PCI.
  const bus = full ? "pci" : "device";
  const args = [
    "-name", `guest=${spec.id}`,
    "-M", full ? "q35" : "microvm",
    ...accelArgs(input.accel),
    "-smp", String(spec.cpu),
    "-m", String(spec.memoryMiB),
    "-nodefaults", "-no-user-config", "-display", "none",
    // container and own-kernel guests end with a reboot/panic: let QEMU exit so the monitor sees it
    ...(full ? [] : ["-no-reboot"]),
    ...bootArgs(input),
    "-chardev", `file,id=con,path=${optValue(paths.consoleLog)},append=on`,
    "-serial", "chardev:con",
    "-qmp", `unix:${paths.qmpSocket},server=on,wait=off`,
    "-pidfile", paths.pidfile,
    "-daemonize",
  ];
  if (spec.mode === "container" && spec.rootShare) {
    // with a subdir the share spans two devices (its dir, the flist mount): remap keeps qids unique
    const remap = spec.rootShareSubdir ? ",multidevs=remap" : "";
    args.push("-fsdev", `local,id=zroot,path=${optValue(spec.rootShare)},security_model=none,readonly=on${remap}`);
    args.push("-device", `virtio-9p-device,fsdev=zroot,mount_tag=${ROOT_SHARE_TAG}`);
    // the guest agent (zagent, started by zinit): exec, signals to the app, health checks
    args.push("-chardev", `socket,id=zagent,path=${optValue(paths.agentSocket)},server=on,wait=off`);
    args.push("-device", "virtio-serial-device,max_ports=2");
    args.push("-device", `virtserialport,chardev=zagent,name=${AGENT_PORT_NAME}`);
  }
  args.push("-fsdev", `local,id=zcfg,path=${optValue(paths.configDir)},security_model=none,readonly=on`);
  args.push("-device", `virtio-9p-${bus},fsdev=zcfg,mount_tag=${CONFIG_SHARE_TAG}`);
  if (spec.rootDisk) {
    args.push("-drive", `file=${optValue(spec.rootDisk.path)},format=raw,if=none,id=zroot-disk`);
    args.push("-device", `virtio-blk-${bus},drive=zroot-disk,serial=${ROOT_DISK_SERIAL}${full ? ",bootindex=0" : ""}`);
  }
  spec.disks.forEach((d, i) => {
    args.push("-drive", `file=${optValue(d.path)},format=raw,if=none,id=zd${i}`);
    args.push("-device", `virtio-blk-${bus},drive=zd${i},serial=${diskSerial(i)}`);
  });
  if (input.seedDisk) {
    args.push("-drive", `file=${optValue(input.seedDisk)},format=raw,if=none,id=zseed,readonly=on`);
    args.push("-device", `virtio-blk-${bus},drive=zseed,serial=${SEED_DISK_SERIAL}`);
  }
  for (const nic of vmNics(spec)) {
    args.push("-netdev", `tap,id=n${nic.index},ifname=${nic.tap},script=no,downscript=no`);
    // romfile= : no iPXE option rom needed (and no boot-time cost) for a NIC we never netboot from
    args.push("-device", `virtio-net-${bus},netdev=n${nic.index},mac=${nic.mac}${full ? ",romfile=" : ""}`);
  }
  return args;
}

function bootArgs(input: QemuArgsInput): string[] {
  const { spec, guest } = input;
  if (spec.mode === "full") return [];
  if (spec.mode === "kernel" && spec.boot) {
    const cmdline = kernelCmdline([spec.boot.cmdline || "root=/dev/vda rw", ...(input.extraCmdline ?? [])]);
    return ["-kernel", spec.boot.kernel, ...(spec.boot.initrd ? ["-initrd", spec.boot.initrd] : []), "-append", cmdline];
  }
  return ["-kernel", guest.kernel, "-initrd", guest.initrd, "-append", kernelCmdline(input.extraCmdline)];
}
