import assert from "node:assert/strict";
import { test } from "node:test";
import type { VmLogs } from "@zgrid/types";
import { DeployFailedError } from "../errors/client-errors.ts";
import { waitAppRunning, waitDependency } from "./vm-wait.ts";

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

test("depends_on conditions: service_started, service_healthy, service_completed_successfully as compose means them", async () => {
  const dep = { name: "db", dependent: "app", pollMs: 10, timeoutMs: 2_000 };
  const up = `${boot}zgrid-init: exec /bin/sh /start.sh (in /)\n`;
  const health = (status: "starting" | "healthy" | "unhealthy", streak = 0, out = "") => ({ log: up, health: { status, failing_streak: streak, last_output: out, at: 1 } });
  // started: as soon as the app runs (no health needed)
  assert.equal((await waitDependency(seq({ log: boot }, { log: up }), "service_started", dep)).state, "running");
  // healthy: waits through starting
  assert.equal((await waitDependency(seq(health("starting"), health("starting"), health("healthy")), "service_healthy", dep)).health?.status, "healthy");
  await assert.rejects(waitDependency(seq(health("starting"), health("unhealthy", 3, "pg_isready: no response")), "service_healthy", dep),
    /'app' depends on 'db' \(service_healthy\): it is unhealthy \(its health check failed 3 times in a row: pg_isready: no response\)/);
  await assert.rejects(waitDependency(seq({ log: up }), "service_healthy", dep), /it has no health check/);
  await assert.rejects(waitDependency(seq(health("starting")), "service_healthy", { ...dep, timeoutMs: 100 }), (e: unknown) => {
    assert.ok(e instanceof DeployFailedError);
    assert.match(e.message, /'app' depends on 'db' \(service_healthy\): timed out after 0 s \(health starting\)/);
    assert.match(e.hint ?? "", /zgrid vm logs db/);
    return true;
  });
  // a dependency that is down fails the started/healthy conditions at once
  await assert.rejects(waitDependency(seq({ log: `${up}zgrid-init: app exited with status 2\n`, state: "stopped" }), "service_started", dep), /it is not running: app exited with status 2/);
  // completed successfully: exit 0 since its last start; any other end fails
  const job = (end: string) => ({ log: `${up}migrating\nzgrid-init: ${end}\n`, state: "stopped" as const });
  assert.equal((await waitDependency(seq({ log: up }, job("app exited with status 0")), "service_completed_successfully", dep)).state, "stopped");
  await assert.rejects(waitDependency(seq(job("app exited with status 1")), "service_completed_successfully", dep), /did not complete successfully: app exited with status 1\n--- last console lines of db ---\n[\s\S]*migrating/);
  await assert.rejects(waitDependency(seq(job("app killed by SIGKILL")), "service_completed_successfully", dep), /did not complete successfully: app killed by SIGKILL/);
  // an exit of an earlier boot does not count
  await assert.rejects(waitDependency(seq({ log: `${up}zgrid-init: app exited with status 0\n${up}` }), "service_completed_successfully", { ...dep, timeoutMs: 100 }), /timed out/);
});
