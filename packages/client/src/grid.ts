/**
 * A connection to a grid as one twin: the chain client, a bus (made on first use), and the
 * services users touch (nodes, vms, networks, contracts, twin).
 *
 * @example
 * ```ts
 * const grid = await connectGrid(localGridConnection("/var/lib/zgrid"));
 * const vm = await grid.vms.deploy({ name: "web", flist, memory: 512 });
 * await grid.close();
 * ```
 */
import type { Bus } from "@zgrid/bus";
import { chainTwinDirectory, createGridClient, type GridClient } from "@zgrid/chain/client";
import { twinKeyFromMnemonic, twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import type { GridConnection } from "./connect/grid-connection.ts";
import { ContractService } from "./contracts/contract-service.ts";
import type { DeployContext } from "./deploy/deployer.ts";
import { InputError, NoFundsError } from "./errors/client-errors.ts";
import { NetworkService } from "./networks/network-service.ts";
import { NodeFinder } from "./nodes/node-finder.ts";
import { VmService } from "./vms/vm-service.ts";
import { GatewayService } from "./gateways/gateway-service.ts";
import { ZdbNamespaces } from "./zdbs/zdb-service.ts";

export interface Grid {
  chain: GridClient;
  key: TwinKey;
  twinId: number;
  connection: GridConnection;
  nodes: NodeFinder;
  vms: VmService;
  networks: NetworkService;
  contracts: ContractService;
  gateways: GatewayService;
  zdbs: ZdbNamespaces;
  bus(): Promise<Bus>;
  /** The twin's id, account and token balance (base units, 7 decimals). */
  twin(): Promise<{ twinId: number; address: string; balance: bigint }>;
  close(): Promise<void>;
}

/**
 * Connects; with `createTwin` a key without a twin gets one (needs gas), else that is an error.
 */
export async function connectGrid(conn: GridConnection, o: { createTwin?: boolean } = {}): Promise<Grid> {
  const key = conn.privateKey ? twinKeyFromPrivateKey(conn.privateKey) : conn.mnemonic ? twinKeyFromMnemonic(conn.mnemonic) : undefined;
  if (!key) throw new InputError("no identity: give a private key or a mnemonic", { hint: "set ZGRID_MNEMONIC, or use the local grid (`zgrid up`)" });
  const account = `0x${Buffer.from(key.privateKey).toString("hex")}` as `0x${string}`;
  const chain = createGridClient({ rpcUrl: conn.rpcUrl, addresses: conn.addresses, account, pollingIntervalMs: 50 });
  let twinId = await chain.twinIdByAccount(key.address);
  if (twinId === 0) {
    if (!o.createTwin) throw new NoFundsError(`account ${key.address} has no twin on this grid`, { hint: "create one with `zgrid twin create` (the account needs gas)" });
    const { peerIdOfTwinKey } = await import("@zgrid/bus");
    twinId = await chain.createTwin({ peerId: peerIdOfTwinKey(key).toString(), relays: [] });
  }
  let busPromise: Promise<Bus> | undefined;
  // libp2p is loaded with the first node call: reads that need only the chain never pay for it
  const bus = () => (busPromise ??= import("@zgrid/bus").then(({ createBus }) => createBus({ key, twinId, directory: chainTwinDirectory(chain), listen: [] })));
  const ctx: DeployContext = { chain, key, twinId, bus };
  const contracts = new ContractService({ chain, twinId });
  const nodes = new NodeFinder({ chain, bus, twinId });
  const networks = new NetworkService({ contracts, bus, chain, ctx });
  const vms = new VmService({ ctx, nodes, networks, contracts });
  const gateways = new GatewayService({ ctx, vms, nodes, contracts });
  const zdbs = new ZdbNamespaces({ ctx, nodes, contracts });
  return {
    chain, key, twinId, connection: conn, nodes, vms, networks, contracts, gateways, zdbs, bus,
    async twin() {
      return { twinId, address: key.address, balance: await chain.balanceOf(key.address) };
    },
    async close() {
      if (busPromise) await (await busPromise).stop();
    },
  };
}
