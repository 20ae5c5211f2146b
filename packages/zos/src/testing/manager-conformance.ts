/**
 * The conformance suite every workload manager passes (not public API): provision twice gives the
 * same result and leaves one instance (idempotent, as after a restart); deprovision of a
 * half-provisioned workload (a crash mid-provision) removes everything; deprovision twice is
 * fine; adopt after deprovision says gone (false) and a live one says true.
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
  /** Creates part of what provision creates, as a crash in the middle of it would leave. */
  halfProvision(): Promise<void>;
  /** What of the workload exists on the host right now (empty when nothing). */
  footprint(): Promise<string[]> | string[];
}

export function managerConformance<W extends Workload>(name: string, make: () => Promise<ConformanceCase<W>> | ConformanceCase<W>): void {
  test(`${name} manager conformance: provision is idempotent, adopt tells live from gone`, async () => {
    const c = await make();
    try {
      const first = await c.manager.provision(c.context, c.workload);
      const shape = await c.footprint();
      assert.ok(shape.length > 0, "provision created something");
      const second = await c.manager.provision(c.context, c.workload);
      assert.deepEqual(second, first, "same result when provisioned again");
      assert.deepEqual(await c.footprint(), shape, "nothing created twice");
      if (c.manager.adopt) assert.equal(await c.manager.adopt(c.context, c.workload), true, "adopt of a live workload");
      await c.manager.deprovision(c.context, c.workload);
      assert.deepEqual(await c.footprint(), [], "deprovision removed everything");
      if (c.manager.adopt) assert.equal(await c.manager.adopt(c.context, c.workload), false, "adopt after deprovision says gone");
      await c.manager.deprovision(c.context, c.workload); // twice is fine
    } finally {
      await c.manager.deprovision(c.context, c.workload).catch(() => undefined);
    }
  });

  test(`${name} manager conformance: deprovision of a half-provisioned workload removes everything`, async () => {
    const c = await make();
    try {
      await c.halfProvision();
      assert.ok((await c.footprint()).length > 0, "the half-provisioned part exists");
      // adopt either says gone, or repairs the workload in place (issue 13: repair before re-install),
      // and then it must really be live
      const adopted = c.manager.adopt ? await c.manager.adopt(c.context, c.workload).catch(() => false) : false;
      if (adopted) {
        assert.ok(c.manager.alive, "a manager that adopts a half-provisioned workload by repairing it can tell it is alive");
        assert.equal(await c.manager.alive(c.context, c.workload), true, "an adopted half-provisioned workload was repaired to live");
      }
      await c.manager.deprovision(c.context, c.workload);
      assert.deepEqual(await c.footprint(), [], "nothing left");
    } finally {
      await c.manager.deprovision(c.context, c.workload).catch(() => undefined);
    }
  });
}
