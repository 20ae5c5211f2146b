/**
 * The node state across a switch: before a new zosd runs, the upgrader copies zosd's state database
 * (`<dataDir>/zos.db`, with its WAL if any; zosd is stopped, so nothing writes it) to
 * `<stateDir>/snapshots/<from>/` with the schema it had (SQLite `user_version`). A rollback that
 * finds the schema changed (the new release migrated the state, then failed its health gate)
 * restores the snapshot, so the previous release never meets a format it cannot read. Later, a
 * fall-back to the previous release past that migration is refused (`rollbackBlocked`): its
 * snapshot is stale by then and restoring it would lose what the node recorded since.
 *
 * @example
 * ```ts
 * const snap = snapshotState(join(dataDir, "zos.db"), join(stateDir, "snapshots", "1.0.0"));
 * // … new zosd fails its gate …
 * if (stateSchemaOf(db) !== snap.schema) restoreState(db, snap.dir);
 * ```
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const SIDE_FILES = ["-wal", "-shm"];

export interface StateSnapshot { dir: string; schema: number; at: string }

/** The state database's schema (`user_version`); 0 when there is no database yet. */
export function stateSchemaOf(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  } finally {
    db.close();
  }
}

/** Copies the (stopped) daemon's database into `dir`, replacing an older snapshot there. */
export function snapshotState(dbPath: string, dir: string): StateSnapshot {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const snap: StateSnapshot = { dir, schema: stateSchemaOf(dbPath), at: new Date().toISOString() };
  if (existsSync(dbPath)) for (const suffix of ["", ...SIDE_FILES]) if (existsSync(dbPath + suffix)) copyFileSync(dbPath + suffix, join(dir, `zos.db${suffix}`));
  writeFileSync(join(dir, "snapshot.json"), JSON.stringify({ schema: snap.schema, at: snap.at }));
  return snap;
}

export function readSnapshot(dir: string): StateSnapshot | undefined {
  try {
    const j = JSON.parse(readFileSync(join(dir, "snapshot.json"), "utf8")) as { schema: number; at: string };
    return { dir, schema: j.schema, at: j.at };
  } catch {
    return undefined;
  }
}

/** Puts the snapshot back (the daemon is stopped): the database and its side files as they were. */
export function restoreState(dbPath: string, dir: string): void {
  for (const suffix of ["", ...SIDE_FILES]) rmSync(dbPath + suffix, { force: true });
  for (const suffix of ["", ...SIDE_FILES]) if (existsSync(join(dir, `zos.db${suffix}`))) copyFileSync(join(dir, `zos.db${suffix}`), dbPath + suffix);
}

/**
 * Why falling back to `previous` (which ran with the snapshot's schema) is refused, if it is: the
 * state was migrated past what it reads.
 */
export function rollbackBlocked(dbPath: string, previous: string, snapshot: StateSnapshot | undefined): string | undefined {
  if (!snapshot) return undefined;
  const now = stateSchemaOf(dbPath);
  if (now <= snapshot.schema) return undefined;
  return `the node state has schema ${now}, release ${previous} ran with schema ${snapshot.schema}: falling back past a state migration would lose what the node recorded since (fix forward: approve a release that starts)`;
}
