/** The embedded database: node:sqlite, WAL, one connection; calls are serialized by a FIFO lock. */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ExplorerDbError, Mutex, type Db, type Queryable, type SqlValue } from "./db.ts";

/** Opens (creating) a SQLite file, or `:memory:`. */
export function openSqlite(path: string): Db {
  let sqlite: DatabaseSync;
  try {
    sqlite = new DatabaseSync(path);
  } catch (e) {
    throw new ExplorerDbError(`cannot open the SQLite database ${path}`, { cause: e, hint: "check that the directory exists and is writable" });
  }
  if (path !== ":memory:") sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000");
  const lock = new Mutex();
  // prepared statements are reused (the explorer's SQL is a small fixed set; bounded anyway)
  const cache = new Map<string, StatementSync>();
  const prepared = (sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      if (cache.size >= 256) cache.clear();
      cache.set(sql, (st = sqlite.prepare(sql)));
    }
    return st;
  };
  const q: Queryable = {
    all: async <T>(sql: string, params: SqlValue[] = []) => prepared(sql).all(...params) as T[],
    run: async (sql: string, params: SqlValue[] = []) => { prepared(sql).run(...params); },
    batch: async (statements) => { for (const [sql, params] of statements) prepared(sql).run(...params); },
  };
  return {
    dialect: "sqlite",
    all: (sql, params) => lock.run(() => q.all(sql, params)),
    run: (sql, params) => lock.run(() => q.run(sql, params)),
    batch: (statements) => lock.run(() => q.batch(statements)),
    tx: (fn) => lock.run(async () => {
      sqlite.exec("BEGIN IMMEDIATE");
      try {
        const r = await fn(q);
        sqlite.exec("COMMIT");
        return r;
      } catch (e) {
        sqlite.exec("ROLLBACK");
        throw e;
      }
    }),
    close: () => lock.run(async () => { cache.clear(); sqlite.close(); }),
  };
}
