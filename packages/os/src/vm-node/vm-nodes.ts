/**
 * Nodes as QEMU machines that network-boot this checkout (issue 19): the node release (this
 * checkout + Node + the guest kernel + the Debian system root) is built, signed and pushed to the
 * hub; a boot server (HTTP + Debian's dnsmasq for DHCP on `bridge`) serves the boot image with the
 * farm's kernel line; each node is a blank PC (empty disk, kept across restarts: same disk, same
 * node) on a tap of `bridge` that boots from the network, asks for funds (the farmer's `fund`
 * answers), runs zosd under the upgrader and registers in the farm. What `zgrid up --vm-nodes N`
 * and bench/boot run. TCG: a node takes minutes to register; zmachines in it are nested
 * emulation. Needs root, qemu-system-x86, dnsmasq, and the system root script's debootstrap.
 *
 * @example
 * ```ts
 * const vms = await startVmNodes({ root, workDir, bridge: "zg1a2b", hostAddress: "10.201.0.1", dhcpRange: ["10.201.1.10", "10.201.1.250"],
 *   rpcUrl, addresses, farmId: 1, hubUrl, releaseKey, count: 1, fund: (a) => sendGas(a) });
 * await vms.registered;           // [{ index: 0, nodeId: 3, account: "0x…", … }]
 * await vms.stop();
 * ```
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pushFlist } from "@zgrid/flist";
import { createLogger } from "@zgrid/log";
import type { TwinKey } from "@zgrid/types";
import { buildRelease } from "@zgrid/upgrader";
import { formatBootParams, parseBootParams } from "../boot/boot-params.ts";
import { startBootServer, type BootServer } from "../server/boot-server.ts";
import { ensureBootImage } from "../server/image-paths.ts";
import { createTapOn, deleteLink, ensureBlankDisk, hostTscKhz, spawnPxeMachine } from "./pxe-machine.ts";

const log = createLogger("os.vm-nodes");
const SYSTEM_ROOT_SCRIPT = fileURLToPath(new URL("../../scripts/build-system-root.sh", import.meta.url));
/** Schema of the node state this release writes (@zgrid/zos STATE_SCHEMA). */
const STATE_SCHEMA = 1;

type Address = `0x${string}`;

export interface VmNodesOptions {
  /** The checkout released to the nodes. */
  root: string;
  /** Release, disks (`node-<i>.raw`, kept: a restart is the same node), consoles, dnsmasq state. */
  workDir: string;
  /** Bridge the machines' taps join, and this host's address on it (boot server, chain, hub). */
  bridge: string;
  hostAddress: string;
  dhcpRange: [string, string];
  netmask?: string;
  rpcUrl: string;
  addresses: { token: Address; registry: Address; contracts: Address; governance: Address };
  farmId: number;
  hubUrl: string;
  /** Signs the release; nodes trust it (zgrid.keys). */
  releaseKey: TwinKey;
  count: number;
  /** Per machine (default 3072 MiB: zosd, the upgrader and one small zmachine). */
  memoryMiB?: number;
  diskBytes?: number;
  /** Sends gas to a node account that asked for it on its console. */
  fund(account: Address): Promise<void>;
  onProgress?: (message: string) => void;
  /** Tap names are `<tapPrefix><i>` (at most 12 characters; default the bridge's name + "v"). */
  tapPrefix?: string;
}

export interface VmNode {
  index: number;
  pid: number;
  console: string;
  disk: string;
  tap: string;
  /** When QEMU started, and when zosd said ready (ms since the epoch). */
  poweredOnAt: number;
  registeredAt?: number;
  account?: Address;
  nodeId?: number;
}

export interface VmNodes {
  nodes: VmNode[];
  /** The release the nodes boot: its flist name on the hub and its size. */
  release: { name: string; files: number; bytes: number; buildMs: number };
  server: BootServer;
  /** Resolves when every node registered (its zosd said ready); rejects if a machine stops first. */
  registered: Promise<VmNode[]>;
  stop(): Promise<void>;
}

