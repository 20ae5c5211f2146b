/**
 * Test fixture: a blank PC (../vm-node/pxe-machine.ts: SeaBIOS + QEMU's iPXE NIC ROM, an empty
 * virtio disk, one NIC on a tap of a host bridge) that boots from the network only, run until it
 * stops or a deadline with console marks timed, and the bridge itself (host address, tap).
 *
 * @example
 * ```ts
 * const net = await createBootNetwork("zbt1", "10.91.0");
 * const run = await bootMachine({ disk, tap: net.tap, console: "/tmp/c.log", timeoutMs: 240_000, until: /ZGRID-DISK-LISTING-END/ });
 * await net.destroy();
 * ```
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { hostTscKhz, pxeMachineArgs } from "../vm-node/pxe-machine.ts";

export interface BootNetwork {
  bridge: string;
  tap: string;
  hostAddress: string;
  prefix: string;
  destroy(): Promise<void>;
}

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** A bridge `<tag>b` with `<prefix>.1/24` and a tap `<tag>t` on it (names ≤ 15 chars). */
export async function createBootNetwork(tag: string, prefix: string): Promise<BootNetwork> {
  const bridge = `${tag}b`;
  const tap = `${tag}t`;
  spawnSync("ip", ["link", "del", tap], { stdio: "ignore" });
  spawnSync("ip", ["link", "del", bridge], { stdio: "ignore" });
  ip("link", "add", bridge, "type", "bridge");
  ip("addr", "add", `${prefix}.1/24`, "dev", bridge);
  ip("link", "set", bridge, "up");
  ip("tuntap", "add", "dev", tap, "mode", "tap");
  ip("link", "set", tap, "master", bridge);
  ip("link", "set", tap, "up");
  return {
    bridge, tap, hostAddress: `${prefix}.1`, prefix,
    destroy: async () => {
      spawnSync("ip", ["link", "del", tap], { stdio: "ignore" });
      spawnSync("ip", ["link", "del", bridge], { stdio: "ignore" });
    },
  };
}

export { hostTscKhz };

export interface BootRun {
  console: string;
  exitCode: number | null;
  ms: number;
  /** ms from QEMU start to the first console line matching each pattern given in `marks`. */
  marks: Record<string, number>;
}

/**
 * Boots the machine until QEMU exits (the image stops itself) or `timeoutMs`. `kernel` boots the
 * image directly instead of from the network (for release-failure tests where the way the kernel
 * arrived does not matter).
 */
export function bootMachine(o: {
  disk: string; tap: string; console: string; timeoutMs: number; marks?: Record<string, RegExp>; kernel?: { dir: string; append: string }; mac?: string;
  /** Guest memory, MiB (default 1024; a node running zosd needs more). */
  memoryMiB?: number;
  /** Aborting powers the machine off (a node never stops by itself). */
  signal?: AbortSignal;
}): Promise<BootRun> {
  const args = pxeMachineArgs({ disk: o.disk, tap: o.tap, console: o.console, ...(o.memoryMiB ? { memoryMiB: o.memoryMiB } : {}), ...(o.mac ? { mac: o.mac } : {}), ...(o.kernel ? { kernel: o.kernel } : {}) });
  const started = Date.now();
  const marks: Record<string, number> = {};
  return new Promise((resolve) => {
    const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    const poll = setInterval(() => {
      if (!o.marks || !existsSync(o.console)) return;
      const text = readFileSync(o.console, "utf8");
      for (const [k, re] of Object.entries(o.marks)) if (marks[k] === undefined && re.test(text)) marks[k] = Date.now() - started;
    }, 200);
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    const powerOff = () => child.kill("SIGKILL");
    o.signal?.addEventListener("abort", powerOff, { once: true });
    if (o.signal?.aborted) powerOff();
    child.once("exit", (code) => {
      o.signal?.removeEventListener("abort", powerOff);
      clearTimeout(timer);
      clearInterval(poll);
      const text = existsSync(o.console) ? readFileSync(o.console, "utf8") : "";
      for (const [k, re] of Object.entries(o.marks ?? {})) if (marks[k] === undefined && re.test(text)) marks[k] = Date.now() - started;
      resolve({ console: text + (stderr ? `\n[qemu stderr] ${stderr}` : ""), exitCode: code, ms: Date.now() - started, marks });
    });
  });
}
