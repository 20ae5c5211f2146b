/**
 * The one place the node's workload managers are wired: one manager per workload type, each
 * given only what it needs (paths, hypervisor, flist mounts, chain, gateway proxy, how to find a
 * network). The daemon and the conformance tests build managers the same way.
 *
 * @example
 * ```ts
 * const managers = createManagers({ nodeId, scope: key.address, paths, hypervisor, flists, chain, store, publicBridge: "br-pub", gatewayProxy, domain });
 * managers.zmachine!.provision(ctx, w);
 * ```
 */
import type { Deployment } from "@zgrid/types";
import type { DeploymentStore } from "../engine/deployment-store.ts";
import type { EgressPolicy } from "../egress/egress-policy.ts";
import type { ManagerMap } from "../engine/workload-manager.ts";
import type { Hypervisor } from "../hypervisor/hypervisor.ts";
import { gatewayManagers, type GatewayDeps } from "../primitives/gateway/gateway-managers.ts";
import type { HaproxyGateway } from "../primitives/gateway/haproxy-gateway.ts";
import { ipManager, type IpDeps } from "../primitives/ip/ip-manager.ts";
import type { EgressAddressBook } from "../primitives/network/egress-addresses.ts";
import { networkManager, type NetworkResult } from "../primitives/network/network-manager.ts";
import type { NodePaths } from "../primitives/node-paths.ts";
import { volumeManager } from "../primitives/volume/volume-manager.ts";
import type { FlistMounts } from "../primitives/zmachine/flist-mounts.ts";
import { zmachineManager } from "../primitives/zmachine/zmachine-manager.ts";
import { zlogsManager } from "../primitives/zlogs/zlogs-manager.ts";
import { diskManager } from "../primitives/zmount/zmount-manager.ts";

export interface ManagerDeps {
  nodeId: number;
  /** The node's account: scopes host interface names so grids on one machine never collide. */
  scope: string;
  paths: NodePaths;
  hypervisor: Hypervisor;
  flists: FlistMounts;
  chain: IpDeps["chain"] & GatewayDeps["names"];
  store: DeploymentStore;
  publicBridge: string;
  gatewayProxy: HaproxyGateway;
  /** The node's gateway domain (gateway-name-proxy), when it has one. */
  domain: string | undefined;
  /** Where workloads may connect out to (zlogs outputs, gateway backends). */
  egress: EgressPolicy;
  egressAddresses: EgressAddressBook;
  proveFqdn: GatewayDeps["proveFqdn"];
  /** The node's public IPv6 range and gateway, when the farm has one (ip workloads with v6). */
  ip6?: IpDeps["ip6"];
}

export function createManagers(deps: ManagerDeps): ManagerMap {
  const findNetwork = (ctx: { deployment: Deployment }, name: string) => findNetworkOf(deps.store, ctx.deployment, name);
  const gateways = gatewayManagers({ domain: deps.domain, names: deps.chain, proxy: deps.gatewayProxy, policy: deps.egress, proveFqdn: deps.proveFqdn, findNetwork });
  return {
    zmount: diskManager(deps.paths),
    volume: volumeManager(deps.paths),
    network: networkManager({ nodeId: deps.nodeId, scope: deps.scope, egressAddresses: deps.egressAddresses }),
    zmachine: zmachineManager({ paths: deps.paths, hypervisor: deps.hypervisor, flists: deps.flists, findNetwork }),
    ip: ipManager({ chain: deps.chain, publicBridge: deps.publicBridge, findNetwork, ...(deps.ip6 ? { ip6: deps.ip6 } : {}) }),
    zlogs: zlogsManager({ policy: deps.egress, consoleOf: async (ctx, vm) => (await deps.hypervisor.status(`${ctx.deployment.twin_id}-${ctx.deployment.contract_id}-${vm}`).catch(() => undefined))?.consoleLog }),
    "gateway-name-proxy": gateways.name,
    "gateway-fqdn-proxy": gateways.fqdn,
  };
}

/**
 * A network of the deployment's twin on this node: its own deployment first, then its others. A
 * network being updated in place (state init, its previous data kept) is still there.
 */
export function findNetworkOf(store: DeploymentStore, d: Deployment, name: string): NetworkResult | undefined {
  const candidates = [store.get(d.contract_id) ?? d, ...store.list({ twinId: d.twin_id }).filter((x) => x.contract_id !== d.contract_id)];
  const there = (r: { state: string; data?: unknown } | undefined) => r?.state === "ok" || r?.state === "unchanged" || (r?.state === "init" && r.data !== undefined);
  for (const dep of candidates) {
    const w = dep.workloads.find((x) => x.name === name && x.type === "network" && there(x.result));
    if (w) return w.result?.data as NetworkResult;
  }
  return undefined;
}
