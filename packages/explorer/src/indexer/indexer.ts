/**
 * Follows the chain `confirmations` blocks behind its head into the database. Each batch (events,
 * block hashes, the cursor) is one transaction, so a crash anywhere loses and repeats nothing. Before
 * each batch the first new block's parent hash is checked against the stored hash of the cursor
 * block; on a mismatch (a reorg deeper than `confirmations`) the index walks back through its stored
 * block hashes to the newest block still on the chain, drops everything after it and rebuilds the
 * tables from the stored events.
 *
 * @example
 * ```ts
 * const indexer = new Indexer({ db, source: rpcChainSource({ rpcUrl, addresses }), confirmations: 2 });
 * indexer.start();             // polls every 500 ms
 * await indexer.syncOnce();    // or step it by hand (tests)
 * await indexer.stop();
 * ```
 */
import { createLogger } from "@zgrid/log";
import { recorder, type Db, type Queryable, type SqlValue, type Statement } from "../db/db.ts";
import { PROJECTION_TABLES } from "../db/schema.ts";
import type { BlockHeader, ChainSource, IndexedEvent } from "./chain-source.ts";
import { applyEvent } from "./projection.ts";

const log = createLogger("explorer.indexer");

export interface IndexerOptions {
  db: Db;
  source: ChainSource;
  /** Blocks to stay behind the head (default 0 on the automining dev chain; use more on a real network). */
  confirmations?: number;
  /** Most blocks per batch (default 2,000). */
  maxBlockRange?: number;
  pollMs?: number;
  /** First block to index when the database is empty (default 0). */
  startBlock?: bigint;
  /** Called after every committed batch and every rewind (live updates, metrics). */
  onProgress?: (p: { indexed: bigint; head: bigint; events: number; rewoundTo?: bigint }) => void;
}

export interface IndexerStatus { indexed: bigint | undefined; head: bigint | undefined; eventsIndexed: number; reorgs: number; lastError: string | undefined }

export class Indexer {
  readonly #o: IndexerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  readonly status: IndexerStatus = { indexed: undefined, head: undefined, eventsIndexed: 0, reorgs: 0, lastError: undefined };

