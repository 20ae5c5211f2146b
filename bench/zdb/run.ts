/**
 * zdb benchmark: SET/GET throughput and p50/p99 latency of the node's zdb service against Debian's
 * redis-server with the append-only file on (appendfsync everysec, its default, and always),
 * measured in the same run with the same client (ioredis), value size and requests in flight;
 * then the erasure-coded store (3+2 over five zdb services) write/read throughput against plain
 * 1 MiB SETs into one namespace.
 *
 *   node bench/zdb/run.ts [--requests 20000] [--value 1024] [--mib 64]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { ErasureStore, storageKeyOf } from "@zgrid/client";

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const REQUESTS = arg("requests", 20000);
const VALUE = arg("value", 1024);
const MIB = arg("mib", 64);
const IN_FLIGHT = 64;
const dir = mkdtempSync(join(tmpdir(), "zdb-bench-"));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startZdb(count: number, durable = true): Promise<{ ports: number[]; pid: number }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./server.ts", import.meta.url))],
    { env: { ...process.env, ZDB_BENCH: JSON.stringify({ dir: join(dir, `zdb-${children.length}`), count, durable }) }, stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    child.once("exit", (c) => reject(new Error(`zdb bench server exited with ${c}`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) resolve({ ports: (JSON.parse(line.slice(6)) as { ports: number[] }).ports, pid: child.pid! });
    });
  });
}

async function startRedis(fsync: "everysec" | "always"): Promise<{ port: number; pid: number }> {
  const port = await freePort();
  const d = join(dir, `redis-${fsync}`);
  rmSync(d, { recursive: true, force: true });
  const { mkdirSync } = await import("node:fs");
  mkdirSync(d);
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", d, "--appendonly", "yes", "--appendfsync", fsync, "--save", ""], { stdio: "ignore" });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on("error", () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return { port, pid: child.pid! };
    } catch {
      r.disconnect();
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  throw new Error("redis-server did not start (is redis-server installed?)");
}

interface Result { opsPerSec: number; p50: number; p99: number; serverUs: number; clientUs: number }

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Runs REQUESTS ops, IN_FLIGHT at a time; also the CPU each side spent per op (server = `serverPid`). */
async function run(client: Redis, serverPid: number, op: (i: number) => Promise<unknown>): Promise<Result> {
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const server0 = cpuOf(serverPid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const s = performance.now();
      await op(i);
      lat.push(performance.now() - s);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverUs = ((cpuOf(serverPid) - server0) * 1e6) / REQUESTS;
  lat.sort((a, b) => a - b);
  return { opsPerSec: REQUESTS / secs, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, serverUs, clientUs: (cpu.user + cpu.system) / REQUESTS };
}

async function setGet(port: number, serverPid: number, zdb: boolean): Promise<{ set: Result; get: Result }> {
  const c = new Redis({ port, host: "127.0.0.1", enableReadyCheck: false, maxRetriesPerRequest: 0 });
  if (zdb) await c.call("SELECT", "bench0", "pw");
  const value = randomBytes(VALUE);
  for (let i = 0; i < 500; i++) await c.call("SET", `warm${i}`, value);
  const set = await run(c, serverPid, (i) => c.call("SET", `key${i}`, value));
  // warm the GET path too (client and server JIT): the first measured phase of a run was otherwise the slowest
  await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, w) => {
    for (let i = w; i < 2000; i += IN_FLIGHT) await c.callBuffer("GET", `warm${i % 500}`);
  }));
  const get = await run(c, serverPid, (i) => c.callBuffer("GET", `key${i}`));
  c.disconnect();
  return { set, get };
}

const fmt = (r: Result) => `${Math.round(r.opsPerSec).toString().padStart(7)} ops/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  cpu/op server ${r.serverUs.toFixed(0).padStart(3)} µs client ${r.clientUs.toFixed(0).padStart(3)} µs`;

