// The engine without VMs: an in-memory store, a chain double holding contracts (the chain itself
// is tested in @zgrid/chain; here only what the node reads from it) and recording fake managers.
// Install order, failures recorded as results, capacity refusal storing nothing, adoption,
// reconcile after a missed event, grace pause/resume, refused updates kept `unchanged` and still
// counted, used resources re-reported only when they differ.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import {
  GiB, WORKLOAD_TYPE_NAMES, deploymentHashHex, parseDeployment, signDeployment, sortForInstall, sortForUninstall, twinKeyFromPrivateKey,
  type Capacity, type Deployment,
} from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { usedCapacity } from "./capacity-ledger.ts";
import { openDeploymentStore, type DeploymentStore } from "./deployment-store.ts";
import { InsufficientCapacityError } from "./engine-errors.ts";
import { ChainDouble } from "./chain-double.ts";
import { ProvisionEngine } from "./provision-engine.ts";
import type { ManagerMap, WorkloadManager } from "./workload-manager.ts";

const log = createLogger("test.engine");
const key = twinKeyFromPrivateKey(`0x${"11".repeat(32)}`);
const TWIN = 7;
const NODE = 3;
const BIG: Capacity = { cru: 64, mru: 512 * GiB, sru: 4096 * GiB, hru: 4096 * GiB, ipv4u: 100 };

type Call = `${"provision" | "update" | "deprovision" | "adopt" | "pause" | "resume"} ${string}`;

/** Managers for every type that record calls; `behave` changes one type's answers. */
function fakeManagers(calls: Call[], behave: Partial<Record<string, Partial<WorkloadManager>>> = {}): ManagerMap {
  const m: Record<string, WorkloadManager> = {};
  for (const type of WORKLOAD_TYPE_NAMES) {
    m[type] = {
      provision: async (_c, w) => (calls.push(`provision ${w.name}`), { name: w.name }),
      deprovision: async (_c, w) => void calls.push(`deprovision ${w.name}`),
      update: async (_c, w) => (calls.push(`update ${w.name}`), { name: w.name }),
      adopt: async (_c, w) => (calls.push(`adopt ${w.name}`), true),
      pause: async (_c, w) => void calls.push(`pause ${w.name}`),
      resume: async (_c, w) => void calls.push(`resume ${w.name}`),
      ...behave[type],
    };
  }
  return m as ManagerMap;
}

function setup(o: { managers?: ManagerMap; calls?: Call[]; total?: Capacity; store?: DeploymentStore; chain?: ChainDouble } = {}) {
  const calls = o.calls ?? [];
  const store = o.store ?? openDeploymentStore(":memory:");
  const chain = o.chain ?? new ChainDouble(TWIN, key.address);
  const engine = new ProvisionEngine({ nodeId: NODE, chain, store, managers: o.managers ?? fakeManagers(calls), totalCapacity: o.total ?? BIG, log });
  return { calls, store, chain, engine };
}

/** A signed sample deployment on contract `id`, its contract put on the chain double. */
function contracted(chain: ChainDouble, id: number, edit: (d: Deployment) => void = () => undefined, version = 0): Deployment {
  const d = { ...parseDeployment(sampleDeploymentJson({ twinId: TWIN, version })), contract_id: id };
  edit(d);
  const signed = signDeployment(d, TWIN, key);
  chain.contracts.set(id, { id, twinId: TWIN, kind: "node", state: "created", nodeId: NODE, deploymentHash: deploymentHashHex(signed), publicIps: [], name: "" });
  return signed;
}

const states = (store: DeploymentStore, id: number) => Object.fromEntries(store.get(id)!.workloads.map((w) => [w.name, w.result?.state]));

test("a deployment is installed in dependency order and every workload ends ok; used resources reported", async () => {
  const { calls, store, chain, engine } = setup();
  const d = contracted(chain, 12);
  assert.deepEqual(await engine.deploy(TWIN, d), { contract_id: 12, accepted: true });
  await engine.queue.idle();
  assert.deepEqual(calls, sortForInstall(d.workloads).map((w) => `provision ${w.name}`));
  assert.ok(Object.values(states(store, 12)).every((s) => s === "ok"), JSON.stringify(states(store, 12)));
  const used = usedCapacity([store.get(12)!]);
  assert.deepEqual(chain.reports.at(-1), { contractId: 12, used: { cru: BigInt(used.cru), mru: BigInt(used.mru), sru: BigInt(used.sru), hru: BigInt(used.hru) } });
});

test("a failing workload is recorded as its result; the others still install", async () => {
  const calls: Call[] = [];
  const { store, chain, engine } = setup({ calls, managers: fakeManagers(calls, { zmachine: { provision: () => Promise.reject(new Error("flist refused: bad signature")) } }) });
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  const vm = store.get(12)!.workloads.find((w) => w.name === "vm")!;
  assert.equal(vm.result?.state, "error");
  assert.equal(vm.result?.message, "flist refused: bad signature");
  assert.equal(states(store, 12).net, "ok");
  assert.ok(store.changes(12).some((c) => c.name === "vm" && c.state === "error"), "the failure is in the history");
});

