/**
 * `zgrid up` / `zgrid down`: start the local grid host detached and wait for it, or take the whole
 * grid down so nothing is left running (contracts cancelled so nodes remove their VMs, node
 * daemons and host stopped, then any leftover VM, FUSE mount, namespace or bridge removed).
 *
 * @example
 * ```ts
 * const info = await upLocalGrid({ dataDir, nodes: 2, onProgress: (m) => process.stderr.write(m + "\n") });
 * await downLocalGrid({ dataDir });
 * ```
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalGridError, connectGrid, localGridConnection, localGridInfoPath, readLocalGrid, type LocalGridInfo } from "@zgrid/client";
import { Hypervisor } from "@zgrid/zos/hypervisor";
import { networkNames } from "@zgrid/types";
import { vmStateDirFor } from "./local-grid-paths.ts";
import { stopBmcs, stopRecordedProcesses } from "./node-processes.ts";
import { stopLocalBot } from "./local-bot.ts";
import { MAX_VM_NODES, stopVmNodeMachines } from "./local-vm-nodes.ts";
import { METRICS_PORTS } from "./local-grid-ports.ts";

const HOST_BIN = fileURLToPath(new URL("../../bin/zgrid-local-grid.ts", import.meta.url));

type Progress = (message: string) => void;

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

function hostPid(dataDir: string): number | undefined {
  const n = Number(readFileSync(join(dataDir, "host.pid"), "utf8").trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function runningHost(dataDir: string): number | undefined {
  try {
    const pid = hostPid(dataDir);
    return isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the local grid (or returns the running one). `fresh` tells whether it was started now. */
export async function upLocalGrid(o: { dataDir: string; nodes: number; vmNodes?: number; accel?: string; nodeMemoryGiB?: number; underlay?: boolean; bmc?: boolean; onProgress?: Progress; timeoutMs?: number }): Promise<LocalGridInfo & { fresh: boolean }> {
  const progress = o.onProgress ?? (() => undefined);
  const vmNodes = o.vmNodes ?? 0;
  if (!Number.isInteger(vmNodes) || vmNodes < 0 || vmNodes > MAX_VM_NODES) throw new LocalGridError(`--vm-nodes ${o.vmNodes}: give 0 to ${MAX_VM_NODES} (each is a 3 GiB QEMU machine)`);
  if (!Number.isInteger(o.nodes) || o.nodes < 0 || o.nodes > METRICS_PORTS) throw new LocalGridError(`--nodes ${o.nodes}: give 0 to ${METRICS_PORTS} node daemons`);
  if (o.nodeMemoryGiB !== undefined && (!Number.isInteger(o.nodeMemoryGiB) || o.nodeMemoryGiB < 3 || o.nodeMemoryGiB > 1024)) {
    throw new LocalGridError(`--node-memory ${o.nodeMemoryGiB}: give 3 to 1024 GiB per node (each keeps 2 GiB for itself)`, { hint: "e.g. --node-memory 8 for a Kubernetes cluster of 1 master + 2 workers" });
  }
  if (vmNodes > 0 && o.underlay === false) throw new LocalGridError("--vm-nodes needs the underlay bridge (the machines network-boot over it)", { hint: "leave --host-nodes out" });
  mkdirSync(o.dataDir, { recursive: true });
  const running = runningHost(o.dataDir);
  if (running && existsSync(localGridInfoPath(o.dataDir))) return { ...readLocalGrid(o.dataDir), fresh: false };
  if (running) throw new LocalGridError(`a local grid host (pid ${running}) is starting or stuck in ${o.dataDir}`, { hint: "wait, or run `zgrid down` and `zgrid up` again" });
  rmSync(localGridInfoPath(o.dataDir), { force: true });
  rmSync(join(o.dataDir, "up-error.txt"), { force: true });
  const logFile = join(o.dataDir, "grid.log");
  progress(`starting the local grid in ${o.dataDir}: dev chain, flist hub, ${o.nodes} node daemon(s)${vmNodes ? `, ${vmNodes} network-booted VM node(s) (release build + TCG boot: many minutes)` : ""} (log: ${logFile})`);
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", HOST_BIN, "--data-dir", o.dataDir, "--nodes", String(o.nodes), ...(vmNodes ? ["--vm-nodes", String(vmNodes)] : []), ...(o.accel ? ["--accel", o.accel] : []), ...(o.nodeMemoryGiB ? ["--node-memory", String(o.nodeMemoryGiB)] : []), ...(o.underlay ? ["--underlay"] : []), ...(o.bmc ? ["--bmc"] : [])], {
    detached: true, stdio: ["ignore", openSync(logFile, "a"), openSync(logFile, "a")], env: { ...process.env, ZGRID_LOG_LEVEL: process.env.ZGRID_LOG_LEVEL ?? "info" },
  });
  child.unref();
  writeFileSync(join(o.dataDir, "host.pid"), String(child.pid));
  // a VM node builds the release, boots under TCG and registers: minutes each
  const timeoutMs = o.timeoutMs ?? 300_000 + vmNodes * 20 * 60_000;
  const end = Date.now() + timeoutMs;
  let ready = 0;
  while (Date.now() < end) {
    if (existsSync(localGridInfoPath(o.dataDir))) return { ...readLocalGrid(o.dataDir), fresh: true };
    if (!isAlive(child.pid)) {
      const why = existsSync(join(o.dataDir, "up-error.txt")) ? readFileSync(join(o.dataDir, "up-error.txt"), "utf8").trim() : tail(logFile);
      throw new LocalGridError(`the local grid failed to start: ${why}`, { details: { log: logFile }, hint: `read ${logFile}; run \`zgrid down\` then \`zgrid up\` again` });
    }
    const n = countReady(logFile);
    if (n > ready) progress(`node ${n}/${o.nodes} ready`);
    ready = n;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new LocalGridError(`the local grid did not start within ${timeoutMs / 1000} s`, { hint: `read ${logFile}` });
}

