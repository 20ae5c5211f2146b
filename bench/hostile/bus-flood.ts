/**
 * The bus part of bench/hostile alone, three processes on loopback (no chain, no VMs, no lock):
 * a node stand-in (twin 1) serving `stats` (cheap) and `deploy` (always refused, as zosd refuses
 * junk), an attacking twin (2) keeping 32 refused `deploy` requests in flight, and a victim twin (3)
 * measuring `stats` p99 before and during the flood. Prints p50/p99 idle vs attacked, the ratio
 * (goal ≤ 2x) and how many requests the node answered per second for the attacker.
 *
 *   node bench/hostile/bus-flood.ts [--samples 300] [--rate 1000]
 * `--rate`: the node's per-twin rate limit (requests/s; the bus default is 1000).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createBus, StaticTwinDirectory } from "@zgrid/bus";
import { testTwinKey, testTwinRecord } from "@zgrid/bus/testing";
import { BaseError } from "@zgrid/types";

/** What zosd answers a junk deployment: a typed refusal (no stack logged). */
class Refused extends BaseError {
  override readonly code: string = "VALIDATION";
}

const { values } = parseArgs({ options: { role: { type: "string", default: "main" }, port: { type: "string", default: "0" }, samples: { type: "string", default: "300" }, rate: { type: "string", default: "1000" } } });
const PORT = Number(values.port);

function directory(nodePort: number): StaticTwinDirectory {
  const d = new StaticTwinDirectory();
  d.set(testTwinRecord(1, [`/ip4/127.0.0.1/tcp/${nodePort}`]));
  d.set(testTwinRecord(2));
  d.set(testTwinRecord(3));
  return d;
}

if (values.role === "node") {
  const bus = await createBus({ key: testTwinKey(1), twinId: 1, directory: directory(PORT), listen: [`/ip4/127.0.0.1/tcp/${PORT}`], limits: { rate: { ratePerSecond: Number(values.rate), burst: 2 * Number(values.rate) } } });
  let refused = 0;
  bus.handle("stats", () => ({ cru: 2, mru: 4 << 30, at: Date.now() }));
  bus.handle("deploy", () => {
    refused++;
    throw new Refused("workloads[0].type: unknown workload type 'nope'");
  });
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) if (line === "count") process.stdout.write(`${refused}\n`);
  await bus.stop();
  process.exit(0);
} else if (values.role === "attacker") {
  const bus = await createBus({ key: testTwinKey(2), twinId: 2, directory: directory(PORT) });
  const junk = { version: 0, workloads: [{ name: "x".repeat(200), type: "nope" }] };
  process.stdout.write("ready\n");
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (;;) await bus.request(1, "deploy", junk, { timeout: 30_000 }).catch(() => undefined);
  }));
} else if (values.role === "victim") {
  const bus = await createBus({ key: testTwinKey(3), twinId: 3, directory: directory(PORT) });
  await bus.request(1, "stats", {});
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) {
    const n = Number(/^measure (\d+)$/.exec(line)?.[1] ?? 0);
    if (!n) break;
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await bus.request(1, "stats", {}, { timeout: 30_000 });
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({ p50: ms[Math.floor(n / 2)], p99: ms[Math.min(n - 1, Math.floor(n * 0.99))] })}\n`);
  }
  await bus.stop();
  process.exit(0);
} else {
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const start = (role: string) => {
    const c = spawn(process.execPath, [import.meta.filename, "--role", role, "--port", String(port), "--rate", values.rate!], { stdio: ["pipe", "pipe", "inherit"] });
    const it = createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
    return { c, next: async () => String((await it.next()).value ?? "") };
  };
  const node = start("node");
  const victim = { c: undefined as ReturnType<typeof start>["c"] | undefined, next: async () => "" };
  const attacker = { c: undefined as ReturnType<typeof start>["c"] | undefined };
  try {
    await node.next();
    const v = start("victim");
    victim.c = v.c;
    victim.next = v.next;
    await v.next();
    const measure = async () => {
      v.c.stdin!.write(`measure ${values.samples}\n`);
      return JSON.parse(await v.next()) as { p50: number; p99: number };
    };
    const idle = await measure();
    const a = start("attacker");
    attacker.c = a.c;
    await a.next();
    await new Promise((r) => setTimeout(r, 2000));
    node.c.stdin!.write("count\n");
    const before = Number(await node.next());
    const t0 = performance.now();
    const attacked = await measure();
    node.c.stdin!.write("count\n");
    const rate = (Number(await node.next()) - before) / ((performance.now() - t0) / 1000);
    console.log(`bus only, victim stats p50/p99 idle ${idle.p50.toFixed(1)}/${idle.p99.toFixed(1)} ms; under another twin's flood ${attacked.p50.toFixed(1)}/${attacked.p99.toFixed(1)} ms; p99 ratio ${(attacked.p99 / idle.p99).toFixed(2)}x (goal <= 2x); the node answered the attacker's refused requests at ${Math.round(rate)}/s (rate limit ${values.rate}/s); ${values.samples} samples`);
  } finally {
    for (const c of [node.c, victim.c, attacker.c]) c?.kill("SIGKILL");
  }
}
