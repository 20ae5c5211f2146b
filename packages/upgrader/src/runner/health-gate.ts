/**
 * The health gate after a switch: the new zosd must, within `windowMs`, print its ready line,
 * keep every VM that ran before (same QEMU pids: nothing restarted), count them as adopted (its
 * metrics, when it serves them), answer on the bus (a libp2p connection to its peer id) and report
 * its uptime on chain; and still run at the end of `settleMs`. The first failure is the verdict.
 *
 * @example
 * ```ts
 * const v = await healthGate({ zosd, vmPidsBefore: [4711], vmPids: () => qemuPids(dir), probeBus, uptimeSince, windowMs: 60_000 });
 * if (!v.ok) console.log(v.reason); // "VM process 4711 is gone after the switch"
 * ```
 */
import type { ZosdHandle, ZosdReady } from "./zosd-runner.ts";
import { pidAlive } from "./vm-pids.ts";

export interface HealthGateOptions {
  zosd: ZosdHandle;
  vmPidsBefore: number[];
  /** VMs the daemon counts as running (its metrics), if it serves them. */
  adoptedVms?: () => Promise<number>;
  /** Connects to the node's bus (throws when it does not answer). */
  probeBus: (ready: ZosdReady) => Promise<void>;
  /** True once the node reported its uptime on chain after the switch. */
  uptimeReported: (ready: ZosdReady) => Promise<boolean>;
  windowMs: number;
  settleMs?: number;
  pollMs?: number;
}

export type HealthVerdict = { ok: true; ready: ZosdReady; readyMs: number; adoptedMs: number } | { ok: false; reason: string; ready?: ZosdReady };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function healthGate(o: HealthGateOptions): Promise<HealthVerdict> {
  const started = Date.now();
  const deadline = started + o.windowMs;
  let ready: ZosdReady;
  try {
    ready = await Promise.race([o.zosd.ready, sleep(o.windowMs).then(() => Promise.reject(new Error(`zosd ${o.zosd.version} was not ready within ${o.windowMs} ms`)))]);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  const readyMs = Date.now() - started;
  const pending = new Set(["vms", "bus", "uptime"]);
  let last = "";
  while (pending.size > 0) {
    if (!o.zosd.alive()) return { ok: false, reason: `zosd ${o.zosd.version} exited after it was ready`, ready };
    const gone = o.vmPidsBefore.filter((p) => !pidAlive(p));
    if (gone.length > 0) return { ok: false, reason: `VM process ${gone.join(", ")} is gone after the switch`, ready };
    try {
      if (pending.has("vms")) {
        const adopted = o.adoptedVms ? await o.adoptedVms() : o.vmPidsBefore.length;
        if (adopted >= o.vmPidsBefore.length) pending.delete("vms");
        else last = `the daemon runs ${adopted} of ${o.vmPidsBefore.length} VMs`;
      }
      if (pending.has("bus")) {
        await o.probeBus(ready);
        pending.delete("bus");
      }
      if (pending.has("uptime")) {
        if (await o.uptimeReported(ready)) pending.delete("uptime");
        else last = "no uptime report on chain yet";
      }
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) return { ok: false, reason: `health gate of ${o.zosd.version} not passed within ${o.windowMs} ms (${[...pending].join(", ")}: ${last})`, ready };
    await sleep(o.pollMs ?? 500);
  }
  const adoptedMs = Date.now() - started;
  await sleep(o.settleMs ?? 2_000);
  if (!o.zosd.alive()) return { ok: false, reason: `zosd ${o.zosd.version} exited during the settle time`, ready };
  const gone = o.vmPidsBefore.filter((p) => !pidAlive(p));
  if (gone.length > 0) return { ok: false, reason: `VM process ${gone.join(", ")} is gone after the switch`, ready };
  return { ok: true, ready, readyMs, adoptedMs };
}
