// A 3+2 erasure-coded object on five real zdb services (five RESP servers with their own data
// dirs, in this process: five zosd nodes under TCG are too heavy for a unit test; the e2e runs
// the service inside zosd). Any 2 of the 5 stopped: the object reads back intact.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { twinKeyFromMnemonic } from "@zgrid/types";
import { ZdbService } from "@zgrid/zos";
import { BlockIntegrityError, openBlock, sealBlock, storageKeyOf } from "./block-seal.ts";
import { ErasureStore, type ErasureManifest } from "./erasure-store.ts";
import { rsDecode, rsEncode } from "./reed-solomon.ts";

const MNEMONIC = "test test test test test test test test test test test junk";
const storageKey = storageKeyOf(twinKeyFromMnemonic(MNEMONIC).privateKey);

describe("reed-solomon and block sealing", () => {
  it("any 3 of 5 shards rebuild a block", async () => {
    const block = randomBytes(100_001);
    const { shards, shardSize } = await rsEncode(block, 3, 2);
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) {
      const partial = shards.map((s, i) => (i === a || i === b ? undefined : s));
      assert.ok((await rsDecode(partial, 3, 2, shardSize, block.length)).equals(block), `without ${a},${b}`);
    }
    await assert.rejects(rsDecode([shards[0], undefined, undefined, undefined, shards[4]], 3, 2, shardSize, block.length), /only 2 of 5 shards/);
  });

  it("sealed blocks are keyed by the twin and refuse tampering", () => {
    const plain = Buffer.from("hello storage");
    const a = sealBlock(storageKey, plain);
    const other = sealBlock(storageKeyOf(randomBytes(32)), plain);
    assert.notEqual(a.id.toString("hex"), other.id.toString("hex"), "another twin's key gives another block");
    assert.ok(openBlock(a.id, a.key, a.data).equals(plain));
    const bad = Buffer.from(a.data);
    bad[0]! ^= 1;
    assert.throws(() => openBlock(a.id, a.key, bad), BlockIntegrityError);
  });
});

describe("erasure-coded store over five zdb services", () => {
  const dir = mkdtempSync(join(tmpdir(), "zdb-ec-"));
  const services: ZdbService[] = [];
  const targets: Array<{ host: string; port: number; namespace: string; password: string }> = [];
  before(async () => {
    for (let i = 0; i < 5; i++) {
      const s = new ZdbService({ dir: join(dir, `node${i}`) });
      const port = await s.start({ host: "127.0.0.1", port: 0 });
      s.ensureNamespace({ name: `7-${i}-backup`, owner: 7, mode: "user", size: 64 << 20, password: `pw${i}`, public: false });
      services.push(s);
      targets.push({ host: "127.0.0.1", port, namespace: `7-${i}-backup`, password: `pw${i}` });
    }
  });
  after(async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("3+2: a 5 MB object reads back intact with any 2 of the 5 services gone", async () => {
    const data = randomBytes(5 * 1024 * 1024 + 12345);
    const store = new ErasureStore({ targets, k: 3, m: 2, storageKey, blockSize: 512 * 1024, timeoutMs: 2000 });
    const manifest: ErasureManifest = await store.put(Readable.from([data.subarray(0, 1000), data.subarray(1000, 3_000_000), data.subarray(3_000_000)]));
    store.close();
    assert.equal(manifest.size, data.length);
    assert.equal(manifest.blocks.length, Math.ceil(data.length / (512 * 1024)));
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) {
      // a lost node: nothing listens on its port any more
      const partial = targets.map((t, i) => (i === a || i === b ? { ...t, port: 1 } : t));
      const reader = new ErasureStore({ targets: partial, k: 3, m: 2, storageKey, timeoutMs: 2000 });
      assert.ok((await reader.read(manifest)).equals(data), `intact without services ${a} and ${b}`);
      reader.close();
    }
  });

  it("corrupt shards count as lost; 3 lost is an error that says so", async () => {
    const data = randomBytes(300_000);
    const store = new ErasureStore({ targets, k: 3, m: 2, storageKey, timeoutMs: 2000 });
    const manifest = await store.put(data);
    const blk = manifest.blocks[0]!;
    // overwrite shard 0 on its namespace with garbage of the same size (a hostile node)
    const ns0 = services[0]!.lookup("7-0-backup")!.store;
    await ns0.set(Buffer.from(`${blk.id}.0`), randomBytes(blk.shardSize));
    assert.ok((await store.read(manifest)).equals(data), "one corrupt shard is repaired around");
    await services[1]!.lookup("7-1-backup")!.store.del(Buffer.from(`${blk.id}.1`));
    await services[2]!.lookup("7-2-backup")!.store.del(Buffer.from(`${blk.id}.2`));
    await assert.rejects(store.read(manifest), /only 2 of 5 shards are intact, 3 are needed/);
    await store.remove(manifest);
    assert.equal(services[3]!.lookup("7-3-backup")!.store.exists(Buffer.from(`${blk.id}.3`)), false, "remove deletes shards");
    store.close();
  });

  it("a write with a namespace down fails and says which", async () => {
    const partial = targets.map((t, i) => (i === 4 ? { ...t, port: 1 } : t));
    const store = new ErasureStore({ targets: partial, k: 3, m: 2, storageKey, timeoutMs: 2000 });
    await assert.rejects(store.put(randomBytes(1000)), /could not store 1 of 5 shards of block 0: 7-4-backup@127.0.0.1:1/);
    store.close();
  });
});
