// The node's disk fills up under a zdb namespace (a real full filesystem: a tmpfs mounted with
// size=, so run it as root and under the VM lock): the write that hits ENOSPC is refused with a
// clear error over RESP, no write that was not stored is acknowledged, everything acknowledged
// before it is intact after a restart of the service, and once space is freed the namespace
// takes writes again.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Redis } from "ioredis";
import { ZdbService } from "./zdb-service.ts";

const root = process.getuid?.() === 0;

test("a full disk: the write is refused clearly, nothing unstored is acknowledged, earlier data intact, writes work again once space is freed", { skip: root ? false : "mounts a tmpfs: needs root" }, async () => {
  const mnt = mkdtempSync(join(tmpdir(), "zdb-enospc-"));
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mnt], { encoding: "utf8" });
  assert.equal(mount.status, 0, `mount tmpfs: ${mount.stderr}`);
  let zdb: ZdbService | undefined;
  const clients: Redis[] = [];
  const connect = async (port: number) => {
    const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
    clients.push(c);
    await c.connect();
    assert.equal(await c.call("SELECT", "7-1-full", "pw"), "OK");
    return c;
  };
  const start = async () => {
    zdb = new ZdbService({ dir: join(mnt, "zdb") });
    const port = await zdb.start({ host: "127.0.0.1", port: 0 });
    // the namespace's own limit (64 MiB) is far above the disk: the disk is what runs out
    zdb.ensureNamespace({ name: "7-1-full", owner: 7, mode: "user", size: 64 * 1024 * 1024, password: "pw", public: false });
    return port;
  };
  try {
    // most of the disk taken by something else on the node
    writeFileSync(join(mnt, "filler"), Buffer.alloc(640 * 1024, 1));
    let c = await connect(await start());
    const value = (i: number) => Buffer.alloc(24 * 1024, i % 251);
    const acked: number[] = [];
    const refused: Array<{ i: number; message: string }> = [];
    // bursts of 6 pipelined SETs (one batch, one fdatasync) until the disk is full
    for (let round = 0; refused.length === 0 && round < 100; round++) {
      const ids = Array.from({ length: 6 }, (_, j) => round * 6 + j);
      const results = await Promise.allSettled(ids.map((i) => c.call("SET", `k${i}`, value(i))));
      results.forEach((r, j) => {
        if (r.status === "fulfilled") acked.push(ids[j] as number);
        else refused.push({ i: ids[j] as number, message: (r.reason as Error).message });
      });
    }
    assert.ok(refused.length > 0, "the disk filled up");
    assert.ok(acked.length > 0, "writes were stored before it did");
    for (const r of refused) assert.match(r.message, /No space left on the node's disk: this write was not stored .*retry once the node has space/);
    // the connection and the namespace still answer; a refused key is not there, an acked one is
    assert.equal(await c.call("PING"), "PONG");
    for (const r of refused) assert.equal(await c.call("GET", `k${r.i}`), null, `refused k${r.i} is not stored`);
    assert.equal(await c.call("DBSIZE"), acked.length);

    // restart the service (the data file is read back from disk): exactly the acknowledged writes
    c.disconnect();
    await zdb!.stop();
    c = await connect(await start());
    assert.equal(await c.call("DBSIZE"), acked.length);
    for (const i of acked) assert.deepEqual(await c.callBuffer("GET", `k${i}`), value(i), `acked k${i} intact`);
    for (const r of refused) assert.equal(await c.call("GET", `k${r.i}`), null);

    // space freed on the node: the namespace takes writes again
    rmSync(join(mnt, "filler"));
    const again = refused[0]!.i;
    assert.equal(await c.call("SET", `k${again}`, value(again)), `k${again}`);
    assert.deepEqual(await c.callBuffer("GET", `k${again}`), value(again));
  } finally {
    for (const c of clients) c.disconnect();
    await zdb?.stop().catch(() => undefined);
    spawnSync("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
