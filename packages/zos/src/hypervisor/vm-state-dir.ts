/**
 * The on-disk state of VMs: `<stateDir>/<id>/` holds everything a daemon process needs to find,
 * drive and restart a VM, so a new process re-adopts VMs by reading it.
 *
 * @example
 * ```ts
 * const p = vmPaths("/var/lib/zos/vms", "12-7-web");   // p.qmpSocket, p.pidfile, p.consoleLog, …
 * const ids = await listVmIds("/var/lib/zos/vms");
 * const spec = await readVmSpec(p, "12-7-web");
 * ```
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { VmNotFoundError, VmSpecError } from "./errors.ts";
import type { VmPaths } from "./qemu-command.ts";
import { parseVmSpec, type VmSpec } from "./vm-spec.ts";

/** Paths of one VM's state; throws VmSpecError when the QMP socket path exceeds the unix limit. */
export function vmPaths(stateDir: string, id: string): VmPaths {
  const dir = join(stateDir, id);
  const p: VmPaths = {
    dir,
    qmpSocket: join(dir, "qmp.sock"),
    agentSocket: join(dir, "agent.sock"),
    pidfile: join(dir, "qemu.pid"),
    consoleLog: join(dir, "console.log"),
    configDir: join(dir, "config"),
    specFile: join(dir, "spec.json"),
    desiredFile: join(dir, "desired"),
    failureFile: join(dir, "failure"),
    seedDisk: join(dir, "seed.img"),
  };
  if (Buffer.byteLength(p.agentSocket) > 107) {
    throw new VmSpecError("QMP socket path too long", { details: { path: p.qmpSocket }, hint: "use a shorter stateDir" });
  }
  return p;
}

/** Ids of all VMs with a saved spec, sorted. */
export async function listVmIds(stateDir: string): Promise<string[]> {
  const entries = await readdir(stateDir, { withFileTypes: true }).catch(() => []);
  const ids: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await readFile(join(stateDir, e.name, "spec.json")).then(() => true, () => false))) ids.push(e.name);
  }
  return ids.sort();
}

/** The saved spec; VmNotFoundError when there is none. */
export async function readVmSpec(paths: VmPaths, id: string): Promise<VmSpec> {
  const text = await readFile(paths.specFile, "utf8").catch(() => undefined);
  if (text === undefined) throw new VmNotFoundError(id);
  return parseVmSpec(JSON.parse(text));
}

/** Desired state as last written by start/stop ("stopped" when never started). */
export async function readDesired(paths: VmPaths): Promise<"running" | "stopped"> {
  return (await readFile(paths.desiredFile, "utf8").catch(() => "stopped")).trim() === "running" ? "running" : "stopped";
}

/** The monitor's give-up reason, or undefined. */
export async function readFailure(paths: VmPaths): Promise<string | undefined> {
  return (await readFile(paths.failureFile, "utf8").catch(() => "")).trim() || undefined;
}
