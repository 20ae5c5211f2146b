/**
 * The Zero-OS node daemon: one place that starts and stops every long-lived part, in order —
 * identity, chain client, twin, bus, store, hypervisor, engine (re-adopting what an earlier
 * process left running), API routes, registration, chain sync, VM monitor, uptime reports.
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
import { join } from "node:path";
import { createBus, peerIdOfTwinKey, type Bus } from "@zgrid/bus";
import { createGridClient } from "@zgrid/chain";
import { createLogger } from "@zgrid/log";
import { BaseError, bytesToHex, WORKLOAD_TYPE_NAMES, type Deployment } from "@zgrid/types";
import { registerRoutes } from "../api/register-routes.ts";
import { startMetricsServer, zosMetricsText } from "./zos-metrics.ts";
import { ChainSync, type WatchableChain } from "../chain/chain-sync.ts";
import { chainTwinDirectory } from "../chain/chain-twin-directory.ts";
import { registerNode, scheduleUptime } from "../chain/registrar.ts";
import { systemReserve, usedCapacity } from "../engine/capacity-ledger.ts";
import { openDeploymentStore, type DeploymentStore } from "../engine/deployment-store.ts";
import { ProvisionEngine, isDeleted } from "../engine/provision-engine.ts";
import type { ManagerMap } from "../engine/workload-manager.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { VmMonitor } from "../hypervisor/vm-monitor.ts";
import { measureCapacity } from "../node/node-capacity.ts";
import { loadNodeIdentity } from "../node/node-identity.ts";
import { gatewayManagers } from "../primitives/gateway/gateway-managers.ts";
import { HaproxyGateway } from "../primitives/gateway/haproxy-gateway.ts";
import { fqdnProver } from "../primitives/gateway/fqdn-proof.ts";
import { ipManager } from "../primitives/ip/ip-manager.ts";
import { networkManager, type NetworkResult } from "../primitives/network/network-manager.ts";
import { EgressAddressBook } from "../primitives/network/egress-addresses.ts";
import { nodePaths } from "../primitives/node-paths.ts";
import { volumeManager } from "../primitives/volume/volume-manager.ts";
import { FlistMounts } from "../primitives/zmachine/flist-mounts.ts";
import { zmachineManager } from "../primitives/zmachine/zmachine-manager.ts";
import { startZdb } from "../primitives/zdb/start-zdb.ts";
import { zlogsManager } from "../primitives/zlogs/zlogs-manager.ts";
import { diskManager } from "../primitives/zmount/zmount-manager.ts";
import type { ZosConfig } from "./zos-config.ts";
import { EgressPolicy } from "../egress/egress-policy.ts";

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
  const chain = createGridClient({ rpcUrl: config.chain.rpcUrl, addresses: config.chain.addresses, account: `0x${bytesToHex(key.privateKey)}` });
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

  const stoppers: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const s of stoppers.reverse()) await Promise.resolve(s()).catch((e: unknown) => log.warn({ err: e }, "stop step failed"));
  };
  try {
    const portFile = join(config.dataDir, "bus.port");
    const bus = await createBus({
      key, twinId, directory: chainTwinDirectory(chain),
      listen: stableListen(config.bus.listen, portFile),
      ...(config.bus.announce ? { announce: config.bus.announce } : {}),
      relay: { server: config.bus.relayServer, reserveOn: config.bus.relays },
    });
    stoppers.push(() => bus.stop());
    rememberPort(bus.addresses(), portFile);
    const addresses = [...bus.addresses().map((a) => a.replace(/\/p2p\/[^/]+$/, "")).filter((a) => !a.includes("/p2p-circuit")), ...config.bus.relays];
    const total = measureCapacity(config.dataDir, config.capacity);
    const { nodeId } = await registerNode(chain, { farmId: config.farmId, peerId, addresses, capacity: total, location: config.location, publicConfig: config.publicConfig, log });
    const nlog = log.child({ node: nodeId });

    const store = openDeploymentStore(join(config.dataDir, "zos.db"));
    stoppers.push(() => store.close());
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
      ...(config.flist.trustedSigners ? { trustedSigners: config.flist.trustedSigners } : {}), ...(config.flist.stores ? { stores: config.flist.stores } : {}) });
    const managers: ManagerMap = {
      zmount: diskManager(paths),
      volume: volumeManager(paths),
      network: networkManager({ nodeId, scope: key.address, egressAddresses: new EgressAddressBook(join(config.dataDir, "egress-addresses.json")) }),
      zmachine: zmachineManager({ paths, hypervisor, flists, findNetwork: (ctx, name) => findNetwork(store, ctx.deployment, name) }),
      ip: ipManager({
        chain, publicBridge: config.publicBridge,
        ...(config.publicConfig.ip6 && config.publicConfig.gw6 ? { ip6: { cidr: config.publicConfig.ip6, gateway: config.publicConfig.gw6 } } : {}),
        findNetwork: (ctx, name) => findNetwork(store, ctx.deployment, name) }),
      zlogs: zlogsManager({ policy: egress, consoleOf: async (ctx, vm) => (await hypervisor.status(`${ctx.deployment.twin_id}-${ctx.deployment.contract_id}-${vm}`).catch(() => undefined))?.consoleLog }),
    };
    const zdb = await startZdb({ dataDir: config.dataDir, sockDir: join(config.vmStateDir ?? config.dataDir, "zdb"), listen: config.zdb, announce: config.zdb.announce, multiaddrs: addresses, store, log: nlog.child({ component: "zos.zdb" }) });
    stoppers.push(() => zdb.stop());
    managers.zdb = zdb.manager as ManagerMap["zdb"];
    const gatewayProxy = new HaproxyGateway({ dir: join(config.dataDir, "gateway"), httpPort: config.gateway.httpPort, httpsPort: config.gateway.httpsPort });
    const gateways = gatewayManagers({ domain: config.publicConfig.domain, names: chain, proxy: gatewayProxy, policy: egress,
      proveFqdn: fqdnProver({ ...(config.gateway.fqdnResolvers ? { resolvers: config.gateway.fqdnResolvers } : {}) }), findNetwork: (ctx, name) => findNetwork(store, ctx.deployment, name) });
    managers["gateway-name-proxy"] = gateways.name;
    managers["gateway-fqdn-proxy"] = gateways.fqdn;
    // Public IPs belong to the farm, not the node: the chain reserves them per contract and the ip
    // manager refuses a deployment needing more than its contract holds, so the node sets no limit.
    const engine = new ProvisionEngine({ nodeId, chain, store, managers, totalCapacity: { ...total, ipv4u: Number.MAX_SAFE_INTEGER }, log: nlog,
      quotas: config.quotas, installTimeoutMs: config.limits.installTimeoutMs });
    stoppers.push(() => engine.queue.idle());
    await engine.adoptAll();

    registerRoutes(bus, {
      engine,
      version: ZOS_VERSION,
      features: Object.keys(managers),
      statistics: () => statistics(store, total),
      privateIps: (twin, network) => store.list({ twinId: twin }).filter((d) => !isDeleted(d)).flatMap((d) => d.workloads)
        .flatMap((w) => (w.type === "zmachine" && w.result?.state !== "deleted" ? w.data.network.interfaces.filter((i) => i.network === network).map((i) => i.ip) : [])),
      wireguardPorts: () => store.list().filter((d) => !isDeleted(d)).flatMap((d) => d.workloads)
        .flatMap((w) => (w.type === "network" && w.result?.state === "ok" ? [w.data.wireguard_listen_port] : [])),
    });
    stoppers.push(() => { for (const c of ["deploy", "update", "get", "list", "changes"]) bus.unhandle(`zos.deployment.${c}`); });
    if (config.metrics) {
      const metrics = await startMetricsServer({ ...config.metrics, text: () => zosMetricsText({ store, total, bus }) });
      stoppers.push(() => metrics.close());
    }

    const sync = new ChainSync({ nodeId, chain: chain as unknown as WatchableChain, engine, store, cursorFile: join(config.dataDir, "chain.cursor"), intervalMs: config.intervals.reconcileMs, log: nlog });
    await sync.start();
    stoppers.push(() => sync.stop());

    const monitor = new VmMonitor({ hypervisor, intervalMs: config.intervals.monitorMs, consoleLogBytes: config.limits.consoleLogBytes });
    monitor.on("gave-up", (e) => void engine.markFailed(e.id, `VM crashed ${e.failures} times, gave up: ${e.reason}`));
    monitor.start();
    stoppers.push(() => monitor.stop());
    const stopUptime = scheduleUptime(chain, { intervalMs: config.intervals.uptimeMs, startedAt: Date.now(), log: nlog });
    stoppers.push(stopUptime);

    nlog.info({ twin: twinId, peerId, addresses, capacity: total, features: WORKLOAD_TYPE_NAMES.filter((t) => t in managers) }, "node daemon ready");
    return { info: { account: key.address, twinId, nodeId, peerId, addresses }, engine, hypervisor, bus, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
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

function findNetwork(store: DeploymentStore, d: Deployment, name: string): NetworkResult | undefined {
  const candidates = [store.get(d.contract_id) ?? d, ...store.list({ twinId: d.twin_id }).filter((x) => x.contract_id !== d.contract_id)];
  for (const dep of candidates) {
    const w = dep.workloads.find((x) => x.name === name && x.type === "network" && x.result?.state === "ok");
    if (w) return w.result?.data as NetworkResult;
  }
  return undefined;
}

function statistics(store: DeploymentStore, total: ReturnType<typeof measureCapacity>) {
  const live = store.list().filter((d) => !isDeleted(d));
  return {
    total,
    used: usedCapacity(live),
    system: systemReserve(total.mru),
    users: { deployments: live.length, workloads: live.reduce((n, d) => n + d.workloads.filter((w) => w.result?.state !== "deleted").length, 0) },
  };
}
