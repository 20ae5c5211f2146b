/**
 * Keeps a service's name gateway pointing at exactly its healthy replicas: one
 * `gateway-name-proxy` on a gateway node (one with a domain) inside the service's private network
 * (the network is extended to that node), updated in place when the set of replicas changes.
 *
 * @example
 * ```ts
 * await syncGateway(env, spec, replicas.filter((r) => r.state === "healthy"), contracts);
 * ```
 */
import { DeployTransaction, encodeMetadata, nodeClient, type ContractInfo } from "@zgrid/client";
import type { BotEnv, Replica } from "./observe.ts";
import { nodeTwinOf } from "./observe.ts";
import { serviceNetwork, serviceProject, type ServiceSpec } from "./service-spec.ts";

export interface GatewayState {
  name: string;
  nodeId: number;
  contractId: number;
  backends: string[];
}

/** The backends a gateway should have: `http://<ip>:<port>` of each replica, sorted. */
export function backendsOf(replicas: Replica[], port: number): string[] {
  return replicas.filter((r) => r.ip).map((r) => `http://${r.ip}:${port}`).sort();
}

export async function syncGateway(env: BotEnv, s: ServiceSpec, serving: Replica[], contracts: ContractInfo[]): Promise<GatewayState | undefined> {
  const g = s.gateway;
  if (!g) return undefined;
  const project = serviceProject(s);
  const want = backendsOf(serving, g.port);
  const current = contracts.find((c) => c.metadata?.kind === "gateway" && c.metadata.project === project && c.metadata.name === g.name && c.state !== "deleted");
  const grid = env.grid;
  const ctx = { chain: grid.chain, key: grid.key, twinId: grid.twinId, bus: grid.bus };
  const workload = (backends: string[]) => ({ name: `gw_${g.name.replace(/-/g, "_")}`.slice(0, 36), type: "gateway-name-proxy", data: { name: g.name, backends, tls_passthrough: false, network: serviceNetwork(s) } });
  if (current) {
    if (want.length === 0) return { name: g.name, nodeId: current.nodeId, contractId: current.id, backends: [] };
    const twin = await nodeTwinOf(grid, current.nodeId);
    if (env.liveness.state(current.nodeId) === "dead") return { name: g.name, nodeId: current.nodeId, contractId: current.id, backends: [] };
    const d = await nodeClient(await grid.bus(), twin).get(current.id, { timeout: 5_000 });
    const w = d.workloads.find((x) => x.type === "gateway-name-proxy");
    const have = [...((w?.data as { backends?: string[] } | undefined)?.backends ?? [])].sort();
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      // the gateway's node must be in the network (it already is, unless a heal changed the peers)
      const tx = new DeployTransaction(ctx);
      await tx.update({ nodeId: current.nodeId, nodeTwinId: twin, current: d, workloads: [workload(want)], externalNetworks: [serviceNetwork(s)] });
      env.log(s.name, "gateway", `gateway '${g.name}' now points at ${want.length} replica(s): ${want.join(", ")}`);
    }
    return { name: g.name, nodeId: current.nodeId, contractId: current.id, backends: want };
  }
  if (want.length === 0) return undefined;
  const nodeId = g.node ?? (await grid.nodes.list({ hasDomain: true })).find((n) => env.liveness.state(n.nodeId) !== "dead")?.nodeId;
  if (!nodeId) {
    env.log(s.name, "gateway", "no gateway node (a node with a domain) is up");
    return undefined;
  }
  const twin = await nodeTwinOf(grid, nodeId);
  const tx = new DeployTransaction(ctx);
  try {
    await grid.networks.ensure(tx, { name: serviceNetwork(s), nodeId, nodeTwinId: twin, project, skipNodes: env.liveness.dead() });
    const nameContract = await grid.chain.createNameContract(g.name);
    tx.created.push(nameContract);
    const d = await tx.deploy({
      nodeId, nodeTwinId: twin, externalNetworks: [serviceNetwork(s)], workloads: [{ version: 0, ...workload(want) }],
      metadata: encodeMetadata({ kind: "gateway", name: g.name, vm: s.name, nameContract, project }),
    });
    env.log(s.name, "gateway", `gateway '${g.name}' created on node ${nodeId} over ${want.length} replica(s)`);
    return { name: g.name, nodeId, contractId: d.contract_id, backends: want };
  } catch (e) {
    await tx.rollback();
    throw e;
  }
}
