import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { clearBotMetricsUrl, readBotMetricsUrl, writeBotMetricsUrl } from "./bot-metrics-file.ts";

test("the running 3bot's metrics endpoint is found by `zgrid metrics`; a dead bot's or a malformed file is ignored", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-botmetrics-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readBotMetricsUrl(dir), undefined, "no bot");
  const e = { url: "http://127.0.0.1:9464/metrics", pid: process.pid, twin: 7 };
  writeBotMetricsUrl(dir, e);
  assert.deepEqual(readBotMetricsUrl(dir), e);
  // a SIGKILLed bot leaves its file behind: its pid is gone
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
  writeBotMetricsUrl(dir, { ...e, pid: dead });
  assert.equal(readBotMetricsUrl(dir), undefined);
  writeFileSync(join(dir, "3bot-metrics.json"), JSON.stringify({ url: "file:///etc/passwd", pid: process.pid, twin: 1 }));
  assert.equal(readBotMetricsUrl(dir), undefined, "only an http …/metrics URL");
  writeFileSync(join(dir, "3bot-metrics.json"), "{not json");
  assert.equal(readBotMetricsUrl(dir), undefined);
  clearBotMetricsUrl(dir);
  clearBotMetricsUrl(dir);
  assert.equal(readBotMetricsUrl(dir), undefined);
});
