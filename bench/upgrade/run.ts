// bench/upgrade: a governed rollout on a local grid of N node hosts (default 3), each running zosd
// under the upgrader, with real (TCG) VMs. One VM on node B is polled through a name gateway on node A
// every 100 ms and holds a TCP echo connection on its public IPv4. Prints:
//   - per node: download (fetch + verify + unpack, unchanged files hard-linked), switch (stop the old
//     zosd + the new one ready), re-adopt (ready → health gate passed), and its wave
//   - the grid-wide rollout time (approval on chain → last node healthy on the new release)
//   - gateway requests failed and TCP breaks during the rollout (goal 0)
// Baseline, measured in the same run on the same nodes: a plain restart of each node's zosd in place
// (its launcher stopped with SIGTERM — the VMs keep running — and started again, same release, until
// its ready line), with the gateway failures it causes.
//   flock -w 1800 /tmp/zgrid-vm.lock node bench/upgrade/run.ts [nodes]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ECHO_PORT, TEST_RELEASE_KEY, openEchoConnection, rolloutReleases, startHttpPoller, startUpgradeGrid, type UpgradeGrid } from "@zgrid/upgrader/testing";

const ROOT = join(import.meta.dirname, "../..");
const N = Number(process.argv[2] ?? 3);
if (!Number.isInteger(N) || N < 2 || N > 8) throw new Error(`nodes: ${process.argv[2]} is not 2..8 (the VM and the gateway need two nodes; each node host runs a zosd)`);
const tmp = mkdtempSync(join(tmpdir(), "zgrid-bench-upgrade-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => Number((ms / 1000).toFixed(1));
let ug: UpgradeGrid | undefined;

try {
  // built first (hashing 500 MB next to a starting grid starves its chain), or prebuilt outside the
  // VM lock (ZGRID_E2E_RELEASES: see packages/upgrader/src/testing/rollout-releases.ts)
  const { v2: built } = await rolloutReleases(ROOT, process.env.ZGRID_E2E_RELEASES ?? join(tmp, "releases"));
  ug = await startUpgradeGrid({ nodes: N, octet: 232, root: ROOT, releaseKeys: [TEST_RELEASE_KEY.address] });
  const g = ug!;
  const poll = startHttpPoller({ host: g.gateway.node.host.address, port: 80, hostHeader: g.gateway.hostName, expect: g.vm.bootId, intervalMs: 100 });
  const until = Date.now() + 60_000;
  while (poll.ok === 0 && Date.now() < until) await sleep(200);
  if (poll.ok === 0) throw new Error(`the gateway never answered: ${JSON.stringify(poll.failures.slice(-3))}`);
  poll.failures.length = 0;
  const tcp = await openEchoConnection(g.vm.publicIp, ECHO_PORT);
  await tcp.roundTrip();

  // baseline: each node's zosd restarted in place by its launcher (same release)
  const restarts: number[] = [];
  const tBase = Date.now();
  const okAtBase = poll.ok;
  for (const n of g.nodes) {
    const t = Date.now();
    await new Promise<void>((resolve) => { n.process!.once("exit", () => resolve()); n.process!.kill("SIGTERM"); });
    await n.start();
    restarts.push(Date.now() - t);
    await sleep(2_000); // like the upgrade's settle time: one node at a time
  }
  const baseFailed = poll.failedBetween(tBase, Date.now()).length;
  const baseRequests = poll.ok - okAtBase + baseFailed;

  // the rollout
  const okBefore = poll.ok;
  const approvedAt = Date.now();
  await g.g.grid.approveRelease({ version: "2.0.0", manifestHash: built.manifestHash, manifestUrl: built.manifestPath });
  const deadline = Date.now() + 1_200_000;
  for (;;) {
    const recs = g.nodes.map((_, i) => g.records(i).find((r) => r.version === "2.0.0"));
    const bad = recs.find((r) => r && r.outcome !== "upgraded");
    if (bad) throw new Error(`a node did not upgrade: ${bad.outcome} ${bad.reason ?? ""}`);
    if (recs.every((r) => r)) break;
    if (Date.now() > deadline) throw new Error("the rollout did not finish within 20 min");
    await sleep(500);
  }
  const recs = g.nodes.map((_, i) => g.records(i).find((r) => r.version === "2.0.0")!);
  const rollout = Math.max(...recs.map((r) => Date.parse(r.at))) - approvedAt;
  const failed = poll.failedBetween(approvedAt, Date.now()).length;
  const requests = poll.ok - okBefore + failed;
  await tcp.roundTrip().catch(() => undefined);
  const vmKept = JSON.stringify(g.vmPids(g.vm.node)) === JSON.stringify([g.vm.qemuPid]);
  await poll.stop();
  tcp.close();

  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const baseAvg = avg(restarts);
  console.log(`bench/upgrade: ${N} node hosts, release 2.0.0 ${built.reused ? "prebuilt" : `built in ${built.seconds.toFixed(1)} s`}`);
  console.log("node  wave  download  switch  re-adopt  total   | baseline restart");
  recs.forEach((r, i) => console.log(`${String(g.nodes[i]!.nodeId).padEnd(6)}${String(r.wave).padEnd(6)}${`${r.download.toFixed(1)} s`.padEnd(10)}${`${r.switch.toFixed(1)} s`.padEnd(8)}${`${r.readopt.toFixed(1)} s`.padEnd(10)}${`${r.total.toFixed(1)} s`.padEnd(8)}| ${s(restarts[i]!)} s`));
  const switchAvg = avg(recs.map((r) => r.switch));
  console.log(`switch vs plain restart (avg):        ${switchAvg.toFixed(1)} s vs ${s(baseAvg)} s = ${(switchAvg / (baseAvg / 1000)).toFixed(2)}x`);
  console.log(`upgrade (total) vs plain restart:     ${avg(recs.map((r) => r.total)).toFixed(1)} s vs ${s(baseAvg)} s = ${(avg(recs.map((r) => r.total)) / (baseAvg / 1000)).toFixed(2)}x`);
  console.log(`grid-wide rollout (${N} nodes):          ${s(rollout)} s = ${(rollout / (N * baseAvg)).toFixed(2)}x N plain restarts in a row (${s(N * baseAvg)} s)`);
  console.log(`gateway requests failed in rollout:   ${failed} of ${requests} (goal 0; plain restarts: ${baseFailed} of ${baseRequests})`);
  for (const f of poll.failures.slice(0, 5)) console.log(`  failed at +${s(f.at - tBase)} s: ${f.reason}`);
  console.log(`TCP connection:                       ${tcp.broken ? `BROKEN (${tcp.broken})` : `kept (${tcp.echoed} lines echoed)`}; VM QEMU process ${vmKept ? "kept" : "CHANGED"}`);
  console.log(`UPGRADE-FIGURES ${JSON.stringify({ nodes: N, rolloutS: s(rollout), baselineRestartS: s(baseAvg), perNode: recs.map((r) => ({ wave: r.wave, download: r.download, switch: r.switch, readopt: r.readopt, total: r.total })), gatewayFailed: failed, gatewayRequests: requests, baselineFailed: baseFailed, tcpBroken: tcp.broken ?? null, vmKept })}`);
  if (failed > 0 || tcp.broken || !vmKept) process.exitCode = 1;
} finally {
  await ug?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
