/**
 * The 3bot answers its owner over the bus (`bot.status`, `bot.events`), from anywhere.
 *
 * The owner's CLI and the bot hold the same twin key, hence the same bus peer id, and a peer cannot
 * dial itself: so the bot serves the owner under a key of its own, *derived* from the twin key
 * (HMAC-SHA256, label `zgrid/3bot-bus/v1`). That key has its own chain account and twin record
 * (its bus addresses), paid with a little gas money the owner's account sends it once. Only the
 * owner can derive it, so the owner finds its bot by account (`twinIdByAccount`), and the bot
 * answers only requests signed by the owner's twin (the bus verifies the caller): any other twin
 * gets BOT_FORBIDDEN. The derived key never touches nodes or contracts (the bot still deploys
 * with the twin key).
 *
 * @example
 * ```ts
 * const served = await serveBotBus({ grid, bot, listen: ["/ip4/0.0.0.0/tcp/0"] }); // in `zgrid bot run`
 * const status = await askBot<BotStatus>(grid, "bot.status", {});                  // the owner, anywhere
 * await served.stop();
 * ```
 */
import { createHmac } from "node:crypto";
import { createBus, peerIdOfTwinKey, type Bus } from "@zgrid/bus";
import { chainTwinDirectory, createGridClient } from "@zgrid/chain";
import type { Grid } from "@zgrid/client";
import { createLogger } from "@zgrid/log";
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import { BotForbiddenError, BotInputError } from "./bot-errors.ts";
import type { BotEvent } from "./bot-store.ts";
import type { BotStatus } from "./threebot.ts";

const log = createLogger("bot.bus");

export const BOT_STATUS = "bot.status";
export const BOT_EVENTS = "bot.events";

/** Gas money the owner sends the bot's bus account when it has less than GAS_LOW (wei). */
const GAS_TOP_UP = 10n ** 16n;
const GAS_LOW = 10n ** 15n;
const MAX_EVENTS = 500;

/** The bot's own bus key, derived from the owner's twin key (only the owner can derive it). */
export function botKeyOf(owner: TwinKey): TwinKey {
  const d = createHmac("sha256", owner.privateKey).update("zgrid/3bot-bus/v1").digest("hex");
  return twinKeyFromPrivateKey(`0x${d}`);
}

/** What the bot serves: its status and its events. */
export interface BotBusSource {
  status(): BotStatus;
  events(o?: { service?: string; limit?: number }): BotEvent[];
}

/**
 * Serves `bot.status` and `bot.events` to the owner twin on the bot's own bus twin (created or
 * updated with the bus's addresses; gas money from the owner when it runs low).
 */
export async function serveBotBus(o: { grid: Grid; bot: BotBusSource; listen?: string[]; announce?: string[] }): Promise<{ twinId: number; bus: Bus; stop(): Promise<void> }> {
  const { grid } = o;
  const key = botKeyOf(grid.key);
  const chain = createGridClient({ rpcUrl: grid.connection.rpcUrl, addresses: grid.connection.addresses, account: `0x${Buffer.from(key.privateKey).toString("hex")}`, pollingIntervalMs: 50 });
  if ((await grid.chain.nativeBalanceOf(key.address)) < GAS_LOW) await grid.chain.sendNative(key.address, GAS_TOP_UP);
  const peerId = peerIdOfTwinKey(key).toString();
  let twinId = await chain.twinIdByAccount(key.address);
  if (twinId === 0) twinId = await chain.createTwin({ peerId, relays: [] });
  const bus = await createBus({ key, twinId, directory: chainTwinDirectory(chain), listen: o.listen ?? ["/ip4/127.0.0.1/tcp/0"], ...(o.announce ? { announce: o.announce } : {}), relay: { reserveOn: [] } });
  try {
    const owner = grid.twinId;
    const mine = (ctx: { twinId: number }) => {
      if (ctx.twinId !== owner) throw new BotForbiddenError(`this 3bot answers only its owner, twin ${owner} (you are twin ${ctx.twinId})`, { hint: "ask your own 3bot: `zgrid bot status --bus` with your own key" });
    };
    bus.handle(BOT_STATUS, (_payload: unknown, ctx) => {
      mine(ctx);
      return o.bot.status();
    });
    bus.handle(BOT_EVENTS, (payload: unknown, ctx) => {
      mine(ctx);
      return o.bot.events(eventsQuery(payload));
    });
    const addrs = bus.addresses().map((a) => a.replace(/\/p2p\/[^/]+$/, "")).filter((a) => !a.includes("/p2p-circuit"));
    await chain.updateTwin({ peerId, relays: addrs });
    log.info({ twinId, owner, addrs }, "3bot answers its owner on the bus");
    return { twinId, bus, stop: () => bus.stop() };
  } catch (e) {
    await bus.stop();
    throw e;
  }
}

/** `{service?, limit?}` of a bot.events request, checked (BotInputError otherwise). */
function eventsQuery(payload: unknown): { service?: string; limit: number } {
  const p = (payload ?? {}) as { service?: unknown; limit?: unknown };
  if (typeof p !== "object" || Array.isArray(p)) throw new BotInputError("bot.events takes {service?, limit?}");
  const limit = p.limit === undefined ? 20 : p.limit;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS) throw new BotInputError(`limit must be an integer from 1 to ${MAX_EVENTS}`);
  if (p.service !== undefined && (typeof p.service !== "string" || !/^[a-z0-9]{2,16}$/.test(p.service))) throw new BotInputError("service must be a service name (2–16 of a-z 0-9)");
  return { limit, ...(p.service !== undefined ? { service: p.service } : {}) };
}

/**
 * Asks the owner's own 3bot over the bus (from any machine holding the twin key).
 * @example const status = await askBot<BotStatus>(grid, "bot.status", {});
 */
export async function askBot<T>(grid: Grid, command: typeof BOT_STATUS | typeof BOT_EVENTS, payload: { service?: string; limit?: number }, timeoutMs = 10_000): Promise<T> {
  const botTwin = await grid.chain.twinIdByAccount(botKeyOf(grid.key).address);
  if (botTwin === 0) throw new BotInputError(`twin ${grid.twinId} has no 3bot on the bus`, { hint: "start it: `zgrid bot run` (it registers its bus twin at start)" });
  return (await grid.bus()).request<T>(botTwin, command, payload, { timeout: timeoutMs });
}
