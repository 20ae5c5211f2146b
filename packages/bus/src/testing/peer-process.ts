/**
 * A bus peer in its own process, for tests that kill and restart a peer. Config comes as JSON in
 * the ZGRID_BUS_PEER env var: { twinId, listen, records, limits? }. Prints `READY <json>` once
 * started; serves echo, slow-echo ({ ms, value }), pid and health (RSS after a GC when exposed,
 * and the bus's guard metrics).
 *
 * @example
 * ```ts
 * spawn(process.execPath, [fileURLToPath(new URL("./peer-process.ts", import.meta.url))], { env: { ...process.env, ZGRID_BUS_PEER: JSON.stringify(cfg) } });
 * ```
 */
import { createBus, type BusOptions } from "../create-bus.ts";
import { StaticTwinDirectory } from "../directory/static-twin-directory.ts";
import type { TwinRecord } from "../directory/twin-directory.ts";
import { testTwinKey } from "./test-twins.ts";

interface PeerProcessConfig {
  twinId: number;
  listen: string[];
  records: TwinRecord[];
  limits?: BusOptions["limits"];
}

const config = JSON.parse(process.env.ZGRID_BUS_PEER ?? "{}") as PeerProcessConfig;
const bus = await createBus({ key: testTwinKey(config.twinId), twinId: config.twinId, directory: new StaticTwinDirectory(config.records), listen: config.listen, ...(config.limits ? { limits: config.limits } : {}) });
bus.handle("echo", (p: unknown) => p);
bus.handle("pid", () => process.pid);
bus.handle("health", () => {
  globalThis.gc?.();
  return { rssBytes: process.memoryUsage().rss, guard: bus.metrics().guard };
});
bus.handle("slow-echo", async (p: { ms: number; value: unknown }) => {
  await new Promise((r) => setTimeout(r, p.ms));
  return p.value;
});
process.on("SIGTERM", () => void bus.stop().then(() => process.exit(0)));
process.stdout.write(`READY ${JSON.stringify({ addrs: bus.addresses(), peerId: bus.peerId })}\n`);
