// The baseline of the zos benchmarks: QEMU started by hand with zgrid's guest kernel and initramfs,
// the root directory and the guest config over 9p, a tmpfs upper layer, serial on stdout; the time
// until the entrypoint prints `marker`. `shape: "zmachine"` gives it the devices zosd gives a
// container zmachine (an ext4 root disk as the upper layer, made before the clock starts, a
// virtio-net NIC with its address, the agent's virtio-serial port): the same guest, booted by hand,
// so the ratio against it is zosd's own cost plus the flist's FUSE root, not the device probes.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { findGuest, parseVmSpec, writeGuestConfig } from "../../packages/zos/src/index.ts";
import { ensureExt4Disk } from "../../packages/zos/src/hypervisor/disk.ts";
import { AGENT_PORT_NAME, accelArgs, kernelCmdline } from "../../packages/zos/src/hypervisor/qemu-command.ts";
import { CONFIG_SHARE_TAG, ROOT_DISK_SERIAL, ROOT_SHARE_TAG } from "../../packages/zos/src/hypervisor/guest-config.ts";

export interface BareBootOptions {
  /** Root directory with the entrypoint. */
  root: string;
  /** Scratch directory for the guest config. */
  work: string;
  entrypoint: string[];
  marker: string;
  memoryMiB?: number;
  /** Give up after this long (default 60 s; TCG boots take minutes on a loaded machine). */
  timeoutMs?: number;
  /** "minimal" (default): root share + config only; "zmachine": plus root disk, NIC and agent port. */
  shape?: "minimal" | "zmachine";
}

/** Milliseconds from spawning QEMU to `marker` on the console. */
export async function bareBoot(o: BareBootOptions): Promise<number> {
  const cfg = join(o.work, "bare-cfg");
  const shaped = o.shape === "zmachine";
  const disk = join(o.work, "bare-root.img");
  const mac = "52:54:00:12:34:56";
  if (shaped) {
    rmSync(disk, { force: true });
    await ensureExt4Disk(disk, 1 << 30); // zosd makes it in parallel with the flist mount: not timed here either
  }
  await writeGuestConfig(cfg, parseVmSpec({ id: "bare", rootShare: o.root, entrypoint: o.entrypoint,
    ...(shaped ? { rootDisk: { path: disk, sizeBytes: 1 << 30 }, network: { bridge: "unused", mac, ip: "10.0.2.15/24" } } : {}) }));
  const devices = shaped ? [
    "-drive", `file=${disk},format=raw,if=none,id=zroot-disk`, "-device", `virtio-blk-device,drive=zroot-disk,serial=${ROOT_DISK_SERIAL}`,
    "-netdev", "user,id=n0", "-device", `virtio-net-device,netdev=n0,mac=${mac}`,
    "-chardev", `socket,id=zagent,path=${join(o.work, "bare-agent.sock")},server=on,wait=off`,
    "-device", "virtio-serial-device,max_ports=2", "-device", `virtserialport,chardev=zagent,name=${AGENT_PORT_NAME}`,
  ] : [];
  const guest = findGuest();
  const t0 = performance.now();
  const child = spawn("qemu-system-x86_64", [
    "-M", "microvm", ...accelArgs("tcg"), "-m", String(o.memoryMiB ?? 128), "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", kernelCmdline(), "-serial", "stdio",
    "-fsdev", `local,id=r,path=${o.root},security_model=none,readonly=on`, "-device", `virtio-9p-device,fsdev=r,mount_tag=${ROOT_SHARE_TAG}`,
    "-fsdev", `local,id=c,path=${cfg},security_model=none,readonly=on`, "-device", `virtio-9p-device,fsdev=c,mount_tag=${CONFIG_SHARE_TAG}`,
    ...devices,
  ], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("bare boot timed out")), o.timeoutMs ?? 60_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes(o.marker)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return performance.now() - t0;
  } finally {
    child.kill("SIGKILL");
    if (shaped) rmSync(disk, { force: true });
  }
}
