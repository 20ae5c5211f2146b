/**
 * The engine's chain (NodeChain) held in memory, for engine tests that run without a dev chain
 * (a labelled test double: the daemon and grid e2e tests run the engine against the real chain).
 * One twin is known; contracts are what the test puts in `contracts`; every resource report is
 * kept in `reports` and written onto the contract.
 *
 * @example
 * ```ts
 * const chain = new ChainDouble(7, key.address);
 * chain.contracts.set(12, { id: 12, twinId: 7, nodeId: 3, state: "created", … });
 * const engine = new ProvisionEngine({ chain, … });
 * ```
 */
import type { ChainContract, ChainResources, NodeChain } from "./node-chain.ts";

export class ChainDouble implements NodeChain {
  readonly contracts = new Map<number, ChainContract>();
  readonly reports: Array<{ contractId: number; used: ChainResources }> = [];
  private readonly twinId: number;
  private readonly account: `0x${string}`;

  constructor(twinId: number, account: `0x${string}`) {
    this.twinId = twinId;
    this.account = account;
  }

  getTwin(id: number) {
    if (id !== this.twinId) return Promise.reject(new Error(`no twin ${id}`));
    return Promise.resolve({ id, account: this.account, peerId: "", relays: [] });
  }

  getContract(id: number) {
    const c = this.contracts.get(id);
    return c ? Promise.resolve({ ...c }) : Promise.reject(new Error(`no contract ${id}`));
  }

  listNodeContracts() {
    return Promise.resolve([...this.contracts.keys()]);
  }

  reportContractResources(contractId: number, used: ChainResources) {
    this.reports.push({ contractId, used });
    const c = this.contracts.get(contractId);
    if (c) c.used = used;
    return Promise.resolve();
  }
}
