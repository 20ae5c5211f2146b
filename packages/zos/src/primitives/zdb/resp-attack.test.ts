// The RESP framing guard in front of redis-parser, attacked through a real zdb service: deep
// nesting and huge declared lengths from several connections at once, while a well-behaved
// client keeps writing and reading.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { ZdbService } from "./zdb-service.ts";

const MiB = 1024 * 1024;

describe("zdb service under RESP framing attacks", () => {
  it("deep nesting and huge declared lengths are refused at their header, before parsing; the service stays up and another client is unaffected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zdb-framing-"));
    const zdb = new ZdbService({ dir });
    const port = await zdb.start({ host: "127.0.0.1", port: 0 });
    zdb.ensureNamespace({ name: "7-1-a", owner: 7, mode: "user", size: 16 * MiB, password: "pw", public: false });
    const good = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
    /** One attack connection: writes `bytes` (then `trickle` every 20 ms, as a body that never ends), resolves with what it got once closed. */
    const attack = (bytes: Buffer | string, trickle?: string) => new Promise<{ got: string; closed: boolean }>((resolve) => {
      const s = connect(port, "127.0.0.1");
      let got = "";
      const timer = trickle ? setInterval(() => s.writable && s.write(trickle), 20) : undefined;
      const giveUp = setTimeout(() => {
        s.destroy();
        resolve({ got, closed: false });
      }, 10_000);
      s.on("data", (d: Buffer) => (got += d.toString()));
      s.on("error", () => undefined);
      s.on("close", () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ got, closed: true });
      });
      s.write(bytes);
    });
    try {
      await good.connect();
      assert.equal(await good.call("SELECT", "7-1-a", "pw"), "OK");
      // the well-behaved client works all through the attacks, each reply checked
      let stop = false;
      let rounds = 0;
      const steady = (async () => {
        while (!stop) {
          const key = `k${rounds % 50}`;
          const v = `value-${rounds}`;
          assert.equal(String(await good.call("SET", key, v)), key); // 0-db: SET answers the key
          assert.equal(String(await good.call("GET", key)), v);
          rounds++;
        }
      })().then(() => undefined, (e: unknown) => e);
      const rssBefore = process.memoryUsage().rss;
      const deep = Buffer.from("*1\r\n".repeat(1_000_000)); // 4 MB of nesting, one million levels
      const attacks = await Promise.all([
        ...Array.from({ length: 8 }, () => attack(deep)),
        // nesting after a valid request's first element: still depth 2 at its header
        attack("*2\r\n$3\r\nGET\r\n" + "*1\r\n".repeat(100_000)),
        // huge declared lengths, the bodies trickling in: refused at the header, not after 8 GB
        attack("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8589934592\r\n", "x".repeat(4096)),
        attack("*4294967295\r\n", "$1\r\nx\r\n"),
        attack("*1\r\n$-5\r\n"),
        // a header that never ends (1 MiB of digits)
        attack("*" + "9".repeat(MiB)),
      ]);
      for (const [i, a] of attacks.entries()) assert.ok(a.closed, `attack ${i} closed by the server`);
      for (const a of attacks.slice(0, 9)) assert.match(a.got, /^-ERR protocol: nested arrays: at most depth 1\r\n$/);
      assert.match(attacks[9]!.got, /^-ERR protocol: a bulk string of 8589934592 bytes: 0 to \d+ allowed/);
      assert.match(attacks[10]!.got, /^-ERR protocol: an array of 4294967295 elements: 1 to 64 allowed/);
      assert.match(attacks[11]!.got, /^-ERR protocol: a bulk string of -5 bytes/);
      assert.match(attacks[12]!.got, /^-ERR protocol: a header line longer than 32 bytes/);
      assert.ok(process.memoryUsage().rss - rssBefore < 256 * MiB, `memory bounded: +${(process.memoryUsage().rss - rssBefore) / MiB} MiB`);
      stop = true;
      assert.equal(await steady, undefined, "every reply to the other client was right");
      assert.ok(rounds > 0, "the other client was served during the attacks");
      assert.equal(await good.call("PING"), "PONG");
      assert.equal(await good.call("DBSIZE"), Math.min(rounds, 50));
    } finally {
      good.disconnect();
      await zdb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