test("a deployment that does not fit is refused and nothing is stored or provisioned", async () => {
  const { calls, store, chain, engine } = setup({ total: { cru: 1, mru: 4 * GiB, sru: 20 * GiB, hru: 0, ipv4u: 10 } });
  await assert.rejects(engine.deploy(TWIN, contracted(chain, 12)), (e: unknown) => e instanceof InsufficientCapacityError && /not enough capacity/.test(e.message));
  await engine.queue.idle();
  assert.equal(store.get(12), undefined);
  assert.deepEqual(store.changes(12), []);
  assert.deepEqual(calls, []);
});

test("after a restart a new engine adopts what runs and re-provisions only what is gone", async () => {
  const first = setup();
  await first.engine.deploy(TWIN, contracted(first.chain, 12));
  await first.engine.queue.idle();
  const calls: Call[] = [];
  const second = setup({ store: first.store, chain: first.chain, calls, managers: fakeManagers(calls, { zmachine: { adopt: async (_c, w) => (calls.push(`adopt ${w.name}`), false) } }) });
  await second.engine.reconcileAll();
  assert.ok(calls.includes("adopt vm") && calls.includes("provision vm"), calls.join(", "));
  assert.deepEqual(calls.filter((c) => c.startsWith("provision")), ["provision vm"]);
  assert.equal(states(second.store, 12).vm, "ok");
  // adopted once: the next pass checks nothing again (liveness decides), nothing is provisioned
  calls.length = 0;
  await second.engine.reconcileAll();
  assert.deepEqual(calls, []);
});

test("a workload that fails adoption for good (the VM monitor gave up) turns to error with the reason", async () => {
  const first = setup();
  await first.engine.deploy(TWIN, contracted(first.chain, 12));
  await first.engine.queue.idle();
  const calls: Call[] = [];
  const second = setup({ store: first.store, chain: first.chain, calls, managers: fakeManagers(calls, { zmachine: { adopt: () => Promise.reject(new Error("VM failed: kernel panic")) } }) });
  await second.engine.reconcile(12);
  const vm = second.store.get(12)!.workloads.find((w) => w.name === "vm")!;
  assert.deepEqual([vm.result?.state, vm.result?.message], ["error", "VM failed: kernel panic"]);
  assert.ok(!calls.includes("provision vm"));
});

test("a missed cancel event is repaired by the next reconcile: everything deprovisioned in reverse order", async () => {
  const { calls, store, chain, engine } = setup();
  const d = contracted(chain, 12);
  await engine.deploy(TWIN, d);
  await engine.queue.idle();
  calls.length = 0;
  chain.contracts.get(12)!.state = "deleted"; // no event delivered
  await engine.reconcileAll();
  assert.deepEqual(calls, sortForUninstall(d.workloads).map((w) => `deprovision ${w.name}`));
  assert.ok(Object.values(states(store, 12)).every((s) => s === "deleted"));
  calls.length = 0;
  await engine.reconcile(12);
  assert.deepEqual(calls, [], "a deleted deployment is left alone");
});

test("grace period pauses, funds back resume, both from the contract's state", async () => {
  const { calls, store, chain, engine } = setup();
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  calls.length = 0;
  chain.contracts.get(12)!.state = "grace_period";
  await engine.reconcile(12);
  assert.equal(states(store, 12).vm, "paused");
  assert.ok(calls.includes("pause vm"));
  await engine.reconcile(12);
  assert.equal(calls.filter((c) => c === "pause vm").length, 1, "level-based: paused once");
  chain.contracts.get(12)!.state = "created";
  await engine.reconcile(12);
  assert.equal(states(store, 12).vm, "ok");
  assert.ok(calls.includes("resume vm"));
});

test("a refused update leaves the workload as it was: unchanged, with the reason, still counted", async () => {
  const calls: Call[] = [];
  const { store, chain, engine } = setup({ calls, managers: fakeManagers(calls, { zmount: { update: () => Promise.reject(new Error("cannot shrink disk 'data'")) } }) });
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  const before = usedCapacity([store.get(12)!]);
  const next = contracted(chain, 12, (d) => {
    const disk = d.workloads.find((w) => w.name === "data")!;
    disk.version = 1;
    (disk.data as { size: number }).size = 2 * GiB;
  }, 1);
  await engine.update(TWIN, next);
  await engine.queue.idle();
  const disk = store.get(12)!.workloads.find((w) => w.name === "data")!;
  assert.equal(disk.result?.state, "unchanged");
  assert.match(disk.result?.message ?? "", /update refused: cannot shrink disk 'data'/);
  assert.equal((disk.data as { size: number }).size, 10 * GiB, "the old data is kept");
  assert.deepEqual(usedCapacity([store.get(12)!]), before, "its capacity still counts");
});

