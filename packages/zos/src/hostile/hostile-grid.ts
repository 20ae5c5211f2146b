/**
 * Shared pieces of the hostile-tenant suite (not public API): contracting and signing a
 * deployment on the node fixture, waiting for results, and a probe of the node's
 * responsiveness for another twin (zos.statistics.get latency, bounded — not a benchmark).
 *
 * @example
 * ```ts
 * const d = await contracted(f, f.user, deployment(f.user.id, [vm("a", url, "10.88.1.5")]));
 * const worst = await statisticsLatency(f, f.stranger, 5); // ms, the slowest of 5 answers
 * ```
 */
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "@zgrid/types";
import type { NodeFixture, Twin } from "../testing/node-fixture.ts";
import { randomWgKey } from "../testing/node-fixture.ts";
import { waitFor } from "../testing/wait-for.ts";

const MiB = 1024 ** 2;
const wgKey = randomWgKey();

export function network(subnet = 1): Record<string, unknown> {
  return { version: 0, name: "net", type: "network", data: { ip_range: "10.88.0.0/16", subnet: `10.88.${subnet}.0/24`, wireguard_private_key: wgKey, wireguard_listen_port: 51000 + subnet, peers: [] } };
}

export function vm(name: string, flist: string, ip: string, entrypoint = "/start.sh"): Record<string, unknown> {
  return { version: 0, name, type: "zmachine", data: {
    flist, network: { interfaces: [{ network: "net", ip }] }, size: 0, compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint, env: {},
  } };
}

export function deployment(twin: number, workloads: Array<Record<string, unknown>>, metadata = "hostile"): Record<string, unknown> {
  return {
    version: 0, twin_id: twin, contract_id: 0, metadata, description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 }, workloads,
  };
}

export async function contracted(f: NodeFixture, owner: Twin, json: Record<string, unknown>): Promise<Deployment> {
  const d = parseDeployment(json);
  const contractId = await owner.client.createNodeContract({ nodeId: f.node.nodeId, deploymentHash: deploymentHashHex(d) });
  return signDeployment({ ...d, contract_id: contractId }, owner.id, owner.key);
}

export async function deploy(f: NodeFixture, owner: Twin, json: Record<string, unknown>): Promise<Deployment> {
  const d = await contracted(f, owner, json);
  await owner.bus.request(f.node.twinId, "zos.deployment.deploy", d, { timeout: 20_000 });
  return d;
}

export const getDeployment = (f: NodeFixture, twin: Twin, contractId: number) =>
  twin.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });

export { waitFor };

export const settled = (d: Deployment) => d.workloads.every((w) => w.result && w.result.state !== "init");
export const resultOf = (d: Deployment, name: string) => d.workloads.find((w) => w.name === name)?.result;

/** The slowest of `n` zos.statistics.get answers to `twin`, in ms. */
export async function statisticsLatency(f: NodeFixture, twin: Twin, n: number): Promise<number> {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await twin.bus.request(f.node.twinId, "zos.statistics.get", {}, { timeout: 20_000 });
    worst = Math.max(worst, performance.now() - t0);
  }
  return worst;
}

/** Resolves when the node removed every workload of the contract after its cancellation on chain. */
export async function cancelAndWait(f: NodeFixture, owner: Twin, contractId: number, timeoutMs = 60_000): Promise<void> {
  await owner.client.cancelContract(contractId);
  await waitFor(`contract ${contractId} deprovisioned`, () => getDeployment(f, owner, contractId), (x) => x.workloads.every((w) => w.result?.state === "deleted"), timeoutMs);
}
