/**
 * The Zero-OS node daemon: one place that starts every long-lived part in order and stops them in
 * reverse (Lifecycle) — identity, chain client, twin, bus, registration, store, hypervisor,
 * managers (create-managers.ts), engine, API routes, chain sync (its first pass re-adopts what an
 * earlier process left running), VM monitor, liveness watch, uptime reports.
 * Nothing here touches a workload: only signed, contracted deployments and the chain drive it.
 *
 * @example
 * ```ts
 * const zos = await startZosDaemon(parseZosConfig(JSON.parse(readFileSync("zos.json", "utf8"))));
 * zos.info; // { account, twinId, nodeId, peerId, addresses }
 * await zos.stop(); // VMs keep running; a new daemon re-adopts them
 * ```
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { uptime } from "node:os";
import { join } from "node:path";
import { createBus, peerIdOfTwinKey, type Bus } from "@zgrid/bus";
import { chainTwinDirectory, createGridClient } from "@zgrid/chain/client";
import { createLogger } from "@zgrid/log";
import { BaseError, bytesToHex, isMovableMetadata, parseWorkloadId, WORKLOAD_TYPE_NAMES, type NodeStatistics } from "@zgrid/types";
import { registerRoutes } from "../api/register-routes.ts";
import { diskSnapshots } from "../primitives/zmount/disk-snapshots.ts";
import { diskWrites } from "../primitives/zmount/disk-writes.ts";
import { startMetricsServer, zosMetricsText } from "./zos-metrics.ts";
import { withChainDeadline } from "../chain/chain-deadline.ts";
import { ChainSync, type WatchableChain } from "../chain/chain-sync.ts";
import { registerNode, scheduleUptime } from "../chain/registrar.ts";
import { freeCapacity, systemReserve, usedCapacity } from "../engine/capacity-ledger.ts";
import { openDeploymentStore, type DeploymentStore } from "../engine/deployment-store.ts";
import { ProvisionEngine, isDeleted } from "../engine/provision-engine.ts";
import type { ManagerMap } from "../engine/workload-manager.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { VmMonitor } from "../hypervisor/vm-monitor.ts";
import { zmachineHealth } from "../hypervisor/vm-health.ts";
import { vmControl } from "../primitives/zmachine/vm-control.ts";
import { vmProber } from "../primitives/zmachine/vm-probe.ts";
import { measureCapacity } from "../node/node-capacity.ts";
import { loadNodeIdentity } from "../node/node-identity.ts";
import { HaproxyGateway } from "../primitives/gateway/haproxy-gateway.ts";
import { fqdnProver } from "../primitives/gateway/fqdn-proof.ts";
import { EgressAddressBook } from "../primitives/network/egress-addresses.ts";
import { nodePaths } from "../primitives/node-paths.ts";
import { FlistMounts } from "../primitives/zmachine/flist-mounts.ts";
import { startZdb } from "../primitives/zdb/start-zdb.ts";
import { createManagers, findNetworkOf } from "./create-managers.ts";
import { intervalService, Lifecycle, service } from "./lifecycle.ts";
import type { ZosConfig } from "./zos-config.ts";
import { EgressPolicy } from "../egress/egress-policy.ts";
import { PowerControl } from "../power/power-off.ts";
import { createPowerSwitch, macOf } from "../power/power-switch.ts";
import { openPowerLedger } from "../power/power-ledger.ts";

export const ZOS_VERSION = "0.1.0";

export class NodeNotFundedError extends BaseError {
  override readonly code: string = "NODE_NOT_FUNDED";
}

export interface ZosDaemon {
  info: { account: `0x${string}`; twinId: number; nodeId: number; peerId: string; addresses: string[] };
  engine: ProvisionEngine;
  hypervisor: Hypervisor;
  bus: Bus;
  stop(): Promise<void>;
}

export async function startZosDaemon(config: ZosConfig): Promise<ZosDaemon> {
  const log = createLogger("zos", { farm: config.farmId });
  const key = loadNodeIdentity(config.dataDir);
  // Every chain call is bounded: a hung RPC fails the call with CHAIN_TIMEOUT, never stalls the node.
  const chain = withChainDeadline(createGridClient({ rpcUrl: config.chain.rpcUrl, addresses: config.chain.addresses, account: `0x${bytesToHex(key.privateKey)}` }), {
    readMs: config.chain.timeoutMs, writeMs: config.chain.writeTimeoutMs, rpcUrl: config.chain.rpcUrl,
  });
  const gas = await chain.publicClient.getBalance({ address: key.address });
  if (gas === 0n) {
    throw new NodeNotFundedError(`node account ${key.address} has no funds to pay for chain transactions`, {
      details: { account: key.address },
      hint: "send it some native currency (on the local grid: `zgrid twin fund`), then start again",
    });
  }
  const peerId = peerIdOfTwinKey(key).toString();
  let twinId = await chain.twinIdByAccount(key.address);
  if (twinId === 0) twinId = await chain.createTwin({ peerId, relays: [] });

  const life = new Lifecycle(log);
  try {
    const portFile = join(config.dataDir, "bus.port");
    const bus = await createBus({
      key, twinId, directory: chainTwinDirectory(chain),
      listen: stableListen(config.bus.listen, portFile),
      ...(config.bus.announce ? { announce: config.bus.announce } : {}),
      relay: { server: config.bus.relayServer, reserveOn: config.bus.relays },
      limits: { rate: config.bus.rate },
    });
    await life.start(service("bus", () => undefined, () => bus.stop()));
    rememberPort(bus.addresses(), portFile);
    const addresses = [...bus.addresses().map((a) => a.replace(/\/p2p\/[^/]+$/, "")).filter((a) => !a.includes("/p2p-circuit")), ...config.bus.relays];
    const total = measureCapacity(config.dataDir, config.capacity);
    const powerSwitch = createPowerSwitch(config.power);
    const mac = config.power.switch === "none" ? undefined : macOf(config.power.nic);
    const interfaces = mac ? [{ name: config.power.nic, mac, ips: [] as string[] }] : undefined;
    const { nodeId } = await registerNode(chain, { farmId: config.farmId, peerId, addresses, capacity: total, location: config.location, publicConfig: config.publicConfig, log, ...(interfaces ? { interfaces } : {}) });
    await powerSwitch.prepare();
    const nlog = log.child({ node: nodeId });

    const store = openDeploymentStore(join(config.dataDir, "zos.db"));
    await life.start(service("store", () => undefined, () => store.close()));
    const paths = nodePaths(config.dataDir);
    const egress = new EgressPolicy({
      allow: config.egress.allow,
      services: [config.chain.rpcUrl, ...(config.flist.stores ?? []), ...config.bus.listen, ...bus.addresses(), ...config.egress.services],
    });
    const hypervisor = new Hypervisor({ stateDir: config.vmStateDir ?? join(config.dataDir, "vms-state"), accel: config.hypervisor.accel, ...(config.hypervisor.guestDir ? { guestDir: config.hypervisor.guestDir } : {}) });
    // The farm's own stores (its hub) may be fetched from for flists, and only for flists.
    const storeOrigins = (config.flist.stores ?? []).filter((s) => /^https?:\/\//.test(s)).map((s) => new URL(s).origin);
    const flistEgress = new EgressPolicy({
      allow: [...config.egress.allow, ...storeOrigins],
      services: [config.chain.rpcUrl, ...config.bus.listen, ...bus.addresses(), ...config.egress.services],
    });
    const flists = new FlistMounts({ cacheDir: paths.cacheDir, cacheBytes: config.flist.cacheBytes, requireSignature: config.flist.requireSignature, policy: flistEgress,
      downloadTimeoutMs: config.limits.flistDownloadTimeoutMs, maxFlistBytes: config.limits.maxFlistBytes,
      ...(config.flist.trustedSigners ? { trustedSigners: config.flist.trustedSigners } : {}), ...(config.flist.stores ? { stores: config.flist.stores } : {}), standby: true });
    await life.start(service("mount-standby", () => flists.warmUp(), () => flists.coolDown()));
    const gatewayProxy = new HaproxyGateway({ dir: join(config.dataDir, "gateway"), httpPort: config.gateway.httpPort, httpsPort: config.gateway.httpsPort, ...(config.gateway.limits ? { limits: config.gateway.limits } : {}) });
    const managers = createManagers({
      nodeId, scope: key.address, paths, hypervisor, flists, chain, store, publicBridge: config.publicBridge, gatewayProxy, domain: config.publicConfig.domain,
      egress, egressAddresses: new EgressAddressBook(join(config.dataDir, "egress-addresses.json")),
      proveFqdn: fqdnProver({ ...(config.gateway.fqdnResolvers ? { resolvers: config.gateway.fqdnResolvers } : {}) }),
      ...(config.publicConfig.ip6 && config.publicConfig.gw6 ? { ip6: { cidr: config.publicConfig.ip6, gateway: config.publicConfig.gw6 } } : {}),
    });
    const zdb = await startZdb({ dataDir: config.dataDir, sockDir: join(config.vmStateDir ?? config.dataDir, "zdb"), listen: config.zdb, announce: config.zdb.announce, multiaddrs: addresses, store, log: nlog.child({ component: "zos.zdb" }) });
    await life.start(service("zdb", () => undefined, () => zdb.stop()));
    managers.zdb = zdb.manager as ManagerMap["zdb"];
    // Public IPs belong to the farm, not the node: the chain reserves them per contract and the ip
    // manager refuses a deployment needing more than its contract holds, so the node sets no limit.
    const engine = new ProvisionEngine({ nodeId, chain, store, managers, totalCapacity: { ...total, ipv4u: Number.MAX_SAFE_INTEGER }, log: nlog,
      quotas: config.quotas, installTimeoutMs: config.limits.installTimeoutMs });
    await life.start(service("engine", () => undefined, () => engine.queue.idle()));

    // The node's own on/off durations (what the farmerbot's energy figures read).
    const ledger = openPowerLedger({ file: join(config.dataDir, "power-ledger.json"), usedCores: () => Number(usedCapacity(store.list().filter((d) => !isDeleted(d))).cru), powerOnAt: powerOnAt() });
    await life.start(intervalService("power-ledger", 60_000, async () => ledger.checkpoint(), nlog));
    const power = new PowerControl({
      nodeId, farmId: config.farmId, chain, switchKind: powerSwitch.kind, log: nlog,
      liveDeployments: () => store.list().filter((d) => !isDeleted(d)).length,
      // The daemon stops everything (VMs: none, it was idle), then the switch cuts the power.
      onOff: () => void life.stop().then(() => { ledger.markOff(); return powerSwitch.off(); }).catch((e: unknown) => nlog.error({ err: e }, "power off failed")),
    });
    let unregisterRoutes = () => undefined as void;
    const vms = vmControl({ engine, hypervisor });
    const disks = diskSnapshots({ engine, hypervisor, paths });
    const diskWriter = diskWrites({ engine, hypervisor, paths });
    await life.start(service("routes", () => (unregisterRoutes = registerRoutes(bus, {
      engine, power,
      powerDurations: () => ({ node_id: nodeId, ...ledger.report() }),
      // a node run by the upgrader reports the release it runs
      version: process.env.ZGRID_RELEASE_VERSION ?? ZOS_VERSION,
      features: Object.keys(managers),
      statistics: () => statistics(store, total),
      privateIps: (twin, network) => store.list({ twinId: twin }).filter((d) => !isDeleted(d)).flatMap((d) => d.workloads)
        .flatMap((w) => (w.type === "zmachine" && w.result?.state !== "deleted" ? w.data.network.interfaces.filter((i) => i.network === network).map((i) => i.ip) : [])),
      wireguardPorts: () => store.list().filter((d) => !isDeleted(d)).flatMap((d) => d.workloads)
        .flatMap((w) => (w.type === "network" && w.result?.state === "ok" ? [w.data.wireguard_listen_port] : [])),
      vms, disks, diskWrites: diskWriter,
      probes: vmProber({ engine, findNetwork: (d, name) => findNetworkOf(store, d, name) }),
    })), async () => { unregisterRoutes(); vms.closeSessions(); await disks.closeAll(); }));
    if (config.metrics) {
      const metrics = await startMetricsServer({ ...config.metrics, text: () => zosMetricsText({ store, total, bus }) });
      await life.start(service("metrics", () => undefined, () => metrics.close()));
    }

    // Start-up adoption is the chain sync's first pass: every stored contract is reconciled.
    const sync = new ChainSync({ nodeId, chain: chain as unknown as WatchableChain, engine, store, cursorFile: join(config.dataDir, "chain.cursor"), intervalMs: config.intervals.reconcileMs, log: nlog });
    await life.start(service("chain-sync", () => sync.start(), () => sync.stop()));

    const monitor = new VmMonitor({ hypervisor, intervalMs: config.intervals.monitorMs, consoleLogBytes: config.limits.consoleLogBytes });
    monitor.on("gave-up", (e) => { const ref = parseWorkloadId(e.id); if (ref) void engine.recheck(ref.contractId); });
    // the app's health goes into the workload's result (`vm get` shows it)
    monitor.on("health", (e) => { const ref = parseWorkloadId(e.id); if (ref) engine.noteResultData(ref.contractId, ref.name, { health: zmachineHealth(e.health) }); });
    await life.start(service("vm-monitor", () => monitor.start(), () => monitor.stop()));
    await life.start(intervalService("liveness", config.intervals.monitorMs, () => engine.watchLiveness(), nlog));
    let stopUptime = () => undefined as void;
    await life.start(service("uptime", () => (stopUptime = scheduleUptime(chain, { intervalMs: config.intervals.uptimeMs, startedAt: Date.now(), log: nlog })), () => stopUptime()));

    nlog.info({ twin: twinId, peerId, addresses, capacity: total, features: WORKLOAD_TYPE_NAMES.filter((t) => t in managers), services: life.names }, "node daemon ready");
    return { info: { account: key.address, twinId, nodeId, peerId, addresses }, engine, hypervisor, bus, stop: () => life.stop() };
  } catch (e) {
    await life.stop();
    throw e;
  }
}

/**
 * When this machine's power came on: the local grid's BMC says when it woke the node
 * (ZGRID_POWER_ON_AT, the simulated hardware); on a server, the kernel's boot time.
 */
