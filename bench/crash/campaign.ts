// Crash campaign, nightly size (not part of CI): the same campaign as
// packages/zos/src/underlay/crash-campaign.e2e.test.ts with >= 100 zosd kills; prints the figures
// (kills, leaks, VMs lost, data lost; goal 0 for all three). Needs root and the VM lock:
//   flock /tmp/zgrid-vm.lock node bench/crash/campaign.ts [kills=100] [seed]
import { CAMPAIGN_ENTRYPOINT, runCrashCampaign } from "../../packages/zos/src/testing/crash-campaign.ts";
import { startGridFixture } from "../../packages/zos/src/underlay/grid-fixture.ts";

const kills = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? Math.floor(Math.random() * 2 ** 31));
console.log(`crash campaign (nightly): ${kills} kills, seed ${seed}`);
const g = await startGridFixture({ nodes: 1, entrypoint: CAMPAIGN_ENTRYPOINT, subnetOctet: 246 });
// Ctrl-C / kill: take the grid down (node host, zosd, VMs, mounts) before leaving
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.log(`${sig}: stopping the grid`);
    void g.stop().finally(() => process.exit(130));
  });
}
try {
  const fig = await runCrashCampaign(g, { seed, kills, log: (l) => console.log(`[${new Date().toISOString()}] ${l}`) });
  console.log(JSON.stringify({
    seed: fig.seed, kills: fig.kills, operations: fig.operations.length, minutes: +(fig.durationMs / 60_000).toFixed(1),
    leaks: fig.leaks.length, vmsLost: fig.vmsLost.length, dataLost: fig.dataLost.length, parts: fig.parts,
  }));
  for (const l of [...fig.leaks, ...fig.vmsLost, ...fig.dataLost]) console.log(`  ${l}`);
  process.exitCode = fig.leaks.length + fig.vmsLost.length + fig.dataLost.length === 0 ? 0 : 1;
} finally {
  await g.stop();
}
