/**
 * The explorer: indexer + liveness checker + HTTP API/dashboard in one object.
 *
 * @example
 * ```ts
 * const explorer = await startExplorer({ db: "sqlite:/var/lib/zgrid/explorer.db", rpcUrl, addresses, bus, port: 8080 });
 * console.log(explorer.url);          // http://127.0.0.1:8080  (dashboard, /api/v1/…, /metrics)
 * await explorer.stop();
 * ```
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bus } from "@zgrid/bus";
import type { GridAddresses } from "@zgrid/chain";
import { startApiServer, type ApiServer } from "./api/server.ts";
import type { StatusWindows } from "./api/queries.ts";
import { openDb, type Db } from "./db/db.ts";
import { migrate } from "./db/schema.ts";
import { rpcChainSource, type ChainSource } from "./indexer/chain-source.ts";
import { Indexer } from "./indexer/indexer.ts";
import { LivenessChecker } from "./liveness/liveness.ts";

export interface ExplorerOptions {
  /** `sqlite:PATH` (default `:memory:`) or a `postgres://` URL, or an open Db. */
  db?: string | Db;
  rpcUrl?: string;
  addresses: GridAddresses;
  /** A chain source other than the RPC one (tests). */
  source?: ChainSource;
  /** The explorer's own twin on the bus; without it no node is ever `up`. */
  bus?: Pick<Bus, "request">;
  port?: number;
  host?: string;
  confirmations?: number;
  indexPollMs?: number;
  /** How often nodes are asked for statistics (default 15 s). */
  livenessIntervalMs?: number;
  /** How long one node may take to answer (default 4 s). */
  livenessTimeoutMs?: number;
  /** Up = answered within liveWindowMs (default 2 × (interval + timeout)) and uptime on chain within uptimeWindowSec (default 2 h). */
  windows?: Partial<StatusWindows>;
  /** Built dashboard; default packages/explorer/web/dist when it exists. */
  webDir?: string;
}

export interface Explorer { url: string; db: Db; indexer: Indexer; liveness: LivenessChecker | undefined; api: ApiServer; stop(): Promise<void> }

export const DEFAULT_WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "web", "dist");

export async function startExplorer(o: ExplorerOptions): Promise<Explorer> {
  const db = typeof o.db === "object" ? o.db : await openDb(o.db ?? "sqlite::memory:");
  await migrate(db);
  const intervalMs = o.livenessIntervalMs ?? 15_000;
  const timeoutMs = o.livenessTimeoutMs ?? 4_000;
  const windows: StatusWindows = { liveWindowMs: o.windows?.liveWindowMs ?? 2 * (intervalMs + timeoutMs), uptimeWindowSec: o.windows?.uptimeWindowSec ?? 7_200 };
  const ref: { api?: ApiServer } = {};
  const indexer = new Indexer({
    db, source: o.source ?? rpcChainSource({ rpcUrl: o.rpcUrl, addresses: o.addresses }), confirmations: o.confirmations, pollMs: o.indexPollMs,
    onProgress: (p) => { if (p.events > 0 || p.rewoundTo !== undefined) ref.api?.broadcast("index", { indexed: p.indexed.toString(), events: p.events, rewound: p.rewoundTo !== undefined }); },
  });
  const liveness = o.bus ? new LivenessChecker({ db, bus: o.bus, intervalMs, timeoutMs, onChange: (changed) => ref.api?.broadcast("nodes", { changed }) }) : undefined;
  const webDir = o.webDir ?? (existsSync(join(DEFAULT_WEB_DIR, "index.html")) ? DEFAULT_WEB_DIR : undefined);
  const api = await startApiServer({
    db, windows, port: o.port, host: o.host, webDir,
    indexStatus: () => ({ indexed: indexer.status.indexed?.toString() ?? null, head: indexer.status.head?.toString() ?? null, reorgs: indexer.status.reorgs, error: indexer.status.lastError ?? null }),
    metrics: () => indexMetrics(indexer),
  });
  ref.api = api;
  indexer.start();
  liveness?.start();
  return {
    url: api.url, db, indexer, liveness, api,
    async stop() {
      await indexer.stop();
      await liveness?.stop();
      await api.close();
      if (typeof o.db !== "object") await db.close();
    },
  };
}

function indexMetrics(indexer: Indexer): string {
  const s = indexer.status;
  const lag = s.head !== undefined && s.indexed !== undefined ? Number(s.head - s.indexed) : -1;
  return [
    "# HELP zgrid_explorer_index_lag_blocks Blocks between the chain head and the last indexed block (-1 before the first batch).",
    "# TYPE zgrid_explorer_index_lag_blocks gauge", `zgrid_explorer_index_lag_blocks ${lag}`,
    "# HELP zgrid_explorer_indexed_block The last indexed block.", "# TYPE zgrid_explorer_indexed_block gauge", `zgrid_explorer_indexed_block ${s.indexed ?? -1}`,
    "# HELP zgrid_explorer_events_indexed_total Events indexed since start.", "# TYPE zgrid_explorer_events_indexed_total counter", `zgrid_explorer_events_indexed_total ${s.eventsIndexed}`,
    "# HELP zgrid_explorer_reorgs_total Reorgs rewound since start.", "# TYPE zgrid_explorer_reorgs_total counter", `zgrid_explorer_reorgs_total ${s.reorgs}`,
  ].join("\n") + "\n";
}
