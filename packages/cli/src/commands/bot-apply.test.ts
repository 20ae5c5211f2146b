import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { openBotStore } from "@zgrid/bot";
import { isBotServicesFile } from "./bot-apply.ts";
import { clearBotMetricsUrl, writeBotMetricsUrl } from "./bot-metrics-file.ts";

const ZGRID = fileURLToPath(new URL("../../bin/zgrid.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "zgrid-bot-apply-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const zgrid = (...args: string[]) => spawnSync(process.execPath, [ZGRID, "--data-dir", dir, ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
const FLIST = "http://hub.invalid/flists/busybox.fl";

test("a services list is a 3bot file; a Compose services map and a zgrid spec are not", async () => {
  assert.equal(await isBotServicesFile("services:\n  - name: web\n    flist: x\n"), true);
  assert.equal(await isBotServicesFile("services:\n- name: web\n  flist: x\n"), true);
  assert.equal(await isBotServicesFile('{"services": [{"name": "web", "flist": "x"}]}'), true);
  assert.equal(await isBotServicesFile("services:\n  web:\n    image: busybox\n"), false);
  assert.equal(await isBotServicesFile("project: shop\nvms: []\n"), false);
  assert.equal(await isBotServicesFile("services: [\n"), false, "broken YAML is not a bot file (the spec loader reports it)");
});

test("zgrid apply -f hands a services file to the running 3bot; refuses with what to do when none runs; delete -f removes", () => {
  const file = join(dir, "web.yaml");
  writeFileSync(file, `services:\n  - name: web\n    flist: ${FLIST}\n    replicas: 2\n    gateway: { name: shop }\n`);

  const none = zgrid("apply", "-f", file);
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /no 3bot runs for/);
  assert.match(none.stderr, /zgrid bot run/);
  const dry = zgrid("--json", "apply", "--dry-run", "-f", file);
  assert.equal(dry.status, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout).services, ["web"]);

  // the running bot's record (what `zgrid bot run` writes; this test process stands in as the live pid)
  writeBotMetricsUrl(dir, { url: "http://127.0.0.1:1/metrics", pid: process.pid, twin: 1 });
  try {
    const r = zgrid("--json", "apply", "-f", file);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).services, ["web"]);
    let store = openBotStore(join(dir, "3bot.db"));
    try {
      const web = store.services().find((s) => s.name === "web");
      assert.equal(web?.replicas, 2);
      assert.equal(web?.gateway?.name, "shop");
      assert.equal(store.takeApplyRequest(), true, "the bot is woken");
    } finally {
      store.close();
    }

    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, `services:\n  - name: web\n    flist: ${FLIST}\n    replicas: 99\n`);
    const b = zgrid("apply", "-f", bad);
    assert.notEqual(b.status, 0);
    assert.match(b.stderr, /services\.0\.replicas/);

    const d = zgrid("--json", "delete", "-f", file);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout).removed, ["web"]);
    store = openBotStore(join(dir, "3bot.db"));
    try {
      assert.equal(store.services().length, 0);
    } finally {
      store.close();
    }
  } finally {
    clearBotMetricsUrl(dir);
  }
});

test("zgrid bot apply refuses a disk removed or made smaller, naming it, unless --allow-data-loss", () => {
  const db = join(dir, "disks.db");
  const file = join(dir, "db.yaml");
  const spec = (disks: string) => writeFileSync(file, `services:\n  - name: db\n    flist: ${FLIST}\n    disks: [${disks}]\n`);
  spec("{ name: data, size: 64, mountpoint: /data }, { name: logs, size: 8, mountpoint: /logs }");
  const first = zgrid("bot", "apply", "--db", db, "-f", file);
  assert.equal(first.status, 0, first.stderr);
  spec("{ name: data, size: 32, mountpoint: /data }");
  const refused = zgrid("bot", "apply", "--db", db, "-f", file);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /data \(shrinks 64 → 32 MiB/);
  assert.match(refused.stderr, /logs \(removed\)/);
  assert.match(refused.stderr, /--allow-data-loss/);
  const kept = openBotStore(db);
  try {
    assert.deepEqual(kept.services()[0]?.disks.map((d) => d.size), [64, 8], "nothing stored");
  } finally {
    kept.close();
  }
  const forced = zgrid("bot", "apply", "--db", db, "--allow-data-loss", "-f", file);
  assert.equal(forced.status, 0, forced.stderr);
  const after = openBotStore(db);
  try {
    assert.deepEqual(after.services()[0]?.disks.map((d) => `${d.name}:${d.size}`), ["data:32"]);
  } finally {
    after.close();
  }
});
