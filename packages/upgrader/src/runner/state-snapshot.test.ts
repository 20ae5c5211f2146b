import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { readSnapshot, restoreState, rollbackBlocked, snapshotState, stateSchemaOf } from "./state-snapshot.ts";

test("snapshot before a switch, restore after a migrating release failed; a later fall-back past the migration is refused", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-snap-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, "zos.db");
  assert.equal(stateSchemaOf(dbPath), 0, "no database yet");
  const db = new DatabaseSync(dbPath);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE d (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO d VALUES (1, 'vm'); PRAGMA user_version = 1");
  db.close();
  const snap = snapshotState(dbPath, join(dir, "snapshots", "1.0.0"));
  assert.equal(snap.schema, 1);
  assert.deepEqual(readSnapshot(snap.dir)?.schema, 1);
  assert.equal(rollbackBlocked(dbPath, "1.0.0", snap), undefined, "same schema: falling back is fine");
  // the new release migrates (schema 2) and writes in the new format
  const db2 = new DatabaseSync(dbPath);
  db2.exec("ALTER TABLE d ADD COLUMN owner TEXT; UPDATE d SET owner = 'x'; PRAGMA user_version = 2");
  db2.close();
  assert.equal(stateSchemaOf(dbPath), 2);
  assert.match(rollbackBlocked(dbPath, "1.0.0", snap) ?? "", /node state has schema 2, release 1\.0\.0 ran with schema 1: falling back past a state migration/);
  restoreState(dbPath, snap.dir);
  assert.equal(stateSchemaOf(dbPath), 1);
  const back = new DatabaseSync(dbPath, { readOnly: true });
  assert.deepEqual(back.prepare("SELECT * FROM d").all().map((r) => ({ ...r })), [{ id: 1, body: "vm" }], "the rows as the previous release wrote them");
  back.close();
  assert.equal(readSnapshot(join(dir, "none")), undefined);
});
