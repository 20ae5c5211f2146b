/**
 * One small SQL layer over SQLite (node:sqlite, embedded, the default) and PostgreSQL (`pg`, when
 * given a URL). Statements use `?` placeholders and the common subset of both dialects (`ON CONFLICT
 * … DO UPDATE`, `excluded.`, BIGINT, TEXT); the PostgreSQL side rewrites `?` to `$n`.
 *
 * @example
 * ```ts
 * const db = await openDb("sqlite:/var/lib/explorer.db");  // or "postgres://user@127.0.0.1:5432/explorer"
 * await db.tx(async (t) => { await t.run("INSERT INTO meta (k, v) VALUES (?, ?)", ["a", "1"]); });
 * const rows = await db.all<{ v: string }>("SELECT v FROM meta WHERE k = ?", ["a"]);
 * ```
 */
import { BaseError } from "@zgrid/types";

export type SqlValue = string | number | bigint | null;

export interface Queryable {
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  run(sql: string, params?: SqlValue[]): Promise<void>;
  /**
   * Runs write statements in order with as few round trips as the database allows (SQLite: cached
   * prepared statements; PostgreSQL: a few multi-statement queries instead of one per statement).
   */
  batch(statements: Statement[]): Promise<void>;
}

export type Statement = readonly [sql: string, params: SqlValue[]];

/**
 * A Queryable that only records writes (for `batch`): the projection writes through it, then the
 * statements go to the database in one go. Reads are refused.
 *
 * @example
 * ```ts
 * const rec = recorder();
 * await rec.run("UPDATE nodes SET uptime = ? WHERE id = ?", [5, 1]);
 * await tx.batch(rec.statements);
 * ```
 */
export function recorder(): Queryable & { statements: Statement[] } {
  const statements: Statement[] = [];
  return {
    statements,
    all: () => Promise.reject(new Error("a statement recorder cannot read")),
    run: async (sql, params = []) => { statements.push([sql, params]); },
    batch: async (s) => { statements.push(...s); },
  };
}

export interface Db extends Queryable {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction: everything or nothing. Transactions never overlap. */
  tx<T>(fn: (t: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class ExplorerDbError extends BaseError {
  override readonly code = "EXPLORER_DB";
}

/** Opens `sqlite:PATH` (or a bare path, or `:memory:`) or a `postgres://` / `postgresql://` URL. */
export async function openDb(url: string): Promise<Db> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgres } = await import("./postgres-db.ts");
    return openPostgres(url);
  }
  const { openSqlite } = await import("./sqlite-db.ts");
  return openSqlite(url.replace(/^sqlite:/, ""));
}

/** A FIFO lock: `run` waits for every earlier holder. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
