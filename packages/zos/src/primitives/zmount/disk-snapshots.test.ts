// Disk snapshots (disk backups' node side) attacked without a VM: the real engine's `get` over a
// real deployment store decides who owns a disk; the disk is a real sparse file; the copy is the
// real `cp`. Only the pause/resume order around the copy of a running VM uses a recording
// hypervisor (labelled below): pausing a real QEMU needs the VM lock.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DISK_CHUNK_MAX, parseDeployment, workloadId } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { openDeploymentStore } from "../../engine/deployment-store.ts";
import { DeploymentNotFoundError } from "../../engine/engine-errors.ts";
import { ProvisionEngine } from "../../engine/provision-engine.ts";
import { Hypervisor } from "../../hypervisor/hypervisor.ts";
import { nodePaths } from "../node-paths.ts";
import { DiskNotHereError, SnapshotLimitError, SnapshotNotFoundError, diskSnapshots, type DiskSnapshotDeps } from "./disk-snapshots.ts";

const SIZE = 3 * DISK_CHUNK_MAX + 1000;

async function setup(t: { after(fn: () => void | Promise<void>): void }, hypervisor?: DiskSnapshotDeps["hypervisor"], limits?: DiskSnapshotDeps["limits"]) {
  const dir = mkdtempSync(join(tmpdir(), "zos-snap-"));
  const store = openDeploymentStore(join(dir, "zos.db"));
  const paths = nodePaths(join(dir, "node"));
  // a snapshot left by a daemon killed mid-copy
  mkdirSync(join(paths.dataDir, "snapshots"), { recursive: true });
  writeFileSync(join(paths.dataDir, "snapshots", "dead.img"), "x");
  for (const [twin, contract] of [[7, 12], [8, 13]] as const) {
    store.put({ ...parseDeployment(sampleDeploymentJson({ twinId: twin })), contract_id: contract });
    const file = paths.disk(workloadId(twin, contract, "data"));
    mkdirSync(join(paths.dataDir, "disks"), { recursive: true });
    const fh = await open(file, "w");
    await fh.truncate(SIZE);
    await fh.write(Buffer.alloc(1000, twin), 0, 1000, 100); // chunk 0: data; chunks 1, 2: holes
    await fh.write(Buffer.alloc(1000, 0xee), 0, 1000, 3 * DISK_CHUNK_MAX); // the short last chunk
    await fh.close();
  }
  const engine = new ProvisionEngine({ store } as unknown as ConstructorParameters<typeof ProvisionEngine>[0]);
  const snaps = diskSnapshots({ engine, hypervisor: hypervisor ?? new Hypervisor({ stateDir: join(dir, "vms"), accel: "tcg" }), paths, ...(limits ? { limits } : {}) });
  t.after(async () => { await snaps.closeAll(); store.close(); rmSync(dir, { recursive: true, force: true }); });
  return { snaps, paths, dir };
}

test("the owner snapshots its disk and reads it back in bounded chunks; the snapshot is the disk at that instant", async (t) => {
  const { snaps, paths } = await setup(t);
  assert.deepEqual(readdirSync(join(paths.dataDir, "snapshots")), [], "a killed daemon's snapshot is removed at start");
  const s = await snaps.open(7, { contract_id: 12, name: "data" });
  assert.equal(s.size, SIZE);
  assert.equal(s.paused_ms, 0, "the VM never ran: nothing paused");
  // the disk changes after the snapshot: the snapshot does not
  const fh = await open(paths.disk(workloadId(7, 12, "data")), "r+");
  await fh.write(Buffer.alloc(10, 1), 0, 10, 100);
  await fh.close();
  const chunks = [];
  for (let offset = 0; offset < s.size; offset += DISK_CHUNK_MAX) chunks.push(await snaps.read(7, { snapshot: s.snapshot, offset, length: DISK_CHUNK_MAX }));
  assert.deepEqual(chunks.map((c) => [c.offset, c.length, c.zero]), [[0, DISK_CHUNK_MAX, false], [DISK_CHUNK_MAX, DISK_CHUNK_MAX, true], [2 * DISK_CHUNK_MAX, DISK_CHUNK_MAX, true], [3 * DISK_CHUNK_MAX, 1000, false]]);
  assert.equal(chunks[1]!.data, "", "a zero chunk carries no data");
  const first = Buffer.from(chunks[0]!.data, "base64");
  assert.ok(first.subarray(100, 1100).equals(Buffer.alloc(1000, 7)), "the bytes as they were when the snapshot was taken");
  assert.ok(Buffer.from(chunks[3]!.data, "base64").equals(Buffer.alloc(1000, 0xee)));
  await assert.rejects(snaps.read(7, { snapshot: s.snapshot, offset: SIZE, length: 1 }), (e: unknown) => e instanceof SnapshotLimitError && /past the end/.test(e.message));
  assert.deepEqual(await snaps.close(7, { snapshot: s.snapshot }), { closed: true });
  assert.deepEqual(readdirSync(join(paths.dataDir, "snapshots")), [], "closing removes the copy");
  await assert.rejects(snaps.read(7, { snapshot: s.snapshot, offset: 0, length: 1 }), SnapshotNotFoundError);
});

