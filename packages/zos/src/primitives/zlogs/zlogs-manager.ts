/**
 * zlogs: streams the console of a zmachine of the same deployment to a ws(s):// or redis:// output
 * (ConsoleStreamer). The stream lives in the daemon process; after a restart `adopt` starts it again.
 *
 * @example
 * ```ts
 * managers.zlogs = zlogsManager({ consoleOf: (ctx, vm) => hypervisorConsolePath });
 * ```
 */
import type { WorkloadOf } from "@zgrid/types";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { EgressPolicy } from "../../egress/egress-policy.ts";
import { ConsoleStreamer } from "./console-streamer.ts";

export interface ZlogsDeps {
  /** The console log path of zmachine `name` of the deployment, if it runs on this node. */
  consoleOf(ctx: WorkloadContext, name: string): Promise<string | undefined>;
  /** Checks every output before each connection (refused: loopback, own addresses, …). */
  policy: EgressPolicy;
}

export function zlogsManager(deps: ZlogsDeps): WorkloadManager<WorkloadOf<"zlogs">> {
  const streams = new Map<string, ConsoleStreamer>();
  const start = async (ctx: WorkloadContext, w: WorkloadOf<"zlogs">) => {
    if (!ctx.deployment.workloads.some((x) => x.type === "zmachine" && x.name === w.data.zmachine)) {
      throw new Error(`zmachine '${w.data.zmachine}' is not part of this deployment`);
    }
    const path = await deps.consoleOf(ctx, w.data.zmachine);
    if (!path) throw new Error(`zmachine '${w.data.zmachine}' is not running on this node`);
    await deps.policy.resolve(w.data.output); // refused outputs fail the workload, saying why
    await streams.get(ctx.workloadId)?.stop();
    const s = new ConsoleStreamer(path, w.data.output, { policy: deps.policy });
    s.start();
    streams.set(ctx.workloadId, s);
    ctx.log.info({ zmachine: w.data.zmachine, output: new URL(w.data.output).origin }, "zlogs streaming");
    return { zmachine: w.data.zmachine, output: w.data.output };
  };
  return {
    provision: start,
    async deprovision(ctx) {
      await streams.get(ctx.workloadId)?.stop();
      streams.delete(ctx.workloadId);
    },
    async adopt(ctx, w) {
      return start(ctx, w).then(() => true, () => false);
    },
  };
}
