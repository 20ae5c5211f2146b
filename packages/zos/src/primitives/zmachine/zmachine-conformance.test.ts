// The zmachine manager against the manager conformance suite, on the real thing: a signed busybox
// flist on a local hub, its lazy FUSE mount (a detached mount process), QEMU (TCG) on a scratch
// bridge. The footprint is the VM's QEMU (by pid: provisioning again, or a restarted manager, must
// keep the same process), the flist mount and its mount process, and the VM's state directory.
// A half-provisioned zmachine is a daemon killed between mounting the flist and starting QEMU.
// The refusal: an entrypoint that is not a file in the flist. A restarted manager is a new
// Hypervisor + FlistMounts + manager over the same directories.
// Then the same manager under the engine (an in-memory store and a chain double holding the
// contract; the network workload is a labelled stand-in returning the scratch bridge): reconcile is
// level-based and idempotent (same QEMU), a restarted engine adopts it, and starts again a QEMU
// killed with the daemon, a refused update leaves it `unchanged` on its old data and running,
// and a cancelled contract leaves nothing.
// Needs root, QEMU, FUSE and the VM lock: flock /tmp/zgrid-vm.lock node --test <this file>
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { startHub, type Hub } from "@zgrid/flist";
import { createLogger } from "@zgrid/log";
import {
  GiB, deploymentHashHex, parseDeployment, signDeployment, twinKeyFromPrivateKey,
  type Capacity, type Deployment, type NetworkResult, type WorkloadOf,
} from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { openDeploymentStore } from "../../engine/deployment-store.ts";
import { ChainDouble } from "../../engine/chain-double.ts";
import { ProvisionEngine } from "../../engine/provision-engine.ts";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import { Hypervisor } from "../../hypervisor/hypervisor.ts";
import { buildBusyboxRoot, createTestBridge, type TestBridge } from "../../hypervisor/test-fixtures.ts";
import { managerConformance } from "../../testing/manager-conformance.ts";
import { publishFlist } from "../../testing/zosd-process.ts";
import { nodePaths } from "../node-paths.ts";
import { FlistMounts } from "./flist-mounts.ts";
import { zmachineManager } from "./zmachine-manager.ts";

const TWIN = 7;
const key = twinKeyFromPrivateKey(`0x${"22".repeat(32)}`);
const log = createLogger("test.zmachine");
const work = mkdtempSync("/tmp/zmc-"); // short: QMP socket paths must fit 107 bytes
const dataDir = join(work, "node");
const stateDir = join(work, "s");
const paths = nodePaths(dataDir);
let hub: Hub;
let bridge: TestBridge;
let flistUrl: string;

before(async () => {
  hub = await startHub({ dataDir: join(work, "hub"), port: 0 });
  bridge = await createTestBridge();
  await buildBusyboxRoot(join(work, "root"), "#!/bin/sh\necho ZMC-ENTRY\nexec sleep 100000\n");
  flistUrl = (await publishFlist({ root: join(work, "root"), tmp: work, name: "busybox", hub, key })).url;
});

after(async () => {
  const hv = new Hypervisor({ stateDir });
  for (const id of await hv.list().catch(() => [])) await hv.delete(id).catch(() => undefined);
  for (const line of spawnSync("pgrep", ["-af", "mount-worker.ts"], { encoding: "utf8" }).stdout.split("\n")) {
    if (line.includes(dataDir)) spawnSync("kill", ["-9", line.split(" ")[0]!]);
  }
  for (const mp of readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1] ?? "").filter((m) => m.startsWith(`${dataDir}/`))) {
    spawnSync("fusermount", ["-uz", mp], { stdio: "ignore" });
  }
  await bridge?.remove();
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh daemon's view of the host: its own Hypervisor, flist mounts and manager (nothing shared in memory). */
function daemon() {
  const hypervisor = new Hypervisor({ stateDir, accel: "tcg" });
  const flists = new FlistMounts({
    cacheDir: paths.cacheDir, cacheBytes: 64 * 2 ** 20, requireSignature: true, stores: [`${hub.url}/blocks`],
    policy: new EgressPolicy({ allow: [new URL(hub.url).origin] }),
  });
  const network: NetworkResult = {
    bridge: bridge.name, namespace: "", gateway: bridge.hostIp, subnet: `${bridge.guestIp(0)}/24`, prefix: bridge.prefix,
    ip_range: `${bridge.guestIp(0)}/24`, wireguard: "", listen_port: 0,
  };
  const manager = zmachineManager({ paths, hypervisor, flists, findNetwork: (_ctx: WorkloadContext, name: string) => (name === "net" ? network : undefined) });
  return { hypervisor, flists, manager, network };
}

