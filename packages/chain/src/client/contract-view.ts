/**
 * Raw contract reads (as the ABI decodes them: viem's client and the light reader decode alike) to
 * the client's records. No runtime imports beyond the record tables: the light reader
 * (chain-reader.ts) loads this without viem.
 *
 * @example
 * ```ts
 * const c = toGridContract(await publicClient.readContract({ address, abi: gridContractsAbi, functionName: "getContract", args: [12n] }));
 * ```
 */
import type { ReadContractReturnType } from "viem";
import type { gridContractsAbi, registryAbi } from "../abis.ts";
import { CONTRACT_KINDS, CONTRACT_STATES, DELETE_CAUSES, type GridContract, type Node } from "./types.ts";

export type ContractView = ReadContractReturnType<typeof gridContractsAbi, "getContract">;
export type NodeView = ReadContractReturnType<typeof registryAbi, "getNode">;

export function toGridContract(v: ContractView): GridContract {
  const c = v.c;
  return {
    id: Number(c.id), twinId: c.twinId, kind: CONTRACT_KINDS[c.kind]!, state: CONTRACT_STATES[c.state]!,
    cause: DELETE_CAUSES[c.cause], nodeId: c.nodeId, farmId: c.farmId,
    deploymentHash: c.deploymentHash, metadata: c.metadata, name: c.name,
    publicIpCount: c.publicIpCount, publicIps: v.publicIps.map((ip, i) => ({ ip, gateway: v.gateways[i] ?? "" })),
    createdAt: c.createdAt, graceSince: c.graceSince, owner: c.owner, payee: c.payee,
    used: { ...v.used }, networkBytes: v.networkBytes,
    billing: { rate: v.billing.rate, owed: v.billing.owed, lastAccrued: v.billing.lastAccrued, totalPaid: v.billing.totalPaid },
  };
}

export function toNode([n, ifs]: NodeView): Node {
  return {
    id: n.id, farmId: n.farmId, twinId: n.twinId,
    resources: { ...n.resources }, location: { ...n.location }, publicConfig: { ...n.publicConfig },
    interfaces: ifs.map((i) => ({ name: i.name, mac: i.mac, ips: [...i.ips] })),
    secureBoot: n.secureBoot, virtualized: n.virtualized, serial: n.serial,
    createdAt: n.createdAt, updatedAt: n.updatedAt, uptime: n.uptime, lastUptimeReport: n.lastUptimeReport,
    power: { target: n.powerTargetUp ? "up" : "down", state: n.powerStateUp ? "up" : "down", changedAt: n.powerChangedAt },
  };
}
