/**
 * The typed zgrid chain client: one object with a function for every call and read of the grid's
 * contracts, plus event reading/watching.
 */
import { createContext, type GridClientOptions, type GridContext } from "./context.ts";
import { twinActions } from "./twins.ts";
import { farmActions } from "./farms.ts";
import { nodeActions } from "./nodes.ts";
import { contractActions } from "./contracts.ts";
import { billingActions } from "./billing.ts";
import { governanceActions } from "./governance.ts";
import { getGridEvents, watchGridEvents, type GetGridEventsParams, type WatchGridEventsParams } from "./events.ts";

export type GridClient = ReturnType<typeof createGridClient>;

/**
 * @example
 * ```ts
 * const client = createGridClient({ rpcUrl: "http://127.0.0.1:8545", addresses, account: "0x…privateKey" });
 * const twinId = await client.createTwin({ peerId, relays: [] });
 * const contractId = await client.createNodeContract({ nodeId: 1, deploymentHash, publicIps: 0 });
 * const watcher = client.watchEvents({ fromBlock: 0n, onEvents: (events) => console.log(events) });
 * ```
 */
export function createGridClient(options: GridClientOptions) {
  const ctx: GridContext = createContext(options);
  return {
    context: ctx,
    addresses: ctx.addresses,
    publicClient: ctx.publicClient,
    walletClient: ctx.walletClient,
    /** The client's account address (undefined when read-only). */
    account: ctx.walletClient?.account.address,
    ...twinActions(ctx),
    ...farmActions(ctx),
    ...nodeActions(ctx),
    ...contractActions(ctx),
    ...billingActions(ctx),
    ...governanceActions(ctx),
    getEvents: (params: GetGridEventsParams) => getGridEvents(ctx, params),
    watchEvents: (params: WatchGridEventsParams) => watchGridEvents(ctx, params),
    getBlockNumber: () => ctx.publicClient.getBlockNumber({ cacheTime: 0 }),
  };
}
