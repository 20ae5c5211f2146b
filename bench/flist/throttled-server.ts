/**
 * An HTTP server whose responses share one bandwidth budget (token bucket), to model a slow link:
 * serves a dir store's blocks under /blocks/<hh>/<id> and files of a directory under /files/<name>.
 *
 * @example
 * ```ts
 * const s = await startThrottledServer({ storeDir, filesDir, bytesPerSecond: 3e6 });
 * s.bytesServed; await s.close();
 * ```
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface ThrottledServer {
  url: string;
  bytesServed: number;
  requests: number;
  close(): Promise<void>;
}

export async function startThrottledServer(options: { storeDir: string; filesDir: string; bytesPerSecond: number }): Promise<ThrottledServer> {
  let nextFree = 0;
  const state = { bytesServed: 0, requests: 0 };
  // Every chunk waits for its share of the one link, whichever response it belongs to.
  const take = async (n: number): Promise<void> => {
    const now = performance.now();
    const start = Math.max(now, nextFree);
    nextFree = start + (n / options.bytesPerSecond) * 1000;
    const wait = nextFree - now;
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const parts = url.pathname.split("/").filter(Boolean);
    let file: string | undefined;
    if (parts[0] === "blocks" && parts.length === 3 && /^[0-9a-f]{2}$/.test(parts[1]!) && /^[0-9a-f]{64}$/.test(parts[2]!)) file = [join(options.storeDir, parts[2]!), join(options.storeDir, parts[1]!, parts[2]!)].find((f) => existsSync(f)) ?? join(options.storeDir, parts[2]!); // flat (rfs v2.0.x) or sharded
    if (parts[0] === "files" && parts.length === 2 && /^[\w.-]+$/.test(parts[1]!)) file = join(options.filesDir, parts[1]!);
    if (!file || !existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    state.requests++;
    res.writeHead(200, { "content-length": statSync(file).size });
    void (async () => {
      for await (const chunk of createReadStream(file, { highWaterMark: 16384 })) {
        await take((chunk as Buffer).length);
        state.bytesServed += (chunk as Buffer).length;
        if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
      }
      res.end();
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get bytesServed() { return state.bytesServed; },
    set bytesServed(v: number) { state.bytesServed = v; },
    get requests() { return state.requests; },
    set requests(v: number) { state.requests = v; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
