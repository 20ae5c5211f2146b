/**
 * Runs a farm's farmerbot as a service (what `zgrid farm bot run` does): the farmer's chain client
 * and bus identity (the farm's twin; its twin record gets the bot's bus addresses so clients reach
 * it), the reconciler every `periodSeconds`, and the `farmerbot.power.wake` route.
 *
 * @example
 * ```ts
 * const run = await runFarmerbot({ policy, privateKey: farmerKey, rpcUrl, addresses, listen: ["/ip4/10.249.0.1/tcp/0"] });
 * run.bot.status();
 * await run.stop();
 * ```
 */
import { createBus, peerIdOfTwinKey, type Bus } from "@zgrid/bus";
import { chainTwinDirectory, createGridClient, type GridClient } from "@zgrid/chain";
import { createLogger, type Logger } from "@zgrid/log";
import { BaseError, twinKeyFromPrivateKey } from "@zgrid/types";
import { busFarmerNodes, serveWakeRoute } from "./farmer-bus.ts";
import type { FarmerPolicy } from "./farmer-policy.ts";
import { openFarmerState } from "./farmer-state.ts";
import { Farmerbot } from "./farmerbot.ts";
import { udpWolSender } from "./wol-sender.ts";

export class NotFarmerError extends BaseError {
  override readonly code: string = "NOT_FARMER";
}

export interface FarmerbotRun {
  bot: Farmerbot;
  bus: Bus;
  chain: GridClient;
  stop(): Promise<void>;
}

export async function runFarmerbot(o: {
  policy: FarmerPolicy; privateKey: `0x${string}`; rpcUrl: string;
  addresses: { token: `0x${string}`; registry: `0x${string}`; contracts: `0x${string}`; governance: `0x${string}` };
  listen: string[]; log?: Logger; autoStart?: boolean;
}): Promise<FarmerbotRun> {
  const log = o.log ?? createLogger("farmerbot", { farm: o.policy.farmId });
  const key = twinKeyFromPrivateKey(o.privateKey);
  const chain = createGridClient({ rpcUrl: o.rpcUrl, addresses: o.addresses, account: o.privateKey, pollingIntervalMs: 200 });
  const twinId = await chain.twinIdByAccount(key.address);
  const farm = await chain.getFarm(o.policy.farmId);
  if (twinId === 0 || farm.twinId !== twinId) {
    throw new NotFarmerError(`the key's twin (${twinId}) is not the twin of farm ${o.policy.farmId} (${farm.twinId})`, { hint: "run the bot with the farmer's key" });
  }
  const bus = await createBus({ key, twinId, directory: chainTwinDirectory(chain), listen: o.listen, relay: { reserveOn: [] } });
  try {
    const addresses = bus.addresses().map((a) => a.replace(/\/p2p\/[^/]+$/, "")).filter((a) => !a.includes("/p2p-circuit"));
    const t = await chain.getTwin(twinId);
    const peerId = peerIdOfTwinKey(key).toString();
    if (t.peerId !== peerId || t.relays.join(" ") !== addresses.join(" ")) await chain.updateTwin({ peerId, relays: addresses });
    const bot = new Farmerbot({ policy: o.policy, chain, nodes: busFarmerNodes(bus), wol: udpWolSender(o.policy.wol), state: openFarmerState(o.policy.stateFile), log });
    const unregister = serveWakeRoute(bus, bot);
    if (o.autoStart !== false) bot.start();
    log.info({ twin: twinId, addresses, policy: { ...o.policy, energy: undefined } }, "farmerbot running");
    return {
      bot, bus, chain,
      async stop() {
        await bot.stop();
        unregister();
        await bus.stop();
      },
    };
  } catch (e) {
    await bus.stop();
    throw e;
  }
}
