/**
 * Child process that serves one FUSE mount (the FUSE server must not share an event loop with a
 * reader of the mount, or both deadlock). Started by mountFlist with a JSON argument, or as a
 * standby (`--standby LOG PADDING`, mount-standby.ts) that gets it as {type:"start"} later; talks
 * over IPC: sends {type:"ready"}, answers {type:"metrics"}, unmounts on {type:"unmount"} or SIGTERM.
 *
 * @example
 * ```sh
 * node mount-worker.ts '{"flist":"/x.fl","mountpoint":"/mnt/x","cache":{"dir":"/c","maxBytes":1e9}}'
 * ```
 */
import { rmSync } from "node:fs";
import { createLogger } from "@zgrid/log";
import { FlistReader } from "../format/flist-reader.ts";
import { TAGS } from "../format/schema.ts";
import type { HttpLimits } from "../store/bounded-fetch.ts";
import { resolveStores } from "../store/resolve-stores.ts";
import { loadEgressModule } from "./mount-flist.ts";
import { BlockCache } from "./block-cache.ts";
import { BlockFetcher } from "./block-fetcher.ts";
import { FlistFs } from "./flist-fs.ts";
import { loadFuseBinding } from "./fuse-binding.ts";
import { STANDBY_ARG } from "./mount-standby.ts";

export interface WorkerOptions {
  flist: string;
  mountpoint: string;
  cache?: { dir: string; maxBytes: number };
  stores?: string[];
  readAhead?: number;
  parallel?: number;
  /** Outlive the parent: ignore the IPC channel closing (see MountOptions.persist). */
  persist?: boolean;
  /** Numeric http limits and an egress policy module (see MountOptions.http). */
  http?: HttpLimits & { egressModule?: string };
}

const log = createLogger("flist.mount-worker");

/**
 * The options: from the command line, or for a standby (mount-standby.ts) from its parent once a
 * mount is wanted. A standby whose parent goes away first exits and removes its log.
 */
function readOptions(): Promise<WorkerOptions> {
  if (process.argv[2] !== STANDBY_ARG) return Promise.resolve(JSON.parse(process.argv[2] ?? "{}") as WorkerOptions);
  const standbyLog = process.argv[3]!;
  loadFuseBinding(); // the addon's load is part of what a standby saves
  return new Promise((resolve) => {
    const orphaned = (): void => {
      rmSync(standbyLog, { force: true });
      process.exit(0);
    };
    const onMessage = (m: { type?: string; options?: WorkerOptions; title?: string }): void => {
      if (m.type !== "start" || !m.options || !m.title) return;
      process.off("message", onMessage);
      process.off("disconnect", orphaned);
      process.off("SIGTERM", orphaned);
      // the command line a cold worker would have (see mount-standby.ts)
      process.title = m.title;
      resolve(m.options);
    };
    process.on("message", onMessage);
    process.once("disconnect", orphaned);
    process.once("SIGTERM", orphaned);
    process.send?.({ type: "standby" });
  });
}

async function main(): Promise<void> {
  const options = await readOptions();
  const reader = FlistReader.open(options.flist);
  const { egressModule, ...limits } = options.http ?? {};
  const checkAddress = egressModule ? await loadEgressModule(egressModule) : undefined;
  const store = resolveStores(reader, options.stores, { ...limits, ...(checkAddress ? { checkAddress } : {}) });
  const cache = options.cache ? new BlockCache(options.cache) : undefined;
  const fetcher = new BlockFetcher({ store, cache, parallel: options.parallel, maxBlockSize: reader.blockSize() });
  const { Fuse, encoding } = loadFuseBinding();
  const fs = new FlistFs(reader, fetcher, { readAhead: options.readAhead, encoding });
  const fuse = new Fuse(options.mountpoint, fs.operations(), {
    // `use_ino`: stat shows the listing's inode numbers (hard links share one, FlistFs.identity);
    // fuse-native has no option for it, and libfuse splits -o on commas, so it rides on fsname.
    force: true, mkdir: true, fsname: "zgrid-flist,use_ino", subtype: "flist",
    // Read-only, verified content never changes: let the kernel keep pages and attributes.
    kernelCache: true, attrTimeout: 3600, entryTimeout: 3600,
  });
  const send = (msg: unknown): void => { if (process.send) process.send(msg); };
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    fuse.unmount((err) => {
      if (err) log.debug({ err: err.message }, "unmount failed (the parent lazy-unmounts)");
      reader.close();
      process.exit(0);
    });
  };
  fuse.mount((err) => {
    if (err) {
      send({ type: "error", message: err.message });
      process.exit(1);
    }
    send({ type: "ready" });
    const prefetch = reader.tag(TAGS.prefetch);
    if (prefetch) {
      const paths = prefetch.split("\n").filter(Boolean);
      fetcher.prefetch(paths.flatMap((p) => fs.blocksOf(Buffer.from(p).toString(encoding))));
    }
  });
  process.on("message", (msg: { type?: string; id?: number }) => {
    if (msg.type === "metrics") send({ type: "metrics", id: msg.id, metrics: { ...fetcher.metrics, cacheBytes: cache?.bytes ?? 0 } });
    if (msg.type === "unmount") stop();
  });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (!options.persist) process.on("disconnect", stop);
}

main().catch((e: unknown) => {
  if (process.send) process.send({ type: "error", message: (e as Error).message });
  process.exit(1);
});
