// End to end with real components: dev chain, hub, a real zosd with a QEMU micro VM, run by the
// upgrader from the checkout (release 1.0.0). Release 2.0.0 (a signed flist of this checkout) is
// proposed, voted and approved on chain: the upgrader installs it (verified), switches zosd, the
// health gate passes, the VM's QEMU process is the same one. Release 3.0.0 has a zosd that dies at
// start: its health gate fails, the node runs 2.0.0 again, reports the failure, and the chain marks
// 3.0.0 unsafe (rollout stopped grid-wide). Needs root, QEMU, FUSE: run under flock /tmp/zgrid-vm.lock.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { deploymentHashHex, parseDeployment, signDeployment, twinKeyFromPrivateKey, type Deployment } from "@zgrid/types";
import { randomWgKey, startNodeFixture, type NodeFixture } from "@zgrid/zos/testing";
import { buildRelease } from "./release/build-release.ts";
import { startUpgrader, type Upgrader } from "./upgrader.ts";
import { parseUpgraderConfig } from "./upgrader-config.ts";
import { readUpgradeRecords, type UpgradeRecord } from "./upgrader-state.ts";
import { qemuPids } from "./runner/vm-pids.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MiB = 1024 ** 2;
const releaseKey = twinKeyFromPrivateKey(`0x${"5e".repeat(32)}`);

// Opt-in (ZGRID_E2E_UPGRADE=1) until it has run green on a quiet machine: it builds two releases
// of the whole checkout (~500 MB each), minutes under load.
const skip = process.env.ZGRID_E2E_UPGRADE === "1" ? false : "set ZGRID_E2E_UPGRADE=1 (builds two full releases of the checkout)";

