// Re-pushing an image the hub already holds: ONE batch existence check (`POST /blocks/missing`)
// vs the per-block HEAD checks pushes made before (4 in flight), for an flist of 6,000 blocks.
// Goal: ≤ 1 s for 6,000 blocks. Prints both and the ratio (same run, same hub).
//   node bench/compose/push.ts [blocks=6000]
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twinKeyFromMnemonic } from "../../packages/types/src/index.ts";
import { FlistReader, HttpStore, packFlist, pushFlist, signFlist, startHub } from "../../packages/flist/src/index.ts";

const blocks = Number(process.argv[2] ?? 6000);
const key = twinKeyFromMnemonic("test test test test test test test test test test test junk");
const dir = mkdtempSync(join(tmpdir(), "zbench-push-"));
const hub = await startHub({ dataDir: join(dir, "hub") });
try {
  // 6,000 distinct 4 KiB blocks (the block count of a ~3 GiB image at 512 KiB, without 3 GiB of disk)
  const src = join(dir, "src");
  mkdirSync(src);
  for (let f = 0; f < blocks / 100; f++) writeFileSync(join(src, `f${f}`), randomBytes(100 * 4096));
  const fl = join(dir, "app.fl");
  await packFlist({ source: src, output: fl, stores: [`dir://${join(dir, "local")}`], blockSize: 4096, force: true });
  await signFlist(fl, key);
  const first = await pushFlist({ hub: hub.url, flist: fl, key, concurrency: 8 });
  const reader = FlistReader.open(fl);
  const ids = reader.allBlocks().map((b) => b.id);
  reader.close();
  console.log(`flist: ${ids.length} blocks, first push uploaded ${first.uploadedBlocks}`);

  const runs = 3;
  const batch: number[] = [];
  const perBlock: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const again = await pushFlist({ hub: hub.url, flist: fl, key });
    batch.push(performance.now() - t);
    if (again.uploadedBlocks !== 0) throw new Error("the re-push uploaded blocks");
    // the old way: one HEAD per block, 4 in flight
    const store = new HttpStore(`${hub.url}/blocks`);
    const queue = [...ids];
    t = performance.now();
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (queue.length) if (!(await store.has(queue.shift()!))) throw new Error("a block is missing");
    }));
    perBlock.push(performance.now() - t);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const b = med(batch);
  const p = med(perBlock);
  console.log(`re-push of ${ids.length} blocks the hub has: batch check ${b.toFixed(0)} ms (goal ≤ 1000 ms: ${b <= 1000 ? "met" : "missed"}), per-block checks ${p.toFixed(0)} ms; ratio per-block/batch ${(p / b).toFixed(1)}x`);
} finally {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
