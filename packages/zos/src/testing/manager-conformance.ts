/**
 * The conformance suite every workload manager passes (not public API): provision twice gives the
 * same result and leaves one instance (idempotent, as after a restart); deprovision of a
 * half-provisioned workload (a crash mid-provision) removes everything; deprovision twice is
 * fine; adopt after deprovision says gone (false) and a live one says true. Optional parts:
 * `update` (an update applies in place, one instance), `refused` (a workload the manager must
 * refuse: a clear error, nothing left), `restarted` (a second manager instance, as after a daemon
 * restart: it adopts or re-provisions what the first made, without a second copy, and removes it).
 * A manager whose workload lives only inside the daemon (nothing outlives a crash) gives no
 * `halfProvision`: a restarted instance then brings it back from nothing.
 *
 * @example
 * ```ts
 * managerConformance("zmount", { manager: diskManager(paths), workload: w, context: ctx,
 *   halfProvision: () => writeFile(paths.disk(ctx.workloadId), ""), footprint: () => [paths.disk(ctx.workloadId)].filter(existsSync) });
 * ```
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Workload } from "@zgrid/types";
import type { WorkloadContext, WorkloadManager } from "../engine/workload-manager.ts";

export interface ConformanceCase<W extends Workload> {
  manager: WorkloadManager<W>;
  workload: W;
  context: WorkloadContext;
  /**
   * Creates part of what provision creates, as a crash in the middle of it would leave; returns the
   * manager of the restarted daemon when the manager keeps state of its own (else `manager` goes on).
   * None: the workload lives in the daemon process only, so a crash leaves nothing of it.
   */
  halfProvision?(): Promise<void | WorkloadManager<W>>;
  /** What of the workload exists on the host right now (empty when nothing). */
  footprint(): Promise<string[]> | string[];
  /**
   * The workload lives in the daemon process only (zlogs' stream): nothing on the host tells a
   * deprovisioned workload from one whose daemon restarted, so adopt (re)starts it either way; the
   * engine only adopts workloads its store holds as live.
   */
  inProcess?: boolean;
  /**
   * The workload is a reservation with nothing of its own on the host (ip): provision leaves the
   * footprint empty, and adopt says whether the reservation still holds (not whether something runs).
   */
  hostless?: boolean;
  /** A changed workload: `update` (when the manager has it) applies in place; `check` looks at its result. */
  update?: { workload: W; check(result: unknown): void | Promise<void> };
  /** A workload the manager must refuse: provision throws an error matching `error`, and nothing of it is left. */
  refused?: { workload: W; error: RegExp };
  /** A fresh manager over the same host state, as after a daemon restart (what lived in memory is gone). */
  restarted?(): WorkloadManager<W>;
  /** Ends what lived only inside the old daemon process (its streams, its timers), as its death would. */
  crash?(): Promise<void>;
  /** Runs after each test, also when it failed. */
  cleanup?(): Promise<void>;
}

