/**
 * A multi-node local grid for end-to-end tests (not public API): an underlay with one node host
 * per node, a dev chain and a hub listening on the host's underlay address, a signed busybox
 * flist, and a real `zosd` process in each node host. `stop()` removes everything, also after a
 * failed test: daemons, VMs, network namespaces of the given networks, node hosts, the underlay.
 *
 * @example
 * ```ts
 * const g = await startGridFixture({ nodes: 2, entrypoint: "#!/bin/sh\nexec sleep 1000\n" });
 * g.nodes[0].host.address; // "10.249.0.11"
 * await g.stop();
 * ```
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Size of /probe.bin in the fixture's flist. */
export const FLIST_PROBE_BYTES = 768 * 1024;
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { startHub, type Hub } from "@zgrid/flist";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { buildBusyboxRoot } from "../hypervisor/test-fixtures.ts";
import type { ZosConfigInput } from "../daemon/zos-config.ts";
import type { GatewayLimits } from "../primitives/gateway/haproxy-gateway.ts";
import { networkNames } from "../primitives/node-paths.ts";
import type { Twin } from "../testing/node-fixture.ts";
import { fundNode, nodeAccount, publishFlist, startBmcProcess, startZosd, testTwin, zbmcCommand, zosdCommand, type BmcProcess } from "../testing/zosd-process.ts";
import { startTestDns, type TestDns } from "../testing/dns-server.ts";
import { createNodeHost, createUnderlay, type NodeHost, type Underlay } from "./underlay.ts";

export interface GridNode {
  host: NodeHost;
  twinId: number;
  nodeId: number;
  /** The node's chain account (scopes its host interface names). */
  account: string;
  dataDir: string;
  hypervisor: Hypervisor;
  process?: ChildProcess;
  configPath: string;
  /** Starts zosd in the node host the way the local grid does (same command); waits until ready. */
  start(): Promise<void>;
  /** SIGKILLs the running zosd (VMs, mounts and networks stay). */
  kill(): void;
  /** With `bmc: true`: the node's simulated BMC (its events, zosd's next ready line). */
  bmc?: BmcProcess;
}

export interface GridFixture {
  underlay: Underlay;
  grid: TestGrid;
  hub: Hub;
  flistUrl: string;
  user: Twin;
  stranger: Twin;
  nodes: GridNode[];
  /** The DNS server (on the underlay) the gateway node asks for FQDN proofs: fill `dns.txt`. */
  dns: TestDns;
  /** Network names (twin, name) whose namespaces stop() removes on every node. */
  trackNetwork(twinId: number, name: string): void;
  stop(): Promise<void>;
}

/**
 * `bmc: true` runs each zosd under the local grid's simulated BMC (power switch `bmc`): it powers
 * off by `zos.system.power_off` and on again by a Wake-on-LAN magic packet on the underlay.
 */
/**
 * `launch` replaces zosd's command line with another one that runs zosd and prints its ready line
 * first (e.g. the upgrader owning zosd); it runs in the node host. Any process still naming the
 * node's zosd config when the fixture stops is ended too (a launcher's detached zosd).
 */
export interface GridFixtureOptions {
  nodes: number;
  entrypoint: string;
  domain?: string;
  subnetOctet?: number;
  bmc?: boolean;
  gatewayLimits?: Partial<GatewayLimits>;
  launch?: (node: { index: number; configPath: string; dataDir: string }) => [string, string[]];
}