  constructor(o: IndexerOptions) {
    this.#o = o;
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      this.#running = this.syncOnce().then(() => undefined, (e: unknown) => {
        this.status.lastError = e instanceof Error ? e.message : String(e);
        log.warn({ err: e }, "index poll failed; retrying");
      }).finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.pollMs ?? 500);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** The last indexed block, or undefined before the first batch. */
  async cursor(q: Queryable = this.#o.db): Promise<bigint | undefined> {
    const rows = await q.all<{ v: string }>("SELECT v FROM meta WHERE k = 'cursor'");
    return rows[0] ? BigInt(rows[0].v) : undefined;
  }

  /** Indexes every confirmed block not yet indexed; returns the number of events stored. */
  async syncOnce(): Promise<number> {
    const { source } = this.#o;
    const head = await source.head();
    this.status.head = head;
    const safe = head - BigInt(this.#o.confirmations ?? 0);
    let total = 0;
    for (;;) {
      const cursor = await this.cursor();
      this.status.indexed = cursor;
      const from = cursor === undefined ? (this.#o.startBlock ?? 0n) : cursor + 1n;
      if (from > safe) return total;
      const to = from + BigInt(this.#o.maxBlockRange ?? 2000) - 1n < safe ? from + BigInt(this.#o.maxBlockRange ?? 2000) - 1n : safe;
      const first = await source.header(from);
      if (cursor !== undefined && !(await this.#parentMatches(cursor, first))) {
        await this.#rewind(cursor);
        continue;
      }
      // the last block is read before and after the logs: the same hash both times means the logs
      // (one atomic eth_getLogs) come from that block's history, so no per-block header is needed
      const lastBefore = to === from ? first : await source.header(to);
      const events = await source.events(from, to);
      const last = to === from ? first : await source.header(to);
      if (last.hash.toLowerCase() !== lastBefore.hash.toLowerCase()) throw new Error(`block ${to} changed while being read (reorg in progress); retrying`);
      const hashes = new Map<bigint, string>([[first.number, first.hash], [last.number, last.hash]]);
      if (events.some((e) => hashes.has(e.block) && hashes.get(e.block)!.toLowerCase() !== e.blockHash.toLowerCase())) {
        throw new Error(`blocks ${from}..${to} changed while being read (reorg in progress); retrying`);
      }
      const [, times] = await Promise.all([source.enrich(events, to), this.#blockTimes(events, first, last)]);
      // the projection's writes are recorded, then sent with the events in a few round trips
      const rec = recorder();
      for (const e of events) await applyEvent(rec, e, times.get(e.block) ?? 0);
      const eventBlocks = [...new Map(events.filter((e) => !hashes.has(e.block)).map((e) => [e.block, e.blockHash])).entries()];
      await this.#o.db.tx(async (t) => {
        const stored = await this.cursor(t);
        if (stored !== cursor) throw new Error("the cursor moved under the indexer (two indexers on one database?)");
        await this.#storeBlock(t, first);
        if (last !== first) await this.#storeBlock(t, last);
        await t.batch([
          ...rows("INSERT INTO blocks (number, hash, parent_hash, timestamp) VALUES", "ON CONFLICT (number) DO NOTHING",
            eventBlocks.map(([b, hash]) => [Number(b), hash, "", times.get(b) ?? 0])),
          ...rows("INSERT INTO events (block, log_index, tx_hash, source, name, args) VALUES", "",
            events.map((e) => [Number(e.block), e.logIndex, e.txHash, e.source, e.name, JSON.stringify(e.args)])),
          ...rec.statements,
          ["INSERT INTO meta (k, v) VALUES ('cursor', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", [to.toString()]],
        ]);
      });
      total += events.length;
      this.status.eventsIndexed += events.length;
      this.status.indexed = to;
      this.status.lastError = undefined;
      this.#o.onProgress?.({ indexed: to, head, events: events.length });
    }
  }

  async #parentMatches(cursor: bigint, next: BlockHeader): Promise<boolean> {
    const rows = await this.#o.db.all<{ hash: string }>("SELECT hash FROM blocks WHERE number = ?", [Number(cursor)]);
    return !rows[0] || rows[0].hash.toLowerCase() === next.parentHash.toLowerCase();
  }

  /** Walks back to the newest stored block whose hash the chain still has, then rebuilds from events. */
  async #rewind(cursor: bigint): Promise<void> {
    const stored = await this.#o.db.all<{ number: number; hash: string }>("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC", [Number(cursor)]);
    let ancestor = -1n;
    for (const b of stored) {
      const h = await this.#o.source.header(BigInt(b.number));
      if (h.hash.toLowerCase() === b.hash.toLowerCase()) { ancestor = BigInt(b.number); break; }
    }
    log.warn({ cursor: cursor.toString(), ancestor: ancestor.toString() }, "reorg: rewinding the index");
    await this.#o.db.tx(async (t) => {
      await t.run("DELETE FROM events WHERE block > ?", [Number(ancestor)]);
      await t.run("DELETE FROM blocks WHERE number > ?", [Number(ancestor)]);
      for (const table of PROJECTION_TABLES) await t.run(`DELETE FROM ${table}`);
      await t.run("DELETE FROM meta WHERE k = 'zos_version'");
      const kept = await t.all<{ block: number; log_index: number; tx_hash: string; source: string; name: string; args: string; timestamp: number }>(
        "SELECT e.block, e.log_index, e.tx_hash, e.source, e.name, e.args, b.timestamp FROM events e JOIN blocks b ON b.number = e.block ORDER BY e.block, e.log_index");
      const rec = recorder();
      for (const r of kept) {
        const e: IndexedEvent = { block: BigInt(r.block), blockHash: "", logIndex: r.log_index, txHash: r.tx_hash, source: r.source, name: r.name, args: JSON.parse(r.args) as Record<string, unknown> };
        await applyEvent(rec, e, Number(r.timestamp));
      }
      await t.batch(rec.statements);
      if (ancestor < 0n) await t.run("DELETE FROM meta WHERE k = 'cursor'");
      else await t.run("UPDATE meta SET v = ? WHERE k = 'cursor'", [ancestor.toString()]);
    });
    this.status.reorgs++;
    this.#o.onProgress?.({ indexed: ancestor, head: this.status.head ?? ancestor, events: 0, rewoundTo: ancestor });
  }

  async #storeBlock(t: Queryable, h: BlockHeader): Promise<void> {
    await t.run(`INSERT INTO blocks (number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?)
      ON CONFLICT (number) DO UPDATE SET hash = excluded.hash, parent_hash = excluded.parent_hash, timestamp = excluded.timestamp`,
    [Number(h.number), h.hash, h.parentHash, Number(h.timestamp)]);
  }

  /**
   * Block timestamps for the events' blocks: the two fetched headers, the logs' own `blockTimestamp`
   * when the node gives it, else each block's header read once (its hash checked).
   */
  async #blockTimes(events: IndexedEvent[], first: BlockHeader, last: BlockHeader): Promise<Map<bigint, number>> {
    const times = new Map<bigint, number>([[first.number, Number(first.timestamp)], [last.number, Number(last.timestamp)]]);
    for (const e of events) if (e.blockTime !== undefined && !times.has(e.block)) times.set(e.block, e.blockTime);
    const missing = [...new Map(events.filter((e) => !times.has(e.block)).map((e) => [e.block, e.blockHash])).entries()];
    for (let i = 0; i < missing.length; i += 64) {
      await Promise.all(missing.slice(i, i + 64).map(async ([block, hash]) => {
        const h = await this.#o.source.header(block);
        if (h.hash.toLowerCase() !== hash.toLowerCase()) throw new Error(`block ${block} changed while being read (reorg in progress); retrying`);
        times.set(block, Number(h.timestamp));
      }));
    }
    return times;
  }
}

/** Multi-row INSERTs of `values` (≤ 200 rows each): `head` VALUES (…), (…) `tail`. */
function rows(head: string, tail: string, values: SqlValue[][]): Statement[] {
  const out: Statement[] = [];
  for (let i = 0; i < values.length; i += 200) {
    const part = values.slice(i, i + 200);
    out.push([`${head} ${part.map((r) => `(${r.map(() => "?").join(", ")})`).join(", ")} ${tail}`.trim(), part.flat()]);
  }
  return out;
}