/** A deployment with a network and a zmachine "vm" on the scratch bridge's subnet. */
function deploymentJson(version: number, entrypoint: string): Record<string, unknown> {
  return {
    ...sampleDeploymentJson({ twinId: TWIN, version }),
    workloads: [
      { version: 0, name: "net", type: "network", metadata: "", description: "", data: { ip_range: "10.213.0.0/16", subnet: `${bridge.guestIp(0)}/24`, wireguard_private_key: Buffer.alloc(32, 1).toString("base64"), wireguard_listen_port: 51900, peers: [] } },
      { version, name: "vm", type: "zmachine", metadata: "", description: "", data: { flist: flistUrl, network: { interfaces: [{ network: "net", ip: bridge.guestIp(5) }] }, compute_capacity: { cpu: 1, memory: 256 * 2 ** 20 }, entrypoint } },
    ],
  };
}

function vmWorkload(entrypoint = "/start.sh"): WorkloadOf<"zmachine"> {
  return parseDeployment(deploymentJson(0, entrypoint)).workloads.find((w) => w.type === "zmachine") as WorkloadOf<"zmachine">;
}

/** What of workload `id` exists on the host: its QEMU (with pid), flist mount, mount process and state directory. */
async function footprint(id: string): Promise<string[]> {
  const hv = new Hypervisor({ stateDir });
  const out: string[] = [];
  if ((await hv.list()).includes(id)) {
    const st = await hv.status(id).catch(() => undefined);
    out.push(`vm ${id} ${st?.state ?? "?"} pid ${st?.pid ?? "-"}`);
  }
  for (const pid of spawnSync("pgrep", ["-f", `qemu-system.*guest=${id}( |,|$)`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)) out.push(`qemu ${pid}`);
  const mp = paths.flistMount(id);
  if (readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === mp)) out.push(`mount ${mp}`);
  for (const line of spawnSync("pgrep", ["-af", "mount-worker.ts"], { encoding: "utf8" }).stdout.split("\n")) {
    if (line.includes(mp)) out.push(`mount process ${line.split(" ")[0]}`);
  }
  if (existsSync(paths.vmDir(id))) out.push(`dir ${paths.vmDir(id)}`);
  // the flist's files beside its mountpoint (the downloaded .fl, its record, its log)
  for (const e of existsSync(dirname(mp)) ? readdirSync(dirname(mp)) : []) out.push(`file ${join(dirname(mp), e)}`);
  return out;
}

managerConformance("zmachine", () => {
  const deployment = { contract_id: 12, twin_id: TWIN } as unknown as Deployment;
  const workloadId = `${TWIN}-12-vm`;
  const first = daemon();
  return {
    manager: first.manager,
    workload: vmWorkload(),
    context: { deployment, workloadId, log, resultOf: () => undefined },
    footprint: () => footprint(workloadId),
    // killed between mounting the flist and starting QEMU
    halfProvision: async () => {
      await first.flists.mount(flistUrl, paths.flistMount(workloadId));
    },
    refused: { workload: vmWorkload("/nope"), error: /entrypoint \/nope is not a file in the flist/ },
    // nothing of a zmachine lives in the daemon's memory: QEMU and the mount process outlive it
    restarted: () => daemon().manager,
  };
});

