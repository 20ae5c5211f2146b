// The baseline of the zos benchmarks: QEMU started by hand with zgrid's guest kernel and initramfs,
// the root directory and the guest config over 9p, a tmpfs upper layer, serial on stdout; the time
// until the entrypoint prints `marker`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { findGuest, parseVmSpec, writeGuestConfig } from "../../packages/zos/src/index.ts";
import { accelArgs, kernelCmdline } from "../../packages/zos/src/hypervisor/qemu-command.ts";

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
}

/** Milliseconds from spawning QEMU to `marker` on the console. */
export async function bareBoot(o: BareBootOptions): Promise<number> {
  const cfg = join(o.work, "bare-cfg");
  await writeGuestConfig(cfg, parseVmSpec({ id: "bare", rootShare: o.root, entrypoint: o.entrypoint }));
  const guest = findGuest();
  const t0 = performance.now();
  const child = spawn("qemu-system-x86_64", [
    "-M", "microvm", ...accelArgs("tcg"), "-m", String(o.memoryMiB ?? 128), "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", kernelCmdline(), "-serial", "stdio",
    "-fsdev", `local,id=r,path=${o.root},security_model=none,readonly=on`, "-device", "virtio-9p-device,fsdev=r,mount_tag=zroot",
    "-fsdev", `local,id=c,path=${cfg},security_model=none,readonly=on`, "-device", "virtio-9p-device,fsdev=c,mount_tag=zcfg",
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
  }
}
