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
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";

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

export async function ensureWireguardLink(name: string, namespace: string): Promise<void> {
  if (await linkInNamespace(namespace, name)) return;
  if (!linkExists(name)) {
    if (await hasKernelWireguard()) await runHost("ip", ["link", "add", name, "type", "wireguard"]);
    else {
      // wireguard-go daemonizes itself: it outlives the node daemon like the VMs do.
      await new Promise<void>((resolve, reject) => {
        execFile("wireguard-go", [name], { env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" }, timeout: 20_000 }, (err, _o, stderr) => {
          if (err) reject(new Error(`wireguard-go ${name} failed: ${stderr.trim().split("\n").pop() ?? err.message}`));
          else resolve();
        });
      });
      // The foreground wireguard-go exits before its daemon has made the control socket; `wg`
      // right after that fails ("Unable to modify interface: Protocol not supported"). Wait for it.
      await waitFor(() => linkExists(name) && existsSync(`/var/run/wireguard/${name}.sock`), 10_000, `wireguard-go ${name} did not come up`);
    }
  }
  // Two reconciles of one network racing here (seen once in bench/hostile: "Cannot find device"):
  // the other one moved the link first, which is the state this call wants.
  await runHost("ip", ["link", "set", name, "netns", namespace]).catch(async (e: unknown) => {
    if (!(await linkInNamespace(namespace, name))) throw e;
  });
}

async function waitFor(ok: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(message);
    await new Promise((r) => setTimeout(r, 20));
  }
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
 * depend on the network namespace: `wg` runs here, without `ip netns exec` (whose extra mount
 * namespace was seen, inside the full test suite, to make `wg` miss the socket: "Unable to retrieve
 * current interface configuration: Protocol not supported"). A daemon still settling after the move
 * into the namespace gets a few short retries.
 */
async function syncUserspace(name: string, file: string): Promise<void> {
  // A deadline rather than a count: on a loaded 2-core machine the daemon was seen to need more than
  // the 4.5 s ten short retries gave it (CLI network-access e2e, 8 parallel sessions).
  const deadline = Date.now() + 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await runHost("wg", ["syncconf", name, file]);
      return;
    } catch (e) {
      const settling = /Protocol not supported|No such file|Connection refused/.test(String((e as { details?: { stderr?: string } }).details?.stderr ?? e));
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
  return new Promise((resolve) => {
    const socket = connect(`/var/run/wireguard/${name}.sock`);
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(2_000, () => done(false));
  });
}

/**
 * Deletes the link and ends its wireguard-go. A wireguard-go usually ends with its link, but one
 * whose daemon was still starting when a killed node daemon's install was aborted has no link to
 * delete yet (crash campaign, seed 921570962): it is ended by its command line.
 */
export async function deleteWireguardLink(name: string, namespace: string): Promise<void> {
  if (await linkInNamespace(namespace, name)) await runHost("ip", ["-n", namespace, "link", "del", name]);
  if (linkExists(name)) await runHost("ip", ["link", "del", name]);
  for (const pid of wireguardGoPids(name)) {
    try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
    for (let i = 0; i < 20 && wireguardGoPids(name).includes(pid); i++) await new Promise((r) => setTimeout(r, 50));
    try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
  }
}

/** Live (non-zombie) `wireguard-go <name>` processes. */
function wireguardGoPids(name: string): number[] {
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
