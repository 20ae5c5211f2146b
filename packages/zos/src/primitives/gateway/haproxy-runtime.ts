/**
 * HAProxy's runtime API (its admin stats socket): read a backend's servers and bring them to the
 * slots a route wants, without a reload — so a gateway's backends change while every client
 * connection stays open. Level-based: the running servers are read, only what differs is changed
 * (new servers are enabled before retired ones are disabled; a retired server finishes its
 * requests), then read again to confirm. Bounded: each socket exchange has a time limit.
 *
 * @example
 * ```ts
 * const ok = await syncServers("/var/lib/zos/gateway/haproxy.sock", "h_7-12-web", slots, false);
 * if (!ok) reload(); // the running HAProxy could not be brought there: reload from the file
 * ```
 */
import { createConnection } from "node:net";
import { parseBackend, type ServerAddress } from "./haproxy-config.ts";
import type { Slot } from "./gateway-slots.ts";

/** One server of a running backend, as `show servers state` reports it. */
export interface RunningServer {
  addr: string;
  port: string;
  /** Not in maintenance (taking traffic when healthy). */
  enabled: boolean;
  /** Its health checks pass (srv_op_state 2, "running"): it takes traffic now. */
  up: boolean;
}

const SRV_ADMF_FMAINT = 0x01;
const MAX_REPLY = 1 << 20;

/** Sends `command` to the admin socket and returns HAProxy's reply (bounded in time and size). */
export function runtimeCommand(socket: string, command: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ path: socket });
    let reply = "";
    const timer = setTimeout(() => c.destroy(new Error(`HAProxy's admin socket did not answer '${command.slice(0, 60)}' within ${timeoutMs} ms`)), timeoutMs);
    c.setEncoding("utf8");
    c.on("connect", () => c.end(`${command}\n`));
    c.on("data", (d: string) => {
      reply += d;
      if (reply.length > MAX_REPLY) c.destroy(new Error("HAProxy's admin socket reply is too large"));
    });
    c.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on("close", (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(reply);
    });
  });
}

/** The servers of `backend` in the running HAProxy (by server name); undefined when it has no such backend. */
export async function runningServers(socket: string, backend: string): Promise<Map<string, RunningServer> | undefined> {
  const reply = await runtimeCommand(socket, `show servers state ${backend}`);
  if (!reply.startsWith("1\n")) return undefined;
  const out = new Map<string, RunningServer>();
  for (const line of reply.split("\n").slice(1)) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(" ");
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state … srv_port (19th)
    if (f[1] !== backend || f.length < 19) continue;
    out.set(f[3]!, { addr: f[4]!, port: f[18]!, enabled: (Number(f[6]) & SRV_ADMF_FMAINT) === 0, up: f[5] === "2" });
  }
  return out;
}

/** What brings a running backend to its slots: servers to enable, servers to retire, servers kept as they are. */
export interface SyncPlan {
  enable: string[];
  retire: string[];
  /** Slots wanted, already at their address and enabled: they carry traffic through the change. */
  kept: number;
  /** Server names (`backend/sN`) being enabled. */
  enabling: string[];
}

/**
 * The runtime commands that bring `running` to `slots`; undefined when the layout differs (reload).
 * A server enabled here starts health-checked DOWN (`health down` after `state ready`): `state
 * ready` alone marks it UP at once, before any check, so requests went to a replica not yet
 * reachable (bot e2e rolling update: 1 of 60 requests timed out); now it takes traffic after
 * `rise` checks pass.
 */
export function syncPlan(backend: string, slots: readonly Slot[], running: ReadonlyMap<string, RunningServer>, tlsPassthrough: boolean): SyncPlan | undefined {
  const plan: SyncPlan = { enable: [], retire: [], kept: 0, enabling: [] };
  for (const [i, slot] of slots.entries()) {
    const name = `${backend}/s${i}`;
    const now = running.get(`s${i}`);
    if (!now) return undefined; // the running layout differs: a reload is needed
    const want: ServerAddress | undefined = slot.backend === null ? undefined : parseBackend(slot.backend, tlsPassthrough);
    if (!want) {
      if (now.enabled) plan.retire.push(`set server ${name} state maint`);
      continue;
    }
    const same = now.addr === want.host && now.port === want.port;
    if (same && now.enabled) {
      plan.kept++;
      continue;
    }
    if (!same) {
      if (now.enabled) plan.enable.push(`set server ${name} state maint`); // a stray left by a cut change
      plan.enable.push(`set server ${name} addr ${want.host} port ${want.port}`);
    }
    plan.enable.push(`set server ${name} state ready`, `set server ${name} health down`);
    plan.enabling.push(name);
  }
  if (running.size !== slots.length) return undefined;
  return plan;
}

/** All the commands of a plan in one list (enable first, then retire). */
export function syncCommands(backend: string, slots: readonly Slot[], running: ReadonlyMap<string, RunningServer>, tlsPassthrough: boolean): string[] | undefined {
  const plan = syncPlan(backend, slots, running, tlsPassthrough);
  return plan && [...plan.enable, ...plan.retire];
}

/**
 * Brings the running `backend` to `slots` through the admin socket and confirms it. False when the
 * running HAProxy has another layout or did not end up there (the caller reloads from the file).
 * Make before break: when no kept server carries traffic (every replica replaced at once), the
 * retired ones keep serving until a new one passes its checks (at most `upWithinMs`).
 */
export async function syncServers(socket: string, backend: string, slots: readonly Slot[], tlsPassthrough: boolean, upWithinMs = 5_000): Promise<{ ok: boolean; changes: number }> {
  const running = await runningServers(socket, backend);
  if (!running) return { ok: false, changes: 0 };
  const plan = syncPlan(backend, slots, running, tlsPassthrough);
  if (!plan) return { ok: false, changes: 0 };
  if (plan.enable.length === 0 && plan.retire.length === 0) return { ok: true, changes: 0 };
  if (plan.enable.length > 0) await runtimeCommand(socket, plan.enable.join("; "));
  if (plan.retire.length > 0) {
    if (plan.kept === 0 && plan.enabling.length > 0) await untilOneUp(socket, backend, plan.enabling, upWithinMs);
    await runtimeCommand(socket, plan.retire.join("; "));
  }
  const after = await runningServers(socket, backend);
  const left = after && syncCommands(backend, slots, after, tlsPassthrough);
  return { ok: !!left && left.length === 0, changes: plan.enable.length + plan.retire.length };
}

/** Waits until one of `names` (`backend/sN`) is up, or `withinMs` passed. */
async function untilOneUp(socket: string, backend: string, names: readonly string[], withinMs: number): Promise<void> {
  const end = Date.now() + withinMs;
  while (Date.now() < end) {
    const now = await runningServers(socket, backend);
    if (names.some((n) => now?.get(n.slice(n.indexOf("/") + 1))?.up)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
