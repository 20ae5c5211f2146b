/**
 * Child process of the bus benchmark. Role from argv[2]:
 *  - relay:  a bus peer serving as circuit relay;
 *  - server: an HTTP keep-alive echo server, a bus peer (twin 2, direct) and a bus peer reachable
 *            only through the relay (twin 3), all answering "echo";
 *  - idle:   one bus peer doing nothing, to measure its resident memory;
 *  - idle-http: a bare Node HTTP server, for scale (RSS as started, and after the same one-off
 *            memory-reducing GC the bus runs 5 s after start).
 * node:http is imported only by the roles serving HTTP: importing it makes Node 22 load its HTTP
 * client (undici) too, ~7 MiB that the idle bus peer would otherwise be charged with.
 * Config (JSON) in ZGRID_BENCH_PEER: { records, relay? }. Prints `READY <json>` when serving.
 */
import type { AddressInfo } from "node:net";
import type { TwinRecord } from "@zgrid/bus";

const role = process.argv[2];
const config = JSON.parse(process.env.ZGRID_BENCH_PEER ?? "{}") as { records: TwinRecord[]; relay?: string; releaseStartupMemoryMs?: number };
// The bus is imported only by the roles that use it, so idle-http measures a bare Node process.
const loadBus = async () => {
  const [bus, twins, envelope] = await Promise.all([import("@zgrid/bus"), import("@zgrid/bus/testing"), import("@zgrid/bus")]);
  return { createBus: bus.createBus, directory: new bus.StaticTwinDirectory(config.records), testTwinKey: twins.testTwinKey, verifyRequestSignature: envelope.verifyRequestSignature };
};
const ready = (info: unknown): void => void process.stdout.write(`READY ${JSON.stringify(info)}\n`);
const echo = (p: unknown): unknown => p;
process.on("SIGTERM", () => process.exit(0));

if (role === "relay") {
  const { createBus, directory, testTwinKey } = await loadBus();
  const relay = await createBus({ key: testTwinKey(9), twinId: 9, directory, relay: { server: true } });
  ready({ addrs: relay.addresses() });
} else if (role === "idle") {
  const { createBus, directory, testTwinKey } = await loadBus();
  const bus = await createBus({ key: testTwinKey(4), twinId: 4, directory, ...(config.releaseStartupMemoryMs === undefined ? {} : { releaseStartupMemoryMs: config.releaseStartupMemoryMs }) });
  bus.handle("echo", echo);
  // createBus releases start-up memory 5 s after start (release-startup-memory.ts): measure after.
  await new Promise((r) => setTimeout(r, 7_000));
  globalThis.gc?.();
  const m = process.memoryUsage();
  ready({ rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal });
} else if (role === "idle-http") {
  const { createServer } = await import("node:http");
  const http = createServer((_req, res) => res.end("{}"));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  await new Promise((r) => setTimeout(r, 3_000));
  globalThis.gc?.();
  const plain = process.memoryUsage().rss;
  // The same one-off memory-reducing GC the bus does, for a like-for-like baseline.
  (globalThis.gc as unknown as (o: object) => void)({ type: "major", execution: "sync", flavor: "last-resort" });
  ready({ rssBytes: plain, rssAfterReleaseBytes: process.memoryUsage().rss });
} else if (role === "server") {
  const { createBus, directory, testTwinKey, verifyRequestSignature } = await loadBus();
  const limits = { rate: { ratePerSecond: 1e9, burst: 1e9 } };
  const direct = await createBus({ key: testTwinKey(2), twinId: 2, directory, limits });
  direct.handle("echo", echo);
  const relayed = await createBus({ key: testTwinKey(3), twinId: 3, directory, listen: [], relay: { reserveOn: [config.relay!] }, limits });
  relayed.handle("echo", echo);
  while (!relayed.addresses().some((a) => a.includes("/p2p-circuit"))) await new Promise((r) => setTimeout(r, 50));
  const clientKey = testTwinKey(1).publicKey;
  const { createServer } = await import("node:http");
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url === "/cpu") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(process.cpuUsage()));
        return;
      }
      if (req.url === "/signed") {
        // Like for like: the same signature check the bus does, on the same envelope bytes.
        const signature = Buffer.from(String(req.headers["x-signature"]), "hex");
        if (!verifyRequestSignature(body, signature, clientKey)) {
          res.writeHead(401).end();
          return;
        }
        const envelope = JSON.parse(body.toString()) as { payload: unknown };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(envelope.payload));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(JSON.parse(body.toString())));
    });
  });
  http.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  ready({ direct: direct.addresses(), httpPort: (http.address() as AddressInfo).port });
}