/** Stops everything `up` started and removes what nodes leave behind. Safe to run twice. */
export async function downLocalGrid(o: { dataDir: string; nodes?: number; onProgress?: Progress }): Promise<{ cancelled: number[]; removedVms: number }> {
  const progress = o.onProgress ?? (() => undefined);
  // the 3bot first: it would re-place what down cancels
  const bots = await stopLocalBot(o.dataDir);
  if (bots.length) progress(`stopped the 3bot (pid ${bots.join(", ")})`);
  // the read commands' bus agent (it would also stop by itself once grid.json changes)
  const { busAgentSocket, stopBusAgent } = await import("@zgrid/client/bus-agent");
  if (await stopBusAgent(busAgentSocket(o.dataDir))) progress("stopped the bus agent");
  let info: LocalGridInfo | undefined;
  try {
    info = readLocalGrid(o.dataDir);
  } catch {
    info = undefined;
  }
  const cancelled: number[] = [];
  const networks: Array<{ nodeId: number; twinId: number; name: string; scope: string }> = [];
  if (info && isAlive(info.supervisorPid)) {
    const grid = await connectGrid(localGridConnection(o.dataDir));
    try {
      const contracts = await grid.contracts.list();
      for (const c of contracts) {
        if (c.metadata?.kind !== "network") continue;
        const scope = (await grid.chain.getTwin((await grid.chain.getNode(c.nodeId)).twinId)).account;
        networks.push({ nodeId: c.nodeId, twinId: grid.twinId, name: c.metadata.name, scope });
      }
      for (const c of contracts) {
        progress(`cancelling contract ${c.id}${c.metadata ? ` (${c.metadata.kind} '${c.metadata.name}')` : ""}`);
        await grid.contracts.cancel(c.id).catch(() => undefined);
        cancelled.push(c.id);
      }
    } finally {
      await grid.close();
    }
    if (cancelled.length) await waitNoVms(info, 60_000);
  }
  const pid = info?.supervisorPid ?? runningHost(o.dataDir);
  if (pid && isAlive(pid)) {
    progress(`stopping the local grid host (pid ${pid})`);
    process.kill(pid, "SIGTERM");
    const end = Date.now() + 30_000;
    while (isAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
  // network-booted VM nodes the host could not power off itself (their QEMU and taps)
  for (const m of stopVmNodeMachines(o.dataDir)) progress(`powered off VM node machine ${m}`);
  // BMCs first (one left alive would start its zosd again), then the node daemons
  for (const dir of nodeDirsOf(o.dataDir, info, o.nodes)) stopBmcs(dir);
  for (const n of info?.nodes ?? []) if (isAlive(n.pid)) process.kill(n.pid, "SIGKILL");
  // every node daemon the host ever started (restarts too), should one have outlived it
  for (const dir of nodeDirsOf(o.dataDir, info, o.nodes)) {
    const stopped = await stopRecordedProcesses(dir, 5_000);
    if (stopped.length) progress(`stopped node processes ${stopped.join(", ")} of ${dir}`);
  }
  const removedVms = await removeLeftovers(o.dataDir, info, networks, o.nodes);
  rmSync(localGridInfoPath(o.dataDir), { force: true });
  rmSync(join(o.dataDir, "host.pid"), { force: true });
  return { cancelled, removedVms };
}

async function waitNoVms(info: LocalGridInfo, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    let left = 0;
    for (const n of info.nodes) left += (await new Hypervisor({ stateDir: n.vmStateDir }).list().catch(() => [])).length;
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function removeLeftovers(dataDir: string, info: LocalGridInfo | undefined, networks: Array<{ nodeId: number; twinId: number; name: string; scope: string }>, nodeCount = 8): Promise<number> {
  let removed = 0;
  const nodeDirs = info?.nodes.map((n) => ({ dataDir: n.dataDir, vmStateDir: n.vmStateDir }))
    ?? nodeDirsOf(dataDir, undefined, nodeCount).map((d, i) => ({ dataDir: d, vmStateDir: vmStateDirFor(dataDir, i) }));
  for (const n of nodeDirs) {
    if (existsSync(n.vmStateDir)) {
      const hv = new Hypervisor({ stateDir: n.vmStateDir });
      for (const id of await hv.list().catch(() => [])) {
        await hv.delete(id).catch(() => undefined);
        removed++;
      }
    }
    rmSync(n.vmStateDir, { recursive: true, force: true });
    const mnt = join(n.dataDir, "mnt");
    // mnt/<wid>/root (a VM's share dir holding its flist mount) and mnt/<wid> (the layout before)
    for (const e of existsSync(mnt) ? readdirSync(mnt) : []) {
      if (!e.endsWith(".json") && !e.endsWith(".log")) for (const p of [join(mnt, e, "root"), join(mnt, e)]) spawnSync("fusermount", ["-uz", p], { stdio: "ignore" });
    }
    for (const line of spawnSync("pgrep", ["-af", "mount-worker"], { encoding: "utf8" }).stdout.split("\n")) {
      if (line.includes(n.dataDir)) spawnSync("kill", ["-9", line.split(" ")[0]!]);
    }
  }
  for (const net of networks) {
    const names = networkNames(net.nodeId, net.twinId, net.name, net.scope);
    if (existsSync(`/run/netns/${names.namespace}`)) {
      spawnSync("ip", ["-n", names.namespace, "link", "del", `w-${names.id}`], { stdio: "ignore" });
      spawnSync("ip", ["netns", "del", names.namespace]);
    }
    for (const link of [names.bridge, names.vethHost]) spawnSync("ip", ["link", "del", link], { stdio: "ignore" });
    // wireguard-go daemonizes (it outlives zosd like the VMs do): end a leftover one by pid
    for (const pid of spawnSync("pgrep", ["-f", `^wireguard-go w-${names.id}$`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)) spawnSync("kill", ["-9", pid]);
    rmSync(`/var/run/wireguard/w-${names.id}.sock`, { force: true }); // a killed wireguard-go leaves its socket file
  }
  // node hosts and the underlay bridge, when the host could not remove them itself
  for (const ns of info?.underlay?.hosts ?? []) {
    spawnSync("ip", ["link", "del", ns.replace(/^zh-/, "zu-")], { stdio: "ignore" });
    if (existsSync(`/run/netns/${ns}`)) spawnSync("ip", ["netns", "del", ns]);
  }
  if (info?.underlay) spawnSync("ip", ["link", "del", info.underlay.bridge], { stdio: "ignore" });
  for (const n of nodeDirs) {
    // HAProxy (gateways) daemonizes too
    const pidFile = join(n.dataDir, "gateway", "haproxy.pid");
    if (existsSync(pidFile)) for (const pid of readFileSync(pidFile, "utf8").split(/\s+/).filter(Boolean)) spawnSync("kill", ["-9", pid]);
  }
  return removed;
}

/** Data dirs of the grid's nodes: from grid.json, else the first `count` by convention. */
function nodeDirsOf(dataDir: string, info: LocalGridInfo | undefined, count = 8): string[] {
  return info?.nodes.map((n) => n.dataDir) ?? Array.from({ length: count }, (_, i) => join(dataDir, "nodes", String(i)));
}

function countReady(logFile: string): number {
  try {
    return (readFileSync(logFile, "utf8").match(/"msg":"node ready"/g) ?? []).length;
  } catch {
    return 0;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ");
  } catch {
    return "(no log)";
  }
}
