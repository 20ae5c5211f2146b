import assert from "node:assert/strict";
import { test } from "node:test";
import { createBotMetrics, serveBotMetrics } from "./bot-metrics.ts";

test("bot metrics: heals counted by kind and outcome, served as Prometheus text on /metrics", async (t) => {
  const m = createBotMetrics({ bot: "3bot", twin: 12 });
  assert.match(m.text(), /^zgrid_bot_heals_total\{bot="3bot",twin="12",kind="none",outcome="ok"\} 0$/m, "present before the first heal");
  m.heal("vm", "ok");
  m.heal("vm", "ok");
  m.heal("gateway", "failed");
  assert.equal(m.value("zgrid_bot_heals_total", { kind: "vm", outcome: "ok" }), 2);
  const server = await serveBotMetrics(m, { host: "127.0.0.1", port: 0 });
  t.after(() => server.close());
  const res = await fetch(server.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain; version=0\.0\.4/);
  const body = await res.text();
  assert.match(body, /^# TYPE zgrid_bot_heals_total counter$/m);
  assert.match(body, /^zgrid_bot_heals_total\{bot="3bot",twin="12",kind="vm",outcome="ok"\} 2$/m);
  assert.match(body, /^zgrid_bot_heals_total\{bot="3bot",twin="12",kind="gateway",outcome="failed"\} 1$/m);
  assert.equal((await fetch(server.url.replace("/metrics", "/other"))).status, 404);
});

test("bot metrics refuse bad names, labels and negative steps; label sets are bounded", () => {
  const m = createBotMetrics({ bot: "3bot", twin: 1 });
  assert.throws(() => m.count("heals", "x"), /zgrid_bot_/);
  assert.throws(() => m.count("zgrid_bot_x_total", "x", { "Bad-Label": "v" }), /label/);
  assert.throws(() => m.count("zgrid_bot_x_total", "x", {}, -1), /only grows/);
  for (let i = 0; i < 1500; i++) m.count("zgrid_bot_x_total", "x", { i: String(i) });
  assert.equal(m.text().split("\n").filter((l) => l.startsWith("zgrid_bot_x_total")).length, 1000);
  m.heal("vm", "ok");
  assert.match(m.text(), /'?zgrid_bot_heals_total\{[^}]*kind="vm"/);
  assert.doesNotMatch(m.text(), /kind="none"/, "the placeholder goes once a heal is counted");
});
