/** Farm calls: create, dedicated flag, public IP pool, reads. */
import { keccak256, parseEventLogs, toBytes } from "viem";
import { registryAbi } from "../abis.ts";
import { read, write, type GridContext } from "./context.ts";
import type { Farm } from "./types.ts";

export function farmActions(ctx: GridContext) {
  const registry = ctx.addresses.registry;
  return {
    /**
     * Creates a farm owned by the client's twin. Name: 3-40 of [A-Za-z0-9-_], unique.
     * @example const farmId = await client.createFarm({ name: "freefarm" });
     */
    async createFarm(params: { name: string; dedicated?: boolean }): Promise<number> {
      const receipt = await write(ctx, registry, registryAbi, "createFarm", [params.name, params.dedicated ?? false]);
      const [log] = parseEventLogs({ abi: registryAbi, eventName: "FarmStored", logs: receipt.logs });
      return log!.args.farmId;
    },
    async setFarmDedicated(farmId: number, dedicated: boolean): Promise<void> {
      await write(ctx, registry, registryAbi, "setFarmDedicated", [farmId, dedicated]);
    },
    /** @example await client.addFarmIp(1, { ip: "185.0.0.10/24", gateway: "185.0.0.1" }); */
    async addFarmIp(farmId: number, params: { ip: string; gateway: string }): Promise<void> {
      await write(ctx, registry, registryAbi, "addFarmIp", [farmId, params.ip, params.gateway]);
    },
    /** Removes a free IP from the pool (refused while a contract holds it). */
    async removeFarmIp(farmId: number, ip: string): Promise<void> {
      await write(ctx, registry, registryAbi, "removeFarmIp", [farmId, ip]);
    },
    async getFarm(farmId: number): Promise<Farm> {
      const [f, ips] = await read(ctx, registry, registryAbi, "getFarm", [farmId]);
      return {
        id: f.id, twinId: f.twinId, name: f.name, pricingPolicyId: f.pricingPolicyId, dedicated: f.dedicated,
        nodeCount: f.nodeCount, weightMilli: f.weightMilli,
        publicIps: ips.map((p) => ({ ip: p.ip, gateway: p.gateway, contractId: Number(p.contractId) })),
      };
    },
    async farmIdByName(name: string): Promise<number> {
      return read(ctx, registry, registryAbi, "farmIdByName", [keccak256(toBytes(name))]);
    },
    async farmCount(): Promise<number> {
      return read(ctx, registry, registryAbi, "farmCount", []);
    },
  };
}
