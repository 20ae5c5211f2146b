/** Node calls: register/update by the node's twin, uptime, power, delete, reads. */
import { parseEventLogs } from "viem";
import { registryAbi } from "../abis.ts";
import { toNode } from "./contract-view.ts";
import { read, write, type GridContext } from "./context.ts";
import type { Node, NodeInput } from "./types.ts";

function toInput(n: NodeInput) {
  return {
    farmId: n.farmId,
    resources: n.resources,
    location: { city: "", country: "", latitude: "", longitude: "", ...n.location },
    publicConfig: { ip4: "", gw4: "", ip6: "", gw6: "", domain: "", ...n.publicConfig },
    interfaces: (n.interfaces ?? []).map((i) => ({ name: i.name, mac: i.mac, ips: i.ips })),
    secureBoot: n.secureBoot ?? false,
    virtualized: n.virtualized ?? false,
    serial: n.serial ?? "",
  };
}

export function nodeActions(ctx: GridContext) {
  const registry = ctx.addresses.registry;
  return {
    /**
     * Registers the client's twin as a node of a farm (one node per twin).
     * @example const nodeId = await nodeClient.registerNode({ farmId: 1, resources: { cru: 8n, mru: 16n * GIB, sru: 512n * GIB, hru: 0n } });
     */
    async registerNode(input: NodeInput): Promise<number> {
      const receipt = await write(ctx, registry, registryAbi, "registerNode", [toInput(input)]);
      const [log] = parseEventLogs({ abi: registryAbi, eventName: "NodeStored", logs: receipt.logs });
      return log!.args.nodeId;
    },
    async updateNode(nodeId: number, input: NodeInput): Promise<void> {
      await write(ctx, registry, registryAbi, "updateNode", [nodeId, toInput(input)]);
    },
    /** Reports uptime (seconds) at `timestamp` (unix seconds, default now; must be within 60 s of chain time). */
    async reportUptime(uptime: bigint, timestamp?: bigint): Promise<void> {
      await write(ctx, registry, registryAbi, "reportUptime", [uptime, timestamp ?? BigInt(Math.floor(Date.now() / 1000))]);
    },
    /** The farmer asks a node to be up or down (standby). */
    async setPowerTarget(nodeId: number, up: boolean): Promise<void> {
      await write(ctx, registry, registryAbi, "setPowerTarget", [nodeId, up]);
    },
    /** The node reports its own power state. */
    async setPowerState(up: boolean): Promise<void> {
      await write(ctx, registry, registryAbi, "setPowerState", [up]);
    },
    /** Deletes a node (its twin or farmer); refused while it has live contracts. */
    async deleteNode(nodeId: number): Promise<void> {
      await write(ctx, registry, registryAbi, "deleteNode", [nodeId]);
    },
    async getNode(nodeId: number): Promise<Node> {
      return toNode(await read(ctx, registry, registryAbi, "getNode", [nodeId]));
    },
    /** 0 when the twin has no node. */
    async nodeIdByTwin(twinId: number): Promise<number> {
      return read(ctx, registry, registryAbi, "nodeIdByTwin", [twinId]);
    },
    async nodeCount(): Promise<number> {
      return read(ctx, registry, registryAbi, "nodeCount", []);
    },
  };
}
