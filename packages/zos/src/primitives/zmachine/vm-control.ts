/**
 * The owner's hand on a zmachine (node API `vmLogs`, `vmAction`, `vmExec`; issue 15): its console,
 * also of a stopped or crashed VM, read in bounded chunks (follow by offset), stop / start /
 * restart, and a command run in the VM through its guest agent (bounded output and time).
 * Only the deployment's twin gets here (the engine's `get` refuses anyone else). A VM stopped by
 * its owner is held: the monitor and the engine leave it stopped until `start`.
 *
 * @example
 * ```ts
 * const vms = vmControl({ engine, hypervisor });
 * await vms.logs(twin, { contract_id: 12, name: "web", max_bytes: 4096 }); // { log, offset, size, state, reason }
 * await vms.action(twin, { contract_id: 12, name: "web", action: "restart" });
 * await vms.exec(twin, { contract_id: 12, name: "web", argv: ["ls", "/"] }); // { exit_code, stdout, … }
 * const { session } = await vms.execOpen(twin, { contract_id: 12, name: "web", argv: ["sh"], tty: true });
 * await vms.execIo(twin, { session, stdin: "bHMNCg==", wait_ms: 1000 }); // { output, stdin_taken, exit? }
 * ```
 */
import { open } from "node:fs/promises";
import { BaseError, VM_EXEC_OUTPUT_MAX, VM_LOG_CHUNK_MAX, workloadId, type NodeApi, type VmExecResult, type VmLogs } from "@zgrid/types";
import type { ProvisionEngine } from "../../engine/provision-engine.ts";
import type { Hypervisor, VmStatus } from "../../hypervisor/hypervisor.ts";
import { crashReason } from "../../hypervisor/vm-monitor.ts";
import { ExecSessions, type ExecSessionLimits } from "./exec-sessions.ts";

/** No zmachine of that name in the caller's deployment, or it has no VM on this node (yet). */
export class VmNotHereError extends BaseError {
  override readonly code: string = "VM_NOT_FOUND";
}

/** The VM is not running, so nothing can run in it. */
export class VmNotRunningError extends BaseError {
  override readonly code: string = "VM_NOT_RUNNING";
}

export interface VmControlDeps {
  engine: Pick<ProvisionEngine, "get" | "noteWorkload" | "noteResultData">;
  hypervisor: Hypervisor;
  /** Bounds of streamed exec sessions (tests shorten them). */
  execLimits?: Partial<ExecSessionLimits>;
}

type LogsRequest = NodeApi["vmLogs"]["request"];
type ActionRequest = NodeApi["vmAction"]["request"];
type ExecRequest = NodeApi["vmExec"]["request"];
type ExecOpenRequest = NodeApi["vmExecOpen"]["request"];

