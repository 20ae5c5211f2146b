import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { ZdbService } from "./zdb-service.ts";

const run = promisify(execFile);
const MiB = 1024 * 1024;

describe("zdb service against real Redis clients", () => {
  const dir = mkdtempSync(join(tmpdir(), "zdb-svc-"));
  let zdb: ZdbService;
  let port = 0;
  const sock = join(dir, "twin7.sock");
  const clients: Redis[] = [];
  const client = (o: { path?: string } = {}) => {
    const c = new Redis({ ...(o.path ? { path: o.path } : { port, host: "127.0.0.1" }), lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
    clients.push(c);
    return c;
  };

  before(async () => {
    zdb = new ZdbService({ dir: join(dir, "data") });
    port = await zdb.start({ host: "127.0.0.1", port: 0 });
    await zdb.listenPrivate(sock, 7);
    zdb.ensureNamespace({ name: "7-1-user", owner: 7, mode: "user", size: MiB, password: "s3cret", public: false });
    zdb.ensureNamespace({ name: "7-1-seq", owner: 7, mode: "seq", size: MiB, password: "", public: false });
    zdb.ensureNamespace({ name: "7-1-pub", owner: 7, mode: "user", size: MiB, password: "pw", public: true });
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await zdb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("user mode: SET/GET/EXISTS/DEL/SCAN/DBSIZE/NSINFO with the password", async () => {
    const c = client();
    await c.connect();
    assert.equal(await c.call("SELECT", "7-1-user", "s3cret"), "OK");
    assert.equal(await c.call("SET", "alpha", "one"), "alpha");
    assert.equal(await c.call("SET", "alpha", "one"), null, "same value again: nil, nothing written (0-db)");
    assert.equal(await c.call("SET", "beta", Buffer.alloc(1000, 1)), "beta");
    assert.equal(await c.call("GET", "alpha"), "one");
    assert.equal(await c.call("EXISTS", "beta"), 1);
    assert.equal(await c.call("DBSIZE"), 2);
    const [cursor, items] = (await c.call("SCAN")) as [string, Array<[string, number, number]>];
    assert.equal(cursor, "beta");
    assert.deepEqual(items.map((i) => [i[0], i[1]]), [["alpha", 3], ["beta", 1000]]);
    await assert.rejects(c.call("SCAN", cursor), /No more data/);
    assert.equal(await c.call("DEL", "alpha"), "OK");
    await assert.rejects(c.call("DEL", "alpha"), /Key not found/);
    assert.equal(await c.call("GET", "alpha"), null);
    const info = (await c.call("NSINFO", "7-1-user")) as string;
    assert.match(info, /entries: 1\n/);
    assert.match(info, /data_size_bytes: 1000\n/);
    assert.match(info, /data_limits_bytes: 1048576\n/);
    assert.match(info, /mode: userkey\n/);
    assert.match(info, /password: yes\n/);
  });

  it("seq mode: SET with an empty key returns sequential 4-byte ids; update only existing ids", async () => {
    const c = client({ path: sock }); // the owner's private network: no password set, read-write
    await c.connect();
    await c.call("SELECT", "7-1-seq");
    const k0 = (await c.callBuffer("SET", "", "first")) as Buffer;
    const k1 = (await c.callBuffer("SET", "", "second")) as Buffer;
    assert.deepEqual([k0.readUInt32LE(0), k1.readUInt32LE(0)], [0, 1]);
    assert.equal(((await c.callBuffer("GET", k1)) as Buffer).toString(), "second");
    assert.deepEqual(await c.callBuffer("SET", k0, "changed"), k0);
    await assert.rejects(c.call("SET", Buffer.from([9, 0, 0, 0]), "x"), /only update authorized/);
    await assert.rejects(c.call("SET", "abc", "x"), /only update authorized/);
    assert.match((await c.call("NSINFO")) as string, /mode: sequential/);
  });

  it("wrong or missing password is refused; public is read-only without it", async () => {
    const c = client();
    await c.connect();
    await assert.rejects(c.call("SELECT", "7-1-user", "wrong"), /Access denied/);
    await assert.rejects(c.call("SELECT", "7-1-user"), /protected and private/);
    await assert.rejects(c.call("GET", "beta"), /No namespace selected/);
    await assert.rejects(c.call("SELECT", "7-1-seq"), /protected and private/, "no password, but not the owner's network: refused");
    assert.equal(await c.call("SELECT", "7-1-pub"), "OK");
    assert.equal(await c.call("GET", "nothing"), null);
    await assert.rejects(c.call("SET", "k", "v"), /read-only/);
    assert.equal(await c.call("SELECT", "7-1-pub", "pw"), "OK");
    assert.equal(await c.call("SET", "k", "v"), "k");
    assert.deepEqual(await c.call("NSLIST"), ["7-1-pub"], "only what this connection may see");
  });

  it("the size limit refuses writes past it with a clear error", async () => {
    const c = client();
    await c.connect();
    await c.call("SELECT", "7-1-user", "s3cret");
    const big = Buffer.alloc(400 * 1024, 7);
    await c.call("SET", "a", big);
    await c.call("SET", "b", big);
    await assert.rejects(c.call("SET", "c", big), /No space left on this namespace.*limit of 1048576 bytes/);
    await c.call("DEL", "b");
    assert.equal(await c.call("SET", "c", big), "c", "room again after a delete");
  });

  it("redis-cli (Debian) speaks to it", async () => {
    const cli = (...a: string[]) => run("redis-cli", ["-p", String(port), ...a]).then((r) => r.stdout.trim());
    assert.equal(await cli("PING"), "PONG");
    // one connection: redis-cli reads commands from stdin in order
    const out = await new Promise<string>((resolve, reject) => {
      const p = execFile("redis-cli", ["-p", String(port)], (e, stdout) => (e ? reject(e) : resolve(stdout)));
      p.stdin?.end("SELECT 7-1-user s3cret\nSET fromcli hello\nGET fromcli\nSELECT 7-1-user nope\n");
    });
    assert.deepEqual(out.trim().split("\n"), ["OK", "fromcli", "hello", "Access denied: wrong password for this namespace"]);
  });

  it("a client that sends its requests and half-closes (printf | nc) still gets every reply, writes included", async () => {
    const resp = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join("")}`;
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      let out = "";
      s.on("data", (d) => (out += d.toString()));
      s.on("close", () => resolve(out));
      s.on("error", reject);
      // requests, then EOF at once: the SET's reply comes after its fdatasync, after the EOF
      s.end(resp("SELECT", "7-1-user", "s3cret") + resp("SET", "halfclose", "v1") + resp("GET", "halfclose") + resp("SET", "halfclose2", "v2"));
    });
    assert.equal(got, "+OK\r\n$9\r\nhalfclose\r\n$2\r\nv1\r\n$10\r\nhalfclose2\r\n");
  });

  it("hostile input: oversized bulk, huge arrays, nesting and garbage close the connection, the service stays up", async () => {
    const raw = (bytes: string | Buffer) => new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1");
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(got));
      s.write(bytes);
      setTimeout(() => s.destroy(), 2000);
    });
    assert.match(await raw("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$999999999\r\n" + "x".repeat(65536)), /-ERR protocol: a bulk string of 999999999 bytes: 0 to \d+ allowed/);
    assert.match(await raw("*2000000000\r\n$4\r\nPING\r\n"), /-ERR protocol: an array of 2000000000 elements: 1 to 64 allowed/);
    assert.match(await raw("*1\r\n*1\r\n$4\r\nPING\r\n"), /-ERR protocol: nested arrays: at most depth 1/);
    assert.match(await raw("GARBAGE\r\n"), /-ERR protocol/);
    // the service is unharmed
    const c = client();
    await c.connect();
    assert.equal(await c.call("PING"), "PONG");
  });
});

describe("zdb service limits", () => {
  it("a namespace refuses connections past its cap; others are unaffected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zdb-cap-"));
    const zdb = new ZdbService({ dir, limits: { connectionsPerNamespace: 2 } });
    const port = await zdb.start({ host: "127.0.0.1", port: 0 });
    zdb.ensureNamespace({ name: "7-1-a", owner: 7, mode: "user", size: MiB, password: "pw", public: false });
    zdb.ensureNamespace({ name: "7-1-b", owner: 7, mode: "user", size: MiB, password: "pw", public: false });
    const cs = Array.from({ length: 4 }, () => new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null }));
    try {
      for (const c of cs) await c.connect();
      assert.equal(await cs[0]!.call("SELECT", "7-1-a", "pw"), "OK");
      assert.equal(await cs[1]!.call("SELECT", "7-1-a", "pw"), "OK");
      await assert.rejects(cs[2]!.call("SELECT", "7-1-a", "pw"), /too many connections on this namespace/);
      assert.equal(await cs[3]!.call("SELECT", "7-1-b", "pw"), "OK");
      cs[0]!.disconnect();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await cs[2]!.call("SELECT", "7-1-a", "pw"), "OK", "a slot frees when a connection closes");
    } finally {
      for (const c of cs) c.disconnect();
      await zdb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hostile connections: deep nesting, past the listener's cap, idle and never-reading clients are bounded; the service stays up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zdb-hostile-"));
    const zdb = new ZdbService({ dir, limits: { connectionsPerListener: 8, idleMs: 1500, maxQueued: 16 } });
    const port = await zdb.start({ host: "127.0.0.1", port: 0 });
    zdb.ensureNamespace({ name: "7-1-a", owner: 7, mode: "user", size: 16 * MiB, password: "pw", public: false });
    const sockets: Socket[] = [];
    const open = () => new Promise<Socket>((resolve) => {
      const s = connect(port, "127.0.0.1", () => resolve(s));
      s.on("error", () => undefined);
      s.resume(); // reads (and drops) what it gets, so it sees the server closing
      sockets.push(s);
    });
    const closedWithin = (s: Socket, ms: number) => new Promise<boolean>((resolve) => {
      if (s.closed) return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      s.once("close", () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    const ping = async () => {
      const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
      try {
        await c.connect();
        return await c.call("PING");
      } finally {
        c.disconnect();
      }
    };
    try {
      // 100 000 nested arrays in one chunk: refused by the framing guard at the second header,
      // before the parser sees any of it; the connection gets the reason and is closed
      const deep = await open();
      let got = "";
      deep.on("data", (d: Buffer) => (got += d.toString()));
      deep.write("*1\r\n".repeat(100_000));
      assert.ok(await closedWithin(deep, 5000), "closed");
      assert.match(got, /^-ERR protocol: nested arrays: at most depth 1/);

      // past the listener's cap (8): the extra connections are closed at once, the first 8 are served
      const held = await Promise.all(Array.from({ length: 8 }, open));
      const extra = await Promise.all(Array.from({ length: 4 }, open));
      for (const s of extra) assert.ok(await closedWithin(s, 3000), "a connection past the cap is closed");
      assert.equal(held.filter((s) => !s.closed).length, 8);
      // idle connections are closed after idleMs; then there is room again
      for (const s of held) assert.ok(await closedWithin(s, 5000), "an idle connection is closed");
      assert.equal(await ping(), "PONG");

      // a client that pipelines GETs of a 4 MiB value and never reads: the server stops reading
      // it (bounded queue, waits for the socket to drain) instead of buffering gigabytes
      const w = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
      await w.connect();
      await w.call("SELECT", "7-1-a", "pw");
      await w.call("SET", "big", Buffer.alloc(4 * MiB, 3));
      w.disconnect();
      const hog = await open();
      hog.pause(); // never reads
      const req = "*2\r\n$6\r\nSELECT\r\n$5\r\n7-1-a\r\n$2\r\npw\r\n".replace("*2", "*3") + "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(2000); // 8 GB of replies asked for
      hog.write(req);
      await new Promise((r) => setTimeout(r, 1000));
      const before = process.memoryUsage().rss;
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(process.memoryUsage().rss - before < 64 * MiB, "memory does not grow with the replies asked for");
      assert.ok(process.memoryUsage().rss < 1024 * MiB, `rss ${process.memoryUsage().rss}`);
      assert.equal(await ping(), "PONG", "others are served meanwhile");
      hog.destroy();
    } finally {
      for (const s of sockets) s.destroy();
      await zdb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
