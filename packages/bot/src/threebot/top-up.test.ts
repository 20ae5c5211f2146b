import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Grid } from "@zgrid/client";
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { runway } from "./balance-watch.ts";
import { topUpFromAllowance, type TopUpState } from "./top-up.ts";

// A real dev chain: the user twin is the bot's, the stranger twin the funder that approves it.
describe("top-up from an allowance (real grid token on a dev chain)", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  test("tops up to the target runway within the cap and the allowance; exhausted allowance is an event, not a revert", async () => {
    const events: string[] = [];
    let now = 10_000_000;
    const env = { grid: { chain: g.user } as unknown as Pick<Grid, "chain">, log: (_s: string, kind: string, m: string) => events.push(`${kind}: ${m}`), now: () => now };
    const me = g.user.account!;
    const funder = g.stranger.account!;
    await g.admin.mint(funder, 1_000_000_000n); // 100 tokens
    await g.stranger.approve(me, 30_000_000n); // the bot may draw 3 tokens in total
    const state: TopUpState = { lastTopUpAt: -Infinity, lastRefusalAt: -Infinity };
    const o = { from: funder, maxPerTopUp: 20_000_000n, warnHours: 24 };
    const look = async () => runway(await g.user.balanceOf(), [0.05]); // 0.05/h: 24 h = 1.2 tokens

    // a long runway: nothing moves
    if ((await look()).hoursLeft < 24) await g.admin.mint(me, 20_000_000n);
    const high = await g.user.balanceOf();
    assert.equal(await topUpFromAllowance(env, { ...(await look()), balance: high }, o, state), 0n);
    assert.equal(await g.user.balanceOf(), high);

    // spend down to 0.2 tokens (4 h of runway): the bot draws up to 48 h = 2.4 tokens, i.e. 2.2
    await g.user.transfer(g.admin.account!, high - 2_000_000n);
    const low = await g.user.balanceOf();
    assert.equal(low, 2_000_000n);
    const r1 = { ...runway(low, [0.05]), balance: low };
    assert.equal(Math.round(r1.hoursLeft), 4);
    const moved = await topUpFromAllowance(env, r1, o, state);
    assert.equal(moved, 20_000_000n, "capped at maxPerTopUp (2 tokens) though 2.2 were needed");
    assert.equal(await g.user.balanceOf(), low + moved);
    assert.equal(await g.user.allowance(funder, me), 10_000_000n, "the chain lowered the allowance");
    assert.match(events.at(-1)!, /^topup: topped up 2\.00 from 0x/);

    // within the minimum interval: nothing, even if still low
    await g.user.transfer(g.admin.account!, 20_000_000n);
    const r2 = { ...(await look()), balance: await g.user.balanceOf() };
    assert.equal(await topUpFromAllowance(env, r2, o, state), 0n);
    // later: only what the allowance has left (1 token)
    now += 600_000;
    assert.equal(await topUpFromAllowance(env, r2, o, state), 10_000_000n);
    assert.equal(await g.user.allowance(funder, me), 0n);

    // allowance exhausted: a clear event (once an hour), no transaction
    now += 600_000;
    await g.user.transfer(g.admin.account!, 10_000_000n);
    const r3 = { ...(await look()), balance: await g.user.balanceOf() };
    const before3 = await g.user.balanceOf();
    assert.equal(await topUpFromAllowance(env, r3, o, state), 0n);
    assert.match(events.at(-1)!, /^topup: cannot top up from 0x.*allowance 0\.00.*approve the bot's account/);
    const n = events.length;
    now += 600_000;
    await topUpFromAllowance(env, r3, o, state);
    assert.equal(events.length, n, "the refusal is not repeated within the hour");
    assert.equal(await g.user.balanceOf(), before3);
  });
});
