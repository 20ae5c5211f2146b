// The 3bot answers its owner over the bus: a real dev chain (the bot's own bus twin is created,
// paid with the owner's gas money, and carries its addresses), real libp2p buses, a real 3bot.
// The owner, from its own connection, gets the bot's live status and events; another twin that
// calls the bot directly is refused (BOT_FORBIDDEN) and finds no bot of its own; a bad query is a
// clear BOT_INPUT error; a restarted bot keeps its twin (no second twin record).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BusRemoteError } from "@zgrid/bus";
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { connectGrid, type Grid } from "@zgrid/client";
import { BOT_EVENTS, BOT_STATUS, askBot, botKeyOf, serveBotBus } from "./bot-bus.ts";
import type { BotEvent } from "./bot-store.ts";
import { startThreebot, type BotStatus, type Threebot } from "./threebot.ts";

describe("bot.status and bot.events over the bus (real chain, buses and 3bot)", () => {
  let g: TestGrid;
  const grids: Grid[] = [];
  let bot: Threebot | undefined;
  const connect = async (i: number) => {
    const grid = await connectGrid({ rpcUrl: g.chain.rpcUrl, addresses: g.chain.addresses, privateKey: g.chain.twins[i]!.privateKey });
    grids.push(grid);
    return grid;
  };
  before(async () => { g = await startTestGrid(); });
  after(async () => {
    await bot?.stop();
    for (const x of grids) await x.close();
    await g?.stop();
  });

  test("the owner gets its bot's status and events; another twin is refused; a restarted bot keeps its twin", async () => {
    const ownerAtBot = await connect(3);
    bot = await startThreebot({ grid: ownerAtBot, dbPath: ":memory:", intervalMs: 60_000 });
    await bot.pass();
    bot.store.event({ service: "web", kind: "heal", message: "replica web_3 placed on node 2 (node 1 is dead)" });
    const botAccount = botKeyOf(ownerAtBot.key).address;
    assert.equal(await ownerAtBot.chain.twinIdByAccount(botAccount), 0, "no bus twin before it serves");
    const served = await serveBotBus({ grid: ownerAtBot, bot });
    try {
      assert.equal(await ownerAtBot.chain.twinIdByAccount(botAccount), served.twinId);
      assert.notEqual(served.twinId, ownerAtBot.twinId);
      assert.ok((await ownerAtBot.chain.getTwin(served.twinId)).relays.some((a) => a.startsWith("/ip4/127.0.0.1/tcp/")), "its addresses are on its twin record");

      // the owner, from another connection (its CLI on another machine would be the same)
      const owner = await connect(3);
      const status = await askBot<BotStatus>(owner, BOT_STATUS, {});
      assert.equal(status.twinId, owner.twinId);
      assert.equal(status.run, bot.status().run);
      assert.equal(status.passes, bot.status().passes);
      const events = await askBot<BotEvent[]>(owner, BOT_EVENTS, { service: "web", limit: 5 });
      assert.ok(events.some((e) => e.kind === "heal" && e.message.includes("web_3")), JSON.stringify(events));
      await assert.rejects(askBot(owner, BOT_EVENTS, { limit: 0 }), (e: unknown) => e instanceof BusRemoteError && e.code === "BOT_INPUT" && /limit must be/.test(e.message));
      await assert.rejects((await owner.bus()).request(served.twinId, BOT_EVENTS, { service: "../etc" }), (e: unknown) => e instanceof BusRemoteError && e.code === "BOT_INPUT");

      // another twin: no bot of its own, and the owner's bot refuses it
      const stranger = await connect(4);
      await assert.rejects(askBot(stranger, BOT_STATUS, {}), /has no 3bot on the bus/);
      await assert.rejects((await stranger.bus()).request(served.twinId, BOT_STATUS, {}), (e: unknown) => e instanceof BusRemoteError && e.code === "BOT_FORBIDDEN" && e.message.includes(`twin ${owner.twinId}`));
      await assert.rejects((await stranger.bus()).request(served.twinId, BOT_EVENTS, {}), (e: unknown) => e instanceof BusRemoteError && e.code === "BOT_FORBIDDEN");
    } finally {
      await served.stop();
    }

    // restarted: the same bus twin, new addresses; the owner (a fresh CLI run) reaches it again
    const again = await serveBotBus({ grid: ownerAtBot, bot });
    try {
      assert.equal(again.twinId, served.twinId, "no second twin record");
      const owner = await connect(3);
      assert.equal((await askBot<BotStatus>(owner, BOT_STATUS, {})).run, bot.status().run);
    } finally {
      await again.stop();
    }
  });
});
