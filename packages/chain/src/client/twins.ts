/** Twin calls: create/update (account = sender), reads. */
import { parseEventLogs, type Address } from "viem";
import { registryAbi } from "../abis.ts";
import { read, write, type GridContext } from "./context.ts";
import type { Twin } from "./types.ts";

export function twinActions(ctx: GridContext) {
  const registry = ctx.addresses.registry;
  return {
    /**
     * Creates the twin of the client's account.
     * @example const twinId = await client.createTwin({ peerId: "16Uiu2…", relays: ["/ip4/127.0.0.1/tcp/4001/ws"] });
     */
    async createTwin(params: { peerId: string; relays?: string[] }): Promise<number> {
      const receipt = await write(ctx, registry, registryAbi, "createTwin", [params.peerId, params.relays ?? []]);
      const [log] = parseEventLogs({ abi: registryAbi, eventName: "TwinStored", logs: receipt.logs });
      return log!.args.twinId;
    },
    /** Updates the client's twin (peer id, relay addresses). */
    async updateTwin(params: { peerId: string; relays?: string[] }): Promise<void> {
      await write(ctx, registry, registryAbi, "updateTwin", [params.peerId, params.relays ?? []]);
    },
    /** @example const twin = await client.getTwin(3); // { id, account, peerId, relays } */
    async getTwin(id: number): Promise<Twin> {
      const t = await read(ctx, registry, registryAbi, "getTwin", [id]);
      return { id: t.id, account: t.account, peerId: t.peerId, relays: [...t.relays] };
    },
    /** 0 when the account has no twin. */
    async twinIdByAccount(account: Address): Promise<number> {
      return read(ctx, registry, registryAbi, "twinIdByAccount", [account]);
    },
    async twinCount(): Promise<number> {
      return read(ctx, registry, registryAbi, "twinCount", []);
    },
  };
}
