// Crash campaign (issue 13), CI size: a real grid (zosd in a node host, busybox micro VMs under
// TCG); deploy, update, grace pause, resume, cancel while deploying and delete, each with the zosd
// SIGKILLed at a seeded random point (sometimes twice within a second) and restarted the way the
// local grid starts it. After every restart: VMs shown ok answer over their network with a live
// QEMU, paused ones are paused, deleted ones left nothing anywhere, zmount markers intact. Also a
// killed flist mount worker, wireguard-go and QEMU each come back on their own.
//   ZGRID_CRASH_SEED=<n> ZGRID_CRASH_KILLS=<n> node --test packages/zos/src/underlay/crash-campaign.e2e.test.ts
// Nightly size (>= 100 kills): node bench/crash/campaign.ts
// Seeds: a developer's run draws a new one each time (exploration: print it, re-run it to debug);
// under CI (CI=true) a pinned seed that once found a leak, so a landing is reproducible. Kill points
// are seeded but their interleaving still depends on the machine's speed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CAMPAIGN_ENTRYPOINT, runCrashCampaign } from "../testing/crash-campaign.ts";
import { startGridFixture, type GridFixture } from "./grid-fixture.ts";

/** 26 kills over 23 operations; before the fix it leaked a mount worker a killed zosd never recorded. */
const PINNED_CI_SEED = 1685420983;

let g: GridFixture | undefined;
before(async () => {
  g = await startGridFixture({ nodes: 1, entrypoint: CAMPAIGN_ENTRYPOINT, subnetOctet: 247 });
});
after(async () => {
  await g?.stop();
});

test("SIGKILLed zosd at random points of every operation: nothing lost, nothing leaked", { timeout: 1_200_000 }, async () => {
  const seed = Number(process.env.ZGRID_CRASH_SEED ?? (process.env.CI ? PINNED_CI_SEED : Math.floor(Math.random() * 2 ** 31)));
  const kills = Number(process.env.ZGRID_CRASH_KILLS ?? 20);
  console.log(`crash campaign seed=${seed} (re-run with ZGRID_CRASH_SEED=${seed})`);
  const fig = await runCrashCampaign(g!, { seed, kills, log: (l) => console.log(`  [crash] ${l}`) });
  console.log(`crash campaign figures: ${JSON.stringify({ ...fig, operations: fig.operations.length })}`);
  assert.ok(fig.kills >= kills, `${fig.kills} kills`);
  assert.deepEqual(fig.vmsLost, [], "VMs lost");
  assert.deepEqual(fig.dataLost, [], "data lost");
  assert.deepEqual(fig.leaks, [], "leaks");
  assert.deepEqual(Object.entries(fig.parts).filter(([, back]) => !back), [], "killed platform parts that did not come back");
  assert.ok("qemu" in fig.parts && "mount worker" in fig.parts, "platform parts were killed");
});