function powerOnAt(): number {
  const bmc = Number(process.env.ZGRID_POWER_ON_AT);
  return Number.isFinite(bmc) && bmc > 0 ? bmc : Math.floor(Date.now() / 1000 - uptime());
}

/**
 * A node keeps its bus port across restarts: with `/tcp/0` the first start picks a free port and
 * later starts reuse it, so peers holding the old twin record still reach the node.
 */
function stableListen(listen: string[], portFile: string): string[] {
  const saved = existsSync(portFile) ? readFileSync(portFile, "utf8").trim() : "";
  return /^\d+$/.test(saved) ? listen.map((a) => a.replace(/\/tcp\/0$/, `/tcp/${saved}`)) : listen;
}

function rememberPort(addresses: string[], portFile: string): void {
  const port = addresses.map((a) => /\/tcp\/(\d+)/.exec(a)?.[1]).find(Boolean);
  if (port) writeFileSync(portFile, `${port}\n`);
}

function statistics(store: DeploymentStore, total: ReturnType<typeof measureCapacity>): NodeStatistics {
  const live = store.list().filter((d) => !isDeleted(d));
  return {
    total,
    used: usedCapacity(live),
    system: systemReserve(total.mru),
    // What the engine's capacity check would still accept (reserve and CPU overcommit applied),
    // so clients never re-code those rules.
    free: freeCapacity(total, live),
    users: { deployments: live.length, workloads: live.reduce((n, d) => n + d.workloads.filter((w) => w.result?.state !== "deleted").length, 0),
      movable_deployments: live.filter((d) => isMovableMetadata(d.metadata)).length },
  };
}
