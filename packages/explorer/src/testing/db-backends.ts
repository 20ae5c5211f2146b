/**
 * Runs a test body on each database the explorer supports: SQLite in a temp dir and a fresh
 * database in one shared throwaway PostgreSQL cluster (started on first use, stopped by `close`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../db/db.ts";
import { migrate } from "../db/schema.ts";
import { startPgCluster, type PgCluster } from "./pg-cluster.ts";

export const BACKENDS = ["sqlite", "postgres"] as const;
export type Backend = (typeof BACKENDS)[number];

export class TestDatabases {
  #pg: PgCluster | undefined;
  #dirs: string[] = [];
  #dbs: Db[] = [];
  #n = 0;

  /** A URL of a new, empty database of that backend. */
  async url(backend: Backend): Promise<string> {
    if (backend === "postgres") {
      this.#pg ??= await startPgCluster();
      return this.#pg.createDatabase(`t${process.pid}_${++this.#n}`);
    }
    const dir = await mkdtemp(join(tmpdir(), "zgrid-explorer-"));
    this.#dirs.push(dir);
    return `sqlite:${join(dir, "explorer.db")}`;
  }

  /** Opens (and migrates) a database at `url`; closed by `close`. */
  async open(url: string): Promise<Db> {
    const db = await openDb(url);
    this.#dbs.push(db);
    await migrate(db);
    return db;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#dbs.map((d) => d.close()));
    await this.#pg?.stop();
    for (const d of this.#dirs) await rm(d, { recursive: true, force: true });
  }
}
