/**
 * The twin's contracts: list (with what each is for and what it costs per hour) and cancel.
 *
 * @example
 * ```ts
 * for (const c of await grid.contracts.list()) console.log(c.id, c.kind, c.costPerHourUsd);
 * await grid.contracts.cancel(12);
 * ```
 */
import type { GridClient } from "@zgrid/chain";
import { RATE_DEN } from "@zgrid/chain/reader";
import { InputError, NotFoundError } from "../errors/client-errors.ts";
import { parseMetadata, type ContractMetadata } from "../models/contract-metadata.ts";

export interface ContractInfo {
  id: number;
  kind: string;
  state: string;
  nodeId: number;
  metadata: ContractMetadata | undefined;
  /** USD per hour at the current rate (1 USD = 10^7 units). */
  costPerHourUsd: number;
  publicIps: string[];
}

/** What the service needs of a chain client: reads (the light reader has them) and, to cancel, the full client. */
export type ContractChain = Pick<GridClient, "listTwinContracts" | "getContract"> & Partial<Pick<GridClient, "cancelContract">>;

export class ContractService {
  private readonly chain: ContractChain;
  private readonly twinId: number;

  constructor(o: { chain: ContractChain; twinId: number }) {
    this.chain = o.chain;
    this.twinId = o.twinId;
  }

  /** Live contracts of the twin. */
  async list(): Promise<ContractInfo[]> {
    const ids = await this.chain.listTwinContracts(this.twinId);
    return Promise.all(ids.map((id) => this.get(id)));
  }

  async get(id: number): Promise<ContractInfo> {
    const c = await this.chain.getContract(id).catch(() => undefined);
    if (!c || c.id === 0 || c.twinId !== this.twinId) throw new NotFoundError(`contract ${id} is not one of yours`, { details: { id }, hint: "list yours with `zgrid contracts ls`" });
    const unitsPerHour = Number((c.billing.rate * 3600n) / RATE_DEN);
    return {
      id: c.id, kind: c.kind, state: c.state, nodeId: c.nodeId, metadata: parseMetadata(c.metadata),
      costPerHourUsd: unitsPerHour / 1e7, publicIps: c.publicIps.map((p) => p.ip),
    };
  }

  async cancel(id: number): Promise<void> {
    const c = await this.get(id);
    if (c.state === "deleted") return;
    if (!this.chain.cancelContract) throw new InputError("this connection only reads the chain: cancelling needs the full client (connectGrid)");
    await this.chain.cancelContract(id);
  }
}
