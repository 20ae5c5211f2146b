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
import { twinKeyFromMnemonic, twinKeyFromPrivateKey } from "@zgrid/types/core";
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

/** Connects for reading: finds the twin of the connection's key (NoFundsError when it has none). */
export async function openGridReader(conn: GridConnection): Promise<GridReader> {
  const key = conn.privateKey ? twinKeyFromPrivateKey(conn.privateKey) : conn.mnemonic ? twinKeyFromMnemonic(conn.mnemonic) : undefined;
  if (!key) throw new InputError("no identity: give a private key or a mnemonic", { hint: "set ZGRID_MNEMONIC, or use the local grid (`zgrid up`)" });
  const chain = createChainReader({ rpcUrl: conn.rpcUrl, addresses: conn.addresses });
  const twinId = await chain.twinIdByAccount(key.address);
  if (twinId === 0) throw new NoFundsError(`account ${key.address} has no twin on this grid`, { hint: "create one with `zgrid twin create` (the account needs gas)" });
  let busPromise: Promise<Bus> | undefined;
  // a reader only asks: it listens nowhere and holds no relay reservation (nobody needs to reach it)
  const bus = () => (busPromise ??= import("@zgrid/bus").then(({ createBus }) => createBus({ key, twinId, directory: chainTwinDirectory(chain), listen: [], relay: { reserveOn: [] } })));
  const contracts = new ContractService({ chain, twinId });
  return {
    chain, twinId, contracts, vms: new VmReader({ chain, bus, twinId, contracts }),
    async close() {
      if (busPromise) await (await busPromise).stop();
    },
  };
}
