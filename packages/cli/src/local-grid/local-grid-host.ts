/**
 * The process that is the local grid: it runs the dev chain (state in `<dataDir>/chain.jsonl`, so a
 * second `zgrid up` replays it), the flist hub, and one `zosd` child per node (started again when it
 * dies; every start recorded in `<node dir>/processes.jsonl`), then writes `<dataDir>/grid.json` and
 * serves until SIGTERM. With `bmc` (node hosts only) each zosd runs under the local grid's simulated
 * BMC (`zos/bin/zbmc.ts`, power switch `bmc`): the farm's farmerbot can power the node off and wake
 * it by a Wake-on-LAN magic packet on the underlay; the BMC restarts a crashed zosd (its init). `zgrid up` starts it detached; `zgrid down`
 * stops it. First start also makes the farm and publishes a signed busybox flist.
 *
 * @example
 * ```ts
 * await runLocalGridHost({ dataDir: "/var/lib/zgrid", nodes: 2 }); // resolves when stopped
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createGridClient, devAccount, startDevChain, type DevChain } from "@zgrid/chain";
import { startExplorer, startExplorerTwin, type Explorer } from "@zgrid/explorer";
import { localDnsZonePath, localGridInfoPath, type LocalGridInfo } from "@zgrid/client";
import { TAGS, packFlist, pushFlist, signFlist, startHub, type Hub } from "@zgrid/flist";
import { attachHubMetrics } from "@zgrid/flist";
import { createLogger } from "@zgrid/log";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import type { ZosConfigInput } from "@zgrid/zos";
import { createNodeHost, createUnderlay, ZOSD_ENV, ZOSD_NODE_FLAGS, type NodeHost, type Underlay } from "@zgrid/zos";
import { buildBusyboxRoot } from "@zgrid/zos/hypervisor";
import { startLocalDns, type LocalDns } from "./local-dns.ts";
import { vmStateDirFor } from "./local-grid-paths.ts";
import { startLocalVmNodes } from "./local-vm-nodes.ts";
import { stablePorts, underlayNames } from "./local-grid-ports.ts";
import { recordProcess } from "./node-processes.ts";

const ZOSD = fileURLToPath(new URL("../../../zos/bin/zosd.ts", import.meta.url));
const ZBMC = fileURLToPath(new URL("../../../zos/bin/zbmc.ts", import.meta.url));
const GiB = 1024 ** 3;
const log = createLogger("cli.local-grid");

/** What the busybox flist runs: a web server on :80 (reach test) and a marker on the console. */
export const BUSYBOX_ENTRYPOINT = `#!/bin/sh
mkdir -p /www
echo "hello from $(hostname)" > /www/index.html
httpd -p 80 -h /www
echo "ZGRID-READY $(hostname)"
exec sleep 2147483647
`;

interface Setup { farmId: number; flists: Record<string, string> }

