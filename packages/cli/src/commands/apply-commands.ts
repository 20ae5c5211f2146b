/**
 * `zgrid apply -f spec.yaml` (plan, then converge) and `zgrid delete -f spec.yaml`.
 */
import type { Command } from "commander";
import type { Plan } from "@zgrid/client";
import { knownFlists, sdk, withGrid, type Ctx } from "../context.ts";
import { withInterrupt } from "../interrupt.ts";
import { table } from "../output.ts";

export function registerApplyCommands(program: Command, ctx: Ctx): void {
  program.command("apply").description("converge the grid to a spec file (networks, VMs, gateways): shows the plan, then creates, replaces, deletes")
    .requiredOption("-f, --file <spec.yaml>", "spec file")
    .option("--dry-run", "show the plan only")
    .action(async (o: { file: string; dryRun?: boolean }) => {
      const { opts, io } = ctx();
      const { applyPlan, loadSpec, planSpec } = await sdk();
      const spec = loadSpec(o.file, { flists: await knownFlists(opts) });
      await withGrid(opts, async (grid) => {
        const plan = await planSpec(grid, spec);
        if (!opts.json) process.stderr.write(`plan for project '${spec.project}':\n${showPlan(plan)}\n`);
        if (o.dryRun) return io.result({ project: spec.project, plan }, () => "(dry run: nothing changed)");
        const made = await withInterrupt(io, (signal) => applyPlan(grid, spec, plan, { onProgress: io.progress, signal }));
        const vms = (await grid.vms.list()).filter((v) => v.project === spec.project);
        const gateways = (await grid.gateways.list()).filter((g) => g.project === spec.project);
        io.result({ project: spec.project, plan, created: made.map((v) => v.name), vms, gateways }, () => `applied '${spec.project}'\n` + table(vms.map((v) => ({ ...v, node: v.nodeId })), ["name", "state", "node", "ip", "publicIp", "network"]) +
          (gateways.length ? `\n${table(gateways.map((g) => ({ ...g, node: g.nodeId })), ["name", "kind", "fqdn", "vm", "node"])}` : ""));
      });
    });
  program.command("delete").description("remove everything a spec file made").requiredOption("-f, --file <spec.yaml>", "spec file")
    .action(async (o: { file: string }) => {
      const { opts, io } = ctx();
      const { deleteSpec, loadSpec } = await sdk();
      const spec = loadSpec(o.file, { flists: await knownFlists(opts) });
      await withGrid(opts, async (grid) => {
        const plan = await deleteSpec(grid, spec, { onProgress: io.progress });
        io.result({ project: spec.project, plan }, () => `deleted '${spec.project}'\n${showPlan(plan)}`);
      });
    });
}

function showPlan(plan: Plan): string {
  if (plan.length === 0) return "  (nothing)";
  const sign = { create: "+", replace: "~", delete: "-", keep: "=" } as const;
  return plan.map((s) => `  ${sign[s.action]} ${s.action} ${s.kind} ${s.name}${s.nodeId ? ` on node ${s.nodeId}` : ""}${s.reason ? ` (${s.reason})` : ""}`).join("\n");
}
