/**
 * Prometheus metrics for a running hub, without touching its request handler: `attachHubMetrics`
 * puts a thin listener in front of the hub's own one that answers `GET /metrics` and counts the
 * rest — block reads/writes (hits and misses), flist requests, bytes served and received — and
 * reports the block store's size (walked at most once a minute, in the background).
 *
 * @example
 * ```ts
 * const hub = await startHub({ dataDir });
 * attachHubMetrics(hub, { dataDir });          // GET ${hub.url}/metrics
 * ```
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { opendir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Hub } from "./hub-server.ts";

interface Counters { requests: Map<string, number>; bytesOut: number; bytesIn: number; store: { blocks: number; bytes: number; at: number; walking: boolean } }

/** Counts blocks and bytes under `dir` (two-level fan-out of the dir store), at most `cap` files. */
export async function walkStore(dir: string, cap = 1_000_000): Promise<{ blocks: number; bytes: number }> {
  let blocks = 0, bytes = 0;
  const d1 = await opendir(dir).catch(() => undefined);
  if (!d1) return { blocks, bytes };
  for await (const a of d1) {
    if (!a.isDirectory()) continue;
    for await (const b of await opendir(join(dir, a.name))) {
      if (!b.isFile() || ++blocks > cap) continue;
      bytes += (await stat(join(dir, a.name, b.name)).catch(() => ({ size: 0 }))).size;
    }
  }
  return { blocks: Math.min(blocks, cap), bytes };
}

export function hubMetricsText(c: Counters): string {
  const lines = ["# HELP zgrid_hub_requests_total Hub requests by kind and outcome.", "# TYPE zgrid_hub_requests_total counter"];
  for (const [k, v] of [...c.requests].sort()) lines.push(`zgrid_hub_requests_total{${k}} ${v}`);
  lines.push("# HELP zgrid_hub_bytes_sent_total Bytes sent in response bodies.", "# TYPE zgrid_hub_bytes_sent_total counter", `zgrid_hub_bytes_sent_total ${c.bytesOut}`);
  lines.push("# HELP zgrid_hub_bytes_received_total Bytes received in request bodies.", "# TYPE zgrid_hub_bytes_received_total counter", `zgrid_hub_bytes_received_total ${c.bytesIn}`);
  lines.push("# HELP zgrid_hub_store_blocks Blocks in the hub's store (refreshed at most once a minute).", "# TYPE zgrid_hub_store_blocks gauge", `zgrid_hub_store_blocks ${c.store.blocks}`);
  lines.push("# HELP zgrid_hub_store_bytes Bytes in the hub's store.", "# TYPE zgrid_hub_store_bytes gauge", `zgrid_hub_store_bytes ${c.store.bytes}`);
  return lines.join("\n") + "\n";
}

export function attachHubMetrics(hub: Pick<Hub, "server">, o: { blocksDir: string }): { text(): string } {
  const c: Counters = { requests: new Map(), bytesOut: 0, bytesIn: 0, store: { blocks: 0, bytes: 0, at: 0, walking: false } };
  const refresh = () => {
    if (c.store.walking || Date.now() - c.store.at < 60_000) return;
    c.store.walking = true;
    void walkStore(o.blocksDir).then((s) => { c.store.blocks = s.blocks; c.store.bytes = s.bytes; }).finally(() => { c.store.at = Date.now(); c.store.walking = false; });
  };
  refresh();
  const inner = hub.server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  hub.server.removeAllListeners("request");
  hub.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "GET" && path === "/metrics") {
      refresh();
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(hubMetricsText(c));
      return;
    }
    const kind = path.startsWith("/blocks/") ? (req.method === "PUT" ? "block_put" : "block_get") : path.startsWith("/flists") ? "flist" : "other";
    req.on("data", (chunk: Buffer) => { c.bytesIn += chunk.length; });
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const count = (chunk: unknown) => { if (chunk && typeof chunk !== "function") c.bytesOut += Buffer.byteLength(chunk as string | Buffer); };
    res.write = ((chunk: unknown, ...rest: unknown[]) => { count(chunk); return write(chunk, ...rest); }) as typeof res.write;
    const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => { count(chunk); return end(chunk, ...rest); }) as typeof res.end;
    res.once("finish", () => {
      const key = `kind="${kind}",status="${res.statusCode < 400 ? "ok" : res.statusCode === 404 ? "miss" : "error"}"`;
      c.requests.set(key, (c.requests.get(key) ?? 0) + 1);
    });
    for (const h of inner) h.call(hub.server, req, res);
  });
  return { text: () => hubMetricsText(c) };
}