export async function runLocalGridHost(o: { dataDir: string; nodes: number; vmNodes?: number; accel?: "auto" | "tcg" | "kvm"; nodeMemoryGiB?: number; underlay?: boolean; bmc?: boolean }): Promise<void> {
  const dataDir = o.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const ports = await stablePorts(dataDir, o.underlay ?? false);
  const net = underlayNames(dataDir, ports.octet);
  const children: ChildProcess[] = [];
  let gridInfo: LocalGridInfo | undefined;
  /** grid.json, written atomically (again after a node daemon restart: its pid changed). */
  const writeInfo = () => {
    if (!gridInfo || stopping) return;
    writeFileSync(localGridInfoPath(dataDir) + ".tmp", JSON.stringify(gridInfo, null, 2));
    renameSync(localGridInfoPath(dataDir) + ".tmp", localGridInfoPath(dataDir));
  };
  let chain: DevChain | undefined;
  let hub: Hub | undefined;
  let explorer: { explorer: Explorer; stopBus(): Promise<void> } | undefined;
  let dns: LocalDns | undefined;
  let stopVmNodes: (() => Promise<void>) | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    rmSync(localGridInfoPath(dataDir), { force: true });
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
      c.once("exit", () => { clearTimeout(t); resolve(); });
      c.kill("SIGTERM");
    })));
    await stopVmNodes?.().catch(() => undefined);
    await explorer?.explorer.stop().catch(() => undefined);
    await explorer?.stopBus().catch(() => undefined);
    await hub?.close().catch(() => undefined);
    await chain?.stop().catch(() => undefined);
    await dns?.stop().catch(() => undefined);
  };
  const destroyUnderlay = async () => {
    for (const h of hosts) await h.destroy().catch(() => undefined);
    await underlay?.destroy().catch(() => undefined);
  };
  const done = new Promise<void>((resolve) => {
    for (const s of ["SIGTERM", "SIGINT"] as const) process.once(s, () => void stop().then(destroyUnderlay).then(resolve));
  });
  let underlay: Underlay | undefined;
  const hosts: NodeHost[] = [];
  try {
    // The farm's IPv6 range is a ULA on the underlay (labelled stand-in: not routable beyond it).
    if (ports.underlay) underlay = await createUnderlay({ bridge: net.bridge, hostAddress: net.hostAddress, publicGateways: [`${net.publicPrefix}.1/24`, `${net.publicPrefix6}1/64`] });
    const listenHost = underlay?.hostAddress ?? "127.0.0.1";
    // the domains' DNS for FQDN gateways' ownership proofs, and the gateway node's domain (A records)
    const gatewayDomain = `gw.${net.tag}.zgrid.test`;
    dns = await startLocalDns({ host: listenHost, zoneFile: localDnsZonePath(dataDir), ...(underlay ? { wildcards: [{ suffix: gatewayDomain, address: `${net.prefix}.0.11` }] } : {}) });
    chain = await startDevChain({ port: ports.chain, host: listenHost, stateFile: join(dataDir, "chain.jsonl"), twins: 5 });
    const farmerKey = chain.twins[0]!.privateKey;
    // the hub converts images (`POST /convert`, compose files' images) and signs them with the farm's twin key
    hub = await startHub({ dataDir: join(dataDir, "hub"), port: ports.hub, host: listenHost, key: twinKeyFromPrivateKey(farmerKey) });
    attachHubMetrics(hub, { blocksDir: join(dataDir, "hub", "blocks") });
    const admin = createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: chain.admin.privateKey, pollingIntervalMs: 20 });
    const setup = await firstSetup(dataDir, chain, hub, farmerKey, ports.underlay ? net.publicPrefix : "185.69.0");
    // A BMC needs the node host's own NIC (its MAC is what magic packets name): node hosts only.
    const bmc = (o.bmc ?? false) && underlay !== undefined;
    const nodes: LocalGridInfo["nodes"] = [];
    for (let i = 0; i < o.nodes; i++) {
      const dir = join(dataDir, "nodes", String(i));
      mkdirSync(dir, { recursive: true });
      const hostSpec = { name: `${net.tag}n${i}`, address: `${net.prefix}.0.${11 + i}` };
      const host = underlay ? await createNodeHost(underlay, hostSpec) : undefined;
      if (host) hosts.push(host);
      // The node host as a machine brings it up at boot: made again (idempotent) before every
      // daemon restart, so a node host that lost its namespace (a power cut) boots like a new one.
      const bootHost = async () => {
        if (underlay) await createNodeHost(underlay, hostSpec);
      };
      const run = (args: string[]): [string, string[]] => (host ? host.command(process.execPath, args) : [process.execPath, args]);
      const config: ZosConfigInput = {
        dataDir: dir, vmStateDir: vmStateDirFor(dataDir, i), farmId: setup.farmId,
        chain: { rpcUrl: chain.rpcUrl, addresses: chain.addresses },
        flist: { requireSignature: true, stores: [`${hub.url}/blocks`], cacheBytes: 512 * 1024 * 1024 },
        // distinct sizes so the node finder has a choice to make: 2, 4, 6 … GiB free for VMs (or
        // `--node-memory` GiB each, e.g. for a Kubernetes cluster), and 4 GiB of HDD (zdb
        // namespaces) on the data dir's disk: a node measures no HDD here
        capacity: { cru: 2, mru: (o.nodeMemoryGiB ?? 4 + 2 * i) * GiB, hru: 4 * GiB },
        location: { city: "Localhost", country: "ZZ" },
        ...(host ? {
          bus: { listen: [`/ip4/${host.address}/tcp/0`] },
          // ip6: the node's address in the farm's v6 range (`--public-ip6` VMs get theirs from it)
          publicConfig: { ip4: `${host.address}/16`, gw4: underlay!.hostAddress, ip6: `${net.publicPrefix6}${11 + i}/64`, gw6: `${net.publicPrefix6}1`, ...(i === 0 ? { domain: gatewayDomain } : {}) },
        } : {}),
        gateway: { httpPort: 80, httpsPort: 443, fqdnResolvers: [dns.server] },
        intervals: { reconcileMs: 5_000, monitorMs: 2_000, uptimeMs: 60_000 },
        metrics: { port: ports.metrics + i, host: host?.address ?? "127.0.0.1" },
        hypervisor: { accel: o.accel ?? "auto" },
        ...(bmc ? { power: { switch: "bmc" as const, nic: "eth0" } } : {}),
      };
      const configPath = join(dir, "zos.json");
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      const [accCmd, accArgs] = run(["--disable-warning=ExperimentalWarning", ZOSD, "--config", configPath, "--account"]);
      const account = JSON.parse(spawnSync(accCmd, accArgs, { encoding: "utf8" }).stdout) as { account: `0x${string}` };
      const balance = await chain.publicClient.getBalance({ address: account.account });
      if (balance < 10n ** 19n) await admin.walletClient!.sendTransaction({ to: account.account, value: 10n ** 20n, chain: null });
      const logFile = join(dir, "zosd.log");
      const zosd = [...ZOSD_NODE_FLAGS, "--disable-warning=ExperimentalWarning", ZOSD, "--config", configPath];
      // Under a BMC the child is the BMC; it starts zosd (and again after a crash or a wake).
      const [cmd, args] = run(bmc ? ["--disable-warning=ExperimentalWarning", ZBMC, "--nic", "eth0", "--state", join(dir, "bmc"), "--on", "--restart", "--", process.execPath, ...zosd] : zosd);
      let zosdPid: number | undefined;
      let node: LocalGridInfo["nodes"][number] | undefined = undefined;
      const startNode = () => {
        const child = spawn(cmd, args, {
          stdio: ["ignore", "pipe", openSync(logFile, "a")], env: { ...process.env, ...ZOSD_ENV, ZGRID_LOG_LEVEL: process.env.ZGRID_LOG_LEVEL ?? "info" },
        });
        recordProcess(dir, { pid: child.pid!, program: bmc ? "zbmc" : "zosd", marker: configPath });
        children.push(child);
        // The BMC's events: each zosd it starts is recorded for `down`, grid.json names the live one.
        if (bmc) onBmcEvent(child, (e) => {
          if (e.bmc !== "on" || typeof e.pid !== "number") return;
          zosdPid = e.pid;
          recordProcess(dir, { pid: e.pid, program: "zosd", marker: configPath });
          if (node) { node.pid = e.pid; writeInfo(); }
        });
        return child;
      };
      const child = startNode();
      const ready = await readyLine(child, logFile);
      node = { index: i, nodeId: ready.nodeId, twinId: ready.twinId, pid: zosdPid ?? child.pid!, dataDir: dir, vmStateDir: config.vmStateDir!, log: logFile, ...(host ? { address: host.address } : {}) };
      nodes.push(node);
      // A node daemon that dies is started again, as a node's init would (its VMs, mounts and
      // networks kept running and are re-adopted, or made again after a power cut); each start is
      // recorded for `down`.
      const keepRunning = (c: ChildProcess, failures: number, startedAt: number) => c.once("exit", (code, sig) => {
        if (stopping) return;
        // quick exits in a row back off; a daemon that ran for a minute starts the count again
        const quick = Date.now() - startedAt > 60_000 ? 0 : failures;
        const delay = Math.min(500 * 2 ** quick, 10_000);
        log.error({ node: ready.nodeId, pid: c.pid, code, signal: sig, restartInMs: delay }, "a node daemon exited; restarting it");
        const restart = async () => {
          if (stopping) return;
          await bootHost().catch((e: unknown) => log.error({ node: ready.nodeId, err: String(e) }, "the node host could not be made again"));
          if (stopping) return;
          const next = startNode();
          if (!bmc) node!.pid = next.pid!;
          writeInfo();
          void readyLine(next, logFile).then(() => log.info({ node: ready.nodeId, pid: next.pid }, "node daemon restarted"), () => undefined);
          keepRunning(next, quick + 1, Date.now());
        };
        setTimeout(() => void restart(), delay).unref();
      });
      keepRunning(child, 0, Date.now());
      log.info({ node: ready.nodeId }, "node ready");
    }
    // stateless nodes: QEMU machines network-booting this checkout's node release over the underlay
    let vmNodes: LocalGridInfo["vmNodes"];
    if ((o.vmNodes ?? 0) > 0) {
      if (!underlay) throw new Error("--vm-nodes needs the underlay bridge (leave --host-nodes out)");
      const vms = await startLocalVmNodes({
        dataDir, count: o.vmNodes!, bridge: underlay.bridge, hostAddress: underlay.hostAddress, prefix: net.prefix,
        rpcUrl: chain.rpcUrl, addresses: chain.addresses, farmId: setup.farmId, hubUrl: hub.url, adminKey: chain.admin.privateKey,
        fund: async (account) => void (await admin.walletClient!.sendTransaction({ to: account, value: 10n ** 20n, chain: null })),
        onProgress: (m) => log.info({ vmNodes: m }, "vm nodes"),
      });
      stopVmNodes = vms.stop;
      vmNodes = vms.nodes;
      for (const n of vms.nodes) log.info({ node: n.nodeId, pid: n.pid, console: n.console }, "vm node ready");
    }
    // the explorer: its own twin (a dev account with no other role), index in <dataDir>/explorer.db
    const explorerTwin = await startExplorerTwin({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, privateKey: devAccount(15).privateKey });
    explorer = { explorer: await startExplorer({ db: `sqlite:${join(dataDir, "explorer.db")}`, rpcUrl: chain.rpcUrl, addresses: chain.addresses, bus: explorerTwin.bus,
      port: ports.explorer, host: listenHost, livenessIntervalMs: 10_000, windows: { uptimeWindowSec: 180 } }), stopBus: () => explorerTwin.bus.stop() };
    const user = chain.twins[3]!;
    const info: LocalGridInfo = {
      dataDir, supervisorPid: process.pid, rpcUrl: chain.rpcUrl, addresses: chain.addresses, adminKey: chain.admin.privateKey,
      hubUrl: hub.url, farmId: setup.farmId, farmerKey, explorerUrl: explorer.explorer.url,
      metrics: { explorer: `${explorer.explorer.url}/metrics`, hub: `${hub.url}/metrics`, ...Object.fromEntries(nodes.map((n, i) => [`node ${n.nodeId}`, `http://${n.address ?? "127.0.0.1"}:${ports.metrics + i}/metrics`])) },
      user: { twinId: user.twinId, privateKey: user.privateKey, address: user.address }, flists: setup.flists, nodes, ...(vmNodes ? { vmNodes } : {}),
      ...(underlay ? { underlay: { bridge: underlay.bridge, hostAddress: underlay.hostAddress, hosts: hosts.map((h) => h.namespace) } } : {}),
      dns: { server: dns.server, zoneFile: localDnsZonePath(dataDir) },
    };
    gridInfo = info;
    writeInfo();
  } catch (e) {
    log.error({ err: String(e) }, "local grid failed to start");
    writeFileSync(join(dataDir, "up-error.txt"), (e instanceof Error ? e.message : String(e)) + "\n");
    await stop();
    await destroyUnderlay();
    throw e;
  }
  await done;
}

