import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Redis } from "ioredis";
import { startZdb } from "./start-zdb.ts";

test("startZdb: port 0 is picked once and kept across restarts; data is served again after a restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "zdb-start-"));
  const store = { list: () => [], get: () => undefined };
  try {
    const first = await startZdb({ dataDir, sockDir: join(dataDir, "s"), listen: { host: "127.0.0.1", port: 0 }, announce: [], store });
    first.service.ensureNamespace({ name: "7-1-db", owner: 7, mode: "user", size: 1 << 20, password: "pw", public: false });
    const c = new Redis({ port: first.port, host: "127.0.0.1", enableReadyCheck: false, maxRetriesPerRequest: 0 });
    await c.call("SELECT", "7-1-db", "pw");
    await c.call("SET", "k", "kept");
    c.disconnect();
    await first.stop();
    const second = await startZdb({ dataDir, sockDir: join(dataDir, "s"), listen: { host: "127.0.0.1", port: 0 }, announce: [], store });
    assert.equal(second.port, first.port);
    const d = new Redis({ port: second.port, host: "127.0.0.1", enableReadyCheck: false, maxRetriesPerRequest: 0 });
    await d.call("SELECT", "7-1-db", "pw");
    assert.equal(await d.call("GET", "k"), "kept");
    d.disconnect();
    await second.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