export function vmControl(deps: VmControlDeps) {
  const { hypervisor: hv } = deps;
  const sessions = new ExecSessions({ start: (id, o) => hv.session(id, o), ...(deps.execLimits ? { limits: deps.execLimits } : {}) });
  const find = (twin: number, r: { contract_id: number; name: string }): string => {
    const d = deps.engine.get(twin, r.contract_id);
    const w = d.workloads.find((x) => x.name === r.name && x.type === "zmachine");
    if (!w || w.result?.state === "deleted") {
      throw new VmNotHereError(`no VM '${r.name}' in contract ${r.contract_id}`, { details: { contract_id: r.contract_id, name: r.name }, hint: "list the deployment's workloads with `zgrid vm ls`" });
    }
    return workloadId(d.twin_id, d.contract_id, w.name);
  };
  const statusOf = async (id: string, r: { contract_id: number; name: string }): Promise<VmStatus> => {
    try {
      return await hv.status(id);
    } catch (e) {
      throw new VmNotHereError(`VM '${r.name}' has no state on this node (it never booted)`, { details: { contract_id: r.contract_id, name: r.name }, cause: e });
    }
  };
  const running = async (twin: number, r: { contract_id: number; name: string }): Promise<string> => {
    const id = find(twin, r);
    const status = await statusOf(id, r);
    if (status.state !== "running") {
      throw new VmNotRunningError(`VM '${r.name}' is ${status.state}${status.failure ? ` (${status.failure})` : ""}`, { details: { contract_id: r.contract_id, name: r.name, state: status.state }, hint: `start it with \`zgrid vm start ${r.name}\`` });
    }
    return id;
  };
  const logs = async (id: string, status: VmStatus, offset: number | undefined, maxBytes: number): Promise<VmLogs> => {
    const max = Math.min(Math.max(1, maxBytes), VM_LOG_CHUNK_MAX);
    const fh = await open(status.consoleLog, "r").catch(() => undefined);
    let log = "";
    let size = 0;
    let from = 0;
    if (fh) {
      try {
        size = (await fh.stat()).size;
        // a log rotated under a follower starts again at 0
        from = offset === undefined ? Math.max(0, size - max) : offset > size ? 0 : offset;
        const len = Math.min(max, size - from);
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, from);
        log = buf.toString("utf8");
      } finally {
        await fh.close();
      }
    }
    const reason = status.failure ?? (status.held ? "stopped by the owner" : status.state === "stopped" ? crashReason(await hv.consoleTail(id, 8192)) : "");
    const health = status.health && { status: status.health.status, failing_streak: status.health.failingStreak, last_output: status.health.lastOutput };
    return { log, offset: from, size, state: status.state, reason, ...(health ? { health } : {}) };
  };
  return {
    async logs(twin: number, r: LogsRequest): Promise<VmLogs> {
      const id = find(twin, r);
      return logs(id, await statusOf(id, r), r.offset, r.max_bytes ?? 16 * 1024);
    },
    async action(twin: number, r: ActionRequest): Promise<VmLogs> {
      const id = find(twin, r);
      const before = await statusOf(id, r);
      const running = before.state === "running" || before.state === "paused";
      if (r.action !== "start" && running) await hv.stop(id, { hold: r.action === "stop" });
      if (r.action === "stop" && !running) await hv.stop(id, { hold: true });
      if (r.action !== "stop" && (r.action === "restart" || !running)) await hv.start({ id });
      deps.engine.noteWorkload(r.contract_id, r.name, "ok", r.action === "stop" ? "stopped by the owner" : "");
      // a stopped app has no health (as Docker shows it); a start reports `starting` again (VmHealth)
      if (r.action === "stop") deps.engine.noteResultData(r.contract_id, r.name, { health: undefined });
      return logs(id, await hv.status(id), undefined, 4096);
    },
    async exec(twin: number, r: ExecRequest): Promise<VmExecResult> {
      const id = await running(twin, r);
      const x = await hv.exec(id, {
        argv: r.argv, timeoutMs: (r.timeout_sec ?? 60) * 1000, maxOutputBytes: VM_EXEC_OUTPUT_MAX,
        ...(r.env ? { env: r.env } : {}), ...(r.workdir ? { workdir: r.workdir } : {}), ...(r.user ? { user: r.user } : {}),
        ...(r.stdin !== undefined ? { stdin: Buffer.from(r.stdin, "base64") } : {}),
      });
      return { exit_code: x.code ?? null, signal: x.signal ?? null, timed_out: x.timedOut, truncated: x.truncated, stdout: x.stdout, stderr: x.stderr };
    },
    /** A streamed exec (stdin as it comes, a terminal with `tty`) in the owner's running VM; see ExecSessions. */
    async execOpen(twin: number, r: ExecOpenRequest): Promise<{ session: string }> {
      const id = await running(twin, r);
      const { contract_id: _c, name: _n, ...rest } = r;
      return sessions.open(twin, id, rest);
    },
    execIo: (twin: number, r: NodeApi["vmExecIo"]["request"]) => sessions.io(twin, r),
    /** Kills every exec session's command (daemon stop). */
    closeSessions: () => sessions.closeAll(),
    sessions,
  };
}

export type VmControl = ReturnType<typeof vmControl>;
