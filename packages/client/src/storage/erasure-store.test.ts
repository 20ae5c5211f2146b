// A 3+2 erasure-coded object on five zdb nodes: five processes, each a node's zdb service with its
// own data dir and port (what zosd runs for zdb workloads, without the rest of zosd: five zosd
// under TCG are too heavy for the suite; the CLI e2e runs the service inside zosd). Any 2 of the
// 5 frozen or killed: the object reads back intact; killed nodes restarted serve it again.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { twinKeyFromMnemonic } from "@zgrid/types";
import { startZdbNode, type ZdbNode } from "@zgrid/zos/testing";
import { BlockIntegrityError, openBlock, sealBlock, storageKeyOf } from "./block-seal.ts";
import { ErasureStore, type ErasureManifest } from "./erasure-store.ts";
import { rsDecode, rsEncode } from "./reed-solomon.ts";
import { ZdbTarget } from "./zdb-target.ts";

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

describe("erasure-coded store over five zdb nodes (five processes)", () => {
  const dir = mkdtempSync(join(tmpdir(), "zdb-ec-"));
  const nodes: ZdbNode[] = [];
  const targets: Array<{ host: string; port: number; namespace: string; password: string }> = [];
  const nsOf = (i: number) => ({ name: `7-${i}-backup`, password: `pw${i}` });
  const startNode = async (i: number, port?: number) => {
    nodes[i] = await startZdbNode({ dir: join(dir, `node${i}`), namespaces: [nsOf(i)], ...(port ? { port } : {}) });
    return nodes[i];
  };
  const shardStore = (i: number) => new ZdbTarget(targets[i]!, { timeoutMs: 2000 });
  before(async () => {
    await Promise.all([0, 1, 2, 3, 4].map((i) => startNode(i)));
    nodes.forEach((n, i) => targets.push({ host: "127.0.0.1", port: n.port, namespace: nsOf(i).name, password: nsOf(i).password }));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("3+2: a 2 MB object reads back intact with any 2 of the 5 nodes frozen, and with 2 killed; 3 killed is a clear error; killed nodes restarted serve it again", async () => {
    const data = randomBytes(2 * 1024 * 1024 + 12345);
    const store = new ErasureStore({ targets, k: 3, m: 2, storageKey, blockSize: 512 * 1024, timeoutMs: 2000 });
    const manifest: ErasureManifest = await store.put(Readable.from([data.subarray(0, 1000), data.subarray(1000, 3_000_000), data.subarray(3_000_000)]));
    store.close();
    assert.equal(manifest.size, data.length);
    assert.equal(manifest.blocks.length, Math.ceil(data.length / (512 * 1024)));
    const read = async () => {
      const reader = new ErasureStore({ targets, k: 3, m: 2, storageKey, timeoutMs: 1000 });
      try {
        return await reader.read(manifest);
      } finally {
        reader.close();
      }
    };
    // every pair of nodes frozen (SIGSTOP: connections accepted, never answered — the worst kind of lost node)
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) {
      nodes[a]!.signal("SIGSTOP");
      nodes[b]!.signal("SIGSTOP");
      try {
        assert.ok((await read()).equals(data), `intact with nodes ${a} and ${b} frozen`);
      } finally {
        nodes[a]!.signal("SIGCONT");
        nodes[b]!.signal("SIGCONT");
      }
    }
    // two nodes crash for real
    for (const i of [1, 3]) nodes[i]!.signal("SIGKILL");
    await Promise.all([nodes[1]!.exited, nodes[3]!.exited]);
    assert.ok((await read()).equals(data), "intact with nodes 1 and 3 killed");
    nodes[4]!.signal("SIGKILL");
    await nodes[4]!.exited;
    await assert.rejects(read(), /block \d+: only 2 of 5 shards are intact, 3 are needed/);
    // the killed nodes start again on their data dirs: nothing they acknowledged was lost
    await Promise.all([1, 3, 4].map((i) => startNode(i, targets[i]!.port)));
    for (const i of [0, 2]) nodes[i]!.signal("SIGSTOP");
    try {
      assert.ok((await read()).equals(data), "intact from the restarted nodes 1, 3, 4 alone (0 and 2 frozen)");
    } finally {
      for (const i of [0, 2]) nodes[i]!.signal("SIGCONT");
    }
  });

  it("corrupt shards count as lost; 3 lost is an error that says so", async () => {
    const data = randomBytes(300_000);
    const store = new ErasureStore({ targets, k: 3, m: 2, storageKey, timeoutMs: 2000 });
    const manifest = await store.put(data);
    const blk = manifest.blocks[0]!;
    // shard 0 overwritten with garbage of the same size (a hostile node)
    const t0 = shardStore(0);
    await t0.set(`${blk.id}.0`, randomBytes(blk.shardSize));
    t0.close();
    assert.ok((await store.read(manifest)).equals(data), "one corrupt shard is repaired around");
    for (const i of [1, 2]) {
      const t = shardStore(i);
      await t.del(`${blk.id}.${i}`);
      t.close();
    }
    await assert.rejects(store.read(manifest), /only 2 of 5 shards are intact, 3 are needed/);
    await store.remove(manifest);
    const t3 = shardStore(3);
    assert.equal(await t3.get(`${blk.id}.3`), null, "remove deletes shards");
    t3.close();
    store.close();
  });

  it("a write with a namespace down fails and says which", async () => {
    const partial = targets.map((t, i) => (i === 4 ? { ...t, port: 1 } : t));
    const store = new ErasureStore({ targets: partial, k: 3, m: 2, storageKey, timeoutMs: 2000 });
    await assert.rejects(store.put(randomBytes(1000)), /could not store 1 of 5 shards of block 0: 7-4-backup@127.0.0.1:1/);
    store.close();
  });
});
