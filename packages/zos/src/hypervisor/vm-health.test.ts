// Real QEMU VMs (TCG, busybox roots) under the VM monitor (issue 15): the image's HEALTHCHECK is
// run in the guest through the guest agent (starting -> healthy -> unhealthy, as Docker counts),
// and restart policies `always` vs `unless-stopped` across a daemon restart (a new monitor): a VM
// its owner stopped is started again under `always` and stays stopped under `unless-stopped`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { Hypervisor } from "./hypervisor.ts";
import { VmMonitor } from "./vm-monitor.ts";
import type { HealthStatus } from "./vm-health.ts";
import { buildBusyboxRoot } from "./test-fixtures.ts";
import type { VmSpecInput } from "./vm-spec.ts";

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, seen: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; saw ${await seen()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("health checks and always vs unless-stopped (real QEMU, TCG)", { timeout: 170_000 }, () => {
  let work: string;
  let hv: Hypervisor;
  let base: VmSpecInput;

  before(async () => {
    work = await mkdtemp("/tmp/zgh-");
    const root = join(work, "root");
    // ready after ~2 s: the health check passes from then on, until /tmp/ok is removed
    await buildBusyboxRoot(root, "#!/bin/sh\necho APP-UP\nsleep 2\ntouch /tmp/ok\nwhile true; do sleep 1; done\n");
    hv = new Hypervisor({ stateDir: join(work, "s"), accel: "tcg" });
    base = { id: "x", cpu: 1, memoryMiB: 128, rootShare: root, hostname: "gh", env: {}, entrypoint: ["/bin/sh", "/start.sh"] };
  });

  after(async () => {
    for (const vm of await hv.list()) await hv.delete(vm).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the health check runs in the guest: starting, healthy, then unhealthy after `retries` failures", async () => {
    const id = "gh-web";
    await hv.start({ ...base, id, healthcheck: { test: ["/bin/sh", "-c", "test -f /tmp/ok && echo fine || { echo not ready; exit 1; }"], intervalSec: 1, timeoutSec: 5, retries: 2, startPeriodSec: 30 } });
    const monitor = new VmMonitor({ hypervisor: hv, intervalMs: 250 });
    // what the daemon writes into the workload's result (ZmachineResult.health)
    const events: Array<{ status: HealthStatus; streak: number }> = [];
    monitor.on("health", (e) => { if (e.id === id) events.push({ status: e.health.status, streak: e.health.failingStreak }); });
    const health = async (): Promise<HealthStatus | undefined> => (await hv.status(id)).health?.status;
    const seen = async () => JSON.stringify((await hv.status(id)).health);
    try {
      assert.equal(await health(), "starting");
      monitor.start();
      await waitFor("healthy", async () => ((await health()) === "healthy" ? true : undefined), 90_000, seen);
      assert.match((await hv.status(id)).health!.lastOutput, /fine/);
      await hv.exec(id, { argv: ["rm", "/tmp/ok"], timeoutMs: 10_000 });
      await waitFor("unhealthy", async () => ((await health()) === "unhealthy" ? true : undefined), 30_000, seen);
      const h = (await hv.status(id)).health!;
      assert.ok(h.failingStreak >= 2, JSON.stringify(h));
      assert.match(h.lastOutput, /not ready/);
      assert.equal(h.lastExitCode, 1);
      const statuses = events.map((e) => e.status).filter((v, i, a) => i === 0 || a[i - 1] !== v);
      assert.deepEqual(statuses, ["starting", "healthy", "unhealthy"], JSON.stringify(events));
      assert.ok(events.at(-1)!.streak >= 2, JSON.stringify(events));
      assert.ok(events.length <= 2 + 2 + 2, `reported on changes only: ${JSON.stringify(events)}`);
    } finally {
      await monitor.stop();
      await hv.delete(id);
    }
  });

  test("owner-stopped VMs across a daemon restart: `always` starts again, `unless-stopped` stays stopped", async () => {
    await Promise.all([
      hv.start({ ...base, id: "gh-always", restart: { policy: "always" } }),
      hv.start({ ...base, id: "gh-unless", restart: { policy: "unless-stopped" } }),
    ]);
    await Promise.all(["gh-always", "gh-unless"].map((id) => hv.waitForConsole(id, /APP-UP/, 90_000)));
    // the owner stops both (vm stop holds them); the daemon (its monitor) then starts anew
    for (const id of ["gh-always", "gh-unless"]) await hv.stop(id, { hold: true, graceMs: 3_000 });
    const running = new VmMonitor({ hypervisor: hv, intervalMs: 250 });
    running.start();
    await running.started();
    await running.check();
    await running.stop();
    const always = await hv.status("gh-always");
    const unless = await hv.status("gh-unless");
    assert.equal(always.state, "running");
    assert.equal(always.held, undefined);
    assert.equal(unless.state, "stopped");
    assert.equal(unless.held, true);
    assert.equal(unless.desired, "stopped");
    // and the `always` VM really boots its app again
    await hv.waitForConsole("gh-always", /APP-UP/, 90_000);
    for (const id of ["gh-always", "gh-unless"]) await hv.delete(id);
  });
});
