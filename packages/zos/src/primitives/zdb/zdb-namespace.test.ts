import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { encodeRecord, OP_SET } from "./zdb-log.ts";
import { ZdbNamespace } from "./zdb-namespace.ts";

const MiB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), "zdb-ns-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("zdb namespace engine", () => {
  it("rebuilds the index from the data file on reopen, seq ids continue", async () => {
    const dir = join(root, "reopen");
    let ns = ZdbNamespace.open(dir, { name: "n", mode: "seq", sizeLimit: MiB });
    for (let i = 0; i < 5; i++) await ns.set(Buffer.alloc(0), Buffer.from(`v${i}`));
    const k4 = Buffer.from([4, 0, 0, 0]);
    await ns.del(k4);
    await ns.close();
    ns = ZdbNamespace.open(dir, { name: "n", mode: "seq", sizeLimit: MiB });
    assert.equal(ns.entries, 4);
    assert.equal(ns.get(Buffer.from([2, 0, 0, 0]))?.toString(), "v2");
    const next = await ns.set(Buffer.alloc(0), Buffer.from("v5"));
    assert.equal(next?.readUInt32LE(0), 5, "the id of the deleted key is not reused");
    await ns.close();
  });

  it("truncates a torn tail and keeps every whole record", async () => {
    const dir = join(root, "torn");
    const ns = ZdbNamespace.open(dir, { name: "n", mode: "user", sizeLimit: MiB });
    await ns.set(Buffer.from("a"), Buffer.from("alpha"));
    await ns.close();
    const file = join(dir, "data.log");
    const whole = statSync(file).size;
    const rec = encodeRecord({ op: OP_SET, key: Buffer.from("b"), value: Buffer.alloc(1000, 1), time: 1 });
    appendFileSync(file, rec.subarray(0, 700)); // a write cut short by a crash
    const again = ZdbNamespace.open(dir, { name: "n", mode: "user", sizeLimit: MiB });
    assert.equal(again.recovered.truncatedBytes, 700);
    assert.equal(statSync(file).size, whole);
    assert.equal(again.get(Buffer.from("a"))?.toString(), "alpha");
    assert.equal(again.exists(Buffer.from("b")), false);
    await again.set(Buffer.from("c"), Buffer.from("after repair"));
    await again.close();
    const third = ZdbNamespace.open(dir, { name: "n", mode: "user", sizeLimit: MiB });
    assert.equal(third.get(Buffer.from("c"))?.toString(), "after repair");
    await third.close();
  });

  it("compaction keeps the file bounded under overwrites and loses nothing", async () => {
    const dir = join(root, "compact");
    const ns = ZdbNamespace.open(dir, { name: "n", mode: "user", sizeLimit: MiB });
    for (let i = 0; i < 200; i++) await ns.set(Buffer.from(`k${i % 4}`), Buffer.alloc(64 * 1024, i));
    assert.ok(ns.diskSize <= 2 * MiB + 70 * 1024, `disk ${ns.diskSize} stays under 2 × limit`);
    await ns.close();
    const re = ZdbNamespace.open(dir, { name: "n", mode: "user", sizeLimit: MiB });
    assert.equal(re.entries, 4);
    assert.equal(re.get(Buffer.from("k3"))?.[0], 199);
    await re.close();
  });

  it("SIGKILL of a process holding the store mid-write: every acknowledged write survives, no torn record", async () => {
    const dir = join(root, "crash");
    const script = join(root, "writer.ts");
    const nsModule = fileURLToPath(new URL("./zdb-namespace.ts", import.meta.url));
    writeFileSync(script, `
      import { ZdbNamespace } from ${JSON.stringify(nsModule)};
      const ns = ZdbNamespace.open(${JSON.stringify(dir)}, { name: "n", mode: "user", sizeLimit: 1 << 30 });
      let i = 0;
      for (;;) {
        const batch = [];
        for (let j = 0; j < 8; j++, i++) {
          const k = "key" + i;
          batch.push(ns.set(Buffer.from(k), Buffer.alloc(20000 + (i % 7) * 1000, i % 251)).then(() => process.stdout.write(k + "\\n")));
        }
        await Promise.all(batch);
      }
    `);
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    const acked: string[] = [];
    let buf = "";
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        acked.push(...lines);
        if (acked.length >= 300 && !child.killed) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", () => resolve());
    });
    await new Promise((r) => child.once("close", r));
    assert.ok(acked.length >= 300, "the writer ran");
    const ns = ZdbNamespace.open(dir, { name: "n", mode: "user", sizeLimit: 1 << 30 });
    for (const k of acked) {
      const i = Number(k.slice(3));
      const v = ns.get(Buffer.from(k));
      assert.ok(v, `acknowledged ${k} survives`);
      assert.equal(v.length, 20000 + (i % 7) * 1000);
      assert.ok(v.every((b) => b === i % 251), `${k} intact`);
    }
    // whatever else is there is whole too (the index holds only checksummed records)
    for (let page = ns.scan(undefined, 1000); page.next; page = ns.scan(page.next, 1000)) {
      for (const it of page.items) {
        const i = Number(it.key.toString().slice(3));
        assert.ok(ns.get(it.key)?.every((b) => b === i % 251));
      }
    }
    await ns.close();
  });
});
