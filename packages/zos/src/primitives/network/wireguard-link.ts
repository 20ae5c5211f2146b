/**
 * A WireGuard interface living in a network namespace but with its UDP socket in the node's own
 * namespace (the classic WireGuard namespace trick): created here, then moved into the namespace.
 * Kernel WireGuard where `ip link add type wireguard` works, else Debian's `wireguard-go`
 * (userspace, TUN; its process keeps the socket here and exits when the link is deleted).
 *
 * @example
 * ```ts
 * await ensureWireguardLink("w-5f1c9a2e", "n-5f1c9a2e");
 * await configureWireguard("w-5f1c9a2e", "n-5f1c9a2e", { privateKey, listenPort: 51820, peers });
 * ```
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";
import { endWireguardGo, startWireguardGo, uapiAccepts, uapiSocketPath, waitUntil, wireguardGoPids, wireguardGoServes } from "./wireguard-go-process.ts";

let kernelWireguard: boolean | undefined;

/** Whether this kernel has WireGuard (probed once per process). */
export async function hasKernelWireguard(): Promise<boolean> {
  if (kernelWireguard === undefined) {
    const probe = `wgprobe${process.pid % 100000}`;
    kernelWireguard = await runHost("ip", ["link", "add", probe, "type", "wireguard"]).then(() => true, () => false);
    if (kernelWireguard) await runHost("ip", ["link", "del", probe]).catch(() => undefined);
  }
  return kernelWireguard;
}

/** Whether `name` exists inside `namespace`. */
export async function linkInNamespace(namespace: string, name: string): Promise<boolean> {
  return runHost("ip", ["-n", namespace, "link", "show", name]).then(() => true, () => false);
}

/**
 * Calls for one link run one at a time in this process: two reconciles of one network racing here
 * (seen in bench/hostile and CI stop 31) made the second move a link whose wireguard-go daemon was
 * still starting, which kills that daemon (see wireguard-go-process.ts).
 */
const linkQueues = new Map<string, Promise<unknown>>();
async function oneAtATime<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const run = (linkQueues.get(name) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  linkQueues.set(name, tail);
  try {
    return await run;
  } finally {
    if (linkQueues.get(name) === tail) linkQueues.delete(name);
  }
}

export async function ensureWireguardLink(name: string, namespace: string): Promise<void> {
  await oneAtATime(name, async () => {
    if (await linkInNamespace(namespace, name)) return;
    if (await hasKernelWireguard()) {
      if (!linkExists(name)) await runHost("ip", ["link", "add", name, "type", "wireguard"]);
    } else await ensureWireguardGo(name);
    await runHost("ip", ["link", "set", name, "netns", namespace]).catch(async (e: unknown) => {
      if (!(await linkInNamespace(namespace, name))) throw e;
    });
  });
}

/**
 * A serving wireguard-go for `name` in this namespace. One may be starting already, launched by a
 * SIGKILLed predecessor of this daemon: it is waited for (moving its link early would kill it), and
 * one that never comes up is ended with its link and replaced.
 */
async function ensureWireguardGo(name: string): Promise<void> {
  if (linkExists(name) || wireguardGoPids(name).length > 0) {
    if (await waitUntil(() => wireguardGoServes(name), 10_000)) return;
    await endWireguardGo(name);
    if (linkExists(name)) await runHost("ip", ["link", "del", name]).catch(() => undefined);
  }
  await startWireguardGo(name);
}

export interface WireguardConfig {
  privateKey: string;
  listenPort: number;
  peers: Array<{ publicKey: string; allowedIps: string[]; endpoint: string }>;
}

/** Sets key, port and exactly these peers (`wg syncconf`), from inside the namespace. */
export async function configureWireguard(name: string, namespace: string, c: WireguardConfig): Promise<void> {
  const lines = ["[Interface]", `PrivateKey = ${c.privateKey}`, `ListenPort = ${c.listenPort}`];
  for (const p of c.peers) {
    lines.push("", "[Peer]", `PublicKey = ${p.publicKey}`);
    if (p.allowedIps.length) lines.push(`AllowedIPs = ${p.allowedIps.join(", ")}`);
    if (p.endpoint) lines.push(`Endpoint = ${p.endpoint}`, "PersistentKeepalive = 20");
  }
  const dir = mkdtempSync(join(tmpdir(), "zwg-"));
  chmodSync(dir, 0o700);
  const file = join(dir, "wg.conf");
  try {
    writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    if (await hasKernelWireguard()) await runHost("ip", ["netns", "exec", namespace, "wg", "syncconf", name, file]);
    else await syncUserspace(name, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * wireguard-go is configured over its UAPI socket (/var/run/wireguard/<name>.sock), which does not
 * depend on the network namespace: `wg` runs here, without `ip netns exec`. `wg` is only handed a
 * socket that accepts (a refused connect makes `wg` delete the socket file, and wireguard-go exits
 * when it does); a daemon still settling gets retries until a deadline, a gone one a clear error.
 */
async function syncUserspace(name: string, file: string): Promise<void> {
  // A deadline rather than a count: on a loaded 2-core machine the daemon was seen to need more than
  // the 4.5 s ten short retries gave it (CLI network-access e2e, 8 parallel sessions).
  const started = Date.now();
  const deadline = started + 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      if (!(await uapiAccepts(name))) {
        // No process: gone, at once when its socket file is gone too, else after 3 s (a daemon that
        // died leaves a stale file; a foreign socket still starting gets that long).
        const gone = wireguardGoPids(name).length === 0 && (!existsSync(uapiSocketPath(name)) || Date.now() - started > 3_000);
        throw new Error(gone ? `wireguard-go ${name} is not running (its link will be re-created on the next reconcile)` : `wireguard-go ${name} does not accept on its control socket yet`);
      }
      await runHost("wg", ["syncconf", name, file]);
      return;
    } catch (e) {
      const text = String((e as { details?: { stderr?: string } }).details?.stderr ?? e);
      const settling = /Protocol not supported|No such file|Connection refused|does not accept/.test(text);
      if (!settling || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1_000)));
    }
  }
}

/**
 * Whether the userspace WireGuard daemon of link `name` answers on its UAPI socket (a SIGKILLed
 * wireguard-go leaves the socket file but refuses connections; its link is gone with it). Kernel
 * WireGuard has no process to die: always true there.
 */
export async function wireguardAlive(name: string): Promise<boolean> {
  if (await hasKernelWireguard()) return true;
  return uapiAccepts(name);
}

/**
 * Deletes the link and ends its wireguard-go. A wireguard-go usually ends with its link, but one
 * whose daemon was still starting when a killed node daemon's install was aborted has no link to
 * delete yet (crash campaign, seed 921570962): it is ended by its command line.
 */
export async function deleteWireguardLink(name: string, namespace: string): Promise<void> {
  await oneAtATime(name, async () => {
    if (await linkInNamespace(namespace, name)) await runHost("ip", ["-n", namespace, "link", "del", name]);
    if (linkExists(name)) await runHost("ip", ["link", "del", name]);
    await endWireguardGo(name);
    rmSync(uapiSocketPath(name), { force: true }); // no process listens on it any more
  });
}
