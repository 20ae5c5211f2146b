/**
 * Places one new replica of a service: picks a node (the node finder's live capacity; never a
 * dead node; anti-affinity: not a node in `avoid`; spread: the node with fewest of the service's
 * replicas, then most free memory; with `public_ip`, only nodes whose farm has a free public IPv4), journals the operation (so a crash mid-deploy is known to the
 * next run), and deploys through the SDK (network extended to the node, contract, sign, send,
 * wait; rolled back on failure). Undefined when no node fits; `{ failed }` when the deploy failed.
 *
 * @example
 * ```ts
 * const placed = await placeReplica(env, spec, replicaHash(spec), new Set([1]), "heal: node 1 is dead");
 * // `beforeDeploy(name)` runs once the new replica's name is chosen, before anything is deployed
 * ```
 */
import { vmNeeds, vmModelSchema } from "@zgrid/client";
import type { BotEnv } from "./observe.ts";
import { serviceNetwork, serviceProject, type ServiceSpec } from "./service-spec.ts";

export async function placeReplica(env: BotEnv, s: ServiceSpec, hash: string, avoid: Set<number>, reason: string, beforeDeploy?: (name: string) => void): Promise<{ nodeId: number; name: string } | { failed: string } | undefined> {
  // The generation (the replica's never-reused number) is taken only once a node is chosen: a
  // blocked placement retried every pass used to burn one each time (names reached web_60).
  const draft = vmModelSchema.parse({ name: `${s.name}_0`, flist: s.flist, cpu: s.cpu, memory: s.memory, rootfs: s.rootfs, env: s.env, disks: (s.disks ?? []).map(({ name, size, mountpoint }) => ({ name, size, mountpoint })), network: serviceNetwork(s), public_ip: s.public_ip, ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}) });
  const need = vmNeeds(draft);
  const dead = new Set(env.liveness.dead());
  // a public IPv4 comes from the node's farm: only nodes of farms with a free one
  const candidates = (await env.grid.nodes.list({ cru: need.cru, mru: need.mru, sru: need.sru, ...(s.public_ip ? { publicIps: 1 } : {}) }))
    .filter((n) => !dead.has(n.nodeId) && env.liveness.state(n.nodeId) === "alive")
    .filter((n) => !s.nodes || s.nodes.includes(n.nodeId));
  const allowed = s.anti_affinity ? candidates.filter((n) => !avoid.has(n.nodeId)) : candidates;
  const ordered = s.placement === "spread" ? [...allowed].sort((a, b) => Number(avoid.has(a.nodeId)) - Number(avoid.has(b.nodeId))) : [...allowed].sort((a, b) => a.nodeId - b.nodeId);
  const node = ordered[0];
  if (!node) {
    env.log(s.name, "blocked", `no node can take a new replica (${reason}): ${candidates.length} node(s) up with capacity, ${avoid.size} already used`);
    return undefined;
  }
  const name = `${s.name}_${env.store.nextGeneration(s.name)}`;
  const model = { ...draft, name };
  beforeDeploy?.(name); // e.g. a heal's restore planned in the DB before the replica exists
  const op = env.store.beginOp({ service: s.name, kind: "deploy", replica: name, nodeId: node.nodeId, run: env.run });
  env.log(s.name, "place", `placing replica ${name} on node ${node.nodeId} (${reason})`);
  try {
    const vm = await env.grid.vms.deploy({ ...model, node: node.nodeId }, { project: serviceProject(s), spec: hash, skipNodes: [...dead], ...(s.movable ? { movable: true } : {}) });
    env.store.finishOp(op, "done");
    env.log(s.name, "placed", `replica ${name} runs on node ${node.nodeId} at ${vm.ip}${vm.publicIp ? `, public ${vm.publicIp}` : ""} (contract ${vm.contractId})`);
    return { nodeId: node.nodeId, name };
  } catch (e) {
    env.store.finishOp(op, "failed");
    env.store.dropRestores(s.name, name);
    const message = (e as Error).message.split("\n")[0]!;
    env.log(s.name, "error", `replica ${name} on node ${node.nodeId} failed: ${message}`);
    return { failed: message };
  }
}
