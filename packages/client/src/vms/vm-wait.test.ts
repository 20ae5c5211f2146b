import assert from "node:assert/strict";
import { test } from "node:test";
import type { VmLogs } from "@zgrid/types";
import { DeployFailedError } from "../errors/client-errors.ts";
import { waitAppRunning } from "./vm-wait.ts";

const boot = "zgrid-host: qemu start (tcg)\nzgrid-init: root ready\n";
const seq = (...answers: Array<Partial<VmLogs>>) => {
  let i = 0;
  return async (): Promise<VmLogs> => ({ log: "", offset: 0, size: 0, state: "running", reason: "", ...answers[Math.min(i++, answers.length - 1)] });
};
const fast = { settleMs: 30, pollMs: 10, timeoutMs: 2_000, name: "web" };

test("returns once the app was started and is still running after the settle time", async () => {
  const r = await waitAppRunning(seq({ log: boot }, { log: `${boot}zgrid-init: exec /usr/bin/python3 server.py (in /app)\n` }), fast);
  assert.equal(r.state, "running");
});

test("an app that exits at once fails the deploy with the console's last lines", async () => {
  const log = `${boot}zgrid-init: exec /bin/sh -c exit 1 (in /)\nboom\nzgrid-init: app exited with status 1\nzgrid-init: poweroff\n`;
  await assert.rejects(waitAppRunning(seq({ log: boot }, { log }), fast), (e: unknown) => {
    assert.ok(e instanceof DeployFailedError);
    assert.match(e.message, /vm web: app exited with status 1\n--- last console lines ---\n[\s\S]*boom/);
    return true;
  });
});

test("a missing entrypoint is named", async () => {
  const log = `${boot}zgrid-init: FATAL: entrypoint server not found (PATH=/bin, working directory /)\n`;
  await assert.rejects(waitAppRunning(seq({ log, state: "stopped" }), fast), /vm web: entrypoint server not found/);
});

test("an app that never starts times out with a clear reason", async () => {
  await assert.rejects(waitAppRunning(seq({ log: boot }), { ...fast, timeoutMs: 100 }), /the app did not start in time/);
});

test("with a health check it waits for healthy; unhealthy fails with the check's output and the console", async () => {
  const up = `${boot}zgrid-init: exec /bin/sh /start.sh (in /)\nserving\n`;
  const health = (status: "starting" | "healthy" | "unhealthy", streak = 0, out = "") => ({ log: up, health: { status, failing_streak: streak, last_output: out } });
  const r = await waitAppRunning(seq(health("starting"), health("starting"), health("starting"), health("starting"), health("healthy")), fast);
  assert.equal(r.health?.status, "healthy");
  await assert.rejects(waitAppRunning(seq(health("starting"), health("unhealthy", 3, "curl: connection refused\n")), fast), (e: unknown) => {
    assert.ok(e instanceof DeployFailedError);
    assert.match(e.message, /vm web: the app is unhealthy \(its health check failed 3 times in a row: curl: connection refused\)\n--- last console lines ---\n[\s\S]*serving/);
    return true;
  });
  await assert.rejects(waitAppRunning(seq(health("starting")), { ...fast, timeoutMs: 150 }), /the app did not become healthy in time/);
});