test("a changed zmachine is restarted in place with its new data; its disks are not touched", async () => {
  const calls: Call[] = [];
  const { store, chain, engine } = setup({ calls, managers: fakeManagers(calls, { zmachine: { update: undefined } }) });
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  calls.length = 0;
  const next = contracted(chain, 12, (d) => {
    const vm = d.workloads.find((w) => w.name === "vm")!;
    vm.version = 1;
    (vm.data as { env: Record<string, string> }).env = { MODE: "two" };
  }, 1);
  await engine.update(TWIN, next);
  await engine.queue.idle();
  assert.deepEqual(calls, ["deprovision vm", "provision vm"], "only the VM is restarted; the zmount 'data' is neither removed nor re-made");
  const vm = store.get(12)!.workloads.find((w) => w.name === "vm")!;
  assert.equal(vm.result?.state, "ok");
  assert.deepEqual((vm.data as { env: Record<string, string> }).env, { MODE: "two" });
  assert.equal(store.get(12)!.version, 1);
});

test("a restart-update that does not come up puts the previous version back (unchanged, with the reason)", async () => {
  const calls: Call[] = [];
  const provision: WorkloadManager["provision"] = async (_c, w) => {
    calls.push(`provision ${w.name}`);
    if ((w.data as { env: Record<string, string> }).env.MODE === "bad") throw new Error("entrypoint /nope is not a file in the flist");
    return { name: w.name };
  };
  const { store, chain, engine } = setup({ calls, managers: fakeManagers(calls, { zmachine: { update: undefined, provision } }) });
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  calls.length = 0;
  await engine.update(TWIN, contracted(chain, 12, (d) => {
    const vm = d.workloads.find((w) => w.name === "vm")!;
    vm.version = 1;
    (vm.data as { env: Record<string, string> }).env = { MODE: "bad" };
  }, 1));
  await engine.queue.idle();
  assert.deepEqual(calls, ["deprovision vm", "provision vm", "deprovision vm", "provision vm"]);
  const vm = store.get(12)!.workloads.find((w) => w.name === "vm")!;
  assert.equal(vm.result?.state, "unchanged");
  assert.match(vm.result?.message ?? "", /update failed, previous version running again: entrypoint \/nope/);
  assert.notEqual((vm.data as { env: Record<string, string> }).env.MODE, "bad", "the old data is kept");
});

test("used resources are reported again only when the chain's figures differ", async () => {
  const { store, chain, engine } = setup();
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  const n = chain.reports.length;
  await engine.reconcile(12);
  assert.equal(chain.reports.length, n, "same figures: nothing sent");
  chain.contracts.get(12)!.used = { cru: 0n, mru: 0n, sru: 0n, hru: 0n }; // the report was lost
  await engine.reconcile(12);
  assert.equal(chain.reports.length, n + 1);
  assert.equal(chain.reports.at(-1)!.used.mru, BigInt(usedCapacity([store.get(12)!]).mru));
});

test("reconciles of one contract coalesce and never wait for another contract's queue", async () => {
  const { chain, engine } = setup();
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  let release!: () => void;
  void engine.queue.run(99, () => new Promise<void>((r) => (release = r))); // another contract is stuck
  const a = engine.reconcile(12);
  assert.equal(engine.reconcile(12), a, "a queued reconcile is reused");
  await a; // done while contract 99 is still busy
  release();
  await engine.queue.idle();
});

test("the liveness pass reconciles a contract whose workload lost a process", async () => {
  const calls: Call[] = [];
  let alive = true;
  const { store, chain, engine } = setup({ calls, managers: fakeManagers(calls, { network: { alive: async () => alive } }) });
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  calls.length = 0;
  await engine.watchLiveness();
  assert.equal(calls.length, 0, "all alive: nothing to do");
  alive = false;
  await engine.watchLiveness();
  await engine.queue.idle();
  assert.ok(calls.includes("adopt net"), `adopt (repair) ran: ${calls.join(", ")}`);
  assert.equal(states(store, 12).net, "ok");
});

test("what the node observes later (a VM's health) is merged into the workload's result data; state kept; never for a deleted one", async () => {
  const { store, chain, engine } = setup();
  await engine.deploy(TWIN, contracted(chain, 12));
  await engine.queue.idle();
  const vm = () => store.get(12)!.workloads.find((w) => w.name === "vm")!;
  const before = vm().result!;
  const health = { status: "unhealthy", failing_streak: 3, last_output: "connection refused", at: 1 };
  engine.noteResultData(12, "vm", { health });
  assert.deepEqual(vm().result, { ...before, data: { name: "vm", health } });
  assert.deepEqual(engine.get(TWIN, 12).workloads.find((w) => w.name === "vm")!.result?.data, { name: "vm", health });
  engine.noteResultData(12, "nope", { health });
  engine.noteResultData(99, "vm", { health });
  chain.contracts.get(12)!.state = "deleted";
  await engine.reconcile(12);
  assert.equal(vm().result?.state, "deleted");
  engine.noteResultData(12, "vm", { health });
  assert.equal(vm().result?.data, undefined, "a deleted workload gets no data back");
});
