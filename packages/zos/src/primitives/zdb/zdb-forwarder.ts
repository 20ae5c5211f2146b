/**
 * Makes the node's zdb service reachable inside a twin's network namespace: a `socat` (Debian)
 * listening on the network's gateway address (the .1 every VM of the network routes through)
 * relays each TCP connection to the service's Unix socket for that twin (Unix sockets cross
 * network namespaces; the socket tells the service which twin is calling). It runs detached
 * (its own process group, a pidfile), so it survives a daemon crash and a restarted daemon finds
 * it again; only entering the network namespace (`nsenter --net`), never a mount namespace.
 *
 * @example
 * ```ts
 * await ensureForwarder({ netns: "n-5f1c9a2e", address: "10.20.2.1", port: 9900, socket: "/run/zdb/t7-n-5f1c9a2e.sock", pidFile: "/run/zdb/t7-n-5f1c9a2e.pid" });
 * await stopForwarder({ pidFile: "/run/zdb/t7-n-5f1c9a2e.pid", socket: "/run/zdb/t7-n-5f1c9a2e.sock" });
 * ```
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { runHost } from "../../hypervisor/host-command.ts";

export interface ForwarderSpec {
  netns: string;
  address: string;
  port: number;
  socket: string;
  pidFile: string;
  /** Concurrent relayed connections (socat max-children). */
  maxConnections?: number;
}

function alive(pid: number, socket: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(socket);
  } catch {
    return false;
  }
}

function pidOf(pidFile: string): number | undefined {
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : NaN;
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** Whether the forwarder of this pidfile runs (for adoption). */
export function forwarderRunning(spec: Pick<ForwarderSpec, "pidFile" | "socket">): boolean {
  const pid = pidOf(spec.pidFile);
  return pid !== undefined && alive(pid, spec.socket);
}

/** Starts the forwarder unless it already runs; waits until it listens. */
export async function ensureForwarder(spec: ForwarderSpec): Promise<void> {
  if (forwarderRunning(spec)) return;
  if (!existsSync(`/run/netns/${spec.netns}`)) throw new Error(`network namespace ${spec.netns} does not exist`);
  const child = spawn("nsenter", [`--net=/run/netns/${spec.netns}`, "socat", "-lf", "/dev/null", "-t", "30",
    `TCP-LISTEN:${spec.port},bind=${spec.address},reuseaddr,fork,max-children=${spec.maxConnections ?? 256}`, `UNIX-CONNECT:${spec.socket}`], { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error("could not start the zdb forwarder (socat)");
  writeFileSync(spec.pidFile, `${pid}\n`);
  for (let i = 0; i < 50; i++) {
    const { stdout } = await runHost("nsenter", [`--net=/run/netns/${spec.netns}`, "ss", "-Hltn", `sport = :${spec.port}`]);
    if (stdout.includes(`${spec.address}:${spec.port}`)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopForwarder(spec);
  throw new Error(`the zdb forwarder did not listen on ${spec.address}:${spec.port} in ${spec.netns} (is port ${spec.port} taken there?)`);
}

/** Stops the forwarder and its per-connection children; removes the pidfile. */
export async function stopForwarder(spec: Pick<ForwarderSpec, "pidFile" | "socket">): Promise<void> {
  const { pidFile } = spec;
  const pid = pidOf(pidFile);
  if (pid !== undefined && alive(pid, spec.socket)) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
    for (let i = 0; i < 30 && existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z"; i++) await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  rmSync(pidFile, { force: true });
}