/** The system root (Debian userspace of a node), built once per machine and cached. */
export function nodeSystemRoot(): string {
  return execFileSync("bash", [SYSTEM_ROOT_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
}

export async function startVmNodes(o: VmNodesOptions): Promise<VmNodes> {
  const progress = o.onProgress ?? (() => undefined);
  mkdirSync(o.workDir, { recursive: true });
  progress("node system root (cached; minutes the first time)");
  const system = nodeSystemRoot();
  progress("building the node release (this checkout + Node + guest kernel + system root)");
  const started = Date.now();
  const version = "1.0.0";
  const built = await buildRelease({ root: o.root, version, outDir: join(o.workDir, "release"), key: o.releaseKey, stateSchema: STATE_SCHEMA, system });
  await pushFlist({ hub: o.hubUrl, flist: built.flistPath, stores: [`dir://${join(o.workDir, "release", "blocks")}`], key: o.releaseKey });
  const name = `${o.releaseKey.address}/zgrid-${version}.fl`;
  const release = { name, files: built.manifest.flist.files, bytes: built.manifest.flist.bytes, buildMs: Date.now() - started };
  progress(`release ${name}: ${release.files} files, ${(release.bytes / 2 ** 20).toFixed(0)} MiB, pushed in ${(release.buildMs / 1000).toFixed(0)} s`);
  const a = o.addresses;
  const params = parseBootParams(`zgrid.farm=${o.farmId} zgrid.rpc=${o.rpcUrl} zgrid.hub=${o.hubUrl} zgrid.keys=${o.releaseKey.address} zgrid.release=${name} zgrid.contracts=${a.token},${a.registry},${a.contracts},${a.governance}`);
  const tsc = hostTscKhz();
  const server = await startBootServer({
    imageDir: ensureBootImage(), kernelLine: formatBootParams(params, name), extraWords: tsc ? `tsc_early_khz=${tsc}` : "", host: o.hostAddress,
    dhcp: { iface: o.bridge, range: o.dhcpRange, ...(o.netmask ? { netmask: o.netmask } : {}), router: o.hostAddress, stateDir: join(o.workDir, "dnsmasq") },
  });
  const machines: ChildProcess[] = [];
  const nodes: VmNode[] = [];
  const stop = async () => {
    for (const m of machines) m.kill("SIGKILL");
    await Promise.all(machines.map((m) => (m.exitCode === null && m.signalCode === null ? new Promise((r) => m.once("exit", r)) : Promise.resolve())));
    for (const n of nodes) deleteLink(n.tap);
    await server.close();
  };
  try {
    const waits: Array<Promise<VmNode>> = [];
    for (let i = 0; i < o.count; i++) {
      const tap = `${o.tapPrefix ?? `${o.bridge.slice(0, 11)}v`}${i}`;
      const disk = join(o.workDir, `node-${i}.raw`);
      const consoleFile = join(o.workDir, `node-${i}.console.log`);
      if (ensureBlankDisk(disk, o.diskBytes ?? 8 * 1024 ** 3)) progress(`node ${i}: a blank ${((o.diskBytes ?? 8 * 1024 ** 3) / 1024 ** 3).toFixed(0)} GiB disk (first boot: a new node)`);
      createTapOn(o.bridge, tap);
      writeFileSync(consoleFile, "");
      const m = spawnPxeMachine({ disk, tap, console: consoleFile, memoryMiB: o.memoryMiB ?? 3072, mac: `52:54:00:7b:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}` });
      machines.push(m);
      const node: VmNode = { index: i, pid: m.pid!, console: consoleFile, disk, tap, poweredOnAt: Date.now() };
      nodes.push(node);
      progress(`node ${i}: powered on (qemu pid ${node.pid}, console ${consoleFile})`);
      waits.push(watchNode(node, m, o, progress));
    }
    return { nodes, release, server, registered: Promise.all(waits), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Follows a machine's console: funds its account when asked, resolves once its zosd is ready. */
function watchNode(node: VmNode, m: ChildProcess, o: VmNodesOptions, progress: (m: string) => void): Promise<VmNode> {
  return new Promise((resolve, reject) => {
    let funding: Promise<void> | undefined;
    let stderr = "";
    m.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const poll = setInterval(() => {
      const text = existsSync(node.console) ? readFileSync(node.console, "utf8") : "";
      const ask = /zgrid-node: account (0x[0-9a-fA-F]{40}) has no funds/.exec(text);
      if (ask && !funding) {
        node.account = ask[1] as Address;
        progress(`node ${node.index}: account ${node.account} asks for funds; funding it`);
        funding = o.fund(node.account).catch((e: unknown) => log.error({ node: node.index, err: String(e) }, "funding the node failed"));
      }
      const fatal = /zgrid-(?:boot|node): FATAL [^\n]*/.exec(text);
      if (fatal) finish(new Error(`node ${node.index} stopped its boot: ${fatal[0]} (console ${node.console})`));
      const ready = readyNodeId(text);
      if (ready !== undefined) {
        node.nodeId = ready;
        node.registeredAt = Date.now();
        progress(`node ${node.index}: registered as node ${ready}`);
        finish();
      }
    }, 1000);
    const onExit = (code: number | null) => finish(new Error(`node ${node.index}'s machine stopped (qemu exit ${code}) before it registered: ${stderr.trim() || `see ${node.console}`}`));
    m.once("exit", onExit);
    function finish(err?: Error) {
      clearInterval(poll);
      m.off("exit", onExit);
      if (err) reject(err);
      else resolve(node);
    }
  });
}

/** The node id from zosd's "node daemon ready" log line (copied to the console), if there. */
export function readyNodeId(consoleText: string): number | undefined {
  for (const line of consoleText.split(/\r?\n/)) {
    if (!line.includes("node daemon ready")) continue;
    try {
      const j = JSON.parse(line.slice(line.indexOf("{"))) as { node?: unknown; msg?: unknown };
      if (j.msg === "node daemon ready" && typeof j.node === "number") return j.node;
    } catch {
      // a line cut by the console: the next poll reads it whole
    }
  }
  return undefined;
}

/** The release bytes the node fetched so far (its first process reports them on the console every 30 s when they grew). */
export function fetchedReleaseBytes(consoleText: string): { bytes: number; verifyFailures: number } | undefined {
  const last = [...consoleText.matchAll(/release blocks fetched so far: (\d+) bytes \((\d+) verify failures\)/g)].at(-1);
  return last ? { bytes: Number(last[1]), verifyFailures: Number(last[2]) } : undefined;
}