export function managerConformance<W extends Workload>(name: string, make: () => Promise<ConformanceCase<W>> | ConformanceCase<W>): void {
  test(`${name} manager conformance: provision is idempotent, adopt tells live from gone`, async () => {
    const c = await make();
    try {
      const first = await c.manager.provision(c.context, c.workload);
      const shape = await c.footprint();
      if (!c.hostless) assert.ok(shape.length > 0, "provision created something");
      const second = await c.manager.provision(c.context, c.workload);
      assert.deepEqual(second, first, "same result when provisioned again");
      assert.deepEqual(await c.footprint(), shape, "nothing created twice");
      if (c.manager.adopt) assert.equal(await c.manager.adopt(c.context, c.workload), true, "adopt of a live workload");
      await c.manager.deprovision(c.context, c.workload);
      assert.deepEqual(await c.footprint(), [], "deprovision removed everything");
      if (c.manager.adopt && !c.inProcess && !c.hostless) assert.equal(await c.manager.adopt(c.context, c.workload), false, "adopt after deprovision says gone");
      await c.manager.deprovision(c.context, c.workload); // twice is fine
    } finally {
      await c.manager.deprovision(c.context, c.workload).catch(() => undefined);
      await c.cleanup?.();
    }
  });

  test(`${name} manager conformance: updates in place, a refusal leaves nothing, a restarted manager takes over`, async (t) => {
    const c = await make();
    if (!c.update && !c.refused && !c.restarted) {
      t.skip("no update, refusal or restart case for this manager");
      return;
    }
    let restarted: WorkloadManager<W> | undefined;
    try {
      if (c.refused) {
        await assert.rejects(c.manager.provision(c.context, c.refused.workload), c.refused.error, "a refused workload fails with a clear error");
        assert.deepEqual(await c.footprint(), [], "nothing left of a refused workload");
        await c.manager.deprovision(c.context, c.refused.workload);
      }
      const first = await c.manager.provision(c.context, c.workload);
      const shape = await c.footprint();
      if (c.update) {
        const updated = c.manager.update ? await c.manager.update(c.context, c.update.workload, c.workload) : await c.manager.provision(c.context, c.update.workload);
        await c.update.check(updated);
        assert.equal((await c.footprint()).length, shape.length, "updated in place: still one instance");
        // and back, so the rest runs on the original workload
        assert.deepEqual(c.manager.update ? await c.manager.update(c.context, c.workload, c.update.workload) : await c.manager.provision(c.context, c.workload), first);
      }
      if (c.restarted) {
        await c.crash?.();
        restarted = c.restarted(); // after the crash: it finds what the first one left
        if (restarted.adopt) assert.equal(await restarted.adopt(c.context, c.workload), true, "a restarted manager adopts the live workload");
        assert.deepEqual(await restarted.provision(c.context, c.workload), first, "a restarted manager provisions to the same result");
        assert.deepEqual(await c.footprint(), shape, "nothing created twice after a restart");
        await restarted.deprovision(c.context, c.workload);
        assert.deepEqual(await c.footprint(), [], "a restarted manager removes everything the first one made");
      }
    } finally {
      await restarted?.deprovision(c.context, c.workload).catch(() => undefined);
      await c.manager.deprovision(c.context, c.workload).catch(() => undefined);
      await c.cleanup?.();
    }
  });

  test(`${name} manager conformance: deprovision of a half-provisioned workload removes everything`, async () => {
    const c = await make();
    if (!c.halfProvision) {
      // nothing outlives the daemon: a restarted manager brings the workload back from nothing
      const restarted = c.restarted?.() ?? c.manager;
      try {
        assert.deepEqual(await c.footprint(), []);
        if (restarted.adopt) assert.equal(await restarted.adopt(c.context, c.workload), true, "adopt after a restart brings it back");
        else await restarted.provision(c.context, c.workload);
        if (!c.hostless) assert.ok((await c.footprint()).length > 0, "running again after the restart");
        await restarted.deprovision(c.context, c.workload);
        assert.deepEqual(await c.footprint(), [], "nothing left");
      } finally {
        await restarted.deprovision(c.context, c.workload).catch(() => undefined);
        await c.cleanup?.();
      }
      return;
    }
    let m = c.manager;
    try {
      m = (await c.halfProvision()) ?? c.manager;
      assert.ok((await c.footprint()).length > 0, "the half-provisioned part exists");
      // adopt either says gone, or repairs the workload in place (issue 13: repair before re-install),
      // and then it must really be live
      const adopted = m.adopt ? await m.adopt(c.context, c.workload).catch(() => false) : false;
      if (adopted && !c.hostless) {
        assert.ok(m.alive, "a manager that adopts a half-provisioned workload by repairing it can tell it is alive");
        assert.equal(await m.alive(c.context, c.workload), true, "an adopted half-provisioned workload was repaired to live");
      }
      await m.deprovision(c.context, c.workload);
      assert.deepEqual(await c.footprint(), [], "nothing left");
    } finally {
      await m.deprovision(c.context, c.workload).catch(() => undefined);
      await c.cleanup?.();
    }
  });
}
