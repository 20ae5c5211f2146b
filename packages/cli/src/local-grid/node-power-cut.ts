/**
 * A power cut of one local-grid node host (for end-to-end tests): everything that lives only in
 * a running machine is lost at once, what is on its disk stays. The node daemon is frozen first
 * (SIGSTOP), so no part of it reacts to what follows — the same as everything dying in one
 * instant; then every process in the node host's network namespace and in the namespaces of its
 * networks (QEMU, flist mount workers, zdb forwarders, wireguard-go, HAProxy …) is SIGKILLed,
 * the mounts under the node's directories (its FUSE flist mounts) are detached, the networks'
 * namespaces and the node host's own namespace (with every bridge, tap and veth in it) are
 * deleted, and last the daemon itself is SIGKILLed. The local grid then boots the node again the
 * way it started it: the node host's namespace made again, zosd started with the same command.
 * The node's data dir and VM state dir (its disk) are left as they are.
 *
 * @example
 * ```ts
 * const cut = await powerCutNodeHost({ namespace: "zh-1a2bn0", zosdPid: node.pid, dirs: [node.dataDir, node.vmStateDir] });
 * cut.killed; // { "qemu-system-x86": 1, "socat": 1, "node": 1, … }
 * ```
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";

export interface PowerCutTarget {
  /** The node host's network namespace (`zh-…`, LocalGridInfo.underlay.hosts). */
  namespace: string;
  /** The node daemon's pid (LocalGridInfo / `zgrid status`). */
  zosdPid: number;
  /** The node's directories: mounts under them are lost with the power. */
  dirs: string[];
}

export interface PowerCutReport {
  /** Processes killed, by program name (the daemon included). */
  killed: Record<string, number>;
  /** Network namespaces deleted (the node host's last). */
  namespaces: string[];
  mounts: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function powerCutNodeHost(t: PowerCutTarget): Promise<PowerCutReport> {
  const report: PowerCutReport = { killed: {}, namespaces: [], mounts: [] };
  signal(t.zosdPid, "SIGSTOP");
  const namespaces = [...networkNamespacesOf(t.namespace), t.namespace];
  const inodes = new Set(namespaces.map((ns) => statSync(`/run/netns/${ns}`).ino));
  // a forking server (socat) may start a child between two rounds: kill until none is left
  for (let round = 0; round < 50; round++) {
    const pids = processesIn(inodes).filter((p) => p !== t.zosdPid && p !== process.pid);
    if (pids.length === 0) break;
    for (const pid of pids) {
      const name = programOf(pid);
      if (signal(pid, "SIGKILL")) report.killed[name] = (report.killed[name] ?? 0) + 1;
    }
    await sleep(50);
  }
  for (const m of mountsUnder(t.dirs)) {
    if (spawnSync("umount", ["-l", m], { stdio: "ignore" }).status === 0) report.mounts.push(m);
  }
  for (const ns of namespaces) {
    if (ns === t.namespace) {
      // the host end of the node host's underlay veth goes with it (deleted here, so a node host
      // made again never finds a stale one still attached to the old namespace)
      const hostVeth = t.namespace.replace(/^zh-/, "zu-");
      if (spawnSync("ip", ["link", "show", hostVeth], { stdio: "ignore" }).status === 0) spawnSync("ip", ["link", "del", hostVeth], { stdio: "ignore" });
    }
    if (spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" }).status === 0) report.namespaces.push(ns);
  }
  const name = programOf(t.zosdPid);
  if (signal(t.zosdPid, "SIGKILL")) report.killed[name] = (report.killed[name] ?? 0) + 1;
  return report;
}

/** The namespaces of the node's networks: `n-<id>` for each veth `vh-<id>` in the node host. */
export function networkNamespacesOf(nodeHost: string): string[] {
  const r = spawnSync("ip", ["-n", nodeHost, "-o", "link", "show"], { encoding: "utf8" });
  const ids = [...r.stdout.matchAll(/^\d+: vh-([0-9a-f]{8})[@:]/gm)].map((m) => m[1] as string);
  return [...new Set(ids)].map((id) => `n-${id}`).filter((ns) => existsSync(`/run/netns/${ns}`));
}

/** Live processes whose network namespace is one of `inodes`. */
export function processesIn(inodes: Set<number>): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${e}/ns/net`));
      if (m && inodes.has(Number(m[1]))) out.push(Number(e));
    } catch {
      // gone, or a zombie (no namespaces left)
    }
  }
  return out;
}

/** Mount points under any of `dirs`, deepest first. */
function mountsUnder(dirs: string[]): string[] {
  const points = readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" ")[1] ?? "")
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => dirs.some((d) => p.startsWith(d.replace(/\/+$/, "") + "/"))).sort((a, b) => b.length - a.length);
}

function programOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

function signal(pid: number, s: NodeJS.Signals): boolean {
  try {
    process.kill(pid, s);
    return true;
  } catch {
    return false;
  }
}
