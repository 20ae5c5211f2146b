/**
 * Demand side of the farmerbot: a node in standby is capacity that can be woken. The client asks
 * the node's farm's bot (the farm's twin on the bus, route `farmerbot.power.wake`) to wake it, then
 * waits with progress ("waking node 3 … 12 s") until the chain shows it up and the node answers,
 * so the deploy that follows lands on a node that is really there. It asks again every 20 s while
 * it waits (the bot sends another magic packet then: one may be lost, e.g. on a machine still
 * shutting down when it came).
 *
 * @example
 * ```ts
 * await wakeNode({ chain, bus: await grid.bus() }, 3, { onProgress: console.log });  // resolves when deployable
 * ```
 */
import type { Bus } from "@zgrid/bus";
import type { GridClient } from "@zgrid/chain";
import { FARMERBOT_WAKE } from "@zgrid/types";
import { ClientError } from "../errors/client-errors.ts";
import { nodeClient } from "./node-client.ts";

export class NodeWakeError extends ClientError {
  override readonly code: string = "NODE_WAKE";
}

export interface WakeOptions {
  onProgress?: (message: string) => void;
  /** Give up after this long (default 10 min: a server's POST + boot). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function wakeNode(ctx: { chain: Pick<GridClient, "getNode" | "getFarm">; bus: Pick<Bus, "request"> }, nodeId: number, o: WakeOptions = {}): Promise<void> {
  const progress = o.onProgress ?? (() => undefined);
  const node = await ctx.chain.getNode(nodeId);
  const farm = await ctx.chain.getFarm(node.farmId);
  const started = Date.now();
  progress(`waking node ${nodeId} (asking the farmerbot of farm ${node.farmId}) …`);
  try {
    FARMERBOT_WAKE.response.parse(await ctx.bus.request(farm.twinId, FARMERBOT_WAKE.name, { node_id: nodeId }, { timeout: 30_000 }));
  } catch (e) {
    throw new NodeWakeError(`the farmerbot of farm ${node.farmId} did not wake node ${nodeId}: ${e instanceof Error ? e.message : String(e)}`, {
      details: { nodeId, farmId: node.farmId, farmTwin: farm.twinId }, hint: "pick a node that is up (`zgrid nodes ls`), or ask the farmer to run `zgrid farm bot run`",
    });
  }
  const end = started + (o.timeoutMs ?? 600_000);
  let said = started, asked = started;
  while (Date.now() < end) {
    if (o.signal?.aborted) throw new NodeWakeError(`waking node ${nodeId} aborted`);
    const n = await ctx.chain.getNode(nodeId).catch(() => undefined);
    if (n?.power.state === "up" && n.power.target === "up") {
      const answered = await nodeClient(ctx.bus, n.twinId).statistics({ timeout: 3_000 }).then(() => true, () => false);
      if (answered) {
        progress(`node ${nodeId} is up after ${Math.round((Date.now() - started) / 1000)} s`);
        return;
      }
    }
    // asked again now and then (idempotent): the bot sends another magic packet if the first was lost
    if (Date.now() - asked >= 20_000) {
      asked = Date.now();
      await ctx.bus.request(farm.twinId, FARMERBOT_WAKE.name, { node_id: nodeId }, { timeout: 30_000 }).catch(() => undefined);
    }
    if (Date.now() - said >= 5_000) {
      said = Date.now();
      progress(`waking node ${nodeId} … ${Math.round((said - started) / 1000)} s`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new NodeWakeError(`node ${nodeId} did not come up within ${Math.round((end - started) / 1000)} s`, { details: { nodeId }, hint: "try again, or pick another node" });
}