/** Farm and flists, made once per data dir (the chain state file keeps them). */
async function firstSetup(dataDir: string, chain: DevChain, hub: Hub, farmerKey: `0x${string}`, publicPrefix: string): Promise<Setup> {
  const path = join(dataDir, "setup.json");
  if (existsSync(path) && chain.restored) return JSON.parse(readFileSync(path, "utf8")) as Setup;
  const farmer = createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: farmerKey, pollingIntervalMs: 20 });
  const farmId = await farmer.createFarm({ name: "local" });
  for (const n of [10, 11, 12]) await farmer.addFarmIp(farmId, { ip: `${publicPrefix}.${n}/24`, gateway: `${publicPrefix}.1` });
  const work = join(dataDir, "build", "busybox");
  rmSync(work, { recursive: true, force: true });
  await buildBusyboxRoot(join(work, "root"), BUSYBOX_ENTRYPOINT);
  const fl = join(work, "busybox.fl");
  const local = `dir://${join(work, "blocks")}`;
  await packFlist({ source: join(work, "root"), output: fl, stores: [local], tags: { [TAGS.entrypoint]: JSON.stringify({ name: "/start.sh", args: [], env: {}, dir: "/" }), "zgrid.ports": "80/tcp" } });
  await signFlist(fl, twinKeyFromPrivateKey(farmerKey));
  const pushed = await pushFlist({ hub: hub.url, flist: fl, stores: [local], key: twinKeyFromPrivateKey(farmerKey) });
  const setup: Setup = { farmId, flists: { busybox: pushed.url } };
  writeFileSync(path, JSON.stringify(setup, null, 2));
  return setup;
}

