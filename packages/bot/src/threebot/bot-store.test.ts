// The 3bot's embedded database survives a SIGKILL of the process writing it: desired state,
// generations (never reused), pending ops of the killed run, events; bounded event log.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { openBotStore } from "./bot-store.ts";
import { parseBotSpec } from "./service-spec.ts";

const self = fileURLToPath(new URL("./bot-store.ts", import.meta.url));

test("state written by a process killed with SIGKILL is all there for the next run", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-bot-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, "3bot.db");
  const script = `
    import { openBotStore } from ${JSON.stringify(self)};
    const s = openBotStore(${JSON.stringify(db)});
    s.putService({ name: "web", replicas: 2 });
    s.nextGeneration("web"); s.nextGeneration("web");
    s.beginOp({ service: "web", kind: "deploy", replica: "web_2", nodeId: 3, run: "old" });
    s.event({ service: "web", kind: "place", message: "placing web_2" });
    s.putBackup({ service: "web", replica: "web_1", disk: "data", manifest: "aa".repeat(32), takenAt: 5, nodeId: 3, size: 10, uploadedBlocks: 1 });
    s.putBackup({ service: "web", replica: "web_1", disk: "data", manifest: "bb".repeat(32), takenAt: 9, nodeId: 4, size: 10, uploadedBlocks: 2 });
    process.kill(process.pid, "SIGKILL");
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.signal, "SIGKILL", r.stderr);
  const s = openBotStore(db);
  t.after(() => s.close());
  assert.deepEqual(s.services().map((x) => x.name), ["web"]);
  assert.equal(s.nextGeneration("web"), 3, "generations are never reused");
  const pending = s.pendingOps();
  assert.equal(pending.length, 1);
  assert.equal(pending[0]!.replica, "web_2");
  assert.equal(pending[0]!.run, "old");
  assert.equal(s.events().at(-1)!.message, "placing web_2");
  assert.deepEqual(s.backups(), [{ service: "web", replica: "web_1", disk: "data", manifest: "bb".repeat(32), takenAt: 9, nodeId: 4, size: 10, uploadedBlocks: 2 }], "the last backup per disk, replaced in place");
  assert.equal(s.lastBackup("web", "web_2", "data"), undefined);
});

test("previous spec kept for rollbacks; first-seen is stable; events are bounded", () => {
  const s = openBotStore(":memory:");
  const v1 = parseBotSpec({ services: [{ name: "web", flist: "http://h/a.fl", replicas: 2 }] }).services[0]!;
  const v2 = { ...v1, flist: "http://h/b.fl" };
  s.putService(v1);
  assert.equal(s.previousService("web"), undefined);
  s.putService(v2);
  assert.equal(s.previousService("web")!.flist, v1.flist);
  s.putService(v1, { keepPrevious: true });
  assert.equal(s.previousService("web")!.flist, v1.flist, "a rollback keeps the previous spec");
  assert.equal(s.firstSeen(5, 1000), 1000);
  assert.equal(s.firstSeen(5, 9000), 1000);
  for (let i = 0; i < 2100; i++) s.event({ service: "web", kind: "x", message: String(i) });
  assert.equal(s.events({ limit: 500 }).length, 500);
  assert.equal(s.events({ limit: 1 })[0]!.message, "2099");
  s.requestApply();
  assert.ok(s.hasApplyRequest());
  assert.ok(s.takeApplyRequest());
  assert.ok(!s.takeApplyRequest());
  s.close();
});

test("bad specs are refused with the field that is wrong", () => {
  assert.throws(() => parseBotSpec({ services: [{ name: "Web!", flist: "x" }] }), /services\.0\.name/);
  assert.throws(() => parseBotSpec({ services: [{ name: "web", flist: "x", replicas: 100 }] }), /services\.0\.replicas/);
  assert.throws(() => parseBotSpec({ services: [{ name: "web", flist: "x" }, { name: "web", flist: "y" }] }), /unique/);
  assert.throws(() => parseBotSpec({ services: [{ name: "web", flist: "x", surprise: 1 }] }), /surprise|Unrecognized/);
  assert.throws(() => parseBotSpec({ services: Array.from({ length: 65 }, (_, i) => ({ name: `s${i}`, flist: "x" })) }), /services/);
});
