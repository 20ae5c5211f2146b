/**
 * A dev chain with a ready-made grid for tests and benchmarks: twin 1 is a farmer with farm 1 (and
 * public IPs), twins 2 and 3 are nodes of farm 1, twin 4 is a user, twin 5 a stranger. `admin` is the
 * deployer: a council member (may propose) and the faucet (may mint), nothing more.
 */
import { createGridClient, type GridClient } from "../client/create-grid-client.ts";
import { GIB, type Resources } from "../pricing.ts";
import { startDevChain, type DevChain, type DevChainOptions } from "./start-dev-chain.ts";
import type { GovernedCall } from "../client/governed-calls.ts";
import { passProposal } from "./pass-proposal.ts";
import { passRelease } from "./pass-release.ts";
import type { Hex } from "viem";

export interface TestGrid {
  chain: DevChain;
  admin: GridClient;
  farmer: GridClient;
  node1: GridClient;
  node2: GridClient;
  user: GridClient;
  stranger: GridClient;
  farmId: number;
  nodeId1: number;
  nodeId2: number;
  /** Chain time of the latest block (seconds). */
  now(): Promise<bigint>;
  /** A client for any dev account index (>= 6 has no twin yet). */
  clientFor(privateKey: `0x${string}`): GridClient;
  /** Passes an admin call through governance (the admin proposes, farm 1 votes, time moves on). */
  govern(call: GovernedCall): Promise<number>;
  /** Passes a release through governance (the admin proposes, farm 1 votes yes, the vote closes). */
  approveRelease(r: { version: string; manifestHash: Hex; manifestUrl: string }): Promise<number>;
  stop(): Promise<void>;
}

export const NODE_RESOURCES: Resources = { cru: 16n, mru: 64n * GIB, sru: 1024n * GIB, hru: 4096n * GIB };

export async function startTestGrid(options: DevChainOptions & { publicIps?: number } = {}): Promise<TestGrid> {
  const chain = await startDevChain({ twins: 5, ...options });
  try {
    const clientFor = (privateKey: `0x${string}`) =>
      createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: privateKey, pollingIntervalMs: 20 });
    const [farmer, node1, node2, user, stranger] = chain.twins.map((t) => clientFor(t.privateKey)) as [GridClient, GridClient, GridClient, GridClient, GridClient];
    const admin = clientFor(chain.admin.privateKey);
    const farmId = await farmer.createFarm({ name: "farm-one" });
    for (let i = 0; i < (options.publicIps ?? 3); i++) await farmer.addFarmIp(farmId, { ip: `185.69.0.${10 + i}/24`, gateway: "185.69.0.1" });
    const nodeId1 = await node1.registerNode({ farmId, resources: NODE_RESOURCES, location: { city: "Ghent", country: "BE" } });
    const nodeId2 = await node2.registerNode({ farmId, resources: NODE_RESOURCES });
    return {
      chain, admin, farmer, node1, node2, user, stranger, farmId, nodeId1, nodeId2, clientFor,
      now: async () => (await chain.publicClient.getBlock({ blockTag: "latest" })).timestamp,
      govern: (call) => passProposal({ council: admin, voters: [{ client: farmer, farmId }], advanceTime: (s) => chain.advanceTime(s), call }),
      approveRelease: (r) => passRelease({ council: admin, voters: [{ client: farmer, farmId }], advanceTime: (s) => chain.advanceTime(s), ...r }),
      stop: () => chain.stop(),
    };
  } catch (e) {
    await chain.stop();
    throw e;
  }
}

/** A 32-byte deployment hash for tests. */
export function testHash(n: number): `0x${string}` {
  return `0x${n.toString(16).padStart(64, "0")}`;
}
