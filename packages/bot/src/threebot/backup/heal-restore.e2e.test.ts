// Restore at heal on a real node (root, VM lock): dev chain, hub, a zosd process, QEMU micro VMs.
// Replica db_1's VM writes a file to its disk; the bot backs the disk up (the running VM paused
// for the node's copy); db_2 is deployed in its place (a second deployment: the "re-placed"
// replica, on the same node since the fixture has one) and boots on an empty disk; the bot's
// restore runner stops it, restores db_1's backup into its disk and starts it: the VM finds the file.
//   ZGRID_E2E_RESTORE=1 flock /tmp/zgrid-vm.lock node --test packages/bot/src/threebot/backup/heal-restore.e2e.test.ts
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { nodeClient, type Grid } from "@zgrid/client";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "@zgrid/types";
import { randomWgKey, startNodeFixture, waitFor, type NodeFixture } from "@zgrid/zos/testing";
import { openBotStore } from "../bot-store.ts";
import type { BotEnv, Replica } from "../observe.ts";
import { parseBotSpec } from "../service-spec.ts";
import { backupNodeDisk } from "./disk-backup.ts";
import { holdRestoring, planHealRestore, restoreRunner } from "./heal-restore.ts";

/** Under TCG a VM takes a while: two minutes unless said otherwise. */
const wait = <T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 120_000): Promise<T> => waitFor(what, fn, ok, ms);

const MiB = 1024 ** 2;
const ENTRYPOINT = `#!/bin/sh
if [ -f /data/proof.txt ]; then echo "ZGRID-FOUND $(cat /data/proof.txt)"; else echo "ZGRID-EMPTY"; echo "data-of-db_1" > /data/proof.txt && sync; fi
echo "ZGRID-READY"
exec sleep 100000
`;
const skip = process.env.ZGRID_E2E_RESTORE === "1" ? false : "set ZGRID_E2E_RESTORE=1 (root, VM lock) to run the restore-at-heal e2e";

let f: NodeFixture;

function deployment(twin: number, vm: string, i: number) {
  return parseDeployment({
    version: 0, twin_id: twin, contract_id: 0, metadata: "e2e", description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 },
    workloads: [
      { version: 0, name: `net${i}`, type: "network", data: { ip_range: `10.7${i}.0.0/16`, subnet: `10.7${i}.3.0/24`, wireguard_private_key: randomWgKey(), wireguard_listen_port: 51830 + i, peers: [] } },
      { version: 0, name: "data", type: "zmount", data: { size: 64 * MiB } },
      { version: 0, name: vm, type: "zmachine", data: {
        flist: f.flistUrl, network: { interfaces: [{ network: `net${i}`, ip: `10.7${i}.3.5` }] }, size: 0,
        compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [{ name: "data", mountpoint: "/data" }], entrypoint: "/start.sh", env: {},
      } },
    ],
  });
}


const get = (contractId: number) => f.user.bus.request<Deployment>(f.node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });

async function deploy(vm: string, i: number): Promise<{ contractId: number; console: string }> {
  const d = deployment(f.user.id, vm, i);
  const contractId = await f.user.client.createNodeContract({ nodeId: f.node.nodeId, deploymentHash: deploymentHashHex(d) });
  await f.user.bus.request(f.node.twinId, "zos.deployment.deploy", signDeployment({ ...d, contract_id: contractId }, f.user.id, f.user.key), { timeout: 20_000 });
  const got = await wait(`${vm} settled`, () => get(contractId), (x) => x.workloads.every((w) => w.result && w.result.state !== "init"));
  for (const w of got.workloads) assert.equal(w.result?.state, "ok", `${w.name}: ${w.result?.message}`);
  return { contractId, console: (got.workloads.find((w) => w.name === vm)?.result?.data as { console: string }).console };
}

const consoleOf = async (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");

describe("restore at heal on a real node", { timeout: 540_000, skip }, () => {
  const contracts: number[] = [];
  before(async () => {
    f = await startNodeFixture({ entrypoint: ENTRYPOINT });
    await f.startNode();
  });
  after(async () => {
    for (const id of contracts) await f.user.client.cancelContract(id).catch(() => undefined);
    for (const id of contracts) await wait(`contract ${id} deprovisioned`, () => get(id), (x) => x.workloads.every((w) => w.result?.state === "deleted"), 60_000).catch(() => undefined);
    await f?.stop();
  });

  test("the re-placed replica's VM finds the lost replica's file after the restore", async () => {
    const one = await deploy("db_1", 1);
    contracts.push(one.contractId);
    await wait("db_1 wrote its file", () => consoleOf(one.console), (t) => t.includes("ZGRID-EMPTY") && t.includes("ZGRID-READY"));
    const node = nodeClient(f.user.bus, f.node.twinId);
    const backup = await backupNodeDisk({ node, contractId: one.contractId, name: "data", hub: f.hub.url, key: f.user.key });
    console.error(`backup of the running VM: ${backup.blocks} blocks, VM paused ${backup.pausedMs} ms`);

    const store = openBotStore(":memory:");
    const events: string[] = [];
    const env = {
      grid: { bus: async () => f.user.bus, key: f.user.key } as unknown as Grid,
      store, now: () => Date.now(), health: new Map(), startTimeoutMs: 180_000,
      log: (service: string, kind: string, message: string) => void events.push(`${service} ${kind}: ${message}`),
    } as unknown as BotEnv;
    try {
      store.putBackup({ service: "db", replica: "db_1", disk: "data", manifest: backup.manifest, takenAt: backup.takenAt, nodeId: f.node.nodeId, size: backup.size, uploadedBlocks: backup.uploadedBlocks });
      const [spec] = parseBotSpec({ services: [{ name: "db", flist: "busybox", disks: [{ name: "data", size: 64, mountpoint: "/data", backup: "1h" }] }] }).services;
      assert.deepEqual(planHealRestore(env, spec!, "db_1", "db_2"), ["data"]);

      const two = await deploy("db_2", 2);
      contracts.push(two.contractId);
      await wait("db_2 booted on its empty disk", () => consoleOf(two.console), (t) => t.includes("ZGRID-READY"));
      const r: Replica = { name: "db_2", contractId: two.contractId, nodeId: f.node.nodeId, nodeTwinId: f.node.twinId, ip: "", hash: "", generation: 2, state: "healthy", message: "" };
      const ready = holdRestoring(env, spec!, [r]);
      assert.equal(r.state, "starting", "held out of service");
      await restoreRunner(env, { hub: f.hub.url }).tick(new Map([["db", ready]]));
      assert.deepEqual(store.restores().map((x) => x.state), ["done"], events.join("\n"));
      const text = await wait("db_2 found db_1's file", () => consoleOf(two.console), (t) => t.includes("ZGRID-FOUND"));
      assert.match(text, /ZGRID-FOUND data-of-db_1/);
    } finally {
      store.close();
    }
  });
});