export async function startGridFixture(o: GridFixtureOptions): Promise<GridFixture> {
  const tmp = mkdtempSync(join(tmpdir(), "zgrid-net-"));
  const octet = o.subnetOctet ?? 249;
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(tmp, { recursive: true, force: true })];
  const nodes: GridNode[] = [];
  const networks: Array<[number, string]> = [];
  const stop = async () => {
    for (const n of nodes) n.process?.kill("SIGKILL");
    // a launcher's zosd runs in its own process group: find it by its (per-fixture) config path
    if (o.launch) for (const n of nodes) for (const line of spawnSync("pgrep", ["-af", "zosd"], { encoding: "utf8" }).stdout.split("\n")) {
      if (line.includes(`--config ${n.configPath}`)) killPid(Number(line.split(" ")[0]));
    }
    // A BMC's zosd outlives the BMC's SIGKILL (its own pidfile says which it is).
    for (const n of nodes) if (n.bmc) for (const pid of readPidFile(join(n.dataDir, "bmc", "zosd.pid"))) killPid(pid);
    for (const n of nodes) for (const id of await n.hypervisor.list().catch(() => [])) await n.hypervisor.delete(id).catch(() => undefined);
    for (const n of nodes) {
      // HAProxy and wireguard-go daemonize (they outlive zosd, like the VMs): end them by pid.
      const pidFile = join(n.dataDir, "gateway", "haproxy.pid");
      if (existsSync(pidFile)) for (const pid of readFileSync(pidFile, "utf8").split(/\s+/).filter(Boolean)) killPid(Number(pid));
      // A reload (-sf) racing the stop may have started one the pid file does not name yet: by its config path.
      for (const line of spawnSync("pgrep", ["-af", "haproxy"], { encoding: "utf8" }).stdout.split("\n")) {
        if (line.includes(join(n.dataDir, "gateway"))) killPid(Number(line.split(" ")[0]));
      }
      for (const [twin, name] of networks) {
        const nn = networkNames(n.nodeId, twin, name, n.account);
        if (existsSync(`/run/netns/${nn.namespace}`)) {
          spawnSync("ip", ["-n", nn.namespace, "link", "del", `w-${nn.id}`]);
          spawnSync("ip", ["netns", "del", nn.namespace]);
        }
        const left = spawnSync("pgrep", ["-f", `^wireguard-go w-${nn.id}$`], { encoding: "utf8" }).stdout;
        for (const pid of left.split("\n").filter(Boolean)) killPid(Number(pid));
      }
      unmountAll(join(n.dataDir, "mnt"));
    }
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    // fd85:<octet>::/64 is a ULA standing in for a farm's public IPv6 range (labelled: not routable)
    const underlay = await createUnderlay({ bridge: `zgrid${octet}`, hostAddress: `10.${octet}.0.1`, publicGateways: ["185.69.0.1/24", `${v6Prefix(octet)}1/64`] });
    cleanups.push(() => underlay.destroy());
    const grid = await startTestGrid({ twins: 5, host: underlay.hostAddress });
    cleanups.push(() => grid.stop());
    const hub = await startHub({ dataDir: join(tmp, "hub"), port: 0, host: underlay.hostAddress });
    cleanups.push(() => hub.close());
    const onStop = (f: () => Promise<void>) => void cleanups.push(f);
    const dns = await startTestDns(underlay.hostAddress);
    cleanups.push(() => dns.stop());
    const listen = [`/ip4/${underlay.hostAddress}/tcp/0`];
    const user = await testTwin(grid, 3, onStop, listen);
    const stranger = await testTwin(grid, 4, onStop, listen);
    const root = join(tmp, "root");
    await buildBusyboxRoot(root, o.entrypoint);
    // a file no boot reads: a VM serving it proves reads through its flist mount (crash campaign)
    writeFileSync(join(root, "probe.bin"), Buffer.alloc(FLIST_PROBE_BYTES, "zgrid-probe "));
    const pushed = await publishFlist({ root, tmp, name: "busybox", hub, key: user.key });

    for (let i = 0; i < o.nodes; i++) {
      const host = await createNodeHost(underlay, { name: `t${octet}n${i + 1}`, address: `10.${octet}.0.${11 + i}` });
      const dataDir = join(tmp, `node${i + 1}`);
      const vmStateDir = mkdtempSync("/tmp/zv-");
      cleanups.push(() => host.destroy(), () => rmSync(vmStateDir, { recursive: true, force: true }));
      const configPath = join(tmp, `zos${i + 1}.json`);
      const [cmd, args] = host.command(...zosdCommand(configPath));
      const [launchCmd, launchArgs] = o.launch ? host.command(...o.launch({ index: i, configPath, dataDir })) : [cmd, args];
      const node: GridNode = {
        host, twinId: 0, nodeId: 0, account: "", dataDir, hypervisor: new Hypervisor({ stateDir: vmStateDir }), configPath,
        async start() {
          if (o.bmc) {
            const bmc = startBmcProcess(...host.command(...zbmcCommand(join(dataDir, "bmc"), zosdCommand(configPath), { on: true })));
            node.bmc = bmc;
            node.process = bmc.process;
            const r = await bmc.ready();
            node.twinId = r.twinId;
            node.nodeId = r.nodeId;
            return;
          }
          const ready = await startZosd(launchCmd, launchArgs, (child) => (node.process = child));
          node.process = ready.process;
          node.twinId = ready.twinId;
          node.nodeId = ready.nodeId;
        },
        kill() {
          node.process?.kill("SIGKILL");
          node.process = undefined;
        },
      };
      nodes.push(node);
      const config: ZosConfigInput = {
        dataDir, vmStateDir, farmId: grid.farmId,
        // an HDD share as the local grid declares one (this machine has no HDD to measure): zdb lives there
        capacity: { hru: 4 * 1024 ** 3 },
        chain: { rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses },
        bus: { listen: [`/ip4/${host.address}/tcp/0`] },
        flist: { requireSignature: true, stores: [`${hub.url}/blocks`], cacheBytes: 256 * 1024 * 1024 },
        // The tests' zlogs servers listen on the host's underlay address (the grid's service host).
        egress: { allow: [`${underlay.hostAddress}/32`] },
        intervals: { reconcileMs: 2_000, monitorMs: 1_000, uptimeMs: 60_000 },
        hypervisor: { accel: "tcg" },
        publicConfig: { ip6: `${v6Prefix(octet)}${11 + i}/64`, gw6: `${v6Prefix(octet)}1`, ...(o.domain && i === 0 ? { domain: o.domain } : {}) },
        gateway: { httpPort: 80, httpsPort: 443, fqdnResolvers: [dns.server], ...(o.gatewayLimits ? { limits: o.gatewayLimits } : {}) },
        ...(o.bmc ? { power: { switch: "bmc" as const, nic: "eth0" } } : {}),
      };
      writeFileSync(configPath, JSON.stringify(config));
      node.account = nodeAccount(cmd, args);
      await fundNode(grid, node.account as `0x${string}`);
      await node.start().catch((e: unknown) => {
        throw new Error(`zosd ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
    return {
      underlay, grid, hub, flistUrl: pushed.url, user, stranger, nodes, dns, stop,
      trackNetwork: (twin, name) => void networks.push([twin, name]),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The underlay's stand-in farm IPv6 range (a ULA): `fd85:<octet>::`. */
export function v6Prefix(octet: number): string {
  return `fd85:${octet.toString(16)}::`;
}

function readPidFile(file: string): number[] {
  try {
    return readFileSync(file, "utf8").split(/\s+/).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function unmountAll(mnt: string): void {
  const entries = (() => { try { return readdirSync(mnt); } catch { return []; } })();
  // mnt/<wid>/root (a VM's share dir holding its flist mount) and mnt/<wid> (the layout before)
  for (const e of entries) if (!e.endsWith(".json") && !e.endsWith(".log")) for (const p of [join(mnt, e, "root"), join(mnt, e)]) spawnSync("fusermount", ["-uz", p], { stdio: "ignore" });
  for (const line of spawnSync("pgrep", ["-af", "mount-worker.ts"], { encoding: "utf8" }).stdout.split("\n")) {
    if (line.includes(mnt.replace(/\/mnt$/, ""))) spawnSync("kill", ["-9", line.split(" ")[0]!]);
  }
}
