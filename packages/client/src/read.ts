/**
 * @zgrid/client/read — reading a grid as one twin, started fast: the light chain reader
 * (`@zgrid/chain/reader`: fetch + ox, no viem) and a bus made only when a node must be asked
 * (libp2p loads then, not before). What read commands use (`zgrid vm ls`, issue 14); the VMs are
 * described by the same code as the full SDK's (`VmReader`), so the output is the same.
 *
 * @example
 * ```ts
 * const reader = await openGridReader(localGridConnection("/var/lib/zgrid"));
 * try {
 *   console.log(await reader.vms.list());
 * } finally {
 *   await reader.close();
 * }
 * ```
 */
import type { Bus } from "@zgrid/bus";
import { chainTwinDirectory, createChainReader, type ChainReader } from "@zgrid/chain/reader";
import { twinKeyFromMnemonic, twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types/core";
import type { GridConnection } from "./connect/grid-connection.ts";
import type { GridConnectionSchema } from "./connect/grid-connection-schema.ts";
import { ContractService } from "./contracts/contract-service.ts";
import { InputError, NoFundsError } from "./errors/client-errors.ts";
import { VmReader } from "./vms/vm-reader.ts";

export { localGridConnection, readLocalGrid, type GridConnection } from "./connect/grid-connection.ts";
export { InputError, LocalGridError } from "./errors/client-errors.ts";
export type { VmInfo } from "./vms/vm-reader.ts";
export type { ContractInfo } from "./contracts/contract-service.ts";

export interface GridReader {
  chain: ChainReader;
  twinId: number;
  contracts: ContractService;
  vms: VmReader;
  /** Stops the bus when one was made. */
  close(): Promise<void>;
}

/** The schema of a user's grid connection file (`--grid FILE`), loaded on demand (it needs zod). */
export async function gridConnectionSchema(): Promise<GridConnectionSchema> {
  return (await import("./connect/grid-connection-schema.ts")).gridConnectionSchema;
}

export interface GridReaderOptions {
  /**
   * How to reach nodes, asked once when a node must be (given the twin and the reader's own bus to
   * fall back on): e.g. the data dir's bus agent (`@zgrid/client/bus-agent`), which keeps the
   * twin's bus open between commands.
   */
  bus?: (twinId: number, own: () => Promise<Bus>) => Promise<Pick<Bus, "request">>;
}

/** Connects for reading: finds the twin of the connection's key (NoFundsError when it has none). */
export async function openGridReader(conn: GridConnection, o: GridReaderOptions = {}): Promise<GridReader> {
  if (!conn.privateKey && !conn.mnemonic) throw new InputError("no identity: give a private key or a mnemonic", { hint: "set ZGRID_MNEMONIC, or use the local grid (`zgrid up`)" });
  // derived only when needed (the account unknown, or the reader's own bus signs): through the
  // bus agent a read derives no key at all
  let twinKey: TwinKey | undefined;
  const key = (): TwinKey => (twinKey ??= conn.privateKey ? twinKeyFromPrivateKey(conn.privateKey) : twinKeyFromMnemonic(conn.mnemonic!));
  const account = conn.account ?? key().address;
  const chain = createChainReader({ rpcUrl: conn.rpcUrl, addresses: conn.addresses });
  const twinId = await chain.twinIdByAccount(account);
  if (twinId === 0) throw new NoFundsError(`account ${account} has no twin on this grid`, { hint: "create one with `zgrid twin create` (the account needs gas)" });
  let busPromise: Promise<Bus> | undefined;
  // a reader only asks: it listens nowhere and holds no relay reservation (nobody needs to reach it)
  const bus = () => (busPromise ??= import("@zgrid/bus").then(({ createBus }) => createBus({ key: key(), twinId, directory: chainTwinDirectory(chain), listen: [], relay: { reserveOn: [] } })));
  let nodeBus: Promise<Pick<Bus, "request">> | undefined;
  const contracts = new ContractService({ chain, twinId });
  return {
    chain, twinId, contracts, vms: new VmReader({ chain, bus: o.bus ? () => (nodeBus ??= o.bus!(twinId, bus)) : bus, twinId, contracts }),
    async close() {
      if (busPromise) await (await busPromise).stop();
    },
  };
}