test("zmachine under the engine: level-based idempotent reconcile, adopt after restart, a QEMU killed with the daemon started again, a refused update unchanged, cancel leaves nothing", { timeout: 300_000 }, async () => {
  const chain = new ChainDouble(TWIN, key.address);
  const store = openDeploymentStore(join(work, "zos.db"));
  const BIG: Capacity = { cru: 8, mru: 16 * GiB, sru: 100 * GiB, hru: 0, ipv4u: 0 };
  const engineOf = () => {
    const d = daemon();
    // labelled stand-in: the network manager's own tests cover networks; here it hands the zmachine the scratch bridge
    const network: WorkloadManager<WorkloadOf<"network">> = { provision: async () => d.network, deprovision: async () => undefined, adopt: async () => true };
    return new ProvisionEngine({ nodeId: 3, chain, store, managers: { zmachine: d.manager, network }, totalCapacity: BIG, log });
  };
  const contracted = (version: number, entrypoint: string): Deployment => {
    const json = deploymentJson(version, entrypoint);
    const d = signDeployment({ ...parseDeployment(json), contract_id: 12 }, TWIN, key);
    chain.contracts.set(12, { id: 12, twinId: TWIN, kind: "node", state: "created", nodeId: 3, deploymentHash: deploymentHashHex(d), publicIps: [], name: "" });
    return d;
  };
  const id = `${TWIN}-12-vm`;
  const vm = () => store.get(12)!.workloads.find((w) => w.name === "vm")!;
  const pid = async () => (await new Hypervisor({ stateDir }).status(id).catch(() => undefined))?.pid;
  try {
    let engine = engineOf();
    await engine.deploy(TWIN, contracted(0, "/start.sh"));
    await engine.queue.idle();
    assert.equal(vm().result?.state, "ok", vm().result?.message);
    const shape = await footprint(id);
    const p1 = await pid();
    assert.ok(p1, "QEMU runs");

    await engine.reconcile(12);
    await engine.queue.idle();
    assert.deepEqual(await footprint(id), shape, "a second reconcile changes nothing (same QEMU, same mount)");
    assert.equal(vm().result?.state, "ok");

    engine = engineOf(); // the daemon restarted
    await engine.reconcileAll();
    await engine.queue.idle();
    assert.equal(vm().result?.state, "ok");
    assert.deepEqual(await footprint(id), shape, "a restarted engine adopts the running VM");

    // killed together with the daemon (a running daemon's VM monitor restarts QEMU itself): the
    // restarted engine compares what runs with what should and provisions it again
    process.kill(p1, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    engine = engineOf();
    await engine.reconcileAll();
    await engine.queue.idle();
    const p2 = await pid();
    assert.ok(p2 && p2 !== p1, "the VM runs again, in a new QEMU");
    assert.equal(vm().result?.state, "ok");

    await engine.update(TWIN, contracted(1, "/nope"));
    await engine.queue.idle();
    assert.equal(vm().result?.state, "unchanged", vm().result?.message);
    assert.match(vm().result?.message ?? "", /entrypoint \/nope is not a file in the flist/);
    assert.equal((vm().data as { entrypoint: string }).entrypoint, "/start.sh", "the old data is kept");
    const p3 = await pid();
    assert.ok(p3, "the previous version runs again");
    assert.equal((await new Hypervisor({ stateDir }).status(id)).state, "running");

    chain.contracts.get(12)!.state = "deleted";
    await engine.reconcile(12);
    await engine.queue.idle();
    assert.deepEqual(await footprint(id), [], "a cancelled contract leaves nothing");
  } finally {
    await daemon().manager.deprovision({ deployment: { contract_id: 12, twin_id: TWIN } as unknown as Deployment, workloadId: id, log, resultOf: () => undefined }, vmWorkload()).catch(() => undefined);
    store.close();
  }
});
