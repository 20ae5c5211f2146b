/**
 * A blank PC as a QEMU process: SeaBIOS + QEMU's iPXE NIC ROM, one virtio disk, one virtio NIC on
 * a tap of a host bridge, booting from the network only (or, with `kernel`, the boot image given
 * directly). TCG: KVM guests hang on these machines (PLATFORM.md). The serial console goes to a
 * file; `-no-reboot` turns the image's final `reboot -f` into QEMU exiting. What the local grid's
 * VM nodes (`zgrid up --vm-nodes`), the boot bench and the boot e2e tests run.
 *
 * @example
 * ```ts
 * const m = spawnPxeMachine({ disk: "/srv/n0.raw", tap: "zgv0", console: "/srv/n0.log", memoryMiB: 3072 });
 * m.kill("SIGKILL"); // power off
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";

export interface PxeMachineOptions {
  disk: string;
  tap: string;
  console: string;
  /** Guest memory, MiB (default 1024; a node running zosd and a zmachine needs 3072). */
  memoryMiB?: number;
  mac?: string;
  /** Boot this image directly instead of from the network. */
  kernel?: { dir: string; append: string };
}

/** QEMU's arguments for the machine (exported for tests and for `ps` readers). */
export function pxeMachineArgs(o: PxeMachineOptions): string[] {
  const args = ["-M", "pc", "-accel", "tcg", "-cpu", "max", "-m", String(o.memoryMiB ?? 1024), "-display", "none", "-no-reboot", "-nodefaults",
    "-serial", `file:${o.console}`,
    "-netdev", `tap,id=n0,ifname=${o.tap},script=no,downscript=no`, "-device", `virtio-net-pci,netdev=n0,mac=${o.mac ?? "52:54:00:7a:00:01"}`,
    "-drive", `file=${o.disk},if=virtio,format=raw`];
  if (o.kernel) args.push("-kernel", `${o.kernel.dir}/vmlinuz`, "-initrd", `${o.kernel.dir}/initrd.img`, "-append", o.kernel.append);
  else args.push("-boot", "n");
  return args;
}

/** Powers the machine on; kill the process to power it off. */
export function spawnPxeMachine(o: PxeMachineOptions): ChildProcess {
  return spawn("qemu-system-x86_64", pxeMachineArgs(o), { stdio: ["ignore", "ignore", "pipe"] });
}

/** An empty raw disk of `bytes` (sparse), unless one is there already (a reboot keeps its disk). */
export function ensureBlankDisk(path: string, bytes: number): boolean {
  if (existsSync(path)) return false;
  writeFileSync(path, "");
  truncateSync(path, bytes);
  return true;
}

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** A tap on `bridge` (made again if it exists). Names are at most 15 characters. */
export function createTapOn(bridge: string, tap: string): void {
  spawnSync("ip", ["link", "del", tap], { stdio: "ignore" });
  ip("tuntap", "add", "dev", tap, "mode", "tap");
  ip("link", "set", tap, "master", bridge);
  ip("link", "set", tap, "up");
}

export function deleteLink(name: string): void {
  spawnSync("ip", ["link", "del", name], { stdio: "ignore" });
}

/** Host TSC in kHz for `tsc_early_khz=` (PLATFORM.md: avoids rare early-boot hangs under TCG). */
export function hostTscKhz(): number | undefined {
  const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}
