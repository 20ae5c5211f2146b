// bench/bot: the 3bot healing a service on a local grid of 3 node hosts with real (TCG) VMs. Runs
// the e2e scenario (packages/cli/src/bot.e2e.test.ts: 2 replicas behind a name gateway, a client
// polling it every 100 ms, node A cut off — link down, every process in its host frozen) and prints:
//   - detection time (node silent → the bot declares it dead; window 10 s in the scenario)
//   - heal time (node silent → 2 healthy replicas again, gateway re-pointed)
//   - requests failed at the gateway during the heal and during a rolling update
// Baseline: Kubernetes' default eviction of pods from a dead node (node-monitor-grace-period 40 s +
// pod-eviction-timeout 5 min = ~5 min 40 s, documented defaults — no cluster is measured here), and
// the reference system, which never moves a VM off a dead node.
//   flock /tmp/zgrid-vm.lock node bench/bot/run.ts
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const K8S_EVICTION_S = 340;
const test = join(import.meta.dirname, "../../packages/cli/src/bot.e2e.test.ts");
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", test], { encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, ZGRID_E2E_BOT: "1" } });
const out = `${r.stdout}\n${r.stderr}`;
// the whole scenario output (the failing step's diagnostics, the bot's view) next to the logs
if (process.env.ZGRID_BOT_E2E_LOGS) {
  mkdirSync(process.env.ZGRID_BOT_E2E_LOGS, { recursive: true });
  writeFileSync(join(process.env.ZGRID_BOT_E2E_LOGS, "scenario.txt"), out);
}
// which steps of the scenario passed (and why one failed), always
for (const l of out.split("\n")) if (/^\s*[✔✖] /.test(l) || (r.status !== 0 && /^\s+(error|Error|AssertionError|timed out)/.test(l))) console.log(l.slice(0, 2000));
const line = out.split("\n").find((l) => l.includes("BOT-FIGURES "));
if (!line) {
  process.stderr.write(r.stdout + r.stderr);
  throw new Error("the scenario printed no figures");
}
const f = JSON.parse(line.slice(line.indexOf("BOT-FIGURES ") + 12)) as Record<string, number>;
const row = (k: string, v: number | undefined, unit: string, extra = "") => console.log(`${k.padEnd(34)} ${v === undefined ? "n/a" : `${v}${unit}`}${extra}`);
console.log(`bench/bot (scenario ${r.status === 0 ? "passed" : "FAILED"})`);
row("detection time", f.detectionS, " s");
row("heal time (back to 2 healthy)", f.healS, " s", f.healS ? `   vs Kubernetes default eviction ${K8S_EVICTION_S} s: ${(K8S_EVICTION_S / f.healS).toFixed(1)}x faster; goal ≤ 60 s: ${f.healS <= 60 ? "met" : "NOT met"}` : "");
row("  of which: replacement running", f.replacementRunningS, " s", "   (node silent → the new replica's VM deployed and running)");
row("heal with the bot killed mid-heal", f.healAfterBotKillS, " s", "   (second node cut off, bot SIGKILLed once placing, restarted)");
row("heal of a disk-backed replica", f.healWithRestoreS, " s", "   (node silent → new replica healthy on its disk restored from the last backup, 5 min interval)");
row("heal of a replica with a public IP", f.healWithPublicIpS, " s", "   (node silent → new replica healthy with a public IP of its new node)");
row("failed requests during heal", f.failedDuringHeal, "", ` of ${f.requestsDuringHeal ?? "?"}`);
row("rolling update (2 replicas)", f.rollingUpdateS, " s");
row("failed requests during update", f.failedDuringUpdate, "", ` of ${f.requestsDuringUpdate ?? "?"} (goal 0)`);
process.exitCode = r.status ?? 1;
