// The governed rollout end to end on the local grid (issue 18's Done-when line): three node hosts,
// each running zosd under the upgrader (real dev chain, bus, QEMU, WireGuard, HAProxy gateway). A VM
// on node B holds a long-lived TCP connection (an echo server on its public IPv4) and is polled over
// HTTP through a name gateway on node A. Release 2.0.0 is proposed, voted, approved: the nodes
// upgrade one wave after the other in the order of the deterministic plan; the VM's QEMU process,
// its uptime and boot id and the TCP connection survive, the poller sees no failure. A broken 3.0.0
// fails its canary's health gate: rolled back, marked unsafe on chain, the other nodes never take it.
// Opt-in (ZGRID_E2E_UPGRADE=1; root, QEMU, FUSE; under flock /tmp/zgrid-vm.lock): see the README.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { planWaves } from "./waves/wave-plan.ts";
import { readRolloutView } from "./waves/rollout-view.ts";
import type { UpgradeRecord } from "./upgrader-state.ts";
import { ECHO_PORT, TEST_RELEASE_KEY, httpGet, openEchoConnection, rolloutReleases, startHttpPoller, startUpgradeGrid, type EchoConnection, type HttpPoller, type ReadyRelease, type UpgradeGrid } from "./testing/index.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OCTET = 231;
const skip = process.env.ZGRID_E2E_UPGRADE === "1" ? false : "set ZGRID_E2E_UPGRADE=1 (3 node hosts, 2 full releases of the checkout; minutes)";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startOf = (r: UpgradeRecord) => Date.parse(r.at) - r.total * 1000;

