import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContractInfo, Grid } from "@zgrid/client";
import { runway, watchBalance } from "./balance-watch.ts";

test("runway: balance over the live contracts' hourly burn", () => {
  assert.deepEqual(runway(50_000_000n, [0.01, 0.02]), { burnPerHour: 300_000, hoursLeft: 50_000_000 / 300_000 });
  assert.equal(runway(1n, []).hoursLeft, Infinity);
  assert.equal(runway(10n, [Number.NaN, -1]).burnPerHour, 0, "nonsense costs burn nothing");
});

test("a balance warning below the threshold, at most once an hour; none with a long runway", async () => {
  const events: string[] = [];
  let now = 1_000_000;
  let balance = 3_000_000n; // 0.3 tokens
  const env = { grid: { twin: async () => ({ twinId: 1, address: "0x", balance }) } as unknown as Grid, log: (_s: string, kind: string, m: string) => events.push(`${kind}: ${m}`), now: () => now };
  const contracts = [{ state: "created", costPerHourUsd: 0.1 }, { state: "deleted", costPerHourUsd: 5 }] as ContractInfo[];
  const state = { lastWarnAt: -Infinity };
  const r = await watchBalance(env, contracts, state, 24);
  assert.equal(r.hoursLeft, 3, "0.3 tokens at 0.1/h (a cancelled contract burns nothing)");
  assert.equal(events.length, 1);
  assert.match(events[0]!, /^balance: balance 0\.30 lasts ~3\.0 h .*top up/);
  now += 60_000;
  await watchBalance(env, contracts, state, 24);
  assert.equal(events.length, 1, "not again within the hour");
  now += 3_600_000;
  balance = 100_000_000n; // 10 tokens: 100 h
  await watchBalance(env, contracts, state, 24);
  assert.equal(events.length, 1, "no warning with a long runway");
});
