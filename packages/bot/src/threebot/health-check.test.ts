import assert from "node:assert/strict";
import { test } from "node:test";
import { judgeHealth, type HealthStreak } from "./health-check.ts";
import { parseBotSpec } from "./service-spec.ts";

test("a replica is unhealthy only after `retries` failed checks in a row once it passed; before that the start timeout rules", () => {
  const streaks = new Map<number, HealthStreak>();
  const fail = { ok: false as const, detail: "http check of port 80: Connection refused" };
  assert.equal(judgeHealth(streaks, 1, fail, { retries: 2 }), "never-passed");
  assert.equal(judgeHealth(streaks, 1, fail, { retries: 2 }), "never-passed", "an app still starting is not failed by its streak");
  assert.equal(judgeHealth(streaks, 1, { ok: true }, { retries: 2 }), "healthy");
  assert.equal(judgeHealth(streaks, 1, fail, { retries: 2 }), "failing", "one failure keeps it serving");
  assert.equal(judgeHealth(streaks, 1, { unknown: "PROBE_BUSY" }, { retries: 2 }), "failing", "a check not run changes nothing");
  assert.equal(judgeHealth(streaks, 1, { ok: true }, { retries: 2 }), "healthy", "a pass resets the streak");
  assert.equal(judgeHealth(streaks, 1, fail, { retries: 2 }), "failing");
  assert.equal(judgeHealth(streaks, 1, fail, { retries: 2 }), "unhealthy");
  assert.equal(streaks.get(1)?.detail, fail.detail);
  assert.equal(judgeHealth(streaks, 2, { ok: true }, { retries: 2 }), "healthy", "streaks are per replica");
});

test("health checks in a spec: tcp, http, exec and state; bad ones name the field", () => {
  const svc = (health: unknown) => ({ services: [{ name: "web", flist: "http://h/x.fl", health }] });
  assert.deepEqual(parseBotSpec(svc({ type: "http" })).services[0]!.health, { type: "http", port: 80, path: "/", timeout_ms: 2000, retries: 3 });
  assert.deepEqual(parseBotSpec(svc({ type: "tcp", port: 5432, retries: 5 })).services[0]!.health, { type: "tcp", port: 5432, timeout_ms: 2000, retries: 5 });
  assert.deepEqual(parseBotSpec(svc({ type: "exec", command: ["pg_isready"] })).services[0]!.health, { type: "exec", command: ["pg_isready"], timeout_sec: 5, retries: 3 });
  assert.deepEqual(parseBotSpec({ services: [{ name: "web", flist: "http://h/x.fl" }] }).services[0]!.health, { type: "state" });
  for (const [bad, field] of [
    [{ type: "tcp" }, /services\.0\.health\.port/],
    [{ type: "http", port: 0 }, /services\.0\.health\.port/],
    [{ type: "http", path: "no-slash" }, /services\.0\.health\.path/],
    [{ type: "http", timeout_ms: 60_000 }, /services\.0\.health\.timeout_ms/],
    [{ type: "exec", command: [] }, /services\.0\.health\.command/],
    [{ type: "udp", port: 53 }, /services\.0\.health/],
  ] as const) assert.throws(() => parseBotSpec(svc(bad)), field);
});
