/**
 * The node's embedded database (node:sqlite): every deployment it holds and every workload state
 * change (history). Survives daemon restarts; the engine re-adopts from it. Records only gain
 * fields: the deployment is stored as JSON, so new fields need no migration.
 *
 * @example
 * ```ts
 * const store = openDeploymentStore("/var/lib/zos/zos.db");
 * store.put(deployment);
 * store.recordChange(contractId, "vm", { state: "ok", message: "", created: now, data: {...} });
 * store.changes(contractId); // [{ name, state, message, at }, …]
 * ```
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BaseError, type Deployment } from "@zgrid/types";

import type { WorkloadChange } from "@zgrid/types";
export type { WorkloadChange };

export interface DeploymentStore {
  put(d: Deployment): void;
  get(contractId: number): Deployment | undefined;
  list(filter?: { twinId?: number }): Deployment[];
  remove(contractId: number): void;
  recordChange(change: WorkloadChange): void;
  changes(contractId: number): WorkloadChange[];
  close(): void;
}

/**
 * Schema version of the node state this code writes (SQLite `user_version`; the release manifest's
 * `stateSchema`). A newer daemon migrates older state forward (MIGRATIONS, in order, in one
 * transaction); a daemon meeting state newer than it knows refuses to start with a clear error
 * instead of misreading it (the upgrader never rolls back past a schema change).
 */
export const STATE_SCHEMA = 1;

/** Forward migrations: MIGRATIONS[n] turns schema n into n + 1 (none yet: schema 1 is the baseline). */
const MIGRATIONS: Record<number, (db: DatabaseSync) => void> = {};

export class StateSchemaError extends BaseError {
  override readonly code: string = "STATE_SCHEMA";
}

function migrate(db: DatabaseSync, path: string): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  const found = row.user_version;
  if (found > STATE_SCHEMA) {
    db.close();
    throw new StateSchemaError(`node state ${path} has schema ${found}, this release reads up to ${STATE_SCHEMA}`, {
      details: { found, supported: STATE_SCHEMA }, hint: "run a release whose stateSchema is at least the state's (a newer one); never downgrade past a schema change",
    });
  }
  if (found === STATE_SCHEMA) return;
  db.exec("BEGIN");
  try {
    for (let v = Math.max(found, 1); v < STATE_SCHEMA; v++) MIGRATIONS[v]?.(db);
    db.exec(`PRAGMA user_version = ${STATE_SCHEMA}`);
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

export function openDeploymentStore(path: string): DeploymentStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS deployments (
      contract_id INTEGER PRIMARY KEY,
      twin_id INTEGER NOT NULL,
      version INTEGER NOT NULL,
      body TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS deployments_twin ON deployments (twin_id);
    CREATE TABLE IF NOT EXISTS history (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      contract_id INTEGER NOT NULL,
      name TEXT NOT NULL,
      type TEXT NOT NULL,
      version INTEGER NOT NULL,
      state TEXT NOT NULL,
      message TEXT NOT NULL,
      at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS history_contract ON history (contract_id, seq);
  `);
  migrate(db, path);
  const upsert = db.prepare(`INSERT INTO deployments (contract_id, twin_id, version, body) VALUES (?, ?, ?, ?)
    ON CONFLICT (contract_id) DO UPDATE SET twin_id = excluded.twin_id, version = excluded.version, body = excluded.body`);
  const select = db.prepare("SELECT body FROM deployments WHERE contract_id = ?");
  const all = db.prepare("SELECT body FROM deployments ORDER BY contract_id");
  const byTwin = db.prepare("SELECT body FROM deployments WHERE twin_id = ? ORDER BY contract_id");
  const del = db.prepare("DELETE FROM deployments WHERE contract_id = ?");
  const addChange = db.prepare("INSERT INTO history (contract_id, name, type, version, state, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const listChanges = db.prepare("SELECT contract_id, name, type, version, state, message, at FROM history WHERE contract_id = ? ORDER BY seq");
  const parse = (row: unknown) => JSON.parse((row as { body: string }).body) as Deployment;

  return {
    put(d) {
      upsert.run(d.contract_id, d.twin_id, d.version, JSON.stringify(d));
    },
    get(contractId) {
      const row = select.get(contractId);
      return row ? parse(row) : undefined;
    },
    list(filter = {}) {
      const rows = filter.twinId === undefined ? all.all() : byTwin.all(filter.twinId);
      return rows.map(parse);
    },
    remove(contractId) {
      del.run(contractId);
    },
    recordChange(c) {
      addChange.run(c.contract_id, c.name, c.type, c.version, c.state, c.message, c.at);
    },
    changes(contractId) {
      return listChanges.all(contractId) as unknown as WorkloadChange[];
    },
    close() {
      db.close();
    },
  };
}
