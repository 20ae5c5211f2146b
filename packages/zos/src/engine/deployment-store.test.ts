import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseDeployment } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { DatabaseSync } from "node:sqlite";
import { STATE_SCHEMA, StateSchemaError, openDeploymentStore } from "./deployment-store.ts";

test("deployments and their history survive reopening the database", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zos-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "zos.db");
  const d = { ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 };
  let store = openDeploymentStore(path);
  store.put(d);
  store.put({ ...d, contract_id: 13, twin_id: 8, signature_requirement: { ...d.signature_requirement, requests: [{ twin_id: 8, required: false, weight: 1 }] } });
  store.recordChange({ contract_id: 12, name: "vm", type: "zmachine", version: 0, state: "init", message: "", at: 1 });
  store.recordChange({ contract_id: 12, name: "vm", type: "zmachine", version: 0, state: "ok", message: "", at: 2 });
  store.close();
  store = openDeploymentStore(path);
  assert.deepEqual(store.get(12), d);
  assert.equal(store.get(99), undefined);
  assert.deepEqual(store.list({ twinId: 7 }).map((x) => x.contract_id), [12]);
  assert.deepEqual(store.list().map((x) => x.contract_id), [12, 13]);
  assert.deepEqual(store.changes(12).map((c) => c.state), ["init", "ok"]);
  store.put({ ...d, version: 1 });
  assert.equal(store.get(12)?.version, 1);
  store.remove(12);
  assert.equal(store.get(12), undefined);
  store.close();
});

test("state schema: older state (before versioning) is read and migrated forward; newer state is refused with a clear error", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zos-store-schema-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "zos.db");
  // a database as releases before schema versioning wrote it: tables, data, user_version 0
  const old = new DatabaseSync(path);
  old.exec("CREATE TABLE deployments (contract_id INTEGER PRIMARY KEY, twin_id INTEGER NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL)");
  const d = parseDeployment(sampleDeploymentJson());
  old.prepare("INSERT INTO deployments VALUES (?, ?, ?, ?)").run(7, d.twin_id, d.version, JSON.stringify({ ...d, contract_id: 7 }));
  old.close();
  const store = openDeploymentStore(path);
  assert.equal(store.get(7)?.contract_id, 7, "a newer release reads older state");
  store.close();
  const check = new DatabaseSync(path);
  assert.equal((check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, STATE_SCHEMA);
  check.exec(`PRAGMA user_version = ${STATE_SCHEMA + 1}`);
  check.close();
  assert.throws(() => openDeploymentStore(path), (e: unknown) => e instanceof StateSchemaError && new RegExp(`has schema ${STATE_SCHEMA + 1}, this release reads up to ${STATE_SCHEMA}`).test(e.message));
});
