/**
 * `zgrid apply -f spec.yaml|docker-compose.yml` (plan, then converge) and `zgrid delete -f …`.
 * A compose file's images that are not flists yet are converted by the hub (cached by digest);
 * what zgrid does not honour of it is printed as warnings before the plan.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { Plan, Spec } from "@zgrid/client";
import { hubAccess, knownFlists, sdk, withGrid, type Ctx, type GlobalOptions } from "../context.ts";
import { withInterrupt } from "../interrupt.ts";
import type { Output } from "../output.ts";
import { table } from "../output.ts";
import { botDbOf, isBotServicesFile, storeBotSpec } from "./bot-apply.ts";
import { readBotMetricsUrl } from "./bot-metrics-file.ts";
import { applySpecClusters, checkSpecClusters, clusterExtension, deleteSpecClusters, planSpecClusters, showClusterPlan } from "./apply-clusters.ts";

export function registerApplyCommands(program: Command, ctx: Ctx): void {
  program.command("apply").description("converge the grid to a spec or docker-compose file (networks, VMs, gateways): shows the plan, then creates, updates in place, replaces, deletes")
    .requiredOption("-f, --file <spec.yaml|docker-compose.yml>", "zgrid spec or Docker Compose file")
    .option("--dry-run", "show the plan only")
    .option("--allow-data-loss", "go ahead when the plan destroys disks (a VM replaced or removed, a disk dropped)")
    .option("-p, --project <name>", "compose: project name (default: name: in the file, else its directory)")
    .action(async (o: { file: string; dryRun?: boolean; allowDataLoss?: boolean; project?: string }) => {
      const { opts, io } = ctx();
      if (await handToBot(opts, io, o.file, { dryRun: o.dryRun === true, allowDataLoss: o.allowDataLoss === true })) return;
      const { applyPlan, planSpec } = await sdk();
      const { spec, warnings } = await readSpec(opts, io, o.file, o.project, true);
      await withGrid(opts, async (grid) => {
        const plan = await planSpec(grid, spec);
        const clusterPlan = await planSpecClusters(grid, spec);
        if (!opts.json) process.stderr.write(`plan for project '${spec.project}':\n${showPlan(plan)}\n${clusterPlan?.length ? `${showClusterPlan(clusterPlan)}\n` : ""}`);
        if (o.dryRun) return io.result({ project: spec.project, plan, ...(clusterPlan ? { clusterPlan } : {}), warnings }, () => "(dry run: nothing changed)");
        // both plans are checked for data loss before either is applied
        await checkSpecClusters(clusterPlan, o.allowDataLoss === true);
        const made = await withInterrupt(io, (signal) => applyPlan(grid, spec, plan, { onProgress: io.progress, signal, ...(o.allowDataLoss ? { allowDataLoss: true } : {}) }));
        const clusters = clusterPlan ? await withInterrupt(io, (signal) => applySpecClusters(opts, grid, spec, clusterPlan, { progress: io.progress, signal, ...(o.allowDataLoss ? { allowDataLoss: true } : {}) })) : [];
        const vms = (await grid.vms.list()).filter((v) => v.project === spec.project);
        const gateways = (await grid.gateways.list()).filter((g) => g.project === spec.project);
        io.result({ project: spec.project, plan, ...(clusterPlan ? { clusterPlan, clusters } : {}), warnings, created: made.map((v) => v.name), vms, gateways }, () => `applied '${spec.project}'\n` + table(vms.map((v) => ({ ...v, node: v.nodeId })), ["name", "state", "node", "ip", "publicIp", "network"]) +
          (gateways.length ? `\n${table(gateways.map((g) => ({ ...g, node: g.nodeId })), ["name", "kind", "fqdn", "vm", "node"])}` : "") +
          (clusters.length ? `\nclusters changed: ${clusters.join(", ")} (\`zgrid k8s get NAME\`)` : ""));
      });
    });
  program.command("delete").description("remove everything a spec or compose file made (its project)").requiredOption("-f, --file <spec.yaml|docker-compose.yml>", "spec file")
    .option("-p, --project <name>", "compose: project name")
    .action(async (o: { file: string; project?: string }) => {
      const { opts, io } = ctx();
      if (await handToBot(opts, io, o.file, { remove: true })) return;
      const { deleteSpec } = await sdk();
      const { spec } = await readSpec(opts, io, o.file, o.project, false);
      await withGrid(opts, async (grid) => {
        const clusters = await deleteSpecClusters(grid, spec.project, io.progress);
        const plan = await deleteSpec(grid, spec, { onProgress: io.progress });
        io.result({ project: spec.project, plan, clusters }, () => `deleted '${spec.project}'\n${showPlan(plan)}${clusters.length ? `\n  - clusters ${clusters.join(", ")}` : ""}`);
      });
    });
}

/**
 * A 3bot services file (`services:` is a list) goes to the twin's 3bot instead of being applied
 * here: stored as its desired state (or, for `delete`, removed from it), which a running bot takes
 * within a second. Refused with what to do when no 3bot runs for this data dir. False: not such a file.
 */