describe("governed rollout on 3 node hosts: waves in plan order, the VM and its connections survive, a broken release stops at its canary", { timeout: 900_000, skip }, () => {
  let tmp: string;
  let ug: UpgradeGrid | undefined;
  let v2: ReadyRelease;
  let v3: ReadyRelease;
  let poll: HttpPoller | undefined;
  let tcp: EchoConnection | undefined;
  let t0 = 0;
  let uptime0 = 0;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "zgrid-rollout-e2e-"));
    // both releases first (hashing 500 MB next to a starting grid starves its chain under load), or
    // the ones built before outside the VM lock (ZGRID_E2E_RELEASES: see testing/rollout-releases.ts)
    ({ v2, v3 } = await rolloutReleases(ROOT, process.env.ZGRID_E2E_RELEASES ?? join(tmp, "releases")));
    process.stderr.write(`# releases: 2.0.0 ${v2.reused ? "prebuilt" : `built in ${v2.seconds.toFixed(1)} s`}, 3.0.0 ${v3.reused ? "prebuilt" : `built in ${v3.seconds.toFixed(1)} s`}\n`);
    ug = await startUpgradeGrid({ nodes: 3, octet: OCTET, root: ROOT, releaseKeys: [TEST_RELEASE_KEY.address] });
  });
  after(async () => {
    await poll?.stop();
    tcp?.close();
    await ug?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const uptime = async () => Number((await httpGet({ host: ug!.gateway.node.host.address, port: 80, hostHeader: ug!.gateway.hostName, path: "/cgi-bin/uptime" })).body.trim());
  const waitRecords = async (version: string, nodes: number[], outcome: UpgradeRecord["outcome"], ms = 900_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const recs = nodes.map((i) => ug!.records(i).find((r) => r.version === version));
      const wrong = recs.find((r) => r && r.outcome !== outcome);
      if (wrong) assert.fail(`node ${nodes[recs.indexOf(wrong)]! + 1}: ${version} ${wrong.outcome}, expected ${outcome}: ${wrong.reason ?? ""}`);
      if (recs.every((r) => r)) return recs as UpgradeRecord[];
      if (Date.now() > end) assert.fail(`${version}: ${recs.filter((r) => r).length} of ${nodes.length} nodes ${outcome} within ${ms / 1000} s`);
      await sleep(1_000);
    }
  };

  test("the VM serves through the gateway on node A and echoes on its public IPv4; every node runs 1.0.0 under its upgrader", async () => {
    poll = startHttpPoller({ host: ug!.gateway.node.host.address, port: 80, hostHeader: ug!.gateway.hostName, expect: ug!.vm.bootId });
    // the gateway may need a moment for its first route; from then on no request may fail
    const end = Date.now() + 60_000;
    while (poll.ok === 0 && Date.now() < end) await sleep(250);
    assert.ok(poll.ok > 0, `the gateway never answered: ${JSON.stringify(poll.failures.slice(-3))}`);
    poll.failures.length = 0;
    tcp = await openEchoConnection(ug!.vm.publicIp, ECHO_PORT);
    await tcp.roundTrip();
    t0 = Date.now();
    uptime0 = await uptime();
    assert.ok(uptime0 > 0);
    for (const n of ug!.nodes) assert.equal((await ug!.g.grid.admin.getNodeVersion(n.nodeId)).running, "1.0.0");
  });

  test("release 2.0.0 approved: the three nodes upgrade one wave after the other, in the plan's order; nothing the VM holds breaks", async () => {
    const approvedAt = Date.now();
    await ug!.g.grid.approveRelease({ version: "2.0.0", manifestHash: v2.manifestHash, manifestUrl: v2.manifestPath });
    const recs = await waitRecords("2.0.0", [0, 1, 2], "upgraded");
    const rollout = (Math.max(...recs.map((r) => Date.parse(r.at))) - approvedAt) / 1000;
    const view = await readRolloutView(ug!.g.grid.admin, { staleSeconds: 3600n });
    const plan = planWaves(v2.manifestHash, view.nodes);
    const ids = ug!.nodes.map((n) => n.nodeId);
    assert.deepEqual([...plan.waves.flat()].sort(), [...ids].sort(), "the plan is the three node hosts");
    assert.deepEqual(plan.waves.map((w) => w.length), [1, 1, 1], "one canary, then 10% (one node), then the rest");
    recs.forEach((r, i) => assert.equal(r.wave, plan.waveOf(ids[i]!), `node ${ids[i]} upgraded in its planned wave`));
    const byStart = recs.map((r, i) => ({ r, id: ids[i]! })).sort((a, b) => startOf(a.r) - startOf(b.r));
    assert.deepEqual(byStart.map((x) => x.id), plan.waves.flat(), "the nodes upgraded in the plan's order");
    for (let k = 1; k < byStart.length; k++) {
      assert.ok(startOf(byStart[k]!.r) >= Date.parse(byStart[k - 1]!.r.at) - 1_000, `wave ${k} started after wave ${k - 1} reported healthy`);
    }
    for (const r of recs) assert.ok(r.reusedBytes! > 0, "unchanged files come from the running release (verified, hard-linked)");
    // the VM: same QEMU process, same boot, uptime kept counting; the TCP connection and the gateway never failed
    assert.deepEqual(ug!.vmPids(ug!.vm.node), [ug!.vm.qemuPid], "the VM was never restarted");
    await tcp!.roundTrip();
    assert.equal(tcp!.broken, undefined);
    const up = await uptime();
    assert.ok(up - uptime0 >= ((Date.now() - t0) / 1000) * 0.9 - 2, `guest uptime ${uptime0} -> ${up} over ${(Date.now() - t0) / 1000} s: it never rebooted`);
    assert.deepEqual(poll!.failures, [], "no gateway request failed during the rollout");
    for (const n of ug!.nodes) {
      assert.equal((await ug!.g.grid.admin.getNodeVersion(n.nodeId)).running, "2.0.0");
      const v = await ug!.g.user.bus.request<{ zos: string }>(n.twinId, "zos.system.version", {}, { timeout: 20_000 });
      assert.equal(v.zos, "2.0.0", `node ${n.nodeId} answers from the new release`);
    }
    process.stderr.write(`# rollout of 2.0.0 over 3 nodes: ${rollout.toFixed(1)} s; per node ${recs.map((r) => `download ${r.download.toFixed(1)} s, switch ${r.switch.toFixed(1)} s, readopt ${r.readopt.toFixed(1)} s`).join(" | ")}; gateway ${poll!.ok} ok, ${poll!.failures.length} failed; tcp ${tcp!.echoed} echoed\n`);
  });

  test("broken release 3.0.0: its canary's health gate fails, it rolls back, the chain marks 3.0.0 unsafe, the other nodes never take it", async () => {
    await ug!.g.grid.approveRelease({ version: "3.0.0", manifestHash: v3.manifestHash, manifestUrl: v3.manifestPath });
    const view = await readRolloutView(ug!.g.grid.admin, { staleSeconds: 3600n });
    const plan = planWaves(v3.manifestHash, view.nodes);
    const ids = ug!.nodes.map((n) => n.nodeId);
    const canary = ids.indexOf(plan.waves[0]![0]!);
    const [r] = await waitRecords("3.0.0", [canary], "rolled-back");
    assert.match(r!.reason ?? "", /exited \(3\) before it was ready/);
    assert.equal(r!.wave, 0);
    const release = await ug!.g.grid.admin.getApprovedRelease();
    assert.equal(release.version, "3.0.0");
    assert.equal(release.safeToUpgrade, false, "one failed canary stops the rollout grid-wide");
    const v = await ug!.g.grid.admin.getNodeVersion(ids[canary]!);
    assert.deepEqual({ running: v.running, failed: v.failed }, { running: "2.0.0", failed: "3.0.0" });
    await sleep(6_000); // six poll periods of the other upgraders
    for (const [i, id] of ids.entries()) {
      assert.equal(ug!.state(i).current, "2.0.0", `node ${id} runs 2.0.0`);
      if (i !== canary) assert.equal(ug!.records(i).filter((x) => x.version === "3.0.0").length, 0, `node ${id} never tried 3.0.0`);
      const nv = await ug!.g.user.bus.request<{ zos: string }>(ug!.nodes[i]!.twinId, "zos.system.version", {}, { timeout: 20_000 });
      assert.equal(nv.zos, "2.0.0");
    }
    assert.deepEqual(ug!.vmPids(ug!.vm.node), [ug!.vm.qemuPid], "the VM survived the failed upgrade too");
    await tcp!.roundTrip();
    assert.equal(tcp!.broken, undefined);
    assert.deepEqual(poll!.failures, [], "no gateway request failed, rollback included");
  });
});