try {
  console.log(`zdb bench: ${REQUESTS} requests of ${VALUE} B values, ${IN_FLIGHT} in flight, ioredis client, loopback`);
  const durable = await startZdb(1, true);
  const zdb = await setGet(durable.ports[0]!, durable.pid, true);
  const lazy = await startZdb(1, false);
  const zdbLazy = await setGet(lazy.ports[0]!, lazy.pid, true);
  const everysec = await startRedis("everysec");
  const redisSec = await setGet(everysec.port, everysec.pid, false);
  const always = await startRedis("always");
  const redisAlways = await setGet(always.port, always.pid, false);
  const rows: Array<[string, { set: Result; get: Result }]> = [
    ["zdb (fdatasync per batch, acked = on disk)", zdb], ["zdb (no fsync)", zdbLazy],
    ["redis-server appendonly everysec", redisSec], ["redis-server appendonly always", redisAlways],
  ];
  for (const [name, r] of rows) console.log(`${name.padEnd(44)} SET ${fmt(r.set)} | GET ${fmt(r.get)}`);
  console.log(`ratio zdb/redis(always)   SET ${(zdb.set.opsPerSec / redisAlways.set.opsPerSec).toFixed(2)}x  GET ${(zdb.get.opsPerSec / redisAlways.get.opsPerSec).toFixed(2)}x  p99 SET ${(zdb.set.p99 / redisAlways.set.p99).toFixed(2)}x`);
  // GET is CPU-bound on both sides (no disk: the page cache); client and server share this machine's cores
  console.log(`cpu per GET: zdb server ${zdb.get.serverUs.toFixed(0)} µs vs redis-server ${redisAlways.get.serverUs.toFixed(0)} µs (${(zdb.get.serverUs / redisAlways.get.serverUs).toFixed(1)}x); the ioredis client ${zdb.get.clientUs.toFixed(0)} µs / ${redisAlways.get.clientUs.toFixed(0)} µs; p99 GET ${(zdb.get.p99 / redisAlways.get.p99).toFixed(2)}x`);
  console.log(`ratio zdb/redis(everysec) SET ${(zdb.set.opsPerSec / redisSec.set.opsPerSec).toFixed(2)}x  GET ${(zdb.get.opsPerSec / redisSec.get.opsPerSec).toFixed(2)}x  (zdb no-fsync vs everysec SET ${(zdbLazy.set.opsPerSec / redisSec.set.opsPerSec).toFixed(2)}x)`);

  // erasure-coded store vs plain 1 MiB SETs into one namespace (same durable zdb service)
  const { ports } = await startZdb(5, true);
  const data = randomBytes(MIB * 1024 * 1024);
  const targets = ports.map((port, i) => ({ host: "127.0.0.1", port, namespace: `bench${i}`, password: "pw" }));
  const store = new ErasureStore({ targets, k: 3, m: 2, storageKey: storageKeyOf(randomBytes(32)), blockSize: 1024 * 1024, concurrency: 8 });
  let t = performance.now();
  const manifest = await store.put(data);
  const ecWrite = MIB / ((performance.now() - t) / 1000);
  t = performance.now();
  const back = await store.read(manifest);
  const ecRead = MIB / ((performance.now() - t) / 1000);
  if (!back.equals(data)) throw new Error("erasure-coded read-back differs");
  const lost = new ErasureStore({ targets: targets.map((x, i) => (i < 2 ? { ...x, port: 1 } : x)), k: 3, m: 2, storageKey: storageKeyOf(randomBytes(32)), concurrency: 8 });
  t = performance.now();
  const degraded = await lost.read(manifest);
  const ecDegraded = MIB / ((performance.now() - t) / 1000);
  if (!degraded.equals(data)) throw new Error("degraded read-back differs");
  store.close();
  lost.close();
  const plain = new Redis({ port: ports[0]!, host: "127.0.0.1", enableReadyCheck: false, maxRetriesPerRequest: 0 });
  await plain.call("SELECT", "bench0", "pw");
  t = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let b = w; b < MIB; b += 8) await plain.call("SET", `plain${b}`, data.subarray(b * 1048576, (b + 1) * 1048576));
  }));
  const plainWrite = MIB / ((performance.now() - t) / 1000);
  t = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let b = w; b < MIB; b += 8) await plain.callBuffer("GET", `plain${b}`);
  }));
  const plainRead = MIB / ((performance.now() - t) / 1000);
  plain.disconnect();
  console.log(`erasure 3+2 over 5 zdb services, ${MIB} MiB: write ${ecWrite.toFixed(1)} MiB/s, read ${ecRead.toFixed(1)} MiB/s, read with 2 of 5 gone ${ecDegraded.toFixed(1)} MiB/s`);
  console.log(`baseline plain 1 MiB SETs into one namespace: write ${plainWrite.toFixed(1)} MiB/s, read ${plainRead.toFixed(1)} MiB/s; ratio erasure/plain write ${(ecWrite / plainWrite).toFixed(2)}x read ${(ecRead / plainRead).toFixed(2)}x (erasure stores 5/3 of the bytes, sealed)`);
} finally {
  for (const c of children) {
    c.stdin?.end();
    c.kill("SIGTERM");
  }
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