async function handToBot(opts: GlobalOptions, io: Output, file: string, o: { dryRun?: boolean; remove?: boolean; allowDataLoss?: boolean }): Promise<boolean> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false; // readSpec says what is wrong with the path
  }
  if (!(await isBotServicesFile(text))) return false;
  const { BotInputError, openBotStore } = await import("@zgrid/bot");
  const running = readBotMetricsUrl(opts.dataDir);
  if (!running && !o.dryRun) {
    throw new BotInputError(`${file} is a 3bot services file (services: [...]) and no 3bot runs for ${opts.dataDir}`, {
      hint: "start one with `zgrid bot run` (or `zgrid up --bot`), or store the file for its next start with `zgrid bot apply -f`",
    });
  }
  const r = await storeBotSpec(opts, file, text, { dryRun: o.remove === true || o.dryRun === true, ...(o.allowDataLoss ? { allowDataLoss: true } : {}) });
  if (o.dryRun) {
    io.result({ bot: running ?? null, services: r.services, dryRun: true }, () => `(dry run) ${file} is valid: ${r.services.join(", ")} would go to the 3bot`);
    return true;
  }
  if (o.remove) {
    const store = openBotStore(botDbOf(opts));
    try {
      const known = new Set(store.services().map((s) => s.name));
      const removed = r.services.filter((n) => known.has(n));
      for (const n of removed) store.removeService(n);
      store.requestApply();
      io.result({ bot: running, removed }, () => `handed to the 3bot (pid ${running!.pid}): it stops keeping ${removed.join(", ") || "nothing"} and cancels their contracts`);
    } finally {
      store.close();
    }
    return true;
  }
  io.result({ bot: running, services: r.services }, () => `handed to the 3bot (pid ${running!.pid}): desired state ${r.services.join(", ")}; \`zgrid bot status\` shows it converge`);
  return true;
}

/** A zgrid spec, or a compose file as one (images resolved only when `images`: delete needs the project alone). */
async function readSpec(opts: GlobalOptions, io: Output, file: string, project: string | undefined, images: boolean): Promise<{ spec: Spec; warnings: string[] }> {
  const { isComposeFile, loadCompose, loadSpec, SpecError } = await sdk();
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError(file, undefined, "", `cannot read: ${(e as Error).message}`, { hint: "check the path given to -f" });
  }
  const flists = await knownFlists(opts);
  if (!isComposeFile(file, text)) {
    const extensions = await clusterExtension(text);
    return { spec: loadSpec(file, { flists, ...(extensions ? { extensions } : {}) }), warnings: [] };
  }
  const resolveImage = images
    ? async (image: string) => {
      const { convertOnHub } = await import("@zgrid/flist");
      const { hubUrl, key } = await hubAccess(opts);
      io.progress(`image ${image}: converting on the hub ${hubUrl} (cached by digest)`);
      const entry = await convertOnHub({ hub: hubUrl, image, key, onProgress: (e) => { if (e.phase === "layer") io.progress(`image ${image}: layer ${String(e.index)}/${String(e.of)}`); } });
      io.progress(`image ${image}: ${entry.cached ? "already converted" : "converted"} (${entry.digest ?? ""}) → ${entry.url}`);
      return entry.url;
    }
    : async () => "http://unresolved.invalid/x.fl";
  const c = await loadCompose(file, { flists, resolveImage, ...(project ? { project } : {}) });
  if (!opts.json) for (const w of c.warnings) process.stderr.write(`warning: ${w}\n`);
  return { spec: c.spec, warnings: c.warnings };
}

function showPlan(plan: Plan): string {
  if (plan.length === 0) return "  (nothing)";
  const sign = { create: "+", update: "~", replace: "!", delete: "-", keep: "=" } as const;
  return plan.map((s) => `  ${sign[s.action]} ${s.action} ${s.kind} ${s.name}${s.nodeId ? ` on node ${s.nodeId}` : ""}${s.reason ? ` (${s.reason})` : ""}` +
    (s.dataLoss?.length ? `\n      DATA LOSS: disk(s) ${s.dataLoss.join(", ")} destroyed` : "")).join("\n");
}