describe("upgrader end to end: governed upgrade keeps the VM, a broken release is rolled back and marked unsafe", { timeout: 900_000, skip }, () => {
  let f: NodeFixture;
  let u: Upgrader | undefined;
  let tmp: string;
  let qemuPid: number;
  let contractId: number;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "zgrid-upgrader-e2e-"));
    f = await startNodeFixture({ entrypoint: "#!/bin/sh\necho UPGRADE-VM-UP\nexec sleep 100000\n" });
    const zosConfig = f.node.configPath;
    u = await startUpgrader(parseUpgraderConfig(JSON.parse(JSON.stringify({
      stateDir: join(tmp, "upgrader"), zosConfig, releaseKeys: [releaseKey.address], initial: { version: "1.0.0", dir: ROOT },
      pollMs: 1_000, health: { windowMs: 120_000, settleMs: 2_000 },
    }))));
    f.node.nodeId = u.nodeId()!;
    f.node.twinId = (await f.grid.admin.getNode(f.node.nodeId)).twinId;
  });
  after(async () => {
    await u?.stop();
    await f?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const next = (event: "upgraded" | "rolled-back" | "refused") => new Promise<UpgradeRecord>((resolve, reject) => {
    const others = ["upgraded", "rolled-back", "refused"].filter((e) => e !== event);
    const fail = (r: UpgradeRecord) => reject(new Error(`expected ${event}, got ${r.outcome}: ${r.reason ?? ""}`));
    u!.once(event, resolve);
    for (const o of others) u!.once(o, fail);
  });

  test("a VM runs on the node the upgrader started (release 1.0.0)", async () => {
    const user = f.user;
    const json = {
      version: 0, twin_id: user.id, contract_id: 0, metadata: "upgrade", description: "",
      signature_requirement: { requests: [{ twin_id: user.id, required: true, weight: 1 }], weight_required: 1 },
      workloads: [
        { version: 0, name: "net", type: "network", data: { ip_range: "10.78.0.0/16", subnet: "10.78.3.0/24", wireguard_private_key: randomWgKey(), wireguard_listen_port: 51821, peers: [] } },
        { version: 0, name: "vm", type: "zmachine", data: { flist: f.flistUrl, network: { interfaces: [{ network: "net", ip: "10.78.3.5" }] }, size: 0, compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: "/start.sh", env: {} } },
      ],
    };
    const d = parseDeployment(json);
    contractId = await user.client.createNodeContract({ nodeId: f.node.nodeId, deploymentHash: deploymentHashHex(d) });
    const signed = signDeployment({ ...d, contract_id: contractId }, user.id, user.key);
    await user.bus.request(f.node.twinId, "zos.deployment.deploy", signed, { timeout: 30_000 });
    const end = Date.now() + 120_000;
    let got: Deployment | undefined;
    while (Date.now() < end) {
      got = await user.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });
      if (got.workloads.every((w) => w.result && w.result.state !== "init")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const w of got!.workloads) assert.equal(w.result?.state, "ok", `${w.name}: ${w.result?.message}`);
    const pids = qemuPids(f.node.vmStateDir);
    assert.equal(pids.length, 1);
    qemuPid = pids[0]!;
    assert.equal((await f.grid.admin.getNodeVersion(f.node.nodeId)).running, "1.0.0", "the upgrader reported the running release");
  });

  test("release 2.0.0 approved on chain: installed, zosd switched, health gate passed, same QEMU process", async () => {
    const built = await buildRelease({ root: ROOT, version: "2.0.0", outDir: join(tmp, "releases"), key: releaseKey, stateSchema: 1, node: false, guest: false, previous: { min: "1.0.0" } });
    const upgraded = next("upgraded");
    await f.grid.approveRelease({ version: "2.0.0", manifestHash: built.manifestHash, manifestUrl: built.manifestPath });
    const r = await upgraded;
    assert.equal(r.from, "1.0.0");
    assert.ok(r.reusedBytes! > 0, "unchanged files come from the running release, verified");
    assert.deepEqual(qemuPids(f.node.vmStateDir), [qemuPid], "the VM was never restarted");
    assert.equal(u!.current(), "2.0.0");
    assert.equal((await f.grid.admin.getNodeVersion(f.node.nodeId)).running, "2.0.0");
    const version = await f.user.bus.request<{ zos: string }>(f.node.twinId, "zos.system.version", {}, { timeout: 20_000 });
    assert.equal(version.zos, "2.0.0", "the node answers from the new release");
    const d = await f.user.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });
    assert.equal(d.workloads.find((w) => w.name === "vm")?.result?.state, "ok");
  });

  test("broken release 3.0.0: its health gate fails, the node runs 2.0.0 again, the chain marks 3.0.0 unsafe", async () => {
    const built = await buildRelease({ root: ROOT, version: "3.0.0", outDir: join(tmp, "releases"), key: releaseKey, stateSchema: 1, node: false, guest: false,
      extraFiles: { "packages/zos/bin/zosd.ts": "process.stderr.write('broken release\\n');\nprocess.exit(3);\n" } });
    const rolledBack = next("rolled-back");
    await f.grid.approveRelease({ version: "3.0.0", manifestHash: built.manifestHash, manifestUrl: built.manifestPath });
    const r = await rolledBack;
    assert.match(r.reason ?? "", /exited \(3\) before it was ready/);
    assert.equal(u!.current(), "2.0.0");
    const v = await f.grid.admin.getNodeVersion(f.node.nodeId);
    assert.deepEqual({ running: v.running, failed: v.failed }, { running: "2.0.0", failed: "3.0.0" });
    const release = await f.grid.admin.getApprovedRelease();
    assert.equal(release.version, "3.0.0");
    assert.equal(release.safeToUpgrade, false, "one failed canary stops the rollout grid-wide");
    assert.deepEqual(qemuPids(f.node.vmStateDir), [qemuPid], "the VM survived the failed upgrade too");
    const version = await f.user.bus.request<{ zos: string }>(f.node.twinId, "zos.system.version", {}, { timeout: 20_000 });
    assert.equal(version.zos, "2.0.0");
    // the node never retries it
    await u!.tick();
    assert.equal(readUpgradeRecords(join(tmp, "upgrader")).filter((x) => x.version === "3.0.0").length, 1);
  });
});
