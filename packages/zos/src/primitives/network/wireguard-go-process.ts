/**
 * The userspace WireGuard daemon (Debian's `wireguard-go`) as processes: start one for a link, tell
 * whether its control (UAPI) socket accepts, find and end every process of a link.
 *
 * Two facts about wireguard-go drive this file (both measured on this machine):
 * - it daemonizes: the foreground process creates the TUN and the control socket, forks the daemon
 *   and exits, and the daemon then sets the TUN up in the network namespace it was created in. A
 *   link moved to another namespace before that makes the daemon exit (its MTU ioctl finds no
 *   device), leaving a stale socket file: never move a link before its socket accepts.
 * - `wg` deletes a socket file whose connect is refused, and wireguard-go exits when its file is
 *   deleted: only a socket that accepts is ever handed to `wg`; our own probe only connects.
 *
 * @example
 * ```ts
 * await startWireguardGo("w-5f1c9a2e");       // returns once its control socket accepts
 * await endWireguardGo("w-5f1c9a2e");         // every process of the link, even one still starting
 * ```
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { linkExists } from "../../hypervisor/tap.ts";

/** Where wireguard-go keeps the control socket of link `name`. */
export const uapiSocketPath = (name: string): string => `/var/run/wireguard/${name}.sock`;

/** Starts wireguard-go for link `name` (it outlives the node daemon, like the VMs) and waits until it serves. */
export async function startWireguardGo(name: string, timeoutMs = 10_000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile("wireguard-go", [name], { env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" }, timeout: 20_000 }, (err, _o, stderr) => {
      if (err) reject(new Error(`wireguard-go ${name} failed: ${stderr.trim().split("\n").pop() ?? err.message}`));
      else resolve();
    });
  });
  if (!(await waitUntil(() => wireguardGoServes(name), timeoutMs))) throw new Error(`wireguard-go ${name} did not come up within ${timeoutMs / 1000} s`);
}

/** Whether the daemon of `name` is up: its TUN exists in this namespace and its control socket accepts. */
export async function wireguardGoServes(name: string): Promise<boolean> {
  return linkExists(name) && (await uapiAccepts(name));
}

/**
 * Whether wireguard-go of link `name` answers a `get` on its control socket. A connect alone is not
 * enough: the foreground process listens before it forks, so a connect succeeds (into the backlog)
 * while the daemon is still setting its TUN up; an answer comes only from the daemon's accept loop,
 * which starts after that (measured: a link moved on "connect" still lost its daemon). Never unlinks.
 */
export function uapiAccepts(name: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(uapiSocketPath(name));
    let reply = "";
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once("connect", () => socket.write("get=1\n\n"));
    socket.on("data", (b: Buffer) => {
      reply = (reply + b.toString("latin1")).slice(-64); // only its end matters: a big peer list streams past
      if (/\nerrno=0\n\n$|^errno=0\n\n$/.test(reply)) done(true);
      else if (/errno=-?[1-9]\d*\n\n$/.test(reply)) done(false);
    });
    socket.once("end", () => done(false));
    socket.once("error", () => done(false));
    socket.setTimeout(timeoutMs, () => done(false));
  });
}

/**
 * Ends every wireguard-go process of link `name`: SIGTERM, then SIGKILL after 1 s. It scans until
 * two scans in a row find none, because a foreground process still starting forks its daemon after
 * the first scan (crash campaign, CI stop 31: a daemon appeared after the delete and leaked).
 */
export async function endWireguardGo(name: string): Promise<void> {
  for (let quiet = 0, rounds = 0; quiet < 2 && rounds < 100; rounds++) {
    const pids = wireguardGoPids(name);
    quiet = pids.length === 0 ? quiet + 1 : 0;
    for (const pid of pids) {
      try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
      for (let i = 0; i < 20 && wireguardGoPids(name).includes(pid); i++) await sleep(50);
      try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    }
    await sleep(quiet > 0 ? 100 : 20);
  }
}

/** Live (non-zombie) `wireguard-go <name>` processes, foreground and daemon alike. */
export function wireguardGoPids(name: string): number[] {
  const want = `wireguard-go\0${name}\0`;
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return (cmd === want || cmd.endsWith(`/${want}`)) && !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
    } catch {
      return false;
    }
  });
}

/** Polls `ok` every 20 ms until it holds (true) or `timeoutMs` passed (false). */
export async function waitUntil(ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > end) return false;
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