test("another twin can neither snapshot the disk nor read, close or probe for the owner's snapshot", async (t) => {
  const { snaps } = await setup(t);
  await assert.rejects(snaps.open(8, { contract_id: 12, name: "data" }), (e: unknown) => e instanceof DeploymentNotFoundError && /of your twin/.test(e.message));
  await assert.rejects(snaps.open(7, { contract_id: 12, name: "vm" }), DiskNotHereError, "a zmachine is not a disk");
  await assert.rejects(snaps.open(7, { contract_id: 12, name: "nope" }), DiskNotHereError);
  const s = await snaps.open(7, { contract_id: 12, name: "data" });
  const stranger = await assert.rejects(snaps.read(8, { snapshot: s.snapshot, offset: 0, length: 1 }), SnapshotNotFoundError).then(() => "refused");
  assert.equal(stranger, "refused");
  const message = (p: Promise<unknown>) => p.then(() => "answered", (e: Error) => e.message);
  const unknown = await message(snaps.read(8, { snapshot: "0".repeat(32), offset: 0, length: 1 }));
  const theirs = await message(snaps.read(8, { snapshot: s.snapshot, offset: 0, length: 1 }));
  assert.equal(theirs.replace(s.snapshot, "X"), unknown.replace("0".repeat(32), "X"), "another twin's snapshot reads exactly as an unknown id");
  await assert.rejects(snaps.close(8, { snapshot: s.snapshot }), SnapshotNotFoundError);
  assert.equal(snaps.count(), 1, "still open for its owner");
  assert.equal((await snaps.read(7, { snapshot: s.snapshot, offset: 0, length: 16 })).length, 16);
});

test("floods are bounded per twin: open snapshots and reads in flight; the other twin is not blocked", async (t) => {
  const { snaps } = await setup(t, undefined, { perTwin: 2, readsPerTwin: 3 });
  const opens = await Promise.allSettled(Array.from({ length: 6 }, () => snaps.open(7, { contract_id: 12, name: "data" })));
  assert.equal(opens.filter((r) => r.status === "fulfilled").length, 2, "at most 2 open snapshots per twin, also when asked at once");
  assert.ok(opens.filter((r) => r.status === "rejected").every((r) => r.reason instanceof SnapshotLimitError));
  const mine = (opens.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ snapshot: string }>).value.snapshot;
  const reads = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => snaps.read(7, { snapshot: mine, offset: (i % 3) * DISK_CHUNK_MAX, length: DISK_CHUNK_MAX })));
  const ok = reads.filter((r) => r.status === "fulfilled").length;
  assert.ok(ok >= 3 && ok < 20, `reads in flight bounded (${ok} of 20 served)`);
  assert.ok(reads.filter((r) => r.status === "rejected").every((r) => r.reason instanceof SnapshotLimitError));
  // twin 8 is untouched by twin 7's flood
  const other = await snaps.open(8, { contract_id: 13, name: "data" });
  assert.ok(Buffer.from((await snaps.read(8, { snapshot: other.snapshot, offset: 0, length: DISK_CHUNK_MAX })).data, "base64").subarray(100, 1100).equals(Buffer.alloc(1000, 8)));
});

test("a running VM is paused for the copy and resumed after it, also when the copy fails", async (t) => {
  // Recording hypervisor (test double): the VM's QMP stop/cont order around the copy is what is checked here.
  const calls: string[] = [];
  const hv: DiskSnapshotDeps["hypervisor"] = {
    status: async (id) => { calls.push(`status ${id}`); return { state: "running" } as Awaited<ReturnType<Hypervisor["status"]>>; },
    pause: async (id) => void calls.push(`pause ${id}`),
    resume: async (id) => void calls.push(`resume ${id}`),
  };
  const { snaps, paths } = await setup(t, hv);
  const s = await snaps.open(7, { contract_id: 12, name: "data" });
  const vm = workloadId(7, 12, "vm");
  assert.deepEqual(calls, [`status ${vm}`, `pause ${vm}`, `resume ${vm}`]);
  assert.ok(s.paused_ms >= 0);
  calls.length = 0;
  assert.equal(readdirSync(join(paths.dataDir, "snapshots")).length, 1);
  assert.ok(!existsSync(join(paths.dataDir, "snapshots", "dead.img")));
  // the copy fails (its target directory is gone, a file in its place): the VM is resumed all the same
  await snaps.close(7, { snapshot: s.snapshot });
  rmSync(join(paths.dataDir, "snapshots"), { recursive: true });
  writeFileSync(join(paths.dataDir, "snapshots"), "");
  await assert.rejects(snaps.open(8, { contract_id: 13, name: "data" }), /cp/);
  assert.deepEqual(calls, [`status ${workloadId(8, 13, "vm")}`, `pause ${workloadId(8, 13, "vm")}`, `resume ${workloadId(8, 13, "vm")}`], "resumed although the copy failed");
});