/** zosd's first ready line (a BMC's own `{"bmc":…}` event lines before it are skipped). */
function readyLine(child: ChildProcess, logFile: string): Promise<{ twinId: number; nodeId: number }> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const onLine = (line: string) => {
      try {
        const r = JSON.parse(line) as { ready: boolean; twinId: number; nodeId: number; bmc?: string; error?: { message: string } };
        if (r.bmc !== undefined) return;
        rl.off("line", onLine);
        if (r.ready) resolve(r);
        else reject(new Error(`zosd failed: ${r.error?.message ?? line} (log: ${logFile})`));
      } catch {
        rl.off("line", onLine);
        reject(new Error(`zosd printed ${line} (log: ${logFile})`));
      }
    };
    rl.on("line", onLine);
    child.once("exit", (code) => reject(new Error(`zosd exited (${code}) before it was ready; see ${logFile}`)));
  });
}

/** Every `{"bmc":…}` event line the node's BMC prints. */
function onBmcEvent(child: ChildProcess, f: (e: { bmc: string; pid?: unknown }) => void): void {
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      const e = JSON.parse(line) as { bmc?: unknown };
      if (typeof e.bmc === "string") f(e as { bmc: string; pid?: unknown });
    } catch {
      // zosd's own lines
    }
  });
}
