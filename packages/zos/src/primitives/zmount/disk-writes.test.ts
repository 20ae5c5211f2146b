// Restore writes attacked without a VM: the real engine's `get` over a real store decides who owns
// the disk, the disk is a real sparse file. A running VM is simulated by a status-only hypervisor
// (labelled below): booting a real QEMU needs the VM lock.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DISK_CHUNK_MAX, parseDeployment, workloadId } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { openDeploymentStore } from "../../engine/deployment-store.ts";
import { DeploymentNotFoundError } from "../../engine/engine-errors.ts";
import { ProvisionEngine } from "../../engine/provision-engine.ts";
import type { Hypervisor } from "../../hypervisor/hypervisor.ts";
import { nodePaths } from "../node-paths.ts";
import { DiskNotHereError, SnapshotLimitError } from "./disk-snapshots.ts";
import { DiskInUseError, diskWrites } from "./disk-writes.ts";

const SIZE = 4 * DISK_CHUNK_MAX;

test("the owner restores into its stopped VM's disk; a running VM, another twin, past-the-end writes and floods are refused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zos-diskw-"));
  const store = openDeploymentStore(join(dir, "zos.db"));
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const paths = nodePaths(join(dir, "node"));
  store.put({ ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 });
  const file = paths.disk(workloadId(7, 12, "data"));
  mkdirSync(join(paths.dataDir, "disks"), { recursive: true });
  const fh = await open(file, "w");
  await fh.truncate(SIZE);
  await fh.write(Buffer.alloc(DISK_CHUNK_MAX, 0x55), 0, DISK_CHUNK_MAX, 2 * DISK_CHUNK_MAX); // an old filesystem's data
  await fh.close();
  // status-only hypervisor (test double): the VM's state is what the write checks
  let vmState = "stopped";
  const hypervisor = { status: async () => ({ state: vmState }) } as unknown as Pick<Hypervisor, "status">;
  const writes = diskWrites({ engine: new ProvisionEngine({ store } as unknown as ConstructorParameters<typeof ProvisionEngine>[0]), hypervisor, paths, writesPerTwin: 2 });
  const b64 = (b: Buffer) => b.toString("base64");

  assert.deepEqual(await writes.write(7, { contract_id: 12, name: "data", offset: 0, data: "", reset: true }), { written: 0, size: SIZE });
  assert.ok(readFileSync(file).equals(Buffer.alloc(SIZE)), "reset: the old data is gone, the size kept");
  assert.equal(statSync(file).size, SIZE);
  await writes.write(7, { contract_id: 12, name: "data", offset: DISK_CHUNK_MAX, data: b64(Buffer.alloc(1000, 9)), reset: false });
  assert.ok(readFileSync(file).subarray(DISK_CHUNK_MAX, DISK_CHUNK_MAX + 1000).equals(Buffer.alloc(1000, 9)));

  await assert.rejects(writes.write(8, { contract_id: 12, name: "data", offset: 0, data: b64(Buffer.alloc(10, 1)), reset: false }), (e: unknown) => e instanceof DeploymentNotFoundError);
  await assert.rejects(writes.write(7, { contract_id: 12, name: "vm", offset: 0, data: "", reset: false }), DiskNotHereError, "a VM is not a disk");
  await assert.rejects(writes.write(7, { contract_id: 12, name: "data", offset: SIZE - 5, data: b64(Buffer.alloc(10, 1)), reset: false }), (e: unknown) => e instanceof SnapshotLimitError && /past the end/.test(e.message));
  await assert.rejects(writes.write(7, { contract_id: 12, name: "data", offset: 2 ** 52, data: b64(Buffer.alloc(1)), reset: false }), SnapshotLimitError);
  vmState = "running";
  await assert.rejects(writes.write(7, { contract_id: 12, name: "data", offset: 0, data: b64(Buffer.alloc(10, 1)), reset: true }), (e: unknown) => e instanceof DiskInUseError && /zgrid vm stop vm/.test(String((e as DiskInUseError).hint)));
  assert.ok(readFileSync(file).subarray(DISK_CHUNK_MAX, DISK_CHUNK_MAX + 1000).equals(Buffer.alloc(1000, 9)), "nothing written under a running VM");
  vmState = "stopped";
  const flood = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => writes.write(7, { contract_id: 12, name: "data", offset: i * 100, data: b64(Buffer.alloc(100, i)), reset: false })));
  const ok = flood.filter((r) => r.status === "fulfilled").length;
  assert.ok(ok >= 2 && ok < 10, `writes in flight bounded (${ok} of 10)`);
  assert.ok(flood.filter((r) => r.status === "rejected").every((r) => r.reason instanceof SnapshotLimitError));
});
