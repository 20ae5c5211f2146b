/**
 * The part of the chain client (@zgrid/chain GridClient) the node daemon uses. Declared here as a
 * small interface so the engine depends on what it needs, not on the client's internals.
 */
export interface ChainTwin {
  id: number;
  account: `0x${string}`;
  peerId: string;
  relays: string[];
}

export interface ChainResources {
  cru: bigint;
  mru: bigint;
  sru: bigint;
  hru: bigint;
}

export interface ChainContract {
  id: number;
  twinId: number;
  kind: "node" | "name" | "rent";
  state: "created" | "grace_period" | "deleted";
  nodeId: number;
  deploymentHash: `0x${string}`;
  publicIps: { ip: string; gateway: string }[];
  name: string;
  /** Resources the node last reported for the contract. */
  used?: ChainResources;
}

export interface NodeChain {
  getTwin(id: number): Promise<ChainTwin>;
  getContract(id: number): Promise<ChainContract>;
  /** Ids of the node's live (created or grace period) contracts. */
  listNodeContracts(nodeId: number): Promise<number[]>;
  reportContractResources(contractId: number, used: ChainResources): Promise<void>;
}
