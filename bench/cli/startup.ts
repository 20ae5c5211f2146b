// bench/cli/startup: how long the `zgrid` command takes to start, against `node -e 0` measured in
// the same run (median of N runs each). `vm ls` runs against --data-dir: a running local grid when
// given one (`zgrid up` first), else a data dir without a grid, which still loads and starts the SDK
// up to the connection (module loading is most of the cost).
//   node bench/cli/startup.ts [--runs 7] [--data-dir ~/.zgrid/local]
// Goals (issue 14): --help <= 0.25 s, vm ls <= 0.5 s. Each zgrid command runs twice: with the
// stripped-source cache (packages/cli/src/strip-cache.ts, warmed by a first run) and without it
// (ZGRID_STRIP_CACHE=0: Node strips every file each time).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, "data-dir": { type: "string" } } });
const runs = Number(values.runs);
const bin = join(import.meta.dirname, "../../packages/cli/bin/zgrid.ts");
const scratch = mkdtempSync(join(tmpdir(), "zgrid-bench-startup-"));
const dataDir = values["data-dir"] ?? scratch;

// CPU seconds (user + sys, from GNU time) next to wall time: on a shared machine the wall time
// mostly measures the other processes, the CPU time what the command itself costs.
const gnuTime = spawnSync("/usr/bin/time", ["-f", "%U %S", "true"]).status === 0;
const cpuOf: number[] = [];
const cacheEnv = { ...process.env, ZGRID_CACHE_DIR: join(scratch, "cache") };
const noCacheEnv = { ...process.env, ZGRID_STRIP_CACHE: "0" };
function median(args: string[], okCodes: number[], env: NodeJS.ProcessEnv = cacheEnv): number {
  spawnSync(process.execPath, args, { env }); // warms the cache (and the page cache)
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = gnuTime
      ? spawnSync("/usr/bin/time", ["-f", "CPU %U %S", process.execPath, ...args], { encoding: "utf8", env })
      : spawnSync(process.execPath, args, { encoding: "utf8", env });
    times.push((performance.now() - t) / 1000);
    const cpu = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    if (cpu) cpus.push(Number(cpu[1]) + Number(cpu[2]));
    if (!okCodes.includes(r.status ?? -1)) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  cpuOf.push(mid(cpus));
  return mid(times);
}

try {
  const base = median(["-e", "0"], [0]);
  const tiny = join(scratch, "tiny.ts");
  (await import("node:fs")).writeFileSync(tiny, "const a: number = 1; void a;\n");
  const strip = median([tiny], [0]);
  const help = median([bin, "--help"], [0]);
  const helpNoCache = median([bin, "--help"], [0], noCacheEnv);
  // 7 = no local grid in that data dir (the SDK was still loaded to find out)
  const lsArgs = [bin, "--data-dir", dataDir, "--json", "vm", "ls"];
  const lsCodes = values["data-dir"] ? [0] : [0, 7];
  const ls = median(lsArgs, lsCodes);
  const lsNoCache = median(lsArgs, lsCodes, noCacheEnv);
  const [cBase, cStrip, cHelp, cHelpNoCache, cLs, cLsNoCache] = cpuOf as [number, number, number, number, number, number];
  const row = (name: string, s: number, cpu: number, goal?: number) =>
    process.stdout.write(`${name.padEnd(40)} ${s.toFixed(3)} s  ${(s / base).toFixed(1)}x node -e 0` +
      `${gnuTime ? ` | CPU ${cpu.toFixed(2)} s ${(cpu / Math.max(cBase, 0.01)).toFixed(1)}x` : ""}${goal ? `  (goal <= ${goal} s: ${s <= goal ? "met" : "not met"})` : ""}\n`);
  row("node -e 0 (baseline)", base, cBase);
  row("node tiny.ts (type stripping)", strip, cStrip);
  row("zgrid --help", help, cHelp, 0.25);
  row("zgrid --help (no strip cache)", helpNoCache, cHelpNoCache);
  const lsName = `zgrid vm ls${values["data-dir"] ? "" : " (no grid running)"}`;
  row(lsName, ls, cLs, 0.5);
  row(`${lsName.replace("zgrid ", "")} (no strip cache)`, lsNoCache, cLsNoCache);
  process.stdout.write(`median of ${runs} runs each; load avg ${loadavg()[0]!.toFixed(2)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
