/**
 * The node's checks of an incoming deployment, in the order of DESIGN.md step 3:
 * schema/validation; sender == deployment.twin_id; signatures against the twins' chain accounts;
 * the contract is a live node contract for THIS node, of this twin, with the same hash.
 * (Capacity is checked by the engine, which knows what is in use.)
 *
 * @example
 * ```ts
 * const d = await verifyDeployment(raw, { sender: 7, nodeId: 3, chain, externalNetworks: [] });
 * ```
 */
import { deploymentHashHex, parseDeployment, verifyDeploymentSignatures, type Deployment } from "@zgrid/types";
import { ContractMismatchError, TwinMismatchError } from "./engine-errors.ts";
import type { ChainContract, NodeChain } from "./node-chain.ts";

export interface VerifyOptions {
  /** Twin id of the verified bus caller. */
  sender: number;
  nodeId: number;
  chain: NodeChain;
  /** Networks the sender already has on this node (sharable between its deployments). */
  externalNetworks?: readonly string[];
}

export async function verifyDeployment(raw: unknown, o: VerifyOptions): Promise<{ deployment: Deployment; contract: ChainContract }> {
  const d = parseDeployment(raw, { externalNetworks: o.externalNetworks ?? [] });
  if (d.twin_id !== o.sender) {
    throw new TwinMismatchError(`deployment belongs to twin ${d.twin_id} but the request came from twin ${o.sender}`, {
      details: { twin_id: d.twin_id, sender: o.sender },
      hint: "send a deployment whose twin_id is your own twin",
    });
  }
  if (d.contract_id === 0) {
    throw new ContractMismatchError("deployment has no contract_id", {
      hint: "create a node contract on chain with the deployment hash first, then set contract_id",
    });
  }
  const accounts = new Map<number, string | undefined>();
  await verifyDeploymentSignatures(d, async (twin) => {
    if (!accounts.has(twin)) accounts.set(twin, await o.chain.getTwin(twin).then((t) => t.account, () => undefined));
    return accounts.get(twin);
  });
  const hash = deploymentHashHex(d);
  let contract: ChainContract;
  try {
    contract = await o.chain.getContract(d.contract_id);
  } catch (e) {
    throw new ContractMismatchError(`contract ${d.contract_id} does not exist on chain`, { cause: e, details: { contract_id: d.contract_id } });
  }
  const problem =
    contract.kind !== "node" ? `contract ${contract.id} is a ${contract.kind} contract, not a node contract`
    : contract.nodeId !== o.nodeId ? `contract ${contract.id} is for node ${contract.nodeId}, not this node (${o.nodeId})`
    : contract.twinId !== d.twin_id ? `contract ${contract.id} belongs to twin ${contract.twinId}, not twin ${d.twin_id}`
    : contract.state === "deleted" ? `contract ${contract.id} is deleted`
    : contract.deploymentHash.toLowerCase() !== hash.toLowerCase() ? `contract ${contract.id} holds hash ${contract.deploymentHash}, the deployment hashes to ${hash}`
    : undefined;
  if (problem) {
    throw new ContractMismatchError(problem, {
      details: { contract_id: contract.id, node: contract.nodeId, twin: contract.twinId, state: contract.state, contract_hash: contract.deploymentHash, deployment_hash: hash },
      hint: "create (or update) the node contract with this node id and the deployment's hash, and sign that exact deployment",
    });
  }
  return { deployment: d, contract };
}
