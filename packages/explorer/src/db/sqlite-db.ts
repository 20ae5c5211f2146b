/** The embedded database: node:sqlite, WAL, one connection; calls are serialized by a FIFO lock. */
import { DatabaseSync } from "node:sqlite";
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
  const q: Queryable = {
    all: async <T>(sql: string, params: SqlValue[] = []) => sqlite.prepare(sql).all(...params) as T[],
    run: async (sql: string, params: SqlValue[] = []) => { sqlite.prepare(sql).run(...params); },
  };
  return {
    dialect: "sqlite",
    all: (sql, params) => lock.run(() => q.all(sql, params)),
    run: (sql, params) => lock.run(() => q.run(sql, params)),
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
    close: () => lock.run(async () => { sqlite.close(); }),
  };
}
