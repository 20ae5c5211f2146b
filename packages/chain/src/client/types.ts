/** The client's view of on-chain records (ids as numbers, amounts and sizes as bigint). */
import type { Address, Hex } from "viem";
import type { Resources } from "../pricing.ts";

export type { Resources };

export interface Twin { id: number; account: Address; peerId: string; relays: string[] }

export interface FarmPublicIp { ip: string; gateway: string; /** 0 when free */ contractId: number }
export interface Farm {
  id: number; twinId: number; name: string; pricingPolicyId: number; dedicated: boolean; nodeCount: number;
  /** Sum of its nodes' 2*CU+SU in 1e-3 units: the farm's governance vote weight. */
  weightMilli: bigint;
  publicIps: FarmPublicIp[];
}

export interface Location { city: string; country: string; latitude: string; longitude: string }
export interface PublicConfig { ip4: string; gw4: string; ip6: string; gw6: string; domain: string }
export interface NodeInterface { name: string; mac: string; ips: string[] }

/** What a node registers or updates. */
export interface NodeInput {
  farmId: number;
  resources: Resources;
  location?: Partial<Location>;
  publicConfig?: Partial<PublicConfig>;
  interfaces?: NodeInterface[];
  secureBoot?: boolean;
  virtualized?: boolean;
  serial?: string;
}

export interface Node {
  id: number; farmId: number; twinId: number;
  resources: Resources; location: Location; publicConfig: PublicConfig; interfaces: NodeInterface[];
  secureBoot: boolean; virtualized: boolean; serial: string;
  createdAt: bigint; updatedAt: bigint; uptime: bigint; lastUptimeReport: bigint;
  power: { target: "up" | "down"; state: "up" | "down"; changedAt: bigint };
}

export type ContractKind = "node" | "name" | "rent";
export type ContractState = "created" | "grace_period" | "deleted";
export type DeleteCause = "canceled_by_user" | "out_of_funds" | "canceled_by_collective";

export interface GridContract {
  id: number; twinId: number; kind: ContractKind; state: ContractState;
  /** Set when state is deleted. */
  cause: DeleteCause | undefined;
  nodeId: number; farmId: number;
  deploymentHash: Hex; metadata: string; name: string;
  publicIpCount: number; publicIps: { ip: string; gateway: string }[];
  createdAt: bigint; graceSince: bigint;
  /** The twin's account (pays) and the farmer's account (is paid; zero address for name contracts). */
  owner: Address; payee: Address;
  used: Resources; networkBytes: bigint;
  billing: { rate: bigint; owed: bigint; lastAccrued: bigint; totalPaid: bigint };
}

export const CONTRACT_KINDS: readonly ContractKind[] = ["node", "name", "rent"];
export const CONTRACT_STATES: readonly ContractState[] = ["created", "grace_period", "deleted"];
export const DELETE_CAUSES: readonly (DeleteCause | undefined)[] = [undefined, "canceled_by_user", "out_of_funds", "canceled_by_collective"];
