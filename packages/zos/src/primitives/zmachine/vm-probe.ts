/**
 * Health checks of a twin's zmachine made by its node (node API `vmProbe`, for the 3bot's tcp/http
 * checks): a `socat` (Debian) started inside the twin's network namespace (`nsenter --net`, never
 * a mount namespace) connects to the VM's own private IP — taken from the twin's own deployment,
 * never an address the caller names, so a twin probes only its own workloads — and, for http,
 * sends `GET path` and reads the status line. Bounded: the request's time limit (≤ 5 s), 4 KiB
 * of answer read, 4 probes in flight per twin and 16 per node (more are refused, PROBE_BUSY).
 *
 * @example
 * ```ts
 * const prober = vmProber({ engine, findNetwork: (d, name) => findNetworkOf(store, d, name) });
 * await prober.probe(twin, { contract_id: 12, name: "web", type: "http", port: 80, path: "/", timeout_ms: 2000 });
 * // { ok: true, ms: 14, status: 200, detail: "HTTP/1.0 200 OK" }
 * ```
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { BaseError, type Deployment, type NodeApi, type VmProbeResult } from "@zgrid/types";
import type { ProvisionEngine } from "../../engine/provision-engine.ts";
import { VmNotHereError, VmNotRunningError } from "./vm-control.ts";

/** Too many probes in flight (per twin or on the node). */
export class ProbeBusyError extends BaseError {
  override readonly code: string = "PROBE_BUSY";
}

export interface VmProberDeps {
  engine: Pick<ProvisionEngine, "get">;
  /** The network namespace of one of the deployment's twin's networks on this node. */
  findNetwork(d: Deployment, name: string): { namespace: string } | undefined;
  perTwin?: number;
  total?: number;
}

type ProbeRequest = NodeApi["vmProbe"]["request"];
const READ_MAX = 4096;

export function vmProber(deps: VmProberDeps) {
  const inFlight = new Map<number, number>();
  let all = 0;
  const perTwin = deps.perTwin ?? 4;
  const total = deps.total ?? 16;
  return {
    async probe(twin: number, r: ProbeRequest): Promise<VmProbeResult> {
      const d = deps.engine.get(twin, r.contract_id);
      if (d.twin_id !== twin) throw new VmNotHereError(`no VM '${r.name}' in contract ${r.contract_id}`);
      const w = d.workloads.find((x) => x.name === r.name && x.type === "zmachine");
      if (!w || w.type !== "zmachine" || w.result?.state === "deleted") {
        throw new VmNotHereError(`no VM '${r.name}' in contract ${r.contract_id}`, { details: { contract_id: r.contract_id, name: r.name } });
      }
      if (w.result?.state !== "ok") throw new VmNotRunningError(`VM '${r.name}' is not running (${w.result?.state ?? "init"})`, { details: { contract_id: r.contract_id, name: r.name } });
      const iface = w.data.network.interfaces[0];
      const net = iface && deps.findNetwork(d, iface.network);
      if (!iface || !net || !existsSync(`/run/netns/${net.namespace}`)) throw new VmNotRunningError(`VM '${r.name}' has no private network on this node`);
      const mine = inFlight.get(twin) ?? 0;
      if (mine >= perTwin || all >= total) throw new ProbeBusyError(`too many probes in flight (${mine} of yours, ${all} on the node; at most ${perTwin} per twin, ${total} in all)`, { hint: "probe less often" });
      inFlight.set(twin, mine + 1);
      all++;
      try {
        return await runProbe(net.namespace, iface.ip, r);
      } finally {
        all--;
        const left = (inFlight.get(twin) ?? 1) - 1;
        if (left > 0) inFlight.set(twin, left);
        else inFlight.delete(twin);
      }
    },
  };
}

export type VmProber = ReturnType<typeof vmProber>;

/**
 * One probe from inside `netns` (exported for tests that build their own namespace).
 *
 * @example
 * ```ts
 * await runProbe("n-5f1c9a2e", "10.20.2.5", { type: "tcp", port: 22, timeout_ms: 1000 });
 * ```
 */
export function runProbe(netns: string, ip: string, r: { type: "tcp" | "http"; port: number; path?: string; timeout_ms?: number }): Promise<VmProbeResult> {
  const ms = r.timeout_ms ?? 2_000;
  const sec = (ms / 1000).toFixed(1);
  const host = ip.includes(":") ? `[${ip}]` : ip;
  const started = Date.now();
  // socat's own inactivity limit is past ours, so silence is always reported as "no answer within"
  const child = spawn("nsenter", [`--net=/run/netns/${netns}`, "socat", "-T", String(Math.ceil(ms / 1000) + 2), "-t", "0.1", "STDIO",
    `TCP:${host}:${r.port},connect-timeout=${sec}`], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  return new Promise<VmProbeResult>((resolve) => {
    let done = false;
    const finish = (v: Omit<VmProbeResult, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve({ ...v, ms: Date.now() - started, detail: v.detail.slice(0, 256) });
    };
    const timer = setTimeout(() => finish({ ok: false, detail: `no answer within ${ms} ms` }), ms + 200);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (c: string) => {
      out = (out + c).slice(0, READ_MAX);
      const line = /^(HTTP\/\d(?:\.\d)? (\d{3})[^\r\n]*)\r?\n/.exec(out);
      if (line) {
        const status = Number(line[2]);
        finish({ ok: status >= 200 && status < 400, status, detail: line[1]! });
      } else if (out.length >= READ_MAX || (out.includes("\n") && !out.startsWith("HTTP/"))) finish({ ok: false, detail: `not an HTTP answer: ${JSON.stringify(out.slice(0, 80))}` });
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => { err = (err + c).slice(0, READ_MAX); });
    child.on("error", (e) => finish({ ok: false, detail: `could not run the probe: ${e.message}` }));
    child.on("close", (code) => {
      if (r.type === "tcp") finish(code === 0 ? { ok: true, detail: `connected to port ${r.port}` } : { ok: false, detail: reasonOf(err, code) });
      else finish({ ok: false, detail: out ? `not an HTTP answer: ${JSON.stringify(out.slice(0, 80))}` : reasonOf(err, code) });
    });
    child.stdin.on("error", () => undefined);
    // http: stdin stays open (no half-close a server could take as the end of the client) until the answer
    if (r.type === "http") child.stdin.write(`GET ${r.path ?? "/"} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: zgrid-probe\r\nConnection: close\r\n\r\n`);
    else child.stdin.end();
  });
}

/** socat's last error line ("Connection refused", "Connection timed out"), without its prefix. */
function reasonOf(stderr: string, code: number | null): string {
  const last = stderr.trim().split("\n").pop() ?? "";
  const m = /E (.*)$/.exec(last);
  return m ? m[1]!.replace(/^connect\([^)]*\): /, "") : `the probe exited ${code ?? "by a signal"}`;
}
