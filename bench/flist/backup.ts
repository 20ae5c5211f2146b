/**
 * Disk backup bench (no root): a sparse disk image (`--mib`, default 256; half of its 512 KiB
 * blocks random, half holes) backed up to a hub on localhost, then backed up again after 1% of
 * its blocks changed, then restored. Baselines in the same run: `cp --sparse=always` of the image
 * (what a local copy costs) and the bytes a full second upload would have sent.
 *
 * @example
 * ```sh
 * node bench/flist/backup.ts --mib 256
 * ```
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { backupDisk, restoreDisk, startHub } from "@zgrid/flist";
import { twinKeyFromPrivateKey } from "@zgrid/types";

const { values } = parseArgs({ options: { mib: { type: "string", default: "256" } } });
const BLOCK = 512 * 1024;
const blocks = Math.max(8, Math.floor((Number(values.mib) * 2 ** 20) / BLOCK));
const dir = mkdtempSync(join(tmpdir(), "bench-backup-"));
const key = twinKeyFromPrivateKey("0x" + "5a".repeat(32));
const hub = await startHub({ dataDir: join(dir, "hub") });
const disk = join(dir, "disk.img");
const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
};
try {
  const fh = await open(disk, "w");
  await fh.truncate(blocks * BLOCK);
  for (let i = 0; i < blocks; i += 2) await fh.write(randomBytes(BLOCK), 0, BLOCK, i * BLOCK);
  await fh.close();
  const mib = (blocks * BLOCK) / 2 ** 20;
  const [, cp] = await time(() => execFileSync("cp", ["--sparse=always", disk, join(dir, "copy.img")]));
  const [first, t1] = await time(() => backupDisk({ hub: hub.url, key, source: createReadStream(disk, { highWaterMark: BLOCK }) }));
  const changed = Math.max(1, Math.round(blocks / 100));
  const fh2 = await open(disk, "r+");
  for (let k = 0; k < changed; k++) await fh2.write(randomBytes(16), 0, 16, Math.floor((k * blocks) / changed) * BLOCK + 100);
  await fh2.close();
  const [second, t2] = await time(() => backupDisk({ hub: hub.url, key, source: createReadStream(disk, { highWaterMark: BLOCK }) }));
  const [, t3] = await time(() => restoreDisk({ hub: hub.url, key, manifest: second.manifest, target: join(dir, "restored.img") }));
  const same = readFileSync(disk).equals(readFileSync(join(dir, "restored.img")));
  console.log(`disk ${mib} MiB, ${blocks} blocks (${first.zeroBlocks} holes), 1% = ${changed} blocks changed; restored identical: ${same}`);
  console.log(`baseline cp --sparse=always: ${cp.toFixed(2)} s (${(mib / cp).toFixed(0)} MiB/s)`);
  console.log(`first backup:  ${t1.toFixed(2)} s (${(mib / t1).toFixed(0)} MiB/s of disk), ${first.uploadedBlocks} blocks uploaded = ${(t1 / cp).toFixed(1)}x the copy`);
  console.log(`second backup: ${t2.toFixed(2)} s, ${second.uploadedBlocks} blocks uploaded (${((100 * second.uploadedBlocks) / first.uploadedBlocks).toFixed(1)}% of a full upload), ${(t2 / t1).toFixed(2)}x the first`);
  console.log(`restore:       ${t3.toFixed(2)} s (${(mib / t3).toFixed(0)} MiB/s of disk) = ${(t3 / cp).toFixed(1)}x the copy`);
} finally {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
