/**
 * Keeps a service's name gateway pointing at exactly its healthy replicas: one
 * `gateway-name-proxy` on a gateway node (one with a domain) inside the service's private network
 * (the network is extended to that node), updated in place when the set of replicas changes.
 *
 * A gateway whose own node is dead is moved: a new one is made on another live gateway node with
 * the same name (the twin's name contract is reused), and the dead node's gateway contract is
 * cancelled once the new one is up. What the user sees: a name gateway's address is
 * `<name>.<node domain>`, so the service is now at the new node's domain (the event says which);
 * clients or DNS records pointing at the old node's domain must follow. A gateway pinned to a node
 * (`gateway.node`) is not moved: it serves again when its node comes back.
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
  const mine = contracts.filter((c) => c.metadata?.kind === "gateway" && c.metadata.project === project && c.metadata.name === g.name && c.state !== "deleted");
  // the gateways' nodes are watched like the replicas' (a dead one moves the gateway)
  for (const c of mine) env.liveness.watch(c.nodeId, await nodeTwinOf(env.grid, c.nodeId));
  const dead = (c: ContractInfo) => env.liveness.state(c.nodeId) === "dead";
  // a live gateway is the one kept; with none alive, a dead one stays only when pinned
  const current = mine.find((c) => !dead(c)) ?? (g.node !== undefined ? mine[0] : undefined);
  const moved = mine.filter((c) => c !== current && dead(c));
  const grid = env.grid;
  const ctx = { chain: grid.chain, key: grid.key, twinId: grid.twinId, bus: grid.bus };
  const workload = (backends: string[]) => ({ name: `gw_${g.name.replace(/-/g, "_")}`.slice(0, 36), type: "gateway-name-proxy", data: { name: g.name, backends, tls_passthrough: false, network: serviceNetwork(s) } });
  if (current) {
    if (want.length === 0) return { name: g.name, nodeId: current.nodeId, contractId: current.id, backends: [] };
    const twin = await nodeTwinOf(grid, current.nodeId);
    if (dead(current)) return { name: g.name, nodeId: current.nodeId, contractId: current.id, backends: [] };
    // the gateway of a dead node it was moved from: cancelled now that this one serves
    for (const c of moved) {
      await grid.contracts.cancel(c.id).then(
        () => env.log(s.name, "cancel", `gateway '${g.name}' on dead node ${c.nodeId} (contract ${c.id}) cancelled: moved to node ${current.nodeId}`),
        (e: unknown) => env.log(s.name, "error", `cancel of the old gateway ${c.id} failed: ${(e as Error).message}`),
      );
    }
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
  const candidates = (await grid.nodes.list({ hasDomain: true })).filter((n) => env.liveness.state(n.nodeId) === "alive");
  const chosen = g.node !== undefined ? candidates.find((n) => n.nodeId === g.node) ?? { nodeId: g.node, domain: "" } : candidates.find((n) => !moved.some((c) => c.nodeId === n.nodeId));
  if (!chosen) {
    env.log(s.name, "gateway", moved.length ? `gateway '${g.name}': its node ${moved.map((c) => c.nodeId).join(", ")} is dead and no other gateway node (a node with a domain) is up; it serves again when one is` : "no gateway node (a node with a domain) is up");
    return undefined;
  }
  const nodeId = chosen.nodeId;
  const twin = await nodeTwinOf(grid, nodeId);
  const tx = new DeployTransaction(ctx);
  try {
    await grid.networks.ensure(tx, { name: serviceNetwork(s), nodeId, nodeTwinId: twin, project, skipNodes: env.liveness.dead() });
    // the twin's name contract is kept when the gateway moves (it holds the name on chain)
    const held = moved.length ? await grid.chain.contractIdByName(g.name) : 0;
    const nameContract = held || await grid.chain.createNameContract(g.name);
    if (!held) tx.created.push(nameContract);
    const d = await tx.deploy({
      nodeId, nodeTwinId: twin, externalNetworks: [serviceNetwork(s)], workloads: [{ version: 0, ...workload(want) }],
      metadata: encodeMetadata({ kind: "gateway", name: g.name, vm: s.name, nameContract, project }),
    });
    const where = chosen.domain ? ` at ${g.name}.${chosen.domain}` : "";
    if (moved.length) env.log(s.name, "gateway", `gateway '${g.name}' moved from dead node ${moved.map((c) => c.nodeId).join(", ")} to node ${nodeId}${where} over ${want.length} replica(s): clients of the old node's domain must follow`);
    else env.log(s.name, "gateway", `gateway '${g.name}' created on node ${nodeId}${where} over ${want.length} replica(s)`);
    return { name: g.name, nodeId, contractId: d.contract_id, backends: want };
  } catch (e) {
    await tx.rollback();
    throw e;
  }
}
